"""Writing CityGML with a scenario applied: lossless round trips, edits, conversion, failing writes.

Every file written is validated against the OGC schemas offline
(:mod:`tests.io.citygml_validate`); checks of what was read back use an
independent comparison of the models (objects, attributes, polygons by LoD and
semantic class, coordinates within 1 mm) and a plain lxml pass for geometry types.
"""

from __future__ import annotations

import errno
import os
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from citytwin.errors import CityTwinError
from citytwin.io import atomic
from citytwin.io.citygml import read
from citytwin.io.citygml_export import write_scenario_citygml
from citytwin.io.citygml_source import scan
from citytwin.io.cityjson import read as read_cityjson
from citytwin.model.citymodel import CityModel
from citytwin.model.scenario import (
    AddObject,
    DeleteObjects,
    Scenario,
    SetAttributes,
    TransformObject,
    object_frame,
    transform_points,
)
from citytwin.model.semantics import SurfaceClass
from tests.conftest import shared_file
from tests.io.citygml_validate import assert_valid_citygml, validation_errors

#: Files that validate as published (see ../shared/schemas/README.md) and their versions.
ROUND_TRIP = [
    ("citygml/Building_LOD2-EPSG25832_v2.gml", "2.0"),
    ("citygml/b1_lod2_cs_w_sem.gml", "2.0"),
    ("citygml/lyon_1er_small_house/LYON_1ER_BATI_2015_small_house.gml", "2.0"),
    ("citygml/533925_tran_6697_op.gml", "2.0"),
    ("citygml/citygml4j_lod3/lod3_building_v2.gml", "2.0"),
    ("citygml/berlin_open_data_sample_data.citygml", "1.0"),
    ("citygml/citygml4j_lod2_buildings_v3.gml", "3.0"),
    ("citygml/Opera-Lyon_CityGML3.0_LOD2_with_xAL3_FreeText.gml", "3.0"),
]
DENHAAG = "citygml/DenHaag_01.xml"
_IMAGE_URI = re.compile(rb"(<(?:[\w.-]+:)?imageURI>)[^<]*(<)")
_GML_IDS = ("{http://www.opengis.net/gml}id", "{http://www.opengis.net/gml/3.2}id")


@cache
def _model(rel: str) -> CityModel:
    return read(shared_file(rel))


