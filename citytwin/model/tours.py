"""Tours: a camera flight through keyframes, with layer fades, captions and an animated filter, as pure data.

A :class:`Tour` is an immutable list of :class:`Keyframe` records (msgspec
structs, like bookmarks: the project file decodes straight into them). One
interpolation serves the window's preview, the video export and presenter
mode: :meth:`Tour.sample` for one moment, :meth:`Tour.cameras` for many.
Edits are pure functions returning a new tour (:func:`retime_keyframe`,
:func:`insert_keyframe` …); a scene applies them undoably with
``scene.edit_item(tour, keyframes=new.keyframes)``::

    tour = Tour(name="Harbour", keyframes=[Keyframe(time=0, camera=a), Keyframe(time=8, camera=b, pause=2)])
    tour = append_keyframe(tour, c, seconds=6)
    frame = tour.sample(3.5)          # camera, layer opacities, caption, filter, sun time, scenario
    track = tour.cameras(tour.frame_times(30))

Keyframe ``i`` is reached at its ``time``, rests there ``pause`` seconds, then
moves to keyframe ``i + 1`` as its segment settings say (``interpolation``,
``easing``, ``constant_speed``). Messages count keyframes from 1.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

import msgspec
import numpy as np
from msgspec.structs import force_setattr

from citytwin.model.annotations import new_id
from citytwin.model.camera import CameraState
from citytwin.model.interpolation import EASINGS, INTERPOLATIONS, CameraTrack, KeyframePath

Interpolation = Literal["spline", "linear", "hold"]
Easing = Literal["linear", "ease-in", "ease-out", "ease-in-out"]
#: The fields of a keyframe that describe the segment starting at it.
SEGMENT_FIELDS = ("interpolation", "easing", "constant_speed", "pause")
#: A keyframe's ``scenario`` that shows the data as read (no scenario).
EXISTING = "existing"


def _seconds(value: Any, what: str, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{what} must be a finite number of seconds {'above' if positive else 'of at least'} 0")
    return v


class Caption(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Text shown over the view from a keyframe on.

    Attributes
    ----------
    title, subtitle
        The text (one of them may be empty).
    duration
        Seconds it stays; ``None``: until the next keyframe (the end of the tour for the last one).
    """

    title: str
    subtitle: str = ""
    duration: float | None = None

    def __post_init__(self) -> None:
        if not (str(self.title).strip() or str(self.subtitle).strip()):
            raise ValueError("a caption needs a title or a subtitle")
        if self.duration is not None:
            force_setattr(self, "duration", _seconds(self.duration, "a caption's duration", positive=True))


