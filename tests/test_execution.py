"""Stage 3 (issue 18) in-process: requests for quotation, offers, counter-offers, acceptance, events, evaluation and
the performance it publishes; every endpoint against other parties' keys; the state machine under random calls;
one accepted agreement per step under concurrent offers and acceptances."""

from __future__ import annotations

import datetime
import json
import threading

import icalendar
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from api import create_app
from harness import Receiver
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services
from maas_kg.errors import MaasKgError
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import Changes, open_store
from maas_kg.execution import accept, counter, decline, offer, post_event, request_quotes, withdraw_offer, \
    withdraw_request
from maas_kg.execution.evaluation import evaluate, performance_of, scoring
from maas_kg.execution.ledger import Ledger, Party

BUYER, OTHER_BUYER = "https://example.org/buyer/acme", "https://example.org/buyer/globex"
TODAY = datetime.date.today()
DUE = (TODAY + datetime.timedelta(days=60)).isoformat()
VALID = (TODAY + datetime.timedelta(days=20)).isoformat()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("execution")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    store = app.extensions["maas_kg"].catalogue
    services = list(generate_services(6, 3))
    catalogue.publish(store, json.dumps(services).encode(), "json")
    keys = app.extensions["maas_kg"].keys
    providers = sorted({s["provider"]["id"] for s in services})
    app.services = {s["id"]: s["provider"]["id"] for s in services}
    app.tokens = {"buyer": keys.create(buyer=BUYER)[0], "other_buyer": keys.create(buyer=OTHER_BUYER)[0],
                  "admin": keys.create(admin=True)[0]}
    for number, provider in enumerate(providers):
        app.tokens[f"provider{number}"] = keys.create(provider=provider)[0]
    app.providers = providers
    return app


def call(client, method: str, path: str, token: str | None, body: dict | None = None, **headers):
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **headers}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return client.open(path, method=method, headers=headers, data=json.dumps(body) if body is not None else None)


def two_services_of_different_providers(app) -> tuple[str, str]:
    by_provider = {}
    for service, provider in app.services.items():
        by_provider.setdefault(provider, service)
    first, second = list(by_provider.values())[:2]
    return first, second


def token_of(app, provider: str) -> str:
    return app.tokens[f"provider{app.providers.index(provider)}"]


def inquiry(services: list[str], step: str = "milling") -> dict:
    return {"title": "Bracket", "quantity": 50, "due": DUE, "delivery": {"place": "Stuttgart", "lat": 48.78,
                                                                          "lon": 9.18},
            "items": [{"service": s, "step": step, "requirements": {"material": "EN AW-6082", "tolerance_mm": 0.05}}
                      for s in services]}


TERMS = {"price": 1234.5, "currency": "EUR", "lead_time_days": 14, "valid_until": VALID, "incoterm": "FCA",
         "conditions": "payment 30 days net"}


