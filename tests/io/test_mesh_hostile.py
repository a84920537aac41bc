"""Hostile mesh files: every declared count is checked against the bytes present.

Each file is derived at test time from the real Part-Dieu tower (``mesh/lyon_tour_part_dieu.obj``,
1,737 vertices, 1,124 triangles) or written by hand, in ``tmp_path``. Every read must end fast,
within a bounded amount of memory, either in a :class:`~citytwin.errors.ReaderError` of one
sentence or in the readable part with a warning.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
import trimesh

from citytwin.errors import ReaderError
from citytwin.io import mesh, mesh_checks
from citytwin.io.registry import read
from tests.conftest import shared_file

#: Seconds any hostile read may take.
FAST = 5.0


@pytest.fixture(scope="module")
def tower():
    """The real tower as trimesh reads it: (1737, 3) vertices, (1124, 3) faces."""
    return trimesh.load(shared_file("mesh/lyon_tour_part_dieu.obj"), force="mesh", process=False)


def _measured(call, path):
    """Run ``call(path)`` and check it is fast and allocates no more than 1 GiB + 10 × the file size."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        return call(path)
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < FAST, f"{path.name} took {elapsed:.1f} s"
        assert peak < 2**30 + 10 * path.stat().st_size, f"{path.name} allocated {peak:,} bytes"


def refused(path, sentence, reader=read):
    """The read ends in exactly this one sentence, fast."""
    with pytest.raises(ReaderError) as err:
        _measured(reader, path)
    assert err.value.reason == sentence
    assert "\n" not in str(err.value) and str(err.value).endswith(".")
    return err.value


def read_fast(path, reader=read):
    return _measured(reader, path)


# ------------------------------------------------------------------------------------------------ glTF / GLB
def tower_gltf(tower):
    """The tower as a one-node glTF: accessor 0 POSITION (VEC3 float), accessor 1 indices (uint32), one buffer."""
    v = np.asarray(tower.vertices, "<f4")
    f = np.asarray(tower.faces, "<u4")
    binary = v.tobytes() + f.tobytes()
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "tower"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "mode": 4}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(v), "type": "VEC3"},
            {"bufferView": 1, "componentType": 5125, "count": f.size, "type": "SCALAR"},
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": v.nbytes},
            {"buffer": 0, "byteOffset": v.nbytes, "byteLength": f.nbytes},
        ],
        "buffers": [{"byteLength": len(binary)}],
    }
    return doc, binary


def glb(doc, binary, length=None, json_length=None, bin_length=None):
    """A GLB file; the lengths in its header and chunk headers can be set to lie."""
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return (
        struct.pack("<4sII", b"glTF", 2, total if length is None else length)
        + struct.pack("<I4s", len(text) if json_length is None else json_length, b"JSON")
        + text
        + struct.pack("<I4s", len(binary) if bin_length is None else bin_length, b"BIN\0")
        + binary
    )


def write_glb(tmp_path, doc, binary, **lengths):
    path = tmp_path / "tower.glb"
    path.write_bytes(glb(doc, binary, **lengths))
    return path


V, F = 1737, 1124  # the tower's vertices and triangles
POS, IDX = V * 12, F * 12  # bytes of its POSITION and index views


def test_the_untouched_tower_reads(tmp_path, tower):
    assert (len(tower.vertices), len(tower.faces)) == (V, F)
    model = read_fast(write_glb(tmp_path, *tower_gltf(tower)))
    assert model.mesh.n_triangles == F and model.warnings == []
    assert model.objects.ids == ["tower"]


