"""The match index against its reference, the must-criteria rule (queries/matching/must-criteria.rq).

A differential property test (Hypothesis): random sequences of publish / replace / withdraw on one catalogue, an
index that follows them through the catalogue's change record, and random products whose steps are matched both
ways; candidates (with their scores and values), near misses and failed criteria must be identical. Runs on every
store kind (the embedded store, an Oxigraph server, the SPARQL 1.1 forms of the rules). The full build, by scans of
the whole catalogue with TSV answers, is held equal to the build in batches column by column, bit set by bit set.
"""

from __future__ import annotations

import collections
import datetime
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import URIRef
from rdflib.namespace import RDFS

import numpy as np
import pyoxigraph as ox
import requests as http

from harness import PROVIDER, STORE_KINDS, fresh_store, running_service
from maas_kg import knowledge
from maas_kg.catalogue import publish, service_graph, withdraw
from maas_kg.knowledge import rules
from maas_kg.matching import PERFORMANCE_GRAPH, Request, match_step, must_criteria_query
from maas_kg.matching.criteria import can_criteria, must_criteria, relax_hints
from maas_kg.matching import index as match_index
from maas_kg.matching.index import NUMERIC, OPERATORS, MatchIndex, catalogue_change_count
from maas_kg.matching.translation import RouteStep
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import Changes, OxigraphStore

TODAY = datetime.date(2026, 11, 22)
PROC, MAT, MAAS = knowledge.PROC, knowledge.MAT, knowledge.MAAS
PROCESSES = ["Turning", "CNCTurning", "CylindricalGrinding", "SurfaceGrinding", "Milling", "FiveAxisMilling",
             "BendingLinearTool", "LaserBeamCutting", "PowderCoating"]
MATERIALS = ["42CrMo4", "C45", "S235JR", "EN AW-6082", "Steel", "aluminium alloy"]
MATERIAL_CLASSES = [MAT.Steel, MAT.C45, MAT.AluminiumAlloy, MAT.Steel42CrMo4, MAT.S235JR]
CERTS = ["ISO 9001", "ISO 14001", "IATF 16949", "AS9100"]
CERT_IRIS = [str(MAAS.ISO9001), str(MAAS.ISO14001), str(MAAS.IATF16949), str(MAAS.AS9100)]
SHAPES = [str(MAAS.RotationalShape), str(MAAS.PrismaticShape), str(MAAS.SheetShape)]
REQUIRED = ["Turning", "GrindingRotatingTool", "Milling", "PowderCoating", "BendingForming", "LaserBeamCutting"]
POOL = 24  # service IRIs are drawn from a small pool, so publishing again replaces


def _iri(index: int) -> str:
    return f"https://w3id.org/maas-kg/id/diff/service/{index}"


providers = st.builds(
    lambda i, lat, lon, certs: {"id": f"https://w3id.org/maas-kg/id/diff/provider/{i}", "name": f"Provider {i}",
                                "country": "DE", "location": {"lat": lat, "lon": lon}, "certifications": certs},
    st.integers(0, 5), st.sampled_from([48.1, 50.0, 52.5, 53.55]), st.sampled_from([8.0, 11.6, 13.4, 10.0]),
    st.lists(st.sampled_from(CERTS), unique=True, max_size=3))


