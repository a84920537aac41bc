"""Measuring in the real window (Xvfb): distance, height difference, area, object height, the dock."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from citytwin.model.annotations import make_measurement
from citytwin.model.measure_units import format_area, format_length
from citytwin.model.semantics import SurfaceClass
from citytwin.ui.object_stats import object_bounds, object_stats, subtree
from tests.conftest import shared_file
from tests.ui.conftest import open_and_wait, snapshot

AHN3 = "lidar/ahn3_cropped_1.laz"


@pytest.fixture
def district(qtbot, make_window):
    from citytwin.sample import sample_path

    window = make_window(size=(1200, 800))
    layer = open_and_wait(qtbot, window, sample_path())
    window.viewport.finish_animation()
    return window, layer


def _gabled_building(model) -> tuple[int, np.ndarray]:
    """A building with a sloped roof, and the polygons of its roof."""
    objects, mesh = model.objects, model.mesh
    best = (-1.0, -1, np.zeros(0, int))
    for i in range(len(objects)):
        if objects.types[i] != "Building":
            continue
        polys = np.flatnonzero(np.isin(mesh.poly_object, subtree(model, i)) & (mesh.poly_semantic == SurfaceClass.ROOF))
        if len(polys) < 2:
            continue
        z = np.concatenate([_ring(mesh, p)[:, 2] for p in polys])
        if z.max() - z.min() > best[0]:
            best = (float(z.max() - z.min()), i, polys)
    assert best[1] >= 0, "the sample district has no gabled building"
    return best[1], best[2]


def _ring(mesh, poly: int) -> np.ndarray:
    r = int(mesh.polygon_rings[poly])
    return mesh.vertices[int(mesh.ring_offsets[r]) : int(mesh.ring_offsets[r + 1])]


def _roof_vertices(model, polys) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The roof's highest vertex (on the ridge), its lowest (an eave corner) and another eave corner."""
    pts = np.concatenate([_ring(model.mesh, p) for p in polys])
    top = pts[np.argmax(pts[:, 2])]
    low = pts[pts[:, 2] <= pts[:, 2].min() + 1e-6]
    eave = low[0]
    other = low[np.argmax(np.linalg.norm(low[:, :2] - eave[:2], axis=1))]
    return top, eave, other


def _roof_inside(mesh, polys) -> tuple[int, np.ndarray, float]:
    """The biggest roof polygon, a point inside it (its biggest triangle's centre) and its area."""
    areas = mesh.triangle_areas()
    poly_area = {int(p): float(areas[mesh.tri_polygon == p].sum()) for p in polys}
    poly = max(poly_area, key=poly_area.get)
    tris = np.flatnonzero(mesh.tri_polygon == poly)
    big = tris[np.argmax(areas[tris])]
    return poly, mesh.vertices[mesh.triangles[big]].mean(axis=0), poly_area[poly]


def _look_down_at(window, model, index: int, pad: float = 12.0) -> None:
    b = object_bounds(model, index) - np.tile(window.scene.origin, 2)
    b = b + np.array([-pad, -pad, 0.0, pad, pad, 0.0])
    window.viewport.view_preset("top", bounds=b, animate=False)
    window.viewport.finish_animation()


def _click(qtbot, window, world, modifier=Qt.KeyboardModifier.NoModifier, double=False) -> QPoint:
    qx, qy = window.viewport.world_to_qt(np.asarray(world, float))
    pos = QPoint(round(qx), round(qy))
    fn = qtbot.mouseDClick if double else qtbot.mouseClick
    fn(window.viewport.plotter, Qt.MouseButton.LeftButton, modifier, pos)
    return pos


def _yellow_near(img: np.ndarray, qx: float, qy: float, r: int = 3) -> bool:
    patch = img[round(qy) - r : round(qy) + r + 1, round(qx) - r : round(qx) + r + 1].reshape(-1, 3).astype(int)
    return bool(((patch[:, 0] > 200) & (patch[:, 1] > 160) & (patch[:, 2] < 110)).any())


