"""Route orchestration (mission activity 2.5): choose one service per route step so that the weighted total is
smallest, and return the k best assignments: by costing every combination with numpy where there are at most
``MAX_ENUMERATED``, else with OR-Tools CP-SAT.

The total of an assignment is the sum over steps of ``1 - score`` of the chosen candidate (its can-criteria
score, 0..1) plus, between consecutive steps, ``transport_weight x km / 1000``: moving the parts 1,000 km between
two sites costs as much as a candidate's score dropping by ``transport_weight``. The steps' delivery times add up
(each step starts when the previous one delivers), and their sum must not exceed the days until the due date.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

SCALE = 1000  # CP-SAT works on integers: costs in thousandths
MAX_PER_STEP = 20  # candidates per step taken into the model, best scores first
# up to this many combinations every one is costed with numpy (a three-step route of 20 candidates each: 8,000, in
# about a millisecond, where CP-SAT took 100 to 300 ms per route); beyond, CP-SAT searches
MAX_ENUMERATED = 1_000_000


@dataclass(frozen=True)
class Option:
    """One candidate service for one step, as the solver sees it."""
    service: str
    score: float
    days: int | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Assignment:
    services: tuple[str, ...]
    total: float
    transport_km: float
    days: int | None


def best_assignments(steps: Sequence[Sequence[Option]], *, k: int = 3, transport_weight: float = 0.25,
                     days_available: int | None = None,
                     distance: Callable[[float, float, float, float], float] | None = None,
                     time_limit_s: float = 2.0) -> list[Assignment]:
    """The ``k`` assignments (one option per step) with the smallest total, best first; [] when none exists."""
    if not steps or any(not options for options in steps):
        return []
    if len(steps) == 1:
        return _best_single(steps[0], k, days_available)
    steps = [sorted(options, key=lambda o: -o.score)[:MAX_PER_STEP] for options in steps]
    if math.prod(len(options) for options in steps) <= MAX_ENUMERATED:
        return _enumerated(steps, k, transport_weight, days_available, distance)
    model = cp_model.CpModel()
    pick = [[model.new_bool_var(f"s{i}_{j}") for j in range(len(options))] for i, options in enumerate(steps)]
    for row in pick:
        model.add_exactly_one(row)
    cost = [sum(round(SCALE * (1 - o.score)) * pick[i][j] for j, o in enumerate(options))
            for i, options in enumerate(steps)]
    km: dict[tuple[int, int, int], float] = {}
    moves = []
    for i in range(len(steps) - 1):
        for a, first in enumerate(steps[i]):
            for b, second in enumerate(steps[i + 1]):
                km[i, a, b] = _km(first, second, distance)
                price = round(SCALE * transport_weight * km[i, a, b] / 1000)
                if price == 0:
                    continue
                # picking both sites implies paying for the move; minimising keeps the move false otherwise, so
                # the one implication is enough (the two-way reification made each solve 3 to 8 times slower)
                both = model.new_bool_var(f"m{i}_{a}_{b}")
                model.add_bool_or([pick[i][a].Not(), pick[i + 1][b].Not(), both])
                moves.append(price * both)
    if days_available is not None:
        model.add(sum(o.days * pick[i][j] for i, options in enumerate(steps) for j, o in enumerate(options)
                      if o.days is not None) <= days_available)
    model.minimize(sum(cost) + sum(moves))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1  # small models; one worker is fastest and deterministic
    found: list[Assignment] = []
    while len(found) < k:
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        chosen = [next(j for j, var in enumerate(row) if solver.boolean_value(var)) for row in pick]
        transport = sum(km[i, chosen[i], chosen[i + 1]] for i in range(len(steps) - 1))
        days = [steps[i][j].days for i, j in enumerate(chosen)]
        # the total from the choice itself (what the objective counts at the optimum; a move variable set without
        # need could only raise a merely feasible solution's objective)
        total = sum(round(SCALE * (1 - steps[i][j].score)) for i, j in enumerate(chosen)) + sum(
            round(SCALE * transport_weight * km[i, chosen[i], chosen[i + 1]] / 1000) for i in range(len(steps) - 1))
        found.append(Assignment(tuple(steps[i][j].service for i, j in enumerate(chosen)),
                                round(total / SCALE, 4), round(transport, 1),
                                sum(days) if all(d is not None for d in days) else None))
        # exclude this assignment and solve again for the next best
        model.add_bool_or([pick[i][j].Not() for i, j in enumerate(chosen)])
    return found


def _enumerated(steps: Sequence[Sequence[Option]], k: int, transport_weight: float, days_available: int | None,
                distance) -> list[Assignment]:
    """The k best assignments by costing every combination: the same integer objective as the model (thousandths
    of score plus rounded transport prices), ties in the order of the options."""
    shape = tuple(len(options) for options in steps)
    total = np.zeros(shape, dtype=np.int64)
    days = np.zeros(shape, dtype=np.int64)
    km = []
    for i, options in enumerate(steps):
        axis = [1] * len(steps)
        axis[i] = len(options)
        total = total + np.array([round(SCALE * (1 - o.score)) for o in options], dtype=np.int64).reshape(axis)
        days = days + np.array([o.days or 0 for o in options], dtype=np.int64).reshape(axis)
    for i in range(len(steps) - 1):
        moves = np.array([[_km(a, b, distance) for b in steps[i + 1]] for a in steps[i]], dtype=np.float64)
        km.append(moves)
        prices = np.array([[round(SCALE * transport_weight * d / 1000) for d in row] for row in moves], dtype=np.int64)
        axis = [1] * len(steps)
        axis[i], axis[i + 1] = shape[i], shape[i + 1]
        total = total + prices.reshape(axis)
    flat = total.reshape(-1)
    if days_available is not None:
        flat = np.where(days.reshape(-1) <= days_available, flat, np.iinfo(np.int64).max)
    order = np.argsort(flat, kind="stable")[:k]
    found = []
    for position in order:
        if flat[position] == np.iinfo(np.int64).max:
            break
        chosen = np.unravel_index(position, shape)
        options = [steps[i][j] for i, j in enumerate(chosen)]
        transport = sum(km[i][chosen[i], chosen[i + 1]] for i in range(len(steps) - 1))
        spent = [o.days for o in options]
        found.append(Assignment(tuple(o.service for o in options), round(int(flat[position]) / SCALE, 4),
                                round(float(transport), 1), sum(spent) if all(d is not None for d in spent) else None))
    return found


def _best_single(options: Sequence[Option], k: int, days_available: int | None) -> list[Assignment]:
    """One step: no moves between sites, so the k best are the k best-scored options that meet the due date (a
    solver would only repeat the sort)."""
    feasible = [o for o in options if days_available is None or o.days is None or o.days <= days_available]
    best = sorted(feasible, key=lambda o: (round(SCALE * (1 - o.score)), o.service))[:k]
    return [Assignment((o.service,), round(round(SCALE * (1 - o.score)) / SCALE, 4), 0.0, o.days) for o in best]


def _km(first: Option, second: Option, distance) -> float:
    if distance is None or None in (first.lat, first.lon, second.lat, second.lon):
        return 0.0
    return distance(first.lat, first.lon, second.lat, second.lon)
