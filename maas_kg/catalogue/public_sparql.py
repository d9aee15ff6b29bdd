"""What the public SPARQL endpoint may run, and its answers in the media type a client asks for.

The HTTP layer (``api/sparql.py``) speaks the SPARQL 1.1 Protocol; this module decides: it parses every query and
update with rdflib's SPARQL parser (what it cannot parse is refused, never passed on), takes the query form from the
parse, refuses ``SERVICE`` and ``LOAD`` targets that are not on the allow-list (nothing may reach the network
otherwise; the store server has no network either, see ``maas_kg.serving``), caps the number of results, reads remote
answers as a stream, stops at a deadline, and serialises with pyoxigraph. The catalogue store holds only
public data (ontology, published services, catalogue records); customers' products never enter it
(``maas_kg.matching.workspace``), so the endpoint can query the whole store.
"""

from __future__ import annotations

import io
import re
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
import requests
import urllib3
from pyparsing import ParseException
from rdflib import URIRef
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate, traverse
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from maas_kg import media_types
from maas_kg.errors import InvalidInput, MaasKgError, Unavailable
from maas_kg.store import Store, StoreSyntaxError

# Longest query or update text checked. rdflib's parser is pure Python; measured on this machine (2 shared cores):
# a typical 1.4 KB query (queries/examples/five-axis-milling-near-munich.rq) parses and translates in 50-90 ms,
# 100 KB of VALUES in 1.7 s, but a FILTER of 1,000 "||" terms (12 KB) takes 3.3-4.4 s, so the worst 100 KB costs
# about 30 s of one thread. The parse runs inside the endpoint's concurrency slot (api/sparql.py), so that cost is
# bounded per client and per worker.
MAX_QUERY_CHARACTERS = 100_000

_QUERY_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
                "DescribeQuery": "DESCRIBE"}


class QueryRefused(MaasKgError):
    """The query or update may not run here (HTTP 403): the message says why."""

    status, title = 403, "Refused"


class QueryMalformed(InvalidInput):
    """The request is not a SPARQL query this endpoint can answer (HTTP 400)."""

    title = "Malformed query"


class QueryTooLarge(QueryMalformed):
    """The query or update text is longer than this endpoint checks (HTTP 413)."""

    status, title = 413, "Query too large"


class QueryTimeout(Unavailable):
    """The query did not finish within the time limit (HTTP 503)."""

    title = "Query timeout"


@dataclass
class Answer:
    body: bytes
    media_type: str
    truncated: bool = False


@dataclass(frozen=True)
class Operation:
    """A query or update as rdflib's parser reads it. ``text`` is exactly what goes to the store: the client's
    text with line ends made plain and the public base in front."""

    text: str
    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE or UPDATE
    #: SERVICE targets (None where the target is a variable) and LOAD sources, after prefixes and BASE
    services: tuple[str | None, ...] = ()
    loads: tuple[str, ...] = ()
    #: USING, USING NAMED and WITH in an update (the protocol's using-graph-uri parameters may not be combined)
    dataset_clauses: tuple[str, ...] = ()
    #: lines in front of the client's text (the public base), taken off the line numbers of the store's errors
    added_lines: int = 0

    def store_error(self, err: object) -> QueryMalformed:
        """The store's syntax error with the line numbers of the client's text."""
        message = _STORE_POSITION.sub(lambda m: f"error at {max(1, int(m[1]) - self.added_lines)}:{m[2]}", str(err))
        return QueryMalformed(message)


_STORE_POSITION = re.compile(r"error at (\d+):(\d+)")


