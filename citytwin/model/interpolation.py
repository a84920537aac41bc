"""Camera interpolation: the one path every animated camera in citytwin takes.

A tour's camera (:class:`KeyframePath`), the straight blend of
:meth:`citytwin.model.camera.CameraState.lerp` and the animated fly-to of the
window (:func:`fly_between`) are all here, on plain numpy arrays, so that the
preview, the video export and presenter mode show the same frames.

The spline is a cubic Hermite curve per segment **in time**. The velocity at a
keyframe comes from the centripetal Catmull-Rom tangent (knot spacing
``|ΔP| ** 0.5``, Yuksel et al.) and is converted to metres per second with one
factor shared by the two segments that meet there, so the curve passes through
every keyframe and its velocity is continuous across them (C1 in time).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from citytwin.model.camera import CameraState

#: How the camera moves from a keyframe to the next.
INTERPOLATIONS = ("spline", "linear", "hold")
#: How time is spent along a segment.
EASINGS = ("linear", "ease-in", "ease-out", "ease-in-out")
SPLINE, LINEAR, HOLD = 0, 1, 2
#: Samples per segment of the arc-length table behind constant speed (Newton steps refine between them).
ARC_SAMPLES = 1025
#: Below this length (metres) a segment counts as not moving.
_STILL = 1e-9
_UP = np.array([0.0, 0.0, 1.0])


def ease(u: np.ndarray | float, easing: str | np.ndarray) -> np.ndarray:
    """Eased time fraction: ``u`` in [0, 1] mapped by an easing (a name of :data:`EASINGS`, or their indices).

    ``ease-in`` is ``u²`` (starts from rest), ``ease-out`` ``1 − (1 − u)²`` (ends at rest) and
    ``ease-in-out`` the smoothstep ``3u² − 2u³``; all keep 0 and 1 exactly.
    """
    u = np.asarray(u, dtype=np.float64)
    code = np.asarray(EASINGS.index(easing) if isinstance(easing, str) else easing)
    return np.select([code == 1, code == 2, code == 3], [u * u, u * (2.0 - u), u * u * (3.0 - 2.0 * u)], default=u)


def hermite(p0: np.ndarray, p1: np.ndarray, m0: np.ndarray, m1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Cubic Hermite curve at parameter ``w`` (trailing axis of the points is the coordinate).

    ``m0`` and ``m1`` are the tangents per unit of ``w``. ``w = 0`` gives ``p0`` and ``w = 1`` gives
    ``p1`` exactly (the basis weights are exactly 0 and 1 there).
    """
    w = np.asarray(w, dtype=np.float64)[..., None]
    w2 = w * w
    w3 = w2 * w
    return (2 * w3 - 3 * w2 + 1) * p0 + (3 * w2 - 2 * w3) * p1 + (w3 - 2 * w2 + w) * m0 + (w3 - w2) * m1


