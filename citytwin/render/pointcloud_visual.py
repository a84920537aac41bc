"""The visual of a LiDAR point cloud: one ``vtkPolyData`` of vertices, coloured per point.

Built once from numpy (float32 points relative to the scene origin, one vertex cell
per point given as a single connectivity array); everything a user toggles
afterwards works without rebuilding the points:

* colour modes (``"rgb"``, ``"intensity"``, ``"elevation"``, ``"classification"``,
  ``"return_number"``) overwrite the per-point uint8 ``colors`` array in place;
* hiding ASPRS classes rebuilds only the vertex-cell index list (as
  :class:`~citytwin.render.visuals.CityModelVisual` re-selects its triangles);
* while the camera moves, :meth:`PointCloudVisual.set_interactive` draws every ``k``-th
  point of a big cloud;
* eye-dome lighting (``vtkEDLShading``) shades clouds without colour so their shape reads.

Picking projects points on the CPU: points are bucketed once into x/y columns whose
boxes are projected per pick, so only the few columns under the cursor are tested
(a few milliseconds on millions of points). The result carries the exact float64
source coordinates of the point, read back from the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvista as pv
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints, vtkTypeInt32Array, vtkTypeInt64Array
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

from citytwin.model.pointcloud import (
    CLASSIFICATION_PALETTE,
    POINT_COLOUR_MODES,
    PointCloud,
    class_name,
)
from citytwin.render.camera import box_corners
from citytwin.render.colormap import CATEGORY_PALETTE, Thematic, colormap_lut, ramp, robust_range
from citytwin.render.style import DEFAULT_STYLE, Style
from citytwin.render.visuals import BaseVisual, legend_actor, register_visual

#: Points drawn while the camera moves (:meth:`PointCloudVisual.set_interactive`).
INTERACTIVE_POINT_BUDGET = 500_000

_EDL_USERS: dict[int, set[int]] = {}  # id(renderer) → ids of visuals that asked for eye-dome lighting
_EDL_PASSES: dict[int, Any] = {}  # id(renderer) → the pass set on a plain vtkRenderer


@dataclass(frozen=True)
class PointPickResult:
    """The point under a screen position.

    Attributes
    ----------
    index
        Index into the cloud's arrays.
    position
        ``(3,)`` float64 point relative to the scene origin (like :class:`PickResult.position`).
    coordinates
        ``(3,)`` float64 source-CRS coordinates, exactly as read (not through float32).
    classification, intensity, return_number, number_of_returns, gps_time
        The point's attributes (``None`` where the file has none).
    rgb
        ``(r, g, b)`` uint8 colour, or ``None``.
    screen_distance
        Pixels between the pick position and the projected point.
    """

    index: int
    position: np.ndarray
    coordinates: np.ndarray
    classification: int | None = None
    intensity: int | None = None
    rgb: tuple[int, int, int] | None = None
    return_number: int | None = None
    number_of_returns: int | None = None
    gps_time: float | None = None
    screen_distance: float = 0.0
    # no city object here: code written for :class:`PickResult` (``hit.object``) reads -1
    object: int = -1
    root: int = -1
    triangle: int = -1

    @property
    def class_name(self) -> str | None:
        """The ASPRS name of :attr:`classification`."""
        return None if self.classification is None else class_name(self.classification)


#: :data:`CLASSIFICATION_PALETTE` as opaque RGBA packed in one uint32 per class code.
_CLASSIFICATION_RGBA: np.ndarray = (
    np.concatenate([CLASSIFICATION_PALETTE, np.full((256, 1), 255, np.uint8)], axis=1).view(np.uint32).ravel()
)


def display_buffers(cloud: PointCloud, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The per-point arrays a point visual draws: float32 points about ``origin`` and an opaque RGBA buffer.

    Both live in one allocation (16 bytes a point): a fresh process pays for
    every page it touches first, and one allocation of a few MB is backed by
    huge pages where two smaller ones are not. The colours are not written yet
    (alpha is 255).

    Returns
    -------
    local
        ``(N, 3)`` float32, C-contiguous.
    rgba
        ``(N, 4)`` uint8, C-contiguous.
    """
    n = cloud.n_points
    buf = np.empty(16 * n, np.uint8)
    local = buf[: 12 * n].view(np.float32).reshape(n, 3)
    rgba = buf[12 * n :].reshape(n, 4)
    cloud.local_points(origin, out=local)
    rgba[:, 3] = 255
    return local, rgba


