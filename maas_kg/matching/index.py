"""The match index: a columnar read model of the published services, for must-criteria at catalogue scale.

SPARQL defines, the index serves. ``queries/matching/must-criteria.rq`` is the definition and stays the reference
(``engine="sparql"``); this index holds, per published service, exactly the values that rule reads (built by scans of
the whole catalogue, ``queries/matching/index-scan-services.rq``, ``index-scan-options.rq`` and
``index-scan-terms.rq``, whose TSV answers are parsed a column at a time; changed services, and stores that give no
TSV answers, are read by ``index-services.rq`` and ``index-terms.rq``, a batch of services per query) as numpy columns,
and evaluates each declared must-criterion (``maas:comparison``, see :mod:`maas_kg.matching.criteria`) as one
vectorised operation over the rows of the step's process classes. ``tests/test_match_index.py`` holds both paths
equal on random catalogues, products and publish / replace / withdraw sequences.

Kept current by following the catalogue's change record (``queries/catalogue/record-change.ru``): every write that
changes services raises the catalogue's change count and names them; :meth:`MatchIndex.follow` reads the count (one
lookup) and re-reads only the services of the change sets it has not seen, in this process or any other, on the
embedded store or a remote one. numpy: already installed (OR-Tools needs it), and the evaluation is a handful of
comparisons over contiguous float columns (see benchmarks/bench_index.py for the figures).
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import json
import logging
import math
import operator
import os
import re
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyoxigraph as ox

from maas_kg import geo, knowledge, settings
from maas_kg.catalogue import service_graph
from maas_kg.knowledge import MAAS, rules
from maas_kg.matching import costing
from maas_kg.matching.step import Coded, Gathered, StepRows, order_key
from maas_kg.store import Store, StoreError, remote_backend

SNAPSHOT_FORMAT = 4  # 4: the cost models beside the columns
TABLES = 32  # gathered tables kept (one per distinct set of a step's process classes)
SAVE_EVERY = 1000  # changed services after which a snapshot is written again
log = logging.getLogger(__name__)
BATCH = 2000  # services per index query: large enough to amortise a request, small enough for a VALUES block
SCAN_PIECE = 8 << 20  # bytes of a scan's TSV answer parsed at a time (whole rows): bounded memory at any size
SCAN_TIMEOUT = 600.0  # seconds a remote store may take between two pieces of a scan's answer (the first comes late)
_TSV = "text/tab-separated-values"
# the numeric columns, as index-services.rq names them; absent values are NaN
NUMERIC = ("el", "em", "es", "minBatch", "maxBatch", "leadTime", "capacity", "maxMass", "tol", "it", "ra",
           "from", "until", "lat", "lon", "sx", "sy", "sz", "setup", "unit")
_DATES = ("from", "until")


def snapshot_for(location: str) -> str | None:
    """Where the match index of the store at ``location`` is saved: ``MAAS_KG_MATCH_INDEX``, else beside an
    on-disk store (``var/store`` -> ``var/store.match-index.npz``); None for an in-memory or remote store."""
    chosen = settings.MATCH_INDEX.value()
    if chosen:
        return chosen
    if location == "memory" or remote_backend(location) is not None:
        return None
    return str(Path(location)) + ".match-index.npz"


@dataclass(frozen=True)
class StepProcesses:
    """The process classes of a route step with whether each suits the product's shape."""
    shape_ok: dict[str, bool]
    footprint_only: bool


_STEP_PROCESSES: dict[tuple, StepProcesses] = {}


def step_processes(store: Store, process: str, shape: str) -> StepProcesses:
    """The classes of the step's process and whether each suits ``shape`` (``queries/matching/step-processes.rq``).

    The answer depends on the ontology alone, so it is kept per ontology in force: a match asks it for every step, 7
    store queries a product, about 40% of a match's time on a served store (over HTTP to the store server)."""
    key = (knowledge.ontology_key(), process, shape)
    found = _STEP_PROCESSES.get(key)
    if found is None:
        rows = store.select(rules.bind(rules.rule_text("matching/step-processes.rq"),
                                       PARAMETERS=rules.values(["required", "productShape"], [[process, shape]])))
        found = StepProcesses({row["process"].value: row["shape"].value == "true" for row in rows},
                              any(row["footprintOnly"] is not None and row["footprintOnly"].value == "true"
                                  for row in rows))
        if len(_STEP_PROCESSES) > 10_000:  # a few hundred per ontology; bounded against a stream of extensions
            _STEP_PROCESSES.clear()
        _STEP_PROCESSES[key] = found
    return found


class _Codes:
    """IRIs to small integers, in order of first sight."""

    def __init__(self):
        self.code: dict[str, int] = {}
        self.iri: list[str] = []

    def __call__(self, iri: str) -> int:
        found = self.code.get(iri)
        if found is None:
            found = self.code[iri] = len(self.iri)
            self.iri.append(iri)
        return found