def keyframe_velocities(
    points: np.ndarray, durations: np.ndarray, rest: np.ndarray | None = None, linear: np.ndarray | None = None
) -> np.ndarray:
    """Velocity (units per second) of a spline through ``points`` at each point.

    Parameters
    ----------
    points
        ``(n, d)`` keyframe values, ``n ≥ 2``.
    durations
        ``(n − 1,)`` seconds of movement of each segment (all > 0).
    rest
        ``(n,)`` bool: points where the velocity is zero (a pause, a neighbouring "hold").
    linear
        ``(n − 1,)`` bool: linear segments; a point between a linear and a spline segment takes
        the linear segment's velocity, so the spline joins it without a kink (unless the linear
        segment is eased).

    Notes
    -----
    Inner points: ``(h₊ D₋ + h₋ D₊) / (T₋ + T₊)`` with ``h = |ΔP|^½`` the centripetal knot spacing and
    ``D = ΔP / h`` — the Catmull-Rom tangent ``(h₊ D₋ + h₋ D₊) / (h₋ + h₊)`` per knot unit times the
    factor ``(h₋ + h₊) / (T₋ + T₊)`` both segments share. End points take the derivative of the same
    quadratic at its end (one-sided). Coincident points (``h = 0``) give ``D = 0``, never NaN.
    """
    p = np.asarray(points, dtype=np.float64)
    p = p.reshape(len(p), -1)
    t = np.asarray(durations, dtype=np.float64)
    n = len(p)
    dp = np.diff(p, axis=0)
    h = np.sqrt(np.linalg.norm(dp, axis=1))
    d = np.divide(dp, h[:, None], out=np.zeros_like(dp), where=h[:, None] > 0)
    v = np.empty_like(p)
    if n == 2:
        v[:] = dp[0] / t[0]
    else:
        h1, h2 = h[:-1, None], h[1:, None]
        v[1:-1] = (h2 * d[:-1] + h1 * d[1:]) / (t[:-1] + t[1:])[:, None]
        v[0] = _safe_div(h[0] * (h[1] + 2 * h[0]) * d[0] - h[0] ** 2 * d[1], (h[0] + h[1]) * t[0])
        v[-1] = _safe_div(h[-1] * (h[-2] + 2 * h[-1]) * d[-1] - h[-1] ** 2 * d[-2], (h[-2] + h[-1]) * t[-1])
    if linear is not None and np.any(linear):
        linear = np.asarray(linear, dtype=bool)
        straight = dp / t[:, None]
        left = np.zeros(n, bool)
        right = np.zeros(n, bool)
        left[1:], right[:-1] = linear, linear
        i = np.flatnonzero(left & ~right)
        v[i] = straight[i - 1]
        i = np.flatnonzero(right & ~left)
        v[i] = straight[i]
    if rest is not None:
        v[np.asarray(rest, dtype=bool)] = 0.0
    return v


def _safe_div(num: np.ndarray, den: float) -> np.ndarray:
    return num / den if den > 0 else np.zeros_like(num)


@dataclass(frozen=True, eq=False)
class CameraTrack:
    """Cameras at many times, as arrays (what :meth:`citytwin.model.tours.Tour.cameras` returns).

    Attributes
    ----------
    time
        ``(N,)`` seconds.
    position, focal_point, view_up
        ``(N, 3)`` float64 world coordinates (``view_up`` unit length).
    view_angle
        ``(N,)`` degrees.
    """

    time: np.ndarray
    position: np.ndarray
    focal_point: np.ndarray
    view_up: np.ndarray
    view_angle: np.ndarray

    def __len__(self) -> int:
        return len(self.time)

    def __iter__(self) -> Iterator[CameraState]:
        return (self.state(i) for i in range(len(self)))

    def state(self, i: int) -> CameraState:
        """The ``i``-th camera as a :class:`~citytwin.model.camera.CameraState`."""
        return CameraState(
            tuple(self.position[i]), tuple(self.focal_point[i]), tuple(self.view_up[i]), float(self.view_angle[i])
        )


