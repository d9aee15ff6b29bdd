"""Cost models and instant quotes (issue 22, activity 1.3): each time model of ontology/cost-models.ttl against a
hand calculation, the nearest process class and material group winning, a flat price quoting as before, errors
naming the field, and an ontology editor's change to a parameter in Turtle changing the quote without code."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib

from maas_kg import knowledge
from maas_kg.errors import Unprocessable
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.matching import costing
from maas_kg.store import Changes, open_store

P = "https://w3id.org/maas-kg/process#"
M = "https://w3id.org/maas-kg/material#"


@pytest.fixture(scope="module")
def store():
    opened = open_store("memory")
    sync_ontology(opened)
    return opened


def _terms(result: dict) -> dict[str, float]:
    return {t["name"]: t["minutes"] for t in result["time_per_part_min"]["terms"]}


# -- each formula against a hand calculation ---------------------------------------------------------------------

def test_removal_five_axis_milling_of_42crmo4_by_hand(store):
    """5-axis milling has no time model of its own: it quotes with milling's; 42CrMo4 is an alloy steel, so the
    steel removal rate (15 cm3/min) holds.
    removal 150000 mm3 = 150 cm3 / 15 cm3/min = 10 min; finishing 20000 mm2 = 200 cm2 / 50 cm2/min = 4 min;
    handling 1 min: 15 min per part. Setup 1.5 h (default) x 90 = 135; processing 15 / 60 x 90 x 5 = 112.5;
    total 135 + 112.5 = 247.5, 49.5 per part."""
    model = costing.time_model(store, P + "FiveAxisMilling", M + "Steel42CrMo4")
    assert (model.holder, model.formula) == (P + "Milling", "removal")
    result = costing.quote({"machine_hour_rate": 90, "currency": "EUR"}, model,
                           {"stock_removal_mm3": 150000, "area_mm2": 20000, "quantity": 5})
    assert _terms(result) == pytest.approx({"removal": 10.0, "finishing": 4.0, "handling": 1.0})
    assert result["time_per_part_min"]["value"] == pytest.approx(15.0)
    assert result["setup"]["value"] == pytest.approx(135.0)
    assert result["processing"]["value"] == pytest.approx(112.5)
    assert result["total"] == pytest.approx(247.5)
    assert result["per_part"] == pytest.approx(49.5)
    assert result["material"]["value"] is None and result["tooling"]["value"] is None
    removal = result["time_per_part_min"]["terms"][0]["how"]
    assert "material group Steel" in removal and "clevercalculator" in removal


def test_removal_stock_from_the_envelope_when_not_given(store):
    """Envelope 100 x 50 x 20 = 100000 mm3 less a 40000 mm3 part = 60000 mm3 = 60 cm3 / 15 cm3/min = 4 min;
    no area: no finishing term."""
    model = costing.time_model(store, P + "ThreeAxisMilling", M + "Steel")
    result = costing.quote({"machine_hour_rate": 60}, model,
                           {"envelope_mm": [100, 50, 20], "volume_mm3": 40000, "quantity": 1})
    assert _terms(result) == pytest.approx({"removal": 4.0, "finishing": 0.0, "handling": 1.0})
    assert "envelope box" in result["time_per_part_min"]["terms"][0]["how"]


def test_build_pbf_lb_m_by_hand(store):
    """12000 mm3 = 12 cm3 / 7.2 cm3/h x 60 = 100 min; 40 mm high / 0.02 mm = 2000 layers x 10 s = 20000 s =
    333.33 min, shared by 4 parts per build (the provider's value) = 83.33 min: 183.33 min per part.
    Setup 2 h x 60 = 120; processing 183.33 / 60 x 60 x 2 = 366.67; total 486.67."""
    model = costing.time_model(store, P + "LaserPowderBedFusion", M + "TitaniumAlloy")
    result = costing.quote({"machine_hour_rate": 60, "parameters": {"parts_per_build": 4}}, model,
                           {"volume_mm3": 12000, "envelope_mm": [60, 30, 40]}, quantity=2)
    assert _terms(result) == pytest.approx({"build": 100.0, "layers": 20000 / 60 / 4})
    assert result["time_per_part_min"]["value"] == pytest.approx(100 + 83.3333, abs=1e-3)
    assert result["setup"]["value"] == pytest.approx(120.0)
    assert result["processing"]["value"] == pytest.approx(366.667, abs=1e-3)
    assert result["total"] == pytest.approx(486.667, abs=1e-3)
    layers = result["time_per_part_min"]["terms"][1]["how"]
    assert "parts_per_build = 4 (the service's cost model)" in layers
    assert "EOS" in result["time_per_part_min"]["terms"][0]["how"]


def test_build_pbf_lb_p_has_its_own_model(store):
    """Polymer sintering: 30000 mm3 = 30 cm3 / 50 cm3/h x 60 = 36 min; 60 mm / 0.12 mm = 500 layers x 10 s =
    5000 s = 83.33 min / 20 parts per build = 4.1667 min."""
    model = costing.time_model(store, P + "SelectiveLaserSintering", M + "Polymer")
    result = costing.quote({"machine_hour_rate": 40}, model, {"volume_mm3": 30000, "envelope_mm": [80, 80, 60]},
                           quantity=1)
    assert _terms(result) == pytest.approx({"build": 36.0, "layers": 5000 / 60 / 20})


def test_cycle_injection_moulding_by_hand(store):
    """Cooling 1.6 s/mm2 x 2.5^2 mm2 = 10 s, rest of cycle 10 s, 2 cavities (the provider's value): 20 s / 2 =
    10 s = 0.16667 min per part. Setup 4 h x 50 = 200; processing 0.16667 / 60 x 50 x 10000 = 1388.89; mould
    10000 once (1 per part); material 0.02 kg x 2.5 /kg x 10000 = 500; total 200 + 1388.89 + 10000 + 500 =
    12088.89."""
    model = costing.time_model(store, P + "InjectionMoulding", M + "PP")
    result = costing.quote({"machine_hour_rate": 50, "currency": "EUR",
                            "parameters": {"cavities": 2, "material_price_per_kg": 2.5}}, model,
                           {"thickness_mm": 2.5, "mass_kg": 0.02, "quantity": 10000})
    assert _terms(result) == pytest.approx({"cooling": 10 / 2 / 60, "rest of cycle": 10 / 2 / 60})
    assert result["time_per_part_min"]["value"] == pytest.approx(1 / 6)
    assert result["setup"]["value"] == pytest.approx(200.0)
    assert result["processing"]["value"] == pytest.approx(1388.889, abs=1e-3)
    assert result["tooling"]["value"] == pytest.approx(10000.0)
    assert result["tooling"]["per_part"] == pytest.approx(1.0)
    assert result["material"]["value"] == pytest.approx(500.0)
    assert result["total"] == pytest.approx(12088.889, abs=1e-3)


def test_cycle_falls_back_to_the_minimum_wall_and_says_so(store):
    model = costing.time_model(store, P + "MetalInjectionMoulding", None)
    assert model.holder == P + "InjectionMoulding"
    result = costing.quote({"machine_hour_rate": 50}, model, {"min_wall_mm": 1.0}, quantity=100)
    assert _terms(result)["cooling"] == pytest.approx(1.6 / 60)
    assert "underestimates" in result["time_per_part_min"]["terms"][0]["how"]


def test_sheet_laser_cutting_by_hand(store):
    """2 mm sheet: 12000 mm2/min / 2 mm = 6000 mm/min; 1200 mm / 6000 = 0.2 min; 6 holes x 0.5 s = 3 s =
    0.05 min; handling 0.5 min: 0.75 min. The 4 bends are not the laser's: no bending term.
    Setup 0.25 h x 120 = 30; processing 0.75 / 60 x 120 x 50 = 75; total 105."""
    model = costing.time_model(store, P + "LaserBeamCutting", M + "Steel")
    result = costing.quote({"machine_hour_rate": 120}, model,
                           {"thickness_mm": 2, "cut_length_mm": 1200, "holes": 6, "bends": 4, "quantity": 50})
    assert _terms(result) == pytest.approx({"cutting": 0.2, "piercing": 0.05, "handling": 0.5})
    assert result["setup"]["value"] == pytest.approx(30.0)
    assert result["processing"]["value"] == pytest.approx(75.0)
    assert result["total"] == pytest.approx(105.0)


def test_sheet_thin_cut_is_capped_and_bending_counts_bends(store):
    """0.2 mm: 12000 / 0.2 = 60000 mm/min, capped at 30000: 1200 / 30000 = 0.04 min. Press brake: 4 bends x 15 s =
    1 min + 0.5 min handling."""
    laser = costing.time_model(store, P + "LaserBeamCutting", None)
    cut = costing.quote({"machine_hour_rate": 120}, laser, {"thickness_mm": 0.2, "cut_length_mm": 1200}, 1)
    assert _terms(cut)["cutting"] == pytest.approx(0.04)
    assert "capped at max_cut_speed" in cut["time_per_part_min"]["terms"][0]["how"]
    brake = costing.time_model(store, P + "PressBrakeBending", None)
    assert brake.holder == P + "BendingLinearTool"
    bent = costing.quote({"machine_hour_rate": 80}, brake, {"thickness_mm": 2, "cut_length_mm": 1200, "bends": 4}, 1)
    assert _terms(bent) == pytest.approx({"bending": 1.0, "handling": 0.5})


# -- the nearest class and material group ----------------------------------------------------------------------

def test_the_nearest_process_class_and_material_group_win(store):
    models = costing.time_models(store, [(P + "FiveAxisMilling", M + "StainlessSteel"),
                                         (P + "FiveAxisMilling", M + "Steel16MnCr5"),
                                         (P + "FiveAxisMilling", M + "Copper"),
                                         (P + "FiveAxisMilling", None),
                                         (P + "SurfaceGrinding", M + "Steel"),
                                         (P + "MultiJetFusion", None),
                                         (P + "Drilling", M + "Steel")])
    rate = {material: m.defaults["removal_rate"] for (process, material), m in models.items()
            if process == P + "FiveAxisMilling"}
    assert rate[M + "StainlessSteel"].value == 5 and rate[M + "StainlessSteel"].material == M + "StainlessSteel"
    assert rate[M + "Steel16MnCr5"].value == 15 and rate[M + "Steel16MnCr5"].material == M + "Steel"
    assert rate[M + "Copper"].material is None and rate[None].material is None  # the fallback without a group
    assert models[(P + "SurfaceGrinding", M + "Steel")].holder == P + "GrindingRotatingTool"
    assert models[(P + "MultiJetFusion", None)].holder == P + "PowderBedFusion"
    assert (P + "Drilling", M + "Steel") not in models  # no time model at or above drilling


# -- flat prices, the service's own values, errors ----------------------------------------------------------------

def test_a_flat_price_quotes_as_before():
    """setup 120 + unit 4.5 x 100 = 570, with or without a time model."""
    result = costing.quote({"currency": "EUR", "setup": 120, "unit": 4.5}, None, {"quantity": 100})
    assert result["kind"] == "flat price"
    assert result["total"] == pytest.approx(570.0)
    assert result["per_part"] == pytest.approx(5.7)
    assert result["processing"]["how"] == "price.unit 4.5 x quantity 100 = 450"


def test_the_services_own_values_override_the_defaults(store):
    """removal_rate 30 instead of 15 and setup_hours 0.5: 150 cm3 / 30 = 5 min; setup 0.5 x 100 = 50."""
    model = costing.time_model(store, P + "Milling", M + "Steel")
    result = costing.quote({"machine_hour_rate": 100, "setup_hours": 0.5, "parameters": {"removal_rate": 30}},
                           model, {"stock_removal_mm3": 150000}, 1)
    assert _terms(result)["removal"] == pytest.approx(5.0)
    assert result["setup"]["value"] == pytest.approx(50.0)
    assert "(the service's cost model)" in result["time_per_part_min"]["terms"][0]["how"]


@pytest.mark.parametrize("cost_model, characteristics, field", [
    ({}, {"stock_removal_mm3": 1000}, "cost_model.machine_hour_rate"),
    ({"machine_hour_rate": -5}, {"stock_removal_mm3": 1000}, "cost_model.machine_hour_rate"),
    ({"machine_hour_rate": 80, "parameters": {"removal_rate": 0}}, {"stock_removal_mm3": 1000},
     "cost_model.parameters.removal_rate"),
    ({"machine_hour_rate": 80}, {"area_mm2": 1000}, "product.stock_removal_mm3"),
    ({"machine_hour_rate": 80}, {"stock_removal_mm3": "lots"}, "product.stock_removal_mm3"),
    ({"machine_hour_rate": 80}, {"stock_removal_mm3": 1000, "quantity": 0}, "product.quantity"),
])
def test_errors_name_the_field(store, cost_model, characteristics, field):
    model = costing.time_model(store, P + "Milling", M + "Steel")
    with pytest.raises(Unprocessable, match=f"^{field.replace('.', '[.]')}:"):
        costing.quote(cost_model, model, characteristics)


def test_a_cost_model_without_a_time_model_is_refused():
    with pytest.raises(Unprocessable, match="^cost_model: the ontology has no time model"):
        costing.quote({"machine_hour_rate": 80}, None, {"quantity": 1})


# -- the data: every default has a source; an editor changes a value in Turtle -------------------------------------

def test_every_time_model_parameter_has_a_source_and_assumed_ones_say_so(ontology):
    maas = knowledge.MAAS
    dcterms = rdflib.Namespace("http://purl.org/dc/terms/")
    parameters = list(ontology.objects(None, maas.hasTimeModelParameter))
    assert len(parameters) >= 30
    for parameter in parameters:
        source = ontology.value(parameter, dcterms.source)
        assert source is not None, ontology.value(parameter, rdflib.namespace.SKOS.notation)
        if "assumed" in str(source):
            assert "Assumed default" in str(ontology.value(parameter, rdflib.RDFS.comment))
    formulas = {str(n) for f in ontology.subjects(rdflib.RDF.type, maas.TimeFormula)
                for n in ontology.objects(f, rdflib.namespace.SKOS.notation)}
    assert formulas == set(costing.FORMULAS)


def test_an_ontology_editor_changes_a_parameter_in_turtle():
    """A modified copy of cost-models.ttl loaded in place of the module: milling steel at 30 instead of 15 cm3/min
    (150 cm3: 10 -> 5 min), and a time model of its own for 5-axis milling (finishing at 25 cm2/min, the nearest
    class winning over milling: 200 cm2: 4 -> 8 min). The quote follows without code."""
    store = open_store("memory")
    sync_ontology(store)
    characteristics = {"stock_removal_mm3": 150000, "area_mm2": 20000}
    before = costing.quote({"machine_hour_rate": 60}, costing.time_model(store, P + "FiveAxisMilling", M + "Steel"),
                           characteristics, 1)
    text = (knowledge.ontology_dir() / "cost-models.ttl").read_text(encoding="utf-8")
    stated = ('skos:notation "removal_rate" ; maas:parameterMaterial mat:Steel ;\n'
              '        maas:parameterValue "15"^^xsd:decimal')
    assert text.count(stated) == 2  # milling and turning
    edited = text.replace(stated, stated.replace('"15"', '"30"'), 1) + """
maas:FiveAxisMillingTimeModel a owl:NamedIndividual , maas:TimeModel ;
    rdfs:label "5-axis milling time model"@en , "Zeitmodell 5-Achs-Fräsen"@de ;
    skos:definition "5-axis milling."@en ;
    maas:timeModelProcess proc:FiveAxisMilling ;
    maas:timeFormula maas:RemovalFormula ;
    maas:hasTimeModelParameter [ skos:notation "removal_rate" ; maas:parameterValue "30"^^xsd:decimal ;
        maas:parameterUnit "cm3/min" ; dcterms:source "an editor's measurement" ] ,
      [ skos:notation "finishing_rate" ; maas:parameterValue "25"^^xsd:decimal ;
        maas:parameterUnit "cm2/min" ; dcterms:source "an editor's measurement" ] .
"""
    changes = Changes()
    changes.replace_graph(str(knowledge.module_graph_iri("cost-models")),
                          [(q.subject, q.predicate, q.object)
                           for q in ox.parse(edited.encode(), format=ox.RdfFormat.TURTLE)])
    store.commit(changes)
    milling = costing.time_model(store, P + "Milling", M + "Steel")
    after_milling = costing.quote({"machine_hour_rate": 60}, milling, characteristics, 1)
    assert _terms(before)["removal"] == pytest.approx(10.0)
    assert _terms(after_milling)["removal"] == pytest.approx(5.0)
    five_axis = costing.time_model(store, P + "FiveAxisMilling", M + "Steel")
    assert five_axis.holder == P + "FiveAxisMilling"
    after = costing.quote({"machine_hour_rate": 60, "setup_hours": 1}, five_axis, characteristics, 1)
    assert _terms(after) == pytest.approx({"removal": 5.0, "finishing": 8.0})


# -- the service format: a cost model publishes and reads back -------------------------------------------------------

def test_a_service_with_a_cost_model_publishes_and_reads_back():
    """cost_model of the plain JSON service format: published beside the flat price, read back by
    queries/costing/service-prices.rq, and quoting with the service's own removal rate (200000 mm3 = 200 cm3 / 40 =
    5 min, finishing 0, handling 1: 6 min; setup 1.25 h x 85 = 106.25; processing 6 / 60 x 85 x 10 = 85; material
    2.0 kg x 4.2 x 10 = 84; total 275.25)."""
    import json
    from pathlib import Path

    from maas_kg import catalogue

    store = open_store("memory")
    sync_ontology(store)
    document = json.loads((Path(__file__).parent / "data" / "service-weber.json").read_text())
    document["cost_model"] = {"machine_hour_rate": 85, "setup_hours": 1.25, "currency": "EUR",
                              "parameters": {"removal_rate": 40, "material_price_per_kg": 4.2}}
    [result] = catalogue.publish(store, json.dumps(document).encode(), "json")
    assert result.published, result
    service = document["id"]
    read = costing.service_prices(store, [service])[service]
    assert read["process"] == P + "FiveAxisMilling"
    assert read["price"] == {"currency": "EUR", "setup": 250.0, "unit": 38.5}
    assert read["cost_model"] == {"machine_hour_rate": 85.0, "setup_hours": 1.25, "currency": "EUR",
                                  "parameters": {"removal_rate": 40.0, "material_price_per_kg": 4.2}}
    model = costing.time_model(store, read["process"], M + "Steel42CrMo4")
    result = costing.quote(read["cost_model"], model, {"stock_removal_mm3": 200000, "mass_kg": 2.0, "quantity": 10})
    assert result["total"] == pytest.approx(275.25)
    assert costing.quote(read["price"], model, {"quantity": 10})["total"] == pytest.approx(250 + 385)


# -- provider side: quote-compare ------------------------------------------------------------------------------------

def test_quote_compare_sets_a_cost_model_against_the_class(tmp_path):
    """Three published 5-axis milling services with flat prices (setup 100/200/300, unit 10/20/30) and a part of 50:
    their quotes are 600, 1200 and 1800 (quartiles 900, 1200, 1500). The provider's cost model (85/h, 1 h setup, 5 per
    kg): 234 cm3 / 15 = 15.6 min + 400 cm2 / 50 = 8 min + 1 min = 24.6 min; 24.6 / 60 x 85 x 50 = 1742.5 + setup
    85 + material 1.2 x 5 x 50 = 300: 2127.5, above Q3."""
    import json
    from pathlib import Path

    from click.testing import CliRunner

    from maas_kg.cli import main

    weber = json.loads((Path(__file__).parent / "data" / "service-weber.json").read_text())
    services = []
    for i, (setup, unit) in enumerate([(100, 10), (200, 20), (300, 30)]):
        services.append({**weber, "id": f"{weber['id']}-{i}",
                         "price": {"currency": "EUR", "setup": setup, "unit": unit}})
    (tmp_path / "services.json").write_text(json.dumps(services))
    own = {"id": "https://w3id.org/maas-kg/id/service/own", "process": "5-axis milling",
           "cost_model": {"machine_hour_rate": 85, "setup_hours": 1, "currency": "EUR",
                          "parameters": {"material_price_per_kg": 5}}}
    (tmp_path / "own.json").write_text(json.dumps(own))
    (tmp_path / "part.json").write_text(json.dumps(
        {"name": "bracket", "material": "42CrMo4", "envelope_mm": [120, 80, 40], "mass_kg": 1.2,
         "area_mm2": 40000, "stock_removal_mm3": 234000, "quantity": 50}))
    store = str(tmp_path / "store")
    runner = CliRunner()
    published = runner.invoke(main, ["--store", store, "publish", str(tmp_path / "services.json")])
    assert published.exit_code == 0, published.output
    answer = runner.invoke(main, ["--store", store, "quote-compare", str(tmp_path / "own.json"),
                                  "--samples", str(tmp_path / "part.json"), "--format", "json"])
    assert answer.exit_code == 0, answer.output
    [row] = json.loads(answer.output)
    assert row["peers"] == 3
    assert (row["q1"], row["median"], row["q3"]) == pytest.approx((900.0, 1200.0, 1500.0))
    assert row["own"] == pytest.approx(2127.5)
    assert row["position"] == "above Q3"
    table = runner.invoke(main, ["--store", store, "quote-compare", str(tmp_path / "own.json"),
                                 "--samples", str(tmp_path / "part.json")])
    assert table.exit_code == 0 and "2,127.50" in table.output and "1,200.00" in table.output


# -- matching: the cost model's quote feeds the price can-criterion ---------------------------------------------------

@pytest.fixture(scope="module")
def priced_catalogue():
    """Three 5-axis milling services of one provider: two flat prices, one also with a cost model (85/h, 1.25 h
    setup, removal 40 cm3/min on the service's own machine)."""
    import json
    from pathlib import Path

    from maas_kg import catalogue

    opened = open_store("memory")
    sync_ontology(opened)
    weber = json.loads((Path(__file__).parent / "data" / "service-weber.json").read_text())
    services = [{**weber, "id": f"{weber['id']}-{i}", "price": {"currency": "EUR", "setup": setup, "unit": unit}}
                for i, (setup, unit) in enumerate([(100, 10), (200, 20), (300, 30)])]
    services[2]["cost_model"] = {"machine_hour_rate": 85, "setup_hours": 1.25, "currency": "CHF",
                                 "parameters": {"removal_rate": 40}}
    results = catalogue.publish(opened, json.dumps(services).encode(), "json")
    assert all(r.published for r in results), results
    return opened, [s["id"] for s in services]


PART = {"id": "https://w3id.org/maas-kg/id/product/costed-bracket", "name": "bracket", "material": "42CrMo4",
        "shape": "prismatic", "envelope_mm": [120, 80, 40], "mass_kg": 1.2, "quantity": 10,
        "stock_removal_mm3": 200000, "area_mm2": 40000}


def _milling_candidates(store, product: dict, engine: str) -> list[dict]:
    import datetime
    import json

    from maas_kg.matching.report import as_json
    from maas_kg.matching.workspace import Workspace

    result = Workspace(store, engine=engine).match(json.dumps(product).encode(), "json",
                                                   today=datetime.date(2026, 12, 1))
    document = as_json(store, result, top=None)
    found = {}
    for route in document["routes"]:
        for step in route["steps"]:
            for candidate in step["candidates"]:
                found[candidate["service"]] = candidate
    return found


@pytest.mark.parametrize("engine", ["index", "sparql"])
def test_a_cost_model_prices_the_part_in_matching(priced_catalogue, engine):
    """The cost-model service quotes 200 cm3 / 40 = 5 min + 400 cm2 / 50 = 8 min + 1 min handling = 14 min;
    setup 1.25 h x 85 = 106.25; 14 / 60 x 85 x 10 = 198.33: 304.58 CHF, in place of its flat 300 + 30 x 10 = 600 EUR;
    the flat-price services quote as before (100 + 10 x 10 = 200, 200 + 20 x 10 = 400)."""
    store, ids = priced_catalogue
    found = _milling_candidates(store, PART, engine)
    flat0, flat1, modelled = (found[i]["quote"] for i in ids)
    assert (flat0["total"], flat0["basis"], flat0["breakdown"]) == (200.0, "flat price", None)
    assert flat1["total"] == 400.0
    assert modelled["basis"] == "cost model" and modelled["currency"] == "CHF"
    assert modelled["total"] == pytest.approx(304.58, abs=0.01)
    breakdown = modelled["breakdown"]
    assert breakdown["total"] == pytest.approx(modelled["total"], abs=0.01)
    assert _terms(breakdown) == pytest.approx({"removal": 5.0, "finishing": 8.0, "handling": 1.0})
    assert "the service's cost model" in breakdown["time_per_part_min"]["terms"][0]["how"]
    assert modelled["total_eur"] != modelled["total"]  # converted at the reference rate for the comparison
    assert found[ids[2]]["criteria"]["price"]["value"] == modelled["total_eur"]


@pytest.mark.parametrize("engine", ["index", "sparql"])
def test_without_measures_or_when_the_model_cannot_quote_the_flat_price_holds(priced_catalogue, engine):
    store, ids = priced_catalogue
    plain = {k: v for k, v in PART.items() if k not in ("stock_removal_mm3", "area_mm2")}
    plain["envelope_mm"] = [120, 80, 40]
    found = _milling_candidates(store, {**plain, "volume_mm3": 1000.0}, engine)
    quote = found[ids[2]]["quote"]
    # the removal model takes the stock from the envelope box less the volume: it quotes
    assert quote["basis"] == "cost model"
    found = _milling_candidates(store, plain, engine)
    quote = found[ids[2]]["quote"]
    assert (quote["basis"], quote["total"], quote["currency"]) == ("flat price", 600.0, "EUR")
    assert "note" not in quote  # a part without measures is simply not costed
