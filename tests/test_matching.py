"""Matching: the must-criteria query against a plain-Python reference over random catalogues and products
(Hypothesis), near misses, can-criteria scores, orchestration and the output contract."""

from __future__ import annotations

import datetime
import json
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import URIRef
from rdflib.namespace import RDFS

from harness import STORE_KINDS, fresh_store
from maas_kg import geo, knowledge
from maas_kg.catalogue import publish, withdraw
from maas_kg.catalogue.ingest import read_input
from maas_kg.knowledge.graphs import DERIVED_GRAPH_BASE
from maas_kg.matching import match_product, match_step, must_names, read_request
from maas_kg.matching.orchestration import Option, best_assignments
from maas_kg.matching.products import submit_product
from maas_kg.matching.report import as_json
from maas_kg.matching.translation import RouteStep
from maas_kg.store import Changes

TODAY = datetime.date(2026, 11, 22)
PROC, MAT, MAAS = knowledge.PROC, knowledge.MAT, knowledge.MAAS
PROCESSES = ["Turning", "CNCTurning", "CylindricalGrinding", "SurfaceGrinding", "Milling", "FiveAxisMilling",
             "PowderCoating"]
MATERIALS = ["42CrMo4", "C45", "S235JR", "EN AW-6082", "Steel", "aluminium alloy"]
CERTS = ["ISO 9001", "ISO 14001", "IATF 16949", "AS9100"]
REQUIRED = ["Turning", "GrindingRotatingTool", "Milling", "PowderCoating"]


def random_provider(seed: int, index: int) -> dict:
    rng = random.Random(f"{seed}-{index}")  # one description per provider, shared by its services
    return {"id": f"https://w3id.org/maas-kg/id/test/provider/{index}", "name": f"Provider {index}", "country": "DE",
            "location": {"lat": round(rng.uniform(44, 56), 3), "lon": round(rng.uniform(0, 20), 3)},
            "certifications": rng.sample(CERTS, k=rng.randint(0, 3))}


def random_service(rng: random.Random, index: int, seed: int) -> dict:
    tolerance = rng.choice([0.005, 0.01, 0.02, 0.05, 0.1])
    return {
        "id": f"https://w3id.org/maas-kg/id/test/service/{index}",
        "name": f"service {index}",
        "provider": random_provider(seed, index % 23),
        "process": str(PROC[rng.choice(PROCESSES)]),
        "materials": rng.sample(MATERIALS, k=rng.randint(1, 3)),
        "envelope_mm": [rng.choice([100, 300, 600, 1200]) for _ in range(3)],
        "tolerance_mm": tolerance,
        "roughness_ra_um": rng.choice([0.2, 0.4, 0.8, 1.6, 3.2]),
        "batch_size": sorted([rng.choice([1, 10, 100]), rng.choice([100, 1000, 10000])]),
        "capacity_per_week": rng.choice([10, 50, 200, 1000]),
        "lead_time_days": rng.randint(3, 40),
        **({"max_mass_kg": rng.choice([5, 50, 500])} if rng.random() < 0.7 else {}),
        "price": {"currency": rng.choice(["EUR", "EUR", "CHF", "PLN"]), "setup": rng.randint(50, 900),
                  "unit": round(rng.uniform(1, 90), 2)},
        "valid_until": (TODAY + datetime.timedelta(days=rng.choice([-10, 30, 400]))).isoformat(),
    }


@pytest.fixture(scope="module", params=[(seed, kind) for seed in (7, 8) for kind in STORE_KINDS],
                ids=[f"catalogue-{seed}-{kind}" for seed in (7, 8) for kind in STORE_KINDS])
def catalogue(request, tmp_path_factory):
    seed, kind = request.param
    rng = random.Random(seed)
    services = [random_service(rng, i, seed) for i in range(90)]
    with fresh_store(kind, tmp_path_factory.mktemp("served")) as store:
        results = publish(store, json.dumps(services).encode(), "json")
        assert all(r.published for r in results), [r.violations for r in results if not r.published][:1]
        withdrawn = {services[0]["id"], services[1]["id"]}
        for service in withdrawn:
            withdraw(store, service)
        yield store, services, withdrawn


