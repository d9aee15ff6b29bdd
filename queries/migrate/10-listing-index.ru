# Build the listing index (maas:listingKey, maas:listedProcess, maas:listedCountry, maas:listedCertification) on the
# records of services published before the index existed. Run once per store by maas_kg.knowledge.graphs.sync_ontology
# (and again only if this file changes); records that have a listing key already are left alone, so running it
# twice changes nothing. The same values as record-publication.ru writes for each new publication; the countries
# and certifications go first, since the last operation gives the records their key.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>

INSERT { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:listedCountry ?country } }
WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> {
    ?record maas:status maas:Published ; foaf:primaryTopic ?service ; maas:serviceGraph ?graph .
    FILTER NOT EXISTS { ?record maas:listingKey ?key }
  }
  LATERAL { GRAPH ?graph {
    { ?service maas:offeredAt/maas:countryCode ?country }
    UNION
    { ?service maas:providedBy/maas:countryCode ?country FILTER NOT EXISTS { ?service maas:offeredAt/maas:countryCode ?any } }
  } }
} ;

INSERT { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?record maas:listedCertification ?certification } }
WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> {
    ?record maas:status maas:Published ; foaf:primaryTopic ?service ; maas:serviceGraph ?graph .
    FILTER NOT EXISTS { ?record maas:listingKey ?key }
  }
  LATERAL { GRAPH ?graph {
    { ?service maas:holdsCertification ?certification } UNION { ?service maas:providedBy/maas:holdsCertification ?certification }
  } }
} ;

INSERT {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> {
    ?record maas:listingKey ?listingKey ; maas:listedProcess ?listedProcess .
  }
}
WHERE {
  GRAPH <https://w3id.org/maas-kg/graph/catalogue> {
    ?record maas:status maas:Published ; foaf:primaryTopic ?service ; maas:serviceGraph ?graph .
    FILTER NOT EXISTS { ?record maas:listingKey ?key }
  }
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:name ?serviceName } } }
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:providedBy/maas:name ?providerName } } }
  LATERAL { OPTIONAL { GRAPH ?graph { ?service maas:processType ?listedProcess } } }
  BIND(CONCAT(SUBSTR(LCASE(CONCAT(COALESCE(?providerName, ""), " ", COALESCE(?serviceName, ""))), 1, 11),
              SUBSTR(STR(?graph), STRLEN(STR(?graph)) - 3)) AS ?listingKey)
}
