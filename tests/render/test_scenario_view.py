"""A scenario drawn over the existing city: deleted buildings gone, moved ones moved, added ones drawn."""

from __future__ import annotations

import numpy as np

from citytwin.model.scenario import AddObject, DeleteObjects, Scenario, TransformObject, transform_points
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.scenario_view import transform_matrix
from citytwin.render.scene_view import scene_from_models
from citytwin.render.style import Style
from tests.render.conftest import BOXES, X0, Y0, Z0, make_boxes

FLAT = Style(lighting="flat", anti_aliasing=None)


def _box_object(cx: float, cy: float, w: float, h: float) -> tuple[dict, list]:
    x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - w / 2, cy + w / 2
    v = [[x0, y0, Z0], [x1, y0, Z0], [x1, y1, Z0], [x0, y1, Z0], [x0, y0, Z0 + h], [x1, y0, Z0 + h],
         [x1, y1, Z0 + h], [x0, y1, Z0 + h]]  # fmt: skip
    shell = [[[0, 3, 2, 1]], [[4, 5, 6, 7]], [[0, 1, 5, 4]], [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]]]
    sem = {"surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}],
           "values": [[0, 1, 2, 2, 2, 2]]}  # fmt: skip
    co = {"type": "Building", "attributes": {"measuredHeight": h},
          "geometry": [{"type": "Solid", "lod": "2", "boundaries": [shell], "semantics": sem}]}  # fmt: skip
    return co, v


def test_transform_matrix_matches_the_model_transform():
    t = TransformObject(id="a", translate=(3.0, -2.0, 1.0), rotate_deg=30.0, height_scale=1.5)
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 50, (20, 3)) + [X0, Y0, Z0]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo[:2] + hi[:2]) / 2
    m = transform_matrix(t, centre, float(lo[2]))
    via_matrix = pts @ m[:3, :3].T + m[:3, 3]
    assert np.allclose(via_matrix, transform_points(t, pts, centre=centre, base=float(lo[2])), atol=1e-9)


def test_switching_between_existing_and_a_scenario():
    scene = scene_from_models([make_boxes()])
    low, high = BOXES[0][0], BOXES[1][0]
    co, v = _box_object(X0, Y0 + 40.0, 12.0, 20.0)
    scenario = Scenario(
        name="Plan",
        edits=(
            DeleteObjects(ids=(high,)),
            TransformObject(id=low, translate=(0.0, -30.0, 0.0)),
            AddObject(id="tower", cityobject=co, vertices=v),
        ),
    )
    scene.scenarios.append(scenario)
    with OffscreenScene((480, 270), FLAT, scene=scene, follow=True) as off:
        corners = np.array([[X0 - 80, Y0 - 60, Z0], [X0 + 80, Y0 + 60, Z0]])
        off.set_view("top", points=corners - off.origin)
        px = {
            name: off.to_pixels(np.array([p]))[0]
            for name, p in {
                "low": [X0 - 30.0, Y0, Z0 + 10.0],
                "low_moved": [X0 - 30.0, Y0 - 30.0, Z0 + 10.0],
                "high": [X0 + 30.0, Y0, Z0 + 30.0],
                "tower": [X0, Y0 + 40.0, Z0 + 20.0],
            }.items()
        }

        def at(img, name):
            p = px[name]
            return img[int(p[1]), int(p[0])].astype(int)

        existing = off.render()
        roof = at(existing, "high")
        assert roof[0] > roof[2] + 40  # a (reddish) roof
        scene.scenario_id = scenario.id
        planned = off.render()
        assert np.abs(at(planned, "high") - roof).max() > 40  # deleted
        assert np.abs(at(planned, "low_moved") - at(existing, "low")).max() <= 3  # moved, same roof colour
        assert np.abs(at(planned, "low") - at(existing, "low")).max() > 40
        assert np.abs(at(planned, "tower") - roof).max() <= 3  # added, a roof like the others
        vis = off.view.scenario_drawing.added_visual
        assert vis is not None and vis.model.objects.ids == ["tower"]
        # back to the existing city: exactly as before
        scene.scenario_id = None
        again = off.render()
        assert np.abs(again.astype(int) - existing.astype(int)).max() <= 3
        assert off.view.scenario_drawing.added_visual is None


def test_the_view_and_the_saved_file_agree_on_a_turned_building(tmp_path):
    """What the window draws for a move with a turn is what Save Scenario As… writes (CityJSON and CityGML→CityJSON)."""
    import citytwin.io
    from citytwin.io.export import write_scenario
    from citytwin.sample import sample_path

    model = citytwin.io.read(sample_path())
    o = model.objects
    k = next(i for i in range(len(o)) if o.types[i] == "Building" and o.roots[i] == i)
    oid = o.ids[k]
    t = TransformObject(id=oid, translate=(7.5, -2.0, 1.0), rotate_deg=33.0, height_scale=1.2)
    scenario = Scenario(name="turn", edits=(t,))
    scene = scene_from_models([model])
    scene.scenarios.append(scenario)
    scene.scenario_id = scenario.id
    with OffscreenScene((64, 64), FLAT, scene=scene) as off:
        vis = off.visuals[0]
        drawn = vis.arrays.points[vis._object_points(k)].astype(np.float64) + off.origin
    out = write_scenario(model, scenario, tmp_path / "turned.city.json").path
    again = citytwin.io.read(out)
    m = again.mesh
    kk = again.objects.index[oid]
    polys = np.flatnonzero(again.objects.roots[m.poly_object] == kk)
    saved = np.concatenate([m.vertices[m.ring_offsets[m.polygon_rings[p]]: m.ring_offsets[m.polygon_rings[p + 1]]]
                            for p in polys])  # fmt: skip
    a = np.unique(np.round(drawn, 2), axis=0)
    b = np.unique(np.round(saved, 2), axis=0)
    assert len(a) == len(b)
    assert np.abs(a - b).max() <= 0.011  # float32 in the view, 1 mm grid in the file
