"""CityModelVisual: hiding object types, empty models, warm-up, tight camera fits, legend layout."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.geometry import MeshBuilder
from citytwin.render.camera import pose_for_points, preset_view, project
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.style import Style
from citytwin.render.visuals import CityModelVisual, fit_legend, preferred_colour_mode
from tests.render.conftest import make_boxes

FLAT = Style(lighting="flat")
SIZE = (320, 240)


@pytest.fixture
def scene():
    with OffscreenScene(SIZE, FLAT) as sc:
        yield sc


def _sky_only(img: np.ndarray) -> bool:
    return len(np.unique(img.reshape(-1, 3) // 8, axis=0)) < 40  # a smooth gradient, no geometry


def test_hidden_types_filter_without_rebuilding_geometry(scene):
    model = make_boxes(ground_plane=True)
    vis = scene.add(model)
    scene.set_view("top")
    assert isinstance(vis, CityModelVisual)
    all_drawn = len(vis.drawn_triangles)
    points = vis.polydata.GetPoints()
    vis.set_hidden_types({"TINRelief"})
    roots = vis.arrays.cell["root"][vis.drawn_triangles]
    terrain = model.objects.ids.index("terrain")
    assert terrain not in roots and 0 < len(vis.drawn_triangles) < all_drawn
    assert vis.polydata.GetPoints() is points  # only the cell list changed
    assert vis.hidden_types == frozenset({"TINRelief"})
    # hiding every type: nothing drawn, nothing to pick, rendering and the proxy still work
    vis.set_hidden_types({"TINRelief", "Building"})
    assert len(vis.drawn_triangles) == 0 and vis.polydata.GetNumberOfCells() == 0
    assert _sky_only(scene.render())
    assert vis.pick(SIZE[0] / 2, SIZE[1] / 2) is None
    vis.interaction_lod.triangle_budget = 0
    vis.set_interactive(True)
    scene.render()
    vis.set_interactive(False)
    # combined with the semantic and LoD filters, and back
    vis.set_hidden_types(())
    assert len(vis.drawn_triangles) == all_drawn
    assert not _sky_only(scene.render())


def test_a_model_without_triangles_gets_an_empty_visual(scene):
    objects = CityObjects()
    objects.add("only-attributes", "Building", attributes={"measuredHeight": 3.0})
    model = CityModel(format="test", version="0", objects=objects, mesh=MeshBuilder().build())
    vis = scene.add(model)
    assert len(vis.drawn_triangles) == 0 and not np.isfinite(vis.bounds()).any()
    assert len(vis.fit_points()) == 0
    for call in (
        lambda: vis.set_lod(20),
        lambda: vis.set_hidden_types({"Building"}),
        lambda: vis.set_colour_mode("texture"),
        lambda: vis.set_colour_mode("attribute", attribute="measuredHeight"),
        lambda: vis.highlight([0]),
        lambda: vis.set_interactive(True),
    ):
        call()
    assert vis.pick(10, 10) is None
    assert vis.warm_up_step() is False
    scene.render()


def test_warm_up_builds_locator_then_proxy_in_pieces(scene):
    vis = scene.add(make_boxes())
    scene.set_view("oblique-ne")
    vis.interaction_lod.triangle_budget = 4  # "heavy" for this test
    assert vis._locator is None
    steps = 1
    while vis.warm_up_step():
        steps += 1
        assert steps < 10
    assert steps == 3  # locator, faces up, proxy
    assert vis._locator is not None
    key = vis._proxy_key
    assert key is not None
    assert vis.set_interactive(True) and vis._proxy_key == key  # nothing rebuilt on the first drag
    vis.set_interactive(False)
    assert vis.warm_up_step() is False
    vis.set_lod(20)  # new drawn cells: the warm-up has work again
    assert vis.warm_up_step() is True


def test_oblique_fit_frames_the_points_tightly():
    # a long, low row of buildings: its bounding box seen at 40° projects much larger than the buildings
    pts = np.array([[x, y, z] for x in (-200.0, 200.0) for y in (-8.0, 8.0) for z in (0.0, 12.0)])
    size = (1600, 900)
    for view in ("oblique-sw", "oblique-ne", "north", "top"):
        pose = preset_view(
            np.concatenate([pts.min(axis=0), pts.max(axis=0)]), view, aspect=size[0] / size[1], points=pts
        )
        px = project(pose, pts, size)
        assert np.isfinite(px).all()
        span = (px.max(axis=0) - px.min(axis=0)) / np.array(size)
        assert 0.85 <= span.max() <= 0.9, (view, span)
        assert (px >= 0).all() and (px[:, 0] <= size[0]).all() and (px[:, 1] <= size[1]).all()
        mid = (px.max(axis=0) + px.min(axis=0)) / 2
        np.testing.assert_allclose(mid, np.array(size) / 2, atol=2.0)  # centred, also under perspective


def test_pose_for_points_keeps_the_focal_point_inside():
    pts = np.random.default_rng(1).uniform(-50, 50, (200, 3))
    pose = pose_for_points(pts, np.array([1.0, -1.0, 1.0]), np.array([0.0, 0.0, 1.0]), aspect=1.5)
    assert np.linalg.norm(pose.focal_point) < 60
    assert pose.distance > 50


def test_snapshot_fills_the_image():
    with OffscreenScene(SIZE, FLAT) as sc:
        sc.add(make_boxes())
        sc.set_view("oblique-sw")
        img = sc.render()
    sky = img[0, 0].astype(int)
    cols = np.flatnonzero((np.abs(img.astype(int) - sky).max(axis=2) > 40).any(axis=0))
    rows = np.flatnonzero((np.abs(img.astype(int) - sky).max(axis=2) > 40).any(axis=1))
    span = max((cols.max() - cols.min()) / SIZE[0], (rows.max() - rows.min()) / SIZE[1])
    assert span > 0.8, span


def test_scalar_bar_title_stays_inside_the_view(scene):
    vis = scene.add(make_boxes())
    vis.model.objects.attributes[0]["aVeryLongAttributeNameForTheTitle"] = 1.0
    vis.model.objects.attributes[1]["aVeryLongAttributeNameForTheTitle"] = 2.0
    vis.set_colour_mode("attribute", attribute="aVeryLongAttributeNameForTheTitle")
    scene.set_view("top")
    scene.render()
    bar = vis.legend
    x = bar.GetPositionCoordinate().GetValue()[0]
    assert x < 0.9  # moved left for its title
    title_px = bar._citytwin_title[1]
    centre_px = (x + bar.GetWidth() / 2) * SIZE[0]
    assert centre_px + title_px / 2 <= SIZE[0]
    fit_legend(bar, (4000, 1000))  # a wide view: back at its usual place
    assert bar.GetPositionCoordinate().GetValue()[0] == pytest.approx(0.9)


def test_preferred_colour_mode_ignores_missing_images():
    model = make_boxes()
    assert preferred_colour_mode(model) == "semantic"
