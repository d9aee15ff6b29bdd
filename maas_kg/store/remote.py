"""A store backend for any SPARQL 1.1 store over HTTP: Query and Update Protocol plus the Graph Store Protocol.

It gives callers the same ``Store`` protocol and the same result types as the embedded store (pyoxigraph parses the
SPARQL results), so catalogue, translation and matching run unchanged against Oxigraph server, Fuseki, GraphDB or
Virtuoso. ``maas-kg serve`` uses it to share one on-disk store between several worker processes: the store is owned by
an Oxigraph server and the workers are its clients.
"""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import requests

from maas_kg import settings
from maas_kg.store.base import (Changes, StoreError, StoreRefused, StoreSyntaxError, StoreUnavailable, Triple,
                                dataset_format,
                                boolean_answer, rdf_format, solution_rows)

_RESULTS_JSON = "application/sparql-results+json"
_NQUADS = "application/n-quads"
_NTRIPLES = "application/n-triples"



@dataclass(frozen=True)
class Endpoints:
    """Where a SPARQL 1.1 store takes queries, updates and Graph Store Protocol requests."""

    query: str
    update: str
    graph_store: str

    @classmethod
    def under(cls, base: str) -> "Endpoints":
        """Oxigraph server's layout under ``base``."""
        base = base.rstrip("/")
        return cls(f"{base}/query", f"{base}/update", f"{base}/store")

    def configured(self) -> "Endpoints":
        """These endpoints, each replaced by ``MAAS_KG_QUERY_URL``, ``MAAS_KG_UPDATE_URL`` or
        ``MAAS_KG_GRAPH_STORE_URL`` where set (stores whose endpoints live elsewhere)."""
        return Endpoints(settings.QUERY_URL.value() or self.query, settings.UPDATE_URL.value() or self.update,
                         settings.GRAPH_STORE_URL.value() or self.graph_store)


