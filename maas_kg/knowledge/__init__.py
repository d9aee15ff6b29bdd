"""The knowledge: the ontology, shapes and queries folders, and everything that reads them.

Owns: where the folders are and loading them, the namespaces, and the ontology in force per thread (this module);
the ontology modules kept in the store (``graphs``), the SPARQL rule files and their binding (``rules``), term lookup
(``vocabulary``), OWL reasoning with HermiT (``reasoning``), taxonomy extensions (``extensions``), SHACL validation
(``validation``) and following the store's extensions (``taxonomy``).

May import: ``maas_kg.store`` and the leaf modules (errors, settings, media_types, rdf, geo); never the catalogue,
matching or anything above them.

The folders sit at the top of the repository so that ontology editors find them; the wheel maps them into the
package as ``maas_kg.ontology``, ``maas_kg.shapes`` and ``maas_kg.queries``. Both layouts resolve here.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import rdflib

from maas_kg import settings

MAAS = rdflib.Namespace("https://w3id.org/maas-kg/ns#")
PROC = rdflib.Namespace("https://w3id.org/maas-kg/process#")
MAT = rdflib.Namespace("https://w3id.org/maas-kg/material#")
SHAPES_NS = rdflib.Namespace("https://w3id.org/maas-kg/shapes#")
ONTOLOGY_BASE = "https://w3id.org/maas-kg/ontology/"

#: Shapes files that check published data; the taxonomy QA shapes are kept apart (they use SHACL-SPARQL).
DATA_SHAPES = ("common.ttl", "code-lists.ttl", "service.ttl", "product.ttl")
TAXONOMY_QA_SHAPES = "taxonomy-qa.ttl"


def _folder(name: str) -> Path:
    """Return the folder ``name`` (ontology, shapes or queries) of an installed package or a source checkout."""
    package = Path(__file__).resolve().parent.parent  # maas_kg/
    for candidate in (package / name, package.parent / name):  # installed wheel, then source checkout
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the MaaS-KG {name} folder is missing from this installation")


def ontology_dir() -> Path:
    """The ontology modules: ``MAAS_KG_ONTOLOGY_DIR`` where set (an editor's working copy), else the shipped ones."""
    chosen = settings.ONTOLOGY_DIR.value()
    return Path(chosen) if chosen else _folder("ontology")


def shapes_dir() -> Path:
    return _folder("shapes")


def queries_dir() -> Path:
    return _folder("queries")


def examples_dir() -> Path:
    """The shipped examples: products, value chains, disruption events."""
    return _folder("examples")


def example_products() -> dict[str, Path]:
    """The example products of ``examples/products/`` (plain JSON), by file stem; the web page offers them."""
    return {path.stem: path for path in sorted((_folder("examples") / "products").glob("*.json"))}


def ontology_modules(directory: Path | None = None) -> dict[str, Path]:
    """Map each ontology module name (the file stem, e.g. ``core``) to its Turtle file."""
    directory = directory or ontology_dir()
    return {path.stem: path for path in sorted(directory.glob("*.ttl"))}


_DIGESTS: dict[Path, tuple[int, int, str]] = {}


def file_digest(path: Path) -> str:
    """The SHA-256 of a knowledge file, read again only when its size or modification time changed, or when it was
    modified less than two seconds ago (a write within the clock's granularity keeps the time: git's "racy"
    rule). The workspace checks every module, derive and migrate rule before each match: 1.3 ms -> 0.9 ms."""
    status = path.stat()
    found = _DIGESTS.get(path)
    if found is not None and found[:2] == (status.st_mtime_ns, status.st_size):
        return found[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if time.time_ns() - status.st_mtime_ns > 2_000_000_000:
        _DIGESTS[path] = (status.st_mtime_ns, status.st_size, digest)
    return digest


def module_graph_iri(module: str) -> rdflib.URIRef:
    """The named graph a module is loaded into: its ontology IRI."""
    return rdflib.URIRef(ONTOLOGY_BASE + module)


def load_ontology(directory: Path | None = None) -> rdflib.Graph:
    """Parse every module into one graph (imports are resolved by reading all files of the folder)."""
    graph = rdflib.Graph()
    for path in ontology_modules(directory).values():
        graph.parse(path, format="turtle")
    return graph


@functools.cache
def shipped_ontology() -> rdflib.Graph:
    """The ontology modules as shipped (or in ``MAAS_KG_ONTOLOGY_DIR``), parsed once per process."""
    return load_ontology()


# The ontology in force is the shipped modules plus the taxonomy extensions of the store a thread works with
# (``maas_kg.knowledge.taxonomy.follow`` sets them per thread): term lookup, validation and the JSON field names then know the
# classes an administrator added, in every worker, without a restart. Extensions are known by their content hashes.
_in_force = threading.local()
_extension_triples: dict[tuple, tuple] = {}
_extension_lock = threading.Lock()  # a worker's threads may register versions at once


def use_extensions(key: tuple, triples: Callable[[], list]) -> None:
    """Make the extensions ``key`` (their (graph, hash) pairs) the ones in force for this thread; ``triples`` gives
    their rdflib triples, asked for only the first time ``key`` is seen."""
    if key and key not in _extension_triples:
        found = tuple(triples())  # read outside the lock: it may ask the store
        with _extension_lock:
            if len(_extension_triples) >= 16:  # versions seen by a long-running process: keep the newest
                _extension_triples.pop(next(iter(_extension_triples)))
            _extension_triples[key] = found
    _in_force.key = key


def carry_extensions(key: tuple) -> None:
    """Put the extensions ``key`` (from :func:`ontology_key` of another thread of this process, which registered
    them) in force for this thread: a pool thread working for a request thread."""
    _in_force.key = key


def extensions_in_force() -> tuple[tuple, tuple]:
    """The key and triples of the extensions in force for this thread (to hand to worker processes)."""
    key = ontology_key()
    return key, _extension_triples.get(key, ())


def ontology_key() -> tuple:
    """The extensions in force for this thread (empty: the shipped ontology alone)."""
    return getattr(_in_force, "key", ())


def ontology_graph() -> rdflib.Graph:
    """The ontology in force for this thread (see ``use_extensions``). Callers must not modify it."""
    return _merged(ontology_key())


@functools.lru_cache(maxsize=8)
def _merged(key: tuple) -> rdflib.Graph:
    if not key:
        return shipped_ontology()
    graph = rdflib.Graph()
    for triple in shipped_ontology():
        graph.add(triple)
    for triple in _extension_triples.get(key, ()):
        graph.add(triple)
    return graph


def per_ontology(function):
    """Cache ``function()`` (no arguments) per ontology in force: what is derived from the taxonomy is derived again
    when an extension changes it, and once only otherwise."""
    cached = functools.lru_cache(maxsize=8)(lambda key: function())

    @functools.wraps(function)
    def wrapper():
        return cached(ontology_key())
    wrapper.cache_clear = cached.cache_clear
    return wrapper


@per_ontology
def _parameters() -> dict[str, float]:
    graph = ontology_graph()
    found = {}
    for node in graph.subjects(rdflib.RDF.type, MAAS.ModelParameter):
        name, value = graph.value(node, rdflib.namespace.SKOS.notation), graph.value(node, MAAS.parameterValue)
        if name is not None and value is not None:
            found[str(name)] = float(value)
    return found


def parameter(name: str) -> float:
    """The value of the model parameter the ontology declares under ``name`` (a ``maas:ModelParameter`` by its
    skos:notation), in the ontology in force."""
    found = _parameters()
    if name not in found:
        from maas_kg.errors import Misconfigured

        raise Misconfigured(f"the ontology declares no model parameter {name!r} (a maas:ModelParameter with that "
                            "skos:notation and a maas:parameterValue)")
    return found[name]


def load_shapes(names: tuple[str, ...] = DATA_SHAPES) -> rdflib.Graph:
    """A fresh shapes graph (pyshacl must not share one shapes graph object across concurrent validations)."""
    graph = rdflib.Graph()
    for name in names:
        graph.parse(shapes_dir() / name, format="turtle")
    return graph


@functools.cache
def ontology_version() -> str:
    """The ``owl:versionInfo`` of the top-level ontology (``maas.ttl``)."""
    import re

    found = re.search(r'owl:versionInfo\s+"([^"]+)"', (ontology_dir() / "maas.ttl").read_text(encoding="utf-8"))
    return found.group(1) if found else "unknown"
