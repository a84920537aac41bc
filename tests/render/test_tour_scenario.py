"""A tour that switches the planning scenario at a keyframe: drawn from that frame on, never made an edit."""

from __future__ import annotations

import dataclasses

import numpy as np

from citytwin.model.camera import CameraState
from citytwin.model.layers import CityModelLayer
from citytwin.model.scenario import DeleteObjects, Scenario
from citytwin.model.tours import EXISTING, Keyframe, Tour
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.scene_view import scene_from_models
from citytwin.render.style import Style
from citytwin.render.tour_export import TourVideo, export_tour
from citytwin.render.video import VideoSettings
from tests.render.conftest import BOXES, X0, Y0, Z0, make_boxes

FLAT = Style(lighting="flat", anti_aliasing=None)
W, H = 320, 240
LOW, HIGH = BOXES[0][0], BOXES[1][0]
#: Straight down on both buildings.
TOP = CameraState((X0, Y0, Z0 + 400.0), (X0, Y0, Z0), view_up=(0.0, 1.0, 0.0))
#: Roof points: the low building (kept by the plan) and the high one (deleted by it).
ROOFS = {"low": (X0 - 30.0, Y0, Z0 + 10.0), "high": (X0 + 30.0, Y0, Z0 + 30.0)}


def _scene():
    """The two boxes, a plan that deletes the high one and another that deletes the low one."""
    scene = scene_from_models([make_boxes()])
    plan = Scenario(name="Plan", edits=(DeleteObjects(ids=(HIGH,)),))
    other = Scenario(name="Other", edits=(DeleteObjects(ids=(LOW,)),))
    scene.scenarios.extend([plan, other])
    return scene, plan, other


def _tour(scenario_id: str) -> Tour:
    """A still camera for 4 s; keyframe 2 (at 2 s) switches to ``scenario_id``."""
    return Tour(
        name="Plan reveal",
        keyframes=[
            Keyframe(time=0.0, camera=TOP),
            Keyframe(time=2.0, camera=TOP, scenario=scenario_id),
            Keyframe(time=4.0, camera=TOP),
        ],
    )


def _pixels(off: OffscreenScene) -> dict[str, tuple[int, int]]:
    return {name: tuple(int(v) for v in off.to_pixels(np.array([p]))[0][:2]) for name, p in ROOFS.items()}


def _at(img: np.ndarray, px: tuple[int, int]) -> np.ndarray:
    return img[px[1], px[0]].astype(int)


def _differs(a: np.ndarray, b: np.ndarray, px: tuple[int, int]) -> bool:
    return bool(np.abs(_at(a, px) - _at(b, px)).max() > 40)


def _same(a: np.ndarray, b: np.ndarray, px: tuple[int, int]) -> bool:
    return bool(np.abs(_at(a, px) - _at(b, px)).max() <= 3)


def test_a_keyframe_switches_the_scenario_drawn_and_stopping_brings_the_scenes_back():
    scene, plan, _ = _scene()
    tour = _tour(plan.id)
    emitted: list[str] = []
    scene.settings_changed.connect(emitted.append)
    with OffscreenScene((W, H), FLAT, scene=scene, follow=True) as off:
        off.set_camera(TOP)
        px = _pixels(off)
        existing = off.render()
        assert _at(existing, px["high"])[0] > _at(existing, px["high"])[2] + 40  # a (reddish) roof

        off.view.apply_tour_frame(tour.sample(1.9))  # before keyframe 2: the scene's own (existing)
        before = off.render()
        assert _same(before, existing, px["high"]) and _same(before, existing, px["low"])

        off.view.apply_tour_frame(tour.sample(2.0))  # from keyframe 2 on: the plan
        after = off.render()
        assert _differs(after, before, px["high"]), "the deleted building is still drawn"
        assert _same(after, before, px["low"])
        off.view.apply_tour_frame(tour.sample(3.5))
        assert np.array_equal(off.render(), after)  # held to the end
        assert off.view.scenario_drawing.scenario is plan and off.view.shown_scenario is plan

        # playing is not an edit: the scene still shows the existing city, nothing was emitted or pushed
        assert scene.scenario_id is None and scene.scenario is None
        assert emitted == [] and not scene.undo_stack.can_undo

        off.view.apply_tour_frame(None)  # the tour stops: the scene's own again
        again = off.render()
        assert np.abs(again.astype(int) - existing.astype(int)).max() <= 3
        assert off.view.scenario_drawing.scenario is None