@st.composite
def services(draw, index: int | None = None):
    service = {
        "id": _iri(draw(st.integers(0, POOL - 1)) if index is None else index),
        "name": "a service",
        "provider": draw(providers),
        "process": str(PROC[draw(st.sampled_from(PROCESSES))]),
        "materials": draw(st.lists(st.sampled_from(MATERIALS), min_size=1, max_size=3, unique=True)),
        "envelope_mm": draw(st.lists(st.sampled_from([50, 100, 300, 600, 1200]), min_size=3, max_size=3)),
        "batch_size": sorted(draw(st.lists(st.sampled_from([1, 10, 100, 1000, 10000]), min_size=2, max_size=2))),
        "capacity_per_week": draw(st.sampled_from([0.3, 7, 12.5, 50, 200, 1000])),
        "lead_time_days": draw(st.integers(1, 40)),
        "price": {"currency": draw(st.sampled_from(["EUR", "CHF", "PLN"])), "setup": draw(st.integers(0, 900)),
                  "unit": draw(st.sampled_from([1.5, 12.25, 90]))},
    }
    if draw(st.booleans()):  # a cost model prices the part where the product states its measures
        service["cost_model"] = {"machine_hour_rate": draw(st.sampled_from([40, 85.5, 120])),
                                 "currency": draw(st.sampled_from(["EUR", "CHF"])),
                                 **({"setup_hours": draw(st.sampled_from([0, 0.5, 2]))} if draw(st.booleans()) else {})}
    if draw(st.booleans()):
        service["tolerance_mm"] = draw(st.sampled_from([0.005, 0.01, 0.02, 0.05, 0.1]))
    if draw(st.booleans()):
        service["it_grade"] = draw(st.integers(5, 12))
    if draw(st.booleans()):
        service["roughness_ra_um"] = draw(st.sampled_from([0.2, 0.4, 0.8, 1.6, 3.2]))
    if draw(st.booleans()):
        service["max_mass_kg"] = draw(st.sampled_from([5, 50, 500]))
    if draw(st.booleans()):
        service["valid_until"] = (TODAY + datetime.timedelta(days=draw(st.sampled_from([-10, 0, 30])))).isoformat()
    if draw(st.booleans()):
        service["valid_from"] = (TODAY + datetime.timedelta(days=draw(st.sampled_from([-30, 0, 5])))).isoformat()
    return service


operations = st.lists(st.one_of(st.tuples(st.just("publish"), st.lists(services(), min_size=1, max_size=6)),
                                st.tuples(st.just("withdraw"), st.integers(0, POOL - 1))), min_size=1, max_size=5)


def _sometimes(values):
    """A constraint the product states one time in three (most products must find candidates)."""
    return st.one_of(st.none(), st.none(), values)


@st.composite
def requests(draw):
    material = draw(st.sampled_from(MATERIAL_CLASSES))
    accepted = {str(c) for c in knowledge.ontology_graph().transitive_objects(URIRef(material), RDFS.subClassOf)}
    edges = sorted(draw(st.lists(st.sampled_from([20.0, 99.5, 100.0, 300.0, 700.0]), min_size=3, max_size=3)),
                   reverse=True)
    due = draw(_sometimes(st.integers(0, 90)))
    delivery = draw(_sometimes(st.tuples(st.sampled_from([48.1, 51.0]), st.sampled_from([8.0, 11.6]))))
    return Request(
        "urn:x:product", material, draw(st.sampled_from(SHAPES)), draw(st.sampled_from([1, 10, 50, 500, 5000])),
        tuple(edges), draw(_sometimes(st.sampled_from([1.0, 5.0, 60.0]))),
        draw(_sometimes(st.sampled_from([0.01, 0.02, 0.1]))), draw(_sometimes(st.sampled_from([0.4, 1.6]))),
        tuple(sorted(draw(_sometimes(st.lists(st.sampled_from(CERT_IRIS), unique=True, max_size=2))) or ())),
        tuple(sorted(accepted)),
        delivery, draw(st.none() | st.sampled_from([100.0, 250.0, 700.0])) if delivery else None,
        TODAY + datetime.timedelta(days=due) if due is not None else None, TODAY,
        {"price": 0.4, "lead_time": 0.2, "distance": 0.15, "co2": 0.1, "capacity": 0.1, "certifications": 0.05,
         "performance": draw(st.sampled_from([0.0, 0.3]))},
        0.1, draw(_sometimes(st.sampled_from([
            {"stock_removal_mm3": 50000.0, "area_mm2": 20000.0},
            {"volume_mm3": 30000.0, "cut_length_mm": 800.0, "thickness_mm": 2.0, "bends": 2.0},
            {"volume_mm3": 5000.0}]))) or {})


