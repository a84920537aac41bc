"""Edits of one parsed CityGML member: attributes, moves, removed parts and references.

Everything here works on the lxml element of one top-level member (see
:func:`citytwin.io.citygml_source.parse_member`), in the member's own CityGML
version, and changes only what an edit names:

- :class:`AttributePatcher` sets and removes attributes under the names the
  reader gives them (:mod:`citytwin.io.citygml_attributes`): ``gml:name`` and
  ``gml:description``, CityGML properties (``measuredHeight``, ``function`` …),
  paths into data types and ADE elements (``"height/value"``,
  ``"uro:buildingDetails/city"``), generic attributes (``"set/name"`` inside a
  set). A name the object does not have yet becomes the CityGML property of
  that name where its type has one (inserted where the schema orders it),
  otherwise a generic attribute typed from the value.
- :func:`transform_member` moves every coordinate of a member
  (``gml:posList``, ``gml:pos``, ``gml:coordinates``), turns and stretches the
  matrix of each implicit geometry (its template stays in local coordinates),
  and recomputes the member's envelopes.
- :func:`remove_elements` takes city objects out (a deleted ``BuildingPart``)
  and :func:`drop_references` the ``xlink:href`` references and appearance
  targets that would point at what is gone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from lxml import etree

from citytwin.io.citygml_source import is_citygml, local_name, namespace, references
from citytwin.model.scenario import TransformObject, transform_points

__all__ = ["AttributePatcher", "drop_references", "remove_elements", "transform_member"]

GML2 = "http://www.opengis.net/gml"
GML3 = "http://www.opengis.net/gml/3.2"


def citygml_ns(version: str, module: str | None) -> str:
    """The namespace of a CityGML module (``None``: core) in a version (``"1.0"``, ``"2.0"``, ``"3.0"``)."""
    if module is None:
        return f"http://www.opengis.net/citygml/{version}"
    return f"http://www.opengis.net/citygml/{module}/{version}"


def gml_ns(version: str) -> str:
    """The GML namespace CityGML ``version`` uses."""
    return GML3 if version == "3.0" else GML2


# --------------------------------------------------------------- formatting
def format_number(v: float) -> str:
    """A coordinate or value as short text (rounded to 1e-9, the shortest repr)."""
    r = round(float(v), 9) + 0.0  # + 0.0: no "-0.0"
    return repr(r)


def format_numbers(values: Iterable[float] | np.ndarray) -> str:
    """Numbers as a space-separated list (see :func:`format_number`)."""
    v = np.round(np.asarray(values, dtype=np.float64).ravel(), 9) + 0.0
    return " ".join(map(repr, v.tolist()))


def format_value(value: Any) -> str:
    """An attribute value as element text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return " ".join(map(str, value))
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# ----------------------------------------------------------- schema orders
_GML_311 = ["gml:metaDataProperty", "gml:description", "gml:name", "gml:boundedBy", "gml:location"]
_GML_32 = ["gml:metaDataProperty", "gml:description", "gml:descriptionReference", "gml:identifier", "gml:name",
           "gml:boundedBy", "gml:location"]  # fmt: skip
_CORE_2 = ["creationDate", "terminationDate", "externalReference", "generalizesTo", "relativeToTerrain",
           "relativeToWater", "GENERIC"]  # fmt: skip
_CORE_3 = ["creationDate", "terminationDate", "validFrom", "validTo", "adeOfAbstractFeatureWithLifespan",
           "externalReference", "generalizesTo", "relativeToTerrain", "relativeToWater", "relatedTo", "appearance",
           "GENERIC", "dynamizer", "adeOfAbstractCityObject"]  # fmt: skip
