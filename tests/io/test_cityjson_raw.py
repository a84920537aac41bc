"""The CityJSON fast path (:mod:`citytwin.io.cityjson_raw`) reads every file exactly as the general path does.

Each test reads a file twice: as the reader does by default (fast path where it applies) and with the
fast path switched off. The two models must be identical, array for array, and the test checks which
path the first read took, so that a fast path that silently always falls back fails here.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import numpy as np
import pytest

from citytwin.errors import ReaderError
from citytwin.io import cityjson, cityjson_raw
from citytwin.io.cityjson import read, read_seq
from citytwin.io.options import LoadOptions
from tests.cityjson_seq import split_into_features, write_seq
from tests.conftest import SHARED, shared_file
from tests.json_mutations import json_paths, mutated

SHARED_FILES = sorted(
    str(p.relative_to(SHARED)) for p in (SHARED / "cityjson").rglob("*.json") if not p.name.endswith(".city.json")
)
#: Shared files the fast path takes (the others have textures or geometry templates).
FAST_FILES = {
    "cityjson/3dfier_testarea.json",
    "cityjson/DenHaag_01_v0.8.json",
    "cityjson/citygml4j_lod2_buildings_v2.json",
    "cityjson/delft.json",
}


def _same(a, b, where: str = "model") -> None:
    """Deep equality of model parts: arrays by dtype, shape and value (NaN equal to NaN)."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type | Path):
        assert type(a) is type(b), where
        _same(vars(a), vars(b), where)
    else:
        assert a == b or (a != a and b != b), f"{where}: {a!r} != {b!r}"


def _same_model(fast, general) -> None:
    _same(vars(fast.mesh), vars(general.mesh), "mesh")
    objects = fast.objects, general.objects
    for name in ("ids", "types", "parents", "attributes", "addresses", "groups"):
        _same(getattr(objects[0], name), getattr(objects[1], name), f"objects.{name}")
    for name in ("format", "version", "crs", "metadata", "warnings", "source"):
        _same(getattr(fast, name), getattr(general, name), name)


def _read_both(path: Path, monkeypatch, options: LoadOptions | None = None):
    """``(default read, general-path read, whether the default read took the fast path)``."""
    taken = []
    flatten = cityjson_raw.flatten

    def spy(*args, **kwargs):
        flat = flatten(*args, **kwargs)
        taken.append(flat is not None)
        return flat

    with monkeypatch.context() as m:
        m.setattr(cityjson_raw, "flatten", spy)
        default = read(path, options)
    with monkeypatch.context() as m:
        m.setattr(cityjson_raw, "decode", lambda data: None)
        general = read(path, options)
    return default, general, taken == [True]


def _outcome(path: Path, options: LoadOptions | None = None):
    try:
        return read(path, options)
    except ReaderError as err:
        return err.reason


# ------------------------------------------------------------------ shared data
def test_fast_path_files_are_shared_files():
    assert FAST_FILES <= set(SHARED_FILES), "a file the fast path is tested on is missing from the shared data"


@pytest.mark.parametrize("rel", SHARED_FILES)
def test_every_shared_file_reads_alike_on_both_paths(rel, monkeypatch):
    fast, general, took_fast = _read_both(shared_file(rel), monkeypatch)
    assert took_fast == (rel in FAST_FILES)
    _same_model(fast, general)
    assert fast.mesh.n_triangles > 0


def test_bundled_sample_district_takes_the_fast_path(monkeypatch):
    from citytwin.sample import sample_path

    fast, general, took_fast = _read_both(sample_path(), monkeypatch)
    assert took_fast
    _same_model(fast, general)


