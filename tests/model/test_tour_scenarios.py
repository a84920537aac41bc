"""A keyframe that switches the planning scenario: a step in time, kept by the project file and TOML."""

from __future__ import annotations

import json

import msgspec
import numpy as np
import pytest

import citytwin
from citytwin.errors import ReaderError
from citytwin.io.project import decode_project, encode_project, read_project
from citytwin.io.tours_toml import dumps, loads, read_tour, write_tour
from citytwin.model.camera import CameraState
from citytwin.model.project_scene import apply_items, project_from_scene
from citytwin.model.scenario import DeleteObjects, Scenario
from citytwin.model.scene import Scene
from citytwin.model.tours import EXISTING, Keyframe, Tour, edit_keyframe, move_keyframe

BASE = np.array([85_000.0, 446_000.0, 0.0])


def cam(x: float) -> CameraState:
    return CameraState(tuple(BASE + (x, 0.0, 80.0)), tuple(BASE + (x + 10.0, 10.0, 0.0)))


PLAN = Scenario(id="scenario-plan", name="Plan", edits=(DeleteObjects(ids=("b1",)),))


def switching_tour() -> Tour:
    """Keyframes at 0, 4, 8 and 12 s; keyframe 2 (with a pause) shows the plan, keyframe 4 the data as read."""
    return Tour(
        name="Before and after",
        keyframes=[
            Keyframe(time=0.0, camera=cam(0)),
            Keyframe(time=4.0, camera=cam(50), pause=1.0, scenario=PLAN.id),
            Keyframe(time=8.0, camera=cam(100)),
            Keyframe(time=12.0, camera=cam(150), scenario=EXISTING),
        ],
    )


def test_the_scenario_is_a_step_from_each_keyframe_that_sets_one():
    tour = switching_tour()
    assert [tour.sample(t).scenario for t in (0.0, 2.0, 3.999)] == [None, None, None]  # the scene's own stays
    assert [tour.sample(t).scenario for t in (4.0, 4.5, 5.0, 7.9, 8.0, 11.999)] == [PLAN.id] * 6  # a cut, held
    assert tour.sample(12.0).scenario == EXISTING
    assert tour.sample(99.0).scenario == EXISTING  # after the end: the last one's
    assert tour.scenario_ids == [PLAN.id, EXISTING]
    # the other channels are untouched by it
    plain = Tour(name="x", keyframes=[msgspec.structs.replace(k, scenario=None) for k in tour.keyframes])
    for t in (0.0, 4.5, 10.0):
        a, b = tour.sample(t), plain.sample(t)
        assert a.camera == b.camera and a.layers == b.layers and a.keyframe == b.keyframe and b.scenario is None
    assert plain.scenario_ids == []


def test_a_switch_at_the_first_keyframe_holds_from_the_start():
    tour = edit_keyframe(switching_tour(), 0, scenario=EXISTING)
    assert tour.sample(0.0).scenario == EXISTING and tour.sample(3.0).scenario == EXISTING
    assert tour.sample(4.0).scenario == PLAN.id


def test_edits_carry_the_switch_with_their_keyframe():
    tour = switching_tour()
    moved = move_keyframe(tour, 1, 2)  # the plan's switch moves to keyframe 3 (at 8 s)
    assert [k.scenario for k in moved.keyframes] == [None, None, PLAN.id, EXISTING]
    assert moved.sample(6.0).scenario is None and moved.sample(8.0).scenario == PLAN.id
    cleared = edit_keyframe(tour, 1, scenario=None)
    assert cleared.sample(6.0).scenario is None


@pytest.mark.parametrize("bad", ["", "   ", 3, ("a",)])
def test_a_scenario_must_be_a_non_empty_string(bad):
    with pytest.raises((ValueError, TypeError), match="scenario"):
        Keyframe(time=0.0, camera=cam(0), scenario=bad)


def test_project_round_trip(tmp_path):
    p = citytwin.Project()
    p.scenarios.append(PLAN)
    tour = p.add_tour(switching_tour())
    path = p.save(tmp_path / "plan.citytwin")
    doc = json.loads(path.read_text("utf-8"))
    keyframes = doc["tours"][0]["keyframes"]
    assert keyframes[1]["scenario"] == PLAN.id and keyframes[3]["scenario"] == "existing"
    assert "scenario" not in keyframes[0]  # no switch: nothing written
    again = read_project(path)
    assert again.tours == [tour] and [k.scenario for k in again.tours[0].keyframes] == [None, PLAN.id, None, "existing"]
    assert encode_project(again, path) == path.read_bytes()  # stable bytes
    # through a scene (the window's open and save): the tour and the scenario it names
    scene = Scene()
    apply_items(scene, again)
    assert list(scene.tours) == [tour] and scene.scenarios.by_id(PLAN.id) == PLAN
    assert project_from_scene(scene).tours == [tour]
    # an empty scenario is a damaged project, in one sentence
    keyframes[1]["scenario"] = ""
    with pytest.raises(ReaderError, match="damaged .*scenario"):
        decode_project(json.dumps(doc).encode())


def test_toml_round_trip(tmp_path):
    tour = switching_tour()
    text = dumps(tour)
    parts = text.split("[[keyframe]]")
    assert f'scenario = "{PLAN.id}"' in parts[2] and 'scenario = "existing"' in parts[4]
    assert "scenario" not in parts[1] and "scenario" not in parts[3]
    again = read_tour(write_tour(tour, tmp_path / "plan.tour.toml"))
    assert again == tour
    assert [again.sample(t).scenario for t in (1.0, 6.0, 12.0)] == [None, PLAN.id, EXISTING]


@pytest.mark.parametrize(("value", "message"), [('""', "scenario"), ("3", "scenario"), ("true", "scenario")])
def test_a_bad_scenario_in_toml_is_one_sentence(value, message):
    text = dumps(switching_tour()).replace(f'scenario = "{PLAN.id}"', f"scenario = {value}")
    with pytest.raises(ReaderError, match=message) as info:
        loads(text)
    assert "\n" not in str(info.value) and str(info.value).endswith(".")