def _answer(step_match) -> tuple:
    return ([(c.service, c.score, c.quote, c.currency, c.quote_basis, c.quote_eur, c.delivery_days, c.distance_km, c.extra_certifications,
              c.performance, c.evaluations, tuple(sorted(c.passed.items()))) for c in step_match.candidates],
            [(c.service, tuple(c.failed)) for c in step_match.near_misses])


def _baseline(rng: random.Random, index: int) -> dict:
    """A seeded service of the same kinds the strategy draws, for the catalogue the random operations change."""
    return {
        "id": _iri(POOL + 100 + index), "name": "a baseline service",
        "provider": {"id": f"https://w3id.org/maas-kg/id/diff/provider/b{index % 7}", "name": "B", "country": "DE",
                     "location": {"lat": rng.choice([48.1, 50.0, 52.5, 53.55]), "lon": rng.choice([8.0, 11.6, 13.4])},
                     "certifications": rng.sample(CERTS, k=rng.randint(0, 3))},
        "process": str(PROC[rng.choice(PROCESSES)]), "materials": rng.sample(MATERIALS, k=rng.randint(1, 3)),
        "envelope_mm": [rng.choice([50, 100, 300, 600, 1200]) for _ in range(3)],
        "batch_size": sorted([rng.choice([1, 10, 100]), rng.choice([100, 1000, 10000])]),
        "capacity_per_week": rng.choice([0.3, 7, 12.5, 50, 200, 1000]), "lead_time_days": rng.randint(1, 40),
        "price": {"currency": rng.choice(["EUR", "CHF", "PLN"]), "setup": rng.randint(0, 900), "unit": 12.25},
        **({"cost_model": {"machine_hour_rate": rng.choice([40, 85.5, 120]), "currency": rng.choice(["EUR", "CHF"])}}
           if rng.random() < 0.4 else {}),
        **({"tolerance_mm": rng.choice([0.005, 0.02, 0.1])} if rng.random() < 0.6 else {}),
        **({"it_grade": rng.randint(5, 12)} if rng.random() < 0.5 else {}),
        **({"roughness_ra_um": rng.choice([0.2, 0.8, 3.2])} if rng.random() < 0.6 else {}),
        **({"max_mass_kg": rng.choice([5, 50, 500])} if rng.random() < 0.6 else {}),
        **({"valid_until": (TODAY + datetime.timedelta(days=rng.choice([-10, 0, 30]))).isoformat()}
           if rng.random() < 0.4 else {}),
    }


@pytest.fixture(scope="module", params=STORE_KINDS)
def catalogue(request, tmp_path_factory):
    with fresh_store(request.param, tmp_path_factory.mktemp("diff")) as store:
        rng = random.Random(5)
        results = publish(store, json.dumps([_baseline(rng, i) for i in range(80)]).encode(), "json")
        assert all(r.published for r in results), [r.violations for r in results if not r.published][:1]
        # some baseline providers and one the strategy draws are evaluated: both engines rank with the same scores
        evaluated = Changes()
        evaluated.insert(PERFORMANCE_GRAPH, [
            (ox.NamedNode(f"https://w3id.org/maas-kg/id/diff/provider/{name}"), ox.NamedNode(MAAS[prop]),
             ox.Literal(value, datatype=ox.NamedNode(f"http://www.w3.org/2001/XMLSchema#{datatype}")))
            for name, score, count in (("b0", "0.9", "3"), ("b3", "0.35", "1"), ("2", "0.6", "5"))
            for prop, value, datatype in (("performanceScore", score, "decimal"), ("evaluationCount", count, "integer"))])
        store.commit(evaluated)
        yield store


