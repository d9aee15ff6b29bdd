# Materialise the reflexive-transitive rdfs:subClassOf closure of the merged ontology (modules and taxonomy
# extensions): ?class maas:subClassOfOrSelf ?ancestor for every named class and each of its named superclasses,
# itself included, in <https://w3id.org/maas-kg/graph/derived/taxonomy>. Runs over the merged ontology (default
# graph) whenever the ontology or these rules change.
#
# The catalogue rules (matching, listing, facets, browse) walk the process, material, shape and certification
# taxonomies through this graph only: one triple lookup instead of a property path over the union of all graphs,
# so a subclass statement that got into a service graph (an administrator's update, a store written before
# publishing refused such statements) changes nothing that they find. A predicate of its own rather than
# rdfs:subClassOf keeps queries of the public endpoint, which read the union, from mistaking an ancestor for a
# direct parent.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

INSERT { GRAPH <https://w3id.org/maas-kg/graph/derived/taxonomy> { ?class maas:subClassOfOrSelf ?ancestor } }
WHERE {
  { SELECT DISTINCT ?class WHERE { { ?class a owl:Class } UNION { ?class rdfs:subClassOf ?superclass }
                                   UNION { ?subclass rdfs:subClassOf ?class } } }
  FILTER(isIRI(?class))
  ?class rdfs:subClassOf* ?ancestor .
  FILTER(isIRI(?ancestor))
}
