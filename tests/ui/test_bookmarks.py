"""Bookmarks and the camera dialog in the real window (Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLineEdit

from citytwin.model.annotations import make_bookmark
from citytwin.model.camera import CameraState
from citytwin.render.camera import CameraPose
from citytwin.ui.bookmarks_panel import THUMBNAIL_SIZE, current_camera, thumbnail_png
from citytwin.ui.item_list_model import MIME_ITEMS
from tests.ui.conftest import open_and_wait


@pytest.fixture
def district(qtbot, make_window):
    from citytwin.sample import sample_path

    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    window.viewport.finish_animation()
    return window, layer


def _pose(window, az_offset: float, distance: float = 180.0, angle: float = 30.0) -> CameraPose:
    """A pose looking at the middle of the district from a compass direction."""
    from citytwin.ui.viewport import pose_from_angles

    b = window.scene.bounds() - np.tile(window.scene.origin, 2)
    centre = (b[:3] + b[3:]) / 2
    return pose_from_angles(centre, 200.0 + az_offset, 35.0, distance, angle)


def _assert_same_camera(actual: CameraState, expected: CameraState) -> None:
    """Equal within 1e-6 of the viewing distance (positions are ~5.8e6 m: a plain rtol would allow metres)."""
    scale = expected.distance
    for name in ("position", "focal_point"):
        a, e = np.asarray(getattr(actual, name)), np.asarray(getattr(expected, name))
        assert np.abs(a - e).max() <= 1e-6 * scale, f"{name}: {a} != {e}"
    assert np.abs(np.subtract(actual.view_up, expected.view_up)).max() <= 1e-6
    assert actual.view_angle == pytest.approx(expected.view_angle, rel=1e-6)


def _click_bookmark(qtbot, panel, row: int) -> None:
    index = panel.model.index(row, 0)
    rect = panel.view.visualRect(index)
    assert rect.isValid() and not rect.isEmpty()
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_bookmark_flies_back_to_the_saved_camera(qtbot, district):
    window, _layer = district
    vp, panel = window.viewport, window.bookmarks_panel
    vp.fly_to(_pose(window, 0.0, angle=27.5), animate=False)
    saved = current_camera(vp)
    window.add_bookmark_action.trigger()  # View → Add Bookmark (Ctrl+B)
    assert len(window.scene.bookmarks) == 1
    bookmark = window.scene.bookmarks[0]
    assert bookmark.name == "View 1"
    assert bookmark.camera == saved
    # a small PNG of the view
    assert bookmark.thumbnail is not None and bookmark.thumbnail.startswith(b"\x89PNG")
    img = QImage.fromData(bookmark.thumbnail, "PNG")
    assert (img.width(), img.height()) == THUMBNAIL_SIZE
    assert len(bookmark.thumbnail) < 60_000
    # the dock shows it with its name and thumbnail
    assert panel.model.rowCount() == 1
    assert panel.model.data(panel.model.index(0, 0)) == "View 1"
    assert not panel.model.data(panel.model.index(0, 0), Qt.ItemDataRole.DecorationRole).isNull()
    assert not panel.placeholder.isVisible()

    vp.view_preset("top", animate=False)  # somewhere else
    moved = current_camera(vp)
    assert np.linalg.norm(np.subtract(moved.position, saved.position)) > 10
    _click_bookmark(qtbot, panel, 0)
    assert vp.animating, "a click on a bookmark flies there (animated)"
    vp.finish_animation()
    _assert_same_camera(current_camera(vp), saved)
    _assert_same_camera(window.scene.camera, saved)
    # the animation also ends there by itself
    vp.view_preset("top", animate=False)
    _click_bookmark(qtbot, panel, 0)
    qtbot.waitUntil(lambda: not vp.animating, timeout=5000)
    _assert_same_camera(current_camera(vp), saved)


def test_rename_reorder_update_delete_and_undo_redo(qtbot, district):
    window, _layer = district
    vp, panel, scene = window.viewport, window.bookmarks_panel, window.scene
    for k in range(3):
        vp.fly_to(_pose(window, 60.0 * k), animate=False)
        window.add_bookmark_action.trigger()
    assert window.add_bookmark_action.shortcut().toString() == "Ctrl+B"
    assert [b.name for b in scene.bookmarks] == ["View 1", "View 2", "View 3"]
    start = list(scene.bookmarks)
    history: list[list] = [list(scene.bookmarks)]

    # rename: F2 on the selected thumbnail, type, Enter
    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.model.index(1, 0))
    qtbot.keyClick(panel.view, Qt.Key.Key_F2)
    editor = panel.view.findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    qtbot.keyClicks(editor, "Town hall")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: scene.bookmarks[1].name == "Town hall", timeout=2000)  # the delegate commits queued
    assert panel.model.data(panel.model.index(1, 0)) == "Town hall"
    assert scene.bookmarks[1].camera == start[1].camera
    history.append(list(scene.bookmarks))

    # reorder: the selected one up
    panel.select(scene.bookmarks[1])
    panel.up_button.click()
    assert [b.name for b in scene.bookmarks] == ["Town hall", "View 1", "View 3"]
    assert panel.current_bookmark().name == "Town hall"
    history.append(list(scene.bookmarks))
    # … and by a drop (what a drag in the view ends in): View 3 before View 1
    mime = panel.model.mimeData([panel.model.index(2, 0)])
    assert mime.hasFormat(MIME_ITEMS)
    panel.model.dropMimeData(mime, Qt.DropAction.MoveAction, 1, 0, QModelIndex())
    assert [b.name for b in scene.bookmarks] == ["Town hall", "View 3", "View 1"]
    history.append(list(scene.bookmarks))
    # a thumbnail dropped on the left half of another lands before it, on the right half after it
    rect = panel.view.visualRect(panel.model.index(1, 0))
    assert panel.view.drop_slot(rect.center() - QPoint(rect.width() // 4, 0)) == 1
    assert panel.view.drop_slot(rect.center() + QPoint(rect.width() // 4, 0)) == 2
    assert panel.view.drop_slot(QPoint(panel.view.viewport().width() - 2, panel.view.viewport().height() - 2)) == 3

    # update to the current view: new camera and thumbnail
    target = scene.bookmarks[2]
    vp.view_preset("top", animate=False)
    panel.select(target)
    panel.update_button.click()
    updated = scene.bookmarks[2]
    assert updated.id == target.id and updated.name == target.name
    assert updated.camera == current_camera(vp) != target.camera
    assert updated.thumbnail != target.thumbnail
    history.append(list(scene.bookmarks))

    # delete
    panel.select(scene.bookmarks[0])
    panel.delete_button.click()
    assert [b.name for b in scene.bookmarks] == ["View 3", "View 1"]
    history.append(list(scene.bookmarks))

    # undo everything, one step at a time: each state comes back exactly (the same objects)
    for state in reversed(history[:-1]):
        window.undo_action.trigger()
        assert list(scene.bookmarks) == state
        assert all(a is b for a, b in zip(scene.bookmarks, state, strict=True))
        assert [panel.model.data(panel.model.index(r, 0)) for r in range(panel.model.rowCount())] == [
            b.name for b in state
        ]
    assert list(scene.bookmarks) == start
    for state in history[1:]:
        window.redo_action.trigger()
        assert list(scene.bookmarks) == state
    # the three add steps are undoable too
    for _ in range(len(history) - 1 + 3):
        scene.undo_stack.undo()
    assert len(scene.bookmarks) == 0
    assert panel.placeholder.isVisible()


def test_item_list_model_keeps_qt_consistent(qtbot, district, qtmodeltester):
    window, _layer = district
    scene, panel = window.scene, window.bookmarks_panel
    cam = current_camera(window.viewport)
    for name in "abc":
        scene.add_item(make_bookmark(name, cam))
    qtmodeltester.check(panel.model, force_py=True)
    scene.move_item(scene.bookmarks[0], 2)
    scene.remove_item(scene.bookmarks[1])
    scene.edit_item(scene.bookmarks[0], name="z")
    scene.bookmarks.clear()  # what opening a project does
    scene.bookmarks.extend([make_bookmark("p", cam), make_bookmark("q", cam)])
    assert [panel.model.data(panel.model.index(r, 0)) for r in range(panel.model.rowCount())] == ["p", "q"]


def test_camera_dialog_shows_applies_and_saves_a_view(qtbot, district):
    window, _layer = district
    vp, scene = window.viewport, window.scene
    vp.fly_to(_pose(window, 30.0), animate=False)
    before = current_camera(vp)
    window.camera_action.trigger()
    dialog = window.camera_dialog
    assert dialog is not None and dialog.isVisible()
    assert "EPSG:25832" in dialog.crs_label.text()
    shown = [float(e.text()) for e in dialog.position]
    assert np.abs(np.subtract(shown, before.position)).max() < 1e-6  # micrometre decimals
    # Apply without typing leaves the camera exactly where it is
    dialog.apply(animate=False)
    after = current_camera(vp)
    assert (after.position, after.focal_point, after.view_angle) == (before.position, before.focal_point, 30.0)
    _assert_same_camera(after, before)
    # typed numbers move it there
    target_pos = np.add(before.focal_point, (-120.25, -80.5, 95.125))
    target_focal = np.add(before.focal_point, (10.0, 5.0, 0.0))
    for edits, values in ((dialog.position, target_pos), (dialog.focal, target_focal)):
        for e, v in zip(edits, values, strict=True):
            e.setText(f"{v:.6f}")
    dialog.fov.setValue(40.0)
    dialog.apply_button.click()
    vp.finish_animation()
    now = current_camera(vp)
    assert np.abs(np.subtract(now.position, target_pos)).max() < 1e-6
    assert np.abs(np.subtract(now.focal_point, target_focal)).max() < 1e-6
    assert now.view_angle == pytest.approx(40.0)
    assert now.view_up[2] > 0.5  # level horizon
    # a number that is not one says so
    dialog.position[0].setText("east")
    assert dialog.camera() is None and dialog.error_label.text()
    dialog.load_current()
    assert not dialog.error_label.text()
    # Save as Bookmark
    dialog.bookmark_button.click()
    assert len(scene.bookmarks) == 1
    _assert_same_camera(scene.bookmarks[0].camera, now)
    dialog.close()


def test_thumbnail_is_the_middle_of_the_view():
    img = np.zeros((300, 900, 3), np.uint8)
    img[:, 300:600] = (255, 0, 0)  # a red middle third
    png = thumbnail_png(img)
    q = QImage.fromData(png, "PNG").convertToFormat(QImage.Format.Format_RGB888)
    assert (q.width(), q.height()) == THUMBNAIL_SIZE
    centre = q.pixelColor(q.width() // 2, q.height() // 2)
    edge = q.pixelColor(2, q.height() // 2)
    assert (centre.red(), centre.green()) == (255, 0)
    assert edge.red() == 0  # cut to 16:9 around the middle, not squeezed
