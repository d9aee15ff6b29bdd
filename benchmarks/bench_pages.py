"""What the catalogue page costs on a large store: the process and material trees with service counts, the first
and a deep page of the listing and the facet counts, each timed once (the page runs all of them), next to the floor
of the listing in the same run: one scan of the records' listing keys that counts them. Nothing here asserts a time.

    python benchmarks/bench_pages.py --store var/bench/matching-100000

The store is one that bench_matching.py or bench_scale.py built.

With ``--requests`` (issue 21): every catalogue request as HTTP serves it (``GET /services`` and the web page
``/catalogue`` with its facets and trees, in process with Flask's test client, on the store opened read-only and its
match index snapshot), p50 and p95 of ``--repeats`` each, served from the match index (the default) next to the
baseline in the same run, the rules in the store (``CATALOGUE_ENGINE = "sparql"``, ``--baseline-repeats`` each, 0:
none); then ``--clients`` concurrent users for ``--seconds``, with the answers' statuses. Results go to
benchmarks/results/pages-<services>-<date>.json.

    python benchmarks/bench_pages.py --store var/bench/matching-100000 --requests --repeats 20 --baseline-repeats 1
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from maas_kg import catalogue

from maas_kg.catalogue import browse
from maas_kg.catalogue import CATALOGUE_GRAPH
from maas_kg.knowledge import MAAS, MAT, PROC
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import open_store


def timed(label: str, call) -> None:
    started = time.perf_counter()
    call()
    print(f"{label}: {time.perf_counter() - started:.2f} s", flush=True)


#: the catalogue's requests: each filter alone, pages, combinations (query strings of GET /services and /catalogue)
REQUESTS = {
    "list": "", "page 2": "page=2", "late page (offset 50,000)": "page=2001",
    "process milling": "process=milling", "material steel": "material=steel", "material PA12": "material=PA12",
    "country DE": "country=DE", "certification ISO 9001": "certification=ISO 9001",
    "near 48.14,11.58 radius 200": "near=48.14,11.58&radius_km=200",
    "process + country": "process=milling&country=DE", "material + near": "material=steel&near=48.14,11.58&radius_km=200",
    "country + certification + near, page 2": "country=DE&certification=ISO 9001&near=48.14,11.58&radius_km=300&page=2",
}


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def catalogue_app(store_path: str, engine: str):
    """The application on the store opened read-only (its match index from a copy of the snapshot)."""
    from api import create_app
    from maas_kg.matching.index import snapshot_for

    folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    snapshot = folder / "match-index.npz"
    if Path(snapshot_for(store_path)).exists():
        shutil.copyfile(snapshot_for(store_path), snapshot)
    app = create_app({"STORE": "memory", "SYNC_ONTOLOGY": False, "KEYS_FILE": str(folder / "keys.sqlite"),
                      "MATCH_INDEX": str(snapshot), "CATALOGUE_ENGINE": engine})
    app.extensions["maas_kg"].catalogue = open_store(store_path, read_only=True)
    return app


def urls() -> dict[str, str]:
    found = {}
    for label, query in REQUESTS.items():
        found[f"GET /services {label}"] = "/services?per_page=25" + (f"&{query}" if query else "")
        found[f"/catalogue {label}"] = "/catalogue" + (f"?{query}" if query else "")
    return found


def timed_requests(app, repeats: int, *, first: bool = True) -> dict[str, dict]:
    client, figures = app.test_client(), {}
    for label, url in urls().items():
        seconds, statuses, cold = [], collections.Counter(), None
        if first:  # the first time, the filter's classes are read from the store (then kept): timed apart
            started = time.perf_counter()
            statuses[client.get(url).status_code] += 1
            cold = time.perf_counter() - started
        for _ in range(repeats):
            started = time.perf_counter()
            statuses[client.get(url).status_code] += 1
            seconds.append(time.perf_counter() - started)
        figures[label] = {"url": url, "p50_ms": round(percentile(seconds, 50) * 1000, 1),
                          "p95_ms": round(percentile(seconds, 95) * 1000, 1), "repeats": repeats,
                          "first_ms": round(cold * 1000, 1) if cold is not None else None,
                          "statuses": dict(statuses)}
        print(f"{label}: p50 {figures[label]['p50_ms']} ms, p95 {figures[label]['p95_ms']} ms {dict(statuses)}",
              flush=True)
    return figures


def concurrent_users(app, clients: int, seconds: float) -> dict:
    """``clients`` threads asking the catalogue's requests in random order for ``seconds``."""
    chosen, lock = list(urls().values()), threading.Lock()
    statuses, latencies = collections.Counter(), []
    deadline = time.monotonic() + seconds

    def user(seed: int) -> None:
        client, draw = app.test_client(), random.Random(seed)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status = client.get(draw.choice(chosen)).status_code
            with lock:
                statuses[status] += 1
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"clients": clients, "seconds": seconds, "requests": len(latencies), "statuses": dict(statuses),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1)}


