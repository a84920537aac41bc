"""The desktop viewer in a real window (Xvfb): loading, layer tree, pixels, picking, search, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from citytwin.model.semantics import SurfaceClass
from tests.conftest import shared_file
from tests.ui.conftest import open_and_wait, reddish, snapshot, wait_loaded

B1 = "citygml/b1_lod2_cs_w_sem.gml"
ROTTERDAM = "cityjson/rotterdam/rotterdam_subset.json"


def _tree_labels(window):
    model = window.layer_panel.model
    out = {}
    for r in range(model.rowCount()):
        top = model.index(r, 0)
        children = []
        stack = [top]
        while stack:
            idx = stack.pop()
            for i in range(model.rowCount(idx)):
                child = model.index(i, 0, idx)
                children.append(model.data(child))
                stack.append(child)
        out[model.data(top)] = children
    return out


def test_open_file_fills_layer_tree_and_status(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(B1))
    tree = _tree_labels(window)
    assert list(tree) == ["b1_lod2_cs_w_sem.gml"]
    assert "Buildings (1)" in tree["b1_lod2_cs_w_sem.gml"]
    assert {"Roofs", "Walls", "Ground surfaces"} <= set(tree["b1_lod2_cs_w_sem.gml"])
    assert layer.model.objects.ids[0] == "Building_1"
    window._update_counts()
    assert window.counts_label.text() == "1 objects · 18 triangles"
    # the model fills the view: something other than sky in the middle
    img = snapshot(window)
    h, w, _ = img.shape
    centre = img[h // 2 - 5 : h // 2 + 5, w // 2 - 5 : w // 2 + 5].reshape(-1, 3).astype(int)
    sky_like = (centre[:, 2] > centre[:, 0] + 20).all()
    assert not sky_like, "the building is not drawn in the middle of the view"
    assert str(shared_file(B1).resolve()) in window.recent_files()


def _top_view(window, world_bounds=None):
    """Look straight down at the scene (or at a box in the source CRS) and return the pixels."""
    local = None
    if world_bounds is not None:
        o = np.tile(window.scene.origin, 2)
        local = np.asarray(world_bounds, float) - o
    window.viewport.view_preset("top", bounds=local, animate=False)
    return snapshot(window)


def _cluster_bounds(model, indices):
    """World bounds of some objects (the Rotterdam subset has one building 500 m from the others)."""
    from citytwin.ui.object_stats import object_bounds

    boxes = np.stack([object_bounds(model, i) for i in indices])
    return np.concatenate([boxes[:, :3].min(axis=0), boxes[:, 3:].max(axis=0)])


def test_unchecking_roofs_hides_roof_pixels_and_undo_restores(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(ROTTERDAM))
    before = reddish(_top_view(window, _cluster_bounds(layer.model, range(15)))).sum()
    assert before > 2000, "the roofs should cover much of a top view"
    model = window.layer_panel.model
    roofs = model.find(layer, "semantic", int(SurfaceClass.ROOF))
    assert roofs.isValid()
    assert model.setData(roofs, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert SurfaceClass.ROOF in layer.hidden_semantics
    qtbot.wait(50)
    after = reddish(snapshot(window)).sum()
    assert after < before * 0.01, f"roof pixels still drawn ({after} of {before})"
    # undo through the menu action restores the roofs and the tick
    window.undo_action.trigger()
    assert SurfaceClass.ROOF not in layer.hidden_semantics
    assert model.data(roofs, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    qtbot.wait(50)
    assert reddish(snapshot(window)).sum() > before * 0.9


def test_hiding_a_layer_and_undo(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(B1))
    img = _top_view(window)
    sky = snapshot(window)[2, 2].astype(int)
    model = window.layer_panel.model
    top = model.layer_index(layer)
    model.setData(top, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert layer.visible is False
    hidden = snapshot(window)
    h, w, _ = hidden.shape
    centre = hidden[h // 2, w // 2].astype(int)
    assert np.abs(centre - sky).max() < 60, "the hidden layer is still drawn"
    assert reddish(hidden).sum() == 0
    window.scene.undo_stack.undo()
    assert layer.visible is True
    assert model.data(top, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert reddish(snapshot(window)).sum() == pytest.approx(reddish(img).sum(), rel=0.05)


def _roof_point(model, index):
    """World point at the centre of the highest roof triangle of a building."""
    mesh = model.mesh
    from citytwin.ui.object_stats import object_triangles

    tris, _ = object_triangles(model, index)
    pts = mesh.vertices[mesh.triangles[tris]]  # (T, 3, 3)
    areas = mesh.triangle_areas()[tris]
    top = np.argmax(pts[:, :, 2].mean(axis=1) + (areas > 1.0) * 1000)
    return pts[top].mean(axis=0)


def test_a_double_click_in_the_view_keeps_its_handling(qtbot, make_window):
    """pyvista put its own interactor style back after a double click: orbiting and selecting were gone."""
    from citytwin.sample import sample_path

    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    objects = layer.model.objects
    target = next(i for i in range(len(objects)) if objects.types[i] == "Building")
    vp = window.viewport
    _top_view(window, _cluster_bounds(layer.model, [target]))
    for _ in range(2):  # two quick clicks on the sky: a double click for VTK
        qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    assert vp.plotter.iren.interactor.GetInteractorStyle() is vp._style
    qtbot.wait(500)  # not part of the double click
    qx, qy = vp.world_to_qt(_roof_point(layer.model, target))
    qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    qtbot.waitUntil(lambda: layer.selection == (target,), timeout=3000)


def test_click_on_building_shows_it_in_inspector(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(ROTTERDAM))
    objects = layer.model.objects
    target = next(i for i in range(len(objects)) if objects.types[i] == "Building" and i > 3)
    _top_view(window, _cluster_bounds(layer.model, range(15)))
    qx, qy = window.viewport.world_to_qt(_roof_point(layer.model, target))
    qtbot.mouseClick(window.viewport.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    qtbot.waitUntil(lambda: layer.selection == (target,), timeout=3000)
    ins = window.inspector
    assert ins.id_label.text() == objects.ids[target]
    assert ins.type_label.text() == "Building"
    rows = dict(ins.rows)
    for name, value in objects.attributes[target].items():
        assert name in rows, f"attribute {name} missing from the inspector"
        assert str(value) in rows[name] or rows[name] in str(value)
    assert rows["Height"].endswith(" m") and rows["Footprint"].endswith(" m²")
    assert objects.ids[target] in ins.text()
    # the selection is tinted in the view
    img = snapshot(window)
    px = img[round(qy), round(qx)].astype(int)
    assert px[0] > 150 and px[1] > 100 and px[2] < 120, f"selected roof not highlighted: {px}"
    # clicking the sky clears it
    qtbot.mouseClick(window.viewport.plotter, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    qtbot.waitUntil(lambda: layer.selection == (), timeout=3000)
    assert not ins.card.isVisible()


def test_search_selects_the_expected_objects(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(ROTTERDAM))
    objects = layer.model.objects
    fragment = objects.ids[0][1:5].lower()
    expected = [i for i, ident in enumerate(objects.ids) if fragment in ident.lower()]
    panel = window.search_panel
    assert panel.run(fragment) == len(expected)
    assert panel.results.count() == len(expected)
    panel.select_all_button.click()
    assert layer.selection == tuple(expected)
    # an attribute expression
    heights = {i: a.get("TerrainHeight") for i, a in enumerate(objects.attributes)}
    want = sorted(i for i, h in heights.items() if h is not None and h > 3.0)
    assert 0 < len(want) < len(objects)
    assert panel.run("TerrainHeight > 3.0") == len(want)
    # double-click flies to and selects one result
    item = panel.results.item(0)
    rect = panel.results.visualItemRect(item)
    before = np.array(window.viewport.current_pose().focal_point)
    qtbot.mouseDClick(panel.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    index = item.data(Qt.ItemDataRole.UserRole)[1]
    assert layer.selection == (index,)
    assert window.inspector.id_label.text() == objects.ids[index]
    qtbot.waitUntil(lambda: not window.viewport.animating, timeout=3000)
    after = np.array(window.viewport.current_pose().focal_point)
    b = layer.model.bounds
    from citytwin.ui.object_stats import object_bounds

    ob = object_bounds(layer.model, index) - np.tile(window.scene.origin, 2)
    centre = (ob[:3] + ob[3:]) / 2
    assert np.linalg.norm(after - centre) < 1.0 < np.linalg.norm(before - centre)
    assert b is not None
    # a bad expression says so in one sentence, and selects nothing new
    assert panel.run("TerrainHeight >") == 0
    assert panel.status.text() and "\n" not in panel.status.text()


def test_colour_by_attribute_draws_legend_and_colours(qtbot, make_window):
    from citytwin.sample import sample_path

    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    window.layer_panel.set_current_layer(layer)
    window.layer_panel.set_colour_by(layer, "measuredHeight")
    assert window.layer_panel.attribute_combo.isVisible()
    assert window.layer_panel.attribute_combo.currentData() == "measuredHeight"
    th = window.viewport.thematic(layer)
    assert th is not None and th.kind == "numeric"
    vis = window.viewport.visual(layer)
    assert vis.legend is not None and vis.legend.GetTitle() == "measuredHeight"
    objects = layer.model.objects
    heights = np.array([a.get("measuredHeight", np.nan) for a in objects.attributes], float)
    tallest, lowest = int(np.nanargmax(heights)), int(np.nanargmin(heights))
    img = _top_view(window)

    def colour_at(index):
        qx, qy = window.viewport.world_to_qt(_roof_point(layer.model, index))
        return img[round(qy) - 1 : round(qy) + 2, round(qx) - 1 : round(qx) + 2].reshape(-1, 3).mean(axis=0)

    hi, lo = colour_at(tallest), colour_at(lowest)
    # viridis: the top is yellow (high red and green, low blue), the bottom dark purple (blue over green)
    assert hi[0] > 120 and hi[1] > 120 and hi[2] < hi[1] - 50, f"tallest building is not yellow: {hi}"
    assert lo[2] > lo[1] + 15 and lo[0] > lo[1] + 10, f"lowest building is not purple: {lo}"
    # the scalar bar is drawn on the right: a vertical strip of many colours
    h, w, _ = img.shape
    strip = img[int(h * 0.2) : int(h * 0.8), int(w * 0.905) : int(w * 0.95)].reshape(-1, 3)
    assert len(np.unique(strip // 16, axis=0)) > 8, "no colour bar in the view"
    # categorical: a legend box with the categories; undo goes back to the numeric one
    window.layer_panel.set_colour_by(layer, "function")
    th = window.viewport.thematic(layer)
    assert th.kind == "categorical" and th.categories
    assert vis.legend.GetNumberOfEntries() == len(th.categories) + (1 if th.n_missing else 0)
    window.scene.undo_stack.undo()
    assert window.viewport.thematic(layer).attribute == "measuredHeight"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "garbage.gml",
            b'<?xml version="1.0"?>\n<CityModel xmlns="http://www.opengis.net/citygml/2.0"><cityObj\x00\xff',
        ),
        ("garbage.json", b'{"type": "CityJSON", "version": "2.0", "CityObjects": {"a": '),
        ("garbage.city.json", bytes(range(256)) * 8),
    ],
)
def test_bad_file_shows_one_sentence_error_and_window_keeps_working(
    qtbot, make_window, tmp_path, monkeypatch, name, content
):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    bad = tmp_path / name
    bad.write_bytes(content)
    window = make_window()
    window.open_files([bad])
    wait_loaded(qtbot, window)
    assert len(shown) == 1
    assert "\n" not in shown[0] and name in shown[0]
    assert len(window.scene.layers) == 0
    assert not window.scene.undo_stack.can_undo
    assert not window.progress.isVisible()
    open_and_wait(qtbot, window, shared_file(B1))
    assert len(shown) == 1


def test_cancel_leaves_scene_unchanged(qtbot, make_window, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(B1))
    undo_text = window.scene.undo_stack.undo_text
    results: list[bool] = []
    window.load_finished.connect(lambda path, ok: results.append(ok))
    window.open_files([shared_file("citygml/DenHaag_01.xml")])
    assert window.progress.isVisible()
    window.progress.cancel_button.click()
    wait_loaded(qtbot, window)
    assert results == [False]
    assert list(window.scene.layers) == [layer]
    assert window.scene.undo_stack.undo_text == undo_text
    assert not shown
    assert not window.progress.isVisible()


def test_camera_moves_are_animated(qtbot, make_window):
    window = make_window()
    open_and_wait(qtbot, window, shared_file(B1))
    vp = window.viewport
    vp.finish_animation()
    start = vp.current_pose()
    vp.view_preset("top")
    assert vp.animating
    assert np.allclose(vp.current_pose().position, start.position), "the camera jumped"
    qtbot.wait(150)
    mid = vp.current_pose()
    qtbot.waitUntil(lambda: not vp.animating, timeout=3000)
    end = vp.current_pose()
    assert not np.allclose(mid.position, start.position) and not np.allclose(mid.position, end.position)
    assert end.direction[2] < -0.999, "the top view looks straight down"
    assert window.scene.camera is not None
    assert np.allclose(np.subtract(window.scene.camera.focal_point, window.scene.origin), end.focal_point)


def test_status_bar_shows_source_coordinates_under_the_cursor(qtbot, make_window):
    from citytwin.sample import sample_path

    window = make_window()
    layer = open_and_wait(qtbot, window, sample_path())
    assert window.crs_label.text() == "EPSG:25832"
    objects = layer.model.objects
    building = next(i for i, t in enumerate(objects.types) if t == "Building")
    _top_view(window, _cluster_bounds(layer.model, [building]))
    point = _roof_point(layer.model, building)
    qx, qy = window.viewport.world_to_qt(point)
    qtbot.mouseMove(window.viewport.plotter, QPoint(round(qx), round(qy)))
    qtbot.waitUntil(lambda: window.coords_label.text() != "", timeout=3000)
    x, y, z = (float(v.replace(",", "")) for v in window.coords_label.text().split()[1:6:2])
    # metres in the source CRS (x ≈ 389 700, y ≈ 5 800 100), not scene-relative values
    assert abs(x - point[0]) < 1.0 and abs(y - point[1]) < 1.0 and abs(z - point[2]) < 1.5


def test_a_file_the_desktop_opens_in_the_running_app_is_opened(qtbot, make_window):
    """macOS hands a running app the files opened from Finder or the Dock as FileOpen events."""
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    window = make_window()
    path = shared_file(B1)
    assert QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(path)))  # taken by the window
    wait_loaded(qtbot, window)
    assert [layer.name for layer in window.scene.layers] == [path.name]
    window.close()  # the filter goes with the window: another FileOpen is not taken
    assert not QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(path)))
