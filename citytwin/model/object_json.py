"""City objects as CityJSON JSON: a copy of a model's object ("Duplicate"), the surfaces of an added one.

:func:`cityobject_from_model` turns one object of a :class:`~citytwin.model.citymodel.CityModel` (with
everything below it: semantic surfaces, building parts) into an
:class:`~citytwin.model.scenario.AddObject`, from the model's own polygons, so it works the same for
every format read (CityGML, CityJSON, meshes):

- one geometry per LoD present, with holes kept and a semantic surface per polygon (the polygon's
  :class:`~citytwin.model.semantics.SurfaceClass` as its CityJSON 2.0 type, see
  :data:`CITYJSON_SEMANTIC_TYPE`; classes CityJSON has no type for, such as terrain, get ``null``):
  a ``"Solid"`` when its polygons are one closed shell with outward normals (every ring edge run
  once each way, all connected, a positive volume) and the type may have one, otherwise a
  ``"MultiSurface"`` (a ``"CompositeSurface"`` for a ``TINRelief``, the only one it may have);
- vertices welded where they are equal, moved by ``offset``;
- the type (CityGML's ``"ReliefFeature"`` as a ``"TINRelief"``, and ``"GenericCityObject"`` for
  others CityJSON 2.0 does not have, such as a mesh file's ``"Mesh"``) and a deep, JSON-safe copy
  of the attributes.

What is not copied: the source's geometry types beyond that (a ``CompositeSolid`` of parts comes out
as a ``"MultiSurface"`` with the same polygons), the children as objects of their own (their polygons
join the copy; their attributes are not kept), appearances, addresses and geometry instances (drawn
as polygons, copied as polygons).

:func:`geometry_surfaces` walks the surfaces of a CityJSON city object's geometries with their
semantic types, whatever their type (``MultiSurface`` … ``CompositeSolid``).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.scenario import BOUNDARY_DEPTH, AddObject
from citytwin.model.semantics import SURFACE_CLASS_BY_NAME, SurfaceClass, lod_name
from citytwin.model.triangulate import triangulate

__all__ = [
    "CITYJSON_SEMANTIC_TYPE",
    "CITYJSON_TYPES",
    "Surface",
    "cityobject_from_model",
    "descendants",
    "geometry_surfaces",
    "json_safe",
]

#: Surface class → CityJSON 2.0 semantic surface ``type``. Classes without one (none, terrain,
#: vegetation, other) are missing: their polygons get a ``null`` semantic value.
CITYJSON_SEMANTIC_TYPE: Mapping[SurfaceClass, str] = MappingProxyType(
    {
        **{c: name for name, c in SURFACE_CLASS_BY_NAME.items() if c not in (SurfaceClass.MARKING, SurfaceClass.HOLE)},
        SurfaceClass.MARKING: "TransportationMarking",
        SurfaceClass.HOLE: "TransportationHole",
    }
)


def descendants(objects: CityObjects, index: int) -> np.ndarray:
    """``(N,)`` bool: the object ``index`` and every object below it (children, their children …).

    Cycles in a damaged hierarchy end the walk (every object is visited once).
    """
    out = np.zeros(len(objects), bool)
    todo = [int(index)]
    out[index] = True
    while todo:
        for child in objects.children(todo.pop()).tolist():
            if not out[child]:
                out[child] = True
                todo.append(child)
    return out


def json_safe(value: Any) -> Any:
    """A deep copy of ``value`` that JSON can hold and :class:`~citytwin.model.scenario.AddObject` accepts.

    Numpy scalars and arrays become Python numbers and lists, tuples and sets become lists, dates
    become ISO text, NaN and infinities become ``None``, mapping keys become text and anything else
    its ``str``.

    Raises
    ------
    ValueError
        If the value is nested too deeply to copy.
    """
    try:
        return _json_safe(value)
    except RecursionError:
        raise ValueError("an attribute is nested too deeply to copy") from None


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic | np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def cityobject_from_model(
    model: CityModel,
    index: int | str,
    *,
    new_id: str,
    offset: Sequence[float] = (0.0, 0.0, 0.0),
) -> AddObject:
    """A copy of one of the model's objects, as a scenario's new object (the editor's "Duplicate").

    Parameters
    ----------
    model
        The city model holding the object.
    index
        The object's row in ``model.objects`` (or its id).
    new_id
        The copy's id (it must not be one the base data has; not checked here).
    offset
        ``(dx, dy, dz)`` added to every vertex, in the model's coordinates.

    Returns
    -------
    AddObject
        ``{"type": <the object's>, "attributes": <a copy>, "geometry": [MultiSurface per LoD]}`` and
        its vertices (see the module notes for what is and is not copied).

    Raises
    ------
    ValueError
        With one sentence: an unknown object, one that is part of another object (duplicate its
        top-level object), one without polygons, or an offset that is not three finite numbers.
    """
    objects = model.objects
    row = _row(objects, index)
    oid = objects.ids[row]
    parent = int(objects.parents[row])
    if parent >= 0:
        raise ValueError(f"object {oid!r} is part of {objects.ids[parent]!r}; duplicate that object instead")
    try:
        shift = np.asarray(offset, dtype=np.float64).reshape(3)
    except (TypeError, ValueError):
        raise ValueError(f"the offset must be three numbers, not {offset!r}") from None
    if not np.isfinite(shift).all():
        raise ValueError("the offset must be three finite numbers")
    mesh = model.mesh
    selected = np.flatnonzero(descendants(objects, row)[mesh.poly_object]) if mesh.n_polygons else np.zeros(0, int)
    if not len(selected):
        raise ValueError(f"object {oid!r} has no polygons to copy")

    # The rings of the selected polygons and their vertices, welded where equal.
    ring_start = mesh.polygon_rings[selected]
    ring_count = mesh.polygon_rings[selected + 1] - ring_start
    rings = _ranges(ring_start, ring_count)
    vert_start = mesh.ring_offsets[rings]
    vert_count = mesh.ring_offsets[rings + 1] - vert_start
    corner = _ranges(vert_start, vert_count)
    points, welded = np.unique(mesh.vertices[corner], axis=0, return_inverse=True)
    welded = welded.reshape(-1)
    ring_bounds = np.concatenate([[0], np.cumsum(vert_count)]).tolist()
    poly_bounds = np.concatenate([[0], np.cumsum(ring_count)]).tolist()
    corners = welded.tolist()
    ring_lists = [corners[a:b] for a, b in zip(ring_bounds[:-1], ring_bounds[1:], strict=True)]
    polygons = [ring_lists[a:b] for a, b in zip(poly_bounds[:-1], poly_bounds[1:], strict=True)]

    lods = mesh.poly_lod[selected]
    classes = mesh.poly_semantic[selected]
    kind = objects.types[row]
    if kind not in CITYJSON_TYPES and not kind.startswith("+"):
        kind = _TYPE_FOR.get(kind, "GenericCityObject")
    geometry = []
    for lod in np.unique(lods).tolist():
        keep = np.flatnonzero(lods == lod).tolist()
        surfaces = [polygons[k] for k in keep]
        semantics = _semantics(SurfaceClass(int(classes[k])) for k in keep)
        if kind not in _NO_SOLID and _is_shell(points, surfaces):
            g: dict[str, Any] = {"type": "Solid", "lod": lod_name(lod), "boundaries": [surfaces]}
            if semantics is not None:
                semantics["values"] = [semantics["values"]]
        else:
            gtype = "CompositeSurface" if kind == "TINRelief" else "MultiSurface"
            g = {"type": gtype, "lod": lod_name(lod), "boundaries": surfaces}
        if semantics is not None:
            g["semantics"] = semantics
        geometry.append(g)
    cityobject: dict[str, Any] = {"type": kind}
    attributes = json_safe(objects.attributes[row])
    if attributes:
        cityobject["attributes"] = attributes
    cityobject["geometry"] = geometry
    return AddObject(id=new_id, cityobject=cityobject, vertices=points + shift)


#: The city object types of CityJSON 2.0 (extensions add ``+Name`` ones).
CITYJSON_TYPES = frozenset(
    {
        "Bridge", "BridgeConstructiveElement", "BridgeFurniture", "BridgeInstallation", "BridgePart", "BridgeRoom",
        "Building", "BuildingConstructiveElement", "BuildingFurniture", "BuildingInstallation", "BuildingPart",
        "BuildingRoom", "BuildingStorey", "BuildingUnit", "CityFurniture", "CityObjectGroup", "GenericCityObject",
        "LandUse", "OtherConstruction", "PlantCover", "Railway", "Road", "SolitaryVegetationObject", "TINRelief",
        "TransportSquare", "Tunnel", "TunnelConstructiveElement", "TunnelFurniture", "TunnelHollowSpace",
        "TunnelInstallation", "TunnelPart", "WaterBody", "Waterway",
    }
)  # fmt: skip

#: Types of other formats that CityJSON 2.0 has under another name.
_TYPE_FOR = MappingProxyType({"ReliefFeature": "TINRelief"})

#: City object types the CityJSON 2.0 schemas give no ``Solid``.
_NO_SOLID = frozenset({"Road", "Railway", "TransportSquare", "Waterway", "TINRelief", "LandUse"})


def _is_shell(points: np.ndarray, surfaces: list[list[list[int]]]) -> bool:
    """Whether polygons (rings of indices into ``points``) are one closed shell with outward normals."""
    edges: dict[tuple[int, int], int] = {}
    for k, surface in enumerate(surfaces):
        for ring in surface:
            for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
                if a == b or (a, b) in edges:
                    return False
                edges[(a, b)] = k
    if any((b, a) not in edges for a, b in edges):
        return False
    # connected: every surface reached from the first across shared edges
    seen = {0}
    todo = [0]
    neighbours: dict[int, set[int]] = {}
    for (a, b), k in edges.items():
        neighbours.setdefault(k, set()).add(edges[(b, a)])
    while todo:
        for j in neighbours.get(todo.pop(), ()):
            if j not in seen:
                seen.add(j)
                todo.append(j)
    if len(seen) != len(surfaces):
        return False
    rings = [np.asarray(r, np.int64) for surface in surfaces for r in surface]
    flat = np.concatenate(rings)
    ring_offsets = np.concatenate([[0], np.cumsum([len(r) for r in rings])])
    polygon_rings = np.concatenate([[0], np.cumsum([len(s) for s in surfaces])])
    local = points[flat] - points[flat].mean(axis=0)
    tri, _, degenerate = triangulate(local, ring_offsets, polygon_rings)
    if degenerate.any() or not len(tri):
        return False
    t = local[tri]
    volume = float(np.einsum("ij,ij->", t[:, 0], np.cross(t[:, 1], t[:, 2]))) / 6
    extent = float(np.ptp(local, axis=0).max())
    return volume > 1e-9 * extent**3


def _row(objects: CityObjects, index: int | str) -> int:
    if isinstance(index, str):
        if index not in objects.index:
            raise ValueError(f"the model has no object {index!r}")
        return objects.index[index]
    if isinstance(index, bool) or not isinstance(index, int | np.integer) or not 0 <= index < len(objects):
        raise ValueError(f"the model has no object {index!r} (it has {len(objects)})")
    return int(index)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])``, vectorised."""
    starts = np.asarray(starts, np.int64)
    counts = np.asarray(counts, np.int64)
    before = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - before, counts)


def _semantics(classes: Iterator[SurfaceClass]) -> dict[str, Any] | None:
    """CityJSON ``semantics`` of a MultiSurface whose polygons have these classes (None when none has a type)."""
    surfaces: list[dict[str, str]] = []
    slot: dict[str, int] = {}
    values: list[int | None] = []
    for c in classes:
        name = CITYJSON_SEMANTIC_TYPE.get(c)
        if name is None:
            values.append(None)
            continue
        if name not in slot:
            slot[name] = len(surfaces)
            surfaces.append({"type": name})
        values.append(slot[name])
    if not surfaces:
        return None
    return {"surfaces": surfaces, "values": values}


# ------------------------------------------------------------------ reading CityJSON geometry back
@dataclass(frozen=True)
class Surface:
    """One surface of a CityJSON geometry.

    Attributes
    ----------
    rings
        Vertex indices of its rings, the exterior first.
    semantic
        Its semantic surface type (``"RoofSurface"`` …), or None.
    lod
        Its geometry's LoD as written (``"2"``), or None.
    geometry
        Index of its geometry in the object's ``geometry`` list.
    """

    rings: list[list[int]]
    semantic: str | None
    lod: str | None
    geometry: int


def geometry_surfaces(cityobject: Mapping[str, Any]) -> Iterator[Surface]:
    """Every surface of a CityJSON city object's geometries (points and lines skipped).

    Parameters
    ----------
    cityobject
        A CityJSON CityObject, such as :attr:`AddObject.cityobject <citytwin.model.scenario.AddObject.cityobject>`
        (geometry instances are skipped).
    """
    for k, g in enumerate(cityobject.get("geometry") or []):
        if not isinstance(g, Mapping):
            continue
        depth = BOUNDARY_DEPTH.get(g.get("type"))
        if depth is None or depth < 3:
            continue
        sem = g.get("semantics") if isinstance(g.get("semantics"), Mapping) else {}
        types = [s.get("type") if isinstance(s, Mapping) else None for s in sem.get("surfaces") or []]
        lod = g.get("lod")
        for rings, value in _walk(g.get("boundaries") or [], sem.get("values"), depth - 3):
            name = types[value] if type(value) is int and 0 <= value < len(types) else None
            yield Surface(rings, name if isinstance(name, str) else None, None if lod is None else str(lod), k)


def _walk(boundaries: Any, values: Any, levels: int) -> Iterator[tuple[list[list[int]], Any]]:
    """The surfaces ``levels`` lists down in ``boundaries``, each with its semantic value."""
    if not isinstance(boundaries, list):
        return
    if levels == 0:
        for i, surface in enumerate(boundaries):
            value = values[i] if isinstance(values, list) and i < len(values) else None
            if isinstance(surface, list) and surface:
                yield surface, value
        return
    for i, b in enumerate(boundaries):
        yield from _walk(b, values[i] if isinstance(values, list) and i < len(values) else None, levels - 1)
