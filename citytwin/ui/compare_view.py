"""Compare two states of the city in one view: a swipe between the scenario shown and another.

View → Compare Scenarios… splits the 3D view at a movable line: left of it the state the
window shows (the existing city or the current scenario), right of it another state. Both
halves are one picture: the right half is a second VTK renderer with its own copy of the
layers' meshes (:class:`~citytwin.render.scene_view.SceneView` off the same scene), a copy of
the camera made before every frame, and each half's projection shifted
(``vtkCamera.SetWindowCenter``) so that the two line up pixel for pixel across the line.
While comparing, the look leaves out ambient occlusion and shadows (render passes draw in
one renderer only, and the halves must match).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QSlider

__all__ = ["CompareView", "install_compare", "window_centre"]


def window_centre(a: float, b: float) -> float:
    """Horizontal ``vtkCamera`` window centre for a renderer covering ``[a, b]`` of the window's width,
    so that it draws its part of the whole window's picture (same scale, same centre)."""
    return (a + b - 1.0) / (b - a)


class CompareView(QObject):
    """The swipe comparison of one window (``window.compare``).

    Signals
    -------
    active_changed(bool)
    """

    active_changed = Signal(bool)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.scene = window.scene
        self.viewport = window.viewport
        self.renderer2: Any = None
        self.view2: Any = None
        self.other: str | None = None  # the scenario id on the right (None: the existing city)
        self.split = 0.5
        self._observer: int | None = None
        self._camera2: Any = None
        self._a1, self._b1, self._a2, self._b2 = 0.0, 0.5, 0.5, 1.0

    @property
    def active(self) -> bool:
        """Whether the view is split."""
        return self.renderer2 is not None

    def start(self, other: str | None, split: float = 0.5) -> None:
        """Split the view: the state shown on the left, ``other`` (a scenario id, or None) on the right."""
        from vtkmodules.vtkRenderingCore import vtkCamera, vtkRenderer

        from citytwin.render.scene_view import SceneView
        from citytwin.render.sun_hours import map_look

        if self.active:
            self.set_other(other)
            self.set_split(split)
            return
        vp = self.viewport
        ren1 = vp.renderer
        ren2 = vtkRenderer()
        ren2.InteractiveOff()  # drags anywhere turn the one camera (the left renderer's)
        ren2.SetLayer(0)
        self._camera2 = vtkCamera()
        ren2.SetActiveCamera(self._camera2)
        vp.plotter.render_window.AddRenderer(ren2)
        self.renderer2 = ren2
        self.view2 = SceneView(self.scene, ren2, follow=False)
        self._previous_filter = vp.look_filter
        vp.look_filter = map_look  # no passes: they would draw in one half only
        vp.apply_look()
        self._rig2: Any = None
        self._apply_look2()
        self.scene.settings_changed.connect(self._on_settings)
        self.split = float(split)
        self._layout()
        self._observer = ren1.AddObserver("StartEvent", self._sync)
        self.set_other(other)
        self.scene.layers.events.inserted.connect(self._stop_on_change)
        self.scene.layers.events.removed.connect(self._stop_on_change)
        self.active_changed.emit(True)
        vp.request_render()

    def _stop_on_change(self, *_: Any) -> None:
        self.stop()

    def set_other(self, other: str | None) -> None:
        """Show another state on the right."""
        self.other = other
        if self.view2 is not None:
            self.view2.show_scenario(self.scene.scenarios.by_id(other) if other else None)
            self._apply_look2()  # an added building's visual gets the look too
            self.viewport.request_render()

    def set_split(self, split: float) -> None:
        """Move the line (0–1 of the view's width)."""
        self.split = min(max(float(split), 0.02), 0.98)
        if self.active:
            self._layout()
            self.viewport.request_render()

    def _layout(self) -> None:
        s = self.split
        gap = 1.0 / max(self.viewport.plotter.width(), 1)  # a thin line between the halves
        self.viewport.renderer.SetViewport(0.0, 0.0, s - gap, 1.0)
        self.renderer2.SetViewport(s + gap, 0.0, 1.0, 1.0)
        self._a1, self._b1, self._a2, self._b2 = 0.0, s - gap, s + gap, 1.0

    def _visuals2(self) -> list[Any]:
        out = list(self.view2.visuals.values())
        added = self.view2.scenario_drawing.added_visual
        return out + ([added] if added is not None else [])

    def _apply_look2(self) -> None:
        """The same look on the right: sky, lights, materials and colour variation of its own visuals."""
        from citytwin.render.looks import apply_look, scene_sun
        from citytwin.render.sun_hours import map_look

        if self._rig2 is not None:
            self._rig2.remove()
        try:
            sun = scene_sun(self.scene)
        except ValueError:
            sun = None
        self._rig2 = apply_look(self.renderer2, map_look(self.scene.look), "draft", sun, self._visuals2())

    def _on_settings(self, name: str) -> None:
        if name in ("look", "sun") and self.active:
            self._apply_look2()
            self.viewport.request_render()

    def _sync(self, *_: Any) -> None:
        """Before each frame: the right camera is the left one, each half shifted into its place."""
        cam1 = self.viewport.renderer.GetActiveCamera()
        cam1.SetWindowCenter(window_centre(self._a1, self._b1), 0.0)
        self._camera2.DeepCopy(cam1)
        self._camera2.SetWindowCenter(window_centre(self._a2, self._b2), 0.0)
        self.renderer2.ResetCameraClippingRange()

    def stop(self) -> None:
        """Back to one view."""
        if not self.active:
            return
        vp = self.viewport
        ren1 = vp.renderer
        if self._observer is not None:
            ren1.RemoveObserver(self._observer)
            self._observer = None
        self.scene.layers.events.inserted.disconnect(self._stop_on_change)
        self.scene.layers.events.removed.disconnect(self._stop_on_change)
        self.scene.settings_changed.disconnect(self._on_settings)
        if self._rig2 is not None:
            self._rig2.remove()
            self._rig2 = None
        self.view2.close()
        rw = vp.plotter.render_window
        if rw is not None:  # gone when the window has closed
            rw.RemoveRenderer(self.renderer2)
        self.renderer2 = None
        self.view2 = None
        ren1.SetViewport(0.0, 0.0, 1.0, 1.0)
        ren1.GetActiveCamera().SetWindowCenter(0.0, 0.0)
        vp.look_filter = self._previous_filter
        vp.apply_look()
        self.active_changed.emit(False)
        vp.request_render()


