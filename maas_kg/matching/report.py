"""A match result in the output contract (JSON, or RDF routes) and as text tables for the CLI."""

from __future__ import annotations

from prettytable import PrettyTable, TableStyle

from maas_kg import knowledge
from maas_kg.knowledge import rules
from maas_kg.matching.matcher import Candidate, MatchResult, add_names
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
            "quote": {"total": candidate.quote, "currency": candidate.currency, "total_eur": candidate.quote_eur},
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
    add_names(store, [candidate for shown in pages.values() for candidate in shown])
    rendered = {key: {"candidates": [_candidate(c, result) for c in pages[key]],
                      "candidate_count": step.candidate_count,
                      "near_misses": [{"service": c.service, "provider": c.provider, "failed": c.failed}
                                      for c in step.near_miss_page(offset, near_misses)],
                      "near_miss_count": step.near_miss_count,
                      "relaxations": relaxations(step, result.request, result.criteria)}
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
        routes.append({"rank": rank, "score": match.score, "typical_fit": match.route.typical_fit,
                       "reasons": match.reasons, "steps": steps,
                       "assignments": [{"services": list(a.services), "total": a.total,
                                        "transport_km": a.transport_km, "days": a.days}
                                       for a in match.assignments]})
    request = result.request
    return {"product": result.translation.product,
            "request": {"quantity": request.quantity, "due": request.due.isoformat() if request.due else None,
                        "days_available": request.days_available, "max_distance_km": request.max_distance_km,
                        "weights": request.weights, "today": request.today.isoformat()},
            "problems": list(result.translation.problems),
            "routes": routes}


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
                    price = f"{c['quote']['total']:,.2f} {c['quote']['currency']}" if c["quote"]["total"] is not None else "-"
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
