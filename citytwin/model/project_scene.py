"""Scene ↔ project: what a ``.citytwin`` file keeps of an open scene, and putting it back.

A layer remembers where it was read from (:attr:`citytwin.model.layers.Layer.source`:
the file, its id in the project, how it was read). :func:`project_from_scene`
collects every such layer with how it is shown now, the camera and the
user's pins, measurements and bookmarks into a :class:`~citytwin.model.project.Project`.
Opening a project goes the other way, in steps, because files are read in the
background: each layer gets its settings as it arrives
(:func:`apply_layer_settings`), the items and the camera come once all are in
(:func:`apply_items`). None of this is an undoable step: opening a project is
not an edit.

A layer made in citytwin from a source's data (a terrain from a point cloud)
remembers how (:attr:`~citytwin.model.layers.Layer.derived`); the project keeps
that record with the layer's settings (:func:`derived_for`) and the layer is made
again from its source when the project opens (:func:`derive_model`, then
:func:`derived_layer`; :func:`derive_layers` does both without a window).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from citytwin.model.citymodel import CityModel
from citytwin.model.layers import COLOUR_MODES, CityModelLayer, Layer
from citytwin.model.looks import DEFAULT_LOOK
from citytwin.model.pointcloud import POINT_COLOUR_MODES, PointCloud, PointCloudLayer
from citytwin.model.project import (
    CityLayerSettings,
    DerivedLayer,
    LayerSettings,
    LoadSettings,
    PinLayerSettings,
    PointLayerSettings,
    Project,
    Source,
    TerrainOptions,
)
from citytwin.model.scene import Scene

#: The kinds of derived layers this version makes (see :class:`~citytwin.model.project.DerivedLayer`).
DERIVE_KINDS = ("terrain",)


def new_source(
    scene: Scene,
    path: str | os.PathLike,
    load: LoadSettings | None = None,
    taken: Iterable[str] = (),
) -> Source:
    """A source for a file opened into ``scene``, with an id no layer of the scene (nor ``taken``) has."""
    used = {layer.source.id for layer in scene.layers if layer.source is not None} | set(taken)
    stem = Path(path).name or "source"
    sid, k = stem, 2
    while sid in used:
        sid, k = f"{stem}-{k}", k + 1
    return Source(id=sid, path=os.path.abspath(os.fspath(path)), load=load or LoadSettings())


def layer_settings(layer: Layer) -> LayerSettings | None:
    """How a layer is shown, as the project stores it (``None`` for a layer kind a project does not know)."""
    if isinstance(layer, CityModelLayer):
        return CityLayerSettings(
            visible=bool(layer.visible),
            opacity=float(layer.opacity),
            lod=None if layer.lod is None else int(layer.lod),
            colour_mode=layer.colour_mode,
            colour_attribute=layer.colour_attribute,
            single_colour=tuple(float(c) for c in layer.single_colour),  # type: ignore[arg-type]
            hidden_semantics=sorted(int(c) for c in layer.hidden_semantics),
            hidden_types=sorted(str(t) for t in layer.hidden_types),
            hidden_ids=sorted(str(t) for t in layer.hidden_ids),
        )
    if isinstance(layer, PointCloudLayer):
        return PointLayerSettings(
            visible=bool(layer.visible),
            opacity=float(layer.opacity),
            colour_mode=layer.colour_mode,
            point_size=float(layer.point_size),
            eye_dome_lighting=bool(layer.eye_dome_lighting),
            hidden_classes=sorted(int(c) for c in layer.hidden_classes),
        )
    return None


def apply_layer_settings(layer: Layer, settings: LayerSettings | None) -> list[str]:
    """Show a layer as ``settings`` say (directly, not as an undoable step).

    A value this layer cannot take (a colour mode it does not know, an opacity
    outside 0–1, settings of another layer kind) is skipped, keeping the layer's
    own; the return value has one sentence per skipped value.
    """
    if settings is None:
        return []
    problems: list[str] = []
    if isinstance(settings, CityLayerSettings) and isinstance(layer, CityModelLayer):
        _common(layer, settings, problems)
        if settings.lod is None or isinstance(settings.lod, int):
            layer.lod = settings.lod
        if settings.colour_mode in COLOUR_MODES:
            layer.colour_attribute = settings.colour_attribute
            rgb = tuple(float(c) for c in settings.single_colour)
            if len(rgb) == 3 and all(0.0 <= c <= 1.0 for c in rgb):
                layer.single_colour = rgb  # type: ignore[assignment]
            else:
                problems.append(f"{layer.name}: the single colour {rgb} is not three numbers from 0 to 1.")
            layer.colour_mode = settings.colour_mode
        else:
            problems.append(f"{layer.name}: the colour mode {settings.colour_mode!r} is not known.")
        layer.hidden_semantics = frozenset(int(c) for c in settings.hidden_semantics)
        layer.hidden_types = frozenset(str(t) for t in settings.hidden_types)
        layer.hidden_ids = frozenset(str(t) for t in settings.hidden_ids)
    elif isinstance(settings, PointLayerSettings) and isinstance(layer, PointCloudLayer):
        _common(layer, settings, problems)
        if settings.colour_mode is not None:
            if settings.colour_mode in POINT_COLOUR_MODES:
                layer.colour_mode = settings.colour_mode
            else:
                problems.append(f"{layer.name}: the colour mode {settings.colour_mode!r} is not known.")
        if math.isfinite(settings.point_size) and settings.point_size > 0:
            layer.point_size = float(settings.point_size)
        else:
            problems.append(f"{layer.name}: the point size {settings.point_size} is not a positive number.")
        layer.eye_dome_lighting = bool(settings.eye_dome_lighting)
        layer.hidden_classes = frozenset(int(c) for c in settings.hidden_classes)
    else:
        kind = "a point cloud" if isinstance(settings, PointLayerSettings) else "a city model"
        problems.append(f"{layer.name}: the project shows it as {kind}, which it is not; its settings were skipped.")
    return problems


def _common(layer: Layer, settings: LayerSettings, problems: list[str]) -> None:
    layer.visible = bool(settings.visible)
    if math.isfinite(settings.opacity) and 0.0 <= settings.opacity <= 1.0:
        layer.opacity = float(settings.opacity)
    else:
        problems.append(f"{layer.name}: the opacity {settings.opacity} is not between 0 and 1.")


def source_for(layer: Layer) -> Source | None:
    """The project source of a layer: where it was read from, its name and how it is shown (``None``: not kept)."""
    if layer.source is None:
        return None
    settings = layer_settings(layer)
    if settings is None:
        return None
    name = layer.name if layer.name != Path(layer.source.path).name else None
    return msgspec.structs.replace(layer.source, name=name, layer=settings)


def derived_for(layer: Layer) -> DerivedLayer | None:
    """The project record of a layer made from a source's data, with its name and how it is shown now."""
    if layer.derived is None or layer.source is not None:
        return None
    return msgspec.structs.replace(layer.derived, name=layer.name, layer=layer_settings(layer))


