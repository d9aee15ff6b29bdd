# Record publications in the DCAT catalogue and the PROV history, in the same transaction that writes the
# service graphs (or, for services published for the first time, in a scratch store holding their graphs, whose
# result is inserted with them). The record carries the listing index: sort key, countries and certifications. The VALUES rows are filled in by maas_kg.catalogue (one row per published service).
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct:  <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>

DELETE { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record ?p ?o } }
INSERT {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> {
    <https://w3id.org/maas-kg/catalogue> a dcat:Catalog ;
        dct:title "MaaS-KG service catalogue"@en ;
        dcat:record ?record ;
        dcat:resource ?service .
    ?record a dcat:CatalogRecord ;
        foaf:primaryTopic ?service ;
        maas:serviceGraph ?graph ;
        maas:version ?version ;
        maas:status maas:Published ;
        dct:issued ?issued ;
        dct:modified ?now ;
        prov:wasAttributedTo ?publisher ;
        maas:listingKey ?listingKey ;
        maas:listedProcess ?listedProcess ;
        maas:listedCountry ?country ;
        maas:listedCertification ?certification .
  }
  GRAPH <https://w3id.org/maas-kg/graph/history> {
    ?event a prov:Activity , maas:Publication ;
        maas:aboutService ?service ;
        maas:version ?version ;
        prov:startedAtTime ?now ;
        prov:wasAssociatedWith ?publisher ;
        prov:generated ?graph .
  }
}
WHERE {
  VALUES (?service ?graph ?version ?now ?publisher) { #ROWS# }
  BIND(IRI(CONCAT(STR(?graph), "/record")) AS ?record)
  BIND(IRI(CONCAT(STR(?graph), "/event/", STR(?version))) AS ?event)
  # LATERAL: look up each row's existing record, instead of joining against the whole catalogue graph, which made
  # every batch slower as the catalogue grew
  LATERAL { OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record dct:issued ?first } } }
  BIND(COALESCE(?first, ?now) AS ?issued)
  LATERAL { OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record ?p ?o } } }
  # the listing index on the record (see maas:listingKey), from the service graph written earlier in the same request
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:name ?serviceName } } }
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:processType ?listedProcess } } }
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:providedBy/maas:name ?providerName } } }
  # eleven characters of the names, then four hexadecimal digits of the service graph's hash: short enough for the
  # store to compare inline, and hardly ever the same for two services, so sorting seldom needs a tie-break
  BIND(CONCAT(SUBSTR(LCASE(CONCAT(COALESCE(?providerName, ""), " ", COALESCE(?serviceName, ""))), 1, 11),
              SUBSTR(STR(?graph), STRLEN(STR(?graph)) - 3)) AS ?listingKey)
  LATERAL { OPTIONAL { GRAPH ?graph {
    { ?service maas:offeredAt/maas:countryCode ?country }
    UNION
    { ?service maas:providedBy/maas:countryCode ?country FILTER NOT EXISTS { ?service maas:offeredAt/maas:countryCode ?any } }
  } } }
  LATERAL { OPTIONAL { GRAPH ?graph {
    { ?service maas:holdsCertification ?certification } UNION { ?service maas:providedBy/maas:holdsCertification ?certification }
  } } }
}
