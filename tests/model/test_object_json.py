"""Copies of a model's objects as CityJSON ("Duplicate"), and the surfaces of CityJSON geometry."""

from __future__ import annotations

import collections
import datetime
from pathlib import Path

import numpy as np
import pytest

from citytwin.io import read
from citytwin.io.cityjson import read_cityobjects
from citytwin.model.buildings import BuildingSpec, make_building
from citytwin.model.object_json import (
    CITYJSON_SEMANTIC_TYPE,
    cityobject_from_model,
    descendants,
    geometry_surfaces,
    json_safe,
)
from citytwin.model.scenario import AddObject, Scenario, add_edit
from citytwin.model.semantics import SURFACE_CLASS_BY_NAME, SurfaceClass
from tests.conftest import shared_file

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample_district.city.json"
OFFSET = np.array([12.5, -40.0, 1.25])


@pytest.fixture(scope="module")
def district():
    return read(SAMPLE)


def _polygons_of(model, row: int) -> np.ndarray:
    return np.flatnonzero(descendants(model.objects, row)[model.mesh.poly_object])


def _summary(model, polys: np.ndarray) -> tuple[int, collections.Counter, float, list[int]]:
    """Polygon count, classes with LoDs, total area, ring counts (sorted) of some polygons."""
    mesh = model.mesh
    classes = collections.Counter(zip(mesh.poly_semantic[polys].tolist(), mesh.poly_lod[polys].tolist(), strict=True))
    rings = sorted(np.diff(mesh.polygon_rings)[polys].tolist())
    return len(polys), classes, float(mesh.polygon_areas()[polys].sum()), rings


def _round_trip(add: AddObject):
    return read_cityobjects({add.id: add.cityobject}, add.vertex_array())


def _valid(add: AddObject) -> None:
    from tests.io.cityjson_validate import validation_errors

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
    add_edit(Scenario(name="copies"), add)


def _check_copy(model, row: int, add: AddObject) -> None:
    copy = _round_trip(add)
    assert copy.objects.ids == [add.id] and copy.objects.types == [model.objects.types[row]]
    n, classes, area, rings = _summary(model, _polygons_of(model, row))
    n2, classes2, area2, rings2 = _summary(copy, np.arange(copy.mesh.n_polygons))
    assert (n2, classes2, rings2) == (n, classes, rings)
    assert area2 == pytest.approx(area, rel=1e-9)
    src = model.mesh.vertices[np.isin(_corner_polygons(model), _polygons_of(model, row))]
    np.testing.assert_allclose(copy.mesh.vertices.min(axis=0), src.min(axis=0) + OFFSET, atol=1e-9)
    np.testing.assert_allclose(copy.mesh.vertices.max(axis=0), src.max(axis=0) + OFFSET, atol=1e-9)
    assert copy.objects.attributes[0] == json_safe(model.objects.attributes[row])
    _valid(add)


def _corner_polygons(model) -> np.ndarray:
    mesh = model.mesh
    return np.repeat(np.arange(mesh.n_polygons), np.diff(mesh.ring_offsets[mesh.polygon_rings]))


# ---------------------------------------------------------------------------- duplicates
def test_a_duplicate_of_a_sample_building_round_trips(district):
    row = district.objects.index["building-0007"]
    add = cityobject_from_model(district, row, new_id="building-0007-copy", offset=OFFSET)
    assert add.id == "building-0007-copy"
    g = add.cityobject["geometry"]
    assert [x["type"] for x in g] == ["Solid"] and g[0]["lod"] == "2"  # a closed shell stays a Solid
    assert {s["type"] for s in g[0]["semantics"]["surfaces"]} == {"RoofSurface", "WallSurface", "GroundSurface"}
    assert len(g[0]["semantics"]["values"]) == 1 and len(g[0]["semantics"]["values"][0]) == len(g[0]["boundaries"][0])
    _check_copy(district, row, add)
    # welded: each corner once
    assert len(add.vertices) < sum(len(r) for p in g[0]["boundaries"][0] for r in p)


def test_a_duplicate_is_a_deep_copy(district):
    add = cityobject_from_model(district, "building-0001", new_id="copy")
    add.cityobject["attributes"]["function"] = "changed"
    assert district.objects.attributes[district.objects.index["building-0001"]]["function"] != "changed"


def test_every_kind_of_sample_object_can_be_duplicated(district):
    seen = set()
    for row, kind in enumerate(district.objects.types):
        if kind in seen or district.objects.parents[row] >= 0 or not len(_polygons_of(district, row)):
            continue
        seen.add(kind)
        add = cityobject_from_model(district, row, new_id=f"copy-{row}", offset=OFFSET)
        _check_copy(district, row, add)
    assert {"Building", "Road", "TINRelief", "WaterBody", "SolitaryVegetationObject"} <= seen


def test_holes_and_several_lods_are_kept():
    courtyard = make_building(
        BuildingSpec(footprint=[[0, 0], [20, 0], [20, 16], [0, 16]], holes=[[[5, 4], [15, 4], [15, 12], [5, 12]]],
                     height=9.0)
    )  # fmt: skip
    obj, v = courtyard.cityobject("yard")
    lod1 = dict(obj["geometry"][0], lod="1")
    obj["geometry"].append(lod1)
    model = read_cityobjects({"yard": obj}, v)
    add = cityobject_from_model(model, 0, new_id="yard-2", offset=OFFSET)
    assert [(g["type"], g["lod"]) for g in add.cityobject["geometry"]] == [("Solid", "1"), ("Solid", "2")]
    assert max(len(p) for p in add.cityobject["geometry"][0]["boundaries"][0]) == 2  # the roof with its hole
    _check_copy(model, 0, add)


