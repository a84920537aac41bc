"""Flatten CityJSON geometry into numpy arrays, many city objects at a time.

CityJSON boundaries are nested lists of vertex indices. Walking them vertex by
vertex in Python is what makes naive readers slow; here every geometry is only
*unnested* with :func:`itertools.chain` (C speed) down to its rings, and the
index lists of all rings of a chunk (a whole file, or one CityJSONFeature) are
turned into one numpy array at once. Semantics, materials and textures are
flattened to one entry per surface the same way and resolved with array
lookups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from citytwin.model.semantics import SURFACE_CLASS_BY_NAME, SurfaceClass, lod_code

#: Nesting levels above the surface level, per geometry type.
SURFACE_DEPTH = {"MultiSurface": 0, "CompositeSurface": 0, "Solid": 1, "MultiSolid": 2, "CompositeSolid": 2}
NOT_SURFACES = frozenset({"MultiPoint", "MultiLineString"})

#: Class of polygons without semantics, by city-object type.
DEFAULT_CLASS_BY_TYPE = {
    "TINRelief": SurfaceClass.TERRAIN,
    "PlantCover": SurfaceClass.VEGETATION,
    "SolitaryVegetationObject": SurfaceClass.VEGETATION,
}

_CLASS_CODE: dict[Any, int] = {name: int(c) for name, c in SURFACE_CLASS_BY_NAME.items()}
_CLASS_CODE[None] = int(SurfaceClass.NONE)
_OTHER, _NONE = int(SurfaceClass.OTHER), int(SurfaceClass.NONE)
_DEFAULT_CODE = {name: int(c) for name, c in DEFAULT_CLASS_BY_TYPE.items()}

# Reasons counted while flattening (turned into warning sentences by the reader).
SKIP_POINTS = "point or line geometries (not surfaces) were skipped"
SKIP_TYPE = "geometries of an unknown type were skipped"
SKIP_LOD = "geometries without a valid LoD were skipped"
SKIP_NESTING = "geometries whose boundaries do not match their type were skipped"
SKIP_INSTANCE = "geometry instances that could not be placed were skipped"
SKIP_INDEX = "polygons that use vertex indices outside the vertex list were dropped"
BAD_SEMANTICS = "semantic values that do not fit their geometry were ignored"
BAD_MATERIAL = "material values that do not fit the material list were ignored"
BAD_TEXTURE = "texture references that do not fit the texture list were ignored"


class GeometryKinds:
    """Sorts geometries by ``type`` and ``lod``: what to read, or a reason counted in ``skipped``.

    Parameters
    ----------
    skipped
        Reason → count, where a geometry that is not read is counted.
    """

    def __init__(self, skipped: Counter[str]) -> None:
        self.skipped = skipped
        self._lods: dict[str | int, int] = {}

    def __call__(self, gtype: Any, lod: Any) -> tuple[int, int] | None:
        """``(surface depth, LoD code)`` of a geometry of surfaces, else None (the reason counted)."""
        if type(gtype) is not str:
            self.skipped[SKIP_TYPE] += 1
            return None
        if gtype in NOT_SURFACES:
            self.skipped[SKIP_POINTS] += 1
            return None
        depth = SURFACE_DEPTH.get(gtype)
        if depth is None:
            self.skipped[SKIP_TYPE] += 1
            return None
        hashable = type(lod) is str or type(lod) is int
        code = self._lods.get(lod) if hashable else None
        if code is None:
            try:
                code = lod_code(lod)
            except (TypeError, ValueError):
                code = -1
            if hashable:
                self._lods[lod] = code
        if code < 0:
            self.skipped[SKIP_LOD] += 1
            return None
        return depth, code


@dataclass
class Templates:
    """``geometry-templates``: template geometries and their own (untransformed) vertices."""

    templates: list[Any]
    vertices: np.ndarray


@dataclass
class TextureRefs:
    """Textured rings of one theme: the polygon, the ring's position in it, the image and its uv."""

    poly: np.ndarray
    ring: np.ndarray
    texture: np.ndarray
    uv_counts: np.ndarray
    uv: np.ndarray

    @classmethod
    def empty(cls) -> TextureRefs:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, np.zeros((0, 2)))


