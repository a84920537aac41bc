"""Offscreen rendering with the window's visuals: pixels at known places, picking, legends, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from citytwin.model.semantics import SurfaceClass
from citytwin.render.colormap import CATEGORY_PALETTE, colormap_lut
from citytwin.render.offscreen import OffscreenScene, render_image, snapshot
from citytwin.render.style import SURFACE_COLOURS, Style
from citytwin.render.visuals import CityModelVisual, visual_class_for
from tests.conftest import shared_file
from tests.render.conftest import BOXES, X0, Y0, Z0, make_boxes

SIZE = (480, 270)
FLAT = Style(lighting="flat")  # no shading: a pixel is exactly its cell colour
ROOF = np.array(SURFACE_COLOURS[SurfaceClass.ROOF])
GROUND = np.array(SURFACE_COLOURS[SurfaceClass.GROUND])
WALL = np.array(SURFACE_COLOURS[SurfaceClass.WALL])


def roof_centres() -> np.ndarray:
    """Source coordinates of the centre of each box's roof."""
    return np.array([[cx, cy, Z0 + h] for _, cx, cy, _, _, h, _ in BOXES])


def pixels_at(img: np.ndarray, px: np.ndarray) -> np.ndarray:
    cols = np.floor(px[:, 0]).astype(int)
    rows = np.floor(px[:, 1]).astype(int)
    return img[rows, cols].astype(int)


def assert_colour(actual: np.ndarray, expected, tol: int = 3) -> None:
    assert np.abs(np.asarray(actual, int) - np.asarray(expected, int)).max() <= tol, (actual, expected)


@pytest.fixture
def scene():
    with OffscreenScene(SIZE, FLAT) as sc:
        yield sc


def test_roofs_from_the_top_then_hidden_without_rebuilding(scene):
    visual = scene.add(make_boxes())
    assert isinstance(visual, CityModelVisual)
    scene.set_view("top")
    px = scene.to_pixels(roof_centres())
    img = scene.render()
    assert img.shape == (SIZE[1], SIZE[0], 3) and img.dtype == np.uint8
    for c in pixels_at(img, px):
        assert_colour(c, ROOF)
    # a corner of the image is sky, not a building
    assert np.abs(img[2, 2].astype(int) - ROOF).max() > 60

    points_before = visual.polydata.GetPoints()
    visual.set_semantic_visible(SurfaceClass.ROOF, False)
    assert visual.polydata.GetPoints() is points_before  # same vtkPoints: only the cell list changed
    img = scene.render()
    for c in pixels_at(img, px):
        # looking into the open box: its ground surface, or an inner wall where perspective tilts the ray
        assert min(np.abs(c - GROUND).max(), np.abs(c - WALL).max()) <= 3, c
    visual.set_semantic_visible(SurfaceClass.ROOF, True)
    for c in pixels_at(scene.render(), px):
        assert_colour(c, ROOF)


def test_default_look_is_lit_and_roofs_read_red_brown():
    model = make_boxes(ground_plane=True)
    with OffscreenScene(SIZE) as sc:
        sc.add(model)
        sc.set_view("oblique-sw")
        px = sc.to_pixels(roof_centres())
        img = sc.render()
    for c in pixels_at(img, px):
        r, g, b = c
        assert r > g + 50 and r > b + 50, c  # red-brown, shaded by the light kit
    # the sky gradient: lighter at the bottom than at the top of the image
    assert img[0, 0].astype(int).sum() < img[-1, 0].astype(int).sum()


def test_highlight_tints_only_the_selected_building(scene):
    model = make_boxes()
    visual = scene.add(model)
    scene.set_view("top")
    px = scene.to_pixels(roof_centres())
    low = model.objects.index["house-low"]
    visual.highlight([low])
    c_low, c_high = pixels_at(scene.render(), px)
    m = FLAT.selection_mix
    expected = np.round(ROOF * (1 - m) + np.array(FLAT.selection) * m)
    assert_colour(c_low, expected)
    assert_colour(c_high, ROOF)
    visual.highlight([])
    for c in pixels_at(scene.render(), px):
        assert_colour(c, ROOF)


