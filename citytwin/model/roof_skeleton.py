"""Hipped roofs over footprints that are not convex or have courtyards: the straight skeleton.

A hipped roof has one plane per eave, all of the same pitch. Seen from above, the plane of an eave covers
the points that the eave reaches first when every eave moves inwards at the same speed (the footprint's
*straight skeleton*); a point's height is the time it is reached times the pitch. :func:`hipped_roof`
runs that wavefront: between two events every vertex moves in a straight line, so each wavefront edge
sweeps a planar trapezoid of its eave's roof plane. Events are an edge shrinking to nothing (its two
vertices merge), a reflex corner running into another part of the wavefront (the wavefront splits in
two), a courtyard's wavefront meeting the outline's (the two join), and two opposite eaves meeting along
a ridge (the spike is cut off). :func:`roof_faces` joins the trapezoids of each eave into its face.

No library with a licence that an Apache-2.0 installer can carry computes straight skeletons
(ladybug-geometry-polyskel is AGPL, CGAL's is GPL), so this is written here, for the small footprints an
editor draws (tens of corners): every event is found by testing all vertex-edge pairs. What it gives is
checked where it is used (:func:`citytwin.model.buildings.make_building` closes the solid or says why
not); a footprint the wavefront cannot resolve raises a one-sentence :class:`ValueError`.
"""

from __future__ import annotations

import numpy as np

#: distances (m) under which two wavefront points are one
EPS = 1e-7

FAIL = "A hipped roof cannot be built on this footprint; simplify it or pick a flat or shed roof."


def hipped_roof(
    outer: np.ndarray, holes: list[np.ndarray] | tuple[np.ndarray, ...] = (), gables: frozenset[int] = frozenset()
) -> list[tuple[int, list[np.ndarray]]]:
    """The roof pieces of a hipped roof of pitch 1 (height = distance travelled) over a simple footprint.

    Parameters
    ----------
    outer
        ``(n, 2)`` counter-clockwise outline (not closed, no repeated or collinear corners), in metres,
        in a local frame.
    holes
        Clockwise inner rings (courtyards), alike.
    gables
        Edges that stay where they are (a weighted skeleton with weight 0): their "roof" is a vertical
        gable wall up to the ridge, as on a gabled roof.

    Returns
    -------
    list of (int, list of numpy.ndarray)
        ``(edge, piece)`` for each planar piece of roof: ``edge`` is the eave (edge ``i`` runs from
        corner ``i`` to corner ``i + 1`` of the outline, then the holes' edges are numbered on) whose
        plane it lies in, ``piece`` its ``(x, y, z)`` corners
        counter-clockwise seen from above. Pieces of one eave share their sides exactly.

    Raises
    ------
    ValueError
        When the wavefront cannot be followed (a footprint too degenerate); one sentence.
    """
    # a loop: list of (xy, id of the edge leaving this vertex); the building is left of every edge
    loops = []
    normals = {}
    n = 0
    for ring in (outer, *holes):
        pts = np.asarray(ring, np.float64)
        m = len(pts)
        loops.append([(pts[i].copy(), n + i) for i in range(m)])
        for i in range(m):
            d = pts[(i + 1) % m] - pts[i]
            length = float(np.hypot(*d))
            if length <= EPS:
                raise ValueError(FAIL)
            normals[n + i] = np.array([-d[1], d[0]]) / length  # to the left: into the building
        n += m
    pieces: list[tuple[int, list[np.ndarray]]] = []
    t = 0.0
    speeds = {i: 0.0 if i in gables else 1.0 for i in normals}
    for _step in range(20 * n * n + 20):
        # a courtyard's loop runs clockwise (negative area) until it merges with the outline's
        loops = [lp for lp in (_clean(lp, normals) for lp in loops) if len(lp) >= 3 and abs(_area(lp)) > EPS]
        if not loops:
            return pieces
        vel = [_velocities(lp, normals, speeds) for lp in loops]
        dt = _next_event(loops, vel, normals, speeds)
        if dt is None or not np.isfinite(dt):
            raise ValueError(FAIL)
        moved = [[(p + v * dt, e) for (p, e), v in zip(lp, vv, strict=True)] for lp, vv in zip(loops, vel, strict=True)]
        for before, after in zip(loops, moved, strict=True):
            m = len(before)
            for k in range(m):
                j = (k + 1) % m
                a0, b0 = before[k][0], before[j][0]
                a1, b1 = after[k][0], after[j][0]
                piece = [np.append(a0, t), np.append(b0, t), np.append(b1, t + dt), np.append(a1, t + dt)]
                pieces.append((before[k][1], piece))
        t += dt
        loops = [lp2 for lp in _merge([_clean(lp, normals) for lp in moved]) for lp2 in _split(_clean(lp, normals))]
    raise ValueError(FAIL)


