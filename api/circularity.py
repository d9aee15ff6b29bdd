"""Circularity over HTTP: ``POST /circularity/plan`` (C1) turns a take-back product into circular value chains: the
feasible end-of-life strategies per condition grade, the circular processes each needs, providers near the
collection points, and the strategies compared. ``POST /circularity/criticality`` (C2) says how critical each product
of a value chain is and which remanufactured supply take-back offers it. The documents are processed like products
(the private workspace) and never stored."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from api.negotiation import body
from api.problems import Problem
from api.state import resources
from maas_kg import media_types
from maas_kg.catalogue.ingest import parse_json
from maas_kg.circularity.criticality import criticality, read_request
from maas_kg.circularity.planning import plan
from maas_kg.circularity.take_back import read_take_back
from maas_kg.execution import fields
from maas_kg.resilience.value_chains import RdfDocument

bp = Blueprint("circularity", __name__)


def _document(what: str) -> tuple[object, object]:
    """The JSON body without its optional ``today``, and that day; a body in an RDF syntax is the document alone
    (an ``RdfDocument``), ``today`` a query parameter."""
    syntax = media_types.input_syntax(request.mimetype) if request.mimetype else None
    if syntax is not None and syntax is not media_types.PLAIN_JSON and request.mimetype == syntax.media_type:
        unknown = set(request.args) - {"today"}
        if unknown:
            raise Problem(400, "Bad parameter", f"{sorted(unknown)[0]} is not a parameter: today")
        today = fields.date(dict(request.args), "today", required=False)
        return RdfDocument(body(), syntax.name), today
    if request.mimetype != "application/json":
        raise Problem(415, "Unsupported media type", f"send the {what} as application/json, or in RDF (text/turtle, "
                      "application/n-triples, application/rdf+xml, application/ld+json)")
    document = parse_json(body(), "request body")
    today = fields.date(document, "today", required=False) if isinstance(document, dict) else None
    if isinstance(document, dict):
        document = {k: v for k, v in document.items() if k != "today"}
    return document, today


@bp.post("/circularity/plan")
def plan_take_back():
    document, today = _document("take-back product")
    state = resources()
    return jsonify(plan(state.workspace, state.catalogue, read_take_back(document, state.catalogue), today=today))


@bp.post("/circularity/criticality")
def assess_criticality():
    document, today = _document("value chain and take-back products")
    if isinstance(document, RdfDocument):
        document = {"value_chain": document}
    state = resources()
    chain, sources = read_request(document, state.catalogue)
    return jsonify(criticality(state.workspace, state.catalogue, chain, sources, today=today))
