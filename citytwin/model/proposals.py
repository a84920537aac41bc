"""Proposed projects: a mesh made into a new building, and the existing buildings under it.

A planner imports a designer's mesh (OBJ, glTF, PLY: read by :mod:`citytwin.io.proposal`) and
drops it into the city. :func:`proposal_from_mesh` makes it a scenario's
:class:`~citytwin.model.scenario.AddObject`: a ``"Building"`` whose LoD2 geometry is the mesh,

- placed: its up axis turned to +Z (glTF is +Y up), scaled, its footprint centre (the middle of its
  plan's bounding box) put on ``position`` with its lowest point at ``position``'s height, then
  turned about the vertical through that point;
- cleaned: equal vertices welded, zero-area and repeated triangles dropped, each connected part's
  triangles oriented consistently (and outwards: by the sign of its volume when it is closed, by
  the side of the mesh centre its surfaces face otherwise);
- typed: a ``"Solid"`` (one shell) when the mesh is one closed 2-manifold (every edge shared by
  exactly two triangles, run in opposite directions, with a volume), a ``"MultiSurface"`` otherwise
  (several closed parts too: a CityJSON Building may not hold a ``MultiSolid``, and its
  ``CompositeSolid`` must be connected through shared faces, which separate meshes rarely are);
- merged: adjacent triangles within :data:`PLANE_TOLERANCE` of one plane become one polygon (with
  holes where other surfaces stand on it), when their outline is a plain polygon; the others stay
  triangles;
- classified: a surface facing down (normal's z ≤ -0.5) at the base is a ``GroundSurface`` (one
  facing down above the base, under an overhang, an ``OuterCeilingSurface``), one facing up
  (z ≥ 0.5) a ``RoofSurface`` (a ``GroundSurface`` when it lies at the base: a ground plate of an
  open mesh), the rest ``WallSurface``. "At the base" is within ``max(5 cm, 1 % of the height)``
  of the lowest point;
- described: ``measuredHeight`` (the z extent) and ``proposal: true``, then the caller's attributes.

:func:`footprint_overlaps` names the buildings of a model that a proposal stands on ("cut out the
existing buildings it replaces"): those whose footprint lies under the proposal's footprint by at
least a share of their own footprint's area. Footprints are sets of triangles in plan, so that
their overlap is exact without a polygon library (two triangles' intersection is a convex clip):

- a building's footprint is the plan of its ground surfaces (of its highest LoD that has any),
  else of its LoD0 polygons, else of its roofs (which may overlap each other in plan: an
  overestimate where they do), else the convex hull of its vertices;
- the proposal's is the plan of its ground surfaces, else the convex hull of its vertices.

Everything here is numpy (and earcut, through :func:`~citytwin.model.triangulate.triangulate`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from citytwin.model.annotations import new_id
from citytwin.model.citymodel import CityModel
from citytwin.model.object_json import geometry_surfaces
from citytwin.model.scenario import AddObject
from citytwin.model.semantics import SurfaceClass, lod_code
from citytwin.model.triangulate import triangulate

__all__ = [
    "MAX_TRIANGLES",
    "PLANE_TOLERANCE",
    "PROPOSAL_ATTRIBUTE",
    "footprint_overlap_fractions",
    "footprint_overlaps",
    "proposal_from_mesh",
]

#: The attribute that marks a proposed building (``true``).
PROPOSAL_ATTRIBUTE = "proposal"

#: Metres: triangles whose corners all lie this close to a neighbour's plane are merged into one polygon.
PLANE_TOLERANCE = 1e-3

#: The most triangles a proposal may have (merging is done triangle by triangle in Python).
MAX_TRIANGLES = 250_000

# Base tolerance: max(_BASE_ABS metres, _BASE_REL × height).
_BASE_ABS, _BASE_REL = 0.05, 0.01
# Cosine of the largest angle between two triangles merged into one polygon (about 2.6°).
_MERGE_COS = 0.999

_GROUND, _WALL, _ROOF, _CEILING = "GroundSurface", "WallSurface", "RoofSurface", "OuterCeilingSurface"


# ---------------------------------------------------------------------------- checks
def _finite(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return v


def _point(value: Any, what: str) -> np.ndarray:
    try:
        p = np.asarray(value, dtype=np.float64).reshape(3)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be three numbers, not {value!r}") from None
    if not np.isfinite(p).all():
        raise ValueError(f"{what} must be three finite numbers")
    return p


def _mesh_arrays(vertices: Any, faces: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 3)`` float64 vertices and ``(F, 3)`` int64 triangles (polygons triangulated)."""
    try:
        v = np.asarray(vertices, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("the mesh's vertices must be (x, y, z) numbers") from None
    if v.ndim != 2 or v.shape[1] != 3 or not len(v):
        raise ValueError("the mesh's vertices must be a non-empty list of (x, y, z) points")
    if not np.isfinite(v).all():
        raise ValueError("the mesh has NaN or infinite coordinates")
    n = len(v)
    try:
        f = np.asarray(faces)
        regular = f.ndim == 2 and f.dtype != object and f.size > 0
    except (TypeError, ValueError):  # ragged: polygons of different sizes
        regular = False
    if regular:
        if not np.issubdtype(f.dtype, np.integer):
            raise ValueError("the mesh's faces must be lists of vertex indices")
        polygons = [row for row in f.astype(np.int64)]
    else:
        try:
            polygons = [np.asarray(p, dtype=np.int64).reshape(-1) for p in faces]
        except (TypeError, ValueError):
            raise ValueError("the mesh's faces must be lists of vertex indices") from None
    if not polygons:
        raise ValueError("the mesh has no faces")
    counts = np.fromiter(map(len, polygons), np.int64, len(polygons))
    if (counts < 3).any():
        raise ValueError("every face of the mesh needs at least three vertices")
    flat = np.concatenate(polygons)
    if ((flat < 0) | (flat >= n)).any():
        raise ValueError(f"a face of the mesh uses a vertex index outside its {n} vertices")
    if (counts == 3).all():
        return v, flat.reshape(-1, 3)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    local = v[flat] - v[flat].mean(axis=0)
    tri, _, _ = triangulate(local, offsets, np.arange(len(polygons) + 1, dtype=np.int64))
    return v, flat[tri]


# ---------------------------------------------------------------------------- the proposal
def proposal_from_mesh(
    vertices: Any,
    faces: Any,
    *,
    position: Sequence[float] | None = (0.0, 0.0, 0.0),
    rotate_deg: float = 0.0,
    scale: float = 1.0,
    up_axis: str = "z",
    object_id: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    lod: str = "2",
) -> AddObject:
    """A mesh as a new ``"Building"`` of a scenario (see the module notes for what is done to it).

    Parameters
    ----------
    vertices
        ``(N, 3)`` coordinates, in metres once multiplied by ``scale``.
    faces
        ``(F, 3)`` triangles, or polygons (lists of at least three vertex indices; they are
        triangulated, then merged back where planar).
    position
        ``(x, y, z)`` world point where the footprint centre goes, ``z`` the height of its base;
        None leaves the footprint centre and base where they are (a mesh already in world
        coordinates), the turn and the scale acting about them.
    rotate_deg
        Degrees, counter-clockwise seen from above, about the vertical through ``position``.
    scale
        Factor on every coordinate (> 0): 0.01 for a mesh in centimetres.
    up_axis
        ``"z"`` or ``"y"`` (+Y up, as glTF: ``(x, y, z)`` becomes ``(x, -z, y)``).
    object_id
        The new object's id (a fresh ``proposal-…`` one by default).
    attributes
        Further attributes (they win over ``measuredHeight`` and ``proposal``).
    lod
        The geometry's LoD.

    Returns
    -------
    AddObject
        A ``Solid`` when the mesh is one closed part, a ``MultiSurface`` otherwise, with semantic
        surfaces.

    Raises
    ------
    ValueError
        With one sentence: vertices that are not finite points, faces that are not index lists in
        range, a mesh with no area, too many triangles, or placement values out of range.
    """
    pos = None if position is None else _point(position, "the position")
    turn = _finite(rotate_deg, "the rotation")
    factor = _finite(scale, "the scale")
    if factor <= 0:
        raise ValueError(f"the scale must be above 0, not {factor:g}")
    axis = str(up_axis).lower()
    if axis not in ("z", "y"):
        raise ValueError(f"the up axis must be 'z' or 'y', not {up_axis!r}")
    lod_text = str(lod)
    try:
        lod_code(lod_text)
    except ValueError:
        raise ValueError(f"the LoD must be a number from 0 to 4, not {lod!r}") from None
    oid = new_id("proposal") if object_id is None else object_id
    v, tri = _mesh_arrays(vertices, faces)
    if len(tri) > MAX_TRIANGLES:
        raise ValueError(f"the mesh has {len(tri):,} triangles, more than a proposal may have ({MAX_TRIANGLES:,})")

    # Placement: up axis, scale, footprint centre on the position, base at its height, then the turn.
    v, tri = _compact(v, tri)  # vertices no face uses do not count
    if axis == "y":
        v = np.column_stack([v[:, 0], -v[:, 2], v[:, 1]])
    lo, hi = v.min(axis=0), v.max(axis=0)
    anchor = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    if pos is None:
        pos = anchor
    v = (v - anchor) * factor
    a = math.radians(turn)
    c, s = math.cos(a), math.sin(a)
    v = np.column_stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]])

    v, tri = _clean(v, tri)
    kind, tri, parts = _orient(v, tri)
    surfaces = _surfaces(v, tri, parts)
    height = float(np.ptp(v[:, 2]))
    base_tol = max(_BASE_ABS, _BASE_REL * height)
    z0 = float(v[:, 2].min())

    # Compact the vertices to those used, move them into place.
    used = np.unique(np.concatenate([np.concatenate(rings) for part in surfaces for rings, _ in part]))
    remap = np.full(len(v), -1, np.int64)
    remap[used] = np.arange(len(used))
    world = v[used] + pos
    kinds: list[str] = []
    shells: list[list[list[list[int]]]] = []
    values: list[list[int]] = []
    for part in surfaces:
        shell: list[list[list[int]]] = []
        vals: list[int] = []
        for rings, normal in part:
            zmax = max(float(v[r, 2].max()) for r in rings)
            name = _classify(normal, zmax - z0 <= base_tol)
            if name not in kinds:
                kinds.append(name)
            shell.append([remap[r].tolist() for r in rings])
            vals.append(kinds.index(name))
        shells.append(shell)
        values.append(vals)
    geometry: dict[str, Any] = {"type": kind, "lod": lod_text}
    if kind == "Solid":
        geometry["boundaries"], sem_values = shells, values
    else:
        geometry["boundaries"] = [s for shell in shells for s in shell]
        sem_values = [x for vals in values for x in vals]
    geometry["semantics"] = {"surfaces": [{"type": k} for k in kinds], "values": sem_values}
    attrs: dict[str, Any] = {"measuredHeight": round(height, 3), PROPOSAL_ATTRIBUTE: True}
    attrs.update(attributes or {})
    cityobject = {"type": "Building", "attributes": attrs, "geometry": [geometry]}
    return AddObject(id=oid, cityobject=cityobject, vertices=world)


