"""R1: the impact and risk of disruption events on a value chain, its exposure without a specific event, and a
seeded Monte Carlo simulation of delays (seed paper section 4.1, figure 6).

Per product, each step of today's route is matched again (stage 2, the product's own due date and distance) to find
the qualified alternatives to today's suppliers. An event hits a supplier (``queries/resilience/touched-services.rq``)
and takes away ``capacity_loss`` of the share of the step's volume it supplies, for ``duration_days``. The time to
survive is the product's safety stock; the time to recover is the shortest delivery time of an alternative the event
does not hit (or the event's duration, where there is none). A step's delay is
``max(0, min(duration, recover) + added lead time - survive)``, a product's the largest of its steps';
units at risk are ``yearly volume x lost share x min(duration, recover) / 365``, revenue at risk those units times
the product's unit revenue. Risk is probability x revenue at risk. The simulation draws each event per run with its
yearly probability and a duration (lognormal around the stated median, sigma 0.4) and gives, per product, the
distribution of delay and the probability of delivering on time.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import rdflib
from rdflib.namespace import RDFS

from maas_kg import knowledge
from maas_kg.catalogue.publishing import service_graph
from maas_kg.execution.fields import FieldError
from maas_kg.knowledge import rules
from maas_kg.matching.products import ProductError
from maas_kg.resilience.events import Event, touched
from maas_kg.resilience.value_chains import ChainProduct, ChainStep, ValueChain

DURATION_SIGMA = 0.4  # spread of simulated durations around the stated median (lognormal)
MAX_RUNS = 100_000
CHUNK = 200  # alternatives tested against the events at a time, at most
# alternatives of a step tested against the events at most (the best or fastest first): an event that hits nearly
# all of them (a material restriction) made respond walk thousands per step, 0.27 ms each (16 of 19 s of a
# 50-product chain at 100,000 services); past these, a step counts as having no alternative the event spares
MAX_TESTED = 1000


@dataclass
class StepState:
    """One step of one product: today's suppliers and the qualified alternatives matching found."""
    product: int
    index: int
    step: ChainStep
    matched: bool  # whether any route of the product has this process
    # ranked best first, today's suppliers left out: the best and the fastest MAX_TESTED of alternative_count
    alternatives: list[dict] = field(default_factory=list)
    alternative_count: int = 0
    candidate_count: int = 0


def _subclasses_of(process: str) -> set[str]:
    graph = knowledge.ontology_graph()
    return {str(c) for c in graph.transitive_subjects(RDFS.subClassOf, rdflib.URIRef(process))}


def _alternatives(step_match, exclude: set[str]) -> tuple[list[dict], int]:
    """The qualified alternatives of a step in rank order, and how many there are. Only those the resilience
    models can look at are made into records: the ``MAX_TESTED`` best and the ``MAX_TESTED`` fastest (making all
    of them, tens of thousands at 100,000 services, was a second of every assessment)."""
    rows, columns = step_match.rows, step_match.columns
    ranked = np.asarray(step_match.candidate_rows, dtype=np.int64)
    if exclude and len(ranked):
        ranked = ranked[np.fromiter((rows.service[i] not in exclude for i in ranked.tolist()), dtype=bool,
                                    count=len(ranked))]
    delivery = np.asarray(columns["delivery"], dtype=float)[ranked]
    fastest = np.argsort(np.where(np.isnan(delivery), np.inf, delivery), kind="stable")[:MAX_TESTED]
    kept = np.zeros(len(ranked), dtype=bool)
    kept[:MAX_TESTED] = True
    kept[fastest] = True

    def value(column, at: int):
        number = float(column[at])
        return None if np.isnan(number) else number

    found = []
    for i in ranked[kept].tolist():
        found.append({"service": rows.service[i], "provider": rows.provider[i], "score": value(columns["score"], i),
                      "delivery_days": value(columns["delivery"], i), "price_eur": value(columns["quote_eur"], i),
                      "distance_km": value(columns["distance"], i), "co2_kg": value(columns["co2"], i),
                      "capacity_per_week": value(rows.values["capacity"], i),
                      "headroom": value(columns["headroom"], i)})
    return found, len(ranked)


