"""Stills: 8K at full resolution, tiles that match a single render, transparent skies, pixel-sized things
scaled with the output, PNG and JPEG written atomically, and every bad request one sentence."""

from __future__ import annotations

import errno
import os
import time

import numpy as np
import pytest
from PIL import Image

from citytwin.model.annotations import make_pin
from citytwin.model.overlays import OverlaySettings, ScaleBarOverlay, TitleOverlay
from citytwin.model.semantics import SurfaceClass
from citytwin.render.camera import CameraPose
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.overlays import OverlayRenderer
from citytwin.render.stills import (
    StillError,
    check_still_path,
    check_still_size,
    gl_max_size,
    parse_size,
    render_still,
    save_still,
    scaled_props,
)
from citytwin.render.style import SURFACE_COLOURS, Style
from tests.render.conftest import BOXES, X0, Y0, Z0, make_boxes

FLAT = Style(lighting="flat")
ROOF = np.array(SURFACE_COLOURS[SurfaceClass.ROOF])


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and message.rstrip(".").count(". ") == 0


def roof_centres() -> np.ndarray:
    return np.array([[cx, cy, Z0 + h] for _, cx, cy, _, _, h, _ in BOXES])


def colour_at(img: np.ndarray, px: np.ndarray) -> np.ndarray:
    return img[np.floor(px[:, 1]).astype(int), np.floor(px[:, 0]).astype(int), :3].astype(int)


def top_pose(scene: OffscreenScene, height: float = 250.0) -> CameraPose:
    centre = np.array([X0, Y0, Z0]) - scene.origin
    return CameraPose(centre + [0.0, 0.0, height], centre, np.array([0.0, 1.0, 0.0]), 30.0)


@pytest.fixture
def scene():
    with OffscreenScene((480, 270), FLAT) as sc:
        sc.add(make_boxes())
        sc.set_pose(top_pose(sc))
        yield sc


# ---------------------------------------------------------------------------- sizes and names
@pytest.mark.parametrize(
    "size",
    [(0, 100), (100, -5), (7681, 4320), (7680, 4321), (5000, 5000), (4321, 7680), (3, 3), ("a", 2), (1.5, 2), 7],
)
def test_impossible_sizes_are_one_sentence(size):
    with pytest.raises(StillError) as err:
        check_still_size(size)
    assert one_sentence(str(err.value)), str(err.value)


def test_sizes_up_to_8k_and_its_portrait():
    assert check_still_size((7680, 4320)) == (7680, 4320)
    assert check_still_size((4320, 7680)) == (4320, 7680)
    assert check_still_size((1234, 567)) == (1234, 567)
    assert check_still_size((np.int64(800), 600.0)) == (800, 600)
    assert parse_size("8k") == (7680, 4320)
    assert parse_size(" 1080p ") == (1920, 1080)
    assert parse_size("4K") == (3840, 2160)
    assert parse_size("1000x700") == (1000, 700)
    assert parse_size("700×1000") == (700, 1000)
    for bad in ("big", "1920x", "99999x10", "0x0"):
        with pytest.raises(StillError) as err:
            parse_size(bad)
        assert one_sentence(str(err.value))


def test_file_names_say_the_format():
    assert check_still_path("a/b.PNG") == "PNG"
    assert check_still_path("b.jpeg") == "JPEG"
    with pytest.raises(StillError) as err:
        check_still_path("b.jpg", transparent=True)
    assert "JPEG" in str(err.value) and one_sentence(str(err.value))
    with pytest.raises(StillError) as err:
        check_still_path("b.tif")
    assert one_sentence(str(err.value))


def test_the_driver_allows_8k_in_one_piece(scene):
    assert gl_max_size(scene.plotter.render_window) >= 7680  # llvmpipe: 16384


