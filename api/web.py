"""The web application for people at providers and buyers: catalogue, publish, match, SPARQL and taxonomy pages.

Server-rendered Jinja templates; every asset is served from ``api/static`` (no CDN). Handlers turn form fields
into the documented plain JSON formats and call ``maas_kg``; no domain rules live here.
"""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import (Blueprint, current_app, flash, g, get_flashed_messages, jsonify, redirect, render_template,
                   request, url_for)

from api.auth import ownership_check
from api.formats import service_url
from api.problems import shortened
from api.query_slots import SlotsTaken, public_base, slots
from api.state import resources
from api.web_cad import bp as cad_bp
from api.web_cad import cad_limit, match_cad
from api.web_circularity import bp as circularity_bp
from api.web_orders import FormExpired, _check_form, signed_in
from api.web_orders import bp as orders_bp
from api.web_resilience import bp as resilience_bp
from maas_kg import catalogue, knowledge
from maas_kg.catalogue import CatalogueError, browse, public_sparql
from maas_kg.catalogue.ingest import InputError, format_for, json_fields, term_indexes
from maas_kg.catalogue.keys import ApiKey
from maas_kg.catalogue.public_sparql import QueryMalformed, QueryRefused, QueryTimeout
from maas_kg.catalogue.publishing import IDENTICAL, provider_profile
from maas_kg.execution import saved_results
from maas_kg.knowledge import MAT, PROC
from maas_kg.knowledge.vocabulary import AmbiguousTerm, UnknownTerm
from maas_kg.matching import places
from maas_kg.matching.criteria import relax_hints
from maas_kg.matching.products import ProductError
from maas_kg.matching.report import as_json
from maas_kg.store import StoreError

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
bp.register_blueprint(orders_bp)  # the stage-3 pages: sign-in, inbox, purchases, offers, orders (api/web_orders.py)
bp.register_blueprint(resilience_bp)  # the resilience page: a value chain under disruptions (api/web_resilience.py)
bp.register_blueprint(circularity_bp)  # the circularity page: circular chains for take-back (api/web_circularity.py)
bp.register_blueprint(cad_bp)  # the matching form's CAD part and the 3D preview's library (api/web_cad.py)

@bp.before_app_request
def _language():
    chosen = request.args.get("lang") or request.cookies.get("lang")
    g.lang = chosen if chosen in browse.LANGUAGES else "en"


@bp.after_app_request
def _remember_language(response):
    if request.args.get("lang") in browse.LANGUAGES:
        response.set_cookie("lang", request.args["lang"], samesite="Lax", max_age=365 * 24 * 3600)
    return response


@bp.app_context_processor
def _helpers():
    def url_with(**changes):
        args = {**request.args.to_dict(), **changes}
        kept = {k: v for k, v in args.items() if v}
        if request.endpoint is None:  # an error page of an address no route knows (404)
            return request.path + ("?" + urlencode(kept) if kept else "")
        return url_for(request.endpoint, **{**(request.view_args or {}), **kept})

    return {"lang": g.get("lang", "en"), "url_with": url_with, "short": _short}


def _short(iri: str | None) -> str:
    if not iri:
        return ""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@bp.get("/")
def home():
    return redirect(url_for("web.catalogue_page"))


@bp.get("/favicon.ico")
def favicon():
    """For clients that ask the conventional address; the pages link the SVG itself."""
    return bp.send_static_file("favicon.svg")


# -- catalogue ---------------------------------------------------------------------------------------------------

@bp.get("/catalogue")
def catalogue_page():
    store = resources().catalogue
    args = request.args
    errors: dict[str, str] = {}
    filters: dict = {}
    indexes = term_indexes()
    for name, index in (("process", "process"), ("material", "material"), ("certification", "certification")):
        if args.get(name):
            try:
                filters[name] = str(indexes[index].resolve(args[name]))
            except (UnknownTerm, AmbiguousTerm) as err:
                errors[name] = str(err)
    if args.get("country"):
        filters["country"] = args["country"]
    from api.services import catalogue_index, parse_near

    if args.get("near"):
        try:
            filters["near"] = parse_near(args["near"], args.get("radius_km"))
        except ValueError as err:  # next to the field it is about: near or radius_km
            errors[err.args[0]] = err.args[1]
    elif args.get("radius_km"):
        errors["near"] = "give the place (latitude,longitude) that the radius is around, e.g. 48.14,11.58"
    try:
        page = min(max(1, int(args.get("page", 1))), 10**9)
    except ValueError:
        page = 1
    size = 25
    rows: list[dict] = []
    facets: dict = {"country": [], "certification": []}
    # filters, facets and the taxonomy counts from the catalogue's match index (5-40 s a request by the rules in the
    # store at 100,000 services, milliseconds from the index); None: by the rules
    index = catalogue_index()
    processes = materials = None
    if not errors:
        try:
            rows = catalogue.list_services(store, limit=size + 1, offset=(page - 1) * size, index=index, **filters)
            facets = catalogue.facet_counts(store, index=index, **filters)
        except CatalogueError as err:
            errors["country" if "country" in str(err) else "near"] = str(err)
        except StoreError as err:  # the store gave up (a remote store's timeout): said on the page, not a raw 500
            errors["store"] = str(err)
    try:
        processes = browse.taxonomy(store, str(PROC.ManufacturingProcess), index=index)
        materials = browse.taxonomy(store, str(MAT.Material), index=index)
    except StoreError as err:  # the store gave up (a remote store's timeout): said on the page, not a raw 500
        errors["store"] = str(err)
    # the country facet counts every service found once (each has one country)
    total = sum(item["services"] for item in facets["country"])
    empty = browse.TaxonomyNode("", None, None, None, None, 0)
    return render_template("catalogue.html", rows=rows[:size], more=len(rows) > size, page=page, errors=errors,
                           processes=processes or empty, service_url=service_url, facets=facets, total=total,
                           materials=materials or empty,
                           process_labels=browse.labels(processes, g.lang) if processes else {})