def _set(path, value):
    """A mutation setting ``doc[path[0]][path[1]]... = value``."""

    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "sentence"),
    [
        (
            _set(["accessors", 0, "count"], 2**31),
            f"The glTF accessor 0 needs {2**31 * 12:,} bytes ({2**31:,} × 12) from bufferView 0, which has {POS:,}.",
        ),
        (
            _set(["accessors", 0, "count"], 2**53),
            f"The glTF accessor 0 needs {2**53 * 12:,} bytes ({2**53:,} × 12) from bufferView 0, which has {POS:,}.",
        ),
        (
            _set(["accessors", 1, "count"], 2**31),
            f"The glTF accessor 1 needs {2**31 * 4:,} bytes ({2**31:,} × 4) from bufferView 1, which has {IDX:,}.",
        ),
        (
            _set(["accessors", 0, "byteOffset"], 10**9),
            f"The glTF accessor 0 needs {10**9 + POS:,} bytes ({V:,} × 12) from bufferView 0, which has {POS:,}.",
        ),
        (
            _set(["accessors", 0, "byteOffset"], -4),
            "The glTF accessor 0 has byteOffset -4, not a whole number of at least 0.",
        ),
        (
            _set(["bufferViews", 0, "byteLength"], 10**9),
            f"The glTF bufferView 0 (bytes 0 to 1,000,000,000) runs past the end of buffer 0 ({POS + IDX:,} bytes).",
        ),
        (
            _set(["bufferViews", 1, "byteOffset"], 10**9),
            f"The glTF bufferView 1 (bytes 1,000,000,000 to {10**9 + IDX:,}) runs past the end of buffer 0 "
            f"({POS + IDX:,} bytes).",
        ),
        (
            _set(["bufferViews", 1, "byteOffset"], -8),
            "The glTF bufferView 1 has byteOffset -8, not a whole number of at least 0.",
        ),
        (
            _set(["bufferViews", 0, "byteStride"], 2**31),
            f"The glTF accessor 0 needs {(V - 1) * 2**31 + 12:,} bytes ({V:,} × 12) from bufferView 0, "
            f"which has {POS:,}.",
        ),
        (
            _set(["bufferViews", 0, "byteStride"], 0),
            "The glTF bufferView 0 has byteStride 0, not a whole number of at least 1.",
        ),
        (
            _set(["bufferViews", 0, "byteStride"], -12),
            "The glTF bufferView 0 has byteStride -12, not a whole number of at least 1.",
        ),
        (
            _set(["buffers", 0, "byteLength"], POS + IDX + 4096),
            f"The glTF buffer 0 declares {POS + IDX + 4096:,} bytes but only {POS + IDX:,} are present.",
        ),
        (
            _set(["buffers", 0, "byteLength"], 2**40),
            f"The glTF buffer 0 declares {2**40:,} bytes but only {POS + IDX:,} are present.",
        ),
        (
            _set(["accessors", 0, "componentType"], 9999),
            "The glTF accessor 0 has an unknown componentType 9999.",
        ),
        (
            _set(["meshes", 0, "primitives", 0, "attributes", "POSITION"], 99),
            "The glTF mesh 0, primitive 0 (POSITION) refers to accessor 99, which does not exist.",
        ),
        (
            _set(["meshes", 0, "primitives", 0, "indices"], 99),
            "The glTF mesh 0, primitive 0 refers to accessor 99, which does not exist.",
        ),
        (
            _set(["meshes", 0, "primitives", 0, "indices"], 0),
            "The glTF mesh 0, primitive 0 has indices of type VEC3, not SCALAR.",
        ),
        (_set(["nodes", 0, "mesh"], 9), "The glTF node 0 refers to mesh 9, which does not exist."),
        (_set(["scenes", 0, "nodes"], [7]), "The glTF scene 0 refers to node 7, which does not exist."),
        (_set(["scene"], 3), "The glTF file refers to scene 3, which does not exist."),
        (
            _set(["nodes", 0, "children"], [0]),
            "The glTF node 0 is its own child; the node hierarchy must be a forest, not a cycle.",
        ),
        (
            _set(["nodes"], [{"mesh": 0, "children": [1]}, {"children": [0]}]),
            "The glTF node 0 is its own ancestor; the node hierarchy must be a forest, not a cycle.",
        ),
        (
            _set(["nodes"], [{"children": [2]}, {"children": [2]}, {"mesh": 0}]),
            "The glTF node 2 has two parents (nodes 0 and 1); the node hierarchy must be a forest.",
        ),
        (
            _set(["nodes", 0, "translation"], [1, 2]),
            "The glTF node 0 has a malformed matrix, translation, rotation or scale.",
        ),
    ],
)
def test_gltf_counts_and_references_that_do_not_fit_are_one_sentence(tmp_path, tower, mutate, sentence):
    doc, binary = tower_gltf(tower)
    mutate(doc)
    refused(write_glb(tmp_path, doc, binary), sentence)


