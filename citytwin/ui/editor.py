"""Editing in the window: delete, move, turn and stretch objects, edit attributes, draw new buildings.

Every edit is an edit of the planning scenario shown (:mod:`citytwin.model.scenario`), made
through :meth:`~citytwin.model.scene.Scene.edit_scenario`, so it is one undo step and never
changes the data as read. With the existing city shown, the first edit starts "Scenario 1".
The view follows the scenario (:mod:`citytwin.render.scenario_view`).

Edit menu: Delete Objects (Del), Move, Turn and Scale… (Ctrl+M), Snap to Ground, Edit
Attributes… (Ctrl+Shift+A), Draw Building (Ctrl+B). Drawing a building: click the corners of
its footprint on the ground or the terrain, Enter (or a double-click) closes the outline;
click more outlines inside it for courtyards, Enter again asks for its height and roof.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.layers import CityModelLayer
from citytwin.model.scenario import (
    AddObject,
    DeleteObjects,
    SetAttributes,
    TransformObject,
    add_edit,
    added_ids,
    object_changes,
    remove_edits_of,
)
from citytwin.ui.view_clicks import ViewClicks

#: attribute value types offered in Edit Attributes
VALUE_TYPES = ("Text", "Number", "Integer", "Date", "Yes/No")
#: CityGML code-list values offered for some attributes (the editor accepts any text too)
CODE_LISTS = {
    "roofType": ("1000 flat", "1010 monopitch", "1030 gabled", "1040 hipped"),
    "function": ("residential", "office", "retail", "industrial", "education", "health", "mixed use"),
}


def parse_value(kind: str, text: str) -> Any:
    """An attribute value typed as ``kind`` (one of :data:`VALUE_TYPES`).

    Raises
    ------
    ValueError
        With one sentence when ``text`` is not a value of that type.
    """
    t = text.strip()
    if kind == "Text":
        return text
    if kind == "Number":
        try:
            v = float(t.replace(",", "."))
        except ValueError:
            raise ValueError(f"{text!r} is not a number.") from None
        if not np.isfinite(v):
            raise ValueError(f"{text!r} is not a finite number.")
        return v
    if kind == "Integer":
        if not re.fullmatch(r"[+-]?\d+", t):
            raise ValueError(f"{text!r} is not a whole number.")
        return int(t)
    if kind == "Date":
        try:
            return date.fromisoformat(t).isoformat()
        except ValueError:
            raise ValueError(f"{text!r} is not a date such as 2026-03-21.") from None
    if kind == "Yes/No":
        if t.lower() in ("yes", "true", "1"):
            return True
        if t.lower() in ("no", "false", "0"):
            return False
        raise ValueError(f"{text!r} is not yes or no.")
    raise ValueError(f"Unknown value type {kind!r}.")


def value_kind(value: Any) -> str:
    """The :data:`VALUE_TYPES` entry a value is shown as."""
    if isinstance(value, bool):
        return "Yes/No"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Number"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return "Date"
    return "Text"


# ------------------------------------------------------------------------------------------ dialogs
def _error_label() -> QLabel:
    """The red sentence a dialog shows under its fields when what was typed cannot be used."""
    label = QLabel()
    label.setStyleSheet("color: #b00020;")
    label.setWordWrap(True)
    return label


def _ok_cancel(dialog: QDialog, on_ok: Any = None) -> QDialogButtonBox:
    """OK and Cancel for ``dialog`` (OK calls ``on_ok``, else accepts)."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(on_ok or dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class TransformDialog(QDialog):
    """Move (metres east, north, up), turn (degrees, counter-clockwise from above) and stretch the height."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Move, Turn and Scale")
        form = QFormLayout(self)
        form.addRow(QLabel(f"{count} object{'s' if count != 1 else ''} selected"))
        self.dx, self.dy, self.dz = (self._spin(-100_000, 100_000, " m") for _ in range(3))
        self.rotate = self._spin(-360, 360, " °")
        self.scale = self._spin(1, 1000, " %")
        self.scale.setValue(100.0)
        self.snap = QCheckBox("Put it on the ground (terrain or ground plane)")
        form.addRow("East", self.dx)
        form.addRow("North", self.dy)
        form.addRow("Up", self.dz)
        form.addRow("Turn", self.rotate)
        form.addRow("Height", self.scale)
        form.addRow("", self.snap)
        form.addRow(_ok_cancel(self))

    @staticmethod
    def _spin(lo: float, hi: float, suffix: str) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(2)
        s.setSuffix(suffix)
        return s


class AttributesDialog(QDialog):
    """Edit the attributes of one or many objects: name, type and value per row; add and delete rows.

    A value that differs between the selected objects shows empty with "(various)" and is left
    as it is unless typed over.
    """

    def __init__(self, attributes: list[dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit Attributes")
        self.resize(520, 420)
        n = len(attributes)
        names = sorted({k for a in attributes for k in a}, key=str.lower)
        self.original: dict[str, tuple[bool, Any]] = {}  # name → (same in all, value)
        for name in names:
            values = [a.get(name) for a in attributes]
            same = all(name in a for a in attributes) and all(v == values[0] for v in values)
            self.original[name] = (same, values[0] if same else None)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{n} object{'s' if n != 1 else ''}"))
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Name", "Type", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(self.table, 1)
        for name in names:
            same, value = self.original[name]
            self.add_row(name, value_kind(value) if same else "Text", "" if value is None else str(value), not same)
        row = QHBoxLayout()
        add = QPushButton("Add")
        add.clicked.connect(lambda: self.add_row("", "Text", ""))
        remove = QPushButton("Delete")
        remove.clicked.connect(self.delete_selected_rows)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout.addLayout(row)
        self.error = _error_label()
        layout.addWidget(self.error)
        layout.addWidget(_ok_cancel(self, self._accept))
        self.values: dict[str, Any] = {}
        self.removed: tuple[str, ...] = ()

    def add_row(self, name: str, kind: str, text: str, various: bool = False) -> int:
        """Append a row; returns its index."""
        r = self.table.rowCount()
        self.table.insertRow(r)
        name_item = QTableWidgetItem(name)
        name_item.setData(Qt.ItemDataRole.UserRole, name)  # the name the row started with
        self.table.setItem(r, 0, name_item)
        combo = QComboBox()
        combo.addItems(VALUE_TYPES)
        combo.setCurrentText(kind)
        self.table.setCellWidget(r, 1, combo)
        edit = QLineEdit(text)
        if various:
            edit.setPlaceholderText("(various)")
        if name in CODE_LISTS:
            from PySide6.QtWidgets import QCompleter

            edit.setCompleter(QCompleter(list(CODE_LISTS[name]), edit))
        self.table.setCellWidget(r, 2, edit)
        return r

    def delete_selected_rows(self) -> None:
        """Delete the selected rows (their attributes are removed on OK)."""
        for r in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(r)

    def row(self, r: int) -> tuple[str, str, str, str | None]:
        """``(name, type, text, original name)`` of a row."""
        item = self.table.item(r, 0)
        name = item.text().strip() if item is not None else ""
        original = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return name, self.table.cellWidget(r, 1).currentText(), self.table.cellWidget(r, 2).text(), original or None

    def result_edit(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        """What the rows change: values set and names removed.

        Raises
        ------
        ValueError
            With one sentence for a row that cannot be taken (no name, a bad value, a name twice).
        """
        values: dict[str, Any] = {}
        names: set[str] = set()
        for r in range(self.table.rowCount()):
            name, kind, text, original = self.row(r)
            if not name:
                if text.strip():
                    raise ValueError(f"Row {r + 1} has a value but no name.")
                continue
            if name in names:
                raise ValueError(f"The attribute {name!r} is there twice.")
            names.add(name)
            same, old = self.original.get(original, (False, None)) if original else (False, None)
            if original == name and not same and not text.strip():
                continue  # "(various)" left alone
            value = parse_value(kind, text)
            if original == name and same and value == old:
                continue
            values[name] = value
        # rows deleted, and the old names of renamed rows
        removed = tuple(sorted(n for n in self.original if n not in names))
        return values, removed

    def _accept(self) -> None:
        try:
            self.values, self.removed = self.result_edit()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class BuildingDialog(QDialog):
    """Height (or storeys × storey height), roof, roof height, LoD and function of a drawn building."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Building")
        form = QFormLayout(self)
        self.by_storeys = QCheckBox("Storeys × storey height")
        self.height = QDoubleSpinBox()
        self.height.setRange(0.5, 1000.0)
        self.height.setValue(12.0)
        self.height.setSuffix(" m")
        self.storeys = QSpinBox()
        self.storeys.setRange(1, 300)
        self.storeys.setValue(4)
        self.storey_height = QDoubleSpinBox()
        self.storey_height.setRange(1.5, 20.0)
        self.storey_height.setValue(3.0)
        self.storey_height.setSuffix(" m")
        self.roof = QComboBox()
        self.roof.addItems(["flat", "gabled", "hipped", "shed"])
        self.roof_height = QDoubleSpinBox()
        self.roof_height.setRange(0.0, 100.0)
        self.roof_height.setValue(4.0)
        self.roof_height.setSuffix(" m")
        self.lod = QComboBox()
        self.lod.addItem("LoD2 (roof as drawn)", 2)
        self.lod.addItem("LoD1 (block)", 1)
        self.function = QComboBox()
        self.function.setEditable(True)
        self.function.addItems(list(CODE_LISTS["function"]))
        form.addRow("", self.by_storeys)
        form.addRow("Wall height", self.height)
        form.addRow("Storeys", self.storeys)
        form.addRow("Storey height", self.storey_height)
        form.addRow("Roof", self.roof)
        form.addRow("Roof height", self.roof_height)
        form.addRow("Detail", self.lod)
        form.addRow("Function", self.function)
        self.error = _error_label()
        form.addRow(self.error)
        form.addRow(_ok_cancel(self))
        self.by_storeys.toggled.connect(self._sync)
        self.roof.currentTextChanged.connect(self._sync)
        self._sync()

    def _sync(self, *_: Any) -> None:
        st = self.by_storeys.isChecked()
        self.height.setEnabled(not st)
        self.storeys.setEnabled(st)
        self.storey_height.setEnabled(st)
        self.roof_height.setEnabled(self.roof.currentText() != "flat")

    def options(self) -> dict[str, Any]:
        """:class:`~citytwin.model.buildings.BuildingSpec` fields chosen here."""
        out: dict[str, Any] = {"roof": self.roof.currentText(), "lod": int(self.lod.currentData())}
        if self.by_storeys.isChecked():
            out.update(storeys=int(self.storeys.value()), storey_height=float(self.storey_height.value()))
        else:
            out["height"] = float(self.height.value())
        if out["roof"] != "flat":
            out["roof_height"] = float(self.roof_height.value())
        text = self.function.currentText().strip()
        out["function"] = text or None
        return out