@bp.get("/catalogue/service")
def service_page(fields: dict | None = None, status: int = 200):
    from api.services import catalogue_index

    store = resources().catalogue
    service = request.values.get("iri", "")
    rows = catalogue.list_services(store, service=service, index=catalogue_index()) \
        if service.startswith(("http", "urn:")) else []
    history = browse.service_history(store, service) if service else []
    notices = get_flashed_messages(with_categories=True, category_filter=["published", "withdrawn"])
    key = signed_in()
    if not rows:
        # a withdrawal just done (its notice) is a success, not a missing page
        return render_template("service.html", summary=None, service=service, history=history, notices=notices,
                               fields={}, signed_key=key), 200 if notices else 404
    parts = browse.service_description(store, service, g.lang)
    process_label = next((row["valueLabel"] for row in parts.get("service", [])
                          if row["property"].endswith("#processType") and row["valueLabel"]), None)
    owner = rows[0].get("provider")
    signed_owner = key is not None and key.may_change(owner)
    return render_template("service.html", summary=rows[0], service=service, history=history, parts=parts,
                           process_label=process_label, api_url=service_url(service), notices=notices,
                           fields=fields or {}, signed_key=key, form=request.form, signed_owner=signed_owner,
                           price_check=_price_check(store, service, catalogue_index()) if signed_owner else None), \
        status


def _price_check(store, service: str, index) -> dict:
    """The price check of the service page, for its signed-in provider (issue 22, 1.3): ``costing.compare_service``
    with the example products where the service publishes a cost model; ``{"cost_model": False}`` where it does not
    (the page says how to add one), ``{"error": ...}`` where its cost model cannot quote."""
    from maas_kg.errors import MaasKgError
    from maas_kg.matching import costing

    entry = costing.service_prices(store, [service]).get(service)
    if entry is None or not entry["cost_model"]:
        return {"cost_model": False}
    try:
        checked = costing.compare_service(store, service, index=index)
    except MaasKgError as err:
        return {"cost_model": True, "error": str(err), "api_url": service_url(service) + "/quote-comparison"}
    return {**checked, "cost_model": True, "model": entry["cost_model"],
            "api_url": service_url(service) + "/quote-comparison"}


@bp.post("/catalogue/service/withdraw")
def withdraw_page():
    """Withdraw a service from its page: the owner's key (the form's key field, or the signed-in session's) and the
    ticked confirmation "I withdraw this service"; the same library calls as ``DELETE /services/{id}``."""
    store, service = resources().catalogue, request.form.get("iri", "")
    de = g.lang == "de"
    key, fields = _publish_key()
    if key is None:
        return service_page(fields, 401)
    if request.form.get("confirm") != "yes":
        return service_page({"confirm": "Zum Zurückziehen das Kästchen „Ich ziehe diese Dienstleistung zurück“ "
                             "ankreuzen" if de else "tick \"I withdraw this service\" to withdraw it"}, 400)
    owner = catalogue.providers_of(store, [service]).get(service)
    if owner is None:
        return service_page({"confirm": f"{service} ist nicht veröffentlicht" if de else f"{service} is not published"},
                            404)

    def may_withdraw(owner_on_record: str | None) -> None:
        if not key.may_change(owner) or (owner_on_record is not None and not key.may_change(owner_on_record)):
            raise CatalogueError(
                f"{service} gehört {owner_on_record or owner}, nicht der Organisation dieses Schlüssels; nichts wurde "
                "geändert" if de else f"{service} belongs to {owner_on_record or owner}, not to this key's "
                "organisation; nothing was changed")

    try:
        version = catalogue.withdraw(store, service, agent=key.agent, private=resources().private,
                                     may_withdraw=may_withdraw)
    except (catalogue.ServiceConflict, catalogue.UnknownService) as err:
        return service_page({"confirm": str(err)}, 409)
    except CatalogueError as err:
        return service_page({"api_key": str(err)}, 403)
    flash({"service": service, "version": version}, "withdrawn")
    return redirect(url_for("web.service_page", iri=service), 303)


# -- publish -----------------------------------------------------------------------------------------------------

SERVICE_FORM_FIELDS = ("name", "process", "materials", "envelope_mm", "max_mass_kg", "tolerance_mm",
                       "roughness_ra_um", "batch_size", "capacity_per_week", "lead_time_days", "price_currency",
                       "price_setup", "price_unit", "certifications", "valid_until", "provider_id", "provider_name",
                       "provider_country", "provider_lat", "provider_lon", "id", "internal_cost_rate",
                       "capacity_utilisation", "internal_note")


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _number(text: str):
    try:
        value = float(text)
    except ValueError:
        return text  # the shapes report it next to the field
    return int(value) if value.is_integer() else value


