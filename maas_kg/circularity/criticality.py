"""C2: which components of a value chain are critical, and which of them take-back can supply again (seed paper
section 4.2, figure 9).

A component is a product of the manufacturer's value chain (``maas_kg.resilience.value_chains``). Its availability
comes from the resilience data: per step the qualified alternatives matching finds, single sourcing and the
concentration of its suppliers by country; its importance is its share of the chain's yearly revenue. The
classification into critical, watch and low is a rule (``queries/circularity/criticality.rq``).

A take-back product supplies a component when the request says which of its components is which chain product
(``supplies``). Parts come back for their original function from a strategy that takes the product apart and
returns its intact components to use (``maas:suppliesOriginalFunction`` and ``maas:reusedMass "intact components"``:
remanufacture), for the returns whose condition allows it, where the C1 plan found providers for each of its
processes; a wear part, or one that does not come apart without damage, never. The supply stream has the units per
year of those returns, limited by the weekly capacity of the reverse chain's slowest provider, the chain's lead time
and cost per unit, and its providers; the resilience responses (R2) offer it for a disrupted step of that
component. Where the plan sends those returns to a more circular strategy that keeps the product whole (repair,
refurbish), the stream says so: harvesting parts is then a choice against it.

    {"value_chain": {... the value-chain format ...},
     "take_back": [{"document": {... the take-back format ...},
                    "supplies": [{"component": "helical gears", "product": "https://example.org/product/gear"}]}]}
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from maas_kg.circularity.planning import plan
from maas_kg.circularity.take_back import TakeBack, read_take_back
from maas_kg.execution import fields
from maas_kg.knowledge import rules
from maas_kg.resilience.assessment import exposure, match_steps, service_facts
from maas_kg.resilience.value_chains import ValueChain, read_value_chain

MAX_TAKE_BACKS = 10


@dataclass(frozen=True)
class Source:
    """A take-back product and the chain products (by index) its components supply."""
    take_back: TakeBack
    supplies: dict[str, int]  # component name -> index of the chain product


def read_sources(items: object, chain: ValueChain, store) -> list[Source]:
    """The ``take_back`` entries of a request; every error names its field."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise fields.FieldError("take_back", "must be a list of {document, supplies} entries")
    if len(items) > MAX_TAKE_BACKS:
        raise fields.FieldError("take_back", f"has {len(items)} entries, at most {MAX_TAKE_BACKS}")
    products = {}
    for number, product in enumerate(chain.products):
        for key in (product.document.get("id"), product.name):
            if isinstance(key, str):
                products.setdefault(key, number)
    sources = []
    for number, item in enumerate(items):
        try:
            item = fields.document(item, "take-back entry")
            try:
                take_back = read_take_back(item.get("document"), store)
            except fields.FieldError as err:
                raise fields.within("document", err) from None
            supplies = item.get("supplies")
            if not isinstance(supplies, list) or not supplies:
                raise fields.FieldError("supplies", "must name which components supply which products of the value "
                                                    "chain: [{\"component\": ..., \"product\": ...}]")
            names = {c.name for c in take_back.components}
            read = {}
            for place, supply in enumerate(supplies):
                try:
                    supply = fields.document(supply, "supply")
                    component = fields.text(supply, "component", limit=200)
                    if component not in names:
                        raise fields.FieldError("component", f"{component!r} is not a component of the take-back "
                                                             f"product ({', '.join(sorted(names))})")
                    product = fields.text(supply, "product", limit=500)
                    if product not in products:
                        raise fields.FieldError("product", f"{product!r} is no product of the value chain (give its "
                                                           "id or name)")
                    read[component] = products[product]
                except fields.FieldError as err:
                    raise fields.within(f"supplies[{place}]", err) from None
            sources.append(Source(take_back, read))
        except fields.FieldError as err:
            raise fields.within(f"take_back[{number}]", err) from None
    return sources


def read_request(doc: object, store) -> tuple[ValueChain, list[Source]]:
    doc = fields.document(doc)
    try:
        chain = read_value_chain(doc.get("value_chain"), store)
    except fields.FieldError as err:
        raise fields.within("value_chain", err) from None
    return chain, read_sources(doc.get("take_back"), chain, store)


