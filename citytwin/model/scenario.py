"""Planning scenarios: a named set of edits over the base data, never a copy of the city.

A :class:`Scenario` is an ordered tuple of edits, each a frozen msgspec struct
(the project file decodes straight into them, tagged by ``"edit"``):

- :class:`DeleteObjects` removes objects (and the children that have no other parent left);
- :class:`SetAttributes` sets and removes attributes of one or many objects;
- :class:`TransformObject` moves an object (with its children), rotates it about the vertical
  axis through its footprint centre and scales its height;
- :class:`AddObject` adds a CityJSON city object with its own vertices.

Edits apply in order. The base data is never changed: the view and the writers
ask a scenario what it does to each object (:func:`object_changes`,
:func:`deleted_ids`, :func:`added_ids`, :func:`modified_ids`). Two moves of one
building compose into one (:func:`compose_transforms`). Editing functions are
pure and return a new scenario (:func:`add_edit`, :func:`replace_edit`,
:func:`remove_edit`); a scene applies them undoably like tours' edits.

Coordinates are the base data's own (its CRS, float64). Every check raises
``ValueError`` with one sentence.

Examples
--------
>>> s = Scenario(name="Tower")
>>> s = add_edit(s, DeleteObjects(ids=("b1", "b2")))
>>> s = add_edit(s, TransformObject(id="b3", translate=(5.0, 0.0, 0.0)))
>>> s = add_edit(s, TransformObject(id="b3", translate=(0.0, 2.0, 0.0), rotate_deg=90.0))
>>> object_changes(s)["b3"].transform.translate
(5.0, 2.0, 0.0)
>>> sorted(deleted_ids(s))
['b1', 'b2']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
from msgspec.structs import force_setattr

from citytwin.model.annotations import new_id

Vector3 = tuple[float, float, float]

#: Nesting of ``boundaries`` (arrays above the vertex indices) for each CityJSON geometry type.
BOUNDARY_DEPTH = {
    "MultiPoint": 1, "MultiLineString": 2, "MultiSurface": 3, "CompositeSurface": 3,
    "Solid": 4, "MultiSolid": 5, "CompositeSolid": 5,
}  # fmt: skip


# ------------------------------------------------------------------ checks
def _ids(value: Any, what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, Iterable) else None
    if not items:
        raise ValueError(f"{what} needs at least one object id")
    for i in items:
        if not isinstance(i, str) or not i.strip():
            raise ValueError(f"{what} has an object id that is not a non-empty string: {i!r}")
    return tuple(dict.fromkeys(items))


def _id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} needs a non-empty object id, not {value!r}")
    return value


def _finite(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return v


def _vector(value: Any, what: str) -> Vector3:
    try:
        items = list(value)
    except TypeError:
        raise ValueError(f"{what} must be three numbers, not {value!r}") from None
    if len(items) != 3:
        raise ValueError(f"{what} must be three numbers, not {len(items)}")
    x, y, z = (_finite(v, what) for v in items)
    return (x, y, z)


def _json_value(value: Any, where: str) -> None:
    """Fail unless ``value`` is JSON with finite numbers (what an attribute can hold)."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"attribute {where} must be a finite number, not {value!r}")
        return
    if isinstance(value, list | tuple):
        for v in value:
            _json_value(v, where)
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"attribute {where} has a key that is not text: {k!r}")
            _json_value(v, where)
        return
    raise ValueError(f"attribute {where} must be a number, text, true/false, null, a list or an object")


# ------------------------------------------------------------------- edits
class DeleteObjects(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag="delete", tag_field="edit"):
    """Remove objects from the scenario's city.

    A deleted object's children go too unless another parent of theirs stays
    (a ``BuildingPart`` cannot stand without its ``Building``).

    Attributes
    ----------
    ids
        The objects (a single id is taken as one).
    """

    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        force_setattr(self, "ids", _ids(self.ids, "a deletion"))


