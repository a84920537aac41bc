"""Sun hours: a flat open plane gets the whole day, a tall block takes sun from the ground north of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pytest
from pysolar.util import get_sunrise_sunset

from citytwin.errors import CityTwinError
from citytwin.model.crs import CRS
from citytwin.model.layers import CityModelLayer
from citytwin.model.scene import Scene
from citytwin.model.sun import local_zone, scene_lonlat
from citytwin.render.sun_hours import SunHours, SunHoursCancelled, add_sun_hours, sun_hours
from tests.render.conftest import X0, Y0, make_boxes

pytestmark = pytest.mark.filterwarnings("ignore:Leap seconds:UserWarning")

RD = CRS.parse("urn:ogc:def:crs:EPSG::28992")
MARCH_21 = date(2026, 3, 21)
#: the ground grid: 200 m square around the block, 4 m spacing (keeps the tests quick)
BOUNDS = [X0 - 100.0, Y0 - 100.0, X0 + 100.0, Y0 + 100.0]
GRID = 4.0


def _plane():
    return replace(make_boxes(boxes=[], ground_plane=True), crs=RD)


def _block():
    """A 30 × 30 × 60 m block on the plane (centre X0, Y0)."""
    return replace(make_boxes(boxes=[("tower", X0, Y0, 30.0, 30.0, 60.0, {})], ground_plane=True), crs=RD)


@pytest.fixture(scope="module")
def open_result() -> SunHours:
    return sun_hours(_plane(), MARCH_21, grid=GRID, bounds=BOUNDS)


@pytest.fixture(scope="module")
def block_result() -> SunHours:
    return sun_hours(_block(), MARCH_21, grid=GRID, bounds=BOUNDS)


def _day_length(day: date, lon: float, lat: float) -> float:
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=local_zone(lon, lat))
    rise, set_ = get_sunrise_sunset(lat, lon, noon)
    return (set_ - rise).total_seconds() / 3600.0


@pytest.mark.parametrize("day", [MARCH_21, date(2026, 6, 21), date(2026, 12, 21)])
def test_open_plane_gets_the_day_length(day):
    res = sun_hours(_plane(), day, grid=10.0, bounds=BOUNDS, facades=False)
    expected = _day_length(day, *res.lonlat)
    assert res.grid_shape == (20, 20)
    np.testing.assert_allclose(res.hours, expected, rtol=0.05)
    assert res.day_length == pytest.approx(expected, rel=0.05)
    assert not res.covered.any()


def test_result_layout(open_result):
    r = open_result
    ny, nx = r.grid_shape
    assert (ny, nx) == (50, 50) and r.n_ground == 2500
    assert r.points.shape == (len(r.hours), 3) and r.normals.shape == r.points.shape
    gp = r.ground_points
    assert gp[0, 0, 0] == pytest.approx(X0 - 98.0) and gp[0, 0, 1] == pytest.approx(Y0 - 98.0)
    assert np.all(np.diff(gp[:, 0, 1]) > 0) and np.all(np.diff(gp[0, :, 0]) > 0)  # rows go north, columns east
    np.testing.assert_allclose(gp[..., 2], 2.0 - 0.05, atol=0.01)  # on the plane (make_boxes puts it at Z0 - 5 cm)
    assert r.lonlat == pytest.approx(scene_lonlat(_plane()))
    assert len(r.facade_points) == 0  # a plane has no walls


def test_block_shades_the_ground_north_of_it(open_result, block_result):
    gp, gh = block_result.ground_points, block_result.ground_hours
    x, y = gp[..., 0] - X0, gp[..., 1] - Y0
    just_north = (np.abs(x) < 10) & (y > 20) & (y < 40)
    far = y < -20  # south of the block: the sun is south of east-west all day at the equinox
    assert just_north.sum() > 5 and far.sum() > 100
    assert gh[just_north].max() < 0.8 * gh[far].min()
    assert gh[far] == pytest.approx(open_result.ground_hours[far])
    inside = (np.abs(x) < 13) & (np.abs(y) < 13)
    assert block_result.covered[inside].all() and not block_result.covered[far].any()


def test_facades_by_orientation(block_result):
    n, h = block_result.normals[block_result.n_ground :], block_result.facade_hours
    assert len(h) > 100
    by_side = {side: h[np.all(np.isclose(n, v), axis=1)] for side, v in {"S": (0, -1, 0), "N": (0, 1, 0)}.items()}
    by_side |= {"E": h[np.isclose(n[:, 0], 1)], "W": h[np.isclose(n[:, 0], -1)]}
    assert all(len(v) for v in by_side.values())
    # at the equinox the south wall has the sun all day, east and west half of it, the north wall next to none
    assert by_side["S"].min() > 0.9 * block_result.day_length
    for side in "EW":
        assert by_side[side].mean() == pytest.approx(block_result.day_length / 2, rel=0.1)
    assert by_side["N"].max() < 1.0


def test_difference_of_block_and_no_block(open_result, block_result):
    diff = block_result.difference(open_result)
    assert diff.is_difference
    gh = diff.ground_hours
    assert np.all(gh <= 1e-9)
    gp = diff.ground_points
    x, y = gp[..., 0] - X0, gp[..., 1] - Y0
    assert np.all(gh[(np.abs(x) < 10) & (y > 20) & (y < 40)] < -1.0)
    assert np.isnan(diff.facade_hours).all()  # the walls exist in one state only
    same = block_result.difference(block_result)
    np.testing.assert_array_equal(same.hours, 0.0)  # facade points match themselves
    other_grid = sun_hours(_plane(), MARCH_21, grid=10.0, bounds=BOUNDS, facades=False)
    with pytest.raises(ValueError, match="ground grids"):
        block_result.difference(other_grid)


def test_scene_layers_switched_off():
    scene = Scene()
    scene.add_layer(CityModelLayer(name="plane", model=_plane()), undoable=False)
    tower = CityModelLayer(name="tower", model=replace(make_boxes(boxes=[("t", X0, Y0, 30.0, 30.0, 60.0, {})]), crs=RD))
    scene.add_layer(tower, undoable=False)
    with_tower = sun_hours(scene, MARCH_21, grid=10.0, bounds=BOUNDS, facades=False)
    tower.visible = False
    without = sun_hours(scene, MARCH_21, grid=10.0, bounds=BOUNDS, facades=False)
    d = with_tower.difference(without)
    assert d.hours.min() < -1.0 and d.hours.max() <= 1e-9


def test_progress_cancel_and_no_place():
    calls = []
    sun_hours(_plane(), MARCH_21, grid=20.0, bounds=BOUNDS, progress=lambda i, n: calls.append((i, n)))
    assert calls and calls[-1][0] == calls[-1][1] and len(calls) == calls[-1][1]
    with pytest.raises(SunHoursCancelled):
        sun_hours(_plane(), MARCH_21, grid=20.0, bounds=BOUNDS, progress=lambda i, n: False)
    with pytest.raises(SunHoursCancelled):
        sun_hours(_plane(), MARCH_21, grid=20.0, bounds=BOUNDS, cancel=lambda: True)
    with pytest.raises(CityTwinError, match="coordinate reference system"):
        sun_hours(make_boxes(boxes=[], ground_plane=True), MARCH_21, grid=20.0)
    # a list of models is placed by the first one that has a place
    listed = sun_hours([make_boxes(), _plane()], MARCH_21, grid=20.0, bounds=BOUNDS, facades=False)
    assert listed.lonlat == pytest.approx(scene_lonlat(_plane()))


def test_still_with_the_colour_map_and_legend(block_result, open_result):
    from citytwin.render.offscreen import OffscreenScene

    size = (640, 400)
    for result in (block_result, block_result.difference(open_result)):
        with OffscreenScene(size) as off:
            off.add(_block())
            actors = add_sun_hours(off.plotter, result, off.origin)
            # ground, facades (none in the difference: the walls exist in one state only), legend
            assert len(actors) == (2 if result.is_difference else 3)
            off.set_view("oblique-ne")
            img = off.render()
        assert img.shape == (size[1], size[0], 3)
        assert img.reshape(-1, 3).std(axis=0).max() > 20  # not blank
        legend = img[:, int(0.88 * size[0]) :].reshape(-1, 3).astype(int)
        if result.is_difference:
            target = np.array([5, 48, 97])  # RdBu's dark blue end (more sun); the legend spans it
        else:
            target = np.array([252, 255, 164])  # inferno's pale yellow top
        assert (np.abs(legend - target).max(axis=1) <= 30).sum() > 20


def test_row_houses_share_a_wall_without_samples():
    """Two houses built against each other: their common wall has no facade samples (it would
    count 0 h inside the neighbour); the taller house's wall above the lower one keeps its samples."""
    boxes = [("low", X0 - 10.0, Y0, 20.0, 20.0, 10.0, {}), ("high", X0 + 10.0, Y0, 20.0, 20.0, 30.0, {})]
    model = replace(make_boxes(boxes=boxes, ground_plane=True), crs=RD)
    res = sun_hours(model, MARCH_21, grid=GRID, bounds=BOUNDS)
    on_common_plane = np.abs(res.facade_points[:, 0] - X0) < 0.2
    assert on_common_plane.any()
    # what is left on the common plane is the taller house's wall above the lower roof, facing west
    assert (res.facade_points[on_common_plane, 2] > 2.0 + 10.0).all()  # Z0 + the low roof
    assert (res.normals[res.n_ground :][on_common_plane, 0] < -0.99).all()
    # that wall faces west: it gets the afternoon sun
    assert res.facade_hours[on_common_plane].min() > 2.0
    # the same houses apart keep both walls: samples on both sides
    apart = [("low", X0 - 12.0, Y0, 20.0, 20.0, 10.0, {}), ("high", X0 + 12.0, Y0, 20.0, 20.0, 30.0, {})]
    apart_model = replace(make_boxes(boxes=apart, ground_plane=True), crs=RD)
    res_apart = sun_hours(apart_model, MARCH_21, grid=GRID, bounds=BOUNDS)
    assert len(res_apart.facade_points) > len(res.facade_points)


def test_legend_ticks_fall_on_whole_hours():
    from citytwin.render.sun_hours import hour_ticks

    assert hour_ticks(0.0, 12.25).tolist() == [0, 2, 4, 6, 8, 10, 12]
    assert hour_ticks(0.0, 16.5).tolist() == [0, 3, 6, 9, 12, 15]
    assert hour_ticks(-3.5, 3.5).tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert hour_ticks(-1.2, 1.2).tolist() == [-1, -0.5, 0, 0.5, 1]
    assert hour_ticks(0.0, 24.0).tolist() == [0, 6, 12, 18, 24]
