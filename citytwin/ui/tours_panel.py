"""The Tours dock: make, edit, preview and export camera tours.

The dock lists the scene's tours (rename inline, duplicate, delete, reorder,
TOML import and export, New ▾ from the current view or a preset, a sun study among
them). For the
selected tour a :class:`~citytwin.ui.timeline.Timeline` shows the keyframes,
caption spans and the playhead; buttons add the current view or a bookmark as
a keyframe, update, delete, reorder and go to keyframes; a form edits the
selected keyframe and the segment after it. The transport previews the tour in
the window's view through a :class:`~citytwin.ui.tour_player.TourPlayer`.

Every change is one undoable scene edit (``scene.edit_item(tour,
keyframes=…)``) built with the pure edits of :mod:`citytwin.model.tours`; a
refused edit shows its sentence in red in the dock and leaves the tour as it
was. The dock follows ``scene.tours``, so undo, redo and edits from elsewhere
show at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
from PySide6.QtCore import QDateTime, QSize, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from citytwin.errors import CityTwinError
from citytwin.model.annotations import new_id
from citytwin.model.camera import CameraState
from citytwin.model.commands import ReplaceItem
from citytwin.model.layers import CityModelLayer
from citytwin.model.scene import Scene
from citytwin.model.tours import (
    EXISTING,
    AttributeFilter,
    Caption,
    Keyframe,
    Tour,
    add_keyframe,
    append_keyframe,
    delete_keyframe,
    edit_keyframe,
    move_keyframe,
    retime_keyframe,
    set_segment,
)
from citytwin.ui.item_list_model import Column, ItemListModel
from citytwin.ui.item_panels import button_row, item_dock, tool_button
from citytwin.ui.timeline import Timeline, format_time
from citytwin.ui.tour_player import TourPlayer

if TYPE_CHECKING:
    from citytwin.ui.viewport import Viewport

#: Seconds between the last keyframe and one appended after it.
APPEND_SECONDS = 5.0
#: Seconds of a new tour made from the current view.
NEW_TOUR_SECONDS = 5.0
#: Seconds of one turn of an orbit made from the New menu.
ORBIT_SECONDS = 20.0
#: Seconds of a sun study (sunrise to sunset) made from the New menu.
SUN_STUDY_SECONDS = 20.0
#: How a keyframe's sun time is shown and read back (ISO, local time of the scene's place).
_QT_SUN_FORMAT = "yyyy-MM-ddTHH:mm"
SUN_TIP = "Place the sun at a date and time here; it moves evenly between the keyframes that set one"
SCENARIO_TIP = (
    "Switch the planning scenario shown from this keyframe on (a cut: it holds until the next keyframe "
    "that switches); before the first switch the project's own scenario is shown"
)
#: The scenario combo's first entries: ``(text, data)``; the project's scenarios follow by name (data: id).
SCENARIO_CHOICES = (("(no change)", ""), ("Existing", EXISTING))
INTERPOLATION_LABELS = (("Spline (smooth)", "spline"), ("Linear", "linear"), ("Hold, then cut", "hold"))
EASING_LABELS = (
    ("Linear", "linear"),
    ("Ease in", "ease-in"),
    ("Ease out", "ease-out"),
    ("Ease in and out", "ease-in-out"),
)
ERROR_STYLE = "color: #c0392b;"


def sentence(exc: BaseException) -> str:
    """An exception's message as a sentence: capital first letter, full stop."""
    text = str(exc).strip() or type(exc).__name__
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def numeric_attributes(layers: Any) -> dict[str, tuple[float, float]]:
    """Attributes whose every value is a number, over the city-model layers, with their range.

    Numeric strings (``"1931"``) and ``{"value": …}`` measures count as numbers, as in colour by attribute.
    """
    found: dict[str, list[float]] = {}
    other: set[str] = set()
    for layer in layers:
        model = getattr(layer, "model", None) if isinstance(layer, CityModelLayer) else None
        if model is None:
            continue
        for attrs in model.objects.attributes:
            for name, value in attrs.items():
                if name in other:
                    continue
                v = _number(value)
                if v is None:
                    other.add(name)
                    found.pop(name, None)
                else:
                    r = found.setdefault(name, [v, v])
                    r[0], r[1] = min(r[0], v), max(r[1], v)
    return {name: (r[0], r[1]) for name, r in sorted(found.items())}


def _number(value: Any) -> float | None:
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if isinstance(value, bool) or value is None:
        return None
    try:
        v = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def unique_name(base: str, names: Any) -> str:
    """``base``, or ``base 2``, ``base 3`` … when a tour has that name already."""
    taken = set(names)
    if base not in taken:
        return base
    n = 2
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


