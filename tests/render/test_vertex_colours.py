"""Vertex colours of a mesh in the "texture" colour mode: per-point colours on the one merged mesh."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import trimesh

from citytwin.io import read
from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.geometry import MeshBuilder
from citytwin.model.semantics import SurfaceClass
from citytwin.render.convert import choose_origin
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.style import Style
from citytwin.render.visuals import CityModelVisual, preferred_colour_mode
from tests.render.conftest import X0, Y0, Z0

FLAT = Style(lighting="flat", anti_aliasing=None)
SIZE = (400, 300)
RED = np.array([220, 30, 30, 255], np.uint8)
BLUE = np.array([30, 40, 210, 255], np.uint8)


def _strip(x0: float, x1: float, y0: float, y1: float, n: int = 4) -> np.ndarray:
    """``(2n, 3, 3)`` triangles of a flat strip at ``Z0`` cut into ``n`` quads along x."""
    xs = np.linspace(x0, x1, n + 1)
    a, b = xs[:-1], xs[1:]
    z = np.full(n, Z0)
    lo, hi = np.full(n, y0), np.full(n, y1)
    sw, se, ne, nw = (np.stack(c, axis=1) for c in ((a, lo, z), (b, lo, z), (b, hi, z), (a, hi, z)))
    return np.stack([np.stack([sw, se, ne], 1), np.stack([sw, ne, nw], 1)], 1).reshape(-1, 3, 3)


def coloured_model() -> CityModel:
    """West strip red ("Mesh"), east strip blue ("TINRelief"), and north of them a quad red in its
    west corners and blue in its east corners ("Mesh"), all in projected coordinates."""
    objects = CityObjects()
    builder = MeshBuilder()
    parts = [
        ("west", "Mesh", _strip(X0 - 20, X0, Y0 - 5, Y0 + 5), None),
        ("east", "TINRelief", _strip(X0, X0 + 20, Y0 - 5, Y0 + 5), None),
        ("blend", "Mesh", _strip(X0 - 20, X0 + 20, Y0 + 10, Y0 + 20, n=1), "x"),
    ]
    for ident, kind, tris, ramp in parts:
        obj = objects.add(ident, kind)
        v = tris.reshape(-1, 3)
        if ramp:  # red at the west edge, blue at the east edge
            rgba = np.where((v[:, 0] < X0)[:, None], RED, BLUE).astype(np.uint8)
        else:
            rgba = np.tile(RED if ident == "west" else BLUE, (len(v), 1))
        n = len(tris)
        builder.add_polygons(v, np.full(n, 3), np.ones(n), obj, SurfaceClass.NONE, 10, colours=rgba)
    return CityModel(format="test", version="0", objects=objects, mesh=builder.build())


def _at(img: np.ndarray, px: np.ndarray) -> np.ndarray:
    return img[int(round(px[1])), int(round(px[0]))].astype(int)


def _near(colour: np.ndarray, rgb: np.ndarray, tol: int = 4) -> bool:
    return bool(np.abs(colour - rgb[:3].astype(int)).max() <= tol)


@pytest.fixture
def scene():
    with OffscreenScene(SIZE, FLAT) as sc:
        yield sc


def _points(scene: OffscreenScene) -> dict[str, np.ndarray]:
    where = {
        "west": (X0 - 10, Y0),
        "east": (X0 + 10, Y0),
        "blend_w": (X0 - 19, Y0 + 15),
        "blend_mid": (X0, Y0 + 15),
        "blend_e": (X0 + 19, Y0 + 15),
    }
    px = scene.to_pixels(np.array([[x, y, Z0] for x, y in where.values()]))
    return dict(zip(where, px, strict=True))


def test_texture_mode_shows_vertex_colours_interpolated(scene):
    model = coloured_model()
    assert preferred_colour_mode(model) == "texture"
    vis = scene.add(model)
    scene.set_view("top")
    p = _points(scene)
    img = scene.render()  # semantic: no red, no blue
    for name in ("west", "east", "blend_w", "blend_e"):
        assert not _near(_at(img, p[name]), RED, 60) and not _near(_at(img, p[name]), BLUE, 60), name
    vis.set_colour_mode("texture")
    img = scene.render()
    assert _near(_at(img, p["west"]), RED) and _near(_at(img, p["east"]), BLUE)
    assert _near(_at(img, p["blend_w"]), RED, 12) and _near(_at(img, p["blend_e"]), BLUE, 12)
    # halfway across the blend quad the colour is halfway between its corners: interpolated, not per cell
    mid = _at(img, p["blend_mid"])
    assert np.abs(mid - (RED[:3].astype(int) + BLUE[:3]) / 2).max() <= 15, mid
    assert vis.polydata.GetNumberOfCells() == len(vis.drawn_triangles) == model.mesh.n_triangles  # one mesh
    assert vis.texture_actors == []
    # other colour modes do not show them
    vis.set_colour_mode("single")
    img = scene.render()
    assert not _near(_at(img, p["west"]), RED, 60) and not _near(_at(img, p["east"]), BLUE, 60)
    vis.set_colour_mode("texture")
    assert _near(_at(scene.render(), p["west"]), RED)


def test_selection_filters_and_picking_in_texture_mode(scene):
    model = coloured_model()
    vis = scene.add(model)
    scene.set_view("top")
    p = _points(scene)
    vis.set_colour_mode("texture")
    hit = scene.pick(*p["west"])
    assert hit is not None and model.objects.ids[hit[1].object] == "west"
    # the selection tints the picked object's vertex colours only
    vis.highlight([hit[1].object])
    img = scene.render()
    assert not _near(_at(img, p["west"]), RED, 40) and _near(_at(img, p["east"]), BLUE)
    vis.highlight(None)
    img = scene.render()
    assert _near(_at(img, p["west"]), RED) and _near(_at(img, p["east"]), BLUE)
    # hidden types: the east strip goes, the rest keeps its colours
    vis.set_hidden_types({"TINRelief"})
    img = scene.render()
    assert not _near(_at(img, p["east"]), BLUE, 60) and _near(_at(img, p["west"]), RED)
    hit = scene.pick(*p["east"])
    assert hit is None or model.objects.ids[hit[1].object] != "east"
    vis.set_hidden_types(())
    # hidden semantic class and another LoD: nothing drawn; back: the colours again
    vis.set_semantic_visible(SurfaceClass.NONE, False)
    assert len(vis.drawn_triangles) == 0 and not _near(_at(scene.render(), p["west"]), RED, 60)
    vis.set_semantic_visible(SurfaceClass.NONE, True)
    vis.set_lod(20)
    assert len(vis.drawn_triangles) == 0
    vis.set_lod(None)
    img = scene.render()
    assert _near(_at(img, p["west"]), RED) and _near(_at(img, p["east"]), BLUE)
    # the interaction proxy stands in with the vertex colours (a box over red and blue triangles: purple)
    vis.interaction_lod.triangle_budget = 0
    assert vis.set_interactive(True)
    proxy = _at(scene.render(), p["east"])
    assert proxy[1] < 80 and min(proxy[0], proxy[2]) > 60, proxy
    vis.set_interactive(False)
    assert _near(_at(scene.render(), p["east"]), BLUE)


def test_a_coloured_ply_opens_coloured(tmp_path, scene):
    quad = trimesh.Trimesh([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], [[0, 1, 2], [0, 2, 3]], process=False)
    quad.visual = trimesh.visual.ColorVisuals(quad, vertex_colors=np.tile(BLUE, (4, 1)))
    quad.export(tmp_path / "quad.ply")
    model = read(tmp_path / "quad.ply")
    scene.origin = choose_origin(model.bounds)
    vis = CityModelVisual(model, scene.plotter, scene.origin, FLAT, colour_mode="auto")
    scene.visuals.append(vis)
    assert vis.colour_mode == "texture"
    scene.set_view("top")
    centre = scene.to_pixels(np.array([[5.0, 5.0, 0.0]]))[0]
    assert _near(_at(scene.render(), centre), BLUE)


def test_colours_that_do_not_fit_the_vertices_are_not_drawn(scene):
    model = coloured_model()
    wrong = dataclasses.replace(model.mesh, vertex_colours=model.mesh.vertex_colours[:7])
    model = dataclasses.replace(model, mesh=wrong)
    assert preferred_colour_mode(model) == "semantic"
    vis = scene.add(model)
    scene.set_view("top")
    p = _points(scene)
    semantic = scene.render()
    vis.set_colour_mode("texture")
    img = scene.render()
    np.testing.assert_array_equal(_at(img, p["west"]), _at(semantic, p["west"]))
    assert not _near(_at(img, p["east"]), BLUE, 60)
