"""The catalogue's requests (issue 21): GET /services and the /catalogue page answer bad ``near`` / ``radius_km``
values with a problem (API) or an error next to the field (web page), a store that breaks off its answer with 503
or a message on the page (it was a 500), and list the same from the match index as from the rules in the store."""

from __future__ import annotations

import json
import re

import pytest

from api import create_app
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue-requests")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    store = app.extensions["maas_kg"].catalogue
    assert all(r.published for r in catalogue.publish(store, json.dumps(list(generate_services(8, 2))).encode(),
                                                      "json"))
    return app


@pytest.mark.parametrize("query, parameter", [
    ({"near": "48.14;11.58"}, "near"), ({"near": "48.14"}, "near"), ({"near": "91,11"}, "near"),
    ({"near": "nan,0"}, "near"), ({"near": "48.14,11.58,3"}, "near"), ({"near": ""}, "near"),
    ({"near": "48.14,11.58", "radius_km": "-1"}, "radius_km"), ({"near": "48.14,11.58", "radius_km": "far"}, "radius_km"),
    ({"near": "48.14,11.58", "radius_km": "nan"}, "radius_km")])
def test_bad_places_are_a_problem_naming_the_parameter(app, query, parameter):
    response = app.test_client().get("/services", query_string=query)
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["parameter"] == parameter and parameter in problem["detail"]
    if not query["near"]:
        return  # on the page, an empty field is no filter
    page = app.test_client().get("/catalogue", query_string=query)
    assert page.status_code == 200
    error = re.search(rf'<p class="error" id="e-{parameter}" role="alert"\s*>([^<]+)</p>', page.get_data(as_text=True))
    assert error and parameter.split("_")[0] in error.group(1)


def test_near_lists_the_same_from_the_index_as_from_the_rules(app):
    client = app.test_client()
    query = {"near": "48.14,11.58", "radius_km": "600", "per_page": 500}
    served = client.get("/services", query_string=query)
    app.config["CATALOGUE_ENGINE"] = "sparql"
    try:
        reference = client.get("/services", query_string=query)
    finally:
        app.config.pop("CATALOGUE_ENGINE")
    assert served.status_code == reference.status_code == 200
    assert served.get_json() == reference.get_json() and served.get_json()["items"]


def test_a_broken_off_answer_is_503_and_a_message_on_the_page(app, monkeypatch):
    """An Oxigraph server that reaches its timeout after it began answering ends the body with its error text:
    the result parser's SyntaxError was a raw 500 for near= at 100,000 services."""
    store = app.extensions["maas_kg"].catalogue
    select = store.select

    def broken_off(sparql, **kwargs):
        if "maas:listedProcess" in sparql or "?offered" in sparql:  # the listing's, facets' and trees' rules
            raise SyntaxError("Parser error at line 1 column 95: Unexpected char: 'T'")
        return select(sparql, **kwargs)

    app.config["CATALOGUE_ENGINE"] = "sparql"
    try:
        monkeypatch.setattr(store, "select", broken_off)
        response = app.test_client().get("/services", query_string={"near": "48.14,11.58", "radius_km": "200"})
        assert response.status_code == 503 and "Retry-After" in response.headers
        page = app.test_client().get("/catalogue", query_string={"near": "48.14,11.58", "radius_km": "200"})
        assert page.status_code == 200 and 'id="e-store"' in page.get_data(as_text=True)
    finally:
        app.config.pop("CATALOGUE_ENGINE")