# ------------------------------------------------------------------ comparison
def _geometry(model: CityModel) -> dict[str, dict[tuple[int, int], np.ndarray]]:
    """Per object id: (LoD code, semantic class) → its polygons' vertices, sorted (ring order does not matter)."""
    mesh = model.mesh
    out: dict[str, dict[tuple[int, int], list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    ro, pr = mesh.ring_offsets, mesh.polygon_rings
    for p in range(mesh.n_polygons):
        oid = model.objects.ids[int(mesh.poly_object[p])]
        key = (int(mesh.poly_lod[p]), int(mesh.poly_semantic[p]))
        out[oid][key].append(mesh.vertices[ro[pr[p]] : ro[pr[p + 1]]])
    result = {}
    for oid, groups in out.items():
        result[oid] = {}
        for key, parts in groups.items():
            v = np.concatenate(parts)
            r = np.round(v, 3)
            result[oid][key] = v[np.lexsort(r.T[::-1])]
    return result


def _objects(model: CityModel) -> dict[str, tuple[str, str | None, dict]]:
    o = model.objects
    return {
        o.ids[i]: (o.types[i], o.ids[p] if (p := int(o.parents[i])) >= 0 else None, o.attributes[i])
        for i in range(len(o))
    }


#: Types that are named differently in CityGML 2.0 and 3.0 (an opening is a filling surface in 3.0).
SAME_TYPE = {"Window": "WindowSurface", "Door": "DoorSurface", "GenericCityObject": "GenericOccupiedSpace"}


def _type(t: str) -> str:
    return SAME_TYPE.get(t, t)


def assert_same_model(a: CityModel, b: CityModel, skip: set[str] = frozenset(), attributes: bool = True) -> None:
    """The same objects (types, parents, attributes), the same polygons by LoD and semantics, within 1 mm."""
    oa = {k: v for k, v in _objects(a).items() if k not in skip}
    ob = {k: v for k, v in _objects(b).items() if k not in skip}
    assert oa.keys() == ob.keys()
    for k in oa:
        assert (_type(oa[k][0]), oa[k][1]) == (_type(ob[k][0]), ob[k][1]), k
        if attributes:
            assert oa[k][2] == ob[k][2], k
    ga, gb = _geometry(a), _geometry(b)
    for k in oa:
        assert ga.get(k, {}).keys() == gb.get(k, {}).keys(), k
        for key, va in ga.get(k, {}).items():
            vb = gb[k][key]
            assert va.shape == vb.shape, (k, key)
            assert np.abs(va - vb).max(initial=0) <= 1e-3, (k, key)
    assert a.lods == b.lods


def _solid_lods(path: Path) -> set[tuple[str, int, bool]]:
    """``(object id, LoD, is a solid)`` of every LoD geometry property in a file (a plain lxml pass)."""
    out = set()
    tree = etree.parse(str(path), etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True))
    for prop in tree.iter(etree.Element):
        m = re.match(r"^lod([0-4])(\w+)$", etree.QName(prop).localname)
        owner = prop.getparent()
        if m is None or owner is None or "opengis.net/citygml" not in etree.QName(prop).namespace:
            continue
        oid = next((owner.get(a) for a in _GML_IDS if owner.get(a)), None)
        geom = next((g for g in prop if isinstance(g.tag, str)), None)
        is_solid = "Solid" in m.group(2) or (geom is not None and "Solid" in etree.QName(geom).localname)
        if oid and "ImplicitRepresentation" not in m.group(2) and "TerrainIntersection" not in m.group(2):
            out.add((oid, int(m.group(1)), is_solid))
    return out


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize(("rel", "version"), ROUND_TRIP, ids=[Path(r).name for r, _ in ROUND_TRIP])
def test_round_trip_same_version_is_lossless(rel, version, tmp_path):
    source = shared_file(rel)
    model = _model(rel)
    assert model.version == version
    out = tmp_path / "out.gml"
    assert write_scenario_citygml(model, None, out, version) == []
    # byte for byte as the source, but texture paths made relative to the new folder
    src = source.read_bytes()
    written = out.read_bytes()
    assert _IMAGE_URI.sub(rb"\1\2", written) == _IMAGE_URI.sub(rb"\1\2", src)
    back = read(out)
    assert back.version == version
    assert_same_model(model, back)
    assert not [w for w in back.warnings if w not in model.warnings]
    assert_valid_citygml(out)


@pytest.mark.slow
def test_denhaag_round_trip_is_byte_identical(tmp_path):  # so valid as the source is (see the schemas README)
    model = _model(DENHAAG)
    out = tmp_path / "denhaag.xml"
    assert write_scenario_citygml(model, None, out, "1.0") == []
    assert out.read_bytes() == shared_file(DENHAAG).read_bytes()
    assert_same_model(model, read(out))


def test_a_1_0_file_written_as_2_0_keeps_everything(tmp_path):
    rel = "citygml/berlin_open_data_sample_data.citygml"
    out = tmp_path / "berlin2.gml"
    assert write_scenario_citygml(_model(rel), None, out, "2.0") == []
    back = read(out)
    assert back.version == "2.0"
    assert_same_model(_model(rel), back)
    assert _solid_lods(out) == _solid_lods(shared_file(rel))
    assert_valid_citygml(out)


def test_1_0_is_written_only_for_a_1_0_source(tmp_path):
    with pytest.raises(CityTwinError, match=r"^CityGML 1\.0 is written only for a model read from CityGML 1\.0") as e:
        write_scenario_citygml(_model("citygml/b1_lod2_cs_w_sem.gml"), None, tmp_path / "x.gml", "1.0")
    assert str(e.value).endswith(".") and ". " not in str(e.value) and not (tmp_path / "x.gml").exists()
    with pytest.raises(CityTwinError, match="CityGML 4.0 cannot be written"):
        write_scenario_citygml(_model("citygml/b1_lod2_cs_w_sem.gml"), None, tmp_path / "x.gml", "4.0")


def test_the_reader_keeps_the_source_bytes_as_read():
    rel = "citygml/Building_LOD2-EPSG25832_v2.gml"
    doc = _model(rel).source_document
    assert doc is not None and doc.kind == "CityGML"
    assert b"".join(doc.chunks) == shared_file(rel).read_bytes()
    layout = scan(b"".join(doc.chunks))
    assert [m.feature_type for m in layout.members] == ["Building", "ReliefFeature"]


# ------------------------------------------------------------------ edits
def _box(oid: str, x: float, y: float, z: float, w: float = 10.0, d: float = 8.0, h: float = 12.0) -> AddObject:
    """A box building as CityJSON: a closed LoD2 solid with Ground, Wall and Roof surfaces, outward normals."""
    v = [(x, y, z), (x + w, y, z), (x + w, y + d, z), (x, y + d, z),
         (x, y, z + h), (x + w, y, z + h), (x + w, y + d, z + h), (x, y + d, z + h)]  # fmt: skip
    shell = [[[0, 3, 2, 1]], [[4, 5, 6, 7]], [[0, 1, 5, 4]], [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]]]
    co = {
        "type": "Building",
        "attributes": {"measuredHeight": h, "function": "proposed tower", "storeysAboveGround": 4},
        "geometry": [
            {
                "type": "Solid",
                "lod": "2",
                "boundaries": [shell],
                "semantics": {
                    "surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}],
                    "values": [[0, 1, 2, 2, 2, 2]],
                },
            }
        ],
    }
    return AddObject(id=oid, cityobject=co, vertices=v)