def test_a_scene_root_that_is_a_child_is_refused(tmp_path, tower):
    doc, binary = tower_gltf(tower)
    doc["nodes"] = [{"children": [1]}, {"mesh": 0}]
    doc["scenes"][0]["nodes"] = [0, 1]
    refused(write_glb(tmp_path, doc, binary), "The glTF scene 0 lists node 1 as a root, but it is a child of node 0.")


def test_zero_accessors_without_buffer_are_within_the_data_budget(tmp_path, tower):
    """An accessor without bufferView is zeros trimesh allocates: 2**53 of them are refused before that."""
    doc, binary = tower_gltf(tower)
    doc["accessors"][0] = {"componentType": 5126, "count": 2**53, "type": "VEC3"}
    described = POS + IDX + 2 * (2**53 * 12 + F * 12)  # views, accessors, then the primitive's use of them
    refused(
        write_glb(tmp_path, doc, binary),
        f"The glTF buffer views, accessors and primitives describe {described:,} bytes of data, far more than the "
        f"{POS + IDX:,} the file holds.",
    )


def test_primitives_sharing_accessors_thousands_of_times_are_refused(tmp_path, tower):
    doc, binary = tower_gltf(tower)
    doc["meshes"][0]["primitives"] *= 5000
    with pytest.raises(ReaderError, match=r"primitives describe [\d,]+ bytes of data, far more than the 34,332 the"):
        _measured(read, write_glb(tmp_path, doc, binary))


@pytest.mark.parametrize(
    ("lengths", "sentence"),
    [
        (
            {"json_length": 2**32 - 1},
            "The GLB JSON chunk at byte 12 claims 4,294,967,295 bytes but only {rest_json:,} remain in the file.",
        ),
        (
            {"bin_length": 2**32 - 1},
            "The GLB binary chunk at byte {bin_at:,} claims 4,294,967,295 bytes but only {rest_bin:,} remain in "
            "the file.",
        ),
        (
            {"bin_length": POS + IDX + 4},
            "The GLB binary chunk at byte {bin_at:,} claims {over:,} bytes but only {rest_bin:,} remain in the file.",
        ),
    ],
)
def test_glb_chunk_lengths_past_the_end_are_one_sentence(tmp_path, tower, lengths, sentence):
    doc, binary = tower_gltf(tower)
    path = write_glb(tmp_path, doc, binary, **lengths)
    size = path.stat().st_size
    bin_at = size - len(binary) - 8
    refused(path, sentence.format(rest_json=size - 20, bin_at=bin_at, rest_bin=len(binary), over=POS + IDX + 4))


def test_truncated_glb_is_one_sentence(tmp_path, tower):
    doc, binary = tower_gltf(tower)
    data = glb(doc, binary)
    path = tmp_path / "cut.glb"
    path.write_bytes(data[:20000])
    bin_at = len(data) - len(binary) - 8
    refused(
        path,
        f"The GLB binary chunk at byte {bin_at:,} claims {len(binary):,} bytes but only {20000 - bin_at - 8:,} "
        "remain in the file.",
    )
    path.write_bytes(data[:10])
    refused(path, "The GLB file is truncated within its 12-byte header.")


@pytest.mark.parametrize("length", [2**32 - 1, 20])
def test_a_wrong_glb_total_length_is_a_warning(tmp_path, tower, length):
    path = write_glb(tmp_path, *tower_gltf(tower), length=length)
    model = read_fast(path)
    assert model.warnings == [
        f"The GLB header gives a length of {length:,} bytes, but the file has {path.stat().st_size:,}."
    ]
    assert model.mesh.n_triangles == F


