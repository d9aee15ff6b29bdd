"""A match result in the output contract (JSON, or RDF routes) and as text tables for the CLI."""

from __future__ import annotations

import datetime
import math

import numpy as np
from prettytable import PrettyTable, TableStyle

from maas_kg import knowledge
from maas_kg.knowledge import MAAS, rules
from maas_kg.matching.matcher import Candidate, MatchResult, add_names
from maas_kg.matching.orchestration import MAX_PER_STEP, SCALE
from maas_kg.matching.relaxation import relaxations
from maas_kg.store import Store


_LABELS: dict[tuple, tuple[str, str | None] | None] = {}


def process_labels(store: Store, processes: set[str]) -> dict[str, tuple[str, str | None]]:
    """Label and notation of each process class, kept per ontology in force (they come from the ontology alone)."""
    key = knowledge.ontology_key()
    missing = {p for p in processes if (key, p) not in _LABELS}
    if missing:
        if len(_LABELS) > 10_000:
            _LABELS.clear()
        found = _query_labels(store, missing)
        _LABELS.update({(key, p): found.get(p) for p in missing})
    return {p: _LABELS[key, p] for p in processes if _LABELS.get((key, p)) is not None}


def _query_labels(store: Store, processes: set[str]) -> dict[str, tuple[str, str | None]]:
    if not processes:
        return {}
    query = rules.bind(rules.rule_text("translation/process-labels.rq"),
                       PROCESSES=rules.values(["process"], [[p] for p in sorted(processes)]))
    return {row["process"].value: (row["label"].value, row["notation"].value if row["notation"] else None)
            for row in store.select(query, union_default_graph=True)}


def _candidate(candidate: Candidate, result: MatchResult) -> dict:
    return {"service": candidate.service, "provider": candidate.provider, "name": candidate.name,
            "provider_name": candidate.provider_name, "score": candidate.score,
            "quote": {"total": candidate.quote, "currency": candidate.currency, "total_eur": candidate.quote_eur,
                      "basis": candidate.quote_basis, "breakdown": candidate.quote_breakdown,
                      **({"note": candidate.quote_note} if candidate.quote_note else {})},
            "distance_km": candidate.distance_km, "lead_time_days": candidate.lead_time_days,
            "delivery_days": candidate.delivery_days, "criteria": candidate.criteria(result.request)}


#: candidates per step in an answer unless the caller asks for more (at most ``MAX_TOP``), and near misses
TOP, MAX_TOP, NEAR_MISSES = 20, 1000, 10