class SetAttributes(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag="attributes", tag_field="edit"):
    """Set and remove attributes of one or many objects.

    Attributes
    ----------
    ids
        The objects edited together (a single id is taken as one).
    values
        Attribute name → new value (JSON: number, text, true/false, null, list, object).
    removed
        Names of the attributes to remove.
    """

    ids: tuple[str, ...]
    values: dict[str, Any] = msgspec.field(default_factory=dict)
    removed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        force_setattr(self, "ids", _ids(self.ids, "an attribute edit"))
        if not isinstance(self.values, Mapping):
            raise ValueError("an attribute edit's values must be a mapping of names to values")
        values = dict(self.values)
        for name, value in values.items():
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"an attribute name must be non-empty text, not {name!r}")
            _json_value(value, repr(name))
        force_setattr(self, "values", values)
        removed = (self.removed,) if isinstance(self.removed, str) else tuple(self.removed)
        for name in removed:
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"an attribute name to remove must be non-empty text, not {name!r}")
            if name in values:
                raise ValueError(f"attribute {name!r} cannot be both set and removed by one edit")
        force_setattr(self, "removed", tuple(dict.fromkeys(removed)))
        if not values and not removed:
            raise ValueError("an attribute edit needs a value to set or a name to remove")

    def apply(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """``attributes`` with this edit's values set and its names removed (a new dict)."""
        out = dict(attributes)
        out.update(self.values)
        for name in self.removed:
            out.pop(name, None)
        return out


class TransformObject(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag="transform", tag_field="edit"):
    """Move, turn and stretch one object (and its children with it).

    Applied in this order: the height is scaled about the object's base (its
    lowest point), the object turns about the vertical axis through its
    footprint centre (the mean position of its vertices in plan, which moves
    with the object, so that moves compose), then it is moved.

    Attributes
    ----------
    id
        The object.
    translate
        ``(dx, dy, dz)`` in the base data's units.
    rotate_deg
        Degrees, counter-clockwise seen from above (x towards y).
    height_scale
        Factor on the heights above the base (> 0).
    """

    id: str
    translate: Vector3 = (0.0, 0.0, 0.0)
    rotate_deg: float = 0.0
    height_scale: float = 1.0

    def __post_init__(self) -> None:
        _id(self.id, "a transform")
        translate = _vector(self.translate, "a transform's translation")
        if translate != self.translate:  # left as it is when equal, so that a default is omitted when saved
            force_setattr(self, "translate", translate)
        force_setattr(self, "rotate_deg", _finite(self.rotate_deg, "a transform's rotation"))
        scale = _finite(self.height_scale, "a transform's height scale")
        if scale <= 0:
            raise ValueError(f"a transform's height scale must be above 0, not {scale:g}")
        force_setattr(self, "height_scale", scale)

    @property
    def is_identity(self) -> bool:
        """True when the transform changes nothing."""
        return self.translate == (0.0, 0.0, 0.0) and self.rotate_deg % 360.0 == 0.0 and self.height_scale == 1.0

    def rotation(self) -> np.ndarray:
        """``(2, 2)`` rotation matrix in plan."""
        a = math.radians(self.rotate_deg)
        c, s = math.cos(a), math.sin(a)
        return np.array([[c, -s], [s, c]])

    def linear(self) -> np.ndarray:
        """``(4, 4)`` matrix of the rotation and height scale, without translation.

        A geometry instance's ``transformationMatrix`` ``M`` becomes ``linear() @ M``
        when its reference point is moved with :func:`transform_points`.
        """
        out = np.eye(4)
        out[:2, :2] = self.rotation()
        out[2, 2] = self.height_scale
        return out


def object_frame(points: np.ndarray) -> tuple[np.ndarray, float]:
    """The vertical axis an object turns about and the height it scales from.

    The axis goes through the mean, in plan, of the object's distinct vertex positions (a vertex
    repeated per polygon, as a viewer stores them, counts once, as in the file); the base is its
    lowest point. The mean of the positions turns with the object, so two turns compose exactly
    into one. Every writer and the view use this.

    Parameters
    ----------
    points
        ``(N, 3)`` coordinates of the object and its parts.

    Returns
    -------
    tuple
        ``(centre (2,), base)``.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not len(p):
        return np.zeros(2), 0.0
    distinct = np.unique(p, axis=0)
    return distinct[:, :2].mean(axis=0), float(p[:, 2].min())


def transform_points(
    transform: TransformObject,
    points: np.ndarray,
    centre: Sequence[float] | None = None,
    base: float | None = None,
) -> np.ndarray:
    """``points`` as ``transform`` places them (a new ``(N, 3)`` float64 array).

    Parameters
    ----------
    transform
        The edit.
    points
        ``(N, 3)`` coordinates.
    centre
        ``(x, y)`` of the vertical axis; by default :func:`object_frame` of ``points``.
        Give the whole object's (with its children) when transforming part of it.
    base
        Height the scale starts from; the lowest of ``points`` by default.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not len(p):
        return p.copy()
    c = np.asarray(object_frame(p)[0] if centre is None else centre, dtype=np.float64)
    z0 = float(p[:, 2].min()) if base is None else float(base)
    out = np.empty_like(p)
    out[:, :2] = (p[:, :2] - c) @ transform.rotation().T + c + transform.translate[:2]
    out[:, 2] = z0 + (p[:, 2] - z0) * transform.height_scale + transform.translate[2]
    return out


def compose_transforms(first: TransformObject, then: TransformObject) -> TransformObject:
    """One transform doing ``first`` and then ``then`` (to the same object).

    Exact because the centre and base move with the object: translations and
    rotations add, height scales multiply.
    """
    if first.id != then.id:
        raise ValueError(f"transforms of two objects ({first.id!r}, {then.id!r}) do not compose")
    t = tuple(a + b for a, b in zip(first.translate, then.translate, strict=True))
    rotate = math.remainder(first.rotate_deg + then.rotate_deg, 360.0)
    scale = first.height_scale * then.height_scale
    return TransformObject(id=first.id, translate=t, rotate_deg=rotate, height_scale=scale)


class AddObject(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag="add", tag_field="edit"):
    """A new city object: its CityJSON JSON and the vertices its boundaries index.

    Attributes
    ----------
    id
        Its id (must not be one the base data has).
    cityobject
        A CityJSON 2.0 ``CityObject`` (``type``, ``attributes``, ``geometry`` …) whose
        ``boundaries`` index ``vertices`` from 0. No geometry templates, materials or
        textures (they would index the base data's lists).
    vertices
        ``[[x, y, z], …]`` in the base data's coordinates (any ``(N, 3)`` sequence or array).
    """

    id: str
    cityobject: dict[str, Any]
    vertices: tuple[Vector3, ...] = ()

    def __post_init__(self) -> None:
        _id(self.id, "an added object")
        co = self.cityobject
        if not isinstance(co, Mapping) or not isinstance(co.get("type"), str) or not co["type"].strip():
            raise ValueError(f"added object {self.id!r} needs a CityObject with a type")
        force_setattr(self, "cityobject", dict(co))
        try:
            v = np.asarray(self.vertices, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"the vertices of added object {self.id!r} must be lists of three numbers") from None
        if v.size == 0:
            v = v.reshape(0, 3)
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f"the vertices of added object {self.id!r} must be lists of three numbers")
        if not np.isfinite(v).all():
            raise ValueError(f"the vertices of added object {self.id!r} must be finite numbers")
        force_setattr(self, "vertices", tuple(map(tuple, v.tolist())))
        _json_value(co.get("attributes"), f"of added object {self.id!r}")
        if "attributes" in co and not isinstance(co["attributes"], Mapping):
            raise ValueError(f"the attributes of added object {self.id!r} must be an object")
        geometry = co.get("geometry", [])
        if not isinstance(geometry, list):
            raise ValueError(f"the geometry of added object {self.id!r} must be a list")
        for k, g in enumerate(geometry):
            _check_geometry(self.id, k, g, len(v))

    def vertex_array(self) -> np.ndarray:
        """The vertices as ``(N, 3)`` float64."""
        return np.asarray(self.vertices, dtype=np.float64).reshape(-1, 3)


