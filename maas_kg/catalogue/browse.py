"""What people browse: the taxonomy trees with service counts, capability profiles, a service's readable
description and its version history, and the example queries. The web pages (``api/web.py``) show these; the rules
are the SPARQL files of ``queries/browse/``."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from maas_kg import knowledge
from maas_kg.catalogue.publishing import service_graph
from maas_kg.knowledge import rules
from maas_kg.store import Store

LANGUAGES = ("en", "de")


@dataclass
class TaxonomyNode:
    iri: str
    label_en: str | None
    label_de: str | None
    notation: str | None
    definition: str | None
    services: int
    children: list["TaxonomyNode"] = field(default_factory=list)

    def label(self, lang: str = "en") -> str:
        chosen = self.label_de if lang == "de" else self.label_en
        return chosen or self.label_en or self.iri.rsplit("#", 1)[-1]


def _text(term) -> str | None:
    return term.value if term is not None else None


def _select(store: Store, path: str, **blocks: str) -> list[dict]:
    """Run the browse rule ``queries/<path>``. Every pattern of these rules names its graph (a service graph, the
    catalogue or history graph, the ontology's graphs or those derived from them), so they run without the union of
    all graphs as default graph: a statement in a service graph cannot stand in for the ontology's."""
    return store.select(rules.bind(rules.rule_text(path), **blocks))


def taxonomy(store: Store, root: str) -> TaxonomyNode:
    """The taxonomy under ``root`` (e.g. proc:ManufacturingProcess) as a tree; a class with several parents
    appears under each."""
    rows = _select(store, "browse/taxonomy.rq", ROOT=rules.values(["root"], [[root]]))
    nodes: dict[str, TaxonomyNode] = {}
    parents: dict[str, set[str]] = {}
    for row in rows:
        iri = row["class"].value
        if iri not in nodes:
            nodes[iri] = TaxonomyNode(iri, _text(row["label_en"]), _text(row["label_de"]), _text(row["notation"]),
                                      _text(row["definition"]), 0)
        if row["parent"] is not None:
            parents.setdefault(iri, set()).add(row["parent"].value)
    for iri, node in nodes.items():
        for parent in sorted(parents.get(iri, ())):
            if parent in nodes and parent != iri:
                nodes[parent].children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: (n.notation or "~", n.label_en or n.iri))
    # a class counts the services offering it or any subclass, each subclass once (one scan of the catalogue, not
    # one per class: that took minutes at 100,000 services)
    offered = {row["offered"].value: int(row["services"].value) for row in _select(store, "browse/offered-counts.rq")}
    for node in nodes.values():
        node.services = sum(offered.get(iri, 0) for iri in {n.iri for n in walk(node)})
    return nodes[root]


def walk(tree: TaxonomyNode):
    """Every node of ``tree``, the root first (a class under several parents comes once per parent)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def find(tree: TaxonomyNode, iri: str) -> TaxonomyNode | None:
    """The node of class ``iri`` in ``tree``, if it is there."""
    return next((node for node in walk(tree) if node.iri == iri), None)


def labels(tree: TaxonomyNode, lang: str = "en") -> dict[str, str]:
    """Class IRI -> label in ``lang`` for every class of ``tree``."""
    return {node.iri: node.label(lang) for node in walk(tree)}


def class_profile(store: Store, cls: str) -> list[dict]:
    """The effective capability profile of a class: property and value, with English labels."""
    return [{k: _text(v) for k, v in row.items()}
            for row in _select(store, "browse/class-profile.rq", CLASS=rules.values(["class"], [[cls]]))]


def service_description(store: Store, service: str, lang: str = "en") -> dict[str, list[dict]]:
    """A service's values by part (service, provider, site, price), labelled in ``lang``, with unit symbols."""
    block = rules.values(["service", "g", "lang"],
                         [[service, service_graph(service), ox.Literal(lang if lang in LANGUAGES else "en")]])
    parts: dict[str, list[dict]] = {}
    for row in _select(store, "browse/service-detail.rq", SERVICE=block):
        values = {k: _text(v) for k, v in row.items()}
        values["label"] = values["label"] or values["property"].rsplit("#", 1)[-1]
        parts.setdefault(values.pop("part"), []).append(values)
    return parts


def service_history(store: Store, service: str) -> list[dict]:
    """Publications and withdrawals of a service, oldest first."""
    rows = _select(store, "browse/service-history.rq", SERVICE=rules.values(["service"], [[service]]))
    return [{"kind": row["kind"].value.rsplit("#", 1)[-1], "version": int(row["version"].value),
             "time": row["time"].value, "agent": _text(row["agent"])} for row in rows]


def match_criteria(store: Store) -> list[dict[str, str | None]]:
    """The can-criteria with their JSON name (``weights`` key), labels, definition and default weight."""
    return [{k: _text(v) for k, v in row.items()} for row in _select(store, "browse/match-criteria.rq")]


@dataclass(frozen=True)
class ExampleQuery:
    name: str
    title: str
    text: str


def example_queries() -> list[ExampleQuery]:
    """The queries of ``queries/examples/``, each titled by its first comment line."""
    examples = []
    for path in sorted((knowledge.queries_dir() / "examples").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")), path.stem)
        examples.append(ExampleQuery(path.stem, first, text))
    return examples
