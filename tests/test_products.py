"""The ten example products of examples/products validate as products in the plain JSON product format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maas_kg.catalogue import validate_document
from maas_kg.catalogue.ingest import read_input
from maas_kg.knowledge import MAAS

PRODUCTS = sorted((Path(__file__).parents[1] / "examples" / "products").glob("*.json"))


def test_there_are_ten_example_products():
    assert len(PRODUCTS) == 10


@pytest.mark.parametrize("path", PRODUCTS, ids=lambda p: p.stem)
def test_example_product_conforms(path):
    report = validate_document(path.read_bytes(), "json", kind="product")
    assert report.conforms, report.as_text()


def test_product_fields_map_to_characteristics():
    doc = json.loads((PRODUCTS[0].parent / "turned-ground-shaft.json").read_text())
    triples = {(t.predicate.value, t.object.value) for t in read_input(json.dumps(doc).encode(), "json",
                                                                       kind="product").triples}
    assert (str(MAAS.requiredRoughness), "0.4") in triples
    assert (str(MAAS.boundingBoxZ), "250") in triples
    assert (str(MAAS.criterion), str(MAAS.PriceCriterion)) in triples
    assert (str(MAAS.material), "https://w3id.org/maas-kg/material#Steel42CrMo4") in triples


def test_an_invalid_product_names_its_fields():
    bad = {"name": "x", "material": "unobtainium", "shape": "blob", "envelope_mm": [10, 10], "quantity": 0,
           "weights": {"beauty": 1}}
    report = validate_document(json.dumps(bad).encode(), "json", kind="product")
    messages = " | ".join(v.message for v in report.violations)
    for expected in ("material: unknown material 'unobtainium'", "shape: unknown shape 'blob'",
                     "envelope_x must be a positive length", "quantity is required", "known criterion"):
        assert expected in messages, messages
