"""Resilience benchmark (issue 19): assess a 50-product value chain against the 100,000-service store with 10 events
and 10,000 Monte Carlo runs, and generate the responses to one event. Nothing here asserts a time.

The store is the one bench_matching.py builds (default var/bench/matching-100000, its ontology brought up to date
first, with its match index snapshot). The value chain is made from the benchmark's 50 products (bench_matching.products): each matched
once on the index, its best route's steps supplied by its best candidates (every third step by two services, 70/30,
the rest single-sourced). The 10 events are drawn from that chain with a seed: insolvencies and cyber incidents of
suppliers, a national pandemic wave and a tariff, energy rationing for a process class in a country, floods as
circles around supplier sites, a material restriction. Measured: ``assess`` and ``respond`` end to end as the HTTP
route runs them (each product matched again in the worker's workspace, what the events hit found in the store, the
simulation), medians of ``--repeats`` with the phases of the last run timed apart (matching, what the events hit,
impact and exposure, simulation). Results go to benchmarks/results/resilience-<services>-<date>.json.

    python benchmarks/bench_resilience.py --store var/bench/matching-100000 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_matching import TODAY, products  # noqa: E402

from maas_kg.knowledge.graphs import sync_ontology  # noqa: E402
from maas_kg.matching.index import snapshot_for  # noqa: E402
from maas_kg.matching.workspace import Workspace  # noqa: E402
from maas_kg.resilience import assess, read_events, read_value_chain, respond  # noqa: E402
from maas_kg.resilience import assessment  # noqa: E402
from maas_kg.resilience.events import touched  # noqa: E402
from maas_kg.store import open_store  # noqa: E402


def value_chain(workspace, count: int, rng: random.Random) -> dict:
    entries = []
    for number, doc in enumerate(products(count)):
        result = workspace.match(json.dumps(doc).encode(), "json", today=TODAY, k=1)
        route = max(result.routes, key=lambda r: sum(min(m.candidate_count, 3) for m in r.steps))
        steps = []
        for index, step in enumerate(route.steps):
            best = step.best(2)
            if not best:
                continue
            if index % 3 == 2 and len(best) > 1:
                suppliers = [{"service": best[0].service, "share": 0.7}, {"service": best[1].service, "share": 0.3}]
            else:
                suppliers = [{"service": best[0].service, "share": 1.0}]
            steps.append({"process": step.step.process, "suppliers": suppliers})
        if steps:
            entries.append({"product": doc, "yearly_volume": rng.choice([1000, 5000, 20000]),
                            "unit_revenue": rng.choice([20.0, 80.0, 300.0]), "safety_stock_days": rng.choice([5, 10, 20]),
                            "steps": steps,
                            "open_orders": [{"quantity": 500, "due": (TODAY + datetime.timedelta(days=30)).isoformat()}]})
    return {"id": "https://example.org/value-chain/bench", "name": "benchmark chain", "products": entries}


def events(chain: dict, store, rng: random.Random) -> list[dict]:
    suppliers = sorted({s["service"] for p in chain["products"] for st in p["steps"] for s in st["suppliers"]})
    facts = assessment.service_facts(store, suppliers)
    picked = rng.sample(suppliers, 6)
    site = [facts[s] for s in picked if facts[s]["lat"] is not None]
    found = [
        {"id": "insolvency-a", "type": "insolvency", "scope": {"providers": [facts[picked[0]]["provider"]]},
         "probability_per_year": 0.03, "duration_days": 120},
        {"id": "insolvency-b", "type": "insolvency", "scope": {"providers": [facts[picked[1]]["provider"]]},
         "probability_per_year": 0.02, "duration_days": 90},
        {"id": "cyber", "type": "cyber incident", "scope": {"providers": [facts[picked[2]]["provider"]]},
         "probability_per_year": 0.08, "duration_days": 21},
        {"id": "pandemic", "type": "pandemic", "scope": {"countries": ["DE", "CZ", "PL"]},
         "probability_per_year": 0.02, "capacity_loss": 0.3, "duration_days": 60},
        {"id": "tariff", "type": "trade barrier", "scope": {"countries": [facts[picked[3]]["country"] or "IT"]},
         "probability_per_year": 0.05, "capacity_loss": 0.0, "duration_days": 180, "added_lead_time_days": 12},
        {"id": "rationing", "type": "energy shortage",
         "scope": {"countries": ["DE"], "processes": [facts[picked[4]]["process"]]},
         "probability_per_year": 0.04, "capacity_loss": 0.6, "duration_days": 90},
        {"id": "restriction", "type": "regulation change", "scope": {"materials": ["aluminium"]},
         "probability_per_year": 0.03, "capacity_loss": 0.2, "duration_days": 365},
    ]
    for number, spot in enumerate(site[:3]):
        found.append({"id": f"flood-{number}", "type": "natural disaster",
                      "scope": {"circle": {"lat": spot["lat"], "lon": spot["lon"], "radius_km": 50}},
                      "probability_per_year": 0.02, "duration_days": 45})
    return found[:10]


def timed(function, repeats: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="var/bench/matching-100000")
    parser.add_argument("--services", type=int, default=100_000, help="for the results' name")
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    store = open_store(args.store)
    start = time.perf_counter()
    sync_ontology(store)  # a store built before the resilience module gets it, as `maas-kg serve` would load it
    print(f"ontology brought up to date in {time.perf_counter() - start:.1f} s", flush=True)
    workspace = Workspace(store, snapshot=snapshot_for(args.store))
    start = time.perf_counter()
    workspace.index.follow(store, force=True)
    index_seconds = time.perf_counter() - start
    rng = random.Random(args.seed)
    chain_doc = value_chain(workspace, args.products, rng)
    chain = read_value_chain(chain_doc, store)
    the_events = read_events(events(chain_doc, store, rng), store)
    assessed_times, assessed = timed(lambda: assess(workspace, store, chain, the_events, runs=args.runs, seed=1,
                                                    today=TODAY), args.repeats)
    worst = max(assessed["events"], key=lambda e: e["revenue_at_risk"])["event"]["id"]
    event = [e for e in the_events if e.id == worst]
    responded_times, responded = timed(lambda: respond(workspace, store, chain, event, today=TODAY), args.repeats)
    # the phases, once
    phases = {}
    start = time.perf_counter()
    states = assessment.match_steps(workspace, chain, today=TODAY)
    phases["matching (every product again)"] = time.perf_counter() - start
    services = chain.services()
    start = time.perf_counter()
    hit_map = touched(store, the_events, services)
    phases[f"what the events hit among the {len(services):,} suppliers"] = time.perf_counter() - start
    start = time.perf_counter()
    event_hits = assessment.hits(store, chain, states, the_events, hit_map)
    phases["time to recover (the fastest alternative each event spares)"] = time.perf_counter() - start
    start = time.perf_counter()
    assessment.impact(chain, the_events, event_hits, today=TODAY)
    phases["impact"] = time.perf_counter() - start
    start = time.perf_counter()
    assessment.simulate(chain, the_events, event_hits, runs=args.runs, seed=1)
    phases[f"simulation ({args.runs:,} runs)"] = time.perf_counter() - start
    steps = sum(len(p.steps) for p in chain.products)
    results = {"date": datetime.date.today().isoformat(), "store": args.store, "services": args.services,
               "products": len(chain.products), "steps": steps, "events": len(the_events), "runs": args.runs,
               "index_from_snapshot_s": round(index_seconds, 2),
               "assess_s": [round(t, 2) for t in assessed_times], "assess_median_s": round(statistics.median(assessed_times), 2),
               "respond_event": worst, "respond_s": [round(t, 2) for t in responded_times],
               "respond_median_s": round(statistics.median(responded_times), 2),
               "phases_s": {k: round(v, 3) for k, v in phases.items()},
               "hit_steps": sum(len(e["products"]) for e in assessed["events"]),
               "responded_steps": len(responded["steps"])}
    out = Path(__file__).parent / "results" / f"resilience-{args.services}-{results['date']}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{len(chain.products)} products, {steps} steps, {len(the_events)} events, {args.runs:,} runs, "
          f"{args.services:,} services")
    print("| measure | median | runs |\n|---|---|---|")
    print(f"| assess (R1) | {results['assess_median_s']} s | {results['assess_s']} |")
    print(f"| respond to {worst} (R2) | {results['respond_median_s']} s | {results['respond_s']} |")
    for name, seconds in phases.items():
        print(f"| {name} | {seconds:.2f} s | once |")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
