"""A light stand-in for a big layer while the camera moves (interactive level of detail).

Under software OpenGL the cost of a frame grows with the number of triangles:
a 100,000-building city (about 5 million triangles) takes over a second per
frame at 1920×1080. While the user drags the camera, :class:`InteractionLOD`
draws instead one merged mesh of boxes, chosen again whenever the camera has
moved (a renderer ``StartEvent`` observer, only while interacting):

* every top-level object has its bounding box (roof-coloured top, wall-coloured
  sides, from the colours the layer shows);
* objects are grouped into grid cells; a cell far away is one box (the union
  of its objects' boxes), a cell that covers many pixels is *expanded* into
  its objects' boxes, the largest cells first, until a triangle budget is
  reached;
* cells outside the view frustum are dropped; back faces are culled.

So the frame cost is bounded by the budget whatever the scene size, the
silhouette of the city stays, and the full mesh comes back as soon as the
camera stops (``set_interactive(False)`` on the visual). The boxes share one
``vtkPoints`` built once; per frame only the connectivity and colour arrays are
rewritten (numpy gathers, no Python loop over objects).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyvista as pv

from citytwin.render.convert import cell_colour_actor
from citytwin.render.style import DEFAULT_STYLE, Style
from citytwin.render.textures import cells_polydata

#: 10 outward triangles of a box without its bottom; corner k is (x=k&1, y=k>>1&1, z=k>>2&1) of (lo, hi)
BOX_FACES = np.array(
    [[4, 5, 7], [4, 7, 6], [0, 1, 5], [0, 5, 4], [1, 3, 7], [1, 7, 5], [3, 2, 6], [3, 6, 7], [2, 0, 4], [2, 4, 6]],
    np.int64,
)
TRIS_PER_BOX = len(BOX_FACES)
#: brightness baked into each face of :data:`BOX_FACES` (top, south, east, north, west): the proxy is
#: drawn without lighting, which halves the cost of a pixel under software GL
FACE_SHADE = np.repeat(np.array([1.0, 0.80, 0.90, 0.66, 0.74]), 2)
_CORNER_BITS = np.array([[(k >> a) & 1 for a in range(3)] for k in range(8)], bool)


def group_boxes(
    points: np.ndarray, triangles: np.ndarray, tri_key: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Bounding box of the triangles of each key.

    Returns
    -------
    keys
        ``(K,)`` the distinct keys (sorted).
    lo, hi
        ``(K, 3)`` float32 corners.
    starts
        ``(K + 1,)`` where each key's run starts among the triangles sorted by key.
    order
        The sort of the triangles by key, ``None`` when they were sorted already.
    """
    tri_key = np.asarray(tri_key, np.int64)
    if len(triangles) == 0:
        z = np.zeros((0, 3), np.float32)
        return np.zeros(0, np.int64), z, z.copy(), np.zeros(1, np.int64), None
    order = None
    if len(tri_key) > 1 and not (tri_key[1:] >= tri_key[:-1]).all():
        order = np.argsort(tri_key, kind="stable")
        tri_key, triangles = tri_key[order], triangles[order]
    first = np.flatnonzero(np.concatenate([[True], tri_key[1:] != tri_key[:-1]]))
    keys = tri_key[first]
    lo = np.full((len(keys), 3), np.inf, np.float32)
    hi = np.full((len(keys), 3), -np.inf, np.float32)
    for k in range(3):  # three corners of every triangle, each reduced per key
        p = points[triangles[:, k]]
        np.minimum(lo, np.minimum.reduceat(p, first, axis=0), out=lo)
        np.maximum(hi, np.maximum.reduceat(p, first, axis=0), out=hi)
    return keys, lo, hi, np.append(first, len(tri_key)), order