def test_from_request_to_evaluation(app):
    client = app.test_client()
    first, second = two_services_of_different_providers(app)
    p1, p2 = token_of(app, app.services[first]), token_of(app, app.services[second])
    doc = inquiry([first, second])
    doc["items"][0]["match_score"], doc["items"][1]["match_score"] = 0.91, 0.64
    sent = call(client, "POST", "/rfqs", app.tokens["buyer"], doc)
    assert sent.status_code == 201, sent.json
    rfq1, rfq2 = (r["id"] for r in sent.json["rfqs"])
    # the provider's inbox holds its request only, with its step's requirements and nothing of the other provider
    inbox = call(client, "GET", "/rfqs", p1).json["rfqs"]
    assert [r["id"] for r in inbox] == [rfq1]
    assert inbox[0]["requirements"] == {"material": "EN AW-6082", "tolerance_mm": 0.05}
    assert second not in json.dumps(inbox) and app.services[second] not in json.dumps(inbox)
    assert "match_score" not in inbox[0] and "match_score" not in call(client, "GET", f"/rfqs/{rfq1}", p1).json
    # offer, counter, a new offer, accept it
    assert call(client, "POST", f"/rfqs/{rfq1}/offers", p1, TERMS).status_code == 201
    assert call(client, "POST", f"/rfqs/{rfq2}/offers", p2, {**TERMS, "price": 999}).status_code == 201
    countered = call(client, "POST", f"/rfqs/{rfq1}/counter-offers", app.tokens["buyer"], {**TERMS, "price": 1100})
    assert countered.status_code == 201 and countered.json["state"] == "countered"
    assert call(client, "POST", f"/rfqs/{rfq1}/accept", app.tokens["buyer"], {"version": 1}).status_code == 409
    revised = call(client, "POST", f"/rfqs/{rfq1}/offers", p1, {**TERMS, "price": 1150})
    assert [o["status"] for o in revised.json["offers"]] == ["superseded", "superseded", "open"]
    comparison = call(client, "GET", f"/inquiries/{sent.json['inquiry']}", app.tokens["buyer"]).json
    assert [(o["offer"]["price"], o["match_score"]) for o in comparison["steps"][0]["options"]] == \
        [("999.00", 0.64), ("1150.00", 0.91)]
    assert comparison["steps"][0]["options"][0]["offer"]["plan"]["meets_due_date"] is True
    accepted = call(client, "POST", f"/rfqs/{rfq1}/accept", app.tokens["buyer"], {"version": 3})
    assert accepted.status_code == 201, accepted.json
    order = accepted.json["order"]
    # the other provider's request for the same step is closed; its offer can no longer be accepted
    assert call(client, "GET", f"/rfqs/{rfq2}", p2).json["state"] == "closed"
    assert call(client, "POST", f"/rfqs/{rfq2}/accept", app.tokens["buyer"], {"version": 1}).status_code == 409
    # the agreement as RDF: schema.org Order with the accepted offer
    turtle = call(client, "GET", f"/orders/{order}", app.tokens["buyer"], Accept="text/turtle")
    assert turtle.status_code == 200 and b"schema:Order" in turtle.data and b"1150.00" in turtle.data
    # events: forward only; a delay past the due date warns the buyer
    for kind in ("started", "shipped"):
        assert call(client, "POST", f"/orders/{order}/events", p1, {"kind": kind}).status_code == 201
    back = call(client, "POST", f"/orders/{order}/events", p1, {"kind": "finished"})
    assert back.status_code == 409 and "go back" in back.json["detail"]
    late = (TODAY + datetime.timedelta(days=90)).isoformat()
    delayed = call(client, "POST", f"/orders/{order}/events", p1, {"kind": "delayed", "new_date": late}).json
    assert delayed["at_risk"] and "POST /match" in delayed["warnings"][0]
    early_evaluation = call(client, "POST", f"/orders/{order}/evaluation", app.tokens["buyer"],
                            {"conforming": True, "communication": 5, "documents": 5})
    assert early_evaluation.status_code == 409
    assert call(client, "POST", f"/orders/{order}/events", p1, {"kind": "delivered"}).status_code == 201
    timeline = call(client, "GET", f"/orders/{order}", app.tokens["buyer"]).json
    assert [e["kind"] for e in timeline["events"]] == ["accepted", "started", "shipped", "delayed", "delivered"]
    assert timeline["on_time"] is True and timeline["state"] == "delivered"
    assert call(client, "POST", f"/orders/{order}/events", p1, {"kind": "shipped"}).status_code == 409
    rated = call(client, "POST", f"/orders/{order}/evaluation", app.tokens["buyer"],
                 {"conforming": True, "defects": 0, "communication": 5, "documents": 4})
    assert rated.status_code == 201 and rated.json["on_time"] is True
    assert call(client, "POST", f"/orders/{order}/evaluation", app.tokens["buyer"],
                {"conforming": True, "communication": 5, "documents": 4}).status_code == 409
    # the provider reads its own evaluation; the public store holds only the aggregate with its count
    assert [e["order_id"] for e in call(client, "GET", "/evaluations", p1).json["evaluations"]] == [order]
    published = client.get("/sparql", query_string={"query": """PREFIX maas: <https://w3id.org/maas-kg/ns#>
            SELECT ?p ?s ?n WHERE { GRAPH <https://w3id.org/maas-kg/graph/performance> {
            ?p maas:performanceScore ?s ; maas:evaluationCount ?n } }"""},
                        headers={"Accept": "application/sparql-results+json"})
    rows = published.json["results"]["bindings"]
    assert [(r["p"]["value"], r["n"]["value"]) for r in rows] == [(app.services[first], "1")]
    assert 0.5 < float(rows[0]["s"]["value"]) < 1.0
    leaked = client.get("/sparql", query_string={"query": f'ASK {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), "{order}") '
                                                          f'|| CONTAINS(STR(?s), "{order}")) }}'},
                        headers={"Accept": "application/sparql-results+json"})
    assert leaked.json["boolean"] is False


