"""Reliability of the real service on loopback, each test bounded in time: a kill -9 during publishing, concurrent
publishers, 50 concurrent match clients, backup and restore, and a remote store that goes down and comes back."""

from __future__ import annotations

import concurrent.futures
import hashlib
import html.parser
import json
import os
import signal
import statistics
import threading
import time
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib.compare import to_isomorphic

from harness import PROVIDER, cli, running_service
from maas_kg.serving import StoreServer, free_port

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
PRODUCTS = Path(__file__).parents[1] / "examples" / "products"
TEMPLATE = json.loads((DATA / "service-weber.json").read_text())
#: the load test's length; the issue asks for 60 s (MAAS_KG_LOAD_SECONDS shortens it for a quick local run)
LOAD_SECONDS = float(os.environ.get("MAAS_KG_LOAD_SECONDS", 60))

# every service graph has its published record and the other way round; run through /sparql or `maas-kg sparql`
CONSISTENT = """PREFIX maas: <https://w3id.org/maas-kg/ns#> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
ASK {
  { GRAPH ?g { ?s a maas:ManufacturingService } FILTER(STRSTARTS(STR(?g), "https://w3id.org/maas-kg/graph/service/"))
    FILTER NOT EXISTS { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?r foaf:primaryTopic ?s ;
                                                                            maas:status maas:Published } } }
  UNION
  { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?r foaf:primaryTopic ?s ; maas:status maas:Published }
    FILTER NOT EXISTS { GRAPH ?g { ?s maas:name ?name ; maas:hasPriceSpecification ?price ; maas:providedBy ?p } } }
}"""


def batch(prefix: str, size: int) -> bytes:
    return json.dumps([{**TEMPLATE, "id": f"https://w3id.org/maas-kg/id/service/{prefix}-{n}"}
                       for n in range(size)]).encode()


def published_ids(base: str, marker: str) -> list[str]:
    query = f"""PREFIX maas: <https://w3id.org/maas-kg/ns#> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
        SELECT ?s WHERE {{ GRAPH <https://w3id.org/maas-kg/graph/catalogue> {{
          ?r foaf:primaryTopic ?s ; maas:status maas:Published }} FILTER(CONTAINS(STR(?s), "{marker}")) }}"""
    rows = requests.get(f"{base}/sparql", params={"query": query}, timeout=60).json()["results"]["bindings"]
    return [row["s"]["value"] for row in rows]


def ask(base: str, query: str) -> bool:
    return requests.get(f"{base}/sparql", params={"query": query}, timeout=60).json()["boolean"]


def test_kill_9_during_batch_publishing_leaves_every_batch_whole(tmp_path):
    folder = tmp_path / "crash"
    folder.mkdir()
    headers = {"Content-Type": "application/json"}
    posted: list[int] = []
    with running_service(folder, providers=3) as service:
        headers["Authorization"] = f"Bearer {service['provider']}"
        stop = threading.Event()

        def publish_batches() -> None:
            # batches of 40 services, each one POST (all or nothing), until the server dies
            for number in range(1000):
                if stop.is_set():
                    return
                try:
                    response = requests.post(f"{service['base']}/services", data=batch(f"crash-{number}", 40),
                                             headers=headers, timeout=60)
                except requests.ConnectionError:
                    return
                if response.status_code == 201:
                    posted.append(number)

        writer = threading.Thread(target=publish_batches)
        writer.start()
        deadline = time.monotonic() + 60
        while len(posted) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.7)  # now in the middle of a later batch
        os.killpg(service["process"].pid, signal.SIGKILL)  # gunicorn, its workers and the store server at once
        service["process"].wait(timeout=30)
        stop.set()
        writer.join(timeout=90)
    assert len(posted) >= 2
    # the store opens again and every batch is either all there or absent
    assert cli(service["env"], "info").returncode == 0
    with running_service(folder, providers=0) as restarted:
        assert not ask(restarted["base"], CONSISTENT)
        present = published_ids(restarted["base"], "/crash-")
        per_batch: dict[str, int] = {}
        for iri in present:
            per_batch[iri.rsplit("-", 1)[0]] = per_batch.get(iri.rsplit("-", 1)[0], 0) + 1
        assert set(per_batch.values()) == {40}, per_batch
        # every batch the server confirmed is there (the one cut off may or may not be)
        assert {f"https://w3id.org/maas-kg/id/service/crash-{n}" for n in posted} <= set(per_batch)
        assert len(per_batch) - len(posted) in (0, 1)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("reliable"), providers=12, seed=4) as running:
        yield running


