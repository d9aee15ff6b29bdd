"""The embedded pyoxigraph store, on disk (the default, ``var/store``) or in memory (tests, the private workspace)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from maas_kg.store.base import (Changes, StoreError, StoreLocked, StoreSyntaxError, Term, Triple, boolean_answer,
                                dataset_format,
                                rdf_format, solution_rows)


class OxigraphStore:
    """The embedded pyoxigraph store, on disk (``path``) or in memory (``path=None``)."""

    supports_lateral = True
    atomic_commit = True  # an update request is one RocksDB transaction
    update_dataset_parameters = False
    raw_answers = False

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        self.location = "memory" if path is None else str(path)
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                Path(path).mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as err:
            text = str(err)
            if "lock" in text.lower():
                raise StoreLocked(
                    f"the store at {path} is locked by another process (a running 'maas-kg' command or server): "
                    "stop it, or use another --store") from None
            raise StoreError(f"cannot open the store at {path}: {text}") from None

    # -- reading --------------------------------------------------------------------------------------------------

    def query(self, sparql: str, *, union_default_graph: bool = False, substitutions: dict | None = None,
              default_graph: list[str] | None = None, named_graphs: list[str] | None = None):
        """Run a query; ``substitutions`` bind variables before evaluation (prepared-query style), and
        ``default_graph`` / ``named_graphs`` restrict the dataset the query sees."""
        try:
            return self._store.query(
                sparql, use_default_graph_as_union=union_default_graph and default_graph is None,
                substitutions={ox.Variable(k): v for k, v in (substitutions or {}).items()} or None,
                default_graph=[ox.NamedNode(g) for g in default_graph] if default_graph is not None else None,
                named_graphs=[ox.NamedNode(g) for g in named_graphs] if named_graphs is not None else None)
        except SyntaxError as err:
            raise StoreSyntaxError(f"SPARQL syntax error: {err}") from None

    def select(self, sparql: str, *, union_default_graph: bool = False) -> list[dict[str, Term | None]]:
        return solution_rows(self.query(sparql, union_default_graph=union_default_graph))

    def ask(self, sparql: str, *, union_default_graph: bool = False) -> bool:
        return boolean_answer(self.query(sparql, union_default_graph=union_default_graph))

    def graph_triples(self, graph: str) -> list[Triple]:
        return [(q.subject, q.predicate, q.object)
                for q in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def quad_count(self) -> int:
        return len(self._store)

    # -- writing --------------------------------------------------------------------------------------------------

    def update(self, sparql: str) -> None:
        try:
            self._store.update(sparql)
        except SyntaxError as err:
            raise StoreSyntaxError(f"SPARQL update syntax error: {err}") from None
        except OSError as err:
            raise StoreError(f"update failed, nothing was written: {err}") from None

    def commit(self, changes: Changes) -> None:
        if changes:
            self.update(changes.as_sparql())

    def load(self, data, format: str, *, graph: str | None = None) -> None:
        target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
        try:
            self._store.load(data, format=rdf_format(format), to_graph=target)
        except SyntaxError as err:
            raise StoreError(f"cannot parse the {format} data: {err}") from None

    def bulk_load(self, data, format: str, *, graph: str | None = None) -> None:
        """Fast, non-transactional load for large files (for an empty store or benchmarks)."""
        target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
        source = str(data) if isinstance(data, Path) else data
        kwargs = {"path": source} if isinstance(source, str) and os.path.exists(source) else {"input": source}
        try:
            self._store.bulk_load(format=rdf_format(format), to_graph=target, **kwargs)
        except SyntaxError as err:
            raise StoreError(f"cannot parse the {format} data: {err}") from None

    def export(self, output, format: str = "nquads") -> None:
        fmt = dataset_format(format, "export keeps named graphs")
        self._store.dump(str(output) if isinstance(output, Path) else output, format=fmt)

    def import_dataset(self, data, format: str = "nquads") -> None:
        fmt = dataset_format(format, "import reads datasets")
        source = str(data) if isinstance(data, Path) else data
        try:
            if isinstance(source, str):
                self._store.load(path=source, format=fmt)
            else:
                self._store.load(source, format=fmt)
        except SyntaxError as err:
            raise StoreError(f"cannot parse the {format} file: {err}") from None

    def quads(self) -> Iterator[ox.Quad]:
        return iter(self._store)

    def flush(self) -> None:
        if self.location != "memory":
            self._store.flush()

    def close(self) -> None:
        self.flush()
        del self._store
