# Materialise the effective capability profile of every process class: each profile property takes the class's own
# values or, failing those, the values of its nearest ancestor that states the property. Runs over the merged
# ontology (default graph) whenever the ontology changes; translation rules then read plain triples from
# <https://w3id.org/maas-kg/graph/derived/profiles> instead of walking the hierarchy per request.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX proc: <https://w3id.org/maas-kg/process#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

INSERT { GRAPH <https://w3id.org/maas-kg/graph/derived/profiles> { ?class ?property ?value } }
WHERE {
  VALUES ?property { maas:profileRole maas:profileMaterial maas:profileSpecialMaterial maas:profileShape
                     maas:profileITGradeBest maas:profileITGradeTypical maas:profileITGradeRough
                     maas:profileRaBest maas:profileRaTypical maas:profileRaRough maas:profileBatchMin
                     maas:profileBatchMax maas:profileNeedsTooling maas:profileMaxPartMass maas:profileMaxPartSize
                     maas:profileMinFeatureSize maas:profileMaxThickness maas:profileFollows
                     maas:profileFootprintOnly }
  ?class rdfs:subClassOf* proc:ManufacturingProcess .
  ?class rdfs:subClassOf* ?holder .
  ?holder ?property ?value .
  FILTER NOT EXISTS { ?class rdfs:subClassOf* ?closer . ?closer rdfs:subClassOf+ ?holder ; ?property ?other . }
} ;
# a class states its own profile when an editor wrote any profile value on it: those are the route candidates
INSERT { GRAPH <https://w3id.org/maas-kg/graph/derived/profiles> { ?class maas:profiledClass true } }
WHERE {
  ?class rdfs:subClassOf* proc:ManufacturingProcess .
  FILTER EXISTS { ?class maas:profileITGradeTypical|maas:profileBatchMin|maas:profileMaterial|maas:profileShape|maas:profileRaTypical ?v }
}
