"""The SPARQL rule files of ``queries/`` and how callers bind their parameters.

Parameters are bound by replacing a placeholder line (``#PRODUCT#``) with a VALUES block, which every SPARQL 1.1
store understands, embedded or remote.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable, Sequence

import pyoxigraph as ox

from maas_kg import knowledge

RULES_BASE = "https://w3id.org/maas-kg/queries/"


@functools.cache
def rule_text(path: str) -> str:
    """The text of ``queries/<path>``, for example ``translation/primary-processes.rq``."""
    return (knowledge.queries_dir() / path).read_text(encoding="utf-8")


def rule_iri(path: str) -> str:
    """The IRI that provenance records use for a rule file."""
    return RULES_BASE + path


def sparql_term(value: object) -> str:
    """A Python value or pyoxigraph term as SPARQL text; None is UNDEF, a str is an IRI."""
    if value is None:
        return "UNDEF"
    if isinstance(value, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if "e" in repr(value) else f"{value!r}e0"
    if isinstance(value, datetime.date):
        return f'"{value.isoformat()}"^^<http://www.w3.org/2001/XMLSchema#date>'
    if isinstance(value, str):
        return str(ox.NamedNode(value))
    raise TypeError(f"cannot write {value!r} as a SPARQL term")


def values(variables: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = " ".join(f"?{v}" for v in variables)
    body = " ".join("(" + " ".join(sparql_term(v) for v in row) + ")" for row in rows)
    return f"VALUES ({head}) {{ {body} }}"


def page(limit: int | None, offset: int = 0, *, order: Sequence[str] = ()) -> str:
    """The PAGE block of a rule that lists in a stable order: ``ORDER BY`` the ``order`` variables, then
    ``LIMIT``/``OFFSET`` of whole numbers (every row when ``limit`` is None)."""
    if any(not name.isidentifier() for name in order):
        raise ValueError(f"order by variable names, not {list(order)!r}")
    if int(offset) < 0 or (limit is not None and int(limit) < 0):
        raise ValueError("a page needs a limit and an offset >= 0")
    sort = "ORDER BY " + " ".join(f"?{name}" for name in order) if order else ""
    return sort + (f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else "")


def subquery(query: str) -> str:
    """A SELECT rule without its comment header and PREFIX lines, to bind into another rule as a nested subquery
    (the enclosing rule declares the same prefixes)."""
    return query[re.search(r"^SELECT\b", query, re.MULTILINE).start():]


def select(store, path: str, **blocks: str) -> list[dict]:
    """Run the SELECT rule ``queries/<path>`` in ``store`` (union of all graphs as default graph), its
    placeholders replaced by ``blocks``."""
    return store.select(bind(rule_text(path), **blocks), union_default_graph=True)


def bind(query: str, **blocks: str) -> str:
    """Replace each ``#NAME#`` placeholder line with its block."""
    for name, block in blocks.items():
        placeholder = f"#{name}#"
        if placeholder not in query:
            raise KeyError(f"the rule has no {placeholder} line")
        query = query.replace(placeholder, block)
    return query
