"""Pins in the window: the Place Pin tool, the Annotations dock, the Inspector's pins, the pins in the view.

Everything here is installed by one call, :func:`install_annotations`, from the main window.

* **Place Pin** (Tools menu, toolbar, key P) is a checkable tool: the next left click on a
  surface or a point of the view puts a pin there — at the picked world position (float64,
  in the scene's source CRS), attached to the city object under it and to its layer's
  source — and opens an inline editor on its title ("Pin N"). Escape cancels the tool.
* The **Annotations** dock lists the pins (title, colour and icon) in the list's order, which
  is also the labels' priority in the view: rename inline (F2), edit title, description,
  colour and icon (Edit…), hide and show (the tick), delete, reorder (drag, or Up/Down),
  fly to (double-click), filter by text; the whole pins layer can be hidden or made
  translucent. Every change is a command on ``scene.undo_stack`` (``scene.add_item``,
  ``edit_item``, ``remove_item``, ``move_item``, ``scene.set``).
* The **Inspector** of a selected object lists the pins attached to it.
* The view draws ``scene.pins`` with one :class:`~citytwin.render.annotations_visual.PinsVisual`
  that follows the list and ``scene.annotation_settings``. A click on a pin's marker or label
  selects that pin in the dock (:meth:`Annotations.view_clicked`, which the window asks
  before it selects what is behind); a click on the sky clears the dock's selection.

The dock's list is the Qt item model every item list uses
(:class:`~citytwin.ui.item_list_model.ItemListModel`, the napari pattern): the list's
``inserting``/``inserted``, ``removing``/``removed``, ``moving``/``moved`` and ``changed`` events
become ``beginInsertRows``/``endInsertRows`` and so on; the panel never keeps its own copy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPointF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.annotations import PIN_COLOUR, PIN_ICONS, Pin, make_pin
from citytwin.model.layers import CityModelLayer
from citytwin.model.scene import Scene
from citytwin.ui.coordinates import to_source
from citytwin.ui.item_list_model import Column, ItemListModel
from citytwin.ui.item_panels import button_row, item_dock, item_dock_sibling, tool_button
from citytwin.ui.view_clicks import CLICK_TOLERANCE_PX

#: A click this near (pixels) a pin's marker selects the pin.
PICK_TOLERANCE_PX = 3.0
#: Distance range (metres) of the camera that flies to a pin.
FLY_DISTANCE = (40.0, 250.0)
#: Colours offered for new pins, in turn (the first is the model's default).
PIN_PALETTE = (
    PIN_COLOUR,
    (0.16, 0.44, 0.86),
    (0.13, 0.62, 0.32),
    (0.93, 0.60, 0.10),
    (0.56, 0.27, 0.75),
    (0.05, 0.62, 0.68),
)


# ---------------------------------------------------------------------- icons
_ICON_CACHE: dict[tuple[Any, ...], QIcon] = {}


def pin_icon(icon: str, colour: tuple[float, float, float], size: int = 20) -> QIcon:
    """The marker of a pin as the view draws it (the same shapes), for lists and buttons."""
    key = (icon, *(round(float(c), 4) for c in colour), size)
    cached = _ICON_CACHE.get(key)
    if cached is not None:
        return cached
    from citytwin.render.annotations_visual import OUTLINE_RGB, icon_polygons

    outline, fill, symbol = icon_polygons(icon)
    pts = np.vstack(outline)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    ratio = 2  # drawn at twice the size for sharp edges on high-DPI screens
    side = size * ratio
    pix = QPixmap(side, side)
    pix.fill(Qt.GlobalColor.transparent)
    scale = (side - 2) / float(max(hi - lo))
    offset = np.array([(side - (hi[0] - lo[0]) * scale) / 2, (side - (hi[1] - lo[1]) * scale) / 2])

    def path(polys) -> QPainterPath:
        out = QPainterPath()
        for poly in polys:
            xy = (poly - [lo[0], hi[1]]) * [scale, -scale] + offset  # y down
            out.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in xy]))
            out.closeSubpath()
        return out

    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(Qt.PenStyle.NoPen))
    painter.fillPath(path(outline), QColor.fromRgbF(*OUTLINE_RGB))
    painter.fillPath(path(fill), QColor.fromRgbF(*(float(c) for c in colour)))
    if symbol:
        painter.fillPath(path(symbol), QColor(255, 255, 255))
    painter.end()
    pix.setDevicePixelRatio(ratio)
    result = QIcon(pix)
    if len(_ICON_CACHE) > 512:
        _ICON_CACHE.clear()
    _ICON_CACHE[key] = result
    return result


def pin_tooltip(pin: Pin) -> str:
    lines = [pin.title]
    if pin.description:
        lines.append(pin.description)
    if pin.object_id:
        lines.append(f"On {pin.object_id}" + (f" ({pin.source})" if pin.source else ""))
    if not pin.visible:
        lines.append("Hidden")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the list model
def _hidden_grey(pin: Pin) -> QColor | None:
    return None if pin.visible else QColor(140, 140, 140)


def pin_list_model(scene: Scene, parent: QObject | None = None) -> ItemListModel:
    """The scene's pins as a Qt item model (one row per pin, in list order), edited through undoable commands.

    The title is edited inline (spaces folded; a pin keeps a title), the tick shows or hides
    the pin, a drag of rows reorders them.
    """
    column = Column(
        "Pin",
        lambda p: p.title,
        edit="title",
        check="visible",
        icon=lambda p: pin_icon(p.icon, p.colour),
        tooltip=pin_tooltip,
        foreground=_hidden_grey,
        clean=lambda text: " ".join(text.split()),
        required=True,
    )
    return ItemListModel(scene, scene.pins, [column], parent)


# ---------------------------------------------------------------------- the edit dialog
class PinDialog(QDialog):
    """Title, description, colour and icon of one pin."""

    def __init__(self, pin: Pin, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit pin")
        self.pin = pin
        self._colour = tuple(pin.colour)
        form = QFormLayout(self)
        self.title_edit = QLineEdit(pin.title)
        self.description_edit = QPlainTextEdit(pin.description)
        self.description_edit.setMinimumHeight(80)
        self.colour_button = QPushButton()
        self.colour_button.clicked.connect(self._pick_colour)
        self.icon_combo = QComboBox()
        for name in PIN_ICONS:
            self.icon_combo.addItem(pin_icon(name, pin.colour), name.capitalize(), name)
        self.icon_combo.setCurrentIndex(PIN_ICONS.index(pin.icon) if pin.icon in PIN_ICONS else 0)
        form.addRow("Title", self.title_edit)
        form.addRow("Description", self.description_edit)
        form.addRow("Colour", self.colour_button)
        form.addRow("Icon", self.icon_combo)
        where = pin.object_id or "—"
        if pin.source:
            where += f" ({pin.source})"
        form.addRow("On", QLabel(where))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._show_colour()

    def _show_colour(self) -> None:
        self.colour_button.setIcon(pin_icon("pin", self._colour, 16))  # type: ignore[arg-type]
        self.colour_button.setText(QColor.fromRgbF(*self._colour).name())

    def _pick_colour(self) -> None:
        colour = QColorDialog.getColor(QColor.fromRgbF(*self._colour), self, "Pin colour")
        if colour.isValid():
            self.set_colour((colour.redF(), colour.greenF(), colour.blueF()))

    def set_colour(self, colour: tuple[float, float, float]) -> None:
        self._colour = tuple(float(c) for c in colour)
        self._show_colour()

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the pin."""
        out: dict[str, Any] = {}
        title = " ".join(self.title_edit.text().split())
        if title and title != self.pin.title:
            out["title"] = title
        description = self.description_edit.toPlainText().strip()
        if description != self.pin.description:
            out["description"] = description
        if tuple(round(c, 4) for c in self._colour) != tuple(round(c, 4) for c in self.pin.colour):
            out["colour"] = self._colour
        icon = self.icon_combo.currentData()
        if icon != self.pin.icon:
            out["icon"] = icon
        return out


