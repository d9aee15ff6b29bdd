"""API keys: one per provider or buyer organisation (or an administrator), stored only as SHA-256 hashes.

A key is ``mkg_<key id>_<secret>``; the key id names it in listings and revocations, the secret is shown once at
creation. Keys live in a small SQLite file beside the store (``var/keys.sqlite`` unless ``MAAS_KG_KEYS`` says
otherwise), never in the knowledge graph: the public SPARQL endpoint must not see even their hashes. SQLite lets
every server worker process read them safely while the CLI adds or revokes keys.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from maas_kg import settings
from maas_kg.errors import InvalidInput

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id   TEXT PRIMARY KEY,
    sha256   TEXT NOT NULL,
    provider TEXT,              -- the provider organisation's IRI; NULL for administrators
    admin    INTEGER NOT NULL DEFAULT 0,
    label    TEXT,
    created  TEXT NOT NULL,
    revoked  TEXT,
    buyer    TEXT               -- the buyer organisation's IRI, for keys of buyers
)"""

# IRI namespaces an administrator granted a provider beyond its own (its provider IRI followed by '/')
_GRANTS = """
CREATE TABLE IF NOT EXISTS namespace_grants (
    provider  TEXT NOT NULL,
    namespace TEXT NOT NULL,
    granted   TEXT NOT NULL,
    PRIMARY KEY (provider, namespace)
)"""


class KeyRingError(InvalidInput):
    """A key could not be created or revoked; the message says why."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    provider: str | None
    admin: bool
    label: str | None
    created: str
    revoked: str | None = None
    #: IRI prefixes an administrator granted this key's provider, besides its own namespace
    namespaces: tuple[str, ...] = ()
    #: the buyer organisation whose requests for quotation, orders and evaluations this key makes
    buyer: str | None = None

    @property
    def agent(self) -> str:
        """The PROV-O agent recorded for this key's changes: its provider, or the administrator behind it."""
        return self.provider or self.buyer or f"https://w3id.org/maas-kg/id/administrator/{self.key_id}"

    def may_change(self, provider: str | None) -> bool:
        """Whether this key may create, replace or withdraw a service of ``provider``."""
        return self.admin or (provider is not None and provider == self.provider)

    def may_name(self, service: str) -> bool:
        """Whether this key may publish a service under the IRI ``service``: administrators anywhere, a provider
        under its own provider IRI followed by '/' and under the namespaces granted to it."""
        if self.admin:
            return True
        owned = ((self.provider + "/",) if self.provider else ()) + self.namespaces
        return any(service.startswith(prefix) and len(service) > len(prefix) for prefix in owned)


def default_keys_file() -> str:
    return settings.KEYS.value()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class KeyRing:
    """The API keys in the SQLite file at ``path``."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or default_keys_file())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)
            db.execute(_GRANTS)
            if "buyer" not in {row[1] for row in db.execute("PRAGMA table_info(api_keys)")}:  # files before buyers
                db.execute("ALTER TABLE api_keys ADD COLUMN buyer TEXT")

    def _connect(self) -> sqlite3.Connection:
        # a connection per call: cheap, and safe across threads and forked worker processes
        return sqlite3.connect(self.path, timeout=10)

    def create(self, *, provider: str | None = None, admin: bool = False, label: str | None = None,
               buyer: str | None = None) -> tuple[str, ApiKey]:
        """Create a key; return the token (shown once, stored only as a hash) and its record."""
        if sum(map(bool, (provider, buyer, admin))) != 1:
            raise KeyRingError("a key is for one of: a provider organisation (--provider IRI), a buyer organisation "
                               "(--buyer IRI), or --admin")
        for name, value in (("provider", provider), ("buyer", buyer)):
            if value and not value.startswith(("http://", "https://", "urn:")):
                raise KeyRingError(f"the {name} must be an IRI such as https://example.org/{name}/acme, not {value!r}")
        key_id = secrets.token_hex(4)
        token = f"mkg_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(key_id, provider, admin, label, _now(), buyer=buyer)
        with self._connect() as db:
            db.execute("INSERT INTO api_keys (key_id, sha256, provider, admin, label, created, buyer) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (key_id, _digest(token), provider, int(admin), label, record.created, buyer))
        return token, record

    def list(self) -> list[ApiKey]:
        with self._connect() as db:
            rows = db.execute("SELECT key_id, provider, admin, label, created, revoked, buyer FROM api_keys "
                              "ORDER BY created, key_id").fetchall()
        return [ApiKey(r[0], r[1], bool(r[2]), r[3], r[4], r[5], buyer=r[6]) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        with self._connect() as db:
            changed = db.execute("UPDATE api_keys SET revoked = ? WHERE key_id = ? AND revoked IS NULL",
                                 (_now(), key_id)).rowcount
        if not changed:
            known = {k.key_id: k for k in self.list()}
            if key_id in known:
                raise KeyRingError(f"key {key_id} is already revoked")
            raise KeyRingError(f"no key {key_id}: 'maas-kg keys list' shows the key ids")
        return next(k for k in self.list() if k.key_id == key_id)

    def authenticate(self, token: str) -> ApiKey | None:
        """The live key for ``token``, or None (unknown, malformed or revoked)."""
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "mkg":
            return None
        with self._connect() as db:
            row = db.execute("SELECT key_id, sha256, provider, admin, label, created, revoked, buyer FROM api_keys "
                             "WHERE key_id = ?", (parts[1],)).fetchone()
        if row is None or row[6] is not None or not hmac.compare_digest(row[1], _digest(token)):
            return None
        return ApiKey(row[0], row[2], bool(row[3]), row[4], row[5], namespaces=tuple(self.namespaces(row[2])),
                      buyer=row[7])

    def grant(self, provider: str, namespace: str) -> None:
        """Let ``provider``'s keys publish services whose IRIs start with ``namespace`` (an absolute http(s) IRI
        prefix). Services published there already keep their owners."""
        for name, value in (("provider", provider), ("namespace", namespace)):
            if not _is_http_iri(value):
                raise KeyRingError(f"the {name} must be an absolute http(s) IRI such as "
                                   f"https://example.org/provider/acme/, not {value!r}")
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO namespace_grants (provider, namespace, granted) VALUES (?, ?, ?)",
                       (provider, namespace, _now()))

    def namespaces(self, provider: str | None) -> list[str]:
        """The namespaces granted to ``provider`` (its own, provider IRI + '/', is implied and not listed)."""
        if provider is None:
            return []
        with self._connect() as db:
            rows = db.execute("SELECT namespace FROM namespace_grants WHERE provider = ? ORDER BY namespace",
                              (provider,)).fetchall()
        return [r[0] for r in rows]

    def grants(self) -> list[tuple[str, str, str]]:
        """Every grant: (provider, namespace, when granted)."""
        with self._connect() as db:
            return db.execute("SELECT provider, namespace, granted FROM namespace_grants "
                              "ORDER BY provider, namespace").fetchall()


def _is_http_iri(value: str) -> bool:
    """An absolute http(s) IRI, by the RDF store's IRI parser and the URL's scheme and host."""
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
