"""SHACL validation of services, products and taxonomy extensions, with reports a provider can act on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pyshacl
import rdflib
from rdflib.namespace import SH, VANN

from maas_kg import knowledge
from maas_kg.knowledge import MAAS, TAXONOMY_QA_SHAPES, load_shapes, ontology_graph


@dataclass(frozen=True)
class Violation:
    """One failed constraint: where (focus node and path), what was found, and what to fix."""

    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str | None = None
    component: str | None = None
    severity: str = "Violation"


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    graph: rdflib.Graph | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        return {"conforms": self.conforms, "violations": [asdict(v) for v in self.violations]}

    def as_rdf(self) -> rdflib.Graph:
        """The report as a SHACL ``sh:ValidationReport`` graph (what pyshacl would write, from the records)."""
        graph = rdflib.Graph()
        graph.bind("sh", SH)
        report = rdflib.BNode()
        graph.add((report, rdflib.RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, rdflib.Literal(self.conforms)))
        for violation in self.violations:
            result = rdflib.BNode()
            graph.add((report, SH.result, result))
            graph.add((result, rdflib.RDF.type, SH.ValidationResult))
            graph.add((result, SH.focusNode, _node(violation.focus)))
            graph.add((result, SH.resultMessage, rdflib.Literal(violation.message)))
            graph.add((result, SH.resultSeverity, SH[violation.severity]))
            if violation.path and violation.path.startswith(("http://", "https://")):
                graph.add((result, SH.resultPath, rdflib.URIRef(violation.path)))
            if violation.value is not None:
                graph.add((result, SH.value, _node(violation.value)))
            if violation.shape and violation.shape.startswith(("http://", "https://")):
                graph.add((result, SH.sourceShape, rdflib.URIRef(violation.shape)))
            if violation.component and violation.component.startswith(("http://", "https://")):
                graph.add((result, SH.sourceConstraintComponent, rdflib.URIRef(violation.component)))
        return graph

    def as_text(self) -> str:
        if self.conforms:
            return "conforms"
        lines = [f"{len(self.violations)} violation(s):"]
        for v in self.violations:
            where = f"{v.focus}" + (f" {v.path}" if v.path else "")
            found = f" (found {v.value})" if v.value is not None else ""
            lines.append(f"- {where}: {v.message}{found}")
        return "\n".join(lines)


def _node(text: str) -> rdflib.term.Node:
    """A report value back as a node: IRIs as IRIs, anything else as a literal."""
    if text.startswith(("http://", "https://", "urn:")) and " " not in text:
        return rdflib.URIRef(text)
    return rdflib.Literal(text)


def _term(node: rdflib.term.Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, rdflib.Literal):
        return str(node)
    if isinstance(node, rdflib.BNode):
        return f"_:{node}"
    return str(node)


def _path_text(report: rdflib.Graph, path: rdflib.term.Node | None) -> str | None:
    if path is None:
        return None
    if isinstance(path, rdflib.BNode):
        # complex path (sequence, zeroOrMore, ...): show it as Turtle-ish text
        return " ".join(str(o) for _, _, o in report.triples((path, None, None))) or None
    return str(path)


def _targeted_property(shapes: rdflib.Graph, shape) -> rdflib.term.Node | None:
    """The property whose objects the shape (or the node shape it belongs to) targets, if any."""
    for candidate in [shape, *shapes.subjects(SH.property, shape)]:
        targeted = shapes.value(candidate, SH.targetObjectsOf)
        if targeted is not None:
            return targeted
    return None


def read_report(report: rdflib.Graph, data: rdflib.Graph | None = None,
                shapes: rdflib.Graph | None = None) -> list[Violation]:
    """Turn a SHACL validation report graph into Violation records, sorted for stable output.

    A result of a shape that targets the objects of a property (sh:targetObjectsOf) is reported against every
    node of ``data`` that states the offending value with that property, with the property as the path.
    """
    violations = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        message = report.value(result, SH.resultMessage)
        severity = report.value(result, SH.resultSeverity)
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        shape = report.value(result, SH.sourceShape)
        common = dict(
            message=str(message) if message is not None else "constraint not met",
            shape=_term(shape),
            component=_term(report.value(result, SH.sourceConstraintComponent)),
            severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        )
        targeted = _targeted_property(shapes, shape) if shapes is not None else None
        if targeted is not None and data is not None:
            for subject in data.subjects(targeted, focus):
                violations.append(Violation(focus=_term(subject) or "", path=str(targeted), value=_term(focus),
                                            **common))
            continue
        violations.append(Violation(focus=_term(focus) or "", path=_path_text(report, path),
                                    value=_term(report.value(result, SH.value)), **common))
    return sorted(set(violations), key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))


@knowledge.per_ontology
def validation_ontology() -> rdflib.Graph:
    """The part of the ontology the data shapes and the description-scope rule read: types, the class hierarchy,
    the classes whose instances providers describe (``maas:describedByProviders``) and the namespaces of the
    ontology's modules (``vann:preferredNamespaceUri``).

    pyshacl copies its ``ont_graph`` into every data graph it validates; passing only these triples instead of
    every label and definition keeps each validation call cheap.
    """
    full = ontology_graph()
    slim = rdflib.Graph()
    for predicate in (rdflib.RDF.type, rdflib.RDFS.subClassOf, MAAS.describedByProviders, VANN.preferredNamespaceUri):
        for triple in full.triples((None, predicate, None)):
            slim.add(triple)
    return slim


def validate_data(data: rdflib.Graph, shapes: rdflib.Graph | None = None, *, owned: bool = False) -> ValidationReport:
    """Validate instance data (services, providers, products) against the data shapes and the ontology.

    With ``owned=True`` the caller hands over ``data``: the ontology triples the shapes need are added to it and
    pyshacl validates it in place, which saves copying the graph twice per call.
    """
    if owned:
        for triple in validation_ontology():
            data.add(triple)
    shapes = shapes if shapes is not None else load_shapes()
    conforms, report, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=None if owned else validation_ontology(),
        inference="none",
        advanced=False,
        allow_warnings=True,
        inplace=owned,
    )
    return ValidationReport(conforms=bool(conforms), violations=read_report(report, data, shapes), graph=report)


def validate_taxonomy(taxonomy: rdflib.Graph) -> ValidationReport:
    """Run the ontology editors' QA shapes on a taxonomy graph (the process and material modules, or an extension
    together with them)."""
    conforms, report, _ = pyshacl.validate(
        taxonomy,
        shacl_graph=load_shapes((TAXONOMY_QA_SHAPES,)),
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    return ValidationReport(conforms=bool(conforms), violations=read_report(report), graph=report)


def check_document(data: rdflib.Graph, shapes_file: str, what: str) -> None:
    """Validate a customer's document in its RDF form against ``shapes/<shapes_file>`` (a fresh shapes graph per call:
    pyshacl must not share one across concurrent validations); InvalidDocument with the report when it fails."""
    from maas_kg.errors import InvalidDocument

    report = validate_data(data, load_shapes((shapes_file,)), owned=True)
    if not report.conforms:
        first = report.violations[0]
        raise InvalidDocument(f"the {what} is invalid ({len(report.violations)} violation(s)); first: "
                              f"{first.message}", report)
