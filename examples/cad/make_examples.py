"""Make the example CAD files of examples/cad/ and their expected characteristics (expected.json), computed
analytically from the constructions (exact volumes, no CAD measurement):

    .venv/bin/python examples/cad/make_examples.py

- turned-shaft.step: a shaft revolved from its profile (rotational): a 40 mm body, 30 mm journals, a groove
- milled-bracket.step: an L-shaped block with 4 through holes of 9 mm (prismatic)
- sheet-enclosure.step: a 1.5 mm sheet channel with 4 bends of 1.5 mm inner radius, flanged (sheet)
- lattice-cube.stl: a cubic strut lattice of 2 mm square struts, built from voxels (lattice)
- turned-shaft.stl: the shaft's tessellation as a binary STL (rotational from the triangles alone)
- milled-bracket.3mf: the bracket's tessellation as a 3MF package (prismatic)

The builders are functions, so the tests make the broken files (open shell, two solids) the same way."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# the shaft: (radius, length) of its sections along z, and a rectangular groove in the body
SHAFT_SECTIONS = [(15.0, 30.0), (20.0, 190.0), (15.0, 30.0)]
GROOVE = {"z": 125.0, "width": 3.0, "depth": 2.0}
# the bracket: a 120 x 80 x 40 block less a 120 x 60 x 25 step, leaving a 15 mm base with 4 holes of 9 mm
BRACKET = {"box": (120.0, 80.0, 40.0), "step": (120.0, 60.0, 25.0), "hole_diameter": 9.0,
           "holes": [(20.0, 20.0), (100.0, 20.0), (20.0, 45.0), (100.0, 45.0)]}
# the enclosure: the sheet's middle line (flange, wall, base, wall, flange; mm between the bends' tangent points),
# 1.5 mm thick, inner bend radius 1.5 mm (middle radius 2.25), extruded 250 mm
SHEET = {"thickness": 1.5, "inner_radius": 1.5, "width": 250.0, "flange": 20.0, "wall": 100.0, "base": 300.0}
# the lattice: cells of 5 voxels of 2 mm, struts one voxel thick, 5 x 5 x 5 cells
LATTICE = {"voxel": 2.0, "cell_voxels": 5, "cells": 5}


def _ocp():
    import OCP  # noqa: F401  (fails early with a clear ImportError when OCP is missing)


def shaft():
    """The turned shaft: a closed profile in the xz plane revolved about z."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeFace, BRepBuilderAPI_MakePolygon
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeRevol
    from OCP.gp import gp, gp_Pnt

    z, outline = 0.0, [(0.0, 0.0)]
    for radius, length in SHAFT_SECTIONS:
        if z <= GROOVE["z"] < z + length:
            low, high = GROOVE["z"] - GROOVE["width"] / 2, GROOVE["z"] + GROOVE["width"] / 2
            inner = radius - GROOVE["depth"]
            outline += [(radius, z), (radius, low), (inner, low), (inner, high), (radius, high)]
        else:
            outline.append((radius, z))
        z += length
        outline.append((radius, z))
    outline.append((0.0, z))
    polygon = BRepBuilderAPI_MakePolygon()
    for x, zz in _without_repeats(outline):
        polygon.Add(gp_Pnt(x, 0, zz))
    polygon.Close()
    face = BRepBuilderAPI_MakeFace(polygon.Wire()).Face()
    return BRepPrimAPI_MakeRevol(face, gp.OZ_s()).Shape()


def _without_repeats(points):
    kept = []
    for point in points:
        if not kept or point != kept[-1]:
            kept.append(point)
    return kept


def shaft_volume() -> float:
    volume = sum(math.pi * r * r * length for r, length in SHAFT_SECTIONS)
    body = SHAFT_SECTIONS[1][0]
    return volume - math.pi * (body ** 2 - (body - GROOVE["depth"]) ** 2) * GROOVE["width"]


