"""The web pages in a real browser: Playwright drives Debian's chromium (installed by `make test`) against the real
service (`maas-kg serve`, gunicorn, on-disk store) started by the test. Each test saves a screenshot of the page it
ends on under test-artifacts/web/."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import rdflib
import requests

from harness import PROVIDER, labelled, running_service, snapshot

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parents[1] / "examples" / "products"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("web"), providers=25, seed=3) as running:
        yield running


@pytest.fixture
def page(browser, service, request):
    context = browser.new_context(base_url=service["base"], viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    snapshot(opened, request.node.name)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def fill(page, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill(f"#f-{name}", value)


def test_publish_through_the_form_with_a_live_report_then_find_it_in_the_catalogue(page, service):
    name = f"Browser-published milling {uuid.uuid4().hex[:6]}"
    page.goto("/publish")
    assert page.title() == "Publish a service · MaaS-KG"
    assert labelled(page) == []
    page.fill("#f-api_key", service["provider"])
    fill(page, {"name": name, "process": "5-axis milling", "materials": "EN AW-6061, 42CrMo4",
                "envelope_mm": "650, 520, 475", "max_mass_kg": "200", "tolerance_mm": "0.01",
                "roughness_ra_um": "0.8", "batch_size": "1, 500", "capacity_per_week": "120",
                "lead_time_days": "-1", "price_setup": "250", "price_unit": "38.5", "certifications": "ISO 9001",
                "provider_id": PROVIDER, "provider_name": "Feinmechanik Weber GmbH", "provider_country": "DE",
                "provider_lat": "48.8303", "provider_lon": "9.1717", "internal_note": "web-secret-3c9e"})
    # the live SHACL check points at the offending field in plain words
    error = page.locator("#e-lead_time_days")
    error.wait_for(state="visible")
    # next to its field, with the field's label (issue 21 item 12), not the plain JSON name
    assert "Lead time (days): must be one number of days, 0 or more" in error.inner_text()
    assert page.get_attribute("#f-lead_time_days", "aria-invalid") == "true"
    page.fill("#f-lead_time_days", "10")
    page.locator("#live.success").wait_for()
    assert page.locator(".field.invalid").count() == 0
    page.click("button[type=submit]")
    page.locator(".notice.success").wait_for()
    assert "1 private value(s) kept for your organisation only" in page.locator(".notice.success").inner_text()
    page.click(".notice.success a")
    assert page.locator("h1").inner_text() == name
    assert "5-axis milling" in page.locator("p.lead").inner_text()
    assert "web-secret-3c9e" not in page.content()
    capabilities = page.locator("#part-service + dl").inner_text()
    assert "mm" in capabilities and "EN AW-6061" in capabilities
    assert page.locator("text=Version history").count() == 1
    snapshot(page, "service-detail")
    turtle_link = page.locator("a", has_text="Turtle").get_attribute("href")
    download = requests.get(service["base"] + turtle_link, timeout=30)
    graph = rdflib.Graph().parse(data=download.text, format="turtle")
    assert (None, rdflib.URIRef("https://w3id.org/maas-kg/ns#name"), rdflib.Literal(name)) in graph
    # the catalogue finds it with the process facet and the country filter
    page.goto("/catalogue?process=5-axis+milling&country=DE")
    assert page.locator("table.results a", has_text=name).count() == 1


def test_publish_refuses_another_organisations_service_and_writes_nothing(page, service):
    name = f"Not mine {uuid.uuid4().hex[:6]}"
    page.goto("/publish")
    page.fill("#f-api_key", service["provider"])
    fill(page, {"name": name, "process": "turning", "materials": "42CrMo4", "envelope_mm": "300, 300, 600",
                "batch_size": "1, 100", "capacity_per_week": "50", "lead_time_days": "5", "price_setup": "100",
                "price_unit": "10", "provider_id": "https://w3id.org/maas-kg/id/provider/someone-else",
                "provider_name": "Someone Else GmbH", "provider_country": "DE", "provider_lat": "50.1",
                "provider_lon": "8.7"})
    with page.expect_response(lambda r: r.url.endswith("/publish") and r.request.method == "POST") as response:
        page.click("button[type=submit]")
    assert response.value.status == 403
    assert "only publish services of your own organisation" in page.locator("#report").inner_text()
    listed = requests.get(f"{service['base']}/services", params={"per_page": 500}).json()["items"]
    assert name not in {item["name"] for item in listed}


def test_publish_needs_a_key(page):
    page.goto("/publish")
    page.click("button[type=submit]")
    assert page.locator("#e-api_key").is_visible()
    assert "API key" in page.locator("#e-api_key").inner_text()


def test_match_an_example_product_and_read_the_ranked_result(page):
    page.goto("/matching")
    assert labelled(page) == []
    page.select_option("#f-example", "turned-ground-shaft")
    page.click("#example-form button")
    assert page.input_value("#f-material") == "42CrMo4"
    assert page.input_value("#f-roughness_ra_um") == "0.4"
    page.click("#match-form button[type=submit]")
    first_route = page.locator("section.route").first
    first_route.wait_for()
    heading = first_route.locator("h2").inner_text()
    assert re.search(r"turning → grinding", heading), heading
    assert "Ra 0.4 µm is finer than turning's typical 0.8 µm" in first_route.locator(".reasons").first.inner_text()
    table = first_route.locator("table.candidates").first
    scores = [float(s) for s in table.locator("tbody tr td:nth-child(7)").all_inner_texts()]
    assert scores and scores == sorted(scores, reverse=True)
    # each candidate's criteria open on demand, the chart compares them
    table.locator("details summary").first.click()
    assert "distance" in table.locator("ul.criteria").first.inner_text()
    assert first_route.locator("figure.chart svg rect").count() >= len(scores)
    near_misses = page.locator("details.near-misses").first
    if near_misses.count():
        near_misses.locator("summary").click()
        assert "relax to" in near_misses.inner_text()
    assert page.locator("ol.assignments li").count() >= 1


def test_match_an_uploaded_product_file(page):
    page.goto("/matching")
    page.set_input_files("#f-file", str(EXAMPLES / "sheet-metal-enclosure.json"))
    page.click("#upload-form button[type=submit]")
    heading = page.locator("section.route h2").first
    heading.wait_for()
    assert "bending" in heading.inner_text() and "powder coating" in heading.inner_text()


def test_match_errors_say_what_to_fix(page):
    page.goto("/matching?example=milled-bracket")
    page.fill("#f-material", "unobtainium")
    page.click("#match-form button[type=submit]")
    alert = page.locator(".notice.failure")
    alert.wait_for()
    assert "unknown material 'unobtainium'" in alert.inner_text()
    assert page.input_value("#f-material") == "unobtainium"  # what was typed stays


def test_sparql_example_runs_and_downloads_in_each_format(page, service):
    page.goto("/query")
    assert labelled(page) == []
    page.select_option("#f-example", "services-per-country")
    assert "COUNT(DISTINCT ?service)" in page.input_value("#f-query")
    page.click("#query-form button[type=submit]")
    table = page.locator("#query-results")
    table.wait_for()
    assert page.input_value("#f-example") == "services-per-country"  # the example stays chosen after Run
    assert table.locator("thead th").all_inner_texts() == ["country", "services", "providers"]
    snapshot(page, "sparql-results")
    counts = [int(n) for n in table.locator("tbody td:nth-child(2)").all_inner_texts()]
    health = requests.get(f"{service['base']}/health").json()
    assert counts and sum(counts) >= health["services"] - 5  # the other tests may publish meanwhile
    for label, media_type, extension in (("CSV", "text/csv", "csv"), ("JSON", "application/sparql-results+json", "srj"),
                                         ("XML", "application/sparql-results+xml", "srx"),
                                         ("TSV", "text/tab-separated-values", "tsv")):
        link = page.locator(".downloads a", has_text=re.compile(f"^{label}$"))
        response = requests.get(service["base"] + link.get_attribute("href"), timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(media_type)
        with page.expect_download() as download:  # a file named after the example, not "sparql"
            link.click()
        assert download.value.suggested_filename == f"services-per-country.{extension}"
    page.fill("#f-query", "SELECT * WHERE { ?s ?p }")
    page.click("#query-form button[type=submit]")
    assert page.locator(".notice.failure").is_visible()
    assert "SPARQL syntax error at line 1, column " in page.locator(".notice.failure").inner_text()
    assert page.locator("#query-error-excerpt").inner_text().startswith("SELECT * WHERE { ?s ?p }\n")


def test_taxonomy_tree_with_profile_counts_and_german_labels(page):
    page.goto("/taxonomy")
    assert page.locator("h2", has_text="Manufacturing processes").count() == 1
    page.locator("a", has_text=re.compile(r"^machining with geometrically defined cutting edges$")).first.click()
    assert page.locator("#profile-title").inner_text() == \
        "Capability profile of machining with geometrically defined cutting edges"
    assert "3.2 · machining with geometrically defined cutting edges / Spanen mit geometrisch" in \
        page.locator("section.card .lead").inner_text()
    profile = page.locator("section.card dl").inner_text()
    assert "economic batch" in profile and "ferrous metal" in profile
    count = int(page.locator("a[aria-current=true] + .notation + .count").first.inner_text())
    assert count > 0
    snapshot(page, "taxonomy-profile")
    page.click("text=DE")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text() == "Taxonomie"
    assert page.locator("a", has_text="Spanen mit geometrisch bestimmten Schneiden").count() >= 1
    # the choice sticks: the next page is German too
    page.click("nav >> text=Katalog")
    assert page.locator("h1").inner_text() == "Dienstleistungskatalog"


def test_catalogue_facets_filter_and_keyboard_navigation(page):
    page.goto("/catalogue")
    assert page.title() == "Catalogue · MaaS-KG"
    assert labelled(page) == []
    # classes nobody offers are not offered as facets
    assert page.locator("aside .count", has_text=re.compile(r"^0$")).count() == 0
    countries = page.locator("#facet-country li")
    assert countries.count() >= 2
    first = countries.first
    country = first.locator("a").inner_text()
    expected = int(first.locator(".count").inner_text())
    first.locator("a").click()
    shown = page.locator("table.results tbody td:nth-child(3)").all_inner_texts()
    assert shown and set(shown) == {country}
    # processes by their label, not their IRI
    assert all(" " in label or label.islower() for label in
               page.locator("table.results tbody td:nth-child(4)").all_inner_texts())
    assert f"{expected} services" in page.locator("table.results caption").inner_text()
    snapshot(page, "catalogue-country-facet")
    # the skip link is the first stop of the keyboard and moves the focus to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # a filter that names nothing says so next to its field
    page.fill("#f-process", "laser beam cuting")
    page.press("#f-process", "Enter")
    error = page.locator("#e-process")
    assert error.is_visible() and "closest known: laser beam cutting" in error.inner_text()


def test_page_titles_say_where_one_is(page):
    titles = set()
    for path in ("/catalogue", "/publish", "/matching", "/query", "/taxonomy"):
        page.goto(path)
        titles.add(page.title())
        assert page.locator("nav a[aria-current=page]").count() == 1
    assert len(titles) == 5


def test_form_fields_and_the_plain_json_product_agree():
    """The match form reproduces every example product exactly (what people fill in is what gets matched)."""
    from api.web import form_from_product, product_from_form

    for path in EXAMPLES.glob("*.json"):
        document = json.loads(path.read_text())
        rebuilt = product_from_form(form_from_product(document))
        expected = {k: v for k, v in document.items() if k != "id" and v not in ([], None)}
        assert rebuilt == expected, path.name


# -- the match result as a buyer reads it (issue 21, items 2, 3, 5 and 6) ------------------------------------------

def _match_example(page, example: str = "turned-ground-shaft", query: str = "", **values) -> None:
    page.goto(f"/matching?example={example}{query}")
    fill(page, values)
    page.click("#match-form button[type=submit]")


def test_match_result_opens_the_best_route_and_folds_the_others_to_one_line(page):
    import datetime

    _match_example(page)
    page.locator("section.match-summary").wait_for()
    summary = page.locator("section.match-summary").inner_text()
    assert "42CrMo4" in summary and "200" in summary and "price 0.6" in summary
    routes = page.locator("section.route")
    assert routes.count() >= 2
    assert routes.first.locator("details.match-route").count() == 0  # the best route is open
    assert routes.first.locator("table.candidates").first.is_visible()
    for n in range(1, routes.count()):
        folded = routes.nth(n).locator("details.match-route")
        assert folded.get_attribute("open") is None
        line = folded.locator("> summary").inner_text()
        assert "\n" not in line and line.startswith(f"Route {n + 1}:") and "score" in line, line
        assert folded.locator("> summary").locator("a, button, input").count() == 0
    assert page.evaluate("document.documentElement.scrollHeight") < 6900
    # the totals: price in EUR, the arrival date (today + delivery days), transport, and the score in words
    best = routes.first.locator("ol.assignments > li").first
    totals = best.locator("dl.match-totals").inner_text()
    assert "EUR" in totals and "km" in totals and "kg CO2e" in totals
    arrival, days = re.search(r"(\d{4}-\d{2}-\d{2}) \(today \+ (\d+) delivery days\)", totals).groups()
    assert datetime.date.fromisoformat(arrival) == datetime.date.today() + datetime.timedelta(days=int(days))
    score = best.locator(".match-score").inner_text()
    assert re.search(r"Score \d\.\d{3} = typical fit \d\.\d\d × \(1 − total \d\.\d{3} / 2 step\(s\)\)", score), score
    assert re.search(r"score \d\.\d{3} = 0\.6 × price \d\.\d\d \+ 0\.2 × ", score), score  # heaviest first
    assert routes.first.locator("abbr", has_text="delivery days").count() >= 1
    snapshot(page, "match-result-best-route-open")


def test_match_near_misses_name_provider_and_service_and_how_much_to_relax(page):
    _match_example(page, tolerance_mm="0.006")  # grinding reaches 0.008 mm in the demo catalogue
    page.locator("section.route").first.wait_for()
    misses = page.locator("section.route").first.locator("details.near-misses")
    assert misses.count() >= 1
    misses.first.locator("summary").click()
    items = misses.first.locator("li").all_inner_texts()
    assert items and all("cncturning" not in item and "https://" not in item and ": " in item for item in items)
    relaxed = "\n".join(page.locator("section.route").first.locator("ul.relaxations").all_inner_texts())
    assert re.search(r"relax tolerance from 0\.006 mm to [0-9.]+ mm: \+\d+ candidate", relaxed), relaxed
    snapshot(page, "match-near-misses-named")


def test_match_refuses_a_past_due_date_next_to_the_field_in_the_page_language(page):
    _match_example(page, due="2020-01-01")
    error = page.locator("#e-due")
    error.wait_for()
    assert "the due date 2020-01-01 is in the past" in error.inner_text()
    assert page.get_attribute("#f-due", "aria-invalid") == "true"
    assert page.input_value("#f-material") == "42CrMo4"  # what was typed stays
    _match_example(page, query="&lang=de", due="2020-01-01")
    assert "liegt in der Vergangenheit" in page.locator("#e-due").inner_text()


def test_match_names_the_earliest_date_when_the_due_date_is_too_soon(page):
    import datetime

    soon = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    _match_example(page, due=soon)
    error = page.locator("#e-due")
    error.wait_for()
    earliest = re.search(r"the earliest date any route could make is (\d{4}-\d{2}-\d{2})", error.inner_text())
    assert earliest and earliest[1] > soon, error.inner_text()
    # that date is enough: the match then has a route
    page.fill("#f-due", earliest[1])
    page.click("#match-form button[type=submit]")
    assert page.locator("section.route ol.assignments li").count() >= 1
    snapshot(page, "match-earliest-due-date")


def test_match_refuses_all_weights_zero_next_to_the_weights(page):
    page.goto("/matching?example=milled-bracket")
    for field in page.locator("#match-form input[name^=weight_]").all():
        field.fill("0")
    page.click("#match-form button[type=submit]")
    error = page.locator("#e-weights")
    error.wait_for()
    assert "all weights are 0" in error.inner_text()


def test_match_a_delivery_place_by_name_as_by_its_coordinates(page):
    from maas_kg.matching.places import resolve

    def best_route():
        route = page.locator("section.route").first
        route.wait_for()
        return route.locator("ol.assignments").inner_text(), route.locator("table.candidates").first.inner_text()

    _match_example(page, place="Munich")
    assert "Munich, DE" in page.locator("section.match-summary").inner_text()
    by_name = best_route()
    munich = resolve("Munich")
    _match_example(page, place=f"{munich.lat}, {munich.lon}")
    assert best_route() == by_name
    # "match another product" keeps the form's values
    page.locator("a", has_text="Match another product").click()
    assert page.input_value("#f-place") == f"{munich.lat}, {munich.lon}"
    assert page.input_value("#f-material") == "42CrMo4"
    _match_example(page, place="Xyzzyville")
    error = page.locator("#e-place")
    error.wait_for()
    assert "no city named 'Xyzzyville'" in error.inner_text()


def test_match_result_fits_a_phone_without_horizontal_scrolling(page):
    page.set_viewport_size({"width": 390, "height": 844})
    _match_example(page)
    page.locator("section.route").first.wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    # what sticks out, outermost first, for the failure message
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > 391 && !el.parentElement.closest('.match-scroll'))
        .slice(0, 8).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))""")
    assert width <= 390, (width, wide)
    snapshot(page, "match-result-phone")