def _closure(cls) -> set[str]:
    return {str(c) for c in knowledge.ontology_graph().transitive_subjects(RDFS.subClassOf, cls)}


def _above(cls) -> set[str]:
    return {str(c) for c in knowledge.ontology_graph().transitive_objects(cls, RDFS.subClassOf)}


def reference(store, services, withdrawn, product: dict, required: str, sets_surface: bool) -> dict[str, list[str]]:
    """Plain Python: the must-criteria of every service of the required process; service -> failed criteria."""
    shapes = {}
    for row in store.select(f"SELECT ?p ?s WHERE {{ GRAPH <{DERIVED_GRAPH_BASE}profiles> {{ ?p <{MAAS}profileShape> ?s }} }}"):
        shapes.setdefault(row["p"].value, set()).add(row["s"].value.rsplit("#", 1)[1])
    resolve = read_input(json.dumps({"id": "urn:x:p", "name": "x", "material": product["material"], "shape": "rotational",
                                     "envelope_mm": [1, 1, 1], "quantity": 1}).encode(), "json", kind="product")
    material = next(t.object.value for t in resolve.triples if t.predicate.value == str(MAAS.material))
    product_edges = sorted(product["envelope_mm"], reverse=True)
    result = {}
    for service in services:
        if service["id"] in withdrawn or service["process"] not in _closure(PROC[required]):
            continue
        offered = read_input(json.dumps(service).encode(), "json")
        offered_materials = {t.object.value for t in offered.triples
                             if t.predicate.value == str(MAAS.material) and t.subject.value == service["id"]}
        envelope = sorted(service["envelope_mm"], reverse=True)
        lat, lon = service["provider"]["location"]["lat"], service["provider"]["location"]["lon"]
        distance = geo.distance_km(lat, lon, product["delivery"]["lat"], product["delivery"]["lon"])
        if abs(distance - product["delivery"]["max_distance_km"]) < 0.01:
            continue  # floating-point boundary: either answer is right
        days = (datetime.date.fromisoformat(product["delivery"]["due"]) - TODAY).days
        q = product["quantity"]
        process_shapes = shapes.get(service["process"], set())
        held = set(service["provider"]["certifications"])
        checks = {
            "shape": not process_shapes or f"{product['shape'].capitalize()}Shape" in process_shapes,
            "material": bool(_above(URIRef(material)) & offered_materials),
            "envelope": all(p <= e for p, e in zip(product_edges, envelope)),
            "mass": "max_mass_kg" not in service or product["mass_kg"] <= service["max_mass_kg"],
            "tolerance": not sets_surface or "tolerance_mm" not in product or service["tolerance_mm"] <= product["tolerance_mm"],
            "roughness": not sets_surface or "roughness_ra_um" not in product or service["roughness_ra_um"] <= product["roughness_ra_um"],
            "quantity": service["batch_size"][0] <= q <= service["batch_size"][1],
            "due_date": service["lead_time_days"] + 7 * math.ceil(q / service["capacity_per_week"]) <= days,
            "certifications": set(product["certifications"]) <= held,
            "distance": distance <= product["delivery"]["max_distance_km"],
            "valid": datetime.date.fromisoformat(service["valid_until"]) >= TODAY,
        }
        result[service["id"]] = sorted(name for name, ok in checks.items() if not ok)
    return result


products = st.fixed_dictionaries({
    "material": st.sampled_from(["42CrMo4", "C45", "S235JR", "EN AW-6082"]),
    "shape": st.sampled_from(["rotational", "prismatic"]),
    "envelope_mm": st.lists(st.sampled_from([20, 90, 250, 550, 1100]), min_size=3, max_size=3),
    "mass_kg": st.sampled_from([0.5, 20.0, 120.0]),
    "quantity": st.sampled_from([1, 5, 50, 300, 5000]),
    "certifications": st.lists(st.sampled_from(CERTS[:2]), max_size=2, unique=True),
    "delivery": st.fixed_dictionaries({"lat": st.floats(45, 55), "lon": st.floats(2, 18),
                                       "max_distance_km": st.sampled_from([150, 400, 900, 3000]),
                                       "due": st.sampled_from(["2026-12-10", "2027-01-31", "2027-06-30"])}),
}, optional={"tolerance_mm": st.sampled_from([0.008, 0.02, 0.1]),
             "roughness_ra_um": st.sampled_from([0.3, 0.8, 3.2])})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(product=products, required=st.sampled_from(REQUIRED), sets_surface=st.booleans())
