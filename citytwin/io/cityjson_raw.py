"""CityJSON read without a Python object per vertex index: the reader's fast path.

msgspec decodes a CityJSON document into typed structs and keeps the big
integer arrays (``vertices``, every geometry's ``boundaries`` and the semantic
and material ``values``) as raw JSON bytes. The raw bytes of all geometries are
joined and read with numpy: the depth of every bracket tells rings, surfaces
and shells apart, and ``np.fromstring`` reads the integers between them.
Nothing is created per vertex index, ring or surface in Python. The features of
a CityJSONSeq file are decoded line by line (:func:`decode_feature`) and read
in batches the same way, each feature's indices offset into the batch's vertices.

This path only takes what it reads exactly as the general reader
(:mod:`citytwin.io.cityjson_geometry`) does: every function here returns
``None`` for anything else (geometry templates, textures, values that do not
mirror their boundaries, numbers that are not plain integers, a struct of the
wrong type…), and the caller then reads the file the general way. The test
suite checks that both paths give identical models on every shared file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import chain
from typing import Any

import msgspec
import numpy as np

from citytwin.io.cityjson_geometry import (
    _CLASS_CODE,
    _DEFAULT_CODE,
    _NONE,
    _OTHER,
    FlatGeometry,
    GeometryFlattener,
    GeometryKinds,
    _as_float_array,
)
from citytwin.model.geometry import Material

__all__ = [
    "Document",
    "Feature",
    "decode",
    "decode_feature",
    "flatten",
    "materials",
    "vertices_from_raw",
    "vertices_from_raws",
]

#: A member that is not in the file (an empty raw value; JSON has no empty value).
ABSENT = msgspec.Raw()
UNSET = msgspec.UNSET
_NULL = b"null"


class _Get:
    """``dict.get`` on a struct, so the reader's object-table code takes structs and dicts alike."""

    __slots__ = ()

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, default)
        return default if value is UNSET else value


class Surface(msgspec.Struct, gc=False):
    type: str | None = None


class Semantics(msgspec.Struct, gc=False):
    surfaces: msgspec.Raw = ABSENT  # each distinct list decoded once (:func:`_surface_codes`)
    values: msgspec.Raw = ABSENT


class MaterialRef(msgspec.Struct, gc=False):
    values: msgspec.Raw = ABSENT
    value: Any = UNSET


class Geometry(msgspec.Struct, gc=False):
    type: Any = None
    lod: Any = None
    boundaries: msgspec.Raw = ABSENT
    semantics: Semantics | None = None
    material: dict[str, MaterialRef] | None = None
    texture: msgspec.Raw = ABSENT


class MaterialDef(msgspec.Struct, gc=False):
    name: Any = None
    diffuseColor: tuple[float, float, float] | None = None
    transparency: float | None = None
    specularColor: tuple[float, float, float] | None = None
    emissiveColor: tuple[float, float, float] | None = None
    shininess: float | None = None


class Appearance(msgspec.Struct, gc=False):
    materials: list[MaterialDef] | None = None
    textures: Any = None


class CityObject(msgspec.Struct, _Get, gc=False):
    type: Any = None
    attributes: Any = None
    geometry: list[Geometry] | None = None
    parents: Any = None
    parent: Any = None  # CityJSON 0.8 – 0.9
    children: Any = None
    address: Any = None
    Parts: Any = None  # CityJSON 0.6
    Installations: Any = None
    ConstructionElements: Any = None


class Document(msgspec.Struct, _Get, gc=False):
    type: Any = None
    version: Any = None
    CityObjects: dict[str, CityObject] | None = None
    vertices: msgspec.Raw = ABSENT
    transform: Any = UNSET
    metadata: Any = None
    extensions: Any = UNSET
    appearance: Appearance | None = None
    geometry_templates: Any = msgspec.field(name="geometry-templates", default=UNSET)


class Feature(msgspec.Struct, gc=False):
    """A CityJSONFeature line of a CityJSONSeq file."""

    type: Any = None
    CityObjects: dict[str, CityObject] | None = None
    vertices: msgspec.Raw = ABSENT
    appearance: Any = None


