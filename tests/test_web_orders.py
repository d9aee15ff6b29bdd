"""The stage-3 pages in a real browser: Playwright drives Debian's chromium against the real service (`maas-kg
serve`, gunicorn, two workers, on-disk store). A buyer matches an example product and requests quotes from two
candidates of one step; the providers answer in their inboxes; buyer and provider negotiate, the buyer accepts, the
provider reports shipping and delivery, the buyer reads the timeline and evaluates. Each party works in a browser
context of its own (its own sign-in cookie). Screenshots land in test-artifacts/web/."""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import quote

import pytest
import requests

from harness import cli, labelled, running_service, snapshot

pytestmark = pytest.mark.slow

BUYER = "https://w3id.org/maas-kg/id/buyer/acme-gears"
OTHER_BUYER = "https://w3id.org/maas-kg/id/buyer/globex"
TODAY = datetime.date.today()
DUE = (TODAY + datetime.timedelta(days=120)).isoformat()
VALID = (TODAY + datetime.timedelta(days=20)).isoformat()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("web-orders"), providers=25, seed=3) as running:
        yield running


class Parties:
    """A browser context per party, each with the URLs it requested and the JavaScript errors it saw."""

    def __init__(self, browser, service):
        self.browser, self.service = browser, service
        self.contexts, self.urls, self.errors = [], [], []

    def open(self):
        context = self.browser.new_context(base_url=self.service["base"], viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def signed_in(self, token: str, expected_home: str):
        page = self.open()
        page.goto("/sign-in")
        page.fill("#f-api_key", token)
        page.click("#sign-in-form button[type=submit]")
        page.wait_for_url(f"**{expected_home}")
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def parties(browser, service):
    opened = Parties(browser, service)
    yield opened
    opened.close()
    assert not opened.errors, f"JavaScript errors on the pages: {opened.errors}"
    # a key never travels in a URL
    assert not [url for url in opened.urls if "mkg_" in url]


def new_key(service, *args: str) -> str:
    created = cli(service["env"], "keys", "create", *args)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def posting(page, path_part: str):
    return page.expect_response(lambda r: path_part in r.url and r.request.method == "POST")


def offer(page, **terms) -> None:
    for name in ("price", "currency", "lead_time_days", "valid_until", "conditions"):
        if name in terms:
            page.fill(f"#offer-form #f-{name}", str(terms[name]))
    if "incoterm" in terms:
        page.select_option("#offer-form #f-incoterm", terms["incoterm"])


def test_from_a_match_through_offers_and_an_order_to_the_evaluation(parties, service):
    base = service["base"]
    buyer = parties.open()
    # -- the buyer matches an example product and asks two candidates of one step for quotes
    buyer.goto("/matching?example=turned-ground-shaft")
    buyer.fill("#f-due", DUE)
    buyer.click("#match-form button[type=submit]")
    route = buyer.locator("section.route").first
    route.wait_for()
    tables = route.locator("table.candidates")
    step = next(n for n in range(1, tables.count() + 1) if tables.nth(n - 1).locator("tbody tr").count() >= 2)
    assert labelled(buyer) == []
    # the best assignment is ticked; the buyer asks only the first two candidates of the chosen step
    assert route.locator("input[name=pick]:checked").count() == tables.count()
    for box in [route.locator(f"#{i}") for i in route.locator("input[name=pick]:checked").evaluate_all(
            "boxes => boxes.map(b => b.id)")]:
        box.uncheck()
    picked = {}
    for index in (1, 2):
        box = buyer.locator(f"#pick-1-{step}-{index}")
        box.check()
        service_iri = box.get_attribute("value").split()[1]
        summary = requests.get(f"{base}/services/{quote(service_iri, safe='')}", timeout=30).json()
        picked[summary["provider"]] = summary["providerName"]
    assert len(picked) == 2
    step_label = route.locator(f"input[name=step_{step}]").get_attribute("value")
    # what the other steps require (their process IRIs) reaches none of this step's providers
    others = [json.loads(route.locator(f"input[name=requirements_{n}]").get_attribute("value"))["process_iri"]
              for n in range(1, tables.count() + 1) if n != step]
    assert buyer.input_value("#f-r1-quantity") == "200" and buyer.input_value("#f-r1-due") == DUE
    buyer.fill("#f-r1-api_key", new_key(service, "--buyer", BUYER))
    buyer.fill("#f-r1-place", "Munich plant, gate 3")
    snapshot(buyer, "orders-request-quotes")
    buyer.click("#quotes-1 button[type=submit]")
    buyer.wait_for_url(re.compile(r"/purchases/inq-[0-9a-f]+$"))
    comparison = buyer.url
    assert buyer.title() == "Compare offers · MaaS-KG"
    assert "2 request(s) for quotation sent" in buyer.locator(".notice.success").inner_text()
    rows = buyer.locator("table.offers tbody tr")
    assert rows.count() == 2 and rows.locator("text=no offer yet").count() == 2
    rfq_of = {}
    for provider, name in picked.items():
        row = buyer.locator("table.offers tbody tr", has_text=name)
        rfq_of[provider] = row.get_attribute("id").removeprefix("option-")
    first, second = list(picked)

    # -- each provider finds its request in its inbox and offers; a bad lead time is refused next to its field
    sellers = {}
    for provider, price, lead_time in ((first, 3000, 10), (second, 2500, 200)):
        page = sellers[provider] = parties.signed_in(new_key(service, "--provider", provider), "/inbox")
        assert page.title() == "Inbox · MaaS-KG"
        page.click(f"#inbox-requests a[href$='{rfq_of[provider]}']")
        assert page.locator("h1").inner_text() == f"Request for quotation: {step_label}"
        facts = page.locator("#request-facts").inner_text()
        assert "200" in facts and "Munich plant, gate 3" in facts and DUE in facts
        assert step_label in page.locator("dl.requirements").inner_text()
        assert "42CrMo4" in page.locator("dl.requirements").inner_text()
        # nothing of the route's other steps, nor of the other provider
        assert others and not [iri for iri in others if iri in page.content()]
        assert rfq_of[first if provider == second else second] not in page.content()
        assert labelled(page) == []
        if provider == first:
            offer(page, price=price, lead_time_days=-1, valid_until=VALID)
            with posting(page, "/offer") as response:
                page.click("#offer-form button[type=submit]")
            assert response.value.status == 422
            assert "must be from 0 to 3650" in page.locator("#e-lead_time_days").inner_text()
            assert page.get_attribute("#f-lead_time_days", "aria-invalid") == "true"
            snapshot(page, "orders-offer-error")
        offer(page, price=price, currency="EUR", lead_time_days=lead_time, valid_until=VALID, incoterm="FCA",
              conditions="payment 30 days net")
        page.click("#offer-form button[type=submit]")
        assert page.locator(".notice.success").inner_text() == "Offer sent"
        assert page.locator("#offer-history tbody tr").count() == 1

    # -- the buyer compares: cheapest first, the offer that cannot meet the due date stands out; it counters
    buyer.goto(comparison)
    rows = buyer.locator("table.offers tbody tr")
    assert rows.first.get_attribute("id") == f"option-{rfq_of[second]}"  # 2,500 before 3,000
    late = buyer.locator(f"#option-{rfq_of[second]}")
    assert late.get_attribute("class") == "late" and "cannot meet the due date" in late.inner_text()
    assert "yes" in buyer.locator(f"#option-{rfq_of[first]}").inner_text()
    # beside each offer the match score the buyer sent with the request (its own; the providers never see it)
    scores = [float(s) for s in buyer.locator("table.offers tbody td:nth-child(2)").all_inner_texts()]
    assert len(scores) == 2 and all(0 <= s <= 1 for s in scores)
    snapshot(buyer, "orders-comparison")
    counter = buyer.locator(f"#counter-{rfq_of[first]}")
    counter.locator("summary").click()
    buyer.fill(f"#f-{rfq_of[first]}-price", "2800")
    counter.locator("button[type=submit]").click()
    assert buyer.locator(".notice.success").inner_text() == "Counter-offer sent"
    assert "countered" in buyer.locator(f"#option-{rfq_of[first]}").inner_text()
    assert buyer.locator(f"#accept-{rfq_of[first]}").count() == 0

    # -- the provider reads the counter-offer (its form starts from it) and offers again
    seller = sellers[first]
    seller.reload()
    assert "buyer: counter-offer" in seller.locator("#offer-history").inner_text()
    assert seller.locator("#offer-title").inner_text() == "Answer the counter-offer"
    assert seller.input_value("#offer-form #f-price") == "2800.00"
    seller.fill("#offer-form #f-price", "2900")
    seller.click("#offer-form button[type=submit]")
    assert seller.locator(".notice.success").inner_text() == "Offer sent"
    assert [s.strip() for s in seller.locator("#offer-history tbody td:nth-child(8)").all_inner_texts()] == \
        ["superseded", "superseded", "open"]

    # -- the buyer accepts the revised offer: the order is made, the other request of the step is closed
    buyer.goto(comparison)
    assert "2900.00 EUR" in buyer.locator(f"#option-{rfq_of[first]}").inner_text()
    buyer.click(f"#accept-{rfq_of[first]} button")
    buyer.wait_for_url(re.compile(r"/order-timeline/ord-[0-9a-f]+$"))
    order_url = buyer.url
    assert buyer.title().startswith("Order ord-")
    assert "Offer accepted" in buyer.locator(".notice.success").inner_text()
    buyer.goto(comparison)
    assert "closed" in buyer.locator(f"#option-{rfq_of[second]}").inner_text()

    # -- the provider reports shipping and delivery
    seller.goto("/inbox")
    seller.click(f"#inbox-orders a[href='{order_url.removeprefix(base)}']")
    assert labelled(seller) == []
    for kind in ("shipped", "delivered"):
        seller.select_option("#f-kind", kind)
        seller.click("#event-form button[type=submit]")
        seller.locator(f"#timeline li.event-{kind}").wait_for()
        assert seller.locator(".notice.success").inner_text() == "Status reported"
    assert seller.locator("#event-form").count() == 0  # nothing follows a delivery

    # -- the buyer reads the timeline and evaluates the order
    buyer.goto(order_url)
    assert [e.split(" ", 1)[1] for e in buyer.locator("#timeline li").all_inner_texts()] == \
        ["accepted", "shipped", "delivered"]
    assert buyer.locator("#stage").inner_text() == "delivered"
    assert "on time" in buyer.locator("#order-status").inner_text()
    assert labelled(buyer) == []
    buyer.check("#f-conforming-yes")
    buyer.fill("#f-defects", "0")
    buyer.select_option("#f-communication", "5")
    buyer.select_option("#f-documents", "4")
    buyer.fill("#f-comment", "well packed, certificates complete")
    buyer.click("#evaluation-form button[type=submit]")
    result = buyer.locator("#evaluation-result")
    assert "well packed" in result.inner_text() and "5 / 5" in result.inner_text()
    snapshot(buyer, "orders-timeline-evaluated")
    buyer.goto("/purchases")
    assert buyer.locator("#purchase-orders tbody tr").count() == 1
    assert "delivered" in buyer.locator("#purchase-orders").inner_text()

    # -- another buyer sees none of it: 404, as if it did not exist
    other = parties.signed_in(new_key(service, "--buyer", OTHER_BUYER), "/purchases")
    for url in (comparison, order_url, f"{base}/requests/{rfq_of[first]}"):
        assert other.goto(url).status == 404
        assert other.locator("h1").inner_text() == "Not found"
    # and a provider cannot open the buyer's comparison
    assert sellers[second].goto(comparison).status == 403


def test_sign_in_refuses_unknown_keys_and_a_revoked_key_stops_working(parties, service):
    page = parties.open()
    assert page.goto("/purchases").status == 401
    assert page.title() == "Sign in · MaaS-KG"
    assert labelled(page) == []
    page.fill("#f-api_key", "mkg_00000000_not-a-key")
    with posting(page, "/sign-in") as response:
        page.click("#sign-in-form button[type=submit]")
    assert response.value.status == 401
    assert page.locator("#e-api_key").is_visible() and "unknown or revoked" in page.inner_text("#e-api_key")
    token = new_key(service, "--buyer", "https://w3id.org/maas-kg/id/buyer/initech")
    page.fill("#f-api_key", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_url("**/purchases")  # back where the sign-in was asked for
    assert page.locator("nav a[aria-current=page]").inner_text() == "Purchases"
    cookie, = [c for c in page.context.cookies() if c["name"] == "session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.goto("/inbox").status == 403  # the inbox is for providers
    assert cli(service["env"], "keys", "revoke", token.split("_")[1]).returncode == 0
    assert page.goto("/purchases").status == 401
    assert "sign-in has ended" in page.locator(".notice.failure").inner_text()
    page.goto("/sign-in?lang=de")
    assert page.title() == "Anmelden · MaaS-KG"
    snapshot(page, "orders-sign-in-de")
