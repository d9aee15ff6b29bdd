"""Webhooks: a party's own system hears of what concerns it (a request or an offer arrives, an offer is accepted, an
order event is posted), signed with HMAC-SHA256 and retried with exponential back-off.

Outbox pattern: a notification is written into the ledger in the same transaction as the transition it reports, so
nothing is announced that did not happen and nothing that happened is lost; a sender thread in each server worker
claims due deliveries with a lease (so two workers never send one twice at once), POSTs them and records the outcome.

The receiver checks ``X-MaaS-KG-Signature: sha256=<hex>``, the HMAC-SHA256 with its secret of
``<X-MaaS-KG-Timestamp>.<body>``, and may refuse old timestamps. Security: a webhook URL is http(s) only and must not
point into the operator's own network (loopback, private, link-local addresses, checked again before every
delivery since DNS may change) unless it starts with a prefix of ``MAAS_KG_WEBHOOK_ALLOW``; redirects are not
followed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable

import requests

from maas_kg import settings
from maas_kg.execution import fields
from maas_kg.execution.ledger import Ledger, Party, now

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30.0  # then doubled per attempt: 30 s, 1 min, 2 min, ... about an hour in all
LEASE_SECONDS = 60.0
TIMEOUT_SECONDS = 5.0

def notify(db, organisation: str, kind: str, payload: dict) -> None:
    """In a transition's transaction: queue a notification for ``organisation`` if it has a webhook."""
    if db.execute("SELECT 1 FROM webhooks WHERE organisation = ?", (organisation,)).fetchone() is None:
        return
    body = json.dumps({"kind": kind, "at": now(), **payload}, ensure_ascii=False, sort_keys=True)
    db.execute("INSERT INTO deliveries (organisation, kind, body, due, status, created) "
               "VALUES (?, ?, ?, ?, 'pending', ?)", (organisation, kind, body, time.time(), now()))


def register(ledger: Ledger, party: Party, doc: dict) -> dict:
    """Set the organisation's webhook URL; a new secret each time (shown only in this answer)."""
    if party.role not in ("buyer", "provider"):
        raise fields.FieldError("url", "webhooks belong to a buyer or provider organisation's key")
    url = fields.text(fields.document(doc), "url", limit=1000)
    refusal = _refusal(url)
    if refusal:
        raise fields.FieldError("url", refusal)
    secret = secrets.token_urlsafe(32)
    with ledger.transition() as db:
        db.execute("INSERT INTO webhooks (organisation, url, secret, created) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (organisation) DO UPDATE SET url = excluded.url, secret = excluded.secret, "
                   "created = excluded.created", (party.organisation, url, secret, now()))
    return {"url": url, "secret": secret}


def show(ledger: Ledger, party: Party) -> dict:
    """The organisation's webhook (without its secret) and its last 20 deliveries."""
    with ledger.reading() as db:
        hook = db.execute("SELECT url, created FROM webhooks WHERE organisation = ?", (party.organisation,)).fetchone()
        recent = db.execute("SELECT id, kind, attempts, status, last_error, created FROM deliveries "
                            "WHERE organisation = ? ORDER BY id DESC LIMIT 20", (party.organisation,)).fetchall()
    return {"url": hook["url"] if hook else None, "created": hook["created"] if hook else None,
            "deliveries": [dict(row) for row in recent]}


def remove(ledger: Ledger, party: Party) -> None:
    with ledger.transition() as db:
        db.execute("DELETE FROM webhooks WHERE organisation = ?", (party.organisation,))
        db.execute("UPDATE deliveries SET status = 'failed', last_error = 'webhook removed' "
                   "WHERE organisation = ? AND status = 'pending'", (party.organisation,))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                                hashlib.sha256).hexdigest()


def deliver_due(ledger: Ledger, *, limit: int = 20, clock: Callable[[], float] = time.time,
                post: Callable[..., requests.Response] = requests.post) -> int:
    """Send the deliveries that are due (at most ``limit``); return how many succeeded."""
    moment = clock()
    with ledger.transition() as db:
        claimed = [dict(row) for row in db.execute(
            "SELECT d.id, d.body, d.attempts, d.kind, w.url, w.secret FROM deliveries d "
            "JOIN webhooks w ON w.organisation = d.organisation WHERE d.status = 'pending' AND d.due <= ? "
            "ORDER BY d.due LIMIT ?", (moment, limit))]
        for row in claimed:  # the lease: another worker skips them until it ends
            db.execute("UPDATE deliveries SET due = ? WHERE id = ?", (moment + LEASE_SECONDS, row["id"]))
    delivered = 0
    for row in claimed:
        body = row["body"].encode("utf-8")
        stamp = str(int(moment))
        error = _refusal(row["url"])
        if error is None:
            try:
                answer = post(row["url"], data=body, timeout=TIMEOUT_SECONDS, allow_redirects=False, headers={
                    "Content-Type": "application/json", "X-MaaS-KG-Delivery": str(row["id"]),
                    "X-MaaS-KG-Event": row["kind"], "X-MaaS-KG-Timestamp": stamp,
                    "X-MaaS-KG-Signature": signature(row["secret"], stamp, body)})
                error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
            except requests.RequestException as err:
                error = type(err).__name__
        attempts = row["attempts"] + 1
        with ledger.transition() as db:
            if error is None:
                db.execute("UPDATE deliveries SET status = 'delivered', attempts = ?, last_error = NULL "
                           "WHERE id = ?", (attempts, row["id"]))
                delivered += 1
            else:
                final = attempts >= MAX_ATTEMPTS
                db.execute("UPDATE deliveries SET status = ?, attempts = ?, last_error = ?, due = ? WHERE id = ?",
                           ("failed" if final else "pending", attempts, error[:200],
                            moment + FIRST_RETRY_SECONDS * 2 ** (attempts - 1), row["id"]))
    return delivered


def _refusal(url: str) -> str | None:
    """Why a webhook may not go to ``url`` (None: it may)."""
    if any(url.startswith(prefix) for prefix in settings.WEBHOOK_ALLOW.value()):
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL"
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443,
                                                               proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError, ValueError):
        return f"the host {parts.hostname} does not resolve"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            return (f"{parts.hostname} is in a private or local network ({ip}); webhooks go to public addresses "
                    "unless the operator allow-lists the URL (MAAS_KG_WEBHOOK_ALLOW)")
    return None


class Sender(threading.Thread):
    """A worker's sender: delivers what is due every ``interval`` seconds until the process ends."""

    def __init__(self, ledger: Ledger, interval: float = 1.0):
        super().__init__(name="webhooks", daemon=True)
        self.ledger, self.interval = ledger, interval

    def run(self) -> None:
        while True:
            try:
                deliver_due(self.ledger)
            except Exception:  # noqa: BLE001 - a locked or damaged ledger must not end the thread; logged
                log.exception("webhook deliveries failed; retrying")
            time.sleep(self.interval)