# ------------------------------------------------------------------------------------------ the editor
class Editor(QObject):
    """The editing actions of one window and the building-drawing tool.

    Signals
    -------
    drawing_changed(bool)
        The draw-building tool was switched on or off.
    """

    drawing_changed = Signal(bool)
    moving_changed = Signal(bool)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.scene = window.scene
        self.viewport = window.viewport
        #: set by tests: answer dialogs without showing them (``{"transform": {...}, "building": {...}}``)
        self.answers: dict[str, Any] | None = None
        self.rings: list[np.ndarray] = []
        self.points: list[np.ndarray] = []
        self.drawing = False
        self.moving = False
        self.last_proposal: Any = None
        self._drag: dict[str, Any] | None = None
        self._clicks = ViewClicks(self.viewport)
        self.viewport.plotter.installEventFilter(self)
        self.viewport.hovered.connect(self._on_hovered)
        self._hover: np.ndarray | None = None

    # ------------------------------------------------------------------ selection
    def selected(self) -> tuple[CityModelLayer | None, list[int]]:
        """The layer with a selection and its selected object indices."""
        for layer in self.scene.selectable_layers():
            if layer.selection and layer.model is not None:
                return layer, [int(i) for i in layer.selection]
        return None, []

    def selected_ids(self, roots: bool = False) -> list[str]:
        """Ids of the selected objects (of their top-level objects with ``roots``)."""
        layer, idx = self.selected()
        if layer is None:
            return []
        objects = layer.model.objects
        if roots:
            idx = sorted({int(objects.roots[i]) for i in idx})
        return [objects.ids[i] for i in idx]

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def _fail(self, sentence: str) -> None:
        error = getattr(self.window, "_error", None)
        if callable(error) and self.answers is None:
            error(sentence)
        else:
            self._status(sentence)

    # ------------------------------------------------------------------ edits
    def delete_selected(self) -> None:
        """Delete the selected objects in the scenario (Del)."""
        ids = self.selected_ids()
        if not ids:
            self._status("Select the objects to delete first.")
            return
        from citytwin.ui.selection import select

        text = f"Delete {ids[0]}" if len(ids) == 1 else f"Delete {len(ids)} objects"
        added = added_ids(self.scene.scenario) if self.scene.scenario is not None else frozenset()

        def delete(sc: Any) -> Any:
            # an object the scenario added leaves the scenario with its edits: nothing is left to delete
            for oid in ids:
                if oid in added:
                    sc = remove_edits_of(sc, oid)
            base = tuple(i for i in ids if i not in added)
            return add_edit(sc, DeleteObjects(ids=base)) if base else sc

        s = self.scene.edit_scenario(delete, text)
        select(self.scene, None, ())
        self._status(f"{text} in {s.name}.")

    def duplicate_selected(self, offset: tuple[float, float, float] | None = None) -> list[AddObject]:
        """Edit → Duplicate (Ctrl+D): copies of the selected buildings beside them (east, clear of the original)."""
        from citytwin.model.annotations import new_id
        from citytwin.model.object_json import cityobject_from_model

        layer, _ = self.selected()
        ids = self.selected_ids(roots=True)
        if layer is None or not ids:
            self._status("Select the buildings to duplicate first.")
            return []
        objects = layer.model.objects
        edits = []
        try:
            for oid in ids:
                k = objects.index[oid]
                shift = offset
                if shift is None:
                    vis = self.viewport.visual(layer)
                    pts = vis.original_object_points(k) if vis is not None else np.zeros((1, 3))
                    shift = (float(np.ptp(pts[:, 0])) + 2.0, 0.0, 0.0)
                edits.append(cityobject_from_model(layer.model, k, new_id=new_id(objects.types[k].lower()),
                                                   offset=shift))  # fmt: skip
        except ValueError as exc:
            self._fail(str(exc))
            return []

        def change(sc):
            for e in edits:
                sc = add_edit(sc, e)
            return sc

        self.scene.edit_scenario(change, f"Duplicate {ids[0]}" if len(ids) == 1 else f"Duplicate {len(ids)} objects")
        return edits

    def ask_import_proposal(self) -> None:
        """Edit → Import Proposal…: a mesh (OBJ, glTF, PLY …) as a new building at the centre of the view."""
        from PySide6.QtWidgets import QFileDialog

        if self.answers is not None:
            path = self.answers.get("proposal")
        else:
            path, _ = QFileDialog.getOpenFileName(self.window, "Import Proposal", "",
                                                  "Meshes (*.obj *.gltf *.glb *.ply *.stl *.off)")  # fmt: skip
        if path:
            self.import_proposal(path)

    def view_ground_centre(self) -> np.ndarray | None:
        """World point on the ground at the centre of the view."""
        w, h = self.viewport.plotter.width(), self.viewport.plotter.height()
        return self.ground_point(w / 2.0, h / 2.0)

    def import_proposal(self, path: Any, position: Any = None, cut_out: bool | None = None) -> Any:
        """Read a mesh on the task pool and add it as a building; ``cut_out`` deletes the buildings under it
        (``None``: ask when there are any). Returns the worker."""
        from citytwin.io.proposal import read_proposal
        from citytwin.model.annotations import new_id
        from citytwin.ui.workers import TaskWorker

        if position is None:
            position = self.view_ground_centre()
        if position is None:
            self._fail("Turn the view towards the ground first: the proposal goes to the centre of the view.")
            return None
        pos = tuple(float(v) for v in position)
        worker = TaskWorker(read_proposal, path, position=pos, object_id=new_id("proposal"),
                            description="Reading the proposal")  # fmt: skip
        worker.signals.finished.connect(lambda w, add: self._proposal_read(w, add, cut_out))
        worker.signals.failed.connect(self.window._on_task_failed)
        self.window.start_task(worker, f"Reading {Path(path).name}…")
        return worker

    def _proposal_read(self, worker: Any, add: AddObject, cut_out: bool | None) -> None:
        from PySide6.QtWidgets import QMessageBox

        from citytwin.model.proposals import footprint_overlaps

        if not self.window._end_task(worker):
            return
        under: list[str] = []
        for layer in self.scene.layers:
            if isinstance(layer, CityModelLayer) and layer.model is not None and layer.visible:
                under += footprint_overlaps(layer.model, add)
        if under and cut_out is None:
            if self.answers is not None:
                cut_out = bool(self.answers.get("cut_out"))
            else:
                answer = QMessageBox.question(
                    self.window, "Cut out the buildings it replaces?",
                    f"The proposal stands on {len(under)} existing building{'s' if len(under) != 1 else ''}. "
                    "Delete them in the scenario?",
                )  # fmt: skip
                cut_out = answer == QMessageBox.StandardButton.Yes

        def change(sc):
            sc = add_edit(sc, add)
            if cut_out and under:
                sc = add_edit(sc, DeleteObjects(ids=tuple(under)))
            return sc

        self.scene.edit_scenario(change, "Import proposal")
        self.last_proposal = (add, under if cut_out else [])
        h = (add.cityobject.get("attributes") or {}).get("measuredHeight")
        msg = f"Added the proposal ({h:.1f} m)" if isinstance(h, int | float) else "Added the proposal"
        if cut_out and under:
            msg += f" and deleted the {len(under)} building{'s' if len(under) != 1 else ''} under it"
        self._status(msg + ".")

    def hide_selected(self) -> None:
        """Edit → Hide Objects (H): hide the selected objects in the view (an undoable view change, not an edit)."""
        layer, idx = self.selected()
        if layer is None:
            self._status("Select the objects to hide first.")
            return
        from citytwin.ui.selection import select

        ids = {layer.model.objects.ids[i] for i in idx}
        self.scene.set(layer, "hidden_ids", frozenset(layer.hidden_ids | ids))
        select(self.scene, None, ())
        self._status(f"Hid {len(ids)} object{'s' if len(ids) != 1 else ''}; Edit → Show Hidden Objects shows them.")

    def show_hidden(self) -> None:
        """Edit → Show Hidden Objects: show every hidden object again (undoable)."""
        for layer in self.scene.selectable_layers():
            if layer.hidden_ids:
                self.scene.set(layer, "hidden_ids", frozenset())

    def transform_selected(self, translate=(0.0, 0.0, 0.0), rotate_deg=0.0, height_scale=1.0, snap=False) -> None:
        """Move, turn and stretch the selected objects' buildings (their top-level objects), one undo step."""
        layer, _ = self.selected()
        ids = self.selected_ids(roots=True)
        if not ids:
            self._status("Select the objects to move first.")
            return
        edits = []
        for oid in ids:
            t = tuple(float(v) for v in translate)
            if snap:
                dz = self._ground_offset(layer, oid, t)
                if dz is not None:
                    t = (t[0], t[1], t[2] + dz)
            try:
                edits.append(TransformObject(id=oid, translate=t, rotate_deg=float(rotate_deg),
                                             height_scale=float(height_scale)))  # fmt: skip
            except ValueError as exc:
                self._fail(str(exc).capitalize())
                return

        def change(sc):
            for e in edits:
                sc = add_edit(sc, e)
            return sc

        text = f"Move {ids[0]}" if len(ids) == 1 else f"Move {len(ids)} objects"
        self.scene.edit_scenario(change, text)

    def ask_transform(self) -> None:
        """Edit → Move, Turn and Scale…"""
        ids = self.selected_ids(roots=True)
        if not ids:
            self._status("Select the objects to move first.")
            return
        if self.answers is not None:
            self.transform_selected(**self.answers.get("transform", {}))
            return
        d = TransformDialog(len(ids), self.window)
        if d.exec() != QDialog.DialogCode.Accepted:
            return
        self.transform_selected((d.dx.value(), d.dy.value(), d.dz.value()), d.rotate.value(),
                                d.scale.value() / 100.0, d.snap.isChecked())  # fmt: skip

    def snap_selected(self) -> None:
        """Edit → Snap to Ground: move the selected buildings up or down onto the ground under them."""
        self.transform_selected(snap=True)

    def _ground_offset(self, layer: Any, oid: str, translate: tuple) -> float | None:
        """How far to lift (or lower) an object, once moved by ``translate``, to stand on the ground."""
        vis = self.viewport.visual(layer)
        objects = layer.model.objects
        k = objects.index.get(oid)
        if vis is None or k is None:
            return None
        pts = vis.original_object_points(int(objects.roots[k]))
        if not len(pts):
            return None
        change = object_changes(self.scene.scenario).get(oid) if self.scene.scenario is not None else None
        dz_now = change.transform.translate[2] if change is not None and change.transform is not None else 0.0
        from citytwin.model.scenario import object_frame

        centre = object_frame(pts)[0] + np.asarray(translate[:2])
        base = float(pts[:, 2].min()) + dz_now + translate[2]
        ground = self.ground_height(centre, exclude=layer)
        return None if ground is None else ground - base

    def ground_height(self, xy: np.ndarray, exclude: Any = None) -> float | None:
        """Height of the terrain (or the lowest surface, else the scene's lowest point) at a plan position."""
        from citytwin.model.layers import CityModelLayer as CML

        best = None
        for layer in self.scene.layers:
            model = getattr(layer, "display_model", None)
            if not isinstance(layer, CML) or model is None or not layer.visible:
                continue
            types = {"TINRelief", "ReliefFeature"}
            is_terrain = any(t.rsplit(":", 1)[-1] in types for t in model.objects.type_counts())
            if not is_terrain:
                continue
            z = _height_on_mesh(model.mesh, xy)
            if z is not None:
                best = z if best is None else max(best, z)
        if best is not None:
            return best
        b = self.scene.bounds()
        return None if b is None else float(b[2])

    def ask_attributes(self) -> None:
        """Edit → Edit Attributes… for the selected objects (as the scenario has them)."""
        layer, idx = self.selected()
        if layer is None:
            self._status("Select the objects whose attributes to edit first.")
            return
        changes = object_changes(self.scene.scenario) if self.scene.scenario is not None else {}
        objects = layer.model.objects
        attrs = []
        for i in idx:
            base = objects.attributes[i]
            c = changes.get(objects.ids[i])
            attrs.append(c.attributes(base) if c is not None else dict(base))
        if self.answers is not None:
            values, removed = self.answers["attributes"]
        else:
            d = AttributesDialog(attrs, self.window)
            if d.exec() != QDialog.DialogCode.Accepted:
                return
            values, removed = d.values, d.removed
        self.set_attributes([objects.ids[i] for i in idx], values, removed)

    def set_attributes(self, ids: list[str], values: dict[str, Any], removed: tuple[str, ...] = ()) -> None:
        """Set and remove attributes of objects in the scenario (one undo step)."""
        if not values and not removed:
            return
        try:
            edit = SetAttributes(ids=tuple(ids), values=dict(values), removed=tuple(removed))
        except ValueError as exc:
            self._fail(str(exc).capitalize())
            return
        n = len(ids)
        what = ids[0] if n == 1 else f"{n} objects"
        self.scene.edit_scenario(lambda sc: add_edit(sc, edit), f"Edit attributes of {what}")

    # ------------------------------------------------------------------ drawing buildings
    def set_drawing(self, on: bool) -> None:
        """Switch the draw-building tool on or off."""
        on = bool(on)
        self.rings, self.points = [], []
        self._show_draft()
        if on == self.drawing:
            return
        if on and self.moving:
            self.set_moving(False)
        self.drawing = on
        plotter = self.viewport.plotter
        if on:
            plotter.setCursor(Qt.CursorShape.CrossCursor)
            plotter.setFocus(Qt.FocusReason.OtherFocusReason)
            self._status("Draw a building: click the corners of its footprint; Enter closes the outline.")
        else:
            plotter.unsetCursor()
        self.drawing_changed.emit(on)

    # ------------------------------------------------------------------ moving by dragging
    def set_moving(self, on: bool) -> None:
        """Switch the move tool on or off: a drag that starts on a selected building moves it on the ground."""
        on = bool(on)
        if on and self.drawing:
            self.set_drawing(False)
        self._drag = None
        if on == self.moving:
            return
        self.moving = on
        if on:
            self._status("Move tool: drag a selected building to move it; other drags turn the view.")
        self.moving_changed.emit(on)

    def _drag_start(self, qx: float, qy: float) -> bool:
        layer, hit = self.viewport.pick_qt(qx, qy)
        if hit is None or not isinstance(layer, CityModelLayer) or not layer.selection:
            return False
        objects = layer.model.objects
        root = int(getattr(hit, "root", -1))
        if root < 0 or root not in {int(objects.roots[i]) for i in layer.selection}:
            return False
        # drag on the horizontal plane through the grabbed point (hit positions are relative to the origin)
        z = float(np.asarray(hit.position, np.float64)[2] + self.viewport.origin[2])
        start = self._plane_world(qx, qy, z)
        if start is None:
            return False
        self._drag = {"layer": layer, "root": root, "z": z, "start": start, "delta": np.zeros(2)}
        return True

    def _plane_world(self, qx: float, qy: float, z_world: float) -> np.ndarray | None:
        o = self.viewport.origin
        x, y = self.viewport._qt_to_display(qx, qy)
        p = self.viewport._plane_point(x, y, np.array([0.0, 0.0, z_world - o[2]]), np.array([0.0, 0.0, 1.0]))
        return None if p is None else p + o

    def _drag_to(self, qx: float, qy: float) -> None:
        d = self._drag
        p = self._plane_world(qx, qy, d["z"])
        if p is None:
            return
        d["delta"] = (p - d["start"])[:2]
        layer, root = d["layer"], d["root"]
        step = TransformObject(id=layer.model.objects.ids[root], translate=(*map(float, d["delta"]), 0.0))
        self._preview(layer, root, step)

    def _preview(self, layer: Any, root: int, step: TransformObject | None) -> None:
        """Draw a root object as the scenario has it, followed by ``step`` (``None``: as the scenario has it)."""
        from citytwin.model.scenario import compose_transforms, object_frame
        from citytwin.render.scenario_view import transform_matrix

        vis = self.viewport.visual(layer)
        if vis is None:
            return
        oid = layer.model.objects.ids[root]
        sc = self.scene.scenario
        current = object_changes(sc).get(oid) if sc is not None else None
        t = current.transform if current is not None else None
        if step is not None:
            t = step if t is None else compose_transforms(t, step)
        if t is None:
            vis.transform_objects([root], None)
        else:
            centre, base = object_frame(vis.original_object_points(root))
            vis.transform_objects([root], transform_matrix(t, centre, base))  # a preview: the edit comes on release
        self.viewport.request_render()

    def _drag_end(self) -> None:
        d, self._drag = self._drag, None
        if d is None:
            return
        if not np.any(np.abs(d["delta"]) > 1e-6):
            self._preview(d["layer"], d["root"], None)
            return
        dx, dy = (float(v) for v in d["delta"])
        self.transform_selected((dx, dy, 0.0))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is not self.viewport.plotter:
            return False
        if self.moving and not self.drawing:
            return self._move_event(event)
        if not self.drawing:
            return False
        t = event.type()
        if t == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._clicks.press(event)
            return False
        if t == QEvent.Type.MouseButtonDblClick and event.button() == Qt.MouseButton.LeftButton:
            self._clicks.forget()
            self.key(Qt.Key.Key_Return)
            return True
        if t == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            at = self._clicks.click(obj, event)
            if at is None:
                return False
            self.click(*at)
            return True
        return self._clicks.take_key(event, self.key)

    def _move_event(self, event: QEvent) -> bool:
        t = event.type()
        if t == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            p = event.position()
            return self._drag_start(p.x(), p.y())  # taken: the view does not turn
        if t == QEvent.Type.MouseMove and self._drag is not None:
            p = event.position()
            self._drag_to(p.x(), p.y())
            return True
        if t == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton and self._drag:
            self._drag_end()
            return True
        if t == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            if self._drag is not None:  # cancel the drag: the building goes back to where the scenario has it
                d, self._drag = self._drag, None
                self._preview(d["layer"], d["root"], None)
            else:
                self.set_moving(False)
            return True
        return False

    def ground_point(self, qx: float, qy: float) -> np.ndarray | None:
        """World point under a view position: a surface hit, else the ground plane at the scene's lowest height."""
        layer, hit = self.viewport.pick_qt(qx, qy)
        o = self.viewport.origin
        if hit is not None:
            return np.asarray(hit.position, np.float64) + o
        b = self.scene.bounds()
        z = 0.0 if b is None else float(b[2])
        x, y = self.viewport._qt_to_display(qx, qy)
        p = self.viewport._plane_point(x, y, np.array([0.0, 0.0, z - o[2]]), np.array([0.0, 0.0, 1.0]))
        return None if p is None else p + o

    def click(self, qx: float, qy: float) -> None:
        """A click while drawing: one more corner."""
        p = self.ground_point(qx, qy)
        if p is None:
            self._status("Click on the ground or a surface.")
            return
        self.add_point(p)

    def add_point(self, p: np.ndarray) -> None:
        """Add a corner (world coordinates) to the outline being drawn."""
        self.points.append(np.asarray(p, np.float64))
        self._show_draft()
        n = len(self.points)
        what = "courtyard" if self.rings else "footprint"
        more = "Enter closes it" if n >= 3 else f"{3 - n} more corner{'s' if 3 - n > 1 else ''} needed"
        self._status(f"New building {what}: {n} corner{'s' if n > 1 else ''} ({more}; Backspace drops the last).")

    def key(self, key: int) -> None:
        """Enter closes the outline (or, with none open, finishes); Backspace drops a corner; Escape leaves."""
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if len(self.points) >= 3:
                self.rings.append(np.array(self.points))
                self.points = []
                self._show_draft()
                self._status("Outline closed: click inside to draw a courtyard, or press Enter for height and roof.")
            elif not self.points and self.rings:
                self.finish()
        elif key == Qt.Key.Key_Backspace:
            if self.points:
                self.points.pop()
                self._show_draft()
        elif key == Qt.Key.Key_Escape:
            if self.points:
                self.points = []
                self._show_draft()
            else:
                self.set_drawing(False)

    def finish(self, **options: Any) -> AddObject | None:
        """Ask for height and roof, then add the building to the scenario; returns the edit."""
        from citytwin.model.annotations import new_id
        from citytwin.model.buildings import BuildingSpec, make_building

        rings = self.rings
        if not rings:
            return None

        def spec_of(options: dict[str, Any]) -> BuildingSpec:
            return BuildingSpec(footprint=rings[0][:, :2], holes=[r[:, :2] for r in rings[1:]],
                                base_z=float(rings[0][:, 2].min()), **options)  # fmt: skip

        spec = None
        if not options:
            if self.answers is not None:
                options = dict(self.answers.get("building", {}))
            else:
                d = BuildingDialog(self.window)
                while spec is None:  # the checked spec is the one built (its roof is worked out once)
                    if d.exec() != QDialog.DialogCode.Accepted:
                        return None
                    try:
                        spec = spec_of(d.options())
                    except ValueError as exc:
                        d.error.setText(str(exc))
        try:
            spec = spec if spec is not None else spec_of(options)
            building = make_building(spec)
            oid = new_id("building")
            co, vertices = building.cityobject(oid)
            edit = AddObject(id=oid, cityobject=co, vertices=vertices)
        except ValueError as exc:
            self._fail(str(exc))
            return None
        self.scene.edit_scenario(lambda sc: add_edit(sc, edit), "Draw building")
        self.rings, self.points = [], []
        self._show_draft()
        self._status(f"Added a {spec.total_height:.1f} m building ({building.volume():,.0f} m³).")
        return edit

    def _on_hovered(self, world: Any) -> None:
        self._hover = None if world is None else np.asarray(world, np.float64)
        if self.drawing and self.points:
            self._show_draft()

    def _show_draft(self) -> None:
        visual = getattr(self.window, "measurements_visual", None)
        if visual is None:
            return
        pts = list(self.points)
        if not pts and not self.rings:
            visual.set_draft(None)
            return
        if pts and self._hover is not None:
            pts.append(self._hover)
        ring = pts if pts else list(self.rings[-1])
        visual.set_draft("area", ring)

    def shutdown(self) -> None:
        """Stop watching the view."""
        self.viewport.plotter.removeEventFilter(self)
        self.viewport.hovered.disconnect(self._on_hovered)


