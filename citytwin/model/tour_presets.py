"""Tours made for the user: orbit, fly along a path, bookmark to bookmark, reveal, sun study.

Each preset is a pure function returning a :class:`~citytwin.model.tours.Tour`
(world coordinates in, world coordinates out); edit the result like any tour.
Azimuths are compass degrees of where the camera stands seen from what it
looks at (0: north of it, 90: east).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import msgspec
import numpy as np

from citytwin.errors import CityTwinError
from citytwin.model.camera import CameraState
from citytwin.model.interpolation import camera_from_angles
from citytwin.model.tours import Caption, Keyframe, Tour

#: Keyframes per turn of an orbit: the spline through them stays within 0.1 % of the circle's radius.
ORBIT_KEYFRAMES_PER_TURN = 16
#: A drawn path with more points than this is resampled evenly (the spline needs far fewer).
MAX_PATH_KEYFRAMES = 100
#: Minutes after sunrise and before sunset a sun study starts and ends by default (the sun clear of the horizon).
SUN_STUDY_MARGIN_MINUTES = 15.0


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


#: Object types a street-level camera may stand on or see through (ground, roads, water, land use).
OPEN_TYPES = frozenset({"TINRelief", "ReliefFeature", "Road", "Railway", "Square", "Track", "TransportationComplex",
                        "Waterway", "LandUse", "WaterBody", "PlantCover", "Bridge"})  # fmt: skip
#: Barycentric sample points per triangle (an order-6 lattice: 28 points) for the obstacle grid.
_LATTICE = np.array([(i, j, 6 - i - j) for i in range(7) for j in range(7 - i)], np.float64) / 6.0


def street_view(
    models: Sequence[Any],
    bounds: Sequence[float],
    *,
    eye_height: float = 1.7,
    clearance: float = 6.0,
    cell: float = 2.0,
    search: float | None = None,
    view_angle: float = 50.0,
) -> CameraState | None:
    """A street-level camera in the open near the scene's centre, looking down the longest free line.

    Buildings, trees and other objects (not :data:`OPEN_TYPES`, nor ground or traffic surfaces)
    are sampled onto a grid of ``cell`` metres around the centre; the camera stands on the free
    cell nearest the centre at least ``clearance`` metres from any of them, at ``eye_height``
    above the ground found there, and looks along the compass direction with the longest free run.

    Parameters
    ----------
    models
        City models in the scene's display CRS (``layer.display_model``); point clouds are skipped.
    bounds
        The scene's bounds (world coordinates).

    Returns
    -------
    CameraState or None
        ``None`` when the scene has no open ground near its centre (or no geometry).
    """
    b = np.asarray(bounds, np.float64).ravel()
    if b.shape != (6,) or not np.isfinite(b).all():
        return None
    centre = (b[:2] + b[3:5]) / 2
    half = float(search if search is not None else min(max(b[3] - b[0], b[4] - b[1]) / 2, 400.0))
    n = max(int(math.ceil(2 * half / cell)), 4)
    lo = centre - half
    blocked = np.zeros((n, n), bool)
    ground_z = np.full((n, n), np.inf)
    for model in models:
        mesh = getattr(model, "mesh", None)
        objects = getattr(model, "objects", None)
        if mesh is None or objects is None or mesh.n_triangles == 0:
            continue
        tri = mesh.triangles
        corners = mesh.vertices[tri]  # (T, 3, 3)
        near = ((corners[:, :, :2].max(axis=1) >= lo) & (corners[:, :, :2].min(axis=1) <= lo + 2 * half)).all(axis=1)
        if not near.any():
            continue
        corners = corners[near]
        roots = objects.roots if len(objects) else np.zeros(0, np.int64)
        obj = mesh.tri_object[near]
        types = np.asarray(objects.types, dtype=object).astype(str) if len(objects) else np.zeros(0, str)
        root_type = np.where((obj >= 0) & (obj < len(roots)), types[roots[np.clip(obj, 0, max(len(roots) - 1, 0))]]
                             if len(roots) else "", "")  # fmt: skip
        sem = mesh.tri_semantic[near]
        open_surface = np.isin(sem, (3, 12, 13, 15, 16, 17)) | np.isin(root_type, sorted(OPEN_TYPES))
        pts = np.einsum("lk,tkd->tld", _LATTICE, corners)  # (T, 28, 3) samples inside each triangle
        ij = np.floor((pts[:, :, :2] - lo) / cell).astype(np.int64)
        inside = ((ij >= 0) & (ij < n)).all(axis=2)
        ob = inside & ~open_surface[:, None]
        blocked[ij[ob][:, 0], ij[ob][:, 1]] = True
        gr = inside & open_surface[:, None]
        np.minimum.at(ground_z, (ij[gr][:, 0], ij[gr][:, 1]), pts[:, :, 2][gr])
    if not blocked.any():
        return None
    # free cells: clearance from every blocked cell (a square dilation, vectorised by shifts)
    r = max(int(math.ceil(clearance / cell)), 1)
    grown = blocked.copy()
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            if dx * dx + dy * dy <= r * r:
                grown |= np.roll(np.roll(blocked, dx, axis=0), dy, axis=1)
    free = ~grown
    free[:r] = free[-r:] = False
    free[:, :r] = free[:, -r:] = False
    if not free.any():
        return None
    ii, jj = np.nonzero(free)
    mid = (n - 1) / 2
    k = int(np.argmin((ii - mid) ** 2 + (jj - mid) ** 2))
    i, j = int(ii[k]), int(jj[k])
    xy = lo + (np.array([i, j]) + 0.5) * cell
    window = ground_z[max(i - r, 0) : i + r + 1, max(j - r, 0) : j + r + 1]
    z = float(window[np.isfinite(window)].min()) if np.isfinite(window).any() else float(b[2])
    # look along the compass direction with the longest free run from here
    best, best_az = -1.0, 0.0
    for az in np.arange(0.0, 360.0, 22.5):
        d = np.array([math.sin(math.radians(az)), math.cos(math.radians(az))])
        steps = np.arange(1, 2 * n) * cell * 0.5
        cells = np.floor((xy + steps[:, None] * d - lo) / cell).astype(np.int64)
        ok = ((cells >= 0) & (cells < n)).all(axis=1)
        hit = ~ok | blocked[np.clip(cells[:, 0], 0, n - 1), np.clip(cells[:, 1], 0, n - 1)]
        run = float(steps[np.argmax(hit)]) if hit.any() else float(steps[-1])
        if run > best:
            best, best_az = run, float(az)
    eye = np.array([xy[0], xy[1], z + eye_height])
    d = np.array([math.sin(math.radians(best_az)), math.cos(math.radians(best_az)), 0.0])
    focal = eye + d * max(best, 20.0)
    return CameraState(tuple(eye), tuple(focal), (0.0, 0.0, 1.0), view_angle)


def reveal(
    bounds: Sequence[float],
    duration: float = 15.0,
    *,
    name: str = "Reveal",
    street: CameraState | None = None,
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
    street
        Where it ends (a street-level camera, e.g. :func:`street_view` of the scene's models);
        by default at ``eye_height`` south-west of the centre, looking at it.
    """
    b = np.asarray(bounds, dtype=np.float64).ravel()
    if b.shape != (6,) or not np.isfinite(b).all() or (b[3:] < b[:3]).any():
        raise ValueError("reveal needs the scene's bounds as six finite numbers, minimum before maximum")
    duration = float(duration)
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError("a tour's duration must be a positive number of seconds")
    end = street
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
    if end is not None:  # descend behind the street spot onto it, looking where it looks
        pos, focal = np.asarray(end.position, np.float64), np.asarray(end.focal_point, np.float64)
        look = focal - pos
        look[2] = 0.0
        look /= np.linalg.norm(look) or 1.0
        low_pos = pos - look * 0.12 * size + np.array([0.0, 0.0, 0.08 * size])
        low = CameraState(tuple(low_pos), tuple(focal), (0.0, 0.0, 1.0), end.view_angle)
        street = _level(end)
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


