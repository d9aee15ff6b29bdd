"""Accessibility (issue 21, item 19): axe-core finds no violation of serious or critical impact on any of our pages,
at a desktop and a phone width, in the real browser against the real service. axe-core is the npm package pinned in
tests/axe/ (`make test` installs it with `npm ci`); it is injected from that folder, never from a CDN. Every page
also has its favicon (item 20: no 404 in any page's log), and fits the width of a phone (item 8)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness import running_service, snapshot

pytestmark = pytest.mark.slow

AXE = Path(os.environ.get("MAAS_KG_AXE", Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"))
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: `make test` installs it (npm ci --prefix tests/axe)")
    with running_service(tmp_path_factory.mktemp("axe"), providers=300, seed=1) as running:
        yield running


def _visit_result_of_matching(page) -> None:
    page.goto("/matching")
    page.select_option("#f-example", "turned-ground-shaft")
    page.click("#example-form button")
    page.click("#match-form button[type=submit]")
    page.locator("table").first.wait_for()


def _visit_result_of_resilience(page) -> None:
    page.goto("/resilience")
    page.check("#ev-gerber-insolvency")
    page.click("#resilience-form button[type=submit]")
    page.locator("#risk-matrix").wait_for()


def _visit_result_of_circularity(page) -> None:
    page.goto("/circularity")
    page.check("#f-source-example")
    page.select_option("#f-example", "industrial-gearbox")
    page.click("#circularity-form button[type=submit]")
    page.locator("#strategies").wait_for()


def _visit_result_of_cad(page) -> None:
    from test_web_cad import upload_in_the_browser

    upload_in_the_browser(page)  # the milled bracket's STEP file: its 3D preview drawn, the routes below


def _visit_first_service(page) -> None:
    page.goto("/catalogue")
    page.locator("main a[href*='/catalogue/service']").first.click()
    page.locator("h1").wait_for()


def _visit_own_service_with_price_check(page, service) -> None:
    """The provider's own service page, signed in: its price check (issue 22, 1.3) against the demo's services."""
    import requests

    document = json.loads((Path(__file__).parent / "data" / "service-weber.json").read_text())
    document.update(id="https://w3id.org/maas-kg/id/service/weber-axe-price-check", name="Costed 5-axis milling",
                    cost_model={"machine_hour_rate": 85, "setup_hours": 1, "currency": "EUR"})
    answer = requests.put(f"{service['base']}/services/service/weber-axe-price-check", json=document,
                          headers={"Authorization": f"Bearer {service['provider']}"}, timeout=60)
    assert answer.status_code in (200, 201), answer.text
    page.goto("/sign-in")
    page.fill("#f-api_key", service["provider"])
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_load_state()
    page.goto("/catalogue/service?iri=https%3A%2F%2Fw3id.org%2Fmaas-kg%2Fid%2Fservice%2Fweber-axe-price-check")
    page.locator("#price-check-table").wait_for()


#: the pages whose visit needs the running service (its keys), not only the browser's page
NEEDS_SERVICE = {"service-price-check"}

PAGES = {
    "home": "/", "catalogue": "/catalogue", "catalogue-filtered": "/catalogue?process=milling&country=DE",
    "publish": "/publish", "matching": "/matching", "taxonomy": "/taxonomy",
    "taxonomy-class": "/taxonomy?class=https%3A%2F%2Fw3id.org%2Fmaas-kg%2Fprocess%23Milling",
    "query": "/query", "resilience": "/resilience", "circularity": "/circularity", "sign-in": "/sign-in",
    "home-de": "/?lang=de", "service": _visit_first_service, "matching-result": _visit_result_of_matching,
    "resilience-result": _visit_result_of_resilience, "circularity-result": _visit_result_of_circularity,
    "matching-cad-result": _visit_result_of_cad, "service-price-check": _visit_own_service_with_price_check,
}


def serious_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                             nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in found if v["impact"] in SERIOUS]


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_serious_accessibility_violation(browser, service, name, width):
    context = browser.new_context(base_url=service["base"], viewport=WIDTHS[width])
    context.set_default_timeout(60_000)
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    try:
        visit = PAGES[name]
        if name in NEEDS_SERVICE:
            visit(page, service)
        elif callable(visit):
            visit(page)
        else:
            assert page.goto(visit).status == 200
        violations = serious_violations(page)
        snapshot(page, f"axe-{name}-{width}")
        # item 8: every page fits a phone (wide tables scroll in their own box, never the page)
        overflow = page.evaluate("document.documentElement.scrollWidth") - WIDTHS[width]["width"]
    finally:
        context.close()
    assert not violations, json.dumps(violations, indent=1)
    assert overflow <= 0, f"the page is {overflow} px wider than the {width}'s {WIDTHS[width]['width']} px"
    assert not missing, f"404s while loading the page: {missing}"


def test_the_favicon_is_served_and_linked(service):
    import requests

    icon = requests.get(service["base"] + "/favicon.ico", timeout=30)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/")
    home = requests.get(service["base"] + "/", timeout=30).text
    assert 'rel="icon"' in home


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_catalogue_search_is_the_first_stop_after_the_skip_link(browser, service, width):
    """Item 19: the search field came 96 tabs after the skip link, behind the facets; the search and the results now
    come first (on a phone also visually: the results are not below the facets)."""
    context = browser.new_context(base_url=service["base"], viewport=WIDTHS[width])
    page = context.new_page()
    try:
        page.goto("/catalogue")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "f-process"
        results = page.locator("table.results").bounding_box()
        facets = page.locator("aside").bounding_box()
        if width == "phone":
            assert results["y"] < facets["y"]
        else:
            assert facets["x"] < results["x"]  # the facets stand left of the results
    finally:
        context.close()
