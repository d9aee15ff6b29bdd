"""The resilience page (``/resilience``): a manufacturer's value chain under disruption events, for people.

A thin layer over ``maas_kg.resilience``, as ``api/resilience.py`` is over JSON: the form (an example value chain,
an uploaded or pasted one; ticked example events and custom events as JSON; runs, seed and "today") becomes the
request document of ``POST /resilience/assess`` (``requests.read_request``), and the page shows what ``assess``
returns: the risk matrix, the simulated on-time probability with its delay histogram, the vulnerabilities and the
impact of each event. "Respond to this event" sends the same form with the event's id: the page shows the
assessment again and ``respond``'s plan for that event, with a form that hands its request for quotation to the
stage-3 "request quotes" form (``POST /quotes``, ``api/web_orders.py``).

A library error appears next to the input it concerns (``FieldError.field``: ``value_chain.…`` next to the value
chain, ``events…`` next to the custom events, ``library_events`` next to the example events, ``runs``, ``seed``,
``today`` next to theirs) with its own status (422; 400 for JSON that cannot be read). Nothing is stored.

The map is an inline SVG (equirectangular, no tiles, no external asset): the example events' circles, the sites of
the providers that provider-scoped events name (where an example value chain locates them), and the sites of the
value chain's suppliers (``assessment.service_facts``).
"""

from __future__ import annotations

import datetime
import json
import math

from flask import Blueprint, render_template, request

from api.problems import shortened
from api.state import resources
from maas_kg import knowledge
from maas_kg.catalogue import CatalogueError, list_services
from maas_kg.catalogue.ingest import InputError, parse_json
from maas_kg.errors import MaasKgError, NotFound
from maas_kg.execution.fields import FieldError
from maas_kg.resilience import assess, library, respond
from maas_kg.resilience.assessment import service_facts
from maas_kg.resilience.requests import read_request
from maas_kg.resilience.value_chains import ValueChain
from maas_kg.store import StoreError

#: nested in the ``web`` blueprint (``api/web.py`` registers it): a web page, endpoint ``web.resilience.page``
bp = Blueprint("resilience", __name__)

DEFAULT_EXAMPLE = "gearbox"
DEFAULT_RUNS = "10000"
DEFAULT_SEED = "1"
SOURCES = ("example", "file", "paste")
#: the fields of the form a library error can be shown next to
SHOWN = ("value_chain", "events", "library_events", "runs", "seed", "today")

# -- the map: an equirectangular plot of Europe (standard parallel 50° N, so that Europe keeps its proportions) ----
LAT_RANGE = (34.0, 72.0)
LON_RANGE = (-12.0, 42.0)
PX_PER_DEGREE = 15.0
ASPECT = math.cos(math.radians(50.0))
KM_PER_DEGREE = 111.32
MAP_WIDTH = round((LON_RANGE[1] - LON_RANGE[0]) * PX_PER_DEGREE * ASPECT, 1)
MAP_HEIGHT = round((LAT_RANGE[1] - LAT_RANGE[0]) * PX_PER_DEGREE, 1)
#: capitals drawn for orientation (the map has no coastlines)
CITIES = (("Lisbon", 38.72, -9.14), ("Madrid", 40.42, -3.70), ("Dublin", 53.35, -6.26), ("London", 51.51, -0.13),
          ("Paris", 48.86, 2.35), ("Rome", 41.90, 12.50), ("Berlin", 52.52, 13.40), ("Vienna", 48.21, 16.37),
          ("Warsaw", 52.23, 21.01), ("Oslo", 59.91, 10.75), ("Stockholm", 59.33, 18.07), ("Helsinki", 60.17, 24.94),
          ("Bucharest", 44.43, 26.10), ("Athens", 37.98, 23.73), ("Kyiv", 50.45, 30.52), ("Istanbul", 41.01, 28.98))


def _xy(lat: float, lon: float) -> tuple[float, float] | None:
    """Map coordinates of a place, or None outside the map."""
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
        return None
    return (round((lon - LON_RANGE[0]) * PX_PER_DEGREE * ASPECT, 1), round((LAT_RANGE[1] - lat) * PX_PER_DEGREE, 1))


def _graticule() -> dict:
    return {"width": MAP_WIDTH, "height": MAP_HEIGHT,
            "parallels": [(lat, _xy(lat, LON_RANGE[0])[1]) for lat in range(35, 72, 5)],
            "meridians": [(lon, _xy(LAT_RANGE[0], lon)[0]) for lon in range(-10, 42, 10)],
            "cities": [(name, *_xy(lat, lon)) for name, lat, lon in CITIES]}


# -- examples ------------------------------------------------------------------------------------------------------

