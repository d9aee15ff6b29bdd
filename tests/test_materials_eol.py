"""Materials resolve uniquely from any label; the end-of-life vocabulary is complete and linked to processes."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import RDF, RDFS, SKOS

from maas_kg.knowledge import MAAS, MAT, PROC
from maas_kg.knowledge.vocabulary import UnknownTerm, material_index

EOL = rdflib.Namespace("https://w3id.org/maas-kg/ns#")


def test_every_material_label_resolves_to_exactly_one_term(ontology):
    index = material_index(ontology)
    assert len(index.members) >= 45
    for material in index.members:
        for predicate in (RDFS.label, SKOS.altLabel):
            for value in ontology.objects(material, predicate):
                assert index.resolve(str(value)) == material, (material, value)
                assert index.resolve(str(value).upper()) == material


@pytest.mark.parametrize("typed, expected", [
    ("42CrMo4", MAT.Steel42CrMo4), ("1.4301", MAT.Stainless1_4301), ("EN AW-6061", MAT.AW6061),
    ("ti-6al-4v", MAT.Ti6Al4V), ("Inconel 718", MAT.Inconel718), ("pa12", MAT.PA12), ("CFRP", MAT.CFRP),
])
def test_designations_and_trade_names(ontology, typed, expected):
    assert material_index(ontology).resolve(typed) == expected


def test_unknown_material_suggests_close_labels(ontology):
    with pytest.raises(UnknownTerm) as err:
        material_index(ontology).resolve("42CrMo5")
    assert err.value.suggestions and "42crmo4" in err.value.suggestions


def test_material_hierarchy(ontology):
    ancestors = set(ontology.transitive_objects(MAT.Steel42CrMo4, RDFS.subClassOf))
    assert {MAT.AlloySteel, MAT.FerrousMetal, MAT.Metal, MAT.Material} <= ancestors
    assert MAT.Thermoplastic in set(ontology.transitive_objects(MAT.PA12, RDFS.subClassOf))


def test_ten_r_strategies(ontology):
    strategies = set(ontology.subjects(RDF.type, MAAS.CircularityStrategy))
    notations = sorted(str(ontology.value(s, SKOS.notation)) for s in strategies)
    assert notations == [f"R{i}" for i in range(10)]


def test_eol_strategies_link_to_process_classes(ontology):
    needs = rdflib.URIRef(str(MAAS) + "strategyNeedsProcess")
    processes = set(ontology.transitive_subjects(RDFS.subClassOf, PROC.ManufacturingProcess))
    linked = list(ontology.subject_objects(needs))
    assert linked
    for strategy, process in linked:
        assert process in processes, (strategy, process)
    reman = {p for s, p in linked if s == MAAS.R6Remanufacture}
    assert {PROC.Disassembling, PROC.Cleaning, PROC.InspectionAndTesting, PROC.Reconditioning} <= reman
