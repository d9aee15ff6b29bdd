"""Product characteristics -> process requirements (mission activity 2.2).

The SPARQL rules in ``queries/translation/`` compare a product with the effective capability profiles of the
ontology: which shaping processes can make it, which steps must precede them, which finishing steps the product's
tolerance and roughness call for, which steps the customer asked for, and joining for assemblies. This module
combines their answers into alternative routes, ranks them by typical fit and records them as RDF with provenance.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import math
from dataclasses import dataclass, field

import pyoxigraph as ox

from maas_kg.errors import Unprocessable
from maas_kg.knowledge import MAAS, rules
from maas_kg.store import Changes, Store

ID = "https://w3id.org/maas-kg/id/"
REQUIREMENTS_GRAPH_BASE = "https://w3id.org/maas-kg/graph/requirements/"
TRANSLATION_AGENT = "https://w3id.org/maas-kg/agent/translation"
PRIMARY, FINISHING, JOINING = str(MAAS.PrimaryRole), str(MAAS.FinishingRole), str(MAAS.JoiningRole)

# Typical fit of a route, 0..1: 1 for a single step that routinely meets every requirement, minus these penalties.
STEP_PENALTY = 0.10          # per step the product needs beyond the shaping step and the steps the customer asked for
IT_GRADE_PENALTY = 0.03      # per IT grade a finishing step must close
RA_HALVING_PENALTY = 0.05    # per halving of Ra a finishing step must achieve
OVERKILL_PENALTY = 0.02      # per IT grade or Ra halving a finishing step routinely achieves beyond the requirement
BEST_ONLY_PENALTY = 0.05     # a finishing step reaches the requirement only at its best, not routinely
TOOLING_PENALTY = 0.10       # part-specific tooling for less than ten times the economic minimum batch
MAX_ROUTES = 8

RULE_FILES = ("translation/product-characteristics.rq", "translation/primary-processes.rq",
              "translation/preceding-steps.rq", "translation/finishing-steps.rq",
              "translation/requested-steps.rq", "translation/joining-steps.rq")


class TranslationError(Unprocessable):
    """The product lacks what the translation rules need (material, shape class, quantity, bounding box)."""


@dataclass(frozen=True)
class Characteristics:
    material: str
    shape: str
    quantity: int
    longest: float
    shortest: float
    mass: float | None
    tolerance: float | None
    required_it: int | None
    required_ra: float | None


@dataclass(frozen=True)
class RouteStep:
    process: str
    role: str
    reasons: tuple[str, ...]
    sets_surface: bool = False  # this step must meet the product's tolerance and roughness itself


@dataclass(frozen=True)
class Route:
    steps: tuple[RouteStep, ...]
    typical_fit: float
    reasons: tuple[str, ...]
    shaping_it: int | None = None  # breaks ties: the finer shaping process first


@dataclass(frozen=True)
class Translation:
    product: str
    characteristics: Characteristics
    routes: tuple[Route, ...]
    problems: tuple[str, ...] = ()
    rules_used: tuple[str, ...] = field(default=RULE_FILES)


def _number(term, cast=float):
    return cast(term.value) if term is not None else None



def product_characteristics(store: Store, product: str) -> Characteristics:
    rows = rules.select(store, "translation/product-characteristics.rq", PRODUCT=rules.values(["product"], [[product]]))
    if not rows:
        raise TranslationError(f"product {product} needs material, shape, quantity and envelope_mm to be routed")
    row = rows[0]
    return Characteristics(row["material"].value, row["shape"].value, int(row["quantity"].value),
                           float(row["longest"].value), float(row["shortest"].value), _number(row["mass"]),
                           _number(row["tolerance"]), _number(row["requiredIT"], int), _number(row["requiredRa"]))


def _most_general(rows: list[dict], key: str = "process") -> list[dict]:
    # a class under another qualifying class adds nothing: services of the subclass match the general requirement
    found = {row[key].value: row for row in rows}
    return [row for name, row in found.items()
            if not set((row["ancestors"].value if row.get("ancestors") else "").split()) & found.keys()]


def _role_positions(store: Store) -> dict[str, int]:
    return {row["role"].value: int(row["position"].value)
            for row in store.select(rules.rule_text("translation/role-positions.rq"), union_default_graph=True)}


def _ra_halvings(coarse: float | None, fine: float | None) -> float:
    return math.log2(coarse / fine) if coarse and fine and coarse > fine else 0.0


def derive_requirements(store: Store, product: str, *, record: bool = True, max_routes: int = MAX_ROUTES) -> Translation:
    """Derive the alternative process routes for ``product`` (stored in ``store``), best typical fit first.

    With ``record`` the routes are written as ``maas:ProcessRoute`` / ``maas:ProcessRequirement`` resources with
    provenance into the product's requirements graph (replacing earlier ones).
    """
    chars = product_characteristics(store, product)
    the_product = rules.values(["product"], [[product]])
    positions = _role_positions(store)
    problems: list[str] = []

    primaries = _most_general(rules.select(store, "translation/primary-processes.rq", PRODUCT=the_product))
    if not primaries:
        problems.append("no process of the ontology can make this product: its material, shape class, size or "
                        "quantity is outside every shaping process's capability profile")
    shaping_rows = [[row["process"].value, row["label"], _number(row["itTypical"], int), _number(row["raTypical"])]
                    for row in primaries]
    shaping_block = rules.values(["shaping", "shapingLabel", "shapingIT", "shapingRa"], shaping_rows)
    preceding: dict[str, list[dict]] = {}
    finishing: dict[str, list[dict]] = {}
    if shaping_rows:
        for row in rules.select(store, "translation/preceding-steps.rq", PRODUCT=the_product,
                        SHAPING=rules.values(["shaping"], [[r[0]] for r in shaping_rows])):
            preceding.setdefault(row["shaping"].value, []).append(row)
        required = rules.values(["requiredIT", "requiredRa"], [[chars.required_it, chars.required_ra]])
        for row in rules.select(store, "translation/finishing-steps.rq", PRODUCT=the_product, SHAPING=shaping_block,
                        REQUIRED=required):
            finishing.setdefault(row["shaping"].value, []).append(row)
        finishing = {shaping: _most_general(rows) for shaping, rows in finishing.items()}

    requested = rules.select(store, "translation/requested-steps.rq", PRODUCT=the_product)
    for row in requested:
        if row["materialOk"].value != "true":
            problems.append(f"{row['label'].value} does not apply to the product's material "
                            f"({chars.material.rsplit('#', 1)[-1]}): remove it from finish or choose another")
    requested_steps = [RouteStep(row["process"].value, row["role"].value, (row["reason"].value,))
                       for row in requested]
    joining = [RouteStep(row["process"].value, JOINING, (row["reason"].value,))
               for row in _most_general(rules.select(store, "translation/joining-steps.rq", PRODUCT=the_product))]

    routes: list[Route] = []
    if not any(row["materialOk"].value != "true" for row in requested):
        for primary in primaries:
            routes += _routes_for(primary, chars, preceding, finishing, requested_steps, joining, positions)
    routes.sort(key=lambda r: (-r.typical_fit, r.shaping_it if r.shaping_it is not None else 99,
                               [s.process for s in r.steps]))
    if primaries and not routes and not problems:
        problems.append("the product's tolerance or roughness is beyond every finishing process that could follow "
                        "the possible shaping processes")
    result = Translation(product, chars, tuple(routes[:max_routes]), tuple(problems))
    if record:
        record_requirements(store, result)
    return result


def _routes_for(primary: dict, chars: Characteristics, preceding: dict, finishing: dict,
                requested: list[RouteStep], joining: list[RouteStep], positions: dict[str, int]) -> list[Route]:
    process = primary["process"].value
    label = primary["label"].value
    it_typical, ra_typical = _number(primary["itTypical"], int), _number(primary["raTypical"])
    needs_tooling = primary["tooling"] is not None and primary["tooling"].value == "true"
    it_gap = chars.required_it is not None and it_typical is not None and chars.required_it < it_typical
    ra_gap = chars.required_ra is not None and ra_typical is not None and chars.required_ra < ra_typical
    base_reason = f"{label} can make a {chars.shape.rsplit('#', 1)[-1].removesuffix('Shape').lower()} part " \
                  f"in this material, size and quantity"
    if needs_tooling:
        base_reason += " (with part-specific tooling)"
    penalty = TOOLING_PENALTY if needs_tooling and chars.quantity < 10 * int(primary["batchMin"].value) else 0.0

    follows = preceding.get(process, [None]) if process in preceding else [None]
    finishes = finishing.get(process, []) if (it_gap or ra_gap) else [None]
    routes = []
    for before, finish in itertools.product(follows, finishes):
        fit, reasons = 1.0 - penalty, [base_reason]
        steps: list[tuple[int, RouteStep]] = []
        if before is not None:
            steps.append((0, RouteStep(before["process"].value, PRIMARY, (before["reason"].value,))))
            fit -= STEP_PENALTY
        steps.append((positions.get(PRIMARY, 2) * 10, RouteStep(process, PRIMARY, (base_reason,),
                                                                sets_surface=finish is None)))
        if finish is not None:
            fit -= STEP_PENALTY + _gap_penalty(finish, chars, it_typical, ra_typical)
            steps.append((positions.get(FINISHING, 6) * 10, RouteStep(finish["process"].value, FINISHING,
                                                                      (finish["reason"].value,), sets_surface=True)))
            reasons.append(finish["reason"].value)
        for step in requested:
            steps.append((positions.get(step.role, 7) * 10 + 1, step))
        asked_to_join = any(step.role == JOINING for step in requested)  # "MAG welding" in finish names the method
        for step in ([] if asked_to_join else joining[:1]):  # one joining step: the most general qualifying class
            steps.append((positions.get(JOINING, 4) * 10, step))
            fit -= STEP_PENALTY
        ordered = [step for _, step in sorted(steps, key=lambda item: item[0])]
        unique = list({s.process: s for s in ordered}.values())
        routes.append(Route(tuple(unique), round(max(0.05, fit), 3), tuple(reasons), it_typical))
    return routes


def _gap_penalty(finish: dict, chars: Characteristics, shaping_it: int | None, shaping_ra: float | None) -> float:
    penalty = 0.0
    it_best, it_typical = _number(finish["itBest"], int), _number(finish["itTypical"], int)
    ra_best, ra_typical = _number(finish["raBest"]), _number(finish["raTypical"])
    if chars.required_it is not None and shaping_it is not None and chars.required_it < shaping_it:
        penalty += IT_GRADE_PENALTY * (shaping_it - chars.required_it)
    penalty += RA_HALVING_PENALTY * _ra_halvings(shaping_ra, chars.required_ra)
    routinely = True
    if chars.required_it is not None and it_typical is not None:
        routinely &= it_typical <= chars.required_it
        penalty += OVERKILL_PENALTY * max(0, chars.required_it - it_typical)
    if chars.required_ra is not None and ra_typical is not None:
        routinely &= ra_typical <= chars.required_ra
        penalty += OVERKILL_PENALTY * _ra_halvings(chars.required_ra, ra_typical)
    if not routinely and (it_best is not None or ra_best is not None):
        penalty += BEST_ONLY_PENALTY
    return penalty


# -- RDF with provenance -------------------------------------------------------------------------------------

def requirements_graph(product: str) -> str:
    return REQUIREMENTS_GRAPH_BASE + hashlib.sha1(product.encode()).hexdigest()[:24]


def requirements_triples(translation: Translation, *, now: datetime.datetime | None = None) -> list[tuple]:
    """The routes as ``maas:ProcessRoute`` resources whose steps are ``maas:ProcessRequirement`` resources, with
    PROV-O provenance: derived from the product by an activity that used the rule files."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    base = requirements_graph(translation.product).replace("/graph/", "/id/")
    product = ox.NamedNode(translation.product)
    n, lit = ox.NamedNode, ox.Literal
    rdf_type = n("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    prov = "http://www.w3.org/ns/prov#"
    xsd = "http://www.w3.org/2001/XMLSchema#"
    activity = n(f"{base}/derivation")
    triples = [(activity, rdf_type, n(prov + "Activity")),
               (activity, n(prov + "endedAtTime"), lit(now.isoformat(), datatype=n(xsd + "dateTime"))),
               (activity, n(prov + "wasAssociatedWith"), n(TRANSLATION_AGENT)),
               (activity, n(prov + "used"), product)]
    triples += [(activity, n(prov + "used"), n(rules.rule_iri(path))) for path in translation.rules_used]
    for rank, route in enumerate(translation.routes, start=1):
        node = n(f"{base}/route/{rank}")
        triples += [(node, rdf_type, n(MAAS.ProcessRoute)), (node, n(MAAS.routeFor), product),
                    (node, n(MAAS.typicalFit), lit(str(route.typical_fit), datatype=n(xsd + "decimal"))),
                    (node, n(prov + "wasGeneratedBy"), activity), (node, n(prov + "wasDerivedFrom"), product)]
        triples += [(node, n(MAAS.reason), lit(reason, language="en")) for reason in route.reasons]
        for number, step in enumerate(route.steps, start=1):
            requirement = n(f"{base}/route/{rank}/step/{number}")
            triples += [(node, n(MAAS.hasStep), requirement),
                        (requirement, rdf_type, n(MAAS.ProcessRequirement)),
                        (requirement, n(MAAS.requirementOf), product),
                        (requirement, n(MAAS.requiredProcess), n(step.process)),
                        (requirement, n(MAAS.stepNumber), lit(str(number), datatype=n(xsd + "integer"))),
                        (requirement, n(prov + "wasGeneratedBy"), activity)]
            triples += [(requirement, n(MAAS.reason), lit(reason, language="en")) for reason in step.reasons]
    return triples


def record_requirements(store: Store, translation: Translation) -> str:
    """Replace the product's requirements graph with ``translation``; return the graph IRI."""
    graph = requirements_graph(translation.product)
    changes = Changes()
    changes.replace_graph(graph, requirements_triples(translation))
    store.commit(changes)
    return graph