def _edit_scenario(model: CityModel) -> tuple[Scenario, dict]:
    objects = model.objects
    buildings = [
        objects.ids[i] for i in range(len(objects)) if objects.types[i] == "Building" and objects.parents[i] < 0
    ]
    deleted, moved, edited = buildings[:3], buildings[5], buildings[7]
    lo = model.bounds[:3]
    edits = (
        DeleteObjects(ids=tuple(deleted)),
        TransformObject(id=moved, translate=(12.5, -3.0, 0.5), rotate_deg=30.0),
        SetAttributes(ids=(edited,), values={"storeysAboveGround": 7, "planningStatus": "proposed"}),
        _box("new-tower", float(lo[0]) - 50.0, float(lo[1]) - 50.0, float(lo[2])),
    )
    return Scenario(name="Tower", edits=edits), {"deleted": deleted, "moved": moved, "edited": edited}


def _subtree(model: CityModel, oid: str) -> set[str]:
    o = model.objects
    k = o.index[oid]
    return {o.ids[i] for i in range(len(o)) if int(o.roots[i]) == k}


def _check_edits(model: CityModel, back: CityModel, scenario: Scenario, names: dict) -> None:
    gone = set().union(*(_subtree(model, d) for d in names["deleted"]))
    added = {"new-tower"} | {i for i in back.objects.ids if i.startswith("new-tower_")}
    assert set(back.objects.ids) == (set(model.objects.ids) - gone) | added
    moved = _subtree(model, names["moved"])
    # everything else exactly as it was
    assert_same_model(model, back, skip=gone | added | moved | {names["edited"]})
    # the edited object: only the two attributes changed
    before = dict(_objects(model)[names["edited"]][2])
    before.update(storeysAboveGround=7, planningStatus="proposed")
    assert _objects(back)[names["edited"]][2] == before
    assert _geometry(back).get(names["edited"], {}).keys() == _geometry(model).get(names["edited"], {}).keys()
    # the moved object: its vertices where the transform puts them (about its object_frame, as the view)
    o = model.objects
    rows = [o.index[i] for i in moved]
    mesh = model.mesh
    counts = np.diff(mesh.ring_offsets[mesh.polygon_rings])
    vmask = np.repeat(np.isin(mesh.poly_object, rows), counts)
    pts = mesh.vertices[vmask]
    t = next(e for e in scenario.edits if isinstance(e, TransformObject))
    expected = transform_points(t, pts, *object_frame(pts))
    brows = [back.objects.index[i] for i in moved]
    bmesh = back.mesh
    bcounts = np.diff(bmesh.ring_offsets[bmesh.polygon_rings])
    got = bmesh.vertices[np.repeat(np.isin(bmesh.poly_object, brows), bcounts)]
    key = np.lexsort(np.round(expected, 3).T[::-1]), np.lexsort(np.round(got, 3).T[::-1])
    assert np.abs(expected[key[0]] - got[key[1]]).max() <= 1e-3
    assert _objects(back)[names["moved"]] == _objects(model)[names["moved"]]
    # the new building: a closed LoD 2 box with its surfaces, attributes kept
    tower = back.objects.index["new-tower"]
    assert back.objects.types[tower] == "Building"
    assert back.objects.attributes[tower]["storeysAboveGround"] == 4
    kids = sorted(back.objects.types[int(c)] for c in back.objects.children(tower))
    assert kids == ["GroundSurface", "RoofSurface", "WallSurface"]
    sel = np.isin(bmesh.poly_object, [tower, *map(int, back.objects.children(tower))])
    assert int(sel.sum()) == 6 and set(bmesh.poly_lod[sel].tolist()) == {20}
    # the root's envelope bounds the scenario's city
    envelope = back.metadata.get("envelope")
    assert envelope is not None and len(envelope) == 6
    assert np.allclose(envelope, back.bounds, atol=1e-3)


