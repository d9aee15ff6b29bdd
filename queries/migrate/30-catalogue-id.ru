# Give the catalogue its identity (maas:catalogueId, a UUID) where it has none: a match index saved from one store
# must not be followed on another (maas_kg.matching.index). Run once per store by
# maas_kg.knowledge.graphs.sync_ontology, before any service is published; a store with an identity keeps it, so
# running it twice changes nothing.
PREFIX maas: <https://w3id.org/maas-kg/ns#>

INSERT { GRAPH <https://w3id.org/maas-kg/graph/changes> { <https://w3id.org/maas-kg/catalogue> maas:catalogueId ?id } }
WHERE {
  FILTER NOT EXISTS { GRAPH <https://w3id.org/maas-kg/graph/changes> {
                        <https://w3id.org/maas-kg/catalogue> maas:catalogueId ?known } }
  BIND(STRUUID() AS ?id)
}
