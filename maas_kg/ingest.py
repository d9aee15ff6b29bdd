"""Turn an input document (Turtle, JSON-LD, N-Triples, RDF/XML or the plain JSON format) into normalised RDF.

Steps: parse (never fetching a remote ``@context``), resolve the names people type (process, materials,
certifications, shape, finish, criticality) to taxonomy terms, then run the SPARQL update rules of
``queries/normalise/`` in an in-memory pyoxigraph store. The result is what the shapes validate and the catalogue
stores, the same for every input format.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from maas_kg import geo, knowledge
from maas_kg.knowledge import MAAS
from maas_kg.validation import Violation
from maas_kg.vocabulary import AmbiguousTerm, TermIndex, UnknownTerm, material_index, process_index

INPUT = "https://w3id.org/maas-kg/input#"
SCHEMA_GRAPH = ox.NamedNode("https://w3id.org/maas-kg/graph/schema")

#: file extension or media type -> format name
FORMATS = {
    ".ttl": "turtle", ".turtle": "turtle", ".nt": "ntriples", ".rdf": "rdfxml", ".owl": "rdfxml", ".xml": "rdfxml",
    ".jsonld": "jsonld", ".json": "json",
    "text/turtle": "turtle", "application/n-triples": "ntriples", "application/rdf+xml": "rdfxml",
    "application/ld+json": "jsonld", "application/json": "json",
}
_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "rdfxml": ox.RdfFormat.RDF_XML,
               "jsonld": ox.RdfFormat.JSON_LD}
DOCUMENT_TYPES = {"service": "maas:ManufacturingService", "product": "maas:Product"}


class InputError(ValueError):
    """The input cannot be read at all (syntax, encoding, remote context); the message says where and why."""


@dataclass
class NormalisedInput:
    """Normalised triples, plus the name-resolution problems found on the way (reported like SHACL violations)."""

    triples: list[ox.Triple]
    problems: list[Violation] = field(default_factory=list)
    #: the scratch store the rules ran in (the triples in its default graph), reused for validation
    store: ox.Store | None = field(default=None, repr=False, compare=False)

    def to_rdflib(self) -> rdflib.Graph:
        return to_rdflib(self.triples)


def format_for(name: str) -> str:
    """Format name for a file name, extension or media type."""
    key = name.lower().split(";")[0].strip()
    if key in FORMATS:
        return FORMATS[key]
    suffix = Path(key).suffix
    if suffix in FORMATS:
        return FORMATS[suffix]
    if key in _OX_FORMATS or key == "json":
        return key
    raise InputError(f"unknown input format {name!r}: use Turtle (.ttl), JSON-LD (.jsonld), N-Triples (.nt), "
                     "RDF/XML (.rdf) or the plain JSON format (.json)")


@functools.cache
def json_context() -> dict:
    return json.loads((knowledge.ontology_dir() / "context.jsonld").read_text(encoding="utf-8"))["@context"]


@functools.cache
def json_fields() -> dict[str, str]:
    """Property IRI -> the plain JSON field that sets it, for error reports: from the JSON-LD context, and for the
    properties the normalisation rules derive from another field, from their ``maas:jsonField`` in the ontology."""
    context = json_context()
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    fields: dict[str, str] = {}
    for term, definition in context.items():
        iri = definition.get("@id") if isinstance(definition, dict) else definition
        if not isinstance(iri, str) or term.startswith("@") or term in prefixes:
            continue
        prefix, _, local = iri.partition(":")
        fields.setdefault(prefixes[prefix] + local if prefix in prefixes else iri, term)
    for prop, field_name in knowledge.ontology_graph().subject_objects(MAAS.jsonField):
        fields[str(prop)] = str(field_name)
    return fields


def parse(data: bytes, format: str, *, kind: str = "service") -> list[ox.Triple]:
    """Parse ``data`` in ``format`` (see ``format_for``); ``kind`` says what plain JSON documents describe."""
    text, format = _rdf_text(data, format, kind)
    try:
        return [q.triple for q in ox.parse(text.encode("utf-8"), format=_OX_FORMATS[format])]
    except SyntaxError as err:
        raise InputError(f"malformed {format}: {err}") from None


def _rdf_text(data: bytes, format: str, kind: str) -> tuple[str, str]:
    """The input as RDF text and its format: plain JSON becomes JSON-LD with our context."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"the input is not UTF-8 text (byte {err.start})") from None
    if format == "json":
        text = json.dumps(_plain_json_as_jsonld(text, kind))
        format = "jsonld"
    elif format == "jsonld":
        _refuse_remote_contexts(text)
    if format not in _OX_FORMATS:
        raise InputError(f"unknown input format {format!r}")
    return text, format


