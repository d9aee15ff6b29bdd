"""No input produces a 500: schemathesis drives every operation of /openapi.json with generated requests, and
Hypothesis throws arbitrary RDF-ish bodies at the endpoints that parse them."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import create_app
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services

_FOLDER = Path(tempfile.mkdtemp(prefix="maas-kg-fuzz-"))
APP = create_app({"STORE": "memory", "KEYS_FILE": str(_FOLDER / "keys.sqlite"), "TESTING": True,
                  "SPARQL_TIMEOUT": 2.0, "SPARQL_RESULT_LIMIT": 200})
catalogue.publish(APP.extensions["maas_kg"].catalogue, json.dumps(list(generate_services(4, 5))).encode(), "json")
PROVIDER_KEY = APP.extensions["maas_kg"].keys.create(provider="https://w3id.org/maas-kg/id/provider/fuzz")[0]
ADMIN_KEY = APP.extensions["maas_kg"].keys.create(admin=True)[0]
BUYER_KEY = APP.extensions["maas_kg"].keys.create(buyer="https://example.org/buyer/fuzz")[0]
#: stage-3 operations: fuzzed with a buyer's key (requests for quotation are the buyer's; the provider's moves parse
#: their body before they refuse a buyer)
BUYER_PATHS = ("/rfqs", "/inquiries", "/orders", "/evaluations")
#: operations only administrators may call: fuzzed with an administrator's key, so they parse their input too
ADMIN_PATHS = ("/ontology/extensions", "/graph-store", "/sparql/update")



@schemathesis.serializer("application/n-triples", "application/sparql-query", "application/sparql-update",
                         "text/turtle", "application/rdf+xml")
def _text_body(ctx, value) -> bytes:
    """Bodies of the text media types: whatever was generated, as UTF-8 text."""
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8")


schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case):
    # with a provider's key, or an administrator's for the administrators' operations, so that every write
    # operation gets past authentication and parses its body
    key = ADMIN_KEY if case.path.startswith(ADMIN_PATHS) else BUYER_KEY if case.path.startswith(BUYER_PATHS) \
        else PROVIDER_KEY
    response = case.call(headers={"Authorization": f"Bearer {key}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])


TURTLE_PIECES = st.sampled_from([
    "@prefix maas: <https://w3id.org/maas-kg/ns#> .", "@prefix proc: <https://w3id.org/maas-kg/process#> .",
    "<https://w3id.org/maas-kg/id/service/f>", "a", "maas:ManufacturingService", "maas:processType", "proc:Turning",
    "maas:name", '"x"', '"ü"@de', "maas:leadTimeDays", "-1", "3.5", "1e400", "[", "]", "(", ")", ";", ",", ".",
    "_:b", "maas:providedBy", "<bad iri>", '"""', "'", "^^<http://www.w3.org/2001/XMLSchema#date>", "\\u0000"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "name", "provider", "process", "materials", "envelope_mm", "batch_size", "price",
                         "@context", "@id", "@type", "quantity", "material", "shape", "delivery", "x"]),
        children, max_size=6),
    max_leaves=20)


@given(body=st.lists(TURTLE_PIECES, max_size=30).map(" ".join) | st.binary(max_size=200),
       media_type=st.sampled_from(["text/turtle", "application/n-triples", "application/rdf+xml",
                                   "application/ld+json"]))
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_arbitrary_rdf_bodies_never_get_a_server_error(body, media_type):
    client = APP.test_client()
    data = body.encode("utf-8") if isinstance(body, str) else body
    headers = {"Authorization": f"Bearer {PROVIDER_KEY}"}
    for path in ("/services", "/match"):
        response = client.post(path, data=data, content_type=media_type, headers=headers)
        assert response.status_code < 500, (path, response.status_code, response.get_data(as_text=True)[:300])


@given(document=JSON_VALUES)
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_arbitrary_json_bodies_never_get_a_server_error(document):
    client = APP.test_client()
    headers = {"Authorization": f"Bearer {PROVIDER_KEY}"}
    data = json.dumps(document, allow_nan=True)
    for path in ("/services", "/match"):
        response = client.post(path, data=data, content_type="application/json", headers=headers)
        assert response.status_code < 500, (path, response.status_code, response.get_data(as_text=True)[:300])


def _documented_operations() -> set[tuple[str, str]]:
    document = APP.test_client().get("/openapi.json").get_json()
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item
            if method in ("get", "put", "post", "delete", "patch")}


def test_the_openapi_document_lists_exactly_the_api_routes():
    """Every route of the API's blueprints is in /openapi.json and every operation there is a route (the web pages,
    the docs and static files are not part of the API)."""
    import re

    not_api = ("web", "docs", "static")
    routes = set()
    for rule in APP.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in not_api and rule.rule != "/openapi.json":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        routes |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == _documented_operations()
