"""The Sun Hours dock: hours of direct sun for one day, as a colour map over the view.

A planner picks a date, a time step and a grid, and optionally a layer to switch off
(a proposed tower): the computation runs on a worker thread with a progress bar and
Cancel while the window stays usable. The result is drawn over the scene (ground as a
coloured surface, facades as coloured points, a legend); with a layer to compare it is
the difference *as shown − without it* (red: sun the layer takes away). It can be
exported as a still (File → Export Image's machinery) or as CSV. While a map is shown
the view drops shadows and ambient occlusion: a shadow of one moment would mislead
over a map of the whole day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QDate, QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from citytwin.errors import CityTwinError
from citytwin.ui.workers import JobThread

#: the time steps offered, in minutes
STEPS = (5, 10, 15, 30, 60)
#: the first entry of the comparison box: no comparison
NO_COMPARISON = "— nothing (hours as shown) —"


def _SunHoursThread(job: Any, parent: QObject | None = None) -> JobThread:  # noqa: N802 - a thread class
    """A :class:`~citytwin.ui.workers.JobThread` for sun hours (cancelled by ``SunHoursCancelled``)."""
    from citytwin.render.sun_hours import SunHoursCancelled

    memory = "There is not enough memory for sun hours on this grid; choose a coarser one."
    return JobThread(job, parent, cancelled_types=(SunHoursCancelled,), what="The sun-hours computation",
                     memory_message=memory)  # fmt: skip


class SunHoursPanel(QWidget):
    """Date, step, grid, facades and a layer to compare without; Compute, Clear, Export.

    Signals
    -------
    finished(str)
        After a computation: ``""`` when a result is shown, else the sentence said (empty
        sentence and no result: cancelled).

    Attributes
    ----------
    result
        The :class:`~citytwin.render.sun_hours.SunHours` shown (a difference when compared), or ``None``.
    """

    finished = Signal(str)

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.scene = window.scene
        self.result: Any = None
        self.thread: JobThread | None = None

        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setDate(QDate(date.today().year, 3, 21))
        self.date_edit.setToolTip("The day (the calendar day at the scene's place)")
        self.step_combo = QComboBox()
        for m in STEPS:
            self.step_combo.addItem(f"{m} min", m)
        self.step_combo.setCurrentIndex(STEPS.index(15))
        self.grid_spin = QDoubleSpinBox()
        self.grid_spin.setRange(0.5, 50.0)
        self.grid_spin.setSingleStep(0.5)
        self.grid_spin.setValue(2.0)
        self.grid_spin.setSuffix(" m")
        self.grid_spin.setToolTip("Spacing of the ground grid; facades get about one point per grid²")
        self.facades_check = QCheckBox("Facades too")
        self.facades_check.setChecked(True)
        self.compare_combo = QComboBox()
        self.compare_combo.setToolTip(
            "Also compute with this layer switched off and show the difference (red: sun the layer takes away)"
        )
        form = QFormLayout()
        form.addRow("Date", self.date_edit)
        form.addRow("Time step", self.step_combo)
        form.addRow("Grid", self.grid_spin)
        form.addRow("", self.facades_check)
        form.addRow("Compare without", self.compare_combo)

        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        row = QHBoxLayout()
        for b in (self.compute_button, self.cancel_button, self.clear_button):
            row.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.export_image_button = QPushButton("Export Image…")
        self.export_image_button.clicked.connect(self.ask_export_image)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.clicked.connect(self.ask_export_csv)
        row2 = QHBoxLayout()
        row2.addWidget(self.export_image_button)
        row2.addWidget(self.export_csv_button)

        box = QVBoxLayout(self)
        box.addWidget(self.reason)
        box.addLayout(form)
        box.addLayout(row)
        box.addWidget(self.progress)
        box.addWidget(self.summary)
        box.addLayout(row2)
        box.addStretch(1)

        self.scene.layers.events.inserted.connect(self._refresh)
        self.scene.layers.events.removed.connect(self._refresh)
        self.scene.settings_changed.connect(self._on_settings)
        self._refresh()

    # ------------------------------------------------------------------ state
    def _visible_layers(self) -> list[Any]:
        return [layer for layer in self.scene.layers if getattr(layer, "visible", True)]

    def _refresh(self, *_: Any) -> None:
        from citytwin.model.sun import sun_unavailable_reason

        if not self.scene.layers:
            reason = "Open a georeferenced file to compute sun hours."
        else:
            reason = sun_unavailable_reason(self.scene)
        self.reason.setText(reason or "")
        self.reason.setVisible(bool(reason))
        current = self.compare_combo.currentText()
        self.compare_combo.clear()
        self.compare_combo.addItem(NO_COMPARISON, None)
        for layer in self.scene.layers:
            self.compare_combo.addItem(layer.name, layer.name)
        k = self.compare_combo.findText(current)
        self.compare_combo.setCurrentIndex(max(k, 0))
        self._update_buttons(available=reason is None)

    def _update_buttons(self, available: bool | None = None) -> None:
        if available is None:
            available = not self.reason.isVisible()
        running = self.thread is not None
        self.compute_button.setEnabled(available and not running)
        self.cancel_button.setVisible(running)
        self.clear_button.setEnabled(self.result is not None and not running)
        self.export_image_button.setEnabled(self.result is not None and not running)
        self.export_csv_button.setEnabled(self.result is not None and not running)
        for w in (self.date_edit, self.step_combo, self.grid_spin, self.facades_check, self.compare_combo):
            w.setEnabled(not running)

    def _on_settings(self, name: str) -> None:
        if name == "sun" and self.scene.sun is not None and self.result is None:
            d = self.scene.sun.date()
            self.date_edit.setDate(QDate(d.year, d.month, d.day))

    @property
    def day(self) -> date:
        """The chosen date."""
        q = self.date_edit.date()
        return date(q.year(), q.month(), q.day())

    # ------------------------------------------------------------------ computing
    def compute(self) -> None:
        """Start a computation with the chosen settings on a worker thread."""
        from citytwin.model.sun import scene_lonlat, sun_unavailable_reason
        from citytwin.render.sun_hours import compare_sun_hours, sun_hours

        if self.thread is not None:
            return
        lonlat = scene_lonlat(self.scene)
        if lonlat is None:
            self._say(sun_unavailable_reason(self.scene) or "The scene has no place on Earth.")
            return
        # the worker reads a fixed list of layers: the scene may change while it runs
        state = SimpleNamespace(layers=self._visible_layers())
        day = self.day
        options = {
            "grid": float(self.grid_spin.value()),
            "step_minutes": float(self.step_combo.currentData()),
            "facades": self.facades_check.isChecked(),
            "lonlat": lonlat,
        }
        without = self.compare_combo.currentData()

        def job(thread: JobThread) -> Any:
            def progress(done: int, total: int) -> None:
                thread.progressed.emit(done, total)

            cancel = thread.cancel_event.is_set
            if without:
                return compare_sun_hours(state, day, [without], progress=progress, cancel=cancel, **options)[2]
            return sun_hours(state.layers, day, progress=progress, cancel=cancel, **options)

        thread = _SunHoursThread(job, self)
        thread.progressed.connect(self._on_progress)
        thread.done.connect(self._on_done)
        thread.failed.connect(self._on_failed)
        self.thread = thread
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        what = f"without {without}" if without else "as shown"
        self.summary.setText(f"Computing sun hours on {day:%d %b %Y} ({what})…")
        self._update_buttons()
        thread.start()

    def cancel(self) -> None:
        """Stop a running computation after the time step it is on."""
        if self.thread is not None:
            self.thread.cancel_event.set()

    def wait(self, timeout_ms: int = 120_000) -> None:
        """Block until a running computation has finished (tests, closing the window)."""
        if self.thread is not None:
            self.thread.wait(timeout_ms)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _finish(self) -> float:
        seconds = 0.0
        if self.thread is not None:
            seconds = self.thread.seconds
            self.thread.wait()
            self.thread.deleteLater()
            self.thread = None
        self.progress.setVisible(False)
        return seconds

    def _on_done(self, result: Any) -> None:
        seconds = self._finish()
        self.show_result(result)
        self.window.statusBar().showMessage(f"Sun hours computed in {seconds:.1f} s.", 8000)
        self.finished.emit("")

    def _on_failed(self, sentence: str) -> None:
        self._finish()
        if sentence:
            self._say(sentence)
            self.summary.setText(sentence)
        else:
            self.summary.setText("Cancelled; the view is as it was.")
        self._update_buttons()
        self.finished.emit(sentence)

    def _say(self, sentence: str) -> None:
        error = getattr(self.window, "_error", None)
        if callable(error):
            error(sentence)
        else:
            self.window.statusBar().showMessage(sentence, 8000)

    # ------------------------------------------------------------------ showing
    def show_result(self, result: Any) -> None:
        """Draw ``result`` over the view (replacing one shown) and say what it shows."""
        from citytwin.render.sun_hours import add_sun_hours, map_look, remove_sun_hours

        vp = self.window.viewport
        remove_sun_hours(vp.plotter)
        self.result = result
        vp.look_filter = map_look  # first: a shadow pass cannot draw the map's points
        vp.apply_look()
        add_sun_hours(vp.plotter, result, vp.origin)
        vp.request_render()
        text = result.describe()
        if any(getattr(layer, "cloud", None) is not None for layer in self._visible_layers()):
            text += " Point clouds are not counted: only surfaces cast shadows here."
        self.summary.setText(text)
        self._update_buttons()

    def clear(self) -> None:
        """Take the map off the view; the look comes back."""
        from citytwin.render.sun_hours import remove_sun_hours

        vp = self.window.viewport
        remove_sun_hours(vp.plotter)
        self.result = None
        vp.look_filter = None
        vp.apply_look()
        self.summary.setText("")
        self._update_buttons()

    # ------------------------------------------------------------------ exporting
    def ask_export_image(self) -> None:
        """Ask for a file name and export the view with the map and its legend."""
        if self.result is None:
            return
        name = f"sun-hours-{self.result.day:%Y-%m-%d}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Export Sun Hours Image", name,
                                              "PNG image (*.png);;JPEG image (*.jpg *.jpeg)")  # fmt: skip
        if path:
            self.export_image(Path(path))

    def export_image(self, path: Path, size: tuple[int, int] | None = None) -> None:
        """Write a still of the view with the map (through the window's exporter, on its worker thread)."""
        from citytwin.render.sun_hours import add_sun_hours, map_look
        from citytwin.ui.export_dialogs import ImageRequest

        result = self.result
        exporter = self.window.exporter
        if size is None:
            size = exporter._window_size()
        font = max(12, size[1] // 60)

        def decorate(off: Any) -> None:
            add_sun_hours(off.plotter, result, off.origin, font_size=font)

        exporter.export_image(
            ImageRequest(Path(path), size, overlays=True, decorate=decorate, look=map_look(self.scene.look))
        )

    def ask_export_csv(self) -> None:
        """Ask for a file name and write every sample point and its hours."""
        if self.result is None:
            return
        name = f"sun-hours-{self.result.day:%Y-%m-%d}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export Sun Hours", name, "CSV (*.csv)")
        if not path:
            return
        try:
            self.result.to_csv(path)
        except CityTwinError as exc:
            self._say(str(exc))
            return
        self.window.statusBar().showMessage(f"Saved {Path(path).name}.", 8000)

    def shutdown(self) -> None:
        """Stop a running computation and stop following the scene."""
        self.cancel()
        self.wait()
        self.scene.layers.events.inserted.disconnect(self._refresh)
        self.scene.layers.events.removed.disconnect(self._refresh)
        self.scene.settings_changed.disconnect(self._on_settings)


def install_sun_hours(window: Any) -> SunHoursPanel:
    """Add the Sun Hours dock (tabbed with the item docks) and its View menu entry; sets ``window.sun_hours_panel``."""
    from PySide6.QtWidgets import QFrame, QScrollArea

    from citytwin.ui.bookmarks_panel import _menu, _when_closed
    from citytwin.ui.item_panels import item_dock

    panel = SunHoursPanel(window)
    scroll = QScrollArea()  # the form never widens the right column (the view keeps its size)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(panel)
    dock = item_dock(window, "Sun Hours", "sun_hours_dock", scroll)
    _menu(window, "View").addAction(dock.toggleViewAction())
    window.sun_hours_panel = panel
    window.sun_hours_dock = dock
    _when_closed(window, panel.shutdown)
    return panel


__all__ = ["SunHoursPanel", "install_sun_hours"]