_BUILDING_2 = [
    "class", "function", "usage", "yearOfConstruction", "yearOfDemolition", "roofType", "measuredHeight",
    "storeysAboveGround", "storeysBelowGround", "storeyHeightsAboveGround", "storeyHeightsBelowGround",
    "lod0FootPrint", "lod0RoofEdge", "lod1Solid", "lod1MultiSurface", "lod1TerrainIntersection", "lod2Solid",
    "lod2MultiSurface", "lod2MultiCurve", "lod2TerrainIntersection", "outerBuildingInstallation",
    "interiorBuildingInstallation", "boundedBy", "lod3Solid", "lod3MultiSurface", "lod3MultiCurve",
    "lod3TerrainIntersection", "lod4Solid", "lod4MultiSurface", "lod4MultiCurve", "lod4TerrainIntersection",
    "interiorRoom", "consistsOfBuildingPart", "address",
]  # fmt: skip
_SPACE_3 = [
    "spaceType", "volume", "area", "boundary", "lod0Point", "lod0MultiSurface", "lod0MultiCurve", "lod1Solid",
    "lod2Solid", "lod2MultiSurface", "lod2MultiCurve", "lod3Solid", "lod3MultiSurface", "lod3MultiCurve",
    "adeOfAbstractSpace", "lod1TerrainIntersectionCurve", "lod2TerrainIntersectionCurve",
    "lod3TerrainIntersectionCurve", "pointCloud", "adeOfAbstractPhysicalSpace", "lod1ImplicitRepresentation",
    "lod2ImplicitRepresentation", "lod3ImplicitRepresentation", "adeOfAbstractOccupiedSpace",
]  # fmt: skip
_BUILDING_3 = [
    *_SPACE_3, "conditionOfConstruction", "dateOfConstruction", "dateOfDemolition", "constructionEvent", "elevation",
    "height", "occupancy", "adeOfAbstractConstruction", "class", "function", "usage", "roofType",
    "storeysAboveGround", "storeysBelowGround", "storeyHeightsAboveGround", "storeyHeightsBelowGround",
    "buildingConstructiveElement", "buildingInstallation", "buildingRoom", "buildingFurniture",
    "buildingSubdivision", "address", "adeOfAbstractBuilding", "buildingPart", "adeOfBuilding",
]  # fmt: skip
_BUILDING_TYPES = frozenset({"Building", "BuildingPart"})
#: Building properties an attribute of that name becomes (the rest become generic attributes).
BUILDING_ATTRIBUTES = {
    "2": ("class", "function", "usage", "yearOfConstruction", "yearOfDemolition", "roofType", "measuredHeight",
          "storeysAboveGround", "storeysBelowGround", "storeyHeightsAboveGround", "storeyHeightsBelowGround"),
    "3": ("class", "function", "usage", "roofType", "storeysAboveGround", "storeysBelowGround",
          "storeyHeightsAboveGround", "storeyHeightsBelowGround"),
}  # fmt: skip
#: Properties of every city object that an attribute of that name becomes.
CITYOBJECT_ATTRIBUTES = ("creationDate", "terminationDate")
_MEASURES = frozenset({"measuredHeight", "storeyHeightsAboveGround", "storeyHeightsBelowGround"})
_INTS = frozenset({"storeysAboveGround", "storeysBelowGround", "yearOfConstruction", "yearOfDemolition"})


def property_order(version: str, typ: str) -> list[str]:
    """The properties of a city object type in schema order (``"GENERIC"`` for generic attributes)."""
    if version == "3.0":
        head = _GML_32 + _CORE_3
        return head + (_BUILDING_3 if typ in _BUILDING_TYPES else [])
    head = _GML_311 + _CORE_2
    if version == "1.0":
        head = [n for n in head if not n.startswith("relativeTo")]
    return head + (_BUILDING_2 if typ in _BUILDING_TYPES else [])


def standard_attribute(version: str, typ: str, name: str) -> bool:
    """Whether an attribute ``name`` is written as the CityGML property of that name."""
    if name in CITYOBJECT_ATTRIBUTES:
        return True
    return typ in _BUILDING_TYPES and name in BUILDING_ATTRIBUTES["3" if version == "3.0" else "2"]


# ---------------------------------------------------------------- attributes
_GENERIC_2 = {str: "stringAttribute", int: "intAttribute", float: "doubleAttribute"}
_GENERIC_3 = {str: "StringAttribute", int: "IntAttribute", float: "DoubleAttribute"}
_GENERIC_KIND = re.compile(r"^(string|int|double|date|uri|measure|code)Attribute$", re.I)


