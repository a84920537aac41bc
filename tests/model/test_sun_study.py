"""Sun times in tours: interpolated like a layer fade, and the sun-study preset over a real scene."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pytest

import citytwin.io
from citytwin.errors import CityTwinError
from citytwin.model.camera import CameraState
from citytwin.model.sun import local_zone, scene_lonlat, solar_position, sun_unavailable_reason
from citytwin.model.tour_presets import SUN_STUDY_MARGIN_MINUTES, daylight, sun_study
from citytwin.model.tours import Keyframe, Tour, edit_keyframe, scale_duration
from citytwin.render.scene_view import scene_from_models
from citytwin.sample import sample_path

AMS = ZoneInfo("Europe/Amsterdam")
CAM = CameraState((85_000.0, 446_000.0, 300.0), (85_100.0, 446_100.0, 0.0))
NINE = datetime(2026, 3, 21, 9, 0, tzinfo=AMS)
FIVE = datetime(2026, 3, 21, 17, 0, tzinfo=AMS)


def _tour(*suns: datetime | None, pause: float = 0.0) -> Tour:
    """Keyframes at 0, 2, 6, 8 s with these sun times (the second one pauses ``pause`` s)."""
    times = (0.0, 2.0, 6.0, 8.0)
    keyframes = [
        Keyframe(time=t, camera=CAM, sun=s, pause=pause if i == 1 else 0.0)
        for i, (t, s) in enumerate(zip(times, suns, strict=True))
    ]
    return Tour(name="sun", keyframes=keyframes)


def test_sun_time_is_linear_in_time_between_the_keyframes_that_set_one():
    tour = _tour(None, NINE, FIVE, None)
    assert tour.sample(4.0).sun == datetime(2026, 3, 21, 13, 0, tzinfo=AMS)  # the midpoint is the mean time
    assert tour.sample(3.0).sun == datetime(2026, 3, 21, 11, 0, tzinfo=AMS)
    assert tour.sample(5.5).sun == datetime(2026, 3, 21, 16, 0, tzinfo=AMS)
    # before the first and after the last keyframe with a sun: the nearest one's
    assert tour.sample(0.0).sun == NINE and tour.sample(1.0).sun == NINE
    assert tour.sample(7.0).sun == FIVE and tour.sample(8.0).sun == FIVE
    assert tour.sample(4.0).sun.utcoffset() == timedelta(hours=1)  # aware, in the keyframe's zone
    # vectorised: POSIX seconds
    seconds = tour.sun_times([0.0, 4.0, 8.0])
    assert seconds is not None
    assert np.allclose(seconds, [NINE.timestamp(), NINE.timestamp() + 4 * 3600, FIVE.timestamp()])


def test_sun_time_waits_for_a_pause_and_crosses_days_and_zones():
    paused = _tour(None, NINE, FIVE, None, pause=2.0)  # rests 2–4 s, then moves 4–6 s
    assert paused.sample(3.5).sun == NINE
    assert paused.sample(5.0).sun == datetime(2026, 3, 21, 13, 0, tzinfo=AMS)
    utc_evening = datetime(2026, 3, 21, 22, 0, tzinfo=UTC)
    across = _tour(NINE, None, None, utc_evening)  # 08:00Z → 22:00Z over 8 s
    assert across.sample(4.0).sun == datetime(2026, 3, 21, 15, 0, tzinfo=UTC)


def test_a_tour_without_sun_times_leaves_the_sun_alone():
    tour = _tour(None, None, None, None)
    assert all(tour.sample(t).sun is None for t in (0.0, 3.0, 8.0))
    assert tour.sun_times([0.0, 1.0]) is None


def test_sun_times_must_say_their_zone_and_survive_edits():
    with pytest.raises(ValueError, match="has no time zone"):
        Keyframe(time=0, camera=CAM, sun=datetime(2026, 3, 21, 9, 0))
    with pytest.raises(TypeError, match="must be a datetime"):
        Keyframe(time=0, camera=CAM, sun="2026-03-21T09:00+01:00")
    tour = _tour(None, None, None, None)
    edited = edit_keyframe(tour, 0, sun=NINE)
    assert edited.keyframes[0].sun == NINE and edited.sample(8.0).sun == NINE
    with pytest.raises(ValueError, match="has no time zone"):
        edit_keyframe(tour, 0, sun=datetime(2026, 3, 21, 9, 0))
    halved = scale_duration(_tour(None, NINE, FIVE, None), 4.0)
    assert halved.sample(2.0).sun == datetime(2026, 3, 21, 13, 0, tzinfo=AMS)
    # msgspec (the project file) keeps the instant and the offset
    again = msgspec.json.decode(msgspec.json.encode(edited), type=Tour)
    assert again == edited and again.keyframes[0].sun.utcoffset() == timedelta(hours=1)


# ---------------------------------------------------------------- the preset


@pytest.fixture(scope="module")
def district():
    return citytwin.io.read(sample_path())  # EPSG:25832, near Osnabrück


def test_sun_study_runs_from_after_sunrise_to_before_sunset_with_the_sun_up(district):
    scene = scene_from_models([district])
    place = scene_lonlat(scene)
    assert place is not None
    day = date(2026, 3, 21)
    tour = sun_study(scene, day, duration=12.0)
    assert tour.duration == 12.0 and tour.name == "Sun study"
    rise, sunset = daylight(day, *place)
    assert solar_position(rise, *place)[1] > 0 > solar_position(rise - timedelta(minutes=1), *place)[1]
    assert solar_position(sunset, *place)[1] > 0 > solar_position(sunset + timedelta(minutes=1), *place)[1]
    first, last = tour.keyframes[0].sun, tour.keyframes[-1].sun
    margin = timedelta(minutes=SUN_STUDY_MARGIN_MINUTES)
    assert rise + margin <= first < rise + margin + timedelta(minutes=1)
    assert sunset - margin - timedelta(minutes=1) < last <= sunset - margin
    zone = local_zone(*place)
    assert first.astimezone(zone).date() == day == last.astimezone(zone).date()
    assert 6 <= first.astimezone(zone).hour <= 7 and 18 <= last.astimezone(zone).hour <= 19  # an equinox day
    elevations, azimuths = [], []
    for t in tour.frame_times(4):
        frame = tour.sample(float(t))
        az, el = solar_position(frame.sun, *place)
        elevations.append(el)
        azimuths.append(az)
        held = tour.keyframes[0].camera  # it holds one view
        assert np.allclose(frame.camera.position, held.position, rtol=0, atol=1e-6)
        assert np.allclose(frame.camera.focal_point, held.focal_point, rtol=0, atol=1e-6)
    assert min(elevations) > 0
    assert azimuths[0] < 110 and azimuths[-1] > 250 and np.all(np.diff(azimuths) > 0)  # east to west
    # the camera sees the scene from high above, from the south-south-west
    b = np.asarray(scene.bounds())
    pos, focal = np.asarray(tour.keyframes[0].camera.position), np.asarray(tour.keyframes[0].camera.focal_point)
    assert pos[2] - focal[2] > np.hypot(*(pos - focal)[:2]) and pos[1] < focal[1]
    assert np.allclose(focal[:2], (b[:2] + b[3:5]) / 2)


def test_sun_study_with_given_times_an_orbit_or_a_camera(district):
    scene = scene_from_models([district])
    place = scene_lonlat(scene)
    day = date(2026, 6, 21)
    tour = sun_study(scene, day, start=time(8, 0), end=time(20, 0), duration=6.0, turns=0.25, name="June")
    zone = local_zone(*place)
    assert tour.keyframes[0].sun == datetime(2026, 6, 21, 8, 0, tzinfo=zone)
    assert tour.keyframes[-1].sun == datetime(2026, 6, 21, 20, 0, tzinfo=zone)
    assert tour.sample(3.0).sun == datetime(2026, 6, 21, 14, 0, tzinfo=zone)
    assert len(tour.keyframes) > 2 and tour.sample(0.0).camera != tour.sample(6.0).camera  # it circles
    assert all(k.sun is None for k in tour.keyframes[1:-1])
    held = sun_study(scene, day, start=datetime(2026, 6, 21, 10, 0, tzinfo=UTC), camera=CAM)
    assert held.keyframes[0].sun == datetime(2026, 6, 21, 12, 0, tzinfo=zone) and held.keyframes[0].camera == CAM
    with pytest.raises(ValueError, match="must end after it starts"):
        sun_study(scene, day, start=time(18, 0), end=time(9, 0))
    with pytest.raises(ValueError, match="duration"):
        sun_study(scene, day, duration=0)


def test_sun_study_needs_a_place_on_earth_and_a_sunrise():
    model = citytwin.io.read(sample_path())
    model.crs = None
    scene = scene_from_models([model])
    reason = sun_unavailable_reason(scene)
    assert reason is not None and "coordinate reference system" in reason
    with pytest.raises(CityTwinError) as info:
        sun_study(scene, date(2026, 3, 21))
    assert str(info.value) == reason
    # a polar night: no sunrise to start from
    assert daylight(date(2026, 12, 21), 15.6, 78.2) is None
    polar_day = daylight(date(2026, 6, 21), 15.6, 78.2)
    assert polar_day is not None and polar_day[0].hour == 0 and polar_day[1].hour == 23
