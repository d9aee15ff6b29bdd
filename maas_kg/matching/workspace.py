"""A private workspace for customers' products: in-memory stores with the ontology, beside the catalogue store.

Products and the requirements derived from them are customers' private data. They never enter the catalogue store,
whose content the public SPARQL endpoint serves; translation runs here, and only the must-criteria (which carry the
product's values, not its IRI) go to the catalogue or its match index. Nothing of a match outlives it unless the
caller keeps the result.

Each thread gets a workspace store of its own (the translation rules see a whole store, so two products must not
share one), and all threads share the catalogue's match index: a worker matches as many products at once as it
has threads.
"""

from __future__ import annotations

import datetime
import threading

from maas_kg.errors import InvalidInput
from maas_kg.knowledge.graphs import META_GRAPH, stored_extensions, sync_ontology
from maas_kg.matching.index import MatchIndex
from maas_kg.matching.matcher import MatchResult, match_product
from maas_kg.matching.products import product_graph, submit_product
from maas_kg.matching.translation import requirements_graph
from maas_kg.store import Changes, OxigraphStore, Store

#: how the must-criteria run: on the match index (the default), or by the SPARQL rule in the catalogue store (the
#: reference, and the path for a store nobody keeps an index of)
ENGINES = ("index", "sparql")


class _ThreadStore(threading.local):
    store: OxigraphStore | None = None
    extensions: dict[str, str] | None = None


class Workspace:
    """Matches products against ``catalogue`` without writing anything to it. Safe to share between threads."""

    def __init__(self, catalogue: Store, *, engine: str = "index", snapshot: str | None = None):
        if engine not in ENGINES:
            raise InvalidInput(f"engine is one of {', '.join(ENGINES)}, not {engine!r}")
        self.catalogue = catalogue
        self.engine = engine
        # from the snapshot where there is one (then only the changes since are read), else built on first use
        self.index = MatchIndex.opened(snapshot)
        self._local = _ThreadStore()
        self.store  # the calling thread's workspace, ready before the first match

    @property
    def store(self) -> OxigraphStore:
        """The calling thread's workspace store, with the ontology and the catalogue's taxonomy extensions."""
        local = self._local
        if local.store is None:
            local.store, local.extensions = OxigraphStore(None), {}
        sync_ontology(local.store)  # cheap when no module changed; picks up edits without a restart
        self._follow_extensions(local)
        return local.store

    def _follow_extensions(self, local: _ThreadStore) -> None:
        """Copy the catalogue's taxonomy extensions when they changed, and derive the profiles again with them."""
        current = stored_extensions(self.catalogue)
        if current == local.extensions:
            return
        changes = Changes()
        for graph in set(local.extensions) - set(current):
            changes.drop_graph(graph)
        for graph, digest in current.items():
            changes.replace_graph(graph, self.catalogue.graph_triples(graph))
        changes.update(f"DELETE {{ GRAPH <{META_GRAPH}> {{ ?g ?p ?h }} }} WHERE {{ GRAPH <{META_GRAPH}> {{ ?g ?p ?h }} "
                       f"FILTER(STRSTARTS(STR(?g), \"https://w3id.org/maas-kg/ontology/extension/\")) }}")
        rows = " ".join(f'<{g}> <https://w3id.org/maas-kg/ns#contentHash> "{h}" .' for g, h in current.items())
        if rows:
            changes.update(f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ {rows} }} }}")
        local.store.commit(changes)
        sync_ontology(local.store, force=True)
        local.extensions = current

    def match(self, data: bytes, format: str, *, today: datetime.date | None = None, k: int = 3,
              engine: str | None = None) -> MatchResult:
        """Validate the product in ``data`` (raises ``ProductError``), route it and match it; then forget it."""
        engine = engine or self.engine
        if engine not in ENGINES:
            raise InvalidInput(f"engine is one of {', '.join(ENGINES)}, not {engine!r}")
        store = self.store
        product = submit_product(store, data, format)
        try:
            return match_product(store, product, catalogue=self.catalogue, today=today, k=k,
                                 index=self.index if engine == "index" else None)
        finally:
            changes = Changes()
            changes.drop_graph(product_graph(product))
            changes.drop_graph(requirements_graph(product))
            store.commit(changes)
