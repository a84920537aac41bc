"""The generated sample district: deterministic, complete, and geometrically sound."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import orjson
import pytest

from citytwin.io.registry import read
from citytwin.model.semantics import SurfaceClass
from citytwin.sample import EPSG, SEED, build_district, sample_path, write_district

ROOF_TYPES = {"1000", "3100", "3200"}  # ALKIS: flat, gabled, hipped


@pytest.fixture(scope="module")
def model():
    return read(sample_path())


@pytest.fixture(scope="module")
def document() -> dict:
    return orjson.loads(sample_path().read_bytes())


@pytest.fixture(scope="module")
def buildings(model) -> dict:
    """Per building: its index, triangles (as coordinates), semantics and attributes."""
    objects, mesh = model.objects, model.mesh
    roots = objects.roots[mesh.tri_object]
    out = {}
    for i in np.flatnonzero(np.asarray(objects.types) == "Building"):
        sel = roots == i
        out[objects.ids[i]] = {
            "index": int(i),
            "tris": mesh.vertices[mesh.triangles[sel]],  # (T, 3, 3)
            "semantic": mesh.tri_semantic[sel],
            "attributes": objects.attributes[i],
        }
    return out


def _terrain_height(model, xy: np.ndarray) -> np.ndarray:
    """Height of the TINRelief at 2D points (NaN outside), by barycentric interpolation."""
    mesh = model.mesh
    tin = mesh.tri_semantic == SurfaceClass.TERRAIN
    tri = mesh.vertices[mesh.triangles[tin]]
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    out = np.full(len(xy), np.nan)
    for start in range(0, len(xy), 256):
        p = xy[start : start + 256, None, :]  # (n, 1, 2)
        v0, v1, v2 = (b - a)[None, :, :2], (c - a)[None, :, :2], p - a[None, :, :2]
        den = v0[..., 0] * v1[..., 1] - v1[..., 0] * v0[..., 1]
        s = (v2[..., 0] * v1[..., 1] - v1[..., 0] * v2[..., 1]) / den
        t = (v0[..., 0] * v2[..., 1] - v2[..., 0] * v0[..., 1]) / den
        inside = (s >= -1e-9) & (t >= -1e-9) & (s + t <= 1 + 1e-9)
        k = np.argmax(inside, axis=1)
        hit = inside[np.arange(len(k)), k]
        z = a[k, 2] + s[np.arange(len(k)), k] * (b - a)[k, 2] + t[np.arange(len(k)), k] * (c - a)[k, 2]
        out[start : start + 256] = np.where(hit, z, np.nan)
    return out


# ---------------------------------------------------------------- determinism and file
def test_generator_is_deterministic_and_matches_the_committed_asset(tmp_path):
    first = write_district(tmp_path / "a.city.json").read_bytes()
    second = write_district(tmp_path / "b.city.json").read_bytes()
    assert first == second
    assert first == sample_path().read_bytes(), "assets/sample_district.city.json is stale: regenerate it"
    other = write_district(tmp_path / "c.city.json", seed=SEED + 1).read_bytes()
    assert other != first


def test_module_entry_point_writes_the_file(tmp_path):
    out = tmp_path / "district.city.json"
    result = subprocess.run(
        [sys.executable, "-m", "citytwin.sample", "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == sample_path().read_bytes()
    assert not list(tmp_path.glob(".*.tmp")), "the atomic write left its temporary file behind"


def test_module_entry_point_rejects_a_missing_folder(tmp_path):
    out = tmp_path / "nowhere" / "district.city.json"
    result = subprocess.run(
        [sys.executable, "-m", "citytwin.sample", "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_asset_is_small_quantised_cityjson_2(document):
    assert sample_path().stat().st_size < 3_000_000
    assert document["type"] == "CityJSON" and document["version"] == "2.0"
    assert document["transform"]["scale"] == [0.001, 0.001, 0.001]
    tx, ty, _ = document["transform"]["translate"]
    assert 380_000 < tx < 400_000 and 5_790_000 < ty < 5_810_000
    assert document["metadata"]["referenceSystem"].endswith(f"/EPSG/0/{EPSG}")
    verts = np.asarray(document["vertices"])
    assert verts.dtype.kind == "i" and len(np.unique(verts, axis=0)) == len(verts), "vertices are not merged"


def test_shipped_asset_validates_against_the_official_schema():
    """The official CityJSON 2.0 schemas and cjval's checks (a square is a ``TransportSquare`` in 2.0)."""
    from tests.io.cityjson_validate import assert_valid_cityjson

    assert_valid_cityjson(sample_path(), sample_path().name)


def test_build_district_returns_int_vertices():
    doc = build_district()
    assert doc["vertices"].dtype == np.int64 and doc["vertices"].shape[1] == 3


def test_rings_never_repeat_a_vertex(document):
    def rings(node, depth):
        if depth == 0:
            yield node
        else:
            for child in node:
                yield from rings(child, depth - 1)

    depth = {"MultiSurface": 2, "CompositeSurface": 2, "Solid": 3}
    n = 0
    for obj in document["CityObjects"].values():
        for geom in obj["geometry"]:
            for ring in rings(geom["boundaries"], depth[geom["type"]]):
                assert len(ring) >= 3 and len(set(ring)) == len(ring)
                n += 1
    assert n > 10_000