def test_every_endpoint_refuses_other_parties(app):
    client = app.test_client()
    first, second = two_services_of_different_providers(app)
    owner, stranger = token_of(app, app.services[first]), token_of(app, app.services[second])
    sent = call(client, "POST", "/rfqs", app.tokens["buyer"], inquiry([first], step="turning")).json
    rfq = sent["rfqs"][0]["id"]
    call(client, "POST", f"/rfqs/{rfq}/offers", owner, TERMS)
    order = call(client, "POST", f"/rfqs/{rfq}/accept", app.tokens["buyer"], {"version": 1}).json["order"]
    call(client, "POST", f"/orders/{order}/events", owner, {"kind": "delivered"})
    reads = [f"/rfqs/{rfq}", f"/inquiries/{sent['inquiry']}", f"/orders/{order}", f"/orders/{order}/events",
             f"/orders/{order}/evaluation"]
    for token in (app.tokens["other_buyer"], stranger):
        for path in reads:
            answer = call(client, "GET", path, token)
            assert answer.status_code == 404, (path, answer.json)
            assert rfq not in answer.get_data(as_text=True) or path.endswith(rfq)
        for listing in ("/rfqs", "/orders", "/evaluations"):
            assert rfq not in call(client, "GET", listing, token).get_data(as_text=True)
            assert order not in call(client, "GET", listing, token).get_data(as_text=True)
        writes = [(f"/rfqs/{rfq}/offers", TERMS), (f"/rfqs/{rfq}/counter-offers", TERMS),
                  (f"/rfqs/{rfq}/decline", {"reason": "busy"}), (f"/rfqs/{rfq}/withdraw-offer", {}),
                  (f"/rfqs/{rfq}/withdraw", {}), (f"/rfqs/{rfq}/accept", {"version": 1}),
                  (f"/orders/{order}/events", {"kind": "shipped"}),
                  (f"/orders/{order}/evaluation", {"conforming": True, "communication": 3, "documents": 3})]
        for path, body in writes:
            answer = call(client, "POST", path, token, body)
            assert answer.status_code in (403, 404), (path, answer.status_code)
    # without a key: 401 everywhere
    assert all(call(client, "GET", path, None).status_code == 401 for path in reads)
    # each party refused the other's moves: the provider cannot accept, the buyer cannot offer
    assert call(client, "POST", f"/rfqs/{rfq}/offers", app.tokens["buyer"], TERMS).status_code == 403
    assert call(client, "POST", f"/orders/{order}/events", app.tokens["buyer"], {"kind": "shipped"}).status_code == 403
    assert call(client, "POST", "/rfqs", owner, inquiry([first])).status_code == 403
    # administrators read everything
    assert call(client, "GET", f"/orders/{order}", app.tokens["admin"]).status_code == 200


@pytest.mark.parametrize("body,field", [
    ({"price": -1}, "price"), ({"price": "ten"}, "price"), ({"currency": "euro"}, "currency"),
    ({"lead_time_days": 1.5}, "lead_time_days"), ({"valid_until": "tomorrow"}, "valid_until"),
    ({"valid_until": "2000-01-01"}, "valid_until"), ({"incoterm": "XYZ"}, "incoterm"),
    ({"conditions": "x" * 5000}, "conditions")])
def test_a_bad_offer_names_its_field_and_changes_nothing(app, body, field):
    client = app.test_client()
    first, _ = two_services_of_different_providers(app)
    rfq = call(client, "POST", "/rfqs", app.tokens["buyer"], inquiry([first], step=f"s-{field}")).json["rfqs"][0]["id"]
    answer = call(client, "POST", f"/rfqs/{rfq}/offers", token_of(app, app.services[first]), {**TERMS, **body})
    assert answer.status_code == 422 and answer.json["detail"].startswith(field), answer.json
    assert call(client, "GET", f"/rfqs/{rfq}", app.tokens["buyer"]).json["offers"] == []


