"""A product offered for take-back (private, like products): what it is made of, in what condition it comes back,
how many a year and where they are collected. Read from the plain JSON take-back format; every error names its field.

    {"id": "https://example.org/take-back/gearbox", "name": "Industrial gearbox",
     "product": {"material": "EN-GJL-250", "shape": "prismatic", "envelope_mm": [420, 300, 260], "mass_kg": 48},
     "components": [{"name": "housing", "material": "EN-GJL-250", "mass_kg": 30, "joining": "bolted",
                     "non_destructive_disassembly": true, "value_eur": 220, "wear_part": false}, ...],
     "condition": [{"grade": "worn", "share": 0.6}, {"grade": "defective", "share": 0.3}, {"grade": "scrap", "share": 0.1}],
     "yearly_returns": 800, "collection": [{"place": "Stuttgart", "lat": 48.78, "lon": 9.18}],
     "max_distance_km": 600, "lifetime_years": 10, "average_lifetime_years": 10, "recycled_input": 0.2}

``grade`` names a ``maas:ProductCondition`` of ontology/end-of-life.ttl by its label or notation (as new A, good B,
worn C, defective D, scrap E); the shares sum to 1.

The same document may come in RDF (``RdfDocument``: Turtle, N-Triples, RDF/XML, JSON-LD) in the vocabulary of
ontology/end-of-life.ttl (``maas:TakeBack`` ...), the product's characteristics in the product vocabulary;
``read_rdf_take_back`` turns it into the plain JSON document by the rules of queries/circularity/. A plain JSON
take-back document with ``"@context"`` (ontology/context-take-back.jsonld) is such a JSON-LD document.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib import RDF, XSD, Literal, URIRef

from maas_kg.catalogue.ingest import term_indexes
from maas_kg.execution import fields
from maas_kg.knowledge import MAAS, load_shapes, rules
from maas_kg.knowledge.validation import check_document
from maas_kg.knowledge.vocabulary import AmbiguousTerm, UnknownTerm
from maas_kg.resilience.value_chains import (RdfDocument, decimal_literal, load_rdf, name_of, ordered, plain, product_document,
                                             single)

JOININGS = ("screwed", "bolted", "clipped", "snap-fit", "pressed", "riveted", "welded", "glued", "soldered", "moulded-in")
MAX_COMPONENTS = 200


@dataclass(frozen=True)
class Component:
    name: str
    material: str  # IRI
    mass_kg: float
    joining: str
    non_destructive: bool
    value_eur: float
    wear_part: bool


@dataclass(frozen=True)
class TakeBack:
    id: str
    name: str
    product: dict  # the product's characteristics, in the plain JSON product format (for matching)
    components: tuple[Component, ...]
    condition: tuple[tuple[str, str, float], ...]  # (grade IRI, label, share)
    yearly_returns: int
    collection: tuple[dict, ...]
    max_distance_km: float
    lifetime_ratio: float
    recycled_input: float

    @property
    def mass_kg(self) -> float:
        return sum(c.mass_kg for c in self.components)

    @property
    def comes_apart(self) -> bool:
        """Whether the product comes apart without damage: every component does."""
        return all(c.non_destructive for c in self.components)


def condition_grades(store) -> dict[str, tuple[str, str]]:
    """Label or notation (lower case) -> (grade IRI, English label) of every maas:ProductCondition."""
    found = {}
    for row in rules.select(store, "circularity/condition-grades.rq"):
        entry = (row["grade"].value, row["label"].value)
        found[row["label"].value.lower()] = entry
        found[row["notation"].value.lower()] = entry
    return found


def read_take_back(doc: object, store) -> TakeBack:
    """The take-back product of ``doc`` (the plain JSON document, or an ``RdfDocument``)."""
    if isinstance(doc, RdfDocument):
        doc = read_rdf_take_back(doc, store)
    doc = fields.document(doc)
    take_back_id = fields.iri(doc, "id")
    product = doc.get("product")
    if not isinstance(product, dict) or not product:
        raise fields.FieldError("product", "must give the product's material, shape, envelope_mm and mass_kg (the "
                                           "plain JSON product format) so that providers can be matched")
    components = doc.get("components")
    if not isinstance(components, list) or not components:
        raise fields.FieldError("components", "must list the product's components (bill of materials)")
    if len(components) > MAX_COMPONENTS:
        raise fields.FieldError("components", f"has {len(components)} entries, at most {MAX_COMPONENTS}")
    materials = term_indexes()["material"]
    read = []
    for number, item in enumerate(components):
        try:
            item = fields.document(item, "component")
            name = fields.text(item, "name", limit=200)
            material_name = fields.text(item, "material", limit=200)
            try:
                material = str(materials.resolve(material_name))
            except (UnknownTerm, AmbiguousTerm) as err:
                raise fields.FieldError("material", str(err)) from None
            joining = fields.text(item, "joining", required=False, limit=20) or "screwed"
            if joining not in JOININGS:
                raise fields.FieldError("joining", f"must be one of {', '.join(JOININGS)}, not {joining!r}")
            intact = item.get("non_destructive_disassembly", joining not in ("welded", "glued", "soldered",
                                                                             "moulded-in"))
            if not isinstance(intact, bool):
                raise fields.FieldError("non_destructive_disassembly", "must be true or false")
            read.append(Component(name, material, fields.number(item, "mass_kg", low=0.000001, high=100_000),
                                  joining, intact, fields.number(item, "value_eur", low=0, high=10 ** 9, default=0.0),
                                  bool(item.get("wear_part", False))))
        except fields.FieldError as err:
            raise fields.within(f"components[{number}]", err) from None
    grades = condition_grades(store)
    condition = doc.get("condition")
    if not isinstance(condition, list) or not condition:
        raise fields.FieldError("condition", "must give the shares of the returns per condition grade "
                                             "(as new, good, worn, defective, scrap)")
    shares = []
    for number, item in enumerate(condition):
        try:
            item = fields.document(item, "condition")
            grade = fields.text(item, "grade", limit=40)
            found = grades.get(grade.lower())
            if found is None:
                raise fields.FieldError("grade", f"must be one of {', '.join(sorted(k for k in grades if len(k) > 1))}"
                                                 f" (or A to E), not {grade!r}")
            shares.append((found[0], found[1], fields.number(item, "share", low=0.0001, high=1)))
        except fields.FieldError as err:
            raise fields.within(f"condition[{number}]", err) from None
    total = sum(share for _, _, share in shares)
    if abs(total - 1) > 0.01:
        raise fields.FieldError("condition", f"the shares sum to {total:.0%}, not 100 %")
    if len({g for g, _, _ in shares}) != len(shares):
        raise fields.FieldError("condition", "names one grade twice")
    points = doc.get("collection")
    if not isinstance(points, list) or not points or len(points) > 50:
        raise fields.FieldError("collection", "must list 1 to 50 collection points with lat and lon")
    collection = []
    for number, point in enumerate(points):
        try:
            place = fields.place({"collection": point}, "collection")
            if "lat" not in place:
                raise fields.FieldError("collection", "needs lat and lon")
            collection.append(place)
        except fields.FieldError as err:
            raise fields.FieldError(f"collection[{number}]", str(err).split(": ", 1)[1]) from None
    lifetime = fields.number(doc, "lifetime_years", low=0.01, high=200, default=1.0)
    average = fields.number(doc, "average_lifetime_years", low=0.01, high=200, default=lifetime)
    take_back = TakeBack(take_back_id, fields.text(doc, "name", required=False, limit=200) or take_back_id, product,
                         tuple(read), tuple(shares), int(fields.number(doc, "yearly_returns", low=1, high=10 ** 9)),
                         tuple(collection), fields.number(doc, "max_distance_km", low=1, high=20_000, default=500.0),
                         lifetime / average, fields.number(doc, "recycled_input", low=0, high=1, default=0.0))
    check_document(as_rdf(take_back), "take-back.ttl", "take-back product")
    return take_back


def _shapes() -> rdflib.Graph:
    """The shapes of the document's RDF form (a fresh graph: pyshacl must not share one across validations)."""
    return load_shapes(("take-back.ttl",))


