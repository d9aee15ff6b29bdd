"""Matching (mission activities 2.3 to 2.5): services for each step of a product's routes.

The must-criteria are declared in the ontology (:mod:`maas_kg.matching.criteria`) and defined by one SPARQL rule
per step (``queries/matching/must-criteria.rq``, the reference, ``engine="sparql"``); at catalogue scale the match
index (:mod:`maas_kg.matching.index`) evaluates the same criteria on columns and gives the same answer. The
can-criteria (price, lead time, distance, transport CO2, capacity headroom, extra certifications, provider
performance) are normalised to 0..1 over the step's candidates and weighted by the product's weights, or by the
ontology's default weights when it states none; the k best assignments of services to the steps of a route come
from :mod:`maas_kg.matching.orchestration`.
"""

from __future__ import annotations

import datetime
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from maas_kg import geo
from maas_kg.knowledge import rules
from maas_kg.matching.criteria import MustCriterion, must_criteria
from maas_kg.matching.index import Found, MatchIndex, step_processes
from maas_kg.matching.orchestration import Assignment, Option, best_assignments
from maas_kg.matching.translation import Route, RouteStep, Translation, derive_requirements
from maas_kg.store import Store

LOWER_IS_BETTER = ("price", "lead_time", "distance", "co2")
HIGHER_IS_BETTER = ("capacity", "certifications", "performance")
NEUTRAL_SCORE = 0.5  # a criterion without a value for a candidate (no price, no evaluation yet) neither helps nor hurts


@dataclass(frozen=True)
class Request:
    """What the product asks of the match, read from the store."""
    product: str
    material: str
    shape: str
    quantity: int
    edges_mm: tuple[float, float, float]  # bounding box, longest first
    mass_kg: float | None
    tolerance_mm: float | None
    roughness_ra_um: float | None
    certifications: tuple[str, ...]
    accepted_materials: tuple[str, ...]  # the material and its superclasses
    delivery: tuple[float, float] | None
    max_distance_km: float | None
    due: datetime.date | None
    today: datetime.date
    weights: dict[str, float]
    emission_factor: float  # kg CO2e per tonne-km

    @property
    def days_available(self) -> int | None:
        return (self.due - self.today).days if self.due else None


@dataclass
class Candidate:
    service: str
    provider: str
    name: str | None
    provider_name: str | None
    graph: str
    passed: dict[str, bool]
    quote: float | None = None
    currency: str | None = None
    quote_eur: float | None = None
    distance_km: float | None = None
    co2_kg: float | None = None
    lead_time_days: int | None = None
    delivery_days: int | None = None
    capacity_per_week: float | None = None
    capacity_headroom: float | None = None  # how many times the order fits into the weekly capacity until the due date
    extra_certifications: int = 0
    tolerance_mm: float | None = None  # the service's achievable values, for the relaxations of near misses
    roughness_ra_um: float | None = None
    max_mass_kg: float | None = None
    lat: float | None = None
    lon: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    score: float = 0.0

    @property
    def failed(self) -> list[str]:
        return [name for name, ok in self.passed.items() if not ok]

    def criteria(self, request: Request) -> dict[str, dict]:
        values = {"price": self.quote_eur, "lead_time": self.delivery_days, "distance": self.distance_km,
                  "co2": self.co2_kg, "capacity": self.capacity_headroom, "certifications": self.extra_certifications,
                  "performance": None}
        result: dict[str, dict] = {name: {"kind": "must", "pass": ok} for name, ok in self.passed.items()}
        for name, value in values.items():
            entry = {"kind": "can", "value": _rounded(value), "score": round(self.scores.get(name, NEUTRAL_SCORE), 4),
                     "weight": request.weights.get(name, 0.0)}
            if name in result:  # distance and certifications are both a must- and a can-criterion
                result[name].update(entry, kind="must+can")
            else:
                result[name] = entry
        result["price"]["unit"] = "EUR (reference rates)"
        result["lead_time"]["unit"] = "days"
        result["distance"]["unit"] = "km"
        result["co2"]["unit"] = "kg CO2e"
        result["capacity"]["unit"] = "times the order fits into the weekly capacity until the due date"
        return result


@dataclass
class StepMatch:
    step: RouteStep
    candidates: list[Candidate]
    near_misses: list[Candidate]


@dataclass
class RouteMatch:
    route: Route
    steps: list[StepMatch]
    assignments: list[Assignment]
    score: float
    reasons: list[str]


