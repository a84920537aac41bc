"""The tour editor's timeline: a time ruler, the keyframes as markers, caption spans and the playhead.

:class:`Timeline` only shows a tour and says what the user did with it: a
click on a marker selects that keyframe, dragging it asks for a retime (once,
on release, so one drag is one undo step), a click or drag elsewhere scrubs.
It never changes the tour itself; the tours panel turns its signals into
scene edits and player seeks.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

#: Pixels around a marker that a click still counts as on it.
MARKER_HIT = 7
#: Tick steps of the ruler, in seconds (the smallest that keeps labels this many pixels apart is used).
TICK_STEPS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
MIN_LABEL_GAP = 44
#: A dragged keyframe keeps at least this many seconds from its neighbours (and their pauses).
MIN_GAP = 0.05
#: A dragged time snaps to this many seconds (unless Shift is held).
SNAP = 0.1


def format_time(seconds: float) -> str:
    """``m:ss.s`` (``0:03.2``), the way the transport shows a tour time."""
    tenths = int(round(max(float(seconds), 0.0) * 10))
    minutes, rest = divmod(tenths, 600)
    return f"{minutes}:{rest / 10:04.1f}"


def _tick_label(t: float, step: float, long: bool) -> str:
    if long:
        minutes, sec = divmod(round(t), 60)
        return f"{minutes}:{sec:02d}"
    return f"{t:.1f}s" if step < 1 else f"{t:g}s"


class Timeline(QWidget):
    """A tour's time line.

    Signals
    -------
    keyframe_clicked(int)
        A marker was pressed (the keyframe's index).
    keyframe_activated(int)
        A marker was double-clicked.
    retime_requested(int, float)
        A marker was dragged to a new time and released (index, seconds).
    scrubbed(float)
        The ruler or track was clicked or dragged at a time (seconds).
    """

    keyframe_clicked = Signal(int)
    keyframe_activated = Signal(int)
    retime_requested = Signal(int, float)
    scrubbed = Signal(float)

    RULER_H = 18
    TRACK_H = 22
    CAPTION_H = 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tour: Any = None
        self.current = -1
        self.playhead = 0.0
        self._span = 1.0
        self._drag: tuple[int, float, float] | None = None  # (keyframe, time at press, x at press)
        self._drag_time: float | None = None
        self._scrubbing = False
        self.setMinimumHeight(self.RULER_H + self.TRACK_H + self.CAPTION_H + 10)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setToolTip("Click a keyframe to select it, drag it to retime it; click or drag elsewhere to scrub")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(260, self.minimumHeight())

    # ------------------------------------------------------------------ state
    def set_tour(self, tour: Any, current: int | None = None) -> None:
        """Show ``tour`` (or nothing), with keyframe ``current`` selected (kept when not given)."""
        self.tour = tour
        if current is not None:
            self.current = current
        n = len(tour.keyframes) if tour is not None else 0
        self.current = min(self.current, n - 1) if n else -1
        if self._drag is not None and (tour is None or self._drag[0] >= n):
            self._drag = self._drag_time = None
        if self._drag is None:
            self._span = self._span_for(tour)
        self.update()

    def set_current(self, index: int) -> None:
        """Select keyframe ``index`` (-1: none)."""
        if index != self.current:
            self.current = index
            self.update()

    def set_playhead(self, t: float) -> None:
        """Move the playhead to ``t`` seconds."""
        if t != self.playhead:
            self.playhead = float(t)
            self.update()

    @property
    def dragging(self) -> bool:
        """Whether a marker is being dragged."""
        return self._drag is not None and self._drag_time is not None

    # ------------------------------------------------------------------ geometry
    @staticmethod
    def _span_for(tour: Any) -> float:
        # room after the end, so the last keyframe can be dragged later
        return max(float(tour.duration) * 1.1, 1.0) if tour is not None else 1.0

    def _left(self) -> float:
        return 8.0

    def _width(self) -> float:
        return max(float(self.width()) - 16.0, 1.0)

    def x_of(self, t: float) -> float:
        """The x pixel of a tour time."""
        return self._left() + float(t) / self._span * self._width()

    def time_at(self, x: float) -> float:
        """The tour time under an x pixel (clipped to the ruler)."""
        return min(max((float(x) - self._left()) / self._width() * self._span, 0.0), self._span)

    def _track_y(self) -> float:
        return self.RULER_H + self.TRACK_H / 2 + 2

    def marker_pos(self, index: int) -> QPointF:
        """Where keyframe ``index``'s marker is drawn (its centre, widget pixels)."""
        return QPointF(self.x_of(self._time_of_marker(index)), self._track_y())

    def marker_at(self, pos: QPointF) -> int:
        """The keyframe whose marker is under ``pos`` (nearest first), or -1."""
        if self.tour is None or abs(pos.y() - self._track_y()) > self.TRACK_H / 2 + 2:
            return -1
        best, best_d = -1, float(MARKER_HIT + 1)
        for i in range(len(self.tour.keyframes)):
            d = abs(self.marker_pos(i).x() - pos.x())
            if d <= MARKER_HIT and d < best_d:
                best, best_d = i, d
        return best

    def drag_limits(self, index: int) -> tuple[float, float]:
        """The times keyframe ``index`` may be dragged between (its neighbours and pauses stay clear)."""
        kf = self.tour.keyframes
        k = kf[index]
        lo = kf[index - 1].time + kf[index - 1].pause + MIN_GAP if index > 0 else 0.0
        hi = kf[index + 1].time - k.pause - MIN_GAP if index + 1 < len(kf) else self._span
        return lo, max(lo, hi)

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self.tour is None:
            super().mousePressEvent(event)
            return
        pos = event.position()
        i = self.marker_at(pos)
        if i >= 0:
            self.current = i
            self._drag = (i, self.tour.keyframes[i].time, pos.x())
            self._drag_time = None
            self.keyframe_clicked.emit(i)
            self.update()
        else:
            self._scrubbing = True
            self.scrubbed.emit(min(self.time_at(pos.x()), float(self.tour.duration)))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drag is not None and self.tour is not None:
            i, t0, x0 = self._drag
            if self._drag_time is None and abs(pos.x() - x0) < 3:
                return  # not a drag yet: a click must not retime
            t = t0 + (pos.x() - x0) / self._width() * self._span
            if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                t = round(t / SNAP) * SNAP
            lo, hi = self.drag_limits(i)
            self._drag_time = min(max(t, lo), hi)
            self.update()
        elif self._scrubbing and self.tour is not None:
            self.scrubbed.emit(min(self.time_at(pos.x()), float(self.tour.duration)))
        elif self.tour is not None:
            self.setCursor(Qt.CursorShape.SizeHorCursor if self.marker_at(pos) >= 0 else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        drag, t = self._drag, self._drag_time
        self._drag = self._drag_time = None
        self._scrubbing = False
        self._span = self._span_for(self.tour)
        if drag is not None and t is not None and self.tour is not None and t != drag[1]:
            self.retime_requested.emit(drag[0], float(t))
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        i = self.marker_at(event.position()) if event.button() == Qt.MouseButton.LeftButton else -1
        if i >= 0:
            self.keyframe_activated.emit(i)
        else:
            super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802
        n = len(self.tour.keyframes) if self.tour is not None else 0
        key = event.key()
        if n and key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = -1 if key == Qt.Key.Key_Left else 1
            i = min(max((self.current if self.current >= 0 else 0) + step, 0), n - 1)
            self.current = i
            self.keyframe_clicked.emit(i)
            self.update()
        elif n and key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            self.scrubbed.emit(0.0 if key == Qt.Key.Key_Home else float(self.tour.duration))
        else:
            super().keyPressEvent(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(pal.ColorRole.WindowText)
        mid = pal.color(pal.ColorRole.Mid)
        p.fillRect(self.rect(), pal.color(pal.ColorRole.Base))
        if self.tour is None:
            p.setPen(mid)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No tour selected")
            return
        self._paint_ruler(p, text, mid)
        self._paint_track(p, text, mid)
        self._paint_captions(p)
        # the playhead
        x = self.x_of(min(self.playhead, self._span))
        p.setPen(QPen(QColor("#d0312d"), 1.5))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.setBrush(QColor("#d0312d"))
        p.drawPolygon(QPolygonF([QPointF(x - 4, 0), QPointF(x + 4, 0), QPointF(x, 5)]))
        if self.hasFocus():
            p.setPen(QPen(pal.color(pal.ColorRole.Highlight), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))

    def _paint_ruler(self, p: QPainter, text: QColor, mid: QColor) -> None:
        fm = QFontMetrics(self.font())
        per_second = self._width() / self._span
        step = next((s for s in TICK_STEPS if s * per_second >= MIN_LABEL_GAP), TICK_STEPS[-1])
        long = self._span >= 60
        p.setPen(mid)
        p.drawLine(QPointF(self._left(), self.RULER_H), QPointF(self._left() + self._width(), self.RULER_H))
        n = int(math.floor(self._span / step + 1e-9))
        for k in range(n + 1):
            t = k * step
            x = self.x_of(t)
            p.setPen(mid)
            p.drawLine(QPointF(x, self.RULER_H - 5), QPointF(x, self.RULER_H))
            minor = x + step * per_second / 2
            if minor < self._left() + self._width():
                p.drawLine(QPointF(minor, self.RULER_H - 2), QPointF(minor, self.RULER_H))
            p.setPen(text)
            label = _tick_label(t, step, long)
            w = fm.horizontalAdvance(label)
            p.drawText(QPointF(min(x + 2, self.width() - w - 1), self.RULER_H - 6), label)
        # the end of the tour: a line through the track and its duration
        end = self.x_of(self.tour.duration)
        p.setPen(QPen(text, 1, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(end, self.RULER_H), QPointF(end, self.RULER_H + self.TRACK_H + self.CAPTION_H + 6))

    def _paint_track(self, p: QPainter, text: QColor, mid: QColor) -> None:
        y = self._track_y()
        kf = self.tour.keyframes
        p.setPen(QPen(mid, 2))
        p.drawLine(QPointF(self.x_of(kf[0].time), y), QPointF(self.x_of(kf[-1].time), y))
        highlight = self.palette().color(self.palette().ColorRole.Highlight)
        for i, k in enumerate(kf):
            c = self.marker_pos(i)
            if k.pause > 0:  # the rest at the keyframe: a thick bar after the marker
                p.setPen(QPen(highlight.lighter(140), 5))
                p.drawLine(c, QPointF(self.x_of(self._time_of_marker(i) + k.pause), y))
            r = 6.0 if i == self.current else 5.0
            diamond = QPolygonF(
                [QPointF(c.x(), y - r), QPointF(c.x() + r, y), QPointF(c.x(), y + r), QPointF(c.x() - r, y)]
            )
            p.setPen(QPen(text, 1))
            p.setBrush(highlight if i == self.current else self.palette().color(self.palette().ColorRole.Button))
            p.drawPolygon(diamond)
        if self.dragging and self._drag is not None:
            label = format_time(self._drag_time or 0.0)
            p.setPen(text)
            c = self.marker_pos(self._drag[0])
            p.drawText(QPointF(c.x() + 8, y - 4), label)

    def _time_of_marker(self, index: int) -> float:
        if self._drag is not None and self._drag[0] == index and self._drag_time is not None:
            return self._drag_time
        return self.tour.keyframes[index].time

    def _paint_captions(self, p: QPainter) -> None:
        kf = self.tour.keyframes
        top = self.RULER_H + self.TRACK_H + 4
        colour = QColor("#e3a21a")
        for i, k in enumerate(kf):
            if k.caption is None:
                continue
            start = self._time_of_marker(i)
            if k.caption.duration is not None:
                end = start + k.caption.duration
            else:
                end = self._time_of_marker(i + 1) if i + 1 < len(kf) else self.tour.duration
            rect = QRectF(self.x_of(start), top, max(self.x_of(end) - self.x_of(start), 2.0), self.CAPTION_H)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(rect, 2, 2)
            title = k.caption.title or k.caption.subtitle
            fm = QFontMetrics(self.font())
            p.setPen(QColor("black"))
            small = p.font()
            small.setPixelSize(max(self.CAPTION_H - 1, 6))
            p.setFont(small)
            elided = fm.elidedText(title, Qt.TextElideMode.ElideRight, int(rect.width()) - 4)
            p.drawText(rect.adjusted(2, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter, elided)
            p.setFont(self.font())


__all__ = ["Timeline", "format_time"]
