"""The ontology modules: parsing, imports, catalog, annotations on every term."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from maas_kg import knowledge

OUR_NAMESPACES = ("https://w3id.org/maas-kg/ns#", "https://w3id.org/maas-kg/process#",
                  "https://w3id.org/maas-kg/material#")
EXPECTED_MODULES = {"maas", "core", "processes", "materials", "capabilities", "iso286", "process-profiles", "exchange-rates",
                    "products", "end-of-life", "resilience", "alignments", "cost-models"}


def ours(term) -> bool:
    return isinstance(term, rdflib.URIRef) and str(term).startswith(OUR_NAMESPACES)


def test_every_module_is_an_ontology_with_a_version_iri(module_graphs):
    assert set(module_graphs) == EXPECTED_MODULES
    for name, graph in module_graphs.items():
        onto = knowledge.module_graph_iri(name)
        assert (onto, RDF.type, OWL.Ontology) in graph, f"{name}.ttl must declare <{onto}> an owl:Ontology"
        version = graph.value(onto, OWL.versionIRI)
        assert version is not None and str(version).startswith(str(onto) + "/"), name


def test_top_module_imports_every_module(module_graphs):
    top = knowledge.module_graph_iri("maas")
    imported = {str(o) for o in module_graphs["maas"].objects(top, OWL.imports)}
    assert imported == {str(knowledge.module_graph_iri(m)) for m in EXPECTED_MODULES - {"maas"}}


def test_catalog_resolves_every_import_offline(module_graphs):
    catalog = ET.parse(knowledge.ontology_dir() / "catalog-v001.xml")
    ns = {"c": "urn:oasis:names:tc:entity:xmlns:xml:catalog"}
    mapping = {u.get("name"): u.get("uri") for u in catalog.getroot().iterfind(".//c:uri", ns)}
    imports = {str(o) for g in module_graphs.values() for o in g.objects(None, OWL.imports)}
    assert imports, "modules import each other"
    for iri in imports:
        assert iri in mapping, f"catalog-v001.xml has no entry for {iri}"
        assert (knowledge.ontology_dir() / mapping[iri]).is_file(), mapping[iri]


def _declared(graph, kinds):
    for kind in kinds:
        for term in graph.subjects(RDF.type, kind):
            if ours(term):
                yield term


def _langs(graph, term, predicate):
    return {o.language for o in graph.objects(term, predicate) if isinstance(o, rdflib.Literal)}


def test_every_class_and_property_has_en_de_labels_and_a_definition(ontology):
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    missing = []
    for term in set(_declared(ontology, kinds)):
        labels = _langs(ontology, term, RDFS.label)
        if not {"en", "de"} <= labels or "en" not in _langs(ontology, term, SKOS.definition):
            missing.append(str(term))
    assert not missing, f"terms without en+de label or en definition: {sorted(missing)[:20]}"


def test_reference_individuals_have_labels_and_definitions(ontology):
    rows = knowledge.MAAS.ITToleranceValue  # data rows of the ISO 286 table, not vocabulary
    missing = []
    for term in set(_declared(ontology, (OWL.NamedIndividual,))):
        if (term, RDF.type, rows) in ontology:
            continue
        if not {"en", "de"} <= _langs(ontology, term, RDFS.label) or not _langs(ontology, term, SKOS.definition):
            missing.append(str(term))
    assert not missing, sorted(missing)[:20]


def test_no_term_of_ours_is_used_without_being_declared(ontology):
    declared = {s for s in ontology.subjects(RDF.type, None) if ours(s)}
    used = {t for triple in ontology for t in triple if ours(t)}
    assert not sorted(used - declared), "used but never declared (typo in an IRI?)"


def test_pinned_iris_exist(ontology):
    text = (knowledge.ontology_dir() / "CONVENTIONS.md").read_text()
    section = text.split("## Pinned IRIs", 1)[1]
    import re
    names = set(re.findall(r"`([A-Z][A-Za-z0-9_]+)`", section))
    classes = {str(c) for c in ontology.subjects(RDF.type, OWL.Class)}
    missing = [n for n in names
               if str(knowledge.PROC[n]) not in classes and str(knowledge.MAT[n]) not in classes]
    assert not missing, f"pinned in CONVENTIONS.md but not defined: {sorted(missing)}"


def test_units_are_qudt_unit_iris(ontology):
    has_unit = rdflib.URIRef("http://qudt.org/schema/qudt/hasUnit")
    units = list(ontology.subject_objects(has_unit))
    assert len(units) >= 20
    for prop, unit in units:
        assert str(unit).startswith("http://qudt.org/vocab/unit/"), (prop, unit)


def test_no_term_is_declared_as_two_kinds_of_property(ontology):
    """OWL 2 DL keeps object, datatype and annotation properties apart: one IRI declared as two of them (easy when
    two modules need a "step process") makes the ontology OWL 2 Full."""
    kinds = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    declared: dict = {}
    for kind in kinds:
        for term in ontology.subjects(RDF.type, kind):
            declared.setdefault(term, set()).add(kind)
    assert {str(t): sorted(map(str, k)) for t, k in declared.items() if len(k) > 1} == {}


def test_model_parameters_are_declared_in_the_ontology():
    from maas_kg import knowledge
    from maas_kg.errors import Misconfigured

    assert knowledge.parameter("road_freight_km_per_day") == 500
    assert knowledge.parameter("recycling_efficiency") == 0.8
    assert knowledge.parameter("minimum_alternatives") == 3
    with pytest.raises(Misconfigured, match="no model parameter 'speed of light'"):
        knowledge.parameter("speed of light")


def test_an_editor_changes_a_model_parameter_in_turtle(tmp_path):
    # a copy of the ontology whose road freight covers 250 km a day: a 600 km leg takes 3 days instead of 2 (the
    # ontology is read once per process, as a server reads it at start)
    import shutil
    import subprocess
    import sys

    from maas_kg import knowledge

    copy = tmp_path / "ontology"
    shutil.copytree(knowledge.ontology_dir(), copy)
    core = copy / "core.ttl"
    text = core.read_text(encoding="utf-8")
    stated = 'skos:notation "road_freight_km_per_day" ;\n    maas:parameterValue "500"^^xsd:decimal'
    assert stated in text
    core.write_text(text.replace(stated, stated.replace('"500"', '"250"')), encoding="utf-8")
    leg = "from maas_kg.execution.planning import _leg; print(_leg((48.0, 9.0), (48.0 + 600 / 111.2, 9.0))['days'])"
    days = [subprocess.run([sys.executable, "-c", leg], capture_output=True, text=True, check=True,
                           env={**os.environ, **extra}).stdout.strip()
            for extra in ({}, {"MAAS_KG_ONTOLOGY_DIR": str(copy)})]
    assert days == ["2", "3"]
