"""``POST /match``: a product in, the matching output contract out. The product is matched in the worker's private
workspace and forgotten afterwards; it never enters the catalogue store."""

from __future__ import annotations

import datetime

from flask import Blueprint, Response, jsonify, request

from api.negotiation import best_response, body, body_format
from api.problems import Problem
from api.state import resources
from maas_kg.matching.report import as_json, as_rdf

bp = Blueprint("matching", __name__)


@bp.post("/match")
def match():
    try:
        top = int(request.args["top"]) if "top" in request.args else None
        k = int(request.args.get("k", 3))
        today = datetime.date.fromisoformat(request.args["today"]) if "today" in request.args else None
    except ValueError:
        raise Problem(400, "Bad parameter", "top and k are whole numbers, today a date such as 2026-11-22") from None
    if not 1 <= k <= 20 or (top is not None and top < 1):
        raise Problem(400, "Bad parameter", "k is between 1 and 20, top at least 1")
    chosen = best_response(["application/json", "text/turtle", "application/ld+json"])
    state = resources()
    result = state.workspace.match(body(), body_format(), today=today, k=k)
    if chosen == "application/json":
        return jsonify(as_json(state.catalogue, result, top=top))
    graph = as_rdf(result)
    return Response(graph.serialize(format="turtle" if chosen == "text/turtle" else "json-ld"), mimetype=chosen)
