"""A private workspace for customers' products: in-memory stores with the ontology, beside the catalogue store.

Products and the requirements derived from them are customers' private data. They never enter the catalogue store,
whose content the public SPARQL endpoint serves; translation runs here, and only the must-criteria (which carry the
product's values, not its IRI) go to the catalogue or its match index. Nothing of a match outlives it unless the
caller keeps the result.

Each thread gets a workspace store of its own (the translation rules see a whole store, so two products must not
share one), and all threads share the catalogue's match index: a worker matches as many products at once as it
has threads.

A product document matched again (the same bytes, the same ontology) is not validated and translated again: its
routes and request are kept in memory for at most ``TRANSLATED_SECONDS`` (``TRANSLATED_MAX`` documents per
process), and its match reads only the catalogue. Validation and translation are about half of a served match's
CPU time. Nothing of it is written anywhere, and only the same bytes find it.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import hashlib
import threading
import time

from maas_kg import knowledge
from maas_kg.errors import InvalidInput
from maas_kg.knowledge import taxonomy
from maas_kg.knowledge.graphs import META_GRAPH, derive_rules_digest, stored_extensions, sync_ontology
from maas_kg.matching.index import MatchIndex
from maas_kg.matching.matcher import MatchResult, Request, match_translated, read_request
from maas_kg.matching.products import product_graph, submit_product
from maas_kg.matching.translation import Translation, derive_requirements, requirements_graph
from maas_kg.store import Changes, OxigraphStore, Store

#: how the must-criteria run: on the match index (the default), or by the SPARQL rule in the catalogue store (the
#: reference, and the path for a store nobody keeps an index of)
ENGINES = ("index", "sparql")
#: how long, and how many, translated product documents a process keeps (see the module's text)
TRANSLATED_SECONDS, TRANSLATED_MAX = 600, 512


class _Translated:
    """Translated product documents by their digest and the ontology they were translated with, newest last."""

    def __init__(self):
        self._entries: collections.OrderedDict[tuple, tuple[float, Translation, Request]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[Translation, Request] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or time.monotonic() - found[0] > TRANSLATED_SECONDS:
                return None
            self._entries.move_to_end(key)
            return found[1], found[2]

    def put(self, key: tuple, translation: Translation, request: Request) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), translation, request)
            self._entries.move_to_end(key)
            while len(self._entries) > TRANSLATED_MAX:
                self._entries.popitem(last=False)
            now = time.monotonic()
            while self._entries and now - next(iter(self._entries.values()))[0] > TRANSLATED_SECONDS:
                self._entries.popitem(last=False)


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
        self._translated = _Translated()
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
        """Validate the product in ``data`` (raises ``ProductError``), route it and match it; then drop it from the
        workspace store. Only its routes and request are kept, in memory, for a match of the same bytes (see the
        module's text)."""
        engine = engine or self.engine
        if engine not in ENGINES:
            raise InvalidInput(f"engine is one of {', '.join(ENGINES)}, not {engine!r}")
        store, index = self.store, (self.index if engine == "index" else None)
        today = today or datetime.date.today()
        key = (hashlib.sha256(data).digest(), format, _ontology_state(taxonomy.follow(store)))
        found = self._translated.get(key)
        if found is not None:
            translation, request = found
            return match_translated(store, translation, dataclasses.replace(request, today=today),
                                    catalogue=self.catalogue, k=k, index=index)
        product = submit_product(store, data, format)
        try:
            translation = derive_requirements(store, product, record=False)
            request = read_request(store, product, today=today)
        finally:
            changes = Changes()
            changes.drop_graph(product_graph(product))
            changes.drop_graph(requirements_graph(product))
            store.commit(changes)
        self._translated.put(key, translation, request)
        return match_translated(store, translation, request, catalogue=self.catalogue, k=k, index=index)


def _ontology_state(extensions: tuple) -> tuple:
    """What a translation depends on besides the product: the modules, the derive rules and the taxonomy
    extensions (the workspace store was brought up to them just before)."""
    return (tuple(knowledge.file_digest(path) for path in knowledge.ontology_modules().values()),
            derive_rules_digest(), extensions)
