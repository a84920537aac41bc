"""Broken CityJSON gives one sentence (ReaderError) or a counted warning, never a crash or a hang."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from citytwin.errors import ReaderError
from citytwin.io.cityjson import read, read_seq
from tests.conftest import shared_file
from tests.json_mutations import json_paths, mutated


def _write(tmp_path: Path, content: str | bytes | dict, name: str = "x.json") -> Path:
    path = tmp_path / name
    if isinstance(content, dict):
        content = json.dumps(content)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _sentence(err: ReaderError) -> str:
    reason = err.reason
    assert reason.endswith("."), reason
    assert "\n" not in reason and "Traceback" not in reason
    return reason


def _cube(**geometry_overrides) -> dict:
    """A valid one-building CityJSON 2.0 document (a 1 m cube) to break in various ways."""
    shell = [[[0, 3, 2, 1]], [[4, 5, 6, 7]], [[0, 1, 5, 4]], [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]]]
    geometry = {"type": "Solid", "lod": "2", "boundaries": [shell]}
    geometry.update(geometry_overrides)
    return {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": [100.0, 200.0, 0.0]},
        "CityObjects": {"c": {"type": "Building", "geometry": [geometry]}},
        "vertices": [[0, 0, 0], [1000, 0, 0], [1000, 1000, 0], [0, 1000, 0],
                     [0, 0, 1000], [1000, 0, 1000], [1000, 1000, 1000], [0, 1000, 1000]],
    }  # fmt: skip


def test_the_cube_itself_is_fine(tmp_path):
    model = read(_write(tmp_path, _cube()))
    assert model.mesh.n_polygons == 6 and model.mesh.n_triangles == 12 and not model.warnings
    assert np.isclose(model.mesh.triangle_areas().sum(), 6.0)


# ------------------------------------------------------------------ refused
@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b'{"type": "FeatureCollection", "features": []}', 'not CityJSON (its "type" is "FeatureCollection")'),
        (b"[1, 2, 3]", "not CityJSON"),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [[0, NaN, 0]]}', "NaN"),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [[0, Infinity, 0]]}', "NaN"),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [[0, 1e400, 0]]}', "too large"),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {}}', '"vertices"'),
        (b'{"type": "CityJSON", "version": "2.0", "vertices": []}', '"CityObjects"'),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": [], "vertices": []}', '"CityObjects"'),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [[1, 2]]}', "three numbers"),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [[1, 2, 3], [1, 2]]}', "three"),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [[1, "a", {}]]}', "three"),
        (b'{"type": "CityJSON", "CityObjects": {}, "vertices": [], "transform": {"scale": [1]}}', '"transform"'),
        (b'{"type": "CityJSONFeature", "CityObjects": {}, "vertices": []}', "CityJSONFeature"),
        (b'{"type": "CityJSON"} trailing', "not valid JSON"),
        (b"\xff\xfe{\x00", "not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    ],
)
def test_refused_with_one_sentence(tmp_path, content, words):
    with pytest.raises(ReaderError) as info:
        read(_write(tmp_path, content))
    assert words in _sentence(info.value)
    assert info.value.path.name == "x.json"


def test_truncated_file_names_the_line(tmp_path):
    data = shared_file("cityjson/3dfier_testarea.json").read_bytes()
    path = _write(tmp_path, data[: len(data) // 2])
    with pytest.raises(ReaderError) as info:
        read(path)
    assert "truncated" in _sentence(info.value)
    assert info.value.line is not None and info.value.line >= 1


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ReaderError, match="does not exist"):
        read(tmp_path / "nope.json")
    with pytest.raises(ReaderError, match="folder"):
        read(tmp_path)


# ------------------------------------------------------ read with a warning
def test_unknown_version_is_read_with_a_warning(tmp_path):
    doc = _cube()
    doc["version"] = "9.9"
    model = read(_write(tmp_path, doc))
    assert model.version == "9.9"
    assert model.mesh.n_polygons == 6
    assert any("9.9" in w and "not one citytwin knows" in w for w in model.warnings)


def test_vertex_index_out_of_range_drops_only_that_polygon(tmp_path):
    doc = _cube()
    shell = doc["CityObjects"]["c"]["geometry"][0]["boundaries"][0]
    shell[1] = [[4, 5, 6, 99]]
    shell[2] = [[0, -1, 5, 4]]
    shell[3] = [[1, 2.5, 6, 5]]
    model = read(_write(tmp_path, doc))
    assert model.mesh.n_polygons == 3
    assert any(w.startswith("3 polygons that use vertex indices outside") for w in model.warnings)


def test_huge_numbers(tmp_path):
    doc = _cube()
    doc["vertices"][6] = [10**300, 0, 0]  # 1e297 after the transform's scale: finite but absurd
    doc["vertices"][7] = [2**70, 0, 0]  # 1.2e18: absurd too
    shell = doc["CityObjects"]["c"]["geometry"][0]["boundaries"][0]
    shell[0] = [[0, 3, 2, 10**30]]
    model = read(_write(tmp_path, doc))
    assert np.isfinite(model.mesh.vertices).all() and np.abs(model.mesh.vertices).max() < 1e6
    assert model.mesh.n_polygons == 1  # [0, 1, 5, 4] is the only face using neither 6, 7 nor 10**30
    assert any("outside the vertex list" in w for w in model.warnings)
    assert "2 vertices with coordinates beyond ±1e+12 or not finite were ignored." in model.warnings
    doc["transform"]["scale"] = [1e306, 1e306, 1e306]  # 1000 * 1e306 overflows
    model = read(_write(tmp_path, doc))
    assert model.mesh.n_polygons == 0  # every vertex overflows to infinity: all dropped, counted
    assert any("NaN or infinite" in w for w in model.warnings)


def test_rings_with_fewer_than_three_points(tmp_path):
    doc = _cube()
    shell = doc["CityObjects"]["c"]["geometry"][0]["boundaries"][0]
    shell[0] = [[0, 3]]  # exterior too short: polygon dropped
    shell[1] = [[4, 5, 6, 7], [4, 5]]  # hole too short: hole dropped, polygon kept
    shell[2] = [[0, 1, 0]]  # closed 2-point ring
    shell[3] = []  # a surface without rings
    model = read(_write(tmp_path, doc))
    assert model.mesh.n_polygons == 3
    assert model.mesh.n_rings == 3
    assert any(w == "3 dropped: ring with fewer than 3 points." for w in model.warnings)
    assert any(w == "1 dropped: polygon without rings." for w in model.warnings)


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "MultiSurface", "lod": "2", "boundaries": [[[[[0, 1, 2]]]]]},  # too deep
        {"type": "Solid", "lod": "2", "boundaries": [[0, 1, 2]]},  # too shallow
        {"type": "Solid", "lod": "2", "boundaries": 7},
        {"type": "MultiSurface", "lod": "2", "boundaries": [[["a", "b", "c"]]]},
        {"type": "MultiSurface", "lod": "2", "boundaries": [[[None, 1, 2]]]},
        {"type": "MultiSurface", "lod": "2", "boundaries": [{"x": 1}]},
        {"type": "MultiSurface", "lod": "2"},
        {"type": "Blob", "lod": "2", "boundaries": []},
        {"type": "MultiSurface", "lod": "seven", "boundaries": [[[0, 1, 2]]]},
        {"type": "MultiSurface", "lod": 9, "boundaries": [[[0, 1, 2]]]},
        {"type": "GeometryInstance", "template": 3, "boundaries": [0], "transformationMatrix": [1] * 16},
        "not a geometry",
    ],
)
def test_malformed_geometry_is_skipped_and_counted(tmp_path, geometry):
    doc = _cube()
    doc["CityObjects"]["bad"] = {"type": "Building", "geometry": [geometry]}
    model = read(_write(tmp_path, doc))
    assert model.mesh.n_polygons == 6  # the good cube is intact
    assert (model.mesh.poly_object == model.objects.index["c"]).all()
    assert len(model.objects) == 2
    assert any("skipped" in w or "dropped" in w for w in model.warnings)


def test_points_and_lines_are_skipped_with_a_count(tmp_path):
    doc = _cube()
    doc["CityObjects"]["p"] = {"type": "CityFurniture", "geometry": [
        {"type": "MultiPoint", "lod": "1", "boundaries": [0, 1]},
        {"type": "MultiLineString", "lod": "1", "boundaries": [[0, 1], [1, 2]]}]}  # fmt: skip
    model = read(_write(tmp_path, doc))
    assert "2 point or line geometries (not surfaces) were skipped." in model.warnings


def test_bad_semantics_materials_and_textures_are_ignored_with_counts(tmp_path):
    doc = _cube(
        semantics={"surfaces": [{"type": "RoofSurface"}, "junk", {"type": ["x"]}], "values": [[0, 7, "a", None, 1, 0]]},
        material={"m": {"values": [[0, 5, None, -1, 0.5, 0]]}, "n": "junk"},
        texture={
            "t": {"values": [[[[0, 0, 1, 2, 99]], [[7, 0, 1, 2, 3]], [[0]], [[None]], [["x"]], [[0, 0, 1, 2, 3]]]]}
        },
    )
    doc["appearance"] = {"materials": [{"name": "a", "diffuseColor": [1, 0, 0]}, 42],
                         "textures": [{"type": "PNG", "image": "nothere.png"}],
                         "vertices-texture": [[0, 0], [1, 0], [1, 1], [0, 1]]}  # fmt: skip
    model = read(_write(tmp_path, doc))
    mesh = model.mesh
    assert mesh.n_polygons == 6
    assert mesh.poly_semantic.tolist().count(1) == 2  # the two valid references to RoofSurface
    assert mesh.appearances["m"].material.tolist() == [0, -1, -1, -1, -1, 0]
    assert (mesh.appearances["t"].texture >= 0).sum() == 1
    assert mesh.materials[1].diffuse == (0.8, 0.8, 0.8)  # a non-object material keeps its slot
    assert any("semantic values" in w for w in model.warnings)
    assert any("material values" in w for w in model.warnings)
    assert any("texture references" in w for w in model.warnings)
    assert any("missing" in w for w in model.warnings)


def test_dangling_parent_and_child_references(tmp_path):
    doc = _cube()
    doc["CityObjects"]["c"]["children"] = ["ghost"]
    doc["CityObjects"]["p"] = {"type": "BuildingPart", "parents": ["nobody"]}
    doc["CityObjects"]["q"] = {"type": "BuildingPart", "parents": ["q"]}  # its own parent
    model = read(_write(tmp_path, doc))
    assert model.objects.parents.tolist() == [-1, -1, -1]
    assert any("2 references to parent or child objects" in w for w in model.warnings)


def test_random_mutations_never_crash(tmp_path):
    """A deterministic fuzz: replace random parts of a real file's JSON with garbage."""
    base = json.loads(shared_file("cityjson/dummy.json").read_text())
    garbage = [None, -1, 10**20, 1.5, "x", [], {}, [[]], [None], {"type": "Solid"}, [[[-3]]], True]
    rng = random.Random(1234)

    all_paths = list(json_paths(base))
    outcomes = {"read": 0, "refused": 0}
    for i in range(300):
        doc = mutated(base, all_paths, rng, garbage, 3)
        file = _write(tmp_path, doc, f"m{i}.json")
        try:
            model = read(file)
        except ReaderError as err:
            _sentence(err)
            outcomes["refused"] += 1
        else:
            assert np.isfinite(model.mesh.vertices).all()
            assert len(model.mesh.triangles) == 0 or model.mesh.triangles.max() < len(model.mesh.vertices)
            outcomes["read"] += 1
    assert outcomes["read"] > 100 and outcomes["refused"] > 0