class AttributePatcher:
    """Sets and removes attributes of city-object elements of one CityGML version.

    Parameters
    ----------
    version
        ``"1.0"``, ``"2.0"`` or ``"3.0"``.
    prefixes
        Prefix → namespace of the document's root (new elements use its prefixes).
    """

    def __init__(self, version: str, prefixes: Mapping[str | None, str]) -> None:
        self.version = version
        self.gml = gml_ns(version)
        self.gen = citygml_ns(version, "generics")
        self.core = citygml_ns(version, None)
        self.bldg = citygml_ns(version, "building")
        self.prefixes = dict(prefixes)

    # ------------------------------------------------------------ public
    def apply(self, el: etree._Element, values: Mapping[str, Any], removed: Iterable[str]) -> None:
        """Set ``values`` and remove ``removed`` on the city object ``el``."""
        typ = local_name(el.tag)
        uoms = {k[:-4]: v for k, v in values.items() if k.endswith("_uom") and isinstance(v, str)}
        for name in removed:
            if name.endswith("_uom") and name[:-4] not in removed:
                continue  # a unit goes with its value; the value is still there
            for found in self._find(el, name):
                self._remove(found)
        for name, value in values.items():
            if name.endswith("_uom") and name[:-4] in values:
                continue  # written with its value
            if name.endswith("_uom"):
                if self._set_uom(el, name[:-4], value):
                    continue
            self._set(el, typ, name, value, uoms.get(name))

    # ------------------------------------------------------------ lookup
    def _find(self, el: etree._Element, name: str) -> list[etree._Element]:
        """The elements that hold attribute ``name`` of ``el`` (top-level property elements)."""
        if name in ("name", "description"):
            return [c for c in el if isinstance(c.tag, str) and c.tag == f"{{{self.gml}}}{name}"]
        parts = name.split("/")
        first = parts[0]
        direct = [c for c in el if isinstance(c.tag, str) and _matches(c, first) and not _is_structural(c)]
        if direct:
            if len(parts) == 1:
                return direct
            leaves = [leaf for c in direct for leaf in _descend(c, parts[1:])]
            if leaves:
                return leaves
        return self._generic(el, parts)

    def _generic(self, el: etree._Element, parts: list[str]) -> list[etree._Element]:
        """Generic attributes (or sets) of ``el`` named by ``parts``."""
        found: list[etree._Element] = []
        candidates = [el]
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            nxt = []
            for holder in candidates:
                for ga in self._generic_children(holder):
                    if self._generic_name(ga) != part:
                        continue
                    is_set = local_name(ga.tag).lower() == "genericattributeset"
                    if last and not is_set:
                        found.append(ga)
                    elif not last and is_set:
                        nxt.append(ga)
            candidates = nxt
        return found

    def _generic_children(self, holder: etree._Element) -> list[etree._Element]:
        out = []
        for c in holder:
            if not isinstance(c.tag, str):
                continue
            if self.version == "3.0":
                if local_name(c.tag) == "genericAttribute":
                    out.extend(g for g in c if isinstance(g.tag, str))
            elif namespace(c.tag) == self.gen:
                out.append(c)
        return out

    def _generic_name(self, ga: etree._Element) -> str:
        if self.version != "3.0":
            return (ga.get("name") or "").strip()
        for c in ga:
            if isinstance(c.tag, str) and local_name(c.tag) == "name":
                return (c.text or "").strip()
        return ""

    # ------------------------------------------------------------ changes
    def _remove(self, found: etree._Element) -> None:
        """Remove an attribute element (with its property wrapper and any data type it leaves empty)."""
        target = found
        if self.version == "3.0" and namespace(found.tag) == self.gen and local_name(found.tag)[:1].isupper():
            parent = found.getparent()
            if parent is not None and local_name(parent.tag) == "genericAttribute":
                target = parent
        _detach(target)

    def _set_uom(self, el: etree._Element, base: str, uom: str) -> bool:
        found = self._find(el, base)
        for f in found:
            holder = self._value_element(f)
            holder.set("uom", uom)
        return bool(found)

    def _set(self, el: etree._Element, typ: str, name: str, value: Any, uom: str | None) -> None:
        found = self._find(el, name)
        values = value if isinstance(value, list) and name not in _MEASURES else [value]
        if value is None:
            for f in found:
                self._remove(f)
            return
        if found and (len(found) == len(values) or not self._is_generic(found[0])):
            if self._is_generic(found[0]):
                for f, v in zip(found, values, strict=True):
                    self._set_generic(f, v, uom)
                return
            anchor = found[0]
            for extra in found[1:]:
                _detach(extra)
            if len(values) == 1 or anchor.getparent() is not el:
                self._fill(anchor, values[0] if len(values) == 1 else value, uom)
                return
            parent = anchor.getparent()
            at = parent.index(anchor)
            for k, v in enumerate(values):
                e = anchor if k == 0 else etree.Element(anchor.tag)
                self._fill(e, v, uom)
                if k:
                    parent.insert(at + k, e)
            return
        for f in found:
            self._remove(f)
        if name in ("name", "description"):
            self._insert(el, typ, f"gml:{name}", [self._element(self.gml, name, v, None) for v in values])
        elif standard_attribute(self.version, typ, name):
            ns = self.core if name in CITYOBJECT_ATTRIBUTES else self.bldg
            if name in _MEASURES and uom is None:
                uom = "m"  # a length needs a unit; the model kept none
            self._insert(el, typ, name, [self._element(ns, name, v, uom if name in _MEASURES else None)
                                         for v in values])  # fmt: skip
        else:
            self._insert(el, typ, "GENERIC", [self.generic_element(name, v, uom) for v in values])

    def _is_generic(self, e: etree._Element) -> bool:
        return namespace(e.tag) == self.gen

    def _value_element(self, e: etree._Element) -> etree._Element:
        if self._is_generic(e):
            for c in e:
                if isinstance(c.tag, str) and local_name(c.tag) == "value":
                    return c
        return e

    def _fill(self, e: etree._Element, value: Any, uom: str | None) -> None:
        for c in list(e):
            e.remove(c)
        e.text = format_value(value)
        if uom is not None:
            e.set("uom", uom)

    def _set_generic(self, ga: etree._Element, value: Any, uom: str | None) -> None:
        kind = _generic_kind(value, uom if uom is not None else self._value_element(ga).get("uom"), self.version)
        old = local_name(ga.tag)
        if old.lower() != kind.lower() and _GENERIC_KIND.match(old):
            ga.tag = f"{{{self.gen}}}{kind}"
        holder = self._value_element(ga)
        if holder is ga:  # no value element: add one
            holder = etree.SubElement(ga, f"{{{self.gen}}}value")
        holder.text = format_value(value)
        if uom is not None:
            holder.set("uom", uom)
        elif kind.lower() != "measureattribute":
            holder.attrib.pop("uom", None)

    def _element(self, ns: str, name: str, value: Any, uom: str | None) -> etree._Element:
        e = etree.Element(f"{{{ns}}}{name}", nsmap=self._nsmap(ns))
        e.text = format_value(value)
        if uom is not None:
            e.set("uom", uom)
        return e

    def generic_element(self, name: str, value: Any, uom: str | None = None) -> etree._Element:
        """A new generic attribute element (3.0: wrapped in ``core:genericAttribute``)."""
        kind = _generic_kind(value, uom, self.version)
        gen = f"{{{self.gen}}}"
        if self.version == "3.0":
            wrapper = etree.Element(f"{{{self.core}}}genericAttribute", nsmap=self._nsmap(self.core, self.gen))
            ga = etree.SubElement(wrapper, gen + kind)
            etree.SubElement(ga, gen + "name").text = name
            v = etree.SubElement(ga, gen + "value")
            v.text = format_value(value)
            if uom is not None and kind == "MeasureAttribute":
                v.set("uom", uom)
            return wrapper
        ga = etree.Element(gen + kind, nsmap=self._nsmap(self.gen))
        ga.set("name", name)
        v = etree.SubElement(ga, gen + "value")
        v.text = format_value(value)
        if uom is not None and kind == "measureAttribute":
            v.set("uom", uom)
        return ga

    def _nsmap(self, *namespaces: str) -> dict[str, str]:
        """Prefixes for namespaces the root does not declare (``gen``, ``core`` …)."""
        known = set(self.prefixes.values())
        out: dict[str, str] = {}
        for ns in namespaces:
            if ns in known:
                continue
            prefix = _PREFIX_GUESS.get(ns.rstrip("/").rsplit("/", 2)[-2] if "/citygml/" in ns else "", "core")
            if ns == self.core:
                prefix = "core"
            while prefix in self.prefixes and self.prefixes[prefix] != ns:
                prefix += "_"
            out[prefix] = ns
        return out

    def _insert(self, el: etree._Element, typ: str, slot: str, new: list[etree._Element]) -> None:
        order = property_order(self.version, typ)
        rank = {n: i for i, n in enumerate(order)}
        want = rank.get(slot, len(order))
        current = -1
        at = len(el)
        for i, c in enumerate(el):
            if not isinstance(c.tag, str):
                continue
            r = self._rank(c, rank)
            if r is not None:
                current = r
            if current > want:
                at = i
                break
        ws = el[at - 1].tail if at > 0 else el.text
        for k, e in enumerate(new):
            if ws is not None and not ws.strip():
                e.tail = ws  # the indentation the element before it has
            el.insert(at + k, e)

    def _rank(self, c: etree._Element, rank: dict[str, int]) -> int | None:
        ns, name = namespace(c.tag), local_name(c.tag)
        if ns == self.gml:
            return rank.get(f"gml:{name}")
        if ns == self.gen or (self.version != "3.0" and name == "appearance"):
            return rank.get("GENERIC")
        if self.version == "3.0" and name == "genericAttribute":
            return rank.get("GENERIC")
        if is_citygml(c.tag):
            return rank.get(name, len(rank))
        return None  # ADE content stays with what comes before it