def test_a_scene_tree_thousands_of_levels_deep_reads_fast_with_its_transforms(tmp_path, tower):
    doc, binary = tower_gltf(tower)
    depth = 10_000
    doc["nodes"] = [{"children": [i + 1], "translation": [1.0, 0, 0]} for i in range(depth)] + [{"mesh": 0}]
    doc["scenes"][0]["nodes"] = [0]
    deep = read_fast(write_glb(tmp_path, doc, binary))
    (tmp_path / "flat").mkdir()
    flat = read(write_glb(tmp_path / "flat", *tower_gltf(tower)))
    assert deep.mesh.n_triangles == flat.mesh.n_triangles == F
    np.testing.assert_allclose(deep.bounds, flat.bounds + [depth, 0, 0, depth, 0, 0], atol=1e-6)
    assert deep.objects.ids == [str(depth)]


def test_flattened_hierarchy_matches_trimesh(tmp_path, tower):
    """Names, order and world transforms of a nested scene are trimesh's own, though citytwin flattens it."""
    doc, binary = tower_gltf(tower)
    doc["nodes"] = [
        {"name": "root", "translation": [10, 0, 0], "children": [1, 2]},
        {"mesh": 0, "rotation": [0, 0.3826834, 0, 0.9238795]},
        {"name": "mid", "scale": [2, 1, 3], "children": [3, 5]},
        {
            "mesh": 0,
            "name": "deep",
            "matrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 5, 6, 7, 1],
            "translation": [1, 1, 1],
        },
        {"mesh": 0, "name": "other", "translation": [0, 50, 0], "rotation": [0.1, 0.2, 0.3, 0.9], "scale": [1, 2, 1]},
        {"mesh": 0, "name": "root"},
        {"mesh": 0},
    ]
    doc["scenes"][0]["nodes"] = [0, 4, 6]
    path = write_glb(tmp_path, doc, binary)
    model = read_fast(path)
    scene = trimesh.load(path, force="scene", process=False)  # trimesh's own GLB loader walks the tree
    assert model.objects.ids == list(scene.graph.nodes_geometry) == ["6", "other", "root_1", "deep", "1"]
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        geom = scene.geometry[name]
        ref = trimesh.transform_points(geom.vertices, transform)[geom.faces]
        ref = np.stack([ref[..., 0], -ref[..., 2], ref[..., 1]], axis=-1)  # Y-up to Z-up
        got = model.mesh.vertices[model.mesh.triangles[model.mesh.tri_object == model.objects.index[node]]]
        np.testing.assert_allclose(np.sort(got.reshape(-1, 3), axis=0), np.sort(ref.reshape(-1, 3), axis=0), atol=1e-6)


def test_instances_past_the_triangle_budget_are_skipped_with_a_warning(tmp_path, tower, monkeypatch):
    monkeypatch.setattr(mesh_checks, "TRIANGLE_FLOOR", 10_000)
    doc, binary = tower_gltf(tower)
    doc["nodes"] = [{"mesh": 0, "translation": [i, 0, 0]} for i in range(2000)]
    doc["scenes"][0]["nodes"] = list(range(2000))
    path = write_glb(tmp_path, doc, binary)
    size = path.stat().st_size
    budget = 10_000 + size // 8
    model = read_fast(path)
    kept = budget // F
    assert len(model.objects) == kept
    assert model.warnings == [
        f"{2000 - kept:,} of 2,000 meshes were not read: the file expands to {2000 * F:,} triangles, more than a "
        f"file of {size:,} bytes may expand to ({budget:,})."
    ]


def test_deeply_nested_json_is_one_sentence(tmp_path, tower):
    doc, binary = tower_gltf(tower)
    doc["extras"] = "@"
    gltf = tmp_path / "deep.gltf"
    doc["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(binary).decode()
    gltf.write_bytes(json.dumps(doc).replace('"@"', "[" * 100_000 + "]" * 100_000).encode())
    refused(gltf, "The glTF JSON is nested too deeply to read.")


# ------------------------------------------------------------------------------------------------ glTF buffer uris
def write_gltf(tmp_path, tower, uri, prepare=None):
    """``tower.gltf`` whose buffer has ``uri``; ``tower.bin`` beside it holds the real bytes."""
    doc, binary = tower_gltf(tower)
    (tmp_path / "tower.bin").write_bytes(binary)
    doc["buffers"][0]["uri"] = uri
    if prepare is not None:
        prepare(tmp_path)
    path = tmp_path / "tower.gltf"
    path.write_text(json.dumps(doc))
    return path


def test_external_and_data_uri_buffers_read(tmp_path, tower):
    assert read_fast(write_gltf(tmp_path, tower, "tower.bin")).mesh.n_triangles == F
    encoded = base64.b64encode(tower_gltf(tower)[1]).decode()
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))  # line breaks are tolerated
    uri = "data:application/octet-stream;base64," + wrapped
    assert read_fast(write_gltf(tmp_path, tower, uri)).mesh.n_triangles == F


