"""Store operations on the memory and disk backends: query, update, atomic commits, export/import, locking."""

from __future__ import annotations

import hashlib

import pyoxigraph as ox
import pytest

from maas_kg.store import Changes, StoreError, StoreLocked, open_store

G1, G2 = "https://example.org/g1", "https://example.org/g2"
S, P = ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p")


@pytest.fixture(params=["memory", "disk"])
def store(request, tmp_path):
    s = open_store("memory" if request.param == "memory" else str(tmp_path / "store"))
    yield s
    s.close()


def test_commit_replaces_graphs_and_runs_updates_together(store):
    changes = Changes()
    changes.replace_graph(G1, [(S, P, ox.Literal("one"))])
    changes.update(f'INSERT DATA {{ GRAPH <{G2}> {{ {S} {P} "two" }} }}')
    store.commit(changes)
    assert store.named_graphs() == [G1, G2]
    again = Changes()
    again.replace_graph(G1, [(S, P, ox.Literal("uno")), (S, P, ox.Literal("eins"))])
    store.commit(again)
    assert sorted(t[2].value for t in store.graph_triples(G1)) == ["eins", "uno"]


def test_a_failing_commit_writes_nothing(store):
    changes = Changes()
    changes.replace_graph(G1, [(S, P, ox.Literal("one"))])
    changes.update("INSERT DATA { GRAPH <broken> { this is not sparql } }")
    with pytest.raises(StoreError):
        store.commit(changes)
    assert store.quad_count() == 0


def test_select_ask_and_union_default_graph(store):
    store.update(f'INSERT DATA {{ GRAPH <{G1}> {{ {S} {P} "x" }} }}')
    assert store.select(f"SELECT ?o WHERE {{ {S} {P} ?o }}") == []
    assert store.select(f"SELECT ?o WHERE {{ {S} {P} ?o }}", union_default_graph=True)[0]["o"].value == "x"
    assert store.ask(f"ASK {{ GRAPH <{G1}> {{ {S} {P} ?o }} }}")
    rows = store.query(f"SELECT ?o WHERE {{ {S} {P} ?o }}", union_default_graph=True, substitutions={"o": ox.Literal("y")})
    assert list(rows) == []


def test_syntax_errors_are_store_errors(store):
    with pytest.raises(StoreError, match="syntax"):
        store.select("SELEC nothing")


def test_export_import_round_trip_keeps_every_quad(store, tmp_path):
    store.load(b'@prefix ex: <https://example.org/> . ex:a ex:b "c"@en , [ ex:d 1.5 ] .', "turtle", graph=G1)
    store.update(f'INSERT DATA {{ GRAPH <{G2}> {{ {S} {P} "two" }} }}')
    for fmt in ("nquads", "trig"):
        path = tmp_path / f"dump.{fmt}"
        store.export(path, fmt)
        copy = open_store("memory")
        copy.import_dataset(path, fmt)
        assert copy.quad_count() == store.quad_count()
        assert _canonical_hash(copy) == _canonical_hash(store)


def _canonical_hash(store) -> str:
    dataset = ox.Dataset(store.quads())
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return hashlib.sha256("\n".join(sorted(str(q) for q in dataset)).encode()).hexdigest()


def test_disk_store_persists_and_is_locked_while_open(tmp_path):
    path = str(tmp_path / "store")
    first = open_store(path)
    first.update(f'INSERT DATA {{ GRAPH <{G1}> {{ {S} {P} "kept" }} }}')
    with pytest.raises(StoreLocked, match="locked by another process"):
        open_store(path)
    first.close()
    reopened = open_store(path)
    assert reopened.quad_count() == 1
    reopened.close()


def test_unknown_location_kinds_are_refused():
    with pytest.raises(StoreError, match="remote SPARQL stores"):
        open_store("http://localhost:1/sparql")
