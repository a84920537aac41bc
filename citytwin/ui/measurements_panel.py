"""The Measurements dock: the tools, and every measurement with its values.

The list follows ``scene.measurements`` (an :class:`~citytwin.ui.item_list_model.ItemListModel`):
the name column is editable (double-click or F2) and its check box shows or
hides the measurement; the value column shows the main figure, the details
below every figure of the selected one. Delete removes it, Fly To (or a
double-click on the value) frames it. Every change is an undoable scene command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.annotations import Measurement
from citytwin.model.measure_units import (
    KIND_COLOURS,
    KIND_NAMES,
    display_name,
    length_unit,
    measurement_rows,
    measurement_summary,
)
from citytwin.model.scene import Scene
from citytwin.ui.item_list_model import Column, ItemListModel
from citytwin.ui.item_panels import button_row, tool_button

if TYPE_CHECKING:
    from citytwin.render.measurements_visual import MeasurementsVisual
    from citytwin.ui.measure_tool import MeasureTool
    from citytwin.ui.viewport import Viewport

#: share of the view a measurement flown to spans
FLY_FILL = 0.5


def _swatch(rgb: tuple[int, int, int]) -> QIcon:
    pix = QPixmap(12, 12)
    pix.fill(QColor(*rgb))
    return QIcon(pix)


class MeasurementsPanel(QWidget):
    """Tool buttons, the list of measurements and the selected one's figures."""

    def __init__(
        self,
        scene: Scene,
        viewport: Viewport,
        tool: MeasureTool,
        visual: MeasurementsVisual,
        actions: dict[str, QAction],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.scene = scene
        self.viewport = viewport
        self.tool = tool
        self.visual = visual
        self._swatches = {kind: _swatch(rgb) for kind, rgb in KIND_COLOURS.items()}
        self.model = ItemListModel(
            scene,
            scene.measurements,
            [
                Column(
                    "Name",
                    lambda m: display_name(m, scene.measurements),
                    edit="title",
                    check="visible",
                    icon=lambda m: self._swatches.get(m.kind),
                    tooltip=lambda m: f"{KIND_NAMES.get(m.kind, m.kind)} — tick to show it in the view",
                ),
                Column("Value", self._summary, tooltip=self._details),
            ],
            self,
        )
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(self._on_double_clicked)

        tools = QGridLayout()  # two columns, so the dock stays narrow beside the 3D view
        tools.setContentsMargins(0, 0, 0, 0)
        tools.setSpacing(2)
        self.tool_buttons: dict[str, QToolButton] = {}
        for k, (kind, act) in enumerate(actions.items()):
            b = QToolButton()
            b.setDefaultAction(act)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setAutoRaise(True)
            tools.addWidget(b, k // 2, k % 2)
            self.tool_buttons[kind] = b
        tools.setColumnStretch(2, 1)

        self.fly_button = tool_button("Fly To", "Frame the selected measurement", self.fly_to_current)
        self.copy_button = tool_button("Copy", "Copy the selected measurement's figures", self.copy_current)
        self.delete_button = tool_button("Delete", "Delete the selected measurement (Del)", self.delete_current)
        row = button_row((self.fly_button, self.copy_button, self.delete_button))

        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid);")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.placeholder = QLabel("No measurements yet: choose a tool above, then click in the view.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: palette(mid);")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(tools)
        layout.addWidget(self.hint)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        layout.addWidget(self.details)

        for key in (QKeySequence.StandardKey.Delete,):
            sc = QShortcut(QKeySequence(key), self.view)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(self.delete_current)
        tool.hint_changed.connect(self.hint.setText)
        tool.measured.connect(self.select)
        for sig in (
            self.model.rowsInserted,
            self.model.rowsRemoved,
            self.model.modelReset,
            self.model.rowsMoved,
            self.model.dataChanged,
        ):
            sig.connect(self._update_state)
        self.view.selectionModel().selectionChanged.connect(self._update_state)
        self._update_state()

    def shutdown(self) -> None:
        """Stop following the scene (the window is closing)."""
        self.model.disconnect_items()

    # ------------------------------------------------------------------ text
    @property
    def unit(self) -> str:
        return length_unit(self.scene.display_crs)

    def _summary(self, m: Measurement) -> str:
        return measurement_summary(m, self.unit)

    def _details(self, m: Measurement) -> str:
        return "\n".join(f"{name}: {text}" for name, text in measurement_rows(m, self.unit))

    def values_text(self, m: Measurement) -> str:
        """The figures of a measurement as lines of text (what Copy puts on the clipboard)."""
        head = f"{display_name(m, self.scene.measurements)} ({KIND_NAMES.get(m.kind, m.kind)})"
        return head + "\n" + self._details(m)

    def _update_state(self, *_: Any) -> None:
        self.placeholder.setVisible(len(self.scene.measurements) == 0)
        m = self.current_measurement()
        for b in (self.fly_button, self.copy_button, self.delete_button):
            b.setEnabled(m is not None)
        if m is None:
            self.details.clear()
        else:
            rows = "".join(
                f"<tr><td>{n}</td><td align='right'>&nbsp;&nbsp;{t}</td></tr>"
                for n, t in measurement_rows(m, self.unit)
            )
            self.details.setText(f"<table>{rows}</table>")
        self.visual.set_highlight(None if m is None else m.id)

    # ------------------------------------------------------------------ selection
    def current_measurement(self) -> Measurement | None:
        sm = self.view.selectionModel()
        rows = sm.selectedRows() if sm is not None else []
        return self.model.item(rows[0]) if rows else None

    def select(self, m: Measurement | None) -> None:
        row = -1 if m is None else self.model.row_of(m.id)
        if row < 0:
            self.view.clearSelection()
        else:
            self.view.setCurrentIndex(self.model.index(row, 0))
        self._update_state()

    # ------------------------------------------------------------------ actions
    def rename(self, m: Measurement, title: str) -> Measurement:
        """Rename a measurement, undoably."""
        return m if title.strip() == m.title else self.scene.edit_item(m, title=title.strip())

    def set_shown(self, m: Measurement, visible: bool) -> Measurement:
        """Show or hide a measurement, undoably."""
        return m if m.visible == bool(visible) else self.scene.edit_item(m, visible=bool(visible))

    def delete_current(self, m: Measurement | None = None) -> None:
        """Delete a measurement (the selected one), undoably."""
        m = m or self.current_measurement()
        if m is None:
            return
        row = self.model.row_of(m.id)
        self.scene.remove_item(m)
        n = len(self.scene.measurements)
        if n:
            self.select(self.scene.measurements[min(row, n - 1)])

    def fly_to(self, m: Measurement, animate: bool = True) -> None:
        """Frame a measurement in the view."""
        p = self.visual.drawn_as(m).array
        lo, hi = p.min(axis=0), p.max(axis=0)
        pad = max(2.0, 0.15 * float(np.linalg.norm(hi - lo)))
        self.viewport.fit_world_bounds(np.concatenate([lo - pad, hi + pad]), animate=animate, fill=FLY_FILL)

    def fly_to_current(self) -> None:
        m = self.current_measurement()
        if m is not None:
            self.fly_to(m)

    def copy_current(self) -> None:
        m = self.current_measurement()
        if m is not None:
            QGuiApplication.clipboard().setText(self.values_text(m))

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.column() == 1:
            m = self.model.item(index)
            if m is not None:
                self.fly_to(m)

    def _context_menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        m = self.model.item(index)
        if m is None:
            return
        self.view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction("Fly To").triggered.connect(lambda *_: self.fly_to(m))
        menu.addAction("Rename").triggered.connect(lambda *_: self.view.edit(self.model.index(index.row(), 0)))
        shown = menu.addAction("Show")
        shown.setCheckable(True)
        shown.setChecked(m.visible)
        shown.toggled.connect(lambda on: self.set_shown(m, on))
        menu.addAction("Copy Values").triggered.connect(lambda *_: self.copy_current())
        menu.addSeparator()
        menu.addAction("Delete").triggered.connect(lambda *_: self.delete_current(m))
        menu.exec(self.view.viewport().mapToGlobal(pos))
