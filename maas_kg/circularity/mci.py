"""The Material Circularity Indicator (Ellen MacArthur Foundation and Granta Design, "Circularity Indicators: An
Approach to Measuring Circularity", methodology 2015, revised 2019), for a product under an end-of-life strategy.

    V   = M (1 - F_R - F_U)                         virgin feedstock
    W_0 = M (1 - C_R - C_U)                         unrecoverable waste (landfill, energy recovery)
    W_C = M (1 - E_C) C_R                           waste of recycling at the end of use
    W_F = M (1 - E_F) F_R / E_F                     waste of making the recycled feedstock
    W   = W_0 + (W_F + W_C) / 2
    LFI = (V + W) / (2 M + (W_F - W_C) / 2)         linear flow index
    X   = (L / L_av) (U / U_av)                     utility: lifetime and intensity of use against the average
    MCI = max(0, 1 - LFI x 0.9 / X)

A fully linear product (all virgin, all landfilled, average utility) scores 0.1; a fully reused one 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flows:
    """The mass flows of one product, as fractions of its mass ``mass_kg``."""
    mass_kg: float
    recycled_input: float = 0.0  # F_R
    reused_input: float = 0.0  # F_U
    collected_for_recycling: float = 0.0  # C_R
    collected_for_reuse: float = 0.0  # C_U: reuse and remanufacture of components and products
    recycling_efficiency_end: float = 0.8  # E_C
    recycling_efficiency_feedstock: float = 0.8  # E_F
    lifetime_ratio: float = 1.0  # L / L_av
    intensity_ratio: float = 1.0  # U / U_av

    def __post_init__(self):
        for name in ("recycled_input", "reused_input", "collected_for_recycling", "collected_for_reuse"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be from 0 to 1")
        if self.recycled_input + self.reused_input > 1 + 1e-9:
            raise ValueError("recycled and reused input together exceed the whole mass")
        if self.collected_for_recycling + self.collected_for_reuse > 1 + 1e-9:
            raise ValueError("what is collected for recycling and for reuse together exceeds the whole mass")
        for name in ("recycling_efficiency_end", "recycling_efficiency_feedstock"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be above 0 and at most 1")
        if self.mass_kg <= 0 or self.lifetime_ratio <= 0 or self.intensity_ratio <= 0:
            raise ValueError("mass, lifetime and intensity ratios must be above 0")


def linear_flow_index(flows: Flows) -> float:
    m = flows.mass_kg
    virgin = m * (1 - flows.recycled_input - flows.reused_input)
    waste_0 = m * (1 - flows.collected_for_recycling - flows.collected_for_reuse)
    waste_c = m * (1 - flows.recycling_efficiency_end) * flows.collected_for_recycling
    waste_f = m * (1 - flows.recycling_efficiency_feedstock) * flows.recycled_input \
        / flows.recycling_efficiency_feedstock
    waste = waste_0 + (waste_f + waste_c) / 2
    return (virgin + waste) / (2 * m + (waste_f - waste_c) / 2)


def utility(flows: Flows) -> float:
    return flows.lifetime_ratio * flows.intensity_ratio


def mci(flows: Flows) -> float:
    """The product's Material Circularity Indicator, from 0 to 1."""
    return max(0.0, 1 - linear_flow_index(flows) * 0.9 / utility(flows))
