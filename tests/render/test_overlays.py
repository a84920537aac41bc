"""Overlays rendered off screen: each part where its anchor puts it, the north arrow and the scale bar
following the camera, captions changed without new actors, sizes that follow the image height."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PIL import Image

from citytwin.errors import CityTwinError
from citytwin.model.overlays import (
    AttributionOverlay,
    LegendOverlay,
    LogoOverlay,
    NorthArrowOverlay,
    OverlaySettings,
    ScaleBarOverlay,
    TitleOverlay,
)
from citytwin.render.camera import CameraPose
from citytwin.render.colormap import thematic_colours
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.overlays import (
    OverlayError,
    OverlayRenderer,
    format_length,
    metres_per_pixel,
    nice_length,
    north_angle,
)
from citytwin.render.stills import render_still
from citytwin.render.style import Style
from tests.render.conftest import X0, Y0, Z0, make_boxes

SIZE = (640, 360)
FLAT = Style(lighting="flat")
MAGENTA = (255, 0, 255)
NEEDLE_RED = (178, 34, 34)


def dark_text(img: np.ndarray) -> np.ndarray:
    """Pixels of the overlays' dark text (nothing in the scene is this dark)."""
    return img[..., :3].max(axis=2) < 70


def near(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 12) -> np.ndarray:
    return (np.abs(img[..., :3].astype(int) - rgb) <= tol).all(axis=2)


def write_logo(path, size=(40, 20)) -> str:
    """A small magenta PNG with a transparent hole in the middle."""
    w, h = size
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[...] = (*MAGENTA, 255)
    rgba[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4, 3] = 0
    Image.fromarray(rgba, "RGBA").save(path)
    return str(path)


def top_pose(scene: OffscreenScene, up=(0.0, 1.0, 0.0), height: float = 400.0) -> CameraPose:
    """Straight down onto the middle of the boxes, ``up`` the screen's up."""
    centre = np.array([X0, Y0, Z0]) - scene.origin
    return CameraPose(centre + [0.0, 0.0, height], centre, np.array(up, float), 30.0)


@pytest.fixture
def scene():
    with OffscreenScene(SIZE, FLAT) as sc:
        sc.add(make_boxes(ground_plane=True))
        sc.set_view("oblique-ne")
        yield sc


# ---------------------------------------------------------------------------- pure figures
def test_nice_lengths_and_their_labels():
    assert nice_length(1.0) == 1.0
    assert nice_length(0.99) == 0.5
    assert nice_length(260.0) == 200.0
    assert nice_length(4999.0) == 2000.0
    assert nice_length(5000.0) == 5000.0
    assert nice_length(0.031) == 0.02
    assert math.isnan(nice_length(0.0)) and math.isnan(nice_length(float("inf")))
    assert [format_length(v) for v in (0.5, 1.0, 20.0, 500.0, 2000.0, 10000.0)] == [
        "50 cm",
        "1 m",
        "20 m",
        "500 m",
        "2 km",
        "10 km",
    ]
    for v in (0.02, 0.1, 5.0, 50.0, 200.0, 5000.0):
        mantissa = v / 10 ** math.floor(math.log10(v))
        assert round(mantissa, 9) in (1.0, 2.0, 5.0)


def test_metres_per_pixel_and_north_from_a_camera():
    from vtkmodules.vtkRenderingCore import vtkCamera

    cam = vtkCamera()
    cam.SetPosition(0, 0, 100)
    cam.SetFocalPoint(0, 0, 0)
    cam.SetViewUp(0, 1, 0)
    cam.SetViewAngle(90)
    assert metres_per_pixel(cam, 200) == pytest.approx(1.0)  # 2 · 100 · tan 45° over 200 pixels
    cam.ParallelProjectionOn()
    cam.SetParallelScale(50)
    assert metres_per_pixel(cam, 100) == pytest.approx(1.0)
    cam.ParallelProjectionOff()
    assert north_angle(cam) == pytest.approx(0.0)
    cam.SetViewUp(1, 0, 0)  # east up: north is to the left, 90° counter-clockwise
    assert north_angle(cam) == pytest.approx(90.0)
    cam.SetPosition(0, -100, 50)  # tilted, looking north
    cam.SetViewUp(0, 0, 1)
    assert north_angle(cam) == pytest.approx(0.0, abs=1e-9)
    cam.SetPosition(100, 0, 50)  # looking west: north is to the right
    assert north_angle(cam) == pytest.approx(-90.0)