def test_every_declared_comparison_has_an_operator(catalogue):
    declared = must_criteria(catalogue)
    assert [c.name for c in declared][:3] == ["shape", "material", "envelope"]
    assert {c.comparison for c in declared} <= set(OPERATORS), "declare an operator for each maas:comparison"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(ops=operations, products=st.lists(requests(), min_size=1, max_size=3), required_it=st.none() | st.integers(6, 9))
def test_the_index_answers_as_the_rule_does(catalogue, ops, products, required_it):
    index = _INDEXES.setdefault(id(catalogue), MatchIndex(follow_interval=0))
    for op, value in ops:
        if op == "publish":
            publish(catalogue, json.dumps(value).encode(), "json")
        else:
            try:
                withdraw(catalogue, _iri(value))
            except Exception:  # not published, or withdrawn already: nothing changes
                pass
    index.follow(catalogue)
    criteria = must_criteria(catalogue)
    for request in products:
        for required in REQUIRED:
            for sets_surface in (False, True):
                step = RouteStep(str(PROC[required]), "step", (), sets_surface)
                by_rule = match_step(catalogue, request, step, required_it=required_it, criteria=criteria)
                by_index = match_step(catalogue, request, step, required_it=required_it, criteria=criteria,
                                      index=index)
                assert _answer(by_index) == _answer(by_rule), (required, sets_surface, request)
                _SEEN["candidates"] += len(by_rule.candidates)
                _SEEN["cost model"] += sum(c.quote_basis == "cost model" for c in by_rule.candidates)
                _SEEN["evaluated"] += sum(c.performance is not None for c in by_rule.candidates)
                _SEEN.update(name for miss in by_rule.near_misses for name in miss.failed)


_SEEN: collections.Counter = collections.Counter()


_INDEXES: dict[int, MatchIndex] = {}


def test_the_property_test_compared_real_answers(catalogue):
    # not vacuous: the random catalogues gave candidates, and near misses failing most criteria
    names = [c.name for c in must_criteria(catalogue)]
    assert _SEEN["candidates"] > 0 and _SEEN["evaluated"] > 0 and _SEEN["cost model"] > 0, dict(_SEEN)
    assert sum(1 for name in names if _SEEN[name]) >= len(names) - 2, dict(_SEEN)


def test_a_fresh_index_equals_one_that_followed(catalogue):
    followed = _INDEXES.get(id(catalogue))
    if followed is None:
        pytest.skip("the property test made no index on this store")
    fresh = MatchIndex()
    fresh.follow(catalogue)
    assert fresh.size == followed.size
    assert fresh.services() == followed.services()


def test_the_rule_projects_every_declared_criterion(catalogue):
    request = Request("urn:x:p", str(MAT.C45), SHAPES[0], 1, (1.0, 1.0, 1.0), None, None, None, (), (str(MAT.C45),),
                      None, None, None, TODAY, {}, 0.1)
    projected = {v.value for v in ox.Store().query(must_criteria_query(request, str(PROC.Turning), True, None)).variables}
    assert {c.name for c in must_criteria(catalogue)} <= projected


def test_relax_hints_come_from_the_ontology(catalogue):
    english, german = relax_hints(catalogue, "en"), relax_hints(catalogue, "de")
    assert set(english) == {c.name for c in must_criteria(catalogue)} and all(english.values())
    assert english["due_date"] == "a later due date" and german["due_date"] == "einen späteren Liefertermin"
    assert relax_hints(catalogue, "fr") == english  # a language without hints falls back to English


def test_the_change_record_counts_each_write(catalogue):
    first = catalogue_change_count(catalogue)
    service = {"id": _iri(POOL + 1), "name": "counted", "provider": {"id": f"{PROVIDER}", "name": "P", "country": "DE",
               "location": {"lat": 50.0, "lon": 8.0}}, "process": str(PROC.Turning), "materials": ["C45"],
               "envelope_mm": [100, 100, 100], "batch_size": [1, 10], "capacity_per_week": 5, "lead_time_days": 3,
               "price": {"currency": "EUR", "setup": 1, "unit": 1}}
    publish(catalogue, json.dumps(service).encode(), "json")
    withdraw(catalogue, service["id"])
    assert catalogue_change_count(catalogue) == first + 2
    change = f"https://w3id.org/maas-kg/catalogue/change/{first + 2}"
    rows = rules.select(catalogue, "matching/changes-since.rq", CHANGES=rules.values(["changeSet"], [[change]]))
    assert [r["service"].value for r in rows] == [service["id"]]