def _sent_text(text: str, base: str | None) -> str:
    """The text both rdflib and the store read. Oxigraph ends a # comment at a carriage return, rdflib only at a line
    feed: ``# x<CR>SERVICE <...>`` would be a comment to the checker and an operation to the store. So every CR (and
    CRLF) becomes LF; a raw CR inside a long string literal becomes LF too (write the escape \\r for a CR). The
    public base comes first on a line of its own; a BASE of the client's, later in the prologue, still wins."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return f"BASE <{base}>\n{text}" if base else text


def _checked_length(text: str, max_characters: int) -> None:
    if len(text) > max_characters:
        raise QueryTooLarge(f"the text has {len(text):,} characters; this endpoint checks at most "
                            f"{max_characters:,}: split it, or load bulk data through the Graph Store (/graph-store)")


def _syntax_error(err: ParseException, text: str, base: str | None) -> QueryMalformed:
    line = err.lineno - (1 if base else 0)
    return QueryMalformed(f"SPARQL syntax error at line {line}, column {err.col}: {err.msg}, found {err.found}")


def _too_deep() -> QueryMalformed:
    return QueryMalformed("the text nests too deeply for this endpoint's checker (rdflib stops at about 40 nested "
                          "groups, or about 90 triple patterns in one group): flatten it, or split long groups "
                          "with { } into several")


def _targets(algebra) -> tuple[tuple[str | None, ...], tuple[str, ...]]:
    """Every SERVICE target and LOAD source anywhere in a translated query or update (EXISTS, subqueries, WHERE)."""
    services: list[str | None] = []
    loads: list[str] = []

    def visit(node):
        if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
            services.append(str(node.term) if isinstance(node.term, URIRef) else None)
        elif isinstance(node, CompValue) and node.name == "Load":
            loads.append(str(node.iri))

    traverse(algebra, visitPre=visit)
    return tuple(services), tuple(loads)


@lru_cache(maxsize=32)  # the web page and the endpoint ask for the form first, then answer the same text
def _parsed_query(sent: str, base: str | None) -> Operation:
    try:
        query = translateQuery(parseQuery(sent))
    except ParseException as err:
        if _is_update(sent):
            raise QueryRefused("this endpoint is read-only: updates go to the administrators' /sparql/update") \
                from None
        raise _syntax_error(err, sent, base) from None
    except RecursionError:
        raise _too_deep() from None
    except Exception as err:  # rdflib's translation raises plain exceptions for queries it cannot read: fail closed
        raise QueryMalformed(f"the query cannot be checked: {err}") from None
    services, _ = _targets(query.algebra)
    return Operation(sent, _QUERY_FORMS.get(query.algebra.name, query.algebra.name), services,
                     added_lines=1 if base else 0)


def _is_update(sent: str) -> bool:
    try:
        parseUpdate(sent)
    except (ParseException, RecursionError):
        return False
    return True


def parse_query(text: str, *, base: str | None = None,
                max_characters: int = MAX_QUERY_CHARACTERS) -> Operation:
    """The query as the store will run it; ``QueryMalformed`` for anything rdflib cannot parse (fail closed),
    ``QueryRefused`` for an update, ``QueryTooLarge`` past ``max_characters``."""
    _checked_length(text, max_characters)
    return _parsed_query(_sent_text(text, base), base)


def parse_update(text: str, *, base: str | None = None, max_characters: int = MAX_QUERY_CHARACTERS) -> Operation:
    """The update as the store will run it (see ``parse_query``)."""
    _checked_length(text, max_characters)
    sent = _sent_text(text, base)
    try:
        update = translateUpdate(parseUpdate(sent))
    except ParseException as err:
        raise _syntax_error(err, sent, base) from None
    except RecursionError:
        raise _too_deep() from None
    except Exception as err:
        raise QueryMalformed(f"the update cannot be checked: {err}") from None
    services, loads = _targets(update.algebra)
    clauses = []
    for operation in update.algebra:  # (a CompValue answers None for a member it lacks; its get() does not)
        if operation.withClause is not None:
            clauses.append("WITH")
        for using in operation.using or ():
            clauses.append("USING NAMED" if using.named is not None else "USING")
    return Operation(sent, "UPDATE", services, loads, tuple(clauses), added_lines=1 if base else 0)


def _allowed(iri: str | None, allow_list: Iterable[str]) -> bool:
    return iri is not None and any(iri == allowed or iri.startswith(allowed.rstrip("/") + "/")
                                   for allowed in allow_list)


def refuse_remote_access(operation: Operation, allow_list: Iterable[str] = ()) -> None:
    """Refuse SERVICE and LOAD unless the target IRI is on ``allow_list`` (a variable target never is)."""
    allow_list = tuple(allow_list)
    for keyword, targets in (("SERVICE", operation.services), ("LOAD", operation.loads)):
        for target in targets:
            if not _allowed(target, allow_list):
                shown = f"<{target}>" if target else "a variable target"
                raise QueryRefused(f"{keyword} {shown} is not allowed: this endpoint reaches no remote store unless "
                                   "its administrator puts it on the allow-list (MAAS_KG_SPARQL_ALLOW)")


def check_remote_access(text: str, allow_list: Iterable[str] = ()) -> None:
    """Refuse a query whose SERVICE targets are not on ``allow_list`` (or which rdflib cannot parse)."""
    refuse_remote_access(parse_query(text), allow_list)


def check_update(text: str, allow_list: Iterable[str] = ()) -> None:
    """Refuse ``LOAD`` and ``SERVICE`` targets not on the allow-list in an administrator's update."""
    refuse_remote_access(parse_update(text), allow_list)


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE; ``QueryRefused`` for an update, ``QueryMalformed`` for anything else."""
    return parse_query(text).form


def answer_syntaxes(form: str) -> dict[str, media_types.Syntax]:
    """What a query of ``form`` can be answered in, by media type, the default first."""
    return media_types.answer_syntaxes(graph=form in ("CONSTRUCT", "DESCRIBE"))


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


def answer(store: Store, query: str | Operation, media_type: str, *, limit: int, timeout: float,
           allow_list: Iterable[str] = (), default_graph: list[str] | None = None,
           named_graphs: list[str] | None = None) -> Answer:
    """Run a read-only query over the whole catalogue store (or over the dataset ``default_graph`` /
    ``named_graphs`` name, which overrides FROM and FROM NAMED) and serialise at most ``limit`` results."""
    operation = parse_query(query) if isinstance(query, str) else query
    refuse_remote_access(operation, allow_list)
    if media_type not in answer_syntaxes(operation.form):
        raise QueryMalformed(f"a {operation.form} query cannot be answered as {media_type}")
    if named_graphs and default_graph is None:
        default_graph = []  # the protocol: named graphs alone make a dataset with an empty default graph
    deadline = time.monotonic() + timeout
    if store.raw_answers:
        return _remote_answer(store, operation, media_type, limit=limit, timeout=timeout, deadline=deadline,
                              default_graph=default_graph, named_graphs=named_graphs)
    try:
        result = store.query(operation.text, union_default_graph=True, default_graph=default_graph,
                             named_graphs=named_graphs)
    except SyntaxError as err:
        raise operation.store_error(f"SPARQL syntax error: {err}") from None
    except StoreSyntaxError as err:
        raise operation.store_error(err) from None
    return _serialised(result, media_type, limit=limit, deadline=deadline, timeout=timeout)


def _serialised(result, media_type: str, *, limit: int, deadline: float, timeout: float) -> Answer:
    """At most ``limit`` results of a pyoxigraph answer (from the store or parsed from a stream) in ``media_type``."""
    if isinstance(result, ox.QueryBoolean):
        return Answer(result.serialize(format=media_types.answer_syntaxes(graph=False)[media_type].oxigraph), media_type)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows, truncated = _bounded(result, limit, deadline, timeout)
        bindings = [{n: _json_term(row[n]) for n in names if row[n] is not None} for row in rows]
        document = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}).encode("utf-8")
        fmt = media_types.answer_syntaxes(graph=False)[media_type].oxigraph
        if fmt == ox.QueryResultsFormat.JSON:
            return Answer(document, media_type, truncated)
        parsed = ox.parse_query_results(document, format=ox.QueryResultsFormat.JSON)
        return Answer(parsed.serialize(format=fmt), media_type, truncated)
    triples, truncated = _bounded(result, limit, deadline, timeout)
    output = io.BytesIO()
    ox.serialize(triples, output, format=media_types.answer_syntaxes(graph=True)[media_type].oxigraph)
    return Answer(output.getvalue(), media_type, truncated)


# what reading a cut or stalled answer stream raises: the store's timeout ends the chunked body mid-document
_BROKEN_STREAM = (SyntaxError, OSError, ValueError, requests.RequestException, urllib3.exceptions.HTTPError)


def _remote_answer(store, operation: Operation, media_type: str, *, limit: int, timeout: float, deadline: float,
                   default_graph: list[str] | None, named_graphs: list[str] | None) -> Answer:
    """The answer of a remote store, read as a stream and parsed as it arrives: at most ``limit`` + 1 results are
    ever held, then the connection is closed (the store stops), so memory is bounded by the limit, not the answer.
    A stream the store cuts (its timeout) or that outlasts ``timeout`` is ``QueryTimeout``, never a half answer."""
    graph_query = operation.form in ("CONSTRUCT", "DESCRIBE")
    wire = "application/n-triples" if graph_query else "application/sparql-results+json"
    try:
        response = store.raw_query(operation.text, wire, union_default_graph=default_graph is None,
                                   default_graph=default_graph, named_graphs=named_graphs, timeout=timeout,
                                   stream=True)
    except StoreSyntaxError as err:
        raise operation.store_error(err) from None
    try:
        response.raw.decode_content = True
        if graph_query:
            result = (quad.triple for quad in ox.parse(response.raw, format=ox.RdfFormat.N_TRIPLES))
        else:
            result = ox.parse_query_results(response.raw, format=ox.QueryResultsFormat.JSON)
        return _serialised(result, media_type, limit=limit, deadline=deadline, timeout=timeout)
    except _BROKEN_STREAM:
        raise QueryTimeout(f"the query did not finish within {timeout:g} s (the store stopped its answer): narrow the "
                           "query or add a LIMIT") from None
    finally:
        response.close()


def _bounded(results, limit: int, deadline: float, timeout: float) -> tuple[list, bool]:
    """At most ``limit`` results, and whether there were more; ``QueryTimeout`` once past the deadline."""
    taken = []
    for item in results:
        if len(taken) == limit:
            return taken, True
        if time.monotonic() > deadline:
            raise QueryTimeout(f"the query did not finish within {timeout:g} s: narrow the query or add a LIMIT")
        taken.append(item)
    return taken, False