@dataclass
class MatchResult:
    translation: Translation
    request: Request
    routes: list[RouteMatch]
    criteria: tuple[MustCriterion, ...] = ()


def _rounded(value):
    return round(value, 3) if isinstance(value, float) else value



def _float(term) -> float | None:
    return float(term.value) if term is not None else None


def read_request(store: Store, product: str, *, today: datetime.date | None = None) -> Request:
    the_product = rules.values(["product"], [[product]])
    rows = rules.select(store, "matching/request.rq", PRODUCT=the_product)
    if not rows:
        raise ValueError(f"product {product} is not in the store or has no quantity")
    row = rows[0]
    delivery = (float(row["lat"].value), float(row["lon"].value)) if row["lat"] is not None else None
    due = datetime.date.fromisoformat(row["due"].value[:10]) if row["due"] is not None else None
    weights_rows = rules.select(store, "matching/criteria-weights.rq", PRODUCT=the_product)
    given = {r["name"].value: float(r["given"].value) for r in weights_rows if r["given"] is not None}
    defaults = {r["name"].value: float(r["default"].value) for r in weights_rows if r["default"] is not None}
    chosen = given or defaults
    total = sum(chosen.values()) or 1.0
    factor = next((float(r["emissionFactor"].value) for r in weights_rows if r["emissionFactor"] is not None), 0.1)
    return Request(product, row["material"].value, row["shape"].value, int(row["quantity"].value),
                   (float(row["longest"].value), float(row["middle"].value), float(row["shortest"].value)),
                   _float(row["mass"]), _float(row["tolerance"]), _float(row["roughness"]),
                   tuple(sorted(row["certifications"].value.split())) if row["certifications"] else (),
                   tuple(sorted(r["accepted"].value for r in rules.select(store, "matching/accepted-materials.rq",
                                                                  MATERIAL=rules.values(["material"], [[row["material"]]])))),
                   delivery, _float(row["maxDistance"]), due, today or datetime.date.today(),
                   {k: round(v / total, 4) for k, v in chosen.items()}, factor)


def _exchange_rates(store: Store) -> dict[str, float]:
    # the rule names the ontology's graphs; without the union as default graph, nothing else can answer it
    return {r["currency"].value: float(r["unitsPerEuro"].value)
            for r in store.select(rules.rule_text("matching/exchange-rates.rq"))}


def must_criteria_query(request: Request, process: str, sets_surface: bool, required_it: int | None) -> str:
    """The must-criteria query of one step, its parameters bound."""
    vector = geo.unit_vector(*request.delivery) if request.delivery else (None, None, None)
    chord = geo.chord_squared(request.max_distance_km) if request.delivery and request.max_distance_km else None
    block = rules.values(["required", "checkSurface", "productMaterial", "productShape", "q", "pl", "pm", "ps", "partMass", "reqTol",
                          "reqRa", "requiredIT", "today", "daysAvailable", "dx", "dy", "dz", "maxChord2"],
                         [[process, sets_surface, request.material, request.shape, request.quantity, *request.edges_mm,
                           request.mass_kg, request.tolerance_mm, request.roughness_ra_um, required_it, request.today,
                           request.days_available, *vector, chord]])
    certifications = rules.values(["cert"], [[c] for c in request.certifications]) if request.certifications \
        else "FILTER(false)"
    accepted = ", ".join(rules.sparql_term(m) for m in request.accepted_materials)
    return rules.bind(rules.rule_text("matching/must-criteria.rq"), PARAMETERS=block, CERTIFICATIONS=certifications,
                      ACCEPTED=accepted)


def match_step(store: Store, request: Request, step: RouteStep, *, required_it: int | None = None,
               rates: dict[str, float] | None = None, index: MatchIndex | None = None,
               criteria: tuple[MustCriterion, ...] | None = None) -> StepMatch:
    """Candidates (all must-criteria pass, best score first) and near misses (exactly one fails) of one step, from
    ``index`` when given (kept current by the caller), else from the must-criteria rule in ``store``."""
    criteria = criteria if criteria is not None else must_criteria(store)
    if index is not None:
        found = index.evaluate(request, step_processes(store, step.process, request.shape),
                               finishing=step.sets_surface, required_it=required_it, criteria=criteria)
    else:
        found = _found_by_rule(store, request, step, required_it, [c.name for c in criteria])
    rates = rates if rates is not None else _exchange_rates(store)
    candidates, near_misses = [], []
    for row in found:
        candidate = Candidate(row.service, row.provider, None, None, row.graph, row.passed)
        _can_values(candidate, row, request, rates)
        (near_misses if candidate.failed else candidates).append(candidate)
        if row.extra_certifications is not None:
            candidate.extra_certifications = row.extra_certifications
    near_misses.sort(key=lambda c: (c.failed, c.service))
    if candidates and index is None:
        _extra_certifications(store, request, candidates)
    _score(candidates, request.weights)
    candidates.sort(key=lambda c: (-c.score, c.quote_eur if c.quote_eur is not None else math.inf, c.service))
    return StepMatch(step, candidates, near_misses)


