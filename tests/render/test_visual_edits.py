"""Moving, turning and scaling one object of a merged layer mesh in place (the editor's view updates)."""

from __future__ import annotations

import numpy as np

from citytwin.render.offscreen import OffscreenScene
from citytwin.render.style import Style
from tests.render.conftest import BOXES, X0, Y0, Z0, make_boxes

FLAT = Style(lighting="flat", anti_aliasing=None)


def _translate(dx: float, dy: float, dz: float = 0.0) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = (dx, dy, dz)
    return m


def _turn_about(cx: float, cy: float, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    r = np.eye(4)
    r[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    return _translate(cx, cy) @ r @ _translate(-cx, -cy)


def test_move_turn_and_put_back_one_building():
    model = make_boxes()
    low = model.objects.index[BOXES[0][0]]
    with OffscreenScene((480, 270), FLAT) as off:
        vis = off.add(model)
        corners = np.array([[X0 - 80, Y0 - 40, Z0], [X0 + 80, Y0 + 60, Z0]])
        off.set_view("top", points=corners - off.origin)
        before = off.render().astype(int)
        old_px = off.to_pixels(np.array([[X0 - 30.0, Y0, Z0 + 10.0]]))[0]
        new_px = off.to_pixels(np.array([[X0 - 30.0, Y0 + 30.0, Z0 + 10.0]]))[0]
        roof = before[int(old_px[1]), int(old_px[0])]
        sky = before[int(new_px[1]), int(new_px[0])]
        assert np.abs(roof - sky).max() > 40
        n_points, b0 = len(vis.arrays.points), vis.bounds()

        vis.transform_objects([low], _translate(0.0, 30.0))
        moved = off.render().astype(int)
        assert np.abs(moved[int(new_px[1]), int(new_px[0])] - roof).max() <= 3  # the roof is where it went
        gone = moved[int(old_px[1]), int(old_px[0])]
        assert np.abs(gone - roof).max() > 40 and gone[2] > gone[0] + 20, gone  # sky where it was
        assert vis.bounds()[4] > b0[4] + 20  # bounds follow
        hit = off.pick(*new_px)
        assert hit is not None and model.objects.ids[hit[1].root] == BOXES[0][0]
        # the other building did not move
        other = model.objects.index[BOXES[1][0]]
        tris = vis.arrays.cell["root"] == other
        pts = vis.arrays.points[np.unique(vis.arrays.triangles[tris])]
        assert np.allclose(pts, vis._original_points[np.unique(vis.arrays.triangles[tris])])

        # a quarter turn about its centre: 20 × 16 becomes 16 × 20
        vis.transform_objects([low], _turn_about(X0 - 30.0, Y0, 90.0))
        mine = np.unique(vis.arrays.triangles[vis.arrays.cell["root"] == low])
        p = vis.arrays.points[mine].astype(np.float64) + vis.origin
        assert np.allclose(np.ptp(p[:, :2], axis=0), [16.0, 20.0], atol=1e-3)
        # the same call again is not cumulative: transforms apply to the geometry as read
        vis.transform_objects([low], _turn_about(X0 - 30.0, Y0, 90.0))
        assert np.allclose(vis.arrays.points[mine].astype(np.float64) + vis.origin, p, atol=1e-3)

        vis.transform_objects([low], None)  # back as read
        assert np.array_equal(vis.arrays.points, vis._original_points) and len(vis.arrays.points) == n_points
        assert np.abs(off.render().astype(int) - before).max() <= 3


def test_shared_points_are_split_before_a_move():
    """Two objects that share a corner point: moving one leaves the other whole."""
    from citytwin.render.visuals import _point_owner

    tris = np.array([[0, 1, 2], [2, 3, 4]])
    owner = _point_owner(tris, np.array([0, 1]), 6)
    assert owner.tolist() == [0, 0, -2, 1, 1, -1]


def _drawn_points(vis) -> np.ndarray:
    """The points the main mesh's mapper draws (what the GPU holds)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    return vtk_to_numpy(vis.mapper.GetInput().GetPoints().GetData())


def _moves(model, k: int, seed: int) -> tuple[list[int], np.ndarray]:
    """``k`` buildings and a move, turn and height stretch for each (world coordinates)."""
    objects = model.objects
    roots = [i for i in range(len(objects)) if objects.roots[i] == i and objects.types[i] == "Building"]
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(roots, size=k, replace=False).tolist())
    mesh = model.mesh
    tri_root = np.asarray(objects.roots)[mesh.poly_object[mesh.tri_polygon]]
    mats = []
    for r in pick:
        c = mesh.vertices[mesh.triangles[tri_root == r].ravel()].mean(axis=0)  # turned about its own centre
        turn = _turn_about(c[0], c[1], float(rng.uniform(-40, 40)))
        stretch = np.diag([1.0, 1.0, float(rng.uniform(0.6, 1.6)), 1.0])
        stretch[2, 3] = c[2] * (1 - stretch[2, 2])
        mats.append(_translate(*rng.uniform(-15, 15, 2)) @ turn @ stretch)
    return pick, np.stack(mats)


def _differing(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of pixels that differ visibly (float32 in the shader against float64 here: edges may)."""
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 40).mean())


