"""Resilience over HTTP: ``POST /resilience/assess`` (R1) and ``POST /resilience/respond`` (R2) on a value chain and
disruption events sent in the body; ``GET /resilience/events`` lists the example events. The value chain is processed
like a product, in the worker's private workspace, and never stored."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from api.negotiation import best_response, body
from maas_kg import media_types
from api.problems import Problem
from api.state import resources
from maas_kg.catalogue.ingest import parse_json
from maas_kg.circularity.criticality import read_sources, reman_supply
from maas_kg.resilience import assess, library, respond
from maas_kg.resilience.responses import as_rdf
from maas_kg.resilience.requests import read_request
from maas_kg.resilience.value_chains import RdfDocument

bp = Blueprint("resilience", __name__)


def _document() -> dict:
    """The JSON body; or, for a body in an RDF syntax (Turtle, N-Triples, RDF/XML, JSON-LD: the value chain alone),
    the same request with the options as query parameters (``event`` repeatable, ``runs``, ``seed``, ``today``)."""
    syntax = media_types.input_syntax(request.mimetype) if request.mimetype else None
    if syntax is not None and syntax is not media_types.PLAIN_JSON and request.mimetype == syntax.media_type:
        return rdf_request(RdfDocument(body(), syntax.name))
    if request.mimetype != "application/json":
        raise Problem(415, "Unsupported media type", "send the value chain and events as application/json, or the "
                      "value chain alone as text/turtle, application/n-triples, application/rdf+xml or "
                      "application/ld+json")
    return parse_json(body(), "request body")


def rdf_request(document: RdfDocument) -> dict:
    """The request of an RDF value chain sent as the body: its options from the query parameters."""
    unknown = set(request.args) - {"event", "runs", "seed", "today"}
    if unknown:
        raise Problem(400, "Bad parameter", f"{sorted(unknown)[0]} is not a parameter: event, runs, seed, today")
    doc: dict = {"value_chain": document, "library_events": request.args.getlist("event")}
    for name in ("runs", "seed"):
        if name in request.args:
            try:
                doc[name] = int(request.args[name])
            except ValueError:
                raise Problem(400, "Bad parameter", f"{name} is a whole number") from None
    if "today" in request.args:
        doc["today"] = request.args["today"]
    return doc


@bp.post("/resilience/assess")
def assess_chain():
    """Exposure, impact and risk of the events, the risk matrix and the simulated on-time probability."""
    state = resources()
    chain, events, options = read_request(_document(), state.catalogue, events_required=False)
    return jsonify(assess(state.workspace, state.catalogue, chain, events, **options))


@bp.post("/resilience/respond")
def respond_to_events():
    """Response scenarios for the events: alternatives per hit step, a split where capacity lacks, other routes,
    and a request for quotation for stage 3 (JSON); or the plan as RDF with its provenance (Turtle, JSON-LD)."""
    chosen = best_response(["application/json", "text/turtle", "application/ld+json"])
    state = resources()
    document = _document()
    take_back = document.pop("take_back", None) if isinstance(document, dict) else None
    chain, events, options = read_request(document, state.catalogue, events_required=True)
    # (v): the remanufactured supply take-back products offer the chain's products (the circularity module)
    reman = reman_supply(state.workspace, state.catalogue, read_sources(take_back, chain, state.catalogue),
                         today=options["today"]) if take_back else None
    plan = respond(state.workspace, state.catalogue, chain, events, today=options["today"], reman=reman)
    if chosen == "application/json":
        return jsonify(plan)
    graph = as_rdf(plan, chain)
    return Response(graph.serialize(format="turtle" if chosen == "text/turtle" else "json-ld"), mimetype=chosen)


@bp.get("/resilience/events")
def example_events():
    """The example disruption events (ids for ``library_events``)."""
    return jsonify({"events": list(library().values())})