# -------------------------------------------------------------- CityJSONSeq
def test_seq_header_must_be_cityjson(tmp_path):
    path = _write(tmp_path, '{"type": "CityJSONFeature", "CityObjects": {}, "vertices": []}\n', "s.city.jsonl")
    with pytest.raises(ReaderError) as info:
        read_seq(path)
    assert "header" in _sentence(info.value) and info.value.line == 1


def test_seq_empty_and_broken_header(tmp_path):
    with pytest.raises(ReaderError, match="empty"):
        read_seq(_write(tmp_path, "\n\n", "e.city.jsonl"))
    with pytest.raises(ReaderError) as info:
        read_seq(_write(tmp_path, '{"type": "CityJSON", "ver\n', "b.city.jsonl"))
    assert info.value.line == 1


def test_seq_skips_bad_feature_lines_with_their_line_number(tmp_path):
    doc = _cube()
    header = {k: v for k, v in doc.items() if k not in ("CityObjects", "vertices")}
    header.update(CityObjects={}, vertices=[])
    good = {"type": "CityJSONFeature", "id": "c", "CityObjects": doc["CityObjects"], "vertices": doc["vertices"]}
    lines = [header, good, "NaN", {"type": "CityJSONFeature", "CityObjects": {}, "vertices": [[1, 2]]},
             {"type": "Feature"}, good]  # fmt: skip
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    model = read_seq(_write(tmp_path, text, "s.city.jsonl"))
    assert model.mesh.n_polygons == 12
    assert any("2 feature lines could not be read" in w and "line 3" in w for w in model.warnings)
    assert any("1 lines that are not CityJSONFeature" in w for w in model.warnings)