def test_moves_drawn_by_the_shader_look_as_moves_written_into_the_points(monkeypatch):
    """A few moved buildings are drawn by the vertex shader (no points uploaded); past its slots the
    moves are written into the drawn points. Both look as moving the points themselves does."""
    from citytwin.io import read
    from citytwin.render import gpu_moves
    from citytwin.sample import sample_path

    model = read(sample_path())
    few, few_m = _moves(model, 3, seed=1)
    many, many_m = _moves(model, 2 * gpu_moves.SLOTS, seed=2)

    def draw(slots: int) -> list[np.ndarray]:
        monkeypatch.setattr(gpu_moves, "SLOTS", slots)
        with OffscreenScene((480, 320), FLAT) as off:
            vis = off.add(model)
            off.set_view("top")
            images = [off.render()]
            vis.transform_objects(few, few_m)
            if slots:  # drawn by the shader: the points on the GPU are still those as read
                assert np.array_equal(_drawn_points(vis), vis._original_points)
                assert not np.array_equal(vis.arrays.points, vis._original_points)
            images.append(off.render())
            hidden = model.objects.ids[many[-1]]
            vis.set_hidden_ids({hidden})  # the cells drawn change: the moves stay
            images.append(off.render())
            vis.set_hidden_ids(set())
            vis.transform_objects(many, many_m)
            if slots:  # more than the shader's slots: written into the points drawn, once
                assert np.array_equal(_drawn_points(vis), vis.arrays.points)
            images.append(off.render())
            vis.transform_objects(few, None)  # some back as read (drawn by the shader again)
            images.append(off.render())
            vis.transform_objects(many, None)
            images.append(off.render())
            return images

    gpu, cpu = draw(gpu_moves.SLOTS), draw(0)
    for k, (a, b) in enumerate(zip(gpu, cpu, strict=True)):
        assert _differing(a, b) < 0.002, k
    assert _differing(gpu[1], gpu[0]) > 0.001  # the moves show
    assert _differing(gpu[3], gpu[1]) > 0.005
    assert _differing(gpu[2], gpu[1]) > 0.0002  # so does hiding (one small building)
    assert _differing(gpu[-1], gpu[0]) < 0.0005  # all back as read


def test_a_move_of_an_object_with_shared_points_is_drawn_whole():
    """Points shared by two buildings (a welded mesh): the moved one gets its own copies, appended
    after every other point, and the shader moves them too; a move out of the layer's bounds is
    written into the points drawn."""
    import dataclasses

    from citytwin.model.citymodel import CityModel

    boxes = [
        ("left", X0 - 10.0, Y0, 20.0, 16.0, 10.0, {}),
        ("right", X0 + 10.0, Y0, 20.0, 16.0, 20.0, {}),
        ("far", X0 + 60.0, Y0 + 20.0, 10.0, 10.0, 25.0, {}),  # the layer reaches past where "right" goes
    ]
    model = make_boxes(boxes)
    v, inverse = np.unique(model.mesh.vertices, axis=0, return_inverse=True)
    welded = CityModel(
        format="test", version="0", objects=model.objects,
        mesh=dataclasses.replace(model.mesh, vertices=v, triangles=inverse.ravel()[model.mesh.triangles]),
    )  # fmt: skip
    right = welded.objects.index["right"]
    with OffscreenScene((480, 270), FLAT) as off:
        vis = off.add(welded)
        corners = np.array([[X0 - 40, Y0 - 40, Z0], [X0 + 60, Y0 + 40, Z0]])
        off.set_view("top", points=corners - off.origin)
        n = len(vis.arrays.points)
        vis.transform_objects([right], _translate(20.0, 0.0))
        assert len(vis.arrays.points) > n  # split off
        image = off.render().astype(int)
        gap = off.to_pixels(np.array([[X0 + 10.0, Y0, Z0 + 5.0]]))[0]  # between the two now
        roof = off.to_pixels(np.array([[X0 + 38.0, Y0 + 7.0, Z0 + 20.0]]))[0]  # the right one's far corner
        left = off.to_pixels(np.array([[X0 - 10.0, Y0, Z0 + 10.0]]))[0]
        sky, drawn_right, drawn_left = (image[int(p[1]), int(p[0])] for p in (gap, roof, left))
        assert np.abs(drawn_right - drawn_left).max() <= 3  # both roofs drawn, the moved one whole where it went
        assert np.abs(sky - drawn_left).max() > 40
        assert np.array_equal(_drawn_points(vis)[:n], vis._original_points[:n])
        # beyond the layer's bounds (VTK fits the camera's near and far planes to what it draws): written in
        vis.transform_objects([right], _translate(200.0, 0.0))
        assert np.array_equal(_drawn_points(vis), vis.arrays.points)
