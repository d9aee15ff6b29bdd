"""STEP (AP203, AP214, AP242) through Open CASCADE (OCP): the exact solids, their volume, area and boxes from the
B-rep, the analytic faces that tell the shape class (surfaces of revolution and their axes, planes), cylindrical
holes, and a tessellation for the measures that need rays (wall thickness, through-openings).

Open CASCADE's STEP reader converts the file's length unit to millimetres (its default ``xstep.cascade.unit``).

Costs measured on benchmarks/bench_cad.py's 10.7 MB plate with 1936 holes (2 cores, benchmarks/results/): the
transfer's shape healing spent 72 % of its 18-27 s in the self-intersecting-wire repair (ShapeFix_Wire::
FixSelfIntersection re-applies its context to the whole face once per wire: quadratic in a face's wires), so that one
repair is switched off (SHAPE_FIX); grouping 1936 hole axes pairwise took 40 s (now a spatial hash, _AxisIndex);
Open CASCADE's default (Watson) mesher took 74 s and 4.9 GB on the two faces with 1936 inner wires each, Delabella
8 s and 0.4 GB for the same 333,004 triangles (tessellation)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from maas_kg.cad.mesh import Triangles, merged

#: faces of revolution are coaxial when their axes are parallel to 1e-4 rad and their lines lie within this share of
#: the part's diagonal of each other (exported axes carry float noise of about 1e-9 of the size)
COAXIAL_DISTANCE_SHARE = 1e-5
#: a cylinder group closing this share of a full turn is a hole (2 half-cylinders of an export make 1.0; a 90 degree
#: bend or fillet makes 0.25)
FULL_TURN_SHARE = 0.99
#: shape-healing parameters given to the STEP transfer (Open CASCADE's ``<operation>.<parameter>`` keys, ``0`` is
#: "do not perform"): the self-intersecting-wire repair is off. It took 72 % (perf) of the plate's 18-27 s transfer
#: (5 s without it) and grows with the square of a face's wires; the other repairs (wire order, gaps, small edges,
#: orientation, wires crossing each other, shells) stay on. A wire that crosses itself is then read as exported; a
#: solid whose skin has gaps is still refused (_has_gaps)
SHAPE_FIX = {"FixShape.FixSelfIntersectionMode": "0"}
#: axes of revolution are found among those in the same or a neighbouring cell of this share of the part's diagonal,
#: keyed by each axis line's point nearest the part's centre (see _AxisIndex)
AXIS_CELL_SHARE = 1e-3


class StepError(ValueError):
    """The STEP file cannot be read or holds no closed solid; the message says what to fix."""


@dataclass
class RevolutionGroup:
    """Faces of revolution with a common axis: their area, and whether any is convex (outside) or concave."""

    origin: np.ndarray
    direction: np.ndarray
    area: float = 0.0


@dataclass
class CylinderGroup:
    origin: np.ndarray
    direction: np.ndarray
    radius: float
    concave: bool
    turn: float = 0.0  # share of a full turn the faces cover
    low: float = math.inf  # extent along the axis
    high: float = -math.inf


@dataclass
class SolidMeasures:
    volume: float
    area: float
    aabb: tuple[list[float], list[float]]
    obb: list[float]
    planar_area: float
    analytic_area: float
    axial_planar_area: dict[int, float]  # per revolution group: planar faces perpendicular to its axis
    revolution: list[RevolutionGroup]
    cylinders: list[CylinderGroup] = field(default_factory=list)
    mesh: Triangles | None = None


def read_step(path: str) -> tuple[list, int]:
    """The solids of a STEP file and the number of its faces outside any solid; :class:`StepError` when it is no
    STEP file, is truncated or holds no solid."""
    from OCP.IFSelect import IFSelect_RetDone
    from OCP.STEPControl import STEPControl_Reader
    from OCP.TopAbs import TopAbs_FACE, TopAbs_SHELL, TopAbs_SOLID
    from OCP.TopExp import TopExp_Explorer
    from OCP.TopoDS import TopoDS

    with open(path, "rb") as file:
        head = file.read(64)
    if not head.lstrip().startswith(b"ISO-10303-21"):
        raise StepError("the file is not a STEP file (it does not begin with ISO-10303-21;): export the part as "
                        "STEP AP203, AP214 or AP242, or send an STL, 3MF or OBJ mesh")
    with open(path, "rb") as file:
        file.seek(max(0, file.seek(0, 2) - 256))
        tail = file.read()
    if b"END-ISO-10303-21" not in tail:
        raise StepError("the STEP file is truncated (it does not end with END-ISO-10303-21;): upload or export it "
                        "again in full")
    reader = STEPControl_Reader()
    if reader.ReadFile(path) != IFSelect_RetDone:
        raise StepError("Open CASCADE cannot read the STEP file (a syntax error in its data section): export the "
                        "part again as STEP AP203, AP214 or AP242")
    _set_shape_fix(reader)
    reader.TransferRoots()
    shape = reader.OneShape()
    del reader  # the STEP model (entities of the file) is not needed once the shape is built
    solids = []
    explorer = TopExp_Explorer(shape, TopAbs_SOLID)
    while explorer.More():
        solids.append(TopoDS.Solid(explorer.Current()))
        explorer.Next()
    loose = 0
    explorer = TopExp_Explorer(shape, TopAbs_FACE, TopAbs_SOLID)
    while explorer.More():
        loose += 1
        explorer.Next()
    if not solids:
        shells = TopExp_Explorer(shape, TopAbs_SHELL).More()
        if loose or shells:
            raise StepError(f"the STEP file holds {loose} face(s) but no closed solid (an open shell, a surface "
                            "model): close the gaps and export the part as a solid body")
        raise StepError("the STEP file holds no geometry: export the part (a solid body) again")
    return solids, loose


def _set_shape_fix(reader) -> None:
    """SHAPE_FIX on the reader's transfer; after ReadFile, which creates the transfer actor that takes them."""
    from OCP.TCollection import TCollection_AsciiString

    parameters = reader.GetShapeFixParameters()
    for key, value in SHAPE_FIX.items():
        parameters.Bind(TCollection_AsciiString(key), TCollection_AsciiString(value))
    reader.SetShapeFixParameters(parameters)


