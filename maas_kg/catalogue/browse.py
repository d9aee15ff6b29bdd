"""What people browse: the taxonomy trees with service counts, capability profiles, a service's readable
description and its version history, and the example queries. The web pages (``api/web.py``) show these; the rules
are the SPARQL files of ``queries/browse/``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

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
    definition_de: str | None = None

    def label(self, lang: str = "en") -> str:
        chosen = self.label_de if lang == "de" else self.label_en
        return chosen or self.label_en or self.iri.rsplit("#", 1)[-1]

    def definition_in(self, lang: str = "en") -> str | None:
        """The definition in ``lang`` where the ontology has one, else the English one."""
        return (self.definition_de if lang == "de" else None) or self.definition


def natural_key(text: str | None) -> tuple:
    """A sort key that orders the numbers within a notation by value: 1.2 before 1.10, 3.2.9 before 3.2.10; a
    class without a notation after those with one."""
    if not text:
        return (1,)
    return (0, *((0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
                 for part in re.findall(r"\d+|\D+", text)))


def _text(term) -> str | None:
    return term.value if term is not None else None


def _select(store: Store, path: str, **blocks: str) -> list[dict]:
    """Run the browse rule ``queries/<path>``. Every pattern of these rules names its graph (a service graph, the
    catalogue or history graph, the ontology's graphs or those derived from them), so they run without the union of
    all graphs as default graph: a statement in a service graph cannot stand in for the ontology's."""
    from maas_kg.catalogue.listing import _answered  # a remote store's broken-off answer is a 503, not a 500

    return _answered(lambda: store.select(rules.bind(rules.rule_text(path), **blocks)))


def taxonomy(store: Store, root: str, *, index=None) -> TaxonomyNode:
    """The taxonomy under ``root`` (e.g. proc:ManufacturingProcess) as a tree; a class with several parents
    appears under each. With ``index`` (the catalogue index, maas_kg.matching.catalogue_index) the service counts come from it
    (offered-counts.rq's counts: 2.8 s a tree at 100,000 services in the store, milliseconds from the index)."""
    if index is not None:  # kept while the store's ontology stays as it is (see listing.ontology_answer)
        from maas_kg.catalogue.listing import ontology_answer

        rows = ontology_answer(store, ("taxonomy", root),
                               lambda: _select(store, "browse/taxonomy.rq", ROOT=rules.values(["root"], [[root]])))
    else:
        rows = _select(store, "browse/taxonomy.rq", ROOT=rules.values(["root"], [[root]]))
    nodes: dict[str, TaxonomyNode] = {}
    parents: dict[str, set[str]] = {}
    for row in rows:
        iri = row["class"].value
        if iri not in nodes:
            nodes[iri] = TaxonomyNode(iri, _text(row["label_en"]), _text(row["label_de"]), _text(row["notation"]),
                                      _text(row["definition"]), 0, definition_de=_text(row["definition_de"]))
        if row["parent"] is not None:
            parents.setdefault(iri, set()).add(row["parent"].value)
    for iri, node in nodes.items():
        for parent in sorted(parents.get(iri, ())):
            if parent in nodes and parent != iri:
                nodes[parent].children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: (natural_key(n.notation), n.label_en or n.iri))
    # a class counts the services offering it or any subclass, each subclass once (one scan of the catalogue, not
    # one per class: that took minutes at 100,000 services)
    if index is not None:
        offered = index.offered(store)
    else:
        offered = {row["offered"].value: int(row["services"].value)
                   for row in _select(store, "browse/offered-counts.rq")}
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


def path_to(tree: TaxonomyNode, iri: str) -> list[TaxonomyNode]:
    """The classes from the root of ``tree`` down to class ``iri``, both included (the first way in the tree's
    order, for a class under several parents); empty when the class is not in the tree."""
    stack: list[tuple[TaxonomyNode, list[TaxonomyNode]]] = [(tree, [tree])]
    while stack:
        node, path = stack.pop()
        if node.iri == iri:
            return path
        stack.extend((child, path + [child]) for child in reversed(node.children))
    return []