def reveal_scene(scene: Any, duration: float = 15.0, **options: Any) -> Tour:
    """:func:`reveal` over a whole :class:`~citytwin.model.scene.Scene`, ending at its :func:`street_view`.

    Raises
    ------
    ValueError
        When the scene shows nothing.
    """
    bounds = scene.bounds()
    if bounds is None:
        raise ValueError("there is nothing in the scene to reveal")
    models = [m for layer in scene.layers if layer.visible and (m := getattr(layer, "display_model", None)) is not None]
    return reveal(bounds, duration, street=street_view(models, bounds), **options)


def daylight(day: date, lon: float, lat: float, step_minutes: float = 10.0) -> tuple[datetime, datetime] | None:
    """Sunrise and sunset of ``day`` at a place: the first and the last moment the sun is above the horizon.

    The day (local midnight to midnight, :func:`~citytwin.model.sun.day_times`) is sampled every
    ``step_minutes`` and each crossing is then narrowed down to a few seconds; the sun's elevation
    (with refraction, :func:`~citytwin.model.sun.solar_positions`) is above 0 at both times returned.

    Parameters
    ----------
    day
        The date (local at the place).
    lon, lat
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of datetime or None
        ``(sunrise, sunset)`` in the place's local time; midnight or the last sample when the
        sun does not set (a polar day); ``None`` when it does not rise (a polar night).
    """
    from citytwin.model.sun import day_times, solar_position, solar_positions

    times = day_times(day, lon, lat, step_minutes)
    _, elevation = solar_positions(times, lon, lat)
    up = np.flatnonzero(elevation > 0)
    if len(up) == 0:
        return None

    def narrowed(below: datetime, above: datetime) -> datetime:
        """The moment the sun crosses the horizon between two times, from the side it is up."""
        while abs((above - below).total_seconds()) > 5.0:
            mid = below + (above - below) / 2
            if solar_position(mid, lon, lat)[1] > 0:
                above = mid
            else:
                below = mid
        return above

    first, last = int(up[0]), int(up[-1])
    rise = times[first] if first == 0 else narrowed(times[first - 1], times[first])
    zone = times[0].tzinfo
    if last == len(times) - 1:
        sunset = times[last]
    else:
        sunset = narrowed(times[last + 1], times[last])
    return rise.astimezone(zone), sunset.astimezone(zone)