def _classify(normal: np.ndarray, at_base: bool) -> str:
    nz = float(normal[2])
    if nz <= -0.5:
        return _GROUND if at_base else _CEILING
    if nz >= 0.5:
        return _GROUND if at_base else _ROOF
    return _WALL


def _clean(v: np.ndarray, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weld equal vertices; drop zero-area and repeated triangles (the first of repeats kept), and unused vertices."""
    v, inverse = np.unique(v, axis=0, return_inverse=True)
    tri = inverse.reshape(-1)[tri]
    extent = float(np.ptp(v, axis=0).max()) if len(v) else 0.0
    area2 = np.linalg.norm(np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]]), axis=1)
    keep = (tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 2] != tri[:, 0])
    keep &= area2 > 1e-12 * max(extent, 1e-9) ** 2
    tri = tri[keep]
    if len(tri):
        _, first = np.unique(np.sort(tri, axis=1), axis=0, return_index=True)
        tri = tri[np.sort(first)]
    if not len(tri):
        raise ValueError("the mesh has no faces with an area")
    return _compact(v, tri)


def _compact(v: np.ndarray, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vertices the triangles use, and the triangles re-indexed into them."""
    used, inverse = np.unique(tri, return_inverse=True)
    return v[used], inverse.reshape(tri.shape)


def _adjacency(tri: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Triangle neighbours across edges shared by exactly two triangles.

    Returns
    -------
    neighbour
        ``(F, 3)``: the triangle across edge ``k`` (from corner ``k`` to ``k + 1``), -1 where none.
    opposite
        ``(F, 3)`` bool: the neighbour runs that edge the other way (the two are oriented alike).
    two_each
        Every edge is shared by exactly two triangles.
    """
    f = len(tri)
    start = tri.reshape(-1)
    end = tri[:, [1, 2, 0]].reshape(-1)
    lo, hi = np.minimum(start, end), np.maximum(start, end)
    key = lo * (int(tri.max()) + 1) + hi
    order = np.argsort(key, kind="stable")
    k_sorted = key[order]
    new = np.concatenate([[True], k_sorted[1:] != k_sorted[:-1]])
    group_start = np.flatnonzero(new)
    counts = np.diff(np.concatenate([group_start, [len(key)]]))
    neighbour = np.full(3 * f, -1, np.int64)
    opposite = np.zeros(3 * f, bool)
    pairs = group_start[counts == 2]
    e1, e2 = order[pairs], order[pairs + 1]
    neighbour[e1], neighbour[e2] = e2 // 3, e1 // 3
    opp = start[e1] == end[e2]
    opposite[e1] = opposite[e2] = opp
    return neighbour.reshape(f, 3), opposite.reshape(f, 3), bool((counts == 2).all())


def _signed_volume(v: np.ndarray, tri: np.ndarray) -> float:
    p = v[tri] - v[tri].reshape(-1, 3).mean(axis=0)
    return float(np.einsum("ij,ij->", p[:, 0], np.cross(p[:, 1], p[:, 2])) / 6.0)


def _orient(v: np.ndarray, tri: np.ndarray) -> tuple[str, np.ndarray, list[np.ndarray]]:
    """Orient each connected part consistently and outwards; say whether the mesh is one solid.

    Returns
    -------
    kind
        ``"Solid"`` or ``"MultiSurface"``.
    triangles
        The triangles, some turned over.
    parts
        Triangle indices of each connected part.
    """
    neighbour, opposite, two_each = _adjacency(tri)
    f = len(tri)
    flip = np.zeros(f, bool)
    part = np.full(f, -1, np.int64)
    consistent = True
    n_parts = 0
    nb = neighbour.tolist()
    same = (~opposite).tolist()
    for seed in range(f):
        if part[seed] >= 0:
            continue
        part[seed] = n_parts
        stack = [seed]
        while stack:
            t = stack.pop()
            ft = flip[t]
            for k in range(3):
                u = nb[t][k]
                if u < 0:
                    continue
                want = ft ^ same[t][k]  # a neighbour running the edge the same way must be turned over
                if part[u] < 0:
                    part[u] = n_parts
                    flip[u] = want
                    stack.append(u)
                elif flip[u] != want:
                    consistent = False
        n_parts += 1
    tri = tri.copy()
    tri[flip] = tri[flip][:, ::-1]
    parts = [np.flatnonzero(part == p) for p in range(n_parts)]
    closed = two_each and consistent
    if closed:
        extent = float(np.ptp(v, axis=0).max())
        for p in parts:
            vol = _signed_volume(v, tri[p])
            if abs(vol) <= 1e-9 * extent**3:
                closed = False
                break
            if vol < 0:
                tri[p] = tri[p][:, ::-1]
    if not closed:
        # Outwards for an open mesh: each part with most of its area facing away from its middle;
        # a part that faces neither way (a sheet, such as a ground plate or a lone roof) faces up.
        corners = v[tri]
        cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        middle = corners.mean(axis=1)
        size = np.linalg.norm(cross, axis=1)
        for p in parts:
            pts = corners[p].reshape(-1, 3)
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            radius = float(np.linalg.norm(hi - lo)) / 2
            score = float(np.einsum("ij,ij->", middle[p] - (lo + hi) / 2, cross[p]))
            if abs(score) < 0.05 * radius * float(size[p].sum()):
                score = float(cross[p, 2].sum())
            if score < 0:
                tri[p] = tri[p][:, ::-1]
    return ("Solid" if closed and n_parts == 1 else "MultiSurface"), tri, parts


def _surfaces(
    v: np.ndarray, tri: np.ndarray, parts: list[np.ndarray]
) -> list[list[tuple[list[np.ndarray], np.ndarray]]]:
    """The surfaces of each part: ``(rings, unit normal)``, coplanar neighbours merged into polygons."""
    corners = v[tri]
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    area2 = np.linalg.norm(cross, axis=1)
    normal = cross / area2[:, None]
    neighbour, opposite, _ = _adjacency(tri)
    nb = np.where(opposite, neighbour, -1).tolist()
    region = np.full(len(tri), -1, np.int64)
    out: list[list[tuple[list[np.ndarray], np.ndarray]]] = []
    for p in parts:
        surfaces: list[tuple[list[np.ndarray], np.ndarray]] = []
        for seed in p.tolist():
            if region[seed] >= 0:
                continue
            n0 = normal[seed]
            d0 = float(n0 @ corners[seed, 0])
            region[seed] = seed
            members = [seed]
            stack = [seed]
            while stack:
                t = stack.pop()
                for u in nb[t]:
                    if u < 0 or region[u] >= 0 or float(normal[u] @ n0) < _MERGE_COS:
                        continue
                    if float(np.abs(corners[u] @ n0 - d0).max()) > PLANE_TOLERANCE:
                        continue
                    region[u] = seed
                    members.append(u)
                    stack.append(u)
            weights = area2[members]
            mean = (normal[members] * weights[:, None]).sum(axis=0)
            mean /= np.linalg.norm(mean)
            rings = _outline(v, tri[members], n0) if len(members) > 1 else None
            if rings is None:
                surfaces.extend(([tri[m]], normal[m]) for m in members)
            else:
                surfaces.append((rings, mean))
        out.append(surfaces)
    return out


def _outline(v: np.ndarray, tri: np.ndarray, normal: np.ndarray) -> list[np.ndarray] | None:
    """The rings (exterior first) of a planar patch of consistently oriented triangles.

    None when the outline is not a plain polygon with holes (it touches itself, say).
    """
    start = tri.reshape(-1)
    end = tri[:, [1, 2, 0]].reshape(-1)
    directed = set(zip(start.tolist(), end.tolist(), strict=True))
    if len(directed) != len(start):
        return None
    nxt: dict[int, int] = {}
    for a, b in zip(start.tolist(), end.tolist(), strict=True):
        if (b, a) in directed:
            continue
        if a in nxt:  # two boundary edges leave one vertex: the outline pinches
            return None
        nxt[a] = b
    loops: list[np.ndarray] = []
    while nxt:
        first, cur = next(iter(nxt.items()))
        ring = [first]
        del nxt[first]
        while cur != first:
            if cur not in nxt or len(ring) > len(start):
                return None
            ring.append(cur)
            cur = nxt.pop(cur)
        if len(ring) < 3:
            return None
        loops.append(np.asarray(ring, np.int64))
    areas = []
    for ring in loops:
        p = v[ring] - v[ring].mean(axis=0)
        areas.append(float(np.cross(p, np.roll(p, -1, axis=0)).sum(axis=0) @ normal) / 2)
    outer = [i for i, a in enumerate(areas) if a > 0]
    if len(outer) != 1 or any(a == 0 for a in areas):
        return None
    return [loops[outer[0]]] + [ring for i, ring in enumerate(loops) if i != outer[0]]


# ---------------------------------------------------------------------------- footprints
def footprint_overlap_fractions(
    model: CityModel, add: AddObject, *, types: Collection[str] = ("Building",)
) -> dict[str, float]:
    """For each top-level object of ``types`` whose footprint the proposal's touches, the share covered.

    Parameters
    ----------
    model
        The base data, in the proposal's coordinates.
    add
        The proposal (any added object with surfaces).
    types
        The object types looked at.

    Returns
    -------
    dict
        Object id → area of its footprint under the proposal's, over its footprint's area (0–1),
        in model row order; objects whose bounding boxes do not meet the proposal's are left out.
    """
    proposal = _proposal_footprint(add)
    if proposal is None:
        return {}
    mesh = model.mesh
    objects = model.objects
    if mesh.n_polygons == 0 or not len(objects):
        return {}
    origin = proposal.reshape(-1, 2).mean(axis=0)
    proposal = proposal - origin
    p_lo, p_hi = proposal.reshape(-1, 2).min(axis=0), proposal.reshape(-1, 2).max(axis=0)

    # Plan bounding box of every polygon (a polygon's vertices are one run).
    first = mesh.ring_offsets[mesh.polygon_rings[:-1]]
    last = mesh.ring_offsets[mesh.polygon_rings[1:]]
    nonempty = np.flatnonzero(last > first)
    xy = mesh.vertices[:, :2] - origin
    lo = np.minimum.reduceat(xy, first[nonempty], axis=0)
    hi = np.maximum.reduceat(xy, first[nonempty], axis=0)
    meets = ((lo <= p_hi) & (hi >= p_lo)).all(axis=1)
    poly_root = objects.roots[mesh.poly_object]
    wanted = np.array([t in types for t in objects.types], bool)
    candidates = np.unique(poly_root[nonempty[meets]])
    candidates = candidates[wanted[candidates]]
    if not len(candidates):
        return {}

    p_lo_t, p_hi_t = proposal.min(axis=1), proposal.max(axis=1)
    in_candidate = np.isin(poly_root, candidates)
    tri_keep = in_candidate[mesh.tri_polygon]
    tri_index = np.flatnonzero(tri_keep)
    tri_root = poly_root[mesh.tri_polygon[tri_index]]
    out: dict[str, float] = {}
    for b in candidates.tolist():
        polys = np.flatnonzero(poly_root == b)
        tris = tri_index[tri_root == b]
        footprint = _building_footprint(model, polys, tris, origin)
        area = float(_triangle_areas(footprint).sum()) if len(footprint) else 0.0
        if area <= 0:
            continue
        overlap = _overlap(footprint, proposal, p_lo_t, p_hi_t)
        out[objects.ids[b]] = min(1.0, overlap / area)
    return out


def footprint_overlaps(
    model: CityModel, add: AddObject, min_overlap: float = 0.2, *, types: Collection[str] = ("Building",)
) -> list[str]:
    """Ids of the model's top-level buildings the proposal stands on, to delete with it.

    Parameters
    ----------
    model
        The base data.
    add
        The proposal.
    min_overlap
        The share of a building's footprint area (0–1] the proposal's footprint must cover.
    types
        The object types looked at.

    Returns
    -------
    list of str
        In model row order (see :func:`footprint_overlap_fractions` and the module notes).
    """
    share = _finite(min_overlap, "the minimum overlap")
    if not 0 < share <= 1:
        raise ValueError(f"the minimum overlap must be above 0 and at most 1, not {share:g}")
    fractions = footprint_overlap_fractions(model, add, types=types)
    return [oid for oid, f in fractions.items() if f >= share - 1e-12]


def _proposal_footprint(add: AddObject) -> np.ndarray | None:
    """``(T, 3, 2)`` plan triangles of an added object's footprint (None without vertices)."""
    v = add.vertex_array()
    if not len(v):
        return None
    surfaces = list(geometry_surfaces(add.cityobject))
    ground = [s for s in surfaces if s.semantic == _GROUND]
    if ground:
        top = max((s.lod or "0" for s in ground), key=_lod_value)
        rings = [[np.asarray(r, np.int64) for r in s.rings] for s in ground if (s.lod or "0") == top]
        flat = np.concatenate([r for s in rings for r in s])
        ring_offsets = np.concatenate([[0], np.cumsum([len(r) for s in rings for r in s])])
        polygon_rings = np.concatenate([[0], np.cumsum([len(s) for s in rings])])
        local = v[flat] - v[flat].mean(axis=0)
        tri, _, _ = triangulate(local, ring_offsets, polygon_rings)
        if len(tri):
            return v[flat[tri]][:, :, :2]
    return _hull_triangles(v[:, :2])


def _lod_value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _building_footprint(model: CityModel, polys: np.ndarray, tris: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """``(T, 3, 2)`` plan triangles of one building's footprint (see the module notes)."""
    mesh = model.mesh
    sem = mesh.poly_semantic[polys]
    lod = mesh.poly_lod[polys]
    chosen: np.ndarray | None = None
    for mask in (sem == SurfaceClass.GROUND, lod == 0, sem == SurfaceClass.ROOF):
        if mask.any():
            top = lod[mask].max()
            chosen = polys[mask & (lod == top)]
            break
    if chosen is not None and len(tris):
        pick = tris[np.isin(mesh.tri_polygon[tris], chosen)]
        if len(pick):
            return mesh.vertices[mesh.triangles[pick]][:, :, :2] - origin
    first = mesh.ring_offsets[mesh.polygon_rings[polys]]
    last = mesh.ring_offsets[mesh.polygon_rings[polys + 1]]
    corners = np.concatenate([np.arange(a, b) for a, b in zip(first.tolist(), last.tolist(), strict=True)])
    hull = _hull_triangles(mesh.vertices[corners, :2] - origin)
    return np.zeros((0, 3, 2)) if hull is None else hull


def _hull_triangles(points: np.ndarray) -> np.ndarray | None:
    """The convex hull of plan points as a fan of ``(T, 3, 2)`` triangles (None when it has no area)."""
    pts = np.unique(np.asarray(points, np.float64), axis=0)
    if len(pts) < 3:
        return None
    centre = pts.mean(axis=0)
    rel = (pts - centre).tolist()

    def half(seq: list[list[float]]) -> list[list[float]]:
        out: list[list[float]] = []
        for p in seq:
            while len(out) >= 2:
                (ax, ay), (bx, by) = out[-2], out[-1]
                if (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax) > 0:
                    break
                out.pop()
            out.append(p)
        return out

    hull = np.asarray(half(rel)[:-1] + half(rel[::-1])[:-1]) + centre
    if len(hull) < 3:
        return None
    return np.stack([np.broadcast_to(hull[0], (len(hull) - 2, 2)), hull[1:-1], hull[2:]], axis=1)


def _triangle_areas(t: np.ndarray) -> np.ndarray:
    a, b, c = t[:, 0], t[:, 1], t[:, 2]
    return np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])) / 2