@pytest.mark.parametrize(
    "options",
    [
        LoadOptions(lod_min=0.0, lod_max=1.0),
        LoadOptions(types=frozenset({"BuildingPart"})),
        LoadOptions(bbox=(78800.0, 457500.0, 79100.0, 457800.0)),
    ],
    ids=["lod", "types", "bbox"],
)
@pytest.mark.parametrize("rel", ["cityjson/DenHaag_01_v0.8.json", "cityjson/3dfier_testarea.json"])
def test_load_options_apply_alike_on_both_paths(rel, options, monkeypatch):
    fast, general, took_fast = _read_both(shared_file(rel), monkeypatch, options)
    assert took_fast
    _same_model(fast, general)


# ------------------------------------------------------------------ crafted input
_SHELL = [[[0, 3, 2, 1]], [[4, 5, 6, 7]], [[0, 1, 5, 4]], [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]]]
_VERTICES = [[0, 0, 0], [1000, 0, 0], [1000, 1000, 0], [0, 1000, 0],
             [0, 0, 1000], [1000, 0, 1000], [1000, 1000, 1000], [0, 1000, 1000]]  # fmt: skip


def _district() -> dict:
    """Every geometry type the fast path reads, with semantics (nulls too), materials and a hierarchy."""
    walls = {"type": "WallSurface"}
    return {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": [100.0, 200.0, 5.0]},
        "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/7415"},
        "appearance": {"materials": [{"name": "red", "diffuseColor": [1, 0, 0], "transparency": 0.2},
                                     {"name": "grey", "diffuseColor": [0.5, 0.5, 0.5], "shininess": 0.3}]},
        "CityObjects": {
            "b": {"type": "Building", "attributes": {"function": "office", "storeysAboveGround": 3},
                  "children": ["b-1", "b-2"],
                  "geometry": [{"type": "Solid", "lod": "2", "boundaries": [_SHELL],
                                "semantics": {"surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"},
                                                           walls], "values": [[0, 1, 2, 2, None, 2]]},
                                "material": {"paint": {"values": [[0, 1, 1, None, 1, 1]]}}},
                               {"type": "MultiSurface", "lod": 1, "boundaries": _SHELL[:2],
                                "material": {"paint": {"value": 1}}}]},
            "b-1": {"type": "BuildingPart", "parents": ["b"],
                    "geometry": [{"type": "MultiSolid", "lod": "2.2", "boundaries": [[_SHELL], [_SHELL[:3]]],
                                  "semantics": {"surfaces": [walls],
                                                "values": [[[0, 0, 0, 0, 0, 0]], [[0, None, 0]]]}}]},
            "b-2": {"type": "BuildingPart", "parents": ["b"],
                    "geometry": [{"type": "CompositeSurface", "lod": "2", "boundaries": [[[0, 1, 2, 3], [4, 5, 6]]]},
                                 {"type": "MultiPoint", "lod": "1", "boundaries": [0, 1, 2]}]},
            "t": {"type": "TINRelief", "geometry": [{"type": "CompositeSurface", "lod": 1,
                                                    "boundaries": [[[0, 1, 2]], [[0, 2, 3]]]}]},
        },
        "vertices": copy.deepcopy(_VERTICES),
    }  # fmt: skip


def _write(tmp_path: Path, doc: dict | bytes, name: str = "x.json") -> Path:
    path = tmp_path / name
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc, separators=(",", ":")).encode())
    return path


def test_district_takes_the_fast_path(tmp_path, monkeypatch):
    fast, general, took_fast = _read_both(_write(tmp_path, _district()), monkeypatch)
    assert took_fast
    _same_model(fast, general)
    assert fast.objects.type_counts() == {"Building": 1, "BuildingPart": 2, "TINRelief": 1}
    assert fast.warnings == ["1 point or line geometries (not surfaces) were skipped."]
    assert set(fast.mesh.appearances) == {"paint"} and len(fast.mesh.materials) == 2


def test_pretty_printed_file_takes_the_fast_path(tmp_path, monkeypatch):
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps(_district(), indent="\t"))
    fast, general, took_fast = _read_both(path, monkeypatch)
    assert took_fast
    _same_model(fast, general)


