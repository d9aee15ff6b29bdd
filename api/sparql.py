"""SPARQL 1.1 Protocol: the public, read-only ``/sparql`` and the administrators' ``/sparql/update``.

Query via GET (``?query=``), POST form (``application/x-www-form-urlencoded``) or POST direct
(``application/sparql-query``); exactly one query per request; answers by Accept. Updates on ``/sparql`` are 403.
``default-graph-uri`` / ``named-graph-uri`` set a query's dataset and ``using-graph-uri`` / ``using-named-graph-uri``
an update's, from the URL or, for a form POST, from the form and the URL together. Relative IRIs resolve against the
endpoint's public URL. Public queries run at most ``SPARQL_CONCURRENCY`` at a time in a worker process and
``SPARQL_PER_CLIENT`` per client; more get 503 at once, so the catalogue, matching and /health keep answering.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from api import query_slots
from api.auth import admin_required
from api.negotiation import best_response
from api.problems import Problem
from api.state import resources
from maas_kg import media_types
from maas_kg.catalogue import change_record, public_sparql

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
    """The query (or update) text and the dataset IRIs from a protocol request. With a form POST, dataset
    parameters count from the form and from the URL alike (never ignored); the text itself comes from the body."""
    if request.method == "GET":
        if name == "update":
            raise Problem(405, "Use POST", "updates are sent with POST")
        text = _text_parameter(request.args.getlist(name), name)
        graphs = [request.args]
    elif request.mimetype == _FORM:
        form = request.form
        if request.args.getlist(name):
            raise Problem(400, f"{name.capitalize()} in the URL", f"a form POST carries the {name} in its body, "
                          "not in the URL")
        text = _text_parameter(form.getlist(name), name)
        if text is None and name == "query" and "update" in form:
            raise Problem(403, "Read-only endpoint", "this endpoint is read-only: updates go to /sparql/update "
                          "with an administrator's key")
        graphs = [form, request.args]
    elif request.mimetype == direct_type:
        if request.args.getlist(name):
            raise Problem(400, f"More than one {name}", f"send the {name} in the body or in the URL, not both")
        text = _utf8(request.get_data())
        graphs = [request.args]
    elif request.mimetype == "application/sparql-update" and name == "query":
        raise Problem(403, "Read-only endpoint", "this endpoint is read-only: updates go to /sparql/update")
    else:
        raise Problem(415, "Unsupported media type",
                      f"POST the {name} as {_FORM} or {direct_type} (got {request.mimetype or 'none'})")
    if not text:
        raise Problem(400, f"No {name}", f"the request carries no {name}: use the '{name}' parameter")
    parameters = ("using-graph-uri", "using-named-graph-uri") if name == "update" else \
        ("default-graph-uri", "named-graph-uri")
    default_graphs, named_graphs = ([iri for source in graphs for iri in source.getlist(parameter)]
                                    for parameter in parameters)
    return text, default_graphs, named_graphs


def _dataset_iris(iris: list[str], parameter: str) -> list[str]:
    """The graph IRIs of a protocol parameter, each an absolute IRI (it goes to the store as given)."""
    for iri in iris:
        try:
            ox.NamedNode(iri)  # pyoxigraph's IRI parser: absolute IRIs only
        except ValueError:
            raise Problem(400, "Bad graph IRI", f"{parameter} must be an absolute IRI such as "
                          f"https://example.org/graph (got {iri[:200]!r})") from None
    return iris


@bp.route("/sparql", methods=["GET", "POST"])
def query():
    if request.method == "GET" and not request.args:
        return _service_description()
    if request.method == "GET" and "update" in request.args:
        raise Problem(403, "Read-only endpoint", "this endpoint is read-only")
    text, default_graphs, named_graphs = _operation("query", "application/sparql-query")
    default_graphs = _dataset_iris(default_graphs, "default-graph-uri")
    named_graphs = _dataset_iris(named_graphs, "named-graph-uri")
    config = current_app.config
    try:
        with query_slots.slots().taken(request.remote_addr or "unknown"):
            return _answer(text, config, default_graphs or None, named_graphs or None)
    except query_slots.SlotsTaken:
        return query_slots.busy()


def _answer(text: str, config, default_graphs: list[str] | None, named_graphs: list[str] | None) -> Response:
    # refusals, syntax errors, sizes and timeouts are maas_kg errors: api.problems answers them
    operation = public_sparql.parse_query(text, base=query_slots.public_base(),
                                          max_characters=config["SPARQL_MAX_QUERY_CHARACTERS"])
    chosen = _format_parameter(operation.form) or best_response(list(public_sparql.answer_syntaxes(operation.form)))
    answer = public_sparql.answer(resources().catalogue, operation, chosen, limit=config["SPARQL_RESULT_LIMIT"],
                                  timeout=config["SPARQL_TIMEOUT"], allow_list=config["SPARQL_REMOTE_ALLOW_LIST"],
                                  default_graph=default_graphs, named_graphs=named_graphs)
    response = Response(answer.body, mimetype=answer.media_type)
    if answer.media_type.startswith("text/") or answer.media_type.endswith("json"):
        response.charset = "utf-8"
    if answer.truncated:
        response.headers["X-Result-Truncated"] = str(config["SPARQL_RESULT_LIMIT"])
    download = request.values.get("download")
    if download is not None:  # only when asked: protocol clients get the answer inline, as before
        response.headers["Content-Disposition"] = _attachment(download, answer.media_type, operation.form)
    return response


def _attachment(name: str, media_type: str, form: str) -> str:
    """``?download=<name>`` (the web page's download links): the answer as a file ``<name>.<extension>`` (the
    extension of its media type), so downloads of different queries and formats do not overwrite each other. The
    name keeps letters, digits, ``_`` and ``-`` only; ``results`` if nothing is left."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:80].strip("-") or "results"
    syntax = public_sparql.answer_syntaxes(form).get(media_type)
    extension = syntax.extensions[0] if syntax is not None and syntax.extensions else ""
    return f'attachment; filename="{stem}{extension}"'


