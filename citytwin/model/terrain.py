"""A digital terrain model (DTM) mesh from the ground points of a point cloud.

:func:`make_dtm` bins the ground-class points of a :class:`PointCloud` on a
regular grid of nodes, gives each node the mean (or median, or lowest) height
of the points nearest to it, fills nodes without points by iterative
neighbour averaging up to ``max_gap`` metres from the data (the ground under
buildings, small holes), and triangulates the grid: two triangles per grid
cell whose four corners have a height. Everything is vectorised numpy.

The result is a :class:`CityModel` with one ``TINRelief`` object whose
triangles are semantic class TERRAIN, in the cloud's CRS, so a DTM is drawn,
picked, exported and saved like any other city model.

``method="tin"`` makes a true TIN instead: the ground points are thinned to
one real point per ``resolution`` cell (the lowest, or the one of median
height), triangulated by Delaunay in 2D (matplotlib's ``Triangulation``, a
qhull wrapper: scipy is not a dependency, and matplotlib is already there for
pyvista), and triangles with an edge longer than ``max_gap`` (over buildings,
water, the concave parts of the hull) are dropped. Its vertices are measured
points, so it keeps breaklines a grid smooths away.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.geometry import MeshBuilder
from citytwin.model.pointcloud import PointCloud
from citytwin.model.semantics import SurfaceClass, lod_code

#: ASPRS class of ground points.
GROUND = 2
#: Ways of summarising the heights of the points of one grid node.
STATISTICS = ("mean", "median", "min")
#: Ways of making the DTM.
METHODS = ("grid", "tin")
#: LoD code given to the DTM's polygons (a relief of LoD 1).
DTM_LOD = lod_code(1)


def make_dtm(
    cloud: PointCloud,
    resolution: float = 1.0,
    method: str = "grid",
    classes: Iterable[int] = (GROUND,),
    statistic: str = "mean",
    max_gap: float | None = 20.0,
) -> CityModel:
    """A DTM mesh from the points of ``classes`` (ground by default).

    Parameters
    ----------
    cloud
        The point cloud (all its points or the subset a point budget kept).
    resolution
        Distance between grid nodes, in the units of the cloud's CRS (metres).
    method
        ``"grid"`` (heights on a regular grid of nodes, gaps filled) or ``"tin"``
        (Delaunay triangles between one ground point per grid cell).
    classes
        ASPRS class codes taken as ground.
    statistic
        Height of a node from its points: ``"mean"``, ``"median"`` or ``"min"``.
        For a TIN, the point kept in each cell: the lowest for ``"min"``, else
        the one of median height (a TIN's vertices are real points).
    max_gap
        Grid: nodes without points are filled from their neighbours up to this
        distance from a node with points; farther nodes (and the cells touching
        them) are left out of the mesh. TIN: triangles with an edge longer than
        this are left out. ``None`` fills every gap.

    Returns
    -------
    CityModel
        Format ``"DTM"``, one ``TINRelief`` object, TERRAIN triangles.

    Raises
    ------
    ValueError
        On a bad parameter, or when the cloud has no point of ``classes``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, not {statistic!r}")
    resolution = float(resolution)
    if not (np.isfinite(resolution) and resolution > 0):
        raise ValueError("resolution must be a positive number")
    if cloud.classification is None:
        raise ValueError("The point cloud has no classification, so its ground points are unknown.")
    wanted = np.zeros(256, bool)
    codes = np.asarray(sorted({int(c) for c in classes}), dtype=np.int64)
    wanted[codes[(codes >= 0) & (codes < 256)]] = True
    ground = wanted[cloud.classification]
    pts = cloud.points_xyz(ground)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        raise ValueError(f"The point cloud has no points of class {', '.join(map(str, codes))}.")

    if method == "tin":
        return _make_tin(cloud, pts, resolution, codes, statistic, max_gap)
    heights, has_data, (x0, y0), (nx, ny) = _grid_heights(pts, resolution, statistic)
    gap_steps = None if max_gap is None else int(np.ceil(float(max_gap) / resolution))
    filled, n_filled = _fill(heights, has_data, gap_steps)
    known = np.isfinite(filled)
    mesh_vertices, n_cells = _triangulate_grid(filled, known, x0, y0, resolution)

    warnings: list[str] = []
    n_far = int((~known).sum())
    if n_far:
        warnings.append(
            f"{n_far:,} of {nx * ny:,} grid nodes lie more than {max_gap:g} from any ground point and were left out."
        )
    return _dtm_model(
        cloud,
        mesh_vertices,
        {"resolution": resolution, "method": method, "statistic": statistic, "classes": codes.tolist()},
        warnings,
        {
            "resolution": resolution,
            "method": method,
            "statistic": statistic,
            "classes": codes.tolist(),
            "ground_points": int(len(pts)),
            "grid_origin": [float(x0), float(y0)],
            "grid_shape": [int(ny), int(nx)],
            "nodes_with_points": int(has_data.sum()),
            "nodes_filled": int(n_filled),
            "cells": int(n_cells),
        },
    )


def _make_tin(
    cloud: PointCloud, pts: np.ndarray, res: float, codes: np.ndarray, statistic: str, max_gap: float | None
) -> CityModel:
    """The TIN variant of :func:`make_dtm` (parameters checked there)."""
    # matplotlib takes ~0.3 s to import: only a TIN pays for it. Triangulation wraps qhull's Delaunay.
    from matplotlib.tri import Triangulation

    kept = _thin(pts, res, statistic)
    x0, y0 = float(kept[:, 0].min()), float(kept[:, 1].min())
    warnings: list[str] = []
    triangles = np.zeros((0, 3), np.int64)
    n_long = 0
    if len(kept) >= 3:
        try:
            # Coordinates about the data's corner: qhull works in doubles, and 1e5-1e6 m offsets cost precision.
            tri = Triangulation(kept[:, 0] - x0, kept[:, 1] - y0)
            triangles = np.asarray(tri.triangles, dtype=np.int64)
        except (ValueError, RuntimeError):  # fewer than 3 distinct points, or all on a line
            triangles = np.zeros((0, 3), np.int64)
    if len(triangles):
        corners = kept[triangles]  # (T, 3, 3)
        e = corners[:, [1, 2, 0], :2] - corners[:, :, :2]
        longest = np.sqrt((e**2).sum(axis=2)).max(axis=1)
        if max_gap is not None:
            short = longest <= float(max_gap)
            n_long = int((~short).sum())
            triangles = triangles[short]
            corners = corners[short]
        # Counter-clockwise seen from above (facing up), whatever order qhull gave.
        ab, ac = corners[:, 1, :2] - corners[:, 0, :2], corners[:, 2, :2] - corners[:, 0, :2]
        cw = ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0] < 0
        triangles[cw] = triangles[cw][:, ::-1]
    if not len(triangles):
        warnings.append("The ground points are too few or too far apart to form a single triangle.")

    if n_long:
        warnings.append(f"{n_long:,} triangles with an edge longer than {max_gap:g} were left out.")
    return _dtm_model(
        cloud,
        kept[triangles.reshape(-1)].reshape(-1, 3),
        {"resolution": res, "method": "tin", "statistic": statistic, "classes": codes.tolist()},
        warnings,
        {
            "resolution": res,
            "method": "tin",
            "statistic": statistic,
            "classes": codes.tolist(),
            "ground_points": int(len(pts)),
            "tin_vertices": int(len(kept)),
            "triangles_too_long": n_long,
        },
    )


