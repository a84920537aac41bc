"""Sun times in the Tours dock (Xvfb): set and undo a keyframe's sun, preview it, make a sun study."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QDateTime

from citytwin.model.camera import CameraState
from citytwin.model.sun import local_zone, parse_local_time, scene_lonlat, solar_position, sun_unavailable_reason
from citytwin.model.tours import Keyframe, Tour
from citytwin.render.looks import scene_sun
from citytwin.sample import sample_path
from tests.ui.conftest import wait_loaded
from tests.ui.test_tours_panel import _add_tour


@pytest.fixture
def window(qtbot, make_window):
    w = make_window([str(sample_path())])
    wait_loaded(qtbot, w)
    w.viewport.finish_animation()
    w.tours_dock.show()
    w.tours_dock.raise_()
    qtbot.wait(20)
    return w


def _set_edit(panel, text: str) -> None:
    panel.sun_edit.setDateTime(QDateTime.fromString(text, "yyyy-MM-ddTHH:mm"))


def test_set_a_keyframes_sun_through_the_form_and_undo_it(qtbot, window):
    panel, scene = window.tours_panel, window.scene
    place = scene_lonlat(scene)
    assert place is not None
    tour = _add_tour(window)
    panel.select_keyframe(0)
    assert panel.sun_check.isEnabled() and not panel.sun_check.isChecked() and not panel.sun_edit.isEnabled()

    _set_edit(panel, "2026-03-21T09:00")  # unchecked: only the field changes
    assert scene.tours[0] == tour
    panel.sun_check.setChecked(True)
    nine = parse_local_time("2026-03-21T09:00", *place)
    assert scene.tours[0].keyframes[0].sun == nine and panel.sun_edit.isEnabled()
    _set_edit(panel, "2026-03-21T10:00")
    _set_edit(panel, "2026-03-21T10:30")  # steps of the field fold into one undo step
    ten_thirty = parse_local_time("2026-03-21T10:30", *place)
    assert scene.tours[0].keyframes[0].sun == ten_thirty
    assert ten_thirty.astimezone(local_zone(*place)).hour == 10  # local time of the scene's place

    # the last keyframe at 17:00: the sun moves evenly between them, and the form shows it
    panel.select_keyframe(2)
    assert not panel.sun_check.isChecked()
    assert panel.sun_edit.dateTime().toString("HH:mm") == "10:30"  # the tour's sun there so far
    _set_edit(panel, "2026-03-21T17:00")
    panel.sun_check.setChecked(True)
    five = parse_local_time("2026-03-21T17:00", *place)
    edited = scene.tours[0]
    assert edited.keyframes[2].sun == five and edited.keyframes[1].sun is None
    assert edited.sample(4.0).sun == ten_thirty + (five - ten_thirty) / 2

    # playing it lights the view from the frame's sun; stopping brings the scene's own back
    panel.scrub(4.0)
    assert window.viewport.tour_sun == pytest.approx(solar_position(edited.sample(4.0).sun, *place))
    assert window.viewport._look_rig.sun == window.viewport.tour_sun
    panel.stop()
    assert window.viewport.tour_sun is None and window.viewport._look_rig.sun == scene_sun(scene)

    # undo: the last keyframe's sun, the field's steps (one), then setting it at all
    assert scene.undo_stack.undo()
    assert scene.tours[0].keyframes[2].sun is None
    panel.select_keyframe(0)
    assert scene.undo_stack.undo()
    assert scene.tours[0].keyframes[0].sun == nine
    assert panel.sun_check.isChecked() and panel.sun_edit.dateTime().toString("HH:mm") == "09:00"
    assert scene.undo_stack.undo()
    assert scene.tours[0] == tour
    assert not panel.sun_check.isChecked() and not panel.sun_edit.isEnabled()
    for _ in range(3):
        assert scene.undo_stack.redo()
    assert scene.tours[0] == edited

    # unchecking clears it, as one more undoable edit
    panel.select_keyframe(0)
    panel.sun_check.setChecked(False)
    assert scene.tours[0].keyframes[0].sun is None
    assert scene.undo_stack.undo() and scene.tours[0] == edited


def test_sun_study_from_the_new_menu_uses_the_scenes_date(qtbot, window):
    panel, scene = window.tours_panel, window.scene
    place = scene_lonlat(scene)
    scene.sun = parse_local_time("2026-06-21T15:00", *place)
    panel._update_new_menu()
    assert panel.new_sun_study_action.isEnabled() and "2026-06-21" in panel.new_sun_study_action.toolTip()
    tour = panel.new_sun_study()
    assert tour is not None and tour.name == "Sun study 2026-06-21" and scene.tours[-1] == tour
    zone = local_zone(*place)
    first, last = tour.keyframes[0].sun.astimezone(zone), tour.keyframes[-1].sun.astimezone(zone)
    assert first.date() == last.date() == date(2026, 6, 21) and first.hour < 7 and last.hour >= 21
    assert panel.current_tour() == tour and panel.sun_check.isChecked()
    assert scene.undo_stack.undo() and len(scene.tours) == 0
    # without a sun set: today's date
    scene.sun = None
    assert panel.sun_study_day() == date.today() or abs((panel.sun_study_day() - date.today()).days) == 1


def test_a_scene_without_a_place_on_earth_has_no_sun_to_set(qtbot, make_window):
    window = make_window([])
    panel, scene = window.tours_panel, window.scene
    reason = sun_unavailable_reason(scene)
    assert reason is not None
    panel._update_new_menu()
    assert not panel.new_sun_study_action.isEnabled() and panel.new_sun_study_action.toolTip() == reason
    cam = CameraState((0.0, 0.0, 100.0), (10.0, 10.0, 0.0))
    tour = Tour(name="x", keyframes=[Keyframe(time=0, camera=cam), Keyframe(time=2, camera=cam)])
    scene.add_item(tour)
    panel.select_tour(tour)
    assert not panel.sun_check.isEnabled() and panel.sun_check.toolTip() == reason
    assert not panel.sun_edit.isEnabled()
