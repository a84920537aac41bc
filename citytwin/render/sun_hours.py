"""Hours of direct sun on the ground and on facades for one day, and their colour map.

For a planner's question such as "what does this tower do to the park's sunlight on
21 March?": :func:`sun_hours` counts, for every sample point, the time steps of the day
in which the sun is above the horizon and nothing stands between the point and the sun.

Method: shadow maps. For each time step the scene is rendered once, off screen, by an
orthographic VTK camera looking along the sun's rays; its depth buffer holds, for every
pixel, the distance to the first surface the sun meets. All sample points are then
transformed into that light view at once (numpy) and a point is lit when it is no
farther from the sun than that first surface. Sample points are pushed off their surface
along its normal by a little more than a depth-map pixel (normal-offset shadow mapping)
so a surface never shadows itself, whatever the sun's angle. One render per time step
serves every point, so the cost hardly grows with the number of points.

Ground samples lie on a regular grid at the height of the lowest surface above each grid
point (one depth map looking up from below: terrain, else a building's ground surface),
or at the scene's lowest height where there is nothing. Facade samples lie on wall
triangles, about one per ``grid²`` of wall, a few centimetres in front of the wall; where
two buildings stand against each other (row houses), the wall they share is not sampled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.errors import CityTwinError
from citytwin.model.semantics import SurfaceClass
from citytwin.model.sun import day_times, scene_lonlat, solar_positions, sun_direction, sun_unavailable_reason

__all__ = [
    "SunHours",
    "SunHoursCancelled",
    "add_sun_hours",
    "compare_sun_hours",
    "map_look",
    "remove_sun_hours",
    "scene_triangles",
    "sun_hours",
]

#: surface classes sampled as facades (plus unclassified triangles that stand upright)
FACADE_CLASSES = frozenset({int(SurfaceClass.WALL), int(SurfaceClass.WINDOW), int(SurfaceClass.DOOR)})
#: |normal z| below which an unclassified triangle counts as a wall
UPRIGHT_NZ = 0.3
#: facade sample points sit this far in front of their wall (metres)
FACADE_OFFSET = 0.05
#: walls within this distance of one plane, facing opposite ways, are one shared wall (metres)
SHARED_WALL_TOLERANCE = 0.1
#: the largest depth map, in pixels a side (the pixel grows beyond)
MAX_MAP = 4096


class SunHoursCancelled(CityTwinError):
    """The user cancelled a sun-hours computation."""

    def __init__(self, message: str = "The sun-hours computation was cancelled.") -> None:
        super().__init__(message)


@dataclass
class SunHours:
    """Hours of direct sun per sample point for one day.

    Attributes
    ----------
    points
        ``(N, 3)`` float64 world coordinates (the scene's display CRS): first the ground grid,
        row by row from south to north (``grid_shape = (ny, nx)``), then the facade points.
    hours
        ``(N,)`` float64 hours of direct sun (a difference of hours for :meth:`difference`;
        NaN where a point exists in only one of the two states).
    normals
        ``(N, 3)`` float64 unit normals (``+Z`` for the ground).
    grid_shape
        ``(ny, nx)`` of the ground grid.
    grid_origin
        ``(x, y)`` of the first grid point (south-west), world coordinates.
    grid
        Grid spacing in metres.
    day
        The date.
    lonlat
        WGS84 longitude and latitude used for the sun.
    step_minutes
        Time step.
    times
        The moments (timezone-aware, local) at which the sun was above the horizon.
    covered
        ``(ny, nx)`` bool: something (a roof, a tree, a bridge) stands over the ground point.
    is_difference
        True for the result of :meth:`difference`.
    """

    points: np.ndarray
    hours: np.ndarray
    normals: np.ndarray
    grid_shape: tuple[int, int]
    grid_origin: tuple[float, float]
    grid: float
    day: date
    lonlat: tuple[float, float]
    step_minutes: float
    times: list[datetime] = field(default_factory=list)
    covered: np.ndarray | None = None
    is_difference: bool = False

    @property
    def n_ground(self) -> int:
        """Number of ground grid points."""
        return int(self.grid_shape[0] * self.grid_shape[1])

    @property
    def ground_hours(self) -> np.ndarray:
        """``(ny, nx)`` hours on the ground grid (row 0 is the southern row)."""
        return self.hours[: self.n_ground].reshape(self.grid_shape)

    @property
    def ground_points(self) -> np.ndarray:
        """``(ny, nx, 3)`` ground sample points."""
        return self.points[: self.n_ground].reshape(*self.grid_shape, 3)

    @property
    def facade_points(self) -> np.ndarray:
        """``(F, 3)`` facade sample points."""
        return self.points[self.n_ground :]

    @property
    def facade_hours(self) -> np.ndarray:
        """``(F,)`` hours on the facade points."""
        return self.hours[self.n_ground :]

    @property
    def day_length(self) -> float:
        """Hours with the sun above the horizon, as counted by the time steps."""
        return len(self.times) * self.step_minutes / 60.0

    def difference(self, other: SunHours) -> SunHours:
        """Per-point ``self.hours - other.hours`` for two states of one scene.

        The ground grids must be the same (same bounds and grid). Facade points are
        matched by position (they are sampled per triangle, so a wall present in both
        states has the same points); a point present in only one state gets NaN.

        Raises
        ------
        ValueError
            When the ground grids differ.
        """
        same_grid = (
            self.grid_shape == other.grid_shape
            and np.allclose(self.grid_origin, other.grid_origin)
            and math.isclose(self.grid, other.grid)
        )
        if not same_grid:
            raise ValueError(
                "The two sun-hours results have different ground grids; compute them over the same bounds."
            )
        ng = self.n_ground
        ground = self.hours[:ng] - other.hours[:ng]
        fa_pts, fb_pts = self.facade_points, other.facade_points
        keys_a, keys_b = _point_keys(fa_pts), _point_keys(fb_pts)
        union, first = np.unique(np.concatenate([keys_a, keys_b]), return_index=True)
        pts_all = np.concatenate([fa_pts, fb_pts])
        nrm_all = np.concatenate([self.normals[ng:], other.normals[ng:]])
        ia = _lookup(keys_a, union)
        ib = _lookup(keys_b, union)
        ha = np.where(ia >= 0, self.facade_hours[np.maximum(ia, 0)] if len(keys_a) else np.nan, np.nan)
        hb = np.where(ib >= 0, other.facade_hours[np.maximum(ib, 0)] if len(keys_b) else np.nan, np.nan)
        covered = None
        if self.covered is not None and other.covered is not None:
            covered = self.covered & other.covered
        return replace(
            self,
            points=np.concatenate([self.points[:ng], pts_all[first]]),
            hours=np.concatenate([ground, ha - hb]),
            normals=np.concatenate([self.normals[:ng], nrm_all[first]]),
            covered=covered,
            is_difference=True,
        )

    def summary(self) -> dict[str, float]:
        """Figures for a planner, over the open ground (not under a roof) and the facades.

        Returns
        -------
        dict
            For hours: ``ground_mean``, ``ground_min``, ``ground_max``, ``ground_share_below_2h``
            (share of open ground with under 2 hours), ``facade_mean`` (NaN without facades),
            ``day_length``. For a difference: ``ground_mean``, ``ground_share_losing_1h`` (share of
            open ground losing an hour or more), ``ground_share_gaining_1h``, ``facade_mean``.
        """
        g = self.ground_hours
        open_ground = ~self.covered if self.covered is not None else np.ones(g.shape, bool)
        vals = g[open_ground & np.isfinite(g)]
        fac = self.facade_hours[np.isfinite(self.facade_hours)]
        mean = float(vals.mean()) if vals.size else math.nan
        out = {"ground_mean": mean, "facade_mean": float(fac.mean()) if fac.size else math.nan}
        if self.is_difference:
            out["ground_share_losing_1h"] = float((vals <= -1.0).mean()) if vals.size else math.nan
            out["ground_share_gaining_1h"] = float((vals >= 1.0).mean()) if vals.size else math.nan
        else:
            out["ground_min"] = float(vals.min()) if vals.size else math.nan
            out["ground_max"] = float(vals.max()) if vals.size else math.nan
            out["ground_share_below_2h"] = float((vals < 2.0).mean()) if vals.size else math.nan
            out["day_length"] = self.day_length
        return out

    def describe(self) -> str:
        """One line for the status bar or the terminal."""
        f = self.summary()
        if self.is_difference:
            text = (
                f"Sun hours on {self.day:%d %b %Y}, difference: open ground {f['ground_mean']:+.1f} h on average; "
                f"{f['ground_share_losing_1h']:.0%} of it loses an hour or more"
            )
        else:
            text = (
                f"Sun hours on {self.day:%d %b %Y}: open ground {f['ground_mean']:.1f} h on average "
                f"(day {f['day_length']:.1f} h); {f['ground_share_below_2h']:.0%} of it gets under 2 h"
            )
        if math.isfinite(f["facade_mean"]):
            sign = "+" if self.is_difference else ""
            text += f"; facades {f['facade_mean']:{sign}.1f} h"
        return text + "."

    def to_csv(self, path: str | Path) -> Path:
        """Write ``x, y, z, nx, ny, nz, hours, kind`` per sample point (``kind``: ground or facade), atomically.

        Raises
        ------
        CityTwinError
            When the file cannot be written (one sentence).
        """
        import io as _io

        from citytwin.io.atomic import write_atomic

        path = Path(path)
        buf = _io.StringIO()
        buf.write("x,y,z,nx,ny,nz,hours,kind\n")
        kind = np.where(np.arange(len(self.points)) < self.n_ground, "ground", "facade")
        table = np.column_stack([self.points, self.normals, self.hours])
        for row, k in zip(table, kind, strict=True):
            buf.write(",".join(f"{v:.3f}" for v in row) + f",{k}\n")
        try:
            write_atomic(path, buf.getvalue().encode())
        except OSError as exc:
            raise CityTwinError(f"The sun hours could not be saved to {path} ({exc.strerror or exc}).") from None
        return path


def _point_keys(points: np.ndarray) -> np.ndarray:
    """Positions rounded to the millimetre, as one comparable void scalar per point."""
    q = np.ascontiguousarray(np.round(np.asarray(points, np.float64) * 1000.0).astype(np.int64))
    return q.view(np.dtype((np.void, 24))).ravel()


def _lookup(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index of each of ``table`` (sorted, unique) in ``keys``, -1 when absent."""
    out = np.full(len(table), -1, np.int64)
    if len(keys) == 0:
        return out
    pos = np.searchsorted(table, keys)
    out[pos] = np.arange(len(keys))
    return out


# ----------------------------------------------------------------------------------------------------- geometry
def _model_triangles(model: Any, lod: int | None = None, hidden_semantics=(), hidden_types=()) -> tuple:
    from citytwin.render.convert import lod_mask, object_roots

    mesh = model.mesh
    tris = np.asarray(mesh.triangles, np.int64).reshape(-1, 3)
    if len(tris) == 0:
        return np.zeros((0, 3)), tris, np.zeros(0, np.uint8)
    objects = getattr(model, "objects", None)
    roots = object_roots(mesh, objects)
    keep = lod_mask(mesh.tri_lod, roots, lod)
    sem = np.asarray(mesh.tri_semantic, np.uint8)
    if hidden_semantics:
        keep &= ~np.isin(sem, np.fromiter((int(s) for s in hidden_semantics), np.int64))
    if hidden_types and objects is not None and len(objects):
        types = np.asarray(objects.types, dtype=object)
        hidden_objects = np.flatnonzero(np.isin(types, list(hidden_types)))
        keep &= ~np.isin(roots, hidden_objects)
    return np.asarray(mesh.vertices, np.float64), tris[keep], sem[keep]


def scene_triangles(scene_or_models: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The triangles a scene shows, in world coordinates.

    Parameters
    ----------
    scene_or_models
        A :class:`~citytwin.model.scene.Scene` (its visible city-model layers, at their LoD,
        without hidden surface classes and object types), a
        :class:`~citytwin.model.citymodel.CityModel`, or a list of these.

    Returns
    -------
    tuple of numpy.ndarray
        ``vertices (V, 3)`` float64, ``triangles (T, 3)`` int64, ``semantic (T,)`` uint8.
    """
    parts: list[tuple] = []

    def visit(item: Any) -> None:
        if item is None:
            return
        if isinstance(item, (list, tuple)):
            for x in item:
                visit(x)
            return
        layers = getattr(item, "layers", None)
        if layers is not None and not hasattr(item, "mesh"):
            for layer in layers:
                if getattr(layer, "visible", True):
                    visit(layer)
            return
        if hasattr(item, "display_model"):  # a CityModelLayer
            model = item.display_model
            if model is not None and getattr(model, "mesh", None) is not None:
                parts.append(
                    _model_triangles(model, item.lod, getattr(item, "hidden_semantics", ()), item.hidden_types)
                )
            return
        if getattr(item, "mesh", None) is not None and hasattr(item.mesh, "triangles"):
            parts.append(_model_triangles(item))

    visit(scene_or_models)
    if not parts:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64), np.zeros(0, np.uint8)
    verts, tris, sems, offset = [], [], [], 0
    for v, t, s in parts:
        verts.append(v)
        tris.append(t + offset)
        sems.append(s)
        offset += len(v)
    return np.concatenate(verts), np.concatenate(tris), np.concatenate(sems)


def _facade_samples(
    vertices: np.ndarray, triangles: np.ndarray, semantic: np.ndarray, spacing: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points on wall triangles, about one per ``spacing²``, and the walls' unit normals.

    Each triangle is cut into ``m²`` similar triangles (``m = ceil(sqrt(area) / spacing)``)
    whose centroids are the samples, so the points depend on the triangle alone: the
    same wall gives the same points in another state of the scene.
    """
    if len(triangles) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3))
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    cross = np.cross(b - a, c - a)
    length = np.linalg.norm(cross, axis=1)
    ok = length > 1e-9
    normal = np.zeros_like(cross)
    normal[ok] = cross[ok] / length[ok, None]
    wall = np.isin(semantic, np.fromiter(FACADE_CLASSES, np.int64))
    wall |= (semantic == int(SurfaceClass.NONE)) & (np.abs(normal[:, 2]) < UPRIGHT_NZ)
    wall &= ok
    area = 0.5 * length
    m = np.maximum(1, np.ceil(np.sqrt(area) / spacing)).astype(np.int64)
    m = np.minimum(m, 200)
    pts_out, nrm_out, owner_out = [], [], []
    for mm in np.unique(m[wall]):
        sel = np.flatnonzero(wall & (m == mm))
        bary = _subdivision_centroids(int(mm))  # (k, 3)
        tri_pts = np.stack([a[sel], b[sel], c[sel]], axis=1)  # (s, 3, 3)
        p = np.einsum("kj,sjd->skd", bary, tri_pts).reshape(-1, 3)
        pts_out.append(p)
        nrm_out.append(np.repeat(normal[sel], len(bary), axis=0))
        owner_out.append(np.repeat(sel, len(bary)))
    if not pts_out:
        return np.zeros((0, 3)), np.zeros((0, 3))
    pts, nrm, owner = np.concatenate(pts_out), np.concatenate(nrm_out), np.concatenate(owner_out)
    keep = ~_on_shared_wall(pts, owner, np.flatnonzero(wall), a, b, c, normal)
    pts, nrm = pts[keep], nrm[keep]
    return pts + FACADE_OFFSET * nrm, nrm


