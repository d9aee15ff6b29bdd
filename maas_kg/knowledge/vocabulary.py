"""Resolve what people type (labels, synonyms, DIN notations, ISO/ASTM codes, IRIs) to taxonomy terms."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass

import rdflib
from rdflib.namespace import RDFS, SKOS

from maas_kg.errors import Unprocessable
from maas_kg.knowledge import MAT, PROC

#: names longer than this get no suggestions
MAX_SUGGESTED_LENGTH = 100


class UnknownTerm(Unprocessable, LookupError):
    """A name that matches no term; ``suggestions`` holds the closest known labels."""

    title = "Unknown term"

    def __init__(self, kind: str, name: str, suggestions: list[str]):
        self.kind, self.name, self.suggestions = kind, name, suggestions
        hint = f"; closest known: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown {kind} {_quoted(name)}{hint}")


class AmbiguousTerm(Unprocessable, LookupError):
    title = "Unknown term"
    def __init__(self, kind: str, name: str, matches: list[str]):
        self.kind, self.name, self.matches = kind, name, matches
        super().__init__(f"{kind} {_quoted(name)} is ambiguous: it names {', '.join(matches)}")


def _quoted(name: str, limit: int = 80) -> str:
    """``name`` quoted for a message, shortened to ``limit`` characters."""
    return repr(name) if len(name) <= limit else repr(name[:limit]) + f"... ({len(name)} characters)"


@dataclass(frozen=True)
class TermIndex:
    """Index from every label, altLabel and notation of one taxonomy to its class IRIs, by the matching key of
    :func:`match_key` (case, spaces, dashes, underscores, dots and colons ignored; for certifications also a trailing
    edition year)."""

    kind: str
    root: rdflib.URIRef
    names: dict[str, frozenset[rdflib.URIRef]]
    members: frozenset[rdflib.URIRef]
    #: the known names as suggestions show them (case-folded, spaces collapsed)
    shown: tuple[str, ...] = ()

    @classmethod
    def build(cls, graph: rdflib.Graph, root: rdflib.URIRef, kind: str) -> "TermIndex":
        """Index of the classes below ``root`` (a taxonomy)."""
        return cls._of(graph, root, set(graph.transitive_subjects(RDFS.subClassOf, root)), kind)

    @classmethod
    def build_instances(cls, graph: rdflib.Graph, klass: rdflib.URIRef, kind: str) -> "TermIndex":
        """Index of the reference individuals of ``klass`` (certifications, shape classes, ...)."""
        return cls._of(graph, klass, set(graph.subjects(rdflib.RDF.type, klass)), kind)

    @classmethod
    def _of(cls, graph, root, members, kind) -> "TermIndex":
        names: dict[str, set[rdflib.URIRef]] = defaultdict(set)
        shown: set[str] = set()
        for term in members:
            for predicate in (RDFS.label, SKOS.altLabel, SKOS.hiddenLabel, SKOS.prefLabel, SKOS.notation):
                for value in graph.objects(term, predicate):
                    names[match_key(str(value), kind)].add(term)
                    if predicate != SKOS.hiddenLabel:
                        shown.add(_shown(str(value)))
        names.pop("", None)
        return cls(kind, root, {k: frozenset(v) for k, v in names.items()}, frozenset(members), tuple(sorted(shown)))

    def resolve(self, name: str, *, suggest: bool = True) -> rdflib.URIRef:
        """Return the one term that ``name`` denotes, or raise UnknownTerm / AmbiguousTerm (with the closest known
        names if ``suggest``: finding them costs milliseconds per name, the lookup itself microseconds)."""
        text = name.strip()
        if text.startswith(("http://", "https://")):
            iri = rdflib.URIRef(text)
            if iri in self.members:
                return iri
            local = text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            raise UnknownTerm(self.kind, name, self.suggest(local) if suggest else [])
        found = self.names.get(match_key(text, self.kind), frozenset())
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise AmbiguousTerm(self.kind, name, sorted(str(t) for t in found))
        raise UnknownTerm(self.kind, name, self.suggest(text) if suggest else [])

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        # difflib is quadratic in the length of the name: a long name has no close match among short labels anyway
        if len(name) > MAX_SUGGESTED_LENGTH:
            return []
        return difflib.get_close_matches(_shown(name), list(self.shown), n=limit, cutoff=0.6)


#: what a matching key ignores: white space, dashes (ASCII and Unicode), underscores, dots and colons
_IGNORED = re.compile(r"[\s\-\u2010-\u2015\u2212_.:]+")
#: the edition year of a standard ("ISO 9001:2015", "ISO 9001 2015"): after the standard's number, a colon or
#: space, then a year; the standard's own number is never taken ("DIN 2015" keeps its 2015)
_EDITION_YEAR = re.compile(r"(?<=\d)\s*(?::|\s)\s*(?:19|20)\d\d\s*$")


def match_key(text: str, kind: str = "") -> str:
    """The key names are matched by: ``text`` case-folded, with white space, dashes, underscores, dots and colons
    ignored ("Ti6Al4V" = "Ti-6Al-4V", "5 axis milling" = "5-axis milling", "EN AW 6061" = "en-aw-6061"); for a
    certification also without a trailing edition year ("ISO9001:2015" = "ISO 9001"). Digits spelled as words
    ("five-axis") are not rewritten: the ontology states such spellings as ``skos:altLabel``. Two terms whose names
    give the same key make that key ambiguous (``AmbiguousTerm``), never a silent choice."""
    text = text.casefold().strip()
    if kind == "certification":
        text = _EDITION_YEAR.sub("", text)
    return _IGNORED.sub("", text)


def _shown(text: str) -> str:
    """A name as suggestions show it: case-folded, white space collapsed."""
    return " ".join(text.casefold().split())


def process_index(graph: rdflib.Graph) -> TermIndex:
    return TermIndex.build(graph, PROC.ManufacturingProcess, "process")


def material_index(graph: rdflib.Graph) -> TermIndex:
    return TermIndex.build(graph, MAT.Material, "material")
