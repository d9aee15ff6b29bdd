"""SHACL shapes: conforming examples conform, and every constraint of every property shape has a violating
example (derived from the conforming example by one mutation) that reports that constraint with its message."""

from __future__ import annotations

import datetime
import decimal

import pyoxigraph
import pytest
import rdflib
from rdflib.namespace import RDF, RDFS, SH, XSD

from maas_kg import knowledge
from maas_kg.knowledge import MAAS, PROC
from maas_kg.knowledge.validation import validate_data, validate_taxonomy

EX = rdflib.Namespace("https://w3id.org/maas-kg/id/")
BASES = {"service.ttl": "service-valid.ttl", "product.ttl": "product-valid.ttl"}
COMPONENTS = {
    SH.minCount: SH.MinCountConstraintComponent, SH.maxCount: SH.MaxCountConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent, SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent, SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent, SH["class"]: SH.ClassConstraintComponent,
    SH.node: SH.NodeConstraintComponent, SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
}


def _shapes(name):
    return rdflib.Graph().parse(knowledge.shapes_dir() / name)


def _cases():
    for shapes_file, base in BASES.items():
        shapes = _shapes(shapes_file)
        for ps in sorted(shapes.subjects(RDF.type, SH.PropertyShape)):
            for param in COMPONENTS:
                for value in shapes.objects(ps, param):
                    if param == SH.minCount and int(value) == 0:
                        continue
                    yield pytest.param(shapes_file, base, ps, param, value,
                                       id=f"{str(ps).rsplit('#', 1)[1]}-{str(param).rsplit('#', 1)[1]}")


def _focus(shapes, base, ps):
    """A node the property shape targets in the base example, preferring one that states the path."""
    target = shapes.value(ps, SH.targetClass)
    assert target is not None, f"{ps} must carry its own sh:targetClass"
    classes = set(knowledge.ontology_graph().transitive_subjects(RDFS.subClassOf, target)) | {target}
    focus = sorted({s for c in classes for s in base.subjects(RDF.type, c)})
    assert focus, f"no focus node for {ps} in the base example: extend the example"
    path = shapes.value(ps, SH.path)
    stating = [f for f in focus if (f, path, None) in base]
    return (stating or focus)[0]


def _shifted(literal: rdflib.Literal, delta: int) -> rdflib.Literal:
    value = literal.toPython()
    if isinstance(value, datetime.date):
        return rdflib.Literal(value + datetime.timedelta(days=delta), datatype=XSD.date)
    if isinstance(value, (int, decimal.Decimal, float)):
        return rdflib.Literal(value + delta, datatype=literal.datatype)
    return rdflib.Literal(f"{value} ({delta})", datatype=literal.datatype, lang=literal.language)


def _mutate(data, shapes, ps, param, value, focus):
    path = shapes.value(ps, SH.path)
    current = sorted(data.objects(focus, path))
    datatype = shapes.value(ps, SH.datatype) or XSD.decimal

    def replace(new):
        data.remove((focus, path, None))
        data.add((focus, path, new))

    if param == SH.minCount:
        data.remove((focus, path, None))
    elif param == SH.maxCount:
        assert current, f"{ps}: the base example must use {path} to test maxCount"
        for i in range(int(value)):
            data.add((focus, path, _shifted(current[0], i + 1) if isinstance(current[0], rdflib.Literal)
                      else rdflib.BNode()))
    elif param == SH.datatype:
        replace(rdflib.Literal(42) if value == XSD.string else rdflib.Literal("not a value"))
    elif param == SH.minExclusive:
        replace(rdflib.Literal(value.toPython(), datatype=datatype))
    elif param == SH.minInclusive:
        replace(rdflib.Literal(value.toPython() - 1, datatype=datatype))
    elif param == SH.maxInclusive:
        replace(rdflib.Literal(value.toPython() + 1, datatype=datatype))
    elif param == SH.minLength:
        replace(rdflib.Literal(""))
    elif param == SH["class"]:
        replace(EX["not-a-" + str(value).rsplit("#", 1)[1]])
    elif param == SH.node:
        replace(EX["unknown-term"])
    elif param == SH["in"]:
        replace(rdflib.Literal("ZZ"))
    elif param == SH.lessThanOrEquals:
        other = data.value(focus, value)
        assert current and other is not None, f"{ps}: the base example must state both {path} and {value}"
        replace(_shifted(other, 1))


