"""The CityJSON and CityJSONSeq readers against every real CityJSON file, checked with a plain JSON pass."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from citytwin.errors import LoadCancelled
from citytwin.io.cityjson import read, read_seq
from citytwin.io.cityjson_write import build_document, quantise, write_cityjson, write_cityjsonseq
from citytwin.io.options import LoadOptions
from citytwin.model.semantics import SURFACE_CLASS_BY_NAME, SurfaceClass, lod_code, lod_name
from tests.cityjson_seq import split_into_features
from tests.conftest import SHARED, shared_file

CITYJSON_FILES = [
    "cityjson/delft.json",
    "cityjson/3dfier_testarea.json",
    "cityjson/dummy.json",
    "cityjson/citygml4j_lod2_buildings_v2.json",
    "cityjson/DenHaag_01_v0.8.json",
    "cityjson/geoRES_testdata_v1.0.0_cj0.6.json",
    "cityjson/rotterdam/rotterdam_one.json",
    "cityjson/rotterdam/rotterdam_subset.json",
]


def test_every_shared_cityjson_file_is_covered():
    found = {str(p.relative_to(SHARED)) for p in (SHARED / "cityjson").rglob("*.json")}
    assert found == set(CITYJSON_FILES)


# ------------------------------------------------------- independent JSON pass
def _doc(rel: str) -> dict:
    return json.loads(shared_file(rel).read_text(encoding="utf-8"))


def _real_vertices(doc: dict) -> np.ndarray:
    v = np.array(doc["vertices"], dtype=np.float64)
    if "transform" in doc:
        v = v * np.array(doc["transform"]["scale"]) + np.array(doc["transform"]["translate"])
    return v


def _nest(gtype: str, b: list | None, n_levels_under_surface: int = 0) -> list:
    """Per-surface entries of a boundaries-shaped array (None-padded where a level is null)."""
    depth = {"MultiSurface": 0, "CompositeSurface": 0, "Solid": 1, "MultiSolid": 2, "CompositeSolid": 2}[gtype]
    items = [b]
    for _ in range(depth + 1):
        nxt = []
        for it in items:
            nxt.extend(it if isinstance(it, list) else [None])
        items = nxt
    return items


DEFAULTS = {
    "TINRelief": SurfaceClass.TERRAIN,
    "PlantCover": SurfaceClass.VEGETATION,
    "SolitaryVegetationObject": SurfaceClass.VEGETATION,
}


def _expected(doc: dict) -> dict:
    """Polygons, classes, LoDs and the first polygon of each object, the slow obvious way."""
    verts = _real_vertices(doc)
    templates = doc.get("geometry-templates", {})
    tverts = np.array(templates.get("vertices-templates", []), dtype=np.float64).reshape(-1, 3)
    classes: Counter = Counter()
    lods: set[str] = set()
    first_ring: dict[str, np.ndarray] = {}
    n_polygons = 0
    for oid, co in doc["CityObjects"].items():
        for g in co.get("geometry", []):
            lod = g.get("lod")
            source = verts
            if g["type"] == "GeometryInstance":
                m = np.array(g["transformationMatrix"], dtype=np.float64).reshape(4, 4)
                source = np.array([m[:3, :3] @ p + m[:3, 3] for p in tverts]) + verts[g["boundaries"][0]]
                g = templates["templates"][g["template"]]
                lod = g.get("lod")
            if g["type"] in ("MultiPoint", "MultiLineString"):
                continue
            surfaces = _nest(g["type"], g["boundaries"])
            sem = g.get("semantics")
            values = _nest(g["type"], sem["values"]) if sem else [None] * len(surfaces)
            if len(values) != len(surfaces):
                values = [None] * len(surfaces)
            default = DEFAULTS.get(co["type"], SurfaceClass.NONE)
            for surface, value in zip(surfaces, values, strict=True):
                ring = [source[i] for i in surface[0]]
                if len(ring) > 1 and np.array_equal(ring[0], ring[-1]):
                    ring = ring[:-1]
                if len(ring) < 3:
                    continue  # the reader drops it with a counted warning
                n_polygons += 1
                lods.add(lod_name(lod_code(lod)))
                if value is None:
                    classes[int(default)] += 1
                else:
                    name = sem["surfaces"][value].get("type")
                    classes[int(SURFACE_CLASS_BY_NAME.get(name, SurfaceClass.OTHER))] += 1
                first_ring.setdefault(oid, np.array(ring))
    return {"classes": classes, "lods": sorted(lods), "first_ring": first_ring, "n_polygons": n_polygons}


def _expected_parents(doc: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for oid, co in doc["CityObjects"].items():
        if co.get("parents"):
            out[oid] = co["parents"][0]
        elif isinstance(co.get("parent"), str):
            out[oid] = co["parent"]
    for oid, co in doc["CityObjects"].items():
        for key in ("children", "Installations", "Parts"):
            for child in co.get(key, []):
                out.setdefault(child, oid)
    return out


@pytest.fixture(scope="module", params=CITYJSON_FILES)
def case(request) -> tuple[str, dict, object]:
    rel = request.param
    return rel, _doc(rel), read(shared_file(rel))


# --------------------------------------------------------------- every file
def test_format_and_version(case):
    rel, doc, model = case
    assert model.format == "CityJSON"
    assert model.version == doc["version"]
    assert model.source == shared_file(rel)


def test_object_counts_by_type(case):
    _, doc, model = case
    expected = Counter(co["type"] for co in doc["CityObjects"].values())
    assert model.objects.type_counts() == dict(sorted(expected.items()))
    assert set(model.objects.ids) == set(doc["CityObjects"])


def test_vertices_after_transform_are_exact(case):
    _, doc, model = case
    expected = _expected(doc)["first_ring"]
    ids = list(expected)
    picks = {ids[0], ids[len(ids) // 2], ids[-1]}
    for oid in picks:
        obj = model.objects.index[oid]
        first = int(np.flatnonzero(model.mesh.poly_object == obj)[0])
        ring = model.mesh.polygon_rings[first]
        a, b = model.mesh.ring_offsets[ring], model.mesh.ring_offsets[ring + 1]
        got = model.mesh.vertices[a:b]
        assert got.shape == expected[oid].shape
        assert np.abs(got - expected[oid]).max() <= 1e-9


def test_polygon_count_lods_and_semantic_classes(case):
    _, doc, model = case
    expected = _expected(doc)
    assert model.mesh.n_polygons == expected["n_polygons"]
    assert model.lods == expected["lods"]
    got = Counter(model.mesh.poly_semantic.tolist())
    assert got == expected["classes"]


def test_triangles_cover_the_polygons(case):
    rel, _, model = case
    mesh = model.mesh
    assert mesh.n_triangles > 0
    assert mesh.triangles.min() >= 0 and mesh.triangles.max() < len(mesh.vertices)
    tri = np.bincount(mesh.tri_polygon, weights=mesh.triangle_areas(), minlength=mesh.n_polygons)
    poly = mesh.polygon_areas()
    has = np.bincount(mesh.tri_polygon, minlength=mesh.n_polygons) > 0
    if rel == "cityjson/dummy.json":
        # cjio's synthetic solid has self-intersecting "bow-tie" quads (e.g. [3, 0, 2, 1]), whose
        # Newell area is not an area; only its simple polygons are compared.
        bowtie = np.isclose(poly, np.sqrt(0.5)) & np.isclose(tri, np.sqrt(0.75))
        assert bowtie.sum() == 2
        has &= ~bowtie
    # Real polygons are not all planar (DenHaag, geoRES), so a projected triangulation differs a
    # little from the Newell area of a few of them; the totals agree tightly.
    assert np.isclose(tri[has].sum(), poly[has].sum(), rtol=1e-4)
    close = np.isclose(tri[has], poly[has], rtol=1e-3, atol=1e-4)
    assert close.mean() >= 0.99


def test_parent_child_links(case):
    _, doc, model = case
    expected = _expected_parents(doc)
    table = model.objects
    got = {table.ids[i]: table.ids[p] for i, p in enumerate(table.parents.tolist()) if p >= 0}
    assert got == expected


def test_attributes_are_kept_as_typed(case):
    _, doc, model = case
    for oid, co in list(doc["CityObjects"].items())[:20]:
        assert model.objects.attributes[model.objects.index[oid]] == co.get("attributes", {})


# ----------------------------------------------------------- specific files
def test_crs_from_reference_system_and_legacy_epsg():
    assert read(shared_file("cityjson/delft.json")).crs.epsg == 7415
    assert read(shared_file("cityjson/3dfier_testarea.json")).crs.epsg == 7415
    assert read(shared_file("cityjson/citygml4j_lod2_buildings_v2.json")).crs.epsg == 3068
    assert read(shared_file("cityjson/geoRES_testdata_v1.0.0_cj0.6.json")).crs.epsg == 31467
    assert read(shared_file("cityjson/DenHaag_01_v0.8.json")).crs.epsg is None


def test_geographical_extent_in_metadata():
    model = read(shared_file("cityjson/delft.json"))
    extent = model.metadata["geographicalExtent"]
    assert extent == _doc("cityjson/delft.json")["metadata"]["geographicalExtent"]
    assert np.allclose(model.bounds, extent, atol=1e-3)
    legacy = read(shared_file("cityjson/geoRES_testdata_v1.0.0_cj0.6.json"))
    assert (
        legacy.metadata["geographicalExtent"] == _doc("cityjson/geoRES_testdata_v1.0.0_cj0.6.json")["metadata"]["bbox"]
    )


def test_denhaag_parts_and_materials():
    model = read(shared_file("cityjson/DenHaag_01_v0.8.json"))
    table = model.objects
    parts = [i for i, t in enumerate(table.types) if t == "BuildingPart"]
    assert len(parts) == 1653
    assert all(table.types[table.parents[i]] == "Building" for i in parts)
    doc = _doc("cityjson/DenHaag_01_v0.8.json")
    assert len(model.mesh.materials) == len(doc["appearance"]["materials"])
    theme = model.mesh.appearances[""]
    # every surface that names a material in the JSON has it
    named = 0
    for co in doc["CityObjects"].values():
        for g in co.get("geometry", []):
            if "material" in g:
                named += sum(v is not None for v in _nest(g["type"], g["material"][""]["values"]))
    assert int((theme.material >= 0).sum()) == named
    first = doc["appearance"]["materials"][int(theme.material[theme.material >= 0][0])]
    assert model.mesh.materials[int(theme.material[theme.material >= 0][0])].diffuse == tuple(first["diffuseColor"])


def test_rotterdam_textures_missing_images_warn_not_fail():
    rel = "cityjson/rotterdam/rotterdam_one.json"
    model = read(shared_file(rel))
    doc = _doc(rel)
    images = [t["image"] for t in doc["appearance"]["textures"]]
    assert [Path(t.path).name for t in model.mesh.textures] == [Path(i).name for i in images]
    exists = {Path(t.path).name: t.exists for t in model.mesh.textures}
    assert exists["0320_4_15.jpg"] is True
    assert sum(exists.values()) == 1
    assert any("texture image" in w and "missing" in w for w in model.warnings)
    theme = model.mesh.appearances["rgbTexture"]
    g = doc["CityObjects"][next(iter(doc["CityObjects"]))]["geometry"][0]
    values = g["texture"]["rgbTexture"]["values"]
    textured = sum(1 for surface in values if surface[0][0] is not None)
    assert int((theme.texture >= 0).sum()) == textured
    # uv of the first textured polygon equal the JSON's vertices-texture
    k = next(i for i, s in enumerate(values) if s[0][0] is not None)
    uv_json = np.array(doc["appearance"]["vertices-texture"])[values[k][0][1:]]
    ring = model.mesh.polygon_rings[k]
    a, b = model.mesh.ring_offsets[ring], model.mesh.ring_offsets[ring + 1]
    assert np.allclose(theme.uv[a:b], uv_json, atol=1e-6)
    assert theme.texture[k] == values[k][0][0]


def test_rotterdam_subset_every_texture_reference_resolved():
    model = read(shared_file("cityjson/rotterdam/rotterdam_subset.json"))
    theme = model.mesh.appearances["rgbTexture"]
    textured = theme.texture >= 0
    assert textured.sum() > 200
    verts_textured = np.repeat(np.repeat(textured, np.diff(model.mesh.polygon_rings)), np.diff(model.mesh.ring_offsets))
    assert np.isfinite(theme.uv[verts_textured]).all()
    assert not any("do not match" in w for w in model.warnings)


def test_dummy_templates_placed_at_reference_point():
    doc = _doc("cityjson/dummy.json")
    model = read(shared_file("cityjson/dummy.json"))
    obj = model.objects.index["1243"]
    polys = np.flatnonzero(model.mesh.poly_object == obj)
    template = doc["geometry-templates"]["templates"][0]
    tv = np.array(doc["geometry-templates"]["vertices-templates"])
    ref = np.array(doc["vertices"][0]) * 0.001  # vertex 0, with the file's transform
    assert len(polys) == len(template["boundaries"])
    for p, surface in zip(polys, template["boundaries"], strict=True):
        ring = model.mesh.polygon_rings[p]
        a, b = model.mesh.ring_offsets[ring], model.mesh.ring_offsets[ring + 1]
        expected = tv[surface[0]] * 2.0 + ref
        assert np.allclose(model.mesh.vertices[a:b], expected, atol=1e-12)
    assert set(model.mesh.poly_lod[polys].tolist()) == {20}
    assert set(model.mesh.poly_semantic[polys].tolist()) == {int(SurfaceClass.VEGETATION)}


def test_dummy_materials_and_textures_per_theme():
    model = read(shared_file("cityjson/dummy.json"))
    app = model.mesh.appearances
    assert set(app) == {"irradiation", "irradiation-2", "winter-textures", "summer-textures"}
    assert [m.name for m in model.mesh.materials] == ["irradiation-0-50", "irradiation-51-80", "irradiation-81-100"]
    # lod 1.1 solid: "values": [[0, 0, null, null, 2, 2]] – its first surface is degenerate but kept
    lod11 = np.flatnonzero(model.mesh.poly_lod == 11)
    assert app["irradiation"].material[lod11].tolist() == [0, 0, -1, -1, 2, 2]
    assert app["irradiation-2"].material[lod11].tolist() == [1] * 6
    assert all(not t.exists for t in model.mesh.textures)


def test_georess_legacy_instances_and_installations():
    model = read(shared_file("cityjson/geoRES_testdata_v1.0.0_cj0.6.json"))
    doc = _doc("cityjson/geoRES_testdata_v1.0.0_cj0.6.json")
    table = model.objects
    installations = [i for i, t in enumerate(table.types) if t == "BuildingInstallation"]
    assert len(installations) == 10
    assert all(table.types[table.parents[i]] == "Building" for i in installations)
    trees = [i for i, t in enumerate(table.types) if t == "SolitaryVegetationObject"]
    n_template_polys = {i: len(t["boundaries"]) for i, t in enumerate(doc["geometry-templates"]["templates"])}
    for i in trees:
        co = doc["CityObjects"][table.ids[i]]
        assert (model.mesh.poly_object == i).sum() == sum(n_template_polys[g["template"]] for g in co["geometry"])


# ------------------------------------------------------------------ options
def test_lod_range_option():
    model = read(shared_file("cityjson/dummy.json"), LoadOptions(lod_min=1.0, lod_max=1.5))
    assert model.lods == ["1.1"]
    assert len(model.objects) == 2  # objects stay, only geometry is filtered


def test_types_option_keeps_top_level_types_with_children():
    model = read(shared_file("cityjson/DenHaag_01_v0.8.json"), LoadOptions(types=frozenset({"Building"})))
    assert model.objects.type_counts() == {"Building": 844, "BuildingPart": 1653}
    assert not model.warnings
    delft = read(shared_file("cityjson/delft.json"), LoadOptions(types=frozenset({"Road", "Bridge"})))
    assert delft.objects.type_counts() == {"Bridge": 3, "Road": 143}
    assert set(np.unique(delft.mesh.poly_object).tolist()) <= set(range(146))


def test_bbox_option_matches_a_plain_intersection():
    doc = _doc("cityjson/delft.json")
    verts = _real_vertices(doc)
    x0, y0 = verts[:, 0].min(), verts[:, 1].min()
    bbox = (x0 + 100.0, y0 + 100.0, x0 + 250.0, y0 + 200.0)
    expected = set()
    for oid, co in doc["CityObjects"].items():
        idx = [i for g in co.get("geometry", []) for s in _nest(g["type"], g["boundaries"]) for r in s for i in r]
        xy = verts[idx, :2]
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        if lo[0] <= bbox[2] and hi[0] >= bbox[0] and lo[1] <= bbox[3] and hi[1] >= bbox[1]:
            expected.add(oid)
    model = read(shared_file("cityjson/delft.json"), LoadOptions(bbox=bbox))
    assert 0 < len(expected) < len(doc["CityObjects"])
    assert set(model.objects.ids) == expected
    assert set(np.unique(model.mesh.poly_object).tolist()) == set(range(len(expected)))


def test_progress_reaches_the_end_and_cancel_stops():
    seen: list[tuple[int, int]] = []
    read(shared_file("cityjson/delft.json"), progress=lambda d, t: seen.append((d, t)))
    size = shared_file("cityjson/delft.json").stat().st_size
    assert seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(LoadCancelled):
        read(shared_file("cityjson/delft.json"), cancel=lambda: True)


# --------------------------------------------------------------- CityJSONSeq
def test_cityjsonseq_split_of_delft_reads_like_the_whole_file(tmp_path):
    doc = _doc("cityjson/delft.json")
    header, features = split_into_features(doc)
    path = tmp_path / "delft.city.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [header, *features]) + "\n", encoding="utf-8")
    whole = read(shared_file("cityjson/delft.json"))
    seen: list[int] = []
    seq = read_seq(path, progress=lambda d, t: seen.append(d))
    assert seq.format == "CityJSONSeq"
    assert seq.version == "2.0"
    assert seq.crs.epsg == 7415
    assert seq.objects.type_counts() == whole.objects.type_counts()
    assert seq.mesh.n_polygons == whole.mesh.n_polygons
    assert seq.mesh.n_triangles == whole.mesh.n_triangles
    assert np.array_equal(seq.bounds, whole.bounds)
    assert np.isclose(seq.mesh.triangle_areas().sum(), whole.mesh.triangle_areas().sum(), rtol=1e-12)
    assert seen[-1] == path.stat().st_size and len(seen) > 10


def test_cityjsonseq_with_children_appearance_and_a_bad_line(tmp_path):
    doc = _doc("cityjson/rotterdam/rotterdam_one.json")
    header = {k: v for k, v in doc.items() if k not in ("CityObjects", "vertices", "appearance")}
    oid, co = next(iter(doc["CityObjects"].items()))
    app = dict(doc["appearance"])
    feature = {"type": "CityJSONFeature", "id": oid, "CityObjects": {oid: co}, "vertices": doc["vertices"],
               "appearance": app}  # fmt: skip
    lines = [json.dumps(header), json.dumps(feature), '{"type": "CityJSONFeature", "CityObj', json.dumps(feature)]
    (tmp_path / "appearances").mkdir()
    path = tmp_path / "r.city.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = read_seq(path)
    assert len(model.objects) == 2
    assert model.mesh.n_polygons == 2 * read(shared_file("cityjson/rotterdam/rotterdam_one.json")).mesh.n_polygons
    # the second feature's texture indices point at its own copy of the texture list
    theme = model.mesh.appearances["rgbTexture"]
    n = model.mesh.n_polygons // 2
    assert np.array_equal(theme.texture[n:][theme.texture[n:] >= 0] - 6, theme.texture[:n][theme.texture[:n] >= 0])
    assert any("line 3" in w for w in model.warnings)


# -------------------------------------------------------------------- writer
def test_quantise_round_trips_within_half_a_step():
    rng = np.random.default_rng(7)
    pts = rng.uniform([84000, 447000, -5], [86000, 448000, 60], size=(500, 3))
    ints, tr = quantise(pts, 0.001)
    assert ints.dtype == np.int64 and ints.min() == 0
    back = ints * np.array(tr["scale"]) + np.array(tr["translate"])
    assert np.abs(back - pts).max() <= 0.0005 + 1e-9


def _box_document() -> tuple[np.ndarray, dict]:
    pts = np.array([[0, 0, 0], [10, 0, 0], [10, 8, 0], [0, 8, 0], [0, 0, 6], [10, 0, 6], [10, 8, 6], [0, 8, 6]], float)
    pts += [85000.1234, 447000.5678, 1.25]
    shell = [[[0, 3, 2, 1]], [[4, 5, 6, 7]], [[0, 1, 5, 4]], [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]]]
    objects = {
        "b1": {"type": "Building", "attributes": {"h": 6.0, "info": {"a": [1, 2]}}, "children": ["b1-p"],
               "geometry": [{"type": "Solid", "lod": "2.2", "boundaries": [shell],
                             "semantics": {"surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"},
                                                        {"type": "WallSurface"}],
                                           "values": [[0, 1, 2, 2, 2, 2]]}}]},
        "b1-p": {"type": "BuildingPart", "parents": ["b1"],
                 "geometry": [{"type": "MultiSurface", "lod": 1, "boundaries": shell[:2]}]},
    }  # fmt: skip
    return pts, objects


def test_written_document_reads_back(tmp_path):
    pts, objects = _box_document()
    doc = build_document(pts, objects, epsg=7415)
    path = write_cityjson(tmp_path / "box.city.json", doc)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    model = read(path)
    assert model.version == "2.0" and model.crs.epsg == 7415
    assert model.objects.type_counts() == {"Building": 1, "BuildingPart": 1}
    assert model.objects.attributes[model.objects.index["b1"]] == {"h": 6.0, "info": {"a": [1, 2]}}
    assert model.objects.parents.tolist() == [-1, 0]
    assert model.mesh.n_polygons == 8 and model.lods == ["1", "2.2"]
    assert Counter(model.mesh.poly_semantic.tolist())[int(SurfaceClass.WALL)] == 4
    first = model.mesh.vertices[:4]
    assert np.abs(first - pts[[0, 3, 2, 1]]).max() <= 0.0005 + 1e-9
    assert np.isclose(model.mesh.triangle_areas().sum(), 2 * (80 + 60 + 48) + 80 * 2, rtol=1e-6)


def test_write_is_atomic_when_serialisation_fails(tmp_path):
    from citytwin.errors import CityTwinError

    path = tmp_path / "x.json"
    path.write_bytes(b"old")
    with pytest.raises(CityTwinError):
        write_cityjson(path, {"type": "CityJSON", "bad": {1, 2}})
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    with pytest.raises(CityTwinError):
        quantise(np.array([[0.0, np.nan, 0.0]]))


def test_written_cityjsonseq_reads_back(tmp_path):
    pts, objects = _box_document()
    doc = build_document(pts, objects)
    header = {k: v for k, v in doc.items() if k not in ("CityObjects", "vertices")}
    feature = {"type": "CityJSONFeature", "id": "b1", "CityObjects": objects, "vertices": doc["vertices"]}
    path = write_cityjsonseq(tmp_path / "box.city.jsonl", header, [feature, feature])
    assert len(path.read_text().splitlines()) == 3
    model = read_seq(path)
    assert model.mesh.n_polygons == 16
    assert len(model.objects) == 4