def test_colour_by_numeric_attribute_with_scalar_bar():
    img_plain = render_image([make_boxes()], SIZE, "top", style=FLAT)
    img = render_image([make_boxes()], SIZE, "top", colour_by="measuredHeight", style=FLAT)
    lut = colormap_lut("viridis")
    with OffscreenScene(SIZE, FLAT) as sc:
        sc.add(make_boxes())
        sc.set_view("top")
        px = sc.to_pixels(roof_centres())
    c_low, c_high = pixels_at(img, px)
    assert_colour(c_low, lut[0])
    assert_colour(c_high, lut[-1])
    # the scalar bar on the right holds the colour map's ends; the plain render has none of it (the bar
    # stands a little left of 0.9 of the width when its title needs the room)
    bar = img[int(0.12 * SIZE[1]) : int(0.88 * SIZE[1]), int(0.75 * SIZE[0]) :].reshape(-1, 3).astype(int)
    plain = img_plain[int(0.12 * SIZE[1]) : int(0.88 * SIZE[1]), int(0.75 * SIZE[0]) :].reshape(-1, 3).astype(int)
    for end in (lut[0], lut[-1]):
        assert (np.abs(bar - end).max(axis=1) <= 6).sum() > 20
        assert (np.abs(plain - end).max(axis=1) <= 6).sum() == 0