def as_json(store: Store, result: MatchResult, *, top: int | None = TOP, near_misses: int | None = NEAR_MISSES,
            offset: int = 0) -> dict:
    """The output contract: routes best first, each with its steps and the k best assignments of services to
    steps. Per step the ``top`` best candidates (from ``offset``) with ``candidate_count``, the ``near_misses`` best
    near misses (from ``offset``) with ``near_miss_count``, and the ``relaxations``: per failed criterion, how many
    services fail only it and what change admits them. None for ``top`` or ``near_misses``: all of them. Scores are
    normalised over all candidates of the step, whatever the page."""
    labels = process_labels(store, {s.process for r in result.routes for s in r.route.steps})
    # a step of one process in several routes is one answer (``for_step`` shares its rows): rendered once, which
    # halves the work of a product with three routes. The names of every shown candidate come in one lookup (one
    # per step cost a store round trip each, over HTTP where the store is a server)
    distinct = {id(step.rows): step for match in result.routes for step in match.steps}
    pages = {key: step.page(offset, top) for key, step in distinct.items()}
    missed = {key: step.near_miss_page(offset, near_misses) for key, step in distinct.items()}
    # the candidates an assignment chose (the solver takes each step's best MAX_PER_STEP, beyond the shown page)
    chosen = {key: {c.service: c for c in step.best(MAX_PER_STEP)} for key, step in distinct.items()}
    add_names(store, [candidate for found in (*pages.values(), *missed.values(), *(c.values() for c in chosen.values()))
                      for candidate in found])
    spreads = {key: _price_spread(step) for key, step in distinct.items()}
    rendered = {key: {"candidates": [_flagged(_candidate(c, result), spreads[key]) for c in pages[key]],
                      "candidate_count": step.candidate_count,
                      "price_quartiles_eur": list(spreads[key][:3]) if spreads[key] else None,
                      "near_misses": [{"service": c.service, "provider": c.provider, "failed": c.failed,
                                       "name": c.name, "provider_name": c.provider_name} for c in missed[key]],
                      "near_miss_count": step.near_miss_count,
                      "relaxations": [_with_values(entry, result) for entry in
                                      relaxations(step, result.request, result.criteria)],
                      "fewest_days": _fewest_days(step, result)}
                for key, step in distinct.items()}
    routes = []
    for rank, match in enumerate(result.routes, start=1):
        steps = []
        for number, step in enumerate(match.steps, start=1):
            label, notation = labels.get(step.step.process, (step.step.process.rsplit("#", 1)[-1], None))
            steps.append({
                "step": number,
                "process": {"iri": step.step.process, "notation": notation, "label": label},
                "reasons": list(step.step.reasons),
                **rendered[id(step.rows)],
            })
        fewest = [s["fewest_days"] for s in steps]
        routes.append({"rank": rank, "score": match.score, "typical_fit": match.route.typical_fit,
                       "reasons": match.reasons, "steps": steps,
                       "assignments": [{"services": list(a.services), "total": a.total,
                                        "transport_km": a.transport_km, "days": a.days,
                                        **_assignment_details(a, [chosen[id(s.rows)].get(service) for s, service
                                                                  in zip(match.steps, a.services)], result)}
                                       for a in match.assignments],
                       "fewest_days": sum(fewest) if fewest and None not in fewest else None})
    request = result.request
    return {"product": result.translation.product,
            "request": {"quantity": request.quantity, "due": request.due.isoformat() if request.due else None,
                        "days_available": request.days_available, "max_distance_km": request.max_distance_km,
                        "weights": request.weights, "today": request.today.isoformat(),
                        "earliest_due": _earliest_due(routes, request.today),
                        "mass_kg": request.mass_kg, "delivery": list(request.delivery) if request.delivery else None,
                        "emission_factor": request.emission_factor,
                        "characteristics": request.characteristics},
            "problems": list(result.translation.problems),
            "routes": routes}


def _assignment_details(assignment, chosen: list[Candidate | None], result: MatchResult) -> dict:
    """What a buyer reads of an assignment besides its total: per step the chosen candidate (as in ``candidates``),
    the prices summed (in euros, the comparison's reference currency, and per own currency), the arrival date
    (today + the summed delivery days), the transport from site to site and on to the delivery place with its CO2,
    and the parts of the total (1 - each candidate's score, and the transport's share)."""
    request = result.request
    known = [c for c in chosen if c is not None]
    prices: dict[str, float] = {}
    for c in known:
        if c.quote is not None and c.currency:
            prices[c.currency] = round(prices.get(c.currency, 0.0) + c.quote, 2)
    euros = [c.quote_eur for c in known]
    last = chosen[-1] if chosen else None
    to_delivery = last.distance_km if last is not None else None
    transport_km = assignment.transport_km + (to_delivery or 0.0)
    co2 = (round(transport_km * request.mass_kg * request.quantity / 1000 * request.emission_factor, 2)
           if request.mass_kg is not None else None)
    misfit = sum(round(SCALE * (1 - c.score)) for c in known) / SCALE
    return {"chosen": [_candidate(c, result) if c is not None else None for c in chosen],
            "price_eur": round(sum(euros), 2) if known and len(known) == len(chosen) and None not in euros else None,
            "prices": [{"currency": currency, "total": total} for currency, total in sorted(prices.items())],
            "arrival": (request.today + datetime.timedelta(days=assignment.days)).isoformat()
            if assignment.days is not None else None,
            "delivery_km": to_delivery, "route_km": round(transport_km, 1), "transport_co2_kg": co2,
            "transport_cost": round(max(0.0, assignment.total - misfit), 4) if len(known) == len(chosen) else None}


#: a quote is flagged as far outside its step's prices beyond Tukey's fences (1.5 interquartile ranges) of the
#: logarithms of all candidates' euro quotes, given at least this many quotes: prices spread by factors, not sums
PRICE_SPREAD_MINIMUM = 5


