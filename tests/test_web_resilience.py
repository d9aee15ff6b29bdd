"""The resilience page in a real browser: Playwright drives Debian's chromium against the real service (`maas-kg
serve`, gunicorn, two workers, on-disk store) on the `make run` demo catalogue (300 providers, seed 1), for which the
example value chains are written. A manufacturer picks the gearbox example, ticks two example events (one on the
map), assesses, reads the risk matrix, the vulnerabilities and the simulated delays, asks for the response to one
event and hands a response's request for quotation to the stage-3 form; broken input is refused next to its field.
Screenshots land in test-artifacts/web/."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest

from harness import cli, labelled, running_service, snapshot, watched_page

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parents[1] / "examples"
INSOLVENCY = "Insolvency of the Zurich die-casting foundry"
GAS = "Gas rationing for heat treatment in Germany"
NOWHERE = "https://w3id.org/maas-kg/id/provider/nobody/service/nothing"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("web-resilience"), providers=300, seed=1) as running:
        yield running


@pytest.fixture
def page(browser, service):
    with watched_page(browser, service["base"]) as opened:
        yield opened


def posting(page):
    return page.expect_response(lambda r: r.url.split("#")[0].endswith("/resilience") and r.request.method == "POST")


def test_assess_the_gearbox_chain_respond_to_an_event_and_request_quotes(page, service):
    page.goto("/resilience")
    assert page.title() == "Resilience · MaaS-KG"
    assert page.locator("nav a[aria-current=page]").inner_text() == "Resilience"
    assert labelled(page) == []
    assert page.input_value("#f-example") == "gearbox" and page.is_checked("#f-source-example")
    assert page.input_value("#f-runs") == "10000" and page.input_value("#f-seed") == "1"
    assert page.input_value("#f-today") == datetime.date.today().isoformat()
    # the map shows the gearbox chain's supplier sites, and the events that have a place
    assert page.locator(".event-map .sites[data-group=example-gearbox] circle.site").count() >= 5
    assert page.locator(".event-map .sites.off").count() >= 2  # the other examples' sites are hidden
    # clicking an event's marker ticks its checkbox (the insolvency: the foundry's site), and unticks it again
    marker = page.locator("#marker-gerber-insolvency")
    marker.click()
    assert page.is_checked("#ev-gerber-insolvency") and marker.get_attribute("aria-checked") == "true"
    page.locator("#marker-banat-earthquake").click()
    assert page.is_checked("#ev-banat-earthquake")
    page.locator("#marker-banat-earthquake").press("Space")  # the markers work from the keyboard too
    assert not page.is_checked("#ev-banat-earthquake")
    assert page.locator("#marker-banat-earthquake").get_attribute("aria-checked") == "false"
    page.check("#ev-german-gas-rationing")  # by country and process: no place on the map
    snapshot(page, "resilience-form")
    with posting(page) as response:
        page.click("#resilience-form button[type=submit]")
    assert response.value.status == 200
    page.locator("#risk-matrix").wait_for()

    # the risk matrix: the insolvency (3 % a year, 110 days late) is possible and severe
    assert INSOLVENCY in page.locator("#risk-possible-severe").inner_text()
    assert page.locator("#risk-matrix td li").count() == 2
    assert "single point of failure" in page.locator("#vulnerabilities").inner_text()
    # per product the simulated on-time probability, with a bar per delay bucket
    figures = page.locator("#simulation figure.histogram")
    assert figures.count() == 3
    assert re.search(r"on time with probability \d+(\.\d+)? %", figures.first.inner_text())
    assert figures.first.locator("svg.delay-histogram rect.bar").count() == 5
    heights = [float(h) for h in figures.first.locator("rect.bar").evaluate_all(
        "bars => bars.map(b => b.getAttribute('height'))")]
    assert heights[0] > 50 and sum(1 for h in heights if h > 0) >= 2  # mostly on time, some years late
    impact = page.locator("#impact-german-gas-rationing")
    assert "Case-hardened spur gear" in impact.inner_text() and "case hardening" in impact.inner_text()
    # the chosen events stay chosen, and their markers show it
    assert page.is_checked("#ev-gerber-insolvency") and page.is_checked("#ev-german-gas-rationing")
    assert page.locator("#marker-gerber-insolvency").get_attribute("class").split()[-1] == "chosen"
    assert page.locator(".event-map .sites[data-group=example-gearbox] circle.site.hit").count() == 2
    snapshot(page, "resilience-assessment")

    # -- the response to the gas rationing: the case hardening step, today's supplier beside the alternatives
    with posting(page) as response:
        page.click("#respond-german-gas-rationing")
    assert response.value.status == 200
    answer = page.locator("#response")
    answer.wait_for()
    assert GAS in page.locator("#response-title").inner_text()
    step = answer.locator(".response-step", has_text="case hardening").first
    assert "Case-hardened spur gear: case hardening" in step.locator("h3").inner_text()
    assert "Zimmermann" in step.locator("table.current-suppliers").inner_text()
    assert "hit" in step.locator("table.current-suppliers").inner_text()
    kind = step.locator(".response-kind").inner_text()
    assert kind in ("re-source", "split", "none")
    if kind == "none":
        assert step.locator(".no-options").count() == 1
    else:
        assert step.locator("table.options tbody tr").count() >= 1
    assert page.locator("#risk-matrix").count() == 1  # the assessment stays on the page
    snapshot(page, "resilience-response")

    # -- the strike at the hardening shop has unaffected alternatives: its request for quotation goes to stage 3
    page.check("#ev-bremen-strike")
    with posting(page):
        page.click("#resilience-form button[type=submit]")
    page.click("#respond-bremen-strike")
    step = page.locator("#response .response-step").first
    step.wait_for()
    assert step.locator(".response-kind").inner_text() in ("re-source", "split")
    options = step.locator("table.options tbody tr")
    assert options.count() >= 1 and "delivers in" in options.first.inner_text()
    assert "zimmermann" not in options.first.inner_text().lower()  # the disrupted service is no option
    rfq = json.loads(page.locator("#rfq-json").text_content())
    assert rfq["items"] and all(item["service"] != "" for item in rfq["items"])
    assert labelled(page) == []
    assert page.locator("#rfq-form input[name=pick]:checked").count() == len(rfq["items"])
    buyer = cli(service["env"], "keys", "create", "--buyer", "https://w3id.org/maas-kg/id/buyer/gearbox-maker")
    page.fill("#f-q-api_key", buyer.stdout.strip())
    page.fill("#f-q-due", (datetime.date.today() + datetime.timedelta(days=120)).isoformat())
    page.click("#rfq-form button[type=submit]")
    page.wait_for_url(re.compile(r"/purchases/inq-[0-9a-f]+$"))
    assert f"{len(rfq['items'])} request(s) for quotation sent" in page.locator(".notice.success").inner_text()
    assert page.locator("table.offers tbody tr").count() == len(rfq["items"])


def test_a_broken_value_chain_or_event_is_refused_next_to_its_field(page, tmp_path):
    broken = json.loads((EXAMPLES / "value-chains" / "gearbox.json").read_text())
    broken["products"][2]["steps"][1]["suppliers"][0]["service"] = NOWHERE
    upload = tmp_path / "broken-gearbox.json"
    upload.write_text(json.dumps(broken))
    page.goto("/resilience")
    page.set_input_files("#f-file", str(upload))
    assert page.is_checked("#f-source-file")  # choosing a file chooses the file as the source
    page.check("#ev-gerber-insolvency")
    with posting(page) as response:
        page.click("#resilience-form button[type=submit]")
    assert response.value.status == 422
    error = page.locator("#e-value_chain")
    assert error.is_visible()
    assert "value_chain.products[2].steps[1].suppliers[0].service" in error.inner_text()
    assert f"{NOWHERE} is not a published service" in error.inner_text()
    # the uploaded file is now in the paste field, marked invalid; the events stay ticked; nothing was assessed
    assert page.is_checked("#f-source-paste") and NOWHERE in page.input_value("#f-value_chain")
    assert page.get_attribute("#f-value_chain", "aria-invalid") == "true"
    assert page.is_checked("#ev-gerber-insolvency")
    assert page.locator("#risk-matrix").count() == 0 and page.locator("#e-events").is_hidden()
    snapshot(page, "resilience-value-chain-error")

    # a custom event of an unknown type: next to the events field
    page.check("#f-source-example")
    page.fill("#f-events", json.dumps({"id": "meteor", "name": "Meteor strike", "type": "meteor",
                                       "scope": {"countries": ["DE"]}, "probability_per_year": 0.001,
                                       "duration_days": 30}))
    with posting(page) as response:
        page.click("#resilience-form button[type=submit]")
    assert response.value.status == 422
    assert "events[0].type" in page.locator("#e-events").inner_text()
    assert page.get_attribute("#f-events", "aria-invalid") == "true"
    assert page.locator("#e-value_chain").is_hidden()

    # in German
    page.goto("/resilience?lang=de")
    assert page.title() == "Resilienz · MaaS-KG"
    assert page.locator("nav a[aria-current=page]").inner_text() == "Resilienz"
    assert page.locator("label[for=f-runs]").inner_text() == "Läufe (simulierte Jahre)"
    assert labelled(page) == []