def unsaved_layers(scene: Scene, unloaded: Sequence[Source] = ()) -> list[Layer]:
    """The layers a project cannot keep: made in citytwin and neither read from a file nor made from one of its
    sources (a terrain whose point cloud left the project, a layer a script made).

    ``unloaded``: sources of the project that are not in the scene (a terrain of one is kept).
    """
    ids = {layer.source.id for layer in scene.layers if layer.source is not None} | {s.id for s in unloaded}
    return [
        layer
        for layer in scene.layers
        if source_for(layer) is None and (layer.derived is None or layer.derived.source not in ids)
    ]


def new_derived(scene: Scene, source_id: str, taken: Iterable[str] = (), **options: Any) -> DerivedLayer:
    """The record of a terrain made from the source ``source_id`` (``options``: :class:`TerrainOptions` fields),
    with an id no layer of ``scene`` (nor ``taken``) has."""
    used = {layer.derived.id for layer in scene.layers if layer.derived is not None} | set(taken)
    k = 1
    while f"terrain-{k}" in used:
        k += 1
    return DerivedLayer(id=f"terrain-{k}", derive="terrain", source=source_id, terrain=TerrainOptions(**options))


def derive_model(derived: DerivedLayer, data: Any) -> CityModel:
    """Make what a derived layer shows from its source's data (seconds for a large cloud: off the GUI thread).

    Raises
    ------
    ValueError
        With one sentence: a kind this version does not make, data of the wrong kind,
        or no ground points (:func:`~citytwin.model.terrain.make_dtm`).
    """
    if derived.derive not in DERIVE_KINDS:
        raise ValueError(f"This version of citytwin cannot make a {derived.derive!r} layer.")
    if not isinstance(data, PointCloud):
        raise ValueError(f"A terrain is made from a point cloud, and the source {derived.source!r} is not one.")
    from citytwin.model.terrain import make_dtm

    t = derived.terrain
    return make_dtm(
        data, t.resolution, method=t.method, classes=tuple(t.classes), statistic=t.statistic, max_gap=t.max_gap
    )


