"""Taxonomy extensions: Turtle that administrators add to the ontology while the service runs (new process or
material classes with their capability profiles).

An extension is accepted only if the ontology editors' taxonomy QA shapes pass and HermiT finds the extended
ontology consistent. It is stored in its own named graph of the catalogue store, the derived profiles are
recomputed with it in the same transaction, and matching uses it from the next request on (workspaces notice the
change).
"""

from __future__ import annotations

import hashlib
import re

import pyoxigraph as ox
import rdflib

from maas_kg import knowledge
from maas_kg.errors import InvalidDocument, InvalidInput
from maas_kg.knowledge.graphs import EXTENSION_BASE, META_GRAPH, derive_from_ontology, stored_extensions
from maas_kg.knowledge.validation import validate_taxonomy
from maas_kg.store import Changes, Store

_HASH = "https://w3id.org/maas-kg/ns#contentHash"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class ExtensionRejected(InvalidDocument):
    """The extension breaks the taxonomy rules or makes the ontology inconsistent; nothing was stored."""

    title = "Extension rejected"


def extension_graph(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ExtensionRejected(f"an extension name is 1-64 lower-case letters, digits and '-', not {name!r}")
    return EXTENSION_BASE + name


def list_extensions(store: Store) -> list[str]:
    return [graph[len(EXTENSION_BASE):] for graph in sorted(stored_extensions(store))]


def _parse(data: bytes) -> list[ox.Triple]:
    try:
        return [q.triple for q in ox.parse(data, format=ox.RdfFormat.TURTLE)]
    except SyntaxError as err:
        raise InvalidInput(f"malformed Turtle: {err}") from None


def _rdflib(triples) -> rdflib.Graph:
    from maas_kg.rdf import to_rdflib

    return to_rdflib(triples)


def check_extension(store: Store, name: str, triples: list, *, reasoner: bool = True) -> None:
    """Raise ``ExtensionRejected`` unless the ontology with every stored extension and this one passes the
    taxonomy QA shapes and (with ``reasoner``) HermiT."""
    others = [t for g in sorted(stored_extensions(store)) if g != extension_graph(name) for t in store.graph_triples(g)]
    merged = rdflib.Graph()
    merged += knowledge.shipped_ontology()
    merged += _rdflib([ox.Triple(*t) for t in others])
    merged += _rdflib(triples)
    report = validate_taxonomy(merged)
    if not report.conforms:
        first = report.violations[0]
        raise ExtensionRejected(f"the extension breaks {len(report.violations)} taxonomy rule(s); first: "
                                f"{first.focus}: {first.message}", report)
    if reasoner:
        from maas_kg.knowledge.reasoning import check_consistency

        result = check_consistency(merged)
        if result.unsupported_datatypes:  # not an inconsistency: a datatype HermiT (and Protégé) cannot read
            raise ExtensionRejected(result.message)
        if not result.ok:
            raise ExtensionRejected(f"HermiT finds the extended ontology inconsistent: {result.message}")


def add_extension(store: Store, name: str, data: bytes, *, reasoner: bool = True) -> int:
    """Check and store (or replace) the extension ``name``; return its number of triples."""
    graph = extension_graph(name)
    triples = _parse(data)
    if not triples:
        raise ExtensionRejected("the extension is empty")
    check_extension(store, name, triples, reasoner=reasoner)
    _write(store, graph, [(t.subject, t.predicate, t.object) for t in triples],
           hashlib.sha256(data).hexdigest())
    return len(triples)


def remove_extension(store: Store, name: str) -> None:
    """Drop the extension ``name``; ``LookupError`` if there is none (a name no extension can have included)."""
    if not _NAME.fullmatch(name):
        raise LookupError(f"no extension has the name {name[:80]!r}: names are 1-64 lower-case letters, digits "
                          "and '-'")
    graph = extension_graph(name)
    if graph not in stored_extensions(store):
        raise LookupError(f"no extension {name}")
    _write(store, graph, None, None)


def _write(store: Store, graph: str, triples: list | None, digest: str | None) -> None:
    """Store or drop one extension graph and recompute the derived graphs, in one transaction."""
    kept = [t for g in sorted(stored_extensions(store)) if g != graph for t in store.graph_triples(g)]
    changes = Changes()
    changes.update(f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> <{_HASH}> ?h }} }}")
    if triples is None:
        changes.drop_graph(graph)
    else:
        changes.replace_graph(graph, triples)
        changes.update(f'INSERT DATA {{ GRAPH <{META_GRAPH}> {{ <{graph}> <{_HASH}> "{digest}" }} }}')
    for derived, derived_triples in derive_from_ontology(kept + (triples or [])).items():
        changes.replace_graph(derived, derived_triples)
    store.commit(changes)
