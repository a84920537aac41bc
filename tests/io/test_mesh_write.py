"""Saving meshes (PLY, OBJ, GLB) and reading them back through citytwin.io.read."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from citytwin.errors import CityTwinError
from citytwin.io.mesh_write import save_mesh
from citytwin.io.registry import read
from citytwin.model.crs import CRS
from citytwin.model.terrain import make_dtm
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def dtm():
    """A real DTM (AHN3 Delft, RD New coordinates ~85 km / 447 km from the origin)."""
    cloud = read(shared_file("lidar/ahn3_cropped_1.laz"))
    cloud.crs = CRS("EPSG:28992", 28992)  # the file declares none
    model = make_dtm(cloud, resolution=2.0)
    # Grid nodes fall on whole metres, which float32 holds exactly; move them off it.
    mesh = dataclasses.replace(model.mesh, vertices=model.mesh.vertices + [0.1234567, 0.7654321, 0.0])
    return dataclasses.replace(model, mesh=mesh)


def triangle_corners(model) -> np.ndarray:
    """``(T, 3, 3)`` corners of every triangle, in a canonical order (sorted by their rows)."""
    tri = model.mesh.vertices[model.mesh.triangles]
    # Start each triangle at its smallest corner (keeps orientation), then sort the triangles.
    key = tri[:, :, 0] * 1e7 + tri[:, :, 1]
    start = np.argmin(key, axis=1)
    roll = (start[:, None] + np.arange(3)) % 3
    tri = np.take_along_axis(tri, roll[:, :, None], axis=1)
    flat = tri.reshape(len(tri), -1)
    return tri[np.lexsort(flat.T[::-1])]


@pytest.mark.parametrize("suffix", [".ply", ".obj", ".glb"])
def test_round_trip_keeps_triangles_to_the_millimetre(tmp_path, dtm, suffix):
    path = save_mesh(dtm, tmp_path / f"dtm{suffix}")
    back = read(path)
    assert back.mesh.n_triangles == dtm.mesh.n_triangles
    diff = np.abs(triangle_corners(back) - triangle_corners(dtm))
    assert diff.max() < 1e-3
    assert back.crs.epsg == 28992  # from the sidecar
    sidecar = json.loads((tmp_path / f"dtm{suffix}.crs.json").read_text())
    assert sidecar["crs"] == "EPSG:28992"
    if suffix == ".glb":
        # float32 cannot hold 447 km to the millimetre: the vertices are stored relative to an offset.
        np.testing.assert_array_equal(sidecar["offset"], np.floor(dtm.bounds[:3]))
        assert sidecar["offset"][1] > 400_000
    else:
        assert "offset" not in sidecar  # PLY (double) and OBJ (text) hold the coordinates as they are
    # Nothing left behind but the file and its sidecar.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"dtm{suffix}", f"dtm{suffix}.crs.json"])


def test_glb_without_offset_would_lose_precision(tmp_path, dtm):
    back = read(save_mesh(dtm, tmp_path / "raw.glb", offset=None))
    err = np.abs(triangle_corners(back) - triangle_corners(dtm)).max()
    assert err > 1e-3  # why the offset exists: float32 steps are ~3 cm at 447 km
    assert err < 0.1


def test_explicit_offset_is_recorded_and_restored(tmp_path, dtm):
    offset = [84000.0, 447000.0, -2.0]
    path = save_mesh(dtm, tmp_path / "shifted.ply", offset=offset)
    assert json.loads((tmp_path / "shifted.ply.crs.json").read_text())["offset"] == offset
    back = read(path)
    assert np.abs(triangle_corners(back) - triangle_corners(dtm)).max() < 1e-6
    # The file itself holds the shifted coordinates.
    import trimesh

    raw = trimesh.load(path, process=False)
    assert raw.vertices[:, 0].max() < 2000 and raw.vertices[:, 1].max() < 1000


def test_objects_survive_as_named_parts(tmp_path):
    model = read(shared_file("cityjson/citygml4j_lod2_buildings_v2.json"))
    tops = [model.objects.ids[i] for i in np.unique(model.objects.roots[model.mesh.tri_object])]
    assert len(tops) == 100
    for suffix in (".obj", ".glb"):
        back = read(save_mesh(model, tmp_path / f"city{suffix}"))
        assert back.mesh.n_triangles == model.mesh.n_triangles
        assert sorted(back.objects.ids) == sorted(tops)
        assert np.abs(triangle_corners(back) - triangle_corners(model)).max() < 1e-3
        # each triangle still belongs to its building
        area_by_id = {}
        for obj in range(len(back.objects)):
            area_by_id[back.objects.ids[obj]] = back.mesh.triangle_areas()[back.mesh.tri_object == obj].sum()
        src_area = model.mesh.triangle_areas()
        src_root = model.objects.roots[model.mesh.tri_object]
        for r in np.unique(src_root)[:10]:
            assert area_by_id[model.objects.ids[r]] == pytest.approx(src_area[src_root == r].sum(), rel=1e-6)


def test_atomic_overwrite_permissions_and_stale_sidecar(tmp_path, dtm):
    old = os.umask(0o027)
    try:
        path = save_mesh(dtm, tmp_path / "t.glb")
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.stat(tmp_path / "t.glb.crs.json").st_mode & 0o777 == 0o640
    # Saving a model without CRS and offset removes the sidecar of the file it replaces.
    plain = dataclasses.replace(dtm, crs=CRS())
    save_mesh(plain, path, offset=None)
    assert not (tmp_path / "t.glb.crs.json").exists()
    assert read(path).crs.epsg is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.glb"]


def test_format_from_argument_and_errors(tmp_path, dtm):
    path = save_mesh(dtm, tmp_path / "terrain.bin", format="ply")
    assert path.read_bytes().startswith(b"ply\nformat binary_little_endian")
    with pytest.raises(CityTwinError, match="use .ply, .obj or .glb"):
        save_mesh(dtm, tmp_path / "terrain.stl")
    empty = dataclasses.replace(dtm, mesh=dtm.mesh.select_polygons(np.zeros(dtm.mesh.n_polygons, bool)))
    with pytest.raises(CityTwinError, match="no triangles"):
        save_mesh(empty, tmp_path / "empty.ply")
    with pytest.raises(CityTwinError, match="Cannot write"):
        save_mesh(dtm, tmp_path / "missing" / "x.ply")


def test_atomic_writes_keep_normal_permissions_and_never_leave_half_a_file(tmp_path):
    import os
    import stat

    import pytest

    from citytwin.io.atomic import write_atomic
    from citytwin.io.cityjson_write import write_cityjson

    out = write_cityjson(
        tmp_path / "a.city.json",
        {
            "type": "CityJSON",
            "version": "2.0",
            "CityObjects": {},
            "vertices": [],
            "transform": {"scale": [1, 1, 1], "translate": [0, 0, 0]},
        },
    )
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask
    target = tmp_path / "keep.txt"
    target.write_bytes(b"original")

    def chunks():
        yield b"half"
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, chunks())
    assert target.read_bytes() == b"original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.city.json", "keep.txt"]


@pytest.fixture(scope="module")
def coloured_tower(tmp_path_factory):
    """The Part-Dieu tower with vertex colours from its coordinates, read from a PLY (projected-sized offset)."""
    import trimesh

    tower = trimesh.load(shared_file("mesh/lyon_tour_part_dieu.obj"), force="mesh", process=False)
    v = tower.vertices
    unit = (v - v.min(axis=0)) / np.ptp(v, axis=0)
    alpha = np.where(unit[:, 2] > 0.5, 255, 128)  # some translucency, for the formats that keep it
    rgba = np.column_stack([np.round(255 * unit), alpha]).astype(np.uint8)
    tower.visual = trimesh.visual.ColorVisuals(tower, vertex_colors=rgba)
    path = tmp_path_factory.mktemp("tower") / "tower.ply"
    tower.export(path)
    model = read(path)
    assert model.mesh.vertex_colours is not None and len(np.unique(model.mesh.vertex_colours, axis=0)) > 100
    return model


def corner_colours(model) -> np.ndarray:
    """``(T, 3, 4)`` RGBA of every triangle corner, ordered like :func:`triangle_corners`."""
    tri = model.mesh.vertices[model.mesh.triangles]
    rgba = model.mesh.vertex_colours[model.mesh.triangles]
    key = tri[:, :, 0] * 1e7 + tri[:, :, 1]
    roll = (np.argmin(key, axis=1)[:, None] + np.arange(3)) % 3
    tri = np.take_along_axis(tri, roll[:, :, None], axis=1)
    rgba = np.take_along_axis(rgba, roll[:, :, None], axis=1)
    return rgba[np.lexsort(tri.reshape(len(tri), -1).T[::-1])]


@pytest.mark.parametrize("suffix", [".ply", ".glb", ".obj"])
def test_vertex_colours_round_trip(tmp_path, coloured_tower, suffix):
    back = read(save_mesh(coloured_tower, tmp_path / f"tower{suffix}"))
    assert back.mesh.n_triangles == coloured_tower.mesh.n_triangles
    assert np.abs(triangle_corners(back) - triangle_corners(coloured_tower)).max() < 1e-3
    got, want = corner_colours(back), corner_colours(coloured_tower)
    if suffix == ".obj":  # OBJ colours are RGB: the alpha comes back opaque
        assert (got[..., 3] == 255).all()
        got, want = got[..., :3], want[..., :3]
    np.testing.assert_array_equal(got, want)


def test_mesh_without_usable_colours_is_written_without(tmp_path, coloured_tower):
    wrong = dataclasses.replace(coloured_tower.mesh, vertex_colours=coloured_tower.mesh.vertex_colours[:5])
    model = dataclasses.replace(coloured_tower, mesh=wrong)
    for suffix in (".ply", ".glb"):
        back = read(save_mesh(model, tmp_path / f"t{suffix}"))
        assert back.mesh.n_triangles == model.mesh.n_triangles and back.mesh.vertex_colours is None
    plain = dataclasses.replace(coloured_tower, mesh=dataclasses.replace(coloured_tower.mesh, vertex_colours=None))
    assert b"red" not in save_mesh(plain, tmp_path / "plain.ply").read_bytes()[:400]
