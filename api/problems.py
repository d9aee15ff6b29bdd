"""Errors as RFC 9457 problem details (``application/problem+json``), and the handlers that turn the library's
exceptions into them: bad input is 400, 413, 415 or 422 with what to fix, never a 500 with a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from maas_kg.errors import MaasKgError
from maas_kg.knowledge.validation import ValidationReport

log = logging.getLogger(__name__)

#: a problem quotes at most this many characters of any text (the input may be 10 MB: 11 MB of garbage once came
#: back as a 10 MB "detail") and lists at most this many items (violations) in any member
MAX_QUOTED_CHARACTERS = 500
MAX_LISTED_ITEMS = 100


class Problem(Exception):
    """An HTTP error with a title, a detail saying what to do, and optional extra members (e.g. violations)."""

    def __init__(self, status: int, title: str, detail: str, *, report: ValidationReport | None = None, **extra):
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra, self.report = status, title, detail, extra, report


def shortened(value, depth: int = 0):
    """``value`` (a problem member) with long texts cut to an excerpt and long lists to their first items; a member
    ``<name>_omitted`` beside a cut list counts the items left out. Problem members are built by this service and
    nest a few levels only."""
    if isinstance(value, str):
        if len(value) <= MAX_QUOTED_CHARACTERS:
            return value
        return value[:MAX_QUOTED_CHARACTERS] + f"... ({len(value) - MAX_QUOTED_CHARACTERS} more characters)"
    if depth > 5:
        return value
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            result[key] = shortened(item, depth + 1)
            if isinstance(item, (list, tuple)) and len(item) > MAX_LISTED_ITEMS:
                result[f"{key}_omitted"] = len(item) - MAX_LISTED_ITEMS
        return result
    if isinstance(value, (list, tuple)):
        return [shortened(item, depth + 1) for item in value[:MAX_LISTED_ITEMS]]
    return value


def problem_response(status: int, title: str, detail: str, **extra):
    document = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(shortened(document))
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_page() -> bool:
    """Whether the error answers a person in a browser: a request to the web pages (blueprint ``web`` and those
    nested in it), or to an unknown address by a client that prefers HTML. API clients always get problem+json."""
    blueprint = request.blueprint or ""
    if blueprint:
        return blueprint == "web" or blueprint.startswith("web.")
    accept = request.accept_mimetypes
    return accept.best_match(["application/problem+json", "application/json", "text/html"]) == "text/html" and \
        accept["text/html"] > accept["application/json"]


def error_page(status: int, title: str, detail: str, *, retry_after: int | None = None):
    """The HTML page of an error: what happened in plain words, and, for a form that was sent, everything typed in
    it kept in a form that sends it again (an uploaded file cannot be kept: the page says so)."""
    kept = list(request.form.items(multi=True)) if request.method == "POST" else []
    uploaded = request.method == "POST" and any(f.filename for f in request.files.values())
    response = current_app.make_response((render_template(
        "error.html", status=status, title=title, detail=shortened(detail), kept=kept, uploaded=uploaded,
        action=request.path), status))
    response.headers["Cache-Control"] = "no-store"  # a kept form may hold a key the person typed
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _wants_turtle() -> bool:
    accept = request.accept_mimetypes
    return bool(request.headers.get("Accept")) and \
        accept.best_match(["application/problem+json", "application/json", "text/turtle"]) == "text/turtle"


def report_response(status: int, title: str, detail: str, report: ValidationReport, **extra):
    """A SHACL report: as problem details with the violations, or as an ``sh:ValidationReport`` in Turtle when the
    client asks for Turtle."""
    if _wants_turtle():
        return Response(report.as_rdf().serialize(format="turtle"), status=status, mimetype="text/turtle")
    return problem_response(status, title, detail, **extra)


def register(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(err: Problem):
        if err.report is not None:
            return report_response(err.status, err.title, err.detail, err.report, **err.extra)
        return problem_response(err.status, err.title, err.detail, **err.extra)

    @app.errorhandler(MaasKgError)
    def _library(err: MaasKgError):
        """Every error of the library, by its kind (``maas_kg.errors``): status and title come with the class; the
        detail is the message, or its public form where the message names what only the operator may see."""
        if err.status >= 500:
            log.error("%s: %s", type(err).__name__, err)
        detail = err.public_detail or str(err)
        if wants_page():
            return error_page(err.status, err.title, detail, retry_after=err.retry_after)
        report = getattr(err, "report", None)
        if report is not None:
            response = report_response(err.status, err.title, detail, report,
                                       violations=report.as_dict()["violations"])
        else:
            response = problem_response(err.status, err.title, detail)
        if err.retry_after is not None:
            response.headers["Retry-After"] = str(err.retry_after)
        return response

    @app.errorhandler(RecursionError)
    def _too_deep(err):
        # only input nests deep enough to exhaust the stack (JSON, JSON-LD, RDF lists): the parsers in
        # maas_kg.catalogue.ingest refuse it first; this answers for any reader that has no such check
        log.warning("recursion limit reached while reading a request: %s", request.path)
        return problem_response(400, "Input nested too deeply", "the request nests objects, arrays or elements "
                                "too deeply to be read: flatten it (service and product documents need fewer "
                                "than 10 levels)")

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(err):
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return problem_response(413, "Content too large", f"the request body is larger than {limit:,} bytes (the "
                                "limit, MAAS_KG_MAX_BODY_BYTES); nothing was written. Send it in several requests")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if wants_page():
            return error_page(err.code or 500, err.name, err.description or err.name)
        return problem_response(err.code or 500, err.name, err.description or err.name)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unexpected error")
        if wants_page():
            return error_page(500, "Internal error", "an unexpected error happened; it was logged")
        return problem_response(500, "Internal error", "an unexpected error happened; it was logged")
