"""Catalogue integrity (issue 15, items 3, 6, 7, 8, 10 and the refusal of item 13): a service description speaks
only for its service and its own provider, is capped in size, publishes only under IRIs its provider owns, writes
race-free across worker processes, and its private values survive a crash with their published version.

The attacks are the ones reproduced against a real `maas-kg serve` (two workers): each is a regression test here.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import BIN, PROVIDER, cli, running_service
from maas_kg import catalogue, knowledge
from maas_kg.catalogue.initial_load import first_publications
from maas_kg.catalogue.keys import KeyRing
from maas_kg.catalogue.private_data import PrivateStore
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import open_store

DATA = Path(__file__).parent / "data"
WEBER = "https://w3id.org/maas-kg/id/service/weber-5axis"
WEBER_TURTLE = (DATA / "service-weber.ttl").read_text()
OTHER = "https://example.org/provider/bauer"
OTHER_SERVICE = OTHER + "/service/turning"
PROC = "https://w3id.org/maas-kg/process#"
MAT = "https://w3id.org/maas-kg/material#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
MAAS = "https://w3id.org/maas-kg/ns#"


def weber(**changes) -> dict:
    return {**json.loads((DATA / "service-weber.json").read_text()), **changes}


def bauer(**changes) -> dict:
    """A service of another provider, named under that provider's own IRI."""
    provider = {"id": OTHER, "name": "Drehteile Bauer KG", "country": "AT", "location": {"lat": 48.21, "lon": 16.37}}
    return weber(**{"id": OTHER_SERVICE, "name": "CNC turning", "provider": provider, "process": "turning", **changes})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("integrity")
    with running_service(folder, providers=0) as running:
        other = cli(running["env"], "keys", "create", "--provider", OTHER).stdout.strip()
        yield {**running, "other": other}


def headers(server, who: str, media: str = "application/json") -> dict:
    return {"Authorization": f"Bearer {server[who]}", "Content-Type": media}


