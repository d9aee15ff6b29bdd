"""Terms and triples between pyoxigraph (the stores, the parsers) and rdflib (pyshacl, JSON-LD compaction, HermiT's
input): the one place that converts them. Imports nothing of maas_kg."""

from __future__ import annotations

import functools

import pyoxigraph as ox
import rdflib

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


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