class SparqlHttpStore:
    """A remote SPARQL 1.1 store (Oxigraph server's layout by default). ``timeout`` (seconds) bounds every request so
    a dead store cannot hang a caller. Server families that differ subclass it (``store.virtuoso``)."""

    supports_lateral = True  # Oxigraph server, Jena 4.7+
    atomic_commit = True  # one update request is one transaction in SPARQL 1.1 stores with transactions
    update_dataset_parameters = True
    raw_answers = True
    #: query parameters that make the default graph the union of all graphs (the protocol has no standard one)
    union_parameters: tuple[tuple[str, str], ...] = (("union-default-graph", ""),)

    @classmethod
    def endpoints_under(cls, base: str) -> Endpoints:
        return Endpoints.under(base)

    def __init__(self, endpoints: Endpoints | str, *, timeout: float = 30.0):
        self.endpoints = (self.endpoints_under(endpoints) if isinstance(endpoints, str) else endpoints).configured()
        self.location = self.endpoints.query
        self.timeout = timeout
        # one requests.Session per thread (gunicorn's gthread workers share this store between threads, and a
        # Session is not thread-safe); all are closed by close()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------------------------

    @property
    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            # straight to the store: no proxy or .netrc from the environment (reading them took 0.7 ms a request)
            session.trust_env = False
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _send(self, method: str, url: str, *, what: str, **kwargs) -> requests.Response:
        try:
            response = self._http.request(method, url, timeout=kwargs.pop("timeout", self.timeout), **kwargs)
        except requests.Timeout:
            raise StoreUnavailable(f"the SPARQL store at {url} did not answer within {self.timeout:g} s ({what})") \
                from None
        except requests.ConnectionError:
            raise StoreUnavailable(f"the SPARQL store at {url} is not reachable ({what}): is it running?") from None
        if response.status_code >= 400:
            message = response.text.strip()[:500] or response.reason
            if response.status_code == 400:
                raise StoreSyntaxError(f"SPARQL syntax error: {message}")
            if response.status_code >= 500 and "timeout" in message.lower():
                raise StoreUnavailable(f"the SPARQL store gave up ({what}): {message}")
            raise StoreRefused(f"the SPARQL store refused the {what} ({response.status_code}): {message}",
                               response.status_code)
        return response

    def _query_params(self, union_default_graph: bool, default_graph: list[str] | None,
                      named_graphs: list[str] | None) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if default_graph is not None:
            params += [("default-graph-uri", g) for g in default_graph]
        elif union_default_graph:
            params += list(self.union_parameters)
        params += [("named-graph-uri", g) for g in named_graphs or []]
        return params

    def raw_query(self, sparql: str, accept: str, *, union_default_graph: bool = False,
                  default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
                  timeout: float | None = None, stream: bool = False) -> requests.Response:
        """Send a query and return the server's response unparsed; with ``stream`` its body is not read yet (the
        public endpoint parses it as it arrives from ``response.raw`` and must close the response)."""
        params = self._query_params(union_default_graph, default_graph, named_graphs)
        return self._send(
            "POST", self.endpoints.query, what="query", params=params,
            data=sparql.encode("utf-8"), timeout=timeout or self.timeout, stream=stream,
            headers={"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept})

    # -- reading --------------------------------------------------------------------------------------------------

    def query(self, sparql: str, *, union_default_graph: bool = False, substitutions: dict | None = None,
              default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
              timeout: float | None = None):
        if substitutions:
            raise StoreError("variable substitutions are only supported by the embedded store")
        response = self.raw_query(sparql, f"{_RESULTS_JSON}, {_NTRIPLES};q=0.9", union_default_graph=union_default_graph,
                                  default_graph=default_graph, named_graphs=named_graphs, timeout=timeout)
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()
        if kind == _NTRIPLES or kind.startswith("text/turtle"):
            fmt = ox.RdfFormat.N_TRIPLES if kind == _NTRIPLES else ox.RdfFormat.TURTLE
            return [q.triple for q in ox.parse(response.content, format=fmt)]
        return ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)

    def select(self, sparql: str, *, union_default_graph: bool = False) -> list[dict]:
        return solution_rows(self.query(sparql, union_default_graph=union_default_graph))

    def ask(self, sparql: str, *, union_default_graph: bool = False) -> bool:
        return boolean_answer(self.query(sparql, union_default_graph=union_default_graph))

    def graph_triples(self, graph: str) -> list[Triple]:
        try:
            response = self._send("GET", self.endpoints.graph_store, what="graph read", params={"graph": graph},
                                  headers={"Accept": _NTRIPLES}, allow_redirects=False)
        except StoreRefused as err:
            if err.status == 404:  # an absent graph reads as empty, as in the embedded store
                return []
            raise
        return [(q.subject, q.predicate, q.object) for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)]

    def named_graphs(self) -> list[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return sorted(row["g"].value for row in rows if isinstance(row["g"], ox.NamedNode))

    def quad_count(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
        return int(rows[0]["n"].value)

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers a trivial query."""
        self.ask("ASK { }")

    # -- writing --------------------------------------------------------------------------------------------------

    def update(self, sparql: str, *, using_graphs: list[str] | None = None,
               using_named_graphs: list[str] | None = None) -> None:
        """Run an update; ``using_graphs`` / ``using_named_graphs`` are the protocol's ``using-graph-uri`` /
        ``using-named-graph-uri`` (like USING / USING NAMED), passed on to the store."""
        params = [("using-graph-uri", g) for g in using_graphs or []] + \
            [("using-named-graph-uri", g) for g in using_named_graphs or []]
        self._send("POST", self.endpoints.update, what="update", data=sparql.encode("utf-8"), params=params,
                   headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def commit(self, changes: Changes) -> None:
        if changes:
            self.update(changes.as_sparql())

    def load(self, data, format: str, *, graph: str | None = None) -> None:
        fmt = rdf_format(format)
        body = data.read() if hasattr(data, "read") else (data.encode("utf-8") if isinstance(data, str) else data)
        params = {"graph": graph} if graph else {"default": ""}
        self._send("POST", self.endpoints.graph_store, what="load", params=params, data=body,
                   headers={"Content-Type": fmt.media_type})

    def bulk_load(self, data, format: str, *, graph: str | None = None) -> None:
        if graph is None and rdf_format(format) in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            if isinstance(data, str) and not Path(data).exists():
                data = data.encode("utf-8")
            return self.import_dataset(data, format)  # quads keep their graphs, as in the embedded bulk load
        if isinstance(data, Path) or (isinstance(data, str) and Path(data).exists()):
            with open(data, "rb") as handle:
                return self.load(handle, format, graph=graph)
        return self.load(data, format, graph=graph)

    def export(self, output, format: str = "nquads") -> None:
        fmt = dataset_format(format, "export keeps named graphs")
        response = self._send("GET", self.endpoints.graph_store, what="export", headers={"Accept": fmt.media_type},
                              stream=True)
        if isinstance(output, (str, Path)):
            with open(output, "wb") as handle:
                shutil.copyfileobj(response.raw, handle)
        else:
            shutil.copyfileobj(response.raw, output)

    def import_dataset(self, data, format: str = "nquads") -> None:
        fmt = dataset_format(format, "import reads datasets")
        if isinstance(data, (str, Path)):
            with open(data, "rb") as handle:
                return self.import_dataset(handle, format)
        self._send("POST", self.endpoints.graph_store, what="import", data=data,
                   headers={"Content-Type": fmt.media_type})

    def quads(self) -> Iterator[ox.Quad]:
        buffer = io.BytesIO()
        self.export(buffer)
        return iter(ox.parse(buffer.getvalue(), format=ox.RdfFormat.N_QUADS))

    def flush(self) -> None:
        """Nothing to do: the server persists each request."""

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()
