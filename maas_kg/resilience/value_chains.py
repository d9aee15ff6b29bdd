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

The same chain may come in RDF (Turtle, N-Triples, RDF/XML, JSON-LD; ``RdfDocument``) in the vocabulary of
ontology/resilience.ttl, its products in the product vocabulary; ``read_rdf_value_chain`` turns it into the plain JSON
document by the rules of queries/resilience/, and from there on both are read alike. A plain JSON value chain with
``"@context"`` (ontology/context-value-chain.jsonld) is such a JSON-LD document.
"""

from __future__ import annotations

import datetime
import decimal
import json
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib import RDF, RDFS, XSD, Literal, URIRef

from maas_kg import knowledge, media_types
from maas_kg.knowledge import MAAS, load_shapes, rules
from maas_kg.knowledge.validation import check_document

from maas_kg.catalogue.ingest import InputError, normalise, refuse_unsafe_rdf, term_indexes
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
    """The value chain of ``doc`` (the plain JSON document, or an ``RdfDocument``); every supplier must be a
    published service of the catalogue."""
    if isinstance(doc, RdfDocument):
        doc = read_rdf_value_chain(doc)
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
    check_document(as_rdf(chain), "value-chain.ttl", "value chain")
    return chain


def _shapes() -> rdflib.Graph:
    """The shapes of the document's RDF form (a fresh graph: pyshacl must not share one across validations)."""
    return load_shapes(("value-chain.ttl",))


def decimal_literal(value: float) -> Literal:
    return Literal(format(decimal.Decimal(repr(float(value))).normalize(), "f"), datatype=XSD.decimal)


def as_rdf(chain: ValueChain) -> rdflib.Graph:
    """The value chain in the vocabulary of ontology/resilience.ttl (what shapes/value-chain.ttl checks)."""
    graph = rdflib.Graph()
    graph.bind("maas", MAAS)
    node = URIRef(chain.id)
    graph.add((node, RDF.type, MAAS.ValueChain))
    graph.add((node, MAAS.name, Literal(chain.name)))
    graph.add((node, MAAS.chainCurrency, Literal(chain.currency)))
    for number, product in enumerate(chain.products):
        made = URIRef(product.document.get("id") or f"{chain.id}/product/{number}")
        graph.add((node, MAAS.hasChainProduct, made))
        graph.add((made, MAAS.name, Literal(product.name)))
        graph.add((made, MAAS.yearlyVolume, Literal(product.yearly_volume, datatype=XSD.integer)))
        graph.add((made, MAAS.unitRevenue, decimal_literal(product.unit_revenue)))
        graph.add((made, MAAS.safetyStockDays, decimal_literal(product.safety_stock_days)))
        graph.add((made, MAAS.orderCadenceDays, decimal_literal(product.order_cadence_days)))
        for place, order in enumerate(product.open_orders):
            order_node = URIRef(f"{chain.id}/product/{number}/order/{place}")
            graph.add((made, MAAS.hasOpenOrder, order_node))
            graph.add((order_node, RDF.type, MAAS.OpenOrder))
            graph.add((order_node, MAAS.openOrderQuantity, Literal(order.quantity, datatype=XSD.integer)))
            graph.add((order_node, MAAS.openOrderDue, Literal(order.due.isoformat(), datatype=XSD.date)))
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
                graph.add((relation, MAAS.volumeShare, decimal_literal(supply.share)))
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


# -- the value chain in RDF ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RdfDocument:
    """A document in an RDF syntax: its bytes and the name of its syntax (``media_types.rdf_syntax``: turtle,
    ntriples, rdfxml, jsonld), chosen like a product's (HTTP Content-Type, CLI file extension)."""
    data: bytes
    format: str


#: what the value-chain rules read of a chain product besides the product's own description
_CHAIN_TERMS = frozenset(str(MAAS[name]) for name in (
    "yearlyVolume", "unitRevenue", "safetyStockDays", "orderCadenceDays", "hasChainStep", "hasOpenOrder",
    "chainPosition"))
_INTEGER_TYPES = frozenset(str(XSD[name]) for name in (
    "integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger", "unsignedInt", "unsignedLong"))
_REAL_TYPES = frozenset(str(XSD[name]) for name in ("decimal", "double", "float"))


