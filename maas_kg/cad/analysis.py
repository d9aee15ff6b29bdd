"""From a CAD file to :class:`Characteristics` (geometry only: the mass needs the material's density from the
knowledge graph, which the caller adds). Runs in the child process of :mod:`maas_kg.cad.limits`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from maas_kg.cad.characteristics import Characteristics, classify, reach_per_wall, wall_measures
from maas_kg.cad.mesh import MeshError, Triangles, read_mesh
from maas_kg.cad.step import FULL_TURN_SHARE, StepError, measure, read_step

STEP_SUFFIXES = (".step", ".stp")
MESH_SUFFIXES = (".stl", ".3mf", ".obj")
SUFFIXES = STEP_SUFFIXES + MESH_SUFFIXES


class CadFileError(ValueError):
    """The file cannot be characterised; the message says what to fix."""


def analyse(path: str, suffix: str, name: str, *, preview: bool = False) -> Characteristics:
    """The file's characteristics; with ``preview`` also ``preview``: the compact mesh of the 3D preview
    (:mod:`maas_kg.cad.preview`, encoded), which ``as_json`` leaves out."""
    try:
        if suffix in STEP_SUFFIXES:
            solids, _ = read_step(path)
            parts = [_from_solid(solid, name) for solid in solids]
            meshes = [part.__dict__.get("_mesh") for part in parts]
        elif suffix in MESH_SUFFIXES:
            triangles = read_mesh(path, suffix)
            if triangles.open_edges():
                raise MeshError(f"the mesh is not closed ({triangles.open_edges()} edges bound one triangle only: "
                                "an open shell, holes in the surface): repair it (close the holes) and export it "
                                "again as a closed solid")
            bodies = triangles.bodies()
            parts = [_from_mesh(triangles.subset(body) if len(bodies) > 1 else triangles, name) for body in bodies]
            meshes = [triangles]
        else:
            raise CadFileError(f"{suffix or 'a file without an extension'} is not a CAD format read here: send "
                               f"{', '.join(SUFFIXES)}")
    except (StepError, MeshError) as err:
        raise CadFileError(str(err)) from None
    whole = parts[0] if len(parts) == 1 else _assembly(parts, name)
    if preview:
        from maas_kg.cad.preview import of_meshes

        whole.preview = of_meshes(meshes)
    return whole


def _assembly(parts: list[Characteristics], name: str) -> Characteristics:
    """Several unconnected solids: the whole's box and sums, each solid a component."""
    low = np.min([p._low for p in parts], axis=0)
    high = np.max([p._high for p in parts], axis=0)
    largest = max(parts, key=lambda p: p.volume_mm3)
    whole = Characteristics(
        source=name, envelope_mm=[float(x) for x in high - low], obb_mm=sorted((float(x) for x in high - low),
                                                                              reverse=True),
        volume_mm3=sum(p.volume_mm3 for p in parts), area_mm2=sum(p.area_mm2 for p in parts), shape=largest.shape,
        bodies=len(parts), stock_removal_mm3=sum(p.stock_removal_mm3 for p in parts), stock_blank="per component",
        min_wall_mm=min((p.min_wall_mm for p in parts if p.min_wall_mm is not None), default=None),
        holes=[hole for p in parts for hole in p.holes], components=parts,
        methods={"bodies": f"{len(parts)} unconnected solids: each is a component (components), the whole's "
                 "envelope is the box around all, volume and area their sums, shape the largest body's",
                 **largest.methods})
    for number, part in enumerate(parts, start=1):
        part.source = f"{name} body {number}"
    return whole


def _from_solid(solid, name: str) -> Characteristics:
    m = measure(solid)
    low, high = np.array(m.aabb[0]), np.array(m.aabb[1])
    aabb = [float(x) for x in high - low]
    obb = m.obb if math.prod(m.obb) < math.prod(aabb) else sorted(aabb, reverse=True)
    thickness, reach = m.mesh.wall_and_reach()
    min_wall, sheet, wall_how = wall_measures(thickness, obb)
    shares = None
    if m.revolution:
        index, group = max(enumerate(m.revolution), key=lambda item: item[1].area)
        shares = (group.area / m.area, (group.area + m.axial_planar_area[index]) / m.area)
    shape, why = classify(area=m.area, volume=m.volume, openings=m.mesh.genus(), sheet_thickness=sheet,
                          reach_per_wall=reach_per_wall(thickness, reach),
                          rotational_shares=shares, analytic_share=m.analytic_area / m.area, axis_share=None)
    holes = [{"diameter_mm": 2 * g.radius, "depth_mm": g.high - g.low}
             for g in m.cylinders if g.concave and g.turn >= FULL_TURN_SHARE]
    holes.sort(key=lambda h: (-h["diameter_mm"], -h["depth_mm"]))
    part = Characteristics(source=name, envelope_mm=aabb, obb_mm=obb, volume_mm3=m.volume, area_mm2=m.area,
                           shape=shape, bodies=1, stock_removal_mm3=0.0, stock_blank="", min_wall_mm=min_wall,
                           holes=holes)
    part.methods = {
        "volume_mm3": "exact, from the B-rep (Open CASCADE BRepGProp volume properties)",
        "area_mm2": "exact, from the B-rep (BRepGProp surface properties)",
        "envelope_mm": "axis-aligned box in the file's axes (BRepBndLib AddOptimal, exact on the surfaces)",
        "obb_mm": "minimal oriented box (BRepBndLib AddOBB, optimal), or the axis-aligned one where smaller",
        "shape": why, "min_wall_mm": wall_how + " on the tessellation (0.1 % of the diagonal, 0.3 rad)",
        "holes": "concave cylindrical faces closing a full turn about one axis; depth = their extent along it",
    }
    if shape == "rotational":
        axis = max(m.revolution, key=lambda g: g.area)
        radius = _radius_about(m.mesh, axis.origin, axis.direction)
        length = float(np.ptp(m.mesh.vertices[np.unique(m.mesh.faces)] @ axis.direction))
        blank = math.pi * radius ** 2 * length
        part.stock_blank = f"round bar {2 * radius:.3g} mm x {length:.4g} mm (the smallest cylinder about the axis)"
    else:
        blank = math.prod(aabb)
        part.stock_blank = "block of the axis-aligned box"
    part.stock_removal_mm3 = max(0.0, blank - m.volume)
    part.methods["stock_removal_mm3"] = f"blank ({part.stock_blank}) volume minus the part's"
    _sheet_measures(part, sheet if shape == "sheet" else None, bends=sum(1 for g in m.cylinders if not g.concave and g.turn < FULL_TURN_SHARE))
    part._low, part._high = low, high
    part._mesh = m.mesh  # the tessellation, for a preview (dropped before the answer leaves the child)
    return part