class MatchIndex:
    """The published services of one catalogue store as columns. Safe to share between threads: following and
    evaluating take the lock; an answer's IRIs are read from the columns later, so a row is never given to another
    service (a withdrawn service's row stays dead until the next rebuild)."""

    def __init__(self, *, follow_interval: float = 0.0, snapshot: str | Path | None = None):
        # at most this long between two looks at the change record; 0: every match looks, so it sees every write
        # that returned before it began, through any worker (one lookup: 0.04 ms embedded, 0.8 ms over HTTP)
        self.follow_interval = follow_interval
        self.snapshot = Path(snapshot) if snapshot else None  # saved after a rebuild and every SAVE_EVERY changes
        self._unsaved = 0
        self.change_count: int | None = None
        self.catalogue: str | None = None  # the identity of the catalogue it was built from (its change record's)
        self.size = 0  # live services
        self._lock = threading.RLock()
        self._checked = -math.inf
        self._row: dict[str, int] = {}
        self._used = 0
        self.processes, self.materials, self.certifications, self.currencies = _Codes(), _Codes(), _Codes(), _Codes()
        self._allocate(0)
        self._by_process: dict[int, np.ndarray] = {}
        self._tables: dict[tuple[int, ...], tuple] = {}
        self.build_stats: dict = {}  # the last rebuild's: "scan" or "batches", seconds, where the time went
        # the published cost models by service (queries/matching/index-cost-models.rq; few services state one, so a
        # dict beside the columns, and ``priced`` marks their rows)
        self.cost_models: dict[str, dict] = {}

    def services(self) -> set[str]:
        """The IRIs of the services the index holds now."""
        with self._lock:
            return set(self._row)

    # ----------------------------------------------------------------------------------------------- storage
    def _allocate(self, capacity: int) -> None:
        self._capacity = capacity
        self.num = {name: np.full(capacity, np.nan) for name in NUMERIC}
        self.process = np.full(capacity, -1, dtype=np.int32)
        self.currency = np.full(capacity, -1, dtype=np.int32)
        self.order_key = np.zeros(capacity, dtype=np.int64)
        self.alive = np.zeros(capacity, dtype=bool)
        self.priced = np.zeros(capacity, dtype=bool)
        self.material_bits = np.zeros((capacity, 1), dtype=np.uint64)
        self.certification_bits = np.zeros((capacity, 1), dtype=np.uint64)
        self.service = np.full(capacity, None, dtype=object)  # IRIs, None in free rows
        self.graph = np.full(capacity, None, dtype=object)
        self.provider = np.full(capacity, None, dtype=object)

    def _grow(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        more = max(needed, 2 * self._capacity, 1024) - self._capacity
        extend = (lambda column, fill: np.concatenate([column, np.full((more, *column.shape[1:]), fill,
                                                                       dtype=column.dtype)]))
        self._capacity += more
        self.num = {name: extend(column, np.nan) for name, column in self.num.items()}
        self.process, self.currency = extend(self.process, -1), extend(self.currency, -1)
        self.order_key, self.alive = extend(self.order_key, 0), extend(self.alive, False)
        self.priced = extend(self.priced, False)
        self.material_bits, self.certification_bits = extend(self.material_bits, 0), extend(self.certification_bits, 0)
        self.service, self.graph, self.provider = (extend(column, None)
                                                   for column in (self.service, self.graph, self.provider))

    @staticmethod
    def _widen(bits: np.ndarray, codes: int) -> np.ndarray:
        words = max(1, (codes + 63) // 64)
        if words <= bits.shape[1]:
            return bits
        return np.concatenate([bits, np.zeros((bits.shape[0], words - bits.shape[1]), dtype=np.uint64)], axis=1)

    @staticmethod
    def _mask(codes: Iterable[int], words: int) -> np.ndarray:
        mask = np.zeros(words, dtype=np.uint64)
        for code in codes:
            mask[code // 64] |= np.uint64(1) << np.uint64(code % 64)
        return mask

    # ------------------------------------------------------------------------------------------- following
    def follow(self, store: Store, *, force: bool = False) -> None:
        """Bring the index up to the store's catalogue: build it on first use, then apply the change sets it has
        not seen. Looks at the change record at most every ``follow_interval`` seconds unless ``force``."""
        now = time.monotonic()
        if not force and now - self._checked < self.follow_interval:
            return
        with self._lock:
            if not force and now - self._checked < self.follow_interval:
                return
            count, catalogue = change_state(store)
            if self.change_count is None or count < self.change_count or catalogue != self.catalogue:
                # first use, or a saved index of another store (or of this one before it had an identity)
                self.rebuild(store, count)
                self._unsaved = SAVE_EVERY
            elif count > self.change_count:
                services, whole = changes_since(store, range(self.change_count + 1, count + 1))
                if whole:
                    self.rebuild(store, count)
                    self._unsaved = SAVE_EVERY
                else:
                    self.refresh(store, services)
                    self.change_count = count
                    self._unsaved += len(services)
            if self.snapshot is not None and self._unsaved >= SAVE_EVERY:
                try:
                    self.save(self.snapshot)
                except OSError as err:  # a read-only folder, a full disk: the index works, it only starts slower
                    log.warning("the match index snapshot %s was not written: %s", self.snapshot, err)
                self._unsaved = 0
            self._checked = time.monotonic()

    def rebuild(self, store: Store, count: int | None = None, *, scan: bool = True) -> None:
        """Read every published service again (the change count first, so a change during the build is applied
        again on the next follow): by three scans of the whole catalogue whose TSV answers are parsed in bulk, or in
        batches of ``BATCH`` services where the store gives no TSV answer (or ``scan`` is False). Both give the same
        index; ``build_stats`` says which ran and where its time went."""
        with self._lock:
            started = time.perf_counter()
            state = change_state(store)
            count = state[0] if count is None else count
            self._row, self._used, self.size, self._by_process = {}, 0, 0, {}
            self._tables = {}
            stats = self._scan(store) if scan else None
            if stats is None:
                published = [(row["service"].value, row["graph"].value)
                             for row in rules.select(store, "matching/index-published.rq")]
                self._row, self._used, self.size = {}, 0, 0
                self._allocate(len(published) + 64)
                for start in range(0, len(published), BATCH):
                    self._read(store, published[start:start + BATCH])
                stats = {"mode": "batches"}
            start = time.perf_counter()
            self.cost_models = {}
            self._price(costing.service_cost_models(store), self._row)
            stats["cost_models_s"] = round(time.perf_counter() - start, 3)
            self.build_stats = {**stats, "services": self.size, "seconds": round(time.perf_counter() - started, 3)}
            self.change_count, self.catalogue = count, state[1]

    def _scan(self, store: Store) -> dict | None:
        """Fill the index from ``index-scan-services.rq``, ``index-scan-options.rq`` and ``index-scan-terms.rq``
        (every published service in one pass each), their TSV answers parsed a piece at a time as they arrive; None,
        having filled nothing, where the store gives no TSV answer (the caller reads in batches). The rows are the
        services in the order of the first answer, the first row of a service with several (as ``_read`` keeps)."""
        services = _ScannedServices(self.processes, self.currencies)
        options = _ScannedOptions(services.row_of)
        terms = _ScannedTerms(services.row_of, self.materials, self.certifications)
        timing = {}
        for name, scanned in (("services", services), ("options", options), ("terms", terms)):
            pieces = TsvPieces(scanned)
            start = time.perf_counter()
            if not tsv_answer(store, rules.rule_text(f"matching/index-scan-{name}.rq"), pieces):
                return None
            timing[f"{name}_answer_s"] = round(time.perf_counter() - start - pieces.seconds, 3)
            timing[f"{name}_parse_s"] = round(pieces.seconds, 3)
            timing[f"{name}_rows"] = pieces.rows
        start = time.perf_counter()
        used = len(services.service)
        self._allocate(used + 64)
        for name in NUMERIC:  # each column from the answer that has it (the rule files say which)
            if services.numbers[name]:
                self.num[name][:used] = np.concatenate(services.numbers[name])
            elif name in options.numbers:
                self.num[name][:used] = options.numbers[name]
        site = ("sx", "sy", "sz", "lat", "lon")  # the site counts only with all its values
        partial = np.zeros(used, dtype=bool)
        for name in site:
            partial |= np.isnan(self.num[name][:used])
        for name in site:
            self.num[name][:used][partial] = np.nan
        self.process[:used] = np.asarray(services.process, dtype=np.int32)
        self.currency[:used] = np.asarray(services.currency, dtype=np.int32)
        self.service[:used], self.graph[:used], self.provider[:used] = services.service, services.graph, \
            services.provider
        self.order_key[:used] = np.fromiter(map(order_key, services.graph), dtype=np.int64, count=used)
        self.alive[:used] = True
        for kind in ("material", "certification"):
            at, code = (np.concatenate([np.empty(0, dtype=np.int64), *parts]) for parts in terms.parts[kind])
            held = at >= 0  # the terms of services without a row have their codes (as _read gives them), no bit
            at, code = at[held], code[held]
            bits = self._widen(np.zeros((self._capacity, 1), dtype=np.uint64), len(terms.codes[kind].iri))
            np.bitwise_or.at(bits, (at, code >> 6), np.left_shift(np.uint64(1), (code & 63).astype(np.uint64)))
            setattr(self, f"{kind}_bits", bits)
        self._row, self._used, self.size = services.row_of, used, used
        timing["fill_s"] = round(time.perf_counter() - start, 3)
        return {"mode": "scan", **timing}

    def refresh(self, store: Store, services: Iterable[str]) -> None:
        """Read ``services`` again: published ones get their current values, the others leave the index."""
        with self._lock:
            pairs = [(service, service_graph(service)) for service in sorted(set(services))]
            for start in range(0, len(pairs), BATCH):
                batch = pairs[start:start + BATCH]
                seen = self._read(store, batch)
                for service, _ in batch:
                    if service not in seen:
                        self._remove(service)
                self._price(costing.service_cost_models(store, [pair for pair in batch if pair[0] in seen]),
                            seen)

    def _price(self, models: dict[str, dict], services: Iterable[str]) -> None:
        """Keep the cost models of ``services`` (those with none in ``models`` lose theirs)."""
        for service in services:
            at = self._row.get(service)
            if at is None:
                continue
            model = models.get(service)
            if model is None:
                self.cost_models.pop(service, None)
            else:
                self.cost_models[service] = model
            self.priced[at] = model is not None

    def _read(self, store: Store, pairs: Sequence[tuple[str, str]]) -> set[str]:
        block = rules.values(["service", "graph"], pairs)
        rows = store.select(rules.bind(rules.rule_text("matching/index-services.rq"), SERVICES=block))
        terms: dict[str, dict[str, set[int]]] = {}
        for row in store.select(rules.bind(rules.rule_text("matching/index-terms.rq"), SERVICES=block)):
            kind = row["kind"].value
            codes = self.materials if kind == "material" else self.certifications
            terms.setdefault(row["service"].value, {"material": set(), "certification": set()})[kind].add(
                codes(row["term"].value))
        self.material_bits = self._widen(self.material_bits, len(self.materials.iri))
        self.certification_bits = self._widen(self.certification_bits, len(self.certifications.iri))
        seen: set[str] = set()
        for row in rows:
            service = row["service"].value
            if service in seen:  # several values where the shapes allow one: keep the first row, as the rule does
                continue
            seen.add(service)
            self._put(service, row, terms.get(service, {"material": set(), "certification": set()}))
        return seen

    def _put(self, service: str, row: dict, terms: dict[str, set[int]]) -> None:
        at = self._row.get(service)
        if at is None:
            at = self._used
            self._used += 1
            self._grow(self._used)
            self._row[service] = at
            self.size += 1
        else:
            self._forget(int(self.process[at]))
        for name in NUMERIC:
            self.num[name][at] = _number(row[name], date=name in _DATES)
        if any(math.isnan(self.num[name][at]) for name in ("sx", "sy", "sz", "lat", "lon")):
            for name in ("sx", "sy", "sz", "lat", "lon"):  # the site counts only with all its values
                self.num[name][at] = np.nan
        self.process[at] = self.processes(row["process"].value)
        self.currency[at] = self.currencies(row["currency"].value)
        self.material_bits[at] = self._mask(terms["material"], self.material_bits.shape[1])
        self.certification_bits[at] = self._mask(terms["certification"], self.certification_bits.shape[1])
        self.service[at], self.graph[at], self.provider[at] = service, row["graph"].value, row["provider"].value
        self.order_key[at] = order_key(row["graph"].value)
        self.alive[at] = True
        self._forget(int(self.process[at]))

    def _remove(self, service: str) -> None:
        at = self._row.pop(service, None)
        if at is None:
            return
        self._forget(int(self.process[at]))
        self.alive[at] = False  # its IRIs stay: an answer computed before may still read them
        self.priced[at] = False
        self.cost_models.pop(service, None)
        self.size -= 1

    def _forget(self, code: int) -> None:
        """A row of process ``code`` changed: its row list and every gathered table with it are stale."""
        self._by_process.pop(code, None)
        for key in [key for key in self._tables if code in key]:
            del self._tables[key]

    def _table(self, codes: Sequence[int]) -> tuple:
        """The rows of these process codes with their columns gathered, kept for the next step of the same classes
        until a row of one of them changes (gathering 20 columns of 100,000 rows cost more than evaluating them)."""
        key = tuple(sorted(codes))
        cached = self._tables.get(key)
        if cached is not None and all(code in self._by_process for code in key):
            return cached
        rows = self._rows_of(key)
        table = (rows, {name: column[rows] for name, column in self.num.items()}, self.process[rows],
                 self.material_bits[rows], self.certification_bits[rows], self.order_key[rows],
                 self.currency[rows] + 1)
        while len(self._tables) >= TABLES:
            self._tables.pop(next(iter(self._tables)))
        self._tables[key] = table
        return table

    def _rows_of(self, codes: Sequence[int]) -> np.ndarray:
        """The live rows of these process codes (kept per code until a row of it changes)."""
        parts = []
        for code in codes:
            rows = self._by_process.get(code)
            if rows is None:
                rows = self._by_process[code] = np.flatnonzero(self.alive[:self._used]
                                                               & (self.process[:self._used] == code))
            parts.append(rows)
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    # -------------------------------------------------------------------------------------------- snapshot
    def save(self, path: str | Path) -> None:
        """Write the index to ``path`` (numpy's .npz, no pickled objects): written beside and renamed over, so a
        reader never sees half a snapshot, whichever worker writes last."""
        path = Path(path)
        with self._lock:
            used = self._used
            arrays = {f"num_{name}": column[:used] for name, column in self.num.items()}
            counts = [len(codes.iri) for codes in (self.processes, self.materials, self.certifications, self.currencies)]
            arrays.update(process=self.process[:used], currency=self.currency[:used], alive=self.alive[:used],
                          priced=self.priced[:used],
                          order_key=self.order_key[:used],
                          material_bits=self.material_bits[:used],
                          certification_bits=self.certification_bits[:used],
                          meta=np.array([SNAPSHOT_FORMAT, self.change_count or 0, used, *counts], dtype=np.int64))
            arrays["text_catalogue"] = _packed([self.catalogue or ""])
            arrays["text_cost_models"] = _packed([json.dumps(self.cost_models, sort_keys=True)])
            for name, values in (("service", list(self.service[:used])), ("graph", list(self.graph[:used])),
                                 ("provider", list(self.provider[:used])), ("processes", self.processes.iri),
                                 ("materials", self.materials.iri), ("certifications", self.certifications.iri),
                                 ("currencies", self.currencies.iri)):
                arrays[f"text_{name}"] = _packed(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(prefix=path.name, suffix=".part", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as output:
                np.savez(output, **arrays)
            os.replace(scratch, path)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise

    @classmethod
    def opened(cls, snapshot: str | Path | None, **options) -> MatchIndex:
        """The index saved at ``snapshot`` where there is one (it follows the store from the change count it was
        saved at), else an empty one that builds itself on first use; either saves itself there."""
        found = cls.load(snapshot, snapshot=snapshot, **options) if snapshot else None
        return found if found is not None else cls(snapshot=snapshot, **options)

    @classmethod
    def load(cls, path: str | Path, **options) -> MatchIndex | None:
        """The index saved at ``path``, or None when there is none or it is of another format."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                data = {name: saved[name] for name in saved.files}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        try:
            version, count, used, *code_counts = (int(v) for v in data["meta"])
            if version != SNAPSHOT_FORMAT:
                return None
            index = cls(**options)
            index._allocate(used + 64)
            index._used = used
            for name in NUMERIC:
                index.num[name][:used] = data[f"num_{name}"]
            index.process[:used], index.currency[:used], index.alive[:used] = data["process"], data["currency"], data["alive"]
            index.order_key[:used] = data["order_key"]
            index.priced[:used] = data["priced"]
            index.cost_models = json.loads(_unpacked(data["text_cost_models"], 1)[0])
            index.material_bits = np.zeros((used + 64, data["material_bits"].shape[1]), dtype=np.uint64)
            index.material_bits[:used] = data["material_bits"]
            index.certification_bits = np.zeros((used + 64, data["certification_bits"].shape[1]), dtype=np.uint64)
            index.certification_bits[:used] = data["certification_bits"]
            for name in ("service", "graph", "provider"):
                getattr(index, name)[:used] = _unpacked(data[f"text_{name}"], used)
            for name, number in zip(("processes", "materials", "certifications", "currencies"), code_counts):
                codes = getattr(index, name)
                codes.iri = _unpacked(data[f"text_{name}"], number)
                codes.code = {iri: i for i, iri in enumerate(codes.iri)}
            index._row = {index.service[at]: int(at) for at in np.flatnonzero(index.alive[:used])}
            index.size = len(index._row)
            index.change_count = count
            index.catalogue = _unpacked(data["text_catalogue"], 1)[0] or None
            return index
        except (ValueError, KeyError):  # written by another format, or damaged
            return None

    # ------------------------------------------------------------------------------------------ evaluation
    def evaluate(self, request, step: StepProcesses, *, finishing: bool, required_it: int | None,
                 criteria: Sequence) -> StepRows:
        """The services of the step passing every must-criterion or failing exactly one (the rule's answer)."""
        names = tuple(c.name for c in criteria)
        with self._lock:
            codes = [self.processes.code[p] for p in step.shape_ok if p in self.processes.code]
            rows, columns, process, materials, certifications, keys, currencies = self._table(codes)
            if not len(rows):
                return StepRows.empty(names)
            context = _Context(request, step, finishing, required_it, columns, process, materials,
                               certifications, self.processes, self.materials, self.certifications)
            verdicts = [OPERATORS[c.comparison](context) for c in criteria]
            # failures counted column by column and the verdicts stacked for the kept rows only: summing a stacked
            # (rows x 11) matrix along its rows cost 4x more at 100,000 rows of one class
            failures = np.zeros(len(rows), dtype=np.uint8)
            for verdict in verdicts:
                failures += ~verdict
            keep = np.flatnonzero(failures <= 1)
            passed = np.column_stack([verdict[keep] for verdict in verdicts])
            at = rows[keep]
            required = self._mask((self.certifications.code[c] for c in request.certifications
                                   if c in self.certifications.code), certifications.shape[1])
            extra = np.zeros(len(keep), dtype=np.int64)
            passing = np.flatnonzero(failures[keep] == 0)  # only candidates are ranked by extra certifications
            extra[passing] = _popcount(certifications[keep[passing]] & ~required)
            cost_models = None
            if request.characteristics and self.cost_models:  # only a part with measures is costed
                cost_models = {int(i): self.cost_models[self.service[at[i]]] for i in np.flatnonzero(self.priced[at])}
            # the order keys and currencies come from the step's table, not from the whole index (a gather from
            # 1,000,000 rows misses the cache: 0.7 ms each at 80,000 rows)
            return StepRows(names, Gathered(self.service, at), Gathered(self.graph, at), Gathered(self.provider, at),
                            passed, Coded(currencies[keep], [None, *self.currencies.iri]),
                            {"lat": columns["lat"][keep], "lon": columns["lon"][keep], "setup": columns["setup"][keep],
                             "unit": columns["unit"][keep], "lead": columns["leadTime"][keep],
                             "capacity": columns["capacity"][keep], "tol": columns["tol"][keep],
                             "ra": columns["ra"][keep], "max_mass": columns["maxMass"][keep]},
                            extra, keys[keep], cost_models)


@dataclass(frozen=True)
class _Context:
    """What an operator sees: the product's request and the step's rows as columns."""
    request: object
    step: StepProcesses
    finishing: bool
    required_it: int | None
    columns: dict[str, np.ndarray]
    process: np.ndarray
    materials: np.ndarray
    certifications: np.ndarray
    process_codes: _Codes
    material_codes: _Codes
    certification_codes: _Codes


def _profile_names_shape(c: _Context) -> np.ndarray:
    table = np.zeros(len(c.process_codes.iri), dtype=bool)
    for process, ok in c.step.shape_ok.items():
        if process in c.process_codes.code:
            table[c.process_codes.code[process]] = ok
    return table[c.process]


def _material_accepted(c: _Context) -> np.ndarray:
    codes = [c.material_codes.code[m] for m in c.request.accepted_materials if m in c.material_codes.code]
    return _any_bit(c.materials, MatchIndex._mask(codes, c.materials.shape[1]))


def _fits_envelope(c: _Context) -> np.ndarray:
    longest, middle, shortest = c.request.edges_mm
    col = c.columns
    return (longest <= col["el"]) & (middle <= col["em"]) & (c.step.footprint_only | (shortest <= col["es"]))


def _at_most_where_stated(c: _Context) -> np.ndarray:
    maximum = c.columns["maxMass"]
    if c.request.mass_kg is None:
        return np.ones(len(maximum), dtype=bool)
    return np.isnan(maximum) | (c.request.mass_kg <= maximum)


def _tolerance_achieved(c: _Context) -> np.ndarray:
    tol, it = c.columns["tol"], c.columns["it"]
    if not c.finishing or c.request.tolerance_mm is None:
        return np.ones(len(tol), dtype=bool)
    by_tolerance = ~np.isnan(tol) & (tol <= c.request.tolerance_mm)
    if c.required_it is None:
        return by_tolerance
    return by_tolerance | (np.isnan(tol) & ~np.isnan(it) & (it <= c.required_it))


def _at_most_required(c: _Context) -> np.ndarray:
    ra = c.columns["ra"]
    if not c.finishing or c.request.roughness_ra_um is None:
        return np.ones(len(ra), dtype=bool)
    return ~np.isnan(ra) & (ra <= c.request.roughness_ra_um)


def _within_batch_range(c: _Context) -> np.ndarray:
    q, low, high = c.request.quantity, c.columns["minBatch"], c.columns["maxBatch"]
    return (np.where(np.isnan(low), 1, low) <= q) & (np.isnan(high) | (q <= high))


def _delivered_by_due_date(c: _Context) -> np.ndarray:
    lead, capacity = c.columns["leadTime"], c.columns["capacity"]
    days = c.request.days_available
    if days is None:
        return np.ones(len(lead), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = c.request.quantity / capacity
        # the rule divides decimals exactly: a ratio within rounding of a whole number is that number
        whole = np.round(ratio)
        weeks = np.where(np.abs(ratio - whole) <= 1e-9 * np.maximum(1.0, np.abs(whole)), whole, np.ceil(ratio))
        weeks = np.where(~np.isnan(capacity) & (capacity > 0), 7 * weeks, 0)
    return ~np.isnan(lead) & (lead + weeks <= days)


def _holds_all_required(c: _Context) -> np.ndarray:
    required = c.request.certifications
    if any(r not in c.certification_codes.code for r in required):
        return np.zeros(len(c.process), dtype=bool)
    mask = MatchIndex._mask((c.certification_codes.code[r] for r in required), c.certifications.shape[1])
    return _all_bits(c.certifications, mask)


def _any_bit(bits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows with any bit of ``mask`` set, word by word (a reduction along the rows of a few words is slow)."""
    hit = np.zeros(bits.shape[0], dtype=bool)
    for word in np.flatnonzero(mask):
        hit |= (bits[:, word] & mask[word]) != 0
    return hit


def _all_bits(bits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows with every bit of ``mask`` set, word by word."""
    held = np.ones(bits.shape[0], dtype=bool)
    for word in np.flatnonzero(mask):
        held &= (bits[:, word] & mask[word]) == mask[word]
    return held


def _within_radius(c: _Context) -> np.ndarray:
    col = c.columns
    if not c.request.delivery or not c.request.max_distance_km:
        return np.ones(len(col["sx"]), dtype=bool)
    dx, dy, dz = geo.unit_vector(*c.request.delivery)
    chord = geo.chord_squared(c.request.max_distance_km)
    with np.errstate(invalid="ignore"):
        # the rule's arithmetic, in its order: the same doubles give the same verdict at the boundary
        squared = (col["sx"] - dx) * (col["sx"] - dx) + (col["sy"] - dy) * (col["sy"] - dy) \
            + (col["sz"] - dz) * (col["sz"] - dz)
        return ~np.isnan(col["sx"]) & (squared <= chord)


def _valid_on_day(c: _Context) -> np.ndarray:
    today = c.request.today.toordinal()
    start, end = c.columns["from"], c.columns["until"]
    return (np.isnan(start) | (start <= today)) & (np.isnan(end) | (end >= today))


#: one implementation per maas:Comparison the ontology declares (tests/test_criteria.py holds them together)
OPERATORS: dict[str, Callable[[_Context], np.ndarray]] = {
    str(MAAS.ProfileNamesShape): _profile_names_shape,
    str(MAAS.MaterialAccepted): _material_accepted,
    str(MAAS.FitsEnvelope): _fits_envelope,
    str(MAAS.AtMostWhereStated): _at_most_where_stated,
    str(MAAS.ToleranceAchieved): _tolerance_achieved,
    str(MAAS.AtMostRequired): _at_most_required,
    str(MAAS.WithinBatchRange): _within_batch_range,
    str(MAAS.DeliveredByDueDate): _delivered_by_due_date,
    str(MAAS.HoldsAllRequired): _holds_all_required,
    str(MAAS.WithinRadius): _within_radius,
    str(MAAS.ValidOnDay): _valid_on_day,
}


def _packed(values: Sequence[str | None]) -> np.ndarray:
    """Strings (IRIs: never a line break) as one UTF-8 byte array, an empty line for None."""
    return np.frombuffer("\n".join(v or "" for v in values).encode("utf-8"), dtype=np.uint8)


def _unpacked(packed: np.ndarray, count: int) -> list[str | None]:
    values = [v or None for v in packed.tobytes().decode("utf-8").split("\n")] if count else []
    if len(values) != count:
        raise ValueError("a snapshot's strings do not match its rows")
    return values


def _popcount(bits: np.ndarray) -> np.ndarray:
    """Set bits per row of a uint64 matrix (numpy's bitwise_count: 7x faster than a table per byte)."""
    counts = np.zeros(bits.shape[0], dtype=np.int64)
    for word in range(bits.shape[1]):
        counts += np.bitwise_count(bits[:, word])
    return counts


def _number(term, *, date: bool = False) -> float:
    if term is None:
        return np.nan
    return _day(term.value) if date else _float(term.value)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan


def _day(text: str) -> float:
    """A date (or the date of a date-time) as its proleptic Gregorian ordinal."""
    try:
        return float(datetime.date.fromisoformat(text[:10]).toordinal())
    except ValueError:
        return np.nan


def _numbers(fields: Sequence[str], *, date: bool = False) -> np.ndarray:
    """A TSV answer's column as the numbers ``_number`` makes of the same terms (NaN where unbound)."""
    if date:  # few distinct days
        days: dict[str, float] = {}
        return np.array([days[f] if f in days else days.setdefault(f, _day(_term_value(f) or ""))
                         for f in fields], dtype=np.float64)
    try:
        # a literal's lexical form up to its first quote, or the field itself (Turtle's short form of a number);
        # exact wherever float() takes them all: an escape (a backslash), an IRI or a blank node never parses
        return np.array([float(f[1:f.index('"', 1)]) if f[:1] == '"' else float(f) if f else math.nan
                         for f in fields], dtype=np.float64)
    except ValueError:  # a term that is no number: term by term
        return np.array([_float(_term_value(f) or "") for f in fields], dtype=np.float64)


def tsv_values(fields: Sequence[str]) -> list[str | None]:
    """A TSV answer's column as the terms' values (``term.value``: IRIs without their brackets)."""
    return [f[1:-1] if f[:1] == "<" and "\\" not in f else _term_value(f) for f in fields]


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}


def _unescaped(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if m.group(3) is None
                       else _ECHAR.get(m.group(3), m.group(3)), text)


def _term_value(field: str) -> str | None:
    """The value of a term as a SPARQL TSV answer writes it (Turtle syntax): an IRI without its brackets, a
    literal's lexical form, a blank node's label; None for an empty field (unbound)."""
    if not field:
        return None
    if field[0] == "<":
        value = field[1:-1]
    elif field[0] in "\"'":
        quote = field[0]
        end = field.rindex(quote)
        value = field[3:end - 2] if field.startswith(quote * 3) else field[1:end]
    elif field.startswith("_:"):
        return field[2:]
    else:  # a number or boolean in Turtle's short form: its lexical form
        return field
    return _unescaped(value) if "\\" in value else value


class TsvPieces:
    """A SPARQL TSV answer written to it in pieces of any size, handed on to ``consume(columns, count)`` a piece of
    about ``SCAN_PIECE`` bytes of whole rows at a time, as its columns (the header's variables without their "?",
    each with its fields as written), so a whole catalogue's answer is never held at once. TSV rather than CSV: its
    terms say what they are, and tabs and line breaks inside values are escaped, so a row is a line and a field
    what lies between tabs (Oxigraph's CSV leaves an IRI holding a comma unquoted). A piece is split into fields at
    once and its columns sliced from them: no list per row, which kept Python's garbage collector walking millions
    of them (a third of the parsing time at 1,000,000 services). A file-like sink for pyoxigraph's ``serialize``;
    ``close`` hands on the rest. ``seconds``: the time spent parsing and consuming."""

    def __init__(self, consume: Callable[[dict[str, list[str]], int], None]):
        self.consume = consume
        self.buffer = bytearray()
        self.header: list[str] | None = None
        self.rows = 0
        self.seconds = 0.0

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= SCAN_PIECE:
            self._hand_on(self.buffer.rfind(b"\n") + 1)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._hand_on(len(self.buffer))
        if self.header is None:
            raise ValueError("the TSV answer had no header")

    def _hand_on(self, end: int) -> None:
        if end <= 0:
            return
        start = time.perf_counter()
        text = self.buffer[:end].decode("utf-8")
        del self.buffer[:end]
        lines = (text.replace("\r\n", "\n") if "\r" in text else text).split("\n")
        if lines[-1] == "":
            lines.pop()
        if self.header is None and lines:
            self.header = [name.removeprefix("?") for name in lines.pop(0).split("\t")]
        if lines:
            width = len(self.header)
            if set(map(_TABS, lines)) != {width - 1}:
                raise ValueError("a row of the TSV answer has not as many values as its header")
            fields = "\t".join(lines).split("\t")
            self.consume({name: fields[at::width] for at, name in enumerate(self.header)}, len(lines))
            self.rows += len(lines)
        self.seconds += time.perf_counter() - start


_TABS = operator.methodcaller("count", "\t")


class _ScannedServices:
    """The rows of ``index-scan-services.rq`` as they arrive: the numeric columns piece by piece as arrays, the IRIs
    as lists, the process and currency as codes; the first row of each service."""

    def __init__(self, processes: _Codes, currencies: _Codes):
        self.processes, self.currencies = processes, currencies
        self.row_of: dict[str, int] = {}
        self.numbers: dict[str, list[np.ndarray]] = {name: [] for name in NUMERIC}
        self.service: list[str] = []
        self.graph: list[str] = []
        self.provider: list[str] = []
        self.process: list[int] = []
        self.currency: list[int] = []

    def __call__(self, columns: dict[str, list[str]], count: int) -> None:
        services, row_of, first = tsv_values(columns["service"]), self.row_of, []
        for n, service in enumerate(services):
            if service not in row_of:
                row_of[service] = len(row_of)
                first.append(n)
        if len(first) < count:  # a service with several rows (several values where one is allowed)
            columns = {name: [column[n] for n in first] for name, column in columns.items()}
            services = [services[n] for n in first]
        for name in NUMERIC:
            if name in columns:
                self.numbers[name].append(_numbers(columns[name], date=name in _DATES))
        self.service.extend(services)
        self.graph.extend(tsv_values(columns["graph"]))
        self.provider.extend(tsv_values(columns["provider"]))
        for name, codes, into in (("process", self.processes, self.process),
                                  ("currency", self.currencies, self.currency)):
            seen: dict[str, int] = {}  # few distinct terms
            into.extend(seen[f] if f in seen else seen.setdefault(f, codes(_term_value(f))) for f in columns[name])


class _ScannedOptions:
    """The rows of ``index-scan-options.rq`` as they arrive, after the services' (``row_of``): its numeric columns
    by the services' rows (NaN where a service has no value or no row), the first row of each service."""

    def __init__(self, row_of: dict[str, int]):
        self.row_of = row_of
        self.numbers: dict[str, np.ndarray] = {}
        self.seen = np.zeros(0, dtype=bool)

    def __call__(self, columns: dict[str, list[str]], count: int) -> None:
        if not self.numbers:
            used = len(self.row_of)
            self.numbers = {name: np.full(used, np.nan) for name in NUMERIC if name in columns}
            self.seen = np.zeros(used, dtype=bool)
        at = np.fromiter(map(self.row_of.get, tsv_values(columns["service"]), itertools.repeat(-1)), dtype=np.int64,
                         count=count)
        # the first row of each service with a row: not seen in an earlier piece, nor earlier in this one
        found = np.flatnonzero(at >= 0)
        _, first = np.unique(at[found], return_index=True)
        taken = found[np.sort(first)]
        taken = taken[~self.seen[at[taken]]]
        self.seen[at[taken]] = True
        for name, column in self.numbers.items():
            column[at[taken]] = _numbers(columns[name], date=name in _DATES)[taken]


class _ScannedTerms:
    """The rows of ``index-scan-terms.rq`` as they arrive, after the services' (``row_of``): per kind, the row of
    each term's service (-1 for a service without one) and the term's code, piece by piece as arrays."""

    def __init__(self, row_of: dict[str, int], materials: _Codes, certifications: _Codes):
        self.row_of = row_of
        self.codes = {"material": materials, "certification": certifications}
        self.parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {kind: ([], []) for kind in self.codes}

    def __call__(self, columns: dict[str, list[str]], count: int) -> None:
        services, terms = tsv_values(columns["service"]), tsv_values(columns["term"])
        material = np.array([kind == '"material"' or (kind != '"certification"' and _term_value(kind) == "material")
                             for kind in columns["kind"]], dtype=bool)
        at = np.fromiter(map(self.row_of.get, services, itertools.repeat(-1)), dtype=np.int64, count=count)
        for kind, picked in (("material", material), ("certification", ~material)):
            chosen = list(itertools.compress(terms, picked))
            codes = self.codes[kind]
            found = {term: codes(term) for term in dict.fromkeys(chosen)}  # in order of first sight
            rows_of, codes_of = self.parts[kind]
            rows_of.append(at[picked])
            codes_of.append(np.fromiter(map(found.__getitem__, chosen), dtype=np.int64, count=len(chosen)))


def tsv_answer(store: Store, query: str, sink: TsvPieces) -> bool:
    """Write the store's answer to the SELECT ``query`` as TSV into ``sink``, as it comes: a remote store's own
    (``raw_query``, streamed), the embedded engine's serialised; False where the store gives none (it answers in
    another format, refuses the query, or the answer breaks off), which the caller takes as "read in batches"."""
    try:
        if getattr(store, "raw_answers", False):
            timeout = max(getattr(store, "timeout", 0.0) or 0.0, SCAN_TIMEOUT)
            with contextlib.closing(store.raw_query(query, _TSV, stream=True, timeout=timeout)) as response:
                media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if media != _TSV:
                    log.warning("the store answered the match index's scan in %s, not TSV: reading in batches",
                                media or "an unnamed format")
                    return False
                for piece in response.iter_content(chunk_size=1 << 20):
                    sink.write(piece)
        else:
            result = store.query(query)
            if not isinstance(result, ox.QuerySolutions):
                return False
            result.serialize(sink, format=ox.QueryResultsFormat.TSV)
        sink.close()
        return True
    except (StoreError, OSError, ValueError, KeyError) as err:  # requests' errors are OSErrors
        log.warning("the match index's scan failed (%s): reading in batches", err)
        return False


def _value(number) -> float | None:
    return None if np.isnan(number) else float(number)


def catalogue_change_count(store: Store) -> int:
    return change_state(store)[0]


def change_state(store: Store) -> tuple[int, str | None]:
    """The catalogue's change count and identity (None before its first change)."""
    rows = rules.select(store, "matching/change-count.rq")
    count = max((int(row["count"].value) for row in rows if row["count"] is not None), default=0)
    return count, min((row["catalogue"].value for row in rows if row["catalogue"] is not None), default=None)


def changes_since(store: Store, counts: range) -> tuple[set[str], bool]:
    """The services the change sets ``counts`` name, and whether one says the whole catalogue changed."""
    services: set[str] = set()
    whole = False
    numbers = list(counts)
    for start in range(0, len(numbers), BATCH):
        block = rules.values(["changeSet"], [[f"https://w3id.org/maas-kg/catalogue/change/{n}"]
                                             for n in numbers[start:start + BATCH]])
        for row in rules.select(store, "matching/changes-since.rq", CHANGES=block):
            if row["whole"] is not None:
                whole = True
            elif row["service"] is not None:
                services.add(row["service"].value)
    return services, whole
