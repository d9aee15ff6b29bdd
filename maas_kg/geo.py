"""Great-circle geometry on a spherical Earth, in a form SPARQL can use without trigonometric functions.

Every place with a latitude and longitude gets its unit vector (``maas:unitVectorX/Y/Z``) on input. Two places are
within ``d`` km of each other exactly when the squared chord between their unit vectors is at most
``chord_squared(d)``, which a SPARQL FILTER evaluates with arithmetic only.
"""

from __future__ import annotations

import math

import pyoxigraph as ox

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
_MAAS = "https://w3id.org/maas-kg/ns#"
_XSD_DOUBLE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def chord_squared(distance: float) -> float:
    """Squared chord between unit vectors of two places ``distance`` km apart along the great circle."""
    angle = min(math.pi, distance / EARTH_RADIUS_KM)
    return (2 * math.sin(angle / 2)) ** 2


def add_unit_vectors(store: ox.Store) -> None:
    """Add the unit vector of every place in the default graph of ``store`` that has latitude and longitude."""
    rows = store.query(f"SELECT ?p ?lat ?lon WHERE {{ ?p <{_MAAS}latitude> ?lat ; <{_MAAS}longitude> ?lon . "
                       f"FILTER(isNumeric(?lat) && isNumeric(?lon)) }}")
    quads = []
    for row in rows:
        vector = unit_vector(float(row["lat"].value), float(row["lon"].value))
        for axis, value in zip("XYZ", vector):
            predicate = ox.NamedNode(f"{_MAAS}unitVector{axis}")
            for stale in list(store.quads_for_pattern(row["p"], predicate, None, ox.DefaultGraph())):
                store.remove(stale)  # computed here, never taken from input
            quads.append(ox.Quad(row["p"], predicate, ox.Literal(repr(value), datatype=_XSD_DOUBLE)))
    store.extend(quads)
