"""Lossless CityJSON 2.0 writing: every shared file read, written with no edits, validated and read again.

The comparison resolves every index of both documents (vertices to coordinates,
materials and textures to their definitions, texture coordinates to (u, v)) so
that it holds whatever the writer re-indexes; coordinates must agree within 1 mm
and everything else exactly. The edit scenario checks that a saved scenario
differs from its base data by exactly its edits.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from citytwin.errors import CityTwinError
from citytwin.io.cityjson import read, read_seq
from citytwin.io.cityjson_export import write_scenario_cityjson
from citytwin.model.scenario import AddObject, DeleteObjects, Scenario, SetAttributes, TransformObject
from citytwin.sample import sample_path
from tests.cityjson_seq import split_into_features, write_seq
from tests.conftest import SHARED, shared_file
from tests.io.cityjson_validate import assert_valid_cityjson, assert_valid_cityjsonseq, cjval_errors

CITYJSON_FILES = [
    "cityjson/3dfier_testarea.json",
    "cityjson/DenHaag_01_v0.8.json",
    "cityjson/citygml4j_lod2_buildings_v2.json",
    "cityjson/delft.json",
    "cityjson/dummy.json",
    "cityjson/geoRES_testdata_v1.0.0_cj0.6.json",
    "cityjson/rotterdam/rotterdam_one.json",
    "cityjson/rotterdam/rotterdam_subset.json",
]
#: Files without appearance, made into CityJSONSeq sources (the split keeps no per-feature appearance).
SEQ_SOURCES = ["cityjson/citygml4j_lod2_buildings_v2.json", "cityjson/3dfier_testarea.json"]
DEPTH = {"MultiPoint": 1, "MultiLineString": 2, "MultiSurface": 3, "CompositeSurface": 3,
         "Solid": 4, "MultiSolid": 5, "CompositeSolid": 5}  # fmt: skip
VALUE_DEPTH = {"MultiPoint": 1, "MultiLineString": 1, "MultiSurface": 1, "CompositeSurface": 1,
               "Solid": 2, "MultiSolid": 3, "CompositeSolid": 3}  # fmt: skip
MM = 1e-3


def test_every_shared_cityjson_file_is_covered():
    found = {str(p.relative_to(SHARED)) for p in (SHARED / "cityjson").rglob("*.json")}
    found |= {str(p.relative_to(SHARED)) for p in (SHARED / "cityjson").rglob("*.jsonl")}
    assert found == set(CITYJSON_FILES)


# ------------------------------------------------------------ resolving
def _lod(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return str(value)


def _nested(b: Any, depth: int, leaf) -> Any:
    if b is None:
        return None
    if depth == 0:
        return leaf(b)
    return [_nested(x, depth - 1, leaf) for x in b]


def _coordinates(b: Any, depth: int, vertices: np.ndarray) -> tuple[Any, np.ndarray]:
    """The nesting of a boundaries array (lengths of its rings) and its coordinates in order."""
    flat: list[int] = []

    def ring(r: list[int]) -> int:
        flat.extend(r)
        return len(r)

    shape = _nested(b, depth - 1, ring)
    return shape, vertices[np.asarray(flat, dtype=np.int64)].reshape(-1, 3)


class _Doc:
    """A CityJSON document (or a CityJSONSeq's features) with every index resolved."""

    def __init__(self, doc: dict, folder: Path) -> None:
        self.folder = folder
        self.version = doc.get("version")
        self.objects: dict[str, dict] = {}
        self.templates = doc.get("geometry-templates") or {}
        self.template_app = doc.get("appearance") or {}
        self.add(doc)

    def add(self, doc: dict) -> None:
        v = np.array(doc.get("vertices") or np.zeros((0, 3)), dtype=np.float64).reshape(-1, 3)
        self.transform = doc.get("transform") or getattr(self, "transform", None)
        if self.transform and doc.get("vertices"):
            v = v * np.array(self.transform["scale"]) + np.array(self.transform["translate"])
        app = doc.get("appearance") or {}
        objects = doc.get("CityObjects") or {}
        for oid, co in objects.items():
            assert oid not in self.objects, f"{oid} is written twice"
            self.objects[oid] = self._object(co, v, app)
        for oid, co in objects.items():  # the hierarchy from every member that names it, as sets
            for key in ("children", "Parts", "Installations", "ConstructionElements"):
                for child in co.get(key) or []:
                    self.objects[oid]["children"].add(child)
                    if child in self.objects:
                        self.objects[child]["parents"].add(oid)
            parents = co.get("parents") or ([co["parent"]] if isinstance(co.get("parent"), str) else [])
            for p in parents:
                self.objects[oid]["parents"].add(p)
                if p in self.objects:
                    self.objects[p]["children"].add(oid)

    def _object(self, co: dict, v: np.ndarray, app: dict) -> dict:
        address = co.get("address")
        address = [address] if isinstance(address, dict) else address or []
        return {
            "type": co.get("type"),
            "attributes": co.get("attributes") or {},
            "parents": set(),
            "children": set(),
            "geometry": [self._geometry(g, v, app) for g in co.get("geometry") or []],
            "address": [
                dict(a, location=self._geometry(a["location"], v, app)) if "location" in a else a for a in address
            ],
            "other": {
                k: x
                for k, x in co.items()
                if k
                not in (
                    "type",
                    "attributes",
                    "geometry",
                    "address",
                    "children",
                    "parents",
                    "parent",
                    "Parts",
                    "Installations",
                    "ConstructionElements",
                    "geographicalExtent",
                )
            },  # fmt: skip
        }

    def _geometry(self, g: dict, v: np.ndarray, app: dict) -> dict:
        if g["type"] == "GeometryInstance":
            return {
                "type": "GeometryInstance",
                "template": self._template(g["template"]),
                "reference": v[g["boundaries"][0]],
                "matrix": np.asarray(g["transformationMatrix"], dtype=np.float64),
            }
        return self._primitive(g, v, app)

    def _template(self, k: int) -> dict:
        tv = np.array(self.templates.get("vertices-templates") or [], dtype=np.float64).reshape(-1, 3)
        return self._primitive(self.templates["templates"][k], tv, self.template_app)

    def _primitive(self, g: dict, v: np.ndarray, app: dict) -> dict:
        gtype = g["type"]
        shape, xyz = _coordinates(g["boundaries"], DEPTH[gtype], v)
        out: dict[str, Any] = {"type": gtype, "lod": _lod(g.get("lod")), "shape": shape, "xyz": xyz}
        if "semantics" in g:
            out["semantics"] = g["semantics"]
        materials = app.get("materials") or []
        for theme, m in (g.get("material") or {}).items():
            if "values" in m:
                resolved = _nested(m["values"], VALUE_DEPTH[gtype], lambda i: None if i is None else materials[i])
            else:
                resolved = materials[m["value"]]
            out.setdefault("material", {})[theme] = resolved
        textures = app.get("textures") or []
        uv = np.array(app.get("vertices-texture") or np.zeros((0, 2)), dtype=np.float64).reshape(-1, 2)

        def texture_ring(r: list) -> Any:
            if r[0] is None:
                return None
            t = dict(textures[r[0]])
            t["image"] = os.path.normpath(self.folder / t["image"])
            return {"texture": t, "uv": uv[np.asarray(r[1:], dtype=np.int64)]}

        for theme, t in (g.get("texture") or {}).items():
            out.setdefault("texture", {})[theme] = _nested(t["values"], DEPTH[gtype] - 1, texture_ring)
        return out


def _resolved(path: Path) -> _Doc:
    if path.name.endswith(".jsonl"):
        lines = [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        out = _Doc(lines[0], path.parent)
        for feature in lines[1:]:
            out.add(feature)
        return out
    return _Doc(json.loads(path.read_bytes()), path.parent)


def _same(a: Any, b: Any, where: str) -> None:
    """Equal, coordinates (float arrays of points) within 1 mm."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.shape == b.shape, f"{where}: shapes {a.shape} and {np.shape(b)}"
        if a.size:
            gap = np.abs(a - b).max() if a.ndim < 2 or a.shape[-1] != 3 else np.linalg.norm(a - b, axis=-1).max()
            assert gap <= MM, f"{where}: {gap:.4f} apart"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} and {sorted(b)}"
        for k in a:
            _same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: lengths {len(a)} and {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _assert_same_objects(before: _Doc, after: _Doc, ids=None) -> None:
    for oid in sorted(ids if ids is not None else before.objects):
        _same(before.objects[oid], after.objects[oid], oid)


# ------------------------------------------------------------ round trips
@pytest.fixture(scope="module", params=CITYJSON_FILES)
def written(request, tmp_path_factory) -> tuple[Path, Any, Path, Path]:
    """A shared file, its model, and the model written as CityJSON and as CityJSONSeq with no edits."""
    source = shared_file(request.param)
    model = read(source)
    out = tmp_path_factory.mktemp("roundtrip")
    doc, seq = out / (source.stem + ".city.json"), out / (source.stem + ".city.jsonl")
    result = write_scenario_cityjson(model, None, doc)
    assert result.warnings == [] and result.objects == len(model.objects)
    write_scenario_cityjson(model, None, seq, seq=True)
    return source, model, doc, seq


def test_roundtrip_validates(written):
    _, _, doc, seq = written
    assert_valid_cityjson(doc, doc.name)
    assert_valid_cityjsonseq(seq)


@pytest.mark.parametrize("kind", ["document", "sequence"])
def test_roundtrip_keeps_every_object_as_it_was(written, kind):
    source, _, doc, seq = written
    before, after = _resolved(source), _resolved(doc if kind == "document" else seq)
    assert set(after.objects) == set(before.objects)
    _assert_same_objects(before, after)


@pytest.mark.parametrize("kind", ["document", "sequence"])
def test_roundtrip_reads_back_the_same_model(written, kind):
    _, model, doc, seq = written
    again = read(doc) if kind == "document" else read_seq(seq)
    assert again.format == ("CityJSON" if kind == "document" else "CityJSONSeq")
    assert again.version == "2.0" and again.crs.epsg == model.crs.epsg
    a, b = model.objects, again.objects
    rows = [b.index[i] for i in a.ids]
    assert [b.types[r] for r in rows] == a.types
    assert [b.attributes[r] for r in rows] == a.attributes
    assert [b.ids[p] if p >= 0 else None for p in b.parents[rows]] == [a.ids[p] if p >= 0 else None for p in a.parents]
    assert again.lods == model.lods
    assert again.mesh.n_polygons == model.mesh.n_polygons and again.mesh.n_triangles == model.mesh.n_triangles
    assert sorted(again.mesh.appearances) == sorted(model.mesh.appearances)
    # the textures used are found as before (unused ones are dropped, a feature lists its own)
    textures = {(os.path.realpath(t.path), t.exists) for t in again.mesh.textures}
    assert textures <= {(os.path.realpath(t.path), t.exists) for t in model.mesh.textures}
    if kind == "document":  # objects in the same order: the mesh row for row
        assert np.array_equal(np.asarray(b.ids)[again.mesh.poly_object], np.asarray(a.ids)[model.mesh.poly_object])
        assert np.array_equal(again.mesh.poly_semantic, model.mesh.poly_semantic)
        assert np.array_equal(again.mesh.poly_lod, model.mesh.poly_lod)
        assert np.linalg.norm(again.mesh.vertices - model.mesh.vertices, axis=1).max(initial=0) <= MM


def test_untouched_writes_keep_the_integer_grid(tmp_path):
    """A source quantised at 1 mm comes back exactly: the writer takes its scale."""
    source = shared_file("cityjson/delft.json")
    model = read(source)
    before = json.loads(source.read_bytes())
    out = write_scenario_cityjson(model, None, tmp_path / "grid-check.city.json").path
    after = json.loads(out.read_bytes())
    v0 = np.array(before["vertices"]) * before["transform"]["scale"] + before["transform"]["translate"]
    v1 = np.array(after["vertices"]) * after["transform"]["scale"] + after["transform"]["translate"]
    assert after["transform"]["scale"] == before["transform"]["scale"]
    assert np.abs(v0 - v1).max() < 1e-6
    assert after["CityObjects"] == before["CityObjects"]  # no unused vertices in delft: indices kept too


@pytest.mark.parametrize("rel", SEQ_SOURCES)
def test_cityjsonseq_source_roundtrip(rel, tmp_path):
    header, features = split_into_features(json.loads(shared_file(rel).read_bytes()))
    source = write_seq(tmp_path / "source.city.jsonl", header, features)
    model = read_seq(source)
    doc = write_scenario_cityjson(model, None, tmp_path / "out.city.json").path
    seq = write_scenario_cityjson(model, None, tmp_path / "out.city.jsonl", seq=None).path
    assert_valid_cityjson(doc)
    assert_valid_cityjsonseq(seq)
    before = _resolved(source)
    for out in (doc, seq):
        after = _resolved(out)
        assert set(after.objects) == set(before.objects)
        _assert_same_objects(before, after)


def test_cityjsonseq_features_with_their_own_appearance(tmp_path):
    """Each feature's textures and texture coordinates are merged into one document's, and split again."""
    folder = shared_file("cityjson/rotterdam/rotterdam_subset.json").parent
    doc = json.loads((folder / "rotterdam_subset.json").read_bytes())
    header, features = split_into_features(doc)
    for f in features:
        f["appearance"] = doc["appearance"]  # every feature its own copy of the whole list
    for t in doc["appearance"]["textures"]:  # image paths are relative to the file: resolve them from tmp_path
        t["image"] = (folder / t["image"]).as_posix()
    source = write_seq(tmp_path / "r.city.jsonl", header, features)
    model = read_seq(source)
    doc_out = write_scenario_cityjson(model, None, tmp_path / "one.city.json").path
    seq_out = write_scenario_cityjson(model, None, tmp_path / "again.city.jsonl", seq=True).path
    written = assert_valid_cityjson(doc_out)
    assert len(written["appearance"]["textures"]) < len(features) * len(doc["appearance"]["textures"])
    assert_valid_cityjsonseq(seq_out)
    before = _resolved(source)
    for out in (doc_out, seq_out):
        _assert_same_objects(before, _resolved(out))


def test_objects_a_reader_option_left_out_are_not_written(tmp_path):
    from citytwin.io.options import LoadOptions

    path = shared_file("cityjson/DenHaag_01_v0.8.json")
    model = read(path, LoadOptions(types=frozenset({"TINRelief"})))
    out = write_scenario_cityjson(model, None, tmp_path / "terrain.city.json")
    written = _assert_cjval_clean(out.path)
    assert [co["type"] for co in written["CityObjects"].values()] == ["TINRelief"]
    assert out.objects == 1 and out.vertices == len(written["vertices"]) < 22997


def test_a_group_s_members_outlive_it(tmp_path):
    path = sample_path()
    doc = json.loads(path.read_bytes())
    members = [i for i, co in doc["CityObjects"].items() if co["type"] == "Building"][:2]
    doc["CityObjects"]["block"] = {"type": "CityObjectGroup", "children": members}
    for m in members:
        doc["CityObjects"][m]["parents"] = ["block"]
    source = tmp_path / "grouped.city.json"
    source.write_bytes(json.dumps(doc).encode())
    model = read(source)
    out = write_scenario_cityjson(model, Scenario(name="g", edits=(DeleteObjects(ids="block"),)), tmp_path / "o.json")
    written = _assert_cjval_clean(out.path)
    assert "block" not in written["CityObjects"]
    assert all(m in written["CityObjects"] and "parents" not in written["CityObjects"][m] for m in members)


def test_textures_still_found_from_another_folder(tmp_path):
    source = shared_file("cityjson/rotterdam/rotterdam_one.json")
    model = read(source)
    (tmp_path / "elsewhere").mkdir()
    out = write_scenario_cityjson(model, None, tmp_path / "elsewhere" / "r.city.json").path
    again = read(out)
    assert [t.exists for t in again.mesh.textures] == [t.exists for t in model.mesh.textures]
    assert any(t.exists for t in again.mesh.textures)
    assert [os.path.realpath(t.path) for t in again.mesh.textures] == [
        os.path.realpath(t.path) for t in model.mesh.textures
    ]


# ------------------------------------------------------------ edits
def _assert_cjval_clean(path: Path) -> dict:
    """cjval's checks only (indices, unused vertices, parents and children): a file or every line of a sequence."""
    if path.name.endswith(".jsonl"):
        lines = [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        templates = lines[0].get("geometry-templates")
        errors = [e for f in lines[1:] for e in cjval_errors(f, templates=templates)]
        doc = lines[0]
    else:
        doc = json.loads(path.read_bytes())
        errors = cjval_errors(doc)
    assert errors == []
    return doc


def _box(x0: float, y0: float, z0: float, dx: float, dy: float, dz: float) -> tuple[dict, list[list[float]]]:
    """A closed LoD1 box (a Solid with outward rings and semantic surfaces) and its vertices."""
    vertices = [
        [x0, y0, z0], [x0 + dx, y0, z0], [x0 + dx, y0 + dy, z0], [x0, y0 + dy, z0],
        [x0, y0, z0 + dz], [x0 + dx, y0, z0 + dz], [x0 + dx, y0 + dy, z0 + dz], [x0, y0 + dy, z0 + dz],
    ]  # fmt: skip
    shell = [[[0, 3, 2, 1]], [[4, 5, 6, 7]], [[0, 1, 5, 4]], [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]]]
    co = {
        "type": "Building",
        "attributes": {"function": "proposed tower", "measuredHeight": dz, "storeysAboveGround": 10},
        "geometry": [
            {
                "type": "Solid",
                "lod": "1",
                "boundaries": [shell],
                "semantics": {
                    "surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}],
                    "values": [[0, 1, 2, 2, 2, 2]],
                },
            }
        ],
    }
    return co, vertices


def _edit_case(rel: str | None) -> tuple[Path, list[str], str, str]:
    """A file, three buildings to delete, one to move, one whose attribute changes."""
    path = sample_path() if rel is None else shared_file(rel)
    doc = json.loads(path.read_bytes())
    top = [i for i, co in doc["CityObjects"].items() if co["type"] == "Building"]
    if rel is not None:  # DenHaag: buildings with parts, so that children go and move with them
        top = [i for i in top if doc["CityObjects"][i].get("children")]
    return path, top[:3], top[3], top[4]


@pytest.mark.parametrize("rel", [None, "cityjson/DenHaag_01_v0.8.json"], ids=["sample", "DenHaag"])
@pytest.mark.parametrize("seq", [False, True], ids=["document", "sequence"])
def test_edit_scenario_changes_exactly_what_it_says(rel, seq, tmp_path):
    path, deleted, moved, edited = _edit_case(rel)
    model = read(path)
    before = _resolved(path)
    members = [before.objects[i] for i in ({moved} | before.objects[moved]["children"])]
    centre = np.concatenate([g["xyz"] for m in members for g in m["geometry"]]).mean(axis=0)
    box, box_vertices = _box(centre[0] + 500, centre[1] + 500, 0.0, 10.0, 12.0, 30.0)
    attribute = "citytwin:note"
    scenario = Scenario(
        name="Demolition and tower",
        edits=(
            DeleteObjects(ids=tuple(deleted)),
            TransformObject(id=moved, translate=(12.5, -3.25, 0.5)),
            SetAttributes(ids=(edited,), values={attribute: "to be listed", "yearOfConstruction": 1901}),
            AddObject(id="proposed-tower", cityobject=box, vertices=box_vertices),
        ),
    )
    out = tmp_path / ("edited.city.jsonl" if seq else "edited.city.json")
    result = write_scenario_cityjson(model, scenario, out, seq=seq)
    assert result.warnings == []
    if rel is not None:  # the round trip validated DenHaag against the schema: here the hierarchy and indices
        _assert_cjval_clean(out)
    elif seq:
        assert_valid_cityjsonseq(out)
    else:
        assert_valid_cityjson(out)
    after = _resolved(out)

    gone = set(deleted) | {c for d in deleted for c in before.objects[d]["children"]}
    assert len(gone) > 3 if rel is not None else len(gone) == 3
    assert set(after.objects) == (set(before.objects) - gone) | {"proposed-tower"}
    moved_ids = {moved} | before.objects[moved]["children"]
    untouched = set(after.objects) - moved_ids - {edited, "proposed-tower"}
    _assert_same_objects(before, after, untouched)

    for oid in moved_ids:  # moved by exactly the translation, nothing else changed
        b, a = before.objects[oid], after.objects[oid]
        for gb, ga in zip(b["geometry"], a["geometry"], strict=True):
            gb = dict(gb, xyz=gb["xyz"] + (12.5, -3.25, 0.5))
            _same(gb, ga, oid)
        _same({k: v for k, v in b.items() if k != "geometry"}, {k: v for k, v in a.items() if k != "geometry"}, oid)

    b, a = before.objects[edited], after.objects[edited]
    assert a["attributes"] == {**b["attributes"], attribute: "to be listed", "yearOfConstruction": 1901}
    _same(dict(b, attributes=None), dict(a, attributes=None), edited)

    tower = after.objects["proposed-tower"]
    assert tower["type"] == "Building" and tower["attributes"] == box["attributes"] and not tower["parents"]
    assert tower["geometry"][0]["semantics"] == box["geometry"][0]["semantics"]
    shell = box["geometry"][0]["boundaries"][0]
    expected = np.array([box_vertices[i] for face in shell for i in face[0]])
    _same(expected, tower["geometry"][0]["xyz"], "proposed-tower")

    if not seq:  # cjio (the format's authors' tool) reads it: version, objects and vertices as written
        from cjio import cityjson as cjio_cityjson

        with out.open(encoding="utf-8") as f:
            cm = cjio_cityjson.reader(f)
        assert cm.get_version() == "2.0" and set(cm.j["CityObjects"]) == set(after.objects)
        n_vertices = len(cm.j["vertices"])
        cm.remove_orphan_vertices()
        assert len(cm.j["vertices"]) == n_vertices
    again = (read_seq if seq else read)(out)  # the viewer reads it: the same objects, the tower included
    assert set(again.objects.ids) == set(after.objects)
    assert again.objects.attributes[again.objects.index[edited]][attribute] == "to be listed"


def test_deleting_a_part_fixes_its_parent(tmp_path):
    path = shared_file("cityjson/DenHaag_01_v0.8.json")
    doc = json.loads(path.read_bytes())
    parent = next(i for i, co in doc["CityObjects"].items() if len(co.get("children", [])) >= 2)
    part = doc["CityObjects"][parent]["children"][0]
    out = write_scenario_cityjson(read(path), Scenario(name="x", edits=(DeleteObjects(ids=part),)), tmp_path / "a.json")
    written = _assert_cjval_clean(out.path)
    assert part not in written["CityObjects"] and parent in written["CityObjects"]
    assert written["CityObjects"][parent]["children"] == doc["CityObjects"][parent]["children"][1:]


def test_rotation_and_height_scale_about_the_footprint_centre(tmp_path):
    model = read(sample_path())
    box, vertices = _box(390_000.0, 5_800_000.0, 40.0, 10.0, 4.0, 20.0)
    scenario = Scenario(
        name="turn",
        edits=(
            AddObject(id="box", cityobject=box, vertices=vertices),
            TransformObject(id="box", rotate_deg=30.0),
            TransformObject(id="box", rotate_deg=60.0, height_scale=1.5, translate=(1.0, 2.0, 3.0)),
        ),
    )
    out = write_scenario_cityjson(model, scenario, tmp_path / "t.city.json").path
    after = _resolved(out).objects["box"]["geometry"][0]["xyz"]
    lo, hi = after.min(axis=0), after.max(axis=0)
    # a 10 x 4 footprint turned by 90° about its centre (390005, 5800002), then moved by (1, 2)
    np.testing.assert_allclose(lo, [390_005 - 2 + 1, 5_800_002 - 5 + 2, 40 + 3], atol=MM)
    np.testing.assert_allclose(hi, [390_005 + 2 + 1, 5_800_002 + 5 + 2, 40 + 30 + 3], atol=MM)


def test_a_moved_geometry_instance_turns_its_matrix(tmp_path):
    path = shared_file("cityjson/dummy.json")
    doc = json.loads(path.read_bytes())
    tree = next(i for i, co in doc["CityObjects"].items() if co["geometry"][0]["type"] == "GeometryInstance")
    scenario = Scenario(name="m", edits=(TransformObject(id=tree, translate=(1.0, 2.0, 0.0), rotate_deg=90.0),))
    out = write_scenario_cityjson(read(path), scenario, tmp_path / "d.city.json").path
    assert_valid_cityjson(out)
    before, after = _resolved(path).objects[tree], _resolved(out).objects[tree]
    g0, g1 = before["geometry"][0], after["geometry"][0]
    np.testing.assert_allclose(g1["reference"], g0["reference"] + (1.0, 2.0, 0.0), atol=MM)  # its own centre
    turn = np.eye(4)
    turn[:2, :2] = [[0.0, -1.0], [1.0, 0.0]]
    np.testing.assert_allclose(g1["matrix"].reshape(4, 4), turn @ g0["matrix"].reshape(4, 4), atol=1e-12)
    _same(g0["template"], g1["template"], "template")


def test_attributes_can_be_removed(tmp_path):
    path = shared_file("cityjson/citygml4j_lod2_buildings_v2.json")
    doc = json.loads(path.read_bytes())
    oid, co = next(iter(doc["CityObjects"].items()))
    name = next(iter(co["attributes"]))
    out = write_scenario_cityjson(
        read(path), Scenario(name="r", edits=(SetAttributes(ids=oid, removed=(name,)),)), tmp_path / "r.json"
    ).path
    attrs = json.loads(out.read_bytes())["CityObjects"][oid]["attributes"]
    assert attrs == {k: v for k, v in co["attributes"].items() if k != name}


# ------------------------------------------------------------ refusals and failures
def test_a_failed_write_leaves_the_target_as_it_was(tmp_path, monkeypatch):
    model = read(shared_file("cityjson/delft.json"))
    target = tmp_path / "kept.city.json"
    target.write_bytes(b"previous content")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(CityTwinError, match=r"could not be written .*No space left on device\)\.$") as err:
        write_scenario_cityjson(model, None, target)
    assert target.read_bytes() == b"previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.city.json"]  # no temporary file left
    assert str(err.value).count(". ") == 0


def test_a_missing_folder_is_one_sentence(tmp_path):
    model = read(shared_file("cityjson/delft.json"))
    with pytest.raises(CityTwinError, match=r"^The CityJSON file could not be written to .*\.$"):
        write_scenario_cityjson(model, None, tmp_path / "no" / "such" / "folder.json")


def test_the_source_is_not_overwritten_unasked(tmp_path):
    copy = tmp_path / "delft.json"
    copy.write_bytes(shared_file("cityjson/delft.json").read_bytes())
    model = read(copy)
    with pytest.raises(CityTwinError, match="would overwrite the file the model was read from"):
        write_scenario_cityjson(model, None, copy)
    scenario = Scenario(name="d", edits=(DeleteObjects(ids=model.objects.ids[0]),))
    write_scenario_cityjson(model, scenario, copy, allow_overwrite_source=True)
    write_scenario_cityjson(model, scenario, copy, allow_overwrite_source=True)  # again: from the kept bytes
    assert len(read(copy).objects) == len(model.objects) - 1


def test_refusals(tmp_path):
    model = read(shared_file("cityjson/delft.json"))
    box, vertices = _box(0, 0, 0, 1, 1, 1)
    clash = Scenario(name="c", edits=(AddObject(id=model.objects.ids[0], cityobject=box, vertices=vertices),))
    with pytest.raises(CityTwinError, match="adds an object with the id"):
        write_scenario_cityjson(model, clash, tmp_path / "c.json")
    from citytwin.io.registry import read as read_any

    gml = read_any(shared_file("citygml/FZK-Haus-LoD0-KIT-IAI-KHH-B36-V1.gml"))
    with pytest.raises(CityTwinError, match="not read from a CityJSON file"):
        write_scenario_cityjson(gml, None, tmp_path / "g.json")
    unknown = Scenario(name="u", edits=(DeleteObjects(ids="no-such-object"),))
    result = write_scenario_cityjson(model, unknown, tmp_path / "u.json")
    assert result.warnings == [
        "1 object named by the scenario is not in the city model (for example 'no-such-object'); "
        "its edits were ignored."
    ]
    assert result.objects == len(model.objects) and math.isfinite(result.vertices)