def box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``(8 n, 3)`` float32 corners of ``n`` boxes, 8 per box in :data:`BOX_FACES` order."""
    return np.where(_CORNER_BITS[None], hi[:, None, :], lo[:, None, :]).reshape(-1, 3).astype(np.float32)


class InteractionLOD:
    """Boxes of top-level objects, clustered far away, for drawing while the camera moves.

    Parameters
    ----------
    renderer
        The ``vtkRenderer`` the proxy actor is added to (hidden until :meth:`start`).
    style
        Lighting.
    triangle_budget
        Most triangles drawn per frame (10 per box). Layers drawing fewer triangles than this
        need no proxy (see :meth:`worth_it`).
    objects_per_cell
        Mean number of objects merged into one far-away cell box.
    expand_pixels
        A cell is split into its objects' boxes only when it covers at least this many pixels.
    """

    def __init__(
        self,
        renderer: Any,
        style: Style = DEFAULT_STYLE,
        triangle_budget: int = 150_000,
        objects_per_cell: int = 8,
        expand_pixels: float = 12.0,
    ) -> None:
        self.renderer = renderer
        self.style = style
        self.triangle_budget = int(triangle_budget)
        self.objects_per_cell = int(objects_per_cell)
        self.expand_pixels = float(expand_pixels)
        #: an object whose triangles face up (or down) at least this often is drawn as a flat plate
        self.flat_fraction = 0.9
        self.polydata = pv.PolyData()
        self.mapper, self.actor = cell_colour_actor(self.polydata)
        prop = self.actor.GetProperty()
        prop.SetInterpolationToFlat()
        prop.LightingOff()
        prop.SetAmbient(1.0)
        prop.SetDiffuse(0.0)
        prop.SetSpecular(0.0)
        prop.BackfaceCullingOn()
        #: switch the renderer's FXAA off while the proxy is drawn (a full-screen pass: ~40 % of a frame)
        self.fxaa_off = True
        self.actor.SetVisibility(False)
        self.actor.PickableOff()
        renderer.AddActor(self.actor)
        self.n_objects = 0
        self.n_cells = 0
        self.keys = np.zeros(0, np.int64)
        #: objects drawn as their own box at every distance (larger than a cell)
        self.always = np.zeros(0, np.int64)
        self._vtk_points: Any = None
        self._face_colours = np.zeros((0, TRIS_PER_BOX, 4), np.uint8)
        self._centre = np.zeros((0, 3))
        self._radius = np.zeros(0)
        self._cell_members = (np.zeros(0, np.int64), np.zeros(1, np.int64))  # (order, starts)
        self._observer: int | None = None
        self._camera_mtime = -1
        #: boxes drawn by the last :meth:`update` (object boxes, cell boxes)
        self.last_counts = (0, 0)
        self.active = False

    # ---------------------------------------------------------------- build
    def worth_it(self, n_triangles: int) -> bool:
        """Whether a layer drawing ``n_triangles`` is heavier than the proxy's budget."""
        return n_triangles > self.triangle_budget

    def build(
        self,
        points: np.ndarray,
        triangles: np.ndarray,
        tri_key: np.ndarray,
        colours: np.ndarray,
        tri_up: np.ndarray,
    ) -> None:
        """(Re)build the boxes from the triangles a layer draws.

        Parameters
        ----------
        points
            ``(V, 3)`` float32 layer points (relative to the scene origin).
        triangles
            ``(T, 3)`` the drawn triangles.
        tri_key
            ``(T,)`` top-level object of each.
        colours
            ``(T, 4)`` uint8 colours shown.
        tri_up
            ``(T,)`` bool: the triangle faces up or down (a roof); it colours the box tops.
        """
        keys, lo, hi, starts_k, order_k = group_boxes(points, triangles, tri_key)
        n = len(keys)
        if order_k is not None:
            colours, tri_up = colours[order_k], tri_up[order_k]
        first = starts_k[:-1]
        c32 = colours.astype(np.uint32)
        up = tri_up.astype(np.uint32)
        if n:
            all_sum = np.add.reduceat(c32, first, axis=0).astype(np.float64)
            up_sum = np.add.reduceat(c32 * up[:, None], first, axis=0).astype(np.float64)
            n_up = np.add.reduceat(up, first).astype(np.float64)[:, None]
        else:
            all_sum = up_sum = np.zeros((0, 4))
            n_up = np.zeros((0, 1))
        n_all = np.diff(starts_k).astype(np.float64)[:, None]
        anyc = all_sum / np.maximum(n_all, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            top = np.where(n_up > 0, up_sum / n_up, anyc)
            side = np.where(n_all - n_up > 0, (all_sum - up_sum) / (n_all - n_up), anyc)
        # surfaces rather than volumes (terrain, roads, water: mostly facing up) become flat plates
        flat = (n_up / np.maximum(n_all, 1))[:, 0] >= self.flat_fraction
        if flat.any():
            hi[flat, 2] = lo[flat, 2]
        # cells: a grid over the box centres, sized for objects_per_cell objects per occupied cell
        centre = (lo + hi) / 2
        m = 0
        order = np.zeros(0, np.int64)
        starts = np.zeros(1, np.int64)
        clo = chi = np.zeros((0, 3), np.float32)
        ctop = cside = np.zeros((0, 4))
        self.always = np.zeros(0, np.int64)
        if n > self.triangle_budget // TRIS_PER_BOX and n > 1:
            ext = centre[:, :2].max(axis=0) - centre[:, :2].min(axis=0)
            area = max(float(ext[0]) * float(ext[1]), 1.0)
            size = math.sqrt(area * self.objects_per_cell / n)
            # objects much larger than a cell (a terrain tile, a long road) stay boxes of their own
            big = (hi[:, :2] - lo[:, :2]).max(axis=1) > 2 * size
            self.always = np.flatnonzero(big)
            ij = np.floor((centre[:, :2] - centre[:, :2].min(axis=0)) / size).astype(np.int64)
            cell_id = ij[:, 0] * (int(ij[:, 1].max()) + 1) + ij[:, 1]
            cell_id[big] = -1
            uniq, cell_of = np.unique(cell_id, return_inverse=True)
            if big.any():  # drop the "cell" of the big objects (id -1, the first)
                uniq, cell_of = uniq[1:], cell_of - 1
            m = len(uniq)
            order = np.argsort(cell_of, kind="stable")[int(big.sum()) :]
            starts = np.searchsorted(cell_of[order], np.arange(m + 1))
            if m:
                clo = np.minimum.reduceat(lo[order], starts[:-1], axis=0)
                chi = np.maximum.reduceat(hi[order], starts[:-1], axis=0)
                counts = np.diff(starts).astype(np.float64)[:, None]
                ctop = np.add.reduceat(top[order], starts[:-1], axis=0) / counts
                cside = np.add.reduceat(side[order], starts[:-1], axis=0) / counts
        all_lo = np.concatenate([lo, clo])
        all_hi = np.concatenate([hi, chi])
        self._vtk_points = pv.vtk_points(box_corners(all_lo, all_hi), deep=True)
        faces = np.empty((n + m, TRIS_PER_BOX, 4), np.uint8)
        shade = np.concatenate([FACE_SHADE[:, None].repeat(3, axis=1), np.ones((TRIS_PER_BOX, 1))], axis=1)
        faces[:, :2] = np.round(np.concatenate([top, ctop])[:, None, :] * shade[None, :2])
        faces[:, 2:] = np.round(np.concatenate([side, cside])[:, None, :] * shade[None, 2:])
        self._face_colours = faces
        self._centre = ((all_lo + all_hi) / 2).astype(np.float64)
        self._radius = np.linalg.norm(all_hi - all_lo, axis=1).astype(np.float64) / 2
        self._cell_members = (order, starts)
        self.keys = keys
        self.n_objects, self.n_cells = n, m
        self._camera_mtime = -1

    # --------------------------------------------------------------- select
    def _visible(self, camera: Any, aspect: float, ids: np.ndarray) -> np.ndarray:
        planes = [0.0] * 24
        camera.GetFrustumPlanes(aspect, planes)
        pl = np.asarray(planes).reshape(6, 4)[:4]  # left, right, bottom, top: near/far follow the drawn bounds
        c, r = self._centre[ids], self._radius[ids]
        dist = c @ pl[:, :3].T + pl[:, 3]
        norm = np.linalg.norm(pl[:, :3], axis=1)
        return (dist >= -r[:, None] * norm).all(axis=1)

    def _pixels(self, camera: Any, height: int, ids: np.ndarray) -> np.ndarray:
        pos = np.asarray(camera.GetPosition(), float)
        fwd = np.asarray(camera.GetDirectionOfProjection(), float)
        depth = np.maximum((self._centre[ids] - pos) @ fwd, 1e-3)
        tan = math.tan(math.radians(camera.GetViewAngle()) / 2)
        return self._radius[ids] * height / (depth * tan)

    def select(self, camera: Any, aspect: float, height: int) -> np.ndarray:
        """Box ids (objects ``< n_objects``, then cells) to draw for a camera."""
        budget = max(self.triangle_budget // TRIS_PER_BOX, 1)
        if self.n_cells == 0:
            ids = np.arange(self.n_objects)
            return ids[self._visible(camera, aspect, ids)]
        fixed = self.always[self._visible(camera, aspect, self.always)]
        budget = max(budget - len(fixed), 1)
        cells = self.n_objects + np.arange(self.n_cells)
        vis = cells[self._visible(camera, aspect, cells)]
        px = self._pixels(camera, height, vis)
        rank = np.argsort(-px, kind="stable")
        vis, px = vis[rank], px[rank]
        if len(vis) >= budget:
            return np.concatenate([fixed, vis[:budget]])
        order, starts = self._cell_members
        c = vis - self.n_objects
        extra = np.diff(starts)[c] - 1  # boxes added by expanding each cell
        room = budget - len(vis)
        expand = (px >= self.expand_pixels) & (np.cumsum(extra) <= room)
        expand &= np.cumsum(~expand) == 0  # the largest cells first, stop at the first that does not fit
        ec = c[expand]
        lens = np.diff(starts)[ec]
        first = np.repeat(starts[ec] - np.cumsum(np.concatenate([[0], lens[:-1]])), lens)
        members = order[first + np.arange(int(lens.sum()))]
        return np.concatenate([fixed, members, vis[~expand]])

    def update(self, camera: Any | None = None, size: tuple[int, int] | None = None) -> int:
        """Choose the boxes for the current camera; returns the number of triangles drawn."""
        camera = camera if camera is not None else self.renderer.GetActiveCamera()
        if size is None:
            size = tuple(self.renderer.GetSize())
        w, h = max(int(size[0]), 1), max(int(size[1]), 1)
        ids = self.select(camera, w / h, h) if self._vtk_points is not None else np.zeros(0, np.int64)
        tris = (BOX_FACES[None] + 8 * ids[:, None, None]).reshape(-1, 3).astype(np.int32)
        cols = self._face_colours[ids].reshape(-1, 4)
        pd = cells_polydata(tris, {"colors": cols}, self._vtk_points)
        self.polydata.ShallowCopy(pd)
        self.polydata.GetCellData().SetActiveScalars("colors")
        self.polydata.Modified()
        n_obj = int((ids < self.n_objects).sum())
        self.last_counts = (n_obj, len(ids) - n_obj)
        self._camera_mtime = camera.GetMTime()
        return len(tris)

    # ------------------------------------------------------------ interaction
    def _on_render(self, *_: Any) -> None:
        cam = self.renderer.GetActiveCamera()
        if cam.GetMTime() != self._camera_mtime:
            self.update(cam)

    def start(self) -> None:
        """Show the proxy and follow the camera until :meth:`stop`."""
        if self.active:
            return
        self.active = True
        if self.fxaa_off:
            _fxaa_hold(self.renderer, True)
        self.update()
        self.actor.SetVisibility(True)
        self._observer = self.renderer.AddObserver("StartEvent", self._on_render)

    def stop(self) -> None:
        """Hide the proxy and stop following the camera."""
        if self._observer is not None:
            self.renderer.RemoveObserver(self._observer)
            self._observer = None
        self.actor.SetVisibility(False)
        if self.active and self.fxaa_off:
            _fxaa_hold(self.renderer, False)
        self.active = False

    def remove(self) -> None:
        self.stop()
        self.renderer.RemoveViewProp(self.actor)


# renderer address → (number of proxies holding FXAA off, the setting to restore)
_FXAA_HELD: dict[int, tuple[int, bool]] = {}


def _fxaa_hold(renderer: Any, hold: bool) -> None:
    """Switch FXAA off while at least one proxy of a renderer is active, then restore it."""
    key = (
        int(renderer.GetAddressAsString("vtkRenderer")[5:], 16)
        if hasattr(renderer, "GetAddressAsString")
        else id(renderer)
    )
    count, saved = _FXAA_HELD.get(key, (0, bool(renderer.GetUseFXAA())))
    count += 1 if hold else -1
    if count <= 0:
        _FXAA_HELD.pop(key, None)
        renderer.SetUseFXAA(saved)
    else:
        _FXAA_HELD[key] = (count, saved)
        renderer.SetUseFXAA(False)
