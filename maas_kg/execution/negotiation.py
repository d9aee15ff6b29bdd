"""Activity 3.1, agreement: requests for quotation, offers, counter-offers, declines, withdrawals and acceptance.

A request's states: ``requested`` -> (provider offers) ``offered`` -> (buyer counters) ``countered`` -> (provider
offers again) ``offered`` -> (buyer accepts) ``accepted``; the provider may decline (``declined``) and withdraw its
open offer (back to ``requested``), the buyer may withdraw the request (``withdrawn``). When the buyer accepts one
provider's offer for a step, the other requests of that step are ``closed``. Offers are versions (1, 2, ...) of the
request's terms, each ``open``, ``superseded``, ``withdrawn``, ``rejected`` or ``accepted``; an open offer past
its ``valid_until`` is expired and cannot be accepted. Every transition is one ledger transaction.

Data minimisation: a request carries only what its provider needs (the step, its requirements, quantity, the
step's due date and the delivery place); a provider never sees the other providers or the buyer's other steps.
"""

from __future__ import annotations

import datetime
import json

from maas_kg.catalogue.publishing import providers_of
from maas_kg.errors import Conflict, Forbidden, NotFound
from maas_kg.execution import fields
from maas_kg.execution.ledger import Ledger, Party, decoded, new_id, now, one, visible
from maas_kg.execution.webhooks import notify

OPEN_STATES = ("requested", "offered", "countered")
MAX_ITEMS = 50


def request_quotes(ledger: Ledger, catalogue, party: Party, doc: dict, *, today: datetime.date | None = None) -> dict:
    """Send one request for quotation per item of ``doc`` (an inquiry): ``title``, ``quantity``, ``due``,
    ``delivery``, and ``items``, each with the ``service``, the ``step`` it performs, its ``requirements`` (what the
    provider is shown) and optionally its own ``due`` date and ``quantity``. Every service must be published."""
    if party.role != "buyer":
        raise Forbidden("only a buyer organisation's key may request quotes ('maas-kg keys create --buyer IRI')")
    today = today or datetime.date.today()
    doc = fields.document(doc)
    title = fields.text(doc, "title", required=False, limit=200)
    quantity = fields.integer(doc, "quantity", low=1, high=10 ** 9)
    due = fields.date(doc, "due")
    delivery = fields.place(doc)
    items = doc.get("items")
    if not isinstance(items, list) or not items:
        raise fields.FieldError("items", "must be a non-empty list of {service, step, requirements}")
    if len(items) > MAX_ITEMS:
        raise fields.FieldError("items", f"has {len(items)} entries, at most {MAX_ITEMS}")
    parsed = []
    for number, item in enumerate(items):
        item = fields.document(item, f"items[{number}]")
        try:
            entry = {"service": fields.iri(item, "service"), "step": fields.text(item, "step", limit=1000),
                     "position": fields.integer(item, "position", low=1, high=MAX_ITEMS, default=number + 1),
                     "requirements": fields.json_object(item, "requirements", required=False),
                     "due": fields.date(item, "due", required=False) or due,
                     "quantity": fields.integer(item, "quantity", low=1, high=10 ** 9, default=quantity),
                     "match_score": fields.fraction(item, "match_score")}
        except fields.FieldError as err:
            raise fields.within(f"items[{number}]", err) from None
        if entry["due"] <= today:
            raise fields.FieldError(f"items[{number}].due", f"{entry['due']} is not after today ({today})")
        parsed.append(entry)
    services = [entry["service"] for entry in parsed]
    if len(set(zip(services, (e["step"] for e in parsed)))) != len(parsed):
        raise fields.FieldError("items", "names the same service for the same step twice")
    providers = providers_of(catalogue, sorted(set(services)))
    missing = [s for s in services if s not in providers]
    if missing:
        raise fields.FieldError("items", f"{missing[0]} is not a published service")
    inquiry, stamp = new_id("inq"), now()
    created = []
    with ledger.transition() as db:
        for entry in parsed:
            rfq = new_id("rfq")
            db.execute("INSERT INTO rfqs (id, inquiry, position, step, buyer, provider, service, title, requirements, "
                       "quantity, due, delivery, state, created, updated, match_score) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?)",
                       (rfq, inquiry, entry["position"], entry["step"], party.organisation,
                        providers[entry["service"]], entry["service"], title,
                        json.dumps(entry["requirements"], ensure_ascii=False), entry["quantity"],
                        entry["due"].isoformat(), json.dumps(delivery), stamp, stamp, entry["match_score"]))
            notify(db, providers[entry["service"]], "rfq.received", {"rfq": rfq, "service": entry["service"]})
            created.append(rfq)
    return {"inquiry": inquiry, "rfqs": [view(ledger, party, rfq, today=today) for rfq in created]}


