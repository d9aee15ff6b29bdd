# JSON numbers arrive as xsd:integer or xsd:double; cast each to the datatype its property declares, so JSON and
# Turtle give the same literals. A value that cannot be cast stays as it is and the shapes report it.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX in:   <https://w3id.org/maas-kg/input#>
PREFIX rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

DELETE { ?s ?p ?v } INSERT { ?s ?p ?cast } WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/schema> { ?p a owl:DatatypeProperty ; rdfs:range xsd:decimal }
  ?s ?p ?v . FILTER(isLiteral(?v) && DATATYPE(?v) IN (xsd:integer, xsd:double, xsd:float))
  # from the lexical form where it is a plain decimal ("16.5314"): casting the double's value would give its binary
  # expansion (16.531400000000002048)
  BIND(COALESCE(xsd:decimal(STR(?v)), xsd:decimal(STR(xsd:decimal(?v)))) AS ?cast)
  FILTER(BOUND(?cast))
} ;
DELETE { ?s ?p ?v } INSERT { ?s ?p ?cast } WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/schema> { ?p a owl:DatatypeProperty ; rdfs:range xsd:integer }
  ?s ?p ?v . FILTER(isLiteral(?v) && DATATYPE(?v) IN (xsd:decimal, xsd:double, xsd:float))
  BIND(xsd:integer(?v) AS ?cast)
  FILTER(BOUND(?cast) && ?cast = ?v)
}
