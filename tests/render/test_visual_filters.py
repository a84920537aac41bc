"""CityModelVisual: hiding object types, empty models, warm-up, tight camera fits, legend layout."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.geometry import MeshBuilder
from citytwin.render import picking
from citytwin.render.camera import pose_for_points, preset_view, project
from citytwin.render.lod_proxy import InteractionLOD
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


def test_warm_up_builds_pick_pieces_then_the_proxy_on_a_worker_thread(scene, monkeypatch):
    vis = scene.add(make_boxes())
    scene.set_view("oblique-ne")
    vis.interaction_lod.triangle_budget = 4  # "heavy" for this test
    monkeypatch.setattr(picking, "PIECE_TRIANGLES", 7)  # several locator pieces
    threads: list[threading.Thread] = []
    build = InteractionLOD.build

    def recording_build(self, *args):
        threads.append(threading.current_thread())
        return build(self, *args)

    monkeypatch.setattr(InteractionLOD, "build", recording_build)
    n_pieces = -(-len(vis.drawn_triangles) // 7)
    assert vis._pick_pieces is None
    steps = 1
    while vis.warm_up_step():
        steps += 1
        assert steps < 100
        time.sleep(0.002)
    # one step per locator piece, then the faces-up flags, the proxy handed to the worker, and its result
    assert steps >= n_pieces + 3
    assert vis._pick_pieces is not None and vis._pick_pieces.done
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    key = vis._proxy_key
    assert key is not None
    assert vis.set_interactive(True) and vis._proxy_key == key and len(threads) == 1  # nothing rebuilt
    vis.set_interactive(False)
    assert vis.warm_up_step() is False
    vis.set_lod(20)  # new drawn cells: the warm-up has work again
    assert vis.warm_up_step() is True


def test_a_drag_during_the_warm_up_waits_for_the_proxy_being_built(scene, monkeypatch):
    vis = scene.add(make_boxes())
    vis.interaction_lod.triangle_budget = 4
    calls: list[int] = []
    build = InteractionLOD.build

    def slow_build(self, *args):
        calls.append(1)
        time.sleep(0.2)
        return build(self, *args)

    monkeypatch.setattr(InteractionLOD, "build", slow_build)
    while vis._proxy_job is None:
        assert vis.warm_up_step()
    assert vis.set_interactive(True)  # joins the running build instead of starting a second one
    assert len(calls) == 1 and vis._proxy_job is None and vis.interactive
    vis.set_interactive(False)


def test_picks_across_locator_pieces_equal_one_locator(scene, monkeypatch):
    vis = scene.add(make_boxes(ground_plane=True))
    scene.set_view("oblique-ne")
    scene.render()
    w, h = scene.size
    grid = [(x, y) for x in np.linspace(5, w - 5, 23) for y in np.linspace(5, h - 5, 17)]

    def picks() -> list[tuple[int, tuple[float, ...]] | None]:
        """Object and point hit (a ray along an edge may report either triangle of it)."""
        vis._pick_pieces = None
        out = []
        for x, y in grid:
            hit = vis.pick(x, y)
            out.append(None if hit is None else (hit.object, tuple(np.round(hit.position, 4))))
        return out

    whole = picks()
    monkeypatch.setattr(picking, "PIECE_TRIANGLES", 5)
    pieces = picks()
    assert len(vis._pick_pieces._starts) > 3
    assert pieces == whole
    # Before the warm-up, one pick builds only the locators of the pieces its ray crosses.
    vis._pick_pieces = None
    x, y = grid[[i for i, p in enumerate(whole) if p is not None][0]]
    assert (vis.pick(x, y).object, tuple(np.round(vis.pick(x, y).position, 4))) == next(p for p in whole if p)
    assert 0 < vis._pick_pieces._n_built < len(vis._pick_pieces._starts)
    hits = [p for p in whole if p is not None]
    assert len(hits) > 100 and len({o for o, _ in hits}) > 3  # the grid really meets several objects


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
