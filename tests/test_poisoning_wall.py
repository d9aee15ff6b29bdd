"""The second wall against catalogue poisoning (issue 15, item 3): the catalogue's rules read the taxonomy, the
capability profiles, the reference exchange rates and the ontology's labels from the ontology's graphs (or the graphs
derived from them, queries/derive/), never from the union of all graphs.

Publishing refuses such statements (the first wall, tests/test_catalogue_integrity.py); here they are written
straight into a published service's graph, as an administrator's update or a store written before that check could
put them there, and nothing that matching, the listing, the facets and the browse pages compute may change.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import STORE_KINDS, fresh_store, running_service
from maas_kg import knowledge
from maas_kg.catalogue import browse, facet_counts, list_services, publish, service_graph
from maas_kg.knowledge.graphs import DERIVE_RULES_KEY, DERIVED_GRAPH_BASE, META_GRAPH, sync_ontology
from maas_kg.matching.report import as_json
from maas_kg.matching.workspace import Workspace
from maas_kg.store import Changes, open_store

PROC, MAT, MAAS = knowledge.PROC, knowledge.MAT, knowledge.MAAS
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
TODAY = datetime.date(2026, 11, 22)
PRODUCT = (Path(__file__).parents[1] / "examples" / "products" / "pa12-lattice-part.json").read_bytes()
TAXONOMY = DERIVED_GRAPH_BASE + "taxonomy"


def offer(name: str, process: str, materials: list[str], currency: str) -> dict:
    """A service of its own provider near the product's delivery place (Hanover)."""
    provider = f"https://example.org/provider/{name}"
    return {"id": f"{provider}/service/{name}", "name": f"{process} at {name}",
            "provider": {"id": provider, "name": f"Provider {name}", "country": "DE",
                         "location": {"lat": 52.1, "lon": 9.6}, "certifications": ["ISO 9001"]},
            "process": process, "materials": materials, "envelope_mm": [650, 520, 475], "tolerance_mm": 0.1,
            "roughness_ra_um": 3.2, "batch_size": [1, 1000], "capacity_per_week": 500, "lead_time_days": 5,
            "price": {"currency": currency, "setup": 100, "unit": 2.5}, "valid_until": "2027-12-31"}


SERVICES = [offer("milling", "5-axis milling", ["PA12", "EN AW-6061"], "EUR"),
            offer("sintering-pln", "selective laser sintering", ["PA12"], "PLN"),
            offer("sintering-eur", "selective laser sintering", ["PA12"], "EUR")]
MILLING, SINTERING_PLN = SERVICES[0]["id"], SERVICES[1]["id"]

#: the attacks of the issue, as a provider's Turtle would have stated them
POISON = f"""
    <{PROC}FiveAxisMilling> <{RDFS}subClassOf> <{PROC}SelectiveLaserSintering> ;
        <{MAAS}subClassOfOrSelf> <{PROC}SelectiveLaserSintering> ;
        <{MAAS}profileShape> <{MAAS}LatticeShape> ;
        <{RDFS}label> "laser sintering"@en .
    <{MAT}AW6061> <{RDFS}subClassOf> <{MAT}PA12> .
    <{MAAS}ISO9001> <{RDFS}label> "poisoned certificate"@en .
    <{MAAS}PriceCriterion> <{MAAS}defaultWeight> 99 .
    [] a <{MAAS}ReferenceExchangeRate> ; <{MAAS}rateCurrency> "PLN" ; <{MAAS}unitsPerEuro> 4000 .
"""


def poison(store, service: str, statements: str = POISON) -> None:
    """Write ``statements`` into the graph of the published ``service``, past the publishing check."""
    store.update(f"INSERT DATA {{ GRAPH <{service_graph(service)}> {{ {statements} }} }}")


def candidates(document: dict) -> dict:
    """Per route and step: each offered service (candidates and near misses) with its quote and failed criteria."""
    return {(route["rank"], step["process"]["iri"]): sorted(
                (c["service"], json.dumps(c.get("quote"), sort_keys=True), c.get("score"),
                 tuple(c.get("failed", ())))
                for c in step["candidates"] + step.get("near_misses", []))
            for route in document["routes"] for step in route["steps"]}