def derived_layer(derived: DerivedLayer, model: CityModel, source_name: str) -> tuple[CityModelLayer, list[str]]:
    """The layer that shows a derived model as the record says; one sentence per setting that could not be applied."""
    layer = CityModelLayer(name=derived.name or f"Terrain from {source_name}", model=model, colour_mode="elevation")
    layer.derived = msgspec.structs.replace(derived, name=None, layer=None)
    return layer, apply_layer_settings(layer, derived.layer)


def derive_layers(
    project: Project, loaded: Sequence[tuple[Source, Any]]
) -> tuple[list[tuple[DerivedLayer, CityModelLayer]], list[str]]:
    """Make a project's derived layers from its sources as read (``(source, data)``; see
    :func:`citytwin.io.project.read_sources`), without a window.

    Returns the layers made, in project order, and one sentence for each that could not be
    made (its source missing, or it cannot be made) or shown as saved.
    """
    data = {source.id: (source, model) for source, model in loaded}
    made: list[tuple[DerivedLayer, CityModelLayer]] = []
    problems: list[str] = []
    for derived in project.derived:
        found = data.get(derived.source)
        if found is None:
            problems.append(f"{derived.name or derived.id}: its source {derived.source!r} is not open.")
            continue
        source, model = found
        try:
            layer, skipped = derived_layer(derived, derive_model(derived, model), source.display_name)
        except ValueError as exc:
            problems.append(f"{derived.name or derived.id} could not be made: {exc}")
            continue
        made.append((derived, layer))
        problems += skipped
    return made, problems


def project_from_scene(
    scene: Scene,
    *,
    unloaded: Sequence[Source] = (),
    underived: Sequence[DerivedLayer] = (),
    extra: dict[str, Any] | None = None,
) -> Project:
    """The project of what ``scene`` shows.

    Parameters
    ----------
    scene
        Its layers read from files (in drawing order), the camera, pins,
        measurements, bookmarks and tours.
    unloaded
        Sources of the project that are not in the scene but must not be lost:
        files that are missing or could not be read, or are still being read.
        They come after the scene's layers, as they were.
    underived
        Derived layers of the project that are not in the scene (their source is
        missing or still being read, or they are being made): kept as they were,
        after the scene's own.
    extra
        Sections a newer citytwin wrote, carried through unchanged.
    """
    sources: list[Source] = []
    seen: set[str] = set()
    for layer in scene.layers:
        source = source_for(layer)
        if source is None:
            continue
        if source.id in seen:  # the same file opened twice: ids are unique in a project
            source = msgspec.structs.replace(source, id=_fresh(source.id, seen))
        seen.add(source.id)
        sources.append(source)
    for source in unloaded:
        if source.id not in seen:
            seen.add(source.id)
            sources.append(source)
    derived: list[DerivedLayer] = []
    made: set[str] = set()
    for record in [derived_for(layer) for layer in scene.layers] + list(underived):
        if record is None or record.source not in seen:  # its source left the project: see unsaved_layers
            continue
        if record.id in made:
            record = msgspec.structs.replace(record, id=_fresh(record.id, made))
        made.add(record.id)
        derived.append(record)
    return Project(
        sources=sources,
        camera=scene.camera,
        pins=list(scene.pins),
        pin_layer=PinLayerSettings(
            visible=bool(scene.annotation_settings.pins_visible),
            opacity=float(scene.annotation_settings.pins_opacity),
        ),
        measurements=list(scene.measurements),
        bookmarks=list(scene.bookmarks),
        tours=list(scene.tours),
        derived=derived,
        overlays=scene.overlays,
        presentation=scene.presentation,
        look=scene.look,
        sun=None if scene.sun is None else scene.sun.isoformat(),
        scenarios=list(scene.scenarios),
        scenario=scene.scenario_id if scene.scenario is not None else None,
        added_hidden_ids=sorted(scene.additions_hidden_ids),
        extra=dict(extra or {}),
    )


