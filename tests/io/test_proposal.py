"""Mesh files read as proposed buildings: upright, placed, and one sentence for a file that is not a mesh."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import trimesh

from citytwin.errors import ReaderError
from citytwin.io import proposal as proposal_module
from citytwin.io.proposal import read_proposal, read_proposal_mesh
from citytwin.model.object_json import geometry_surfaces
from citytwin.model.proposals import PROPOSAL_ATTRIBUTE
from citytwin.model.scenario import AddObject
from tests.conftest import shared_file
from tests.io.cityjson_validate import validation_errors


def _classes(add: AddObject) -> collections.Counter:
    return collections.Counter(s.semantic for s in geometry_surfaces(add.cityobject))


def _valid(add: AddObject) -> None:
    v = add.vertex_array()
    translate = v.min(axis=0)
    document = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": translate.tolist()},
        "CityObjects": {add.id: add.cityobject},
        "vertices": np.round((v - translate) / 0.001).astype(np.int64).tolist(),
    }
    assert validation_errors(document) == []


def _one_sentence(exc: ReaderError) -> None:
    text = exc.reason
    assert text.endswith(".") and "\n" not in text and ". " not in text[:-1], text


def _tall_box() -> trimesh.Trimesh:
    """A box 10 wide, 30 tall along +Y (glTF's up), 20 deep."""
    return trimesh.creation.box(extents=(10.0, 30.0, 20.0))


# ---------------------------------------------------------------------------- formats
@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_a_y_up_gltf_reads_upright(tmp_path, suffix):
    path = tmp_path / f"tower{suffix}"
    _tall_box().export(path)
    add = read_proposal(path, position=(500.0, 600.0, 12.0), object_id="tower")
    v = add.vertex_array()
    np.testing.assert_allclose(np.ptp(v, axis=0), [10.0, 20.0, 30.0], atol=1e-6)
    np.testing.assert_allclose(v.min(axis=0), [495.0, 590.0, 12.0], atol=1e-6)
    assert add.cityobject["geometry"][0]["type"] == "Solid"
    assert _classes(add) == {"GroundSurface": 1, "WallSurface": 4, "RoofSurface": 1}
    attrs = add.cityobject["attributes"]
    assert attrs["measuredHeight"] == pytest.approx(30.0) and attrs[PROPOSAL_ATTRIBUTE] is True
    assert attrs["proposalSource"] == path.name
    _valid(add)


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".stl", ".off"])
def test_other_formats_are_z_up_unless_told(tmp_path, suffix):
    path = tmp_path / f"box{suffix}"
    _tall_box().export(path)
    as_is = read_proposal(path)
    np.testing.assert_allclose(np.ptp(as_is.vertex_array(), axis=0), [10.0, 30.0, 20.0], atol=1e-6)
    upright = read_proposal(path, up_axis="y", scale=0.5, rotate_deg=90.0)
    np.testing.assert_allclose(np.ptp(upright.vertex_array(), axis=0), [10.0, 5.0, 15.0], atol=1e-6)
    assert upright.cityobject["geometry"][0]["type"] == "Solid"


def test_read_proposal_mesh_gives_the_triangles(tmp_path):
    path = tmp_path / "box.glb"
    _tall_box().export(path)
    mesh = read_proposal_mesh(path)
    assert mesh.format == "glTF" and mesh.triangles.shape == (12, 3)
    np.testing.assert_allclose(np.ptp(mesh.vertices, axis=0), [10.0, 20.0, 30.0], atol=1e-6)


@pytest.mark.parametrize("name", ["lyon_tour_part_dieu.obj", "lyon1_buildings_tile1.glb"])
def test_a_real_mesh_reads(name):
    path = shared_file(f"mesh/{name}")
    reference = trimesh.load(path, force="mesh")
    add = read_proposal(path, position=(842_000.0, 6_519_000.0, 170.0), attributes={"name": "Part-Dieu"})
    v = add.vertex_array()
    assert v[:, 2].min() == pytest.approx(170.0)
    height = float(np.ptp(reference.vertices[:, 1 if name.endswith(".glb") else 2]))
    assert add.cityobject["attributes"]["measuredHeight"] == pytest.approx(height, abs=1e-3)
    classes = _classes(add)
    assert classes["WallSurface"] > 0 and classes["RoofSurface"] > 0
    assert add.cityobject["attributes"]["name"] == "Part-Dieu"
    _valid(add)


# ---------------------------------------------------------------------------- hostile files
def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.obj", b"", "empty"),
        ("blank.glb", b"   \n", "empty"),
        ("text.obj", b"Dear planner,\nplease find the tower attached.\n", "no triangles"),
        ("nan.obj", b"v 0 0 0\nv 1 0 0\nv nan 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\n", "NaN or infinite"),
        ("allnan.obj", b"v nan 0 0\nv 1 nan 0\nv 0 1 inf\nf 1 2 3\n", "NaN or infinite"),
        ("flat.obj", b"v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", "no triangles"),
        ("bad.glb", b"glTF\x02\x00\x00\x00\xff\xff\xff\x7f" + b"\x00" * 40, "GLB"),
        ("bad.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 999999999\nend_header\n", "PLY"),
        ("range.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "vertices it does not have"),
    ],
)
def test_hostile_files_raise_one_sentence(tmp_path, name, data, message):
    path = _write(tmp_path / name, data)
    with pytest.raises(ReaderError, match=message) as info:
        read_proposal(path)
    _one_sentence(info.value)
    assert info.value.path == path


def test_missing_file_and_bad_placement(tmp_path):
    with pytest.raises(ReaderError) as info:
        read_proposal(tmp_path / "nowhere.obj")
    _one_sentence(info.value)
    path = tmp_path / "box.obj"
    _tall_box().export(path)
    for kwargs, message in (({"scale": -1.0}, "scale"), ({"up_axis": "x"}, "up axis"), ({"position": (0, 0)}, "three")):
        with pytest.raises(ReaderError, match=message) as info:
            read_proposal(path, **kwargs)
        _one_sentence(info.value)


def test_too_many_triangles(tmp_path, monkeypatch):
    monkeypatch.setattr(proposal_module, "MAX_TRIANGLES", 10)
    path = tmp_path / "box.obj"
    _tall_box().export(path)
    with pytest.raises(ReaderError, match="more than a proposal may have") as info:
        read_proposal(path)
    _one_sentence(info.value)
