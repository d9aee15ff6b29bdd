"""Stage 3 over HTTP: requests for quotation, offers, orders, status events and evaluations.

Every route needs a key, and answers only to the two parties of what it names (and administrators): anyone else
reads 404, as if it did not exist, and is refused 403 when acting on what they can see. Nothing here is in the
catalogue store that ``/sparql`` reads; only a provider's aggregate performance is published there.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from api.auth import current_key, key_required
from api.negotiation import best_response, body
from api.problems import Problem
from api.state import resources
from maas_kg.catalogue.ingest import parse_json
from maas_kg import media_types
from maas_kg.execution import evaluation, negotiation, planning, saved_results, tracking, webhooks
from maas_kg.execution.ledger import Party
from maas_kg.execution.records import agreement_graph

bp = Blueprint("execution", __name__)


def _party() -> Party:
    return Party.of_key(current_key())


def _json() -> dict:
    if request.mimetype != "application/json":
        raise Problem(415, "Unsupported media type", "send the body as application/json")
    return parse_json(body(), "request body")


def _page() -> tuple[int, int]:
    try:
        limit, offset = int(request.args.get("limit", 100)), int(request.args.get("offset", 0))
    except ValueError:
        raise Problem(400, "Bad parameter", "limit and offset are whole numbers") from None
    if not 1 <= limit <= 1000 or not 0 <= offset <= 10 ** 9:
        raise Problem(400, "Bad parameter", "limit is between 1 and 1,000, offset between 0 and 1,000,000,000")
    return limit, offset


@bp.get("/match-results")
@key_required
def kept_match_results():
    """The match results the caller's buyer keeps (kept from /matching while signed in), newest first, with links."""
    party = _party()
    if party.role != "buyer":
        raise Problem(403, "Not a buyer", "kept match results belong to a buyer: use a buyer's key")
    items = [{**item, "url": url_for("web.kept_result_page", result_id=item["id"], _external=True),
              "csv": url_for("web.kept_result_page", result_id=item["id"], format="csv", _external=True),
              "json": url_for("web.kept_result_page", result_id=item["id"], format="json", _external=True)}
             for item in saved_results.kept_by(resources().ledger, party.organisation)]
    return jsonify({"items": items})


@bp.post("/rfqs")
@key_required
def request_quotes():
    """A buyer sends requests for quotation, one per item (service and step)."""
    state = resources()
    return jsonify(negotiation.request_quotes(state.ledger, state.catalogue, _party(), _json())), 201


@bp.get("/rfqs")
@key_required
def list_requests():
    """A provider's inbox, a buyer's requests; ``state`` and ``inquiry`` filter."""
    limit, offset = _page()
    return jsonify({"rfqs": negotiation.listing(resources().ledger, _party(), state=request.args.get("state"),
                                                inquiry=request.args.get("inquiry"), limit=limit, offset=offset)})


@bp.get("/rfqs/<rfq_id>")
@key_required
def show_request(rfq_id: str):
    return jsonify(negotiation.view(resources().ledger, _party(), rfq_id))


@bp.post("/rfqs/<rfq_id>/offers")
@key_required
def make_offer(rfq_id: str):
    return jsonify(negotiation.offer(resources().ledger, _party(), rfq_id, _json())), 201


@bp.post("/rfqs/<rfq_id>/counter-offers")
@key_required
def counter_offer(rfq_id: str):
    return jsonify(negotiation.counter(resources().ledger, _party(), rfq_id, _json())), 201


@bp.post("/rfqs/<rfq_id>/decline")
@key_required
def decline(rfq_id: str):
    return jsonify(negotiation.decline(resources().ledger, _party(), rfq_id, _json()))


@bp.post("/rfqs/<rfq_id>/withdraw-offer")
@key_required
def withdraw_offer(rfq_id: str):
    return jsonify(negotiation.withdraw_offer(resources().ledger, _party(), rfq_id))