def _check_geometry(oid: str, k: int, g: Any, n_vertices: int) -> None:
    where = f"geometry {k + 1} of added object {oid!r}"
    if not isinstance(g, Mapping):
        raise ValueError(f"{where} must be an object")
    gtype = g.get("type")
    if gtype not in BOUNDARY_DEPTH:
        raise ValueError(f"{where} has type {gtype!r}, not one of {', '.join(BOUNDARY_DEPTH)}")
    for key in ("material", "texture"):
        if key in g:
            raise ValueError(f"{where} has a {key}, which an added object cannot have yet")
    flat: list[Any] = []
    _leaves(g.get("boundaries"), BOUNDARY_DEPTH[gtype], flat, where)
    if not flat:
        raise ValueError(f"{where} has no boundaries")
    if not all(type(i) is int and 0 <= i < n_vertices for i in flat):
        raise ValueError(f"{where} uses a vertex index outside its {n_vertices} vertices")


def _leaves(b: Any, depth: int, out: list[Any], where: str) -> None:
    if not isinstance(b, list):
        raise ValueError(f"{where} has boundaries that do not match its type")
    if depth == 1:
        out.extend(b)
        return
    for x in b:
        _leaves(x, depth - 1, out, where)


Edit = DeleteObjects | SetAttributes | TransformObject | AddObject


