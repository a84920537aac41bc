"""Comparing two states of the city with a swipe line: the halves line up, each shows its own state."""

from __future__ import annotations

import numpy as np

from citytwin.model.scenario import DeleteObjects, Scenario
from citytwin.render.sun_hours import map_look
from citytwin.sample import sample_path
from citytwin.ui.compare_view import window_centre
from tests.ui.conftest import open_and_wait, reddish, snapshot


def test_window_centre_puts_each_half_where_it_belongs():
    assert window_centre(0.0, 1.0) == 0.0
    assert window_centre(0.0, 0.5) == -1.0 and window_centre(0.5, 1.0) == 1.0


def test_swipe_between_a_scenario_and_the_existing_city(make_window, qtbot):
    window = make_window(size=(1000, 700))
    layer = open_and_wait(qtbot, window, sample_path())
    scene, vp, compare = window.scene, window.viewport, window.compare
    window.looks.final_action.setChecked(False)
    vp.look_filter = map_look  # what the comparison draws with
    vp.apply_look()
    whole = snapshot(window).astype(int)
    w = whole.shape[1]

    # existing | existing: the two halves make the same picture as one view (away from the line)
    window.compare_action.trigger()
    assert compare.active and window.compare_check.isChecked() and window.compare_slider.isEnabled()
    compare.set_other(None)
    split = snapshot(window).astype(int)
    line = int(round(compare.split * w))
    keep = np.r_[0 : line - 4, line + 4 : w]
    diff = np.abs(split[:, keep] - whole[:, keep]).max(axis=2)
    assert np.percentile(diff, 99) <= 10 and diff.mean() < 1.5, (diff.mean(), np.percentile(diff, 99))

    # every building deleted in a scenario: it shows left of the line, the existing city right of it
    o = layer.model.objects
    buildings = tuple(o.ids[i] for i in range(len(o)) if o.types[i] == "Building")
    plan = Scenario(name="Empty", edits=(DeleteObjects(ids=buildings),))
    scene.scenarios.append(plan)
    scene.scenario_id = plan.id
    compare.set_other(None)
    img = snapshot(window)
    left, right = slice(0, line - 4), slice(line + 4, w)
    assert reddish(img[:, left]).sum() < 0.1 * reddish(whole[:, left].astype(np.uint8)).sum()
    assert reddish(img[:, right]).sum() > 0.8 * reddish(whole[:, right].astype(np.uint8)).sum()
    # the line moves; Stop gives back one view
    window.compare_slider.setValue(30)
    assert abs(compare.split - 0.3) < 1e-9
    window.compare_check.setChecked(False)
    assert not compare.active and not window.compare_action.isChecked()
    assert vp.renderer.GetViewport() == (0.0, 0.0, 1.0, 1.0)
