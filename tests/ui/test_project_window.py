"""Projects in the window: save and reopen, the unsaved mark, closing, crash recovery, missing and bad files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from citytwin.io.project import read_project
from citytwin.model.annotations import make_bookmark, make_pin
from citytwin.model.project import Project
from citytwin.model.project_scene import layer_settings
from citytwin.model.semantics import SurfaceClass
from citytwin.sample import sample_path
from tests.ui.conftest import open_and_wait, wait_loaded

Button = QMessageBox.StandardButton


def wait_project(qtbot, window, timeout: int = 60_000) -> None:
    """Wait until a project's files are in and its items and camera applied."""
    qtbot.waitUntil(lambda: not window.session.is_opening and not window.is_loading, timeout=timeout)
    qtbot.wait(10)


def _messages(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    return shown


def _one_sentence(text: str) -> bool:
    return "\n" not in text and "Traceback" not in text and text.endswith(".") and text.count(". ") == 0


def _edit(window, layer) -> None:
    """Change how the district looks, add a pin and a bookmark, and move the camera (as a user would)."""
    scene = window.scene
    scene.set(layer, "opacity", 0.55)
    scene.set(layer, "hidden_semantics", frozenset({int(SurfaceClass.ROOF)}))
    scene.set(layer, "colour_mode", "single")
    scene.set(layer, "single_colour", (0.2, 0.4, 0.6))
    scene.set(layer, "hidden_types", frozenset({"SolitaryVegetationObject"}))
    b = layer.model.bounds
    centre = ((b[0] + b[3]) / 2, (b[1] + b[4]) / 2, float(b[5]))
    scene.add_item(make_pin(centre, "Town hall", object_id="x", source=layer.source.id, icon="star"))
    window.view_preset("north", 40.0)
    window.viewport.finish_animation()
    scene.add_item(make_bookmark("From the north", scene.camera))
    window.view_preset("top")
    window.viewport.finish_animation()


def _cameras_close(a, b) -> bool:
    """Every field within 1e-6 of its size (view_up is a unit vector: 1e-6 absolute)."""

    def close(u, v) -> bool:
        u, v = np.atleast_1d(np.asarray(u, float)), np.atleast_1d(np.asarray(v, float))
        return bool(np.linalg.norm(u - v) <= 1e-6 * max(np.linalg.norm(v), 1.0))

    return all(close(getattr(a, f), getattr(b, f)) for f in ("position", "focal_point", "view_up", "view_angle"))


def test_save_then_reopen_in_a_new_window_restores_everything(qtbot, make_window, tmp_path):
    first = make_window()
    layer = open_and_wait(qtbot, first, sample_path())
    _edit(first, layer)
    saved_camera = first.scene.camera
    path = tmp_path / "district.citytwin"
    assert first.save_project(path)
    assert path.is_file()
    assert first.windowTitle() == "district[*] — citytwin"

    second = make_window()
    assert second.open_project(path)
    wait_project(qtbot, second)
    assert len(second.scene.layers) == 1
    again = second.scene.layers[0]
    assert again.name == layer.name
    assert again.source.id == layer.source.id and again.source.path == str(sample_path().resolve())
    assert layer_settings(again) == layer_settings(layer)
    assert again.opacity == 0.55 and again.colour_mode == "single"
    assert list(second.scene.pins) == list(first.scene.pins)
    assert list(second.scene.bookmarks) == list(first.scene.bookmarks)
    assert _cameras_close(second.scene.camera, saved_camera), (second.scene.camera, saved_camera)
    # the view shows the saved camera (not only the model holding it)
    pose = second.viewport.current_pose()
    assert np.allclose(pose.position + second.scene.origin, saved_camera.position, rtol=1e-6)
    # opening is not an edit
    assert not second.scene.undo_stack.can_undo
    assert not second.isWindowModified()
    assert second.windowTitle() == "district[*] — citytwin"
    assert str(path.resolve()) in second.recent_files()


def test_unsaved_mark_appears_after_a_change_and_goes_after_save(qtbot, make_window, tmp_path):
    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    assert window.windowTitle() == "Untitled[*] — citytwin"
    assert not window.isWindowModified(), "opening a file into an untitled project is nothing to lose"
    window.scene.set(layer, "opacity", 0.3)
    assert window.isWindowModified()
    assert window.save_project(tmp_path / "mine.citytwin")
    assert not window.isWindowModified()
    assert window.windowTitle() == "mine[*] — citytwin"
    window.scene.undo_stack.undo()
    assert window.isWindowModified(), "undoing past the save is a change"
    window.scene.undo_stack.redo()
    assert not window.isWindowModified()
    # a file added to a saved project is a change
    open_and_wait(qtbot, window, sample_path())
    assert window.isWindowModified()
    assert window.save_project()
    project = read_project(tmp_path / "mine.citytwin")
    assert [s.id for s in project.sources] == ["sample_district.city.json", "sample_district.city.json-2"]
    assert (tmp_path / "mine.citytwin.bak").is_file()


def test_closing_new_and_open_with_unsaved_changes_ask(qtbot, make_window, tmp_path):
    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    path = tmp_path / "p.citytwin"
    assert window.save_project(path)
    window.scene.set(layer, "opacity", 0.25)

    window.session.answers["unsaved"] = Button.Cancel
    assert not window.close()
    assert window.isVisible()
    kind, text = window.session.asked[-1]
    assert kind == "unsaved" and text == "Save the changes to p before closing it?"
    assert not window.new_project()
    assert len(window.scene.layers) == 1, "Cancel leaves the scene as it was"
    assert not window.open_project(path)
    assert window.scene.layers[0] is layer

    window.session.answers["unsaved"] = Button.Save
    assert window.close()
    assert read_project(path).sources[0].layer.opacity == 0.25


def test_new_project_empties_the_scene(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    window.scene.add_item(make_pin((389_900.0, 5_800_300.0, 40.0), "here"))
    window.scene.set(layer, "opacity", 0.5)
    assert window.new_project()  # the fixture answers Discard
    assert len(window.scene.layers) == 0 and len(window.scene.pins) == 0
    assert window.scene.origin is None and not window.isWindowModified()
    assert window.windowTitle() == "Untitled[*] — citytwin"
    open_and_wait(qtbot, window, sample_path())  # the next file gets a fresh view
    assert window.scene.camera is not None


def test_autosave_and_recovery_after_a_crash(qtbot, make_window, tmp_path, _isolated_state):
    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    copy = window.session.recovery_file
    assert copy.parent == _isolated_state / "recovery"
    assert not window.session.autosave(), "nothing to save: no copy"
    # the timer writes one when there are unsaved changes
    window.scene.set(layer, "opacity", 0.4)
    window.session.autosave_interval = 0.05
    qtbot.waitUntil(copy.is_file, timeout=5000)
    copy.unlink()
    window.session.autosave_interval = 600
    # and so does every tenth change
    for i in range(8):  # changes 2 to 9
        window.scene.set(layer, "opacity", 0.3 + i / 100)
    assert not copy.exists()
    window.scene.add_item(make_pin((389_900.0, 5_800_300.0, 40.0), "Before the crash"))  # the tenth
    qtbot.waitUntil(copy.is_file, timeout=5000)
    left_behind = copy.read_bytes()
    window.close()  # a clean close (changes discarded) deletes the copy
    assert not copy.exists()
    # a crash: the process ended without closing, its copy stays
    crashed = _isolated_state / "recovery" / "autosave-999999999-dead.citytwin"
    crashed.write_bytes(left_behind)

    fresh = make_window()
    fresh.session.answers["recover"] = Button.Yes
    assert fresh.session.check_recovery()
    wait_project(qtbot, fresh)
    kind, text = fresh.session.asked[-1]
    assert kind == "recover" and "Recover it?" in text
    assert "not its undo history" in text and not fresh.scene.undo_stack.can_undo, "recovery keeps no history"
    assert [p.title for p in fresh.scene.pins] == ["Before the crash"]
    assert fresh.scene.layers[0].opacity == pytest.approx(0.37)
    assert fresh.isWindowModified(), "recovered work is not saved yet"
    assert not crashed.exists() and fresh.session.recovery_file.is_file(), "the copy is this window's now"
    # a second start does not offer it again while this window is open
    other = make_window()
    assert not other.session.check_recovery()


def test_declining_recovery_discards_the_copy(qtbot, make_window, _isolated_state):
    folder = _isolated_state / "recovery"
    folder.mkdir(parents=True)
    crashed = folder / "autosave-999999999-x.citytwin"
    Project().save(crashed)
    window = make_window()
    assert not window.session.check_recovery()  # the fixture answers No
    assert not crashed.exists()
    assert window.windowTitle() == "Untitled[*] — citytwin"


def test_missing_file_is_named_in_one_sentence_and_can_be_located(qtbot, make_window, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sample_path(), data / "district.city.json")
    project = Project()
    project.add_source(data / "district.city.json")
    project.add_source(tmp_path / "gone" / "trees.city.json", lod_max=2.0)
    pin = project.add_pin((389_900.0, 5_800_300.0, 40.0), "Still here")
    path = project.save(tmp_path / "p.citytwin")

    window = make_window()
    assert window.open_project(path)
    wait_project(qtbot, window)
    assert [layer.name for layer in window.scene.layers] == ["district.city.json"]
    assert list(window.scene.pins) == [pin]
    kind, text = window.session.asked[-1]
    assert kind == "missing"
    assert text == f"trees.city.json is missing (it was in {tmp_path / 'gone'}); the rest of the project is open."
    assert _one_sentence(text)
    assert window.statusBar().currentMessage() == text
    assert window.locate_action.isEnabled()
    assert not window.isWindowModified()

    # saving keeps the missing file in the project
    assert window.save_project()
    assert [s.id for s in read_project(path).sources] == ["district.city.json", "trees.city.json"]

    found = tmp_path / "moved" / "trees.city.json"
    found.parent.mkdir()
    shutil.copy(sample_path(), found)
    assert window.locate_source("trees.city.json", found)
    wait_loaded(qtbot, window)
    assert [layer.name for layer in window.scene.layers] == ["district.city.json", "trees.city.json"]
    assert window.scene.layers[1].source.load.lod_max == 2.0, "read with its own settings"
    assert window.isWindowModified()
    assert not window.locate_action.isEnabled()
    assert window.save_project()
    assert read_project(path).source("trees.city.json").path == str(found)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b'{"schema": 99, "sources": []}', "newer citytwin"),
        (b'{"schema": 1, "sources": [{"id": 5}]}', "damaged"),
        (b'{"schema": 1, "sources": [', "not valid JSON"),
        (b"\x00\xff\x00garbage", "not valid JSON"),
    ],
    ids=["newer", "wrong-type", "truncated", "binary"],
)
def test_bad_project_is_one_sentence_and_leaves_the_scene(qtbot, make_window, tmp_path, monkeypatch, content, expected):
    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    pin = make_pin((389_900.0, 5_800_300.0, 40.0), "mine")
    window.scene.add_item(pin)
    camera = window.scene.camera
    shown = _messages(monkeypatch)
    bad = tmp_path / "bad.citytwin"
    bad.write_bytes(content)
    assert not window.open_project(bad)
    assert len(shown) == 1 and expected in shown[0], shown
    assert _one_sentence(shown[0].split(": ", 1)[1]), shown[0]
    assert list(window.scene.layers) == [layer] and list(window.scene.pins) == [pin]
    assert window.scene.camera == camera
    assert window.session.path is None and window.isWindowModified()
    assert not window.session.asked, "nothing to ask: the project never opened"


