# Type the untyped nodes of an input by the ranges and domains the ontology declares (RDFS rules rdfs3 and rdfs2,
# named classes only, read from the schema graph), so that plain JSON, which carries no types for nested objects,
# is typed like Turtle. Nodes that already have a type keep just that type; ontology terms are never retyped.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>

INSERT { ?o a ?class } WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/schema> { ?p a owl:ObjectProperty ; rdfs:range ?class }
  FILTER(isIRI(?class) && STRSTARTS(STR(?p), STR(maas:)))
  ?s ?p ?o .
  FILTER(isBlank(?o) || (isIRI(?o) && !STRSTARTS(STR(?o), "https://w3id.org/maas-kg/ns#")))
  FILTER NOT EXISTS { ?o a ?any }
} ;
INSERT { ?s a ?class } WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/schema> { ?p rdfs:domain ?class }
  FILTER(isIRI(?class) && STRSTARTS(STR(?p), STR(maas:)))
  ?s ?p ?o .
  FILTER NOT EXISTS { ?s a ?any }
}
