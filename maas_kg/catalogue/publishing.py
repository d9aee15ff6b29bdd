"""Publishing into the service catalogue: validate, publish (atomically, in batches), withdraw, reconcile.

Graph layout (see the README): each published service, with its provider, sites, price and resources, lives in its
own named graph ``graph/service/<hash>`` that also states its provenance (PROV-O: generated at, version, publisher).
The DCAT catalogue graph holds one record per service (status, version, graph); the history graph holds one PROV
activity per publication and withdrawal; a withdrawn service's last version is copied to an archive graph.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import io
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from maas_kg import settings
from maas_kg.catalogue.ingest import NormalisedInput, parse, read_input
from maas_kg.catalogue.private_data import PrivateStore, private_properties, split_private
from maas_kg.catalogue.shacl_sparql import validate_instances, with_validation_ontology
from maas_kg.errors import Unprocessable
from maas_kg.knowledge import MAAS, rules, taxonomy
from maas_kg.knowledge.validation import ValidationReport, Violation, validate_data
from maas_kg.store import Changes, Store, StoreError, Triple

GRAPH_BASE = "https://w3id.org/maas-kg/graph/"
CATALOGUE_GRAPH = GRAPH_BASE + "catalogue"
HISTORY_GRAPH = GRAPH_BASE + "history"
SERVICE_GRAPH_BASE = GRAPH_BASE + "service/"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"

_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SERVICE = ox.NamedNode(str(MAAS.ManufacturingService))


NO_SERVICE = ("the input describes no service: give each service the type maas:ManufacturingService "
              "(the plain JSON format does this for you)")


class CatalogueError(Unprocessable):
    """A catalogue operation that cannot be done as asked (unknown service, nothing to publish, ...)."""


class UnknownService(CatalogueError):
    """The service has no catalogue record."""


class ServiceConflict(CatalogueError):
    """The service's state changed under the request (withdrawn already by a concurrent request, ...)."""


@dataclass
class PublishResult:
    service: str
    published: bool
    version: int | None = None
    graph: str | None = None
    violations: list[Violation] = field(default_factory=list)
    #: provider-private values kept out of the catalogue (in the private store, when one was given)
    private_values: int = 0


def service_graph(service: str) -> str:
    """The named graph of a service: a stable hash of its IRI, so any IRI a provider chooses is safe."""
    return SERVICE_GRAPH_BASE + hashlib.sha1(service.encode("utf-8")).hexdigest()[:24]


_PUBLISHING = threading.Lock()  # see critical_section


def _query(name: str) -> str:
    return rules.rule_text("catalogue/" + name)


def _now() -> ox.Literal:
    stamp = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return ox.Literal(stamp, datatype=ox.NamedNode(XSD + "dateTime"))


# -- finding the services of an input and what belongs to each --------------------------------------------------

