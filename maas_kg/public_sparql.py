"""What the public SPARQL endpoint may run, and its answers in the media type a client asks for.

The HTTP layer (``api/sparql.py``) speaks the SPARQL 1.1 Protocol; this module decides: it finds the query form,
refuses ``SERVICE`` and ``LOAD`` targets that are not on the allow-list (nothing may reach the network otherwise),
caps the number of results and stops at a deadline, and serialises with pyoxigraph. The catalogue store holds only
public data (ontology, published services, catalogue records); customers' products never enter it
(``maas_kg.workspace``), so the endpoint can query the whole store.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from maas_kg.store import Store, StoreError

# media types of the answers, by query form; the first is the default
RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/json": ox.QueryResultsFormat.JSON,
}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/json": ox.RdfFormat.JSON_LD,
}

# IRIs, strings and comments are skipped so that a keyword inside them is not mistaken for one
_TOKENS = re.compile(r'''
    (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<comment>\#[^\n]*)
  | (?P<var>[?$][A-Za-z0-9_]+)
  | (?P<pname>[A-Za-z][\w.-]*?:[\w.:%-]*|:[\w.:%-]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>\S)
''', re.VERBOSE)


class QueryRefused(ValueError):
    """The query or update may not run here (HTTP 403): the message says why."""


class QueryMalformed(ValueError):
    """The request is not a SPARQL query this endpoint can answer (HTTP 400)."""


class QueryTimeout(RuntimeError):
    """The query did not finish within the time limit (HTTP 503)."""


@dataclass
class Answer:
    body: bytes
    media_type: str
    truncated: bool = False


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group()) for m in _TOKENS.finditer(text) if m.lastgroup not in ("comment", "string")]


def _prefixes(tokens: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for i, (kind, value) in enumerate(tokens[:-2]):
        if kind == "word" and value.upper() == "PREFIX" and tokens[i + 2][0] == "iri":
            found[tokens[i + 1][1]] = tokens[i + 2][1][1:-1]
    return found


def _targets(tokens: list[tuple[str, str]], keyword: str) -> list[str | None]:
    """The IRIs following each ``keyword`` (after SILENT); None where the target is a variable or unreadable."""
    prefixes = _prefixes(tokens)
    found: list[str | None] = []
    for i, (kind, value) in enumerate(tokens):
        if kind != "word" or value.upper() != keyword:
            continue
        j = i + 1
        if j < len(tokens) and tokens[j][0] == "word" and tokens[j][1].upper() == "SILENT":
            j += 1
        if j >= len(tokens):
            found.append(None)
            continue
        target_kind, target = tokens[j]
        if target_kind == "iri":
            found.append(target[1:-1])
        elif target_kind == "pname" and target.split(":", 1)[0] + ":" in prefixes:
            prefix, local = target.split(":", 1)
            found.append(prefixes[prefix + ":"] + local)
        else:
            found.append(None)
    return found


def _allowed(iri: str | None, allow_list: Iterable[str]) -> bool:
    return iri is not None and any(iri == allowed or iri.startswith(allowed.rstrip("/") + "/")
                                   for allowed in allow_list)


def check_remote_access(text: str, allow_list: Iterable[str] = (), *, keywords: tuple[str, ...] = ("SERVICE",)) -> None:
    """Refuse ``SERVICE`` (and, for updates, ``LOAD``) unless the target IRI is on ``allow_list``."""
    allow_list = tuple(allow_list)
    tokens = _tokens(text)
    for keyword in keywords:
        for target in _targets(tokens, keyword):
            if not _allowed(target, allow_list):
                shown = f"<{target}>" if target else "a variable target"
                raise QueryRefused(f"{keyword} {shown} is not allowed: this endpoint reaches no remote store unless "
                                   "its administrator puts it on the allow-list (SPARQL_REMOTE_ALLOW_LIST)")


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE; raises ``QueryMalformed`` for anything else (an update, say)."""
    for kind, value in _tokens(text):
        if kind == "word" and value.upper() in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            return value.upper()
        if kind == "word" and value.upper() in ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD",
                                                 "MOVE", "COPY", "WITH"):
            raise QueryRefused("this endpoint is read-only: updates go to the administrators' /sparql/update")
    raise QueryMalformed("not a SPARQL query: it needs SELECT, ASK, CONSTRUCT or DESCRIBE")


def media_types(form: str) -> list[str]:
    """The media types a query of ``form`` can be answered in, the default first."""
    return list(RESULT_TYPES) if form in ("SELECT", "ASK") else list(GRAPH_TYPES)