MILLED = {"id": "https://w3id.org/maas-kg/id/product/index-follow", "name": "bracket", "material": "42CrMo4",
          "shape": "prismatic", "envelope_mm": [100, 80, 50], "mass_kg": 1.0, "quantity": 50,
          "delivery": {"lat": 48.78, "lon": 9.18, "max_distance_km": 800, "due": "2027-04-30"}}


def test_a_change_through_one_worker_reaches_every_worker(tmp_path):
    """Two gunicorn workers, each with its index: a service published through one is matched by both as soon as the
    write has returned (every match looks at the change record); withdrawn, it leaves both at once."""
    with running_service(tmp_path, providers=15) as service:
        base, provider = service["base"], {"Authorization": f"Bearer {service['provider']}"}
        weber = json.loads((Path(__file__).parent / "data" / "service-weber.json").read_text())

        def matched() -> set[str]:
            answer = http.post(f"{base}/match?today=2026-11-22&top=1000", data=json.dumps(MILLED), timeout=120,
                               headers={"Content-Type": "application/json"})
            assert answer.status_code == 200, answer.text
            return {found["service"] for route in answer.json()["routes"] for step in route["steps"]
                    for found in step["candidates"] + step["near_misses"]}

        for _ in range(6):  # both workers answer some, and build their index
            assert weber["id"] not in matched()
        created = http.post(f"{base}/services", data=json.dumps(weber), timeout=120,
                            headers={**provider, "Content-Type": "application/json"})
        assert created.status_code == 201, created.text
        assert all(weber["id"] in matched() for _ in range(8))
        assert http.delete(base + created.headers["Location"], headers=provider, timeout=60).status_code == 200
        assert not any(weber["id"] in matched() for _ in range(8))


def test_a_snapshot_loads_to_the_same_index_and_follows_from_its_change(catalogue, tmp_path):
    saved = MatchIndex(follow_interval=0)
    saved.follow(catalogue)
    path = tmp_path / "index.npz"
    saved.save(path)
    extra = _baseline(random.Random(11), 500)
    publish(catalogue, json.dumps(extra).encode(), "json")
    loaded = MatchIndex.opened(path, follow_interval=0)
    assert loaded.change_count == saved.change_count and loaded.size == saved.size
    assert loaded.cost_models == saved.cost_models and loaded.cost_models  # the cost models beside the columns
    loaded.follow(catalogue)  # only the change since the snapshot is read
    assert extra["id"] in loaded.services() and loaded.size == saved.size + 1
    saved.follow(catalogue)
    request = Request("urn:x:p", str(MAT.C45), SHAPES[0], 10, (10.0, 10.0, 10.0), None, None, None, (),
                      tuple(sorted({str(c) for c in knowledge.ontology_graph().transitive_objects(
                          URIRef(MAT.C45), RDFS.subClassOf)})), None, None, None, TODAY, {"price": 1.0}, 0.1,
                      {"volume_mm3": 500.0})
    for required in REQUIRED:
        step = RouteStep(str(PROC[required]), "step", (), True)
        assert _answer(match_step(catalogue, request, step, index=loaded)) == \
            _answer(match_step(catalogue, request, step, index=saved))


