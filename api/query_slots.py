"""Limits and addresses shared by the doors to the public SPARQL endpoint (``/sparql`` and the web query page): the
query slots per worker and per client, and the public URL relative IRIs resolve against."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter

from flask import Response, current_app, url_for

from api.problems import Problem, problem_response

# characters an IRI may not hold (RFC 3987 and SPARQL's IRIREF): the public base is built from the Host header
_NOT_IN_IRI = set('<>"{}|^`\\ ') | {chr(c) for c in range(0x21)}

class SlotsTaken(Exception):
    """Every slot for public queries that the request could take is in use."""


class QuerySlots:
    """At most ``per_worker`` public queries at a time in this worker process and ``per_client`` for one remote
    address, taken without waiting (a thread that waited would hold a gunicorn thread as well)."""

    def __init__(self, per_worker: int, per_client: int):
        self.per_worker, self.per_client = per_worker, per_client
        self._lock = threading.Lock()
        self._running = 0
        self._by_client: Counter[str] = Counter()

    @contextlib.contextmanager
    def taken(self, client: str):
        with self._lock:
            if self._running >= self.per_worker or self._by_client[client] >= self.per_client:
                raise SlotsTaken()
            self._running += 1
            self._by_client[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                self._by_client[client] -= 1
                if not self._by_client[client]:
                    del self._by_client[client]


def init_app(app) -> None:
    app.extensions["maas_kg_sparql_slots"] = QuerySlots(app.config["SPARQL_CONCURRENCY"],
                                                        app.config["SPARQL_PER_CLIENT"])


def slots() -> QuerySlots:
    return current_app.extensions["maas_kg_sparql_slots"]


def busy() -> Response:
    """503 saying how many queries a worker and a client may run."""
    taken = slots()
    response = problem_response(
        503, "Too many queries",
        f"this endpoint runs at most {taken.per_worker} public SPARQL queries at a time in each worker process, "
        f"and at most {taken.per_client} per client in each; they are in use: retry in a few seconds (after your "
        "running query has finished), or narrow the query so that it finishes sooner")
    response.headers["Retry-After"] = "5"
    return response


def public_base() -> str:
    """The public URL of /sparql: the base of relative IRIs in queries and in updates alike (``<a>`` is
    ``http://host/a`` in both, which it would not be with each request's own URL)."""
    base = url_for("sparql.query", _external=True)
    if _NOT_IN_IRI & set(base):
        raise Problem(400, "Bad Host header", "the Host header makes the endpoint's URL an invalid IRI")
    return base


