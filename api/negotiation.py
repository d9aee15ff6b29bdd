"""Content negotiation with Werkzeug's Accept parsing, and the media types of request bodies."""

from __future__ import annotations

from flask import request

from api.problems import Problem

# request body media type -> maas_kg.ingest format name
BODY_FORMATS = {
    "text/turtle": "turtle", "application/x-turtle": "turtle",
    "application/n-triples": "ntriples", "text/plain": "ntriples",
    "application/rdf+xml": "rdfxml",
    "application/ld+json": "jsonld",
    "application/json": "json",
}
RDF_RESPONSES = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


def best_response(available: list[str]) -> str:
    """The media type to answer in: the best of ``available`` for the Accept header (the first without one)."""
    if not request.headers.get("Accept"):
        return available[0]
    chosen = request.accept_mimetypes.best_match(available)
    if chosen is None:
        raise Problem(406, "Not acceptable", f"this resource is available as {', '.join(available)}")
    return chosen


def body_format() -> str:
    """The ingest format of the request body, from its Content-Type (415 if unknown)."""
    media_type = request.mimetype
    if media_type not in BODY_FORMATS:
        raise Problem(415, "Unsupported media type",
                      f"send the body as one of {', '.join(sorted(BODY_FORMATS))} (got {media_type or 'none'})")
    return BODY_FORMATS[media_type]


def body() -> bytes:
    data = request.get_data(cache=True)
    if not data:
        raise Problem(400, "Empty body", "the request needs a body")
    return data
