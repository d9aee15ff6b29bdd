"""The ledger of stage 3: requests for quotation, offers, orders, status events and evaluations, in SQLite.

Why SQLite and not a second Oxigraph store: every transition reads a state and writes the next one (accept an offer
only while it is open and valid and no other provider's offer for the same step was accepted), and several gunicorn
worker processes take them at once. SQLite's ``BEGIN IMMEDIATE`` makes each transition one serialised transaction
across processes on one host, and ``UNIQUE (inquiry, step)`` on orders holds the one-agreement-per-step rule even
against a bug; an embedded Oxigraph store can be opened for writing by one process only. The ledger is private (the
public SPARQL endpoint reads the catalogue store only); ``maas_kg.execution.records`` exports an agreement as RDF.
The file is ``MAAS_KG_TRANSACTIONS``, else ``transactions.sqlite`` beside the API keys.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from maas_kg import settings
from maas_kg.errors import Forbidden, NotFound

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rfqs (
    id           TEXT PRIMARY KEY,
    inquiry      TEXT NOT NULL,       -- the requests a buyer sent together (one match result)
    position     INTEGER NOT NULL,    -- the step's place in the route, from 1
    step         TEXT NOT NULL,       -- the step's process (an IRI) or the buyer's name for it
    buyer        TEXT NOT NULL,
    provider     TEXT NOT NULL,
    service      TEXT NOT NULL,
    title        TEXT,
    requirements TEXT NOT NULL,       -- JSON: what this provider sees of the product, nothing more
    quantity     INTEGER NOT NULL,
    due          TEXT NOT NULL,       -- the date this step's output is due
    delivery     TEXT NOT NULL,       -- JSON: where it goes
    state        TEXT NOT NULL,
    reason       TEXT,
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL,
    match_score  REAL                 -- the buyer's match score of the service (shown to the buyer only)
);
CREATE INDEX IF NOT EXISTS rfqs_by_buyer ON rfqs (buyer, created);
CREATE INDEX IF NOT EXISTS rfqs_by_provider ON rfqs (provider, created);
CREATE INDEX IF NOT EXISTS rfqs_by_step ON rfqs (inquiry, step);
-- an inquiry's requests in order: without it SQLite read all of a buyer's requests for one comparison (the buyer
-- index matches the ORDER BY); p95 of the busiest buyer's comparison at 100,000 orders 54 -> 2 ms
CREATE INDEX IF NOT EXISTS rfqs_by_inquiry ON rfqs (inquiry, created);
CREATE TABLE IF NOT EXISTS offers (
    rfq            TEXT NOT NULL REFERENCES rfqs (id),
    version        INTEGER NOT NULL,
    author         TEXT NOT NULL,     -- provider (an offer) or buyer (a counter-offer)
    price          TEXT NOT NULL,     -- a decimal, the total for the quantity
    currency       TEXT NOT NULL,
    lead_time_days INTEGER NOT NULL,
    valid_until    TEXT NOT NULL,
    incoterm       TEXT,
    conditions     TEXT,
    status         TEXT NOT NULL,
    created        TEXT NOT NULL,
    PRIMARY KEY (rfq, version)
);
CREATE TABLE IF NOT EXISTS orders (
    id        TEXT PRIMARY KEY,
    rfq       TEXT NOT NULL UNIQUE REFERENCES rfqs (id),
    inquiry   TEXT NOT NULL,
    step      TEXT NOT NULL,
    buyer     TEXT NOT NULL,
    provider  TEXT NOT NULL,
    service   TEXT NOT NULL,
    version   INTEGER NOT NULL,       -- the accepted offer
    terms     TEXT NOT NULL,          -- JSON: price, currency, quantity, delivery date and place, Incoterm, ...
    state     TEXT NOT NULL,          -- open, delivered, cancelled
    accepted  TEXT NOT NULL,
    UNIQUE (inquiry, step)
);
CREATE INDEX IF NOT EXISTS orders_by_buyer ON orders (buyer, accepted);
-- match results a buyer chose to keep (maas_kg.execution.saved_results): readable with their unguessable id (the
-- link) or by their buyer's key, until they expire
CREATE TABLE IF NOT EXISTS saved_results (
    id        TEXT PRIMARY KEY,
    buyer     TEXT,                   -- the signed-in buyer who kept it, if any
    title     TEXT NOT NULL,
    document  TEXT NOT NULL,          -- JSON: the match answer as shown
    form      TEXT NOT NULL,          -- JSON: the form's values, to match again
    created   TEXT NOT NULL,
    expires   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS saved_results_by_buyer ON saved_results (buyer, created);
CREATE INDEX IF NOT EXISTS saved_results_by_expiry ON saved_results (expires);
CREATE INDEX IF NOT EXISTS orders_by_provider ON orders (provider, accepted);
CREATE TABLE IF NOT EXISTS events (
    order_id  TEXT NOT NULL REFERENCES orders (id),
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    happened  TEXT NOT NULL,
    new_date  TEXT,
    note      TEXT,
    recorded  TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
);
CREATE TABLE IF NOT EXISTS evaluations (
    order_id      TEXT PRIMARY KEY REFERENCES orders (id),
    buyer         TEXT NOT NULL,
    provider      TEXT NOT NULL,
    conforming    INTEGER NOT NULL,
    defects       INTEGER NOT NULL,
    communication INTEGER NOT NULL,
    documents     INTEGER NOT NULL,
    on_time       INTEGER NOT NULL,
    score         REAL NOT NULL,
    comment       TEXT,
    created       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS evaluations_by_provider ON evaluations (provider);
-- webhooks (maas_kg.execution.webhooks): one per organisation, and the outbox of their deliveries
CREATE TABLE IF NOT EXISTS webhooks (
    organisation TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation TEXT NOT NULL,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    due          REAL NOT NULL,          -- seconds since the epoch when the next attempt may go
    status       TEXT NOT NULL,          -- pending, delivered, failed
    last_error   TEXT,
    created      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, due);
"""


