"""Point clouds in the offscreen scene: pixels of known clusters, class toggles, colour modes, EDL, picking."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model.pointcloud import CLASSIFICATION_PALETTE, PointCloud
from citytwin.render.colormap import colormap_lut
from citytwin.render.offscreen import OffscreenScene, render_image, snapshot
from citytwin.render.pointcloud_visual import PointCloudVisual, PointPickResult
from citytwin.render.style import Style
from citytwin.render.visuals import CityModelVisual, visual_class_for
from tests.conftest import shared_file

SIZE = (480, 270)
#: no shading and no anti-aliasing: a pixel is exactly its point's colour
EXACT = Style(lighting="flat", anti_aliasing=None)
#: RD New (EPSG:28992) near Delft: float32 alone would be off by centimetres here
X0, Y0 = 85_000.123456, 447_500.654321


def grid(cx: float, cy: float, z: float, half: float, step: float) -> np.ndarray:
    g = np.arange(-half, half + step / 2, step)
    xx, yy = np.meshgrid(cx + g, cy + g)
    return np.c_[xx.ravel(), yy.ravel(), np.full(xx.size, z)]


def clusters_cloud() -> tuple[PointCloud, dict[str, np.ndarray]]:
    """Ground (class 2, z 0) in the west, a building block (class 6, z 10) in the east, a tree (5, z 30) north."""
    ground = grid(X0 - 25, Y0, 0.0, 12.0, 0.5)
    roof = grid(X0 + 25, Y0, 10.0, 8.0, 0.5)
    tree = grid(X0, Y0 + 25, 30.0, 5.0, 0.5)
    xyz = np.concatenate([ground, roof, tree])
    cls = np.concatenate([np.full(len(ground), 2), np.full(len(roof), 6), np.full(len(tree), 5)]).astype(np.uint8)
    rng = np.random.default_rng(1)
    n = len(xyz)
    cloud = PointCloud(
        xyz,
        classification=cls,
        intensity=rng.integers(0, 4000, n).astype(np.uint16),
        return_number=np.where(cls == 5, 2, 1).astype(np.uint8),
        number_of_returns=np.full(n, 2, np.uint8),
        gps_time=np.linspace(1000.0, 2000.0, n),
    )
    centres = {
        "ground": np.array([X0 - 25, Y0, 0.0]),
        "roof": np.array([X0 + 25, Y0, 10.0]),
        "tree": np.array([X0, Y0 + 25, 30.0]),
    }
    return cloud, centres


def pixel(img: np.ndarray, px: np.ndarray) -> np.ndarray:
    return img[int(px[1]), int(px[0])].astype(int)


def assert_colour(actual, expected, tol: int = 3) -> None:
    assert np.abs(np.asarray(actual, int) - np.asarray(expected, int)).max() <= tol, (actual, expected)


@pytest.fixture
def scene():
    with OffscreenScene(SIZE, EXACT) as sc:
        yield sc


def test_registry_and_offscreen_add(scene):
    cloud, _ = clusters_cloud()
    assert visual_class_for(cloud) is PointCloudVisual
    vis = scene.add(cloud)
    assert isinstance(vis, PointCloudVisual)
    assert vis.colour_mode == "classification"  # the cloud's default: classes, no RGB
    assert vis.local.dtype == np.float32
    assert np.abs(vis.local).max() < 100  # relative to the scene origin
    b = vis.bounds()
    np.testing.assert_allclose(b[[0, 3]] + scene.origin[0], [cloud.xyz[:, 0].min(), cloud.xyz[:, 0].max()])
    assert vis.polydata.GetNumberOfVerts() == cloud.n_points


def test_classification_colours_then_class_hidden_without_rebuilding(scene):
    cloud, centres = clusters_cloud()
    vis = scene.add(cloud)
    vis.set_point_size(4)
    vis.set_colour_mode("classification")
    scene.set_view("top")
    px = {k: scene.to_pixels(c[None])[0] for k, c in centres.items()}
    img = scene.render()
    assert_colour(pixel(img, px["roof"]), CLASSIFICATION_PALETTE[6], tol=0)
    assert_colour(pixel(img, px["ground"]), CLASSIFICATION_PALETTE[2], tol=0)
    assert_colour(pixel(img, px["tree"]), CLASSIFICATION_PALETTE[5], tol=0)
    # legend: the classes with their names and counts
    assert vis.thematic is not None and vis.legend is not None
    assert vis.thematic.categories == ["2 Ground", "5 High vegetation", "6 Building"]
    assert vis.thematic.category_counts == [cloud.class_counts[c] for c in (2, 5, 6)]

    points, colours = vis.polydata.GetPoints(), vis.colours.copy()
    vis.set_hidden_classes({6})
    assert vis.polydata.GetPoints() is points  # only the vertex list changed
    np.testing.assert_array_equal(vis.colours, colours)
    assert vis.polydata.GetNumberOfVerts() == cloud.n_points - cloud.class_counts[6]
    # the legend lists only the classes shown
    assert vis.legend is not None and vis.thematic.categories == ["2 Ground", "5 High vegetation"]
    img_hidden = scene.render()
    vis.set_visible(False)
    background = scene.render()
    vis.set_visible(True)
    assert_colour(pixel(img_hidden, px["roof"]), pixel(background, px["roof"]), tol=0)
    assert np.abs(pixel(img_hidden, px["roof"]) - CLASSIFICATION_PALETTE[6]).max() > 40
    assert_colour(pixel(img_hidden, px["ground"]), CLASSIFICATION_PALETTE[2], tol=0)
    vis.set_hidden_classes(set())
    assert vis.thematic.categories == ["2 Ground", "5 High vegetation", "6 Building"]
    assert_colour(pixel(scene.render(), px["roof"]), CLASSIFICATION_PALETTE[6], tol=0)


def test_elevation_low_and_high_colours_with_a_legend(scene):
    cloud, centres = clusters_cloud()
    vis = scene.add(cloud)
    vis.set_point_size(4)
    th = vis.set_colour_mode("elevation")
    assert vis.colour_mode == "elevation"
    assert th is not None and th.kind == "numeric"
    assert th.clim == pytest.approx((0.0, 30.0))
    scene.set_view("top")
    px = {k: scene.to_pixels(c[None])[0] for k, c in centres.items()}
    img = scene.render()
    lut = colormap_lut("viridis")
    assert_colour(pixel(img, px["ground"]), lut[0], tol=0)
    assert_colour(pixel(img, px["tree"]), lut[-1], tol=0)
    assert_colour(pixel(img, px["roof"]), lut[85], tol=2)  # 10 m of 0–30 m
    # the scalar bar is drawn on the left
    assert vis.legend is not None and vis.legend.GetVisibility()
    vis.set_legend(False)
    without = scene.render()
    left = (slice(30, 240), slice(0, 80))
    assert (np.abs(img[left].astype(int) - without[left]).max(axis=2) > 30).sum() > 200


def test_intensity_and_return_number_modes_rewrite_colours_in_place(scene):
    cloud, centres = clusters_cloud()
    vis = scene.add(cloud)
    array = vis.polydata.GetPointData().GetArray("colors")
    vis.set_colour_mode("intensity")
    assert vis.polydata.GetPointData().GetArray("colors") is array
    grey = vis.colours
    assert (grey[:, 0] == grey[:, 1]).all() and (grey[:, 1] == grey[:, 2]).all()
    lo, hi = vis.thematic.clim
    assert 0 < lo < 200 and 3800 < hi < 4000  # 2nd and 98th percentiles of a uniform 0–4000
    assert (grey[cloud.intensity <= lo] == 0).all() and (grey[cloud.intensity >= hi] == 255).all()
    vis.set_colour_mode("return_number")
    assert vis.thematic.categories == ["Return 1", "Return 2"]
    assert not np.array_equal(vis.colours[cloud.return_number == 1][0], vis.colours[cloud.return_number == 2][0])
    vis.set_colour_mode("rgb")  # no RGB in this cloud
    assert vis.colour_mode == "elevation"


def test_rgb_mode_shows_the_file_colours(scene):
    cloud = __import__("citytwin.io", fromlist=["read"]).read(shared_file("lidar/autzen_trim.laz"))
    vis = scene.add(cloud)
    assert vis.colour_mode == "rgb" and vis.legend is None
    vis.set_point_size(1)
    scene.set_view("top")
    img = scene.render()
    # a numpy z-buffer: each pixel shows its highest point (top view, 1-pixel points)
    px = scene.to_pixels(cloud.xyz)
    cols, rows = np.floor(px[:, 0]).astype(int), np.floor(px[:, 1]).astype(int)
    inside = (cols >= 0) & (cols < SIZE[0]) & (rows >= 0) & (rows < SIZE[1])
    flat = rows[inside] * SIZE[0] + cols[inside]
    z = cloud.xyz[inside, 2]
    order = np.lexsort((-z, flat))
    first = np.ones(len(order), bool)
    first[1:] = flat[order[1:]] != flat[order[:-1]]
    winners = np.flatnonzero(inside)[order[first]]
    shown = img[rows[winners], cols[winners]].astype(int)
    diff = np.abs(shown - cloud.rgb[winners]).max(axis=1)
    assert len(winners) > 5000
    assert (diff <= 3).mean() > 0.9


def test_eye_dome_lighting_changes_the_image_and_off_restores_it(scene):
    cloud, _ = clusters_cloud()
    vis = scene.add(cloud)
    vis.set_colour_mode("elevation", legend=False)
    vis.set_point_size(3)
    scene.set_view("oblique-ne")
    plain = scene.render()
    vis.set_eye_dome_lighting(True)
    assert vis.eye_dome_lighting
    shaded = scene.render()
    assert (np.abs(shaded.astype(int) - plain).max(axis=2) > 20).sum() > 100
    vis.set_eye_dome_lighting(False)
    np.testing.assert_array_equal(scene.render(), plain)


def test_eye_dome_lighting_is_shared_by_the_clouds_of_a_renderer(scene):
    a, _ = clusters_cloud()
    va, vb = scene.add(a), scene.add(a)
    va.set_eye_dome_lighting(True)
    vb.set_eye_dome_lighting(True)
    va.set_eye_dome_lighting(False)
    assert scene.renderer.GetPass() is not None  # vb still wants it
    vb.remove()
    assert scene.renderer.GetPass() is None  # the normal passes again


def test_pick_returns_the_point_with_exact_float64_coordinates(scene):
    cloud, centres = clusters_cloud()
    xyz = cloud.xyz.copy()
    # one lone point away from the clusters, at coordinates float32 cannot hold
    lone = np.array([X0 + 0.987654321, Y0 - 20.123456789, 5.4321])
    assert np.float32(lone[0]) != lone[0]
    n = len(xyz)
    big = PointCloud(
        np.vstack([xyz, lone]),
        classification=np.append(cloud.classification, 9).astype(np.uint8),
        intensity=np.append(cloud.intensity, 1234).astype(np.uint16),
        gps_time=np.append(cloud.gps_time, 123456.789),
        rgb=np.vstack([np.zeros((n, 3), np.uint8), [[10, 20, 30]]]).astype(np.uint8),
    )
    vis = scene.add(big)
    scene.set_view("oblique-sw")
    scene.render()
    col, row = scene.to_pixels(lone[None])[0]
    found = scene.pick(col + 1.5, row - 1.0)  # a pixel or two off still finds it
    assert found is not None
    v, hit = found
    assert v is vis and isinstance(hit, PointPickResult)
    assert hit.index == n
    np.testing.assert_array_equal(hit.coordinates, lone)  # exact, not through float32
    np.testing.assert_array_equal(hit.position, lone - scene.origin)
    assert (hit.classification, hit.class_name, hit.intensity) == (9, "Water", 1234)
    assert hit.rgb == (10, 20, 30) and hit.gps_time == 123456.789
    # the roof cluster: the pick is a roof point near the cursor
    col, row = scene.to_pixels(centres["roof"][None])[0]
    _, hit = scene.pick(col, row)
    assert hit.classification == 6
    assert np.linalg.norm(hit.coordinates[:2] - centres["roof"][:2]) < 1.5
    # hidden classes are not picked; nothing there is nothing
    vis.set_hidden_classes({9})
    col, row = scene.to_pixels(lone[None])[0]
    assert scene.pick(col, row) is None
    assert scene.pick(2, 2) is None
    vis.highlight([n])
    assert vis._highlight_actor is not None and vis._highlight_actor.GetVisibility()
    vis.highlight(None)
    assert not vis._highlight_actor.GetVisibility()


def test_interactive_draws_a_subset_then_everything(scene):
    cloud, _ = clusters_cloud()
    vis = scene.add(cloud)
    vis.interactive_budget = 1000
    assert vis.set_interactive(True)
    drawn = vis.polydata.GetNumberOfVerts()
    assert 900 <= drawn <= 1000
    scene.set_view("top")
    scene.render()
    assert not vis.set_interactive(False)
    assert vis.polydata.GetNumberOfVerts() == cloud.n_points
    vis.interactive_budget = 10**9
    assert not vis.set_interactive(True)  # small clouds are drawn whole
    assert vis.polydata.GetNumberOfVerts() == cloud.n_points


def test_every_class_hidden_then_a_layer_applied(scene):
    from citytwin.model.pointcloud import PointCloudLayer

    cloud, centres = clusters_cloud()
    vis = scene.add(cloud)
    scene.set_view("top")
    vis.set_hidden_classes(range(256))
    assert vis.polydata.GetNumberOfVerts() == 0
    scene.render()
    col, row = scene.to_pixels(centres["roof"][None])[0]
    assert scene.pick(col, row) is None
    layer = PointCloudLayer(cloud=cloud, colour_mode="intensity", point_size=3.0, hidden_classes=frozenset({5}))
    vis.apply_layer(layer)
    assert (vis.colour_mode, vis.point_size, vis.hidden_classes) == ("intensity", 3.0, frozenset({5}))
    assert vis.polydata.GetNumberOfVerts() == cloud.n_points - cloud.class_counts[5]


def test_look_options_and_remove(scene):
    cloud, _ = clusters_cloud()
    vis = scene.add(cloud)
    vis.set_point_size(5)
    assert vis.point_size == 5
    vis.set_round_points(True)
    assert vis.actor.GetProperty().GetRenderPointsAsSpheres()
    vis.set_opacity(0.5)
    assert vis.actor.GetProperty().GetOpacity() == 0.5
    with pytest.raises(ValueError):
        vis.set_point_size(0)
    with pytest.raises(ValueError):
        vis.set_colour_mode("nope")
    n_props = scene.renderer.GetViewProps().GetNumberOfItems()
    vis.highlight([0])
    vis.remove()
    assert scene.renderer.GetViewProps().GetNumberOfItems() == n_props - 2  # the cloud and its legend
    scene.visuals.remove(vis)


def test_lidar_and_city_model_share_the_origin():
    """AHN3 points and the Delft 3D city model (both Dutch RD): building points fall on the roofs."""
    from citytwin import io

    cloud = io.read(shared_file("lidar/ahn3_cropped_1.laz"))
    city = io.read(shared_file("cityjson/delft.json"))
    with OffscreenScene(SIZE, EXACT) as sc:
        pv = sc.add(cloud)
        cv = sc.add(city)
        assert isinstance(cv, CityModelVisual)
        assert np.array_equal(pv.origin, cv.origin) and np.array_equal(pv.origin, sc.origin)
        # frame the cloud (the city model is larger) and render the buildings alone
        sc.set_view("top", points=pv.fit_points())
        pv.set_visible(False)
        city_only = sc.render()
        pv.set_visible(True)
        both = sc.render()
        building = cloud.classification == 6
        px = sc.to_pixels(cloud.xyz[building][::50])
        px = px[(px[:, 0] >= 0) & (px[:, 0] < SIZE[0]) & (px[:, 1] >= 0) & (px[:, 1] < SIZE[1])]
        vis_sky = np.asarray(EXACT.sky_bottom)
        on_city = np.abs(city_only[px[:, 1].astype(int), px[:, 0].astype(int)].astype(int) - vis_sky).max(axis=1)
        # most building points project onto a surface of the city model, not onto the sky
        assert (on_city > 10).mean() > 0.6
        # both layers show: building-red points and city surfaces
        red = np.abs(both.astype(int) - CLASSIFICATION_PALETTE[6]).max(axis=2) <= 3
        assert red.sum() > 500
        assert (np.abs(both.astype(int) - city_only).max(axis=2) > 0).mean() > 0.1


def test_render_image_and_snapshot_with_points(tmp_path):
    cloud, centres = clusters_cloud()
    img = render_image([cloud], size=SIZE, view="top", style=EXACT, point_colour="elevation", point_size=4)
    assert img.shape == (SIZE[1], SIZE[0], 3)
    lut = colormap_lut("viridis")
    assert (np.abs(img.astype(int) - lut[-1]).max(axis=2) == 0).sum() > 100  # the tree top
    out = snapshot([cloud], tmp_path / "cloud.png", size=SIZE, eye_dome_lighting=True)
    assert out.exists() and out.stat().st_size > 1000