def _found_by_rule(store: Store, request: Request, step: RouteStep, required_it: int | None,
                   names: list[str]) -> list[Found]:
    # every pattern of the rule names its graph (the taxonomy comes from the derived graphs): run without the union as
    # default graph, so that no statement of a service graph can stand in for the ontology's
    rows = store.select(must_criteria_query(request, step.process, step.sets_surface, required_it))
    found: dict[str, Found] = {}
    for row in rows:
        service = row["service"].value
        if service in found:  # a service with several sites or prices: keep the first row
            continue
        found[service] = Found(service, row["graph"].value, row["provider"].value,
                               {name: row[name] is not None and row[name].value == "true" for name in names},
                               _float(row["lat"]), _float(row["lon"]), _text(row["currency"]), _float(row["setup"]),
                               _float(row["unit"]), _float(row["leadTime"]), _float(row["capacity"]),
                               _float(row["tol"]), _float(row["ra"]), _float(row["maxMass"]))
    return list(found.values())


def _text(term) -> str | None:
    return term.value if term is not None else None


def _can_values(candidate: Candidate, row: Found, request: Request, rates: dict[str, float]) -> None:
    setup, unit = row.setup, row.unit
    if setup is not None and unit is not None:
        candidate.quote = round(setup + unit * request.quantity, 2)
        candidate.currency = row.currency
        rate = rates.get(candidate.currency or "")
        candidate.quote_eur = round(candidate.quote / rate, 2) if rate else None
    candidate.lat, candidate.lon = row.lat, row.lon
    candidate.tolerance_mm, candidate.roughness_ra_um, candidate.max_mass_kg = row.tolerance, row.roughness, row.max_mass
    if request.delivery and candidate.lat is not None and candidate.lon is not None:
        candidate.distance_km = round(geo.distance_km(candidate.lat, candidate.lon, *request.delivery), 1)
        if request.mass_kg is not None:
            tonnes = request.mass_kg * request.quantity / 1000
            candidate.co2_kg = round(candidate.distance_km * tonnes * request.emission_factor, 2)
    lead, capacity = row.lead_time, row.capacity
    candidate.capacity_per_week = capacity
    if capacity:
        weeks = max(1.0, request.days_available / 7) if request.days_available else 1.0
        candidate.capacity_headroom = round(capacity * weeks / request.quantity, 3)
    if lead is not None:
        candidate.lead_time_days = int(lead)
        weeks = math.ceil(request.quantity / capacity) if capacity else 0
        candidate.delivery_days = int(lead) + 7 * weeks  # the formula of the due-date must-criterion


def add_names(store: Store, candidates: list[Candidate]) -> None:
    """Fill in service and provider names (left out of the must-criteria query, which they would slow down)."""
    missing = [c for c in candidates if c.name is None]
    if not missing:
        return
    block = rules.values(["service", "provider", "graph"], [[c.service, c.provider, c.graph] for c in missing])
    names = {row["service"].value: row for row in rules.select(store, "matching/service-names.rq", CANDIDATES=block)}
    for candidate in missing:
        row = names.get(candidate.service)
        if row is not None:
            candidate.name, candidate.provider_name = _text(row["serviceName"]), _text(row["providerName"])


def _extra_certifications(store: Store, request: Request, candidates: list[Candidate]) -> None:
    block = rules.values(["service", "provider", "graph"], [[c.service, c.provider, c.graph] for c in candidates])
    required = rules.values(["required"], [[iri] for iri in request.certifications])
    counts = {row["service"].value: int(row["extra"].value)
              for row in rules.select(store, "matching/provider-certifications.rq", CANDIDATES=block,
                                      REQUIRED=required)}
    for candidate in candidates:
        candidate.extra_certifications = counts.get(candidate.service, 0)