def service_from_form(form) -> dict:
    """The plain JSON service format from the publish form's fields (empty fields are left out)."""
    def given(name):
        return form.get(name, "").strip()

    document: dict = {}
    if given("id"):
        document["id"] = given("id")
    for name in ("name", "process", "valid_until", "internal_note"):
        if given(name):
            document[name] = given(name)
    for name in ("max_mass_kg", "tolerance_mm", "roughness_ra_um", "capacity_per_week", "lead_time_days",
                 "internal_cost_rate", "capacity_utilisation", "it_grade"):
        if given(name):
            document[name] = _number(given(name))
    for name in ("materials", "certifications"):
        if given(name):
            document[name] = _list(given(name))
    for name in ("envelope_mm", "batch_size"):
        if given(name):
            document[name] = [_number(part) for part in _list(given(name).replace("x", ",").replace("×", ","))]
    if any(given(f"price_{p}") for p in ("currency", "setup", "unit")):
        document["price"] = {"currency": given("price_currency"), "setup": _number(given("price_setup") or "0"),
                             "unit": _number(given("price_unit") or "0")}
    provider = {k: given(f"provider_{k}") for k in ("id", "name", "country") if given(f"provider_{k}")}
    if given("provider_lat") or given("provider_lon"):
        provider["location"] = {"lat": _number(given("provider_lat")), "lon": _number(given("provider_lon"))}
    if provider:
        document["provider"] = provider
    return document


def _publish_key() -> tuple[ApiKey | None, dict[str, str]]:
    """The key a publish or withdraw form acts with: the form's key field, else the signed-in session's (``/sign-in``,
    api/web_orders.py; then the form must carry the session's CSRF token). None and the error by field without one."""
    de = g.lang == "de"
    token = request.form.get("api_key", "").strip()
    if token:
        key = resources().keys.authenticate(token)
        if key is None:
            return None, {"api_key": "Der Schlüssel ist unbekannt oder widerrufen: beim Betreiber einen neuen "
                          "erfragen" if de else "the key is unknown or revoked: ask the operator for a new one"}
        return key, {}
    key = signed_in()
    if key is not None:
        try:
            _check_form()  # a form without this session's CSRF token (sent from elsewhere, or before a new sign-in)
        except FormExpired as err:
            return None, {"api_key": err.message}
        return key, {}
    return None, {"api_key": "API-Schlüssel Ihrer Organisation eingeben (oder anmelden)" if de
                  else "enter your organisation's API key (ask the operator for one), or sign in"}


_FORM_PROPERTIES = {"name": "name", "maxPartMass": "max_mass_kg", "achievableTolerance": "tolerance_mm",
                    "achievableRoughness": "roughness_ra_um", "capacityPerWeek": "capacity_per_week",
                    "leadTimeDays": "lead_time_days", "validUntil": "valid_until"}


#: what the service node of a published version states that the form shows (or that normalisation derives from
#: what it shows); anything else would be lost by publishing the edit from the form (``uncovered_statements``)
_FORM_COVERS = {"type", "name", "processType", "material", "holdsCertification", "envelopeX", "envelopeY", "envelopeZ",
                "envelopeLongest", "envelopeMiddle", "envelopeShortest", "minBatchSize", "maxBatchSize",
                "hasPriceSpecification", "providedBy", "offeredAt", "achievableITGrade", *_FORM_PROPERTIES}


def uncovered_statements(store, service: str) -> list[str]:
    """The properties the published version of ``service`` states about it that the publish form cannot carry (its
    machines and capabilities, say): an edit from the form must not drop them unnoticed."""
    own = {p.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
           for s, p, _ in store.graph_triples(catalogue.service_graph(service)) if s.value == service}
    return sorted(own - _FORM_COVERS)


def form_from_service(store, service: str) -> dict[str, str]:
    """The publish form's fields from the published version of ``service`` (the inverse of ``service_from_form``):
    the edit link of a service page opens the form with them. Terms are written as their English label when that
    label names the term again, else as their IRI."""
    triples = store.graph_triples(catalogue.service_graph(service))
    about: dict[str, dict[str, list]] = {}
    for s, p, o in triples:
        about.setdefault(s.value, {}).setdefault(p.value.rsplit("#", 1)[-1], []).append(o)

    def one(node: str, name: str) -> str:
        values = about.get(node, {}).get(name, [])
        return _form_number(values[0].value) if values else ""

    indexes = term_indexes()
    own = about.get(service, {})
    fields = {"id": service, "mode": "form"}
    for prop, name in _FORM_PROPERTIES.items():
        fields[name] = one(service, prop)
    fields["process"] = ", ".join(_term_label(indexes["process"], o.value) for o in own.get("processType", []))
    fields["materials"] = ", ".join(sorted(_term_label(indexes["material"], o.value) for o in own.get("material", [])))
    fields["certifications"] = ", ".join(sorted(_term_label(indexes["certification"], o.value)
                                                for o in own.get("holdsCertification", [])))
    fields["it_grade"] = one(service, "achievableITGrade")  # carried in a hidden field: the form has no IT grade
    fields["envelope_mm"] = ", ".join(one(service, axis) for axis in ("envelopeX", "envelopeY", "envelopeZ")
                                      if one(service, axis))
    fields["batch_size"] = ", ".join(one(service, end) for end in ("minBatchSize", "maxBatchSize") if one(service, end))
    for price in own.get("hasPriceSpecification", [])[:1]:
        node = price.value
        fields.update(price_currency=one(node, "currency"), price_setup=one(node, "setupPrice"),
                      price_unit=one(node, "unitPrice"))
    for provider in own.get("providedBy", [])[:1]:
        node = provider.value
        fields.update(provider_id=node, provider_name=one(node, "name"), provider_country=one(node, "countryCode"))
        sites = sorted(o.value for o in about.get(node, {}).get("hasSite", []))
        if sites:
            fields.update(provider_lat=one(sites[0], "latitude"), provider_lon=one(sites[0], "longitude"))
    return {name: value for name, value in fields.items() if value}