def bracket():
    from OCP.BRepAlgoAPI import BRepAlgoAPI_Cut
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox, BRepPrimAPI_MakeCylinder
    from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt

    x, y, z = BRACKET["box"]
    sx, sy, sz = BRACKET["step"]
    shape = BRepPrimAPI_MakeBox(x, y, z).Shape()
    shape = BRepAlgoAPI_Cut(shape, BRepPrimAPI_MakeBox(gp_Pnt(0, 0, z - sz), sx, sy, sz + 1).Shape()).Shape()
    for hx, hy in BRACKET["holes"]:
        tool = BRepPrimAPI_MakeCylinder(gp_Ax2(gp_Pnt(hx, hy, -1), gp_Dir(0, 0, 1)), BRACKET["hole_diameter"] / 2,
                                        z + 2).Shape()
        shape = BRepAlgoAPI_Cut(shape, tool).Shape()
    return shape


def bracket_volume() -> float:
    x, y, z = BRACKET["box"]
    sx, sy, sz = BRACKET["step"]
    base = z - sz
    holes = len(BRACKET["holes"]) * math.pi * (BRACKET["hole_diameter"] / 2) ** 2 * base
    return x * y * z - sx * sy * sz - holes


def _sheet_path():
    """The middle line's points and bends: straight segments joined by 90 degree arcs (direction changes:
    flange out, wall up... as a hat channel opening upwards, flanges outwards)."""
    s = SHEET
    middle = s["inner_radius"] + s["thickness"] / 2
    # directions of the five straight segments, and the lengths
    segments = [((-1, 0), s["flange"]), ((0, -1), s["wall"]), ((1, 0), s["base"]), ((0, 1), s["wall"]),
                ((1, 0), s["flange"])]
    return segments, middle


def _sheet_side(offset: float) -> list[tuple]:
    """One side of the sheet: the middle line moved ``offset`` to its left, as ("line", a, b) and
    ("arc", a, middle point, b) pieces in the xy plane."""
    segments, middle = _sheet_path()
    pieces, point, previous = [], np.array([0.0, 0.0]), None
    for direction, length in segments:
        direction = np.array(direction, dtype=float)
        left = np.array([-direction[1], direction[0]])
        if previous is not None:
            previous_left = np.array([-previous[1], previous[0]])
            centre = point + middle * direction
            end = centre + middle * previous
            halfway = (previous - direction) / math.sqrt(2)
            radius = middle - offset if np.allclose(direction, previous_left) else middle + offset
            pieces.append(("arc", point + offset * previous_left, centre + radius * halfway, end + offset * left))
            point = end
        end = point + direction * length
        pieces.append(("line", point + offset * left, end + offset * left))
        point, previous = end, direction
    return pieces


