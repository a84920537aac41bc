"""A Qt item model over the scene's evented layer list.

One root row per layer (a file), with two groups under it: the top-level
object types (Buildings, Terrain, Roads…) and the semantic surface classes
(Roofs, Walls…). Checkboxes are the layer's fields, nothing more: ticking
one pushes an undoable ``scene.set`` and the tree follows the layer's events
back, so an undo also updates the ticks. Row insertion and removal follow
the list's ``inserting/inserted/removing/removed`` events like napari's
``_qt/containers/_base_item_model.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from citytwin.model.layers import Layer
from citytwin.model.pointcloud import PointCloudLayer, class_name
from citytwin.model.scene import Scene
from citytwin.model.semantics import SURFACE_CLASS_LABEL, SurfaceClass

#: Plural labels of top-level object types, as a person reads them.
TYPE_LABELS: dict[str, str] = {
    "Building": "Buildings",
    "BuildingPart": "Building parts",
    "Bridge": "Bridges",
    "Tunnel": "Tunnels",
    "Road": "Roads",
    "Railway": "Railways",
    "Track": "Tracks",
    "Square": "Squares",
    "TransportationSquare": "Squares",
    "TransportSquare": "Squares",
    "TransportationComplex": "Roads",
    "Waterway": "Waterways",
    "WaterBody": "Water",
    "PlantCover": "Vegetation",
    "SolitaryVegetationObject": "Trees",
    "TINRelief": "Terrain",
    "ReliefFeature": "Terrain",
    "LandUse": "Land use",
    "CityFurniture": "Furniture",
    "GenericCityObject": "Other objects",
    "CityObjectGroup": "Groups",
    "OtherConstruction": "Other constructions",
    "Mesh": "Meshes",
}

_ROOT = QModelIndex()
#: layer fields the tree's labels and checkboxes show
WATCHED = ("visible", "name", "hidden_types", "hidden_semantics", "hidden_classes")
ROLE_KIND = Qt.ItemDataRole.UserRole + 1
ROLE_KEY = Qt.ItemDataRole.UserRole + 2
ROLE_LAYER = Qt.ItemDataRole.UserRole + 3


def type_label(type_name: str) -> str:
    """``"Building"`` → ``"Buildings"``; unknown types keep their name."""
    base = type_name.rsplit(":", 1)[-1]
    return TYPE_LABELS.get(base, base)


class _Node:
    """A row: ``kind`` is ``"layer"``, ``"group"``, ``"type"``, ``"semantic"`` or ``"class"`` (point class)."""

    __slots__ = ("kind", "key", "label", "count", "layer", "parent", "children")

    def __init__(self, kind: str, key: Any, label: str, layer: Layer, parent: _Node | None, count: int = 0):
        self.kind = kind
        self.key = key
        self.label = label
        self.count = count
        self.layer = layer
        self.parent = parent
        self.children: list[_Node] = []

    def row(self, roots: list[_Node]) -> int:
        siblings = self.parent.children if self.parent is not None else roots
        for i, node in enumerate(siblings):
            if node is self:
                return i
        return -1


def _layer_node(layer: Layer) -> _Node:
    node = _Node("layer", None, layer.name, layer, None)
    if isinstance(layer, PointCloudLayer):
        cloud = layer.cloud
        if cloud is not None:  # one row per ASPRS class the file has, with its count over the whole file
            for code in cloud.classes:
                node.children.append(
                    _Node("class", code, class_name(code), layer, node, int(cloud.class_counts.get(code, 0)))
                )
        return node
    model = getattr(layer, "model", None)
    if model is None:
        return node
    objects = model.objects
    if len(objects):
        top = objects.parents < 0
        types = [t for t, is_top in zip(objects.types, top.tolist(), strict=True) if is_top]
        counts = Counter(types)
        # only types that own geometry somewhere in their hierarchy
        with_geo = set()
        if model.mesh.n_polygons:
            roots = objects.roots[np.unique(model.mesh.poly_object)]
            with_geo = {objects.types[int(r)] for r in np.unique(roots)}
        shown = sorted((t for t in counts if t in with_geo), key=lambda t: (type_label(t), t))
        if shown:
            group = _Node("group", "types", "Object types", layer, node)
            node.children.append(group)
            for t in shown:
                group.children.append(_Node("type", t, type_label(t), layer, group, counts[t]))
    classes = [SurfaceClass(c) for c in np.unique(model.mesh.poly_semantic).tolist()] if model.mesh.n_polygons else []
    if any(c != SurfaceClass.NONE for c in classes):
        group = _Node("group", "semantics", "Surfaces", layer, node)
        node.children.append(group)
        tri_counts = np.bincount(model.mesh.tri_semantic, minlength=256)
        for c in classes:
            group.children.append(
                _Node("semantic", int(c), SURFACE_CLASS_LABEL.get(c, c.name.title()), layer, group, int(tri_counts[c]))
            )
    return node


class LayerTreeModel(QAbstractItemModel):
    """Tree of layers → object types / surface classes with visibility checkboxes.

    Parameters
    ----------
    scene
        Changes are pushed on its undo stack (``scene.set``).
    """

    def __init__(self, scene: Scene, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self._callbacks: dict[int, Any] = {}
        self._roots: list[_Node] = [_layer_node(layer) for layer in scene.layers]
        for layer in scene.layers:
            self._watch(layer)
        ev = scene.layers.events
        ev.inserting.connect(self._on_inserting)
        ev.inserted.connect(self._on_inserted)
        ev.removing.connect(self._on_removing)
        ev.removed.connect(self._on_removed)
        ev.moved.connect(self._on_reset)
        ev.reordered.connect(self._on_reset)

    def disconnect_scene(self) -> None:
        """Stop following the scene (the window closes)."""
        ev = self.scene.layers.events
        for sig, slot in (
            (ev.inserting, self._on_inserting),
            (ev.inserted, self._on_inserted),
            (ev.removing, self._on_removing),
            (ev.removed, self._on_removed),
            (ev.moved, self._on_reset),
            (ev.reordered, self._on_reset),
        ):
            sig.disconnect(slot)
        for layer in self.scene.layers:
            self._unwatch(layer)

    # -------------------------------------------------------- list events
    def _on_inserting(self, index: int) -> None:
        self.beginInsertRows(QModelIndex(), index, index)

    def _on_inserted(self, index: int, layer: Layer) -> None:
        self._roots.insert(index, _layer_node(layer))
        self._watch(layer)
        self.endInsertRows()

    def _on_removing(self, index: int) -> None:
        self.beginRemoveRows(QModelIndex(), index, index)

    def _on_removed(self, index: int, layer: Layer) -> None:
        del self._roots[index]
        self._unwatch(layer)
        self.endRemoveRows()

    def _on_reset(self, *args: Any) -> None:
        self.beginResetModel()
        for node in self._roots:
            self._unwatch(node.layer)
        self._roots = [_layer_node(layer) for layer in self.scene.layers]
        for layer in self.scene.layers:
            self._watch(layer)
        self.endResetModel()

    # ------------------------------------------------------- layer events
    def _watch(self, layer: Layer) -> None:
        def refresh(*_args: Any, layer: Layer = layer) -> None:
            self._refresh_layer(layer)

        self._callbacks[id(layer)] = refresh
        ev = layer.events
        for name in WATCHED:
            sig = getattr(ev, name, None)
            if sig is not None:
                sig.connect(refresh)

    def _unwatch(self, layer: Layer) -> None:
        refresh = self._callbacks.pop(id(layer), None)
        if refresh is None:
            return
        ev = layer.events
        for name in WATCHED:
            sig = getattr(ev, name, None)
            if sig is not None:
                sig.disconnect(refresh)

    def _refresh_layer(self, layer: Layer) -> None:
        for row, node in enumerate(self._roots):
            if node.layer is layer:
                node.label = layer.name
                top = self.index(row, 0)
                self.dataChanged.emit(top, top)
                self._emit_children(node, top)

    def _emit_children(self, node: _Node, index: QModelIndex) -> None:
        if not node.children:
            return
        first = self.index(0, 0, index)
        last = self.index(len(node.children) - 1, 0, index)
        self.dataChanged.emit(first, last, [Qt.ItemDataRole.CheckStateRole])
        for i, child in enumerate(node.children):
            self._emit_children(child, self.index(i, 0, index))

    # --------------------------------------------------------- item model
    def _node(self, index: QModelIndex | QPersistentModelIndex) -> _Node | None:
        return index.internalPointer() if index.isValid() else None

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> QModelIndex:
        siblings = self._roots if not parent.isValid() else self._node(parent).children
        if column != 0 or not 0 <= row < len(siblings):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row])

    def parent(self, index: QModelIndex | QPersistentModelIndex = _ROOT) -> QModelIndex:  # type: ignore[override]
        node = self._node(index)
        if node is None or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.parent.row(self._roots), 0, node.parent)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        if parent.column() > 0:
            return 0
        return len(self._roots) if not parent.isValid() else len(self._node(parent).children)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 1

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        node = self._node(index)
        if node is None:
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if node.kind != "group":
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def _checked(self, node: _Node) -> bool:
        layer = node.layer
        if node.kind == "layer":
            return bool(layer.visible)
        if node.kind == "type":
            return node.key not in layer.hidden_types
        if node.kind == "semantic":
            return node.key not in layer.hidden_semantics
        if node.kind == "class":
            return node.key not in layer.hidden_classes
        return True

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node(index)
        if node is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if node.kind in ("type",) and node.count:
                return f"{node.label} ({node.count:,})"
            if node.kind == "class":
                code = "" if node.label.endswith(f" {node.key}") else f" ({node.key})"  # not "Reserved 26 (26)"
                cloud = getattr(node.layer, "cloud", None)
                loaded = "" if getattr(cloud, "class_counts_complete", True) else " loaded"
                return f"{node.label}{code} — {node.count:,}{loaded} points"
            return node.label
        if role == Qt.ItemDataRole.CheckStateRole and node.kind != "group":
            return Qt.CheckState.Checked if self._checked(node) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            if node.kind == "class":
                cloud = getattr(node.layer, "cloud", None)
                where = "in the file" if getattr(cloud, "class_counts_complete", True) else "loaded (of the whole file)"
                return f"ASPRS class {node.key}: {node.count:,} points {where}"
            if node.kind == "layer":
                model = getattr(node.layer, "model", None)
                if model is None:
                    model = getattr(node.layer, "cloud", None)
                src = getattr(model, "source", None)
                return str(src) if src is not None else node.label
            if node.kind == "type":
                return f"{node.key}: {node.count:,} top-level objects"
            if node.kind == "semantic":
                return f"{node.label}: {node.count:,} triangles"
        if role == ROLE_KIND:
            return node.kind
        if role == ROLE_KEY:
            return node.key
        if role == ROLE_LAYER:
            return node.layer
        return None

    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        node = self._node(index)
        if node is None or role != Qt.ItemDataRole.CheckStateRole or node.kind == "group":
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
        self.set_checked(node, checked)
        return True

    def set_checked(self, node: _Node, checked: bool) -> None:
        layer = node.layer
        if node.kind == "layer":
            if bool(layer.visible) != checked:
                self.scene.set(layer, "visible", checked)
        elif node.kind == "type":
            hidden = set(layer.hidden_types)
            hidden.discard(node.key) if checked else hidden.add(node.key)
            if frozenset(hidden) != layer.hidden_types:
                self.scene.set(layer, "hidden_types", frozenset(hidden))
        elif node.kind == "semantic":
            hidden = set(layer.hidden_semantics)
            hidden.discard(node.key) if checked else hidden.add(node.key)
            if frozenset(hidden) != layer.hidden_semantics:
                self.scene.set(layer, "hidden_semantics", frozenset(hidden))
        elif node.kind == "class":
            hidden = set(layer.hidden_classes)
            hidden.discard(node.key) if checked else hidden.add(node.key)
            if frozenset(hidden) != layer.hidden_classes:
                self.scene.set(layer, "hidden_classes", frozenset(hidden))

    # ------------------------------------------------------------ helpers
    def layer_at(self, index: QModelIndex) -> Layer | None:
        node = self._node(index)
        return None if node is None else node.layer

    def layer_index(self, layer: Layer) -> QModelIndex:
        for row, node in enumerate(self._roots):
            if node.layer is layer:
                return self.index(row, 0)
        return QModelIndex()

    def find(self, layer: Layer, kind: str, key: Any) -> QModelIndex:
        """The index of a type or semantic row of a layer (invalid if absent)."""
        top = self.layer_index(layer)
        if not top.isValid():
            return QModelIndex()
        stack = [top]
        while stack:
            idx = stack.pop()
            node = self._node(idx)
            if node.kind == kind and node.key == key:
                return idx
            stack.extend(self.index(i, 0, idx) for i in range(len(node.children)))
        return QModelIndex()
