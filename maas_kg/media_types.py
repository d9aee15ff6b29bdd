"""The media types MaaS-KG reads and writes, declared once: the RDF syntaxes (with their names, file extensions and
pyoxigraph formats), the plain JSON format, and the SPARQL result formats. Every module that parses, serialises or
negotiates asks this registry. Imports nothing of maas_kg.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Syntax:
    """One format: its short ``name`` (the CLI's and ``?format=``'s), its ``media_type``, the other media types and
    names it is known by, its file ``extensions`` (the first is the one downloads get)."""

    name: str
    media_type: str
    aliases: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    oxigraph: ox.RdfFormat | ox.QueryResultsFormat | None = None
    #: an RDF syntax that holds named graphs (a whole dataset)
    dataset: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.name, self.media_type, *self.aliases, *self.extensions)


TURTLE = Syntax("turtle", "text/turtle", ("application/x-turtle", "ttl"), (".ttl", ".turtle"), ox.RdfFormat.TURTLE)
NTRIPLES = Syntax("ntriples", "application/n-triples", ("text/plain", "nt"), (".nt",), ox.RdfFormat.N_TRIPLES)
RDFXML = Syntax("rdfxml", "application/rdf+xml", ("rdf", "owl"), (".rdf", ".owl", ".xml"), ox.RdfFormat.RDF_XML)
JSONLD = Syntax("jsonld", "application/ld+json", ("json-ld",), (".jsonld",), ox.RdfFormat.JSON_LD)
NQUADS = Syntax("nquads", "application/n-quads", ("nq",), (".nq",), ox.RdfFormat.N_QUADS, dataset=True)
TRIG = Syntax("trig", "application/trig", (), (".trig",), ox.RdfFormat.TRIG, dataset=True)
#: MaaS-KG's plain JSON service and product format (JSON-LD with the project's own context)
PLAIN_JSON = Syntax("json", "application/json", (), (".json",))

RDF_SYNTAXES = (TURTLE, NTRIPLES, RDFXML, JSONLD, NQUADS, TRIG)
#: an order chain's plan for calendars (RFC 5545)
ICALENDAR = Syntax("icalendar", "text/calendar", ("ics",), (".ics",))
#: what RDF answers are offered in, the default first (graphs: no dataset syntaxes)
RDF_RESPONSES = [s.media_type for s in (TURTLE, JSONLD, NTRIPLES, RDFXML)]

RESULTS_JSON = Syntax("json", "application/sparql-results+json", ("application/json",), (".srj",),
                      ox.QueryResultsFormat.JSON)
RESULTS_XML = Syntax("xml", "application/sparql-results+xml", (), (".srx",), ox.QueryResultsFormat.XML)
RESULTS_CSV = Syntax("csv", "text/csv", (), (".csv",), ox.QueryResultsFormat.CSV)
RESULTS_TSV = Syntax("tsv", "text/tab-separated-values", (), (".tsv",), ox.QueryResultsFormat.TSV)
RESULT_SYNTAXES = (RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV)


def _index(syntaxes) -> dict[str, Syntax]:
    found: dict[str, Syntax] = {}
    for syntax in syntaxes:
        for key in syntax.keys:
            found.setdefault(key.lower(), syntax)
    return found


_RDF = _index(RDF_SYNTAXES)
#: what a service or product document may be sent in: one graph, so no dataset syntaxes
INPUT_SYNTAXES = (TURTLE, NTRIPLES, RDFXML, JSONLD, PLAIN_JSON)
_INPUT = _index(INPUT_SYNTAXES)


def _key(text: str) -> str:
    return text.lower().split(";")[0].strip()


def rdf_syntax(key: str) -> Syntax | None:
    """The RDF syntax a name, media type or file extension (``.ttl``, with the dot) names; None if none."""
    return _RDF.get(_key(key))


def input_syntax(key: str) -> Syntax | None:
    """The syntax of a service or product document (``INPUT_SYNTAXES``: the plain JSON format too) that a name,
    media type or file extension names; None if none."""
    return _INPUT.get(_key(key))


def answer_syntaxes(*, graph: bool) -> dict[str, Syntax]:
    """What a SPARQL answer can be sent in, by media type, the default first: graphs (CONSTRUCT, DESCRIBE) in the RDF
    syntaxes (``application/json`` giving JSON-LD), solutions and booleans in the result formats
    (``application/json`` giving SPARQL JSON)."""
    if graph:
        offered = {media_type: rdf_syntax(media_type) for media_type in RDF_RESPONSES}
        return {**offered, "application/json": JSONLD}
    return {**{s.media_type: s for s in RESULT_SYNTAXES}, "application/json": RESULTS_JSON}


def named(name: str, *, graph: bool) -> Syntax | None:
    """The answer syntax a short name (``?format=csv``) names, among those ``answer_syntaxes`` offers."""
    return next((s for s in answer_syntaxes(graph=graph).values() if s.name == name), None)
