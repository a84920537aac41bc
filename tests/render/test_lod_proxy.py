"""Interactive level of detail: a box proxy while the camera moves, the full mesh when it stops."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model.semantics import SurfaceClass
from citytwin.render.lod_proxy import TRIS_PER_BOX, InteractionLOD, group_boxes
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.style import SURFACE_COLOURS, Style
from tests.render.conftest import X0, Y0, Z0, make_boxes

FLAT = Style(lighting="flat")
ROOF = np.array(SURFACE_COLOURS[SurfaceClass.ROOF])
N_SIDE = 20  # a 20 × 20 grid of buildings


def grid_boxes(n_side: int = N_SIDE):
    boxes = []
    for i in range(n_side):
        for j in range(n_side):
            h = 8.0 + (i * 7 + j * 3) % 20
            boxes.append((f"b{i}-{j}", X0 + 30.0 * i, Y0 + 30.0 * j, 16.0, 12.0, h, {}))
    return make_boxes(boxes), boxes


@pytest.fixture
def scene():
    with OffscreenScene((480, 270), FLAT) as sc:
        yield sc


def test_group_boxes_per_key():
    pts = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0], [5, 5, 5], [6, 5, 5], [5, 7, 9]], np.float32)
    tris = np.array([[3, 4, 5], [0, 1, 2]])
    keys, lo, hi, starts, order = group_boxes(pts, tris, np.array([7, 2]))
    assert keys.tolist() == [2, 7] and order is not None and starts.tolist() == [0, 1, 2]
    assert lo.tolist() == [[0, 0, 0], [5, 5, 5]] and hi.tolist() == [[1, 2, 0], [6, 7, 9]]


def test_interactive_swaps_to_the_proxy_and_back(scene):
    model, boxes = grid_boxes()
    visual = scene.add(model)
    visual.interaction_lod.triangle_budget = 100 * TRIS_PER_BOX  # 400 buildings: cells are needed
    scene.set_view("oblique-ne")
    full = scene.render()
    fxaa = scene.renderer.GetUseFXAA()
    assert visual.set_interactive(True) is True and visual.interactive
    assert not visual.actor.GetVisibility() and visual.interaction_lod.actor.GetVisibility()
    proxy = scene.render()
    drawn = visual.interaction_lod.polydata.GetNumberOfCells()
    assert 0 < drawn <= 100 * TRIS_PER_BOX
    assert sum(visual.interaction_lod.last_counts) * TRIS_PER_BOX == drawn
    assert visual.interaction_lod.n_cells > 0 and not scene.renderer.GetUseFXAA()
    # the proxy covers roughly where the city is
    sky = np.abs(full.astype(int) - proxy.astype(int)).max(axis=2) < 8
    city_full = np.abs(full.astype(int) - full[2, 2].astype(int)).max(axis=2) > 25
    city_proxy = np.abs(proxy.astype(int) - proxy[2, 2].astype(int)).max(axis=2) > 25
    overlap = (city_full & city_proxy).sum() / max(city_full.sum(), 1)
    assert overlap > 0.7, overlap
    assert not sky.all()  # but it is a different picture
    # picking still finds the real building while the proxy is drawn
    roof = np.array([[boxes[0][1], boxes[0][2], Z0 + boxes[0][5]]])
    col, row = scene.to_pixels(roof)[0]
    hit = scene.pick(col, row)
    assert hit is not None and model.objects.ids[hit[1].root] == boxes[0][0]
    # camera stops: the full mesh comes back, pixel for pixel
    assert visual.set_interactive(False) is False
    assert visual.actor.GetVisibility() and not visual.interaction_lod.actor.GetVisibility()
    assert scene.renderer.GetUseFXAA() == fxaa
    again = scene.render()
    assert np.array_equal(again, full)


def test_proxy_follows_the_camera_and_expands_near_cells(scene):
    model, boxes = grid_boxes()
    visual = scene.add(model)
    lod = visual.interaction_lod
    lod.triangle_budget = 100 * TRIS_PER_BOX
    scene.set_view("oblique-ne")
    visual.set_interactive(True)
    scene.render()
    far = lod.last_counts
    # fly close to one corner of the city: cells there cover many pixels and split into buildings
    cam = scene.renderer.GetActiveCamera()
    cam.Dolly(6.0)
    scene.render()  # the StartEvent observer re-selects the boxes
    near = lod.last_counts
    assert near != far and near[0] > far[0]
    assert lod.polydata.GetNumberOfCells() <= lod.triangle_budget
    visual.set_interactive(False)


def test_roof_colour_on_top_of_proxy_boxes(scene):
    model, boxes = grid_boxes(4)
    visual = scene.add(model)
    visual.interaction_lod.triangle_budget = 10  # below the 16 buildings' 192 triangles: proxy on
    scene.set_view("top")
    visual.set_interactive(True)
    img = scene.render()
    _, cx, cy, _, _, h, _ = boxes[5]
    col, row = scene.to_pixels(np.array([[cx, cy, Z0 + h]]))[0]
    # 16 objects > budget // 10 → the budget keeps the biggest on screen; the top is baked unshaded roof colour
    assert np.abs(img[int(row), int(col)].astype(int) - ROOF).max() <= 40
    visual.set_interactive(False)


def test_light_layers_keep_the_full_mesh(scene):
    visual = scene.add(make_boxes())
    scene.set_view("oblique-ne")
    assert visual.set_interactive(True) is False  # 24 triangles: nothing to gain
    assert visual.actor.GetVisibility() and not visual.interactive


def test_hidden_layer_stays_hidden_while_interacting(scene):
    model, _ = grid_boxes(6)
    visual = scene.add(model)
    visual.interaction_lod.triangle_budget = 50
    visual.set_visible(False)
    visual.set_interactive(True)
    assert not visual.actor.GetVisibility() and not visual.interaction_lod.actor.GetVisibility()
    visual.set_visible(True)
    assert visual.interaction_lod.actor.GetVisibility() and not visual.actor.GetVisibility()
    visual.set_interactive(False)
    assert visual.actor.GetVisibility() and visual.visible


def test_proxy_budget_without_cells():
    lod = InteractionLOD(__import__("vtkmodules.vtkRenderingCore", fromlist=["vtkRenderer"]).vtkRenderer())
    pts = np.random.default_rng(0).uniform(0, 100, (30, 3)).astype(np.float32)
    tris = np.arange(30).reshape(10, 3)
    lod.build(pts, tris, np.arange(10), np.full((10, 4), 200, np.uint8), np.zeros(10, bool))
    assert lod.n_objects == 10 and lod.n_cells == 0
