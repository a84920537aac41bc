"""New buildings for the editor: a drawn footprint, a height and a roof, made into a closed solid.

A planner draws a footprint (holes allowed), gives a height (or storeys × storey height) and picks a roof;
:func:`make_building` turns that :class:`BuildingSpec` into a :class:`NewBuilding`: a CityJSON-style solid
(one shell of planar surfaces, each a list of rings of vertex indices) with Ground, Wall and Roof surfaces,
closed, with outward normals, and the usual attributes filled in.

What each roof can stand on (LoD2; LoD1 is always a flat block of the total height, on any footprint):

* ``"flat"`` and ``"shed"`` (one sloped plane): any simple footprint, with holes (courtyards);
* ``"gabled"`` (two planes meeting at a horizontal ridge, gable walls as pentagons): any convex footprint
  without holes, along ``ridge_direction``; on an L, T, U or plus, a cross-gabled roof: the straight
  skeleton with the wings' ends standing still (:func:`_gable_ends`), so that they become gable walls;
* ``"hipped"`` (one plane per eave, all of the same pitch, as a straight skeleton: four faces on a
  rectangle, with the ridge shortened by half the width at each end): any footprint, L, T and U shapes
  and courtyards included (:mod:`citytwin.model.roof_skeleton`);

other footprints raise a one-sentence :class:`ValueError`.

Heights: ``height`` (or ``storeys * storey_height``) is the height of the walls, up to the eaves; a pitched
roof adds ``roof_height`` on top (eave to ridge). ``measuredHeight`` is the total height.

Everything is computed in a local frame around the footprint (so projected coordinates keep their
precision), and vertices closer than :data:`SNAP` (a millimetre) are one vertex.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from citytwin.model.roof_skeleton import hipped_roof, roof_faces
from citytwin.model.semantics import SURFACE_CLASS_BY_NAME
from citytwin.model.triangulate import triangulate

RoofKind = Literal["flat", "gabled", "hipped", "shed"]

#: The roofs :class:`BuildingSpec` knows.
ROOF_KINDS: tuple[str, ...] = ("flat", "gabled", "hipped", "shed")

#: ``roofType`` codes: the AdV/ALKIS code list of German CityGML (the bundled sample district uses it too):
#: Flachdach, Pultdach (mono-pitch), Satteldach, Walmdach.
ROOF_TYPE_CODES: Mapping[str, str] = MappingProxyType(
    {"flat": "1000", "shed": "2100", "gabled": "3100", "hipped": "3200"}
)

#: ``function`` of a new building unless the spec says otherwise: residential building (AdV/ALKIS code).
DEFAULT_FUNCTION = "31001_1000"

#: Corners of a drawn ring closer than this (metres) are one corner, and a ring (or hole) that comes closer
#: than this to itself (or to another) touches it; more than ``SNAP * sqrt(2)``, so no two corners merge.
MIN_EDGE = 2e-3

#: Vertices of a new solid closer than this (metres, in every coordinate) are one vertex, so that a CityJSON
#: writer quantising to millimetres keeps them apart (and a hipped roof over a near-square has no
#: micrometre ridge).
SNAP = 1e-3

# Tolerance (metres) for "on the line" when a roof face is clipped by a bisector.
_EPS = 1e-9

_GROUND, _WALL, _ROOF = "GroundSurface", "WallSurface", "RoofSurface"


# ---------------------------------------------------------------------------- the spec
@dataclass(frozen=True, eq=False)
class BuildingSpec:
    """What the planner drew and chose; checked and normalised on construction.

    Parameters
    ----------
    footprint
        ``(N, 2)`` world x, y of the outline, in either orientation, closed or not (a repeated first corner
        is dropped); extra columns (a z) are ignored. Stored counter-clockwise, as a read-only float64 array.
    holes
        Inner rings (courtyards), each ``(M, 2)``; stored clockwise. Each must lie strictly inside the
        footprint and apart from the others.
    base_z
        Height of the ground under the building (the z of the ground surface).
    height
        Height of the walls (base to eaves), in metres. Give this, or ``storeys`` and ``storey_height``.
    storeys
        Number of storeys above ground; with ``storey_height`` it gives the height, and it fills
        ``storeysAboveGround`` (also when ``height`` is given).
    storey_height
        Height of one storey, in metres.
    roof
        ``"flat"``, ``"gabled"``, ``"hipped"`` or ``"shed"``.
    roof_height
        Eave to ridge (to the high eave for a shed roof), in metres, above zero for a pitched roof;
        ignored for a flat one.
    ridge_direction
        ``"auto"``: along the longer side of the footprint's minimum-area rectangle. Or an angle in degrees,
        counter-clockwise from the x axis (east). A shed roof rises towards the left of this direction
        (``0``: the high eave is in the north). A hipped roof's ridge follows from the footprint, so
        hipped and flat roofs ignore it.
    lod
        ``1`` (a flat block of the total height) or ``2`` (the roof as drawn).
    function
        The ``function`` attribute (a code-list value), or ``None`` to leave it out.
    year_of_construction
        The ``yearOfConstruction`` attribute, or ``None``.
    attributes
        Further attributes to carry; where the spec fills in a name itself (``measuredHeight`` …), its
        value wins.

    Raises
    ------
    ValueError
        With one sentence for the planner: too few corners, a crossing outline, no area, a number that is
        not finite, a height that is not above zero, a hole outside the footprint or holes that overlap,
        a gabled LoD2 roof over a courtyard or on a footprint without wing ends, a pitched one on a footprint
        whose straight skeleton cannot be followed.
    """

    footprint: np.ndarray
    holes: Sequence[np.ndarray] = ()
    base_z: float = 0.0
    height: float | None = None
    storeys: int | None = None
    storey_height: float | None = None
    roof: RoofKind = "flat"
    roof_height: float = 0.0
    ridge_direction: float | Literal["auto"] = "auto"
    lod: int = 2
    function: str | None = DEFAULT_FUNCTION
    year_of_construction: int | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    #: the straight-skeleton roof the checks built (:func:`_skeleton_roof`), for make_building to reuse
    _skeleton: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        outer = _clean_ring(self.footprint, "footprint")
        if _signed_area(outer) < 0:
            outer = outer[::-1].copy()
        holes = []
        for hole in self.holes:
            ring = _clean_ring(hole, "hole")
            if _signed_area(ring) > 0:
                ring = ring[::-1].copy()
            holes.append(ring)
        _check_holes(outer, holes)
        for ring in (outer, *holes):
            ring.setflags(write=False)
        set_ = object.__setattr__
        set_(self, "footprint", outer)
        set_(self, "holes", tuple(holes))
        set_(self, "base_z", _finite(self.base_z, "The ground height must be a finite number."))
        self._check_heights()
        if self.roof not in ROOF_KINDS:
            raise ValueError("Pick a roof: flat, gabled, hipped or shed.")
        if self.roof == "flat":
            set_(self, "roof_height", 0.0)
        else:
            rh = _finite(self.roof_height, "The roof height must be a finite number.")
            if rh <= 0:
                raise ValueError(f"A {self.roof} roof needs a roof height above zero.")
            set_(self, "roof_height", rh)
        if not (isinstance(self.ridge_direction, str) and self.ridge_direction == "auto"):
            bad_ridge = "The ridge direction must be 'auto' or an angle in degrees."
            if isinstance(self.ridge_direction, str | bool):
                raise ValueError(bad_ridge)
            set_(self, "ridge_direction", _finite(self.ridge_direction, bad_ridge))
        if isinstance(self.lod, bool) or self.lod not in (1, 2):
            raise ValueError("The level of detail must be 1 or 2.")
        if self.year_of_construction is not None and (
            isinstance(self.year_of_construction, bool) or not isinstance(self.year_of_construction, int | np.integer)
        ):
            raise ValueError("The year of construction must be a whole number.")
        if self.function is not None and not isinstance(self.function, str):
            raise ValueError("The function must be a code-list value given as text.")
        set_(self, "attributes", MappingProxyType(dict(self.attributes)))
        if self.lod == 2 and self.roof == "gabled" and holes:
            raise ValueError("A gabled roof cannot cover a courtyard; remove the holes or pick a flat, shed "
                             "or hipped roof.")  # fmt: skip
        if self.lod == 2 and _needs_skeleton(self.roof, outer, holes):  # it says why a footprint cannot have it
            centre = outer.mean(axis=0)  # make_building's frame
            set_(self, "_skeleton", _skeleton_roof(outer - centre, [h - centre for h in holes], self.roof == "gabled"))

    def _check_heights(self) -> None:
        set_ = object.__setattr__
        if self.storeys is not None:
            if isinstance(self.storeys, bool) or not isinstance(self.storeys, int | np.integer) or self.storeys < 1:
                raise ValueError("The number of storeys must be a whole number of at least one.")
            set_(self, "storeys", int(self.storeys))
        if self.height is not None and self.storey_height is not None:
            raise ValueError("Give a height or storeys × storey height, not both.")
        if self.height is None:
            if self.storeys is None or self.storey_height is None:
                raise ValueError("Give a height, or a number of storeys and a storey height.")
            sh = _finite(self.storey_height, "The storey height must be a finite number.")
            if sh <= 0:
                raise ValueError("The storey height must be more than zero.")
            set_(self, "storey_height", sh)
        else:
            h = _finite(self.height, "The height must be a finite number.")
            if h <= 0:
                raise ValueError("The height must be more than zero.")
            set_(self, "height", h)
        if self.eave_height < 0.01:
            raise ValueError("The walls must be at least 1 cm high.")

    @property
    def eave_height(self) -> float:
        """Height of the walls above ``base_z`` (the top of a flat roof)."""
        if self.height is not None:
            return float(self.height)
        assert self.storeys is not None and self.storey_height is not None
        return self.storeys * float(self.storey_height)

    @property
    def total_height(self) -> float:
        """Height of the highest point above ``base_z``: eaves plus roof."""
        return self.eave_height + float(self.roof_height)


# ---------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)
class NewBuilding:
    """A new building's solid: one closed shell of planar surfaces, outward normals.

    Surfaces are planar to within ``SNAP`` times the roof's pitch where a corner lies within :data:`SNAP`
    of a ridge or skeleton node (and merges with it); exactly planar otherwise.

    Attributes
    ----------
    vertices
        ``(V, 3)`` float64 world coordinates; every vertex is used.
    surfaces
        One entry per surface: its rings (outer first, then inner rings), each a list of vertex indices,
        not closed (CityJSON style). Outer rings run counter-clockwise seen from outside, so the right-hand
        rule gives the outward normal; inner rings run the other way.
    classes
        ``"GroundSurface"``, ``"WallSurface"`` or ``"RoofSurface"`` per surface.
    lod
        ``1`` or ``2``.
    attributes
        CityJSON attributes (``function``, ``roofType``, ``measuredHeight``, ``storeysAboveGround`` …).
    spec
        What it was made from.
    """

    vertices: np.ndarray
    surfaces: list[list[list[int]]]
    classes: list[str]
    lod: int
    attributes: dict[str, Any]
    spec: BuildingSpec

    def volume(self) -> float:
        """Signed volume in cubic metres (of :meth:`triangles`): positive when the normals point outwards."""
        tri, _ = self._triangulate()
        p = self.vertices[tri] - self.vertices.mean(axis=0)
        return float(np.einsum("ij,ij->", p[:, 0], np.cross(p[:, 1], p[:, 2])) / 6.0)

    def is_closed(self) -> bool:
        """Whether every edge is shared by exactly two surfaces, run in opposite directions."""
        edges = []
        for surface in self.surfaces:
            for ring in surface:
                r = np.asarray(ring, dtype=np.int64)
                edges.append(np.column_stack([r, np.roll(r, -1)]))
        if not edges:
            return False
        e = np.concatenate(edges)
        n = len(self.vertices)
        code = e[:, 0] * n + e[:, 1]
        if np.any(e[:, 0] == e[:, 1]) or len(np.unique(code)) != len(code):
            return False
        return bool(np.isin(e[:, 1] * n + e[:, 0], code).all())

    def triangles(self) -> tuple[np.ndarray, np.ndarray]:
        """Triangles for drawing.

        Returns
        -------
        triangles
            ``(T, 3)`` int64 indices into :attr:`vertices`, wound like their surface (outward).
        tri_class
            ``(T,)`` uint8 :class:`~citytwin.model.semantics.SurfaceClass` code of each triangle.
        """
        tri, tri_surface = self._triangulate()
        codes = np.array([int(SURFACE_CLASS_BY_NAME[c]) for c in self.classes], dtype=np.uint8)
        return tri, codes[tri_surface]

    def triangle_surfaces(self) -> np.ndarray:
        """``(T,)`` int64: the surface (index into :attr:`surfaces`) of each of :meth:`triangles`."""
        return self._triangulate()[1]

    def _triangulate(self) -> tuple[np.ndarray, np.ndarray]:
        rings = [ring for surface in self.surfaces for ring in surface]
        flat = np.concatenate([np.asarray(r, dtype=np.int64) for r in rings])
        ring_offsets = np.concatenate([[0], np.cumsum([len(r) for r in rings])]).astype(np.int64)
        polygon_rings = np.concatenate([[0], np.cumsum([len(s) for s in self.surfaces])]).astype(np.int64)
        local = self.vertices[flat] - self.vertices.mean(axis=0)
        tri, tri_polygon, _ = triangulate(local, ring_offsets, polygon_rings)
        # a corner where a surface goes straight on (where a neighbour has a corner) can give a triangle
        # without area: it adds nothing to the surface, so leave it out
        p = local[tri]
        keep = np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1) > 1e-9
        return flat[tri[keep]], tri_polygon[keep].astype(np.int64)

    def cityobject(self, object_id: str) -> tuple[dict[str, Any], np.ndarray]:
        """The building as a CityJSON 2.0 CityObject.

        Parameters
        ----------
        object_id
            The key it is to be stored under in ``CityObjects`` (checked to be a non-empty string).

        Returns
        -------
        cityobject
            ``{"type": "Building", "attributes": …, "geometry": [Solid]}``, the solid with one semantic
            object per surface class; its indices refer to the returned vertices (offset them when merging).
        vertices
            ``(V, 3)`` float64 world coordinates (not quantised).
        """
        if not isinstance(object_id, str) or not object_id:
            raise ValueError("A city object needs a non-empty text id.")
        kinds: list[str] = []
        for c in self.classes:
            if c not in kinds:
                kinds.append(c)
        values = [kinds.index(c) for c in self.classes]
        geometry = {
            "type": "Solid",
            "lod": str(self.lod),
            "boundaries": [[[list(map(int, ring)) for ring in surface] for surface in self.surfaces]],
            "semantics": {"surfaces": [{"type": k} for k in kinds], "values": [values]},
        }
        obj = {"type": "Building", "attributes": dict(self.attributes), "geometry": [geometry]}
        return obj, self.vertices.copy()


# ---------------------------------------------------------------------------- making one
def make_building(spec: BuildingSpec) -> NewBuilding:
    """Make the solid a spec describes.

    Parameters
    ----------
    spec
        A checked :class:`BuildingSpec`.

    Returns
    -------
    NewBuilding
        Closed, with outward normals.

    Raises
    ------
    ValueError
        If the footprint is too degenerate for a closed solid (a safety net: the spec's checks come first).
    """
    origin = spec.footprint.mean(axis=0)
    outer = spec.footprint - origin
    holes = [h - origin for h in spec.holes]
    z0 = 0.0
    eave = spec.eave_height
    roof = spec.roof if spec.lod == 2 else "flat"
    if spec.lod == 1:
        eave = spec.total_height
    rh = float(spec.roof_height)
    pool = _VertexPool()
    faces: list[tuple[str, list[list[int]]]] = []
    if roof == "flat":
        _prism(pool, faces, outer, holes, z0, lambda xy: np.full(len(xy), eave))
    elif roof == "shed":
        u = _ridge_vector(spec.ridge_direction, outer)
        n = np.array([-u[1], u[0]])
        v = outer @ n
        vmin, vmax = float(v.min()), float(v.max())
        slope = rh / (vmax - vmin)
        _prism(pool, faces, outer, holes, z0, lambda xy: eave + slope * (xy @ n - vmin))
    elif _needs_skeleton(roof, outer, holes):
        skeleton = spec._skeleton or _skeleton_roof(outer, holes, roof == "gabled")  # noqa: SLF001 (the spec's own)
        _skeleton_building(pool, faces, skeleton, z0, eave, rh)
    elif roof == "gabled":
        _gabled(pool, faces, _drop_collinear(outer), z0, eave, rh, _ridge_vector(spec.ridge_direction, outer))
    else:
        _hipped(pool, faces, _drop_collinear(outer), z0, eave, rh)
    return _finish(pool, faces, origin, spec)


def _finish(pool: _VertexPool, faces: list[tuple[str, list[list[int]]]], origin: np.ndarray,
            spec: BuildingSpec) -> NewBuilding:  # fmt: skip
    """Clean the rings, drop unused vertices, check closure and orientation, fill the attributes."""
    surfaces: list[list[list[int]]] = []
    classes: list[str] = []
    same = pool.merge()
    order = {_GROUND: 0, _WALL: 1, _ROOF: 2}
    for kind, rings in sorted(faces, key=lambda f: order[f[0]]):  # stable: ground, walls, roofs
        cleaned = [_clean_indices([int(same[i]) for i in r]) for r in rings]
        if len(cleaned[0]) < 3:
            continue
        surfaces.append([r for r in cleaned if len(r) >= 3])
        classes.append(kind)
    local = np.asarray(pool.points, dtype=np.float64)
    used = np.unique(np.concatenate([np.asarray(r) for s in surfaces for r in s]))
    remap = np.full(len(local), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    surfaces = [[[int(remap[i]) for i in r] for r in s] for s in surfaces]
    vertices = local[used] + np.array([origin[0], origin[1], spec.base_z])
    building = NewBuilding(vertices, surfaces, classes, spec.lod, _attributes(spec), spec)
    if not building.is_closed() or building.volume() <= 0:
        raise ValueError("This footprint does not give a closed solid; simplify it or pick a flat roof.")
    return building


def _attributes(spec: BuildingSpec) -> dict[str, Any]:
    """The spec's attributes, then its further ones (those the spec sets itself win)."""
    attrs: dict[str, Any] = {}
    if spec.function is not None:
        attrs["function"] = spec.function
    attrs["roofType"] = ROOF_TYPE_CODES[spec.roof]
    attrs["measuredHeight"] = round(spec.total_height, 3)
    if spec.storeys is not None:
        attrs["storeysAboveGround"] = spec.storeys
        if spec.storey_height is not None:
            attrs["storeyHeightsAboveGround"] = [round(float(spec.storey_height), 3)] * spec.storeys
    if spec.year_of_construction is not None:
        attrs["yearOfConstruction"] = int(spec.year_of_construction)
    for key, value in spec.attributes.items():
        attrs.setdefault(key, value)
    return attrs


class _VertexPool:
    """3D points; :meth:`merge` makes points within :data:`SNAP` of each other (transitively) one vertex."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float, float]] = []

    def add(self, x: float, y: float, z: float) -> int:
        """Store a point; returns its raw index."""
        self.points.append((float(x), float(y), float(z)))
        return len(self.points) - 1

    def merge(self) -> np.ndarray:
        """``(P,)`` the raw index standing for each point: the first of its cluster.

        Clusters are the connected groups of points closer than :data:`SNAP` in every coordinate, so the
        result does not depend on the order the points came in, and the vertices left are more than
        :data:`SNAP` apart: distinct on a millimetre grid.
        """
        parent = list(range(len(self.points)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        grid: dict[tuple[int, int, int], list[int]] = {}
        for i, (x, y, z) in enumerate(self.points):
            key = (math.floor(x / SNAP), math.floor(y / SNAP), math.floor(z / SNAP))
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for dz in (-1, 0, 1):
                        for j in grid.get((key[0] + dx, key[1] + dy, key[2] + dz), ()):
                            px, py, pz = self.points[j]
                            if abs(px - x) <= SNAP and abs(py - y) <= SNAP and abs(pz - z) <= SNAP:
                                a, b = root(i), root(j)
                                parent[max(a, b)] = min(a, b)
            grid.setdefault(key, []).append(i)
        return np.array([root(i) for i in range(len(parent))], dtype=np.int64)


def _prism(pool: _VertexPool, faces: list, outer: np.ndarray, holes: list[np.ndarray], z0: float,
           top: Callable[[np.ndarray], np.ndarray]) -> None:  # fmt: skip
    """Ground, walls and one planar roof whose height ``top(xy)`` is linear: flat and shed roofs."""
    ground: list[list[int]] = []
    roof: list[list[int]] = []
    for ring in (outer, *holes):
        zt = top(ring)
        base = [pool.add(x, y, z0) for x, y in ring]
        tops = [pool.add(x, y, z) for (x, y), z in zip(ring, zt, strict=True)]
        ground.append(base[::-1])
        roof.append(tops)
        n = len(ring)
        for k in range(n):
            j = (k + 1) % n
            faces.append((_WALL, [[base[k], base[j], tops[j], tops[k]]]))
    faces.append((_GROUND, ground))
    faces.append((_ROOF, roof))


def _gabled(pool: _VertexPool, faces: list, outer: np.ndarray, z0: float, eave: float, rh: float,
            u: np.ndarray) -> None:  # fmt: skip
    """Two roof planes over a convex footprint, meeting at a horizontal ridge along ``u``."""
    n = np.array([-u[1], u[0]])
    v = outer @ n
    vmin, vmax = float(v.min()), float(v.max())
    vmid = 0.5 * (vmin + vmax)
    slope = rh / (vmid - vmin)

    def z_of(p: np.ndarray) -> float:
        w = float(p @ n)
        return eave + slope * min(w - vmin, vmax - w)

    # the outline with the points where the ridge line crosses an edge; a corner within SNAP of the ridge
    # line is on it
    ring: list[tuple[np.ndarray, float, bool]] = []  # (xy, side of the ridge, is a corner)
    m = len(outer)
    g = v - vmid
    g[np.abs(g) <= SNAP] = 0.0
    for k in range(m):
        j = (k + 1) % m
        ring.append((outer[k], float(g[k]), True))
        if g[k] * g[j] < 0:
            t = g[k] / (g[k] - g[j])
            p = outer[k] + t * (outer[j] - outer[k])
            ring.append((p, 0.0, False))
    # corners first: where a crossing merges with a corner, the corner stays where it is
    tops = {i: pool.add(p[0], p[1], eave + rh if side == 0.0 else z_of(p))  # on the ridge line: at its height
            for i, (p, side, corner) in enumerate(ring) if corner}  # fmt: skip
    tops |= {i: pool.add(p[0], p[1], eave + rh) for i, (p, _, corner) in enumerate(ring) if not corner}
    corners = [i for i, (_, _, corner) in enumerate(ring) if corner]
    base = {i: pool.add(ring[i][0][0], ring[i][0][1], z0) for i in corners}
    for a_pos, a in enumerate(corners):
        b = corners[(a_pos + 1) % len(corners)]
        between = range(a + 1, b if b > a else len(ring))
        wall = [base[a], base[b], tops[b], *[tops[i] for i in reversed(between)], tops[a]]
        faces.append((_WALL, [wall]))
    faces.append((_ROOF, [[tops[i] for i, (_, side, _) in enumerate(ring) if side <= 0]]))
    faces.append((_ROOF, [[tops[i] for i, (_, side, _) in enumerate(ring) if side >= 0]]))
    faces.append((_GROUND, [[base[i] for i in reversed(corners)]]))


def _hipped(pool: _VertexPool, faces: list, outer: np.ndarray, z0: float, eave: float, rh: float) -> None:
    """One roof plane per eave, all of the same pitch, over a convex footprint (its straight skeleton)."""
    m = len(outer)
    d = np.roll(outer, -1, axis=0) - outer
    inward = np.column_stack([-d[:, 1], d[:, 0]]) / np.hypot(d[:, 0], d[:, 1])[:, None]
    c = np.einsum("ij,ij->i", inward, outer)
    cells: list[list[np.ndarray]] = []
    peak = 0.0
    for i in range(m):
        poly = list(outer)
        order = sorted(range(m), key=lambda j: min((j - i) % m, (i - j) % m))
        for j in order:
            if j == i:
                continue
            # keep where the distance to edge i is at most the distance to edge j
            poly = _clip(poly, inward[i] - inward[j], c[i] - c[j])
            if len(poly) < 3:
                break
        cells.append(poly)
        if poly:
            peak = max(peak, max(float(p @ inward[i] - c[i]) for p in poly))
    slope = rh / peak
    base = [pool.add(x, y, z0) for x, y in outer]
    tops = [pool.add(x, y, eave) for x, y in outer]
    for i in range(m):
        j = (i + 1) % m
        faces.append((_WALL, [[base[i], base[j], tops[j], tops[i]]]))
    for i, cell in enumerate(cells):
        ring = [pool.add(p[0], p[1], eave + slope * max(0.0, float(p @ inward[i] - c[i]))) for p in cell]
        faces.append((_ROOF, [ring]))
    faces.append((_GROUND, [base[::-1]]))


def _needs_skeleton(roof: str, outer: np.ndarray, holes: Sequence[np.ndarray]) -> bool:
    """Whether a pitched roof is built on the footprint's straight skeleton (not convex, or courtyards)."""
    return roof in ("gabled", "hipped") and (bool(holes) or not _is_convex(_drop_collinear(outer)))


def _skeleton_roof(outer: np.ndarray, holes: Sequence[np.ndarray], gabled: bool) -> tuple:
    """``(outer, holes, gables, roof faces)`` of a footprint's straight-skeleton roof (a local frame):
    hipped, or gabled with gable walls at the wings' ends. Raises ValueError with one sentence."""
    outer = _drop_collinear(outer)
    holes = [_drop_collinear(h) for h in holes]
    gables = _gable_ends(outer) if gabled else frozenset()
    return outer, holes, gables, roof_faces(hipped_roof(outer, holes, gables))


def _skeleton_building(pool: _VertexPool, faces: list, skeleton: tuple, z0: float, eave: float, rh: float) -> None:
    """One roof plane per eave over a footprint that is not convex (L, T, U …) or has courtyards: its
    straight skeleton; the gable edges stand still and give vertical gable walls instead (a cross-gabled
    roof over an L, T or U)."""
    outer, holes, gables, roof = skeleton
    slope = rh / max(float(ring[:, 2].max()) for _, ring in roof)
    ground: list[list[int]] = []
    for ring in (outer, *holes):
        base = [pool.add(x, y, z0) for x, y in ring]
        tops = [pool.add(x, y, eave) for x, y in ring]
        ground.append(base[::-1])
        n = len(ring)
        for i in range(n):
            j = (i + 1) % n
            faces.append((_WALL, [[base[i], base[j], tops[j], tops[i]]]))
    for edge, ring in roof:
        faces.append((_WALL if edge in gables else _ROOF, [[pool.add(x, y, eave + slope * z) for x, y, z in ring]]))
    faces.append((_GROUND, ground))


def _gable_ends(ring: np.ndarray) -> frozenset[int]:
    """The edges of a footprint that is not convex that get gables: the ends of its wings.

    A wing end runs between two convex corners, next to an edge that leads to a reflex corner (where the
    wing meets the rest), and is no longer than a neighbouring edge that does not (the wing's side): the
    two ends of an L, the legs' ends of a U, the arms' ends of a plus.
    """
    n = len(ring)
    d = np.roll(ring, -1, axis=0) - ring
    length = np.hypot(d[:, 0], d[:, 1])
    before = np.roll(d, 1, axis=0)  # the edge arriving at each corner
    convex = before[:, 0] * d[:, 1] - before[:, 1] * d[:, 0] > 0  # a left turn on a counter-clockwise outline
    ends = []
    for i in range(n):
        if not (convex[i] and convex[(i + 1) % n]):
            continue
        sides = [(i - 1) % n, (i + 1) % n]
        far = [i - 1, (i + 2) % n]  # each neighbouring edge's other corner
        to_reflex = [not convex[c] for c in far]
        wing_sides = [e for e, r in zip(sides, to_reflex, strict=True) if not r]
        if any(to_reflex) and all(length[i] <= length[e] + SNAP for e in wing_sides):
            ends.append(i)
    if not ends:
        raise ValueError("A gabled roof over this footprint has no wing ends to put its gables on; pick a hipped, "
                         "flat or shed roof.")  # fmt: skip
    return frozenset(ends)


def _clip(poly: list[np.ndarray], a: np.ndarray, b: float) -> list[np.ndarray]:
    """Sutherland–Hodgman: the part of a convex polygon where ``a · p <= b`` (points on the line kept as they are)."""
    out: list[np.ndarray] = []
    n = len(poly)
    scale = float(np.hypot(a[0], a[1]))
    g = [(float(p @ a) - b) / scale for p in poly]  # signed distance to the line
    for k in range(n):
        j = (k + 1) % n
        if g[k] <= _EPS:
            out.append(poly[k])
        if (g[k] < -_EPS and g[j] > _EPS) or (g[k] > _EPS and g[j] < -_EPS):
            t = g[k] / (g[k] - g[j])
            out.append(poly[k] + t * (poly[j] - poly[k]))
    return out


def _clean_indices(ring: list[int]) -> list[int]:
    """Drop repeated consecutive indices (the ring is cyclic)."""
    if len(ring) < 2:
        return list(ring)
    return [i for k, i in enumerate(ring) if i != ring[k - 1]]


# ---------------------------------------------------------------------------- 2D checks
def _finite(value: Any, message: str) -> float:
    """``value`` as a finite float, or a ValueError with ``message``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if not math.isfinite(x):
        raise ValueError(message)
    return x


def _clean_ring(points: Any, what: str) -> np.ndarray:
    """``(N, 2)`` float64 copy without repeated corners; checks the count, the area and self-crossing."""
    try:
        a = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"The {what} must be a list of x, y corners.") from None
    if a.ndim != 2 or a.shape[1] < 2:
        raise ValueError(f"The {what} must be a list of x, y corners.")
    a = a[:, :2]
    if not np.isfinite(a).all():
        raise ValueError(f"The {what} has a corner that is not a finite number.")
    kept: list[np.ndarray] = []
    for p in a:
        if not kept or math.dist(p, kept[-1]) >= MIN_EDGE:
            kept.append(p)
    while len(kept) > 1 and math.dist(kept[0], kept[-1]) < MIN_EDGE:
        kept.pop()
    if len(kept) < 3:
        raise ValueError(f"The {what} needs at least three distinct corners.")
    ring = np.array(kept)
    centred = ring - ring.mean(axis=0)
    across = np.linalg.svd(centred, full_matrices=False)[2][-1]  # across the principal axis
    if float(np.ptp(centred @ across)) < MIN_EDGE:
        raise ValueError(f"The {what} has no area: its corners lie on one line.")
    if _self_crossing(ring):
        raise ValueError(f"The {what} crosses or touches itself; draw its outline without crossing lines.")
    if abs(_signed_area(ring)) < MIN_EDGE * float(np.ptp(ring, axis=0).max()):
        raise ValueError(f"The {what} has almost no area; draw it wider.")
    return ring


def _signed_area(ring: np.ndarray) -> float:
    """Shoelace area, positive for a counter-clockwise ring."""
    c = ring - ring.mean(axis=0)
    x, y = c[:, 0], c[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances from points to segments, broadcast over the leading axes."""
    ab = b - a
    len2 = np.einsum("...k,...k->...", ab, ab)
    t = np.einsum("...k,...k->...", p - a, ab) / np.where(len2 > 0, len2, 1.0)
    t = np.clip(t, 0.0, 1.0)
    q = a + t[..., None] * ab
    return np.hypot(*np.moveaxis(p - q, -1, 0))


def _orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Twice the signed area of triangles ``a, b, c`` (positive when they turn left)."""
    return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])


def _segments_meet(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Whether segments cross or come within :data:`MIN_EDGE` of each other (``a`` rows × ``b`` columns)."""
    A0, A1 = a0[:, None, :], a1[:, None, :]
    B0, B1 = b0[None, :, :], b1[None, :, :]
    o1, o2 = _orient(A0, A1, B0), _orient(A0, A1, B1)
    o3, o4 = _orient(B0, B1, A0), _orient(B0, B1, A1)
    cross = (o1 * o2 < 0) & (o3 * o4 < 0)
    near = np.minimum(
        np.minimum(_point_segment_distance(A0, B0, B1), _point_segment_distance(A1, B0, B1)),
        np.minimum(_point_segment_distance(B0, A0, A1), _point_segment_distance(B1, A0, A1)),
    )
    return cross | (near < MIN_EDGE)


def _self_crossing(ring: np.ndarray, chunk: int = 256) -> bool:
    """Whether a ring's edges cross, touch or turn back on each other (in blocks of ``chunk`` edges)."""
    n = len(ring)
    a, b = ring, np.roll(ring, -1, axis=0)
    # neighbouring edges share a corner: they only overlap if one turns back along the other
    nxt = np.roll(b, -1, axis=0)
    if np.any(_point_segment_distance(a, b, nxt) < MIN_EDGE) or np.any(_point_segment_distance(nxt, a, b) < MIN_EDGE):
        return True
    idx = np.arange(n)
    for s in range(0, n, chunk):
        rows = idx[s : s + chunk]
        meet = _segments_meet(a[rows], b[rows], a, b)
        gap = (idx[None, :] - rows[:, None]) % n
        meet &= (gap > 1) & (gap < n - 1)
        if meet.any():
            return True
    return False


def _inside(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd test of points against a ring."""
    a, b = ring, np.roll(ring, -1, axis=0)
    px, py = points[:, None, 0], points[:, None, 1]
    straddle = (a[None, :, 1] > py) != (b[None, :, 1] > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = a[None, :, 0] + (py - a[None, :, 1]) * (b[None, :, 0] - a[None, :, 0]) / (b[None, :, 1] - a[None, :, 1])
    return ((straddle & (px < x_at)).sum(axis=1) % 2) == 1


def _check_holes(outer: np.ndarray, holes: list[np.ndarray]) -> None:
    """Every hole strictly inside the outline, and apart from the others."""
    o0, o1 = outer, np.roll(outer, -1, axis=0)
    for hole in holes:
        if _segments_meet(hole, np.roll(hole, -1, axis=0), o0, o1).any() or not _inside(hole, outer).all():
            raise ValueError("A hole reaches outside the footprint or touches its outline; keep holes inside it.")
    for i, h in enumerate(holes):
        for k in holes[i + 1 :]:
            if (
                _segments_meet(h, np.roll(h, -1, axis=0), k, np.roll(k, -1, axis=0)).any()
                or _inside(h[:1], k).any()
                or _inside(k[:1], h).any()
            ):
                raise ValueError("Two holes overlap or touch; keep them apart.")


def _drop_collinear(ring: np.ndarray) -> np.ndarray:
    """The ring without corners where it goes straight on (within about a microradian)."""
    keep = np.ones(len(ring), dtype=bool)
    pts = ring
    changed = True
    while changed and keep.sum() > 3:
        changed = False
        pts = ring[keep]
        prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
        e1, e2 = pts - prev, nxt - pts
        cross = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        straight = (np.abs(cross) <= 1e-6 * np.hypot(*e1.T) * np.hypot(*e2.T)) & (np.einsum("ij,ij->i", e1, e2) > 0)
        if straight.any():
            first = int(np.flatnonzero(straight)[0])
            keep[np.flatnonzero(keep)[first]] = False
            changed = True
    return ring[keep]


def _is_convex(ring: np.ndarray) -> bool:
    """Whether a counter-clockwise ring turns left at every corner."""
    e1 = ring - np.roll(ring, 1, axis=0)
    e2 = np.roll(ring, -1, axis=0) - ring
    return bool(np.all(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] > 0))


def _ridge_vector(direction: float | str, outer: np.ndarray) -> np.ndarray:
    """Unit x, y of the ridge: the given angle, or the long side of the minimum-area rectangle."""
    if not isinstance(direction, str):
        a = math.radians(float(direction))
        return np.array([math.cos(a), math.sin(a)])
    hull = _convex_hull(outer)
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    best: tuple[float, np.ndarray] | None = None
    for e, length in zip(edges, lengths, strict=True):
        if length <= 0:
            continue
        u = e / length
        n = np.array([-u[1], u[0]])
        lu, ln = float(np.ptp(hull @ u)), float(np.ptp(hull @ n))
        area = lu * ln
        if best is None or area < best[0] * (1 - 1e-9):
            best = (area, u if lu >= ln else n)
    assert best is not None
    u = best[1]
    # one representative of the two directions: angle in [0°, 180°)
    if u[1] < 0 or (u[1] == 0 and u[0] < 0):
        u = -u
    return u


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull (Andrew's monotone chain)."""
    pts = sorted(map(tuple, points.tolist()))

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in seq:
            while len(out) >= 2 and _orient(np.array(out[-2]), np.array(out[-1]), np.array(p)) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])
