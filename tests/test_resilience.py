"""Resilience (issue 19): the example value chains under the example events on the `make run` demo catalogue (300
providers, seed 1): which steps each event hits, impact, exposure, the simulation, responses that leave the
disrupted services out; bad input named by field; nothing stored; the HTTP routes and the command line."""

from __future__ import annotations

import copy
import datetime
import json
import os
from pathlib import Path

import pytest
import rdflib
from hypothesis import given, settings
from hypothesis import strategies as st

from api import create_app
from harness import cli
from maas_kg import catalogue
from maas_kg.catalogue.demo import generate_services
from maas_kg.errors import MaasKgError
from maas_kg.execution.fields import FieldError
from maas_kg.resilience import assess, from_library, library, read_events, read_value_chain, respond
from maas_kg.resilience.assessment import Hit, simulate
from maas_kg.resilience.events import Event, touched
from maas_kg.resilience.value_chains import ChainProduct, ChainStep, Supply, ValueChain

EXAMPLES = Path(__file__).parents[1] / "examples"
TODAY = datetime.date(2026, 12, 6)
GERBER = "https://w3id.org/maas-kg/id/provider/gerber-gieerei-190"
ZIMMERMANN = "https://w3id.org/maas-kg/id/provider/zimmermann-harterei-48"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / "value-chains" / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resilience")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    catalogue.publish(app.extensions["maas_kg"].catalogue, json.dumps(list(generate_services(300, 1))).encode(),
                      "json")
    return app


@pytest.fixture(scope="module")
def store(app):
    return app.extensions["maas_kg"].catalogue


@pytest.fixture(scope="module")
def workspace(app):
    return app.extensions["maas_kg"].workspace


def test_every_example_value_chain_reads_and_every_example_event_is_valid(store):
    for path in sorted((EXAMPLES / "value-chains").glob("*.json")):
        chain = read_value_chain(json.loads(path.read_text()), store)
        assert chain.products and all(step.suppliers for p in chain.products for step in p.steps), path
    assert len(list((EXAMPLES / "value-chains").glob("*.json"))) >= 3
    events = from_library(sorted(library()), store)
    assert {e.type_label for e in events} >= {"natural disaster", "trade barrier", "regulation change",
                                             "capacity loss", "insolvency", "logistics disruption",
                                             "energy shortage", "cyber incident", "pandemic"}


def test_which_steps_each_event_hits(store, workspace):
    chain = read_value_chain(example("gearbox"), store)
    ids = ["gerber-insolvency", "german-gas-rationing", "limmat-flood", "swiss-customs", "bremen-strike"]
    result = assess(workspace, store, chain, from_library(ids, store), runs=2000, seed=3, today=TODAY)
    hit = {e["event"]["id"]: {(p["product"], s["step"]) for p in e["products"] for s in p["steps"]}
           for e in result["events"]}
    housing, gear = "Die-cast aluminium gearbox housing", "Case-hardened spur gear"
    assert hit["gerber-insolvency"] == {(housing, "low-pressure die casting")}
    assert hit["limmat-flood"] == {(housing, "low-pressure die casting")}  # the foundry is in Zurich
    # gas rationing names a country and a process: only case hardening in Germany, not other German suppliers
    assert hit["german-gas-rationing"] == {(gear, "case hardening")}
    assert hit["bremen-strike"] == {(gear, "case hardening")}
    by_id = {e["event"]["id"]: e for e in result["events"]}
    insolvency = by_id["gerber-insolvency"]["products"][0]
    # single-sourced, no alternative: the delay is the outage beyond the safety stock, the revenue the lost units
    assert insolvency["delay_days"] == 120 - 10 and insolvency["steps"][0]["time_to_recover_days"] is None
    assert insolvency["revenue_at_risk"] == pytest.approx(24000 * 120 / 365 * 95.0, rel=1e-3)
    assert [o["due"] for o in insolvency["open_orders_at_risk"]] == ["2026-12-26", "2027-01-09"]
    # a customs delay takes no capacity: 12 days of added lead time against 10 days of stock
    customs = by_id["swiss-customs"]
    assert customs["max_delay_days"] == 2 and customs["revenue_at_risk"] == 0
    assert "gerber-insolvency" in result["risk_matrix"]["possible"]["severe"]
    assert any("single point of failure" in v and "low-pressure die casting" in v
               for v in result["exposure"]["vulnerabilities"])
    steps = {(s["product"], s["step"]): s for s in result["exposure"]["steps"]}
    assert steps[(housing, "low-pressure die casting")]["single_sourced"] is True
    shaft_turning = steps[("Turned and ground gearbox shaft", "turning")]
    assert shaft_turning["suppliers"] == 2 and shaft_turning["hhi_provider"] == pytest.approx(0.7 ** 2 + 0.3 ** 2)
    simulated = {p["product"]: p for p in result["simulation"]["products"]}
    assert simulated["Turned and ground gearbox shaft"]["on_time_probability"] == 1.0  # no event hits it
    assert simulated[housing]["on_time_probability"] < 1.0


