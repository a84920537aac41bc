"""The Tours dock in the real window (Xvfb): make, edit, retime, preview and exchange tours."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from citytwin.io.tours_toml import read_tour
from citytwin.model.camera import CameraState
from citytwin.model.tours import Caption, Keyframe, Tour
from citytwin.render.camera import CameraPose
from citytwin.sample import sample_path
from citytwin.ui.selection import select
from tests.ui.conftest import wait_loaded


@pytest.fixture
def window(qtbot, make_window):
    w = make_window([str(sample_path())])
    wait_loaded(qtbot, w)
    w.viewport.finish_animation()
    w.tours_dock.show()
    w.tours_dock.raise_()
    qtbot.wait(20)
    return w


def _centre(window) -> np.ndarray:
    b = np.asarray(window.scene.bounds(), float)
    return (b[:3] + b[3:]) / 2


def _cameras(window, n: int = 3) -> list[CameraState]:
    """Cameras around the district's middle, looking at it."""
    c = _centre(window)
    return [CameraState(tuple(c + [400 * np.sin(a), 400 * np.cos(a), 250]), tuple(c)) for a in np.linspace(0, 2, n)]


def _add_tour(window, times=(0.0, 4.0, 8.0), **first) -> Tour:
    cams = _cameras(window, len(times))
    keyframes = [
        Keyframe(time=t, camera=cam, **(first if i == 0 else {}))
        for i, (t, cam) in enumerate(zip(times, cams, strict=True))
    ]
    tour = Tour(name="Test tour", keyframes=keyframes)
    window.scene.add_item(tour)
    window.tours_panel.select_tour(tour)
    return window.scene.tours.by_id(tour.id)


def _fly(window, camera: CameraState) -> None:
    window.viewport.fly_to(CameraPose.from_state(camera, window.viewport.origin), animate=False)


def _view_camera(window) -> CameraState:
    return window.viewport.current_pose().to_state(window.viewport.origin)


def _assert_same_camera(actual: CameraState, expected: CameraState) -> None:
    """Equal within 1e-6 of the viewing distance (coordinates are ~5.8e6 m: a plain rtol would allow metres)."""
    scale = expected.distance
    for name in ("position", "focal_point"):
        a, e = np.asarray(getattr(actual, name)), np.asarray(getattr(expected, name))
        assert np.abs(a - e).max() <= 1e-6 * scale, f"{name}: {a} != {e}"
    d = np.subtract(expected.focal_point, expected.position)
    d /= np.linalg.norm(d)
    up = np.asarray(expected.view_up, float) - d * np.dot(expected.view_up, d)  # VTK keeps it orthogonal
    assert np.abs(np.asarray(actual.view_up) - up / np.linalg.norm(up)).max() <= 1e-6
    assert actual.view_angle == pytest.approx(expected.view_angle, rel=1e-6)