def test_distance_between_two_roof_vertices(qtbot, district):
    window, layer = district
    model = layer.model
    index, polys = _gabled_building(model)
    top, eave, _ = _roof_vertices(model, polys)
    _look_down_at(window, model, index)
    tool, panel, visual = window.measure_tool, window.measurements_panel, window.measurements_visual

    window.measure_actions["distance"].trigger()  # Tools → Measure → Distance
    assert tool.mode == "distance"
    assert window.measure_actions["distance"].shortcut().toString() == "M"
    _click(qtbot, window, eave)
    _click(qtbot, window, top)
    assert len(tool.points) == 2 and len(window.scene.measurements) == 0
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Return)  # Enter finishes
    assert len(window.scene.measurements) == 1
    m = window.scene.measurements[0]
    assert m.kind == "distance" and m.title == "Distance 1"
    expected = float(np.linalg.norm(top - eave))
    horizontal = float(np.linalg.norm(top[:2] - eave[:2]))
    assert abs(m.length_3d() - expected) < 0.01  # within a centimetre (the clicks snap to the vertices)
    assert abs(m.length_horizontal() - horizontal) < 0.01
    assert np.abs(m.array - np.stack([eave, top])).max() < 1e-9
    # measuring does not select what is clicked
    assert layer.selection == ()
    # the dock lists it with its value, and its figures
    assert panel.model.data(panel.model.index(0, 0)) == "Distance 1"
    assert panel.model.data(panel.model.index(0, 1)) == format_length(expected)
    assert panel.current_measurement() is m
    assert format_length(horizontal) in panel.details.text()
    # the view draws it: a label with both lengths, a yellow line
    label = visual.label_text(m.id)
    assert format_length(expected) in label and f"horizontal {format_length(horizontal)}" in label
    img = snapshot(window)
    qx, qy = window.viewport.world_to_qt(eave + 0.2 * (top - eave))
    assert _yellow_near(img, qx, qy), "the measured line is not drawn"
    # Backspace drops a point, Escape the draft, a second Escape leaves the tool
    _click(qtbot, window, eave)
    _click(qtbot, window, top)
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Backspace)
    assert len(tool.points) == 1
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Escape)
    assert tool.points == [] and tool.mode == "distance"
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Escape)
    assert tool.mode is None and not window.measure_actions["distance"].isChecked()
    assert len(window.scene.measurements) == 1
    # undo / redo
    window.undo_action.trigger()
    assert len(window.scene.measurements) == 0 and visual.drawn_ids == []
    window.redo_action.trigger()
    assert window.scene.measurements[0] is m and visual.drawn_ids == [m.id]


def test_height_difference_takes_two_clicks(qtbot, district):
    window, layer = district
    index, polys = _gabled_building(layer.model)
    top, eave, _ = _roof_vertices(layer.model, polys)
    _look_down_at(window, layer.model, index)
    window.measure_actions["height"].trigger()
    _click(qtbot, window, eave)
    _click(qtbot, window, top)  # the second click finishes
    assert len(window.scene.measurements) == 1
    m = window.scene.measurements[0]
    assert m.kind == "height"
    assert m.height_difference() == pytest.approx(top[2] - eave[2], abs=0.01)
    assert "Δh " + format_length(top[2] - eave[2]) in window.measurements_visual.label_text(m.id)
    assert window.measurements_panel.model.data(window.measurements_panel.model.index(0, 1)) == format_length(
        top[2] - eave[2]
    )
    assert window.measure_tool.mode == "height"  # ready for the next one