def test_the_same_seed_gives_the_same_simulation(store, workspace):
    chain = read_value_chain(example("appliances"), store)
    events = from_library(["antwerp-ransomware", "abs-restriction", "pandemic-central-europe"], store)
    first = assess(workspace, store, chain, events, runs=3000, seed=7, today=TODAY)["simulation"]
    again = assess(workspace, store, chain, events, runs=3000, seed=7, today=TODAY)["simulation"]
    other = assess(workspace, store, chain, events, runs=3000, seed=8, today=TODAY)["simulation"]
    assert first == again and first != other


def _single_step_chain(stock: float) -> ValueChain:
    step = ChainStep("https://w3id.org/maas-kg/process#Milling", "milling",
                     (Supply("https://example.org/s", "https://example.org/p", 1.0),))
    return ValueChain("https://example.org/vc", "vc", "EUR",
                      (ChainProduct({}, "part", 1000, 10.0, stock, 30.0, (step,), ()),))


def _event(probability: float, days: float) -> Event:
    return Event("e", "e", "https://w3id.org/maas-kg/ns#Insolvency", "insolvency", probability, 1.0, days)


@given(probability=st.floats(0.02, 0.9))
@settings(max_examples=15, deadline=None)
def test_a_single_point_of_failure_is_on_time_with_one_minus_its_probability(probability):
    """Single-sourced, no alternative, the outage longer than any stock: on time exactly when the event does not
    happen, so the simulated share converges to 1 - p (within four standard errors)."""
    runs = 20_000
    event = _event(probability, 400.0)
    hits = {"e": [Hit(0, 0, 1.0, 1.0, None, ("https://example.org/s",), ("provider",))]}
    on_time = simulate(_single_step_chain(5.0), [event], hits, runs=runs, seed=11)[0]["on_time_probability"]
    error = (probability * (1 - probability) / runs) ** 0.5
    assert abs(on_time - (1 - probability)) <= 4 * error + 1e-4


@given(stock=st.floats(0, 200), more=st.floats(0, 200), days=st.floats(1, 365),
       recover=st.one_of(st.none(), st.floats(0, 365)))
@settings(max_examples=60, deadline=None)
def test_more_safety_stock_never_means_more_delay(stock, more, days, recover):
    event = _event(0.5, days)
    hits = {"e": [Hit(0, 0, 1.0, 1.0, recover, ("https://example.org/s",), ("provider",))]}
    little = simulate(_single_step_chain(stock), [event], hits, runs=500, seed=2)[0]
    plenty = simulate(_single_step_chain(stock + more), [event], hits, runs=500, seed=2)[0]
    assert plenty["mean_delay_days"] <= little["mean_delay_days"] + 1e-9
    assert plenty["on_time_probability"] >= little["on_time_probability"]


@given(chosen=st.lists(st.sampled_from(["limmat-flood", "gerber-insolvency", "german-gas-rationing",
                                        "antwerp-ransomware", "banat-earthquake", "abs-restriction",
                                        "pandemic-central-europe", "bremen-strike"]), min_size=1, max_size=3,
                       unique=True),
       name=st.sampled_from(["gearbox", "enclosures", "appliances"]))
