"""Content negotiation with Werkzeug's Accept parsing, and the media types of request bodies."""

from __future__ import annotations

import io

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.problems import Problem
from maas_kg import media_types

#: the media types a service or product document may be sent as (maas_kg.media_types.INPUT_SYNTAXES)
BODY_TYPES = sorted(t for s in media_types.INPUT_SYNTAXES for t in (s.media_type, *s.aliases) if "/" in t)
_READ_SIZE = 64 * 1024


def bound_streamed_body() -> None:
    """Before every request: read a body sent without Content-Length (chunked) here, and answer 413 if it is longer
    than ``MAX_CONTENT_LENGTH``, before any handler sees a byte of it. Werkzeug 3.1 ends such a stream silently at
    the limit: a 10.49 MB chunked body was read as its first 10 MB and published. A body within the limit is handed
    on with its Content-Length, like any other."""
    environ, limit = request.environ, current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None or environ.get("CONTENT_LENGTH") or "wsgi.input_terminated" not in environ:
        return  # a Content-Length over the limit is refused by Werkzeug itself
    stream, chunks, size = environ["wsgi.input"], [], 0
    while chunk := stream.read(min(_READ_SIZE, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
    environ["CONTENT_LENGTH"] = str(size)


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
    if media_type not in BODY_TYPES:
        raise Problem(415, "Unsupported media type",
                      f"send the body as one of {', '.join(BODY_TYPES)} (got {media_type or 'none'})")
    return media_types.input_syntax(media_type).name


def body() -> bytes:
    data = request.get_data(cache=True)
    if not data:
        raise Problem(400, "Empty body", "the request needs a body")
    return data