def test_a_snapshot_of_another_store_is_not_followed(catalogue, tmp_path):
    # the other store has seen more changes than this snapshot: by its count alone the snapshot would look like an
    # earlier state of it and only the changes since would be read
    saved = MatchIndex(follow_interval=0)
    saved.follow(catalogue)
    assert saved.catalogue is not None
    path = tmp_path / "index.npz"
    saved.save(path)
    other = OxigraphStore(None)
    sync_ontology(other)
    for number in range(saved.change_count + 1):
        publish(other, json.dumps(_baseline(random.Random(number), 900 + number)).encode(), "json")
    assert catalogue_change_count(other) > saved.change_count
    loaded = MatchIndex.opened(path, follow_interval=0)
    assert loaded.catalogue == saved.catalogue
    loaded.follow(other)
    assert loaded.catalogue != saved.catalogue
    assert set(loaded.services()) == {_iri(POOL + 1000 + number) for number in range(saved.change_count + 1)}


@pytest.mark.parametrize("content", [b"", b"not a snapshot", b"PK\x03\x04 broken zip"])
def test_a_damaged_snapshot_is_built_again(tmp_path, content):
    path = tmp_path / "index.npz"
    path.write_bytes(content)
    assert MatchIndex.load(path) is None
    index = MatchIndex.opened(path)
    assert index.change_count is None and index.snapshot == path  # builds on first use, then saves over it


def test_answers_are_bounded_with_counts_and_relaxations(tmp_path):
    """The contract: per step the best `top` candidates with their count, 10 near misses with their count, and what
    relaxing each failed criterion admits; all=true pages through every one."""
    with running_service(tmp_path, providers=40) as service:
        base = service["base"]
        product = (Path(__file__).parents[1] / "examples" / "products" / "turned-ground-shaft.json").read_bytes()

        def answer(**params):
            response = http.post(f"{base}/match", params={"today": "2026-11-22", **params}, data=product,
                                 headers={"Content-Type": "application/json"}, timeout=120)
            assert response.status_code == 200, response.text
            return response.json()

        default, short_answer, everything = answer(), answer(top=2), answer(all="true")
        all_steps = [s for r in everything["routes"] for s in r["steps"]]
        assert any(s["candidate_count"] > 2 for s in all_steps) and any(s["near_miss_count"] > 10 for s in all_steps)
        for step in (s for r in default["routes"] for s in r["steps"]):
            assert len(step["candidates"]) == min(20, step["candidate_count"])
        for short, full in zip([s for r in short_answer["routes"] for s in r["steps"]], all_steps, strict=True):
            assert len(short["candidates"]) == min(2, short["candidate_count"])
            assert len(short["near_misses"]) == min(10, short["near_miss_count"])
            assert len(full["candidates"]) == full["candidate_count"] == short["candidate_count"]
            assert len(full["near_misses"]) == full["near_miss_count"] == short["near_miss_count"]
            assert short["candidates"] == full["candidates"][:2]  # scores normalised over all, whatever the page
            assert sum(r["services"] for r in short["relaxations"]) == short["near_miss_count"]
            for relax in short["relaxations"]:
                if "smallest" in relax:
                    assert relax["smallest"]["admits"] <= relax["all"]["admits"] <= relax["services"]
        page = answer(all="true", offset=5, limit=3)
        for full, paged in zip(all_steps, [s for r in page["routes"] for s in r["steps"]]):
            assert paged["candidates"] == full["candidates"][5:8]
        assert http.post(f"{base}/match?top=1001", data=product, timeout=60,
                         headers={"Content-Type": "application/json"}).status_code == 400
        assert http.post(f"{base}/match?engine=rdflib", data=product, timeout=60,
                         headers={"Content-Type": "application/json"}).status_code == 400
        by_rule = answer(engine="sparql", all="true")
        assert [[{c["service"] for c in s["candidates"]} for s in r["steps"]] for r in by_rule["routes"]] == \
            [[{c["service"] for c in s["candidates"]} for s in r["steps"]] for r in everything["routes"]]


def test_can_criteria_rank_as_the_ontology_declares(catalogue):
    declared = {c.name: c for c in can_criteria(catalogue)}
    assert {n for n, c in declared.items() if c.lower_is_better} == {"price", "lead_time", "distance", "co2"}
    assert {n for n, c in declared.items() if not c.lower_is_better} == {"capacity", "certifications", "performance"}
    assert declared["lead_time"].unit == "days" and declared["performance"].unit is None


