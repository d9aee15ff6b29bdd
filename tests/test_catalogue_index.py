"""The catalogue index against its reference, the listing rules (queries/catalogue/services-found.rq, facets.rq,
queries/browse/offered-counts.rq).

A differential property test (Hypothesis): on a small demo catalogue that the match index follows through the
catalogue's change record (with replacements and withdrawals in it), random filter combinations and pages must give
the same page of services and the same facet counts from the index (``index=``) as from the rules in the store, and
the taxonomy trees the same service counts. No timings here: benchmarks/bench_pages.py measures them.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import STORE_KINDS, fresh_store
from maas_kg import catalogue
from maas_kg.catalogue import browse, publish, withdraw
from maas_kg.catalogue.demo import generate_services
from maas_kg.matching.catalogue_index import catalogue_index
from maas_kg.knowledge import MAAS, MAT, PROC
from maas_kg.matching.index import MatchIndex

PROCESSES = [None, str(PROC.ManufacturingProcess), str(PROC.Milling), str(PROC.Turning), str(PROC.Grinding),
             str(PROC.AdditiveManufacturing), str(PROC.PowderBedFusion), str(PROC.HeatTreatment), str(PROC.Coating)]
MATERIALS = [None, str(MAT.Steel), str(MAT.C45), str(MAT.AluminiumAlloy), str(MAT.Steel42CrMo4), str(MAT.Material)]
COUNTRIES = [None, "DE", "de", "CZ", "IT", "HU", "PL", "ZZ"]
CERTIFICATIONS = [None, str(MAAS.ISO9001), str(MAAS.ISO14001), str(MAAS.IATF16949), str(MAAS.AS9100)]
PLACES = [(48.14, 11.58), (52.52, 13.40), (50.11, 8.68), (0.0, 0.0), (90.0, 0.0), (-33.9, 151.2)]


@pytest.fixture(scope="module", params=STORE_KINDS)
def listed(request, tmp_path_factory):
    """A demo catalogue (some services replaced and withdrawn after the index was built) and its match index."""
    with fresh_store(request.param, tmp_path_factory.mktemp("catalogue-index")) as store:
        yield from _listed(store)


def _listed(store):
    services = list(generate_services(10, 3))
    assert all(r.published for r in publish(store, json.dumps(services[:-6]).encode(), "json"))
    match_index = MatchIndex()
    match_index.follow(store)
    index = catalogue_index(match_index)
    # after the build: more services, a replacement and withdrawals, which the index follows
    assert all(r.published for r in publish(store, json.dumps(services[-6:]).encode(), "json"))
    changed = dict(services[0], name="Zz renamed service")
    assert all(r.published for r in publish(store, json.dumps([changed]).encode(), "json"))
    for gone in services[1:3]:
        withdraw(store, gone["id"])
    yield store, index, [s["id"] for s in services]


filters = st.fixed_dictionaries({
    "process": st.sampled_from(PROCESSES), "material": st.sampled_from(MATERIALS),
    "country": st.sampled_from(COUNTRIES), "certification": st.sampled_from(CERTIFICATIONS),
    "near": st.one_of(st.none(), st.tuples(st.sampled_from(PLACES), st.sampled_from([0.0, 50.0, 300.0, 800.0,
                                                                                      20000.0]))
                      .map(lambda t: (*t[0], t[1])))})


def _used(chosen: dict) -> dict:
    return {name: value for name, value in chosen.items() if value is not None}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=filters, limit=st.sampled_from([None, 1, 5, 25]), offset=st.sampled_from([0, 1, 7, 40]))
def test_the_index_lists_the_page_the_rules_list(listed, chosen, limit, offset):
    store, index, _ = listed
    given_filters = _used(chosen)
    reference = catalogue.list_services(store, limit=limit, offset=offset, **given_filters)
    served = catalogue.list_services(store, limit=limit, offset=offset, index=index, **given_filters)
    assert served == reference


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=filters)
def test_the_index_counts_the_facets_the_rules_count(listed, chosen):
    store, index, _ = listed
    given_filters = _used(chosen)
    assert catalogue.facet_counts(store, index=index, **given_filters) == \
        catalogue.facet_counts(store, **given_filters)


def test_one_service_and_the_taxonomy_counts_agree(listed):
    store, index, services = listed
    for service in services[:5] + ["https://w3id.org/maas-kg/id/no/such/service"]:
        assert catalogue.list_services(store, service=service, index=index) == \
            catalogue.list_services(store, service=service)
    for root in (str(PROC.ManufacturingProcess), str(MAT.Material)):
        served, reference = browse.taxonomy(store, root, index=index), browse.taxonomy(store, root)
        assert {n.iri: n.services for n in browse.walk(served)} == {n.iri: n.services for n in browse.walk(reference)}
        assert served.services > 0


def test_the_index_follows_writes_to_the_catalogue(listed):
    store, index, services = listed
    whole = catalogue.list_services(store, index=index)
    gone = whole[0]["service"]
    withdraw(store, gone)
    try:
        after = catalogue.list_services(store, index=index)
        assert after == catalogue.list_services(store) and gone not in {row["service"] for row in after}
        assert catalogue.facet_counts(store, index=index) == catalogue.facet_counts(store)
    finally:
        document = next(s for s in generate_services(10, 3) if s["id"] == gone)
        assert all(r.published for r in publish(store, json.dumps([document]).encode(), "json"))
    again = catalogue.list_services(store, index=index)
    assert again == catalogue.list_services(store)
    assert [row["service"] for row in again] == [row["service"] for row in whole]  # in its place again, a version on
    assert index.change_count == index.index.change_count


def test_bad_places_are_refused_before_anything_runs(listed):
    store, index, _ = listed
    for near in [(91.0, 0.0, 10.0), (0.0, 181.0, 10.0), (0.0, 0.0, -1.0), (math.nan, 0.0, 10.0), (0.0, 0.0, math.nan)]:
        for engine in (None, index):
            with pytest.raises(catalogue.CatalogueError):
                catalogue.list_services(store, near=near, index=engine)