def test_candidates_are_exactly_the_services_passing_every_must_criterion(catalogue, product, required, sets_surface):
    store, services, withdrawn = catalogue
    document = {"id": "https://w3id.org/maas-kg/id/test/product/p", "name": "random part", **product}
    normalised = read_input(json.dumps(document).encode(), "json", kind="product")
    changes = Changes()
    changes.replace_graph("https://w3id.org/maas-kg/graph/test/product",
                          [(t.subject, t.predicate, t.object) for t in normalised.triples])
    store.commit(changes)
    request = read_request(store, document["id"], today=TODAY)
    found = match_step(store, request, RouteStep(str(PROC[required]), str(MAAS.PrimaryRole), (), sets_surface))
    expected = reference(store, services, withdrawn, product, required, sets_surface)
    candidates = {c.service for c in found.candidates}
    for service in candidates:  # every returned candidate satisfies every must-criterion ...
        assert expected.get(service, []) == [], (service, expected.get(service))
    passing = {s for s, failed in expected.items() if not failed}
    assert passing <= candidates  # ... and none that satisfies them all is missing
    for miss in found.near_misses:  # near misses fail exactly one criterion, the same one as the reference
        assert miss.service not in withdrawn
        assert miss.failed == expected.get(miss.service, miss.failed) and len(miss.failed) == 1
    assert not candidates & withdrawn
    scores = [c.score for c in found.candidates]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), lengths=st.lists(st.integers(1, 4), min_size=1, max_size=3), k=st.integers(1, 4),
       days_available=st.one_of(st.none(), st.integers(0, 60)), weight=st.sampled_from([0.0, 0.25, 2.0]))
def test_orchestration_finds_the_k_best_assignments_of_a_brute_force_search(data, lengths, k, days_available, weight):
    import itertools

    options = [[Option(f"s{i}-{j}", data.draw(st.floats(0, 1)), data.draw(st.integers(1, 30)),
                       data.draw(st.floats(35, 60)), data.draw(st.floats(-5, 25))) for j in range(n)]
               for i, n in enumerate(lengths)]

    def total(chosen) -> float:
        score = sum(round(1000 * (1 - o.score)) for o in chosen)
        moves = sum(round(1000 * weight * geo.distance_km(a.lat, a.lon, b.lat, b.lon) / 1000)
                    for a, b in zip(chosen, chosen[1:]))
        return round((score + moves) / 1000, 4)

    feasible = sorted(total(c) for c in itertools.product(*options)
                      if days_available is None or sum(o.days for o in c) <= days_available)
    found = best_assignments(options, k=k, transport_weight=weight, days_available=days_available,
                             distance=geo.distance_km)
    assert [a.total for a in found] == feasible[:k]
    assert len({a.services for a in found}) == len(found)


def test_orchestration_returns_k_distinct_assignments_best_first_and_respects_the_due_date():
    options = [[Option("a", 0.9, 10, 48.0, 11.0), Option("b", 0.8, 5, 52.0, 13.0)],
               [Option("c", 0.7, 10, 48.1, 11.0), Option("d", 0.95, 30, 52.0, 13.0)]]
    found = best_assignments(options, k=4, transport_weight=0.3, distance=geo.distance_km)
    assert len({a.services for a in found}) == 4
    assert [a.total for a in found] == sorted(a.total for a in found)
    assert found[0].services == ("b", "d")  # close together and well scored
    within = best_assignments(options, k=4, transport_weight=0.3, distance=geo.distance_km, days_available=20)
    assert {a.services for a in within} == {("a", "c"), ("b", "c")} and all(a.days <= 20 for a in within)
    assert best_assignments(options, k=2, days_available=5) == []


