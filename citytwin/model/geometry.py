"""Surface geometry as flat numpy arrays: rings, polygons and triangles.

A city model is never a Python object per polygon. Rings are runs of
consecutive vertices, polygons are runs of consecutive rings, and every
per-polygon property is one array. Triangles keep the index of the polygon
they came from, so every per-triangle property (object, semantic class, LoD,
material) is derived by indexing, never stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from citytwin.model.semantics import SurfaceClass, lod_name
from citytwin.model.triangulate import newell_normals, triangulate

#: RGBA given to the vertices of polygons added without colours when other vertices have one
#: (:class:`Material`'s default diffuse grey).
DEFAULT_VERTEX_COLOUR = (204, 204, 204, 255)


@dataclass
class ThemeAppearance:
    """Materials and textures of one appearance theme.

    Attributes
    ----------
    material
        ``(P,)`` int32 index into :attr:`MeshData.materials`, -1 where none.
    texture
        ``(P,)`` int32 index into :attr:`MeshData.textures`, -1 where none.
    uv
        ``(V, 2)`` float32 texture coordinates, NaN where the vertex has none;
        ``None`` when the theme has no texture at all.
    """

    material: np.ndarray
    texture: np.ndarray
    uv: np.ndarray | None = None


@dataclass
class Material:
    """An X3DMaterial or CityJSON material (the part a viewer shows)."""

    diffuse: tuple[float, float, float] = (0.8, 0.8, 0.8)
    transparency: float = 0.0
    name: str | None = None
    specular: tuple[float, float, float] | None = None
    emissive: tuple[float, float, float] | None = None
    shininess: float | None = None


@dataclass
class Texture:
    """A texture image referenced by a model (the path may not exist)."""

    path: str
    exists: bool = True


@dataclass
class MeshData:
    """Polygons with holes and their triangulation, in float64 source coordinates.

    Attributes
    ----------
    vertices
        ``(V, 3)`` float64 in the source CRS.
    ring_offsets
        ``(R + 1,)`` int64; ring ``r`` is ``vertices[ring_offsets[r]:ring_offsets[r+1]]``
        (not closed: the last vertex is not the first repeated).
    polygon_rings
        ``(P + 1,)`` int64; polygon ``p`` owns rings ``polygon_rings[p]:polygon_rings[p+1]``,
        the first being the exterior.
    poly_object
        ``(P,)`` int32 index of the most specific city object owning the polygon
        (a RoofSurface rather than its Building when the file has one).
    poly_semantic
        ``(P,)`` uint8 :class:`~citytwin.model.semantics.SurfaceClass`.
    poly_lod
        ``(P,)`` uint8 LoD code (see :func:`~citytwin.model.semantics.lod_code`).
    triangles
        ``(T, 3)`` int32 vertex indices, oriented like the polygon's exterior.
    tri_polygon
        ``(T,)`` int32 polygon of each triangle.
    poly_ids
        Original polygon ids (``gml:id``) where the source had them, ``None`` otherwise.
    appearances
        Appearance themes by name.
    materials, textures
        Tables indexed by :class:`ThemeAppearance`.
    vertex_colours
        ``(V, 4)`` uint8 RGBA of each vertex (a coloured photogrammetry mesh), aligned with
        :attr:`vertices`; ``None`` when the source has no vertex colours. Vertices are per ring,
        so every vertex belongs to one polygon and a colour never bleeds into a neighbour.
    """

    vertices: np.ndarray
    ring_offsets: np.ndarray
    polygon_rings: np.ndarray
    poly_object: np.ndarray
    poly_semantic: np.ndarray
    poly_lod: np.ndarray
    triangles: np.ndarray
    tri_polygon: np.ndarray
    poly_ids: list[str | None] | None = None
    appearances: dict[str, ThemeAppearance] = field(default_factory=dict)
    materials: list[Material] = field(default_factory=list)
    textures: list[Texture] = field(default_factory=list)
    vertex_colours: np.ndarray | None = None

    # ----------------------------------------------------------------- sizes
    @property
    def n_polygons(self) -> int:
        return len(self.polygon_rings) - 1

    @property
    def n_triangles(self) -> int:
        return len(self.triangles)

    @property
    def n_rings(self) -> int:
        return len(self.ring_offsets) - 1

    # ------------------------------------------------------ derived per triangle
    @cached_property
    def tri_object(self) -> np.ndarray:
        """``(T,)`` int32 object index of each triangle."""
        return self.poly_object[self.tri_polygon]

    @cached_property
    def tri_semantic(self) -> np.ndarray:
        """``(T,)`` uint8 semantic class of each triangle."""
        return self.poly_semantic[self.tri_polygon]

    @cached_property
    def tri_lod(self) -> np.ndarray:
        """``(T,)`` uint8 LoD code of each triangle."""
        return self.poly_lod[self.tri_polygon]

    # ----------------------------------------------------------------- queries
    @property
    def bounds(self) -> np.ndarray:
        """``[xmin, ymin, zmin, xmax, ymax, zmax]`` of the vertices (NaN when empty)."""
        if len(self.vertices) == 0:
            return np.full(6, np.nan)
        return np.concatenate([self.vertices.min(axis=0), self.vertices.max(axis=0)])

    @property
    def lods(self) -> list[str]:
        """The LoDs present, as strings sorted ascending (``["1", "2"]``)."""
        return [lod_name(c) for c in np.unique(self.poly_lod)]

    @property
    def semantic_classes(self) -> list[SurfaceClass]:
        """The semantic classes present."""
        return [SurfaceClass(c) for c in np.unique(self.poly_semantic)]

    def polygon_areas(self) -> np.ndarray:
        """``(P,)`` area of each polygon: exterior minus holes."""
        ring_area = np.linalg.norm(newell_normals(self.vertices, self.ring_offsets), axis=1) / 2
        if self.n_polygons == 0:
            return np.zeros(0)
        total = np.add.reduceat(ring_area, self.polygon_rings[:-1]) if len(ring_area) else np.zeros(0)
        outer = ring_area[self.polygon_rings[:-1]]
        return outer - (total - outer)

    def triangle_areas(self) -> np.ndarray:
        """``(T,)`` area of each triangle."""
        a, b, c = (self.vertices[self.triangles[:, k]] for k in range(3))
        return np.linalg.norm(np.cross(b - a, c - a), axis=1) / 2

    def select_polygons(self, keep: np.ndarray) -> MeshData:
        """A new mesh holding only the polygons where ``keep`` is true."""
        keep = np.asarray(keep, bool)
        rings_per_poly = np.diff(self.polygon_rings)
        ring_keep = np.repeat(keep, rings_per_poly)
        verts_per_ring = np.diff(self.ring_offsets)
        vert_keep = np.repeat(ring_keep, verts_per_ring)
        new_vertex = np.cumsum(vert_keep) - 1
        new_poly = np.cumsum(keep) - 1
        tri_keep = keep[self.tri_polygon]
        ring_offsets = np.concatenate([[0], np.cumsum(verts_per_ring[ring_keep])])
        polygon_rings = np.concatenate([[0], np.cumsum(rings_per_poly[keep])])
        appearances = {
            name: ThemeAppearance(th.material[keep], th.texture[keep], None if th.uv is None else th.uv[vert_keep])
            for name, th in self.appearances.items()
        }
        return MeshData(
            vertices=self.vertices[vert_keep],
            ring_offsets=ring_offsets.astype(np.int64),
            polygon_rings=polygon_rings.astype(np.int64),
            poly_object=self.poly_object[keep],
            poly_semantic=self.poly_semantic[keep],
            poly_lod=self.poly_lod[keep],
            triangles=new_vertex[self.triangles[tri_keep]].astype(np.int32),
            tri_polygon=new_poly[self.tri_polygon[tri_keep]].astype(np.int32),
            poly_ids=None if self.poly_ids is None else [i for i, k in zip(self.poly_ids, keep, strict=True) if k],
            appearances=appearances,
            materials=self.materials,
            textures=self.textures,
            vertex_colours=None if self.vertex_colours is None else self.vertex_colours[vert_keep],
        )

    @classmethod
    def empty(cls) -> MeshData:
        """A mesh with nothing in it."""
        return MeshBuilder().build()


class MeshBuilder:
    """Collects polygons while a reader walks a file, then builds a :class:`MeshData`.

    Readers call :meth:`add_polygon` once per polygon. Coordinates are copied
    into one growing list of arrays and concatenated once in :meth:`build`.
    Degenerate input (fewer than 3 distinct points, NaN, zero area) is dropped
    and counted in :attr:`warnings`, never raised.
    """

    def __init__(self) -> None:
        self._rings: list[np.ndarray] = []
        # (position in _rings, vertices, ring counts, RGBA or None) of blocks added by add_polygons
        self._blocks: list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]] = []
        self._ring_uv: dict[int, np.ndarray] = {}
        self._poly_nrings = _Column()
        self._poly_object = _Column()
        self._poly_semantic = _Column()
        self._poly_lod = _Column()
        self._poly_ids: dict[int, str] = {}
        self._n_rings = 0
        #: reason → count of dropped rings/polygons
        self.skipped: dict[str, int] = {}
        self.materials: list[Material] = []
        self.textures: list[Texture] = []
        # theme → {polygon: material} / {polygon: texture}
        self._theme_material: dict[str, dict[int, int]] = {}
        self._theme_texture: dict[str, dict[int, int]] = {}
        # theme → {ring index: uv array}
        self._theme_uv: dict[str, dict[int, np.ndarray]] = {}

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def n_polygons(self) -> int:
        return len(self._poly_nrings)

    def add_polygon(
        self,
        rings: list[np.ndarray],
        obj: int,
        semantic: int = 0,
        lod: int = 0,
        polygon_id: str | None = None,
    ) -> int:
        """Add one polygon; return its index, or -1 if it was dropped.

        Parameters
        ----------
        rings
            Exterior first, then holes; each ``(n, 3)`` float64. A closing
            vertex equal to the first is removed. Holes with fewer than three
            points are dropped with a warning; a bad exterior drops the polygon.
        obj
            Index of the owning city object.
        semantic
            :class:`SurfaceClass` code.
        lod
            LoD code.
        polygon_id
            The source polygon id (``gml:id``), kept for write-back and for
            appearance targets.
        """
        clean: list[np.ndarray] = []
        for k, ring in enumerate(rings):
            ring = np.asarray(ring, dtype=np.float64)
            if ring.ndim != 2 or ring.shape[1] != 3:
                self._skip("ring coordinates are not 3D")
                if k == 0:
                    return -1
                continue
            if len(ring) > 1 and np.array_equal(ring[0], ring[-1]):
                ring = ring[:-1]
            if not np.isfinite(ring).all():
                self._skip("NaN or infinite coordinates")
                if k == 0:
                    return -1
                continue
            if len(ring) < 3:
                self._skip("ring with fewer than 3 points")
                if k == 0:
                    return -1
                continue
            clean.append(ring)
        index = len(self._poly_nrings)
        self._rings.extend(clean)
        self._n_rings += len(clean)
        self._poly_nrings.append(len(clean))
        self._poly_object.append(obj)
        self._poly_semantic.append(semantic)
        self._poly_lod.append(lod)
        if polygon_id is not None:
            self._poly_ids[index] = polygon_id
        return index

    def add_polygons(
        self,
        vertices: np.ndarray,
        ring_counts: np.ndarray,
        poly_nrings: np.ndarray,
        obj: np.ndarray | int,
        semantic: np.ndarray | int = 0,
        lod: np.ndarray | int = 0,
        colours: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Add many polygons at once, cleaned like :meth:`add_polygon` but vectorised.

        Parameters
        ----------
        vertices
            ``(V, 3)`` float64, every ring's points one after another.
        ring_counts
            ``(R,)`` number of points of each ring.
        poly_nrings
            ``(P,)`` number of rings of each polygon (exterior first); sums to ``R``.
        obj, semantic, lod
            Per polygon ``(P,)`` arrays, or one value for all.
        colours
            ``(V, 4)`` uint8 RGBA of each vertex, or ``None``. They follow the vertices
            kept (the built mesh gets :attr:`MeshData.vertex_colours`; vertices added
            without colours then get :data:`DEFAULT_VERTEX_COLOUR`).

        The builder may keep ``vertices`` without copying it (when every vertex is kept):
        hand over arrays that are not changed before :meth:`build`.

        Returns
        -------
        polygon_index
            ``(P,)`` int64 index of each polygon in the builder, -1 where dropped.
        ring_index
            ``(R,)`` int64 global index of each ring in the builder, -1 where dropped
            (see :meth:`ring_index`).
        """
        vertices = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        ring_counts = np.asarray(ring_counts, dtype=np.int64)
        poly_nrings = np.asarray(poly_nrings, dtype=np.int64)
        n_poly, n_ring = len(poly_nrings), len(ring_counts)
        if int(poly_nrings.sum()) != n_ring or int(ring_counts.sum()) != len(vertices):
            raise ValueError("add_polygons: ring_counts and poly_nrings do not match the vertices")
        if colours is not None:
            colours = np.asarray(colours)
            if colours.shape != (len(vertices), 4) or colours.dtype != np.uint8:
                raise ValueError("add_polygons: colours must be (V, 4) uint8, one row per vertex")
        offsets = np.zeros(n_ring + 1, np.int64)
        np.cumsum(ring_counts, out=offsets[1:])
        starts, last = offsets[:-1], offsets[1:] - 1
        # A closing vertex equal to the first is removed.
        closed = ring_counts > 1
        closed[closed] = _rows_all(vertices[starts[closed]] == vertices[last[closed]])
        keep_vertex = np.ones(len(vertices), bool)
        keep_vertex[last[closed]] = False
        counts = ring_counts - closed
        bad_vertex = ~_rows_all(np.isfinite(vertices))
        bad_cum = np.concatenate([[0], np.cumsum(bad_vertex)])
        nonfinite = (bad_cum[offsets[1:]] - bad_cum[starts]) > 0
        short = ~nonfinite & (counts < 3)
        ring_ok = ~nonfinite & ~short
        # A polygon lives or dies with its exterior; bad holes are dropped.
        first_ring = np.zeros(n_poly, np.int64)
        np.cumsum(poly_nrings[:-1], out=first_ring[1:])
        has_rings = poly_nrings > 0
        poly_ok = has_rings.copy()
        poly_ok[has_rings] = ring_ok[first_ring[has_rings]]
        ring_poly_ok = np.repeat(poly_ok, poly_nrings)
        # Count problems like add_polygon does: a bad exterior drops its polygon
        # (its holes are not looked at), a bad hole of a kept polygon drops the hole.
        examined = ring_poly_ok.copy()
        examined[first_ring[has_rings]] = True
        for reason, mask in (("NaN or infinite coordinates", nonfinite), ("ring with fewer than 3 points", short)):
            n_bad = int((mask & examined).sum())
            if n_bad:
                self.skipped[reason] = self.skipped.get(reason, 0) + n_bad
        n_empty = int((~has_rings).sum())
        if n_empty:
            self.skipped["polygon without rings"] = self.skipped.get("polygon without rings", 0) + n_empty
        ring_keep = ring_ok & ring_poly_ok
        keep_cum = np.concatenate([[0], np.cumsum(ring_keep)])
        kept_nrings = (keep_cum[first_ring + poly_nrings] - keep_cum[first_ring])[poly_ok]
        keep_vertex &= np.repeat(ring_keep, ring_counts)
        keep_all = bool(keep_vertex.all())  # then no copy: a copy of 10^5 points costs more than the checks
        kept_vertices = vertices if keep_all else vertices[keep_vertex]
        kept_counts = counts[ring_keep]
        if len(kept_counts):
            kept_colours = None if colours is None else colours[keep_vertex]
            self._blocks.append((len(self._rings), kept_vertices, kept_counts, kept_colours))
        base_poly, base_ring = len(self._poly_nrings), self._n_rings
        self._n_rings += len(kept_counts)
        self._poly_nrings.extend(kept_nrings)
        for target, value in ((self._poly_object, obj), (self._poly_semantic, semantic), (self._poly_lod, lod)):
            target.extend(np.broadcast_to(np.asarray(value), (n_poly,))[poly_ok])
        polygon_index = np.full(n_poly, -1, np.int64)
        polygon_index[poly_ok] = base_poly + np.arange(int(poly_ok.sum()))
        ring_index = np.full(n_ring, -1, np.int64)
        ring_index[ring_keep] = base_ring + np.arange(int(ring_keep.sum()))
        return polygon_index, ring_index

    def ring_index(self, polygon: int, k: int) -> int:
        """Global index of ring ``k`` of a polygon added earlier (before :meth:`build`)."""
        # Rings are appended in polygon order; keep a lazy prefix sum.
        if not hasattr(self, "_ring_start") or len(self._ring_start) <= polygon:
            self._ring_start = np.concatenate([[0], np.cumsum(self._poly_nrings.array(np.int64))])
        return int(self._ring_start[polygon]) + k

    def set_material(self, theme: str, polygon: int, material: int) -> None:
        """Give a polygon a material in an appearance theme."""
        self._theme_material.setdefault(theme, {})[polygon] = material

    def set_materials(self, theme: str, polygons: np.ndarray, materials: np.ndarray) -> None:
        """:meth:`set_material` for many polygons at once (later entries win, as with repeated calls)."""
        self._theme_material.setdefault(theme, {}).update(
            zip(np.asarray(polygons).tolist(), np.asarray(materials).tolist(), strict=True)
        )

    def set_texture(self, theme: str, polygon: int, texture: int, ring_uvs: dict[int, np.ndarray]) -> None:
        """Give a polygon a texture with per-vertex coordinates for some of its rings.

        ``ring_uvs`` maps a ring's position in the polygon (0 = exterior) to an
        ``(n, 2)`` array; a closing coordinate equal to the first is removed.
        """
        self._theme_texture.setdefault(theme, {})[polygon] = texture
        uvs = self._theme_uv.setdefault(theme, {})
        for k, uv in ring_uvs.items():
            uvs[self.ring_index(polygon, k)] = np.asarray(uv, dtype=np.float32)

    def _ids_list(self, n_poly: int) -> list[str | None] | None:
        """Source ids of all polygons (None where absent), or None when no polygon has one."""
        if not self._poly_ids:
            return None
        ids: list[str | None] = [None] * n_poly
        for k, ident in self._poly_ids.items():
            ids[k] = ident
        return ids

    def _gather_rings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Ring sizes, vertices and vertex colours (``None`` if no block has any) in the order added."""
        if len(self._blocks) == 1 and not self._rings:  # one add_polygons call: its arrays as they are
            _, block_vertices, block_counts, block_rgba = self._blocks[0]
            return block_counts.astype(np.int64, copy=False), block_vertices, block_rgba
        v_parts: list[np.ndarray] = []
        c_parts: list[np.ndarray] = []
        rgba_parts: list[np.ndarray | None] = []
        prev = 0
        for pos, block_vertices, block_counts, block_rgba in [*self._blocks, (len(self._rings), None, None, None)]:
            singles = self._rings[prev:pos]
            if singles:
                v_parts.extend(singles)
                c_parts.append(np.fromiter(map(len, singles), dtype=np.int64, count=len(singles)))
                rgba_parts.extend([None] * len(singles))
            if block_vertices is not None:
                v_parts.append(block_vertices)
                c_parts.append(block_counts)
                rgba_parts.append(block_rgba)
            prev = pos
        if not v_parts:
            return np.zeros(0, np.int64), np.zeros((0, 3)), None
        colours = None
        if any(c is not None for c in rgba_parts):
            colours = np.concatenate(
                [
                    np.broadcast_to(np.array(DEFAULT_VERTEX_COLOUR, np.uint8), (len(v), 4)) if c is None else c
                    for v, c in zip(v_parts, rgba_parts, strict=True)
                ]
            )
        return np.concatenate(c_parts).astype(np.int64), np.concatenate(v_parts), colours

    def build(
        self, axis_scale: tuple[float, float, float] | None = None, max_polygon_vertices: int | None = None
    ) -> MeshData:
        """Concatenate, triangulate and return the mesh.

        ``axis_scale`` (``(sx, sy, sz)``) is used by the triangulation only, for axes
        in different units (see :func:`~citytwin.model.triangulate.triangulate`); the
        stored vertices stay exactly as added. Polygons with more than
        ``max_polygon_vertices`` vertices (all rings) are kept but get no triangles,
        and are counted in :attr:`skipped`: triangulating a self-intersecting ring
        takes time quadratic in its vertices, so one damaged polygon of millions of
        vertices would take hours.
        """
        counts, vertices, colours = self._gather_rings()
        ring_offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=ring_offsets[1:])
        polygon_rings = np.zeros(len(self._poly_nrings) + 1, dtype=np.int64)
        np.cumsum(self._poly_nrings.array(np.int64), out=polygon_rings[1:])
        too_large = None
        if max_polygon_vertices is not None and len(vertices) > max_polygon_vertices:
            too_large = np.diff(ring_offsets[polygon_rings]) > max_polygon_vertices
            n_large = int(too_large.sum())
            if n_large:
                reason = f"polygons with more than {max_polygon_vertices:,} vertices (not triangulated)"
                self.skipped[reason] = self.skipped.get(reason, 0) + n_large
            else:
                too_large = None
        triangles, tri_polygon, degenerate = triangulate(
            vertices, ring_offsets, polygon_rings, axis_scale, skip=too_large
        )
        n_deg = int(degenerate.sum())
        if n_deg:
            self.skipped["polygons with zero area"] = self.skipped.get("polygons with zero area", 0) + n_deg
        n_poly = len(self._poly_nrings)
        appearances: dict[str, ThemeAppearance] = {}
        for theme in sorted(set(self._theme_material) | set(self._theme_texture)):
            mat = _dict_to_array(self._theme_material.get(theme, {}), n_poly)
            tex = _dict_to_array(self._theme_texture.get(theme, {}), n_poly)
            uv = None
            ring_uv = self._theme_uv.get(theme)
            if ring_uv:
                uv = np.full((len(vertices), 2), np.nan, np.float32)
                for r, coords in ring_uv.items():
                    a, b = ring_offsets[r], ring_offsets[r + 1]
                    if len(coords) == b - a + 1 and np.array_equal(coords[0], coords[-1]):
                        coords = coords[:-1]
                    if len(coords) == b - a:
                        uv[a:b] = coords
                    else:
                        self._skip("texture coordinates that do not match their ring")
            appearances[theme] = ThemeAppearance(mat, tex, uv)
        return MeshData(
            vertices=vertices,
            ring_offsets=ring_offsets,
            polygon_rings=polygon_rings,
            poly_object=self._poly_object.array(np.int32),
            poly_semantic=self._poly_semantic.array(np.uint8),
            poly_lod=self._poly_lod.array(np.uint8),
            triangles=triangles,
            tri_polygon=tri_polygon,
            poly_ids=self._ids_list(n_poly),
            appearances=appearances,
            materials=self.materials,
            textures=self.textures,
            vertex_colours=colours,
        )


class _Column:
    """A per-polygon column that grows by single values (a list) and by whole arrays (kept as they are).

    Bulk readers add 10^5 polygons at once; turning those into Python lists and back
    cost more than the rest of :meth:`MeshBuilder.add_polygons`.
    """

    __slots__ = ("_n", "_parts", "_tail")

    def __init__(self) -> None:
        self._parts: list[np.ndarray | list] = []
        self._tail: list = []
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, value: int) -> None:
        self._tail.append(value)
        self._n += 1

    def extend(self, values: np.ndarray) -> None:
        if self._tail:
            self._parts.append(self._tail)
            self._tail = []
        self._parts.append(values)
        self._n += len(values)

    def array(self, dtype: type) -> np.ndarray:
        """All values in order as one array of ``dtype``."""
        parts = [*self._parts, self._tail] if self._tail else self._parts
        if len(parts) == 1:
            return np.asarray(parts[0], dtype=dtype)
        return np.concatenate([np.asarray(p, dtype=dtype) for p in parts]) if parts else np.zeros(0, dtype)


def _rows_all(mask: np.ndarray) -> np.ndarray:
    """``mask.all(axis=1)`` for an ``(N, 3)`` bool array, column by column (numpy's reduction over a
    3-wide axis is several times slower)."""
    return mask[:, 0] & mask[:, 1] & mask[:, 2]


def _dict_to_array(values: dict[int, int], n: int) -> np.ndarray:
    """``(n,)`` int32 with ``values[p]`` at ``p`` and -1 elsewhere."""
    out = np.full(n, -1, np.int32)
    if values:
        out[np.fromiter(values.keys(), np.int64, len(values))] = np.fromiter(values.values(), np.int64, len(values))
    return out
