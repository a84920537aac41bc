"""Figures the inspector shows for one object: height, footprint area, volume.

Pure numpy on the layer's :class:`~citytwin.model.geometry.MeshData` (no Qt).
An object's geometry is its own polygons plus those of its descendants (a
building's roof and wall surfaces), at one LoD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citytwin.model.citymodel import CityModel
from citytwin.model.semantics import SurfaceClass, lod_name


@dataclass
class ObjectStats:
    """Computed figures of one object (``None`` where not computable).

    Attributes
    ----------
    lod
        LoD shown, as spelled in files (``"2"``).
    lods
        Every LoD the object has.
    height
        z max − z min of its geometry, metres.
    footprint
        Area of its ground surfaces, or of the 2D projection of its geometry, m².
    footprint_source
        ``"ground surfaces"`` or ``"2D projection"``.
    volume
        Volume of its closed solid (divergence theorem), m³; ``None`` when the
        geometry is not closed.
    n_triangles
        Triangles counted.
    bounds
        ``[xmin, ymin, zmin, xmax, ymax, zmax]`` in the CRS of the model given (the display model in the window).
    """

    lod: str | None
    lods: list[str]
    height: float | None
    footprint: float | None
    footprint_source: str | None
    volume: float | None
    n_triangles: int
    bounds: np.ndarray | None


def subtree(model: CityModel, index: int) -> np.ndarray:
    """``(K,)`` indices of an object and all its descendants."""
    objs = model.objects
    out = [index]
    frontier = [index]
    for _ in range(64):
        nxt = [int(c) for i in frontier for c in objs.children(i)]
        if not nxt:
            break
        out.extend(nxt)
        frontier = nxt
    return np.unique(np.asarray(out, np.int64))


def object_triangles(model: CityModel, index: int, lod: int | None = None) -> tuple[np.ndarray, int | None]:
    """Triangle indices of an object's geometry at ``lod`` (default: its highest), and the LoD code used."""
    mesh = model.mesh
    members = subtree(model, index)
    in_obj = np.isin(mesh.tri_object, members)
    if not in_obj.any():
        return np.zeros(0, np.int64), None
    lods = mesh.tri_lod[in_obj]
    code = int(lods.max()) if lod is None or lod not in set(lods.tolist()) else int(lod)
    return np.flatnonzero(in_obj & (mesh.tri_lod == code)), code


def object_bounds(model: CityModel, index: int, lod: int | None = None) -> np.ndarray | None:
    """Bounds of an object's geometry, or ``None`` when it has none."""
    tris, _ = object_triangles(model, index, lod)
    if len(tris) == 0:
        return None
    pts = model.mesh.vertices[np.unique(model.mesh.triangles[tris])]
    return np.concatenate([pts.min(axis=0), pts.max(axis=0)])


def projected_area(vertices: np.ndarray, triangles: np.ndarray, cell: float = 0.1) -> float:
    """Area of the union of the triangles' 2D projections (overlaps counted once).

    Walls project to lines and roofs overlap ground surfaces, so summing the
    triangles' areas is wrong; the union is measured by rasterising at ``cell``
    metres (coarser for big objects, at most ~4 million samples).
    """
    if len(triangles) == 0:
        return 0.0
    xy = vertices[:, :2]
    lo = xy[np.unique(triangles)].min(axis=0)
    hi = xy[np.unique(triangles)].max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    cell = max(cell, float(np.sqrt(span[0] * span[1] / 4e6)))
    nx, ny = (np.ceil(span / cell).astype(int) + 1).tolist()
    covered = np.zeros((ny, nx), bool)
    a, b, c = (xy[triangles[:, k]] - lo for k in range(3))
    for p0, p1, p2 in zip(a, b, c, strict=True):
        area2 = (p1[0] - p0[0]) * (p2[1] - p0[1]) - (p1[1] - p0[1]) * (p2[0] - p0[0])
        if abs(area2) < 1e-12:
            continue
        tmin = np.floor(np.minimum(np.minimum(p0, p1), p2) / cell).astype(int)
        tmax = np.ceil(np.maximum(np.maximum(p0, p1), p2) / cell).astype(int)
        xs = (np.arange(tmin[0], tmax[0] + 1) + 0.5) * cell
        ys = (np.arange(tmin[1], tmax[1] + 1) + 0.5) * cell
        gx, gy = np.meshgrid(xs, ys)
        w0 = (p1[0] - gx) * (p2[1] - gy) - (p1[1] - gy) * (p2[0] - gx)
        w1 = (p2[0] - gx) * (p0[1] - gy) - (p2[1] - gy) * (p0[0] - gx)
        w2 = (p0[0] - gx) * (p1[1] - gy) - (p0[1] - gy) * (p1[0] - gx)
        s = np.sign(area2)
        inside = (w0 * s >= 0) & (w1 * s >= 0) & (w2 * s >= 0)
        y0, x0 = tmin[1], tmin[0]
        ys_idx = np.clip(np.arange(y0, y0 + inside.shape[0]), 0, ny - 1)
        xs_idx = np.clip(np.arange(x0, x0 + inside.shape[1]), 0, nx - 1)
        covered[np.ix_(ys_idx, xs_idx)] |= inside
    return float(covered.sum()) * cell * cell