def as_rdf(take_back: TakeBack) -> rdflib.Graph:
    """The take-back product in the vocabulary of ontology/end-of-life.ttl (what shapes/take-back.ttl checks)."""
    graph = rdflib.Graph()
    node = URIRef(take_back.id)
    graph.add((node, RDF.type, MAAS.TakeBack))
    graph.add((node, MAAS.name, Literal(take_back.name)))
    graph.add((node, MAAS.yearlyReturns, Literal(take_back.yearly_returns, datatype=XSD.integer)))
    graph.add((node, MAAS.recycledInputShare, decimal_literal(take_back.recycled_input)))
    for number, component in enumerate(take_back.components):
        part = URIRef(f"{take_back.id}/component/{number}")
        graph.add((node, MAAS.hasTakeBackComponent, part))
        graph.add((part, RDF.type, MAAS.TakeBackComponent))
        graph.add((part, MAAS.name, Literal(component.name)))
        graph.add((part, MAAS.material, URIRef(component.material)))
        graph.add((part, MAAS.componentMass, decimal_literal(component.mass_kg)))
        graph.add((part, MAAS.joiningMethod, Literal(component.joining)))
        graph.add((part, MAAS.nonDestructiveDisassembly, Literal(component.non_destructive)))
        graph.add((part, MAAS.wearPart, Literal(component.wear_part)))
        graph.add((part, MAAS.componentValue, decimal_literal(component.value_eur)))
    for number, (grade, _, share) in enumerate(take_back.condition):
        condition = URIRef(f"{take_back.id}/condition/{number}")
        graph.add((node, MAAS.hasConditionShare, condition))
        graph.add((condition, RDF.type, MAAS.ConditionShare))
        graph.add((condition, MAAS.conditionGrade, URIRef(grade)))
        graph.add((condition, MAAS.returnShare, decimal_literal(share)))
    for number, point in enumerate(take_back.collection):
        site = URIRef(f"{take_back.id}/collection/{number}")
        graph.add((node, MAAS.hasCollectionPoint, site))
        graph.add((site, RDF.type, MAAS.Site))
        graph.add((site, MAAS.latitude, decimal_literal(point["lat"])))
        graph.add((site, MAAS.longitude, decimal_literal(point["lon"])))
    return graph