# ---------------------------------------------------------------------- the dock
class AnnotationsPanel(QWidget):
    """The Annotations dock: the scene's pins, their edits, the pins layer's switch and opacity.

    Signals
    -------
    fly_requested(pin)
        Show this pin (double-click, "Fly to").
    """

    fly_requested = Signal(object)

    def __init__(self, scene: Scene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        # the pins layer
        top = QHBoxLayout()
        settings = scene.annotation_settings
        self.show_check = QCheckBox("Show pins")
        self.show_check.setChecked(settings.pins_visible)
        self.show_check.toggled.connect(self.set_pins_visible)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(round(settings.pins_opacity * 100))
        self.opacity_slider.setToolTip("Opacity of every pin")
        self.opacity_slider.valueChanged.connect(lambda v: self.set_pins_opacity(v / 100.0, merge=True))
        top.addWidget(self.show_check)
        top.addWidget(QLabel("Opacity"))
        top.addWidget(self.opacity_slider, 1)
        layout.addLayout(top)
        self._settings_connections = [
            (settings.events.pins_visible, self._on_pins_visible),
            (settings.events.pins_opacity, self._on_pins_opacity),
        ]
        for sig, cb in self._settings_connections:
            sig.connect(cb)
        # filter
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter pins")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._apply_filter)
        layout.addWidget(self.filter_edit)
        # the list
        self.model = pin_list_model(scene, self)
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setIconSize(QSize(18, 18))
        self.view.setUniformItemSizes(True)
        self.view.doubleClicked.connect(self._on_double_click)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        layout.addWidget(self.view, 1)
        self.placeholder = QLabel("No pins yet: Tools → Place Pin (P), then click on a building or the ground.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: palette(mid);")
        layout.addWidget(self.placeholder)
        # buttons
        self.buttons: dict[str, QToolButton] = {}
        for key, text, tip, slot in (
            ("edit", "Edit…", "Title, description, colour and icon", self._edit_selected),
            ("colour", "Colour…", "Colour of the selected pins", self._colour_selected),
            ("toggle", "Hide", "Hide or show the selected pins", self._toggle_selected),
            ("up", "↑", "Move up (labels of pins higher in the list win where labels collide)", lambda: self._move(-1)),
            ("down", "↓", "Move down", lambda: self._move(1)),
            ("fly", "Fly to", "Look at the pin", self._fly_selected),
            ("delete", "Delete", "Delete the selected pins", self._delete_selected),
        ):
            self.buttons[key] = tool_button(text, tip, slot, flat=False)
        keys = list(self.buttons)
        split = keys.index("up")  # two rows, so the dock stays narrow beside the 3D view
        for part in (keys[:split], keys[split:]):
            layout.addLayout(button_row((self.buttons[k] for k in part), spacing=-1))
        for sig in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset, self.model.rowsMoved):
            sig.connect(self._on_rows_changed)
        self.model.dataChanged.connect(self._on_data_changed)
        self._on_rows_changed()

    def shutdown(self) -> None:
        self.model.disconnect_items()
        for sig, cb in self._settings_connections:
            sig.disconnect(cb)
        self._settings_connections = []

    # ------------------------------------------------------------ reading
    def pins(self) -> list[Pin]:
        return list(self.scene.pins)

    def selected_pins(self) -> list[Pin]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [p for r in rows if (p := self.model.item(r)) is not None]

    def visible_rows(self) -> list[int]:
        """Rows the filter lets through."""
        return [r for r in range(self.model.rowCount()) if not self.view.isRowHidden(r)]

    def select_pin(self, pin_id: str) -> None:
        row = self.model.row_of(pin_id)
        if row < 0:
            return
        index = self.model.index(row)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)

    def edit_title(self, pin_id: str) -> None:
        """Open the inline editor on a pin's title (after placing it)."""
        row = self.model.row_of(pin_id)
        if row < 0:
            return
        if self.view.isRowHidden(row):
            self.filter_edit.clear()
        self.select_pin(pin_id)
        self.view.setFocus()
        self.view.edit(self.model.index(row))

    # ------------------------------------------------------------ edits (each one undoable)
    def rename(self, pin: Pin, title: str) -> Pin | None:
        title = " ".join(title.split())
        if not title or title == pin.title:
            return None
        return self.scene.edit_item(self._current(pin), title=title)  # type: ignore[return-value]

    def set_description(self, pin: Pin, text: str) -> Pin | None:
        return self._edit(pin, description=text.strip())

    def set_colour(self, pin: Pin, colour: tuple[float, float, float]) -> Pin | None:
        return self._edit(pin, colour=tuple(float(c) for c in colour))

    def set_icon(self, pin: Pin, icon: str) -> Pin | None:
        return self._edit(pin, icon=icon)

    def set_visible(self, pin: Pin, visible: bool) -> Pin | None:
        return self._edit(pin, visible=bool(visible))

    def edit(self, pin: Pin, **changes: Any) -> Pin | None:
        """Several fields in one undo step."""
        return self._edit(pin, **changes)

    def delete(self, pins: list[Pin]) -> None:
        for pin in list(pins):
            current = self.scene.pins.by_id(pin.id)
            if current is not None:
                self.scene.remove_item(current)

    def move(self, pin: Pin, delta: int) -> None:
        """Move a pin up (negative) or down the list."""
        row = self.model.row_of(pin.id)
        target = max(0, min(row + delta, len(self.scene.pins) - 1))
        if row >= 0 and target != row:
            self.scene.move_item(self._current(pin), target)

    def set_pins_visible(self, visible: bool) -> None:
        settings = self.scene.annotation_settings
        if bool(visible) != settings.pins_visible:
            self.scene.set(settings, "pins_visible", bool(visible))

    def set_pins_opacity(self, opacity: float, merge: bool = False) -> None:
        settings = self.scene.annotation_settings
        value = float(min(max(opacity, 0.0), 1.0))
        if abs(value - settings.pins_opacity) > 1e-9:
            self.scene.set(settings, "pins_opacity", value, merge=merge)

    def _current(self, pin: Pin) -> Pin:
        current = self.scene.pins.by_id(pin.id)
        if current is None:
            raise KeyError(f"no pin {pin.id!r} in the scene")
        return current

    def _edit(self, pin: Pin, **changes: Any) -> Pin | None:
        current = self._current(pin)
        changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
        if not changes:
            return None
        return self.scene.edit_item(current, **changes)  # type: ignore[return-value]

    # ------------------------------------------------------------ buttons
    def _edit_selected(self) -> None:
        pins = self.selected_pins()
        if not pins:
            return
        dialog = PinDialog(pins[0], self)
        if dialog.exec():
            changes = dialog.changes()
            if changes:
                self.edit(pins[0], **changes)

    def _colour_selected(self) -> None:
        pins = self.selected_pins()
        if not pins:
            return
        colour = QColorDialog.getColor(QColor.fromRgbF(*pins[0].colour), self, "Pin colour")
        if colour.isValid():
            for pin in pins:
                self.set_colour(pin, (colour.redF(), colour.greenF(), colour.blueF()))

    def _toggle_selected(self) -> None:
        pins = self.selected_pins()
        if pins:
            show = not pins[0].visible
            for pin in pins:
                self.set_visible(pin, show)

    def _move(self, delta: int) -> None:
        pins = self.selected_pins()
        if len(pins) == 1:
            self.move(pins[0], delta)
            self.select_pin(pins[0].id)

    def _delete_selected(self) -> None:
        self.delete(self.selected_pins())

    def _fly_selected(self) -> None:
        pins = self.selected_pins()
        if pins:
            self.fly_requested.emit(pins[0])

    def _on_double_click(self, index: QModelIndex) -> None:
        pin = self.model.item(index)
        if pin is not None:
            self.fly_requested.emit(pin)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.view.hasFocus():
            self._delete_selected()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------ view state
    def set_filter(self, text: str) -> None:
        self.filter_edit.setText(text)

    def _apply_filter(self, *_args: Any) -> None:
        words = self.filter_edit.text().lower().split()
        for row in range(self.model.rowCount()):
            pin = self.model.item(row)
            hay = f"{pin.title}\n{pin.description}\n{pin.object_id or ''}".lower() if pin is not None else ""
            self.view.setRowHidden(row, not all(w in hay for w in words))

    def _on_rows_changed(self, *_args: Any) -> None:
        self._apply_filter()
        self.placeholder.setVisible(self.model.rowCount() == 0)
        self._update_buttons()

    def _on_data_changed(self, *_args: Any) -> None:
        self._apply_filter()
        self._update_buttons()

    def _update_buttons(self, *_args: Any) -> None:
        pins = self.selected_pins()
        for key in ("edit", "fly", "up", "down"):
            self.buttons[key].setEnabled(len(pins) == 1)
        for key in ("colour", "toggle", "delete"):
            self.buttons[key].setEnabled(bool(pins))
        self.buttons["toggle"].setText("Show" if pins and not pins[0].visible else "Hide")

    def _on_pins_visible(self, value: bool) -> None:
        if self.show_check.isChecked() != bool(value):
            self.show_check.blockSignals(True)
            self.show_check.setChecked(bool(value))
            self.show_check.blockSignals(False)
        self.opacity_slider.setEnabled(bool(value))

    def _on_pins_opacity(self, value: float) -> None:
        v = round(float(value) * 100)
        if self.opacity_slider.value() != v:
            self.opacity_slider.blockSignals(True)
            self.opacity_slider.setValue(v)
            self.opacity_slider.blockSignals(False)


