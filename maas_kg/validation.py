"""SHACL validation of services, products and taxonomy extensions, with reports a provider can act on."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

import pyshacl
import rdflib
from rdflib.namespace import SH

from maas_kg.knowledge import TAXONOMY_QA_SHAPES, load_shapes, ontology_graph


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

    def as_text(self) -> str:
        if self.conforms:
            return "conforms"
        lines = [f"{len(self.violations)} violation(s):"]
        for v in self.violations:
            where = f"{v.focus}" + (f" {v.path}" if v.path else "")
            found = f" (found {v.value})" if v.value is not None else ""
            lines.append(f"- {where}: {v.message}{found}")
        return "\n".join(lines)


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


def read_report(report: rdflib.Graph) -> list[Violation]:
    """Turn a SHACL validation report graph into Violation records, sorted for stable output."""
    violations = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        message = report.value(result, SH.resultMessage)
        severity = report.value(result, SH.resultSeverity)
        violations.append(
            Violation(
                focus=_term(report.value(result, SH.focusNode)) or "",
                path=_path_text(report, report.value(result, SH.resultPath)),
                value=_term(report.value(result, SH.value)),
                message=str(message) if message is not None else "constraint not met",
                shape=_term(report.value(result, SH.sourceShape)),
                component=_term(report.value(result, SH.sourceConstraintComponent)),
                severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
            )
        )
    return sorted(violations, key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))


@functools.cache
def validation_ontology() -> rdflib.Graph:
    """The part of the ontology the data shapes read: types and the class hierarchy.

    pyshacl copies its ``ont_graph`` into every data graph it validates; passing only these triples instead of
    every label and definition keeps each validation call cheap.
    """
    full = ontology_graph()
    slim = rdflib.Graph()
    for triple in full.triples((None, rdflib.RDF.type, None)):
        slim.add(triple)
    for triple in full.triples((None, rdflib.RDFS.subClassOf, None)):
        slim.add(triple)
    return slim


def validate_data(data: rdflib.Graph, shapes: rdflib.Graph | None = None) -> ValidationReport:
    """Validate instance data (services, providers, products) against the data shapes and the ontology."""
    conforms, report, _ = pyshacl.validate(
        data,
        shacl_graph=shapes if shapes is not None else load_shapes(),
        ont_graph=validation_ontology(),
        inference="none",
        advanced=False,
        allow_warnings=True,
    )
    return ValidationReport(conforms=bool(conforms), violations=read_report(report), graph=report)


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
