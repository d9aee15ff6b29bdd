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
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from maas_kg import geo, knowledge
from maas_kg.knowledge import rules
from maas_kg.matching import costing
from maas_kg.matching.criteria import CanCriterion, MustCriterion, can_criteria, must_criteria
from maas_kg.matching.index import MatchIndex, step_processes
from maas_kg.matching.orchestration import MAX_PER_STEP, Assignment, Option, best_assignments
from maas_kg.matching.step import Candidate, Performance, ProviderPerformance, StepMatch, StepRows, rank
from maas_kg.matching.translation import Route, RouteStep, Translation, derive_requirements
from maas_kg.store import Store

#: the named graph of the catalogue store where the order-evaluation stage publishes each evaluated provider's
#: ``maas:performanceScore`` and ``maas:evaluationCount``; queries/matching/provider-performance.rq reads it
PERFORMANCE_GRAPH = "https://w3id.org/maas-kg/graph/performance"


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
    # what the geometry says beyond the box (volume_mm3, area_mm2, stock_removal_mm3, ...: the product's JSON keys),
    # the inputs of the cost models (maas_kg.matching.costing); empty: services quote by their flat prices
    characteristics: dict = field(default_factory=dict)

    def part(self) -> dict:
        """The part as the cost models' time models read it: the characteristics, the mass and the envelope, the
        shortest edge last (the height a powder bed builds is the shortest: the part is laid flat)."""
        return {**self.characteristics, "envelope_mm": list(self.edges_mm),
                **({"mass_kg": self.mass_kg} if self.mass_kg is not None else {})}

    @property
    def days_available(self) -> int | None:
        return (self.due - self.today).days if self.due else None


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
                   {k: round(v / total, 4) for k, v in chosen.items()}, factor,
                   _characteristics(store, the_product))


#: the product's characteristics (queries/matching/request-characteristics.rq) by the product format's JSON keys
CHARACTERISTICS = {"volume": "volume_mm3", "area": "area_mm2", "stockRemoval": "stock_removal_mm3",
                   "minWall": "min_wall_mm", "thickness": "thickness_mm", "cutLength": "cut_length_mm",
                   "bends": "bends", "holes": "holes"}


def _characteristics(store: Store, the_product: str) -> dict:
    rows = rules.select(store, "matching/request-characteristics.rq", PRODUCT=the_product)
    if not rows:
        return {}
    found = {}
    for variable, key in CHARACTERISTICS.items():
        term = rows[0][variable]
        if term is not None:
            try:
                found[key] = float(term.value)
            except ValueError:  # the product shape checks these; a value it let through reads as absent
                continue
    return found


def _exchange_rates(store: Store) -> dict[str, float]:
    # the rule names the ontology's graphs; without the union as default graph, nothing else can answer it
    return {r["currency"].value: float(r["unitsPerEuro"].value)
            for r in store.select(rules.rule_text("matching/exchange-rates.rq"))}


def provider_performance(store: Store) -> Performance:
    """The evaluated providers of the catalogue ``store`` with their performance score and evaluation count
    (``queries/matching/provider-performance.rq``); a provider not in it has no evaluations."""
    return {row["provider"].value: ProviderPerformance(
                float(row["score"].value), int(row["count"].value) if row["count"] is not None else None)
            for row in rules.select(store, "matching/provider-performance.rq")}


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
               criteria: tuple[MustCriterion, ...] | None = None,
               can: tuple[CanCriterion, ...] | None = None, performance: Performance | None = None) -> StepMatch:
    """Candidates (all must-criteria pass, best score first) and near misses (exactly one fails) of one step, from
    ``index`` when given (kept current by the caller), else from the must-criteria rule in ``store``. ``rates`` and
    ``performance`` (the evaluated providers, :func:`provider_performance`) are read from ``store`` when None."""
    criteria = criteria if criteria is not None else must_criteria(store)
    can = can if can is not None else can_criteria(store)
    if index is not None:
        rows = index.evaluate(request, step_processes(store, step.process, request.shape),
                              finishing=step.sets_surface, required_it=required_it, criteria=criteria)
    else:
        rows = _rows_by_rule(store, request, step, required_it, [c.name for c in criteria])
    rates = rates if rates is not None else _exchange_rates(store)
    performance = performance if performance is not None else provider_performance(store)
    quotes = None
    if request.characteristics and rows.cost_models:
        quotes = costing.step_quotes(store, rows.cost_models, request.part(), request.material, request.quantity)
    return rank(step, rows, request, rates, can,
                extra_of=lambda services, providers, graphs: _extra_certifications(store, request, services,
                                                                                   providers, graphs),
                performance=performance, quotes=quotes)


def _rows_by_rule(store: Store, request: Request, step: RouteStep, required_it: int | None,
                  names: list[str]) -> StepRows:
    # every pattern of the rule names its graph (the taxonomy comes from the derived graphs): run without the union as
    # default graph, so that no statement of a service graph can stand in for the ontology's
    found: dict[str, dict] = {}
    for row in store.select(must_criteria_query(request, step.process, step.sets_surface, required_it)):
        service = row["service"].value
        if service in found:  # a service with several sites or prices: keep the first row
            continue
        found[service] = {"service": service, "graph": row["graph"].value, "provider": row["provider"].value,
                          "passed": {name: row[name] is not None and row[name].value == "true" for name in names},
                          "currency": _text(row["currency"]),
                          **{key: _float(row[variable]) for key, variable in (
                              ("lat", "lat"), ("lon", "lon"), ("setup", "setup"), ("unit", "unit"),
                              ("lead", "leadTime"), ("capacity", "capacity"), ("tol", "tol"), ("ra", "ra"),
                              ("max_mass", "maxMass"))}}
    rows = StepRows.from_rows(names, list(found.values()))
    if request.characteristics:  # the reference reads every published cost model by the index's rule
        models = costing.service_cost_models(store)
        rows.cost_models = {i: models[service] for i, service in enumerate(found) if service in models}
    return rows