# ---------------------------------------------------------------------------- rendering
def test_8k_still_has_its_size_is_not_blank_and_is_sharp(scene):
    scene.overlays = OverlayRenderer(scene.renderer, None, OverlaySettings(title=TitleOverlay(text="Den Haag")))
    small = scene.render()
    t0 = time.perf_counter()
    img = render_still(scene, (7680, 4320))
    seconds = time.perf_counter() - t0
    print(f"8K still: {seconds:.2f} s")
    assert img.shape == (4320, 7680, 3) and img.dtype == np.uint8
    assert img.std() > 20  # not blank
    px = scene.to_pixels(roof_centres()) * 16  # 480 × 270 → 7680 × 4320
    for c in colour_at(img, px):
        assert np.abs(c - ROOF).max() <= 3
    # sharp: a roof edge goes from roof to sky within a few pixels, not 16 (no upscaling)
    row = int(px[0, 1])
    line = img[row, :, :3].astype(int)
    is_roof = np.abs(line - ROOF).max(axis=1) <= 3
    edge = int(np.flatnonzero(is_roof)[-1])
    assert np.abs(line[edge + 4] - ROOF).max() > 40
    assert np.array_equal(scene.render(), small)  # the scene is left as it was
    assert seconds < 20


def test_tiles_make_the_same_image_as_one_render(scene, tmp_path):
    logo = tmp_path / "logo.png"
    Image.fromarray(np.full((10, 20, 3), (255, 0, 255), np.uint8)).save(logo)
    from citytwin.model.overlays import LogoOverlay

    settings = OverlaySettings(
        title=TitleOverlay(text="Tiles"), logo=LogoOverlay(path=str(logo)), scale_bar=ScaleBarOverlay()
    )
    with OffscreenScene((480, 270)) as sc:  # the default look: gradient sky, lights, FXAA
        sc.add(make_boxes(ground_plane=True))
        sc.set_view("oblique-ne")
        sc.overlays = OverlayRenderer(sc.renderer, None, settings)
        whole = render_still(sc, (1200, 675))
        tiled = render_still(sc, (1200, 675), max_render_size=500)  # 3 × 3 tiles of 400 × 225
        assert tiled.shape == whole.shape
        diff = np.abs(whole.astype(int) - tiled).max(axis=2)
        assert diff.mean() < 1.0 and (diff > 40).mean() < 0.003  # FXAA at the tiles' seams, nothing else
        clear = render_still(sc, (1200, 675), transparent=True, max_render_size=500)
        assert clear.shape == (675, 1200, 4) and clear[0, 600, 3] == 0


def test_transparent_sky_has_alpha_0_and_buildings_255(scene, tmp_path):
    img = render_still(scene, (960, 540), transparent=True)
    assert img.shape == (540, 960, 4)
    px = scene.to_pixels(roof_centres()) * 2
    assert (img[np.floor(px[:, 1]).astype(int), np.floor(px[:, 0]).astype(int), 3] == 255).all()
    assert img[2, 2, 3] == 0 and img[-3, -3, 3] == 0
    assert (img[..., 3] == 0).mean() > 0.5
    path = save_still(img, tmp_path / "clear.png")
    back = np.asarray(Image.open(path))
    assert back.shape == (540, 960, 4) and np.array_equal(back[..., 3], img[..., 3])
    assert scene.renderer.GetGradientBackground()  # the sky is back for the window


def test_jpeg_and_png_files(scene, tmp_path):
    img = render_still(scene, (640, 360))
    jpg = save_still(img, tmp_path / "out" / "view.jpg")
    back = np.asarray(Image.open(jpg))
    assert back.shape == img.shape and np.abs(back.astype(int) - img).mean() < 3
    png = save_still(img, tmp_path / "view.png")
    assert np.array_equal(np.asarray(Image.open(png)), img)
    with pytest.raises(StillError, match="JPEG has no transparency"):
        save_still(np.zeros((10, 10, 4), np.uint8), tmp_path / "clear.jpg")
    assert not (tmp_path / "clear.jpg").exists()


def test_a_full_disk_is_one_sentence_and_leaves_no_file(tmp_path, monkeypatch):
    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StillError) as err:
        save_still(np.zeros((20, 20, 3), np.uint8), tmp_path / "still.png")
    assert "disk is full" in str(err.value) and one_sentence(str(err.value))
    assert list(tmp_path.iterdir()) == []  # neither the image nor a temporary file


def test_a_window_on_screen_is_refused(scene):
    window = scene.plotter.render_window
    window.SetOffScreenRendering(0)
    try:
        with pytest.raises(StillError) as err:
            render_still(scene, (100, 100))
        assert one_sentence(str(err.value))
    finally:
        window.SetOffScreenRendering(1)


