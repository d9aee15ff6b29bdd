"""Every setting of MaaS-KG, declared once: its environment variable, default, kind and meaning.

Read with ``settings.SPARQL_TIMEOUT.value()`` at the moment it is needed (tests and the command line set variables per
process). A value that does not parse is a ``SettingError`` that names the variable and says what it takes. The
README's configuration table lists the same variables (a test holds them equal). Imports nothing of maas_kg.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from maas_kg.errors import Misconfigured


class SettingError(Misconfigured, ValueError):
    """An environment variable holds a value its setting cannot take; the message names both."""


def _positive_number(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError
    return value


def _positive_integer(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError
    return value


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class Setting:
    variable: str
    default: object
    meaning: str
    parse: Callable[[str], object] = str
    takes: str = "text"

    def value(self, environ: Mapping[str, str] | None = None):
        """The value set in the environment (``os.environ`` unless given), else the default."""
        text = (os.environ if environ is None else environ).get(self.variable)
        if text is None or text == "":
            return self.default
        try:
            return self.parse(text)
        except ValueError:
            raise SettingError(f"{self.variable} takes {self.takes}, not {text[:80]!r}") from None


STORE = Setting("MAAS_KG_STORE", "var/store",
                "the catalogue store: a directory (embedded), 'memory', or a store URL (http(s)://, virtuoso+http://)")
KEYS = Setting("MAAS_KG_KEYS", "var/keys.sqlite", "the API keys and namespace grants (SQLite)")
PRIVATE = Setting("MAAS_KG_PRIVATE", None, "providers' private values (SQLite); default private.sqlite beside the keys")
TRANSACTIONS = Setting("MAAS_KG_TRANSACTIONS", None, "requests for quotation, offers, orders, events and evaluations "
                       "(SQLite); default transactions.sqlite beside the keys")
ONTOLOGY_DIR = Setting("MAAS_KG_ONTOLOGY_DIR", None, "an ontology folder to load instead of the shipped one")
QUERY_URL = Setting("MAAS_KG_QUERY_URL", None, "a remote store's SPARQL query endpoint, where not the default layout")
UPDATE_URL = Setting("MAAS_KG_UPDATE_URL", None, "a remote store's SPARQL update endpoint")
GRAPH_STORE_URL = Setting("MAAS_KG_GRAPH_STORE_URL", None, "a remote store's Graph Store Protocol endpoint")
STORE_TIMEOUT = Setting("MAAS_KG_STORE_TIMEOUT", 30.0, "seconds a request waits for a remote store before 503",
                        _positive_number, "a number of seconds above 0")
MAX_BODY_BYTES = Setting("MAAS_KG_MAX_BODY_BYTES", 10 * 1024 * 1024, "largest request body (413 beyond)",
                         _positive_integer, "a whole number of bytes, at least 1")
MAX_SERVICE_TRIPLES = Setting("MAAS_KG_MAX_SERVICE_TRIPLES", 5000, "most triples one service may hold (422 beyond)",
                              _positive_integer, "a whole number, at least 1")
SPARQL_TIMEOUT = Setting("MAAS_KG_SPARQL_TIMEOUT", 10.0, "seconds a public SPARQL query may run (503 beyond)",
                         _positive_number, "a number of seconds above 0")
SPARQL_RESULT_LIMIT = Setting("MAAS_KG_SPARQL_RESULT_LIMIT", 10000, "most results of a public SPARQL answer",
                              _positive_integer, "a whole number, at least 1")
SPARQL_ALLOW = Setting("MAAS_KG_SPARQL_ALLOW", (), "IRI prefixes SERVICE and LOAD may reach (none by default)",
                       _words, "space-separated IRI prefixes")
WEBHOOK_ALLOW = Setting("MAAS_KG_WEBHOOK_ALLOW", (), "URL prefixes webhooks may reach in private networks (none by "
                        "default: public addresses only)", _words, "space-separated URL prefixes")
SPARQL_CONCURRENCY = Setting("MAAS_KG_SPARQL_CONCURRENCY", 2, "public SPARQL queries at a time in each worker",
                             _positive_integer, "a whole number, at least 1")
SPARQL_PER_CLIENT = Setting("MAAS_KG_SPARQL_PER_CLIENT", 1, "public SPARQL queries at a time for one client address",
                            _positive_integer, "a whole number, at least 1")
SPARQL_MAX_QUERY_CHARACTERS = Setting("MAAS_KG_SPARQL_MAX_QUERY_CHARACTERS", 100_000,
                                      "longest query or update text checked (413 beyond)",
                                      _positive_integer, "a whole number, at least 1")

#: seconds and address space a CAD file's parse may take (maas_kg.cad.limits): measured on 2 cores
#: (benchmarks/bench_cad.py), the examples take 1 to 2 s and 300 MB, a 1,000,000-triangle STL 26 s and 814 MB, a 10 MB
#: STEP plate with 1936 holes 86 s and 4.9 GB (refused under these defaults)
CAD_SECONDS = Setting("MAAS_KG_CAD_SECONDS", 60.0, "seconds a CAD file's parse may take (422 beyond)",
                      _positive_number, "a number of seconds above 0")
CAD_MEMORY = Setting("MAAS_KG_CAD_MEMORY", 2 * 1024 ** 3, "address space a CAD file's parse may use, in bytes",
                     _positive_integer, "a whole number of bytes, at least 1")

MATCH_INDEX = Setting("MAAS_KG_MATCH_INDEX", None,
                      "the match index snapshot (a numpy .npz file); default <store>.match-index.npz beside an on-disk "
                      "store, none for other stores")

ALL = (STORE, KEYS, PRIVATE, TRANSACTIONS, WEBHOOK_ALLOW, MATCH_INDEX, ONTOLOGY_DIR, QUERY_URL, UPDATE_URL, GRAPH_STORE_URL, STORE_TIMEOUT, MAX_BODY_BYTES,
       MAX_SERVICE_TRIPLES, SPARQL_TIMEOUT, SPARQL_RESULT_LIMIT, SPARQL_ALLOW, SPARQL_CONCURRENCY, SPARQL_PER_CLIENT,
       SPARQL_MAX_QUERY_CHARACTERS, CAD_SECONDS, CAD_MEMORY)


def check() -> None:
    """Read every setting once: ``SettingError`` for the first that does not parse."""
    for setting in ALL:
        setting.value()
