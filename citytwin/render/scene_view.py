"""Draw a model :class:`~citytwin.model.scene.Scene` and keep the drawing in step with it.

One class serves the window and everything rendered without one (snapshots,
stills, video frames, presenter mode): :class:`SceneView` creates one visual per
layer when the layer list emits ``inserted``, drops it on ``removed``, and
forwards each layer event (visible, opacity, LoD, colour mode, hidden classes
and types, selection, point size …) to the visual. Because the window and the
exporters draw through the same code, an exported image shows what the window
shows: the same layers, colour modes and look.

:func:`default_layer` is the one rule for how a newly read file is shown (a
textured or painted model starts in its appearance colours), used by the
window and by the CLI alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from citytwin.model.citymodel import CityModel
from citytwin.model.layers import CityModelLayer, Layer
from citytwin.model.pointcloud import PointCloud, PointCloudLayer
from citytwin.model.scene import Scene
from citytwin.render.style import DEFAULT_STYLE, Style
from citytwin.render.visuals import preferred_colour_mode, visual_class_for


def default_layer(name: str, model: CityModel | PointCloud) -> CityModelLayer | PointCloudLayer | None:
    """The layer that shows what a reader returned, as a newly opened file is shown.

    A city model or mesh with textures, materials or vertex colours starts in ``"texture"``
    colour mode, others in ``"semantic"``; a point cloud in its own default colour mode.
    Returns ``None`` when there is nothing to show (no object, no triangle, no point).
    """
    if isinstance(model, PointCloud):
        return PointCloudLayer(name=name, cloud=model) if model.n_points else None
    if len(model.objects) == 0 and model.mesh.n_triangles == 0:
        return None
    return CityModelLayer(name=name, model=model, colour_mode=preferred_colour_mode(model))


def scene_from_models(models: list[CityModel | PointCloud], names: list[str] | None = None) -> Scene:
    """A scene showing ``models`` as the window shows newly opened files (not undoable steps).

    Raises
    ------
    CityTwinError
        When a model cannot be reprojected to the scene's CRS.
    """
    scene = Scene()
    for k, model in enumerate(models):
        name = names[k] if names is not None else str(getattr(model, "source", None) or f"layer {k + 1}")
        layer = default_layer(name, model)
        if layer is None and isinstance(model, CityModel):  # attributes only: an (empty) layer still counts
            layer = CityModelLayer(name=name, model=model)
        if layer is not None:
            scene.add_layer(layer, undoable=False)
    return scene


def scene_from_project(
    project: Any, loaded: list[tuple[Any, Any]], into: Scene | None = None
) -> tuple[Scene, list[str]]:
    """A scene as the window shows a project: its read sources, each shown as the project says, and its items.

    Parameters
    ----------
    project
        The :class:`~citytwin.model.project.Project`.
    loaded
        ``(source, model)`` pairs as :func:`citytwin.io.project.read_sources` returns them.
    into
        Add to this scene (its items are kept and the project's appended) instead of a new one.

    Returns
    -------
    scene, problems
        The scene (camera, pins, measurements, bookmarks and tours included) and one sentence per
        setting or layer that could not be applied.
    """
    import msgspec

    from citytwin.errors import CityTwinError
    from citytwin.model.project_scene import apply_items, apply_layer_settings, derive_layers

    scene = into if into is not None else Scene()
    problems: list[str] = []
    for source, model in loaded:
        layer = default_layer(source.display_name, model)
        if layer is None:
            problems.append(f"{source.display_name}: nothing could be read from this file to show.")
            continue
        layer.source = msgspec.structs.replace(source, layer=None)
        problems += apply_layer_settings(layer, source.layer)
        try:
            scene.add_layer(layer, undoable=False)
        except CityTwinError as exc:
            problems.append(str(exc))
    derived, more = derive_layers(project, loaded)  # terrains made from the sources, as the window makes them
    problems += more
    for _, layer in derived:
        try:
            scene.add_layer(layer, undoable=False)
        except CityTwinError as exc:
            problems.append(str(exc))
    if into is None:
        apply_items(scene, project)
    else:
        for items, new in ((scene.pins, project.pins), (scene.measurements, project.measurements),
                           (scene.bookmarks, project.bookmarks), (scene.tours, project.tours),
                           (scene.scenarios, project.scenarios)):  # fmt: skip
            items.extend(item for item in new if items.by_id(item.id) is None)
        if scene.scenario_id is None and project.scenario is not None:
            scene.scenario_id = project.scenario
        if scene.camera is None and project.camera is not None:
            scene.camera = project.camera
        if scene.overlays.empty:  # the first project's settings
            scene.overlays = project.overlays
            scene.presentation = project.presentation
    return scene, problems


class SceneView:
    """The visuals of a scene's layers in one renderer, following the scene's events.

    Parameters
    ----------
    scene
        What to draw. Its ``origin`` is the render origin (float64 world → float32 relative).
    plotter
        A pyvista plotter (off screen or a ``QtInteractor``).
    style
        The look.
    on_change
        Called with the visual after the drawing of a layer changed (the window asks for a
        frame and refreshes its counts); ``None`` for off-screen use.
    on_added, on_removed
        Called with ``(layer, visual)`` after a visual was made or before it is removed.
    follow
        Keep following the scene's events (the window). ``False`` draws the scene as it is now
        and never reacts to it again: an export on a worker thread is then never touched by
        edits made on the GUI thread meanwhile.

    Attributes
    ----------
    visuals
        ``id(layer)`` → visual, for the layers that draw something.
    """

    def __init__(
        self,
        scene: Scene,
        plotter: Any,
        style: Style = DEFAULT_STYLE,
        on_change: Callable[[Any], None] | None = None,
        on_added: Callable[[Layer, Any], None] | None = None,
        on_removed: Callable[[Layer, Any], None] | None = None,
        follow: bool = True,
    ) -> None:
        self.scene = scene
        self.follow = follow
        self.plotter = plotter
        self.style = style
        self.on_change = on_change
        self.on_added = on_added
        self.on_removed = on_removed
        self.visuals: dict[int, Any] = {}
        self._layers: dict[int, Layer] = {}
        self._callbacks: dict[int, list[tuple[Any, Any]]] = {}
        self._filter: tuple[str, float] | None = None
        self._overrides: dict[str, float] = {}
        #: a tour frame's scenario (an id or ``"existing"``) drawn instead of the scene's, or None
        self._tour_scenario: str | None = None
        from citytwin.render.scenario_view import ScenarioDrawing

        self.scenario_drawing = ScenarioDrawing(plotter, self.origin, style)
        for layer in list(scene.layers):
            self._add_visual(layer)
        self.show_scenario(scene.scenario)
        if follow:
            scene.layers.events.inserted.connect(self._on_inserted)
            scene.layers.events.removed.connect(self._on_removed)
            scene.settings_changed.connect(self._on_settings)
            scene.scenarios.events.changed.connect(self._on_scenarios)
            scene.scenarios.events.removed.connect(self._on_scenarios)

    @property
    def origin(self) -> np.ndarray:
        return self.scene.origin if self.scene.origin is not None else np.zeros(3)

    def visual(self, layer: Layer) -> Any | None:
        """The visual drawing ``layer`` (also the layer of the objects a scenario adds), or ``None``."""
        vis = self.visuals.get(id(layer))
        if vis is None and layer is not None and layer is self.scenario_drawing.added_layer:
            return self.scenario_drawing.added_visual
        return vis

    def close(self) -> None:
        """Stop following the scene and remove every visual."""
        if self.follow:
            ev = self.scene.layers.events
            ev.inserted.disconnect(self._on_inserted)
            ev.removed.disconnect(self._on_removed)
            self.scene.settings_changed.disconnect(self._on_settings)
            self.scene.scenarios.events.changed.disconnect(self._on_scenarios)
            self.scene.scenarios.events.removed.disconnect(self._on_scenarios)
        for key in list(self.visuals):
            self._remove_key(key)
        added = self.scenario_drawing.added_visual
        if added is not None and self.on_removed is not None:
            self.on_removed(None, added)
        self._follow_added(None, None)
        self.scenario_drawing.close()

    # ------------------------------------------------------------------ scenarios
    def show_scenario(self, scenario: Any) -> None:
        """Draw a :class:`~citytwin.model.scenario.Scenario` (``None``: the existing city)."""
        drawing = self.scenario_drawing
        drawing.origin = self.origin
        before = drawing.added_visual
        if drawing.apply(scenario, list(self.visuals.values()), self.scene.display_crs):
            after = drawing.added_visual
            if after is not before:  # the added buildings' visual is one more visual (looks, counts, exports)
                if before is not None and self.on_removed is not None:
                    self.on_removed(None, before)
                self._follow_added(drawing.added_layer, after)
                if after is not None and self.on_added is not None:
                    self.on_added(None, after)
            if self.on_change is not None:
                for vis in [*self.visuals.values(), after]:
                    self.on_change(vis)

    def _follow_added(self, layer: CityModelLayer | None, vis: Any) -> None:
        """Draw the added objects' layer state (selection, hidden ids) and, following the scene, publish it
        as :attr:`~citytwin.model.scene.Scene.additions` so that its objects can be selected."""
        for sig, cb in self._callbacks.pop(-1, []):
            sig.disconnect(cb)
        if layer is not None and vis is not None:
            # hidden added objects stay hidden when the additions change, in exports and in the project
            layer.hidden_ids = frozenset(self.scene.additions_hidden_ids)
            conns = self._follow_city_model(layer, vis)
            if self._filter is not None:
                self._apply_filter(vis)
            if self.follow:
                conns.append((layer.events.hidden_ids, self._keep_additions_hidden))
                for sig, cb in conns:
                    sig.connect(cb)
                self._callbacks[-1] = conns
        if self.follow:
            self.scene.additions = layer

    def _keep_additions_hidden(self, ids: Any, *_: Any) -> None:
        self.scene.additions_hidden_ids = frozenset(ids)

    def drawn_visuals(self) -> list[Any]:
        """Every visual drawn: the layers' and the one of the objects a scenario adds."""
        added = self.scenario_drawing.added_visual
        return [*self.visuals.values(), *([added] if added is not None else [])]

    @property
    def shown_scenario(self) -> Any:
        """The scenario to draw: a tour frame's while a tour shows one, else the scene's own (``None``: existing).

        A tour frame names a scenario by id, or ``"existing"`` for the data as read; an id the
        scene no longer has (the scenario was deleted) falls back to the scene's own scenario.
        """
        from citytwin.model.tours import EXISTING

        choice = self._tour_scenario
        if choice is None:
            return self.scene.scenario
        if choice == EXISTING:
            return None
        found = self.scene.scenarios.by_id(choice)
        if found is not None:
            return found
        return self.scene.scenario

    def _on_settings(self, name: str) -> None:
        if name == "scenario":
            self.show_scenario(self.shown_scenario)

    def _on_scenarios(self, *_: Any) -> None:
        self.show_scenario(self.shown_scenario)

    # ------------------------------------------------------------------ layers
    def _on_inserted(self, index: int, layer: Layer) -> None:
        self._add_visual(layer)

    def _on_removed(self, index: int, layer: Layer) -> None:
        self._remove_visual(layer)

    def _add_visual(self, layer: Layer) -> None:
        """Build the layer's visual from what it draws (``layer.display_model``) and follow its events."""
        model = getattr(layer, "display_model", None)
        if model is None:
            return
        try:
            cls = visual_class_for(model)
        except TypeError:
            return
        if isinstance(layer, PointCloudLayer):
            vis = cls(model, self.plotter, self.origin, self.style, colour_mode=layer.colour_mode,
                      point_size=layer.point_size)  # fmt: skip
            conns = self._follow_point_cloud(layer, vis)
        elif isinstance(layer, CityModelLayer):
            # a model without triangles (attributes only, or nothing readable) still gets an (empty) visual
            vis = cls(model, self.plotter, self.origin, self.style, lod=layer.lod)
            conns = self._follow_city_model(layer, vis)
            if self._filter is not None:
                self._apply_filter(vis)
        else:
            return
        self.visuals[id(layer)] = vis
        self._layers[id(layer)] = layer
        drawing = getattr(self, "scenario_drawing", None)
        if drawing is not None and drawing.scenario is not None:
            drawing.apply(drawing.scenario, [vis], self.scene.display_crs)
        if self.follow:
            for sig, cb in conns:
                sig.connect(cb)
            self._callbacks[id(layer)] = conns
        if self.on_added is not None:
            self.on_added(layer, vis)

    def _remove_visual(self, layer: Layer) -> None:
        self._remove_key(id(layer), layer)

    def _remove_key(self, key: int, layer: Layer | None = None) -> None:
        for sig, cb in self._callbacks.pop(key, []):
            sig.disconnect(cb)
        vis = self.visuals.pop(key, None)
        if vis is not None:
            self.scenario_drawing.forget(vis)
        layer = layer if layer is not None else self._layers.pop(key, None)
        self._layers.pop(key, None)
        if vis is not None:
            if self.on_removed is not None:
                self.on_removed(layer, vis)
            vis.remove()

    def _call(self, vis: Any, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)
        if self.on_change is not None:
            self.on_change(vis)

    def _follow_city_model(self, layer: CityModelLayer, vis: Any) -> list[tuple[Any, Any]]:
        vis.set_visible(layer.visible)
        vis.set_opacity(layer.opacity)
        for code in layer.hidden_semantics:
            vis.set_semantic_visible(code, False)
        vis.set_hidden_types(layer.hidden_types)
        if layer.hidden_ids:
            vis.set_hidden_ids(layer.hidden_ids)
        apply_colour(layer, vis)
        if layer.selection:
            vis.highlight(list(layer.selection))
        ev = layer.events

        def colour(*_: Any, layer: CityModelLayer = layer, vis: Any = vis) -> None:
            self._call(vis, apply_colour, layer, vis)

        return [
            (ev.visible, lambda v, *_, vis=vis: self._call(vis, vis.set_visible, v)),
            (ev.opacity, lambda v, *_, vis=vis: self._call(vis, vis.set_opacity, v)),
            (ev.lod, lambda v, *_, vis=vis: self._call(vis, vis.set_lod, v)),
            (ev.hidden_semantics, lambda v, *_, vis=vis: self._call(vis, apply_semantics, vis, v)),
            (ev.hidden_types, lambda v, *_, vis=vis: self._call(vis, vis.set_hidden_types, v)),
            (ev.hidden_ids, lambda v, *_, vis=vis: self._call(vis, vis.set_hidden_ids, v)),
            (ev.selection, lambda v, *_, vis=vis: self._call(vis, vis.highlight, list(v))),
            (ev.colour_mode, colour),
            (ev.colour_attribute, colour),
            (ev.single_colour, colour),
        ]

    def _follow_point_cloud(self, layer: PointCloudLayer, vis: Any) -> list[tuple[Any, Any]]:
        vis.apply_layer(layer)
        ev = layer.events
        return [
            (ev.visible, lambda v, *_, vis=vis: self._call(vis, vis.set_visible, v)),
            (ev.opacity, lambda v, *_, vis=vis: self._call(vis, vis.set_opacity, v)),
            (ev.colour_mode, lambda v, *_, vis=vis: self._call(vis, vis.set_colour_mode, v)),
            (ev.point_size, lambda v, *_, vis=vis: self._call(vis, vis.set_point_size, v)),
            (ev.eye_dome_lighting, lambda v, *_, vis=vis: self._call(vis, vis.set_eye_dome_lighting, v)),
            (ev.hidden_classes, lambda v, *_, vis=vis: self._call(vis, vis.set_hidden_classes, v)),
        ]

    # ------------------------------------------------------------------ tours
    def set_layer_overrides(self, factors: dict[str, float]) -> None:
        """Fade layers for a tour frame without touching the model: ``{layer name: factor}``.

        A named layer is drawn when its factor is above 0 (whether or not the layer is
        switched on), at ``factor × layer.opacity``. Layers not named are drawn as the scene
        says; an empty dict ends every override.
        """
        factors = {str(k): float(np.clip(v, 0.0, 1.0)) for k, v in factors.items()}
        if factors == self._overrides:
            return
        names = set(factors) | set(self._overrides)
        self._overrides = factors
        for layer in self.scene.layers:
            if layer.name not in names or (vis := self.visual(layer)) is None:
                continue
            f = factors.get(layer.name)
            if f is None:
                vis.set_visible(layer.visible)
                vis.set_opacity(layer.opacity)
            else:
                vis.set_visible(f > 0.0)
                vis.set_opacity(f * layer.opacity)
            if self.on_change is not None:
                self.on_change(vis)

    def apply_tour_frame(self, frame: Any) -> None:
        """Put a tour frame's layer fades, attribute filter and scenario on the drawing (not the camera).

        ``frame`` is a :class:`~citytwin.model.tours.TourFrame` (``layers``: name → factor,
        ``filter``: an :class:`~citytwin.model.tours.AttributeFilter` or ``None``, ``scenario``: a
        scenario id, ``"existing"`` or ``None`` for the scene's own); ``None`` ends the tour's
        effects, and the scene's own scenario is drawn again. The scene itself (its
        ``scenario_id``) is never changed: playing a tour is not an edit.
        """
        self._set_tour_scenario(None if frame is None else getattr(frame, "scenario", None))
        if frame is None:
            self.set_layer_overrides({})
            self.set_attribute_filter(None)
            return
        self.set_layer_overrides(dict(getattr(frame, "layers", None) or {}))
        flt = getattr(frame, "filter", None)
        if flt is None:
            self.set_attribute_filter(None)
        else:
            self.set_attribute_filter(flt.attribute, flt.max)

    def _set_tour_scenario(self, choice: str | None) -> None:
        """Draw a tour frame's scenario (an id, ``"existing"``) instead of the scene's; ``None``: the scene's."""
        self._tour_scenario = choice
        target = self.shown_scenario
        if target is not self.scenario_drawing.scenario:  # a frame that switches nothing costs nothing
            self.show_scenario(target)

    def set_attribute_filter(self, attribute: str | None, threshold: float | None = None) -> None:
        """Hide the objects whose numeric ``attribute`` is above ``threshold`` ("city growth").

        Objects without a value of that attribute stay shown. ``None`` shows every object again.
        Applies to every city-model layer, now and as layers arrive.
        """
        new = None if attribute is None or threshold is None else (str(attribute), float(threshold))
        if new == self._filter:
            return
        self._filter = new
        for layer in self.scene.layers:
            vis = self.visual(layer)
            if vis is not None and hasattr(vis, "set_object_filter"):
                self._apply_filter(vis)
                if self.on_change is not None:
                    self.on_change(vis)

    def _apply_filter(self, vis: Any) -> None:
        if not hasattr(vis, "set_object_filter"):
            return
        if self._filter is None:
            vis.set_object_filter(None)
            return
        attribute, threshold = self._filter
        values = numeric_attribute(vis.model.objects, attribute)
        vis.set_object_filter(~(values > threshold))  # NaN (no value) compares False: kept

    # ------------------------------------------------------------------ extent
    def bounds(self) -> np.ndarray | None:
        """Union of the visible layers' drawn bounds (relative to the origin), or ``None``."""
        boxes = [
            vis.bounds() for layer in self.scene.layers if layer.visible and (vis := self.visual(layer)) is not None
        ]
        boxes = [b for b in boxes if np.isfinite(b).all()]
        if not boxes:
            return None
        arr = np.stack(boxes)
        return np.concatenate([arr[:, :3].min(axis=0), arr[:, 3:].max(axis=0)])

    def fit_points(self) -> np.ndarray:
        """Sample points of the visible layers (relative), for fitting the camera."""
        pts = [
            vis.fit_points() for layer in self.scene.layers if layer.visible and (vis := self.visual(layer)) is not None
        ]
        pts = [p for p in pts if len(p)]
        return np.concatenate(pts) if pts else np.zeros((0, 3))


def apply_colour(layer: CityModelLayer, vis: Any) -> None:
    """Put a city-model layer's colour mode on its visual."""
    mode = layer.colour_mode
    if mode == "attribute" and layer.colour_attribute:
        vis.set_colour_mode("attribute", attribute=layer.colour_attribute)
    elif mode == "single":
        vis.set_colour_mode("single", colour=tuple(int(round(c * 255)) for c in layer.single_colour))
    elif mode in ("texture", "elevation"):  # texture: surfaces without one keep their semantic colour
        vis.set_colour_mode(mode)
    else:  # semantic, attribute without a name
        vis.set_colour_mode("semantic")


def apply_semantics(vis: Any, hidden: frozenset[int]) -> None:
    """Show exactly the semantic classes not in ``hidden``."""
    for code in range(256):
        want = code not in hidden
        if vis.semantic_visible(code) != want:
            vis.set_semantic_visible(code, want)


def numeric_attribute(objects: Any, attribute: str) -> np.ndarray:
    """``(N,)`` float64 values of one attribute per object, inherited by parts from their
    parent object; NaN where missing or not a number."""
    from citytwin.render.colormap import thematic_colours

    if len(objects) == 0:
        return np.zeros(0)
    th = thematic_colours(objects, attribute, kind="numeric")
    return np.asarray(th.values, np.float64) if th.values is not None else np.full(len(objects), np.nan)


__all__ = [
    "SceneView",
    "apply_colour",
    "apply_semantics",
    "default_layer",
    "numeric_attribute",
    "scene_from_models",
    "scene_from_project",
]
