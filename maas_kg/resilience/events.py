"""Disruption events (ontology/resilience.ttl): read from the plain JSON event format, from the example library in
``examples/events/``, and tested against services by ``queries/resilience/touched-services.rq``.

An event document::

    {"id": "po-valley-flood", "name": "Flood in the Po valley", "type": "natural disaster",
     "scope": {"circle": {"lat": 45.0, "lon": 10.5, "radius_km": 80}, "countries": ["IT"], "regions": ["IT-45"],
               "providers": [...], "services": [...], "processes": ["die casting"], "materials": ["aluminium"]},
     "probability_per_year": 0.02, "capacity_loss": 1.0, "duration_days": 45,
     "added_lead_time_days": 0, "added_cost_share": 0.0}

``type`` names a subclass of ``maas:DisruptionEvent`` by its label (spaces or underscores); every scope entry is
optional but one is needed; processes and materials are named as everywhere (labels, synonyms, notations, IRIs).
``regions`` are ISO 3166-2 codes: a region hits a service whose site states it or one of its subdivisions (an event
on FR-ARA hits a site in FR-69); a site that states no region is never hit by a region.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from maas_kg import geo, knowledge
from maas_kg.catalogue.ingest import REGION_FORM, region_subdivisions, term_indexes, top_level_regions
from maas_kg.catalogue.publishing import service_graph
from maas_kg.errors import NotFound
from maas_kg.execution import fields
from maas_kg.knowledge import rules
from maas_kg.knowledge.vocabulary import AmbiguousTerm, UnknownTerm

MAX_EVENTS = 100
MAX_SCOPE = 500
BATCH = 1000
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    type: str  # the class IRI
    type_label: str
    probability: float
    capacity_loss: float
    duration_days: float
    added_lead_time_days: float = 0.0
    added_cost_share: float = 0.0
    providers: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    processes: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    circle: tuple[float, float, float] | None = None  # lat, lon, radius km
    scope_text: tuple[str, ...] = field(default=(), compare=False)  # the scope as the document said it
    regions: tuple[str, ...] = ()  # ISO 3166-2 codes, each standing for itself and its subdivisions

    def kinds(self) -> set[str]:
        """The kinds of scope the event names (each must match for the event to hit a service)."""
        given = {"provider": self.providers, "service": self.services, "country": self.countries,
                 "region": self.regions, "process": self.processes, "material": self.materials,
                 "circle": self.circle}
        return {kind for kind, value in given.items() if value}

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "type": self.type_label, "probability_per_year": self.probability,
                "capacity_loss": self.capacity_loss, "duration_days": self.duration_days,
                "added_lead_time_days": self.added_lead_time_days, "added_cost_share": self.added_cost_share,
                "scope": list(self.scope_text)}


def event_types(store) -> dict[str, tuple[str, str]]:
    """Label key (lower case, underscores as spaces) -> (class IRI, label) of every declared event type."""
    return {row["label"].value.lower(): (row["type"].value, row["label"].value)
            for row in rules.select(store, "resilience/event-types.rq")}


def _names(doc: dict, name: str) -> list[str]:
    value = doc.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 1000 for v in value):
        raise fields.FieldError(name, "must be a list of names")
    if len(value) > MAX_SCOPE:
        raise fields.FieldError(name, f"has {len(value)} entries, at most {MAX_SCOPE}")
    return value


def read_event(doc: object, types: dict[str, tuple[str, str]], where: str = "event") -> Event:
    """One event from its document; a FieldError names the field (``where`` prefixes it)."""
    try:
        return _read_event(fields.document(doc), types)
    except fields.FieldError as err:
        raise fields.within(f"{where}", err) from None


def _read_event(doc: dict, types: dict[str, tuple[str, str]]) -> Event:
    event_id = fields.text(doc, "id", limit=200)
    if not re.fullmatch(r"[A-Za-z0-9._-]+", event_id):
        raise fields.FieldError("id", "may hold letters, digits, '.', '_' and '-' only")
    kind = fields.text(doc, "type", limit=100)
    found = types.get(kind.lower().replace("_", " "))
    if found is None:
        raise fields.FieldError("type", f"must be one of {', '.join(sorted(types))}, not {kind!r}")
    scope = doc.get("scope")
    if not isinstance(scope, dict) or not scope:
        raise fields.FieldError("scope", "must name what the event hits: providers, services, countries, "
                                         "regions, processes, materials or a circle")
    unknown = set(scope) - {"providers", "services", "countries", "regions", "processes", "materials", "circle"}
    if unknown:
        raise fields.FieldError(f"scope.{sorted(unknown)[0]}", "is not a scope: providers, services, countries, "
                                                               "regions, processes, materials, circle")
    try:
        providers = [fields.iri({"p": p}, "p") for p in _names(scope, "providers")]
        services = [fields.iri({"s": s}, "s") for s in _names(scope, "services")]
    except fields.FieldError as err:
        raise fields.FieldError("scope", f"providers and services are http(s) IRIs ({str(err).split(': ', 1)[1]})") \
            from None
    countries = _names(scope, "countries")
    for code in countries:
        if not _COUNTRY.fullmatch(code):
            raise fields.FieldError("scope.countries", f"{code!r} is not an ISO 3166-1 alpha-2 code such as DE")
    regions = _names(scope, "regions")
    for number, code in enumerate(regions):
        _check_region(code, f"scope.regions[{number}]")
    indexes = term_indexes()
    resolved: dict[str, list[str]] = {}
    for name in ("processes", "materials"):
        resolved[name] = []
        for text in _names(scope, name):
            try:
                resolved[name].append(str(indexes[name[:-2] if name == "processes" else "material"].resolve(text)))
            except (UnknownTerm, AmbiguousTerm) as err:
                raise fields.FieldError(f"scope.{name}", str(err)) from None
    circle = None
    if "circle" in scope:
        spot = fields.document(scope["circle"], "scope.circle")
        try:
            circle = (fields.number(spot, "lat", low=-90, high=90), fields.number(spot, "lon", low=-180, high=180),
                      fields.number(spot, "radius_km", low=0.1, high=20_000))
        except fields.FieldError as err:
            raise fields.within("scope.circle", err) from None
    if not (providers or services or countries or regions or resolved["processes"] or resolved["materials"]
            or circle):
        raise fields.FieldError("scope", "names nothing the event hits")
    described = [*(f"provider {p}" for p in providers), *(f"service {s}" for s in services),
                 *(f"country {c}" for c in countries), *(f"region {r}" for r in regions),
                 *(f"process {p}" for p in _names(scope, "processes")),
                 *(f"material {m}" for m in _names(scope, "materials"))]
    if circle:
        described.append(f"within {circle[2]:g} km of {circle[0]:g}, {circle[1]:g}")
    return Event(event_id, fields.text(doc, "name", required=False, limit=200) or event_id, found[0], found[1],
                 fields.number(doc, "probability_per_year", low=0, high=1),
                 fields.number(doc, "capacity_loss", low=0, high=1, default=1.0),
                 fields.number(doc, "duration_days", low=0.1, high=3650),
                 fields.number(doc, "added_lead_time_days", low=0, high=3650, default=0.0),
                 fields.number(doc, "added_cost_share", low=0, high=100, default=0.0),
                 tuple(providers), tuple(services), tuple(countries), tuple(resolved["processes"]),
                 tuple(resolved["materials"]), circle, tuple(described), regions=tuple(regions))


def _check_region(code: str, field_name: str) -> None:
    """Raise a FieldError naming ``field_name`` unless ``code`` is an ISO 3166-2 code; the hint says what to give."""
    if _COUNTRY.fullmatch(code):
        raise fields.FieldError(field_name, f"{code!r} is an ISO 3166-1 country code: name countries in "
                                            "scope.countries, regions (ISO 3166-2, such as DE-BY) in scope.regions")
    if not REGION_FORM.fullmatch(code):
        raise fields.FieldError(field_name, f"{code!r} is not an ISO 3166-2 code such as DE-BY (country, hyphen, "
                                            "one to three capitals or digits)")
    if code not in region_subdivisions():
        listed = top_level_regions(code[:2])
        hint = (f"the first-level codes of {code[:2]} are {', '.join(listed[:30])}{', ...' if len(listed) > 30 else ''}"
                if listed else f"{code[:2]} is no country with ISO 3166-2 codes")
        raise fields.FieldError(field_name, f"{code!r} is not an ISO 3166-2 code: {hint}")


def region_codes(event: Event) -> list[str]:
    """The region codes a site may state to be hit by ``event``: each region of its scope and every subdivision of
    it, at any level (ISO 3166-2 as pycountry has it)."""
    within = region_subdivisions()
    return sorted({code for region in event.regions for code in (region, *within[region])})


def read_events(doc: object, store) -> list[Event]:
    """The events of a document (one event, a list, or {"events": [...]})."""
    if isinstance(doc, dict) and isinstance(doc.get("events"), list):
        doc = doc["events"]
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise fields.FieldError("events", "must hold at least one event")
    if len(items) > MAX_EVENTS:
        raise fields.FieldError("events", f"has {len(items)} events, at most {MAX_EVENTS}")
    types = event_types(store)
    events = [read_event(item, types, f"events[{n}]") for n, item in enumerate(items)]
    ids = [e.id for e in events]
    if len(set(ids)) != len(ids):
        raise fields.FieldError("events", "two events have the same id")
    return events


def library() -> dict[str, dict]:
    """The example events shipped in examples/events/ (id -> document)."""
    found = {}
    for path in sorted((knowledge.examples_dir() / "events").glob("*.json")):
        for doc in json.loads(path.read_text(encoding="utf-8")).get("events", []):
            found[doc["id"]] = doc
    return found


def from_library(ids: list[str], store) -> list[Event]:
    known = library()
    missing = [i for i in ids if i not in known]
    if missing:
        raise NotFound(f"no example event {missing[0]}: the library has {', '.join(sorted(known)) or 'none'}")
    return read_events([known[i] for i in ids], store)


def touched(catalogue, events: list[Event], services: list[str]) -> dict[str, dict[str, list[str]]]:
    """event id -> service -> the reasons the event hits it, for ``services`` (one rule per batch)."""
    if not events or not services:
        return {}

    def block(variables, rows):
        # an empty kind binds a term nothing has: "FILTER(false)" would leave the branch's property path with both
        # ends open, which Oxigraph evaluates over every node of the store (5 s per call at 100,000 services)
        return rules.values(variables, rows or [["urn:maas-kg:none"] * len(variables)])

    blocks = {
        "PROVIDERS": block(["event", "provider"], [[_event_iri(e), p] for e in events for p in e.providers]),
        "SERVICES_HIT": block(["event", "service"], [[_event_iri(e), s] for e in events for s in e.services]),
        "COUNTRIES": block(["event", "hitCountry"], [[_event_iri(e), _literal(c)] for e in events
                                                     for c in e.countries]),
        "REGIONS": block(["event", "hitRegion"], [[_event_iri(e), _literal(r)] for e in events
                                                  for r in region_codes(e)]),
        "PROCESSES": block(["event", "hitProcess"], [[_event_iri(e), p] for e in events for p in e.processes]),
        "MATERIALS": block(["event", "hitMaterial"], [[_event_iri(e), m] for e in events for m in e.materials]),
        "CIRCLES": block(["event", "cx", "cy", "cz", "maxChord2"],
                         [[_event_iri(e), *geo.unit_vector(e.circle[0], e.circle[1]),
                           geo.chord_squared(e.circle[2])] for e in events if e.circle]),
    }
    by_iri = {_event_iri(e): e.id for e in events}
    kinds = {e.id: e.kinds() for e in events}
    result: dict[str, dict[str, list[str]]] = {}
    unique = sorted(set(services))
    for start in range(0, len(unique), BATCH):
        batch = unique[start:start + BATCH]
        rows = rules.select(catalogue, "resilience/touched-services.rq",
                            SERVICES=rules.values(["service", "graph"], [[s, service_graph(s)] for s in batch]),
                            **blocks)
        for row in rows:
            reasons = result.setdefault(by_iri[row["event"].value], {}).setdefault(row["service"].value, [])
            if row["reason"].value not in reasons:
                reasons.append(row["reason"].value)
    # the kinds of scope an event names combine with "and" (gas rationing in Germany for case hardening), the
    # values of one kind with "or"; a circle, a country list or a provider alone is one kind
    return {event: {service: reasons for service, reasons in services.items() if kinds[event] <= set(reasons)}
            for event, services in result.items()}


def _event_iri(event: Event) -> str:
    return f"https://w3id.org/maas-kg/id/event/{event.id}"


def _literal(text: str) -> ox.Literal:
    return ox.Literal(text)
