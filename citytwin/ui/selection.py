"""Which object is selected, across every layer of a scene.

Each :class:`~citytwin.model.layers.CityModelLayer` keeps its own
``selection``; the inspector shows one object. :class:`SelectionTracker`
follows every layer's ``selection`` event and says which (layer, object)
was selected last, as a Qt signal.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from citytwin.model.cityobjects import SURFACE_TYPES
from citytwin.model.layers import CityModelLayer, Layer
from citytwin.model.scene import Scene


def selectable_object(layer: CityModelLayer, index: int) -> int:
    """The object a click on ``index``'s geometry selects: the nearest ancestor that is not a surface.

    A click on a roof selects its building (or building part), not the RoofSurface.
    """
    objects = layer.model.objects
    i = int(index)
    for _ in range(64):
        if i < 0 or objects.types[i].rsplit(":", 1)[-1] not in SURFACE_TYPES:
            break
        p = int(objects.parents[i])
        if p < 0:
            break
        i = p
    return i


def select(scene: Scene, layer: CityModelLayer | None, indices: tuple[int, ...] | list[int]) -> None:
    """Select objects of one layer, clearing the selection of every other layer.

    Selection is view state, not an edit: like in other desktop editors it is
    not an undo step (Undo after a click undoes the last real change).
    """
    for other in scene.selectable_layers():
        if other is not layer and other.selection:
            other.selection = ()
    if layer is not None:
        value = tuple(int(i) for i in indices)
        if tuple(layer.selection) != value:
            layer.selection = value


class SelectionTracker(QObject):
    """Emits :attr:`changed` ``(layer or None, object index or -1)`` when the selection changes."""

    changed = Signal(object, int)

    def __init__(self, scene: Scene, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.layer: CityModelLayer | None = None
        self.index: int = -1
        self._callbacks: dict[int, Any] = {}
        #: the scene's layer of the objects a scenario adds, while watched
        self._additions: CityModelLayer | None = None
        for layer in scene.layers:
            self._watch(layer)
        scene.layers.events.inserted.connect(self._on_inserted)
        scene.layers.events.removed.connect(self._on_removed)
        scene.settings_changed.connect(self._on_settings)
        self._on_settings("additions")

    def disconnect_scene(self) -> None:
        self.scene.layers.events.inserted.disconnect(self._on_inserted)
        self.scene.layers.events.removed.disconnect(self._on_removed)
        self.scene.settings_changed.disconnect(self._on_settings)
        for layer in [*self.scene.layers, *([self._additions] if self._additions is not None else [])]:
            self._unwatch(layer)
        self._additions = None

    def _on_settings(self, name: str) -> None:
        if name != "additions" or self.scene.additions is self._additions:
            return
        old, self._additions = self._additions, self.scene.additions
        if old is not None:
            self._unwatch(old)
        if self._additions is not None:
            self._watch(self._additions)
        if old is not None and old is self.layer:
            self._recompute()

    def _on_inserted(self, index: int, layer: Layer) -> None:
        self._watch(layer)
        if isinstance(layer, CityModelLayer) and layer.selection:
            self._changed(layer)

    def _on_removed(self, index: int, layer: Layer) -> None:
        self._unwatch(layer)
        if layer is self.layer:
            self._recompute()

    def _watch(self, layer: Layer) -> None:
        if not isinstance(layer, CityModelLayer):
            return

        def cb(*_args: Any, layer: CityModelLayer = layer) -> None:
            self._changed(layer)

        self._callbacks[id(layer)] = cb
        layer.events.selection.connect(cb)

    def _unwatch(self, layer: Layer) -> None:
        cb = self._callbacks.pop(id(layer), None)
        if cb is not None:
            layer.events.selection.disconnect(cb)

    def _changed(self, layer: CityModelLayer) -> None:
        if layer.selection:
            self._set(layer, int(layer.selection[-1]))
        elif layer is self.layer:
            self._recompute()

    def _recompute(self) -> None:
        for layer in reversed(self.scene.selectable_layers()):
            if layer.selection:
                self._set(layer, int(layer.selection[-1]))
                return
        self._set(None, -1)

    def _set(self, layer: CityModelLayer | None, index: int) -> None:
        if layer is self.layer and index == self.index:
            return
        self.layer, self.index = layer, index
        self.changed.emit(layer, index)
