"""A deterministic demo catalogue: realistic providers in real European cities, each with the services its kind of
shop offers, in the plain JSON service format.

The facts live in data: ``demo_data/cities.csv`` (coordinates, countries, ISO 3166-2 regions, currencies),
``demo_data/archetypes.json`` (what each kind of shop offers, on which machine, in which materials, with price and
capacity ranges) and ``demo_data/names.json``; tolerance, roughness and batch ranges come from the process profiles
in the ontology, so a demo service never claims more than its process can achieve. Provider ``k`` is derived from
``(seed, k)`` alone, so the generator streams any number of services without holding them in memory.
"""

from __future__ import annotations

import csv
import datetime
import functools
import json
import random
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import rdflib
from rdflib.namespace import RDF, RDFS

from maas_kg import knowledge
from maas_kg.knowledge import MAAS, MAT, PROC

DATA = Path(__file__).parent.parent / "demo_data"
ID = "https://w3id.org/maas-kg/id/"


@functools.cache
def _it_width_um(grade: int, size_mm: float = 40.0) -> float:
    """ISO 286 tolerance width of an IT grade at a nominal size, from the ontology's ISO 286 table."""
    graph = knowledge.ontology_graph()
    for row in graph.subjects(MAAS.gradeNumber, rdflib.Literal(grade)):
        low, high = graph.value(row, MAAS.sizeOver), graph.value(row, MAAS.sizeUpTo)
        if low is not None and high is not None and float(low) < size_mm <= float(high):
            return float(graph.value(row, MAAS.toleranceWidth))
    raise LookupError(f"no ISO 286 value for IT{grade} at {size_mm} mm")


@functools.cache
def _cities() -> list[dict]:
    with (DATA / "cities.csv").open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


@functools.cache
def _archetypes() -> list[dict]:
    return json.loads((DATA / "archetypes.json").read_text(encoding="utf-8"))["archetypes"]


@functools.cache
def _names() -> dict:
    return json.loads((DATA / "names.json").read_text(encoding="utf-8"))


@functools.cache
def _derived_profiles() -> dict[tuple[str, str], object]:
    """The effective capability profiles, as derived by queries/derive/ (first value per class and property)."""
    from maas_kg.knowledge.graphs import DERIVED_GRAPH_BASE, derive_from_ontology

    profiles: dict[tuple[str, str], object] = {}
    for subject, predicate, value in derive_from_ontology()[DERIVED_GRAPH_BASE + "profiles"]:
        key = (subject.value, predicate.value)
        if key not in profiles or value.value < profiles[key]:  # several values: keep one, deterministically
            profiles[key] = value.value
    return profiles


@functools.cache
def _profile(process: str) -> dict:
    cls = str(PROC[process])
    profiles = _derived_profiles()
    if (cls, str(MAAS.profileRole)) not in profiles:
        raise ValueError(f"demo archetype names a process without a profile: {process}")

    def get(name: str, cast):
        value = profiles.get((cls, str(MAAS[name])))
        return cast(value) if value is not None else None

    return {"it": (get("profileITGradeBest", int), get("profileITGradeTypical", int)),
            "ra": (get("profileRaBest", float), get("profileRaTypical", float)),
            "batch": (get("profileBatchMin", int) or 1, get("profileBatchMax", int) or 100000),
            "max_mass": get("profileMaxPartMass", float)}


def _price(rng: random.Random, offer: dict, city: dict) -> dict:
    """The archetype's price model is in euros; a shop that quotes in its own currency converts it at the reference
    rate of ontology/exchange-rates.ttl (the same draws either way: drawing other numbers per currency once made a
    Czech shop's 2,763 CZK look like the best price against 1,224 EUR elsewhere)."""
    currency = "EUR" if rng.random() < 0.7 else city["currency"]
    setup, unit = rng.uniform(*offer["setup"]), rng.uniform(*offer["unit"])
    rate = _units_per_euro()[currency]
    return {"currency": currency, "setup": round(setup * rate), "unit": _round(unit * rate)}


@functools.cache
def _units_per_euro() -> dict[str, float]:
    graph = knowledge.ontology_graph()
    return {str(graph.value(rate, MAAS.rateCurrency)): float(graph.value(rate, MAAS.unitsPerEuro))
            for rate in graph.subjects(RDF.type, MAAS.ReferenceExchangeRate)}


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _round(value: float, digits: int = 2) -> float:
    return float(f"{value:.{digits}g}") if value < 1 else round(value, 1 if value < 100 else 0)


def _pick_weighted(rng: random.Random, items: list[dict]) -> dict:
    return rng.choices(items, weights=[a["weight"] for a in items])[0]