def closed_volume(vertices: np.ndarray, triangles: np.ndarray, tolerance: float = 1e-3) -> float | None:
    """Volume enclosed by triangles when they form closed surfaces, else ``None``.

    Vertices are welded at ``tolerance`` metres (polygons do not share vertices
    in the model); the surface is closed when every edge is used by exactly two
    triangles in opposite directions. Signed tetrahedra volumes are summed
    relative to the centroid to keep precision with large coordinates.
    """
    if len(triangles) < 4:
        return None
    pts = vertices[triangles.ravel()]
    centre = pts.mean(axis=0)
    keys = np.round((pts - centre) / tolerance).astype(np.int64)
    _, weld = np.unique(keys, axis=0, return_inverse=True)
    tri = weld.reshape(-1, 3)
    tri = tri[(tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])]
    if len(tri) < 4:
        return None
    edges = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]).astype(np.int64)
    n = int(weld.max()) + 1
    # Closed (as an oriented 2-cycle) when every edge is crossed as often forwards as backwards:
    # true for a solid, and for solids sharing an inner surface used once in each direction.
    lo_hi = np.minimum(edges[:, 0], edges[:, 1]) * n + np.maximum(edges[:, 0], edges[:, 1])
    sign = np.where(edges[:, 0] < edges[:, 1], 1, -1)
    keys, inverse = np.unique(lo_hi, return_inverse=True)
    balance = np.zeros(len(keys), np.int64)
    np.add.at(balance, inverse, sign)
    if balance.any():
        return None
    p = pts - centre
    p = p.reshape(-1, 3, 3)
    vol = float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6.0)
    return abs(vol)


def object_stats(model: CityModel, index: int, lod: int | None = None) -> ObjectStats:
    """Height, footprint and volume of an object (with its descendants) at one LoD."""
    mesh = model.mesh
    members = subtree(model, index)
    own = np.isin(mesh.poly_object, members)
    lods = sorted({lod_name(c) for c in np.unique(mesh.poly_lod[own]).tolist()}, key=float)
    tris, code = object_triangles(model, index, lod)
    if len(tris) == 0:
        return ObjectStats(None, lods, None, None, None, None, 0, None)
    triangles = mesh.triangles[tris]
    pts = mesh.vertices[np.unique(triangles)]
    bounds = np.concatenate([pts.min(axis=0), pts.max(axis=0)])
    height = float(bounds[5] - bounds[2])
    ground = mesh.tri_semantic[tris] == SurfaceClass.GROUND
    if ground.any():
        footprint = float(mesh.triangle_areas()[tris[ground]].sum())
        source = "ground surfaces"
    else:
        footprint = projected_area(mesh.vertices, triangles)
        source = "2D projection"
    volume = closed_volume(mesh.vertices, triangles)
    if volume is None:
        # An inner surface shared by two solids of a CompositeSolid is stored once; without
        # it the outer shell may be closed. Only unclassified faces are candidates.
        sem = mesh.tri_semantic[tris]
        inner = sem == SurfaceClass.NONE
        if inner.any() and not inner.all():
            volume = closed_volume(mesh.vertices, triangles[~inner])
    return ObjectStats(lod_name(code), lods, height, footprint, source, volume, int(len(tris)), bounds)
