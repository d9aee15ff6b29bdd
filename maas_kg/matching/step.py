"""One route step's answer as columns: the services that pass every must-criterion or fail one, their can-criteria
values and scores, computed with numpy over all of them, and Python objects only for the rows an answer shows.

Both engines hand their rows to :func:`rank` (the match index as arrays, the SPARQL rule as rows turned into
arrays), so scores, values and orders come from the same arithmetic whichever found the services. At 100,000
services a step has thousands of such rows; making a Python object of each cost 35 to 170 ms per step, the columns
cost a few (benchmarks/bench_index.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from maas_kg import geo

NEUTRAL_SCORE = 0.5  # a criterion without a value for a candidate (no price, no evaluation yet) neither helps nor hurts
#: which computed column each declared can-criterion (maas_kg.matching.criteria.can_criteria) ranks by; a declared
#: criterion without one is neutral for every candidate
CAN_COLUMNS = {"price": "quote_eur", "lead_time": "delivery", "distance": "distance", "co2": "co2",
               "capacity": "headroom", "certifications": "extra", "performance": "performance"}


@dataclass(frozen=True)
class ProviderPerformance:
    """An evaluated provider's aggregate, as the order-evaluation stage publishes it
    (``queries/matching/provider-performance.rq``): ``score`` from 0 to 1 (higher is better), and how many order
    evaluations it aggregates (None where the count is not stated)."""
    score: float
    evaluations: int | None


#: provider IRI -> its performance; a provider that is not in it has no evaluations (neutral)
Performance = Mapping[str, ProviderPerformance]
_NOT_EVALUATED = ProviderPerformance(math.nan, None)


def order_key(graph: str) -> int:
    """Where a service comes among equals (same score and price; same failed criterion): by the hash its service
    graph is named after (a fixed, arbitrary order, as the IRI's was, but a number: sorting 400,000 near misses by
    IRI cost a Python sort per step at 1,000,000 services)."""
    return int(graph.rsplit("/", 1)[-1][:15], 16)


def order_keys(graphs) -> np.ndarray:
    return np.array([order_key(g) for g in graphs], dtype=np.int64)


class Gathered:
    """``source[at]`` without copying: the IRIs of a step's rows, read from the index's column when asked for (an
    object array gathered for 80,000 rows cost milliseconds that few rows of an answer need)."""

    def __init__(self, source: np.ndarray, at: np.ndarray):
        self.source, self.at = source, at

    def __len__(self) -> int:
        return len(self.at)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self.source[self.at[index]]
        return Gathered(self.source, self.at[index])

    def __iter__(self):
        return iter(self.source[self.at])


class Coded:
    """A column of few distinct values (currencies) as integer codes into ``labels``: a function of the values is
    computed once per label (finding the distinct values of 80,000 strings cost milliseconds per step)."""

    def __init__(self, codes: np.ndarray, labels: Sequence):
        self.codes, self.labels = codes, np.array(list(labels), dtype=object)

    @classmethod
    def of(cls, values: Sequence) -> Coded:
        labels, codes = np.unique(np.array([v or "" for v in values], dtype=object), return_inverse=True)
        return cls(codes.reshape(-1), [v or None for v in labels])

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index):
        return self.labels[self.codes[index]]

    def replaced(self, at: np.ndarray, values: Sequence) -> Coded:
        """A copy with the values at positions ``at`` replaced by ``values``."""
        labels = list(self.labels)
        code = {label: i for i, label in enumerate(labels)}
        for value in values:
            if value not in code:
                code[value] = len(labels)
                labels.append(value)
        codes = self.codes.copy()
        codes[at] = [code[value] for value in values]
        return Coded(codes, labels)

    def mapped(self, function) -> np.ndarray:
        """``function`` of each value, as float64."""
        return np.array([function(label) for label in self.labels], dtype=np.float64)[self.codes]


@dataclass
class StepRows:
    """Services of one step failing at most one must-criterion, as columns (NaN: not stated)."""
    names: tuple[str, ...]  # the must-criteria, in declared order: the columns of ``passed``
    service: np.ndarray | Gathered  # IRIs
    graph: np.ndarray | Gathered
    provider: np.ndarray | Gathered
    passed: np.ndarray  # bool, one row per service, one column per must-criterion
    currency: Coded  # ISO code or None
    values: dict[str, np.ndarray]  # lat lon setup unit lead capacity tol ra max_mass, float64
    extra: np.ndarray | None = None  # certifications beyond the required, where the engine knows them
    key: np.ndarray | None = None  # each service's order key (see order_keys); computed from ``graph`` if None
    cost_models: dict[int, dict] | None = None  # row -> the service's cost model, where it publishes one

    def __post_init__(self):
        if self.key is None:
            self.key = order_keys(self.graph)

    @classmethod
    def empty(cls, names: Sequence[str]) -> StepRows:
        return cls.from_rows(names, [])

    @classmethod
    def from_rows(cls, names: Sequence[str], rows: Sequence[dict]) -> StepRows:
        """From rows of Python values (the SPARQL path): service graph provider currency, a ``passed`` dict, and the
        numeric values (None where not stated)."""
        text = (lambda key: np.array([r[key] for r in rows], dtype=object))
        number = (lambda key: np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=np.float64))
        passed = np.array([[r["passed"][n] for n in names] for r in rows], dtype=bool).reshape(len(rows), len(names))
        return cls(tuple(names), text("service"), text("graph"), text("provider"), passed,
                   Coded.of([r["currency"] for r in rows]),
                   {key: number(key) for key in ("lat", "lon", "setup", "unit", "lead", "capacity", "tol", "ra",
                                                 "max_mass")})


@dataclass
class Candidate:
    """One ranked service of a step (a near miss has ``passed`` with one False), made for the rows an answer shows."""
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
    performance: float | None = None  # the provider's performance score (0..1), None: no evaluations yet
    evaluations: int | None = None  # how many order evaluations that score aggregates
    scores: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    units: dict[str, str] = field(default_factory=dict)  # the declared can-criteria's units
    quote_basis: str = "flat price"  # or "cost model": the part priced by the service's cost model
    quote_breakdown: dict | None = None  # a cost model's quote with how each number was found
    quote_note: str | None = None  # why a service with a cost model quotes by its flat price

    @property
    def failed(self) -> list[str]:
        return [name for name, ok in self.passed.items() if not ok]

    def criteria(self, request) -> dict[str, dict]:
        values = {"price": self.quote_eur, "lead_time": self.delivery_days, "distance": self.distance_km,
                  "co2": self.co2_kg, "capacity": self.capacity_headroom, "certifications": self.extra_certifications,
                  "performance": self.performance}
        result: dict[str, dict] = {name: {"kind": "must", "pass": ok} for name, ok in self.passed.items()}
        for name, value in values.items():
            entry = {"kind": "can", "value": _rounded(value), "score": round(self.scores.get(name, NEUTRAL_SCORE), 4),
                     "weight": request.weights.get(name, 0.0)}
            if name in result:  # distance and certifications are both a must- and a can-criterion
                result[name].update(entry, kind="must+can")
            else:
                result[name] = entry
        result["performance"]["evaluations"] = self.evaluations
        for name, unit in self.units.items():
            result.setdefault(name, {})["unit"] = unit
        return result


def _rounded(value):
    return round(value, 3) if isinstance(value, float) else value


@dataclass
class StepMatch:
    """A step's candidates (all must-criteria pass, best score first, then cheapest) and near misses (exactly one
    fails, by criterion); equals in the order of :func:`order_key`. ``candidates`` and ``near_misses`` make every
    object; ``best`` and the pages make few."""
    step: object
    rows: StepRows
    columns: dict[str, np.ndarray]  # per row: quote, quote_eur, distance, co2, headroom, delivery, extra, score,
    # performance (the provider's score, for the candidates only: NaN for near misses, which are not ranked)
    scores: dict[str, np.ndarray]  # per row, each can-criterion's normalised score (candidates only)
    candidate_rows: np.ndarray  # row numbers, in rank order
    near: np.ndarray  # row numbers of the near misses, unordered (see near_miss_rows)
    units: dict[str, str] = field(default_factory=dict)  # the declared can-criteria's units
    performance: Performance = field(default_factory=dict)  # the evaluated providers', as the step was ranked with
    quotes: object | None = None  # the cost-model quotes (maas_kg.matching.costing.StepQuotes), None: flat prices

    @property
    def candidate_count(self) -> int:
        return len(self.candidate_rows)

    @property
    def near_miss_count(self) -> int:
        return len(self.near)

    @functools.cached_property
    def near_miss_rows(self) -> np.ndarray:
        """The near misses by the failed criterion's name, then order key."""
        return self._near_misses_first(len(self.near))

    def _near_misses_first(self, count: int) -> np.ndarray:
        """The first ``count`` near misses in order: each criterion's group sorted only as far as it is needed."""
        failed = np.argmin(self.rows.passed[self.near], axis=1) if len(self.near) else self.near
        result = []
        for column in sorted(range(len(self.rows.names)), key=self.rows.names.__getitem__):
            need = count - sum(len(part) for part in result)
            if need <= 0:
                break
            group = self.near[failed == column]
            if not len(group):
                continue
            keys = self.rows.key[group]
            if need < len(group):
                first = np.argpartition(keys, need)[:need]
                group, keys = group[first], keys[first]
            result.append(group[np.argsort(keys, kind="stable")])
        return np.concatenate(result) if result else np.empty(0, dtype=np.int64)

    @functools.cached_property
    def candidates(self) -> list[Candidate]:
        return self.page(0, None)

    @functools.cached_property
    def near_misses(self) -> list[Candidate]:
        return self.near_miss_page(0, None)

    def best(self, count: int) -> list[Candidate]:
        return self.page(0, count)

    def page(self, offset: int, count: int | None) -> list[Candidate]:
        end = None if count is None else offset + count
        return [self._candidate(int(i)) for i in self.candidate_rows[offset:end]]

    def near_miss_page(self, offset: int, count: int | None) -> list[Candidate]:
        if count is None or "near_miss_rows" in self.__dict__:
            end = None if count is None else offset + count
            return [self._candidate(int(i)) for i in self.near_miss_rows[offset:end]]
        return [self._candidate(int(i)) for i in self._near_misses_first(offset + count)[offset:]]

    def for_step(self, step) -> StepMatch:
        """The same answer for another route's step of the same process."""
        return StepMatch(step, self.rows, self.columns, self.scores, self.candidate_rows, self.near, self.units,
                         self.performance, self.quotes)

    def _candidate(self, i: int) -> Candidate:
        rows, col = self.rows, self.columns
        value = (lambda array: None if math.isnan(array[i]) else float(array[i]))
        whole = (lambda array: None if math.isnan(array[i]) else int(array[i]))
        candidate = Candidate(
            rows.service[i], rows.provider[i], None, None, rows.graph[i],
            dict(zip(rows.names, (bool(ok) for ok in rows.passed[i]))),
            value(col["quote"]), rows.currency[i] if not math.isnan(col["quote"][i]) else None, value(col["quote_eur"]),
            value(col["distance"]), value(col["co2"]), whole(rows.values["lead"]), whole(col["delivery"]),
            value(rows.values["capacity"]), value(col["headroom"]), int(col["extra"][i]),
            value(rows.values["tol"]), value(rows.values["ra"]), value(rows.values["max_mass"]),
            value(rows.values["lat"]), value(rows.values["lon"]), units=self.units)
        if self.quotes is not None and i in self.quotes.models:
            if i in self.quotes.failed:
                candidate.quote_note = f"the cost model could not quote the part ({self.quotes.failed[i]}): flat price"
            else:
                candidate.quote_basis, candidate.quote_breakdown = "cost model", self.quotes.breakdown(i)
        evaluated = self.performance.get(candidate.provider)
        if evaluated is not None:
            candidate.performance, candidate.evaluations = evaluated.score, evaluated.evaluations
        if self.scores and all(candidate.passed.values()):  # near misses are not ranked
            candidate.scores = {name: float(scores[i]) for name, scores in self.scores.items()}
            candidate.score = float(col["score"][i])
        return candidate


