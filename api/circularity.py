"""Circularity over HTTP: ``POST /circularity/plan`` (C1) turns a take-back product into circular value chains: the
feasible end-of-life strategies per condition grade, the circular processes each needs, providers near the
collection points, and the strategies compared. The take-back document is processed like a product (the private
workspace) and never stored."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from api.negotiation import body
from api.problems import Problem
from api.state import resources
from maas_kg.catalogue.ingest import parse_json
from maas_kg.circularity.planning import plan
from maas_kg.circularity.take_back import read_take_back
from maas_kg.execution import fields

bp = Blueprint("circularity", __name__)


@bp.post("/circularity/plan")
def plan_take_back():
    if request.mimetype != "application/json":
        raise Problem(415, "Unsupported media type", "send the take-back product as application/json")
    document = parse_json(body(), "request body")
    today = fields.date(document, "today", required=False) if isinstance(document, dict) else None
    if isinstance(document, dict):
        document = {k: v for k, v in document.items() if k != "today"}
    state = resources()
    return jsonify(plan(state.workspace, state.catalogue, read_take_back(document, state.catalogue), today=today))