def test_new_tour_from_view_then_keyframes_at_the_playhead(qtbot, window):
    panel, scene = window.tours_panel, window.scene
    assert window.tours_dock in window.tabifiedDockWidgets(window.bookmarks_dock) or window.bookmarks_dock in (
        window.tabifiedDockWidgets(window.tours_dock)
    )
    assert panel.placeholder.isVisible()
    start = _view_camera(window)
    panel.new_view_action.trigger()
    assert len(scene.tours) == 1 and panel.current_tour() is scene.tours[0]
    tour = scene.tours[0]
    assert [k.time for k in tour.keyframes] == [0.0, 5.0]
    assert all(k.camera == start for k in tour.keyframes)
    assert panel.current_keyframe == 1 and not panel.placeholder.isVisible()
    cams = _cameras(window)
    _fly(window, cams[1])
    panel.update_key_button.click()  # the selected keyframe takes the view
    assert scene.tours[0].keyframes[1].camera == _view_camera(window) and scene.tours[0].keyframes[0].camera == start
    scene.undo_stack.undo()

    # the playhead is at the start, not between keyframes: the view is appended 5 s after the last
    _fly(window, cams[0])
    qtbot.mouseClick(panel.add_view_button, Qt.MouseButton.LeftButton)
    tour = scene.tours[0]
    assert [k.time for k in tour.keyframes] == [0.0, 5.0, 10.0]
    assert tour.keyframes[2].camera == _view_camera(window) and panel.current_keyframe == 2

    # scrub to 2.5 s on the timeline (previews the tour there), move the camera, add: inserted at the playhead
    tl = panel.timeline
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=QPoint(round(tl.x_of(2.5)), 6))
    assert panel.player.active and not panel.player.playing
    t = panel.playhead
    assert abs(t - 2.5) < 0.2
    _assert_same_camera(_view_camera(window), tour.sample(panel.player.position).camera)
    _fly(window, cams[1])
    here = _view_camera(window)
    panel.add_view()
    tour = scene.tours[0]
    assert len(tour.keyframes) == 4 and panel.current_keyframe == 1
    assert tour.keyframes[1].time == pytest.approx(t, abs=0.006) and tour.keyframes[1].camera == here
    assert [k.time for k in tour.keyframes[2:]] == [5.0, 10.0]
    assert "0:02.5" in panel.time_label.text() and panel.time_label.text().endswith("/ 0:10.0")
    scene.undo_stack.undo()
    assert len(scene.tours[0].keyframes) == 3 and panel.timeline.tour is scene.tours[0]

    # a bookmark as a keyframe, through the Add Bookmark menu
    from citytwin.model.annotations import make_bookmark

    scene.add_item(make_bookmark("North", cams[2]))
    panel.bookmark_menu.aboutToShow.emit()
    (action,) = [a for a in panel.bookmark_menu.actions() if a.text() == "North"]
    panel.stop()
    action.trigger()
    assert scene.tours[0].keyframes[-1].camera == cams[2] and scene.tours[0].keyframes[-1].time == 15.0
    # Go To flies the view to the selected keyframe
    panel.select_keyframe(2)
    panel.goto_button.click()
    window.viewport.finish_animation()
    _assert_same_camera(_view_camera(window), cams[0])


def test_drag_a_marker_retimes_it_in_one_undo_step(qtbot, window):
    panel, scene = window.tours_panel, window.scene
    tour = _add_tour(window)
    tl = panel.timeline
    start = tl.marker_pos(1).toPoint()
    target = QPoint(round(tl.x_of(5.5)), start.y())
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, pos=start)
    for x in np.linspace(start.x(), target.x(), 6)[1:]:
        qtbot.mouseMove(tl, QPoint(round(x), start.y()))
    assert scene.tours[0] is tour, "the tour changes once, on release"
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, pos=target)
    moved = scene.tours[0]
    assert moved.keyframes[1].time == pytest.approx(5.5, abs=0.11)
    assert [k.time for k in moved.keyframes[::2]] == [0.0, 8.0]
    assert panel.current_keyframe == 1 and panel.time_spin.value() == pytest.approx(moved.keyframes[1].time)
    assert tl.marker_pos(1).x() == pytest.approx(tl.x_of(moved.keyframes[1].time))
    scene.undo_stack.undo()
    assert scene.tours[0] == tour

    # a drag stops short of the neighbour: never an invalid tour
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(tl, QPoint(round(tl.x_of(20.0)), start.y()))
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, pos=QPoint(round(tl.x_of(20.0)), start.y()))
    assert 4.0 < scene.tours[0].keyframes[1].time < 8.0
    scene.undo_stack.undo()

    # a click selects without retiming
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=tl.marker_pos(2).toPoint())
    assert panel.current_keyframe == 2 and scene.tours[0] == tour

    # a typed time past the neighbour: a sentence in the dock, the tour as it was
    panel.select_keyframe(1)
    history = scene.undo_stack.undo_text
    panel.time_spin.setValue(9.0)
    assert scene.tours[0] == tour
    assert "must come after" in panel.error_text and panel.error_text.endswith(".")
    assert panel.error_label.isVisible() and panel.error_text[0].isupper()
    assert panel.time_spin.value() == 4.0
    assert scene.undo_stack.undo_text == history
    panel.time_spin.setValue(3.0)
    assert scene.tours[0].keyframes[1].time == 3.0 and panel.error_text == ""
    # reorder: the contents move through the times
    panel.select_keyframe(0)
    panel.later_button.click()
    swapped = scene.tours[0]
    assert [k.time for k in swapped.keyframes] == [0.0, 3.0, 8.0] and panel.current_keyframe == 1
    assert swapped.keyframes[0].camera == tour.keyframes[1].camera
    assert swapped.keyframes[1].camera == tour.keyframes[0].camera
    panel.earlier_button.click()
    assert scene.tours[0].keyframes[0].camera == tour.keyframes[0].camera and panel.current_keyframe == 0
    # deleting down to one keyframe is refused the same way
    panel.delete_keyframe()
    panel.delete_keyframe()
    assert len(scene.tours[0].keyframes) == 2 and not panel.delete_key_button.isEnabled()


