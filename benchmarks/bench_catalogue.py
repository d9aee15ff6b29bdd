"""Catalogue benchmark: publish-with-validation rate and bulk-load rate at N demo services (default 10,000).

Run with `make bench` (or `python benchmarks/bench_catalogue.py --services 10000`). Everything is measured in this
run: the baseline for bulk loading is the same N-Quads file parsed into rdflib's in-memory Dataset; next to the first
publication, publishing the same services again measures replacement (the record updated in the store rather than
made in a scratch store). Repeats each load `--repeat` times and reports medians. Not a test: nothing here asserts
a time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import rdflib

from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import open_store


def publish_rate(store, services: list[dict], batch_size: int) -> tuple[int, float]:
    start, published = time.perf_counter(), 0
    for offset in range(0, len(services), batch_size):
        chunk = json.dumps(services[offset:offset + batch_size]).encode()
        published += sum(r.published for r in catalogue.publish(store, chunk, "json", batch_size=batch_size))
    return published, time.perf_counter() - start


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    services = list(itertools.islice(generate_services(providers=args.services, seed=1), args.services))
    with tempfile.TemporaryDirectory(prefix="maas-kg-bench-") as tmp:
        store = open_store(str(Path(tmp) / "store"))
        sync_ontology(store)
        published, publish_seconds = publish_rate(store, services, args.batch_size)
        replaced, replace_seconds = publish_rate(store, services, args.batch_size)
        dump = Path(tmp) / "catalogue.nq"
        store.export(dump, "nquads")
        quads = store.quad_count()
        store.close()

        counter = itertools.count()

        def oxigraph_bulk_load() -> None:
            target = open_store(str(Path(tmp) / f"bulk-{next(counter)}"))
            target.bulk_load(dump, "nquads")
            target.close()

        def rdflib_load() -> None:
            rdflib.Dataset().parse(dump, format="nquads")

        ox_seconds = median_time(oxigraph_bulk_load, args.repeat)
        rdflib_seconds = median_time(rdflib_load, args.repeat)

    rows = [
        ("publish with SHACL validation (services/s)", f"{published / publish_seconds:,.0f}",
         f"{published} services, batches of {args.batch_size}, on-disk store"),
        ("publishing the same services again (services/s)", f"{replaced / replace_seconds:,.0f}",
         "each replaces its version: graph dropped, record updated in the store"),
        ("bulk load, pyoxigraph on disk (quads/s)", f"{quads / ox_seconds:,.0f}", f"median of {args.repeat}"),
        ("baseline: rdflib in-memory Dataset (quads/s)", f"{quads / rdflib_seconds:,.0f}", f"median of {args.repeat}"),
        ("bulk load speed-up over rdflib", f"{rdflib_seconds / ox_seconds:.1f}x", f"{quads:,} quads"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"MaaS-KG catalogue benchmark, {len(services):,} demo services (python {sys.version.split()[0]})")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>12}   {note}")


if __name__ == "__main__":
    main()
