"""What a CAD file says about a part, with units and how each value was found, and the shape class in the product
format's vocabulary (rotational, prismatic, sheet, profile, freeform, lattice; shapes/product.ttl).

The thresholds below were set on the examples of examples/cad/ (make_examples.py) and the measured values are in
each comment."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: rotational: the largest group of coaxial faces of revolution holds at least this share of the area, and with the
#: plane faces square to its axis (shoulders, ends) this share; the turned shaft: 0.91 and 1.0, the bracket's
#: largest hole group 0.013. Meshes (Triangles.revolution: triangles whose normal is square to the tangent about
#: the best principal axis, and those square to it): the shaft as STL 0.908 and 1.0 (also at Open CASCADE's coarse
#: 0.3 rad, and turned off the file's axes), a 64-sided cylinder 0.67 and 1.0; not rotational: the bracket 0.002 and
#: 0.56, the sheet channel 0.0 and 0.61, the strut lattice 0.011 and 0.34, a 20 x 20 x 100 bar 0.09 and 0.55, a
#: cube 0.0 and 0.33, an 8-sided prism 0.0 and 0.16 (a washer, 0.20 and 1.0, is not either: as on STEP, end faces
#: alone do not make a part rotational)
ROTATIONAL_AREA_SHARE = 0.5
ROTATIONAL_WITH_ENDS_SHARE = 0.95
#: sheet: this share of the inward rays meets the far side within +/-10 % of their median, and the median is at most
#: this share of the second-longest edge of the oriented box; the 1.5 mm enclosure: 0.98 of rays, 1.5 / 250 = 0.006;
#: the bracket: 0.20 of rays, median 20 mm of 80 mm = 0.25; the shaft: 0.68 of rays, but 40 mm of 40 mm
SHEET_RAY_SHARE = 0.6
SHEET_THICKNESS_SHARE = 0.05
#: lattice: area A and volume V give the size-free ratio A / V^(2/3); a cube has 6, a sphere 4.8, the bracket 9.8, the
#: shaft 7.6, the 2 mm strut lattice 50, but a 1.5 mm sheet 80: thin walls alone do not make a lattice, so it also
#: needs at least LATTICE_OPENINGS through-openings (genus: the lattice cube 325, the bracket 4, the enclosure 0)
LATTICE_AREA_RATIO = 20.0
LATTICE_OPENINGS = 20
#: ... and its walls are struts, not plates: the median reach along the surface from the middle of a wall is at most
#: this many wall thicknesses (the strut lattice: 0.8; the 1.5 mm sheet channel: 43; a plate full of holes has many
#: openings and a high area ratio too, but rays along it run between the holes)
LATTICE_REACH_PER_WALL = 3.0
#: prismatic (STEP): planes and cylinders, cones, spheres and tori hold this share of the area (milled parts:
#: bracket 1.0); below it, free-form (B-spline) surfaces dominate
PRISMATIC_ANALYTIC_SHARE = 0.9
#: prismatic (meshes): this share of the area faces one of the six directions of the principal axes (to 2 degrees)
PRISMATIC_AXIS_SHARE = 0.9
#: the minimum wall is this percentile of the inward rays' distances: the smallest ray can graze an edge
#: (0.12 mm measured on the 1.5 mm sheet before this rule)
MIN_WALL_PERCENTILE = 5


@dataclass
class Characteristics:
    """One part (or one body of a file with several). Lengths mm, areas mm2, volumes mm3, mass kg."""

    source: str
    envelope_mm: list[float]
    obb_mm: list[float]
    volume_mm3: float
    area_mm2: float
    shape: str
    bodies: int
    stock_removal_mm3: float
    stock_blank: str
    min_wall_mm: float | None
    thickness_mm: float | None = None
    holes: list[dict] = field(default_factory=list)
    bends: int | None = None
    cut_length_mm: float | None = None
    methods: dict[str, str] = field(default_factory=dict)
    components: list["Characteristics"] = field(default_factory=list)
    material: str | None = None
    mass_kg: float | None = None
    density_kg_m3: float | None = None
    peak_memory_mb: float | None = None
    seconds: float | None = None

    def with_density(self, material: str, density_kg_m3: float, source: str) -> None:
        """Mass from the volume and the material's density (``source``: where the density comes from)."""
        self.material, self.density_kg_m3 = material, density_kg_m3
        self.mass_kg = self.volume_mm3 * 1e-9 * density_kg_m3
        self.methods["mass_kg"] = f"volume x density {density_kg_m3:g} kg/m3 of {material} ({source})"
        for component in self.components:
            component.with_density(material, density_kg_m3, source)

    def as_json(self) -> dict:
        document = {
            "envelope_mm": [_round(x) for x in self.envelope_mm], "shape": self.shape,
            **({"material": self.material} if self.material else {}),
            **({"mass_kg": _round(self.mass_kg, 4), "density_kg_m3": self.density_kg_m3}
               if self.mass_kg is not None else {}),
            "volume_mm3": _round(self.volume_mm3), "area_mm2": _round(self.area_mm2),
            "stock_removal_mm3": _round(self.stock_removal_mm3), "stock_blank": self.stock_blank,
            "min_wall_mm": _round(self.min_wall_mm), "thickness_mm": _round(self.thickness_mm),
            "bends": self.bends, "cut_length_mm": _round(self.cut_length_mm),
            "holes": [{k: _round(v) for k, v in hole.items()} for hole in self.holes],
            "bodies": self.bodies, "obb_mm": [_round(x) for x in self.obb_mm],
            "methods": self.methods,
        }
        if self.components:
            document["components"] = [component.as_json() for component in self.components]
        document["product"] = self.product()
        return document

    def product(self) -> dict:
        """A product in the plain JSON product format (README) pre-filled from the file; the buyer adds name,
        quantity, delivery and the requirements. A file of several bodies becomes one product whose measures are
        those of the whole, with each body under ``components`` (the format's bill of materials, one line per body,
        ``quantity_per_unit`` 1): its name, shape, envelope, volume, area and, with a material, mass; a component
        takes the product's material and quantity (queries/normalise/45-components.ru)."""
        product = {"name": self.source, "shape": self.shape, "envelope_mm": [_round(x) for x in self.envelope_mm]}
        if self.material:
            product["material"] = self.material
        if self.mass_kg is not None:
            product["mass_kg"] = _round(self.mass_kg, 4)
        for key in ("volume_mm3", "area_mm2", "stock_removal_mm3", "min_wall_mm", "thickness_mm", "cut_length_mm"):
            value = getattr(self, key)
            if value is not None and value > 0:
                product[key] = _round(value)
        if self.bends:
            product["bends"] = self.bends
        if self.holes:
            product["holes"] = len(self.holes)
        components = []
        for body in self.components:
            component = {"name": body.source, "shape": body.shape,
                         "envelope_mm": [_round(x) for x in body.envelope_mm]}
            for key, digits in (("volume_mm3", 3), ("area_mm2", 3), ("mass_kg", 4)):
                value = _round(getattr(body, key), digits)
                if value is not None and value > 0:  # at the precision given: a tiny body's mass can round to 0
                    component[key] = value
            component["quantity_per_unit"] = 1
            components.append(component)
        if components:
            product["components"] = components
        return product


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def reach_per_wall(thickness: np.ndarray, reach: np.ndarray) -> float:
    """The median reach along the surface in median wall thicknesses (inf where unmeasured)."""
    if len(thickness) == 0 or len(reach) == 0:
        return math.inf
    return float(np.median(reach) / np.median(thickness))