_PREFIX_GUESS = {"generics": "gen", "building": "bldg", "construction": "con", "appearance": "app"}


def _generic_kind(value: Any, uom: str | None, version: str) -> str:
    table = _GENERIC_3 if version == "3.0" else _GENERIC_2
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return table[str]
    if isinstance(value, float) and uom is not None and version != "1.0":
        return "MeasureAttribute" if version == "3.0" else "measureAttribute"
    return table[int] if isinstance(value, int) else table[float]


def _matches(c: etree._Element, key: str) -> bool:
    local = local_name(c.tag)
    if ":" in key:
        prefix, _, name = key.partition(":")
        return local == name and (c.prefix == prefix or not is_citygml(c.tag))
    return local == key and is_citygml(c.tag)


def _is_structural(c: etree._Element) -> bool:
    """Whether a property holds geometry or city objects (never an attribute)."""
    name = local_name(c.tag)
    if re.match(r"^lod[0-4][A-Z]", name) or name in ("boundedBy", "boundary", "appearance", "address"):
        return True
    for child in c:
        if isinstance(child.tag, str):
            local = local_name(child.tag)
            return local[:1].isupper() and local not in ("Height", "Occupancy", "Elevation", "RoomHeight")
    return False


def _descend(el: etree._Element, parts: list[str]) -> list[etree._Element]:
    """The elements under ``el`` at the attribute path ``parts`` (type elements skipped)."""
    if not parts:
        return [el]
    out = []
    for c in el:
        if not isinstance(c.tag, str):
            continue
        local = local_name(c.tag)
        if local[:1].isupper():
            out.extend(_descend(c, parts))
        elif local == parts[0].rpartition(":")[2]:
            out.extend(_descend(c, parts[1:]))
    return out