def test_fifty_concurrent_match_clients_get_no_errors(service, capsys):
    products = [(PRODUCTS / name).read_bytes() for name in ("milled-bracket.json", "turned-ground-shaft.json",
                                                           "sheet-metal-enclosure.json", "pa12-lattice-part.json")]
    deadline = time.monotonic() + LOAD_SECONDS
    latencies: list[float] = []
    failures: list[str] = []

    def client(number: int) -> None:
        session = requests.Session()
        turn = number
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = session.post(f"{service['base']}/match", params={"today": "2026-11-22", "top": 3},
                                        data=products[turn % len(products)],
                                        headers={"Content-Type": "application/json"}, timeout=180)
                if response.status_code != 200 or not response.json()["routes"]:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
            except requests.RequestException as err:
                failures.append(repr(err))
            latencies.append(time.monotonic() - started)
            turn += 1

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        list(pool.map(client, range(50)))
    assert failures == []
    assert len(latencies) >= 50
    quantiles = statistics.quantiles(latencies, n=20)
    with capsys.disabled():
        print(f"\n50 match clients for {LOAD_SECONDS:g} s: {len(latencies)} matches, 0 errors, "
              f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {quantiles[18] * 1000:.0f} ms "
              f"(2 gunicorn workers, one product at a time per worker)")


def test_eight_clients_publish_250_services_each_at_once(service):
    headers = {"Authorization": f"Bearer {service['provider']}", "Content-Type": "application/json"}

    def client(number: int) -> list[int]:
        codes = []
        for part in range(5):  # 5 requests of 50 services
            body = batch(f"load-{number}-{part}", 50)
            codes.append(requests.post(f"{service['base']}/services", data=body, headers=headers,
                                       timeout=120).status_code)
        return codes

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = [code for result in pool.map(client, range(8)) for code in result]
    assert codes == [201] * 40
    assert len(set(published_ids(service["base"], "/load-"))) == 2000
    assert not ask(service["base"], CONSISTENT)


def canonical_hash(path: Path) -> tuple[int, str]:
    """Number of quads and a hash of the dataset that does not depend on blank node labels (an import may relabel
    them): each named graph's canonical form (rdflib.compare), hashed in graph order."""
    dataset = rdflib.Dataset()
    dataset.parse(path, format="nquads")
    digests = []
    for graph in dataset.graphs():
        if len(graph):
            digests.append(f"{graph.identifier} {to_isomorphic(graph).graph_digest()}")
    return sum(len(g) for g in dataset.graphs()), hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def test_backup_and_restore_give_the_same_quads(tmp_path):
    env = {**os.environ, "MAAS_KG_STORE": str(tmp_path / "store"), "MAAS_KG_KEYS": str(tmp_path / "keys.sqlite")}
    assert cli(env, "demo", "--providers", "6", "--seed", "5").returncode == 0
    assert cli(env, "export", str(tmp_path / "backup.nq")).returncode == 0
    restored = {**env, "MAAS_KG_STORE": str(tmp_path / "restored")}
    result = cli(restored, "import", str(tmp_path / "backup.nq"))
    assert result.returncode == 0, result.stderr
    assert cli(restored, "export", str(tmp_path / "again.nq")).returncode == 0
    count, digest = canonical_hash(tmp_path / "backup.nq")
    assert count > 1000
    assert canonical_hash(tmp_path / "again.nq") == (count, digest)
    # and the restored store answers like the original
    original = cli(env, "list", "--format", "json").stdout
    assert original and cli(restored, "list", "--format", "json").stdout == original