@pytest.mark.parametrize("name", ["service-valid.ttl", "product-valid.ttl"])
def test_conforming_examples_conform(examples_dir, name):
    report = validate_data(rdflib.Graph().parse(examples_dir / name))
    assert report.conforms, report.as_text()


def _violating_example(examples_dir, shapes_file, base, ps, param, value):
    """The base example with one mutation that breaks constraint ``param`` of property shape ``ps``."""
    shapes = _shapes(shapes_file)
    data = rdflib.Graph().parse(examples_dir / base)
    _mutate(data, shapes, ps, param, value, _focus(shapes, data, ps))
    return shapes, data


@pytest.mark.parametrize("shapes_file, base, ps, param, value", list(_cases()))
def test_each_constraint_has_a_violating_example(examples_dir, shapes_file, base, ps, param, value):
    shapes, data = _violating_example(examples_dir, shapes_file, base, ps, param, value)
    report = validate_data(data)
    assert not report.conforms
    hits = [v for v in report.violations if v.shape == str(ps) and v.component == str(COMPONENTS[param])]
    assert hits, f"expected {COMPONENTS[param]} from {ps}; got:\n{report.as_text()}"
    assert hits[0].message == str(shapes.value(ps, SH.message))


def _number_or_text(value):
    try:  # rdflib writes -5 as -5.0 in pyshacl's report; the value is the same
        return float(value)
    except (TypeError, ValueError):
        return value


def _comparable(violations):
    # blank-node shape names differ between validators; everything a provider reads must not
    return sorted({(v.focus, v.path, _number_or_text(v.value), v.message, v.component) for v in violations}, key=str)


def _as_parsed(data):
    """The graph as a parser gives it (rdflib literals built in Python can carry non-standard values)."""
    return rdflib.Graph().parse(data=data.serialize(format="nt"), format="nt")


def _assert_validators_agree(data):
    from maas_kg.catalogue.shacl_sparql import validate_triples
    from maas_kg.rdf import to_oxigraph

    triples = [pyoxigraph.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in data]
    assert _comparable(validate_triples(triples)) == _comparable(validate_data(data).violations)


@pytest.mark.parametrize("shapes_file, base, ps, param, value", list(_cases()))
def test_sparql_validator_reports_what_pyshacl_reports(examples_dir, shapes_file, base, ps, param, value):
    _, data = _violating_example(examples_dir, shapes_file, base, ps, param, value)
    _assert_validators_agree(_as_parsed(data))


@pytest.mark.parametrize("name", sorted(p.name for p in (knowledge.shapes_dir() / "examples").glob("*.ttl")))
def test_sparql_validator_agrees_on_every_shapes_example(examples_dir, name):
    _assert_validators_agree(rdflib.Graph().parse(examples_dir / name))


