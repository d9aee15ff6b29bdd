"""The remote store against a real Virtuoso 7 server started here: the store protocol, publishing, withdrawal and
facets give what the embedded store gives. What does not work on Virtuoso 7.2.5 yet is listed in the README."""

from __future__ import annotations

import io
import itertools
import json
import os

import pyoxigraph as ox
import pytest

import virtuoso
from harness import fresh_store
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services

# make test installs Virtuoso; only a bare pytest on a machine without it skips (never in CI)
pytestmark = pytest.mark.skipif(not virtuoso.installed() and not os.environ.get("CI"),
                                reason="needs Debian's virtuoso-opensource (make test installs it)")
G = "https://example.org/graph/"


@pytest.fixture
def store(tmp_path):
    with fresh_store("virtuoso", tmp_path) as s:
        yield s


def test_the_store_protocol_works_on_virtuoso(store):
    store.update(f'INSERT DATA {{ GRAPH <{G}a> {{ <urn:x:s> <urn:x:p> "eins"@de , 12 }} }}')
    store.load(b'<urn:x:s> <urn:x:q> _:b . _:b <urn:x:r> "2026-12-01"^^<http://www.w3.org/2001/XMLSchema#date> .',
               "ntriples", graph=f"{G}b")
    assert store.ask(f"ASK {{ GRAPH <{G}a> {{ <urn:x:s> <urn:x:p> 12 }} }}") is True
    assert store.ask(f"ASK {{ GRAPH <{G}a> {{ <urn:x:s> <urn:x:p> 13 }} }}") is False
    ours = [g for g in store.named_graphs() if g.startswith(G)]
    assert ours == [f"{G}a", f"{G}b"]  # and none of Virtuoso's own graphs is listed
    assert {str(o) for _, _, o in store.graph_triples(f"{G}a")} == {'"eins"@de', '"12"^^<http://www.w3.org/2001/XMLSchema#integer>'}
    assert store.graph_triples(f"{G}missing") == []
    before = store.quad_count()
    backup = io.BytesIO()
    store.export(backup)
    quads = list(ox.parse(backup.getvalue(), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == before
    for graph in store.named_graphs():
        store.update(f"DROP SILENT GRAPH <{graph}>")
    assert store.quad_count() == 0
    store.import_dataset(io.BytesIO(backup.getvalue()))
    assert store.quad_count() == before


def test_publishing_withdrawal_and_facets_match_the_embedded_store(store):
    services = json.dumps(list(itertools.islice(generate_services(providers=30, seed=5), 80))).encode()
    with fresh_store("embedded", None) as reference:
        for s in (store, reference):
            results = catalogue.publish(s, services, "json")
            assert all(r.published for r in results)
            catalogue.withdraw(s, results[0].service)
            [again] = catalogue.publish(s, json.dumps([json.loads(services)[1]]).encode(), "json")
            assert again.version == 2
        assert catalogue.statistics(store) == catalogue.statistics(reference) == {"published": 79, "withdrawn": 1}
        assert catalogue.facet_counts(store) == catalogue.facet_counts(reference)
        assert catalogue.facet_counts(store, country="DE") == catalogue.facet_counts(reference, country="DE")
        assert catalogue.providers_of(store, [r["id"] for r in json.loads(services)]) == \
            catalogue.providers_of(reference, [r["id"] for r in json.loads(services)])


def test_serve_takes_a_virtuoso_url_as_a_store_not_as_a_folder(store, tmp_path, monkeypatch):
    import requests

    from harness import running_service

    monkeypatch.chdir(tmp_path)
    location = store.endpoints.query.removesuffix("/sparql").replace("http://", "virtuoso+http://")
    with running_service(tmp_path, providers=0, store=location) as service:
        health = requests.get(f"{service['base']}/health", timeout=30)
        assert health.status_code == 200, health.text
    assert not (tmp_path / "virtuoso+http:").exists()
