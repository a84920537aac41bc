"""The sun: its position for a date, a time and a place, and the place of a scene.

Positions come from pysolar (an implementation of NREL's Solar Position Algorithm),
not from a hand-written formula. Times are always timezone-aware; a time typed
without an offset means the local time of the scene's location, whose zone
timezonefinder looks up offline.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from citytwin.model.crs import CRS, reproject

WGS84 = CRS("EPSG:4326", 4326)

__all__ = [
    "local_zone",
    "parse_local_time",
    "scene_lonlat",
    "solar_position",
    "solar_positions",
    "sun_direction",
    "sun_unavailable_reason",
    "day_times",
]


def _check_aware(when: datetime) -> None:
    if not isinstance(when, datetime):
        raise TypeError(f"Expected a datetime, got {type(when).__name__}.")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"The time {when.isoformat()} has no time zone; give a timezone-aware datetime.")


def solar_position(when: datetime, lon: float, lat: float) -> tuple[float, float]:
    """Azimuth and elevation of the sun, seen from a place at a moment.

    Parameters
    ----------
    when
        A timezone-aware datetime.
    lon, lat
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of float
        ``(azimuth, elevation)`` in degrees: azimuth clockwise from north (90 = east),
        elevation above the horizon including atmospheric refraction (negative at night).

    Raises
    ------
    ValueError
        When ``when`` has no time zone.
    """
    from pysolar.solar import get_position

    _check_aware(when)
    with warnings.catch_warnings():
        # pysolar warns once a year of its release that it lacks later leap seconds (< 1 s of time).
        warnings.filterwarnings("ignore", message="Leap seconds", category=UserWarning)
        az, el = get_position(float(lat), float(lon), when)
    return float(az) % 360.0, float(el)


def solar_positions(times: Sequence[datetime] | np.ndarray, lon: float, lat: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`solar_position` for many moments at one place.

    Parameters
    ----------
    times
        Timezone-aware datetimes (a sequence or an object array).
    lon, lat
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        ``(azimuth, elevation)``, float64 arrays shaped like ``times``.

    Notes
    -----
    pysolar vectorises only by switching its math module globally to numpy, which
    would change it for every other caller; a loop costs about 0.25 ms a time.
    """
    arr = np.asarray(times, dtype=object)
    flat = arr.ravel()
    az = np.empty(flat.size)
    el = np.empty(flat.size)
    for i, when in enumerate(flat):
        az[i], el[i] = solar_position(when, lon, lat)
    return az.reshape(arr.shape), el.reshape(arr.shape)


def sun_direction(azimuth: float | np.ndarray, elevation: float | np.ndarray) -> np.ndarray:
    """Unit vector(s) from the scene towards the sun in a projected CRS (+X east, +Y north, +Z up).

    Parameters
    ----------
    azimuth
        Degrees clockwise from north.
    elevation
        Degrees above the horizon.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` for scalars, ``(..., 3)`` for arrays.

    Notes
    -----
    Grid north of a projected CRS differs from true north by the meridian
    convergence (about 1° at most for RD New or a UTM zone away from its central
    meridian). Over a city-size scene it changes by far less than that, and a
    shadow that is 1° off in direction is invisible, so it is neglected.
    """
    az = np.radians(np.asarray(azimuth, dtype=np.float64))
    el = np.radians(np.asarray(elevation, dtype=np.float64))
    cos_el = np.cos(el)
    return np.stack([np.sin(az) * cos_el, np.cos(az) * cos_el, np.sin(el)], axis=-1)


# ------------------------------------------------------------------------------------------------ place of a scene
def _scene_crs_and_bounds(scene) -> tuple[CRS | None, np.ndarray | None]:
    crs = getattr(scene, "display_crs", None)
    if crs is None:
        crs = getattr(scene, "crs", None)
    bounds = getattr(scene, "bounds", None)
    if callable(bounds):
        bounds = bounds()
    if bounds is not None:
        bounds = np.asarray(bounds, dtype=np.float64)
        if bounds.shape != (6,) or not np.isfinite(bounds).all():
            bounds = None
    return crs, bounds