class _OpacityCell(QWidget):
    """A slider 0–100 % with its value beside it (a cell of the layer fades table)."""

    def __init__(self, on_commit: Callable[[int], None]) -> None:
        super().__init__()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setPageStep(10)
        self.label = QLabel("100 %")
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("100 %") + 2)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 0, 2, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        self._commit = on_commit
        self.slider.valueChanged.connect(self._on_value)
        self.slider.sliderReleased.connect(lambda: self._commit(self.slider.value()))

    def set_value(self, percent: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(percent)
        self.slider.blockSignals(False)
        self.label.setText(f"{percent} %")

    def _on_value(self, value: int) -> None:
        self.label.setText(f"{value} %")
        if not self.slider.isSliderDown():  # a drag is committed once, on release
            self._commit(value)


class TourPanel(QWidget):
    """The Tours dock's widget.

    Parameters
    ----------
    scene
        The scene whose ``tours`` are listed and edited.
    viewport
        Where tours are previewed and whose camera becomes keyframes.
    window
        The main window, when there is one: the selection for an orbit, its status bar and
        ``export_video(tour)``.
    """

    def __init__(self, scene: Scene, viewport: Viewport, window: QMainWindow | None = None) -> None:
        super().__init__(window)
        self.scene = scene
        self.viewport = viewport
        self.window_ = window
        self.player = TourPlayer(viewport, self)
        self._key = -1  # the selected keyframe
        self._shown_id: str | None = None
        self._playhead = 0.0
        self._syncing = False
        self._layer_rows: list[str] = []
        self._attribute_cache: tuple[tuple[int, ...], dict[str, tuple[float, float]]] | None = None
        self._build()
        self._connections = [
            (scene.tours.events.inserted, self._on_tours_event),
            (scene.tours.events.removed, self._on_tours_event),
            (scene.tours.events.moved, self._on_tours_event),
            (scene.tours.events.reordered, self._on_tours_event),
            (scene.tours.events.changed, self._on_tour_changed),
            (scene.layers.events.inserted, self._on_layers_event),
            (scene.layers.events.removed, self._on_layers_event),
            (scene.layers.events.moved, self._on_layers_event),
            *((sig, self._on_scenarios_event) for sig in _item_signals(scene.scenarios)),
        ]
        for sig, cb in self._connections:
            sig.connect(cb)
        self.refresh()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        button = tool_button
        # tours
        self.model = ItemListModel(
            self.scene,
            self.scene.tours,
            [Column("Name", lambda t: t.name, edit="name", tooltip=self._tour_tooltip, required=True)],
            self,
        )
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setUniformItemSizes(True)
        self.view.setMaximumHeight(110)
        self.view.setToolTip("Double-click a tour (or F2) to rename it; drag to reorder")
        self.view.selectionModel().currentChanged.connect(lambda *_: self.refresh())

        self.new_menu = QMenu(self)
        self.new_view_action = self.new_menu.addAction("From the Current View", lambda: self.new_from_view())
        self.new_orbit_action = self.new_menu.addAction("Orbit", lambda: self.new_orbit())
        self.new_bookmarks_action = self.new_menu.addAction("Fly Through Bookmarks", lambda: self.new_from_bookmarks())
        self.new_reveal_action = self.new_menu.addAction("Reveal: Overview to Street", lambda: self.new_reveal())
        self.new_sun_study_action = self.new_menu.addAction(
            "Sun Study: Sunrise to Sunset", lambda: self.new_sun_study()
        )
        self.new_menu.setToolTipsVisible(True)
        self.new_menu.aboutToShow.connect(self._update_new_menu)
        self.new_button = QToolButton()
        self.new_button.setText("New")
        self.new_button.setToolTip("Make a tour from the current view or a preset")
        self.new_button.setMenu(self.new_menu)
        self.new_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.new_button.setAutoRaise(True)
        self.duplicate_button = button("Duplicate", "Copy the selected tour", self.duplicate_current)
        self.up_button = button("▲", "Move the selected tour up", lambda: self.move_current(-1))
        self.down_button = button("▼", "Move the selected tour down", lambda: self.move_current(+1))
        self.delete_button = button("Delete", "Delete the selected tour", self.delete_current)
        self.file_menu = QMenu(self)
        self.import_action = self.file_menu.addAction("Import TOML…", lambda: self.import_toml())
        self.export_action = self.file_menu.addAction("Export TOML…", lambda: self.export_toml())
        self.file_button = QToolButton()
        self.file_button.setText("File")
        self.file_button.setToolTip("Read or write a tour as a TOML file")
        self.file_button.setMenu(self.file_menu)
        self.file_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.file_button.setAutoRaise(True)
        tour_row = button_row(
            (
                self.new_button,
                self.duplicate_button,
                self.up_button,
                self.down_button,
                self.delete_button,
                self.file_button,
            )
        )
        self.placeholder = QLabel(
            "No tours yet: New makes one from the current view, an orbit, the bookmarks or a reveal."
        )
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: palette(mid);")

        # timeline and transport
        self.timeline = Timeline()
        self.timeline.keyframe_clicked.connect(self.select_keyframe)
        self.timeline.keyframe_activated.connect(lambda i: (self.select_keyframe(i), self.go_to_keyframe()))
        self.timeline.retime_requested.connect(self._on_retime_requested)
        self.timeline.scrubbed.connect(self.scrub)
        self.play_button = button(
            "Play", "Play the tour in the view from the playhead (Space)", self.toggle_play, False
        )
        self.stop_button = button("Stop", "Stop the preview and end its effects on the view", self.stop, False)
        self.loop_button = QToolButton()
        self.loop_button.setText("Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setToolTip("Play the tour again and again")
        self.loop_button.toggled.connect(self._on_loop)
        self.time_label = QLabel(f"{format_time(0)} / {format_time(0)}")
        self.time_label.setToolTip("Playhead / duration of the tour")
        self.export_video_button = button("Export Video…", "Render the tour to a video file", self.export_video, False)
        transport = button_row((self.play_button, self.stop_button, self.loop_button, self.time_label))
        transport.addWidget(self.export_video_button)
        self.caption_label = QLabel()
        self.caption_label.setWordWrap(True)
        self.caption_label.setTextFormat(Qt.TextFormat.RichText)
        self.caption_label.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption_label.setToolTip("The caption the tour shows now")
        self.caption_label.hide()

        # keyframes
        self.add_view_button = button(
            "Add View", "Add the current view as a keyframe at the playhead, or after the last one", self.add_view
        )
        self.bookmark_menu = QMenu(self)
        self.bookmark_menu.aboutToShow.connect(self._fill_bookmark_menu)
        self.add_bookmark_button = QToolButton()
        self.add_bookmark_button.setText("Add Bookmark")
        self.add_bookmark_button.setToolTip("Add a bookmark's view as a keyframe")
        self.add_bookmark_button.setMenu(self.bookmark_menu)
        self.add_bookmark_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_bookmark_button.setAutoRaise(True)
        self.update_key_button = button("Update", "Set the selected keyframe to the current view", self.update_keyframe)
        self.goto_button = button("Go To", "Fly the view to the selected keyframe", self.go_to_keyframe)
        self.earlier_button = button(
            "◀ Earlier", "Swap the selected keyframe with the one before", lambda: self.move_keyframe(-1)
        )
        self.later_button = button(
            "Later ▶", "Swap the selected keyframe with the one after", lambda: self.move_keyframe(1)
        )
        self.delete_key_button = button("Delete", "Delete the selected keyframe", self.delete_keyframe)
        key_row1 = button_row(
            (self.add_view_button, self.add_bookmark_button, self.update_key_button, self.goto_button)
        )
        key_row2 = button_row((self.earlier_button, self.later_button, self.delete_key_button))
        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        # the keyframe form
        self.key_title = QLabel()
        self.key_title.setStyleSheet("font-weight: bold;")
        self.time_spin = self._seconds_spin("When the camera reaches this keyframe")
        self.time_spin.valueChanged.connect(self._on_time)
        self.interpolation_combo = QComboBox()
        for label, value in INTERPOLATION_LABELS:
            self.interpolation_combo.addItem(label, value)
        self.interpolation_combo.setToolTip("How the camera moves on to the next keyframe")
        self.interpolation_combo.currentIndexChanged.connect(
            lambda *_: self._on_segment("interpolation", self.interpolation_combo.currentData(), merge=False)
        )
        self.easing_combo = QComboBox()
        for label, value in EASING_LABELS:
            self.easing_combo.addItem(label, value)
        self.easing_combo.setToolTip("How the move to the next keyframe spends its time")
        self.easing_combo.currentIndexChanged.connect(
            lambda *_: self._on_segment("easing", self.easing_combo.currentData(), merge=False)
        )
        self.constant_speed_check = QCheckBox("Constant speed")
        self.constant_speed_check.setToolTip("Move at an even speed along the way to the next keyframe")
        self.constant_speed_check.toggled.connect(lambda on: self._on_segment("constant_speed", bool(on), merge=False))
        self.pause_spin = self._seconds_spin("Seconds the camera rests here before moving on")
        self.pause_spin.valueChanged.connect(lambda v: self._on_segment("pause", float(v)))
        self.caption_title = QLineEdit()
        self.caption_title.setPlaceholderText("No caption")
        self.caption_title.editingFinished.connect(lambda: self._on_caption())
        self.caption_subtitle = QLineEdit()
        self.caption_subtitle.editingFinished.connect(lambda: self._on_caption())
        self.caption_duration = self._seconds_spin("Seconds the caption stays")
        self.caption_duration.setSpecialValueText("Until the next keyframe")
        self.caption_duration.valueChanged.connect(lambda *_: self._on_caption("caption-duration"))
        self.layers_table = QTableWidget(0, 3)
        self.layers_table.setHorizontalHeaderLabels(["Layer", "Set here", "Opacity"])
        self.layers_table.verticalHeader().hide()
        header = self.layers_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(2, 140)
        self.layers_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.layers_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.layers_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.layers_table.setToolTip("Layers this keyframe fades to (a layer fades between the keyframes that set it)")
        self.layers_table.itemChanged.connect(self._on_layer_check)
        self.filter_combo = QComboBox()
        self.filter_combo.setToolTip('Hide the objects whose attribute is above the value ("city growth")')
        self.filter_combo.currentIndexChanged.connect(lambda *_: self._on_filter(merge=False))
        self.filter_max = QDoubleSpinBox()
        self.filter_max.setRange(-1e12, 1e12)
        self.filter_max.setDecimals(2)
        self.filter_max.setKeyboardTracking(False)
        self.filter_max.setToolTip(
            "Objects with a larger value are hidden here; it moves linearly to the next keyframe"
        )
        self.filter_max.valueChanged.connect(lambda *_: self._on_filter())
        self.sun_check = QCheckBox("Sun")
        self.sun_check.setToolTip(SUN_TIP)
        self.sun_check.toggled.connect(self._on_sun_check)
        self.sun_edit = QDateTimeEdit()
        self.sun_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.sun_edit.setCalendarPopup(True)
        self.sun_edit.setKeyboardTracking(False)
        self.sun_edit.setToolTip("The sun's date and time here (local time of the scene's place)")
        self.sun_edit.dateTimeChanged.connect(lambda *_: self._on_sun_time())
        self._place_cache: tuple[Any, tuple[float, float] | None, str | None] | None = None
        self.scenario_combo = QComboBox()
        self.scenario_combo.setToolTip(SCENARIO_TIP)
        self.scenario_combo.currentIndexChanged.connect(lambda *_: self._on_scenario())

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.key_title)
        form.addRow("Time", self.time_spin)
        form.addRow("Pause", self.pause_spin)
        form.addRow("Path", self.interpolation_combo)
        form.addRow("Easing", self.easing_combo)
        form.addRow("", self.constant_speed_check)
        form.addRow(self._heading("Caption"))
        form.addRow("Title", self.caption_title)
        form.addRow("Subtitle", self.caption_subtitle)
        form.addRow("Shown for", self.caption_duration)
        form.addRow(self._heading("Layer fades"))
        form.addRow(self.layers_table)
        form.addRow(self._heading("Attribute filter"))
        form.addRow("Attribute", self.filter_combo)
        form.addRow("Show up to", self.filter_max)
        form.addRow(self._heading("Sun study"))
        form.addRow(self.sun_check, self.sun_edit)
        form.addRow(self._heading("Scenario"))
        form.addRow("Show", self.scenario_combo)
        self.form = QWidget()
        self.form.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.form)
        self.form_scroll = scroll

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(tour_row)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.view)
        layout.addWidget(self.timeline)
        layout.addLayout(transport)
        layout.addWidget(self.caption_label)
        layout.addLayout(key_row1)
        layout.addLayout(key_row2)
        layout.addWidget(self.error_label)
        layout.addWidget(scroll, 1)

        # Space plays only while focus is in this dock; a text field keeps its own Space
        play = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        play.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        play.activated.connect(self.toggle_play)
        self.play_shortcut = play
        for widget, slot in ((self.view, self.delete_current), (self.timeline, self.delete_keyframe)):
            sc = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), widget)
            sc.setContext(Qt.ShortcutContext.WidgetShortcut)
            sc.activated.connect(slot)

        self.player.position_changed.connect(self._on_position)
        self.player.caption_changed.connect(self._on_caption_shown)
        self.player.state_changed.connect(self._update_transport)

    @staticmethod
    def _seconds_spin(tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 86_400.0)
        spin.setDecimals(2)
        spin.setSingleStep(0.1)
        spin.setSuffix(" s")
        spin.setKeyboardTracking(False)  # a typed number is one edit, on Enter or leaving the field
        spin.setToolTip(tip)
        return spin

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setStyleSheet("font-weight: bold; margin-top: 6px;")
        return label

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 600)

    def shutdown(self) -> None:
        """Stop the preview and stop following the scene (the window is closing)."""
        self.player.stop()
        for sig, cb in self._connections:
            sig.disconnect(cb)
        self._connections = []
        self.model.disconnect_items()

    # ------------------------------------------------------------------ what is selected
    def current_tour(self) -> Tour | None:
        """The tour selected in the list."""
        return self.model.item(self.view.currentIndex())

    @property
    def current_keyframe(self) -> int:
        """Index of the selected keyframe (-1: none)."""
        return self._key

    @property
    def playhead(self) -> float:
        """The tour time the timeline's playhead is at (seconds)."""
        return self._playhead

    def select_tour(self, tour: Tour | str | None) -> None:
        """Select a tour (or its id) in the list."""
        row = -1 if tour is None else self.model.row_of(tour if isinstance(tour, str) else tour.id)
        self.view.setCurrentIndex(self.model.index(row, 0) if row >= 0 else self.model.index(-1, 0))

    def select_keyframe(self, index: int) -> None:
        """Select keyframe ``index`` of the current tour: the form shows it."""
        tour = self.current_tour()
        if tour is None:
            return
        self._key = max(0, min(int(index), len(tour.keyframes) - 1))
        self._clear_error()
        self.refresh()

    # ------------------------------------------------------------------ following the model
    def _on_tours_event(self, *_args: Any) -> None:
        player_tour = self.player.tour
        if player_tour is not None and self.scene.tours.by_id(player_tour.id) is None:
            self.stop()
        self.refresh()

    def _on_tour_changed(self, index: Any, old: Any = None, new: Any = None) -> None:
        p = self.player
        if isinstance(new, Tour) and p.tour is not None and p.tour.id == new.id:
            p.tour = new
            if not p.playing:
                p.seek(p.position)  # show the edit (a fade, a moved keyframe) at the playhead
        self.refresh()

    def _on_layers_event(self, *_args: Any) -> None:
        self._attribute_cache = None
        self.refresh()

    def refresh(self) -> None:
        """Show the current tour and keyframe as the model has them."""
        tour = self.current_tour()
        tour_id = tour.id if tour is not None else None
        if tour_id != self._shown_id:
            self._shown_id = tour_id
            self._key = 0 if tour is not None else -1
            if self.player.active and (tour is None or self.player.tour.id != tour_id):
                self.stop()
            self._playhead = 0.0
        if tour is not None:
            self._key = max(0, min(self._key, len(tour.keyframes) - 1))
            self._playhead = min(self._playhead, tour.duration)
        self.placeholder.setVisible(len(self.scene.tours) == 0)
        self.timeline.set_tour(tour, self._key)
        self.timeline.set_playhead(self._playhead)
        self._fill_form(tour)
        self._update_buttons()
        self._update_transport()

    def _update_buttons(self) -> None:
        tour = self.current_tour()
        has = tour is not None
        row = self.view.currentIndex().row()
        for b in (
            self.duplicate_button,
            self.delete_button,
            self.timeline,
            self.play_button,
            self.add_view_button,
            self.add_bookmark_button,
            self.update_key_button,
            self.goto_button,
            self.delete_key_button,
        ):
            b.setEnabled(has)
        self.export_action.setEnabled(has)
        self.up_button.setEnabled(has and row > 0)
        self.down_button.setEnabled(has and row < len(self.scene.tours) - 1)
        n = len(tour.keyframes) if has else 0
        self.earlier_button.setEnabled(has and self._key > 0)
        self.later_button.setEnabled(has and 0 <= self._key < n - 1)
        self.delete_key_button.setEnabled(has and n > 2)
        self.delete_key_button.setToolTip(
            "Delete the selected keyframe" if n != 2 else "A tour keeps at least two keyframes"
        )
        exporter = getattr(self.window_, "export_video", None)
        self.export_video_button.setEnabled(has and callable(exporter))
        self.export_video_button.setToolTip(
            "Render the tour to a video file" if callable(exporter) else "Video export is not available"
        )

    def _update_transport(self) -> None:
        tour = self.current_tour()
        p = self.player
        mine = p.active and tour is not None and p.tour.id == tour.id
        self.play_button.setText("Pause" if mine and p.playing else "Play")
        self.stop_button.setEnabled(p.active)
        duration = tour.duration if tour is not None else 0.0
        self.time_label.setText(f"{format_time(self._playhead)} / {format_time(duration)}")

    def _tour_tooltip(self, tour: Tour) -> str:
        return f"{len(tour.keyframes)} keyframes, {format_time(tour.duration)}"

    # ------------------------------------------------------------------ the form
    def _fill_form(self, tour: Tour | None) -> None:
        self._syncing = True
        try:
            self.form.setEnabled(tour is not None)
            if tour is None:
                self.key_title.setText("No tour selected")
                return
            i = self._key
            k = tour.keyframes[i]
            last = i == len(tour.keyframes) - 1
            self.key_title.setText(f"Keyframe {i + 1} of {len(tour.keyframes)}")
            self.time_spin.setValue(k.time)
            self.pause_spin.setValue(k.pause)
            self.interpolation_combo.setCurrentIndex(max(self.interpolation_combo.findData(k.interpolation), 0))
            self.easing_combo.setCurrentIndex(max(self.easing_combo.findData(k.easing), 0))
            self.constant_speed_check.setChecked(k.constant_speed)
            for w in (self.interpolation_combo, self.easing_combo, self.constant_speed_check):
                w.setEnabled(not last)
                w.setToolTip("" if not last else "The last keyframe has no way on to change")
            c = k.caption
            for edit, text in (
                (self.caption_title, c.title if c else ""),
                (self.caption_subtitle, c.subtitle if c else ""),
            ):
                if edit.text() != text:
                    edit.setText(text)
            self.caption_duration.setValue((c.duration or 0.0) if c is not None else 0.0)
            self.caption_duration.setEnabled(c is not None)
            self._fill_layers(tour, k)
            self._fill_filter(k)
            self._fill_sun(tour, k)
            self._fill_scenario(k)
        finally:
            self._syncing = False

    def _fill_layers(self, tour: Tour, k: Keyframe) -> None:
        names = list(dict.fromkeys(layer.name for layer in self.scene.layers))
        names += [n for n in tour.layer_names if n not in names]
        table = self.layers_table
        table.blockSignals(True)
        try:
            if names != self._layer_rows:
                table.setRowCount(0)
                table.setRowCount(len(names))
                for row, name in enumerate(names):
                    item = QTableWidgetItem(name)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    table.setItem(row, 0, item)
                    check = QTableWidgetItem()
                    check.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    table.setItem(row, 1, check)
                    table.setCellWidget(row, 2, _OpacityCell(lambda v, name=name: self._on_layer_opacity(name, v)))
                self._layer_rows = names
            in_scene = {layer.name: layer for layer in self.scene.layers}
            shown = tour.sample(k.time).layers
            for row, name in enumerate(names):
                set_here = name in k.layers
                table.item(row, 1).setCheckState(Qt.CheckState.Checked if set_here else Qt.CheckState.Unchecked)
                font = table.item(row, 0).font()
                font.setItalic(name not in in_scene)
                table.item(row, 0).setFont(font)
                table.item(row, 0).setToolTip("Not in the scene" if name not in in_scene else name)
                if set_here:
                    value = k.layers[name]
                elif name in shown:
                    value = shown[name]
                else:
                    layer = in_scene.get(name)
                    value = float(layer.opacity) if layer is not None and layer.visible else 0.0
                cell = table.cellWidget(row, 2)
                if isinstance(cell, _OpacityCell) and not cell.slider.isSliderDown():
                    cell.set_value(round(value * 100))
            height = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(len(names))) + 4
            table.setFixedHeight(min(max(height, 40), 200))
        finally:
            table.blockSignals(False)

    def _attributes(self) -> dict[str, tuple[float, float]]:
        key = tuple(id(layer.model) for layer in self.scene.layers if isinstance(layer, CityModelLayer))
        if self._attribute_cache is None or self._attribute_cache[0] != key:
            self._attribute_cache = (key, numeric_attributes(self.scene.layers))
        return self._attribute_cache[1]

    def _fill_filter(self, k: Keyframe) -> None:
        names = list(self._attributes())
        if k.filter is not None and k.filter.attribute not in names:
            names.append(k.filter.attribute)
        current = [self.filter_combo.itemData(i) for i in range(1, self.filter_combo.count())]
        if current != names:
            self.filter_combo.clear()
            self.filter_combo.addItem("No filter", "")
            for name in names:
                self.filter_combo.addItem(name, name)
        attr = k.filter.attribute if k.filter is not None else ""
        self.filter_combo.setCurrentIndex(max(self.filter_combo.findData(attr), 0))
        self.filter_max.setEnabled(k.filter is not None)
        if k.filter is not None:
            self.filter_max.setValue(k.filter.max)

    def _place(self) -> tuple[tuple[float, float] | None, str | None]:
        """The scene's ``(lon, lat)``, or ``None`` and why (looked up again only when its extent changes)."""
        from citytwin.model.sun import scene_lonlat, sun_unavailable_reason

        bounds = self.scene.bounds()
        key = (self.scene.display_crs, None if bounds is None else tuple(np.asarray(bounds, float)))
        if self._place_cache is None or self._place_cache[0] != key:
            place = scene_lonlat(self.scene)
            reason = None if place is not None else sun_unavailable_reason(self.scene)
            self._place_cache = (key, place, reason)
        return self._place_cache[1], self._place_cache[2]

    def _local(self, when: datetime) -> datetime:
        """A sun time in the local time of the scene's place (as it is when the scene has none)."""
        from citytwin.model.sun import local_zone

        place, _ = self._place()
        return when.astimezone(local_zone(*place)) if place is not None else when

    def _fill_sun(self, tour: Tour, k: Keyframe) -> None:
        place, reason = self._place()
        shown = k.sun or tour.sample(k.time).sun or self.scene.sun
        if shown is not None:
            local = self._local(shown)
        else:  # today at noon, on the clocks of the scene's place
            from citytwin.model.sun import local_zone

            local = datetime.now(local_zone(*place)) if place is not None else datetime.now()
            local = local.replace(hour=12, minute=0, second=0, microsecond=0)
        self.sun_check.setChecked(k.sun is not None)
        self.sun_check.setEnabled(place is not None or k.sun is not None)  # a sun time can always be cleared
        self.sun_check.setToolTip(reason or SUN_TIP)
        self.sun_edit.setDateTime(QDateTime.fromString(local.strftime("%Y-%m-%dT%H:%M"), _QT_SUN_FORMAT))
        self.sun_edit.setEnabled(place is not None and k.sun is not None)

    def _sun_from_edit(self) -> datetime | None:
        """The date and time in the sun field, in the local time of the scene's place (a sentence shown if not)."""
        from citytwin.model.sun import parse_local_time

        place, reason = self._place()
        if place is None:
            self.show_error(reason or "The sun is unavailable for this scene.")
            return None
        try:
            return parse_local_time(self.sun_edit.dateTime().toString(_QT_SUN_FORMAT), *place)
        except ValueError as exc:  # a local time the clocks skip
            self.show_error(sentence(exc))
            return None

    def set_keyframe_sun(self, when: datetime | None, control: str | None = None) -> Tour | None:
        """Set (or with ``None`` clear) the selected keyframe's sun time, as one undoable edit."""
        i = self._key
        return self._edit(lambda t: edit_keyframe(t, i, sun=when), control=None if control is None else f"{control}{i}")

    def _on_sun_check(self, on: bool) -> None:
        if self._syncing:
            return
        if not on:
            self.set_keyframe_sun(None)
            return
        when = self._sun_from_edit()
        if when is None:
            self.refresh()
            return
        self.set_keyframe_sun(when)

    def _on_sun_time(self) -> None:
        if self._syncing or not self.sun_check.isChecked():
            return
        when = self._sun_from_edit()
        if when is not None:
            self.set_keyframe_sun(when, control="sun")

    def _fill_scenario(self, k: Keyframe) -> None:
        """List "(no change)", "Existing" and the project's scenarios by name; select the keyframe's."""
        entries = [*SCENARIO_CHOICES, *((s.name, s.id) for s in self.scene.scenarios)]
        if k.scenario is not None and all(data != k.scenario for _, data in entries):
            entries.append(("(a deleted scenario)", k.scenario))  # shown as the project's own when played
        combo = self.scenario_combo
        if [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())] != entries:
            combo.clear()
            for text, data in entries:
                combo.addItem(text, data)
        combo.setCurrentIndex(max(combo.findData(k.scenario or ""), 0))

    def _on_scenarios_event(self, *_args: Any) -> None:
        """A scenario was added, renamed, edited, moved or deleted: list them again."""
        tour = self.current_tour()
        if tour is None:
            return
        self._syncing = True
        try:
            self._fill_scenario(tour.keyframes[max(0, min(self._key, len(tour.keyframes) - 1))])
        finally:
            self._syncing = False

    def set_keyframe_scenario(self, scenario: str | None) -> Tour | None:
        """Switch the scenario at the selected keyframe, as one undoable edit.

        Parameters
        ----------
        scenario
            A scenario's id, :data:`~citytwin.model.tours.EXISTING` for the data as read, or
            ``None``: no switch at this keyframe.
        """
        i = self._key
        return self._edit(lambda t: edit_keyframe(t, i, scenario=scenario))

    def _on_scenario(self) -> None:
        if not self._syncing:
            self.set_keyframe_scenario(self.scenario_combo.currentData() or None)

    # ------------------------------------------------------------------ edits
    def _edit(self, make: Callable[[Tour], Tour], select: int | None = None, control: str | None = None) -> Tour | None:
        """Apply one pure tour edit undoably; a refused edit shows its sentence and changes nothing.

        ``control`` names a continuous control (a slider, a spin box) whose back-to-back steps fold into
        one undo step.
        """
        tour = self.current_tour()
        if tour is None:
            return None
        try:
            new = make(tour)
            if new.keyframes == tour.keyframes:
                self._clear_error()
                self.refresh()
                return None
            if select is not None:
                self._key = select
            if control is None:
                result = self.scene.edit_item(tour, keyframes=new.keyframes)
            else:
                # a key of this control alone: its steps fold together, never into another control's edit
                result = msgspec.structs.replace(tour, keyframes=new.keyframes)
                key = ("tours-panel", tour.id, control)
                text = f"Edit tour {tour.name!r}"
                self.scene.undo_stack.push(ReplaceItem(self.scene.tours, tour, result, text, merge_key=key))
        except ValueError as exc:
            self.show_error(sentence(exc))
            self.refresh()  # the form shows the tour as it still is
            return None
        self._clear_error()
        return result

    def show_error(self, text: str) -> None:
        """Show a sentence in red in the dock (a refused edit, an unreadable file)."""
        self.error_label.setText(text)
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    @property
    def error_text(self) -> str:
        """The sentence shown in red, or ``""``."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def _on_time(self, value: float) -> None:
        if not self._syncing:
            i = self._key
            self._edit(lambda t: retime_keyframe(t, i, float(value)), control=f"time{i}")

    def _on_retime_requested(self, index: int, time: float) -> None:
        self._edit(lambda t: retime_keyframe(t, index, time), select=index)

    def _on_segment(self, field: str, value: Any, merge: bool = True) -> None:
        if not self._syncing:
            i = self._key
            self._edit(lambda t: set_segment(t, i, **{field: value}), control=f"{field}{i}" if merge else None)

    def _on_caption(self, control: str | None = None) -> None:
        if self._syncing:
            return
        title, subtitle = self.caption_title.text().strip(), self.caption_subtitle.text().strip()
        i = self._key

        def make(tour: Tour) -> Tour:
            old = tour.keyframes[i].caption
            duration = self.caption_duration.value() or None
            if not (title or subtitle):
                caption = None
            else:
                caption = Caption(title=title, subtitle=subtitle, duration=duration if old is not None else None)
            return edit_keyframe(tour, i, caption=caption)

        self._edit(make, control=None if control is None else f"{control}{i}")

    def _on_layer_check(self, item: QTableWidgetItem) -> None:
        if self._syncing or item.column() != 1:
            return
        name = self._layer_rows[item.row()]
        on = item.checkState() == Qt.CheckState.Checked
        cell = self.layers_table.cellWidget(item.row(), 2)
        value = cell.slider.value() / 100 if isinstance(cell, _OpacityCell) else 1.0
        self._set_layer(name, value if on else None)

    def _on_layer_opacity(self, name: str, percent: int) -> None:
        if not self._syncing:
            self._set_layer(name, percent / 100, control=f"layer:{name}")

    def _set_layer(self, name: str, value: float | None, control: str | None = None) -> None:
        i = self._key

        def make(tour: Tour) -> Tour:
            layers = dict(tour.keyframes[i].layers)
            if value is None:
                layers.pop(name, None)
            else:
                layers[name] = float(value)
            return edit_keyframe(tour, i, layers=layers)

        self._edit(make, control=None if control is None else f"{control}@{i}")

    def _on_filter(self, merge: bool = True) -> None:
        if self._syncing:
            return
        attr = self.filter_combo.currentData() or ""
        i = self._key

        def make(tour: Tour) -> Tour:
            old = tour.keyframes[i].filter
            if not attr:
                return edit_keyframe(tour, i, filter=None)
            if old is not None and old.attribute == attr:
                limit = float(self.filter_max.value())
            else:  # a new attribute starts with every object shown
                limit = self._attributes().get(attr, (0.0, float(self.filter_max.value())))[1]
            return edit_keyframe(tour, i, filter=AttributeFilter(attribute=attr, max=limit))

        self._edit(make, control=f"filter{i}" if merge else None)

    # ------------------------------------------------------------------ keyframe actions
    def camera_now(self) -> CameraState:
        """The view's camera now (world coordinates)."""
        self.viewport.finish_animation()
        return self.viewport.current_pose().to_state(self.viewport.origin)

    def add_view(self, camera: CameraState | None = None) -> Tour | None:
        """Add the current view (or ``camera``) as a keyframe.

        At the playhead when it falls between two keyframes, else :data:`APPEND_SECONDS` after the last.
        """
        tour = self.current_tour()
        if tour is None:
            return None
        camera = camera if camera is not None else self.camera_now()
        kf = tour.keyframes
        t = self._playhead
        if kf[0].time < t < kf[-1].time:
            j = int(np.searchsorted([k.time for k in kf], t))
            rounded = round(t, 2)
            if kf[j - 1].time + kf[j - 1].pause < rounded < kf[j].time:
                t = rounded
            new = self._edit(lambda tr: add_keyframe(tr, Keyframe(time=t, camera=camera)), select=j)
        else:
            new = self._edit(lambda tr: append_keyframe(tr, camera, APPEND_SECONDS), select=len(kf))
        if new is not None:
            self._move_playhead(new.keyframes[self._key].time)
        return new

    def update_keyframe(self) -> Tour | None:
        """Set the selected keyframe's camera to the current view."""
        tour = self.current_tour()
        if tour is None or self._key < 0:
            return None
        camera, i = self.camera_now(), self._key
        new = self._edit(lambda t: edit_keyframe(t, i, camera=camera))
        if new is not None:
            self._move_playhead(new.keyframes[i].time)
        return new

    def delete_keyframe(self) -> Tour | None:
        """Delete the selected keyframe (a tour keeps two)."""
        tour = self.current_tour()
        if tour is None or self._key < 0:
            return None
        i = self._key
        return self._edit(lambda t: delete_keyframe(t, i), select=max(0, min(i, len(tour.keyframes) - 2)))

    def move_keyframe(self, step: int) -> Tour | None:
        """Swap the selected keyframe with the one ``step`` places later (negative: earlier); times stay."""
        tour = self.current_tour()
        if tour is None or self._key < 0:
            return None
        i, j = self._key, self._key + step
        if not 0 <= j < len(tour.keyframes):
            return None
        return self._edit(lambda t: move_keyframe(t, i, j), select=j)

    def go_to_keyframe(self) -> None:
        """Show the selected keyframe's view: the tour's frame when previewing, else fly there."""
        tour = self.current_tour()
        if tour is None or self._key < 0:
            return
        k = tour.keyframes[self._key]
        if self.player.active:
            self.player.pause()
            self.player.seek(k.time)
        else:
            from citytwin.ui.bookmarks_panel import fly_to_camera

            fly_to_camera(self.viewport, k.camera)
            self._move_playhead(k.time)

    def _fill_bookmark_menu(self) -> None:
        menu = self.bookmark_menu
        menu.clear()
        if not len(self.scene.bookmarks):
            menu.addAction("No bookmarks: View → Add Bookmark saves one").setEnabled(False)
            return
        for bookmark in self.scene.bookmarks:
            menu.addAction(bookmark.name, lambda b=bookmark: self.add_view(b.camera))

    def _move_playhead(self, t: float) -> None:
        if self.player.active:
            self.player.seek(t)
        self._playhead = float(t)
        self.timeline.set_playhead(self._playhead)
        self._update_transport()

    # ------------------------------------------------------------------ transport
    def toggle_play(self) -> None:
        """Play the current tour from the playhead, or pause/resume it."""
        tour = self.current_tour()
        if tour is None:
            return
        p = self.player
        if p.active and p.tour.id == tour.id:
            p.loop = self.loop_button.isChecked()
            p.toggle()
        else:
            start = self._playhead if self._playhead < tour.duration else 0.0
            p.play(tour, start, loop=self.loop_button.isChecked())

    def stop(self) -> None:
        """Stop the preview: the view keeps its camera, the tour's fades and filter end, the playhead goes to 0."""
        self.player.stop()
        self._playhead = 0.0
        self.timeline.set_playhead(0.0)
        self._update_transport()

    def scrub(self, t: float) -> None:
        """Show the current tour at ``t`` seconds in the view (paused there)."""
        tour = self.current_tour()
        if tour is None:
            return
        p = self.player
        if p.active and p.tour.id == tour.id:
            p.seek(t)
        else:
            p.play(tour, t, loop=self.loop_button.isChecked())
            p.pause()

    def _on_loop(self, on: bool) -> None:
        self.player.loop = bool(on)

    def _on_position(self, t: float) -> None:
        self._playhead = float(t)
        self.timeline.set_playhead(self._playhead)
        tour = self.current_tour()
        duration = tour.duration if tour is not None else 0.0
        self.time_label.setText(f"{format_time(t)} / {format_time(duration)}")

    def _on_caption_shown(self, caption: Any) -> None:
        if caption is None:
            self.caption_label.clear()
            self.caption_label.hide()
            return
        from html import escape

        text = f"<b>{escape(caption.title)}</b>"
        if caption.subtitle:
            text += f"<br>{escape(caption.subtitle)}"
        self.caption_label.setText(text)
        self.caption_label.show()

    @property
    def caption_text(self) -> str:
        """The caption the preview shows now, as plain text (``""``: none)."""
        if self.caption_label.isHidden():
            return ""
        return re.sub(r"<[^>]+>", " ", self.caption_label.text()).strip()

    def export_video(self) -> None:
        """Hand the current tour to the window's video export."""
        tour = self.current_tour()
        exporter = getattr(self.window_, "export_video", None)
        if tour is not None and callable(exporter):
            self.player.pause()
            exporter(tour)

    # ------------------------------------------------------------------ tours
    def _add_tour(self, tour: Tour) -> Tour:
        names = [t.name for t in self.scene.tours]
        changes: dict[str, Any] = {}
        if tour.name in names:
            changes["name"] = unique_name(tour.name, names)
        if self.scene.tours.by_id(tour.id) is not None:
            changes["id"] = new_id("tour")
        if changes:
            tour = msgspec.structs.replace(tour, **changes)
        self.stop()
        self.scene.add_item(tour)
        self.select_tour(tour)
        self._clear_error()
        return tour

    def _make(self, build: Callable[[], Tour]) -> Tour | None:
        try:
            tour = build()
        except (ValueError, CityTwinError) as exc:
            self.show_error(sentence(exc))
            return None
        return self._add_tour(tour)

    def new_from_view(self) -> Tour | None:
        """A new two-keyframe tour at the current view (move the view, then Update or Add View)."""
        camera = self.camera_now()
        name = unique_name(f"Tour {len(self.scene.tours) + 1}", [t.name for t in self.scene.tours])
        keyframes = [Keyframe(time=0.0, camera=camera), Keyframe(time=NEW_TOUR_SECONDS, camera=camera)]
        tour = self._make(lambda: Tour(name=name, keyframes=keyframes))
        if tour is not None:
            self.select_keyframe(1)
        return tour

    def _selection(self) -> tuple[np.ndarray | None, str]:
        """World bounds and a name of the selected objects, or ``(None, "")``."""
        bounds_of = getattr(self.window_, "selection_world_bounds", None)
        bounds = bounds_of() if callable(bounds_of) else None
        if bounds is None:
            return None, ""
        for layer in self.scene.layers:
            if isinstance(layer, CityModelLayer) and layer.selection and layer.model is not None:
                i = int(layer.selection[0])
                ids = layer.model.objects.ids
                return np.asarray(bounds, float), (ids[i] if 0 <= i < len(ids) else "")
        return np.asarray(bounds, float), ""

    def _update_new_menu(self) -> None:
        bounds, name = self._selection()
        target = (name or "the Selection") if bounds is not None else "the Scene"
        self.new_orbit_action.setText(f"Orbit Around {target}")
        enough = len(self.scene.bookmarks) >= 2
        self.new_bookmarks_action.setText("Fly Through Bookmarks" + ("" if enough else " (needs two)"))
        place, reason = self._place()
        self.new_sun_study_action.setEnabled(place is not None)
        self.new_sun_study_action.setToolTip(
            reason or f"The sun from morning to evening of {self.sun_study_day().isoformat()} over a high view"
        )

    def new_orbit(self) -> Tour | None:
        """An orbit around the selected objects, or the scene's centre when nothing is selected."""
        from citytwin.model.tour_presets import orbit

        bounds, name = self._selection()
        whole = bounds is None
        if whole:
            bounds = self.scene.bounds()
        if bounds is None:
            self.show_error("There is nothing in the scene to orbit around.")
            return None
        b = np.asarray(bounds, float)
        centre = (b[:3] + b[3:]) / 2
        across = float(np.hypot(b[3] - b[0], b[4] - b[1]))
        radius = max(0.6 * across, 60.0) if whole else max(1.2 * max(across, b[5] - b[2]), 40.0)
        camera = self.camera_now()
        dx, dy = camera.position[0] - centre[0], camera.position[1] - centre[1]
        start = math.degrees(math.atan2(dx, dy)) if math.hypot(dx, dy) > 1e-6 else 200.0
        title = "Orbit" if whole or not name else f"Orbit {name}"
        angle = camera.view_angle
        return self._make(
            lambda: orbit(centre, radius, 0.6 * radius, 1.0, ORBIT_SECONDS, start, name=title, view_angle=angle)
        )

    def new_from_bookmarks(self) -> Tour | None:
        """A flight through every bookmark, in the list's order."""
        from citytwin.model.tour_presets import bookmark_tour

        return self._make(lambda: bookmark_tour(list(self.scene.bookmarks), name="Bookmarks"))

    def new_reveal(self) -> Tour | None:
        """A high overview of the scene that descends to street level."""
        from citytwin.model.tour_presets import reveal_scene

        return self._make(lambda: reveal_scene(self.scene))

    def sun_study_day(self) -> date:
        """The day a sun study shows: the date of the scene's sun (local at its place), else today's."""
        when = self.scene.sun
        if when is None:
            from citytwin.model.sun import local_zone

            place, _ = self._place()
            return datetime.now(local_zone(*place)).date() if place is not None else date.today()
        return self._local(when).date()

    def new_sun_study(self) -> Tour | None:
        """A sun study: a high view of the scene while the sun goes from morning to evening of :meth:`sun_study_day`."""
        from citytwin.model.tour_presets import sun_study

        day = self.sun_study_day()
        return self._make(lambda: sun_study(self.scene, day, duration=SUN_STUDY_SECONDS, name=f"Sun study {day}"))

    def duplicate_current(self) -> Tour | None:
        """A copy of the selected tour, after it."""
        tour = self.current_tour()
        if tour is None:
            return None
        names = [t.name for t in self.scene.tours]
        copy = msgspec.structs.replace(tour, id=new_id("tour"), name=unique_name(f"{tour.name} copy", names))
        self.stop()
        self.scene.add_item(copy, self.scene.tours.index(tour) + 1)
        self.select_tour(copy)
        return copy

    def delete_current(self) -> None:
        """Delete the selected tour (undoable)."""
        tour = self.current_tour()
        if tour is not None:
            row = self.view.currentIndex().row()
            self.scene.remove_item(tour)
            if len(self.scene.tours):
                self.select_tour(self.scene.tours[min(row, len(self.scene.tours) - 1)])

    def move_current(self, step: int) -> None:
        """Move the selected tour up (-1) or down (+1) in the list."""
        tour = self.current_tour()
        if tour is None:
            return
        row = self.scene.tours.index(tour)
        if self.model.move_row(row, row + step):
            self.select_tour(tour)

    # ------------------------------------------------------------------ files
    def import_toml(self, path: str | Path | None = None) -> Tour | None:
        """Read a tour from a TOML file (asks for it when ``path`` is not given) and add it."""
        from citytwin.io.tours_toml import read_tour

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import Tour", "", "Tours (*.toml);;All files (*)")
            if not path:
                return None
        try:
            tour = read_tour(path)
        except (CityTwinError, ValueError, OSError) as exc:
            self.show_error(sentence(exc))
            return None
        tour = self._add_tour(tour)
        self._status(f"Imported tour {tour.name!r} from {Path(path).name}.")
        return tour

    def export_toml(self, path: str | Path | None = None) -> Path | None:
        """Write the selected tour to a TOML file (asks where when ``path`` is not given)."""
        from citytwin.io.tours_toml import write_tour

        tour = self.current_tour()
        if tour is None:
            return None
        if path is None:
            stem = re.sub(r"[^\w\- ]+", "_", tour.name).strip() or "tour"
            path, _ = QFileDialog.getSaveFileName(self, "Export Tour", f"{stem}.tour.toml", "Tours (*.toml)")
            if not path:
                return None
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".toml")
        try:
            written = write_tour(tour, target)
        except (CityTwinError, ValueError, OSError) as exc:
            self.show_error(sentence(exc))
            return None
        self._clear_error()
        self._status(f"Saved tour {tour.name!r} to {written}.")
        return written

    def _status(self, text: str) -> None:
        if isinstance(self.window_, QMainWindow):
            self.window_.statusBar().showMessage(text, 5000)