def sheet_enclosure():
    """The sheet channel: its cross-section (both sides of the middle line, closed by the two cut edges) extruded
    along z."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeEdge, BRepBuilderAPI_MakeFace, BRepBuilderAPI_MakeWire
    from OCP.BRepPrimAPI import BRepPrimAPI_MakePrism
    from OCP.GC import GC_MakeArcOfCircle
    from OCP.gp import gp_Pnt, gp_Vec

    def pnt(p):
        return gp_Pnt(float(p[0]), float(p[1]), 0.0)

    t = SHEET["thickness"] / 2
    outline = _sheet_side(t)
    back = [(kind, *reversed(points)) for kind, *points in reversed(_sheet_side(-t))]
    pieces = outline + [("line", outline[-1][-1], back[0][1])] + back + [("line", back[-1][-1], outline[0][1])]
    wire = BRepBuilderAPI_MakeWire()
    for kind, *points in pieces:
        if kind == "line":
            wire.Add(BRepBuilderAPI_MakeEdge(pnt(points[0]), pnt(points[1])).Edge())
        else:
            arc = GC_MakeArcOfCircle(pnt(points[0]), pnt(points[1]), pnt(points[2])).Value()
            wire.Add(BRepBuilderAPI_MakeEdge(arc).Edge())
    face = BRepBuilderAPI_MakeFace(wire.Wire()).Face()
    return BRepPrimAPI_MakePrism(face, gp_Vec(0, 0, SHEET["width"])).Shape()


def sheet_volume() -> float:
    segments, middle = _sheet_path()
    length = sum(l for _, l in segments) + (len(segments) - 1) * math.pi / 2 * middle
    return length * SHEET["thickness"] * SHEET["width"]


def lattice_voxels() -> np.ndarray:
    n = LATTICE["cell_voxels"] * LATTICE["cells"] + 1
    on = np.zeros(n, dtype=bool)
    on[::LATTICE["cell_voxels"]] = True
    x, y, z = np.meshgrid(on, on, on, indexing="ij")
    return (x & y) | (y & z) | (x & z)  # struts along z, x and y


def lattice_mesh():
    """The lattice's boundary: two triangles per voxel face between a filled and an empty voxel (closed,
    manifold: struts meet face to face)."""
    import trimesh

    filled = np.pad(lattice_voxels(), 1)
    size = LATTICE["voxel"]
    vertices, faces = [], []
    quads = {  # axis, side -> the face's 4 corners (unit cube offsets), counter-clockwise seen from outside
        (0, 1): [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)], (0, -1): [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0)],
        (1, 1): [(0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0)], (1, -1): [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)],
        (2, 1): [(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)], (2, -1): [(0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0)],
    }
    for (axis, side), corners in quads.items():
        neighbour = np.roll(filled, -side, axis=axis)
        cells = np.argwhere(filled & ~neighbour) - 1  # back to the unpadded grid
        base = len(vertices) and sum(len(v) for v in vertices)
        quad = np.array(corners, dtype=float)
        points = (cells[:, None, :] + quad[None]) * size
        vertices.append(points.reshape(-1, 3))
        index = base + np.arange(len(cells))[:, None] * 4
        faces.append(np.concatenate([index + [0, 1, 2], index + [0, 2, 3]]))
    mesh = trimesh.Trimesh(np.concatenate(vertices), np.concatenate(faces), process=True)
    return mesh


def lattice_volume() -> float:
    return float(lattice_voxels().sum()) * LATTICE["voxel"] ** 3


def open_shell():
    """A box missing its top face: a face set that is no solid."""
    from OCP.BRep import BRep_Builder
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox
    from OCP.TopAbs import TopAbs_FACE
    from OCP.TopExp import TopExp_Explorer
    from OCP.TopoDS import TopoDS_Shell

    box = BRepPrimAPI_MakeBox(10, 10, 10).Shape()
    builder, shell = BRep_Builder(), TopoDS_Shell()
    builder.MakeShell(shell)
    explorer = TopExp_Explorer(box, TopAbs_FACE)
    for _ in range(5):
        builder.Add(shell, explorer.Current())
        explorer.Next()
    return shell


def two_boxes():
    """Two unconnected 10 mm and 20 mm cubes in one compound."""
    from OCP.BRep import BRep_Builder
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox
    from OCP.TopoDS import TopoDS_Compound
    from OCP.gp import gp_Pnt

    builder, compound = BRep_Builder(), TopoDS_Compound()
    builder.MakeCompound(compound)
    builder.Add(compound, BRepPrimAPI_MakeBox(10, 10, 10).Shape())
    builder.Add(compound, BRepPrimAPI_MakeBox(gp_Pnt(50, 0, 0), 20, 20, 20).Shape())
    return compound


def box(x: float, y: float, z: float):
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox

    return BRepPrimAPI_MakeBox(x, y, z).Shape()


#: the tessellation of the mesh examples: chords at most 0.01 mm from the surface and 0.05 rad apart (measured: the
#: shaft's STL 5036 triangles, 252 kB, its volume 0.010 % under the analytic one; the bracket's 3MF 4068 triangles,
#: 36 kB, +0.0002 %; at Open CASCADE's 0.3 rad the shaft lost 0.37 %)
MESH_DEFLECTION = 0.01
MESH_ANGLE = 0.05


def tessellate(shape, deflection: float = MESH_DEFLECTION, angle: float = MESH_ANGLE) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (n, 3), faces (m, 3)) of the shape's faces meshed by Open CASCADE, facing outward, each face's
    nodes listed separately (the shared edges are meshed once, so merging coincident vertices closes the mesh)."""
    from OCP.BRep import BRep_Tool
    from OCP.BRepMesh import BRepMesh_IncrementalMesh
    from OCP.TopAbs import TopAbs_FACE, TopAbs_REVERSED
    from OCP.TopExp import TopExp_Explorer
    from OCP.TopLoc import TopLoc_Location
    from OCP.TopoDS import TopoDS

    BRepMesh_IncrementalMesh(shape, deflection, False, angle, True)
    vertices, faces, offset = [], [], 0
    explorer = TopExp_Explorer(shape, TopAbs_FACE)
    while explorer.More():
        face = TopoDS.Face(explorer.Current())
        explorer.Next()
        location = TopLoc_Location()
        triangulation = BRep_Tool.Triangulation_s(face, location)
        transform = location.Transformation()
        nodes = [triangulation.Node(i).Transformed(transform) for i in range(1, triangulation.NbNodes() + 1)]
        triangles = np.array([triangulation.Triangle(i).Get() for i in range(1, triangulation.NbTriangles() + 1)],
                             dtype=np.int64) - 1
        if face.Orientation() == TopAbs_REVERSED:
            triangles = triangles[:, [0, 2, 1]]
        vertices.append(np.array([(p.X(), p.Y(), p.Z()) for p in nodes], dtype=float))
        faces.append(triangles + offset)
        offset += len(nodes)
    return np.concatenate(vertices), np.concatenate(faces)


