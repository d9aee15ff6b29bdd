"""Capability profiles are complete, consistent data that translation rules can read."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import RDFS

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
