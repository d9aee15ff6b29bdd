"""Matching benchmark: end-to-end match latency (translation, must-criteria, can-criteria, orchestration) on an
on-disk store of N demo services (default 100,000) for P different products (default 50).

Measured in the same run: (a) the floor, the bare must-criteria SPARQL of the same route steps in pyoxigraph, and
(b) the naive baseline, the same queries (without LATERAL, which rdflib lacks) in rdflib's in-memory engine over
the same data, on the first --baseline-products products (rdflib needs minutes per query at this size).
The store is built once by the initial load (validated and recorded as publishing does, written by one bulk
load) and reused from --store while its service count matches. Reports p50/p95 and ratios; nothing here asserts a time.

    python benchmarks/bench_matching.py --services 100000 --products 50
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import random
import shutil
import statistics
import threading
import time
from pathlib import Path

from maas_kg.catalogue.demo import generate_services
from maas_kg.catalogue.initial_load import initial_load
from maas_kg.matching import match_product, must_criteria_query, read_request
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.matching.products import submit_product
from maas_kg.store import open_store
from maas_kg.matching.translation import derive_requirements

TODAY = datetime.date(2026, 11, 22)
EXAMPLES = Path(__file__).parents[1] / "examples" / "products"
CITIES = [(48.14, 11.58), (52.52, 13.40), (50.11, 8.68), (45.46, 9.19), (48.86, 2.35), (52.23, 21.01),
          (50.08, 14.44), (47.50, 19.04), (51.51, 7.47), (53.55, 9.99)]


def build_store(path: Path, services: int, batch: int = 2000, workers: int = 2) -> None:
    """Build the store of the first ``services`` demo services once (reused while the marker file matches): the
    services are validated and recorded as publishing does, and written by the initial load (one bulk load). An
    unfinished build is thrown away and started again, because a bulk load is not transactional."""
    marker = path / "bench-services.txt"
    if marker.exists() and marker.read_text().strip() == str(services):
        return
    shutil.rmtree(path, ignore_errors=True)
    store = open_store(str(path))
    sync_ontology(store)
    stream = itertools.islice(generate_services(providers=services, seed=1), services)
    chunks = iter(lambda: list(itertools.islice(stream, batch)), [])
    start, done, rejected = time.perf_counter(), 0, 0

    def report(results) -> None:
        nonlocal done, rejected
        done += len(results)
        rejected += sum(not r.published for r in results)
        print(f"  prepared {done:,}/{services:,} services ({done / (time.perf_counter() - start):,.0f}/s, "
              f"{rejected} rejected)", flush=True)

    initial_load(store, (json.dumps(chunk).encode() for chunk in chunks), "json", workers=workers, progress=report,
                 scratch=path.parent)
    print(f"  built {services:,} services in {time.perf_counter() - start:,.0f} s", flush=True)
    store.close()
    marker.write_text(str(services))


def products(count: int) -> list[dict]:
    """``count`` different products: the ten examples with varied quantity, delivery place and due date."""
    rng = random.Random(50)
    examples = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]
    result = []
    for i in range(count):
        doc = dict(examples[i % len(examples)])
        doc["id"] = f"{doc['id']}-bench-{i}"
        if i >= len(examples):
            doc["quantity"] = max(1, int(doc["quantity"] * rng.choice([0.5, 1, 2])))
            lat, lon = rng.choice(CITIES)
            doc["delivery"] = {**doc["delivery"], "lat": lat, "lon": lon,
                               "due": (TODAY + datetime.timedelta(days=rng.randint(40, 200))).isoformat()}
        result.append(doc)
    return result


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def portable(query: str) -> str:
    """The must-criteria query without LATERAL (SPARQL 1.1), for engines that lack it: each LATERAL block here
    starts with the patterns it shares with the rest, so a plain group join gives the same solutions."""
    return query.replace("LATERAL {", "{")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--baseline-products", type=int, default=1)
    parser.add_argument("--baseline-timeout", type=float, default=900.0, help="seconds to wait for rdflib per product")
    parser.add_argument("--store", default=None, help="store folder (default var/bench/matching-<services>)")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()

    path = Path(args.store or f"var/bench/matching-{args.services}")
    print(f"store {path}: building {args.services:,} services if needed", flush=True)
    build_store(path, args.services)
    if args.build_only:
        return
    store = open_store(str(path))
    sync_ontology(store)

    end_to_end, floor, step_queries = [], [], []
    for doc in products(args.products):
        product = submit_product(store, json.dumps(doc).encode(), "json")
        start = time.perf_counter()
        result = match_product(store, product, today=TODAY, record=True)
        end_to_end.append(time.perf_counter() - start)
        request = read_request(store, product, today=TODAY)
        translation = derive_requirements(store, product, record=False)
        queries = [must_criteria_query(request, s.process, s.sets_surface, translation.characteristics.required_it)
                   for s in {(st.process, st.sets_surface): st for r in result.translation.routes for st in r.steps}.values()]
        start = time.perf_counter()
        for query in queries:
            store.select(query, union_default_graph=True)
        floor.append(time.perf_counter() - start)
        step_queries.append(queries)

    rows = [("end-to-end match (translation, must, can, orchestration)", end_to_end),
            ("floor: bare must-criteria SPARQL in pyoxigraph", floor)]
    print(f"\n{args.services:,} services on disk, {args.products} products, {TODAY}")
    print("| measure | p50 ms | p95 ms |\n|---|---|---|")
    for name, values in rows:
        print(f"| {name} | {percentile(values, 50) * 1000:.1f} | {percentile(values, 95) * 1000:.1f} |")
    print(f"| end-to-end / floor (p95) | {percentile(end_to_end, 95) / percentile(floor, 95):.2f}x | |")

    if args.baseline_products:
        import rdflib

        dump = path.parent / f"matching-{args.services}.nq"
        store.export(dump, "nquads")
        start = time.perf_counter()
        dataset = rdflib.Dataset(default_union=True)
        dataset.parse(dump, format="nquads")
        print(f"rdflib: loaded {len(dataset):,} quads in {time.perf_counter() - start:.0f} s", flush=True)
        baseline, lower_bound = [], False
        for queries in step_queries[:args.baseline_products]:
            done: dict = {}
            worker = threading.Thread(target=lambda qs=queries: done.update(
                answers=[len(dataset.query(portable(q))) for q in qs]), daemon=True)
            start = time.perf_counter()
            worker.start()
            worker.join(args.baseline_timeout)
            baseline.append(time.perf_counter() - start)
            if worker.is_alive():  # rdflib cannot be interrupted: report a lower bound and stop waiting
                lower_bound = True
                print(f"  rdflib: still running after {args.baseline_timeout:.0f} s for {len(queries)} step queries",
                      flush=True)
                break
            same = done["answers"] == [len(store.select(q, union_default_graph=True)) for q in queries]
            print(f"  rdflib: {baseline[-1]:.1f} s for {len(queries)} step queries (same answers: {same})", flush=True)
        paired = floor[:len(baseline)]
        bound = ">= " if lower_bound else ""
        print(f"| baseline: same must-criteria in rdflib (median of {len(baseline)} products) | "
              f"{bound}{statistics.median(baseline) * 1000:.0f} ms | |")
        print(f"| speed-up of pyoxigraph floor over rdflib (median ratio) | "
              f"{bound}{statistics.median(b / f for b, f in zip(baseline, paired, strict=True)):.0f}x | |")
        print(f"| speed-up of end-to-end over rdflib must-only (median ratio) | "
              f"{bound}{statistics.median(b / e for b, e in zip(baseline, end_to_end[:len(baseline)], strict=True)):.0f}x | |")
    store.close()


if __name__ == "__main__":
    main()