def test_a_remote_store_that_goes_down_gives_503_quickly_and_recovers_without_restart(tmp_path):
    location, port = str(tmp_path / "remote-store"), free_port()
    store = StoreServer(location, port=port).__enter__()
    try:
        url = store.url
        env = {**os.environ, "MAAS_KG_STORE": url, "MAAS_KG_KEYS": str(tmp_path / "keys.sqlite")}
        assert cli(env, "demo", "--providers", "4", "--seed", "6").returncode == 0
        with running_service(tmp_path, providers=0, store=url, serve_args=("--sparql-timeout", "1"),
                             env={"MAAS_KG_STORE_TIMEOUT": "3"}) as service:
            base = service["base"]
            assert requests.get(f"{base}/health", timeout=10).status_code == 200
            product = (PRODUCTS / "milled-bracket.json").read_bytes()
            # down: connection refused
            store.process.kill()
            store.process.wait()
            for method, path, body in (("GET", "/health", None), ("GET", "/services", None),
                                       ("POST", "/match", product), ("GET", "/sparql?query=ASK{}", None)):
                started = time.monotonic()
                response = requests.request(method, base + path, data=body, timeout=30,
                                            headers={"Content-Type": "application/json"})
                assert response.status_code == 503, (path, response.status_code, response.text[:300])
                assert time.monotonic() - started < 10
            # hung: the process stops answering without closing its socket; the request gives up after the timeout
            store = StoreServer(location, port=port).__enter__()
            os.kill(store.process.pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                response = requests.get(f"{base}/services", timeout=60)
                assert response.status_code == 503
                assert time.monotonic() - started < 20  # the store timeout (6 s here), not the client's
            finally:
                os.kill(store.process.pid, signal.SIGCONT)
            # back: the same workers answer again
            assert requests.get(f"{base}/health", timeout=30).status_code == 200
            assert requests.get(f"{base}/services", timeout=30).json()["items"]
            created = requests.post(f"{base}/services", data=batch("after-outage", 1),
                                    headers={"Authorization": f"Bearer {service['provider']}",
                                             "Content-Type": "application/json"}, timeout=60)
            assert created.status_code == 201, created.text[:300]
    finally:
        store.__exit__(None, None, None)


def _store_server_of(folder: Path) -> int:
    """The pid of the Oxigraph server that `maas-kg serve` started for the store under ``folder``."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if command and command[0].endswith(b"oxigraph") and str(folder / "store").encode() in command:
                return int(entry.name)
    raise AssertionError("no store server found")


class _HiddenFields(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields.append((attrs["name"], attrs.get("value") or ""))


def test_pages_say_kindly_that_the_store_is_down_keep_the_form_and_serve_restarts_a_dead_store_server(tmp_path):
    """Issue 21, item 18: with the store down a page is a friendly HTML page without internal addresses, a form
    sent meanwhile comes back kept (send it again once the store answers), and `serve` starts the store server it
    started again when it dies."""
    with running_service(tmp_path, providers=4, seed=6, serve_args=("--sparql-timeout", "1"),
                         env={"MAAS_KG_STORE_TIMEOUT": "3"}) as service:
        base, browser = service["base"], {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        pid = _store_server_of(tmp_path)
        name = f"Outage milling {os.getpid()}"
        form = {"api_key": service["provider"], "name": name, "process": "3-axis milling",
                "materials": "EN AW-6061", "envelope_mm": "400, 300, 200", "max_mass_kg": "50",
                "tolerance_mm": "0.05", "batch_size": "1, 100", "capacity_per_week": "40", "lead_time_days": "7",
                "price_setup": "120", "price_unit": "30", "price_currency": "EUR", "provider_id": PROVIDER,
                "provider_name": "Feinmechanik Weber GmbH", "provider_country": "DE", "provider_lat": "48.83",
                "provider_lon": "9.17"}
        os.kill(pid, signal.SIGSTOP)  # hung: it holds its socket open and answers nothing
        try:
            page = requests.get(f"{base}/catalogue", headers=browser, timeout=60)
            assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
            assert "unavailable for a moment" in page.text and "127.0.0.1" not in page.text
            problem = requests.get(f"{base}/services", timeout=60)
            assert problem.status_code == 503 and "127.0.0.1" not in problem.text
            sent = requests.post(f"{base}/publish", data=form, headers=browser, timeout=60)
            assert sent.status_code == 503 and sent.headers["Cache-Control"] == "no-store"
            kept = _HiddenFields()
            kept.feed(sent.text)
            assert dict(kept.fields) == form  # every field, as typed
        finally:
            os.kill(pid, signal.SIGCONT)
        again = requests.post(f"{base}/publish", data=dict(kept.fields), headers=browser, timeout=120)
        # published, then redirected to the service's page (POST-redirect-GET), which names it
        assert [r.status_code for r in again.history] == [303] and again.status_code == 200 and name in again.text
        assert name in requests.get(f"{base}/services", params={"limit": 200}, timeout=60).text

        os.kill(pid, signal.SIGKILL)  # dead: serve starts it again on the same port
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if requests.get(f"{base}/health", timeout=30).status_code == 200:
                break
            time.sleep(0.5)
        assert requests.get(f"{base}/health", timeout=30).status_code == 200
        assert _store_server_of(tmp_path) != pid
        assert requests.get(f"{base}/services", timeout=30).json()["items"]
        assert "starting it again" in service["log"].read_text()


def test_an_unknown_address_is_a_page_for_browsers_and_a_problem_for_clients(tmp_path):
    with running_service(tmp_path, providers=0) as service:
        page = requests.get(service["base"] + "/no/such/page", timeout=30,
                            headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 404 and "There is no such page" in page.text
        problem = requests.get(service["base"] + "/no/such/page", timeout=30)
        assert problem.status_code == 404 and problem.headers["Content-Type"] == "application/problem+json"