def requests_main(args) -> None:
    app = catalogue_app(args.store, "index")
    client = app.test_client()
    started = time.perf_counter()
    client.get("/services?per_page=1")  # loads the match index snapshot and reads the records' keys and countries
    first = round(time.perf_counter() - started, 2)
    print(f"first request (match index snapshot loaded, catalogue columns read): {first} s", flush=True)
    client.get("/catalogue")  # the worker's workspace and the page's templates
    results = {"date": datetime.date.today().isoformat(), "store": args.store, "services": args.services,
               "first_request_s": first, "index": timed_requests(app, args.repeats)}
    results["concurrent"] = concurrent_users(app, args.clients, args.seconds)
    print(f"{args.clients} concurrent users: {results['concurrent']}", flush=True)
    if args.baseline_repeats:
        print("baseline: the rules in the store", flush=True)
        results["sparql"] = timed_requests(catalogue_app(args.store, "sparql"), args.baseline_repeats, first=False)
    out = Path(__file__).parent / "results" / f"pages-{args.services}-{results['date']}.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print("\n| request | index p50 / p95 | rules in the store p50 / p95 |\n|---|---|---|")
    for label, figures in results["index"].items():
        base = results.get("sparql", {}).get(label)
        print(f"| {label} | {figures['p50_ms']} / {figures['p95_ms']} ms | "
              + (f"{base['p50_ms']} / {base['p95_ms']} ms |" if base else "- |"))
    print(f"written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default="var/bench/matching-100000")
    parser.add_argument("--country", default="LU", help="the country filter for the facet counts")
    parser.add_argument("--requests", action="store_true", help="time the catalogue's HTTP requests (see above)")
    parser.add_argument("--services", type=int, default=100_000, help="for the results' name")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    if args.requests:
        return requests_main(args)
    store = open_store(args.store)
    timed("ontology sync (builds the listing index once on a store that lacks it)", lambda: sync_ontology(store))
    published = catalogue.statistics(store)["published"]
    print(f"{args.store}: {published:,} published services")
    timed("floor: count the listing keys", lambda: store.select(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{CATALOGUE_GRAPH}> {{ ?r <{MAAS.listingKey}> ?k }} }}"))
    timed("process tree with counts", lambda: browse.taxonomy(store, str(PROC.ManufacturingProcess)))
    timed("material tree with counts", lambda: browse.taxonomy(store, str(MAT.Material)))
    timed("first page of the listing (25)", lambda: catalogue.list_services(store, limit=26))
    timed("a page half-way through the listing", lambda: catalogue.list_services(store, limit=26, offset=published // 2))
    timed("first page of the listing, process milling", lambda: catalogue.list_services(store, process=str(PROC.Milling),
                                                                                       limit=26))
    timed("facet counts, no filter", lambda: catalogue.facet_counts(store))
    timed(f"facet counts, country {args.country}", lambda: catalogue.facet_counts(store, country=args.country))


if __name__ == "__main__":
    main()
