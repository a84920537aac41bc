"""Tours as standalone TOML files (``NAME.tour.toml``), written to be read and edited by people.

::

    # A citytwin tour: times in seconds, coordinates in the scene's CRS (its data's; UTM for latitude/longitude data).
    id = "tour-3f2a9c1b"
    name = "City growth"

    [[keyframe]]
    time = 0.0
    position = [84800.0, 445800.0, 400.0]
    focal_point = [85000.0, 446000.0, 0.0]
    pause = 1.0
    caption = { title = "1850", subtitle = "The old town" }
    layers = { Buildings = 0.0 }
    filter = { attribute = "yearOfConstruction", max = 1850.0 }

    [[keyframe]]
    time = 12.0
    position = [85300.0, 445900.0, 250.0]
    focal_point = [85000.0, 446000.0, 0.0]
    layers = { Buildings = 1.0 }
    filter = { attribute = "yearOfConstruction", max = 2020.0 }

A keyframe may also set ``view_up``, ``view_angle``, ``interpolation``, ``easing``,
``constant_speed``, ``sun`` (the date and time the sun is placed for, ISO 8601 with
its UTC offset: ``sun = "2026-03-21T09:00:00+01:00"``) and ``scenario`` (the planning
scenario shown from there on: a scenario's *id* as the project file has it,
``scenario = "scenario-5d1e0a7c"``, or ``scenario = "existing"`` for the data as read; a
scenario's name is not looked up, and an id the project lacks shows the project's own
scenario); see :class:`citytwin.model.tours.Keyframe`. What a keyframe leaves out takes the default.
``id`` is optional (a fresh one is made). Anything
wrong (bad TOML, a misspelt key, a wrong type, too few keyframes, times out of
order) is one sentence in a :class:`~citytwin.errors.ReaderError`.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import tomli_w

from citytwin.errors import CityTwinError, ReaderError
from citytwin.io.atomic import write_atomic
from citytwin.io.files import open_regular
from citytwin.model.camera import CameraState
from citytwin.model.tours import AttributeFilter, Caption, Keyframe, Tour

#: The suffix tour files are given by the window (any name reads).
TOUR_SUFFIX = ".tour.toml"
#: A tour file larger than this is refused before it is read.
MAX_TOUR_BYTES = 16 * 2**20
_HEADER = (
    "# A citytwin tour: times in seconds, coordinates in the scene's CRS (its data's; UTM for latitude/longitude).\n"
)
_DEFAULT = Keyframe(time=0.0, camera=CameraState((0.0, 0.0, 1.0), (0.0, 0.0, 0.0)))


class TourFileError(CityTwinError):
    """A tour file could not be written."""


class _Caption(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: str = ""
    subtitle: str = ""
    duration: float | None = None


class _Filter(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    attribute: str
    max: float


class _Keyframe(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    time: float
    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    view_angle: float = 30.0
    interpolation: str = "spline"
    easing: str = "linear"
    constant_speed: bool = False
    pause: float = 0.0
    caption: _Caption | None = None
    layers: dict[str, float] = {}
    filter: _Filter | None = None
    sun: Any = None  # an ISO string, or a TOML date-time
    scenario: str | None = None


class _Tour(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    id: str | None = None
    keyframe: list[_Keyframe] = []


# ---------------------------------------------------------------- writing


def _value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    return tomli_w.dumps({"v": v}).split(" = ", 1)[1].rstrip("\n")


def _key(k: str) -> str:
    return tomli_w.dumps({k: 0}).rsplit(" = ", 1)[0]


def dumps(tour: Tour) -> str:
    """The TOML text of a tour (defaults left out, so a file says only what is special)."""
    lines = [_HEADER, f"id = {_value(tour.id)}", f"name = {_value(tour.name)}"]
    for k in tour.keyframes:
        cam = k.camera
        entry: dict[str, Any] = {"time": k.time, "position": cam.position, "focal_point": cam.focal_point}
        if cam.view_up != _DEFAULT.camera.view_up:
            entry["view_up"] = cam.view_up
        if cam.view_angle != _DEFAULT.camera.view_angle:
            entry["view_angle"] = cam.view_angle
        for name in ("interpolation", "easing", "constant_speed", "pause"):
            if getattr(k, name) != getattr(_DEFAULT, name):
                entry[name] = getattr(k, name)
        if k.caption is not None:
            entry["caption"] = msgspec.to_builtins(k.caption)
        if k.layers:
            entry["layers"] = k.layers
        if k.filter is not None:
            entry["filter"] = {"attribute": k.filter.attribute, "max": k.filter.max}
        if k.sun is not None:
            entry["sun"] = k.sun.isoformat()
        if k.scenario is not None:
            entry["scenario"] = k.scenario
        lines += ["", "[[keyframe]]", *(f"{_key(name)} = {_value(v)}" for name, v in entry.items())]
    return "\n".join(lines) + "\n"


def write_tour(tour: Tour, path: str | os.PathLike) -> Path:
    """Write a tour to a TOML file atomically; return the path.

    Raises
    ------
    TourFileError
        With one sentence, when the file cannot be written.
    """
    path = Path(path)
    try:
        return write_atomic(path, dumps(tour).encode("utf-8"))
    except OSError as exc:
        raise TourFileError(f"The tour could not be saved to {path} ({exc.strerror or exc}).") from None


# ---------------------------------------------------------------- reading


def loads(text: str, path: str | os.PathLike | None = None) -> Tour:
    """A tour from TOML text (``path`` only names the file in messages).

    Raises
    ------
    citytwin.errors.ReaderError
        With one sentence: bad TOML (with its line), an unknown key, a wrong type, fewer than
        two keyframes, or a tour that breaks a rule of :class:`~citytwin.model.tours.Tour`.
    """
    where = Path(path) if path is not None else None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", msg).rstrip(".")
        raise ReaderError(
            f"The tour file is not valid TOML ({reason[:1].lower()}{reason[1:]}).",
            where,
            int(m.group(1)) if m else None,
        ) from None
    keyframes = data.get("keyframe")
    if isinstance(keyframes, list) and len(keyframes) < 2:
        raise ReaderError(
            f"The tour file has {len(keyframes) or 'no'} keyframe{'s' if len(keyframes) != 1 else ''}; "
            "a tour needs at least two ([[keyframe]] tables).",
            where,
        )
    try:
        raw = msgspec.convert(data, _Tour)
    except msgspec.ValidationError as exc:
        raise ReaderError(f"The tour file is not valid{_where(str(exc))}.", where) from None
    if len(raw.keyframe) < 2:
        raise ReaderError("The tour file has no keyframes; a tour needs at least two ([[keyframe]] tables).", where)
    suns = [_sun(k.sun, i, where) for i, k in enumerate(raw.keyframe)]
    try:
        kf = [_keyframe(k, sun) for k, sun in zip(raw.keyframe, suns, strict=True)]
        fields: dict[str, Any] = {"name": raw.name, "keyframes": tuple(kf)}
        if raw.id is not None:
            fields["id"] = raw.id
        return Tour(**fields)
    except (ValueError, TypeError) as exc:
        raise ReaderError(f"The tour in the file is not valid: {exc}.", where) from None


def _sun(value: Any, index: int, where: Path | None) -> datetime | None:
    """A keyframe's ``sun``: ISO 8601 text (or a TOML date-time) with its UTC offset."""
    if value is None:
        return None
    when = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            when = None
    if when is None or when.tzinfo is None or when.utcoffset() is None:
        shown = value.isoformat() if isinstance(value, datetime) else repr(value)
        raise ReaderError(
            f"The sun time {shown} of keyframe {index + 1} is not a date and time with its UTC offset; "
            'write it as sun = "2026-03-21T09:00:00+01:00".',
            where,
        )
    return when


