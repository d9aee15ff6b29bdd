"""Publishing, replacing, withdrawing and listing services; JSON and Turtle give the same triples; atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from harness import STORE_KINDS, fresh_store
from maas_kg import catalogue
from maas_kg.catalogue import CATALOGUE_GRAPH, HISTORY_GRAPH, CatalogueError, service_graph
from maas_kg.catalogue import publishing
from maas_kg.catalogue.ingest import InputError, read_input
from maas_kg.knowledge import MAAS, MAT, PROC
from maas_kg.store import StoreError

DATA = Path(__file__).parent / "data"
WEBER = "https://w3id.org/maas-kg/id/service/weber-5axis"


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    with fresh_store(request.param, tmp_path / "served") as s:
        yield s


def publish_file(store, name, **kwargs):
    path = DATA / name
    fmt = {".json": "json", ".ttl": "turtle"}[path.suffix]
    return catalogue.publish(store, path.read_bytes(), fmt, **kwargs)


def test_json_and_turtle_give_the_same_triples():
    from_json = read_input((DATA / "service-weber.json").read_bytes(), "json")
    from_turtle = read_input((DATA / "service-weber.ttl").read_bytes(), "turtle")
    assert not from_json.problems and not from_turtle.problems
    assert isomorphic(from_json.to_rdflib(), from_turtle.to_rdflib())


def test_publish_writes_the_service_graph_with_provenance_and_a_record(store):
    [result] = publish_file(store, "service-weber.ttl")
    assert result.published and result.version == 1 and result.graph == service_graph(WEBER)
    triples = store.graph_triples(result.graph)
    predicates = {t[1].value for t in triples}
    assert str(MAAS.processType) in predicates and "http://www.w3.org/ns/prov#generatedAtTime" in predicates
    # the provider and its site travel with the service
    assert any(t[0].value == "https://w3id.org/maas-kg/id/provider/weber" for t in triples)
    assert any(t[1].value == str(MAAS.latitude) for t in triples)
    assert store.ask(f"""ASK {{ GRAPH <{CATALOGUE_GRAPH}> {{
        ?r <http://xmlns.com/foaf/0.1/primaryTopic> <{WEBER}> ; <{MAAS.status}> <{MAAS.Published}> }} }}""")
    assert [row["service"] for row in catalogue.list_services(store)] == [WEBER]


def test_publishing_again_replaces_and_bumps_the_version(store):
    publish_file(store, "service-weber.ttl")
    changed = (DATA / "service-weber.ttl").read_text().replace("maas:leadTimeDays 10.0", "maas:leadTimeDays 12.0")
    [result] = catalogue.publish(store, changed.encode(), "turtle")
    assert result.version == 2
    lead = [t[2].value for t in store.graph_triples(result.graph) if t[1].value == str(MAAS.leadTimeDays)]
    assert lead == ["12"] or lead == ["12.0"]
    assert len(catalogue.list_services(store)) == 1
    assert catalogue.list_services(store)[0]["version"] == "2"


def test_an_invalid_service_writes_nothing_and_reports_every_violation(store):
    before = store.quad_count()
    results = publish_file(store, "services-mixed.json")
    by_service = {r.service: r for r in results}
    assert by_service["https://w3id.org/maas-kg/id/service/nowak-laser"].published
    bending = by_service["https://w3id.org/maas-kg/id/service/nowak-bending"]
    assert not bending.published
    messages = " | ".join(v.message for v in bending.violations)
    assert "envelope_z must be a positive length in mm" in messages
    assert "batch_size must be [min, max]" in messages
    assert "price.currency" in messages
    for v in bending.violations:
        assert v.focus and v.message
    knitting = by_service["https://w3id.org/maas-kg/id/service/nowak-knitting"]
    [unknown] = [v for v in knitting.violations if v.path == str(MAAS.processType)]
    assert "unknown process 'Laser beam cuting'" in unknown.message and "laser beam cutting" in unknown.message
    assert not store.ask(f"ASK {{ GRAPH <{service_graph(bending.service)}> {{ ?s ?p ?o }} }}")
    assert [r["service"] for r in catalogue.list_services(store)] == ["https://w3id.org/maas-kg/id/service/nowak-laser"]
    assert store.quad_count() > before


def test_a_failure_mid_publish_leaves_no_partial_graph(store, monkeypatch):
    original = publishing._query

    def broken(name):
        return original(name) + " ;\nINSERT DATA { GRAPH <x:g> { <x:s> <x:p> " if name == "record-publication.ru" else original(name)

    monkeypatch.setattr(publishing, "_query", broken)
    with pytest.raises(StoreError):
        publish_file(store, "service-weber.ttl")
    assert service_graph(WEBER) not in store.named_graphs()
    assert CATALOGUE_GRAPH not in store.named_graphs()


def test_a_failure_mid_republish_keeps_the_published_version(store, monkeypatch):
    [first] = publish_file(store, "service-weber.ttl")
    before = sorted(map(str, store.graph_triples(first.graph)))
    original = publishing._query
    monkeypatch.setattr(publishing, "_query", lambda name: original(name) + " ;\nINSERT DATA { GRAPH <x:g> { <x:s> "
                        if name == "record-publication.ru" else original(name))
    with pytest.raises(StoreError):
        publish_file(store, "service-weber.ttl")
    assert sorted(map(str, store.graph_triples(first.graph))) == before
    assert catalogue.statistics(store) == {"published": 1, "withdrawn": 0}
    assert "x:g" not in store.named_graphs()


def test_withdrawn_services_are_not_listed_but_their_history_stays(store):
    publish_file(store, "service-weber.ttl")
    assert catalogue.withdraw(store, WEBER) == 1
    assert catalogue.list_services(store) == []
    assert service_graph(WEBER) not in store.named_graphs()
    # the last version is kept on record, but no longer asserted: the service is no ManufacturingService now
    archived = catalogue.archived_triples(store, WEBER, 1)
    assert (ox.NamedNode(WEBER), ox.NamedNode(str(MAAS.processType)), ox.NamedNode(str(PROC.FiveAxisMilling))) in \
        [(t.subject, t.predicate, t.object) for t in archived]
    assert not store.ask(f"ASK {{ <{WEBER}> ?p ?o }}", union_default_graph=True)
    events = store.select(f"""SELECT ?type WHERE {{ GRAPH <{HISTORY_GRAPH}> {{
        ?e <{MAAS.aboutService}> <{WEBER}> ; a ?type . FILTER(STRSTARTS(STR(?type), STR(<{MAAS}>))) }} }}""")
    assert sorted(r["type"].value for r in events) == [str(MAAS.Publication), str(MAAS.Withdrawal)]
    assert catalogue.statistics(store) == {"published": 0, "withdrawn": 1}
    with pytest.raises(CatalogueError, match="already withdrawn"):
        catalogue.withdraw(store, WEBER)
    [again] = publish_file(store, "service-weber.ttl")
    assert again.version == 2 and catalogue.statistics(store) == {"published": 1, "withdrawn": 0}


def test_withdrawing_an_unknown_service_is_an_error(store):
    with pytest.raises(CatalogueError, match="no service"):
        catalogue.withdraw(store, "https://w3id.org/maas-kg/id/service/none")


def test_list_filters_by_process_with_subclasses_material_and_country(store):
    publish_file(store, "service-weber.ttl")
    publish_file(store, "services-mixed.json")
    names = lambda **kw: sorted(r["service"].rsplit("/", 1)[1] for r in catalogue.list_services(store, **kw))
    assert names(process=str(PROC.Milling)) == ["weber-5axis"]
    assert names(process=str(PROC.MachiningDefinedEdge)) == ["weber-5axis"]
    assert names(process=str(PROC.Turning)) == []
    assert names(process=str(PROC.Separating)) == ["nowak-laser", "weber-5axis"]
    assert names(material=str(MAT.AluminiumAlloy)) == ["weber-5axis"]
    assert names(material=str(MAT.S235JR)) == ["nowak-laser"]
    assert names(country="pl") == ["nowak-laser"]


def test_input_errors_say_where(store):
    with pytest.raises(InputError, match="line 2"):
        catalogue.publish(store, b"@prefix maas: <https://w3id.org/maas-kg/ns#> .\n<a> maas:name ", "turtle")
    with pytest.raises(InputError, match="remote JSON-LD @context"):
        catalogue.publish(store, b'{"@context": "https://schema.org/", "name": "x"}', "jsonld")
    with pytest.raises(CatalogueError, match="describes no service"):
        catalogue.publish(store, b"<https://e.org/a> <https://e.org/b> <https://e.org/c> .", "ntriples")


def test_one_validation_per_input_not_per_service(store, monkeypatch):
    calls = []
    original = publishing.validate_instances
    monkeypatch.setattr(publishing, "validate_instances", lambda t, **kw: calls.append(1) or original(t, **kw))
    results = publish_file(store, "services-mixed.json", batch_size=2)
    assert len(results) == 3 and len(calls) == 1


@pytest.mark.parametrize("fmt, rdflib_format", [("ntriples", "nt"), ("rdfxml", "xml"), ("jsonld", "json-ld")])
def test_every_rdf_format_publishes_the_same_service(store, fmt, rdflib_format):
    graph = rdflib.Graph().parse(DATA / "service-weber.ttl")
    data = graph.serialize(format=rdflib_format).encode()
    [result] = catalogue.publish(store, data, fmt)
    assert result.published, result.violations
    expected = read_input((DATA / "service-weber.ttl").read_bytes(), "turtle")
    assert isomorphic(read_input(data, fmt).to_rdflib(), expected.to_rdflib())


def _reference_facets(store) -> dict[str, dict[str, int]]:
    """Plain Python over the service graphs: services per country (their sites' countries, else the provider's) and
    per certification (the service's or the provider's)."""
    counts: dict[str, dict[str, int]] = {"country": {}, "certification": {}}
    for row in catalogue.list_services(store):
        triples = store.graph_triples(service_graph(row["service"]))
        about = lambda s, p: {o.value for (x, q, o) in triples if x.value == s and q.value == str(p)}
        sites = about(row["service"], MAAS.offeredAt)
        countries = set().union(*(about(site, MAAS.countryCode) for site in sites)) if sites else set()
        countries = countries or about(row["provider"], MAAS.countryCode)
        certifications = about(row["service"], MAAS.holdsCertification) | about(row["provider"], MAAS.holdsCertification)
        for facet, values in (("country", countries), ("certification", certifications)):
            for value in values:
                counts[facet][value] = counts[facet].get(value, 0) + 1
    return counts


def test_listing_pages_and_facets_come_from_the_records_listing_index(store):
    import itertools
    import json

    from maas_kg.catalogue.demo import generate_services

    services = list(itertools.islice(generate_services(providers=12, seed=4), 60))
    catalogue.publish(store, json.dumps(services).encode(), "json")
    everything = catalogue.list_services(store)
    assert len({r["service"] for r in everything}) == len(services)
    pages = [r for offset in range(0, len(services), 7) for r in catalogue.list_services(store, limit=7, offset=offset)]
    assert [r["service"] for r in pages] == [r["service"] for r in everything]  # pages are stable and complete
    keys = [(r["providerName"] + " " + r["name"]).lower()[:11] for r in everything]
    assert keys == sorted(keys)

    def facets():
        found = catalogue.facet_counts(store)
        return {facet: {v["value"]: v["services"] for v in values} for facet, values in found.items()}

    assert facets() == _reference_facets(store)
    gone = everything[0]["service"]
    catalogue.withdraw(store, gone)
    assert gone not in {r["service"] for r in catalogue.list_services(store)}
    assert facets() == _reference_facets(store)
    german = catalogue.facet_counts(store, country="DE")["country"]
    assert {v["value"]: v["services"] for v in german}.get("DE") == len(catalogue.list_services(store, country="DE"))


def test_a_store_written_before_the_listing_index_gets_it_built_once(store):
    from maas_kg.knowledge.graphs import META_GRAPH, MIGRATION_BASE, sync_ontology

    publish_file(store, "service-weber.ttl")
    publish_file(store, "services-mixed.json")
    listed = catalogue.list_services(store)
    # what an earlier version left: records without the index, and no record of the migration
    store.update(f"""DELETE WHERE {{ GRAPH <{CATALOGUE_GRAPH}> {{ ?r <{MAAS.listingKey}> ?k }} }} ;
        DELETE WHERE {{ GRAPH <{CATALOGUE_GRAPH}> {{ ?r <{MAAS.listedCountry}> ?c }} }} ;
        DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{MIGRATION_BASE}10-listing-index> ?p ?o }} }}""")
    assert catalogue.list_services(store) == []
    sync_ontology(store)
    assert catalogue.list_services(store) == listed
    assert catalogue.facet_counts(store)["country"]


@pytest.mark.parametrize("region, found", [
    ("DE-XX", "'DE-XX' is not an ISO 3166-2 code; the first-level codes of DE are DE-BB"),  # of the form, but no code
    ("FR-ARA", "'FR-ARA' is a region of FR, but the site is in DE"),
    ("Bavaria", "location.region must be one ISO 3166-2 code in capitals")])
def test_a_site_region_that_is_no_iso_3166_2_code_of_its_country_is_refused_naming_the_field(store, region, found):
    service = json.loads((DATA / "service-weber.json").read_text())
    service["provider"]["location"]["region"] = region
    [refused] = catalogue.publish(store, json.dumps(service).encode(), "json")
    assert not refused.published
    [problem] = refused.violations
    assert problem.message.startswith("location.region") and found in problem.message, problem.message
    assert problem.path == str(MAAS.regionCode) and problem.value == region
    service["provider"]["location"]["region"] = "DE-BW"
    [published] = catalogue.publish(store, json.dumps(service).encode(), "json")
    assert published.published, published.violations
    assert any(t[1].value == str(MAAS.regionCode) and t[2].value == "DE-BW"
               for t in store.graph_triples(published.graph))
