"""The look in the window: the View → Look presets, draft while moving and final at rest, the Sun control."""

from __future__ import annotations

from PySide6.QtCore import QDateTime

from citytwin.model.looks import LOOKS
from citytwin.render.looks import active_passes
from citytwin.sample import sample_path
from citytwin.ui.viewport import REFINE_MS
from tests.ui.conftest import open_and_wait


def test_look_menu_is_a_radio_group_and_undoable(make_window, qtbot):
    window = make_window(size=(640, 420))
    looks = window.looks
    assert list(looks.look_actions) == list(LOOKS) and looks.look_group.isExclusive()
    assert looks.look_actions["Daylight"].isChecked()
    looks.look_actions["White model"].trigger()
    assert window.scene.look is LOOKS["White model"] and looks.look_actions["White model"].isChecked()
    window.scene.undo_stack.undo()
    assert window.scene.look is LOOKS["Daylight"] and looks.look_actions["Daylight"].isChecked()


def test_moving_draws_draft_and_resting_refines_to_final(make_window, qtbot):
    window = make_window(size=(640, 420))
    open_and_wait(qtbot, window, sample_path())
    vp = window.viewport
    window.looks.look_actions["Soft"].trigger()  # SSAO in final quality
    assert vp.quality == "draft" and active_passes(vp.plotter) == []
    qtbot.waitUntil(lambda: vp.quality == "final", timeout=REFINE_MS + 3000)
    assert "vtkSSAOPass" in active_passes(vp.plotter)
    # the first frame of a move is a draft one: the passes are gone before anything is drawn
    vp._begin_interaction()
    assert vp.quality == "draft" and active_passes(vp.plotter) == []
    qtbot.wait(REFINE_MS + 200)
    assert vp.quality == "draft", "no refinement while the camera moves"
    vp._end_interaction()
    assert vp.quality == "draft"  # it waits for the camera to rest …
    qtbot.waitUntil(lambda: vp.quality == "final", timeout=REFINE_MS + 3000)  # … then refines
    # View → Final Quality off: the view stays draft
    window.looks.final_action.setChecked(False)
    assert vp.quality == "draft"
    qtbot.wait(REFINE_MS + 200)
    assert vp.quality == "draft"


def test_sun_control_sets_an_undoable_sun_and_says_why_when_it_cannot(make_window, qtbot):
    window = make_window(size=(640, 420))
    looks = window.looks
    assert not looks.sun_check.isEnabled() and looks.sun_reason.text().endswith(".")
    open_and_wait(qtbot, window, sample_path())  # EPSG:25832, in Germany
    assert looks.sun_check.isEnabled() and not looks.sun_reason.isVisible()
    looks.sun_edit.setDateTime(QDateTime.fromString("2026-06-21T09:30", "yyyy-MM-ddTHH:mm"))
    looks.sun_check.setChecked(True)
    sun = window.scene.sun
    assert sun is not None and (sun.hour, sun.minute) == (9, 30) and sun.utcoffset().total_seconds() == 7200
    looks.sun_check.setChecked(False)
    assert window.scene.sun is None
    window.scene.undo_stack.undo()
    assert window.scene.sun == sun and looks.sun_check.isChecked()