def _appearance_cube(tmp_path: Path) -> dict:
    """The cube with valid semantics, materials (``values`` and ``value``) and a texture whose image exists."""
    (tmp_path / "facade.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    doc = _cube(
        semantics={"surfaces": [{"type": "RoofSurface"}, {"type": "WallSurface"}], "values": [[0, 1, 1, 1, 1, None]]},
        material={"m": {"values": [[0, 0, 1, 1, None, 0]]}, "one": {"value": 1}},
        texture={"t": {"values": [[[[0, 0, 1, 2, 3]], [[None]], [[None]], [[None]], [[None]], [[None]]]]}},
    )
    doc["appearance"] = {"materials": [{"name": "a", "diffuseColor": [1, 0, 0]}, {"name": "b"}],
                         "textures": [{"type": "PNG", "image": "facade.png"}],
                         "vertices-texture": [[0, 0], [1, 0], [1, 1], [0, 1]]}  # fmt: skip
    return doc


def test_no_warnings_with_zero_counts(tmp_path):
    model = read(_write(tmp_path, _appearance_cube(tmp_path)))
    assert model.warnings == []
    assert model.mesh.appearances["m"].material.tolist() == [0, 0, 1, 1, -1, 0]
    assert model.mesh.appearances["one"].material.tolist() == [1] * 6
    assert (model.mesh.appearances["t"].texture >= 0).sum() == 1
    # problems of one kind only: no "0 ..." sentence for the other kinds
    doc = _appearance_cube(tmp_path)
    doc["CityObjects"]["c"]["geometry"][0]["material"]["m"]["values"] = [[0, 0, 1, 1, 9, 0]]
    model = read(_write(tmp_path, doc))
    assert model.warnings == ["1 material values that do not fit the material list were ignored."]
    assert not any(w.startswith("0 ") for w in model.warnings)


