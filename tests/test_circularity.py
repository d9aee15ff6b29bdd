"""Circularity (issue 20): the Material Circularity Indicator against a worked example by hand; C1 on the `make run`
demo catalogue: the strategies the EoL ontology allows per example, providers that qualify, an ontology editor's
change to a strategy's processes, bad input named by field, nothing stored; C2: the components of a value chain
classified by the criticality rule, the remanufactured supply take-back offers them, bad requests named by field."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api import create_app
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services
from maas_kg.circularity.criticality import criticality
from maas_kg.circularity.criticality import read_request as criticality_request
from maas_kg.circularity.mci import Flows, linear_flow_index, mci
from maas_kg.circularity.planning import plan
from maas_kg.circularity.take_back import read_take_back
from maas_kg.execution.fields import FieldError
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.matching.workspace import Workspace
from maas_kg.store import Changes, open_store


def test_the_mci_of_a_worked_example():
    """By hand: M = 10 kg, 30 % recycled input, at the end of use 50 % recycled (80 % efficient) and 20 % reused,
    feedstock recycling 90 % efficient, average utility.
    V = 10 x 0.7 = 7; W_0 = 10 x 0.3 = 3; W_C = 10 x 0.2 x 0.5 = 1; W_F = 10 x 0.1 x 0.3 / 0.9 = 1/3;
    W = 3 + (1/3 + 1) / 2 = 11/3; LFI = (7 + 11/3) / (20 + (1/3 - 1) / 2) = (32/3) / (59/3) = 32/59;
    MCI = 1 - 0.9 x 32/59 = 0.51186..."""
    flows = Flows(10.0, recycled_input=0.3, collected_for_recycling=0.5, collected_for_reuse=0.2,
                  recycling_efficiency_end=0.8, recycling_efficiency_feedstock=0.9)
    assert linear_flow_index(flows) == pytest.approx(32 / 59)
    assert mci(flows) == pytest.approx(1 - 0.9 * 32 / 59)
    assert round(mci(flows), 4) == 0.5119


def test_a_linear_product_scores_a_tenth_and_a_reused_one_one():
    assert mci(Flows(5.0)) == pytest.approx(0.1)
    assert mci(Flows(5.0, reused_input=1.0, collected_for_reuse=1.0)) == pytest.approx(1.0)
    # twice the lifetime of the average halves the linear part
    assert mci(Flows(5.0, lifetime_ratio=2.0)) == pytest.approx(1 - 0.45)


@given(recycled=st.floats(0, 1), reuse=st.floats(0, 1), more=st.floats(0, 0.5))
def test_collecting_more_for_reuse_never_lowers_the_mci(recycled, reuse, more):
    base = Flows(3.0, recycled_input=recycled, collected_for_reuse=min(reuse, 1.0) * 0.5)
    better = Flows(3.0, recycled_input=recycled, collected_for_reuse=min(1.0, base.collected_for_reuse + more))
    assert mci(better) >= mci(base) - 1e-12


@pytest.mark.parametrize("flows", [dict(recycled_input=1.2), dict(recycled_input=0.6, reused_input=0.6),
                                   dict(collected_for_recycling=0.7, collected_for_reuse=0.5),
                                   dict(recycling_efficiency_end=0)])
def test_impossible_flows_are_refused(flows):
    with pytest.raises(ValueError):
        Flows(1.0, **flows)


# -- C1 on the `make run` demo catalogue ---------------------------------------------------------------------------

TAKE_BACK = Path(__file__).parents[1] / "examples" / "take-back"
TODAY = datetime.date(2026, 12, 6)
#: what the EoL ontology allows per example (condition grade -> strategies), written down by hand: welded, glued or
#: potted parts keep a product from remanufacturing and repurposing, which need it to come apart without damage
EXPECTED = {
    "industrial-gearbox": {"worn": {"repair", "refurbish", "remanufacture"},
                           "defective": {"repair", "remanufacture", "repurpose", "recycle"},
                           "scrap": {"recycle", "recover"}},
    "hydraulic-pump": {"good": {"reuse", "refurbish"}, "worn": {"repair", "refurbish", "remanufacture"},
                       "defective": {"repair", "remanufacture", "repurpose", "recycle"}, "scrap": {"recycle", "recover"}},
    "e-bike-drive-unit": {"worn": {"repair", "refurbish"}, "defective": {"repair", "recycle"},
                          "scrap": {"recycle", "recover"}},
    "office-chair": {"good": {"reuse", "refurbish"}, "worn": {"repair", "refurbish"}, "scrap": {"recycle", "recover"}},
}


def take_back(name: str) -> dict:
    return json.loads((TAKE_BACK / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("circularity")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    catalogue.publish(app.extensions["maas_kg"].catalogue, json.dumps(list(generate_services(300, 1))).encode(),
                      "json")
    return app


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_gets_the_strategies_the_ontology_allows_and_providers_that_qualify(app, name):
    store, workspace = app.extensions["maas_kg"].catalogue, app.extensions["maas_kg"].workspace
    document = take_back(name)
    result = plan(workspace, store, read_take_back(document, store), today=TODAY)
    assert {g["grade"]: set(g["strategies"]) for g in result["per_grade"]} == EXPECTED[name]
    for strategy in result["strategies"]:
        if not strategy["chain"]:
            assert any("no provider" in r or "orchestrated" in r for r in strategy["reasons"])
            continue
        for step, needed in zip(strategy["chain"]["services"], strategy["processes"]):
            # the provider's service is of the process the strategy needs (or a narrower one), within reach
            assert store.ask(f"""PREFIX maas: <https://w3id.org/maas-kg/ns#>
                PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
                ASK {{ <{step['service']}> maas:processType ?p . ?p rdfs:subClassOf* <{needed['process']}> }}""",
                             union_default_graph=True), (step, needed)
            assert step["distance_km"] is None or step["distance_km"] <= document["max_distance_km"] + 1e-6
    # every grade gets the most circular strategy that has providers (the ladder rank decides)
    for grade in result["per_grade"]:
        if grade["chosen"]:
            ranks = {s["label"]: s["ladder_rank"] for s in result["strategies"] if s["feasible_here"]}
            assert ranks[grade["chosen"]] == min(ranks[label] for label in grade["strategies"] if label in ranks)
    recycle = next(s for s in result["strategies"] if s["label"] == "recycle")
    assert recycle["feasible_here"] and recycle["mci"] > result["mci_if_landfilled"]


def test_an_ontology_editor_changes_a_strategys_processes_in_turtle(app):
    store = open_store("memory")
    sync_ontology(store)
    catalogue.publish(store, json.dumps(list(generate_services(300, 1))).encode(), "json")
    workspace = Workspace(store)
    document = take_back("industrial-gearbox")
    before = plan(workspace, store, read_take_back(document, store), today=TODAY)
    recycle = next(s for s in before["strategies"] if s["label"] == "recycle")
    assert "https://w3id.org/maas-kg/process#UltrasonicCleaning" not in [p["process"] for p in recycle["processes"]]
    changes = Changes()
    changes.update("""PREFIX maas: <https://w3id.org/maas-kg/ns#> PREFIX proc: <https://w3id.org/maas-kg/process#>
        INSERT DATA { GRAPH <https://w3id.org/maas-kg/ontology/end-of-life> {
            maas:R8Recycle maas:strategyNeedsProcess proc:UltrasonicCleaning } }""")
    store.commit(changes)
    after = plan(workspace, store, read_take_back(document, store), today=TODAY)
    recycle = next(s for s in after["strategies"] if s["label"] == "recycle")
    assert "https://w3id.org/maas-kg/process#UltrasonicCleaning" in [p["process"] for p in recycle["processes"]]
    assert recycle["chain"] is None or "https://w3id.org/maas-kg/process#UltrasonicCleaning" in \
        [s["process"] for s in recycle["chain"]["services"]]


@pytest.mark.parametrize("change,field", [
    (lambda d: d["components"][0].pop("material"), "components[0].material"),
    (lambda d: d["condition"][0].update(share=0.9), "condition"),
    (lambda d: d["condition"][0].update(grade="rusty"), "condition[0].grade"),
    (lambda d: d["components"][1].update(joining="taped"), "components[1].joining"),
    (lambda d: d.update(collection=[]), "collection"),
    (lambda d: d.update(yearly_returns=0), "yearly_returns")])
def test_a_bad_take_back_names_its_field(app, change, field):
    document = copy.deepcopy(take_back("industrial-gearbox"))
    change(document)
    with pytest.raises(FieldError) as raised:
        read_take_back(document, app.extensions["maas_kg"].catalogue)
    assert raised.value.field == field, str(raised.value)


def test_over_http_nothing_is_stored(app):
    store = app.extensions["maas_kg"].catalogue
    before = store.quad_count(), store.named_graphs()
    client = app.test_client()
    answer = client.post("/circularity/plan", json={**take_back("hydraulic-pump"), "today": "2026-12-06"})
    assert answer.status_code == 200, answer.json
    assert {s["label"] for s in answer.json["strategies"]} >= {"reuse", "recycle"}
    assert (store.quad_count(), store.named_graphs()) == before
    bad = client.post("/circularity/plan", json={**take_back("hydraulic-pump"), "condition": []})
    assert bad.status_code == 422 and bad.json["detail"].startswith("condition")
    assert client.post("/circularity/plan", data="{", content_type="application/json").status_code == 400


# -- C2: criticality and the supply take-back offers -----------------------------------------------------------

VALUE_CHAINS = Path(__file__).parents[1] / "examples" / "value-chains"
SHAFT, GEAR = "https://w3id.org/maas-kg/id/product/turned-ground-shaft", "https://w3id.org/maas-kg/id/product/hardened-gear"


def _criticality_request(supplies: list[dict], document: dict | None = None) -> dict:
    return {"value_chain": json.loads((VALUE_CHAINS / "gearbox.json").read_text()),
            "take_back": [{"document": document or take_back("industrial-gearbox"), "supplies": supplies}]}


def _expected_level(c: dict) -> str:
    # queries/circularity/criticality.rq, written out once more
    availability = 1.0 if c["qualified_alternatives"] == 0 else 0.7 if c["qualified_alternatives"] < 3 else \
        0.4 if c["qualified_alternatives"] < 10 else 0.1
    risk = min(1.0, availability + (0.2 if c["single_sourced"] else 0.0) + 0.1 * c["hhi_country"])
    assert c["supply_risk"] == pytest.approx(risk, abs=1e-3)
    if risk >= 0.7 or (risk >= 0.5 and c["importance"] >= 0.2):
        return "critical"
    return "watch" if risk >= 0.4 or c["importance"] >= 0.3 else "low"


def test_criticality_ranks_the_components_and_finds_remanufactured_supply(app):
    store, workspace = app.extensions["maas_kg"].catalogue, app.extensions["maas_kg"].workspace
    chain, sources = criticality_request(_criticality_request([
        {"component": "helical gears", "product": GEAR}, {"component": "input and output shafts", "product": SHAFT},
        {"component": "rolling bearings", "product": "Case-hardened spur gear"}]), store)
    result = criticality(workspace, store, chain, sources, today=TODAY)
    components = result["components"]
    assert len(components) == 3 and all(c["level"] == _expected_level(c) for c in components)
    order = {"critical": 0, "watch": 1, "low": 2}
    assert [order[c["level"]] for c in components] == sorted(order[c["level"]] for c in components)
    by_product = {c["product"]: c for c in components}
    gear = by_product[GEAR]["reman_supply"]
    # the gears come back by remanufacturing (intact components for their original function), never the bearings
    assert [s["component"] for s in gear] == ["helical gears"] and gear[0]["notation"] == "R6"
    stream = gear[0]
    assert 0 < stream["units_per_year"] <= 0.9 * 800 and stream["lead_time_days"] > 0 and stream["services"]
    assert stream["units_per_week"] == pytest.approx(stream["units_per_year"] / 52, abs=0.1)
    assert by_product[SHAFT]["reman_supply"][0]["component"] == "input and output shafts"
    assert not by_product["https://w3id.org/maas-kg/id/product/die-cast-housing"]["reman_supply"]


def test_a_part_that_does_not_come_apart_is_not_harvested(app):
    store, workspace = app.extensions["maas_kg"].catalogue, app.extensions["maas_kg"].workspace
    document = copy.deepcopy(take_back("industrial-gearbox"))
    gears = next(c for c in document["components"] if c["name"] == "helical gears")
    gears["joining"] = "welded"
    chain, sources = criticality_request(_criticality_request([{"component": "helical gears", "product": GEAR}],
                                                              document), store)
    result = criticality(workspace, store, chain, sources, today=TODAY)
    assert all(not c["reman_supply"] for c in result["components"])


@pytest.mark.parametrize("supplies,field", [
    ([{"component": "flux capacitor", "product": GEAR}], "take_back[0].supplies[0].component"),
    ([{"component": "helical gears", "product": "a product nobody makes"}], "take_back[0].supplies[0].product"),
    ([], "take_back[0].supplies")])
def test_a_bad_criticality_request_names_its_field(app, supplies, field):
    with pytest.raises(FieldError) as raised:
        criticality_request(_criticality_request(supplies), app.extensions["maas_kg"].catalogue)
    assert raised.value.field == field, str(raised.value)


def test_criticality_over_http_stores_nothing(app):
    store = app.extensions["maas_kg"].catalogue
    before = store.quad_count(), store.named_graphs()
    client = app.test_client()
    answer = client.post("/circularity/criticality", json={
        **_criticality_request([{"component": "helical gears", "product": GEAR}]), "today": "2026-12-06"})
    assert answer.status_code == 200, answer.json
    assert answer.json["critical_with_reman_supply"] in ([], ["Case-hardened spur gear"])
    assert (store.quad_count(), store.named_graphs()) == before
    bad = client.post("/circularity/criticality", json={"value_chain": {}})
    assert bad.status_code == 422 and bad.json["detail"].startswith("value_chain")


# -- CO2 avoided against making new (factors in ontology/materials.ttl and ontology/end-of-life.ttl) ----------------

def _strategy(result: dict, label: str) -> dict:
    return next(s for s in result["strategies"] if s["label"] == label)


def test_the_co2_a_strategy_avoids_is_worked_out_by_hand(app):
    """The hydraulic pump, remanufactured: the intact parts that are no wear parts are reused, pump body 1.6 kg and
    end covers 0.35 kg of EN AC-46000 (aluminium: virgin 15.1 kg CO2e/kg, IAI), the gear pair 0.9 kg of 16MnCr5
    (ferrous metals: virgin 2.89, ICE v2.0); the bearing bushes 0.3 kg of copper (virgin 3.81, recycled 0.84, ICE
    v2.0) are a wear part and recycled; the seals (TPU) are recycled too, but the ontology states no factor for TPU, so
    they count 0 and are named. Remanufacturing emits 0.64 of making new (of the reused mass only).
    Reused: 1.95 x 15.1 + 0.9 x 2.89 = 29.445 + 2.601 = 32.046; process: 0.64 x 32.046 = 20.50944;
    copper recycled: 0.3 x 0.8 x (3.81 - 0.84) = 0.24 x 2.97 = 0.7128;
    avoided 32.046 - 20.50944 + 0.7128 = 12.24936 kg a unit; worn 50 % + defective 25 % of 6000 returns = 4500
    units a year. Recycled instead: 1.95 x 0.8 x (15.1 - 0.76) + 0.9 x 0.8 x (2.89 - 0.47) + 0.7128
    = 22.3704 + 1.7424 + 0.7128 = 24.8256."""
    store, workspace = app.extensions["maas_kg"].catalogue, app.extensions["maas_kg"].workspace
    result = plan(workspace, store, read_take_back(take_back("hydraulic-pump"), store), today=TODAY)
    remanufacture = _strategy(result, "remanufacture")
    assert remanufacture["co2_avoided_kg_per_unit"] == pytest.approx(12.249, abs=1e-9)
    assert remanufacture["co2_avoided_kg_per_year"] == pytest.approx(round(12.24936 * 0.75 * 6000, 1))
    assert remanufacture["co2_materials_without_factor"] == ["TPU"]
    assert remanufacture["co2_materials_without_recycling_credit"] == []
    assert any("no emission factor stated for TPU" in r for r in remanufacture["reasons"])
    assert any("International Aluminium Institute" in s for s in remanufacture["co2_sources"])
    assert any("copper, type EU tube and sheet" in s for s in remanufacture["co2_sources"])
    assert any("Steinhilper" in s for s in remanufacture["co2_sources"])
    assert _strategy(result, "recycle")["co2_avoided_kg_per_unit"] == pytest.approx(24.826, abs=1e-9)
    assert _strategy(result, "recover")["co2_avoided_kg_per_unit"] == 0


def test_an_ontology_editor_changes_an_emission_factor_in_turtle():
    """A modified copy of materials.ttl (primary aluminium at 10.0 instead of 15.1 kg CO2e/kg) loaded in place of the
    module: the result follows without code. Recycled pump: 1.95 x 0.8 x (10.0 - 0.76) + 1.7424 + 0.7128 (copper)
    = 14.4144 + 1.7424 + 0.7128 = 16.8696."""
    import pyoxigraph as ox

    from maas_kg import knowledge

    store = open_store("memory")
    sync_ontology(store)
    workspace = Workspace(store)
    document = take_back("hydraulic-pump")
    before = _strategy(plan(workspace, store, read_take_back(document, store), today=TODAY), "recycle")
    text = (knowledge.ontology_dir() / "materials.ttl").read_text(encoding="utf-8")
    stated = 'maas:virginMaterialEmissions "15.1"^^xsd:decimal'
    assert stated in text
    edited = text.replace(stated, 'maas:virginMaterialEmissions "10.0"^^xsd:decimal')
    changes = Changes()
    changes.replace_graph(str(knowledge.module_graph_iri("materials")),
                          [(q.subject, q.predicate, q.object) for q in ox.parse(edited.encode(), format=ox.RdfFormat.TURTLE)])
    store.commit(changes)
    after = _strategy(plan(workspace, store, read_take_back(document, store), today=TODAY), "recycle")
    assert before["co2_avoided_kg_per_unit"] == pytest.approx(24.826, abs=1e-9)
    assert after["co2_avoided_kg_per_unit"] == pytest.approx(16.870, abs=1e-9)


def test_a_material_without_a_secondary_factor_earns_no_recycling_credit_and_is_named(app):
    """The office chair: PA6, PP and GFRP have a virgin factor (ICE v2.0: 9.14, 4.49, 8.10) but no secondary one, so
    recycling them earns no credit (counted 0, named), while reusing them counts their virgin factor.
    Recycled: steel (gas spring 1.3 + mechanism 4.5) x 0.8 x (2.89 - 0.47) + aluminium 3.0 x 0.8 x (15.1 - 0.76)
    = 5.8 x 0.8 x 2.42 + 3.0 x 0.8 x 14.34 = 11.2288 + 34.416 = 45.6448.
    Reused (the castors, PA6, and the gas spring are wear parts and recycled): base 2.4 x 8.10 (GFRP) + mechanism
    4.5 x 2.89 + seat shell 4.0 x 4.49 (PP) + backrest frame 3.0 x 15.1 = 19.44 + 13.005 + 17.96 + 45.3 = 95.705;
    gas spring recycled 1.3 x 0.8 x 2.42 = 2.5168; castors 0; no process emissions stated for reuse: 98.2218."""
    store, workspace = app.extensions["maas_kg"].catalogue, app.extensions["maas_kg"].workspace
    result = plan(workspace, store, read_take_back(take_back("office-chair"), store), today=TODAY)
    recycle = _strategy(result, "recycle")
    assert recycle["co2_avoided_kg_per_unit"] == pytest.approx(45.645, abs=1e-9)
    assert recycle["co2_materials_without_factor"] == []
    assert recycle["co2_materials_without_recycling_credit"] == ["GFRP", "PA6", "PP"]
    assert any("recycling credit unknown for GFRP, PA6, PP" in r and "counted as 0 kg CO2e" in r
               for r in recycle["reasons"])
    reuse = _strategy(result, "reuse")
    assert reuse["co2_avoided_kg_per_unit"] == pytest.approx(98.222, abs=1e-9)
    assert reuse["co2_materials_without_recycling_credit"] == ["PA6"]
    assert any("polypropylene, subtype injection moulding" in s for s in reuse["co2_sources"])


def test_every_emission_factor_in_the_ontology_has_a_source_and_a_date():
    from maas_kg import knowledge

    unsourced = knowledge.ontology_graph().query("""
        PREFIX maas: <https://w3id.org/maas-kg/ns#> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?factor WHERE {
          { ?factor a maas:MaterialEmissionFactor } UNION { ?factor a maas:StrategyEmissionFactor }
          FILTER NOT EXISTS { ?factor dcterms:source ?source ; dcterms:date ?date }
        }""")
    assert not list(unsourced)
    stated = knowledge.ontology_graph().query("""
        PREFIX maas: <https://w3id.org/maas-kg/ns#>
        SELECT ?factor WHERE { ?factor maas:virginMaterialEmissions|maas:secondaryMaterialEmissions
                                       |maas:processEmissionsShareOfNew|maas:processEmissionsPerKg ?value .
                               FILTER NOT EXISTS { { ?factor a maas:MaterialEmissionFactor }
                                                   UNION { ?factor a maas:StrategyEmissionFactor } } }""")
    assert not list(stated), "an emission value stated outside an emission factor record has no source"


# -- take-back documents in RDF (issue 20) --------------------------------------------------------------------------

from maas_kg.resilience.value_chains import RdfDocument  # noqa: E402  (appended with the RDF tests)


def _take_back_turtle() -> bytes:
    return (TAKE_BACK / "industrial-gearbox.ttl").read_bytes()


def test_a_turtle_take_back_plans_like_its_json(app):
    state = app.extensions["maas_kg"]
    from_json = read_take_back(take_back("industrial-gearbox"), state.catalogue)
    from_turtle = read_take_back(RdfDocument(_take_back_turtle(), "turtle"), state.catalogue)
    assert (from_turtle.components, from_turtle.condition, from_turtle.collection, from_turtle.yearly_returns,
            from_turtle.lifetime_ratio, from_turtle.recycled_input) == \
        (from_json.components, from_json.condition, from_json.collection, from_json.yearly_returns,
         from_json.lifetime_ratio, from_json.recycled_input)
    day = datetime.date(2026, 12, 6)
    assert plan(state.workspace, state.catalogue, from_turtle, today=day) == \
        plan(state.workspace, state.catalogue, from_json, today=day)
    # plain JSON with the take-back context is JSON-LD that reads to the same take-back product
    import rdflib

    context = json.loads((Path(__file__).parents[1] / "ontology" / "context-take-back.jsonld").read_text())
    graph = rdflib.Graph().parse(data=json.dumps({**context, **take_back("industrial-gearbox")}), format="json-ld")
    from_jsonld = read_take_back(RdfDocument(graph.serialize(format="nt").encode(), "ntriples"), state.catalogue)
    assert sorted(from_jsonld.components, key=lambda c: c.name) == sorted(from_json.components, key=lambda c: c.name)
    assert sorted(from_jsonld.condition) == sorted(from_json.condition)
    assert (from_jsonld.yearly_returns, from_jsonld.max_distance_km, from_jsonld.mass_kg) == \
        (from_json.yearly_returns, from_json.max_distance_km, from_json.mass_kg)


@pytest.mark.parametrize("change, field", [
    (lambda t: t.replace("maas:returnShare 0.6", "maas:returnShare 0.5"), "condition"),
    (lambda t: t.replace("maas:componentMass 30.0 ;", ""), "components[0].mass_kg"),
    (lambda t: t.replace("a maas:TakeBack ;", "a maas:Product ;").replace("maas:hasTakeBackComponent", "maas:x"),
     "maas:TakeBack"),
    (lambda t: t.replace("maas:takeBackProduct", "maas:x"), "product"),
])
def test_a_bad_rdf_take_back_names_its_field(app, change, field):
    text = change(_take_back_turtle().decode())
    with pytest.raises(FieldError) as raised:
        read_take_back(RdfDocument(text.encode(), "turtle"), app.extensions["maas_kg"].catalogue)
    assert raised.value.field == field, str(raised.value)


def test_an_rdf_take_back_over_http(app):
    client = app.test_client()
    answer = client.post("/circularity/plan?today=2026-12-06", data=_take_back_turtle(), content_type="text/turtle")
    assert answer.status_code == 200, answer.json
    assert {s["label"] for s in answer.json["strategies"]} >= {"recycle"}
    broken = client.post("/circularity/plan", data=b"<a> <b> [ .", content_type="text/turtle")
    assert broken.status_code == 400 and "malformed turtle" in broken.json["detail"], broken.json


# -- the take-back product is SHACL-validated like everything else (shapes/take-back.ttl) --------------------------

def test_the_take_back_shapes_check_what_the_reader_writes(app):
    import dataclasses

    from maas_kg.circularity.take_back import _shapes, as_rdf
    from maas_kg.knowledge.validation import validate_data

    store = app.extensions["maas_kg"].catalogue
    for path in sorted(TAKE_BACK.glob("*.json")):
        taken = read_take_back(json.loads(path.read_text()), store)
        assert validate_data(as_rdf(taken), _shapes(), owned=True).conforms, path.name
    taken = read_take_back(json.loads((TAKE_BACK / "industrial-gearbox.json").read_text()), store)
    halved = dataclasses.replace(taken, condition=tuple((g, label, s / 2) for g, label, s in taken.condition))
    report = validate_data(as_rdf(halved), _shapes(), owned=True)
    assert [v.message for v in report.violations] == ["condition: the shares of the grades must sum to 100 % "
                                                      "(within 1 %)"]
    weightless = dataclasses.replace(taken, components=(dataclasses.replace(taken.components[0], mass_kg=0.0),
                                                        *taken.components[1:]))
    messages = {v.message for v in validate_data(as_rdf(weightless), _shapes(), owned=True).violations}
    assert messages == {"components[].mass_kg is required: the component's mass in kg, more than 0"}
    ungraded = dataclasses.replace(taken, condition=(("https://w3id.org/maas-kg/ns#NoSuchGrade", "x", 1.0),))
    messages = {v.message for v in validate_data(as_rdf(ungraded), _shapes(), owned=True).violations}
    assert any(m.startswith("condition[].grade") for m in messages)
