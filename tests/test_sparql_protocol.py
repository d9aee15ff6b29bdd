"""SPARQL 1.1 Protocol and Graph Store Protocol behaviour of /sparql, /sparql/update and /graph-store, as the W3C
recommendations describe it: methods, media types, status codes, bad requests; read-only public endpoint; SERVICE
and LOAD never reach the network unless allow-listed."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import rdflib

from api import create_app
from harness import STORE_KINDS
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services
from maas_kg.catalogue.public_sparql import QueryRefused, check_remote_access, check_update
from maas_kg.serving import StoreServer

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SERVICES = """PREFIX maas: <https://w3id.org/maas-kg/ns#>
SELECT ?service ?name WHERE { ?service a maas:ManufacturingService ; maas:name ?name } ORDER BY ?service"""
CONSTRUCT = """PREFIX maas: <https://w3id.org/maas-kg/ns#>
CONSTRUCT { ?service maas:name ?name } WHERE { ?service a maas:ManufacturingService ; maas:name ?name } LIMIT 5"""


@pytest.fixture(scope="module", params=STORE_KINDS)
def app(request, tmp_path_factory):
    """The endpoint over the embedded store, and over an Oxigraph server (the path `maas-kg serve` takes, where
    answers are passed on as the store sends them)."""
    folder = tmp_path_factory.mktemp("sparql")
    with contextlib.ExitStack() as stack:
        location = "memory"
        if request.param == "remote":
            location = stack.enter_context(StoreServer(str(folder / "served"))).url
        app = create_app({"STORE": location, "KEYS_FILE": str(folder / "keys.sqlite"),
                          "TESTING": True, "SPARQL_RESULT_LIMIT": 20})
        store = app.extensions["maas_kg"].catalogue
        catalogue.publish(store, json.dumps(list(generate_services(5, 3))).encode(), "json")
        keys = app.extensions["maas_kg"].keys
        app.test_keys = {"admin": keys.create(admin=True)[0],
                         "provider": keys.create(provider="https://w3id.org/maas-kg/id/provider/p")[0]}
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(app, who):
    return {"Authorization": f"Bearer {app.test_keys[who]}"}


# -- query operation: the three ways to send a query -------------------------------------------------------------

def test_query_via_get_post_form_and_post_direct_give_the_same_answer(client):
    by_get = client.get("/sparql", query_string={"query": SERVICES})
    by_form = client.post("/sparql", data={"query": SERVICES})
    by_direct = client.post("/sparql", data=SERVICES, content_type="application/sparql-query")
    for response in (by_get, by_form, by_direct):
        assert response.status_code == 200 and response.mimetype == "application/sparql-results+json"
    assert by_get.get_json() == by_form.get_json() == by_direct.get_json()
    assert by_get.get_json()["head"]["vars"] == ["service", "name"]


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_select_results_in_each_format(client, accept):
    labels = "SELECT ?term ?label WHERE { ?term <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    response = client.get("/sparql", query_string={"query": labels}, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    text = response.get_data(as_text=True)
    if accept.endswith("json"):
        rows = json.loads(text)["results"]["bindings"]
    elif accept.endswith("xml"):
        ns = {"r": "http://www.w3.org/2005/sparql-results#"}
        rows = ET.fromstring(text).findall(".//r:result", ns)
    elif accept == "text/csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = text.strip().splitlines()[1:]
    assert len(rows) == 20  # the configured result limit caps the answer ...
    assert response.headers["X-Result-Truncated"] == "20"  # ... and says so


def test_graph_answers_are_cut_at_the_limit_too(client):
    everything = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    for accept, fmt in (("application/n-triples", "nt"), ("text/turtle", "turtle")):
        response = client.get("/sparql", query_string={"query": everything}, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["X-Result-Truncated"] == "20"
        assert len(rdflib.Graph().parse(data=response.data, format=fmt)) == 20


def test_ask_and_construct(client):
    ask = client.get("/sparql", query_string={"query": "ASK { ?s a <https://w3id.org/maas-kg/ns#ManufacturingService> }"})
    assert ask.get_json() == {"head": {}, "boolean": True}
    xml = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+xml"})
    assert b"<boolean>true</boolean>" in xml.data
    for accept, fmt in (("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
                        ("application/rdf+xml", "xml")):
        response = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": accept})
        assert response.status_code == 200 and response.mimetype == accept
        assert len(rdflib.Graph().parse(data=response.data, format=fmt)) == 5
    # a results format for a graph query (and the other way round) is not acceptable
    assert client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": "text/csv"}).status_code == 406
    assert client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": "text/turtle"}).status_code == 406


def test_service_description(client):
    response = client.get("/sparql")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    assert (None, rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#Service")) in graph


# -- bad requests ------------------------------------------------------------------------------------------------

def test_protocol_errors(client):
    # two queries
    assert client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D").status_code == 400
    assert client.post("/sparql", data={"query": ["ASK {}", "ASK {}"]}).status_code == 400
    assert client.post("/sparql?query=ASK%7B%7D", data="ASK {}", content_type="application/sparql-query").status_code == 400
    # missing query, wrong or missing content type, wrong method
    assert client.post("/sparql", data={"other": "x"}).status_code == 400
    assert client.post("/sparql", data="ASK {}", content_type="text/plain").status_code == 415
    assert client.post("/sparql", data="ASK {}").status_code == 415
    assert client.put("/sparql", data="ASK {}", content_type="application/sparql-query").status_code == 405
    assert client.delete("/sparql").status_code == 405
    # not UTF-8, syntax error, not a query
    latin1 = "ASK { ?s ?p \"Müller\" }".encode("latin-1")
    assert client.post("/sparql", data=latin1, content_type="application/sparql-query").status_code == 400
    syntax = client.get("/sparql", query_string={"query": "SELEKT * WHERE { ?s ?p ?o }"})
    assert syntax.status_code == 400 and syntax.mimetype == "application/problem+json"
    broken = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p "})
    assert broken.status_code == 400 and "syntax" in broken.get_json()["detail"].lower()
    # the dataset parameters are honoured (an empty graph here); a relative graph IRI is not an IRI
    assert client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }",
                                               "default-graph-uri": "http://x"}).status_code == 200
    assert client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }",
                                               "default-graph-uri": "x"}).status_code == 400


def test_public_endpoint_is_read_only(app, client):
    before = client.get("/sparql", query_string={"query": COUNT}).get_json()
    insert = "INSERT DATA { <http://x> <http://y> <http://z> }"
    assert client.post("/sparql", data={"update": insert}).status_code == 403
    assert client.post("/sparql", data=insert, content_type="application/sparql-update").status_code == 403
    assert client.get("/sparql", query_string={"update": insert}).status_code == 403
    assert client.post("/sparql", data={"query": insert}).status_code == 403
    assert client.post("/sparql", data={"query": "DROP ALL"}).status_code == 403
    assert client.get("/sparql", query_string={"query": COUNT}).get_json() == before


def test_service_never_reaches_the_network(client, listener):
    target = f"http://127.0.0.1:{listener.port}/sparql"
    queries = [f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
               f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
               f"PREFIX r: <http://127.0.0.1:{listener.port}/> SELECT * WHERE {{ service r:sparql {{ ?s ?p ?o }} }}",
               "SELECT * WHERE { BIND(<%s> AS ?e) SERVICE ?e { ?s ?p ?o } }" % target]
    for query in queries:
        response = client.get("/sparql", query_string={"query": query})
        assert response.status_code == 403, query
        assert "allow-list" in response.get_json()["detail"]
    assert listener.connections == 0


def test_remote_access_check_understands_the_syntax():
    # keywords inside strings, IRIs and comments are not operations
    check_remote_access('SELECT * WHERE { ?s ?p "SERVICE <http://evil/>" } # SERVICE <http://evil/>')
    check_remote_access("SELECT * WHERE { <http://example.org/SERVICE> ?p ?o }")
    check_remote_access("SELECT * WHERE { SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }",
                        ["http://allowed.example/sparql"])
    with pytest.raises(QueryRefused):
        check_remote_access("SELECT * WHERE { SERVICE <http://allowed.example.evil/sparql> { ?s ?p ?o } }",
                            ["http://allowed.example"])
    with pytest.raises(QueryRefused):
        check_update("LOAD <http://127.0.0.1:9/data.ttl>")
    check_update("LOAD <http://allowed.example/data.ttl> INTO GRAPH <http://g>", ["http://allowed.example"])


def test_timeout_stops_long_queries(app, tmp_path):
    slow = create_app({"STORE": "memory", "KEYS_FILE": str(tmp_path / "k.sqlite"), "SPARQL_TIMEOUT": 0.2,
                       "SPARQL_RESULT_LIMIT": 10_000_000, "SYNC_ONTOLOGY": True})
    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # a cross product of the ontology, 10^12 rows
    response = slow.test_client().get("/sparql", query_string={"query": query})
    assert response.status_code == 503 and "within 0.2 s" in response.get_json()["detail"]


# -- update and graph store (administrators) ---------------------------------------------------------------------

def test_update_needs_an_administrator(app, client, listener):
    insert = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/p> 1 } }"
    assert client.post("/sparql/update", data={"update": insert}).status_code == 401
    assert client.post("/sparql/update", data={"update": insert}, headers=bearer(app, "provider")).status_code == 403
    admin = bearer(app, "admin")
    assert client.post("/sparql/update", data={"update": insert}, headers=admin).status_code == 204
    assert client.post("/sparql/update", data="DROP GRAPH <http://example.org/g>",
                       content_type="application/sparql-update", headers=admin).status_code == 204
    assert client.post("/sparql/update", data={"update": "INSERT DATTA {}"}, headers=admin).status_code == 400
    assert client.get("/sparql/update", headers=admin).status_code == 405
    assert client.post("/sparql/update", data={"update": ["CLEAR SILENT GRAPH <http://x>"] * 2},
                       headers=admin).status_code == 400
    load = client.post("/sparql/update", data={"update": f"LOAD <http://127.0.0.1:{listener.port}/x.ttl>"},
                       headers=admin)
    assert load.status_code == 403 and listener.connections == 0


def test_graph_store_protocol(app, client):
    admin = bearer(app, "admin")
    graph = "http://example.org/graph/test"
    turtle = b"<http://example.org/a> <http://example.org/p> \"one\" ."
    assert client.get("/graph-store", query_string={"graph": graph}).status_code == 401
    assert client.get("/graph-store", query_string={"graph": graph}, headers=bearer(app, "provider")).status_code == 403
    assert client.get("/graph-store", query_string={"graph": graph}, headers=admin).status_code == 404
    created = client.put(f"/graph-store?graph={graph}", data=turtle, content_type="text/turtle", headers=admin)
    assert created.status_code == 201
    replaced = client.put(f"/graph-store?graph={graph}", data=turtle, content_type="text/turtle", headers=admin)
    assert replaced.status_code == 204
    added = client.post(f"/graph-store?graph={graph}", content_type="application/n-triples", headers=admin,
                        data=b"<http://example.org/b> <http://example.org/p> \"two\" .\n")
    assert added.status_code == 204
    read = client.get("/graph-store", query_string={"graph": graph}, headers={**admin, "Accept": "application/n-triples"})
    assert read.status_code == 200 and len(rdflib.Graph().parse(data=read.data, format="nt")) == 2
    assert client.head("/graph-store", query_string={"graph": graph}, headers=admin).status_code == 200
    assert client.delete("/graph-store", query_string={"graph": graph}, headers=admin).status_code == 204
    assert client.delete("/graph-store", query_string={"graph": graph}, headers=admin).status_code == 404
    # bad requests
    assert client.get("/graph-store", headers=admin).status_code == 400
    assert client.get(f"/graph-store?graph={graph}&default", headers=admin).status_code == 400
    assert client.put(f"/graph-store?graph={graph}", data=b"<a> <b>", content_type="text/turtle",
                      headers=admin).status_code == 400
    assert client.put(f"/graph-store?graph={graph}", data=b"x", content_type="image/png", headers=admin).status_code == 415
    assert client.get("/graph-store?graph=relative", headers=admin).status_code == 400
    # the default graph: it held no triples, so the PUT creates its content (201, as the W3C suite expects)
    assert client.put("/graph-store?default", data=turtle, content_type="text/turtle", headers=admin).status_code == 201
    default = client.get("/graph-store?default", headers={**admin, "Accept": "text/turtle"})
    assert b"one" in default.data
    assert client.delete("/graph-store?default", headers=admin).status_code == 204
