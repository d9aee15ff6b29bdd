"""The service catalogue over REST: create, replace, withdraw, read and list services.

A provider's key may change only its own organisation's services; everybody may read the public catalogue.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, request, url_for

from api.auth import current_key, key_required, ownership_check
from api.formats import download_name, download_type, serialise, service_iri, service_url
from api.negotiation import best_response, body, body_format
from api.problems import Problem, shortened
from api.state import resources
from maas_kg import catalogue
from maas_kg.catalogue.ingest import json_context, json_fields, term_indexes
from maas_kg.catalogue.publishing import IDENTICAL
from maas_kg.knowledge.validation import ValidationReport
from maas_kg.knowledge.vocabulary import AmbiguousTerm, UnknownTerm
from maas_kg.media_types import RDF_RESPONSES

bp = Blueprint("services", __name__)

MAX_PAGE = 10**9


def _results_problem(results) -> Problem:
    failed = [r for r in results if not r.published]
    refused = [r for r in failed if any(v.component == "access control" for v in r.violations)]
    violations = [{"service": r.service, **v.__dict__} for r in failed for v in r.violations]
    if refused and len(refused) == len(failed):
        reasons = sorted({v.message for r in refused for v in r.violations if v.component == "access control"})
        return Problem(403, "Not your service", "; ".join(reasons[:3]) + "; nothing was written",
                       violations=violations)
    identical = {r.service: v.value for r in failed for v in r.violations if v.component == IDENTICAL}
    if identical and all(all(v.component == IDENTICAL for v in r.violations) for r in failed):
        existing = sorted(set(identical.values()))
        return Problem(409, "Already published", f"the same service of the same provider is published already as "
                       f"{', '.join(existing[:3])}: replace it with PUT {service_url(existing[0])} instead of creating "
                       "it again; nothing was written", existing=existing,
                       existing_urls=[service_url(s) for s in existing], violations=violations)
    report = ValidationReport(conforms=False, violations=[v for r in failed for v in r.violations])
    return Problem(422, "Invalid service", f"{len(failed)} service(s) do not conform to the shapes; nothing was "
                   "written. Each violation names the node, the property, the value found and what to fix.",
                   report=report, violations=violations)


def _publish(data: bytes, fmt: str, *, expect: str | None = None, create_only: bool = False):
    store, key = resources().catalogue, current_key()
    owners: dict[str, str | None] = {}
    owned = ownership_check(key, owners)

    def may_publish(service: str, provider: str | None) -> bool:
        if expect is not None and service != expect:
            raise Problem(400, "Wrong service", f"the body describes {service}, not {expect}: a PUT replaces the "
                          "service its URL names")
        allowed = owned(service, provider)
        if create_only and owners.get(service):
            raise Problem(409, "Already published", f"{service} is published already: replace it with PUT "
                          f"{service_url(service)}")
        return allowed

    results = catalogue.publish(store, data, fmt, publisher=key.agent, may_publish=may_publish, atomic=True,
                                private=resources().private, complete=key.may_change)
    if any(not r.published for r in results):
        raise _results_problem(results)
    return results, owners


def _with_id(data: bytes, fmt: str, service: str) -> bytes:
    """A plain-JSON body without ``id`` is about the service its URL names."""
    if fmt != "json":
        return data
    import json

    try:
        document = json.loads(data)
    except ValueError:
        return data  # the reader reports the syntax error
    if isinstance(document, dict) and "id" not in document:
        document["id"] = service
        return json.dumps(document).encode("utf-8")
    return data


@bp.post("/services")
@key_required
def create_services():
    results, _ = _publish(body(), body_format(), create_only=True)
    document = {"published": [{"service": r.service, "version": r.version, "url": service_url(r.service),
                               "private_values": r.private_values} for r in results]}
    response = jsonify(document)
    response.status_code = 201
    if len(results) == 1:
        response.headers["Location"] = service_url(results[0].service)
    return response


@bp.put("/services/<path:service_id>")
@key_required
def replace_service(service_id: str):
    service = service_iri(service_id)
    fmt = body_format()
    results, owners = _publish(_with_id(body(), fmt, service), fmt, expect=service)
    created = owners.get(service) is None
    response = jsonify({"service": service, "version": results[0].version, "url": service_url(service),
                        "private_values": results[0].private_values})
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = service_url(service)
    return response


@bp.delete("/services/<path:service_id>")
@key_required
def withdraw_service(service_id: str):
    service, store, key = service_iri(service_id), resources().catalogue, current_key()
    owner = catalogue.providers_of(store, [service]).get(service)
    if owner is None:
        raise Problem(404, "No such service", f"{service} is not published")

    def may_withdraw(owner_on_record: str | None) -> None:
        if not key.may_change(owner) or (owner_on_record is not None and not key.may_change(owner_on_record)):
            raise Problem(403, "Not your service", f"{service} belongs to {owner_on_record or owner}; nothing was "
                          "changed")

    try:
        version = catalogue.withdraw(store, service, agent=key.agent, private=resources().private,
                                     may_withdraw=may_withdraw)
    except catalogue.ServiceConflict as err:
        raise Problem(409, "Withdrawn meanwhile", f"{err}: a concurrent request withdrew it first") from None
    except catalogue.UnknownService as err:
        raise Problem(404, "No such service", str(err)) from None
    return jsonify({"service": service, "withdrawn_version": version})


@bp.get("/services/<path:service_id>/private")
@key_required
def get_private_values(service_id: str):
    """The provider-private values of a service (maas:visibility maas:ProviderPrivate), for its provider's keys and
    administrators only; JSON, or RDF by Accept."""
    service, key = service_iri(service_id), current_key()
    owner = catalogue.providers_of(resources().catalogue, [service]).get(service)
    if owner is None:
        raise Problem(404, "No such service", f"{service} is not published")
    if not key.may_change(owner):
        raise Problem(403, "Not your service", f"the private values of {service} belong to {owner}")
    found = catalogue.private_values(resources().catalogue, resources().private, service)
    triples = [(t.subject, t.predicate, t.object) for t in found.triples] if found else []
    chosen = best_response(["application/json"] + RDF_RESPONSES)
    if chosen != "application/json":
        return Response(serialise(triples, chosen), mimetype=chosen)
    fields = json_fields()
    return jsonify({"service": service, "provider": owner, "version": found.version if found else None,
                    "updated": found.updated if found else None,
                    "values": {fields.get(t[1].value, t[1].value): _plain(t[2]) for t in triples}})


def _plain(term):
    """A literal's value as JSON: numbers as numbers, the rest as text."""
    if getattr(term, "datatype", None) is not None and term.datatype.value.endswith(("#decimal", "#integer", "#double")):
        number = float(term.value)
        return int(number) if number.is_integer() else number
    return term.value