def test_area_by_clicks_and_by_shift_click_on_a_roof(qtbot, district):
    window, layer = district
    model = layer.model
    mesh = model.mesh
    index, polys = _gabled_building(model)
    _look_down_at(window, model, index)
    window.measure_actions["area"].trigger()
    # Shift+click a roof surface: that polygon's area
    poly, inside, poly_area = _roof_inside(mesh, polys)
    _click(qtbot, window, inside, Qt.KeyboardModifier.ShiftModifier)
    assert len(window.scene.measurements) == 1
    m = window.scene.measurements[0]
    assert m.kind == "area"
    assert np.array_equal(m.array, _ring(mesh, poly))
    assert m.area_3d() == pytest.approx(poly_area, rel=1e-6)
    ring = _ring(mesh, poly)[:, :2]
    x, y = ring[:, 0] - ring[:, 0].mean(), ring[:, 1] - ring[:, 1].mean()
    projected = abs((x * np.roll(y, -1) - np.roll(x, -1) * y).sum()) / 2
    assert m.area_projected() == pytest.approx(projected, rel=1e-9)
    assert m.area_projected() < m.area_3d()  # a sloped roof
    assert m.object_id is not None
    label = window.measurements_visual.label_text(m.id)
    assert format_area(poly_area) in label and format_area(projected) in label
    # clicked outline: three points and a double-click on the fourth
    corners = _ring(mesh, poly)
    assert len(corners) >= 4
    for c in corners[:3]:
        _click(qtbot, window, c)
    _click(qtbot, window, corners[3])
    _click(qtbot, window, corners[3], double=True)
    assert len(window.scene.measurements) == 2
    clicked = window.scene.measurements[1]
    assert clicked.kind == "area" and len(clicked.points) == 4
    assert np.abs(clicked.array - corners[:4]).max() < 1e-9
    assert window.measurements_panel.model.data(window.measurements_panel.model.index(1, 1)) == format_area(
        clicked.area_3d()
    )


def test_object_height_matches_the_model(qtbot, district):
    window, layer = district
    model = layer.model
    index, polys = _gabled_building(model)
    _look_down_at(window, model, index)
    window.measure_actions["object-height"].trigger()
    _click(qtbot, window, _roof_inside(model.mesh, polys)[1])
    assert len(window.scene.measurements) == 1
    m = window.scene.measurements[0]
    stats = object_stats(layer.display_model, index, layer.lod)
    assert m.kind == "object-height"
    assert m.value == pytest.approx(stats.height, abs=1e-9)
    assert m.height_difference() == pytest.approx(stats.height, abs=1e-9)
    assert m.object_id == model.objects.ids[index] == m.title
    assert layer.selection == ()
    # the Inspector says the same height
    panel = window.measurements_panel
    assert panel.model.data(panel.model.index(0, 1)) == format_length(stats.height)
    assert window.measurements_visual.label_text(m.id).endswith(f"height {format_length(stats.height)}")