def write_stl(shape, path: Path | str) -> None:
    """The shape's tessellation as a binary STL (trimesh merges the vertices)."""
    import trimesh

    trimesh.Trimesh(*tessellate(shape), process=True).export(path, file_type="stl")


#: the 3MF core namespace and the package's fixed parts (3MF core specification 1.3, chapter 2)
NS_3MF = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
CONTENT_TYPES_3MF = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
                     '</Types>\n')
RELS_3MF = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
            'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>\n')


def model_3mf(meshes: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """The 3D model part of a 3MF package: one object per (vertices, faces) mesh, each a build item, millimetres."""
    objects, items = [], []
    for number, (vertices, faces) in enumerate(meshes, start=1):
        points = "".join(f'<vertex x="{x:.6g}" y="{y:.6g}" z="{z:.6g}"/>' for x, y, z in vertices)
        triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in faces)
        objects.append(f'<object id="{number}" type="model"><mesh><vertices>{points}</vertices>'
                       f'<triangles>{triangles}</triangles></mesh></object>')
        items.append(f'<item objectid="{number}"/>')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<model unit="millimeter" xml:lang="en-US" xmlns="{NS_3MF}">'
            f'<resources>{"".join(objects)}</resources><build>{"".join(items)}</build></model>\n')


def write_3mf(meshes: list[tuple[np.ndarray, np.ndarray]], path: Path | str, *, model: str | None = None) -> None:
    """A 3MF package (a ZIP: [Content_Types].xml, _rels/.rels, 3D/3dmodel.model) of the meshes; ``model`` replaces
    the model part's text (the tests' broken packages); the case without model part is made by hand."""
    import zipfile

    parts = {"[Content_Types].xml": CONTENT_TYPES_3MF, "_rels/.rels": RELS_3MF,
             "3D/3dmodel.model": model_3mf(meshes) if model is None else model}
    with zipfile.ZipFile(path, "w") as package:
        for name, text in parts.items():  # a fixed date: the same meshes make the same bytes
            package.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text,
                             compress_type=zipfile.ZIP_DEFLATED)


