"""Spellings people use in the plain JSON formats (issue 21, item 13): names matched by a normalised key, synonyms
stated in the ontology, numbers written as strings with a decimal comma."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from maas_kg.catalogue import validate_document
from maas_kg.catalogue.ingest import InputError, read_input, term_indexes
from maas_kg.knowledge import MAAS, MAT, PROC
from maas_kg.knowledge.vocabulary import AmbiguousTerm, TermIndex, UnknownTerm, match_key

ROOT = Path(__file__).parents[1]
SERVICE = json.loads((ROOT / "tests" / "data" / "service-weber.json").read_text(encoding="utf-8"))
PRODUCT = json.loads((ROOT / "examples" / "products" / "titanium-bracket.json").read_text(encoding="utf-8"))


def _objects(doc: dict, kind: str, predicate) -> set[str]:
    """The objects of ``predicate`` on the document's own node (not on its provider)."""
    normalised = read_input(json.dumps(doc).encode(), "json", kind=kind)
    assert not normalised.problems, normalised.problems
    return {t.object.value for t in normalised.triples
            if t.subject.value == doc["id"] and t.predicate.value == str(predicate)}


def _conforms(doc: dict, kind: str) -> None:
    report = validate_document(json.dumps(doc).encode(), "json", kind=kind)
    assert report.conforms, report.as_text()


# -- names ---------------------------------------------------------------------------------------------------------

def test_titanium_alloy_without_dashes():
    service = {**SERVICE, "materials": ["Ti6Al4V"]}
    _conforms(service, "service")
    assert _objects(service, "service", MAAS.material) == {str(MAT.Ti6Al4V)}
    product = {**PRODUCT, "material": "ti6al4v"}
    _conforms(product, "product")
    assert _objects(product, "product", MAAS.material) == {str(MAT.Ti6Al4V)}


@pytest.mark.parametrize("name", ["ISO9001:2015", "ISO 9001:2015", "iso 9001 2015", "ISO-9001"])
def test_certification_with_its_edition_year(name):
    service = {**SERVICE, "certifications": [name]}
    _conforms(service, "service")
    assert _objects(service, "service", MAAS.holdsCertification) == {str(MAAS.ISO9001)}


def test_product_requires_a_certification_with_its_edition_year():
    product = {**PRODUCT, "certifications": ["AS9100:2016"]}
    _conforms(product, "product")
    assert _objects(product, "product", MAAS.requiredCertification) == {str(MAAS.AS9100)}


@pytest.mark.parametrize("name", ["5 axis milling", "5-Axis-Milling", "5_axis_milling", "five-axis milling",
                                  "Five axis milling"])
def test_five_axis_milling_however_written(name):
    service = {**SERVICE, "process": name}
    _conforms(service, "service")
    assert _objects(service, "service", MAAS.processType) == {str(PROC.FiveAxisMilling)}


@pytest.mark.parametrize("name", ["Edelstahl", "edelstahl", "Edelstahl rostfrei"])
def test_stainless_steel_in_german(name):
    service = {**SERVICE, "materials": [name]}
    _conforms(service, "service")
    assert _objects(service, "service", MAAS.material) == {str(MAT.StainlessSteel)}


def test_the_edition_year_is_ignored_only_after_a_standard_number():
    assert match_key("ISO9001:2015", "certification") == match_key("ISO 9001", "certification") == "iso9001"
    assert match_key("DIN 2015", "certification") == "din2015"  # the standard's own number stays
    assert match_key("ISO 9001:2015", "material") == "iso90012015"  # years are a certification matter only
    assert match_key(" EN AW\u20116061 ") == match_key("en_aw.6061") == "enaw6061"


def test_an_unknown_name_still_gets_readable_suggestions():
    with pytest.raises(UnknownTerm) as err:
        term_indexes()["process"].resolve("laser beam cuting")
    assert "laser beam cutting" in err.value.suggestions