def _has_gaps(solid) -> bool:
    """Whether ``solid``'s skin has free edges (edges bounding one face only)."""
    from OCP.ShapeAnalysis import ShapeAnalysis_Shell

    analysis = ShapeAnalysis_Shell()
    analysis.LoadShells(solid)
    analysis.CheckOrientedShells(solid, True)
    return analysis.HasFreeEdges()


def measure(solid, *, tessellate: bool = True) -> SolidMeasures:
    from OCP.BRepAdaptor import BRepAdaptor_Surface
    from OCP.BRepBndLib import BRepBndLib
    from OCP.BRepGProp import BRepGProp, BRepGProp_Face
    from OCP.Bnd import Bnd_Box, Bnd_OBB
    from OCP.GProp import GProp_GProps
    from OCP.GeomAbs import (GeomAbs_BSplineSurface, GeomAbs_Cone, GeomAbs_Cylinder, GeomAbs_Plane,
                             GeomAbs_SurfaceOfRevolution, GeomAbs_Torus, GeomAbs_Sphere)
    from OCP.TopAbs import TopAbs_FACE
    from OCP.TopExp import TopExp_Explorer
    from OCP.TopoDS import TopoDS
    from OCP.gp import gp_Pnt, gp_Vec

    if _has_gaps(solid):
        raise StepError("a solid of the STEP file is not closed (its skin has gaps, edges bounding one face only): "
                        "repair or sew the faces in the CAD system and export the part again")
    props = GProp_GProps()
    BRepGProp.VolumeProperties_s(solid, props)
    volume = abs(props.Mass())
    props = GProp_GProps()
    BRepGProp.SurfaceProperties_s(solid, props)
    area = props.Mass()
    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(solid, box, False, False)
    low, high = box.CornerMin(), box.CornerMax()
    xmin, ymin, zmin, xmax, ymax, zmax = low.X(), low.Y(), low.Z(), high.X(), high.Y(), high.Z()
    obb = Bnd_OBB()
    BRepBndLib.AddOBB_s(solid, obb, False, True, False)
    oriented = sorted((2 * obb.XHSize(), 2 * obb.YHSize(), 2 * obb.ZHSize()), reverse=True)
    diagonal = math.dist((xmin, ymin, zmin), (xmax, ymax, zmax)) or 1.0
    centre = np.array([xmin + xmax, ymin + ymax, zmin + zmax]) / 2

    revolution: list[RevolutionGroup] = []
    cylinders: list[CylinderGroup] = []
    revolution_index, cylinder_index = _AxisIndex(centre, diagonal), _AxisIndex(centre, diagonal)
    planes: list[tuple[np.ndarray, float]] = []
    planar_area = analytic_area = 0.0
    explorer = TopExp_Explorer(solid, TopAbs_FACE)
    while explorer.More():
        face = TopoDS.Face(explorer.Current())
        explorer.Next()
        face_props = GProp_GProps()
        BRepGProp.SurfaceProperties_s(face, face_props)
        face_area = face_props.Mass()
        surface = BRepAdaptor_Surface(face, True)
        kind = surface.GetType()
        if kind in (GeomAbs_Plane, GeomAbs_Cylinder, GeomAbs_Cone, GeomAbs_Sphere, GeomAbs_Torus):
            analytic_area += face_area
        if kind == GeomAbs_Plane:
            planar_area += face_area
            normal = surface.Plane().Axis().Direction()
            planes.append((np.array([normal.X(), normal.Y(), normal.Z()]), face_area))
            continue
        axis = {GeomAbs_Cylinder: lambda: surface.Cylinder().Axis(), GeomAbs_Cone: lambda: surface.Cone().Axis(),
                GeomAbs_Torus: lambda: surface.Torus().Axis(),
                GeomAbs_SurfaceOfRevolution: lambda: surface.AxeOfRevolution()}.get(kind)
        if axis is None:
            continue
        ax1 = axis()
        origin = np.array([ax1.Location().X(), ax1.Location().Y(), ax1.Location().Z()])
        direction = np.array([ax1.Direction().X(), ax1.Direction().Y(), ax1.Direction().Z()])
        _group(revolution, origin, direction, diagonal, revolution_index).area += face_area
        if kind != GeomAbs_Cylinder:
            continue
        radius = surface.Cylinder().Radius()
        u0, u1, v0, v1 = (surface.FirstUParameter(), surface.LastUParameter(), surface.FirstVParameter(),
                          surface.LastVParameter())
        point, normal = gp_Pnt(), gp_Vec()
        BRepGProp_Face(face).Normal((u0 + u1) / 2, (v0 + v1) / 2, point, normal)
        radial = np.array([point.X(), point.Y(), point.Z()]) - origin
        radial -= direction * float(radial @ direction)
        concave = float(radial @ np.array([normal.X(), normal.Y(), normal.Z()])) < 0  # normal towards the axis
        group = _cylinder_group(cylinders, origin, direction, radius, concave, diagonal, cylinder_index)
        group.turn += (u1 - u0) / (2 * math.pi)
        # v runs along the axis from the cylinder's own origin, which may differ from the group's
        shift = float((origin - group.origin) @ group.direction) * (1 if direction @ group.direction > 0 else -1)
        group.low = min(group.low, v0 + shift)
        group.high = max(group.high, v1 + shift)
    axial = {}
    for index, group in enumerate(revolution):
        axial[index] = sum(a for n, a in planes if abs(abs(float(n @ group.direction)) - 1) < 1e-6)
    measures = SolidMeasures(volume, area, ([xmin, ymin, zmin], [xmax, ymax, zmax]), oriented, planar_area,
                             analytic_area, axial, revolution, cylinders)
    if tessellate:
        measures.mesh = tessellation(solid, diagonal)
    return measures