def example_chains() -> dict:
    """The example value chains of ``examples/value-chains/`` by file stem."""
    return {path.stem: path for path in sorted((knowledge.examples_dir() / "value-chains").glob("*.json"))}


def _supplies_of_document(doc: object) -> list[tuple[str, str, str]]:
    """(service, product, step) of every supplier a value-chain document names (unchecked: the shipped examples)."""
    found = []
    products = doc.get("products") if isinstance(doc, dict) else None
    for item in products if isinstance(products, list) else []:
        if not isinstance(item, dict):
            continue
        product = item.get("product") if isinstance(item.get("product"), dict) else {}
        name = str(product.get("name") or product.get("id") or "product")
        for step in item.get("steps") if isinstance(item.get("steps"), list) else []:
            if not isinstance(step, dict) or not isinstance(step.get("suppliers"), list):
                continue
            for supplier in step["suppliers"]:
                if isinstance(supplier, dict) and isinstance(supplier.get("service"), str):
                    found.append((supplier["service"], name, str(step.get("process", ""))))
    return found


def _supplies_of_chain(chain: ValueChain) -> list[tuple[str, str, str]]:
    return [(s.service, p.name, step.process_name) for p in chain.products for step in p.steps for s in step.suppliers]


def _sites(groups: dict[str, list[tuple[str, str, str]]], hit: set[str]) -> tuple[dict[str, list[dict]], dict]:
    """The supplier sites of each group (an example, or the chain of this request) on the map, and where each
    provider is (provider IRI -> lat, lon): from the catalogue's facts of the services."""
    services = sorted({service for entries in groups.values() for service, _, _ in entries})
    try:
        facts = service_facts(resources().catalogue, services) if services else {}
    except (StoreError, CatalogueError, ValueError):
        facts = {}  # the map goes without sites; the assessment says what is wrong with the chain
    located = {f["provider"]: (f["lat"], f["lon"]) for f in facts.values() if f["lat"] is not None}
    result = {}
    for group, entries in groups.items():
        sites: dict[str, dict] = {}
        for service, product, step in entries:
            fact = facts.get(service)
            if not fact or fact["lat"] is None or fact["lon"] is None:
                continue
            place = _xy(fact["lat"], fact["lon"])
            if place is None:
                continue
            site = sites.setdefault(service, {"service": service, "provider": fact["provider"],
                                              "country": fact["country"], "x": place[0], "y": place[1],
                                              "supplies": [], "hit": service in hit})
            site["supplies"].append(f"{product}: {step}")
        result[group] = list(sites.values())
    return result, located


def _library_rows(located: dict) -> list[dict]:
    """The example events as the form lists them, each with its marker on the map where it has a place: its
    circle, or the site of the provider it names."""
    rows = []
    for event_id, doc in library().items():
        scope = doc.get("scope") or {}
        row = {"id": event_id, "name": doc.get("name", event_id), "type": doc.get("type", ""),
               "probability": doc.get("probability_per_year", 0), "duration": doc.get("duration_days", 0),
               "scope": _scope_text(scope), "marker": None}
        circle = scope.get("circle")
        if isinstance(circle, dict) and all(isinstance(circle.get(k), (int, float))
                                            for k in ("lat", "lon", "radius_km")):
            place = _xy(circle["lat"], circle["lon"])
            if place:
                ry = circle["radius_km"] / KM_PER_DEGREE * PX_PER_DEGREE
                rx = ry * ASPECT / max(0.05, math.cos(math.radians(circle["lat"])))
                row["marker"] = {"kind": "circle", "x": place[0], "y": place[1], "rx": round(rx, 1),
                                 "ry": round(ry, 1)}
        elif scope.get("providers"):
            spots = [_xy(*located[p]) for p in scope["providers"] if p in located]
            spots = [s for s in spots if s]
            if spots:
                row["marker"] = {"kind": "site", "x": spots[0][0], "y": spots[0][1]}
        rows.append(row)
    return rows


def _scope_text(scope: dict) -> str:
    parts = []
    if scope.get("providers"):
        parts.append("provider " + ", ".join(p.rstrip("/").rsplit("/", 1)[-1] for p in scope["providers"]))
    if scope.get("services"):
        parts.append(f"{len(scope['services'])} service(s)")
    if scope.get("countries"):
        parts.append("countries " + ", ".join(scope["countries"]))
    if scope.get("processes"):
        parts.append("process " + ", ".join(scope["processes"]))
    if scope.get("materials"):
        parts.append("material " + ", ".join(scope["materials"]))
    if isinstance(scope.get("circle"), dict):
        c = scope["circle"]
        parts.append(f"{c.get('radius_km', 0):g} km around {c.get('lat', 0):g}, {c.get('lon', 0):g}")
    return "; ".join(parts)


