"""Presenter mode: the window full screen, nothing but the city, playing a loop of tours and bookmarks.

Made for a stand at a trade fair, where it runs unattended all day:

* every panel, menu, toolbar and the status bar are hidden; the cursor hides after a few
  seconds without moving; no dialog is ever shown (errors go to the log);
* the playlist (:class:`~citytwin.model.presentation.Presentation`, kept in the project)
  plays in a loop: a tour is played through, a bookmark is flown to and held;
* keys and presenter remotes: Page Down, Right, Down → next stop; Page Up, Left, Up →
  previous stop; Space (or B, or a remote's "blank" key) → pause / resume; Esc leaves,
  after the exit PIN when one is set. Every other key is swallowed, so no shortcut of the
  window fires in front of an audience;
* kiosk: a click, a drag, a touch or the wheel hands the camera to the visitor (the loop
  stops); after ``idle_seconds`` without input the attract loop starts again from its
  first stop.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolBar,
    QWidget,
)

from citytwin.model.presentation import Presentation, Stop
from citytwin.ui.tour_player import TourPlayer

log = logging.getLogger(__name__)

NEXT_KEYS = frozenset({Qt.Key.Key_PageDown, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_N})
PREVIOUS_KEYS = frozenset({Qt.Key.Key_PageUp, Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_P})
PAUSE_KEYS = frozenset({Qt.Key.Key_Space, Qt.Key.Key_B, Qt.Key.Key_Period, Qt.Key.Key_MediaPlay,
                        Qt.Key.Key_MediaPause, Qt.Key.Key_MediaTogglePlayPause})  # fmt: skip
_INPUT_EVENTS = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel,
                           QEvent.Type.TouchBegin, QEvent.Type.TabletPress})  # fmt: skip


class _PinBar(QFrame):
    """The line that asks for the exit PIN (inside the window: no dialog)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("presenter_pin_bar")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet("#presenter_pin_bar { background: #202020; } QLabel { color: #f0f0f0; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        self.label = QLabel("PIN to leave presenter mode:")
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setMaxLength(12)
        self.edit.setFixedWidth(160)
        lay.addWidget(self.label)
        lay.addWidget(self.edit)
        lay.addStretch(1)
        self.hide()


class PresenterMode(QObject):
    """Presenter mode of a :class:`~citytwin.ui.main_window.MainWindow`.

    Signals
    -------
    entered(), left()
        Full screen on / off.
    stop_changed(int)
        The playlist stop now playing (index into :attr:`stops`).
    mode_changed(str)
        ``"attract"`` (the loop plays by itself) or ``"visitor"`` (someone took the camera).
    """

    entered = Signal()
    left = Signal()
    stop_changed = Signal(int)
    mode_changed = Signal(str)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.viewport = window.viewport
        self.scene = window.scene
        self.player = TourPlayer(self.viewport, self)
        self.player.finished.connect(self._on_stop_finished)
        self.settings = Presentation()
        self.stops: list[Stop] = []
        self.index = -1
        self.mode = "attract"
        self._active = False
        self._saved: dict[str, Any] = {}
        self._cursor_hidden = False
        self._last_input = time.monotonic()
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self._on_idle)
        self._cursor_timer = QTimer(self)
        self._cursor_timer.setSingleShot(True)
        self._cursor_timer.timeout.connect(self._hide_cursor)
        self._pin_bar: _PinBar | None = None

    # ------------------------------------------------------------------ entering and leaving
    @property
    def active(self) -> bool:
        return self._active

    def enter(self, settings: Presentation | None = None) -> bool:
        """Go full screen and start the playlist; False (and a status message) when there is nothing to play."""
        if self._active:
            return True
        self.settings = settings or getattr(self.scene, "presentation", None) or Presentation()
        self.stops = self.settings.stops(list(getattr(self.scene, "tours", ())), list(self.scene.bookmarks))
        if not self.stops:
            self.window.statusBar().showMessage(
                "Presenter mode needs a tour or a bookmark to show: add one first.", 8000
            )
            return False
        w = self.window
        self._saved = {
            "geometry": w.saveGeometry(),
            "state": w.saveState(),
            "menubar": w.menuBar().isVisible(),
            "statusbar": w.statusBar().isVisible(),
            "docks": [d for d in w.findChildren(QDockWidget) if d.isVisible()],
            "toolbars": [t for t in w.findChildren(QToolBar) if t.isVisible()],
        }
        for d in self._saved["docks"]:
            d.hide()
        for t in self._saved["toolbars"]:
            t.hide()
        w.menuBar().hide()
        w.statusBar().hide()
        self._saved["overlays"] = self.viewport.overlays_shown
        problem = self.viewport.set_overlays_shown(True, self._base_dir())
        if problem:
            log.warning("presenter: %s", problem)
        w.showFullScreen()
        self._active = True
        QApplication.instance().installEventFilter(self)
        self._note_input()
        self.entered.emit()
        self._set_mode("attract")
        self.play(0)
        return True

    def leave(self) -> None:
        """Back to the window as it was."""
        if not self._active:
            return
        QApplication.instance().removeEventFilter(self)
        self._active = False
        self._idle.stop()
        self._cursor_timer.stop()
        self._show_cursor()
        self.player.stop()
        if self._pin_bar is not None:
            self._pin_bar.hide()
        w = self.window
        self.viewport.set_overlays_shown(self._saved.get("overlays", False))
        w.showNormal()
        w.restoreGeometry(self._saved.get("geometry"))
        w.restoreState(self._saved.get("state"))
        w.menuBar().setVisible(self._saved.get("menubar", True))
        w.statusBar().setVisible(self._saved.get("statusbar", True))
        for d in self._saved.get("docks", []):
            d.show()
        for t in self._saved.get("toolbars", []):
            t.show()
        self._saved = {}
        self.index = -1
        self.left.emit()

    def _base_dir(self) -> Any:
        path = getattr(getattr(self.window, "session", None), "path", None)
        from pathlib import Path

        return Path(path).parent if path else None

    # ------------------------------------------------------------------ the playlist
    def play(self, index: int) -> None:
        """Play stop ``index`` (wrapping round the playlist)."""
        if not self.stops:
            return
        self.index = index % len(self.stops)
        stop = self.stops[self.index]
        tour = self._tour_for(stop)
        if tour is None:  # removed since the playlist was made: go on with the next
            log.warning("presenter: %s %r is gone; skipped", stop.kind, stop.name)
            return
        self.player.play(tour)
        self.stop_changed.emit(self.index)

    def _tour_for(self, stop: Stop) -> Any:
        from citytwin.model.tours import Keyframe, Tour

        if stop.kind == "tour":
            return next((t for t in getattr(self.scene, "tours", ()) if t.name == stop.name), None)
        mark = next((b for b in self.scene.bookmarks if b.name == stop.name), None)
        if mark is None:
            return None
        here = self.viewport.current_pose().to_state(self.viewport.origin)
        fly = max(float(self.settings.fly_seconds), 0.05)
        try:  # fly there eased, then rest: the bookmark's hold is the last keyframe's pause
            return Tour(
                name=stop.name,
                keyframes=[
                    Keyframe(time=0.0, camera=here, easing="ease-in-out", interpolation="linear"),
                    Keyframe(time=fly, camera=mark.camera, pause=float(stop.seconds)),
                ],
            )
        except ValueError:  # the camera is exactly at the bookmark and cannot fly: just hold
            return Tour(name=stop.name, keyframes=[Keyframe(time=0.0, camera=mark.camera, pause=0.0),
                                                   Keyframe(time=float(stop.seconds), camera=mark.camera)])  # fmt: skip

    def next(self) -> None:
        self.play(self.index + 1)

    def previous(self) -> None:
        self.play(self.index - 1)

    def toggle_pause(self) -> None:
        """Pause or resume the stop playing; in visitor mode, start the loop again from here."""
        if self.player.active:
            self.player.toggle()
        else:
            self._set_mode("attract")
            self.play(max(self.index, 0))

    def _on_stop_finished(self) -> None:
        if not self._active or self.mode != "attract":
            return
        if self.index + 1 >= len(self.stops) and not self.settings.loop:
            return
        # on the next turn of the event loop: never re-enter the player from its own signal
        QTimer.singleShot(0, self.next)

    def _set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            self.mode_changed.emit(mode)

    # ------------------------------------------------------------------ kiosk
    def _note_input(self) -> None:
        self._last_input = time.monotonic()
        self._show_cursor()
        self._cursor_timer.start(round(self.settings.hide_cursor_seconds * 1000))
        if self.settings.idle_seconds > 0:
            self._idle.start(round(self.settings.idle_seconds * 1000))

    def _on_idle(self) -> None:
        if not self._active:
            return
        if self._pin_bar is not None and self._pin_bar.isVisible():
            self._pin_bar.hide()
        if self.mode != "attract" or not self.player.playing:
            self._set_mode("attract")
            self.play(0)

    def _visitor(self) -> None:
        """Someone touched the view: the camera is theirs until the kiosk has been idle."""
        if self.mode == "attract":
            self._set_mode("visitor")
            self.player.stop()

    def _hide_cursor(self) -> None:
        if self._active and not self._cursor_hidden:
            QApplication.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
            self._cursor_hidden = True

    def _show_cursor(self) -> None:
        if self._cursor_hidden:
            QApplication.restoreOverrideCursor()
            self._cursor_hidden = False

    # ------------------------------------------------------------------ input
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind == QEvent.Type.ShortcutOverride:
            if self._pin_entry_active():
                return False
            event.accept()  # the key comes to us as a key press: no window shortcut fires
            return True
        if kind == QEvent.Type.KeyPress:
            self._note_input()
            if self._pin_entry_active():
                return self._pin_key(event)  # type: ignore[arg-type]
            self._key(event)  # type: ignore[arg-type]
            return True
        if kind == QEvent.Type.KeyRelease:
            return not self._pin_entry_active()
        if kind == QEvent.Type.MouseMove:
            self._note_input()
            return False
        if kind in _INPUT_EVENTS:
            self._note_input()
            if not self._pin_entry_active():
                self._visitor()
            return False
        return False

    def _key(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            if self.settings.exit_pin:
                self._ask_pin()
            else:
                self.leave()
        elif key in NEXT_KEYS:
            self.next()
        elif key in PREVIOUS_KEYS:
            self.previous()
        elif key in PAUSE_KEYS:
            self.toggle_pause()

    # ------------------------------------------------------------------ exit PIN
    def _pin_entry_active(self) -> bool:
        return self._pin_bar is not None and self._pin_bar.isVisible()

    def _ask_pin(self) -> None:
        if self._pin_bar is None:
            central = self.window.centralWidget()
            self._pin_bar = _PinBar(central)
            lay = central.layout()
            if lay is not None:
                lay.insertWidget(0, self._pin_bar)
        self._pin_bar.edit.clear()
        self._pin_bar.show()
        self._pin_bar.edit.setFocus()

    def _pin_key(self, event: QKeyEvent) -> bool:
        assert self._pin_bar is not None
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self._pin_bar.hide()
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            ok = self._pin_bar.edit.text() == self.settings.exit_pin
            self._pin_bar.edit.clear()
            self._pin_bar.hide()
            if ok:
                self.leave()
            return True
        return False  # digits and editing keys go to the line edit


def install_presenter(window: Any) -> PresenterMode:
    """Add presenter mode to the main window: View → Presenter Mode (F5) and Presentation Settings…;
    sets ``window.presenter``."""
    from PySide6.QtGui import QAction, QKeySequence

    from citytwin.ui.bookmarks_panel import _menu, _when_closed

    presenter = PresenterMode(window)
    window.presenter = presenter
    action = QAction("&Presenter Mode", window)
    action.setShortcut(QKeySequence("F5"))
    action.setStatusTip("Full screen, playing the project's tours and bookmarks in a loop (Esc leaves)")
    action.triggered.connect(lambda *_: presenter.enter())
    window.presenter_action = action
    settings = QAction("Presentation &Settings…", window)
    settings.setStatusTip("What presenter mode plays, in which order, and how the kiosk behaves")

    def edit_presentation() -> None:
        from citytwin.ui.presentation_dialog import edit_presentation

        edit_presentation(window)

    settings.triggered.connect(lambda *_: edit_presentation())
    window.presentation_settings_action = settings
    view = _menu(window, "View")
    view.addSeparator()
    view.addAction(action)
    view.addAction(settings)
    _when_closed(window, presenter.leave)
    return presenter


__all__ = ["PresenterMode", "install_presenter"]