def read_rdf_take_back(document: RdfDocument, store) -> dict:
    """The plain JSON take-back document an RDF take-back document states; then read like any."""
    scratch = load_rdf(document, "take-back document")
    found: dict[str, list] = {}
    for row in scratch.query(rules.rule_text("circularity/take-back-document.rq")):
        node = row["takeBack"]
        found.setdefault(node.value if isinstance(node, ox.NamedNode) else f"_:{node.value}", []).append(row)
    if len(found) != 1:
        raise fields.FieldError("maas:TakeBack", "the document must describe exactly one take-back product (a "
                                                 f"maas:TakeBack with maas:hasTakeBackComponent), found {len(found)}")
    (key, rows), = found.items()
    if not isinstance(rows[0]["takeBack"], ox.NamedNode):
        raise fields.FieldError("id", "the take-back product must be named by an IRI, not a blank node")
    doc: dict = {"id": key}
    for variable, field in (("name", "name"), ("returns", "yearly_returns"), ("distance", "max_distance_km"),
                            ("lifetime", "lifetime_years"), ("average", "average_lifetime_years"),
                            ("recycled", "recycled_input")):
        value = single(rows, variable, field)
        if value is not None:
            doc[field] = value
    products = {str(row["product"]): row["product"] for row in rows if row["product"] is not None}
    if len(products) > 1:
        raise fields.FieldError("product", "has several values, one is allowed")
    if products:
        product = product_document(scratch, next(iter(products.values())), "product")
        product.pop("id", None)
        doc["product"] = product
    grades = {iri: label for iri, label in condition_grades(store).values()}
    lists: dict[str, dict[str, dict[str, list]]] = {}
    for row in scratch.query(rules.rule_text("circularity/take-back-parts.rq")):
        item = row["item"]
        item_key = item.value if isinstance(item, ox.NamedNode) else f"_:{item.value}"
        lists.setdefault(row["list"].value, {}).setdefault(item_key, {}).setdefault(
            row["field"].value, []).append(row["value"])
    for name in ("components", "condition", "collection"):
        items = lists.get(name, {})
        positions = {k: plain(v["@position"][0]) if v.get("@position") else None for k, v in items.items()}
        entries = []
        for number, item_key in enumerate(ordered(items, positions)):
            entry = {}
            for field, values in items[item_key].items():
                if field == "@position":
                    continue
                value = single([{"v": v} for v in values], "v", f"{name}[{number}].{field}")
                if field == "material" and isinstance(value, str) and value.startswith(("http://", "https://")):
                    value = name_of(value, "material")
                if field == "grade" and value in grades:
                    value = grades[value]
                entry[field] = value
            entries.append(entry)
        if entries:
            doc[name] = entries
    return doc
