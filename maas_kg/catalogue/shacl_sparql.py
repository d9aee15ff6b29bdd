"""SHACL Core validation of the data shapes as SPARQL, run in an in-memory Oxigraph store.

pyshacl evaluates shapes node by node in Python, which bounds publishing at a few hundred services per second. The
data shapes use a small part of SHACL Core (targets by class and by objects of a property; sh:minCount, sh:maxCount,
sh:datatype, sh:class, sh:in, sh:minExclusive, sh:minInclusive, sh:maxInclusive, sh:minLength, sh:pattern without
sh:flags, sh:lessThanOrEquals, and sh:hasValue over a zero-or-more path), so each constraint compiles to one SPARQL
query that returns its violations. :func:`supported` tells whether a shapes graph stays within that part;
:mod:`maas_kg.knowledge.validation` falls back to pyshacl otherwise, and a test compares both validators on every
constraint's violating example.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH, XSD

from maas_kg import knowledge
from maas_kg.errors import Misconfigured
from maas_kg.knowledge.validation import Violation

_NUMERIC = {str(XSD[t]) for t in ("decimal", "integer", "double", "float", "int", "long", "nonNegativeInteger",
                                   "positiveInteger", "short", "byte")}
_CASTABLE = {str(XSD.date): "xsd:date", str(XSD.dateTime): "xsd:dateTime", str(XSD.boolean): "xsd:boolean"}
_PARAMETERS = {SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH["in"], SH.minExclusive, SH.minInclusive,
               SH.maxInclusive, SH.minLength, SH.pattern, SH.lessThanOrEquals, SH.hasValue}
_IGNORED = {RDF.type, SH.path, SH.message, SH.group, SH.targetClass, SH.targetObjectsOf, SH.property, SH.name,
            SH.description, SH.order, rdflib.RDFS.label, rdflib.RDFS.comment, SH.severity}
_PREFIXES = ("PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
             "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n")


class UnsupportedShapes(Misconfigured, ValueError):
    """The shapes use SHACL features this validator does not compile."""


@dataclass(frozen=True)
class _Check:
    query: str
    shape: str
    component: str
    message: str
    path: str | None
    targeted_property: str | None  # report against the subjects stating the value with this property
    reports_value: bool  # the query binds ?value (the offending value), not only ?focus
    target_classes: frozenset[str] = frozenset()  # the check can only report data with one of these types ...
    target_properties: frozenset[str] = frozenset()  # ... or one of these properties


def _sparql(node: rdflib.term.Node) -> str:
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if isinstance(node, rdflib.Literal):
        return node.n3()
    raise UnsupportedShapes(f"cannot compile {node!r}")


def _shape_name(node) -> str:
    return str(node) if isinstance(node, rdflib.URIRef) else f"_:{node}"


def _targets(shapes: rdflib.Graph, shape) -> tuple[list, list]:
    """The target classes and the target properties (sh:targetObjectsOf) of the shape or its node shape."""
    owners = [shape, *shapes.subjects(SH.property, shape)]
    return ([c for owner in owners for c in shapes.objects(owner, SH.targetClass)],
            [p for owner in owners for p in shapes.objects(owner, SH.targetObjectsOf)])


def _focus_pattern(shapes: rdflib.Graph, shape) -> tuple[str, str | None]:
    """The pattern binding ?focus for the shape's targets (or its node shape's), and the targeted property."""
    classes, properties = _targets(shapes, shape)
    patterns = [f"{{ ?focus rdf:type/rdfs:subClassOf* {_sparql(cls)} }}" for cls in classes]
    patterns += [f"{{ ?anyone {_sparql(prop)} ?focus }}" for prop in properties]
    if not patterns:
        raise UnsupportedShapes(f"shape {shape} has no target this validator understands")
    return f"{{ SELECT DISTINCT ?focus WHERE {{ {' UNION '.join(patterns)} }} }}", \
        (str(properties[-1]) if properties else None)


def _path(shapes: rdflib.Graph, shape) -> tuple[str, str | None]:
    path = shapes.value(shape, SH.path)
    if isinstance(path, rdflib.URIRef):
        return f"<{path}>", str(path)
    inner = shapes.value(path, SH.zeroOrMorePath) if path is not None else None
    if isinstance(inner, rdflib.URIRef):
        return f"<{inner}>*", None
    raise UnsupportedShapes(f"shape {shape} has a path this validator does not compile")


def _value_checks(parameter, value, shapes: rdflib.Graph) -> tuple[str, str]:
    """A FILTER expression that is true for a violating ?value, and the constraint component."""
    if parameter == SH.datatype:
        dt = str(value)
        # a literal of the datatype must also be well-formed: numbers must be numbers, dates must cast
        well_formed = ("isNumeric(?value)" if dt in _NUMERIC
                       else f"COALESCE(STR({_CASTABLE[dt]}(STR(?value))) != \"\", false)" if dt in _CASTABLE
                       else "true")
        return (f"!(isLiteral(?value) && DATATYPE(?value) = <{dt}> && {well_formed})",
                str(SH.DatatypeConstraintComponent))
    if parameter == SH["class"]:
        return (f"NOT EXISTS {{ ?value rdf:type/rdfs:subClassOf* {_sparql(value)} }}",
                str(SH.ClassConstraintComponent))
    if parameter == SH["in"]:
        members = list(rdflib.collection.Collection(shapes, value))
        return (f"?value NOT IN ({', '.join(_sparql(m) for m in members)})",
                str(SH.InConstraintComponent))
    comparisons = {SH.minExclusive: (">", SH.MinExclusiveConstraintComponent),
                   SH.minInclusive: (">=", SH.MinInclusiveConstraintComponent),
                   SH.maxInclusive: ("<=", SH.MaxInclusiveConstraintComponent)}
    if parameter in comparisons:
        operator, component = comparisons[parameter]
        return f"!COALESCE(?value {operator} {_sparql(value)}, false)", str(component)
    if parameter == SH.minLength:
        return (f"isBlank(?value) || !COALESCE(STRLEN(STR(?value)) >= {int(value)}, false)",
                str(SH.MinLengthConstraintComponent))
    if parameter == SH.pattern:  # SHACL 4.4.3: a blank node violates, any other value is matched as its STR
        return (f"isBlank(?value) || !COALESCE(REGEX(STR(?value), {_sparql(rdflib.Literal(str(value)))}), false)",
                str(SH.PatternConstraintComponent))
    raise UnsupportedShapes(f"{parameter} is not compiled")


def compile_shapes(shapes: rdflib.Graph) -> list[_Check]:
    """One SPARQL query per constraint of every property shape with a target (directly or via its node shape)."""
    checks: list[_Check] = []
    property_shapes = set(shapes.subjects(SH.path, None))
    for shape in sorted(property_shapes, key=str):
        for parameter in set(shapes.predicates(shape, None)) - _IGNORED:
            if parameter not in _PARAMETERS:
                raise UnsupportedShapes(f"{parameter} (in {shape}) is not compiled")
        focus, targeted = _focus_pattern(shapes, shape)
        path, path_iri = _path(shapes, shape)
        message = str(shapes.value(shape, SH.message) or "constraint not met")
        name = _shape_name(shape)
        classes, properties = _targets(shapes, shape)

        def add(select: str, component: str) -> None:
            checks.append(_Check(_PREFIXES + select, name, component, message, path_iri, targeted,
                                 select.startswith("SELECT ?focus ?value"),
                                 frozenset(map(str, classes)), frozenset(map(str, properties))))

        for parameter, value in shapes.predicate_objects(shape):
            if parameter == SH.minCount and int(value) > 0:
                add(f"SELECT ?focus WHERE {{ {focus} FILTER NOT EXISTS {{ "
                    f"SELECT ?focus WHERE {{ ?focus {path} ?v }} GROUP BY ?focus HAVING (COUNT(DISTINCT ?v) >= {int(value)}) }} }}",
                    str(SH.MinCountConstraintComponent))
            elif parameter == SH.maxCount:
                add(f"SELECT ?focus WHERE {{ {focus} ?focus {path} ?v }} GROUP BY ?focus "
                    f"HAVING (COUNT(DISTINCT ?v) > {int(value)})", str(SH.MaxCountConstraintComponent))
            elif parameter == SH.hasValue:
                add(f"SELECT ?focus WHERE {{ {focus} FILTER NOT EXISTS {{ ?focus {path} {_sparql(value)} }} }}",
                    str(SH.HasValueConstraintComponent))
            elif parameter == SH.lessThanOrEquals:
                add(f"SELECT ?focus ?value WHERE {{ {focus} ?focus {path} ?value ; {_sparql(value)} ?other . "
                    f"FILTER(!COALESCE(?value <= ?other, false)) }}", str(SH.LessThanOrEqualsConstraintComponent))
            elif parameter in _PARAMETERS - {SH.minCount, SH.maxCount, SH.hasValue, SH.lessThanOrEquals}:
                condition, component = _value_checks(parameter, value, shapes)
                add(f"SELECT ?focus ?value WHERE {{ {focus} ?focus {path} ?value . FILTER({condition}) }}", component)
    return checks


def supported(shapes: rdflib.Graph) -> bool:
    try:
        compile_shapes(shapes)
    except UnsupportedShapes:
        return False
    return True


@functools.cache
def _compiled_data_shapes() -> tuple[_Check, ...]:
    from maas_kg.knowledge import load_shapes

    return tuple(compile_shapes(load_shapes()))


@knowledge.per_ontology
def _ontology_quads() -> tuple[ox.Quad, ...]:
    from maas_kg.knowledge.validation import validation_ontology
    from maas_kg.rdf import to_oxigraph

    return tuple(ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), ox.DefaultGraph())
                 for s, p, o in validation_ontology())


@knowledge.per_ontology
def _ontology_quads_in_graph() -> tuple[ox.Quad, ...]:
    return tuple(ox.Quad(q.subject, q.predicate, q.object, _ONTOLOGY_GRAPH) for q in _ontology_quads())


def _text(term) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


_ONTOLOGY_GRAPH = ox.NamedNode("urn:maas-kg:validation-ontology")
# the types and properties a graph uses: with the types' superclasses, the targets that can have a focus node
_USED_TERMS = "SELECT DISTINCT ?t WHERE { { ?x <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ?t } UNION { ?x ?t ?o } }"


@knowledge.per_ontology
def _ontology_targets() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """The targets the validation ontology itself meets (its own typed nodes and properties count, as the checks see
    it as part of the data), and every class's superclasses."""
    store = ox.Store()
    store.extend(_ontology_quads())
    superclasses: dict[str, set[str]] = {}
    for row in store.query(_PREFIXES + "SELECT ?c ?s WHERE { ?c rdfs:subClassOf* ?s . FILTER(isIRI(?c) && isIRI(?s)) }"):
        superclasses.setdefault(row["c"].value, set()).add(row["s"].value)
    used = {row["t"].value for row in store.query(_USED_TERMS)}
    present = set(used) | {s for t in used for s in superclasses.get(t, ())}
    return frozenset(present), {c: frozenset(s) for c, s in superclasses.items()}


