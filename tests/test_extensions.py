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


@pytest.mark.slow
def test_an_uploaded_class_can_be_published_and_matched_in_every_worker_without_a_restart(tmp_path):
    """The taxonomy from one source: after an administrator uploads an extension through one worker, services of its
    class publish (plain JSON by label, Turtle by IRI) and a product that needs it is matched to them, through every
    worker of a running service."""
    import requests

    from harness import PROVIDER, running_service

    with running_service(tmp_path, providers=0) as service:
        base = service["base"]
        admin = {"Authorization": f"Bearer {service['admin']}"}
        provider = {"Authorization": f"Bearer {service['provider']}"}
        weber = json.loads((Path(__file__).parent / "data" / "service-weber.json").read_text())

        def superfinishing_service(number: int) -> dict:
            return {**weber, "id": f"{PROVIDER}/service/superfinishing-{number}", "name": f"superfinishing {number}",
                    "process": "shaft superfinishing", "materials": ["42CrMo4"], "it_grade": 5, "tolerance_mm": 0.004,
                    "roughness_ra_um": 0.1}

        before = requests.post(f"{base}/validate", data=json.dumps(superfinishing_service(0)),
                               headers={"Content-Type": "application/json"}, timeout=60).json()
        assert not before["conforms"] and "unknown process" in json.dumps(before["violations"])

        uploaded = requests.post(f"{base}/ontology/extensions?name=superfinishing", data=SUPERFINISHING,
                                 headers={**admin, "Content-Type": "text/turtle"}, timeout=300)
        assert uploaded.status_code == 201, uploaded.text
        # several requests, so that both workers answer some: none may still hold the old taxonomy
        for number in range(1, 7):
            created = requests.post(f"{base}/services", data=json.dumps(superfinishing_service(number)),
                                    headers={**provider, "Content-Type": "application/json"}, timeout=120)
            assert created.status_code == 201, created.text
        turtle = PREFIXES + f"""
            <{PROVIDER}/service/superfinishing-ttl> a maas:ManufacturingService ;
                maas:name "superfinishing in Turtle" ; maas:providedBy <{PROVIDER}> ;
                maas:processType proc:ShaftSuperfinishing ."""
        as_turtle = requests.post(f"{base}/validate", data=turtle, headers={"Content-Type": "text/turtle"}, timeout=60)
        assert "process must name exactly one process" not in as_turtle.text
        listed = requests.get(f"{base}/services", params={"process": "shaft superfinishing"}, timeout=60).json()
        assert len(listed["items"]) == 6

        product = (PRODUCTS / "turned-ground-shaft.json").read_bytes()
        for _ in range(4):
            matched = requests.post(f"{base}/match?today=2026-11-22", data=product, timeout=300,
                                    headers={"Content-Type": "application/json"}).json()
            candidates = {c["service"] for route in matched["routes"] for step in route["steps"]
                          if step["process"]["iri"].endswith("#ShaftSuperfinishing") for c in step["candidates"]}
            steps = [s for r in matched["routes"] for s in r["steps"] if s["process"]["iri"].endswith("#ShaftSuperfinishing")]
            assert any("superfinishing-" in c for c in candidates), json.dumps(steps)[:3000]