def _on_shared_wall(
    points: np.ndarray,
    owner: np.ndarray,
    walls: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    normal: np.ndarray,
) -> np.ndarray:
    """Which facade samples lie on a wall that another wall faces back to back (row houses).

    Two houses built against each other each model the wall they share, in one plane with
    opposite normals. A sample there is inside the neighbour, so it would count 0 hours of
    sun on a wall nobody can see; it is dropped. Walls are grouped by their plane (normal
    and offset, canonically signed and rounded), and only in planes that hold walls of both
    orientations is each sample tested against the opposite-facing triangles.
    """
    shared = np.zeros(len(points), bool)
    if len(walls) < 2:
        return shared
    n = normal[walls]
    dominant = np.argmax(np.abs(n), axis=1)
    sign = np.sign(n[np.arange(len(n)), dominant])
    cn = n * sign[:, None]
    cd = np.einsum("ij,ij->i", cn, a[walls])
    key = np.column_stack([np.round(cn * 50.0), np.round(cd / SHARED_WALL_TOLERANCE)]).astype(np.int64)
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.ravel()
    both = np.zeros(group.max() + 1, np.int8)
    np.bitwise_or.at(both, group, np.where(sign > 0, 1, 2).astype(np.int8))
    candidates = np.flatnonzero(both[group] == 3)
    if len(candidates) == 0:
        return shared
    slot = np.full(len(normal), -1, np.int64)
    slot[walls] = np.arange(len(walls))
    sample_slot = slot[owner]
    for g in np.unique(group[candidates]):
        members = np.flatnonzero(group == g)
        axis = int(dominant[members[0]])
        keep_axes = [k for k in range(3) if k != axis]
        for s in (1.0, -1.0):
            mine = members[sign[members] == s]
            theirs = walls[members[sign[members] != s]]
            sel = np.flatnonzero(np.isin(sample_slot, mine))
            if len(sel) == 0 or len(theirs) == 0:
                continue
            p = points[sel][:, keep_axes]
            shared[sel] |= _inside_any_triangle(
                p, a[theirs][:, keep_axes], b[theirs][:, keep_axes], c[theirs][:, keep_axes]
            )
    return shared


