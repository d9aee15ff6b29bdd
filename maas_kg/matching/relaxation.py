"""What relaxing one requirement would gain: per must-criterion, the services that fail only it, and for the
criteria with a measure the smallest change that admits the first of them and the change that admits them all
("due date +9 days admits 214 services").

The measure of each comparison (``maas:comparison`` of the declared criterion) is one function here; comparisons
without one (shape, material, envelope, quantity, certifications, validity) report the count and the ontology's
relax hint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from maas_kg.knowledge import MAAS
from maas_kg.matching.criteria import MustCriterion



def _days_later(step, rows, request) -> np.ndarray:
    if request.days_available is None:
        return np.full(len(rows), np.nan)
    return step.columns["delivery"][rows] - request.days_available


def _radius(step, rows, request) -> np.ndarray:
    return np.ceil(step.columns["distance"][rows])


def _roughness(step, rows, request) -> np.ndarray:
    return step.rows.values["ra"][rows]


def _tolerance(step, rows, request) -> np.ndarray:
    return step.rows.values["tol"][rows]


def _mass(step, rows, request) -> np.ndarray:
    return step.rows.values["max_mass"][rows]


#: comparison -> (the value the requirement must take to admit each service, how to say it, whether the smallest
#: change is the largest value: a lighter part admits services of a smaller maximum mass)
MEASURES: dict[str, tuple[Callable, Callable[[float], str], bool]] = {
    str(MAAS.DeliveredByDueDate): (_days_later, lambda v: f"due date +{v:g} days", False),
    str(MAAS.WithinRadius): (_radius, lambda v: f"max distance {v:g} km", False),
    str(MAAS.AtMostRequired): (_roughness, lambda v: f"Ra {v:g} um", False),
    str(MAAS.ToleranceAchieved): (_tolerance, lambda v: f"tolerance {v:g} mm", False),
    str(MAAS.AtMostWhereStated): (_mass, lambda v: f"part mass at most {v:g} kg", True),
}


def relaxations(step, request, criteria: Sequence[MustCriterion], *, language: str = "en") -> list[dict]:
    """Per failed must-criterion of ``step`` (a :class:`~maas_kg.matching.step.StepMatch`, in declared order): how
    many services fail only it, the relax hint, and, where the criterion has a measure, the smallest change that
    admits the first services and the change that admits all of them. Counts cover every near miss, not a page."""
    near = step.near  # every near miss; their order does not count here
    result = []
    for column, criterion in enumerate(criteria):
        if column >= step.rows.passed.shape[1]:
            break
        misses = near[~step.rows.passed[near, column]] if len(near) else near
        if not len(misses):
            continue
        entry = {"criterion": criterion.name, "services": int(len(misses)),
                 "hint": criterion.relax.get(language) or criterion.relax.get("en")}
        measure = MEASURES.get(criterion.comparison)
        if measure is not None:
            needed, say, descending = measure
            values = needed(step, misses, request)
            values = np.sort(values[~np.isnan(values)])
            if values.size:
                if descending:
                    values = values[::-1]
                first, last = float(values[0]), float(values[-1])
                entry["smallest"] = {"change": say(first), "value": first, "admits": int((values == first).sum())}
                entry["all"] = {"change": say(last), "value": last, "admits": int(values.size)}
        result.append(entry)
    return result