def test_batched_and_object_by_object_flattening_agree(tmp_path, monkeypatch):
    from citytwin.io.cityjson_geometry import GeometryFlattener

    doc = _appearance_cube(tmp_path)
    surfaces = doc["CityObjects"]["c"]["geometry"][0]["boundaries"][0]
    doc["CityObjects"]["flat"] = {
        "type": "PlantCover",
        "geometry": [
            {"type": "MultiSurface", "lod": 1, "boundaries": surfaces[:3],
             "semantics": {"surfaces": [{"type": "RoofSurface"}], "values": [None, 0, 0]},
             "material": {"m": {"values": [1, None, 1]}}},
            {"type": "MultiPoint", "lod": 1, "boundaries": [0, 1]},
        ],
    }  # fmt: skip
    doc["CityObjects"]["empty"] = {"type": "Building", "geometry": []}
    path = _write(tmp_path, doc)
    fast = read(path)
    monkeypatch.setattr(GeometryFlattener, "_flatten_fast", lambda self, *a, **k: None)
    slow = read(path)
    assert fast.warnings == slow.warnings == ["1 point or line geometries (not surfaces) were skipped."]
    for name in ("vertices", "ring_offsets", "polygon_rings", "poly_object", "poly_semantic", "poly_lod", "triangles"):
        assert np.array_equal(getattr(fast.mesh, name), getattr(slow.mesh, name)), name
    assert fast.mesh.appearances.keys() == slow.mesh.appearances.keys()
    for theme, a in fast.mesh.appearances.items():
        b = slow.mesh.appearances[theme]
        assert np.array_equal(a.material, b.material) and np.array_equal(a.texture, b.texture)
        assert (a.uv is None) == (b.uv is None) and (a.uv is None or np.array_equal(a.uv, b.uv, equal_nan=True))
