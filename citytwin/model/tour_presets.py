"""Tours made for the user: orbit, fly along a path, bookmark to bookmark, reveal.

Each preset is a pure function returning a :class:`~citytwin.model.tours.Tour`
(world coordinates in, world coordinates out); edit the result like any tour.
Azimuths are compass degrees of where the camera stands seen from what it
looks at (0: north of it, 90: east).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from citytwin.model.camera import CameraState
from citytwin.model.interpolation import camera_from_angles
from citytwin.model.tours import Caption, Keyframe, Tour

#: Keyframes per turn of an orbit: the spline through them stays within 0.1 % of the circle's radius.
ORBIT_KEYFRAMES_PER_TURN = 16
#: A drawn path with more points than this is resampled evenly (the spline needs far fewer).
MAX_PATH_KEYFRAMES = 100


def _xyz(p: Any, what: str) -> np.ndarray:
    a = np.asarray(p, dtype=np.float64).ravel()
    if a.shape == (2,):
        a = np.append(a, 0.0)
    if a.shape != (3,) or not np.isfinite(a).all():
        raise ValueError(f"{what} must be two or three finite coordinates")
    return a


def _level(camera: CameraState) -> CameraState:
    """The camera with the roll-free +Z up (tidier in a tour file; the view is the same)."""
    return CameraState(camera.position, camera.focal_point, (0.0, 0.0, 1.0), camera.view_angle)


def orbit(
    centre: Sequence[float],
    radius: float,
    height: float,
    turns: float = 1.0,
    duration: float = 20.0,
    start_azimuth: float = 0.0,
    *,
    name: str = "Orbit",
    clockwise: bool = False,
    view_angle: float = 30.0,
) -> Tour:
    """Circle around a point (an object's centre), looking at it.

    Parameters
    ----------
    centre
        The point looked at (world coordinates).
    radius
        Horizontal distance of the camera from ``centre``.
    height
        The camera's height above ``centre``.
    turns
        How many times round (fractions allowed).
    duration
        Seconds for all turns, at a constant speed.
    start_azimuth
        Where the camera starts (compass degrees).
    clockwise
        Seen from above.
    """
    c = _xyz(centre, "the orbit's centre")
    radius, height, turns = float(radius), float(height), float(turns)
    if not (math.isfinite(radius) and radius > 0):
        raise ValueError("an orbit's radius must be a positive number")
    if not (math.isfinite(turns) and turns > 0) or not math.isfinite(height):
        raise ValueError("an orbit needs a positive number of turns and a finite height")
    steps = max(2, math.ceil(turns * ORBIT_KEYFRAMES_PER_TURN))
    k = np.arange(steps + 1) / steps
    az = np.radians(start_azimuth + (1 if clockwise else -1) * 360.0 * turns * k)
    pos = c + np.stack([radius * np.sin(az), radius * np.cos(az), np.full_like(az, height)], axis=1)
    keyframes = [
        Keyframe(
            time=float(duration) * float(f),
            camera=CameraState(tuple(p), tuple(c), view_angle=view_angle),
            constant_speed=True,
        )
        for f, p in zip(k, pos, strict=True)
    ]
    return Tour(name=name, keyframes=keyframes)


def fly_along(
    path: Sequence[Sequence[float]],
    height: float = 30.0,
    duration: float = 30.0,
    *,
    name: str = "Flight",
    look_ahead: float | None = None,
    view_angle: float = 40.0,
) -> Tour:
    """Fly ``height`` above a drawn path at a constant speed, looking ahead along it.

    Parameters
    ----------
    path
        Two or more points (world coordinates; ``(x, y)`` points lie at z = 0).
    height
        The camera's height above the path.
    duration
        Seconds from the first point to the last.
    look_ahead
        How far along the path the camera looks (on the path itself, so it looks down at it);
        a quarter of the path, at most 100 m, by default.
    """
    pts = np.array([_xyz(p, "a path point") for p in path]).reshape(-1, 3)
    if len(pts) > 1:
        keep = np.concatenate([[True], np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-6])
        pts = pts[keep]
    if len(pts) < 2:
        raise ValueError("a flight needs a path of at least two different points")
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    if len(pts) > MAX_PATH_KEYFRAMES:
        even = np.linspace(0.0, s[-1], MAX_PATH_KEYFRAMES)
        pts = np.stack([np.interp(even, s, pts[:, i]) for i in range(3)], axis=1)
        s = even
    ahead = min(100.0, s[-1] / 4) if look_ahead is None else float(look_ahead)
    if not (math.isfinite(ahead) and ahead > 0):
        raise ValueError("the look-ahead distance must be a positive number")
    target = s + ahead
    focal = np.stack([np.interp(target, s, pts[:, i]) for i in range(3)], axis=1)
    beyond = target > s[-1]  # past the end: straight on in the last direction
    last = (pts[-1] - pts[-2]) / (s[-1] - s[-2])
    focal[beyond] = pts[-1] + (target[beyond] - s[-1])[:, None] * last
    eye = pts + np.array([0.0, 0.0, float(height)])
    duration = float(duration)
    keyframes = [
        Keyframe(time=duration * float(si / s[-1]), camera=CameraState(tuple(e), tuple(f), view_angle=view_angle))
        for si, e, f in zip(s, eye, focal, strict=True)
    ]
    return Tour(name=name, keyframes=keyframes).retimed_constant_speed(duration)


def bookmark_tour(
    bookmarks: Sequence[Any],
    seconds_per_leg: float = 6.0,
    pause: float = 0.0,
    *,
    name: str = "Bookmarks",
    captions: bool = False,
) -> Tour:
    """Fly from bookmark to bookmark.

    Parameters
    ----------
    bookmarks
        Two or more :class:`~citytwin.model.annotations.Bookmark` (or plain
        :class:`~citytwin.model.camera.CameraState`), in flight order.
    seconds_per_leg
        Seconds of flight between two bookmarks.
    pause
        Seconds to rest at each bookmark (the last included): the camera comes to rest there.
    captions
        Show each bookmark's name while the camera is at it and flies on.
    """
    if len(bookmarks) < 2:
        raise ValueError("a bookmark tour needs at least two bookmarks")
    leg, pause = float(seconds_per_leg), float(pause)
    keyframes = []
    for i, b in enumerate(bookmarks):
        camera = b if isinstance(b, CameraState) else b.camera
        title = getattr(b, "name", "") if captions else ""
        keyframes.append(
            Keyframe(
                time=i * (leg + pause), camera=camera, pause=pause, caption=Caption(title=title) if title else None
            )
        )
    return Tour(name=name, keyframes=keyframes)


def reveal(
    bounds: Sequence[float],
    duration: float = 15.0,
    *,
    name: str = "Reveal",
    azimuth: float = 200.0,
    eye_height: float = 2.0,
    view_angle: float = 40.0,
) -> Tour:
    """A high overview of the whole scene that turns and descends to eye height, looking at its centre.

    Parameters
    ----------
    bounds
        ``[xmin, ymin, zmin, xmax, ymax, zmax]`` of the scene (world coordinates).
    duration
        Seconds, including a moment's rest at the start and the end.
    azimuth
        Where the camera starts (compass degrees); it turns 60° on the way down.
    eye_height
        The camera's height above the ground (``zmin``) at the end.
    """
    b = np.asarray(bounds, dtype=np.float64).ravel()
    if b.shape != (6,) or not np.isfinite(b).all() or (b[3:] < b[:3]).any():
        raise ValueError("reveal needs the scene's bounds as six finite numbers, minimum before maximum")
    duration = float(duration)
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError("a tour's duration must be a positive number of seconds")
    ground = b[2]
    centre = np.array([(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, ground])
    size = max(math.hypot(b[3] - b[0], b[4] - b[1]), 50.0)
    eye = centre + np.array([0.0, 0.0, eye_height])
    high, oblique, low, street = (
        _level(camera_from_angles(focal, azimuth + turn, elevation, distance, view_angle))
        for focal, turn, elevation, distance in (
            (centre, 0.0, 60.0, 1.1 * size + (b[5] - ground)),
            (centre, 30.0, 30.0, 0.55 * size),
            (eye, 50.0, 8.0, 0.3 * size),
            (eye, 60.0, 0.0, max(0.2 * size, 20.0)),
        )
    )
    rest = min(1.0, duration / 10)
    moving = duration - 2 * rest
    times = [0.0, rest + 0.3 * moving, rest + 0.65 * moving, rest + moving]
    keyframes = [
        Keyframe(time=times[0], camera=high, pause=rest),
        Keyframe(time=times[1], camera=oblique),
        Keyframe(time=times[2], camera=low),
        Keyframe(time=times[3], camera=street, pause=rest),
    ]
    return Tour(name=name, keyframes=keyframes)


__all__ = ["bookmark_tour", "fly_along", "orbit", "reveal"]