def test_dock_renames_hides_deletes_and_flies_with_undo(qtbot, district):
    window, _layer = district
    scene, panel, visual, vp = window.scene, window.measurements_panel, window.measurements_visual, window.viewport
    o = scene.origin
    a = make_measurement("distance", [o + (0, 0, 40), o + (30, 40, 40)], title="Distance 1")
    b = make_measurement("height", [o + (50, 0, 35), o + (50, 0, 47.5)], title="Height difference 1")
    scene.add_item(a)
    scene.add_item(b)
    model = panel.model
    assert [model.data(model.index(r, 1)) for r in range(2)] == ["50.00 m", "12.50 m"]
    assert visual.drawn_ids == [a.id, b.id]
    # rename (the name column is editable)
    assert model.setData(model.index(0, 0), "Street width")
    renamed = scene.measurements[0]
    assert renamed.title == "Street width" and model.data(model.index(0, 0)) == "Street width"
    assert visual.label_text(a.id).startswith("Street width\n")
    # hide (the check box)
    assert model.setData(model.index(1, 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert scene.measurements[1].visible is False
    assert model.data(model.index(1, 0), Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert visual.drawn_ids == [a.id]
    # delete
    panel.select(scene.measurements[0])
    panel.delete_button.click()
    assert [m.id for m in scene.measurements] == [b.id]
    # undo all three: exactly as before
    for _ in range(3):
        scene.undo_stack.undo()
    assert scene.measurements[0] is a and scene.measurements[1] is b
    assert visual.drawn_ids == [a.id, b.id]
    # fly to frames it
    panel.select(b)
    panel.fly_button.click()
    vp.finish_animation()
    focal = np.asarray(vp.current_pose().focal_point) + o
    assert np.linalg.norm(focal[:2] - (o[:2] + (50, 0))) < 1.0
    qx, qy = vp.world_to_qt(o + (50, 0, 41))
    assert 0 < qx < vp.width() and 0 < qy < vp.height()
    # copy puts the figures on the clipboard
    panel.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert "12.50 m" in QGuiApplication.clipboard().text()


def test_distance_on_a_point_cloud_snaps_to_the_picked_points(qtbot, make_window):
    window = make_window(size=(1000, 700))
    layer = open_and_wait(qtbot, window, shared_file(AHN3))
    vp = window.viewport
    vp.view_preset("top", animate=False)
    vp.finish_animation()
    cloud = layer.display_model
    w, h = vp.plotter.width(), vp.plotter.height()
    spots = [(w * 0.4, h * 0.45), (w * 0.6, h * 0.55)]
    hits = [vp.pick_qt(*s) for s in spots]
    assert all(type(hit).__name__ == "PointPickResult" for _, hit in hits)
    window.measure_actions["distance"].trigger()
    for qx, qy in spots:
        qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    qtbot.keyClick(vp.plotter, Qt.Key.Key_Enter)
    assert len(window.scene.measurements) == 1
    m = window.scene.measurements[0]
    want = np.stack([cloud.point(int(hit.index)) for _, hit in hits])
    assert np.array_equal(m.array, want), "the clicks did not snap to the picked points"
    assert m.length_3d() == pytest.approx(float(np.linalg.norm(want[1] - want[0])), abs=1e-9)
    assert window.inspector.point is None  # a measuring click does not show the point's card


def test_a_measurement_on_a_latitude_longitude_file_is_in_metres_and_reopens_in_place(qtbot, make_window, tmp_path):
    """PLATEAU CityGML in JGD2011 latitude/longitude (EPSG:6697), drawn in its UTM zone."""
    window = make_window(size=(1200, 800))
    layer = open_and_wait(qtbot, window, shared_file("citygml/plateau_53392642/53392642_bldg_6697_op2.gml"))
    scene = window.scene
    assert scene.crs.epsg == 6697 and 32601 <= scene.display_crs.epsg <= 32660
    model = layer.display_model  # what is drawn: metres of the UTM zone
    index, polys = _gabled_building(model)
    top, eave, _ = _roof_vertices(model, polys)
    _look_down_at(window, model, index)
    window.measure_actions["distance"].trigger()
    _click(qtbot, window, eave)
    _click(qtbot, window, top)
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Return)
    (m,) = window.scene.measurements
    # stored in the CRS the scene is drawn in, and says which: two vertices of the drawn model
    assert m.crs == scene.display_crs.code
    drawn = model.mesh.vertices
    k = [int(np.argmin(np.linalg.norm(drawn - p, axis=1))) for p in m.array]
    assert np.abs(drawn[k] - m.array).max() < 1e-6
    # the length in metres within a centimetre: the same two vertices of the file (latitude, longitude,
    # height in JGD2011) projected to the UTM zone by pyproj itself
    from pyproj import Transformer

    lat_lon_h = layer.model.mesh.vertices[k]
    east, north = Transformer.from_crs("EPSG:6668", scene.display_crs.code).transform(lat_lon_h[:, 0], lat_lon_h[:, 1])
    expected = float(np.linalg.norm(np.diff(np.column_stack([east, north, lat_lon_h[:, 2]]), axis=0)))
    assert 1.0 < expected < 100.0
    assert abs(m.length_3d() - expected) < 0.01
    assert window.measurements_panel.model.data(window.measurements_panel.model.index(0, 1)) == format_length(expected)
    anchor = window.measurements_visual.label_anchor(m.id)
    # saved and reopened: the same points in the same CRS, drawn at the same place, the same length
    path = tmp_path / "plateau.citytwin"
    assert window.save_project(path)
    second = make_window(size=(1200, 800))
    assert second.open_project(path)
    qtbot.waitUntil(lambda: not second.session.is_opening and not second.is_loading, timeout=60_000)
    (back,) = second.scene.measurements
    assert back == m
    assert second.scene.display_crs == scene.display_crs
    np.testing.assert_allclose(second.measurements_visual.label_anchor(m.id), anchor, atol=1e-6)
    assert abs(back.length_3d() - expected) < 0.01
    # the same measurement given in latitude/longitude (the source's CRS) is drawn at the same place,
    # and its length is still in metres
    src = scene.crs
    from citytwin.model.crs import reproject

    geographic = make_measurement("distance", reproject(m.array, scene.display_crs, src), crs=src.code)
    assert abs(geographic.length_3d() - expected) < 0.01
    second.scene.add_item(geographic)
    np.testing.assert_allclose(second.measurements_visual.label_anchor(geographic.id), anchor, atol=1e-3)
