"""Scale benchmark: match latency against catalogue size, on the embedded on-disk store and on an Oxigraph server
(the remote store path) holding the same data, with the bare must-criteria SPARQL as the baseline of each size, and
peak memory. Writes a table, var/bench/scale.json and a plot (var/bench/scale.png). Nothing here asserts a time.

    python benchmarks/bench_scale.py --sizes 1000,10000,100000 --products 50

Each size's store is built once through the normal publishing path (reused from var/bench/matching-<size>), and
each size is measured in a child process of its own, so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_matching import TODAY, build_store, percentile, products  # noqa: E402

from maas_kg import catalogue  # noqa: E402
from maas_kg.matching import match_product, must_criteria_query, read_request  # noqa: E402
from maas_kg.knowledge.graphs import sync_ontology  # noqa: E402
from maas_kg.matching.products import submit_product  # noqa: E402
from maas_kg.serving import StoreServer  # noqa: E402
from maas_kg.store import open_store  # noqa: E402
from maas_kg.matching.translation import derive_requirements  # noqa: E402


def peak_mb_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def match_all(store, documents: list[dict]) -> tuple[list[float], list[float]]:
    """End-to-end match time and bare must-criteria time (the floor) per product, after one untimed match that
    warms the caches."""
    match_product(store, submit_product(store, json.dumps(documents[0]).encode(), "json"), today=TODAY)
    end_to_end, floor = [], []
    for doc in documents:
        product = submit_product(store, json.dumps(doc).encode(), "json")
        start = time.perf_counter()
        result = match_product(store, product, today=TODAY)
        end_to_end.append(time.perf_counter() - start)
        request = read_request(store, product, today=TODAY)
        translation = derive_requirements(store, product, record=False)
        steps = {(s.process, s.sets_surface): s for r in result.translation.routes for s in r.steps}.values()
        queries = [must_criteria_query(request, s.process, s.sets_surface, translation.characteristics.required_it)
                   for s in steps]
        start = time.perf_counter()
        for query in queries:
            store.select(query, union_default_graph=True)
        floor.append(time.perf_counter() - start)
    return end_to_end, floor


def measure(size: int, count: int) -> dict:
    path = Path(f"var/bench/matching-{size}")
    started = time.perf_counter()
    build_store(path, size)
    built = time.perf_counter() - started
    documents = products(count)
    store = open_store(str(path))
    sync_ontology(store)
    services = catalogue.statistics(store)["published"]
    embedded, floor = match_all(store, documents)
    store.close()
    with StoreServer(str(path), timeout=300) as server:
        remote_store = open_store(server.url, timeout=300)
        remote, _ = match_all(remote_store, documents)
        server_peak = peak_mb_of(server.process.pid)
    row = {"size": size, "services": services, "products": count, "build_s": built,
           "embedded_p50": percentile(embedded, 50), "embedded_p95": percentile(embedded, 95),
           "floor_p50": percentile(floor, 50), "floor_p95": percentile(floor, 95),
           "remote_p50": percentile(remote, 50), "remote_p95": percentile(remote, 95),
           "peak_mb_embedded": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "peak_mb_store_server": server_peak}
    return row


def plot(rows: list[dict], output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["services"] for r in rows]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for key, label, style in (("embedded", "end to end, embedded on disk", "o-"),
                              ("remote", "end to end, Oxigraph server", "s-"),
                              ("floor", "bare must-criteria SPARQL (floor)", "^--")):
        axes.plot(sizes, [r[f"{key}_p95"] * 1000 for r in rows], style, label=f"{label}, p95")
        axes.plot(sizes, [r[f"{key}_p50"] * 1000 for r in rows], style, alpha=0.4, label=f"{label}, p50")
    axes.axhline(300, color="grey", linestyle=":", label="target p95 300 ms (issue 7)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("published services")
    axes.set_ylabel("match latency (ms)")
    counts = "/".join(str(r["products"]) for r in rows)
    axes.set_title(f"MaaS-KG match latency against catalogue size ({counts} products)", fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(output, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--previous", type=Path,
                        help="a scale.json of an earlier run whose other sizes join the table and the plot (marked)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process: measure one size
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(measure(args.one, args.products)), flush=True)
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"size {size:,}: building if needed, then {args.products} products embedded and remote", flush=True)
        child = subprocess.run([sys.executable, __file__, "--one", str(size), "--products", str(args.products)],
                               capture_output=True, text=True, check=True)
        rows.append(json.loads(next(line for line in child.stdout.splitlines() if line.startswith("RESULT "))[7:]))
        print(f"  {json.dumps(rows[-1])}", flush=True)
    if args.previous:
        measured = {r["size"] for r in rows}
        rows += [{**r, "earlier": str(args.previous)} for r in json.loads(args.previous.read_text())
                 if r["size"] not in measured]
        rows.sort(key=lambda r: r["size"])
    out = Path("var/bench")
    (out / "scale.json").write_text(json.dumps(rows, indent=1))
    plot(rows, out / "scale.png")
    print("\n| services | match p50 / p95, embedded | floor p50 / p95 | embedded / floor (p95) | match p50 / p95, "
          "Oxigraph server | remote / embedded (p95) | peak memory: matcher, store server |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['services']:,}{' (earlier run)' if r.get('earlier') else ''}, {r['products']} products "
              f"| {r['embedded_p50'] * 1000:,.0f} / {r['embedded_p95'] * 1000:,.0f} ms "
              f"| {r['floor_p50'] * 1000:,.0f} / {r['floor_p95'] * 1000:,.0f} ms "
              f"| {r['embedded_p95'] / r['floor_p95']:.2f}x "
              f"| {r['remote_p50'] * 1000:,.0f} / {r['remote_p95'] * 1000:,.0f} ms "
              f"| {r['remote_p95'] / r['embedded_p95']:.2f}x "
              f"| {r['peak_mb_embedded']:,.0f} MB, {r['peak_mb_store_server']:,.0f} MB |")
    print(f"\nplot: {out / 'scale.png'}")


if __name__ == "__main__":
    main()
