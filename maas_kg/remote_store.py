"""A store backend for any SPARQL 1.1 store over HTTP: Query and Update Protocol plus the Graph Store Protocol.

It gives callers the same ``Store`` protocol and the same result types as the embedded store (pyoxigraph parses the
SPARQL results), so catalogue, translation and matching run unchanged against Oxigraph server, Fuseki, GraphDB or
Virtuoso. ``maas-kg serve`` uses it to share one on-disk store between several worker processes: the store is owned by
an Oxigraph server and the workers are its clients.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import requests

from maas_kg.dialects import without_lateral
from maas_kg.store import Changes, StoreError, Triple, boolean_answer, rdf_format, solution_rows

_RESULTS_JSON = "application/sparql-results+json"
_NQUADS = "application/n-quads"
_NTRIPLES = "application/n-triples"

# which flag turns the union default graph on, per server family (the SPARQL protocol has no standard one);
# Virtuoso's default graph is the union of all graphs already
_UNION_PARAMETERS = {"oxigraph": {"union-default-graph": ""}}
# graphs a Virtuoso server holds for itself: not part of the knowledge graph, so not listed, counted or exported
_VIRTUOSO_GRAPHS = ("http://www.openlinksw.com/schemas/virtrdf#", "http://www.w3.org/ns/ldp#",
                    "http://localuriqaserver/sparql", "http://www.w3.org/2002/07/owl#")


class StoreUnavailable(StoreError):
    """The remote store did not answer (down, unreachable or too slow)."""


class StoreRefused(StoreError):
    """The remote store answered with an error status (kept in ``status``)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Endpoints:
    """Where a SPARQL 1.1 store takes queries, updates and Graph Store Protocol requests."""

    query: str
    update: str
    graph_store: str
    flavour: str = "oxigraph"

    @classmethod
    def for_oxigraph(cls, base: str) -> "Endpoints":
        base = base.rstrip("/")
        return cls(f"{base}/query", f"{base}/update", f"{base}/store", "oxigraph")

    @classmethod
    def for_virtuoso(cls, base: str) -> "Endpoints":
        """Virtuoso 7: queries and updates at ``/sparql``, the Graph Store Protocol at ``/sparql-graph-crud`` (the
        server's ``SPARQL`` user needs the ``SPARQL_UPDATE`` role)."""
        base = base.rstrip("/")
        return cls(f"{base}/sparql", f"{base}/sparql", f"{base}/sparql-graph-crud", "virtuoso")

    @classmethod
    def configured(cls, base: str) -> "Endpoints":
        """Oxigraph's layout under ``base``, with each endpoint replaced by ``MAAS_KG_QUERY_URL``,
        ``MAAS_KG_UPDATE_URL`` or ``MAAS_KG_GRAPH_STORE_URL`` where set (stores whose endpoints live elsewhere)."""
        flavour, _, rest = base.partition("+")
        default = cls.for_virtuoso(rest) if flavour == "virtuoso" and rest else cls.for_oxigraph(base)
        return cls(os.environ.get("MAAS_KG_QUERY_URL") or default.query,
                   os.environ.get("MAAS_KG_UPDATE_URL") or default.update,
                   os.environ.get("MAAS_KG_GRAPH_STORE_URL") or default.graph_store, default.flavour)