# -- the taxonomy pages as ontology editors use them (issue 21, items 15 and 16) ----------------------------------

PROC_NS, MAT_NS = "https://w3id.org/maas-kg/process#", "https://w3id.org/maas-kg/material#"


def _class_page(page, iri: str, lang: str = "en"):
    return page.goto("/taxonomy?" + requests.compat.urlencode({"class": iri, "lang": lang}))


def test_taxonomy_material_page_lists_its_services_and_its_link_filters_the_catalogue_by_material(page):
    _class_page(page, MAT_NS + "AluminiumAlloy")
    assert page.locator("#profile-title").inner_text() == "Material aluminium alloy"
    assert "No profile stated" not in page.locator("section.class-page").inner_text()
    assert page.locator("ul.class-services li").count() > 0
    snapshot(page, "taxonomy-material-services")
    page.locator("a.all-services").click()
    assert "material=" in page.url and "process=" not in page.url
    assert page.locator("[role=alert]:visible, .error:visible").count() == 0
    assert "unknown process" not in page.locator("main").inner_text()
    assert page.locator("table.results tbody tr").count() > 0


def test_taxonomy_material_shows_designations_synonyms_and_parent_classes(page):
    _class_page(page, MAT_NS + "Steel42CrMo4")
    facts = page.locator("section.class-page table.facts").inner_text()
    assert "Material number" in facts and "1.7225" in facts
    synonyms = page.locator("ul.synonyms li").all_inner_texts()
    assert any(s.startswith("AISI 4140") for s in synonyms) and any(s.startswith("SAE 4140") for s in synonyms)
    assert page.locator("ul.parents a", has_text="alloy steel").count() == 1
    assert "https://w3id.org/maas-kg/material#Steel42CrMo4" in page.locator(".class-iri").inner_text()
    snapshot(page, "taxonomy-material-facts")