def _edit(doc: dict, where: tuple, value) -> dict:
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return doc


B_SOLID = ("CityObjects", "b", "geometry", 0)


@pytest.mark.parametrize(
    ("where", "value", "fast"),
    [
        ((*B_SOLID, "boundaries"), [[[[0, 3, 2, 1]], [[]]]], False),  # an empty ring
        ((*B_SOLID, "boundaries"), [[[[0, 3, 2, 1]], [[4, 5, 6, 7], 3]]], False),  # a number beside a ring
        ((*B_SOLID, "boundaries"), [[[[0, 3, 2, [1]]]]], False),  # an array too deep
        ((*B_SOLID, "boundaries"), [[[[0, 3, 2, -1]]]], False),  # a negative index
        ((*B_SOLID, "boundaries"), [[[[0, 3, 2, 1.0]]]], False),  # a decimal index
        ((*B_SOLID, "boundaries"), [[[[0, 3, 2, 10**20]], *_SHELL[1:]]], True),  # out of range: dropped, counted
        ((*B_SOLID, "boundaries"), [[[[0, 3, 2, 8]], *_SHELL[1:]]], True),
        ((*B_SOLID, "boundaries"), [[[[0, 3, 2, 1], [4, 5, 6]], *_SHELL[1:]]], True),  # a hole
        ((*B_SOLID, "boundaries"), [[[0, 3, 2, 1]]], False),  # MultiSurface nesting under a Solid
        ((*B_SOLID, "boundaries"), 7, False),
        ((*B_SOLID, "semantics", "values"), [[0, 1, 2]], False),  # fewer values than surfaces
        ((*B_SOLID, "semantics", "values"), [0, 1, 2, 2, 2, 2], False),  # values of a MultiSurface
        ((*B_SOLID, "semantics", "values"), [None], False),  # a null shell
        ((*B_SOLID, "semantics", "values"), None, True),
        ((*B_SOLID, "semantics", "values"), [[0, 1, 2, 2, 9, -3]], False),
        ((*B_SOLID, "semantics", "values"), [[0, 1, 2, 2, 9, 3]], True),  # beyond the surfaces: counted
        ((*B_SOLID, "semantics", "surfaces"), None, True),
        ((*B_SOLID, "semantics", "surfaces"), [{"type": "Tree"}, {"kind": "x"}], True),
        ((*B_SOLID, "semantics", "surfaces"), [{"type": 5}], False),
        ((*B_SOLID, "semantics"), [1], False),
        ((*B_SOLID, "material", "paint"), {"values": None}, False),
        ((*B_SOLID, "material", "paint"), {"value": None}, True),
        ((*B_SOLID, "material", "paint"), {"value": 7}, True),  # beyond the materials: counted
        ((*B_SOLID, "material", "paint"), {}, True),
        ((*B_SOLID, "material", "paint"), 3, False),
        ((*B_SOLID, "texture"), {"t": {"values": [[[[0, 1, 2, 3, 4]]]]}}, False),
        ((*B_SOLID, "texture"), None, True),
        ((*B_SOLID, "lod"), None, True),  # skipped: no valid LoD
        ((*B_SOLID, "lod"), "x", True),
        ((*B_SOLID, "type"), "GeometryInstance", False),
        ((*B_SOLID, "type"), "Blob", True),
        ((*B_SOLID, "type"), 3, True),
        (("CityObjects", "b", "geometry"), None, True),
        (("CityObjects", "b", "type"), 5, True),
        (("CityObjects", "b", "parents"), ["nobody"], True),
        (("CityObjects", "b", "address"), {"locality": "Delft"}, True),
        (("CityObjects", "b", "attributes"), ["x"], True),  # read as no attributes
        (("CityObjects", "b-1"), "not an object", False),
        (
            ("vertices",),
            [
                [0.5, 0, 0],
                [1e3, 0, 0],
                [1000, 1000, 0],
                [0, 1000, 0],
                [0, 0, 1000],
                [1000, 0, 1000],
                [1000, 1000, 1000],
                [0, 1000, 1000],
            ],
            True,
        ),
        (("vertices",), [[2**60, 0, 0], *_VERTICES[1:]], True),  # beyond exact integers: parsed as JSON
        (("vertices",), [[0, 0], *_VERTICES[1:]], False),
        (("vertices",), [[0, 0, None], *_VERTICES[1:]], True),  # NaN: dropped, counted
        (("vertices",), [], True),
        (("transform",), {"scale": [1, 1], "translate": [0, 0, 0]}, False),
        (("transform",), None, True),
        (("appearance",), {"materials": [{"name": "x", "diffuseColor": [1, 2]}, 5]}, False),
        (("appearance",), {"materials": [{"name": 3, "diffuseColor": [2, -1, 0.5], "transparency": 7}]}, True),
        (("appearance",), {"textures": [{"image": "a.png"}]}, False),
        (("appearance",), None, True),
        (("geometry-templates",), {"templates": [], "vertices-templates": []}, False),
        (("version",), "3.7", True),
        (("type",), "CityJSONFeature", False),
    ],
)
def test_crafted_input_reads_alike_on_both_paths(tmp_path, monkeypatch, where, value, fast):
    path = _write(tmp_path, _edit(_district(), where, value))
    try:
        fast_model, general, took_fast = _read_both(path, monkeypatch)
    except ReaderError as err:  # both paths must refuse it alike
        with monkeypatch.context() as m:
            m.setattr(cityjson_raw, "decode", lambda data: None)
            assert _outcome(path) == err.reason
        assert not fast
        return
    assert took_fast == fast
    _same_model(fast_model, general)