def _height_on_mesh(mesh: Any, xy: np.ndarray) -> float | None:
    """Highest z of the mesh's triangles over a plan point, or None."""
    tris = np.asarray(mesh.triangles).reshape(-1, 3)
    v = np.asarray(mesh.vertices, np.float64)
    a, b, c = v[tris[:, 0]], v[tris[:, 1]], v[tris[:, 2]]
    x, y = float(xy[0]), float(xy[1])
    lo = np.minimum(np.minimum(a, b), c)
    hi = np.maximum(np.maximum(a, b), c)
    cand = np.flatnonzero((lo[:, 0] <= x) & (hi[:, 0] >= x) & (lo[:, 1] <= y) & (hi[:, 1] >= y))
    best = None
    for t in cand:
        p0, p1, p2 = a[t], b[t], c[t]
        d = (p1[1] - p2[1]) * (p0[0] - p2[0]) + (p2[0] - p1[0]) * (p0[1] - p2[1])
        if abs(d) < 1e-12:
            continue
        w0 = ((p1[1] - p2[1]) * (x - p2[0]) + (p2[0] - p1[0]) * (y - p2[1])) / d
        w1 = ((p2[1] - p0[1]) * (x - p2[0]) + (p0[0] - p2[0]) * (y - p2[1])) / d
        w2 = 1.0 - w0 - w1
        if min(w0, w1, w2) >= -1e-9:
            z = w0 * p0[2] + w1 * p1[2] + w2 * p2[2]
            best = z if best is None else max(best, z)
    return best