def test_taxonomy_profile_shows_labels_with_units_and_where_values_are_inherited_from(page):
    _class_page(page, PROC_NS + "Honing")
    profile = page.locator("dl.profile")
    best = profile.locator("dt", has_text=re.compile(r"^profile best Ra$"))
    assert best.count() == 1
    assert best.locator("xpath=following-sibling::dd[1]").locator(".values").inner_text() == "0.1\u00a0µm"
    assert "profileRaBest" not in profile.inner_text()
    inherited = profile.locator(".inherited a", has_text="machining with geometrically undefined cutting edges")
    assert inherited.count() >= 1
    assert profile.locator(".stated").count() >= 1  # Honing states its own roughness
    snapshot(page, "taxonomy-profile-units")
    inherited.first.click()
    assert page.locator("#profile-title").inner_text() == \
        "Capability profile of machining with geometrically undefined cutting edges"


def test_taxonomy_breadcrumb_leads_from_the_root_to_the_class(page):
    _class_page(page, PROC_NS + "Honing")
    crumbs = page.locator("nav.breadcrumb li")
    assert crumbs.all_inner_texts() == ["manufacturing process", "separating",
                                        "machining with geometrically undefined cutting edges", "honing"]
    assert page.locator("nav.breadcrumb [aria-current=page]").inner_text() == "honing"
    page.locator("nav.breadcrumb a", has_text="separating").click()
    assert page.locator("#profile-title").inner_text() == "Capability profile of separating"


