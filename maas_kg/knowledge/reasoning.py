"""OWL reasoning with HermiT: is an ontology, or the ontology plus an extension, consistent?

HermiT runs as Protégé runs it: its own OWL API parser reads the triples as they are, with no datatype or axiom
rewritten, so what this check finds is what an ontology editor's Protégé finds. The one difference is how imports
are resolved: Protégé follows ``ontology/catalog-v001.xml``; here the modules arrive already merged (see
``load_via_catalog``) and ``owl:imports`` are left out, because HermiT's command line would fetch every imported IRI
from the web.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, XSD

from maas_kg.errors import Unavailable

# The OWL 2 datatype map, OWL 2 Structural Specification (W3C Recommendation, 2nd edition 2012), section 4: the
# datatypes HermiT (and every conformant OWL 2 DL reasoner) implements, and the only ones of the reserved vocabulary
# an OWL 2 DL ontology may use. rdfs:Literal is the top datatype (section 5.2), not a member of the map.
OWL2_DATATYPE_MAP = frozenset({
    # 4.1 real numbers, decimal numbers and integers
    OWL.real, OWL.rational, XSD.decimal, XSD.integer, XSD.nonNegativeInteger, XSD.nonPositiveInteger,
    XSD.positiveInteger, XSD.negativeInteger, XSD.long, XSD.int, XSD.short, XSD.byte,
    XSD.unsignedLong, XSD.unsignedInt, XSD.unsignedShort, XSD.unsignedByte,
    # 4.2 floating-point numbers
    XSD.double, XSD.float,
    # 4.3 strings
    RDF.PlainLiteral, XSD.string, XSD.normalizedString, XSD.token, XSD.language, XSD.Name, XSD.NCName, XSD.NMTOKEN,
    # 4.4 boolean values
    XSD.boolean,
    # 4.5 binary data
    XSD.hexBinary, XSD.base64Binary,
    # 4.6 IRIs
    XSD.anyURI,
    # 4.7 time instants
    XSD.dateTime, XSD.dateTimeStamp,
    # 4.8 XML literals
    RDF.XMLLiteral,
})
USABLE_DATATYPES = OWL2_DATATYPE_MAP | {RDFS.Literal}
# RDF 1.1 datatypes that OWL 2 (2012) predates; the xsd: namespace needs no list, all of it is datatypes.
RDF_DATATYPES_OUTSIDE_THE_MAP = frozenset({RDF.langString, RDF.HTML, rdflib.URIRef(str(RDF) + "JSON")})

# The shipped ontology (about 9,000 triples, 460 classes) takes HermiT 2-4 s and 140 MB on a 2-core machine; an
# extension that makes the tableau blow up must not hold an upload (or a worker) for long.
HERMIT_TIMEOUT_SECONDS = 120
HERMIT_HEAP = "-Xmx1g"
_JAVA_EXCEPTION = re.compile(r'^Exception in thread "main" ([\w.$]+)(?:: (.*))?$', re.MULTILINE)
_INCONSISTENT = "org.semanticweb.owlapi.reasoner.InconsistentOntologyException"

CATALOG_NS = {"catalog": "urn:oasis:names:tc:entity:xmlns:xml:catalog"}


class ReasonerUnavailable(Unavailable):
    """HermiT needs a Java runtime; raised when ``java`` is not on PATH."""

    title = "Reasoner unavailable"
    retry_after = None  # until someone installs Java


@dataclass
class ConsistencyResult:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    classes: int = 0
    message: str = ""
    unsupported_datatypes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable and not self.unsupported_datatypes


def hermit_jar() -> Path:
    """The HermiT build owlready2 ships (found without importing owlready2, which starts slowly)."""
    spec = importlib.util.find_spec("owlready2")
    if spec is None or spec.origin is None:
        raise ReasonerUnavailable("HermiT comes with owlready2: install it (pip install owlready2)")
    return Path(spec.origin).parent / "hermit" / "HermiT.jar"


def datatypes_outside_owl2_map(graph: rdflib.Graph) -> list[str]:
    """Every triple using a datatype HermiT refuses (UnsupportedDatatypeException): a literal typed with it, or a
    datatype IRI of the reserved vocabulary (as a range, in a data range) that the map lacks."""
    names = graph.namespace_manager
    return sorted({f"{s.n3(names)} {p.n3(names)} {o.n3(names)}" for s, p, o in graph
                   if _datatype_used(o) not in (None, *USABLE_DATATYPES)})


def _datatype_used(term) -> rdflib.URIRef | None:
    if isinstance(term, rdflib.Literal):
        return term.datatype
    if isinstance(term, rdflib.URIRef) and (term.startswith(str(XSD)) or term in RDF_DATATYPES_OUTSIDE_THE_MAP):
        return term
    return None


def check_consistency(graph: rdflib.Graph) -> ConsistencyResult:
    """Run HermiT on ``graph`` (all modules already merged; owl:imports are left out so nothing is fetched)."""
    unsupported = datatypes_outside_owl2_map(graph)
    if unsupported:
        return ConsistencyResult(
            False, unsupported_datatypes=unsupported,
            message=f"HermiT cannot reason over {len(unsupported)} use(s) of datatypes outside the OWL 2 datatype map "
                    f"(OWL 2 Structural Specification, section 4), first: {unsupported[0]}; use a datatype of the map "
                    f"(such as xsd:dateTime or xsd:string) or leave the range to a SHACL shape")
    if shutil.which("java") is None:
        raise ReasonerUnavailable("HermiT needs Java: install a Java runtime (java on PATH)")
    with tempfile.TemporaryDirectory(prefix="maas-kg-hermit-") as tmp:
        document = Path(tmp) / "ontology.nt"
        without_imports = rdflib.Graph()
        without_imports += (t for t in graph if t[1] != OWL.imports)
        without_imports.serialize(document, format="nt", encoding="utf-8")
        try:
            run = subprocess.run(
                ["java", HERMIT_HEAP, "-cp", str(hermit_jar()), "org.semanticweb.HermiT.cli.CommandLine",
                 "--consistency", "--unsatisfiable", "--no-prefixes", document.as_uri()],
                capture_output=True, text=True, timeout=HERMIT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return ConsistencyResult(False, message=f"HermiT did not finish within {HERMIT_TIMEOUT_SECONDS} s")
    classes = len({c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, rdflib.URIRef)})
    if run.returncode != 0:
        return _failure(run.stderr, classes)
    unsatisfiable = _unsatisfiable_classes(run.stdout)
    message = "consistent" if not unsatisfiable else f"{len(unsatisfiable)} unsatisfiable class(es)"
    return ConsistencyResult(True, unsatisfiable, classes, message)


def _failure(stderr: str, classes: int) -> ConsistencyResult:
    exception = _JAVA_EXCEPTION.search(stderr)
    if exception and exception.group(1) == _INCONSISTENT:
        return ConsistencyResult(False, classes=classes, message="HermiT: the ontology is inconsistent")
    reason = f"{exception.group(1).rsplit('.', 1)[-1]}: {exception.group(2) or ''}" if exception else stderr[-500:]
    return ConsistencyResult(False, classes=classes, message=f"HermiT cannot reason over the ontology ({reason.strip()})")


def _unsatisfiable_classes(stdout: str) -> list[str]:
    """The IRIs HermiT lists under "Classes equivalent to owl:Nothing" (one per line, tab-indented), without
    owl:Nothing itself."""
    _, _, listing = stdout.partition("Classes equivalent to 'http://www.w3.org/2002/07/owl#Nothing':")
    lines = [line.strip() for line in listing.splitlines() if line.startswith("\t")]
    return sorted(iri for iri in lines if iri and iri != str(OWL.Nothing))


def load_via_catalog(top: Path) -> tuple[rdflib.Graph, list[Path]]:
    """Open ``top`` as Protégé does: parse it, then the closure of its owl:imports, each resolved to a file by the
    ``catalog-v001.xml`` beside it. Returns the merged graph and the files read, in the order read. An import the
    catalog does not map raises ``FileNotFoundError`` (Protégé would try the web)."""
    catalog = _catalog(top.parent / "catalog-v001.xml")
    graph, read, pending = rdflib.Graph(), [], [top]
    while pending:
        path = pending.pop(0)
        if path in read:
            continue
        module = rdflib.Graph().parse(path, format="turtle")
        graph += module
        read.append(path)
        for iri in sorted(module.objects(None, OWL.imports)):
            if str(iri) not in catalog:
                raise FileNotFoundError(f"{path.name} imports {iri}, which {top.parent / 'catalog-v001.xml'} "
                                        f"does not map to a file")
            pending.append(catalog[str(iri)])
    return graph, read


def _catalog(path: Path) -> dict[str, Path]:
    root = ET.parse(path).getroot()
    return {entry.get("name"): (path.parent / entry.get("uri")).resolve()
            for entry in root.iterfind(".//catalog:uri", CATALOG_NS)}
