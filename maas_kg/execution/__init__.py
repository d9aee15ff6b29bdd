"""Stage 3: from a match to a delivered, evaluated order (seed paper, activities 3.1 to 3.4).

Owns: requests for quotation, offers and counter-offers, agreements (orders), their plan, status events and
evaluations, kept in a private SQLite ledger the public SPARQL endpoint never reads (``ledger``); the transitions
of a negotiation (``negotiation``); a chain's schedule and its iCalendar (``planning``); an order's events and
timeline (``tracking``); evaluations and the
providers' published performance (``evaluation``); an agreement as RDF (``records``).
May import: store, knowledge, catalogue, matching and the leaves (errors, settings, media_types, rdf, geo).
"""

from maas_kg.execution.evaluation import evaluate, evaluations, performance_of
from maas_kg.execution.ledger import Ledger, Party, default_ledger_file
from maas_kg.execution.negotiation import accept, counter, decline, offer, request_quotes, withdraw_offer, \
    withdraw_request
from maas_kg.execution.tracking import post_event, timeline

__all__ = ["Ledger", "Party", "accept", "counter", "decline", "default_ledger_file", "evaluate", "evaluations",
           "offer", "performance_of", "post_event", "request_quotes", "timeline", "withdraw_offer",
           "withdraw_request"]