def match_steps(workspace, chain: ValueChain, *, today: datetime.date, results: list | None = None) -> list[StepState]:
    """Match every product of the chain and find, per step, the qualified alternatives to today's suppliers
    (``results``, if given, receives each product's match result)."""
    states = []
    for number, product in enumerate(chain.products):
        try:
            result = workspace.match(product.data, "json", today=today, k=1)
        except ProductError as err:
            raise ProductError(f"products[{number}].product: {err}", err.report) from None
        if results is not None:
            results.append(result)
        by_process = {}
        for route in result.routes:
            for step_match in route.steps:
                by_process.setdefault(step_match.step.process, step_match)
        for index, step in enumerate(product.steps):
            kinds = _subclasses_of(step.process)
            step_match = by_process.get(step.process) or next(
                (m for process, m in by_process.items() if process in kinds), None)
            state = StepState(number, index, step, step_match is not None)
            if step_match is not None:
                state.alternatives, state.alternative_count = _alternatives(
                    step_match, {s.service for s in step.suppliers})
                state.candidate_count = step_match.candidate_count
            states.append(state)
    return states


def service_facts(catalogue, services: list[str]) -> dict[str, dict]:
    block = rules.values(["service", "graph"], [[s, service_graph(s)] for s in sorted(set(services))])
    facts = {}
    for row in rules.select(catalogue, "resilience/service-facts.rq", SERVICES=block):
        facts[row["service"].value] = {
            "provider": row["provider"].value, "process": row["process"].value,
            "country": row["country"].value if row["country"] is not None else None,
            "region": row["region"].value if row["region"] is not None else None,
            "lat": float(row["lat"].value) if row["lat"] is not None else None,
            "lon": float(row["lon"].value) if row["lon"] is not None else None}
    return facts


def _hhi(shares: dict[str, float]) -> float:
    return round(sum(share * share for share in shares.values()), 4)


def exposure(chain: ValueChain, states: list[StepState], facts: dict[str, dict]) -> dict:
    """Without a specific event: single sourcing, steps with few alternatives, concentration (Herfindahl) by
    provider and by country, providers shared by several products."""
    steps, vulnerabilities = [], []
    minimum = knowledge.parameter("minimum_alternatives")  # maas:MinimumQualifiedAlternatives
    for state in states:
        product = chain.products[state.product]
        by_provider: dict[str, float] = {}
        by_country: dict[str, float] = {}
        for supply in state.step.suppliers:
            by_provider[supply.provider] = by_provider.get(supply.provider, 0) + supply.share
            country = facts.get(supply.service, {}).get("country") or "unknown"
            by_country[country] = by_country.get(country, 0) + supply.share
        alternatives = state.alternative_count
        entry = {"product": product.name, "step": state.step.process_name, "process": state.step.process,
                 "suppliers": len(state.step.suppliers), "single_sourced": len(by_provider) == 1,
                 "qualified_alternatives": alternatives, "hhi_provider": _hhi(by_provider),
                 "hhi_country": _hhi(by_country), "countries": sorted(by_country)}
        steps.append(entry)
        where = _distance_phrase(product)
        if not state.matched:
            vulnerabilities.append(f"the {state.step.process_name} step of {product.name} is in no route the "
                                   "ontology derives for the product as described: no alternative can be matched")
        elif alternatives < minimum:
            count = {0: "no other qualified provider", 1: "one other qualified service"}.get(
                alternatives, f"{alternatives} other qualified services")
            single = ": a single point of failure" if entry["single_sourced"] and alternatives == 0 else ""
            vulnerabilities.append(f"the {state.step.process_name} step of {product.name} has {count}{where}"
                                   f"{single}")
        if entry["single_sourced"] and alternatives >= minimum:
            vulnerabilities.append(f"the {state.step.process_name} step of {product.name} is single-sourced "
                                   f"({next(iter(by_provider))}), with {alternatives} qualified alternatives")
        if entry["hhi_country"] >= 0.999 and len(state.step.suppliers) > 1:
            vulnerabilities.append(f"all suppliers of the {state.step.process_name} step of {product.name} are in "
                                   f"{entry['countries'][0]}: one regional event stops the step")
    users: dict[str, set[str]] = {}
    for product in chain.products:
        for step in product.steps:
            for supply in step.suppliers:
                users.setdefault(supply.provider, set()).add(product.name)
    shared = {provider: sorted(names) for provider, names in users.items() if len(names) > 1}
    for provider, names in sorted(shared.items()):
        vulnerabilities.append(f"{provider} supplies {len(names)} products ({', '.join(names)}): its failure hits "
                               "them all")
    return {"steps": steps, "shared_providers": shared, "vulnerabilities": vulnerabilities}


