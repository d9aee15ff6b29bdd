# Give every catalogue record its owner (maas:ownedBy), as record-publication.ru writes for each publication since
# issue 15, item 7: stores from before it have records without one, and a withdrawn service's IRI could then be
# taken over. Run once per store by maas_kg.knowledge.graphs.sync_ontology; records that have an owner are left
# alone, so running it twice changes nothing.
# The owner is the provider the service's current graph names or, for a withdrawn service, the provider its archived
# last version (N-Triples text, see maas_kg.catalogue.publishing.withdraw) names.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>

INSERT { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:ownedBy ?owner } }
WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> {
    ?record foaf:primaryTopic ?service ; maas:serviceGraph ?graph .
    FILTER NOT EXISTS { ?record maas:ownedBy ?any }
  }
  GRAPH ?graph { ?service maas:providedBy ?owner }
} ;

INSERT { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:ownedBy ?owner } }
WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> {
    ?record foaf:primaryTopic ?service ; maas:serviceGraph ?graph ; maas:version ?version ; maas:status maas:Withdrawn .
    FILTER NOT EXISTS { ?record maas:ownedBy ?any }
  }
  BIND(IRI(CONCAT(STR(?graph), "/archive/v", STR(?version))) AS ?archive)
  GRAPH ?archive { ?archive maas:archivedDescription ?text }
  BIND(CONCAT("<", STR(?service), "> <https://w3id.org/maas-kg/ns#providedBy> <") AS ?statement)
  FILTER(CONTAINS(?text, ?statement))
  BIND(IRI(STRBEFORE(STRAFTER(?text, ?statement), ">")) AS ?owner)
}