class AttributeFilter(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Hide the objects whose ``attribute`` is above ``max`` ("city growth" with ``yearOfConstruction``).

    Objects without the attribute stay shown.
    """

    attribute: str
    max: float

    def __post_init__(self) -> None:
        if not str(self.attribute).strip():
            raise ValueError("a filter needs an attribute name")
        m = float(self.max)
        if not math.isfinite(m):
            raise ValueError("a filter's maximum must be a finite number")
        force_setattr(self, "max", m)

    def hidden(self, values: Any) -> np.ndarray:
        """Which of these attribute values are hidden (NaN, an object without the attribute, is shown)."""
        return np.asarray(values, dtype=np.float64) > self.max


class Keyframe(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A moment of a tour, and how the camera goes on from it.

    Attributes
    ----------
    time
        Seconds from the start of the tour (≥ 0).
    camera
        The view (world coordinates, float64).
    interpolation
        The segment to the next keyframe: ``"spline"`` (centripetal Catmull-Rom, C1 in time),
        ``"linear"`` or ``"hold"`` (stay, then cut to the next keyframe at its time).
    easing
        How the segment spends its time: ``"linear"``, ``"ease-in"``, ``"ease-out"`` or ``"ease-in-out"``.
    constant_speed
        Move along the segment at a constant speed (arc-length reparameterisation), shaped by the easing.
    pause
        Seconds the camera rests here before moving on (its velocity is zero here).
    caption
        Text shown from this keyframe on.
    layers
        Layer name → opacity 0–1 here (0: hidden). A layer fades linearly between the keyframes that
        name it and keeps the nearest value before the first and after the last; a layer named by no
        keyframe is left as it is.
    filter
        An attribute threshold here; it moves linearly in time to the next keyframe with a filter
        on the same attribute.
    sun
        The date and time the sun is placed for here (timezone-aware), for a sun study: it moves
        linearly in time between the keyframes that set one, like a layer fade (the nearest value
        before the first and after the last). A tour where no keyframe sets one leaves the scene's
        sun as it is.
    scenario
        Switch the planning scenario shown here: a scenario's id
        (:class:`~citytwin.model.scenario.Scenario`), or :data:`EXISTING` for the data as read;
        ``None``: no change at this keyframe. It holds until the next keyframe that sets one (a
        cut, never a blend); before the first such keyframe the scene's own scenario is shown.
    """

    time: float
    camera: CameraState
    interpolation: Interpolation = "spline"
    easing: Easing = "linear"
    constant_speed: bool = False
    pause: float = 0.0
    caption: Caption | None = None
    layers: dict[str, float] = {}
    filter: AttributeFilter | None = None
    sun: datetime | None = None
    scenario: str | None = None

    def __post_init__(self) -> None:
        force_setattr(self, "time", _seconds(self.time, "a keyframe's time"))
        _check_sun(self.sun)
        if self.scenario is not None and (not isinstance(self.scenario, str) or not self.scenario.strip()):
            raise ValueError(f"a keyframe's scenario must be a scenario's id or {EXISTING!r}, not {self.scenario!r}")
        force_setattr(self, "pause", _seconds(self.pause, "a keyframe's pause"))
        _check_camera(self.camera)
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, not {self.interpolation!r}")
        if self.easing not in EASINGS:
            raise ValueError(f"easing must be one of {', '.join(EASINGS)}, not {self.easing!r}")
        if not isinstance(self.constant_speed, bool):
            raise ValueError("constant_speed must be true or false")
        layers = {}
        for name, value in dict(self.layers).items():
            if not isinstance(name, str) or not name.strip():
                raise ValueError("a layer in a keyframe needs a name")
            v = float(value)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"the opacity of layer {name!r} must be between 0 and 1")
            layers[name] = v
        force_setattr(self, "layers", layers)


def _check_sun(when: Any) -> None:
    if when is None:
        return
    if not isinstance(when, datetime):
        raise TypeError(f"a keyframe's sun time must be a datetime, not {type(when).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(
            f"a keyframe's sun time {when.isoformat()} has no time zone; give it with its offset, such as +01:00"
        )


def _check_camera(camera: Any) -> None:
    if not isinstance(camera, CameraState):
        raise TypeError(f"a keyframe's camera must be a CameraState, not {type(camera).__name__}")
    values = np.array([*camera.position, *camera.focal_point, *camera.view_up, camera.view_angle], dtype=np.float64)
    if values.shape != (10,) or not np.isfinite(values).all():
        raise ValueError("a keyframe's camera needs finite coordinates")
    if camera.position == camera.focal_point:
        raise ValueError("a keyframe's camera must look somewhere: its position and focal point are the same")
    if not any(camera.view_up):
        raise ValueError("a keyframe's camera needs an up direction")
    if not 0.0 < camera.view_angle < 180.0:
        raise ValueError("a keyframe's view angle must be between 0 and 180 degrees")


@dataclass(frozen=True, eq=False)
class TourFrame:
    """Everything a tour shows at one moment (:meth:`Tour.sample`).

    Attributes
    ----------
    time
        Seconds from the start.
    camera
        The camera.
    layers
        Opacity 0–1 of every layer the tour names (0: hidden); others are left as they are.
    caption
        The caption shown, or ``None``.
    filter
        The attribute threshold in force (``filter.max`` is the interpolated threshold), or ``None``.
    keyframe
        The last keyframe reached (0 before the first).
    segment
        The segment the camera is on (keyframe ``segment`` → ``segment + 1``).
    fraction
        Time fraction of that segment's movement, 0–1 (0 during a pause).
    paused
        Whether the camera rests at ``keyframe`` for its pause.
    sun
        When the sun is placed for (timezone-aware, interpolated between the keyframes that set
        one), or ``None``: the tour leaves the scene's sun as it is.
    scenario
        The scenario shown: the ``scenario`` of the last keyframe reached (at or before ``time``)
        that sets one (a scenario id or :data:`EXISTING`), or ``None`` before the first such
        keyframe: the scene's own scenario stays.
    """

    time: float
    camera: CameraState
    layers: dict[str, float]
    caption: Caption | None
    filter: AttributeFilter | None
    keyframe: int
    segment: int
    fraction: float
    paused: bool
    sun: datetime | None = None
    scenario: str | None = None


