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