def _overlap(a: np.ndarray, b: np.ndarray, b_lo: np.ndarray, b_hi: np.ndarray) -> float:
    """Total area of the pairwise intersections of plan triangles ``a`` and ``b`` (each set not overlapping itself)."""
    a_lo, a_hi = a.min(axis=1), a.max(axis=1)
    total = 0.0
    for i in range(len(a)):
        hits = np.flatnonzero(((b_lo <= a_hi[i]) & (b_hi >= a_lo[i])).all(axis=1))
        if not len(hits):
            continue
        subject = _ccw(a[i])
        for j in hits.tolist():
            total += _polygon_area(_clip_convex(subject, _ccw(b[j])))
    return total


def _ccw(t: np.ndarray) -> np.ndarray:
    a, b, c = t
    return t if (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) >= 0 else t[::-1]


def _clip_convex(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Sutherland–Hodgman: ``subject`` clipped by the counter-clockwise convex polygon ``clip``."""
    out = subject
    for k in range(len(clip)):
        if not len(out):
            break
        a, b = clip[k], clip[(k + 1) % len(clip)]
        edge = b - a
        side = edge[0] * (out[:, 1] - a[1]) - edge[1] * (out[:, 0] - a[0])
        inside = side >= 0
        if inside.all():
            continue
        points: list[np.ndarray] = []
        n = len(out)
        for i in range(n):
            j = (i + 1) % n
            if inside[i]:
                points.append(out[i])
            if inside[i] != inside[j]:
                t = side[i] / (side[i] - side[j])
                points.append(out[i] + t * (out[j] - out[i]))
        out = np.asarray(points) if points else np.zeros((0, 2))
    return out


def _polygon_area(p: np.ndarray) -> float:
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1))) / 2
