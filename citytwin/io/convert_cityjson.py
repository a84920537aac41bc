"""CityJSON 2.0 from any city model (a CityGML file, a mesh): conversion, with a scenario applied.

A model read from CityJSON is written losslessly from its own bytes
(:mod:`citytwin.io.cityjson_export`). Any other model is converted from what citytwin
holds of it: every city object with its type, hierarchy and attributes, and its
geometry per LoD as a ``MultiSurface`` with semantic surfaces. CityGML's thematic
surfaces (``bldg:RoofSurface`` …) are objects in CityGML but semantics in CityJSON: their
polygons go to the nearest object above them that is not a surface, with their class.
What CityJSON cannot hold this way is listed in the result's warnings: solids become
multi-surfaces, and textures, materials and types without a CityJSON equivalent are named.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.errors import CityTwinError
from citytwin.io.cityjson_write import build_document, write_cityjson, write_cityjsonseq
from citytwin.model.cityobjects import SURFACE_TYPES
from citytwin.model.semantics import SURFACE_CLASS_BY_NAME, SurfaceClass, lod_name

__all__ = ["ConversionResult", "CITYJSON_TYPES", "model_document", "write_model_cityjson"]

#: CityJSON 2.0 city object types
CITYJSON_TYPES = frozenset(
    """Bridge BridgePart BridgeInstallation BridgeConstructiveElement BridgeRoom BridgeFurniture Building
    BuildingPart BuildingInstallation BuildingConstructiveElement BuildingFurniture BuildingStorey BuildingRoom
    BuildingUnit CityFurniture CityObjectGroup GenericCityObject LandUse OtherConstruction PlantCover
    SolitaryVegetationObject TINRelief WaterBody Road Railway Waterway TransportSquare Tunnel TunnelPart
    TunnelInstallation TunnelConstructiveElement TunnelHollowSpace TunnelFurniture""".split()
)
#: other names of types (CityGML 2.0, older CityJSON) → CityJSON 2.0
TYPE_ALIASES = {"TransportationSquare": "TransportSquare", "Track": "Road", "Square": "TransportSquare",
                "GenericOccupiedSpace": "GenericCityObject",
                "GenericUnoccupiedSpace": "GenericCityObject", "GenericLogicalSpace": "GenericCityObject"}  # fmt: skip
#: class → CityJSON semantic surface type
SEMANTIC_NAME = {
    int(c): name
    for name, c in SURFACE_CLASS_BY_NAME.items()
    if name not in ("TransportationMarking", "TransportationHole")
}
#: semantic surface types each kind of object may have (others are left unclassified)
_BUILDING_SURFACES = {
    "RoofSurface", "GroundSurface", "WallSurface", "ClosureSurface", "OuterCeilingSurface", "OuterFloorSurface",
    "Window", "Door", "InteriorWallSurface", "CeilingSurface", "FloorSurface",
}  # fmt: skip
_TRANSPORT_SURFACES = {"TrafficArea", "AuxiliaryTrafficArea", "TransportationMarking", "TransportationHole"}
_WATER_SURFACES = {"WaterSurface", "WaterGroundSurface", "WaterClosureSurface"}
#: containers CityJSON has no object for: left out, their children become top-level objects
DROPPED_TYPES = frozenset({"ReliefFeature"})
#: geometry type by city object type, where CityJSON wants one (others: MultiSurface)
SURFACE_GEOMETRY = {"TINRelief": "CompositeSurface"}


@dataclass
class ConversionResult:
    """What :func:`write_model_cityjson` wrote: the path, counts and one sentence per kind of loss."""

    path: Path
    objects: int
    vertices: int
    warnings: list[str] = field(default_factory=list)


def _cityjson_type(t: str, lost: Counter) -> str:
    local = t.rsplit(":", 1)[-1]
    local = TYPE_ALIASES.get(local, local)
    if local in CITYJSON_TYPES or local.startswith("+"):
        return local
    lost[f"objects of type {local} became GenericCityObject (their type is kept as attribute 'cityGMLType')"] += 1
    return "GenericCityObject"


def _allowed_semantics(kind: str) -> set[str]:
    if kind.startswith(("Building", "Bridge", "Tunnel")) or kind == "OtherConstruction":
        return _BUILDING_SURFACES
    if kind in ("Road", "Railway", "Waterway", "TransportSquare"):
        return _TRANSPORT_SURFACES | {"TrafficArea", "AuxiliaryTrafficArea"}
    if kind == "WaterBody":
        return _WATER_SURFACES
    return set()


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def model_document(model: Any, scenario: Any = None) -> tuple[dict[str, Any], list[str]]:
    """The CityJSON 2.0 document of a model (with ``scenario`` applied) and the warnings.

    Raises
    ------
    CityTwinError
        When the scenario adds an object under an id the model has.
    """
    from citytwin.model.scenario import deleted_with_children, object_changes, object_frame, transform_points

    objects, mesh = model.objects, model.mesh
    n = len(objects)
    lost: Counter = Counter()
    parents = np.asarray(objects.parents)
    types = [t.rsplit(":", 1)[-1] for t in objects.types]
    is_surface = np.array([t in SURFACE_TYPES for t in types], bool)
    # each object's owner: itself, or (a thematic surface) the nearest ancestor that is not one
    owner = np.arange(n)
    for _ in range(8):
        up = is_surface[owner] & (parents[owner] >= 0)
        if not up.any():
            break
        owner[up] = parents[owner[up]]
    n_surfaces = int((is_surface & (owner != np.arange(n))).sum())
    if n_surfaces:
        lost[f"{n_surfaces} thematic surface objects became semantic surfaces of their building"] = 1

    changes = object_changes(scenario) if scenario is not None else {}
    ids = list(objects.ids)
    if scenario is not None:
        children: dict[str, list[str]] = defaultdict(list)
        for i in range(n):
            if parents[i] >= 0:
                children[ids[i]].append(ids[parents[i]])
        gone = deleted_with_children(scenario, children)
    else:
        gone = frozenset()
    index = {oid: i for i, oid in enumerate(ids)}
    for oid, c in changes.items():
        if c.added is not None and not c.deleted and oid in index:
            raise CityTwinError(f"The scenario adds an object {oid!r}, but the model already has one with that id.")

    # polygons by owner and LoD
    verts = np.asarray(mesh.vertices, np.float64).reshape(-1, 3).copy()
    ro, pr = np.asarray(mesh.ring_offsets), np.asarray(mesh.polygon_rings)
    poly_owner = owner[np.asarray(mesh.poly_object)] if n else np.zeros(0, np.int64)
    poly_sem = np.asarray(mesh.poly_semantic)
    poly_lod = np.asarray(mesh.poly_lod)
    # transforms move every vertex of the object's polygons (vertices are per polygon, never shared)
    roots = np.asarray(objects.roots)
    for oid, c in changes.items():
        if c.transform is None or oid not in index:
            continue
        k = index[oid]
        sel = (
            np.flatnonzero(roots[np.asarray(mesh.poly_object)] == roots[k])
            if roots[k] == k
            else np.flatnonzero(poly_owner == k)
        )
        if not len(sel):
            continue
        vidx = np.unique(np.concatenate([np.arange(ro[pr[p]], ro[pr[p + 1]]) for p in sel]))
        pts = verts[vidx]
        centre, base = object_frame(pts)
        verts[vidx] = transform_points(c.transform, pts, centre=centre, base=base)
    if getattr(mesh, "textures", None) or getattr(mesh, "appearances", None):
        lost["textures and materials are not converted"] = 1

    geoms: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for p in range(len(poly_owner)):
        geoms[int(poly_owner[p])][int(poly_lod[p])].append(p)

    cityobjects: dict[str, Any] = {}
    out_vertices: list[np.ndarray] = []
    n_out = 0
    for i in range(n):
        oid = ids[i]
        if oid in gone or (is_surface[i] and owner[i] != i):
            continue
        if types[i] in DROPPED_TYPES and not geoms.get(i):
            lost[f"{types[i]} containers were left out (their parts are top-level objects)"] += 1
            continue
        kind = _cityjson_type(objects.types[i], lost)
        co: dict[str, Any] = {"type": kind}
        base_attrs = dict(objects.attributes[i])
        c = changes.get(oid)
        attrs = c.attributes(base_attrs) if c is not None else base_attrs
        if kind == "GenericCityObject" and types[i] not in ("GenericCityObject",):
            attrs.setdefault("cityGMLType", types[i])
        if attrs:
            co["attributes"] = _json_safe(attrs)
        allowed = _allowed_semantics(kind)
        geometry = []
        for lod, polys in sorted(geoms.get(i, {}).items()):
            boundaries, values, sem_types = [], [], []
            for p in polys:
                rings = []
                for r in range(pr[p], pr[p + 1]):
                    a, b = int(ro[r]), int(ro[r + 1])
                    rings.append(list(range(n_out + a, n_out + b)))
                boundaries.append(rings)
                name = SEMANTIC_NAME.get(int(poly_sem[p]))
                if name == "Marking":
                    name = "TransportationMarking"
                if name is not None and name not in allowed and int(poly_sem[p]) != int(SurfaceClass.NONE):
                    name = None
                if name is None:
                    values.append(None)
                else:
                    if name not in sem_types:
                        sem_types.append(name)
                    values.append(sem_types.index(name))
            gtype = SURFACE_GEOMETRY.get(kind, "MultiSurface")
            g: dict[str, Any] = {"type": gtype, "lod": lod_name(lod), "boundaries": boundaries}
            if sem_types:
                g["semantics"] = {"surfaces": [{"type": t} for t in sem_types], "values": values}
            geometry.append(g)
        if geometry:
            co["geometry"] = geometry
        cityobjects[oid] = co
    # vertices: only those the written polygons use (rings index them through n_out + local offset)
    used = np.zeros(len(verts), bool)
    for i, by_lod in geoms.items():
        if ids[i] in cityobjects:
            for polys in by_lod.values():
                for p in polys:
                    used[ro[pr[p]] : ro[pr[p + 1]]] = True
    # renumber: old vertex index → compact index
    new_index = np.cumsum(used) - 1
    for co in cityobjects.values():
        for g in co.get("geometry", []):
            g["boundaries"] = [[[int(new_index[v]) for v in ring] for ring in poly] for poly in g["boundaries"]]
    out_vertices.append(verts[used])
    offset = int(used.sum())
    # parents and children among the objects written
    for i in range(n):
        oid = ids[i]
        if oid not in cityobjects or parents[i] < 0:
            continue
        parent = ids[owner[parents[i]]] if is_surface[parents[i]] else ids[parents[i]]
        if parent in cityobjects and parent != oid:
            cityobjects[oid]["parents"] = [parent]
            cityobjects[parent].setdefault("children", []).append(oid)
    # added objects
    for oid, c in changes.items():
        if c.added is None or c.deleted:
            continue
        co = dict(c.added.cityobject)
        v = c.added.vertex_array()

        def shift(b: Any, k: int = offset) -> Any:
            return [shift(x, k) for x in b] if isinstance(b, list) else int(b) + k

        co["geometry"] = [{**g, "boundaries": shift(g.get("boundaries", []))} for g in co.get("geometry", [])]
        if c.set_values or c.removed:
            co["attributes"] = c.attributes(co.get("attributes"))
        cityobjects[oid] = _json_safe(co)
        out_vertices.append(v)
        offset += len(v)
    vertices = np.concatenate(out_vertices) if out_vertices else np.zeros((0, 3))
    epsg = getattr(getattr(model, "crs", None), "epsg", None)
    doc = build_document(vertices, cityobjects, epsg=epsg)
    warnings = [f"{k} ({v})." if v > 1 else f"{k[0].upper()}{k[1:]}." for k, v in sorted(lost.items())]
    return doc, warnings


def write_model_cityjson(
    model: Any,
    scenario: Any,
    path: str | os.PathLike,
    seq: bool = False,
    *,
    allow_overwrite_source: bool = False,
) -> ConversionResult:
    """Convert a model (with a scenario applied) to CityJSON 2.0 or CityJSONSeq, atomically.

    Raises
    ------
    CityTwinError
        With one sentence: the source would be overwritten, the write failed (the target is
        then as it was).
    """
    path = Path(path)
    src = getattr(model, "source", None)
    if src is not None and not allow_overwrite_source:
        try:
            if path.exists() and path.resolve() == Path(src).resolve():
                raise CityTwinError(f"Writing to {path.name} would overwrite the file the model was read from.")
        except OSError:
            pass
    doc, warnings = model_document(model, scenario)
    try:
        if seq:
            header = {k: v for k, v in doc.items() if k not in ("CityObjects", "vertices")}
            header["CityObjects"], header["vertices"] = {}, []
            write_cityjsonseq(path, header, _features(doc))
        else:
            write_cityjson(path, doc)
    except OSError as exc:
        raise CityTwinError(f"The CityJSON file could not be written to {path} ({exc.strerror or exc}).") from None
    return ConversionResult(path, len(doc["CityObjects"]), len(doc["vertices"]), warnings)


def _features(doc: dict[str, Any]):
    """CityJSONFeatures of a document: one per top-level object with its descendants, vertices re-indexed."""
    cos = doc["CityObjects"]
    verts = doc["vertices"]
    for oid, co in cos.items():
        if co.get("parents"):
            continue
        members, stack = {}, [oid]
        while stack:
            k = stack.pop()
            members[k] = cos[k]
            stack.extend(cos[k].get("children", []))
        lut: dict[int, int] = {}
        out_v: list = []
        feature_objects = {}
        for k, co2 in members.items():
            c = dict(co2)
            if "geometry" in c:
                c["geometry"] = [{**g, "boundaries": _remap(g["boundaries"], lut, out_v, verts)} for g in c["geometry"]]
            feature_objects[k] = c
        yield {"type": "CityJSONFeature", "id": oid, "CityObjects": feature_objects, "vertices": out_v}


def _remap(b: Any, lut: dict[int, int], out_v: list, verts: list) -> Any:
    """Boundaries re-indexed into a feature's own vertex list (``lut``: document index → feature index)."""
    if isinstance(b, list):
        return [_remap(x, lut, out_v, verts) for x in b]
    if b not in lut:
        lut[b] = len(out_v)
        out_v.append(verts[b])
    return lut[b]