def test_a_frames_scenario_outlasts_scene_changes_until_the_tour_stops():
    scene, plan, other = _scene()
    tour = _tour(plan.id)
    with OffscreenScene((W, H), FLAT, scene=scene, follow=True) as off:
        off.set_camera(TOP)
        px = _pixels(off)
        existing = off.render()
        frame = tour.sample(3.0)
        off.view.apply_tour_frame(frame)

        # the scene switching its own scenario (settings_changed("scenario")) leaves the frame's drawn
        scene.scenario_id = other.id
        shown = off.render()
        assert _differs(shown, existing, px["high"]) and _same(shown, existing, px["low"])
        assert off.view.shown_scenario is plan

        # a layer arriving meanwhile is drawn with the frame's scenario too
        copy = scene.add_layer(CityModelLayer(name="copy", model=make_boxes()), undoable=False)
        vis = off.view.visual(copy)
        assert vis is not None and len(vis.drawn_triangles) < len(vis.arrays.triangles)
        assert _differs(off.render(), existing, px["high"])
        scene.layers.remove(copy)

        # "existing" shows the data as read, whatever the scene shows
        off.view.apply_tour_frame(dataclasses.replace(frame, scenario=EXISTING))
        plain = off.render()
        assert _same(plain, existing, px["high"]) and _same(plain, existing, px["low"])

        # an id the scene no longer has (the scenario was deleted) shows the scene's own: "other"
        off.view.apply_tour_frame(dataclasses.replace(frame, scenario="scenario-gone"))
        fallback = off.render()
        assert _same(fallback, existing, px["high"]) and _differs(fallback, existing, px["low"])

        # the frame's scenario deleted while shown: the scene's own is drawn
        off.view.apply_tour_frame(frame)
        assert off.view.scenario_drawing.scenario is plan
        scene.scenarios.remove(plan)
        assert off.view.scenario_drawing.scenario is other

        # stopping: the scene's own, and it follows the scene again
        off.view.apply_tour_frame(None)
        assert off.view.scenario_drawing.scenario is other
        scene.scenario_id = None
        again = off.render()
        assert np.abs(again.astype(int) - existing.astype(int)).max() <= 3


def test_the_video_export_switches_at_the_keyframe(tmp_path):
    from PIL import Image

    scene, plan, _ = _scene()
    tour = _tour(plan.id)
    settings = VideoSettings((W, H), fps=2)  # frames at 0, 0.5, … 4 s: frame 4 is keyframe 2
    with OffscreenScene((W, H), FLAT, scene=scene) as off:
        off.set_camera(TOP)
        px = _pixels(off)
    report = export_tour(scene, tour, tmp_path / "frames", settings, style=FLAT)
    files = sorted((tmp_path / "frames").iterdir())
    assert report.frames == len(files) == 9
    frames = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    assert _differs(frames[3], frames[4], px["high"]), "the building is still drawn after keyframe 2"
    assert _same(frames[3], frames[4], px["low"])
    assert all(np.array_equal(frames[0], f) for f in frames[1:4])
    assert all(np.array_equal(frames[4], f) for f in frames[5:])
    assert scene.scenario_id is None  # the scene is left alone
    # frame by frame (the export dialog's preview) the same
    with TourVideo(scene, tour, tmp_path / "a.mp4", settings, style=FLAT) as video:
        assert np.array_equal(video.frame(4), frames[4]) and np.array_equal(video.frame(3), frames[3])
        video.cancel()