def _text(term) -> str | None:
    return term.value if term is not None else None


def add_names(store: Store, candidates: list[Candidate]) -> None:
    """Fill in service and provider names (left out of the must-criteria query, which they would slow down)."""
    missing = [c for c in candidates if c.name is None]
    if not missing:
        return
    unique = {c.service: c for c in missing}  # a service shown in several steps or routes is looked up once
    block = rules.values(["service", "provider", "graph"], [[c.service, c.provider, c.graph] for c in unique.values()])
    names = {row["service"].value: row for row in rules.select(store, "matching/service-names.rq", CANDIDATES=block)}
    for candidate in missing:
        row = names.get(candidate.service)
        if row is not None:
            candidate.name, candidate.provider_name = _text(row["serviceName"]), _text(row["providerName"])


def _extra_certifications(store: Store, request: Request, services, providers, graphs) -> dict[str, int]:
    """Certifications the candidates (or their providers) hold beyond those required
    (``queries/matching/provider-certifications.rq``)."""
    block = rules.values(["service", "provider", "graph"], list(zip(services, providers, graphs)))
    required = rules.values(["required"], [[iri] for iri in request.certifications])
    return {row["service"].value: int(row["extra"].value)
            for row in rules.select(store, "matching/provider-certifications.rq", CANDIDATES=block, REQUIRED=required)}


# one pool for every match of the process: a pool per match started two threads per product, and under 50 concurrent
# clients their start and stop was 8% of a served match's CPU time
_STEPS_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="maas-kg-steps")


def _carrying(in_force: tuple, function, *args, **kwargs):
    """``function`` in a pool thread with the ontology of the request's thread in force."""
    knowledge.carry_extensions(in_force)
    return function(*args, **kwargs)


def match_product(store: Store, product: str, *, catalogue: Store | None = None, today: datetime.date | None = None,
                  k: int = 3, record: bool = True, index: MatchIndex | None = None) -> MatchResult:
    """Translate ``product`` into routes and match every step of every route; routes with the best assignment
    first.

    ``store`` holds the product (and receives its requirements); ``catalogue`` holds the published services and
    defaults to ``store``. Keeping them apart keeps customers' products out of the public catalogue store. With
    ``index`` (a :class:`MatchIndex` of ``catalogue``), the must-criteria run on it, after it follows the catalogue.
    """
    translation = derive_requirements(store, product, record=record)
    request = read_request(store, product, today=today)
    return match_translated(store, translation, request, catalogue=catalogue, k=k, index=index)


def match_translated(store: Store, translation: Translation, request: Request, *, catalogue: Store | None = None,
                     k: int = 3, index: MatchIndex | None = None) -> MatchResult:
    """Match the routes of a translated product (``store`` gives the ontology's criteria, ``catalogue`` the
    services; see :func:`match_product`)."""
    catalogue = catalogue if catalogue is not None else store
    if index is not None:
        index.follow(catalogue)
    criteria, can = must_criteria(store), can_criteria(store)
    rates, performance = _exchange_rates(catalogue), provider_performance(catalogue)
    transport_weight = request.weights.get("distance", 0.0) + request.weights.get("co2", 0.0)
    # each distinct step once; the store's engine and the solver run without holding the GIL, so the steps, and
    # then the routes' orchestrations, run in parallel threads (one per core)
    distinct = {(step.process, step.sets_surface): step for route in translation.routes for step in route.steps}
    pool, in_force = _STEPS_POOL, knowledge.ontology_key()
    futures = {key: pool.submit(_carrying, in_force, match_step, catalogue, request, step,
                                required_it=translation.characteristics.required_it, rates=rates, index=index,
                                criteria=criteria, can=can, performance=performance)
               for key, step in distinct.items()}
    cache = {key: future.result() for key, future in futures.items()}
    routes = [[cache[step.process, step.sets_surface] for step in route.steps] for route in translation.routes]
    assignments = pool.map(lambda found: best_assignments(
        [[Option(c.service, c.score, c.delivery_days, c.lat, c.lon) for c in s.best(MAX_PER_STEP)] for s in found],
        k=k, transport_weight=transport_weight, days_available=request.days_available, distance=geo.distance_km),
        routes)
    matched = [_route_match(route, [f.for_step(step) for step, f in zip(route.steps, found)],
                            best, request)
               for route, found, best in zip(translation.routes, routes, assignments)]
    matched.sort(key=lambda m: (-m.score, -m.route.typical_fit))
    return MatchResult(translation, request, matched, criteria)


def _route_match(route: Route, steps: list[StepMatch], assignments: list[Assignment], request: Request) -> RouteMatch:
    reasons = list(route.reasons)
    empty = [i for i, s in enumerate(steps, start=1) if not s.candidate_count]
    if empty:
        reasons.append("no published service passes every must-criterion for step "
                       + ", ".join(str(i) for i in empty) + "; see the near misses")
    elif not assignments:
        reasons.append(f"no combination of services finishes all {len(steps)} steps within the "
                       f"{request.days_available} days until the due date")
    best = assignments[0].total if assignments else None
    score = round(route.typical_fit * max(0.0, 1 - best / len(steps)), 4) if best is not None else 0.0
    return RouteMatch(route, steps, assignments, score, reasons)