def _detach(e: etree._Element) -> None:
    """Remove ``e`` and every ancestor it leaves empty, up to the first city object or non-empty element."""
    parent = e.getparent()
    _remove_keep_tail(e)
    while parent is not None and not _has_children(parent) and not (parent.text or "").strip():
        local = local_name(parent.tag)
        if local[:1].isupper() and local not in ("Height", "Occupancy", "Elevation", "RoomHeight"):
            break  # a city object or another feature stays, empty or not
        grand = parent.getparent()
        if grand is None:
            break
        _remove_keep_tail(parent)
        parent = grand


def _remove_keep_tail(e: etree._Element) -> None:
    parent = e.getparent()
    if parent is None:
        return
    prev = e.getprevious()
    # keep the layout: the whitespace before e goes with it
    if prev is not None:
        prev.tail = e.tail if (prev.tail or "").strip() == "" else prev.tail
    else:
        parent.text = e.tail if (parent.text or "").strip() == "" else parent.text
    parent.remove(e)


def _has_children(e: etree._Element) -> bool:
    return any(isinstance(c.tag, str) for c in e)


# ----------------------------------------------------------------- geometry
_TEMPLATE_PROPS = frozenset({"relativeGMLGeometry", "relativeGeometry"})
_POINT_TAGS = ("posList", "pos", "coordinates")


