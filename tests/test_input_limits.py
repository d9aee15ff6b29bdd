"""Input robustness (issue 15): entity bombs and deep nesting refused before any parser expands them, the names of a
document resolved and suggested up to a cap, request bodies over the limit refused whether chunked or not, no error
echoing more than an excerpt, service URLs that address their service whatever its IRI, and product weights that
name no criterion refused. In-process (Flask's test client) where that is the real thing, and against the real
`maas-kg serve` for what only gunicorn shows (chunked bodies, a worker blown up by an entity bomb)."""

from __future__ import annotations

import concurrent.futures
import io
import json
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdflib.namespace import RDF, SKOS

from api import create_app
from api.formats import ID_BASE, service_iri, service_url
from api.problems import MAX_QUOTED_CHARACTERS
from harness import running_service
from maas_kg import knowledge
from maas_kg.catalogue import ingest
from maas_kg.knowledge import MAAS

DATA = Path(__file__).parent / "data"
PROVIDER = "https://w3id.org/maas-kg/id/provider/weber"

# the classic entity bomb as RDF/XML (1,090 bytes, as in the issue): nine levels of ten references each
_ENTITIES = '<!ENTITY lol0 "lol">' + "".join(
    f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10))
ENTITY_BOMB = (f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [{_ENTITIES}]>\n'
               '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
               '<rdf:Description rdf:about="https://example.org/x"><rdf:value>&lol9;</rdf:value></rdf:Description>'
               '</rdf:RDF>').encode()


def weber_document(**changes) -> dict:
    return {**json.loads((DATA / "service-weber.json").read_text()), **changes}


def as_rdf(document: dict, fmt: ox.RdfFormat) -> bytes:
    """A plain JSON service document in another RDF syntax, through the project's own reader."""
    triples = ingest.parse(json.dumps(document).encode(), "json")
    return ox.serialize(triples, format=fmt)


def nested_json(depth: int) -> bytes:
    return b'{"name": ' * depth + b'"x"' + b"}" * depth


def problem(response) -> dict:
    assert response.mimetype == "application/problem+json", response.data[:300]
    return response.get_json()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    keys = app.extensions["maas_kg"].keys
    app.test_keys = {"provider": keys.create(provider=PROVIDER)[0], "admin": keys.create(admin=True)[0]}
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def auth(app, who: str = "provider") -> dict:
    return {"Authorization": f"Bearer {app.test_keys[who]}"}


# -- RDF/XML: no DOCTYPE, no entities, bounded nesting -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/validate", "/validate?kind=product", "/services", "/match"])
def test_rdfxml_entity_declarations_are_refused_before_parsing(app, client, path):
    answer = problem(client.post(path, data=ENTITY_BOMB, content_type="application/rdf+xml", headers=auth(app)))
    assert answer["status"] == 400 and "DOCTYPE" in answer["detail"]


def test_a_doctype_without_entities_is_refused_too():
    with pytest.raises(ingest.InputError, match="DOCTYPE"):
        ingest.refuse_xml_declarations(b'<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "file:///etc/passwd">'
                                       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>')


def test_deeply_nested_rdfxml_is_refused():
    depth = ingest.MAX_XML_DEPTH
    nested = ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:p="https://example.org/">'
              + "<p:q><rdf:Description>" * depth + "</rdf:Description></p:q>" * depth + "</rdf:RDF>").encode()
    with pytest.raises(ingest.InputError, match="nested deeper"):
        ingest.parse(nested, "rdfxml")


def test_plain_rdfxml_still_validates(client):
    data = as_rdf(weber_document(), ox.RdfFormat.RDF_XML)
    answer = client.post("/validate", data=data, content_type="application/rdf+xml")
    assert answer.status_code == 200 and answer.get_json()["conforms"] is True, answer.data[:500]


def test_malformed_xml_names_line_and_column():
    with pytest.raises(ingest.InputError, match="line 1, column"):
        ingest.parse(b"<rdf:RDF <", "rdfxml")


