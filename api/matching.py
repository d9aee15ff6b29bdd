"""``POST /match``: a product in, the matching output contract out. The product is matched in the worker's private
workspace and forgotten afterwards; it never enters the catalogue store."""

from __future__ import annotations

import datetime
import json

from flask import Blueprint, Response, jsonify, request

from api.cad import saved_upload
from api.negotiation import best_response, body, body_format
from api.problems import Problem
from api.state import resources
from maas_kg.cad.product import cad_product
from maas_kg.matching.report import MAX_TOP, NEAR_MISSES, TOP, as_json, as_rdf
from maas_kg.matching.workspace import ENGINES

bp = Blueprint("matching", __name__)


@bp.post("/match")
def match():
    """Per step the best ``top`` candidates (default 20, at most 1,000) and 10 near misses, with their counts and
    the relaxations; ``all=true`` lists every candidate and near miss, a page of ``limit`` (default and at most
    1,000) from ``offset`` per step."""
    try:
        top = int(request.args.get("top", TOP))
        k = int(request.args.get("k", 3))
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", MAX_TOP))
        today = datetime.date.fromisoformat(request.args["today"]) if "today" in request.args else None
    except ValueError:
        raise Problem(400, "Bad parameter", "top, k, offset and limit are whole numbers, today a date such as "
                      "2026-11-22") from None
    everything = request.args.get("all", "false")
    if everything not in ("true", "false"):
        raise Problem(400, "Bad parameter", "all is true or false")
    if not 1 <= k <= 20 or not 1 <= top <= MAX_TOP or not 1 <= limit <= MAX_TOP or offset < 0:
        raise Problem(400, "Bad parameter", f"k is between 1 and 20, top and limit between 1 and {MAX_TOP}, "
                      "offset at least 0")
    engine = request.args.get("engine", "index")
    if engine not in ENGINES:
        raise Problem(400, "Bad parameter", f"engine is one of {', '.join(ENGINES)}")
    chosen = best_response(["application/json", "text/turtle", "application/ld+json"])
    state = resources()
    if request.mimetype.startswith("multipart/form-data"):  # a CAD file and the product fields it cannot give
        data, format = _cad_product(state), "json"
    else:
        data, format = body(), body_format()
    result = state.workspace.match(data, format, today=today, k=k, engine=engine)
    if everything == "true":
        shown, misses, start = limit, limit, offset
    else:
        shown, misses, start = top, NEAR_MISSES, 0
    if chosen == "application/json":
        return jsonify(as_json(state.catalogue, result, top=shown, near_misses=misses, offset=start))
    graph = as_rdf(result, top=shown, offset=start)
    return Response(graph.serialize(format="turtle" if chosen == "text/turtle" else "json-ld"), mimetype=chosen)


def _cad_product(state) -> bytes:
    """The product of a multipart body: the CAD file (field ``file``) and the product fields as one JSON object
    (field ``product``, e.g. {"material": "S355", "quantity": 50, "tolerance_mm": 0.05}); the fields
    ``material`` and ``quantity`` may also come as form fields of their own."""
    try:
        fields = json.loads(request.form.get("product") or "{}")
    except json.JSONDecodeError as err:
        raise Problem(400, "Bad product fields", f"the field 'product' is not JSON: {err}") from None
    if not isinstance(fields, dict):
        raise Problem(400, "Bad product fields", "the field 'product' must be one JSON object, such as "
                      '{"material": "S355", "quantity": 50}')
    if request.form.get("material"):
        fields["material"] = request.form["material"]
    if request.form.get("quantity"):
        try:
            fields["quantity"] = int(request.form["quantity"])
        except ValueError:
            raise Problem(400, "Bad product fields", "quantity is a whole number, 1 or more") from None
    with saved_upload() as (path, name):
        product, _ = cad_product(path, fields, name=name, store=state.catalogue)
    return json.dumps(product).encode()
