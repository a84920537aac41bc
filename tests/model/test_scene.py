"""The evented scene: layers, origin, undo."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.errors import CityTwinError
from citytwin.model.camera import CameraState
from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.crs import CRS, reproject
from citytwin.model.geometry import MeshBuilder
from citytwin.model.layers import CityModelLayer
from citytwin.model.scene import Scene, choose_origin


def _model(offset=(85_000.25, 446_000.75, 3.0), epsg=28992) -> CityModel:
    objects = CityObjects()
    b = objects.add("b1", "Building", attributes={"measuredHeight": 12.5})
    roof = objects.add("b1_roof", "RoofSurface", parent=b)
    builder = MeshBuilder()
    square = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], float) + offset
    builder.add_polygon([square], roof, 1, 20)
    return CityModel("CityGML", "2.0", objects, builder.build(), CRS.parse(f"EPSG:{epsg}"))


def test_origin_keeps_float32_within_a_millimetre():
    model = _model(offset=(5_400_123.456, 5_812_345.678, 40.0))
    origin = choose_origin(model.bounds)
    local = (model.mesh.vertices - origin).astype(np.float32)
    back = local.astype(np.float64) + origin
    assert np.abs(back - model.mesh.vertices).max() < 1e-3
    # without the origin float32 would be off by decimetres
    assert np.abs(model.mesh.vertices.astype(np.float32) - model.mesh.vertices).max() > 0.01


def test_layer_events_and_undo():
    scene = Scene()
    layer = CityModelLayer(name="city", model=_model())
    seen = []
    layer.events.visible.connect(lambda v: seen.append(("visible", v)))
    scene.add_layer(layer)
    assert scene.origin is not None and scene.crs.epsg == 28992
    scene.set(layer, "visible", False)
    assert seen == [("visible", False)]
    assert scene.undo_stack.undo_text == "Change visible"
    scene.undo_stack.undo()
    assert layer.visible and seen[-1] == ("visible", True)
    scene.undo_stack.undo()
    assert len(scene.layers) == 0
    scene.undo_stack.redo()
    assert scene.layers[0] is layer


def test_slider_drags_merge_into_one_step():
    scene = Scene()
    layer = CityModelLayer(name="city", model=_model())
    scene.add_layer(layer, undoable=False)
    for v in (0.9, 0.7, 0.5):
        scene.set(layer, "opacity", v, merge=True)
    assert layer.opacity == 0.5
    scene.undo_stack.undo()
    assert layer.opacity == 1.0
    assert not scene.undo_stack.can_undo


def test_layers_in_another_crs_are_reprojected_for_display_only():
    scene = Scene()
    rd = _model(offset=(78_642.0, 457_940.0, 5.0))
    scene.add_layer(CityModelLayer(name="a", model=rd))
    # the same square expressed in ETRS89 / UTM 31N
    utm = _model(epsg=25831)
    utm.mesh.vertices[:] = reproject(rd.mesh.vertices, rd.crs, CRS.parse("EPSG:25831"))
    layer = CityModelLayer(name="b", model=utm)
    scene.add_layer(layer)
    assert len(scene.layers) == 2
    assert layer.model.crs.epsg == 25831  # the source is untouched
    assert layer.display_model.crs.epsg == 28992
    np.testing.assert_allclose(layer.display_model.mesh.vertices, rd.mesh.vertices, atol=0.01)
    # topology and attributes are shared, not copied
    assert layer.display_model.mesh.triangles is utm.mesh.triangles


def test_unknown_crs_code_is_refused_with_a_sentence():
    scene = Scene()
    scene.add_layer(CityModelLayer(name="a", model=_model()))
    with pytest.raises(CityTwinError, match="cannot be shown"):
        scene.add_layer(CityModelLayer(name="b", model=_model(epsg=999999)))
    assert len(scene.layers) == 1


def test_camera_state_round_trips_and_interpolates():
    a = CameraState((0, -100, 50), (0, 0, 0))
    b = CameraState((100, 0, 50), (10, 0, 0), view_angle=40)
    assert CameraState.from_dict(a.to_dict()) == a
    mid = a.lerp(b, 0.5)
    assert mid.position == (50.0, -50.0, 50.0) and mid.view_angle == 35.0
    scene = Scene()
    got = []
    scene.camera_changed.connect(got.append)
    scene.camera = a
    scene.camera = a
    assert got == [a]


def test_editing_makes_a_scenario_in_one_undo_step():
    from citytwin.model.scenario import DeleteObjects, TransformObject, add_edit, deleted_ids

    scene = Scene()
    assert scene.scenario is None
    seen: list[str] = []
    scene.settings_changed.connect(seen.append)
    first = scene.edit_scenario(lambda s: add_edit(s, DeleteObjects(ids=("b1",))), "Delete b1")
    assert scene.scenario is first and first.name == "Scenario 1" and deleted_ids(first) == {"b1"}
    assert "scenario" in seen
    second = scene.edit_scenario(lambda s: add_edit(s, TransformObject(id="b2", translate=(1, 0, 0))), "Move b2")
    assert scene.scenario is second and len(second.edits) == 2 and len(scene.scenarios) == 1
    scene.undo_stack.undo()
    assert scene.scenario is first
    scene.undo_stack.undo()  # the scenario made by the first edit goes too: the existing city again
    assert scene.scenario is None and len(scene.scenarios) == 0
    scene.undo_stack.redo()
    assert scene.scenario == first and len(scene.scenarios) == 1
    # an invalid edit changes nothing
    import pytest

    with pytest.raises(ValueError):
        scene.edit_scenario(lambda s: add_edit(s, TransformObject(id="b2", height_scale=0.0)), "Bad")
    assert scene.scenario == first and len(scene.scenarios) == 1
    # a new scenario while another is shown is named after the ones there
    scene.scenario_id = None
    third = scene.edit_scenario(lambda s: add_edit(s, DeleteObjects(ids=("b9",))), "Delete b9")
    assert third.name == "Scenario 2"


def test_an_item_list_forgets_an_id_before_it_says_the_item_is_gone():
    from citytwin.model.annotations import ItemList, make_bookmark
    from citytwin.model.camera import CameraState

    cam = CameraState(position=(0.0, -10.0, 10.0), focal_point=(0.0, 0.0, 0.0))
    items = ItemList([make_bookmark(n, cam, id=n) for n in "abcd"])
    seen = []
    items.events.removed.connect(lambda index, item: seen.append((item.id, items.by_id(item.id))))
    del items[1]
    del items[0:2]
    assert sorted(seen) == [("a", None), ("b", None), ("c", None)]
    assert [i.id for i in items] == ["d"] and items.by_id("d") is items[0] and items.by_id("a") is None
    items.append(make_bookmark("a", cam, id="a"))  # an id that left can come back
    assert items.by_id("a") is items[1]
