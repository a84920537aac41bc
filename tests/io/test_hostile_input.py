"""Hostile inputs that used to hang or exhaust memory: pipes, devices, giant rings, cycles, empty models."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from citytwin.errors import ReaderError
from citytwin.io import registry
from citytwin.io.options import LoadOptions
from citytwin.model.cityobjects import CityObjects
from tests.conftest import ROOT

CITYGML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" '
    'xmlns:bldg="http://www.opengis.net/citygml/building/2.0" xmlns:gml="http://www.opengis.net/gml">\n'
)


def _read_within(path: Path, seconds: float = 20.0, options: LoadOptions | None = None):
    """``registry.read`` in a daemon thread: the result or exception, failing the test if it blocks."""
    box: dict = {}

    def work() -> None:
        try:
            box["model"] = registry.read(path, options)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=work, daemon=True)
    t0 = time.perf_counter()
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"reading {path.name} did not finish within {seconds} s"
    box["seconds"] = time.perf_counter() - t0
    return box


def _ring_citygml(path: Path, ring: np.ndarray) -> Path:
    closed = np.vstack([ring, ring[:1]])
    coords = " ".join(f"{v:.3f}" for v in closed.ravel())
    path.write_text(
        CITYGML_HEAD + '<core:cityObjectMember><bldg:Building gml:id="b1"><bldg:lod1MultiSurface><gml:MultiSurface>'
        '<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">'
        f"{coords}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>"
        "</gml:MultiSurface></bldg:lod1MultiSurface></bldg:Building></core:cityObjectMember>\n</core:CityModel>\n"
    )
    return path


# ------------------------------------------------------------------ only regular files


def test_named_pipe_without_writer_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "city.gml"
    os.mkfifo(fifo)
    box = _read_within(fifo, 10)
    assert isinstance(box.get("error"), ReaderError)
    assert str(box["error"]) == "city.gml: This is a named pipe, not a regular file; citytwin reads only regular files."


def test_link_to_dev_zero_is_refused_before_reading(tmp_path):
    link = tmp_path / "model.json"
    link.symlink_to("/dev/zero")
    box = _read_within(link, 10)
    assert isinstance(box.get("error"), ReaderError)
    assert "This is a device, not a regular file" in str(box["error"])


def test_link_to_a_pipe_and_a_socket_are_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "points.laz"
    link.symlink_to(fifo)
    assert "named pipe" in str(_read_within(link, 10)["error"])
    sock_path = tmp_path / "s.obj"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        assert "socket" in str(_read_within(sock_path, 10)["error"])


def test_dangling_link_says_so(tmp_path):
    link = tmp_path / "gone.gml"
    link.symlink_to(tmp_path / "missing.gml")
    with pytest.raises(ReaderError, match="link to something that does not exist"):
        registry.read(link)


def test_cli_refuses_a_pipe_with_exit_code_2(tmp_path):
    fifo = tmp_path / "city.gml"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "citytwin", "info", str(fifo)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "citytwin: city.gml: This is a named pipe, not a regular file; citytwin reads only regular files."
    ]


def test_readers_called_directly_refuse_devices(tmp_path):
    from citytwin.io import cityjson

    link = tmp_path / "x.city.jsonl"
    link.symlink_to("/dev/zero")
    with pytest.raises(ReaderError, match="device"):
        cityjson.read_seq(link)
    with pytest.raises(ReaderError, match="device"):
        cityjson.read(link)


# ------------------------------------------------------------------ bounded work per polygon


def test_giant_self_intersecting_ring_is_skipped_with_a_counted_warning(tmp_path):
    rng = np.random.default_rng(0)
    ring = np.column_stack([rng.random((200_000, 2)) * 100, np.full(200_000, 5.0)])  # earcut: minutes
    path = _ring_citygml(tmp_path / "ring.gml", ring)
    box = _read_within(path, 60)
    model = box["model"]
    assert len(model.objects) == 1
    # ~4.8 MB of coordinates: far past the limit, so the ring is not even parsed
    assert model.mesh.n_polygons == 0
    assert (
        "1 rings were skipped unread: their coordinate lists hold far more vertices than the polygon limit "
        "(--max-polygon-vertices)." in model.warnings
    )
    # a limit whose text bound the ring fits: parsed, kept, but not triangulated
    wider = _read_within(path, 60, LoadOptions(max_polygon_vertices=100_000))["model"]
    assert wider.mesh.n_polygons == 1 and wider.mesh.n_triangles == 0
    assert "1 polygons or rings were skipped: polygons with more than 100,000 vertices (not triangulated)." in (
        wider.warnings
    )


def test_ring_under_the_limit_is_triangulated_and_the_limit_is_an_option(tmp_path):
    t = np.linspace(0, 2 * np.pi, 30_000, endpoint=False)
    ring = np.column_stack([100 * np.cos(t), 100 * np.sin(t), np.zeros_like(t)])
    path = _ring_citygml(tmp_path / "circle.gml", ring)
    capped = registry.read(path)
    assert capped.mesh.n_triangles == 0
    assert any("more than 20,000 vertices" in w for w in capped.warnings)
    full = registry.read(path, LoadOptions(max_polygon_vertices=50_000))
    assert full.mesh.n_triangles == 30_000 - 2
    assert not any("vertices" in w for w in full.warnings)
    assert full.mesh.triangle_areas().sum() == pytest.approx(np.pi * 100**2, rel=1e-3)


def test_cityjson_polygon_limit_applies_too(tmp_path):
    n = 25_000
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    verts = np.column_stack([1000 * np.cos(t), 1000 * np.sin(t), np.zeros(n)]).round().astype(int).tolist()
    doc = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": [0, 0, 0]},
        "vertices": verts,
        "CityObjects": {
            "a": {
                "type": "Building",
                "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": [[list(range(n))]]}],
            }
        },
    }
    path = tmp_path / "big.city.json"
    path.write_text(json.dumps(doc))
    model = registry.read(path)
    assert model.mesh.n_triangles == 0
    assert any("more than 20,000 vertices (not triangulated)" in w for w in model.warnings)


# ------------------------------------------------------------------ graph walks


def test_cityjson_parent_child_cycles_are_broken_and_counted(tmp_path):
    doc = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [1, 1, 1], "translate": [0, 0, 0]},
        "vertices": [[0, 0, 0], [1, 0, 0], [1, 1, 0]],
        "CityObjects": {
            "a": {"type": "Building", "parents": ["c"], "children": ["b"]},
            "b": {"type": "BuildingPart", "parents": ["a"], "children": ["c"]},
            "c": {
                "type": "BuildingPart",
                "parents": ["b"],
                "children": ["a"],
                "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}],
            },
            "d": {"type": "Building", "parents": ["e"]},
            "e": {"type": "Building", "parents": ["d"]},
            "f": {"type": "Building", "parents": ["f"]},
        },
    }
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(doc))
    model = registry.read(path)
    parents = model.objects.parents
    ids = model.objects.ids
    assert "2 parent/child cycles were broken (the first object of each cycle was made top-level)." in model.warnings
    assert parents[ids.index("a")] == -1 and parents[ids.index("d")] == -1
    assert parents[ids.index("b")] == ids.index("a") and parents[ids.index("c")] == ids.index("b")
    roots = model.objects.roots
    assert (parents[roots] == -1).all()


def test_break_cycles_finds_each_cycle_and_leaves_trees_alone():
    table = CityObjects()
    n = 100_000
    table.extend([f"o{i}" for i in range(n)], ["B"] * n, [-1] + list(range(n - 1)), [{} for _ in range(n)])
    assert table.break_cycles() == 0  # a 100,000-deep chain is no cycle
    table = CityObjects()
    # 0 -> 1 -> 2 -> 0 (cycle), 3 -> 1 (hangs below it), 4 -> 4 (self), 5 top-level, 6 -> 5
    table.extend([str(i) for i in range(7)], ["B"] * 7, [1, 2, 0, 1, 4, -1, 5], [{} for _ in range(7)])
    assert table.break_cycles() == 2
    assert table.parents.tolist() == [-1, 2, 0, 1, -1, -1, 5]


# ------------------------------------------------------------------ empty models say why


def test_empty_citygml_and_cityjson_say_why(tmp_path):
    gml = tmp_path / "empty.gml"
    gml.write_text(CITYGML_HEAD + "</core:CityModel>\n")
    assert registry.read(gml).warnings == ["The CityGML file is valid but holds no city objects."]
    cj = tmp_path / "empty.json"
    cj.write_text(json.dumps({"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}))
    assert registry.read(cj).warnings[-1] == "The CityJSON file is valid but holds no city objects."


def test_empty_after_filtering_names_the_filter(shared_data):
    path = shared_data / "citygml" / "FZK-Haus-LoD0-KIT-IAI-KHH-B36-V1.gml"
    model = registry.read(path, LoadOptions(types=frozenset({"Bridge"})))
    assert len(model.objects) == 0
    assert model.warnings[-1] == "No city object in the file matches the load options (object types)."


# ------------------------------------------------------------------ defects found by make fuzz


def test_obj_whose_only_object_has_2d_vertices_is_one_sentence(tmp_path):
    # make fuzz, mesh #5976: trimesh kept an odd vertex count and the reader's reshape raised
    path = tmp_path / "flat.obj"
    path.write_text("o a\nv 0 0\nv 1 0\nv 1 1\nv 5 5 5\nf 1 2 3\n")
    box = _read_within(path, 20)
    error = box.get("error")
    if error is not None:
        assert isinstance(error, ReaderError) and error.__cause__ is None, repr(error)
    else:
        assert box["model"].mesh.n_triangles <= 1


def test_texture_name_too_long_for_the_file_system_is_a_missing_texture(tmp_path):
    # make fuzz, cityjson #1766: Path.is_file() raised ENAMETOOLONG on a damaged image name
    doc = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [1, 1, 1], "translate": [0, 0, 0]},
        "vertices": [[0, 0, 0], [1, 0, 0], [1, 1, 0]],
        "appearance": {
            "textures": [{"type": "PNG", "image": "x" * 5000 + ".png"}],
            "vertices-texture": [[0, 0], [1, 0], [1, 1]],
        },  # fmt: skip
        "CityObjects": {
            "a": {
                "type": "Building",
                "geometry": [
                    {
                        "type": "MultiSurface",
                        "lod": "1",
                        "boundaries": [[[0, 1, 2]]],
                        "texture": {"t": {"values": [[[0, 0, 1, 2]]]}},
                    }
                ],
            }
        },
    }
    path = tmp_path / "tex.json"
    path.write_text(json.dumps(doc))
    model = registry.read(path)
    assert len(model.objects) == 1
    assert any("texture image is missing" in w for w in model.warnings), model.warnings
