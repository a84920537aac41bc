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
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from citytwin.model.layers import COLOUR_MODES, CityModelLayer, Layer
from citytwin.model.pointcloud import POINT_COLOUR_MODES, PointCloudLayer
from citytwin.model.project import (
    CityLayerSettings,
    LayerSettings,
    LoadSettings,
    PinLayerSettings,
    PointLayerSettings,
    Project,
    Source,
)
from citytwin.model.scene import Scene


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


def unsaved_layers(scene: Scene) -> list[Layer]:
    """The layers a project cannot keep: made in citytwin (a terrain), not read from a file."""
    return [layer for layer in scene.layers if source_for(layer) is None]


def project_from_scene(
    scene: Scene,
    *,
    unloaded: Sequence[Source] = (),
    extra: dict[str, Any] | None = None,
) -> Project:
    """The project of what ``scene`` shows.

    Parameters
    ----------
    scene
        Its layers read from files (in drawing order), the camera, pins,
        measurements and bookmarks.
    unloaded
        Sources of the project that are not in the scene but must not be lost:
        files that are missing or could not be read, or are still being read.
        They come after the scene's layers, as they were.
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
        extra=dict(extra or {}),
    )


def _fresh(stem: str, taken: set[str]) -> str:
    k = 2
    while f"{stem}-{k}" in taken:
        k += 1
    return f"{stem}-{k}"


def apply_items(scene: Scene, project: Project, camera: bool = True) -> None:
    """Put a project's pins, measurements and bookmarks (and camera) into the scene, replacing its own.

    Not an undoable step (the lists change directly; the undo stack is left as it is).
    """
    for items, new in (
        (scene.pins, project.pins),
        (scene.measurements, project.measurements),
        (scene.bookmarks, project.bookmarks),
    ):
        items.clear()
        items.extend(new)
    scene.annotation_settings.pins_visible = project.pin_layer.visible
    scene.annotation_settings.pins_opacity = project.pin_layer.opacity
    if camera and project.camera is not None:
        scene.camera = project.camera


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
    for items in (scene.pins, scene.measurements, scene.bookmarks):
        items.clear()
    scene.annotation_settings.pins_visible = True
    scene.annotation_settings.pins_opacity = 1.0
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
    "layer_settings",
    "new_source",
    "project_from_scene",
    "source_for",
    "unsaved_layers",
]
