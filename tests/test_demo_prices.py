"""Issue 21, item 1: demo prices are realistic in every currency (the archetype's euro price model converted at the
reference rate), and a quote far outside its step's prices is flagged in the match answer."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from maas_kg.catalogue import demo
from maas_kg.catalogue.demo import generate_services
from maas_kg.matching.report import _flagged, _price_spread


def test_every_demo_price_is_the_euro_price_model_at_the_reference_rate():
    archetypes = json.loads((Path(demo.__file__).parents[1] / "demo_data" / "archetypes.json").read_text())
    ranges = {}
    for archetype in archetypes["archetypes"]:
        for offer in archetype["offers"] + archetype.get("extra_offers", []):
            setup, unit = ranges.get(offer["process"], ((1e18, 0), (1e18, 0)))
            ranges[offer["process"]] = ((min(setup[0], offer["setup"][0]), max(setup[1], offer["setup"][1])),
                                        (min(unit[0], offer["unit"][0]), max(unit[1], offer["unit"][1])))
    rates = demo._units_per_euro()
    currencies = set()
    for service in generate_services(300, 1):
        price, process = service["price"], service["process"].rsplit("#", 1)[1]
        rate = rates[price["currency"]]
        currencies.add(price["currency"])
        (setup_low, setup_high), (unit_low, unit_high) = ranges[process]
        assert setup_low - 0.5 <= price["setup"] / rate <= setup_high + 0.5, service["id"]
        assert unit_low * 0.95 <= price["unit"] / rate <= unit_high * 1.05, service["id"]
    assert len(currencies) >= 5  # the check covered several currencies, not only the euro


def _step(quotes: list[float]):
    return SimpleNamespace(columns={"quote_eur": np.asarray(quotes, dtype=float)},
                           candidate_rows=list(range(len(quotes))))


def test_a_quote_far_below_the_steps_prices_is_flagged_and_the_usual_ones_are_not():
    quotes = [1224, 1568, 2387, 1824, 2900, 3100, 2500, 2000, 45.0, 99_000]
    spread = _price_spread(_step(quotes))
    flags = [_flagged({"quote": {"total_eur": q}}, spread)["price_outlier"] for q in quotes]
    assert flags == [None] * 8 + ["low", "high"]
    assert spread[1] == 2184.95  # the median of the ten in log terms: the geometric mean of 2,000 and 2,387


@given(st.lists(st.floats(min_value=1, max_value=1e6), min_size=5, max_size=60), st.floats(min_value=0.2, max_value=5))
def test_flags_do_not_depend_on_the_currency_scale(quotes, factor):
    """Prices spread by factors: scaling every quote (another currency) flags the same quotes."""
    spread, scaled = _price_spread(_step(quotes)), _price_spread(_step([q * factor for q in quotes]))
    first = [_flagged({"quote": {"total_eur": q}}, spread)["price_outlier"] for q in quotes]
    second = [_flagged({"quote": {"total_eur": q * factor}}, scaled)["price_outlier"] for q in quotes]
    # equal but for quotes that lie on a fence to within rounding
    differing = [i for i, (a, b) in enumerate(zip(first, second)) if a != b]
    assert all(min(abs(np.log(quotes[i]) - np.log(f)) for f in (spread[3], spread[4])) < 1e-9 for i in differing)


def test_fewer_than_five_quotes_are_not_judged():
    assert _price_spread(_step([10, 1000, 100_000, 5])) is None