class Tour(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, weakref=True):
    """A camera flight through keyframes.

    Attributes
    ----------
    id
        Unique within the project (a fresh one by default).
    name
        Shown in the tours panel.
    keyframes
        Two or more, times strictly increasing; each keyframe's pause ends before the next keyframe.

    Raises
    ------
    ValueError
        With one sentence, when a rule above (or a keyframe's own) is broken.
    """

    id: str = msgspec.field(default_factory=lambda: new_id("tour"))
    name: str
    keyframes: tuple[Keyframe, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError("a tour needs an id")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a tour needs a name")
        keyframes = tuple(self.keyframes)
        force_setattr(self, "keyframes", keyframes)
        if len(keyframes) < 2:
            raise ValueError(f"a tour needs at least two keyframes (it has {len(keyframes)})")
        for i, k in enumerate(keyframes):
            if not isinstance(k, Keyframe):
                raise TypeError(f"keyframe {i + 1} is a {type(k).__name__}, not a Keyframe")
        for i, (a, b) in enumerate(zip(keyframes, keyframes[1:], strict=False)):
            if b.time <= a.time:
                raise ValueError(f"keyframe {i + 2} (at {b.time:g} s) must come after keyframe {i + 1} ({a.time:g} s)")
            if a.time + a.pause >= b.time:
                raise ValueError(
                    f"keyframe {i + 1}'s pause of {a.pause:g} s must end before keyframe {i + 2} at {b.time:g} s"
                )

    # ------------------------------------------------------------ timing
    @property
    def duration(self) -> float:
        """Seconds from 0 until the camera has come to rest at the last keyframe (its time plus its pause)."""
        last = self.keyframes[-1]
        return last.time + last.pause

    @property
    def times(self) -> np.ndarray:
        """``(n,)`` keyframe times."""
        return np.array([k.time for k in self.keyframes], dtype=np.float64)

    def frame_times(self, fps: float) -> np.ndarray:
        """The times of a video's frames: ``round(duration · fps) + 1`` frames at ``k / fps``.

        The last is clipped to the duration, so a 10 s tour at 30 fps has 301 frames, from 0 s to 10 s.
        """
        fps = float(fps)
        if not math.isfinite(fps) or fps <= 0:
            raise ValueError("frames per second must be a positive number")
        n = int(round(self.duration * fps)) + 1
        return np.minimum(np.arange(n) / fps, self.duration)

    @property
    def layer_names(self) -> list[str]:
        """The layers some keyframe names, in order of first mention."""
        return list(dict.fromkeys(name for k in self.keyframes for name in k.layers))

    # ------------------------------------------------------------ sampling
    def path(self) -> KeyframePath:
        """The camera path (built once per tour and kept while the tour lives)."""
        return _compiled(self).path

    def cameras(self, times: Any) -> CameraTrack:
        """The cameras at many times at once (vectorised; the video export's path)."""
        return self.path().cameras(times)

    def sample(self, t: float) -> TourFrame:
        """Everything the tour shows at ``t`` seconds (the preview's and presenter mode's path)."""
        c = _compiled(self)
        tt = np.array([float(t)])
        key, seg, u, paused = c.path.locate(tt)
        layers = {name: float(ch.at(tt)[0]) for name, ch in c.layers.items()}
        return TourFrame(
            time=float(t),
            camera=c.path.cameras(tt).state(0),
            layers=layers,
            caption=c.caption_at(float(t)),
            filter=c.filter_at(float(t)),
            keyframe=int(key[0]),
            segment=int(seg[0]),
            fraction=float(0.0 if paused[0] else u[0]),
            paused=bool(paused[0]),
            sun=c.sun_at(float(t)),
            scenario=c.scenario_at(float(t)),
        )

    @property
    def scenario_ids(self) -> list[str]:
        """The scenarios some keyframe switches to (ids, or :data:`EXISTING`), in order of first mention."""
        return list(dict.fromkeys(k.scenario for k in self.keyframes if k.scenario is not None))

    def sun_times(self, times: Any) -> np.ndarray | None:
        """The sun times at many times at once, as POSIX seconds (vectorised), or ``None`` when no keyframe sets one."""
        ch = _compiled(self).sun
        if ch is None:
            return None
        return ch.at(np.atleast_1d(np.asarray(times, dtype=np.float64)).ravel())

    def opacities(self, times: Any) -> dict[str, np.ndarray]:
        """Opacity of every named layer at many times (vectorised)."""
        t = np.atleast_1d(np.asarray(times, dtype=np.float64)).ravel()
        return {name: ch.at(t) for name, ch in _compiled(self).layers.items()}

    # ------------------------------------------------------------ derived tours
    def retimed_constant_speed(self, total: float | None = None) -> Tour:
        """This tour retimed so the camera moves at one constant speed throughout.

        Keyframe times become proportional to the arc length of the segments (pauses and "hold"
        segments keep their seconds; the first keyframe keeps its time) so that the tour lasts
        ``total`` seconds (its present duration by default), and every moving segment gets
        ``constant_speed``. The arc lengths depend on the timing, so this is iterated a few times.

        Raises
        ------
        ValueError
            When nothing moves, or the pauses and holds alone take ``total`` seconds.
        """
        total = self.duration if total is None else _seconds(total, "a tour's duration", positive=True)
        kf = self.keyframes
        pauses = np.array([k.pause for k in kf])
        times = self.times
        held = np.array([k.interpolation == "hold" for k in kf[:-1]])
        durations = times[1:] - times[:-1] - pauses[:-1]
        budget = total - times[0] - pauses.sum() - durations[held].sum()
        if budget <= 1e-9 * total:
            raise ValueError(f"the tour's pauses and holds leave no time to move in {total:g} s")
        tour = self._replace_keyframes(
            msgspec.structs.replace(k, constant_speed=True) if i < len(held) and not held[i] else k
            for i, k in enumerate(kf)
        )
        for _ in range(6):
            lengths = tour.path().arc_lengths()[:, -1][~held]
            if lengths.sum() < 1e-9:
                raise ValueError("the camera does not move in this tour, so it has no speed to keep")
            lengths = np.maximum(lengths, 1e-3 * lengths.mean())  # a still segment still takes a moment
            durations[~held] = budget * lengths / lengths.sum()
            new_times = times[0] + np.concatenate([[0.0], np.cumsum(pauses[:-1] + durations)])
            tour = tour._replace_keyframes(
                [msgspec.structs.replace(k, time=float(t)) for k, t in zip(tour.keyframes, new_times, strict=True)]
            )
        return tour

    def _replace_keyframes(self, keyframes: Iterable[Keyframe]) -> Tour:
        return msgspec.structs.replace(self, keyframes=tuple(keyframes))

    @classmethod
    def from_bookmarks(cls, bookmarks: Sequence[Any], seconds_per_leg: float = 6.0, **options: Any) -> Tour:
        """A flight from bookmark to bookmark (see :func:`citytwin.model.tour_presets.bookmark_tour`)."""
        from citytwin.model.tour_presets import bookmark_tour

        return bookmark_tour(bookmarks, seconds_per_leg, **options)


# ---------------------------------------------------------------- sampling tables


class _Channel:
    """A value given at some keyframes, linear in time between them (after the first one's pause)."""

    def __init__(self, times: np.ndarray, starts: np.ndarray, values: np.ndarray, keys: list[str] | None = None):
        self.times, self.starts, self.values = times, starts, values
        self.keys = keys

    def locate(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        j = np.searchsorted(self.times, t, side="right") - 1
        a = np.clip(j, 0, len(self.times) - 1)
        b = np.where(j < 0, a, np.minimum(a + 1, len(self.times) - 1))
        span = self.times[b] - self.starts[a]
        frac = np.clip(np.divide(t - self.starts[a], span, out=np.zeros_like(t), where=span > 0), 0.0, 1.0)
        return a, b, np.where(b > a, frac, 0.0)

    def at(self, t: np.ndarray) -> np.ndarray:
        a, b, f = self.locate(t)
        return (1.0 - f) * self.values[a] + f * self.values[b]


class _Compiled:
    """What sampling a tour needs, computed once per tour."""

    def __init__(self, tour: Tour) -> None:
        kf = tour.keyframes
        self.path = KeyframePath(
            [k.time for k in kf],
            [k.pause for k in kf],
            [k.camera.position for k in kf],
            [k.camera.focal_point for k in kf],
            [k.camera.view_up for k in kf],
            [k.camera.view_angle for k in kf],
            [INTERPOLATIONS.index(k.interpolation) for k in kf],
            [EASINGS.index(k.easing) for k in kf],
            [k.constant_speed for k in kf],
        )
        times = tour.times
        starts = times + np.array([k.pause for k in kf])
        self.layers: dict[str, _Channel] = {}
        for name in tour.layer_names:
            idx = [i for i, k in enumerate(kf) if name in k.layers]
            self.layers[name] = _Channel(times[idx], starts[idx], np.array([kf[i].layers[name] for i in idx]))
        filters = [(i, k.filter) for i, k in enumerate(kf) if k.filter is not None]
        self.filter = None
        if filters:
            idx = [i for i, _ in filters]
            maxima = np.array([f.max for _, f in filters])
            self.filter = _Channel(times[idx], starts[idx], maxima, [f.attribute for _, f in filters])
        # the sun as POSIX seconds (float64: a tenth of a microsecond in 2026), shown in the zone of the
        # keyframe it comes from
        suns = [(i, k.sun) for i, k in enumerate(kf) if k.sun is not None]
        self.sun: _Channel | None = None
        self.sun_zones: list[tzinfo] = []
        if suns:
            idx = [i for i, _ in suns]
            seconds = np.array([s.timestamp() for _, s in suns])
            self.sun = _Channel(times[idx], starts[idx], seconds)
            self.sun_zones = [s.tzinfo for _, s in suns]  # type: ignore[misc]
        # the scenario: a step function, the value of the last keyframe reached that sets one
        switches = [(k.time, k.scenario) for k in kf if k.scenario is not None]
        self.scenario_times = np.array([t for t, _ in switches], dtype=np.float64)
        self.scenarios = [s for _, s in switches]
        self.duration = tour.duration
        self.captions: list[tuple[float, float, Caption]] = []
        for i, k in enumerate(kf):
            if k.caption is None:
                continue
            default_end = times[i + 1] if i + 1 < len(kf) else self.duration
            end = k.time + k.caption.duration if k.caption.duration is not None else default_end
            self.captions.append((k.time, end, k.caption))

    def caption_at(self, t: float) -> Caption | None:
        for start, end, caption in reversed(self.captions):
            if start <= t < end or (start <= t <= end and end >= self.duration):
                return caption
        return None

    def sun_at(self, t: float) -> datetime | None:
        ch = self.sun
        if ch is None:
            return None
        a, b, f = ch.locate(np.array([t]))
        a, b, f = int(a[0]), int(b[0]), float(f[0])
        if f <= 0.0:
            value = float(ch.values[a])
        elif f >= 1.0:
            value = float(ch.values[b])
        else:
            value = float(ch.values[a] + f * (ch.values[b] - ch.values[a]))
        return datetime.fromtimestamp(value, tz=self.sun_zones[a if f < 1.0 else b])

    def scenario_at(self, t: float) -> str | None:
        j = int(np.searchsorted(self.scenario_times, t, side="right")) - 1
        return self.scenarios[j] if j >= 0 else None

    def filter_at(self, t: float) -> AttributeFilter | None:
        ch = self.filter
        if ch is None:
            return None
        a, b, f = ch.locate(np.array([t]))
        a, b, f = int(a[0]), int(b[0]), float(f[0])
        keys = ch.keys or []
        if keys[a] != keys[b]:
            f = 0.0
        return AttributeFilter(attribute=keys[a], max=float((1.0 - f) * ch.values[a] + f * ch.values[b]))


_CACHE: dict[int, _Compiled] = {}


def _compiled(tour: Tour) -> _Compiled:
    key = id(tour)
    c = _CACHE.get(key)
    if c is None:
        c = _CACHE[key] = _Compiled(tour)
        weakref.finalize(tour, _CACHE.pop, key, None)
    return c


# ---------------------------------------------------------------- edits (pure: each returns a new tour)


def _index(tour: Tour, index: int) -> int:
    n = len(tour.keyframes)
    if not isinstance(index, (int, np.integer)) or not -n <= index < n:
        raise ValueError(f"there is no keyframe {index + 1 if isinstance(index, int) else index} (the tour has {n})")
    return int(index) % n


def add_keyframe(tour: Tour, keyframe: Keyframe) -> Tour:
    """The tour with ``keyframe`` put in at its time (no other keyframe may have that time)."""
    if any(k.time == keyframe.time for k in tour.keyframes):
        raise ValueError(f"the tour has a keyframe at {keyframe.time:g} s already")
    return tour._replace_keyframes(sorted([*tour.keyframes, keyframe], key=lambda k: k.time))


def insert_keyframe(tour: Tour, keyframe: Keyframe, shift: float) -> Tour:
    """The tour with ``keyframe`` added after every keyframe at or after its time moved ``shift`` seconds later."""
    shift = _seconds(shift, "the shift")
    moved = [msgspec.structs.replace(k, time=k.time + shift) if k.time >= keyframe.time else k for k in tour.keyframes]
    return add_keyframe(tour._replace_keyframes(moved) if shift else tour, keyframe)


def append_keyframe(tour: Tour, camera: CameraState, seconds: float = 5.0, **settings: Any) -> Tour:
    """The tour with a keyframe ``seconds`` after its end (its last pause); ``settings`` as :class:`Keyframe`'s."""
    seconds = _seconds(seconds, "the time to the new keyframe", positive=True)
    return tour._replace_keyframes([*tour.keyframes, Keyframe(time=tour.duration + seconds, camera=camera, **settings)])


def delete_keyframe(tour: Tour, index: int) -> Tour:
    """The tour without keyframe ``index`` (a tour keeps at least two)."""
    i = _index(tour, index)
    return tour._replace_keyframes(tour.keyframes[:i] + tour.keyframes[i + 1 :])


def retime_keyframe(tour: Tour, index: int, time: float) -> Tour:
    """The tour with keyframe ``index`` at ``time``, between its neighbours' times (reorder: :func:`move_keyframe`)."""
    i = _index(tour, index)
    return edit_keyframe(tour, i, time=time)


def move_keyframe(tour: Tour, index: int, new_index: int) -> Tour:
    """The tour with keyframe ``index`` moved to place ``new_index`` in the order.

    The times stay where they are and the keyframes' contents (camera, settings, …) move
    through them, so the order of times stays consistent.
    """
    i, j = _index(tour, index), _index(tour, new_index)
    contents = list(tour.keyframes)
    contents.insert(j, contents.pop(i))
    slots = [k.time for k in tour.keyframes]
    return tour._replace_keyframes(msgspec.structs.replace(k, time=t) for k, t in zip(contents, slots, strict=True))


def edit_keyframe(tour: Tour, index: int, **changes: Any) -> Tour:
    """The tour with keyframe ``index`` replaced by a copy with ``changes`` (any :class:`Keyframe` field)."""
    i = _index(tour, index)
    unknown = set(changes) - set(Keyframe.__struct_fields__)
    if unknown:
        raise ValueError(f"a keyframe has no field {sorted(unknown)[0]!r}")
    kf = list(tour.keyframes)
    kf[i] = msgspec.structs.replace(kf[i], **changes)
    return tour._replace_keyframes(kf)


def set_segment(tour: Tour, index: int, **settings: Any) -> Tour:
    """The tour with the segment from keyframe ``index`` set: any of :data:`SEGMENT_FIELDS` (``easing="ease-in"``)."""
    unknown = set(settings) - set(SEGMENT_FIELDS)
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]!r} is not a segment setting (those are {', '.join(SEGMENT_FIELDS)})")
    return edit_keyframe(tour, index, **settings)