def _coordinate_elements(el: etree._Element, gml: str) -> list[tuple[etree._Element, int]]:
    """Every coordinate element under ``el`` with its dimension, templates and envelopes left out."""
    out = []
    stack = [(el, 3)]
    tags = {f"{{{gml}}}{n}" for n in _POINT_TAGS}
    skip = {f"{{{gml}}}Envelope"}
    while stack:
        e, dim = stack.pop()
        d = e.get("srsDimension")
        if d is not None and d.strip().isdigit():
            dim = int(d)
        for c in e:
            if not isinstance(c.tag, str) or c.tag in skip or local_name(c.tag) in _TEMPLATE_PROPS:
                continue
            if c.tag in tags:
                cd = c.get("srsDimension")
                out.append((c, int(cd) if cd is not None and cd.strip().isdigit() else dim))
            else:
                stack.append((c, dim))
    return out


def _read_coordinates(e: etree._Element, dim: int) -> tuple[np.ndarray, int] | None:
    text = e.text or ""
    if local_name(e.tag) == "coordinates":
        cs, ts = e.get("cs", ","), e.get("ts", " ")
        tuples = [t for t in re.split(r"\s+" if ts.isspace() else re.escape(ts), text.strip()) if t]
        try:
            rows = [[float(v) for v in t.split(cs)] for t in tuples]
        except ValueError:
            return None
        if not rows or len({len(r) for r in rows}) != 1:
            return None
        return np.asarray(rows, dtype=np.float64), len(rows[0])
    try:
        v = np.array(text.split(), dtype=np.float64)
    except ValueError:
        return None
    if v.size == 0:
        return None
    if v.size % dim:
        dim = 2 if v.size % 2 == 0 and v.size % 3 else 3
        if v.size % dim:
            return None
    return v.reshape(-1, dim), dim


def _write_coordinates(e: etree._Element, pts: np.ndarray) -> None:
    if local_name(e.tag) == "coordinates":
        cs, ts = e.get("cs", ","), e.get("ts", " ")
        e.text = ts.join(cs.join(format_number(v) for v in row) for row in pts.tolist())
    else:
        e.text = format_numbers(pts.ravel().tolist())


def member_points(el: etree._Element, version: str) -> np.ndarray:
    """All 3D coordinates of a member (2D ones at height 0), templates left out."""
    parts = []
    for e, dim in _coordinate_elements(el, gml_ns(version)):
        got = _read_coordinates(e, dim)
        if got is not None:
            pts, d = got
            parts.append(pts if d == 3 else np.column_stack([pts[:, :2], np.zeros(len(pts))]))
    return np.concatenate(parts) if parts else np.zeros((0, 3))


