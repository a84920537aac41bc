"""CityGML (or any model) → CityJSON 2.0 by conversion, with a scenario applied; ``citytwin convert``."""

from __future__ import annotations

from collections import Counter

import numpy as np
import orjson
import pytest

import citytwin.io
from citytwin.cli import main
from citytwin.io.convert_cityjson import write_model_cityjson
from citytwin.model.scenario import AddObject, DeleteObjects, Scenario, SetAttributes, TransformObject
from tests.conftest import shared_file
from tests.io.cityjson_validate import assert_valid_cityjson, assert_valid_cityjsonseq

CITYGML = ["citygml/DenHaag_01.xml", "citygml/Building_LOD2-EPSG25832_v2.gml", "citygml/b1_lod2_cs_w_sem.gml",
           "citygml/citygml4j_lod2_buildings_v3.gml"]  # fmt: skip


def _areas_by_class(model) -> Counter:
    areas = model.mesh.triangle_areas()
    sem = model.mesh.tri_semantic
    out: Counter = Counter()
    for c in np.unique(sem):
        out[int(c)] = round(float(areas[sem == c].sum()), 1)
    return out


def _polygon_boxes(model) -> np.ndarray:
    """Each polygon's bounding box, rows sorted (robust to repeated ring vertices)."""
    m = model.mesh
    first = m.ring_offsets[m.polygon_rings[:-1]]
    last = m.ring_offsets[m.polygon_rings[1:]]
    boxes = np.array([np.concatenate([m.vertices[a:b].min(axis=0), m.vertices[a:b].max(axis=0)])
                      for a, b in zip(first, last, strict=True)])  # fmt: skip
    return boxes[np.lexsort(np.round(boxes, 4).T[::-1])]


def _not_surfaces(model) -> dict[str, dict]:
    from citytwin.model.cityobjects import SURFACE_TYPES

    o = model.objects
    keep = {}
    for i, oid in enumerate(o.ids):
        t = o.types[i].rsplit(":", 1)[-1]
        if t not in SURFACE_TYPES and t != "ReliefFeature":
            keep[oid] = dict(o.attributes[i])
    return keep


@pytest.mark.parametrize("relative", CITYGML)
def test_citygml_to_cityjson_keeps_what_both_can_hold(relative, tmp_path):
    src = citytwin.io.read(shared_file(relative))
    out = tmp_path / "out.city.json"
    result = write_model_cityjson(src, None, out)
    assert_valid_cityjson(out)
    again = citytwin.io.read(out)
    want = _not_surfaces(src)
    assert set(again.objects.ids) == set(want)
    for i, oid in enumerate(again.objects.ids):
        a = dict(again.objects.attributes[i])
        a.pop("cityGMLType", None)
        assert a == orjson.loads(orjson.dumps(want[oid], option=orjson.OPT_SERIALIZE_NUMPY)), oid
    assert again.mesh.n_polygons == src.mesh.n_polygons
    assert _areas_by_class(again) == _areas_by_class(src)  # same surfaces, same semantics
    assert sorted(np.unique(again.mesh.poly_lod)) == sorted(np.unique(src.mesh.poly_lod))
    a, b = _polygon_boxes(src), _polygon_boxes(again)
    assert np.abs(a - b).max() <= 0.0005 + 1e-6  # every polygon where it was, within the 1 mm grid
    if src.crs.epsg is not None:
        assert again.crs.epsg == src.crs.epsg
    assert all(w.endswith(".") for w in result.warnings)


