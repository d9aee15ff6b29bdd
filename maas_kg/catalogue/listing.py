"""Listing the service catalogue: a page of published services under filters, the facet counts of a listing and
the catalogue's totals, read by the rules of ``queries/catalogue/`` (services-found, list-services, facets,
statistics). Writing the catalogue is :mod:`maas_kg.catalogue.publishing`.

SPARQL defines, indexes serve: services-found.rq and facets.rq are the definition and stay the reference (and the
path for a caller without a match index). Given the catalogue's match index (:mod:`maas_kg.matching.index`, kept
current with the catalogue's change record), ``list_services`` and ``facet_counts`` select and count from its
columns (process, materials, certifications, site vector) and from the records' listing keys and countries beside it
(:class:`CatalogueIndex`, read by ``listing-columns.rq`` and kept current from the same change record); only the
page's names are read from the store, by list-services.rq as before. 100,000 services: the list and its facets went
from 5-40 s per request to milliseconds (benchmarks/bench_pages.py); ``tests/test_catalogue_index.py`` holds both
paths equal on random catalogues and filters."""

from __future__ import annotations

import re
import threading

import pyoxigraph as ox

from maas_kg import geo
from maas_kg.catalogue.publishing import CatalogueError
from maas_kg.knowledge import PROC, rules
from maas_kg.store import Store, StoreUnavailable

# the order of services-found.rq's rows in a listing: by record listing key (see list-services.rq), ties by record
LISTING_ORDER = ("listingKey", "record")


def list_services(store: Store, *, process: str | None = None, material: str | None = None,
                  country: str | None = None, certification: str | None = None,
                  near: tuple[float, float, float] | None = None, service: str | None = None,
                  limit: int | None = None, offset: int = 0, index=None) -> list[dict[str, str]]:
    """Published services, optionally filtered by process class (with subclasses), material class, country,
    certification (held by the service or its provider), ``near`` = (lat, lon, radius km) and one service IRI;
    ``limit`` / ``offset`` give a page in a stable order. With ``index`` (the catalogue's match index) the services
    are selected from its columns, else by services-found.rq in the store: the same page either way."""
    filters = _filters(process=process, material=material, country=country, certification=certification,
                       near=near, service=service)
    if index is not None:
        rows = index.page(store, limit=limit, offset=offset, process=process, material=material,
                                           country=country, certification=certification, near=near,
                                           service=service)
    else:
        found = rules.bind(rules.rule_text("catalogue/services-found.rq"), FILTERS=filters,
                           PAGE=rules.page(limit, offset, order=LISTING_ORDER))
        rows = _answered(lambda: store.select(found, union_default_graph=True))
    if not rows:
        return []
    names = ["record", "processType", "listingKey", "countryFilter"]
    block = rules.values(names, [[row[n] for n in names] for row in rows])

    def page() -> list[dict[str, str]]:
        result = store.query(rules.bind(rules.rule_text("catalogue/list-services.rq"), PAGE=block),
                             union_default_graph=True)
        names = [v.value for v in result.variables]
        return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in result]

    return _answered(page)


def facet_counts(store: Store, *, index=None, **filters) -> dict[str, list[dict[str, str | int]]]:
    """How many of the services ``list_services(**filters)`` finds have each country and each certification
    (``queries/catalogue/facets.rq``): {"country": [{value, label, services}], "certification": [...]}. With
    ``index`` (the catalogue's match index), counted from its columns: the same counts."""
    found = rules.subquery(rules.bind(rules.rule_text("catalogue/services-found.rq"), FILTERS=_filters(**filters)))
    if index is not None:
        return index.facets(store, **filters)
    facets: dict[str, list[dict[str, str | int]]] = {"country": [], "certification": []}
    for row in _answered(lambda: rules.select(store, "catalogue/facets.rq", SERVICES=found)):
        facets[row["facet"].value].append({"value": row["value"].value, "services": int(row["services"].value),
                                           "label": row["label"].value if row["label"] is not None else None})
    return facets


def _answered(read):
    """``read()``, whose answer a remote store may break off: an Oxigraph server that reaches its query timeout
    after it began its answer (status 200) ends the body with its error text, which the result parser then takes
    for a syntax error (a SyntaxError out of reading the rows); that was the 500 of ``near=`` at
    100,000 services behind ``maas-kg serve`` (10 s timeout). It is the store giving up: StoreUnavailable (503)."""
    try:
        return read()
    except SyntaxError as err:
        raise StoreUnavailable(f"the store broke off its answer (its query timeout?): "
                               f"{err}") from None


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


_ONTOLOGY_ANSWERS: dict = {}
_ONTOLOGY_ANSWERS_LOCK = threading.Lock()


def ontology_answer(store: Store, key: tuple, read):
    """``read()``, an answer that depends on the store's ontology graphs alone (taxonomy, labels), kept while they
    stay as they are: keyed by the content hashes of the meta graph, which every change of a module, an extension
    or the derived graphs rewrites in the same transaction (one small query; the taxonomy and filter-class queries
    it saves were 60% of a catalogue page's time at 100,000 services)."""
    from maas_kg.knowledge.graphs import _stored_hashes

    state = (id(store), tuple(sorted(_stored_hashes(store).items())))
    with _ONTOLOGY_ANSWERS_LOCK:
        if _ONTOLOGY_ANSWERS.get("state") != state:
            _ONTOLOGY_ANSWERS.clear()
            _ONTOLOGY_ANSWERS["state"] = state
        if key in _ONTOLOGY_ANSWERS:
            return _ONTOLOGY_ANSWERS[key]
    answer = read()
    with _ONTOLOGY_ANSWERS_LOCK:
        if _ONTOLOGY_ANSWERS.get("state") == state and len(_ONTOLOGY_ANSWERS) < 4096:
            _ONTOLOGY_ANSWERS[key] = answer
    return answer


def _filter_classes(store: Store, process: str, material: str | None) -> dict[str, frozenset[str]]:
    """The classes of the process and material filters (``filter-classes.rq``)."""
    def read() -> dict[str, frozenset[str]]:
        block = rules.values(["process", "material"], [[process, material]])
        found: dict[str, set[str]] = {"process": set(), "material": set()}
        for row in store.select(rules.bind(rules.rule_text("catalogue/filter-classes.rq"), FILTERS=block)):
            found[row["kind"].value].add(row["class"].value)
        return {kind: frozenset(classes) for kind, classes in found.items()}

    return ontology_answer(store, ("filter-classes", process, material), read)


def _labels(store: Store, values: list[str]) -> dict[str, str]:
    """The English labels of facet values (``facet-labels.rq``), the least where a value has several."""
    if not values:
        return {}

    def read() -> dict[str, str]:
        labels: dict[str, str] = {}
        block = rules.values(["value"], [[v] for v in values])
        for row in store.select(rules.bind(rules.rule_text("catalogue/facet-labels.rq"), VALUES=block)):
            value, label = row["value"].value, row["label"].value
            labels[value] = min(label, labels.get(value, label))
        return labels

    return ontology_answer(store, ("facet-labels", tuple(values)), read)