@settings(max_examples=12, deadline=None)
def test_responses_never_propose_a_disrupted_service(store, workspace, chosen, name):
    events = from_library(chosen, store)
    chain = read_value_chain(example(name), store)
    result = respond(workspace, store, chain, events, today=TODAY)
    proposed = {o["service"] for s in result["steps"] for o in s["options"]} | \
        {s["service"] for step in result["steps"] for s in step["response"]["services"]}
    hit = touched(store, events, sorted(proposed))
    assert not any(hit.values()), hit
    # a step is never offered its own suppliers of today (a service that supplies another step may take it over:
    # R2 (iv), the chain's own suppliers)
    for step in result["steps"]:
        product = next(p for p in chain.products if p.name == step["product"])
        own = {s.service for chain_step in product.steps if chain_step.process_name == step["step"]
               for s in chain_step.suppliers}
        offered = {o["service"] for o in step["options"]} | {s["service"] for s in step["response"]["services"]}
        assert not offered & own
    if result["request_for_quotation"]:
        assert {i["service"] for i in result["request_for_quotation"]["items"]} <= proposed


def test_a_response_re_sources_and_hands_stage_3_a_request_for_quotation(app, store, workspace):
    chain = read_value_chain(example("gearbox"), store)
    result = respond(workspace, store, chain, from_library(["pandemic-central-europe"], store), today=TODAY)
    resourced = [s for s in result["steps"] if s["response"]["kind"] in ("re-source", "split")]
    assert resourced, result["steps"]
    for step in resourced:
        assert step["options"] and all(o["country"] not in ("DE", "CZ", "AT", "PL", "SK", "HU", "SI", "CH")
                                       for o in step["options"])
    # the request for quotation goes to POST /rfqs as it is
    keys = app.extensions["maas_kg"].keys
    token = keys.create(buyer="https://example.org/buyer/gearbox")[0]
    rfq = {**result["request_for_quotation"], "due": (datetime.date.today() + datetime.timedelta(days=90)).isoformat()}
    sent = app.test_client().post("/rfqs", json=rfq, headers={"Authorization": f"Bearer {token}"})
    assert sent.status_code == 201, sent.json


@pytest.mark.parametrize("change,field", [
    (lambda c: c["products"][0]["steps"][0]["suppliers"][0].update(service="https://example.org/no-such-service"),
     "products[0].steps[0].suppliers[0].service"),
    (lambda c: c["products"][0]["steps"][0]["suppliers"][0].update(share=0.5), "products[0].steps[0].suppliers"),
    (lambda c: c["products"][0].update(steps=[]), "products[0].steps"),
    (lambda c: c["products"][0]["steps"][0].update(process="basket weaving"), "products[0].steps[0].process"),
    (lambda c: c["products"][0].update(yearly_volume=-5), "products[0].yearly_volume"),
    (lambda c: c.update(products=[]), "products")])
def test_a_bad_value_chain_names_its_field(store, change, field):
    chain = copy.deepcopy(example("gearbox"))
    change(chain)
    with pytest.raises(FieldError) as raised:
        read_value_chain(chain, store)
    assert raised.value.field == field, str(raised.value)


@pytest.mark.parametrize("event,field", [
    ({"probability_per_year": -0.1}, "events[0].probability_per_year"),
    ({"scope": {"regions": ["DE-XX"]}}, "events[0].scope.regions[0]"),
    ({"scope": {"countries": ["Germany"]}}, "events[0].scope.countries"),
    ({"type": "meteor"}, "events[0].type"), ({"scope": {}}, "events[0].scope"),
    ({"scope": {"circle": {"lat": 95, "lon": 0, "radius_km": 5}}}, "events[0].scope.circle.lat")])
def test_a_bad_event_names_its_field(store, event, field):
    base = {"id": "x", "type": "natural disaster", "scope": {"countries": ["DE"]}, "probability_per_year": 0.1,
            "duration_days": 10}
    with pytest.raises(FieldError) as raised:
        read_events([{**base, **event}], store)
    assert raised.value.field == field, str(raised.value)


