"""C1: from a take-back product to circular value chains (seed paper section 4.2, figure 8).

1. Strategies: per condition grade of the returns, the end-of-life strategies the EoL ontology allows
   (``queries/circularity/feasible-strategies.rq``: the grade's feasible strategies, less those that need the product
   to come apart without damage where it does not).
2. Processes: each strategy's circular processes in order (``strategy-processes.rq``: its typical step sequence, then
   the other processes it needs).
3. Providers: each process matched like a stage-2 step (the must-criteria machinery: the product's material, shape,
   envelope and mass, a monthly batch of returns, within the distance of a collection point), and the chain
   orchestrated with transport between the sites (CP-SAT or enumeration, as for routes).
4. Comparison, side by side: the share of returns each strategy can take, its place on the 10R ladder, the cost per
   unit of its chain, the material it recovers per unit, and the product's Material Circularity Indicator under it
   (``mci``), the CO2 it avoids against making new (``co2_avoided``: factors per material and strategy from the
   ontology, ``emission-factors.rq``, each with its source), with reasons. A strategy without a provider for one of
   its processes near any collection point is said so, with the process.
"""

from __future__ import annotations

import datetime
import json

from maas_kg import geo, knowledge
from maas_kg.circularity.mci import Flows, mci
from maas_kg.circularity.take_back import TakeBack
from maas_kg.knowledge import rules
from maas_kg.matching.criteria import can_criteria, must_criteria
from maas_kg.matching.matcher import match_step, read_request
from maas_kg.matching.orchestration import MAX_PER_STEP, Option, best_assignments
from maas_kg.matching.products import product_graph, submit_product
from maas_kg.matching.report import process_labels
from maas_kg.matching.translation import RouteStep
from maas_kg.store import Changes

MAX_POINTS = 10


def feasible_strategies(store, take_back: TakeBack) -> list[dict]:
    block = rules.values(["grade", "share", "nonDestructive"],
                         [[grade, share, take_back.comes_apart] for grade, _, share in take_back.condition])
    return [{"grade": row["grade"].value, "share": float(row["share"].value), "strategy": row["strategy"].value,
             "notation": row["notation"].value, "label": row["label"].value, "rank": int(row["rank"].value),
             "reused_mass": row["reusedMass"].value if row["reusedMass"] is not None else "none",
             "recycles_remainder": row["recyclesRemainder"] is not None and row["recyclesRemainder"].value == "true",
             "original_function": row["originalFunction"] is not None and row["originalFunction"].value == "true"}
            for row in rules.select(store, "circularity/feasible-strategies.rq", GRADES=block)]


