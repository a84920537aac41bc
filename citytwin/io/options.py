"""What to load, and how a reader reports progress and learns of a cancel."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from citytwin.errors import LoadCancelled
from citytwin.model.semantics import lod_code


@dataclass(frozen=True)
class LoadOptions:
    """One options object for every reader, so the GUI, CLI and tests ask alike.

    Attributes
    ----------
    lod_min, lod_max
        Keep geometry whose LoD lies in this range (inclusive, as LoD values).
    types
        Keep only top-level objects of these types (and their children);
        ``None`` keeps all.
    bbox
        ``(xmin, ymin, xmax, ymax)`` in the source CRS: keep top-level objects
        whose geometry's 2D bounds intersect it.
    recover
        For XML: when a file is not well-formed, retry with a recovering parser
        and report what was skipped instead of failing.
    point_budget
        For point clouds: keep at most this many points, a uniform random subset
        of the file (class counts and bounds still describe the whole file), or,
        for COPC, its coarse octree levels (class counts then of those points).
    crs
        For files that carry no CRS (meshes): the CRS of their coordinates, as
        ``"EPSG:28992"``, a bare code or WKT. Wins over a sidecar file's.
    offset
        For meshes in local coordinates: ``(x, y, z)`` (or ``(x, y)``) added to
        every vertex, placing them in ``crs``. Wins over a sidecar file's.
    max_polygon_vertices
        Polygons with more vertices than this (all rings together) are kept but
        not triangulated, with a counted warning: a damaged, self-intersecting
        ring costs time quadratic in its vertices (50,000 take seconds). Real
        city-model polygons have tens to a few thousand.
    """

    lod_min: float = 0.0
    lod_max: float = 4.9
    types: frozenset[str] | None = None
    bbox: tuple[float, float, float, float] | None = None
    recover: bool = True
    point_budget: int = 5_000_000
    crs: str | None = None
    offset: tuple[float, ...] | None = None
    max_polygon_vertices: int = 20_000

    def lod_code_range(self) -> tuple[int, int]:
        """The LoD range as codes (see :func:`citytwin.model.semantics.lod_code`)."""
        return lod_code(self.lod_min), lod_code(self.lod_max)

    def keeps_type(self, type_name: str) -> bool:
        return self.types is None or type_name in self.types


ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``, in bytes read (or objects when the size is unknown)."""

CancelCheck = Callable[[], bool]
"""Returns true once the user asked to cancel."""


class Progress:
    """Throttled progress reporting and cancel checks for a reader's loop."""

    def __init__(self, total: int, callback: ProgressCallback | None = None, cancel: CancelCheck | None = None):
        self.total = max(int(total), 1)
        self._callback = callback
        self._cancel = cancel
        self._last = -1

    def update(self, done: int) -> None:
        """Report ``done`` of ``total``; raise :class:`LoadCancelled` if cancelled."""
        if self._cancel is not None and self._cancel():
            raise LoadCancelled()
        if self._callback is not None:
            step = done * 200 // self.total
            if step != self._last:
                self._last = step
                self._callback(min(done, self.total), self.total)

    def finish(self) -> None:
        if self._callback is not None:
            self._callback(self.total, self.total)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a reader creates millions of small objects.

    The collector would otherwise walk the growing model again and again: on a
    1 GB CityGML file that is a fifth of the read time, and it halves orjson's
    parse time on large CityJSON files. Readers create no reference cycles worth
    collecting; the previous state is restored, also on errors.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_gc(reader: Callable) -> Callable:
    """Decorate a reader function to run under :func:`gc_paused`."""

    @functools.wraps(reader)
    def wrapper(*args, **kwargs):
        with gc_paused():
            return reader(*args, **kwargs)

    return wrapper