def test_over_http_nothing_is_stored_and_errors_are_problems(app, store):
    client = app.test_client()
    before = store.quad_count(), store.named_graphs()
    assessed = client.post("/resilience/assess", json={"value_chain": example("enclosures"),
                                                       "library_events": ["pandemic-central-europe"],
                                                       "runs": 1000, "today": "2026-12-06"})
    assert assessed.status_code == 200, assessed.json
    assert assessed.json["simulation"]["runs"] == 1000 and assessed.json["events"]
    responded = client.post("/resilience/respond", json={"value_chain": example("enclosures"),
                                                         "library_events": ["pandemic-central-europe"],
                                                         "today": "2026-12-06"})
    assert responded.status_code == 200 and responded.json["steps"]
    assert (store.quad_count(), store.named_graphs()) == before  # the value chain was never written
    leaked = client.get("/sparql", query_string={
        "query": 'ASK { ?s ?p ?o FILTER(CONTAINS(STR(?o), "Control cabinet maker")) }'},
        headers={"Accept": "application/sparql-results+json"})
    assert leaked.json["boolean"] is False
    bad = client.post("/resilience/respond", json={"value_chain": example("enclosures")})
    assert bad.status_code == 422 and bad.json["detail"].startswith("events")
    wrong = client.post("/resilience/assess", json={"value_chain": {**example("enclosures"), "id": "not an iri"}})
    assert wrong.status_code == 422 and wrong.json["detail"].startswith("value_chain.id")
    assert client.post("/resilience/assess", data="x", content_type="text/plain").status_code == 415
    assert client.get("/resilience/events").json["events"]


def test_the_command_line_assesses_and_responds(tmp_path):
    env = {**os.environ, "MAAS_KG_STORE": str(tmp_path / "store"), "MAAS_KG_KEYS": str(tmp_path / "keys.sqlite")}
    assert cli(env, "demo", "--providers", "300", "--seed", "1").returncode == 0
    chain = str(EXAMPLES / "value-chains" / "gearbox.json")
    assessed = cli(env, "resilience", "assess", chain, "--event", "gerber-insolvency", "--runs", "500",
                   "--today", "2026-12-06")
    assert assessed.returncode == 0 and "single point of failure" in assessed.stdout, assessed.stderr
    answer = json.loads(cli(env, "resilience", "respond", chain, "--event", "pandemic-central-europe", "--today",
                            "2026-12-06", "--format", "json").stdout)
    assert answer["steps"] and answer["request_for_quotation"]["items"]
    gearbox = str(EXAMPLES / "take-back" / "industrial-gearbox.json")
    supplied = cli(env, "resilience", "respond", chain, "--event", "german-gas-rationing", "--today", "2026-12-06",
                   "--take-back", gearbox, "--supplies", "helical gears=Case-hardened spur gear")
    assert supplied.returncode == 0 and "remanufactured supply" in supplied.stdout, supplied.stderr
    critical = cli(env, "circular", "criticality", chain, "--take-back", gearbox, "--supplies",
                   "helical gears=Case-hardened spur gear", "--format", "json")
    assert critical.returncode == 0, critical.stderr
    assert json.loads(critical.stdout)["critical_with_reman_supply"] == ["Case-hardened spur gear"]
    unpaired = cli(env, "circular", "criticality", chain, "--supplies", "gears=gear")
    assert unpaired.returncode != 0 and "Traceback" not in unpaired.stderr and "--take-back" in unpaired.stderr
    refused = cli(env, "resilience", "respond", chain)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr and "events" in refused.stderr
    assert "gerber-insolvency" in cli(env, "resilience", "events").stdout


def test_maas_kg_errors_for_unknown_library_events(store):
    with pytest.raises(MaasKgError, match="no example event"):
        from_library(["nothing-like-this"], store)


def test_the_value_chain_and_the_response_plan_are_rdf_with_shapes_and_provenance(app, store):
    from maas_kg.knowledge.validation import validate_data
    from maas_kg.resilience.value_chains import _shapes, as_rdf
    from rdflib import Literal, Namespace
    from rdflib.namespace import XSD

    chain = read_value_chain(example("gearbox"), store)
    graph = as_rdf(chain)
    assert validate_data(graph, _shapes()).conforms
    maas = Namespace("https://w3id.org/maas-kg/ns#")
    relation = next(graph.subjects(maas.volumeShare, None))
    graph.set((relation, maas.volumeShare, Literal("1.5", datatype=XSD.decimal)))
    broken = validate_data(graph, _shapes())
    assert not broken.conforms and "share" in broken.violations[0].message
    answer = app.test_client().post("/resilience/respond", headers={"Accept": "text/turtle"},
                                    json={"value_chain": example("gearbox"),
                                          "library_events": ["pandemic-central-europe"], "today": "2026-12-06"})
    assert answer.status_code == 200 and answer.mimetype == "text/turtle"
    plan = rdflib.Graph().parse(data=answer.get_data(as_text=True), format="turtle")
    prov = Namespace("http://www.w3.org/ns/prov#")
    node = next(plan.subjects(rdflib.RDF.type, maas.ResponsePlan))
    assert (node, prov.wasDerivedFrom, rdflib.URIRef(chain.id)) in plan
    assert set(plan.objects(node, maas.proposesSupply))
    assert (node, maas.respondsTo, rdflib.URIRef("https://w3id.org/maas-kg/id/event/pandemic-central-europe")) in plan