_DECODER = msgspec.json.Decoder(Document)
_FEATURE_DECODER = msgspec.json.Decoder(Feature)


def decode(data: bytes) -> Document | None:
    """The document as structs, or ``None`` when it is not JSON of the expected shape."""
    try:
        return _DECODER.decode(data)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None


def decode_feature(line: bytes) -> Feature | None:
    """A CityJSONFeature line the fast path reads (objects and vertices, no appearance of its own), else None."""
    try:
        feature = _FEATURE_DECODER.decode(line)
    except (msgspec.DecodeError, RecursionError):
        return None
    if feature.type != "CityJSONFeature" or feature.CityObjects is None or feature.appearance is not None:
        return None
    return feature if len(feature.vertices) else None


_NULL_RAW = msgspec.Raw(_NULL)
_SURFACE_LISTS = msgspec.json.Decoder(list[list[Surface] | None])


def _surface_codes(raws: list[bytes]) -> list[list[int]] | None:
    """Semantic classes of ``semantics.surfaces`` lists (absent or null: none), or None for anything else.

    Distinct lists are decoded together, in one call.
    """
    try:
        lists = _SURFACE_LISTS.decode(b"[" + b",".join(r or _NULL for r in raws) + b"]")
    except msgspec.DecodeError:
        return None
    return [[_NONE if s.type is None else _CLASS_CODE.get(s.type, _OTHER) for s in sl] if sl else [] for sl in lists]


def materials(doc: Document) -> list[Material]:
    """``appearance.materials`` as :class:`Material` objects, read as :func:`parse_materials` reads them.

    The struct types have checked every colour and number already (a malformed material sends
    the file to the general path, which reads it as :func:`parse_materials` does).
    """
    defs = doc.appearance.materials if doc.appearance is not None else None
    if not defs:
        return []
    default = (0.8, 0.8, 0.8)
    return [
        Material(
            m.diffuseColor or default,
            0.0 if m.transparency is None else min(max(m.transparency, 0.0), 1.0),
            m.name if type(m.name) is str else None,
            m.specularColor,
            m.emissiveColor,
            m.shininess,
        )
        for m in defs
    ]


# ---------------------------------------------------------------- integers
_EXACT = 2**53


def _integers(buf: bytes) -> np.ndarray | None:
    """The integers of nested JSON arrays of integers, in order, as int64 (None where an array is empty)."""
    if b" " in buf or b"\n" in buf or b"\r" in buf or b"\t" in buf:
        buf = buf.translate(None, b" \t\r\n")
    try:  # without brackets, "1,2,3,4": one comma between numbers unless an array is empty
        return np.fromstring(buf.translate(None, b"[]"), dtype=np.int64, sep=",")
    except ValueError:
        return None


def vertices_from_raw(raw: msgspec.Raw) -> np.ndarray | None:
    """``[[x, y, z], …]`` of JSON integers as ``(N, 3)`` float64, or ``None`` for anything else.

    Transformed CityJSON stores integers; a file with decimals or exponents
    returns ``None`` (the caller parses it as JSON).
    """
    buf = bytes(raw)
    skeleton = buf.translate(None, b"0123456789- \t\r\n")  # anything but integers stays and fails below
    n = skeleton.count(b"[") - 1
    if n <= 0:
        return np.zeros((0, 3)) if skeleton == b"[]" else None
    if skeleton != b"[[,,]" + b",[,,]" * (n - 1) + b"]":
        return None
    values = _integers(buf)
    if values is None or values.size != 3 * n or (np.abs(values) >= _EXACT).any():
        return None
    return values.astype(np.float64).reshape(n, 3)


