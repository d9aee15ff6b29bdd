"""The demo catalogue: deterministic, streaming, physically plausible, and every service publishes."""

from __future__ import annotations

import itertools
import json

from rdflib import URIRef
from rdflib.namespace import RDFS

from maas_kg import catalogue, knowledge
from maas_kg.catalogue.demo import generate_services
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import open_store

FERROUS = None


def test_same_seed_same_catalogue_other_seed_other_catalogue():
    first = json.dumps(list(generate_services(30, seed=7)), sort_keys=True)
    assert first == json.dumps(list(generate_services(30, seed=7)), sort_keys=True)
    assert first != json.dumps(list(generate_services(30, seed=8)), sort_keys=True)


def test_streams_without_building_the_whole_catalogue():
    # a million-service catalogue yields its first services at once
    first = list(itertools.islice(generate_services(250_000, seed=1), 10))
    assert len(first) == 10


def test_sizes_and_certification_shares():
    services = list(generate_services(300, seed=1))
    assert 600 <= len(services) <= 1800
    providers = {s["provider"]["id"]: s["provider"] for s in services}
    share = sum("ISO 9001" in p["certifications"] for p in providers.values()) / len(providers)
    rare = sum("AS9100" in p["certifications"] for p in providers.values()) / len(providers)
    assert 0.6 <= share <= 0.95 and rare < 0.1


def test_values_are_plausible_and_terms_exist():
    graph = knowledge.ontology_graph()
    ferrous = set(graph.transitive_subjects(RDFS.subClassOf, knowledge.MAT.FerrousMetal))
    classes = set(graph.transitive_subjects(RDFS.subClassOf, knowledge.PROC.ManufacturingProcess)) | \
        set(graph.transitive_subjects(RDFS.subClassOf, knowledge.MAT.Material))
    for s in generate_services(200, seed=3):
        assert s["batch_size"][0] <= s["batch_size"][1]
        assert all(e > 0 for e in s["envelope_mm"]) and s["capacity_per_week"] > 0
        assert s.get("tolerance_mm", 1) > 0 and s["price"]["unit"] >= 0
        for iri in [s["process"], *s["materials"]]:
            assert URIRef(iri) in classes, iri
        if s["process"].endswith("#DieCasting"):
            assert not {URIRef(m) for m in s["materials"]} & ferrous


def test_every_demo_service_validates_and_publishes():
    store = open_store("memory")
    sync_ontology(store)
    services = list(generate_services(40, seed=1))
    results = catalogue.publish(store, json.dumps(services).encode(), "json")
    rejected = [(r.service, r.violations[0].message) for r in results if not r.published]
    assert not rejected
    assert catalogue.statistics(store)["published"] == len(services)


def test_part_masses_stay_within_the_process_profile():
    from maas_kg.catalogue.demo import _profile
    for s in generate_services(300, seed=1):
        limit = _profile(s["process"].rsplit("#", 1)[1])["max_mass"]
        if "max_mass_kg" in s and limit:
            assert s["max_mass_kg"] <= limit, s["id"]
