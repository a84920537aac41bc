"""Measuring in the 3D view: distance, height difference, area and object height.

:class:`MeasureTool` watches the view's mouse and keys while a kind is chosen
(Tools → Measure, the Measure toolbar or the Measurements dock):

* **Distance**: click points on any surface or point cloud; double-click or
  Enter finishes. The label shows the 3D length and the horizontal one.
* **Height difference**: two clicks.
* **Area**: click a polygon's points (double-click or Enter finishes), or
  Shift+click a surface to take that polygon's area (3D and projected).
* **Object height**: click an object; its height is read from the model (the
  same figure the Inspector shows).

A click snaps to a vertex of the surface under the cursor within
:data:`SNAP_PX` pixels (hold Alt not to snap); on a point cloud it takes the
picked point itself. Backspace drops the last point, Escape the measurement
being clicked (and, with none, leaves the tool). Dragging still orbits and pans.
A finished measurement is an undoable ``scene.add_item``; the visual follows
``scene.measurements``.

Points are world coordinates of the CRS the scene is drawn in
(``scene.display_crs``: the file's own CRS when it is projected, the UTM zone of
a latitude/longitude file), so lengths come out in its unit (metres for
latitude/longitude); each measurement names that CRS (``Measurement.crs``), so a
project reopens it at the same place whatever the scene is drawn in then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow

from citytwin.model.annotations import Measurement, make_measurement
from citytwin.model.layers import CityModelLayer
from citytwin.model.measure_units import KIND_COLOURS, KIND_NAMES, default_title, length_unit, measurement_label
from citytwin.model.scene import Scene
from citytwin.render.measurements_visual import MIN_POINTS, MeasurementsVisual
from citytwin.render.pointcloud_visual import PointPickResult
from citytwin.ui.selection import selectable_object
from citytwin.ui.view_clicks import ViewClicks

if TYPE_CHECKING:
    from citytwin.ui.viewport import Viewport

#: a click lands on a surface vertex this close to it (logical pixels)
SNAP_PX = 10.0
#: polygons with more vertices than this snap to the picked triangle's corners only
MAX_SNAP_CANDIDATES = 4096
KINDS = ("distance", "height", "area", "object-height")

_HINTS = {
    "distance": "Distance: click points on surfaces or points; double-click or Enter finishes",
    "height": "Height difference: click the lower and the upper point",
    "area": "Area: click the outline's points, double-click or Enter finishes; Shift+click a surface takes its area",
    "object-height": "Object height: click a building or another object",
}


def source_id(layer: Any) -> str | None:
    """The project source id of a layer (its name when it has no source)."""
    source = getattr(layer, "source", None)
    return getattr(source, "id", None) or getattr(layer, "name", None)


def polygon_vertices(mesh: Any, triangle: int) -> np.ndarray:
    """``(K, 3)`` float64 vertices of the polygon a triangle belongs to (every ring)."""
    poly = int(mesh.tri_polygon[triangle])
    r0, r1 = int(mesh.polygon_rings[poly]), int(mesh.polygon_rings[poly + 1])
    v0, v1 = int(mesh.ring_offsets[r0]), int(mesh.ring_offsets[r1])
    if v1 - v0 > MAX_SNAP_CANDIDATES:
        return np.asarray(mesh.vertices[mesh.triangles[triangle]], np.float64)
    return np.asarray(mesh.vertices[v0:v1], np.float64)


def polygon_exterior(mesh: Any, triangle: int) -> np.ndarray:
    """``(K, 3)`` float64 exterior ring of the polygon a triangle belongs to."""
    poly = int(mesh.tri_polygon[triangle])
    ring = int(mesh.polygon_rings[poly])
    v0, v1 = int(mesh.ring_offsets[ring]), int(mesh.ring_offsets[ring + 1])
    return np.asarray(mesh.vertices[v0:v1], np.float64)


class MeasureTool(QObject):
    """Turns clicks in the view into measurements while a kind is chosen.

    Signals
    -------
    mode_changed(kind or None)
        The tool was chosen or left.
    hint_changed(str)
        What to do next (or what went wrong), for the status bar.
    measured(Measurement)
        A measurement was added to the scene.
    """

    mode_changed = Signal(object)
    hint_changed = Signal(str)
    measured = Signal(object)

    def __init__(self, scene: Scene, viewport: Viewport, visual: MeasurementsVisual, parent=None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.viewport = viewport
        self.visual = visual
        self.points: list[np.ndarray] = []
        self._mode: str | None = None
        self._clicks = ViewClicks(viewport)
        self._hover: np.ndarray | None = None
        self.hint = ""
        viewport.plotter.installEventFilter(self)
        viewport.hovered.connect(self._on_hovered)

    def shutdown(self) -> None:
        """Stop watching the view."""
        self.viewport.plotter.removeEventFilter(self)
        self.viewport.hovered.disconnect(self._on_hovered)

    # ------------------------------------------------------------------ mode
    @property
    def mode(self) -> str | None:
        """The kind being measured, or ``None`` when the tool is off."""
        return self._mode

    def set_mode(self, kind: str | None) -> None:
        """Choose what to measure (``None`` leaves the tool)."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        self.points = []
        self._clicks.forget()
        if kind == self._mode:
            self._show_draft()
            return
        self._mode = kind
        plotter = self.viewport.plotter
        if kind is None:
            plotter.unsetCursor()
        else:
            plotter.setCursor(Qt.CursorShape.CrossCursor)
            plotter.setFocus(Qt.FocusReason.OtherFocusReason)
        self._show_draft()
        self._set_hint(_HINTS.get(kind, "") if kind else "")
        self.mode_changed.emit(kind)

    def _set_hint(self, text: str) -> None:
        self.hint = text
        self.hint_changed.emit(text)

    # ------------------------------------------------------------------ events
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if self._mode is None or obj is not self.viewport.plotter:
            return False
        t = event.type()
        if t == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._clicks.press(event)
            return False
        if t == QEvent.Type.MouseButtonDblClick and event.button() == Qt.MouseButton.LeftButton:
            self._clicks.forget()  # its first click added the point: the second finishes
            if self._mode in ("distance", "area"):
                self.finish()
            return True
        if t == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            at = self._clicks.click(obj, event)
            if at is None:
                return False  # the end of an orbit or pan
            mods = event.modifiers()
            self.click(
                *at,
                shift=bool(mods & Qt.KeyboardModifier.ShiftModifier),
                snap=not bool(mods & Qt.KeyboardModifier.AltModifier),
            )
            return True
        # the view takes these keys from the window's shortcuts (Escape: clear selection)
        return self._clicks.take_key(event, self.key, plain_only=True)

    def key(self, key: int) -> None:
        """Enter finishes, Backspace drops the last point, Escape drops the draft (or leaves the tool)."""
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish()
        elif key == Qt.Key.Key_Backspace:
            if self.points:
                self.points.pop()
                self._show_draft()
        elif key == Qt.Key.Key_Escape:
            if self.points:
                self.cancel()
            else:
                self.set_mode(None)

    def _on_hovered(self, world: Any) -> None:
        self._hover = None if world is None else np.asarray(world, np.float64)
        if self.points and self._mode in ("distance", "height", "area"):
            self._show_draft()

    # ------------------------------------------------------------------ clicks
    def click(self, qx: float, qy: float, shift: bool = False, snap: bool = True) -> Measurement | None:
        """A click at a view position (Qt logical pixels); returns the measurement when it finished one."""
        kind = self._mode
        if kind is None:
            return None
        layer, hit = self.viewport.pick_qt(qx, qy)
        if kind == "object-height":
            return self._object_height(layer, hit)
        if kind == "area" and shift:
            return self._surface_area(layer, hit)
        if hit is None:
            self._set_hint("Nothing there: click on a surface or a point")
            return None
        self.points.append(self.snap_point(layer, hit, qx, qy, snap))
        if kind == "height" and len(self.points) == 2:
            return self.finish()
        self._show_draft()
        n = len(self.points)
        need = MIN_POINTS[kind]
        more = f"{need - n} more point{'s' if need - n > 1 else ''} needed" if n < need else "Enter finishes"
        self._set_hint(f"{KIND_NAMES[kind]}: {n} point{'s' if n > 1 else ''} ({more}; Backspace drops the last)")
        return None

    def snap_point(self, layer: Any, hit: Any, qx: float, qy: float, snap: bool = True) -> np.ndarray:
        """World point of a pick: the picked cloud point, or the surface vertex within :data:`SNAP_PX`."""
        o = self.viewport.origin
        point = np.asarray(hit.position, np.float64) + o
        if isinstance(hit, PointPickResult):  # the picked point itself, as read (float64)
            cloud = getattr(layer, "display_model", None)
            return np.asarray(cloud.point(int(hit.index)), np.float64) if hasattr(cloud, "point") else point
        if not snap:
            return point
        candidates = self._snap_candidates(layer, hit, qx, qy)
        if len(candidates) == 0:
            return point
        screen = np.array([self.viewport.world_to_qt(v) for v in candidates], np.float64)
        d = np.hypot(screen[:, 0] - qx, screen[:, 1] - qy)
        if d.min() > SNAP_PX:
            return point
        # of the vertices as near as the nearest (a roof corner above a wall's foot), the one in front
        near = np.flatnonzero(d <= d.min() + 1.0)
        eye = np.asarray(self.viewport.current_pose().position, np.float64) + o
        best = near[np.argmin(np.linalg.norm(candidates[near] - eye, axis=1))]
        return np.array(candidates[best], np.float64)

    def _snap_candidates(self, layer: Any, hit: Any, qx: float, qy: float) -> np.ndarray:
        """Vertices of the polygons under the click and around it (a click just off a roof corner finds it)."""
        found: list[np.ndarray] = []
        seen: set[tuple[int, int]] = set()
        picks = [(layer, hit)]
        for radius in (SNAP_PX * 0.4, SNAP_PX * 0.8):
            for k in range(8):
                a = k * np.pi / 4
                picks.append(self.viewport.pick_qt(qx + radius * np.cos(a), qy + radius * np.sin(a)))
        for lyr, h in picks:
            model = getattr(lyr, "display_model", None)
            triangle = getattr(h, "triangle", -1)
            if model is None or h is None or triangle is None or not 0 <= triangle < model.mesh.n_triangles:
                continue
            key = (id(lyr), int(model.mesh.tri_polygon[triangle]))
            if key not in seen:
                seen.add(key)
                found.append(polygon_vertices(model.mesh, int(triangle)))
        return np.concatenate(found) if found else np.zeros((0, 3))

    def _object_height(self, layer: Any, hit: Any) -> Measurement | None:
        if not isinstance(layer, CityModelLayer) or hit is None or isinstance(hit, PointPickResult) or hit.object < 0:
            self._set_hint("Object height: click a building or another object")
            return None
        from citytwin.ui.object_stats import object_bounds

        index = selectable_object(layer, int(hit.object))
        model = layer.display_model if layer.display_model is not None else layer.model
        bounds = object_bounds(model, index, layer.lod)
        if bounds is None:
            self._set_hint("This object has no geometry to measure")
            return None
        p = np.asarray(hit.position, np.float64) + self.viewport.origin
        name = layer.model.objects.ids[index]
        m = make_measurement(
            "object-height",
            [(p[0], p[1], bounds[2]), (p[0], p[1], bounds[5])],
            title=name,
            object_id=name,
            source=source_id(layer),
            value=float(bounds[5] - bounds[2]),
            crs=self.crs_code,
        )
        return self._add(m)

    def _surface_area(self, layer: Any, hit: Any) -> Measurement | None:
        model = getattr(layer, "display_model", None)
        if model is None or hit is None or isinstance(hit, PointPickResult) or getattr(hit, "triangle", -1) < 0:
            self._set_hint("Area: Shift+click a surface (a roof, a wall) to take its area")
            return None
        ring = polygon_exterior(model.mesh, int(hit.triangle))
        if len(ring) < 3:
            return None
        obj = int(hit.object)
        object_id = layer.model.objects.ids[obj] if 0 <= obj < len(layer.model.objects) else None
        title = default_title("area", self.scene.measurements)
        m = make_measurement("area", ring, title=title, object_id=object_id, source=source_id(layer), crs=self.crs_code)
        return self._add(m)

    @property
    def crs_code(self) -> str | None:
        """The CRS of the points clicked: the one the scene is drawn in (``"EPSG:32654"``), ``None`` when unknown."""
        crs = self.scene.display_crs
        return None if crs is None else crs.code

    # ------------------------------------------------------------------ finishing
    def finish(self) -> Measurement | None:
        """Add the measurement being clicked (when it has enough points)."""
        kind = self._mode
        if kind is None or kind == "object-height":
            return None
        pts = _without_repeats(self.points)
        if len(pts) < MIN_POINTS[kind]:
            self._set_hint(f"{KIND_NAMES[kind]}: at least {MIN_POINTS[kind]} points are needed")
            return None
        try:
            m = make_measurement(kind, pts, title=default_title(kind, self.scene.measurements), crs=self.crs_code)
        except ValueError as exc:
            self._set_hint(str(exc))
            return None
        self.points = []
        return self._add(m)

    def cancel(self) -> None:
        """Drop the points clicked so far."""
        self.points = []
        self._show_draft()
        if self._mode:
            self._set_hint(_HINTS[self._mode])

    def _add(self, m: Measurement) -> Measurement:
        self.scene.add_item(m)
        self._show_draft()
        unit = length_unit(self.scene.display_crs)
        self._set_hint(f"{KIND_NAMES[m.kind]}: {measurement_label(m, unit).replace(chr(10), ', ')}")
        self.measured.emit(m)
        return m

    def _show_draft(self) -> None:
        if not self.points or self._mode is None:
            self.visual.set_draft(None)
            return
        pts = list(self.points)
        if self._hover is not None and self._mode in ("distance", "area", "height"):
            pts.append(self._hover)
        self.visual.set_draft(self._mode, pts)