@pytest.mark.parametrize(
    ("rel", "version"),
    [("citygml/citygml4j_lod2_buildings_v3.gml", "3.0"), ("citygml/berlin_open_data_sample_data.citygml", "1.0")],
    ids=["3.0", "1.0"],
)
def test_edit_scenario_gives_exactly_those_differences(rel, version, tmp_path):
    model = _model(rel)
    scenario, names = _edit_scenario(model)
    out = tmp_path / "edited.gml"
    warnings = write_scenario_citygml(model, scenario, out, version)
    # CityGML 3.0 has no measuredHeight: the new building's is written as con:height, and said so
    assert all("con:height" in w for w in warnings) and (version == "3.0") == bool(warnings)
    back = read(out)
    assert not back.warnings
    _check_edits(model, back, scenario, names)
    assert_valid_citygml(out)
    # untouched members are the source's bytes
    src = scan(b"".join(model.source_document.chunks))
    touched = set(names["deleted"]) | {names["moved"], names["edited"]}
    kept = [src.data[m.start : m.end] for m in src.members if m.feature_id and m.feature_id not in touched]
    written = out.read_bytes()
    assert kept and all(span in written for span in kept)


@pytest.mark.slow
def test_denhaag_edit_scenario_written_as_2_0(tmp_path):
    model = _model(DENHAAG)
    scenario, names = _edit_scenario(model)
    out = tmp_path / "denhaag2.gml"
    assert write_scenario_citygml(model, scenario, out, "2.0") == []
    back = read(out)
    assert back.version == "2.0" and not back.warnings
    _check_edits(model, back, scenario, names)
    assert_valid_citygml(out)


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_later_edits_of_an_added_building_apply(version, tmp_path):
    model = _model("citygml/b1_lod2_cs_w_sem.gml")  # CityGML 2.0: 3.0 converts it
    edits = (
        _box("new", 0.0, 0.0, 0.0),
        TransformObject(id="new", translate=(100.0, 0.0, 0.0)),
        SetAttributes(ids=("new",), values={"name": "Proposal"}),
        DeleteObjects(ids=("nope",)),
    )
    out = tmp_path / "added.gml"
    warnings = write_scenario_citygml(model, Scenario(name="s", edits=edits), out, version)
    note = "1 object named by the scenario is not in the city model (for example 'nope'); its edits were ignored."
    assert warnings[0] == note
    back = read(out)
    new = back.objects.index["new"]
    assert back.objects.attributes[new]["name"] == "Proposal"
    rows = [new, *map(int, back.objects.children(new))]
    counts = np.diff(back.mesh.ring_offsets[back.mesh.polygon_rings])
    pts = back.mesh.vertices[np.repeat(np.isin(back.mesh.poly_object, rows), counts)]
    assert np.allclose(pts.min(axis=0), [100, 0, 0]) and np.allclose(pts.max(axis=0), [110, 8, 12])
    assert_valid_citygml(out)


