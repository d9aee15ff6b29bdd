"""Match results a buyer keeps (issue 21, item 4): the answer as the page showed it and the form's values, stored in
the private ledger (never in the catalogue store) under an unguessable id. The id is the link: whoever has it reads
the result until it expires (``KEEP_DAYS``); the buyer who kept it while signed in also finds it with its key. An
expired result is gone (purged whenever another is kept). Exports: the JSON answer, and CSV with one row per
candidate of every step of every route."""

from __future__ import annotations

import csv
import datetime
import io
import json
import secrets

from maas_kg.errors import InvalidInput, NotFound
from maas_kg.execution.ledger import Ledger

#: days a kept result stays readable
KEEP_DAYS = 30
#: the largest answer kept (a match answer with the default page sizes is 50-300 KB)
MAX_DOCUMENT_BYTES = 5_000_000
#: results one buyer may keep at once (each expires after KEEP_DAYS)
MAX_PER_BUYER = 500

CSV_COLUMNS = ("route", "route_score", "step", "process", "rank", "provider", "provider_name", "service", "name",
               "price", "currency", "price_eur", "price_outlier", "delivery_days", "lead_time_days", "distance_km",
               "score")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def keep(ledger: Ledger, document: dict, form: dict, *, title: str, buyer: str | None = None,
         days: int = KEEP_DAYS) -> dict:
    """Store ``document`` (a match answer) with the ``form`` it came from; the new record (``id``, ``expires``)."""
    text = json.dumps(document, separators=(",", ":"))
    if len(text) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"the result is {len(text):,} bytes, more than the {MAX_DOCUMENT_BYTES:,} kept: match with "
                           "fewer candidates per step")
    created = _now()
    record = {"id": secrets.token_urlsafe(18), "buyer": buyer, "title": title[:200],
              "created": created.isoformat(), "expires": (created + datetime.timedelta(days=days)).isoformat()}
    with ledger.transition() as db:
        db.execute("DELETE FROM saved_results WHERE expires < ?", (created.isoformat(),))
        if buyer is not None:
            count = db.execute("SELECT COUNT(*) FROM saved_results WHERE buyer = ?", (buyer,)).fetchone()[0]
            if count >= MAX_PER_BUYER:
                raise InvalidInput(f"you keep {count} results already, the most at once: let some expire first")
        db.execute("INSERT INTO saved_results (id, buyer, title, document, form, created, expires) "
                   "VALUES (:id, :buyer, :title, :document, :form, :created, :expires)",
                   {**record, "document": text, "form": json.dumps(form)})
    return record


def kept(ledger: Ledger, result_id: str) -> dict:
    """The kept result ``result_id`` (``document`` and ``form`` decoded); NotFound when unknown or expired."""
    with ledger.reading() as db:
        row = db.execute("SELECT * FROM saved_results WHERE id = ? AND expires >= ?",
                         (result_id, _now().isoformat())).fetchone()
    if row is None:
        raise NotFound("no kept result with this link: it expired, or the link is not complete")
    found = dict(row)
    found["document"], found["form"] = json.loads(found["document"]), json.loads(found["form"])
    return found


def kept_by(ledger: Ledger, buyer: str) -> list[dict]:
    """The results ``buyer`` keeps, newest first (id, title, created, expires)."""
    with ledger.reading() as db:
        rows = db.execute("SELECT id, title, created, expires FROM saved_results WHERE buyer = ? AND expires >= ? "
                          "ORDER BY created DESC", (buyer, _now().isoformat())).fetchall()
    return [dict(row) for row in rows]


def _cell(value):
    """A text cell a spreadsheet would run as a formula (provider names are anybody's text) starts with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(document: dict) -> str:
    """One row per candidate shown of every step of every route of a match answer."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for route in document.get("routes", []):
        for step in route.get("steps", []):
            for rank, candidate in enumerate(step.get("candidates", []), start=1):
                quote = candidate.get("quote") or {}
                writer.writerow({name: _cell(value) for name, value in {
                    "route": route["rank"], "route_score": route.get("score"), "step": step["step"],
                    "process": (step.get("process") or {}).get("label"), "rank": rank,
                    "provider": candidate.get("provider"), "provider_name": candidate.get("provider_name"),
                    "service": candidate.get("service"), "name": candidate.get("name"),
                    "price": quote.get("total"), "currency": quote.get("currency"), "price_eur": quote.get("total_eur"),
                    "price_outlier": candidate.get("price_outlier") or "",
                    "delivery_days": candidate.get("delivery_days"), "lead_time_days": candidate.get("lead_time_days"),
                    "distance_km": candidate.get("distance_km"), "score": candidate.get("score")}.items()})
    return out.getvalue()