def tree(node: browse.TaxonomyNode, depth: int = 0) -> list:
    return [(depth, node.iri, node.label_en, node.label_de, node.notation, node.definition, node.services)] + \
        [row for child in node.children for row in tree(child, depth + 1)]


def views(store, workspace: Workspace) -> dict:
    """What the catalogue's rules compute from the store: matching (quotes included), listings and facets filtered by
    process and material, the taxonomy trees, profiles, criteria and a service's readable description."""
    result = workspace.match(PRODUCT, "json", today=TODAY)
    return {
        "match": candidates(as_json(store, result)),
        "rates": {c.service: (c.quote, c.currency, c.quote_eur) for r in result.routes for s in r.steps
                  for c in s.candidates + s.near_misses},
        **{f"listing {name}": [row["service"] for row in list_services(store, **filters)]
           for name, filters in {"all": {}, "SLS": {"process": str(PROC.SelectiveLaserSintering)},
                                 "milling": {"process": str(PROC.Milling)},
                                 "PA12": {"material": str(MAT.PA12)}, "AW6061": {"material": str(MAT.AW6061)}}.items()},
        "facets": facet_counts(store),
        "facets SLS": facet_counts(store, process=str(PROC.SelectiveLaserSintering)),
        "processes": tree(browse.taxonomy(store, str(PROC.ManufacturingProcess))),
        "materials": tree(browse.taxonomy(store, str(MAT.Material))),
        "profile": browse.class_profile(store, str(PROC.FiveAxisMilling)),
        "criteria": browse.match_criteria(store),
        "description": browse.service_description(store, SINTERING_PLN),
    }


@pytest.fixture(scope="module", params=STORE_KINDS)
def catalogue(request, tmp_path_factory):
    with fresh_store(request.param, tmp_path_factory.mktemp("wall")) as store:
        results = publish(store, json.dumps(SERVICES).encode(), "json")
        assert all(r.published for r in results), [r.violations for r in results]
        yield store, Workspace(store)


def test_poison_in_a_service_graph_changes_nothing_the_rules_compute(catalogue):
    store, workspace = catalogue
    before = views(store, workspace)
    # the product needs powder bed fusion: the two sintering services, not the milling one; the PLN quote is put on
    # the euro scale with the ontology's rate
    assert {service for (_, _), rows in before["match"].items() for service, *_ in rows} == \
        {s["id"] for s in SERVICES[1:]}
    quote, currency, in_euro = before["rates"][SINTERING_PLN]
    assert currency == "PLN" and in_euro == pytest.approx(quote / 4.23, rel=0.2)
    poison(store, MILLING)
    # the poison is there: read through the union, 5-axis milling is now a kind of laser sintering
    assert store.ask(f"ASK {{ <{PROC}FiveAxisMilling> <{RDFS}subClassOf>* <{PROC}SelectiveLaserSintering> }}",
                     union_default_graph=True)
    after = views(store, workspace)
    for view in before:
        assert after[view] == before[view], f"the poison changed the {view}"


def test_the_taxonomy_page_data_shows_no_poison(catalogue):
    store, _ = catalogue
    poison(store, MILLING)
    processes = browse.taxonomy(store, str(PROC.ManufacturingProcess))
    sintering = browse.find(processes, str(PROC.SelectiveLaserSintering))
    assert sintering is not None and not sintering.children
    assert browse.find(processes, str(PROC.FiveAxisMilling)).label_en == "5-axis milling"
    pa12 = browse.find(browse.taxonomy(store, str(MAT.Material)), str(MAT.PA12))
    assert str(MAT.AW6061) not in {node.iri for node in browse.walk(pa12)}
    labels = {row["value"]: row["label"] for row in facet_counts(store)["certification"]}
    assert labels[str(MAAS.ISO9001)] == "ISO 9001"


# -- any poison, as a property ------------------------------------------------------------------------------------

