"""Provider-private values (properties marked maas:visibility maas:ProviderPrivate) never reach the public catalogue
or its SPARQL endpoint; only the provider's own keys (and administrators) read them back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api import create_app
from maas_kg import catalogue
from maas_kg.catalogue.private_data import PrivateStore, private_properties
from maas_kg.cli import main
from maas_kg.knowledge.extensions import add_extension
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import open_store

DATA = Path(__file__).parent / "data"
WEBER = "https://w3id.org/maas-kg/id/service/weber-5axis"
WEBER_URL = "/services/service/weber-5axis"
SECRET_NOTE = "secret-note-7f3a: do not quote below 55 EUR/h"
PRIVATE = {"internal_cost_rate": 48.75, "capacity_utilisation": 0.72, "internal_note": SECRET_NOTE}


def weber(**changes) -> bytes:
    document = json.loads((DATA / "service-weber.json").read_text())
    document.update(changes)
    return json.dumps(document).encode()


@pytest.fixture
def app(tmp_path):
    app = create_app({"STORE": "memory", "KEYS_FILE": str(tmp_path / "keys.sqlite"), "TESTING": True})
    keys = app.extensions["maas_kg"].keys
    app.test_keys = {"weber": keys.create(provider="https://w3id.org/maas-kg/id/provider/weber")[0],
                     "other": keys.create(provider="https://w3id.org/maas-kg/id/provider/other")[0],
                     "admin": keys.create(admin=True)[0]}
    keys.grant("https://w3id.org/maas-kg/id/provider/weber", "https://w3id.org/maas-kg/id/service/")
    return app


def auth(app, who: str) -> dict:
    return {"Authorization": f"Bearer {app.test_keys[who]}"}


def public_mentions(client, text: str) -> bool:
    query = f'ASK {{ {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), "{text}")) }} UNION {{ GRAPH ?g {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), "{text}")) }} }} }}'
    return client.get("/sparql", query_string={"query": query}).get_json()["boolean"]


def test_the_ontology_marks_the_private_properties(app):
    assert private_properties(app.extensions["maas_kg"].catalogue) == {
        "https://w3id.org/maas-kg/ns#internalCostRate", "https://w3id.org/maas-kg/ns#capacityUtilisation",
        "https://w3id.org/maas-kg/ns#internalNote"}


def test_private_values_stay_out_of_the_public_catalogue_and_only_the_owner_reads_them(app, tmp_path):
    client = app.test_client()
    created = client.post("/services", data=weber(**PRIVATE),
                          headers={**auth(app, "weber"), "Content-Type": "application/json"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["published"][0]["private_values"] == 3
    # not in the public description, not anywhere the public endpoint reads
    described = client.get(WEBER_URL).get_json()
    described["description"].pop("@context", None)  # the context names every field of the format
    text = json.dumps(described)
    assert "internal" not in text and "utilisation" not in text and "48.75" not in text
    assert not public_mentions(client, "secret-note-7f3a")
    for prop in ("internalCostRate", "capacityUtilisation", "internalNote"):
        ask = f"ASK {{ GRAPH ?g {{ ?s <https://w3id.org/maas-kg/ns#{prop}> ?o }} }}"
        assert client.get("/sparql", query_string={"query": ask}).get_json()["boolean"] is False
    turtle = client.get(WEBER_URL, headers={"Accept": "text/turtle"}).data.decode()
    assert "internalNote" not in turtle and "48.75" not in turtle
    # the provider reads them back; nobody else does
    own = client.get(WEBER_URL + "/private", headers=auth(app, "weber"))
    assert own.status_code == 200
    assert own.get_json()["values"] == PRIVATE
    assert "secret-note-7f3a" in client.get(WEBER_URL + "/private", headers={**auth(app, "weber"),
                                                                            "Accept": "text/turtle"}).data.decode()
    assert client.get(WEBER_URL + "/private", headers=auth(app, "admin")).status_code == 200
    other = client.get(WEBER_URL + "/private", headers=auth(app, "other"))
    assert other.status_code == 403 and "secret" not in other.data.decode()
    assert client.get(WEBER_URL + "/private").status_code == 401
    # a new version without private values drops the old ones; withdrawing deletes them
    assert client.put(WEBER_URL, data=weber(internal_note="v2 note"),
                      headers={**auth(app, "weber"), "Content-Type": "application/json"}).status_code == 200
    assert client.get(WEBER_URL + "/private", headers=auth(app, "weber")).get_json()["values"] == {
        "internal_note": "v2 note"}
    assert client.delete(WEBER_URL, headers=auth(app, "weber")).status_code == 200
    assert app.extensions["maas_kg"].private.get(WEBER) is None
    assert not public_mentions(client, "v2 note")  # not in the archive of the withdrawn version either


def test_invalid_private_values_are_reported_like_any_other(app):
    client = app.test_client()
    response = client.post("/services", data=weber(capacity_utilisation=1.5),
                           headers={**auth(app, "weber"), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert "capacity_utilisation (private) must be one share from 0 to 1" in response.data.decode()
    assert app.extensions["maas_kg"].private.get(WEBER) is None


def test_an_ontology_extension_makes_another_property_private_without_code(tmp_path):
    store = open_store("memory")
    sync_ontology(store)
    extension = b"""@prefix maas: <https://w3id.org/maas-kg/ns#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <https://example.org/ns#marginTarget> a owl:DatatypeProperty ; rdfs:range xsd:decimal ;
            rdfs:label "margin target"@en , "Zielmarge"@de ; skos:definition "The margin the provider aims at."@en ;
            maas:visibility maas:ProviderPrivate ."""
    add_extension(store, "private-margin", extension, reasoner=False)
    turtle = (DATA / "service-weber.ttl").read_text().replace(
        'maas:name "5-axis milling', '<https://example.org/ns#marginTarget> 0.18 ;\n    maas:name "5-axis milling')
    private = PrivateStore(tmp_path / "private.sqlite")
    [result] = catalogue.publish(store, turtle.encode(), "turtle", private=private)
    assert result.published and result.private_values == 1
    assert not store.ask("ASK { GRAPH ?g { ?s <https://example.org/ns#marginTarget> ?o } }")
    assert [t.predicate.value for t in private.get(WEBER).triples] == ["https://example.org/ns#marginTarget"]


def test_a_service_description_cannot_declare_visibility_for_everyone(tmp_path):
    store = open_store("memory")
    sync_ontology(store)
    turtle = (DATA / "service-weber.ttl").read_text() + (
        "\nmaas:leadTimeDays <https://w3id.org/maas-kg/ns#visibility> <https://w3id.org/maas-kg/ns#ProviderPrivate> .\n")
    catalogue.publish(store, turtle.encode(), "turtle", private=PrivateStore(tmp_path / "p.sqlite"))
    assert "https://w3id.org/maas-kg/ns#leadTimeDays" not in private_properties(store)


def test_cli_publish_keeps_private_values_beside_the_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("MAAS_KG_KEYS", str(tmp_path / "keys.sqlite"))
    monkeypatch.delenv("MAAS_KG_PRIVATE", raising=False)
    source = tmp_path / "weber.json"
    source.write_bytes(weber(**PRIVATE))
    runner = CliRunner()
    result = runner.invoke(main, ["--store", str(tmp_path / "store"), "publish", str(source)])
    assert result.exit_code == 0, result.output
    assert "3 private value(s) kept out of the catalogue" in result.output
    assert PrivateStore(tmp_path / "private.sqlite").get(WEBER).provider == "https://w3id.org/maas-kg/id/provider/weber"
    found = runner.invoke(main, ["--store", str(tmp_path / "store"), "sparql",
                                 'ASK { GRAPH ?g { ?s ?p ?o FILTER(CONTAINS(STR(?o), "secret-note-7f3a")) } }'])
    assert "false" in found.output.lower()
    withdrawn = runner.invoke(main, ["--store", str(tmp_path / "store"), "withdraw", WEBER])
    assert withdrawn.exit_code == 0 and PrivateStore(tmp_path / "private.sqlite").get(WEBER) is None
