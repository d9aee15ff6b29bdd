"""A compact triangle mesh of a part for the 3D preview of the web matching form (issue 22): the tessellation the
analysis measured (a STEP solid's, or the mesh file's own triangles), at most :data:`MAX_TRIANGLES` triangles.

A larger mesh is simplified by vertex clustering, in numpy: vertices are snapped to a grid, those in one cell merged
into their mean, and triangles that collapse (two corners in one cell) or repeat another dropped. The grid is
refined until the result fits; a preview keeps the part's silhouette and box, not its fine detail, and it is never
measured (every measure comes from the full geometry).

:func:`encode` packs the mesh as one small binary for the page (see ``api/static/cad-preview.js``): ``MKGP``, then
little-endian uint32 vertex count and triangle count, float32 x, y, z per vertex (mm, the file's axes), uint32 vertex
indices per triangle."""

from __future__ import annotations

import struct

import numpy as np

#: the most triangles a preview has: about 0.9 MB of arrays (1.2 MB as base64 in the page), drawn at once by any
#: browser with WebGL
MAX_TRIANGLES = 50_000
MAGIC = b"MKGP"


def preview_mesh(vertices: np.ndarray, faces: np.ndarray, *,
                 max_triangles: int = MAX_TRIANGLES) -> tuple[np.ndarray, np.ndarray]:
    """(vertices float32 (n, 3), triangles uint32 (m, 3)) of the mesh, only the vertices the triangles use,
    simplified by vertex clustering when it has more than ``max_triangles`` triangles."""
    vertices = np.asarray(vertices, dtype=float).reshape(-1, 3)
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) > max_triangles:
        vertices, faces = simplified(vertices, faces, max_triangles)
    used, faces = np.unique(faces, return_inverse=True)
    faces = faces.reshape(-1, 3)
    return vertices[used].astype(np.float32), faces.astype(np.uint32)


def simplified(vertices: np.ndarray, faces: np.ndarray, max_triangles: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertex clustering to at most ``max_triangles`` triangles: the finest grid tried (cells along the box's
    longest edge, shrinking by the square root of the overshoot) whose result fits."""
    low = vertices.min(axis=0)
    size = float(np.ptp(vertices, axis=0).max()) or 1.0
    # a closed surface in an n-cell grid keeps about as many triangles as the cells it crosses (~ n^2): start at a
    # grid that a compact part would fill with about max_triangles and shrink (or stop) from there
    cells = max(4, int(np.sqrt(max_triangles) * 2))
    while True:
        clustered = _cluster(vertices, faces, low, size / cells)
        if len(clustered[1]) <= max_triangles or cells <= 4:
            return clustered
        cells = max(4, int(cells * np.sqrt(max_triangles / len(clustered[1])) * 0.95))


def _cluster(vertices: np.ndarray, faces: np.ndarray, low: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    cells = np.floor((vertices - low) / cell).astype(np.int64)
    span = int(cells.max()) + 1
    # one integer per cell (a 1-D unique is several times faster than numpy's row-wise one)
    _, inverse = np.unique((cells[:, 0] * span + cells[:, 1]) * span + cells[:, 2], return_inverse=True)
    inverse = inverse.reshape(-1)
    count = int(inverse.max()) + 1
    weights = np.bincount(inverse, minlength=count).astype(float)
    means = np.stack([np.bincount(inverse, weights=vertices[:, axis], minlength=count) for axis in range(3)],
                     axis=1) / np.maximum(weights, 1)[:, None]
    faces = inverse[faces]
    keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])
    faces = faces[keep]
    # two triangles on the same three cells (the two sides of a wall thinner than a cell): one is drawn
    ordered = np.sort(faces, axis=1)
    if count < 2 ** 21:
        _, first = np.unique((ordered[:, 0] * count + ordered[:, 1]) * count + ordered[:, 2], return_index=True)
    else:
        _, first = np.unique(ordered, axis=0, return_index=True)
    return means, faces[np.sort(first)]


def encode(vertices: np.ndarray, faces: np.ndarray) -> bytes:
    """The preview as one binary (the module's docstring gives the layout)."""
    vertices = np.ascontiguousarray(vertices, dtype="<f4")
    faces = np.ascontiguousarray(faces, dtype="<u4")
    return MAGIC + struct.pack("<II", len(vertices), len(faces)) + vertices.tobytes() + faces.tobytes()


def decode(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, faces) of :func:`encode`'s binary."""
    if data[:4] != MAGIC:
        raise ValueError("not a MaaS-KG preview mesh")
    vertex_count, face_count = struct.unpack_from("<II", data, 4)
    vertices = np.frombuffer(data, dtype="<f4", count=vertex_count * 3, offset=12).reshape(-1, 3)
    faces = np.frombuffer(data, dtype="<u4", count=face_count * 3, offset=12 + vertex_count * 12).reshape(-1, 3)
    return vertices, faces


def of_meshes(meshes) -> bytes:
    """The encoded preview of one or several triangle meshes (``.vertices``, ``.faces``: the bodies of a file)."""
    vertices, faces, offset = [], [], 0
    for mesh in meshes:
        if mesh is None or len(mesh.faces) == 0:
            continue
        vertices.append(np.asarray(mesh.vertices, dtype=float))
        faces.append(np.asarray(mesh.faces, dtype=np.int64) + offset)
        offset += len(mesh.vertices)
    if not faces:
        return encode(np.empty((0, 3)), np.empty((0, 3)))
    return encode(*preview_mesh(np.concatenate(vertices), np.concatenate(faces)))