# ---------------------------------------------------------------------------- pixel-sized things
def test_lines_points_and_fonts_scale_with_the_output_and_come_back():
    import pyvista as pv

    with OffscreenScene((320, 180), FLAT) as sc:
        sc.add(make_boxes())
        sc.set_pose(top_pose(sc))
        line = sc.plotter.add_lines(np.array([[-60.0, -30.0, 40.0], [60.0, -30.0, 40.0]]), color="black", width=2)
        text = sc.plotter.add_text("label", position=(5, 5), font_size=10)  # a vtkTextActor
        corner = sc.plotter.add_text("corner", position="upper_right", font_size=10)  # a vtkCornerAnnotation
        size_before, corner_before = text.GetTextProperty().GetFontSize(), corner.GetMaximumFontSize()
        window = sc.plotter.render_window
        with scaled_props(window, 3.0):
            assert line.GetProperty().GetLineWidth() == pytest.approx(6.0)
            assert text.GetTextProperty().GetFontSize() == round(size_before * 3)
            assert corner.GetMaximumFontSize() == round(corner_before * 3)
        assert line.GetProperty().GetLineWidth() == pytest.approx(2.0)
        assert text.GetTextProperty().GetFontSize() == size_before
        assert corner.GetMaximumFontSize() == corner_before
        sc.plotter.remove_actor(text)
        sc.plotter.remove_actor(corner)

        def line_thickness(img: np.ndarray) -> int:
            col = img[:, img.shape[1] // 2, :3].max(axis=1) < 40
            return int(col.sum())

        thin = line_thickness(render_still(sc, (320, 180)))
        thick = line_thickness(render_still(sc, (1280, 720)))  # 4 × the window: lines 4 × as wide
        assert thin >= 1 and thick == pytest.approx(4 * thin, abs=2)
        assert isinstance(line, pv.Actor)


def test_pins_are_drawn_larger_in_a_larger_still():
    pin = make_pin((X0 - 30.0, Y0, Z0 + 10.0), "Town hall", colour=(0.0, 0.0, 1.0))
    with OffscreenScene((400, 225), FLAT) as sc:
        sc.add(make_boxes())
        sc.set_pose(top_pose(sc, 400.0))
        sc.add_pins([pin])

        def marker_height(img: np.ndarray) -> int:
            blue = (img[..., 2] > 180) & (img[..., 0] < 60) & (img[..., 1] < 60)
            rows = np.flatnonzero(blue.any(axis=1))
            return int(rows.max() - rows.min() + 1)

        small = marker_height(render_still(sc, (400, 225)))
        large = marker_height(render_still(sc, (1600, 900)))
        assert large == pytest.approx(4 * small, rel=0.15)
        assert sc.pins_visual.pixel_scale == 1.0  # put back


def test_a_pyvista_plotter_is_a_scene_too():
    import pyvista as pv

    plotter = pv.Plotter(off_screen=True, window_size=[200, 100])
    try:
        plotter.add_mesh(pv.Sphere(), color="red")
        plotter.render()
        img = render_still(plotter, (800, 400), transparent=True)
        assert img.shape == (400, 800, 4)
        assert img[200, 400, 3] == 255 and img[5, 5, 3] == 0
        assert tuple(plotter.window_size) == (200, 100)
    finally:
        plotter.close()


def test_export_a_scene_with_its_overlays(tmp_path):
    from citytwin.render.scene_view import scene_from_models
    from citytwin.render.stills import export_still

    scene = scene_from_models([make_boxes(ground_plane=True)], names=["boxes"])
    scene.overlays = OverlaySettings(title=TitleOverlay(text="Export"), scale_bar=ScaleBarOverlay())
    png = export_still(scene, tmp_path / "still.png", (1280, 720))
    img = np.asarray(Image.open(png))
    assert img.shape == (720, 1280, 3)
    title = img[: 720 // 5, : 1280 // 3, :3].max(axis=2) < 70
    assert title.sum() > 200  # the scene's title is drawn
    jpg = export_still(scene, tmp_path / "still.jpg", (640, 360), overlays=OverlaySettings())
    assert np.asarray(Image.open(jpg)).shape == (360, 640, 3)
    for bad in (
        {"path": tmp_path / "x.jpg", "size": (640, 360), "transparent": True},
        {"path": tmp_path / "x.png", "size": (0, 1)},
    ):
        with pytest.raises(StillError) as err:
            export_still(scene, **bad)
        assert one_sentence(str(err.value))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["still.jpg", "still.png"]
