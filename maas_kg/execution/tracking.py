"""Activities 3.2 and 3.3: an order's plan, the status events its provider posts, and the buyer's timeline.

Events move an order forward: ``accepted`` (recorded at acceptance), ``material_received``, ``started``,
``finished``, ``shipped``, ``delivered``; a provider may skip stages but never go back. ``delayed`` (with the new
date) may come at any time before delivery, ``cancelled`` ends the order. Nothing follows ``delivered`` or
``cancelled``. A delay past the agreed delivery date, or a cancellation, puts the order at risk: the timeline says
so and tells the buyer to match the remaining steps again.
"""

from __future__ import annotations

import datetime

from maas_kg.errors import Conflict
from maas_kg.execution import fields
from maas_kg.execution.ledger import Ledger, Party, decoded, now, one, visible
from maas_kg.execution.webhooks import notify

PROGRESS = ("accepted", "material_received", "started", "finished", "shipped", "delivered")
KINDS = (*PROGRESS, "delayed", "cancelled")


def post_event(ledger: Ledger, party: Party, order_id: str, doc: dict, *, today: datetime.date | None = None) -> dict:
    """The provider reports ``kind`` (one of KINDS) that happened on ``date`` (default today; not in the future,
    not before the order's acceptance), with ``new_date`` for a delay and an optional ``note``."""
    today = today or datetime.date.today()
    doc = fields.document(doc)
    kind = fields.text(doc, "kind", limit=40)
    if kind not in KINDS:
        raise fields.FieldError("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    happened = fields.date(doc, "date", required=False) or today
    note = fields.text(doc, "note", required=False)
    new_date = fields.date(doc, "new_date", required=kind == "delayed") if kind == "delayed" else None
    if happened > today:
        raise fields.FieldError("date", f"{happened} is in the future: report what has happened")
    with ledger.transition() as db:
        order = one(db, "orders", order_id, "order")
        party.must_be("provider", order, "report its status")
        if order["state"] != "open":
            raise Conflict(f"order {order_id} is {order['state']}: no event may follow")
        events = [dict(row) for row in db.execute("SELECT * FROM events WHERE order_id = ? ORDER BY seq",
                                                  (order_id,))]
        if happened < datetime.date.fromisoformat(events[0]["happened"]):
            raise fields.FieldError("date", f"{happened} is before the order was accepted ({events[0]['happened']})")
        reached = max(PROGRESS.index(e["kind"]) for e in events if e["kind"] in PROGRESS)
        if kind in PROGRESS and PROGRESS.index(kind) <= reached:
            raise Conflict(f"order {order_id} is already {PROGRESS[reached]}: '{kind}' would go back")
        if new_date is not None and new_date < happened:
            raise fields.FieldError("new_date", f"{new_date} is before the delay was reported ({happened})")
        db.execute("INSERT INTO events (order_id, seq, kind, happened, new_date, note, recorded) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (order_id, len(events) + 1, kind, happened.isoformat(),
                    new_date.isoformat() if new_date else None, note, now()))
        if kind in ("delivered", "cancelled"):
            db.execute("UPDATE orders SET state = ? WHERE id = ?", ("delivered" if kind == "delivered" else
                                                                    "cancelled", order_id))
        events.append({"kind": kind, "happened": happened.isoformat(),
                       "new_date": new_date.isoformat() if new_date else None})
        order["state"] = {"delivered": "delivered", "cancelled": "cancelled"}.get(kind, order["state"])
        standing = status(order, events, today)
        notify(db, order["buyer"], "order.event", {"order": order_id, "event": kind, "at_risk": standing["at_risk"],
                                                   "warnings": standing["warnings"]})
    return timeline(ledger, party, order_id, today=today)


def timeline(ledger: Ledger, party: Party, order_id: str, *, today: datetime.date | None = None) -> dict:
    """The order with its terms, its events in order, where it stands, whether it was on time, and warnings."""
    today = today or datetime.date.today()
    with ledger.reading() as db:
        order = visible(party, one(db, "orders", order_id, "order"), "order")
        events = [dict(row) for row in db.execute("SELECT kind, happened, new_date, note, recorded FROM events "
                                                  "WHERE order_id = ? ORDER BY seq", (order_id,))]
    order["events"] = events
    return {**order, **status(order, events, today)}


def status(order: dict, events: list[dict], today: datetime.date) -> dict:
    """Where the order stands: the last stage reached, the expected date, on time or not, and what is at risk."""
    agreed = datetime.date.fromisoformat(order["terms"]["delivery_date"])
    delays = [datetime.date.fromisoformat(e["new_date"]) for e in events if e["kind"] == "delayed"]
    expected = delays[-1] if delays else agreed
    stage = [e["kind"] for e in events if e["kind"] in PROGRESS][-1]
    delivered = next((datetime.date.fromisoformat(e["happened"]) for e in events if e["kind"] == "delivered"), None)
    warnings = []
    if order["state"] == "cancelled":
        warnings.append("the provider cancelled this order: match the remaining steps again (POST /match) and "
                        "request new quotes")
    elif delivered is None and expected > agreed:
        warnings.append(f"the provider expects {expected}, after the agreed {agreed}: the due date is at risk; "
                        "match the remaining steps again (POST /match) or agree a new date")
    elif delivered is None and today > agreed:
        warnings.append(f"not delivered by the agreed {agreed}")
    return {"stage": stage, "agreed_date": agreed.isoformat(), "expected_date": expected.isoformat(),
            "delivered_on": delivered.isoformat() if delivered else None,
            "on_time": (delivered <= agreed) if delivered else None, "at_risk": bool(warnings),
            "warnings": warnings}


def orders(ledger: Ledger, party: Party, *, state: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    """The orders ``party`` is a party to (all for administrators), newest first."""
    where, args = [], []
    if party.role in ("buyer", "provider"):
        where.append(f"{party.role} = ?")
        args.append(party.organisation)
    elif party.role != "admin":
        return []
    if state:
        where.append("state = ?")
        args.append(state)
    sql = "SELECT * FROM orders" + (" WHERE " + " AND ".join(where) if where else "") + \
        " ORDER BY accepted DESC, id LIMIT ? OFFSET ?"
    with ledger.reading() as db:
        return [decoded(row) for row in db.execute(sql, (*args, limit, offset))]