def _contents(index: MatchIndex) -> dict[str, tuple]:
    """Everything the index holds of each live service, by its IRI, whatever its row and its codes: every numeric
    column bit for bit (NaN where absent), the process and currency, the materials and certifications its bit sets
    hold, its graph, provider and order key."""
    def held(bits, codes) -> frozenset:
        return frozenset(codes.iri[64 * word + bit] for word in range(len(bits)) for bit in range(64)
                         if int(bits[word]) >> bit & 1)

    contents = {}
    for service, at in index._row.items():
        assert index.alive[at] and index.service[at] == service
        contents[service] = (tuple(index.num[name][at].tobytes() for name in NUMERIC),
                             index.processes.iri[index.process[at]], index.currencies.iri[index.currency[at]],
                             held(index.material_bits[at], index.materials),
                             held(index.certification_bits[at], index.certifications),
                             index.graph[at], index.provider[at], int(index.order_key[at]))
    assert len(contents) == index.size == int(index.alive[:index._used].sum())
    return contents


ODD = [f"https://w3id.org/maas-kg/id/diff/service/{name}" for name in ("with,comma", "fräsen-ß", "q'uote;semi")]
# values the shapes would refuse, written directly (as an administrator may): each kind of term the answers hold
XSD = "http://www.w3.org/2001/XMLSchema#"
ODD_VALUES = [("maxPartMass", f'"5e1"^^<{XSD}double>'), ("leadTimeDays", f'"12"^^<{XSD}integer>'),
              ("achievableRoughness", '"0.8"'), ("validUntil", f'"2027-01-31T12:00:00Z"^^<{XSD}dateTime>'),
              ("validFrom", '"not a day"'), ("achievableTolerance", '"x\\"y\\tz"'), ("maxPartMass", "_:mass"),
              ("achievableITGrade", "<https://example.org/grade/7>"), ("achievableTolerance", '"0.05"@en')]


def test_the_scan_builds_the_index_the_batches_build(catalogue, monkeypatch):
    """The full build reads the whole catalogue by three scans (index-scan-*.rq, TSV answers parsed a column at a
    time); it must give exactly what reading in batches (index-services.rq, index-terms.rq) gives: every column,
    bit set, IRI and order key of every service, and the same codes. On every store kind: the embedded store's own
    TSV, an Oxigraph server's streamed over HTTP, the SPARQL 1.1 forms."""
    rng = random.Random(17)
    odd = []
    for number, iri in enumerate(ODD):  # IRIs a CSV answer would break (Oxigraph leaves a comma in an IRI unquoted)
        service = {**_baseline(rng, 700 + number), "id": iri, "valid_from": "2026-11-01"}
        service["provider"] = {**service["provider"], "id": iri.replace("/service/", "/provider/"),
                               "certifications": ["ISO 9001", "AS9100"]}
        odd.append(service)
    extra = [_baseline(rng, 710 + number) for number in range(len(ODD_VALUES))]
    assert all(r.published for r in publish(catalogue, json.dumps(odd + extra).encode(), "json"))
    for service, (prop, value) in zip(extra, ODD_VALUES):
        graph, subject = service_graph(service["id"]), service["id"]
        catalogue.update(f"DELETE WHERE {{ GRAPH <{graph}> {{ <{subject}> <{MAAS}{prop}> ?old }} }} ;\n"
                         f"INSERT DATA {{ GRAPH <{graph}> {{ <{subject}> <{MAAS}{prop}> {value} }} }}")
    withdraw(catalogue, extra[0]["id"])
    monkeypatch.setattr(match_index, "SCAN_PIECE", 2048)  # many pieces, cut anywhere between rows
    scanned, batched = MatchIndex(), MatchIndex()
    scanned.rebuild(catalogue)
    batched.rebuild(catalogue, scan=False)
    assert scanned.build_stats["mode"] == "scan" and batched.build_stats["mode"] == "batches"
    assert scanned.build_stats["services_rows"] > 50 and scanned.build_stats["terms_rows"] > 200
    assert scanned.build_stats["options_rows"] == scanned.build_stats["services_rows"]
    contents = _contents(scanned)
    assert contents == _contents(batched)
    assert set(ODD) <= set(contents) and extra[0]["id"] not in contents and extra[1]["id"] in contents
    for codes in ("processes", "materials", "certifications", "currencies"):
        assert set(getattr(scanned, codes).iri) == set(getattr(batched, codes).iri), codes
    assert scanned.material_bits.shape[1] == batched.material_bits.shape[1]
    assert scanned.certification_bits.shape[1] == batched.certification_bits.shape[1]
    assert scanned.change_count == batched.change_count == catalogue_change_count(catalogue)
    # and it answers as the rule does
    request = Request("urn:x:p", str(MAT.C45), SHAPES[0], 10, (10.0, 10.0, 10.0), None, None, None, (),
                      tuple(sorted({str(c) for c in knowledge.ontology_graph().transitive_objects(
                          URIRef(MAT.C45), RDFS.subClassOf)})), None, None, None, TODAY, {"price": 1.0}, 0.1)
    for required in REQUIRED:
        step = RouteStep(str(PROC[required]), "step", (), True)
        assert _answer(match_step(catalogue, request, step, index=scanned)) == \
            _answer(match_step(catalogue, request, step, index=batched))