class _AxisIndex:
    """Groups' axis lines by the point of each line nearest the part's centre, in cubic cells of AXIS_CELL_SHARE of
    the diagonal: finding an axis's group looks at the groups of the 27 cells around its point instead of all groups
    (1936 hole axes compared pairwise took 40 s). The answer is the one the scan of all groups in order gives (the
    first group that _same_line accepts): two lines it accepts are parallel to 1.5e-4 rad and within
    COAXIAL_DISTANCE_SHARE of the diagonal, so their nearest points differ by at most 2 x that distance +
    (2 s + r) x 1.5e-4 (s: the axis origin's distance from its nearest point, r: the line's distance from the
    centre), under one cell while 2 s + r <= 5 diagonals; an axis farther out is compared with all groups."""

    def __init__(self, centre: np.ndarray, diagonal: float):
        self.centre, self.diagonal = centre, diagonal
        self.cell = AXIS_CELL_SHARE * diagonal
        self.cells: dict[tuple[int, int, int], list[int]] = {}

    def _near(self, origin: np.ndarray, direction: np.ndarray) -> tuple[tuple[int, int, int], bool]:
        offset = origin - self.centre
        along = float(offset @ direction)
        nearest = offset - direction * along
        key = tuple(int(k) for k in np.floor(nearest / self.cell))
        return key, 2 * abs(along) + float(np.linalg.norm(nearest)) <= 5 * self.diagonal

    def find(self, groups: list, origin: np.ndarray, direction: np.ndarray, accepts) -> int | None:
        """The index of the first group in ``groups`` that ``accepts`` (a predicate on a group), or None."""
        key, indexed = self._near(origin, direction)
        if indexed:
            candidates = sorted(index for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1)
                                for index in self.cells.get((key[0] + dx, key[1] + dy, key[2] + dz), ()))
        else:
            candidates = range(len(groups))
        return next((index for index in candidates if accepts(groups[index])), None)

    def add(self, groups: list, group) -> None:
        groups.append(group)
        self.cells.setdefault(self._near(group.origin, group.direction)[0], []).append(len(groups) - 1)