# -- the form ------------------------------------------------------------------------------------------------------

class FormProblem(Exception):
    """Input of the form that cannot be sent to the library: shown next to ``field`` with ``status``."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


def _number(text: str):
    """A whole number from a form field, or the text as typed (the library says what it takes)."""
    try:
        return int(text)
    except ValueError:
        return text


def _form_values() -> dict:
    """What the form shows: the request's fields, or the defaults."""
    if request.method == "GET":
        example = request.args.get("example", DEFAULT_EXAMPLE)
        example = example if example in example_chains() else DEFAULT_EXAMPLE
        return {"source": "example", "example": example, "value_chain": "", "events": "", "library_events": set(),
                "runs": DEFAULT_RUNS, "seed": DEFAULT_SEED, "today": datetime.date.today().isoformat()}
    form = request.form
    source = form.get("source", "example")
    return {"source": source if source in SOURCES else "example", "example": form.get("example", ""),
            "value_chain": form.get("value_chain", ""), "events": form.get("events", ""),
            "library_events": set(form.getlist("library_events")), "runs": form.get("runs", "").strip(),
            "seed": form.get("seed", "").strip(), "today": form.get("today", "").strip()}


def _value_chain_document(values: dict):
    """The value-chain document the form names; an uploaded file's text moves into the paste field, so that the
    page shown next (and its "respond" buttons) carries it."""
    source = values["source"]
    if source == "example":
        chains = example_chains()
        if values["example"] not in chains:
            raise FormProblem("value_chain", "choose one of the example value chains, or upload or paste one")
        return json.loads(chains[values["example"]].read_text(encoding="utf-8"))
    if source == "file":
        upload = request.files.get("file")
        if not upload or not upload.filename:
            raise FormProblem("value_chain", "choose a value-chain file (JSON) to upload", 400)
        data = upload.read()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FormProblem("value_chain", "the value-chain file is not UTF-8 text: upload the JSON file", 400) \
                from None
        values.update(source="paste", value_chain=text)
    if not values["value_chain"].strip():
        raise FormProblem("value_chain", "paste a value chain in the plain JSON value-chain format", 400)
    return _json(values["value_chain"], "value chain", "value_chain")


def _json(text: str, what: str, field: str):
    try:
        return parse_json(text, what)
    except InputError as err:
        raise FormProblem(field, shortened(str(err)), 400) from None


def _request_document(values: dict) -> dict:
    """The request of ``POST /resilience/assess`` the form stands for."""
    doc: dict = {"value_chain": _value_chain_document(values)}
    if values["events"].strip():
        doc["events"] = _json(values["events"], "custom events", "events")
    if values["library_events"]:
        doc["library_events"] = sorted(values["library_events"])
    for name in ("runs", "seed"):
        if values[name]:
            doc[name] = _number(values[name])
    if values["today"]:
        doc["today"] = values["today"]
    return doc


def _field_of(err: MaasKgError) -> tuple[str | None, str]:
    """The form field a library error concerns (None: above the form), and the message to show there."""
    if isinstance(err, FieldError):
        name = err.field.split(".", 1)[0].split("[", 1)[0]
        if name in ("runs", "seed", "today"):
            return name, str(err).split(": ", 1)[-1]
        if name in SHOWN:
            return name, shortened(str(err))
        return None, shortened(str(err))
    if isinstance(err, NotFound):  # an example event the library does not have
        return "library_events", str(err)
    if err.status in (400, 422):  # a product of the chain that cannot be matched as described
        return "value_chain", shortened(str(err))
    return None, str(err)


# -- the page ------------------------------------------------------------------------------------------------------

def _names(services) -> dict[str, dict]:
    """Service and provider names from the public catalogue (withdrawn services keep their IRI)."""
    names = {}
    for service in dict.fromkeys(services):
        try:
            rows = list_services(resources().catalogue, service=service)
        except (CatalogueError, StoreError):
            rows = []
        if rows:
            names[service] = {"name": rows[0]["name"], "provider": rows[0]["providerName"]}
    return names


def _current_suppliers(chain: ValueChain, step: dict, hit: set[str]) -> list[dict]:
    """Today's suppliers of a step of the response (found by product name and process)."""
    for product in chain.products:
        if product.name != step["product"]:
            continue
        for chain_step in product.steps:
            if chain_step.process == step["process"] and chain_step.process_name == step["step"]:
                return [{"service": s.service, "provider": s.provider, "share": s.share, "hit": s.service in hit}
                        for s in chain_step.suppliers]
    return []