def test_taxonomy_search_box_filters_the_tree_to_matches_and_their_ancestors(page):
    page.goto("/taxonomy")
    full = page.locator(".tree li").count()
    page.fill("#taxonomy-q", "honing")
    page.press("#taxonomy-q", "Enter")
    page.wait_for_url(re.compile(r"[?&]q=honing"))
    tree = page.locator("#processes-title + .tree")
    assert tree.locator("a", has_text=re.compile(r"^honing$")).count() == 1
    assert tree.locator("mark", has_text="honing").count() == 1
    for ancestor in ("separating", "machining with geometrically undefined cutting edges"):
        assert tree.locator("a", has_text=re.compile(f"^{ancestor}$")).count() == 1
    assert page.locator(".tree a", has_text=re.compile(r"^milling$")).count() == 0
    assert page.locator(".tree li").count() < full
    assert page.locator(".search-result").inner_text() == "1 class matches “honing”"
    # links in the tree stay outside the summaries (no nested interactive controls)
    assert page.locator("summary a").count() == 0
    snapshot(page, "taxonomy-search-honing")
    # synonyms and notations are found too, in the material tree
    page.goto("/taxonomy?q=AISI+4140")
    assert page.locator("#materials-title + .tree mark", has_text="42CrMo4").count() == 1
    page.goto("/taxonomy?q=1.7225")
    assert page.locator("#materials-title + .tree mark", has_text="42CrMo4").count() == 1


