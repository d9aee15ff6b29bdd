"""Match index benchmark: matching at catalogue scale on the index against the SPARQL reference, same products.

On the store of N demo services that bench_matching.py builds (default 100,000, by the initial load), measures:
the index build from the store (seconds, memory of its columns), the snapshot-free start, then for P products
(default 50) the end-to-end match as the server runs it (a private workspace, translation, must-criteria, can-criteria,
orchestration, the JSON answer) with ``engine="index"`` and, on the first R products (default 10), with ``engine="sparql"`` (the
reference); whether both give the same candidates and near misses (every step, all of them); the must-criteria
evaluation of one step on the index (median over all steps); and where the time of the slowest product goes.
Medians and p95; ratios in the same run; nothing asserts a time. Results go to benchmarks/results/.

    python benchmarks/bench_index.py --services 100000 --products 50 --reference-products 10
    python benchmarks/bench_index.py --services 100000 --tile 10      # a 1,000,000-row index tiled from it
    python benchmarks/bench_index.py --services 100000 --clients 50   # 50 HTTP clients on `maas-kg serve`
    python benchmarks/bench_index.py --services 100000 --clients 50 --threads 1,4 --seconds 60
    python benchmarks/bench_index.py --publish 10000                  # publishing with an index kept current
    python benchmarks/bench_index.py --services 100000 --build-only --repeat 3 --batches   # the index build alone
    python benchmarks/bench_index.py --services 100000 --measured     # products with measures: cost-model quotes

``--tile N`` repeats every row of the index N times (new service IRIs, same values) to measure what grows with the
index: one step's evaluation, memory, snapshot save and load, and the match end to end (whose store queries, which
do not grow with the catalogue, still run on the N-times smaller store). ``--publish N`` publishes N demo services into a new on-disk store in batches of
500, once with no index and once with an index following every batch, and reports both rates. ``--clients C``
serves the store with
`maas-kg serve` (2 workers, their indexes from the snapshot) and runs C clients matching the products in a loop, and
again with a new document in every request (none translated before), once per worker thread count of ``--threads``;
besides latencies, the CPU time per match of the workers, the store server and the clients.
``--build-only`` measures the index build alone, on the store opened read-only, each build in a process of its own
(its peak memory is the build's): ``--repeat`` builds by the scans (index-scan-*.rq, TSV answers) and, with
``--batches``, as many by the batched queries (index-services.rq, the path before the scans), alternating; medians,
and where the scans' time goes (the store's engine answering vs parsing the answers vs filling the columns).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).parent))

from bench_matching import TODAY, build_store, percentile, products  # noqa: E402

from maas_kg.knowledge.graphs import sync_ontology  # noqa: E402
from maas_kg.matching import match_step, must_criteria, read_request  # noqa: E402
from maas_kg.matching.index import NUMERIC, MatchIndex, step_processes  # noqa: E402
from maas_kg.matching.orchestration import MAX_PER_STEP, Option, best_assignments  # noqa: E402
from maas_kg.matching.products import submit_product  # noqa: E402
from maas_kg.matching.report import as_json  # noqa: E402
from maas_kg.matching.translation import derive_requirements  # noqa: E402
from maas_kg.matching.workspace import Workspace  # noqa: E402
from maas_kg.store import open_store  # noqa: E402


def answers(result) -> list:
    """Every step's candidates (service, score, quote and its basis) and near misses (service, failed), route by
    route."""
    return [[([(c.service, c.score, c.quote, c.quote_basis) for c in s.candidates],
              [(c.service, tuple(c.failed)) for c in s.near_misses])
             for s in route.steps] for route in result.routes]


def measured(doc: dict) -> dict:
    """The product with the measures a CAD file would give, estimated from its envelope (volume 40 % of the box,
    the rest the stock to remove, area 1.3 times the box's): every service with a cost model quotes it."""
    x, y, z = doc["envelope_mm"]
    box = x * y * z
    return {**doc, "volume_mm3": round(0.4 * box, 1), "stock_removal_mm3": round(0.6 * box, 1),
            "area_mm2": round(1.3 * 2 * (x * y + y * z + z * x), 1)}


def index_bytes(index: MatchIndex) -> int:
    columns = sum(column.nbytes for column in index.num.values())
    columns += sum(a.nbytes for a in (index.process, index.currency, index.alive, index.material_bits,
                                      index.certification_bits))
    strings = sum(sys.getsizeof(s) for column in (index.service, index.graph, index.provider) for s in column if s)
    return columns + strings + 8 * 3 * len(index.service)


def breakdown(store, index: MatchIndex, doc: dict) -> dict[str, float]:
    """The phases of one match, timed apart: product validation, translation, must-criteria on the index,
    can-criteria and scores, orchestration."""
    workspace = Workspace(store)
    local = workspace.store
    times = {}
    start = time.perf_counter()
    product = submit_product(local, json.dumps(doc).encode(), "json")
    times["validation"] = time.perf_counter() - start
    start = time.perf_counter()
    translation = derive_requirements(local, product)
    request = read_request(local, product, today=TODAY)
    times["translation"] = time.perf_counter() - start
    criteria = must_criteria(local)
    steps = {(s.process, s.sets_surface): s for r in translation.routes for s in r.steps}
    start = time.perf_counter()
    for step in steps.values():
        index.evaluate(request, step_processes(store, step.process, request.shape), finishing=step.sets_surface,
                       required_it=translation.characteristics.required_it, criteria=criteria)
    times["must (index)"] = time.perf_counter() - start
    start = time.perf_counter()
    matched = {key: match_step(store, request, step, required_it=translation.characteristics.required_it,
                               index=index, criteria=criteria) for key, step in steps.items()}
    times["can + scores"] = time.perf_counter() - start - times["must (index)"]
    start = time.perf_counter()
    for route in translation.routes:
        best_assignments([[Option(c.service, c.score, c.delivery_days, c.lat, c.lon)
                           for c in matched[s.process, s.sets_surface].best(MAX_PER_STEP)] for s in route.steps], k=3)
    times["orchestration"] = time.perf_counter() - start
    return times


def tile(index: MatchIndex, times: int) -> None:
    """Repeat every row ``times`` times (copies get new service IRIs): an index ``times`` as large."""
    used = index._used
    for name in NUMERIC:
        index.num[name] = np.tile(index.num[name][:used], times)
    index.process, index.currency = np.tile(index.process[:used], times), np.tile(index.currency[:used], times)
    index.alive = np.tile(index.alive[:used], times)
    index.order_key = np.tile(index.order_key[:used], times)
    index.material_bits = np.tile(index.material_bits[:used], (times, 1))
    index.certification_bits = np.tile(index.certification_bits[:used], (times, 1))
    index.service = np.array([s if k == 0 or s is None else f"{s}-copy{k}" for k in range(times)
                              for s in index.service[:used]], dtype=object)
    index.graph, index.provider = np.tile(index.graph[:used], times), np.tile(index.provider[:used], times)
    index._used = index._capacity = used * times
    index._row = {s: at for at, s in enumerate(index.service) if s is not None}
    index._by_process, index._tables, index.size = {}, {}, len(index._row)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_processes(root: int) -> dict[int, str]:
    """The processes of the server started as ``root`` (its session): gunicorn's master and workers, the store
    server."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == root:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    found[int(entry.name)] = "store server" if "oxigraph" in command else "workers"
            except (OSError, ProcessLookupError):
                pass
    return found


def clients(path: Path, docs: list[dict], count: int, seconds: float, *, threads: int | None = None,
            distinct: bool = False) -> dict:
    """``count`` clients (a keep-alive connection each) matching ``docs`` in a loop against `maas-kg serve` (2
    workers, ``threads`` each) for ``seconds``; with ``distinct`` every request is a new document (its name and id
    carry the request's number), so no worker has translated it before. CPU seconds per match of the workers, the
    store server and the clients (this process)."""
    env = {**os.environ, "MAAS_KG_STORE": str(path), "MAAS_KG_KEYS": str(path.parent / "bench-keys.sqlite")}
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "maas-kg"), "index"], env=env, check=True)  # the workers start from the snapshot
    port = 18000 + os.getpid() % 1000
    command = [str(bin_dir / "maas-kg"), "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command + (["--threads", str(threads)] if threads else []), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def body(number: int) -> bytes:
        doc = docs[number % len(docs)]
        if distinct:
            doc = {**doc, "id": f"{doc['id']}-{number}", "name": f"{doc['name']} #{number}"}
        return json.dumps(doc).encode()

    try:
        while True:
            try:
                if requests.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        # every thread of both workers has its workspace and both their index before the clock starts
        warm = [threading.Thread(target=lambda n=n: requests.post(
            f"{base}/match?today={TODAY}", data=body(n), timeout=600, headers={"Content-Type": "application/json"}))
            for n in range(-2 * (threads or 4) * 2, 0)]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        processes = _server_processes(server.pid)
        before, own = {pid: _cpu_seconds(pid) for pid in processes}, time.process_time()
        latencies, errors, stop = [], [], time.monotonic() + seconds

        def client(number: int) -> None:
            session, i = requests.Session(), number
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    answer = session.post(f"{base}/match?today={TODAY}", data=body(i), timeout=120,
                                          headers={"Content-Type": "application/json"})
                    (latencies if answer.status_code == 200 else errors).append(time.perf_counter() - start)
                except requests.RequestException:
                    errors.append(time.perf_counter() - start)
                i += count

        threads_ = [threading.Thread(target=client, args=(n,)) for n in range(count)]
        for thread in threads_:
            thread.start()
        for thread in threads_:
            thread.join()
        cpu = {"clients": time.process_time() - own}
        for pid, kind in processes.items():
            with contextlib.suppress(OSError):
                cpu[kind] = cpu.get(kind, 0.0) + _cpu_seconds(pid) - before[pid]
        done = max(1, len(latencies))
        return {"clients": count, "seconds": seconds, "workers": 2, "threads": threads or "default",
                "documents": "a new one per request" if distinct else f"{len(docs)} in a loop",
                "matches": len(latencies), "errors": len(errors), "matches_per_s": round(len(latencies) / seconds, 1),
                "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
                "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
                "cpu_ms_per_match": {kind: round(value / done * 1000, 1) for kind, value in cpu.items()}}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def publishing(services: int, folder: Path) -> dict:
    """Publish ``services`` demo services in batches of 500 into a new store: the rate without an index, and with an
    index that follows the catalogue after every batch (as a worker does before a match)."""
    import itertools
    import shutil

    from maas_kg import catalogue
    from maas_kg.catalogue.demo import generate_services

    documents = list(itertools.islice(generate_services(providers=services, seed=2), services))
    rates = {}
    for label in ("without index", "index following"):
        where = folder / "bench-publish"
        shutil.rmtree(where, ignore_errors=True)
        store = open_store(str(where))
        sync_ontology(store)
        index = MatchIndex(follow_interval=0) if label == "index following" else None
        start = time.perf_counter()
        for first in range(0, len(documents), 500):
            catalogue.publish(store, json.dumps(documents[first:first + 500]).encode(), "json", batch_size=500)
            if index is not None:
                index.follow(store)
        rates[label] = round(len(documents) / (time.perf_counter() - start), 1)
        if index is not None:
            rates["index size"] = index.size
        store.close()
        shutil.rmtree(where, ignore_errors=True)
    return rates


SCANS = ("services", "options", "terms")  # the scan rules, queries/matching/index-scan-<name>.rq


def build_once(path: Path, scan: bool) -> dict:
    """One index build from the store at ``path`` (read-only) in this process: its time, its figures, peak memory."""
    store = open_store(str(path), read_only=True)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index = MatchIndex()
    start, cpu = time.perf_counter(), time.process_time()
    index.rebuild(store, scan=scan)
    seconds = time.perf_counter() - start  # the store is read-only: nothing to flush or close
    return {"seconds": round(seconds, 2), "cpu_s": round(time.process_time() - cpu, 1), "services": index.size,
            **index.build_stats,
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "max_rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024),
            "index_mb": round(index_bytes(index) / 2**20, 1)}


def build_figures(path: Path, services: int, repeat: int, batches: bool) -> dict:
    """``repeat`` index builds by the scans and, with ``batches``, as many in batches, alternating, each in a new
    process; the median build of each path and where the scans' time went (medians)."""
    figures: dict = {"date": datetime.date.today().isoformat(), "services": services, "store": str(path),
                     "repeat": repeat, "cpus": os.cpu_count(),
                     "load_average_before": [round(load, 2) for load in os.getloadavg()]}  # others share the machine
    runs: dict[str, list[dict]] = {"scan": [], "batches": []}
    for number in range(repeat):
        for mode in ("scan", "batches") if batches else ("scan",):
            done = subprocess.run([sys.executable, __file__, "--store", str(path), "--build-once", mode],
                                  check=True, capture_output=True, text=True)
            run = json.loads(done.stdout.strip().splitlines()[-1])
            runs[mode].append(run)
            parts = ""
            if mode == "scan":
                parts = (" (answers " + " + ".join(str(run[f"{name}_answer_s"]) for name in SCANS) + " s, parsing "
                         + " + ".join(str(run[f"{name}_parse_s"]) for name in SCANS) + f" s, filling {run['fill_s']} s)")
            print(f"  build {number + 1}/{repeat} by {mode}: {run['seconds']} s ({run['cpu_s']} s of CPU), "
                  f"{run['services']:,} services, peak {run['max_rss_mb']} MB{parts}", flush=True)
    for mode, done in runs.items():
        if not done:
            continue
        summary = {"median_s": round(statistics.median(r["seconds"] for r in done), 1),
                   "runs_s": [r["seconds"] for r in done],
                   "median_cpu_s": round(statistics.median(r["cpu_s"] for r in done), 1),
                   "services": done[0]["services"],
                   "max_rss_mb": max(r["max_rss_mb"] for r in done), "index_mb": done[0]["index_mb"]}
        if mode == "scan":
            summary["median_parts_s"] = {key: round(statistics.median(r[key] for r in done), 2) for key in (
                *(f"{name}_{part}_s" for part in ("answer", "parse") for name in SCANS), "fill_s")}
            summary["answer_rows"] = {name: done[0][f"{name}_rows"] for name in SCANS}
        figures[mode] = summary
    figures["load_average_after"] = [round(load, 2) for load in os.getloadavg()]
    if runs["batches"]:
        figures["speed_up"] = round(figures["batches"]["median_s"] / figures["scan"]["median_s"], 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--reference-products", type=int, default=10)
    parser.add_argument("--store", default=None, help="store folder (default var/bench/matching-<services>)")
    parser.add_argument("--tile", type=int, default=1, help="repeat the index's rows this many times")
    parser.add_argument("--clients", type=int, default=0, help="HTTP clients against `maas-kg serve` (0: none)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients run")
    parser.add_argument("--threads", default="1,2,4", help="with --clients: the worker threads to compare")
    parser.add_argument("--publish", type=int, default=0, help="measure publishing N services instead")
    parser.add_argument("--build", action="store_true", help="build the index from the store, not from its snapshot")
    parser.add_argument("--build-only", action="store_true", help="measure only the index build (store read-only)")
    parser.add_argument("--repeat", type=int, default=1, help="with --build-only: builds per path (medians)")
    parser.add_argument("--batches", action="store_true", help="with --build-only: also build in batches")
    parser.add_argument("--label", default=None, help="the results' name (default: from --services, --tile, --measured)")
    parser.add_argument("--measured", action="store_true",
                        help="products with the measures a CAD file gives: services with a cost model quote them")
    parser.add_argument("--build-once", choices=("scan", "batches"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_once:
        print(json.dumps(build_once(Path(args.store), args.build_once == "scan")))
        return
    if args.build_only:
        path = Path(args.store or f"var/bench/matching-{args.services}")
        if not path.exists():
            build_store(path, args.services)
        figures = build_figures(path, args.services, args.repeat, args.batches)
        print(json.dumps(figures, indent=1))
        out = Path(__file__).parent / "results" / f"index-build-{args.label or args.services}-{figures['date']}.json"
        out.write_text(json.dumps(figures, indent=1) + "\n")
        print(f"written to {out}")
        return
    if args.publish:
        figures = {"date": datetime.date.today().isoformat(), "services": args.publish,
                   "services_per_s": publishing(args.publish, Path("var/bench"))}
        print(json.dumps(figures))
        out = Path(__file__).parent / "results" / f"index-publishing-{args.publish}-{figures['date']}.json"
        out.write_text(json.dumps(figures, indent=1) + "\n")
        return

    path = Path(args.store or f"var/bench/matching-{args.services}")
    build_store(path, args.services)
    if args.clients:
        runs = []
        for threads in (int(t) for t in args.threads.split(",")):
            for distinct in (False, True):
                runs.append(clients(path, products(args.products), args.clients, args.seconds, threads=threads,
                                    distinct=distinct))
                print(json.dumps(runs[-1]))
        figures = {"date": datetime.date.today().isoformat(), "services": args.services, "runs": runs}
        out = Path(__file__).parent / "results" / f"index-clients-{args.services}-{figures['date']}.json"
        out.write_text(json.dumps(figures, indent=1) + "\n")
        return
    store = open_store(str(path))
    sync_ontology(store)
    figures: dict = {"date": datetime.date.today().isoformat(), "services": args.services, "products": args.products}

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    snapshot = Path(str(path) + ".match-index.npz")
    start = time.perf_counter()
    index = MatchIndex() if args.build else MatchIndex.opened(snapshot)
    started_from = "snapshot" if index.change_count is not None else "store"
    index.follow(store, force=True)
    figures[f"index_from_{started_from}_s"] = round(time.perf_counter() - start, 1)
    if started_from == "store":
        figures["index_build"] = index.build_stats  # scan or batches, and where the time went
        print(f"index build: {index.build_stats}", flush=True)
        index.save(snapshot)
    figures["index_services"] = index.size
    figures["index_mb"] = round(index_bytes(index) / 2**20, 1)
    figures["process_max_rss_growth_mb"] = round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1)
    print(f"index: {index.size:,} services from the {started_from} in {figures[f'index_from_{started_from}_s']} s, "
          f"{figures['index_mb']} MB", flush=True)
    if args.tile > 1:
        tile(index, args.tile)
        figures.update(tiled=args.tile, index_services=index.size, index_mb=round(index_bytes(index) / 2**20, 1))
        snapshot = path.parent / f"bench-index-{index.size}.npz"
        start = time.perf_counter()
        index.save(snapshot)
        figures["snapshot_save_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        loaded = MatchIndex.load(snapshot)
        figures["snapshot_load_s"] = round(time.perf_counter() - start, 2)
        figures["snapshot_mb"] = round(snapshot.stat().st_size / 2**20, 1)
        assert loaded is not None and loaded.size == index.size
        del loaded
        snapshot.unlink()
        print(f"tiled x{args.tile}: {index.size:,} rows, {figures['index_mb']} MB; snapshot "
              f"{figures['snapshot_mb']} MB, save {figures['snapshot_save_s']} s, load {figures['snapshot_load_s']} s",
              flush=True)

    workspace = Workspace(store)
    workspace.index = index  # the one just built
    docs = [measured(doc) for doc in products(args.products)] if args.measured else products(args.products)
    by_index, by_rule, same, quoted = [], [], [], [0, 0]
    for number, doc in enumerate(docs):
        data = json.dumps(doc).encode()
        start = time.perf_counter()
        indexed = workspace.match(data, "json", today=TODAY, engine="index")
        as_json(store, indexed)  # the answer as the API sends it (names of the shown candidates, relaxations)
        by_index.append(time.perf_counter() - start)
        for step in {id(s.rows): s for route in indexed.routes for s in route.steps}.values():
            quoted[0] += len(step.quotes.at) if step.quotes is not None else 0
            quoted[1] += step.candidate_count + step.near_miss_count
        if number < args.reference_products and args.tile == 1:  # a tiled index has copies the store has not
            start = time.perf_counter()
            reference = workspace.match(data, "json", today=TODAY, engine="sparql")
            as_json(store, reference)
            by_rule.append(time.perf_counter() - start)
            same.append(answers(indexed) == answers(reference))
            print(f"  product {number}: index {by_index[-1] * 1000:.0f} ms, sparql {by_rule[-1] * 1000:.0f} ms, "
                  f"same answer: {same[-1]}", flush=True)

    local, criteria, step_times = workspace.store, must_criteria(workspace.store), []
    for doc in docs:
        product = submit_product(local, json.dumps({**doc, "id": doc["id"] + "-steps"}).encode(), "json")
        translation = derive_requirements(local, product, record=False)
        request = read_request(local, product, today=TODAY)
        for step in {(s.process, s.sets_surface): s for r in translation.routes for s in r.steps}.values():
            processes = step_processes(store, step.process, request.shape)
            start = time.perf_counter()
            index.evaluate(request, processes, finishing=step.sets_surface,
                           required_it=translation.characteristics.required_it, criteria=criteria)
            step_times.append(time.perf_counter() - start)

    slowest = docs[max(range(len(by_index)), key=by_index.__getitem__)]
    figures.update({
        "match_index_p50_ms": round(percentile(by_index, 50) * 1000, 1),
        "match_index_p95_ms": round(percentile(by_index, 95) * 1000, 1),
        "match_sparql_p50_ms": round(percentile(by_rule, 50) * 1000, 1) if by_rule else None,
        "match_sparql_p95_ms": round(percentile(by_rule, 95) * 1000, 1) if by_rule else None,
        "speed_up_median": round(statistics.median(r / i for r, i in zip(by_rule, by_index)), 1) if by_rule else None,
        "same_answers": f"{sum(same)}/{len(same)}",
        "measured_products": args.measured,
        "rows_quoted_by_cost_model": f"{quoted[0]}/{quoted[1]}",
        "step_must_index_p50_ms": round(percentile(step_times, 50) * 1000, 2),
        "step_must_index_p95_ms": round(percentile(step_times, 95) * 1000, 2),
        "slowest_product": slowest["id"],
        "slowest_breakdown_ms": {k: round(v * 1000, 1) for k, v in breakdown(store, index, slowest).items()},
    })
    print(f"\n{args.services:,} services on disk, {args.products} products ({args.reference_products} also by SPARQL), "
          f"{TODAY}, {figures['date']}")
    print("| measure | p50 ms | p95 ms |\n|---|---|---|")
    print(f"| end-to-end match, index | {figures['match_index_p50_ms']} | {figures['match_index_p95_ms']} |")
    if by_rule:
        print(f"| end-to-end match, SPARQL reference | {figures['match_sparql_p50_ms']} | {figures['match_sparql_p95_ms']} |")
        print(f"| speed-up (median of per-product ratios) | {figures['speed_up_median']}x | |")
    print(f"| must-criteria of one step on the index | {figures['step_must_index_p50_ms']} | "
          f"{figures['step_must_index_p95_ms']} |")
    print(f"same candidates and near misses: {figures['same_answers']}; index from the {started_from} in "
          f"{figures[f'index_from_{started_from}_s']} s, {figures['index_mb']} MB; slowest product {slowest['id']}: "
          f"{figures['slowest_breakdown_ms']}")
    name = args.label or (f"index-{index.size}" + (f"-tiled-from-{args.services}" if args.tile > 1 else "") +
                          ("-measured" if args.measured else ""))
    out = Path(__file__).parent / "results" / f"{name}-{figures['date']}.json"
    out.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"written to {out}")
    store.close()


if __name__ == "__main__":
    main()
