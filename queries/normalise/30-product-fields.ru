# Fields of the plain JSON product format whose meaning depends on the node being a product: the product's own, and
# the same fields of its components (05-components.ru types them maas:Component).
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX in:   <https://w3id.org/maas-kg/input#>
PREFIX rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

DELETE { ?s in:envelope ?l . ?l rdf:first ?x ; rdf:rest ?l2 . ?l2 rdf:first ?y ; rdf:rest ?l3 . ?l3 rdf:first ?z ; rdf:rest ?end }
INSERT { ?s maas:boundingBoxX ?x ; maas:boundingBoxY ?y ; maas:boundingBoxZ ?z }
WHERE {
  ?s a ?kind ; in:envelope ?l . VALUES ?kind { maas:Product maas:Component }
  ?l rdf:first ?x ; rdf:rest ?l2 . ?l2 rdf:first ?y ; rdf:rest ?l3 . ?l3 rdf:first ?z ; rdf:rest ?end .
  FILTER(?end = rdf:nil)
} ;
DELETE { ?s in:tolerance ?v } INSERT { ?s maas:requiredTolerance ?v } WHERE { VALUES ?kind { maas:Product maas:Component } ?s a ?kind ; in:tolerance ?v } ;
DELETE { ?s in:roughness ?v } INSERT { ?s maas:requiredRoughness ?v } WHERE { VALUES ?kind { maas:Product maas:Component } ?s a ?kind ; in:roughness ?v } ;
DELETE { ?s in:itGrade ?v } INSERT { ?s maas:requiredITGrade ?v } WHERE { VALUES ?kind { maas:Product maas:Component } ?s a ?kind ; in:itGrade ?v } ;
# weights {"price": 0.6} name criteria by their notation; an unknown name stays visible as an unknown criterion
DELETE { ?s in:weights ?w . ?w ?key ?value }
INSERT { ?s maas:hasCriterionWeight ?cw . ?cw a maas:CriterionWeight ; maas:criterion ?criterion ; maas:weight ?value }
WHERE {
  ?s a maas:Product ; in:weights ?w . ?w ?key ?value .
  BIND(STRAFTER(STR(?key), "https://w3id.org/maas-kg/input/criterion#") AS ?name)
  OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/schema> { ?known a maas:MatchCriterion ; skos:notation ?n } FILTER(STR(?n) = ?name) }
  BIND(COALESCE(?known, IRI(CONCAT("https://w3id.org/maas-kg/input/unknown-criterion#", ENCODE_FOR_URI(?name)))) AS ?criterion)
  BIND(BNODE() AS ?cw)
}
