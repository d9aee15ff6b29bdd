"""``maas-kg serve``: the HTTP service under gunicorn, with several worker processes sharing one on-disk store.

An embedded store on disk can be opened for writing by one process only. So for a directory store, serve starts an
Oxigraph server that owns it (the same storage format as the embedded store) and points every worker at it over the
SPARQL 1.1 protocols: the server runs one writer at a time and each update request is one transaction, so readers
never see half a service. With ``--store http(s)://...`` the workers use that store directly.

That server listens on 127.0.0.1 at a random port without authentication (Oxigraph has no socket or token option):
any local process can reach it. Unless SERVICE targets are allow-listed (``MAAS_KG_SPARQL_ALLOW``), it runs under a
seccomp filter that denies the ``connect`` system call, so no query it runs can open a connection (it only accepts).
"""

from __future__ import annotations

import errno
import logging
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from maas_kg import settings
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.matching.index import snapshot_for
from maas_kg.store import StoreError, StoreLocked, open_store, remote_backend

log = logging.getLogger(__name__)

#: SERVICE targets the public endpoint may name (space-separated IRI prefixes); empty: none, and the store server
#: started here gets no network access at all
ALLOW_LIST_VARIABLE = "MAAS_KG_SPARQL_ALLOW"


def sparql_allow_list() -> tuple[str, ...]:
    return settings.SPARQL_ALLOW.value()


