"""OWL reasoning with HermiT (through owlready2): is an ontology, or the ontology plus an extension, consistent?"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDFS, XSD


class ReasonerUnavailable(RuntimeError):
    """HermiT needs a Java runtime; raised when ``java`` is not on PATH."""


@dataclass
class ConsistencyResult:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    classes: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable


def check_consistency(graph: rdflib.Graph) -> ConsistencyResult:
    """Run HermiT on ``graph`` (all modules already merged; owl:imports are dropped so nothing is fetched)."""
    if shutil.which("java") is None:
        raise ReasonerUnavailable("HermiT needs Java: install a Java runtime (java on PATH)")
    import owlready2  # imported late: it starts slowly and only reasoning needs it

    merged = rdflib.Graph()
    for s, p, o in graph:
        if p == OWL.imports:
            continue
        # xsd:date is outside the OWL 2 datatype map that HermiT implements: HermiT sees such ranges and
        # values as plain literals, which keeps every other axiom checked.
        if o == XSD.date:
            o = RDFS.Literal
        elif isinstance(o, rdflib.Literal) and o.datatype == XSD.date:
            o = rdflib.Literal(str(o))
        merged.add((s, p, o))
    with tempfile.TemporaryDirectory(prefix="maas-kg-hermit-") as tmp:
        path = Path(tmp) / "merged.owl"
        merged.serialize(path, format="xml")
        world = owlready2.World()
        onto = world.get_ontology(path.as_uri()).load()
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as err:
            return ConsistencyResult(False, message=f"HermiT: the ontology is inconsistent ({err})")
        unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
        classes = len(list(onto.classes()))
    message = "consistent" if not unsatisfiable else f"{len(unsatisfiable)} unsatisfiable class(es)"
    return ConsistencyResult(True, unsatisfiable, classes, message)
