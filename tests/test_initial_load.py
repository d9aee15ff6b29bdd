"""The initial load writes what publishing writes, refuses conflicts before writing anything, and rejects invalid
services with the same violations as publish."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from harness import STORE_KINDS, fresh_store
from maas_kg import catalogue
from maas_kg.catalogue import CatalogueError
from maas_kg.catalogue.demo import generate_services
from maas_kg.catalogue.initial_load import initial_load
from maas_kg.matching.index import MatchIndex

DATA = Path(__file__).parent / "data"
_STAMP = re.compile(r'"\d{4}-\d\d-\d\dT[\d:]+(Z|[+-]\d\d:\d\d)?"\^\^<http://www.w3.org/2001/XMLSchema#dateTime>')
_BLANK = re.compile(r"_:[A-Za-z0-9]+")


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    with fresh_store(request.param, tmp_path / "served") as s:
        yield s


CHANGES = "https://w3id.org/maas-kg/graph/changes"


def demo_inputs(services: int, per_input: int) -> list[bytes]:
    stream = itertools.islice(generate_services(providers=services, seed=3), services)
    return [json.dumps(chunk).encode() for chunk in iter(lambda: list(itertools.islice(stream, per_input)), [])]


def comparable(store) -> list[str]:
    """Every quad as N-Quads text, with timestamps and blank-node labels masked (they differ between two runs); not
    the change record, which says per publication which services changed, and after an initial load that all did."""
    quads = [ox.Quad(s, p, o, ox.NamedNode(g)) for g in store.named_graphs() if g != CHANGES
             for s, p, o in store.graph_triples(g)]
    text = ox.serialize(quads, format=ox.RdfFormat.N_QUADS).decode()
    return sorted(_BLANK.sub("_:b", _STAMP.sub('"T"', line)) for line in text.splitlines())


def test_initial_load_writes_what_publishing_writes(store):
    inputs = demo_inputs(60, 25)
    following = MatchIndex(follow_interval=0)
    following.follow(store)
    assert following.size == 0
    results = initial_load(store, inputs, "json", workers=2)
    assert len(results) == 60 and all(r.published and r.version == 1 for r in results)
    with fresh_store("embedded", None) as reference:
        for data in inputs:
            catalogue.publish(reference, data, "json")
        assert comparable(store) == comparable(reference)
        assert catalogue.list_services(store) == catalogue.list_services(reference)
        assert catalogue.facet_counts(store) == catalogue.facet_counts(reference)
        # the load's change record says the whole catalogue changed: an index that followed the empty store reads
        # it all again, and holds what an index of the published reference holds
        following.follow(store)
        fresh = MatchIndex()
        fresh.follow(reference)
        assert following.size == fresh.size == 60
        assert following.services() == fresh.services()


def test_initial_load_refuses_a_service_already_published_and_writes_nothing(store):
    catalogue.publish(store, (DATA / "service-weber.json").read_bytes(), "json")
    before = store.quad_count()
    with pytest.raises(CatalogueError, match="already in the catalogue.*weber-5axis"):
        initial_load(store, [*demo_inputs(10, 10), (DATA / "service-weber.json").read_bytes()], "json")
    assert store.quad_count() == before
    assert catalogue.statistics(store)["published"] == 1


def test_initial_load_refuses_a_service_given_twice_and_writes_nothing(store):
    before = store.quad_count()
    twice = (DATA / "service-weber.json").read_bytes()
    with pytest.raises(CatalogueError, match="given more than once"):
        initial_load(store, [twice, *demo_inputs(5, 5), twice], "json", workers=2)
    assert store.quad_count() == before


def test_initial_load_rejects_invalid_services_like_publish(store):
    mixed = (DATA / "services-mixed.json").read_bytes()
    results = initial_load(store, [mixed], "json")
    with fresh_store("embedded", None) as reference:
        expected = catalogue.publish(reference, mixed, "json")
    assert sorted((r.service, r.published, sorted(v.message for v in r.violations)) for r in results) == \
        sorted((r.service, r.published, sorted(v.message for v in r.violations)) for r in expected)
    assert any(not r.published for r in results) and any(r.published for r in results)
    assert catalogue.statistics(store)["published"] == sum(r.published for r in results)
