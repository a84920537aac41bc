"""Measurements drawn in the view: lines, end points and a value label each (VTK only).

:class:`MeasurementsVisual` follows an evented list of
:class:`~citytwin.model.annotations.Measurement` (``scene.measurements``): every
insert, removal, edit or move rebuilds what it draws (a handful of merged
actors, one billboard label per measurement; a scene holds tens of
measurements, not thousands). It also draws the *draft*, the measurement being
clicked, with a rubber band to the cursor.

Everything is drawn in overlay renderers sharing the main renderer's camera
(render-window layers 1–3: the lines' dark outlines, the lines and points, the labels): a measurement
along a roof edge or through a wall stays visible instead of fighting with the
surface it lies on, and no line crosses a label. Labels that would cover one
another, or a pin's marker or label (:attr:`MeasurementsVisual.obstacles`), are lifted apart before each
frame (:meth:`MeasurementsVisual.place_labels`). Points are world coordinates (float64); they become
float32 only relative to the scene origin. A measurement whose points are in another CRS than the scene is
drawn in (:attr:`~citytwin.model.annotations.Measurement.crs`) is drawn transformed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkFiltersCore import vtkTriangleFilter
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkBillboardTextActor3D,
    vtkPolyDataMapper,
    vtkRenderer,
)

from citytwin.errors import CityTwinError
from citytwin.model.annotations import Measurement, make_measurement
from citytwin.model.measure_units import KIND_COLOURS, measurement_label
from citytwin.render.visuals import renderer_of

LINE_WIDTH = 3.0
HALO_WIDTH = 7.0
POINT_SIZE = 9.0
FONT_SIZE = 15
FILL_OPACITY = 0.22
#: the outline of every measurement's lines, and of the one selected in the dock
HALO: tuple[int, int, int] = (25, 25, 28)
HIGHLIGHT: tuple[int, int, int] = (255, 255, 255)
#: label lifted above its anchor (pixels)
LABEL_OFFSET_PX = 12
#: pixels between labels stacked so as not to cover one another
LABEL_GAP_PX = 3
#: padding VTK draws around a label's text (background and frame), pixels
LABEL_PAD_PX = 6
#: the minimum points of a drawable measurement of each kind
MIN_POINTS = {"distance": 2, "height": 2, "area": 3, "object-height": 2}


def polyline_midpoint(points: np.ndarray) -> np.ndarray:
    """The point halfway along a polyline (``(N, 3)``)."""
    p = np.asarray(points, np.float64).reshape(-1, 3)
    if len(p) < 2:
        return p[0].copy() if len(p) else np.zeros(3)
    seg = np.sqrt((np.diff(p, axis=0) ** 2).sum(axis=1))
    total = float(seg.sum())
    if total <= 0:
        return p[0].copy()
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    k = int(np.clip(np.searchsorted(cum, total / 2) - 1, 0, len(seg) - 1))
    t = (total / 2 - cum[k]) / seg[k] if seg[k] > 0 else 0.0
    return p[k] + t * (p[k + 1] - p[k])


def measurement_paths(m: Measurement) -> tuple[list[np.ndarray], np.ndarray]:
    """The polylines drawn for a measurement (world ``(N, 3)`` each) and the label's anchor.

    A distance is its polyline; a height difference an L: up (or down) from the
    first point to the second's level, then across to it; an area its closed
    outline; an object height the vertical from base to top.
    """
    p = m.array
    if m.kind == "height":
        corner = np.array([p[0, 0], p[0, 1], p[1, 2]])
        return [np.stack([p[0], corner, p[1]])], (p[0] + corner) / 2
    if m.kind == "area":
        return [np.vstack([p, p[:1]])], p.mean(axis=0)
    if m.kind == "object-height":
        return [p[:2]], (p[0] + p[1]) / 2
    return [p], polyline_midpoint(p)


class MeasurementsVisual:
    """Draws a list of measurements (and the one being measured) over the scene.

    Parameters
    ----------
    items
        The evented list to follow (``scene.measurements``).
    renderer
        The main ``vtkRenderer`` (or a pyvista plotter); the overlays join its render window.
    origin
        ``(3,)`` float64 scene origin.
    unit
        Length unit symbol for the labels (``"m"``).
    request_render
        Called after a change (the window schedules a frame); nothing by default.
    display_crs
        Returns the CRS the scene is drawn in (asked at every rebuild): a measurement whose
        points are in another CRS (:attr:`Measurement.crs`) is drawn transformed into it.
        ``None``: every measurement is drawn as its points are.
    """

    def __init__(
        self,
        items: Sequence[Measurement],
        renderer: Any,
        origin: np.ndarray | None = None,
        unit: str = "m",
        request_render: Callable[[], None] | None = None,
        display_crs: Callable[[], Any] | None = None,
    ) -> None:
        self.items = items
        self._display_crs = display_crs
        #: Returns ``(N, 4)`` display boxes ``(x0, y0, x1, y1)`` the labels keep off for the camera now
        #: (the pins' markers and labels: a measurement's label must not hide a pin), or ``None``.
        self.obstacles: Callable[[], np.ndarray] | None = None
        self.renderer = renderer_of(renderer)
        self.origin = np.zeros(3) if origin is None else np.asarray(origin, np.float64)
        self.unit = unit
        self._request_render = request_render or (lambda: None)
        #: Label offsets and gaps are this many times their size in pixels (large stills; see :meth:`set_pixel_scale`).
        self.pixel_scale = 1.0
        self.highlighted: str | None = None
        self._draft: tuple[str, np.ndarray] | None = None
        self.labels: dict[str, vtkBillboardTextActor3D] = {}
        self.draft_label: vtkBillboardTextActor3D | None = None
        self._label_sizes: dict[int, tuple[float, float]] = {}  # id(actor) → (width, height) pixels
        # overlay renderers: drawn after the scene, depth cleared, same camera
        # (three: the lines' dark outlines, the lines above them, the labels above everything)
        self.halo_overlay, self.overlay, self.label_overlay = vtkRenderer(), vtkRenderer(), vtkRenderer()
        self._overlays = (self.halo_overlay, self.overlay, self.label_overlay)
        window = self.renderer.GetRenderWindow()
        for layer, ren in enumerate(self._overlays, start=1):
            ren.SetLayer(layer)
            ren.InteractiveOff()
            ren.SetActiveCamera(self.renderer.GetActiveCamera())
            ren.SetViewport(*self.renderer.GetViewport())
            if window is not None:
                window.SetNumberOfLayers(max(window.GetNumberOfLayers(), layer + 1))
                window.AddRenderer(ren)
        self._window = window
        self._sync_tag = self.renderer.AddObserver("StartEvent", self._sync_camera)
        self._halo = self._line_actor(HALO_WIDTH, self.halo_overlay)
        self._lines = self._line_actor(LINE_WIDTH)
        self._fill = self._line_actor(1.0)
        self._fill.GetProperty().SetOpacity(FILL_OPACITY)
        self._points = self._line_actor(1.0)
        prop = self._points.GetProperty()
        prop.SetPointSize(POINT_SIZE)
        prop.SetRenderPointsAsSpheres(True)
        self._draft_lines = self._line_actor(LINE_WIDTH)
        self._draft_points = self._line_actor(1.0)
        self._draft_points.GetProperty().SetPointSize(POINT_SIZE)
        self._draft_points.GetProperty().SetRenderPointsAsSpheres(True)
        self._connections = []
        events = getattr(items, "events", None)
        if events is not None:
            for name in ("inserted", "removed", "changed", "moved"):
                sig = getattr(events, name)
                sig.connect(self._on_items_changed)
                self._connections.append(sig)
        self.update()

    # ------------------------------------------------------------------ setup
    def _line_actor(self, width: float, renderer: vtkRenderer | None = None) -> vtkActor:
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(vtkPolyData())
        mapper.SetColorModeToDirectScalars()
        mapper.SetScalarModeToUseCellData()
        actor = vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetLineWidth(width)
        prop.LightingOff()
        prop.SetColor(0.0, 0.0, 0.0)
        actor.PickableOff()
        (renderer or self.overlay).AddActor(actor)
        return actor

    def _sync_camera(self, *_: Any) -> None:
        cam = self.renderer.GetActiveCamera()
        for ren in self._overlays:
            if ren.GetActiveCamera() is not cam:
                ren.SetActiveCamera(cam)
            ren.SetViewport(*self.renderer.GetViewport())
        self.place_labels()

    def set_pixel_scale(self, scale: float) -> None:
        """Lift labels by ``scale`` times their offsets and sizes in pixels (a still larger than the window,
        see :func:`citytwin.render.stills.render_still`, which scales the fonts and line widths itself)."""
        self.pixel_scale = float(scale)

    def place_labels(self) -> None:
        """Lift labels that would cover one another (in screen space, for the camera now), lowest first."""
        actors = [a for a in (*self.labels.values(), self.draft_label) if a is not None]
        ren = self.renderer
        s = self.pixel_scale
        boxes = []
        for actor in actors:
            x, y, z = actor.GetPosition()
            ren.SetWorldPoint(x, y, z, 1.0)
            ren.WorldToDisplay()
            dx, dy, dz = ren.GetDisplayPoint()
            w, h = (v * s for v in self._label_sizes.get(id(actor), (0.0, 0.0)))
            if not 0.0 <= dz <= 1.0:  # behind the camera or clipped: not drawn
                actor.SetDisplayOffset(0, round(LABEL_OFFSET_PX * s))
                continue
            boxes.append((dy + LABEL_OFFSET_PX * s, dx - w / 2, w, h, dy, actor))
        placed: list[tuple[float, float, float, float]] = []
        fixed = np.zeros((0, 4))
        if boxes and self.obstacles is not None:
            fixed = np.asarray(self.obstacles(), float).reshape(-1, 4)
            fixed = fixed[np.isfinite(fixed).all(axis=1)]
        for y0, x0, w, h, anchor_y, actor in sorted(boxes, key=lambda b: b[0]):
            moved = True
            while moved:
                moved = False
                for px, py, pw, ph in placed:
                    if x0 < px + pw and px < x0 + w and y0 < py + ph and py < y0 + h:
                        y0 = py + ph + LABEL_GAP_PX * s
                        moved = True
                under = (x0 < fixed[:, 2]) & (fixed[:, 0] < x0 + w) & (y0 < fixed[:, 3]) & (fixed[:, 1] < y0 + h)
                if under.any():  # above what it would hide
                    y0 = float(fixed[under, 3].max()) + LABEL_GAP_PX * s
                    moved = True
            placed.append((x0, y0, w, h))
            actor.SetDisplayOffset(0, int(round(y0 - anchor_y)))

    def remove(self) -> None:
        """Stop following the list and take the overlays out of the render window."""
        for sig in self._connections:
            sig.disconnect(self._on_items_changed)
        self._connections = []
        if self._sync_tag is not None:
            self.renderer.RemoveObserver(self._sync_tag)
            self._sync_tag = None
        for ren in self._overlays:
            ren.RemoveAllViewProps()
            if self._window is not None:
                self._window.RemoveRenderer(ren)
        self._window = None
        self.labels.clear()
        self.draft_label = None

    # ------------------------------------------------------------------ state
    def set_origin(self, origin: np.ndarray) -> None:
        self.origin = np.asarray(origin, np.float64)
        self.update()

    def set_unit(self, unit: str) -> None:
        if unit != self.unit:
            self.unit = unit
            self.update()

    def set_highlight(self, item_id: str | None) -> None:
        """Outline one measurement in white (the one selected in the dock), or none."""
        if item_id != self.highlighted:
            self.highlighted = item_id
            self.update()

    def set_draft(self, kind: str | None, points: Sequence[Sequence[float]] = ()) -> None:
        """The measurement being clicked (world points, the cursor last), or ``None`` to clear it."""
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        self._draft = None if kind is None or len(pts) == 0 else (kind, pts)
        self._build_draft()
        self._request_render()

    def _on_items_changed(self, *_: Any) -> None:
        self.update()

    @property
    def drawn_ids(self) -> list[str]:
        """Ids of the measurements drawn (visible ones)."""
        return list(self.labels)

    def label_text(self, item_id: str) -> str | None:
        actor = self.labels.get(item_id)
        return None if actor is None else actor.GetInput()

    def label_anchor(self, item_id: str) -> np.ndarray | None:
        """World position of a measurement's label."""
        actor = self.labels.get(item_id)
        return None if actor is None else np.asarray(actor.GetPosition(), np.float64) + self.origin

    def drawn_as(self, m: Measurement) -> Measurement:
        """A measurement with its points in the CRS the scene is drawn in (itself when they are already)."""
        if self._display_crs is None or m.crs is None:
            return m
        try:
            return m.in_crs(self._display_crs())
        except CityTwinError:  # points outside the CRS's domain: drawn as they are
            return m

    # ------------------------------------------------------------------ drawing
    def update(self) -> None:
        """Rebuild what is drawn from the list."""
        for actor in self.labels.values():
            self.label_overlay.RemoveActor(actor)
            self._label_sizes.pop(id(actor), None)
        self.labels = {}
        paths: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        fills: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        ends: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        halos: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        for m in self.items:
            if not m.visible:
                continue
            m = self.drawn_as(m)
            colour = KIND_COLOURS.get(m.kind, (255, 255, 0))
            halo = HIGHLIGHT if m.id == self.highlighted else HALO
            lines, anchor = measurement_paths(m)
            paths.extend((line, colour) for line in lines)
            halos.extend((line, halo) for line in lines)
            if m.kind == "area":
                fills.append((m.array, colour))
            ends.append((m.array if m.kind != "object-height" else m.array[:2], colour))
            label = self._label(measurement_label(m, self.unit), anchor, colour)
            self.labels[m.id] = label
        self._set_lines(self._lines, paths)
        self._set_lines(self._halo, halos)
        self._set_polygons(self._fill, fills)
        self._set_vertices(self._points, ends)
        self._request_render()

    def _build_draft(self) -> None:
        if self.draft_label is not None:
            self.label_overlay.RemoveActor(self.draft_label)
            self._label_sizes.pop(id(self.draft_label), None)
            self.draft_label = None
        if self._draft is None:
            self._set_lines(self._draft_lines, [])
            self._set_vertices(self._draft_points, [])
            return
        kind, pts = self._draft
        colour = KIND_COLOURS.get(kind, (255, 255, 0))
        path = np.vstack([pts, pts[:1]]) if kind == "area" and len(pts) >= 3 else pts
        self._set_lines(self._draft_lines, [(path, colour)] if len(path) >= 2 else [])
        self._set_vertices(self._draft_points, [(pts, (255, 255, 255))])
        if len(pts) >= MIN_POINTS.get(kind, 2) and (kind != "height" or len(pts) == 2):
            try:
                m = make_measurement(kind, pts)
            except ValueError:
                return
            _, anchor = measurement_paths(m)
            self.draft_label = self._label(measurement_label(m, self.unit), anchor, colour)

    def _label(self, text: str, anchor: np.ndarray, colour: tuple[int, int, int]) -> vtkBillboardTextActor3D:
        actor = vtkBillboardTextActor3D()
        actor.SetInput(text)
        local = np.asarray(anchor, np.float64) - self.origin
        actor.SetPosition(*(float(v) for v in local))
        actor.SetDisplayOffset(0, LABEL_OFFSET_PX)
        actor.PickableOff()
        tp = actor.GetTextProperty()
        tp.SetFontSize(FONT_SIZE)
        tp.BoldOn()
        tp.SetColor(1.0, 1.0, 1.0)
        tp.SetBackgroundColor(0.08, 0.08, 0.1)
        tp.SetBackgroundOpacity(0.78)
        tp.FrameOn()
        tp.SetFrameColor(*(c / 255 for c in colour))
        tp.SetFrameWidth(2)
        tp.SetJustificationToCentered()
        tp.SetVerticalJustificationToBottom()
        self._label_sizes[id(actor)] = _text_size(tp, text, self._dpi())
        self.label_overlay.AddActor(actor)
        return actor

    def _dpi(self) -> int:
        window = self.renderer.GetRenderWindow()
        return int(window.GetDPI()) if window is not None else 72

    def _local(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, np.float64).reshape(-1, 3) - self.origin).astype(np.float32)

    def _set_lines(self, actor: vtkActor, paths: list[tuple[np.ndarray, tuple[int, int, int]]]) -> None:
        pd = vtkPolyData()
        if paths:
            pd.SetPoints(_points(np.concatenate([self._local(p) for p, _ in paths])))
            pd.SetLines(_cells([len(p) for p, _ in paths]))
            pd.GetCellData().SetScalars(_colours([c for _, c in paths]))
        actor.GetMapper().SetInputData(pd)
        actor.SetVisibility(bool(paths))

    def _set_vertices(self, actor: vtkActor, groups: list[tuple[np.ndarray, tuple[int, int, int]]]) -> None:
        pd = vtkPolyData()
        groups = [(p, c) for p, c in groups if len(p)]
        if groups:
            pts = np.concatenate([self._local(p) for p, _ in groups])
            pd.SetPoints(_points(pts))
            pd.SetVerts(_cells([1] * len(pts)))
            pd.GetCellData().SetScalars(_colours([c for p, c in groups for _ in range(len(p))]))
        actor.GetMapper().SetInputData(pd)
        actor.SetVisibility(bool(groups))

    def _set_polygons(self, actor: vtkActor, polygons: list[tuple[np.ndarray, tuple[int, int, int]]]) -> None:
        pd = vtkPolyData()
        if polygons:
            pd.SetPoints(_points(np.concatenate([self._local(p) for p, _ in polygons])))
            pd.SetPolys(_cells([len(p) for p, _ in polygons]))
            pd.GetCellData().SetScalars(_colours([c for _, c in polygons]))
            tri = vtkTriangleFilter()  # concave outlines: triangulated, not drawn as a fan
            tri.SetInputData(pd)
            tri.Update()
            pd = tri.GetOutput()
        actor.GetMapper().SetInputData(pd)
        actor.SetVisibility(bool(polygons))