def _plain_json_as_jsonld(text: str, kind: str) -> dict:
    """Wrap plain JSON (one object, a list, or {"services": [...]}) as JSON-LD with our context and types."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None
    if isinstance(doc, dict) and isinstance(doc.get(kind + "s"), list):
        doc = doc[kind + "s"]
    items = doc if isinstance(doc, list) else [doc]
    graph = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InputError(f"{kind} #{number} must be a JSON object with fields such as name and process")
        if "@context" in item:
            raise InputError(f"{kind} #{number} has an @context: the plain JSON format uses MaaS-KG's own "
                             "context; send JSON-LD (application/ld+json) to bring your own inline context")
        graph.append({**item, "@type": DOCUMENT_TYPES[kind]})
    return {"@context": json_context(), "@graph": graph}


def _refuse_remote_contexts(text: str) -> None:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON-LD at line {err.lineno}, column {err.colno}: {err.msg}") from None

    def contexts(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    yield value
                yield from contexts(value)
        elif isinstance(node, list):
            for value in node:
                yield from contexts(value)

    for ctx in contexts(doc):
        for entry in ctx if isinstance(ctx, list) else [ctx]:
            if isinstance(entry, str):
                raise InputError(f"remote JSON-LD @context {entry!r} is never fetched: inline the context, or "
                                 "use the plain JSON format (application/json) with MaaS-KG's own context")


# -- name resolution ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _NameField:
    field: str           # the plain-JSON field, for messages
    target: str          # the property the resolved term is stated with
    index: str           # which TermIndex resolves it


_NAME_FIELDS = {
    INPUT + "process": _NameField("process", str(MAAS.processType), "process"),
    INPUT + "materials": _NameField("materials", str(MAAS.material), "material"),
    INPUT + "certifications": _NameField("certifications", str(MAAS.holdsCertification), "certification"),
    INPUT + "shape": _NameField("shape", str(MAAS.shapeClass), "shape"),
    INPUT + "finish": _NameField("finish", str(MAAS.requiredTreatment), "process"),
    INPUT + "criticality": _NameField("criticality", str(MAAS.criticality), "criticality"),
}


_RDF_TYPE = ox.NamedNode(str(RDF.type))
_PRODUCT = ox.NamedNode(str(MAAS.Product))
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@functools.cache
def term_indexes() -> dict[str, TermIndex]:
    graph = knowledge.ontology_graph()
    return {
        "process": process_index(graph),
        "material": material_index(graph),
        "certification": TermIndex.build_instances(graph, MAAS.Certification, "certification"),
        "shape": TermIndex.build_instances(graph, MAAS.ShapeClass, "shape"),
        "criticality": TermIndex.build_instances(graph, MAAS.CriticalityLevel, "criticality"),
    }


def _resolve_names(store: ox.Store) -> list[Violation]:
    problems: list[Violation] = []
    indexes = term_indexes()
    for quad in list(store.quads_for_pattern(None, None, None, ox.DefaultGraph())):
        spec = _NAME_FIELDS.get(quad.predicate.value)
        if spec is None:
            continue
        name = quad.object.value
        # products and requests resolve "certifications" to what they require, services to what they hold
        target, field_name = spec.target, spec.field
        is_product = any(store.quads_for_pattern(quad.subject, _RDF_TYPE, _PRODUCT, ox.DefaultGraph()))
        if is_product and spec.field == "certifications":
            target = str(MAAS.requiredCertification)
        if is_product and spec.field == "materials":
            field_name = "material"
        store.remove(quad)
        try:
            term = indexes[spec.index].resolve(name)
        except (UnknownTerm, AmbiguousTerm) as err:
            problems.append(Violation(focus=_node_text(quad.subject), path=target, value=name,
                                      message=f"{field_name}: {err}", component="name resolution"))
            continue
        store.add(ox.Quad(quad.subject, ox.NamedNode(target), ox.NamedNode(str(term))))
    return problems


def _node_text(node) -> str:
    return f"_:{node.value}" if isinstance(node, ox.BlankNode) else node.value


# -- normalisation -----------------------------------------------------------------------------------------------

@functools.cache
def _schema_quads() -> tuple[ox.Quad, ...]:
    """What the normalisation rules read from the ontology: property kinds, domains, ranges, match criteria."""
    graph = knowledge.ontology_graph()
    wanted = []
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in graph.subjects(RDF.type, kind):
            wanted.append((prop, RDF.type, kind))
            wanted += [(prop, p, o) for p in (RDFS.domain, RDFS.range) for o in graph.objects(prop, p)
                       if isinstance(o, rdflib.URIRef)]
    for criterion in graph.subjects(RDF.type, MAAS.MatchCriterion):
        wanted.append((criterion, RDF.type, MAAS.MatchCriterion))
        wanted += [(criterion, SKOS.notation, o) for o in graph.objects(criterion, SKOS.notation)]
    return tuple(ox.Quad(*(to_oxigraph(t) for t in triple), SCHEMA_GRAPH) for triple in wanted)


@functools.cache
def normalisation_rules() -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8")
                 for path in sorted((knowledge.queries_dir() / "normalise").glob("*.ru")))


def normalise(triples: list[ox.Triple] | None = None, *, store: ox.Store | None = None) -> NormalisedInput:
    """Run the normalisation rules over ``triples`` (or over the default graph of ``store``)."""
    if store is None:
        store = ox.Store()
        store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples or ())
    store.extend(_schema_quads())
    for rule in normalisation_rules():
        store.update(rule)
    geo.add_unit_vectors(store)
    # after the rules, so that problems name the final (minted) IRIs and products are typed
    problems = _resolve_names(store)
    result = [q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    return NormalisedInput(result, problems, store)


def read_input(data: bytes, format: str, *, kind: str = "service") -> NormalisedInput:
    """Parse and normalise ``data``; the parser writes straight into the rules' scratch store."""
    text, format = _rdf_text(data, format, kind)
    store = ox.Store()
    try:
        store.load(input=text.encode("utf-8"), format=_OX_FORMATS[format], to_graph=ox.DefaultGraph())
    except SyntaxError as err:
        raise InputError(f"malformed {format}: {err}") from None
    if any(True for _ in store.named_graphs()):  # a JSON-LD document may name graphs: its statements count alike
        store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } } ; DROP NAMED")
    return normalise(store=store)


# -- term conversion ---------------------------------------------------------------------------------------------

def to_oxigraph(term: rdflib.term.Node):
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r}")


def to_rdflib_term(term) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return _named(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:  # rdflib keeps plain literals without a datatype
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=_named(term.datatype.value))


@functools.lru_cache(maxsize=65536)
def _named(iri: str) -> rdflib.URIRef:
    return rdflib.URIRef(iri)


def to_rdflib(triples) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.addN((to_rdflib_term(t.subject), to_rdflib_term(t.predicate), to_rdflib_term(t.object), graph)
               for t in triples)
    return graph
