"""A manufacturer's value chain (private, like products): the products it makes, the route each is made by today and,
per step, the services supplying it with their share of the volume. Read from the plain JSON value-chain format;
every error names its field (``products[0].steps[1].suppliers[0].share``). Nothing of it is written to the
catalogue store: assessments and responses run on it in memory and in the private workspace.

    {"id": "https://example.org/value-chain/gearbox", "name": "Gearbox plant", "currency": "EUR",
     "products": [{"product": {... a product in the plain JSON product format ...},
                   "yearly_volume": 24000, "unit_revenue": 420, "safety_stock_days": 10, "order_cadence_days": 14,
                   "steps": [{"process": "die casting",
                              "suppliers": [{"service": "https://...", "share": 0.7}, {"service": "...", "share": 0.3}]}],
                   "open_orders": [{"quantity": 2000, "due": "2027-01-20"}]}]}
"""

from __future__ import annotations

import datetime
import decimal
import json
from dataclasses import dataclass

import rdflib
from rdflib import RDF, XSD, Literal, URIRef

from maas_kg import knowledge
from maas_kg.errors import InvalidDocument
from maas_kg.knowledge import MAAS
from maas_kg.knowledge.validation import validate_data

from maas_kg.catalogue.ingest import term_indexes
from maas_kg.catalogue.publishing import providers_of
from maas_kg.execution import fields
from maas_kg.knowledge.vocabulary import AmbiguousTerm, UnknownTerm

MAX_PRODUCTS = 200
MAX_STEPS = 30
MAX_SUPPLIERS = 20


@dataclass(frozen=True)
class Supply:
    service: str
    provider: str
    share: float


@dataclass(frozen=True)
class ChainStep:
    process: str  # the class IRI
    process_name: str  # as the document named it
    suppliers: tuple[Supply, ...]


@dataclass(frozen=True)
class OpenOrder:
    quantity: int
    due: datetime.date


@dataclass(frozen=True)
class ChainProduct:
    document: dict  # the product, in the plain JSON product format
    name: str
    yearly_volume: int
    unit_revenue: float
    safety_stock_days: float
    order_cadence_days: float
    steps: tuple[ChainStep, ...]
    open_orders: tuple[OpenOrder, ...]

    @property
    def data(self) -> bytes:
        return json.dumps(self.document).encode("utf-8")


@dataclass(frozen=True)
class ValueChain:
    id: str
    name: str
    currency: str
    products: tuple[ChainProduct, ...]

    def services(self) -> list[str]:
        return sorted({s.service for p in self.products for step in p.steps for s in step.suppliers})


def read_value_chain(doc: object, catalogue) -> ValueChain:
    """The value chain of ``doc``; every supplier must be a published service of the catalogue."""
    doc = fields.document(doc)
    chain_id = fields.iri(doc, "id")
    products = doc.get("products")
    if not isinstance(products, list) or not products:
        raise fields.FieldError("products", "must be a non-empty list of products with their steps and suppliers")
    if len(products) > MAX_PRODUCTS:
        raise fields.FieldError("products", f"has {len(products)} entries, at most {MAX_PRODUCTS}")
    read = []
    for number, item in enumerate(products):
        try:
            read.append(_product(fields.document(item, "product entry")))
        except fields.FieldError as err:
            raise fields.within(f"products[{number}]", err) from None
    services = sorted({s for p in read for step in p[6] for s, _ in step[2]})
    providers = providers_of(catalogue, services)
    chain_products = []
    for number, (document, name, volume, revenue, stock, cadence, steps, orders) in enumerate(read):
        chain_steps = []
        for index, (process, process_name, suppliers) in enumerate(steps):
            for place, (service, _) in enumerate(suppliers):
                if service not in providers:
                    raise fields.FieldError(f"products[{number}].steps[{index}].suppliers[{place}].service",
                                            f"{service} is not a published service of the catalogue")
            chain_steps.append(ChainStep(process, process_name,
                                         tuple(Supply(s, providers[s], share) for s, share in suppliers)))
        chain_products.append(ChainProduct(document, name, volume, revenue, stock, cadence, tuple(chain_steps),
                                           orders))
    chain = ValueChain(chain_id, fields.text(doc, "name", required=False, limit=200) or chain_id,
                       fields.currency({"currency": doc.get("currency", "EUR")}), tuple(chain_products))
    report = validate_data(as_rdf(chain), _shapes(), owned=True)
    if not report.conforms:
        first = report.violations[0]
        raise InvalidDocument(f"the value chain is invalid ({len(report.violations)} violation(s)); first: "
                              f"{first.message}", report)
    return chain


def _shapes() -> rdflib.Graph:
    return _SHAPES.get("graph") or _SHAPES.setdefault(
        "graph", rdflib.Graph().parse(knowledge.shapes_dir() / "value-chain.ttl", format="turtle"))


_SHAPES: dict[str, rdflib.Graph] = {}


def _decimal(value: float) -> Literal:
    return Literal(format(decimal.Decimal(repr(float(value))).normalize(), "f"), datatype=XSD.decimal)


