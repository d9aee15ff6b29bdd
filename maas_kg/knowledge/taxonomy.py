"""The taxonomy from one source: the ontology in force is the shipped modules plus the taxonomy extensions the
catalogue store holds. ``follow(store)`` makes them the ones in force for the calling thread (one small query of the
meta graph; the extension triples are read once per version, by their content hashes), so term lookup, the shapes'
view of the class hierarchy and the JSON field names know an extension's classes in every worker, without a
restart. Publishing, validation, product submission, the HTTP requests and the CLI call it before they read input.
"""

from __future__ import annotations

from maas_kg import knowledge
from maas_kg.knowledge.graphs import stored_extensions
from maas_kg.rdf import to_rdflib_term
from maas_kg.store import Store


def follow(store: Store) -> tuple:
    """Put the taxonomy extensions of ``store`` in force for this thread; return their key ((graph, hash) pairs)."""
    stored = stored_extensions(store)
    key = tuple(sorted(stored.items()))

    def triples():
        return [tuple(to_rdflib_term(term) for term in triple)
                for graph in sorted(stored) for triple in store.graph_triples(graph)]

    knowledge.use_extensions(key, triples)
    return key