@pytest.mark.parametrize("change,field", [
    ({"items": []}, "items"), ({"quantity": 0}, "quantity"), ({"due": "2001-01-01"}, "items[0].due"),
    ({"delivery": {"lat": 91, "lon": 0}}, "delivery.lat"),
    ({"items": [{"service": "https://example.org/nothing", "step": "x"}]}, "items")])
def test_a_bad_request_for_quotation_names_its_field(app, change, field):
    client = app.test_client()
    first, _ = two_services_of_different_providers(app)
    answer = call(client, "POST", "/rfqs", app.tokens["buyer"], {**inquiry([first]), **change})
    assert answer.status_code == 422 and answer.json["detail"].startswith(field), answer.json


def test_malformed_and_non_json_bodies_are_refused(app):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {app.tokens['buyer']}"}
    assert client.post("/rfqs", data="{", headers={**headers, "Content-Type": "application/json"}).status_code == 400
    assert client.post("/rfqs", data="[" * 5000 + "]" * 5000,
                       headers={**headers, "Content-Type": "application/json"}).status_code == 400
    assert client.post("/rfqs", data="x", headers={**headers, "Content-Type": "text/plain"}).status_code == 415


def test_an_expired_or_withdrawn_offer_cannot_be_accepted(app):
    client = app.test_client()
    first, _ = two_services_of_different_providers(app)
    provider = token_of(app, app.services[first])
    rfq = call(client, "POST", "/rfqs", app.tokens["buyer"], inquiry([first], step="grinding")).json["rfqs"][0]["id"]
    call(client, "POST", f"/rfqs/{rfq}/offers", provider, TERMS)
    assert call(client, "POST", f"/rfqs/{rfq}/withdraw-offer", provider).status_code == 200
    refused = call(client, "POST", f"/rfqs/{rfq}/accept", app.tokens["buyer"], {"version": 1})
    assert refused.status_code == 409 and "withdrawn" in refused.json["detail"]
    ledger, party = app.extensions["maas_kg"].ledger, Party(BUYER, "buyer")
    call(client, "POST", f"/rfqs/{rfq}/offers", provider, TERMS)
    later = TODAY + datetime.timedelta(days=30)
    with pytest.raises(MaasKgError, match="expired"):
        accept(ledger, party, rfq, {"version": 2}, today=later)