def test_attribute_edits_patch_the_member(tmp_path):
    rel = "citygml/Building_LOD2-EPSG25832_v2.gml"
    model = _model(rel)
    bid = next(i for i, t in zip(model.objects.ids, model.objects.types, strict=True) if t == "Building")
    before = model.objects.attributes[model.objects.index[bid]]
    assert "measuredHeight" in before and "function" in before
    edit = SetAttributes(
        ids=(bid,),
        values={"measuredHeight": 17.25, "yearOfConstruction": 1999, "roofType": "1030", "name": "Town hall",
                "note": "kept as text", "rating": 4.5},
        removed=("function",),
    )  # fmt: skip
    out = tmp_path / "attrs.gml"
    write_scenario_citygml(model, Scenario(name="a", edits=(edit,)), out, "2.0")
    back = read(out)
    expected = edit.apply(before)
    assert back.objects.attributes[back.objects.index[bid]] == expected
    text = out.read_text()
    assert "<bldg:measuredHeight uom=" in text and ">17.25<" in text
    assert "<bldg:yearOfConstruction>1999</bldg:yearOfConstruction>" in text
    assert re.search(r'<gen:doubleAttribute [^>]*name="rating"><gen:value>4.5</gen:value>', text)
    assert_same_model(model, back, skip={bid})
    assert_valid_citygml(out)


def _points_of(model: CityModel, oid: str) -> np.ndarray:
    """Every vertex of an object's subtree, in a stable order."""
    rows = [model.objects.index[i] for i in _subtree(model, oid)]
    mesh = model.mesh
    counts = np.diff(mesh.ring_offsets[mesh.polygon_rings])
    v = mesh.vertices[np.repeat(np.isin(mesh.poly_object, rows), counts)]
    return v[np.lexsort(np.round(v, 3).T[::-1])]


def test_a_move_turns_implicit_geometry_and_leaves_its_template_alone(tmp_path):
    rel = "citygml/geores/geoRES_testdata_v1.0.0.xml"
    model = _model(rel)
    tree = "GMLID_SO0317854_699_5593"  # defines templates inline that other trees use
    other = "GMLID_SO1124524_1571_4314"  # one of those trees
    t = TransformObject(id=tree, translate=(3.0, -4.0, 1.0), rotate_deg=90.0, height_scale=1.5)
    out = tmp_path / "moved.gml"
    assert write_scenario_citygml(model, Scenario(name="m", edits=(t,)), out, "1.0") == []
    back = read(out)
    pts = _points_of(model, tree)
    expected = transform_points(t, pts, *object_frame(pts))
    expected = expected[np.lexsort(np.round(expected, 3).T[::-1])]
    assert np.abs(_points_of(back, tree) - expected).max() <= 1e-3
    assert np.abs(_points_of(back, other) - _points_of(model, other)).max() == 0
    assert_same_model(model, back, skip={tree})
    assert_valid_citygml(out)


def test_deleting_a_child_takes_out_its_references(tmp_path):
    rel = "citygml/Building_LOD2-EPSG25832_v2.gml"
    model = _model(rel)
    roof = next(i for i, t in zip(model.objects.ids, model.objects.types, strict=True) if t == "RoofSurface")
    out = tmp_path / "noroof.gml"
    write_scenario_citygml(model, Scenario(name="d", edits=(DeleteObjects(ids=(roof,)),)), out, "2.0")
    back = read(out)
    assert roof not in back.objects.index
    assert not back.warnings  # no dangling xlink to the roof's polygons
    assert_same_model(model, back, skip={roof})
    assert_valid_citygml(out)