def shift_keyframes(tour: Tour, index: int, seconds: float) -> Tour:
    """The tour with keyframe ``index`` and all later ones moved ``seconds`` (negative: earlier)."""
    i = _index(tour, index)
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        raise ValueError(f"the shift must be a number of seconds, not {seconds!r}") from None
    if not math.isfinite(s):
        raise ValueError("the shift must be a finite number of seconds")
    kf = list(tour.keyframes)
    kf[i:] = [msgspec.structs.replace(k, time=k.time + s) for k in kf[i:]]
    return tour._replace_keyframes(kf)


def scale_duration(tour: Tour, duration: float) -> Tour:
    """The tour stretched or squeezed to last ``duration`` seconds (times, pauses and caption spans alike)."""
    f = _seconds(duration, "a tour's duration", positive=True) / tour.duration

    def scaled(k: Keyframe) -> Keyframe:
        caption = k.caption
        if caption is not None and caption.duration is not None:
            caption = msgspec.structs.replace(caption, duration=caption.duration * f)
        return msgspec.structs.replace(k, time=k.time * f, pause=k.pause * f, caption=caption)

    return tour._replace_keyframes(scaled(k) for k in tour.keyframes)


__all__ = [
    "EXISTING",
    "SEGMENT_FIELDS",
    "AttributeFilter",
    "Caption",
    "Keyframe",
    "Tour",
    "TourFrame",
    "add_keyframe",
    "append_keyframe",
    "delete_keyframe",
    "edit_keyframe",
    "insert_keyframe",
    "move_keyframe",
    "retime_keyframe",
    "scale_duration",
    "set_segment",
    "shift_keyframes",
]
