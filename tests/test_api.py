"""The REST API in-process (Flask's test client, a real in-memory store, a real key file): services, match,
ontology, docs, access control and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib

from api import create_app
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services

DATA = Path(__file__).parent / "data"
PRODUCTS = Path(__file__).parents[1] / "examples" / "products"
WEBER = "https://w3id.org/maas-kg/id/service/weber-5axis"
WEBER_PROVIDER = "https://w3id.org/maas-kg/id/provider/weber"
OTHER_PROVIDER = "https://w3id.org/maas-kg/id/provider/somebody-else"
WEBER_URL = "/services/service/weber-5axis"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True,
                      "MAX_CONTENT_LENGTH": 200_000, "SPARQL_RESULT_LIMIT": 50})
    store = app.extensions["maas_kg"].catalogue
    demo = json.dumps(list(generate_services(12, 1))).encode()
    assert all(r.published for r in catalogue.publish(store, demo, "json"))
    keys = app.extensions["maas_kg"].keys
    app.test_keys = {"weber": keys.create(provider=WEBER_PROVIDER)[0], "other": keys.create(provider=OTHER_PROVIDER)[0],
                     "admin": keys.create(admin=True)[0]}
    keys.grant(WEBER_PROVIDER, "https://w3id.org/maas-kg/id/service/")  # its test services are named there
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def auth(app, who: str) -> dict:
    return {"Authorization": f"Bearer {app.test_keys[who]}"}


def weber_json(**changes) -> bytes:
    document = json.loads((DATA / "service-weber.json").read_text())
    document.update(changes)
    return json.dumps(document).encode()


def problem(response) -> dict:
    assert response.mimetype == "application/problem+json", response.data[:300]
    return response.get_json()


# -- services ----------------------------------------------------------------------------------------------------

def test_publish_read_replace_and_withdraw_a_service(app, client):
    weber = auth(app, "weber")
    created = client.post("/services", data=weber_json(), content_type="application/json", headers=weber)
    assert created.status_code == 201, created.data
    assert created.headers["Location"] == WEBER_URL
    assert created.get_json()["published"][0]["version"] == 1

    summary = client.get(WEBER_URL).get_json()
    assert summary["service"] == WEBER and summary["version"] == "1" and summary["country"] == "DE"
    assert summary["description"]["@context"]  # compacted with the project's own context
    turtle = client.get(WEBER_URL, headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=turtle.data, format="turtle")
    assert (rdflib.URIRef(WEBER), rdflib.URIRef("https://w3id.org/maas-kg/ns#providedBy"),
            rdflib.URIRef(WEBER_PROVIDER)) in graph
    jsonld = client.get(WEBER_URL, headers={"Accept": "application/ld+json"})
    assert len(rdflib.Graph().parse(data=jsonld.data, format="json-ld")) == len(graph)
    # the full IRI, percent-encoded, names the same service
    assert client.get("/services/https%3A%2F%2Fw3id.org%2Fmaas-kg%2Fid%2Fservice%2Fweber-5axis").status_code == 200

    again = client.post("/services", data=weber_json(), content_type="application/json", headers=weber)
    assert again.status_code == 409 and "PUT" in problem(again)["detail"]

    replaced = client.put(WEBER_URL, data=weber_json(lead_time_days=12), content_type="application/json",
                          headers=weber)
    assert replaced.status_code == 200 and replaced.get_json()["version"] == 2

    withdrawn = client.delete(WEBER_URL, headers=weber)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdrawn_version"] == 2
    assert client.get(WEBER_URL).status_code == 404
    assert client.delete(WEBER_URL, headers=weber).status_code == 404


def test_put_without_id_takes_the_iri_from_the_url_and_creates(app, client):
    document = json.loads(weber_json())
    del document["id"]
    response = client.put("/services/service/weber-put", data=json.dumps(document),
                          content_type="application/json", headers=auth(app, "weber"))
    assert response.status_code == 201 and response.headers["Location"] == "/services/service/weber-put"
    mismatch = client.put("/services/service/another", data=weber_json(id="https://w3id.org/maas-kg/id/service/x"),
                          content_type="application/json", headers=auth(app, "weber"))
    assert mismatch.status_code == 400 and "not https://w3id.org/maas-kg/id/service/another" in problem(mismatch)["detail"]


def test_a_provider_key_changes_only_its_own_services(app, client):
    weber, other = auth(app, "weber"), auth(app, "other")
    service = "/services/service/weber-owned"
    body = weber_json(id="https://w3id.org/maas-kg/id/service/weber-owned")
    assert client.post("/services", data=body, content_type="application/json", headers=weber).status_code == 201

    # another organisation cannot publish as Weber, replace Weber's service, or withdraw it
    stolen = client.post("/services", data=weber_json(id="https://w3id.org/maas-kg/id/service/fake"),
                         content_type="application/json", headers=other)
    assert stolen.status_code == 403
    assert client.get("/services/service/fake").status_code == 404
    hijack = json.loads(body)
    hijack["provider"] = {**hijack["provider"], "id": OTHER_PROVIDER, "name": "Somebody Else"}
    replaced = client.put(service, data=json.dumps(hijack), content_type="application/json", headers=other)
    assert replaced.status_code == 403
    assert client.delete(service, headers=other).status_code == 403
    still = client.get(service).get_json()
    assert still["provider"] == WEBER_PROVIDER and still["version"] == "1"
    # an administrator may
    assert client.delete(service, headers=auth(app, "admin")).status_code == 200


def test_writes_need_a_valid_key(app, client):
    body = weber_json(id="https://w3id.org/maas-kg/id/service/keyless")
    assert problem(client.post("/services", data=body, content_type="application/json"))["status"] == 401
    bad = client.post("/services", data=body, content_type="application/json",
                      headers={"Authorization": "Bearer mkg_0000_nope"})
    assert bad.status_code == 401
    basic = client.post("/services", data=body, content_type="application/json",
                        headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401
    keys = app.extensions["maas_kg"].keys
    token, record = keys.create(provider=WEBER_PROVIDER)
    keys.revoke(record.key_id)
    revoked = client.post("/services", data=body, content_type="application/json",
                          headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401 and "revoked" in problem(revoked)["detail"]
    assert client.get("/services/service/keyless").status_code == 404


def test_invalid_services_get_the_report_and_write_nothing(app, client):
    weber = auth(app, "weber")
    before = client.get("/health").get_json()["services"]
    invalid = weber_json(id="https://w3id.org/maas-kg/id/service/invalid", lead_time_days=-3, batch_size=[50, 10])
    response = client.post("/services", data=invalid, content_type="application/json", headers=weber)
    report = problem(response)
    assert response.status_code == 422 and len(report["violations"]) >= 2
    assert all({"focus", "path", "value", "message"} <= set(v) for v in report["violations"])
    assert any(v["value"] == "-3" or v["value"] == "-3.0" for v in report["violations"])
    # the same report as SHACL, in Turtle, when asked for
    as_shacl = client.post("/services", data=invalid, content_type="application/json",
                           headers={**weber, "Accept": "text/turtle"})
    assert as_shacl.status_code == 422 and as_shacl.mimetype == "text/turtle"
    shacl = rdflib.Graph().parse(data=as_shacl.data, format="turtle")
    SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert (None, rdflib.RDF.type, SH.ValidationReport) in shacl
    assert len(list(shacl.subjects(rdflib.RDF.type, SH.ValidationResult))) == len(report["violations"])
    # a batch with one invalid service writes none of them
    batch = json.dumps([json.loads(weber_json(id="https://w3id.org/maas-kg/id/service/batch-ok")),
                        json.loads(invalid)])
    assert client.post("/services", data=batch, content_type="application/json", headers=weber).status_code == 422
    assert client.get("/services/service/batch-ok").status_code == 404
    assert client.get("/health").get_json()["services"] == before


def test_bad_input_is_400_413_415_or_422_never_500(app, client, listener):
    weber = auth(app, "weber")
    malformed = client.post("/services", data=b"@prefix maas: <https://w3id.org/maas-kg/ns#> .\n<a> maas:name \"x ;\n",
                            content_type="text/turtle", headers=weber)
    assert malformed.status_code == 400 and "line" in problem(malformed)["detail"].lower()
    assert client.post("/services", data=b"{", content_type="application/json", headers=weber).status_code == 400
    assert client.post("/services", data=b"x", content_type="image/png", headers=weber).status_code == 415
    assert client.post("/services", data=b"", content_type="text/turtle", headers=weber).status_code == 400
    big = client.post("/services", data=b"#" * 300_000, content_type="text/turtle", headers=weber)
    assert big.status_code == 413
    latin1 = client.post("/services", data="\"name\": \"Müller\"".encode("latin-1"), content_type="application/json",
                         headers=weber)
    assert latin1.status_code == 400 and "UTF-8" in problem(latin1)["detail"]
    remote = json.dumps({"@context": f"http://127.0.0.1:{listener.port}/context.jsonld", "@id": "http://x",
                         "http://y": 1})
    refused = client.post("/services", data=remote, content_type="application/ld+json", headers=weber)
    assert refused.status_code == 400 and "context" in problem(refused)["detail"]
    nested = json.dumps({"@context": [{"@vocab": "http://x/"}, {"@import": f"http://127.0.0.1:{listener.port}/c"}],
                         "@id": "http://x", "y": 1})
    assert client.post("/match", data=nested, content_type="application/ld+json").status_code == 400
    assert listener.connections == 0  # never fetched
    unknown = client.post("/services", data=weber_json(id="https://w3id.org/maas-kg/id/service/u", process="welding by magic"),
                          content_type="application/json", headers=weber)
    assert unknown.status_code == 422 and "welding" in json.dumps(problem(unknown)).lower()
    assert client.get("/services", query_string={"page": "zero"}).status_code == 400
    assert client.get("/services", query_string={"near": "north"}).status_code == 400
    assert client.get("/services", query_string={"process": "no such process"}).status_code == 400
    assert client.get("/services", query_string={"country": "Germany"}).status_code == 400
    assert client.get(WEBER_URL, headers={"Accept": "image/png"}).status_code in (404, 406)
    assert client.patch(WEBER_URL).status_code == 405
    assert client.get("/no/such/thing").status_code == 404


def test_list_filters_and_pages(app, client):
    everything = []
    url = "/services?per_page=7"
    while url:
        page = client.get(url).get_json()
        everything += page["items"]
        url = page.get("next")
    assert len(everything) == len({s["service"] for s in everything}) == client.get("/health").get_json()["services"]

    milling = client.get("/services", query_string={"process": "milling", "per_page": 500}).get_json()["items"]
    assert milling and all("Milling" in s["processType"] for s in milling)
    german = client.get("/services", query_string={"country": "DE", "per_page": 500}).get_json()["items"]
    assert all(s["country"] == "DE" for s in german)
    certified = client.get("/services", query_string={"certification": "ISO 9001", "per_page": 500}).get_json()["items"]
    assert 0 < len(certified) < len(everything)
    # near: every service within the radius, and widening the radius never loses one
    close = {s["service"] for s in client.get("/services", query_string={
        "near": "48.14,11.58", "radius_km": 400, "per_page": 500}).get_json()["items"]}
    wider = {s["service"] for s in client.get("/services", query_string={
        "near": "48.14,11.58", "radius_km": 1500, "per_page": 500}).get_json()["items"]}
    assert close <= wider and len(wider) > len(close)


# -- match -------------------------------------------------------------------------------------------------------

def test_match_returns_the_output_contract_and_keeps_the_product_private(app, client):
    product = (PRODUCTS / "turned-ground-shaft.json").read_bytes()
    response = client.post("/match?today=2026-11-22&top=3", data=product, content_type="application/json")
    assert response.status_code == 200, response.data[:500]
    document = response.get_json()
    assert document["product"] and document["routes"]
    steps = [s["process"]["label"] for s in document["routes"][0]["steps"]]
    assert len(steps) >= 2
    # the product never reached the catalogue store, so the public endpoint cannot see it
    ask = client.get("/sparql", query_string={
        "query": "ASK { { ?p a <https://w3id.org/maas-kg/ns#Product> } UNION { GRAPH ?g { ?p a <https://w3id.org/maas-kg/ns#Product> } } }"})
    assert ask.get_json()["boolean"] is False
    turtle = client.post("/match?today=2026-11-22", data=product, content_type="application/json",
                         headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle" and len(rdflib.Graph().parse(data=turtle.data, format="turtle")) > 10


def test_match_rejects_invalid_products_with_the_report(app, client):
    document = json.loads((PRODUCTS / "turned-ground-shaft.json").read_text())
    document["quantity"] = -5
    response = client.post("/match", data=json.dumps(document), content_type="application/json")
    assert response.status_code == 422 and problem(response)["violations"]
    assert client.post("/match?k=0", data=b"{}", content_type="application/json").status_code == 400
    assert client.post("/match", data=b"[1,", content_type="application/json").status_code == 400


# -- ontology and docs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept,fmt", [("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                                        ("application/ld+json", "json-ld")])
def test_ontology_by_content_negotiation(client, accept, fmt):
    response = client.get("/ontology/processes", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    graph = rdflib.Graph().parse(data=response.data, format=fmt)
    assert (rdflib.URIRef("https://w3id.org/maas-kg/process#Turning"), rdflib.RDF.type, rdflib.OWL.Class) in graph
    assert client.get("/ontology", headers={"Accept": accept}).status_code == 200


def test_context_docs_and_openapi_work_offline(client):
    assert client.get("/ontology/nope").status_code == 404
    context = client.get("/context.jsonld")
    assert context.mimetype == "application/ld+json" and "@context" in context.get_json()
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and {"/services", "/match", "/sparql", "/graph-store"} <= set(spec["paths"])
    page = client.get("/docs").get_data(as_text=True)
    assert "http" not in page.replace("http-equiv", "")  # no CDN: every asset is served from here
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "docs-init.js"):
        assert client.get(f"/docs/assets/{asset}").status_code == 200
    assert client.get("/docs/assets/../../secrets.txt").status_code == 404


def test_health(client):
    health = client.get("/health").get_json()
    assert health["status"] == "ok" and health["ontology_version"] and health["services"] > 0


# -- what the web pages use ----------------------------------------------------------------------------------------

def test_validate_checks_without_storing_and_names_the_json_field(app, client):
    before = catalogue.statistics(app.extensions["maas_kg"].catalogue)
    headers = {"Content-Type": "application/json"}
    good = client.post("/validate", data=weber_json(id="https://w3id.org/maas-kg/id/service/never-stored"),
                       headers=headers)
    assert good.status_code == 200 and good.get_json() == {"conforms": True, "violations": []}
    bad = client.post("/validate", data=weber_json(lead_time_days=-1, batch_size=[5, 2]), headers=headers).get_json()
    assert bad["conforms"] is False
    fields = {v["field"] for v in bad["violations"]}
    assert {"lead_time_days", "batch_size"} <= fields
    report = client.post("/validate", data=weber_json(lead_time_days=-1),
                         headers={**headers, "Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=report.data, format="turtle")
    assert (None, rdflib.URIRef("http://www.w3.org/ns/shacl#conforms"), rdflib.Literal(False)) in graph
    product = client.post("/validate?kind=product", data=(PRODUCTS / "milled-bracket.json").read_bytes(),
                          headers=headers)
    assert product.get_json()["conforms"] is True
    assert problem(client.post("/validate?kind=machine", data=b"{}", headers=headers))["status"] == 400
    assert problem(client.post("/validate", data=b"@prefix x", headers={"Content-Type": "text/turtle"}))["status"] == 400
    assert catalogue.statistics(app.extensions["maas_kg"].catalogue) == before


def test_download_formats_for_links(client):
    listed = client.get("/services?per_page=1").get_json()["items"][0]
    url = listed["url"] if "url" in listed else "/services/" + listed["service"].split("/maas-kg/id/", 1)[1]
    turtle = client.get(url + "?format=turtle")
    assert turtle.mimetype == "text/turtle" and "attachment" in turtle.headers["Content-Disposition"]
    assert len(rdflib.Graph().parse(data=turtle.data, format="turtle")) > 10
    assert client.get(url + "?format=jsonld").mimetype == "application/ld+json"
    assert problem(client.get(url + "?format=docx"))["status"] == 400
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/maas-kg/ns#ManufacturingService> } LIMIT 2"
    csv = client.get("/sparql", query_string={"query": query, "format": "csv"})
    assert csv.mimetype == "text/csv" and csv.data.decode().splitlines()[0].strip() == "s"
    wrong = client.get("/sparql", query_string={"query": query, "format": "turtle"})
    assert problem(wrong)["status"] == 400 and "csv" in problem(wrong)["detail"]


def test_background_threads_start_once_every_route_is_compiled(tmp_path, monkeypatch):
    # werkzeug compiles routes with `ast` and the index warm-up parses numpy headers with `ast`: in parallel, CPython
    # 3.11 fails a worker's boot ("AST constructor recursion depth mismatch"), so no thread may start before
    from api import state

    seen = []
    monkeypatch.setattr(state, "start_background", lambda app: seen.append(len(list(app.url_map.iter_rules()))))
    app = create_app({"STORE": "memory", "KEYS_FILE": str(tmp_path / "keys.sqlite"), "TESTING": True,
                      "WARM_MATCH_INDEX": True, "SEND_WEBHOOKS": True})
    assert seen == [len(list(app.url_map.iter_rules()))]
    assert seen[0] > 50