CLASSES = [PROC.FiveAxisMilling, PROC.Milling, PROC.SelectiveLaserSintering, PROC.PowderBedFusion,
           PROC.ManufacturingProcess, MAT.AW6061, MAT.PA12, MAT.Material, MAAS.LatticeShape]
TERMS = CLASSES + [MAAS.ISO9001, MAAS.PriceCriterion, MAAS.profileShape]


def _iri(term) -> str:
    return f"<{term}>"


_class = st.sampled_from(CLASSES).map(_iri)
_text = st.text(st.characters(codec="ascii", categories=("L", "N", "Zs")), min_size=1, max_size=12).map(json.dumps)
_statement = st.one_of(
    st.tuples(st.sampled_from(TERMS).map(_iri),
              st.sampled_from([f"<{RDFS}subClassOf>", f"<{MAAS}subClassOfOrSelf>", f"<{MAAS}profileShape>",
                               f"<{MAAS}profileMaterial>"]), _class),
    st.tuples(st.sampled_from(TERMS).map(_iri), st.sampled_from([f"<{RDFS}label>", f"<{SKOS}definition>"]),
              st.tuples(_text, st.sampled_from(["en", "de"])).map(lambda pair: f"{pair[0]}@{pair[1]}")),
    st.tuples(st.sampled_from(TERMS).map(_iri), st.just(f"<{SKOS}notation>"), _text),
    st.tuples(st.sampled_from([f"<{MAAS}PriceCriterion>", "<https://example.org/criterion>"]),
              st.sampled_from([f"<{MAAS}defaultWeight>", "a"]),
              st.sampled_from(["0.9", f"<{MAAS}MatchCriterion>"])),
    st.tuples(st.just("[] a"), st.just(f"<{MAAS}ReferenceExchangeRate> ;"),
              st.tuples(st.sampled_from(["PLN", "EUR", "CHF"]), st.integers(1, 10**6)).map(
                  lambda rate: f'<{MAAS}rateCurrency> "{rate[0]}" ; <{MAAS}unitsPerEuro> {rate[1]}')),
).map(lambda parts: " ".join(parts) + " .")


@pytest.fixture(scope="module")
def embedded_catalogue():
    store = open_store("memory")
    sync_ontology(store)
    assert all(r.published for r in publish(store, json.dumps(SERVICES).encode(), "json"))
    workspace = Workspace(store)
    return store, workspace, views(store, workspace)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statements=st.lists(_statement, min_size=1, max_size=5), into=st.sampled_from([s["id"] for s in SERVICES]))
def test_no_poison_of_the_ontology_changes_the_catalogue(embedded_catalogue, statements, into):
    store, workspace, before = embedded_catalogue
    graph = service_graph(into)
    published = store.graph_triples(graph)
    poison(store, into, "\n".join(statements))
    try:
        after = views(store, workspace)
    finally:
        changes = Changes()
        changes.replace_graph(graph, published)
        store.commit(changes)
    assert after == before


# -- existing stores get the derived graphs ---------------------------------------------------------------------------

def test_a_store_written_before_the_taxonomy_graph_existed_gets_it_at_start_up():
    store = open_store("memory")
    sync_ontology(store)
    assert all(r.published for r in publish(store, json.dumps(SERVICES).encode(), "json"))
    # as an earlier version left it: no taxonomy graph, and no record of the derive rules that ran
    store.update(f"DROP GRAPH <{TAXONOMY}>")
    store.update(f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{DERIVE_RULES_KEY}> ?p ?o }} }}")
    assert list_services(store, process=str(PROC.SelectiveLaserSintering)) == []
    assert sync_ontology(store) == []  # no module changed, yet the derived graphs are written again
    assert {row["service"] for row in list_services(store, process=str(PROC.SelectiveLaserSintering))} == \
        {s["id"] for s in SERVICES[1:]}
    assert store.ask(f"ASK {{ GRAPH <{TAXONOMY}> {{ <{PROC}FiveAxisMilling> <{MAAS}subClassOfOrSelf> <{PROC}Milling> }} }}")
    # and only once: with the rules' hash recorded, the next start leaves the store alone
    store.update(f"INSERT DATA {{ GRAPH <{TAXONOMY}> {{ <urn:x:marker> <urn:x:p> <urn:x:o> }} }}")
    sync_ontology(store)
    assert store.ask(f"ASK {{ GRAPH <{TAXONOMY}> {{ <urn:x:marker> ?p ?o }} }}")


