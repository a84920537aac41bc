"""Point clouds, terrain and reprojected layers in the real window (Xvfb)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from citytwin.model.crs import CRS, reproject
from citytwin.model.layers import CityModelLayer
from citytwin.model.pointcloud import CLASSIFICATION_PALETTE, PointCloudLayer
from citytwin.model.semantics import SurfaceClass
from tests.conftest import shared_file
from tests.ui.conftest import open_and_wait, reddish, snapshot

AHN3 = "lidar/ahn3_cropped_1.laz"
PLATEAU = "citygml/plateau_53392642/53392642_bldg_6697_op2.gml"
GLB = "mesh/lyon1_buildings_tile1.glb"
BUILDING = 6
GROUND = 2


def _top(window) -> np.ndarray:
    window.viewport.view_preset("top", animate=False)
    return snapshot(window)


def _of_colour(img: np.ndarray, rgb, tol: int = 4) -> np.ndarray:
    return (np.abs(img.astype(int) - np.asarray(rgb, int)) <= tol).all(axis=2)


def _class_rows(window, layer) -> dict[int, str]:
    model = window.layer_panel.model
    top = model.layer_index(layer)
    return {
        model.index(r, 0, top).internalPointer().key: model.data(model.index(r, 0, top))
        for r in range(model.rowCount(top))
    }


@pytest.fixture
def cloud_window(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(AHN3))
    return window, layer


def test_point_cloud_layer_tree_and_hiding_a_class(qtbot, cloud_window):
    window, layer = cloud_window
    assert isinstance(layer, PointCloudLayer)
    assert type(window.viewport.visual(layer)).__name__ == "PointCloudVisual"
    rows = _class_rows(window, layer)
    assert rows[GROUND] == f"Ground (2) — {layer.cloud.class_counts[GROUND]:,} points"
    assert set(rows) == set(layer.cloud.classes)
    window._update_counts()
    assert f"{layer.cloud.n_points:,} points" in window.counts_label.text()

    red = CLASSIFICATION_PALETTE[BUILDING]
    before = _of_colour(_top(window), red).sum()
    assert before > 5000, "building points should cover much of a top view"
    model = window.layer_panel.model
    idx = model.find(layer, "class", BUILDING)
    assert model.setData(idx, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert layer.hidden_classes == frozenset({BUILDING})
    assert model.data(idx, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    after = _of_colour(snapshot(window), red).sum()
    assert after < before * 0.02, f"building pixels left: {after} of {before}"
    window.scene.undo_stack.undo()
    assert layer.hidden_classes == frozenset()
    assert model.data(idx, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert _of_colour(snapshot(window), red).sum() > before * 0.9


def test_point_cloud_controls_change_the_pixels(qtbot, cloud_window):
    window, layer = cloud_window
    panel = window.layer_panel
    panel.set_current_layer(layer)
    assert panel.point_colour_combo.isVisible() and not panel.colour_combo.isVisible()
    assert panel.point_colour_combo.currentData() == "classification"
    rgb_row = panel.point_colour_combo.findData("rgb")
    assert not panel.point_colour_combo.model().item(rgb_row).isEnabled(), "this file has no colours"
    img0 = _top(window)
    row = panel.point_colour_combo.findData("elevation")
    panel.point_colour_combo.setCurrentIndex(row)
    panel.point_colour_combo.activated.emit(row)
    assert layer.colour_mode == "elevation"
    assert window.viewport.visual(layer).colour_mode == "elevation"
    img1 = snapshot(window)
    changed = (np.abs(img0.astype(int) - img1.astype(int)).sum(axis=2) > 30).mean()
    assert changed > 0.2, f"only {changed:.0%} of the pixels changed"
    assert _of_colour(img1, CLASSIFICATION_PALETTE[BUILDING]).sum() < 200
    panel.point_size_spin.setValue(4)
    assert layer.point_size == 4.0 and window.viewport.visual(layer).point_size == 4.0
    panel.edl_check.setChecked(True)
    assert layer.eye_dome_lighting and window.viewport.visual(layer).eye_dome_lighting
    snapshot(window)  # draws with eye-dome lighting
    window.scene.undo_stack.undo()
    assert not window.viewport.visual(layer).eye_dome_lighting and not panel.edl_check.isChecked()


def test_click_on_a_point_shows_it_in_the_inspector(qtbot, cloud_window):
    window, layer = cloud_window
    vp = window.viewport
    img = _top(window)
    vp.warm_up_now()
    red = _of_colour(img, CLASSIFICATION_PALETTE[BUILDING])
    # a pixel inside a roof: red with red neighbours
    solid = red[1:-1, 1:-1] & red[:-2, 1:-1] & red[2:, 1:-1] & red[1:-1, :-2] & red[1:-1, 2:]
    rows, cols = np.nonzero(solid)
    k = len(rows) // 2
    ratio = vp.plotter.devicePixelRatioF()
    qx, qy = (cols[k] + 1) / ratio, (rows[k] + 1) / ratio
    qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    ins = window.inspector
    qtbot.waitUntil(lambda: ins.point is not None, timeout=3000)
    i = ins.point.index
    assert layer.cloud.classification[i] == BUILDING
    values = dict(ins.rows)
    assert values["Class"] == "Building (6)"
    assert "Building" in ins.type_label.text()
    x, y, z = layer.cloud.xyz[i]
    assert values["Coordinates"] == f"x {x:,.2f}  y {y:,.2f}  z {z:,.2f} m"
    assert values["Intensity"] == f"{int(layer.cloud.intensity[i]):,}"
    assert "GPS time" in values and "Return" in values
    assert list(vp.visual(layer).highlighted) == [i]
    # the sky clears the card and the mark
    qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    qtbot.waitUntil(lambda: ins.point is None, timeout=3000)
    assert not ins.card.isVisible() and len(vp.visual(layer).highlighted) == 0


def test_make_terrain_and_save_it(qtbot, cloud_window, monkeypatch, tmp_path):
    window, layer = cloud_window
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    monkeypatch.setattr(QInputDialog, "getDouble", lambda *a, **k: (2.0, True))
    window.layer_panel.set_current_layer(layer)
    window.make_terrain_action.trigger()
    assert window.is_busy and window.task_progress.isVisible()
    qtbot.waitUntil(lambda: not window.is_busy, timeout=30_000)
    assert not shown, shown
    terrain = window.scene.layers[-1]
    assert isinstance(terrain, CityModelLayer) and terrain.name == "Terrain from ahn3_cropped_1.laz"
    assert not window.task_progress.isVisible()
    model = terrain.model
    assert model.metadata["resolution"] == 2.0 and model.mesh.n_triangles > 1000
    assert set(np.unique(model.mesh.tri_semantic)) == {int(SurfaceClass.TERRAIN)}
    assert window.viewport.visual(terrain) is not None
    # terrain is coloured by elevation, with a legend bar
    assert terrain.colour_mode == "elevation"
    assert window.viewport.visual(terrain).colour_mode == "elevation"
    assert window.viewport.visual(terrain).thematic.attribute == "Elevation (m)"
    # the node heights agree with the ground points around them
    v = model.mesh.vertices[model.mesh.triangles.ravel()]
    x0, y0 = model.metadata["grid_origin"]
    ny, nx = model.metadata["grid_shape"]
    grid = np.full((ny, nx), np.nan)
    grid[np.rint((v[:, 1] - y0) / 2.0).astype(int), np.rint((v[:, 0] - x0) / 2.0).astype(int)] = v[:, 2]
    ground = layer.cloud.xyz[layer.cloud.classification == GROUND]
    node = grid[np.rint((ground[:, 1] - y0) / 2.0).astype(int), np.rint((ground[:, 0] - x0) / 2.0).astype(int)]
    ok = np.isfinite(node)
    assert ok.mean() > 0.99
    assert abs(float(np.mean(node[ok] - ground[ok, 2]))) < 0.5
    assert float(np.median(np.abs(node[ok] - ground[ok, 2]))) < 0.5
    # Undo removes the terrain; Redo brings it back
    window.scene.undo_stack.undo()
    assert terrain not in window.scene.layers
    window.scene.undo_stack.redo()
    assert terrain in window.scene.layers

    target = tmp_path / "dtm.ply"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PLY mesh (*.ply)"))
    window.layer_panel.set_current_layer(terrain)
    window.save_terrain_action.trigger()
    assert not shown, shown
    from citytwin.io.registry import read

    back = read(target)
    assert back.mesh.n_triangles == model.mesh.n_triangles
    assert np.allclose(np.sort(back.mesh.vertices[:, 2])[[0, -1]], [v[:, 2].min(), v[:, 2].max()], atol=1e-3)


def test_make_terrain_without_ground_points_is_one_sentence(qtbot, make_window, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file("lidar/simple1_3.las"))  # unclassified points only
    window.make_terrain(layer, resolution=1.0)
    qtbot.waitUntil(lambda: not window.is_busy, timeout=30_000)
    assert len(shown) == 1 and "\n" not in shown[0]
    assert len(window.scene.layers) == 1


def test_point_budget_from_preferences(qtbot, make_window, monkeypatch):
    from citytwin.ui.main_window import point_budget, settings
    from citytwin.ui.preferences import PreferencesDialog

    def accept(dialog):
        dialog.budget_spin.setValue(20_000)
        return True

    monkeypatch.setattr(PreferencesDialog, "exec", accept)
    window = make_window()
    try:
        window.preferences_action.trigger()
        assert point_budget() == 20_000
        layer = open_and_wait(qtbot, window, shared_file("lidar/Megaplot.laz"))
        assert layer.cloud.n_points == 20_000 and layer.cloud.points_in_file == 81_590
        assert _class_rows(window, layer)[1].endswith(f"{74_201:,} points"), "counts describe the whole file"
    finally:
        settings().remove("point_budget")


def test_plateau_latitude_longitude_is_drawn_in_utm_and_hover_shows_degrees(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(PLATEAU))
    scene = window.scene
    assert scene.crs.epsg == 6697 and scene.display_crs.epsg == 32654
    shown = layer.display_model
    assert shown is not layer.model and shown.crs.epsg == 32654
    vis = window.viewport.visual(layer)
    assert vis.model is shown, "the view must draw the reprojected model"
    b = vis.bounds()
    assert (b[3:5] - b[0:2] > 50).all(), "metres, not degrees"
    scene.set(layer, "colour_mode", "semantic")
    img = _top(window)
    assert reddish(img).sum() > 500, "no roof pixels in a top view"
    # hover over the highest roof: the status bar speaks latitude/longitude
    mesh = shown.mesh
    roofs = np.flatnonzero(mesh.tri_semantic == int(SurfaceClass.ROOF))
    pts = mesh.vertices[mesh.triangles[roofs]]
    target = pts[np.argmax(pts[:, :, 2].mean(axis=1) + (mesh.triangle_areas()[roofs] > 5) * 1000)].mean(axis=0)
    qx, qy = window.viewport.world_to_qt(target)
    qtbot.mouseMove(window.viewport.plotter, QPoint(round(qx), round(qy)))
    qtbot.waitUntil(lambda: window.coords_label.text() != "", timeout=3000)
    text = window.coords_label.text()
    m = re.fullmatch(r"([\d.]+)° N ([\d.]+)° E, ([\d.,-]+) m", text)
    assert m, text
    lat, lon = float(m.group(1)), float(m.group(2))
    want_lat, want_lon, _ = reproject(target[None], scene.display_crs, scene.crs)[0]
    assert abs(lat - 35.54) < 0.01 and abs(lon - 139.777) < 0.01
    assert abs(lat - want_lat) < 2e-5 and abs(lon - want_lon) < 2e-5, (text, want_lat, want_lon)
    # inspector figures in metres
    building = int(np.flatnonzero(np.array(layer.model.objects.types) == "Building")[0])
    window.inspector.show_object(layer, building)
    rows = dict(window.inspector.rows)
    height = float(rows["Height"].split()[0])
    assert 1.0 < height < 60.0
    assert float(rows["Footprint"].split()[0].replace(",", "")) > 10.0


def _cube(origin, size: float = 20.0) -> tuple[np.ndarray, dict]:
    o = np.asarray(origin, float)
    corners = np.array([[x, y, z] for z in (0, 1) for y in (0, 1) for x in (0, 1)], float) * size + o
    faces = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [1, 3, 7, 5], [3, 2, 6, 7], [2, 0, 4, 6]]
    geom = {"type": "Solid", "lod": "1", "boundaries": [[[f] for f in faces]]}
    return corners, {"cube": {"type": "Building", "geometry": [geom]}}


def test_layers_in_two_projected_crss_line_up(qtbot, make_window, tmp_path):
    from citytwin.io.cityjson_write import build_document, write_cityjson

    corners, objects = _cube((85_000.0, 447_000.0, 0.0))
    write_cityjson(tmp_path / "rd.city.json", build_document(corners, objects, epsg=28992))
    utm = reproject(corners, CRS("EPSG:28992", 28992), CRS("EPSG:25831", 25831))
    write_cityjson(tmp_path / "utm.city.json", build_document(utm, objects, epsg=25831))
    window = make_window()
    first = open_and_wait(qtbot, window, tmp_path / "rd.city.json")
    second = open_and_wait(qtbot, window, tmp_path / "utm.city.json")
    assert second.model.crs.epsg == 25831 and second.display_model.crs.epsg == 28992
    vp = window.viewport
    assert vp.visual(second).model is second.display_model
    b1, b2 = vp.visual(first).bounds(), vp.visual(second).bounds()
    assert np.allclose(b1, b2, atol=0.05), (b1, b2)


def test_mesh_file_displays_and_picks(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(GLB))
    assert isinstance(layer, CityModelLayer) and len(layer.model.objects) == 322
    vp = window.viewport
    img = _top(window)
    vp.warm_up_now()
    # the top of the biggest triangle facing up
    mesh = layer.display_model.mesh
    tri = mesh.vertices[mesh.triangles]
    normal_z = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])[:, 2]
    t = int(np.argmax(normal_z + tri[:, :, 2].mean(axis=1) * 1e-6))
    qx, qy = vp.world_to_qt(tri[t].mean(axis=0))
    ratio = vp.plotter.devicePixelRatioF()
    sky = img[2, 2].astype(int)
    assert np.abs(img[round(qy * ratio), round(qx * ratio)].astype(int) - sky).sum() > 40, "the mesh is not drawn"
    qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    qtbot.waitUntil(lambda: bool(layer.selection), timeout=3000)
    assert window.inspector.id_label.text() == layer.model.objects.ids[layer.selection[0]]
