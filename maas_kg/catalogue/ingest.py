"""Turn an input document (Turtle, JSON-LD, N-Triples, RDF/XML or the plain JSON format) into normalised RDF.

Steps: parse (never fetching a remote ``@context``), resolve the names people type (process, materials,
certifications, shape, finish, criticality) to taxonomy terms, then run the SPARQL update rules of
``queries/normalise/`` in an in-memory pyoxigraph store. The result is what the shapes validate and the catalogue
stores, the same for every input format.
"""

from __future__ import annotations

import decimal
import functools
import json
import re
import urllib.parse
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

import pycountry
import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from maas_kg import geo, knowledge, media_types
from maas_kg.catalogue import minting
from maas_kg.errors import InvalidInput
from maas_kg.knowledge import MAAS
from maas_kg.knowledge.validation import Violation
from maas_kg.knowledge.vocabulary import AmbiguousTerm, TermIndex, UnknownTerm, material_index, process_index
from maas_kg.rdf import to_oxigraph, to_rdflib

INPUT = "https://w3id.org/maas-kg/input#"
SCHEMA_GRAPH = ox.NamedNode("https://w3id.org/maas-kg/graph/schema")

DOCUMENT_TYPES = {"service": "maas:ManufacturingService", "product": "maas:Product"}

#: JSON nesting refused beyond this depth. Service and product documents nest fewer than 10 levels; pyoxigraph
#: 0.5.13's JSON-LD parser crashed the whole process (segmentation fault) on 5,000 nested objects, and Python's
#: json module raises RecursionError near 1,000.
MAX_JSON_DEPTH = 100
#: XML element nesting refused beyond this depth. pyoxigraph 0.5.13's RDF/XML parser is quadratic in it: 1.3 s for
#: 10,000 nested elements, 27 s for 40,000 (measured); real RDF/XML nests a few dozen levels at most.
MAX_XML_DEPTH = 200
#: name resolution per document: unknown names beyond the first ones are counted, not reported one by one, and only
#: the first get "closest known" suggestions (difflib over every label: 47 s for 2,000 unknown names, measured)
MAX_REPORTED_UNKNOWN = 50
MAX_SUGGESTED_UNKNOWN = 10


class InputError(InvalidInput):
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
    """Format name (``media_types.INPUT_SYNTAXES``) for a file name, extension, media type or format name."""
    syntax = media_types.input_syntax(name) or media_types.input_syntax(Path(name.lower()).suffix)
    if syntax is not None:
        return syntax.name
    raise InputError(f"unknown input format {name!r}: use Turtle (.ttl), JSON-LD (.jsonld), N-Triples (.nt), "
                     "RDF/XML (.rdf) or the plain JSON format (.json)")


@functools.cache
def json_context() -> dict:
    return json.loads((knowledge.ontology_dir() / "context.jsonld").read_text(encoding="utf-8"))["@context"]


@knowledge.per_ontology
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


def refuse_unsafe_rdf(data: bytes, format: str) -> None:
    """Raise ``InputError`` before an RDF parser sees ``data`` (in ``format``, see ``format_for``) if it would blow
    up there: RDF/XML with a DOCTYPE, entity declarations or deep nesting, JSON(-LD) nested too deeply, or JSON-LD
    naming a remote ``@context``."""
    if format == "rdfxml":
        refuse_xml_declarations(data)
    elif format in ("jsonld", "json"):
        document = parse_json(data, "JSON-LD" if format == "jsonld" else "JSON")
        if format == "jsonld":
            _refuse_remote_contexts(document)


