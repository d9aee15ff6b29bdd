"""The workspace keeps a product document's translation (by its digest and the ontology) for a while: a document
matched again gives the same answer without being validated and translated again, a new day or an invalid
document is not served from it, and it is bounded in time and size."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.matching import workspace as workspace_module
from maas_kg.matching.products import ProductError
from maas_kg.matching.report import as_json
from maas_kg.store import OxigraphStore

PRODUCTS = Path(__file__).parents[1] / "examples" / "products"
TODAY = datetime.date(2026, 11, 2)


@pytest.fixture(scope="module")
def store():
    store = OxigraphStore(None)
    sync_ontology(store)
    assert all(r.published for r in catalogue.publish(store, json.dumps(list(generate_services(60, 3))).encode(),
                                                      "json"))
    return store


@pytest.fixture
def counted(monkeypatch):
    """How often products were validated and stored in a workspace."""
    calls = []
    original = workspace_module.submit_product
    monkeypatch.setattr(workspace_module, "submit_product", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def _document(name: str) -> bytes:
    return (PRODUCTS / name).read_bytes()


def test_a_document_matched_again_gives_the_same_answer_without_a_second_translation(store, counted):
    workspace = workspace_module.Workspace(store)
    first = as_json(store, workspace.match(_document("milled-bracket.json"), "json", today=TODAY))
    again = as_json(store, workspace.match(_document("milled-bracket.json"), "json", today=TODAY))
    assert first == again and first["routes"]
    assert len(counted) == 1
    other = as_json(store, workspace.match(_document("turned-ground-shaft.json"), "json", today=TODAY))
    assert len(counted) == 2 and other["product"] != first["product"]


def test_another_day_reads_the_kept_translation_with_that_day(store, counted):
    workspace = workspace_module.Workspace(store)
    document = _document("milled-bracket.json")
    today = workspace.match(document, "json", today=TODAY)
    later = workspace.match(document, "json", today=TODAY + datetime.timedelta(days=5))
    assert len(counted) == 1
    assert later.request.today == TODAY + datetime.timedelta(days=5)
    if today.request.days_available is not None:
        assert later.request.days_available == today.request.days_available - 5


def test_an_invalid_document_is_refused_every_time(store, counted):
    workspace = workspace_module.Workspace(store)
    bad = json.dumps({"name": "x", "material": "unobtainium", "shape": "blob", "envelope_mm": [1, 1, 1],
                      "quantity": 1}).encode()
    for _ in range(2):
        with pytest.raises(ProductError):
            workspace.match(bad, "json", today=TODAY)
    assert len(counted) == 2


def test_kept_translations_expire_and_are_bounded(store, counted, monkeypatch):
    workspace = workspace_module.Workspace(store)
    monkeypatch.setattr(workspace_module, "TRANSLATED_MAX", 2)
    names = ["milled-bracket.json", "turned-ground-shaft.json", "welded-steel-frame.json"]
    for name in names:
        workspace.match(_document(name), "json", today=TODAY)
    workspace.match(_document(names[2]), "json", today=TODAY)
    assert len(counted) == 3  # the newest two are kept
    workspace.match(_document(names[0]), "json", today=TODAY)
    assert len(counted) == 4  # the oldest was dropped
    monkeypatch.setattr(workspace_module, "TRANSLATED_SECONDS", -1)
    workspace.match(_document(names[0]), "json", today=TODAY)
    assert len(counted) == 5


def test_another_ontology_translates_again(store, counted, monkeypatch):
    workspace = workspace_module.Workspace(store)
    workspace.match(_document("milled-bracket.json"), "json", today=TODAY)
    state = workspace_module._ontology_state
    monkeypatch.setattr(workspace_module, "_ontology_state", lambda extensions: (state(extensions), "edited"))
    workspace.match(_document("milled-bracket.json"), "json", today=TODAY)
    assert len(counted) == 2