def _fresh(stem: str, taken: set[str]) -> str:
    k = 2
    while f"{stem}-{k}" in taken:
        k += 1
    return f"{stem}-{k}"


def apply_items(scene: Scene, project: Project, camera: bool = True) -> None:
    """Put a project's pins, measurements, bookmarks and tours (and camera) into the scene, replacing its own.

    Not an undoable step (the lists change directly; the undo stack is left as it is).
    """
    for items, new in (
        (scene.pins, project.pins),
        (scene.measurements, project.measurements),
        (scene.bookmarks, project.bookmarks),
        (scene.tours, project.tours),
        (scene.scenarios, project.scenarios),
    ):
        items.clear()
        items.extend(new)
    scene.additions_hidden_ids = frozenset(project.added_hidden_ids)  # before the scenario: its view reads them
    scene.scenario_id = project.scenario if scene.scenarios.by_id(project.scenario or "") is not None else None
    scene.annotation_settings.pins_visible = project.pin_layer.visible
    scene.annotation_settings.pins_opacity = project.pin_layer.opacity
    scene.overlays = project.overlays
    scene.presentation = project.presentation
    scene.look = project.look
    scene.sun = _sun_time(project.sun)
    if camera and project.camera is not None:
        scene.camera = project.camera


def _sun_time(text: str | None) -> datetime | None:
    """The project's sun time, or ``None`` when it has none (or one without a time zone, or unreadable)."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def apply_project(scene: Scene, project: Project) -> list[str]:
    """Show the scene's layers as the project says (matched by source id), then put in its items and camera.

    For a scene whose layers were read already (opening goes layer by layer:
    :func:`apply_layer_settings`, then :func:`apply_items`). Returns one
    sentence per setting that could not be applied.
    """
    by_id = {s.id: s for s in project.sources}
    problems: list[str] = []
    for layer in scene.layers:
        source = by_id.get(layer.source.id) if layer.source is not None else None
        if source is not None:
            problems += apply_layer_settings(layer, source.layer)
    apply_items(scene, project)
    return problems


def clear_scene(scene: Scene) -> None:
    """Empty a scene for a new project: no layers, items, camera, origin or CRS; the undo history cleared."""
    scene.layers.clear()
    scene.scenario_id = None
    scene.additions_hidden_ids = frozenset()
    for items in (scene.pins, scene.measurements, scene.bookmarks, scene.tours, scene.scenarios):
        items.clear()
    scene.annotation_settings.pins_visible = True
    scene.annotation_settings.pins_opacity = 1.0
    scene.overlays = type(scene.overlays)()
    scene.presentation = type(scene.presentation)()
    scene.look = DEFAULT_LOOK
    scene.sun = None
    scene.origin = None
    scene.crs = None
    scene.display_crs = None
    scene.camera = None
    scene.undo_stack.clear()


__all__ = [
    "apply_items",
    "apply_layer_settings",
    "apply_project",
    "clear_scene",
    "derive_layers",
    "derive_model",
    "derived_for",
    "derived_layer",
    "layer_settings",
    "new_derived",
    "new_source",
    "project_from_scene",
    "source_for",
    "unsaved_layers",
]