def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        entry = {"type": "literal", "value": term.value}
        if term.language:
            entry["xml:lang"] = term.language
        elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            entry["datatype"] = term.datatype.value
        return entry
    return {"type": "triple", "value": {"subject": _json_term(term.subject), "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def answer(store: Store, text: str, media_type: str, *, limit: int, timeout: float,
           allow_list: Iterable[str] = ()) -> Answer:
    """Run a read-only query over the whole catalogue store and serialise at most ``limit`` results."""
    form = query_form(text)
    check_remote_access(text, allow_list)
    if media_type not in media_types(form):
        raise QueryMalformed(f"a {form} query cannot be answered as {media_type}")
    deadline = time.monotonic() + timeout
    if _remote(store):
        return _remote_answer(store, text, form, media_type, limit=limit, timeout=timeout)
    try:
        result = store.query(text, union_default_graph=True)
    except SyntaxError as err:
        raise QueryMalformed(f"SPARQL syntax error: {err}") from None
    except StoreError as err:
        if "syntax" in str(err).lower() or "parse" in str(err).lower():
            raise QueryMalformed(str(err)) from None
        raise
    if isinstance(result, ox.QueryBoolean):
        return Answer(result.serialize(format=RESULT_TYPES[media_type]), media_type)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows, truncated = _bounded(result, limit, deadline, timeout)
        bindings = [{n: _json_term(row[n]) for n in names if row[n] is not None} for row in rows]
        document = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}).encode("utf-8")
        fmt = RESULT_TYPES[media_type]
        if fmt == ox.QueryResultsFormat.JSON:
            return Answer(document, media_type, truncated)
        parsed = ox.parse_query_results(document, format=ox.QueryResultsFormat.JSON)
        return Answer(parsed.serialize(format=fmt), media_type, truncated)
    triples, truncated = _bounded(result, limit, deadline, timeout)
    output = io.BytesIO()
    ox.serialize(triples, output, format=GRAPH_TYPES[media_type])
    return Answer(output.getvalue(), media_type, truncated)


def _remote_answer(store, text: str, form: str, media_type: str, *, limit: int, timeout: float) -> Answer:
    """The answer of a remote store, passed on as the store sent it where it can be: no row is turned into Python
    objects unless the answer must be cut at ``limit`` or converted (the store enforces ``timeout`` itself)."""
    graph_query = form in ("CONSTRUCT", "DESCRIBE")
    wire = "application/n-triples" if graph_query else "application/sparql-results+json"
    try:
        body = store.raw_query(text, wire, union_default_graph=True, timeout=timeout).content
    except StoreError as err:
        if "syntax" in str(err).lower() or "parse" in str(err).lower():
            raise QueryMalformed(str(err)) from None
        raise
    truncated = False
    if graph_query:
        lines = body.splitlines(keepends=True)  # N-Triples: one triple a line
        if len(lines) > limit:
            body, truncated = b"".join(lines[:limit]), True
        if media_type == wire:
            return Answer(body, media_type, truncated)
        output = io.BytesIO()
        ox.serialize(ox.parse(body, format=ox.RdfFormat.N_TRIPLES), output, format=GRAPH_TYPES[media_type])
        return Answer(output.getvalue(), media_type, truncated)
    document = json.loads(body)
    bindings = document.get("results", {}).get("bindings")
    if bindings is not None and len(bindings) > limit:
        document["results"]["bindings"], truncated = bindings[:limit], True
        body = json.dumps(document).encode("utf-8")
    fmt = RESULT_TYPES[media_type]
    if fmt == ox.QueryResultsFormat.JSON:
        return Answer(body, media_type, truncated)
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    return Answer(parsed.serialize(format=fmt), media_type, truncated)


def _bounded(results, limit: int, deadline: float, timeout: float) -> tuple[list, bool]:
    """At most ``limit`` results, and whether there were more; ``QueryTimeout`` once past the deadline."""
    taken = []
    for item in results:
        if len(taken) == limit:
            return taken, True
        if time.monotonic() > deadline:
            raise QueryTimeout(f"the query did not finish within {timeout:g} s")
        taken.append(item)
    return taken, False


def _remote(store: Store) -> bool:
    return hasattr(store, "raw_query")


def check_update(text: str, allow_list: Iterable[str] = ()) -> None:
    """Refuse ``LOAD`` and ``SERVICE`` targets not on the allow-list in an administrator's update."""
    check_remote_access(text, allow_list, keywords=("SERVICE", "LOAD"))
