"""Product -> process routes: the example products route as an engineer expects, the routes are stored as RDF
with provenance, and an ontology editor's new Turtle file changes the routes without code changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib.namespace import RDFS

from maas_kg import knowledge
from maas_kg.knowledge.graphs import DERIVED_GRAPH_BASE, sync_ontology
from maas_kg.matching.products import submit_product
from maas_kg.matching.translation import derive_requirements, requirements_graph
from maas_kg.store import open_store

PRODUCTS = Path(__file__).parents[1] / "examples" / "products"
PROC = knowledge.PROC
CUTTING = {PROC.LaserBeamCutting, PROC.PlasmaCutting, PROC.WaterjetCutting, PROC.Shearing, PROC.Punching}


def below(cls) -> set:
    return set(knowledge.ontology_graph().transitive_subjects(RDFS.subClassOf, cls))


@pytest.fixture(scope="module")
def store():
    s = open_store("memory")
    sync_ontology(s)
    return s


def routes(store, name, **changes):
    doc = {**json.loads((PRODUCTS / f"{name}.json").read_text()), **changes}
    product = submit_product(store, json.dumps(doc).encode(), "json")
    return derive_requirements(store, product)


def chains(translation) -> list[list]:
    return [[knowledge.PROC[s.process.rsplit("#", 1)[1]] for s in r.steps] for r in translation.routes]


def test_derived_profiles_are_loaded_with_the_ontology(store):
    assert DERIVED_GRAPH_BASE + "profiles" in store.named_graphs()


def test_shaft_with_ra_0_4_is_turned_then_ground_with_a_reason(store):
    result = routes(store, "turned-ground-shaft")
    first = result.routes[0]
    assert chains(result)[0][0] == PROC.Turning
    assert chains(result)[0][1] in below(PROC.GrindingRotatingTool)
    assert "Ra 0.4 µm is finer than turning's typical 0.8 µm" in " ".join(first.steps[1].reasons)
    assert first.steps[1].sets_surface and not first.steps[0].sets_surface
    assert not any(PROC.DieCasting in chain for chain in chains(result))


def test_without_the_fine_surface_the_shaft_is_only_turned(store):
    result = routes(store, "turned-ground-shaft", roughness_ra_um=3.2, tolerance_mm=0.1)
    assert chains(result)[0] == [PROC.Turning] and result.routes[0].typical_fit == 1.0


def test_sheet_metal_enclosure_is_cut_then_bent_then_powder_coated(store):
    first = chains(routes(store, "sheet-metal-enclosure"))[0]
    assert first[0] in CUTTING and first[1:] == [PROC.BendingForming, PROC.PowderCoating]
    assert chains(routes(store, "sheet-metal-enclosure", finish=[]))[0][1:] == [PROC.BendingForming]


def test_pa12_lattice_goes_to_powder_bed_fusion_only(store):
    result = chains(routes(store, "pa12-lattice-part"))
    assert result and all(chain[0] in below(PROC.PowderBedFusion) for chain in result)


def test_fifty_thousand_abs_housings_are_injection_moulded(store):
    assert chains(routes(store, "injection-moulded-housing"))[0] == [PROC.InjectionMoulding]


def test_steel_never_goes_to_die_casting(store):
    assert any(PROC.DieCasting in c for c in chains(routes(store, "die-cast-housing")))
    assert not any(PROC.DieCasting in c for c in chains(routes(store, "die-cast-housing", material="S355J2")))


def test_one_unit_never_goes_to_a_process_needing_a_mould(store):
    tooling = {PROC[row["p"].value.rsplit("#", 1)[1]] for row in store.select(
        f"SELECT ?p WHERE {{ GRAPH <{DERIVED_GRAPH_BASE}profiles> {{ ?p <{knowledge.MAAS}profileNeedsTooling> true }} }}")}
    for name in ("one-off-prototype", "titanium-bracket", "milled-bracket"):
        result = chains(routes(store, name, quantity=1))
        assert result and not any(set(chain) & tooling for chain in result), name


def test_titanium_bracket_offers_milling_or_printing_then_finish_milling(store):
    result = chains(routes(store, "titanium-bracket"))
    assert result[0] == [PROC.Milling]
    assert [PROC.PowderBedFusion, PROC.Milling] in result


def test_hardened_gear_is_hardened_before_it_is_ground(store):
    first = chains(routes(store, "hardened-gear"))[0]
    assert first[0] == PROC.Turning and first[1] == PROC.CaseHardening and first[2] in below(PROC.GrindingRotatingTool)


def test_a_treatment_that_does_not_suit_the_material_is_refused_with_a_reason(store):
    result = routes(store, "welded-steel-frame", finish=["anodising"])
    assert not result.routes and "anodising does not apply" in result.problems[0]


def test_routes_are_stored_with_provenance(store):
    result = routes(store, "turned-ground-shaft")
    graph = requirements_graph(result.product)
    rows = store.select(f"""
        PREFIX maas: <{knowledge.MAAS}> PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT (COUNT(DISTINCT ?route) AS ?routes) (COUNT(DISTINCT ?req) AS ?steps) (SAMPLE(?rule) AS ?aRule) WHERE {{
          GRAPH <{graph}> {{ ?route a maas:ProcessRoute ; maas:routeFor <{result.product}> ; maas:hasStep ?req ;
                                  prov:wasGeneratedBy ?activity .
                           ?req maas:requiredProcess ?p ; maas:reason ?why ; maas:requirementOf <{result.product}> .
                           ?activity prov:used <{result.product}> , ?rule . FILTER(CONTAINS(STR(?rule), "/queries/")) }} }}""")
    assert int(rows[0]["routes"].value) == len(result.routes)
    assert int(rows[0]["steps"].value) == sum(len(r.steps) for r in result.routes)


def test_an_editors_new_turtle_file_changes_the_routes_without_code_changes(store, tmp_path, monkeypatch):
    # an editor's working copy of the ontology folder (MAAS_KG_ONTOLOGY_DIR): the shipped folder is never written
    working_copy = tmp_path / "ontology"
    shutil.copytree(knowledge.ontology_dir(), working_copy)
    monkeypatch.setenv("MAAS_KG_ONTOLOGY_DIR", str(working_copy))
    name = "superfinishing"
    module = working_copy / f"{name}.ttl"
    superfinishing = (Path(__file__).parent / "data" / "superfinishing.ttl").read_text(encoding="utf-8")
    module.write_text(f"{superfinishing}\n<https://w3id.org/maas-kg/ontology/{name}> a owl:Ontology .\n",
                      encoding="utf-8")
    assert PROC.ShaftSuperfinishing not in {c for chain in chains(routes(store, "turned-ground-shaft")) for c in chain}
    assert name in sync_ontology(store)
    assert [PROC.Turning, PROC.ShaftSuperfinishing] in chains(routes(store, "turned-ground-shaft"))
    module.unlink()
    assert "-" + name in sync_ontology(store)
    assert PROC.ShaftSuperfinishing not in {c for chain in chains(routes(store, "turned-ground-shaft")) for c in chain}


def test_an_assembly_gets_a_joining_step_between_shaping_and_coating(store):
    doc = json.loads((PRODUCTS / "welded-steel-frame.json").read_text())
    product = submit_product(store, json.dumps(doc).encode(), "json")
    store.update(f"""INSERT DATA {{ GRAPH <https://w3id.org/maas-kg/graph/test/bom> {{
        <{product}> <{knowledge.MAAS}hasComponent> <{product}/tube-1> , <{product}/plate-1> . }} }}""")
    first = chains(derive_requirements(store, product))[0]
    assert first[-1] == PROC.PowderCoating and first[-2] in below(PROC.Joining), first
    doc["finish"] = ["MAG welding", "powder coating"]  # naming the joining method replaces the generic step
    product = submit_product(store, json.dumps(doc).encode(), "json")
    first = chains(derive_requirements(store, product))[0]
    assert first[-2:] == [PROC.MAGWelding, PROC.PowderCoating] and PROC.Joining not in first, first
    store.update("DROP GRAPH <https://w3id.org/maas-kg/graph/test/bom>")