def _item_signals(items: Any) -> list[Any]:
    """The signals of an item list that change what it holds or its order."""
    ev = items.events
    return [ev.inserted, ev.removed, ev.moved, ev.reordered, ev.changed]


def install_tours(window: QMainWindow) -> TourPanel:
    """Add the Tours dock (tabbed with the bookmarks) and its View menu entry to the main window.

    Sets ``window.tours_panel`` and ``window.tours_dock``.
    """
    from PySide6.QtWidgets import QScrollArea

    from citytwin.ui.bookmarks_panel import _menu, _when_closed

    panel = TourPanel(window.scene, window.viewport, window)
    scroll = QScrollArea()  # the form is tall and its button rows wide: the dock never widens the right column
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(panel)
    dock = item_dock(window, "Tours", "tours_dock", scroll)
    bookmarks = getattr(window, "bookmarks_dock", None)
    if bookmarks is not None and window.tabifiedDockWidgets(bookmarks).count(dock) == 0:
        window.tabifyDockWidget(bookmarks, dock)
    _menu(window, "View").addAction(dock.toggleViewAction())
    window.tours_panel = panel
    window.tours_dock = dock
    _when_closed(window, panel.shutdown)

    def hook_later() -> None:  # the video export and presenter mode are installed after this dock
        panel.refresh()
        presenter = getattr(window, "presenter", None)
        entered = getattr(presenter, "entered", None)
        if entered is not None:
            entered.connect(panel.stop)  # one player drives the view at a time

    QTimer.singleShot(0, panel, hook_later)
    return panel


__all__ = ["TourPanel", "install_tours", "numeric_attributes", "sentence", "unique_name"]
