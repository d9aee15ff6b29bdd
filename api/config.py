"""The application's configuration (Flask's pattern): ``defaults()`` from the settings of ``maas_kg.settings``
(environment variables ``MAAS_KG_*``), overridden by a mapping or object passed to ``create_app``."""

from __future__ import annotations

from maas_kg import settings
from maas_kg.catalogue.keys import default_keys_file


def defaults() -> dict:
    """The configuration keys the application reads, from the environment as it is now."""
    return {
        # the catalogue store: a directory (embedded), "memory", or a store URL (what `maas-kg serve` passes)
        "STORE": settings.STORE.value(),
        "KEYS_FILE": default_keys_file(),
        # providers' private values (SQLite); None: MAAS_KG_PRIVATE, else private.sqlite beside KEYS_FILE
        "PRIVATE_FILE": None,
        # requests for quotation, offers, orders, events, evaluations (SQLite); None: MAAS_KG_TRANSACTIONS, else
        # transactions.sqlite beside KEYS_FILE
        "TRANSACTIONS_FILE": None,
        "MAX_CONTENT_LENGTH": settings.MAX_BODY_BYTES.value(),  # Flask answers 413 beyond
        "SPARQL_TIMEOUT": settings.SPARQL_TIMEOUT.value(),
        "SPARQL_RESULT_LIMIT": settings.SPARQL_RESULT_LIMIT.value(),
        # how long a request waits for a remote store before answering 503 (api.state makes it at least the
        # SPARQL timeout plus 5 s)
        "STORE_TIMEOUT": settings.STORE_TIMEOUT.value(),
        "SPARQL_REMOTE_ALLOW_LIST": settings.SPARQL_ALLOW.value(),
        # public SPARQL queries at once in one worker process, and for one client address in one worker; more get
        # 503 at once
        "SPARQL_CONCURRENCY": settings.SPARQL_CONCURRENCY.value(),
        "SPARQL_PER_CLIENT": settings.SPARQL_PER_CLIENT.value(),
        # rdflib's parser, which checks every query for SERVICE and LOAD before the store sees it, is pure Python
        # (see maas_kg.catalogue.public_sparql.MAX_QUERY_CHARACTERS)
        "SPARQL_MAX_QUERY_CHARACTERS": settings.SPARQL_MAX_QUERY_CHARACTERS.value(),
        # load changed ontology modules into the store when the app starts (`maas-kg serve` does it once, before
        # forking)
        "SYNC_ONTOLOGY": True,
        # the match index's snapshot; None: the one of the store the app opens (maas_kg.matching.index.snapshot_for
        # of STORE, read in api.state: a default taken from MAAS_KG_STORE gave an app of another store, an
        # in-memory one, that store's snapshot), and whether each worker loads or builds its index at start instead
        # of at the first match (`maas-kg serve` does)
        "MATCH_INDEX": None,
        "WARM_MATCH_INDEX": False,
        # a thread per worker sends the webhooks' deliveries (maas-kg serve turns it on)
        "SEND_WEBHOOKS": False,
        "PAGE_SIZE": 50,
        "MAX_PAGE_SIZE": 500,
    }