@dataclass
class FlatGeometry:
    """Polygons of many city objects as flat arrays, before cleaning by :class:`MeshBuilder`.

    Attributes
    ----------
    vertices
        ``(V, 3)`` float64, every ring's points one after another.
    ring_counts
        ``(R,)`` points per ring.
    poly_nrings
        ``(P,)`` rings per polygon, exterior first.
    poly_object, poly_lod, poly_semantic
        ``(P,)`` object index (in the reader's object list), LoD code, :class:`SurfaceClass`.
    materials
        theme → ``(polygons, material indices)``.
    textures
        theme → :class:`TextureRefs`.
    """

    vertices: np.ndarray
    ring_counts: np.ndarray
    poly_nrings: np.ndarray
    poly_object: np.ndarray
    poly_lod: np.ndarray
    poly_semantic: np.ndarray
    materials: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    textures: dict[str, TextureRefs] = field(default_factory=dict)

    @property
    def n_polygons(self) -> int:
        return len(self.poly_nrings)

    @classmethod
    def empty(cls) -> FlatGeometry:
        z = np.zeros(0, np.int64)
        return cls(np.zeros((0, 3)), z, z, z, z.astype(np.uint8), z.astype(np.uint8))

    def select(self, keep: np.ndarray) -> FlatGeometry:
        """Only the polygons where ``keep`` is true (appearance references follow)."""
        keep = np.asarray(keep, bool)
        if keep.all():
            return self
        ring_keep = np.repeat(keep, self.poly_nrings)
        vert_keep = np.repeat(ring_keep, self.ring_counts)
        new_index = np.cumsum(keep) - 1
        materials = {}
        for theme, (polys, mats) in self.materials.items():
            m = keep[polys]
            materials[theme] = (new_index[polys[m]], mats[m])
        textures = {}
        for theme, t in self.textures.items():
            m = keep[t.poly]
            textures[theme] = TextureRefs(
                new_index[t.poly[m]], t.ring[m], t.texture[m], t.uv_counts[m], t.uv[np.repeat(m, t.uv_counts)]
            )
        return FlatGeometry(
            self.vertices[vert_keep],
            self.ring_counts[ring_keep],
            self.poly_nrings[keep],
            self.poly_object[keep],
            self.poly_lod[keep],
            self.poly_semantic[keep],
            materials,
            textures,
        )

    @classmethod
    def concatenate(cls, parts: list[FlatGeometry]) -> FlatGeometry:
        """Join chunks; polygon references in appearances are shifted."""
        parts = [p for p in parts if p.n_polygons]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        bases = np.concatenate([[0], np.cumsum([p.n_polygons for p in parts])])
        materials: dict[str, tuple[list, list]] = {}
        textures: dict[str, list[TextureRefs]] = {}
        for base, part in zip(bases, parts, strict=False):
            for theme, (polys, mats) in part.materials.items():
                acc = materials.setdefault(theme, ([], []))
                acc[0].append(polys + base)
                acc[1].append(mats)
            for theme, t in part.textures.items():
                textures.setdefault(theme, []).append(TextureRefs(t.poly + base, t.ring, t.texture, t.uv_counts, t.uv))
        return cls(
            np.concatenate([p.vertices for p in parts]),
            np.concatenate([p.ring_counts for p in parts]),
            np.concatenate([p.poly_nrings for p in parts]),
            np.concatenate([p.poly_object for p in parts]),
            np.concatenate([p.poly_lod for p in parts]),
            np.concatenate([p.poly_semantic for p in parts]),
            {k: (np.concatenate(v[0]), np.concatenate(v[1])) for k, v in materials.items()},
            {
                k: TextureRefs(*(np.concatenate([getattr(t, f) for t in v]) for f in TextureRefs.__dataclass_fields__))
                for k, v in textures.items()
            },
        )


def _flat_values(values: Any, boundaries: list, depth: int, bad: list[int]) -> list:
    """Per-surface entries of a nested ``values`` array; ``None`` where absent.

    A level that is ``null`` (or does not match the boundaries, counted in
    ``bad[0]``) gives ``None`` for every surface below it.
    """
    if depth == 0:
        n = len(boundaries)
        if type(values) is list and len(values) == n:
            return values
        if values is not None:
            bad[0] += 1
        return [None] * n
    if (
        depth == 1
        and type(values) is list
        and len(values) == len(boundaries)
        and all(type(v) is list for v in values)
        and list(map(len, values)) == list(map(len, boundaries))
    ):  # the usual Solid: one list of values per shell
        return list(chain.from_iterable(values))
    if not (isinstance(values, list) and len(values) == len(boundaries)):
        if values is not None:
            bad[0] += 1
        values = [None] * len(boundaries)
    out: list = []
    for v, b in zip(values, boundaries, strict=True):
        out.extend(_flat_values(v, b, depth - 1, bad))
    return out