def classification_rgba(cloud: PointCloud, out: np.ndarray | None = None) -> np.ndarray:
    """``(N, 4)`` uint8 opaque RGBA of each point's class from :data:`CLASSIFICATION_PALETTE`.

    One 4-byte gather per point (about twice as fast as gathering RGB triples),
    straight from the file's records (the class codes are not decoded).

    Parameters
    ----------
    cloud
        A cloud with a classification.
    out
        A C-contiguous ``(N, 4)`` uint8 array to write into.
    """
    if out is None:
        out = np.empty((cloud.n_points, 4), np.uint8)
    cloud.lookup("classification", _CLASSIFICATION_RGBA, out=out.view(np.uint32).reshape(-1))
    return out


def _vtk_array(arr: np.ndarray) -> Any:
    """A VTK array sharing ``arr``'s memory (the caller keeps ``arr`` alive)."""
    out = vtkTypeInt32Array() if arr.dtype == np.int32 else vtkTypeInt64Array()
    out.SetVoidArray(arr, arr.size, 1)
    return out


class PointCloudVisual(BaseVisual):
    """One vertex ``vtkPolyData`` and one actor for a :class:`~citytwin.model.pointcloud.PointCloud`.

    Parameters
    ----------
    model
        The cloud.
    renderer
        A ``vtkRenderer`` or a pyvista plotter.
    origin
        Scene origin; defaults to :func:`~citytwin.render.convert.choose_origin` of the cloud.
    style
        The look (selection colour, text colour).
    colour_mode
        One of :data:`~citytwin.model.pointcloud.POINT_COLOUR_MODES`; ``None`` picks the cloud's
        :meth:`~citytwin.model.pointcloud.PointCloud.default_colour_mode`.
    point_size
        Point size in pixels.
    legend
        Whether colour modes other than ``"rgb"`` show a legend.

    Attributes
    ----------
    thematic
        What the current legend shows (``None`` in ``"rgb"`` mode).
    legend
        The legend actor, if any.
    """

    def __init__(
        self,
        model: PointCloud,
        renderer: Any,
        origin: np.ndarray | None = None,
        style: Style = DEFAULT_STYLE,
        colour_mode: str | None = None,
        point_size: float = 2.0,
        legend: bool = True,
    ) -> None:
        if origin is None:
            from citytwin.render.convert import choose_origin

            origin = choose_origin(model.bounds)
        super().__init__(model, renderer, origin, style)
        cloud = model
        n = cloud.n_points
        self.n_points = n
        self.local, self._rgba = display_buffers(cloud, self.origin)
        self.colours = self._rgba[:, :3]
        self._vtk_points = vtkPoints()
        self._vtk_points.SetData(numpy_to_vtk(self.local, deep=False))
        vtk_colours = numpy_to_vtk(self._rgba, deep=False)
        vtk_colours.SetName("colors")
        self._vtk_colours = vtk_colours
        idx_type = np.int32 if n < 2**31 - 1 else np.int64
        self._offsets_all = np.arange(n + 1, dtype=idx_type)  # vertex cells: offsets are 0, 1, 2 …
        self._hidden: frozenset[int] = frozenset()
        self._shown = np.arange(n, dtype=idx_type)  # points of shown classes
        self._shown_mask: np.ndarray | None = None  # (N,) bool while a class is hidden
        self._conn = self._shown  # points in the vertex cells now (the shown ones, or a subset while moving)
        self._interactive = False
        self.interactive_budget = INTERACTIVE_POINT_BUDGET
        self._round = False
        self._edl = False
        self._mode = "elevation"
        self._legend_wanted = bool(legend)
        self.thematic: Thematic | None = None
        self.legend: Any | None = None
        self._index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # pick columns
        self._bounds: np.ndarray | None = None
        self._highlight_actor: vtkActor | None = None
        self._highlighted = np.zeros(0, np.int64)

        self.polydata = vtkPolyData()
        self.polydata.SetPoints(self._vtk_points)
        self.polydata.GetPointData().AddArray(vtk_colours)
        self.polydata.GetPointData().SetActiveScalars("colors")
        self._set_cells(self._conn)
        self.mapper = vtkPolyDataMapper()
        self.mapper.SetInputData(self.polydata)
        self.mapper.ScalarVisibilityOn()
        self.mapper.SetScalarModeToUsePointFieldData()
        self.mapper.SelectColorArray("colors")
        self.mapper.SetColorModeToDirectScalars()
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        prop = self.actor.GetProperty()
        prop.SetRepresentationToPoints()
        prop.LightingOff()  # points have no normals: a pixel is its point's colour
        prop.SetAmbient(1.0)
        prop.SetDiffuse(0.0)
        prop.SetSpecular(0.0)
        prop.SetPointSize(float(point_size))
        self.actors = [self.actor]
        self.renderer.AddActor(self.actor)
        self.set_colour_mode(colour_mode or cloud.default_colour_mode())

    # ------------------------------------------------------------ cells drawn
    def _set_cells(self, conn: np.ndarray) -> None:
        """Draw the points ``conn``: one vertex cell each, from one connectivity array (no copy of the points)."""
        conn = np.ascontiguousarray(conn, dtype=self._offsets_all.dtype)
        offsets = self._offsets_all[: len(conn) + 1]
        self._conn = conn
        self._cell_arrays = (offsets, conn)  # VTK shares this memory: keep it alive
        cells = vtkCellArray()
        cells.SetData(_vtk_array(offsets), _vtk_array(conn))
        self.polydata.SetVerts(cells)
        self.polydata.Modified()

    @property
    def drawn_points(self) -> np.ndarray:
        """Indices of the points drawn now (every ``k``-th of them while the camera moves)."""
        return self._conn

    @property
    def shown_points(self) -> np.ndarray:
        """Indices of the points of shown classes (what is drawn when the camera rests, and picked)."""
        return self._shown

    def set_hidden_classes(self, classes: frozenset[int] | set[int] | list[int] | tuple[int, ...]) -> None:
        """Hide the points of these ASPRS class codes (an empty set shows every class).

        Only the vertex-cell index list is rebuilt; the points and colours stay.
        """
        hidden = frozenset(int(c) for c in classes)
        if hidden == self._hidden:
            return
        self._hidden = hidden
        mask = self.model.class_mask(hidden)
        self._shown_mask = None if mask.all() else mask
        self._shown = (
            np.arange(self.n_points, dtype=self._offsets_all.dtype)
            if mask.all()
            else np.flatnonzero(mask).astype(self._offsets_all.dtype)
        )
        self._apply_drawn()
        if self._mode == "classification":  # the legend lists only the classes shown
            had_legend = self.legend is not None
            self.thematic = self._classification_thematic()
            self._remove_legend()
            if had_legend:
                self._add_legend(self.thematic)

    @property
    def hidden_classes(self) -> frozenset[int]:
        return self._hidden

    def _apply_drawn(self) -> None:
        k = self._decimation()
        self._set_cells(self._shown[::k] if k > 1 else self._shown)

    def _decimation(self) -> int:
        if not self._interactive or len(self._shown) <= self.interactive_budget:
            return 1
        return int(np.ceil(len(self._shown) / max(int(self.interactive_budget), 1)))

    # ------------------------------------------------------------ look
    def set_point_size(self, size: float) -> None:
        """Point size in pixels."""
        if not size > 0:
            raise ValueError("point size must be positive")
        self.actor.GetProperty().SetPointSize(float(size))
        if self._highlight_actor is not None:
            self._highlight_actor.GetProperty().SetPointSize(float(size) + 6.0)

    @property
    def point_size(self) -> float:
        return float(self.actor.GetProperty().GetPointSize())

    def set_round_points(self, on: bool) -> None:
        """Draw points as shaded spheres (slower) instead of squares."""
        self._round = bool(on)
        self.actor.GetProperty().SetRenderPointsAsSpheres(self._round)

    @property
    def round_points(self) -> bool:
        return self._round

    def set_eye_dome_lighting(self, on: bool) -> None:
        """Shade the whole view by eye-dome lighting (depth edges darken), or restore the normal pass.

        The pass belongs to the renderer: it stays on while any visual of that renderer asks for it.
        """
        on = bool(on)
        if on == self._edl:
            return
        self._edl = on
        key = id(self.renderer)
        users = _EDL_USERS.setdefault(key, set())
        before = bool(users)
        if on:
            users.add(id(self))
        else:
            users.discard(id(self))
        after = bool(users)
        if not users:
            _EDL_USERS.pop(key, None)
        if before != after:
            _set_edl_pass(self.renderer, after)

    @property
    def eye_dome_lighting(self) -> bool:
        return self._edl

    def set_opacity(self, opacity: float) -> None:
        """Layer opacity, 0 (invisible) to 1 (opaque)."""
        self.actor.GetProperty().SetOpacity(float(np.clip(opacity, 0.0, 1.0)))

    def set_visible(self, visible: bool) -> None:
        self.actor.SetVisibility(bool(visible))
        if self._highlight_actor is not None:
            self._highlight_actor.SetVisibility(bool(visible) and len(self._highlighted) > 0)
        if self.legend is not None:
            self.legend.SetVisibility(bool(visible))

    @property
    def visible(self) -> bool:
        return bool(self.actor.GetVisibility())

    # ------------------------------------------------------------ colour
    @property
    def colour_mode(self) -> str:
        """The colour mode drawn (``"elevation"`` when the asked-for attribute is missing)."""
        return self._mode

    def set_colour_mode(
        self,
        mode: str,
        *,
        cmap: str = "viridis",
        clim: tuple[float, float] | None = None,
        legend: bool | None = None,
    ) -> Thematic | None:
        """Colour points by ``"rgb"``, ``"intensity"``, ``"elevation"``, ``"classification"`` or ``"return_number"``.

        A mode whose attribute the cloud lacks falls back to ``"elevation"`` (see :attr:`colour_mode`).
        Only the per-point colour array is rewritten.

        Parameters
        ----------
        mode
            The colour mode.
        cmap, clim
            Colour map and range for ``"elevation"`` (default range: the 1st to 99th percentile of z,
            so a few noise points do not wash out the map); ``clim`` also sets the intensity range
            (default: 2nd to 98th percentile).
        legend
            Show a legend (default: as given to the constructor); never in ``"rgb"`` mode.

        Returns
        -------
        Thematic or None
            What the legend shows.
        """
        if mode not in POINT_COLOUR_MODES:
            raise ValueError(f"colour mode must be one of {POINT_COLOUR_MODES}")
        cloud: PointCloud = self.model
        need = {"rgb": "rgb", "intensity": "intensity", "classification": "classification",
                "return_number": "return_number"}.get(mode)  # fmt: skip
        if need is not None and not cloud.has(need):
            mode = "elevation"
        n = self.n_points
        th: Thematic | None
        empty = np.zeros((0, 3), np.uint8)
        if mode == "rgb":
            self.colours[:] = cloud.rgb
            th = None
        elif mode == "intensity":
            rng = clim if clim is not None else robust_range(cloud.intensity)
            lut = colormap_lut("gray", 256)
            self.colours[:] = ramp(cloud.intensity, rng, lut)
            th = Thematic("Intensity", "numeric", empty, np.zeros(0, bool), clim=rng, cmap="gray")
        elif mode == "elevation":
            z = self.local[:, 2]  # relative to the origin: no float64 decode of the cloud's heights
            oz = self.origin[2]
            rng = clim if clim is not None else (tuple(v + oz for v in robust_range(z, 1.0, 99.0)) if n else (0.0, 1.0))
            lut = colormap_lut(cmap, 256)
            self.colours[:] = ramp(z, (rng[0] - oz, rng[1] - oz), lut)
            th = Thematic("Elevation (m)", "numeric", empty, np.zeros(0, bool), clim=rng, cmap=cmap)
        elif mode == "classification":
            classification_rgba(cloud, out=self._rgba)
            th = self._classification_thematic()
        else:  # return_number
            rn = np.asarray(cloud.return_number)
            pal = np.array(CATEGORY_PALETTE, np.uint8)
            table = pal[np.arange(256) % len(pal)]
            self.colours[:] = table[rn]
            counts = np.bincount(rn, minlength=1)
            codes = [int(c) for c in np.flatnonzero(counts)]
            th = Thematic(
                "Return number",
                "categorical",
                empty,
                np.zeros(0, bool),
                categories=[f"Return {c}" for c in codes],
                category_colours=[tuple(int(v) for v in table[c]) for c in codes],  # type: ignore[misc]
                category_counts=[int(counts[c]) for c in codes],
            )
        self._mode = mode
        self.thematic = th
        self._vtk_colours.Modified()
        self.polydata.Modified()
        self._remove_legend()
        if th is not None and (self._legend_wanted if legend is None else legend):
            self._add_legend(th)
        return th

    def set_legend(self, on: bool) -> None:
        """Show or hide the legend of the current colour mode (none in ``"rgb"`` mode)."""
        self._legend_wanted = bool(on)
        self._remove_legend()
        if on and self.thematic is not None:
            self._add_legend(self.thematic)

    def _classification_thematic(self) -> Thematic:
        """The class legend: the classes present and shown, with their counts."""
        counts = self.model.class_counts or {}
        codes = sorted(c for c, k in counts.items() if k and c not in self._hidden)
        return Thematic(
            "Classification",
            "categorical",
            np.zeros((0, 3), np.uint8),
            np.zeros(0, bool),
            categories=[f"{c} {class_name(c)}" for c in codes],
            category_colours=[tuple(int(v) for v in CLASSIFICATION_PALETTE[c]) for c in codes],  # type: ignore[misc]
            category_counts=[int(counts[c]) for c in codes],
        )

    def _remove_legend(self) -> None:
        if self.legend is not None:
            self.renderer.RemoveViewProp(self.legend)
            self.legend = None

    def _add_legend(self, th: Thematic) -> None:
        window = self.renderer.GetRenderWindow()
        height = window.GetSize()[1] if window is not None else 0
        font = max(12, round((height or 1080) / 60))
        self.legend = legend_actor(th, self.style, font_size=font)
        # on the left: city-model legends take the right side of the view
        if th.kind == "numeric":
            self.legend.GetPositionCoordinate().SetValue(0.02, 0.12)
        else:
            rows = max(len(th.categories), 1)
            h = min(0.04 * rows + 0.02, 0.43)
            self.legend.GetPositionCoordinate().SetValue(0.01, 0.03)
            self.legend.GetPosition2Coordinate().SetValue(0.22, h)
        self.legend.SetVisibility(self.visible)
        self.renderer.AddViewProp(self.legend)

    # ------------------------------------------------------------ interaction
    @property
    def interactive(self) -> bool:
        """Whether only every ``k``-th point is drawn (the camera is moving)."""
        return self._interactive and len(self._conn) < len(self._shown)

    def set_interactive(self, interactive: bool) -> bool:
        """Draw every ``k``-th point while the camera moves (``True``) and all of them again when it stops.

        Clouds of up to :attr:`interactive_budget` shown points are always drawn whole. Returns
        whether a subset is now drawn.
        """
        interactive = bool(interactive)
        if interactive == self._interactive:
            return self.interactive
        self._interactive = interactive
        if interactive and self._decimation() == 1:
            return False
        self._apply_drawn()
        return self.interactive

    def warm_up_step(self) -> bool:
        """Build the pick index (once); returns whether pieces are left (none after this call)."""
        if self._index is None and self.n_points:
            self._build_index()
        return False

    # ------------------------------------------------------------ highlight
    def highlight(self, point_indices: np.ndarray | list[int] | None) -> None:
        """Mark points (a picked point) with a larger dot in the selection colour; ``None`` or ``[]`` clears."""
        idx = np.asarray([] if point_indices is None else point_indices, dtype=np.int64).ravel()
        idx = idx[(idx >= 0) & (idx < self.n_points)]
        self._highlighted = idx
        if len(idx) == 0:
            if self._highlight_actor is not None:
                self._highlight_actor.SetVisibility(False)
            return
        cloud = pv.PolyData(self.local[idx])
        if self._highlight_actor is None:
            mapper = vtkPolyDataMapper()
            mapper.ScalarVisibilityOff()
            actor = vtkActor()
            actor.SetMapper(mapper)
            prop = actor.GetProperty()
            prop.SetRepresentationToPoints()
            prop.LightingOff()
            prop.SetColor(*(c / 255.0 for c in self.style.selection))
            prop.SetPointSize(self.point_size + 6.0)
            prop.SetRenderPointsAsSpheres(True)
            self._highlight_actor = actor
            self.renderer.AddActor(actor)
        self._highlight_actor.GetMapper().SetInputData(cloud)
        self._highlight_actor.SetVisibility(self.visible)

    @property
    def highlighted(self) -> np.ndarray:
        return self._highlighted

    # ------------------------------------------------------------ picking
    def _build_index(self, target: int = 2048) -> None:
        """Bucket the points into about ``target`` (at most 65536) x/y grid columns, each with its 3D box.

        The columns' x/y extents are their grid cells; only z is reduced per column, so the
        index costs one radix sort and one gather of z (about 0.3 s for 5 million points).
        """
        target = min(int(target), 2**16)
        pts = self.local
        n = len(pts)
        lo = np.array([pts[:, k].min() for k in range(2)], np.float64)  # column by column: fast
        hi = np.array([pts[:, k].max() for k in range(2)], np.float64)
        span = np.maximum(hi - lo, 1e-3)
        nx = int(np.clip(np.sqrt(target * span[0] / span[1]), 1, 256))
        ny = int(np.clip(target // nx, 1, 256))
        ix = np.minimum(((pts[:, 0] - lo[0]) * (nx / span[0])).astype(np.int32), nx - 1)
        iy = np.minimum(((pts[:, 1] - lo[1]) * (ny / span[1])).astype(np.int32), ny - 1)
        np.clip(ix, 0, nx - 1, out=ix)
        np.clip(iy, 0, ny - 1, out=iy)
        key = (ix * np.int32(ny) + iy).astype(np.uint16)  # nx * ny <= 2**16: numpy radix-sorts it
        del ix, iy
        order = np.argsort(key, kind="stable").astype(np.int32 if n < 2**31 - 1 else np.int64)
        counts = np.bincount(key, minlength=nx * ny)
        starts = np.concatenate([[0], np.cumsum(counts)])
        used = np.flatnonzero(counts)
        z = np.take(np.ascontiguousarray(pts[:, 2]), order)
        cell = span / np.array([nx, ny])
        pad = 1e-3 * cell  # float32 rounding at the cell edges
        gx, gy = np.divmod(used, ny)
        boxes = np.empty((len(used), 6), np.float64)
        boxes[:, 0] = lo[0] + gx * cell[0] - pad[0]
        boxes[:, 1] = lo[1] + gy * cell[1] - pad[1]
        boxes[:, 3] = lo[0] + (gx + 1) * cell[0] + pad[0]
        boxes[:, 4] = lo[1] + (gy + 1) * cell[1] + pad[1]
        boxes[:, 2] = np.minimum.reduceat(z, starts[used])
        boxes[:, 5] = np.maximum.reduceat(z, starts[used])
        self._index = (order, np.stack([starts[used], starts[used + 1]], axis=1), boxes)

    def pick(self, x: float, y: float, tolerance: float = 5.0) -> PointPickResult | None:
        """The shown point under a display position (pixels, origin bottom-left, as VTK's pickers).

        Among the points whose dot covers the pixel the one nearest the camera wins; when none
        does, the nearest on screen within ``tolerance`` pixels.
        """
        if self.n_points == 0 or not self.visible or len(self._shown) == 0:
            return None
        ren = self.renderer
        w, h = ren.GetSize()
        if w <= 0 or h <= 0:
            return None
        if self._index is None:
            self._build_index()
        assert self._index is not None
        order, ranges, boxes = self._index
        cam = ren.GetActiveCamera()
        m = cam.GetCompositeProjectionTransformMatrix(w / h, -1.0, 1.0)
        mat = np.array([[m.GetElement(i, j) for j in range(4)] for i in range(4)])
        # the pick position in normalised device coordinates, and the tolerance there
        vx, vy = ren.GetViewport()[:2]
        win = ren.GetRenderWindow().GetSize()
        px = float(x) - vx * win[0]
        py = float(y) - vy * win[1]
        nx = 2.0 * px / w - 1.0
        ny = 2.0 * py / h - 1.0
        radius = max(float(tolerance), self.point_size / 2.0 + 0.5)
        tx, ty = 2.0 * radius / w, 2.0 * radius / h
        # columns whose projected box holds the pick position
        corners = box_corners_many(boxes)  # (B, 8, 3)
        hom = corners @ mat[:, :3].T + mat[:, 3]
        wc = hom[..., 3]
        front = wc > 1e-9
        with np.errstate(divide="ignore", invalid="ignore"):
            cx = hom[..., 0] / wc
            cy = hom[..., 1] / wc
        behind = ~front.all(axis=1)  # a box crossing the camera plane: keep it, test its points
        xmin = np.where(front, cx, np.inf).min(axis=1)
        xmax = np.where(front, cx, -np.inf).max(axis=1)
        ymin = np.where(front, cy, np.inf).min(axis=1)
        ymax = np.where(front, cy, -np.inf).max(axis=1)
        hit = behind & front.any(axis=1)
        hit |= (xmin - tx <= nx) & (nx <= xmax + tx) & (ymin - ty <= ny) & (ny <= ymax + ty)
        cols = np.flatnonzero(hit)
        if len(cols) == 0:
            return None
        r = ranges[cols]
        lengths = r[:, 1] - r[:, 0]
        total = int(lengths.sum())
        pos = np.repeat(r[:, 0] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(total)
        cand = order[pos]
        if self._shown_mask is not None:
            cand = cand[self._shown_mask[cand]]
        if len(cand) == 0:
            return None
        p = self.local[cand].astype(np.float64)
        hom = p @ mat[:, :3].T + mat[:, 3]
        wp = hom[:, 3]
        ok = wp > 1e-9
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = (hom[:, 0] / wp - nx) * (w / 2.0)
            dy = (hom[:, 1] / wp - ny) * (h / 2.0)
            dz = hom[:, 2] / wp
        ok &= (dz >= -1.0) & (dz <= 1.0)  # between the clipping planes
        ok &= (np.abs(dx) <= radius) & (np.abs(dy) <= radius)
        if not ok.any():
            return None
        sel = np.flatnonzero(ok)
        half = self.point_size / 2.0 + 0.5
        covering = sel[(np.abs(dx[sel]) <= half) & (np.abs(dy[sel]) <= half)]
        if len(covering):
            best = covering[np.argmin(wp[covering])]  # w is the depth along the view direction
        else:
            d2 = dx[sel] ** 2 + dy[sel] ** 2
            best = sel[np.lexsort((wp[sel], d2))[0]]
        return self._result(int(cand[best]), float(np.hypot(dx[best], dy[best])))

    def _result(self, i: int, screen_distance: float) -> PointPickResult:
        cloud: PointCloud = self.model
        xyz = cloud.point(i)

        def value(arr: np.ndarray | None, kind: type) -> Any:
            return None if arr is None else kind(arr[i])

        return PointPickResult(
            index=i,
            position=xyz - self.origin,
            coordinates=xyz,
            classification=value(cloud.classification, int),
            intensity=value(cloud.intensity, int),
            rgb=None if cloud.rgb is None else tuple(int(v) for v in cloud.rgb[i]),  # type: ignore[arg-type]
            return_number=value(cloud.return_number, int),
            number_of_returns=value(cloud.number_of_returns, int),
            gps_time=value(cloud.gps_time, float),
            screen_distance=screen_distance,
        )

    # ------------------------------------------------------------ queries
    def bounds(self) -> np.ndarray:
        """``[xmin, ymin, zmin, xmax, ymax, zmax]`` of the loaded points, relative to the origin."""
        if self.n_points == 0:
            return np.full(6, np.nan)
        if self._bounds is None:
            local = self.local
            self._bounds = np.concatenate([local.min(axis=0), local.max(axis=0)]).astype(np.float64)
        return self._bounds.copy()

    def fit_points(self, max_points: int = 300_000) -> np.ndarray:
        """A uniform sample of the shown points (relative to the origin), for camera framing."""
        shown = self._shown
        if len(shown) == 0:
            b = self.bounds()
            return box_corners(b) if np.isfinite(b).all() else np.zeros((0, 3))
        k = max(1, int(np.ceil(len(shown) / max_points)))
        return self.local[shown[::k]].astype(np.float64)

    def remove(self) -> None:
        self.set_eye_dome_lighting(False)
        self._remove_legend()
        if self._highlight_actor is not None:
            self.renderer.RemoveViewProp(self._highlight_actor)
            self._highlight_actor = None
        super().remove()

    # ------------------------------------------------------------ layer
    def apply_layer(self, layer: Any) -> None:
        """Match a :class:`~citytwin.model.pointcloud.PointCloudLayer`'s settings (colour mode, size, EDL, classes)."""
        self.set_hidden_classes(layer.hidden_classes)
        self.set_point_size(layer.point_size)
        self.set_eye_dome_lighting(layer.eye_dome_lighting)
        if layer.colour_mode != self._mode:
            self.set_colour_mode(layer.colour_mode)
        self.set_visible(layer.visible)
        if hasattr(layer, "opacity"):
            self.set_opacity(layer.opacity)


def box_corners_many(boxes: np.ndarray) -> np.ndarray:
    """``(B, 8, 3)`` corners of ``(B, 6)`` boxes ``[xmin, ymin, zmin, xmax, ymax, zmax]``."""
    b = np.asarray(boxes, np.float64)
    ix = np.array([0, 3, 0, 3, 0, 3, 0, 3])
    iy = np.array([1, 1, 4, 4, 1, 1, 4, 4])
    iz = np.array([2, 2, 2, 2, 5, 5, 5, 5])
    return np.stack([b[:, ix], b[:, iy], b[:, iz]], axis=2)


def _set_edl_pass(renderer: Any, on: bool) -> None:
    """Switch ``vtkEDLShading`` on a renderer (pyvista's pass manager where there is one)."""
    if hasattr(renderer, "enable_eye_dome_lighting"):
        if on:
            renderer.enable_eye_dome_lighting()
        else:
            renderer.disable_eye_dome_lighting()
        return
    from vtkmodules.vtkRenderingOpenGL2 import vtkEDLShading, vtkRenderStepsPass

    key = id(renderer)
    if on:
        edl = vtkEDLShading()
        edl.SetDelegatePass(vtkRenderStepsPass())
        _EDL_PASSES[key] = edl
        renderer.SetPass(edl)
    else:
        edl = _EDL_PASSES.pop(key, None)
        window = renderer.GetRenderWindow()
        if edl is not None and window is not None:
            edl.ReleaseGraphicsResources(window)
        renderer.SetPass(None)


register_visual(PointCloud, PointCloudVisual)
