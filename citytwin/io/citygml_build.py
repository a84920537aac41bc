"""City objects → CityGML 1.0, 2.0 or 3.0 text: what a writer serialises rather than copies.

Two kinds of objects go through here: those a scenario adds (CityJSON JSON
with its own vertices, :func:`nodes_from_cityjson`) and, when a model is
converted to another CityGML version, every object of the model
(:func:`nodes_from_model`). Both become :class:`Node` trees, polygons grouped
by LoD with a semantic class each, which :class:`Serialiser` writes:

- the type's element in the target version (``bldg:Building``,
  ``con:RoofSurface`` …); a type the version has no element for becomes a
  generic city object (``gen:GenericCityObject``, ``gen:GenericOccupiedSpace``),
  with a warning;
- attributes: ``name``/``description`` as ``gml:name``/``gml:description``, the
  building properties the version has (``measuredHeight``, ``function`` …) as
  themselves, everything else as typed generic attributes under the same name
  (so reading the file back gives the same attribute names and values);
- geometry per LoD: a ``lodNSolid`` where the source had a solid (or, without
  that knowledge, where the polygons close), otherwise a ``lodNMultiSurface``;
  polygons with a semantic class the parent cannot own as a child object
  (a CityJSON ``RoofSurface``) become boundary surfaces (``bldg:boundedBy`` /
  ``core:boundary``) whose polygons the solid refers to by ``xlink:href``;
- materials as ``X3DMaterial`` appearance members (textures are not written).

Every gml:id the source had is kept; new ones are made from the object's id.
Whatever cannot be carried is counted and reported as one sentence per kind
(:attr:`Serialiser.warnings`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from citytwin.io.citygml_patch import citygml_ns, format_numbers, format_value, gml_ns
from citytwin.model.semantics import SURFACE_CLASS_BY_NAME, SurfaceClass

__all__ = ["Node", "Poly", "Serialiser", "namespaces", "nodes_from_cityjson"]

XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_MODULES = {
    "bldg": "building", "con": "construction", "gen": "generics", "app": "appearance", "dem": "relief",
    "tran": "transportation", "wtr": "waterbody", "veg": "vegetation", "luse": "landuse", "frn": "cityfurniture",
    "grp": "cityobjectgroup", "brid": "bridge", "tun": "tunnel",
}  # fmt: skip
_NOT_IN = {"1.0": {"con", "brid", "tun"}, "2.0": {"con"}, "3.0": set()}


def namespaces(version: str) -> dict[str, str]:
    """Prefix → namespace of everything a written document of ``version`` may use."""
    out = {"core": citygml_ns(version, None)}
    for prefix, module in _MODULES.items():
        if prefix not in _NOT_IN[version]:
            out[prefix] = citygml_ns(version, module)
    out["gml"] = gml_ns(version)
    out["xlink"] = XLINK
    out["xAL"] = "urn:oasis:names:tc:ciq:xal:3" if version == "3.0" else "urn:oasis:names:tc:ciq:xsdschema:xAL:2.0"
    out["xsi"] = XSI
    return out


# -------------------------------------------------------------------- nodes
@dataclass
class Poly:
    """One polygon: rings (exterior first, ``(n, 3)``, not closed), its gml:id and semantic class."""

    rings: list[np.ndarray]
    id: str | None = None
    sem: int = 0
    triangles: np.ndarray | None = None


@dataclass
class Node:
    """A city object to serialise.

    Attributes
    ----------
    id, type
        Its id and type (a CityGML local name or a CityJSON type).
    attributes
        As the model names them.
    polys
        Its own polygons by integer LoD (0–4).
    solid
        LoDs at which the source held a solid (``None``: not known, decided by closure).
    children
        Child objects (parts, boundary surfaces, openings, installations …).
    addresses
        xAL fields, one dict per address.
    groups
        For a group, the ids of its members.
    """

    id: str
    type: str
    attributes: dict[str, Any] = field(default_factory=dict)
    polys: dict[int, list[Poly]] = field(default_factory=dict)
    solid: set[int] | None = None
    children: list[Node] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    #: geometries whose LoD has a refinement (CityJSON "2.2") that CityGML's integer LoDs cannot hold
    refined_lods: int = 0


_NCNAME = re.compile(r"^[A-Za-z_\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*$")
_NOT_NAME = re.compile(r"[^\w.\-\u00b7\u00c0-\uffff]")
_BOUNDARY_DEPTH = {"MultiSurface": 2, "CompositeSurface": 2, "Solid": 3, "MultiSolid": 4, "CompositeSolid": 4}


def nodes_from_cityjson(oid: str, cityobject: Mapping[str, Any], vertices: np.ndarray) -> tuple[Node, list[str]]:
    """A :class:`Node` from a CityJSON city object whose boundaries index ``vertices``; and what was skipped."""
    skipped: list[str] = []
    node = Node(oid, str(cityobject.get("type", "GenericCityObject")).lstrip("+"))
    attrs = cityobject.get("attributes")
    if isinstance(attrs, Mapping):
        node.attributes = dict(attrs)
    address = cityobject.get("address")
    if isinstance(address, Mapping):
        address = [address]
    if isinstance(address, list):
        node.addresses = [dict(a) for a in address if isinstance(a, Mapping)]
    node.solid = set()
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    for g in cityobject.get("geometry", []) or []:
        gtype = g.get("type")
        depth = _BOUNDARY_DEPTH.get(gtype)
        if depth is None:
            skipped.append(f"a {gtype} geometry")
            continue
        try:
            value = float(g.get("lod", 1))
        except (TypeError, ValueError):
            value = 1.0
        lod = int(value)
        node.refined_lods += value != lod
        lod = min(max(lod, 0), 4)
        sem = g.get("semantics") or {}
        surfaces = sem.get("surfaces") or []
        codes = [int(SURFACE_CLASS_BY_NAME.get(str(s.get("type")), 0)) for s in surfaces]
        polys = node.polys.setdefault(lod, [])
        for rings, value in _surfaces(g.get("boundaries", []), sem.get("values"), depth):
            arrays = [v[np.asarray(r, dtype=np.int64)] for r in rings if len(r) >= 3]
            if arrays:
                code = codes[value] if isinstance(value, int) and 0 <= value < len(codes) else 0
                polys.append(Poly(arrays, None, code))
        if gtype in ("Solid", "MultiSolid", "CompositeSolid"):
            node.solid.add(lod)
    return node, skipped


def _surfaces(b: Any, values: Any, depth: int) -> Iterable[tuple[list, Any]]:
    """``(rings, semantic value)`` of every surface of CityJSON ``boundaries`` (``depth`` levels above the rings)."""
    if depth == 2:
        for k, surface in enumerate(b if isinstance(b, list) else []):
            value = values[k] if isinstance(values, list) and k < len(values) else None
            yield surface, value
        return
    for k, sub in enumerate(b if isinstance(b, list) else []):
        if depth == 3 and k > 0:
            break  # a solid's interior shells are not written
        sv = values[k] if isinstance(values, list) and k < len(values) else None
        yield from _surfaces(sub, sv, depth - 1)


# -------------------------------------------------------------- type table
_BUILDING_SURFACES = ("RoofSurface", "WallSurface", "GroundSurface", "ClosureSurface", "FloorSurface",
                      "OuterCeilingSurface", "OuterFloorSurface", "InteriorWallSurface", "CeilingSurface")  # fmt: skip
_OPENINGS = {"Window": "WindowSurface", "Door": "DoorSurface", "WindowSurface": "WindowSurface",
             "DoorSurface": "DoorSurface"}  # fmt: skip
_WATER_SURFACES = ("WaterSurface", "WaterGroundSurface", "WaterClosureSurface")
_TRANSPORT = ("Road", "Railway", "Track", "Square", "TransportationComplex", "Waterway")
_SEMANTIC_ELEMENT = {
    SurfaceClass.ROOF: "RoofSurface", SurfaceClass.WALL: "WallSurface", SurfaceClass.GROUND: "GroundSurface",
    SurfaceClass.CLOSURE: "ClosureSurface", SurfaceClass.FLOOR: "FloorSurface",
    SurfaceClass.OUTER_CEILING: "OuterCeilingSurface", SurfaceClass.OUTER_FLOOR: "OuterFloorSurface",
    SurfaceClass.INTERIOR_WALL: "InteriorWallSurface", SurfaceClass.CEILING: "CeilingSurface",
    SurfaceClass.WINDOW: "Window", SurfaceClass.DOOR: "Door", SurfaceClass.WATER_SURFACE: "WaterSurface",
    SurfaceClass.WATER_GROUND: "WaterGroundSurface", SurfaceClass.WATER_CLOSURE: "WaterClosureSurface",
    SurfaceClass.TRAFFIC_AREA: "TrafficArea", SurfaceClass.AUXILIARY_TRAFFIC_AREA: "AuxiliaryTrafficArea",
}  # fmt: skip
#: Semantic class the reader gives the polygons of an object of a type by itself (not carried by a child).
_TYPE_SEMANTIC = {
    **{name: int(c) for name, c in SURFACE_CLASS_BY_NAME.items()},
    "WindowSurface": int(SurfaceClass.WINDOW), "DoorSurface": int(SurfaceClass.DOOR),
    "ReliefFeature": int(SurfaceClass.TERRAIN), "TINRelief": int(SurfaceClass.TERRAIN),
    "SolitaryVegetationObject": int(SurfaceClass.VEGETATION), "PlantCover": int(SurfaceClass.VEGETATION),
    "WaterBody": int(SurfaceClass.WATER_SURFACE), **{t: int(SurfaceClass.TRAFFIC_AREA) for t in _TRANSPORT},
    "Section": int(SurfaceClass.TRAFFIC_AREA), "Intersection": int(SurfaceClass.TRAFFIC_AREA),
    "TrafficSpace": int(SurfaceClass.TRAFFIC_AREA), "AuxiliaryTrafficSpace": int(SurfaceClass.AUXILIARY_TRAFFIC_AREA),
}  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """How one type is written in one version.

    Attributes
    ----------
    prefix, element
        The element (``bldg``, ``Building``).
    order
        Its own properties in schema order, as ``prefix:name``.
    geometry
        LoD → ``(solid property, surface property)``; a property is ``None`` where the
        version has none, and the two are equal for ``lodNGeometry`` (any geometry).
    children
        Child role → property (``"surface"`` → ``bldg:boundedBy``).
    attributes
        Attribute name → property, for the attributes written as CityGML properties.
    family
        ``"space"`` (a feature with volume-like geometry), ``"surface"`` (a thematic
        surface, polygons only), ``"relief"``, ``"tin"`` or ``"group"``.
    """

    prefix: str
    element: str
    order: tuple[str, ...]
    geometry: Mapping[int, tuple[str | None, str | None]]
    children: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)
    family: str = "space"


def _lods(lods: Iterable[int], solid: str | None, surface: str | None, p: str = "core") -> dict:
    return {
        lod: ((f"{p}:{solid.format(lod)}" if solid else None), (f"{p}:{surface.format(lod)}" if surface else None))
        for lod in lods
    }


def _kind_2(typ: str, version: str) -> Kind | None:
    v1 = version == "1.0"
    if typ in ("Building", "BuildingPart"):
        attrs = ("class", "function", "usage", "yearOfConstruction", "yearOfDemolition", "roofType",
                 "measuredHeight", "storeysAboveGround", "storeysBelowGround", "storeyHeightsAboveGround",
                 "storeyHeightsBelowGround")  # fmt: skip
        geo: dict = {} if v1 else {0: (None, "bldg:lod0FootPrint")}
        geo.update(_lods((1, 2, 3, 4), "lod{}Solid", "lod{}MultiSurface", "bldg"))
        order = [f"bldg:{a}" for a in attrs] + ([] if v1 else ["bldg:lod0FootPrint"])
        order += ["bldg:lod1Solid", "bldg:lod1MultiSurface", "bldg:lod2Solid", "bldg:lod2MultiSurface",
                  "bldg:outerBuildingInstallation", "bldg:boundedBy", "bldg:lod3Solid", "bldg:lod3MultiSurface",
                  "bldg:lod4Solid", "bldg:lod4MultiSurface", "bldg:consistsOfBuildingPart", "bldg:address"]  # fmt: skip
        children = {"surface": "bldg:boundedBy", "part": "bldg:consistsOfBuildingPart",
                    "installation": "bldg:outerBuildingInstallation"}  # fmt: skip
        return Kind("bldg", typ, tuple(order), geo, children, {a: f"bldg:{a}" for a in attrs})
    if typ in ("Bridge", "BridgePart", "Tunnel", "TunnelPart") and not v1:
        p = "brid" if typ.startswith("Bridge") else "tun"
        word = "Bridge" if p == "brid" else "Tunnel"
        order = ("lod1Solid", "lod1MultiSurface", "lod2Solid", "lod2MultiSurface", f"outer{word}Installation",
                 "boundedBy", "lod3Solid", "lod3MultiSurface", "lod4Solid", "lod4MultiSurface",
                 f"consistsOf{word}Part")  # fmt: skip
        children = {"surface": f"{p}:boundedBy", "part": f"{p}:consistsOf{word}Part",
                    "installation": f"{p}:outer{word}Installation"}  # fmt: skip
        return Kind(p, typ, tuple(f"{p}:{o}" for o in order), _lods((1, 2, 3, 4), "lod{}Solid", "lod{}MultiSurface",
                                                                      p), children)  # fmt: skip
    if typ in ("BuildingInstallation", "BridgeInstallation", "TunnelInstallation"):
        p = {"Building": "bldg", "Bridge": "brid", "Tunnel": "tun"}[typ[: -len("Installation")]]
        if v1 and p != "bldg":
            return None
        order = tuple(f"{p}:lod{n}Geometry" for n in (2, 3, 4)) + (f"{p}:boundedBy",)
        return Kind(p, typ, order, _lods((2, 3, 4), "lod{}Geometry", "lod{}Geometry", p), {"surface": f"{p}:boundedBy"})
    if typ in _BUILDING_SURFACES:
        if v1 and typ.startswith("Outer"):
            return None
        order = ("bldg:lod2MultiSurface", "bldg:lod3MultiSurface", "bldg:lod4MultiSurface", "bldg:opening")
        return Kind("bldg", typ, order, _lods((2, 3, 4), None, "lod{}MultiSurface", "bldg"),
                    {"opening": "bldg:opening"}, family="surface")  # fmt: skip
    if typ in _OPENINGS:
        el = "Window" if "Window" in typ else "Door"
        return Kind("bldg", el, ("bldg:lod3MultiSurface", "bldg:lod4MultiSurface"),
                    _lods((3, 4), None, "lod{}MultiSurface", "bldg"), family="surface")  # fmt: skip
    if typ == "ReliefFeature":
        return Kind("dem", typ, ("dem:lod", "dem:reliefComponent"), {}, {"relief": "dem:reliefComponent"},
                    {"lod": "dem:lod"}, family="relief")  # fmt: skip
    if typ == "TINRelief":
        return Kind("dem", typ, ("dem:lod", "dem:tin"), {}, attributes={"lod": "dem:lod"}, family="tin")
    if typ in ("GenericCityObject", "CityFurniture", "SolitaryVegetationObject"):
        p = {"GenericCityObject": "gen", "CityFurniture": "frn", "SolitaryVegetationObject": "veg"}[typ]
        lods = (0, 1, 2, 3, 4) if p == "gen" else (1, 2, 3, 4)
        return Kind(
            p, typ, tuple(f"{p}:lod{n}Geometry" for n in lods), _lods(lods, "lod{}Geometry", "lod{}Geometry", p)
        )
    if typ == "LandUse":
        lods = (0, 1, 2, 3, 4)
        return Kind("luse", typ, tuple(f"luse:lod{n}MultiSurface" for n in lods),
                    _lods(lods, None, "lod{}MultiSurface", "luse"))  # fmt: skip
    if typ == "PlantCover":
        lods = (1, 2, 3, 4)
        return Kind("veg", typ, tuple(f"veg:lod{n}MultiSurface" for n in lods),
                    _lods(lods, None, "lod{}MultiSurface", "veg"))  # fmt: skip
    if typ in _TRANSPORT and typ != "Waterway":
        lods = (1, 2, 3, 4)
        order = ("tran:trafficArea", "tran:auxiliaryTrafficArea") + tuple(f"tran:lod{n}MultiSurface" for n in lods)
        return Kind("tran", typ, order, _lods(lods, None, "lod{}MultiSurface", "tran"),
                    {"traffic": "tran:trafficArea", "auxtraffic": "tran:auxiliaryTrafficArea"})  # fmt: skip
    if typ in ("TrafficArea", "AuxiliaryTrafficArea"):
        lods = (2, 3, 4)
        return Kind("tran", typ, tuple(f"tran:lod{n}MultiSurface" for n in lods),
                    _lods(lods, None, "lod{}MultiSurface", "tran"), family="surface")  # fmt: skip
    if typ == "WaterBody":
        geo = {1: ("wtr:lod1Solid", "wtr:lod1MultiSurface"), **_lods((2, 3, 4), "lod{}Solid", None, "wtr")}
        order = ("wtr:lod1MultiSurface", "wtr:lod1Solid", "wtr:lod2Solid", "wtr:lod3Solid", "wtr:lod4Solid",
                 "wtr:boundedBy")  # fmt: skip
        return Kind("wtr", typ, order, geo, {"water": "wtr:boundedBy"})
    if typ in _WATER_SURFACES:
        lods = (2, 3, 4)
        return Kind("wtr", typ, tuple(f"wtr:lod{n}Surface" for n in lods), _lods(lods, None, "lod{}Surface", "wtr"),
                    family="surface")  # fmt: skip
    if typ == "CityObjectGroup":
        return Kind("grp", typ, ("grp:groupMember",), {}, family="group")
    return None


_SPACE_3 = ("core:boundary", "core:lod0MultiSurface", "core:lod1Solid", "core:lod2Solid", "core:lod2MultiSurface",
            "core:lod3Solid", "core:lod3MultiSurface")  # fmt: skip
_SPACE_GEOMETRY_3 = {0: (None, "core:lod0MultiSurface"), 1: ("core:lod1Solid", "core:lod1Solid"),
                     2: ("core:lod2Solid", "core:lod2MultiSurface"),
                     3: ("core:lod3Solid", "core:lod3MultiSurface")}  # fmt: skip
_SURFACE_3 = ("core:lod0MultiSurface", "core:lod1MultiSurface", "core:lod2MultiSurface", "core:lod3MultiSurface")
_SURFACE_GEOMETRY_3 = {n: (None, f"core:lod{n}MultiSurface") for n in range(4)}
_CON_SURFACES_3 = {"RoofSurface", "WallSurface", "GroundSurface", "FloorSurface", "OuterCeilingSurface",
                   "OuterFloorSurface", "InteriorWallSurface", "CeilingSurface"}  # fmt: skip


def _kind_3(typ: str) -> Kind | None:
    if typ in ("Building", "BuildingPart"):
        attrs = ("class", "function", "usage", "roofType", "storeysAboveGround", "storeysBelowGround",
                 "storeyHeightsAboveGround", "storeyHeightsBelowGround")  # fmt: skip
        order = _SPACE_3 + ("con:dateOfConstruction", "con:dateOfDemolition", "con:height")
        order += tuple(f"bldg:{a}" for a in attrs) + ("bldg:buildingInstallation", "bldg:address")
        order += ("bldg:buildingPart",) if typ == "Building" else ()
        children = {"surface": "core:boundary", "installation": "bldg:buildingInstallation"}
        if typ == "Building":
            children["part"] = "bldg:buildingPart"
        attributes = {a: f"bldg:{a}" for a in attrs}
        attributes.update(yearOfConstruction="con:dateOfConstruction", yearOfDemolition="con:dateOfDemolition",
                          measuredHeight="con:height")  # fmt: skip
        return Kind("bldg", typ, order, _SPACE_GEOMETRY_3, children, attributes)
    if typ in ("Bridge", "BridgePart", "Tunnel", "TunnelPart"):
        p = "brid" if typ.startswith("Bridge") else "tun"
        word = "bridge" if p == "brid" else "tunnel"
        order = _SPACE_3 + (f"{p}:{word}Installation",) + ((f"{p}:{word}Part",) if not typ.endswith("Part") else ())
        children = {"surface": "core:boundary", "installation": f"{p}:{word}Installation"}
        if not typ.endswith("Part"):
            children["part"] = f"{p}:{word}Part"
        return Kind(p, typ, order, _SPACE_GEOMETRY_3, children)
    if typ in ("BuildingInstallation", "BridgeInstallation", "TunnelInstallation"):
        p = {"Building": "bldg", "Bridge": "brid", "Tunnel": "tun"}[typ[: -len("Installation")]]
        return Kind(p, typ, _SPACE_3, _SPACE_GEOMETRY_3, {"surface": "core:boundary"})
    if typ in _CON_SURFACES_3:
        return Kind("con", typ, _SURFACE_3 + ("con:fillingSurface",), _SURFACE_GEOMETRY_3,
                    {"opening": "con:fillingSurface"}, family="surface")  # fmt: skip
    if typ == "ClosureSurface":
        return Kind("core", typ, _SURFACE_3, _SURFACE_GEOMETRY_3, family="surface")
    if typ in _OPENINGS:
        return Kind("con", _OPENINGS[typ], _SURFACE_3, _SURFACE_GEOMETRY_3, family="surface")
    if typ == "ReliefFeature":
        return Kind("dem", typ, ("dem:lod", "dem:reliefComponent"), {}, {"relief": "dem:reliefComponent"},
                    {"lod": "dem:lod"}, family="relief")  # fmt: skip
    if typ == "TINRelief":
        return Kind("dem", typ, ("dem:lod", "dem:tin"), {}, attributes={"lod": "dem:lod"}, family="tin")
    simple_spaces = {"GenericCityObject": ("gen", "GenericOccupiedSpace"), "CityFurniture": ("frn", "CityFurniture"),
                     "SolitaryVegetationObject": ("veg", "SolitaryVegetationObject"),
                     "PlantCover": ("veg", "PlantCover"),
                     "GenericOccupiedSpace": ("gen", "GenericOccupiedSpace")}  # fmt: skip
    if typ in simple_spaces:
        p, el = simple_spaces[typ]
        return Kind(p, el, _SPACE_3, _SPACE_GEOMETRY_3)
    if typ in ("LandUse", "GenericThematicSurface"):
        p = "luse" if typ == "LandUse" else "gen"
        return Kind(p, typ, _SURFACE_3, _SURFACE_GEOMETRY_3, family="surface")
    if typ in _TRANSPORT:
        el = "Road" if typ in ("TransportationComplex", "Road") else typ
        return Kind(
            "tran", el, _SPACE_3, _SPACE_GEOMETRY_3, {"traffic": "core:boundary", "auxtraffic": "core:boundary"}
        )
    if typ in ("TrafficArea", "AuxiliaryTrafficArea"):
        return Kind("tran", typ, _SURFACE_3, _SURFACE_GEOMETRY_3, family="surface")
    if typ == "WaterBody":
        return Kind("wtr", typ, _SPACE_3, _SPACE_GEOMETRY_3, {"water": "core:boundary"})
    if typ in _WATER_SURFACES:
        return Kind("wtr", typ, _SURFACE_3, _SURFACE_GEOMETRY_3, family="surface")
    if typ == "CityObjectGroup":
        return Kind("grp", typ, ("grp:groupMember",), {}, family="group")
    return None


@cache
def kind_of(typ: str, version: str) -> Kind | None:
    """How ``typ`` is written in ``version`` (``None``: the version has no element for it)."""
    return _kind_3(typ) if version == "3.0" else _kind_2(typ, version)


def _role(typ: str) -> str | None:
    if typ in _BUILDING_SURFACES:
        return "surface"
    if typ in _OPENINGS:
        return "opening"
    if typ in ("BuildingPart", "BridgePart", "TunnelPart"):
        return "part"
    if typ.endswith("Installation"):
        return "installation"
    if typ == "TINRelief":
        return "relief"
    if typ == "TrafficArea":
        return "traffic"
    if typ == "AuxiliaryTrafficArea":
        return "auxtraffic"
    if typ in _WATER_SURFACES:
        return "water"
    return None


# ------------------------------------------------------------- serialiser
_WARNINGS = {
    "generic type": "{n} objects of a type CityGML {v} has no element for were written as generic city objects "
    "(types: {what}).",
    "lost lod": "{n} geometries at a LoD their type cannot have in CityGML {v} were left out.",
    "lod4": "{n} LoD 4 geometries were written as LoD 3, the highest CityGML 3.0 has.",
    "lod1 solid": "{n} LoD 1 surfaces that do not close were written as solids, the only LoD 1 geometry of a "
    "CityGML 3.0 space.",
    "semantics": "{n} polygons lost their semantic class (a surface of that kind cannot belong to their object "
    "in CityGML {v}).",
    "not closed": "{n} surfaces that do not close were written as solids, the only geometry of their LoD "
    "in CityGML {v}.",
    "orphan": "{n} child objects that cannot be nested under their parent in CityGML {v} were written as "
    "objects of their own.",
    "ade": "{n} attributes of Application Domain Extensions were written as generic attributes.",
    "null": "{n} attributes without a value were left out (CityGML has no null).",
    "renamed": "Building heights and years were written as CityGML 3.0 con:height and con:dateOfConstruction "
    "(read back as 'height/value' and 'dateOfConstruction').",
    "lod refinement": "{n} geometries at a refined LoD (such as 2.2) were written at its whole LoD (2), the "
    "finest CityGML has.",
    "ids": "{n} ids that are not XML names (a gml:id must start with a letter) were written with 'ID_' before them.",
    "textures": "Textures of {n} appearance themes were not written (only materials are converted).",
    "addresses": "{n} addresses were not written: their object cannot have one, or they hold no field citytwin "
    "converts (country, town, street, number, post code, address lines).",
    "address parts": "{n} addresses lost parts on the way between xAL versions (only country, town, street, "
    "number, post code and address lines are converted).",
    "other relief": "{n} relief components other than TINs were left out.",
    "skipped geometry": "{n} CityJSON geometries of a type CityGML cannot hold here were left out ({what}).",
}


class Serialiser:
    """Writes :class:`Node` trees as CityGML members of one version.

    Parameters
    ----------
    version
        ``"1.0"``, ``"2.0"`` or ``"3.0"``.
    used_ids
        gml:ids the document already has (new ones avoid them).
    """

    def __init__(self, version: str, used_ids: set[str] | None = None) -> None:
        self.version = version
        self.counts: Counter[str] = Counter()
        self.details: dict[str, set[str]] = {}
        self.used = used_ids if used_ids is not None else set()
        #: ids that are not XML names → the gml:id written for them
        self.renamed: dict[str, str] = {}
        self._next: dict[str, int] = {}

    # ------------------------------------------------------------ warnings
    def warn(self, kind: str, n: int = 1, what: str | None = None) -> None:
        """Count ``n`` problems of a kind (``what`` names an example)."""
        self.counts[kind] += n
        if what:
            self.details.setdefault(kind, set()).add(what)

    @property
    def warnings(self) -> list[str]:
        """One sentence per kind of problem."""
        out = []
        for kind, n in self.counts.items():
            what = ", ".join(sorted(self.details.get(kind, ())))
            out.append(_WARNINGS[kind].format(n=n, v=self.version, what=what))
        return out

    def xml_id(self, ident: str) -> str:
        """``ident`` as a gml:id: an XML name (``ID_`` before one that is not, other characters as ``_``)."""
        if _NCNAME.match(ident):
            return ident
        fixed = self.renamed.get(ident)
        if fixed is None:
            fixed = "ID_" + _NOT_NAME.sub("_", ident)
            self.renamed[ident] = fixed
            self.warn("ids")
        return fixed

    def new_id(self, base: str) -> str:
        """A gml:id from ``base`` that the document does not have yet."""
        if not _NCNAME.match(base):
            base = "ID_" + _NOT_NAME.sub("_", base)
        ident = base
        k = self._next.get(base, 1)
        while ident in self.used:
            k += 1
            ident = f"{base}_{k}"
        self._next[base] = k
        self.used.add(ident)
        return ident

    # -------------------------------------------------------------- members
    def member(self, node: Node) -> str:
        """``node`` as a ``cityObjectMember`` (namespace prefixes as :func:`namespaces`)."""
        out: list[str] = []
        extra: list[Node] = []
        self._node(node, out, extra)
        text = "<core:cityObjectMember>" + "".join(out) + "</core:cityObjectMember>"
        for orphan in extra:
            text += self.member(orphan)
        return text

    def _node(self, node: Node, out: list[str], extra: list[Node], module: str | None = None) -> None:
        kind = kind_of(node.type, self.version)
        if kind is not None and module is not None and kind.prefix == "bldg" and kind.family == "surface":
            kind = _in_module(kind, module)  # a bridge's or a tunnel's own boundary surfaces and openings
        if kind is None:
            self.warn("generic type", what=node.type)
            kind = kind_of("GenericCityObject", self.version)
            assert kind is not None
            attrs = dict(node.attributes)
        else:
            attrs = node.attributes
        ident = self.xml_id(node.id)
        ident = ident if ident not in self.used else self.new_id(ident)
        self.used.add(ident)
        parts: dict[str, list[str]] = {}
        head: list[str] = []
        generic: list[str] = []
        self._attributes(kind, attrs, head, generic, parts)
        children = list(node.children)
        children += self._semantic_children(node, kind)
        self._children(kind, children, parts, extra)
        if kind.family == "relief":
            parts.setdefault("dem:lod", [f"<dem:lod>{self._relief_lod(node)}</dem:lod>"])
        elif kind.family == "tin":
            self._tin(node, parts)
        elif kind.family == "group":
            for m in node.groups:
                if self.version == "3.0":
                    parts.setdefault("grp:groupMember", []).append(
                        "<grp:groupMember><grp:Role>"
                        f"<grp:groupMember xlink:href={quoteattr('#' + self.xml_id(m))}/></grp:Role>"
                        "</grp:groupMember>"
                    )
                else:
                    parts.setdefault("grp:groupMember", []).append(
                        f"<grp:groupMember xlink:href={quoteattr('#' + self.xml_id(m))}/>"
                    )
        else:
            self._geometry(node, kind, children, parts)
        if node.addresses:
            self._addresses(node, kind, parts)
        if node.refined_lods:
            self.warn("lod refinement", node.refined_lods)
        out.append(f"<{kind.prefix}:{kind.element} gml:id={quoteattr(ident)}>")
        out.extend(head)
        out.extend(generic)
        for prop in kind.order:
            out.extend(parts.pop(prop, ()))
        out.append(f"</{kind.prefix}:{kind.element}>")

    # ---------------------------------------------------------- attributes
    def _attributes(self, kind: Kind, attrs: Mapping[str, Any], head: list[str], generic: list[str],
                    parts: dict[str, list[str]]) -> None:  # fmt: skip
        desc = attrs.get("description")
        for v in desc if isinstance(desc, list) else ([desc] if desc is not None else []):
            head.append(f"<gml:description>{escape(format_value(v))}</gml:description>")
        name = attrs.get("name")
        for v in name if isinstance(name, list) else ([name] if name is not None else []):
            head.append(f"<gml:name>{escape(format_value(v))}</gml:name>")
        for core in ("creationDate", "terminationDate"):
            if isinstance(attrs.get(core), str):
                head.append(f"<core:{core}>{escape(self._date(attrs[core]))}</core:{core}>")
        renamed = False
        for key, value in attrs.items():
            if key in ("name", "description", "creationDate", "terminationDate"):
                continue
            if key.endswith("_uom") and key[:-4] in attrs:
                continue
            uom = attrs.get(f"{key}_uom")
            uom = uom if isinstance(uom, str) else None
            prop = kind.attributes.get(key)
            if value is None:
                self.warn("null")
                continue
            if prop is not None and self._standard(prop, key, value, uom, parts):
                renamed |= prop.startswith("con:")
                continue
            if ":" in key.split("/")[0]:
                self.warn("ade")
            for v in value if isinstance(value, list) and key not in kind.attributes else [value]:
                generic.append(self._generic(key, v, uom))
        if renamed:
            self.counts["renamed"] = 1

    def _date(self, text: str) -> str:
        """A date as the version's lifespan dates want it: ``xs:date`` (1.0, 2.0) or ``xs:dateTime`` (3.0)."""
        text = text.strip()
        if self.version == "3.0":
            return text + "T00:00:00" if re.fullmatch(r"-?\d{4,}-\d\d-\d\d(Z|[+-]\d\d:\d\d)?", text) else text
        m = re.fullmatch(r"(-?\d{4,}-\d\d-\d\d)T[\d:.]+(Z|[+-]\d\d:\d\d)?", text)
        return m.group(1) + (m.group(2) or "") if m else text

    def _standard(self, prop: str, key: str, value: Any, uom: str | None, parts: dict[str, list[str]]) -> bool:
        values = value if isinstance(value, list) and not key.startswith("storeyHeights") else [value]
        if prop == "con:height":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return False
            parts.setdefault(prop, []).append(
                "<con:height><con:Height><con:highReference>highestRoofEdge</con:highReference>"
                "<con:lowReference>lowestGroundPoint</con:lowReference><con:status>measured</con:status>"
                f"<con:value uom={quoteattr(uom or 'm')}>{format_value(float(value))}</con:value>"
                "</con:Height></con:height>"
            )
            return True
        if prop.startswith("con:date"):
            try:
                year = int(value)
            except (TypeError, ValueError):
                return False
            parts.setdefault(prop, []).append(f"<{prop}>{year:04d}-01-01</{prop}>")
            return True
        texts = []
        for v in values:
            if key in ("yearOfConstruction", "yearOfDemolition", "storeysAboveGround", "storeysBelowGround"):
                try:
                    v = int(v)
                except (TypeError, ValueError):
                    return False
            if key in ("measuredHeight",) and (not isinstance(v, (int, float)) or isinstance(v, bool)):
                return False
            texts.append(format_value(v))
        for t in texts:
            u = f" uom={quoteattr(uom or 'm')}" if key in ("measuredHeight", "storeyHeightsAboveGround",
                                                           "storeyHeightsBelowGround") else ""  # fmt: skip
            parts.setdefault(prop, []).append(f"<{prop}{u}>{escape(t)}</{prop}>")
        return True

    def _generic(self, key: str, value: Any, uom: str | None) -> str:
        v3 = self.version == "3.0"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "StringAttribute" if v3 else "stringAttribute"
        elif isinstance(value, float) and uom is not None and self.version != "1.0":
            kind = "MeasureAttribute" if v3 else "measureAttribute"
        elif isinstance(value, int):
            kind = "IntAttribute" if v3 else "intAttribute"
        else:
            kind = "DoubleAttribute" if v3 else "doubleAttribute"
        u = f" uom={quoteattr(uom)}" if uom is not None and kind.lower() == "measureattribute" else ""
        text = escape(format_value(value))
        if v3:
            return (f"<core:genericAttribute><gen:{kind}><gen:name>{escape(key)}</gen:name>"
                    f"<gen:value{u}>{text}</gen:value></gen:{kind}></core:genericAttribute>")  # fmt: skip
        out = f"<gen:{kind} name={quoteattr(key)}><gen:value{u}>{text}</gen:value></gen:{kind}>"
        if uom is not None and not u:
            out += f"<gen:stringAttribute name={quoteattr(key + '_uom')}><gen:value>{escape(uom)}</gen:value>" \
                   "</gen:stringAttribute>"  # fmt: skip
        return out

    # ------------------------------------------------------------ addresses
    def _addresses(self, node: Node, kind: Kind, parts: dict[str, list[str]]) -> None:
        """xAL addresses (country, town, street, number, post code or free-text lines) of a building."""
        prop = f"{kind.prefix}:address" if kind.prefix == "bldg" and kind.family == "space" else None
        for a in node.addresses:
            fields = {k: _address_field(a, keys) for k, keys in _ADDRESS_KEYS.items()}
            lines = a.get("AddressLine")
            lines = [str(v) for v in (lines if isinstance(lines, list) else [lines] if lines is not None else [])]
            known = {k for keys in _ADDRESS_KEYS.values() for k in keys} | {"AddressLine"}
            if prop is None or not (any(fields.values()) or lines):
                self.warn("addresses")
                continue
            if any(k not in known for k in a):
                self.warn("address parts")
            body = self._xal3(fields, lines) if self.version == "3.0" else self._xal2(fields, lines)
            parts.setdefault(prop, []).append(
                f"<{prop}><core:Address><core:xalAddress>{body}</core:xalAddress></core:Address></{prop}>"
            )

    def _xal2(self, f: dict[str, str | None], lines: list[str]) -> str:
        def el(tag: str, text: str | None) -> str:
            return f"<xAL:{tag}>{escape(text)}</xAL:{tag}>" if text else ""

        street = ""
        if f["street"] or f["number"]:
            street = f'<xAL:Thoroughfare Type="Street">{el("ThoroughfareNumber", f["number"])}'
            street += f"{el('ThoroughfareName', f['street'])}</xAL:Thoroughfare>"
        post = f"<xAL:PostalCode>{el('PostalCodeNumber', f['postcode'])}</xAL:PostalCode>" if f["postcode"] else ""
        locality = ""
        if f["locality"] or street or post:
            locality = f'<xAL:Locality Type="Town">{el("LocalityName", f["locality"])}{street}{post}</xAL:Locality>'
        if f["country"] or locality:
            if lines:
                self.warn("address parts")
            inner = (
                f"<xAL:Country>{el('CountryName', f['country'])}{locality}</xAL:Country>" if f["country"] else locality
            )
        else:
            inner = "<xAL:AddressLines>" + "".join(el("AddressLine", t) for t in lines) + "</xAL:AddressLines>"
        return f"<xAL:AddressDetails>{inner}</xAL:AddressDetails>"

    def _xal3(self, f: dict[str, str | None], lines: list[str]) -> str:
        def el(tag: str, text: str | None) -> str:
            return f"<xAL:{tag}>{escape(text)}</xAL:{tag}>" if text else ""

        out = ["<xAL:Address>"]
        if lines:
            out.append(
                "<xAL:FreeTextAddress>" + "".join(el("AddressLine", t) for t in lines) + "</xAL:FreeTextAddress>"
            )
        if f["country"]:
            out.append(f"<xAL:Country>{el('NameElement', f['country'])}</xAL:Country>")
        if f["locality"]:
            out.append(f'<xAL:Locality xAL:Type="Town">{el("NameElement", f["locality"])}</xAL:Locality>')
        if f["street"] or f["number"]:
            street = el("NameElement", f["street"]) + el("Number", f["number"])
            out.append(f'<xAL:Thoroughfare xAL:Type="Street">{street}</xAL:Thoroughfare>')
        if f["postcode"]:
            out.append(f"<xAL:PostCode>{el('Identifier', f['postcode'])}</xAL:PostCode>")
        out.append("</xAL:Address>")
        return "".join(out)

    # ------------------------------------------------------------ children
    def _semantic_children(self, node: Node, kind: Kind) -> list[Node]:
        """Boundary surfaces made of the node's own polygons whose semantic class its type does not imply."""
        own = _TYPE_SEMANTIC.get(node.type, 0)
        made: dict[str, Node] = {}
        counters: Counter[str] = Counter()
        openings: list[tuple[int, Poly]] = []
        for lod, polys in node.polys.items():
            keep = []
            for p in polys:
                element = _SEMANTIC_ELEMENT.get(SurfaceClass(p.sem)) if p.sem and p.sem != own else None
                role = _role(element) if element else None
                if element is None or role is None:
                    if p.sem and p.sem != own:
                        self.warn("semantics")
                    keep.append(p)
                    continue
                if role == "opening":
                    openings.append((lod, p))
                    continue
                if role not in kind.children or not self._surface_can(element, lod):
                    self.warn("semantics")
                    keep.append(p)
                    continue
                child = made.get(element)
                if child is None:
                    counters[element] += 1
                    child = made[element] = Node(f"{node.id}_{element}_{counters[element]}", element)
                child.polys.setdefault(lod, []).append(p)
            node.polys[lod] = keep
        for lod, p in openings:
            host = next((c for c in made.values() if c.type == "WallSurface" and lod in c.polys), None)
            element = _SEMANTIC_ELEMENT[SurfaceClass(p.sem)]
            if host is None or not self._surface_can(element, lod):
                self.warn("semantics")
                node.polys.setdefault(lod, []).append(p)
                continue
            child = next((c for c in host.children if c.type == element), None)
            if child is None:
                child = Node(f"{host.id}_{element}_1", element)
                host.children.append(child)
            child.polys.setdefault(lod, []).append(p)
        return list(made.values())

    def _surface_can(self, element: str, lod: int) -> bool:
        k = kind_of(element, self.version)
        return k is not None and (lod in k.geometry or (self.version == "3.0" and lod == 4))

    def _children(self, kind: Kind, children: list[Node], parts: dict[str, list[str]], extra: list[Node]) -> None:
        for child in children:
            role = _role(child.type)
            prop = kind.children.get(role) if role else None
            if prop is None:
                if kind.family == "relief" and child.type != "TINRelief":
                    self.warn("other relief")
                    continue
                self.warn("orphan")
                extra.append(child)
                continue
            inner: list[str] = []
            self._node(child, inner, extra, kind.prefix if kind.prefix in ("brid", "tun") else None)
            parts.setdefault(prop, []).append(f"<{prop}>{''.join(inner)}</{prop}>")

    # ------------------------------------------------------------ geometry
    def _poly_id(self, node: Node, p: Poly) -> str:
        if p.id is not None:
            p.id = self.xml_id(p.id)
        if p.id is None or p.id in self.used:
            p.id = self.new_id(f"{node.id}_poly")
        else:
            self.used.add(p.id)
        return p.id

    def _geometry(self, node: Node, kind: Kind, children: list[Node], parts: dict[str, list[str]]) -> None:
        surfaces = [c for c in children if _role(c.type) in ("surface", "water", "traffic", "auxtraffic")]
        lods = set(node.polys) | {lod for c in surfaces for lod in c.polys}
        for lod in sorted(lods):
            own = node.polys.get(lod, [])
            target = lod
            if lod not in kind.geometry and self.version == "3.0" and lod == 4 and 3 in kind.geometry:
                target = 3
                self.warn("lod4")
            if lod not in kind.geometry and target == lod:
                if own:
                    self.warn("lost lod")
                continue
            solid_prop, surface_prop = kind.geometry[target]
            if kind.family == "surface":
                if own:
                    self._add(parts, surface_prop, self._multi_surface(node, own))
                continue
            held = [p for c in surfaces if kind_of(c.type, self.version) is not None
                    and lod in c.polys and self._surface_can(c.type, lod) for p in c.polys[lod]]  # fmt: skip
            everything = own + held
            if not everything:
                continue
            is_solid = (lod in node.solid) if node.solid is not None else _closed(everything)
            any_geometry = solid_prop is not None and solid_prop == surface_prop and solid_prop.endswith("Geometry")
            if solid_prop is not None and (is_solid or surface_prop is None or surface_prop == solid_prop):
                if not is_solid and any_geometry:
                    self._add(parts, solid_prop, self._multi_surface(node, own))
                    continue
                if not is_solid:
                    self.warn("lod1 solid" if self.version == "3.0" and lod == 1 else "not closed")
                # the children have written their polygons (with ids): the solid refers to them
                self._add(parts, solid_prop, self._solid(node, own, held))
            elif own:
                self._add(parts, surface_prop, self._multi_surface(node, own))

    @staticmethod
    def _add(parts: dict[str, list[str]], prop: str | None, body: str) -> None:
        if prop is None or not body:
            return
        parts.setdefault(prop, []).append(f"<{prop}>{body}</{prop}>")

    def _polygon(self, node: Node, p: Poly) -> str:
        ident = self._poly_id(node, p)
        out = [f"<gml:Polygon gml:id={quoteattr(ident)}>"]
        for k, ring in enumerate(p.rings):
            tag = "exterior" if k == 0 else "interior"
            out.append(f"<gml:{tag}><gml:LinearRing><gml:posList srsDimension=\"3\">{_pos_list(ring)}</gml:posList>"
                       f"</gml:LinearRing></gml:{tag}>")  # fmt: skip
        out.append("</gml:Polygon>")
        return "".join(out)

    def _multi_surface(self, node: Node, polys: list[Poly]) -> str:
        if not polys:
            return ""
        members = "".join(f"<gml:surfaceMember>{self._polygon(node, p)}</gml:surfaceMember>" for p in polys)
        return f"<gml:MultiSurface>{members}</gml:MultiSurface>"

    def _solid(self, node: Node, own: list[Poly], held: list[Poly]) -> str:
        members = [f"<gml:surfaceMember>{self._polygon(node, p)}</gml:surfaceMember>" for p in own]
        members += [f"<gml:surfaceMember xlink:href={quoteattr('#' + str(p.id))}/>" for p in held]
        shell = "gml:Shell" if self.version == "3.0" else "gml:CompositeSurface"  # GML 3.2 solids are bounded by shells
        return f"<gml:Solid><gml:exterior><{shell}>" + "".join(members) + f"</{shell}></gml:exterior></gml:Solid>"

    def _relief_lod(self, node: Node) -> int:
        lods = [lod for c in node.children for lod in c.polys] + list(node.polys)
        value = node.attributes.get("lod")
        try:
            return int(float(value)) if value is not None else (max(lods) if lods else 2)
        except (TypeError, ValueError):
            return max(lods) if lods else 2

    def _tin(self, node: Node, parts: dict[str, list[str]]) -> None:
        triangles = []
        for polys in node.polys.values():
            for p in polys:
                tris = p.triangles if p.triangles is not None else _fan(p.rings[0])
                triangles.extend(tris)
        parts.setdefault("dem:lod", [f"<dem:lod>{self._relief_lod(node)}</dem:lod>"])
        if not triangles:
            return
        patches = "gml:patches" if self.version == "3.0" else "gml:trianglePatches"
        body = "".join(
            f'<gml:Triangle><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">{_pos_list(t)}'
            "</gml:posList></gml:LinearRing></gml:exterior></gml:Triangle>"
            for t in triangles
        )
        ident = self.new_id(f"{node.id}_tin")
        parts["dem:tin"] = [f"<dem:tin><gml:TriangulatedSurface gml:id={quoteattr(ident)}><{patches}>{body}"
                            f"</{patches}></gml:TriangulatedSurface></dem:tin>"]  # fmt: skip