@bp.post("/rfqs/<rfq_id>/withdraw")
@key_required
def withdraw_request(rfq_id: str):
    return jsonify(negotiation.withdraw_request(resources().ledger, _party(), rfq_id))


@bp.post("/rfqs/<rfq_id>/accept")
@key_required
def accept(rfq_id: str):
    """The buyer accepts an offer version: 201 with the order, Location its URL."""
    made = negotiation.accept(resources().ledger, _party(), rfq_id, _json())
    return jsonify(made), 201, {"Location": f"/orders/{made['order']}"}


@bp.get("/inquiries/<inquiry>")
@key_required
def compare(inquiry: str):
    """The buyer's offer comparison: per step, each provider's current offer and its plan."""
    return jsonify(negotiation.comparison(resources().ledger, _party(), inquiry))


@bp.get("/inquiries/<inquiry>/plan")
@key_required
def plan(inquiry: str):
    """The chain's schedule backwards from the due date (JSON), or as iCalendar; ``rfq`` (repeatable) chooses the
    offers to plan with where a step has no order yet."""
    chosen = best_response(["application/json", media_types.ICALENDAR.media_type])
    state = resources()
    schedule = planning.plan(state.ledger, state.catalogue, _party(), inquiry, chosen=request.args.getlist("rfq"))
    if chosen == "application/json":
        return jsonify(schedule)
    return Response(planning.as_icalendar(schedule), mimetype=chosen,
                    headers={"Content-Disposition": f'attachment; filename="plan-{inquiry}.ics"'})


@bp.get("/orders")
@key_required
def list_orders():
    limit, offset = _page()
    return jsonify({"orders": tracking.orders(resources().ledger, _party(), state=request.args.get("state"),
                                              limit=limit, offset=offset)})


@bp.get("/orders/<order_id>")
@key_required
def show_order(order_id: str):
    """The order with its timeline (JSON), or the agreement as RDF (Turtle, JSON-LD)."""
    chosen = best_response(["application/json", "text/turtle", "application/ld+json"])
    order = tracking.timeline(resources().ledger, _party(), order_id)
    if chosen == "application/json":
        return jsonify(order)
    graph = agreement_graph(order)
    return Response(graph.serialize(format="turtle" if chosen == "text/turtle" else "json-ld"), mimetype=chosen)


@bp.post("/orders/<order_id>/events")
@key_required
def post_event(order_id: str):
    """The provider reports a status event; the answer is the timeline."""
    return jsonify(tracking.post_event(resources().ledger, _party(), order_id, _json())), 201


@bp.get("/orders/<order_id>/events")
@key_required
def events(order_id: str):
    return jsonify(tracking.timeline(resources().ledger, _party(), order_id)["events"])


@bp.post("/orders/<order_id>/evaluation")
@key_required
def evaluate(order_id: str):
    state = resources()
    return jsonify(evaluation.evaluate(state.ledger, state.catalogue, _party(), order_id, _json())), 201


@bp.get("/orders/<order_id>/evaluation")
@key_required
def show_evaluation(order_id: str):
    return jsonify(evaluation.evaluation(resources().ledger, _party(), order_id))


@bp.get("/evaluations")
@key_required
def list_evaluations():
    """The evaluations a buyer gave or a provider received."""
    limit, offset = _page()
    return jsonify({"evaluations": evaluation.evaluations(resources().ledger, _party(), limit=limit,
                                                          offset=offset)})


@bp.put("/webhook")
@key_required
def set_webhook():
    """The key's organisation's webhook: notifications of its requests, offers and orders, signed with the secret
    in this answer (shown once; a new one on every PUT)."""
    return jsonify(webhooks.register(resources().ledger, _party(), _json()))


@bp.get("/webhook")
@key_required
def show_webhook():
    """The webhook URL (never the secret) and its last deliveries."""
    return jsonify(webhooks.show(resources().ledger, _party()))


@bp.delete("/webhook")
@key_required
def remove_webhook():
    webhooks.remove(resources().ledger, _party())
    return "", 204