# ---------------------------------------------------------------------------- placement
def test_title_text_is_in_the_top_band_and_the_attribution_bottom_right(scene):
    settings = OverlaySettings(
        title=TitleOverlay(text="Den Haag Centrum", subtitle="Binnenstad"),
        attribution=AttributionOverlay(text="© Gemeente Den Haag", size=0.04),  # large enough to read at 360p
    )
    before = scene.render()
    ov = OverlayRenderer(scene.renderer, None, settings)
    img = scene.render()
    w, h = SIZE
    text = dark_text(img) & ~dark_text(before)
    rows, cols = np.nonzero(text)
    top = rows < 0.25 * h
    assert top.sum() > 200  # the title's letters
    assert cols[top].max() < 0.6 * w and cols[top].min() < 0.1 * w  # from the left
    bottom_right = (rows > 0.9 * h) & (cols > 0.6 * w)
    assert bottom_right.sum() > 30  # the attribution line
    assert (top | bottom_right).all()  # no text anywhere else
    boxes = ov.boxes()
    c0, r0, c1, r1 = boxes["title"]
    assert r0 == round(0.03 * h) and c0 == round(0.03 * h)  # the margin, a fraction of the height, on both axes
    assert rows[top].min() >= r0 and rows[top].max() <= r1
    assert boxes["attribution"][2] == w - round(0.012 * h) and boxes["attribution"][3] == h - round(0.012 * h)
    ov.remove()
    assert np.array_equal(scene.render(), before)  # removed: nothing left over


@pytest.mark.parametrize("anchor", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_logo_is_in_the_chosen_corner(scene, tmp_path, anchor):
    logo = write_logo(tmp_path / "logo.png")
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings(logo=LogoOverlay(path=logo, anchor=anchor, height=0.1)))
    img = scene.render()
    rows, cols = np.nonzero(near(img, MAGENTA, 3))
    w, h = SIZE
    height = round(0.1 * h)
    assert rows.max() - rows.min() + 1 == height  # exactly its height in pixels
    assert cols.max() - cols.min() + 1 == 2 * height  # and its aspect
    margin = round(0.03 * h)
    vertical, horizontal = anchor.split("-")
    assert (rows.min() == margin) if vertical == "top" else (rows.max() == h - 1 - margin)
    assert (cols.min() == margin) if horizontal == "left" else (cols.max() == w - 1 - margin)
    centre = img[(rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2]
    assert not near(centre[None, None], MAGENTA, 60).any()  # the transparent hole shows the scene
    ov.remove()


def test_a_relative_logo_is_read_from_the_project_folder(scene, tmp_path):
    write_logo(tmp_path / "logo.png")
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings(logo=LogoOverlay(path="logo.png")), base_dir=tmp_path)
    assert near(scene.render(), MAGENTA, 3).sum() > 100
    ov.remove()


def test_a_missing_or_unreadable_logo_is_one_sentence(scene, tmp_path):
    missing = tmp_path / "nowhere" / "logo.png"
    renderers = scene.renderer.GetRenderWindow().GetRenderers()
    count = renderers.GetNumberOfItems()
    with pytest.raises(CityTwinError) as err:
        OverlayRenderer(scene.renderer, None, OverlaySettings(logo=LogoOverlay(path=str(missing))))
    assert renderers.GetNumberOfItems() == count  # nothing left behind
    message = str(err.value)
    assert isinstance(err.value, OverlayError)
    assert str(missing) in message and "\n" not in message and message.endswith(".") and message.count(". ") == 0
    bad = tmp_path / "logo.png"
    bad.write_text("not an image")
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings(title=TitleOverlay(text="kept")))
    with pytest.raises(OverlayError, match=r"logo\.png could not be read as an image"):
        ov.set_settings(OverlaySettings(logo=LogoOverlay(path=str(bad))))
    assert ov.settings.title is not None and ov.settings.logo is None  # the previous settings stay
    ov.remove()


def test_parts_sharing_an_anchor_are_stacked_not_overlapping(scene):
    settings = OverlaySettings(north_arrow=NorthArrowOverlay(), scale_bar=ScaleBarOverlay())  # both bottom-left
    ov = OverlayRenderer(scene.renderer, None, settings)
    scene.render()
    b = ov.boxes()
    arrow, bar = b["north_arrow"], b["scale_bar"]
    assert arrow[3] < bar[1]  # the arrow above the bar
    assert bar[3] == SIZE[1] - round(0.03 * SIZE[1])  # the bar nearest the edge
    ov.remove()


def test_legend_of_the_thematic_colouring_at_its_anchor(scene):
    model = scene.visuals[0].model
    th = thematic_colours(model.objects, "measuredHeight")
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings(legend=LegendOverlay(anchor="left")), thematic=th)
    img = scene.render()
    c0, r0, c1, r1 = ov.boxes()["legend"]
    assert c0 == round(0.03 * SIZE[1]) and c1 < SIZE[0] / 3
    assert abs((r0 + r1) / 2 - SIZE[1] / 2) <= 1  # middle of the left side
    viridis_top = np.array([253, 231, 37])  # the colour bar's top colour is there
    region = img[r0:r1, c0:c1].reshape(-1, 3).astype(int)
    assert (np.abs(region - viridis_top).max(axis=1) < 30).sum() > 20
    ov.set_legend(None)
    scene.render()
    assert "legend" not in ov.boxes()
    ov.remove()


