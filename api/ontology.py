"""The ontology, whole or per module, in Turtle, RDF/XML or JSON-LD, and the JSON-LD context of the plain JSON
formats."""

from __future__ import annotations

import io

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, request, url_for

from api.auth import admin_required
from api.formats import serialise
from api.negotiation import best_response
from api.problems import Problem
from api.state import resources
from maas_kg import knowledge, media_types
from maas_kg.knowledge import extensions
from maas_kg.knowledge.graphs import extension_triples
from maas_kg.media_types import RDF_RESPONSES

bp = Blueprint("ontology", __name__)



def _answer(paths, extra=()) -> Response:
    chosen = best_response(RDF_RESPONSES)
    if chosen == "text/turtle" and len(paths) == 1 and not extra:
        return Response(paths[0].read_bytes(), mimetype=chosen)  # the editors' file as written, comments and all
    triples = [ox.Triple(*t) for t in extra]
    for path in paths:
        triples += [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
    output = io.BytesIO()
    ox.serialize(triples, output, format=media_types.rdf_syntax(chosen).oxigraph)
    return Response(output.getvalue(), mimetype=chosen)


@bp.get("/ontology")
def whole_ontology():
    """Every module and every taxonomy extension."""
    return _answer(list(knowledge.ontology_modules().values()), extension_triples(resources().catalogue))


@bp.get("/ontology/extensions")
def list_extensions():
    names = extensions.list_extensions(resources().catalogue)
    return jsonify({"extensions": [{"name": n, "url": url_for("ontology.read_extension", name=n)} for n in names]})


@bp.post("/ontology/extensions")
@admin_required
def add_extension():
    name = request.args.get("name")
    if not name:
        raise Problem(400, "Name the extension", "give the extension a name: POST /ontology/extensions?name=my-processes")
    if name in extensions.list_extensions(resources().catalogue):
        raise Problem(409, "Extension exists", f"replace it with PUT {url_for('ontology.read_extension', name=name)}")
    return _store_extension(name, created=True)


@bp.put("/ontology/extensions/<name>")
@admin_required
def replace_extension(name: str):
    return _store_extension(name, created=name not in extensions.list_extensions(resources().catalogue))


def _store_extension(name: str, *, created: bool):
    if request.mimetype not in ("text/turtle", "application/x-turtle"):
        raise Problem(415, "Unsupported media type", "send the extension as Turtle (text/turtle)")
    try:
        count = extensions.add_extension(resources().catalogue, name, request.get_data())
    except extensions.ExtensionRejected as err:
        if err.report is not None:
            raise Problem(422, "Extension rejected", str(err), report=err.report,
                          violations=err.report.as_dict()["violations"]) from None
        raise Problem(422, "Extension rejected", str(err)) from None
    response = jsonify({"name": name, "triples": count, "url": url_for("ontology.read_extension", name=name)})
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = url_for("ontology.read_extension", name=name)
    return response


@bp.get("/ontology/extensions/<name>")
def read_extension(name: str):
    store = resources().catalogue
    if name not in extensions.list_extensions(store):
        raise Problem(404, "No such extension", f"the extensions are: {', '.join(extensions.list_extensions(store)) or 'none'}")
    chosen = best_response(RDF_RESPONSES)
    return Response(serialise(store.graph_triples(extensions.extension_graph(name)), chosen), mimetype=chosen)


@bp.delete("/ontology/extensions/<name>")
@admin_required
def remove_extension(name: str):
    try:
        extensions.remove_extension(resources().catalogue, name)
    except LookupError as err:
        raise Problem(404, "No such extension", f"{err}; the extensions are: "
                      f"{', '.join(extensions.list_extensions(resources().catalogue)) or 'none'}") from None
    return Response(status=204)


@bp.get("/ontology/<module>")
def ontology_module(module: str):
    modules = knowledge.ontology_modules()
    if module not in modules:
        raise Problem(404, "No such module", f"the modules are {', '.join(modules)}")
    return _answer([modules[module]])


@bp.get("/context.jsonld")
def context():
    return Response((knowledge.ontology_dir() / "context.jsonld").read_bytes(), mimetype="application/ld+json")
