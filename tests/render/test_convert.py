"""Model arrays → merged vtkPolyData: origin, float32 precision, LoD choice, cell arrays, colours."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model.semantics import SurfaceClass
from citytwin.render.convert import choose_origin, lod_mask, mesh_to_polydata, to_local
from citytwin.render.style import DEFAULT_STYLE
from tests.render.conftest import Z0, make_boxes


def test_choose_origin_is_rounded_xy_centre_and_zmin():
    o = choose_origin([84_970.4, 444_991.7, -3.6, 85_040.2, 445_008.9, 41.0])
    assert o.dtype == np.float64
    np.testing.assert_array_equal(o, [85_005.0, 445_000.0, -4.0])
    np.testing.assert_array_equal(choose_origin(np.full(6, np.nan)), [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("x", "y"),
    [(85_000.0, 445_000.0), (390_000.0, 5_400_000.0), (-4_400_000.0, 7_300_000.0)],
    ids=["rd-new", "utm", "large-negative"],
)
def test_float32_relative_round_trip_is_below_a_millimetre(x, y):
    rng = np.random.default_rng(7)
    # a 10 km district with millimetre-precise coordinates
    v = np.column_stack(
        [x + rng.uniform(-5000, 5000, 10_000), y + rng.uniform(-5000, 5000, 10_000), rng.uniform(-10, 300, 10_000)]
    ).round(3)
    bounds = np.concatenate([v.min(axis=0), v.max(axis=0)])
    origin = choose_origin(bounds)
    local = to_local(v, origin)
    assert local.dtype == np.float32
    err = np.abs(local.astype(np.float64) + origin - v).max()
    assert err < 1e-3
    # without the origin, float32 would be off by far more: the test can fail
    assert np.abs(v.astype(np.float32).astype(np.float64) - v).max() > 1e-3


def test_mesh_to_polydata_cell_arrays_and_colours():
    model = make_boxes()
    mesh = model.mesh
    origin = choose_origin(model.bounds)
    pd = mesh_to_polydata(mesh, origin, objects=model.objects)
    assert pd.n_cells == mesh.n_triangles
    assert pd.points.dtype == np.float32
    np.testing.assert_allclose(pd.points.astype(np.float64) + origin, mesh.vertices, atol=1e-3)
    np.testing.assert_array_equal(pd.regular_faces, mesh.triangles)
    assert pd.cell_data["object"].dtype == np.int32
    assert pd.cell_data["semantic"].dtype == np.uint8
    np.testing.assert_array_equal(pd.cell_data["object"], mesh.tri_object)
    np.testing.assert_array_equal(pd.cell_data["root"], model.objects.roots[mesh.tri_object])
    colours = pd.cell_data["colors"]
    assert colours.dtype == np.uint8 and colours.shape == (mesh.n_triangles, 4)
    sem = pd.cell_data["semantic"]
    for cls in (SurfaceClass.ROOF, SurfaceClass.WALL, SurfaceClass.GROUND):
        assert (sem == cls).any()
        np.testing.assert_array_equal(
            colours[sem == cls, :3], np.broadcast_to(DEFAULT_STYLE.surface_colours[cls], ((sem == cls).sum(), 3))
        )
    assert (colours[:, 3] == 255).all()


def test_default_lod_is_the_highest_per_top_level_object():
    model = make_boxes(lod1_for_first=True)
    mesh = model.mesh
    origin = choose_origin(model.bounds)
    roots = model.objects.roots[mesh.tri_object]
    keep = lod_mask(mesh.tri_lod, roots, None)
    assert set(np.unique(mesh.tri_lod)) == {10, 20}
    assert (mesh.tri_lod[keep] == 20).all() and keep.sum() == (mesh.tri_lod == 20).sum()
    # a second building that only has LoD1 still shows at its best (LoD1)
    only1 = np.where(roots == roots[0], 20, 10).astype(np.uint8)
    assert lod_mask(only1, roots, None).all()

    pd2 = mesh_to_polydata(mesh, origin, objects=model.objects)
    assert pd2.n_cells == (mesh.tri_lod == 20).sum()
    pd1 = mesh_to_polydata(mesh, origin, lod=10, objects=model.objects)
    assert pd1.n_cells == (mesh.tri_lod == 10).sum() == 12
    assert pd1.n_points == 24  # only the vertices of the LoD1 block are kept
    assert set(np.unique(pd1.cell_data["lod"])) == {10}
    assert (pd1.cell_data["root"] == 0).all()
    # unclassified building faces: roof colour when horizontal, wall colour when vertical
    top = pd1.cell_centers().points[:, 2].astype(np.float64) + origin[2]
    z_top = Z0 + 10.0 - 5.0
    roofish = np.isclose(top, z_top) | np.isclose(top, Z0)
    roof_rgb = DEFAULT_STYLE.surface_colours[SurfaceClass.ROOF]
    wall_rgb = DEFAULT_STYLE.surface_colours[SurfaceClass.WALL]
    assert (pd1.cell_data["colors"][roofish, :3] == roof_rgb).all()
    assert (pd1.cell_data["colors"][~roofish, :3] == wall_rgb).all()


def test_object_type_colours_for_unclassified_geometry():
    model = make_boxes(ground_plane=True)
    origin = choose_origin(model.bounds)
    pd = mesh_to_polydata(model.mesh, origin, objects=model.objects)
    terrain = model.objects.index["terrain"]
    is_t = pd.cell_data["object"] == terrain
    assert is_t.sum() == 2
    assert (pd.cell_data["colors"][is_t, :3] == DEFAULT_STYLE.object_type_colours["TINRelief"]).all()
    # without the object table, unclassified faces fall back to the default grey
    pd_bare = mesh_to_polydata(model.mesh, origin)
    assert (pd_bare.cell_data["colors"][is_t, :3] == DEFAULT_STYLE.default_object_colour).all()


def test_conversion_is_vectorised_for_a_large_mesh():
    """100k triangles convert quickly (a per-object Python loop would take seconds)."""
    import time

    from citytwin.model.citymodel import CityModel
    from citytwin.model.cityobjects import CityObjects
    from citytwin.model.geometry import MeshData

    base = make_boxes()
    reps = 5000  # 2 boxes × 12 triangles × 5000 = 120k triangles, 10k buildings
    m = base.mesh
    nv, no = len(m.vertices), len(base.objects)
    shift = np.repeat(np.arange(reps) * 100.0, nv)
    verts = np.tile(m.vertices, (reps, 1))
    verts[:, 1] += shift
    objects = CityObjects()
    for r in range(reps):
        for o in base.objects:
            p = int(base.objects.parents[o.index])
            objects.add(f"{o.id}-{r}", o.type, -1 if p < 0 else p + r * no)
    tri_polygon = (np.tile(m.tri_polygon, reps) + np.repeat(np.arange(reps) * m.n_polygons, m.n_triangles)).astype(
        np.int32
    )
    big = MeshData(
        vertices=verts,
        ring_offsets=np.zeros(1, np.int64),
        polygon_rings=np.zeros(1, np.int64),
        poly_object=(np.tile(m.poly_object, reps) + np.repeat(np.arange(reps) * no, m.n_polygons)).astype(np.int32),
        poly_semantic=np.tile(m.poly_semantic, reps),
        poly_lod=np.tile(m.poly_lod, reps),
        triangles=(np.tile(m.triangles, (reps, 1)) + np.repeat(np.arange(reps) * nv, m.n_triangles)[:, None]).astype(
            np.int32
        ),
        tri_polygon=tri_polygon,
    )
    model = CityModel("test", "0", objects, big)
    origin = choose_origin(model.bounds)
    t = time.perf_counter()
    pd = mesh_to_polydata(big, origin, objects=objects)
    elapsed = time.perf_counter() - t
    assert pd.n_cells == 120_000
    assert len(np.unique(pd.cell_data["root"])) == 2 * reps
    assert elapsed < 2.0, f"conversion took {elapsed:.2f} s"
