"""SPARQL 1.1 Protocol: the public, read-only ``/sparql`` and the administrators' ``/sparql/update``.

Query via GET (``?query=``), POST form (``application/x-www-form-urlencoded``) or POST direct
(``application/sparql-query``); exactly one query per request; answers by Accept. Updates on ``/sparql`` are 403.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from api.auth import admin_required
from api.negotiation import best_response
from api.problems import Problem
from api.state import resources
from maas_kg import public_sparql
from maas_kg.public_sparql import QueryMalformed, QueryRefused, QueryTimeout
from maas_kg.store import StoreError

bp = Blueprint("sparql", __name__)

_FORM = "application/x-www-form-urlencoded"


def _text_parameter(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise Problem(400, f"More than one {name}", f"send exactly one {name} per request")
    return values[0] if values else None


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "Not UTF-8", "the request body must be UTF-8 text") from None


def _operation(name: str, direct_type: str) -> tuple[str, list[str], list[str]]:
    """The query (or update) text and the dataset IRIs from a protocol request."""
    if request.method == "GET":
        if name == "update":
            raise Problem(405, "Use POST", "updates are sent with POST")
        text = _text_parameter(request.args.getlist(name), name)
        graphs = request.args
    elif request.mimetype == _FORM:
        form = request.form
        text = _text_parameter(form.getlist(name), name)
        if text is None and name == "query" and "update" in form:
            raise Problem(403, "Read-only endpoint", "this endpoint is read-only: updates go to /sparql/update "
                          "with an administrator's key")
        graphs = form
    elif request.mimetype == direct_type:
        if request.args.getlist(name):
            raise Problem(400, f"More than one {name}", f"send the {name} in the body or in the URL, not both")
        text = _utf8(request.get_data())
        graphs = request.args
    elif request.mimetype == "application/sparql-update" and name == "query":
        raise Problem(403, "Read-only endpoint", "this endpoint is read-only: updates go to /sparql/update")
    else:
        raise Problem(415, "Unsupported media type",
                      f"POST the {name} as {_FORM} or {direct_type} (got {request.mimetype or 'none'})")
    if not text:
        raise Problem(400, f"No {name}", f"the request carries no {name}: use the '{name}' parameter")
    prefix = "using-" if name == "update" else ""
    return text, graphs.getlist(f"{prefix}default-graph-uri"), graphs.getlist(f"{prefix}named-graph-uri")


@bp.route("/sparql", methods=["GET", "POST"])
def query():
    if request.method == "GET" and not request.args:
        return _service_description()
    if request.method == "GET" and "update" in request.args:
        raise Problem(403, "Read-only endpoint", "this endpoint is read-only")
    text, default_graphs, named_graphs = _operation("query", "application/sparql-query")
    if default_graphs or named_graphs:
        raise Problem(400, "Dataset not supported", "this endpoint answers over the whole public catalogue; use "
                      "FROM / GRAPH in the query instead of default-graph-uri / named-graph-uri")
    config = current_app.config
    try:
        form = public_sparql.query_form(text)
        chosen = _format_parameter(form) or best_response(public_sparql.media_types(form))
        answer = public_sparql.answer(resources().catalogue, text, chosen, limit=config["SPARQL_RESULT_LIMIT"],
                                      timeout=config["SPARQL_TIMEOUT"],
                                      allow_list=config["SPARQL_REMOTE_ALLOW_LIST"])
    except QueryRefused as err:
        raise Problem(403, "Refused", str(err)) from None
    except QueryMalformed as err:
        raise Problem(400, "Malformed query", str(err)) from None
    except QueryTimeout as err:
        raise Problem(503, "Query timeout", f"{err}: narrow the query or add a LIMIT") from None
    response = Response(answer.body, mimetype=answer.media_type)
    if answer.media_type.startswith("text/") or answer.media_type.endswith("json"):
        response.charset = "utf-8"
    if answer.truncated:
        response.headers["X-Result-Truncated"] = str(config["SPARQL_RESULT_LIMIT"])
    return response


# ?format= for links that cannot set Accept (downloads in the web pages); Accept is the standard way
_FORMAT_NAMES = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                 "csv": "text/csv", "tsv": "text/tab-separated-values", "turtle": "text/turtle",
                 "ntriples": "application/n-triples", "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}


def _format_parameter(form: str) -> str | None:
    name = request.values.get("format")
    if name is None:
        return None
    media_type = _FORMAT_NAMES.get(name)
    if media_type not in public_sparql.media_types(form):
        raise Problem(400, "Bad format", f"a {form} query can be answered as: "
                      + ", ".join(n for n, t in _FORMAT_NAMES.items() if t in public_sparql.media_types(form)))
    return media_type


def _service_description() -> Response:
    """A SPARQL 1.1 Service Description of this endpoint (Turtle)."""
    endpoint = request.base_url
    body = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix formats: <http://www.w3.org/ns/formats/> .

<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat formats:SPARQL_Results_JSON, formats:SPARQL_Results_XML, formats:SPARQL_Results_CSV,
        formats:SPARQL_Results_TSV, formats:Turtle, formats:N-Triples, formats:JSON-LD, formats:RDF_XML ;
    sd:feature sd:UnionDefaultGraph ;
    sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ] ] .
"""
    return Response(body, mimetype="text/turtle")


@bp.post("/sparql/update")
@admin_required
def update():
    text, default_graphs, named_graphs = _operation("update", "application/sparql-update")
    if default_graphs or named_graphs:
        raise Problem(400, "Dataset not supported", "use WITH / USING in the update instead of using-graph-uri")
    try:
        public_sparql.check_update(text, current_app.config["SPARQL_REMOTE_ALLOW_LIST"])
    except QueryRefused as err:
        raise Problem(403, "Refused", str(err)) from None
    try:
        resources().catalogue.update(text)
    except StoreError as err:
        if "syntax" in str(err).lower():
            raise Problem(400, "Malformed update", str(err)) from None
        raise
    return Response(status=204)
