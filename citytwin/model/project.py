"""A project: the data sources, how each is shown, the camera, pins, measurements and bookmarks.

The project is what a ``.citytwin`` file holds, as typed data
(:mod:`citytwin.io.project` reads and writes it). It is also the Python API
for batch users::

    import citytwin

    p = citytwin.Project()
    src = p.add_source("district.city.json")
    p.add_pin((85_000.0, 446_000.0, 12.0), "Town hall")
    p.add_bookmark("overview", citytwin.CameraState((84_800, 445_800, 400), (85_000, 446_000, 0)))
    p.save("district.citytwin")
    p = citytwin.Project.open("district.citytwin")

Source paths are absolute in memory; the file stores them relative to itself.
Later features (tours, looks, scenarios) add top-level sections with defaults:
a file without them still opens, and sections a version does not know are kept
as they were and written back (:attr:`Project.extra`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from citytwin.model.annotations import (
    Bookmark,
    Measurement,
    Pin,
    make_bookmark,
    make_measurement,
    make_pin,
    new_id,
)
from citytwin.model.camera import CameraState
from citytwin.model.looks import DEFAULT_LOOK, Look
from citytwin.model.overlays import OverlaySettings
from citytwin.model.presentation import Presentation
from citytwin.model.scenario import Scenario
from citytwin.model.tours import Keyframe, Tour

#: The schema this version writes; files of a higher one are refused, lower ones migrated.
SCHEMA_VERSION = 1
#: The file extension of projects.
PROJECT_SUFFIX = ".citytwin"


class LoadSettings(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How a source is read (the fields of :class:`citytwin.io.options.LoadOptions` a user sets)."""

    lod_min: float = 0.0
    lod_max: float = 4.9
    types: list[str] | None = None
    point_budget: int | None = None
    max_polygon_vertices: int | None = None
    crs: str | None = None
    offset: tuple[float, float, float] | None = None


class CityLayerSettings(msgspec.Struct, kw_only=True, omit_defaults=True, tag="city"):
    """How a city-model layer is shown (see :class:`citytwin.model.layers.CityModelLayer`)."""

    visible: bool = True
    opacity: float = 1.0
    lod: int | None = None
    colour_mode: str = "semantic"
    colour_attribute: str | None = None
    single_colour: tuple[float, float, float] = (0.86, 0.84, 0.80)
    hidden_semantics: list[int] = msgspec.field(default_factory=list)
    hidden_types: list[str] = msgspec.field(default_factory=list)
    hidden_ids: list[str] = msgspec.field(default_factory=list)


class PointLayerSettings(msgspec.Struct, kw_only=True, omit_defaults=True, tag="points"):
    """How a point-cloud layer is shown (see :class:`citytwin.model.pointcloud.PointCloudLayer`)."""

    visible: bool = True
    opacity: float = 1.0
    colour_mode: str | None = None
    point_size: float = 2.0
    eye_dome_lighting: bool = False
    hidden_classes: list[int] = msgspec.field(default_factory=list)


LayerSettings = CityLayerSettings | PointLayerSettings