def install_compare(window: Any) -> CompareView:
    """View → Compare Scenarios, and a Compare row in the Scenarios dock (the other state, the line's place);
    sets ``window.compare``. The controls live in the dock, so the view keeps its size when comparing."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QWidget

    from citytwin.ui.bookmarks_panel import _menu, _when_closed

    compare = CompareView(window)
    window.compare = compare
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    check = QCheckBox("Compare with")
    check.setToolTip("Split the view: the state shown left of a line, this state right of it")
    combo = QComboBox()
    combo.setToolTip("The state shown right of the line (left: the state the window shows)")
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(2, 98)
    slider.setValue(50)
    slider.setToolTip("Where the line is")
    slider.setEnabled(False)
    row.addWidget(check)
    row.addWidget(combo, 1)
    panel = getattr(window, "scenarios_panel", None)
    if panel is not None:
        panel.layout().addWidget(box)
        panel.layout().addWidget(slider)

    def fill() -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("Existing", None)
        for s in window.scene.scenarios:
            combo.addItem(s.name, s.id)
        k = combo.findData(current)
        combo.setCurrentIndex(max(k, 0))
        combo.blockSignals(False)

    def other_default() -> str | None:
        if window.scene.scenario_id is not None:
            return None  # a scenario shown: compare it with the existing city
        return window.scene.scenarios[0].id if len(window.scene.scenarios) else None

    act = QAction("Compare &Scenarios", window)
    act.setCheckable(True)
    act.setStatusTip("Split the view: the state shown left of a line, another state right of it")

    def toggled(on: bool) -> None:
        if on == compare.active:
            return
        if on:
            fill()
            combo.setCurrentIndex(max(combo.findData(other_default()), 0))
            compare.start(combo.currentData(), slider.value() / 100.0)
        else:
            compare.stop()

    def sync(on: bool) -> None:
        for w in (act, check):
            w.blockSignals(True)
            w.setChecked(on)
            w.blockSignals(False)
        slider.setEnabled(on)

    act.toggled.connect(toggled)
    check.toggled.connect(toggled)
    _menu(window, "View").addAction(act)
    compare.active_changed.connect(sync)
    combo.currentIndexChanged.connect(lambda *_: compare.set_other(combo.currentData()) if compare.active else None)
    slider.valueChanged.connect(lambda v: compare.set_split(v / 100.0))
    ev = window.scene.scenarios.events
    for sig in (ev.inserted, ev.removed, ev.changed):
        sig.connect(lambda *_: fill())
    fill()
    window.compare_action = act
    window.compare_check = check
    window.compare_combo = combo
    window.compare_slider = slider
    _when_closed(window, compare.stop)
    return compare
