# A site without a country takes its organisation's; so does a site without a region (ISO 3166-2), and the
# organisation keeps none (a region code is a site's, maas:regionCode has the domain maas:Site); a service that names
# no site is offered at its provider's site when the provider has exactly one.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX in:   <https://w3id.org/maas-kg/input#>
PREFIX rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

INSERT { ?site maas:countryCode ?country } WHERE {
  ?org maas:hasSite ?site ; maas:countryCode ?country .
  FILTER NOT EXISTS { ?site maas:countryCode ?any }
} ;
INSERT { ?site maas:regionCode ?region } WHERE {
  ?org maas:hasSite ?site ; maas:regionCode ?region .
  FILTER NOT EXISTS { ?site maas:regionCode ?any }
} ;
DELETE { ?org maas:regionCode ?region } WHERE { ?org maas:hasSite ?site ; maas:regionCode ?region } ;
INSERT { ?service maas:offeredAt ?site } WHERE {
  { SELECT ?provider (SAMPLE(?s) AS ?site) WHERE { ?provider maas:hasSite ?s } GROUP BY ?provider HAVING (COUNT(?s) = 1) }
  ?service maas:providedBy ?provider .
  FILTER NOT EXISTS { ?service maas:offeredAt ?any }
}
