"""Stage-3 ledger benchmark: the reads of negotiation and tracking on a ledger of N orders with E status events
(default 10,000 orders, 100,000 events), and the write transitions on it. Nothing here asserts a time.

The ledger (an SQLite file, default var/bench/execution-<orders>.sqlite, rebuilt on every run) holds a year of history
of B buyers (default 200) and the 1,000 providers of the demo catalogue (``generate_services(1000, seed)``, 3,655
services, all published into an in-memory catalogue store): N inquiries that ended in an order, each 2 or 3 requests
for quotation for one step to different providers of that step's process, each answered by an offer (a quarter with a
counter-offer and a second offer), some declined, one accepted, the others closed; plus N/10 recent inquiries still
in negotiation (requested, offered, countered, declined, withdrawn). Buyers and providers are Zipf-distributed (the
busiest buyer sends about a sixth of the inquiries). The E events are spread over the orders with a long tail
(lognormal weights, at least the ``accepted`` event each): forward progress as far as each order's age allows
(``accepted`` .. ``delivered``; the library allows six forward stages, so an average of 10 events per order means
about four ``delayed`` reports each, with their new dates), about 2 % cancelled; 60 % of the delivered orders are
evaluated (the score by the ontology's weights, ``evaluation.scoring``, on time by ``tracking.status``).

For speed the history is not written through the transitions (200,000+ transactions with an fsync each): its rows are
inserted with ``executemany`` in one transaction, with the library's own INSERT statements and in the exact shape
the transitions write (ids, ISO timestamps, JSON columns, states, superseded / rejected / accepted offer versions,
the ``accepted`` event, ``closed`` siblings); a shape check compares them with rows the library writes in the same
run. The indexes are the library's (its schema, created by ``Ledger``); no ANALYZE, as in production.

Measured, each for ``--samples`` random parties (default 300), p50 / p95 ms, the file in the page cache:
the provider inbox (``negotiation.listing``, first page of 100; also only ``state=requested``, and the busiest
provider), a buyer's requests, one request with its offers (``negotiation.view``), a buyer's offer comparison of one
inquiry (``negotiation.comparison``; also of the busiest buyer's inquiries), an order with its events
(``tracking.timeline``), and the order lists (``tracking.orders``, also of the busiest buyer); and the query plans.
Beside each, the floor in the same run: the same read as bare SQL on one open connection (no connection per read, no
JSON decoding, the comparison as one join). Then the write transitions through the library on the full ledger, as
the API calls them (each returns its view or timeline, one ``BEGIN IMMEDIATE`` transaction with the default fsync;
no webhooks registered, so each notification is one SELECT): ``request_quotes``, ``offer``, ``accept``,
``post_event``, one process in sequence, per second and p50 / p95. ``--index SQL`` (repeatable) runs a schema change
on the benchmark's file afterwards and measures the reads again (a candidate fix, tried here, never in the library).
Results go to benchmarks/results/execution-<orders>-<date>.json; a markdown table is printed.

    python benchmarks/bench_execution.py --orders 10000 --events 100000
    python benchmarks/bench_execution.py --index "CREATE INDEX rfqs_by_inquiry ON rfqs (inquiry, created)"

Without statistics SQLite answers the comparison's ``buyer = ? AND inquiry = ?`` through ``rfqs_by_buyer`` (it serves
the ORDER BY created), reading every request the buyer ever sent: the cost grows with the buyer's history, not the
inquiry. An index on ``rfqs (inquiry, created)`` (or ANALYZE) makes it one inquiry's rows; the second line measures it.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import random
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np

from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services
from maas_kg.execution import evaluation, negotiation, tracking
from maas_kg.execution.fields import INCOTERMS
from maas_kg.execution.ledger import Ledger, Party
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import open_store

UTC = datetime.timezone.utc
CITIES = [("Stuttgart", 48.78, 9.18), ("Munich", 48.14, 11.58), ("Lyon", 45.76, 4.84), ("Milan", 45.46, 9.19),
          ("Wroclaw", 51.11, 17.03), ("Eindhoven", 51.44, 5.47), ("Linz", 48.31, 14.29), ("Gothenburg", 57.71, 11.97)]
PARTS = ["bracket", "shaft", "housing", "flange", "cover", "lever", "bushing", "gear blank", "manifold", "clamp"]
REASONS = ["capacity fully booked until next quarter", "material not in stock", "tolerance beyond our machines",
           "batch size too small for us"]
NOTES = ["material supplier late", "machine breakdown", "rework after inspection", "waiting for customs",
         "carrier rescheduled", None]


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def stamp(moment: datetime.datetime) -> str:
    """A timestamp as ``ledger.now()`` writes it."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class History:
    """The rows of the ledger's history, in the shape the transitions write them."""

    def __init__(self, rng: random.Random, services: list[dict], buyers: int, end: datetime.datetime, days: int,
                 scoring: evaluation.Scoring):
        self.rng, self.end, self.start = rng, end, end - datetime.timedelta(days=days)
        self.scoring = scoring
        self.today = end.date()
        self.services = services
        providers = sorted({s["provider"]["id"] for s in services})
        rng.shuffle(providers)
        rank = {p: number for number, p in enumerate(providers)}  # Zipf-like popularity of the providers
        weight = [1.0 / (rank[s["provider"]["id"]] + 1) ** 0.9 for s in services]
        self.cumulative = list(itertools.accumulate(weight))
        self.by_process: dict[str, list[int]] = {}
        for number, service in enumerate(services):
            self.by_process.setdefault(service["process"], []).append(number)
        self.process_cumulative = {process: list(itertools.accumulate(weight[n] for n in pool))
                                   for process, pool in self.by_process.items()}
        self.buyers = [f"https://example.org/buyer/b{n:03d}" for n in range(buyers)]
        self.buyer_cumulative = list(itertools.accumulate(1.0 / (n + 1) for n in range(buyers)))
        self.place = {b: rng.choice(CITIES) for b in self.buyers}
        self.rfqs, self.offers, self.orders, self.events, self.evaluations = [], [], [], [], []

    def ident(self, kind: str) -> str:
        return f"{kind}-{self.rng.getrandbits(64):016x}"  # ledger.new_id: kind-<16 hex digits>

    def later(self, moment: datetime.datetime, low_h: float, high_h: float) -> datetime.datetime:
        return min(moment + datetime.timedelta(hours=self.rng.uniform(low_h, high_h)), self.end)

    def pick_services(self, count: int) -> list[int]:
        rng = self.rng
        first = rng.choices(range(len(self.services)), cum_weights=self.cumulative)[0]
        process = self.services[first]["process"]
        pool, cumulative = self.by_process[process], self.process_cumulative[process]
        chosen = [first]
        while len(chosen) < min(count, len(pool)):  # a small demo catalogue may have one provider of a process
            candidate = rng.choices(pool, cum_weights=cumulative)[0]
            if candidate not in chosen:
                chosen.append(candidate)
        return chosen

    def inquiry(self, created: datetime.datetime, outcome: str) -> None:
        """One inquiry of 2-3 requests for one step; ``outcome`` 'order' (one accepted) or 'open'."""
        rng = self.rng
        buyer = rng.choices(self.buyers, cum_weights=self.buyer_cumulative)[0]
        place, lat, lon = self.place[buyer]
        quantity = rng.choice((1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000))
        due = created.date() + datetime.timedelta(days=rng.randint(30, 120))
        delivery = {"place": place, "lat": lat, "lon": lon}
        title = f"{rng.choice(PARTS).capitalize()} {rng.randint(1000, 9999)}"
        inquiry, created_s = self.ident("inq"), stamp(created)
        chosen = self.pick_services(rng.choice((2, 2, 3)))
        step = self.services[chosen[0]]["process"]
        winner = rng.randrange(len(chosen)) if outcome == "order" else None
        accepted_at = self.later(created, 24, 14 * 24) if outcome == "order" else None
        for number, index in enumerate(chosen):
            service = self.services[index]
            requirements = {"material": service["materials"][0].rsplit("#", 1)[-1],
                            "tolerance_mm": service.get("tolerance_mm", 0.1),
                            "drawing": f"DRW-{rng.randint(10000, 99999)} rev {rng.choice('ABC')}"}
            rfq = {"id": self.ident("rfq"), "inquiry": inquiry, "position": 1, "step": step, "buyer": buyer,
                   "provider": service["provider"]["id"], "service": service["id"], "title": title,
                   "requirements": json.dumps(requirements, ensure_ascii=False), "quantity": quantity,
                   "due": due.isoformat(), "delivery": json.dumps(delivery), "state": "requested", "reason": None,
                   "created": created_s, "updated": created_s, "match_score": round(rng.uniform(0.45, 0.95), 4)}
            self.rfqs.append(rfq)
            if number == winner:
                self.negotiate(rfq, service, created, accepted_at, rounds=rng.random() < 0.25, final="accepted")
                self.order(rfq, service, requirements, delivery, accepted_at)
            elif outcome == "order":
                if rng.random() < 0.2:
                    self.decline(rfq, created)
                else:
                    self.negotiate(rfq, service, created, accepted_at, rounds=rng.random() < 0.25, final="closed")
            else:
                state = rng.choices(("requested", "offered", "countered", "declined", "withdrawn"),
                                    weights=(3, 4, 1, 1, 1))[0]
                if state == "declined":
                    self.decline(rfq, created)
                elif state != "requested":
                    self.negotiate(rfq, service, created, self.end, rounds=state == "countered", final=state)

    def decline(self, rfq: dict, created: datetime.datetime) -> None:
        rfq.update(state="declined", reason=self.rng.choice(REASONS), updated=stamp(self.later(created, 2, 72)))

    def negotiate(self, rfq: dict, service: dict, created: datetime.datetime, until: datetime.datetime, *,
                  rounds: bool, final: str) -> None:
        """The offers of one request: a provider offer, optionally a counter-offer and a second offer (or, for a
        request left 'countered', the counter-offer last); then the request's final state."""
        rng = self.rng
        price = (service["price"]["setup"] + service["price"]["unit"] * rfq["quantity"]) * rng.uniform(0.9, 1.4)
        authors = ["provider", "buyer", "provider"] if rounds else ["provider"]
        if final == "countered":
            authors = ["provider", "buyer"]
        moment, versions = created, []
        for version, author in enumerate(authors, start=1):
            moment = self.later(moment, 1, 48)
            if moment >= until:  # nothing after the acceptance that ended the negotiation
                moment = until - datetime.timedelta(minutes=len(authors) - version + 1)
            if author == "buyer":
                price *= rng.uniform(0.85, 0.97)
            offered = moment.date()
            versions.append({"rfq": rfq["id"], "version": version, "author": author,
                             "price": f"{price:.2f}", "currency": service["price"]["currency"],
                             "lead_time_days": max(1, service["lead_time_days"] + rng.randint(-5, 10)),
                             "valid_until": (offered + datetime.timedelta(days=rng.randint(14, 45))).isoformat(),
                             "incoterm": rng.choice(INCOTERMS), "conditions": rng.choice(
                                 ("payment 30 days net", "payment 60 days net", None)),
                             "status": "superseded", "created": stamp(moment)})
        last = versions[-1]
        ended = {"accepted": "accepted", "closed": "rejected", "withdrawn": "rejected"}.get(final, "open")
        last["status"] = ended
        self.offers.extend(versions)
        if final == "accepted":
            rfq.update(state="accepted", updated=stamp(until))
        elif final == "closed":
            rfq.update(state="closed", reason="the buyer accepted another offer for this step", updated=stamp(until))
        elif final == "withdrawn":
            rfq.update(state="withdrawn", updated=stamp(self.later(moment, 1, 72)))
        else:
            rfq.update(state=final, updated=last["created"])
        rfq["_last"] = last

    def order(self, rfq: dict, service: dict, requirements: dict, delivery: dict, accepted: datetime.datetime):
        chosen = rfq["_last"]
        terms = {"price": chosen["price"], "currency": chosen["currency"], "quantity": rfq["quantity"],
                 "lead_time_days": chosen["lead_time_days"], "delivery_date": rfq["due"], "delivery": delivery,
                 "incoterm": chosen["incoterm"], "conditions": chosen["conditions"], "requirements": requirements,
                 "offer_created": chosen["created"]}
        self.orders.append({"id": self.ident("ord"), "rfq": rfq["id"], "inquiry": rfq["inquiry"], "step": rfq["step"],
                            "buyer": rfq["buyer"], "provider": rfq["provider"], "service": rfq["service"],
                            "version": chosen["version"], "terms": json.dumps(terms, ensure_ascii=False),
                            "state": "open", "accepted": stamp(accepted), "_terms": terms})

    def track(self, order: dict, count: int) -> None:
        """``count`` events of one order: forward progress as far as its age allows, delays, maybe a cancellation;
        then its state, and an evaluation for some delivered orders."""
        rng = self.rng
        accepted = datetime.datetime.fromisoformat(order["accepted"])
        start, due = accepted.date(), datetime.date.fromisoformat(order["_terms"]["delivery_date"])
        shift = sum(rng.randint(1, 7) for _ in range(max(0, count - 6)))  # the delays push the later stages
        span = max(1, (due - start).days) + shift
        planned = [start + datetime.timedelta(days=round(span * f)) for f in (0.1, 0.25, 0.7, 0.9, 1.0)]
        reached = [d for d in planned if d <= self.today]
        progress = min(1 + len(reached), count)
        cancelled = progress < 6 and count > progress and rng.random() < 0.02
        delays = count - progress - cancelled
        last_day = reached[progress - 2] if progress >= 2 else start
        horizon = last_day if progress == 6 else self.today
        kinds = [(start, 0, "accepted")] + [(planned[k], 1, tracking.PROGRESS[k + 1]) for k in range(progress - 1)]
        for _ in range(delays):
            day = start + datetime.timedelta(days=rng.randint(0, max(0, (horizon - start).days)))
            kinds.append((day, 0 if progress == 6 and day == horizon else 1, "delayed"))
        kinds.sort(key=lambda e: (e[0], e[2] == "delivered", e[1]))
        if kinds[0][2] != "accepted":  # a delay on the day of acceptance comes after it
            kinds.remove((start, 0, "accepted"))
            kinds.insert(0, (start, 0, "accepted"))
        if cancelled:
            kinds.append((min(self.today, max(k[0] for k in kinds) + datetime.timedelta(days=rng.randint(0, 10))), 1,
                          "cancelled"))
        expected, rows = due, []
        for seq, (day, _, kind) in enumerate(kinds, start=1):
            if seq == 1:
                rows.append({"order_id": order["id"], "seq": 1, "kind": "accepted", "happened": day.isoformat(),
                             "new_date": None, "note": None, "recorded": order["accepted"]})
                continue
            new_date = note = None
            if kind == "delayed":
                expected = max(expected, day) + datetime.timedelta(days=rng.randint(1, 10))
                new_date, note = expected.isoformat(), rng.choice(NOTES)
            elif kind == "cancelled":
                note = "machine capacity lost"
            recorded = datetime.datetime.combine(day, datetime.time(rng.randint(6, 18), rng.randint(0, 59)), UTC)
            recorded = min(max(recorded, accepted), self.end)
            rows.append({"order_id": order["id"], "seq": seq, "kind": kind, "happened": day.isoformat(),
                         "new_date": new_date, "note": note, "recorded": stamp(recorded)})
        self.events.extend(rows)
        if cancelled:
            order["state"] = "cancelled"
        elif progress == 6:
            order["state"] = "delivered"
            if rng.random() < 0.6:
                self.evaluate(order, rows)

    def evaluate(self, order: dict, events: list[dict]) -> None:
        rng = self.rng
        on_time = bool(tracking.status({**order, "terms": order["_terms"]}, events, self.today)["on_time"])
        conforming = rng.random() < 0.95
        defects = 0 if rng.random() < 0.8 else rng.randint(1, 5)
        communication, documents = rng.randint(2, 5), rng.randint(2, 5)
        delivered = datetime.date.fromisoformat(events[-1]["happened"])
        created = datetime.datetime.combine(delivered + datetime.timedelta(days=rng.randint(1, 10)),
                                            datetime.time(10), UTC)
        self.evaluations.append({"order_id": order["id"], "buyer": order["buyer"], "provider": order["provider"],
                                 "conforming": int(conforming), "defects": defects, "communication": communication,
                                 "documents": documents, "on_time": int(on_time),
                                 "score": self.scoring.score(conforming=conforming, defects=defects, on_time=on_time,
                                                             communication=communication, documents=documents),
                                 "comment": rng.choice((None, "good parts", "late paperwork")),
                                 "created": stamp(min(created, self.end))})