def _parallel(a: np.ndarray, b: np.ndarray) -> bool:
    return abs(abs(float(a @ b)) - 1) < 1e-8


def _same_line(origin, direction, group, diagonal: float) -> bool:
    if not _parallel(direction, group.direction):
        return False
    offset = origin - group.origin
    return float(np.linalg.norm(offset - group.direction * float(offset @ group.direction))) \
        <= COAXIAL_DISTANCE_SHARE * diagonal


def _group(groups: list[RevolutionGroup], origin, direction, diagonal: float, index: _AxisIndex) -> RevolutionGroup:
    found = index.find(groups, origin, direction, lambda group: _same_line(origin, direction, group, diagonal))
    if found is not None:
        return groups[found]
    index.add(groups, RevolutionGroup(origin, direction))
    return groups[-1]


def _cylinder_group(groups: list[CylinderGroup], origin, direction, radius, concave, diagonal,
                    index: _AxisIndex) -> CylinderGroup:
    found = index.find(groups, origin, direction,
                       lambda group: group.concave == concave and abs(group.radius - radius) <= 1e-6 * diagonal
                       and _same_line(origin, direction, group, diagonal))
    if found is not None:
        return groups[found]
    index.add(groups, CylinderGroup(origin, direction, radius, concave))
    return groups[-1]


def tessellation(solid, diagonal: float) -> Triangles:
    """The solid's faces as triangles (deflection 0.1 % of its diagonal, 0.3 rad), outward, vertices merged.

    Open CASCADE's Delabella mesher: on the plate of benchmarks/bench_cad.py (two plane faces with 1936 inner wires
    each) the default Watson mesher took 74-104 s and 2.6-4.9 GB, Delabella 8 s and 0.4 GB for the same 333,004
    triangles; the examples' meshes measure the same. Faces Delabella leaves without triangles are meshed again
    with Watson."""
    from OCP.BRep import BRep_Tool
    from OCP.BRepMesh import BRepMesh_IncrementalMesh
    from OCP.IMeshTools import IMeshTools_MeshAlgoType_Delabella, IMeshTools_MeshAlgoType_Watson, IMeshTools_Parameters
    from OCP.TopAbs import TopAbs_FACE, TopAbs_REVERSED
    from OCP.TopExp import TopExp_Explorer
    from OCP.TopLoc import TopLoc_Location
    from OCP.TopoDS import TopoDS

    def faces():
        explorer = TopExp_Explorer(solid, TopAbs_FACE)
        while explorer.More():
            yield TopoDS.Face(explorer.Current())
            explorer.Next()

    parameters = IMeshTools_Parameters()
    parameters.Deflection, parameters.Angle, parameters.Relative = diagonal * 1e-3, 0.3, False
    parameters.InParallel = True
    parameters.MeshAlgo = IMeshTools_MeshAlgoType_Delabella
    BRepMesh_IncrementalMesh(solid, parameters)
    if any(BRep_Tool.Triangulation_s(face, TopLoc_Location()) is None for face in faces()):
        parameters.MeshAlgo = IMeshTools_MeshAlgoType_Watson
        BRepMesh_IncrementalMesh(solid, parameters)  # meshes the faces still without triangles
    vertices, triangles_of, offset = [], [], 0
    for face in faces():
        location = TopLoc_Location()
        triangulation = BRep_Tool.Triangulation_s(face, location)
        if triangulation is None:
            continue
        count = triangulation.NbNodes()
        if location.IsIdentity():
            nodes = [triangulation.Node(i).Coord() for i in range(1, count + 1)]
        else:
            transform = location.Transformation()
            nodes = [triangulation.Node(i).Transformed(transform).Coord() for i in range(1, count + 1)]
        triangles = np.array([triangulation.Triangle(i).Get() for i in range(1, triangulation.NbTriangles() + 1)],
                             dtype=np.int64).reshape(-1, 3) - 1
        if face.Orientation() == TopAbs_REVERSED:
            triangles = triangles[:, [0, 2, 1]]
        vertices.append(np.array(nodes, dtype=float).reshape(-1, 3))
        triangles_of.append(triangles + offset)
        offset += count
    return merged(np.concatenate(vertices), np.concatenate(triangles_of))