# -- JSON nested deeper than the stack ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/services", "/validate", "/validate?kind=product", "/match"])
@pytest.mark.parametrize("media_type", ["application/json", "application/ld+json"])
@pytest.mark.parametrize("depth", [ingest.MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_a_400(app, client, path, media_type, depth):
    answer = problem(client.post(path, data=nested_json(depth), content_type=media_type, headers=auth(app)))
    assert answer["status"] == 400 and "nested too deeply" in answer["detail"]


def test_deep_arrays_and_huge_numbers_are_input_errors():
    with pytest.raises(ingest.InputError, match="nested too deeply"):
        ingest.parse_json(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ingest.InputError, match="malformed JSON"):
        ingest.parse_json(b"1" * 5000)  # more digits than Python converts


def test_remote_contexts_are_found_at_any_depth_allowed():
    document = {"@context": {"@vocab": "https://example.org/"}, "a": {"b": {"@context": ["https://evil.example/"]}}}
    with pytest.raises(ingest.InputError, match="never fetched"):
        ingest.refuse_unsafe_rdf(json.dumps(document).encode(), "jsonld")


# -- names: resolved and suggested up to a cap -------------------------------------------------------------------

def product(**changes) -> dict:
    return {"name": "bracket", "material": "AlSi10Mg", "shape": "prismatic", "quantity": 10,
            "envelope_mm": [100, 60, 20], **changes}


@pytest.mark.parametrize("path", ["/match", "/validate?kind=product"])
def test_thousands_of_unknown_names_are_reported_up_to_a_cap(client, path):
    names = [f"unknown finish {number}" for number in range(10_000)]
    answer = client.post(path, data=json.dumps(product(finish=names)), content_type="application/json")
    document = answer.get_json()
    assert answer.status_code == (422 if path == "/match" else 200)
    violations = [v for v in document["violations"] if v["component"] == "name resolution"]
    assert len(violations) == ingest.MAX_REPORTED_UNKNOWN + 1
    more = 10_000 - ingest.MAX_REPORTED_UNKNOWN
    assert any(f"{more} more name(s) are unknown" in v["message"] for v in violations)


def test_only_the_first_unknown_names_get_suggestions(client):
    names = [f"powder coatin{'g' * number}x" for number in range(ingest.MAX_SUGGESTED_UNKNOWN + 5)]
    document = client.post("/validate?kind=product", data=json.dumps(product(finish=names)),
                           content_type="application/json").get_json()
    messages = [v["message"] for v in document["violations"] if v["component"] == "name resolution"]
    suggested = [m for m in messages if "closest known" in m]
    assert len(messages) == len(names) and len(suggested) == ingest.MAX_SUGGESTED_UNKNOWN


# -- weights name criteria of the ontology -----------------------------------------------------------------------

def ontology_criteria() -> list[str]:
    graph = knowledge.ontology_graph()
    return sorted(str(name) for criterion in graph.subjects(RDF.type, MAAS.MatchCriterion)
                  for name in graph.objects(criterion, SKOS.notation))


@pytest.mark.parametrize("key", ["lead time", "bogus", "LEAD_TIME", "price:", "https://example.org/price", "@id",
                                 "a%20b", ""])
def test_a_weight_that_names_no_criterion_is_refused_with_the_valid_names(client, key):
    answer = client.post("/match", data=json.dumps(product(weights={key: 0.5, "price": 0.5})),
                         content_type="application/json")
    document = problem(answer)
    assert document["status"] == 422
    refused = [v for v in document["violations"] if v["value"] == key]
    assert len(refused) == 1, document["violations"]
    assert ", ".join(ontology_criteria()) in refused[0]["message"]


def test_every_criterion_of_the_ontology_is_a_valid_weight(client):
    weights = {name: 1 for name in ontology_criteria()}
    answer = client.post("/validate?kind=product", data=json.dumps(product(weights=weights)),
                         content_type="application/json")
    assert answer.get_json()["conforms"] is True, answer.get_json()


# -- bad paging and names ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["page=1000000000000000000000", "page=0", "per_page=-1", "page=1e3",
                                   "page=" + "9" * 5000, "per_page=" + "9" * 5000])
def test_impossible_pages_are_400(client, query):
    assert problem(client.get(f"/services?{query}"))["status"] == 400


