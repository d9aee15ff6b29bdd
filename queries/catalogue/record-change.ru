# The catalogue's change record, which match indexes follow (maas_kg.matching.index): in the transaction that
# changes services, the change count goes up by one and the change set of the new count names the services
# changed, or says that the whole catalogue may have changed (an initial load). A follower that has seen count N
# reads the change sets N+1 .. M by their IRIs: lookups, never a scan of the catalogue. The catalogue's identity
# (maas:catalogueId), which tells a follower whose saved index came from another store, is minted once per store by
# queries/migrate/30-catalogue-id.ru (here, Virtuoso could not compile the subquery that mints it once).
# Placeholder: ROWS, a VALUES block binding (?service ?whole): a changed service, UNDEF for the whole catalogue;
# ?whole true, or UNDEF (maas_kg.catalogue.publishing writes it through maas_kg.knowledge.rules).
PREFIX maas: <https://w3id.org/maas-kg/ns#>

DELETE { GRAPH <https://w3id.org/maas-kg/graph/changes> { <https://w3id.org/maas-kg/catalogue> maas:changeCount ?count } }
INSERT { GRAPH <https://w3id.org/maas-kg/graph/changes> {
  <https://w3id.org/maas-kg/catalogue> maas:changeCount ?next .
  ?changeSet a maas:ChangeSet ; maas:changedService ?service ; maas:wholeCatalogue ?whole } }
WHERE {
  #ROWS#
  OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/changes> { <https://w3id.org/maas-kg/catalogue> maas:changeCount ?count } }
  BIND(COALESCE(?count, 0) + 1 AS ?next)
  BIND(IRI(CONCAT("https://w3id.org/maas-kg/catalogue/change/", STR(?next))) AS ?changeSet)
}
