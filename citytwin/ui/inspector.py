"""The inspector: a card describing the selected object."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.cityobjects import SURFACE_TYPES
from citytwin.model.layers import CityModelLayer
from citytwin.model.pointcloud import PointCloudLayer, class_name
from citytwin.model.semantics import lod_code


def _fmt_value(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"value", "uom"} and "value" in value:
        return f"{value['value']} {value.get('uom', '')}".strip()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _fmt_address(addr: dict[str, Any]) -> str:
    parts = []
    street = " ".join(str(addr[k]) for k in ("ThoroughfareName", "street", "Street") if addr.get(k))
    number = " ".join(str(addr[k]) for k in ("ThoroughfareNumber", "number", "houseNumber") if addr.get(k))
    if street or number:
        parts.append(f"{street} {number}".strip())
    post = " ".join(str(addr[k]) for k in ("PostalCodeNumber", "postalCode", "PostalCode") if addr.get(k))
    town = " ".join(str(addr[k]) for k in ("LocalityName", "locality", "city", "Locality") if addr.get(k))
    if post or town:
        parts.append(f"{post} {town}".strip())
    country = addr.get("CountryName") or addr.get("country")
    if country:
        parts.append(str(country))
    if not parts:
        parts = [f"{k}: {v}" for k, v in addr.items() if not isinstance(v, (dict, list))]
    return ", ".join(parts)


class Inspector(QWidget):
    """Shows id, type, parent building, LoD, computed figures and every attribute of one object."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer: CityModelLayer | PointCloudLayer | None = None
        self.index: int = -1
        #: the point shown (a ``PointPickResult``), ``None`` when the card shows an object or nothing
        self.point: Any = None
        layout = QVBoxLayout(self)
        self.placeholder = QLabel("Click a building, any object or a point in the view to see its details here.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: palette(mid);")
        layout.addWidget(self.placeholder)
        self.card = QWidget()
        form = QFormLayout(self.card)
        self._form = form
        form.setContentsMargins(0, 0, 0, 0)
        self.id_label = QLabel()
        self.type_label = QLabel()
        self.parent_label = QLabel()
        self.lod_label = QLabel()
        self.layer_label = QLabel()
        for lbl in (self.id_label, self.type_label, self.parent_label, self.lod_label, self.layer_label):
            lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lbl.setWordWrap(True)
        self.id_label.setStyleSheet("font-weight: bold;")
        form.addRow("Id", self.id_label)
        form.addRow("Type", self.type_label)
        form.addRow("Part of", self.parent_label)
        form.addRow("LoD", self.lod_label)
        form.addRow("File", self.layer_label)
        layout.addWidget(self.card)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Property", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy to clipboard")
        self.copy_button.clicked.connect(self.copy)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        layout.addLayout(buttons)
        self.rows: list[tuple[str, str]] = []
        #: ``changes_for(object_id)`` → what the scenario shown does to it
        #: (:class:`~citytwin.model.scenario.ObjectChange` or ``None``); set by the editor
        self.changes_for: Any = None
        self._changed_rows: set[str] = set()
        self._computed_tips: dict[str, str] = {}
        self.setMinimumWidth(300)
        self.show_object(None, -1)

    # ------------------------------------------------------------------
    def show_object(self, layer: CityModelLayer | None, index: int) -> None:
        """Describe object ``index`` of ``layer`` (``None`` / -1 clears the card)."""
        self.layer, self.index = layer, index
        self.point = None
        self._set_object_rows_visible(True)
        empty = getattr(layer, "model", None) is None or index < 0 or index >= len(layer.model.objects)
        self.placeholder.setVisible(empty)
        self.card.setVisible(not empty)
        self.table.setVisible(not empty)
        self.copy_button.setEnabled(not empty)
        self.rows = []
        self.table.setRowCount(0)
        if empty:
            return
        from citytwin.ui.object_stats import object_stats

        model = layer.model
        obj = model.objects[index]
        self.id_label.setText(obj.id)
        self.type_label.setText(obj.type)
        parent = obj.parent
        while parent is not None and parent.type.rsplit(":", 1)[-1] in SURFACE_TYPES and parent.parent is not None:
            parent = parent.parent
        chain = []
        p = parent
        while p is not None:
            chain.append(f"{p.id} ({p.type})")
            p = p.parent
        self.parent_label.setText(" ← ".join(chain) if chain else "—")
        lod = None
        if layer.lod is not None:
            lod = layer.lod
        # computed figures from the geometry as drawn: metres even for a latitude/longitude file
        shown = layer.display_model if layer.display_model is not None else model
        stats = object_stats(shown, index, lod)
        lods = ", ".join(stats.lods) if stats.lods else "—"
        self.lod_label.setText(f"{stats.lod} (has {lods})" if stats.lod is not None and len(stats.lods) > 1 else lods)
        src = getattr(model, "source", None)
        self.layer_label.setText(layer.name if src is None else f"{layer.name}")
        self.layer_label.setToolTip(str(src) if src is not None else "")

        rows: list[tuple[str, str]] = []
        # as the scenario shown has it: a height scale stretches the height and the volume (a turn or a
        # move changes neither, nor the footprint)
        early = self.changes_for(obj.id) if callable(self.changes_for) else None
        k = early.transform.height_scale if early is not None and early.transform is not None else 1.0
        if stats.height is not None:
            rows.append(("Height", f"{stats.height * k:.2f} m"))
        if stats.footprint is not None:
            rows.append(("Footprint", f"{stats.footprint:,.1f} m²"))
        if stats.n_triangles:
            volume = None if stats.volume is None else stats.volume * k
            rows.append(("Volume", "— (not a closed solid)" if volume is None else f"{volume:,.1f} m³"))
        self._computed_tips = {
            "Height": "Computed from the geometry shown: highest minus lowest point",
            "Footprint": f"Computed from the geometry shown: area of its {stats.footprint_source}",
            "Volume": "Computed from the geometry shown when it is a closed solid",
        }
        change = self.changes_for(obj.id) if callable(self.changes_for) else None
        attributes = obj.attributes if change is None else change.attributes(obj.attributes)
        self._changed_rows = set()
        if change is not None:
            what = []
            if change.deleted:
                what.append("deleted")
            if change.transform is not None:
                what.append("moved")
            if change.set_values or change.removed:
                what.append("attributes changed")
            if what:
                rows.append(("Scenario", ", ".join(what)))
                self._changed_rows = {"Scenario", *change.set_values}
        for k, addr in enumerate(obj.addresses or []):
            rows.append(("Address" if k == 0 else f"Address {k + 1}", _fmt_address(addr)))
        for name in sorted(attributes, key=str.lower):
            rows.append((name, _fmt_value(attributes[name])))
        groups = model.objects.groups.get(index)
        if groups:
            rows.append(("Groups", ", ".join(groups)))
        n_children = len(obj.children)
        if n_children:
            rows.append(("Parts and surfaces", str(n_children)))
        self._fill_table(rows, italic=3)

    def _fill_table(self, rows: list[tuple[str, str]], italic: int = 0) -> None:
        """Show ``rows``; the first ``italic`` rows that have a tooltip are computed figures."""
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, (k, v) in enumerate(rows):
            key_item = QTableWidgetItem(k)
            if r < italic and k in self._computed_tips:
                key_item.setToolTip(self._computed_tips[k])
                font = key_item.font()
                font.setItalic(True)
                key_item.setFont(font)
            if k in self._changed_rows:  # changed by the scenario shown
                font = key_item.font()
                font.setBold(True)
                key_item.setFont(font)
            self.table.setItem(r, 0, key_item)
            item = QTableWidgetItem(v)
            item.setToolTip(v)
            self.table.setItem(r, 1, item)
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 160))
        self.table.resizeRowsToContents()

    def _set_object_rows_visible(self, visible: bool) -> None:
        for lbl in (self.parent_label, self.lod_label):
            self._form.setRowVisible(lbl, visible)

    def show_point(self, layer: PointCloudLayer, hit: Any, coordinates: str) -> None:
        """Describe a picked point: ``hit`` is a ``PointPickResult``, ``coordinates`` its position as text
        (in the file's CRS)."""
        self._changed_rows = set()
        self.layer, self.index, self.point = layer, int(hit.index), hit
        self.placeholder.setVisible(False)
        self.card.setVisible(True)
        self.table.setVisible(True)
        self.copy_button.setEnabled(True)
        self._set_object_rows_visible(False)
        self.id_label.setText(f"Point {int(hit.index):,}")
        cls = hit.classification
        self.type_label.setText("LiDAR point" if cls is None else f"LiDAR point: {class_name(cls)}")
        cloud = layer.cloud
        self.layer_label.setText(layer.name)
        src = getattr(cloud, "source", None)
        self.layer_label.setToolTip(str(src) if src is not None else "")
        rows: list[tuple[str, str]] = [("Coordinates", coordinates)]
        crs = getattr(layer, "crs", None)
        if crs is not None and crs.epsg is not None:
            rows.append(("CRS", str(crs)))
        if cls is not None:
            rows.append(("Class", f"{class_name(cls)} ({cls})"))
        if hit.intensity is not None:
            rows.append(("Intensity", f"{hit.intensity:,}"))
        if hit.rgb is not None:
            r, g, b = hit.rgb
            rows.append(("RGB", f"{r}, {g}, {b}  (#{r:02x}{g:02x}{b:02x})"))
        if hit.gps_time is not None:
            rows.append(("GPS time", f"{hit.gps_time:.6f}"))
        if hit.return_number is not None:
            of = f" of {hit.number_of_returns}" if hit.number_of_returns is not None else ""
            rows.append(("Return", f"{hit.return_number}{of}"))
        if cloud is not None and cloud.subsampled:
            rows.append(("Loaded", f"{cloud.n_points:,} of {cloud.points_in_file:,} points (point budget)"))
        self._fill_table(rows)

    def text(self) -> str:
        """The card as plain text (what Copy puts on the clipboard)."""
        if self.layer is None or self.index < 0:
            return ""
        if self.point is not None:
            lines = [
                f"Id: {self.id_label.text()}",
                f"Type: {self.type_label.text()}",
                f"File: {self.layer_label.text()}",
            ]
            return "\n".join(lines + [f"{k}: {v}" for k, v in self.rows])
        lines = [
            f"Id: {self.id_label.text()}",
            f"Type: {self.type_label.text()}",
            f"Part of: {self.parent_label.text()}",
            f"LoD: {self.lod_label.text()}",
            f"File: {self.layer_label.text()}",
        ]
        lines += [f"{k}: {v}" for k, v in self.rows]
        return "\n".join(lines)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def lod_code_shown(self) -> int | None:
        text = self.lod_label.text().split(" ")[0]
        try:
            return lod_code(text)
        except ValueError:
            return None