def strategy_processes(store, strategies: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    rows = rules.select(store, "circularity/strategy-processes.rq",
                        STRATEGIES=rules.values(["strategy"], [[s] for s in strategies]))
    for row in rows:
        chain = found.setdefault(row["strategy"].value, [])
        if row["process"].value not in chain:
            chain.append(row["process"].value)
    return found


def _flows(take_back: TakeBack, reused_mass: str, recycles: bool) -> tuple[Flows, float]:
    """The MCI's mass flows under a strategy, and the mass recovered per unit."""
    total = take_back.mass_kg
    wear = sum(c.mass_kg for c in take_back.components if c.wear_part)
    if reused_mass == "product":
        reused = total - wear
    elif reused_mass == "intact components":
        reused = sum(c.mass_kg for c in take_back.components if c.non_destructive and not c.wear_part)
    else:
        reused = 0.0
    recycled = (total - reused) if recycles else 0.0
    efficiency = knowledge.parameter("recycling_efficiency")  # maas:RecyclingEfficiency
    flows = Flows(total, recycled_input=take_back.recycled_input, collected_for_reuse=reused / total,
                  collected_for_recycling=recycled / total, recycling_efficiency_end=efficiency,
                  recycling_efficiency_feedstock=efficiency, lifetime_ratio=take_back.lifetime_ratio)
    return flows, reused + recycled * efficiency


def _fates(take_back: TakeBack, reused_mass: str, recycles: bool) -> list[tuple[object, str]]:
    """What becomes of each component under a strategy, as ``_flows`` counts it: "reused", "recycled" or "lost"."""
    fates = []
    for component in take_back.components:
        if reused_mass == "product":
            reused = not component.wear_part
        elif reused_mass == "intact components":
            reused = component.non_destructive and not component.wear_part
        else:
            reused = False
        fates.append((component, "reused" if reused else "recycled" if recycles else "lost"))
    return fates


def emission_factors(store, materials, strategies) -> tuple[dict, dict]:
    """The nearest emission factor of each material (IRI -> row, factor None where the ontology states none) and the
    process emissions of each strategy that has them (IRI -> row), from ``emission-factors.rq``."""
    rows = rules.select(store, "circularity/emission-factors.rq",
                        MATERIALS=rules.values(["material"], [[m] for m in sorted(materials)]),
                        STRATEGIES=rules.values(["strategy"], [[s] for s in sorted(strategies)]))

    def number(row, name):
        return float(row[name].value) if row[name] is not None else None

    by_material, by_strategy = {}, {}
    for row in rows:
        found = {"factor": row["factor"].value if row["factor"] is not None else None,
                 "label": row["label"].value if row["label"] is not None else row["subject"].value.rsplit("#", 1)[-1],
                 "virgin": number(row, "virgin"), "secondary": number(row, "secondary"),
                 "share_of_new": number(row, "shareOfNew"), "per_kg": number(row, "perKg"),
                 "source": _citation(row)}
        (by_material if row["kind"].value == "material" else by_strategy)[row["subject"].value] = found
    return by_material, by_strategy


def _citation(row) -> str | None:
    if row["factor"] is None:
        return None
    source = row["source"].value if row["source"] is not None else f"{row['factor'].value} (no source stated)"
    return f"{source} ({row['date'].value})" if row["date"] is not None else source


def co2_avoided(take_back: TakeBack, reused_mass: str, recycles: bool, materials: dict,
                strategy_factor: dict | None) -> dict:
    """kg CO2e a strategy avoids per unit returned against making new: the reused mass times the virgin factor of
    its material, plus the recycled mass times the recycling efficiency times (virgin - secondary factor), less the
    emissions of the strategy's circular processes (a share of making the reused mass new, and/or per kg processed).
    A material without a stated factor counts as 0 and is named; so does the recycling of a material whose factor
    states no secondary figure (its recycling credit is unknown)."""
    efficiency = knowledge.parameter("recycling_efficiency")  # maas:RecyclingEfficiency
    avoided_new = recycling_credit = processed = 0.0
    unknown, no_credit, sources = [], [], []
    for component, fate in _fates(take_back, reused_mass, recycles):
        if fate == "lost":
            continue
        processed += component.mass_kg
        factor = materials.get(component.material, {})
        if factor.get("virgin") is None:
            if factor.get("label", component.material) not in unknown:
                unknown.append(factor.get("label", component.material))
            continue
        if fate == "recycled" and factor.get("secondary") is None:
            if factor["label"] not in no_credit:
                no_credit.append(factor["label"])
            continue
        if factor["source"] not in sources:
            sources.append(factor["source"])
        if fate == "reused":
            avoided_new += component.mass_kg * factor["virgin"]
        else:
            recycling_credit += component.mass_kg * efficiency * (factor["virgin"] - factor["secondary"])
    process = 0.0
    if strategy_factor:
        process = (strategy_factor["share_of_new"] or 0.0) * avoided_new + (strategy_factor["per_kg"] or 0.0) * processed
        if strategy_factor["source"] not in sources:
            sources.append(strategy_factor["source"])
    return {"kg_per_unit": avoided_new + recycling_credit - process, "sources": sources,
            "materials_without_factor": unknown, "materials_without_recycling_credit": no_credit,
            "process_emissions_stated": strategy_factor is not None}


def _requests(workspace, take_back: TakeBack, today: datetime.date) -> list:
    """One matching request per collection point: the product's characteristics, a monthly batch of returns."""
    store = workspace.store
    made = []
    for number, point in enumerate(take_back.collection[:MAX_POINTS]):
        document = {**take_back.product, "id": f"{take_back.id}/collection/{number}", "name": take_back.name,
                    "quantity": max(1, take_back.yearly_returns // 12),
                    "delivery": {"lat": point["lat"], "lon": point["lon"], "max_distance_km": take_back.max_distance_km}}
        document.pop("weights", None)
        product = submit_product(store, json.dumps(document).encode(), "json")
        try:
            made.append((point, read_request(store, product, today=today)))
        finally:
            changes = Changes()
            changes.drop_graph(product_graph(product))
            store.commit(changes)
    return made


def _chain(catalogue, workspace, request, processes: list[str], criteria, can) -> dict:
    """The best assignment of providers to a strategy's processes near one collection point."""
    steps = []
    for process in processes:
        steps.append(match_step(catalogue, request, RouteStep(process, "circular", ("the strategy needs it",)),
                                index=workspace.index, criteria=criteria, can=can))
    missing = [processes[i] for i, step in enumerate(steps) if not step.candidate_count]
    if missing:
        return {"missing": missing}
    options = [[Option(c.service, c.score, c.delivery_days, c.lat, c.lon) for c in step.best(MAX_PER_STEP)]
               for step in steps]
    assignments = best_assignments(options, k=1, transport_weight=0.25, distance=geo.distance_km)
    if not assignments:
        return {"missing": []}
    chosen = assignments[0]
    by_service = {c.service: c for step in steps for c in step.best(MAX_PER_STEP)}
    providers = [by_service[s] for s in chosen.services]
    cost = sum(p.quote_eur or 0.0 for p in providers)
    return {"missing": [], "services": [{"process": process, "service": p.service, "provider": p.provider,
                                         "price_eur": p.quote_eur, "distance_km": p.distance_km,
                                         "capacity_per_week": p.capacity_per_week, "lat": p.lat, "lon": p.lon,
                                         "candidates": step.candidate_count}
                                        for process, p, step in zip(processes, providers, steps)],
            "transport_km": chosen.transport_km, "days": chosen.days,
            "cost_per_unit_eur": round(cost / request.quantity, 2)}


def plan(workspace, catalogue, take_back: TakeBack, *, today: datetime.date | None = None) -> dict:
    today = today or datetime.date.today()
    workspace.index.follow(catalogue)
    feasible = feasible_strategies(catalogue, take_back)
    chains = strategy_processes(catalogue, sorted({f["strategy"] for f in feasible}))
    names = process_labels(catalogue, {p for chain in chains.values() for p in chain})
    requests = _requests(workspace, take_back, today)
    criteria, can = must_criteria(workspace.store), can_criteria(workspace.store)
    material_factors, strategy_factors = emission_factors(catalogue, {c.material for c in take_back.components},
                                                          {f["strategy"] for f in feasible})
    strategies = []
    for strategy in sorted({f["strategy"] for f in feasible}, key=lambda s: next(f["rank"] for f in feasible
                                                                                  if f["strategy"] == s)):
        rows = [f for f in feasible if f["strategy"] == strategy]
        first = rows[0]
        flows, recovered = _flows(take_back, first["reused_mass"], first["recycles_remainder"])
        processes = chains.get(strategy, [])
        best, missing = None, set()
        for point, request in requests:
            found = _chain(catalogue, workspace, request, processes, criteria, can) if processes else \
                {"missing": [], "services": [], "transport_km": 0.0, "cost_per_unit_eur": 0.0}
            missing.update(found["missing"])
            if "services" in found and (best is None or found["cost_per_unit_eur"] < best["cost_per_unit_eur"]):
                best = {**found, "collection_point": point}
        share = round(sum(r["share"] for r in rows), 4)
        reasons = [f"{first['label']} is R{first['rank']} on the 10R ladder",
                   f"takes {share:.0%} of the returns ({', '.join(_grade_label(take_back, r['grade']) for r in rows)})"]
        co2 = co2_avoided(take_back, first["reused_mass"], first["recycles_remainder"], material_factors,
                          strategy_factors.get(strategy))
        co2_per_year = co2["kg_per_unit"] * share * take_back.yearly_returns
        reasons.append(f"avoids {co2['kg_per_unit']:.1f} kg CO2e per unit returned against making new "
                       f"({co2_per_year:,.0f} kg a year)")
        if co2["materials_without_factor"]:
            reasons.append("no emission factor stated for " + ", ".join(co2["materials_without_factor"]) +
                           ": counted as 0 kg CO2e")
        if co2["materials_without_recycling_credit"]:
            reasons.append("recycling credit unknown for " + ", ".join(co2["materials_without_recycling_credit"]) +
                           " (no secondary emission factor stated): counted as 0 kg CO2e")
        if first["reused_mass"] != "none" and not co2["process_emissions_stated"]:
            reasons.append(f"no process emissions stated for {first['label']}: counted as 0 kg CO2e")
        if best is None:
            reasons.append("no provider near any collection point for " + ", ".join(
                sorted(names.get(p, (p,))[0] for p in missing)) if missing else "no chain of providers could be "
                                                                                "orchestrated")
        strategies.append({"strategy": strategy, "notation": first["notation"], "label": first["label"],
                           "ladder_rank": first["rank"], "share_of_returns": share,
                           "supplies_original_function": first["original_function"], "reuses": first["reused_mass"],
                           "units_per_year": round(share * take_back.yearly_returns),
                           "processes": [{"process": p, "label": names.get(p, (p,))[0]} for p in processes],
                           "chain": best, "feasible_here": best is not None,
                           "material_recovered_kg_per_unit": round(recovered, 3),
                           "material_recovered_share": round(recovered / take_back.mass_kg, 4),
                           "mci": round(mci(flows), 4), "co2_avoided_kg_per_unit": round(co2["kg_per_unit"], 3),
                           "co2_avoided_kg_per_year": round(co2_per_year, 1), "co2_sources": co2["sources"],
                           "co2_materials_without_factor": co2["materials_without_factor"],
                           "co2_materials_without_recycling_credit": co2["materials_without_recycling_credit"],
                           "reasons": reasons})
    per_grade = []
    for grade, label, share in take_back.condition:
        options = [s for s in strategies if any(f["grade"] == grade and f["strategy"] == s["strategy"]
                                                for f in feasible)]
        chosen = next((s for s in options if s["feasible_here"]), None)
        per_grade.append({"grade": label, "share": share, "strategies": [s["label"] for s in options],
                          "chosen": chosen["label"] if chosen else None,
                          "why": (f"the most circular strategy with providers for every process "
                                  f"(R{chosen['ladder_rank']})") if chosen else
                                 "no strategy of this grade has providers for all its processes"})
    linear = mci(Flows(take_back.mass_kg, recycled_input=take_back.recycled_input,
                       lifetime_ratio=take_back.lifetime_ratio))
    return {"take_back": take_back.id, "name": take_back.name, "today": today.isoformat(),
            "mass_kg": round(take_back.mass_kg, 3), "comes_apart_without_damage": take_back.comes_apart,
            "mci_if_landfilled": round(linear, 4), "strategies": strategies, "per_grade": per_grade}


def _grade_label(take_back: TakeBack, grade: str) -> str:
    return next(label for iri, label, _ in take_back.condition if iri == grade)
