"""Capability profiles are complete, consistent data that translation rules can read."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import DCTERMS, RDFS

from maas_kg.knowledge import MAAS, MAT, PROC


def effective(graph, cls, prop):
    """The value(s) of a profile property on the class or its nearest ancestor that has it."""
    frontier = [cls]
    while frontier:
        values = [v for c in frontier for v in graph.objects(c, prop)]
        if values:
            return values
        frontier = [p for c in frontier for p in graph.objects(c, RDFS.subClassOf) if isinstance(p, rdflib.URIRef)]
    return []


@pytest.fixture(scope="module")
def process_classes(ontology):
    return set(ontology.transitive_subjects(RDFS.subClassOf, PROC.ManufacturingProcess)) - {PROC.ManufacturingProcess}


def test_every_process_class_has_a_role(ontology, process_classes):
    roles = set(ontology.subjects(rdflib.RDF.type, MAAS.ProcessRole))
    for cls in process_classes:
        values = effective(ontology, cls, MAAS.profileRole)
        # a machining process may also finish parts made by other processes (finish turning, finish milling)
        assert 1 <= len(values) <= 2 and set(values) <= roles, cls
        assert len(values) == 1 or MAAS.FinishingRole in values, cls


def test_primary_processes_with_numbers_have_complete_profiles(ontology, process_classes):
    profiled = {c for c in process_classes if (c, MAAS.profileITGradeTypical, None) in ontology}
    assert len(profiled) >= 40
    for cls in profiled:
        if MAAS.PrimaryRole not in effective(ontology, cls, MAAS.profileRole):
            continue
        for prop in (MAAS.profileMaterial, MAAS.profileShape, MAAS.profileRaTypical, MAAS.profileBatchMin,
                     MAAS.profileBatchMax):
            assert effective(ontology, cls, prop), (cls, prop)


def test_profile_ranges_are_ordered(ontology, process_classes):
    for cls in process_classes:
        best, typ, rough = (effective(ontology, cls, getattr(MAAS, f"profileITGrade{k}")) for k in ("Best", "Typical", "Rough"))
        if best and typ and rough:
            assert best[0].toPython() <= typ[0].toPython() <= rough[0].toPython(), cls
        best, typ, rough = (effective(ontology, cls, getattr(MAAS, f"profileRa{k}")) for k in ("Best", "Typical", "Rough"))
        if best and typ and rough:
            assert float(best[0]) <= float(typ[0]) <= float(rough[0]), cls
        low, high = effective(ontology, cls, MAAS.profileBatchMin), effective(ontology, cls, MAAS.profileBatchMax)
        if low and high:
            assert int(low[0]) <= int(high[0]), cls


def test_profile_values_point_at_taxonomy_terms(ontology):
    materials = set(ontology.transitive_subjects(RDFS.subClassOf, MAT.Material))
    shapes = set(ontology.subjects(rdflib.RDF.type, MAAS.ShapeClass))
    for prop, allowed in ((MAAS.profileMaterial, materials), (MAAS.profileSpecialMaterial, materials),
                          (MAAS.profileShape, shapes)):
        for cls, value in ontology.subject_objects(prop):
            assert value in allowed, (cls, prop, value)


def test_engineering_facts(ontology):
    # die casting never handles ferrous metals; turning typically needs grinding for Ra 0.4
    die = {m for m in effective(ontology, PROC.DieCasting, MAAS.profileMaterial)}
    ferrous = set(ontology.transitive_subjects(RDFS.subClassOf, MAT.FerrousMetal))
    assert die and not die & ferrous
    assert float(effective(ontology, PROC.Turning, MAAS.profileRaTypical)[0]) > 0.4
    assert float(effective(ontology, PROC.CylindricalGrinding, MAAS.profileRaTypical)[0]) <= 0.4
    assert effective(ontology, PROC.InjectionMoulding, MAAS.profileNeedsTooling)[0].toPython() is True
    assert MAAS.LatticeShape in effective(ontology, PROC.PowderBedFusion, MAAS.profileShape)


# The material lists of the casting (DIN 8580 group 1.1) and forming (group 2) classes, as reviewed in issue 16
# against process-facts.md, NADCA, ASM Handbook vols. 14A/14B/15, Kalpakjian tables 11.1 and 14.2 and Groover ch. 11.
# Each entry: routine materials, special-variant materials (both as stated or inherited).
REVIEWED_MATERIALS = {
    "GravityCasting": ({"CastIron", "Steel", "AluminiumAlloy", "Copper", "Brass", "MagnesiumAlloy", "ZincAlloy",
                        "NickelAlloy"}, set()),
    "SandCasting": ({"CastIron", "Steel", "AluminiumAlloy", "Copper", "Brass", "MagnesiumAlloy", "ZincAlloy",
                     "NickelAlloy"}, set()),
    "InvestmentCasting": ({"Steel", "AluminiumAlloy", "Copper", "Brass", "NickelAlloy", "TitaniumAlloy"},
                          {"CastIron", "MagnesiumAlloy"}),
    "PermanentMouldCasting": ({"AluminiumAlloy", "MagnesiumAlloy", "Copper", "Brass", "ZincAlloy"}, {"CastIron"}),
    "DieCasting": ({"AluminiumAlloy", "ZincAlloy", "MagnesiumAlloy", "Brass"}, {"Copper"}),
    "VacuumDieCasting": ({"AluminiumAlloy", "ZincAlloy", "MagnesiumAlloy", "Brass"}, {"Copper"}),
    "LowPressureDieCasting": ({"AluminiumAlloy", "MagnesiumAlloy"}, {"Brass"}),
    "CentrifugalCasting": ({"CastIron", "Steel", "AluminiumAlloy", "Copper", "Brass", "NickelAlloy"}, set()),
    "ContinuousCasting": ({"Steel", "CastIron", "AluminiumAlloy", "Copper", "Brass"}, set()),
    "DipMoulding": ({"Polymer"}, set()),
    "Foaming": ({"Polymer"}, {"AluminiumAlloy"}),
    "FibreReinforcedPlasticMoulding": ({"Composite"}, set()),
    "CrystalGrowing": ({"Ceramic"}, set()),
    "OpenDieForging": ({"Steel", "AluminiumAlloy", "TitaniumAlloy", "Copper", "Brass", "NickelAlloy"},
                       {"MagnesiumAlloy"}),
    "ClosedDieForging": ({"Steel", "AluminiumAlloy", "TitaniumAlloy", "Copper", "Brass", "MagnesiumAlloy",
                          "NickelAlloy"}, {"Thermoplastic"}),
    "ColdForging": ({"Steel", "AluminiumAlloy", "Copper", "Brass"}, {"Thermoplastic"}),
    "ExtrusionForming": ({"AluminiumAlloy", "Copper", "Brass", "MagnesiumAlloy"},
                         {"Steel", "TitaniumAlloy", "NickelAlloy"}),
    "BendingForming": ({"Steel", "AluminiumAlloy", "Copper", "Brass"}, {"TitaniumAlloy", "Thermoplastic"}),
    "PressBrakeBending": ({"Steel", "AluminiumAlloy", "Copper", "Brass"}, {"TitaniumAlloy"}),
    "DeepDrawing": ({"Steel", "AluminiumAlloy", "Copper", "Brass"}, {"TitaniumAlloy", "NickelAlloy"}),
    "Thermoforming": ({"Thermoplastic"}, {"Composite"}),
    "MetalSpinning": ({"Steel", "AluminiumAlloy", "Copper", "Brass"}, {"TitaniumAlloy", "NickelAlloy"}),
}
# the classes whose list changed in the review carry its source
STATED_WITH_A_SOURCE = set(REVIEWED_MATERIALS) - {"VacuumDieCasting"}


@pytest.mark.parametrize("name", sorted(REVIEWED_MATERIALS))
def test_reviewed_material_lists_of_casting_and_forming(ontology, name):
    routine, special = REVIEWED_MATERIALS[name]
    cls = PROC[name]
    assert {str(m).rsplit("#", 1)[1] for m in effective(ontology, cls, MAAS.profileMaterial)} == routine
    assert {str(m).rsplit("#", 1)[1] for m in effective(ontology, cls, MAAS.profileSpecialMaterial)} == special
    if name in STATED_WITH_A_SOURCE:
        assert list(ontology.objects(cls, DCTERMS.source)), f"{name}: the reviewed list needs a dcterms:source"
        assert any("Reviewed (issue 16)" in c for c in ontology.objects(cls, RDFS.comment)), name


def _covers(graph, listed, material) -> bool:
    return any(m in set(graph.transitive_objects(material, RDFS.subClassOf)) for m in listed)


def test_no_forming_class_takes_cast_iron_and_no_sand_or_metal_mould_takes_titanium(ontology):
    forming = set(ontology.transitive_subjects(RDFS.subClassOf, PROC.Forming))
    for cls in forming:
        assert not _covers(ontology, effective(ontology, cls, MAAS.profileMaterial), MAT.GreyCastIron), cls
    for cls in (PROC.SandCasting, PROC.GravityCasting, PROC.PermanentMouldCasting, PROC.DieCasting,
                PROC.LowPressureDieCasting, PROC.CentrifugalCasting):
        for prop in (MAAS.profileMaterial, MAAS.profileSpecialMaterial):
            assert not _covers(ontology, effective(ontology, cls, prop), MAT.Ti6Al4V), (cls, prop)
    assert _covers(ontology, effective(ontology, PROC.InvestmentCasting, MAAS.profileMaterial), MAT.Ti6Al4V)


def test_casting_takes_only_metals_and_its_non_casting_subgroups_no_metal(ontology):
    metal = set(ontology.transitive_subjects(RDFS.subClassOf, MAT.Metal))
    for name in ("DipMoulding", "FibreReinforcedPlasticMoulding", "CrystalGrowing"):
        assert not set(effective(ontology, PROC[name], MAAS.profileMaterial)) & metal, name
    for name in ("DieCasting", "SandCasting", "InvestmentCasting", "PermanentMouldCasting", "CentrifugalCasting"):
        assert set(effective(ontology, PROC[name], MAAS.profileMaterial)) <= metal, name
