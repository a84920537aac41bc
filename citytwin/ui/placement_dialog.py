"""Placing a mesh in local coordinates: its CRS and an offset added to every vertex."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

#: the offset spin boxes' range (units of the CRS, usually metres)
OFFSET_RANGE = 1e8
OFFSET_DECIMALS = 3
MESH_FILTER = "Meshes (*.obj *.ply *.stl *.off *.glb *.gltf);;All files (*)"


def normalise_crs(text: str | None) -> str | None:
    """The CRS text as the reader gets it: stripped, a bare number as ``EPSG:<n>``; ``None`` when empty."""
    text = (text or "").strip()
    if not text:
        return None
    return f"EPSG:{text}" if text.isdigit() else text


def crs_error(text: str | None) -> str | None:
    """One sentence saying why ``text`` is not a CRS pyproj accepts, or ``None`` when it is (or is empty)."""
    crs = normalise_crs(text)
    if crs is None:
        return None
    try:
        from pyproj import CRS as ProjCRS

        ProjCRS.from_user_input(crs)
    except Exception:
        shown = crs if len(crs) <= 60 else crs[:57] + "…"
        return f"“{shown}” is not a coordinate reference system that PROJ knows (try a code such as EPSG:28992)."
    return None


def sidecar_path(mesh: str | Path) -> Path:
    """``<file>.crs.json`` beside the mesh (the sidecar the mesh reader looks for first)."""
    mesh = Path(mesh)
    return mesh.with_name(mesh.name + ".crs.json")


def write_sidecar(mesh: str | Path, crs: str | None, offset) -> Path:
    """Write ``{"crs": …, "offset": [x, y, z]}`` beside the mesh, atomically; returns its path."""
    from citytwin.io.atomic import write_atomic

    doc: dict = {}
    if crs:
        doc["crs"] = crs
    doc["offset"] = [float(v) for v in offset]
    return write_atomic(sidecar_path(mesh), (json.dumps(doc, indent=2) + "\n").encode("utf-8"))


class PlacementDialog(QDialog):
    """Ask for the CRS and offset of a mesh in local coordinates.

    Parameters
    ----------
    path
        The mesh (shown in the dialog).
    crs, offset
        The values shown first (the last ones used).
    """

    def __init__(self, path: str | Path, crs: str = "", offset=(0.0, 0.0, 0.0), parent: QWidget | None = None):
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle("Mesh placement")
        layout = QVBoxLayout(self)
        intro = QLabel(f"Place {self.path.name}: its coordinates are local; the offset is added to every vertex.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.crs_edit = QLineEdit(str(crs or ""))
        self.crs_edit.setPlaceholderText("EPSG:28992")
        self.crs_edit.setToolTip("The CRS of the placed coordinates: an EPSG code, a bare number or WKT")
        form.addRow("CRS", self.crs_edit)
        self.offset_spins: list[QDoubleSpinBox] = []
        values = list(offset or ()) + [0.0] * 3
        for axis, value in zip("XYZ", values[:3], strict=True):
            spin = QDoubleSpinBox()
            spin.setRange(-OFFSET_RANGE, OFFSET_RANGE)
            spin.setDecimals(OFFSET_DECIMALS)
            spin.setValue(float(value))
            spin.setToolTip(f"Added to the {axis} coordinate of every vertex")
            form.addRow(f"{axis} offset", spin)
            self.offset_spins.append(spin)
        layout.addLayout(form)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.sidecar_check = QCheckBox("Save as sidecar next to the file")
        self.sidecar_check.setToolTip(f"Write {sidecar_path(self.path).name} so the mesh opens placed next time")
        layout.addWidget(self.sidecar_check)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.crs_edit.textChanged.connect(self._validate)
        self._validate()

    @property
    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _validate(self) -> None:
        error = crs_error(self.crs_edit.text())
        self.error_label.setText(error or "")
        self.error_label.setVisible(error is not None)
        self.ok_button.setEnabled(error is None)

    @property
    def error(self) -> str | None:
        """The sentence shown for an invalid CRS, else ``None``."""
        return crs_error(self.crs_edit.text())

    @property
    def crs(self) -> str | None:
        return normalise_crs(self.crs_edit.text())

    @property
    def offset(self) -> tuple[float, float, float]:
        x, y, z = (float(spin.value()) for spin in self.offset_spins)
        return x, y, z

    @property
    def save_sidecar(self) -> bool:
        return self.sidecar_check.isChecked()