def roof_faces(pieces: list[tuple[int, list[np.ndarray]]]) -> list[tuple[int, np.ndarray]]:
    """Join the pieces of each eave into its face(s): ``(edge, (k, 3) ring)``, counter-clockwise from above.

    A corner of one piece lying inside a side of another is put into that side first, so that the faces
    meet corner to corner (a closed shell needs every edge shared by exactly two faces).
    """
    corners = np.array([c for _, piece in pieces for c in piece])
    keys: dict[tuple[int, int, int], int] = {}
    points: list[np.ndarray] = []

    def key(c: np.ndarray) -> int:
        k = (round(c[0] / 1e-6), round(c[1] / 1e-6), round(c[2] / 1e-6))
        if k not in keys:
            keys[k] = len(points)
            points.append(c)
        return keys[k]

    by_edge: dict[int, dict[tuple[int, int], int]] = {}
    for edge, piece in pieces:
        ring: list[np.ndarray] = []
        for i, a in enumerate(piece):
            b = piece[(i + 1) % len(piece)]
            ring.append(a)
            ab = b - a
            ll = float(ab @ ab)
            if ll <= 1e-12:
                continue
            s = (corners - a) @ ab / ll
            off = np.linalg.norm(corners - a - s[:, None] * ab, axis=1)
            inside = (s > 1e-9) & (s < 1 - 1e-9) & (off <= 1e-6)
            for k in np.argsort(s):
                if inside[k]:
                    ring.append(corners[k])
        ids = [key(c) for c in ring]
        ids = [v for i, v in enumerate(ids) if v != ids[i - 1]]
        if len(set(ids)) < 3:
            continue
        directed = by_edge.setdefault(edge, {})
        for i, a in enumerate(ids):
            b = ids[(i + 1) % len(ids)]
            if (b, a) in directed:  # a side two pieces of this face share: inside the face
                directed[(b, a)] -= 1
                if directed[(b, a)] == 0:
                    del directed[(b, a)]
            else:
                directed[(a, b)] = directed.get((a, b), 0) + 1
    faces = []
    for edge, directed in by_edge.items():
        nxt: dict[int, list[int]] = {}
        for (a, b), count in directed.items():
            nxt.setdefault(a, []).extend([b] * count)
        while nxt:
            start = next(iter(nxt))
            ring_ids = [start]
            while True:
                outs = nxt.get(ring_ids[-1])
                if not outs:
                    raise ValueError(FAIL)
                b = outs.pop()
                if not outs:
                    del nxt[ring_ids[-1]]
                if b == start:
                    break
                ring_ids.append(b)
                if len(ring_ids) > len(points) + 1:
                    raise ValueError(FAIL)
            if len(ring_ids) >= 3:
                faces.append((edge, ring_ids))
    return [(edge, np.array([points[i] for i in ids])) for edge, ids in _drop_through_points(faces, points)]


