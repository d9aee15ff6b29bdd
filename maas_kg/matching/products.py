"""Customers' products: validated like services, stored privately, one named graph per product."""

from __future__ import annotations

import hashlib
import json

from maas_kg.catalogue.ingest import parse_json, read_input
from maas_kg.catalogue.shacl_sparql import validate_instances
from maas_kg.errors import InvalidDocument
from maas_kg.knowledge import MAAS, taxonomy
from maas_kg.knowledge.validation import ValidationReport
from maas_kg.matching.places import UnknownPlace, resolve
from maas_kg.store import Changes, Store

PRODUCT_GRAPH_BASE = "https://w3id.org/maas-kg/graph/product/"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class ProductError(InvalidDocument):
    """The product document is invalid; ``report`` lists every violation."""

    title = "Invalid product"


def product_graph(product: str) -> str:
    return PRODUCT_GRAPH_BASE + hashlib.sha1(product.encode()).hexdigest()[:24]


def with_delivery_places_resolved(data: bytes) -> bytes:
    """Plain JSON products with ``delivery.place`` ("Munich", "Springfield, US", "48.14, 11.58") given
    ``delivery.lat`` and ``lon`` from the gazetteer (:mod:`maas_kg.matching.places`), before the declarative
    normalisation (queries/normalise), which reads coordinates only. Coordinates given beside a place win (the place
    is then only its name). An unknown place raises :class:`ProductError` naming the field. ``data`` unchanged
    where no product names a place."""
    document = parse_json(data)
    products = document.get("products") if isinstance(document, dict) and isinstance(document.get("products"), list) \
        else document if isinstance(document, list) else [document]
    changed = False
    for number, product in enumerate(products, start=1):
        delivery = product.get("delivery") if isinstance(product, dict) else None
        if not isinstance(delivery, dict) or "place" not in delivery:
            continue
        place = delivery.pop("place")
        changed = True
        if "lat" in delivery or "lon" in delivery:
            continue
        field = "delivery.place" if len(products) == 1 else f"product #{number}: delivery.place"
        if not isinstance(place, str):
            raise ProductError(f"{field} must be a text: a city (\"Munich\", \"Springfield, US\") or "
                               f"coordinates (\"48.14, 11.58\")")
        try:
            found = resolve(place)
        except UnknownPlace as err:
            raise ProductError(f"{field}: {err}") from None
        delivery["lat"], delivery["lon"] = found.lat, found.lon
    return json.dumps(document).encode("utf-8") if changed else data


def submit_product(store: Store, data: bytes, format: str) -> str:
    """Validate one product (plain JSON or RDF) and store it in its private graph; return its IRI.

    An invalid product writes nothing and raises :class:`ProductError` with the SHACL report.
    """
    taxonomy.follow(store)  # a product may need a process of a taxonomy extension
    if format == "json":
        data = with_delivery_places_resolved(data)
    normalised = read_input(data, format, kind="product")
    products = sorted({t.subject.value for t in normalised.triples
                       if t.predicate.value == _RDF_TYPE and t.object.value == str(MAAS.Product)})
    if len(products) != 1:
        raise ProductError(f"the file must describe exactly one product (found {len(products)})")
    violations = normalised.problems + validate_instances(normalised.triples, store=normalised.store)
    if violations:
        first = violations[0]
        raise ProductError(f"the product is invalid ({len(violations)} violation(s)); first: {first.message}"
                           + (f" (found {first.value})" if first.value else ""),
                           ValidationReport(conforms=False, violations=violations))
    changes = Changes()
    changes.replace_graph(product_graph(products[0]), [(t.subject, t.predicate, t.object) for t in normalised.triples])
    store.commit(changes)
    return products[0]