def test_taxonomy_siblings_are_sorted_by_notation_naturally(page):
    page.goto("/taxonomy")
    notations = page.evaluate("""() => {
        const link = [...document.querySelectorAll('.tree a')].find(a => a.textContent.trim() === 'primary shaping');
        const item = link.closest('li');
        return [...item.querySelectorAll(':scope > details > ul > li > .notation')].map(n => n.textContent);
    }""")
    assert notations.index("1.2") < notations.index("1.9") < notations.index("1.10"), notations
    assert notations[-1] == "1.10", notations


def test_taxonomy_unknown_class_is_a_404_page(page):
    response = _class_page(page, MAT_NS + "42CrMo4")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "There is no such page"
    assert page.locator("nav a[aria-current=page]", has_text="Taxonomy").count() == 1


def test_taxonomy_german_page_shows_german_labels_definitions_and_profile(page):
    _class_page(page, MAT_NS + "Steel42CrMo4", lang="de")
    assert page.locator("#profile-title").inner_text() == "Werkstoff 42CrMo4"
    definition = page.locator(".class-definition")
    assert definition.inner_text().startswith("Chrom-Molybdän-Vergütungsstahl") and \
        definition.get_attribute("lang") is None
    assert page.locator("ul.parents a", has_text="legierter Stahl").count() == 1
    assert page.locator("nav.breadcrumb li").all_inner_texts()[:2] == ["Werkstoff", "Metall"]
    # the tree's definitions in German where the ontology has them
    metal = page.evaluate("""() => [...document.querySelectorAll('.tree a')]
        .find(a => a.textContent.trim() === 'Metall').closest('li').querySelector(':scope > .definition').textContent""")
    assert metal == "Ein metallischer Werkstoff, eisenbasiert oder nicht."
    _class_page(page, PROC_NS + "Honing", lang="de")
    profile = page.locator("dl.profile")
    assert profile.locator("dt", has_text=re.compile(r"^Profil beste Rauheit Ra$")).count() == 1
    assert "geerbt von" in profile.inner_text() and "Eisenwerkstoff" in profile.inner_text()
    # no German definition in the ontology: the English one, marked as English
    assert page.locator(".class-definition").get_attribute("lang") == "en"
    snapshot(page, "taxonomy-profile-de")