#: Address fields and the names the reader gives them (xAL 2.0, xAL 3).
_ADDRESS_KEYS = {
    "country": ("CountryName", "Country/NameElement"),
    "locality": ("LocalityName", "Locality/NameElement"),
    "street": ("ThoroughfareName", "Thoroughfare/NameElement"),
    "number": ("ThoroughfareNumber", "Thoroughfare/Number"),
    "postcode": ("PostalCodeNumber", "PostCode/Identifier", "PostalCode/Identifier"),
}


def _address_field(address: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = address.get(k)
        if isinstance(v, list):
            v = " ".join(map(str, v))
        if v is not None and str(v).strip():
            return str(v)
    return None


def _in_module(kind: Kind, module: str) -> Kind:
    """A building boundary surface's kind moved to the bridge or tunnel module."""

    def move(name: str | None) -> str | None:
        return None if name is None else name.replace("bldg:", f"{module}:")

    return Kind(
        module, kind.element, tuple(move(o) or o for o in kind.order),
        {lod: (move(a), move(b)) for lod, (a, b) in kind.geometry.items()},
        {r: move(p) or p for r, p in kind.children.items()}, kind.attributes, kind.family,
    )  # fmt: skip


def _pos_list(ring: np.ndarray) -> str:
    pts = np.asarray(ring, dtype=np.float64).reshape(-1, 3)
    if len(pts):  # rings are kept open (a last point equal to the first is a point of its own): close it
        pts = np.vstack([pts, pts[:1]])
    return format_numbers(pts)


def _fan(ring: np.ndarray) -> list[np.ndarray]:
    r = np.asarray(ring, dtype=np.float64).reshape(-1, 3)
    return [np.stack([r[0], r[k], r[k + 1]]) for k in range(1, len(r) - 1)]


def _closed(polys: list[Poly], tol: float = 1e-6) -> bool:
    """Whether the polygons' exterior rings close a volume: every edge used by exactly two of them."""
    rings = [np.asarray(p.rings[0], dtype=np.float64) for p in polys if p.rings and len(p.rings[0]) >= 3]
    if len(rings) < 4:
        return False
    pts = np.concatenate(rings)
    key = np.round(pts / tol).astype(np.int64)
    _, vid = np.unique(key, axis=0, return_inverse=True)
    vid = vid.ravel()
    starts = np.cumsum([0] + [len(r) for r in rings[:-1]])
    lengths = np.array([len(r) for r in rings])
    a = vid
    nxt = np.arange(len(vid)) + 1
    ends = starts + lengths - 1
    nxt[ends] = starts
    b = vid[nxt]
    keep = a != b
    edges = np.sort(np.stack([a[keep], b[keep]], axis=1), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return bool(len(counts)) and bool((counts == 2).all())