class KeyframePath:
    """The camera path through a tour's keyframes, built once and evaluated at any times.

    Keyframe ``i`` is reached at ``times[i]``, stays for ``pauses[i]`` seconds, then moves during
    ``[times[i] + pauses[i], times[i + 1]]`` as the settings of keyframe ``i`` say. Before the first
    keyframe the camera is at the first one, after the last at the last one.

    Parameters
    ----------
    times, pauses
        ``(n,)`` seconds, ``n ≥ 2``; ``times`` strictly increasing and ``times[i] + pauses[i] < times[i + 1]``.
    positions, focal_points, view_ups
        ``(n, 3)`` world coordinates.
    view_angles
        ``(n,)`` degrees.
    interpolation, easing
        ``(n,)`` indices into :data:`INTERPOLATIONS` and :data:`EASINGS` (the last keyframe's are unused).
    constant_speed
        ``(n,)`` bool: the segment is reparameterised by arc length (of the position; of the focal
        point where the eye stands still), so the camera moves at a constant speed (shaped by the easing).
    """

    def __init__(
        self,
        times: Any,
        pauses: Any,
        positions: Any,
        focal_points: Any,
        view_ups: Any,
        view_angles: Any,
        interpolation: Any,
        easing: Any,
        constant_speed: Any,
    ) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self.pauses = np.asarray(pauses, dtype=np.float64)
        n = len(self.times)
        if n < 2:
            raise ValueError("a camera path needs at least two keyframes")
        self.position = np.asarray(positions, dtype=np.float64).reshape(n, 3)
        self.focal_point = np.asarray(focal_points, dtype=np.float64).reshape(n, 3)
        self.view_up = np.asarray(view_ups, dtype=np.float64).reshape(n, 3)
        self.view_angle = np.asarray(view_angles, dtype=np.float64).reshape(n, 1)
        self.interpolation = np.asarray(interpolation, dtype=np.int8)[:-1]
        self.easing = np.asarray(easing, dtype=np.int8)[:-1]
        self.starts = self.times[:-1] + self.pauses[:-1]
        self.durations = self.times[1:] - self.starts
        hold = self.interpolation == HOLD
        rest = self.pauses > 0
        rest[:-1] |= hold
        rest[1:] |= hold
        linear = self.interpolation == LINEAR
        self._tangents = {
            name: self._segment_tangents(values, rest, linear)
            for name, values in (
                ("position", self.position),
                ("focal_point", self.focal_point),
                ("view_angle", self.view_angle),
            )
        }
        constant = np.asarray(constant_speed, dtype=bool)[:-1] & ~hold
        self._arc_segments = np.flatnonzero(constant)
        self._arc_table(self._arc_segments)

    @property
    def duration(self) -> float:
        """Seconds until the camera has come to the end (the last keyframe's time plus its pause)."""
        return float(self.times[-1] + self.pauses[-1])

    def _segment_tangents(self, values: np.ndarray, rest: np.ndarray, linear: np.ndarray) -> np.ndarray:
        v = keyframe_velocities(values, self.durations, rest, linear)
        m = np.stack([v[:-1], v[1:]]) * self.durations[None, :, None]
        m[:, linear] = np.diff(values, axis=0)[linear]  # a Hermite segment with both tangents ΔP is the line
        return m

    def _channel(self, name: str, seg: np.ndarray, w: np.ndarray) -> np.ndarray:
        values = getattr(self, name)
        m = self._tangents[name]
        return hermite(values[seg], values[seg + 1], m[0, seg], m[1, seg], w)

    def _speed(self, seg: np.ndarray, focal: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``|dp/dw|`` of each segment's arc-length channel (position, or focal point where ``focal``)."""
        w = np.asarray(w, dtype=np.float64)
        speeds = []
        for name in ("position", "focal_point"):
            values, m = getattr(self, name), self._tangents[name]
            x = w[..., None]
            x2 = x * x
            d = (6 * x2 - 6 * x) * (values[seg] - values[seg + 1]) + (3 * x2 - 4 * x + 1) * m[0, seg]
            speeds.append(np.linalg.norm(d + (3 * x2 - 2 * x) * m[1, seg], axis=-1))
        return np.where(focal, speeds[1], speeds[0])

    def _simpson(self, seg: np.ndarray, focal: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Arc length from ``a`` to ``b`` by Simpson's rule on the speed."""
        speed = self._speed(seg, focal, a) + 4 * self._speed(seg, focal, (a + b) / 2) + self._speed(seg, focal, b)
        return (b - a) / 6 * speed

    def _cumulative(self, seg: np.ndarray, samples: int) -> tuple[np.ndarray, np.ndarray]:
        w = np.linspace(0.0, 1.0, samples)
        a, b = w[:-1], w[1:]

        def cumulative(rows: np.ndarray, focal: bool) -> np.ndarray:
            steps = self._simpson(rows[:, None], np.full((len(rows), 1), focal), a, b)
            return np.concatenate([np.zeros((len(rows), 1)), np.cumsum(steps, axis=1)], axis=1)

        cum = cumulative(seg, False)
        still = cum[:, -1] < _STILL
        if still.any():
            cum[still] = cumulative(seg[still], True)
        return cum, still

    def arc_lengths(self, segments: np.ndarray | None = None, samples: int = ARC_SAMPLES) -> np.ndarray:
        """Length along each segment's path: the position's, the focal point's where the eye stands still.

        Returns ``(len(segments), samples)`` cumulative lengths at ``w = linspace(0, 1, samples)``
        (Simpson's rule on the curve's speed between samples).
        """
        seg = np.arange(len(self.durations)) if segments is None else np.asarray(segments, dtype=np.intp)
        return self._cumulative(seg, samples)[0]

    def _arc_table(self, segments: np.ndarray) -> None:
        self._arc_cum, self._arc_focal = self._cumulative(segments, ARC_SAMPLES)
        w = np.linspace(0.0, 1.0, ARC_SAMPLES)
        total = self._arc_cum[:, -1:]
        frac = np.where(total >= _STILL, self._arc_cum / np.where(total > 0, total, 1.0), w)
        # one increasing table for all segments: segment j's fractions live in [2j, 2j + 1]
        self._arc_s = (2.0 * segments[:, None] + frac).ravel()
        self._arc_w = np.tile(w, len(segments))

    def _arc_parameter(self, seg: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """``w`` where the arc length is ``sigma`` of the segment's: the table's guess, then Newton steps."""
        row = np.searchsorted(self._arc_segments, seg)
        cum, focal = self._arc_cum[row], self._arc_focal[row]
        total = cum[:, -1]
        last = cum.shape[1] - 1
        w = np.interp(2.0 * seg + sigma, self._arc_s, self._arc_w)
        k = np.clip(np.floor(w * last).astype(np.intp), 0, last - 1)
        lo, hi = k / last, (k + 1) / last
        base, target = cum[np.arange(len(k)), k], sigma * total
        for _ in range(3):
            error = base + self._simpson(seg, focal, lo, w) - target
            speed = self._speed(seg, focal, w)
            w = np.clip(w - np.divide(error, speed, out=np.zeros_like(w), where=speed > 1e-12), lo, hi)
        w = np.where(total >= _STILL, w, sigma)
        return np.where(sigma >= 1.0, 1.0, np.where(sigma <= 0.0, 0.0, w))

    def locate(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Where times fall: ``(keyframe, segment, fraction, paused)``.

        ``keyframe`` is the last keyframe reached (0 before the first), ``segment`` the segment the
        camera is on (``keyframe`` clipped to ``n − 2``), ``fraction`` the time fraction of that
        segment's movement in [0, 1] (0 during the pause) and ``paused`` whether the camera rests at
        ``keyframe`` for its pause.
        """
        t = np.asarray(t, dtype=np.float64)
        k = np.searchsorted(self.times, t, side="right") - 1
        n = len(self.times)
        seg = np.clip(k, 0, n - 2)
        u = np.clip((t - self.starts[seg]) / self.durations[seg], 0.0, 1.0)
        key = np.clip(k, 0, n - 1)
        paused = (k >= 0) & (t < self.times[key] + self.pauses[key])
        return key, seg, u, paused

    def parameter(self, seg: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The curve parameter ``w`` of each segment at time fraction ``u`` (easing, constant speed, hold)."""
        sigma = ease(u, self.easing[seg])
        w = sigma
        arc = np.flatnonzero(np.isin(seg, self._arc_segments))
        if len(arc):
            w = w.copy()
            w[arc] = self._arc_parameter(seg[arc], sigma[arc])
        return np.where(self.interpolation[seg] == HOLD, np.where(u >= 1.0, 1.0, 0.0), w)

    def cameras(self, times: Any) -> CameraTrack:
        """The cameras at ``times`` (any shape is flattened)."""
        t = np.atleast_1d(np.asarray(times, dtype=np.float64)).ravel()
        _, seg, u, _ = self.locate(t)
        w = self.parameter(seg, u)
        a, b = self.view_up[seg], self.view_up[seg + 1]
        up = (1.0 - w)[:, None] * a + w[:, None] * b
        return CameraTrack(
            time=t,
            position=self._channel("position", seg, w),
            focal_point=self._channel("focal_point", seg, w),
            view_up=_unit(up),
            view_angle=self._channel("view_angle", seg, w)[:, 0],
        )


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(norm > 1e-12, v / np.where(norm > 0, norm, 1.0), _UP)


def lerp_camera(a: CameraState, b: CameraState, t: float) -> CameraState:
    """Straight blend of every field at ``t`` in [0, 1] (``view_up`` normalised); exact at 0 and 1."""

    def mix(x: Any, y: Any) -> tuple[float, ...]:
        return tuple(float(c) for c in (1 - t) * np.asarray(x, float) + t * np.asarray(y, float))

    up = _unit(np.asarray(mix(a.view_up, b.view_up)))
    return CameraState(
        mix(a.position, b.position),  # type: ignore[arg-type]
        mix(a.focal_point, b.focal_point),  # type: ignore[arg-type]
        tuple(float(c) for c in up),  # type: ignore[arg-type]
        (1 - t) * a.view_angle + t * b.view_angle,
    )


def orbit_angles(position: Any, focal_point: Any, view_up: Any = (0.0, 0.0, 1.0)) -> tuple[float, float, float]:
    """Compass azimuth (degrees, where the eye stands seen from the focal point), elevation and distance.

    Looking straight down, the azimuth is the one the screen's up points away from.
    """
    offset = np.asarray(position, float) - np.asarray(focal_point, float)
    dist = float(np.linalg.norm(offset))
    el = math.degrees(math.asin(float(np.clip(offset[2] / (dist or 1.0), -1.0, 1.0))))
    if math.hypot(offset[0], offset[1]) < 1e-6 * (dist or 1.0):
        up = np.asarray(view_up, float)
        sign = 1.0 if offset[2] > 0 else -1.0
        az = math.degrees(math.atan2(-up[0] * sign, -up[1] * sign))
    else:
        az = math.degrees(math.atan2(offset[0], offset[1]))
    return az % 360.0, el, dist


def camera_from_angles(
    focal_point: Any, azimuth: float, elevation: float, distance: float, view_angle: float = 30.0
) -> CameraState:
    """A roll-free camera at a compass azimuth, elevation (degrees) and distance from a focal point."""
    f = np.asarray(focal_point, float)
    a, e = math.radians(azimuth), math.radians(elevation)
    back = np.array([math.sin(a) * math.cos(e), math.cos(a) * math.cos(e), math.sin(e)])
    up = np.array([-math.sin(e) * math.sin(a), -math.sin(e) * math.cos(a), math.cos(e)])
    return CameraState(tuple(f + back * distance), tuple(f), tuple(up), view_angle)  # type: ignore[arg-type]


def fly_between(a: CameraState, b: CameraState, s: float) -> CameraState:
    """The animated move from ``a`` to ``b`` at ``s`` in [0, 1]: an orbit around the moving focal point.

    Eased with a smoothstep; the azimuth turns the short way, the elevation and view angle blend
    linearly and the distance geometrically (a zoom feels even). ``s ≤ 0`` gives ``a`` and ``s ≥ 1``
    gives ``b`` exactly. ``a`` and ``b`` may be any objects with ``position``, ``focal_point``,
    ``view_up`` and ``view_angle``.
    """
    if s <= 0.0:
        return CameraState(a.position, a.focal_point, a.view_up, a.view_angle)
    if s >= 1.0:
        return CameraState(b.position, b.focal_point, b.view_up, b.view_angle)
    k = s * s * (3 - 2 * s)
    az0, el0, d0 = orbit_angles(a.position, a.focal_point, a.view_up)
    az1, el1, d1 = orbit_angles(b.position, b.focal_point, b.view_up)
    daz = ((az1 - az0 + 180.0) % 360.0) - 180.0
    d0, d1 = max(d0, 1e-6), max(d1, 1e-6)
    focal = (1 - k) * np.asarray(a.focal_point, float) + k * np.asarray(b.focal_point, float)
    dist = math.exp((1 - k) * math.log(d0) + k * math.log(d1))
    return camera_from_angles(
        focal, az0 + k * daz, el0 + k * (el1 - el0), dist, (1 - k) * a.view_angle + k * b.view_angle
    )


__all__ = [
    "EASINGS",
    "INTERPOLATIONS",
    "CameraTrack",
    "KeyframePath",
    "camera_from_angles",
    "ease",
    "fly_between",
    "hermite",
    "keyframe_velocities",
    "lerp_camera",
    "orbit_angles",
]