def _drop_through_points(faces: list[tuple[int, list[int]]], points: list[np.ndarray]) -> list[tuple[int, list[int]]]:
    """Leave out the points where every face having one goes straight on through it.

    A vertex that no event touched still gets a corner at every event's time, on its straight path
    between two faces; as a corner of neither face it only makes slivers when the faces are triangulated.
    """
    through: dict[int, bool] = {}
    for _edge, ids in faces:
        m = len(ids)
        for k, v in enumerate(ids):
            a, p, b = points[ids[k - 1]], points[v], points[ids[(k + 1) % m]]
            ab = b - a
            ll = float(ab @ ab)
            s = float((p - a) @ ab) / ll if ll > 0 else -1.0
            straight = 0.0 < s < 1.0 and float(np.linalg.norm(p - a - s * ab)) <= 1e-7
            through[v] = through.get(v, True) and straight
    return [(edge, [v for v in ids if not through[v]]) for edge, ids in faces]


def _velocities(loop: list, normals: dict, speeds: dict) -> list[np.ndarray]:
    """How fast each vertex moves so that both its edges move inwards at their speeds (1, or 0 for a gable)."""
    out = []
    m = len(loop)
    for k in range(m):
        n1, w1 = normals[loop[k - 1][1]], speeds[loop[k - 1][1]]
        n2, w2 = normals[loop[k][1]], speeds[loop[k][1]]
        det = n1[0] * n2[1] - n1[1] * n2[0]
        if abs(det) < 1e-9:
            if float(n1 @ n2) < 0 or w1 != w2:  # a spike (the wavefront folds back on itself), or a step
                raise ValueError(FAIL)
            out.append(w1 * n1)
        else:  # solves n1·v = w1, n2·v = w2
            out.append(np.array([w1 * n2[1] - w2 * n1[1], w2 * n1[0] - w1 * n2[0]]) / det)
    return out


def _next_event(loops: list, vel: list, normals: dict, speeds: dict) -> float | None:
    """The time until the next edge vanishes or a reflex vertex reaches an edge (of its loop or another)."""
    best = None
    for lp, vv in zip(loops, vel, strict=True):
        m = len(lp)
        for k in range(m):
            j = (k + 1) % m
            d = lp[j][0] - lp[k][0]
            length = float(np.hypot(*d))
            if length <= EPS:
                continue
            u = d / length
            rate = float(u @ (vv[j] - vv[k]))
            if rate < -1e-12:
                dt = length / -rate
                best = dt if best is None else min(best, dt)
        for k in range(m):
            if not _reflex(lp, k):
                continue
            p, v = lp[k][0], vv[k]
            for other, ov in zip(loops, vel, strict=True):
                mo = len(other)
                for e in range(mo):
                    if other is lp and (e == k or (e + 1) % m == k):
                        continue
                    f = (e + 1) % mo
                    nrm = normals[other[e][1]]
                    gap = float(nrm @ (p - other[e][0]))
                    closing = speeds[other[e][1]] - float(nrm @ v)
                    if closing <= 1e-12 or gap < -EPS:
                        continue
                    dt = max(gap, 0.0) / closing
                    a, b = other[e][0] + ov[e] * dt, other[f][0] + ov[f] * dt
                    q = p + v * dt
                    ab = b - a
                    ll = float(ab @ ab)
                    if ll <= EPS * EPS:
                        continue
                    s = float((q - a) @ ab) / ll
                    if -1e-9 <= s <= 1 + 1e-9 and dt > EPS:
                        best = dt if best is None else min(best, dt)
    return best


def _reflex(loop: list, k: int) -> bool:
    a, b, c = loop[k - 1][0], loop[k][0], loop[(k + 1) % len(loop)][0]
    d1, d2 = b - a, c - b
    return float(d1[0] * d2[1] - d1[1] * d2[0]) < -1e-12


