"""Taxonomy extensions uploaded by an administrator: checked by the taxonomy QA shapes and HermiT, stored, and
used by matching at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api import create_app

PRODUCTS = Path(__file__).parents[1] / "examples" / "products"
PREFIXES = """@prefix maas: <https://w3id.org/maas-kg/ns#> . @prefix proc: <https://w3id.org/maas-kg/process#> .
@prefix mat: <https://w3id.org/maas-kg/material#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""
SUPERFINISHING = (Path(__file__).parent / "data" / "superfinishing.ttl").read_text(encoding="utf-8") + \
    "<https://w3id.org/maas-kg/ontology/extension/superfinishing> a owl:Ontology .\n"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app({"STORE": "memory", "KEYS_FILE": str(tmp_path_factory.mktemp("ext") / "keys.sqlite"),
                      "TESTING": True})
    keys = app.extensions["maas_kg"].keys
    app.test_keys = {"admin": keys.create(admin=True)[0],
                     "provider": keys.create(provider="https://w3id.org/maas-kg/id/provider/p")[0]}
    return app


def route_processes(client) -> set[str]:
    product = (PRODUCTS / "turned-ground-shaft.json").read_bytes()
    document = client.post("/match?today=2026-11-22", data=product, content_type="application/json").get_json()
    return {step["process"]["iri"].rsplit("#", 1)[1] for route in document["routes"] for step in route["steps"]}


@pytest.mark.slow
def test_an_extension_changes_matching_at_once_and_can_be_removed(app):
    client = app.test_client()
    admin = {"Authorization": f"Bearer {app.test_keys['admin']}"}
    assert "ShaftSuperfinishing" not in route_processes(client)  # the workspace is built before the extension

    provider = {"Authorization": f"Bearer {app.test_keys['provider']}"}
    assert client.post("/ontology/extensions?name=superfinishing", data=SUPERFINISHING, content_type="text/turtle",
                       headers=provider).status_code == 403
    created = client.post("/ontology/extensions?name=superfinishing", data=SUPERFINISHING,
                          content_type="text/turtle", headers=admin)
    assert created.status_code == 201, created.data
    assert created.headers["Location"] == "/ontology/extensions/superfinishing"
    assert client.get("/ontology/extensions").get_json()["extensions"][0]["name"] == "superfinishing"
    assert b"ShaftSuperfinishing" in client.get("/ontology/extensions/superfinishing").data
    assert b"ShaftSuperfinishing" in client.get("/ontology", headers={"Accept": "application/n-triples"}).data

    assert "ShaftSuperfinishing" in route_processes(client)

    assert client.delete("/ontology/extensions/superfinishing", headers=admin).status_code == 204
    assert "ShaftSuperfinishing" not in route_processes(client)
    assert client.delete("/ontology/extensions/superfinishing", headers=admin).status_code == 404


@pytest.mark.slow
def test_extensions_breaking_the_rules_or_consistency_are_refused(app):
    client = app.test_client()
    admin = {"Authorization": f"Bearer {app.test_keys['admin']}"}
    unlabelled = PREFIXES + "proc:Mystery a owl:Class ; rdfs:subClassOf proc:Turning ."
    refused = client.post("/ontology/extensions?name=mystery", data=unlabelled, content_type="text/turtle",
                          headers=admin)
    report = refused.get_json()
    assert refused.status_code == 422 and report["violations"]
    assert any("label" in v["message"] for v in report["violations"])

    inconsistent = PREFIXES + "<https://example.org/thing> a maas:Site , maas:Certification ."
    refused = client.post("/ontology/extensions?name=contradiction", data=inconsistent, content_type="text/turtle",
                          headers=admin)
    assert refused.status_code == 422 and "inconsistent" in refused.get_json()["detail"]

    assert client.post("/ontology/extensions?name=broken", data="proc:X a", content_type="text/turtle",
                       headers=admin).status_code == 400
    assert client.post("/ontology/extensions", data=SUPERFINISHING, content_type="text/turtle",
                       headers=admin).status_code == 400
    assert client.post("/ontology/extensions?name=x", data=SUPERFINISHING, content_type="application/json",
                       headers=admin).status_code == 415
    assert client.get("/ontology/extensions").get_json()["extensions"] == []
    json.dumps(report)  # the report is plain JSON
