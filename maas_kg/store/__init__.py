"""The knowledge-graph store: the ``Store`` protocol and its backends.

Owns: the protocol with its capability flags and the ``Changes`` of one atomic write (``base``), the embedded
pyoxigraph store (``embedded``), SPARQL 1.1 stores over HTTP (``remote``) and Virtuoso 7 (``virtuoso``), and the
SPARQL 1.1 forms of the rules for engines without LATERAL (``dialects``).

May import: the leaf modules (errors, settings, media_types, rdf, geo) only; every other package builds on it.

``open_store`` picks the backend from a location through ``BACKENDS``, one table of URL schemes: ``memory``, a
directory (the embedded store on disk, the default ``var/store``), ``http(s)://`` (an Oxigraph server or any SPARQL
1.1 store), ``virtuoso+http(s)://``. Every write that must be all-or-nothing goes through ``Store.commit(changes)``.
"""

from __future__ import annotations

from maas_kg import settings
from maas_kg.store.base import (Changes, Store, StoreError, StoreLocked, StoreRefused, StoreSyntaxError,
                                StoreUnavailable, Term, Triple, boolean_answer, dataset_format, rdf_format,
                                solution_rows)
from maas_kg.store.embedded import OxigraphStore

#: URL scheme -> "module:class" of the backend that serves it (imported on first use: only remote users need
#: requests); a location without one of these schemes is a directory for the embedded store
BACKENDS = {
    "http": "maas_kg.store.remote:SparqlHttpStore",
    "https": "maas_kg.store.remote:SparqlHttpStore",
    "virtuoso+http": "maas_kg.store.virtuoso:VirtuosoStore",
    "virtuoso+https": "maas_kg.store.virtuoso:VirtuosoStore",
}


def default_location() -> str:
    return settings.STORE.value()


def remote_backend(location: str) -> type | None:
    """The backend class for a store URL, None for ``memory`` or a directory."""
    scheme, separator, _ = location.partition("://")
    if not separator or scheme.lower() not in BACKENDS:
        return None
    import importlib

    module, _, name = BACKENDS[scheme.lower()].partition(":")
    return getattr(importlib.import_module(module), name)


def open_store(location: str | None = None, *, read_only: bool = False, timeout: float = 30.0) -> Store:
    """Open the store at ``location`` (see ``BACKENDS``); ``$MAAS_KG_STORE`` if not given, else ``var/store``."""
    location = location or default_location()
    if location == "memory":
        return OxigraphStore(None)
    backend = remote_backend(location)
    if backend is not None:
        return backend(location, timeout=timeout)
    return OxigraphStore(location, read_only=read_only)


__all__ = ["BACKENDS", "Changes", "OxigraphStore", "Store", "StoreError", "StoreLocked", "StoreRefused",
           "StoreSyntaxError", "StoreUnavailable", "Term", "Triple", "boolean_answer", "dataset_format",
           "default_location", "open_store", "rdf_format", "remote_backend", "solution_rows"]
