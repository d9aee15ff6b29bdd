"""A private workspace for customers' products: an in-memory store with the ontology, beside the catalogue store.

Products and the requirements derived from them are customers' private data. They never enter the catalogue store,
whose content the public SPARQL endpoint serves; translation runs here, and only the must-criteria queries (which
carry the product's values, not its IRI) go to the catalogue. Nothing of a match outlives it unless the caller keeps
the result.
"""

from __future__ import annotations

import datetime
import threading

from maas_kg.knowledge.graphs import META_GRAPH, stored_extensions, sync_ontology
from maas_kg.matching.matcher import MatchResult, match_product
from maas_kg.matching.products import product_graph, submit_product
from maas_kg.matching.translation import requirements_graph
from maas_kg.store import Changes, OxigraphStore, Store


class Workspace:
    """Matches products against ``catalogue`` without writing anything to it. Safe to share between threads."""

    def __init__(self, catalogue: Store):
        self.catalogue = catalogue
        self.store = OxigraphStore(None)
        self._lock = threading.Lock()
        self._extensions: dict[str, str] = {}
        sync_ontology(self.store)
        self._follow_extensions()

    def _follow_extensions(self) -> None:
        """Copy the catalogue's taxonomy extensions when they changed, and derive the profiles again with them."""
        current = stored_extensions(self.catalogue)
        if current == self._extensions:
            return
        changes = Changes()
        for graph in set(self._extensions) - set(current):
            changes.drop_graph(graph)
        for graph, digest in current.items():
            changes.replace_graph(graph, self.catalogue.graph_triples(graph))
        changes.update(f"DELETE {{ GRAPH <{META_GRAPH}> {{ ?g ?p ?h }} }} WHERE {{ GRAPH <{META_GRAPH}> {{ ?g ?p ?h }} "
                       f"FILTER(STRSTARTS(STR(?g), \"https://w3id.org/maas-kg/ontology/extension/\")) }}")
        rows = " ".join(f'<{g}> <https://w3id.org/maas-kg/ns#contentHash> "{h}" .' for g, h in current.items())
        if rows:
            changes.update(f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ {rows} }} }}")
        self.store.commit(changes)
        sync_ontology(self.store, force=True)
        self._extensions = current

    def match(self, data: bytes, format: str, *, today: datetime.date | None = None, k: int = 3) -> MatchResult:
        """Validate the product in ``data`` (raises ``ProductError``), route it and match it; then forget it."""
        with self._lock:  # one product at a time: the translation rules see the whole workspace
            sync_ontology(self.store)  # cheap when no module changed; picks up edits without a restart
            self._follow_extensions()
            product = submit_product(self.store, data, format)
            try:
                return match_product(self.store, product, catalogue=self.catalogue, today=today, k=k)
            finally:
                changes = Changes()
                changes.drop_graph(product_graph(product))
                changes.drop_graph(requirements_graph(product))
                self.store.commit(changes)