def edit_ids(edit: Edit) -> tuple[str, ...]:
    """The objects an edit names."""
    return edit.ids if isinstance(edit, DeleteObjects | SetAttributes) else (edit.id,)


# ---------------------------------------------------------------- scenario
class Scenario(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A named set of edits over the base data.

    Attributes
    ----------
    id
        Unique within the project (a fresh one by default).
    name
        Shown in the scenario switcher ("Existing" is the base data, not a scenario).
    description
        Optional longer text.
    edits
        Applied in order.

    Raises
    ------
    ValueError
        With one sentence: an empty name, an edit of the wrong type, an object added twice.
    """

    id: str = msgspec.field(default_factory=lambda: new_id("scenario"))
    name: str
    description: str = ""
    edits: tuple[Edit, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError("a scenario needs an id")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a scenario needs a name")
        edits = tuple(self.edits)
        force_setattr(self, "edits", edits)
        added: set[str] = set()
        for i, e in enumerate(edits):
            if not isinstance(e, DeleteObjects | SetAttributes | TransformObject | AddObject):
                raise TypeError(f"edit {i + 1} is a {type(e).__name__}, not a scenario edit")
            if isinstance(e, AddObject):
                if e.id in added:
                    raise ValueError(f"object {e.id!r} is added twice by scenario {self.name!r}")
                added.add(e.id)


def _index(scenario: Scenario, index: int) -> int:
    n = len(scenario.edits)
    if not isinstance(index, int | np.integer) or not -n <= index < n:
        raise ValueError(f"there is no edit {index!r} (the scenario has {n})")
    return int(index) % n


def add_edit(scenario: Scenario, edit: Edit) -> Scenario:
    """The scenario with ``edit`` appended."""
    return msgspec.structs.replace(scenario, edits=(*scenario.edits, edit))


def replace_edit(scenario: Scenario, index: int, edit: Edit) -> Scenario:
    """The scenario with edit ``index`` replaced by ``edit``."""
    i = _index(scenario, index)
    return msgspec.structs.replace(scenario, edits=(*scenario.edits[:i], edit, *scenario.edits[i + 1 :]))


def remove_edit(scenario: Scenario, index: int) -> Scenario:
    """The scenario without edit ``index``."""
    i = _index(scenario, index)
    return msgspec.structs.replace(scenario, edits=scenario.edits[:i] + scenario.edits[i + 1 :])


def remove_edits_of(scenario: Scenario, object_id: str) -> Scenario:
    """The scenario without anything it does to ``object_id`` (its other edits kept, trimmed of that id)."""
    out: list[Edit] = []
    for e in scenario.edits:
        if object_id not in edit_ids(e):
            out.append(e)
        elif isinstance(e, DeleteObjects | SetAttributes) and len(e.ids) > 1:
            out.append(msgspec.structs.replace(e, ids=tuple(i for i in e.ids if i != object_id)))
    return msgspec.structs.replace(scenario, edits=tuple(out))


# ----------------------------------------------------------------- queries
@dataclass(frozen=True)
class ObjectChange:
    """What a scenario does to one object, its edits composed.

    Attributes
    ----------
    id
        The object.
    added
        The edit that created it, for an object the scenario adds.
    deleted
        The object is gone (its children may go with it, see :class:`DeleteObjects`).
    transform
        All its moves composed into one (None: not moved).
    set_values
        Attributes set, name → value (the last value set wins).
    removed
        Names of attributes removed.
    """

    id: str
    added: AddObject | None = None
    deleted: bool = False
    transform: TransformObject | None = None
    set_values: dict[str, Any] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()

    @property
    def modified(self) -> bool:
        """True for a kept object whose attributes or place change."""
        return not self.deleted and (self.transform is not None or bool(self.set_values) or bool(self.removed))

    def attributes(self, base: Mapping[str, Any] | None) -> dict[str, Any]:
        """The object's attributes in the scenario, from its ``base`` attributes."""
        out = dict(base or {})
        out.update(self.set_values)
        for name in self.removed:
            out.pop(name, None)
        return out


def object_changes(scenario: Scenario) -> dict[str, ObjectChange]:
    """What the scenario does to every object it names, its edits applied in order.

    An edit of an object deleted earlier in the scenario changes nothing; an
    object added by the scenario starts without changes.
    """
    state: dict[str, dict[str, Any]] = {}

    def entry(oid: str) -> dict[str, Any]:
        return state.setdefault(oid, {"added": None, "deleted": False, "transform": None, "set": {}, "removed": set()})

    for e in scenario.edits:
        if isinstance(e, AddObject):
            s = entry(e.id)
            s.update(added=e, deleted=False, transform=None, set={}, removed=set())
        elif isinstance(e, DeleteObjects):
            for oid in e.ids:
                entry(oid)["deleted"] = True
        elif isinstance(e, SetAttributes):
            for oid in e.ids:
                s = entry(oid)
                if s["deleted"]:
                    continue
                s["set"].update(e.values)
                s["removed"].difference_update(e.values)
                for name in e.removed:
                    s["set"].pop(name, None)
                    s["removed"].add(name)
        elif isinstance(e, TransformObject):
            s = entry(e.id)
            if not s["deleted"]:
                s["transform"] = e if s["transform"] is None else compose_transforms(s["transform"], e)
    out = {}
    for oid, s in state.items():
        t = s["transform"]
        out[oid] = ObjectChange(
            id=oid,
            added=s["added"],
            deleted=s["deleted"],
            transform=None if t is None or t.is_identity else t,
            set_values=dict(s["set"]),
            removed=frozenset(s["removed"]),
        )
    return out


def touched_ids(scenario: Scenario) -> frozenset[str]:
    """Every object the scenario names (deleted, edited or added)."""
    return frozenset(i for e in scenario.edits for i in edit_ids(e))


def deleted_ids(scenario: Scenario) -> frozenset[str]:
    """Objects of the base data the scenario deletes (their children that go with them not included)."""
    return frozenset(c.id for c in object_changes(scenario).values() if c.deleted and c.added is None)


def added_ids(scenario: Scenario) -> frozenset[str]:
    """Objects the scenario adds (and does not delete again)."""
    return frozenset(c.id for c in object_changes(scenario).values() if c.added is not None and not c.deleted)


def modified_ids(scenario: Scenario) -> frozenset[str]:
    """Objects of the base data the scenario keeps but moves or whose attributes it changes."""
    return frozenset(c.id for c in object_changes(scenario).values() if c.modified and c.added is None)


def deleted_with_children(scenario: Scenario, parents: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """The objects gone in the scenario: those it deletes, and every object all of whose parents are gone.

    Parameters
    ----------
    scenario
        The scenario.
    parents
        Object id → ids of its parents, for the objects that have any. Leave out
        ``CityObjectGroup`` memberships: a group's members outlive it.
    """
    return with_orphans(deleted_ids(scenario), parents)


def with_orphans(gone: Iterable[str], parents: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """``gone`` and every object all of whose parents are gone, recursively (``parents`` as above)."""
    out = set(gone)
    children: dict[str, list[str]] = {}
    for child, ps in parents.items():
        for p in ps:
            children.setdefault(p, []).append(child)
    todo = list(out)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in out and all(p in out for p in parents[child]):
                out.add(child)
                todo.append(child)
    return frozenset(out)
