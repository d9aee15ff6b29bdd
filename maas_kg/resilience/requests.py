"""What an assessment or a response is asked for: a value chain and events, from one JSON document (the HTTP body)
or from files (the command line). Events are given inline, by the ids of the example library, or both."""

from __future__ import annotations

import datetime

from maas_kg.execution import fields
from maas_kg.resilience.events import Event, from_library, read_events
from maas_kg.resilience.value_chains import ValueChain, read_value_chain


def read_request(doc: object, catalogue, *, events_required: bool) -> tuple[ValueChain, list[Event], dict]:
    """``{"value_chain": {...}, "events": [...], "library_events": ["id", ...], "runs": N, "seed": S,
    "today": "YYYY-MM-DD"}``: the value chain, the events, and the options."""
    doc = fields.document(doc)
    unknown = set(doc) - {"value_chain", "events", "library_events", "runs", "seed", "today"}
    if unknown:
        raise fields.FieldError(sorted(unknown)[0], "is not a field: value_chain, events, library_events, runs, "
                                                    "seed, today")
    try:
        chain = read_value_chain(doc.get("value_chain"), catalogue)
    except fields.FieldError as err:
        raise fields.within("value_chain", err) from None
    events: list[Event] = read_events(doc["events"], catalogue) if doc.get("events") else []
    ids = doc.get("library_events") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise fields.FieldError("library_events", "must be a list of event ids (GET /resilience/events)")
    events += from_library(ids, catalogue) if ids else []
    if events_required and not events:
        raise fields.FieldError("events", "a response needs at least one event (events or library_events)")
    if len({e.id for e in events}) != len(events):
        raise fields.FieldError("events", "two events have the same id")
    options = {"runs": fields.integer(doc, "runs", low=1, high=100_000, default=10_000),
               "seed": fields.integer(doc, "seed", low=0, high=2 ** 31, default=1),
               "today": fields.date(doc, "today", required=False) or datetime.date.today()}
    return chain, events, options