# ---------------------------------------------------------------------- the Inspector's pins
class InspectorPins(QWidget):
    """Under the Inspector's card: the pins attached to the object it shows."""

    fly_requested = Signal(object)

    def __init__(self, scene: Scene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.layer: Any = None
        self.index = -1
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.title = QLabel("Pins on this object")
        self.title.setStyleSheet("font-weight: bold;")
        self.list = QListWidget()
        self.list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.list.setIconSize(QSize(16, 16))
        self.list.itemDoubleClicked.connect(self._on_double_click)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        self.setVisible(False)

    def show_object(self, layer: Any, index: int) -> None:
        self.layer, self.index = layer, index
        self.refresh()

    def object_id(self) -> str | None:
        model = getattr(self.layer, "model", None)
        if model is None or not 0 <= self.index < len(model.objects):
            return None
        return str(model.objects.ids[self.index])

    def pins(self) -> list[Pin]:
        """The pins attached to the shown object (by id, from this layer's source when the pin says)."""
        oid = self.object_id()
        if oid is None:
            return []
        names = {source_id(self.layer), getattr(self.layer, "name", None)}
        return [p for p in self.scene.pins if p.object_id == oid and (p.source is None or p.source in names)]

    def refresh(self, *_args: Any) -> None:
        pins = self.pins()
        self.list.clear()
        for pin in pins:
            item = QListWidgetItem(pin_icon(pin.icon, pin.colour), pin.title)
            item.setData(Qt.ItemDataRole.UserRole, pin.id)
            item.setToolTip(pin_tooltip(pin))
            self.list.addItem(item)
        self.title.setText(f"Pins on this object ({len(pins)})")
        if pins:  # as tall as its rows (up to five): the Inspector's table keeps the rest
            rows = min(len(pins), 5)
            self.list.setFixedHeight(rows * max(self.list.sizeHintForRow(0), 16) + 2 * self.list.frameWidth() + 2)
        self.setVisible(bool(pins))

    def _on_double_click(self, item: QListWidgetItem) -> None:
        pin = self.scene.pins.by_id(item.data(Qt.ItemDataRole.UserRole))
        if pin is not None:
            self.fly_requested.emit(pin)


# ---------------------------------------------------------------------- the tool
def source_id(layer: Any) -> str | None:
    """What a pin names its layer by: the project's source id when the layer has one, else its name."""
    source = getattr(layer, "source", None)
    sid = getattr(source, "id", None) or getattr(layer, "source_id", None)
    return str(sid) if sid else getattr(layer, "name", None)


def next_pin_title(scene: Scene) -> str:
    """ "Pin N" with the first N from the number of pins that no pin has as its title."""
    titles = {p.title for p in scene.pins}
    n = len(scene.pins) + 1
    while f"Pin {n}" in titles:
        n += 1
    return f"Pin {n}"


class PinTool(QObject):
    """The Place Pin tool: while on, the next left click in the view places a pin (Escape cancels).

    Signals
    -------
    placed(pin)
        A pin was placed (and added to the scene, undoably).
    """

    placed = Signal(object)

    def __init__(self, window: Any, action: QAction) -> None:
        super().__init__(window)
        self.window = window
        self.scene: Scene = window.scene
        self.viewport = window.viewport
        self.action = action
        self._press: tuple[float, float] | None = None
        self._app_filter = False
        #: the click being handled placed a pin (the view's own handling of it must not select another)
        self.placing = False
        action.toggled.connect(self._on_toggled)

    @property
    def active(self) -> bool:
        return self.action.isChecked()

    def activate(self) -> None:
        self.action.setChecked(True)

    def cancel(self) -> None:
        self.action.setChecked(False)

    def _on_toggled(self, on: bool) -> None:
        # one application-wide filter while the tool is on: it sees the view's clicks, and Escape wherever
        # the focus is, before the window's own Escape (Clear Selection)
        widget = self.viewport.plotter
        app = QApplication.instance()
        if on:
            if app is not None and not self._app_filter:
                app.installEventFilter(self)
                self._app_filter = True
            widget.setCursor(Qt.CursorShape.CrossCursor)
            self.window.statusBar().showMessage(
                "Place a pin: click on a building, the ground or a point (Esc cancels).", 0
            )
        else:
            if app is not None and self._app_filter:
                app.removeEventFilter(self)
                self._app_filter = False
            widget.unsetCursor()
            self._press = None
            self.window.statusBar().clearMessage()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and self.active:
            if event.key() == Qt.Key.Key_Escape:  # before the window's Escape (clear selection)
                event.accept()
                self.cancel()
                return True
            return False
        if obj is not self.viewport.plotter or not self.active:
            return False
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._press = (event.position().x(), event.position().y())
        elif kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            press, self._press = self._press, None
            x, y = event.position().x(), event.position().y()
            if press is not None and max(abs(x - press[0]), abs(y - press[1])) <= CLICK_TOLERANCE_PX:
                self.placing = True  # until the view has handled this click too
                QTimer.singleShot(0, self._placed_click_done)
                self.place_at(x, y)
        return False  # the view still gets the click (it selects what was clicked)

    def _placed_click_done(self) -> None:
        self.placing = False

    def place_at(self, qx: float, qy: float) -> Pin | None:
        """Place a pin at a position of the view (Qt widget coordinates); ``None`` on the sky."""
        layer, hit = self.viewport.pick_qt(qx, qy)
        if hit is None or layer is None:
            self.window.statusBar().showMessage("Nothing there to put a pin on: click on the model.", 4000)
            return None
        world = np.asarray(hit.position, np.float64) + self.viewport.origin  # display CRS, float64
        position = to_source(world, self.scene)
        object_id = None
        index = int(getattr(hit, "object", -1))
        model = getattr(layer, "model", None)
        if isinstance(layer, CityModelLayer) and model is not None and 0 <= index < len(model.objects):
            from citytwin.ui.selection import selectable_object

            object_id = str(model.objects.ids[selectable_object(layer, index)])
        colour = PIN_PALETTE[len(self.scene.pins) % len(PIN_PALETTE)]
        pin = make_pin(
            position, next_pin_title(self.scene), colour=colour, object_id=object_id, source=source_id(layer)
        )
        self.scene.add_item(pin)
        self.cancel()
        self.placed.emit(pin)
        return pin


# ---------------------------------------------------------------------- installing
def _menu_actions(menu: Any) -> list[QAction]:
    """Every action of a menu and its submenus."""
    out: list[QAction] = []
    for action in menu.actions():
        sub = action.menu()
        if sub is not None:
            out.extend(_menu_actions(sub))
        else:
            out.append(action)
    return out


class Annotations(QObject):
    """What :func:`install_annotations` made, for the window and the tests."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        from citytwin.render.annotations_visual import PinsVisual, source_to_display

        self.window = window
        scene: Scene = window.scene
        self.scene = scene
        viewport = window.viewport
        self.viewport = viewport
        # the view
        self.visual = PinsVisual(
            scene.pins,
            viewport.plotter,
            scene.origin,
            to_display=lambda: source_to_display(scene.crs, scene.display_crs),
            settings=scene.annotation_settings,
            on_change=viewport.request_render,
        )
        self._scene_connections = [
            (scene.origin_changed, self._on_origin),
            (scene.layers.events.inserted, self._on_layers_changed),
        ]
        # the dock: a tab beside the other lists of the user's items (measurements, bookmarks), else under the Inspector
        self.panel = AnnotationsPanel(scene)
        self.dock = item_dock(window, "Annotations", "annotations_dock", self.panel)
        inspector_dock = getattr(window, "inspector_dock", None)
        if item_dock_sibling(window, self.dock) is None and isinstance(inspector_dock, QDockWidget):
            window.splitDockWidget(inspector_dock, self.dock, Qt.Orientation.Vertical)
        self.dock.raise_()
        self.panel.fly_requested.connect(self.fly_to)
        # the Inspector
        self.inspector_pins = InspectorPins(scene)
        self.inspector_pins.fly_requested.connect(self._fly_and_select)
        inspector = getattr(window, "inspector", None)
        if inspector is not None and inspector.layout() is not None:
            lay = inspector.layout()
            lay.insertWidget(max(lay.count() - 1, 0), self.inspector_pins)  # above the Copy button row
        selection = getattr(window, "selection", None)
        if selection is not None:
            selection.changed.connect(self._on_selection)
        self._pin_connections = [
            (getattr(scene.pins.events, name), self.inspector_pins.refresh)
            for name in ("inserted", "removed", "changed", "moved")
        ]
        # the tool
        self.place_action = QAction(pin_icon("pin", PIN_COLOUR), "Place &Pin", window)
        self.place_action.setCheckable(True)
        self.place_action.setShortcut(QKeySequence("P"))
        tip = "Place a pin: click on a building, the ground or a point (Esc cancels)"
        self.place_action.setToolTip(tip + " (P)")
        self.place_action.setStatusTip(tip)
        self.tool = PinTool(window, self.place_action)
        self.tool.placed.connect(self._on_placed)
        self._add_to_menus()
        for sig, cb in [*self._scene_connections, *self._pin_connections]:
            sig.connect(cb)
        # a measurement's label is lifted off the pins' markers and labels rather than hide them
        measurements = getattr(window, "measurements_visual", None)
        if measurements is not None:
            measurements.obstacles = self.visual.obstacle_boxes
        self._wrap_shutdown()

    def _add_to_menus(self) -> None:
        window = self.window
        menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions() if a.menu() is not None}
        tools = menus.get("Tools")
        if tools is None:
            tools = window.menuBar().addMenu("&Tools")
        # one tool at a time: another checkable tool of the menu (measuring) switches Place Pin off, and back
        for other in _menu_actions(tools):
            if other.isCheckable() and other is not self.place_action:
                other.toggled.connect(lambda on: on and self.tool.cancel())
                self.place_action.toggled.connect(lambda on, other=other: on and other.setChecked(False))
        tools.addSeparator()
        tools.addAction(self.place_action)
        view = menus.get("View")
        if view is not None:
            view.addAction(self.dock.toggleViewAction())
        toolbar = window.findChild(QToolBar, "main_toolbar")
        if toolbar is not None:
            toolbar.addSeparator()
            toolbar.addAction(self.place_action)
            button = toolbar.widgetForAction(self.place_action)
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def _wrap_shutdown(self) -> None:
        """Take the pins out of the view when the viewport shuts down (the window closing)."""
        viewport = self.viewport
        original = viewport.shutdown

        def shutdown() -> None:
            self.shutdown()
            original()

        viewport.shutdown = shutdown  # type: ignore[method-assign]

    def shutdown(self) -> None:
        if self.visual is None:
            return
        self.tool.cancel()
        for sig, cb in [*self._scene_connections, *self._pin_connections]:
            try:
                sig.disconnect(cb)
            except (RuntimeError, ValueError, TypeError):
                pass
        self.panel.shutdown()
        measurements = getattr(self.window, "measurements_visual", None)
        if measurements is not None and measurements.obstacles == self.visual.obstacle_boxes:
            measurements.obstacles = None
        self.visual.remove()
        self.visual = None

    # ------------------------------------------------------------ reactions
    def _on_origin(self, origin: Any) -> None:
        if self.visual is not None:
            self.visual.set_origin(origin)

    def _on_layers_changed(self, *_args: Any) -> None:
        if self.visual is not None:
            self.visual.sync()  # the scene's CRS may be known now

    def _on_selection(self, layer: Any, index: int) -> None:
        inspector = getattr(self.window, "inspector", None)
        if inspector is not None and getattr(inspector, "point", None) is not None:
            self.inspector_pins.show_object(None, -1)
        else:
            self.inspector_pins.show_object(layer, index)

    def _on_placed(self, pin: Pin) -> None:
        self.dock.show()
        self.dock.raise_()
        self.panel.edit_title(pin.id)
        self.window.statusBar().showMessage(f"Placed {pin.title}: type a title, Enter to keep it.", 5000)

    def _fly_and_select(self, pin: Pin) -> None:
        self.panel.select_pin(pin.id)
        self.fly_to(pin)

    # ------------------------------------------------------------ clicks in the view
    def pin_at(self, x: float, y: float, tolerance_px: float = PICK_TOLERANCE_PX) -> Pin | None:
        """The pin whose marker or label is at a display position of the view (VTK's: pixels, origin bottom left)."""
        if self.visual is None:
            return None
        pin_id = self.visual.pick(x, y, tolerance_px * self.viewport.plotter.devicePixelRatioF())
        return None if pin_id is None else self.scene.pins.by_id(pin_id)

    def view_clicked(self, hit: bool) -> bool:
        """The view was clicked (it emitted ``picked`` or ``point_picked``): is it a click on a pin?

        A click on a pin's marker or label selects that pin in the Annotations dock (and
        shows the dock) and returns True: the window then selects nothing else (not the
        building behind the marker). A click on nothing (``hit`` False: the sky) clears the
        dock's selection. The click that places a pin with the Place Pin tool is not one.
        """
        if self.visual is None or self.tool.placing:
            return False
        x, y = self.viewport.plotter.iren.get_event_position()
        pin = self.pin_at(x, y)
        if pin is None:
            if not hit:
                self.panel.view.clearSelection()
            return False
        if self.panel.view.isRowHidden(self.panel.model.row_of(pin.id)):
            self.panel.filter_edit.clear()  # the filter must not hide the pin clicked
        self.dock.show()
        self.dock.raise_()
        self.panel.view.clearSelection()
        self.panel.select_pin(pin.id)
        self.window.statusBar().showMessage(f"{pin.title}: double-click it in Annotations to fly to it.", 5000)
        return True

    # ------------------------------------------------------------ camera
    def pin_display_position(self, pin: Pin) -> np.ndarray:
        """The pin's point in the scene's display CRS (float64, not relative to the origin)."""
        from citytwin.render.annotations_visual import source_to_display

        p = np.asarray(pin.position, np.float64).reshape(1, 3)
        t = source_to_display(self.scene.crs, self.scene.display_crs)
        return (t(p) if t is not None else p)[0]

    def fly_to(self, pin: Pin, animate: bool = True) -> None:
        """Look at a pin from the current direction (at least 25° down), 40–250 m away."""
        from citytwin.ui.viewport import pose_angles, pose_from_angles

        vp = self.viewport
        focal = self.pin_display_position(pin) - vp.origin
        pose = vp.current_pose()
        az, el = pose_angles(pose)
        el = min(max(el, 25.0), 75.0)
        dist = min(max(pose.distance, FLY_DISTANCE[0]), FLY_DISTANCE[1])
        if not math.isfinite(dist):
            dist = FLY_DISTANCE[1]
        vp.fly_to(pose_from_angles(focal, az, el, dist, pose.view_angle), animate)


def install_annotations(window: Any) -> Annotations:
    """Give the main window its pins: the view's pins, the Annotations dock, the Place Pin tool, the Inspector's pins.

    Kept on the window as ``window.annotations``; returns it.
    """
    annotations = Annotations(window)
    window.annotations = annotations
    return annotations