@pytest.mark.parametrize(
    ("uri", "prepare", "sentence"),
    [
        ("missing.bin", None, "The glTF buffer 0 refers to 'missing.bin', which does not exist."),
        ("sub", lambda d: (d / "sub").mkdir(), "The glTF buffer 0 refers to 'sub', which is a folder, not a file."),
        ("/dev/zero", None, "The glTF buffer 0 points outside the file's folder ('/dev/zero')."),
        ("../tower.bin", None, "The glTF buffer 0 points outside the file's folder ('../tower.bin')."),
        (
            "zero.bin",
            lambda d: os.symlink("/dev/zero", d / "zero.bin"),
            "The glTF buffer 0 points outside the file's folder ('zero.bin').",
        ),
        (
            "pipe.bin",
            lambda d: os.mkfifo(d / "pipe.bin"),
            "The glTF buffer 0 refers to 'pipe.bin', which is not a regular file.",
        ),
        (
            "short.bin",
            lambda d: (d / "short.bin").write_bytes(b"\0" * 100),
            f"The glTF buffer 0 declares {POS + IDX:,} bytes but 'short.bin' has only 100.",
        ),
        (
            "data:application/octet-stream;base64,!!not*base64~~",
            None,
            "The glTF buffer 0 has a data: URI that is not valid base64.",
        ),
        (
            "data:application/octet-stream,plain%20text",
            None,
            "The glTF buffer 0 has a data: URI that is not base64-encoded.",
        ),
    ],
)
def test_buffer_uris_that_cannot_be_read_are_one_sentence(tmp_path, tower, uri, prepare, sentence):
    refused(write_gltf(tmp_path, tower, uri, prepare), sentence)


def test_a_huge_external_file_is_read_only_as_far_as_declared(tmp_path, tower):
    def huge(folder):
        with open(folder / "huge.bin", "wb") as fh:
            fh.write((folder / "tower.bin").read_bytes())
            fh.truncate(8 * 2**30)  # sparse: 8 GiB on paper

    model = read_fast(write_gltf(tmp_path, tower, "huge.bin", huge))
    assert model.mesh.n_triangles == F and model.warnings == []


# ------------------------------------------------------------------------------------------------ PLY
def tower_ply(tmp_path, tower, encoding):
    path = tmp_path / f"tower_{encoding}.ply"
    path.write_bytes(trimesh.exchange.ply.export_ply(tower, encoding=encoding))
    return path


def _replace(path, old, new):
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))
    return path


def _declare(path, element, count):
    """Set the count of ``element`` (the tower's vertex or face) in a PLY header."""
    return _replace(
        path, f"element {element} {V if element == 'vertex' else F}\n".encode(), f"element {element} {count}\n".encode()
    )


def _body(path):
    data = path.read_bytes()
    return data[data.index(b"end_header\n") + len(b"end_header\n") :]


@pytest.mark.parametrize("element", ["vertex", "face"])
def test_ascii_ply_counts_past_its_lines_are_one_sentence(tmp_path, tower, element):
    path = tower_ply(tmp_path, tower, "ascii")
    lines = _body(path).count(b"\n")
    counts = {"vertex": V, "face": F, element: 4_000_000_000}
    _declare(path, element, 4_000_000_000)
    refused(
        path,
        f"The PLY header declares {counts['vertex']:,} 'vertex' and {counts['face']:,} 'face' elements but only "
        f"{lines:,} lines of data follow it.",
    )


