"""DTM from the ground points of a real AHN3 tile, checked against the points themselves."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.io.registry import read
from citytwin.model.crs import CRS
from citytwin.model.pointcloud import PointCloud
from citytwin.model.semantics import SurfaceClass
from citytwin.model.terrain import make_dtm
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def ahn3() -> PointCloud:
    return read(shared_file("lidar/ahn3_cropped_1.laz"))


def mesh_heights(mesh, xy: np.ndarray) -> np.ndarray:
    """Height of the mesh at ``xy`` by finding the triangle that holds each point (NaN outside).

    Works from the triangles alone: the grid is recovered from the vertices, each
    triangle filed under the grid cell of its centroid, and each point tested
    against the triangles of its cell with barycentric coordinates.
    """
    tri = mesh.vertices[mesh.triangles]  # (T, 3, 3)
    xs, ys = np.unique(mesh.vertices[:, 0]), np.unique(mesh.vertices[:, 1])
    res = float(np.median(np.diff(xs)))
    x0, y0 = xs[0], ys[0]
    nx = len(xs)
    centroid = tri.mean(axis=1)
    tri_cell = np.floor((centroid[:, 1] - y0) / res).astype(np.int64) * nx + np.floor(
        (centroid[:, 0] - x0) / res
    ).astype(np.int64)
    order = np.argsort(tri_cell, kind="stable")
    sorted_cells = tri_cell[order]
    px = np.clip(np.floor((xy[:, 0] - x0) / res).astype(np.int64), 0, nx - 2)
    py = np.clip(np.floor((xy[:, 1] - y0) / res).astype(np.int64), 0, len(ys) - 2)
    cell = py * nx + px
    first = np.searchsorted(sorted_cells, cell)
    out = np.full(len(xy), np.nan)
    for k in range(2):  # two triangles per cell
        pos = np.clip(first + k, 0, len(order) - 1)
        t = order[pos]
        ok = sorted_cells[pos] == cell
        a, b, c = tri[t, 0], tri[t, 1], tri[t, 2]
        v0, v1, v2 = b[:, :2] - a[:, :2], c[:, :2] - a[:, :2], xy - a[:, :2]
        den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
        s = (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den
        r = (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den
        inside = ok & (s >= -1e-9) & (r >= -1e-9) & (s + r <= 1 + 1e-9) & np.isnan(out)
        z = a[:, 2] + s * (b[:, 2] - a[:, 2]) + r * (c[:, 2] - a[:, 2])
        out[inside] = z[inside]
    return out


def test_dtm_follows_the_ground_points(ahn3):
    dtm = make_dtm(ahn3, resolution=1.0)
    ground = ahn3.xyz[ahn3.classification == 2]
    z = mesh_heights(dtm.mesh, ground[:, :2])
    assert np.isfinite(z).all()  # every ground point lies on the mesh
    dz = np.abs(z - ground[:, 2])
    assert np.median(dz) < 0.15
    assert np.percentile(dz, 95) < 0.5
    # Not trivially so: the terrain is not flat, and buildings are not in it.
    assert np.ptp(ground[:, 2]) > 1.5
    roofs = ahn3.xyz[ahn3.classification == 6]
    assert np.nanmedian(roofs[:, 2] - mesh_heights(dtm.mesh, roofs[:, :2])) > 3.0


def test_dtm_covers_the_ground_points_and_is_a_terrain(ahn3):
    dtm = make_dtm(ahn3)
    ground = ahn3.xyz[ahn3.classification == 2]
    b = dtm.bounds
    assert (b[:2] <= ground[:, :2].min(0)).all() and (b[3:5] >= ground[:, :2].max(0)).all()
    # ... and no more than a cell and a half beyond them.
    assert (b[:2] >= ground[:, :2].min(0) - 1.5).all() and (b[3:5] <= ground[:, :2].max(0) + 1.5).all()
    assert dtm.crs == ahn3.crs
    assert dtm.objects.types == ["TINRelief"] and len(dtm.objects) == 1
    assert (dtm.mesh.poly_semantic == SurfaceClass.TERRAIN).all() and (dtm.mesh.poly_object == 0).all()
    assert dtm.mesh.n_polygons == dtm.mesh.n_triangles  # one ring per triangle
    tri = dtm.mesh.vertices[dtm.mesh.triangles]
    normal_z = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])[:, 2]
    assert (normal_z > 0).all()  # facing up
    # Triangle area adds up to the area of the grid cells: no overlaps.
    assert dtm.mesh.triangle_areas().sum() == pytest.approx(dtm.metadata["cells"] * 1.0, rel=0.01)
    assert dtm.summary()["triangles"] == 2 * dtm.metadata["cells"]


def test_resolution_sets_the_node_spacing_and_count(ahn3):
    counts = {}
    for res in (0.5, 1.0, 2.0):
        dtm = make_dtm(ahn3, resolution=res)
        xs = np.unique(dtm.mesh.vertices[:, 0])
        np.testing.assert_allclose(np.diff(xs), res, atol=1e-6)
        counts[res] = len(np.unique(dtm.mesh.vertices[:, :2], axis=0))
    # The tile is about 192 m x 229 m: one node per res x res square.
    area = 192.0 * 229.0
    for res, n in counts.items():
        assert n == pytest.approx(area / res**2, rel=0.05)
    assert counts[0.5] / counts[1.0] == pytest.approx(4, rel=0.03)
    assert counts[1.0] / counts[2.0] == pytest.approx(4, rel=0.05)


def test_statistics_order(ahn3):
    low = make_dtm(ahn3, statistic="min", resolution=2.0).mesh.vertices
    mean = make_dtm(ahn3, statistic="mean", resolution=2.0).mesh.vertices
    median = make_dtm(ahn3, statistic="median", resolution=2.0).mesh.vertices
    np.testing.assert_array_equal(low[:, :2], mean[:, :2])
    assert (low[:, 2] <= mean[:, 2] + 1e-9).mean() > 0.99  # filled nodes average neighbours
    assert np.abs(median[:, 2] - mean[:, 2]).mean() < 0.1


def plane_cloud(hole: bool = False, gap: bool = False) -> PointCloud:
    """Ground points on z = 0.1 x - 0.05 y + 3, four per 1 m node, symmetric around it."""
    gx, gy = np.meshgrid(np.arange(1000.0, 1040.0), np.arange(500.0, 530.0))
    nodes = np.column_stack([gx.ravel(), gy.ravel()])
    keep = np.ones(len(nodes), bool)
    if hole:  # a 6 m x 6 m building in the middle
        keep &= ~((nodes[:, 0] >= 1017) & (nodes[:, 0] < 1023) & (nodes[:, 1] >= 512) & (nodes[:, 1] < 518))
    if gap:  # a 20 m wide strip without data (a river)
        keep &= ~((nodes[:, 0] >= 1010) & (nodes[:, 0] < 1030))
    nodes = nodes[keep]
    offsets = np.array([[0.25, 0.25], [-0.25, 0.25], [0.25, -0.25], [-0.25, -0.25]])
    xy = (nodes[:, None, :] + offsets[None]).reshape(-1, 2)
    z = 0.1 * xy[:, 0] - 0.05 * xy[:, 1] + 3
    cls = np.full(len(xy), 2, np.uint8)
    # Some building points high above: they must not count.
    extra = np.column_stack([xy[::7], z[::7] + 10])
    xyz = np.vstack([np.column_stack([xy, z]), extra])
    cls = np.concatenate([cls, np.full(len(extra), 6, np.uint8)])
    return PointCloud(xyz=xyz, classification=cls, crs=CRS("EPSG:28992", 28992))


def plane(v: np.ndarray) -> np.ndarray:
    return 0.1 * v[:, 0] - 0.05 * v[:, 1] + 3


def test_plane_is_reproduced_and_holes_are_filled():
    dtm = make_dtm(plane_cloud(hole=True), resolution=1.0)
    v = dtm.mesh.vertices
    # Filled nodes (the hole, the border ring) hold neighbour means: close to the plane, a slope step at most.
    np.testing.assert_allclose(v[:, 2], plane(v), atol=0.25)
    inside = (v[:, 0] > 1017) & (v[:, 0] < 1022) & (v[:, 1] > 512) & (v[:, 1] < 517)
    assert inside.any()  # the hole was filled
    data = ~((v[:, 0] >= 1016) & (v[:, 0] <= 1023) & (v[:, 1] >= 511) & (v[:, 1] <= 518))
    data &= (v[:, 0] >= 1000) & (v[:, 0] <= 1039) & (v[:, 1] >= 500) & (v[:, 1] <= 529)
    np.testing.assert_allclose(v[data, 2], plane(v[data]), atol=1e-9)  # exact where there are points
    assert dtm.metadata["nodes_filled"] >= 36
    assert dtm.crs.epsg == 28992


def test_far_gaps_are_left_out_unless_asked():
    cloud = plane_cloud(gap=True)
    near = make_dtm(cloud, resolution=1.0, max_gap=3.0)
    v = near.mesh.vertices
    assert not ((v[:, 0] > 1013.5) & (v[:, 0] < 1025.5)).any()  # the middle of the strip is left out
    assert ((v[:, 0] > 1009) & (v[:, 0] <= 1012)).any()  # its edge is filled
    assert any("left out" in w for w in near.warnings)
    every = make_dtm(cloud, resolution=1.0, max_gap=None)
    assert ((every.mesh.vertices[:, 0] > 1015) & (every.mesh.vertices[:, 0] < 1025)).any()
    assert every.mesh.n_triangles > near.mesh.n_triangles


def test_bad_requests():
    cloud = plane_cloud()
    with pytest.raises(ValueError, match="method"):
        make_dtm(cloud, method="kriging")
    with pytest.raises(ValueError, match="resolution"):
        make_dtm(cloud, resolution=0)
    with pytest.raises(ValueError, match="no points of class 9"):
        make_dtm(cloud, classes=(9,))
    with pytest.raises(ValueError, match="classification"):
        make_dtm(PointCloud(xyz=np.zeros((3, 3))))
    # Other classes can stand in for ground.
    assert make_dtm(cloud, classes=(2, 6), resolution=2.0).mesh.vertices[:, 2].max() > plane(cloud.xyz[:, :2]).max()


def tin_heights(mesh, xy: np.ndarray) -> np.ndarray:
    """Height of a TIN mesh at ``xy`` (NaN outside), linear inside its triangles, from the triangles alone."""
    from matplotlib.tri import LinearTriInterpolator, Triangulation

    uv, inv = np.unique(mesh.vertices, axis=0, return_inverse=True)  # the mesh repeats each triangle's corners
    o = uv[:, :2].min(0)
    tri = Triangulation(uv[:, 0] - o[0], uv[:, 1] - o[1], inv.reshape(-1)[np.asarray(mesh.triangles)])
    z = LinearTriInterpolator(tri, uv[:, 2])(xy[:, 0] - o[0], xy[:, 1] - o[1])
    return np.ma.filled(z.astype(np.float64), np.nan)


def test_tin_follows_the_ground_points(ahn3):
    tin = make_dtm(ahn3, resolution=1.0, method="tin")
    ground = ahn3.xyz[ahn3.classification == 2]
    z = tin_heights(tin.mesh, ground[:, :2])
    assert np.isfinite(z).mean() > 0.99  # all but the hull's concave fringes
    dz = np.abs(z - ground[:, 2])
    assert np.nanmedian(dz) < 0.05  # its vertices are real ground points
    assert np.nanpercentile(dz, 95) < 0.3
    roofs = ahn3.xyz[ahn3.classification == 6]
    assert np.nanmedian(roofs[:, 2] - tin_heights(tin.mesh, roofs[:, :2])) > 3.0
    # A terrain object facing up, one real ground point per 1 m cell as vertices.
    assert tin.objects.types == ["TINRelief"] and tin.metadata["method"] == "tin"
    assert (tin.mesh.poly_semantic == SurfaceClass.TERRAIN).all()
    tri = tin.mesh.vertices[tin.mesh.triangles]
    assert (np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])[:, 2] > 0).all()
    vertices = np.unique(tin.mesh.vertices, axis=0)
    assert len(vertices) == tin.metadata["tin_vertices"] < len(ground)
    assert len(np.unique(np.floor(vertices[:, :2] - ground[:, :2].min(0)), axis=0)) == len(vertices)
    # Every vertex is a ground point of the cloud.
    keys = {tuple(p) for p in np.round(ground, 4)}
    assert all(tuple(p) in keys for p in np.round(vertices[::97], 4))
    # It covers about the grid DTM's area (whose nodes reach half a cell past the points, and fill gaps).
    grid = make_dtm(ahn3, resolution=1.0)
    assert 0.85 < tin.mesh.triangle_areas().sum() / grid.mesh.triangle_areas().sum() < 1.0


def test_tin_drops_long_triangles_and_keeps_the_lowest_point():
    cloud = plane_cloud(gap=True)
    near = make_dtm(cloud, resolution=1.0, method="tin", max_gap=5.0)
    every = make_dtm(cloud, resolution=1.0, method="tin", max_gap=None)
    assert near.metadata["triangles_too_long"] > 0 and any("longer than 5" in w for w in near.warnings)
    assert every.mesh.n_triangles > near.mesh.n_triangles and every.metadata["triangles_too_long"] == 0
    edges = near.mesh.vertices[near.mesh.triangles][:, :, :2]
    assert np.linalg.norm(edges - edges[:, [1, 2, 0]], axis=2).max() <= 5.0
    np.testing.assert_allclose(near.mesh.vertices[:, 2], plane(near.mesh.vertices[:, :2]), atol=1e-9)
    # "min" keeps each cell's lowest point: never above the median choice.
    xyz = np.array([[0.2, 0.2, 1.0], [0.4, 0.4, 3.0], [0.6, 0.6, 2.0], [5.5, 0.5, 0.0], [0.5, 5.5, 0.0]])
    two = PointCloud(xyz=xyz, classification=np.full(len(xyz), 2, np.uint8), crs=CRS("EPSG:28992", 28992))
    assert 1.0 in make_dtm(two, resolution=1.0, method="tin", statistic="min").mesh.vertices[:, 2]
    assert 2.0 in make_dtm(two, resolution=1.0, method="tin", statistic="median").mesh.vertices[:, 2]
    few = make_dtm(PointCloud(xyz=xyz[:2], classification=np.full(2, 2, np.uint8)), method="tin")
    assert few.mesh.n_triangles == 0 and any("too few" in w for w in few.warnings)
