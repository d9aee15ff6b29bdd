"""Products with components (issue 22: "Multi-body files become a product with components"): the plain JSON product
format's ``components`` become a bill of materials (maas:hasBillOfMaterialsItem -> maas:BillOfMaterialsItem with
maas:bomQuantity and maas:bomComponent -> maas:Component), validated by shapes/product.ttl and routed with a joining
step; a multi-body CAD file gives such a product."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, RDFS

from maas_kg import knowledge
from maas_kg.catalogue import validate_document
from maas_kg.catalogue.ingest import read_input
from maas_kg.knowledge import MAAS
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.matching.products import ProductError, product_graph, submit_product
from maas_kg.matching.translation import JOINING, derive_requirements
from maas_kg.store import open_store

PRODUCTS = Path(__file__).parents[1] / "examples" / "products"
PROC = knowledge.PROC
MATERIAL = knowledge.MAT

TUBE = {"name": "Frame tube", "shape": "profile", "envelope_mm": [60, 2000, 60], "volume_mm3": 1500000,
        "area_mm2": 960000, "mass_kg": 11.8, "quantity_per_unit": 4}
PLATE = {"name": "Base plate", "shape": "sheet", "envelope_mm": [300, 300, 10], "volume_mm3": "900000"}


@pytest.fixture(scope="module")
def store():
    s = open_store("memory")
    sync_ontology(s)
    return s


def frame(**changes) -> dict:
    """The welded steel frame of examples/products (S355J2, prismatic, 10 units) with ``changes``."""
    return {**json.loads((PRODUCTS / "welded-steel-frame.json").read_text()), **changes}


def assembly(**changes) -> dict:
    return frame(**{"id": "https://w3id.org/maas-kg/id/product/frame-with-components", "components": [TUBE, PLATE],
                    **changes})


def joining_steps(translation) -> list[list]:
    return [[step.process for step in route.steps if step.role == JOINING] for route in translation.routes]


def below(cls) -> set:
    return set(knowledge.ontology_graph().transitive_subjects(RDFS.subClassOf, cls))


# -- the format ------------------------------------------------------------------------------------------------------

def test_a_product_with_two_components_validates():
    report = validate_document(json.dumps(assembly()).encode(), "json", kind="product")
    assert report.conforms, report.as_text()


def test_its_rdf_has_the_bill_of_materials_with_the_components_values():
    graph = read_input(json.dumps(assembly()).encode(), "json", kind="product").to_rdflib()
    product = rdflib.URIRef("https://w3id.org/maas-kg/id/product/frame-with-components")
    assert set(graph.subjects(RDF.type, MAAS.Product)) == {product}  # components are not typed maas:Product
    items = list(graph.objects(product, MAAS.hasBillOfMaterialsItem))
    assert len(items) == 2
    by_name = {}
    for item in items:
        assert (item, RDF.type, MAAS.BillOfMaterialsItem) in graph
        component = graph.value(item, MAAS.bomComponent)
        assert (component, RDF.type, MAAS.Component) in graph
        by_name[str(graph.value(component, MAAS.name))] = (item, component)
    assert set(by_name) == {"Frame tube", "Base plate"}

    def value(node, prop):
        values = list(graph.objects(node, prop))
        assert len(values) == 1, (prop, values)
        return values[0].toPython() if isinstance(values[0], rdflib.Literal) else values[0]

    item, tube = by_name["Frame tube"]
    assert value(item, MAAS.bomQuantity) == 4
    assert value(tube, MAAS.shapeClass) == MAAS.ProfileShape
    assert [value(tube, p) for p in (MAAS.boundingBoxX, MAAS.boundingBoxY, MAAS.boundingBoxZ)] == [60, 2000, 60]
    assert [value(tube, p) for p in (MAAS.boundingBoxLongest, MAAS.boundingBoxMiddle,
                                     MAAS.boundingBoxShortest)] == [2000, 60, 60]
    assert value(tube, MAAS.partVolume) == 1500000 and value(tube, MAAS.surfaceArea) == 960000
    assert value(tube, MAAS.partMass) == Decimal("11.8")
    # inherited: the product's material, and its quantity (10) times the quantity per unit
    assert value(tube, MAAS.material) == MATERIAL.S355J2
    assert value(tube, MAAS.quantity) == 40
    item, plate = by_name["Base plate"]
    assert value(item, MAAS.bomQuantity) == 1  # quantity_per_unit defaults to 1
    assert value(plate, MAAS.partVolume) == 900000  # a number written as a string is read as one
    assert value(plate, MAAS.shapeClass) == MAAS.SheetShape and value(plate, MAAS.quantity) == 10
    assert not any(str(p).startswith("https://w3id.org/maas-kg/input#") for p in graph.predicates())


def test_a_component_may_name_its_own_material():
    plate = {**PLATE, "material": "AlMg3"}
    graph = read_input(json.dumps(assembly(components=[TUBE, plate])).encode(), "json", kind="product").to_rdflib()
    materials = {str(graph.value(c, MAAS.name)): graph.value(c, MAAS.material)
                 for c in graph.subjects(RDF.type, MAAS.Component)}
    assert materials["Frame tube"] == MATERIAL.S355J2 and materials["Base plate"] != MATERIAL.S355J2


def test_submitting_finds_one_product_and_stores_its_components(store):
    product = submit_product(store, json.dumps(assembly()).encode(), "json")
    assert product == "https://w3id.org/maas-kg/id/product/frame-with-components"
    rows = store.select(f"""PREFIX maas: <{MAAS}>
        SELECT ?name ?perUnit WHERE {{ GRAPH <{product_graph(product)}> {{
            <{product}> maas:hasBillOfMaterialsItem ?item . ?item maas:bomQuantity ?perUnit ; maas:bomComponent ?c .
            ?c maas:name ?name }} }}""")
    assert sorted((row["name"].value, float(row["perUnit"].value)) for row in rows) == \
        [("Base plate", 1.0), ("Frame tube", 4.0)]


def test_a_product_with_components_gets_a_joining_step(store):
    plain = submit_product(store, json.dumps(frame(id="https://w3id.org/maas-kg/id/product/frame-plain",
                                                   finish=[])).encode(), "json")
    assert joining_steps(derive_requirements(store, plain, record=False)) == \
        [[] for _ in derive_requirements(store, plain, record=False).routes]
    product = submit_product(store, json.dumps(assembly(finish=[])).encode(), "json")
    translation = derive_requirements(store, product, record=False)
    assert translation.routes
    for steps in joining_steps(translation):
        assert len(steps) == 1 and PROC[steps[0].rsplit("#", 1)[1]] in below(PROC.Joining), steps


# -- bad components ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("components, field", [
    ([TUBE, {**PLATE, "volume_mm3": -5}], "volume_mm3"),
    ([TUBE, {**PLATE, "shape": "blob"}], "shape"),
    ([TUBE, "a bolt"], "components"),
    ([TUBE, 7], "components"),
    ("a bolt", "components"),
    ([{**PLATE, "name": f"plate {n}"} for n in range(101)], "components"),
    ([TUBE, {**PLATE, "quantity_per_unit": 0}], "quantity_per_unit"),
    ([TUBE, {**PLATE, "envelope_mm": [300, 0, 10]}], "envelope"),
], ids=["negative-volume", "unknown-shape", "text", "number", "not-a-list", "101-components", "zero-per-unit",
        "zero-edge"])
def test_a_bad_component_is_refused_naming_the_field(store, components, field):
    document = assembly(id="https://w3id.org/maas-kg/id/product/frame-bad-component", components=components)
    with pytest.raises(ProductError) as refused:
        submit_product(store, json.dumps(document).encode(), "json")
    assert field in str(refused.value), str(refused.value)
    assert all(field in v.message for v in refused.value.report.violations), refused.value.report.as_text()
    if len(components) == 101:
        assert "at most 100" in str(refused.value)
    assert product_graph(document["id"]) not in store.named_graphs()


def test_one_hundred_components_are_accepted():
    document = assembly(components=[{**PLATE, "name": f"plate {n}"} for n in range(100)])
    report = validate_document(json.dumps(document).encode(), "json", kind="product")
    assert report.conforms, report.as_text()


# -- a multi-body CAD file ---------------------------------------------------------------------------------------------

def test_a_multi_body_cad_file_becomes_a_product_with_components_that_routes_with_a_joining_step(store, tmp_path):
    trimesh = pytest.importorskip("trimesh")
    from maas_kg.cad import characterise

    small = trimesh.creation.box(extents=[10, 10, 10])
    large = trimesh.creation.box(extents=[20, 20, 20])
    large.apply_translation([50, 0, 0])
    path = tmp_path / "two-boxes.stl"
    trimesh.util.concatenate([small, large]).export(path)

    result = characterise(str(path), material="S355J2", store=store)
    answer = result.as_json()
    assert len(answer["components"]) == 2 and all("methods" in c for c in answer["components"])  # as before
    product = answer["product"]
    assert product == result.product()
    components = sorted(product["components"], key=lambda c: c["volume_mm3"])
    assert [c["volume_mm3"] for c in components] == pytest.approx([1000, 8000], rel=1e-6)
    assert [sorted(c["envelope_mm"]) for c in components] == [pytest.approx([10] * 3), pytest.approx([20] * 3)]
    assert [c["area_mm2"] for c in components] == pytest.approx([600, 2400], rel=1e-6)
    assert [c["mass_kg"] for c in components] == pytest.approx([1000e-9 * 7850, 8000e-9 * 7850], abs=1e-4)
    assert all(c["shape"] == "prismatic" and c["quantity_per_unit"] == 1 for c in components)
    assert all("material" not in c and "quantity" not in c for c in components)  # the product's
    assert [c["name"] for c in product["components"]] == ["two-boxes.stl body 1", "two-boxes.stl body 2"]

    document = {**product, "id": "https://w3id.org/maas-kg/id/product/two-boxes", "quantity": 10}
    report = validate_document(json.dumps(document).encode(), "json", kind="product")
    assert report.conforms, report.as_text()
    iri = submit_product(store, json.dumps(document).encode(), "json")
    translation = derive_requirements(store, iri, record=False)
    assert translation.routes, translation.problems
    assert all(len(steps) == 1 and PROC[steps[0].rsplit("#", 1)[1]] in below(PROC.Joining)
               for steps in joining_steps(translation)), joining_steps(translation)


def test_a_single_body_file_has_no_components(tmp_path):
    trimesh = pytest.importorskip("trimesh")
    from maas_kg.cad import characterise

    path = tmp_path / "one-box.stl"
    trimesh.creation.box(extents=[10, 20, 30]).export(path)
    assert "components" not in characterise(str(path)).product()


def test_a_components_names_resolve_as_a_products(store):
    """A component's unknown material is named "material" (not the services' "materials"), and the certifications
    it names are required of it, as a product's are, not held."""
    document = assembly(id="https://w3id.org/maas-kg/id/product/frame-unknown-component-material",
                        components=[TUBE, {**PLATE, "material": "unobtainium"}])
    with pytest.raises(ProductError) as refused:
        submit_product(store, json.dumps(document).encode(), "json")
    messages = [v.message for v in refused.value.report.violations]
    assert messages[0].startswith("material: ") and "unobtainium" in messages[0], messages
    assert not any(m.startswith("materials") for m in messages), messages
    document = assembly(id="https://w3id.org/maas-kg/id/product/frame-certified-component",
                        components=[TUBE, {**PLATE, "certifications": ["ISO 9001"]}])
    product = submit_product(store, json.dumps(document).encode(), "json")
    graph = product_graph(product)
    required = store.select(f"""PREFIX maas: <https://w3id.org/maas-kg/ns#>
        SELECT ?component ?p WHERE {{ GRAPH <{graph}> {{ ?component a maas:Component ; ?p ?certification .
                                      FILTER(?p IN (maas:requiredCertification, maas:holdsCertification)) }} }}""")
    assert [row["p"].value for row in required] == ["https://w3id.org/maas-kg/ns#requiredCertification"]
