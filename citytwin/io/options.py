"""What to load, and how a reader reports progress and learns of a cancel."""

from __future__ import annotations

from collections.abc import Callable
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
        of the file (class counts and bounds still describe the whole file).
    """

    lod_min: float = 0.0
    lod_max: float = 4.9
    types: frozenset[str] | None = None
    bbox: tuple[float, float, float, float] | None = None
    recover: bool = True
    point_budget: int = 5_000_000

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
