"""The fields of stage-3 documents (requests, offers, events, evaluations): each read with its type and bounds, and
every error naming the field and what it takes (a 422 problem, a one-line CLI error)."""

from __future__ import annotations

import datetime
import decimal
import json
import re

import pyoxigraph as ox

from maas_kg.errors import Unprocessable

MAX_TEXT = 2000  # characters of a note, a reason, conditions
MAX_REQUIREMENTS = 16_384  # bytes of a step's requirements as JSON
MAX_DEPTH = 8


class FieldError(Unprocessable):
    """A field is missing or holds what it cannot take; the message names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def document(value: object, field: str = "body") -> dict:
    if not isinstance(value, dict):
        raise FieldError(field, "must be a JSON object")
    return value


def text(doc: dict, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    value = doc.get(field)
    if value is None or value == "":
        if required:
            raise FieldError(field, "is required")
        return None
    if not isinstance(value, str):
        raise FieldError(field, "must be a string")
    if len(value) > limit:
        raise FieldError(field, f"has {len(value)} characters, at most {limit}")
    return value


def iri(doc: dict, field: str) -> str:
    value = text(doc, field, limit=1000)
    try:
        ox.NamedNode(value)
    except ValueError:
        raise FieldError(field, f"must be an absolute IRI, not {value[:100]!r}") from None
    if not re.match(r"^https?://", value):
        raise FieldError(field, "must be an http(s) IRI")
    return value


def integer(doc: dict, field: str, *, low: int, high: int, default: int | None = None) -> int:
    value = doc.get(field, default)
    if value is None:
        raise FieldError(field, "is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, f"must be a whole number from {low} to {high}")
    if not low <= value <= high:
        raise FieldError(field, f"is {value}, must be from {low} to {high}")
    return value


def number(doc: dict, field: str, *, low: float, high: float, default: float | None = None) -> float:
    """A JSON number from ``low`` to ``high`` (``default`` where the field is absent; required without one)."""
    value = doc.get(field, default)
    if value is None:
        raise FieldError(field, "is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise FieldError(field, f"must be a number from {low:g} to {high:g}")
    return float(value)


def within(prefix: str, err: FieldError) -> FieldError:
    """``err`` of a nested document, its field named from the enclosing one (``products[0].steps[1]``)."""
    return FieldError(f"{prefix}.{err.field}", str(err).split(": ", 1)[1])


def fraction(doc: dict, field: str) -> float | None:
    """A number from 0 to 1, if given (a match score)."""
    value = doc.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise FieldError(field, "must be a number from 0 to 1")
    return float(value)


def boolean(doc: dict, field: str) -> bool:
    value = doc.get(field)
    if not isinstance(value, bool):
        raise FieldError(field, "must be true or false")
    return value


def date(doc: dict, field: str, *, required: bool = True) -> datetime.date | None:
    value = doc.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise FieldError(field, "must be a date as YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise FieldError(field, f"must be a date as YYYY-MM-DD, not {value[:40]!r}") from None


def amount(doc: dict, field: str) -> str:
    """A positive decimal (a JSON number or a string), kept as its decimal text."""
    value = doc.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FieldError(field, "must be a positive decimal number")
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise FieldError(field, f"must be a positive decimal number, not {str(value)[:40]!r}") from None
    if not number.is_finite() or number <= 0 or number >= 10 ** 12:
        raise FieldError(field, "must be above 0 and below 1,000,000,000,000")
    return str(number.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_EVEN))


def currency(doc: dict, field: str = "currency") -> str:
    value = text(doc, field, limit=3)
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise FieldError(field, f"must be an ISO 4217 code such as EUR, not {value!r}")
    return value


def incoterm(doc: dict, field: str = "incoterm") -> str | None:
    """An Incoterms 2020 rule, if given."""
    value = text(doc, field, required=False, limit=3)
    if value is not None and value not in INCOTERMS:
        raise FieldError(field, f"must be one of the Incoterms 2020 rules ({', '.join(INCOTERMS)}), not {value!r}")
    return value


INCOTERMS = ("EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF")


def json_object(doc: dict, field: str, *, required: bool = True) -> dict:
    """A JSON object of bounded size and depth (what a provider is shown of the product)."""
    value = doc.get(field)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise FieldError(field, "must be a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise FieldError(field, f"nests deeper than {MAX_DEPTH} levels")
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > MAX_REQUIREMENTS:
        raise FieldError(field, f"is {size} bytes as JSON, at most {MAX_REQUIREMENTS}")
    return value


def _depth(value: object, level: int = 1) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level)
    return level


def place(doc: dict, field: str = "delivery") -> dict:
    """Where a step's output goes: a name and/or coordinates."""
    value = doc.get(field)
    if not isinstance(value, dict):
        raise FieldError(field, "must be an object with 'place' and/or 'lat' and 'lon'")
    result = {}
    name = text(value, "place", required=False, limit=200)
    if name:
        result["place"] = name
    for axis, bound in (("lat", 90), ("lon", 180)):
        number = value.get(axis)
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not -bound <= number <= bound:
            raise FieldError(f"{field}.{axis}", f"must be a number from -{bound} to {bound}")
        result[axis] = float(number)
    if ("lat" in result) != ("lon" in result):
        raise FieldError(field, "needs both lat and lon, or neither")
    if not result:
        raise FieldError(field, "must name a place or give lat and lon")
    return result
