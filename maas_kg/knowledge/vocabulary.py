"""Resolve what people type (labels, synonyms, DIN notations, ISO/ASTM codes, IRIs) to taxonomy terms."""

from __future__ import annotations

import difflib
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
    """Case-insensitive index from every label, altLabel and notation of one taxonomy to its class IRIs."""

    kind: str
    root: rdflib.URIRef
    names: dict[str, frozenset[rdflib.URIRef]]
    members: frozenset[rdflib.URIRef]

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
        for term in members:
            for predicate in (RDFS.label, SKOS.altLabel, SKOS.prefLabel, SKOS.notation):
                for value in graph.objects(term, predicate):
                    names[_key(str(value))].add(term)
        return cls(kind, root, {k: frozenset(v) for k, v in names.items()}, frozenset(members))

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
        found = self.names.get(_key(text), frozenset())
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise AmbiguousTerm(self.kind, name, sorted(str(t) for t in found))
        raise UnknownTerm(self.kind, name, self.suggest(text) if suggest else [])

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        # difflib is quadratic in the length of the name: a long name has no close match among short labels anyway
        if len(name) > MAX_SUGGESTED_LENGTH:
            return []
        return difflib.get_close_matches(_key(name), list(self.names), n=limit, cutoff=0.6)


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def process_index(graph: rdflib.Graph) -> TermIndex:
    return TermIndex.build(graph, PROC.ManufacturingProcess, "process")


def material_index(graph: rdflib.Graph) -> TermIndex:
    return TermIndex.build(graph, MAT.Material, "material")
