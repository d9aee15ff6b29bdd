"""Triangle meshes: reading STL, OBJ and 3MF, and the measures every part has whatever its source (a STEP solid is
measured through its tessellation here too): volume, area, boxes, bodies, genus and wall thickness by ray casting.

trimesh reads STL and OBJ and computes volume and area. Its oriented box (``bounding_box_oriented``), body split and
3MF reader need scipy or networkx, which this project does not install (scipy alone is 35 MB for three functions);
the few lines they would do are numpy here: a principal-axes box, a union-find over shared vertices and a stdlib 3MF
reader."""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

import numpy as np

#: rays cast inward to sample the wall thickness (a quarter as many again along the surface); 256 rays put the median
#: within a few percent on the examples. Every ray is tested against every triangle (numpy, no spatial index): on a
#: 1,000,000-triangle torus that is 0.15 s a ray, and 320 rays made 62 s of a 60 s limit, so meshes above
#: LARGE_MESH_TRIANGLES get LARGE_MESH_RAYS
THICKNESS_RAYS = 256
LARGE_MESH_TRIANGLES = 200_000
LARGE_MESH_RAYS = 64
#: a triangle lies on a surface of revolution about an axis when its normal is square to the tangent of the circle
#: about the axis through the middle of the triangle's angular span, to this much (|n . t|: the faceted turned shaft
#: exactly 0 on its faces of revolution; the bracket's sides, off their centre lines, mostly far above) ...
REVOLUTION_TANGENT = 0.05
#: ... and the triangle spans at most this angle about the axis (a facet of a tessellated circle spans 2 pi / sides:
#: 0.05 rad on the shaft, 0.3 rad at Open CASCADE's coarse default; a box's side split in two triangles spans 1.6 rad,
#: and without this bound both would count, their normals square to the tangent at the face's middle)
REVOLUTION_SPAN = 0.6
#: end and shoulder faces: the normal parallel to the axis to 2 degrees
REVOLUTION_END_COS = 0.99939
#: meshes above this many triangles choose among the candidate axes on this many of them (each axis costs 0.9 s on
#: a 1,000,000-triangle torus, 2 cores; the sample 0.05 s), then measure the chosen axis on all
REVOLUTION_SAMPLE = 50_000


@dataclass
class Revolution:
    """The axis about which most of a mesh's area lies on surfaces of revolution: ``share`` of the area on them,
    ``with_ends`` with the triangles square to the axis (ends, shoulders), the same two shares the STEP path takes
    from its coaxial faces of revolution."""

    origin: np.ndarray
    direction: np.ndarray
    share: float
    with_ends: float

    @property
    def shares(self) -> tuple[float, float]:
        return self.share, self.with_ends


class MeshError(ValueError):
    """The mesh cannot be read or is not a closed volume; the message says what to fix."""


