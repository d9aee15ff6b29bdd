"""Customers' products: validated like services, stored privately, one named graph per product."""

from __future__ import annotations

import hashlib

from maas_kg.catalogue.ingest import read_input
from maas_kg.catalogue.shacl_sparql import validate_instances
from maas_kg.errors import InvalidDocument
from maas_kg.knowledge import MAAS, taxonomy
from maas_kg.knowledge.validation import ValidationReport
from maas_kg.store import Changes, Store

PRODUCT_GRAPH_BASE = "https://w3id.org/maas-kg/graph/product/"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class ProductError(InvalidDocument):
    """The product document is invalid; ``report`` lists every violation."""

    title = "Invalid product"


def product_graph(product: str) -> str:
    return PRODUCT_GRAPH_BASE + hashlib.sha1(product.encode()).hexdigest()[:24]


def submit_product(store: Store, data: bytes, format: str) -> str:
    """Validate one product (plain JSON or RDF) and store it in its private graph; return its IRI.

    An invalid product writes nothing and raises :class:`ProductError` with the SHACL report.
    """
    taxonomy.follow(store)  # a product may need a process of a taxonomy extension
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