def _terms(doc: dict, today: datetime.date) -> dict:
    doc = fields.document(doc)
    terms = {"price": fields.amount(doc, "price"), "currency": fields.currency(doc),
             "lead_time_days": fields.integer(doc, "lead_time_days", low=0, high=3650),
             "valid_until": fields.date(doc, "valid_until"), "incoterm": fields.incoterm(doc),
             "conditions": fields.text(doc, "conditions", required=False)}
    if terms["valid_until"] < today:
        raise fields.FieldError("valid_until", f"{terms['valid_until']} is before today ({today})")
    return terms


def _add_version(db, rfq: dict, author: str, terms: dict, stamp: str) -> int:
    version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM offers WHERE rfq = ?", (rfq["id"],)).fetchone()[0]
    db.execute("UPDATE offers SET status = 'superseded' WHERE rfq = ? AND status = 'open'", (rfq["id"],))
    db.execute("INSERT INTO offers (rfq, version, author, price, currency, lead_time_days, valid_until, incoterm, "
               "conditions, status, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
               (rfq["id"], version, author, terms["price"], terms["currency"], terms["lead_time_days"],
                terms["valid_until"].isoformat(), terms["incoterm"], terms["conditions"], stamp))
    return version


def _state(db, rfq_id: str, state: str, stamp: str, reason: str | None = None) -> None:
    db.execute("UPDATE rfqs SET state = ?, reason = COALESCE(?, reason), updated = ? WHERE id = ?",
               (state, reason, stamp, rfq_id))


def _refuse(rfq: dict, action: str) -> None:
    raise Conflict(f"request {rfq['id']} is {rfq['state']}: it cannot be {action} now")


def offer(ledger: Ledger, party: Party, rfq_id: str, doc: dict, *, today: datetime.date | None = None) -> dict:
    """The provider offers (or revises its offer): price for the quantity, currency, lead time, validity,
    Incoterm, conditions. Supersedes its open offer and the buyer's counter-offer."""
    today = today or datetime.date.today()
    terms = _terms(doc, today)
    with ledger.transition() as db:
        rfq = one(db, "rfqs", rfq_id, "request for quotation")
        party.must_be("provider", rfq, "offer on it")
        if rfq["state"] not in OPEN_STATES:
            _refuse(rfq, "offered on")
        stamp = now()
        version = _add_version(db, rfq, "provider", terms, stamp)
        _state(db, rfq_id, "offered", stamp)
        notify(db, rfq["buyer"], "offer.received", {"rfq": rfq_id, "version": version})
    return view(ledger, party, rfq_id, today=today)


def counter(ledger: Ledger, party: Party, rfq_id: str, doc: dict, *, today: datetime.date | None = None) -> dict:
    """The buyer answers an offer with terms of its own; the provider may offer them (or others) next."""
    today = today or datetime.date.today()
    terms = _terms(doc, today)
    with ledger.transition() as db:
        rfq = one(db, "rfqs", rfq_id, "request for quotation")
        party.must_be("buyer", rfq, "counter an offer on it")
        if rfq["state"] != "offered":
            _refuse(rfq, "countered (there is no open offer)")
        stamp = now()
        version = _add_version(db, rfq, "buyer", terms, stamp)
        _state(db, rfq_id, "countered", stamp)
        notify(db, rfq["provider"], "counter_offer.received", {"rfq": rfq_id, "version": version})
    return view(ledger, party, rfq_id, today=today)


def decline(ledger: Ledger, party: Party, rfq_id: str, doc: dict) -> dict:
    """The provider declines the request, with a reason the buyer reads."""
    reason = fields.text(fields.document(doc), "reason")
    with ledger.transition() as db:
        rfq = one(db, "rfqs", rfq_id, "request for quotation")
        party.must_be("provider", rfq, "decline it")
        if rfq["state"] not in OPEN_STATES:
            _refuse(rfq, "declined")
        stamp = now()
        db.execute("UPDATE offers SET status = 'withdrawn' WHERE rfq = ? AND status = 'open'", (rfq_id,))
        _state(db, rfq_id, "declined", stamp, reason)
        notify(db, rfq["buyer"], "rfq.declined", {"rfq": rfq_id})
    return view(ledger, party, rfq_id)


