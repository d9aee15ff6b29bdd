"""Activity 3.4, evaluation: the buyer rates a delivered order; each provider's evaluations are aggregated into
the ``performance`` can-criterion of matching, published in the catalogue store as the aggregate with its count only.

How an evaluation is scored is declared in the ontology (``maas:EvaluationAspect`` individuals with their
``maas:evaluationWeight``; today quality 0.4, on time 0.3, communication 0.15, documents 0.15) and so is the prior
of the aggregate (``maas:priorMean``, ``maas:priorWeight`` of ``maas:PerformanceCriterion``): a provider's
performance is ``(prior weight x prior mean + sum of scores) / (prior weight + count)``, so one rating cannot make
or break a provider. Each evaluation keeps the score it got under the weights in force when it was given.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pyoxigraph as ox

from maas_kg.errors import Conflict, Misconfigured
from maas_kg.execution import fields
from maas_kg.execution.ledger import Ledger, Party, now, one, visible
from maas_kg.execution.tracking import status
from maas_kg.knowledge import rules
from maas_kg.store import Changes, Store

_DECIMAL = ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")


@dataclass(frozen=True)
class Scoring:
    """The ontology's evaluation aspects with their weights, and the performance criterion's prior."""
    weights: dict[str, float]
    prior_mean: float
    prior_weight: float

    def score(self, *, conforming: bool, defects: int, on_time: bool, communication: int, documents: int) -> float:
        aspects = {"quality": (1.0 / (1 + defects)) if conforming else 0.0, "on_time": float(on_time),
                   "communication": (communication - 1) / 4, "documents": (documents - 1) / 4}
        return sum(weight * aspects[name] for name, weight in self.weights.items())


def scoring(store: Store) -> Scoring:
    """How evaluations are scored, from the ontology in ``store`` (queries/execution/evaluation-aspects.rq)."""
    rows = rules.select(store, "execution/evaluation-aspects.rq")
    weights = {row["aspect"].value: float(row["weight"].value) for row in rows}
    unknown = set(weights) - {"quality", "on_time", "communication", "documents"}
    if not rows or unknown:
        raise Misconfigured("the ontology declares no evaluation aspects, or ones this version cannot score "
                            f"({', '.join(sorted(unknown))}): see maas:EvaluationAspect in ontology/core.ttl")
    return Scoring(weights, float(rows[0]["priorMean"].value), float(rows[0]["priorWeight"].value))


def evaluate(ledger: Ledger, catalogue: Store, party: Party, order_id: str, doc: dict, *,
             today: datetime.date | None = None) -> dict:
    """The buyer's evaluation of a delivered order (once): ``conforming``, ``defects``, ``communication`` and
    ``documents`` (1 to 5), an optional ``comment``. Then the provider's published performance is computed again."""
    today = today or datetime.date.today()
    doc = fields.document(doc)
    conforming = fields.boolean(doc, "conforming")
    defects = fields.integer(doc, "defects", low=0, high=10 ** 6, default=0)
    communication = fields.integer(doc, "communication", low=1, high=5)
    documents = fields.integer(doc, "documents", low=1, high=5)
    comment = fields.text(doc, "comment", required=False)
    rules_in_force = scoring(catalogue)
    with ledger.transition() as db:
        order = one(db, "orders", order_id, "order")
        party.must_be("buyer", order, "evaluate it")
        if order["state"] != "delivered":
            raise Conflict(f"order {order_id} is {order['state']}: evaluate it once it is delivered")
        if db.execute("SELECT 1 FROM evaluations WHERE order_id = ?", (order_id,)).fetchone():
            raise Conflict(f"order {order_id} is evaluated already")
        events = [dict(row) for row in db.execute("SELECT * FROM events WHERE order_id = ? ORDER BY seq",
                                                  (order_id,))]
        on_time = bool(status(order, events, today)["on_time"])
        value = rules_in_force.score(conforming=conforming, defects=defects, on_time=on_time,
                                     communication=communication, documents=documents)
        db.execute("INSERT INTO evaluations (order_id, buyer, provider, conforming, defects, communication, "
                   "documents, on_time, score, comment, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (order_id, order["buyer"], order["provider"], int(conforming), defects, communication, documents,
                    int(on_time), value, comment, now()))
    publish_performance(ledger, catalogue, [order["provider"]])
    return evaluation(ledger, party, order_id)


def evaluation(ledger: Ledger, party: Party, order_id: str) -> dict:
    with ledger.reading() as db:
        row = visible(party, one(db, "evaluations", order_id, "evaluation of order"), "evaluation of order")
    return _shown(row)


def evaluations(ledger: Ledger, party: Party, *, limit: int = 100, offset: int = 0) -> list[dict]:
    """The evaluations ``party`` gave (a buyer) or received (a provider reads its own); all for administrators."""
    where, args = "", []
    if party.role in ("buyer", "provider"):
        where, args = f" WHERE {party.role} = ?", [party.organisation]
    elif party.role != "admin":
        return []
    with ledger.reading() as db:
        rows = db.execute(f"SELECT * FROM evaluations{where} ORDER BY created DESC, order_id LIMIT ? OFFSET ?",
                          (*args, limit, offset)).fetchall()
    return [_shown(dict(row)) for row in rows]


def _shown(row: dict) -> dict:
    return {**row, "conforming": bool(row["conforming"]), "on_time": bool(row["on_time"]),
            "score": round(row["score"], 4)}


def performance_of(ledger: Ledger, rules_in_force: Scoring,
                   providers: list[str] | None = None) -> dict[str, tuple[float, int]]:
    """Each evaluated provider's (performance, number of evaluations), the prior included."""
    sql = "SELECT provider, SUM(score), COUNT(*) FROM evaluations"
    args: list = []
    if providers is not None:
        sql += f" WHERE provider IN ({', '.join('?' * len(providers))})"
        args = list(providers)
    with ledger.reading() as db:
        rows = db.execute(sql + " GROUP BY provider", args).fetchall()
    prior_mean, prior_weight = rules_in_force.prior_mean, rules_in_force.prior_weight
    return {provider: ((prior_weight * prior_mean + total) / (prior_weight + count), count)
            for provider, total, count in rows}


def publish_performance(ledger: Ledger, catalogue: Store, providers: list[str] | None = None) -> int:
    """Write the aggregate of ``providers`` (every evaluated provider if None) into the catalogue store's
    performance graph, replacing what it said; derived from the ledger, so running it again is harmless.
    Returns how many providers were written."""
    aggregate = performance_of(ledger, scoring(catalogue), providers)
    if not aggregate:
        return 0
    rows = [[provider, ox.Literal(f"{value:.4f}", datatype=_DECIMAL), count]
            for provider, (value, count) in sorted(aggregate.items())]
    changes = Changes()
    changes.update(rules.bind(rules.rule_text("execution/publish-performance.ru"),
                              ROWS=rules.values(["provider", "score", "count"], rows)))
    catalogue.commit(changes)
    return len(rows)