def _without_repeats(points: list[np.ndarray]) -> list[np.ndarray]:
    """Consecutive duplicates dropped (a double-click's two clicks on one spot)."""
    out: list[np.ndarray] = []
    for p in points:
        if not out or float(np.linalg.norm(p - out[-1])) > 1e-9:
            out.append(p)
    return out


# ---------------------------------------------------------------------------- installing
def install_measurements(window: QMainWindow) -> MeasureTool:
    """Add measuring to the main window: the visual, the tool, Tools → Measure, a toolbar and the dock.

    Sets ``window.measurements_visual``, ``window.measure_tool``,
    ``window.measure_actions`` (kind → checkable action), ``window.measurements_panel``
    and ``window.measurements_dock``.
    """
    from citytwin.ui.bookmarks_panel import _menu, _when_closed
    from citytwin.ui.item_panels import item_dock
    from citytwin.ui.measurements_panel import MeasurementsPanel, _swatch

    scene, viewport = window.scene, window.viewport
    visual = MeasurementsVisual(
        scene.measurements,
        viewport.plotter,
        viewport.origin,
        length_unit(scene.display_crs),
        viewport.request_render,
        display_crs=lambda: scene.display_crs,
    )
    tool = MeasureTool(scene, viewport, visual, window)

    def follow_scene(*_: Any) -> None:
        visual.set_unit(length_unit(scene.display_crs))
        if not np.array_equal(visual.origin, viewport.origin):
            visual.set_origin(viewport.origin)
        else:
            visual.update()  # the CRS the scene is drawn in may be known now

    scene.origin_changed.connect(follow_scene)
    scene.layers.events.inserted.connect(follow_scene)

    group = QActionGroup(window)
    group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
    actions: dict[str, QAction] = {}
    shortcuts = {"distance": "M"}
    for kind in KINDS:
        act = QAction(_swatch(KIND_COLOURS[kind]), KIND_NAMES[kind], window)
        act.setCheckable(True)
        act.setStatusTip(_HINTS[kind])
        act.setToolTip(_HINTS[kind])
        if kind in shortcuts:
            act.setShortcut(QKeySequence(shortcuts[kind]))
        act.toggled.connect(lambda on, k=kind: tool.set_mode(k) if on else (tool.mode == k and tool.set_mode(None)))
        group.addAction(act)
        actions[kind] = act

    def sync(kind: str | None) -> None:
        # not blocked: other tools (Place Pin) switch themselves off when a measuring action is checked
        for k, act in actions.items():
            if act.isChecked() != (k == kind):
                act.setChecked(k == kind)

    tool.mode_changed.connect(sync)
    status = window.statusBar()
    tool.hint_changed.connect(lambda text: status.showMessage(text) if text else status.clearMessage())

    menu = _menu(window, "Tools").addMenu("&Measure")
    for act in actions.values():
        menu.addAction(act)
    menu.addSeparator()
    stop = QAction("Stop Measuring", window)
    stop.triggered.connect(lambda *_: tool.set_mode(None))
    menu.addAction(stop)
    bar = window.addToolBar("Measure")
    bar.setObjectName("measure_toolbar")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for act in actions.values():
        bar.addAction(act)

    panel = MeasurementsPanel(scene, viewport, tool, visual, actions)
    dock = item_dock(window, "Measurements", "measurements_dock", panel)
    _menu(window, "View").addAction(dock.toggleViewAction())

    window.measurements_visual = visual
    window.measure_tool = tool
    window.measure_actions = actions
    window.measurements_panel = panel
    window.measurements_dock = dock

    def cleanup() -> None:
        scene.origin_changed.disconnect(follow_scene)
        scene.layers.events.inserted.disconnect(follow_scene)
        tool.shutdown()
        panel.shutdown()
        visual.remove()

    _when_closed(window, cleanup)
    return tool