def _score(candidates: list[Candidate], weights: dict[str, float]) -> None:
    """Min-max normalise each can-criterion over the step's candidates and combine with the weights."""
    values = {
        "price": [c.quote_eur for c in candidates], "lead_time": [c.delivery_days for c in candidates],
        "distance": [c.distance_km for c in candidates], "co2": [c.co2_kg for c in candidates],
        "capacity": [c.capacity_headroom for c in candidates],
        "certifications": [float(c.extra_certifications) for c in candidates],
        "performance": [None for _ in candidates],
    }
    for name, column in values.items():
        known = [v for v in column if v is not None]
        low, high = (min(known), max(known)) if known else (0.0, 0.0)
        for candidate, value in zip(candidates, column):
            if value is None:
                score = NEUTRAL_SCORE
            elif high == low:
                score = 1.0
            elif name in LOWER_IS_BETTER:
                score = (high - value) / (high - low)
            else:
                score = (value - low) / (high - low)
            candidate.scores[name] = score
    total = sum(weights.values()) or 1.0
    for candidate in candidates:
        candidate.score = round(sum(w * candidate.scores.get(name, NEUTRAL_SCORE) for name, w in weights.items())
                                / total, 4)


def match_product(store: Store, product: str, *, catalogue: Store | None = None, today: datetime.date | None = None,
                  k: int = 3, record: bool = True, index: MatchIndex | None = None) -> MatchResult:
    """Translate ``product`` into routes and match every step of every route; routes with the best assignment
    first.

    ``store`` holds the product (and receives its requirements); ``catalogue`` holds the published services and
    defaults to ``store``. Keeping them apart keeps customers' products out of the public catalogue store. With
    ``index`` (a :class:`MatchIndex` of ``catalogue``), the must-criteria run on it, after it follows the catalogue.
    """
    catalogue = catalogue if catalogue is not None else store
    if index is not None:
        index.follow(catalogue)
    criteria = must_criteria(store)
    translation = derive_requirements(store, product, record=record)
    request = read_request(store, product, today=today)
    rates = _exchange_rates(catalogue)
    transport_weight = request.weights.get("distance", 0.0) + request.weights.get("co2", 0.0)
    # each distinct step once; the store's engine and the solver run without holding the GIL, so the steps, and
    # then the routes' orchestrations, run in parallel threads (one per core)
    distinct = {(step.process, step.sets_surface): step for route in translation.routes for step in route.steps}
    with ThreadPoolExecutor(max_workers=max(1, min(len(distinct), os.cpu_count() or 1))) as pool:
        futures = {key: pool.submit(match_step, catalogue, request, step,
                                    required_it=translation.characteristics.required_it, rates=rates, index=index,
                                    criteria=criteria)
                   for key, step in distinct.items()}
        cache = {key: future.result() for key, future in futures.items()}
        routes = [[cache[step.process, step.sets_surface] for step in route.steps] for route in translation.routes]
        assignments = pool.map(lambda found: best_assignments(
            [[Option(c.service, c.score, c.delivery_days, c.lat, c.lon) for c in s.candidates] for s in found],
            k=k, transport_weight=transport_weight, days_available=request.days_available, distance=geo.distance_km),
            routes)
        matched = [_route_match(route, [StepMatch(step, f.candidates, f.near_misses) for step, f in zip(route.steps, found)],
                                best, request)
                   for route, found, best in zip(translation.routes, routes, assignments)]
    matched.sort(key=lambda m: (-m.score, -m.route.typical_fit))
    return MatchResult(translation, request, matched, criteria)


def _route_match(route: Route, steps: list[StepMatch], assignments: list[Assignment], request: Request) -> RouteMatch:
    reasons = list(route.reasons)
    empty = [i for i, s in enumerate(steps, start=1) if not s.candidates]
    if empty:
        reasons.append("no published service passes every must-criterion for step "
                       + ", ".join(str(i) for i in empty) + "; see the near misses")
    elif not assignments:
        reasons.append(f"no combination of services finishes all {len(steps)} steps within the "
                       f"{request.days_available} days until the due date")
    best = assignments[0].total if assignments else None
    score = round(route.typical_fit * max(0.0, 1 - best / len(steps)), 4) if best is not None else 0.0
    return RouteMatch(route, steps, assignments, score, reasons)
