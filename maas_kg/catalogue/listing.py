"""Listing the service catalogue: a page of published services under filters, the facet counts of a listing and
the catalogue's totals, read by the rules of ``queries/catalogue/`` (services-found, list-services, facets,
statistics). Writing the catalogue is :mod:`maas_kg.catalogue.publishing`."""

from __future__ import annotations

import re

import pyoxigraph as ox

from maas_kg import geo
from maas_kg.catalogue.publishing import CatalogueError
from maas_kg.knowledge import PROC, rules
from maas_kg.store import Store

# the order of services-found.rq's rows in a listing: by record listing key (see list-services.rq), ties by record
LISTING_ORDER = ("listingKey", "record")


def list_services(store: Store, *, process: str | None = None, material: str | None = None,
                  country: str | None = None, certification: str | None = None,
                  near: tuple[float, float, float] | None = None, service: str | None = None,
                  limit: int | None = None, offset: int = 0) -> list[dict[str, str]]:
    """Published services, optionally filtered by process class (with subclasses), material class, country,
    certification (held by the service or its provider), ``near`` = (lat, lon, radius km) and one service IRI;
    ``limit`` / ``offset`` give a page in a stable order."""
    filters = _filters(process=process, material=material, country=country, certification=certification,
                       near=near, service=service)
    found = rules.bind(rules.rule_text("catalogue/services-found.rq"), FILTERS=filters,
                       PAGE=rules.page(limit, offset, order=LISTING_ORDER))
    rows = store.select(found, union_default_graph=True)
    if not rows:
        return []
    names = ["record", "processType", "listingKey", "countryFilter"]
    block = rules.values(names, [[row[n] for n in names] for row in rows])
    result = store.query(rules.bind(rules.rule_text("catalogue/list-services.rq"), PAGE=block),
                         union_default_graph=True)
    names = [v.value for v in result.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in result]


def facet_counts(store: Store, **filters) -> dict[str, list[dict[str, str | int]]]:
    """How many of the services ``list_services(**filters)`` finds have each country and each certification
    (``queries/catalogue/facets.rq``): {"country": [{value, label, services}], "certification": [...]}."""
    found = rules.subquery(rules.bind(rules.rule_text("catalogue/services-found.rq"), FILTERS=_filters(**filters)))
    facets: dict[str, list[dict[str, str | int]]] = {"country": [], "certification": []}
    for row in rules.select(store, "catalogue/facets.rq", SERVICES=found):
        facets[row["facet"].value].append({"value": row["value"].value, "services": int(row["services"].value),
                                           "label": row["label"].value if row["label"] is not None else None})
    return facets


def _filters(*, process: str | None = None, material: str | None = None, country: str | None = None,
             certification: str | None = None, near: tuple[float, float, float] | None = None,
             service: str | None = None) -> str:
    """The FILTERS block of services-found.rq: one VALUES row per filter given."""
    filters = [rules.values(["process"], [[process or str(PROC.ManufacturingProcess)]])]
    if material:
        filters.append(rules.values(["material"], [[material]]))
    if country:
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            raise CatalogueError(f"country must be an ISO 3166-1 alpha-2 code such as DE, not {country!r}")
        filters.append(rules.values(["countryFilter"], [[ox.Literal(country.upper())]]))
    if certification:
        filters.append(rules.values(["certification"], [[certification]]))
    if service:
        filters.append(rules.values(["serviceFilter"], [[service]]))
    if near:
        lat, lon, radius = near
        if not (-90 <= lat <= 90 and -180 <= lon <= 180 and radius >= 0):
            raise CatalogueError("near needs a latitude in [-90, 90], a longitude in [-180, 180] and a radius >= 0 km")
        x, y, z = geo.unit_vector(lat, lon)
        filters.append(rules.values(["nearX", "nearY", "nearZ", "maxChord2"], [[x, y, z, geo.chord_squared(radius)]]))
    return "\n  ".join(filters)


def statistics(store: Store) -> dict[str, int]:
    """How many services the catalogue lists as published and as withdrawn."""
    rows = rules.select(store, "catalogue/statistics.rq")
    counts = {row["status"].value.rsplit("#", 1)[1].lower(): int(row["services"].value) for row in rows}
    return {"published": counts.get("published", 0), "withdrawn": counts.get("withdrawn", 0)}
