"""The Graph Store Protocol at /graph-store on the real service (`maas-kg serve`): graphs created by POST to the store
itself, multipart RDF merges, HEAD as GET without the body, empty graphs that exist, and ``?graph=`` checked as an
IRI; every refusal is a problem document and leaves the store as it was."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import running_service

pytestmark = pytest.mark.slow

GRAPH = "http://example.org/graph-store-test/"
P = "<http://example.org/p>"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("graph-store"), providers=0) as running:
        yield running


def call(service, method: str, target: str = "", **kwargs) -> requests.Response:
    """A request to the Graph Store (``target``: '' , '?graph=...' or a URL) with the administrator's key."""
    url = target if target.startswith("http") else f"{service['base']}/graph-store{target}"
    headers = {"Authorization": f"Bearer {service['admin']}", **kwargs.pop("headers", {})}
    return requests.request(method, url, headers=headers, timeout=30, **kwargs)


def graph_url(name: str) -> str:
    return "?graph=" + requests.utils.quote(GRAPH + name, safe="")


def triples(response: requests.Response) -> list[ox.Triple]:
    assert response.status_code == 200, response.text
    return [q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)]


def read(service, target: str) -> list[ox.Triple]:
    return triples(call(service, "GET", target, headers={"Accept": "application/n-triples"}))


def assert_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.json()


def multipart(*parts: tuple[dict[str, str], str], boundary: str = "b0undary") -> dict:
    """``requests`` keyword arguments for a multipart/form-data body of ``parts`` (headers, content)."""
    body = "".join(f"--{boundary}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + f"\r\n{content}\r\n"
                   for headers, content in parts) + f"--{boundary}--\r\n"
    return {"data": body.encode("utf-8"), "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"}}


def part(name: str, *, filename: str | None = None, content_type: str | None = None) -> dict[str, str]:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return {"Content-Disposition": disposition, **({"Content-Type": content_type} if content_type else {})}


# -- item 19: empty graphs, HEAD, creation, multipart ---------------------------------------------------------------

def test_an_empty_put_creates_an_empty_graph_that_get_finds(service):
    target = graph_url("empty")
    assert call(service, "PUT", target).status_code == 201  # no body, no Content-Type
    assert read(service, target) == []
    assert call(service, "HEAD", target).status_code == 200
    assert call(service, "PUT", target, data=b"", headers={"Content-Type": "text/turtle"}).status_code == 204
    assert call(service, "DELETE", target).status_code == 204
    assert_problem(call(service, "GET", target), 404)
    assert call(service, "HEAD", target).status_code == 404


@pytest.mark.parametrize("media_type", ["text/turtle", "application/n-triples", "application/rdf+xml",
                                        "application/ld+json"])
def test_head_carries_the_headers_get_would(service, media_type):
    target = graph_url("head")
    call(service, "PUT", target, data=f'<http://example.org/s> {P} "a value" .'.encode(),
         headers={"Content-Type": "text/turtle"})
    got = call(service, "GET", target, headers={"Accept": media_type})
    head = call(service, "HEAD", target, headers={"Accept": media_type})
    assert head.status_code == got.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert int(head.headers["Content-Length"]) == len(got.content) > 0


def test_post_to_the_store_itself_creates_a_graph_at_a_new_url(service):
    created = [call(service, "POST", data=f'<http://example.org/s> {P} "{n}" .'.encode(),
                    headers={"Content-Type": "text/turtle"}) for n in (1, 2)]
    assert [r.status_code for r in created] == [201, 201]
    first, second = (r.headers["Location"] for r in created)
    assert first != second and first.startswith(f"{service['base']}/graph-store/")
    # the Location is the graph's IRI and its URL: served directly and through ?graph=
    assert [t.object.value for t in read(service, first)] == ["1"]
    assert read(service, "?graph=" + requests.utils.quote(first, safe="")) == read(service, first)
    assert call(service, "DELETE", first).status_code == 204
    assert_problem(call(service, "GET", first), 404)