def _dtm_model(
    cloud: PointCloud, corners: np.ndarray, attributes: dict, warnings: list[str], metadata: dict
) -> CityModel:
    """A DTM city model in the cloud's CRS from triangle corners (``(3T, 3)``, three rows per triangle)."""
    builder = MeshBuilder()
    n_tri = len(corners) // 3
    builder.add_polygons(
        corners,
        np.full(n_tri, 3, np.int64),
        np.ones(n_tri, np.int64),
        obj=0,
        semantic=int(SurfaceClass.TERRAIN),
        lod=DTM_LOD,
    )
    mesh = builder.build()
    objects = CityObjects()
    objects.add("DTM", "TINRelief", attributes=attributes)
    warnings = [f"{n:,} {reason} were dropped." for reason, n in sorted(builder.skipped.items())] + warnings
    if cloud.subsampled:
        warnings.append(
            f"The DTM was made from the {cloud.n_points:,} loaded points of {cloud.points_in_file:,} (point budget)."
        )
    return CityModel(
        format="DTM",
        version="",
        objects=objects,
        mesh=mesh,
        crs=cloud.crs,
        source=cloud.source,
        metadata=metadata,
        warnings=warnings,
    )


def _thin(pts: np.ndarray, res: float, statistic: str) -> np.ndarray:
    """One point per ``res`` × ``res`` cell: the lowest (``"min"``) or the one of median height (lower median)."""
    ix = np.floor((pts[:, 0] - pts[:, 0].min()) / res).astype(np.int64)
    iy = np.floor((pts[:, 1] - pts[:, 1].min()) / res).astype(np.int64)
    cell = iy * (int(ix.max()) + 1) + ix
    order = np.lexsort((pts[:, 2], cell))  # by cell, then by height
    sorted_cells = cell[order]
    first = np.flatnonzero(np.r_[True, sorted_cells[1:] != sorted_cells[:-1]])
    if statistic == "min":
        pick = first
    else:
        counts = np.diff(np.r_[first, len(order)])
        pick = first + (counts - 1) // 2
    return pts[order[pick]]