@pytest.fixture(scope="module", params=STORE_KINDS)
def demo_store(request, tmp_path_factory):
    from maas_kg.catalogue.demo import generate_services

    with fresh_store(request.param, tmp_path_factory.mktemp("served")) as store:
        publish(store, json.dumps(list(generate_services(providers=120, seed=1))).encode(), "json")
        yield store


def test_every_store_gives_identical_matches(tmp_path):
    """The same demo catalogue in every store kind (embedded, Oxigraph server, SPARQL 1.1 rules): every example
    product gets the same routes, candidates, scores, near misses and assignments."""
    from pathlib import Path

    from maas_kg.catalogue.demo import generate_services

    demo = json.dumps(list(generate_services(providers=60, seed=3))).encode()
    examples = Path(__file__).parents[1] / "examples" / "products"
    outputs = []
    for kind in STORE_KINDS:
        with fresh_store(kind, tmp_path / kind) as store:
            assert all(r.published for r in publish(store, demo, "json"))
            outputs.append({path.name: as_json(store, match_product(store, submit_product(
                store, path.read_bytes(), "json"), today=TODAY), top=5) for path in sorted(examples.glob("*.json"))})
    first, *others = outputs
    assert any(route["steps"][0]["candidates"] for doc in first.values() for route in doc["routes"])
    for kind, output in zip(STORE_KINDS[1:], others):
        assert output == first, f"the {kind} store matches differently from the {STORE_KINDS[0]} store"


def test_shaft_matches_turning_and_grinding_services_with_the_output_contract(demo_store):
    from pathlib import Path

    data = (Path(__file__).parents[1] / "examples" / "products" / "turned-ground-shaft.json").read_bytes()
    product = submit_product(demo_store, data, "json")
    document = as_json(demo_store, match_product(demo_store, product, today=TODAY), top=3)
    route = document["routes"][0]
    assert route["rank"] == 1 and route["score"] > 0 and route["assignments"]
    assert [s["process"]["notation"] for s in route["steps"]] == ["3.2.1", "3.3.1"]
    candidate = route["steps"][0]["candidates"][0]
    assert set(candidate) >= {"service", "provider", "score", "quote", "distance_km", "lead_time_days", "criteria"}
    assert all(candidate["criteria"][name]["pass"] for name in must_names(demo_store))
    assert candidate["distance_km"] <= 800 and candidate["quote"]["currency"]
    assert len(route["steps"][0]["candidates"]) <= 3 <= route["steps"][0]["candidate_count"]
    assert all(len(m["failed"]) == 1 for s in route["steps"] for m in s["near_misses"])
    assert [a["total"] for a in route["assignments"]] == sorted(a["total"] for a in route["assignments"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), lengths=st.lists(st.integers(1, 5), min_size=2, max_size=3), k=st.integers(1, 4),
       days_available=st.one_of(st.none(), st.integers(0, 60)))
def test_the_solver_finds_the_totals_the_enumeration_finds(monkeypatch, data, lengths, k, days_available):
    # routes with more combinations than MAX_ENUMERATED go to CP-SAT: both must give the same k best totals
    from maas_kg.matching import orchestration

    options = [[Option(f"s{i}-{j}", data.draw(st.floats(0, 1)), data.draw(st.integers(1, 30)),
                       data.draw(st.floats(35, 60)), data.draw(st.floats(-5, 25))) for j in range(n)]
               for i, n in enumerate(lengths)]
    enumerated = best_assignments(options, k=k, transport_weight=0.25, days_available=days_available,
                                  distance=geo.distance_km)
    monkeypatch.setattr(orchestration, "MAX_ENUMERATED", 0)
    solved = best_assignments(options, k=k, transport_weight=0.25, days_available=days_available,
                              distance=geo.distance_km)
    assert [a.total for a in solved] == [a.total for a in enumerated]
