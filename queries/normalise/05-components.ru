# The plain JSON product format's "components" ([{name, shape, envelope_mm, volume_mm3, ..., quantity_per_unit}])
# become the product's bill of materials: one maas:BillOfMaterialsItem per component object, with the object's
# quantity_per_unit as its maas:bomQuantity (1 when not given) and the object itself as its maas:bomComponent, typed
# maas:Component. A component is a product only through maas:Component rdfs:subClassOf maas:Product: this runs before
# 10-types.ru, so the domains of the product fields a component carries do not type it maas:Product, and it is neither
# minted as a product (50-mint.ru) nor counted as the document's product. 30-product-fields.ru converts its envelope
# and requirements like the product's, and 45-components.ru gives it the product's material and quantity.
# A value of "components" that is not an object (a text, a number) stays a bill of materials line that is no
# maas:BillOfMaterialsItem, which shapes/product.ttl (maas-sh:ProductBOM) reports naming "components".
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX in:   <https://w3id.org/maas-kg/input#>

INSERT { ?product maas:hasBillOfMaterialsItem ?item .
         ?item a maas:BillOfMaterialsItem ; maas:bomComponent ?component .
         ?component a maas:Component }
WHERE {
  { SELECT DISTINCT ?product ?component WHERE { ?product a maas:Product ; in:components ?component .
                                                FILTER(!isLiteral(?component)) } }
  BIND(BNODE() AS ?item)
} ;
INSERT { ?item maas:bomQuantity 1 } WHERE {
  ?product a maas:Product ; in:components ?component ; maas:hasBillOfMaterialsItem ?item .
  ?item maas:bomComponent ?component .
  FILTER NOT EXISTS { ?component maas:bomQuantity ?given }
} ;
DELETE { ?component maas:bomQuantity ?perUnit } INSERT { ?item maas:bomQuantity ?perUnit } WHERE {
  ?product a maas:Product ; in:components ?component ; maas:hasBillOfMaterialsItem ?item .
  ?item maas:bomComponent ?component . ?component maas:bomQuantity ?perUnit .
} ;
DELETE { ?product in:components ?value } INSERT { ?product maas:hasBillOfMaterialsItem ?value } WHERE {
  ?product a maas:Product ; in:components ?value . FILTER(isLiteral(?value))
} ;
DELETE { ?product in:components ?component } WHERE { ?product a maas:Product ; in:components ?component }