def _keyframe(k: _Keyframe, sun: datetime | None = None) -> Keyframe:
    caption = None if k.caption is None else Caption(**msgspec.structs.asdict(k.caption))
    filt = None if k.filter is None else AttributeFilter(attribute=k.filter.attribute, max=k.filter.max)
    return Keyframe(
        time=k.time,
        camera=CameraState(k.position, k.focal_point, k.view_up, k.view_angle),
        interpolation=k.interpolation,  # type: ignore[arg-type]
        easing=k.easing,  # type: ignore[arg-type]
        constant_speed=k.constant_speed,
        pause=k.pause,
        caption=caption,
        layers=dict(k.layers),
        filter=filt,
        sun=sun,
        scenario=k.scenario,
    )


def _where(message: str) -> str:
    """Where and what, from msgspec's ``Expected `float`, got `str` - at `$.keyframe[1].time```.

    Gives `` at keyframe 2, time (expected `float`, got `str`)``.
    """
    what, _, at = message.partition(" - at ")
    what = what[:1].lower() + what[1:]
    place = at.strip("`").removeprefix("$").lstrip(".")
    place = re.sub(r"keyframe\[(\d+)\]", lambda m: f"keyframe {int(m.group(1)) + 1}", place)
    place = place.replace(".", ", ", 1) if place.startswith("keyframe ") else place
    return f" at {place} ({what})" if place else f" ({what})"


def read_tour(path: str | os.PathLike) -> Tour:
    """Read a tour from a TOML file.

    Raises
    ------
    citytwin.errors.ReaderError
        As :func:`loads`, and for a missing, unreadable, too large or non-UTF-8 file.
    """
    path = Path(path)
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > MAX_TOUR_BYTES:
            raise ReaderError(f"The file is too large ({size / 2**20:,.0f} MB) to be a citytwin tour.", path)
        data = fh.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReaderError("The tour file is not UTF-8 text.", path) from None
    return loads(text, path)


__all__ = ["MAX_TOUR_BYTES", "TOUR_SUFFIX", "TourFileError", "dumps", "loads", "read_tour", "write_tour"]