def refuse_xml_declarations(data: bytes) -> None:
    """Raise ``InputError`` if the XML document ``data`` has a DOCTYPE or entity declaration (nested internal
    entities expand exponentially: two 1,090-byte bodies grew two workers to 5-6 GB) or elements nested deeper than
    ``MAX_XML_DEPTH``. Read with expat, which expands nothing before its handlers refuse."""
    parser = xml.parsers.expat.ParserCreate()
    depth = 0

    def refuse_declaration(*_):
        raise InputError("RDF/XML with a DOCTYPE or entity declaration is refused (entities can expand without "
                         "bound): remove the <!DOCTYPE ...> and write the entities' text out")

    def enter(*_):
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            raise InputError(f"RDF/XML nested deeper than {MAX_XML_DEPTH} elements (line {parser.CurrentLineNumber}"
                             "): flatten it, e.g. give nested nodes an rdf:about or rdf:nodeID")

    def leave(_):
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = refuse_declaration
    parser.EntityDeclHandler = refuse_declaration
    parser.StartElementHandler = enter
    parser.EndElementHandler = leave
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        raise InputError(f"malformed RDF/XML at line {err.lineno}, column {err.offset + 1}: "
                         f"{xml.parsers.expat.ErrorString(err.code)}") from None


def parse_json(data: bytes | str, what: str = "JSON"):
    """The JSON document in ``data``; ``InputError`` (naming ``what``) if it is malformed or nested deeper than
    ``MAX_JSON_DEPTH``."""
    try:
        document = json.loads(data)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed {what} at line {err.lineno}, column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise InputError(f"{what} nested too deeply: at most {MAX_JSON_DEPTH} levels of objects and arrays") from None
    except ValueError as err:  # e.g. a number of more than 4,300 digits
        raise InputError(f"malformed {what}: {str(err)[:200]}") from None
    if _json_depth(document) > MAX_JSON_DEPTH:
        raise InputError(f"{what} nested too deeply: at most {MAX_JSON_DEPTH} levels of objects and arrays")
    return document


