"""Stage 3 end to end over HTTP on the real service (gunicorn, two workers, the store server): match, request quotes,
offer, counter-offer, offer again, accept, plan, events, delivery, evaluation, and the next match ranked by it; then
the command line on the same ledger."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
from pathlib import Path

import requests as http

from harness import Receiver, cli, running_service

BUYER = "https://example.org/buyer/acme"
PRODUCT = json.loads((Path(__file__).parents[1] / "examples" / "products" / "milled-bracket.json").read_text())
TODAY = datetime.date.today()


def test_a_match_becomes_an_evaluated_order_that_changes_the_next_ranking(tmp_path):
    product = {**PRODUCT, "weights": {"performance": 1.0},
               "delivery": {**PRODUCT["delivery"], "max_distance_km": 3000,
                            "due": (TODAY + datetime.timedelta(days=120)).isoformat()}}
    receiver = Receiver()
    with running_service(tmp_path, providers=15, env={"MAAS_KG_WEBHOOK_ALLOW": receiver.url}) as service:
        base, env = service["base"], service["env"]
        buyer = {"Authorization": "Bearer " + cli(env, "keys", "create", "--buyer", BUYER).stdout.strip()}
        hook = http.put(f"{base}/webhook", headers=buyer, json={"url": receiver.url}, timeout=60)
        assert hook.status_code == 200, hook.text

        def match() -> dict:
            answer = http.post(f"{base}/match?top=50", json=product, timeout=120)
            assert answer.status_code == 200, answer.text
            return answer.json()

        # the first step with candidates of two providers: the buyer asks the last-ranked one and another one
        step = next(s for route in match()["routes"] for s in route["steps"]
                    if len({c["provider"] for c in s["candidates"]}) > 1)
        last = step["candidates"][-1]
        other = next(c for c in step["candidates"] if c["provider"] != last["provider"])
        keys = {c["provider"]: {"Authorization": "Bearer " + cli(env, "keys", "create", "--provider",
                                                                 c["provider"]).stdout.strip()}
                for c in (last, other)}
        due = (TODAY + datetime.timedelta(days=60)).isoformat()
        sent = http.post(f"{base}/rfqs", headers=buyer, timeout=60, json={
            "title": PRODUCT["name"], "quantity": PRODUCT["quantity"], "due": due,
            "delivery": {"place": "Stuttgart", "lat": PRODUCT["delivery"]["lat"], "lon": PRODUCT["delivery"]["lon"]},
            "items": [{"service": c["service"], "step": step["process"]["iri"],
                       "requirements": {"material": PRODUCT["material"], "tolerance_mm": PRODUCT["tolerance_mm"]}}
                      for c in (last, other)]})
        assert sent.status_code == 201, sent.text
        ours, theirs = sent.json()["rfqs"]
        inbox = http.get(f"{base}/rfqs", headers=keys[last["provider"]], timeout=60).json()["rfqs"]
        assert [r["id"] for r in inbox] == [ours["id"]] and other["service"] not in json.dumps(inbox)
        terms = {"price": 2400, "currency": "EUR", "lead_time_days": 12,
                 "valid_until": (TODAY + datetime.timedelta(days=14)).isoformat(), "incoterm": "DAP"}
        steps = [(keys[last["provider"]], f"/rfqs/{ours['id']}/offers", terms),
                 (buyer, f"/rfqs/{ours['id']}/counter-offers", {**terms, "price": 2100}),
                 (keys[last["provider"]], f"/rfqs/{ours['id']}/offers", {**terms, "price": 2250}),
                 (keys[other["provider"]], f"/rfqs/{theirs['id']}/offers", {**terms, "price": 1990})]
        for headers, path, body in steps:
            answer = http.post(base + path, headers=headers, json=body, timeout=60)
            assert answer.status_code == 201, (path, answer.text)
        # the buyer's system heard of both offers, signed with its secret (a sender thread in the workers)
        deadline = time.monotonic() + 30
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        kinds = sorted(json.loads(body)["kind"] for _, body in receiver.received)
        assert kinds == ["offer.received"] * 3, kinds
        for headers, body in receiver.received:
            mac = hmac.new(hook.json()["secret"].encode(), headers["X-MaaS-KG-Timestamp"].encode() + b"." + body,
                           hashlib.sha256).hexdigest()
            assert headers["X-MaaS-KG-Signature"] == f"sha256={mac}"
        plan = http.get(f"{base}/inquiries/{sent.json()['inquiry']}/plan", headers=buyer, timeout=60).json()
        assert plan["feasible"] is True and plan["steps"][0]["lead_time_days"] == 12
        accepted = http.post(f"{base}/rfqs/{ours['id']}/accept", headers=buyer, json={"version": 3}, timeout=60)
        assert accepted.status_code == 201, accepted.text
        order = accepted.json()["order"]
        assert http.get(f"{base}/rfqs/{theirs['id']}", headers=keys[other["provider"]],
                        timeout=60).json()["state"] == "closed"
        for kind in ("material_received", "started", "finished", "shipped", "delivered"):
            posted = http.post(f"{base}/orders/{order}/events", headers=keys[last["provider"]], json={"kind": kind},
                               timeout=60)
            assert posted.status_code == 201, posted.text
        timeline = http.get(f"{base}/orders/{order}", headers=buyer, timeout=60).json()
        assert timeline["state"] == "delivered" and timeline["on_time"] is True
        rated = http.post(f"{base}/orders/{order}/evaluation", headers=buyer, timeout=60,
                          json={"conforming": True, "defects": 0, "communication": 5, "documents": 5})
        assert rated.status_code == 201, rated.text
        # the next match, through either worker, ranks the evaluated provider first in that step
        for _ in range(4):
            again = next(s for route in match()["routes"] for s in route["steps"] if s["process"] == step["process"])
            first = again["candidates"][0]
            assert first["provider"] == last["provider"], (first, last)
            assert first["criteria"]["performance"]["evaluations"] == 1
        # nothing of the order in the public endpoint, only the aggregate
        ask = http.get(f"{base}/sparql", params={"query": f'ASK {{ ?s ?p ?o FILTER(CONTAINS(STR(?s), "{order}") || '
                                                          f'CONTAINS(STR(?o), "{order}")) }}'},
                       headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert ask.json()["boolean"] is False
        # the command line reads the same ledger: the provider's view, the agreement as RDF
        listed = cli(env, "rfq", "--provider", last["provider"], "list")
        assert listed.returncode == 0 and ours["id"] in listed.stdout and theirs["id"] not in listed.stdout
        shown = cli(env, "orders", "--buyer", BUYER, "show", order, "--format", "turtle")
        assert shown.returncode == 0 and "schema:Order" in shown.stdout
        refused = cli(env, "orders", "--buyer", "https://example.org/buyer/nobody", "show", order)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr and f"no order {order}" in refused.stderr
    receiver.close()