def ask(server, query: str) -> bool:
    response = requests.get(f"{server['base']}/sparql", params={"query": query},
                            headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text[:300]
    return response.json()["boolean"]


def refused(response, status: int = 422) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.json()


# -- item 3: a description speaks for its service and its own provider only ----------------------------------------

POISON = {
    # every 5-axis milling service of every provider became a laser-sintering candidate
    "process taxonomy": (f"<{PROC}FiveAxisMilling> <{RDFS}subClassOf> <{PROC}SelectiveLaserSintering> .",
                         f"{PROC}SelectiveLaserSintering"),
    "material taxonomy": (f"<{MAT}AW6061> <{RDFS}subClassOf> <{MAT}PA12> .", f"{MAT}PA12"),
    # statements about another provider showed up as that provider's in /sparql
    "another provider": (f'<{WEBER}> <{RDFS}seeAlso> <{OTHER}> . <{OTHER}> <{MAAS}holdsCertification> <{MAAS}AS9100> ; '
                         f'<{MAAS}name> "Bauer (hijacked)" ; <{MAAS}countryCode> "KP" .', "KP"),
    "another provider, unlinked": (f'<{OTHER}> <{MAAS}countryCode> "KP" .', "KP"),
    # a reference exchange rate changed a competitor's quote from 114.17 to 114,173.55 EUR
    "exchange rate": (f'<{WEBER}> <{RDFS}seeAlso> [ a <{MAAS}ReferenceExchangeRate> ; <{MAAS}rateCurrency> "PLN" ; '
                      f'<{MAAS}unitsPerEuro> 4000 ] .', f"{MAAS}ReferenceExchangeRate"),
    "exchange rate by its properties": (f'<{WEBER}> <{RDFS}seeAlso> [ <{MAAS}rateCurrency> "PLN" ; '
                                        f'<{MAAS}unitsPerEuro> 4000 ] .', f"{MAAS}ReferenceExchangeRate"),
    "an ontology term's label": (f'<{PROC}FiveAxisMilling> <{RDFS}label> "laser sintering"@en .', "laser sintering"),
    "an OWL axiom": (f"<{WEBER}> <http://www.w3.org/2002/07/owl#sameAs> <{OTHER_SERVICE}> .", OTHER_SERVICE),
    "a certification individual": (f"<{WEBER}> <{MAAS}holdsCertification> <https://example.org/cert/x> . "
                                   f"<https://example.org/cert/x> a <{MAAS}Certification> .",
                                   f"{MAAS}Certification"),
}


@pytest.mark.parametrize("attack", sorted(POISON))
def test_a_description_cannot_state_what_is_not_its_own(server, attack):
    statement, named = POISON[attack]
    response = requests.post(f"{server['base']}/services", data=WEBER_TURTLE + statement,
                             headers=headers(server, "provider", "text/turtle"))
    problem = refused(response)
    scope = [v for v in problem["violations"] if v["component"] == "description scope"]
    assert scope and any(named in (v["value"] or "") + v["message"] for v in scope), problem
    assert all("refused: " in v["message"] for v in scope)  # each names the triple
    assert not ask(server, f"ASK {{ <{WEBER}> ?p ?o }}")  # nothing was written


def test_poisoned_taxonomy_and_rates_never_reach_the_catalogue(server):
    for statement, _ in POISON.values():
        requests.post(f"{server['base']}/services", data=WEBER_TURTLE + statement,
                      headers=headers(server, "provider", "text/turtle"))
    assert not ask(server, f"ASK {{ <{PROC}FiveAxisMilling> <{RDFS}subClassOf>+ <{PROC}SelectiveLaserSintering> }}")
    assert not ask(server, f"ASK {{ <{MAT}AW6061> <{RDFS}subClassOf>+ <{MAT}PA12> }}")
    assert not ask(server, f'ASK {{ ?rate <{MAAS}rateCurrency> "PLN" ; <{MAAS}unitsPerEuro> 4000 }}')
    assert not ask(server, f'ASK {{ ?s <{MAAS}countryCode> "KP" }}')


def test_the_plain_description_still_publishes_and_the_validator_reports_scope(server):
    bad = requests.post(f"{server['base']}/validate", data=WEBER_TURTLE + POISON["process taxonomy"][0],
                        headers={"Content-Type": "text/turtle"})
    assert bad.status_code == 200 and not bad.json()["conforms"]
    assert any(v["component"] == "description scope" for v in bad.json()["violations"])
    good = requests.post(f"{server['base']}/validate", data=WEBER_TURTLE, headers={"Content-Type": "text/turtle"})
    assert good.json() == {"conforms": True, "violations": []}


@pytest.mark.parametrize("iri", ["javascript:alert(1)", "urn:x-maas:service:1", "mailto:a@example.org"])
def test_service_iris_are_absolute_http_iris(server, iri):
    problem = refused(requests.post(f"{server['base']}/services", data=json.dumps(weber(id=iri)),
                                    headers=headers(server, "admin")))
    assert any("http" in v["message"] and v["focus"] == iri for v in problem["violations"])


def test_every_publishing_path_refuses_poison(tmp_path):
    poisoned = (WEBER_TURTLE + POISON["process taxonomy"][0]).encode()
    results, quads = first_publications(poisoned, "turtle", frozenset())  # the initial load's preparation
    assert not results[0].published and quads == b""
    file = tmp_path / "poisoned.ttl"
    file.write_bytes(poisoned)
    env = {**os.environ, "MAAS_KG_STORE": str(tmp_path / "store"), "MAAS_KG_KEYS": str(tmp_path / "keys.sqlite")}
    published = cli(env, "publish", str(file))
    assert published.returncode == 1 and "refused: " in published.stdout and "Traceback" not in published.stderr


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=st.sampled_from([f"{PROC}Turning", f"{MAT}PA12", f"{MAAS}RateEUR", OTHER, f"{OTHER}/site/1",
                                "https://w3id.org/maas-kg/id/provider/weberx"]),
       predicate=st.sampled_from([f"{MAAS}name", f"{RDFS}label", f"{MAAS}countryCode", f"{MAAS}unitsPerEuro"]))
def test_no_statement_about_a_foreign_subject_passes(subject, predicate):
    """Whatever is said about a subject that is not the service, its provider or theirs, publishing refuses it."""
    statement = f'<{WEBER}> <{RDFS}seeAlso> <{subject}> . <{subject}> <{predicate}> "x" .'
    _, verdicts, _ = catalogue.read_services((WEBER_TURTLE + statement).encode(), "turtle")
    assert any(v.component == "description scope" and v.focus == subject for v in verdicts[WEBER])


# -- item 6: a size cap per service --------------------------------------------------------------------------------

def test_a_service_of_too_many_triples_is_refused_before_validation(server):
    notes = " , ".join(f'"note {n}"' for n in range(6000))
    problem = refused(requests.post(f"{server['base']}/services", data=f"{WEBER_TURTLE}<{WEBER}> <{RDFS}comment> {notes} .",
                                    headers=headers(server, "provider", "text/turtle")))
    triples = len(list(ox.parse(WEBER_TURTLE.encode(), format=ox.RdfFormat.TURTLE))) + 6000
    assert f"{triples} triples" in problem["detail"] and "5000" in problem["detail"]