def _distance_phrase(product: ChainProduct) -> str:
    delivery = product.document.get("delivery") or {}
    limits = []
    if delivery.get("max_distance_km"):
        limits.append(f"within {delivery['max_distance_km']:g} km")
    if delivery.get("due"):
        limits.append(f"by {delivery['due']}")
    return (" " + " and ".join(limits)) if limits else ""


@dataclass(frozen=True)
class Hit:
    """What one event does to one step of one product."""
    product: int
    step: int
    lost_share: float  # of the step's volume
    hit_share: float  # supplied by hit services (capacity loss not applied)
    recover_days: float | None  # shortest delivery of an alternative the event does not hit
    services: tuple[str, ...]
    reasons: tuple[str, ...]


def _chunks(alternatives: list[dict], first: int) -> Iterator[list[dict]]:
    """The first ``MAX_TESTED`` alternatives in chunks that double from ``first`` up to ``CHUNK``: the answer is
    usually among the first few, and the rule costs about 0.1 ms per service tested."""
    start, size, end = 0, max(1, first), min(len(alternatives), MAX_TESTED)
    while start < end:
        yield alternatives[start:min(start + size, end)]
        start, size = start + size, min(CHUNK, size * 2)


class KnownHits:
    """What events hit among services, each (event, service) asked of the rule once: the steps of a value chain
    share many alternatives (one process class for several products), which a response tested again per step
    (respond 8.7 s before, at 100,000 services)."""

    def __init__(self, catalogue):
        self.catalogue = catalogue
        self.known: dict[tuple[str, str], bool] = {}

    def hit(self, events: list[Event], services: list[str]) -> dict[str, set[str]]:
        """Per event, which of ``services`` it hits."""
        unknown = [s for s in dict.fromkeys(services) if any((e.id, s) not in self.known for e in events)]
        if unknown:
            found = touched(self.catalogue, events, unknown)
            for event in events:
                by_service = found.get(event.id, {})
                self.known.update(((event.id, s), s in by_service) for s in unknown)
        return {event.id: {s for s in services if self.known[(event.id, s)]} for event in events}


def free_alternatives(catalogue, events: list[Event], alternatives: list[dict], *, want: int,
                      known: KnownHits | None = None) -> list[dict]:
    """The first ``want`` of ``alternatives`` (in their order) that none of ``events`` hits, tested a chunk at a time:
    a step may have thousands of qualified alternatives at catalogue scale, and testing them all against the events
    cost minutes at 100,000 services, where the answer needs the first few."""
    known = known or KnownHits(catalogue)
    found = []
    for chunk in _chunks(alternatives, 2 * want):
        hit = set().union(*known.hit(events, [a["service"] for a in chunk]).values())
        found += [a for a in chunk if a["service"] not in hit]
        if len(found) >= want:
            break
    return found[:want]


def hits(catalogue, chain: ValueChain, states: list[StepState], events: list[Event],
         hit_map: dict, *, recover_days: bool = True) -> dict[str, list[Hit]]:
    """Per event, the steps it touches (``hit_map``: what each event hits among today's suppliers), each with the
    time to recover: the shortest delivery of an alternative the event does not hit (None for every step without
    ``recover_days``, for callers that need only what is lost: it is most of the time of finding the hits)."""
    touching: dict[int, list[Event]] = {}  # state -> the events that hit one of its suppliers
    for event in events:
        for number, state in enumerate(states):
            if recover_days and any(s.service in hit_map.get(event.id, {}) for s in state.step.suppliers):
                touching.setdefault(number, []).append(event)
    recover, known = {}, KnownHits(catalogue)
    for number, touched_by in touching.items():
        fastest = sorted((a for a in states[number].alternatives if a["delivery_days"] is not None),
                         key=lambda a: a["delivery_days"])
        recover.update(_first_spared(known, touched_by, fastest, number))
    result = {}
    for event in events:
        touched_services = hit_map.get(event.id, {})
        found = []
        for number, state in enumerate(states):
            hit = [s for s in state.step.suppliers if s.service in touched_services]
            if not hit:
                continue
            share = sum(s.share for s in hit)
            reasons = sorted({r for s in hit for r in touched_services[s.service]})
            found.append(Hit(state.product, state.index, share * event.capacity_loss, share,
                             recover.get((event.id, number)), tuple(s.service for s in hit), tuple(reasons)))
        result[event.id] = found
    return result


