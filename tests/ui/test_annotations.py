"""Pins in a real window (Xvfb): placing one with the tool, undo/redo, the Annotations dock, the Inspector, pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from citytwin.model.annotations import make_pin
from citytwin.render.annotations_visual import ICON_BOX, LEADER_PX
from citytwin.sample import sample_path
from citytwin.ui.object_stats import object_bounds, object_triangles
from citytwin.ui.selection import select
from tests.ui.conftest import open_and_wait, snapshot


def roof_point(model, index: int) -> np.ndarray:
    """World point at the centre of the largest high roof triangle of a building."""
    mesh = model.mesh
    tris, _ = object_triangles(model, index)
    pts = mesh.vertices[mesh.triangles[tris]]
    areas = mesh.triangle_areas()[tris]
    top = np.argmax(pts[:, :, 2].mean(axis=1) + (areas > 4.0) * 1000)
    return pts[top].mean(axis=0)


def a_building(model) -> int:
    """A building near the middle of the district, with a roof big enough to click on."""
    objects = model.objects
    centre = (model.bounds[:3] + model.bounds[3:]) / 2
    best, best_d = -1, np.inf
    for i in range(len(objects)):
        if objects.types[i] != "Building":
            continue
        b = object_bounds(model, i)
        if b is None or (b[3] - b[0]) < 8 or (b[4] - b[1]) < 8:
            continue
        d = float(np.linalg.norm((b[:2] + b[3:5]) / 2 - centre[:2]))
        if d < best_d:
            best, best_d = i, d
    assert best >= 0
    return best


def frame_building(window, model, index: int) -> tuple[float, float, np.ndarray]:
    """Look at a building from above at an angle; its roof point's Qt position."""
    b = object_bounds(model, index)
    window.viewport.fit_world_bounds(b, animate=False, fill=0.4)
    window.viewport.finish_animation()
    p = roof_point(model, index)
    qx, qy = window.viewport.world_to_qt(p)
    return qx, qy, p


def near_colour(img: np.ndarray, x: float, y: float, colour, radius: int = 2, tol: int = 14) -> bool:
    r0, c0 = int(round(y)), int(round(x))
    patch = img[r0 - radius : r0 + radius + 1, c0 - radius : c0 + radius + 1].reshape(-1, 3).astype(int)
    want = np.round(np.asarray(colour) * 255).astype(int)
    return bool((np.abs(patch - want).max(axis=1) <= tol).any())


@pytest.fixture
def district(qtbot, make_window):
    window = make_window(size=(1100, 750))
    layer = open_and_wait(qtbot, window, sample_path())
    window.activateWindow()  # the window's shortcuts (P, Ctrl+Z) work in the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    return window, layer


def test_place_a_pin_on_a_building_then_undo_and_redo(qtbot, district):
    window, layer = district
    scene, model = window.scene, layer.model
    target = a_building(model)
    qx, qy, roof = frame_building(window, model, target)
    ann = window.annotations
    # the tool from its key (P), a click on the roof
    window.viewport.plotter.setFocus()
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_P)
    assert ann.place_action.isChecked()
    qtbot.mouseClick(window.viewport.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    assert len(scene.pins) == 1
    pin = scene.pins[0]
    assert pin.object_id == model.objects.ids[target]
    assert pin.source == layer.name
    assert pin.title == "Pin 1"
    assert not ann.place_action.isChecked(), "the tool places one pin"
    # on the building: inside its bounds, on its roof
    b = object_bounds(model, target)
    pos = np.asarray(pin.position)
    assert (pos >= b[:3] - 0.01).all() and (pos <= b[3:] + 0.01).all()
    assert np.linalg.norm(pos - roof) < 1.5
    assert isinstance(pin.position[0], float)
    # the inline editor is open on its title: type one
    view = ann.panel.view
    qtbot.waitUntil(lambda: view.state() == view.State.EditingState, timeout=3000)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == "Pin 1"
    editor.selectAll()
    qtbot.keyClicks(editor, "Town hall")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: scene.pins[0].title == "Town hall", timeout=3000)  # the delegate commits queued
    # the marker is drawn where the pin is: its dot on the point, its icon on the leader line above
    img = snapshot(window)
    qx, qy = window.viewport.world_to_qt(pos)  # where it is now (the window may have laid its docks out again)
    assert near_colour(img, qx, qy, pin.colour), "no pin dot at its screen position"
    assert near_colour(img, qx, qy - LEADER_PX - 8, pin.colour, radius=3), "no marker above the pin"
    # Ctrl+Z: the title, then the pin; Ctrl+Shift+Z brings back the same pin
    window.viewport.plotter.setFocus()
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert scene.pins[0].title == "Pin 1"
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(scene.pins) == 0
    img = snapshot(window)
    assert not near_colour(img, qx, qy - LEADER_PX - 8, pin.colour, radius=3, tol=6)
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Z, mods)
    assert len(scene.pins) == 1 and scene.pins[0] == pin
    assert window.annotations.visual.ids == [pin.id]


