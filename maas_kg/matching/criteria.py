"""The match criteria as the ontology declares them.

Each can-criterion is a ``maas:CanCriterion`` individual: ``skos:notation`` its name, ``maas:lowerIsBetter`` how it
ranks, ``maas:resultUnit`` the unit explanations use, ``maas:defaultWeight`` its weight when a request states none.

Each must-criterion is a ``maas:MustCriterion`` individual in ``ontology/core.ttl``: its ``skos:notation`` is its name
in the output contract and the variable the must-criteria rule projects, ``maas:comparison`` names the operator the
match index applies (:data:`maas_kg.matching.index.OPERATORS`), ``maas:relaxHint`` what a buyer may change when a
service fails only it. Read by ``queries/matching/criteria.rq`` from the ontology's graphs in a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from maas_kg.knowledge import rules
from maas_kg.store import Store


@dataclass(frozen=True)
class MustCriterion:
    iri: str
    name: str
    comparison: str
    finishing_only: bool
    label: dict[str, str] = field(default_factory=dict, compare=False)
    relax: dict[str, str] = field(default_factory=dict, compare=False)


def must_criteria(store: Store) -> tuple[MustCriterion, ...]:
    """The declared must-criteria in output order."""
    found: dict[str, MustCriterion] = {}
    for row in rules.select(store, "matching/criteria.rq"):
        iri = row["criterion"].value
        criterion = found.get(iri)
        if criterion is None:
            criterion = found[iri] = MustCriterion(
                iri, row["name"].value, row["comparison"].value,
                row["finishingOnly"] is not None and row["finishingOnly"].value == "true")
        for kind in ("label", "relax"):
            term = row[kind]
            if term is not None:
                getattr(criterion, kind).setdefault(term.language or "en", term.value)
    return tuple(found.values())


@dataclass(frozen=True)
class CanCriterion:
    name: str
    lower_is_better: bool
    unit: str | None


def can_criteria(store: Store) -> tuple[CanCriterion, ...]:
    """The declared can-criteria (``queries/matching/can-criteria.rq``): how each ranks, and its unit."""
    return tuple(CanCriterion(row["name"].value, row["lowerIsBetter"].value == "true",
                              row["unit"].value if row["unit"] is not None else None)
                 for row in rules.select(store, "matching/can-criteria.rq"))


def must_names(store: Store) -> tuple[str, ...]:
    return tuple(c.name for c in must_criteria(store))


def relax_hints(store: Store, language: str = "en") -> dict[str, str]:
    """What a buyer may relax, per must-criterion name, in ``language`` (English where it has none)."""
    return {c.name: c.relax.get(language) or c.relax.get("en", "") for c in must_criteria(store)}