def vertices_from_raws(raws: list[msgspec.Raw]) -> tuple[np.ndarray, np.ndarray] | None:
    """Several ``vertices`` arrays of JSON integers read together: ``(N, 3)`` float64 and the count of each.

    None when any holds something else (a decimal, a vertex of two numbers, an empty list…).
    """
    nest = _Nesting.parse(raws, signed=True)
    if nest is None:
        return None
    vertex = nest.leaves(np.full(len(raws), 2))
    if vertex is None or (nest.count[vertex] != 3).any() or (np.abs(nest.values) >= _EXACT).any():
        return None
    counts = np.bincount(nest.item[vertex], minlength=len(raws))
    return nest.values.astype(np.float64).reshape(-1, 3), counts


class _Nesting:
    """The arrays and integers of JSON arrays of integers, joined with commas.

    Attributes
    ----------
    values
        ``(K,)`` int64, every integer in order (``null`` read as -1 where allowed).
    level
        Per array, in order of their opening brackets: its depth (1 for the outermost array of an item).
    item
        Per array: which of the joined items it belongs to.
    count
        Per array: how many numbers it holds directly (:meth:`leaves` checks that only the
        arrays at the leaf level hold any).
    """

    __slots__ = ("count", "item", "level", "values")

    @classmethod
    def parse(cls, raws: list[msgspec.Raw], nulls: bool = False, signed: bool = False) -> _Nesting | None:
        """Read the joined arrays; None when they hold anything but integers (and ``null`` where allowed).

        Negative numbers are refused unless ``signed`` (``nulls`` reads ``null`` as -1).
        """
        buf = b",".join(raws)
        if b"-" in buf and not signed:
            return None
        if nulls:
            buf = buf.replace(_NULL, b"-1")
        # Brackets and commas only (anything else left is not an integer). Where arrays hold arrays, two
        # brackets are "[[", "]]" or "],["; anything else there is a number beside an array. An innermost
        # array holds its commas + 1 numbers.
        skeleton_bytes = buf.translate(None, b"0123456789- \t\r\n")
        if skeleton_bytes.translate(None, b"[],"):
            return None
        skeleton = np.frombuffer(skeleton_bytes, np.uint8)
        brackets = np.flatnonzero(skeleton != 0x2C)
        is_open = skeleton[brackets] == 0x5B
        commas = np.diff(brackets) - 1
        here, there = is_open[:-1], is_open[1:]
        between = ~here & there  # "],[" (one comma); "[[" and "]]" none; "[...]" any
        if ((commas != between) & (there | ~here)).any():
            return None
        opens = np.flatnonzero(is_open)
        out = cls()
        out.level = 2 * np.cumsum(is_open, dtype=np.int32)[opens] - opens - 1  # opened minus closed so far
        tops = np.flatnonzero(out.level == 1)
        if len(tops) != len(raws) or (len(opens) and opens[0] != 0):  # an item that is not an array
            return None
        out.item = np.repeat(np.arange(len(raws)), np.diff(tops, append=len(opens)))
        out.count = np.where(~is_open[opens + 1], commas[opens] + 1, 0)  # an opening bracket is never last
        values = _integers(buf)
        if values is None or values.size != out.count.sum():  # an empty array
            return None
        out.values = values
        return out

    def leaves(self, leaf_level: np.ndarray) -> np.ndarray | None:
        """Which arrays are at each item's ``leaf_level``, or None if numbers sit elsewhere or arrays go deeper."""
        lv = leaf_level[self.item]
        if (self.level > lv).any():
            return None
        leaf = self.level == lv
        if self.count[~leaf].any():
            return None
        return leaf


def _children(parent: np.ndarray, child: np.ndarray) -> np.ndarray:
    """How many ``child`` arrays follow each ``parent`` array before the next one (masks over the same arrays)."""
    before = np.searchsorted(np.flatnonzero(child), np.flatnonzero(parent))
    return np.diff(before, append=np.count_nonzero(child))