def parents(tree: TaxonomyNode, iri: str) -> list[TaxonomyNode]:
    """The direct superclasses of class ``iri`` within ``tree``, each once."""
    found: dict[str, TaxonomyNode] = {}
    for node in walk(tree):
        if any(child.iri == iri for child in node.children):
            found.setdefault(node.iri, node)
    return sorted(found.values(), key=lambda n: (natural_key(n.notation), n.label_en or n.iri))


def synonyms(store: Store, root: str) -> dict[str, list[str]]:
    """Class IRI -> its synonyms (skos:altLabel, any language) for every class under ``root``."""
    from maas_kg.catalogue.listing import ontology_answer

    rows = ontology_answer(store, ("synonyms", root),
                           lambda: _select(store, "browse/class-synonyms.rq", ROOT=rules.values(["root"], [[root]])))
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["class"].value, []).append(row["synonym"].value)
    return found


def matches(node: TaxonomyNode, query: str, terms: dict[str, list[str]]) -> bool:
    """Whether ``query`` occurs (case-insensitive) in the class's labels (en, de), notation or synonyms."""
    needle = query.strip().casefold()
    texts = [node.label_en, node.label_de, node.notation, *terms.get(node.iri, ())]
    return bool(needle) and any(needle in text.casefold() for text in texts if text)


def filtered(tree: TaxonomyNode, query: str, terms: dict[str, list[str]]) -> tuple[TaxonomyNode, set[str]]:
    """A copy of ``tree`` with only the classes that match ``query`` (see ``matches``) and their ancestors, and the
    IRIs of the matching classes."""
    found: set[str] = set()

    def kept(node: TaxonomyNode) -> TaxonomyNode | None:
        children = [c for c in (kept(child) for child in node.children) if c is not None]
        if matches(node, query, terms):
            found.add(node.iri)
        elif not children:
            return None
        return replace(node, children=children)

    return kept(tree) or replace(tree, children=[]), found


def class_profile(store: Store, cls: str, lang: str = "en") -> list[dict]:
    """The effective capability profile of a process class: each property and value with labels in ``lang`` (else
    English), the unit's symbol and name, and ``holder``, the class that states the value (the class itself or the
    ancestor it inherits the value from). One row per property and value."""
    block = rules.values(["class", "lang"], [[cls, ox.Literal(lang if lang in LANGUAGES else "en")]])
    rows: dict[tuple, dict] = {}
    for row in _select(store, "browse/class-profile.rq", CLASS=block):
        values = {k: _text(v) for k, v in row.items()}
        values["propertyLabel"] = values["propertyLabel"] or values["property"].rsplit("#", 1)[-1]
        rows.setdefault((values["property"], values["value"]), values)
    return list(rows.values())


def class_facts(store: Store, cls: str, lang: str = "en") -> dict:
    """What the ontology states about a taxonomy class for its page: ``notations``, ``synonyms`` (text, language),
    ``definition`` in ``lang`` (else English), ``sources`` and ``quantities`` (property label, value, unit symbol
    and name: a value of a property that states its unit, such as a density)."""
    block = rules.values(["class", "lang"], [[cls, ox.Literal(lang if lang in LANGUAGES else "en")]])
    facts: dict = {"notations": [], "synonyms": [], "definitions": {}, "sources": [], "quantities": []}
    for row in _select(store, "browse/class-facts.rq", CLASS=block):
        kind, value, value_lang = row["kind"].value, row["value"].value, _text(row["valueLang"]) or ""
        if kind == "notation":
            facts["notations"].append(value)
        elif kind == "synonym":
            facts["synonyms"].append((value, value_lang))
        elif kind == "definition":
            facts["definitions"].setdefault(value_lang, value)
        elif kind == "source":
            facts["sources"].append(value)
        else:
            facts["quantities"].append({"property": row["property"].value, "label": _text(row["propertyLabel"]),
                                        "value": value, "unit": _text(row["unit"]),
                                        "unitLabel": _text(row["unitLabel"])})
    facts["definition"] = facts["definitions"].get(lang) or facts["definitions"].get("en")
    return facts


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
