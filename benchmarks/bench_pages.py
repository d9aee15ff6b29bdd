"""What the catalogue page costs on a large store: the process and material trees with service counts, the first
and a deep page of the listing and the facet counts, each timed once (the page runs all of them), next to the floor
of the listing in the same run: one scan of the records' listing keys that counts them. Nothing here asserts a time.

    python benchmarks/bench_pages.py --store var/bench/matching-100000

The store is one that bench_matching.py or bench_scale.py built.
"""

from __future__ import annotations

import argparse
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default="var/bench/matching-100000")
    parser.add_argument("--country", default="LU", help="the country filter for the facet counts")
    args = parser.parse_args()
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