def quote_handoff(rfq: dict, steps: list[dict]) -> dict:
    """The fields of the stage-3 "request quotes" form (``web_orders.quotes_from_form``) for a response's request
    for quotation: one ticked pick per item ("<position> <service> [<match score>]"), and per position the step's
    label and the requirements. The form keys a step's label and requirements by position, and the items of two
    products may share one: then the steps asked about are numbered anew."""
    labels = {s["process"]: s["step"] for s in steps}
    keys = [(item.get("position"), item["step"],
             json.dumps(item.get("requirements") or {}, ensure_ascii=False, sort_keys=True)) for item in rfq["items"]]
    renumber = len(set(keys)) != len({key[0] for key in keys}) or not all(isinstance(k[0], int) for k in keys)
    positions: dict[tuple, int] = {}
    picks, by_position = [], {}
    for item, key in zip(rfq["items"], keys):
        requirements = key[2]
        position = positions.setdefault(key, len(positions) + 1) if renumber else key[0]
        score = item.get("match_score")
        picks.append({"value": f"{position} {item['service']}" + ("" if score is None else f" {score}"),
                      "position": position, "service": item["service"], "quantity": item.get("quantity"),
                      "step": labels.get(item["step"], item["step"])})
        by_position[position] = {"step": labels.get(item["step"], item["step"]), "requirements": requirements}
    delivery = rfq.get("delivery") or {}
    return {"picks": picks, "steps": by_position, "title": rfq.get("title", ""), "quantity": rfq.get("quantity", ""),
            "due": rfq.get("due", ""), "place": delivery.get("place", ""), "lat": delivery.get("lat", ""),
            "lon": delivery.get("lon", ""),
            "quantities_differ": len({p["quantity"] for p in picks}) > 1,
            "json": json.dumps(rfq, indent=2, ensure_ascii=False)}


@bp.route("/resilience", methods=["GET", "POST"])
def page():
    values = _form_values()
    errors: dict[str, str] = {}
    context: dict = {"form": values, "errors": errors, "error": None, "result": None, "response": None,
                     "response_error": None, "examples": list(example_chains()), "graticule": _graticule()}
    status = 200
    chain = None
    if request.method == "POST":
        state = resources()
        try:
            chain, events, options = read_request(_request_document(values), state.catalogue,
                                                  events_required=False)
            context["result"] = assess(state.workspace, state.catalogue, chain, events, **options)
            chosen = request.form.get("respond", "")
            if chosen:
                picked = [e for e in events if e.id == chosen]
                if picked:
                    context["response"] = _response(chain, context["result"],
                                                    respond(state.workspace, state.catalogue, chain, picked,
                                                            today=options["today"]))
                else:
                    context["response_error"] = (f"the event {chosen} is no longer among the events: tick it again "
                                                 "to respond to it")
                    status = 422
        except FormProblem as err:
            errors[err.field] = err.message
            status = err.status
        except MaasKgError as err:
            if err.status >= 500:
                raise  # not the form's fault: the error page says so and keeps what was typed (api/problems.py)
            field, message = _field_of(err)
            if field:
                errors[field] = message
            else:
                context["error"] = message
            status = err.status if field is None or err.status != 404 else 422
    hit = {service for entry in (context["result"] or {}).get("events", []) for product in entry["products"]
           for step in product["steps"] for service in step["services"]}
    groups = {f"example-{name}": _supplies_of_document(json.loads(path.read_text(encoding="utf-8")))
              for name, path in example_chains().items()}
    if chain is not None:
        groups["current"] = _supplies_of_chain(chain)
    context["sites"], located = _sites(groups, hit)
    context["shown_sites"] = "current" if chain is not None and values["source"] != "example" else \
        f"example-{values['example']}"
    context["library"] = _library_rows(located)
    return render_template("resilience.html", **context), status


def _response(chain: ValueChain, assessed: dict, plan: dict) -> dict:
    """``respond``'s plan with, per step, today's suppliers beside the alternatives, names for the services, and
    the fields that hand its request for quotation to the stage-3 form."""
    event_id = plan["events"][0]["id"]
    hit = {service for entry in assessed["events"] if entry["event"]["id"] == event_id
           for product in entry["products"] for step in product["steps"] for service in step["services"]}
    for step in plan["steps"]:
        step["current"] = _current_suppliers(chain, step, hit)
    services = [s["service"] for step in plan["steps"] for s in step["current"]] + \
        [o["service"] for step in plan["steps"] for o in step["options"]]
    rfq = plan.get("request_for_quotation")
    return {"plan": plan, "event": plan["events"][0], "names": _names(services),
            "quotes": quote_handoff(rfq, plan["steps"]) if rfq else None}
