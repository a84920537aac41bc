"""Triangulation of polygons with holes on arbitrary planes."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model.geometry import MeshBuilder
from citytwin.model.semantics import SurfaceClass, lod_code, lod_name
from citytwin.model.triangulate import newell_normals


def _rotation(seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def _point_in_triangles(p, tri_pts):
    a, b, c = tri_pts[:, 0], tri_pts[:, 1], tri_pts[:, 2]
    n = np.cross(b - a, c - a)
    inside = np.ones(len(a), bool)
    for u, v in ((a, b), (b, c), (c, a)):
        inside &= np.einsum("ij,ij->i", np.cross(v - u, p - u), n) >= 0
    return inside.any()


SQUARE = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], float)
HOLE = np.array([[2, 2, 0], [2, 4, 0], [4, 4, 0], [4, 2, 0]], float)
L_SHAPE = np.array([[0, 0, 0], [2, 0, 0], [2, 1, 0], [1, 1, 0], [1, 2, 0], [0, 2, 0]], float)


@pytest.mark.parametrize("seed", range(6))
def test_hole_stays_open_on_any_plane_and_areas_add_up(seed):
    rot = _rotation(seed)
    offset = np.array([85_000.0, 446_000.0, 12.0])  # projected-size coordinates
    b = MeshBuilder()
    b.add_polygon([SQUARE @ rot.T + offset, HOLE @ rot.T + offset], obj=0, semantic=SurfaceClass.ROOF, lod=20)
    b.add_polygon([L_SHAPE @ rot.T + offset], obj=1, semantic=SurfaceClass.WALL, lod=20)
    mesh = b.build()
    assert mesh.n_polygons == 2
    per_polygon = np.bincount(mesh.tri_polygon, mesh.triangle_areas(), minlength=2)
    np.testing.assert_allclose(mesh.polygon_areas(), [96.0, 3.0], rtol=1e-9)
    np.testing.assert_allclose(per_polygon, [96.0, 3.0], rtol=1e-9)
    hole_centre = np.array([3.0, 3.0, 0.0]) @ rot.T + offset
    tris = mesh.vertices[mesh.triangles[mesh.tri_polygon == 0]]
    assert not _point_in_triangles(hole_centre, tris)
    # the concave notch of the L is not covered either
    notch = np.array([1.5, 1.5, 0.0]) @ rot.T + offset
    assert not _point_in_triangles(notch, mesh.vertices[mesh.triangles[mesh.tri_polygon == 1]])


def test_triangles_face_like_their_ring():
    b = MeshBuilder()
    b.add_polygon([SQUARE], 0)
    b.add_polygon([SQUARE[::-1]], 0)
    b.add_polygon([L_SHAPE[:, [0, 2, 1]]], 0)  # in the xz plane (dropping y flips handedness)
    b.add_polygon([L_SHAPE[::-1][:, [2, 0, 1]]], 0)
    mesh = b.build()
    ring_n = newell_normals(mesh.vertices, mesh.ring_offsets)[mesh.polygon_rings[:-1]]
    a, bb, c = (mesh.vertices[mesh.triangles[:, k]] for k in range(3))
    facing = np.einsum("ij,ij->i", np.cross(bb - a, c - a), ring_n[mesh.tri_polygon])
    assert (facing > 0).all()


def test_bad_rings_are_dropped_and_counted_never_raised():
    b = MeshBuilder()
    assert b.add_polygon([np.array([[0, 0, 0], [1, 0, 0]], float)], 0) == -1
    assert b.add_polygon([np.array([[0, 0, 0], [1, 0, np.nan], [1, 1, 0]], float)], 0) == -1
    collinear = b.add_polygon([np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0]], float)], 0)
    ok = b.add_polygon([SQUARE, np.array([[1, 1, 0], [2, 2, 0]], float)], 0)  # hole of 2 points dropped
    mesh = b.build()
    assert collinear == 0 and ok == 1
    assert b.skipped == {
        "ring with fewer than 3 points": 2,
        "NaN or infinite coordinates": 1,
        "polygons with zero area": 1,
    }
    assert set(mesh.tri_polygon.tolist()) == {1}


def test_closing_vertex_removed_and_coordinates_exact():
    ring = np.vstack([SQUARE, SQUARE[:1]]) + [78_248.661, 457_604.591, 0.123]
    b = MeshBuilder()
    b.add_polygon([ring], 0)
    mesh = b.build()
    assert len(mesh.vertices) == 4
    assert np.array_equal(mesh.vertices, ring[:4])


def test_derived_per_triangle_arrays_and_select():
    b = MeshBuilder()
    b.add_polygon([SQUARE], obj=3, semantic=SurfaceClass.ROOF, lod=lod_code("2"))
    b.add_polygon([SQUARE + [0, 0, 5]], obj=4, semantic=SurfaceClass.WALL, lod=lod_code("1"))
    mesh = b.build()
    assert mesh.tri_object.tolist() == [3, 3, 4, 4]
    assert mesh.tri_semantic.tolist() == [1, 1, 2, 2]
    assert mesh.lods == ["1", "2"]
    sub = mesh.select_polygons(mesh.poly_lod == 20)
    assert sub.n_polygons == 1 and sub.n_triangles == 2 and sub.tri_object.tolist() == [3, 3]
    np.testing.assert_array_equal(sub.vertices, SQUARE)


def test_lod_codes_round_trip():
    assert [lod_name(lod_code(x)) for x in ("0", "1", 2, "2.2", "3.1", 4)] == ["0", "1", "2", "2.2", "3.1", "4"]
    with pytest.raises(ValueError):
        lod_code("7")


def test_vertex_colours_follow_the_vertices_kept():
    from citytwin.model.geometry import DEFAULT_VERTEX_COLOUR

    b = MeshBuilder()
    b.add_polygon([SQUARE + [0, 0, 9]], obj=0)  # added without colours
    closed = np.vstack([SQUARE, SQUARE[:1]])  # the closing vertex goes, and its colour with it
    nan_ring = SQUARE + [0, 0, 1]
    nan_ring[2, 0] = np.nan  # a dropped polygon drops its colours
    hole = 0.25 * SQUARE + [0.3, 0.3, 0]
    vertices = np.vstack([closed, nan_ring, SQUARE + [0, 0, 2], hole])
    rgba = np.zeros((len(vertices), 4), np.uint8)
    rgba[:, 0] = np.arange(len(vertices))  # each row tells which input vertex it was
    rgba[:, 3] = 255
    index, _ = b.add_polygons(vertices, [5, 4, 4, 4], [1, 1, 2], obj=[1, 2, 3], colours=rgba)
    assert index.tolist() == [1, -1, 2]
    mesh = b.build()
    assert mesh.vertex_colours is not None and mesh.vertex_colours.shape == (len(mesh.vertices), 4)
    np.testing.assert_array_equal(mesh.vertex_colours[:4], [DEFAULT_VERTEX_COLOUR] * 4)
    assert mesh.vertex_colours[4:, 0].tolist() == [0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15, 16]
    # the colours stay on their vertices
    np.testing.assert_array_equal(mesh.vertices[4:], vertices[[0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15, 16]])
    sub = mesh.select_polygons(mesh.poly_object == 3)
    assert sub.vertex_colours[:, 0].tolist() == [9, 10, 11, 12, 13, 14, 15, 16]
    assert mesh.select_polygons(np.zeros(mesh.n_polygons, bool)).vertex_colours.shape == (0, 4)
    # without colours nothing is made up
    plain = MeshBuilder()
    plain.add_polygons(SQUARE, [4], [1], obj=0)
    assert plain.build().vertex_colours is None and MeshBuilder().build().vertex_colours is None
    with pytest.raises(ValueError, match="colours"):
        MeshBuilder().add_polygons(SQUARE, [4], [1], obj=0, colours=rgba[:3])