class PinLayerSettings(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How the pins are drawn as a whole (see :class:`citytwin.model.annotations.AnnotationSettings`)."""

    visible: bool = True
    opacity: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.opacity <= 1.0:
            raise ValueError("the pins' opacity must be between 0 and 1")


class Source(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One data file of the project.

    Attributes
    ----------
    id
        Unique within the project; pins and measurements name their object's source by it.
    path
        The file (absolute in memory, relative to the project file on disk).
    name
        The layer's name (the file name when ``None``).
    load
        How it is read.
    layer
        How it is shown; ``None``: as citytwin shows a newly opened file.
    """

    id: str
    path: str
    name: str | None = None
    load: LoadSettings = msgspec.field(default_factory=LoadSettings)
    layer: LayerSettings | None = None

    @property
    def display_name(self) -> str:
        return self.name or Path(self.path).name


class TerrainOptions(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How a terrain is made from a point cloud's ground points (see :func:`citytwin.model.terrain.make_dtm`)."""

    resolution: float = 1.0
    method: str = "grid"
    classes: list[int] = msgspec.field(default_factory=lambda: [2])
    statistic: str = "mean"
    max_gap: float | None = 20.0

    def __post_init__(self) -> None:
        if not (self.resolution > 0 and self.resolution < float("inf")):
            raise ValueError("a terrain's resolution must be a positive number")


class DerivedLayer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A layer citytwin made from a source's data (a terrain from a point cloud): made again on open.

    The project keeps how it was made, not what was made: opening the project reads
    the source and derives the layer anew, then shows it with ``layer``.

    Attributes
    ----------
    id
        Unique among the project's derived layers.
    derive
        What is made: ``"terrain"`` (a DTM mesh from the ground points). A kind this
        version does not know is kept in the project but not made.
    source
        The id of the source it is made from (``"from"`` in the file).
    name
        The layer's name (``"Terrain from <source>"`` when ``None``).
    terrain
        How a terrain is made.
    layer
        How it is shown; ``None``: as a new terrain is.
    """

    id: str
    derive: str
    source: str = msgspec.field(name="from")
    name: str | None = None
    terrain: TerrainOptions = msgspec.field(default_factory=TerrainOptions)
    layer: LayerSettings | None = None


class Project(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Everything a ``.citytwin`` file holds.

    Attributes
    ----------
    schema
        The schema version the file was written with.
    sources
        Data files, in drawing order.
    camera
        The view when the project was saved.
    pins, measurements, bookmarks
        The user's items, in the order the panels list them.
    pin_layer
        Whether the pins are shown, and their opacity.
    tours
        Camera flights (:class:`~citytwin.model.tours.Tour`), in the order the tours panel lists them.
    derived
        Layers made from the sources' data (terrains), made again when the project opens.
    overlays
        What stills and videos show over the scene: title, logo, legend, north arrow, scale bar,
        attribution (:class:`~citytwin.model.overlays.OverlaySettings`; nothing by default).
    presentation
        How presenter mode runs: its playlist, loop, kiosk idle time and exit PIN
        (:class:`~citytwin.model.presentation.Presentation`).
    look
        How the scene looks (:class:`~citytwin.model.looks.Look`; the Daylight preset by default).
    sun
        The date and time the sun is placed for, ISO 8601 with its UTC offset
        (``"2026-03-21T15:00:00+01:00"``), or ``None`` for the look's default sun.
    scenarios
        Planning scenarios (:class:`~citytwin.model.scenario.Scenario`): named sets of edits over
        the sources, in the order the scenarios panel lists them.
    scenario
        The id of the scenario shown when the project was saved (``None``: the existing city).
    added_hidden_ids
        Ids of objects the scenarios add that are hidden in the view (Edit → Hide).
    extra
        Top-level sections this version does not know (written by a later one),
        kept verbatim and written back.
    """

    schema: int = SCHEMA_VERSION
    generator: str = "citytwin"
    sources: list[Source] = msgspec.field(default_factory=list)
    camera: CameraState | None = None
    pins: list[Pin] = msgspec.field(default_factory=list)
    pin_layer: PinLayerSettings = msgspec.field(default_factory=PinLayerSettings)
    measurements: list[Measurement] = msgspec.field(default_factory=list)
    bookmarks: list[Bookmark] = msgspec.field(default_factory=list)
    tours: list[Tour] = msgspec.field(default_factory=list)
    derived: list[DerivedLayer] = msgspec.field(default_factory=list)
    overlays: OverlaySettings = msgspec.field(default_factory=OverlaySettings)
    presentation: Presentation = msgspec.field(default_factory=Presentation)
    look: Look = msgspec.field(default_factory=lambda: DEFAULT_LOOK)
    sun: str | None = None
    scenarios: list[Scenario] = msgspec.field(default_factory=list)
    scenario: str | None = None
    added_hidden_ids: list[str] = msgspec.field(default_factory=list)
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    # ------------------------------------------------------------ building one
    def add_source(self, path: str | os.PathLike, name: str | None = None, **load: Any) -> Source:
        """Add a data file (``load``: :class:`LoadSettings` fields such as ``lod_max=2`` or ``crs="EPSG:28992"``)."""
        source = Source(
            id=self._unique_source_id(Path(path).name),
            path=os.path.abspath(os.fspath(path)),
            name=name,
            load=LoadSettings(**load),
        )
        self.sources.append(source)
        return source

    def add_terrain(self, source: Source | str, name: str | None = None, **options: Any) -> DerivedLayer:
        """Add a terrain made from a point-cloud source when the project opens.

        ``options`` are :class:`TerrainOptions` fields (``resolution=2.0``).
        """
        source_id = source.id if isinstance(source, Source) else str(source)
        if self.source(source_id) is None:
            raise ValueError(f"the project has no source {source_id!r} to make a terrain from")
        taken = {d.id for d in self.derived}
        k = 1
        while f"terrain-{k}" in taken:
            k += 1
        derived = DerivedLayer(
            id=f"terrain-{k}", derive="terrain", source=source_id, name=name, terrain=TerrainOptions(**options)
        )
        self.derived.append(derived)
        return derived

    def add_pin(self, position: Iterable[float], title: str, **fields: Any) -> Pin:
        """Add a pin at a world position (source CRS); ``fields`` as :class:`~citytwin.model.annotations.Pin`'s."""
        pin = make_pin(position, title, **fields)
        self._check_new(pin.id, self.pins)
        self.pins.append(pin)
        return pin

    def add_measurement(self, kind: str, points: Iterable[Iterable[float]], **fields: Any) -> Measurement:
        """Add a measurement (``"distance"``, ``"height"``, ``"area"`` or ``"object-height"``)."""
        m = make_measurement(kind, points, **fields)
        self._check_new(m.id, self.measurements)
        self.measurements.append(m)
        return m

    def add_bookmark(self, name: str, camera: CameraState, **fields: Any) -> Bookmark:
        """Add a named view."""
        b = make_bookmark(name, camera, **fields)
        self._check_new(b.id, self.bookmarks)
        self.bookmarks.append(b)
        return b

    def add_tour(self, tour: Tour | str, keyframes: Iterable[Keyframe] = (), **fields: Any) -> Tour:
        """Add a tour: a :class:`~citytwin.model.tours.Tour` (a preset's), or a name and its keyframes.

        ``fields`` are further :class:`~citytwin.model.tours.Tour` fields (``id``).

        Raises
        ------
        ValueError
            With one sentence, for an invalid tour or an id the project has already.
        """
        if not isinstance(tour, Tour):
            tour = Tour(name=tour, keyframes=tuple(keyframes), **fields)
        self._check_new(tour.id, self.tours)
        self.tours.append(tour)
        return tour

    def tour(self, name: str) -> Tour | None:
        """The first tour with that name (or id)."""
        return next((t for t in self.tours if t.name == name), None) or next(
            (t for t in self.tours if t.id == name), None
        )

    def source(self, source_id: str) -> Source | None:
        """The source with that id."""
        return next((s for s in self.sources if s.id == source_id), None)

    def bookmark(self, name: str) -> Bookmark | None:
        """The first bookmark with that name (or id)."""
        return next((b for b in self.bookmarks if b.name == name), None) or next(
            (b for b in self.bookmarks if b.id == name), None
        )

    # ------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the project atomically (see :func:`citytwin.io.project.write_project`); return the path."""
        from citytwin.io.project import write_project  # io builds on model: imported when used

        return write_project(self, path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> Project:
        """Read a project (see :func:`citytwin.io.project.read_project`).

        Raises
        ------
        citytwin.errors.ReaderError
            With one sentence, for a missing, malformed or newer file.
        """
        from citytwin.io.project import read_project

        return read_project(path)

    # ------------------------------------------------------------ helpers
    def _unique_source_id(self, stem: str) -> str:
        taken = {s.id for s in self.sources}
        base = stem or "source"
        if base not in taken:
            return base
        k = 2
        while f"{base}-{k}" in taken:
            k += 1
        return f"{base}-{k}"

    @staticmethod
    def _check_new(item_id: str, items: list) -> None:
        if any(i.id == item_id for i in items):
            raise ValueError(f"an item with id {item_id!r} is already in the project")


__all__ = [
    "PROJECT_SUFFIX",
    "SCHEMA_VERSION",
    "CityLayerSettings",
    "DerivedLayer",
    "LayerSettings",
    "LoadSettings",
    "PinLayerSettings",
    "PointLayerSettings",
    "Project",
    "Source",
    "TerrainOptions",
    "new_id",
]
