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


def test_a_remote_store_that_is_down_says_so_without_hanging():
    from maas_kg.store.remote import SparqlHttpStore, StoreUnavailable
    from maas_kg.serving import free_port

    store = open_store(f"http://127.0.0.1:{free_port()}", timeout=2)
    assert isinstance(store, SparqlHttpStore)
    with pytest.raises(StoreUnavailable, match="not reachable"):
        store.ping()


def test_the_remote_store_behaves_like_the_embedded_one(tmp_path):
    """The same operations against an Oxigraph server (started here) and the embedded store give the same data."""
    import io

    import pyoxigraph as ox

    from maas_kg.serving import StoreServer
    from maas_kg.store import Changes

    a, p = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p")
    with StoreServer(str(tmp_path / "served")) as server:
        stores = [open_store(server.url), open_store("memory")]
        for store in stores:
            changes = Changes()
            changes.replace_graph("http://example.org/g1", [(a, p, ox.Literal("one")), (a, p, ox.Literal(2))])
            changes.update("INSERT DATA { GRAPH <http://example.org/g2> { <http://example.org/b> <http://example.org/p> 3 } }")
            store.commit(changes)
            store.load(b'<http://example.org/c> <http://example.org/p> "four"@en .', "nt", graph="http://example.org/g3")
        remote, embedded = stores
        for store in stores:
            assert store.named_graphs() == ["http://example.org/g1", "http://example.org/g2", "http://example.org/g3"]
            assert store.quad_count() == 4
            assert sorted(map(str, store.graph_triples("http://example.org/g1"))) == \
                sorted(map(str, embedded.graph_triples("http://example.org/g1")))
            assert store.graph_triples("http://example.org/absent") == []
            assert store.ask("ASK { ?s ?p 3 }", union_default_graph=True)
            assert not store.ask("ASK { ?s ?p 3 }")
            rows = store.select("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY STR(?o)")
            assert [r["o"].value for r in rows] == ["2", "3", "four", "one"]
            assert len(list(store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"))) == 4
            with pytest.raises(StoreError, match="syntax"):
                store.select("SELEKT")
        dump = io.BytesIO()
        remote.export(dump)
        copy = open_store("memory")
        copy.import_dataset(io.BytesIO(dump.getvalue()))
        assert sorted(map(str, copy.quads())) == sorted(map(str, embedded.quads()))


def test_the_remote_endpoints_can_be_named_one_by_one(tmp_path, monkeypatch):
    """A store whose query, update and Graph Store endpoints are not under one base URL (MAAS_KG_*_URL)."""
    from maas_kg.serving import StoreServer, free_port
    from maas_kg.store import Changes

    with StoreServer(str(tmp_path / "served")) as server:
        for name, path in (("QUERY", "query"), ("UPDATE", "update"), ("GRAPH_STORE", "store")):
            monkeypatch.setenv(f"MAAS_KG_{name}_URL", f"{server.url}/{path}")
        store = open_store(f"http://127.0.0.1:{free_port()}")  # the base itself answers nothing
        changes = Changes()
        changes.update('INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/p> 1 } }')
        store.commit(changes)
        assert store.ask("ASK { ?s ?p 1 }", union_default_graph=True)
        assert len(store.graph_triples("http://example.org/g")) == 1


def test_one_table_of_url_schemes_picks_the_backend(tmp_path):
    from maas_kg.store import BACKENDS, OxigraphStore, open_store
    from maas_kg.store.remote import SparqlHttpStore
    from maas_kg.store.virtuoso import VirtuosoStore

    assert set(BACKENDS) == {"http", "https", "virtuoso+http", "virtuoso+https"}
    oxigraph = open_store("http://127.0.0.1:7878")
    assert type(oxigraph) is SparqlHttpStore and oxigraph.endpoints.query == "http://127.0.0.1:7878/query"
    assert oxigraph.supports_lateral and oxigraph.atomic_commit and oxigraph.raw_answers
    virtuoso = open_store("virtuoso+http://127.0.0.1:8890/")
    assert type(virtuoso) is VirtuosoStore and virtuoso.endpoints.update == "http://127.0.0.1:8890/sparql"
    assert not virtuoso.supports_lateral and not virtuoso.atomic_commit
    embedded = open_store(str(tmp_path / "store"))
    assert type(embedded) is OxigraphStore and not embedded.raw_answers and not embedded.update_dataset_parameters
    embedded.close()


def test_syntax_errors_are_their_own_kind_on_every_backend(tmp_path):
    from maas_kg.serving import StoreServer
    from maas_kg.store import StoreSyntaxError, open_store

    with StoreServer(str(tmp_path / "server")) as server:
        for store in (open_store("memory"), open_store(server.url)):
            with pytest.raises(StoreSyntaxError):
                store.query("SELEKT * WHERE { ?s ?p ?o }")
            with pytest.raises(StoreSyntaxError):
                store.update("INSERT DATUM { <urn:a> <urn:b> <urn:c> }")