def test_random_mutations_read_alike_on_both_paths(tmp_path, monkeypatch):
    """A deterministic fuzz over the district: whatever a mutation does, both paths agree."""
    base = _district()
    garbage = [None, -1, 0, 3, 10**20, 1.5, "x", [], {}, [[]], [None], [0, 1, 2], [[0, 1, 2]], [[[0]]], True]
    rng = random.Random(2026)

    all_paths = list(json_paths(base))
    taken = {"fast": 0, "general": 0, "refused": 0}
    for i in range(250):
        doc = mutated(base, all_paths, rng, garbage, rng.choice((1, 1, 2)))
        path = _write(tmp_path, doc, f"m{i}.json")
        try:
            fast_model, general, took_fast = _read_both(path, monkeypatch)
        except ReaderError as err:
            with monkeypatch.context() as m:
                m.setattr(cityjson_raw, "decode", lambda data: None)
                assert _outcome(path) == err.reason, json.dumps(doc)
            taken["refused"] += 1
            continue
        _same_model(fast_model, general)
        taken["fast" if took_fast else "general"] += 1
    assert taken["fast"] > 40 and taken["general"] > 40 and taken["refused"] > 0, taken


# ------------------------------------------------------------------ pieces
def test_vertices_from_raw_reads_integers_only():
    raw = cityjson_raw.decode(b'{"vertices": [[1,-2,3],[40000000,5,-6]]}').vertices
    assert np.array_equal(cityjson_raw.vertices_from_raw(raw), [[1, -2, 3], [40000000, 5, -6]])
    assert cityjson_raw.vertices_from_raw(raw).dtype == np.float64
    for text in (
        b"[[1,2,3.5]]",
        b"[[1,2]]",
        b"[[1,2,3,4]]",
        b"[[1,2,3],[4,5]]",
        b"[[1,2,3e2]]",
        b"[1,2,3]",
        b"[[[1,2,3]]]",
    ):
        assert cityjson_raw.vertices_from_raw(cityjson_raw.decode(b'{"vertices": ' + text + b"}").vertices) is None
    assert cityjson_raw.vertices_from_raw(cityjson_raw.decode(b'{"vertices": []}').vertices).shape == (0, 3)