def test_escape_cancels_the_tool_and_the_sky_places_nothing(qtbot, district):
    window, layer = district
    ann = window.annotations
    ann.place_action.trigger()
    assert ann.place_action.isChecked()
    window.viewport.plotter.setFocus()
    qtbot.keyClick(window.viewport.plotter, Qt.Key.Key_Escape)
    assert not ann.place_action.isChecked()
    qx, qy, _ = frame_building(window, layer.model, a_building(layer.model))
    qtbot.mouseClick(window.viewport.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy)))
    assert len(window.scene.pins) == 0, "a click without the tool placed a pin"
    # on the sky: no pin, the tool stays on
    window.viewport.view_preset("north", animate=False, elevation=2.0)
    window.viewport.finish_animation()
    ann.place_action.trigger()
    qtbot.mouseClick(window.viewport.plotter, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert len(window.scene.pins) == 0 and ann.place_action.isChecked()
    ann.tool.cancel()


def _add_pins(scene, layer):
    model = layer.model
    k = a_building(model)
    p = roof_point(model, k)
    pins = [
        make_pin(p, "Town hall", object_id=model.objects.ids[k], source=layer.name, description="Rathaus"),
        make_pin(p + [20.0, 0, 0], "Fountain", colour=(0.1, 0.4, 0.9), icon="info"),
        make_pin(p + [-20.0, 5, 0], "Old church", colour=(0.2, 0.7, 0.2), icon="star"),
    ]
    for pin in pins:
        scene.add_item(pin)
    return pins, k


def test_panel_filter_rename_recolour_hide_delete_reorder_all_undoable(qtbot, district):
    window, layer = district
    scene = window.scene
    pins, _ = _add_pins(scene, layer)
    ann = window.annotations
    panel, model = ann.panel, ann.panel.model
    assert model.rowCount() == 3 and [model.data(model.index(r)) for r in range(3)] == [p.title for p in pins]
    assert not model.data(model.index(0), Qt.ItemDataRole.DecorationRole).isNull()
    # filter by text (title, description or object id)
    panel.set_filter("church")
    assert panel.visible_rows() == [2]
    panel.set_filter("rathaus")
    assert panel.visible_rows() == [0]
    panel.set_filter("")
    assert panel.visible_rows() == [0, 1, 2]
    # rename inline (the model's edit role)
    assert model.setData(model.index(1), "Market fountain", Qt.ItemDataRole.EditRole)
    assert scene.pins[1].title == "Market fountain"
    scene.undo_stack.undo()
    assert scene.pins[1].title == "Fountain"
    # recolour
    panel.set_colour(scene.pins[2], (0.9, 0.1, 0.8))
    assert scene.pins[2].colour == (0.9, 0.1, 0.8)
    assert ann.visual.colours[2].tolist() == [230, 26, 204]
    scene.undo_stack.undo()
    assert scene.pins[2].colour == pins[2].colour
    # several fields in one step (the Edit dialog)
    panel.edit(scene.pins[2], title="St. Mary", icon="flag", description="1420")
    assert (scene.pins[2].title, scene.pins[2].icon, scene.pins[2].description) == ("St. Mary", "flag", "1420")
    scene.undo_stack.undo()
    assert scene.pins[2] == pins[2]
    # hide with the tick: not drawn
    assert model.setData(model.index(0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert scene.pins[0].visible is False
    snapshot(window)
    assert 0 not in ann.visual.drawn.tolist()
    scene.undo_stack.undo()
    assert scene.pins[0].visible is True
    # delete, undo puts it back where it was
    panel.delete([scene.pins[1]])
    assert [p.title for p in scene.pins] == ["Town hall", "Old church"] and model.rowCount() == 2
    scene.undo_stack.undo()
    assert list(scene.pins) == pins and model.rowCount() == 3
    # reorder: a button step, and a drag
    panel.move(scene.pins[0], 1)
    assert [p.title for p in scene.pins] == ["Fountain", "Town hall", "Old church"]
    assert model.data(model.index(0)) == "Fountain"
    scene.undo_stack.undo()
    assert list(scene.pins) == pins
    data = model.mimeData([model.index(0)])
    model.dropMimeData(data, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert [p.title for p in scene.pins] == ["Fountain", "Old church", "Town hall"]
    assert [model.data(model.index(r)) for r in range(3)] == ["Fountain", "Old church", "Town hall"]
    scene.undo_stack.undo()
    assert list(scene.pins) == pins
    # the pins layer: hidden, then translucent, both undoable
    panel.show_check.setChecked(False)
    assert scene.annotation_settings.pins_visible is False and not ann.visual.visible
    scene.undo_stack.undo()
    assert scene.annotation_settings.pins_visible is True and panel.show_check.isChecked()
    panel.opacity_slider.setValue(40)
    panel.opacity_slider.setValue(50)
    assert scene.annotation_settings.pins_opacity == pytest.approx(0.5)
    scene.undo_stack.undo()  # the drag was one step
    assert scene.annotation_settings.pins_opacity == pytest.approx(1.0) and panel.opacity_slider.value() == 100


def test_inspector_lists_the_pins_of_the_selected_object_and_fly_to(qtbot, district):
    window, layer = district
    scene = window.scene
    pins, k = _add_pins(scene, layer)
    ann = window.annotations
    select(scene, layer, (k,))
    qtbot.waitUntil(lambda: window.inspector.index == k, timeout=3000)
    assert ann.inspector_pins.isVisible()
    assert [p.id for p in ann.inspector_pins.pins()] == [pins[0].id]
    assert ann.inspector_pins.list.count() == 1 and ann.inspector_pins.list.item(0).text() == "Town hall"
    # a pin added to it shows up, one on another object does not
    other = make_pin(pins[0].position, "Entrance", object_id=pins[0].object_id, source=layer.name)
    scene.add_item(other)
    assert ann.inspector_pins.list.count() == 2
    scene.undo_stack.undo()
    assert ann.inspector_pins.list.count() == 1
    select(scene, None, ())
    qtbot.waitUntil(lambda: not ann.inspector_pins.isVisible(), timeout=3000)
    # double-click in the dock: the camera flies to look at the pin
    window.viewport.view_preset("oblique-sw", animate=False)
    panel = ann.panel
    rect = panel.view.visualRect(panel.model.index(1))
    with qtbot.waitSignal(panel.fly_requested, timeout=3000):
        # Qt 6's QTest sends a double-click event alone: the first click of the pair goes before it
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not window.viewport.animating, timeout=3000)
    focal = np.asarray(window.viewport.current_pose().focal_point) + window.scene.origin
    assert np.linalg.norm(focal - np.asarray(pins[1].position)) < 0.5
    qx, qy = window.viewport.world_to_qt(np.asarray(pins[1].position))
    w, h = window.viewport.plotter.width(), window.viewport.plotter.height()
    assert abs(qx - w / 2) < 3 and abs(qy - h / 2) < 3
    img = snapshot(window)
    assert near_colour(img, qx, qy - LEADER_PX - 6, pins[1].colour, radius=4), "no marker at the pin flown to"


def test_edit_dialog_gives_the_changed_fields(qtbot, district):
    from citytwin.ui.annotations_panel import PinDialog

    window, layer = district
    pins, _ = _add_pins(window.scene, layer)
    dialog = PinDialog(window.scene.pins[0], window)
    qtbot.addWidget(dialog)
    assert dialog.changes() == {}
    dialog.title_edit.setText("  Town   hall (new) ")
    dialog.description_edit.setPlainText("Built 1911")
    dialog.set_colour((0.2, 0.3, 0.4))
    dialog.icon_combo.setCurrentIndex(dialog.icon_combo.findData("star"))
    changes = dialog.changes()
    assert changes == {
        "title": "Town hall (new)",
        "description": "Built 1911",
        "colour": (0.2, 0.3, 0.4),
        "icon": "star",
    }
    window.annotations.panel.edit(window.scene.pins[0], **changes)
    assert window.scene.pins[0].icon == "star" and window.scene.undo_stack.undo_text.startswith("Edit pin")
    window.scene.undo_stack.undo()
    assert window.scene.pins[0] == pins[0]


def test_a_pin_on_a_lidar_point(qtbot, make_window):
    from tests.conftest import shared_file

    window = make_window(size=(1000, 700))
    layer = open_and_wait(qtbot, window, shared_file("lidar/ahn3_cropped_1.laz"))
    vp = window.viewport
    vp.view_preset("top", animate=False)
    vp.finish_animation()
    cloud = layer.cloud
    i = len(cloud.xyz) // 2
    target = np.asarray(cloud.xyz[i], np.float64)
    qx, qy = vp.world_to_qt(target)
    ann = window.annotations
    ann.place_action.trigger()
    pin = ann.tool.place_at(qx, qy)
    assert pin is not None and window.scene.pins[0] is pin
    assert pin.object_id is None and pin.source == layer.name
    # the nearest point under the cursor: within a couple of pixels of the aimed one
    snapshot(window)
    px = float(ann.visual.pixel_size[0])
    assert np.linalg.norm(np.asarray(pin.position[:2]) - target[:2]) < 6 * px


def test_a_click_on_a_pin_marker_selects_the_pin_not_the_building_and_the_sky_clears_it(qtbot, district):
    window, layer = district
    scene, vp = window.scene, window.viewport
    pins, k = _add_pins(scene, layer)
    ann = window.annotations
    qx, qy, _ = frame_building(window, layer.model, k)
    snapshot(window)
    pin = pins[0]
    # the upper part of the pin's marker on screen (its lower part may be under another pin's label)
    px, py = vp.world_to_qt(np.asarray(pin.position))
    ratio = vp.plotter.devicePixelRatioF()
    box = ICON_BOX[pin.icon]
    mx, my = px + (box[0] + box[2]) / 2 / ratio, py - (LEADER_PX + box[3] - 5) / ratio
    assert layer.selection == ()
    qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(mx), round(my)))
    assert [p.id for p in ann.panel.selected_pins()] == [pin.id]
    assert ann.dock.isVisible()
    assert not layer.selection, "the click on the marker selected the building behind it"
    # a click on the building itself (its roof, below the marker) selects the building
    qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(round(qx), round(qy) + 6))
    qtbot.waitUntil(lambda: bool(layer.selection), timeout=3000)
    # another pin's marker: that pin, and the building's selection goes
    other = pins[2]
    px, py = vp.world_to_qt(np.asarray(other.position))
    box = ICON_BOX[other.icon]
    qtbot.mouseClick(
        vp.plotter,
        Qt.MouseButton.LeftButton,
        pos=QPoint(round(px + (box[0] + box[2]) / 2 / ratio), round(py - (LEADER_PX + box[3] - 5) / ratio)),
    )
    assert [p.id for p in ann.panel.selected_pins()] == [other.id]
    assert not layer.selection
    # a click on the sky clears the pin's selection
    vp.view_preset("north", animate=False, elevation=2.0)
    vp.finish_animation()
    snapshot(window)
    assert ann.visual.pick(*vp._qt_to_display(5, 5)) is None and vp.pick_qt(5, 5)[0] is None
    qtbot.mouseClick(vp.plotter, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert ann.panel.selected_pins() == []
