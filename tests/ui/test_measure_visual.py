"""The measurement visual off screen: what it draws follows the list; labels do not cover one another."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from citytwin.model.annotations import ItemList, make_measurement
from citytwin.model.measure_units import (
    default_title,
    display_name,
    is_default_title,
    length_unit,
    measurement_label,
)
from citytwin.render.measurements_visual import MeasurementsVisual, measurement_paths, polyline_midpoint


@pytest.fixture
def district_scene():
    import citytwin
    from citytwin.render.offscreen import OffscreenScene
    from citytwin.sample import sample_path

    with OffscreenScene((640, 400)) as scene:
        scene.add(citytwin.open(sample_path()))
        scene.set_view("oblique-sw")
        yield scene


def _boxes(vis, scene):
    """Screen boxes ``(x0, y0, x1, y1)`` of the drawn labels, as placed for the current camera."""
    scene.render()
    out = []
    ren = scene.renderer
    for actor in vis.labels.values():
        ren.SetWorldPoint(*actor.GetPosition(), 1.0)
        ren.WorldToDisplay()
        x, y, _ = ren.GetDisplayPoint()
        w, h = vis._label_sizes[id(actor)]
        y0 = y + actor.GetDisplayOffset()[1]
        out.append((x - w / 2, y0, x + w / 2, y0 + h))
    return out


def test_visual_follows_the_list_and_keeps_labels_apart(district_scene):
    scene = district_scene
    o = scene.origin
    items = ItemList()
    vis = MeasurementsVisual(items, scene.renderer, o)
    # three measurements around one spot: their labels would cover one another
    a = make_measurement("distance", [o + (0, 0, 5), o + (20, 10, 5)])
    b = make_measurement("height", [o + (10, 5, 0), o + (10, 5, 15)])
    c = make_measurement("area", [o + (5, 0, 5), o + (15, 0, 5), o + (15, 10, 5), o + (5, 10, 5)])
    items.extend([a, b, c])
    assert vis.drawn_ids == [a.id, b.id, c.id]
    assert vis.label_text(a.id) == "22.36 m"  # no horizontal line when it equals the 3D length
    assert vis.label_text(b.id) == "Δh 15.00 m"
    assert vis.label_text(c.id) == "100.00 m²"
    boxes = _boxes(vis, scene)
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            p, q = boxes[i], boxes[j]
            overlap = p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]
            assert not overlap, f"labels {i} and {j} cover one another"
    # the lines are drawn over the scene in their kind's colour
    img = scene.render()
    px = scene.to_pixels(np.array([o + (2, 1, 5)]))[0]  # on the distance line, outside the area
    patch = img[int(px[1]) - 3 : int(px[1]) + 4, int(px[0]) - 3 : int(px[0]) + 4].reshape(-1, 3).astype(int)
    assert ((patch[:, 0] > 200) & (patch[:, 1] > 160) & (patch[:, 2] < 110)).any(), "no yellow distance line"
    # hidden, edited, removed
    items[1] = msgspec.structs.replace(b, visible=False)
    assert vis.drawn_ids == [a.id, c.id]
    items[0] = make_measurement("distance", a.points, id=a.id, title="Kerb")
    assert vis.label_text(a.id) == "Kerb\n22.36 m"
    del items[0]
    assert vis.drawn_ids == [c.id]
    # the draft: the points clicked so far and the live value
    vis.set_draft("distance", [o, o + (3, 4, 0)])
    assert vis.draft_label is not None and vis.draft_label.GetInput() == "5.00 m"
    vis.set_draft(None)
    assert vis.draft_label is None
    vis.remove()
    assert scene.renderer.GetRenderWindow().GetRenderers().GetNumberOfItems() >= 1
    items.append(a)  # no longer followed
    assert vis.labels == {}


def test_paths_labels_and_names():
    h = make_measurement("height", [(0, 0, 10), (3, 4, 12.5)])
    (path,), anchor = measurement_paths(h)
    assert np.allclose(path, [(0, 0, 10), (0, 0, 12.5), (3, 4, 12.5)])  # up, then across
    assert np.allclose(anchor, (0, 0, 11.25))
    assert np.allclose(polyline_midpoint(np.array([(0, 0, 0), (10, 0, 0), (10, 10, 0)])), (10, 0, 0))
    d = make_measurement("distance", [(0, 0, 0), (3, 0, 4)], title="Distance 1")
    assert measurement_label(d, "m") == "5.00 m\nhorizontal 3.00 m"  # a default title is not drawn
    assert measurement_label(d, "US ft").endswith("3.00 US ft")
    assert is_default_title("Distance 12") and not is_default_title("Distance to the church")
    items = [d, make_measurement("distance", [(0, 0, 0), (1, 0, 0)])]
    assert default_title("distance", items) == "Distance 2"
    assert display_name(items[1], items) == "Distance 2"
    from citytwin.model.crs import CRS

    assert length_unit(CRS("EPSG:25832", 25832)) == "m"
    assert length_unit(CRS("EPSG:2263", 2263)) == "US ft"  # NY State Plane, feet
    assert length_unit(CRS("EPSG:4326", 4326)) == "m"  # drawn in its UTM zone
    assert length_unit(None) == "m"


def test_a_measurement_label_is_lifted_off_a_pin_marker(district_scene):
    from citytwin.model.annotations import make_pin

    scene = district_scene
    o = scene.origin
    centre = o + (0.0, 0.0, 5.0)
    green = (0.1, 0.8, 0.2)
    pins = scene.add_pins(ItemList([make_pin(centre, "", colour=green, icon="star")]))  # no title, no label
    items = ItemList([make_measurement("distance", [centre - (10.0, 0, 0), centre + (10.0, 0, 0)])])
    vis = MeasurementsVisual(items, scene.renderer, o)

    def overlap(a, b) -> bool:
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    try:
        (label,) = _boxes(vis, scene)
        marker = pins.screen_boxes()[1][0]
        assert overlap(label, marker), "the test needs a label over the marker to begin with"
        vis.obstacles = pins.obstacle_boxes
        (label,) = _boxes(vis, scene)
        assert not overlap(label, marker) and label[1] >= marker[3]
        # the marker shows in its colour where the label was
        img = scene.render()
        h = img.shape[0]
        cx, cy = (marker[0] + marker[2]) / 2, marker[1] + 11.0
        patch = img[int(h - cy) - 1 : int(h - cy) + 2, int(cx) - 1 : int(cx) + 2].reshape(-1, 3).astype(int)
        assert (np.abs(patch - np.round(np.asarray(green) * 255)).max(axis=1) < 40).any()
    finally:
        vis.remove()