def _form_number(text: str) -> str:
    """A literal as the form shows it: 10 for 10.0, 38.5 as it is."""
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and "e" not in text.lower() else text


def _term_label(index, iri: str) -> str:
    """The English label of a taxonomy term if it resolves to the term again (the form accepts labels), else its IRI."""
    graph = knowledge.ontology_graph()
    import rdflib

    for label in graph.objects(rdflib.URIRef(iri), rdflib.RDFS.label):
        if getattr(label, "language", None) == "en":
            try:
                if str(index.resolve(str(label), suggest=False)) == iri:
                    return str(label)
            except (UnknownTerm, AmbiguousTerm):
                break
    return iri


def _provider_fields(key: ApiKey | None) -> dict[str, str]:
    """The provider fields of the publish form for ``key``'s provider: its published name, country and site, or
    only its IRI when it has published nothing yet (none for administrators' and buyers' keys)."""
    if key is None or not key.provider:
        return {}
    profile = provider_profile(resources().catalogue, key.provider)
    return {f"provider_{name}": str(value) for name, value in profile.items() if value is not None}


@bp.post("/publish/provider")
def publish_provider():
    """The provider a key publishes for (the publish page asks when a key is typed in, or for the signed-in key): its
    IRI, its published name, country and site, and which IRIs it may use, so the page fills the provider fields and
    the live check can say before submitting that the key may not publish for another provider. The key travels
    in the body, never in a URL."""
    token = request.form.get("api_key", "").strip()
    key = resources().keys.authenticate(token) if token else signed_in()
    if key is None:
        return jsonify({"key": None}), 401 if token else 200
    return jsonify({"key": {"admin": key.admin, "provider": key.provider,
                            "namespaces": [f"{key.provider}/", *key.namespaces] if key.provider else []},
                    "fields": _provider_fields(key)})


@bp.route("/publish", methods=["GET", "POST"])
def publish_page():
    context = {"form": request.form, "report": None, "published": None, "error": None, "fields": {},
               "identical": [], "editing": None, "uncovered": [], "signed_key": signed_in()}
    if request.method == "GET":
        editing = request.args.get("edit", "")
        if editing and catalogue.providers_of(resources().catalogue, [editing]):
            context["form"], context["editing"] = form_from_service(resources().catalogue, editing), editing
            context["uncovered"] = uncovered_statements(resources().catalogue, editing)
        elif context["signed_key"] is not None:
            context["form"] = _provider_fields(context["signed_key"])
        return render_template("publish.html", **context)
    context["editing"] = request.form.get("editing") or None
    key, context["fields"] = _publish_key()
    if key is None:
        return render_template("publish.html", **context), 401
    fmt = "json"
    if request.form.get("mode") == "text":
        upload = request.files.get("file")
        data = upload.read() if upload and upload.filename else request.form.get("text", "").encode("utf-8")
        fmt = request.form.get("format", "turtle")
        if upload and upload.filename:
            try:
                fmt = format_for(upload.filename)
            except InputError:
                pass  # an unknown file extension: the chosen format
    else:
        uncovered = uncovered_statements(resources().catalogue, context["editing"]) if context["editing"] else []
        if uncovered and not request.form.get("drop_uncovered"):
            context["uncovered"] = uncovered
            context["fields"]["drop_uncovered"] = (
                "Die veröffentlichte Version sagt mehr, als das Formular zeigt: bestätigen, dass es wegfallen soll, "
                "oder die Beschreibung als Text bearbeiten" if g.lang == "de" else
                "the published version states more than the form shows: confirm that it may go, or edit the "
                "description as text")
            return render_template("publish.html", **context), 422
        document = service_from_form(request.form)
        if key.provider and not key.admin and "id" not in document.get("provider", {}):
            # the provider's identity comes from the key: its IRI need not be typed
            document.setdefault("provider", {})["id"] = key.provider
        data = json.dumps(document).encode("utf-8")
    if not data.strip():
        context["fields"]["text"] = "paste or upload a service description"
        return render_template("publish.html", **context), 400
    try:
        results = catalogue.publish(resources().catalogue, data, format_for(fmt), publisher=key.agent,
                                    may_publish=ownership_check(key, {}), atomic=True, private=resources().private,
                                    complete=key.may_change)
    except (InputError, CatalogueError) as err:
        context["error"] = shortened(str(err))  # the input may be 10 MB: quote an excerpt
        return render_template("publish.html", **context), 400
    failed = [r for r in results if not r.published]
    identical = sorted({v.value for r in failed for v in r.violations if v.component == IDENTICAL})
    if identical and all(v.component == IDENTICAL for r in failed for v in r.violations):
        context["identical"] = identical  # "already published", with a link to it
        return render_template("publish.html", **context), 409
    if failed:
        violations = [v for r in failed for v in r.violations]
        context["report"] = violations_by_field(violations)
        for violation in context["report"]:
            if violation["field"]:
                context["fields"].setdefault(violation["field"], violation["message"])
        refused = all(v.component == "access control" for v in violations)
        return render_template("publish.html", **context), 403 if refused else 422
    # POST-redirect-GET: the service's page with the notice, so reloading or sending again publishes nothing
    for r in results:
        flash({"service": r.service, "version": r.version, "private_values": r.private_values}, "published")
    return redirect(url_for("web.service_page", iri=results[0].service), 303)