def _format_parameter(form: str) -> str | None:
    """The media type ``?format=`` names (links that cannot set Accept: the web pages' downloads); Accept is the
    standard way."""
    name = request.values.get("format")
    if name is None:
        return None
    graph = form in ("CONSTRUCT", "DESCRIBE")
    syntax = media_types.named(name, graph=graph)
    if syntax is None:
        offered = dict.fromkeys(s.name for s in media_types.answer_syntaxes(graph=graph).values())
        raise Problem(400, "Bad format", f"a {form} query can be answered as: {', '.join(offered)}")
    return syntax.media_type


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
    text, using_graphs, using_named_graphs = _operation("update", "application/sparql-update")
    using_graphs = _dataset_iris(using_graphs, "using-graph-uri")
    using_named_graphs = _dataset_iris(using_named_graphs, "using-named-graph-uri")
    config = current_app.config
    operation = public_sparql.parse_update(text, base=query_slots.public_base(),
                                           max_characters=config["SPARQL_MAX_QUERY_CHARACTERS"])
    public_sparql.refuse_remote_access(operation, config["SPARQL_REMOTE_ALLOW_LIST"])
    store = resources().catalogue
    if using_graphs or using_named_graphs:
        _check_using_parameters(operation, store)
        dataset = {"using_graphs": using_graphs, "using_named_graphs": using_named_graphs}
    else:
        dataset = {}
    store.update(operation.text, **dataset)
    store.update(change_record(whole=True))  # an update may change any service: match indexes read again
    return Response(status=204)


def _check_using_parameters(operation: public_sparql.Operation, store) -> None:
    """SPARQL 1.1 Protocol 2.2.3: using-graph-uri / using-named-graph-uri act as USING / USING NAMED, and may not
    be combined with USING, USING NAMED or WITH in the update itself."""
    if operation.dataset_clauses:
        clauses = ", ".join(sorted(set(operation.dataset_clauses)))
        raise Problem(400, "Dataset given twice", f"the update has {clauses}: send either those or the "
                      "using-graph-uri / using-named-graph-uri parameters, not both")
    if not store.update_dataset_parameters:
        raise Problem(400, "Dataset parameters not supported", "this service's embedded store cannot apply "
                      "using-graph-uri / using-named-graph-uri: write USING / USING NAMED in the update instead")
