"""The Sun Hours dock: compute on a worker thread, show the map over the view, cancel, compare, export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from citytwin.render.looks import active_passes
from citytwin.sample import sample_path
from tests.ui.conftest import open_and_wait

pytestmark = pytest.mark.filterwarnings("ignore:Leap seconds:UserWarning")


def _compute(qtbot, panel, timeout=120_000):
    with qtbot.waitSignal(panel.finished, timeout=timeout) as blocker:
        panel.compute_button.click()
    return blocker.args[0]


def test_sun_hours_map_in_the_window_and_its_export(make_window, qtbot, tmp_path):
    window = make_window(size=(900, 600))
    panel = window.sun_hours_panel
    assert not panel.compute_button.isEnabled() and panel.reason.text().endswith(".")
    open_and_wait(qtbot, window, sample_path())
    assert panel.compute_button.isEnabled() and not panel.reason.isVisible()
    vp = window.viewport
    panel.grid_spin.setValue(8.0)
    panel.step_combo.setCurrentIndex(panel.step_combo.findData(60))
    assert _compute(qtbot, panel) == ""
    res = panel.result
    assert res is not None and not res.is_difference and res.grid == 8.0 and res.step_minutes == 60
    assert 11.0 < res.day_length < 13.5  # 21 March: about 12 h
    assert "open ground" in panel.summary.text()
    names = set(vp.plotter.actors)
    assert {"sun-hours-ground", "sun-hours-facades", "sun-hours-legend"} <= names
    # while the map is shown the view has no shadows or ambient occlusion, even at rest in final quality
    qtbot.waitUntil(lambda: vp.quality == "final", timeout=5000)
    assert active_passes(vp.plotter) == []
    # the export draws the map and its legend (inferno's pale yellow top in the legend)
    out = tmp_path / "sun.png"
    with qtbot.waitSignal(window.exporter.finished, timeout=60_000) as done:
        panel.export_image(out, (800, 500))
    assert done.args == [str(out), ""]
    img = np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3).astype(int)
    assert (np.abs(img - [252, 255, 164]).max(axis=1) <= 30).sum() > 200
    csv = tmp_path / "sun.csv"
    res.to_csv(csv)
    lines = csv.read_text().splitlines()
    assert lines[0] == "x,y,z,nx,ny,nz,hours,kind" and len(lines) == len(res.points) + 1
    # Clear: the map goes, the look comes back
    panel.clear_button.click()
    assert not ({"sun-hours-ground", "sun-hours-legend"} & set(vp.plotter.actors))
    assert vp.look_filter is None and panel.result is None


def test_cancel_and_compare_without_a_layer(make_window, qtbot):
    window = make_window(size=(900, 600))
    panel = window.sun_hours_panel
    open_and_wait(qtbot, window, sample_path())
    # cancelled at the first step: nothing shown, the window stays usable
    panel.grid_spin.setValue(4.0)
    panel.step_combo.setCurrentIndex(panel.step_combo.findData(5))
    panel.thread = None
    with qtbot.waitSignal(panel.finished, timeout=120_000) as blocker:
        panel.compute_button.click()
        assert panel.cancel_button.isVisible() and not panel.compute_button.isEnabled()
        panel.cancel_button.click()
    assert blocker.args == [""] and panel.result is None
    assert "Cancelled" in panel.summary.text() and panel.compute_button.isEnabled()
    # without the only layer: everything the district shades comes back, so the difference is ≤ 0
    layer = window.scene.layers[0].name
    panel.compare_combo.setCurrentIndex(panel.compare_combo.findText(layer))
    panel.grid_spin.setValue(8.0)
    panel.step_combo.setCurrentIndex(panel.step_combo.findData(60))
    assert _compute(qtbot, panel) == ""
    res = panel.result
    assert res.is_difference
    ground = res.ground_hours[~res.covered]
    assert np.nanmax(ground) <= 1e-9 and np.nanmin(ground) < -3.0
    assert "difference" in panel.summary.text()
