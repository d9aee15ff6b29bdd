"""The process taxonomy: DIN 8580:2022 structure, notations, AM categories, crosswalk, named processes."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDFS, SKOS

from maas_kg.knowledge import PROC
from maas_kg.knowledge.vocabulary import process_index

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "din8580-outline.tsv"
DIN = "http://www.w3id.org/hsu-aut/DIN8580#"


def notation(graph, cls):
    value = graph.value(cls, SKOS.notation)
    return str(value) if value is not None else None


@pytest.fixture(scope="module")
def process_classes(ontology):
    return set(ontology.transitive_subjects(RDFS.subClassOf, PROC.ManufacturingProcess)) - {PROC.ManufacturingProcess}


def depth_below(graph, cls, ancestor) -> int:
    depth, current = 0, cls
    while current != ancestor:
        parents = [p for p in graph.objects(current, RDFS.subClassOf) if isinstance(p, rdflib.URIRef)
                   and str(p).startswith(str(PROC))]
        assert len(parents) == 1, f"{current} must have exactly one parent in the taxonomy"
        current, depth = parents[0], depth + 1
    return depth


def test_sizes(ontology, process_classes):
    notations = {notation(ontology, c): c for c in process_classes if notation(ontology, c)}
    main = [n for n in notations if re.fullmatch(r"[1-6]", n)]
    groups = [n for n in notations if re.fullmatch(r"[1-6]\.\d+", n)]
    assert sorted(main) == ["1", "2", "3", "4", "5", "6"]
    assert len(groups) >= 40
    assert {"1.6", "1.10", "3.5", "3.6"} <= set(groups)
    assert len(process_classes) >= 200
    under_separating = set(ontology.transitive_subjects(RDFS.subClassOf, PROC.Separating))
    deepest = max(depth_below(ontology, c, PROC.Separating) for c in under_separating)
    assert deepest >= 4


def test_notations_unique_and_hierarchical(ontology, process_classes):
    seen = {}
    for cls in process_classes:
        n = notation(ontology, cls)
        if n is None:
            continue
        assert n not in seen, f"notation {n} used by {seen.get(n)} and {cls}"
        seen[n] = cls
        if "." in n and re.fullmatch(r"[\d.]+", n):
            parent_n = n.rsplit(".", 1)[0]
            assert parent_n in seen or any(notation(ontology, c) == parent_n for c in process_classes)
            ancestors = set(ontology.transitive_objects(cls, RDFS.subClassOf))
            assert any(notation(ontology, a) == parent_n for a in ancestors), f"{cls} ({n}) not under {parent_n}"


def test_milling_is_3_2_3_under_3_2_under_3(ontology):
    assert notation(ontology, PROC.Milling) == "3.2.3"
    assert (PROC.Milling, RDFS.subClassOf, PROC.MachiningDefinedEdge) in ontology
    assert notation(ontology, PROC.MachiningDefinedEdge) == "3.2"
    assert (PROC.MachiningDefinedEdge, RDFS.subClassOf, PROC.Separating) in ontology
    assert notation(ontology, PROC.Separating) == "3"


def test_seven_am_categories_with_iso_astm_codes(ontology):
    codes = {"BJT": PROC.BinderJetting, "DED": PROC.DirectedEnergyDeposition, "MEX": PROC.MaterialExtrusion,
             "MJT": PROC.MaterialJetting, "PBF": PROC.PowderBedFusion, "SHL": PROC.SheetLamination,
             "VPP": PROC.VatPhotopolymerisation}
    for code, cls in codes.items():
        assert notation(ontology, cls) == code
        assert (cls, RDFS.subClassOf, PROC.AdditiveManufacturing) in ontology
    assert notation(ontology, PROC.AdditiveManufacturing) == "1.10"
    for tech, category in [(PROC.LaserPowderBedFusion, PROC.PowderBedFusion),
                           (PROC.FusedFilamentFabrication, PROC.MaterialExtrusion),
                           (PROC.WireArcAdditiveManufacturing, PROC.DirectedEnergyDeposition),
                           (PROC.PolyJet, PROC.MaterialJetting), (PROC.Stereolithography, PROC.VatPhotopolymerisation)]:
        assert (tech, RDFS.subClassOf, category) in ontology


def test_every_class_has_en_de_labels_definition_and_parent(ontology, process_classes):
    for cls in process_classes:
        langs = {l.language for l in ontology.objects(cls, RDFS.label)}
        assert {"en", "de"} <= langs, cls
        assert any(d.language == "en" for d in ontology.objects(cls, SKOS.definition)), cls
        assert any(p in process_classes or p == PROC.ManufacturingProcess
                   for p in ontology.objects(cls, RDFS.subClassOf)), cls


@pytest.mark.skipif(not REFERENCE.is_file(), reason="reference outline not beside the repository")
def test_crosswalk_covers_the_din_outline(ontology):
    rows = list(csv.DictReader(REFERENCE.open(encoding="utf-8"), delimiter="\t"))
    matches = {}
    for s, p, o in ontology:
        if p in (SKOS.exactMatch, SKOS.closeMatch) and str(o).startswith(DIN):
            matches.setdefault(str(o), set()).add(s)
    for row in rows:
        iri = row["source_iri"]
        assert len(matches.get(iri, ())) == 1, f"{row['notation']} {iri} must be matched by exactly one class"
        cls = next(iter(matches[iri]))
        if row["notation"]:
            assert notation(ontology, cls) == row["notation"], (cls, row["notation"])


@pytest.mark.parametrize("notation_, wrong, right_part", [
    ("1.1.2", "compression molding", "die casting"),
    ("1.1.4", "rotational molding", "centrifugal casting"),
    ("1.4.1", "sintering", "press"),
    ("6.6", "abrasive blasting", "irradiation"),
    ("2.2.3", "compressing", "spinning"),
])
def test_known_odp_label_errors_are_not_repeated(ontology, process_classes, notation_, wrong, right_part):
    cls = next(c for c in process_classes if notation(ontology, c) == notation_)
    label = str(next(l for l in ontology.objects(cls, RDFS.label) if l.language == "en")).lower()
    assert wrong not in label and right_part in label, label


@pytest.mark.parametrize("typed, expected", [
    ("3.2.3", PROC.Milling), ("PBF", PROC.PowderBedFusion), ("laser beam cutting", PROC.LaserBeamCutting),
    ("Fräsen", PROC.Milling), ("SLM", PROC.LaserPowderBedFusion), ("FDM", PROC.FusedFilamentFabrication),
    ("https://w3id.org/maas-kg/process#WireEDM", PROC.WireEDM),
])
def test_processes_resolve_from_what_buyers_type(ontology, typed, expected):
    assert process_index(ontology).resolve(typed) == expected


def test_buyer_processes_are_present(ontology):
    for name in ["CNCTurning", "ThreeAxisMilling", "FiveAxisMilling", "LaserBeamCutting", "PlasmaCutting",
                 "WaterjetCutting", "WireEDM", "SinkerEDM", "SandCasting", "InvestmentCasting", "DieCasting",
                 "InjectionMoulding", "Punching", "PressBrakeBending", "DeepDrawing", "MIGWelding", "MAGWelding",
                 "TIGWelding", "LaserBeamWelding", "PowderCoating", "Anodising", "Electroplating", "CaseHardening",
                 "Nitriding", "ShotPeening", "InspectionAndTesting", "SortingAndGrading", "Reconditioning"]:
        assert (PROC[name], RDFS.label, None) in ontology, name