def load_rdf(document: RdfDocument, what: str) -> ox.Store:
    """A scratch store holding the parsed ``document`` (its named graphs merged into the default graph);
    ``InputError`` in one line naming the syntax and where, if it cannot be read."""
    syntax = media_types.rdf_syntax(document.format)
    if syntax is None or syntax.dataset:
        raise InputError(f"unknown {what} format {document.format!r}: use Turtle (.ttl), N-Triples (.nt), RDF/XML "
                         "(.rdf), JSON-LD (.jsonld) or the plain JSON format (.json)")
    try:
        document.data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"the {what} is not UTF-8 text (byte {err.start})") from None
    refuse_unsafe_rdf(document.data, syntax.name)
    store = ox.Store()
    try:
        store.load(input=document.data, format=syntax.oxigraph, to_graph=ox.DefaultGraph())
    except SyntaxError as err:
        raise InputError(f"malformed {syntax.name} {what}: {' '.join(str(err).split())[:300]}") from None
    if any(True for _ in store.named_graphs()):
        store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } } ; DROP NAMED")
    return store


def plain(term) -> object:
    """A term of a rule's answer as a plain JSON value: an IRI as its text, a number as a number, a boolean as a
    boolean, a blank node as None, any other literal as its text."""
    if term is None or isinstance(term, ox.BlankNode):
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    datatype = term.datatype.value
    try:
        if datatype in _INTEGER_TYPES:
            return int(term.value)
        if datatype in _REAL_TYPES:
            number = float(term.value)
            return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
        if datatype == str(XSD.boolean):
            return term.value in ("true", "1")
    except ValueError:
        pass
    return term.value


def _node_key(node) -> str:
    return f"_:{node.value}" if isinstance(node, ox.BlankNode) else node.value


def single(rows: list[dict], variable: str, field: str):
    """The one value of ``variable`` in ``rows`` (None if none); a ``FieldError`` naming ``field`` if several."""
    found = {str(row[variable]): row[variable] for row in rows if row[variable] is not None}
    if len(found) > 1:
        raise fields.FieldError(field, f"has {len(found)} values ({', '.join(sorted(found)[:3])}), one is allowed")
    return plain(next(iter(found.values()))) if found else None


def ordered(nodes: dict, positions: dict) -> list:
    """The keys of ``nodes`` in the order of their maas:chainPosition, those without one last (by their name)."""
    def key(name):
        position = positions.get(name)
        return (0, position, name) if isinstance(position, (int, float)) else (1, 0, name)
    return sorted(nodes, key=key)


def name_of(iri: str, index: str) -> str:
    """How the plain JSON format names the taxonomy term ``iri``: its English label where that names it alone
    (the name a person would type), else the IRI itself (which the reader resolves as well)."""
    terms = term_indexes()[index]
    graph = knowledge.ontology_graph()
    labels = [str(label) for label in graph.objects(URIRef(iri), RDFS.label) if getattr(label, "language", None) == "en"]
    labels += [str(label) for label in graph.objects(URIRef(iri), RDFS.label) if not getattr(label, "language", None)]
    for label in labels:
        try:
            if str(terms.resolve(label, suggest=False)) == iri:
                return label
        except (UnknownTerm, AmbiguousTerm):
            continue
    return iri


_INDEX_OF_FIELD = {"material": "material", "process": "process", "shape": "shape", "finish": "process",
                   "certifications": "certification", "criticality": "criticality"}
_LIST_FIELDS = ("process", "finish", "certifications")


def product_document(store: ox.Store, node, where: str, *, skip: frozenset = frozenset()) -> dict:
    """The product ``node`` of the parsed document in ``store`` as a plain JSON product: its own triples (those of
    ``node`` but the ``skip`` properties, and of the blank nodes they reach) normalised like any product
    (``maas_kg.catalogue.ingest.normalise``), then read back by queries/resilience/product-fields.rq."""
    triples, pending, seen = [], [node], set()
    while pending:
        subject = pending.pop()
        for quad in store.quads_for_pattern(subject, None, None, ox.DefaultGraph()):
            if subject == node and quad.predicate.value in skip:
                continue
            triples.append(quad.triple)
            if isinstance(quad.object, ox.BlankNode) and quad.object not in seen:
                seen.add(quad.object)
                pending.append(quad.object)
    triples.append(ox.Triple(node, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(MAAS.Product))))
    normalised = normalise(triples)
    if normalised.problems:
        raise fields.FieldError(where, normalised.problems[0].message)
    document: dict = {} if isinstance(node, ox.BlankNode) else {"id": node.value}
    values: dict[str, list] = {"finish": [], "certifications": []}
    for row in normalised.store.query(rules.rule_text("resilience/product-fields.rq")):
        field, key, value = row["field"].value, plain(row["key"]), plain(row["value"])
        if field in _INDEX_OF_FIELD and isinstance(value, str):
            value = name_of(value, _INDEX_OF_FIELD[field])
        values.setdefault(field, []).append((key, value))
    for field, found in sorted(values.items()):
        if field == "envelope_mm":
            document[field] = [value for _, value in sorted(found)]
        elif field in ("delivery", "weights"):
            document[field] = {key: value for key, value in sorted(found, key=lambda f: str(f[0]))}
        elif field in _LIST_FIELDS:
            if found or field != "process":
                document[field] = sorted({value for _, value in found})
        elif len({str(value) for _, value in found}) > 1:
            raise fields.FieldError(f"{where}.{field}", "has several values, one is allowed")
        else:
            document[field] = found[0][1]
    return document


