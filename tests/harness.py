"""What the tests share: the real service started as `make run` starts it, the store kinds every catalogue and
matching test runs against, a listener that must see no connection, and the mark by which the end of the run finds
processes the suite left behind (``conftest.pytest_sessionfinish``). Tests import it as ``harness``; the fixtures
live in ``conftest.py``."""

from __future__ import annotations

import contextlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.serving import StoreServer, free_port
from maas_kg.store import OxigraphStore, open_store
from maas_kg.store.dialects import without_lateral

BIN = Path(sys.executable).parent
PROVIDER = "https://w3id.org/maas-kg/id/provider/weber"
SERVICE_NAMESPACE = "https://w3id.org/maas-kg/id/service/"

#: every process the suite starts inherits this mark, so the end of the run can find any that outlived it
RUN_MARK = "MAAS_KG_TEST_RUN"
os.environ[RUN_MARK] = f"{os.getpid()}-{time.time_ns()}"


def marked_processes() -> dict[int, str]:
    """The processes other than this one that carry this run's mark: pid -> command line."""
    mark = f"{RUN_MARK}={os.environ[RUN_MARK]}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or a zombie
            continue
    return found


class Listener:
    """A local TCP listener that records every connection: nothing may reach it."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
                self.connections += 1
                connection.close()
            except OSError:
                pass

    def close(self):
        self._stop.set()
        self._thread.join()
        self.socket.close()


def cli(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "maas-kg"), *args], env=env, capture_output=True, text=True, timeout=300)


@contextlib.contextmanager
def running_service(folder: Path, *, providers: int, seed: int = 1, serve_args: tuple[str, ...] = (),
                    store: str | None = None, env: dict | None = None):
    """The real service as `make run` starts it: a demo catalogue (``providers`` demo providers, none for 0) in an
    on-disk store under ``folder`` (or the store ``store`` names), a provider key for PROVIDER and an admin key, then
    `maas-kg serve` (gunicorn, two workers) on a free loopback port."""
    env = {**os.environ, "MAAS_KG_STORE": store or str(folder / "store"), "MAAS_KG_KEYS": str(folder / "keys.sqlite"),
           **(env or {})}
    if providers:
        assert cli(env, "demo", "--providers", str(providers), "--seed", str(seed)).returncode == 0
    provider_key = cli(env, "keys", "create", "--provider", PROVIDER).stdout.strip()
    # the test services (tests/data/service-weber.json) are named under id/service/, not under PROVIDER + "/"
    assert cli(env, "keys", "grant", "--provider", PROVIDER, "--namespace", SERVICE_NAMESPACE).returncode == 0
    admin_key = cli(env, "keys", "create", "--admin").stdout.strip()
    port = free_port()
    # its own process group, so that a test can kill the whole service (gunicorn, workers, store server) at once
    # (its access log goes to a file: a pipe nobody reads would fill up and stall the server)
    log = folder / f"serve-{port}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([str(BIN / "maas-kg"), "serve", "--port", str(port), "--workers", "2",
                                    *serve_args], env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, log)
        yield {"base": base, "env": env, "provider": provider_key, "admin": admin_key, "process": process,
               "log": log}
    finally:
        stopped = stop_process_group(process)
    if not stopped:
        pytest.fail("the server did not stop on SIGTERM")


def wait_until_healthy(base: str, process: subprocess.Popen, log: Path, *, within: float = 180) -> None:
    """Wait for ``/health`` to answer 200. A refused connection or a slow answer means "not ready yet" (a busy
    machine may take seconds to answer the first request); only a server that exits or stays silent for
    ``within`` seconds fails the test."""
    deadline = time.monotonic() + within
    while True:
        try:
            if requests.get(f"{base}/health", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the server did not start: " + log.read_text(errors="replace")[-2000:])
        time.sleep(0.3)


def stop_process_group(process: subprocess.Popen, *, grace: float = 15) -> bool:
    """End a process started with ``start_new_session=True`` and everything in its group (gunicorn's workers, the
    store server), whatever state the test left it in: SIGTERM, then SIGKILL after ``grace`` seconds. True if the
    leader stopped on SIGTERM (or had already stopped), False if it had to be killed."""
    graceful = True
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)  # below gunicorn's 20 s grace: a worker hanging at exit would show
        except subprocess.TimeoutExpired:
            graceful = False
    _signal_group(process.pid, signal.SIGKILL)  # whatever of the group is still there (killed leader's children)
    if process.poll() is None:
        process.wait(timeout=30)
    return graceful


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


#: the store backends every catalogue and matching test runs against: the embedded store, an Oxigraph server, and
#: the embedded store given every rule in its SPARQL 1.1 form (no LATERAL), as stores without LATERAL get them;
#: MAAS_KG_TEST_STORES=...,virtuoso adds a Virtuoso 7 server (see the README for what passes there)
STORE_KINDS = tuple(os.environ.get("MAAS_KG_TEST_STORES", "embedded,remote,sparql11").split(","))


class Sparql11Store(OxigraphStore):
    """The in-memory embedded store, sent every query and update rewritten by ``dialects.without_lateral``."""

    supports_lateral = False

    def query(self, sparql: str, **kwargs):
        return super().query(without_lateral(sparql), **kwargs)

    def update(self, sparql: str) -> None:
        super().update(without_lateral(sparql))

_virtuoso = None


def virtuoso_store():
    """A store on the Virtuoso server shared by the session (started on first use), emptied of every graph."""
    global _virtuoso
    import tempfile

    from virtuoso import VirtuosoServer

    if _virtuoso is None:  # stopped by stop_virtuoso at the end of the run
        _virtuoso = VirtuosoServer(Path(tempfile.mkdtemp(prefix="maas-kg-virtuoso-"))).__enter__()
    store = open_store(_virtuoso.location, timeout=120)
    for graph in store.named_graphs():
        store.update(f"DROP SILENT GRAPH <{graph}>")
    return store


@contextlib.contextmanager
def fresh_store(kind: str, folder: Path):
    """An empty store with the ontology loaded: the embedded pyoxigraph store (in memory), or a real Oxigraph server
    started here (on disk under ``folder``) reached over the SPARQL 1.1 protocols."""
    if kind == "embedded":
        store = open_store("memory")
        sync_ontology(store)
        yield store
        return
    if kind == "sparql11":
        store = Sparql11Store(None)
        sync_ontology(store)
        yield store
        return
    if kind == "virtuoso":
        store = virtuoso_store()
        sync_ontology(store)
        yield store
        store.close()
        return
    with StoreServer(str(folder)) as server:
        store = open_store(server.url)
        sync_ontology(store)
        yield store
        store.close()


def stop_virtuoso() -> None:
    global _virtuoso
    if _virtuoso is not None:
        _virtuoso.__exit__(None, None, None)
        _virtuoso = None


class Receiver:
    """A real HTTP endpoint on loopback that records what it receives and answers the statuses it is given."""

    def __init__(self, statuses=()):
        received, answers = [], list(statuses)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(answers.pop(0) if answers else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.received = received
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# -- the web pages in a real browser (Playwright on Debian's chromium) -------------------------------------------

CHROMIUM = os.environ.get("MAAS_KG_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[1] / "test-artifacts" / "web"
# flags for a closed network: no background requests to Google's hosts, no sandbox as root
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def snapshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def labelled(page) -> list[str]:
    """The visible form controls of the page that have no label (ids or names): must be none."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
        .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
        .map(el => el.id || el.name)""")


@contextlib.contextmanager
def watched_page(browser, base: str):
    """A page of a new browser context on ``base`` that, when the test is done, must have had no JavaScript error,
    loaded nothing from elsewhere and never sent a key in a URL."""
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    urls: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("request", lambda r: urls.append(r.url))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    # every asset comes from the service itself, and a key never travels in a URL
    assert not [url for url in urls if not url.startswith(base) and not url.startswith("data:")]
    assert not [url for url in urls if "mkg_" in url]