def _inside_any_triangle(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``(P,)`` whether each 2-D point lies in any of the 2-D triangles ``a, b, c`` (``(T, 2)`` each)."""
    v0, v1 = (b - a)[None], (c - a)[None]
    v2 = p[:, None, :] - a[None]
    d00 = (v0 * v0).sum(-1)
    d01 = (v0 * v1).sum(-1)
    d11 = (v1 * v1).sum(-1)
    d20 = (v2 * v0).sum(-1)
    d21 = (v2 * v1).sum(-1)
    den = d00 * d11 - d01 * d01
    ok = np.abs(den) > 1e-12
    den = np.where(ok, den, 1.0)
    v = (d11 * d20 - d01 * d21) / den
    w = (d00 * d21 - d01 * d20) / den
    eps = 1e-6
    inside = ok & (v >= -eps) & (w >= -eps) & (v + w <= 1.0 + eps)
    return inside.any(axis=1)


def _subdivision_centroids(m: int) -> np.ndarray:
    """Barycentric centroids of the ``m²`` triangles of a triangle cut ``m`` times along each edge."""
    i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    up = i + j <= m - 1
    iu, ju = i[up], j[up]
    upright = np.stack([iu + 1 / 3, ju + 1 / 3], axis=1)
    down = i + j <= m - 2
    idn, jdn = i[down], j[down]
    inverted = np.stack([idn + 2 / 3, jdn + 2 / 3], axis=1)
    uv = np.concatenate([upright, inverted]) / m
    return np.column_stack([1.0 - uv.sum(axis=1), uv[:, 0], uv[:, 1]])


# ---------------------------------------------------------------------------------------------------- depth maps
class _DepthMaps:
    """Orthographic depth maps of fixed triangles along any direction, rendered off screen by VTK."""

    def __init__(
        self, vertices_local: np.ndarray, triangles: np.ndarray, centre: np.ndarray, radius: float, pixel: float
    ):
        from citytwin.render.offscreen import _prefer_headless_backend

        _prefer_headless_backend()
        import pyvista as pv
        import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (the OpenGL factory overrides)
        from vtkmodules.vtkCommonCore import vtkFloatArray
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow

        self.centre = np.asarray(centre, np.float64)
        self.radius = float(radius)
        side = int(math.ceil(2.0 * self.radius / pixel)) + 2
        if side > MAX_MAP:
            side = MAX_MAP
            pixel = 2.0 * self.radius / (MAX_MAP - 2)
        self.pixel = pixel
        self.size = side
        faces = pv.CellArray.from_regular_cells(np.ascontiguousarray(triangles, dtype=np.int32))
        poly = pv.PolyData()
        poly.points = np.ascontiguousarray(vertices_local, dtype=np.float32)
        poly.SetPolys(faces)
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(poly)
        mapper.ScalarVisibilityOff()
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.GetProperty().LightingOff()
        actor.GetProperty().BackfaceCullingOff()
        self._poly = poly
        self.renderer = vtkRenderer()
        self.renderer.AddActor(actor)
        self.renderer.SetBackground(0, 0, 0)
        self.window = vtkRenderWindow()
        self.window.SetOffScreenRendering(1)
        self.window.SetMultiSamples(0)
        self.window.SetSize(side, side)
        self.window.AddRenderer(self.renderer)
        self.camera = self.renderer.GetActiveCamera()
        self.camera.ParallelProjectionOn()
        self.camera.SetParallelScale(side * pixel / 2.0)
        self._zbuf = vtkFloatArray()

    def render(self, towards: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Depth map seen from far along ``towards`` (a unit vector from the scene to the viewer).

        Returns
        -------
        tuple
            ``zbuf (size, size)`` float32 window depth (row 0 at the bottom), the ``4×4``
            local → NDC matrix, and the near and far clipping distances.
        """
        from vtkmodules.util.numpy_support import vtk_to_numpy

        d = np.asarray(towards, np.float64)
        up = (0.0, 0.0, 1.0) if abs(d[2]) < 0.99 else (0.0, 1.0, 0.0)
        dist = self.radius + 10.0
        cam = self.camera
        cam.SetFocalPoint(*self.centre)
        cam.SetPosition(*(self.centre + d * dist))
        cam.SetViewUp(*up)
        cam.OrthogonalizeViewUp()
        near, far = max(dist - self.radius - 1.0, 0.01), dist + self.radius + 1.0
        cam.SetClippingRange(near, far)
        self.window.Render()
        near, far = cam.GetClippingRange()
        matrix = cam.GetCompositeProjectionTransformMatrix(1.0, -1.0, 1.0)
        m = np.array([[matrix.GetElement(i, j) for j in range(4)] for i in range(4)])
        s = self.size
        self.window.GetZbufferData(0, 0, s - 1, s - 1, self._zbuf)
        zbuf = vtk_to_numpy(self._zbuf).reshape(s, s).copy()
        return zbuf, m, float(near), float(far)

    def lookup(self, points_local: np.ndarray, zbuf: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each point's window depth and the depth map's value at its pixel (1.0 outside the map)."""
        p = points_local
        ndc = p @ m[:3, :3].T + m[:3, 3]
        w = p @ m[3, :3] + m[3, 3]
        ndc /= w[:, None]
        s = self.size
        px = np.floor((ndc[:, 0] + 1.0) * 0.5 * s).astype(np.int64)
        py = np.floor((ndc[:, 1] + 1.0) * 0.5 * s).astype(np.int64)
        inside = (px >= 0) & (px < s) & (py >= 0) & (py < s)
        surface = np.ones(len(p), np.float32)
        surface[inside] = zbuf[py[inside], px[inside]]
        return (ndc[:, 2] + 1.0) * 0.5, surface

    def close(self) -> None:
        self.window.Finalize()


# ------------------------------------------------------------------------------------------------------ sun hours
def sun_hours(
    scene_or_models: Any,
    day: date,
    lonlat: tuple[float, float] | None = None,
    grid: float = 2.0,
    step_minutes: float = 15.0,
    bounds: Sequence[float] | None = None,
    facades: bool = True,
    progress: Callable[[int, int], Any] | None = None,
    cancel: Callable[[], bool] | None = None,
    pixel: float | None = None,
) -> SunHours:
    """Hours of direct sun on the ground and on facades for one day.

    Parameters
    ----------
    scene_or_models
        A :class:`~citytwin.model.scene.Scene` (its visible layers as shown), a city model,
        or a list of models, in one projected CRS with +Y north and +Z up, in metres.
    day
        The date (a local calendar day at the scene's place).
    lonlat
        WGS84 ``(lon, lat)`` of the place; by default :func:`~citytwin.model.sun.scene_lonlat`.
    grid
        Ground grid spacing in metres; facades get about one point per ``grid²``.
    step_minutes
        Time step. The day is cut into steps from local midnight; each step whose middle
        has the sun above the horizon counts ``step_minutes / 60`` hours where it is lit.
    bounds
        ``[xmin, ymin, (zmin,) xmax, ymax, (zmax)]`` of the ground grid; by default the
        geometry's extent.
    facades
        Also sample wall surfaces.
    progress
        ``progress(done, total)`` after each time step; returning ``False`` cancels.
    cancel
        Called between steps; returning True cancels.
    pixel
        Depth-map pixel size in metres (default ``grid / 4``, at most 0.5 m).

    Returns
    -------
    SunHours

    Raises
    ------
    CityTwinError
        When the scene has no geometry or no place on Earth.
    SunHoursCancelled
        When cancelled.
    """
    if grid <= 0 or step_minutes <= 0:
        raise ValueError("The grid and the time step must be larger than zero.")
    if lonlat is None:
        # a list of models is placed by its first model with a place
        items = list(scene_or_models) if isinstance(scene_or_models, (list, tuple)) else [scene_or_models]
        placed = next((x for x in items if scene_lonlat(x) is not None), items[0] if items else None)
        lonlat = scene_lonlat(placed)
        if lonlat is None:
            raise CityTwinError(sun_unavailable_reason(placed) or "The scene has no place on Earth.")
    lon, lat = float(lonlat[0]), float(lonlat[1])
    vertices, triangles, semantic = scene_triangles(scene_or_models)
    if len(triangles) == 0:
        raise CityTwinError("There is nothing to compute sun hours on: no visible surfaces.")
    used = np.unique(triangles)
    vmin, vmax = vertices[used].min(axis=0), vertices[used].max(axis=0)
    if bounds is None:
        x0, y0, x1, y1 = vmin[0], vmin[1], vmax[0], vmax[1]
    else:
        b = [float(v) for v in bounds]
        x0, y0, x1, y1 = (b[0], b[1], b[3], b[4]) if len(b) == 6 else tuple(b)
    nx = max(1, int(math.floor((x1 - x0) / grid)))
    ny = max(1, int(math.floor((y1 - y0) / grid)))
    gx = x0 + (x1 - x0 - (nx - 1) * grid) / 2.0  # centre the grid in the bounds
    gy = y0 + (y1 - y0 - (ny - 1) * grid) / 2.0
    xs, ys = gx + grid * np.arange(nx), gy + grid * np.arange(ny)

    lo = np.minimum(vmin, [x0, y0, vmin[2]])
    hi = np.maximum(vmax, [x1, y1, vmax[2]])
    origin = np.round((lo + hi) / 2.0)
    centre = (lo + hi) / 2.0 - origin
    radius = float(np.linalg.norm(hi - lo) / 2.0) + 1.0
    pixel = float(pixel) if pixel else min(grid / 4.0, 0.5)
    maps = _DepthMaps(vertices - origin, triangles, centre, radius, pixel)
    try:
        # ground heights: the lowest surface over each grid point (looking up from below)
        gxx, gyy = np.meshgrid(xs, ys)
        ground = np.column_stack([gxx.ravel(), gyy.ravel(), np.full(gxx.size, vmin[2])])
        low = _surface_heights(maps, ground - origin, up=False)
        high = _surface_heights(maps, ground - origin, up=True)
        z = np.where(np.isnan(low), vmin[2] - origin[2], low) + origin[2]
        ground[:, 2] = z
        covered = (~np.isnan(high) & (high + origin[2] > z + 0.5)).reshape(ny, nx)
        normals = np.tile([0.0, 0.0, 1.0], (len(ground), 1))
        if facades:
            f_pts, f_nrm = _facade_samples(vertices, triangles, semantic, grid)
            points = np.concatenate([ground, f_pts])
            normals = np.concatenate([normals, f_nrm])
        else:
            points = ground
        hours = np.zeros(len(points))

        starts = day_times(day, lon, lat, step_minutes)
        mids = [t + timedelta(minutes=step_minutes / 2.0) for t in starts]
        az, el = solar_positions(mids, lon, lat)
        lit_steps = np.flatnonzero(el > 0.0)
        times = [mids[i] for i in lit_steps]
        # normal offset > one pixel's half diagonal: a surface never shadows itself at any sun angle
        probe = points - origin + normals * (1.5 * maps.pixel)
        total = len(lit_steps)
        for k, i in enumerate(lit_steps):
            if cancel is not None and cancel():
                raise SunHoursCancelled()
            d = sun_direction(az[i], el[i])
            facing = normals @ d > 0.0
            zbuf, m, near, far = maps.render(d)
            depth, surface = maps.lookup(probe[facing], zbuf, m)
            bias = 0.02 / (far - near)
            lit = np.zeros(len(points), bool)
            lit[facing] = depth <= surface + bias
            hours[lit] += step_minutes / 60.0
            if progress is not None and progress(k + 1, total) is False:
                raise SunHoursCancelled()
    finally:
        maps.close()
    return SunHours(
        points=points,
        hours=hours,
        normals=normals,
        grid_shape=(ny, nx),
        grid_origin=(float(xs[0]), float(ys[0])),
        grid=float(grid),
        day=day,
        lonlat=(lon, lat),
        step_minutes=float(step_minutes),
        times=times,
        covered=covered,
    )


def compare_sun_hours(
    scene: Any,
    day: date,
    without: Sequence[str],
    progress: Callable[[int, int], Any] | None = None,
    cancel: Callable[[], bool] | None = None,
    **options: Any,
) -> tuple[SunHours, SunHours, SunHours]:
    """Sun hours of a scene as shown and with some layers switched off, and their difference.

    Parameters
    ----------
    scene
        A :class:`~citytwin.model.scene.Scene`, or anything with a ``layers`` list (then give ``lonlat``).
    day
        The date.
    without
        Names of the layers switched off in the second state (for example a proposed tower).
    progress, cancel
        As for :func:`sun_hours`; progress counts the steps of both computations.
    **options
        ``grid``, ``step_minutes``, ``facades``, ``pixel``, ``bounds``, ``lonlat`` for :func:`sun_hours`.

    Returns
    -------
    tuple of SunHours
        ``(as shown, without, difference)``; the difference is *as shown − without*, so a
        negative value is sun that the switched-off layers take away.

    Raises
    ------
    CityTwinError
        When a named layer is not in the scene, or is not shown (nothing would change).
    """
    layers = [layer for layer in scene.layers if getattr(layer, "visible", True)]
    names = {layer.name for layer in layers}
    missing = [n for n in without if n not in names]
    if missing:
        shown = ", ".join(repr(n) for n in sorted(names)) or "none"
        raise CityTwinError(f"The scene shows no layer {missing[0]!r} to switch off (it shows {shown}).")
    lonlat = options.pop("lonlat", None) or scene_lonlat(scene)
    if lonlat is None:
        raise CityTwinError(sun_unavailable_reason(scene) or "The scene has no place on Earth.")
    if options.get("bounds") is None:
        v, t, _ = scene_triangles(scene)
        if len(t) == 0:
            raise CityTwinError("There is nothing to compute sun hours on: no visible surfaces.")
        used = v[np.unique(t)]
        lo, hi = used.min(axis=0), used.max(axis=0)
        options["bounds"] = [lo[0], lo[1], hi[0], hi[1]]
    rest = [layer for layer in layers if layer.name not in set(without)]

    def half(offset: int) -> Callable[[int, int], Any] | None:
        if progress is None:
            return None
        return lambda done, total: progress(offset * total + done, 2 * total)

    shown = sun_hours(scene, day, lonlat=lonlat, progress=half(0), cancel=cancel, **options)
    if rest:
        other = sun_hours(rest, day, lonlat=lonlat, progress=half(1), cancel=cancel, **options)
    else:  # nothing left: the whole day on open ground, and no facades
        hours = np.full(len(shown.hours), np.nan)
        hours[: shown.n_ground] = shown.day_length
        other = replace(shown, hours=hours, covered=np.zeros(shown.grid_shape, bool))
    return shown, other, shown.difference(other)


def _surface_heights(maps: _DepthMaps, points_local: np.ndarray, up: bool) -> np.ndarray:
    """Local z of the highest (``up``) or lowest surface over each point's x, y; NaN where none."""
    d = np.array([0.0, 0.0, 1.0 if up else -1.0])
    zbuf, m, near, far = maps.render(d)
    _, surface = maps.lookup(points_local, zbuf, m)
    hit = surface < 1.0
    dist = near + surface.astype(np.float64) * (far - near)  # orthographic: depth is linear
    cam_z = maps.centre[2] + d[2] * (maps.radius + 10.0)
    z = cam_z - d[2] * dist
    return np.where(hit, z, np.nan)


# --------------------------------------------------------------------------------------------------------- render
def add_sun_hours(
    plotter: Any,
    result: SunHours,
    origin: np.ndarray | Sequence[float],
    cmap: str | None = None,
    legend: bool = True,
    clim: tuple[float, float] | None = None,
    point_size: float = 6.0,
    font_size: int = 16,
) -> list[Any]:
    """Show sun hours over a scene: the ground grid as a coloured surface, facades as coloured points.

    Parameters
    ----------
    plotter
        A pyvista plotter (the window's, or an off-screen one for stills).
    result
        From :func:`sun_hours`, or a :meth:`SunHours.difference`.
    origin
        The scene origin (world coordinates of the plotter's 0, 0, 0).
    cmap
        Colour map; ``"inferno"`` for hours, ``"RdBu"`` for a difference (red: less sun).
    legend
        Add a scalar-bar legend.
    clim
        Colour range; by default 0 to the day length, or symmetric around 0 for a difference.
    point_size, font_size
        In pixels.

    Returns
    -------
    list
        The actors added: ground, facades (when any has a value), legend (when asked).
    """
    import pyvista as pv

    from citytwin.render.colormap import Thematic, colormap_lut, ramp
    from citytwin.render.visuals import legend_actor

    origin = np.asarray(origin, np.float64)
    if cmap is None:
        cmap = "RdBu" if result.is_difference else "inferno"
    if clim is None:
        if result.is_difference:
            finite = result.hours[np.isfinite(result.hours)]
            m = float(np.abs(finite).max()) if finite.size else 0.0
            m = m if m > 0 else 1.0
            clim = (-m, m)
        else:
            clim = (0.0, max(result.day_length, float(np.nanmax(result.hours, initial=0.0)), 1e-6))
    lut = colormap_lut(cmap)
    missing = np.array([150, 150, 150], np.uint8)

    def colours(values: np.ndarray) -> np.ndarray:
        rgb = ramp(np.nan_to_num(values), clim, lut)
        rgb[~np.isfinite(values)] = missing
        return rgb

    actors: list[Any] = []
    ny, nx = result.grid_shape
    g = result.ground_points - origin
    grid = pv.StructuredGrid()
    grid.points = np.ascontiguousarray((g + [0.0, 0.0, 0.10]).reshape(-1, 3), np.float32)  # just above the ground
    grid.dimensions = (nx, ny, 1)
    grid.point_data["sun_hours_rgb"] = colours(result.ground_hours.ravel())
    # lit, but by the ambient term alone: the colours stay true, and a look's shadow pass (whose
    # shader needs the lit code path) can draw them
    flat = {"lighting": True, "ambient": 1.0, "diffuse": 0.0, "specular": 0.0}
    actors.append(plotter.add_mesh(grid, scalars="sun_hours_rgb", rgb=True, name="sun-hours-ground", **flat))
    shown = np.isfinite(result.facade_hours)  # a wall present in one state only has no difference
    if shown.any():
        cloud = pv.PolyData(np.ascontiguousarray(result.facade_points[shown] - origin, np.float32))
        cloud.point_data["sun_hours_rgb"] = colours(result.facade_hours[shown])
        actors.append(
            plotter.add_mesh(
                cloud,
                scalars="sun_hours_rgb",
                rgb=True,
                point_size=point_size,
                render_points_as_spheres=False,
                name="sun-hours-facades",
                **flat,
            )
        )
    if legend:
        title = f"{'Sun hours ±' if result.is_difference else 'Sun hours'}\n{result.day:%d %b %Y}"
        thematic = Thematic(
            attribute=title,
            kind="numeric",
            object_colours=np.zeros((0, 3), np.uint8),
            has_value=np.zeros(0, bool),
            clim=clim,
            cmap=cmap,
        )
        bar = legend_actor(thematic, font_size=font_size)
        _hour_ticks(bar, clim, signed=result.is_difference)
        plotter.add_actor(bar, name="sun-hours-legend")
        actors.append(bar)
    return actors


def hour_ticks(lo: float, hi: float, most: int = 8) -> np.ndarray:
    """Whole-hour (or half-hour) legend ticks in ``[lo, hi]``: 1, 2, 3 or 6 hours apart, at most ``most``."""
    span = max(hi - lo, 1e-9)
    step = next((s for s in (0.5, 1.0, 2.0, 3.0, 6.0) if span / s <= most - 1), 12.0)
    first = math.ceil(lo / step - 1e-9) * step
    return np.arange(first, hi + 1e-9, step)


def _hour_ticks(bar: Any, clim: tuple[float, float], signed: bool) -> None:
    """Label a sun-hours scalar bar at whole hours ("0 h", "3 h" … or "−2 h", "+2 h")."""
    from vtkmodules.vtkCommonCore import vtkDoubleArray

    ticks = hour_ticks(*clim)
    if len(ticks) < 2:
        return
    values = vtkDoubleArray()
    for t in ticks:
        values.InsertNextValue(float(t))
    bar.SetUseCustomLabels(True)
    bar.SetCustomLabels(values)
    step = ticks[1] - ticks[0]
    fmt = ("%+.1f h" if step < 1 else "%+.0f h") if signed else ("%.1f h" if step < 1 else "%.0f h")
    bar.SetLabelFormat(fmt)


#: the names :func:`add_sun_hours` gives its actors
ACTOR_NAMES = ("sun-hours-ground", "sun-hours-facades", "sun-hours-legend")


def map_look(look: Any) -> Any:
    """``look`` without ambient occlusion and shadows, so that a sun-hours map shows its true colours
    (a shadow of one moment over a map of the whole day would mislead)."""
    from msgspec.structs import replace as struct_replace

    from citytwin.model.looks import SSAO, Shadows

    return struct_replace(look, ssao=SSAO(on=False), shadows=Shadows(on=False))


def remove_sun_hours(plotter: Any) -> None:
    """Take what :func:`add_sun_hours` added off a plotter."""
    for name in ACTOR_NAMES:
        plotter.remove_actor(name, render=False)