def rank(step, rows: StepRows, request, rates: dict[str, float], can: Sequence, extra_of=None,
         performance: Performance | None = None, quotes=None) -> StepMatch:
    """Can-criteria values, scores and orders of ``rows``, ranked by the declared can-criteria ``can``.
    ``extra_of(service, provider, graph lists)`` counts the candidates' certifications beyond the required where
    ``rows`` does not carry them (the SPARQL path). ``performance``: the evaluated providers (none if None).
    ``quotes``: the cost-model quotes of rows (:class:`maas_kg.matching.costing.StepQuotes`), which replace those
    rows' flat-price quotes and currencies."""
    performance = performance if performance is not None else {}
    v, q = rows.values, request.quantity
    failures = (~rows.passed).sum(axis=1) if rows.passed.size else np.zeros(len(rows.service), dtype=np.int64)
    candidate_mask = failures == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        quote = np.round(v["setup"] + v["unit"] * q, 2)
        currency = rows.currency
        if quotes is not None and len(quotes.at):
            quote[quotes.at] = quotes.total
            currency = currency.replaced(quotes.at, quotes.currency)
        rate = currency.mapped(lambda code: rates.get(code or "", np.nan))
        quote_eur = np.where(rate > 0, np.round(quote / rate, 2), np.nan)
        if request.delivery:
            distance = np.round(_haversine(v["lat"], v["lon"], *request.delivery), 1)
        else:
            distance = np.full(len(quote), np.nan)
        co2 = np.round(distance * (request.mass_kg * q / 1000) * request.emission_factor, 2) \
            if request.mass_kg is not None else np.full(len(quote), np.nan)
        has_capacity = ~np.isnan(v["capacity"]) & (v["capacity"] != 0)
        weeks_until_due = max(1.0, request.days_available / 7) if request.days_available else 1.0
        headroom = np.where(has_capacity, np.round(v["capacity"] * weeks_until_due / q, 3), np.nan)
        weeks = np.where(has_capacity, np.ceil(q / np.where(has_capacity, v["capacity"], 1)), 0)
        delivery = np.where(np.isnan(v["lead"]), np.nan, np.trunc(v["lead"]) + 7 * weeks)
    extra = rows.extra if rows.extra is not None else np.zeros(len(quote), dtype=np.int64)
    candidates = np.flatnonzero(candidate_mask)
    if rows.extra is None and extra_of is not None and len(candidates):
        counts = extra_of(rows.service[candidates], rows.provider[candidates], rows.graph[candidates])
        extra = extra.copy()
        extra[candidates] = [counts.get(s, 0) for s in rows.service[candidates]]
    columns = {"quote": quote, "quote_eur": quote_eur, "distance": distance, "co2": co2, "headroom": headroom,
               "delivery": delivery, "extra": extra, "performance": _performance(rows, candidates, performance),
               "score": np.zeros(len(quote))}
    scores = _scores(candidates, columns, request.weights, can)
    price_key = np.where(np.isnan(quote_eur[candidates]), np.inf, quote_eur[candidates])
    ranked = _ordered(candidates, (-columns["score"][candidates], price_key), rows.key)
    if currency is not rows.currency:  # the answer's rows carry the currency each row was quoted in
        rows = replace(rows, currency=currency)
    return StepMatch(step, rows, columns, scores, ranked, np.flatnonzero(failures == 1),
                     {c.name: c.unit for c in can if c.unit}, performance, quotes)