def test_two_terms_with_the_same_normalised_name_are_ambiguous():
    graph = rdflib.Graph()
    root, ti64, other = MAT.Material, MAT.Ti6Al4V, MAT.SomeOtherAlloy
    for klass, label in ((ti64, "Ti-6Al-4V"), (other, "Ti6Al4V")):
        graph.add((klass, RDF.type, OWL.Class))
        graph.add((klass, RDFS.subClassOf, root))
        graph.add((klass, RDFS.label, rdflib.Literal(label, lang="en")))
    index = TermIndex.build(graph, root, "material")
    for name in ("Ti6Al4V", "ti-6al-4v", "TI 6AL 4V"):
        with pytest.raises(AmbiguousTerm) as err:
            index.resolve(name)
        assert err.value.matches == sorted([str(ti64), str(other)])


def test_an_ambiguous_name_is_refused_in_a_document(monkeypatch):
    """Through the whole reading of a document: a name two terms share is reported, not resolved to one of them."""
    from maas_kg.catalogue import ingest

    indexes = dict(term_indexes())
    materials = indexes["material"]
    key = match_key("Edelstahl", "material")
    names = {**materials.names, key: frozenset({MAT.StainlessSteel, MAT.Stainless1_4301})}
    indexes["material"] = TermIndex(materials.kind, materials.root, names, materials.members, materials.shown)
    monkeypatch.setattr(ingest, "term_indexes", lambda: indexes)
    report = validate_document(json.dumps({**SERVICE, "materials": ["EDEL-STAHL"]}).encode(), "json")
    assert not report.conforms
    assert any("ambiguous" in v.message and v.value == "EDEL-STAHL" for v in report.violations), report.as_text()


def test_the_shipped_ontology_has_no_ambiguous_normalised_names():
    for kind, index in term_indexes().items():
        shared = {key: sorted(map(str, terms)) for key, terms in index.names.items() if len(terms) > 1}
        assert not shared, f"{kind}: {shared}"


# -- numbers -------------------------------------------------------------------------------------------------------

def test_a_decimal_comma_is_read_as_a_decimal_point():
    service = {**SERVICE, "max_mass_kg": "45,50", "tolerance_mm": "0,025", "envelope_mm": ["650", "520,5", 475.5],
               "price": {"currency": "EUR", "setup": "250,00", "unit": "38,5"}, "lead_time_days": "10"}
    _conforms(service, "service")
    triples = {(t.predicate.value, t.object.value) for t in read_input(json.dumps(service).encode(), "json").triples}
    assert (str(MAAS.maxPartMass), "45.5") in triples
    assert (str(MAAS.achievableTolerance), "0.025") in triples
    assert (str(MAAS.envelopeY), "520.5") in triples
    assert (str(MAAS.unitPrice), "38.5") in triples
    assert (str(MAAS.leadTimeDays), "10") in triples


def test_a_product_with_decimal_commas():
    product = {**PRODUCT, "mass_kg": "0,4", "quantity": "5",
               "delivery": {**PRODUCT["delivery"], "lat": "43,6047", "max_distance_km": "2000"}}
    _conforms(product, "product")
    triples = {(t.predicate.value, t.object.value) for t in read_input(json.dumps(product).encode(), "json",
                                                                       kind="product").triples}
    assert (str(MAAS.partMass), "0.4") in triples
    assert (str(MAAS.latitude), "43.6047") in triples


@pytest.mark.parametrize("number", ["1,234.5", "1.234,5", "1 234", "1,234,567", "1.234.567", "1,234", "12,500"])
def test_a_number_with_thousands_separators_is_refused_naming_the_field(number):
    with pytest.raises(InputError, match=r"max_mass_kg .*decimal point"):
        validate_document(json.dumps({**SERVICE, "max_mass_kg": number}).encode(), "json")


def test_a_badly_formed_number_in_a_product_names_the_field():
    product = {**PRODUCT, "delivery": {**PRODUCT["delivery"], "max_distance_km": "2,000.0"}}
    with pytest.raises(InputError, match=r"product #1: max_distance_km '2,000.0'"):
        validate_document(json.dumps(product).encode(), "json", kind="product")


def test_a_string_that_is_no_number_is_still_reported_by_the_shapes():
    report = validate_document(json.dumps({**SERVICE, "max_mass_kg": "heavy"}).encode(), "json")
    assert not report.conforms and any("max_mass_kg" in v.message for v in report.violations)


def test_text_fields_are_not_read_as_numbers():
    service = {**SERVICE, "name": "1,5", "provider": {**SERVICE["provider"], "name": "1,234.5"}}
    _conforms(service, "service")
    assert "1,5" in _objects(service, "service", MAAS.name)
