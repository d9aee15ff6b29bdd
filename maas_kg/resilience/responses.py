"""R2: response scenarios for disruption events, from the pool of published services (seed paper section 4.1,
figure 7). For every step an event takes capacity from, with the disrupted services left out:

(i) re-source: the qualified alternatives (stage-2 matching with the product's own criteria) the events do not hit,
    best first, each with price, delivery against the due date, distance, transport CO2 and residual risk;
(iii) split the lost volume over several of them when the best one's weekly capacity cannot carry it;
(iv) upstream tiers and other regions: the providers that already supply the chain (an earlier step of the same
    product, the upstream tier, or another step) and qualify for the hit step are always considered, marked and
    ranked before strangers (the buyer knows them; an upstream one already holds the part, one transport leg
    fewer); alternatives outside the countries the events name are marked, and ranked first where they diversify
    the step's countries;
(ii) another route: the product's other routes (from translation) that avoid the disrupted step, with their best
    assignment.
(v) remanufactured components from take-back: the supply streams the circularity module finds
    (``maas_kg.circularity.criticality.reman_supply``, given as ``reman``), shown for each disrupted step of the
    product they supply, with the share of the lost weekly volume they cover and whether they arrive by the due
    date. They are not put in the request for quotation: their providers work on returns, not on the step.

The plan (JSON) names, per step, the chosen response and carries a request-for-quotation document that
``POST /rfqs`` (stage 3) accepts as it is.
"""

from __future__ import annotations

import datetime

import rdflib
from rdflib import RDF, XSD, Literal, Namespace, URIRef

from maas_kg.knowledge import MAAS, rules
from maas_kg.resilience.assessment import KnownHits, free_alternatives, hits, match_steps, service_facts
from maas_kg.resilience.events import Event, touched
from maas_kg.resilience.value_chains import ValueChain

OPTIONS = 5  # alternatives shown per step
CONSIDERED = 30  # unaffected alternatives ranked per step (enough to split a volume over several)
PROV = Namespace("http://www.w3.org/ns/prov#")


