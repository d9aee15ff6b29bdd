# Give IRIs to the things that are referenced across graphs and must keep their identity: services and products
# without an id get a fresh one; a provider without an id gets one from its name and country; a site given only by
# its coordinates gets one under its organisation, so republishing the same provider does not add sites.
# A name's part of a minted IRI is its in:nameSlug, which a pre-step in Python (maas_kg.catalogue.minting) adds to
# every named blank node before the rules run (umlauts transliterated, ä -> ae, accents stripped: SPARQL has no
# transliteration); without one, the name with every run of other characters than a-z and 0-9 as one dash (the same
# slug for an ASCII name). The last operation deletes the slugs.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX in:   <https://w3id.org/maas-kg/input#>
PREFIX rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

DELETE { ?b ?p ?o . ?x ?q ?b } INSERT { ?new ?p ?o . ?x ?q ?new } WHERE {
  { SELECT ?b (IRI(CONCAT(STR(<https://w3id.org/maas-kg/id/service/>), STRUUID())) AS ?new)
    WHERE { ?b a maas:ManufacturingService . FILTER(isBlank(?b)) } }
  { ?b ?p ?o } UNION { ?x ?q ?b }
} ;
DELETE { ?b ?p ?o . ?x ?q ?b } INSERT { ?new ?p ?o . ?x ?q ?new } WHERE {
  { SELECT ?b (IRI(CONCAT(STR(<https://w3id.org/maas-kg/id/product/>), STRUUID())) AS ?new)
    WHERE { ?b a maas:Product . FILTER(isBlank(?b)) } }
  { ?b ?p ?o } UNION { ?x ?q ?b }
} ;
DELETE { ?b ?p ?o . ?x ?q ?b } INSERT { ?new ?p ?o . ?x ?q ?new } WHERE {
  { SELECT ?b (IRI(CONCAT(STR(<https://w3id.org/maas-kg/id/provider/>),
                          COALESCE(?slug, REPLACE(LCASE(?name), "[^a-z0-9]+", "-")), "-",
                          LCASE(COALESCE(?country, "xx")))) AS ?new)
    WHERE { ?b a maas:Provider ; maas:name ?name . OPTIONAL { ?b maas:countryCode ?country }
            OPTIONAL { ?b in:nameSlug ?slug } FILTER(isBlank(?b)) } }
  { ?b ?p ?o } UNION { ?x ?q ?b }
} ;
DELETE { ?b ?p ?o . ?x ?q ?b } INSERT { ?new ?p ?o . ?x ?q ?new } WHERE {
  { SELECT ?b (IRI(CONCAT(STR(?org), "/site/", SUBSTR(SHA1(CONCAT(STR(?lat), " ", STR(?lon))), 1, 12))) AS ?new)
    WHERE { ?org maas:hasSite ?b . ?b maas:latitude ?lat ; maas:longitude ?lon . FILTER(isBlank(?b) && isIRI(?org)) } }
  { ?b ?p ?o } UNION { ?x ?q ?b }
} ;
DELETE WHERE { ?node in:nameSlug ?slug }