# ---------------------------------------------------------------- content through the registry
def test_reads_through_the_registry_with_expected_content(model):
    assert model.format == "CityJSON" and model.version == "2.0"
    assert model.crs.code == f"EPSG:{EPSG}"
    assert model.lods == ["2"]
    assert model.warnings == []
    counts = model.objects.type_counts()
    assert 250 <= counts.pop("Building") <= 400
    assert 100 <= counts.pop("SolitaryVegetationObject") <= 250
    assert counts == {
        "CityFurniture": 13,  # fountain basin, 8 benches, 4 lamps
        "PlantCover": 1,
        "Road": 12,
        "TINRelief": 1,
        "TransportSquare": 1,
        "WaterBody": 1,
    }
    b = model.bounds
    assert 389_000 < b[0] < b[3] < 391_000 and 5_799_000 < b[1] < b[4] < 5_801_000
    assert 400 < b[3] - b[0] < 900 and 300 < b[4] - b[1] < 700
    present = set(model.mesh.semantic_classes)
    assert {SurfaceClass.TRAFFIC_AREA, SurfaceClass.AUXILIARY_TRAFFIC_AREA, SurfaceClass.WATER_SURFACE} <= present


def test_every_building_has_roof_wall_and_ground(buildings):
    want = {SurfaceClass.ROOF, SurfaceClass.WALL, SurfaceClass.GROUND}
    for oid, b in buildings.items():
        assert set(np.unique(b["semantic"]).tolist()) == want, oid


def test_every_building_is_a_closed_outward_solid(buildings):
    for oid, b in buildings.items():
        tris = b["tris"]
        rel = tris - tris.reshape(-1, 3).mean(axis=0)
        volume = np.einsum("ij,ij->i", rel[:, 0], np.cross(rel[:, 1], rel[:, 2])).sum() / 6
        ground = b["semantic"] == SurfaceClass.GROUND
        g = tris[ground]
        ground_area = np.linalg.norm(np.cross(g[:, 1] - g[:, 0], g[:, 2] - g[:, 0]), axis=1).sum() / 2
        height = b["attributes"]["measuredHeight"]
        # outward: positive; closed and plausible: at least half its bounding prism (roofs), at most all of it
        assert 0.5 * ground_area * height <= volume <= ground_area * height * 1.0001, oid
        # closed and consistently oriented: every directed edge is matched by its reverse exactly once
        keys = np.unique(np.rint(tris.reshape(-1, 3) * 1000).astype(np.int64), axis=0, return_inverse=True)[1]
        t = keys.reshape(-1, 3)
        edges = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
        directed = {tuple(e) for e in edges.tolist()}
        assert len(directed) == len(edges), f"{oid}: an edge is used twice in the same direction"
        assert all((q, p) in directed for p, q in directed), f"{oid}: the shell has an open edge"


def test_heights_match_measured_height(buildings):
    for oid, b in buildings.items():
        z = b["tris"][..., 2]
        assert z.max() - z.min() == pytest.approx(b["attributes"]["measuredHeight"], abs=0.002), oid


def test_buildings_sit_on_the_terrain(model, buildings):
    for oid, b in buildings.items():
        g = b["tris"][b["semantic"] == SurfaceClass.GROUND].reshape(-1, 3)
        assert np.ptp(g[:, 2]) < 1e-6, f"{oid}: the ground surface is not flat"
        terrain = _terrain_height(model, g[:, :2])
        assert np.isfinite(terrain).all(), f"{oid} stands outside the terrain"
        base = g[0, 2]
        assert terrain.min() == pytest.approx(base, abs=0.002), f"{oid} floats above or sinks into the terrain"


def test_roads_lie_just_above_the_terrain(model):
    mesh = model.mesh
    roads = np.isin(mesh.poly_object, np.flatnonzero(np.asarray(model.objects.types) == "Road"))
    ring_of_poly = mesh.polygon_rings[:-1][roads]
    starts = mesh.ring_offsets[ring_of_poly]
    pts = mesh.vertices[starts[::7]]  # a spread-out sample of road vertices
    lift = pts[:, 2] - _terrain_height(model, pts[:, :2])
    assert np.allclose(lift, 0.05, atol=0.002)


def test_building_attributes(model, buildings):
    names = 0
    for b in buildings.values():
        a = b["attributes"]
        assert a["function"].startswith("31001_")
        assert 1850 <= a["yearOfConstruction"] <= 2024
        assert isinstance(a["storeysAboveGround"], int) and 1 <= a["storeysAboveGround"] <= 8
        assert a["roofType"] in ROOF_TYPES
        assert 2.9 * a["storeysAboveGround"] < a["measuredHeight"] < 40
        names += "name" in a
    roof_types = {b["attributes"]["roofType"] for b in buildings.values()}
    assert roof_types == ROOF_TYPES
    assert 3 <= names <= 20
    with_address = [i for i in model.objects.addresses if model.objects.types[i] == "Building"]
    assert 0.7 * len(buildings) <= len(with_address) < len(buildings)
    street = model.objects.addresses[with_address[0]][0]
    assert street["ThoroughfareName"] and street["ThoroughfareNumber"].isdigit()


def test_roof_shapes_show_in_the_geometry(buildings):
    """Flat roofs are horizontal; gabled and hipped roofs are sloped."""
    for oid, b in buildings.items():
        roof = b["tris"][b["semantic"] == SurfaceClass.ROOF]
        n = np.cross(roof[:, 1] - roof[:, 0], roof[:, 2] - roof[:, 0])
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        assert (n[:, 2] > 0.5).all(), f"{oid}: a roof triangle faces down or sideways"
        if b["attributes"]["roofType"] == "1000":
            assert np.allclose(n[:, 2], 1.0), oid
        else:
            assert (n[:, 2] < 0.9).all(), oid
