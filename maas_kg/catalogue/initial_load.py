"""The initial load of a large catalogue: services validated and recorded exactly as ``catalogue.publish`` does,
written once with the store's bulk loader instead of one transaction per batch.

It is for a new catalogue (a migration from another system, a benchmark store): only services never published
before are accepted, and the bulk loader is not transactional, so an interrupted load is repaired by loading again
into a fresh store. Every input is prepared and checked before the store is touched: a conflict (a service already
in the catalogue, or given twice) refuses the whole load and writes nothing.
"""

from __future__ import annotations

import io
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from maas_kg import knowledge
from maas_kg.catalogue import publishing
from maas_kg.catalogue.private_data import private_properties
from maas_kg.catalogue.publishing import CatalogueError, PublishResult
from maas_kg.knowledge import taxonomy
from maas_kg.store import Changes, Store


def first_publications(data: bytes, format: str, withheld: frozenset[str], publisher: str | None = None
                       ) -> tuple[list[PublishResult], bytes]:
    """Validate the services of ``data`` and return their results and, as N-Quads, what publishing the valid ones
    for the first time writes: service graphs with provenance, catalogue records with the listing index, history.
    Provider-private values (``withheld`` properties) are left out."""
    closures, verdicts, providers = publishing.read_services(data, format)
    valid = [s for s in closures if not verdicts[s]]
    results: list[PublishResult] = []
    changes, _ = publishing.batch_changes(valid, {}, closures, providers, publisher, withheld, results)
    results += [PublishResult(s, False, violations=verdicts[s]) for s in closures if verdicts[s]]
    quads = (ox.Quad(s, p, o, ox.NamedNode(graph)) for graphs in (changes.replaced, changes.inserted)
             for graph, triples in graphs.items() for s, p, o in triples)
    output = io.BytesIO()
    ox.serialize(quads, output, format=ox.RdfFormat.N_QUADS)
    return results, output.getvalue()


def _prepare(job: tuple[bytes, str, frozenset[str], str | None, str]) -> list[PublishResult]:
    data, format, withheld, publisher, part = job
    results, quads = first_publications(data, format, withheld, publisher)
    Path(part).write_bytes(quads)
    return results


def initial_load(store: Store, inputs: Iterable[bytes], format: str, *, publisher: str | None = None,
                 workers: int = 1, progress: Callable[[list[PublishResult]], None] | None = None,
                 scratch: str | Path | None = None) -> list[PublishResult]:
    """Publish every valid service of ``inputs`` (documents in ``format``) into ``store`` by one bulk load.

    ``workers`` processes prepare the inputs in parallel; ``progress(results)`` is called as each input is
    prepared; the prepared N-Quads wait in a temporary folder under ``scratch`` (default: the system's temporary folder).
    Raises ``CatalogueError`` before writing anything if a service is already in the catalogue or repeated."""
    withheld = private_properties(store)
    taxonomy.follow(store)  # the workers validate against the same taxonomy, extensions included
    results: list[PublishResult] = []
    with tempfile.TemporaryDirectory(prefix="maas-kg-load-", dir=scratch) as folder:
        jobs = ((data, format, withheld, publisher, str(Path(folder) / f"part-{i:06d}.nq"))
                for i, data in enumerate(inputs))
        for prepared in _in_order(jobs, workers):
            results += prepared
            if progress:
                progress(prepared)
        _refuse_conflicts(store, [r.service for r in results if r.published])
        for part in sorted(Path(folder).glob("part-*.nq")):
            store.bulk_load(part, "nquads")
    changes = Changes()
    changes.update(publishing.change_record(whole=True))  # match indexes read the loaded catalogue again
    store.commit(changes)
    store.flush()
    return results


def _refuse_conflicts(store: Store, services: list[str]) -> None:
    repeated = {s for s, times in Counter(services).items() if times > 1}
    published = set()
    for start in range(0, len(services), 2000):
        published |= set(publishing.current_versions(store, services[start:start + 2000]))
    for problem, found in (("given more than once", repeated), ("already in the catalogue", published)):
        if found:
            names = ", ".join(sorted(found)[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
            raise CatalogueError(f"initial load refused, nothing was written: {len(found)} service(s) {problem} "
                                 f"({names}); an initial load only takes new services, use publish to replace them")


def _use_extensions(key: tuple, triples: tuple) -> None:
    """In a worker process: the parent's taxonomy extensions are in force."""
    knowledge.use_extensions(key, lambda: triples)


def _in_order(jobs: Iterator[tuple], workers: int) -> Iterator[list[PublishResult]]:
    """``_prepare`` over ``jobs``, in order, with at most two jobs per worker in flight (inputs of a large load
    are read as they are needed, not all at once)."""
    if workers <= 1:
        yield from map(_prepare, jobs)
        return
    key, triples = knowledge.extensions_in_force()
    with ProcessPoolExecutor(workers, initializer=_use_extensions, initargs=(key, triples)) as pool:
        pending: deque = deque()
        for job in jobs:
            pending.append(pool.submit(_prepare, job))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


__all__ = ["first_publications", "initial_load"]
