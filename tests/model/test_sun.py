"""Sun position, the place of a scene and local times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from pyproj import Transformer
from pysolar.solar import get_position

from citytwin.model.crs import CRS
from citytwin.model.layers import CityModelLayer
from citytwin.model.scene import Scene
from citytwin.model.sun import (
    day_times,
    local_zone,
    parse_local_time,
    scene_lonlat,
    solar_position,
    solar_positions,
    sun_direction,
    sun_unavailable_reason,
)
from tests.render.conftest import make_boxes

DEN_HAAG = (4.30, 52.08)

pytestmark = pytest.mark.filterwarnings("ignore:Leap seconds:UserWarning")


def test_matches_pysolar_for_den_haag():
    lon, lat = DEN_HAAG
    for when in (
        datetime(2026, 3, 21, 9, 0, tzinfo=UTC),
        datetime(2026, 6, 21, 15, 30, tzinfo=UTC),
        datetime(2026, 12, 21, 11, 45, tzinfo=UTC),
    ):
        az, el = solar_position(when, lon, lat)
        ref_az, ref_el = get_position(lat, lon, when)
        assert az == pytest.approx(float(ref_az) % 360, abs=1e-9)
        assert el == pytest.approx(float(ref_el), abs=1e-9)


@pytest.mark.parametrize(
    ("text", "offset_h", "azimuth", "elevation"),
    [
        # 21 March: winter time (CET, UTC+1); the sun culminates at about 12:50 on the clocks, 90 - 52.08 ≈ 38° high.
        ("2026-03-21T12:50", 1, 180.0, 38.2),
        # 21 June: summer time (CEST, UTC+2) moves culmination to about 13:45, 90 - 52.08 + 23.44 ≈ 61.4° high.
        ("2026-06-21T13:40", 2, 178.5, 61.4),
        # 21 December: winter time again, 90 - 52.08 - 23.44 ≈ 14.5° high.
        ("2026-12-21T12:40", 1, 180.0, 14.6),
    ],
)
def test_local_time_with_dst_and_known_positions(text, offset_h, azimuth, elevation):
    lon, lat = DEN_HAAG
    when = parse_local_time(text, lon, lat)
    assert when.utcoffset() == timedelta(hours=offset_h)
    assert str(when.tzinfo) == "Europe/Amsterdam"
    az, el = solar_position(when, lon, lat)
    assert az == pytest.approx(azimuth, abs=1.0)
    assert el == pytest.approx(elevation, abs=1.0)


def test_explicit_offsets_are_taken_as_given():
    lon, lat = DEN_HAAG
    z = parse_local_time("2026-03-21T11:50Z", lon, lat)
    assert z == datetime(2026, 3, 21, 11, 50, tzinfo=UTC)
    plus = parse_local_time("2026-03-21T16:50+05:00", lon, lat)
    assert plus.utcoffset() == timedelta(hours=5)
    assert plus == z
    assert solar_position(plus, lon, lat) == pytest.approx(solar_position(z, lon, lat))
    local = parse_local_time("2026-03-21T12:50", lon, lat)
    assert local == z


@pytest.mark.parametrize(
    "text", ["2026-02-30T10:00", "2026-13-01T10:00", "2026-03-21T25:00", "tomorrow", "2026-03-21", ""]
)
def test_bad_dates_are_one_sentence(text):
    with pytest.raises(ValueError) as info:
        parse_local_time(text, *DEN_HAAG)
    msg = str(info.value)
    assert "\n" not in msg and msg.endswith(".") and msg.count(". ") == 0


def test_skipped_local_hour_is_refused():
    with pytest.raises(ValueError, match="clocks skip"):
        parse_local_time("2026-03-29T02:30", *DEN_HAAG)


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        solar_position(datetime(2026, 3, 21, 12), *DEN_HAAG)


def test_solar_positions_is_the_scalar_function_on_arrays():
    times = [datetime(2026, 3, 21, h, tzinfo=UTC) for h in range(6, 18)]
    az, el = solar_positions(times, *DEN_HAAG)
    assert az.shape == el.shape == (12,)
    for t, a, e in zip(times, az, el, strict=True):
        assert (a, e) == pytest.approx(solar_position(t, *DEN_HAAG))
    assert np.all(np.diff(az) > 0)  # the sun moves east → south → west


def test_local_zone_and_sea_fallback():
    assert local_zone(*DEN_HAAG).key == "Europe/Amsterdam"
    sea = local_zone(-30.0, 40.0)  # the Atlantic
    assert sea.utcoffset(datetime(2026, 1, 1)) == timedelta(hours=-2)


def test_day_times_cover_dst_days():
    assert len(day_times(date(2026, 3, 21), *DEN_HAAG)) == 96
    assert len(day_times(date(2026, 3, 29), *DEN_HAAG)) == 92  # 23 hours
    assert len(day_times(date(2026, 10, 25), *DEN_HAAG)) == 100  # 25 hours


def test_sun_direction():
    np.testing.assert_allclose(sun_direction(0.0, 0.0), [0, 1, 0], atol=1e-12)  # north
    np.testing.assert_allclose(sun_direction(90.0, 0.0), [1, 0, 0], atol=1e-12)  # east
    np.testing.assert_allclose(sun_direction(180.0, 90.0), [0, 0, 1], atol=1e-12)
    d = sun_direction(np.array([135.0, 225.0]), np.array([30.0, 60.0]))
    assert d.shape == (2, 3)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0)
    assert d[0, 0] > 0 and d[0, 1] < 0 and d[1, 0] < 0  # south-east, then south-west


def _rd_scene() -> Scene:
    scene = Scene()
    model = replace(make_boxes(), crs=CRS.parse("urn:ogc:def:crs:EPSG::28992"))
    scene.add_layer(CityModelLayer(name="boxes", model=model), undoable=False)
    return scene


def test_scene_lonlat_from_rd_new():
    scene = _rd_scene()
    assert scene.display_crs.epsg == 28992
    lon, lat = scene_lonlat(scene)
    # The centre of the boxes, RD New (85000, 445000), lies between Den Haag and Delft.
    b = scene.bounds()
    ref_lon, ref_lat = Transformer.from_crs(28992, 4326, always_xy=True).transform((b[0] + b[3]) / 2, (b[1] + b[4]) / 2)
    assert (lon, lat) == pytest.approx((ref_lon, ref_lat), abs=1e-9)
    assert lon == pytest.approx(4.37, abs=0.02)
    assert lat == pytest.approx(51.99, abs=0.02)
    assert sun_unavailable_reason(scene) is None
    model = scene.layers[0].model
    assert scene_lonlat(model) == pytest.approx((lon, lat))


def test_scene_without_crs_has_a_reason():
    scene = Scene()
    scene.add_layer(CityModelLayer(name="boxes", model=make_boxes()), undoable=False)
    assert scene_lonlat(scene) is None
    reason = sun_unavailable_reason(scene)
    assert reason and "\n" not in reason and "coordinate reference system" in reason
    assert scene_lonlat(Scene()) is None and "empty" in sun_unavailable_reason(Scene())
    unknown = replace(make_boxes(), crs=CRS.parse("urn:adv:crs:Something_local"))
    assert scene_lonlat(unknown) is None
    assert "EPSG" in sun_unavailable_reason(unknown)


def test_scene_lonlat_of_the_sample_district():
    import citytwin
    from citytwin.sample import sample_path

    model = citytwin.open(sample_path())
    lonlat = scene_lonlat(model)
    assert lonlat is not None
    lon, lat = lonlat
    assert 5 < lon < 16 and 47 < lat < 56  # EPSG:25832: somewhere in Germany
