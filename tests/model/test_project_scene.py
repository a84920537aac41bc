"""Scene ↔ project: layers with their sources and settings, items, camera, unknown sections."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.io.project import decode_project, encode_project
from citytwin.model.annotations import make_bookmark, make_measurement, make_pin
from citytwin.model.camera import CameraState
from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.crs import CRS
from citytwin.model.geometry import MeshBuilder
from citytwin.model.layers import CityModelLayer
from citytwin.model.overlays import OverlaySettings, TitleOverlay
from citytwin.model.pointcloud import PointCloud, PointCloudLayer
from citytwin.model.presentation import Presentation, Stop
from citytwin.model.project import (
    CityLayerSettings,
    DerivedLayer,
    LoadSettings,
    PointLayerSettings,
    Project,
    Source,
    TerrainOptions,
)
from citytwin.model.project_scene import (
    apply_items,
    apply_layer_settings,
    apply_project,
    clear_scene,
    derive_layers,
    derive_model,
    derived_layer,
    layer_settings,
    new_derived,
    new_source,
    project_from_scene,
    unsaved_layers,
)
from citytwin.model.scene import Scene

CAMERA = CameraState((85_000.5, 445_900.25, 300.0), (85_005.0, 446_005.0, 2.0), (0.0, 0.0, 1.0), 35.0)


def _model() -> CityModel:
    objects = CityObjects()
    b = objects.add("b1", "Building", attributes={"measuredHeight": 12.5})
    roof = objects.add("b1_roof", "RoofSurface", parent=b)
    builder = MeshBuilder()
    square = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], float) + (85_000.0, 446_000.0, 3.0)
    builder.add_polygon([square], roof, 1, 20)
    return CityModel("CityGML", "2.0", objects, builder.build(), CRS.parse("EPSG:28992"))


def _cloud() -> PointCloud:
    rng = np.random.default_rng(1)
    xyz = rng.uniform((85_000, 446_000, 0), (85_010, 446_010, 5), size=(50, 3))
    return PointCloud(xyz, classification=rng.integers(1, 7, 50).astype(np.uint8), crs=CRS.parse("EPSG:28992"))


def _scene(tmp_path) -> tuple[Scene, CityModelLayer, PointCloudLayer]:
    scene = Scene()
    city = CityModelLayer(name="district.gml", model=_model())
    city.source = new_source(scene, tmp_path / "district.gml", LoadSettings(lod_max=2.0))
    scene.add_layer(city, undoable=False)
    cloud = PointCloudLayer(name="ahn.laz", cloud=_cloud())
    cloud.source = new_source(scene, tmp_path / "ahn.laz", LoadSettings(point_budget=1000))
    scene.add_layer(cloud, undoable=False)
    return scene, city, cloud


def _change(city: CityModelLayer, cloud: PointCloudLayer) -> None:
    city.visible = False
    city.opacity = 0.4
    city.lod = 2
    city.colour_mode = "attribute"
    city.colour_attribute = "measuredHeight"
    city.single_colour = (0.1, 0.2, 0.3)
    city.hidden_semantics = frozenset({1, 2})
    city.hidden_types = frozenset({"SolitaryVegetationObject"})
    cloud.colour_mode = "elevation"
    cloud.point_size = 4.5
    cloud.eye_dome_lighting = True
    cloud.hidden_classes = frozenset({2, 5})
    cloud.opacity = 0.7


def test_project_from_scene_keeps_sources_settings_items_and_camera(tmp_path):
    scene, city, cloud = _scene(tmp_path)
    _change(city, cloud)
    city.name = "Old town"
    pin = make_pin((85_001.0, 446_002.0, 15.0), "Town hall", object_id="b1", source=city.source.id)
    m = make_measurement("distance", [(85_000, 446_000, 3), (85_010, 446_000, 3)])
    b = make_bookmark("overview", CAMERA)
    scene.pins.append(pin)
    scene.measurements.append(m)
    scene.bookmarks.append(b)
    scene.camera = CAMERA

    project = project_from_scene(scene, extra={"streaming": [{"name": "t"}]})

    assert [s.id for s in project.sources] == ["district.gml", "ahn.laz"]
    s_city, s_cloud = project.sources
    assert s_city.path == str(tmp_path / "district.gml")
    assert s_city.name == "Old town"
    assert s_cloud.name is None  # the file name: not repeated
    assert s_city.load == LoadSettings(lod_max=2.0)
    assert s_cloud.load.point_budget == 1000
    assert s_city.layer == CityLayerSettings(
        visible=False,
        opacity=0.4,
        lod=2,
        colour_mode="attribute",
        colour_attribute="measuredHeight",
        single_colour=(0.1, 0.2, 0.3),
        hidden_semantics=[1, 2],
        hidden_types=["SolitaryVegetationObject"],
    )
    assert s_cloud.layer == PointLayerSettings(
        opacity=0.7, colour_mode="elevation", point_size=4.5, eye_dome_lighting=True, hidden_classes=[2, 5]
    )
    assert project.pins == [pin] and project.measurements == [m] and project.bookmarks == [b]
    assert project.camera == CAMERA
    assert project.extra == {"streaming": [{"name": "t"}]}
    assert city.source.layer is None, "the layer's own source is left as it was"


def test_round_trip_through_the_file_format_and_back_into_a_scene(tmp_path):
    scene, city, cloud = _scene(tmp_path)
    _change(city, cloud)
    scene.pins.append(make_pin((85_001.0, 446_002.0, 15.0), "Town hall", source="district.gml"))
    scene.bookmarks.append(make_bookmark("overview", CAMERA))
    scene.camera = CAMERA
    scene.set(scene, "presentation", Presentation(playlist=[Stop(kind="bookmark", name="overview")], exit_pin="1"))
    scene.set(scene, "overlays", OverlaySettings(title=TitleOverlay(text="Plan")))
    path = tmp_path / "p.citytwin"
    project = decode_project(encode_project(project_from_scene(scene), path), path)

    # a fresh scene whose layers were read again with the project's sources
    again = Scene()
    layers = (CityModelLayer(model=_model()), PointCloudLayer(cloud=_cloud()))
    for source, layer in zip(project.sources, layers, strict=True):
        layer.name = source.display_name
        layer.source = source
        again.add_layer(layer, undoable=False)
    assert apply_project(again, project) == []
    new_city, new_cloud = again.layers
    assert layer_settings(new_city) == layer_settings(city)
    assert layer_settings(new_cloud) == layer_settings(cloud)
    assert list(again.pins) == list(scene.pins)
    assert list(again.bookmarks) == list(scene.bookmarks)
    assert again.camera == CAMERA
    assert again.presentation == scene.presentation and again.overlays == scene.overlays
    assert not again.undo_stack.can_undo, "opening a project is not an edit"
    scene.undo_stack.undo()
    assert scene.overlays == OverlaySettings(), "changing the overlays is an undoable step"
    assert project_from_scene(again).sources == project.sources


def test_new_source_ids_are_unique_in_the_scene(tmp_path):
    scene, city, _ = _scene(tmp_path)
    s = new_source(scene, tmp_path / "district.gml")
    assert s.id == "district.gml-2"
    assert new_source(scene, tmp_path / "district.gml", taken=["district.gml-2"]).id == "district.gml-3"


def test_layers_made_in_the_app_and_unloaded_sources(tmp_path):
    scene, city, _ = _scene(tmp_path)
    terrain = CityModelLayer(name="Terrain from ahn.laz", model=_model())
    scene.add_layer(terrain, undoable=False)
    assert unsaved_layers(scene) == [terrain]
    missing = Source(id="gone.laz", path=str(tmp_path / "gone.laz"), layer=PointLayerSettings(point_size=3.0))
    project = project_from_scene(scene, unloaded=[missing])
    assert [s.id for s in project.sources] == ["district.gml", "ahn.laz", "gone.laz"]
    assert project.sources[-1] is missing, "a source that could not be opened is kept as it was"


def test_invalid_settings_are_skipped_with_one_sentence_each():
    layer = CityModelLayer(name="x.gml", model=_model())
    problems = apply_layer_settings(
        layer, CityLayerSettings(opacity=7.0, colour_mode="rainbow", hidden_types=["Building"])
    )
    assert len(problems) == 2 and all(p.endswith(".") for p in problems)
    assert layer.opacity == 1.0 and layer.colour_mode == "semantic"
    assert layer.hidden_types == {"Building"}
    cloud = PointCloudLayer(name="c.laz", cloud=_cloud())
    problems = apply_layer_settings(cloud, CityLayerSettings(visible=False))
    assert len(problems) == 1 and cloud.visible is True
    assert apply_layer_settings(cloud, None) == []


def test_apply_items_replaces_and_clear_scene_empties(tmp_path):
    scene, _, _ = _scene(tmp_path)
    scene.pins.append(make_pin((1, 2, 3), "old"))
    project = Project()
    new = project.add_pin((4, 5, 6), "new")
    apply_items(scene, project)
    assert list(scene.pins) == [new]
    assert scene.camera is None, "a project without a camera leaves the view as it is"

    scene.camera = CAMERA
    scene.remove_layer(scene.layers[0])
    assert scene.undo_stack.can_undo
    clear_scene(scene)
    assert len(scene.layers) == 0 and len(scene.pins) == 0
    assert scene.origin is None and scene.crs is None and scene.camera is None
    assert not scene.undo_stack.can_undo and scene.undo_stack.is_clean
    # the next layer chooses a new origin
    layer = CityModelLayer(name="x", model=_model())
    scene.add_layer(layer, undoable=False)
    assert scene.origin is not None


@pytest.mark.parametrize("settings", [CityLayerSettings(), PointLayerSettings()])
def test_default_settings_leave_a_new_layer_as_opened(settings):
    layer = (
        CityModelLayer(name="x", model=_model())
        if isinstance(settings, CityLayerSettings)
        else PointCloudLayer(name="y", cloud=_cloud())
    )
    before = layer_settings(layer)
    apply_layer_settings(layer, settings)
    assert layer_settings(layer) == before


def test_pin_layer_settings_travel_with_the_project(tmp_path):
    from citytwin.io.project import read_project
    from citytwin.model.project_scene import apply_items, clear_scene, project_from_scene
    from citytwin.model.scene import Scene

    scene = Scene()
    scene.set(scene.annotation_settings, "pins_visible", False)
    scene.set(scene.annotation_settings, "pins_opacity", 0.35)
    saved = project_from_scene(scene).save(tmp_path / "p.citytwin")
    again = Scene()
    apply_items(again, read_project(saved))
    assert (again.annotation_settings.pins_visible, again.annotation_settings.pins_opacity) == (False, 0.35)
    clear_scene(again)
    assert (again.annotation_settings.pins_visible, again.annotation_settings.pins_opacity) == (True, 1.0)


def test_a_terrain_is_kept_as_how_it_was_made_and_made_again_on_open(tmp_path):
    scene, _, cloud = _scene(tmp_path)
    record = new_derived(scene, "ahn.laz", resolution=2.0)
    terrain_2m = TerrainOptions(resolution=2.0)
    assert record == DerivedLayer(id="terrain-1", derive="terrain", source="ahn.laz", terrain=terrain_2m)
    model = derive_model(record, cloud.cloud)
    terrain, problems = derived_layer(record, model, cloud.name)
    assert problems == [] and terrain.name == "Terrain from ahn.laz" and terrain.colour_mode == "elevation"
    scene.add_layer(terrain, undoable=False)
    terrain.opacity = 0.4
    terrain.visible = False
    assert unsaved_layers(scene) == [], "a terrain made from a source of the project is kept"
    assert new_derived(scene, "ahn.laz").id == "terrain-2"
    project = project_from_scene(scene)
    assert [(d.id, d.source, d.name, d.terrain.resolution) for d in project.derived] == [
        ("terrain-1", "ahn.laz", "Terrain from ahn.laz", 2.0)
    ]
    assert project.derived[0].layer == layer_settings(terrain)
    # in the file: how it was made, from which source, how it is shown
    path = tmp_path / "p.citytwin"
    data = encode_project(project, path)
    assert b'"derive": "terrain"' in data and b'"from": "ahn.laz"' in data
    back = decode_project(data, path)
    assert back.derived == project.derived
    # made again from the source's data: the same mesh, shown as saved
    made, problems = derive_layers(back, [(s, cloud.cloud) for s in back.sources if s.id == "ahn.laz"])
    assert problems == [] and len(made) == 1
    again = made[0][1]
    assert again.name == terrain.name and again.opacity == 0.4 and again.visible is False
    assert again.derived is not None and again.derived.id == "terrain-1"
    np.testing.assert_array_equal(again.model.mesh.vertices, model.mesh.vertices)
    scene.add_layer(again, undoable=False)
    scene.layers.remove(terrain)
    assert project_from_scene(scene).derived == project.derived, "reopened, it saves the same"
    # its source gone, the terrain is not kept (and said so) unless the source stays in the project
    made, problems = derive_layers(back, [])
    assert made == [] and len(problems) == 1 and "ahn.laz" in problems[0]
    scene.layers.remove(cloud)
    assert unsaved_layers(scene) == [again] and project_from_scene(scene).derived == []
    assert unsaved_layers(scene, [cloud.source]) == []
    assert len(project_from_scene(scene, unloaded=[cloud.source]).derived) == 1
    # derived layers not in the scene (being made, or their source missing) are kept as they were
    scene.layers.remove(again)
    kept = project_from_scene(scene, unloaded=[cloud.source], underived=back.derived)
    assert kept.derived == back.derived


def test_a_derived_layer_of_an_unknown_kind_or_from_a_city_model_is_one_sentence():
    record = DerivedLayer(id="x", derive="hologram", source="a")
    with pytest.raises(ValueError, match="cannot make a 'hologram' layer"):
        derive_model(record, _cloud())
    with pytest.raises(ValueError, match="is not one"):
        derive_model(DerivedLayer(id="t", derive="terrain", source="a"), _model())


def test_project_api_adds_a_terrain(tmp_path):
    p = Project()
    src = p.add_source(tmp_path / "ahn.laz")
    t = p.add_terrain(src, resolution=0.5, name="DTM")
    assert (t.id, t.source, t.name, t.terrain.resolution) == ("terrain-1", "ahn.laz", "DTM", 0.5)
    assert p.add_terrain("ahn.laz").id == "terrain-2"
    with pytest.raises(ValueError):
        p.add_terrain("nothing.laz")
    with pytest.raises(ValueError):
        p.add_terrain(src, resolution=0.0)
    back = Project.open(p.save(tmp_path / "t.citytwin"))
    assert back.derived == p.derived