def test_scenario_applied_in_a_conversion_and_as_a_sequence(tmp_path):
    src = citytwin.io.read(shared_file("citygml/DenHaag_01.xml"))
    o = src.objects
    buildings = [o.ids[i] for i in range(len(o)) if o.types[i].endswith("Building") and o.parents[i] < 0][:5]
    x0, y0, z0 = src.bounds[:3]
    box = {"type": "Building", "attributes": {"measuredHeight": 9.0}, "geometry": [{
        "type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2, 3]]],
        "semantics": {"surfaces": [{"type": "RoofSurface"}], "values": [0]}}]}  # fmt: skip
    corners = [(x0, y0, z0 + 9), (x0 + 10, y0, z0 + 9), (x0 + 10, y0 + 10, z0 + 9), (x0, y0 + 10, z0 + 9)]
    scenario = Scenario(name="plan", edits=(
        DeleteObjects(ids=tuple(buildings[:3])),
        TransformObject(id=buildings[3], translate=(12.0, 0.0, 0.0)),
        SetAttributes(ids=(buildings[4],), values={"function": "office"}),
        AddObject(id="new-box", cityobject=box, vertices=corners),
    ))  # fmt: skip
    out = tmp_path / "plan.city.json"
    write_model_cityjson(src, scenario, out)
    assert_valid_cityjson(out)
    before = citytwin.io.read(out)
    base_path = tmp_path / "base.city.json"
    write_model_cityjson(src, None, base_path)
    base = citytwin.io.read(base_path)
    ids_plan, ids_base = set(before.objects.ids), set(base.objects.ids)
    gone = ids_base - ids_plan
    assert set(buildings[:3]) <= gone and ids_plan - ids_base == {"new-box"}
    assert all(base.objects.roots[base.objects.index[g]] in {base.objects.index[b] for b in buildings[:3]}
               for g in gone)  # only those buildings and their parts  # fmt: skip
    k_plan, k_base = before.objects.index[buildings[4]], base.objects.index[buildings[4]]
    assert before.objects.attributes[k_plan]["function"] == "office"
    assert base.objects.attributes[k_base].get("function") != "office"

    def bbox(model, oid):
        m = model.mesh
        k = model.objects.index[oid]
        polys = np.flatnonzero(model.objects.roots[m.poly_object] == k)
        v = np.concatenate([m.vertices[m.ring_offsets[m.polygon_rings[p]]: m.ring_offsets[m.polygon_rings[p + 1]]]
                            for p in polys])  # fmt: skip
        return np.concatenate([v.min(axis=0), v.max(axis=0)])

    assert np.allclose(bbox(before, buildings[3]) - bbox(base, buildings[3]), [12, 0, 0, 12, 0, 0], atol=0.002)
    # every other object is as it was
    for oid in ids_base - gone - {buildings[3], buildings[4]}:
        assert before.objects.attributes[before.objects.index[oid]] == base.objects.attributes[base.objects.index[oid]]
    seq = tmp_path / "plan.city.jsonl"
    write_model_cityjson(src, scenario, seq, seq=True)
    _, features = assert_valid_cityjsonseq(seq)
    assert {f["id"] for f in features} >= {"new-box", buildings[3]}
    assert not {f["id"] for f in features} & set(buildings[:3])


def test_convert_command(tmp_path, capsys):
    import shutil

    src = tmp_path / "DenHaag_01.xml"
    shutil.copy(shared_file("citygml/DenHaag_01.xml"), src)
    out = tmp_path / "dh.city.json"
    assert main(["convert", str(src), str(out)]) == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out) and "semantic surfaces" in captured.err
    assert_valid_cityjson(out)
    # a CityJSON file converted to CityJSON again: written from its own bytes, the same objects
    again = tmp_path / "again.city.json"
    assert main(["convert", str(out), str(again)]) == 0
    assert set(citytwin.io.read(again).objects.ids) == set(citytwin.io.read(out).objects.ids)
    bad = [
        ([str(src), str(tmp_path / "x.obj")], "format"),
        ([str(out), str(out)], "input file"),
        ([str(src), str(tmp_path / "y.city.json"), "--scenario", "plan"], "--project"),
    ]
    for args, word in bad:
        capsys.readouterr()
        assert main(["convert", *args]) == 2, args
        err = capsys.readouterr().err.strip()
        assert word in err and len(err.splitlines()) == 1, err
    # replacing the input needs --force and keeps a backup
    before = out.read_bytes()
    assert main(["convert", str(out), str(out), "--force"]) == 0
    assert (tmp_path / "dh.city.json.bak").read_bytes() == before
    # a project's scenario applied
    p = citytwin.Project()
    p.add_source(src)
    first = citytwin.io.read(src).objects.ids[0]
    p.scenarios = [Scenario(name="plan", edits=(DeleteObjects(ids=(first,)),))]
    proj = p.save(tmp_path / "p.citytwin")
    planned = tmp_path / "planned.city.json"
    assert main(["convert", str(src), str(planned), "--project", str(proj), "--scenario", "plan"]) == 0
    assert first not in set(citytwin.io.read(planned).objects.ids)
    assert main(["convert", str(src), str(planned), "--project", str(proj), "--scenario", "nope"]) == 2


def test_convert_to_citygml_3_and_back_to_cityjson(tmp_path, capsys):
    """CityGML (1.0) → CityGML 3.0 → CityJSON through the command: the same buildings all the way."""
    src = shared_file("citygml/DenHaag_01.xml")
    gml = tmp_path / "dh3.gml"
    assert main(["convert", str(src), str(gml), "--citygml", "3.0"]) == 0, capsys.readouterr().err
    cj = tmp_path / "dh3.city.json"
    assert main(["convert", str(gml), str(cj)]) == 0, capsys.readouterr().err
    assert_valid_cityjson(cj)
    a, b = citytwin.io.read(src), citytwin.io.read(cj)
    count = lambda m: sum(1 for t in m.objects.types if t.rsplit(":", 1)[-1] == "Building")  # noqa: E731
    assert count(a) == count(b) == 844
    assert _areas_by_class(a) == _areas_by_class(b)
