"""Looks as data: presets, checks, the scene's undoable look and sun, the project round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import numpy as np
import pytest

from citytwin.model.looks import DEFAULT_LOOK, LOOKS, SSAO, Fog, Look, Materials, Shadows, colour_jitter, look_by_name
from citytwin.model.project import Project
from citytwin.model.project_scene import apply_items, clear_scene, project_from_scene
from citytwin.model.scene import Scene

CET = timezone(timedelta(hours=1))


def test_presets_and_names():
    assert list(LOOKS) == ["Daylight", "Soft", "White model", "Dark", "Blueprint"]
    assert DEFAULT_LOOK is LOOKS["Daylight"] and DEFAULT_LOOK.shadows.on and not DEFAULT_LOOK.ssao.on
    assert LOOKS["Soft"].ssao.on and not LOOKS["Soft"].shadows.on
    white = LOOKS["White model"]
    assert white.materials.monochrome is not None and white.materials.edges
    for name, look in LOOKS.items():
        assert look.name == name and look_by_name(name.upper()) is look
    assert look_by_name("  white   MODEL ") is white


def test_unknown_look_is_one_sentence_listing_the_names():
    with pytest.raises(ValueError) as err:
        look_by_name("Sepia")
    text = str(err.value)
    assert "Sepia" in text and all(name in text for name in LOOKS) and text.count(".") == 1


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Look(antialiasing="ssaa"),
        lambda: Look(name=" "),
        lambda: Materials(colour_variation=1.5),
        lambda: Materials(monochrome=(1.0, 2.0, 0.0)),
        lambda: SSAO(kernel_size=0),
        lambda: Shadows(resolution=1000),
        lambda: Fog(start=2.0, end=1.0),
    ],
)
def test_checks_are_one_sentence(bad):
    with pytest.raises(ValueError) as err:
        bad()
    assert "\n" not in str(err.value)


def test_colour_jitter_is_deterministic_subtle_and_vectorised():
    ids = [f"building-{k}" for k in range(2000)]
    a, b = colour_jitter(ids, 0.1), colour_jitter(list(ids), 0.1)
    assert a.dtype == np.float32 and a.shape == (2000,) and np.array_equal(a, b)
    assert 0.95 <= a.min() < 0.96 and 1.04 < a.max() <= 1.05 and a.std() > 0.02
    assert np.array_equal(colour_jitter(ids, 0.0), np.ones(2000, np.float32))


def test_scene_look_and_sun_are_undoable_and_announced():
    scene = Scene()
    seen: list[str] = []
    scene.settings_changed.connect(seen.append)
    assert scene.look is DEFAULT_LOOK and scene.sun is None
    scene.set(scene, "look", LOOKS["Dark"])
    when = datetime(2026, 3, 21, 15, 0, tzinfo=CET)
    scene.set(scene, "sun", when)
    assert scene.look.name == "Dark" and scene.sun == when and seen == ["look", "sun"]
    scene.undo_stack.undo()
    assert scene.sun is None
    scene.undo_stack.undo()
    assert scene.look is DEFAULT_LOOK
    with pytest.raises(ValueError):
        scene.sun = datetime(2026, 3, 21, 15, 0)  # no time zone


def test_a_preset_and_the_sun_round_trip_through_the_project(tmp_path):
    scene = Scene()
    scene.look = LOOKS["White model"]
    scene.sun = datetime(2026, 3, 21, 15, 0, tzinfo=CET)
    project = project_from_scene(scene)
    assert project.look == LOOKS["White model"] and project.sun == "2026-03-21T15:00:00+01:00"
    path = project.save(tmp_path / "p.citytwin")
    again = Project.open(path)
    assert again.look == LOOKS["White model"] and again.sun == project.sun
    other = Scene()
    apply_items(other, again)
    assert other.look == LOOKS["White model"] and other.sun == scene.sun
    clear_scene(other)
    assert other.look is DEFAULT_LOOK and other.sun is None
    # a file without a look (written before looks) opens with the default one
    plain = msgspec.json.decode(msgspec.json.encode(Project()), type=dict)
    plain.pop("look", None)
    assert msgspec.convert(plain, Project).look == DEFAULT_LOOK