def _first_spared(known: KnownHits, events: list[Event], fastest: list[dict],
                  number: int) -> dict[tuple[str, int], float]:
    """(event, state) -> the delivery days of the first of ``fastest`` the event does not hit: the alternatives are
    tested a chunk at a time against every event that hits the step at once (one event at a time made the
    time-to-recover phase 9.2 s of a 50-product chain at 100,000 services)."""
    found, pending = {}, {event.id for event in events}
    for chunk in _chunks(fastest, 8):
        hit = known.hit([event for event in events if event.id in pending], [a["service"] for a in chunk])
        for event_id in sorted(pending):
            spared = next((a for a in chunk if a["service"] not in hit.get(event_id, {})), None)
            if spared is not None:
                found[(event_id, number)] = spared["delivery_days"]
                pending.discard(event_id)
        if not pending:
            break
    return found


def step_delay(duration, event: Event, hit: Hit, survive: float):
    """Days of delay of a hit step for a given duration (a number or an array of them)."""
    waited = np.minimum(duration, hit.recover_days) if hit.recover_days is not None else np.asarray(duration)
    if hit.lost_share <= 0:
        waited = np.zeros_like(np.asarray(duration, dtype=float))
    return np.maximum(0.0, waited + event.added_lead_time_days - survive)


def impact(chain: ValueChain, events: list[Event], event_hits: dict[str, list[Hit]], *,
           today: datetime.date) -> list[dict]:
    """Per event: the touched relations, and per product units and revenue at risk, delay, orders at risk."""
    report = []
    for event in events:
        per_product: dict[int, dict] = {}
        for hit in event_hits[event.id]:
            product = chain.products[hit.product]
            delay = float(step_delay(event.duration_days, event, hit, product.safety_stock_days))
            outage = min(event.duration_days, hit.recover_days) if hit.recover_days is not None \
                else event.duration_days
            units = product.yearly_volume * hit.lost_share * outage / 365
            entry = per_product.setdefault(hit.product, {"product": product.name, "delay_days": 0.0,
                                                         "units_at_risk": 0.0, "steps": []})
            entry["delay_days"] = max(entry["delay_days"], delay)
            entry["units_at_risk"] = max(entry["units_at_risk"], units)
            entry["steps"].append({"step": product.steps[hit.step].process_name, "services": list(hit.services),
                                   "because": list(hit.reasons), "share_hit": round(hit.hit_share, 4),
                                   "share_lost": round(hit.lost_share, 4),
                                   "time_to_recover_days": hit.recover_days,
                                   "time_to_survive_days": product.safety_stock_days, "delay_days": round(delay, 1)})
        products = []
        for number, entry in sorted(per_product.items()):
            product = chain.products[number]
            window = today + datetime.timedelta(days=event.duration_days + event.added_lead_time_days)
            entry["revenue_at_risk"] = round(entry["units_at_risk"] * product.unit_revenue, 2)
            entry["units_at_risk"] = round(entry["units_at_risk"], 1)
            entry["delay_days"] = round(entry["delay_days"], 1)
            entry["open_orders_at_risk"] = [
                {"quantity": o.quantity, "due": o.due.isoformat(), "days_late": entry["delay_days"]}
                for o in product.open_orders if entry["delay_days"] > 0 and today <= o.due <= window]
            products.append(entry)
        revenue = sum(p["revenue_at_risk"] for p in products)
        delay = max((p["delay_days"] for p in products), default=0.0)
        report.append({"event": event.as_json(), "products": products, "revenue_at_risk": round(revenue, 2),
                       "max_delay_days": delay, "risk": round(event.probability * revenue, 2),
                       "likelihood": _likelihood(event.probability), "severity": _severity(delay)})
    return report


def _likelihood(probability: float) -> str:
    return "rare" if probability < 0.01 else "possible" if probability < 0.1 else "likely"


