"""Clicks in the 3D view for the tools that take them (measure, draw a building).

A tool watches the view's mouse events but must not break orbiting and panning: a
press and release within :data:`CLICK_TOLERANCE_PX` is a click (the tool's), anything
longer is the end of a drag (the view's). :class:`ViewClicks` holds that test and the
keys every such tool takes (Enter, Backspace, Escape), in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt

__all__ = ["CLICK_TOLERANCE_PX", "TOOL_KEYS", "ViewClicks"]

#: a press and release closer than this (logical pixels) is a click, not a drag
CLICK_TOLERANCE_PX = 4.0
#: keys a click tool takes from the window's shortcuts while it is active
TOOL_KEYS = (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Backspace)


class ViewClicks:
    """Tells a tool's clicks in the view from the view's own drags.

    Parameters
    ----------
    viewport
        The :class:`~citytwin.ui.viewport.Viewport` (its signals are blocked while it ends a gesture,
        so that a tool's click does not also select what is under the cursor).
    """

    def __init__(self, viewport: Any) -> None:
        self.viewport = viewport
        self._press: tuple[float, float] | None = None

    def press(self, event: Any) -> None:
        """Remember where the left button went down (the view still gets the press)."""
        p = event.position()
        self._press = (p.x(), p.y())

    def forget(self) -> None:
        """Forget the press (a double click, a cancelled tool)."""
        self._press = None

    def click(self, obj: QObject, event: Any) -> tuple[float, float] | None:
        """On a left release: the click's position when it was one (the view has ended its gesture), else ``None``."""
        press, self._press = self._press, None
        p = event.position()
        if press is None or max(abs(p.x() - press[0]), abs(p.y() - press[1])) > CLICK_TOLERANCE_PX:
            return None  # the end of an orbit or pan
        blocked = self.viewport.blockSignals(True)
        try:
            obj.event(event)
        finally:
            self.viewport.blockSignals(blocked)
        return p.x(), p.y()

    @staticmethod
    def take_key(event: Any, on_key: Callable[[int], None], plain_only: bool = False) -> bool:
        """Take Enter, Backspace and Escape from the window's shortcuts and hand them to ``on_key`` (True: taken).

        ``plain_only``: leave the keys with a modifier (other than the keypad's) to the window.
        """
        if event.type() not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        key = event.key()
        if key not in TOOL_KEYS or (plain_only and event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            return False
        event.accept()
        if event.type() == QEvent.Type.KeyPress:
            on_key(key)
        return True