@dataclass
class Triangles:
    """A triangle soup with merged vertices: ``vertices`` (n, 3) in mm, ``faces`` (m, 3) vertex indices."""

    vertices: np.ndarray
    faces: np.ndarray

    @property
    def corners(self) -> np.ndarray:
        return self.vertices[self.faces]

    def normals_and_areas(self, corners: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        corners = self.corners if corners is None else corners
        cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        doubled = np.linalg.norm(cross, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            normals = np.where(doubled[:, None] > 0, cross / doubled[:, None], 0.0)
        return normals, doubled / 2

    def area(self) -> float:
        return float(self.normals_and_areas()[1].sum())

    def volume(self) -> float:
        """Signed volume by the divergence theorem (positive for outward-facing triangles)."""
        corners = self.corners
        return float(np.einsum("ij,ij->i", corners[:, 0], np.cross(corners[:, 1], corners[:, 2])).sum() / 6)

    def aabb(self) -> tuple[np.ndarray, np.ndarray]:
        used = self.vertices[np.unique(self.faces)]
        return used.min(axis=0), used.max(axis=0)

    def principal_box(self) -> list[float]:
        """Edge lengths of the box along the principal axes of the vertices (smallest of it and the axis-aligned
        box): not always the minimal oriented box, but equal to it for boxes, plates and parts of one main
        direction."""
        used = self.vertices[np.unique(self.faces)]
        centred = used - used.mean(axis=0)
        _, axes = np.linalg.eigh(np.cov(centred.T))
        projected = centred @ axes
        principal = projected.max(axis=0) - projected.min(axis=0)
        low, high = self.aabb()
        aligned = high - low
        best = principal if np.prod(principal) < np.prod(aligned) else aligned
        return sorted((float(x) for x in best), reverse=True)

    def _edge_keys(self) -> np.ndarray:
        """Each triangle's three edges as one number (lower vertex x vertices + higher): numpy's unique on one
        column of numbers took 0.3 s for a 1,000,000-triangle mesh's edges, on rows of two 4 s."""
        edges = np.sort(self.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        return edges[:, 0] * np.int64(len(self.vertices)) + edges[:, 1]

    def edge_count(self) -> int:
        return len(np.unique(self._edge_keys()))

    def open_edges(self) -> int:
        """Edges used by one triangle only: a closed (watertight) surface has none."""
        _, counts = np.unique(self._edge_keys(), return_counts=True)
        return int((counts == 1).sum())

    def genus(self) -> int:
        """Through-openings of a closed surface (handles), from the Euler characteristic V - E + F = 2 (bodies -
        genus)."""
        used = len(np.unique(self.faces))
        euler = used - self.edge_count() + len(self.faces)
        return max(0, (2 * len(self.bodies()) - euler) // 2)

    def bodies(self) -> list[np.ndarray]:
        """The face indices of each connected body (triangles sharing a vertex), largest first; a union-find with
        pointer jumping in numpy converges in a few dozen rounds on a 1,000,000-triangle torus."""
        parent = np.arange(len(self.vertices))
        u = np.concatenate([self.faces[:, 0], self.faces[:, 1]])
        v = np.concatenate([self.faces[:, 1], self.faces[:, 2]])
        while True:
            pu, pv = parent[u], parent[v]
            if np.array_equal(pu, pv):
                break
            low, high = np.minimum(pu, pv), np.maximum(pu, pv)
            np.minimum.at(parent, high, low)
            while True:
                jumped = parent[parent]
                if np.array_equal(jumped, parent):
                    break
                parent = jumped
        labels = parent[self.faces[:, 0]]
        unique, inverse = np.unique(labels, return_inverse=True)
        groups = [np.flatnonzero(inverse == i) for i in range(len(unique))]
        return sorted(groups, key=len, reverse=True)

    def area_axes(self) -> tuple[np.ndarray, np.ndarray]:
        """(centroid, principal axes as columns) of the surface's area: a surface of revolution's axis passes
        through its area centroid and is one of the axes whatever the tessellation (the vertices' axes lean towards
        where triangles are dense)."""
        return self._area_axes(self.corners, self.normals_and_areas()[1])

    @staticmethod
    def _area_axes(corners: np.ndarray, areas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        total = float(areas.sum()) or 1.0
        centroid = (areas[:, None] * corners.mean(axis=1)).sum(axis=0) / total
        local = corners - centroid
        summed = local.sum(axis=1)
        # the second moment of a triangle: area / 12 (sum of v v^T over its corners + (sum v)(sum v)^T)
        second = (np.repeat(areas, 3)[:, None] * local.reshape(-1, 3)).T @ local.reshape(-1, 3)
        second += (areas[:, None] * summed).T @ summed
        _, axes = np.linalg.eigh(second / 12)
        return centroid, axes

    def revolution(self) -> Revolution:
        """The best of the surface's three principal axes and the file's three axes through its area centroid
        (a part modelled along a file axis whose principal axes are not unique, as an isotropic one, still finds
        it), by the share of the area on surfaces of revolution about it and ends (:class:`Revolution`)."""
        corners = self.corners
        normals, areas = self.normals_and_areas(corners)
        centroid, axes = self._area_axes(corners, areas)
        candidates: list[np.ndarray] = []
        for direction in [*axes.T, *np.eye(3)]:
            direction = direction / np.linalg.norm(direction)
            if all(abs(float(direction @ other)) < 1 - 1e-9 for other in candidates):
                candidates.append(direction)
        tiny = 1e-6 * (float(np.linalg.norm(np.ptp(self.vertices, axis=0))) or 1.0)
        # a large mesh picks its axis on a sample of its triangles, then measures about that axis on all
        chosen = np.arange(len(areas))
        if len(areas) > REVOLUTION_SAMPLE and len(candidates) > 1:
            chosen = np.random.default_rng(0).choice(len(areas), REVOLUTION_SAMPLE, replace=False)
        results = [_revolution_about(corners[chosen], normals[chosen], areas[chosen], centroid, direction, tiny)
                   for direction in candidates]
        best = max(results, key=lambda r: (round(r.with_ends, 6), r.share))
        if len(chosen) < len(areas):
            best = _revolution_about(corners, normals, areas, centroid, best.direction, tiny)
        return best

    def subset(self, faces: np.ndarray) -> "Triangles":
        return Triangles(self.vertices, self.faces[faces])

    def thickness_samples(self, rays: int | None = None, seed: int = 0) -> np.ndarray:
        """Wall thickness at ``rays`` points sampled on the surface by area: the distance from each point, inward
        along its normal, to the first other triangle hit."""
        return self.wall_and_reach(rays, seed)[0]

    def wall_and_reach(self, rays: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(wall thickness, in-plane reach) at points sampled by area: the distance inward along the normal to the
        far side, and from the middle of that wall along a random direction square to the normal to the surface.
        A sheet's reach runs along the sheet (many times its thickness); a strut lattice's ends in the strut
        (about its width)."""
        if rays is None:
            rays = THICKNESS_RAYS if len(self.faces) <= LARGE_MESH_TRIANGLES else LARGE_MESH_RAYS
        normals, areas = self.normals_and_areas()
        if areas.sum() <= 0:
            return np.empty(0), np.empty(0)
        rng = np.random.default_rng(seed)
        chosen = rng.choice(len(self.faces), size=rays, p=areas / areas.sum())
        weights = rng.dirichlet((1, 1, 1), size=rays)
        origins = np.einsum("ij,ijk->ik", weights, self.corners[chosen])
        inward = -normals[chosen]
        wall = self._cast(origins, inward, chosen)
        hit = ~np.isnan(wall)
        across = np.cross(inward, rng.normal(size=(rays, 3)))
        across /= np.linalg.norm(across, axis=1)[:, None]
        middles = origins + inward * np.nan_to_num(wall / 2)[:, None]
        reach = self._cast(middles[hit][: rays // 4], across[hit][: rays // 4], None)
        return wall[hit], reach[~np.isnan(reach)]

    def _cast(self, origins: np.ndarray, directions: np.ndarray, skip: np.ndarray | None) -> np.ndarray:
        """Distance from each origin along its direction to the first triangle hit (NaN: none), Moeller-Trumbore
        against the triangles near the ray's line; ``skip``: each ray's own triangle. A triangle the ray meets has
        its centroid within its own radius (the farthest corner) of the line, so the test runs only on those: two
        matrix-vector products per ray find them (the full test on all 1,000,000 triangles of a mesh took 170 ms a
        ray, 14 s of the 25 s the mesh took; the same hits)."""
        corners = self.corners
        centroids = corners.mean(axis=1)
        radius2 = ((corners - centroids[:, None, :]) ** 2).sum(axis=2).max(axis=1)
        squared = np.einsum("ij,ij->i", centroids, centroids)
        found = np.full(len(origins), np.nan)
        scale = float(np.linalg.norm(self.vertices.max(axis=0) - self.vertices.min(axis=0))) or 1.0
        epsilon = 1e-7 * scale
        slack = 1e-9 * scale * scale  # rounding of the distances: a triangle is never left out by it
        for index in range(len(origins)):
            direction, origin = directions[index], origins[index]
            along = centroids @ direction - float(origin @ direction)
            line2 = squared - 2 * (centroids @ origin) + float(origin @ origin) - along ** 2
            near = np.flatnonzero(line2 <= radius2 * (1 + 1e-6) + slack)
            if skip is not None:
                near = near[near != skip[index]]
            if not len(near):
                continue
            first = corners[near, 0]
            edge1, edge2 = corners[near, 1] - first, corners[near, 2] - first
            p = np.cross(direction, edge2)
            determinant = np.einsum("ij,ij->i", edge1, p)
            with np.errstate(divide="ignore", invalid="ignore"):
                inverse = 1.0 / determinant
                t_vec = origin - first
                u = np.einsum("ij,ij->i", t_vec, p) * inverse
                q = np.cross(t_vec, edge1)
                v = (q @ direction) * inverse
                t = np.einsum("ij,ij->i", edge2, q) * inverse
                hit = (np.abs(determinant) > 1e-12) & (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9) & (t > epsilon)
            if hit.any():
                found[index] = t[hit].min()
        return found


def _revolution_about(corners: np.ndarray, normals: np.ndarray, areas: np.ndarray, origin: np.ndarray,
                      direction: np.ndarray, tiny: float) -> Revolution:
    """The shares of the area on surfaces of revolution about the line (``origin``, ``direction``) and square to
    it. In the plane square to the axis: each triangle's corners' angles about the axis, the middle of their span,
    and the tangent of the circle there; a facet of a tessellated surface of revolution (between two meridians) has
    its normal exactly square to that tangent, where the tangent at the centroid is off by a sixth of the span."""
    total = float(areas.sum())
    if total <= 0:
        return Revolution(origin, direction, 0.0, 0.0)
    e1 = np.cross(direction, np.eye(3)[int(np.argmin(np.abs(direction)))])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(direction, e1)
    x, y = corners @ e1 - float(origin @ e1), corners @ e2 - float(origin @ e2)  # (triangles, 3) each
    cx, cy = x.mean(axis=1), y.mean(axis=1)
    away = np.hypot(cx, cy) > tiny  # the centroid off the axis
    centre = np.arctan2(cy, cx)
    # the corners' angles from the centroid's, in (-pi, pi]; a corner on the axis has none
    angles = (np.arctan2(y, x) - centre[:, None] + np.pi) % (2 * np.pi) - np.pi
    on_axis = np.hypot(x, y) <= tiny
    low = np.where(on_axis, np.inf, angles).min(axis=1)
    high = np.where(on_axis, -np.inf, angles).max(axis=1)
    known = np.isfinite(low)
    middle = centre + np.where(known, (low + high) / 2, 0.0)
    span = np.where(known, high - low, 0.0)
    tangential = np.abs(-(normals @ e1) * np.sin(middle) + (normals @ e2) * np.cos(middle))
    ends = np.abs(normals @ direction) >= REVOLUTION_END_COS
    revolved = away & ~ends & (tangential < REVOLUTION_TANGENT) & (span <= REVOLUTION_SPAN)
    share = float(areas[revolved].sum() / total)
    return Revolution(origin, direction, share, share + float(areas[ends].sum() / total))


def read_mesh(path: str, suffix: str) -> Triangles:
    """The triangles of an STL, OBJ or 3MF file, vertices merged; :class:`MeshError` for a file that is none."""
    if suffix == ".3mf":
        vertices, faces = _read_3mf(path)
    else:
        import trimesh

        try:
            loaded = trimesh.load(path, file_type=suffix.lstrip("."), force="mesh", process=False)
        except Exception as err:  # trimesh raises many kinds for a broken file; each means "not this format"
            raise MeshError(f"cannot read the file as {suffix[1:].upper()}: {err}. Export the part again as a "
                            "binary STL, OBJ or 3MF") from None
        vertices, faces = np.asarray(loaded.vertices, dtype=float), np.asarray(loaded.faces, dtype=np.int64)
    if len(faces) == 0:
        raise MeshError(f"the {suffix[1:].upper()} file holds no triangles: export the part's surface as a mesh")
    return merged(vertices, faces)


def merged(vertices: np.ndarray, faces: np.ndarray) -> Triangles:
    """Vertices at the same place (to 1e-6 of the part's size) made one, and triangles that collapse dropped."""
    size = float(np.ptp(vertices, axis=0).max()) or 1.0
    keys = np.round(vertices / (size * 1e-6)).astype(np.int64)
    # the three coordinates as one number in their order (each spans at most 1e6 + 1 steps: below 2^63), for the
    # same reason as _edge_keys
    keys -= keys.min(axis=0)
    span = keys.max(axis=0) + 1
    keys = (keys[:, 0] * span[1] + keys[:, 1]) * span[2] + keys[:, 2]
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    faces = inverse[faces]
    keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])
    return Triangles(vertices[first], faces[keep])


_3MF = "{http://schemas.microsoft.com/3dmanufacturing/core/2015/02}"


_3MF_PRODUCTION = "{http://schemas.microsoft.com/3dmanufacturing/production/2015/06}"
#: how deep objects made of other objects (3MF components) may nest, and how many meshes a file may place in all
_3MF_DEPTH, _3MF_PLACED = 16, 10_000


def _read_3mf(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The meshes of every build item of a 3MF package, transforms applied: an item's object is a mesh, or made of
    components (other objects, each with its transform, possibly in another model part of the package: the
    production extension's ``path``, as slicers write them), followed to ``_3MF_DEPTH`` levels."""
    try:
        with zipfile.ZipFile(path) as package:
            names = [n for n in package.namelist() if n.lower().endswith(".model")]
            if not names:
                raise MeshError("the 3MF package has no 3D model part (3D/3dmodel.model): export it again")
            main = next((n for n in names if n.lower() == "3d/3dmodel.model"), names[0])
            roots = {"/" + n.lstrip("/"): ElementTree.fromstring(package.read(n)) for n in names}
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, zlib.error, NotImplementedError,
            RuntimeError) as err:  # not a ZIP, malformed XML, a damaged or encrypted entry
        raise MeshError(f"cannot read the file as 3MF ({err}): a 3MF file is a ZIP package with a 3D model; "
                        "export it again") from None
    main = "/" + main.lstrip("/")
    root = roots[main]
    if root.tag != f"{_3MF}model":
        raise MeshError(f"the 3MF model part is no 3MF model (its root element is {root.tag}, not model in the 3MF "
                        "core namespace): export the part again as 3MF")
    objects = {(part, obj.get("id")): obj for part, model in roots.items() for obj in model.iter(f"{_3MF}object")}
    meshes: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def mesh_of(key: tuple[str, str], obj) -> tuple[np.ndarray, np.ndarray] | None:
        if key not in meshes:
            mesh = obj.find(f"{_3MF}mesh")
            if mesh is None:
                return None
            try:
                vertices = np.array([[float(v.get(a)) for a in "xyz"] for v in mesh.iter(f"{_3MF}vertex")],
                                    dtype=float).reshape(-1, 3)
                faces = np.array([[int(t.get(a)) for a in ("v1", "v2", "v3")]
                                  for t in mesh.iter(f"{_3MF}triangle")], dtype=np.int64).reshape(-1, 3)
            except (TypeError, ValueError):  # an attribute missing (None) or no number
                raise MeshError(f"object {key[1]} of the 3MF model has a vertex or triangle without valid "
                                "coordinates or indices: export the part again as 3MF") from None
            if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
                raise MeshError(f"object {key[1]} of the 3MF model has triangles naming vertices it does not "
                                f"have ({len(vertices)} vertices): export the part again as 3MF")
            meshes[key] = (vertices, faces)
        return meshes[key]

    def matrix(text: str | None, what: str) -> np.ndarray:
        if not text:
            return np.vstack([np.eye(3), np.zeros(3)])
        try:
            return np.array([float(x) for x in text.split()]).reshape(4, 3)
        except ValueError:
            raise MeshError(f"the 3MF {what} has a transform that is not 12 numbers: export the part again as "
                            "3MF") from None

    placed: list[tuple[np.ndarray, np.ndarray]] = []

    def place(key: tuple[str, str], transform: np.ndarray, depth: int) -> None:
        obj = objects.get(key)
        if obj is None:
            return
        if depth > _3MF_DEPTH:
            raise MeshError(f"the 3MF objects nest deeper than {_3MF_DEPTH} levels (or refer to themselves): "
                            "export the part again as 3MF")
        found = mesh_of(key, obj)
        if found is not None:
            if len(placed) >= _3MF_PLACED:
                raise MeshError(f"the 3MF file places more than {_3MF_PLACED:,} meshes: export the part alone")
            vertices, faces = found
            placed.append((vertices @ transform[:3] + transform[3], faces))
            return
        components = obj.find(f"{_3MF}components")
        for component in components.iter(f"{_3MF}component") if components is not None else ():
            part = component.get(f"{_3MF_PRODUCTION}path") or key[0]
            inner = matrix(component.get("transform"), f"component of object {key[1]}")
            # row vectors: first the component's transform, then the enclosing one
            place(("/" + part.lstrip("/"), component.get("objectid")),
                  np.vstack([inner[:3] @ transform[:3], inner[3] @ transform[:3] + transform[3]]), depth + 1)

    # without build items (the core specification requires them), every object no other object is made of
    used = {c.get("objectid") for c in root.iter(f"{_3MF}component")}
    items = [(item.get(f"{_3MF_PRODUCTION}path") or main, item.get("objectid"), item.get("transform"))
             for item in root.iter(f"{_3MF}item")] or \
        [(main, obj.get("id"), None) for obj in root.iter(f"{_3MF}object") if obj.get("id") not in used]
    for part, key, transform in items:
        place(("/" + part.lstrip("/"), key), matrix(transform, f"build item of object {key}"), 0)
    if not placed:
        raise MeshError("the 3MF package holds no mesh object: export the part as a mesh")
    scale = {"micron": 0.001, "millimeter": 1.0, "centimeter": 10.0, "inch": 25.4, "foot": 304.8,
             "meter": 1000.0}.get(root.get("unit", "millimeter"), 1.0)
    offsets = np.cumsum([0] + [len(v) for v, _ in placed[:-1]])
    return (np.concatenate([v for v, _ in placed]) * scale,
            np.concatenate([f + offset for (_, f), offset in zip(placed, offsets)]))