# ---------------------------------------------------------------------------- following the camera
def needle_direction(img: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """Unit vector (x right, y up) from the arrow's centre to the middle of its red north half."""
    rows, cols = np.nonzero(near(img, NEEDLE_RED, 20))
    v = np.array([cols.mean() - centre[0], centre[1] - rows.mean()])
    return v / np.linalg.norm(v)


def test_north_arrow_turns_with_the_camera_azimuth(scene):
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings(north_arrow=NorthArrowOverlay(anchor="top-left")))
    for up, expected_angle, expected_dir in (
        ((0.0, 1.0, 0.0), 0.0, (0.0, 1.0)),  # north up
        ((1.0, 0.0, 0.0), 90.0, (-1.0, 0.0)),  # east up: north to the left
        ((-1.0, -1.0, 0.0), -135.0, (0.7071, -0.7071)),  # south-west up: north down to the right
    ):
        scene.set_pose(top_pose(scene, up))
        img = scene.render()
        assert ov.north_angle == pytest.approx(expected_angle, abs=1e-6)
        c0, r0, c1, r1 = ov.boxes()["north_arrow"]
        direction = needle_direction(img, ((c0 + c1) / 2, (r0 + r1) / 2))
        assert direction @ np.array(expected_dir) > 0.97, (up, direction)
    ov.remove()


def bar_pixels(img: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """Length of the scale bar: the longest run of dark pixels in a row of its box."""
    c0, r0, c1, r1 = box
    dark = img[r0:r1, c0:c1, :3].max(axis=2) < 60
    best = 0
    for row in dark:
        d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        if len(starts):
            best = max(best, int((ends - starts).max()))
    return best


@pytest.mark.parametrize("height", [400.0, 1500.0])
def test_scale_bar_is_a_nice_length_that_matches_the_pixels(scene, height):
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings(scale_bar=ScaleBarOverlay(max_length=0.3)))
    pose = top_pose(scene, height=height)
    scene.set_pose(pose)
    img = scene.render()
    metres, pixels, label = ov.scale_bar
    assert re.fullmatch(r"(1|2|5)0* (m|km)", label), label
    assert format_length(metres) == label
    # metres per pixel measured independently: two points at the focal point, projected
    focal = np.asarray(pose.focal_point) + scene.origin
    px = scene.to_pixels(np.array([focal - [metres / 2, 0, 0], focal + [metres / 2, 0, 0]]))
    expected = float(np.linalg.norm(px[1] - px[0]))
    drawn = bar_pixels(img, ov.boxes()["scale_bar"])
    assert drawn == pytest.approx(expected, rel=0.1)
    assert pixels == pytest.approx(expected, rel=0.01)
    assert 0.4 * 0.3 * SIZE[0] <= drawn <= 0.3 * SIZE[0] + 1  # the longest round length that fits
    ov.remove()


def test_scale_bar_follows_the_zoom(scene):
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings(scale_bar=ScaleBarOverlay()))
    scene.set_pose(top_pose(scene, height=300.0))
    scene.render()
    near_metres = ov.scale_bar[0]
    scene.set_pose(top_pose(scene, height=3000.0))
    scene.render()
    assert ov.scale_bar[0] > 5 * near_metres
    ov.remove()


# ---------------------------------------------------------------------------- captions and sizes
def test_captions_change_without_new_actors(scene):
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings())
    props_before = scene.renderer.GetRenderWindow().GetRenderers().GetNumberOfItems()
    actors = [id(a) for a in ov.actors]
    blank = scene.render()
    ov.set_caption("Binnenhof", "Parliament since 1446")
    img = scene.render()
    rows, cols = np.nonzero(dark_text(img) & ~dark_text(blank))
    assert len(rows) > 100 and rows.min() > SIZE[1] / 2  # bottom, middle
    assert abs((cols.min() + cols.max()) / 2 - SIZE[0] / 2) < 0.05 * SIZE[0]
    ov.set_caption("Plein")
    scene.render()
    assert [id(a) for a in ov.actors] == actors
    assert scene.renderer.GetRenderWindow().GetRenderers().GetNumberOfItems() == props_before
    ov.clear_caption()
    assert np.array_equal(scene.render(), blank)
    ov.remove()


def text_height(img: np.ndarray) -> int:
    """Height of the dark letters in the top-left quarter."""
    h, w = img.shape[:2]
    rows = np.flatnonzero(dark_text(img[: h // 4, : w // 2]).any(axis=1))
    return int(rows.max() - rows.min() + 1)


def test_text_size_follows_the_image_height(scene):
    """The same title at 1080p and 2160p: its letters twice as tall."""
    ov = OverlayRenderer(scene.renderer, None, OverlaySettings(title=TitleOverlay(text="Hoogte", panel=False)))
    scene.overlays = ov
    heights = []
    for size in ((1920, 1080), (3840, 2160)):
        img = render_still(scene, size)
        heights.append(text_height(img))
    assert heights[1] / heights[0] == pytest.approx(2.0, rel=0.1)
    assert heights[0] == pytest.approx(0.045 * 1080 * 0.75, rel=0.3)  # cap height of a 0.045·H font
    ov.remove()