def test_concurrent_offers_and_acceptances_leave_one_agreement_per_step(tmp_path, app):
    """Two providers offer, then the buyer accepts both at once from many threads (as two workers would): exactly
    one agreement for the step, the other request closed."""
    ledger = Ledger(tmp_path / "transactions.sqlite")
    store = app.extensions["maas_kg"].catalogue
    first, second = two_services_of_different_providers(app)
    buyer = Party(BUYER, "buyer")
    for attempt in range(5):
        sent = request_quotes(ledger, store, buyer, inquiry([first, second], step=f"step-{attempt}"))
        rfqs = [(r["id"], Party(r["provider"], "provider")) for r in sent["rfqs"]]
        outcomes, barrier = [], threading.Barrier(6)

        def act(job):
            barrier.wait()
            try:
                outcomes.append(job())
            except MaasKgError as err:
                outcomes.append(err)

        def keep_accepting(first_rfq: int):
            """The buyer accepts whichever offer arrives first, again and again until one is taken."""
            for turn in range(200):
                rfq = rfqs[(first_rfq + turn) % 2][0]
                try:
                    return accept(ledger, buyer, rfq, {"version": 1})
                except MaasKgError as err:
                    last = err
            return last

        jobs = [lambda r=rfq, p=provider: offer(ledger, p, r, TERMS) for rfq, provider in rfqs] + \
               [lambda n=n: keep_accepting(n % 2) for n in range(4)]
        threads = [threading.Thread(target=act, args=(job,)) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with ledger.reading() as db:
            orders = db.execute("SELECT COUNT(*) FROM orders WHERE inquiry = ?", (sent["inquiry"],)).fetchone()[0]
            states = sorted(row[0] for row in db.execute("SELECT state FROM rfqs WHERE inquiry = ?",
                                                         (sent["inquiry"],)))
        assert orders == 1 and states == ["accepted", "closed"], (orders, states, outcomes)


ACTIONS = ("offer", "counter", "decline", "withdraw_offer", "withdraw_request", "accept", "event", "evaluate")


class Negotiations(RuleBasedStateMachine):
    """Random calls by random parties (the right ones and others) on a few requests: every refusal is a
    MaasKgError, and the ledger never reaches an illegal state."""

    def __init__(self):
        super().__init__()
        self.ledger = Ledger(":memory:")
        self.store = MACHINE_APP.extensions["maas_kg"].catalogue
        first, second = two_services_of_different_providers(MACHINE_APP)
        self.providers = [Party(MACHINE_APP.services[first], "provider"),
                          Party(MACHINE_APP.services[second], "provider")]
        self.buyers = [Party(BUYER, "buyer"), Party(OTHER_BUYER, "buyer")]
        sent = request_quotes(self.ledger, self.store, self.buyers[0], inquiry([first, second]))
        self.rfqs = [r["id"] for r in sent["rfqs"]]
        self.orders: list[str] = []
        self.day = TODAY

    def _try(self, job):
        try:
            job()
        except MaasKgError:
            pass

    @rule(who=st.integers(0, 3), which=st.integers(0, 1), price=st.integers(1, 5000),
          action=st.sampled_from(ACTIONS[:6]), version=st.integers(1, 6))
    def negotiate(self, who, which, price, action, version):
        party = (self.providers + self.buyers)[who]
        rfq = self.rfqs[which]
        terms = {**TERMS, "price": price, "valid_until": (self.day + datetime.timedelta(days=3)).isoformat()}
        jobs = {"offer": lambda: offer(self.ledger, party, rfq, terms, today=self.day),
                "counter": lambda: counter(self.ledger, party, rfq, terms, today=self.day),
                "decline": lambda: decline(self.ledger, party, rfq, {"reason": "full"}),
                "withdraw_offer": lambda: withdraw_offer(self.ledger, party, rfq),
                "withdraw_request": lambda: withdraw_request(self.ledger, party, rfq),
                "accept": lambda: self.orders.append(accept(self.ledger, party, rfq, {"version": version},
                                                            today=self.day)["order"])}
        self._try(jobs[action])

    @rule(days=st.integers(0, 5))
    def time_passes(self, days):
        self.day += datetime.timedelta(days=days)

    @precondition(lambda self: self.orders)
    @rule(who=st.integers(0, 3), kind=st.sampled_from(["material_received", "started", "finished", "shipped",
                                                        "delivered", "delayed", "cancelled", "accepted"]))
    def track(self, who, kind):
        party = (self.providers + self.buyers)[who]
        self._try(lambda: post_event(self.ledger, party, self.orders[0],
                                     {"kind": kind, "new_date": (self.day + datetime.timedelta(days=9)).isoformat()},
                                     today=self.day))

    @precondition(lambda self: self.orders)
    @rule(who=st.integers(0, 3), conforming=st.booleans())
    def rate(self, who, conforming):
        party = (self.providers + self.buyers)[who]
        self._try(lambda: evaluate(self.ledger, SCRATCH, party, self.orders[0],
                                   {"conforming": conforming, "communication": 4, "documents": 2}, today=self.day))

    @invariant()
    def the_ledger_is_consistent(self):
        with self.ledger.reading() as db:
            rfqs = {row["id"]: dict(row) for row in db.execute("SELECT * FROM rfqs")}
            offers = [dict(row) for row in db.execute("SELECT * FROM offers")]
            orders = [dict(row) for row in db.execute("SELECT * FROM orders")]
            events = [dict(row) for row in db.execute("SELECT * FROM events ORDER BY order_id, seq")]
            rated = [dict(row) for row in db.execute("SELECT * FROM evaluations")]
        assert len(orders) <= 1  # one step: at most one agreement
        for rfq in rfqs.values():
            mine = [o for o in offers if o["rfq"] == rfq["id"]]
            open_offers = [o for o in mine if o["status"] == "open"]
            assert len(open_offers) <= 1
            accepted = [o for o in mine if o["status"] == "accepted"]
            assert (rfq["state"] == "accepted") == bool(accepted) == any(o["rfq"] == rfq["id"] for o in orders)
            if rfq["state"] == "offered":
                assert open_offers and open_offers[0]["author"] == "provider"
            if rfq["state"] == "countered":
                assert open_offers and open_offers[0]["author"] == "buyer"
            if rfq["state"] in ("declined", "withdrawn", "closed", "requested", "accepted"):
                assert not open_offers
            assert {o["author"] for o in accepted} <= {"provider"}
        for order in orders:
            kinds = [e["kind"] for e in events if e["order_id"] == order["id"]]
            assert kinds[0] == "accepted"
            progress = [k for k in kinds if k not in ("delayed", "cancelled")]
            assert progress == sorted(progress, key=["accepted", "material_received", "started", "finished",
                                                     "shipped", "delivered"].index)
            assert len(progress) == len(set(progress))
            ends = [k for k in kinds if k in ("delivered", "cancelled")]
            assert len(ends) <= 1 and (not ends or kinds[-1] == ends[0])
            assert order["state"] == {"delivered": "delivered", "cancelled": "cancelled"}.get(
                ends[0] if ends else "", "open")
        assert all(orders and r["order_id"] == orders[0]["id"] and orders[0]["state"] == "delivered" for r in rated)
        assert len(rated) <= 1


MACHINE_APP = SCRATCH = None


def test_no_sequence_of_calls_reaches_an_illegal_state(app):
    global MACHINE_APP, SCRATCH
    MACHINE_APP = app
    SCRATCH = open_store("memory")  # the machine's evaluations publish here, not into the module's catalogue
    sync_ontology(SCRATCH)
    runner = Negotiations.TestCase
    runner.settings = settings(max_examples=60, stateful_step_count=40, deadline=None,
                               suppress_health_check=[HealthCheck.too_slow])
    runner().runTest()


def test_a_plan_runs_backwards_from_the_due_date_and_says_when_it_cannot_be_met(app):
    client = app.test_client()
    first, second = two_services_of_different_providers(app)
    due = TODAY + datetime.timedelta(days=40)
    doc = {**inquiry([]), "due": due.isoformat(),
           "items": [{"service": first, "step": "turning", "position": 1},
                     {"service": second, "step": "grinding", "position": 2}]}
    sent = call(client, "POST", "/rfqs", app.tokens["buyer"], doc).json
    turning, grinding = (r["id"] for r in sent["rfqs"])
    empty = call(client, "GET", f"/inquiries/{sent['inquiry']}/plan", app.tokens["buyer"]).json
    assert empty["feasible"] is None and empty["warnings"]
    call(client, "POST", f"/rfqs/{turning}/offers", token_of(app, app.services[first]), {**TERMS, "lead_time_days": 10})
    call(client, "POST", f"/rfqs/{grinding}/offers", token_of(app, app.services[second]), {**TERMS, "lead_time_days": 5})
    schedule = call(client, "GET", f"/inquiries/{sent['inquiry']}/plan", app.tokens["buyer"]).json
    assert [s["step"] for s in schedule["steps"]] == ["turning", "grinding"] and schedule["feasible"] is True
    last, leg = schedule["steps"][1], schedule["legs"][1]
    # backwards: the last step finishes a transport leg before the due date, the first before the last starts
    assert datetime.date.fromisoformat(last["latest_finish"]) == due - datetime.timedelta(days=leg["days"])
    assert datetime.date.fromisoformat(last["latest_start"]) == \
        datetime.date.fromisoformat(last["latest_finish"]) - datetime.timedelta(days=5)
    assert datetime.date.fromisoformat(schedule["steps"][0]["latest_finish"]) <= \
        datetime.date.fromisoformat(last["latest_start"])
    assert schedule["slack_days"] == min(s["slack_days"] for s in schedule["steps"]) > 0
    # a slower offer for the first step: the plan says before acceptance that the due date is out of reach
    call(client, "POST", f"/rfqs/{turning}/offers", token_of(app, app.services[first]), {**TERMS, "lead_time_days": 60})
    late = call(client, "GET", f"/inquiries/{sent['inquiry']}/plan", app.tokens["buyer"]).json
    assert late["feasible"] is False and late["slack_days"] < 0 and "after the due date" in late["warnings"][0]
    ics = call(client, "GET", f"/inquiries/{sent['inquiry']}/plan", app.tokens["buyer"], Accept="text/calendar")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    events = icalendar.Calendar.from_ical(ics.data).walk("VEVENT")
    assert {str(e["summary"]).split(" ")[0] for e in events} >= {"turning", "grinding"}
    assert call(client, "GET", f"/inquiries/{sent['inquiry']}/plan", app.tokens["other_buyer"]).status_code == 404


def test_performance_has_the_prior_and_weights_the_ontology_declares(tmp_path, app):
    store = app.extensions["maas_kg"].catalogue
    declared = scoring(store)
    assert declared.weights == {"quality": 0.4, "on_time": 0.3, "communication": 0.15, "documents": 0.15}
    ledger = Ledger(tmp_path / "t.sqlite")
    with ledger.transition() as db:
        db.execute("INSERT INTO evaluations VALUES ('o1', 'b', 'https://p', 1, 0, 5, 5, 1, 1.0, NULL, 'now')")
    value, count = performance_of(ledger, declared)["https://p"]
    assert count == 1 and value == pytest.approx((declared.prior_weight * declared.prior_mean + 1.0)
                                                 / (declared.prior_weight + 1))
    assert declared.score(conforming=False, defects=0, on_time=True, communication=5, documents=5) == \
        pytest.approx(0.6)
    # an ontology editor's weights change the scores without touching code
    changes = Changes()
    changes.update("""PREFIX maas: <https://w3id.org/maas-kg/ns#>
        DELETE { GRAPH ?g { maas:QualityAspect maas:evaluationWeight ?w } }
        INSERT { GRAPH ?g { maas:QualityAspect maas:evaluationWeight 0.7 } }
        WHERE { GRAPH ?g { maas:QualityAspect maas:evaluationWeight ?w } }""")
    scratch = open_store("memory")
    sync_ontology(scratch)
    scratch.commit(changes)
    assert scoring(scratch).weights["quality"] == 0.7


def test_webhooks_are_signed_retried_and_kept_off_private_networks(app, monkeypatch):
    from maas_kg.execution import webhooks

    client = app.test_client()
    ledger = app.extensions["maas_kg"].ledger
    receiver = Receiver(statuses=[500, 503])
    try:
        refused = call(client, "PUT", "/webhook", app.tokens["buyer"], {"url": receiver.url})
        assert refused.status_code == 422 and "private or local network" in refused.json["detail"]
        assert call(client, "PUT", "/webhook", app.tokens["buyer"], {"url": "file:///etc/passwd"}).status_code == 422
        monkeypatch.setenv("MAAS_KG_WEBHOOK_ALLOW", receiver.url)
        registered = call(client, "PUT", "/webhook", app.tokens["buyer"], {"url": receiver.url})
        assert registered.status_code == 200
        secret = registered.json["secret"]
        assert "secret" not in call(client, "GET", "/webhook", app.tokens["buyer"]).json
        first, _ = two_services_of_different_providers(app)
        rfq = call(client, "POST", "/rfqs", app.tokens["buyer"], inquiry([first], step="hooked")).json["rfqs"][0]["id"]
        call(client, "POST", f"/rfqs/{rfq}/offers", token_of(app, app.services[first]), TERMS)
        clock = [datetime.datetime.now().timestamp()]
        # the receiver fails twice: retried after 30 s, then after 60 s more, then delivered
        assert webhooks.deliver_due(ledger, clock=lambda: clock[0]) == 0
        assert webhooks.deliver_due(ledger, clock=lambda: clock[0] + 10) == 0  # not due yet
        assert webhooks.deliver_due(ledger, clock=lambda: clock[0] + 31) == 0
        assert webhooks.deliver_due(ledger, clock=lambda: clock[0] + 31 + 61) == 1
        assert len(receiver.received) == 3
        headers, body = receiver.received[-1]
        assert json.loads(body)["kind"] == "offer.received" and json.loads(body)["rfq"] == rfq
        expected = webhooks.signature(secret, headers["X-MaaS-KG-Timestamp"], body)
        assert headers["X-MaaS-KG-Signature"] == expected
        assert webhooks.signature("another secret", headers["X-MaaS-KG-Timestamp"], body) != expected
        shown = call(client, "GET", "/webhook", app.tokens["buyer"]).json["deliveries"]
        assert shown[0]["status"] == "delivered" and shown[0]["attempts"] == 3
        # the other buyer has no webhook: nothing queued for it, nothing of this buyer's shown to it
        assert call(client, "GET", "/webhook", app.tokens["other_buyer"]).json == {"url": None, "created": None,
                                                                                    "deliveries": []}
        assert call(client, "DELETE", "/webhook", app.tokens["buyer"]).status_code == 204
    finally:
        receiver.close()
