"""SPARQL 1.1 Graph Store HTTP Protocol at ``/graph-store``, for store administrators and standard tools. Every
method needs an administrator's key.

A graph is named indirectly (``/graph-store?graph=IRI``, or ``?default`` for the default graph) or directly: the URL
``/graph-store/<path>`` is itself the graph's IRI. ``POST /graph-store`` naming no graph creates one under a fresh
direct IRI (201, ``Location``). PUT replaces a graph, POST merges into it (a ``multipart/form-data`` POST merges every
part), DELETE drops it; an empty PUT leaves an empty graph that exists. Each write is one update request, so one
transaction: a body that does not parse changes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from pathlib import PurePosixPath

import pyoxigraph as ox
from flask import Blueprint, Response, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from api.auth import admin_required
from api.formats import serialise
from api.negotiation import best_response
from api.problems import Problem
from api.state import resources
from maas_kg import media_types
from maas_kg.catalogue import ingest
from maas_kg.media_types import RDF_RESPONSES
from maas_kg.catalogue import change_record
from maas_kg.store import Changes

bp = Blueprint("graph_store", __name__)

# the RDF syntaxes a graph is written in (datasets such as TriG or N-Quads name graphs of their own: not here)
_GRAPH_SYNTAXES = tuple(s for s in media_types.RDF_SYNTAXES if not s.dataset)
# parts of one multipart POST: each costs about 0.12 ms (split, parse, blank nodes renamed; 10,000 one-triple parts
# took 1.25 s), so the 10 MB body limit alone would let ~100,000 tiny parts hold a worker for ~12 s
_MAX_PARTS = 100
# how much of a client's value an error message repeats
_EXCERPT = 80


def _excerpt(value: str) -> str:
    return repr(value if len(value) <= _EXCERPT else value[:_EXCERPT] + "...")


# -- which graph ----------------------------------------------------------------------------------------------------

def _graph_iri(value: str, where: str) -> str:
    """``value`` as an absolute IRI, checked by the store's own IRI parser (never pasted into SPARQL unchecked)."""
    try:
        return ox.NamedNode(value).value
    except ValueError as err:
        raise Problem(400, "Bad graph IRI", f"{where} must be an absolute IRI such as http://example.org/graph "
                      f"({err}): got {_excerpt(value)}") from None


def _names_a_graph() -> bool:
    return "graph" in request.args or "default" in request.args


def _target(path: str | None) -> str | None:
    """The graph a request names: its IRI, or None for the default graph."""
    if path is not None:
        if _names_a_graph():
            raise Problem(400, "Which graph?", "a graph's own URL (/graph-store/...) takes no ?graph or ?default")
        return _graph_iri(request.base_url, "the graph's URL")
    graphs = request.args.getlist("graph")
    if len(graphs) + ("default" in request.args) != 1:
        raise Problem(400, "Which graph?", "give exactly one of ?graph=<IRI> or ?default")
    return _graph_iri(graphs[0], "?graph") if graphs else None


def _sparql_graph(graph: str | None) -> str:
    """The graph as SPARQL Update names it in DROP / CREATE / CLEAR."""
    return "DEFAULT" if graph is None else f"GRAPH {ox.NamedNode(graph)}"


def _exists(graph: str | None) -> bool:
    """Whether the store has the named graph, empty ones included (``GRAPH <g> {}`` matches a graph that was created
    and holds nothing); the default graph always exists."""
    return graph is None or resources().catalogue.ask(f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ }} }}")


def _default_graph_is_empty() -> bool:
    return not resources().catalogue.ask("ASK { ?s ?p ?o }")


def _triples(graph: str | None) -> list:
    store = resources().catalogue
    if graph is not None:
        return store.graph_triples(graph)
    rows = store.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    return [(r["s"], r["p"], r["o"]) for r in rows]


# -- request bodies -------------------------------------------------------------------------------------------------

def _format(media_type: str | None, filename: str | None, what: str) -> media_types.Syntax:
    """The RDF syntax a body or part is in: by its media type, else by its file name's extension."""
    syntax = media_types.rdf_syntax(media_type) if media_type else None
    if syntax is None and filename:
        syntax = media_types.rdf_syntax(PurePosixPath(filename).suffix.lower())
    if syntax not in _GRAPH_SYNTAXES:
        names = ", ".join(s.media_type for s in _GRAPH_SYNTAXES)
        raise Problem(415, "Unsupported media type",
                      f"send {what} as one of {names}, or name its file .ttl, .nt, .rdf or .jsonld "
                      f"(got {_excerpt(media_type or filename or 'no type')})")
    return syntax


def _parsed(data: bytes, syntax: media_types.Syntax, base: str, what: str) -> list[ox.Triple]:
    """The triples of one RDF document; 400 with the parser's message when it is not one."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise Problem(400, "Not UTF-8", f"{what} must be UTF-8 text (byte {err.start} is not)") from None
    try:
        ingest.refuse_unsafe_rdf(data, syntax.name)
    except ingest.InputError as err:
        raise Problem(400, "Refused input", f"{what}: {err}") from None
    try:
        return [q.triple for q in ox.parse(data, format=syntax.oxigraph, base_iri=base)]
    except SyntaxError as err:
        raise Problem(400, "Malformed RDF", f"{what} is not valid {syntax.oxigraph.name}: {err}") from None


def _apart(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples with fresh blank nodes, so that ``_:b`` of one merged document is not ``_:b`` of another (an RDF
    merge keeps their blank nodes apart; the parser keeps labels as written)."""
    fresh: defaultdict[str, ox.BlankNode] = defaultdict(ox.BlankNode)

    def renamed(term):
        return fresh[term.value] if isinstance(term, ox.BlankNode) else term

    return [ox.Triple(renamed(t.subject), t.predicate, renamed(t.object)) for t in triples]