def _targets_present(store: ox.Store) -> set[str]:
    """Every class an instance in the default graph has (with its superclasses), every property it uses, and the
    ontology's own: a check whose targets are none of these has no focus node."""
    ontology_present, superclasses = _ontology_targets()
    used = {row["t"].value for row in store.query(_USED_TERMS)}
    return used | ontology_present | {s for t in used for s in superclasses.get(t, ())}


def with_validation_ontology(store: ox.Store) -> ox.NamedNode:
    """Add the part of the ontology validation reads (``validation.validation_ontology``) to ``store`` in a named
    graph, once; return that graph."""
    if not store.contains_named_graph(_ONTOLOGY_GRAPH):
        store.extend(_ontology_quads_in_graph())
    return _ONTOLOGY_GRAPH


def validate_triples(triples: Iterable[ox.Triple], checks: tuple[_Check, ...] | None = None) -> list[Violation]:
    """Validate instance data against the data shapes (and the types and class hierarchy of the ontology)."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    return validate_store(store, checks)


def validate_store(store: ox.Store, checks: tuple[_Check, ...] | None = None) -> list[Violation]:
    """Validate the default graph of ``store`` in place (the ontology's types and class hierarchy are added to it in a
    named graph that the queries see as part of their default graph)."""
    dataset = [ox.DefaultGraph(), with_validation_ontology(store)]
    violations: set[Violation] = set()
    # only the checks whose targets occur in the data: a product meets 70 of the 203 checks (22 ms -> 7 ms)
    present = _targets_present(store)
    for check in checks or _compiled_data_shapes():
        if present.isdisjoint(check.target_classes) and present.isdisjoint(check.target_properties):
            continue
        for row in store.query(check.query, default_graph=dataset):
            focus, value = row["focus"], (row["value"] if check.reports_value else None)
            common = dict(message=check.message, shape=check.shape, component=check.component)
            if check.targeted_property is not None:
                subjects = {q.subject for q in store.quads_for_pattern(
                    None, ox.NamedNode(check.targeted_property), focus, ox.DefaultGraph())}
                violations.update(Violation(focus=_text(s) or "", path=check.targeted_property,
                                            value=_text(focus), **common) for s in subjects)
            else:
                violations.add(Violation(focus=_text(focus) or "", path=check.path, value=_text(value), **common))
    return sorted(violations, key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))


def validate_instances(triples: Iterable[ox.Triple], *, store: ox.Store | None = None) -> list[Violation]:
    """Validate with the compiled data shapes (in ``store``'s default graph when given, which must hold exactly
    ``triples``); with pyshacl when the shapes use a feature not compiled here."""
    try:
        checks = _compiled_data_shapes()
    except UnsupportedShapes:
        from maas_kg.knowledge.validation import validate_data
        from maas_kg.rdf import to_rdflib

        return validate_data(to_rdflib(triples), owned=True).violations
    triples = list(triples)
    if (store is None or not store.contains_named_graph(_ONTOLOGY_GRAPH)) and len(triples) < len(_ontology_quads()):
        # smaller than the ontology (a product, a service): the data goes into this thread's store that holds the
        # ontology, rather than the ontology into the data's store; 5% of a served match's CPU time
        scratch = _scratch_store()
        scratch.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
        try:
            return validate_store(scratch, checks)
        finally:
            scratch.clear_graph(ox.DefaultGraph())
    return validate_store(store, checks) if store is not None else validate_triples(triples, checks)


_SCRATCH = threading.local()


def _scratch_store() -> ox.Store:
    """This thread's validation store: the validation ontology of the ontology in force, and nothing else."""
    key = knowledge.ontology_key()
    if getattr(_SCRATCH, "key", None) != key:
        _SCRATCH.store, _SCRATCH.key = ox.Store(), key
        with_validation_ontology(_SCRATCH.store)
    return _SCRATCH.store
