"""Circularity (issue 20): the Material Circularity Indicator against a worked example by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maas_kg.circularity.mci import Flows, linear_flow_index, mci


def test_the_mci_of_a_worked_example():
    """By hand: M = 10 kg, 30 % recycled input, at the end of use 50 % recycled (80 % efficient) and 20 % reused,
    feedstock recycling 90 % efficient, average utility.
    V = 10 x 0.7 = 7; W_0 = 10 x 0.3 = 3; W_C = 10 x 0.2 x 0.5 = 1; W_F = 10 x 0.1 x 0.3 / 0.9 = 1/3;
    W = 3 + (1/3 + 1) / 2 = 11/3; LFI = (7 + 11/3) / (20 + (1/3 - 1) / 2) = (32/3) / (59/3) = 32/59;
    MCI = 1 - 0.9 x 32/59 = 0.51186..."""
    flows = Flows(10.0, recycled_input=0.3, collected_for_recycling=0.5, collected_for_reuse=0.2,
                  recycling_efficiency_end=0.8, recycling_efficiency_feedstock=0.9)
    assert linear_flow_index(flows) == pytest.approx(32 / 59)
    assert mci(flows) == pytest.approx(1 - 0.9 * 32 / 59)
    assert round(mci(flows), 4) == 0.5119


def test_a_linear_product_scores_a_tenth_and_a_reused_one_one():
    assert mci(Flows(5.0)) == pytest.approx(0.1)
    assert mci(Flows(5.0, reused_input=1.0, collected_for_reuse=1.0)) == pytest.approx(1.0)
    # twice the lifetime of the average halves the linear part
    assert mci(Flows(5.0, lifetime_ratio=2.0)) == pytest.approx(1 - 0.45)


@given(recycled=st.floats(0, 1), reuse=st.floats(0, 1), more=st.floats(0, 0.5))
def test_collecting_more_for_reuse_never_lowers_the_mci(recycled, reuse, more):
    base = Flows(3.0, recycled_input=recycled, collected_for_reuse=min(reuse, 1.0) * 0.5)
    better = Flows(3.0, recycled_input=recycled, collected_for_reuse=min(1.0, base.collected_for_reuse + more))
    assert mci(better) >= mci(base) - 1e-12


@pytest.mark.parametrize("flows", [dict(recycled_input=1.2), dict(recycled_input=0.6, reused_input=0.6),
                                   dict(collected_for_recycling=0.7, collected_for_reuse=0.5),
                                   dict(recycling_efficiency_end=0)])
def test_impossible_flows_are_refused(flows):
    with pytest.raises(ValueError):
        Flows(1.0, **flows)