def _performance(rows: StepRows, candidates: np.ndarray, performance: Performance) -> np.ndarray:
    """The providers' performance scores of the ``candidates`` rows (NaN elsewhere, and where a provider has no
    evaluations). Looked up for the candidates only: a lookup per row costs about 0.12 us (10 ms for 80,000 rows),
    50 ms for the 400,000 near misses of a step at 1,000,000 services, which are not ranked."""
    column = np.full(len(rows.service), np.nan)
    if performance and len(candidates):
        column[candidates] = np.fromiter((performance.get(p, _NOT_EVALUATED).score for p in rows.provider[candidates]),
                                         dtype=np.float64, count=len(candidates))
    return column


def _ordered(rows: np.ndarray, keys: tuple[np.ndarray, ...], order_key: np.ndarray) -> np.ndarray:
    """``rows`` sorted by the numeric ``keys`` (first key first), ties by their order key."""
    if not len(rows):
        return rows
    return rows[np.lexsort((order_key[rows], *reversed(keys)))]


def _scores(candidates: np.ndarray, columns: dict[str, np.ndarray], weights: dict[str, float],
            can: Sequence) -> dict[str, np.ndarray]:
    """Min-max normalise each can-criterion over the candidates and combine with the weights (into ``score``)."""
    size = len(columns["quote"])
    scores = {}
    for criterion in can:
        name = criterion.name
        values = columns[CAN_COLUMNS[name]].astype(np.float64) if name in CAN_COLUMNS else np.full(size, np.nan)
        column = values[candidates]
        known = column[~np.isnan(column)]
        low, high = (known.min(), known.max()) if known.size else (0.0, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            if high == low:
                score = np.ones(len(column))
            elif criterion.lower_is_better:
                score = (high - column) / (high - low)
            else:
                score = (column - low) / (high - low)
        full = np.full(size, NEUTRAL_SCORE)
        full[candidates] = np.where(np.isnan(column), NEUTRAL_SCORE, score)
        scores[name] = full
    total = sum(weights.values()) or 1.0
    combined = sum(w * scores.get(name, np.full(len(columns["quote"]), NEUTRAL_SCORE)) for name, w in weights.items())
    columns["score"] = np.round(combined / total, 4) if weights else np.zeros(len(columns["quote"]))
    return scores


def _haversine(lat: np.ndarray, lon: np.ndarray, lat2: float, lon2: float) -> np.ndarray:
    """Great-circle distance in km, as :func:`maas_kg.geo.distance_km` computes it, for arrays."""
    phi1, phi2 = np.radians(lat), math.radians(lat2)
    a = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * math.cos(phi2) * np.sin(np.radians(lon2 - lon) / 2) ** 2
    return 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
