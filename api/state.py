"""The per-process resources of the application: the catalogue store, the private workspace, the key ring and the
providers' private values.

Each worker process opens its own (``maas-kg serve`` points every worker at one Oxigraph server, so they share the
on-disk store safely); ``create_app`` opens them once, not per request.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import Flask, current_app, request

from maas_kg.catalogue import reconcile_private
from maas_kg.catalogue.keys import KeyRing
from maas_kg.catalogue.private_data import PrivateStore, default_private_file
from maas_kg.execution import webhooks
from maas_kg.execution.ledger import Ledger, default_ledger_file
from maas_kg.knowledge import taxonomy
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.matching.workspace import Workspace
from maas_kg.matching.index import snapshot_for
from maas_kg.store import Store, open_store


@dataclass
class Resources:
    catalogue: Store
    keys: KeyRing
    #: provider-private values of the services (never in the catalogue store)
    private: PrivateStore
    #: requests for quotation, offers, orders, events, evaluations (private, never in the catalogue store)
    ledger: Ledger
    #: where the match index is saved (None: nowhere; it is built from the store)
    snapshot: str | None = None
    _workspace: Workspace | None = field(default=None, repr=False)
    # a worker's threads (gunicorn gthread) may ask for the workspace at once: it is built once
    _workspace_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            with self._workspace_lock:
                if self._workspace is None:  # built on the first match: 0.4 s of ontology loading
                    self._workspace = Workspace(self.catalogue, snapshot=self.snapshot)
        return self._workspace


def init_app(app: Flask) -> None:
    catalogue = open_store(app.config["STORE"],
                           timeout=max(app.config.get("STORE_TIMEOUT", 30.0), app.config["SPARQL_TIMEOUT"] + 5))
    if app.config["SYNC_ONTOLOGY"]:
        sync_ontology(catalogue)
    private = PrivateStore(app.config.get("PRIVATE_FILE") or default_private_file(app.config["KEYS_FILE"]))
    # rows of versions a crash kept from being published (written before the store commit) are dropped; in the
    # publishing lock, so a publication under way in another worker keeps its row
    reconcile_private(catalogue, private)
    ledger = Ledger(app.config.get("TRANSACTIONS_FILE") or default_ledger_file(app.config["KEYS_FILE"]))
    app.extensions["maas_kg"] = Resources(catalogue, KeyRing(app.config["KEYS_FILE"]), private, ledger,
                                          app.config.get("MATCH_INDEX") or snapshot_for(app.config["STORE"]))
    app.before_request(follow_taxonomy)


def start_background(app: Flask) -> None:
    """Start the worker's background threads, once the application is complete. Not earlier: the match index's
    snapshot load parses numpy headers with ``ast`` while werkzeug compiles the routes with ``ast`` in the main
    thread, and CPython 3.11's AST constructor is not safe for that ("AST constructor recursion depth mismatch"):
    a worker failed to boot in 1 of 8 starts of a load test, and gunicorn then stopped the whole server."""
    resources = app.extensions["maas_kg"]
    if app.config.get("SEND_WEBHOOKS"):
        webhooks.Sender(resources.ledger).start()  # each worker sends what is due; leases keep two from sending one twice
    if app.config.get("WARM_MATCH_INDEX"):
        # the match index loads (or builds) while the worker already answers; the first match waits for it
        threading.Thread(target=_warm, args=(resources,), name="match-index", daemon=True).start()


def _warm(resources: Resources) -> None:
    try:
        resources.workspace.index.follow(resources.catalogue, force=True)
    except Exception:  # noqa: BLE001 - the first match builds it again, and reports what fails
        logging.getLogger(__name__).exception("the match index could not be built ahead of the first match")


def follow_taxonomy() -> None:
    """Before a request: the catalogue's taxonomy extensions are the ones in force in this thread (one small query
    of the meta graph), so an extension uploaded through any worker names processes in every worker at once."""
    if request.endpoint and request.endpoint.split(".")[0] in ("services", "matching", "resilience", "circularity", "ontology", "web"):
        taxonomy.follow(resources().catalogue)


def resources() -> Resources:
    return current_app.extensions["maas_kg"]
