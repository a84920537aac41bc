"""The Layers panel: the layer tree and the controls of the current layer."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.layers import CityModelLayer, Layer
from citytwin.model.pointcloud import PointCloudLayer
from citytwin.model.scene import Scene
from citytwin.model.semantics import lod_code, lod_name
from citytwin.ui.layer_model import LayerTreeModel

COLOUR_MODE_LABELS = (
    ("semantic", "By surface type"),
    ("single", "Single colour"),
    ("attribute", "By attribute"),
    ("texture", "The file's colours"),
    ("elevation", "By elevation"),
)

#: Point-cloud colour modes: key, label, the cloud attribute it needs.
POINT_COLOUR_MODE_LABELS = (
    ("rgb", "RGB (the file's colours)", "rgb"),
    ("intensity", "Intensity", "intensity"),
    ("elevation", "Elevation", None),
    ("classification", "Classification", "classification"),
    ("return_number", "Return number", "return_number"),
)

#: Attribute presets offered first when a model has them.
ATTRIBUTE_PRESETS = (
    ("measuredHeight", "Height (measuredHeight)"),
    ("yearOfConstruction", "Year of construction"),
    ("function", "Function"),
)


class LayerPanel(QWidget):
    """Tree of layers with checkboxes; opacity, LoD, colour mode and remove for the current layer.

    Signals
    -------
    zoom_requested(layer)
        The user double-clicked a layer row.
    make_terrain_requested(layer)
        "Make terrain…" on a point-cloud layer's context menu.
    save_terrain_requested(layer)
        "Save terrain as…" on a terrain layer's context menu.
    """

    zoom_requested = Signal(object)
    make_terrain_requested = Signal(object)
    save_terrain_requested = Signal(object)

    def __init__(self, scene: Scene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.model = LayerTreeModel(scene, self)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.doubleClicked.connect(self._on_double_click)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.tree.selectionModel().currentChanged.connect(self._on_current)
        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.model.rowsRemoved.connect(lambda *_: self._sync_controls())
        self.model.modelReset.connect(self._sync_controls)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)

        self.controls = QWidget()
        form = QFormLayout(self.controls)
        form.setContentsMargins(0, 0, 0, 0)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the layer")
        self.opacity.valueChanged.connect(self._on_opacity)
        form.addRow("Opacity", self.opacity)
        self.lod_label = QLabel("LoD")
        self.lod_combo = QComboBox()
        self.lod_combo.setToolTip("Level of detail shown")
        self.lod_combo.activated.connect(self._on_lod)
        form.addRow(self.lod_label, self.lod_combo)
        self.colour_combo = QComboBox()
        for key, label in COLOUR_MODE_LABELS:
            self.colour_combo.addItem(label, key)
        texture_item = self.colour_combo.findData("texture")
        self.colour_combo.setItemData(
            texture_item, "The colours the file gives: materials, texture images or vertex colours", Qt.ToolTipRole
        )
        self.colour_combo.activated.connect(self._on_colour_mode)
        form.addRow("Colour", self.colour_combo)
        self.attribute_label = QLabel("Attribute")
        self.attribute_combo = QComboBox()
        self.attribute_combo.setToolTip("Colour the objects by this attribute")
        self.attribute_combo.activated.connect(self._on_attribute)
        form.addRow(self.attribute_label, self.attribute_combo)
        # point clouds
        self.point_colour_combo = QComboBox()
        for key, label, _ in POINT_COLOUR_MODE_LABELS:
            self.point_colour_combo.addItem(label, key)
        self.point_colour_combo.setToolTip("Colour the points by")
        self.point_colour_combo.activated.connect(self._on_point_colour_mode)
        form.addRow("Colour", self.point_colour_combo)
        self.point_size_spin = QDoubleSpinBox()
        self.point_size_spin.setRange(1.0, 20.0)
        self.point_size_spin.setSingleStep(1.0)
        self.point_size_spin.setDecimals(0)
        self.point_size_spin.setSuffix(" px")
        self.point_size_spin.setToolTip("Size of each point on screen")
        self.point_size_spin.valueChanged.connect(self._on_point_size)
        form.addRow("Point size", self.point_size_spin)
        self.edl_check = QCheckBox("Eye-dome lighting")
        self.edl_check.setToolTip("Darken depth edges so the shape of the cloud reads (helps clouds without colour)")
        self.edl_check.toggled.connect(self._on_edl)
        form.addRow("", self.edl_check)
        self._form = form
        buttons = QHBoxLayout()
        self.remove_button = QPushButton("Remove layer")
        self.remove_button.setToolTip("Close this file (Undo brings it back)")
        self.remove_button.clicked.connect(self.remove_current)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        form.addRow(buttons)
        layout.addWidget(self.controls)
        self._layer: CityModelLayer | PointCloudLayer | None = None
        self._callbacks: list[tuple[Any, Any]] = []
        self._syncing = False
        self._sync_controls()

    def shutdown(self) -> None:
        self._disconnect_layer()
        self.model.disconnect_scene()

    # --------------------------------------------------------------- current
    @property
    def current_layer(self) -> CityModelLayer | PointCloudLayer | None:
        return self._layer

    def set_current_layer(self, layer: Layer | None) -> None:
        idx = self.model.layer_index(layer) if layer is not None else QModelIndex()
        self.tree.setCurrentIndex(idx)
        self._on_current(idx)

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            idx = self.model.index(last, 0)
            self.tree.expand(idx)
            for r in range(self.model.rowCount(idx)):
                self.tree.expand(self.model.index(r, 0, idx))
            self.tree.setCurrentIndex(idx)
        self._sync_controls()

    def _on_current(self, current: QModelIndex, previous: QModelIndex | None = None) -> None:
        layer = self.model.layer_at(current)
        if layer is None and len(self.scene.layers):
            layer = None
        self._bind(layer if isinstance(layer, (CityModelLayer, PointCloudLayer)) else None)

    def _on_double_click(self, index: QModelIndex) -> None:
        layer = self.model.layer_at(index)
        if layer is not None:
            self.zoom_requested.emit(layer)

    def _bind(self, layer: CityModelLayer | PointCloudLayer | None) -> None:
        if layer is self._layer:
            self._sync_controls()
            return
        self._disconnect_layer()
        self._layer = layer
        if layer is not None:
            ev = layer.events
            names = (
                ("opacity", "colour_mode", "point_size", "eye_dome_lighting")
                if isinstance(layer, PointCloudLayer)
                else ("opacity", "lod", "colour_mode", "colour_attribute")
            )
            for sig in (getattr(ev, name) for name in names):
                cb = lambda *_: self._sync_controls()  # noqa: E731
                sig.connect(cb)
                self._callbacks.append((sig, cb))
        self._sync_controls()

    def _disconnect_layer(self) -> None:
        for sig, cb in self._callbacks:
            sig.disconnect(cb)
        self._callbacks = []

    # --------------------------------------------------------------- sync
    def _sync_controls(self) -> None:
        layer = self._layer
        if layer is not None and layer not in self.scene.layers:
            self._disconnect_layer()
            self._layer = layer = None
        self._syncing = True
        try:
            self.controls.setEnabled(layer is not None)
            is_cloud = isinstance(layer, PointCloudLayer)
            for widget in (self.point_colour_combo, self.point_size_spin, self.edl_check):
                self._form.setRowVisible(widget, is_cloud)
            self._form.setRowVisible(self.colour_combo, not is_cloud)
            if is_cloud:
                self.lod_label.setVisible(False)
                self.lod_combo.setVisible(False)
                self.attribute_label.setVisible(False)
                self.attribute_combo.setVisible(False)
                self._sync_point_controls(layer)
                return
            if layer is None or layer.model is None:
                self.lod_label.setVisible(False)
                self.lod_combo.setVisible(False)
                self.attribute_label.setVisible(False)
                self.attribute_combo.setVisible(False)
                return
            self.opacity.setValue(round(layer.opacity * 100))
            lods = layer.model.lods
            several = len(lods) > 1
            self.lod_label.setVisible(several)
            self.lod_combo.setVisible(several)
            self.lod_combo.clear()
            self.lod_combo.addItem("Highest available", None)
            for name in lods:
                self.lod_combo.addItem(f"LoD {name}", lod_code(name))
            self.lod_combo.setCurrentIndex(max(self.lod_combo.findData(layer.lod), 0))
            mesh = layer.model.mesh
            has_appearance = bool(getattr(mesh, "appearances", None))
            has_appearance |= getattr(mesh, "vertex_colours", None) is not None
            item = self.colour_combo.model().item(self.colour_combo.findData("texture"))
            item.setEnabled(has_appearance)
            item.setToolTip(
                "Materials, texture images and vertex colours of the file"
                if has_appearance
                else "This file has no textures, materials or vertex colours"
            )
            self.colour_combo.setCurrentIndex(max(self.colour_combo.findData(layer.colour_mode), 0))
            by_attr = layer.colour_mode == "attribute"
            self.attribute_label.setVisible(by_attr)
            self.attribute_combo.setVisible(by_attr)
            self._fill_attributes(layer)
        finally:
            self._syncing = False

    def _sync_point_controls(self, layer: PointCloudLayer) -> None:
        self.opacity.setValue(round(layer.opacity * 100))
        cloud = layer.cloud
        combo_model = self.point_colour_combo.model()
        for row, (_key, _label, needs) in enumerate(POINT_COLOUR_MODE_LABELS):
            has = needs is None or (cloud is not None and getattr(cloud, needs) is not None)
            item = combo_model.item(row)
            item.setEnabled(has)
            item.setToolTip("" if has else "This file has no such values")
        self.point_colour_combo.setCurrentIndex(max(self.point_colour_combo.findData(layer.colour_mode), 0))
        self.point_size_spin.setValue(float(layer.point_size))
        self.edl_check.setChecked(bool(layer.eye_dome_lighting))

    def _fill_attributes(self, layer: CityModelLayer) -> None:
        names = layer.model.objects.attribute_names()
        self.attribute_combo.clear()
        present = set(names)
        for key, label in ATTRIBUTE_PRESETS:
            if key in present:
                self.attribute_combo.addItem(label, key)
        for name in names:
            if name not in {k for k, _ in ATTRIBUTE_PRESETS}:
                self.attribute_combo.addItem(name, name)
        i = self.attribute_combo.findData(layer.colour_attribute)
        self.attribute_combo.setCurrentIndex(max(i, 0))

    # --------------------------------------------------------------- actions
    def _on_opacity(self, value: int) -> None:
        if self._syncing or self._layer is None:
            return
        self.scene.set(self._layer, "opacity", value / 100.0, merge=True)

    def _on_point_colour_mode(self, row: int) -> None:
        layer = self._layer
        if not isinstance(layer, PointCloudLayer):
            return
        mode = self.point_colour_combo.itemData(row)
        if mode != layer.colour_mode:
            self.scene.set(layer, "colour_mode", mode)

    def _on_point_size(self, value: float) -> None:
        layer = self._layer
        if self._syncing or not isinstance(layer, PointCloudLayer):
            return
        if float(value) != layer.point_size:
            self.scene.set(layer, "point_size", float(value), merge=True)

    def _on_edl(self, on: bool) -> None:
        layer = self._layer
        if self._syncing or not isinstance(layer, PointCloudLayer):
            return
        if bool(on) != layer.eye_dome_lighting:
            self.scene.set(layer, "eye_dome_lighting", bool(on))

    def _on_context_menu(self, pos) -> None:
        index = self.tree.indexAt(pos)
        layer = self.model.layer_at(index)
        if layer is None:
            return
        menu = self.context_menu(layer)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def context_menu(self, layer: Layer) -> QMenu:
        """The menu a right-click on a layer's rows opens."""
        menu = QMenu(self)
        menu.addAction("Zoom to layer", lambda: self.zoom_requested.emit(layer))
        if isinstance(layer, PointCloudLayer):
            act = menu.addAction("Make terrain…", lambda: self.make_terrain_requested.emit(layer))
            act.setToolTip("A terrain mesh (DTM) from the ground points of this cloud")
            act.setEnabled(layer.cloud is not None and 2 in layer.cloud.class_counts)
        elif isinstance(layer, CityModelLayer) and layer.model is not None and layer.model.mesh.n_triangles:
            label = "Save terrain as…" if layer.model.format == "DTM" else "Save mesh as…"
            menu.addAction(label, lambda: self.save_terrain_requested.emit(layer))
        menu.addSeparator()
        menu.addAction("Remove layer", lambda: self.scene.remove_layer(layer) if layer in self.scene.layers else None)
        return menu

    def _on_lod(self, row: int) -> None:
        if not isinstance(self._layer, CityModelLayer):
            return
        value = self.lod_combo.itemData(row)
        if value != self._layer.lod:
            self.scene.set(self._layer, "lod", value)

    def _on_colour_mode(self, row: int) -> None:
        layer = self._layer
        if not isinstance(layer, CityModelLayer):
            return
        mode = self.colour_combo.itemData(row)
        if mode == "attribute" and not layer.colour_attribute:
            names = layer.model.objects.attribute_names()
            if not names:
                self._sync_controls()
                return
            first = next((k for k, _ in ATTRIBUTE_PRESETS if k in names), names[0])
            self.scene.set(layer, "colour_attribute", first)
        if mode != layer.colour_mode:
            self.scene.set(layer, "colour_mode", mode)

    def _on_attribute(self, row: int) -> None:
        layer = self._layer
        if not isinstance(layer, CityModelLayer):
            return
        name = self.attribute_combo.itemData(row)
        if name != layer.colour_attribute:
            self.scene.set(layer, "colour_attribute", name)

    def set_colour_by(self, layer: CityModelLayer, attribute: str) -> None:
        """Colour a layer by an attribute (two undoable steps)."""
        if layer.colour_attribute != attribute:
            self.scene.set(layer, "colour_attribute", attribute)
        if layer.colour_mode != "attribute":
            self.scene.set(layer, "colour_mode", "attribute")

    def remove_current(self) -> None:
        if self._layer is not None and self._layer in self.scene.layers:
            self.scene.remove_layer(self._layer)

    @staticmethod
    def lod_text(code: int | None) -> str:
        return "Highest available" if code is None else f"LoD {lod_name(code)}"
