"""The performance can-criterion: the order-evaluation stage's aggregates in the performance graph
(maas_kg.matching.PERFORMANCE_GRAPH, read by queries/matching/provider-performance.rq) rank evaluated providers by
their score on both engines; a provider without evaluations stays neutral."""

from __future__ import annotations

import datetime
import json

import pyoxigraph as ox
import pytest

from harness import STORE_KINDS, fresh_store
from maas_kg import knowledge
from maas_kg.catalogue import publish, service_graph
from maas_kg.knowledge import rules
from maas_kg.matching import PERFORMANCE_GRAPH, provider_performance
from maas_kg.matching.step import NEUTRAL_SCORE
from maas_kg.matching.workspace import Workspace
from maas_kg.store import Changes

MAAS = knowledge.MAAS
XSD = "http://www.w3.org/2001/XMLSchema#"
TODAY = datetime.date(2026, 11, 22)
#: three providers of the same turning service, side by side; only the setup price tells them apart
SETUP = {"cheap": 100, "middle": 300, "dear": 500}


def _provider(name: str) -> str:
    return f"https://example.org/provider/{name}"


def offer(name: str, setup: int) -> dict:
    provider = _provider(name)
    return {"id": f"{provider}/service/turning", "name": f"turning at {name}",
            "provider": {"id": provider, "name": f"Provider {name}", "country": "DE",
                         "location": {"lat": 48.2, "lon": 11.6}, "certifications": ["ISO 9001"]},
            "process": "CNC turning", "materials": ["42CrMo4"], "envelope_mm": [400, 400, 600], "tolerance_mm": 0.01,
            "roughness_ra_um": 0.8, "batch_size": [1, 1000], "capacity_per_week": 500, "lead_time_days": 5,
            "price": {"currency": "EUR", "setup": setup, "unit": 2.5}, "valid_until": "2027-12-31"}


def product(weights: dict[str, float]) -> bytes:
    return json.dumps({"id": "https://w3id.org/maas-kg/id/product/evaluated-shaft", "name": "shaft",
                       "material": "42CrMo4", "shape": "rotational", "envelope_mm": [40, 40, 250], "mass_kg": 2.4,
                       "tolerance_mm": 0.1, "roughness_ra_um": 3.2, "quantity": 20,
                       "delivery": {"lat": 48.14, "lon": 11.58, "max_distance_km": 500, "due": "2027-04-30"},
                       "weights": weights}).encode()


def _score_triples(provider: str, score: str, count: str | None) -> list:
    subject = ox.NamedNode(provider)
    triples = [(subject, ox.NamedNode(MAAS.performanceScore), ox.Literal(score, datatype=ox.NamedNode(XSD + "decimal")))]
    if count is not None:
        triples.append((subject, ox.NamedNode(MAAS.evaluationCount),
                        ox.Literal(count, datatype=ox.NamedNode(XSD + "integer"))))
    return triples


def write(store, graph: str, triples: list) -> None:
    changes = Changes()
    changes.insert(graph, triples)
    store.commit(changes)


@pytest.fixture(scope="module", params=STORE_KINDS)
def catalogue(request, tmp_path_factory):
    with fresh_store(request.param, tmp_path_factory.mktemp("performance")) as store:
        results = publish(store, json.dumps([offer(name, setup) for name, setup in SETUP.items()]).encode(), "json")
        assert all(r.published for r in results), [r.violations for r in results if not r.published][:1]
        yield store


def _ranked(workspace: Workspace, weights: dict[str, float], engine: str) -> list:
    """The candidates of the step our three services compete in, best first."""
    result = workspace.match(product(weights), "json", today=TODAY, engine=engine)
    ours = {offer(name, 0)["id"] for name in SETUP}
    steps = [s for r in result.routes for s in r.steps if ours <= {c.service for c in s.candidates}]
    assert steps, "no step of the product's routes found all three services"
    return [(c, c.criteria(result.request)) for c in steps[0].candidates if c.service in ours]


def test_the_rule_names_the_graph_the_code_declares():
    assert f"GRAPH <{PERFORMANCE_GRAPH}>" in rules.rule_text("matching/provider-performance.rq")


def test_evaluated_providers_rank_by_their_score_on_both_engines(catalogue):
    workspace = Workspace(catalogue)
    favouring = {"price": 1.0, "performance": 3.0}
    for engine in ("index", "sparql"):
        before = _ranked(workspace, favouring, engine)
        assert [c.provider for c, _ in before] == [_provider(n) for n in ("cheap", "middle", "dear")], engine
        assert all(c.performance is None and criteria["performance"]["value"] is None
                   and criteria["performance"]["score"] == NEUTRAL_SCORE for c, criteria in before)

    write(catalogue, PERFORMANCE_GRAPH, _score_triples(_provider("dear"), "0.83", "4"))
    try:
        answers = {}
        for engine in ("index", "sparql"):
            ranked = _ranked(workspace, favouring, engine)
            answers[engine] = [(c.service, c.score, c.performance, c.evaluations) for c, _ in ranked]
            first, criteria = ranked[0]
            # the dearest service comes first now: its provider is the only one evaluated
            assert first.provider == _provider("dear"), (engine, [c.provider for c, _ in ranked])
            assert criteria["performance"] == {"kind": "can", "value": 0.83, "evaluations": 4, "score": 1.0,
                                               "weight": 0.75}, engine
            for other, other_criteria in ranked[1:]:  # the others have no evaluations: neutral, and no value
                assert other.performance is None and other.evaluations is None
                assert other_criteria["performance"]["value"] is None
                assert other_criteria["performance"]["score"] == NEUTRAL_SCORE
            assert [c.provider for c, _ in ranked[1:]] == [_provider("cheap"), _provider("middle")]
            # with no weight on performance the evaluation changes nothing: price alone ranks
            by_price = _ranked(workspace, {"price": 1.0}, engine)
            assert [c.provider for c, _ in by_price] == [_provider(n) for n in ("cheap", "middle", "dear")]
        assert answers["index"] == answers["sparql"]
    finally:
        changes = Changes()
        changes.drop_graph(PERFORMANCE_GRAPH)
        catalogue.commit(changes)


def test_only_the_performance_graph_counts_and_only_scores_from_0_to_1(catalogue):
    # a provider rating itself in its own service graph, and a score out of range, are not evaluations
    write(catalogue, service_graph(offer("cheap", 0)["id"]), _score_triples(_provider("cheap"), "1.0", "99"))
    write(catalogue, PERFORMANCE_GRAPH, _score_triples(_provider("middle"), "1.7", "2")
          + _score_triples(_provider("dear"), "0.5", None))
    try:
        found = provider_performance(catalogue)
        assert set(found) == {_provider("dear")}
        assert found[_provider("dear")].score == 0.5 and found[_provider("dear")].evaluations is None
    finally:
        changes = Changes()
        changes.drop_graph(PERFORMANCE_GRAPH)
        changes.update(f"DELETE WHERE {{ GRAPH <{service_graph(offer('cheap', 0)['id'])}> "
                       f"{{ ?s <{MAAS.performanceScore}> ?o }} }}")
        changes.update(f"DELETE WHERE {{ GRAPH <{service_graph(offer('cheap', 0)['id'])}> "
                       f"{{ ?s <{MAAS.evaluationCount}> ?o }} }}")
        catalogue.commit(changes)