def test_a_response_offers_the_remanufactured_supply_of_take_back(app):
    # (v): the gearbox maker's gears can come back from its industrial gearboxes' returns by remanufacturing
    take_back = json.loads((EXAMPLES / "take-back" / "industrial-gearbox.json").read_text())
    answer = app.test_client().post("/resilience/respond", json={
        "value_chain": example("gearbox"), "library_events": ["german-gas-rationing"], "today": "2026-12-06",
        "take_back": [{"document": take_back, "supplies": [
            {"component": "helical gears", "product": "https://w3id.org/maas-kg/id/product/hardened-gear"}]}]})
    assert answer.status_code == 200, answer.json
    gear_steps = [s for s in answer.json["steps"] if s["product"] == "Case-hardened spur gear"]
    assert gear_steps, answer.json["steps"]
    for step in gear_steps:
        [supply] = step["remanufactured_supply"]
        assert supply["component"] == "helical gears" and supply["notation"] == "R6"
        assert 0 < supply["covers_share_of_lost_volume"] <= 1 and isinstance(supply["meets_due_date"], bool)
    others = [s for s in answer.json["steps"] if s["product"] != "Case-hardened spur gear"]
    assert all(not s["remanufactured_supply"] for s in others)
    bad = app.test_client().post("/resilience/respond", json={
        "value_chain": example("gearbox"), "library_events": ["german-gas-rationing"],
        "take_back": [{"document": take_back, "supplies": [{"component": "helical gears", "product": "nothing"}]}]})
    assert bad.status_code == 422 and bad.json["detail"].startswith("take_back[0].supplies[0].product")


@given(st.integers(0, 2500), st.integers(1, 400))
def test_alternatives_are_tested_in_order_in_growing_chunks(count, first):
    from maas_kg.resilience.assessment import CHUNK, MAX_TESTED, _chunks

    alternatives = [{"service": f"urn:s:{n}"} for n in range(count)]
    chunks = list(_chunks(alternatives, first))
    assert [a for chunk in chunks for a in chunk] == alternatives[:MAX_TESTED]
    assert all(0 < len(chunk) <= max(CHUNK, first) for chunk in chunks)


#: demo services of several countries, processes and materials (300 providers, seed 1)
SAMPLE_SERVICES = ("toth-plastics-0/service/injectionmoulding", "thomas-sheet-metal-10/service/punching",
                   "jansen-heat-treatment-47/service/inductionhardening", "mayer-prazisionstechnik-70/service/fiveaxismilling",
                   "popescu-foundry-124/service/sandcasting", "novotny-sheet-metal-161/service/punching",
                   "garcia-heat-treatment-195/service/inductionhardening", "johansson-foundry-222/service/investmentcasting",
                   "popa-surface-finishing-267/service/powdercoating", "hansen-precision-machining-278/service/fiveaxismilling",
                   "schafer-kunststofftechnik-290/service/plasticsextrusion", "gerber-gieerei-190/service/sandcasting")


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_known_hits_answer_as_the_rule_does(store, data):
    # each (event, service) is asked of the rule once, whatever subsets of events and services come after
    from maas_kg.resilience.assessment import KnownHits
    from maas_kg.resilience.events import touched

    events = from_library(sorted(library()), store)
    services = [f"https://w3id.org/maas-kg/id/provider/{s}" for s in data.draw(st.lists(st.sampled_from(
        sorted(SAMPLE_SERVICES)), min_size=1, max_size=12))]
    known = KnownHits(store)
    for _ in range(3):
        chosen = data.draw(st.lists(st.sampled_from(events), min_size=1, max_size=4, unique_by=lambda e: e.id))
        asked = data.draw(st.lists(st.sampled_from(services), min_size=1, max_size=12))
        expected = touched(store, chosen, asked)
        assert known.hit(chosen, asked) == {e.id: set(expected.get(e.id, {})) for e in chosen}