def test_a_huge_page_size_is_capped(app, client):
    answer = client.get("/services?per_page=1000000000000000000000")
    assert answer.status_code == 200 and answer.get_json()["per_page"] == app.config["MAX_PAGE_SIZE"]


@pytest.mark.parametrize("name", ["BAD..name", "a" * 100, "x y"])
def test_removing_an_extension_that_cannot_exist_is_404(app, client, name):
    answer = client.delete(f"/ontology/extensions/{urllib.parse.quote(name)}", headers=auth(app, "admin"))
    assert problem(answer)["status"] == 404


# -- problems quote excerpts only --------------------------------------------------------------------------------

def test_a_problem_quotes_only_an_excerpt_of_the_input(app, client):
    garbage = b"<https://example.org/a> <https://example.org/b> \"" + b"x" * 150_000
    answer = problem(client.post("/services", data=garbage, content_type="application/n-triples", headers=auth(app)))
    assert answer["status"] == 400
    assert all(len(value) <= MAX_QUOTED_CHARACTERS + 40 for value in answer.values() if isinstance(value, str))
    long_name = problem(client.post("/match", data=json.dumps(product(material="x" * 100_000)),
                                    content_type="application/json"))
    assert len(json.dumps(long_name)) < 20_000


# -- service URLs address their service --------------------------------------------------------------------------

# IRI path characters (percent signs, "?" and "#" come in the fixed tails below, each as it may occur)
_IRI_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn", "Zs", "Zl", "Zp"),
                                  exclude_characters='<>"{}|\\^`%[]?#'), min_size=1, max_size=20)
