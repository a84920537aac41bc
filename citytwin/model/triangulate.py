"""Polygon triangulation: earcut on each polygon's plane, vectorised where it can be."""

from __future__ import annotations

import numpy as np

try:  # mapbox-earcut is a hard dependency; keep the import error readable.
    import mapbox_earcut as _earcut
except ImportError as exc:  # pragma: no cover - exercised only on broken installs
    raise ImportError("citytwin needs mapbox-earcut: pip install mapbox-earcut") from exc


def newell_normals(vertices: np.ndarray, ring_offsets: np.ndarray) -> np.ndarray:
    """Unnormalised Newell normals of many rings at once.

    Parameters
    ----------
    vertices
        ``(V, 3)`` float64, rings stored one after another, not closed.
    ring_offsets
        ``(R + 1,)`` start of each ring in ``vertices``, last entry ``V``.

    Returns
    -------
    numpy.ndarray
        ``(R, 3)``; the length of each row is twice the ring's area.
    """
    n_rings = len(ring_offsets) - 1
    if n_rings == 0:
        return np.zeros((0, 3))
    starts = ring_offsets[:-1]
    counts = np.diff(ring_offsets)
    nonempty = counts > 0
    all_nonempty = bool(nonempty.all())
    s_ne = starts if all_nonempty else starts[nonempty]
    c_ne = counts if all_nonempty else counts[nonempty]
    # centre each ring for precision on projected coordinates
    centre = np.add.reduceat(vertices, s_ne, axis=0) / c_ne[:, None]
    v = np.repeat(centre, c_ne, axis=0)
    np.subtract(vertices, v, out=v)
    # the next vertex in the same ring (wrapping to the ring start)
    w = np.empty_like(v)
    w[:-1] = v[1:]
    w[(s_ne + c_ne - 1)] = v[s_ne]
    cross = _cross(v, w)
    if all_nonempty:
        return np.add.reduceat(cross, starts, axis=0)
    out = np.zeros((n_rings, 3))
    out[nonempty] = np.add.reduceat(cross, s_ne, axis=0)
    return out