def test_a_multipart_post_is_an_rdf_merge_of_its_parts(service):
    target = graph_url("merged")
    call(service, "PUT", target, data=f"_:b {P} 0 .".encode(), headers={"Content-Type": "text/turtle"})
    jsonld = json.dumps({"@id": "_:b", "http://example.org/p": 3})
    response = call(service, "POST", target, **multipart(
        (part("by-type", content_type="text/turtle; charset=utf-8"), f"_:b {P} 1 ."),
        (part("by-name", filename="two.nt", content_type="application/octet-stream"), f'_:b {P} "2" .'),
        (part("json", filename="three.jsonld"), jsonld)))
    assert response.status_code == 204, response.text
    merged = read(service, target)
    assert sorted(t.object.value for t in merged) == ["0", "1", "2", "3"]
    # each document's _:b is its own blank node
    assert len({t.subject for t in merged}) == 4


@pytest.mark.parametrize("parts, status", [
    ([(part("good", filename="a.ttl"), f"<http://example.org/new> {P} 1 ."),
      (part("bad", filename="b.ttl"), "<http://example.org/s> <p")], 400),
    ([(part("good", filename="a.ttl"), f"<http://example.org/new> {P} 1 ."),
      (part("image", filename="c.png", content_type="image/png"), "not rdf")], 415),
    ([(part("good", content_type="text/turtle"), f"<http://example.org/new> {P} 1 .")] * 101, 413),
    ([(part("dataset", filename="d.nq"), f"<http://example.org/new> {P} 1 <http://example.org/g> .")], 415),
], ids=["malformed part", "unknown type", "too many parts", "a dataset"])
def test_a_refused_multipart_post_changes_nothing(service, parts, status):
    target = graph_url("kept")
    call(service, "PUT", target, data=f"<http://example.org/old> {P} 0 .".encode(),
         headers={"Content-Type": "text/turtle"})
    detail = assert_problem(call(service, "POST", target, **multipart(*parts)), status)["detail"]
    assert "Traceback" not in detail
    assert [t.subject.value for t in read(service, target)] == ["http://example.org/old"]


@pytest.mark.parametrize("body, content_type", [
    (b"--b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno closing line", "multipart/form-data; "
     "boundary=b0undary"),
    (b"no parts at all", "multipart/form-data; boundary=b0undary"),
    (b"--x\r\n\r\n--x--", "multipart/form-data"),
], ids=["unterminated", "no parts", "no boundary"])
def test_malformed_multipart_bodies_are_400(service, body, content_type):
    assert_problem(call(service, "POST", graph_url("kept"), data=body, headers={"Content-Type": content_type}), 400)


# -- item 12: ?graph= is an IRI, never pasted into SPARQL unchecked ----------------------------------------------

@pytest.mark.parametrize("value", [
    "http://example.org/a>b",
    "http://example.org/a b",
    "http://example.org/g> { ?s ?p ?o } } ; DROP ALL ; INSERT DATA { GRAPH <http://example.org/x",
    "relative/graph",
    "",
    "http://example.org/{x}",
    "http://example.org/\"",
])
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "POST", "DELETE"])
def test_a_graph_value_that_is_not_an_iri_is_400(service, value, method):
    response = call(service, method, "?graph=" + requests.utils.quote(value, safe=""),
                    data=f"<http://example.org/s> {P} 1 .".encode(), headers={"Content-Type": "text/turtle"})
    assert response.status_code == 400
    if method != "HEAD":
        assert "absolute IRI" in assert_problem(response, 400)["detail"]
    # nothing was dropped: the ontology the service loaded is still there
    assert requests.get(f"{service['base']}/sparql", timeout=30, params={
        "query": "ASK { GRAPH ?g { ?c a <http://www.w3.org/2002/07/owl#Class> } }"}).json()["boolean"] is True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(st.characters(exclude_categories=("Cs",)), max_size=40).map(lambda s: "http://example.org/" + s))