def test_the_taxonomy_closure_is_the_ontologys_reflexive_transitive_subclass_relation():
    from rdflib import URIRef
    from rdflib.namespace import OWL, RDF
    from rdflib.namespace import RDFS as RDFS_NS

    from maas_kg.knowledge.graphs import derive_from_ontology

    derived = {(s.value, o.value) for s, _, o in derive_from_ontology()[TAXONOMY]}
    ontology = knowledge.ontology_graph()
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    expected = {(str(c), str(a)) for c in classes for a in ontology.transitive_objects(c, RDFS_NS.subClassOf)
                if isinstance(a, URIRef)}
    assert expected <= derived
    assert (str(PROC.FiveAxisMilling), str(PROC.ManufacturingProcess)) in derived
    assert (str(PROC.FiveAxisMilling), str(PROC.SelectiveLaserSintering)) not in derived


# -- the real service --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The service with a demo catalogue (5-axis milling and powder bed fusion among it) and the test's services."""
    with running_service(tmp_path_factory.mktemp("wall-server"), providers=15, seed=2) as running:
        for service in SERVICES:
            published = requests.post(f"{running['base']}/services", json=service, timeout=120,
                                      headers={"Authorization": f"Bearer {running['admin']}"})
            assert published.status_code == 201, published.text[:500]
        yield running


def _served_views(server) -> dict:
    base = server["base"]
    match = requests.post(f"{base}/match?today={TODAY.isoformat()}", data=PRODUCT,
                          headers={"Content-Type": "application/json"}, timeout=120)
    assert match.status_code == 200, match.text[:500]
    listings = {}
    for name, filters in {"SLS": {"process": "selective laser sintering"}, "PA12": {"material": "PA12"},
                          "aluminium": {"material": "EN AW-6061"}, "5-axis": {"process": "5-axis milling"}}.items():
        response = requests.get(f"{base}/services", params={**filters, "per_page": 500}, timeout=60)
        assert response.status_code == 200, response.text[:500]
        listings[name] = sorted(item["service"] for item in response.json()["items"])
    taxonomy = requests.get(f"{base}/taxonomy", params={"class": str(PROC.SelectiveLaserSintering)}, timeout=60)
    assert taxonomy.status_code == 200
    return {"match": candidates(match.json()), "listings": listings, "taxonomy": taxonomy.text}


def test_poison_written_by_an_administrator_changes_no_match_listing_or_page(server):
    base = server["base"]
    before = _served_views(server)
    assert MILLING in before["listings"]["5-axis"] and SINTERING_PLN in before["listings"]["SLS"]
    served = {service for rows in before["match"].values() for service, *_ in rows}
    assert SINTERING_PLN in served and not served & set(before["listings"]["5-axis"])
    update = requests.post(f"{base}/sparql/update",
                           data={"update": f"INSERT DATA {{ GRAPH <{service_graph(MILLING)}> {{ {POISON} }} }}"},
                           headers={"Authorization": f"Bearer {server['admin']}"}, timeout=60)
    assert update.status_code == 204, update.text[:500]
    poisoned = requests.get(f"{base}/sparql", headers={"Accept": "application/sparql-results+json"}, params={
        "query": f"ASK {{ <{PROC}FiveAxisMilling> <{RDFS}subClassOf> <{PROC}SelectiveLaserSintering> }}"}, timeout=60)
    assert poisoned.json()["boolean"]  # the public union holds it; the rules must not read it
    after = _served_views(server)
    assert after["match"] == before["match"]
    assert after["listings"] == before["listings"]
    assert after["taxonomy"] == before["taxonomy"]
