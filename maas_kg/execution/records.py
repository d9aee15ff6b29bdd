"""An agreement as RDF, for the two parties' own systems: schema.org ``Order`` with its accepted ``Offer``, and PROV-O
for who accepted it when and which offer version it came from.

Why schema.org and not ODRL: ODRL describes permissions and duties over the use of an asset (a data set, a licence);
an agreement to make parts is a commercial order (seller, customer, price, quantity, delivery date and place), which
schema.org's Order / Offer / ParcelDelivery model directly and which ERP and e-commerce systems already read.
"""

from __future__ import annotations

import rdflib
from rdflib import RDF, XSD, Literal, Namespace, URIRef

SDO = Namespace("https://schema.org/")
PROV = Namespace("http://www.w3.org/ns/prov#")
MAAS = Namespace("https://w3id.org/maas-kg/ns#")
ID = "https://w3id.org/maas-kg/id/"
STATUS = {"open": SDO.OrderProcessing, "delivered": SDO.OrderDelivered, "cancelled": SDO.OrderCancelled}


def order_iri(order_id: str) -> URIRef:
    return URIRef(f"{ID}order/{order_id}")


def agreement_graph(order: dict) -> rdflib.Graph:
    """``order`` (a timeline from maas_kg.execution.tracking) as an RDF graph."""
    terms = order["terms"]
    graph = rdflib.Graph()
    graph.bind("schema", SDO)
    graph.bind("prov", PROV)
    subject = order_iri(order["id"])
    offer = URIRef(f"{ID}rfq/{order['rfq']}/offer/{order['version']}")
    acceptance = URIRef(f"{subject}/acceptance")
    graph.add((subject, RDF.type, SDO.Order))
    graph.add((subject, RDF.type, PROV.Entity))
    graph.add((subject, SDO.orderNumber, Literal(order["id"])))
    graph.add((subject, SDO.seller, URIRef(order["provider"])))
    graph.add((subject, SDO.customer, URIRef(order["buyer"])))
    graph.add((subject, SDO.orderDate, Literal(order["accepted"], datatype=XSD.dateTime)))
    graph.add((subject, SDO.orderStatus, STATUS[order["state"]]))
    graph.add((subject, SDO.acceptedOffer, offer))
    graph.add((subject, SDO.orderedItem, URIRef(order["service"])))
    graph.add((offer, RDF.type, SDO.Offer))
    graph.add((offer, SDO.itemOffered, URIRef(order["service"])))
    graph.add((offer, SDO.price, Literal(terms["price"], datatype=XSD.decimal)))
    graph.add((offer, SDO.priceCurrency, Literal(terms["currency"])))
    graph.add((offer, SDO.eligibleQuantity, _quantity(graph, offer, "quantity", terms["quantity"], "C62")))
    graph.add((offer, SDO.deliveryLeadTime, _quantity(graph, offer, "lead-time", terms["lead_time_days"], "DAY")))
    graph.add((offer, SDO.seller, URIRef(order["provider"])))
    if terms.get("incoterm"):
        property_value = URIRef(f"{offer}/incoterm")
        graph.add((offer, SDO.additionalProperty, property_value))
        graph.add((property_value, RDF.type, SDO.PropertyValue))
        graph.add((property_value, SDO.name, Literal("Incoterms 2020")))
        graph.add((property_value, SDO.value, Literal(terms["incoterm"])))
    if terms.get("conditions"):
        graph.add((offer, SDO.description, Literal(terms["conditions"])))
    delivery = URIRef(f"{subject}/delivery")
    graph.add((subject, SDO.orderDelivery, delivery))
    graph.add((delivery, RDF.type, SDO.ParcelDelivery))
    graph.add((delivery, SDO.expectedArrivalUntil, Literal(terms["delivery_date"], datatype=XSD.date)))
    place = URIRef(f"{subject}/delivery/place")
    graph.add((delivery, SDO.deliveryAddress, place))
    graph.add((place, RDF.type, SDO.Place))
    if "place" in terms["delivery"]:
        graph.add((place, SDO.name, Literal(terms["delivery"]["place"])))
    if "lat" in terms["delivery"]:
        graph.add((place, SDO.latitude, Literal(terms["delivery"]["lat"], datatype=XSD.double)))
        graph.add((place, SDO.longitude, Literal(terms["delivery"]["lon"], datatype=XSD.double)))
    graph.add((acceptance, RDF.type, PROV.Activity))
    graph.add((acceptance, PROV.wasAssociatedWith, URIRef(order["buyer"])))
    graph.add((acceptance, PROV.used, offer))
    graph.add((acceptance, PROV.endedAtTime, Literal(order["accepted"], datatype=XSD.dateTime)))
    graph.add((subject, PROV.wasGeneratedBy, acceptance))
    graph.add((subject, PROV.wasDerivedFrom, offer))
    if order["version"] > 1:
        graph.add((offer, PROV.wasRevisionOf, URIRef(f"{ID}rfq/{order['rfq']}/offer/{order['version'] - 1}")))
    return graph


def _quantity(graph: rdflib.Graph, offer: URIRef, name: str, value: int, unit: str) -> URIRef:
    node = URIRef(f"{offer}/{name}")
    graph.add((node, RDF.type, SDO.QuantitativeValue))
    graph.add((node, SDO.value, Literal(value, datatype=XSD.integer)))
    graph.add((node, SDO.unitCode, Literal(unit)))  # UN/CEFACT common codes: C62 pieces, DAY days
    return node