def _closures(triples: list[ox.Triple]) -> dict[str, list[ox.Triple]]:
    """For each service in the input: the triples about it and about every node it reaches (provider, sites,
    price, resources, capabilities), not crossing into other services."""
    by_subject: dict[object, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    services = [t.subject for t in triples if t.predicate == _TYPE and t.object == _SERVICE
                and isinstance(t.subject, ox.NamedNode)]
    result = {}
    for service in dict.fromkeys(services):
        seen, stack, closure = {service}, [service], []
        while stack:
            node = stack.pop()
            for t in by_subject.get(node, ()):
                closure.append(t)
                target = t.object
                if not isinstance(target, ox.Literal) and target not in seen and target in by_subject \
                        and target not in services:
                    seen.add(target)
                    stack.append(target)
        result[service.value] = closure
    return result


def _assign(violations: Iterable[Violation], closures: dict[str, list[ox.Triple]]) -> dict[str, list[Violation]]:
    """Give each violation to every service whose closure contains its focus node."""
    members: dict[str, set[str]] = {}
    for service, closure in closures.items():
        for t in closure:
            node = t.subject
            members.setdefault(f"_:{node.value}" if isinstance(node, ox.BlankNode) else node.value,
                               set()).add(service)
    assigned: dict[str, list[Violation]] = {s: [] for s in closures}
    for v in violations:
        for service in members.get(v.focus, ()):
            assigned[service].append(v)
    return assigned


# -- validation ---------------------------------------------------------------------------------------------------

def _without_repeats(violations: list[Violation], problems: list[Violation]) -> list[Violation]:
    """Drop shape violations on a field whose name already failed to resolve: the resolution problem says more."""
    unresolved = {(p.focus, p.path) for p in problems}
    return [v for v in violations if (v.focus, v.path) not in unresolved]


def validate_services(normalised: NormalisedInput) -> dict[str, list[Violation]]:
    """Validate every service of an input; violations per service."""
    return _verdicts(normalised, _closures(normalised.triples))


def _verdicts(normalised: NormalisedInput, closures: dict[str, list[ox.Triple]]) -> dict[str, list[Violation]]:
    if not closures:
        raise CatalogueError(NO_SERVICE)
    result = _assign(normalised.problems, closures)
    # one validation of the whole input, in the store the normalisation rules ran in (compiled shapes are fast
    # enough that batching no longer pays; batches bound the size of each transaction)
    violations = validate_instances(normalised.triples, store=normalised.store)
    for service, found in _assign(_without_repeats(violations, normalised.problems), closures).items():
        result[service].extend(found)
    for service, found in _assign_to_all(out_of_scope(normalised.store), closures).items():
        result[service].extend(found)
    return result


def out_of_scope(store: ox.Store) -> list[Violation]:
    """The statements of an input (the default graph of its normalisation store) that no service description may
    make: about other subjects than its services, providers and what belongs to them, about the ontology's terms,
    schema statements, and types the ontology does not let providers state (``out-of-scope.rq``)."""
    vocabulary = with_validation_ontology(store)
    rows = store.query(_query("out-of-scope.rq"), default_graph=[ox.DefaultGraph()], named_graphs=[vocabulary])
    return [Violation(focus=_node_text(row["s"]), path=row["p"].value, value=_node_text(row["o"]),
                      message=f"{row['reason'].value}; refused: {row['s']} {row['p']} {row['o']}",
                      component="description scope") for row in rows]


def _node_text(term) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value


def _assign_to_all(violations: list[Violation], closures: dict[str, list[ox.Triple]]) -> dict[str, list[Violation]]:
    """Like ``_assign``, but a violation about a statement that belongs to no service refuses every service of the
    input: the document says something that publishing would otherwise drop without a word."""
    assigned = _assign(violations, closures)
    placed = {id(v) for found in assigned.values() for v in found}
    stray = [v for v in violations if id(v) not in placed]
    return {service: found + stray for service, found in assigned.items()}


def read_services(data: bytes, format: str, *, max_triples: int | None = None, extra: tuple[ox.Triple, ...] = ()
                  ) -> tuple[dict[str, list[ox.Triple]], dict[str, list[Violation]], dict[str, str | None]]:
    """Parse, normalise and validate the services of an input: (triples of each service, its violations, its
    provider). A service of more than ``max_triples`` triples (default: the setting ``MAAS_KG_MAX_SERVICE_TRIPLES``) is refused before
    validation; an input with more triples than that per service is refused before normalisation. ``extra`` triples
    are read with the input (``provider_completion``)."""
    # a rich description has under 100 triples; 800,000 took 45 s to publish and a minute to read back
    cap = max_triples or settings.MAX_SERVICE_TRIPLES.value()
    _refuse_oversized_input(data, format, cap)
    normalised = read_input(data, format, kind="service", extra=extra)
    closures = _closures(normalised.triples)
    oversized = {s: c for s, c in closures.items() if len(c) > cap}
    if oversized and len(oversized) == len(closures):
        verdicts = {}
    else:
        verdicts = _verdicts(_without_services(normalised, closures, oversized),
                             {s: c for s, c in closures.items() if s not in oversized})
    for service, closure in oversized.items():
        verdicts[service] = [Violation(
            focus=service, path=None, value=str(len(closure)), component="size cap",
            message=f"the service has {len(closure)} triples (with its provider, sites and price), more than the "
                    f"{cap} a service may have: describe it more briefly")]
    return closures, verdicts, {service: _provider_of(closure, service) for service, closure in closures.items()}


def _refuse_oversized_input(data: bytes, format: str, cap: int) -> None:
    """Count the input's statements and services with the parser alone, before the normalisation rules run
    (measured: 800,000 triples parse in 0.7 s and normalise in 10 s)."""
    triples = parse(data, format, kind="service")
    services = sum(1 for t in triples if t.predicate == _TYPE and t.object == _SERVICE)
    if len(triples) > cap * max(services, 1):
        raise CatalogueError(f"the input has {len(triples)} triples for {services} service(s), more than the "
                             f"{cap} triples a service may have: split it or describe the services more briefly")


def _without_services(normalised: NormalisedInput, closures: dict[str, list[ox.Triple]],
                      dropped: dict[str, list[ox.Triple]]) -> NormalisedInput:
    """The input without the triples only the ``dropped`` services have (the normalisation store changed in place)."""
    if not dropped:
        return normalised
    kept = {t for s, c in closures.items() if s not in dropped for t in c}
    gone = {t for c in dropped.values() for t in c} - kept
    for t in gone:
        normalised.store.remove(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()))
    return NormalisedInput([t for t in normalised.triples if t not in gone], normalised.problems, normalised.store)