@pytest.mark.parametrize("name", ["gearbox", "enclosures", "appliances"])
def test_providers_already_in_the_chain_are_offered_first_upstream_ones_marked(store, workspace, name):
    """R2 (iv): a provider that supplies the chain today and qualifies for a hit step is considered whatever its
    score, marked with the steps it supplies (upstream: an earlier step of the same product), and ranked before
    strangers that meet the due date and lie outside the hit countries alike."""
    chain = read_value_chain(example(name), store)
    events = from_library(list(library()), store)
    result = respond(workspace, store, chain, events, today=TODAY)
    roles = {}
    for product in chain.products:
        for index, step in enumerate(product.steps):
            for supply in step.suppliers:
                roles.setdefault(supply.provider, []).append((product.name, index, step.process_name))
    marked = 0
    for step in result["steps"]:
        position = next(i for i, s in enumerate(chain.products[[p.name for p in chain.products].index(
            step["product"])].steps) if s.process_name == step["step"])
        for option in step["options"]:
            mine = [r for r in roles.get(option["provider"], []) if (r[0], r[1]) != (step["product"], position)]
            assert {(s["product"], s["step"]) for s in option["supplies_chain"]} == {(r[0], r[2]) for r in mine}
            assert option["upstream_tier"] == any(r[0] == step["product"] and r[1] < position for r in mine)
            marked += bool(mine)
        keys = [(not o["meets_due_date"], not o["outside_affected_countries"], not o["upstream_tier"],
                 not o["supplies_chain"]) for o in step["options"]]
        assert keys == sorted(keys)
    if name == "enclosures":  # the powder coater that punches or bends the enclosure today
        assert marked and any(o["upstream_tier"] and "upstream tier" in o["reasons"][0]
                              for s in result["steps"] for o in s["options"])


def _cities_by_provider(services) -> dict[str, str]:
    """Provider IRI -> its demo city, from the demo's own draw (not from the catalogue the rule reads)."""
    return {service["provider"]["id"]: service["provider"]["city"] for service in services}


def test_the_regional_example_event_hits_exactly_the_suppliers_in_its_regions(store, workspace):
    import csv

    from maas_kg.catalogue.demo import DATA

    with (DATA / "cities.csv").open(encoding="utf-8") as file:
        region_of_city = {row["city"]: row["region"] for row in csv.DictReader(file)}
    city_of_provider = _cities_by_provider(generate_services(300, 1))
    [flood] = from_library(["south-german-flood"], store)
    assert flood.regions == ("DE-BY", "DE-BW") and flood.kinds() == {"region"}
    suppliers = sorted({service for path in sorted((EXAMPLES / "value-chains").glob("*.json"))
                        for service in read_value_chain(json.loads(path.read_text()), store).services()})
    expected = {service for service in suppliers
                if region_of_city[city_of_provider[service.split("/service/")[0]]] in flood.regions}
    assert len(expected) >= 2  # the Karlsruhe powder coater and the Regensburg injection moulder
    hit = touched(store, [flood], suppliers)["south-german-flood"]
    assert set(hit) == expected and all(reasons == ["region"] for reasons in hit.values())
    chain = read_value_chain(example("appliances"), store)
    [assessed] = assess(workspace, store, chain, [flood], runs=100, seed=1, today=TODAY)["events"]
    assert assessed["products"] and "suppliers_without_region" not in assessed  # every demo site states its region