def read_rdf_value_chain(document: RdfDocument) -> dict:
    """The plain JSON value-chain document an RDF value chain states (see the module's text); then read like any."""
    store = load_rdf(document, "value chain")
    chains: dict[str, list] = {}
    for row in store.query(rules.rule_text("resilience/value-chain-document.rq")):
        chains.setdefault(_node_key(row["chain"]), []).append(row)
    if len(chains) != 1:
        raise fields.FieldError("maas:ValueChain", f"the document must describe exactly one value chain (a "
                                                   f"maas:ValueChain with maas:hasChainProduct), found {len(chains)}"
                                                   + (f": {', '.join(sorted(chains)[:3])}" if chains else ""))
    (chain_key, chain_rows), = chains.items()
    chain_node = chain_rows[0]["chain"]
    if isinstance(chain_node, ox.BlankNode):
        raise fields.FieldError("id", "the value chain must be named by an IRI, not a blank node")
    doc: dict = {"id": chain_node.value}
    for variable, field in (("name", "name"), ("currency", "currency")):
        value = single(chain_rows, variable, field)
        if value is not None:
            doc[field] = value
    products: dict[str, list] = {}
    for row in store.query(rules.rule_text("resilience/chain-products.rq")):
        if row["chain"] == chain_node:
            products.setdefault(_node_key(row["product"]), []).append(row)
    steps: dict[str, dict[str, list]] = {}
    for row in store.query(rules.rule_text("resilience/chain-steps.rq")):
        steps.setdefault(_node_key(row["product"]), {}).setdefault(_node_key(row["step"]), []).append(row)
    orders: dict[str, dict[str, list]] = {}
    for row in store.query(rules.rule_text("resilience/open-orders.rq")):
        orders.setdefault(_node_key(row["product"]), {}).setdefault(_node_key(row["order"]), []).append(row)
    positions = {key: single(rows, "position", "position") for key, rows in products.items()}
    entries = []
    for number, key in enumerate(ordered(products, positions)):
        rows = products[key]
        where = f"products[{number}]"
        try:
            entry: dict = {"product": product_document(store, rows[0]["product"], "product", skip=_CHAIN_TERMS)}
            for variable, field in (("volume", "yearly_volume"), ("revenue", "unit_revenue"),
                                    ("stock", "safety_stock_days"), ("cadence", "order_cadence_days")):
                value = single(rows, variable, field)
                if value is not None:
                    entry[field] = value
            entry["steps"] = _steps(steps.get(key, {}))
            entry["open_orders"] = _orders(orders.get(key, {}))
        except fields.FieldError as err:
            raise fields.within(where, err) from None
        entries.append(entry)
    doc["products"] = entries
    return doc


def _steps(steps: dict[str, list]) -> list[dict]:
    positions = {key: single(rows, "stepPosition", "steps.position") for key, rows in steps.items()}
    read = []
    for index, key in enumerate(ordered(steps, positions)):
        rows = steps[key]
        try:
            process = single(rows, "process", "process")
            if process is not None:
                process = name_of(process, "process")
            else:
                process = single(rows, "processName", "process")
            step: dict = {} if process is None else {"process": process}
            supplies: dict[str, list] = {}
            for row in rows:
                if row["supply"] is not None:
                    supplies.setdefault(_node_key(row["supply"]), []).append(row)
            places = {k: single(r, "supplyPosition", "suppliers.position") for k, r in supplies.items()}
            suppliers = []
            for place, supply in enumerate(ordered(supplies, places)):
                try:
                    supplier = {}
                    for variable, field in (("service", "service"), ("share", "share")):
                        value = single(supplies[supply], variable, field)
                        if value is not None:
                            supplier[field] = value
                except fields.FieldError as err:
                    raise fields.within(f"suppliers[{place}]", err) from None
                suppliers.append(supplier)
            step["suppliers"] = suppliers
        except fields.FieldError as err:
            raise fields.within(f"steps[{index}]", err) from None
        read.append(step)
    return read


def _orders(orders: dict[str, list]) -> list[dict]:
    positions = {key: single(rows, "position", "open_orders.position") for key, rows in orders.items()}
    read = []
    for place, key in enumerate(ordered(orders, positions)):
        try:
            order = {}
            for variable, field in (("quantity", "quantity"), ("due", "due")):
                value = single(orders[key], variable, field)
                if value is not None:
                    order[field] = value
        except fields.FieldError as err:
            raise fields.within(f"open_orders[{place}]", err) from None
        read.append(order)
    return read