def test_sparql_validator_compiles_the_data_shapes_and_refuses_what_it_cannot():
    from maas_kg.catalogue.shacl_sparql import supported

    assert supported(knowledge.load_shapes())
    assert not supported(rdflib.Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:pattern "^a" ; sh:flags "i" .""",
        format="turtle"))


def test_every_data_shape_has_a_message_for_providers():
    for name in knowledge.DATA_SHAPES:
        shapes = _shapes(name)
        for ps in shapes.subjects(RDF.type, SH.PropertyShape):
            assert shapes.value(ps, SH.message), ps


def test_unknown_process_is_rejected_naming_the_field(examples_dir):
    report = validate_data(rdflib.Graph().parse(examples_dir / "service-invalid-process.ttl"))
    assert not report.conforms
    by_path = {v.path: v for v in report.violations}
    process = by_path[str(MAAS.processType)]
    assert process.message.startswith("process must name") and process.value == str(PROC.Knitting)
    assert by_path[str(MAAS.envelopeZ)].message.startswith("envelope_z must be a positive length in mm")
    assert str(MAAS.minBatchSize) in by_path and str(MAAS.currency) in by_path


def test_taxonomy_qa_passes_on_the_shipped_taxonomy(module_graphs):
    taxonomy = module_graphs["processes"] + module_graphs["materials"]
    report = validate_taxonomy(taxonomy)
    assert report.conforms, report.as_text()


def test_taxonomy_qa_catches_a_broken_extension(module_graphs):
    extension = rdflib.Graph().parse(data="""
        @prefix proc: <https://w3id.org/maas-kg/process#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix owl:  <http://www.w3.org/2002/07/owl#> .
        proc:Knitting a owl:Class ; rdfs:subClassOf proc:Milling ; rdfs:label "knitting"@en ;
            skos:notation "3.2.3" .
        proc:Orphan a owl:Class ; rdfs:label "orphan"@en , "Waise"@de ; skos:definition "A class without parent."@en .
        proc:Misplaced a owl:Class ; rdfs:subClassOf proc:Turning ; rdfs:label "misplaced"@en , "falsch"@de ;
            skos:definition "Its notation does not extend its parent's."@en ; skos:notation "3.2.9.4" .
        proc:LoopA a owl:Class ; rdfs:subClassOf proc:LoopB , proc:Milling ; rdfs:label "a"@en , "a"@de ;
            skos:definition "Half of a cycle."@en .
        proc:LoopB a owl:Class ; rdfs:subClassOf proc:LoopA ; rdfs:label "b"@en , "b"@de ;
            skos:definition "Other half of a cycle."@en .
    """, format="turtle")
    report = validate_taxonomy(module_graphs["processes"] + module_graphs["materials"] + extension)
    assert not report.conforms
    text = report.as_text()
    knitting = [v.message for v in report.violations if v.focus == str(PROC.Knitting)]
    assert any("German rdfs:label" in m for m in knitting)
    assert any("skos:definition" in m for m in knitting)
    assert any("must be unique" in m for m in knitting)
    assert any("needs a parent inside the process taxonomy" in v.message for v in report.violations
               if v.focus == str(PROC.Orphan)), text
    assert any("must extend the notation" in v.message for v in report.violations
               if v.focus == str(PROC.Misplaced)), text
    assert any("cycle" in v.message for v in report.violations if v.focus == str(PROC.LoopA)), text


@pytest.mark.parametrize("base, focus, path", [
    ("service-valid.ttl", "https://w3id.org/maas-kg/id/service-weber-5axis", MAAS.processType),
    ("service-valid.ttl", "https://w3id.org/maas-kg/id/service-weber-5axis", MAAS.material),
    ("product-valid.ttl", "https://w3id.org/maas-kg/id/product-gearbox-shaft", MAAS.requiredTreatment),
    ("product-valid.ttl", "https://w3id.org/maas-kg/id/product-gearbox-shaft", MAAS.material),
])
def test_taxonomy_terms_are_checked_once_per_value_and_reported_per_node(examples_dir, base, focus, path):
    data = rdflib.Graph().parse(examples_dir / base)
    node = rdflib.URIRef(focus)
    data.remove((node, path, None))
    data.add((node, path, EX["unknown-term"]))
    report = validate_data(data)
    hits = [v for v in report.violations if v.focus == focus and v.path == str(path)]
    assert hits and hits[0].value == str(EX["unknown-term"])
    field = {MAAS.processType: "process", MAAS.material: "material", MAAS.requiredTreatment: "finish"}[path]
    assert hits[0].message.startswith(field)