def test_a_region_hits_sites_stating_it_or_a_subdivision_of_it(tmp_path):
    small = create_app({"STORE": "memory", "KEYS_FILE": str(tmp_path / "keys.sqlite"), "TESTING": True})
    catalogue_store = small.extensions["maas_kg"].catalogue
    base = "https://example.org/region-test/"
    sites = {"rhone": ("FR-69", 45.76, 4.84), "auvergne": ("FR-ARA", 45.19, 5.72), "paris": ("FR-IDF", 48.86, 2.35),
             "unstated": (None, 45.77, 4.83)}
    services = []
    for name, (region, lat, lon) in sites.items():
        service = json.loads((Path(__file__).parent / "data" / "service-weber.json").read_text())
        location = {"lat": lat, "lon": lon, **({"region": region} if region else {})}
        service.update(id=f"{base}service/{name}", provider={"id": f"{base}provider/{name}", "country": "FR",
                                                             "name": f"Usinage {name}", "location": location})
        services.append(service)
    published = catalogue.publish(catalogue_store, json.dumps(services).encode(), "json")
    assert all(r.published for r in published), [r.violations for r in published]
    events = read_events([{"id": "ara", "type": "natural disaster", "scope": {"regions": ["FR-ARA"]},
                           "probability_per_year": 0.01, "duration_days": 10},
                          {"id": "rhone", "type": "natural disaster", "scope": {"regions": ["FR-69"]},
                           "probability_per_year": 0.01, "duration_days": 10}], catalogue_store)
    hit = touched(catalogue_store, events, [s["id"] for s in services])
    # FR-69 (Rhône) lies in FR-ARA (Auvergne-Rhône-Alpes) as pycountry has it; a site stating only FR-ARA may lie
    # outside FR-69, and a site stating no region cannot be judged: neither is hit by the department
    assert set(hit["ara"]) == {f"{base}service/rhone", f"{base}service/auvergne"}
    assert set(hit["rhone"]) == {f"{base}service/rhone"}


@pytest.mark.parametrize("regions, field, hint", [
    (["DE-BY", "DE-XX"], "events[0].scope.regions[1]", "the first-level codes of DE are DE-BB"),
    (["DE"], "events[0].scope.regions[0]", "scope.countries"),
    (["Bavaria"], "events[0].scope.regions[0]", "such as DE-BY"),
    (["XX-1"], "events[0].scope.regions[0]", "XX is no country with ISO 3166-2 codes")])
def test_an_unknown_region_is_refused_naming_the_field_with_a_hint(store, regions, field, hint):
    event = {"id": "x", "type": "natural disaster", "scope": {"regions": regions}, "probability_per_year": 0.1,
             "duration_days": 10}
    with pytest.raises(FieldError) as raised:
        read_events([event], store)
    assert raised.value.field == field and hint in str(raised.value), str(raised.value)


# -- value chains in RDF (issue 19) -----------------------------------------------------------------------------

from maas_kg.resilience.value_chains import RdfDocument  # noqa: E402  (appended with the RDF tests)


def _turtle(name: str) -> bytes:
    return (EXAMPLES / "value-chains" / f"{name}.ttl").read_bytes()


def _canonical(chain) -> tuple:
    """A value chain independent of the order RDF gives its products, steps and suppliers in."""
    return (chain.id, chain.name, chain.currency, sorted(
        (p.document.get("id"), p.name, p.yearly_volume, p.unit_revenue, p.safety_stock_days, p.order_cadence_days,
         sorted((s.process, tuple(sorted((x.service, x.share) for x in s.suppliers))) for s in p.steps),
         sorted((o.quantity, o.due) for o in p.open_orders)) for p in chain.products))


def test_a_turtle_value_chain_assesses_like_its_json(store, workspace):
    from_json = read_value_chain(example("gearbox"), store)
    from_turtle = read_value_chain(RdfDocument(_turtle("gearbox"), "turtle"), store)
    assert from_turtle.products[0].steps == from_json.products[0].steps
    assert _canonical(from_turtle) == _canonical(from_json)
    events = from_library(["gerber-insolvency", "limmat-flood"], store)
    assert assess(workspace, store, from_turtle, events, runs=500, seed=2, today=TODAY) == \
        assess(workspace, store, from_json, events, runs=500, seed=2, today=TODAY)


def test_plain_json_with_the_context_is_json_ld_that_reads_like_the_turtle(store):
    import rdflib

    context = json.loads((Path(__file__).parents[1] / "ontology" / "context-value-chain.jsonld").read_text())
    document = {**context, **example("gearbox")}
    graph = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
    assert len(graph) > 50
    from_jsonld = read_value_chain(RdfDocument(graph.serialize(format="nt").encode(), "ntriples"), store)
    from_turtle = read_value_chain(RdfDocument(_turtle("gearbox"), "turtle"), store)
    assert _canonical(from_jsonld) == _canonical(from_turtle)
    # pyoxigraph's JSON-LD reader (the one requests go through) reads it alike
    direct = read_value_chain(RdfDocument(json.dumps(document).encode(), "jsonld"), store)
    assert _canonical(direct) == _canonical(from_turtle)


