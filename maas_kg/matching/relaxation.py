"""What relaxing one requirement would gain: per must-criterion, the services that fail only it, and for the
criteria with a measure the smallest change that admits the first of them and the change that admits them all
("due date +9 days admits 214 services").

The measure of each comparison (``maas:comparison`` of the declared criterion) is one function here; comparisons
without one (shape, material, envelope, quantity, certifications, validity) report the count and the ontology's
relax hint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from maas_kg.matching.criteria import MustCriterion

MAAS = "https://w3id.org/maas-kg/ns#"


def _days_later(candidate, request) -> float | None:
    if candidate.delivery_days is None or request.days_available is None:
        return None
    return float(candidate.delivery_days - request.days_available)


def _radius(candidate, request) -> float | None:
    return float(math.ceil(candidate.distance_km)) if candidate.distance_km is not None else None


def _roughness(candidate, request) -> float | None:
    return candidate.roughness_ra_um


def _tolerance(candidate, request) -> float | None:
    return candidate.tolerance_mm


def _mass(candidate, request) -> float | None:
    return candidate.max_mass_kg


#: comparison -> (the value the requirement must take to admit a service, how to say it, whether the smallest
#: change is the largest value: a lighter part admits services of a smaller maximum mass)
MEASURES: dict[str, tuple[Callable, Callable[[float], str], bool]] = {
    MAAS + "DeliveredByDueDate": (_days_later, lambda v: f"due date +{v:g} days", False),
    MAAS + "WithinRadius": (_radius, lambda v: f"max distance {v:g} km", False),
    MAAS + "AtMostRequired": (_roughness, lambda v: f"Ra {v:g} um", False),
    MAAS + "ToleranceAchieved": (_tolerance, lambda v: f"tolerance {v:g} mm", False),
    MAAS + "AtMostWhereStated": (_mass, lambda v: f"part mass at most {v:g} kg", True),
}


def relaxations(near_misses: Sequence, request, criteria: Sequence[MustCriterion], *,
                language: str = "en") -> list[dict]:
    """Per failed must-criterion (in declared order): how many services fail only it, the relax hint, and, where
    the criterion has a measure, the smallest change that admits the first services and the change that admits all
    of them. ``near_misses`` are all of a step's near misses, not a page of them."""
    failing: dict[str, list] = {}
    for miss in near_misses:
        for name in miss.failed:
            failing.setdefault(name, []).append(miss)
    result = []
    for criterion in criteria:
        misses = failing.get(criterion.name)
        if not misses:
            continue
        entry = {"criterion": criterion.name, "services": len(misses),
                 "hint": criterion.relax.get(language) or criterion.relax.get("en")}
        measure = MEASURES.get(criterion.comparison)
        if measure is not None:
            needed, say, descending = measure
            values = sorted((v for v in (needed(m, request) for m in misses) if v is not None), reverse=descending)
            if values:
                first, last = values[0], values[-1]
                entry["smallest"] = {"change": say(first), "value": first, "admits": values.count(first)}
                entry["all"] = {"change": say(last), "value": last, "admits": len(values)}
        result.append(entry)
    return result