def triangulate(
    vertices: np.ndarray,
    ring_offsets: np.ndarray,
    polygon_rings: np.ndarray,
    axis_scale: tuple[float, float, float] | np.ndarray | None = None,
    skip: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triangulate polygons with holes.

    Each polygon is projected on the plane of its outer ring (by dropping the
    axis its Newell normal is closest to, which keeps the ring's topology) and
    cut by earcut. Triangles come out oriented like the outer ring.

    Parameters
    ----------
    vertices
        ``(V, 3)`` float64.
    ring_offsets
        ``(R + 1,)`` ring starts in ``vertices``.
    polygon_rings
        ``(P + 1,)`` ring starts of each polygon in the ring list; the first ring
        of a polygon is its exterior.
    axis_scale
        Optional ``(sx, sy, sz)``: the polygons are triangulated as if every vertex
        were multiplied by it (normals, projection plane, degeneracy, orientation),
        for coordinates whose axes have different units (latitude and longitude in
        degrees, height in metres). Only a scaled copy is used; ``vertices`` and the
        returned indices are not affected.
    skip
        Optional ``(P,)`` bool: polygons to leave without triangles (too large to
        triangulate within bounded time, say); they are not reported as degenerate.

    Returns
    -------
    triangles
        ``(T, 3)`` int32 vertex indices.
    tri_polygon
        ``(T,)`` int32 polygon of each triangle.
    degenerate
        ``(P,)`` bool, polygons that produced no triangle (zero area, < 3 points).
    """
    if axis_scale is not None:
        vertices = vertices * np.asarray(axis_scale, dtype=np.float64).reshape(1, 3)
    n_poly = len(polygon_rings) - 1
    ring_counts = np.diff(ring_offsets)
    poly_nrings = np.diff(polygon_rings)
    outer = polygon_rings[:-1]
    outer_counts = ring_counts[outer] if n_poly else np.zeros(0, dtype=np.int64)
    if n_poly and len(ring_counts) == n_poly and (ring_counts == 3).all():
        # Already triangles (meshes, triangulated CityJSON): a triangle's normal is one cross product.
        a = vertices[ring_offsets[:-1]]
        outer_normals = _cross(vertices[ring_offsets[:-1] + 1] - a, vertices[ring_offsets[:-1] + 2] - a)
    else:
        outer_normals = newell_normals(vertices, ring_offsets)[outer] if n_poly else np.zeros((0, 3))
    squares = outer_normals * outer_normals  # np.linalg.norm(axis=1), same sums, without its slow axis path
    area2 = squares[:, 0] + squares[:, 1]
    area2 += squares[:, 2]
    np.sqrt(area2, out=area2)
    # relative tolerance: area against the squared extent of the ring
    degenerate = (outer_counts < 3) | ~np.isfinite(area2) | (area2 <= 1e-12)
    excluded = degenerate if skip is None else degenerate | skip

    # Triangles per polygon, found by three paths; each polygon's triangles are
    # written at its own offset, in polygon order, without sorting.
    tri_count = np.zeros(n_poly, np.int64)
    checked: list[tuple[np.ndarray, np.ndarray]] = []  # (triangles, polygon) whose facing is checked
    placed: list[tuple[np.ndarray, np.ndarray, int]] = []  # (triangles, polygon, k-th triangle of it), facing known

    # Fast path: single-ring triangles need no earcut, and no facing check: the ring is the
    # triangle, so it faces like itself.
    simple_tri = (~excluded) & (poly_nrings == 1) & (outer_counts == 3)
    if simple_tri.any():
        owner = np.flatnonzero(simple_tri)
        start = ring_offsets[outer[owner]]
        placed.append((start[:, None] + np.arange(3), owner, 0))
        tri_count[owner] = 1

    # Convex quads (single ring, 4 points) split along the shorter diagonal
    # when both halves keep the ring's orientation (so their facing is known).
    quad = (~excluded) & (poly_nrings == 1) & (outer_counts == 4)
    if quad.any():
        qi = np.flatnonzero(quad)
        s = ring_offsets[outer[qi]]
        p = [vertices[s + k] for k in range(4)]
        n = outer_normals[qi]
        t1 = np.einsum("ij,ij->i", _cross(p[1] - p[0], p[2] - p[0]), n)
        t2 = np.einsum("ij,ij->i", _cross(p[2] - p[0], p[3] - p[0]), n)
        t3 = np.einsum("ij,ij->i", _cross(p[1] - p[0], p[3] - p[0]), n)
        t4 = np.einsum("ij,ij->i", _cross(p[2] - p[1], p[3] - p[1]), n)
        convex = (t1 > 0) & (t2 > 0) & (t3 > 0) & (t4 > 0)
        c = qi[convex]
        sc = s[convex]
        placed.append((np.stack([sc, sc + 1, sc + 2], axis=1), c, 0))
        placed.append((np.stack([sc, sc + 2, sc + 3], axis=1), c, 1))
        tri_count[c] = 2
        quad[qi[~convex]] = False

    rest = np.flatnonzero((~excluded) & ~simple_tri & ~quad)
    if len(rest):
        # Project every vertex of these polygons to 2D at once: relative to the
        # polygon's first vertex (precision), dropping the normal's dominant axis.
        dominant = np.argmax(np.abs(outer_normals[rest]), axis=1)
        v_start = ring_offsets[polygon_rings[rest]]
        v_end = ring_offsets[polygon_rings[rest + 1]]
        n_verts = v_end - v_start
        vidx = np.arange(int(n_verts.sum())) - np.repeat(np.cumsum(n_verts) - n_verts, n_verts)
        vidx += np.repeat(v_start, n_verts)
        local = vertices[vidx] - np.repeat(vertices[v_start], n_verts, axis=0)
        axes = np.asarray(_PLANE_AXES)[dominant]
        proj = np.take_along_axis(local, np.repeat(axes, n_verts, axis=0), axis=1)
        p_start = np.concatenate([[0], np.cumsum(n_verts)]).tolist()
        single_ends = n_verts.astype(np.uint32)
        earcut = _earcut.triangulate_float64
        r_off = ring_offsets
        p_rings = polygon_rings
        found: list[np.ndarray] = []
        found_count = np.zeros(len(rest), np.int64)
        single = (poly_nrings[rest] == 1).tolist()
        for k, p_idx in enumerate(rest.tolist()):
            a, b = p_start[k], p_start[k + 1]
            if single[k]:
                ends = single_ends[k : k + 1]
            else:
                r0, r1 = p_rings[p_idx], p_rings[p_idx + 1]
                ends = (r_off[r0 + 1 : r1 + 1] - r_off[r0]).astype(np.uint32)
            idx = earcut(proj[a:b], ends)
            if len(idx) == 0:
                degenerate[p_idx] = True
                continue
            found.append(idx)
            found_count[k] = len(idx) // 3
        if found:
            local_idx = np.concatenate(found).astype(np.int64).reshape(-1, 3)
            checked.append((local_idx + np.repeat(v_start, found_count)[:, None], np.repeat(rest, found_count)))
            tri_count[rest] = found_count
    n_tri = int(tri_count.sum())
    triangles = np.empty((n_tri, 3), np.int32)
    tri_polygon = np.repeat(np.arange(n_poly, dtype=np.int32), tri_count)
    first = np.zeros(n_poly, np.int64)
    np.cumsum(tri_count[:-1], out=first[1:])
    for tri, owner, k in placed:
        triangles[first[owner] + k] = tri
    for tri, owner in checked:
        # Orient like the polygon's outer ring. earcut winds all triangles of a polygon alike, so the
        # polygon's triangles turn together, by their summed facing: a steep triangle of a non-planar
        # polygon (a kerb in a road) or a zero-area sliver must not turn against its neighbours.
        a, b, c = (vertices[tri[:, k]] for k in range(3))
        facing = np.einsum("ij,ij->i", _cross(b - a, c - a), outer_normals[owner])
        wrong = (np.bincount(owner, facing, minlength=n_poly) < 0)[owner]
        tri[wrong] = tri[wrong][:, ::-1]
        # k-th triangle of its polygon: position in the run of equal owners (owners ascend)
        run_start = np.flatnonzero(np.concatenate([[True], owner[1:] != owner[:-1]])) if len(owner) else owner
        within = np.arange(len(owner)) - np.repeat(run_start, np.diff(np.append(run_start, len(owner))))
        triangles[first[owner] + within] = tri
    if skip is not None:
        degenerate &= ~skip
    return triangles, tri_polygon, degenerate


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross`` of ``(N, 3)`` rows with the same arithmetic, without its generic overhead (4x faster)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    tmp = np.empty(len(out))
    ax, ay, az = a[:, 0], a[:, 1], a[:, 2]
    bx, by, bz = b[:, 0], b[:, 1], b[:, 2]
    np.subtract(np.multiply(ay, bz, out=out[:, 0]), np.multiply(az, by, out=tmp), out=out[:, 0])
    np.subtract(np.multiply(az, bx, out=out[:, 1]), np.multiply(ax, bz, out=tmp), out=out[:, 1])
    np.subtract(np.multiply(ax, by, out=out[:, 2]), np.multiply(ay, bx, out=tmp), out=out[:, 2])
    return out


# For a dominant normal axis, the two axes kept in the 2D projection.
_PLANE_AXES = ((1, 2), (0, 2), (0, 1))
