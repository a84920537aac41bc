"""The "texture" colour mode: materials as cell colours, texture images with their uv, missing images."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from citytwin.io import read
from citytwin.model.citymodel import CityModel
from citytwin.model.geometry import Material, Texture
from citytwin.model.semantics import SurfaceClass
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.style import SURFACE_COLOURS, Style
from citytwin.render.textures import appearance_coverage, choose_theme, load_textures, material_colours
from tests.conftest import shared_file
from tests.render.conftest import BOXES, Z0, make_boxes

FLAT = Style(lighting="flat", anti_aliasing=None)
ROOF = np.array(SURFACE_COLOURS[SurfaceClass.ROOF])
WALL = np.array(SURFACE_COLOURS[SurfaceClass.WALL])
RED, BLUE = np.array([220, 30, 30]), np.array([30, 40, 210])
GREEN_MATERIAL = (0.2, 0.6, 0.3)


def _checker(path, n: int = 64) -> None:
    """Left half red, right half blue (u < 0.5 red), written as PNG."""
    img = np.zeros((n, n, 3), np.uint8)
    img[:, : n // 2] = RED
    img[:, n // 2 :] = BLUE
    Image.fromarray(img).save(path)


def textured_boxes(tmp_path, image: str | None = "roof.png") -> CityModel:
    """The two test boxes; the first roof textured (u runs west → east), walls with a green material."""
    model = make_boxes()
    mesh = model.mesh
    if image is not None:
        _checker(tmp_path / image)
    mesh.textures = [Texture(path=str(tmp_path / (image or "gone.png")), exists=image is not None)]
    mesh.materials = [Material(diffuse=GREEN_MATERIAL)]
    n_poly = mesh.n_polygons
    material = np.where(mesh.poly_semantic == SurfaceClass.WALL, 0, -1).astype(np.int32)
    texture = np.full(n_poly, -1, np.int32)
    uv = np.full((len(mesh.vertices), 2), np.nan, np.float32)
    roof = int(np.flatnonzero(mesh.poly_semantic == SurfaceClass.ROOF)[0])
    texture[roof] = 0
    a, b = mesh.ring_offsets[mesh.polygon_rings[roof]], mesh.ring_offsets[mesh.polygon_rings[roof] + 1]
    v = mesh.vertices[a:b]
    lo, hi = v.min(axis=0), v.max(axis=0)
    uv[a:b] = (v[:, :2] - lo[:2]) / (hi[:2] - lo[:2])
    from citytwin.model.geometry import ThemeAppearance

    mesh.appearances = {"rgbTexture": ThemeAppearance(material, texture, uv)}
    return model


def _roof_pixels(scene: OffscreenScene, fraction_x: float) -> np.ndarray:
    """The pixel on the first roof at ``fraction_x`` of its width, halfway north-south."""
    _, cx, cy, w, _, h, _ = BOXES[0]
    px = scene.to_pixels(np.array([[cx - w / 2 + fraction_x * w, cy, Z0 + h]]))[0]
    return px


def _at(img: np.ndarray, px: np.ndarray) -> np.ndarray:
    return img[int(px[1]), int(px[0])].astype(int)


def test_texture_image_drawn_with_its_uv_and_materials_as_colours(tmp_path):
    model = textured_boxes(tmp_path)
    with OffscreenScene((480, 270), FLAT) as scene:
        visual = scene.add(model)
        scene.set_view("top")
        west, east = _roof_pixels(scene, 0.2), _roof_pixels(scene, 0.8)
        img = scene.render()
        assert np.abs(_at(img, west) - ROOF).max() <= 3  # semantic look first
        assert visual.preferred_colour_mode == "texture"
        visual.set_colour_mode("texture")
        assert len(visual.texture_actors) == 1 and visual.warnings == []
        img = scene.render()
        assert np.abs(_at(img, west) - RED).max() <= 6, _at(img, west)
        assert np.abs(_at(img, east) - BLUE).max() <= 6, _at(img, east)
        # the second building has no texture: its roof stays semantic
        _, cx, cy, _, _, h, _ = BOXES[1]
        other = scene.to_pixels(np.array([[cx, cy, Z0 + h]]))[0]
        assert np.abs(_at(img, other) - ROOF).max() <= 3
        # a textured triangle is picked like any other
        hit = scene.pick(*west)
        assert hit is not None and model.objects.ids[hit[1].root] == BOXES[0][0]
        # the selection tint multiplies the image (yellow: blue turns dark)
        visual.highlight([hit[1].root])
        tinted = _at(scene.render(), east)
        assert np.abs(tinted - BLUE).max() > 80, tinted
        visual.highlight(None)
        # and back to semantic colours: the texture actor is hidden
        visual.set_colour_mode("semantic")
        img = scene.render()
        assert np.abs(_at(img, west) - ROOF).max() <= 3
        assert not any(a.GetVisibility() for a in visual.texture_actors)


def test_material_colours_on_walls(tmp_path):
    model = textured_boxes(tmp_path)
    green = np.round(np.array(GREEN_MATERIAL) * 255)
    with OffscreenScene((480, 270), FLAT) as scene:
        visual = scene.add(model)
        scene.set_view("south", elevation=0.0)
        _, cx, cy, _, d, h, _ = BOXES[1]
        wall = scene.to_pixels(np.array([[cx, cy - d / 2, Z0 + h / 2]]))[0]
        assert np.abs(_at(scene.render(), wall) - WALL).max() <= 3
        visual.set_colour_mode("texture")
        assert np.abs(_at(scene.render(), wall) - green).max() <= 3


def test_missing_image_warns_once_and_falls_back(tmp_path):
    model = textured_boxes(tmp_path, image=None)
    with OffscreenScene((480, 270), FLAT) as scene:
        visual = scene.add(model)
        scene.set_view("top")
        west = _roof_pixels(scene, 0.2)
        visual.set_colour_mode("texture")
        visual.set_colour_mode("semantic")
        visual.set_colour_mode("texture")
        assert len(visual.warnings) == 1 and "gone.png" in visual.warnings[0]
        assert visual.texture_actors == []
        assert np.abs(_at(scene.render(), west) - ROOF).max() <= 3


def test_material_and_theme_helpers(tmp_path):
    model = textured_boxes(tmp_path)
    mesh = model.mesh
    assert choose_theme(mesh) == "rgbTexture" and choose_theme(mesh, "nope") == "rgbTexture"
    assert 0.5 < appearance_coverage(mesh) < 1.0  # 8 walls + 1 roof of 12 polygons
    fallback = np.zeros((mesh.n_triangles, 4), np.uint8)
    rgba = material_colours(mesh, None, fallback)
    walls = mesh.tri_semantic == SurfaceClass.WALL
    assert (rgba[walls, 3] == 255).all() and (rgba[~walls] == 0).all()
    ts = load_textures(mesh, None, None)
    assert ts.textured.sum() == 2 and list(ts.textures) == [0]
    assert np.abs(ts.mean_colours[0].astype(int) - (RED + BLUE) // 2).max() <= 2


@pytest.fixture(scope="module")
def lod3_model():
    return read(shared_file("citygml/citygml4j_lod3/lod3_building_v2.gml"))


def _texel_mean(path, uv: np.ndarray, half: int = 4) -> np.ndarray:
    """Mean RGB of the image around a texture coordinate (VTK: v = 0 at the bottom, repeat)."""
    img = np.asarray(Image.open(path).convert("RGB")).astype(float)
    h, w = img.shape[:2]
    col = int((uv[0] % 1.0) * w)
    row = int((1.0 - uv[1] % 1.0) * h)
    return img[max(row - half, 0) : row + half + 1, max(col - half, 0) : col + half + 1].reshape(-1, 3).mean(axis=0)


def test_lod3_building_facade_shows_its_texture(lod3_model):
    mesh = lod3_model.mesh
    with OffscreenScene((400, 400), FLAT) as scene:
        visual = scene.add(lod3_model)
        scene.set_view("west", elevation=0.0)
        semantic = scene.render()
        visual.set_colour_mode("texture")
        assert visual.warnings == [] and len(visual.texture_actors) >= 5
        textured = scene.render()
        uv_all = mesh.appearances[visual._textures.theme].uv  # noqa: SLF001
        close = changed = tried = 0
        for row in range(120, 300, 30):
            for col in range(160, 250, 30):
                hit = scene.pick(col, row)
                if hit is None:
                    continue
                t = hit[1].triangle
                tex = int(visual._textures.tri_texture[t])  # noqa: SLF001
                if tex < 0:
                    continue
                tried += 1
                # barycentric uv of the picked point
                corners = visual.arrays.points[mesh.triangles[t]].astype(float)
                a, b, c = corners
                m = np.column_stack([b - a, c - a])
                wb, wc = np.linalg.lstsq(m, hit[1].position - a, rcond=None)[0]
                uv = (1 - wb - wc) * uv_all[mesh.triangles[t][0]] + wb * uv_all[mesh.triangles[t][1]]
                uv = uv + wc * uv_all[mesh.triangles[t][2]]
                expected = _texel_mean(mesh.textures[tex].path, uv)
                got = textured[row, col].astype(float)
                close += np.abs(got - expected).max() < 45
                changed += np.abs(got - semantic[row, col]).max() > 12
        assert tried >= 12, tried
        # the rendered pixels are the image's texels at the surface's uv, not the semantic colours
        assert close >= 0.75 * tried, (close, tried)
        assert changed >= 0.6 * tried, (changed, tried)


def test_lod3_building_without_its_images(tmp_path):
    src = shared_file("citygml/citygml4j_lod3/lod3_building_v2.gml")
    shutil.copy(src, tmp_path / src.name)  # the appearances/ folder stays behind
    model = read(tmp_path / src.name)
    with OffscreenScene((300, 300), FLAT) as scene:
        visual = scene.add(model)
        scene.set_view("west", elevation=0.0)
        visual.set_colour_mode("texture")
        img = scene.render()
        assert len(visual.warnings) == 1 and "could not be read" in visual.warnings[0]
        assert visual.texture_actors == []
        # every face shows its material (or semantic) colour: a handful of flat colours
        expected = material_colours(model.mesh, None, visual.arrays.cell["colors"])[:, :3]
        hit = scene.pick(150, 150)
        assert hit is not None
        assert np.abs(img[150, 150].astype(int) - expected[hit[1].triangle].astype(int)).max() <= 3


def test_textured_obj_quad_shows_its_image(tmp_path):
    from tests.io.test_mesh import textured_quad

    model = read(textured_quad(tmp_path))
    with OffscreenScene((320, 200), FLAT) as scene:
        visual = scene.add(model)
        scene.set_view("top")
        left, right = scene.to_pixels(np.array([[0.5, 0.5, 0.0], [1.5, 0.5, 0.0]]))
        assert visual.preferred_colour_mode == "texture"
        visual.set_colour_mode("texture")
        assert len(visual.texture_actors) == 1 and visual.warnings == []
        img = scene.render()
        assert np.abs(_at(img, left) - (255, 0, 0)).max() <= 6, _at(img, left)
        assert np.abs(_at(img, right) - (0, 0, 255)).max() <= 6, _at(img, right)