# -- match -------------------------------------------------------------------------------------------------------

def product_from_form(form) -> dict:
    """The plain JSON product format from the match form's fields. The delivery place is coordinates ("48.14,
    11.58": ``lat`` and ``lon``) or a city ("Munich": ``place``, which the product's pre-step resolves)."""
    def given(name):
        return form.get(name, "").strip()

    document: dict = {"name": given("name") or "product"}
    for name in ("material", "shape"):
        if given(name):
            document[name] = given(name)
    for name in ("mass_kg", "tolerance_mm", "roughness_ra_um", "quantity", *MEASURE_FIELDS):
        if given(name):
            document[name] = _number(given(name))
    if given("envelope_mm"):
        document["envelope_mm"] = [_number(p) for p in _list(given("envelope_mm").replace("x", ","))]
    for name in ("finish", "certifications"):
        if given(name):
            document[name] = _list(given(name))
    delivery = {}
    coordinates = _COORDINATES.fullmatch(given("place"))
    if coordinates:
        delivery["lat"], delivery["lon"] = _number(coordinates[1]), _number(coordinates[2])
    elif given("place"):
        delivery["place"] = given("place")
    for name in ("lat", "lon", "max_distance_km"):  # lat and lon: the form before places had names
        if given(name):
            delivery[name] = _number(given(name))
    if given("due"):
        delivery["due"] = given("due")
    if delivery:
        document["delivery"] = delivery
    # one weight field per can-criterion of the ontology (browse.match_criteria), named weight_<criterion>
    weights = {name.removeprefix("weight_"): _number(given(name)) for name in form
               if name.startswith("weight_") and given(name)}
    if weights:
        document["weights"] = weights
    return document


_COORDINATES = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*[,; ]\s*([+-]?\d+(?:\.\d+)?)\s*")
#: the part's measures a CAD file gives (maas-kg characterise), optional: services with a cost model quote from them
MEASURE_FIELDS = ("volume_mm3", "area_mm2", "stock_removal_mm3", "min_wall_mm", "thickness_mm", "cut_length_mm",
                  "bends", "holes")
MATCH_FORM_FIELDS = ("name", "material", "shape", "envelope_mm", "mass_kg", "tolerance_mm", "roughness_ra_um",
                     "quantity", "finish", "certifications", "place", "max_distance_km", "due", *MEASURE_FIELDS)


def form_from_product(document: dict) -> dict[str, str]:
    """The match form's fields from a plain JSON product (the inverse of ``product_from_form``)."""
    def text(value) -> str:
        return ", ".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else str(value))

    fields = {name: text(document.get(name)) for name in ("name", "material", "shape", "envelope_mm", "mass_kg",
                                                          "tolerance_mm", "roughness_ra_um", "quantity", "finish",
                                                          "certifications", *MEASURE_FIELDS)}
    delivery = dict(document.get("delivery") or {})
    if "lat" in delivery and "lon" in delivery:
        fields["place"] = f"{text(delivery.pop('lat'))}, {text(delivery.pop('lon'))}"
    fields.update({name: text(value) for name, value in delivery.items()})
    fields.update({f"weight_{name}": text(value) for name, value in (document.get("weights") or {}).items()})
    return fields