class ServeError(StoreError):
    """The service could not start; the message says why."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def oxigraph_binary() -> str:
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise ServeError("the 'oxigraph' server is not installed: run 'make venv' (it comes with the project)")
    return found


def no_connect_filter():
    """A seccomp filter that makes ``connect`` fail with EPERM (everything else allowed), or None where libseccomp
    is missing. Built here, loaded in the child just before exec: the filter (and no-new-privileges) survive exec."""
    try:
        import pyseccomp
    except Exception as err:  # the ctypes binding raises while loading libseccomp.so.2 when it is not installed
        log.warning("libseccomp is not available (%s): the store server runs WITHOUT the filter that keeps it off "
                    "the network; only the SPARQL parser stands between SERVICE and the network", err)
        return None
    syscall_filter = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    syscall_filter.add_rule(pyseccomp.ERRNO(errno.EPERM), "connect")
    return syscall_filter


#: how often serve looks whether the store server it started still runs (seconds), and how many deaths within how
#: many seconds it restarts it after
WATCH_INTERVAL = 1.0
RESTART_LIMIT, RESTART_WINDOW = 5, 300.0


class StoreServer:
    """An Oxigraph server process that owns the on-disk store at ``location`` (a context manager). Unless
    ``network`` is true, it cannot open connections (see ``no_connect_filter``): SERVICE and LOAD fail inside it.
    With ``restart``, a watchdog thread starts it again when it dies (``maas-kg serve`` does)."""

    def __init__(self, location: str, *, timeout: float = 10.0, port: int | None = None, network: bool = False,
                 restart: bool = False):
        self.location, self.timeout, self.restart = location, timeout, restart
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.network = network

    def __enter__(self) -> "StoreServer":
        Path(self.location).mkdir(parents=True, exist_ok=True)
        self._start()
        if self.restart:
            self.stopping = threading.Event()
            self.watchdog = threading.Thread(target=self._watch, name="store-server-watchdog", daemon=True)
            self.watchdog.start()
        return self

    def _watch(self) -> None:
        """Start the server again, on the same port, when it dies (killed, out of memory): the workers keep its URL
        and answer 503 only until it is back. A server that dies RESTART_LIMIT times within RESTART_WINDOW seconds
        is left down (something is wrong with the store; the log says what) and the workers keep answering 503."""
        deaths: list[float] = []
        while not self.stopping.wait(WATCH_INTERVAL):
            if self.process is None or self.process.poll() is None:
                continue
            message = self.process.stderr.read().decode("utf-8", "replace").strip()[-300:] if self.process.stderr else ""
            now = time.monotonic()
            deaths = [t for t in deaths if now - t < RESTART_WINDOW] + [now]
            if len(deaths) > RESTART_LIMIT:
                log.error("the store server died %d times within %g s: left down (last exit %s: %s)",
                          len(deaths), RESTART_WINDOW, self.process.returncode, message)
                return
            log.error("the store server died (exit %s: %s): starting it again", self.process.returncode, message)
            try:
                self._start()
                log.warning("the store server is back on %s", self.url)
            except StoreError as err:
                log.error("the store server could not start again: %s", err)

    def _start(self) -> None:
        """Start the server process and wait until it answers."""
        syscall_filter = None if self.network else no_connect_filter()
        try:
            self.process = subprocess.Popen(
                [oxigraph_binary(), "serve", "--location", self.location, "--bind", f"127.0.0.1:{self.port}",
                 "--timeout-s", str(max(1, round(self.timeout)))],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                preexec_fn=syscall_filter.load if syscall_filter else None)
        except subprocess.SubprocessError as err:  # the kernel refused the filter (no seccomp support)
            raise ServeError(f"could not keep the store server off the network (seccomp: {err}): run on a kernel "
                             "with seccomp, or allow-list SERVICE targets with MAAS_KG_SPARQL_ALLOW") from None
        store = open_store(self.url, timeout=2)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                message = self.process.stderr.read().decode("utf-8", "replace")
                if "lock" in message.lower():
                    raise StoreLocked(f"the store at {self.location} is locked by another process (a running "
                                      "'maas-kg' command or server): stop it, or use another --store")
                raise ServeError(f"the store server stopped at once: {message.strip()[-300:]}")
            try:
                store.ask("ASK { }")
                return
            except StoreError:
                if time.monotonic() > deadline:
                    self._stop_process()
                    raise ServeError(f"the store server did not answer on {self.url} within 60 s") from None
                time.sleep(0.1)

    def __exit__(self, *exc) -> None:
        if getattr(self, "stopping", None) is not None:
            self.stopping.set()
            self.watchdog.join(timeout=5)
        self._stop_process()

    def _stop_process(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


#: threads of each gunicorn worker. Matching is CPU work: 50 clients on 2 workers at 100,000 services
#: (benchmarks/results/index-clients-100000-2026-12-06.json) gave 49, 57 and 46 matches/s with 1, 2 and 4 threads
#: (p95 1.29, 1.44, 1.42 s), and 28, 27, 22/s with a new document per request: more threads cost CPU in contention,
#: one leaves a worker deaf while a long query runs. Two per worker, and as many workers as cores.
WORKER_THREADS = 2


def run_gunicorn(config: dict, *, host: str, port: int, workers: int, timeout: float,
                 threads: int = WORKER_THREADS) -> None:
    """Serve ``api.create_app(config)`` with gunicorn until it is stopped (SIGINT / SIGTERM)."""
    from gunicorn.app.base import BaseApplication

    class _Application(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # threads, so that a worker whose threads wait on long SPARQL queries still answers /health, the
            # catalogue and matches; public queries take at most MAAS_KG_SPARQL_CONCURRENCY of them (api/sparql.py)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", int(timeout) + 60)  # matches may take long; the store's own timeout is shorter
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("accesslog", "-")
            self.cfg.set("proc_name", "maas-kg")
            self.cfg.set("control_socket_disable", True)  # several servers may run on one machine (tests)

        def load(self):
            from api import create_app

            return create_app(config)

    _Application().run()


def serve(location: str, *, host: str, port: int, workers: int, sparql_timeout: float,
          store_port: int | None = None, threads: int = WORKER_THREADS) -> None:
    """Bring the ontology graphs up to date once, start the store server if needed, then serve."""
    config = {"SYNC_ONTOLOGY": False, "SPARQL_TIMEOUT": sparql_timeout, "MATCH_INDEX": snapshot_for(location),
              "WARM_MATCH_INDEX": True, "SEND_WEBHOOKS": True}
    if location == "memory":
        if workers != 1:
            raise ServeError("an in-memory store cannot be shared by several workers: use --workers 1 or a directory")
        config.update(STORE="memory", SYNC_ONTOLOGY=True)
        return run_gunicorn(config, host=host, port=port, workers=1, timeout=sparql_timeout, threads=threads)
    if remote_backend(location) is not None:  # any store URL open_store knows (BACKENDS)
        sync_ontology(open_store(location))
        config["STORE"] = location
        return run_gunicorn(config, host=host, port=port, workers=workers, timeout=sparql_timeout, threads=threads)
    # the master process never opens the embedded store itself: RocksDB's threads and locks would be copied into
    # the forked workers and hang them at exit. The ontology is synced through the store server instead.
    with StoreServer(location, timeout=sparql_timeout, port=store_port, network=bool(sparql_allow_list()),
                     restart=True) as server:
        sync_ontology(open_store(server.url))
        config["STORE"] = server.url
        run_gunicorn(config, host=host, port=port, workers=workers, timeout=sparql_timeout, threads=threads)