def reman_supply(workspace, catalogue, sources: list[Source], *, today: datetime.date) -> dict[int, list[dict]]:
    """Chain product index -> the supply streams take-back offers it (see the module's text)."""
    found: dict[int, list[dict]] = {}
    for source in sources:
        planned = plan(workspace, catalogue, source.take_back, today=today)
        components = {c.name: c for c in source.take_back.components}
        harvesting = [s for s in planned["strategies"] if s["supplies_original_function"]
                      and s["reuses"] == "intact components" and s["feasible_here"]]
        for name, product in source.supplies.items():
            component = components[name]
            if component.wear_part or not component.non_destructive or not harvesting:
                continue
            best = min(harvesting, key=lambda s: s["ladder_rank"])
            chain = best["chain"]
            capacities = [s["capacity_per_week"] for s in chain["services"] if s["capacity_per_week"] is not None]
            weekly = best["units_per_year"] / 52
            if capacities:
                weekly = min(weekly, min(capacities))
            chosen_instead = sorted({g["chosen"] for g in planned["per_grade"]
                                     if g["chosen"] and g["chosen"] != best["label"]
                                     and best["label"] in g["strategies"]})
            reasons = [f"{best['units_per_year']:,} returns a year of {planned['name']} can go to {best['label']} "
                       f"({best['notation']}), each giving back its {name}"]
            if capacities and min(capacities) < best["units_per_year"] / 52:
                reasons.append(f"the reverse chain's slowest provider takes {min(capacities):g} a week")
            if chosen_instead:
                reasons.append(f"the plan sends some of those returns to {', '.join(chosen_instead)}, which keeps "
                               "the product whole: harvesting is a choice against it")
            found.setdefault(product, []).append({
                "take_back": source.take_back.id, "take_back_name": source.take_back.name, "component": name,
                "strategy": best["label"], "notation": best["notation"],
                "units_per_year": round(weekly * 52), "units_per_week": round(weekly, 1),
                "lead_time_days": chain.get("days"), "cost_per_unit_eur": chain.get("cost_per_unit_eur"),
                "collection_point": (chain.get("collection_point") or {}).get("place"),
                "services": [s["service"] for s in chain["services"]], "reasons": reasons})
    return found


def criticality(workspace, catalogue, chain: ValueChain, sources: list[Source], *,
                today: datetime.date | None = None) -> dict:
    today = today or datetime.date.today()
    states = match_steps(workspace, chain, today=today)
    exposed = exposure(chain, states, service_facts(catalogue, chain.services()))
    total_value = sum(p.yearly_volume * p.unit_revenue for p in chain.products) or 1.0
    metrics = []
    for number, product in enumerate(chain.products):
        steps = [entry for state, entry in zip(states, exposed["steps"]) if state.product == number]
        fastest = [min((a["delivery_days"] for a in state.alternatives if a["delivery_days"] is not None),
                       default=None) for state in states if state.product == number]
        metrics.append({"alternatives": min((s["qualified_alternatives"] for s in steps), default=0),
                        "single_sourced": any(s["single_sourced"] for s in steps),
                        "hhi_country": max((s["hhi_country"] for s in steps), default=0.0),
                        "importance": product.yearly_volume * product.unit_revenue / total_value,
                        "recovery_days": max((d for d in fastest if d is not None), default=None),
                        "weakest": min(steps, key=lambda s: s["qualified_alternatives"])["step"] if steps else None})
    block = rules.values(["component", "alternatives", "singleSourced", "hhiCountry", "importance"],
                         [[f"urn:maas-kg:component:{n}", m["alternatives"], m["single_sourced"],
                           round(m["hhi_country"], 4), round(m["importance"], 4)] for n, m in enumerate(metrics)])
    verdicts = {int(row["component"].value.rsplit(":", 1)[1]): (float(row["supplyRisk"].value), row["level"].value)
                for row in rules.select(workspace.store, "circularity/criticality.rq", COMPONENTS=block)}
    supply = reman_supply(workspace, catalogue, sources, today=today)
    components = []
    for number, (product, m) in enumerate(zip(chain.products, metrics)):
        risk, level = verdicts[number]
        reasons = [f"{m['alternatives']} qualified alternative(s) at its weakest step ({m['weakest']})"
                   if m["weakest"] else "no step to assess"]
        if m["single_sourced"]:
            reasons.append("a step has a single provider")
        if m["hhi_country"] >= 0.999:
            reasons.append("a step's suppliers are all in one country")
        reasons.append(f"{m['importance']:.0%} of the chain's yearly revenue")
        streams = supply.get(number, [])
        if level == "critical" and not streams:
            reasons.append("no take-back stream supplies it")
        components.append({"product": product.document.get("id"), "name": product.name, "level": level,
                           "supply_risk": round(risk, 3), "importance": round(m["importance"], 4),
                           "qualified_alternatives": m["alternatives"], "single_sourced": m["single_sourced"],
                           "hhi_country": round(m["hhi_country"], 4), "recovery_days": m["recovery_days"],
                           "yearly_value": round(product.yearly_volume * product.unit_revenue, 2),
                           "reman_supply": streams, "reasons": reasons})
    order = {"critical": 0, "watch": 1, "low": 2}
    components.sort(key=lambda c: (order[c["level"]], -c["supply_risk"], -c["importance"]))
    return {"value_chain": chain.id, "name": chain.name, "currency": chain.currency, "today": today.isoformat(),
            "components": components,
            "critical_with_reman_supply": [c["name"] for c in components
                                           if c["level"] == "critical" and c["reman_supply"]]}