def default_ledger_file(keys_file: str | None = None) -> str:
    """``MAAS_KG_TRANSACTIONS``, else ``transactions.sqlite`` beside the API keys file."""
    if settings.TRANSACTIONS.value():
        return settings.TRANSACTIONS.value()
    keys = keys_file or settings.KEYS.value()
    return ":memory:" if keys == ":memory:" else str(Path(keys).with_name("transactions.sqlite"))


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def new_id(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Party:
    """Who acts: a buyer or provider organisation (its IRI), or an administrator (sees everything, acts for no one)."""
    organisation: str | None
    role: str  # buyer, provider, admin

    @classmethod
    def of_key(cls, key) -> Party:
        """The party an API key speaks for."""
        if key.admin:
            return cls(None, "admin")
        if key.buyer:
            return cls(key.buyer, "buyer")
        return cls(key.provider, "provider")

    def sees(self, row: dict) -> bool:
        """Whether this party may read ``row`` (a request, order or evaluation): its two parties and administrators."""
        return self.role == "admin" or (self.role in ("buyer", "provider") and row[self.role] == self.organisation)

    def must_be(self, role: str, row: dict, what: str) -> None:
        """Raise Forbidden unless this party is ``row``'s ``role`` (the buyer or the provider of it)."""
        if self.role != role or row[role] != self.organisation:
            raise Forbidden(f"only the {role} of {row['id']} may {what}")


class Ledger:
    """The SQLite ledger at ``path`` (``:memory:`` keeps one connection, for tests and the memory store)."""

    def __init__(self, path: str | Path | None = None):
        self.path = str(path or default_ledger_file())
        self._memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False) \
            if self.path == ":memory:" else None
        if self._memory is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            if self._memory is None:
                db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            db.executescript(_SCHEMA)
            if "match_score" not in {row[1] for row in db.execute("PRAGMA table_info(rfqs)")}:  # older files
                db.execute("ALTER TABLE rfqs ADD COLUMN match_score REAL")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self._memory is not None:
            yield self._memory
            return
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def transition(self) -> Iterator[sqlite3.Connection]:
        """One transition: a write transaction taken before the first read (``BEGIN IMMEDIATE``), so what it read
        is still true when it commits; rolled back whole on any error."""
        with self._connection() as db:
            db.row_factory = sqlite3.Row
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            db.row_factory = sqlite3.Row
            yield db


def one(db: sqlite3.Connection, table: str, key: str, what: str) -> dict:
    """The row of ``table`` with id ``key`` as a dict (JSON columns decoded), or NotFound."""
    column = "order_id" if table in ("evaluations",) else "id"
    row = db.execute(f"SELECT * FROM {table} WHERE {column} = ?", (key,)).fetchone()
    if row is None:
        raise NotFound(f"no {what} {key}")
    return decoded(row)


def decoded(row: sqlite3.Row) -> dict:
    result = dict(row)
    for column in ("requirements", "delivery", "terms"):
        if column in result and isinstance(result[column], str):
            result[column] = json.loads(result[column])
    return result


def visible(party: Party, row: dict, what: str) -> dict:
    """``row`` if ``party`` may read it; otherwise NotFound, as if it did not exist (nothing leaks)."""
    if not party.sees(row):
        raise NotFound(f"no {what} {row.get('id') or row.get('order_id')}")
    return row
