"""The look and the sun in the window: View → Look ▸ presets, View → Final Quality, and a Sun toolbar.

Every change goes through the scene's undo stack (``scene.set(scene, "look", …)``,
``scene.set(scene, "sun", …)``); the viewport follows the scene's ``settings_changed``
and redraws. The sun's date and time are the local time of the scene's place; a
scene without a place on Earth (no CRS) says why in one sentence instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QCheckBox, QDateTimeEdit, QLabel, QToolBar

from citytwin.model.looks import LOOKS

#: How the sun's date and time are shown and read back (ISO, local time of the scene's place).
_QT_FORMAT = "yyyy-MM-ddTHH:mm"


class LooksControls:
    """The look menu, the final-quality toggle and the sun toolbar of one window.

    Attributes
    ----------
    look_actions
        Preset name → its checkable action (one radio group).
    final_action
        View → Final Quality (refine the view when the camera rests).
    sun_check, sun_edit, sun_reason
        The Sun checkbox, its date/time field (local time of the scene's place), and the
        sentence shown when the scene has no place on Earth.
    """

    def __init__(self, window: Any) -> None:
        from citytwin.ui.bookmarks_panel import _menu

        self.window = window
        self.scene = window.scene
        view = _menu(window, "View")
        view.addSeparator()
        menu = view.addMenu("Loo&k")
        self.look_group = QActionGroup(window)
        self.look_group.setExclusive(True)
        self.look_actions: dict[str, QAction] = {}
        for name in LOOKS:
            act = QAction(name, window)
            act.setCheckable(True)
            act.setStatusTip(f"Show the scene with the {name} look")
            act.triggered.connect(lambda _=False, n=name: self.set_look(n))
            self.look_group.addAction(act)
            menu.addAction(act)
            self.look_actions[name] = act
        self.final_action = QAction("&Final Quality", window)
        self.final_action.setCheckable(True)
        self.final_action.setChecked(True)
        self.final_action.setStatusTip("Refine the view (ambient occlusion, shadows) when the camera rests")
        self.final_action.toggled.connect(self._on_final_toggled)
        view.addAction(self.final_action)

        bar = QToolBar("Sun", window)
        bar.setObjectName("sun_toolbar")
        self.sun_check = QCheckBox("Sun")
        self.sun_check.setToolTip("Place the sun at a date and time (local time of the scene's place)")
        self.sun_edit = QDateTimeEdit()
        self.sun_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.sun_edit.setCalendarPopup(True)
        self.sun_edit.setDateTime(QDateTime.fromString("2026-03-21T12:00", _QT_FORMAT))
        self.sun_reason = QLabel()
        self.sun_reason.setWordWrap(False)
        bar.addWidget(self.sun_check)
        bar.addWidget(self.sun_edit)
        bar.addWidget(self.sun_reason)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.sun_bar = bar
        self.sun_check.toggled.connect(self._on_sun_edited)
        self.sun_edit.dateTimeChanged.connect(self._on_sun_edited)
        self.scene.settings_changed.connect(self._on_settings)
        self.scene.layers.events.inserted.connect(self._update_availability)
        self.scene.layers.events.removed.connect(self._update_availability)
        self._sync_look()
        self._update_availability()

    # ------------------------------------------------------------------ look
    def set_look(self, name: str) -> None:
        """Use a preset (an undoable step)."""
        look = LOOKS[name]
        if look != self.scene.look:
            self.scene.set(self.scene, "look", look)

    def _sync_look(self) -> None:
        current = self.scene.look
        for name, act in self.look_actions.items():
            act.setChecked(LOOKS[name] == current)

    def _on_final_toggled(self, on: bool) -> None:
        viewport = getattr(self.window, "viewport", None)
        if viewport is not None:
            viewport.set_final_quality(on)

    # ------------------------------------------------------------------ sun
    def _place(self) -> tuple[float, float] | None:
        from citytwin.model.sun import scene_lonlat

        return scene_lonlat(self.scene)

    def _update_availability(self, *_: Any) -> None:
        from citytwin.model.sun import sun_unavailable_reason

        reason = sun_unavailable_reason(self.scene) if self.scene.layers else None
        if not self.scene.layers:
            reason = "Open a georeferenced file to place the sun."
        self.sun_check.setEnabled(reason is None)
        self.sun_edit.setEnabled(reason is None and self.sun_check.isChecked())
        self.sun_reason.setText(reason or "")
        self.sun_reason.setVisible(bool(reason))

    def _on_sun_edited(self, *_: Any) -> None:
        self.sun_edit.setEnabled(self.sun_check.isEnabled() and self.sun_check.isChecked())
        if not self.sun_check.isChecked():
            if self.scene.sun is not None:
                self.scene.set(self.scene, "sun", None)
            return
        place = self._place()
        if place is None:
            self._update_availability()
            return
        from citytwin.model.sun import parse_local_time

        text = self.sun_edit.dateTime().toString(_QT_FORMAT)
        try:
            when = parse_local_time(text, *place)
        except ValueError as exc:  # a local time the clocks skip
            self.window.statusBar().showMessage(str(exc), 5000)
            return
        if when != self.scene.sun:
            self.scene.set(self.scene, "sun", when, merge=True)

    def _on_settings(self, name: str) -> None:
        if name == "look":
            self._sync_look()
        elif name == "sun":
            self._sync_sun(self.scene.sun)

    def _sync_sun(self, when: datetime | None) -> None:
        for w in (self.sun_check, self.sun_edit):
            w.blockSignals(True)
        try:
            self.sun_check.setChecked(when is not None)
            if when is not None:
                from citytwin.model.sun import local_zone

                place = self._place()
                local = when.astimezone(local_zone(*place)) if place is not None else when
                self.sun_edit.setDateTime(QDateTime.fromString(local.strftime("%Y-%m-%dT%H:%M"), _QT_FORMAT))
        finally:
            for w in (self.sun_check, self.sun_edit):
                w.blockSignals(False)
        self._update_availability()

    def close(self) -> None:
        """Stop following the scene."""
        self.scene.settings_changed.disconnect(self._on_settings)
        self.scene.layers.events.inserted.disconnect(self._update_availability)
        self.scene.layers.events.removed.disconnect(self._update_availability)


def install_looks(window: Any) -> LooksControls:
    """Add View → Look ▸ (presets), View → Final Quality and the Sun toolbar; sets ``window.looks``."""
    from citytwin.ui.bookmarks_panel import _when_closed

    controls = LooksControls(window)
    window.looks = controls
    _when_closed(window, controls.close)
    return controls


__all__ = ["LooksControls", "install_looks"]
