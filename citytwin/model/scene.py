"""The scene: layers, a shared origin, the camera and the undo history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec
import numpy as np
from psygnal import Signal

from citytwin.errors import CityTwinError
from citytwin.model.annotations import AnnotationSettings, Bookmark, ItemList, Measurement, Pin
from citytwin.model.camera import CameraState
from citytwin.model.commands import (
    CallbackCommand,
    InsertItem,
    MoveItem,
    RemoveItem,
    ReplaceItem,
    SetProperty,
    UndoStack,
)
from citytwin.model.crs import CRS, display_crs
from citytwin.model.layers import CityModelLayer, Layer, LayerList
from citytwin.model.looks import DEFAULT_LOOK, Look
from citytwin.model.overlays import OverlaySettings
from citytwin.model.presentation import Presentation
from citytwin.model.scenario import Scenario
from citytwin.model.tours import Tour


def choose_origin(bounds: np.ndarray) -> np.ndarray:
    """A scene origin for these bounds: the centre rounded to whole metres, z at the base.

    Rendering subtracts it in float64 before converting to float32, so that
    coordinates like 5,400,000 m keep millimetre precision on the GPU.
    """
    b = np.asarray(bounds, dtype=np.float64)
    if b.shape != (6,) or not np.isfinite(b).all():
        return np.zeros(3)
    centre = (b[:3] + b[3:]) / 2
    return np.array([np.round(centre[0]), np.round(centre[1]), np.floor(b[2])])


class Scene:
    """What is open: layers sharing one origin and CRS, the camera, the undo stack.

    Attributes
    ----------
    layers
        Evented list of layers.
    origin
        float64 ``(3,)`` chosen from the first layer with bounds; ``None`` until then.
    crs
        The CRS of the first georeferenced layer.
    display_crs
        The CRS the scene is drawn in: ``crs`` when it is projected, the UTM zone
        of the data when it is latitude/longitude. Layers in other CRSs are
        reprojected to it for display; their source coordinates are kept.
    camera
        The current camera (world coordinates), or ``None`` before the first view.
    pins, measurements, bookmarks
        Evented lists of :class:`~citytwin.model.annotations.Pin`,
        :class:`~citytwin.model.annotations.Measurement` and
        :class:`~citytwin.model.annotations.Bookmark`; change them through
        :meth:`add_item`, :meth:`edit_item`, :meth:`remove_item` and :meth:`move_item`
        (undoable).
    tours
        Evented list of :class:`~citytwin.model.tours.Tour`, changed the same way (a tour
        edit of :mod:`citytwin.model.tours` applied as ``edit_item(tour, keyframes=new.keyframes)``).
    overlays, presentation
        What exports draw over the scene, and how presenter mode runs (replaced through
        :meth:`set`, which is undoable; ``settings_changed`` tells which).
    look
        How the scene looks (:class:`~citytwin.model.looks.Look`; Daylight by default), replaced
        through :meth:`set` (``settings_changed("look")``).
    sun
        The date and time (timezone-aware) the sun is placed for, or ``None`` for the look's
        default sun; replaced through :meth:`set` (``settings_changed("sun")``).
    scenarios
        Evented list of :class:`~citytwin.model.scenario.Scenario` (planning "what ifs"), changed
        like the tours (an edit of :mod:`citytwin.model.scenario` applied as
        ``edit_item(scenario, edits=new.edits)``).
    scenario_id, scenario
        The scenario shown (``None``: the existing city), switched through :meth:`set`
        (``settings_changed("scenario")``).
    additions
        The objects the shown scenario adds (drawn buildings, imported proposals), as a
        :class:`~citytwin.model.layers.CityModelLayer` of their own: not in ``layers`` and never
        saved (the scenario holds them), but selectable like any layer. Set by the view that
        draws them (``settings_changed("additions")``); ``None`` while the scenario adds nothing.
    additions_hidden_ids
        Ids of added objects hidden in the view (Edit → Hide): kept here, saved with the project,
        because :attr:`additions` is made anew whenever the scenario's additions change. The view
        that draws the additions keeps it in step with the additions layer's ``hidden_ids``.
    annotation_settings
        How the pins are drawn as a whole (shown, opacity): an evented
        :class:`~citytwin.model.annotations.AnnotationSettings`, changed through :meth:`set`.
    undo_stack
        Every user change is a command here.
    """

    origin_changed = Signal(object)
    camera_changed = Signal(object)
    #: ``"overlays"``, ``"presentation"``, ``"look"``, ``"sun"``, ``"scenario"`` or ``"additions"`` was replaced
    settings_changed = Signal(str)

    def __init__(self) -> None:
        self.layers = LayerList()
        self.origin: np.ndarray | None = None
        self.crs: CRS | None = None
        self.display_crs: CRS | None = None
        self._camera: CameraState | None = None
        self.undo_stack = UndoStack()
        self.pins = ItemList()
        self.measurements = ItemList()
        self.bookmarks = ItemList()
        self.tours = ItemList()
        self.scenarios = ItemList()
        self._scenario_id: str | None = None
        self._additions: CityModelLayer | None = None
        self.additions_hidden_ids: frozenset[str] = frozenset()
        self.annotation_settings = AnnotationSettings()
        self._overlays = OverlaySettings()
        self._presentation = Presentation()
        self._look: Look = DEFAULT_LOOK
        self._sun: datetime | None = None
        self.layers.events.inserted.connect(self._on_inserted)

    # -------------------------------------------------------------- pins, measurements, bookmarks
    def items_for(self, item: Pin | Measurement | Bookmark | Tour) -> ItemList:
        """The list an item belongs in."""
        if isinstance(item, Pin):
            return self.pins
        if isinstance(item, Measurement):
            return self.measurements
        if isinstance(item, Bookmark):
            return self.bookmarks
        if isinstance(item, Tour):
            return self.tours
        if isinstance(item, Scenario):
            return self.scenarios
        raise TypeError(f"not a scene item: {type(item).__name__}")

    def add_item(self, item: Pin | Measurement | Bookmark | Tour, index: int | None = None) -> None:
        """Add a pin, measurement or bookmark as an undoable step."""
        self.undo_stack.push(InsertItem(self.items_for(item), item, index, f"Add {_label(item)}"))

    def remove_item(self, item: Pin | Measurement | Bookmark | Tour) -> None:
        """Delete an item as an undoable step."""
        self.undo_stack.push(RemoveItem(self.items_for(item), item, f"Delete {_label(item)}"))

    def edit_item(self, item: Pin | Measurement | Bookmark | Tour, merge: bool = False, **changes) -> object:
        """Replace an item by a copy with ``changes`` (``title="Town hall"``), undoably; return the copy.

        ``merge`` folds consecutive edits of the same item into one step.

        Raises
        ------
        ValueError
            If a change is invalid (an unknown icon, a colour out of range …).
        """
        new = msgspec.structs.replace(item, **changes)  # runs the item's checks
        key = ("edit", item.id, tuple(sorted(changes))) if merge else None
        self.undo_stack.push(ReplaceItem(self.items_for(item), item, new, f"Edit {_label(item)}", merge_key=key))
        return new

    def move_item(self, item: Pin | Measurement | Bookmark | Tour, index: int) -> None:
        """Move an item to ``index`` in its list, undoably."""
        self.undo_stack.push(MoveItem(self.items_for(item), item, index, f"Reorder {_label(item)}"))

    # -------------------------------------------------------------- layers
    def prepare_layer(self, layer: Layer) -> None:
        """Prepare a layer for this scene: reproject it for display when its CRS differs.

        Raises
        ------
        CityTwinError
            When the layer's CRS cannot be transformed to the scene's.
        """
        model = getattr(layer, "model", None)
        if model is None:
            model = getattr(layer, "cloud", None)  # a PointCloudLayer
        crs = getattr(layer, "crs", None)
        if model is None or crs is None or crs.epsg is None:
            return
        target = self.display_crs or display_crs(crs, model.bounds)
        if target is None or target.epsg is None or target.epsg == crs.epsg:
            return
        try:
            layer.set_display_model(model.in_crs(target))
        except CityTwinError as exc:
            raise CityTwinError(f"{layer.name} cannot be shown with the other layers: {exc}") from None

    def add_layer(self, layer: Layer, undoable: bool = True) -> Layer:
        """Add a layer (an undoable step unless ``undoable`` is False)."""
        self.prepare_layer(layer)
        if not undoable:
            self.layers.append(layer)
            return layer
        self.undo_stack.push(
            CallbackCommand(lambda: self.layers.append(layer), lambda: self.layers.remove(layer), f"Open {layer.name}")
        )
        return layer

    def remove_layer(self, layer: Layer) -> None:
        """Remove a layer as an undoable step."""
        index = self.layers.index(layer)
        self.undo_stack.push(
            CallbackCommand(
                lambda: self.layers.remove(layer), lambda: self.layers.insert(index, layer), f"Remove {layer.name}"
            )
        )

    def set(self, target: object, name: str, value: object, merge: bool = False) -> None:
        """Change one property of a layer (or anything evented) as an undoable step.

        ``merge`` folds consecutive changes of the same property into one step
        (slider drags).
        """
        key = (id(target), name) if merge else None
        self.undo_stack.push(SetProperty(target, name, value, merge_key=key))

    def _on_inserted(self, index: int, layer: Layer) -> None:
        bounds = getattr(layer, "bounds", None)
        if self.origin is None and bounds is not None and np.isfinite(np.asarray(bounds, float)).all():
            self.origin = choose_origin(bounds)
            self.origin_changed.emit(self.origin)
        crs = getattr(layer, "crs", None)
        if self.crs is None and crs is not None and crs.epsg is not None:
            self.crs = crs
            model = getattr(layer, "display_model", None)
            self.display_crs = model.crs if model is not None else crs

    # -------------------------------------------------------------- project-wide settings
    @property
    def overlays(self) -> OverlaySettings:
        """What stills and videos draw over the scene; replace it through :meth:`set` (undoable)."""
        return self._overlays

    @overlays.setter
    def overlays(self, value: OverlaySettings) -> None:
        if value != self._overlays:
            self._overlays = value
            self.settings_changed.emit("overlays")

    @property
    def presentation(self) -> Presentation:
        """How presenter mode runs; replace it through :meth:`set` (undoable)."""
        return self._presentation

    @presentation.setter
    def presentation(self, value: Presentation) -> None:
        if value != self._presentation:
            self._presentation = value
            self.settings_changed.emit("presentation")

    @property
    def look(self) -> Look:
        """How the scene looks; replace it through :meth:`set` (undoable)."""
        return self._look

    @look.setter
    def look(self, value: Look) -> None:
        if value != self._look:
            self._look = value
            self.settings_changed.emit("look")

    @property
    def sun(self) -> datetime | None:
        """When the sun is placed (timezone-aware), ``None``: the look's default sun; set through :meth:`set`."""
        return self._sun

    @sun.setter
    def sun(self, value: datetime | None) -> None:
        if value is not None and value.tzinfo is None:
            raise ValueError("the sun's date and time must say its time zone")
        if value != self._sun:
            self._sun = value
            self.settings_changed.emit("sun")

    @property
    def scenario_id(self) -> str | None:
        """The id of the scenario shown (``None``: the existing city); switch through :meth:`set` (undoable)."""
        return self._scenario_id

    @scenario_id.setter
    def scenario_id(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError("a scenario id is a string")
        if value != self._scenario_id:
            self._scenario_id = value
            self.settings_changed.emit("scenario")

    @property
    def additions(self) -> CityModelLayer | None:
        """The layer of the objects the shown scenario adds, or ``None`` (view state, not undoable)."""
        return self._additions

    @additions.setter
    def additions(self, layer: CityModelLayer | None) -> None:
        if layer is not self._additions:
            self._additions = layer
            self.settings_changed.emit("additions")

    def selectable_layers(self) -> list[CityModelLayer]:
        """The city-model layers whose objects can be selected: ``layers``'s, then :attr:`additions`."""
        out = [layer for layer in self.layers if isinstance(layer, CityModelLayer)]
        if self._additions is not None:
            out.append(self._additions)
        return out

    @property
    def scenario(self) -> Scenario | None:
        """The scenario shown, or ``None`` for the existing city (also when its id is gone)."""
        if self._scenario_id is None:
            return None
        return self.scenarios.by_id(self._scenario_id)

    def edit_scenario(self, change: Callable[[Scenario], Scenario], text: str) -> Scenario:
        """Change the scenario shown as one undoable step, and return the new scenario.

        ``change`` is a pure edit of :mod:`citytwin.model.scenario` (``lambda s: add_edit(s, edit)``).
        With the existing city shown, a new scenario ("Scenario 1", "Scenario 2" …) is made and
        shown first, in the same step: editing never changes the base data.

        Raises
        ------
        ValueError
            When the edit is invalid (nothing is changed then).
        """
        from citytwin.model.commands import InsertItem, MacroCommand, ReplaceItem, SetProperty

        current = self.scenario
        commands: list = []
        if current is None:
            taken = {s.name for s in self.scenarios}
            k = 1
            while f"Scenario {k}" in taken:
                k += 1
            current = Scenario(name=f"Scenario {k}")
            commands += [InsertItem(self.scenarios, current), SetProperty(self, "scenario_id", current.id)]
        new = change(current)
        commands.append(ReplaceItem(self.scenarios, current, new, text))
        self.undo_stack.push(MacroCommand(commands, text))
        return new

    # -------------------------------------------------------------- camera
    @property
    def camera(self) -> CameraState | None:
        return self._camera

    @camera.setter
    def camera(self, state: CameraState | None) -> None:
        if state != self._camera:
            self._camera = state
            self.camera_changed.emit(state)

    def bounds(self) -> np.ndarray | None:
        """Union of the visible layers' bounds, or ``None``."""
        boxes = [np.asarray(b, float) for layer in self.layers if (b := getattr(layer, "bounds", None)) is not None]
        boxes = [b for b in boxes if np.isfinite(b).all()]
        if not boxes:
            return None
        arr = np.stack(boxes)
        return np.concatenate([arr[:, :3].min(axis=0), arr[:, 3:].max(axis=0)])


def _label(item: object) -> str:
    kind = {"Pin": "pin", "Measurement": "measurement", "Bookmark": "bookmark", "Tour": "tour"}.get(
        type(item).__name__, "item"
    )
    name = getattr(item, "title", None) or getattr(item, "name", None) or ""
    return f"{kind} {name!r}" if name else kind


def display_models(models: list) -> list:
    """Models as a scene draws them: city models reprojected to the first one's display CRS.

    The same rule as :meth:`Scene.add_layer`, for code that renders without a
    window (``citytwin snapshot``). Other model kinds pass through unchanged.

    Raises
    ------
    CityTwinError
        When a model cannot be transformed to the scene's CRS.
    """
    from citytwin.model.citymodel import CityModel
    from citytwin.model.layers import CityModelLayer

    scene = Scene()
    out = []
    for model in models:
        if isinstance(model, CityModel):
            layer = CityModelLayer(name=str(model.source or "model"), model=model)
            scene.add_layer(layer, undoable=False)
            out.append(layer.display_model)
        else:
            out.append(model)
    return out