def test_the_cap_counts_each_service_with_its_provider_and_parts():
    closures, _, _ = catalogue.read_services(WEBER_TURTLE.encode(), "turtle")
    cap = len(closures[WEBER])  # the service with its provider, site and price
    larger = WEBER_TURTLE.replace(WEBER, WEBER + "-large") + f'<{WEBER}-large> <{RDFS}comment> "a" , "b" .'
    _, verdicts, _ = catalogue.read_services((WEBER_TURTLE + larger).encode(), "turtle", max_triples=cap)
    assert verdicts[WEBER] == []
    [violation] = verdicts[WEBER + "-large"]
    assert violation.component == "size cap" and f"{cap + 2} triples" in violation.message


# -- item 7: ownership follows the record; providers publish under their own namespaces ----------------------------

def test_a_withdrawn_service_stays_its_owners(server):
    base, other = server["base"], headers(server, "other")
    url = f"{base}/services/{requests.utils.quote(OTHER_SERVICE, safe='')}"
    assert requests.put(url, data=json.dumps(bauer()), headers=other).status_code == 201
    assert requests.delete(url, headers=other).status_code == 200
    # Weber takes Bauer's service over: refused, under Weber's name or under Bauer's
    takeover = weber(id=OTHER_SERVICE)
    problem = refused(requests.put(url, data=json.dumps(takeover), headers=headers(server, "provider")), 403)
    assert OTHER in problem["detail"]
    # nor may Weber open a service of its own in Bauer's namespace
    refused(requests.post(f"{base}/services", data=json.dumps(weber(id=OTHER + "/service/new")),
                          headers=headers(server, "provider")), 403)
    # the owner comes back: its history continues
    again = requests.put(url, data=json.dumps(bauer()), headers=other)
    assert again.status_code == 201 and again.json()["version"] == 2
    assert requests.delete(url, headers=other).status_code == 200


def test_providers_publish_only_under_their_namespaces(server):
    base = server["base"]
    # Bauer has no grant for id/service/: its own namespace only
    outside = bauer(id="https://w3id.org/maas-kg/id/service/bauer-milling")
    problem = refused(requests.post(f"{base}/services", data=json.dumps(outside), headers=headers(server, "other")), 403)
    assert f"{OTHER}/" in problem["detail"]
    # a service without an id gets one under id/service/: outside Bauer's namespace too
    anonymous = {k: v for k, v in bauer().items() if k != "id"}
    refused(requests.post(f"{base}/services", data=json.dumps(anonymous), headers=headers(server, "other")), 403)
    # administrators (and the operator's command line) publish anywhere
    admin = requests.post(f"{base}/services", data=json.dumps(outside), headers=headers(server, "admin"))
    assert admin.status_code == 201
    # and the owner on record is the provider the description names, not the administrator
    refused(requests.put(f"{base}/services/service/bauer-milling", data=json.dumps(weber(id=outside["id"])),
                         headers=headers(server, "provider")), 403)


def test_grants_are_kept_beside_the_keys(tmp_path):
    env = {**os.environ, "MAAS_KG_KEYS": str(tmp_path / "keys.sqlite")}
    bad = cli(env, "keys", "grant", "--provider", PROVIDER, "--namespace", "javascript:alert(1)")
    assert bad.returncode == 1 and "absolute http(s) IRI" in bad.stderr and "Traceback" not in bad.stderr
    assert cli(env, "keys", "grant", "--provider", PROVIDER, "--namespace", "https://example.org/weber/").returncode == 0
    assert "https://example.org/weber/" in cli(env, "keys", "grants").stdout
    token = cli(env, "keys", "create", "--provider", PROVIDER).stdout.strip()
    key = KeyRing(tmp_path / "keys.sqlite").authenticate(token)
    assert key.may_name("https://example.org/weber/service/1") and key.may_name(PROVIDER + "/service/1")
    assert not key.may_name("https://example.org/other/1") and not key.may_name(PROVIDER + "x/service")


def test_older_stores_get_their_owners_by_migration():
    store = open_store("memory")
    sync_ontology(store)
    for service in (WEBER, WEBER + "-gone"):
        assert catalogue.publish(store, json.dumps(weber(id=service)).encode(), "json")[0].published
    catalogue.withdraw(store, WEBER + "-gone")
    owned = f"<{MAAS}ownedBy>"
    store.update(f"DELETE WHERE {{ GRAPH <{catalogue.CATALOGUE_GRAPH}> {{ ?r {owned} ?o }} }}")
    assert catalogue.owners_of(store, [WEBER, WEBER + "-gone"]) == {}
    store.update((knowledge.queries_dir() / "migrate" / "20-record-owner.ru").read_text())
    assert catalogue.owners_of(store, [WEBER, WEBER + "-gone"]) == {WEBER: PROVIDER, WEBER + "-gone": PROVIDER}


# -- item 8: one critical section across worker processes ----------------------------------------------------------