def test_colour_by_category_with_legend_box(scene):
    visual = scene.add(make_boxes())
    th = visual.set_colour_mode("attribute", attribute="function")
    assert th is not None and th.kind == "categorical" and th.categories == ["office", "residential"]
    scene.set_view("top")
    px = scene.to_pixels(roof_centres())
    img = scene.render()
    c_low, c_high = pixels_at(img, px)
    assert_colour(c_low, CATEGORY_PALETTE[1])  # residential
    assert_colour(c_high, CATEGORY_PALETTE[0])  # office
    legend = img[: SIZE[1] // 2, int(0.8 * SIZE[0]) :].reshape(-1, 3).astype(int)
    for rgb in CATEGORY_PALETTE[:2]:
        assert (np.abs(legend - np.array(rgb)).max(axis=1) <= 6).sum() > 4
    visual.set_colour_mode("single", colour=(10, 200, 30))
    assert visual.legend is None
    for c in pixels_at(scene.render(), px):
        assert_colour(c, (10, 200, 30))


def test_pick_returns_the_building_under_a_pixel(scene):
    model = make_boxes()
    visual = scene.add(model)
    scene.set_view("oblique-ne")
    px = scene.to_pixels(roof_centres())
    for (col, row), ident in zip(px, [b[0] for b in BOXES], strict=True):
        hit = scene.pick(col, row)
        assert hit is not None
        v, res = hit
        assert v is visual
        assert res.root == model.objects.index[ident]
        assert model.objects.types[res.object] == "RoofSurface"
        assert visual.object_of_cell(int(np.flatnonzero(visual.drawn_triangles == res.triangle)[0])) == res.object
    assert scene.pick(2, 2) is None  # sky
    visual.set_semantic_visible(SurfaceClass.ROOF, False)
    _, res = scene.pick(*px[0])
    assert model.objects.types[res.object] != "RoofSurface"  # hidden roofs cannot be picked
    assert res.root == model.objects.index[BOXES[0][0]]


def test_lod_switch_visibility_and_two_models_sharing_one_origin(scene):
    first = make_boxes(boxes=BOXES[:1], lod1_for_first=True)
    second = make_boxes(boxes=BOXES[1:])
    v1 = scene.add(first)
    v2 = scene.add(second)
    assert scene.origin is not None and np.array_equal(v1.origin, v2.origin)
    scene.set_view("top")
    px = scene.to_pixels(roof_centres())
    assert (v1.arrays.cell["lod"][v1.drawn_triangles] == 20).all()
    for c in pixels_at(scene.render(), px):
        assert_colour(c, ROOF)
    v1.set_lod(10)  # the unclassified LoD1 block: roof colour from its normal
    assert (v1.arrays.cell["lod"][v1.drawn_triangles] == 10).all()
    for c in pixels_at(scene.render(), px):
        assert_colour(c, ROOF)
    v2.set_visible(False)
    c_low, c_high = pixels_at(scene.render(), px)
    assert_colour(c_low, ROOF)
    assert np.abs(c_high - ROOF).max() > 60
    assert visual_class_for(first) is CityModelVisual


def test_snapshot_writes_a_png(tmp_path):
    from PIL import Image

    out = snapshot([make_boxes()], tmp_path / "shots" / "city.png", size=(320, 200), view="oblique-se")
    assert out.exists()
    with Image.open(out) as im:
        assert im.size == (320, 200)


def test_renders_without_any_display(tmp_path):
    """With DISPLAY unset, VTK falls back to EGL (Mesa llvmpipe) instead of failing."""
    code = (
        f"import numpy as np, sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r});"
        "from tests.render.conftest import make_boxes;"
        "from citytwin.render.offscreen import render_image;"
        "from citytwin.render.style import Style;"
        "img = render_image([make_boxes()], (200, 120), 'top', style=Style(lighting='flat'));"
        "print(img.shape, img[60, 100 - 12])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VTK_DEFAULT_OPENGL_WINDOW")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(120, 200, 3)" in result.stdout


@pytest.mark.shared
@pytest.mark.parametrize(
    ("relative", "view"),
    [("citygml/b1_lod2_cs_w_sem.gml", "top"), ("cityjson/delft.json", "top")],
)
def test_real_file_renders_its_geometry(relative, view):
    from citytwin.io import read

    model = read(shared_file(relative))
    with OffscreenScene(SIZE, FLAT) as sc:
        visual = sc.add(model)
        sc.set_view(view)
        img = sc.render()
        assert len(visual.drawn_triangles) > 0
        # the middle of the model is covered by geometry, not sky
        cols = visual.arrays.cell["colors"][visual.drawn_triangles, :3].astype(int)
        centre = img[SIZE[1] // 2 - 20 : SIZE[1] // 2 + 20, SIZE[0] // 2 - 20 : SIZE[0] // 2 + 20].reshape(-1, 3)
        known = np.unique(cols, axis=0)
        close = np.abs(centre[:, None, :].astype(int) - known[None]).max(axis=2).min(axis=1) <= 4
        assert close.mean() > 0.5
        # picking the centre pixel finds an object of the model
        hit = sc.pick(SIZE[0] / 2, SIZE[1] / 2)
        assert hit is not None and 0 <= hit[1].root < len(model.objects)


def test_colour_by_elevation_ramps_triangle_heights(scene):
    visual = scene.add(make_boxes(ground_plane=True))
    z0 = Z0 - 0.05  # the terrain square, the lowest triangles
    th = visual.set_colour_mode("elevation", clim=(z0, Z0 + 30.0))
    assert th is not None and th.attribute == "Elevation (m)" and th.clim == (z0, Z0 + 30.0)
    assert visual.legend is not None
    scene.set_view("top")
    px = scene.to_pixels(roof_centres())
    img = scene.render()
    lut = colormap_lut("viridis")
    c_low, c_high = pixels_at(img, px)
    assert_colour(c_high, lut[-1])  # the 30 m roof is the top of the range
    assert_colour(c_low, lut[round(255 * 10.05 / 30.05)], tol=4)  # the 10 m roof, a third of the way up
    (ground_px,) = scene.to_pixels(np.array([[X0, Y0 + 50.0, z0]]))
    assert_colour(pixels_at(img, ground_px[None])[0], lut[0])  # the terrain beside the houses is the bottom
    visual.set_colour_mode("semantic")
    assert visual.legend is None
    assert_colour(pixels_at(scene.render(), px)[0], ROOF)