def test_graph_values_are_400_exactly_when_they_are_not_iris(service, value):
    """Any ?graph value: 404 for an IRI the store has no graph of, 400 for anything else, never another status."""
    try:
        ox.NamedNode(value)
        expected = 404
    except ValueError:
        expected = 400
    assert_problem(call(service, "GET", "?graph=" + requests.utils.quote(value, safe="")), expected)


def test_a_graph_url_takes_no_graph_parameter(service):
    assert_problem(call(service, "GET", f"{service['base']}/graph-store/some/graph?default"), 400)
    assert_problem(call(service, "GET", "?graph=http://example.org/a&graph=http://example.org/b"), 400)


# -- bodies the ingest checks refuse (issue items 2 and 12) ------------------------------------------------------

@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"http://example.org/p": ', "}")],
                         ids=["arrays", "objects"])
@pytest.mark.parametrize("depth", [20_000, 100_000])
def test_deeply_nested_json_ld_is_400(service, opening, closing, depth):
    """pyoxigraph 0.5's JSON-LD parser overflows its stack on 20,000 nested objects (the worker dies without an
    answer): the depth must be refused before it parses."""
    nested = opening * depth + "1" + closing * depth
    assert_problem(call(service, "PUT", graph_url("deep"), data=nested.encode(),
                        headers={"Content-Type": "application/ld+json"}), 400)
    assert requests.get(f"{service['base']}/health", timeout=30).status_code == 200


def test_rdf_xml_with_entity_declarations_is_400(service):
    laughs = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:p="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><p:p>&b;</p:p></rdf:Description>
</rdf:RDF>"""
    assert_problem(call(service, "PUT", graph_url("laughs"), data=laughs.encode(),
                        headers={"Content-Type": "application/rdf+xml"}), 400)
    assert_problem(call(service, "GET", graph_url("laughs")), 404)


def test_remote_json_ld_contexts_are_never_fetched(service, listener):
    document = {"@context": f"http://127.0.0.1:{listener.port}/context.jsonld", "@id": "http://example.org/s",
                "p": 1}
    response = call(service, "POST", graph_url("remote"), **multipart(
        (part("doc", filename="doc.jsonld"), json.dumps(document))))
    assert "never fetched" in assert_problem(response, 400)["detail"]
    assert listener.connections == 0


RDF_PIECES = st.sampled_from([
    "@prefix ex: <http://example.org/> .", "<http://example.org/s>", "ex:p", "ex:o", "a", '"x"', '"ü"@de', "1e400",
    "-1", "[", "]", "(", ")", ";", ",", ".", "_:b", "<bad iri>", "<relative>", '"""', "'", "\\u0000", "{", "}",
    '{"@id": "_:b", "http://example.org/p": 1}', "<rdf:RDF>", "<!DOCTYPE x>", "^^<http://www.w3.org/2001/XMLSchema#date>"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(RDF_PIECES, max_size=25), media_type=st.sampled_from(
    ["text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json", "multipart"]),
    method=st.sampled_from(["PUT", "POST"]))
def test_a_write_either_applies_or_changes_nothing(service, pieces, media_type, method):
    """Whatever the body: 201/204 and the graph holds what was sent, or a 4xx problem and the graph is as before."""
    target = graph_url("property")
    call(service, "PUT", target, data=f"<http://example.org/before> {P} 0 .".encode(),
         headers={"Content-Type": "text/turtle"})
    before = read(service, target)
    text = " ".join(pieces)
    if media_type == "multipart":
        kwargs = multipart((part("a", filename="a.ttl"), f"<http://example.org/first> {P} 1 ."),
                           (part("b", filename="b.ttl"), text))
    else:
        kwargs = {"data": text.encode("utf-8"), "headers": {"Content-Type": media_type}}
    response = call(service, method, target, **kwargs)
    if response.status_code in (201, 204):
        after = read(service, target)
        assert (method == "POST") == all(t in after for t in before)
    else:
        assert_problem(response, response.status_code)
        assert 400 <= response.status_code < 500
        assert set(read(service, target)) == set(before)
