"""View → Presentation Settings…: what presenter mode plays, in which order, and how the kiosk behaves.

Edits the scene's :class:`~citytwin.model.presentation.Presentation`: a playlist of
tours and bookmarks (a bookmark is held for a number of seconds), looping, the kiosk's
return to the start after a time without input, the exit PIN, when the cursor hides
and how long the camera flies to a bookmark. OK replaces the settings as one undoable
step; *Start presenting* does the same and goes into presenter mode.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.presentation import Presentation, Stop

#: Where a list item keeps its :class:`Stop`.
STOP_ROLE = Qt.ItemDataRole.UserRole


def _sentence(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _seconds_box(parent: QWidget, low: float, high: float, value: float, step: float = 1.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setRange(low, high)
    box.setDecimals(1)
    box.setSingleStep(step)
    box.setSuffix(" s")
    box.setValue(value)
    return box


class PresentationDialog(QDialog):
    """Edit the scene's :class:`~citytwin.model.presentation.Presentation`.

    Parameters
    ----------
    window
        The main window: its ``scene`` (tours, bookmarks, presentation) is edited and
        its ``presenter`` started by *Start presenting*.
    parent
        The dialog's parent (the window by default).

    Attributes
    ----------
    playlist
        The stops in order; each item holds its :class:`Stop` under :data:`STOP_ROLE`.
    add_tour_button, add_bookmark_button
        Buttons whose menus list the scene's tours and bookmarks by name.
    error_label
        The red sentence shown when a value is not valid.
    buttons
        OK, Cancel and *Start presenting* (:attr:`start_button`).
    """

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.scene = window.scene
        p: Presentation = self.scene.presentation
        self.setWindowTitle("Presentation Settings")
        layout = QVBoxLayout(self)

        # the playlist
        group = QGroupBox("Playlist", self)
        layout.addWidget(group)
        box = QVBoxLayout(group)
        row = QHBoxLayout()
        box.addLayout(row)
        self.playlist = QListWidget(group)
        self.playlist.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        row.addWidget(self.playlist, 1)
        side = QVBoxLayout()
        row.addLayout(side)
        self.add_tour_button = QPushButton("Add tour", group)
        self.add_tour_button.setMenu(QMenu(self.add_tour_button))
        self.add_bookmark_button = QPushButton("Add bookmark", group)
        self.add_bookmark_button.setMenu(QMenu(self.add_bookmark_button))
        self.remove_button = QPushButton("Remove", group)
        self.up_button = QPushButton("Move up", group)
        self.down_button = QPushButton("Move down", group)
        for button in (
            self.add_tour_button,
            self.add_bookmark_button,
            self.remove_button,
            self.up_button,
            self.down_button,
        ):
            side.addWidget(button)
        side.addStretch(1)
        hold = QHBoxLayout()
        box.addLayout(hold)
        self.hold_label = QLabel("Hold the selected bookmark for", group)
        self.hold_seconds = _seconds_box(group, 0.5, 3600.0, 8.0)
        hold.addWidget(self.hold_label)
        hold.addWidget(self.hold_seconds)
        hold.addStretch(1)
        note = QLabel("Empty: every tour, then every bookmark.", group)
        note.setStyleSheet("color: palette(mid);")
        box.addWidget(note)
        self.add_tour_button.menu().aboutToShow.connect(self._fill_menus)
        self.add_bookmark_button.menu().aboutToShow.connect(self._fill_menus)
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(+1))
        self.playlist.currentRowChanged.connect(self._selection_changed)
        self.hold_seconds.valueChanged.connect(self._hold_changed)

        # how it runs
        form = QFormLayout()
        layout.addLayout(form)
        self.loop = QCheckBox("Start again after the last stop", self)
        self.loop.setChecked(p.loop)
        form.addRow("Loop:", self.loop)
        kiosk = QWidget(self)
        kiosk_row = QHBoxLayout(kiosk)
        kiosk_row.setContentsMargins(0, 0, 0, 0)
        self.kiosk = QCheckBox("Return to the start after", kiosk)
        self.kiosk.setChecked(p.idle_seconds > 0)
        self.idle_seconds = _seconds_box(kiosk, 0.1, 86400.0, p.idle_seconds if p.idle_seconds > 0 else 60.0, 10.0)
        self.idle_seconds.setEnabled(self.kiosk.isChecked())
        self.kiosk.toggled.connect(self.idle_seconds.setEnabled)
        kiosk_row.addWidget(self.kiosk)
        kiosk_row.addWidget(self.idle_seconds)
        kiosk_row.addWidget(QLabel("without input (kiosk)", kiosk))
        kiosk_row.addStretch(1)
        form.addRow("Kiosk:", kiosk)
        pin = QWidget(self)
        pin_row = QHBoxLayout(pin)
        pin_row.setContentsMargins(0, 0, 0, 0)
        self.exit_pin = QLineEdit(p.exit_pin, pin)
        self.exit_pin.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,12}"), self.exit_pin))
        self.exit_pin.setMaxLength(12)
        self.exit_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.exit_pin.setPlaceholderText("none: Esc leaves at once")
        self.show_pin = QCheckBox("Show", pin)
        self.show_pin.toggled.connect(
            lambda on: self.exit_pin.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)
        )
        pin_row.addWidget(self.exit_pin, 1)
        pin_row.addWidget(self.show_pin)
        form.addRow("Exit PIN:", pin)
        self.hide_cursor_seconds = _seconds_box(self, 0.1, 600.0, p.hide_cursor_seconds)
        form.addRow("Hide the cursor after:", self.hide_cursor_seconds)
        self.fly_seconds = _seconds_box(self, 0.0, 60.0, p.fly_seconds, 0.5)
        form.addRow("Flight to a bookmark:", self.fly_seconds)

        self.error_label = QLabel("", self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.start_button = self.buttons.addButton("Start presenting", QDialogButtonBox.ButtonRole.ActionRole)
        self.start_button.clicked.connect(self._start)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        for stop in p.playlist:
            self._append(stop)
        self._fill_menus()
        self._selection_changed(self.playlist.currentRow())

    # ------------------------------------------------------------------ the playlist
    def _fill_menus(self) -> None:
        """List the scene's tours and bookmarks (as they are now) in the two Add menus."""
        for button, items, kind in (
            (self.add_tour_button, self.scene.tours, "tour"),
            (self.add_bookmark_button, self.scene.bookmarks, "bookmark"),
        ):
            menu = button.menu()
            menu.clear()
            for item in items:
                action = menu.addAction(item.name)
                action.triggered.connect(lambda *_, k=kind, n=item.name: self.add_stop(k, n))
            button.setEnabled(bool(menu.actions()))
            button.setToolTip("" if menu.actions() else f"The project has no {kind} yet.")

    def _known(self, stop: Stop) -> bool:
        items = self.scene.tours if stop.kind == "tour" else self.scene.bookmarks
        return any(item.name == stop.name for item in items)

    def _text(self, stop: Stop) -> str:
        text = f"Tour: {stop.name}" if stop.kind == "tour" else f"Bookmark: {stop.name} (hold {stop.seconds:g} s)"
        return text if self._known(stop) else f"{text}, not in the project: skipped"

    def _append(self, stop: Stop) -> QListWidgetItem:
        item = QListWidgetItem(self._text(stop))
        item.setData(STOP_ROLE, stop)
        self.playlist.addItem(item)
        return item

    def add_stop(self, kind: str, name: str) -> None:
        """Add a tour or a bookmark (by name, held 8 s at first) at the end of the playlist and select it."""
        item = self._append(Stop(kind=kind, name=name))
        self.playlist.setCurrentItem(item)

    def stops(self) -> list[Stop]:
        """The playlist's stops in order."""
        return [self.playlist.item(i).data(STOP_ROLE) for i in range(self.playlist.count())]

    def remove_selected(self) -> None:
        """Take the selected stop out of the playlist."""
        row = self.playlist.currentRow()
        if row >= 0:
            self.playlist.takeItem(row)

    def move_selected(self, step: int) -> None:
        """Move the selected stop ``step`` places (``-1``: up, ``+1``: down)."""
        row = self.playlist.currentRow()
        to = row + step
        if row < 0 or not 0 <= to < self.playlist.count():
            return
        item = self.playlist.takeItem(row)
        self.playlist.insertItem(to, item)
        self.playlist.setCurrentRow(to)

    def _selection_changed(self, row: int) -> None:
        stop = self.playlist.item(row).data(STOP_ROLE) if row >= 0 else None
        bookmark = stop is not None and stop.kind == "bookmark"
        self.hold_label.setEnabled(bookmark)
        self.hold_seconds.setEnabled(bookmark)
        if bookmark:
            self.hold_seconds.blockSignals(True)
            self.hold_seconds.setValue(stop.seconds)
            self.hold_seconds.blockSignals(False)
        self.remove_button.setEnabled(stop is not None)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.playlist.count() - 1)

    def _hold_changed(self, seconds: float) -> None:
        item = self.playlist.currentItem()
        stop = item.data(STOP_ROLE) if item is not None else None
        if stop is None or stop.kind != "bookmark":
            return
        stop = Stop(kind=stop.kind, name=stop.name, seconds=seconds)
        item.setData(STOP_ROLE, stop)
        item.setText(self._text(stop))

    # ------------------------------------------------------------------ the result
    def presentation(self) -> Presentation:
        """The settings the dialog holds now.

        Raises
        ------
        ValueError
            With one sentence, when a value is wrong.
        """
        return Presentation(
            playlist=self.stops(),
            loop=self.loop.isChecked(),
            idle_seconds=self.idle_seconds.value() if self.kiosk.isChecked() else 0.0,
            exit_pin=self.exit_pin.text(),
            hide_cursor_seconds=self.hide_cursor_seconds.value(),
            fly_seconds=self.fly_seconds.value(),
        )

    def show_error(self, message: str) -> None:
        """Show one red sentence (empty: none)."""
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def apply(self) -> bool:
        """Replace the scene's presentation by the dialog's as one undoable step; False (with a sentence) if invalid."""
        try:
            new = self.presentation()
        except ValueError as exc:
            self.show_error(_sentence(exc))
            return False
        self.show_error("")
        if new != self.scene.presentation:
            self.scene.set(self.scene, "presentation", new)
        return True

    def _ok(self) -> None:
        if self.apply():
            self.accept()

    def _start(self) -> None:
        """Apply, close and go into presenter mode (the dialog stays open when there is nothing to play)."""
        try:
            new = self.presentation()
        except ValueError as exc:
            self.show_error(_sentence(exc))
            return
        if not new.stops(list(self.scene.tours), list(self.scene.bookmarks)):
            self.show_error("There is nothing to present: add a tour or a bookmark to the project first.")
            return
        if self.apply():
            self.accept()
            self.window.presenter.enter()


def edit_presentation(window: Any) -> bool:
    """Open the Presentation Settings dialog on ``window``; True when its settings were applied."""
    return PresentationDialog(window).exec() == QDialog.DialogCode.Accepted


__all__ = ["PresentationDialog", "STOP_ROLE", "edit_presentation"]
