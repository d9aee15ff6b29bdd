"""Virtuoso 7 as a remote store (``virtuoso+http://host:8890``): what differs from the SPARQL 1.1 protocols as
Oxigraph server speaks them. Tested against Debian's 7.2.5; what does not work there yet is in the README."""

from __future__ import annotations

import pyoxigraph as ox

from maas_kg.store.base import Changes, StoreError, dataset_format
from maas_kg.store.dialects import without_lateral
from maas_kg.store.remote import Endpoints, SparqlHttpStore

# graphs a Virtuoso server holds for itself: not part of the knowledge graph, so not listed, counted or exported
_OWN_GRAPHS = ("http://www.openlinksw.com/schemas/virtrdf#", "http://www.w3.org/ns/ldp#",
               "http://localuriqaserver/sparql", "http://www.w3.org/2002/07/owl#")


class VirtuosoStore(SparqlHttpStore):
    """Queries and updates go to ``/sparql`` as forms (Virtuoso 7 waits forever on a query sent as the body), the
    Graph Store Protocol to ``/sparql-graph-crud`` (the server's ``SPARQL`` user needs the ``SPARQL_UPDATE`` role);
    rules go in their SPARQL 1.1 form (no LATERAL there); its default graph is the union of all graphs already."""

    supports_lateral = False
    atomic_commit = False  # see commit
    union_parameters = ()

    @classmethod
    def endpoints_under(cls, base: str) -> Endpoints:
        base = base.removeprefix("virtuoso+").rstrip("/")
        return Endpoints(f"{base}/sparql", f"{base}/sparql", f"{base}/sparql-graph-crud")

    def raw_query(self, sparql: str, accept: str, *, union_default_graph: bool = False,
                  default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
                  timeout: float | None = None, stream: bool = False):
        params = self._query_params(union_default_graph, default_graph, named_graphs)
        return self._send("POST", self.endpoints.query, what="query", params=params,
                          data={"query": without_lateral(sparql)}, timeout=timeout or self.timeout,
                          headers={"Accept": accept}, stream=stream)

    def query(self, sparql: str, **kwargs):
        result = super().query(sparql, **kwargs)
        if isinstance(result, ox.QuerySolutions) and [v.value for v in result.variables] == ["__ASK_RETVAL"]:
            # Virtuoso answers ASK as one row holding the integer 1, or no row
            answer = b"true" if any(True for _ in result) else b"false"
            return ox.parse_query_results(b'{"head": {}, "boolean": ' + answer + b"}",
                                          format=ox.QueryResultsFormat.JSON)
        return result

    def named_graphs(self) -> list[str]:
        # Virtuoso finds no graph for GRAPH ?g { }, and lists its own graphs
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(g for g in (row["g"].value for row in rows) if g not in _OWN_GRAPHS)

    def quad_count(self) -> int:
        # every triple is in a named graph there; the default graph is their union
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return sum(int(row["n"].value) for row in rows if row["g"].value not in _OWN_GRAPHS)

    def update(self, sparql: str, *, using_graphs: list[str] | None = None,
               using_named_graphs: list[str] | None = None) -> None:
        params = [("using-graph-uri", g) for g in using_graphs or []] + \
            [("using-named-graph-uri", g) for g in using_named_graphs or []]
        self._send("POST", self.endpoints.update, what="update", params=params,
                   data={"update": without_lateral(sparql)})

    def commit(self, changes: Changes) -> None:
        """Virtuoso 7 refuses blank nodes in INSERT DATA and updates that compile to more than 10,000 lines of
        SQL, so graphs are written through its Graph Store one request each, then the rule operations: not one
        transaction (see the README's deployment note)."""
        if not changes:
            return
        for graph in [*changes.dropped, *changes.replaced]:
            self.update(f"DROP SILENT GRAPH <{graph}>")
        for graphs in (changes.replaced, changes.inserted):
            for graph, triples in graphs.items():
                if triples:
                    self.load(ox.serialize([ox.Triple(*t) for t in triples], format=ox.RdfFormat.N_TRIPLES),
                              "ntriples", graph=graph)
        if changes.operations:
            self.update(Changes(operations=changes.operations).as_sparql())

    def export(self, output, format: str = "nquads") -> None:
        fmt = dataset_format(format, "export keeps named graphs")
        # no Graph Store GET of the whole dataset there: graph by graph
        quads = (ox.Quad(s, p, o, ox.NamedNode(g)) for g in self.named_graphs() for s, p, o in self.graph_triples(g))
        ox.serialize(quads, str(output) if not hasattr(output, "write") else output, format=fmt)

    def import_dataset(self, data, format: str = "nquads") -> None:
        fmt = dataset_format(format, "import reads datasets")
        if not hasattr(data, "read") and not isinstance(data, bytes):
            with open(data, "rb") as handle:
                return self.import_dataset(handle, format)
        # Virtuoso's Graph Store takes one graph a request
        graphs: dict[str, list[ox.Triple]] = {}
        for quad in ox.parse(data.read() if hasattr(data, "read") else data, format=fmt):
            if isinstance(quad.graph_name, ox.DefaultGraph):
                raise StoreError("this store keeps every triple in a named graph: the data has default-graph triples")
            graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
        for graph, triples in graphs.items():
            self.load(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), "ntriples", graph=graph)