def respond(workspace, catalogue, chain: ValueChain, events: list[Event], *,
            today: datetime.date | None = None, reman: dict[int, list[dict]] | None = None) -> dict:
    today = today or datetime.date.today()
    results: list = []
    states = match_steps(workspace, chain, today=today, results=results)
    suppliers = chain.services()
    hit_map = touched(catalogue, events, suppliers)
    disrupted = {service for by_service in hit_map.values() for service in by_service}
    event_hits = hits(catalogue, chain, states, events, hit_map, recover_days=False)  # the lost shares suffice
    hit_countries = {c for e in events for c in e.countries}
    by_key = {(s.product, s.index): s for s in states}
    in_chain = _chain_roles(chain)
    affected: dict[tuple[int, int], tuple[float, float]] = {}  # (product, step) -> (lost share, longest duration)
    for event in events:
        for hit in event_hits[event.id]:
            lost, days = affected.get((hit.product, hit.step), (0.0, 0.0))
            if hit.lost_share > 0:
                affected[(hit.product, hit.step)] = (max(lost, hit.lost_share), max(days, event.duration_days))
    steps, items, known = [], [], KnownHits(catalogue)
    for (number, index), (lost, longest) in sorted(affected.items()):
        if lost <= 0:
            continue
        product, state = chain.products[number], by_key[(number, index)]
        due = _due(product.document)
        days_left = (due - today).days if due else None
        remaining = [s for s in state.step.suppliers if s.service not in disrupted]
        unaffected = free_alternatives(catalogue, events, state.alternatives, want=CONSIDERED, known=known)
        considered = {a["service"] for a in unaffected}
        unaffected += free_alternatives(catalogue, events, [a for a in state.alternatives if a["provider"] in in_chain
                                                            and a["service"] not in considered],
                                        want=CONSIDERED, known=known)
        facts = service_facts(catalogue, [s.service for s in remaining] + [a["service"] for a in unaffected])
        countries_now = {facts.get(s.service, {}).get("country") for s in remaining}
        options = []
        for option in unaffected:
            country = facts.get(option["service"], {}).get("country")
            meets = option["delivery_days"] is not None and (days_left is None or option["delivery_days"] <= days_left)
            roles = [r for r in in_chain.get(option["provider"], []) if (r["product"], r["step"]) != (number, index)]
            upstream = [r for r in roles if r["product"] == number and r["step"] < index]
            options.append({**option, "country": country, "meets_due_date": meets,
                            "outside_affected_countries": country not in hit_countries,
                            "diversifies_countries": country not in countries_now,
                            "supplies_chain": [{"product": chain.products[r["product"]].name, "step": r["name"]}
                                               for r in roles],
                            "upstream_tier": bool(upstream),
                            "reasons": _tier_reasons(chain, upstream, roles) +
                                       _reasons(option, meets, country, hit_countries, countries_now, days_left)})
        # meeting the due date first, then outside the hit countries, then the chain's own suppliers (upstream
        # first), then the match score
        options.sort(key=lambda o: (not o["meets_due_date"], not o["outside_affected_countries"],
                                    not o["upstream_tier"], not o["supplies_chain"], -(o["score"] or 0.0)))
        weekly_need = product.yearly_volume * lost / 52
        chosen, covered = [], 0.0
        for option in options:
            if covered >= weekly_need:
                break
            chosen.append(option)
            covered += option["capacity_per_week"] or 0.0
        if chosen and len(chosen) > 1:
            total = sum(o["capacity_per_week"] or 0.0 for o in chosen) or 1.0
            response = {"kind": "split", "services": [
                {"service": o["service"], "share_of_lost_volume": round((o["capacity_per_week"] or 0.0) / total, 3)}
                for o in chosen],
                "why": f"no single alternative has the weekly capacity for {weekly_need:,.0f} units"}
        elif chosen:
            response = {"kind": "re-source", "services": [{"service": chosen[0]["service"],
                                                           "share_of_lost_volume": 1.0}],
                        "why": "the best qualified alternative the events do not hit" +
                               ("" if chosen[0]["meets_due_date"] else ", though it cannot meet the due date")}
        else:
            response = {"kind": "none", "services": [],
                        "why": "no qualified alternative outside the disruption: see the other routes, or wait "
                               f"{longest:g} days"}
        routes = _other_routes(catalogue, events, results[number], state.step.process)
        supplies = [_reman_option(stream, weekly_need, days_left) for stream in (reman or {}).get(number, [])]
        if response["kind"] == "none" and supplies:
            response["why"] += "; or the remanufactured supply from take-back"
        steps.append({"product": product.name, "step": state.step.process_name, "process": state.step.process,
                      "share_lost": round(lost, 4), "weekly_volume_lost": round(weekly_need, 1),
                      "options": options[:OPTIONS], "options_considered": len(options),
                      "qualified_alternatives": state.alternative_count, "response": response,
                      "other_routes": routes, "remanufactured_supply": supplies})
        for place, service in enumerate(response["services"]):
            items.append({"service": service["service"], "step": state.step.process, "position": index + 1,
                          "match_score": next((o["score"] for o in options if o["service"] == service["service"]),
                                              None),
                          "requirements": _requirements(product.document),
                          "quantity": max(1, round(product.yearly_volume * lost * longest / 365
                                                   * service["share_of_lost_volume"]))})
    rfq = None
    longest = max((e.duration_days for e in events), default=0.0)
    if items:
        first = chain.products[min(number for (number, _), (lost, _) in affected.items() if lost > 0)].document
        delivery = first.get("delivery") or {}
        rfq = {"title": f"{chain.name}: response to {', '.join(e.name for e in events)}",
               "quantity": max(i["quantity"] for i in items),
               "due": (_due(first) or today + datetime.timedelta(days=max(30, int(longest)))).isoformat(),
               "delivery": {k: delivery[k] for k in ("lat", "lon") if k in delivery} or {"place": chain.name},
               "items": items}
    return {"value_chain": chain.id, "events": [e.as_json() for e in events], "today": today.isoformat(),
            "steps": steps, "request_for_quotation": rfq,
            "unaffected": not steps}


def _chain_roles(chain: ValueChain) -> dict[str, list[dict]]:
    """Per provider that supplies the chain today, the steps it supplies (product number, step index, name)."""
    roles: dict[str, list[dict]] = {}
    for number, product in enumerate(chain.products):
        for index, step in enumerate(product.steps):
            for supply in step.suppliers:
                role = {"product": number, "step": index, "name": step.process_name}
                if role not in roles.setdefault(supply.provider, []):
                    roles[supply.provider].append(role)
    return roles


def _tier_reasons(chain: ValueChain, upstream: list[dict], roles: list[dict]) -> list[str]:
    if upstream:
        return [f"already makes the {upstream[-1]['name']} step of {chain.products[upstream[-1]['product']].name} "
                "(upstream tier): the parts are at its site, one transport leg fewer"]
    if roles:
        return [f"already supplies the {roles[0]['name']} step of {chain.products[roles[0]['product']].name}: "
                "a supplier the buyer knows"]
    return []