def test_command_line_and_drop_open_a_project(qtbot, make_window, tmp_path):
    project = Project()
    project.add_source(sample_path())
    pin = project.add_pin((389_900.0, 5_800_300.0, 40.0), "From the command line")
    path = project.save(tmp_path / "cli.citytwin")

    window = make_window(paths=[str(path)])  # what `citytwin cli.citytwin` does
    wait_project(qtbot, window)
    assert window.windowTitle() == "cli[*] — citytwin"
    assert len(window.scene.layers) == 1 and list(window.scene.pins) == [pin]

    other = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    other.dropEvent(event)
    wait_project(qtbot, other)
    assert other.session.path == path.resolve()
    assert list(other.scene.pins) == [pin]


def test_a_second_open_or_a_cancel_while_a_project_opens(qtbot, make_window, tmp_path):
    first, second = Project(), Project()
    first.add_source(sample_path())
    first.add_pin((389_900.0, 5_800_300.0, 40.0), "A")
    second.add_source(sample_path(), name="B's district")
    pin_b = second.add_pin((389_900.0, 5_800_300.0, 40.0), "B")
    a, b = first.save(tmp_path / "a.citytwin"), second.save(tmp_path / "b.citytwin")

    window = make_window()
    assert window.open_project(a)
    assert window.open_project(b)  # before a's file is in
    wait_project(qtbot, window)
    qtbot.wait(100)  # a's cancelled read reports back
    assert [layer.name for layer in window.scene.layers] == ["B's district"]
    assert list(window.scene.pins) == [pin_b]
    assert window.windowTitle() == "b[*] — citytwin" and not window.isWindowModified()

    # cancelling the read keeps the file in the project, and its pins still come
    assert window.open_project(a)
    window.cancel_loading()
    wait_project(qtbot, window)
    assert len(window.scene.layers) == 0
    assert [p.title for p in window.scene.pins] == ["A"]
    assert not window.session.missing(), "a cancelled file is not missing"
    assert window.save_project()
    assert [s.id for s in read_project(a).sources] == ["sample_district.city.json"]