def test_concurrent_replacements_across_workers_lose_no_version(server):
    base, own = server["base"], headers(server, "provider")
    service = "https://w3id.org/maas-kg/id/service/weber-race"
    url = f"{base}/services/service/weber-race"
    assert requests.put(url, data=json.dumps(weber(id=service)), headers=own).json()["version"] == 1

    def replace(client: int) -> list[int]:
        return [requests.put(url, data=json.dumps(weber(id=service, lead_time_days=client + 1)),
                             headers=own).json()["version"] for _ in range(5)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        versions = [v for result in pool.map(replace, range(8)) for v in result]
    assert sorted([1] + versions) == list(range(1, 42))
    events = requests.get(f"{base}/sparql", headers={"Accept": "application/sparql-results+json"}, params={
        "query": f"SELECT (COUNT(?e) AS ?n) WHERE {{ GRAPH <{catalogue.HISTORY_GRAPH}> {{ ?e a <{MAAS}Publication> ; "
                 f"<{MAAS}aboutService> <{service}> }} }}"}).json()
    assert int(events["results"]["bindings"][0]["n"]["value"]) == 41


def test_concurrent_creates_and_withdrawals_conflict(server):
    base, own = server["base"], headers(server, "provider")
    service = weber(id="https://w3id.org/maas-kg/id/service/weber-twice")
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        created = list(pool.map(lambda _: requests.post(f"{base}/services", data=json.dumps(service),
                                                         headers=own).status_code, range(6)))
    assert sorted(created) == [201] + [409] * 5
    url = f"{base}/services/service/weber-twice"
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        withdrawn = list(pool.map(lambda _: requests.delete(url, headers=own).status_code, range(6)))
    assert withdrawn.count(200) == 1 and set(withdrawn) <= {200, 404, 409}


# -- item 10: private values and a crash ---------------------------------------------------------------------------

def _private_batch(count: int, round_: int) -> bytes:
    return json.dumps([weber(id=f"{PROVIDER}/service/crash-{n}", internal_cost_rate=40 + n + round_ / 10,
                             internal_note=f"round {round_}") for n in range(count)]).encode()


def _second_round_rows(private_file: Path) -> int:
    try:
        with sqlite3.connect(private_file, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM private_versions WHERE version = 2").fetchone()[0]
    except sqlite3.OperationalError:  # the writer holds the file
        return 0


@pytest.mark.parametrize("kill_after_rows", [0, 1, 12, 28])
def test_a_killed_publisher_leaves_every_published_version_its_private_values(tmp_path, kill_after_rows):
    env = {**os.environ, "MAAS_KG_STORE": str(tmp_path / "store"), "MAAS_KG_KEYS": str(tmp_path / "keys.sqlite")}
    private_file = tmp_path / "private.sqlite"
    first = tmp_path / "first.json"
    first.write_bytes(_private_batch(30, 1))
    assert cli(env, "publish", "--batch-size", "5", str(first)).returncode == 0
    second = tmp_path / "second.json"
    second.write_bytes(_private_batch(30, 2))
    process = subprocess.Popen([str(BIN / "maas-kg"), "publish", "--batch-size", "5", str(second)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while process.poll() is None and _second_round_rows(private_file) < kill_after_rows:
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    store, private = open_store(str(tmp_path / "store")), PrivateStore(private_file)
    try:
        services = [f"{PROVIDER}/service/crash-{n}" for n in range(30)]
        versions = catalogue.current_versions(store, services)
        assert set(versions) == set(services)
        for service, version in versions.items():
            found = catalogue.private_values(store, private, service)
            assert found is not None and found.version == version  # never lost, never another version's
            note = next(t.object.value for t in found.triples if t.predicate.value == MAAS + "internalNote")
            assert note == f"round {version}"
        catalogue.reconcile_private(store, private)
        assert set(private.versions()) == set(versions.items())
    finally:
        store.close()


def test_the_application_drops_unpublished_private_rows_when_it_starts(tmp_path):
    from api import create_app

    env = {**os.environ, "MAAS_KG_STORE": str(tmp_path / "store"), "MAAS_KG_KEYS": str(tmp_path / "keys.sqlite")}
    published = tmp_path / "published.json"
    published.write_bytes(_private_batch(2, 1))
    assert cli(env, "publish", str(published)).returncode == 0
    private = PrivateStore(tmp_path / "private.sqlite")
    service = f"{PROVIDER}/service/crash-0"
    # what a crash between the private write and the store commit of version 2 leaves behind
    note = ox.Triple(ox.NamedNode(service), ox.NamedNode(MAAS + "internalNote"), ox.Literal("round 2"))
    private.stage([(service, PROVIDER, 2, [note])])
    assert (service, 2) in private.versions()
    create_app({"STORE": str(tmp_path / "store"), "KEYS_FILE": str(tmp_path / "keys.sqlite"),
                "PRIVATE_FILE": str(tmp_path / "private.sqlite")})
    assert sorted(private.versions()) == [(service, 1), (f"{PROVIDER}/service/crash-1", 1)]
