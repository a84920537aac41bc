"""The desktop viewer's remaining features: types, textures, LoD, drag & drop, recent files, camera, proxy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.geometry import MeshBuilder
from citytwin.model.layers import CityModelLayer
from citytwin.ui.selection import select
from tests.conftest import shared_file
from tests.ui.conftest import open_and_wait, snapshot, wait_loaded

B1 = "citygml/b1_lod2_cs_w_sem.gml"
ROTTERDAM = "cityjson/rotterdam/rotterdam_subset.json"
LOD3_TEXTURED = "citygml/citygml4j_lod3/lod3_building_v2.gml"
SEVERAL_LODS = "citygml/geores/geoRES_testdata_v1.0.0.xml"


def _span_of_drawn(window) -> float:
    """Share of the view's limiting dimension the drawn points span (1.0: edge to edge)."""
    from citytwin.render.camera import project

    vp = window.viewport
    vp.finish_animation()
    pts = vp._scene_points()
    size = tuple(vp.renderer.GetSize())
    # project() agrees with VTK's WorldToDisplay; checked once on a few points
    ren = vp.renderer
    p = pts[len(pts) // 2]
    ren.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
    ren.WorldToDisplay()
    x, y = ren.GetDisplayPoint()[:2]
    col, row = project(vp.current_pose(), p[None], size)[0]
    assert abs(col - x) < 1.0 and abs(row - (size[1] - y)) < 1.0
    px = project(vp.current_pose(), pts, size)
    span = (px.max(axis=0) - px.min(axis=0)) / np.array(size)
    return float(span.max())


def test_reset_view_and_presets_frame_the_model_tightly(qtbot, make_window):
    window = make_window()
    open_and_wait(qtbot, window, shared_file(SEVERAL_LODS))
    window.viewport.reset_view(animate=False)
    assert 0.8 <= _span_of_drawn(window) <= 0.92
    window.preset_actions["top"].trigger()
    assert 0.8 <= _span_of_drawn(window) <= 0.92
    window.view_preset("north", 40.0)
    assert 0.8 <= _span_of_drawn(window) <= 0.92
    # the inspector leaves the 3D view most of the window
    assert window.inspector_dock.width() <= 340


def test_hiding_every_type_draws_nothing_and_an_empty_model_still_gets_a_layer(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(SEVERAL_LODS))
    types = {layer.model.objects.types[i] for i in range(len(layer.model.objects))}
    window.scene.set(layer, "hidden_types", frozenset(types))
    window._update_counts()
    assert window.counts_label.text() == "0 objects · 0 triangles"
    snapshot(window)  # renders without a crash
    window.scene.undo_stack.undo()
    window._update_counts()
    assert window.counts_label.text() != "0 objects · 0 triangles"
    # hiding only the trees keeps the buildings
    window.scene.set(layer, "hidden_types", frozenset({"SolitaryVegetationObject"}))
    vis = window.viewport.visual(layer)
    roots = vis.arrays.cell["root"][vis.drawn_triangles]
    drawn_types = {layer.model.objects.types[r] for r in np.unique(roots)}
    assert "SolitaryVegetationObject" not in drawn_types and "Building" in drawn_types

    objects = CityObjects()
    objects.add("no-geometry", "Building")
    empty = CityModel(format="test", version="0", objects=objects, mesh=MeshBuilder().build())
    empty_layer = CityModelLayer(name="empty", model=empty)
    window.scene.add_layer(empty_layer, undoable=False)
    assert window.viewport.visual(empty_layer) is not None
    window.viewport.reset_view(animate=False)
    snapshot(window)


def test_textured_model_opens_in_texture_mode(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(LOD3_TEXTURED))
    assert layer.colour_mode == "texture"
    assert not window.scene.undo_stack.can_undo, "opening a file is not an undo step"
    vis = window.viewport.visual(layer)
    assert vis.colour_mode == "texture" and vis.texture_actors
    panel = window.layer_panel
    combo = panel.colour_combo
    row = combo.findData("texture")
    assert combo.model().item(row).isEnabled()
    assert combo.currentData() == "texture"
    textured = snapshot(window)
    # back to the semantic colours through the combo, then forward again
    combo.activated.emit(combo.findData("semantic"))
    assert layer.colour_mode == "semantic" and vis.colour_mode == "semantic"
    plain = snapshot(window)
    assert np.abs(plain.astype(int) - textured.astype(int)).max(axis=2).mean() > 2
    window.scene.undo_stack.undo()
    assert vis.colour_mode == "texture"


def test_texture_entry_disabled_without_appearances(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(B1))
    assert layer.colour_mode == "semantic"
    combo = window.layer_panel.colour_combo
    assert not combo.model().item(combo.findData("texture")).isEnabled()


def test_lod_selector_changes_what_is_drawn(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(SEVERAL_LODS))
    panel = window.layer_panel
    panel.set_current_layer(layer)
    assert panel.lod_combo.isVisible()
    window.viewport.reset_view(animate=False)
    _, tris_best = window.viewport.shown_counts()
    before = snapshot(window)
    row = panel.lod_combo.findData(10)
    assert row > 0, [panel.lod_combo.itemText(i) for i in range(panel.lod_combo.count())]
    panel.lod_combo.setCurrentIndex(row)
    panel.lod_combo.activated.emit(row)
    assert layer.lod == 10
    _, tris_lod1 = window.viewport.shown_counts()
    assert 0 < tris_lod1 < tris_best
    after = snapshot(window)
    assert (np.abs(after.astype(int) - before.astype(int)).max(axis=2) > 30).mean() > 0.01
    window.scene.undo_stack.undo()
    assert layer.lod is None and window.viewport.shown_counts()[1] == tris_best


def _drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(
        pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    return drop


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_dropping_files_opens_them(qtbot, make_window):
    window = make_window()
    drop = _drop(window, [shared_file(B1), shared_file(ROTTERDAM)])
    assert drop.isAccepted()
    wait_loaded(qtbot, window)
    assert [layer.name for layer in window.scene.layers] == ["b1_lod2_cs_w_sem.gml", "rotterdam_subset.json"]
    # a drop of something else (a web address) is refused
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/city.gml")])
    enter = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    enter.ignore()
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_open_recent_uses_isolated_settings(qtbot, make_window, _isolated_settings):
    from citytwin.ui.main_window import settings

    assert Path(settings().fileName()).is_relative_to(Path(_isolated_settings))
    window = make_window()
    open_and_wait(qtbot, window, shared_file(B1))
    window._fill_recent_menu()
    actions = [a for a in window.recent_menu.actions() if a.text() == "b1_lod2_cs_w_sem.gml"]
    assert len(actions) == 1 and actions[0].toolTip() == str(shared_file(B1).resolve())
    actions[0].trigger()
    wait_loaded(qtbot, window)
    assert len(window.scene.layers) == 2
    assert window.recent_files().count(str(shared_file(B1).resolve())) == 1  # no duplicates
    clear = next(a for a in window.recent_menu.actions() if a.text() == "Clear Menu")
    clear.trigger()
    assert window.recent_files() == []
    window._fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()] == ["No recent files"]


def test_full_screen_toggle(qtbot, make_window):
    window = make_window()
    window.fullscreen_action.trigger()
    qtbot.waitUntil(window.isFullScreen, timeout=3000)
    assert window.fullscreen_action.isChecked()
    window.fullscreen_action.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=3000)
    assert not window.fullscreen_action.isChecked()


