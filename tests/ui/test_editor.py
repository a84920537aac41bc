"""Editing in the window: delete, move and attribute edits in a scenario, drawing a building by clicks, undo/redo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from citytwin.model.project_scene import apply_items, project_from_scene
from citytwin.model.scenario import AddObject, added_ids, deleted_ids, object_changes, object_frame
from citytwin.model.scene import Scene
from citytwin.render.offscreen import OffscreenScene
from citytwin.sample import sample_path
from citytwin.ui.selection import select
from tests.ui.conftest import open_and_wait


def _buildings(layer, n):
    objects = layer.model.objects
    roots = objects.roots
    return [i for i in range(len(objects)) if objects.types[i] == "Building" and roots[i] == i][:n]


def test_delete_move_and_edit_attributes_in_a_scenario(make_window, qtbot):
    window = make_window(size=(1000, 700))
    layer = open_and_wait(qtbot, window, sample_path())
    scene, editor, panel = window.scene, window.editor, window.scenarios_panel
    vis = window.viewport.visual(layer)
    a, b, c = _buildings(layer, 3)
    ids = layer.model.objects.ids
    drawn_before = len(vis.drawn_triangles)
    assert panel.list.count() == 1 and panel.list.item(0).text() == "Existing"

    # delete one: "Scenario 1" appears, is shown, and the building's triangles leave the view
    select(scene, layer, (a,))
    window.edit_actions["delete"].trigger()
    assert scene.scenario is not None and scene.scenario.name == "Scenario 1"
    assert deleted_ids(scene.scenario) == {ids[a]}
    assert len(vis.drawn_triangles) < drawn_before
    assert panel.list.count() == 2 and panel.edits.count() == 1 and "Delete" in panel.edits.item(0).text()

    # move another 10 m east and 3 m up, turned 90°
    select(scene, layer, (b,))
    editor.answers = {"transform": {"translate": (10.0, 0.0, 3.0), "rotate_deg": 90.0}}
    window.edit_actions["transform"].trigger()
    t = object_changes(scene.scenario)[ids[b]].transform
    assert t.translate == (10.0, 0.0, 3.0) and t.rotate_deg == 90.0
    before = vis._original_points[vis._object_points(b)].astype(float)
    after = vis.arrays.points[vis._object_points(b)].astype(float)
    (c0, z0), (c1, z1) = object_frame(before), object_frame(after)  # it turns about its own axis
    assert np.allclose(c1 - c0, [10.0, 0.0], atol=0.01) and np.isclose(z1 - z0, 3.0, atol=0.01)
    assert np.allclose(np.ptp(after[:, :2], axis=0), np.ptp(before[:, :2], axis=0)[::-1], atol=0.01)

    # attributes of two objects at once; the inspector shows the scenario's values
    select(scene, layer, (b, c))
    editor.answers = {"attributes": ({"function": "office", "storeysAboveGround": 7}, ())}
    window.edit_actions["attributes"].trigger()
    changes = object_changes(scene.scenario)
    assert changes[ids[c]].set_values == {"function": "office", "storeysAboveGround": 7}
    select(scene, layer, (c,))
    rows = dict(window.inspector.rows)
    assert rows["function"] == "office" and "attributes changed" in rows["Scenario"]
    assert len(scene.scenario.edits) == 3 and panel.edits.count() == 3

    # switching to Existing shows the data as read, instantly; and back
    panel.show_state(None)
    assert len(vis.drawn_triangles) == drawn_before
    assert np.array_equal(vis.arrays.points, vis._original_points)
    assert dict(window.inspector.rows).get("function") != "office"
    scene.undo_stack.undo()  # the switch is an undo step of its own
    assert scene.scenario is not None and len(vis.drawn_triangles) < drawn_before

    # undo every edit: back to the existing city and no scenario
    for _ in range(3):
        scene.undo_stack.undo()
    assert scene.scenario is None and len(scene.scenarios) == 0
    assert len(vis.drawn_triangles) == drawn_before and panel.list.count() == 1


def _draw_by_clicks(window, qtbot, outline=((0, 0), (20, 0), (20, 14), (0, 14)), roof="gabled"):
    """Draw a building on a footprint (default: 20 × 14 m, gabled) by clicks in the top view; return the
    clicked points (world)."""
    scene, editor, vp = window.scene, window.editor, window.viewport
    b = scene.bounds()  # world coordinates (the display CRS), not relative to the origin
    vp.view_preset("top", animate=False)
    vp.finish_animation()
    # a 20 × 14 m footprint in the open band along the district's northern edge
    x0, y0 = b[0] + 0.3 * (b[3] - b[0]), b[4] - 16.0
    corners = np.asarray(outline, float) + [x0, y0]
    window.edit_actions["draw"].trigger()
    assert editor.drawing
    for x, y in corners:
        qx, qy = vp.world_to_qt(np.array([x, y, b[2]]))
        qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    assert len(editor.points) == len(corners)
    clicked = np.array(editor.points)
    assert np.abs(clicked[:, :2] - corners).max() < 1.5  # where they were aimed (a pixel is ~0.6 m here)
    qtbot.keyClick(vp.plotter, Qt.Key.Key_Enter)  # closes the outline
    assert len(editor.rings) == 1 and not editor.points
    editor.answers = {"building": {"height": 12.0, "roof": roof, "roof_height": 4.0}}
    qtbot.keyClick(vp.plotter, Qt.Key.Key_Enter)  # no outline open: height and roof, then the building
    return clicked


def test_draw_a_building_by_clicks_then_undo_and_redo(make_window, qtbot):
    window = make_window(size=(1000, 700))
    open_and_wait(qtbot, window, sample_path())
    scene, editor, vp = window.scene, window.editor, window.viewport
    clicked = _draw_by_clicks(window, qtbot)
    sc = scene.scenario
    assert sc is not None and len(added_ids(sc)) == 1
    edit = sc.edits[-1]
    assert isinstance(edit, AddObject) and edit.cityobject["type"] == "Building"
    v = edit.vertex_array()
    assert np.isclose(v[:, 2].min(), clicked[:, 2].min())  # it stands on the ground it was drawn on
    assert np.isclose(v[:, 2].max() - v[:, 2].min(), 16.0)  # 12 m walls and a 4 m roof
    xy = clicked[:, :2]
    area = 0.5 * abs(np.dot(xy[:, 0], np.roll(xy[:, 1], 1)) - np.dot(xy[:, 1], np.roll(xy[:, 0], 1)))
    assert abs(area - 280.0) < 40.0  # 20 × 14 m
    added = vp.view.scenario_drawing.added_visual
    assert added is not None and len(added.drawn_triangles) > 0
    scene.undo_stack.undo()
    assert scene.scenario is None and vp.view.scenario_drawing.added_visual is None
    scene.undo_stack.redo()
    assert scene.scenario is not None and added_ids(scene.scenario) == {edit.id}
    assert vp.view.scenario_drawing.added_visual is not None
    qtbot.keyClick(vp.plotter, Qt.Key.Key_Escape)
    assert not editor.drawing and not window.edit_actions["draw"].isChecked()


@pytest.mark.parametrize("roof", ["hipped", "gabled"])
def test_draw_an_l_shaped_building_with_a_pitched_roof(make_window, qtbot, roof):
    window = make_window(size=(1000, 700))
    open_and_wait(qtbot, window, sample_path())
    outline = ((0, 0), (20, 0), (20, 6), (8, 6), (8, 14), (0, 14))
    _draw_by_clicks(window, qtbot, outline, roof)
    (edit,) = window.scene.scenario.edits
    geometry = edit.cityobject["geometry"][0]
    assert isinstance(edit, AddObject) and geometry["type"] == "Solid" and geometry["lod"] == "2"
    kinds = [geometry["semantics"]["surfaces"][v]["type"] for v in geometry["semantics"]["values"][0]]
    assert kinds.count("RoofSurface") == (6 if roof == "hipped" else 4)  # one per eave; gabled: two gables
    assert kinds.count("WallSurface") == (6 if roof == "hipped" else 8)
    v = edit.vertex_array()
    assert np.isclose(v[:, 2].max() - v[:, 2].min(), 16.0)  # 12 m walls and a 4 m roof


def test_a_drawn_building_is_picked_selected_moved_edited_and_deleted_like_any_other(make_window, qtbot):
    window = make_window(size=(1000, 700))
    open_and_wait(qtbot, window, sample_path())
    scene, editor, vp = window.scene, window.editor, window.viewport
    clicked = _draw_by_clicks(window, qtbot)
    qtbot.keyClick(vp.plotter, Qt.Key.Key_Escape)
    (oid,) = added_ids(scene.scenario)
    layer = scene.additions
    assert layer is not None and layer.model.objects.ids == [oid] and layer not in scene.layers
    assert layer.name == f"New in {scene.scenario.name}"

    # a click on its roof selects it: the inspector shows it, the view highlights it
    centre = np.append(clicked[:, :2].mean(axis=0), clicked[:, 2].min() + 16.0)
    qx, qy = vp.world_to_qt(centre)
    qtbot.wait(QApplication.doubleClickInterval() + 100)  # not a double click with the last corner's
    qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    qtbot.waitUntil(lambda: layer.selection == (0,), timeout=3000)
    assert window.inspector.layer is layer
    assert window.selection.layer is layer and editor.selected_ids() == [oid]

    # move it 8 m north: its own points move in the added objects' visual, and the edit is in the scenario
    vis = vp.visual(layer)
    assert vis is vp.view.scenario_drawing.added_visual
    before = vis.original_object_points(0)
    editor.answers = {"transform": {"translate": (0.0, 8.0, 0.0)}}
    window.edit_actions["transform"].trigger()
    assert object_changes(scene.scenario)[oid].transform.translate == (0.0, 8.0, 0.0)
    after = vis.arrays.points[vis._object_points(0)].astype(float) + vp.origin
    assert np.allclose(after.mean(axis=0) - before.mean(axis=0), [0.0, 8.0, 0.0], atol=0.01)

    # attributes, as for the data as read
    editor.answers = {"attributes": ({"function": "school"}, ())}
    window.edit_actions["attributes"].trigger()
    assert dict(window.inspector.rows)["function"] == "school"

    # hidden (Edit → Hide), it stays hidden in a still made of the scene and in the project; Show Hidden shows it
    window.edit_actions["hide"].trigger()
    assert scene.additions_hidden_ids == {oid} and len(vis.drawn_triangles) == 0
    with OffscreenScene((320, 240), scene=scene) as off:
        still = off.view.scenario_drawing.added_visual
        assert still is not None and still is not vis and len(still.drawn_triangles) == 0
    project = project_from_scene(scene)
    assert project.added_hidden_ids == [oid]
    reopened = Scene()
    apply_items(reopened, project, camera=False)
    assert reopened.additions_hidden_ids == {oid}
    window.edit_actions["show"].trigger()
    assert scene.additions_hidden_ids == set() and len(vis.drawn_triangles) > 0

    # deleting it takes it out of the scenario with its edits (nothing left to write), in one undo step
    select(scene, layer, (0,))
    window.edit_actions["delete"].trigger()
    assert added_ids(scene.scenario) == set() and len(scene.scenario.edits) == 0
    assert scene.additions is None and vp.view.scenario_drawing.added_visual is None
    scene.undo_stack.undo()
    assert added_ids(scene.scenario) == {oid} and scene.additions is not None
    moved = vp.visual(scene.additions).arrays.points.astype(float) + vp.origin
    assert np.isclose(moved[:, 1].mean() - before[:, 1].mean(), 8.0, atol=0.01)  # drawn as the scenario has it


def test_attribute_values_are_typed():
    import pytest

    from citytwin.ui.editor import parse_value, value_kind

    assert parse_value("Number", "12,5") == 12.5 and parse_value("Integer", "7") == 7
    assert parse_value("Date", "2026-03-21") == "2026-03-21" and parse_value("Yes/No", "yes") is True
    for kind, bad in (("Number", "tall"), ("Integer", "7.5"), ("Date", "21/03/2026"), ("Yes/No", "maybe")):
        with pytest.raises(ValueError):
            parse_value(kind, bad)
    assert [value_kind(v) for v in (True, 3, 2.5, "2026-01-01", "x")] == ["Yes/No", "Integer", "Number", "Date", "Text"]


def test_save_the_scenario_and_never_the_source_silently(make_window, qtbot, tmp_path):
    import shutil

    import citytwin.io
    from tests.io.cityjson_validate import assert_valid_cityjson

    src = tmp_path / "district.city.json"
    shutil.copy(sample_path(), src)
    window = make_window(size=(900, 600))
    layer = open_and_wait(qtbot, window, src)
    scene, editor, saver = window.scene, window.editor, window.scenario_saver
    a, b = _buildings(layer, 2)
    ids = layer.model.objects.ids
    select(scene, layer, (a, b))
    editor.delete_selected()
    x0, y0, z0 = layer.model.bounds[:3]
    corners = [[x0 + 5, y0 + 5, z0], [x0 + 25, y0 + 5, z0], [x0 + 25, y0 + 15, z0], [x0 + 5, y0 + 15, z0]]
    editor.rings = [np.array(corners)]
    added = editor.finish(height=10.0)
    out = tmp_path / "plan.city.json"
    saver.answers = {"path": out}
    window.save_scenario_action.trigger()
    qtbot.waitUntil(lambda: not window.is_busy, timeout=60_000)
    assert out.exists() and saver.last is not None
    again = citytwin.io.read(out)
    got = set(again.objects.ids)
    assert ids[a] not in got and ids[b] not in got and added.id in got
    assert len(got) == len(ids) - 2 + 1 - _parts_of(layer.model, (a, b))
    assert_valid_cityjson(out)
    # the source: refused unless the user says yes, then replaced with a backup kept
    before = src.read_bytes()
    saver.answers = {"path": src, "overwrite": False}
    saver.ask()
    assert src.read_bytes() == before and not window.is_busy
    saver.answers = {"path": src, "overwrite": True}
    saver.ask()
    qtbot.waitUntil(lambda: not window.is_busy, timeout=60_000)
    assert (tmp_path / "district.city.json.bak").read_bytes() == before
    assert added.id in set(citytwin.io.read(src).objects.ids)


def _parts_of(model, roots) -> int:
    """How many objects below these top-level objects (deleted with them)."""
    objects = model.objects
    r = objects.roots
    return sum(1 for i in range(len(objects)) if r[i] in roots and i not in roots)


def test_drag_a_selected_building_on_the_ground(make_window, qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    window = make_window(size=(1000, 700))
    layer = open_and_wait(qtbot, window, sample_path())
    scene, editor, vp = window.scene, window.editor, window.viewport
    (k,) = _buildings(layer, 1)
    vis = vp.visual(layer)
    pts = vis.original_object_points(k)
    centre = np.concatenate([(pts.min(axis=0)[:2] + pts.max(axis=0)[:2]) / 2, [pts[:, 2].max()]])
    b = np.concatenate([pts.min(axis=0), pts.max(axis=0)]) - np.tile(scene.origin, 2)
    vp.view_preset("top", bounds=b + np.array([-40, -40, 0, 40, 40, 0]), animate=False)
    vp.finish_animation()
    select(scene, layer, (k,))
    window.edit_actions["move"].trigger()
    assert editor.moving
    start = np.array(vp.world_to_qt(centre))
    target = np.array(vp.world_to_qt(centre + [12.0, 0.0, 0.0]))

    def send(kind, pos, buttons):
        button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        ev = QMouseEvent(kind, QPointF(*pos), QPointF(*pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp.plotter, ev)

    left = Qt.MouseButton.LeftButton
    send(QMouseEvent.Type.MouseButtonPress, start, left)
    for f in (0.25, 0.5, 0.75, 1.0):
        send(QMouseEvent.Type.MouseMove, start + f * (target - start), left)
    assert scene.scenario is None  # only a preview while dragging …
    moved = vis.arrays.points[vis._object_points(k)].astype(float) + vp.origin
    assert np.isclose(moved[:, 0].mean() - pts[:, 0].mean(), 12.0, atol=0.3)
    send(QMouseEvent.Type.MouseButtonRelease, target, Qt.MouseButton.NoButton)
    t = object_changes(scene.scenario)[layer.model.objects.ids[k]].transform  # … the edit comes on release
    assert abs(t.translate[0] - 12.0) < 0.3 and abs(t.translate[1]) < 0.3 and t.translate[2] == 0.0
    scene.undo_stack.undo()
    assert np.array_equal(vis.arrays.points, vis._original_points)


def test_duplicate_and_import_a_proposal_that_cuts_out_what_it_replaces(make_window, qtbot, tmp_path):
    import trimesh

    from citytwin.model.scenario import deleted_ids

    window = make_window(size=(1000, 700))
    layer = open_and_wait(qtbot, window, sample_path())
    scene, editor = window.scene, window.editor
    (k,) = _buildings(layer, 1)
    vis = window.viewport.visual(layer)
    pts = vis.original_object_points(k)
    select(scene, layer, (k,))
    window.edit_actions["duplicate"].trigger()
    (copy,) = [e for e in scene.scenario.edits if isinstance(e, AddObject)]
    v = copy.vertex_array()
    assert np.isclose(v[:, 0].min() - pts[:, 0].min(), np.ptp(pts[:, 0]) + 2.0, atol=1e-3)  # beside it, clear
    assert copy.cityobject["type"] == "Building"
    assert vis is not None and window.viewport.view.scenario_drawing.added_visual is not None

    # a 30 × 30 × 40 m tower over that building: it is cut out in the same undo step
    box = trimesh.creation.box(extents=(30.0, 30.0, 40.0))
    path = tmp_path / "tower.obj"
    box.export(path)
    centre = np.concatenate([(pts.min(axis=0)[:2] + pts.max(axis=0)[:2]) / 2, [pts[:, 2].min()]])
    editor.answers = {"cut_out": True}
    n_before = len(scene.scenario.edits)
    editor.import_proposal(path, position=centre)
    qtbot.waitUntil(lambda: editor.last_proposal is not None, timeout=30_000)
    add, under = editor.last_proposal
    assert layer.model.objects.ids[k] in under and layer.model.objects.ids[k] in deleted_ids(scene.scenario)
    assert add.cityobject["geometry"][0]["type"] == "Solid"
    va = add.vertex_array()
    assert np.isclose(np.ptp(va[:, 2]), 40.0) and np.isclose(va[:, 2].min(), centre[2])
    assert len(scene.scenario.edits) == n_before + 2
    scene.undo_stack.undo()  # the proposal and the cut-out go together
    assert len(scene.scenario.edits) == n_before