def _severity(delay: float) -> str:
    return "none" if delay <= 0 else "minor" if delay <= 7 else "major" if delay <= 30 else "severe"


def risk_matrix(report: list[dict]) -> dict:
    """Events by likelihood (rows) and severity (columns)."""
    matrix = {row: {column: [] for column in ("none", "minor", "major", "severe")}
              for row in ("likely", "possible", "rare")}
    for entry in report:
        matrix[entry["likelihood"]][entry["severity"]].append(entry["event"]["id"])
    return matrix


def simulate(chain: ValueChain, events: list[Event], event_hits: dict[str, list[Hit]], *, runs: int,
             seed: int) -> list[dict]:
    """Per product, over ``runs`` simulated years: the probability of delivering on time and the delay
    distribution. Seeded; vectorised over the runs."""
    rng = np.random.default_rng(seed)
    delays = np.zeros((len(chain.products), runs))
    for event in events:  # drawn in a fixed order, so one seed gives one answer
        occurs = rng.random(runs) < event.probability
        durations = event.duration_days * np.exp(rng.normal(0.0, DURATION_SIGMA, runs))
        for hit in event_hits[event.id]:
            product = chain.products[hit.product]
            delay = np.where(occurs, step_delay(durations, event, hit, product.safety_stock_days), 0.0)
            delays[hit.product] = np.maximum(delays[hit.product], delay)
    result = []
    for number, product in enumerate(chain.products):
        row = delays[number]
        result.append({"product": product.name, "on_time_probability": round(float(np.mean(row == 0)), 4),
                       "mean_delay_days": round(float(row.mean()), 2),
                       "p50_delay_days": round(float(np.percentile(row, 50)), 1),
                       "p90_delay_days": round(float(np.percentile(row, 90)), 1),
                       "p99_delay_days": round(float(np.percentile(row, 99)), 1),
                       "histogram": _histogram(row)})
    return result


def _histogram(delays: np.ndarray) -> list[dict]:
    labels = ["on time", "1-7 days", "8-30 days", "31-90 days", "over 90 days"]
    counts = [int(np.sum(delays == 0)), *[int(np.sum((delays > 0) & (delays >= lo) & (delays < hi)))
                                          for lo, hi in zip([0, 8, 31, 91], [8, 31, 91, np.inf])]]
    return [{"delay": label, "share": round(count / len(delays), 4)} for label, count in zip(labels, counts)]


def assess(workspace, catalogue, chain: ValueChain, events: list[Event], *, runs: int = 10_000, seed: int = 1,
           today: datetime.date | None = None) -> dict:
    """R1 for ``chain`` under ``events``: exposure, impact and risk per event, the risk matrix, the simulation."""
    today = today or datetime.date.today()
    if not 1 <= runs <= MAX_RUNS:
        raise FieldError("runs", f"must be from 1 to {MAX_RUNS:,}")
    states = match_steps(workspace, chain, today=today)
    suppliers = chain.services()
    facts = service_facts(catalogue, suppliers)
    hit_map = touched(catalogue, events, suppliers)
    event_hits = hits(catalogue, chain, states, events, hit_map)
    report = impact(chain, events, event_hits, today=today)
    for event, entry in zip(events, report):
        # the region test cannot judge a supplier whose site states no region: say how many there are
        unjudged = sum(1 for s in set(suppliers) if not facts.get(s, {}).get("region")) if event.regions else 0
        if unjudged:
            entry["suppliers_without_region"] = unjudged
    exposed = exposure(chain, states, facts)
    for entry in report:
        for product in entry["products"]:
            if product["delay_days"] > 0:
                exposed["vulnerabilities"].append(
                    f"{entry['event']['name']} delays {product['product']} by {product['delay_days']:g} days "
                    f"({product['revenue_at_risk']:,.0f} {chain.currency} of revenue at risk)")
    return {"value_chain": chain.id, "name": chain.name, "currency": chain.currency, "today": today.isoformat(),
            "exposure": exposed, "events": sorted(report, key=lambda e: -e["risk"]), "risk_matrix": risk_matrix(report),
            "simulation": {"runs": runs, "seed": seed,
                           "products": simulate(chain, events, event_hits, runs=runs, seed=seed) if events else []}}