# ------------------------------------------------------------------ CityJSONSeq
def _read_seq_both(path: Path, monkeypatch, options: LoadOptions | None = None):
    """``(default read, line-by-line read, whether each batch took the fast path)``."""
    batches: list[bool] = []
    add_features = cityjson._Assembler.add_features

    def spy(self, features, transform):
        done = add_features(self, features, transform)
        batches.append(done)
        return done

    with monkeypatch.context() as m:
        m.setattr(cityjson._Assembler, "add_features", spy)
        default = read_seq(path, options)
    with monkeypatch.context() as m:
        m.setattr(cityjson_raw, "decode_feature", lambda line: None)
        general = read_seq(path, options)
    return default, general, batches


@pytest.mark.parametrize("rel", sorted(FAST_FILES))
def test_cityjsonseq_batches_read_alike_on_both_paths(rel, tmp_path, monkeypatch):
    header, features = split_into_features(json.loads(shared_file(rel).read_bytes()))
    path = write_seq(tmp_path / "x.city.jsonl", header, features)
    monkeypatch.setattr(cityjson, "_BATCH_FEATURES", 97)  # several batches, the last one short
    fast, general, batches = _read_seq_both(path, monkeypatch)
    assert len(batches) == -(-len(features) // 97) and all(batches)
    _same_model(fast, general)
    assert fast.mesh.n_triangles > 0


def test_cityjsonseq_mixed_lines_read_alike_on_both_paths(tmp_path, monkeypatch):
    header, features = split_into_features(_district())
    textured = copy.deepcopy(features[0])
    textured["appearance"] = {"materials": [{"name": "m", "diffuseColor": [1, 0, 0]}]}
    textured["CityObjects"]["b"]["geometry"][0]["material"] = {"paint": {"value": 0}}
    decimals = copy.deepcopy(features[1])  # read in the batch, its vertices as JSON
    decimals["vertices"][0] = [0.5, 0, 0]
    irregular = copy.deepcopy(features[0])  # semantic values that do not mirror the boundaries
    irregular["CityObjects"]["b"]["geometry"][0]["semantics"]["values"] = [[0, 1, 2]]
    lines = [*features, b"{broken", textured, *features, {"type": "Nothing"}, decimals, irregular, b"  ", *features]
    path = write_seq(tmp_path / "mixed.city.jsonl", header, lines)
    monkeypatch.setattr(cityjson, "_BATCH_FEATURES", 2)
    fast, general, batches = _read_seq_both(path, monkeypatch)
    assert batches.count(True) >= 3 and batches.count(False) == 1  # the batch with the irregular feature
    _same_model(fast, general)
    assert any("could not be read" in w for w in fast.warnings)
    assert any("not CityJSONFeature" in w for w in fast.warnings)


def test_cityjsonseq_type_filter_reads_alike_on_both_paths(tmp_path, monkeypatch):
    header, features = split_into_features(json.loads(shared_file("cityjson/DenHaag_01_v0.8.json").read_bytes()))
    path = write_seq(tmp_path / "x.city.jsonl", header, features)
    fast, general, batches = _read_seq_both(path, monkeypatch, LoadOptions(types=frozenset({"Building"})))
    assert batches == [True]
    _same_model(fast, general)


def test_vertices_from_raws_reads_each_list():
    raws = [cityjson_raw.decode(b'{"vertices": ' + t + b"}").vertices for t in (b"[[1,-2,3]]", b"[[4,5,6],[7,8,-9]]")]
    vertices, counts = cityjson_raw.vertices_from_raws(raws)
    assert np.array_equal(vertices, [[1, -2, 3], [4, 5, 6], [7, 8, -9]]) and counts.tolist() == [1, 2]
    bad = cityjson_raw.decode(b'{"vertices": [[1,2]]}').vertices
    assert cityjson_raw.vertices_from_raws([raws[0], bad]) is None