def match_form_errors(form, today: datetime.date, language: str) -> dict[str, str]:
    """What the match form's fields get wrong before anything is matched, by field (in the page's language): an
    unknown delivery place, a due date in the past, weights that are all 0."""
    german = language == "de"
    errors = {}
    place = form.get("place", "").strip()
    if place:
        try:
            places.resolve(place)
        except places.UnknownPlace as err:
            errors["place"] = err.message(language)
    due = form.get("due", "").strip()
    if due:
        try:
            day = datetime.date.fromisoformat(due)
        except ValueError:
            errors["due"] = (f"„{due}“ ist kein Datum; JJJJ-MM-TT angeben" if german
                             else f"{due!r} is not a date; write YYYY-MM-DD")
        else:
            if day < today:
                errors["due"] = (f"Der Liefertermin {due} liegt in der Vergangenheit; heute ({today}) oder später "
                                 "wählen" if german else f"the due date {due} is in the past; choose today "
                                 f"({today}) or later")
    weights = [form.get(name, "").strip() for name in form if name.startswith("weight_")]
    given = [w for w in weights if w]
    if given and all(_is_zero(w) for w in given):
        errors["weights"] = ("Alle Gewichte sind 0: mindestens einem Kriterium ein Gewicht über 0 geben (oder alle "
                             "leer lassen für die Vorgaben)" if german else "all weights are 0: give at least one "
                             "criterion a weight above 0 (or leave them all empty for the defaults)")
    return errors


def _is_zero(text: str) -> bool:
    try:
        return float(text.replace(",", ".")) == 0
    except ValueError:
        return False  # not a number: the shapes report it


@bp.route("/matching", methods=["GET", "POST"])
def match_page():
    examples = knowledge.example_products()
    # a body over the app's limit is never read (request.form would answer 413 without the page): the form again
    too_large = request.method == "POST" and (request.content_length or 0) > (
        current_app.config.get("MAX_CONTENT_LENGTH") or float("inf"))
    context = {"form": {} if too_large else request.form, "result": None, "error": None, "report": None,
               "relax": relax_hints(resources().catalogue, g.lang),
               "examples": examples, "example": request.args.get("example", ""),
               "criteria": browse.match_criteria(resources().catalogue), "fields": {}, "again": {}, "place": None,
               "cad": None, "cad_values": {}, "cad_fields": {}, "cad_limit": cad_limit()}
    if too_large:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        context["error"] = (f"Die Datei ist größer als {limit:,} Bytes (die Grenze): das Modell vereinfachen oder "
                            "seine Teile einzeln senden" if g.lang == "de" else f"the file is larger than {limit:,} "
                            "bytes (the limit): simplify the model or send its parts one by one")
        return render_template("match.html", **context), 413
    if request.method == "POST" and request.form.get("source") == "cad":
        return match_cad(context)
    if request.method == "GET":
        if context["example"] in examples:
            document = json.loads(examples[context["example"]].read_text(encoding="utf-8"))
            context["form"] = form_from_product(document)
        elif request.args.get("cad"):  # "match another product" after a CAD file: its form as sent (not the file)
            context["form"], context["cad_values"] = {}, request.args
        elif any(name in request.args for name in MATCH_FORM_FIELDS):  # "match another product": the form as sent
            context["form"] = request.args
        return render_template("match.html", **context)
    today = datetime.date.today()
    upload = request.files.get("file")
    if upload and upload.filename:
        data = upload.read()
        try:
            fmt = format_for(upload.filename)
        except InputError as err:
            context["error"] = shortened(str(err))  # the input may be 10 MB: quote an excerpt
            return render_template("match.html", **context), 400
        context["again"] = _form_of_upload(data, fmt)
    elif request.form.get("source") == "file":
        context["error"] = "choose a product file to upload (JSON, JSON-LD or Turtle)"
        return render_template("match.html", **context), 400
    else:
        context["fields"] = match_form_errors(request.form, today, g.lang)
        if context["fields"]:
            return render_template("match.html", **context), 422
        data, fmt = json.dumps(product_from_form(request.form)).encode("utf-8"), "json"
        context["again"] = {name: value for name, value in request.form.items() if value.strip()}
    state = resources()
    try:
        result = state.workspace.match(data, fmt, today=today, k=3)
    except ProductError as err:
        context["error"] = shortened(str(err))  # the input may be 10 MB: quote an excerpt
        context["report"] = violations_by_field(err.report.violations) if err.report is not None else None
        return render_template("match.html", **context), 422
    except (InputError, UnknownTerm, AmbiguousTerm) as err:
        context["error"] = shortened(str(err))  # the input may be 10 MB: quote an excerpt
        return render_template("match.html", **context), 400
    context["result"] = as_json(state.catalogue, result, top=10)
    request_of = context["result"]["request"]
    too_soon = (request_of["due"] and request_of["earliest_due"] and request_of["earliest_due"] > request_of["due"]
                and not any(route["assignments"] for route in context["result"]["routes"]))
    if too_soon and not (upload and upload.filename):
        earliest = request_of["earliest_due"]
        context["fields"]["due"] = (
            f"Keine Route schafft den {request_of['due']}; der früheste Termin, den eine Route schaffen kann, ist "
            f"der {earliest}" if g.lang == "de" else
            f"no route can deliver by {request_of['due']}; the earliest date any route could make is {earliest}")
        context["result"] = None
        return render_template("match.html", **context), 422
    place = request.form.get("place", "").strip()
    if place and not (upload and upload.filename):
        found = places.resolve(place)
        context["place"] = found.label if found.name else None  # coordinates are shown as the request's

    return render_template("match.html", **context)


