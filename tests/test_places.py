"""The delivery-place gazetteer (maas_kg/matching/places.py): cities by name, coordinates as given, and errors
that say what to write instead; and the plain JSON product's ``delivery.place``, resolved before normalisation."""

from __future__ import annotations

import json

import pytest

from maas_kg.matching import places
from maas_kg.matching.products import ProductError, with_delivery_places_resolved


@pytest.mark.parametrize("text, name, country", [
    ("Munich", "Munich", "DE"), ("München", "Munich", "DE"), ("muenchen", "Munich", "DE"),
    ("Düsseldorf", "Düsseldorf", "DE"), ("dusseldorf", "Düsseldorf", "DE"),
    ("Frankfurt, Germany", "Frankfurt am Main", "DE"), ("  Stuttgart ", "Stuttgart", "DE"),
])
def test_a_city_by_its_name_in_any_spelling(text, name, country):
    found = places.resolve(text)
    assert (found.name, found.country) == (name, country)


def test_an_ambiguous_name_is_the_most_populous_city_unless_a_country_narrows_it():
    springfields = places._gazetteer().cities["springfield"]
    assert places.resolve("Springfield") == springfields[0]
    assert [p.population for p in springfields] == sorted((p.population for p in springfields), reverse=True)
    assert places.resolve("Paris").country == "FR"
    assert places.resolve("Paris, US").country == "US"
    assert places.resolve("Springfield, us").country == "US"


def test_coordinates_stay_accepted():
    assert places.resolve("48.14, 11.58") == places.Place(48.14, 11.58)
    assert places.resolve("-33.9;18.4").label == "-33.9, 18.4"


@pytest.mark.parametrize("text, reason, says", [
    ("Xyzzyville", "unknown", "no city named 'Xyzzyville'"),
    ("80331", "postcode", "postcodes are not resolved"),
    ("D-80331 München", "postcode", "postcodes are not resolved"),
    ("Munich, Narnia", "country", "no country 'Narnia'"),
    ("91, 0", "range", "latitude -90..90"),
    ("", "empty", "write a city or coordinates"),
])
def test_an_unknown_place_says_why_and_what_to_write(text, reason, says):
    with pytest.raises(places.UnknownPlace) as raised:
        places.resolve(text)
    assert raised.value.reason == reason
    assert says in str(raised.value) and '"Munich"' in str(raised.value)
    assert "Koordinaten" in raised.value.message("de")


def test_the_product_format_takes_a_delivery_place_by_name():
    product = {"name": "shaft", "delivery": {"place": "Munich", "due": "2027-04-30"}}
    resolved = json.loads(with_delivery_places_resolved(json.dumps(product).encode()))
    munich = places.resolve("Munich")
    assert resolved["delivery"] == {"lat": munich.lat, "lon": munich.lon, "due": "2027-04-30"}
    # coordinates beside a place win; a document without a place is left as it is
    both = {"delivery": {"place": "Munich", "lat": 1, "lon": 2}}
    assert json.loads(with_delivery_places_resolved(json.dumps(both).encode()))["delivery"] == {"lat": 1, "lon": 2}
    plain = json.dumps({"delivery": {"lat": 1, "lon": 2}}).encode()
    assert with_delivery_places_resolved(plain) is plain


def test_an_unknown_delivery_place_names_the_field():
    with pytest.raises(ProductError, match=r"^delivery.place: no city named 'Xyzzyville'"):
        with_delivery_places_resolved(json.dumps({"delivery": {"place": "Xyzzyville"}}).encode())
    with pytest.raises(ProductError, match=r"delivery.place must be a text"):
        with_delivery_places_resolved(json.dumps({"delivery": {"place": 12}}).encode())