def _multipart_parts(data: bytes) -> list[tuple[Field | File, bytes]]:
    """The parts of a ``multipart/form-data`` body (Werkzeug's multipart parser), each with its headers."""
    boundary = request.mimetype_params.get("boundary")
    if not boundary:
        raise Problem(400, "Malformed multipart body", "the Content-Type multipart/form-data needs a boundary")
    decoder = MultipartDecoder(boundary.encode("utf-8"), max_parts=_MAX_PARTS)
    decoder.receive_data(data)
    decoder.receive_data(None)
    parts: list[tuple[Field | File, bytearray]] = []
    layout = "each part starts with a line '--' + boundary, and a line '--' + boundary + '--' ends the body"
    try:
        while not isinstance(event := decoder.next_event(), Epilogue):
            if isinstance(event, (Field, File)):
                parts.append((event, bytearray()))
            elif isinstance(event, Data) and parts:
                parts[-1][1].extend(event.data)
            elif isinstance(event, NeedData):
                raise Problem(400, "Malformed multipart body", f"the body ends too early: {layout}")
    except RequestEntityTooLarge:
        raise Problem(413, "Too many parts", f"send at most {_MAX_PARTS} parts in one request") from None
    except ValueError as err:
        raise Problem(400, "Malformed multipart body", f"{err}: {layout}") from None
    if not parts:
        raise Problem(400, "Empty multipart body", "the body has no parts: send each RDF document as one part")
    return [(event, bytes(body)) for event, body in parts]


def _request_triples(base: str) -> list[ox.Triple]:
    """The triples a PUT or POST sends: one document, the RDF merge of a multipart body's parts, or none for an
    empty body (whatever its Content-Type: an empty PUT empties the graph)."""
    data = request.get_data()
    if not data:
        return []
    if request.mimetype == "multipart/form-data":
        merged = []
        for part, body in _multipart_parts(data):
            filename = part.filename if isinstance(part, File) else None
            what = f"part {_excerpt(part.name or filename or '')}"
            merged += _apart(_parsed(body, _format(part.headers.get("Content-Type"), filename, what), base, what))
        return merged
    return _parsed(data, _format(request.mimetype, None, "the body"), base, "the body")


# -- writing --------------------------------------------------------------------------------------------------------

def _write(graph: str | None, triples: list[ox.Triple], *, replace: bool) -> bool:
    """Replace or add to ``graph`` in one update request; True when the graph is new (a named graph the store did not
    have, or a default graph that held no triples)."""
    created = _default_graph_is_empty() if graph is None else not _exists(graph)
    changes = Changes()
    if replace:
        changes.update(f"DROP SILENT {_sparql_graph(graph)}")
    if graph is not None:
        changes.update(f"CREATE SILENT {_sparql_graph(graph)}")  # so that an empty PUT leaves a graph GET finds
    if triples:
        body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
        into = body if graph is None else f"GRAPH {ox.NamedNode(graph)} {{\n{body}\n}}"
        changes.update(f"INSERT DATA {{\n{into}\n}}")
    changes.update(change_record(whole=True))  # a direct write may change any service: match indexes read again
    resources().catalogue.commit(changes)
    return created


def _base(graph: str | None) -> str:
    """Relative IRIs in a body resolve against the graph's IRI (the endpoint's URL for the default graph)."""
    return graph or request.base_url


# -- the protocol ---------------------------------------------------------------------------------------------------

@bp.get("/graph-store")
@bp.get("/graph-store/<path:path>")
@admin_required
def read_graph(path: str | None = None):
    """GET, and HEAD (Flask answers HEAD with GET's headers, Content-Length included, and no body)."""
    graph = _target(path)
    chosen = best_response(RDF_RESPONSES)
    if not _exists(graph):
        raise Problem(404, "No such graph", f"the store has no graph <{graph}>")
    return Response(serialise(_triples(graph), chosen), mimetype=chosen)


@bp.put("/graph-store")
@bp.put("/graph-store/<path:path>")
@admin_required
def replace_graph(path: str | None = None):
    graph = _target(path)
    created = _write(graph, _request_triples(_base(graph)), replace=True)
    return Response(status=201 if created else 204)


@bp.post("/graph-store")
@bp.post("/graph-store/<path:path>")
@admin_required
def add_to_graph(path: str | None = None):
    if path is None and not _names_a_graph():
        return _create_graph()
    graph = _target(path)
    created = _write(graph, _request_triples(_base(graph)), replace=False)
    return Response(status=201 if created else 204)


def _create_graph() -> Response:
    """POST to the Graph Store itself: a new graph under a fresh IRI, which is its own URL here."""
    graph = url_for("graph_store.read_graph", path=uuid.uuid4().hex, _external=True)
    _write(graph, _request_triples(graph), replace=False)
    return Response(status=201, headers={"Location": graph})


@bp.delete("/graph-store")
@bp.delete("/graph-store/<path:path>")
@admin_required
def delete_graph(path: str | None = None):
    graph = _target(path)
    if not _exists(graph):
        raise Problem(404, "No such graph", f"the store has no graph <{graph}>")
    changes = Changes()
    changes.update(f"DROP {_sparql_graph(graph)}")
    changes.update(change_record(whole=True))
    resources().catalogue.commit(changes)
    return Response(status=204)
