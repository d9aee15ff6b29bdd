# Record publications in the DCAT catalogue and the PROV history, in the same transaction that writes the service
# graphs (for services published for the first time: in a scratch store holding only their new graphs, whose
# result is inserted with them).
# Placeholder: ROWS, a VALUES block binding (?service ?graph ?version ?now ?publisher ?owner), one row per published
# service (maas_kg.catalogue.publishing writes it through maas_kg.knowledge.rules); ?owner is the service's provider, which the record keeps after a withdrawal: only its keys (and administrators)
# may publish under the service's IRI again.
# The record also carries the listing index (maas:listingKey, maas:listedProcess, maas:listedCountry,
# maas:listedCertification), read from the service graph written earlier in the same request.
# Four operations rather than one: values that a service has several of (record triples, countries,
# certifications) would otherwise multiply each other's solutions, which made replacing 500 services take seconds.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct:  <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>

# 1. drop the earlier version's record values, except the date the service was first issued
DELETE { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record ?p ?o } }
WHERE {
  #ROWS#
  BIND(IRI(CONCAT(STR(?graph), "/record")) AS ?record)
  # LATERAL: look up each row's record, instead of joining against the whole catalogue graph
  LATERAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record ?p ?o FILTER(?p != dct:issued) } }
} ;

# 2. the record, its sort key and process, and the publication event
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
        maas:ownedBy ?owner ;
        maas:listingKey ?listingKey ;
        maas:listedProcess ?listedProcess .
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
  #ROWS#
  BIND(IRI(CONCAT(STR(?graph), "/record")) AS ?record)
  BIND(IRI(CONCAT(STR(?graph), "/event/", STR(?version))) AS ?event)
  LATERAL { OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record dct:issued ?first } } }
  BIND(COALESCE(?first, ?now) AS ?issued)
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:name ?serviceName } } }
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:providedBy/maas:name ?providerName } } }
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:processType ?listedProcess } } }
  # eleven characters of the names, then four hexadecimal digits of the service graph's hash: short enough for the
  # store to compare inline, and hardly ever the same for two services, so sorting seldom needs a tie-break
  BIND(CONCAT(SUBSTR(LCASE(CONCAT(COALESCE(?providerName, ""), " ", COALESCE(?serviceName, ""))), 1, 11),
              SUBSTR(STR(?graph), STRLEN(STR(?graph)) - 3)) AS ?listingKey)
} ;

# 3. the countries where the service is offered: its sites', or else its provider's
INSERT { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:listedCountry ?country } }
WHERE {
  #ROWS#
  BIND(IRI(CONCAT(STR(?graph), "/record")) AS ?record)
  LATERAL { GRAPH ?graph {
    { ?service maas:offeredAt/maas:countryCode ?country }
    UNION
    { ?service maas:providedBy/maas:countryCode ?country FILTER NOT EXISTS { ?service maas:offeredAt/maas:countryCode ?any } }
  } }
} ;

# 4. the certifications held by the service or its provider
INSERT { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:listedCertification ?certification } }
WHERE {
  #ROWS#
  BIND(IRI(CONCAT(STR(?graph), "/record")) AS ?record)
  LATERAL { GRAPH ?graph {
    { ?service maas:holdsCertification ?certification } UNION { ?service maas:providedBy/maas:holdsCertification ?certification }
  } }
}