@pytest.mark.parametrize("change, field", [
    (lambda t: t.replace("maas:hasChainProduct", "maas:hasChainProductX", 1), "products"),
    (lambda t: t.replace("a maas:ValueChain", "a maas:Product", 1).replace("maas:hasChainProduct", "maas:x", 1),
     "maas:ValueChain"),
    (lambda t: t + "\n<https://example.org/value-chain/other> a maas:ValueChain ; maas:hasChainProduct "
                   "<https://w3id.org/maas-kg/id/product/hardened-gear> .\n", "maas:ValueChain"),
    (lambda t: t.replace("provider/gerber-gieerei-190/service/lowpressurediecasting", "provider/none/service/x"),
     "products[0].steps[0].suppliers[0].service"),
    (lambda t: t.replace("maas:yearlyVolume 24000 ;", "", 1), "products[0].yearly_volume"),
    (lambda t: t.replace("maas:yearlyVolume 24000 ;", "maas:yearlyVolume 24000 , 25000 ;", 1),
     "products[0].yearly_volume"),
])
def test_a_bad_rdf_value_chain_names_its_field(store, change, field):
    text = change(_turtle("gearbox").decode())
    with pytest.raises(FieldError) as raised:
        read_value_chain(RdfDocument(text.encode(), "turtle"), store)
    assert raised.value.field == field, str(raised.value)


def test_malformed_rdf_is_one_line_naming_the_syntax_and_line(store):
    from maas_kg.errors import InvalidInput

    with pytest.raises(InvalidInput) as raised:
        read_value_chain(RdfDocument(b"@prefix maas: <https://w3id.org/maas-kg/ns#> .\n\n<a> maas:x [ .\n", "turtle"),
                         store)
    message = str(raised.value)
    assert "\n" not in message and message.startswith("malformed turtle") and "3" in message, message


def test_rdf_value_chains_over_http_and_the_command_line(app, tmp_path):
    client = app.test_client()
    answer = client.post("/resilience/assess?event=gerber-insolvency&runs=200&today=2026-12-01",
                         data=_turtle("gearbox"), content_type="text/turtle")
    assert answer.status_code == 200, answer.json
    assert {s["product"] for s in answer.json["exposure"]["steps"]} >= {"Case-hardened spur gear"}
    bad = client.post("/resilience/assess", data=b"<a> <b> [ .", content_type="text/turtle")
    assert bad.status_code == 400, bad.json


def test_the_command_line_reads_a_value_chain_by_its_extension(tmp_path):
    env = {**os.environ, "MAAS_KG_STORE": str(tmp_path / "store"), "MAAS_KG_KEYS": str(tmp_path / "keys.sqlite")}
    # an empty catalogue: the Turtle file is read, and its first supplier named as not published
    chain = str(EXAMPLES / "value-chains" / "gearbox.ttl")
    refused = cli(env, "resilience", "assess", chain)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr, refused.stderr
    assert "value_chain.products[0].steps[0].suppliers[0].service" in refused.stderr, refused.stderr
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> [ .")
    failed = cli(env, "circular", "criticality", str(broken))
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert "malformed turtle" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1, failed.stderr


def test_open_orders_and_the_currency_are_in_the_value_chains_rdf_and_checked_by_its_shapes(store):
    import dataclasses

    from maas_kg.knowledge.validation import validate_data
    from maas_kg.resilience.value_chains import OpenOrder, _shapes, as_rdf

    chain = read_value_chain(example("gearbox"), store)
    graph = as_rdf(chain)
    orders = sum(len(p.open_orders) for p in chain.products)
    assert orders and len(set(graph.subjects(rdflib.RDF.type, rdflib.URIRef(
        "https://w3id.org/maas-kg/ns#OpenOrder")))) == orders
    assert validate_data(graph, _shapes(), owned=True).conforms
    product = chain.products[0]
    bad = dataclasses.replace(chain, currency="euro", products=(
        dataclasses.replace(product, open_orders=(OpenOrder(0, datetime.date(2027, 1, 1)),)), *chain.products[1:]))
    messages = {v.message for v in validate_data(as_rdf(bad), _shapes(), owned=True).violations}
    assert messages == {"currency must be one ISO 4217 code in capitals, such as EUR",
                        "open_orders[].quantity is required: a whole number of units, at least 1"}
