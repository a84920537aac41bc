"""Preset views fitted to bounds: pure numpy, no rendering."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.render.camera import VIEW_NAMES, box_corners, preset_view, project

BOUNDS = np.array([-60.0, -20.0, 0.0, 80.0, 30.0, 45.0])
SIZE = (1600, 900)


@pytest.mark.parametrize("view", VIEW_NAMES)
def test_every_preset_fits_the_whole_box_snugly(view):
    pose = preset_view(BOUNDS, view, aspect=SIZE[0] / SIZE[1])
    px = project(pose, box_corners(BOUNDS), SIZE)
    assert np.isfinite(px).all()
    assert (px[:, 0] >= 0).all() and (px[:, 0] <= SIZE[0]).all()
    assert (px[:, 1] >= 0).all() and (px[:, 1] <= SIZE[1]).all()
    # snug: the box spans at least 75 % of the width or of the height (the fit is centred on the
    # box centre, so perspective leaves a little more room on one side)
    span = (px.max(axis=0) - px.min(axis=0)) / np.array(SIZE)
    assert span.max() > 0.75


def test_directions_and_up_vectors():
    centre = (BOUNDS[:3] + BOUNDS[3:]) / 2
    top = preset_view(BOUNDS, "top")
    np.testing.assert_allclose(top.focal_point, centre)
    np.testing.assert_allclose(top.direction, [0, 0, -1], atol=1e-9)
    np.testing.assert_array_equal(top.view_up, [0, 1, 0])  # north up
    north = preset_view(BOUNDS, "north")
    np.testing.assert_allclose(north.direction, [0, -1, 0], atol=1e-9)  # standing north, looking south
    east = preset_view(BOUNDS, "east")
    np.testing.assert_allclose(east.direction, [-1, 0, 0], atol=1e-9)
    for name, sx, sy in [("oblique-ne", 1, 1), ("oblique-nw", -1, 1), ("oblique-se", 1, -1), ("oblique-sw", -1, -1)]:
        pose = preset_view(BOUNDS, name)
        rel = pose.position - centre
        assert np.sign(rel[0]) == sx and np.sign(rel[1]) == sy and rel[2] > 0
        down = np.degrees(np.arcsin(-pose.direction[2]))
        assert 35 <= down <= 45
        np.testing.assert_array_equal(pose.view_up, [0, 0, 1])


def test_wider_window_brings_the_camera_closer_for_a_wide_model():
    wide = np.array([-500.0, -10.0, 0.0, 500.0, 10.0, 10.0])
    narrow = preset_view(wide, "top", aspect=1.0)
    cinema = preset_view(wide, "top", aspect=2.35)
    assert cinema.distance < narrow.distance


def test_project_centre_and_errors():
    pose = preset_view(BOUNDS, "oblique-sw")
    c = project(pose, pose.focal_point[None], SIZE)[0]
    np.testing.assert_allclose(c, [SIZE[0] / 2, SIZE[1] / 2], atol=1e-6)
    behind = pose.position + (pose.position - pose.focal_point)
    assert np.isnan(project(pose, behind[None], SIZE)).all()
    with pytest.raises(ValueError, match="unknown view"):
        preset_view(BOUNDS, "upside-down")
    with pytest.raises(ValueError, match="empty"):
        preset_view(np.full(6, np.nan), "top")