def test_a_terrain_is_saved_with_the_project_and_made_again_on_open(qtbot, make_window, tmp_path):
    from tests.conftest import shared_file

    first = make_window()
    cloud = open_and_wait(qtbot, first, shared_file("lidar/ahn3_cropped_1.laz"))
    first.make_terrain(cloud, resolution=2.0)
    qtbot.waitUntil(lambda: not first.is_busy, timeout=30_000)
    terrain = first.scene.layers[-1]
    assert terrain.derived is not None and terrain.derived.source == cloud.source.id
    first.scene.set(terrain, "opacity", 0.6)
    path = tmp_path / "dtm.citytwin"
    assert first.save_project(path)
    assert "Not in the project" not in first.statusBar().currentMessage()
    project = read_project(path)
    assert [(d.derive, d.source, d.terrain.resolution) for d in project.derived] == [("terrain", cloud.source.id, 2.0)]
    assert project.derived[0].layer.opacity == pytest.approx(0.6)

    second = make_window()
    assert second.open_project(path)
    wait_project(qtbot, second)
    assert [type(la).__name__ for la in second.scene.layers] == ["PointCloudLayer", "CityModelLayer"]
    again = second.scene.layers[1]
    assert again.name == terrain.name and again.opacity == pytest.approx(0.6) and again.colour_mode == "elevation"
    np.testing.assert_array_equal(again.model.mesh.vertices, terrain.model.mesh.vertices)
    assert second.viewport.visual(again) is not None
    assert not second.isWindowModified() and not second.scene.undo_stack.can_undo
    # saved again, the project is the same
    assert second.session.current_project().derived == project.derived
