# A component of the product (a line of its bill of materials, 05-components.ru, or maas:hasComponent) is made of
# the product's material, and as many of it as the product's quantity times its quantity per unit (rounded up; one
# per unit for maas:hasComponent), unless it states its own. Stated here so that a component need not repeat them:
# the product shapes reach components (maas:Component rdfs:subClassOf maas:Product) and require both. Runs after
# 40-numbers.ru (the quantities are numbers of their datatypes); material names are resolved after the rules
# (maas_kg.catalogue.ingest), so a name is copied as given.
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX in:   <https://w3id.org/maas-kg/input#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>

INSERT { ?component in:materials ?material } WHERE {
  ?product a maas:Product ; (maas:hasBillOfMaterialsItem/maas:bomComponent)|maas:hasComponent ?component ;
           in:materials ?material .
  FILTER(?component != ?product)
  FILTER NOT EXISTS { ?component in:materials|maas:material ?own }
} ;
INSERT { ?component maas:material ?material } WHERE {
  ?product a maas:Product ; (maas:hasBillOfMaterialsItem/maas:bomComponent)|maas:hasComponent ?component ;
           maas:material ?material .
  FILTER(?component != ?product)
  FILTER NOT EXISTS { ?component in:materials|maas:material ?own }
} ;
INSERT { ?component maas:quantity ?quantity } WHERE {
  { SELECT ?product ?component (SUM(?perUnit) AS ?perProduct) WHERE {
      ?product a maas:Product .
      { ?product maas:hasBillOfMaterialsItem ?item . ?item maas:bomComponent ?component .
        OPTIONAL { ?item maas:bomQuantity ?given }
        # a missing or invalid quantity per unit is reported on the line (shapes/product.ttl, maas-sh:BOMQuantity);
        # the component counts one per unit then, not a second missing quantity
        BIND(IF(COALESCE(isNumeric(?given) && ?given > 0, false), ?given, 1) AS ?perUnit) }
      UNION
      { ?product maas:hasComponent ?component .
        FILTER NOT EXISTS { ?product maas:hasBillOfMaterialsItem/maas:bomComponent ?component }
        BIND(1 AS ?perUnit) }
    } GROUP BY ?product ?component }
  FILTER(?component != ?product)
  ?product maas:quantity ?units . FILTER(DATATYPE(?units) = xsd:integer && ?units >= 1)
  FILTER NOT EXISTS { ?component maas:quantity ?own }
  BIND(xsd:integer(CEIL(?units * ?perProduct)) AS ?quantity)
}