def _grid_heights(
    pts: np.ndarray, res: float, statistic: str
) -> tuple[np.ndarray, np.ndarray, tuple[float, float], tuple[int, int]]:
    """Node heights ``(ny, nx)`` (NaN without points), which have points, origin and shape.

    Nodes lie at ``x0 + i * res``, ``y0 + j * res`` with the origin snapped to a
    multiple of ``res``; each point belongs to its nearest node, and the nodes
    reach past the points on every side, so the mesh covers them all.
    """
    x0 = np.floor(pts[:, 0].min() / res) * res
    y0 = np.floor(pts[:, 1].min() / res) * res
    ix = np.rint((pts[:, 0] - x0) / res).astype(np.int64)
    iy = np.rint((pts[:, 1] - y0) / res).astype(np.int64)
    nx = int(ix.max()) + 2
    ny = int(iy.max()) + 2
    cell = iy * nx + ix
    z = pts[:, 2]
    counts = np.bincount(cell, minlength=nx * ny)
    has = counts > 0
    heights = np.full(nx * ny, np.nan)
    if statistic == "mean":
        sums = np.bincount(cell, weights=z, minlength=nx * ny)
        heights[has] = sums[has] / counts[has]
    else:
        order = np.lexsort((z, cell))  # by node, then by height
        zs = z[order]
        start = np.zeros(nx * ny + 1, np.int64)
        np.cumsum(counts, out=start[1:])
        first, n = start[:-1][has], counts[has]
        if statistic == "min":
            heights[has] = zs[first]
        else:
            heights[has] = (zs[first + (n - 1) // 2] + zs[first + n // 2]) / 2
    return heights.reshape(ny, nx), has.reshape(ny, nx), (float(x0), float(y0)), (nx, ny)


def _fill(heights: np.ndarray, has: np.ndarray, max_steps: int | None) -> tuple[np.ndarray, int]:
    """Fill nodes without a height from their 8 neighbours, one ring of nodes per step.

    Each step gives every empty node next to known nodes the mean of those
    neighbours, so a node filled at step ``k`` lies ``k`` nodes (Chebyshev) from
    the data. Nodes not reached after ``max_steps`` stay NaN.
    """
    h = heights.copy()
    known = has.copy()
    n_filled = 0
    step = 0
    ny, nx = h.shape
    while not known.all() and (max_steps is None or step < max_steps):
        step += 1
        hp = np.pad(np.where(known, h, 0.0), 1)
        wp = np.pad(known.astype(np.float64), 1)
        s = np.zeros_like(h)
        w = np.zeros_like(h)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                if dx == 1 and dy == 1:
                    continue
                s += hp[dy : dy + ny, dx : dx + nx]
                w += wp[dy : dy + ny, dx : dx + nx]
        new = ~known & (w > 0)
        if not new.any():
            break
        h[new] = s[new] / w[new]
        known |= new
        n_filled += int(new.sum())
    h[~known] = np.nan
    return h, n_filled


def _triangulate_grid(h: np.ndarray, known: np.ndarray, x0: float, y0: float, res: float) -> tuple[np.ndarray, int]:
    """``(3T, 3)`` corners of two counter-clockwise triangles per cell whose four corners are known."""
    ny, nx = h.shape
    if nx < 2 or ny < 2:
        return np.zeros((0, 3)), 0
    cell_ok = known[:-1, :-1] & known[:-1, 1:] & known[1:, 1:] & known[1:, :-1]
    j, i = np.nonzero(cell_ok)
    a = j * nx + i  # (i, j)
    b = a + 1  # (i + 1, j)
    c = a + nx + 1  # (i + 1, j + 1)
    d = a + nx  # (i, j + 1)
    tri = np.stack([np.stack([a, b, c], 1), np.stack([a, c, d], 1)], 1).reshape(-1)
    jj, ii = np.divmod(tri, nx)
    vertices = np.column_stack([x0 + ii * res, y0 + jj * res, h.reshape(-1)[tri]])
    return vertices, len(a)
