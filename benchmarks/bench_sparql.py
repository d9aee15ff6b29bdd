"""Public /sparql overhead: the same queries sent to MaaS-KG's endpoint (gunicorn, two workers, the checks of the
public endpoint: read-only, SERVICE allow-list, result limit, timeout) and straight to the bare Oxigraph server
behind it, interleaved, in the same run. Reports the median of each per query and their ratio; peak memory of the
store server and of the workers. Nothing here asserts a time.

    python benchmarks/bench_sparql.py --services 10000 --repeats 30

The store is built through the normal publishing path and reused from --store while its service count matches.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

from maas_kg.serving import StoreServer, free_port

sys.path.insert(0, str(Path(__file__).parent))
from bench_matching import build_store  # noqa: E402  (same store builder, same marker file)

QUERIES = Path(__file__).parents[1] / "queries" / "examples"
ACCEPT = {"Accept": "application/sparql-results+json"}
EXTRA = {
    "count services": "PREFIX maas: <https://w3id.org/maas-kg/ns#> "
                      "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a maas:ManufacturingService } }",
    "one service's values": "PREFIX maas: <https://w3id.org/maas-kg/ns#> SELECT ?p ?o WHERE { GRAPH ?g { "
                            "?s a maas:ManufacturingService ; ?p ?o } } LIMIT 25",
    "ask": "ASK { ?s ?p ?o }",
}


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):  # peak resident set size
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(")")[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, IndexError, ValueError):
                pass
    return found


def _rows(document: dict):
    """An answer independent of row order and serialisation details."""
    if "boolean" in document:
        return document["boolean"]
    return sorted(json.dumps(row, sort_keys=True) for row in document["results"]["bindings"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--store", type=Path, default=Path("var/bench/sparql-store"))
    args = parser.parse_args()
    args.store.mkdir(parents=True, exist_ok=True)
    print(f"store: {args.store} ({args.services:,} services)")
    build_store(args.store, args.services)
    queries = {path.stem: path.read_text() for path in sorted(QUERIES.glob("*.rq"))} | EXTRA
    port = free_port()
    with StoreServer(str(args.store), timeout=60) as bare:
        env = {**os.environ, "MAAS_KG_STORE": bare.url, "MAAS_KG_KEYS": str(args.store.parent / "bench-keys.sqlite"),
               "MAAS_KG_SPARQL_RESULT_LIMIT": "100000"}
        service = subprocess.Popen([sys.executable, "-m", "maas_kg.cli", "serve", "--port", str(port),
                                    "--workers", "2", "--sparql-timeout", "60"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        endpoint = f"http://127.0.0.1:{port}/sparql"
        try:
            for _ in range(300):
                try:
                    if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.3)
            rows = []
            for name, query in queries.items():
                times = {"maas-kg": [], "oxigraph": []}
                sizes, answers = {}, {}
                for repeat in range(args.repeats + 2):
                    # the public endpoint's default graph is the union of all graphs: ask Oxigraph for the same
                    for target, url in (("maas-kg", endpoint), ("oxigraph", f"{bare.url}/query?union-default-graph")):
                        started = time.perf_counter()
                        response = requests.post(url, data={"query": query}, headers=ACCEPT, timeout=120)
                        elapsed = time.perf_counter() - started
                        response.raise_for_status()
                        sizes[target] = len(response.content)
                        answers[target] = _rows(response.json())
                        if repeat >= 2:  # two warm-up rounds
                            times[target].append(elapsed)
                if answers["maas-kg"] != answers["oxigraph"]:
                    raise SystemExit(f"{name}: the two endpoints gave different answers")
                ours, theirs = statistics.median(times["maas-kg"]), statistics.median(times["oxigraph"])
                rows.append((name, ours, theirs, ours / theirs, sizes["maas-kg"]))
            memory_store = rss_mb([bare.process.pid])
            memory_workers = rss_mb([service.pid, *children(service.pid)])
        finally:
            os.killpg(service.pid, signal.SIGTERM)
            service.wait(timeout=30)
    print("\n| query | /sparql median | bare Oxigraph median | ratio | answer bytes |")
    print("|---|---|---|---|---|")
    for name, ours, theirs, ratio, size in rows:
        print(f"| {name} | {ours * 1000:.1f} ms | {theirs * 1000:.1f} ms | {ratio:.2f}x | {size:,} |")
    geometric = math.exp(statistics.mean(math.log(r[3]) for r in rows))
    print(f"\ngeometric mean of the ratios: {geometric:.2f}x (target <= 1.3x); "
          f"peak memory: store server {memory_store:,.0f} MB, gunicorn master + 2 workers {memory_workers:,.0f} MB")
    (args.store.parent / "sparql-overhead.json").write_text(json.dumps(
        {"services": args.services, "repeats": args.repeats, "geometric_mean_ratio": geometric,
         "peak_memory_mb": {"store": memory_store, "workers": memory_workers},
         "queries": [{"name": n, "sparql_s": a, "bare_s": b, "ratio": r, "bytes": s} for n, a, b, r, s in rows]},
        indent=1))


if __name__ == "__main__":
    main()