def _radius_about(mesh: Triangles, origin: np.ndarray, direction: np.ndarray) -> float:
    points = mesh.vertices[np.unique(mesh.faces)] - origin
    radial = points - np.outer(points @ direction, direction)
    return float(np.linalg.norm(radial, axis=1).max())


def _sheet_measures(part: Characteristics, sheet: float | None, bends: int | None) -> None:
    if sheet is None:
        return
    part.thickness_mm = sheet
    part.methods["thickness_mm"] = "median of the inward rays' distances (near-constant: see shape)"
    # the part's area is both faces of the flat (2 x volume / thickness) plus the cut edges (cut length x thickness)
    part.cut_length_mm = max(0.0, (part.area_mm2 - 2 * part.volume_mm3 / sheet) / sheet)
    part.methods["cut_length_mm"] = ("(area - 2 x volume / thickness) / thickness: the cut edges' area over the "
                                     "thickness, outline and hole perimeters of the flat part (an estimate)")
    if bends is not None:
        part.bends = bends
        part.methods["bends"] = "outer (convex) cylindrical faces of a partial turn, one per bend"


def _from_mesh(triangles: Triangles, name: str) -> Characteristics:
    volume, area = triangles.volume(), triangles.area()
    if volume <= 0:
        raise MeshError("the mesh's triangles face inward (its volume is negative): flip the normals and export "
                        "it again")
    low, high = triangles.aabb()
    aabb = [float(x) for x in high - low]
    obb = triangles.principal_box()
    thickness, reach = triangles.wall_and_reach()
    min_wall, sheet, wall_how = wall_measures(thickness, obb)
    normals, areas = triangles.normals_and_areas()
    used = triangles.vertices[np.unique(triangles.faces)]
    _, axes = np.linalg.eigh(np.cov((used - used.mean(axis=0)).T))
    aligned = np.abs(normals @ axes).max(axis=1) >= math.cos(math.radians(2))
    axis_share = float(areas[aligned].sum() / areas.sum())
    openings = triangles.genus()
    revolution = triangles.revolution()
    shape, why = classify(area=area, volume=volume, openings=openings, sheet_thickness=sheet,
                          reach_per_wall=reach_per_wall(thickness, reach),
                          rotational_shares=revolution.shares, analytic_share=None, axis_share=axis_share)
    part = Characteristics(source=name, envelope_mm=aabb, obb_mm=obb, volume_mm3=volume, area_mm2=area, shape=shape,
                           bodies=1, stock_removal_mm3=max(0.0, math.prod(aabb) - volume),
                           stock_blank="block of the axis-aligned box", min_wall_mm=min_wall)
    if shape == "rotational":
        radius = _radius_about(triangles, revolution.origin, revolution.direction)
        length = float(np.ptp(triangles.vertices[np.unique(triangles.faces)] @ revolution.direction))
        part.stock_blank = f"round bar {2 * radius:.3g} mm x {length:.4g} mm (the smallest cylinder about the axis)"
        part.stock_removal_mm3 = max(0.0, math.pi * radius ** 2 * length - volume)
    part.methods = {
        "volume_mm3": "from the closed triangle mesh (divergence theorem): exact for the mesh, the mesh "
                      "approximates curved surfaces",
        "area_mm2": "sum of the triangles' areas",
        "envelope_mm": "axis-aligned box of the vertices in the file's axes",
        "obb_mm": "box along the vertices' principal axes (or the axis-aligned one where smaller): not proven "
                  "minimal",
        "shape": why, "min_wall_mm": wall_how,
        "holes": "not detected on meshes (a mesh has no cylindrical faces): send STEP to have holes listed",
        "stock_removal_mm3": f"blank ({part.stock_blank}) volume minus the part's",
    }
    _sheet_measures(part, sheet if shape == "sheet" else None, bends=None)
    part._low, part._high = low, high
    return part


def suffix_of(filename: str) -> str:
    return Path(filename).suffix.lower()
