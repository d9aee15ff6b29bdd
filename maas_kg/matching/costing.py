"""Cost models and instant quotes (issue 22, activity 1.3): what a part costs at a service that publishes a cost model
(machine-hour rate, setup hours, its own values of the time model's parameters) instead of, or besides, a flat price.

The time a part takes is found by one of four formula kinds, the small functions below (``removal_time``,
``build_time``, ``cycle_time``, ``sheet_time``). Which process class uses which kind, and the default values of
every parameter with its unit and source, are data: ``ontology/cost-models.ttl``, read by
``queries/costing/time-models.rq`` (the nearest class up the process taxonomy that has a time model wins, and within
it the nearest material group). A service's cost model overrides any default by the parameter's name.

``quote`` then prices the part: setup (setup hours x machine-hour rate) + time per part x rate x quantity +
material (mass x price per kg, where the cost model states one) + tooling (a mould's cost, spread over the
quantity), each number with how it was found. A flat price quotes as before: setup + unit price x quantity.

Part characteristics are a plain dict (the product's JSON keys, in millimetres): ``volume_mm3``, ``area_mm2``,
``stock_removal_mm3``, ``min_wall_mm``, ``thickness_mm``, ``cut_length_mm``, ``bends``, ``holes``,
``envelope_mm`` [x, y, z], ``mass_kg``, ``material``, ``quantity``.

In matching, ``step_quotes`` prices a step's services that publish a cost model, for a product that states its
characteristics (volume, area, stock to remove, ...; ``queries/matching/request-characteristics.rq``): that quote
feeds the price can-criterion instead of the flat price. The match index keeps the cost models beside its columns
(``queries/matching/index-cost-models.rq``), the reference path reads them by the same rule.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from maas_kg.errors import Unprocessable
from maas_kg.knowledge import rules

RULE = "costing/time-models.rq"


@dataclasses.dataclass(frozen=True)
class Default:
    """A parameter's default value in a time model, as the ontology states it."""

    name: str
    value: float
    unit: str
    source: str | None
    comment: str | None
    material: str | None  # the material group it holds for, None for every material


@dataclasses.dataclass(frozen=True)
class TimeModel:
    """The time model a process class quotes with: ``holder`` is the class that states it (the class itself or its
    nearest ancestor with one), ``formula`` the kind (removal, build, cycle, sheet), ``defaults`` by name for the
    material asked for."""

    iri: str
    process: str
    holder: str
    formula: str
    defaults: dict[str, Default]
    material: str | None = None


def time_models(store, requests: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str | None], TimeModel]:
    """The time model of each (process class IRI, material class IRI or None); a process class without a time model
    at or above it is left out."""
    requests = sorted(set(requests), key=lambda r: (r[0], r[1] or ""))
    if not requests:
        return {}
    rows = rules.select(store, RULE, REQUESTS=rules.values(["process", "material"], requests))
    found: dict[tuple[str, str | None], TimeModel] = {}
    for row in rows:
        key = (row["process"].value, row["material"].value if row["material"] is not None else None)
        model = found.get(key)
        if model is None:
            model = found[key] = TimeModel(row["model"].value, key[0], row["holder"].value, row["formula"].value, {},
                                           key[1])
        name = row["name"].value
        model.defaults[name] = Default(
            name, float(row["value"].value), row["unit"].value if row["unit"] is not None else "",
            row["source"].value if row["source"] is not None else None,
            row["comment"].value if row["comment"] is not None else None,
            row["parameterMaterial"].value if row["parameterMaterial"] is not None else None)
    return found


def time_model(store, process: str, material: str | None = None) -> TimeModel | None:
    """The time model of one process class for one material (IRIs), or None if none holds for the class."""
    return time_models(store, [(process, material)]).get((process, material))