def build(path: Path, services: list[dict], scoring: evaluation.Scoring, args) -> dict:
    """A fresh ledger at ``path`` with the history; returns its counts."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    Ledger(path)  # the library's schema and indexes, WAL
    rng = random.Random(args.seed)
    end = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
    history = History(rng, services, args.buyers, end, args.days, scoring)
    span = (end - history.start).total_seconds()
    ordered = sorted(history.start + datetime.timedelta(seconds=rng.uniform(0, span - 15 * 86400))
                     for _ in range(args.orders))
    recent = sorted(end - datetime.timedelta(seconds=rng.uniform(0, 14 * 86400)) for _ in range(args.orders // 10))
    for created in ordered:
        history.inquiry(created, "order")
    for created in recent:
        history.inquiry(created, "open")
    weights = np.random.default_rng(args.seed).lognormal(0.0, 0.6, len(history.orders))
    extra = np.random.default_rng(args.seed + 1).multinomial(args.events - len(history.orders), weights / weights.sum())
    for order, more in zip(history.orders, extra):
        history.track(order, 1 + int(more))
    columns = {"rfqs": ("id", "inquiry", "position", "step", "buyer", "provider", "service", "title", "requirements",
                        "quantity", "due", "delivery", "state", "reason", "created", "updated", "match_score"),
               "offers": ("rfq", "version", "author", "price", "currency", "lead_time_days", "valid_until", "incoterm",
                          "conditions", "status", "created"),
               "orders": ("id", "rfq", "inquiry", "step", "buyer", "provider", "service", "version", "terms", "state",
                          "accepted"),
               "events": ("order_id", "seq", "kind", "happened", "new_date", "note", "recorded"),
               "evaluations": ("order_id", "buyer", "provider", "conforming", "defects", "communication", "documents",
                               "on_time", "score", "comment", "created")}
    rows = {"rfqs": history.rfqs, "offers": history.offers, "orders": history.orders, "events": history.events,
            "evaluations": history.evaluations}
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    for table, names in columns.items():
        db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                       ([row[n] for n in names] for row in rows[table]))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in columns}
    counts["inquiries"] = db.execute("SELECT COUNT(DISTINCT inquiry) FROM rfqs").fetchone()[0]
    counts["buyers"] = db.execute("SELECT COUNT(DISTINCT buyer) FROM rfqs").fetchone()[0]
    counts["providers"] = db.execute("SELECT COUNT(DISTINCT provider) FROM rfqs").fetchone()[0]
    counts["events_max_per_order"] = db.execute(
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM events GROUP BY order_id)").fetchone()[0]
    counts["orders_delivered"] = db.execute("SELECT COUNT(*) FROM orders WHERE state = 'delivered'").fetchone()[0]
    counts["orders_cancelled"] = db.execute("SELECT COUNT(*) FROM orders WHERE state = 'cancelled'").fetchone()[0]
    counts["busiest_buyer_rfqs"] = db.execute(
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM rfqs GROUP BY buyer)").fetchone()[0]
    counts["busiest_provider_rfqs"] = db.execute(
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM rfqs GROUP BY provider)").fetchone()[0]
    counts["file_mb"] = round(path.stat().st_size / 2 ** 20, 1)
    db.close()
    return counts


class Reads:
    """The reads, each a (library call, bare-SQL floor) pair on random parties; ``plans`` their query plans."""

    def __init__(self, ledger: Ledger, path: Path, samples: int, seed: int):
        self.ledger, self.samples = ledger, samples
        self.db = sqlite3.connect(path)  # the floors' one open connection
        db = self.db
        self.providers = [r[0] for r in db.execute("SELECT DISTINCT provider FROM rfqs")]
        self.buyers = [r[0] for r in db.execute("SELECT DISTINCT buyer FROM rfqs")]
        self.rfqs = db.execute("SELECT id, buyer, provider FROM rfqs").fetchall()
        self.inquiries = db.execute("SELECT DISTINCT inquiry, buyer FROM rfqs").fetchall()
        self.orders = db.execute("SELECT id, buyer, provider FROM orders").fetchall()
        self.busiest_provider = db.execute(
            "SELECT provider FROM rfqs GROUP BY provider ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
        self.busiest_buyer = db.execute(
            "SELECT buyer FROM orders GROUP BY buyer ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
        self.seed = seed

    def sql(self, query: str, *args) -> list:
        return self.db.execute(query, args).fetchall()

    def cases(self) -> list[tuple[str, list, object, object]]:
        """(label, population, library call, floor): the calls take a random member of the population."""
        ledger, sql = self.ledger, self.sql
        page = "ORDER BY created DESC, id LIMIT 100"

        def inbox(p, state=None):
            return negotiation.listing(ledger, Party(p, "provider"), state=state, limit=100)

        def view(choice):
            rfq, buyer, provider = choice
            party = Party(provider, "provider") if rfq[-1] in "01234567" else Party(buyer, "buyer")
            return negotiation.view(ledger, party, rfq)

        def view_floor(choice):
            rfq = choice[0]
            return (sql("SELECT * FROM rfqs WHERE id = ?", rfq), sql("SELECT * FROM offers WHERE rfq = ? ORDER BY "
                    "version", rfq), sql("SELECT id FROM orders WHERE rfq = ?", rfq))

        def timeline(choice):
            order, buyer, provider = choice
            party = Party(provider, "provider") if order[-1] in "01234567" else Party(buyer, "buyer")
            return tracking.timeline(ledger, party, order)

        return [
            ("provider inbox, first page of 100 (listing)", self.providers, inbox,
             lambda p: sql(f"SELECT * FROM rfqs WHERE provider = ? {page}", p)),
            ("provider inbox, state=requested (listing)", self.providers, lambda p: inbox(p, "requested"),
             lambda p: sql(f"SELECT * FROM rfqs WHERE provider = ? AND state = ? {page}", p, "requested")),
            ("busiest provider's inbox (listing)", [self.busiest_provider], inbox,
             lambda p: sql(f"SELECT * FROM rfqs WHERE provider = ? {page}", p)),
            ("buyer's requests, first page of 100 (listing)", self.buyers,
             lambda b: negotiation.listing(ledger, Party(b, "buyer"), limit=100),
             lambda b: sql(f"SELECT * FROM rfqs WHERE buyer = ? {page}", b)),
            ("request with its offers (view)", self.rfqs, view, view_floor),
            ("buyer's offer comparison of an inquiry (comparison)", self.inquiries,
             lambda c: negotiation.comparison(ledger, Party(c[1], "buyer"), c[0]),
             lambda c: sql("SELECT * FROM rfqs r LEFT JOIN offers o ON o.rfq = r.id WHERE r.buyer = ? AND "
                           "r.inquiry = ? ORDER BY r.position, r.step, o.version", c[1], c[0])),
            ("busiest buyer's offer comparison (comparison)", [c for c in self.inquiries if c[1] == self.busiest_buyer],
             lambda c: negotiation.comparison(ledger, Party(c[1], "buyer"), c[0]),
             lambda c: sql("SELECT * FROM rfqs r LEFT JOIN offers o ON o.rfq = r.id WHERE r.buyer = ? AND "
                           "r.inquiry = ? ORDER BY r.position, r.step, o.version", c[1], c[0])),
            ("order with its events (timeline)", self.orders, timeline,
             lambda c: (sql("SELECT * FROM orders WHERE id = ?", c[0]),
                        sql("SELECT kind, happened, new_date, note, recorded FROM events WHERE order_id = ? "
                            "ORDER BY seq", c[0]))),
            ("provider's orders, first page of 100 (orders)", self.providers,
             lambda p: tracking.orders(ledger, Party(p, "provider")),
             lambda p: sql("SELECT * FROM orders WHERE provider = ? ORDER BY accepted DESC, id LIMIT 100", p)),
            ("buyer's orders, first page of 100 (orders)", self.buyers,
             lambda b: tracking.orders(ledger, Party(b, "buyer")),
             lambda b: sql("SELECT * FROM orders WHERE buyer = ? ORDER BY accepted DESC, id LIMIT 100", b)),
            ("busiest buyer's orders (orders)", [self.busiest_buyer],
             lambda b: tracking.orders(ledger, Party(b, "buyer")),
             lambda b: sql("SELECT * FROM orders WHERE buyer = ? ORDER BY accepted DESC, id LIMIT 100", b)),
        ]

    def measure(self) -> list[dict]:
        rng = random.Random(self.seed)
        results = []
        opened = []
        for _ in range(self.samples):  # what every library read pays before its query
            start = time.perf_counter()
            sqlite3.connect(self.ledger.path, timeout=30, isolation_level=None).close()
            opened.append(time.perf_counter() - start)
        results.append({"read": "open and close a connection (each library read does, comparison 1 + n times)",
                        "p50_ms": ms(percentile(opened, 50)), "p95_ms": ms(percentile(opened, 95)),
                        "floor_p50_ms": None, "floor_p95_ms": None, "max_ms": ms(max(opened)), "rows_p50": None})
        for label, population, call, floor in self.cases():
            choices = [rng.choice(population) for _ in range(self.samples)]
            for choice in choices[:5]:  # warm the statement caches
                call(choice)
            library, bare, sizes = [], [], []
            for choice in choices:
                start = time.perf_counter()
                answer = call(choice)
                library.append(time.perf_counter() - start)
                start = time.perf_counter()
                floor(choice)
                bare.append(time.perf_counter() - start)
                sizes.append(size(answer))
            results.append({"read": label, "p50_ms": ms(percentile(library, 50)), "p95_ms": ms(percentile(library, 95)),
                            "floor_p50_ms": ms(percentile(bare, 50)), "floor_p95_ms": ms(percentile(bare, 95)),
                            "max_ms": ms(max(library)), "rows_p50": statistics.median(sizes)})
        return results

    def plans(self) -> dict[str, list[str]]:
        """EXPLAIN QUERY PLAN of the reads' statements, as the library sends them."""
        p, b = self.busiest_provider, self.busiest_buyer
        inquiry, buyer = next(c for c in self.inquiries if c[1] == b)
        statements = {
            "inbox": ("SELECT * FROM rfqs WHERE provider = ? ORDER BY created DESC, id LIMIT ? OFFSET ?", (p, 100, 0)),
            "inbox, state": ("SELECT * FROM rfqs WHERE provider = ? AND state = ? ORDER BY created DESC, id LIMIT ? "
                             "OFFSET ?", (p, "requested", 100, 0)),
            "comparison's listing": ("SELECT * FROM rfqs WHERE buyer = ? AND inquiry = ? ORDER BY created DESC, id "
                                     "LIMIT ? OFFSET ?", (buyer, inquiry, 50, 0)),
            "view: offers": ("SELECT * FROM offers WHERE rfq = ? ORDER BY version", ("x",)),
            "view: order": ("SELECT id FROM orders WHERE rfq = ?", ("x",)),
            "timeline: events": ("SELECT kind, happened, new_date, note, recorded FROM events WHERE order_id = ? "
                                 "ORDER BY seq", ("x",)),
            "orders": ("SELECT * FROM orders WHERE buyer = ? ORDER BY accepted DESC, id LIMIT ? OFFSET ?", (b, 100, 0)),
            "accept: siblings": ("SELECT id FROM rfqs WHERE inquiry = ? AND step = ? AND id != ? AND state IN "
                                 "('requested', 'offered', 'countered')", ("x", "y", "z")),
        }
        return {name: [row[3] for row in self.db.execute("EXPLAIN QUERY PLAN " + query, args)]
                for name, (query, args) in statements.items()}