def validate_document(data: bytes, format: str, *, kind: str = "service", store: Store | None = None) -> ValidationReport:
    """Validate a whole document (services or products) and return one report."""
    if store is not None:
        taxonomy.follow(store)
    normalised = read_input(data, format, kind=kind)
    report = validate_data(normalised.to_rdflib(), owned=True)
    violations = sorted(normalised.problems + _without_repeats(report.violations, normalised.problems),
                        key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))
    return ValidationReport(conforms=not violations, violations=violations, graph=report.graph)


def check_document(data: bytes, format: str, *, kind: str = "service", store: Store | None = None) -> ValidationReport:
    """Validate a document the way publishing does (the data shapes compiled to SPARQL): the quick check behind
    the live report of the publish page."""
    if store is not None:
        taxonomy.follow(store)
    normalised = read_input(data, format, kind=kind)
    found = _without_repeats(validate_instances(normalised.triples, store=normalised.store), normalised.problems)
    if kind == "service":
        found += out_of_scope(normalised.store)
    violations = sorted(normalised.problems + found, key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))
    return ValidationReport(conforms=not violations, violations=violations)


# -- publishing ---------------------------------------------------------------------------------------------------

def records(store: Store, services: list[str]) -> dict[str, dict]:
    """The catalogue record of each of ``services`` that has one, published or withdrawn:
    {service: {"version": int, "withdrawn": bool, "owner": str | None}} (``queries/catalogue/records.rq``)."""
    if not services:
        return {}
    rows = rules.select(store, "catalogue/records.rq", SERVICES=rules.values(["service"], [[s] for s in services]))
    return {row["service"].value: {"version": int(row["version"].value),
                                   "withdrawn": row["status"].value == str(MAAS.Withdrawn),
                                   "owner": row["owner"].value if row["owner"] is not None else None}
            for row in rows}


def current_versions(store: Store, services: list[str]) -> dict[str, int]:
    """The current version of each of ``services`` that has a record, withdrawn ones included."""
    return {service: record["version"] for service, record in records(store, services).items()}