def test_a_file_read_in_recovery_mode_is_written_well_formed(tmp_path):
    rel = "citygml/plateau_53392642/53392642_bldg_6697_op2.gml"  # an undeclared prefix, energy:, as published
    model = _model(rel)
    assert model.metadata.get("recovered")
    out = tmp_path / "plateau.gml"
    warnings = write_scenario_citygml(model, None, out, "2.0")
    assert warnings == ["1 elements with an undeclared namespace prefix (read in recovery mode) were left out."]
    etree.parse(str(out))  # well-formed now
    back = read(out)
    assert not back.metadata.get("recovered") and not back.warnings
    # the one element with the undeclared prefix is all that is missing
    lost = {i for i, a in enumerate(model.objects.attributes) if any("energy:" in k for k in a)}
    assert len(lost) == 1
    assert_same_model(model, back, skip={model.objects.ids[i] for i in lost})
    i = lost.pop()
    kept = {k: v for k, v in model.objects.attributes[i].items() if "energy:" not in k}
    assert back.objects.attributes[back.objects.index[model.objects.ids[i]]] == kept


# ------------------------------------------------------------------ conversion
@pytest.mark.slow
def test_denhaag_converted_to_3_0_validates(tmp_path):
    model = _model(DENHAAG)
    out = tmp_path / "denhaag3.gml"
    warnings = write_scenario_citygml(model, None, out, "3.0")
    assert isinstance(warnings, list) and all(w.endswith(".") and w.count(". ") == 0 for w in warnings)
    back = read(out)
    assert back.version == "3.0"
    assert_same_model(model, back)
    assert {(i, lod, s) for i, lod, s in _solid_lods(out) if s} == {
        (i, lod, s) for i, lod, s in _solid_lods(shared_file(DENHAAG)) if s
    }
    assert_valid_citygml(out)


@pytest.mark.parametrize(
    ("rel", "version"),
    [
        ("citygml/Building_LOD2-EPSG25832_v2.gml", "3.0"),
        ("citygml/citygml4j_lod3/lod3_building_v2.gml", "3.0"),
        ("citygml/citygml4j_lod2_buildings_v3.gml", "2.0"),
        ("citygml/Opera-Lyon_CityGML3.0_LOD2_with_xAL3_FreeText.gml", "2.0"),
    ],
    ids=["2to3", "lod3-2to3", "3to2", "opera-3to2"],
)
def test_conversion_keeps_objects_geometry_and_names_what_it_cannot(rel, version, tmp_path):
    model = _model(rel)
    out = tmp_path / f"converted_{version}.gml"
    warnings = write_scenario_citygml(model, None, out, version)
    back = read(out)
    assert back.version == version
    assert_same_model(model, back, attributes=False)
    # attributes keep their names and values, except those CityGML 3.0 renames (listed in a warning)
    renamed = {"measuredHeight", "measuredHeight_uom", "yearOfConstruction", "yearOfDemolition", "dateOfConstruction",
               "height/value", "height/value_uom", "height/highReference", "height/lowReference",
               "height/status", "creationDate", "terminationDate"}  # fmt: skip
    got = _objects(back)
    for oid, (_, _, a) in _objects(model).items():
        b = got[oid][2]
        assert {k: v for k, v in a.items() if k not in renamed} == {k: v for k, v in b.items() if k not in renamed}, oid
    if any("measuredHeight" in a for _, _, a in _objects(model).values()) and version == "3.0":
        assert any("con:height" in w for w in warnings)
    if model.mesh.textures:
        assert any("Textures" in w for w in warnings)
    assert len(back.objects.addresses) == len(model.objects.addresses)
    for k, addresses in model.objects.addresses.items():
        got = back.objects.addresses[back.objects.index[model.objects.ids[k]]]
        assert [sorted(map(str, a.values())) for a in got] == [sorted(map(str, a.values())) for a in addresses]
    solids = {(i, lod) for i, lod, s in _solid_lods(shared_file(rel)) if s}
    assert solids == {(i, lod) for i, lod, s in _solid_lods(out) if s}
    assert_valid_citygml(out)