def _surface_values(
    raws: list[msgspec.Raw], geos: list[int], depth: np.ndarray, leaf_geo: np.ndarray, leaf_nsurf: np.ndarray
) -> np.ndarray | None:
    """Per-surface values (``null`` → -1) of geometries whose ``values`` mirror their boundaries, else None."""
    nest = _Nesting.parse(raws, nulls=True)
    if nest is None:
        return None
    g = np.asarray(geos, np.int64)
    leaf = nest.leaves(depth[g] + 1)
    if leaf is None:
        return None
    has = np.zeros(len(depth), bool)
    has[g] = True
    mine = has[leaf_geo]
    if not (np.array_equal(leaf_geo[mine], g[nest.item[leaf]]) and np.array_equal(leaf_nsurf[mine], nest.count[leaf])):
        return None
    return nest.values


def flatten(
    flattener: GeometryFlattener,
    objects: list[tuple[int, str, CityObject]],
    vertices: np.ndarray,
    *,
    n_materials: int,
    material_base: int,
    tick: Callable[[int], None] | None = None,
    vertex_ranges: tuple[np.ndarray, np.ndarray] | None = None,
) -> FlatGeometry | None:
    """:meth:`GeometryFlattener.flatten` for decoded structs, or ``None`` (nothing counted) to use it instead.

    Parameters
    ----------
    flattener
        Holds the LoD range and the reader's skip counts.
    objects
        ``(object index, type, struct)`` of the city objects to flatten.
    vertices
        The document's vertices, transformed.
    n_materials, material_base
        Size of the material list and where it starts in the model's.
    tick
        Called every few hundred objects (progress and cancel).
    vertex_ranges
        ``(first, count)`` per object, in the order of ``objects``: the part of ``vertices``
        its indices address (the features of a CityJSONSeq batch); all of them when None.
    """
    skipped: Counter[str] = Counter()
    lod_min, lod_max = flattener.lod_min, flattener.lod_max
    kinds = GeometryKinds(skipped)
    raws: list[msgspec.Raw] = []
    geo_depth: list[int] = []
    geo_obj: list[int] = []
    geo_pos: list[int] = []  # position of the geometry's object in ``objects``
    geo_lod: list[int] = []
    geo_default: list[int] = []
    geo_surfaces: list[int] = []  # which distinct semantics.surfaces list, -1 for none
    surface_lists: dict[bytes, int] = {}
    sem_geo: list[int] = []
    sem_raws: list[msgspec.Raw] = []
    mat_values: dict[str, tuple[list[int], list[msgspec.Raw]]] = {}
    mat_single: dict[str, tuple[list[int], list[Any]]] = {}
    for k, (obj, otype, co) in enumerate(objects):
        if tick is not None and k % 256 == 0:
            tick(k)
        geometries = co.geometry
        if not geometries:
            continue
        default = _DEFAULT_CODE.get(otype, _NONE)
        for g in geometries:
            if g.type == "GeometryInstance":
                return None
            kind = kinds(g.type, g.lod)
            if kind is None:
                continue
            depth, code = kind
            if not lod_min <= code <= lod_max:
                continue
            b = g.boundaries
            if not len(b) or (len(g.texture) and not g.texture == _NULL_RAW):
                return None
            gi = len(geo_obj)
            sem = g.semantics
            if sem is not None:
                key = bytes(sem.surfaces)
                listed = surface_lists.get(key)
                if listed is None:
                    listed = surface_lists[key] = len(surface_lists)
                geo_surfaces.append(listed)
                if len(sem.values) and not sem.values == _NULL_RAW:
                    sem_geo.append(gi)
                    sem_raws.append(sem.values)
            else:
                geo_surfaces.append(-1)
            if g.material:
                for theme, spec in g.material.items():
                    if len(spec.values):
                        if spec.values == _NULL_RAW:
                            return None
                        acc = mat_values.setdefault(str(theme), ([], []))
                        acc[0].append(gi)
                        acc[1].append(spec.values)
                    elif spec.value is not UNSET:
                        acc1 = mat_single.setdefault(str(theme), ([], []))
                        acc1[0].append(gi)
                        acc1[1].append(spec.value)
            raws.append(b)
            geo_depth.append(depth)
            geo_pos.append(k)
            geo_obj.append(obj)
            geo_lod.append(code)
            geo_default.append(default)
    if not raws:
        flattener.skipped.update(skipped)
        return FlatGeometry.empty()

    # rings, surfaces and shells from the bracket levels
    nest = _Nesting.parse(raws)
    if nest is None:
        return None
    depth = np.asarray(geo_depth, np.int64)
    ring_open = nest.leaves(depth + 3)
    if ring_open is None:
        return None
    item_depth = depth[nest.item]
    surf_open = nest.level == item_depth + 2
    leaf_open = nest.level == item_depth + 1  # shells; a MultiSurface is one
    n_geo = len(raws)
    ring_counts = nest.count[ring_open]
    surf_nrings = _children(surf_open, ring_open)
    surf_geo = nest.item[surf_open]
    geo_nsurf = np.bincount(surf_geo, minlength=n_geo)
    geo_nrings = np.bincount(nest.item[ring_open], minlength=n_geo)
    leaf_geo = nest.item[leaf_open]
    leaf_nsurf = _children(leaf_open, surf_open)

    def per_surface(geos: list[int], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        has = np.zeros(n_geo, bool)
        has[geos] = True
        polys = np.flatnonzero(has[surf_geo])
        v = values.astype(np.float64)
        v[values < 0] = np.nan
        return polys, v

    sem_vals = np.full(len(surf_geo), np.nan)
    if sem_geo:
        values = _surface_values(sem_raws, sem_geo, depth, leaf_geo, leaf_nsurf)
        if values is None:
            return None
        polys, v = per_surface(sem_geo, values)
        sem_vals[polys] = v
    mat_acc: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for theme in dict.fromkeys([*mat_values, *mat_single]):
        polys_parts, vals_parts = [], []
        if theme in mat_values:
            geos, theme_raws = mat_values[theme]
            values = _surface_values(theme_raws, geos, depth, leaf_geo, leaf_nsurf)
            if values is None:
                return None
            polys, v = per_surface(geos, values)
            polys_parts.append(polys)
            vals_parts.append(v)
        if theme in mat_single:
            geos, single = mat_single[theme]
            g = np.asarray(geos, np.int64)
            polys, _ = per_surface(geos, np.zeros(0, np.int64))
            polys_parts.append(polys)
            vals_parts.append(np.repeat(_as_float_array(single), geo_nsurf[g]))
        p, v = np.concatenate(polys_parts), np.concatenate(vals_parts)
        order = np.argsort(p, kind="stable")
        mat_acc[theme] = (p[order], v[order])

    codes = _surface_codes(list(surface_lists))
    if codes is None:
        return None
    flattener.skipped.update(skipped)
    if not len(ring_counts):
        return FlatGeometry.empty()
    lut = list(chain.from_iterable(codes[k] for k in geo_surfaces if k >= 0))
    sizes = np.fromiter(map(len, codes), np.int64, count=len(codes))
    which = np.asarray(geo_surfaces, np.int64)
    geo_lut_size_a = np.where(which >= 0, sizes[which] if len(sizes) else 0, 0)
    geo_lut_base = np.zeros(n_geo, np.int64)
    np.cumsum(geo_lut_size_a[:-1], out=geo_lut_base[1:])
    if vertex_ranges is None:
        geo_base, geo_limit = np.zeros(n_geo, np.int64), np.full(n_geo, len(vertices), np.int64)
    else:
        pos = np.asarray(geo_pos, np.int64)
        geo_base, geo_limit = vertex_ranges[0][pos], vertex_ranges[1][pos]
    return flattener._assemble(
        None, ring_counts, geo_nrings, geo_nsurf, geo_base, geo_limit,
        np.asarray(geo_obj, np.int64), np.asarray(geo_lod, np.int64), np.asarray(geo_default, np.int64),
        surf_nrings, sem_vals, lut, geo_lut_base, geo_lut_size_a, mat_acc, {}, vertices,
        n_materials, 0, material_base, 0, None, raw=nest.values,
    )  # fmt: skip
