"""Keep the ontology modules in the store, each in its own named graph (its ontology IRI), reloaded only when its
file changed. A content hash per module is kept in the meta graph."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pyoxigraph as ox

from maas_kg import knowledge
from maas_kg.store import Changes, Store, StoreError

META_GRAPH = "https://w3id.org/maas-kg/graph/meta"
# taxonomy extensions uploaded by administrators live in the store (not in files), each in its own graph here
EXTENSION_BASE = "https://w3id.org/maas-kg/ontology/extension/"
DERIVED_GRAPH_BASE = "https://w3id.org/maas-kg/graph/derived/"
# store migrations (queries/migrate/*.ru) that have run, by their content hash in the meta graph
MIGRATION_BASE = "https://w3id.org/maas-kg/migration/"
# the rules of queries/derive/ that wrote the derived graphs, by the hash of their texts in the meta graph: a store
# written by other rules (an older version, before a derived graph existed) gets its derived graphs again
DERIVE_RULES_KEY = "https://w3id.org/maas-kg/queries/derive/"
_HASH = "https://w3id.org/maas-kg/ns#contentHash"


def _stored_hashes(store: Store) -> dict[str, str]:
    rows = store.select(f"SELECT ?g ?h WHERE {{ GRAPH <{META_GRAPH}> {{ ?g <{_HASH}> ?h }} }}")
    return {row["g"].value: row["h"].value for row in rows}


def sync_ontology(store: Store, *, force: bool = False) -> list[str]:
    """Load every changed module (all of them with ``force``) and drop removed ones, in one transaction; return
    the modules loaded (removed ones prefixed with ``-``)."""
    stored = _stored_hashes(store)
    changes, loaded = Changes(), []
    for name, path in knowledge.ontology_modules().items():
        digest = knowledge.file_digest(path)
        graph = str(knowledge.module_graph_iri(name))
        if not force and stored.get(graph) == digest:
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()  # what is loaded, should the file change meanwhile
        try:
            triples = [(q.subject, q.predicate, q.object) for q in ox.parse(data, format=ox.RdfFormat.TURTLE)]
        except SyntaxError as err:
            raise StoreError(f"ontology module {path.name} is malformed: {err}") from None
        changes.replace_graph(graph, triples)
        changes.update(f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> <{_HASH}> ?h }} }}")
        changes.update(f'INSERT DATA {{ GRAPH <{META_GRAPH}> {{ <{graph}> <{_HASH}> "{digest}" }} }}')
        loaded.append(name)
    current = {str(knowledge.module_graph_iri(name)) for name in knowledge.ontology_modules()}
    kept = (EXTENSION_BASE, MIGRATION_BASE, DERIVE_RULES_KEY)
    for graph in sorted(g for g in set(stored) - current if not g.startswith(kept)):
        # a module file was removed: its graph goes too
        changes.drop_graph(graph)
        changes.update(f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> <{_HASH}> ?h }} }}")
        loaded.append("-" + graph.rsplit("/", 1)[-1])
    rules_digest = derive_rules_digest()
    if loaded or stored.get(DERIVE_RULES_KEY) != rules_digest:
        for graph, triples in derive_from_ontology(extension_triples(store)).items():
            changes.replace_graph(graph, triples)
        changes.update(f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{DERIVE_RULES_KEY}> <{_HASH}> ?h }} }}")
        changes.update(f'INSERT DATA {{ GRAPH <{META_GRAPH}> {{ <{DERIVE_RULES_KEY}> <{_HASH}> "{rules_digest}" }} }}')
    _migrate(changes, stored)
    store.commit(changes)
    return loaded


def _migrate(changes: Changes, stored: dict[str, str]) -> None:
    """Add each rule of queries/migrate/ that has not run on this store (or changed since) to ``changes``: they
    bring data written by earlier versions up to date, such as the listing index on catalogue records. Each rule
    must be idempotent."""
    for rule in sorted((knowledge.queries_dir() / "migrate").glob("*.ru")):
        key = MIGRATION_BASE + rule.stem
        if stored.get(key) == knowledge.file_digest(rule):
            continue
        text = rule.read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        changes.update(text)
        changes.update(f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{key}> <{_HASH}> ?h }} }}")
        changes.update(f'INSERT DATA {{ GRAPH <{META_GRAPH}> {{ <{key}> <{_HASH}> "{digest}" }} }}')


def stored_extensions(store: Store) -> dict[str, str]:
    """The taxonomy extensions in the store: graph IRI -> content hash."""
    return {g: h for g, h in _stored_hashes(store).items() if g.startswith(EXTENSION_BASE)}


def extension_triples(store: Store) -> list:
    return [t for graph in sorted(stored_extensions(store)) for t in store.graph_triples(graph)]


def _derive_rules() -> list[Path]:
    return sorted((knowledge.queries_dir() / "derive").glob("*.ru"))


def derive_rules_digest() -> str:
    """One hash over the names and texts of the rules of queries/derive/."""
    rules = _derive_rules()
    return _combined_digest(tuple((rule.name, knowledge.file_digest(rule)) for rule in rules), tuple(rules))


@functools.lru_cache(maxsize=4)
def _combined_digest(digests: tuple, rules: tuple[Path, ...]) -> str:
    # keyed by the files' own digests, so the texts are read again only when one changed
    digest = hashlib.sha256()
    for rule in rules:
        digest.update(rule.name.encode("utf-8") + b"\0" + rule.read_bytes() + b"\0")
    return digest.hexdigest()


def derive_from_ontology(extra: list | tuple = ()) -> dict[str, list]:
    """Run the rules of queries/derive/ over the merged ontology (and ``extra`` triples: the taxonomy extensions);
    return the derived graphs they write.

    The rules see the whole ontology as their default graph (an in-memory store), which the store's named-graph
    layout cannot offer to a SPARQL Update, and run once per ontology change rather than per request. A process
    keeps the answers of its last few ontologies: every new workspace store (one per serving thread) needs them,
    and deriving took 0.5 s of the 0.55 s its start took.
    """
    modules = tuple(knowledge.file_digest(path) for path in knowledge.ontology_modules().values())
    return {graph: list(triples) for graph, triples in _derived(modules, derive_rules_digest(), tuple(extra)).items()}


@functools.lru_cache(maxsize=4)
def _derived(modules: tuple, rules_digest: str, extra: tuple) -> dict[str, tuple]:
    # keyed by the modules' and rules' digests: the files are what the rules read
    scratch = ox.Store()
    for path in knowledge.ontology_modules().values():
        scratch.load(path=str(path), format=ox.RdfFormat.TURTLE)
    scratch.extend(ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in extra)
    for rule in _derive_rules():
        scratch.update(rule.read_text(encoding="utf-8"))
    derived: dict[str, list] = {}
    for quad in scratch.quads_for_pattern(None, None, None, None):
        if isinstance(quad.graph_name, ox.NamedNode) and quad.graph_name.value.startswith(DERIVED_GRAPH_BASE):
            derived.setdefault(quad.graph_name.value, []).append((quad.subject, quad.predicate, quad.object))
    return {graph: tuple(triples) for graph, triples in derived.items()}


def ontology_graph_iris() -> list[str]:
    return [str(knowledge.module_graph_iri(name)) for name in knowledge.ontology_modules()]