# -- the provider's pages: edit, withdraw, identity from the key, no duplicates, live errors (issue 21, 9-14) --------

WEBER_DOCUMENT = Path(__file__).parent / "data" / "service-weber.json"
SERVICE_FIELDS = {"process": "turning", "materials": "42CrMo4", "envelope_mm": "300, 300, 600", "batch_size": "1, 100",
                  "capacity_per_week": "50", "lead_time_days": "5", "price_setup": "100", "price_unit": "10"}


def _weber_published(service) -> None:
    """Weber has a published service (its name, country and site), whichever tests ran before."""
    answer = requests.put(f"{service['base']}/services/service/weber-5axis", data=WEBER_DOCUMENT.read_bytes(),
                          headers={"Authorization": f"Bearer {service['provider']}",
                                   "Content-Type": "application/json"}, timeout=60)
    assert answer.status_code in (200, 201), answer.text


def _publish_by_form(page, key: str, name: str, **values) -> None:
    page.goto("/publish")
    page.fill("#f-api_key", key)
    fill(page, {"name": name, **SERVICE_FIELDS, **values})
    page.click("#publish-form button[type=submit]")


def _other_key(service) -> str:
    from harness import cli

    made = cli(service["env"], "keys", "create", "--provider", "https://w3id.org/maas-kg/id/provider/someone-else")
    return made.stdout.strip()


def test_publish_fills_the_provider_from_the_key_redirects_and_refuses_the_same_service_twice(page, service):
    _weber_published(service)
    name = f"Turning twice {uuid.uuid4().hex[:6]}"
    page.goto("/publish")
    page.fill("#f-api_key", service["provider"])
    # the key names the provider: its IRI, name, country and site come from its published service
    page.wait_for_function("document.querySelector('#f-provider_name').value !== ''")
    assert page.input_value("#f-provider_id") == PROVIDER
    assert page.input_value("#f-provider_name") == "Feinmechanik Weber GmbH"
    assert page.input_value("#f-provider_country") == "DE" and page.input_value("#f-provider_lat") == "48.8303"
    fill(page, {"name": name, **SERVICE_FIELDS})
    with page.expect_response(lambda r: r.url.endswith("/publish") and r.request.method == "POST") as response:
        page.click("#publish-form button[type=submit]")
    assert response.value.status == 303  # POST-redirect-GET: to the service's page, with the notice
    assert "/catalogue/service?iri=" in page.url and page.locator("h1").inner_text() == name
    assert "Published:" in page.locator(".notice.success").inner_text()
    published = page.locator(".notice.success a").inner_text()
    # the same form sent again is refused with a link to the published service
    with page.expect_response(lambda r: r.url.endswith("/publish") and r.request.method == "POST") as response:
        _publish_by_form(page, service["provider"], name)
    assert response.value.status == 409
    notice = page.locator("#identical")
    assert "Already published" in notice.inner_text() and published in notice.inner_text()
    notice.locator("a", has_text=published).click()
    assert page.locator("h1").inner_text() == name
    listed = requests.get(f"{service['base']}/services", params={"per_page": 500}).json()["items"]
    assert [item["name"] for item in listed].count(name) == 1


def test_a_signed_in_provider_publishes_without_pasting_the_key(page, service):
    _weber_published(service)
    page.goto("/sign-in")
    page.fill("#f-api_key", service["provider"])
    page.click("#sign-in-form button[type=submit]")
    page.goto("/publish")
    assert page.input_value("#f-provider_id") == PROVIDER  # filled by the server from the sign-in
    assert page.input_value("#f-provider_name") == "Feinmechanik Weber GmbH"
    name = f"Signed-in turning {uuid.uuid4().hex[:6]}"
    fill(page, {"name": name, **SERVICE_FIELDS})
    page.click("#publish-form button[type=submit]")
    assert page.locator("h1").inner_text() == name