def transform_member(
    el: etree._Element,
    transform: TransformObject,
    version: str,
    centre: np.ndarray | None = None,
    base: float | None = None,
) -> int:
    """Move every coordinate of a member as ``transform`` places it; return how many lists were moved.

    Parameters
    ----------
    el
        The member (or any element: everything under it moves).
    transform
        The edit.
    version
        The member's CityGML version.
    centre, base
        The vertical axis and the height the scale starts from; by default the centre of
        the bounding box of the member's coordinates in plan and their lowest height.
    """
    gml = gml_ns(version)
    items = []
    for e, dim in _coordinate_elements(el, gml):
        got = _read_coordinates(e, dim)
        if got is not None:
            items.append((e, *got))
    if centre is None or base is None:
        pts3 = [p for _, p, d in items if d == 3]
        allp = np.concatenate(pts3) if pts3 else np.zeros((0, 3))
        if len(allp):
            lo, hi = allp.min(axis=0), allp.max(axis=0)
            centre = (lo[:2] + hi[:2]) / 2.0 if centre is None else centre
            base = float(lo[2]) if base is None else base
        else:
            centre = np.zeros(2) if centre is None else centre
            base = 0.0 if base is None else base
    for e, pts, dim in items:
        if dim == 3:
            moved = transform_points(transform, pts, centre, base)
        else:
            p3 = np.column_stack([pts[:, :2], np.full(len(pts), base)])
            moved = transform_points(transform, p3, centre, base)[:, :2]
        _write_coordinates(e, moved)
    lin = transform.linear()
    for m in el.iter():
        if isinstance(m.tag, str) and local_name(m.tag) == "transformationMatrix" and is_citygml(m.tag):
            parent = m.getparent()
            if parent is None or local_name(parent.tag) != "ImplicitGeometry":
                continue
            try:
                matrix = np.array((m.text or "").split(), dtype=np.float64).reshape(4, 4)
            except ValueError:
                continue
            m.text = format_numbers((lin @ matrix).ravel().tolist())
    recompute_envelopes(el, version)
    return len(items)


def recompute_envelopes(el: etree._Element, version: str) -> None:
    """Set every ``gml:Envelope`` under ``el`` to the bounds of the coordinates of the feature it bounds."""
    gml = gml_ns(version)
    for env in list(el.iter(f"{{{gml}}}Envelope")):
        bounded = env.getparent()
        feature = bounded.getparent() if bounded is not None else None
        if feature is None or local_name(bounded.tag) != "boundedBy":
            continue
        pts = member_points(feature, version)
        if not len(pts):
            continue
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        for corner, values in (("lowerCorner", lo), ("upperCorner", hi)):
            for c in env:
                if isinstance(c.tag, str) and local_name(c.tag) == corner:
                    n = len((c.text or "").split()) or 3
                    c.text = format_numbers(values[: min(n, 3)].tolist())


# ------------------------------------------------------------ removals
def remove_elements(elements: Iterable[etree._Element], id_attr: str) -> set[str]:
    """Remove city-object elements from their member; return every ``gml:id`` that went with them."""
    gone: set[str] = set()
    for e in elements:
        for sub in e.iter():
            if isinstance(sub.tag, str):
                i = sub.get(id_attr)
                if i:
                    gone.add(i)
        parent = e.getparent()
        if parent is None:
            continue
        only_child = sum(isinstance(c.tag, str) for c in parent) == 1
        if only_child and not local_name(parent.tag)[:1].isupper():
            _remove_keep_tail(parent)  # the property (bldg:boundedBy …) goes with the object
        else:
            _remove_keep_tail(e)
    return gone


def drop_references(el: etree._Element, gone: set[str]) -> int:
    """Remove every reference under ``el`` to an id in ``gone``; return how many went.

    A reference is the element that carries it (``gml:surfaceMember xlink:href``,
    ``app:target``, ``grp:groupMember`` …); geometry aggregates it leaves empty go too.
    """
    if not gone:
        return 0
    doomed = [e for e, target in references(el) if target in gone]
    for e in doomed:
        _detach_geometry(e)
    return len(doomed)


def _detach_geometry(e: etree._Element) -> None:
    parent = e.getparent()
    _remove_keep_tail(e)
    while (
        parent is not None
        and not _has_children(parent)
        and parent.get("{http://www.w3.org/1999/xlink}href") is None
        and not (parent.text or "").strip()
    ):
        ns, local = namespace(parent.tag), local_name(parent.tag)
        is_gml_aggregate = ns.startswith("http://www.opengis.net/gml") and local in (
            "MultiSurface", "CompositeSurface", "Shell", "Solid", "MultiSolid", "CompositeSolid", "MultiGeometry",
            "exterior", "surfaceMember", "surfaceMembers", "solidMember", "solidMembers", "geometryMember",
        )  # fmt: skip
        is_property = is_citygml(parent.tag) and not local[:1].isupper()
        if not (is_gml_aggregate or is_property):
            break
        grand = parent.getparent()
        if grand is None:
            break
        _remove_keep_tail(parent)
        parent = grand