def _json_depth(document) -> int:
    """How deep ``document`` nests objects and arrays (iteratively: the document may be deeper than the stack)."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        pending.extend((child, depth + 1) for child in children)
    return deepest


def parse(data: bytes, format: str, *, kind: str = "service") -> list[ox.Triple]:
    """Parse ``data`` in ``format`` (see ``format_for``); ``kind`` says what plain JSON documents describe."""
    text, format = _rdf_text(data, format, kind)
    try:
        return [q.triple for q in ox.parse(text.encode("utf-8"), format=media_types.rdf_syntax(format).oxigraph)]
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
    else:
        refuse_unsafe_rdf(data, format)
    if format == "json" or media_types.input_syntax(format) is None:
        raise InputError(f"unknown input format {format!r}")
    return text, format


def _plain_json_as_jsonld(text: str, kind: str) -> dict:
    """Wrap plain JSON (one object, a list, or {"services": [...]}) as JSON-LD with our context and types."""
    doc = parse_json(text)
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
        item = _with_numbers_read(item, f"{kind} #{number}")
        graph.append({**_with_iri_safe_weights(item), "@type": DOCUMENT_TYPES[kind]})
    return {"@context": json_context(), "@graph": graph}


# -- numbers written as strings ----------------------------------------------------------------------------------

_NUMBER_RANGES = frozenset({XSD.decimal, XSD.integer, XSD.double, XSD.float, XSD.nonNegativeInteger,
                            XSD.positiveInteger})
#: a number as the format reads it from a string: an optional sign, digits, and a decimal point or a decimal comma
#: with digits on both sides ("45.50", "45,50", "-3", "0,025")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
#: a comma before exactly three digits after a non-zero integer part ("1,234", "12,500"): a thousands separator in
#: English, a decimal comma in German; refused rather than guessed ("0,025" and "45,50" are read)
_GROUPED_NUMBER = re.compile(r"[+-]?0*[1-9][0-9]{0,2},[0-9]{3}")
#: a string that is meant as a number but written with thousands separators or several separators ("1,234.5",
#: "1.234,5", "1 234", "1'234", "1,234,567"): refused rather than guessed
_SEPARATED_NUMBER = re.compile(r"[+-]?[0-9][0-9.,' \u00a0\u202f]*[0-9]")


@knowledge.per_ontology
def number_fields() -> frozenset[str]:
    """The plain JSON fields that hold numbers: those setting a property whose range is a numeric datatype."""
    graph = knowledge.ontology_graph()
    return frozenset(name for prop, name in json_fields().items()
                     if any(r in _NUMBER_RANGES for r in graph.objects(rdflib.URIRef(prop), RDFS.range)))


def _with_numbers_read(item: dict, where: str) -> dict:
    """``item`` with every number field written as a string ("45.50", "45,50") read as a number (an xsd:integer or
    xsd:decimal value object). A decimal comma is read as a decimal point when unambiguous: one comma, no point,
    digits on both sides, unless it could be a thousands separator ("45,50" = 45.5, "0,025" = 0.025; "1,234" is
    refused). A string with thousands separators or several separators ("1,234.5", "1.234,5", "1 234", "1,234")
    raises ``InputError`` naming the field. Any other string is left for the shapes
    to report (it is not a number at all)."""
    fields = number_fields()

    def read(value, name: str):
        if isinstance(value, list):
            return [read(v, name) for v in value]
        if not isinstance(value, str):
            return value
        text = value.strip()
        if _PLAIN_NUMBER.fullmatch(text) and not _GROUPED_NUMBER.fullmatch(text):
            text = text.replace(",", ".")
            if "." not in text:
                return {"@value": str(int(text)), "@type": str(XSD.integer)}
            return {"@value": format(decimal.Decimal(text), "f"), "@type": str(XSD.decimal)}
        if _SEPARATED_NUMBER.fullmatch(text):
            raise InputError(f"{where}: {name} {value[:40]!r} is not a number the plain JSON format reads: write it "
                             "with a decimal point and no thousands separators (1234.5), or as a JSON number")
        return value

    def walk(node):
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        return {key: (read(value, key) if key in fields else value if key == "weights" else walk(value))
                for key, value in node.items()}

    return walk(item)


def _with_iri_safe_weights(item: dict) -> dict:
    """The item with its ``weights`` keys percent-encoded. The context makes each key an IRI; a key that makes no
    IRI ("lead time") would vanish from the JSON-LD, and one with a colon would be read as an IRI of its own. Every
    key stays a name the normalisation rules look up, and an unknown one is reported (``_unknown_criteria``)."""
    weights = item.get("weights")
    if not isinstance(weights, dict):
        return item
    return {**item, "weights": {urllib.parse.quote(key, safe=""): value for key, value in weights.items()}}


def _refuse_remote_contexts(document) -> None:
    for ctx in _contexts(document):
        for entry in ctx if isinstance(ctx, list) else [ctx]:
            if isinstance(entry, str):
                raise InputError(f"remote JSON-LD @context {entry!r} is never fetched: inline the context, or "
                                 "use the plain JSON format (application/json) with MaaS-KG's own context")


def _contexts(document):
    """Every ``@context`` value in a JSON-LD document, walked with a list rather than recursion."""
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "@context" in node:
                yield node["@context"]
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)


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
#: a product's components (its bill of materials, queries/normalise/05-components.ru) are typed maas:Component only
_PRODUCT_TYPES = (_PRODUCT, ox.NamedNode(str(MAAS.Component)))


@knowledge.per_ontology
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
    """Replace the names people typed with taxonomy terms; a problem for each name that names no term (or several).

    Past ``MAX_REPORTED_UNKNOWN`` unknown names the rest are only counted, and only the first
    ``MAX_SUGGESTED_UNKNOWN`` get suggestions: a document of thousands of unknown names is answered at once."""
    problems: list[Violation] = []
    indexes = term_indexes()
    unreported = 0
    for quad in list(store.quads_for_pattern(None, None, None, ox.DefaultGraph())):
        spec = _NAME_FIELDS.get(quad.predicate.value)
        if spec is None:
            continue
        name = quad.object.value
        # products and requests resolve "certifications" to what they require, services to what they hold
        target, field_name = spec.target, spec.field
        is_product = any(any(store.quads_for_pattern(quad.subject, _RDF_TYPE, kind, ox.DefaultGraph()))
                         for kind in _PRODUCT_TYPES)
        if is_product and spec.field == "certifications":
            target = str(MAAS.requiredCertification)
        if is_product and spec.field == "materials":
            field_name = "material"
        store.remove(quad)
        try:
            term = indexes[spec.index].resolve(name, suggest=len(problems) < MAX_SUGGESTED_UNKNOWN)
        except (UnknownTerm, AmbiguousTerm) as err:
            if len(problems) >= MAX_REPORTED_UNKNOWN:
                unreported += 1
                continue
            problems.append(Violation(focus=_node_text(quad.subject), path=target, value=name,
                                      message=f"{field_name}: {err}", component="name resolution"))
            continue
        store.add(ox.Quad(quad.subject, ox.NamedNode(target), ox.NamedNode(str(term))))
    if unreported:
        problems.append(Violation(focus=problems[-1].focus, path=None, value=None, component="name resolution",
                                  message=f"{unreported} more name(s) are unknown or ambiguous besides the "
                                          f"{MAX_REPORTED_UNKNOWN} reported: correct these first"))
    return problems


UNKNOWN_CRITERION = "https://w3id.org/maas-kg/input/unknown-criterion#"
_CRITERION = ox.NamedNode(str(MAAS.criterion))
_HAS_CRITERION_WEIGHT = ox.NamedNode(str(MAAS.hasCriterionWeight))


@knowledge.per_ontology
def criterion_names() -> tuple[str, ...]:
    """The names of the can-criteria (``skos:notation`` of the ontology's ``maas:MatchCriterion`` individuals): the
    keys a product's ``weights`` may use."""
    graph = knowledge.ontology_graph()
    return tuple(sorted(str(name) for criterion in graph.subjects(RDF.type, MAAS.MatchCriterion)
                        for name in graph.objects(criterion, SKOS.notation)))


def _unknown_criteria(store: ox.Store) -> list[Violation]:
    """A problem for every weight whose key names no criterion; the weight itself is removed, so that the shapes do
    not report it a second time."""
    problems = []
    for quad in list(store.quads_for_pattern(None, _CRITERION, None, ox.DefaultGraph())):
        if not quad.object.value.startswith(UNKNOWN_CRITERION):
            continue
        # encoded twice: by the plain JSON reader (_with_iri_safe_weights), then by the rule's ENCODE_FOR_URI
        name = urllib.parse.unquote(urllib.parse.unquote(quad.object.value[len(UNKNOWN_CRITERION):]))
        owners = [q.subject for q in store.quads_for_pattern(None, _HAS_CRITERION_WEIGHT, quad.subject,
                                                              ox.DefaultGraph())]
        for removed in list(store.quads_for_pattern(quad.subject, None, None, ox.DefaultGraph())):
            store.remove(removed)
        for owner in owners:
            store.remove(ox.Quad(owner, _HAS_CRITERION_WEIGHT, quad.subject, ox.DefaultGraph()))
        problems.append(Violation(
            focus=_node_text(owners[0] if owners else quad.subject), path=str(MAAS.hasCriterionWeight), value=name,
            message=f"weights: unknown criterion {name[:80]!r}; the criteria are {', '.join(criterion_names())}",
            component="name resolution"))
    return problems


# -- ISO 3166-2 regions ------------------------------------------------------------------------------------------

_REGION_CODE = ox.NamedNode(str(MAAS.regionCode))
_COUNTRY_CODE = ox.NamedNode(str(MAAS.countryCode))
#: the form shapes/service.ttl checks (maas-sh:SiteRegion); a code of another form is left for the shapes to report
REGION_FORM = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")


@functools.cache
def region_subdivisions() -> dict[str, frozenset[str]]:
    """Every ISO 3166-2 code -> the codes of the subdivisions at every level below it (FR-ARA -> FR-01, FR-69, ...;
    DE-BY -> none). From the maintained ``pycountry`` tables (5,046 codes with their parents in pycountry 26.2.16,
    revised with each ISO 3166 newsletter) rather than a code list in shapes/code-lists.ttl: an sh:in list of that
    length would be kept by hand and could not say which code lies within which."""
    parents = {sub.code: sub.parent_code for sub in pycountry.subdivisions}
    below: dict[str, set[str]] = {code: set() for code in parents}
    for code in parents:
        parent = parents[code]
        while parent in parents:  # up the chain: at most two levels in ISO 3166-2 today
            below[parent].add(code)
            parent = parents[parent]
    return {code: frozenset(codes) for code, codes in below.items()}


def top_level_regions(country: str) -> list[str]:
    """The ISO 3166-2 codes of ``country`` that no other code contains (its first level), sorted."""
    return sorted(sub.code for sub in pycountry.subdivisions.get(country_code=country) or ()
                  if sub.parent_code is None)


def _unknown_regions(store: ox.Store) -> list[Violation]:
    """A problem for every site region that has the form of an ISO 3166-2 code but is none, or whose country prefix
    is not the site's country (read after the rules, so a site has its provider's country)."""
    problems = []
    known = region_subdivisions()
    for quad in store.quads_for_pattern(None, _REGION_CODE, None, ox.DefaultGraph()):
        code = quad.object.value
        if not REGION_FORM.fullmatch(code):
            continue
        countries = {q.object.value for q in store.quads_for_pattern(quad.subject, _COUNTRY_CODE, None,
                                                                     ox.DefaultGraph())}
        if code not in known:
            listed = top_level_regions(code[:2])
            hint = (f"the first-level codes of {code[:2]} are {', '.join(listed[:30])}"
                    f"{', ...' if len(listed) > 30 else ''}" if listed else f"{code[:2]} has no ISO 3166-2 codes")
            message = f"location.region: {code!r} is not an ISO 3166-2 code; {hint}"
        elif countries and code[:2] not in countries:
            message = (f"location.region: {code!r} is a region of {code[:2]}, but the site is in "
                       f"{', '.join(sorted(countries))}: give a region of the site's country")
        else:
            continue
        problems.append(Violation(focus=_node_text(quad.subject), path=str(MAAS.regionCode), value=code,
                                  message=message, component="ISO 3166-2"))
    return problems


def _node_text(node) -> str:
    return f"_:{node.value}" if isinstance(node, ox.BlankNode) else node.value


# -- normalisation -----------------------------------------------------------------------------------------------

@knowledge.per_ontology
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
    minting.add_name_slugs(store)  # transliterated names for the IRIs 50-mint.ru mints (SPARQL cannot transliterate)
    for rule in normalisation_rules():
        store.update(rule)
    geo.add_unit_vectors(store)
    # after the rules, so that problems name the final (minted) IRIs and products are typed
    problems = _resolve_names(store) + _unknown_criteria(store) + _unknown_regions(store)
    result = [q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    return NormalisedInput(result, problems, store)


def read_input(data: bytes, format: str, *, kind: str = "service", extra: tuple[ox.Triple, ...] = ()) -> NormalisedInput:
    """Parse and normalise ``data``; the parser writes straight into the rules' scratch store. ``extra`` triples are
    normalised with the input (publishing completes a provider named only by its IRI from its published
    description)."""
    text, format = _rdf_text(data, format, kind)
    store = ox.Store()
    try:
        store.load(input=text.encode("utf-8"), format=media_types.rdf_syntax(format).oxigraph, to_graph=ox.DefaultGraph())
    except SyntaxError as err:
        raise InputError(f"malformed {format}: {err}") from None
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in extra)
    if any(True for _ in store.named_graphs()):  # a JSON-LD document may name graphs: its statements count alike
        store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } } ; DROP NAMED")
    return normalise(store=store)