def _price_spread(step) -> tuple[float, float, float, float, float] | None:
    """The quartiles of the euro quotes of every candidate of ``step`` (not only the page shown), and the fences
    beyond which a quote is far outside them."""
    quotes = np.asarray(step.columns["quote_eur"], dtype=float)[np.asarray(step.candidate_rows, dtype=np.int64)]
    quotes = quotes[np.isfinite(quotes) & (quotes > 0)]
    if len(quotes) < PRICE_SPREAD_MINIMUM:
        return None
    low, middle, high = np.quantile(np.log(quotes), [0.25, 0.5, 0.75])
    spread = 1.5 * (high - low)
    return (round(float(np.exp(low)), 2), round(float(np.exp(middle)), 2), round(float(np.exp(high)), 2),
            float(np.exp(low - spread)), float(np.exp(high + spread)))


def _flagged(candidate: dict, spread) -> dict:
    total = candidate["quote"]["total_eur"]
    outlier = None
    if spread and total:
        outlier = "low" if total < spread[3] else "high" if total > spread[4] else None
    return {**candidate, "price_outlier": outlier}


def _fewest_days(step, result: MatchResult) -> int | None:
    """The fewest delivery days of a service of ``step`` that fails no must-criterion but the due date: what the
    step needs at the earliest (None: no such service)."""
    due = next((c.name for c in result.criteria if c.comparison == str(MAAS.DeliveredByDueDate)), None)
    rows = step.candidate_rows
    if due in step.rows.names and len(step.near):
        column = step.rows.names.index(due)
        late = step.near[~step.rows.passed[step.near, column]]
        rows = list(rows) + list(late)
    days = [float(step.columns["delivery"][i]) for i in rows]
    days = [d for d in days if not math.isnan(d)]
    return int(min(days)) if days else None


def _earliest_due(routes: list[dict], today: datetime.date) -> str | None:
    """The earliest due date any route could make: today + the fewest days of its steps' fastest services."""
    fewest = [r["fewest_days"] for r in routes if r["fewest_days"] is not None]
    return (today + datetime.timedelta(days=min(fewest))).isoformat() if fewest else None


#: per must-criterion comparison with a measure: the request's value the relaxation changes, and its unit
_RELAXED_VALUES = {
    str(MAAS.WithinRadius): (lambda r: r.max_distance_km, "km"),
    str(MAAS.AtMostRequired): (lambda r: r.roughness_ra_um, "µm"),
    str(MAAS.ToleranceAchieved): (lambda r: r.tolerance_mm, "mm"),
    str(MAAS.AtMostWhereStated): (lambda r: r.mass_kg, "kg"),
}


def _with_values(entry: dict, result: MatchResult) -> dict:
    """A relaxation with the request's current value (``required``) and ``unit``; for the due date the dates that
    admit the first and all the services (``date``)."""
    criterion = next((c for c in result.criteria if c.name == entry["criterion"]), None)
    if criterion is None or "smallest" not in entry:
        return entry
    request = result.request
    if criterion.comparison == str(MAAS.DeliveredByDueDate) and request.due is not None:
        for key in ("smallest", "all"):
            entry[key] = {**entry[key], "date": (request.due + datetime.timedelta(days=entry[key]["value"])).isoformat()}
        return {**entry, "required": request.due.isoformat(), "unit": "days"}
    if criterion.comparison in _RELAXED_VALUES:
        value, unit = _RELAXED_VALUES[criterion.comparison]
        return {**entry, "required": value(request), "unit": unit}
    return entry