def _summary(service: str) -> dict:
    rows = catalogue.list_services(resources().catalogue, service=service, index=catalogue_index())
    if not rows:
        raise Problem(404, "No such service", f"{service} is not published (or was withdrawn)")
    return rows[0]


@bp.get("/services/<path:service_id>")
def get_service(service_id: str):
    service = service_iri(service_id)
    chosen = download_type(["application/json", *RDF_RESPONSES])
    summary = _summary(service)
    triples = resources().catalogue.graph_triples(catalogue.service_graph(service))
    if chosen == "application/json":
        return jsonify({**summary, "description": _compact_jsonld(triples)})
    response = Response(serialise(triples, chosen), mimetype=chosen)
    if "format" in request.args:
        response.headers["Content-Disposition"] = f'attachment; filename="{download_name(service, chosen)}"'
    return response


def _compact_jsonld(triples) -> dict:
    """The service as JSON-LD compacted with the project's own context (terms as in the plain JSON format)."""
    import json

    import rdflib

    from maas_kg.rdf import to_rdflib

    graph: rdflib.Graph = to_rdflib([ox.Triple(*t) for t in triples])
    return json.loads(graph.serialize(format="json-ld", context={"@context": json_context()}, auto_compact=True))


@bp.get("/services")
def list_services():
    config = resources()
    try:
        page = int(request.args.get("page", 1))
        size = min(int(request.args.get("per_page", _page_size())), _max_page_size())
    except ValueError:
        raise Problem(400, "Bad page", "page and per_page must be whole numbers") from None
    if page < 1 or size < 1:
        raise Problem(400, "Bad page", "page and per_page start at 1")
    if page > MAX_PAGE:  # the store parses OFFSET as a 64-bit number: page=10^21 was a 500
        raise Problem(400, "Bad page", f"page is at most {MAX_PAGE:,}: no catalogue has that many pages")
    near = _near()
    indexes = term_indexes()
    try:
        process = request.args.get("process")
        material = request.args.get("material")
        certification = request.args.get("certification")
        rows = catalogue.list_services(
            config.catalogue,
            process=str(indexes["process"].resolve(process)) if process else None,
            material=str(indexes["material"].resolve(material)) if material else None,
            certification=str(indexes["certification"].resolve(certification)) if certification else None,
            country=request.args.get("country"), near=near, limit=size + 1, offset=(page - 1) * size,
            index=catalogue_index())
    except (UnknownTerm, AmbiguousTerm) as err:
        raise Problem(400, "Unknown filter value", str(err)) from None
    except catalogue.CatalogueError as err:
        raise Problem(400, "Bad filter", str(err)) from None
    more = len(rows) > size
    items = [{**row, "url": service_url(row["service"])} for row in rows[:size]]
    document = {"items": items, "page": page, "per_page": size}
    if more:
        args = {**request.args.to_dict(), "page": page + 1, "per_page": size}
        document["next"] = url_for("services.list_services", **args)
    return jsonify(document)


