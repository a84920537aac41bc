"""Pins drawn off screen: a pin's colour at its projected position, markers, labels, events, snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model.annotations import PIN_ICONS, AnnotationSettings, ItemList, make_pin
from citytwin.model.crs import CRS
from citytwin.render.annotations_visual import (
    CELL,
    ICON_BOX,
    LABEL_BACKGROUND_RGB,
    LEADER_PX,
    PinsVisual,
    icon_atlas,
    overlay_renderer,
    source_to_display,
)
from citytwin.render.offscreen import OffscreenScene, render_image, snapshot
from citytwin.render.style import Style
from tests.render.conftest import BOXES, Z0, make_boxes

SIZE = (480, 360)
FLAT = Style(lighting="flat", anti_aliasing=None)
GREEN = (0.1, 0.8, 0.2)
BLUE = (0.15, 0.3, 0.95)


def roof_centre(k: int) -> np.ndarray:
    _, cx, cy, _, _, h, _ = BOXES[k]
    return np.array([cx, cy, Z0 + h])


def rgb255(colour) -> np.ndarray:
    return np.round(np.asarray(colour) * 255).astype(int)


def near(img: np.ndarray, col: float, row: float, colour, radius: int = 1, tol: int = 12) -> bool:
    """Whether a pixel within ``radius`` of (col, row) has ``colour`` (RGB 0–1)."""
    r0, c0 = int(round(row)), int(round(col))
    patch = img[max(r0 - radius, 0) : r0 + radius + 1, max(c0 - radius, 0) : c0 + radius + 1].reshape(-1, 3)
    return bool((np.abs(patch.astype(int) - rgb255(colour)).max(axis=1) <= tol).any())


def count(img: np.ndarray, colour, tol: int = 12) -> int:
    return int((np.abs(img.astype(int) - rgb255(colour)).max(axis=2) <= tol).sum())


def two_pins() -> ItemList:
    """A green star on the low house's roof, a blue info marker on the high house's."""
    return ItemList(
        [
            make_pin(roof_centre(0), "Low house", colour=GREEN, icon="star"),
            make_pin(roof_centre(1), "High house", colour=BLUE, icon="info"),
        ]
    )


@pytest.fixture
def scene():
    with OffscreenScene(SIZE, FLAT) as sc:
        sc.add(make_boxes(ground_plane=True))
        sc.set_view("oblique-sw")
        yield sc


def test_pin_colour_at_its_projected_position_and_marker_above(scene):
    pins = two_pins()
    vis = scene.add_pins(pins)
    before = scene.render()
    assert list(vis.drawn) == [0, 1]
    for pin in pins:
        col, row = scene.to_pixels(np.array([pin.position]))[0]
        # the dot on the point itself
        assert near(before, col, row, pin.colour), f"no {pin.title} dot at its projected position"
        # the marker's icon stands on the leader line, LEADER_PX up on screen, in the pin's colour
        dx, dy = {"star": (0, 9), "info": (5, 10)}[pin.icon]  # inside the icon, off its white symbol
        assert near(before, col + dx, row - LEADER_PX - dy, pin.colour), f"no {pin.title} marker"
        # the leader line between them is dark
        mid = before[int(round(row - LEADER_PX / 2)), int(round(col)) - 2 : int(round(col)) + 3].astype(int)
        assert (mid.max(axis=1) < 90).any(), f"no leader line under {pin.title}: {mid}"
    # a label: the white label background above each marker
    col, row = scene.to_pixels(np.array([pins[1].position]))[0]
    top = row - LEADER_PX - ICON_BOX["info"][3] - 10
    patch = before[int(top) - 3 : int(top) + 3, int(col) - 4 : int(col) + 5].reshape(-1, 3).astype(int)
    assert (patch.min(axis=1) > 200).sum() > 10, "no label above the marker"


def test_a_pin_behind_a_building_keeps_its_marker_but_not_its_dot(scene):
    """Dots are depth-tested with the model, markers drawn over it: a hidden pin still shows where it is."""
    _, cx, cy, w, d, h, _ = BOXES[1]  # the high house; the camera looks from the south-west
    behind = np.array([cx + w / 2 + 4.0, cy + d / 2 + 4.0, Z0 + 1.0])
    scene.add_pins([make_pin(behind, "", colour=GREEN, icon="star")])
    img = scene.render()
    col, row = scene.to_pixels(np.array([behind]))[0]
    assert not near(img, col, row, GREEN, radius=2), "the dot shows through the building"
    assert near(img, col, row - LEADER_PX - 9, GREEN), "the marker of a pin behind a building is hidden"
    # and the building around it is still drawn (the pins' renderers erase nothing)
    roof = scene.to_pixels(np.array([roof_centre(1)]))[0]
    assert not near(img, roof[0], roof[1], GREEN, radius=0)
    assert img[int(roof[1]), int(roof[0])].astype(int).tolist() != img[2, 2].astype(int).tolist()


def test_markers_keep_their_size_in_pixels(scene):
    pins = ItemList([make_pin(roof_centre(0), "", colour=GREEN, icon="star")])
    scene.add_pins(pins)
    near_img = scene.render()
    cam = scene.renderer.GetActiveCamera()
    cam.Dolly(0.5)  # twice as far
    scene.renderer.ResetCameraClippingRange()
    far_img = scene.render()
    a, b = count(near_img, GREEN), count(far_img, GREEN)
    assert a > 60 and b > 60
    assert 0.75 < a / b < 1.33, f"the marker changed size with distance ({a} vs {b} pixels)"


def test_follows_list_events_and_layer_settings(scene):
    settings = AnnotationSettings()
    pins = ItemList([make_pin(roof_centre(0), "A", colour=GREEN)])
    vis = PinsVisual(pins, scene.plotter, scene.origin, settings=settings)
    scene.pins_visual = vis  # closed with the scene
    calls = []
    vis.on_change = lambda: calls.append(1)
    assert count(scene.render(), GREEN) > 20
    pins.append(make_pin(roof_centre(1), "B", colour=BLUE))
    assert calls and count(scene.render(), BLUE) > 20
    # edit: replaced item
    pins[1] = make_pin(roof_centre(1), "B", colour=GREEN, id=pins[1].id)
    img = scene.render()
    assert count(img, BLUE) == 0 and vis.colours[1].tolist() == rgb255(GREEN).tolist()
    # each pin's own visible flag
    pins[0] = make_pin(roof_centre(0), "A", colour=BLUE, id=pins[0].id, visible=False)
    scene.render()
    assert list(vis.drawn) == [1]
    # move and remove
    pins.move(1, 0)
    scene.render()
    assert vis.ids[0] == pins[0].id
    del pins[0]
    scene.render()
    assert len(vis.drawn) == 0
    # the layer's switch and opacity
    pins.append(make_pin(roof_centre(0), "C", colour=GREEN))
    assert count(scene.render(), GREEN) > 20
    settings.pins_visible = False
    assert count(scene.render(), GREEN) == 0
    settings.pins_visible = True
    settings.pins_opacity = 0.0
    assert count(scene.render(), GREEN) == 0
    settings.pins_opacity = 1.0
    assert count(scene.render(), GREEN) > 20
    vis.remove()
    scene.pins_visual = None
    assert count(scene.render(), GREEN) == 0
    pins.append(make_pin(roof_centre(1), "D"))  # no longer followed: nothing breaks


def test_positions_are_float64_relative_to_the_origin(scene):
    p = roof_centre(0) + np.array([0.0012, 0.0034, 0.0])
    vis = scene.add_pins([make_pin(p, "mm")])
    assert vis.positions.dtype == np.float64
    np.testing.assert_allclose(vis.positions[0], p - scene.origin, atol=1e-9)
    # what goes to VTK is float32 and small
    scene.render()
    pts = vis.marker_data.GetPoints()
    assert pts.GetDataType() == 10  # VTK_FLOAT
    assert np.abs(np.array(pts.GetPoint(0))).max() < 1e4


def test_of_two_overlapping_labels_the_pin_first_in_the_list_keeps_its_own(scene):
    """VTK's placement draws one of two labels at the same place: the first pin's (the list order is the priority)."""
    centre = roof_centre(1)
    alpha = make_pin(centre, "Alpha", colour=GREEN)
    omega = make_pin(centre + [0.01, 0, 0], "Omega Omega Omega", colour=GREEN)
    col, row = scene.to_pixels(np.array([centre]))[0]
    top = int(row - LEADER_PX - ICON_BOX["pin"][3])
    crop = (slice(max(top - 24, 0), top), slice(int(col) - 70, int(col) + 70))

    def label_area(pins) -> np.ndarray:
        vis = scene.add_pins(ItemList(pins))
        img = scene.render()[crop].astype(int)
        assert vis.label_count() == len(pins)
        return img

    only_alpha, only_omega = label_area([alpha]), label_area([omega])
    assert np.abs(only_alpha - only_omega).max() > 100  # two different labels
    both = label_area([alpha, omega])
    assert np.abs(both - only_alpha).max() < 40, "the first pin's label is not the one drawn"
    reverse = label_area([omega, alpha])
    assert np.abs(reverse - only_omega).max() < 40, "the first pin's label is not the one drawn"


def test_pick_finds_the_pin_under_its_marker_or_its_label(scene):
    """A click on a marker or a label gives that pin; on its dot (what it stands on) or beside it, none."""
    pins = two_pins()
    vis = scene.add_pins(pins)
    img = scene.render()
    h = SIZE[1]
    # the projection agrees with VTK's
    xy, depth = vis.project(vis.positions)
    ren = vis.renderer
    for k, p in enumerate(vis.positions):
        ren.SetWorldPoint(*(float(v) for v in p), 1.0)
        ren.WorldToDisplay()
        np.testing.assert_allclose(ren.GetDisplayPoint()[:2], xy[k], atol=0.6)
    assert (depth > 0).all()
    idx, markers, _, labels = vis.screen_boxes()
    assert idx.tolist() == [0, 1] and np.isfinite(labels).all()
    for pin, marker, label in zip(pins, markers, labels, strict=True):
        col, row = scene.to_pixels(np.array([pin.position]))[0]
        x, y = col, h - row
        box = ICON_BOX[pin.icon]
        np.testing.assert_allclose(marker, [x + box[0], y + LEADER_PX + box[1], x + box[2], y + LEADER_PX + box[3]])
        # the upper part of the marker (the lower part of the high house's is under the low house's label)
        top = marker[3] - 4.0
        assert vis.pick((marker[0] + marker[2]) / 2, top) == pin.id
        # within the tolerance beside the marker, not further
        assert vis.pick(marker[0] - 2.0, top) == pin.id
        assert vis.pick(marker[0] - 2.0, top, tolerance_px=1.0) is None
        assert vis.pick(x, y - 4) is None, "the dot under a pin is not its marker"
        # the label: where it is drawn (its white background), a click gives the pin
        cy = (label[1] + label[3]) / 2
        assert near(img, label[0] + 3, h - cy, LABEL_BACKGROUND_RGB, tol=40), "no label where pick looks for it"
        assert vis.pick(label[0] + 3, cy) == pin.id
    # where a label covers another pin's marker, the label is drawn on top: its pin is picked
    lower_high = ((markers[1, 0] + markers[1, 2]) / 2, markers[1, 1] + 3.0)
    assert labels[0, 0] < lower_high[0] < labels[0, 2] and labels[0, 1] < lower_high[1] < labels[0, 3]
    assert vis.pick(*lower_high) == pins[0].id
    # hidden pins, or the pins layer hidden, are not picked
    first = ICON_BOX["star"]
    col, row = scene.to_pixels(np.array([pins[0].position]))[0]
    at = (col + (first[0] + first[2]) / 2, h - row + LEADER_PX + (first[1] + first[3]) / 2)
    pins[0] = make_pin(roof_centre(0), "Low house", id=pins[0].id, icon="star", visible=False)
    assert vis.pick(*at) is None
    pins[0] = make_pin(roof_centre(0), "Low house", id=pins[0].id, icon="star")
    assert vis.pick(*at) == pins[0].id
    vis.set_visible(False)
    assert vis.pick(*at) is None


def test_pick_of_markers_on_top_of_one_another_gives_the_nearest(scene):
    centre = roof_centre(1)
    far = make_pin(centre + [30.0, 30.0, 0.0], "", colour=GREEN)
    vis = scene.add_pins(ItemList([far]))
    (x, y), _ = (a[0] for a in vis.project(vis.positions))
    # a second pin on the line of sight, between the camera and the first
    eye = np.asarray(vis.renderer.GetActiveCamera().GetPosition()) + scene.origin
    near_pin = make_pin(eye + (np.asarray(far.position) - eye) * 0.5, "", colour=BLUE)
    vis.set_pins(ItemList([far, near_pin]))
    box = ICON_BOX["pin"]
    assert vis.pick(x, y + LEADER_PX + (box[1] + box[3]) / 2) == near_pin.id


def test_icons_atlas_has_each_icon():
    atlas = icon_atlas()
    assert atlas.shape == (CELL, CELL * (len(PIN_ICONS) + 2), 4)
    area = CELL * CELL
    for k in range(len(PIN_ICONS) + 1):  # the icons and the dot
        cell = atlas[:, CELL * k : CELL * (k + 1)]
        assert (cell[..., 3] > 128).sum() > area / 5  # the icon with its outline
        assert (cell[..., 0] > 128).sum() > area / 10  # the part in the pin's colour
    line = atlas[:, -CELL:]
    assert (line[..., 3] == 255).all() and (line[..., :3] == 0).all()  # solid outline colour


def test_overlay_is_shared_and_on_top(scene):
    a = overlay_renderer(scene.renderer)
    b = overlay_renderer(scene.plotter)
    assert a is b and a.GetLayer() == 1 and not a.GetInteractive()
    assert a.GetActiveCamera() is scene.renderer.GetActiveCamera()


def test_source_to_display_for_latitude_longitude():
    assert source_to_display(CRS(epsg=28992), CRS(epsg=28992)) is None
    assert source_to_display(None, CRS(epsg=28992)) is None
    t = source_to_display(CRS(epsg=4326), CRS(epsg=32631))
    out = t(np.array([[52.0, 4.3, 10.0]]))  # EPSG:4326 is latitude first
    assert 500_000 < out[0, 0] < 700_000 and 5_700_000 < out[0, 1] < 5_800_000 and out[0, 2] == pytest.approx(10.0)


def test_render_image_and_snapshot_draw_pins(tmp_path):
    model = make_boxes(ground_plane=True)
    pins = [make_pin(roof_centre(0), "Town hall", colour=GREEN), make_pin(roof_centre(1), "Tower", colour=BLUE)]
    plain = render_image([model], size=SIZE, view="oblique-sw", style=FLAT)
    with_pins = render_image([model], size=SIZE, view="oblique-sw", style=FLAT, pins=pins)
    assert count(plain, GREEN) == 0 and count(plain, BLUE) == 0
    assert count(with_pins, GREEN) > 40 and count(with_pins, BLUE) > 40
    # the same view: the pin's dot is at its projected position
    with OffscreenScene(SIZE, FLAT) as sc:
        sc.add(model)
        sc.set_view("oblique-sw")
        col, row = sc.to_pixels(np.array([roof_centre(0)]))[0]
    assert near(with_pins, col, row, GREEN)
    # hidden pins are not drawn; the old signature still works
    hidden = [make_pin(roof_centre(0), "x", colour=GREEN, visible=False)]
    assert count(render_image([model], size=SIZE, view="oblique-sw", style=FLAT, pins=hidden), GREEN) == 0
    out = snapshot([model], tmp_path / "pins.png", size=SIZE, view="oblique-sw", style=FLAT, pins=pins)
    from PIL import Image

    assert count(np.asarray(Image.open(out))[..., :3], BLUE) > 40
    assert snapshot([model], tmp_path / "plain.png", SIZE, "oblique-sw").exists()
