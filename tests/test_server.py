"""The real service: `maas-kg serve` (gunicorn, two worker processes, the on-disk store owned by an Oxigraph server)
started by the test, used by a partner system through SPARQLWrapper and by providers through the REST API."""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
from pathlib import Path

import pytest
import rdflib
import requests
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from harness import cli, running_service

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("server"), providers=15, seed=2,
                         serve_args=("--sparql-timeout", "2")) as running:
        yield running
    # the store server went with it: the store opens again
    assert cli(running["env"], "info").returncode == 0


def sparql(server, query: str, fmt=JSON):
    client = SPARQLWrapper(f"{server['base']}/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client.query().convert()


def test_partner_system_queries_with_sparqlwrapper(server):
    count = sparql(server, """PREFIX maas: <https://w3id.org/maas-kg/ns#>
        SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a maas:ManufacturingService }""")
    services = int(count["results"]["bindings"][0]["n"]["value"])
    assert services == requests.get(f"{server['base']}/health").json()["services"] > 0
    xml = sparql(server, "SELECT ?c WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> } LIMIT 3", XML)
    assert len(xml.getElementsByTagName("result")) == 3
    csv_text = sparql(server, "SELECT ?c WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> } LIMIT 3", CSV)
    assert len(csv_text.decode().strip().splitlines()) == 4
    assert sparql(server, "ASK { ?s a <https://w3id.org/maas-kg/ns#ManufacturingService> }")["boolean"] is True
    graph = sparql(server, """PREFIX maas: <https://w3id.org/maas-kg/ns#>
        CONSTRUCT { ?s maas:name ?n } WHERE { ?s a maas:ManufacturingService ; maas:name ?n }""", TURTLE)
    graph = rdflib.Graph().parse(data=graph, format="turtle") if isinstance(graph, bytes) else graph
    assert len(set(graph.subjects())) == services


def test_public_endpoint_refuses_updates_and_remote_services(server, listener):
    base = server["base"]
    update = requests.post(f"{base}/sparql", data={"update": "DROP ALL"})
    assert update.status_code == 403
    remote = requests.get(f"{base}/sparql", params={
        "query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"})
    assert remote.status_code == 403
    load = requests.post(f"{base}/sparql/update", data={"update": f"LOAD <http://127.0.0.1:{listener.port}/x>"},
                         headers={"Authorization": f"Bearer {server['admin']}"})
    assert load.status_code == 403
    time.sleep(0.3)
    assert listener.connections == 0




def test_the_store_timeout_stops_long_queries(server):
    started = time.monotonic()
    response = requests.get(f"{server['base']}/sparql",
                            params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"},
                            timeout=60)
    assert response.status_code == 503
    assert time.monotonic() - started < 30  # stopped by the store's 2 s limit, not by the client


def test_providers_publish_over_http_and_every_worker_sees_it(server):
    base, headers = server["base"], {"Authorization": f"Bearer {server['provider']}",
                                     "Content-Type": "application/json"}
    body = (DATA / "service-weber.json").read_bytes()
    created = requests.post(f"{base}/services", data=body, headers=headers)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    # two workers: repeated reads land on both, and each sees the published service
    assert all(requests.get(f"{base}{location}").json()["version"] == "1" for _ in range(6))
    replaced = requests.put(f"{base}{location}", data=body, headers=headers)
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    other = {"Authorization": f"Bearer {server['admin']}"}
    turtle = requests.get(f"{base}{location}", headers={"Accept": "text/turtle"})
    assert turtle.headers["Content-Type"].startswith("text/turtle")
    assert requests.delete(f"{base}{location}", headers=other).status_code == 200


def test_publish_match_query_withdraw_end_to_end(server):
    base, headers = server["base"], {"Authorization": f"Bearer {server['provider']}",
                                     "Content-Type": "application/json"}
    service = "https://w3id.org/maas-kg/id/service/weber-bracket-milling"
    document = {**json.loads((DATA / "service-weber.json").read_text()), "id": service,
                "materials": ["EN AW-6082"], "name": "Bracket milling"}
    assert requests.post(f"{base}/services", data=json.dumps(document), headers=headers).status_code == 201
    product = (Path(__file__).parents[1] / "examples" / "products" / "milled-bracket.json").read_bytes()

    def candidates() -> set[str]:
        result = requests.post(f"{base}/match", params={"today": "2026-11-22"}, data=product,
                               headers={"Content-Type": "application/json"}).json()
        return {c["service"] for route in result["routes"] for step in route["steps"] for c in step["candidates"]}

    assert service in candidates()
    ask = f"ASK {{ <{service}> a <https://w3id.org/maas-kg/ns#ManufacturingService> }}"
    assert sparql(server, ask)["boolean"] is True
    assert requests.delete(f"{base}/services/service/weber-bracket-milling", headers=headers).status_code == 200
    assert service not in candidates()
    assert sparql(server, ask)["boolean"] is False


def test_concurrent_publishing_loses_nothing_and_shows_no_half_service(server):
    base, headers = server["base"], {"Authorization": f"Bearer {server['provider']}",
                                     "Content-Type": "application/json"}
    template = json.loads((DATA / "service-weber.json").read_text())
    # a reader that, while the writers run, looks for a service graph without its catalogue record (or the
    # other way round): with one transaction per change it must never find one
    half = """PREFIX maas: <https://w3id.org/maas-kg/ns#> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
        ASK { { GRAPH ?g { ?s a maas:ManufacturingService } FILTER(CONTAINS(STR(?s), "concurrent-"))
                FILTER NOT EXISTS { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?r foaf:primaryTopic ?s } } }
              UNION { GRAPH <https://w3id.org/maas-kg/graph/catalogue> { ?r foaf:primaryTopic ?s ; maas:status maas:Published }
                FILTER(CONTAINS(STR(?s), "concurrent-"))
                FILTER NOT EXISTS { GRAPH ?g { ?s maas:name ?name ; maas:hasPriceSpecification ?price } } } }"""
    done = threading.Event()
    seen_half = []

    def read() -> int:
        polls = 0
        while not done.is_set():
            response = requests.get(f"{base}/sparql", params={"query": half})
            seen_half.append(response.json()["boolean"])
            polls += 1
        return polls

    def publish(client: int) -> list[int]:
        codes = []
        for number in range(8):
            document = {**template, "id": f"https://w3id.org/maas-kg/id/service/concurrent-{client}-{number}"}
            codes.append(requests.post(f"{base}/services", data=json.dumps(document), headers=headers).status_code)
        return codes

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        reader = pool.submit(read)
        codes = [code for result in pool.map(publish, range(4)) for code in result]
        done.set()
        assert reader.result() > 0
    assert codes == [201] * 32
    assert not any(seen_half)
    listed = requests.get(f"{base}/services", params={"per_page": 500}).json()["items"]
    assert sum(1 for s in listed if "/concurrent-" in s["service"]) == 32


def test_match_over_http(server):
    product = (Path(__file__).parents[1] / "examples" / "products" / "sheet-metal-enclosure.json").read_bytes()
    response = requests.post(f"{server['base']}/match", params={"today": "2026-11-22", "top": 2}, data=product,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text[:500]
    assert response.json()["routes"]


def test_the_cli_says_the_store_is_in_use(server):
    result = cli(server["env"], "info")
    assert result.returncode == 1 and "locked" in result.stderr and "Traceback" not in result.stderr
