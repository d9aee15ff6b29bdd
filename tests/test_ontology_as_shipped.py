"""The ontology as an editor opens it: Protégé follows catalog-v001.xml from maas.ttl, and HermiT reasons over the
files as they are, with no datatype rewritten. HermiT implements exactly the OWL 2 datatype map."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import rdflib
from hypothesis import given
from hypothesis import strategies as st
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD

from maas_kg import knowledge
from maas_kg.knowledge.reasoning import (OWL2_DATATYPE_MAP, check_consistency, datatypes_outside_owl2_map, hermit_jar,
                                         load_via_catalog)

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a Java runtime (java not on PATH)")
MAAS = rdflib.Namespace("https://w3id.org/maas-kg/ns#")

# OWL 2 Web Ontology Language Structural Specification and Functional-Style Syntax (Second Edition), W3C
# Recommendation 11 December 2012, section 4 "Datatype Maps", tables 3 to 10, written out here independently of the
# code under test.
SPEC_DATATYPE_MAP = {
    "4.1": [OWL.real, OWL.rational, XSD.decimal, XSD.integer, XSD.nonNegativeInteger, XSD.nonPositiveInteger,
            XSD.positiveInteger, XSD.negativeInteger, XSD.long, XSD.int, XSD.short, XSD.byte, XSD.unsignedLong,
            XSD.unsignedInt, XSD.unsignedShort, XSD.unsignedByte],
    "4.2": [XSD.double, XSD.float],
    "4.3": [RDF.PlainLiteral, XSD.string, XSD.normalizedString, XSD.token, XSD.language, XSD.Name, XSD.NCName,
            XSD.NMTOKEN],
    "4.4": [XSD.boolean],
    "4.5": [XSD.hexBinary, XSD.base64Binary],
    "4.6": [XSD.anyURI],
    "4.7": [XSD.dateTime, XSD.dateTimeStamp],
    "4.8": [RDF.XMLLiteral],
}
SPEC_DATATYPES = {iri for section in SPEC_DATATYPE_MAP.values() for iri in section}
# XML Schema 1.1 datatypes that OWL 2 leaves out of its map
XSD_OUTSIDE_THE_MAP = [XSD.date, XSD.time, XSD.gYear, XSD.gYearMonth, XSD.gMonth, XSD.gMonthDay, XSD.gDay,
                       XSD.duration, XSD.dayTimeDuration, XSD.yearMonthDuration, XSD.QName, XSD.NOTATION, XSD.ENTITY,
                       XSD.ID, XSD.IDREF]
DATE_PROPERTIES = {MAAS.validFrom: "service.ttl", MAAS.validUntil: "service.ttl", MAAS.dueDate: "product.ttl"}


def test_the_code_knows_the_datatype_map_of_the_specification():
    assert len(SPEC_DATATYPES) == 33
    assert OWL2_DATATYPE_MAP == SPEC_DATATYPES


def test_every_range_and_literal_of_the_shipped_files_uses_the_owl2_datatype_map(module_graphs):
    usable = SPEC_DATATYPES | {RDFS.Literal}
    for name, graph in module_graphs.items():
        ranges = {o for p in graph.subjects(RDF.type, OWL.DatatypeProperty) for o in graph.objects(p, RDFS.range)}
        literals = {o.datatype for o in graph.objects() if isinstance(o, rdflib.Literal) and o.datatype}
        assert ranges <= usable, f"{name}.ttl: ranges outside the OWL 2 datatype map: {ranges - usable}"
        assert literals <= usable, f"{name}.ttl: literals outside the OWL 2 datatype map: {literals - usable}"
        assert datatypes_outside_owl2_map(graph) == [], name


def test_date_properties_leave_their_range_to_the_shapes(ontology):
    """xsd:date is outside the map, so the ontology states no range and the shapes keep checking calendar dates."""
    for prop, shapes_file in DATE_PROPERTIES.items():
        assert ontology.value(prop, RDFS.range) is None, prop
        shapes = rdflib.Graph().parse(knowledge.shapes_dir() / shapes_file)
        checked = {shapes.value(shape, SH.datatype) for shape in shapes.subjects(SH.path, prop)}
        assert checked == {XSD.date}, f"{shapes_file} must check {prop} as xsd:date"


def test_protege_reaches_every_module_from_maas_ttl_through_the_catalog(ontology):
    graph, files = load_via_catalog(knowledge.ontology_dir() / "maas.ttl")
    assert sorted(files) == sorted(knowledge.ontology_modules().values())
    assert isomorphic(graph, ontology), "the catalog view and the folder view of the ontology differ"


@given(st.sampled_from(XSD_OUTSIDE_THE_MAP + sorted(SPEC_DATATYPES | {RDFS.Literal})), st.booleans())
def test_exactly_the_datatypes_outside_the_map_are_reported(datatype, as_literal):
    graph = rdflib.Graph()
    prop = MAAS.someValue
    graph.add((prop, RDF.type, OWL.DatatypeProperty))
    if as_literal:
        graph.add((MAAS.thing, prop, rdflib.Literal("1", datatype=datatype)))
    else:
        graph.add((prop, RDFS.range, datatype))
    reported = datatypes_outside_owl2_map(graph)
    assert bool(reported) == (datatype in XSD_OUTSIDE_THE_MAP)
    assert all("maas-kg/ns#someValue" in line for line in reported)


def test_an_extension_with_a_date_range_is_refused_with_what_to_fix(ontology):
    extension = rdflib.Graph().parse(data="""
        @prefix maas: <https://w3id.org/maas-kg/ns#> .
        @prefix owl:  <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
        maas:calibratedOn a owl:DatatypeProperty ; rdfs:range xsd:date .
    """, format="turtle")
    result = check_consistency(ontology + extension)
    assert not result.ok
    assert len(result.unsupported_datatypes) == 1 and "calibratedOn" in result.unsupported_datatypes[0]
    assert "OWL 2 datatype map" in result.message and "xsd:dateTime" in result.message


@needs_java
def test_hermit_reasons_over_the_files_opened_through_the_catalog():
    graph, _ = load_via_catalog(knowledge.ontology_dir() / "maas.ttl")
    result = check_consistency(graph)
    assert result.ok, result.message
    assert result.classes > 400


@needs_java
def test_hermit_reads_core_ttl_itself():
    """core.ttl (which holds the date properties and imports nothing) given to HermiT's own OWL API loader, byte for
    byte, as Protégé would read it."""
    core = knowledge.ontology_modules()["core"]
    run = subprocess.run(["java", "-cp", str(hermit_jar()), "org.semanticweb.HermiT.cli.CommandLine",
                          "--consistency", "--unsatisfiable", "--no-prefixes", core.as_uri()],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Thing is satisfiable" in run.stdout


@needs_java
def test_hermit_names_an_unsatisfiable_class(ontology):
    extension = rdflib.Graph().parse(data="""
        @prefix maas: <https://w3id.org/maas-kg/ns#> .
        @prefix owl:  <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        maas:ServiceProvider a owl:Class ; rdfs:subClassOf maas:Provider , maas:ManufacturingService .
    """, format="turtle")
    result = check_consistency(ontology + extension)
    assert result.consistent and not result.ok
    assert result.unsatisfiable == ["https://w3id.org/maas-kg/ns#ServiceProvider"]