def wall_measures(thickness: np.ndarray, obb: list[float]) -> tuple[float | None, float | None, str]:
    """(minimum wall, sheet thickness or None, how) from the inward rays' distances."""
    if len(thickness) == 0:
        return None, None, "no inward ray met the far side"
    minimum = float(np.percentile(thickness, MIN_WALL_PERCENTILE))
    median = float(np.median(thickness))
    near = float(np.mean(np.abs(thickness - median) <= 0.1 * median))
    second = sorted(obb, reverse=True)[1] if len(obb) > 1 else obb[0]
    sheet = median if near >= SHEET_RAY_SHARE and median <= SHEET_THICKNESS_SHARE * second else None
    how = (f"{len(thickness)} rays (that met the far side) cast inward along the surface normal from points sampled by area; the distance "
           f"to the far side, {MIN_WALL_PERCENTILE}th percentile (an estimate: walls thinner than the sampling "
           "spacing can be missed)")
    return minimum, sheet, how


def classify(*, area: float, volume: float, openings: int, sheet_thickness: float | None, reach_per_wall: float,
             rotational_shares: tuple[float, float] | None, analytic_share: float | None,
             axis_share: float | None) -> tuple[str, str]:
    """The shape class and the reason, in the order lattice, sheet, rotational, prismatic, freeform."""
    ratio = area / volume ** (2 / 3) if volume > 0 else math.inf
    if ratio >= LATTICE_AREA_RATIO and openings >= LATTICE_OPENINGS and reach_per_wall <= LATTICE_REACH_PER_WALL:
        return "lattice", (f"area / volume^(2/3) = {ratio:.1f} >= {LATTICE_AREA_RATIO:g}, {openings} "
                           f"through-openings >= {LATTICE_OPENINGS}, and walls are struts (reach along the "
                           f"surface {reach_per_wall:.1f} wall thicknesses <= {LATTICE_REACH_PER_WALL:g})")
    if sheet_thickness is not None:
        return "sheet", (f"near-constant wall {sheet_thickness:.2f} mm (>= {SHEET_RAY_SHARE:.0%} of inward rays "
                         f"within 10 %), at most {SHEET_THICKNESS_SHARE:.0%} of the part's second-longest edge")
    if rotational_shares is not None:
        own, with_ends = rotational_shares
        if own >= ROTATIONAL_AREA_SHARE and with_ends >= ROTATIONAL_WITH_ENDS_SHARE:
            if analytic_share is None:  # a mesh
                return "rotational", (f"triangles on surfaces of revolution about one axis (normal square to the "
                                      f"tangent about it) hold {own:.0%} of the area, {with_ends:.0%} with those "
                                      "square to the axis")
            return "rotational", (f"coaxial faces of revolution hold {own:.0%} of the area, {with_ends:.0%} with "
                                  "the plane faces square to their axis")
    if analytic_share is not None:
        if analytic_share >= PRISMATIC_ANALYTIC_SHARE:
            return "prismatic", f"planes and cylinders hold {analytic_share:.0%} of the area"
        return "freeform", f"free-form surfaces hold {1 - analytic_share:.0%} of the area"
    if axis_share is not None and axis_share >= PRISMATIC_AXIS_SHARE:
        return "prismatic", f"{axis_share:.0%} of the area faces the six directions of the principal axes"
    why = f"no class fits: {axis_share or 0:.0%} of the area faces the principal directions"
    if rotational_shares is not None:
        own, with_ends = rotational_shares
        why += f", {own:.0%} lies on surfaces of revolution about one axis ({with_ends:.0%} with the ends)"
    return "freeform", why