def service_prices(store, services: Iterable[str]) -> dict[str, dict]:
    """How each published service prices (``queries/costing/service-prices.rq``): ``{"process": IRI, "price":
    {currency, setup, unit} or None, "cost_model": {machine_hour_rate, setup_hours, currency, parameters} or None}``,
    in the plain JSON service format's shape, by service IRI."""
    services = sorted(set(services))
    if not services:
        return {}
    rows = rules.select(store, "costing/service-prices.rq", SERVICES=rules.values(["service"], [[s] for s in services]))

    def number(term):  # a value the shapes did not check (not a number) reads as absent: quote names the field
        try:
            return float(term.value) if term is not None else None
        except ValueError:
            return None

    found: dict[str, dict] = {}
    for row in rows:
        entry = found.setdefault(row["service"].value, {"process": row["process"].value, "price": None,
                                                        "cost_model": None})
        if row["unit"] is not None or row["setup"] is not None:
            entry["price"] = {"currency": row["priceCurrency"].value if row["priceCurrency"] is not None else None,
                              "setup": number(row["setup"]) or 0.0, "unit": number(row["unit"])}
        if row["costModel"] is not None:
            model = entry["cost_model"] or {
                "machine_hour_rate": number(row["rate"]), "setup_hours": number(row["setupHours"]),
                "currency": row["costCurrency"].value if row["costCurrency"] is not None else None, "parameters": {}}
            if row["parameter"] is not None:
                model["parameters"][row["parameter"].value] = number(row["value"])
            entry["cost_model"] = model
    return found


# -- parameters: the service's own values, else the time model's defaults ------------------------------------------

def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _n(value: float) -> str:
    """A number as the breakdown shows it: up to six significant digits, no exponent for everyday sizes."""
    return f"{value:.6g}" if abs(value) < 1e15 else f"{value:.6e}"


class Parameters:
    """The parameters a quote uses: the cost model's ``parameters`` first, then the time model's defaults; each value
    comes with how it was found."""

    def __init__(self, own: dict | None, model: TimeModel | None):
        self.own = {}
        for name, value in (own or {}).items():
            self.own[name] = _number(value, f"cost_model.parameters.{name}", positive=True)
        self.model = model

    def has(self, name: str) -> bool:
        return name in self.own or (self.model is not None and name in self.model.defaults)

    def get(self, name: str) -> tuple[float, str]:
        if name in self.own:
            unit = self.model.defaults[name].unit if self.model is not None and name in self.model.defaults else ""
            return self.own[name], f"{name} = {_n(self.own[name])} {unit} (the service's cost model)".replace("  ", " ")
        if self.model is not None and name in self.model.defaults:
            default = self.model.defaults[name]
            group = f", material group {_local(default.material)}" if default.material else ""
            source = f"; source: {default.source}" if default.source else ""
            return default.value, (f"{name} = {_n(default.value)} {default.unit} (default of {_local(self.model.iri)} "
                                   f"for {_local(self.model.holder)}{group}{source})").replace("  ", " ")
        process = _local(self.model.process) if self.model is not None else "the process"
        raise Unprocessable(f"cost_model.parameters.{name}: is needed to quote {process} and neither the cost model "
                            "nor the time model of the ontology states it")


