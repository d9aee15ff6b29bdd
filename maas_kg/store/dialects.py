"""SPARQL for stores that lack ``LATERAL`` (SPARQL 1.2 draft), such as Virtuoso 7 and GraphDB.

The rules in ``queries/`` use ``LATERAL`` only to make an engine evaluate a block per solution of what precedes
it, never for its meaning: each block joins with the outer solutions on the variables it shares with them and its
filters use only its own variables (``tests/test_dialects.py`` checks every rule file for this). So in SPARQL 1.1,
``LATERAL { OPTIONAL { P } }`` is ``OPTIONAL { P }`` and ``LATERAL { P }`` is the group ``{ P }``, with the same
solutions.
"""

from __future__ import annotations

import re

_LATERAL = re.compile(r"\bLATERAL\s*\{")
_OPTIONAL_ONLY = re.compile(r"^\s*OPTIONAL\s*\{")
_GRAPH = re.compile(r"^\s*GRAPH\s+(\?\w+|<[^>]*>|\w*:\w*)\s*\{")


def _closing_brace(text: str, opening: int) -> int:
    """The index of the ``}`` matching the ``{`` at ``opening``, skipping strings, IRIs and comments."""
    depth, i = 0, opening
    while i < len(text):
        char = text[i]
        if char in "\"'":
            end = text.find(char, i + 1)
            while end != -1 and text[end - 1] == "\\":
                end = text.find(char, end + 1)
            i = end if end != -1 else len(text)
        elif char == "<" and re.match(r"<[^\s<>\"{}|^`\\]*>", text[i:]):
            i = text.index(">", i)
        elif char == "#":
            newline = text.find("\n", i)
            i = newline if newline != -1 else len(text)
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced braces in the query")


def _optionals(block: str) -> list[str] | None:
    """The bodies of ``block`` if it is nothing but ``OPTIONAL { ... }`` groups, else None."""
    bodies, rest = [], block
    while rest.strip():
        match = _OPTIONAL_ONLY.match(rest)
        if not match:
            return None
        closing = _closing_brace(rest, match.end() - 1)
        bodies.append(rest[match.end():closing])
        rest = rest[closing + 1:]
    return bodies or None


def _graph_block(block: str) -> tuple[str, str] | None:
    """(graph term, body) if ``block`` is one ``GRAPH term { body }``, else None."""
    match = _GRAPH.match(block)
    if not match:
        return None
    closing = _closing_brace(block, match.end() - 1)
    return (match.group(1), block[match.end():closing]) if not block[closing + 1:].strip() else None


def without_lateral(query: str) -> str:
    """``query`` in SPARQL 1.1. ``LATERAL { OPTIONAL { P } ... }`` becomes ``OPTIONAL { P } ...``,
    ``LATERAL { GRAPH g { OPTIONAL { P } ... } }`` becomes ``OPTIONAL { GRAPH g { P } } ...``, and any other
    ``LATERAL { P }`` the group ``{ P }``."""
    while match := _LATERAL.search(query):
        opening = match.end() - 1
        closing = _closing_brace(query, opening)
        inner = query[opening + 1:closing]
        graph = _graph_block(inner)
        optionals = _optionals(graph[1]) if graph else _optionals(inner)
        if optionals and graph:
            replacement = " ".join(f"OPTIONAL {{ GRAPH {graph[0]} {{{body}}} }}" for body in optionals)
        elif optionals:
            replacement = " ".join(f"OPTIONAL {{{body}}}" for body in optionals)
        else:
            replacement = "{" + inner + "}"
        query = query[:match.start()] + replacement + query[closing + 1:]
    return query


__all__ = ["without_lateral"]