def test_edit_opens_the_form_filled_from_the_published_version_and_publishes_the_next(page, service):
    name = f"Editable turning {uuid.uuid4().hex[:6]}"
    _publish_by_form(page, service["provider"], name, provider_name="Feinmechanik Weber GmbH",
                     provider_country="DE", provider_lat="48.8303", provider_lon="9.1717")
    assert "Version 1" in page.locator("p.lead").inner_text()
    iri = page.locator(".notice.success a").inner_text()
    page.click("#edit-service")
    assert page.locator("h1").inner_text() == "Edit a service"
    assert page.input_value("#f-id") == iri and page.input_value("#f-name") == name
    assert page.input_value("#f-process") == "turning" and page.input_value("#f-lead_time_days") == "5"
    assert page.input_value("#f-batch_size") == "1, 100" and page.input_value("#f-price_unit") == "10"
    assert page.input_value("#f-provider_id") == PROVIDER
    assert page.locator(".field.invalid").count() == 0
    page.fill("#f-api_key", service["provider"])
    page.fill("#f-lead_time_days", "7")
    page.click("#publish-form button[type=submit]")
    assert page.locator("h1").inner_text() == name
    assert "Version 2" in page.locator("p.lead").inner_text()
    assert "7" in page.locator("#part-service + dl").inner_text()
    summary = requests.get(f"{service['base']}/services/{iri.removeprefix('https://w3id.org/maas-kg/id/')}").json()
    assert summary["version"] == "2"
    # another organisation's key may not publish the edit: refused, nothing changed
    page.click("#edit-service")
    page.fill("#f-api_key", _other_key(service))
    page.fill("#f-lead_time_days", "9")
    with page.expect_response(lambda r: r.url.endswith("/publish") and r.request.method == "POST") as response:
        page.click("#publish-form button[type=submit]")
    assert response.value.status == 403
    assert "only publish services of your own organisation" in page.locator("#report").inner_text()
    assert requests.get(f"{service['base']}/catalogue/service", params={"iri": iri}).text.count("Version 2") == 1


def test_withdraw_needs_the_owners_key_and_the_confirmation(page, service):
    name = f"Withdrawable turning {uuid.uuid4().hex[:6]}"
    _publish_by_form(page, service["provider"], name, provider_name="Feinmechanik Weber GmbH",
                     provider_country="DE", provider_lat="48.8303", provider_lon="9.1717")
    iri = page.locator(".notice.success a").inner_text()
    assert labelled(page) == []
    # another organisation's key: refused, with the reason next to the key, nothing changed
    page.fill("#withdraw-form #f-api_key", _other_key(service))
    page.check("#f-confirm")
    page.click("#withdraw-form button[type=submit]")
    assert "belongs to https://w3id.org/maas-kg/id/provider/weber" in page.locator("#e-api_key").inner_text()
    assert page.locator("h1").inner_text() == name
    # the owner's key without the confirmation: nothing happens but a request to confirm
    page.fill("#withdraw-form #f-api_key", service["provider"])
    page.uncheck("#f-confirm")
    page.click("#withdraw-form button[type=submit]")
    assert "I withdraw this service" in page.locator("#e-confirm").inner_text()
    assert page.get_attribute("#f-confirm", "aria-invalid") == "true"
    page.fill("#withdraw-form #f-api_key", service["provider"])
    page.check("#f-confirm")
    page.click("#withdraw-form button[type=submit]")
    assert "Withdrawn:" in page.locator(".notice.success").inner_text()
    assert "Withdrawal" in page.locator("table.results").inner_text()
    listed = requests.get(f"{service['base']}/services", params={"per_page": 500}).json()["items"]
    assert name not in {item["name"] for item in listed}
    page.goto("/catalogue?country=DE")
    assert page.locator("table.results a", has_text=name).count() == 0


def test_a_provider_iri_minted_from_an_umlaut_name_is_transliterated(page, service):
    suffix = uuid.uuid4().hex[:4]
    _publish_by_form(page, service["admin"], f"Umlaut turning {suffix}", provider_name=f"Bauer Präzisionstechnik {suffix} GmbH",
                     provider_country="DE", provider_lat="48.37", provider_lon="10.89")
    iri = page.locator(".notice.success a").inner_text()
    summary = requests.get(f"{service['base']}/services/{iri.removeprefix('https://w3id.org/maas-kg/id/')}").json()
    assert summary["provider"] == f"https://w3id.org/maas-kg/id/provider/bauer-praezisionstechnik-{suffix}-gmbh-de"


def test_live_errors_show_on_touched_fields_only_next_to_the_field_with_its_label(page, service):
    page.goto("/publish")
    page.fill("#f-name", "Half-typed service")
    page.locator("#live").wait_for(state="visible")
    # the process, materials, price ... are missing, but nobody has touched them yet
    assert page.locator(".field.invalid").count() == 0
    assert "in fields not filled yet" in page.locator("#live").inner_text()
    # the currency's and the unit price's problems sit next to their fields, once, with their labels
    page.fill("#f-price_currency", "euro")
    error = page.locator("#e-price_currency")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("Currency: ") and "ISO 4217" in error.inner_text()
    assert "ISO 4217" not in page.locator("#live").inner_text()
    page.fill("#f-provider_country", "Germany")
    page.locator("#e-provider_country").wait_for(state="visible")
    assert page.locator("#e-provider_country").inner_text().startswith("Country: ")
    assert page.locator("#e-process").is_hidden()
    # the key's provider: another provider's IRI is refused before submitting
    page.fill("#f-api_key", service["provider"])
    page.wait_for_function("document.querySelector('#f-provider_id').value !== ''")
    page.fill("#f-provider_id", "https://w3id.org/maas-kg/id/provider/someone-else")
    page.locator("#e-provider_id").wait_for(state="visible")
    assert "this key may not publish for that provider" in page.locator("#e-provider_id").inner_text()