def withdraw_offer(ledger: Ledger, party: Party, rfq_id: str) -> dict:
    """The provider takes its open offer back; the request waits for a new offer."""
    with ledger.transition() as db:
        rfq = one(db, "rfqs", rfq_id, "request for quotation")
        party.must_be("provider", rfq, "withdraw its offer")
        if rfq["state"] != "offered":
            _refuse(rfq, "without its offer (no open offer of yours)")
        db.execute("UPDATE offers SET status = 'withdrawn' WHERE rfq = ? AND status = 'open'", (rfq_id,))
        _state(db, rfq_id, "requested", now())
    return view(ledger, party, rfq_id)


def withdraw_request(ledger: Ledger, party: Party, rfq_id: str) -> dict:
    """The buyer withdraws its request; open offers on it are rejected."""
    with ledger.transition() as db:
        rfq = one(db, "rfqs", rfq_id, "request for quotation")
        party.must_be("buyer", rfq, "withdraw it")
        if rfq["state"] not in OPEN_STATES:
            _refuse(rfq, "withdrawn")
        db.execute("UPDATE offers SET status = 'rejected' WHERE rfq = ? AND status = 'open'", (rfq_id,))
        _state(db, rfq_id, "withdrawn", now())
        notify(db, rfq["provider"], "rfq.withdrawn", {"rfq": rfq_id})
    return view(ledger, party, rfq_id)


def accept(ledger: Ledger, party: Party, rfq_id: str, doc: dict, *, today: datetime.date | None = None) -> dict:
    """The buyer accepts the provider's open offer ``version``: the order (the agreement) is made, the other
    requests of the same step are closed. 409 for an expired, withdrawn or superseded offer, or a step already
    agreed with another provider."""
    today = today or datetime.date.today()
    version = fields.integer(fields.document(doc), "version", low=1, high=10 ** 6)
    with ledger.transition() as db:
        rfq = one(db, "rfqs", rfq_id, "request for quotation")
        party.must_be("buyer", rfq, "accept an offer on it")
        found = db.execute("SELECT * FROM offers WHERE rfq = ? AND version = ?", (rfq_id, version)).fetchone()
        if found is None:
            raise Conflict(f"request {rfq_id} has no offer version {version}")
        chosen = dict(found)
        if chosen["author"] != "provider":
            raise Conflict(f"version {version} is your counter-offer: accept the provider's offer that answers it")
        if chosen["status"] != "open":
            raise Conflict(f"offer version {version} is {chosen['status']}: it cannot be accepted")
        if datetime.date.fromisoformat(chosen["valid_until"]) < today:
            raise Conflict(f"offer version {version} expired on {chosen['valid_until']}: ask for a new offer")
        if rfq["state"] != "offered":
            _refuse(rfq, "accepted")
        agreed = db.execute("SELECT id FROM orders WHERE inquiry = ? AND step = ?",
                            (rfq["inquiry"], rfq["step"])).fetchone()
        if agreed is not None:
            raise Conflict(f"the step {rfq['step']} of this inquiry is agreed already (order {agreed[0]})")
        stamp, order_id = now(), new_id("ord")
        terms = {"price": chosen["price"], "currency": chosen["currency"], "quantity": rfq["quantity"],
                 "lead_time_days": chosen["lead_time_days"], "delivery_date": rfq["due"],
                 "delivery": rfq["delivery"], "incoterm": chosen["incoterm"], "conditions": chosen["conditions"],
                 "requirements": rfq["requirements"], "offer_created": chosen["created"]}
        db.execute("INSERT INTO orders (id, rfq, inquiry, step, buyer, provider, service, version, terms, state, "
                   "accepted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
                   (order_id, rfq_id, rfq["inquiry"], rfq["step"], rfq["buyer"], rfq["provider"], rfq["service"],
                    version, json.dumps(terms, ensure_ascii=False), stamp))
        db.execute("INSERT INTO events (order_id, seq, kind, happened, recorded) VALUES (?, 1, 'accepted', ?, ?)",
                   (order_id, today.isoformat(), stamp))
        db.execute("UPDATE offers SET status = 'accepted' WHERE rfq = ? AND version = ?", (rfq_id, version))
        _state(db, rfq_id, "accepted", stamp)
        notify(db, rfq["provider"], "offer.accepted", {"rfq": rfq_id, "version": version, "order": order_id})
        siblings = [row[0] for row in db.execute(
            "SELECT id FROM rfqs WHERE inquiry = ? AND step = ? AND id != ? AND state IN ('requested', 'offered', "
            "'countered')", (rfq["inquiry"], rfq["step"], rfq_id))]
        for sibling in siblings:
            db.execute("UPDATE offers SET status = 'rejected' WHERE rfq = ? AND status = 'open'", (sibling,))
            _state(db, sibling, "closed", stamp, "the buyer accepted another offer for this step")
            notify(db, db.execute("SELECT provider FROM rfqs WHERE id = ?", (sibling,)).fetchone()[0], "rfq.closed",
                   {"rfq": sibling})
    return {"order": order_id, "rfq": view(ledger, party, rfq_id, today=today)}