def as_rdf(chain: ValueChain) -> rdflib.Graph:
    """The value chain in the vocabulary of ontology/resilience.ttl (what shapes/value-chain.ttl checks)."""
    graph = rdflib.Graph()
    graph.bind("maas", MAAS)
    node = URIRef(chain.id)
    graph.add((node, RDF.type, MAAS.ValueChain))
    graph.add((node, MAAS.name, Literal(chain.name)))
    for number, product in enumerate(chain.products):
        made = URIRef(product.document.get("id") or f"{chain.id}/product/{number}")
        graph.add((node, MAAS.hasChainProduct, made))
        graph.add((made, MAAS.name, Literal(product.name)))
        graph.add((made, MAAS.yearlyVolume, Literal(product.yearly_volume, datatype=XSD.integer)))
        graph.add((made, MAAS.unitRevenue, _decimal(product.unit_revenue)))
        graph.add((made, MAAS.safetyStockDays, _decimal(product.safety_stock_days)))
        graph.add((made, MAAS.orderCadenceDays, _decimal(product.order_cadence_days)))
        for index, step in enumerate(product.steps):
            step_node = URIRef(f"{chain.id}/product/{number}/step/{index}")
            graph.add((made, MAAS.hasChainStep, step_node))
            graph.add((step_node, RDF.type, MAAS.ChainStep))
            graph.add((step_node, MAAS.chainStepProcess, URIRef(step.process)))
            for place, supply in enumerate(step.suppliers):
                relation = URIRef(f"{step_node}/supply/{place}")
                graph.add((step_node, MAAS.hasSupplyRelation, relation))
                graph.add((relation, RDF.type, MAAS.SupplyRelation))
                graph.add((relation, MAAS.suppliedThrough, URIRef(supply.service)))
                graph.add((relation, MAAS.volumeShare, _decimal(supply.share)))
    return graph


def _product(item: dict):
    document = item.get("product")
    if not isinstance(document, dict) or not document:
        raise fields.FieldError("product", "must be a product in the plain JSON product format")
    name = str(document.get("name") or document.get("id") or "product")[:200]
    volume = int(fields.number(item, "yearly_volume", low=1, high=10 ** 10))
    revenue = fields.number(item, "unit_revenue", low=0, high=10 ** 9, default=0.0)
    stock = fields.number(item, "safety_stock_days", low=0, high=3650, default=0.0)
    cadence = fields.number(item, "order_cadence_days", low=0, high=3650, default=30.0)
    steps = item.get("steps")
    if not isinstance(steps, list) or not steps:
        raise fields.FieldError("steps", "must list the steps the product is made by today (a value chain without "
                                         "routes cannot be assessed)")
    if len(steps) > MAX_STEPS:
        raise fields.FieldError("steps", f"has {len(steps)} entries, at most {MAX_STEPS}")
    read_steps = []
    processes = term_indexes()["process"]
    for index, step in enumerate(steps):
        try:
            step = fields.document(step, "step")
            process_name = fields.text(step, "process", limit=200)
            try:
                process = str(processes.resolve(process_name))
            except (UnknownTerm, AmbiguousTerm) as err:
                raise fields.FieldError("process", str(err)) from None
            suppliers = step.get("suppliers")
            if not isinstance(suppliers, list) or not suppliers:
                raise fields.FieldError("suppliers", "must list the services supplying the step with their shares")
            if len(suppliers) > MAX_SUPPLIERS:
                raise fields.FieldError("suppliers", f"has {len(suppliers)} entries, at most {MAX_SUPPLIERS}")
            read_suppliers = []
            for place, supplier in enumerate(suppliers):
                try:
                    supplier = fields.document(supplier, "supplier")
                    read_suppliers.append((fields.iri(supplier, "service"),
                                           fields.number(supplier, "share", low=0.0001, high=1,
                                                   default=1.0 if len(suppliers) == 1 else None)))
                except fields.FieldError as err:
                    raise fields.within(f"suppliers[{place}]", err) from None
            total = sum(share for _, share in read_suppliers)
            if abs(total - 1) > 0.01:
                raise fields.FieldError("suppliers", f"the shares sum to {total:g}, not 1")
            if len({s for s, _ in read_suppliers}) != len(read_suppliers):
                raise fields.FieldError("suppliers", "name one service twice")
        except fields.FieldError as err:
            raise fields.within(f"steps[{index}]", err) from None
        read_steps.append((process, process_name, tuple(read_suppliers)))
    orders = item.get("open_orders", [])
    if not isinstance(orders, list) or len(orders) > 1000:
        raise fields.FieldError("open_orders", "must be a list of at most 1,000 {quantity, due}")
    read_orders = []
    for place, order in enumerate(orders):
        try:
            order = fields.document(order, "order")
            read_orders.append(OpenOrder(fields.integer(order, "quantity", low=1, high=10 ** 10),
                                         fields.date(order, "due")))
        except fields.FieldError as err:
            raise fields.within(f"open_orders[{place}]", err) from None
    return document, name, volume, revenue, stock, cadence, tuple(read_steps), tuple(read_orders)