def test_an_open_or_inward_shell_is_a_multisurface(district):
    obj, v = make_building(BuildingSpec(footprint=[[0, 0], [8, 0], [8, 6], [0, 6]], height=5.0)).cityobject("b")
    shell = obj["geometry"][0]["boundaries"][0]
    values = obj["geometry"][0]["semantics"]["values"][0]
    opened = dict(
        obj["geometry"][0],
        boundaries=[shell[1:]],
        semantics={**obj["geometry"][0]["semantics"], "values": [values[1:]]},
    )
    inward = dict(obj["geometry"][0], lod="1", boundaries=[[[r[::-1] for r in p] for p in shell]])
    model = read_cityobjects({"b": dict(obj, geometry=[opened, inward])}, v)
    add = cityobject_from_model(model, "b", new_id="b2", offset=OFFSET)
    assert [g["type"] for g in add.cityobject["geometry"]] == ["MultiSurface", "MultiSurface"]
    _check_copy(model, 0, add)
    terrain = cityobject_from_model(district, "terrain", new_id="t2")
    assert [g["type"] for g in terrain.cityobject["geometry"]] == ["CompositeSurface"]  # all a TINRelief may have


def test_a_mesh_object_is_copied_as_a_generic_city_object(tmp_path):
    import trimesh

    path = tmp_path / "kiosk.obj"
    trimesh.creation.box(extents=(3.0, 2.0, 2.5)).export(path)
    model = read(path)
    assert model.objects.types == ["Mesh"]
    add = cityobject_from_model(model, 0, new_id="kiosk-2", offset=OFFSET)
    assert add.cityobject["type"] == "GenericCityObject"
    assert [g["type"] for g in add.cityobject["geometry"]] == ["Solid"]  # its triangles close
    assert len(add.vertices) == 8
    copy = _round_trip(add)
    assert copy.mesh.n_polygons == 12
    assert copy.mesh.polygon_areas().sum() == pytest.approx(2 * (6 + 7.5 + 5))
    _valid(add)


def test_children_join_the_copy_and_cannot_be_copied_alone():
    model = read(shared_file("citygml/Building_LOD2-EPSG25832_v2.gml"))
    row = next(i for i, t in enumerate(model.objects.types) if t == "Building")
    below = descendants(model.objects, row)
    assert below.sum() > 1  # the file's wall, roof and ground surfaces are objects of their own
    add = cityobject_from_model(model, row, new_id="copy", offset=OFFSET)
    _check_copy(model, row, add)
    child = int(np.flatnonzero(below)[1])
    with pytest.raises(ValueError, match="is part of"):
        cityobject_from_model(model, child, new_id="part")


@pytest.mark.parametrize(
    ("index", "kwargs", "message"),
    [
        ("no-such-building", {}, "has no object"),
        (10_000, {}, "has no object"),
        (True, {}, "has no object"),
        ("building-0001", {"offset": (0, 0)}, "three numbers"),
        ("building-0001", {"offset": (0, np.nan, 0)}, "finite"),
    ],
)
def test_bad_duplicates_raise_one_sentence(district, index, kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        cityobject_from_model(district, index, new_id="x", **kwargs)
    assert "\n" not in str(info.value)


def test_an_object_without_polygons_cannot_be_copied():
    model = read_cityobjects({"empty": {"type": "CityObjectGroup", "children": []}}, np.zeros((0, 3)))
    with pytest.raises(ValueError, match="no polygons"):
        cityobject_from_model(model, "empty", new_id="x")


# ---------------------------------------------------------------------------- helpers
def test_json_safe_copies_what_json_can_hold():
    value = {
        "n": np.int64(3),
        "f": np.float32(1.5),
        "nan": float("nan"),
        "inf": np.float64(np.inf),
        "arr": np.arange(3),
        "t": (1, "a", {2}),
        "d": datetime.date(2024, 5, 1),
        1: None,
        "o": Path("x"),
    }
    assert json_safe(value) == {
        "n": 3, "f": 1.5, "nan": None, "inf": None, "arr": [0, 1, 2], "t": [1, "a", [2]],
        "d": "2024-05-01", "1": None, "o": "x",
    }  # fmt: skip


def test_semantic_types_are_cityjson_2():
    assert CITYJSON_SEMANTIC_TYPE[SurfaceClass.MARKING] == "TransportationMarking"
    assert CITYJSON_SEMANTIC_TYPE[SurfaceClass.HOLE] == "TransportationHole"
    assert SurfaceClass.TERRAIN not in CITYJSON_SEMANTIC_TYPE and SurfaceClass.NONE not in CITYJSON_SEMANTIC_TYPE
    for c, name in CITYJSON_SEMANTIC_TYPE.items():
        assert SURFACE_CLASS_BY_NAME[name] == c


def test_geometry_surfaces_walks_every_type():
    ring = [[0, 1, 2]]
    co = {
        "type": "Building",
        "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [ring, ring],
             "semantics": {"surfaces": [{"type": "RoofSurface"}], "values": [0, None]}},
            {"type": "Solid", "lod": "2", "boundaries": [[ring, ring, ring]],
             "semantics": {"surfaces": [{"type": "WallSurface"}], "values": [[None, 0, 0]]}},
            {"type": "CompositeSolid", "lod": "2.2", "boundaries": [[[ring]], [[ring], [ring]]]},
            {"type": "MultiPoint", "lod": "0", "boundaries": [0, 1]},
        ],
    }  # fmt: skip
    got = [(s.semantic, s.lod, s.geometry) for s in geometry_surfaces(co)]
    assert got == [
        ("RoofSurface", "1", 0), (None, "1", 0),
        (None, "2", 1), ("WallSurface", "2", 1), ("WallSurface", "2", 1),
        (None, "2.2", 2), (None, "2.2", 2), (None, "2.2", 2),
    ]  # fmt: skip