def _provenance(graph: str, version: int, now: ox.Literal, publisher: str) -> list[ox.Triple]:
    g = ox.NamedNode(graph)
    return [
        ox.Triple(g, _TYPE, ox.NamedNode(PROV + "Entity")),
        ox.Triple(g, ox.NamedNode(PROV + "generatedAtTime"), now),
        ox.Triple(g, ox.NamedNode(str(MAAS.version)), ox.Literal(str(version), datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(g, ox.NamedNode(PROV + "wasAttributedTo"), ox.NamedNode(publisher)),
    ]


def _provider_of(closure: list[ox.Triple], service: str) -> str | None:
    for t in closure:
        if t.subject.value == service and t.predicate.value == str(MAAS.providedBy):
            return t.object.value
    return None


def publish(store: Store, data: bytes, format: str, *, publisher: str | None = None, batch_size: int = 500,
            progress: Callable[[int, int], None] | None = None,
            may_publish: Callable[[str, str | None], bool | str] | None = None,
            atomic: bool = False, private: PrivateStore | None = None,
            max_triples: int | None = None, complete: Callable[[str], bool] | None = None,
            refuse_identical: bool = True) -> list[PublishResult]:
    """Validate the services in ``data`` and publish each valid one; invalid ones write nothing.

    The whole input is validated at once (the data shapes compiled to SPARQL); valid services are written
    ``batch_size`` at a time, each batch in one transaction, so a service is either fully there or absent. ``publisher`` is the agent recorded
    in the provenance (default: the service's provider). ``may_publish(service, provider)`` lets the HTTP layer
    refuse services of other providers. ``progress(done, total)`` is called after each batch. With ``atomic`` the
    input is all-or-nothing: one invalid or refused service and nothing is written.

    Values of provider-private properties (``maas:visibility maas:ProviderPrivate``) never enter ``store``: they go
    to ``private`` after their batch is committed, or are dropped when no private store is given.

    A provider the input names by its IRI alone is completed from its published description for the providers
    ``complete(provider)`` accepts (``provider_completion``). With ``refuse_identical`` a new service sent without an IRI
    (minted) whose content is that of a published service of the same provider is refused (component ``identical
    service``, the published service as the violation's value): publishing twice creates no duplicate.
    """
    taxonomy.follow(store)  # the store's taxonomy extensions name processes and materials too
    extra = provider_completion(store, data, format, complete) if complete is not None else ()
    closures, verdicts, providers = read_services(data, format, max_triples=max_triples, extra=extra)
    results: list[PublishResult] = []
    names = list(closures)
    withheld = private_properties(store)
    # the checks of may_publish (owners, versions) and the writes they allow are one critical section: an atomic
    # input holds it throughout, a batched one for each batch
    with critical_section(private) if atomic else contextlib.nullcontext():
        if atomic:
            _refuse_others(verdicts, providers, may_publish)
            if refuse_identical:
                _refuse_identical(store, verdicts, closures, providers, withheld)
            if any(verdicts.values()):
                return [PublishResult(s, False, violations=verdicts[s]) for s in names]
        for start in range(0, len(names), batch_size):
            batch = {name: closures[name] for name in names[start:start + batch_size]}
            with contextlib.nullcontext() if atomic else critical_section(private):
                if not atomic:
                    _refuse_others({s: verdicts[s] for s in batch}, providers, may_publish)
                    if refuse_identical:
                        _refuse_identical(store, {s: verdicts[s] for s in batch}, closures, providers, withheld)
                valid = [s for s in batch if not verdicts[s]]
                _publish_batch(store, valid, closures, providers, publisher, withheld, private, results)
            results += [PublishResult(s, False, violations=verdicts[s]) for s in batch if verdicts[s]]
            if progress:
                progress(len(batch), len(names))
    return results


@contextlib.contextmanager
def critical_section(private: PrivateStore | None = None):
    """Hold the publishing lock: reading the current versions and owners and writing the next ones happen in it.
    Threads of one process take turns on a thread lock; processes (server workers, the command line) on an
    exclusive ``flock`` of ``catalogue.lock`` beside the private values, which every process that publishes into
    the same catalogue opens (a thread lock alone let two workers both write version 10, issue 15 item 8)."""
    with _PUBLISHING:
        path = private.lock_path if private is not None else None
        if path is None:
            yield
            return
        with open(path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _publish_batch(store: Store, valid: list[str], closures: dict[str, list[ox.Triple]],
                   providers: dict[str, str | None], publisher: str | None, withheld, private: PrivateStore | None,
                   results: list[PublishResult]) -> None:
    """Write one batch of valid services in one transaction, with their catalogue records and history."""
    changes, private_rows = batch_changes(valid, current_versions(store, valid), closures, providers, publisher,
                                          withheld, results)
    if changes:
        changes.update(change_record(valid))
        # private rows first, keyed by version: a crash before the commit leaves rows of a version nobody reads
        # (readers ask for the published version); one after it leaves earlier versions' rows, dropped next time
        if private is not None:
            private.stage(private_rows)
        store.commit(changes)
        if private is not None:
            private.settle([(service, version) for service, _, version, _ in private_rows])


def batch_changes(valid: list[str], versions: dict[str, int], closures: dict[str, list[ox.Triple]],
                  providers: dict[str, str | None], publisher: str | None, withheld,
                  results: list[PublishResult]) -> tuple[Changes, list]:
    """The writes that publish ``valid`` services whose current ``versions`` are known (absent: never published),
    and the provider-private rows that go to the private store once they are committed."""
    now, changes, rows, first_rows, private_rows = _now(), Changes(), [], [], []
    for service in valid:
        graph, version = service_graph(service), versions.get(service, 0) + 1
        agent = publisher or providers[service] or service
        public, private_triples = split_private(closures[service], withheld)
        triples = [(t.subject, t.predicate, t.object) for t in public]
        triples += [(t.subject, t.predicate, t.object) for t in _provenance(graph, version, now, agent)]
        row = [service, graph, version, now, agent, providers[service]]
        changes.replace_graph(graph, triples)
        # a new version updates the record; a service never published before has none, so its record is
        # only inserted
        (rows if service in versions else first_rows).append(row)
        private_rows.append((service, providers[service], version, private_triples))
        results.append(PublishResult(service, True, version, graph, private_values=len(private_triples)))
    if rows:
        changes.update(_publication_rule(rows))
    if first_rows:
        new_graphs = {g: changes.replaced[g] for g in (service_graph(s) for s in valid if s not in versions)}
        for graph, triples in _first_records(first_rows, new_graphs).items():
            changes.insert(graph, triples)
    return changes, private_rows


def change_record(services: Iterable[str] = (), *, whole: bool = False) -> str:
    """``record-change.ru``: the catalogue's change count goes up by one, its change set names ``services`` (or,
    ``whole``, says that any service may have changed). Every write that changes services carries it, in the same
    transaction; match indexes follow it."""
    rows = [[service, None] for service in services] + ([[None, True]] if whole else [])
    if not rows:
        raise ValueError("a change record names services or the whole catalogue")
    return rules.bind(_query("record-change.ru"), ROWS=rules.values(["service", "whole"], rows))


def _publication_rule(rows: list[list]) -> str:
    """``record-publication.ru`` for (service, graph, version, now, publisher, owner) rows."""
    return rules.bind(_query("record-publication.ru"), ROWS=rules.values(
        ["service", "graph", "version", "now", "publisher", "owner"], rows))


def _first_records(rows: list[list], graphs: dict[str, list[Triple]]) -> dict[str, list[Triple]]:
    """The catalogue records and history events of services published for the first time, made by the same rule
    as every record (``record-publication.ru``) run in a scratch store that holds only their ``graphs``: there is
    no earlier record to replace, so the triples go into the store with the service graphs as plain insertions,
    and the rule does not look records up in a large catalogue."""
    scratch = ox.Store()
    scratch.extend(ox.Quad(s, p, o, ox.NamedNode(graph)) for graph, triples in graphs.items() for s, p, o in triples)
    try:
        scratch.update(_publication_rule(rows))
    except SyntaxError as err:
        raise StoreError(f"the rule queries/catalogue/record-publication.ru does not parse: {err}") from None
    made: dict[str, list[Triple]] = {}
    for quad in scratch:
        if quad.graph_name.value in graphs:
            continue
        made.setdefault(quad.graph_name.value, []).append((quad.subject, quad.predicate, quad.object))
    return made


def _refuse_others(verdicts: dict[str, list[Violation]], providers: dict[str, str | None],
                   may_publish: Callable[[str, str | None], bool | str] | None) -> None:
    """Ask ``may_publish(service, provider)`` about every valid service: True lets it through, False or a text (the
    reason, for the client) refuses it."""
    if may_publish is None:
        return
    for service, found in verdicts.items():
        if found:
            continue
        verdict = may_publish(service, providers[service])
        if verdict is not True:
            found.append(Violation(focus=service, path=str(MAAS.providedBy), value=providers[service],
                                   component="access control",
                                   message=verdict or "you may only publish services of your own organisation"))


IDENTICAL = "identical service"  # the component of the violation that refuses a service published already
#: the IRIs ``queries/normalise/50-mint.ru`` gives services sent without one (``STRUUID()``)
MINTED_SERVICE = re.compile(r"https://w3id\.org/maas-kg/id/service/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _refuse_identical(store: Store, verdicts: dict[str, list[Violation]], closures: dict[str, list[ox.Triple]],
                      providers: dict[str, str | None], withheld) -> None:
    """Refuse every valid new service with a minted IRI whose public content equals that of a published service of
    its provider (``provider-services.rq``, compared by ``content_fingerprint``). Only minted IRIs: sending a document
    without ``id`` again (the publish form twice, a script run twice) is what made duplicates; a document naming a
    new IRI of its own states a new service on purpose, and one naming a published IRI replaces it."""
    fresh = [s for s, found in verdicts.items() if not found and providers.get(s) and MINTED_SERVICE.fullmatch(s)]
    known = records(store, fresh)
    fresh = [s for s in fresh if s not in known]
    if not fresh:
        return
    published = published_fingerprints(store, sorted({providers[s] for s in fresh}))
    for service in fresh:
        public, _ = split_private(closures[service], withheld)
        existing = published.get((providers[service], content_fingerprint(service, public)))
        if existing is not None:
            verdicts[service].append(Violation(
                focus=service, path=None, value=existing, component=IDENTICAL,
                message=f"an identical service of {providers[service]} is published already as {existing}: change "
                        "that one (edit it, or PUT it) instead of publishing it a second time; nothing was written"))


def published_fingerprints(store: Store, providers: list[str]) -> dict[tuple[str, str], str]:
    """(provider, content fingerprint) -> the published service with that content, for ``providers``' services."""
    if not providers:
        return {}
    rows = rules.select(store, "catalogue/provider-services.rq", PROVIDERS=rules.values(["provider"], [[p] for p in providers]))
    graphs: dict[tuple[str, str], list[ox.Triple]] = {}
    for row in rows:
        graphs.setdefault((row["provider"].value, row["service"].value), []).append(
            ox.Triple(row["s"], row["p"], row["o"]))
    return {(provider, content_fingerprint(service, triples)): service
            for (provider, service), triples in sorted(graphs.items())}


def content_fingerprint(service: str, triples: Iterable[ox.Triple]) -> str:
    """A hash of a service's statements that does not depend on the service's IRI (it and the IRIs under it are
    written relative to it) nor on blank node labels (each blank node is named by what it says and what says it,
    refined three times): two publications of the same content under two IRIs have the same fingerprint."""
    def iri(node: ox.NamedNode) -> str:
        value = node.value
        if value == service or value.startswith((service + "/", service + "#")):
            return "<@" + value[len(service):] + ">"
        return str(node)

    triples = [t for t in triples if not t.subject.value.startswith(SERVICE_GRAPH_BASE)]  # provenance
    blanks = {n for t in triples for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)}
    names = {b: "_" for b in blanks}

    def term(node) -> str:
        if isinstance(node, ox.BlankNode):
            return "_:" + names[node]
        return iri(node) if isinstance(node, ox.NamedNode) else str(node)

    for _ in range(3):
        signatures: dict[ox.BlankNode, list[str]] = {b: [] for b in blanks}
        for t in triples:
            if t.subject in signatures:
                signatures[t.subject].append(f"> {t.predicate} {term(t.object)}")
            if t.object in signatures:
                signatures[t.object].append(f"< {t.predicate} {term(t.subject)}")
        names = {b: hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()[:20]
                 for b, lines in signatures.items()}
    lines = sorted({f"{term(t.subject)} {t.predicate} {term(t.object)}" for t in triples})
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def provider_descriptions(store: Store, providers: list[str]) -> dict[str, list[ox.Triple]]:
    """The published description of each of ``providers`` that has a published service: the statements about it
    and its sites in its latest service graph (``provider-description.rq``)."""
    if not providers:
        return {}
    rows = rules.select(store, "catalogue/provider-description.rq",
                        PROVIDERS=rules.values(["provider"], [[p] for p in providers]))
    found: dict[str, list[ox.Triple]] = {}
    for row in rows:
        found.setdefault(row["provider"].value, []).append(ox.Triple(row["s"], row["p"], row["o"]))
    return found


def provider_completion(store: Store, data: bytes, format: str, complete: Callable[[str], bool]) -> tuple[ox.Triple, ...]:
    """What a document leaves out of a provider it names by IRI, from that provider's published description, for the
    providers ``complete(provider)`` accepts (the caller's key may change them): every property of the provider the
    document does not give, and the published sites when it gives none. So a file naming only ``{"id": ...}`` as its
    provider need not repeat its name and location; a provider nobody published yet must be described in full."""
    triples = parse(data, format, kind="service")
    named = {t.object.value for t in triples if t.predicate.value == str(MAAS.providedBy) and isinstance(t.object, ox.NamedNode)}
    given: dict[str, set[str]] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode) and t.subject.value in named:
            given.setdefault(t.subject.value, set()).add(t.predicate.value)
    wanted = sorted(p for p in named if complete(p))
    extra: list[ox.Triple] = []
    site = str(MAAS.hasSite)
    for provider, described in provider_descriptions(store, wanted).items():
        have = given.get(provider, set())
        sites = {t.object for t in described if t.subject.value == provider and t.predicate.value == site}
        for t in described:
            if t.subject.value == provider:
                if t.predicate.value not in have:
                    extra.append(t)
            elif site not in have and t.subject in sites:
                extra.append(t)
    return tuple(extra)


def provider_profile(store: Store, provider: str) -> dict[str, str | float | None]:
    """The provider fields of the publish form from ``provider``'s published description: ``{"id", "name",
    "country", "lat", "lon"}`` (only the id for a provider that has published nothing yet)."""
    described = provider_descriptions(store, [provider]).get(provider, [])
    values = {t.predicate.value: t.object for t in described if t.subject.value == provider}
    sites = sorted((t.object.value for t in described if t.subject.value == provider
                    and t.predicate.value == str(MAAS.hasSite)))
    site = {t.predicate.value: t.object for t in described if sites and t.subject.value == sites[0]}

    def text(term):
        return term.value if term is not None else None

    return {"id": provider, "name": text(values.get(str(MAAS.name))),
            "country": text(values.get(str(MAAS.countryCode)) or site.get(str(MAAS.countryCode))),
            "lat": text(site.get(str(MAAS.latitude))), "lon": text(site.get(str(MAAS.longitude)))}


def providers_of(store: Store, services: list[str]) -> dict[str, str]:
    """The provider of each of ``services`` that is published now (withdrawn and unknown ones are left out)."""
    if not services:
        return {}
    block = rules.values(["service", "g"], [[s, service_graph(s)] for s in services])
    rows = rules.select(store, "catalogue/providers.rq", SERVICES=block)
    return {row["service"].value: row["provider"].value for row in rows}


def owners_of(store: Store, services: list[str]) -> dict[str, str]:
    """The owner (``maas:ownedBy``) of each of ``services`` that has a catalogue record, published or withdrawn:
    only that provider's keys may publish under the service's IRI."""
    return {service: record["owner"] for service, record in records(store, services).items() if record["owner"]}


def withdraw(store: Store, service: str, *, agent: str | None = None, private: PrivateStore | None = None,
             may_withdraw: Callable[[str], None] | None = None) -> int:
    """Withdraw a published service; return the withdrawn version. Its history stays for administrators; its
    provider-private values are deleted from ``private``. ``may_withdraw(owner)`` may raise to refuse; it runs in
    the publishing lock, like the version read and the write."""
    with critical_section(private):
        record = records(store, [service]).get(service)
        if record is None:
            raise UnknownService(f"no service {service} in the catalogue")
        if record["withdrawn"]:
            raise ServiceConflict(f"service {service} is already withdrawn")
        if may_withdraw is not None:
            may_withdraw(record["owner"])
        version, graph = record["version"], service_graph(service)
        archive = f"{graph}/archive/v{version}"
        row = [service, graph, version, _now(), agent or service, archive]
        # The last version is archived as N-Triples text, not as triples: the public endpoint reads the union of
        # all graphs, where archived triples would still say the service is on offer. One update request, so the
        # archive, the drop and the record change happen together or not at all.
        changes = Changes()
        changes.replace_graph(archive, _archived(archive, store.graph_triples(graph)))
        changes.drop_graph(graph)
        changes.update(rules.bind(_query("record-withdrawal.ru"), ROWS=rules.values(
            ["service", "graph", "version", "now", "agent", "archive"], [row])))
        changes.update(change_record([service]))
        store.commit(changes)
        if private is not None:
            private.delete(service)
    return version


def private_values(store: Store, private: PrivateStore, service: str):
    """The private values of the version of ``service`` published now (None when it has none or is not
    published): never those of a version a crash kept from being published."""
    version = current_versions(store, [service]).get(service)
    return private.get(service, version) if version is not None else None


def reconcile_private(store: Store, private: PrivateStore) -> int:
    """Drop the private rows of versions that are not published now (left by a crash between the private write
    and the store commit, or by a withdrawal); return how many. Runs in the publishing lock."""
    with critical_section(private):
        rows = private.versions()
        services = sorted({service for service, _ in rows})
        published: dict[str, int] = {}
        for start in range(0, len(services), 2000):
            published.update((s, record["version"]) for s, record in records(store, services[start:start + 2000]).items()
                             if not record["withdrawn"])
        stale = [(service, version) for service, version in rows if published.get(service) != version]
        private.drop(stale)
    return len(stale)


def _archived(archive: str, triples: list) -> list:
    text = io.BytesIO()
    ox.serialize(sorted((ox.Triple(*t) for t in triples), key=str), text, format=ox.RdfFormat.N_TRIPLES)
    node = ox.NamedNode(archive)
    return [(node, ox.NamedNode(str(MAAS.archivedDescription)), ox.Literal(text.getvalue().decode("utf-8"))),
            (node, ox.NamedNode("http://purl.org/dc/terms/format"), ox.Literal("application/n-triples"))]


def archived_triples(store: Store, service: str, version: int) -> list[ox.Triple]:
    """The triples of a withdrawn service's last version, read back from its archive."""
    archive = f"{service_graph(service)}/archive/v{version}"
    for s, p, o in store.graph_triples(archive):
        if p.value == str(MAAS.archivedDescription):
            return [q.triple for q in ox.parse(o.value.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]
    return []


