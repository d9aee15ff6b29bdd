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
import weakref

import numpy as np
import pyoxigraph as ox

from maas_kg import geo
from maas_kg.catalogue.publishing import CatalogueError, service_graph
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
        rows = catalogue_index(index).page(store, limit=limit, offset=offset, process=process, material=material,
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
        return catalogue_index(index).facets(store, **filters)
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


# -- the catalogue index ----------------------------------------------------------------------------------------

_INDEXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def catalogue_index(index) -> "CatalogueIndex":
    """The catalogue index beside the match index ``index`` (one per match index, made on first use)."""
    with _INDEXES_LOCK:
        found = _INDEXES.get(index)
        if found is None:
            found = _INDEXES[index] = CatalogueIndex(index)
        return found


class CatalogueIndex:
    """services-found.rq and facets.rq served from memory: the match index's columns (its live rows are the
    published services; process, materials, certifications, site unit vector) with, beside them, each record's
    listing key and listed countries (``listing-columns.rq``), followed from the catalogue's change record as the
    match index follows it. Filters are masks over the match index's rows and the page is cut from the rows in
    listing order (listing key, then record IRI, as services-found.rq sorts): 100,000 services, every filter in a
    few milliseconds. Safe to share between threads."""

    def __init__(self, index):
        self.index = index
        self._lock = threading.RLock()
        self.change_count: int | None = None
        self.catalogue: str | None = None
        self.key: dict[str, str] = {}  # record IRI -> listing key
        self.countries: dict[str, set[str]] = {}  # record IRI -> listed countries
        self._version = 0  # raised whenever key or countries change
        self._aligned: tuple | None = None

    # ------------------------------------------------------------------------------------------- following
    def follow(self, store: Store) -> None:
        """Bring the match index, then the listing keys and countries, up to the store's catalogue."""
        from maas_kg.matching.index import _changes

        index = self.index
        index.follow(store)
        with self._lock:
            count, catalogue = index.change_count, index.catalogue
            if self.change_count is None or catalogue != self.catalogue or count < self.change_count:
                self._read(store, None)
            elif count > self.change_count:
                services, whole = _changes(store, range(self.change_count + 1, count + 1))
                if whole:
                    self._read(store, None)
                elif services:
                    self._read(store, [service_graph(s) + "/record" for s in sorted(services)])
            self.change_count, self.catalogue = count, catalogue

    def _read(self, store: Store, records: list[str] | None) -> None:
        """Read the listing keys and countries of ``records`` (None: of every record) with listing-columns.rq."""
        from maas_kg.matching.index import BATCH, _TsvPieces, _tsv_answer, _values

        key: dict[str, str] = {}
        countries: dict[str, set[str]] = {}

        def take(record_values, kinds, terms) -> None:
            for record, kind, term in zip(record_values, kinds, terms):
                if kind == "key":
                    key.setdefault(record, term)  # one key per record; the first, should there be several
                else:
                    countries.setdefault(record, set()).add(term)

        if records is None:
            text = rules.bind(rules.rule_text("catalogue/listing-columns.rq"), RECORDS="# every record")

            def consume(columns, count) -> None:
                take(_values(columns["record"]), _values(columns["kind"]), _values(columns["term"]))

            # as TSV, parsed a column at a time (as the match index's scans): 3x faster than reading the rows
            if not _tsv_answer(store, text, _TsvPieces(consume)):
                key.clear(), countries.clear()
                rows = store.select(text)
                take([r["record"].value for r in rows], [r["kind"].value for r in rows],
                     [r["term"].value for r in rows])
            self.key, self.countries = key, countries
        else:
            for start in range(0, len(records), BATCH):
                batch = records[start:start + BATCH]
                rows = store.select(rules.bind(rules.rule_text("catalogue/listing-columns.rq"),
                                               RECORDS=rules.values(["record"], [[r] for r in batch])))
                take([r["record"].value for r in rows], [r["kind"].value for r in rows],
                     [r["term"].value for r in rows])
                for record in batch:
                    self.key.pop(record, None)
                    self.countries.pop(record, None)
            self.key.update(key)
            self.countries.update(countries)
        self._version += 1

    def _columns(self) -> tuple:
        """The listing keys and countries aligned with the match index's rows (kept until either changes): the
        rows in listing order (rows without a listing key left out, as services-found.rq's join leaves them), each
        row's record IRI, and per country code (``codes``) a boolean column."""
        index = self.index
        stamp = (id(index.service), index._used, index.size, index.change_count, self._version)
        if self._aligned is not None and self._aligned[0] == stamp:
            return self._aligned[1:]
        used = index._used
        # a record is named after its service graph (catalogue/record-publication.ru)
        records = [None if graph is None else graph + "/record" for graph in index.graph[:used].tolist()]
        keys = [self.key.get(record) if record is not None else None for record in records]
        keyed = [row for row in range(used) if keys[row] is not None]
        order = np.array(sorted(keyed, key=lambda row: (keys[row], records[row])), dtype=np.int64)
        code: dict[str, int] = {}
        country_rows: list[list[int]] = []
        for row, record in enumerate(records):
            for country in self.countries.get(record, ()) if record is not None else ():
                at = code.setdefault(country, len(code))
                if at == len(country_rows):
                    country_rows.append([])
                country_rows[at].append(row)
        by_country = np.zeros((len(code), used), dtype=bool)
        for at, rows in enumerate(country_rows):
            by_country[at, rows] = True
        aligned = (order, records, keys, code, by_country)
        self._aligned = (stamp, *aligned)
        return aligned

    # --------------------------------------------------------------------------------------------- serving
    def _found(self, store: Store, *, process: str | None = None, material: str | None = None,
               country: str | None = None, certification: str | None = None,
               near: tuple[float, float, float] | None = None, service: str | None = None) -> tuple:
        """The rows services-found.rq finds, as a mask over the match index's rows, with the aligned columns.
        Call with both locks held."""
        index = self.index
        used = index._used
        order, records, keys, code, by_country = self._columns()
        mask = index.alive[:used].copy()
        classes = _filter_classes(store, process or str(PROC.ManufacturingProcess), material)
        mask &= np.isin(index.process[:used], [index.processes.code[c] for c in classes["process"]
                                               if c in index.processes.code])
        if material:
            mask &= _any_bit(index.material_bits[:used], [index.materials.code[c] for c in classes["material"]
                                                          if c in index.materials.code])
        if certification:
            found = index.certifications.code.get(certification)
            mask &= _any_bit(index.certification_bits[:used], [] if found is None else [found])
        if country:
            at = code.get(country.upper())
            mask &= by_country[at] if at is not None else False
        if service:
            row = index._row.get(service)
            only = np.zeros(used, dtype=bool)
            if row is not None:
                only[row] = True
            mask &= only
        if near:
            lat, lon, radius = near
            x, y, z = geo.unit_vector(lat, lon)
            chord = geo.chord_squared(radius)
            sx, sy, sz = (index.num[name][:used] for name in ("sx", "sy", "sz"))
            with np.errstate(invalid="ignore"):
                # services-found.rq's arithmetic, in its order: the same doubles give the same verdict at the edge
                squared = (sx - x) * (sx - x) + (sy - y) * (sy - y) + (sz - z) * (sz - z)
                mask &= ~np.isnan(sx) & (squared <= chord)
        return mask, order, records, keys, code, by_country

    def page(self, store: Store, *, limit: int | None = None, offset: int = 0, **filters) -> list[dict]:
        """services-found.rq's rows for a page: record, processType, listingKey, countryFilter (terms)."""
        self.follow(store)
        index = self.index
        with index._lock, self._lock:
            mask, order, records, keys, *_ = self._found(store, **filters)
            hits = order[mask[order]]
            # as rules.page: without a limit, every row (the offset goes with a limit only)
            chosen = hits if limit is None else hits[offset:offset + limit]
            country = filters.get("country")
            return [{"record": ox.NamedNode(records[row]),
                     "processType": ox.NamedNode(index.processes.iri[index.process[row]]),
                     "listingKey": ox.Literal(keys[row]),
                     "countryFilter": ox.Literal(country.upper()) if country else None}
                    for row in chosen.tolist()]

    def facets(self, store: Store, **filters) -> dict[str, list[dict[str, str | int]]]:
        """facets.rq's counts: of the rows found, how many per listed country and per certification."""
        self.follow(store)
        index = self.index
        with index._lock, self._lock:
            mask, order, records, keys, code, by_country = self._found(store, **filters)
            counted = np.zeros(len(mask), dtype=bool)
            counted[order] = True  # a record without a listing key is never found (services-found.rq's join)
            mask &= counted
            countries = [(value, int(np.count_nonzero(by_country[at] & mask))) for value, at in code.items()]
            bits = index.certification_bits[:len(mask)][mask]
            certifications = []
            for at, iri in enumerate(index.certifications.iri):
                held = int(np.count_nonzero(bits[:, at >> 6] & (np.uint64(1) << np.uint64(at & 63))))
                certifications.append((iri, held))
        labels = _labels(store, [iri for iri, n in certifications if n])
        order_by = (lambda item: (-item[1], item[0]))
        return {"country": [{"value": value, "services": n, "label": None}
                            for value, n in sorted(countries, key=order_by) if n],
                "certification": [{"value": iri, "services": n, "label": labels.get(iri)}
                                  for iri, n in sorted(certifications, key=order_by) if n]}

    def offered(self, store: Store) -> dict[str, int]:
        """offered-counts.rq's counts: how many published services offer each process class and each material."""
        self.follow(store)
        index = self.index
        with index._lock:
            used = index._used
            alive = index.alive[:used]
            per_process = np.bincount(index.process[:used][alive & (index.process[:used] >= 0)],
                                      minlength=len(index.processes.iri))
            counts = {iri: int(n) for iri, n in zip(index.processes.iri, per_process.tolist()) if n}
            bits = index.material_bits[:used][alive]
            for at, iri in enumerate(index.materials.iri):
                held = int(np.count_nonzero(bits[:, at >> 6] & (np.uint64(1) << np.uint64(at & 63))))
                if held:
                    counts[iri] = counts.get(iri, 0) + held
        return counts


def _any_bit(bits: np.ndarray, codes: list[int]) -> np.ndarray:
    """Rows of a uint64 bit matrix with any of ``codes`` set."""
    if not codes:
        return np.zeros(bits.shape[0], dtype=bool)
    mask = np.zeros(bits.shape[1], dtype=np.uint64)
    for code in codes:
        if code >> 6 < bits.shape[1]:
            mask[code >> 6] |= np.uint64(1) << np.uint64(code & 63)
    return (bits & mask).any(axis=1)


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
