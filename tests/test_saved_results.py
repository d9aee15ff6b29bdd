"""Issue 21, item 4: a match result a buyer keeps has a private link, expires, is listed for the buyer's key, and
exports as CSV and JSON; nothing of it goes to the catalogue store."""

from __future__ import annotations

import csv
import datetime
import io
import json
from pathlib import Path

import pytest

from api import create_app
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services
from maas_kg.errors import NotFound
from maas_kg.execution import saved_results
from maas_kg.execution.ledger import Ledger

EXAMPLES = Path(__file__).parents[1] / "examples" / "products"
FORM = {"name": "Shaft to keep", "material": "42CrMo4", "shape": "rotational", "envelope_mm": "30, 30, 240",
        "mass_kg": "1.3", "tolerance_mm": "0.01", "roughness_ra_um": "0.4", "quantity": "200",
        "place": "48.14, 11.58", "max_distance_km": "1500"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kept")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    catalogue.publish(app.extensions["maas_kg"].catalogue, json.dumps(list(generate_services(60, 1))).encode(),
                      "json")
    return app


def test_a_kept_result_reads_by_its_link_until_it_expires(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    document = {"routes": [{"rank": 1, "score": 0.5, "steps": [{"step": 1, "process": {"label": "turning"},
                "candidates": [{"service": "s", "provider": "p", "provider_name": "=HYPERLINK(\"x\")", "name": "n",
                                "quote": {"total": 10.0, "currency": "EUR", "total_eur": 10.0}, "score": 0.9,
                                "delivery_days": 5, "lead_time_days": 4, "distance_km": 12.5}]}]}]}
    kept = saved_results.keep(ledger, document, {"name": "x"}, title="x", buyer="https://example.org/buyer/a")
    assert len(kept["id"]) >= 24  # unguessable: 18 random bytes
    assert saved_results.kept(ledger, kept["id"])["document"] == document
    assert [r["id"] for r in saved_results.kept_by(ledger, "https://example.org/buyer/a")] == [kept["id"]]
    assert saved_results.kept_by(ledger, "https://example.org/buyer/b") == []
    rows = list(csv.DictReader(io.StringIO(saved_results.as_csv(document))))
    assert rows[0]["service"] == "s" and rows[0]["price_eur"] == "10.0" and rows[0]["process"] == "turning"
    assert rows[0]["provider_name"].startswith("'=")  # a spreadsheet shows the name, it does not run it
    old = saved_results.keep(ledger, document, {}, title="old", days=-1)  # already expired
    with pytest.raises(NotFound):
        saved_results.kept(ledger, old["id"])
    with pytest.raises(NotFound):
        saved_results.kept(ledger, kept["id"][:-1])


def test_keeping_from_the_page_gives_a_link_csv_and_json_and_the_buyers_key_lists_it(app):
    state = app.extensions["maas_kg"]
    before = state.catalogue.quad_count()
    client = app.test_client()
    kept = client.post("/matching/keep", data=FORM)
    assert kept.status_code == 302 and "/matching/results/" in kept.location
    page = client.get(kept.location)
    assert page.status_code == 200 and 'id="kept-link"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and "noindex" in page.headers["X-Robots-Tag"]
    answer = client.get(kept.location + "?format=json").json
    rows = list(csv.DictReader(io.StringIO(client.get(kept.location + "?format=csv").text)))
    shown = [c["service"] for r in answer["routes"] for s in r["steps"] for c in s["candidates"]]
    assert rows and [row["service"] for row in rows] == shown
    assert state.catalogue.quad_count() == before  # nothing in the catalogue store
    assert client.get("/matching/results/not-a-kept-result").status_code == 404
    # kept while signed in as a buyer: the buyer's key lists it
    token = state.keys.create(buyer="https://example.org/buyer/keeper")[0]
    signed = app.test_client()
    assert signed.post("/sign-in", data={"api_key": token}).status_code in (302, 303)
    csrf = None
    with signed.session_transaction() as session:
        csrf = session.get("csrf")
    mine = signed.post("/matching/keep", data={**FORM, "csrf": csrf or ""})
    listed = client.get("/match-results", headers={"Authorization": f"Bearer {token}"}).json["items"]
    assert [item["url"].split("/")[-1] for item in listed] == [mine.location.split("/")[-1]]
    provider = state.keys.create(provider="https://w3id.org/maas-kg/id/provider/x")[0]
    assert client.get("/match-results", headers={"Authorization": f"Bearer {provider}"}).status_code == 403
    assert datetime.date.fromisoformat(listed[0]["expires"][:10]) > datetime.date.today()
