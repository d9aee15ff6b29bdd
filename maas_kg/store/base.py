"""What every store backend offers (the ``Store`` protocol with its capability flags), the ``Changes`` of one
atomic write, the store errors, and the small conversions the backends share. Imports nothing of maas_kg."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from dataclasses import dataclass, field
from typing import IO, Protocol

import pyoxigraph as ox

from maas_kg import media_types
from maas_kg.errors import MaasKgError

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]

_PREFIX_LINE = re.compile(r"^\s*PREFIX\s+([A-Za-z0-9_.-]*:)", re.IGNORECASE)



class StoreError(MaasKgError, RuntimeError):
    """A store could not be opened or could not carry out an operation; the message says what to do."""

    title = "Store error"


class StoreLocked(StoreError):
    """Another process holds the on-disk store open for writing."""


class StoreSyntaxError(StoreError):
    """The store could not parse a query or update (the backends raise it for their engine's syntax errors)."""

    status, title = 400, "Malformed query"


class StoreUnavailable(StoreError):
    """A remote store did not answer (down, unreachable or too slow)."""

    status, title, retry_after = 503, "Store unavailable", 5
    public_detail = "the catalogue store does not answer right now (the operator's log says why): try again in a few seconds"


class StoreRefused(StoreError):
    """A remote store answered with an error status (kept in ``status``)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def rdf_format(name: str) -> ox.RdfFormat:
    """The pyoxigraph format for a name, media type or file extension (``trig``, ``nq``, ``.ttl``, ...)."""
    syntax = media_types.rdf_syntax(name) or media_types.rdf_syntax("." + name.lstrip("."))
    if syntax is None:
        names = ", ".join(s.name for s in media_types.RDF_SYNTAXES)
        raise StoreError(f"unknown RDF format {name!r}: use one of {names}")
    return syntax.oxigraph


def dataset_format(name: str, action: str) -> ox.RdfFormat:
    """The format of a whole dataset (named graphs kept) for ``action``: N-Quads or TriG."""
    fmt = rdf_format(name)
    if fmt not in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        raise StoreError(f"{action}: use nquads or trig")
    return fmt


def solution_rows(result) -> list[dict[str, Term | None]]:
    """The rows of a SELECT result as dicts (every backend's ``select``)."""
    if not isinstance(result, ox.QuerySolutions):
        raise StoreError("select() needs a SELECT query")
    names = [v.value for v in result.variables]
    # a solution iterates its values in variable order: 4x faster than looking each up by name
    return [dict(zip(names, row)) for row in result]


def boolean_answer(result) -> bool:
    """The answer of an ASK query (every backend's ``ask``)."""
    if not isinstance(result, ox.QueryBoolean):
        raise StoreError("ask() needs an ASK query")
    return bool(result)


@dataclass
class Changes:
    """A set of writes to apply atomically: graphs replaced or dropped, then extra SPARQL update operations."""

    replaced: dict[str, list[Triple]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    inserted: dict[str, list[Triple]] = field(default_factory=dict)

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> None:
        self.replaced[graph] = list(triples)

    def insert(self, graph: str, triples: Iterable[Triple]) -> None:
        """Add triples to a graph, keeping what it holds."""
        self.inserted.setdefault(graph, []).extend(triples)

    def drop_graph(self, graph: str) -> None:
        self.dropped.append(graph)

    def update(self, operation: str) -> None:
        """Add one SPARQL Update operation (with its own PREFIX lines if it needs them)."""
        self.operations.append(operation)

    def __bool__(self) -> bool:
        return bool(self.replaced or self.dropped or self.operations or self.inserted)

    def as_sparql(self) -> str:
        """One SPARQL Update request. PREFIX lines of the operations are hoisted to the front, because some
        engines (Oxigraph among them) do not accept a prologue after ';'."""
        prologue: dict[str, str] = {}
        operations = []
        for operation in self.operations:
            body = []
            for line in operation.splitlines():
                match = _PREFIX_LINE.match(line)
                if match and not body:
                    name = match.group(1)
                    if prologue.setdefault(name, line.strip()) != line.strip():
                        raise StoreError(f"conflicting PREFIX {name}: in one update request")
                elif body or (line.strip() and not line.lstrip().startswith("#")):
                    body.append(line)
            operations.append("\n".join(body))
        parts = [f"DROP SILENT GRAPH <{g}>" for g in [*self.dropped, *self.replaced]]
        for graphs in (self.replaced, self.inserted):
            parts += [f"INSERT DATA {{ GRAPH <{graph}> {{\n" + "\n".join(f"{s} {p} {o} ." for s, p, o in triples)
                      + "\n} }" for graph, triples in graphs.items() if triples]
        parts.extend(operations)
        return "\n".join(prologue.values()) + "\n" + " ;\n".join(parts)


class Store(Protocol):
    """What every backend offers. Queries run in the backend's own SPARQL engine.

    Capabilities, as class attributes: ``supports_lateral`` (the engine runs LATERAL, so the rules go to it as
    written; otherwise ``dialects.without_lateral`` rewrites them), ``atomic_commit`` (``commit`` is one
    transaction), ``raw_answers`` (``raw_query`` hands over the store's own serialised answer, which the public
    endpoint reads as a stream), ``update_dataset_parameters`` (``update`` takes the protocol's using-graph-uri /
    using-named-graph-uri as ``using_graphs`` / ``using_named_graphs``)."""

    location: str
    supports_lateral: bool
    atomic_commit: bool
    raw_answers: bool
    update_dataset_parameters: bool

    def query(self, sparql: str, *, union_default_graph: bool = False, substitutions: dict | None = None,
              default_graph: list[str] | None = None,
              named_graphs: list[str] | None = None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples: ...
    def select(self, sparql: str, *, union_default_graph: bool = False) -> list[dict[str, Term | None]]: ...
    def ask(self, sparql: str, *, union_default_graph: bool = False) -> bool: ...
    def update(self, sparql: str) -> None: ...
    def commit(self, changes: Changes) -> None: ...
    def graph_triples(self, graph: str) -> list[Triple]: ...
    def named_graphs(self) -> list[str]: ...
    def load(self, data: bytes | str | IO[bytes], format: str, *, graph: str | None = None) -> None: ...
    def bulk_load(self, data: bytes | str | IO[bytes] | Path, format: str, *, graph: str | None = None) -> None: ...
    def export(self, output: IO[bytes] | Path, format: str = "nquads") -> None: ...
    def import_dataset(self, data: IO[bytes] | Path, format: str = "nquads") -> None: ...
    def quad_count(self) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