@pytest.mark.parametrize("element", ["vertex", "face"])
def test_binary_ply_counts_past_its_bytes_are_one_sentence(tmp_path, tower, element):
    path = tower_ply(tmp_path, tower, "binary")
    body = len(_body(path))
    counts = {"vertex": V, "face": F, element: 4_000_000_000}
    _declare(path, element, 4_000_000_000)
    refused(
        path,
        f"The PLY header declares {counts['vertex']:,} 'vertex' and {counts['face']:,} 'face' elements, more than "
        f"the {body:,} bytes of data after it can hold.",
    )


_PLY_HEAD = (
    "ply\nformat {} 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
    "element face 2\nproperty list uint int vertex_indices\nend_header\n"
)


def test_a_binary_ply_face_of_2_31_vertices_is_one_sentence(tmp_path):
    path = tmp_path / "big_face.ply"
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], "<f4").tobytes()
    faces = struct.pack("<I3i", 2**31, 0, 1, 2) + struct.pack("<I3i", 3, 0, 1, 2)
    path.write_bytes(_PLY_HEAD.format("binary_little_endian").encode() + vertices + faces)
    refused(
        path,
        "The first 'face' element of the PLY file lists 2,147,483,648 values, more than the 68 bytes of data can hold.",
    )


def test_an_ascii_ply_face_of_2_31_vertices_reads_what_its_line_holds(tmp_path):
    path = tmp_path / "big_face.ply"
    path.write_text(_PLY_HEAD.format("ascii") + "0 0 0\n1 0 0\n0 1 0\n2147483648 0 1 2\n3 0 1 2\n")
    model = read_fast(path)
    assert model.mesh.n_triangles == 2
    assert model.warnings == [
        "The first 'face' element of the PLY file lists 2,147,483,648 values but its line holds 3; "
        "the values present were read."
    ]


def test_truncated_binary_ply_is_one_sentence(tmp_path, tower):
    path = tower_ply(tmp_path, tower, "binary")
    body = len(_body(path))
    path.write_bytes(path.read_bytes()[:-5000])
    refused(
        path,
        f"The PLY data is shorter than its header describes (at least {body:,} bytes, {body - 5000:,} present): "
        "the file is truncated, or its faces have different numbers of vertices.",
    )


def test_truncated_ascii_ply_is_one_sentence(tmp_path, tower):
    path = tower_ply(tmp_path, tower, "ascii")
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\n", 0, len(data) // 2) + 1])
    lines = _body(path).count(b"\n")
    refused(
        path,
        f"The PLY header declares {V:,} 'vertex' and {F:,} 'face' elements but only {lines:,} lines of data follow it.",
    )


def test_ascii_ply_line_of_a_million_values_is_one_sentence(tmp_path, tower):
    path = tower_ply(tmp_path, tower, "ascii")
    _replace(path, b"end_header\n", b"end_header\n" + b"1 " * 1_000_000 + b"\n")
    refused(path, "Line 1 of the PLY data holds 2,000,000 bytes, too long for a 'vertex' element of at most 3 values.")


def test_ply_without_end_header_is_one_sentence(tmp_path):
    path = tmp_path / "open.ply"
    path.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 3\n" + b"x" * 5_000_000)
    refused(path, "The PLY header has no end_header line.")


# ------------------------------------------------------------------------------------------------ OFF
def tower_off(tmp_path, tower):
    path = tmp_path / "tower.off"
    tower.export(path)
    return path


@pytest.mark.parametrize(
    ("counts", "sentence"),
    [
        (
            "4000000000 1124 0",
            "The OFF file declares 4,000,000,000 vertices and 1,124 faces but has only {n:,} lines after its counts.",
        ),
        (
            "1737 4000000000 0",
            "The OFF file declares 1,737 vertices and 4,000,000,000 faces but has only {n:,} lines after its counts.",
        ),
        (
            f"{2**63 - 1} {2**63 - 1} 0",
            f"The OFF file declares {2**63 - 1:,} vertices and {2**63 - 1:,} faces but has only {{n:,}} lines after "
            "its counts.",
        ),
        ("-1 -1124 0", "The OFF file declares -1 vertices and -1,124 faces; counts cannot be negative."),
        ("many faces", "The OFF counts line 'many faces' does not give the numbers of vertices and faces."),
    ],
)
def test_off_counts_past_its_lines_are_one_sentence(tmp_path, tower, counts, sentence):
    path = tower_off(tmp_path, tower)
    n = path.read_bytes().count(b"\n") - 2
    _replace(path, b"OFF\n1737 1124 0", f"OFF\n{counts}".encode())
    refused(path, sentence.format(n=n))