# --------------------------------------------------------------------------------------------------- reading
def view(ledger: Ledger, party: Party, rfq_id: str, *, today: datetime.date | None = None) -> dict:
    """A request with its offers, as ``party`` may see it (NotFound for anyone but its two parties and
    administrators). Each offer says whether it is expired and what its plan is: the earliest finish from today
    with its lead time, and the slack to the step's due date (negative: it cannot meet it)."""
    today = today or datetime.date.today()
    with ledger.reading() as db:
        rfq = visible(party, one(db, "rfqs", rfq_id, "request for quotation"), "request for quotation")
        offers = [dict(row) for row in db.execute("SELECT * FROM offers WHERE rfq = ? ORDER BY version", (rfq_id,))]
        order = db.execute("SELECT id FROM orders WHERE rfq = ?", (rfq_id,)).fetchone()
    due = datetime.date.fromisoformat(rfq["due"])
    for entry in offers:
        finish = today + datetime.timedelta(days=entry["lead_time_days"])
        entry["expired"] = entry["status"] == "open" and datetime.date.fromisoformat(entry["valid_until"]) < today
        entry["plan"] = {"earliest_finish": finish.isoformat(), "slack_days": (due - finish).days,
                         "meets_due_date": finish <= due}
        del entry["rfq"]
    rfq.update(offers=offers, order=order[0] if order else None)
    return _for(party, rfq)


def _for(party: Party, rfq: dict) -> dict:
    """What ``party`` sees of a request: the buyer's match score is the buyer's own."""
    if party.role == "provider":
        rfq.pop("match_score", None)
    return rfq


def listing(ledger: Ledger, party: Party, *, state: str | None = None, inquiry: str | None = None,
            limit: int = 100, offset: int = 0) -> list[dict]:
    """The requests ``party`` is a party to (a provider's inbox, a buyer's outbox; all for administrators), newest
    first, without their offers."""
    where, args = [], []
    if party.role in ("buyer", "provider"):
        where.append(f"{party.role} = ?")
        args.append(party.organisation)
    elif party.role != "admin":
        return []
    if state:
        where.append("state = ?")
        args.append(state)
    if inquiry:
        where.append("inquiry = ?")
        args.append(inquiry)
    sql = "SELECT * FROM rfqs" + (" WHERE " + " AND ".join(where) if where else "") + \
        " ORDER BY created DESC, id LIMIT ? OFFSET ?"
    with ledger.reading() as db:
        return [_for(party, decoded(row)) for row in db.execute(sql, (*args, limit, offset))]


def comparison(ledger: Ledger, party: Party, inquiry: str, *, today: datetime.date | None = None) -> dict:
    """The buyer's view of an inquiry: per step, every request with its current offer (price, lead time, plan),
    cheapest first, beside the match score the buyer sent with each request (``match_score``)."""
    today = today or datetime.date.today()
    requests = listing(ledger, party, inquiry=inquiry, limit=MAX_ITEMS)
    if not requests:
        raise NotFound(f"no inquiry {inquiry}")
    steps: dict[str, list] = {}
    for rfq in sorted(requests, key=lambda r: (r["position"], r["step"])):
        full = view(ledger, party, rfq["id"], today=today)
        current = next((o for o in reversed(full["offers"]) if o["author"] == "provider" and o["status"] in
                        ("open", "accepted")), None)
        steps.setdefault(rfq["step"], []).append({"rfq": rfq["id"], "service": rfq["service"],
                                                  "provider": rfq["provider"], "state": rfq["state"],
                                                  "match_score": rfq.get("match_score"), "offer": current})
    for options in steps.values():
        options.sort(key=lambda o: (o["offer"] is None, float(o["offer"]["price"]) if o["offer"] else 0.0))
    return {"inquiry": inquiry, "steps": [{"step": step, "options": options} for step, options in steps.items()]}