def test_zoom_to_selection_moves_the_camera_towards_the_object(qtbot, make_window):
    from citytwin.ui.object_stats import object_bounds

    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(SEVERAL_LODS))
    vp = window.viewport
    vp.reset_view(animate=False)
    objects = layer.model.objects
    target = next(i for i in range(len(objects)) if objects.types[i] == "Building" and objects.parents[i] < 0)
    b = object_bounds(layer.model, target) - np.tile(window.scene.origin, 2)
    centre = (b[:3] + b[3:]) / 2
    before = vp.current_pose()
    select(window.scene, layer, (target,))
    window.zoom_selection_action.trigger()
    qtbot.waitUntil(lambda: not vp.animating, timeout=3000)
    after = vp.current_pose()
    assert np.linalg.norm(after.position - centre) < 0.8 * np.linalg.norm(before.position - centre)
    assert np.linalg.norm(after.focal_point - centre) < 0.25 * np.linalg.norm(b[3:] - b[:3]) + 0.5
    # the viewing direction is kept
    assert np.dot(after.direction, before.direction) > 0.99
    # the object is in the middle of the view
    qx, qy = vp.world_to_qt(centre + window.scene.origin)
    assert abs(qx - vp.plotter.width() / 2) < 0.1 * vp.plotter.width()
    assert abs(qy - vp.plotter.height() / 2) < 0.1 * vp.plotter.height()


@pytest.fixture
def heavy_window(qtbot, make_window):
    """A window whose one layer counts as heavy, so the camera moves draw the box proxy."""
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(SEVERAL_LODS))
    vp = window.viewport
    vis = vp.visual(layer)
    vis.interaction_lod.triangle_budget = 100
    vp._queue_warm_up(vis)
    qtbot.waitUntil(lambda: not vp.warming_up, timeout=10_000)
    assert vis._pick_pieces is not None and vis._pick_pieces.done, "no pick locators were built ahead"
    assert vis._proxy_key is not None, "no proxy was built ahead"
    assert vp.warm_up_log, "the warm-up did not run from the timer"
    vp.reset_view(animate=False)
    return window, vis


def test_a_drag_draws_the_proxy_and_release_brings_the_mesh_back(qtbot, heavy_window):
    window, vis = heavy_window
    vp = window.viewport
    widget = vp.plotter
    centre = QPoint(widget.width() // 2, widget.height() // 2)
    key = vis._proxy_key
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=centre)
    assert not vis.interactive, "a press alone is not a drag"
    for dx in (10, 30, 60):
        qtbot.mouseMove(widget, centre + QPoint(dx, 5))
    assert vp.interacting and vis.interactive
    assert vis._proxy_key == key, "the proxy was rebuilt on the first drag"
    assert not vis.actor.GetVisibility() and vis.interaction_lod.actor.GetVisibility()
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=centre + QPoint(60, 5))
    assert not vp.interacting and not vis.interactive
    assert vis.actor.GetVisibility() and not vis.interaction_lod.actor.GetVisibility()


def test_wheel_and_animation_use_the_proxy_until_the_camera_stops(qtbot, heavy_window):
    window, vis = heavy_window
    vp = window.viewport
    widget = vp.plotter
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    wheel = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, wheel)
    assert vp.interacting and vis.interactive
    qtbot.waitUntil(lambda: not vis.interactive, timeout=2000)
    assert not vp.interacting
    vp.view_preset("top")
    assert vp.animating and vis.interactive
    qtbot.waitUntil(lambda: not vp.animating, timeout=3000)
    assert not vis.interactive and vis.actor.GetVisibility()
