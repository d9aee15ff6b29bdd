"""Publishing twice creates no duplicate; providers named by their IRI alone are completed from their published
description; provider IRIs minted from names are transliterated (issue 21, items 10, 11 and 14)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from api import create_app
from harness import fresh_store
from maas_kg import catalogue
from maas_kg.catalogue import minting, publishing
from maas_kg.catalogue.ingest import read_input

DATA = Path(__file__).parent / "data"
WEBER = "https://w3id.org/maas-kg/id/provider/weber"


def weber(**changes) -> dict:
    document = json.loads((DATA / "service-weber.json").read_text())
    document.pop("id")
    document.update(changes)
    return document


def publish(store, document, **kwargs):
    return catalogue.publish(store, json.dumps(document).encode(), "json", **kwargs)


@pytest.fixture
def store(tmp_path):
    with fresh_store("embedded", tmp_path / "served") as opened:
        yield opened


def test_the_same_content_of_the_same_provider_is_refused_with_the_published_iri(store):
    [first] = publish(store, weber())
    assert first.published
    [again] = publish(store, weber())
    assert not again.published
    [violation] = again.violations
    assert violation.component == publishing.IDENTICAL and violation.value == first.service
    assert "published already as " + first.service in violation.message
    assert [row["service"] for row in catalogue.list_services(store)] == [first.service]
    # other content, or the same content of a withdrawn service, is a new service
    assert publish(store, weber(lead_time_days=11))[0].published
    catalogue.withdraw(store, first.service)
    assert publish(store, weber())[0].published


def test_replacing_a_service_by_its_iri_is_no_duplicate_nor_is_a_new_iri_of_ones_own(store):
    [first] = publish(store, weber())
    [replaced] = publish(store, weber(id=first.service))
    assert replaced.published and replaced.version == 2
    [named] = publish(store, weber(id="https://w3id.org/maas-kg/id/service/weber-second-site"))
    assert named.published  # a new IRI of its own states a new service on purpose


def test_the_batched_path_refuses_the_duplicate_too(store):
    publish(store, weber())
    results = publish(store, [weber(), weber(lead_time_days=3)], batch_size=1)
    assert [r.published for r in results] == [False, True]


def test_the_fingerprint_ignores_the_service_iri_and_blank_node_labels():
    triples = read_input(json.dumps(weber(id="https://example.org/s/1")).encode(), "json").triples
    other = read_input(json.dumps(weber(id="https://example.org/s/2")).encode(), "json").triples
    assert publishing.content_fingerprint("https://example.org/s/1", triples) == \
        publishing.content_fingerprint("https://example.org/s/2", other)
    changed = read_input(json.dumps(weber(id="https://example.org/s/2", name="other")).encode(), "json").triples
    assert publishing.content_fingerprint("https://example.org/s/2", changed) != \
        publishing.content_fingerprint("https://example.org/s/1", triples)


def test_a_provider_named_by_its_iri_alone_is_completed_only_for_whom_may_change_it(store):
    publish(store, weber())
    document = weber(name="Turning only", process="turning", provider={"id": WEBER})
    [refused] = publish(store, document)
    assert {v.message.split(" is required")[0] for v in refused.violations} >= {"provider.name", "provider.location"}
    [refused] = publish(store, document, complete=lambda provider: provider != WEBER)
    assert not refused.published
    [published] = publish(store, document, complete=lambda provider: provider == WEBER)
    assert published.published, published.violations
    [row] = catalogue.list_services(store, service=published.service)
    assert row["providerName"] == "Feinmechanik Weber GmbH" and row["country"] == "DE"
    # what the document gives wins: a new name, the published site
    [renamed] = publish(store, weber(name="Renamed", provider={"id": WEBER, "name": "Weber AG"}), complete=bool)
    assert renamed.published, renamed.violations
    assert catalogue.list_services(store, service=renamed.service)[0]["providerName"] == "Weber AG"
    assert publishing.provider_profile(store, WEBER)["name"] in ("Weber AG", "Feinmechanik Weber GmbH")
    assert publishing.provider_profile(store, "https://example.org/nobody") == {
        "id": "https://example.org/nobody", "name": None, "country": None, "lat": None, "lon": None}


@pytest.mark.parametrize("name, slug", [
    ("Bauer Präzisionstechnik GmbH", "bauer-praezisionstechnik-gmbh"),
    ("Gerber Gießerei", "gerber-giesserei"),
    ("Müller & Söhne", "mueller-soehne"),
    ("ÖZTÜRK Döküm", "oeztuerk-doeküm".replace("ü", "ue")),
    ("Société Générale de Mécanique", "societe-generale-de-mecanique"),
    ("Łódź Metal", "lodz-metal"),
    ("Acme Tools Ltd.", "acme-tools-ltd-"),  # as the rule always minted it: ASCII names keep their IRIs
])
def test_minted_provider_iris_are_transliterated(name, slug):
    assert minting.slug(name) == slug
    document = {"name": "x", "process": "turning",
                "provider": {"name": name, "country": "DE", "location": {"lat": 48.1, "lon": 11.5}}}
    triples = read_input(json.dumps(document).encode(), "json").triples
    providers = {t.object.value for t in triples if t.predicate.value.endswith("#providedBy")}
    assert providers == {f"https://w3id.org/maas-kg/id/provider/{slug}-de"}
    assert not any("nameSlug" in t.predicate.value for t in triples)


def test_ascii_names_mint_what_the_rule_alone_minted():
    for name in ("Weber Feinmechanik GmbH", "ACME 3D-Print (Lyon) SAS", "a  b--c", "x.y_z"):
        assert minting.slug(name) == re.sub("[^a-z0-9]+", "-", name.lower())
    store = ox.Store()
    assert str(next(iter(store.query('SELECT (REPLACE(LCASE("ACME 3D-Print (Lyon) SAS"), "[^a-z0-9]+", "-") AS ?s) {}')))["s"].value) \
        == minting.slug("ACME 3D-Print (Lyon) SAS")


# -- the API: 409 with the existing service ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idempotent")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    keys = app.extensions["maas_kg"].keys
    app.test_keys = {"weber": keys.create(provider=WEBER)[0], "admin": keys.create(admin=True)[0],
                     "other": keys.create(provider="https://w3id.org/maas-kg/id/provider/other")[0]}
    keys.grant(WEBER, "https://w3id.org/maas-kg/id/service/")
    return app


def test_the_api_answers_a_second_identical_create_with_409_naming_the_existing_service(app):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {app.test_keys['weber']}"}
    body = json.dumps(weber(name="API twice")).encode()
    created = client.post("/services", data=body, content_type="application/json", headers=headers)
    assert created.status_code == 201
    existing = created.get_json()["published"][0]["service"]
    again = client.post("/services", data=body, content_type="application/json", headers=headers)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    problem = again.get_json()
    assert problem["title"] == "Already published" and problem["existing"] == [existing]
    assert existing in problem["detail"] and "PUT" in problem["detail"]
    # a PUT of the same IRI replaces it (version + 1)
    replaced = client.put("/services/" + existing.removeprefix("https://w3id.org/maas-kg/id/"), data=body,
                          content_type="application/json", headers=headers)
    assert replaced.status_code == 200 and replaced.get_json()["version"] == 2


# -- the web pages in-process (the browser tests are in test_web.py) ----------------------------------------------

def test_the_publish_form_redirects_to_the_service_and_refuses_sending_it_again(app):
    client = app.test_client()
    form = {"api_key": app.test_keys["weber"], "mode": "form", "name": "Form twice", "process": "turning",
            "materials": "42CrMo4", "envelope_mm": "300, 300, 600", "batch_size": "1, 100",
            "capacity_per_week": "50", "lead_time_days": "5", "price_currency": "EUR", "price_setup": "100",
            "price_unit": "10", "provider_name": "Feinmechanik Weber GmbH", "provider_country": "DE",
            "provider_lat": "48.8303", "provider_lon": "9.1717"}
    first = client.post("/publish", data=form)
    assert first.status_code == 303 and "/catalogue/service?iri=" in first.headers["Location"]
    page = client.get(first.headers["Location"])
    assert page.status_code == 200 and b"Published:" in page.data and b"Form twice" in page.data
    again = client.post("/publish", data=form)
    assert again.status_code == 409 and b"Already published" in again.data
    service = first.headers["Location"].split("iri=")[1]
    assert service.replace("%3A", ":").replace("%2F", "/") in again.data.decode()


def test_the_api_completes_a_provider_its_key_may_change_from_the_published_description(app):
    client = app.test_client()
    weber_key = {"Authorization": f"Bearer {app.test_keys['weber']}"}
    assert client.post("/services", data=json.dumps(weber(name="Described in full")), content_type="application/json",
                       headers=weber_key).status_code == 201
    only_id = json.dumps(weber(name="Named by id", process="grinding", provider={"id": WEBER})).encode()
    created = client.post("/services", data=only_id, content_type="application/json", headers=weber_key)
    assert created.status_code == 201, created.get_json()
    other = client.post("/services", data=only_id, content_type="application/json",
                        headers={"Authorization": f"Bearer {app.test_keys['other']}"})
    assert other.status_code in (403, 422)