def _text_size(prop: Any, text: str, dpi: int) -> tuple[float, float]:
    """Width and height in pixels of a label (its text, padding and frame)."""
    from vtkmodules.vtkRenderingCore import vtkTextRenderer

    renderer = vtkTextRenderer.GetInstance()
    bbox = [0, 0, 0, 0]
    if renderer is None or not text or not renderer.GetBoundingBox(prop, text, bbox, dpi):
        lines = text.split("\n")
        return (0.6 * FONT_SIZE * max(len(line) for line in lines) + 2 * LABEL_PAD_PX, 1.25 * FONT_SIZE * len(lines))
    return (float(bbox[1] - bbox[0] + 1 + 2 * LABEL_PAD_PX), float(bbox[3] - bbox[2] + 1 + 2 * LABEL_PAD_PX))


def _points(pts: np.ndarray) -> vtkPoints:
    out = vtkPoints()
    out.SetData(numpy_to_vtk(np.ascontiguousarray(pts, np.float32), deep=True))
    return out


def _cells(sizes: list[int]) -> vtkCellArray:
    """Cells over consecutive points: the first ``sizes[0]`` points, then the next ``sizes[1]`` …"""
    offsets = np.concatenate([[0], np.cumsum(np.asarray(sizes, np.int64))])
    cells = vtkCellArray()
    cells.SetData(
        numpy_to_vtkIdTypeArray(offsets, deep=True),
        numpy_to_vtkIdTypeArray(np.arange(offsets[-1], dtype=np.int64), deep=True),
    )
    return cells


def _colours(colours: list[tuple[int, int, int]]):
    arr = numpy_to_vtk(np.asarray(colours, np.uint8).reshape(-1, 3), deep=True)
    arr.SetName("colours")
    return arr
