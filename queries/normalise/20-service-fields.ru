# Fields of the plain JSON service format whose meaning depends on the node being a service.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX in:   <https://w3id.org/maas-kg/input#>
PREFIX rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

DELETE { ?s in:envelope ?l . ?l rdf:first ?x ; rdf:rest ?l2 . ?l2 rdf:first ?y ; rdf:rest ?l3 . ?l3 rdf:first ?z ; rdf:rest ?end }
INSERT { ?s maas:envelopeX ?x ; maas:envelopeY ?y ; maas:envelopeZ ?z }
WHERE {
  ?s a maas:ManufacturingService ; in:envelope ?l .
  ?l rdf:first ?x ; rdf:rest ?l2 . ?l2 rdf:first ?y ; rdf:rest ?l3 . ?l3 rdf:first ?z ; rdf:rest ?end .
  FILTER(?end = rdf:nil)
} ;
DELETE { ?s in:batchSize ?l . ?l rdf:first ?min ; rdf:rest ?l2 . ?l2 rdf:first ?max ; rdf:rest ?end }
INSERT { ?s maas:minBatchSize ?min ; maas:maxBatchSize ?max }
WHERE {
  ?s a maas:ManufacturingService ; in:batchSize ?l .
  ?l rdf:first ?min ; rdf:rest ?l2 . ?l2 rdf:first ?max ; rdf:rest ?end .
  FILTER(?end = rdf:nil)
} ;
DELETE { ?s in:tolerance ?v } INSERT { ?s maas:achievableTolerance ?v } WHERE { ?s a maas:ManufacturingService ; in:tolerance ?v } ;
DELETE { ?s in:roughness ?v } INSERT { ?s maas:achievableRoughness ?v } WHERE { ?s a maas:ManufacturingService ; in:roughness ?v } ;
DELETE { ?s in:itGrade ?v } INSERT { ?s maas:achievableITGrade ?v } WHERE { ?s a maas:ManufacturingService ; in:itGrade ?v } ;
# cost_model.parameters {"removal_rate": 30} name time model parameters (ontology/cost-models.ttl) by their notation
DELETE { ?m in:costParameters ?p . ?p ?key ?value }
INSERT { ?m maas:hasCostParameter ?cp . ?cp a maas:CostParameter ; maas:costParameterName ?name ; maas:costParameterValue ?value }
WHERE {
  ?s a maas:ManufacturingService ; maas:hasCostModel ?m . ?m in:costParameters ?p . ?p ?key ?value .
  FILTER(STRSTARTS(STR(?key), "https://w3id.org/maas-kg/input/cost-parameter#"))
  BIND(STRAFTER(STR(?key), "https://w3id.org/maas-kg/input/cost-parameter#") AS ?name)
  BIND(BNODE() AS ?cp)
}