def test_form_edits_are_undoable_exactly(qtbot, window):
    panel, scene = window.tours_panel, window.scene
    tour = _add_tour(window)
    layer = scene.layers[0]
    panel.select_keyframe(0)
    panel.interpolation_combo.setCurrentIndex(panel.interpolation_combo.findData("linear"))
    panel.easing_combo.setCurrentIndex(panel.easing_combo.findData("ease-in-out"))
    panel.constant_speed_check.setChecked(True)
    panel.pause_spin.setValue(1.5)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    panel.caption_title.setFocus()
    qtbot.keyClicks(panel.caption_title, "Harbour")
    qtbot.keyClick(panel.caption_title, Qt.Key.Key_Space)  # a text field keeps its Space
    assert not panel.player.active and panel.caption_title.text() == "Harbour "
    qtbot.keyClick(panel.caption_title, Qt.Key.Key_Return)
    panel.caption_subtitle.setText("Since 1850")
    panel.caption_subtitle.editingFinished.emit()
    panel.caption_duration.setValue(2.0)
    k = scene.tours[0].keyframes[0]
    assert (k.interpolation, k.easing, k.constant_speed, k.pause) == ("linear", "ease-in-out", True, 1.5)
    assert k.caption == Caption(title="Harbour", subtitle="Since 1850", duration=2.0)

    # a layer fade: "set here", then the slider
    panel.select_keyframe(1)
    row = panel._layer_rows.index(layer.name)
    panel.layers_table.item(row, 1).setCheckState(Qt.CheckState.Checked)
    assert layer.name in scene.tours[0].keyframes[1].layers
    cell = panel.layers_table.cellWidget(row, 2)
    cell.slider.setValue(40)
    cell.slider.setValue(50)  # steps of the same slider fold into one undo step
    assert scene.tours[0].keyframes[1].layers[layer.name] == pytest.approx(0.5)
    # the filter: a numeric attribute, then its maximum
    assert "yearOfConstruction" in [panel.filter_combo.itemData(i) for i in range(panel.filter_combo.count())]
    assert "function" not in [panel.filter_combo.itemData(i) for i in range(panel.filter_combo.count())]
    panel.filter_combo.setCurrentIndex(panel.filter_combo.findData("yearOfConstruction"))
    panel.filter_max.setValue(1950.0)
    f = scene.tours[0].keyframes[1].filter
    assert f.attribute == "yearOfConstruction" and f.max == 1950.0
    final = scene.tours[0]
    assert final.keyframes[2] == tour.keyframes[2] and final.keyframes[0].time == 0.0

    steps = 0
    while scene.tours[0] != tour:
        assert scene.undo_stack.undo()
        steps += 1
    assert steps == 11, "one undo step per edit"
    assert panel.caption_title.text() == "" and panel.filter_combo.currentData() == ""
    for _ in range(steps):
        scene.undo_stack.redo()
    assert scene.tours[0] == final
    assert panel.current_keyframe == 1 and panel.filter_max.value() == 1950.0

    # an edit from elsewhere shows at once
    scene.edit_item(scene.tours[0], name="Renamed")
    assert panel.model.data(panel.model.index(0, 0)) == "Renamed"
    # the timeline shows the caption span and the segment setting follows the selected keyframe
    panel.select_keyframe(0)
    assert panel.interpolation_combo.currentData() == "linear" and panel.caption_duration.value() == 2.0
    panel.select_keyframe(2)
    assert not panel.interpolation_combo.isEnabled(), "the last keyframe has no segment after it"