def catalogue_index():
    """The catalogue's match index, which serves the listing's filters and facet counts (maas_kg.catalogue.listing:
    5-40 s a request at 100,000 services by the rules in the store, milliseconds from the index); None with
    ``CATALOGUE_ENGINE = "sparql"``, which lists by the rules (the reference)."""
    from flask import current_app

    if current_app.config.get("CATALOGUE_ENGINE", "index") == "sparql":
        return None
    from maas_kg.matching.catalogue_index import catalogue_index as beside

    return beside(resources().workspace.index)


def parse_near(near: str, radius_km: str | None) -> tuple[float, float, float]:
    """``near`` ("lat,lon" in degrees) and ``radius_km`` (default 100) as (lat, lon, radius); a ValueError names the
    parameter (``err.args[0]``) and says what is wrong (``err.args[1]``)."""
    parts = near.split(",")
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError:
        raise ValueError("near", "near is 'lat,lon' in degrees, e.g. near=48.14,11.58") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("near", "near needs a latitude in [-90, 90] and a longitude in [-180, 180] degrees")
    try:
        radius = float(radius_km) if radius_km not in (None, "") else 100.0
    except ValueError:
        raise ValueError("radius_km", "radius_km is a distance in km, e.g. radius_km=150") from None
    if not radius >= 0:  # NaN too
        raise ValueError("radius_km", "radius_km is a distance of 0 km or more, e.g. radius_km=150")
    return lat, lon, radius


def _near() -> tuple[float, float, float] | None:
    near = request.args.get("near")
    if near is None:
        return None
    try:
        return parse_near(near, request.args.get("radius_km"))
    except ValueError as err:
        parameter, detail = err.args
        raise Problem(400, f"Bad {parameter}", detail, parameter=parameter) from None


def _page_size() -> int:
    from flask import current_app

    return current_app.config["PAGE_SIZE"]


def _max_page_size() -> int:
    from flask import current_app

    return current_app.config["MAX_PAGE_SIZE"]


@bp.post("/validate")
def validate():
    """Check a service (``?kind=service``, the default) or product document without storing anything: 200 with
    ``conforms`` and the violations, each with the plain JSON field it concerns where there is one."""
    kind = request.args.get("kind", "service")
    if kind not in ("service", "product"):
        raise Problem(400, "Bad kind", "kind is service or product")
    report = catalogue.check_document(body(), body_format(), kind=kind)
    chosen = best_response(["application/json", "text/turtle"])
    if chosen == "text/turtle":
        return Response(report.as_rdf().serialize(format="turtle"), mimetype="text/turtle")
    fields = json_fields()
    # like a problem, the report quotes excerpts of the input only (a value may be megabytes long)
    return jsonify(shortened({"conforms": report.conforms,
                              "violations": [{**v.__dict__, "field": fields.get(v.path or "")}
                                             for v in report.violations]}))
