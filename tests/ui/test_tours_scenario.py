"""Scenario switches in the Tours dock (Xvfb): set and undo a keyframe's scenario, preview it, keep the list in sync."""

from __future__ import annotations

import pytest

from citytwin.model.scenario import DeleteObjects, Scenario
from citytwin.model.tours import EXISTING
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


def _entries(panel) -> list[tuple[str, str]]:
    combo = panel.scenario_combo
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]


def test_set_a_keyframes_scenario_through_the_combo_and_undo_it(qtbot, window):
    panel, scene = window.tours_panel, window.scene
    objects = scene.layers[0].model.objects
    building = next(o.id for o in objects if o.type == "Building")
    plan = Scenario(name="Plan", edits=(DeleteObjects(ids=(building,)),))
    scene.scenarios.append(plan)
    tour = _add_tour(window)
    panel.select_keyframe(1)
    assert _entries(panel) == [("(no change)", ""), ("Existing", EXISTING), ("Plan", plan.id)]
    assert panel.scenario_combo.currentIndex() == 0

    # choosing "Plan" is one undoable keyframe edit
    panel.scenario_combo.setCurrentIndex(panel.scenario_combo.findData(plan.id))
    edited = scene.tours[0]
    assert [k.scenario for k in edited.keyframes] == [None, plan.id, None]
    assert scene.undo_stack.undo_text.startswith("Edit") and scene.undo_stack.undo()  # one step
    assert scene.tours[0] == tour and panel.scenario_combo.currentIndex() == 0
    assert scene.undo_stack.redo() and scene.tours[0] == edited
    assert panel.scenario_combo.currentData() == plan.id
    assert scene.scenario_id is None  # the scene's own scenario is not touched

    # the preview shows the plan from keyframe 2 on, the scene's own before it and after stopping
    view = window.viewport.view
    panel.scrub(edited.keyframes[1].time - 0.5)
    assert view.shown_scenario is None and view.scenario_drawing.scenario is None
    panel.scrub(edited.keyframes[1].time + 0.5)
    assert view.shown_scenario is plan and view.scenario_drawing.scenario is plan
    assert scene.scenario_id is None
    panel.stop()
    assert view.scenario_drawing.scenario is None

    # the list follows the project's scenarios: a rename, a new one, a deleted one still selected
    renamed = scene.edit_item(plan, name="Plan B")
    assert _entries(panel)[2] == ("Plan B", plan.id) and panel.scenario_combo.currentText() == "Plan B"
    other = Scenario(name="Other")
    scene.scenarios.append(other)
    assert _entries(panel)[3] == ("Other", other.id)
    panel.scenario_combo.setCurrentIndex(panel.scenario_combo.findData(EXISTING))
    assert scene.tours[0].keyframes[1].scenario == EXISTING
    scene.undo_stack.undo()
    assert scene.tours[0].keyframes[1].scenario == plan.id
    scene.scenarios.remove(renamed)
    assert panel.scenario_combo.currentData() == plan.id and "deleted" in panel.scenario_combo.currentText()
    assert [d for _, d in _entries(panel)].count(plan.id) == 1

    # undo: the scenario back, then the keyframe without a switch
    scene.scenarios.insert(0, renamed)
    assert scene.undo_stack.undo()  # the rename
    assert scene.undo_stack.undo()  # the keyframe's scenario
    assert scene.tours[0] == tour
    assert panel.scenario_combo.currentIndex() == 0 and panel.scenario_combo.currentText() == "(no change)"