def test_truncated_off_is_one_sentence(tmp_path, tower):
    path = tower_off(tmp_path, tower)
    data = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(data)
    n = data.count(b"\n") - 2 + (0 if data.endswith(b"\n") else 1)
    refused(path, f"The OFF file declares {V:,} vertices and {F:,} faces but has only {n:,} lines after its counts.")


def test_off_polygon_fanning_out_past_the_budget_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(mesh_checks, "TRIANGLE_FLOOR", 1_000)
    path = tmp_path / "fan.off"
    path.write_bytes(b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n200000 " + b"0 1 2 " * 66_667 + b"\n")
    size = path.stat().st_size
    refused(
        path,
        f"The OFF faces fan out into 199,998 triangles, more than a file of {size:,} bytes may expand to "
        f"({1_000 + size // 8:,}).",
    )


# ------------------------------------------------------------------------------------------------ STL
def tower_stl(tmp_path, tower, count=None, cut=0):
    data = bytearray(trimesh.exchange.stl.export_stl(tower))
    if count is not None:
        struct.pack_into("<I", data, 80, count)
    path = tmp_path / "tower.stl"
    path.write_bytes(bytes(data[: len(data) - cut]))
    return path


@pytest.mark.parametrize(
    ("count", "cut", "present"), [(F + 1, 0, F), (F - 1, 0, F), (2**32 - 1, 0, F), (0, 0, F), (None, 26_200, F - 524)]
)
def test_binary_stl_count_not_matching_its_size_reads_the_triangles_present(tmp_path, tower, count, cut, present):
    model = read_fast(tower_stl(tmp_path, tower, count, cut))
    declared = F if count is None else count
    assert model.warnings == [
        f"The STL header declares {declared:,} triangles but the file holds {present:,}; those {present:,} were read."
    ]
    assert model.mesh.n_triangles == present


def test_stl_starting_with_solid_is_told_apart_by_its_facets(tmp_path, tower):
    # ASCII, with a name that is not ASCII: read as text, no warning
    box = trimesh.creation.box()
    text = trimesh.exchange.stl.export_stl_ascii(box).replace("solid", "solid Modèle", 1)
    path = tmp_path / "ascii.stl"
    path.write_bytes(text.encode())
    model = read_fast(path)
    assert model.mesh.n_triangles == 12 and model.warnings == []
    # binary, with a header saying "solid" and a wrong count: the triangles present, and a warning
    data = bytearray(trimesh.exchange.stl.export_stl(tower))
    data[:80] = b"solid tower".ljust(80, b" ")
    struct.pack_into("<I", data, 80, 7)
    path = tmp_path / "binary.stl"
    path.write_bytes(bytes(data))
    model = read_fast(path)
    assert model.mesh.n_triangles == F
    assert model.warnings == [f"The STL header declares 7 triangles but the file holds {F:,}; those {F:,} were read."]


def test_binary_stl_without_a_whole_triangle_is_one_sentence(tmp_path, tower):
    path = tower_stl(tmp_path, tower, cut=50 * F - 30)
    refused(path, f"The binary STL header declares {F:,} triangles but the file holds none (114 bytes).")


# ------------------------------------------------------------------------------------------------ OBJ
_TRI = b"v 0 0 0\nv 1 0 0\nv 0 1 0\n"


@pytest.mark.parametrize("face", [b"f 1 2 99999999999", b"f 1 2 99999999999999999999999", b"f -1 -2 -100"])
def test_obj_indices_past_the_vertices_are_one_sentence(tmp_path, face):
    path = tmp_path / "bad.obj"
    path.write_bytes(_TRI + b"f 1 2 3\n" + face + b"\n")
    with pytest.raises(ReaderError) as err:
        _measured(read, path)
    # the sentence ends with numpy's words for the index, in parentheses
    assert err.value.reason.startswith("The OBJ file has faces that refer to vertices it does not have (index ")
    assert err.value.reason.endswith(").") and "\n" not in str(err.value)


def test_obj_face_of_thousands_of_vertices_reads(tmp_path):
    angles = np.linspace(0, 2 * np.pi, 5000, endpoint=False)
    lines = [f"v {np.cos(a):.6f} {np.sin(a):.6f} 0" for a in angles]
    path = tmp_path / "disc.obj"
    path.write_text("\n".join(lines) + "\nf " + " ".join(str(i + 1) for i in range(5000)) + "\n")
    model = read_fast(path)
    assert model.mesh.n_triangles == 4998 and model.warnings == []


def test_obj_faces_fanning_out_past_the_budget_are_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(mesh_checks, "TRIANGLE_FLOOR", 1_000)
    path = tmp_path / "fans.obj"
    line = b"f " + b" ".join(b"%d" % (1 + i % 3) for i in range(5000)) + b"\n"
    path.write_bytes(_TRI + line * 40)
    size = path.stat().st_size
    refused(
        path,
        f"The OBJ faces fan out into {40 * 4998:,} triangles, more than a file of {size:,} bytes may expand to "
        f"({1_000 + size // 8:,}).",
    )
    # a face continued over many lines with backslashes is one face
    path.write_bytes(_TRI + b"f 1 2 3" + b" 1 2 3 \\\n" * 70_000 + b"\n")
    size = path.stat().st_size
    refused(
        path,
        f"The OBJ faces fan out into {3 + 3 * 70_000 - 2:,} triangles, more than a file of {size:,} bytes may "
        f"expand to ({1_000 + size // 8:,}).",
    )


def test_obj_line_of_50_mb_without_newline(tmp_path):
    path = tmp_path / "long.obj"
    path.write_bytes(_TRI + b"f 1 2 3\n# " + b"x" * 50_000_000)
    model = read_fast(path)
    assert model.mesh.n_triangles == 1 and model.warnings == []
    path.write_bytes(_TRI + b"f " + b"1 2 3 " * 8_000_000)
    size = path.stat().st_size
    refused(
        path,
        f"The OBJ faces fan out into {24_000_000 - 2:,} triangles, more than a file of {size:,} bytes may expand to "
        f"({mesh_checks.TRIANGLE_FLOOR + size // 8:,}).",
    )
    path.write_bytes(b"v " + b"1 " * 25_000_000)
    err = refused(path, "The OBJ vertex line holds 25,000,000 values; a vertex has at most 7.")
    assert err.line == 1


@pytest.mark.parametrize("target", ["/dev/zero", "pipe.mtl"])
def test_obj_material_library_that_is_no_file_is_not_read(tmp_path, target):
    if target == "pipe.mtl":
        os.mkfifo(tmp_path / target)
    path = tmp_path / "tri.obj"
    path.write_bytes(f"mtllib {target}\n".encode() + _TRI + b"usemtl red\nf 1 2 3\n")
    model = read_fast(path)
    assert model.mesh.n_triangles == 1
    name = os.path.basename(target)
    assert model.warnings == [f"The material library {name!r} is missing; surfaces show without their colours."]


def test_a_fifo_given_as_the_mesh_is_one_sentence(tmp_path):
    path = tmp_path / "pipe.obj"
    os.mkfifo(path)
    refused(path, "The path is not a regular file.", reader=mesh.read)


def test_what_trimesh_survives_prints_no_traceback(tmp_path):
    """trimesh logs a traceback for an ASCII STL normal it cannot parse; nothing reaches stderr."""
    path = tmp_path / "bad_normal.stl"
    path.write_text("solid x\nfacet normal a b c\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\n"
                    "endloop\nendfacet\nendsolid x\n")  # fmt: skip
    code = "import sys; from citytwin.io.registry import read; print(read(sys.argv[1]).mesh.n_triangles)"
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert (proc.stdout, proc.stderr) == ("1\n", "")