def size(answer) -> int:
    """Rows in a read's answer: list entries, an order's events, a request's offers, a comparison's options."""
    if isinstance(answer, list):
        return len(answer)
    if "events" in answer:
        return len(answer["events"])
    if "steps" in answer:
        return sum(len(step["options"]) for step in answer["steps"])
    return len(answer["offers"])


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def writes(ledger: Ledger, store, services: list[dict], count: int, seed: int) -> list[dict]:
    """``count`` inquiries through the library on the full ledger: request_quotes, an offer on every request, one
    acceptance per inquiry, then five status events per order."""
    rng = random.Random(seed)
    today = datetime.date.today()
    by_process: dict[str, list[dict]] = {}
    for service in services:
        by_process.setdefault(service["process"], []).append(service)
    times: dict[str, list[float]] = {"request_quotes": [], "offer": [], "accept": [], "post_event": []}
    walls: dict[str, float] = {}

    def timed(kind: str, call):
        start = time.perf_counter()
        answer = call()
        times[kind].append(time.perf_counter() - start)
        return answer

    buyers = [f"https://example.org/buyer/b{n:03d}" for n in range(200)]
    inquiries = []
    start = time.perf_counter()
    for _ in range(count):
        pool = by_process[rng.choice(sorted(p for p, offered in by_process.items() if len(offered) >= 3))]
        chosen = rng.sample(pool, rng.choice((2, 2, 3)))
        buyer = Party(rng.choice(buyers), "buyer")
        doc = {"title": "Bracket", "quantity": 50, "due": (today + datetime.timedelta(days=60)).isoformat(),
               "delivery": {"place": "Stuttgart", "lat": 48.78, "lon": 9.18},
               "items": [{"service": s["id"], "step": s["process"], "position": 1, "match_score": 0.8,
                          "requirements": {"material": "EN AW-6082", "tolerance_mm": 0.05,
                                           "drawing": "DRW-10001 rev A"}}
                         for s in chosen]}
        made = timed("request_quotes", lambda: negotiation.request_quotes(ledger, store, buyer, doc))
        inquiries.append((buyer, made))
    walls["request_quotes"] = time.perf_counter() - start
    terms = {"price": 1234.5, "currency": "EUR", "lead_time_days": 14, "incoterm": "FCA",
             "valid_until": (today + datetime.timedelta(days=20)).isoformat(), "conditions": "payment 30 days net"}
    start = time.perf_counter()
    offered = []
    for buyer, made in inquiries:
        views = [timed("offer", lambda: negotiation.offer(ledger, Party(r["provider"], "provider"), r["id"],
                                                          {**terms, "price": rng.randint(900, 2000)}))
                 for r in made["rfqs"]]
        offered.append((buyer, views))
    walls["offer"] = time.perf_counter() - start
    start = time.perf_counter()
    orders = []
    for buyer, views in offered:
        chosen = rng.choice(views)
        made = timed("accept", lambda: negotiation.accept(ledger, buyer, chosen["id"],
                                                          {"version": chosen["offers"][-1]["version"]}))
        orders.append((made["order"], Party(chosen["provider"], "provider")))
    walls["accept"] = time.perf_counter() - start
    start = time.perf_counter()
    for order, provider in orders:
        for doc in ({"kind": "material_received"}, {"kind": "started"},
                    {"kind": "delayed", "new_date": (today + datetime.timedelta(days=70)).isoformat(),
                     "note": "machine breakdown"}, {"kind": "finished"}, {"kind": "shipped"}):
            timed("post_event", lambda: tracking.post_event(ledger, provider, order, doc))
    walls["post_event"] = time.perf_counter() - start
    return [{"transition": kind, "count": len(values), "per_s": round(len(values) / walls[kind], 1),
             "p50_ms": ms(percentile(values, 50)), "p95_ms": ms(percentile(values, 95))}
            for kind, values in times.items()]