#: Semantic classes the CityGML reader gives the polygons of a type by itself.
TYPE_SEMANTIC = {
    "Road": SurfaceClass.TRAFFIC_AREA, "Railway": SurfaceClass.TRAFFIC_AREA, "Square": SurfaceClass.TRAFFIC_AREA,
    "Track": SurfaceClass.TRAFFIC_AREA, "PlantCover": SurfaceClass.VEGETATION,
    "SolitaryVegetationObject": SurfaceClass.VEGETATION, "TINRelief": SurfaceClass.TERRAIN,
    "WaterBody": SurfaceClass.WATER_SURFACE,
}  # fmt: skip


def _by_root(model: CityModel, whole_lods: bool = False) -> dict[str, dict[tuple[int, int], np.ndarray]]:
    """Per top-level object: (LoD code, semantic class) → the sorted vertices of every polygon of its subtree.

    A semantic class the type implies counts as none; ``whole_lods`` drops LoD refinements (2.2 → 2).
    """
    o = model.objects
    mesh = model.mesh
    counts = np.diff(mesh.ring_offsets[mesh.polygon_rings])
    root = np.repeat(o.roots[mesh.poly_object], counts)
    implied = np.array([TYPE_SEMANTIC.get(t, -1) for t in o.types], dtype=np.int64)
    sem = mesh.poly_semantic.astype(np.int64)
    sem = np.where(sem == implied[mesh.poly_object], 0, sem) if len(sem) else sem
    lod = mesh.poly_lod.astype(np.int64)
    lod = lod // 10 * 10 if whole_lods else lod
    key = np.repeat(lod * 100 + sem, counts)
    out: dict[str, dict[tuple[int, int], np.ndarray]] = defaultdict(dict)
    for r, k in {(int(a), int(b)) for a, b in zip(root.tolist(), key.tolist(), strict=True)}:
        v = mesh.vertices[(root == r) & (key == k)]
        out[o.ids[r]][(k // 100, k % 100)] = v[np.lexsort(np.round(v, 3).T[::-1])]
    return out


CITYJSON = [
    ("cityjson/rotterdam/rotterdam_subset.json", "2.0"),
    ("cityjson/rotterdam/rotterdam_subset.json", "3.0"),
    ("cityjson/citygml4j_lod2_buildings_v2.json", "2.0"),
    ("cityjson/citygml4j_lod2_buildings_v2.json", "3.0"),
    ("cityjson/dummy.json", "3.0"),
    pytest.param("cityjson/delft.json", "2.0", marks=pytest.mark.slow),
    pytest.param("cityjson/delft.json", "3.0", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("rel", "version"), CITYJSON)
def test_cityjson_converted_to_citygml(rel, version, tmp_path):
    model = read_cityjson(shared_file(rel))
    out = tmp_path / f"converted_{version}.gml"
    warnings = write_scenario_citygml(model, None, out, version)
    assert all(isinstance(w, str) and w.endswith(".") and "\n" not in w for w in warnings)
    back = read(out)
    assert_valid_citygml(out)
    # top-level objects: the same (ids made XML names where they were not), types and attributes
    renamed = {i: (i if re.match(r"^[A-Za-z_]", i) else "ID_" + re.sub(r"[^\w.-]", "_", i)) for i in model.objects.ids}
    if any(k != v for k, v in renamed.items()):
        assert any("ID_" in w for w in warnings)
    top = {renamed[i]: (t, a) for i, t, a, p in zip(model.objects.ids, model.objects.types, model.objects.attributes,
                                                    model.objects.parents.tolist(), strict=True) if p < 0}  # fmt: skip
    got = {i: (t, a) for i, t, a, p in zip(back.objects.ids, back.objects.types, back.objects.attributes,
                                           back.objects.parents.tolist(), strict=True) if p < 0}  # fmt: skip
    assert got.keys() == top.keys()
    height = {"measuredHeight", "yearOfConstruction", "height/value", "height/value_uom", "height/highReference",
              "height/lowReference", "height/status", "dateOfConstruction", "measuredHeight_uom"}  # fmt: skip
    for i, (t, a) in top.items():
        assert _type(got[i][0]) == _type(t)
        skip = (height if version == "3.0" else set()) | {k for k in got[i][1] if k.endswith("_uom") and k not in a}
        assert {k: v for k, v in got[i][1].items() if k not in skip} == {k: v for k, v in a.items() if k not in skip}
    # every polygon, by top-level object, LoD and semantic class (surfaces are child objects in CityGML)
    refined = bool((model.mesh.poly_lod % 10).any())
    assert refined == any("refined LoD" in w for w in warnings)
    a, b = _by_root(model, whole_lods=refined), _by_root(back)
    assert {renamed[k]: set(v) for k, v in a.items()} == {k: set(v) for k, v in b.items()}
    for k, groups in a.items():
        for key, va in groups.items():
            vb = b[renamed[k]][key]
            assert va.shape == vb.shape and np.abs(va - vb).max(initial=0) <= 1e-3, (k, key)
    if model.mesh.textures:
        assert any("Textures" in w for w in warnings)


# ------------------------------------------------------------------ failures
def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_write_into_a_read_only_folder_leaves_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:  # root ignores permissions: refuse as the file system would

        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    folder.chmod(0o555)
    try:
        with pytest.raises(CityTwinError) as e:
            write_scenario_citygml(_model("citygml/b1_lod2_cs_w_sem.gml"), None, folder / "out.gml", "2.0")
    finally:
        folder.chmod(0o755)
    message = str(e.value)
    assert message.startswith("The CityGML file could not be written to") and "Permission denied" in message
    assert message.endswith(").") and "\n" not in message
    assert _listing(folder) == []


def test_a_full_disk_leaves_the_target_as_it_was(tmp_path, monkeypatch):
    target = tmp_path / "out.gml"
    target.write_bytes(b"previous version")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(CityTwinError, match=r"could not be written .*No space left on device\)\.$"):
        write_scenario_citygml(_model("citygml/b1_lod2_cs_w_sem.gml"), None, target, "2.0")
    assert target.read_bytes() == b"previous version"
    assert _listing(tmp_path) == ["out.gml"]


def test_the_source_is_never_overwritten_silently(tmp_path):
    src = tmp_path / "b1.gml"
    src.write_bytes(shared_file("citygml/b1_lod2_cs_w_sem.gml").read_bytes())
    model = read(src)
    with pytest.raises(CityTwinError, match="would overwrite the file the model was read from"):
        write_scenario_citygml(model, None, src, "2.0")
    edit = SetAttributes(ids=(model.objects.ids[0],), values={"note": "x"})
    write_scenario_citygml(model, Scenario(name="s", edits=(edit,)), src, "2.0", allow_overwrite_source=True)
    assert read(src).objects.attributes[0]["note"] == "x"


def test_adding_an_existing_id_is_refused(tmp_path):
    model = _model("citygml/b1_lod2_cs_w_sem.gml")
    clash = _box(model.objects.ids[0], 0, 0, 0)
    with pytest.raises(CityTwinError, match="which the model has already"):
        write_scenario_citygml(model, Scenario(name="s", edits=(clash,)), tmp_path / "x.gml", "2.0")


# ------------------------------------------------------------------ the validator itself
def test_the_validator_rejects_what_is_wrong(tmp_path):
    text = shared_file("citygml/Building_LOD2-EPSG25832_v2.gml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.gml"
    bad.write_text(re.sub(r"(<bldg:measuredHeight[^>]*>)[^<]*", r"\1tall", text, count=1), encoding="utf-8")
    assert validation_errors(bad)
    bad.write_text(text.replace("gml:posList", "gml:posLis", 2), encoding="utf-8")
    assert validation_errors(bad)