class _NoTsv:
    """A store that answers every query but in SPARQL JSON only, whatever is asked for."""

    raw_answers = True

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def raw_query(self, query, accept, **options):
        answer = http.Response()
        answer.status_code = 200
        answer.raw = io.BytesIO(b'{"head": {"vars": []}, "results": {"bindings": []}}')
        answer.headers["Content-Type"] = "application/sparql-results+json"
        return answer


def test_a_store_without_tsv_answers_is_read_in_batches(catalogue):
    index = MatchIndex()
    index.rebuild(_NoTsv(catalogue))
    assert index.build_stats["mode"] == "batches"
    scanned = MatchIndex()
    scanned.rebuild(catalogue)
    assert _contents(index) == _contents(scanned)


@pytest.mark.parametrize("term", [
    ox.NamedNode("https://example.org/a,b"), ox.NamedNode("https://example.org/fräse"), ox.BlankNode("b12"),
    ox.Literal("plain"), ox.Literal("a,b\tc\nd\re\"f\\g'h"), ox.Literal("é\u2028\x00\x1f"), ox.Literal("x", language="de"),
    ox.Literal("12", datatype=ox.NamedNode(XSD + "integer")), ox.Literal("-1.50", datatype=ox.NamedNode(XSD + "decimal")),
    ox.Literal("1.5E3", datatype=ox.NamedNode(XSD + "double")), ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean")),
    ox.Literal("2027-01-31", datatype=ox.NamedNode(XSD + "date")), ox.Literal('"', datatype=ox.NamedNode(XSD + "string"))])
def test_a_tsv_field_reads_as_the_term_it_writes(term):
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"), term))
    query = "SELECT ?o ?unbound WHERE { ?s ?p ?o }"
    written = store.query(query).serialize(format=ox.QueryResultsFormat.TSV)
    [[field, empty]] = [line.split("\t") for line in written.decode().split("\n")[1:] if line]
    [[value]] = [[solution["o"].value] for solution in store.query(query)]
    assert match_index._term_value(field) == value and match_index._term_value(empty) is None
    assert match_index.tsv_values([field]) == [value]
    expected = match_index._float(value)
    assert match_index._numbers([field]).tobytes() == np.float64(expected).tobytes()
    assert match_index._numbers([field], date=True).tobytes() == np.float64(match_index._day(value)).tobytes()
