"""Product characteristics -> process requirements (mission activity 2.2), by SPARQL rules in queries/translation/.

This first part derives the primary processes that can make a product; finishing steps, treatments, route
alternatives and their reasons build on it (issue 4).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from maas_kg import knowledge
from maas_kg.store import Store


@dataclass(frozen=True)
class PrimaryCandidate:
    process: str
    it_typical: int | None
    ra_typical: float | None
    batch_min: int
    batch_max: int
    needs_tooling: bool


@functools.cache
def _rule(name: str) -> str:
    return (knowledge.queries_dir() / "translation" / name).read_text(encoding="utf-8")


def primary_process_candidates(store: Store, product: str) -> list[PrimaryCandidate]:
    """Primary processes whose capability profile fits the product stored in ``store`` (any graph)."""
    query = _rule("primary-processes.rq").replace("#PRODUCT#", f"VALUES ?product {{ <{product}> }}")
    rows = store.select(query, union_default_graph=True)
    number = lambda term, cast: cast(term.value) if term is not None else None  # noqa: E731
    found = {row["process"].value: row for row in rows}
    # a candidate under another candidate adds nothing: services of the subclass match the general requirement
    general = [p for p, row in found.items() if not set(row["ancestors"].value.split()) & found.keys()]
    return sorted((PrimaryCandidate(p, number(found[p]["itTypical"], int), number(found[p]["raTypical"], float),
                                    int(found[p]["batchMin"].value), int(found[p]["batchMax"].value),
                                    found[p]["tooling"] is not None and found[p]["tooling"].value == "true")
                   for p in general), key=lambda c: c.process)