def test_play_follows_the_tour_and_stop_ends_it(qtbot, window):
    panel, scene = window.tours_panel, window.scene
    tour = _add_tour(window, times=(0.0, 0.6, 1.2), caption=Caption(title="Old town", subtitle="1850"))
    before = _view_camera(window)
    window.activateWindow()  # shortcuts work in the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.viewport.plotter.setFocus()
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Space)
    assert not panel.player.active, "Space in the view is not the dock's"
    panel.timeline.setFocus()
    qtbot.keyClick(panel.timeline, Qt.Key.Key_Space)  # Space plays while the dock has focus
    assert panel.player.playing and panel.play_button.text() == "Pause"
    assert "Old town" in panel.caption_text and "1850" in panel.caption_text
    qtbot.waitUntil(lambda: panel.player.position > 0.3, timeout=5000)
    panel.play_button.click()  # pause
    assert not panel.player.playing and panel.player.active
    t = panel.player.position
    assert 0.3 < t < 1.2 and panel.playhead == t
    camera = _view_camera(window)
    assert np.linalg.norm(np.subtract(camera.position, before.position)) > 1.0
    _assert_same_camera(camera, tour.sample(t).camera)

    panel.toggle_play()
    qtbot.waitUntil(lambda: not panel.player.playing, timeout=5000)  # the end of the tour
    assert panel.player.position == pytest.approx(tour.duration)
    _assert_same_camera(_view_camera(window), tour.keyframes[-1].camera)
    assert panel.caption_text == ""
    panel.stop_button.click()
    assert not panel.player.active and panel.playhead == 0.0 and not panel.stop_button.isEnabled()
    assert scene.camera == _view_camera(window), "stopping publishes the view's camera"

    # loop: still playing past the end; deleting the tour ends the preview
    panel.loop_button.setChecked(True)
    panel.toggle_play()
    qtbot.wait(1500)
    assert panel.player.playing
    panel.delete_current()
    assert not panel.player.active and len(scene.tours) == 0


def test_orbit_preset_and_toml_round_trip(qtbot, window, tmp_path, monkeypatch):
    panel, scene = window.tours_panel, window.scene
    orbit = panel.new_orbit()
    assert orbit is not None and orbit.name == "Orbit" and len(orbit.keyframes) >= 17
    np.testing.assert_allclose(orbit.keyframes[0].camera.focal_point, _centre(window), atol=1e-6)
    # with a building selected, it circles that building
    layer = scene.layers[0]
    objects = layer.model.objects
    building = next(i for i, t in enumerate(objects.types) if t == "Building")
    select(scene, layer, (building,))
    panel.new_menu.aboutToShow.emit()
    assert objects.ids[building] in panel.new_orbit_action.text()
    panel.new_orbit_action.trigger()
    around = scene.tours[-1]
    assert objects.ids[building] in around.name and panel.current_tour() is around
    b = window.selection_world_bounds()
    np.testing.assert_allclose(around.keyframes[5].camera.focal_point, (b[:3] + b[3:]) / 2, atol=1e-6)
    assert around.duration == pytest.approx(20.0)

    # export, delete, import: the same tour
    target = tmp_path / "orbit.tour.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Tours (*.toml)"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), "Tours (*.toml)"))
    panel.export_action.trigger()
    assert target.exists() and read_tour(target) == around
    panel.delete_current()
    assert scene.tours.by_id(around.id) is None
    panel.import_action.trigger()
    assert scene.tours[-1] == around and panel.current_tour() == around
    # importing it again keeps both: a fresh id and name
    panel.import_action.trigger()
    again = scene.tours[-1]
    assert again.id != around.id and again.name != around.name and again.keyframes == around.keyframes
    # a broken file is one sentence in the dock
    target.write_text("name = 'x'\n[[keyframe]]\ntime = 'soon'\n")
    n = len(scene.tours)
    panel.import_action.trigger()
    assert len(scene.tours) == n and panel.error_text and "\n" not in panel.error_text

    # duplicate, reorder, the video export hand-over
    copy = panel.duplicate_current()
    assert copy.keyframes == again.keyframes and scene.tours[-1] is copy
    panel.move_current(-1)
    assert scene.tours[-2].id == copy.id and panel.current_tour().id == copy.id
    calls = []
    monkeypatch.setattr(window, "export_video", calls.append, raising=False)
    panel.refresh()
    assert panel.export_video_button.isEnabled()
    panel.export_video_button.click()
    assert calls == [panel.current_tour()]