def _as_float_array(items: list) -> np.ndarray:
    """``None`` → NaN; anything that is not a number → NaN (slow path only for bad input)."""
    try:
        return np.array(items, dtype=np.float64).reshape(len(items))
    except (TypeError, ValueError):
        return np.array(
            [v if isinstance(v, int | float) and not isinstance(v, bool) else np.nan for v in items], np.float64
        )


def _valid_index(values: np.ndarray, limit: np.ndarray | int) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values >= 0) & (values < limit) & (values == np.floor(values))


class GeometryFlattener:
    """Turns the geometry of CityJSON city objects into a :class:`FlatGeometry`.

    Parameters
    ----------
    lod_range
        Keep geometries whose LoD code lies in this inclusive range.
    templates
        The file's geometry templates, if any.
    skipped
        Reason → count, shared with the reader for its warnings.
    """

    def __init__(self, lod_range: tuple[int, int], templates: Templates | None, skipped: Counter[str]):
        self.lod_min, self.lod_max = lod_range
        self.templates = templates
        self.skipped = skipped

    def flatten(
        self,
        objects: Iterable[tuple[int, str, dict]],
        vertices: np.ndarray,
        *,
        n_materials: int = 0,
        n_textures: int = 0,
        material_base: int = 0,
        texture_base: int = 0,
        uv_table: np.ndarray | None = None,
        tick: Callable[[int], None] | None = None,
    ) -> FlatGeometry:
        """Flatten the geometries of ``(object index, type, object dict)`` items.

        ``vertices`` are the chunk's vertices, already transformed; material and
        texture indices are checked against ``n_materials``/``n_textures`` and
        shifted by the bases (a CityJSONSeq feature has its own appearance).
        ``tick(k)`` is called every few hundred objects (progress and cancel).

        Well-formed chunks take a batched path (:meth:`_flatten_fast`); anything
        unusual falls back to the geometry-by-geometry walk below, which counts
        every problem.
        """
        objects = objects if isinstance(objects, list) else list(objects)
        fast = self._flatten_fast(
            objects, vertices, n_materials, n_textures, material_base, texture_base, uv_table, tick
        )
        if fast is not None:
            return fast
        rings: list = []
        geo_nrings: list[int] = []  # rings per geometry
        geo_nsurf: list[int] = []  # surfaces per geometry
        geo_base: list[int] = []  # where the geometry's indices point in the extended vertex array
        geo_limit: list[int] = []  # how many vertices its indices may address
        geo_obj: list[int] = []
        geo_lod: list[int] = []
        geo_default: list[int] = []
        surf_nrings: list[int] = []
        sem_vals: list = []
        sem_lut: list[int] = []
        geo_lut_base: list[int] = []
        geo_lut_size: list[int] = []
        mat_acc: dict[str, tuple[list, list]] = {}
        tex_acc: dict[str, tuple[list, list, list, list]] = {}
        extra: list[np.ndarray] = []
        n_extra = 0
        n_vert = len(vertices)
        n_surf_total = 0
        bad_sem = [0]
        bad_mat = [0]
        bad_tex = [0]
        ring_counts: list[int] = []
        kinds = GeometryKinds(self.skipped)
        for k, (obj, otype, co) in enumerate(objects):
            if tick is not None and k % 256 == 0:
                tick(k)
            geometries = co.get("geometry")
            if not geometries or not isinstance(geometries, list):
                continue
            default = int(DEFAULT_CLASS_BY_TYPE.get(otype, SurfaceClass.NONE))
            for g in geometries:
                if not isinstance(g, dict):
                    self.skipped[SKIP_NESTING] += 1
                    continue
                gtype = g.get("type")
                lod = g.get("lod")
                base, limit = 0, n_vert
                if gtype == "GeometryInstance":
                    placed = self._instance(g, vertices)
                    if placed is None:
                        self.skipped[SKIP_INSTANCE] += 1
                        continue
                    g, inst_vertices = placed
                    gtype = g.get("type")
                    lod = lod if lod is not None else g.get("lod")
                    base, limit = n_vert + n_extra, len(inst_vertices)
                    pending_extra = inst_vertices
                else:
                    pending_extra = None
                kind = kinds(gtype, lod)
                if kind is None:
                    continue
                depth, code = kind
                if not self.lod_min <= code <= self.lod_max:
                    continue
                try:
                    boundaries = g["boundaries"]
                    surfaces = boundaries
                    for _ in range(depth):
                        surfaces = list(chain.from_iterable(surfaces))
                    nr = list(map(len, surfaces))
                    g_rings = list(chain.from_iterable(surfaces))
                    g_counts = list(map(len, g_rings))  # TypeError when a ring is a number
                    n_s = len(surfaces)
                    sem = g.get("semantics")
                    if isinstance(sem, dict):
                        vals = _flat_values(sem.get("values"), boundaries, depth, bad_sem)
                        lut = [
                            _CLASS_CODE.get(t, _OTHER) if type(s) is dict and type(t := s.get("type")) is str else _NONE
                            for s in (sem.get("surfaces") or [])
                        ]
                    else:
                        vals, lut = [None] * n_s, []
                    mats = self._materials(g.get("material"), boundaries, depth, bad_mat)
                    texs = self._textures(g.get("texture"), boundaries, depth, bad_tex)
                except (TypeError, KeyError, IndexError, AttributeError, ValueError):
                    self.skipped[SKIP_NESTING] += 1
                    continue
                # commit this geometry
                s0 = n_surf_total
                rings.extend(g_rings)
                ring_counts.extend(g_counts)
                surf_nrings.extend(nr)
                geo_nrings.append(len(g_rings))
                geo_nsurf.append(n_s)
                geo_base.append(base)
                geo_limit.append(limit)
                geo_obj.append(obj)
                geo_lod.append(code)
                geo_default.append(default)
                sem_vals.extend(vals)
                geo_lut_base.append(len(sem_lut))
                geo_lut_size.append(len(lut))
                sem_lut.extend(lut)
                for theme, value in mats.items():
                    acc = mat_acc.setdefault(theme, ([], []))
                    acc[0].extend(range(s0, s0 + n_s))
                    acc[1].extend(value)
                _add_textures(tex_acc, s0, texs)
                n_surf_total += n_s
                if pending_extra is not None:
                    extra.append(pending_extra)
                    n_extra += len(pending_extra)
        if bad_sem[0]:
            self.skipped[BAD_SEMANTICS] += bad_sem[0]
        if bad_mat[0]:
            self.skipped[BAD_MATERIAL] += bad_mat[0]
        if bad_tex[0]:
            self.skipped[BAD_TEXTURE] += bad_tex[0]
        if not rings:
            return FlatGeometry.empty()
        all_vertices = np.concatenate([vertices, *extra]) if extra else vertices
        return self._assemble(
            rings, np.asarray(ring_counts, np.int64), np.array(geo_nrings), np.array(geo_nsurf),
            np.array(geo_base), np.array(geo_limit), np.array(geo_obj), np.array(geo_lod), np.array(geo_default),
            surf_nrings, sem_vals, sem_lut, np.array(geo_lut_base), np.array(geo_lut_size), mat_acc, tex_acc,
            all_vertices, n_materials, n_textures, material_base, texture_base, uv_table,
        )  # fmt: skip

    # ------------------------------------------------------------ batched path
    def _flatten_fast(
        self, objects, vertices, n_materials, n_textures, material_base, texture_base, uv_table, tick
    ) -> FlatGeometry | None:  # fmt: skip
        """:meth:`flatten` for well-formed chunks, with no Python work per surface or ring.

        One cheap pass per geometry (type, LoD, where its boundaries go) gathers
        the *shells* (lists of surfaces) of all geometries, a MultiSurface being
        one shell; all shells are then unnested together with
        :func:`itertools.chain`, and semantic and material values, which mirror
        the boundaries, the same way after one length check for the whole chunk.
        Returns ``None`` (nothing counted, nothing changed) at the first thing it
        does not handle: the caller then takes the geometry-by-geometry path.
        """
        skipped: Counter[str] = Counter()
        n_vert = len(vertices)
        shells: list = []
        geo_nshells: list[int] = []
        geo_base: list[int] = []
        geo_limit: list[int] = []
        geo_obj: list[int] = []
        geo_lod: list[int] = []
        geo_default: list[int] = []
        geo_lut_size: list[int] = []
        sem_geo: list[int] = []  # geometries whose semantic values are in sem_shells
        sem_shells: list = []
        lut_src: list = []
        mat_values: dict[str, tuple[list[int], list]] = {}  # theme → (geometries, value shells)
        mat_single: dict[str, tuple[list[int], list]] = {}  # theme → (geometries, one value each)
        tex_found: list[tuple[int, dict[str, list]]] = []
        extra: list[np.ndarray] = []
        n_extra = 0
        bad = [0]
        lod_min, lod_max = self.lod_min, self.lod_max
        kinds = GeometryKinds(skipped)
        for k, (obj, otype, co) in enumerate(objects):
            if tick is not None and k % 256 == 0:
                tick(k)
            geometries = co.get("geometry")
            if not geometries or not isinstance(geometries, list):
                continue
            default = _DEFAULT_CODE.get(otype, _NONE)
            for g in geometries:
                if type(g) is not dict:
                    skipped[SKIP_NESTING] += 1
                    continue
                gtype = g.get("type")
                lod = g.get("lod")
                base, limit = 0, n_vert
                pending_extra = None
                if gtype == "GeometryInstance":
                    placed = self._instance(g, vertices)
                    if placed is None:
                        skipped[SKIP_INSTANCE] += 1
                        continue
                    g, pending_extra = placed
                    gtype = g.get("type")
                    lod = lod if lod is not None else g.get("lod")
                    base, limit = n_vert + n_extra, len(pending_extra)
                kind = kinds(gtype, lod)
                if kind is None:
                    continue
                depth, code = kind
                if not lod_min <= code <= lod_max:
                    continue
                b = g.get("boundaries")
                if type(b) is not list or depth > 1:
                    return None
                gi = len(geo_obj)
                sem = g.get("semantics")
                if isinstance(sem, dict):
                    surfaces = sem.get("surfaces")
                    if type(surfaces) is list:
                        lut_src.extend(surfaces)
                        geo_lut_size.append(len(surfaces))
                    elif not surfaces:
                        geo_lut_size.append(0)
                    else:
                        return None
                    values = sem.get("values")
                    if values is not None:
                        if type(values) is not list or len(values) != len(b):
                            return None
                        sem_geo.append(gi)
                        if depth:
                            sem_shells.extend(values)
                        else:
                            sem_shells.append(values)
                else:
                    geo_lut_size.append(0)
                mat = g.get("material")
                if type(mat) is dict:
                    for theme, spec in mat.items():
                        if type(spec) is not dict:
                            bad[0] += 1
                            continue
                        if "values" in spec:
                            values = spec["values"]
                            if type(values) is not list or len(values) != len(b):
                                return None
                            acc = mat_values.setdefault(str(theme), ([], []))
                            acc[0].append(gi)
                            if depth:
                                acc[1].extend(values)
                            else:
                                acc[1].append(values)
                        elif "value" in spec:
                            acc = mat_single.setdefault(str(theme), ([], []))
                            acc[0].append(gi)
                            acc[1].append(spec["value"])
                tex = g.get("texture")
                if tex is not None:
                    try:
                        texs = self._textures(tex, b, depth, skipped_bad := [0])
                    except (TypeError, KeyError, IndexError, AttributeError, ValueError):
                        return None
                    if skipped_bad[0]:
                        skipped[BAD_TEXTURE] += skipped_bad[0]
                    if texs:
                        tex_found.append((gi, texs))
                if depth:
                    shells.extend(b)
                    geo_nshells.append(len(b))
                else:
                    shells.append(b)
                    geo_nshells.append(1)
                geo_base.append(base)
                geo_limit.append(limit)
                geo_obj.append(obj)
                geo_lod.append(code)
                geo_default.append(default)
                if pending_extra is not None:
                    extra.append(pending_extra)
                    n_extra += len(pending_extra)
        try:  # the same unnesting as the slow path, over all geometries at once
            shell_nsurf = np.fromiter(map(len, shells), np.int64, count=len(shells))
            surfaces = list(chain.from_iterable(shells))
            surf_nrings = np.fromiter(map(len, surfaces), np.int64, count=len(surfaces))
            rings = list(chain.from_iterable(surfaces))
            ring_counts = np.fromiter(map(len, rings), np.int64, count=len(rings))
            lut = [
                _CLASS_CODE.get(t, _OTHER) if type(s) is dict and type(t := s.get("type")) is str else _NONE
                for s in lut_src
            ]
        except (TypeError, KeyError, IndexError, AttributeError, ValueError):
            return None
        n_geo = len(geo_obj)
        geo_nshells_a = np.asarray(geo_nshells, np.int64)
        shell_start = np.zeros(n_geo + 1, np.int64)
        np.cumsum(geo_nshells_a, out=shell_start[1:])
        surf_cum = np.zeros(len(shells) + 1, np.int64)
        np.cumsum(shell_nsurf, out=surf_cum[1:])
        surf_start = surf_cum[shell_start]  # (G + 1,) first surface of each geometry
        geo_nsurf = np.diff(surf_start)
        ring_cum = np.zeros(len(surfaces) + 1, np.int64)
        np.cumsum(surf_nrings, out=ring_cum[1:])
        geo_nrings = np.diff(ring_cum[surf_start])
        n_surf = len(surfaces)

        def surfaces_of(geos: list[int]) -> np.ndarray:
            g = np.asarray(geos, np.int64)
            n = geo_nsurf[g]
            return np.repeat(surf_start[g] - np.cumsum(n) + n, n) + np.arange(int(n.sum()))

        def shell_values(geos: list[int], value_shells: list) -> np.ndarray | None:
            """Per-surface values of these geometries, or None when they do not mirror the boundaries."""
            g = np.asarray(geos, np.int64)
            n = geo_nshells_a[g]
            own = np.repeat(shell_start[g] - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
            if len(own) != len(value_shells) or any(type(v) is not list for v in value_shells):
                return None
            lengths = np.fromiter(map(len, value_shells), np.int64, count=len(value_shells))
            if not np.array_equal(lengths, shell_nsurf[own]):
                return None
            return _as_float_array(list(chain.from_iterable(value_shells)))

        sem_vals = np.full(n_surf, np.nan)
        if sem_geo:
            v = shell_values(sem_geo, sem_shells)
            if v is None:
                return None
            sem_vals[surfaces_of(sem_geo)] = v
        mat_acc: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for theme in dict.fromkeys([*mat_values, *mat_single]):
            polys, vals = [], []
            if theme in mat_values:
                geos, value_shells = mat_values[theme]
                v = shell_values(geos, value_shells)
                if v is None:
                    return None
                polys.append(surfaces_of(geos))
                vals.append(v)
            if theme in mat_single:
                geos, single = mat_single[theme]
                polys.append(surfaces_of(geos))
                vals.append(np.repeat(_as_float_array(single), geo_nsurf[np.asarray(geos, np.int64)]))
            p, v = np.concatenate(polys), np.concatenate(vals)
            order = np.argsort(p, kind="stable")
            mat_acc[theme] = (p[order], v[order])
        tex_acc: dict[str, tuple[list, list, list, list]] = {}
        for gi, texs in tex_found:
            s0 = int(surf_start[gi])
            _add_textures(tex_acc, s0, texs)
        # commit: from here on, the chunk is read the way the slow path reads it
        if bad[0]:
            skipped[BAD_MATERIAL] += bad[0]
        self.skipped.update(skipped)
        if not rings:
            return FlatGeometry.empty()
        geo_lut_size_a = np.asarray(geo_lut_size, np.int64)
        geo_lut_base = np.zeros(n_geo, np.int64)
        np.cumsum(geo_lut_size_a[:-1], out=geo_lut_base[1:])
        all_vertices = np.concatenate([vertices, *extra]) if extra else vertices
        return self._assemble(
            rings, ring_counts, geo_nrings, geo_nsurf, np.asarray(geo_base, np.int64),
            np.asarray(geo_limit, np.int64), np.asarray(geo_obj, np.int64), np.asarray(geo_lod, np.int64),
            np.asarray(geo_default, np.int64), surf_nrings, sem_vals, lut, geo_lut_base, geo_lut_size_a,
            mat_acc, tex_acc, all_vertices, n_materials, n_textures, material_base, texture_base, uv_table,
        )  # fmt: skip

    # ------------------------------------------------------------ per geometry
    def _instance(self, g: dict, vertices: np.ndarray) -> tuple[dict, np.ndarray] | None:
        """The template of a GeometryInstance and its vertices placed in the model."""
        t = self.templates
        try:
            index = g["template"]
            if t is None or not isinstance(index, int) or not 0 <= index < len(t.templates):
                return None
            template = t.templates[index]
            matrix = np.array(g.get("transformationMatrix", np.eye(4).ravel()), dtype=np.float64).reshape(4, 4)
            ref = g["boundaries"][0]
            if not isinstance(ref, int) or not 0 <= ref < len(vertices) or not isinstance(template, dict):
                return None
        except (KeyError, IndexError, TypeError, ValueError):
            return None
        placed = t.vertices @ matrix[:3, :3].T + matrix[:3, 3] + vertices[ref]
        return template, placed

    @staticmethod
    def _materials(material: Any, boundaries: list, depth: int, bad: list[int]) -> dict[str, list]:
        if not isinstance(material, dict):
            return {}
        out = {}
        n = None
        for theme, spec in material.items():
            if not isinstance(spec, dict):
                bad[0] += 1
                continue
            if "values" in spec:
                out[str(theme)] = _flat_values(spec["values"], boundaries, depth, bad)
            elif "value" in spec:
                if n is None:
                    n = len(_flat_values(None, boundaries, depth, bad))
                out[str(theme)] = [spec["value"]] * n
        return out

    @staticmethod
    def _textures(texture: Any, boundaries: list, depth: int, bad: list[int]) -> dict[str, list]:
        """theme → [(surface, (ring position, texture index, uv index list))]."""
        if not isinstance(texture, dict):
            return {}
        out: dict[str, list] = {}
        for theme, spec in texture.items():
            if not isinstance(spec, dict):
                bad[0] += 1
                continue
            per_surface = _flat_values(spec.get("values"), boundaries, depth, bad)
            entries = []
            for i, surface in enumerate(per_surface):
                if not isinstance(surface, list):
                    continue
                for ring_pos, ring in enumerate(surface):
                    if isinstance(ring, list) and len(ring) > 1 and ring[0] is not None:
                        entries.append((i, (ring_pos, ring[0], ring[1:])))
            out[str(theme)] = entries
        return out

    # --------------------------------------------------------------- arrays
    def _assemble(
        self, rings, ring_counts, geo_nrings, geo_nsurf, geo_base, geo_limit, geo_obj, geo_lod, geo_default,
        surf_nrings, sem_vals, sem_lut, geo_lut_base, geo_lut_size, mat_acc, tex_acc, vertices,
        n_materials, n_textures, material_base, texture_base, uv_table, raw=None,
    ) -> FlatGeometry:  # fmt: skip
        """The chunk's arrays.

        ``raw``, the vertex indices of all rings, replaces ``rings`` when given: float64 as read
        from JSON numbers, or non-negative int64 from :mod:`citytwin.io.cityjson_raw`.
        """
        poly_nrings = np.asarray(surf_nrings, np.int64)
        poly_drop = np.zeros(len(poly_nrings), bool)
        if raw is None:
            try:
                raw = np.fromiter(chain.from_iterable(rings), np.float64, count=int(ring_counts.sum()))
            except (TypeError, ValueError, OverflowError):
                raw = self._raw_indices_slow(rings, ring_counts, geo_nrings, geo_nsurf, poly_drop)
        if raw.dtype == np.int64 and not geo_base.any() and (geo_limit == len(vertices)).all():  # raw path
            ok = raw < len(vertices)  # (no negative ones there)
            index = raw if ok.all() else np.where(ok, raw, 0)
        elif len(geo_limit) and (geo_limit == geo_limit[0]).all() and not geo_base.any():  # no instances
            ok = _valid_index(raw, int(geo_limit[0]))
            index = raw.astype(np.int64) if ok.all() else np.where(ok, raw, 0).astype(np.int64)
        else:
            ring_base = np.repeat(geo_base, geo_nrings)
            ring_limit = np.repeat(geo_limit, geo_nrings)
            vert_limit = np.repeat(ring_limit, ring_counts)
            ok = _valid_index(raw, vert_limit)
            index = np.where(ok, raw + np.repeat(ring_base, ring_counts), 0).astype(np.int64)
        ring_first = np.zeros(len(poly_nrings), np.int64)
        np.cumsum(poly_nrings[:-1], out=ring_first[1:])
        if not ok.all():
            bad_cum = np.concatenate([[0], np.cumsum(~ok)])
            offsets = np.concatenate([[0], np.cumsum(ring_counts)])
            ring_bad = (bad_cum[offsets[1:]] - bad_cum[offsets[:-1]]) > 0
            ring_bad_cum = np.concatenate([[0], np.cumsum(ring_bad)])
            poly_bad = (ring_bad_cum[ring_first + poly_nrings] - ring_bad_cum[ring_first]) > 0
            n_bad = int((poly_bad & ~poly_drop).sum())
            if n_bad:
                self.skipped[SKIP_INDEX] += n_bad
            poly_drop |= poly_bad
        coords = vertices[index] if len(vertices) else np.zeros((len(index), 3))
        poly_object = np.repeat(geo_obj, geo_nsurf).astype(np.int64)
        poly_lod = np.repeat(geo_lod, geo_nsurf).astype(np.uint8)
        poly_semantic = self._semantics(sem_vals, sem_lut, geo_lut_base, geo_lut_size, geo_nsurf, geo_default)
        materials = {}
        for theme, (polys, vals) in mat_acc.items():
            v = _as_float_array(vals)
            good = _valid_index(v, n_materials)
            n_bad = int((~good & ~np.isnan(v)).sum())
            if n_bad:
                self.skipped[BAD_MATERIAL] += n_bad
            materials[theme] = (np.asarray(polys, np.int64)[good], v[good].astype(np.int64) + material_base)
        textures = {
            theme: self._texture_refs(acc, n_textures, texture_base, uv_table) for theme, acc in tex_acc.items()
        }
        flat = FlatGeometry(coords, ring_counts, poly_nrings, poly_object, poly_lod, poly_semantic, materials, textures)
        return flat.select(~poly_drop) if poly_drop.any() else flat

    def _raw_indices_slow(self, rings, ring_counts, geo_nrings, geo_nsurf, poly_drop) -> np.ndarray:
        """Geometry by geometry, for chunks whose rings hold something other than numbers."""
        out = []
        r0, s0 = 0, 0
        for nr, ns in zip(geo_nrings.tolist(), geo_nsurf.tolist(), strict=True):
            part = rings[r0 : r0 + nr]
            n = int(ring_counts[r0 : r0 + nr].sum())
            try:
                out.append(np.fromiter(chain.from_iterable(part), np.float64, count=n))
            except (TypeError, ValueError, OverflowError):
                out.append(np.full(n, np.nan))
                poly_drop[s0 : s0 + ns] = True
                self.skipped[SKIP_NESTING] += 1
            r0 += nr
            s0 += ns
        return np.concatenate(out) if out else np.zeros(0)

    def _semantics(self, sem_vals, sem_lut, geo_lut_base, geo_lut_size, geo_nsurf, geo_default) -> np.ndarray:
        default = np.repeat(geo_default, geo_nsurf).astype(np.uint8)
        if not sem_lut:
            return default
        v = _as_float_array(sem_vals)
        size = np.repeat(geo_lut_size, geo_nsurf)
        good = _valid_index(v, size)
        n_bad = int((~good & ~np.isnan(v)).sum())
        if n_bad:
            self.skipped[BAD_SEMANTICS] += n_bad
        lut = np.asarray(sem_lut, np.uint8)
        where = np.repeat(geo_lut_base, geo_nsurf)[good] + v[good].astype(np.int64)
        out = default.copy()
        out[good] = lut[where]
        return out

    def _texture_refs(self, acc, n_textures, texture_base, uv_table) -> TextureRefs:
        polys, ring_pos, tex, uv_lists = acc
        if not polys:
            return TextureRefs.empty()
        t = _as_float_array(tex)
        counts = np.fromiter(map(len, uv_lists), np.int64, count=len(uv_lists))
        try:
            raw = np.fromiter(chain.from_iterable(uv_lists), np.float64, count=int(counts.sum()))
        except (TypeError, ValueError, OverflowError):
            raw = _as_float_array(list(chain.from_iterable(uv_lists)))
        table = uv_table if uv_table is not None else np.zeros((0, 2))
        uv_ok = _valid_index(raw, len(table))
        uv_bad_cum = np.concatenate([[0], np.cumsum(~uv_ok)])
        offsets = np.concatenate([[0], np.cumsum(counts)])
        ring_ok = (uv_bad_cum[offsets[1:]] - uv_bad_cum[offsets[:-1]]) == 0
        good = _valid_index(t, n_textures) & ring_ok
        n_bad = int((~good).sum())
        if n_bad:
            self.skipped[BAD_TEXTURE] += n_bad
        uv = table[np.where(uv_ok, raw, 0).astype(np.int64)] if len(table) else np.zeros((len(raw), 2))
        return TextureRefs(
            np.asarray(polys, np.int64)[good],
            np.asarray(ring_pos, np.int64)[good],
            t[good].astype(np.int64) + texture_base,
            counts[good],
            uv[np.repeat(good, counts)],
        )


def _add_textures(tex_acc: dict[str, tuple[list, list, list, list]], s0: int, texs: dict) -> None:
    """Append one geometry's texture entries (surface, ring position, texture, uv) under their theme."""
    for theme, entries in texs.items():
        surfaces, rings, textures, uvs = tex_acc.setdefault(theme, ([], [], [], []))
        for i, (ring_pos, tex, uv) in entries:
            surfaces.append(s0 + i)
            rings.append(ring_pos)
            textures.append(tex)
            uvs.append(uv)