def generate_provider(seed: int, index: int, today: datetime.date) -> list[dict]:
    """The services of demo provider ``index`` (deterministic in seed and index)."""
    rng = random.Random(f"maas-kg-demo-{seed}-{index}")
    archetype = _pick_weighted(rng, _archetypes())
    city = rng.choice(_cities())
    names = _names().get(city["country"], _names()["DE"])
    surname = rng.choice(names["names"])
    label = archetype["name"] if city["country"] in ("DE", "AT", "CH") else archetype["name_en"]
    name = f"{surname} {label} {rng.choice(names['forms'])}"
    provider_id = f"{ID}provider/{_slug(surname)}-{_slug(label)}-{index}"
    certs = sorted(c for c, p in archetype["certifications"].items() if rng.random() < p)
    provider = {
        "id": provider_id, "name": name, "country": city["country"], "city": city["city"],
        "location": {"lat": round(float(city["lat"]) + rng.uniform(-0.08, 0.08), 4),
                     "lon": round(float(city["lon"]) + rng.uniform(-0.12, 0.12), 4), "region": city["region"]},
        "certifications": [c if c != "NADCAP" else "Nadcap" for c in certs],
    }
    offers = rng.sample(archetype["offers"], k=rng.randint(2, min(6, len(archetype["offers"]))))
    # offers some shops add (extra_offers, each with its probability) are drawn apart, so that adding one leaves
    # every service drawn before as it was (the example value chains name demo services)
    extra = random.Random(f"maas-kg-demo-{seed}-{index}-extra")
    added = [offer for offer in archetype.get("extra_offers", []) if extra.random() < offer["probability"]
             and offer["process"] not in {o["process"] for o in offers}]
    services = [_service(rng, offer, provider, provider_id, city, today) for offer in offers]
    return services + [_service(extra, offer, provider, provider_id, city, today) for offer in added]


def _service(rng: random.Random, offer: dict, provider: dict, provider_id: str, city: dict,
             today: datetime.date) -> dict:
    profile = _profile(offer["process"])
    it_best, it_typical = profile["it"]
    ra_best, ra_typical = profile["ra"]
    service = {
        "id": f"{provider_id}/service/{_slug(offer['process'])}",
        "name": f"{offer['process_label'] if 'process_label' in offer else _label(offer['process'])} on {offer['machine']}",
        "provider": provider,
        "process": str(PROC[offer["process"]]),
        "materials": [str(MAT[m]) for m in rng.sample(offer["materials"], k=rng.randint(1, len(offer["materials"])))],
        "envelope_mm": [round(e * rng.uniform(0.8, 1.0)) or 1 for e in offer["envelope"]],
        "batch_size": _batch(rng, profile["batch"]),
        "capacity_per_week": round(rng.uniform(*offer["capacity"])),
        "lead_time_days": rng.randint(*offer["lead"]),
        "price": _price(rng, offer, city),
        "valid_until": (today + datetime.timedelta(days=rng.randint(120, 720))).isoformat(),
    }
    if it_best and it_typical:
        grade = rng.randint(it_best, it_typical)
        service["it_grade"] = grade
        service["tolerance_mm"] = round(_it_width_um(grade) / 2000, 4)  # +/- half the width, in mm
    if ra_best and ra_typical:
        service["roughness_ra_um"] = _round(rng.uniform(ra_best, ra_typical))
    if rng.random() < 0.5:  # never more than the process can typically handle
        limit = profile["max_mass"] or 500.0
        service["max_mass_kg"] = _round(rng.uniform(min(5.0, limit / 2), limit))
    # a share of the shops publishes a cost model besides the flat price (issue 22), drawn apart so that every value
    # drawn before stays as it was; the ontology's time model of the class gives the parameters
    costing = random.Random(f"maas-kg-demo-cost-{service['id']}")
    if _has_time_model(offer["process"]) and costing.random() < COST_MODEL_SHARE:
        currency = service["price"]["currency"]
        service["cost_model"] = {"machine_hour_rate": round(costing.uniform(*MACHINE_HOUR_RATE_EUR)
                                                            * _units_per_euro()[currency]),
                                 "currency": currency}
    return service


#: the share of demo services of a class with a time model that publish a cost model, and their machine-hour rates
#: in euros (German job shops' rates for CNC machining and additive manufacturing lie about there)
COST_MODEL_SHARE = 0.3
MACHINE_HOUR_RATE_EUR = (55.0, 120.0)


@functools.cache
def _has_time_model(process: str) -> bool:
    """Whether the class or a class above it has a time model (ontology/cost-models.ttl)."""
    graph = knowledge.ontology_graph()
    holders = set(graph.objects(None, MAAS.timeModelProcess))
    return any(cls in holders for cls in graph.transitive_objects(PROC[process], RDFS.subClassOf))


def _batch(rng: random.Random, bounds: tuple[int, int]) -> list[int]:
    low, high = bounds
    minimum = low if rng.random() < 0.6 else min(high, low * rng.choice((1, 5, 10)))
    return [int(minimum), int(max(minimum, high // rng.choice((1, 2, 5))))]


@functools.cache
def _label(process: str) -> str:
    graph = knowledge.ontology_graph()
    for label in graph.objects(PROC[process], RDFS.label):
        if label.language == "en":
            text = str(label)
            return text[0].upper() + text[1:]
    return process


def generate_services(providers: int = 300, seed: int = 1, *, today: datetime.date | None = None) -> Iterator[dict]:
    """Stream the services of ``providers`` demo providers in the plain JSON service format."""
    today = today or datetime.date(2026, 11, 1)
    for index in range(providers):
        yield from generate_provider(seed, index, today)
