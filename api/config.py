"""Configuration objects (Flask's pattern): defaults here, overridden by environment variables ``MAAS_KG_*`` or by a
mapping passed to ``create_app``."""

from __future__ import annotations

import os

from maas_kg.keys import default_keys_file
from maas_kg.serving import sparql_allow_list
from maas_kg.store import default_location


class Config:
    # the catalogue store: a directory (embedded), "memory", or an Oxigraph server's URL (what `maas-kg serve` uses)
    STORE = default_location()
    KEYS_FILE = default_keys_file()
    # providers' private values (SQLite); None: MAAS_KG_PRIVATE, else private.sqlite beside KEYS_FILE
    PRIVATE_FILE: str | None = None
    # request bodies larger than this get 413
    MAX_CONTENT_LENGTH = int(os.environ.get("MAAS_KG_MAX_BODY_BYTES", 10 * 1024 * 1024))
    # the public SPARQL endpoint: time limit (s), most results returned, and the only remote targets SERVICE may name
    SPARQL_TIMEOUT = float(os.environ.get("MAAS_KG_SPARQL_TIMEOUT", 10))
    SPARQL_RESULT_LIMIT = int(os.environ.get("MAAS_KG_SPARQL_RESULT_LIMIT", 10000))
    # how long a request waits for a remote store (SPARQL over HTTP) before answering 503; at least the SPARQL
    # timeout plus 5 s
    STORE_TIMEOUT = float(os.environ.get("MAAS_KG_STORE_TIMEOUT", 30))
    SPARQL_REMOTE_ALLOW_LIST = sparql_allow_list()  # MAAS_KG_SPARQL_ALLOW
    # public SPARQL queries running at once in one worker process, and for one client (remote address) in one worker;
    # more get 503 at once
    SPARQL_CONCURRENCY = int(os.environ.get("MAAS_KG_SPARQL_CONCURRENCY", 2))
    SPARQL_PER_CLIENT = int(os.environ.get("MAAS_KG_SPARQL_PER_CLIENT", 1))
    # longest query or update text (characters): rdflib's parser, which checks every query for SERVICE and LOAD
    # before the store sees it, is pure Python (see maas_kg.public_sparql.MAX_QUERY_CHARACTERS)
    SPARQL_MAX_QUERY_CHARACTERS = int(os.environ.get("MAAS_KG_SPARQL_MAX_QUERY_CHARACTERS", 100_000))
    # load changed ontology modules into the store when the app starts (`maas-kg serve` does it once, before forking)
    SYNC_ONTOLOGY = True
    PAGE_SIZE = 50
    MAX_PAGE_SIZE = 500
    JSON_SORT_KEYS = False


class TestingConfig(Config):
    TESTING = True
    STORE = "memory"