def _reman_option(stream: dict, weekly_need: float, days_left: int | None) -> dict:
    covers = min(1.0, stream["units_per_week"] / weekly_need) if weekly_need > 0 else 1.0
    meets = stream["lead_time_days"] is not None and (days_left is None or stream["lead_time_days"] <= days_left)
    reasons = [*stream["reasons"], f"covers {covers:.0%} of the lost weekly volume",
               "arrives by the due date" if meets else "arrives after the due date"]
    return {**stream, "covers_share_of_lost_volume": round(covers, 3), "meets_due_date": meets, "reasons": reasons}


def _due(document: dict) -> datetime.date | None:
    due = (document.get("delivery") or {}).get("due")
    try:
        return datetime.date.fromisoformat(due) if isinstance(due, str) else None
    except ValueError:
        return None


def _reasons(option: dict, meets: bool, country, hit_countries, countries_now, days_left) -> list[str]:
    reasons = []
    if option["delivery_days"] is not None:
        reasons.append(f"delivers in {option['delivery_days']:g} days" +
                       (f" of {days_left} left" if days_left is not None else "") +
                       ("" if meets else ": too late"))
    if country and country not in hit_countries:
        reasons.append(f"in {country}, outside the affected countries")
    if country and country not in countries_now:
        reasons.append(f"adds {country} to the step's countries")
    if option["price_eur"] is not None:
        reasons.append(f"{option['price_eur']:,.2f} EUR for the order")
    return reasons


def _requirements(document: dict) -> dict:
    """What a provider is shown of the product: its characteristics, not the buyer's other data."""
    return {key: document[key] for key in ("material", "shape", "envelope_mm", "mass_kg", "tolerance_mm",
                                           "roughness_ra_um", "finish", "certifications") if key in document}


def _other_routes(catalogue, events: list[Event], result, process: str) -> list[dict]:
    """Routes of the product without the disrupted process whose best assignment avoids disrupted services."""
    found = []
    for route in result.routes:
        if any(m.step.process == process for m in route.steps) or not route.assignments:
            continue
        services = list(route.assignments[0].services)
        if any(touched(catalogue, events, services).values()):
            continue
        found.append({"steps": [m.step.process for m in route.steps], "services": services,
                      "score": route.score, "reasons": list(route.reasons)})
    return found[:3]


def as_rdf(plan: dict, chain: ValueChain) -> rdflib.Graph:
    """The response plan in RDF (ontology/resilience.ttl) with PROV-O: which activity made it from which value chain
    and events, when; the proposed supply relations of each hit step."""
    graph = rdflib.Graph()
    graph.bind("maas", MAAS)
    graph.bind("prov", PROV)
    stamp = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    node = URIRef(f"{chain.id}/response/{stamp.strftime('%Y%m%dT%H%M%SZ')}")
    activity = URIRef(f"{node}/activity")
    graph.add((node, RDF.type, MAAS.ResponsePlan))
    graph.add((node, RDF.type, PROV.Entity))
    graph.add((node, PROV.wasGeneratedBy, activity))
    graph.add((node, PROV.wasDerivedFrom, URIRef(chain.id)))
    graph.add((activity, RDF.type, PROV.Activity))
    graph.add((activity, PROV.used, URIRef(chain.id)))
    graph.add((activity, PROV.endedAtTime, Literal(stamp.isoformat(), datatype=XSD.dateTime)))
    graph.add((activity, PROV.used, URIRef(rules.rule_iri("resilience/touched-services.rq"))))
    for event in plan["events"]:
        event_node = URIRef(f"https://w3id.org/maas-kg/id/event/{event['id']}")
        graph.add((node, MAAS.respondsTo, event_node))
        graph.add((activity, PROV.used, event_node))
    steps = {(p.name, s.process_name): f"{chain.id}/product/{n}/step/{i}"
             for n, p in enumerate(chain.products) for i, s in enumerate(p.steps)}
    for number, step in enumerate(plan["steps"]):
        for place, service in enumerate(step["response"]["services"]):
            relation = URIRef(f"{node}/supply/{number}/{place}")
            graph.add((node, MAAS.proposesSupply, relation))
            graph.add((relation, RDF.type, MAAS.SupplyRelation))
            graph.add((relation, MAAS.suppliedThrough, URIRef(service["service"])))
            graph.add((relation, MAAS.volumeShare, Literal(str(service["share_of_lost_volume"]),
                                                           datatype=XSD.decimal)))
            graph.add((relation, MAAS.forChainStep, URIRef(steps[(step["product"], step["step"])])))
    return graph