def _clean(loop: list, normals: dict) -> list:
    """Merge vertices that met (an edge that vanished); drop vertices between edges of one direction."""
    changed = True
    while changed and len(loop) >= 3:
        changed = False
        m = len(loop)
        for k in range(m):
            j = (k + 1) % m
            if np.hypot(*(loop[j][0] - loop[k][0])) <= 1e-6:
                # the edge k→j vanished: one vertex, leaving along j's edge
                mid = 0.5 * (loop[k][0] + loop[j][0])
                loop = [*loop[:k], (mid, loop[j][1]), *loop[k + 2 :]] if j else [(mid, loop[j][1]), *loop[1:k]]
                changed = True
                break
        if changed:
            continue
        for k in range(m):
            n1, n2 = normals[loop[k - 1][1]], normals[loop[k][1]]
            if abs(n1[0] * n2[1] - n1[1] * n2[0]) >= 1e-9:
                continue
            if float(n1 @ n2) > 0:
                loop = [*loop[:k], *loop[k + 1 :]]  # the two edges are one line now: keep the earlier edge's id
            else:
                # a spike: two opposite eaves met along a ridge, and the stretch where they overlap is gone; the
                # longer of the two goes on from the vertex before the tip to the one after it
                a, tip, b = loop[k - 1][0], loop[k][0], loop[(k + 1) % m][0]
                keep = loop[k - 1][1] if np.hypot(*(a - tip)) >= np.hypot(*(b - tip)) else loop[k][1]
                loop = [*loop[: k - 1], (a, keep), *loop[k + 1 :]] if k else [*loop[1:-1], (a, keep)]
            changed = True
            break
    return loop


def _split(loop: list) -> list[list]:
    """Split a loop where a vertex lies on a non-adjacent edge (or on another vertex)."""
    m = len(loop)
    for k in range(m):
        p = loop[k][0]
        for e in range(m):
            f = (e + 1) % m
            if e == k or f == k or (e - 1) % m == k:
                continue
            if _on_segment(p, loop[e][0], loop[f][0]):
                # two loops: k … e then the hit point, and the hit point (leaving along e's edge) … k
                first = [loop[(k + i) % m] for i in range((e - k) % m + 1)]
                second = [(p.copy(), loop[e][1]), *[loop[(f + i) % m] for i in range((k - f) % m)]]
                if _area(first) < -EPS or _area(second) < -EPS:
                    continue  # where a courtyard's loop just joined this one: not a split (it would undo that)
                return [lp for part in (first, second) for lp in _split(part)]
    return [loop]


def _merge(loops: list[list]) -> list[list]:
    """Join two loops where a vertex of one lies on an edge of the other (a courtyard's wavefront meeting
    the outline's, or another courtyard's)."""
    for ia, a_loop in enumerate(loops):
        ma = len(a_loop)
        for ib, b_loop in enumerate(loops):
            if ia == ib:
                continue
            mb = len(b_loop)
            for k in range(ma):
                p = a_loop[k][0]
                for e in range(mb):
                    f = (e + 1) % mb
                    if _on_segment(p, b_loop[e][0], b_loop[f][0]):
                        # … k-1 → p, along B's edge e to B's f … round B to e → p again, along A's edge k …
                        joined = [
                            *a_loop[:k],
                            (p.copy(), b_loop[e][1]),
                            *[b_loop[(f + i) % mb] for i in range((e - f) % mb + 1)],
                            (p.copy(), a_loop[k][1]),
                            *a_loop[k + 1 :],
                        ]
                        rest = [lp for i, lp in enumerate(loops) if i not in (ia, ib)]
                        return _merge([*rest, joined])
    return loops


def _on_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``p`` lies on the segment ``a``–``b`` (its ends included), to a micrometre."""
    ab = b - a
    ll = float(ab @ ab)
    if ll <= EPS * EPS:
        return False
    s = float((p - a) @ ab) / ll
    dist = abs(float(ab[0] * (p[1] - a[1]) - ab[1] * (p[0] - a[0]))) / np.sqrt(ll)
    return dist <= 1e-6 and -1e-9 <= s <= 1 + 1e-9


def _area(loop: list) -> float:
    xy = np.array([p for p, _ in loop])
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


__all__ = ["FAIL", "hipped_roof", "roof_faces"]
