"""``maas-kg serve``: the HTTP service under gunicorn, with several worker processes sharing one on-disk store.

An embedded store on disk can be opened for writing by one process only. So for a directory store, serve starts an
Oxigraph server that owns it (the same storage format as the embedded store) and points every worker at it over the
SPARQL 1.1 protocols: the server runs one writer at a time and each update request is one transaction, so readers
never see half a service. With ``--store http(s)://...`` the workers use that store directly.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from maas_kg.ontology_graphs import sync_ontology
from maas_kg.store import StoreError, StoreLocked, open_store


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


class StoreServer:
    """An Oxigraph server process that owns the on-disk store at ``location`` (a context manager)."""

    def __init__(self, location: str, *, timeout: float = 10.0, port: int | None = None):
        self.location, self.timeout = location, timeout
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "StoreServer":
        Path(self.location).mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [oxigraph_binary(), "serve", "--location", self.location, "--bind", f"127.0.0.1:{self.port}",
             "--timeout-s", str(max(1, round(self.timeout)))],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
                return self
            except StoreError:
                if time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise ServeError(f"the store server did not answer on {self.url} within 60 s") from None
                time.sleep(0.1)

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_gunicorn(config: dict, *, host: str, port: int, workers: int, timeout: float) -> None:
    """Serve ``api.create_app(config)`` with gunicorn until it is stopped (SIGINT / SIGTERM)."""
    from gunicorn.app.base import BaseApplication

    class _Application(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
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
          store_port: int | None = None) -> None:
    """Bring the ontology graphs up to date once, start the store server if needed, then serve."""
    config = {"SYNC_ONTOLOGY": False, "SPARQL_TIMEOUT": sparql_timeout}
    if location == "memory":
        if workers != 1:
            raise ServeError("an in-memory store cannot be shared by several workers: use --workers 1 or a directory")
        config.update(STORE="memory", SYNC_ONTOLOGY=True)
        return run_gunicorn(config, host=host, port=port, workers=1, timeout=sparql_timeout)
    if location.startswith(("http://", "https://")):
        sync_ontology(open_store(location))
        config["STORE"] = location
        return run_gunicorn(config, host=host, port=port, workers=workers, timeout=sparql_timeout)
    # the master process never opens the embedded store itself: RocksDB's threads and locks would be copied into
    # the forked workers and hang them at exit. The ontology is synced through the store server instead.
    with StoreServer(location, timeout=sparql_timeout, port=store_port) as server:
        sync_ontology(open_store(server.url))
        config["STORE"] = server.url
        run_gunicorn(config, host=host, port=port, workers=workers, timeout=sparql_timeout)