def _lonlat_or_reason(scene) -> tuple[tuple[float, float] | None, str | None]:
    crs, bounds = _scene_crs_and_bounds(scene)
    if bounds is None:
        return None, "The sun is unavailable: the scene is empty, so it has no place on Earth."
    if crs is None:
        return None, (
            "The sun is unavailable: the data has no coordinate reference system, so its place on Earth is unknown."
        )
    if crs.epsg is None:
        return None, (
            f"The sun is unavailable: the coordinate reference system {crs} is not an EPSG code that pyproj knows, "
            "so the scene's place on Earth is unknown."
        )
    centre = ((bounds[:3] + bounds[3:]) / 2.0)[None, :]
    try:
        lat, lon = reproject(centre, crs, WGS84)[0, :2]  # EPSG:4326 is latitude first
    except Exception:
        return None, f"The sun is unavailable: the scene's coordinates cannot be placed on Earth from {crs}."
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None, f"The sun is unavailable: the scene's coordinates are not valid in {crs}."
    return (float(lon), float(lat)), None


def scene_lonlat(scene) -> tuple[float, float] | None:
    """WGS84 longitude and latitude of the centre of a scene.

    Parameters
    ----------
    scene
        A :class:`~citytwin.model.scene.Scene` (its ``display_crs`` and ``bounds()``),
        or anything with ``crs`` and ``bounds`` such as a
        :class:`~citytwin.model.citymodel.CityModel`.

    Returns
    -------
    tuple of float or None
        ``(lon, lat)`` in degrees, or ``None`` when the scene has no usable CRS or no
        bounds; :func:`sun_unavailable_reason` says why in one sentence.
    """
    return _lonlat_or_reason(scene)[0]


def sun_unavailable_reason(scene) -> str | None:
    """One sentence on why the sun cannot be placed for ``scene``, or ``None`` when it can."""
    return _lonlat_or_reason(scene)[1]


# ----------------------------------------------------------------------------------------------------- local time
@lru_cache(maxsize=1)
def _finder():
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


@lru_cache(maxsize=256)
def _zone_name(lon: float, lat: float) -> str:
    try:
        name = _finder().timezone_at(lng=lon, lat=lat)
    except ValueError:  # coordinates out of range
        name = None
    if name:
        try:
            ZoneInfo(name)
            return name
        except Exception:  # a zone the local tz database lacks
            pass
    hours = int(round(lon / 15.0))
    hours = max(-12, min(12, hours))
    # POSIX sign convention: Etc/GMT-1 is UTC+1.
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"


def local_zone(lon: float, lat: float) -> ZoneInfo:
    """The time zone at a place, looked up offline with timezonefinder.

    Where it finds none, the fixed offset ``round(lon / 15)`` hours from UTC
    (an ``Etc/GMT±n`` zone) is used.
    """
    return ZoneInfo(_zone_name(round(float(lon), 4), round(float(lat), 4)))


_HAS_TIME = re.compile(r"^\s*\d{4}-\d{2}-\d{2}[T ]\d", re.I)


def parse_local_time(text: str, lon: float, lat: float) -> datetime:
    """Read an ISO date and time as the local time of a place.

    ``"2026-03-21T15:00"`` is 15:00 on the clocks there (daylight saving time as
    the zone has it); ``"2026-03-21T15:00+01:00"`` or ``"…Z"`` is taken as given.

    Parameters
    ----------
    text
        ISO 8601 date and time.
    lon, lat
        WGS84 longitude and latitude of the place.

    Returns
    -------
    datetime
        A timezone-aware datetime.

    Raises
    ------
    ValueError
        With one sentence, for text that is not an ISO date and time, an impossible
        date, or a local time skipped when clocks go forward.
    """
    raw = (text or "").strip()
    if not _HAS_TIME.match(raw):
        raise ValueError(f"{text!r} is not a date and time; write it as 2026-03-21T15:00.")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(f"{raw} is not a possible date and time ({exc}).") from None
    if when.tzinfo is not None:
        return when
    zone = local_zone(lon, lat)
    local = when.replace(tzinfo=zone)
    back = local.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != when:
        raise ValueError(f"{raw} does not exist in {zone.key}: the clocks skip that hour.")
    return local


def day_times(day: date, lon: float, lat: float, step_minutes: float = 15.0) -> list[datetime]:
    """Local times through one day at a place, every ``step_minutes`` from midnight.

    Steps are in real (UTC) time, so a day with a daylight-saving change has 23 or
    25 hours of steps.
    """
    if step_minutes <= 0:
        raise ValueError("The time step must be longer than zero minutes.")
    zone = local_zone(lon, lat)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    n = int(np.floor((end - start).total_seconds() / (step_minutes * 60.0) + 1e-9))
    step = timedelta(minutes=step_minutes)
    return [(start + i * step).astimezone(zone) for i in range(n) if start + i * step < end]
