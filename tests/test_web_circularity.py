"""The circularity page: in-process with Flask's test client on the `make run` demo catalogue (300 providers, seed 1),
for which the example take-back products are written: the form lists the examples, each example is planned as
`POST /circularity/plan` plans it (the same strategies and providers), broken input is refused next to the field with
the API's status and stays in the form, nothing is stored; the map's arrangement from a plan with and without
provider sites. Then in a real browser: Playwright drives Debian's chromium against the real service (`maas-kg
serve`), plans the gearbox and reads the comparison, the chart, the map and the providers. Screenshots land in
test-artifacts/web/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from flask import url_for

from api import create_app
from api.web_circularity import _site_map
from harness import labelled, running_service, snapshot, watched_page
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services

TAKE_BACK = Path(__file__).parents[1] / "examples" / "take-back"
EXAMPLES = sorted(path.stem for path in TAKE_BACK.glob("*.json"))


def take_back(name: str) -> dict:
    return json.loads((TAKE_BACK / f"{name}.json").read_text())


def short(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


# -- in-process --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-circularity")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    catalogue.publish(app.extensions["maas_kg"].catalogue, json.dumps(list(generate_services(300, 1))).encode(),
                      "json")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def error_shown(html: str) -> str:
    return re.search(r'<p class="error" id="e-take_back" role="alert"\s*>(.*?)</p>', html, re.S).group(1)


def test_the_form_offers_the_examples_by_file_and_name(client):
    answer = client.get("/circularity")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<title>Circularity · MaaS-KG</title>" in html
    assert re.search(r'<a href="/circularity" aria-current="page">Circularity</a>', html)
    for name in EXAMPLES:
        assert f'<option value="{name}"' in html and take_back(name)["name"] in html
    assert '<option value="industrial-gearbox" selected>' in html
    assert 'id="f-take_back"' in html and 'id="f-file"' in html and ">Plan</button>" in html
    assert 'id="results"' not in html
    assert "<script>" not in html  # the page needs no script at all


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_is_planned_as_the_api_plans_it(app, client, name):
    api = client.post("/circularity/plan", json=take_back(name))
    assert api.status_code == 200
    answer = client.post("/circularity", data={"source": "example", "example": name})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, error_shown(html)
    assert 'id="strategies"' in html and 'id="strategy-chart"' in html and 'id="site-map"' in html
    for strategy in api.json["strategies"]:
        row = re.search(rf'<tr id="strategy-{strategy["label"]}" class="(\w+)">\s*<th scope="row">(.*?)</th>', html)
        assert row.groups() == ("feasible" if strategy["feasible_here"] else "infeasible",
                                f"{strategy['notation']} {strategy['label']}")
        assert f'data-strategy="{strategy["label"]}"' in html  # its bars in the chart
        # the CO2 it avoids against making new, in the strategy's row
        strategy_row = html.split(f'<tr id="strategy-{strategy["label"]}"', 1)[1].split("</tr>", 1)[0]
        assert f'{strategy["co2_avoided_kg_per_unit"]:,.1f} kg CO2e' in strategy_row
        if strategy["chain"] and strategy["chain"]["services"]:
            chain = html.split(f'id="chain-{strategy["label"]}"', 1)[1].split("</section>", 1)[0]
            for step in strategy["chain"]["services"]:
                with app.test_request_context():
                    link = url_for("web.service_page", iri=step["service"])
                assert short(step["provider"]) in chain and f'href="{link}"' in chain
    # every collection point is on the map, the chain's own filled
    assert html.count('class="point collection') == len(take_back(name)["collection"])
    assert html.count('class="point collection start"') == (1 if any(s["chain"] for s in api.json["strategies"])
                                                            else 0)


def test_broken_json_is_refused_next_to_the_field_and_stays_in_the_form(client):
    typed = '{"name": "<b>chair</b>", '
    answer = client.post("/circularity", data={"source": "paste", "take_back": typed})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert error_shown(html).startswith("malformed take-back document at line 1")
    assert "{&#34;name&#34;: &#34;&lt;b&gt;chair&lt;/b&gt;&#34;, </textarea>" in html  # kept, escaped
    assert 'aria-invalid="true" aria-errormessage="e-take_back"' in html
    assert 'id="results"' not in html and "<b>chair</b>" not in html


@pytest.mark.parametrize("change,field", [
    (lambda d: d["condition"][0].update(grade="rusty"), "condition[0].grade"),
    (lambda d: d.update(collection=[]), "collection"),
    (lambda d: d.update(today="tomorrow"), "today")])
def test_an_invalid_take_back_names_its_field_with_the_apis_status(client, change, field):
    document = take_back("industrial-gearbox")
    change(document)
    api = client.post("/circularity/plan", json=document)
    answer = client.post("/circularity", data={"source": "paste", "take_back": json.dumps(document)})
    assert answer.status_code == api.status_code == 422
    assert error_shown(answer.get_data(as_text=True)).startswith(f"{field}: ")


def test_an_uploaded_file_is_planned_and_moves_into_the_paste_field(client, app):
    store = app.extensions["maas_kg"].catalogue
    before = store.quad_count(), store.named_graphs()
    # the example stays chosen, as it would in a browser: choosing a file is what counts
    data = {"source": "example", "example": "industrial-gearbox",
            "file": (TAKE_BACK.joinpath("office-chair.json").open("rb"), "chair.json")}
    answer = client.post("/circularity", data=data, content_type="multipart/form-data")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Plan: Swivel office chair" in html
    assert 'id="f-source-paste" name="source" value="paste" checked' in html and "Swivel office chair" in \
        html.split('id="f-take_back"', 1)[1].split("</textarea>", 1)[0]
    assert (store.quad_count(), store.named_graphs()) == before  # nothing stored
    assert client.post("/circularity", data={"source": "file"}).status_code == 400


def _chain(steps: list[dict]) -> dict:
    return {"strategy": {"label": "recycle", "notation": "R8"}, "steps": steps,
            "chain": {"collection_point": {"place": "Frankfurt", "lat": 50.11, "lon": 8.68}}}


def test_the_map_joins_the_chain_where_the_plan_locates_its_providers():
    collection = [{"place": "Frankfurt", "lat": 50.11, "lon": 8.68}, {"place": "Lyon", "lat": 45.76, "lon": 4.84}]
    steps = [{"label": "disassembling", "provider": "https://example.org/p/a", "lat": 51.5, "lon": 7.5},
             {"label": "sorting", "provider": "https://example.org/p/b", "lat": 48.1, "lon": 11.6}]
    located = _site_map(collection, _chain(steps))
    assert [p["label"] for p in located["route"]] == ["Frankfurt", "1. disassembling", "2. sorting"]
    assert located["unlocated_steps"] == 0
    for point in located["points"]:
        assert 0 <= point["x"] <= located["width"] and 0 <= point["y"] <= located["height"]
    west, east = (next(p for p in located["points"] if p["label"] == name) for name in ("Lyon", "2. sorting"))
    assert west["x"] < east["x"] and west["y"] > east["y"]  # Lyon lies south-west of Munich
    # the planner gives distances, not sites: the collection points only, and no route
    unlocated = _site_map(collection, _chain([{k: v for k, v in s.items() if k not in ("lat", "lon")}
                                              for s in steps]))
    assert unlocated["route"] == [] and unlocated["unlocated_steps"] == 2 and len(unlocated["points"]) == 2
    assert _site_map(collection, None)["points"][0]["start"] is False


# -- in a real browser -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("web-circularity"), providers=300, seed=1) as running:
        yield running


@pytest.fixture
def page(browser, service):
    with watched_page(browser, service["base"]) as opened:
        yield opened


def posting(page):
    return page.expect_response(lambda r: r.url.split("#")[0].endswith("/circularity") and r.request.method == "POST")


@pytest.mark.slow
def test_plan_the_gearbox_and_read_the_comparison_the_map_and_the_providers(page, service):
    planned = requests.post(f"{service['base']}/circularity/plan", json=take_back("industrial-gearbox"),
                            timeout=120).json()
    providers = {short(step["provider"]) for s in planned["strategies"] if s["chain"]
                 for step in s["chain"]["services"]}
    assert providers, "the demo catalogue has providers for some strategy of the gearbox"

    page.goto("/circularity")
    assert page.title() == "Circularity · MaaS-KG"
    assert page.locator("nav a[aria-current=page]").inner_text() == "Circularity"
    assert labelled(page) == []
    page.check("#f-source-example")
    page.select_option("#f-example", "industrial-gearbox")
    with posting(page) as response:
        page.click("#circularity-form button[type=submit]")
    assert response.value.status == 200
    page.locator("#strategies").wait_for()

    assert page.locator("#strategies").is_visible()
    assert page.locator("#strategies tbody tr").count() == len(planned["strategies"])
    assert "R8 recycle" in page.locator("#strategy-recycle").inner_text()
    chart = page.locator("svg#strategy-chart")
    assert chart.is_visible() and chart.locator("rect.mci").count() == len(planned["strategies"])
    site_map = page.locator("#site-map svg")
    assert site_map.is_visible() and site_map.locator(".point.collection").count() == 2
    assert page.locator("#site-map .point.collection.start").count() == 1
    shown = page.locator("#mapped-chain").inner_text() + page.locator("section.chain").all_inner_texts()[0]
    assert any(provider in shown for provider in providers)
    link = page.locator("section.chain table.chain-steps a").first
    assert link.get_attribute("href").startswith("/catalogue/service?iri=")
    snapshot(page, "circularity-plan")

    # broken JSON: the message next to the field, the text kept
    page.check("#f-source-paste")
    page.fill("#f-take_back", '{"name": "half a gearbox"')
    with posting(page) as response:
        page.click("#circularity-form button[type=submit]")
    assert response.value.status == 400
    assert page.locator("#e-take_back").is_visible()
    assert "malformed take-back document" in page.locator("#e-take_back").inner_text()
    assert page.input_value("#f-take_back") == '{"name": "half a gearbox"'
    assert page.locator("#strategies").count() == 0
    snapshot(page, "circularity-error")

    # an uploaded file is planned, and its text lands in the paste field
    page.set_input_files("#f-file", str(TAKE_BACK / "hydraulic-pump.json"))
    with posting(page) as response:
        page.click("#circularity-form button[type=submit]")
    assert response.value.status == 200
    assert page.locator("#results-title").inner_text() == f"Plan: {take_back('hydraulic-pump')['name']}"
    assert page.is_checked("#f-source-paste") and take_back("hydraulic-pump")["id"] in page.input_value("#f-take_back")