def as_text(document: dict, *, top: int = 5, near_misses: int = 5) -> str:
    """Per route and step: ranked providers with price, lead time, distance and score, then the near misses."""
    lines = [f"product {document['product']}"]
    lines += [f"problem: {p}" for p in document["problems"]]
    if not document["routes"]:
        lines.append("no route: nothing in the ontology can make this product as described")
    for route in document["routes"]:
        chain = " -> ".join(s["process"]["label"] for s in route["steps"])
        lines.append("")
        lines.append(f"route {route['rank']}: {chain}   score {route['score']:.3f} (typical fit {route['typical_fit']})")
        lines += [f"  why: {reason}" for reason in route["reasons"]]
        for step in route["steps"]:
            notation = f" [{step['process']['notation']}]" if step["process"]["notation"] else ""
            lines.append(f"  step {step['step']}: {step['process']['label']}{notation}: "
                         f"{step['candidate_count']} candidate(s)")
            if step["candidates"]:
                table = PrettyTable(["#", "provider", "service", "price", "lead time (d)", "distance (km)", "score"])
                table.set_style(TableStyle.MARKDOWN)
                table.align = "l"
                for i, c in enumerate(step["candidates"][:top], start=1):
                    quote = c["quote"]
                    price = f"{quote['total']:,.2f} {quote['currency']}" if quote["total"] is not None else "-"
                    if quote["currency"] != "EUR" and quote["total_eur"] is not None:
                        price += f" ({quote['total_eur']:,.0f} EUR)"  # the comparison's reference currency
                    if quote.get("basis") == "cost model":
                        price += " (cost model)"
                    if c.get("price_outlier"):
                        price += f" [far {'below' if c['price_outlier'] == 'low' else 'above'} the step's prices]"
                    table.add_row([i, c["provider_name"] or c["provider"], c["name"] or c["service"], price,
                                   c["delivery_days"] if c["delivery_days"] is not None else "-",
                                   c["distance_km"] if c["distance_km"] is not None else "-", f"{c['score']:.3f}"])
                lines += ["    " + line for line in table.get_string().splitlines()]
            misses = step["near_misses"]
            if misses:
                lines.append(f"    near misses ({step['near_miss_count']}): " + "; ".join(
                    f"{m['service'].rsplit('/provider/', 1)[-1]} fails {', '.join(m['failed'])}"
                    for m in misses[:near_misses]) + (" ..." if step["near_miss_count"] > near_misses else ""))
            for relax in step["relaxations"]:
                gain = (f"; {relax['smallest']['change']} admits {relax['smallest']['admits']}, "
                        f"{relax['all']['change']} admits all" if "smallest" in relax else "")
                lines.append(f"    relax {relax['criterion']}: {relax['services']} service(s) fail only it "
                             f"({relax['hint']}){gain}")
        for i, assignment in enumerate(route["assignments"], start=1):
            lines.append(f"  assignment {i}: total {assignment['total']:.3f}, transport {assignment['transport_km']} km, "
                         f"{assignment['days']} days: " + " + ".join(s.rsplit('/provider/', 1)[-1] for s in assignment["services"]))
    return "\n".join(lines)


def as_rdf(result: MatchResult, *, top: int | None = TOP, offset: int = 0):
    """The routes (as stored in the requirements graph) plus each step's ``top`` best candidates (None: all) as
    ``maas:ServiceCandidate`` resources with rank and score (from rank ``offset`` + 1), and each step's candidate and near-miss counts, as an
    rdflib graph (for Turtle or JSON-LD output)."""
    import pyoxigraph as ox

    from maas_kg.knowledge import MAAS
    from maas_kg.matching.translation import requirements_graph, requirements_triples
    from maas_kg.rdf import to_rdflib

    triples = requirements_triples(result.translation)
    base = requirements_graph(result.translation.product).replace("/graph/", "/id/")
    xsd = "http://www.w3.org/2001/XMLSchema#"
    n, lit = ox.NamedNode, ox.Literal
    rdf_type = n("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for match in result.routes:
        route = result.translation.routes.index(match.route) + 1
        for number, step in enumerate(match.steps, start=1):
            requirement = n(f"{base}/route/{route}/step/{number}")
            triples += [(requirement, n(MAAS.candidateCount), lit(str(step.candidate_count), datatype=n(xsd + "integer"))),
                        (requirement, n(MAAS.nearMissCount), lit(str(step.near_miss_count), datatype=n(xsd + "integer")))]
            page = step.page(offset, top)
            for rank, candidate in enumerate(page, start=offset + 1):
                node = n(f"{base}/route/{route}/step/{number}/candidate/{rank}")
                triples += [(node, rdf_type, n(MAAS.ServiceCandidate)), (node, n(MAAS.candidateFor), requirement),
                            (node, n(MAAS.candidateService), n(candidate.service)),
                            (node, n(MAAS.matchRank), lit(str(rank), datatype=n(xsd + "integer"))),
                            (node, n(MAAS.matchScore), lit(str(candidate.score), datatype=n(xsd + "decimal")))]
    graph = to_rdflib([ox.Triple(*t) for t in triples])
    for prefix, namespace in (("maas", str(MAAS)), ("prov", "http://www.w3.org/ns/prov#"),
                              ("proc", "https://w3id.org/maas-kg/process#")):
        graph.bind(prefix, namespace)
    return graph
