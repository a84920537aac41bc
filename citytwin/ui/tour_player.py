"""Play a tour in the window at real speed: the tour editor's preview and presenter mode.

The player only keeps time. Each tick it asks the tour for the frame at the current
time (:meth:`citytwin.model.tours.Tour.sample`, the same interpolation the video export
uses) and hands it to the viewport, which draws it like the exporter does. Time comes
from a monotonic clock, so a slow frame never slows the tour down: it drops frames.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

#: Ticks per second while playing (the view draws at most this often).
TICK_HZ = 30


class TourPlayer(QObject):
    """Plays one tour at a time in a viewport.

    Signals
    -------
    position_changed(float)
        The tour time shown now (seconds).
    caption_changed(object)
        The caption shown now (an object with ``title`` and ``subtitle``) or ``None``.
    finished()
        The tour reached its end (not emitted when it loops or is stopped).
    state_changed()
        Started, paused, resumed or stopped.
    """

    position_changed = Signal(float)
    caption_changed = Signal(object)
    finished = Signal()
    state_changed = Signal()

    def __init__(self, viewport: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewport = viewport
        self.tour: Any = None
        self.loop = False
        self.speed = 1.0
        self._timer = QTimer(self)
        self._timer.setInterval(round(1000 / TICK_HZ))
        self._timer.timeout.connect(self._tick)
        self._start_clock = 0.0  # monotonic time at which tour time 0 was (while playing)
        self._position = 0.0
        self._caption: Any = None

    # ------------------------------------------------------------------ state
    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def active(self) -> bool:
        """Whether a tour is loaded (playing or paused)."""
        return self.tour is not None

    @property
    def position(self) -> float:
        return self._position

    @property
    def duration(self) -> float:
        return float(self.tour.duration) if self.tour is not None else 0.0

    def play(self, tour: Any, start: float = 0.0, loop: bool = False) -> None:
        """Play ``tour`` from ``start`` seconds."""
        self.tour = tour
        self.loop = loop
        self._position = max(0.0, min(float(start), self.duration))
        self._show(self._position)
        self._start_clock = time.monotonic() - self._position / self.speed
        self._timer.start()
        self.state_changed.emit()

    def pause(self) -> None:
        if self.playing:
            self._timer.stop()
            self.state_changed.emit()

    def resume(self) -> None:
        if self.tour is not None and not self.playing:
            if self._position >= self.duration:
                self._position = 0.0
            self._start_clock = time.monotonic() - self._position / self.speed
            self._timer.start()
            self.state_changed.emit()

    def toggle(self) -> None:
        """Pause when playing, else resume."""
        self.pause() if self.playing else self.resume()

    def seek(self, t: float) -> None:
        """Show the tour at ``t`` seconds (scrubbing); a playing tour goes on from there."""
        if self.tour is None:
            return
        self._position = max(0.0, min(float(t), self.duration))
        self._start_clock = time.monotonic() - self._position / self.speed
        self._show(self._position)

    def stop(self) -> None:
        """Stop and end the tour's effects on the view (the camera stays where it is)."""
        was = self.tour is not None
        self._timer.stop()
        self.tour = None
        if was:
            self._set_caption(None)
            self.viewport.show_tour_frame(None)
            self.state_changed.emit()

    # ------------------------------------------------------------------ ticking
    def _tick(self) -> None:
        if self.tour is None:
            self._timer.stop()
            return
        t = (time.monotonic() - self._start_clock) * self.speed
        end = self.duration
        if t >= end:
            if self.loop and end > 0:
                t %= end
                self._start_clock = time.monotonic() - t / self.speed
            else:
                self._position = end
                self._show(end)
                self._timer.stop()
                self.state_changed.emit()
                self.finished.emit()
                return
        self._position = t
        self._show(t)

    def _show(self, t: float) -> None:
        frame = self.tour.sample(t)
        self.viewport.show_tour_frame(frame)
        self._set_caption(getattr(frame, "caption", None))
        self.position_changed.emit(t)

    def _set_caption(self, caption: Any) -> None:
        if caption != self._caption:
            self._caption = caption
            self.caption_changed.emit(caption)


__all__ = ["TICK_HZ", "TourPlayer"]