@bp.post("/matching/keep")
def keep_result():
    """Keep a match result (issue 21, item 4): the form's values are matched again and the answer stored in the
    private ledger under an unguessable link (``maas_kg.execution.saved_results``); the signed-in buyer's key finds
    it too."""
    form = {name: value for name, value in request.form.items() if value.strip() and name in MATCH_FORM_FIELDS}
    today = datetime.date.today()
    if not form or match_form_errors(request.form, today, g.lang):
        return redirect(url_for("web.match_page", **form))  # the form says what is missing
    state = resources()
    result = state.workspace.match(json.dumps(product_from_form(request.form)).encode("utf-8"), "json", today=today,
                                   k=3)
    key = signed_in()
    record = saved_results.keep(state.ledger, as_json(state.catalogue, result, top=10), form,
                                title=form.get("name") or "match result",
                                buyer=key.buyer if key is not None and key.buyer else None)
    return redirect(url_for("web.kept_result_page", result_id=record["id"]))


@bp.get("/matching/results/<result_id>")
def kept_result_page(result_id: str):
    """A kept result: the page (``format=csv`` or ``json``: a download). The link is the only key to it, so the page
    asks browsers not to pass it on (no referrer) nor search engines to index it."""
    record = saved_results.kept(resources().ledger, result_id[:64])
    fmt = request.args.get("format")
    if fmt in ("csv", "json"):
        body = saved_results.as_csv(record["document"]) if fmt == "csv" else json.dumps(record["document"], indent=1)
        response = current_app.response_class(body, mimetype="text/csv" if fmt == "csv" else "application/json")
        response.headers["Content-Disposition"] = f'attachment; filename="match-{result_id[:12]}.{fmt}"'
    else:
        context = {"form": record["form"], "result": record["document"], "error": None, "report": None,
                   "relax": relax_hints(resources().catalogue, g.lang), "examples": knowledge.example_products(),
                   "example": "", "criteria": browse.match_criteria(resources().catalogue), "fields": {},
                   "again": record["form"], "place": None, "kept": record}
        response = current_app.make_response(render_template("match.html", **context))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _form_of_upload(data: bytes, fmt: str) -> dict[str, str]:
    """The match form's fields of an uploaded plain JSON product ("match another product" starts from them); none
    for RDF, which the form cannot show."""
    if fmt != "json":
        return {}
    try:
        document = json.loads(data)
    except ValueError:
        return {}
    return {k: v for k, v in form_from_product(document).items() if v} if isinstance(document, dict) else {}


def violations_by_field(violations) -> list[dict]:
    """Violations as shown next to the form, each with the plain JSON field it concerns, without repeats (one field
    can break a constraint on two properties, e.g. the minimum and maximum of batch_size)."""
    fields = json_fields()
    seen, unique = set(), []
    for violation in violations:
        shown = {**violation.__dict__, "field": fields.get(violation.path or "")}
        key = (shown["field"] or shown["path"], shown["message"], shown["value"])
        if key not in seen:
            seen.add(key)
            unique.append(shown)
    return unique


# -- SPARQL ------------------------------------------------------------------------------------------------------

@bp.route("/query", methods=["GET", "POST"])
def query_page():
    examples = browse.example_queries()
    titles = {example.name: _example_title(example) for example in examples}
    # the example picked in the menu (?example= opens the page with it): it stays selected after Run and names the
    # downloads, so two results do not overwrite each other as "sparql"
    chosen = next((e for e in examples if e.name == request.values.get("example")), None)
    shown = chosen or (examples[0] if examples else None)
    text = request.values.get("query") or (shown.text if shown else "SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    table, error = None, None
    if request.values.get("query"):
        config = current_app.config
        try:
            # the same checks, base and slots as /sparql: the page is another door to the same endpoint
            with slots().taken(request.remote_addr or "unknown"):
                base = public_base()
                operation = public_sparql.parse_query(text, base=base,
                                                      max_characters=config["SPARQL_MAX_QUERY_CHARACTERS"])
                graph_query = operation.form in ("CONSTRUCT", "DESCRIBE")
                answer = public_sparql.answer(
                    resources().catalogue, operation,
                    "application/n-triples" if graph_query else "application/sparql-results+json",
                    limit=min(config["SPARQL_RESULT_LIMIT"], 1000), timeout=config["SPARQL_TIMEOUT"],
                    allow_list=config["SPARQL_REMOTE_ALLOW_LIST"])
        except SlotsTaken:
            error = {"message": "the SPARQL endpoint is busy (every query slot of this worker, or yours, is in use): "
                                "retry in a few seconds"}
        except (QueryMalformed, QueryRefused, QueryTimeout, StoreError) as err:
            error = _query_error(str(err), text, public_base())
        else:
            table = _as_table(answer, graph_query)
    return render_template("query.html", examples=examples, titles=titles, chosen=chosen.name if chosen else "",
                           text=text, table=table, error=error)


def _example_title(example) -> str:
    """An example's title: the first sentence of its header comment, which may run over several comment lines."""
    header = []
    for line in example.text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("#").strip())
    paragraph = " ".join(part for part in header if part)
    sentence = re.match(r"(.+?[.!?])(?:\s|$)", paragraph)
    return (sentence[1] if sentence else paragraph) or example.title


_OXIGRAPH_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.S)
_RDFLIB_POSITION = re.compile(r"at line (\d+), column (\d+): (.*)", re.S)
_EXCERPT_CONTEXT = 40  # characters shown on either side of a syntax error