def test_live_errors_are_german_on_the_german_page(page):
    page.goto("/publish?lang=de")
    page.fill("#f-lead_time_days", "-1")
    error = page.locator("#e-lead_time_days")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("Lieferzeit (Tage): muss eine Anzahl Tage sein, 0 oder mehr"), error.inner_text()
    assert page.locator("#e-name").is_hidden()
    page.fill("#f-price_unit", "-3")
    page.locator("#e-price_unit").wait_for(state="visible")
    assert page.locator("#e-price_unit").inner_text().startswith("Stückpreis: ")


def test_an_upload_naming_only_an_existing_provider_iri_publishes(page, service, tmp_path):
    _weber_published(service)
    document = json.loads(WEBER_DOCUMENT.read_text())
    name = f"Uploaded grinding {uuid.uuid4().hex[:6]}"
    document.update(name=name, process="grinding", provider={"id": PROVIDER})
    del document["id"]
    upload = tmp_path / "grinding.json"
    upload.write_text(json.dumps(document))
    page.goto("/publish")
    page.fill("#f-api_key", service["provider"])
    page.check("input[name=mode][value=text]")
    page.set_input_files("#f-file", str(upload))
    page.click("#publish-form button[type=submit]")
    assert page.locator("h1").inner_text() == name
    assert "Feinmechanik Weber GmbH" in page.locator("#part-provider + dl").inner_text()



def test_an_edit_from_the_form_keeps_the_it_grade_and_never_drops_other_statements_unnoticed(page, service):
    """Editing from the form carries the IT grade (a hidden field); what the form cannot show at all (here a
    minimum feature size) is named, and the form publishes without it only once the provider confirms that."""
    document = json.loads(WEBER_DOCUMENT.read_text())
    document.update(id="https://w3id.org/maas-kg/id/service/weber-edit-keeps", min_feature_mm=0.5)
    headers = {"Authorization": f"Bearer {service['provider']}", "Content-Type": "application/json"}
    put = requests.put(f"{service['base']}/services/service/weber-edit-keeps", data=json.dumps(document),
                       headers=headers, timeout=60)
    assert put.status_code in (200, 201), put.text
    page.goto("/publish?edit=" + requests.utils.quote(document["id"], safe=""))
    assert page.locator("#uncovered").is_visible() and "minFeatureSize" in page.locator("#uncovered").inner_text()
    page.fill("#f-api_key", service["provider"])
    page.fill("#f-lead_time_days", "12")
    with page.expect_response(lambda r: r.url.endswith("/publish") and r.request.method == "POST") as response:
        page.click("#publish-form button[type=submit]")
    assert response.value.status == 422 and page.locator("#e-drop_uncovered").is_visible()
    published = requests.get(f"{service['base']}/services/service/weber-edit-keeps", timeout=30).json()
    assert published["version"] == "1"  # nothing written
    page.check("#f-drop_uncovered")
    page.fill("#f-api_key", service["provider"])
    page.click("#publish-form button[type=submit]")
    assert "Version 2" in page.locator("p.lead").inner_text()
    turtle = requests.get(f"{service['base']}/services/service/weber-edit-keeps", params={"format": "turtle"},
                          timeout=30).text
    graph = rdflib.Graph().parse(data=turtle, format="turtle")
    grades = {int(o) for o in graph.objects(None, rdflib.URIRef("https://w3id.org/maas-kg/ns#achievableITGrade"))}
    assert grades == {document["it_grade"]}


def test_a_kept_match_result_has_a_private_link_downloads_and_prints_on_a_few_pages(page, service, browser):
    """Item 4: keep the shaft's result; its link opens it in another browser (no sign-in), CSV and JSON download,
    and it prints on a few A4 pages without the forms."""
    _match_example(page)
    page.click("#keep-form button[type=submit]")
    link = page.locator("#kept-link").get_attribute("href")
    assert "/matching/results/" in link
    with page.expect_download() as download:
        page.click("#kept-csv")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("route,route_score,step,process,rank,provider") and len(lines) > 5
    other = browser.new_context()
    try:
        elsewhere = other.new_page()
        elsewhere.goto(link)
        assert elsewhere.locator("#kept-notice").is_visible() and elsewhere.locator("section.route").count() >= 1
        elsewhere.emulate_media(media="print")
        assert not elsewhere.locator("#match-form, #keep-form, header nav").first.is_visible()
        pdf = elsewhere.pdf(format="A4")
        pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        assert 1 <= pages <= 8, pages
    finally:
        other.close()
    snapshot(page, "match-result-kept")