def install_editor(window: Any) -> Editor:
    """Add the editing actions to the Edit menu; sets ``window.editor`` and ``window.edit_actions``."""
    from citytwin.ui.bookmarks_panel import _menu, _when_closed

    editor = Editor(window)
    window.editor = editor
    menu = _menu(window, "Edit")
    menu.addSeparator()
    actions: dict[str, QAction] = {}

    def action(key: str, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        act = QAction(text, window)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setStatusTip(tip)
        act.triggered.connect(lambda *_: slot())
        menu.addAction(act)
        actions[key] = act
        return act

    delete = action("delete", "&Delete Objects", editor.delete_selected, QKeySequence.StandardKey.Delete,
                    "Delete the selected objects in the scenario")  # fmt: skip
    # Del acts in the view only: the panels' lists have their own Del for their items
    delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.viewport.addAction(delete)
    hide = action("hide", "&Hide Objects", editor.hide_selected, "H", "Hide the selected objects in the view")
    hide.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.viewport.addAction(hide)
    action("show", "Show Hidden &Objects", editor.show_hidden, "Shift+H", "Show every hidden object again")
    action("duplicate", "D&uplicate", editor.duplicate_selected, "Ctrl+D",
           "Copy the selected buildings into the scenario, beside them")  # fmt: skip
    action("import", "&Import Proposal…", editor.ask_import_proposal, None,
           "Add a mesh (OBJ, glTF, PLY) as a proposed building at the centre of the view")  # fmt: skip
    action("transform", "&Move, Turn and Scale…", editor.ask_transform, "Ctrl+M",
           "Move, turn or change the height of the selected buildings")  # fmt: skip
    action("snap", "Snap to &Ground", editor.snap_selected, None, "Stand the selected buildings on the ground")
    action("attributes", "Edit &Attributes…", editor.ask_attributes, "Ctrl+Shift+A",
           "Edit the attributes of the selected objects")  # fmt: skip
    draw = action("draw", "Draw &Building", lambda: editor.set_drawing(draw.isChecked()), "Ctrl+B",
                  "Draw a new building: click its footprint's corners, Enter closes")  # fmt: skip
    draw.setCheckable(True)
    editor.drawing_changed.connect(draw.setChecked)
    move = action("move", "Move &Tool", lambda: editor.set_moving(move.isChecked()), "G",
                  "Drag selected buildings on the ground to move them")  # fmt: skip
    move.setCheckable(True)
    move.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.viewport.addAction(move)
    editor.moving_changed.connect(move.setChecked)
    window.edit_actions = actions

    # the inspector shows objects as the scenario has them, and follows it
    cache: dict[str, Any] = {"scenario": None, "changes": {}}

    def changes_for(object_id: str) -> Any:
        sc = window.scene.scenario
        if sc is None:
            return None
        if cache["scenario"] is not sc:
            cache["scenario"], cache["changes"] = sc, object_changes(sc)
        return cache["changes"].get(object_id)

    def refresh_inspector(*_: Any) -> None:
        inspector = window.inspector
        if inspector.point is None and inspector.layer is not None:
            inspector.show_object(inspector.layer, inspector.index)

    window.inspector.changes_for = changes_for
    scene = window.scene
    scene.scenarios.events.changed.connect(refresh_inspector)
    scene.settings_changed.connect(refresh_inspector)

    def cleanup() -> None:
        editor.shutdown()
        scene.scenarios.events.changed.disconnect(refresh_inspector)
        scene.settings_changed.disconnect(refresh_inspector)

    _when_closed(window, cleanup)
    return editor


__all__ = [
    "AttributesDialog",
    "BuildingDialog",
    "Editor",
    "TransformDialog",
    "install_editor",
    "parse_value",
    "value_kind",
]