class SparqlHttpStore:
    """A remote SPARQL 1.1 store. ``timeout`` (seconds) bounds every request so a dead store cannot hang a caller."""

    def __init__(self, endpoints: Endpoints | str, *, timeout: float = 30.0):
        self.endpoints = Endpoints.configured(endpoints) if isinstance(endpoints, str) else endpoints
        self.location = self.endpoints.query
        self.timeout = timeout
        # one requests.Session per thread (gunicorn's gthread workers share this store between threads, and a
        # Session is not thread-safe); all are closed by close()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._virtuoso = self.endpoints.flavour == "virtuoso"
        # Virtuoso 7 has no LATERAL: the rules go to it in their SPARQL 1.1 form
        self._dialect = without_lateral if self._virtuoso else (lambda sparql: sparql)

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
                raise StoreError(f"SPARQL syntax error: {message}")
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
            params += list(_UNION_PARAMETERS.get(self.endpoints.flavour, {}).items())
        params += [("named-graph-uri", g) for g in named_graphs or []]
        return params

    def raw_query(self, sparql: str, accept: str, *, union_default_graph: bool = False,
                  default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
                  timeout: float | None = None, stream: bool = False) -> requests.Response:
        """Send a query and return the server's response unparsed; with ``stream`` its body is not read yet (the
        public endpoint parses it as it arrives from ``response.raw`` and must close the response)."""
        params = self._query_params(union_default_graph, default_graph, named_graphs)
        if self._virtuoso:  # Virtuoso 7 waits forever on a query sent as the request body: send it as a form
            return self._send("POST", self.endpoints.query, what="query", params=params,
                              data={"query": self._dialect(sparql)}, timeout=timeout or self.timeout,
                              headers={"Accept": accept}, stream=stream)
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
        result = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
        if self._virtuoso and [v.value for v in result.variables] == ["__ASK_RETVAL"]:
            # Virtuoso answers ASK as one row holding the integer 1, or no row
            answer = b"true" if any(True for _ in result) else b"false"
            return ox.parse_query_results(b'{"head": {}, "boolean": ' + answer + b"}",
                                          format=ox.QueryResultsFormat.JSON)
        return result

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
        if self._virtuoso:  # Virtuoso finds no graph for GRAPH ?g { }, and lists its own graphs
            rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
            return sorted(g for g in (row["g"].value for row in rows) if g not in _VIRTUOSO_GRAPHS)
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return sorted(row["g"].value for row in rows if isinstance(row["g"], ox.NamedNode))

    def quad_count(self) -> int:
        if self._virtuoso:  # every triple is in a named graph there; the default graph is their union
            rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
            return sum(int(row["n"].value) for row in rows if row["g"].value not in _VIRTUOSO_GRAPHS)
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
        if self._virtuoso:
            self._send("POST", self.endpoints.update, what="update", params=params,
                       data={"update": self._dialect(sparql)})
            return
        self._send("POST", self.endpoints.update, what="update", data=sparql.encode("utf-8"), params=params,
                   headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def commit(self, changes: Changes) -> None:
        # one update request is one transaction in SPARQL 1.1 stores that support transactions (Oxigraph does)
        if changes and self._virtuoso:
            self._commit_in_steps(changes)
        elif changes:
            self.update(changes.as_sparql())

    def _commit_in_steps(self, changes: Changes) -> None:
        """Virtuoso 7 refuses blank nodes in INSERT DATA and updates that compile to more than 10,000 lines of
        SQL, so graphs are written through its Graph Store one request each, then the rule operations: not one
        transaction (see the README's deployment note)."""
        for graph in [*changes.dropped, *changes.replaced]:
            self.update(f"DROP SILENT GRAPH <{graph}>")
        for graphs in (changes.replaced, changes.inserted):
            for graph, triples in graphs.items():
                if triples:
                    self.load(ox.serialize([ox.Triple(*t) for t in triples], format=ox.RdfFormat.N_TRIPLES),
                              "ntriples", graph=graph)
        if changes.operations:
            self.update(Changes(operations=changes.operations).as_sparql())

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

    def bulk_add(self, quads: Iterable[ox.Quad]) -> None:
        buffer = io.BytesIO()
        ox.serialize(quads, buffer, format=ox.RdfFormat.N_QUADS)
        self.import_dataset(io.BytesIO(buffer.getvalue()))

    def export(self, output, format: str = "nquads") -> None:
        fmt = rdf_format(format)
        if fmt not in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            raise StoreError("export keeps named graphs: use nquads or trig")
        if self._virtuoso:  # no Graph Store GET of the whole dataset there: graph by graph
            quads = (ox.Quad(s, p, o, ox.NamedNode(g)) for g in self.named_graphs() for s, p, o in self.graph_triples(g))
            if isinstance(output, (str, Path)):
                ox.serialize(quads, str(output), format=fmt)
            else:
                ox.serialize(quads, output, format=fmt)
            return
        response = self._send("GET", self.endpoints.graph_store, what="export", headers={"Accept": fmt.media_type},
                              stream=True)
        if isinstance(output, (str, Path)):
            with open(output, "wb") as handle:
                shutil.copyfileobj(response.raw, handle)
        else:
            shutil.copyfileobj(response.raw, output)

    def import_dataset(self, data, format: str = "nquads") -> None:
        fmt = rdf_format(format)
        if fmt not in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            raise StoreError("import reads datasets: use nquads or trig")
        if isinstance(data, (str, Path)):
            with open(data, "rb") as handle:
                return self.import_dataset(handle, format)
        if self._virtuoso:  # Virtuoso's Graph Store takes one graph a request
            graphs: dict[str, list[ox.Triple]] = {}
            for quad in ox.parse(data.read() if hasattr(data, "read") else data, format=fmt):
                if isinstance(quad.graph_name, ox.DefaultGraph):
                    raise StoreError("this store keeps every triple in a named graph: the data has default-graph triples")
                graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
            for graph, triples in graphs.items():
                self.load(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), "ntriples", graph=graph)
            return
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