_SEGMENTS = st.lists(_IRI_TEXT.map(lambda text: text.replace("/", "")).filter(bool), min_size=1, max_size=4)
IRIS = st.one_of(
    _SEGMENTS.map(lambda parts: ID_BASE + "/".join(parts)),
    st.builds(lambda scheme, host, parts, tail: f"{scheme}://{host}/{'/'.join(parts)}{tail}",
              st.sampled_from(["http", "https"]), st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,5})?", fullmatch=True),
              _SEGMENTS, st.sampled_from(["", "/", "?q=1", "#frag", "%3E", "/a%3Eb", "/..", "/./x"])),
    st.sampled_from([ID_BASE + "service/a%3Eb", ID_BASE + "service/a%20b",
                     ID_BASE + "https://evil.example/x", ID_BASE + "urn:x", ID_BASE + "a//b", ID_BASE + "a/../b",
                     "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "https://example.org/ü/ß?x=%41#y"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(iri=IRIS, method=st.sampled_from(["GET", "PUT", "DELETE"]))
def test_the_url_of_a_service_routes_back_to_its_iri(app, iri, method):
    try:
        ox.NamedNode(iri)
    except ValueError:
        assume(False)
    # GET .../private is the service's private values: an IRI ending so is read only as a whole (by DELETE, PUT)
    assume(not (method == "GET" and iri.endswith("/private")))
    with app.test_request_context():
        url = service_url(iri)
    # the test request context percent-decodes the path as the WSGI server does, then routes it
    with app.test_request_context(url, method=method):
        from flask import request

        assert request.url_rule is not None and request.url_rule.rule == "/services/<path:service_id>", url
        assert service_iri(request.view_args["service_id"]) == iri


# -- the real service ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("limits-server"), providers=0) as running:
        yield running


def bearer(server) -> dict:
    return {"Authorization": f"Bearer {server['provider']}"}


@pytest.mark.slow
def test_entity_bombs_are_refused_and_health_keeps_answering(server):
    base = server["base"]

    def bomb(path):
        return requests.post(f"{base}{path}", data=ENTITY_BOMB, timeout=60,
                             headers={"Content-Type": "application/rdf+xml", **bearer(server)})

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(bomb, ["/validate", "/services", "/validate", "/services", "/match", "/validate"]))
        health = requests.get(f"{base}/health", timeout=60)
    assert [a.status_code for a in answers] == [400] * 6
    assert all("DOCTYPE" in a.json()["detail"] for a in answers)
    assert health.status_code == 200


def chunked(data: bytes, size: int = 256 * 1024):
    """The body as a generator: requests sends it with Transfer-Encoding: chunked and no Content-Length."""
    stream = io.BytesIO(data)
    while chunk := stream.read(size):
        yield chunk


def service_ntriples(name: str) -> bytes:
    return as_rdf(weber_document(id=f"{ID_BASE}service/{name}", name=name), ox.RdfFormat.N_TRIPLES)


@pytest.mark.slow
@pytest.mark.parametrize("send", ["chunked", "content-length"])
def test_a_body_over_the_limit_is_413_and_writes_nothing(server, send):
    base, limit = server["base"], 10 * 1024 * 1024  # the default MAAS_KG_MAX_BODY_BYTES
    first, last = service_ntriples(f"first-{send}"), service_ntriples(f"last-{send}")
    padding = b"# padding\n" * ((limit - len(first)) // 10 + 50_000)  # N-Triples comments: 10.49 MB in all
    body = first + padding + last
    assert len(body) > limit
    answer = requests.post(f"{base}/services", data=chunked(body) if send == "chunked" else body, timeout=120,
                           headers={"Content-Type": "application/n-triples", **bearer(server)})
    assert answer.status_code == 413 and answer.headers["Content-Type"] == "application/problem+json"
    assert f"{limit:,} bytes" in answer.json()["detail"]
    for name in (f"first-{send}", f"last-{send}"):
        assert requests.get(f"{base}/services/service/{name}", timeout=60).status_code == 404
    assert requests.get(f"{base}/health", timeout=60).status_code == 200


@pytest.mark.slow
def test_a_chunked_body_within_the_limit_is_read_whole(server):
    base = server["base"]
    first, last = service_ntriples("chunked-first"), service_ntriples("chunked-last")
    body = first + b"# padding\n" * 200_000 + last  # 2 MB, in 256 KB chunks
    answer = requests.post(f"{base}/services", data=chunked(body), timeout=120,
                           headers={"Content-Type": "application/n-triples", **bearer(server)})
    assert answer.status_code == 201, answer.text[:500]
    assert {p["service"] for p in answer.json()["published"]} == {f"{ID_BASE}service/chunked-first",
                                                                  f"{ID_BASE}service/chunked-last"}


@pytest.mark.slow
def test_garbage_over_the_limit_is_413_without_an_echo(server):
    answer = requests.post(f"{server['base']}/validate", data=chunked(b"\x01garbage " * 1_300_000), timeout=120,
                           headers={"Content-Type": "application/n-triples"})
    assert answer.status_code == 413 and len(answer.content) < 2_000


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/services", "/validate", "/match"])
def test_deep_json_is_400_on_the_real_service(server, path):
    answer = requests.post(f"{server['base']}{path}", data=nested_json(100_000), timeout=60,
                           headers={"Content-Type": "application/ld+json", **bearer(server)})
    assert answer.status_code == 400 and "nested too deeply" in answer.json()["detail"]


@pytest.mark.slow
@pytest.mark.parametrize("tail", ["a%3Eb", "a%25b", "caf\u00e9", "x/y%2Fz"])
def test_a_published_service_is_read_and_withdrawn_at_its_url(server, tail):
    base, iri = server["base"], f"{ID_BASE}service/{tail}"
    created = requests.post(f"{base}/services", data=json.dumps(weber_document(id=iri)).encode(), timeout=60,
                            headers={"Content-Type": "application/json", **bearer(server)})
    assert created.status_code == 201, created.text[:500]
    url = created.json()["published"][0]["url"]
    assert created.headers["Location"] == url
    read = requests.get(base + url, timeout=60)
    assert read.status_code == 200 and read.json()["service"] == iri
    listed = requests.get(f"{base}/services", params={"per_page": 500}, timeout=60).json()["items"]
    assert [item["url"] for item in listed if item["service"] == iri] == [url]
    withdrawn = requests.delete(base + url, headers=bearer(server), timeout=60)
    assert withdrawn.status_code == 200 and withdrawn.json()["service"] == iri
    assert requests.get(base + url, timeout=60).status_code == 404
