"""Ray picking on big merged meshes, with locators built a piece at a time.

A ``vtkStaticCellLocator`` over a few million triangles takes over a second to
build, and VTK keeps Python's GIL while it does, so it cannot move to a worker
thread without freezing the window all the same. :class:`PieceLocators` splits
the triangles into pieces of :data:`PIECE_TRIANGLES` and builds one piece per
call (a GUI runs it from an idle timer, a few tens of milliseconds each); a
pick asks every piece the ray crosses and keeps the nearest hit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vtkmodules.vtkCommonCore import reference, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkGenericCell, vtkStaticCellLocator

from citytwin.render.textures import cells_polydata

#: Triangles per locator: built in about 50 ms on a 2-core machine.
PIECE_TRIANGLES = 200_000


@dataclass(frozen=True)
class RayHit:
    """The nearest triangle a ray meets."""

    t: float
    """Position along the ray (0 at its start, 1 at its end)."""
    triangle: int
    """The caller's id of the triangle."""
    position: np.ndarray
    """``(3,)`` the hit point."""


def display_ray(renderer, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """The segment under a display position (origin bottom-left), from the near to the far clipping plane."""
    ends = []
    for z in (0.0, 1.0):
        renderer.SetDisplayPoint(float(x), float(y), z)
        renderer.DisplayToWorld()
        w = np.asarray(renderer.GetWorldPoint(), np.float64)
        ends.append(w[:3] / (w[3] if w[3] else 1.0))
    return ends[0], ends[1]


def intersect(
    locator: vtkStaticCellLocator, p0: np.ndarray, p1: np.ndarray, tol: float
) -> tuple[float, int, np.ndarray]:
    """``(t, cell id, point)`` of the first cell of ``locator`` the segment meets, or ``(inf, -1, …)``."""
    t, sub_id, cell_id = reference(0.0), reference(0), reference(0)
    x, pcoords = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    if not locator.IntersectWithLine(p0.tolist(), p1.tolist(), tol, t, x, pcoords, sub_id, cell_id, vtkGenericCell()):
        return np.inf, -1, np.zeros(3)
    return float(t), int(cell_id), np.asarray(x, np.float64)


class PieceLocators:
    """Cell locators over a set of triangles, in pieces, built incrementally.

    Parameters
    ----------
    ids
        ``(T,)`` the caller's ids of the triangles (what a hit reports).
    triangles
        ``(T, 3)`` their vertex indices into ``points``.
    points
        The ``vtkPoints`` they index (shared, not copied).
    piece
        Triangles per locator (default :data:`PIECE_TRIANGLES`).
    coords
        The same points as a ``(V, 3)`` numpy array, if at hand: a pick before every piece
        is built then finds the pieces' bounds with numpy and builds only the locators of
        the pieces its ray crosses.
    """

    def __init__(
        self,
        ids: np.ndarray,
        triangles: np.ndarray,
        points: vtkPoints,
        piece: int | None = None,
        coords: np.ndarray | None = None,
    ):
        self.ids = np.asarray(ids)
        self._triangles = triangles
        self._points = points
        self._coords = coords
        self._piece = max(int(piece or PIECE_TRIANGLES), 1)
        self._starts = list(range(0, len(self.ids), self._piece))
        self._locators: list[vtkStaticCellLocator | None] = [None] * len(self._starts)
        self._bounds: list[np.ndarray | None] = [None] * len(self._starts)  # (6,) of each piece
        self._n_built = 0
        self._next = 0  # pieces before it are built

    @property
    def done(self) -> bool:
        """Whether every piece has its locator."""
        return self._n_built == len(self._starts)

    def _build(self, k: int) -> vtkStaticCellLocator:
        start = self._starts[k]
        pd = cells_polydata(self._triangles[start : start + self._piece], {}, self._points)
        loc = vtkStaticCellLocator()
        loc.SetDataSet(pd)
        loc.BuildLocator()
        self._locators[k] = loc
        self._bounds[k] = np.asarray(pd.GetBounds(), np.float64)
        self._n_built += 1
        return loc

    def build_step(self) -> bool:
        """Build the next piece's locator; returns whether pieces are left."""
        while self._next < len(self._starts) and self._locators[self._next] is not None:
            self._next += 1
        if self._next < len(self._starts):
            self._build(self._next)
        return not self.done

    def _piece_bounds(self, k: int) -> np.ndarray:
        bounds = self._bounds[k]
        if bounds is None:
            if self._coords is None:
                self._build(k)
                bounds = self._bounds[k]
            else:
                start = self._starts[k]
                corners = self._triangles[start : start + self._piece].ravel()
                cols = [self._coords[corners, j] for j in range(3)]  # per column: a 3-wide axis reduces slowly
                bounds = self._bounds[k] = np.array([f(c) for c in cols for f in (np.min, np.max)], np.float64)
        assert bounds is not None
        return bounds

    def pick(self, p0: np.ndarray, p1: np.ndarray, tol: float = 0.0) -> RayHit | None:
        """The nearest triangle on the segment ``p0``–``p1`` (building the locators it needs)."""
        best: RayHit | None = None
        for k, start in enumerate(self._starts):
            if not _segment_meets_box(p0, p1, self._piece_bounds(k), tol):
                continue
            loc = self._locators[k]
            t, cell, x = intersect(loc if loc is not None else self._build(k), p0, p1, tol)
            if cell >= 0 and (best is None or t < best.t):
                best = RayHit(t, int(self.ids[start + cell]), x)
        return best


def _segment_meets_box(p0: np.ndarray, p1: np.ndarray, bounds: np.ndarray, pad: float) -> bool:
    """Slab test of a segment against ``[xmin, xmax, ymin, ymax, zmin, zmax]``."""
    lo, hi = bounds[0::2] - pad, bounds[1::2] + pad
    d = p1 - p0
    t0, t1 = 0.0, 1.0
    for k in range(3):
        if abs(d[k]) < 1e-300:
            if not lo[k] <= p0[k] <= hi[k]:
                return False
            continue
        a, b = (lo[k] - p0[k]) / d[k], (hi[k] - p0[k]) / d[k]
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
        if t0 > t1:
            return False
    return True
