# Derived values that make matching queries simple: the work envelope's edges and the product's bounding-box
# edges sorted (a part fits in some orientation when each of its sorted edges is at most the matching sorted
# envelope edge).
PREFIX maas: <https://w3id.org/maas-kg/ns#>
PREFIX in:   <https://w3id.org/maas-kg/input#>
PREFIX rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

DELETE { ?s maas:envelopeLongest ?a . ?s maas:envelopeMiddle ?b . ?s maas:envelopeShortest ?c }
WHERE { ?s maas:envelopeLongest ?a ; maas:envelopeMiddle ?b ; maas:envelopeShortest ?c } ;
INSERT { ?s maas:envelopeLongest ?longest ; maas:envelopeMiddle ?middle ; maas:envelopeShortest ?shortest }
WHERE {
  ?s maas:envelopeX ?x ; maas:envelopeY ?y ; maas:envelopeZ ?z .
  FILTER(isNumeric(?x) && isNumeric(?y) && isNumeric(?z))
  BIND(IF(?x >= ?y, IF(?x >= ?z, ?x, ?z), IF(?y >= ?z, ?y, ?z)) AS ?longest)
  BIND(IF(?x <= ?y, IF(?x <= ?z, ?x, ?z), IF(?y <= ?z, ?y, ?z)) AS ?shortest)
  BIND(?x + ?y + ?z - ?longest - ?shortest AS ?middle)
} ;
DELETE { ?s maas:boundingBoxLongest ?a . ?s maas:boundingBoxMiddle ?b . ?s maas:boundingBoxShortest ?c }
WHERE { ?s maas:boundingBoxLongest ?a ; maas:boundingBoxMiddle ?b ; maas:boundingBoxShortest ?c } ;
INSERT { ?s maas:boundingBoxLongest ?longest ; maas:boundingBoxMiddle ?middle ; maas:boundingBoxShortest ?shortest }
WHERE {
  ?s maas:boundingBoxX ?x ; maas:boundingBoxY ?y ; maas:boundingBoxZ ?z .
  FILTER(isNumeric(?x) && isNumeric(?y) && isNumeric(?z))
  BIND(IF(?x >= ?y, IF(?x >= ?z, ?x, ?z), IF(?y >= ?z, ?y, ?z)) AS ?longest)
  BIND(IF(?x <= ?y, IF(?x <= ?z, ?x, ?z), IF(?y <= ?z, ?y, ?z)) AS ?shortest)
  BIND(?x + ?y + ?z - ?longest - ?shortest AS ?middle)
}