def merged_mesh(shape) -> tuple[np.ndarray, np.ndarray]:
    """The shape's tessellation with coincident vertices merged (trimesh), for a compact 3MF."""
    import trimesh

    mesh = trimesh.Trimesh(*tessellate(shape), process=True)
    return np.asarray(mesh.vertices), np.asarray(mesh.faces)


def write_step(shape, path: Path | str) -> None:
    from OCP.IFSelect import IFSelect_RetDone
    from OCP.Interface import Interface_Static
    from OCP.STEPControl import STEPControl_AsIs, STEPControl_Writer

    Interface_Static.SetCVal_s("write.step.schema", "AP214IS")
    writer = STEPControl_Writer()
    writer.Transfer(shape, STEPControl_AsIs)
    if writer.Write(str(path)) != IFSelect_RetDone:
        raise RuntimeError(f"cannot write {path}")


def expected() -> dict:
    x, y, z = BRACKET["box"]
    s = SHEET
    middle = s["inner_radius"] + s["thickness"] / 2
    return {
        "turned-shaft.step": {"shape": "rotational", "volume_mm3": shaft_volume(),
                              "envelope_mm": [40.0, 40.0, sum(l for _, l in SHAFT_SECTIONS)], "holes": [],
                              "bodies": 1, "compare_with": "turned-ground-shaft.json", "material": "42CrMo4"},
        "milled-bracket.step": {"shape": "prismatic", "volume_mm3": bracket_volume(), "envelope_mm": [x, y, z],
                                "holes": [{"diameter_mm": BRACKET["hole_diameter"], "depth_mm": z - BRACKET["step"][2]}
                                          for _ in BRACKET["holes"]],
                                "bodies": 1, "compare_with": "milled-bracket.json", "material": "EN AW-6082"},
        "sheet-enclosure.step": {"shape": "sheet", "volume_mm3": sheet_volume(), "thickness_mm": s["thickness"],
                                 "bends": 4, "bodies": 1,
                                 "envelope_mm": [s["base"] + 3 * middle + s["flange"] + s["thickness"] / 2,
                                                 s["wall"] + 2 * middle + s["thickness"], s["width"]],
                                 "compare_with": "sheet-metal-enclosure.json", "material": "S235JR"},
        "lattice-cube.stl": {"shape": "lattice", "volume_mm3": lattice_volume(), "bodies": 1,
                             "envelope_mm": [(LATTICE["cells"] * LATTICE["cell_voxels"] + 1) * LATTICE["voxel"]] * 3,
                             "compare_with": "pa12-lattice-part.json", "material": "PA12"},
        # the meshes of the shaft and the bracket: their analytic volumes, the tessellation's within 0.02 %
        "turned-shaft.stl": {"shape": "rotational", "volume_mm3": shaft_volume(),
                             "envelope_mm": [40.0, 40.0, sum(l for _, l in SHAFT_SECTIONS)], "bodies": 1,
                             "compare_with": "turned-ground-shaft.json", "material": "42CrMo4"},
        "milled-bracket.3mf": {"shape": "prismatic", "volume_mm3": bracket_volume(), "envelope_mm": [x, y, z],
                               "bodies": 1, "compare_with": "milled-bracket.json", "material": "EN AW-6082"},
    }


def main() -> None:
    _ocp()
    write_step(shaft(), HERE / "turned-shaft.step")
    write_step(bracket(), HERE / "milled-bracket.step")
    write_step(sheet_enclosure(), HERE / "sheet-enclosure.step")
    lattice_mesh().export(HERE / "lattice-cube.stl")
    write_stl(shaft(), HERE / "turned-shaft.stl")
    write_3mf([merged_mesh(bracket())], HERE / "milled-bracket.3mf")
    (HERE / "expected.json").write_text(json.dumps(expected(), indent=2) + "\n", encoding="utf-8")
    for name in expected():
        print(f"{name}: {(HERE / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