def _number(value: object, field: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Unprocessable(f"{field}: must be a number")
    if value < 0 or (positive and value == 0):
        raise Unprocessable(f"{field}: must be {'more than 0' if positive else '0 or more'}")
    return float(value)


def _characteristic(characteristics: dict, key: str) -> float | None:
    value = characteristics.get(key)
    return None if value is None else _number(value, f"product.{key}")


def _required(characteristics: dict, key: str, formula: str) -> float:
    value = _characteristic(characteristics, key)
    if value is None:
        raise Unprocessable(f"product.{key}: is needed by the {formula} time model and is missing")
    return value


def _envelope(characteristics: dict) -> list[float] | None:
    value = characteristics.get("envelope_mm")
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise Unprocessable("product.envelope_mm: must be three lengths [x, y, z] in mm")
    return [_number(v, "product.envelope_mm") for v in value]


def _term(name: str, minutes: float, how: str) -> dict:
    return {"name": name, "minutes": minutes, "how": how}


# -- the four formula kinds (their parameters are ontology data) ----------------------------------------------------

def removal_time(p: Parameters, c: dict) -> list[dict]:
    """Milling, turning, grinding: stock volume / removal rate (cm3/min, per material group) + surface area /
    finishing rate (cm2/min) + handling time (min). The stock is ``stock_removal_mm3``, else the envelope box less
    the part volume; without ``area_mm2`` there is no finishing term."""
    stock = _characteristic(c, "stock_removal_mm3")
    if stock is not None:
        stock_how = f"stock_removal_mm3 = {_n(stock)} mm3"
    else:
        envelope, volume = _envelope(c), _characteristic(c, "volume_mm3")
        if envelope is None or volume is None:
            raise Unprocessable("product.stock_removal_mm3: is needed by the removal time model (or envelope_mm and "
                                "volume_mm3, whose difference it then is) and is missing")
        box = envelope[0] * envelope[1] * envelope[2]
        stock = max(box - volume, 0.0)
        stock_how = (f"stock not given: envelope box {_n(envelope[0])} x {_n(envelope[1])} x {_n(envelope[2])} = "
                     f"{_n(box)} mm3 less volume_mm3 {_n(volume)} = {_n(stock)} mm3")
    rate, rate_how = p.get("removal_rate")
    terms = [_term("removal", stock / 1000 / rate,
                   f"{stock_how} / 1000 = {_n(stock / 1000)} cm3 / {rate_how}")]
    area = _characteristic(c, "area_mm2")
    if area is None:
        terms.append(_term("finishing", 0.0, "no area_mm2 given: no finishing term"))
    else:
        finishing, finishing_how = p.get("finishing_rate")
        terms.append(_term("finishing", area / 100 / finishing,
                           f"area_mm2 = {_n(area)} mm2 / 100 = {_n(area / 100)} cm2 / {finishing_how}"))
    if p.has("handling_time"):
        handling, handling_how = p.get("handling_time")
        terms.append(_term("handling", handling, handling_how))
    return terms


def build_time(p: Parameters, c: dict) -> list[dict]:
    """Powder bed fusion: part volume / build rate (cm3/h) + layers x time per layer / parts per build, the layers
    being the bounding-box height (``envelope_mm`` z) / layer thickness."""
    volume = _required(c, "volume_mm3", "build")
    envelope = _envelope(c)
    if envelope is None:
        raise Unprocessable("product.envelope_mm: is needed by the build time model (its height sets the layers) "
                            "and is missing")
    height = envelope[2]
    rate, rate_how = p.get("build_rate")
    layer, layer_how = p.get("layer_thickness")
    layer_time, layer_time_how = p.get("layer_time")
    share, share_how = p.get("parts_per_build") if p.has("parts_per_build") else (1.0, "parts_per_build = 1")
    layers = height / layer
    return [
        _term("build", volume / 1000 / rate * 60,
              f"volume_mm3 = {_n(volume)} mm3 / 1000 = {_n(volume / 1000)} cm3 / {rate_how} x 60 min/h"),
        _term("layers", layers * layer_time / 60 / share,
              f"height {_n(height)} mm (envelope_mm z) / {layer_how} = {_n(layers)} layers x {layer_time_how} / "
              f"60 s/min / {share_how}"),
    ]


def cycle_time(p: Parameters, c: dict) -> list[dict]:
    """Injection moulding: (cooling coefficient (s/mm2) x wall thickness squared + the rest of the cycle (s)) /
    cavities, in minutes. The wall is ``thickness_mm``, else ``min_wall_mm`` (the thickest wall governs cooling, so
    the minimum underestimates it: the breakdown says so). The mould cost is tooling, spread by ``quote``."""
    wall = _characteristic(c, "thickness_mm")
    wall_how = f"thickness_mm = {_n(wall)} mm" if wall is not None else ""
    if wall is None:
        wall = _characteristic(c, "min_wall_mm")
        if wall is None:
            raise Unprocessable("product.thickness_mm: is needed by the cycle time model (or min_wall_mm) and is "
                                "missing")
        wall_how = f"min_wall_mm = {_n(wall)} mm (no thickness_mm: the minimum wall underestimates cooling)"
    coefficient, coefficient_how = p.get("cooling_coefficient")
    rest, rest_how = p.get("other_cycle_time")
    cavities, cavities_how = p.get("cavities") if p.has("cavities") else (1.0, "cavities = 1")
    return [
        _term("cooling", coefficient * wall ** 2 / cavities / 60,
              f"{coefficient_how} x ({wall_how})^2 = {_n(coefficient * wall ** 2)} s / {cavities_how} / 60 s/min"),
        _term("rest of cycle", rest / cavities / 60, f"{rest_how} / {cavities_how} / 60 s/min"),
    ]


def sheet_time(p: Parameters, c: dict) -> list[dict]:
    """Sheet metal: cut length / cutting speed (cut rate (mm2/min) / sheet thickness, at most the maximum cutting
    speed) + holes x pierce time + bends x time per bend + handling time; each term only where the time model (or
    the cost model) has its parameter, so that laser cutting quotes no bends and a press brake no cuts."""
    terms = []
    if p.has("cut_rate"):
        length = _required(c, "cut_length_mm", "sheet")
        thickness = _required(c, "thickness_mm", "sheet")
        if thickness == 0:
            raise Unprocessable("product.thickness_mm: must be more than 0 to cut")
        rate, rate_how = p.get("cut_rate")
        speed = rate / thickness
        speed_how = f"{rate_how} / thickness_mm {_n(thickness)} = {_n(speed)} mm/min"
        if p.has("max_cut_speed"):
            cap, cap_how = p.get("max_cut_speed")
            if cap < speed:
                speed, speed_how = cap, f"{speed_how}, capped at {cap_how}"
        terms.append(_term("cutting", length / speed, f"cut_length_mm = {_n(length)} mm / ({speed_how})"))
        if p.has("pierce_time"):
            holes = _characteristic(c, "holes") or 0.0
            pierce, pierce_how = p.get("pierce_time")
            terms.append(_term("piercing", holes * pierce / 60, f"holes = {_n(holes)} x {pierce_how} / 60 s/min"))
    if p.has("bend_time"):
        bends = _characteristic(c, "bends") or 0.0
        bend, bend_how = p.get("bend_time")
        terms.append(_term("bending", bends * bend / 60, f"bends = {_n(bends)} x {bend_how} / 60 s/min"))
    if not terms:
        raise Unprocessable("cost_model.parameters.cut_rate: the sheet time model needs cut_rate or bend_time and "
                            "neither the cost model nor the ontology states one")
    if p.has("handling_time"):
        handling, handling_how = p.get("handling_time")
        terms.append(_term("handling", handling, handling_how))
    return terms


#: The formula kinds by the skos:notation of their maas:TimeFormula individual in ontology/cost-models.ttl.
FORMULAS: dict[str, Callable[[Parameters, dict], list[dict]]] = {
    "removal": removal_time, "build": build_time, "cycle": cycle_time, "sheet": sheet_time}


# -- the quote -------------------------------------------------------------------------------------------------------

def is_flat_price(price: dict) -> bool:
    """A flat price ``{currency, setup, unit}`` rather than a cost model ``{machine_hour_rate, ...}``."""
    return "machine_hour_rate" not in price and "unit" in price


def _quantity(quantity: object, characteristics: dict) -> int:
    if quantity is None:
        quantity = characteristics.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise Unprocessable("product.quantity: must be a whole number, 1 or more")
    return quantity


def flat_quote(price: dict, quantity: int) -> dict:
    """The quote of a flat price: setup + unit price x quantity, as the price can-criterion computes it."""
    setup = _number(price.get("setup", 0), "price.setup")
    if price.get("unit") is None:
        raise Unprocessable("price.unit: is required")
    unit = _number(price["unit"], "price.unit")
    processing = unit * quantity
    return {"kind": "flat price", "currency": price.get("currency"), "quantity": quantity,
            "setup": {"value": setup, "how": f"price.setup = {_n(setup)}"},
            "time_per_part_min": None,
            "processing": {"value": processing,
                           "how": f"price.unit {_n(unit)} x quantity {quantity} = {_n(processing)}"},
            "material": {"value": None, "how": "a flat price states no material cost of its own"},
            "tooling": {"value": None, "how": "a flat price states no tooling of its own"},
            "total": setup + processing, "per_part": (setup + processing) / quantity}


def quote(cost_model: dict, time_model: TimeModel | None, characteristics: dict, quantity: int | None = None) -> dict:
    """The quote of a part at a service: with a cost model, setup (setup hours x machine-hour rate) + time per part
    (the time model's formula, its parameters the cost model's or the ontology's) / 60 x rate x quantity + material
    (mass_kg x the cost model's material_price_per_kg x quantity, where it states one) + tooling (mould_cost, once
    per order, i.e. spread over the quantity); with a flat price (``{currency, setup, unit}``), setup + unit x
    quantity. Every number of the breakdown says how it was found."""
    quantity = _quantity(quantity, characteristics)
    if is_flat_price(cost_model):
        return flat_quote(cost_model, quantity)
    if time_model is None:
        raise Unprocessable("cost_model: the ontology has no time model for the service's process class (nor above "
                            "it): a cost model cannot quote it; state a flat price")
    if time_model.formula not in FORMULAS:
        raise Unprocessable(f"the time model {time_model.iri} names the formula {time_model.formula!r}, which the "
                            f"code does not know (known: {', '.join(sorted(FORMULAS))})")
    rate = _number(cost_model.get("machine_hour_rate"), "cost_model.machine_hour_rate", positive=True) \
        if cost_model.get("machine_hour_rate") is not None else None
    if rate is None:
        raise Unprocessable("cost_model.machine_hour_rate: is required")
    parameters = Parameters(cost_model.get("parameters"), time_model)
    if cost_model.get("setup_hours") is not None:
        setup_hours = _number(cost_model["setup_hours"], "cost_model.setup_hours")
        setup_hours_how = f"cost_model.setup_hours = {_n(setup_hours)} h"
    else:
        setup_hours, setup_hours_how = parameters.get("setup_hours")
    setup = setup_hours * rate
    terms = FORMULAS[time_model.formula](parameters, characteristics)
    minutes = sum(t["minutes"] for t in terms)
    processing = minutes / 60 * rate * quantity
    material = _material(parameters, characteristics, quantity)
    tooling = _tooling(parameters, quantity)
    total = setup + processing + (material["value"] or 0.0) + (tooling["value"] or 0.0)
    return {
        "kind": "cost model", "currency": cost_model.get("currency"), "quantity": quantity,
        "process": time_model.process, "time_model": time_model.iri, "time_model_holder": time_model.holder,
        "formula": time_model.formula,
        "setup": {"value": setup, "how": f"{setup_hours_how} x machine_hour_rate {_n(rate)} = {_n(setup)}"},
        "time_per_part_min": {"value": minutes, "terms": terms,
                              "how": " + ".join(f"{t['name']} {_n(t['minutes'])}" for t in terms)
                              + f" = {_n(minutes)} min"},
        "processing": {"value": processing,
                       "how": f"{_n(minutes)} min / 60 x machine_hour_rate {_n(rate)} x quantity {quantity} = "
                              f"{_n(processing)}"},
        "material": material, "tooling": tooling,
        "total": total, "per_part": total / quantity,
    }


def _material(parameters: Parameters, characteristics: dict, quantity: int) -> dict:
    mass = _characteristic(characteristics, "mass_kg")
    if "material_price_per_kg" not in parameters.own:
        return {"value": None, "how": "the cost model states no material_price_per_kg: no material cost"}
    if mass is None:
        return {"value": None, "how": "no mass_kg given: no material cost"}
    price = parameters.own["material_price_per_kg"]
    value = mass * price * quantity
    return {"value": value, "how": f"mass_kg {_n(mass)} x material_price_per_kg {_n(price)} x quantity {quantity} = "
                                   f"{_n(value)}"}


def _tooling(parameters: Parameters, quantity: int) -> dict:
    if not parameters.has("mould_cost"):
        return {"value": None, "per_part": None, "how": "no tooling in this time model"}
    cost, how = parameters.get("mould_cost")
    return {"value": cost, "per_part": cost / quantity,
            "how": f"{how}, once per order: {_n(cost)} / quantity {quantity} = {_n(cost / quantity)} per part"}


# -- provider side (1.3): a cost model's quotes against the other services of the class ------------------------------

def material_of(characteristics: dict) -> str | None:
    """The material class IRI a part's ``material`` names (label, designation or IRI), None if it names none."""
    from maas_kg import knowledge
    from maas_kg.knowledge.vocabulary import material_index

    name = characteristics.get("material")
    if name is None:
        return None
    if not isinstance(name, str):
        raise Unprocessable("product.material: must be one material name, designation or IRI")
    return str(material_index(knowledge.ontology_graph()).resolve(name))


def _pricing(entry: dict) -> dict | None:
    """What a service quotes with: its cost model where it states one, else its flat price."""
    return entry.get("cost_model") or entry.get("price")


def _currency(pricing: dict) -> str | None:
    return pricing.get("currency")


def compare_quotes(store, process: str, own: dict, samples: dict[str, dict], peers: dict[str, dict]) -> list[dict]:
    """Per sample part (name -> characteristics), the quote of ``own`` (a service document's cost model or flat
    price, for process class ``process``) against the quotes of ``peers`` (``service_prices`` of the other published
    services of the class, each by its cost model or else its flat price): their count, quartiles and median, and
    where the own quote falls. Peers in another currency, or whose quote the part's characteristics do not allow,
    are left out and counted."""
    import statistics

    rows = []
    for name, characteristics in samples.items():
        row = {"sample": name, "quantity": characteristics.get("quantity", 1), "own": None, "note": None}
        try:
            material = material_of(characteristics)
        except Unprocessable as err:
            rows.append({**row, "note": str(err)})
            continue
        requests = {(process, material)} | {(p["process"], material) for p in peers.values()}
        models = time_models(store, requests)
        try:
            mine = quote(own, models.get((process, material)), characteristics)
            currency = mine["currency"]
            row.update({"own": mine["total"], "own_per_part": mine["per_part"], "breakdown": mine})
        except Unprocessable as err:  # the peers are still shown: where a flat price is all the part allows
            currency, row["note"] = _currency(own), f"own quote: {err}"
        totals, other_currency, not_quotable = [], 0, 0
        for entry in peers.values():
            pricing = _pricing(entry)
            if pricing is None:
                not_quotable += 1
                continue
            if _currency(pricing) != currency:
                other_currency += 1
                continue
            try:
                totals.append(quote(pricing, models.get((entry["process"], material)), characteristics)["total"])
            except Unprocessable:
                not_quotable += 1
        row.update({"currency": currency, "peers": len(totals), "other_currency": other_currency,
                    "not_quotable": not_quotable})
        if totals:
            q1, median, q3 = (statistics.quantiles(totals, n=4, method="inclusive") if len(totals) > 1
                              else [totals[0]] * 3)
            row.update({"q1": q1, "median": median, "q3": q3})
            if row["own"] is not None:
                own_total = row["own"]
                row["position"] = ("below Q1" if own_total < q1 else "Q1 to median" if own_total <= median
                                   else "median to Q3" if own_total <= q3 else "above Q3")
        rows.append(row)
    return rows


# -- matching: the cost-model quotes of a step's services (the price can-criterion) ---------------------------------

def service_cost_models(store, pairs: Sequence[tuple[str, str]] | None = None) -> dict[str, dict]:
    """The cost models by service IRI: ``{"process", "machine_hour_rate", "setup_hours", "currency",
    "parameters"}``; of the published services among the (service, service graph) ``pairs``
    (``queries/matching/index-cost-models.rq``), or, when None, of every service graph, published or not
    (``index-scan-cost-models.rq``: the caller keeps those of the services it knows are published)."""
    if pairs is not None and not pairs:
        return {}
    if pairs is None:
        rows = rules.select(store, "matching/index-scan-cost-models.rq")
    else:
        rows = rules.select(store, "matching/index-cost-models.rq", SERVICES=rules.values(["service", "graph"], pairs))
    found: dict[str, dict] = {}
    for row in rows:
        try:
            rate = float(row["rate"].value)
            setup_hours = float(row["setupHours"].value) if row["setupHours"] is not None else None
            value = float(row["value"].value) if row["value"] is not None else None
        except ValueError:  # a value the shapes did not check: the service quotes by its flat price
            continue
        model = found.setdefault(row["service"].value, {
            "process": row["process"].value, "machine_hour_rate": rate, "setup_hours": setup_hours,
            "currency": row["currency"].value, "parameters": {}})
        if row["parameter"] is not None and value is not None:
            model["parameters"][row["parameter"].value] = value
    return found


@dataclasses.dataclass
class StepQuotes:
    """The quotes of the rows of a step whose service has a cost model: ``at`` the row positions quoted by their
    model, ``total`` and ``currency`` per position; ``failed`` the positions whose model could not quote the part
    (a characteristic its time model needs is missing), with why: those quote by their flat price."""

    at: np.ndarray
    total: np.ndarray
    currency: list[str]
    failed: dict[int, str]
    models: dict[int, dict]
    time_models: dict[tuple[str, str | None], TimeModel]
    characteristics: dict
    material: str | None
    quantity: int

    def breakdown(self, position: int) -> dict | None:
        """The full quote of row ``position`` with every number's derivation (for the few rows an answer shows)."""
        model = self.models.get(position)
        if model is None or position in self.failed:
            return None
        return quote(model, self.time_models.get((model["process"], self.material)), self.characteristics,
                     self.quantity)


def step_quotes(store, models: dict[int, dict], characteristics: dict, material: str | None,
                quantity: int) -> StepQuotes:
    """The quotes of a step's rows with a cost model (``models``: row position -> cost model, as
    :func:`service_cost_models` gives them) for the part ``characteristics`` (the product's JSON keys, in mm) of
    ``material`` (class IRI), ``quantity`` parts. A quote is linear in the machine-hour rate: total = rate x (setup
    hours + minutes per part / 60 x quantity) + material + tooling, so the time model runs once per distinct
    (process class, setup hours, own parameters), not once per service (10,000 services with one default model
    cost one run)."""
    material = str(material) if material is not None else None  # an rdflib IRI hashes unlike its text
    time_table = time_models(store, {(m["process"], material) for m in models.values()})
    characteristics = {**characteristics, "quantity": quantity}
    parts: dict[tuple, tuple[float, float] | str] = {}
    at, totals, currencies, failed = [], [], [], {}
    for position, model in models.items():
        own = model["parameters"]
        key = (model["process"], model["setup_hours"], tuple(sorted(own.items())) if own else ())
        part = parts.get(key)
        if part is None:
            try:
                once = quote({**model, "machine_hour_rate": 1.0}, time_table.get((model["process"], material)),
                             characteristics, quantity)
                part = parts[key] = (once["setup"]["value"] + once["processing"]["value"],
                                     (once["material"]["value"] or 0.0) + (once["tooling"]["value"] or 0.0))
            except Unprocessable as err:
                part = parts[key] = str(err)
        if isinstance(part, str):
            failed[position] = part
            continue
        at.append(position)
        totals.append(model["machine_hour_rate"] * part[0] + part[1])
        currencies.append(model["currency"])
    return StepQuotes(np.asarray(at, dtype=np.int64), np.round(np.asarray(totals, dtype=np.float64), 2), currencies,
                      failed, models, time_table, characteristics, material, quantity)


# -- provider side (1.3): one service's price check, for the command line, the API and the service page -------------

class ServiceDocumentError(Unprocessable):
    """A service document (or published service) that cannot be price-checked: the message names the field."""


def _service_pricing(document: dict) -> tuple[dict, str]:
    """What a service document quotes with, and its field: its cost model where it states one, else its flat price;
    checked here, so that a broken cost model is one error, not one note per sample."""
    own = document.get("cost_model") or document.get("price")
    field = "cost_model" if document.get("cost_model") else "price"
    if not isinstance(own, dict):
        raise ServiceDocumentError(
            "cost_model: the service states neither a cost model nor a price" if own is None
            else f"{field}: must be an object")
    if field == "price" and not is_flat_price(own):
        raise ServiceDocumentError("price.unit: is required")
    if own.get("currency") is not None and not isinstance(own["currency"], str):
        raise ServiceDocumentError(f"{field}.currency: must be a currency code, e.g. EUR")
    if is_flat_price(own):
        try:
            flat_quote(own, 1)
        except Unprocessable as err:
            raise ServiceDocumentError(str(err)) from None
        return own, field
    try:
        if own.get("machine_hour_rate") is None:
            raise Unprocessable(f"{field}.machine_hour_rate: is required")
        _number(own["machine_hour_rate"], f"{field}.machine_hour_rate", positive=True)
        if own.get("setup_hours") is not None:
            _number(own["setup_hours"], f"{field}.setup_hours")
        if own.get("parameters") is not None and not isinstance(own["parameters"], dict):
            raise Unprocessable(f"{field}.parameters: must be an object of parameter names and numbers")
        Parameters(own.get("parameters"), None)
    except Unprocessable as err:
        raise ServiceDocumentError(str(err)) from None
    return own, field


def _sample_name(product: dict, position: int) -> str:
    for key in ("name", "id"):
        if isinstance(product.get(key), str) and product[key].strip():
            return _local(product[key].strip()) if key == "id" else product[key].strip()
    return f"sample {position + 1}"


def sample_parts(samples: dict[str, dict] | Sequence[dict] | None = None) -> dict[str, dict]:
    """The sample parts of a price check by name: ``samples`` as given (name -> product JSON), a list of product
    JSON documents (named by their ``name``, else their ``id``'s last segment, made unique), or, for None, the
    example products of ``examples/products/`` by file stem."""
    from maas_kg import knowledge

    if samples is None:
        return {name: json.loads(path.read_text(encoding="utf-8"))
                for name, path in knowledge.example_products().items()}
    if isinstance(samples, dict):
        parts = dict(samples)
    elif isinstance(samples, (list, tuple)):
        parts = {}
        for position, product in enumerate(samples):
            if not isinstance(product, dict):
                raise Unprocessable(f"samples[{position}]: must be a product object (the plain JSON product format)")
            name, again = _sample_name(product, position), 2
            while name in parts:
                name, again = f"{_sample_name(product, position)} ({again})", again + 1
            parts[name] = product
    else:
        raise Unprocessable("samples: must be a list of product objects")
    for name, product in parts.items():
        if not isinstance(product, dict):
            raise Unprocessable(f"samples.{name}: must be a product object (the plain JSON product format)")
    if not parts:
        raise Unprocessable("samples: give at least one sample part (or none at all for the example products)")
    return parts


def compare_service(store, service: str | dict, samples: dict[str, dict] | Sequence[dict] | None = None, *,
                    index=None) -> dict:
    """The price check of one service (issue 22, 1.3): what its cost model (else its flat price) quotes for sample
    parts against the other published services of its process class (with subclasses), by ``compare_quotes``.

    ``service`` is a published service's IRI (its cost model and price as published) or a service document in the
    plain JSON format (a draft: ``process`` and ``cost_model`` or ``price``; its ``id``, where given, is left out of
    the peers). ``samples`` as ``sample_parts`` takes them (default: the example products). ``index`` is the
    catalogue's match index, which finds the class's services in milliseconds (else the rules in the store do).

    Returns ``{"service", "process", "priced_by" ("cost model" or "flat price"), "other_services" (how many
    published services of the class the peers are drawn from), "rows"}``, ``rows`` being ``compare_quotes``'s."""
    from maas_kg import catalogue
    from maas_kg.catalogue.ingest import term_indexes

    if isinstance(service, str):
        entry = service_prices(store, [service]).get(service)
        if entry is None:
            from maas_kg.errors import NotFound

            raise NotFound(f"{service} is not published")
        document, iri = {"cost_model": entry["cost_model"], "price": entry["price"]}, service
        process = entry["process"]
    elif isinstance(service, dict):
        document = service
        iri = document.get("id")
        if iri is not None and not isinstance(iri, str):
            raise ServiceDocumentError("id: must be the service's IRI")
        if not isinstance(document.get("process"), str) or not document["process"].strip():
            raise ServiceDocumentError("process: a service with its process is required")
        process = None
    else:
        raise ServiceDocumentError("the service must be one service document (a JSON object)")
    own, _ = _service_pricing(document)
    if process is None:
        process = str(term_indexes()["process"].resolve(document["process"]))
    parts = sample_parts(samples)
    listed = [row["service"] for row in catalogue.list_services(store, process=process, index=index)
              if row["service"] != iri]
    peers = service_prices(store, listed)
    rows = []
    for name, characteristics in parts.items():  # one by one: a sample whose numbers overflow is one row's note
        try:
            rows.extend(compare_quotes(store, process, own, {name: characteristics}, peers))
        except OverflowError:
            rows.append({"sample": name, "quantity": characteristics.get("quantity", 1), "own": None,
                         "note": "the sample's numbers are too large to quote"})
    return {"service": iri, "process": process, "priced_by": "flat price" if is_flat_price(own) else "cost model",
            "other_services": len(peers), "rows": rows}