def _local(value: datetime | time, day: date, zone: Any, what: str) -> datetime:
    """A sun study's start or end as an aware datetime: a clock time is on ``day``, a naive one local."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None and value.utcoffset() is not None else value.replace(tzinfo=zone)
    if isinstance(value, time):
        return datetime.combine(day, value.replace(tzinfo=None), tzinfo=zone)
    raise TypeError(f"the sun study's {what} must be a datetime or a time of day, not {type(value).__name__}")


def sun_study(
    scene: Any,
    day: date,
    start: datetime | time | None = None,
    end: datetime | time | None = None,
    duration: float = 20.0,
    *,
    name: str = "Sun study",
    camera: CameraState | None = None,
    turns: float = 0.0,
    azimuth: float = 200.0,
    elevation: float = 55.0,
    view_angle: float = 40.0,
) -> Tour:
    """A day of sunlight over a scene: the sun moves from morning to evening while the camera looks on.

    The camera holds a high oblique view of the whole scene (or ``camera``), or circles it slowly
    with ``turns``; the first keyframe sets the sun to ``start`` and the last to ``end``, so the sun
    moves through the day evenly in tour time (:attr:`~citytwin.model.tours.Keyframe.sun`).

    Parameters
    ----------
    scene
        A :class:`~citytwin.model.scene.Scene` with a place on Earth (its data has a CRS).
    day
        The date, local at the scene's place.
    start, end
        When the sun starts and stops (a clock time on ``day`` or a datetime; without a time zone:
        the local time of the place). By default :data:`SUN_STUDY_MARGIN_MINUTES` after sunrise
        and before sunset (:func:`daylight`).
    duration
        Seconds of the tour.
    camera
        A view to hold instead of the high oblique one (``turns`` is then ignored).
    turns
        How many times the camera circles the scene (0: it stands still).
    azimuth, elevation, view_angle
        Where the high oblique camera stands (compass degrees of where it is seen from the centre,
        degrees above the horizon) and its view angle.

    Raises
    ------
    citytwin.errors.CityTwinError
        With the sentence of :func:`~citytwin.model.sun.sun_unavailable_reason` when the scene has
        no place on Earth.
    ValueError
        When the sun does not rise that day, ``end`` is not after ``start``, or a number is not possible.
    """
    from citytwin.model.sun import local_zone, scene_lonlat, sun_unavailable_reason

    place = scene_lonlat(scene)
    if place is None:
        raise CityTwinError(sun_unavailable_reason(scene) or "The sun is unavailable for this scene.")
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date):
        raise TypeError(f"a sun study's day must be a date, not {type(day).__name__}")
    duration = float(duration)
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError("a tour's duration must be a positive number of seconds")
    zone = local_zone(*place)
    if start is None or end is None:
        window = daylight(day, *place)
        if window is None:
            raise ValueError(f"the sun does not rise on {day.isoformat()} at the scene's place")
        rise, sunset = window
        margin = timedelta(minutes=SUN_STUDY_MARGIN_MINUTES)
        if sunset - rise <= 3 * margin:  # a very short day: all of it
            margin = timedelta(0)
        if start is None:  # on whole minutes inside the window: tidy in a tour file and the form
            start = (rise + margin + timedelta(seconds=59, microseconds=999_999)).replace(second=0, microsecond=0)
        if end is None:
            end = (sunset - margin).replace(second=0, microsecond=0)
    first, last = _local(start, day, zone, "start"), _local(end, day, zone, "end")
    if last <= first:
        raise ValueError(
            f"a sun study must end after it starts ({last.astimezone(zone):%H:%M} is not after "
            f"{first.astimezone(zone):%H:%M})"
        )
    first, last = first.astimezone(zone), last.astimezone(zone)
    if camera is None:
        bounds = scene.bounds()
        b = np.asarray(bounds, dtype=np.float64).ravel()
        size = max(math.hypot(b[3] - b[0], b[4] - b[1]), 50.0)
        centre = np.array([(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, b[2]])
        distance = 0.4 * size / math.tan(math.radians(view_angle / 2)) + (b[5] - b[2])  # fills a 16:9 view
        if float(turns) > 0:
            e = math.radians(elevation)
            circle = orbit(centre, distance * math.cos(e), distance * math.sin(e), float(turns), duration,
                           azimuth, name=name, view_angle=view_angle)  # fmt: skip
            keyframes = list(circle.keyframes)
        else:
            camera = _level(camera_from_angles(centre, azimuth, elevation, distance, view_angle))
    if camera is not None:
        # linear: a still camera stays exactly where it is (a spline would wobble by rounding)
        keyframes = [Keyframe(time=0.0, camera=camera, interpolation="linear"), Keyframe(time=duration, camera=camera)]
    keyframes[0] = msgspec.structs.replace(keyframes[0], sun=first)
    keyframes[-1] = msgspec.structs.replace(keyframes[-1], sun=last)
    return Tour(name=name, keyframes=keyframes)


__all__ = [
    "OPEN_TYPES",
    "SUN_STUDY_MARGIN_MINUTES",
    "bookmark_tour",
    "daylight",
    "fly_along",
    "orbit",
    "reveal",
    "reveal_scene",
    "street_view",
    "sun_study",
]
