"""What a user adds to a scene and keeps: pins, measurements and bookmarks.

Items are immutable typed records (msgspec structs, so the project file
decodes straight into them); an edit replaces an item by an edited copy
(``msgspec.structs.replace``) through an undoable command, and the evented
:class:`ItemList` holding them tells the views. Positions are world
coordinates in the scene's source CRS, float64, never scene-relative.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import numpy as np
from psygnal import evented
from psygnal.containers import EventedList

from citytwin.model.camera import CameraState

Point3 = tuple[float, float, float]
RGB = tuple[float, float, float]

#: The marker shapes a pin can have.
PIN_ICONS = ("pin", "info", "star", "flag", "camera", "warning")
#: Default pin colour (a warm red that reads on grey walls, green terrain and blue sky).
PIN_COLOUR: RGB = (0.86, 0.20, 0.16)
MEASUREMENT_KINDS = ("distance", "height", "area", "object-height")


def new_id(prefix: str) -> str:
    """A short unique id for a new item (``pin-3f2a9c1b``)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _point(p: Iterable[float]) -> Point3:
    x, y, z = (float(v) for v in p)
    if not all(np.isfinite((x, y, z))):
        raise ValueError("a point needs three finite coordinates")
    return (x, y, z)


class Pin(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A 3D marker with a label.

    Attributes
    ----------
    id
        Unique within the project.
    position
        World position (source CRS, float64).
    title, description
        The label, and an optional longer text (shown in the panel and Inspector).
    colour
        RGB 0–1.
    icon
        One of :data:`PIN_ICONS`.
    object_id
        The city object the pin was placed on, if any.
    source
        The id of the data source that object belongs to.
    visible
        Whether the pin is drawn.
    """

    id: str
    position: Point3
    title: str
    description: str = ""
    colour: RGB = PIN_COLOUR
    icon: str = "pin"
    object_id: str | None = None
    source: str | None = None
    visible: bool = True

    def __post_init__(self) -> None:
        _point(self.position)
        if self.icon not in PIN_ICONS:
            raise ValueError(f"icon must be one of {', '.join(PIN_ICONS)}")
        if len(self.colour) != 3 or not all(0.0 <= c <= 1.0 for c in self.colour):
            raise ValueError("colour must be three numbers from 0 to 1")


class Measurement(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A measured distance, height difference, area or object height.

    Attributes
    ----------
    id
        Unique within the project.
    kind
        ``"distance"`` (a polyline of two or more points), ``"height"`` (two
        points), ``"area"`` (a polygon of three or more points) or
        ``"object-height"`` (an object's height read from the model, in ``value``;
        ``points`` holds its base and top).
    points
        World positions (float64) in ``crs``.
    title
        Optional label.
    object_id, source
        The object measured (``object-height``, or an area picked on a polygon).
    value
        The height read from the model for ``object-height``.
    visible
        Whether it is drawn.
    crs
        The CRS of ``points`` (``"EPSG:32654"``). The measuring tool gives the CRS the scene
        is drawn in (``scene.display_crs``: the file's own when it is projected, the UTM zone
        of a latitude/longitude file), so that a project reopens its measurements at the same
        place whatever it is drawn in later. ``None``: the CRS the scene is drawn in. Lengths
        and areas are in its unit; in metres for a latitude/longitude CRS (computed in the
        UTM zone of the points).
    """

    id: str
    kind: Literal["distance", "height", "area", "object-height"]
    points: tuple[Point3, ...]
    title: str = ""
    object_id: str | None = None
    source: str | None = None
    value: float | None = None
    visible: bool = True
    crs: str | None = None

    def __post_init__(self) -> None:
        for p in self.points:
            _point(p)
        need = {"distance": 2, "height": 2, "area": 3, "object-height": 2}[self.kind]
        if len(self.points) < need:
            raise ValueError(f"a {self.kind} measurement needs at least {need} points")
        if self.kind == "height" and len(self.points) != 2:
            raise ValueError("a height measurement has exactly two points")

    @property
    def array(self) -> np.ndarray:
        """``(N, 3)`` float64 points (in :attr:`crs`)."""
        return np.asarray(self.points, dtype=np.float64).reshape(-1, 3)

    def metric_array(self) -> np.ndarray:
        """``(N, 3)`` float64 points in which lengths are measured: :attr:`array`, in the UTM zone of the points
        for a latitude/longitude :attr:`crs`."""
        from citytwin.model.crs import CRS, display_crs, is_geographic, reproject

        p = self.array
        crs = CRS.parse(self.crs) if self.crs else None
        if crs is None or not is_geographic(crs):
            return p
        return reproject(p, crs, display_crs(crs, np.concatenate([p.min(axis=0), p.max(axis=0)])))

    def in_crs(self, target: Any) -> Measurement:
        """This measurement with its points in ``target`` (a :class:`~citytwin.model.crs.CRS`), to draw it there.

        Itself when its CRS is unknown (``None``: already the CRS it is drawn in) or ``target``'s.

        Raises
        ------
        citytwin.errors.CityTwinError
            When the points cannot be transformed.
        """
        from citytwin.model.crs import CRS, reproject

        if self.crs is None or target is None or target.epsg is None:
            return self
        own = CRS.parse(self.crs)
        if own.epsg is None or own.epsg == target.epsg:
            return self
        moved = reproject(self.array, own, target)
        return msgspec.structs.replace(self, points=tuple(_point(p) for p in moved), crs=target.code)

    def length_3d(self) -> float:
        """Length of the polyline in space (closed for areas: the perimeter)."""
        p = self._path()
        return float(np.sqrt((np.diff(p, axis=0) ** 2).sum(axis=1)).sum())

    def length_horizontal(self) -> float:
        """Length of the polyline projected on the horizontal plane."""
        p = self._path()
        return float(np.sqrt((np.diff(p[:, :2], axis=0) ** 2).sum(axis=1)).sum())

    def height_difference(self) -> float:
        """Last point's z minus the first's (``value`` for an object height)."""
        if self.kind == "object-height" and self.value is not None:
            return float(self.value)
        p = self.array
        return float(p[-1, 2] - p[0, 2])

    def area_3d(self) -> float:
        """Area of the polygon in its own plane (Newell's formula)."""
        p = self.metric_array()
        centred = p - p.mean(axis=0)
        normal = np.cross(centred, np.roll(centred, -1, axis=0)).sum(axis=0)
        return float(np.linalg.norm(normal) / 2)

    def area_projected(self) -> float:
        """Area of the polygon projected on the horizontal plane (shoelace)."""
        xy = self.metric_array()[:, :2]
        p = xy - xy.mean(axis=0)
        x, y = p[:, 0], p[:, 1]
        return float(abs((x * np.roll(y, -1) - np.roll(x, -1) * y).sum()) / 2)

    def _path(self) -> np.ndarray:
        p = self.metric_array()
        return np.vstack([p, p[:1]]) if self.kind == "area" else p

    def values(self) -> dict[str, float]:
        """The figures this kind shows, by name, in metres (or the CRS's unit)."""
        if self.kind == "distance":
            return {
                "length": self.length_3d(),
                "horizontal": self.length_horizontal(),
                "height difference": self.height_difference(),
            }
        if self.kind in ("height", "object-height"):
            return {"height": self.height_difference()}
        return {"area": self.area_3d(), "projected area": self.area_projected(), "perimeter": self.length_3d()}


class Bookmark(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A named view.

    Attributes
    ----------
    id
        Unique within the project.
    name
        Shown under the thumbnail.
    camera
        The saved camera (world coordinates).
    thumbnail
        A small PNG of the view (base64 in the project file), or ``None``.
    """

    id: str
    name: str
    camera: CameraState
    thumbnail: bytes | None = None


class ItemList(EventedList):
    """An evented list of pins, measurements or bookmarks with unique ids (emits inserted/removed/changed/moved).

    An index of ids is kept beside the list, so adding an item and finding one
    by id cost the same with 10 items or 10,000.
    """

    def __init__(self, data: Iterable[Any] = ()):
        self._by_id: dict[str, Any] = {}
        super().__init__(data, hashable=False)

    def by_id(self, item_id: str) -> Any | None:
        """The item with that id, or ``None``."""
        return self._by_id.get(item_id)

    def index_of(self, item_id: str) -> int:
        """Position of the item with that id.

        Raises
        ------
        KeyError
            If no item has that id.
        """
        item = self._by_id[item_id]
        return next(i for i, x in enumerate(self) if x is item)

    def insert(self, index: int, value: Any) -> None:
        if value.id in self._by_id:
            raise ValueError(f"an item with id {value.id!r} is already in the list")
        self._by_id[value.id] = value
        try:
            super().insert(index, value)
        except BaseException:
            del self._by_id[value.id]
            raise

    def __setitem__(self, key, value) -> None:
        if not isinstance(key, int):
            raise TypeError("items are replaced one at a time")
        old = self[key]
        if value.id != old.id and value.id in self._by_id:
            raise ValueError(f"an item with id {value.id!r} is already in the list")
        del self._by_id[old.id]
        self._by_id[value.id] = value
        super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        # the ids leave the index first, so that ``by_id`` already misses an item while ``removed`` is emitted
        doomed = self[key] if isinstance(key, slice) else [self[key]]
        for item in doomed:
            self._by_id.pop(item.id, None)
        try:
            super().__delitem__(key)
        except BaseException:
            for item in doomed:
                if any(x is item for x in self):
                    self._by_id[item.id] = item
            raise


@evented
@dataclass(eq=False)
class AnnotationSettings:
    """How the scene's annotations are drawn as a whole (the pins "layer"); evented like a layer.

    Change a field through :meth:`citytwin.model.scene.Scene.set` so that it is undoable
    (``scene.set(scene.annotation_settings, "pins_visible", False)``).

    Attributes
    ----------
    pins_visible
        Whether pins are drawn at all (each pin also has its own ``visible``).
    pins_opacity
        0 (invisible) to 1 (opaque), for every pin's marker, leader line and label.
    """

    pins_visible: bool = True
    pins_opacity: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.pins_opacity) <= 1.0:
            raise ValueError("pins_opacity must be between 0 and 1")


def make_pin(position: Iterable[float], title: str, **fields: Any) -> Pin:
    """A new pin with a fresh id (``fields`` as :class:`Pin`'s; a colour of numpy numbers becomes plain floats)."""
    if "colour" in fields:
        fields["colour"] = tuple(float(c) for c in fields["colour"])
    return Pin(id=fields.pop("id", None) or new_id("pin"), position=_point(position), title=title, **fields)


def make_measurement(kind: str, points: Iterable[Iterable[float]], **fields: Any) -> Measurement:
    """A new measurement with a fresh id."""
    pts = tuple(_point(p) for p in points)
    return Measurement(id=fields.pop("id", None) or new_id("measure"), kind=kind, points=pts, **fields)  # type: ignore[arg-type]


def make_bookmark(name: str, camera: CameraState, **fields: Any) -> Bookmark:
    """A new bookmark with a fresh id."""
    return Bookmark(id=fields.pop("id", None) or new_id("view"), name=name, camera=camera, **fields)
