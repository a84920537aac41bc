"""Presenter mode settings: what plays on a stand, in which order, and how the kiosk behaves.

Pure data kept in the project (``Project.presentation``); the window's presenter mode
(:mod:`citytwin.ui.presenter`) plays it and ``citytwin present PROJECT`` starts it.
"""

from __future__ import annotations

import math

import msgspec
from msgspec.structs import force_setattr

#: What a playlist stop can be.
STOP_KINDS = ("tour", "bookmark")


class Stop(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One stop of the playlist: a tour played through, or a bookmark held for a while.

    Attributes
    ----------
    kind
        ``"tour"`` or ``"bookmark"``.
    name
        The tour's or bookmark's name in the project.
    seconds
        How long a bookmark is held once the camera has arrived (ignored for a tour).
    """

    kind: str
    name: str
    seconds: float = 8.0

    def __post_init__(self) -> None:
        force_setattr(self, "seconds", float(self.seconds))  # 12 and 12.0 write the same file
        if self.kind not in STOP_KINDS:
            raise ValueError(f"A playlist stop is a tour or a bookmark, not {self.kind!r}.")
        if not self.name:
            raise ValueError("A playlist stop needs the name of a tour or a bookmark.")
        if not (math.isfinite(self.seconds) and 0 < self.seconds <= 3600):
            raise ValueError(f"A stop is held 0 to 3600 seconds, not {self.seconds}.")


class Presentation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How presenter mode runs.

    Attributes
    ----------
    playlist
        The stops, played in order. Empty: every tour of the project, then every bookmark.
    loop
        Start again after the last stop.
    idle_seconds
        Kiosk: after this long without input, go back to the attract loop (the playlist from
        its first stop, playing by itself); ``0`` turns the kiosk off.
    exit_pin
        Digits asked before Esc leaves presenter mode (``""``: Esc leaves at once).
    hide_cursor_seconds
        The cursor hides after this long without moving.
    fly_seconds
        How long the camera takes to fly to a bookmark stop.
    """

    playlist: list[Stop] = msgspec.field(default_factory=list)
    loop: bool = True
    idle_seconds: float = 60.0
    exit_pin: str = ""
    hide_cursor_seconds: float = 3.0
    fly_seconds: float = 2.5

    def __post_init__(self) -> None:
        for name in ("idle_seconds", "hide_cursor_seconds", "fly_seconds"):
            force_setattr(self, name, float(getattr(self, name)))
        if not (math.isfinite(self.idle_seconds) and 0 <= self.idle_seconds <= 86400):
            raise ValueError(f"The kiosk idle time must be 0 to 86400 seconds, not {self.idle_seconds}.")
        if self.exit_pin and not (self.exit_pin.isdigit() and len(self.exit_pin) <= 12):
            raise ValueError("The exit PIN must be 1 to 12 digits.")
        if not (math.isfinite(self.hide_cursor_seconds) and 0 < self.hide_cursor_seconds <= 600):
            raise ValueError("The cursor hides after 0 to 600 seconds.")
        if not (math.isfinite(self.fly_seconds) and 0 <= self.fly_seconds <= 60):
            raise ValueError("A flight to a bookmark takes 0 to 60 seconds.")

    def stops(self, tours: list, bookmarks: list) -> list[Stop]:
        """The stops that can play: the playlist's whose tour or bookmark exists (a tour needs
        two keyframes), or every tour then every bookmark when the playlist is empty."""
        tour_names = {t.name for t in tours if len(getattr(t, "keyframes", ())) >= 2}
        mark_names = {b.name for b in bookmarks}
        if not self.playlist:
            return [Stop(kind="tour", name=t.name) for t in tours if t.name in tour_names] + [
                Stop(kind="bookmark", name=b.name) for b in bookmarks
            ]
        known = {"tour": tour_names, "bookmark": mark_names}
        return [s for s in self.playlist if s.name in known[s.kind]]


__all__ = ["STOP_KINDS", "Presentation", "Stop"]
