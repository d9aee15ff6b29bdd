# Withdraw services: mark the record withdrawn and log the event (maas_kg.catalogue.publishing archives the last version as
# text and drops the live graph in the same update request).
# Placeholder: ROWS, a VALUES block binding (?service ?graph ?version ?now ?agent ?archive), one row per service
# (maas_kg.catalogue.publishing writes it through maas_kg.knowledge.rules).
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct:  <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>

DELETE {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> {
    ?record maas:status ?oldStatus ; dct:modified ?oldModified ;
            maas:listingKey ?oldKey ; maas:listedProcess ?oldProcess ; maas:listedCountry ?oldCountry ; maas:listedCertification ?oldCertification .
    <https://w3id.org/maas-kg/catalogue> dcat:resource ?service .
  }
}
INSERT {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:status maas:Withdrawn ; dct:modified ?now . }
  GRAPH <https://w3id.org/maas-kg/graph/history> {
    ?event a prov:Activity , maas:Withdrawal ;
        maas:aboutService ?service ;
        maas:version ?version ;
        prov:startedAtTime ?now ;
        prov:wasAssociatedWith ?agent ;
        prov:used ?archive .
  }
}
WHERE {
  #ROWS#
  BIND(IRI(CONCAT(STR(?graph), "/record")) AS ?record)
  BIND(IRI(CONCAT(STR(?graph), "/withdrawal/", STR(?version))) AS ?event)
  LATERAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:status ?oldStatus ; dct:modified ?oldModified } }
  # a withdrawn service leaves the listing index
  LATERAL { OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:listingKey ?oldKey } } }
  LATERAL { OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:listedProcess ?oldProcess } } }
  LATERAL { OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:listedCountry ?oldCountry } } }
  LATERAL { OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:listedCertification ?oldCertification } } }
}