def shape_check(path: Path) -> dict[str, str]:
    """Compare the newest rows (written by the library just now) with the oldest (the bulk history): the same
    value types per column and the same JSON keys."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    checks = {"rfqs": ("created", "state = 'accepted'"), "offers": ("created", "status = 'accepted'"),
              "orders": ("accepted", "1"), "events": ("recorded", "kind = 'delayed'")}
    result = {}
    for table, (column, where) in checks.items():
        newest = dict(db.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {column} DESC LIMIT 1").fetchone())
        oldest = dict(db.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {column} LIMIT 1").fetchone())
        differences = []
        for name in newest:
            a, b = newest[name], oldest[name]
            if a is not None and b is not None and type(a) is not type(b):
                differences.append(f"{name}: {type(a).__name__} vs {type(b).__name__}")
            if name in ("requirements", "delivery", "terms") and a and b and set(json.loads(a)) != set(json.loads(b)):
                differences.append(f"{name} keys: {sorted(json.loads(a))} vs {sorted(json.loads(b))}")
            if name in ("created", "updated", "accepted", "recorded") and len(a) != len(b):
                differences.append(f"{name}: {a} vs {b}")
        result[table] = "same" if not differences else "; ".join(differences)
    db.close()
    return result


def table(reads: list[dict]) -> str:
    lines = ["| read | p50 ms | p95 ms | max ms | floor p50 ms | floor p95 ms | rows (median) |",
             "|---|---|---|---|---|---|---|"]
    for r in reads:
        lines.append(f"| {r['read']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | "
                     f"{'' if r['floor_p50_ms'] is None else r['floor_p50_ms']} | "
                     f"{'' if r['floor_p95_ms'] is None else r['floor_p95_ms']} | "
                     f"{'' if r['rows_p50'] is None else r['rows_p50']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000, help="status events in all (at least one per order)")
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--providers", type=int, default=1000, help="demo providers (their services are published)")
    parser.add_argument("--days", type=int, default=365, help="the history's span")
    parser.add_argument("--samples", type=int, default=300, help="random parties per read")
    parser.add_argument("--writes", type=int, default=200, help="inquiries written through the library")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ledger", default=None, help="the ledger file (default var/bench/execution-<orders>.sqlite)")
    parser.add_argument("--index", action="append", default=[],
                        help="SQL run on the benchmark's file after the first measurement, then the reads again")
    args = parser.parse_args()
    if args.events < args.orders:
        parser.error("--events must be at least --orders (every order has its 'accepted' event)")
    path = Path(args.ledger or f"var/bench/execution-{args.orders}.sqlite")
    figures: dict = {"date": datetime.date.today().isoformat(), "orders": args.orders, "events": args.events,
                     "buyers": args.buyers, "providers": args.providers, "samples": args.samples,
                     "sqlite": sqlite3.sqlite_version}

    started = time.perf_counter()
    services = list(generate_services(args.providers, args.seed))
    store = open_store("memory")
    sync_ontology(store)
    published = catalogue.publish(store, json.dumps(services).encode(), "json")
    services = [s for s, r in zip(services, published) if r.published]
    figures["catalogue_services"] = len(services)
    figures["catalogue_s"] = round(time.perf_counter() - started, 1)
    print(f"catalogue: {len(services):,} services of {args.providers:,} providers published in memory in "
          f"{figures['catalogue_s']} s", flush=True)
    started = time.perf_counter()
    figures["ledger"] = build(path, services, evaluation.scoring(store), args)
    figures["build_s"] = round(time.perf_counter() - started, 1)
    print(f"ledger {path}: {figures['ledger']} in {figures['build_s']} s", flush=True)

    ledger = Ledger(path)
    reads = Reads(ledger, path, args.samples, args.seed)
    figures["plans"] = reads.plans()
    started = time.perf_counter()
    figures["reads"] = reads.measure()
    figures["reads_s"] = round(time.perf_counter() - started, 1)
    print(f"\n{args.orders:,} orders, {figures['ledger']['events']:,} events, {figures['ledger']['rfqs']:,} requests, "
          f"{figures['ledger']['offers']:,} offers; {args.samples} random parties per read; {figures['date']}")
    print(table(figures["reads"]), flush=True)
    print("\nquery plans:")
    for name, plan in figures["plans"].items():
        print(f"  {name}: {' / '.join(plan)}")

    started = time.perf_counter()
    figures["writes"] = writes(ledger, store, services, args.writes, args.seed)
    figures["writes_s"] = round(time.perf_counter() - started, 1)
    figures["synchronous"] = sqlite3.connect(path).execute("PRAGMA synchronous").fetchone()[0]
    figures["shape_check"] = shape_check(path)
    print("\n| transition (through the library, on the full ledger) | count | per s | p50 ms | p95 ms |\n"
          "|---|---|---|---|---|")
    for w in figures["writes"]:
        print(f"| {w['transition']} | {w['count']} | {w['per_s']} | {w['p50_ms']} | {w['p95_ms']} |")
    print(f"shape of the bulk rows against the library's: {figures['shape_check']}")

    if args.index:
        db = sqlite3.connect(path)
        for statement in args.index:
            db.execute(statement)
        db.commit()
        db.close()
        reads = Reads(ledger, path, args.samples, args.seed)
        figures["after"] = {"changes": args.index, "plans": reads.plans(), "reads": reads.measure()}
        print(f"\nafter {args.index}:")
        print(table(figures["after"]["reads"]))
        for name, plan in figures["after"]["plans"].items():
            print(f"  {name}: {' / '.join(plan)}")

    over = [r["read"] for r in figures["reads"] if r["p95_ms"] > 200]
    print(f"\nreads with p95 above 200 ms: {over or 'none'}")
    out = Path(__file__).parent / "results" / f"execution-{args.orders}-{figures['date']}.json"
    out.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
