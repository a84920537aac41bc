"""A sun study rendered off screen: each frame is lit from its own sun, so the shadows move through the day."""

from __future__ import annotations

from datetime import date, time

import numpy as np

from citytwin.model.camera import CameraState
from citytwin.model.sun import parse_local_time, scene_lonlat, solar_position
from citytwin.model.tour_presets import sun_study
from citytwin.model.tours import Keyframe, Tour
from citytwin.render.looks import scene_sun, sun_at
from citytwin.render.scene_view import scene_from_models
from citytwin.render.tour_export import TourVideo
from citytwin.render.video import VideoSettings
from tests.render.conftest import X0, Y0, Z0, make_boxes
from tests.render.test_looks import RD_NEW, _grey

#: Straight down on the tower, north up, 480 × 300 (not square: VTK bakes shadows at the view's aspect).
TOP = CameraState((X0, Y0, Z0 + 400.0), (X0, Y0, Z0), (0.0, 1.0, 0.0), 30.0)


def _tower_scene():
    model = make_boxes([("tower", X0, Y0, 20.0, 20.0, 30.0, {})])
    model.crs = RD_NEW
    return scene_from_models([model])


def _sides(off, when, place) -> tuple[np.ndarray, np.ndarray]:
    """Pixels 22 m from the tower's foot towards the sun and away from it."""
    az, _ = solar_position(when, *place)
    towards = np.array([np.sin(np.radians(az)), np.cos(np.radians(az)), 0.0])
    near, far = off.to_pixels(np.array([[X0, Y0, Z0]]) + np.array([towards, -towards]) * 22.0)
    return near, far


def test_morning_and_evening_frames_cast_shadows_on_opposite_sides(tmp_path):
    scene = _tower_scene()
    place = scene_lonlat(scene)
    assert place is not None
    tour = sun_study(scene, date(2026, 3, 21), start=time(9, 0), end=time(17, 0), duration=1.0, camera=TOP)
    with TourVideo(scene, tour, tmp_path / "frames", VideoSettings((480, 300), fps=2)) as video:
        assert video.n_frames == 3  # 09:00, 13:00, 17:00
        off = video._off
        images, suns, sides = [], [], []
        for k in (0, 2):
            images.append(video.frame(k).astype(float))
            when = tour.sample(float(video.times[k])).sun
            suns.append(when)
            sides.append(_sides(off, when, place))
            assert off.look_rig.sun == sun_at(scene, when)
        (morning, evening), ((m_lit, m_shade), (e_lit, e_shade)) = images, sides
        assert suns[0].hour == 9 and suns[1].hour == 17
        assert off.look_rig.sun == solar_position(suns[1], *place)
        # each frame: darker away from its sun than towards it
        assert _grey(morning, m_shade) < _grey(morning, m_lit) - 25
        assert _grey(evening, e_shade) < _grey(evening, e_lit) - 25
        # and the sides swap: the morning's shadow is lit in the evening, the evening's was lit in the morning
        assert _grey(evening, m_shade) > _grey(morning, m_shade) + 25
        assert _grey(morning, e_shade) > _grey(evening, e_shade) + 25


def test_a_tour_without_sun_times_keeps_the_scenes_sun(tmp_path):
    scene = _tower_scene()
    scene.sun = parse_local_time("2026-03-21T15:00", *scene_lonlat(scene))
    tour = Tour(name="still", keyframes=[Keyframe(time=0, camera=TOP), Keyframe(time=1, camera=TOP)])
    with TourVideo(scene, tour, tmp_path / "frames", VideoSettings((160, 100), fps=2)) as video:
        video.frame(1)
        assert video._off.look_rig.sun == scene_sun(scene)