def _query_error(message: str, text: str, base: str) -> dict:
    """What the page shows for a failed query; for a syntax error also the line and column and the text around
    them with a caret under the position."""
    if "syntax error" not in message:
        return {"message": shortened(message)}
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as the parsers read it (public_sparql._sent_text)
    position = _oxigraph_position(text, base) or _position_in(message, _RDFLIB_POSITION, text, offset=0)
    if position is None:
        return {"message": shortened(message)}
    line, column, expected = position
    shown = text.split("\n")[line - 1].replace("\t", " ")
    start, end = max(0, column - 1 - _EXCERPT_CONTEXT), min(len(shown), column - 1 + _EXCERPT_CONTEXT)
    excerpt = ("…" if start else "") + shown[start:end] + ("…" if end < len(shown) else "")
    caret = " " * (column - 1 - start + (1 if start else 0)) + "^"
    return {"message": shortened(f"SPARQL syntax error at line {line}, column {column}: {expected}"),
            "line": line, "column": column, "excerpt": excerpt, "caret": caret}


def _oxigraph_position(text: str, base: str) -> tuple[int, int, str] | None:
    """Where Oxigraph's SPARQL parser (the store's) stops reading ``text``: its error names the exact position,
    where rdflib's (which checks queries first) names the start of the rule it backtracked to. A NUL on a line of
    its own after the text makes sure the parse fails (nothing is ever evaluated); an error past the end of the
    text is not used (it depends on what was appended)."""
    try:
        ox.Store().query(f"BASE <{base}>\n{text}\n\x00")
    except SyntaxError as err:
        return _position_in(str(err), _OXIGRAPH_POSITION, text, offset=1)
    except Exception:  # noqa: BLE001 - only a better error message is at stake
        return None
    return None


def _position_in(message: str, pattern: re.Pattern, text: str, *, offset: int) -> tuple[int, int, str] | None:
    """Line, column (1-based, in characters) and the rest of a parser's error ``message``, if the position is inside
    ``text``; ``offset`` counts the lines the parser read before the text (the BASE line)."""
    found = pattern.search(message)
    if not found:
        return None
    line, column = int(found[1]) - offset, int(found[2])
    lines = text.split("\n")
    if not 1 <= line <= len(lines) or column < 1:
        return None
    last = line == len(lines)
    if column > len(lines[line - 1]) + (0 if last else 1):
        return None
    return line, column, " ".join(found[3].split())


def _as_table(answer, graph_query: bool) -> dict:
    if graph_query:
        lines = answer.body.decode("utf-8").splitlines()
        return {"vars": ["triple"], "rows": [[line] for line in lines], "truncated": answer.truncated}
    document = json.loads(answer.body)
    if "boolean" in document:
        return {"vars": ["answer"], "rows": [[str(document["boolean"]).lower()]], "truncated": False}
    names = document["head"]["vars"]
    return {"vars": names, "truncated": answer.truncated,
            "rows": [[b.get(n, {}).get("value", "") for n in names] for b in document["results"]["bindings"]]}


# -- taxonomy ----------------------------------------------------------------------------------------------------

@bp.get("/taxonomy")
def taxonomy_page():
    """The process and material trees (filtered to the classes matching ``q`` and their ancestors), and with
    ``class`` a class's page: breadcrumb, facts (notations, synonyms, definition, sources, quantities with units),
    capability profile with units and where each value is inherited from, and the services offering or using it."""
    store = resources().catalogue
    selected = request.args.get("class")
    query = request.args.get("q", "").strip()[:200]
    processes = browse.taxonomy(store, str(PROC.ManufacturingProcess))
    materials = browse.taxonomy(store, str(MAT.Material))
    view: dict = {"node": None, "is_material": False}
    if selected:
        node = browse.find(processes, selected)
        tree, filter_name = (processes, "process") if node else (materials, "material")
        node = node or browse.find(materials, selected)
        if node is None:
            from maas_kg.errors import NotFound

            raise NotFound(f"{selected} is no class of the process or material taxonomy; the tree on /taxonomy "
                           "lists them all")
        from api.services import catalogue_index

        services: list[dict] = []
        try:
            services = catalogue.list_services(store, limit=10, index=catalogue_index(), **{filter_name: selected})
        except (CatalogueError, StoreError):  # the class's page without its services rather than none at all
            pass
        labels = {**browse.labels(processes, g.lang), **browse.labels(materials, g.lang)}
        view = {"node": node, "is_material": filter_name == "material", "filter_name": filter_name,
                "path": browse.path_to(tree, selected), "parents": browse.parents(tree, selected),
                "facts": browse.class_facts(store, selected, g.lang),
                "profile": browse.class_profile(store, selected, g.lang), "services": services,
                "holders": labels}
    matched: dict[str, set[str]] = {}
    if query:
        processes, matched["processes"] = browse.filtered(
            processes, query, browse.synonyms(store, str(PROC.ManufacturingProcess)))
        materials, matched["materials"] = browse.filtered(
            materials, query, browse.synonyms(store, str(MAT.Material)))
    return render_template("taxonomy.html", processes=processes, materials=materials, selected=selected,
                           query=query, matched=set().union(*matched.values()) if matched else set(), **view)
