"""Provider-private values: what a service description states with properties the ontology marks
``maas:visibility maas:ProviderPrivate`` (internal cost rate, capacity utilisation, notes).

Publishing splits them off; they never enter the catalogue store, which the public SPARQL endpoint reads whole.
They live in a small SQLite file, ``private.sqlite`` beside the API keys (``var/`` by default, ``MAAS_KG_PRIVATE``
to put it elsewhere), one row per service with its provider, so the HTTP layer can hand them to that provider's keys
only. SQLite lets every server worker read and write them safely, as for the API keys.
"""

from __future__ import annotations

import datetime
import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from maas_kg import settings
from maas_kg.catalogue.keys import default_keys_file
from maas_kg.knowledge import rules

# one row per (service, version): publishing writes the row of a new version before the store commits it, and
# readers take only the row of the version the catalogue publishes, so a crash between the two writes can neither
# lose the values of a published version nor serve those of a version that never got published (issue 15, item 10)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS private_versions (
    service  TEXT NOT NULL,
    provider TEXT,
    version  INTEGER NOT NULL,
    triples  TEXT NOT NULL,     -- N-Triples
    updated  TEXT NOT NULL,
    PRIMARY KEY (service, version)
)"""
# files written before: one row per service, its version then published
_OLD_TABLE = "private_values"


def default_private_file(keys_file: str | None = None) -> str:
    """``MAAS_KG_PRIVATE``, else ``private.sqlite`` beside the API keys file (both are the operator's private
    files; ``var/`` by default)."""
    if settings.PRIVATE.value():
        return settings.PRIVATE.value()
    keys = keys_file or default_keys_file()
    return ":memory:" if keys == ":memory:" else str(Path(keys).with_name("private.sqlite"))


@dataclass(frozen=True)
class PrivateValues:
    service: str
    provider: str | None
    version: int
    triples: list[ox.Triple]
    updated: str


def private_properties(store) -> frozenset[str]:
    """The properties the ontology (with its extensions) in ``store`` marks provider-private."""
    return frozenset(row["property"].value for row in rules.select(store, "catalogue/private-properties.rq"))


def split_private(triples: list[ox.Triple], private: frozenset[str]) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """(public, private) parts of a service's triples."""
    public, withheld = [], []
    for triple in triples:
        (withheld if triple.predicate.value in private else public).append(triple)
    return public, withheld


class PrivateStore:
    """The provider-private values of every service version, in one SQLite file."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._memory = sqlite3.connect(":memory:", check_same_thread=False) if self.path == ":memory:" else None
        db = self._connect()
        with db:
            db.execute(_SCHEMA)
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_OLD_TABLE,)).fetchone():
                db.execute(f"INSERT OR IGNORE INTO private_versions SELECT service, provider, version, triples, updated "
                           f"FROM {_OLD_TABLE}")
                db.execute(f"DROP TABLE {_OLD_TABLE}")

    @property
    def lock_path(self) -> Path | None:
        """The file every process that publishes into the catalogue locks (``catalogue.lock`` beside this file);
        None in memory, where only one process can see the values."""
        return None if self.path == ":memory:" else Path(self.path).with_name("catalogue.lock")

    def _connect(self) -> sqlite3.Connection:
        return self._memory or sqlite3.connect(self.path, timeout=30)

    def stage(self, rows: list[tuple[str, str | None, int, list[ox.Triple]]]) -> None:
        """Before the store commits new versions: store each (service, provider, version, private triples) row in
        one transaction, replacing whatever an earlier attempt left for that version or a later one."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
        db = self._connect()
        with db:
            for service, provider, version, triples in rows:
                db.execute("DELETE FROM private_versions WHERE service = ? AND version >= ?", (service, version))
                if triples:
                    db.execute("INSERT INTO private_versions VALUES (?, ?, ?, ?, ?)",
                               (service, provider, version, _ntriples(triples), now))

    def settle(self, published: list[tuple[str, int]]) -> None:
        """After the store committed (service, version) pairs: drop the rows of their earlier versions."""
        db = self._connect()
        with db:
            db.executemany("DELETE FROM private_versions WHERE service = ? AND version < ?", published)

    def put(self, rows: list[tuple[str, str | None, int, list[ox.Triple]]]) -> None:
        """Store rows of versions that are published already (stage, then settle)."""
        self.stage(rows)
        self.settle([(service, version) for service, _, version, _ in rows])

    def get(self, service: str, version: int | None = None) -> PrivateValues | None:
        """The private values of ``version`` of ``service`` (readers pass the version the catalogue publishes now;
        None: the latest row, which may belong to a version that never got published)."""
        row = self._connect().execute(
            "SELECT service, provider, version, triples, updated FROM private_versions WHERE service = ? "
            "AND (? IS NULL OR version = ?) ORDER BY version DESC LIMIT 1", (service, version, version)).fetchone()
        if row is None:
            return None
        triples = [q.triple for q in ox.parse(row[3].encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]
        return PrivateValues(row[0], row[1], row[2], triples, row[4])

    def versions(self) -> list[tuple[str, int]]:
        """Every (service, version) that has a row."""
        return self._connect().execute("SELECT service, version FROM private_versions ORDER BY service, version").fetchall()

    def drop(self, rows: list[tuple[str, int]]) -> None:
        db = self._connect()
        with db:
            db.executemany("DELETE FROM private_versions WHERE service = ? AND version = ?", rows)

    def delete(self, service: str) -> None:
        db = self._connect()
        with db:
            db.execute("DELETE FROM private_versions WHERE service = ?", (service,))


def _ntriples(triples: list[ox.Triple]) -> str:
    text = io.BytesIO()
    ox.serialize(sorted(triples, key=str), text, format=ox.RdfFormat.N_TRIPLES)
    return text.getvalue().decode("utf-8")


__all__ = ["PrivateStore", "PrivateValues", "default_private_file", "private_properties", "split_private"]
