"""SPARQL 1.1 Graph Store HTTP Protocol at ``/graph-store`` (indirect identification: ``?graph=IRI`` or
``?default``), for store administrators and standard tools. Every method needs an administrator's key."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, request

from api.auth import admin_required
from api.negotiation import RDF_RESPONSES, best_response
from api.problems import Problem
from api.services import serialise
from api.state import resources
from maas_kg.store import Changes

bp = Blueprint("graph_store", __name__)

_BODY_FORMATS = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
                 "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD}


def _target() -> str | None:
    """The graph IRI, or None for the default graph."""
    has_graph, has_default = "graph" in request.args, "default" in request.args
    if has_graph == has_default:
        raise Problem(400, "Which graph?", "give exactly one of ?graph=<IRI> or ?default")
    if has_default:
        return None
    graph = request.args["graph"]
    if not graph.startswith(("http://", "https://", "urn:")):
        raise Problem(400, "Bad graph IRI", f"?graph must be an absolute IRI, not {graph!r}")
    return graph


def _exists(graph: str | None) -> bool:
    store = resources().catalogue
    if graph is None:
        return True  # the default graph always exists
    return store.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


def _triples(graph: str | None) -> list:
    store = resources().catalogue
    if graph is not None:
        return store.graph_triples(graph)
    rows = store.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    return [(r["s"], r["p"], r["o"]) for r in rows]


def _parsed_body(graph: str | None) -> list:
    media_type = request.mimetype
    if media_type not in _BODY_FORMATS:
        raise Problem(415, "Unsupported media type", f"send RDF as one of {', '.join(_BODY_FORMATS)}")
    try:
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "Not UTF-8", "the body must be UTF-8 text") from None
    if media_type == "application/ld+json":
        from maas_kg.ingest import InputError, _refuse_remote_contexts

        try:
            _refuse_remote_contexts(text)
        except InputError as err:
            raise Problem(400, "Remote context", str(err)) from None
    try:
        return [q.triple for q in ox.parse(text.encode("utf-8"), format=_BODY_FORMATS[media_type],
                                           base_iri=graph or request.base_url)]
    except SyntaxError as err:
        raise Problem(400, "Malformed RDF", str(err)) from None


@bp.get("/graph-store")
@bp.route("/graph-store", methods=["HEAD"])
@admin_required
def read_graph():
    graph = _target()
    chosen = best_response(RDF_RESPONSES)
    if not _exists(graph):
        raise Problem(404, "No such graph", f"the store has no graph <{graph}>")
    triples = _triples(graph)
    body = serialise([(t[0], t[1], t[2]) for t in triples], chosen)
    return Response(b"" if request.method == "HEAD" else body, mimetype=chosen)


def _write(*, replace: bool) -> Response:
    """PUT (replace) and POST (add): 201 when the graph is new, 204 otherwise; one update request either way."""
    graph = _target()
    triples = _parsed_body(graph)
    existed = _exists(graph)
    changes = Changes()
    if replace:
        changes.update(f"DROP SILENT GRAPH <{graph}>" if graph else "DROP SILENT DEFAULT")
    if triples:
        body = " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
        changes.update(f"INSERT DATA {{ GRAPH <{graph}> {{ {body} }} }}" if graph else f"INSERT DATA {{ {body} }}")
    resources().catalogue.commit(changes)
    return Response(status=204 if existed else 201)


@bp.put("/graph-store")
@admin_required
def replace_graph():
    return _write(replace=True)


@bp.post("/graph-store")
@admin_required
def add_to_graph():
    return _write(replace=False)


@bp.delete("/graph-store")
@admin_required
def delete_graph():
    graph = _target()
    if not _exists(graph):
        raise Problem(404, "No such graph", f"the store has no graph <{graph}>")
    resources().catalogue.update(f"DROP GRAPH <{graph}>" if graph else "DROP DEFAULT")
    return Response(status=204)
