"""The catalogue served from the match index ("SPARQL defines, indexes serve"): the filters, facet counts and tree
counts of ``maas_kg.catalogue.listing`` (whose rules stay the reference) as masks over the match index's columns,
with each record's listing key and countries read beside it. It lives in the matching layer because it builds on the
match index; the catalogue's functions take it as their ``index`` argument and ask it only through its methods
(``page``, ``facets``, ``offered``), so imports keep pointing down the layers."""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pyoxigraph as ox

from maas_kg import geo
from maas_kg.catalogue.listing import _filter_classes, _labels
from maas_kg.catalogue.publishing import service_graph
from maas_kg.knowledge import PROC, rules
from maas_kg.matching.index import BATCH, TsvPieces, changes_since, tsv_answer, tsv_values
from maas_kg.store import Store

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
        index = self.index
        index.follow(store)
        with self._lock:
            count, catalogue = index.change_count, index.catalogue
            if self.change_count is None or catalogue != self.catalogue or count < self.change_count:
                self._read(store, None)
            elif count > self.change_count:
                services, whole = changes_since(store, range(self.change_count + 1, count + 1))
                if whole:
                    self._read(store, None)
                elif services:
                    self._read(store, [service_graph(s) + "/record" for s in sorted(services)])
            self.change_count, self.catalogue = count, catalogue

    def _read(self, store: Store, records: list[str] | None) -> None:
        """Read the listing keys and countries of ``records`` (None: of every record) with listing-columns.rq."""
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
                take(tsv_values(columns["record"]), tsv_values(columns["kind"]), tsv_values(columns["term"]))

            # as TSV, parsed a column at a time (as the match index's scans): 3x faster than reading the rows
            if not tsv_answer(store, text, TsvPieces(consume)):
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
