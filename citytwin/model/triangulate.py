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
    idx = np.arange(len(vertices))
    # index of the next vertex in the same ring (wraps to the ring start)
    ring_of = np.repeat(np.arange(n_rings), counts)
    nxt = idx + 1
    last = ring_offsets[1:] - 1
    nxt[last[counts > 0]] = starts[counts > 0]
    # centre each ring for precision on projected coordinates
    centre = np.add.reduceat(vertices, starts[counts > 0], axis=0) / counts[counts > 0, None]
    full_centre = np.zeros((n_rings, 3))
    full_centre[counts > 0] = centre
    v = vertices - full_centre[ring_of]
    w = v[nxt]
    cross = np.cross(v, w)
    out = np.zeros((n_rings, 3))
    nonempty = counts > 0
    out[nonempty] = np.add.reduceat(cross, starts[nonempty], axis=0)
    return out


def triangulate(
    vertices: np.ndarray,
    ring_offsets: np.ndarray,
    polygon_rings: np.ndarray,
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

    Returns
    -------
    triangles
        ``(T, 3)`` int32 vertex indices.
    tri_polygon
        ``(T,)`` int32 polygon of each triangle.
    degenerate
        ``(P,)`` bool, polygons that produced no triangle (zero area, < 3 points).
    """
    n_poly = len(polygon_rings) - 1
    ring_counts = np.diff(ring_offsets)
    poly_nrings = np.diff(polygon_rings)
    normals = newell_normals(vertices, ring_offsets)
    outer = polygon_rings[:-1]
    outer_normals = normals[outer] if n_poly else np.zeros((0, 3))
    outer_counts = ring_counts[outer] if n_poly else np.zeros(0, dtype=np.int64)
    area2 = np.linalg.norm(outer_normals, axis=1)
    # relative tolerance: area against the squared extent of the ring
    degenerate = (outer_counts < 3) | ~np.isfinite(area2) | (area2 <= 1e-12)

    tris: list[np.ndarray] = []
    owners: list[np.ndarray] = []

    # Fast path: single-ring triangles need no earcut.
    simple_tri = (~degenerate) & (poly_nrings == 1) & (outer_counts == 3)
    if simple_tri.any():
        start = ring_offsets[outer[simple_tri]]
        tris.append(np.stack([start, start + 1, start + 2], axis=1))
        owners.append(np.flatnonzero(simple_tri))

    # Convex quads (single ring, 4 points) split along the shorter diagonal
    # when both halves keep the ring's orientation.
    quad = (~degenerate) & (poly_nrings == 1) & (outer_counts == 4)
    if quad.any():
        qi = np.flatnonzero(quad)
        s = ring_offsets[outer[qi]]
        p = [vertices[s + k] for k in range(4)]
        n = outer_normals[qi]
        t1 = np.einsum("ij,ij->i", np.cross(p[1] - p[0], p[2] - p[0]), n)
        t2 = np.einsum("ij,ij->i", np.cross(p[2] - p[0], p[3] - p[0]), n)
        t3 = np.einsum("ij,ij->i", np.cross(p[1] - p[0], p[3] - p[0]), n)
        t4 = np.einsum("ij,ij->i", np.cross(p[2] - p[1], p[3] - p[1]), n)
        convex = (t1 > 0) & (t2 > 0) & (t3 > 0) & (t4 > 0)
        c = qi[convex]
        sc = s[convex]
        tris.append(np.stack([sc, sc + 1, sc + 2], axis=1))
        tris.append(np.stack([sc, sc + 2, sc + 3], axis=1))
        owners.extend([c, c])
        quad[qi[~convex]] = False

    rest = np.flatnonzero((~degenerate) & ~simple_tri & ~quad)
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
        p_start = np.concatenate([[0], np.cumsum(n_verts)])
        earcut = _earcut.triangulate_float64
        r_off = ring_offsets
        p_rings = polygon_rings
        found: list[np.ndarray] = []
        found_count = np.zeros(len(rest), np.int64)
        single = (poly_nrings[rest] == 1).tolist()
        for k, p_idx in enumerate(rest.tolist()):
            a, b = int(p_start[k]), int(p_start[k + 1])
            if single[k]:
                ends = np.array([b - a], np.uint32)
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
            tris.append(local_idx + np.repeat(v_start, found_count)[:, None])
            owners.append(np.repeat(rest, found_count))
    if tris:
        triangles = np.concatenate(tris).astype(np.int32)
        tri_polygon = np.concatenate(owners).astype(np.int32)
        order = np.argsort(tri_polygon, kind="stable")
        triangles, tri_polygon = triangles[order], tri_polygon[order]
        # Orient every triangle like its polygon's outer ring.
        a, b, c = (vertices[triangles[:, k]] for k in range(3))
        facing = np.einsum("ij,ij->i", np.cross(b - a, c - a), outer_normals[tri_polygon])
        wrong = facing < 0
        triangles[wrong] = triangles[wrong][:, ::-1]
    else:
        triangles = np.zeros((0, 3), np.int32)
        tri_polygon = np.zeros(0, np.int32)
    return triangles, tri_polygon, degenerate


# For a dominant normal axis, the two axes kept in the 2D projection.
_PLANE_AXES = ((1, 2), (0, 2), (0, 1))
