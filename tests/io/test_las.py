"""LAS / LAZ / COPC reading, checked against laspy's own numbers on every real file."""

from __future__ import annotations

import json
import time

import laspy
import numpy as np
import pytest

from citytwin import cli
from citytwin.errors import LoadCancelled
from citytwin.io import las as las_reader
from citytwin.io.options import LoadOptions
from citytwin.io.registry import pick_reader, read
from citytwin.model.pointcloud import (
    ASPRS_CLASS_NAMES,
    CLASSIFICATION_PALETTE,
    PointCloud,
    PointCloudLayer,
    class_name,
)
from tests.conftest import shared_file

#: Every file of ../shared/data/lidar with the EPSG code its CRS records give (None: no code).
LIDAR_FILES = {
    "1.0_0.las": 26915,
    "1.2_2.las": 26915,
    "Lyon_ExampleDataIsolatedTrees.las": 3946,
    "Megaplot.laz": 26917,
    "Topography.laz": 2949,
    "ahn3_cropped_1.laz": None,
    "append-bug.laz": 2154,
    "autzen_trim.laz": None,
    "autzen_trim_7.las": None,
    "file_with_both_wkt_and_geotiff_vlrs.las": 6880,
    "fullwave.laz": 32723,
    "lone-star.copc.laz": 4978,
    "mvk-thin.las": 26995,
    "simple.las": None,
    "simple1_1.las": None,
    "simple1_3.las": None,
    "test1_4.las": None,
}


def test_the_list_covers_every_lidar_file(shared_data):
    assert sorted(p.name for p in (shared_data / "lidar").iterdir() if p.suffix != ".md") == sorted(LIDAR_FILES)


@pytest.fixture(scope="module")
def loaded():
    """Each file read once by citytwin and once by laspy."""
    cache: dict[str, tuple[PointCloud, laspy.LasData]] = {}

    def get(name: str):
        if name not in cache:
            path = shared_file(f"lidar/{name}")
            cache[name] = (read(path), laspy.read(path))
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(LIDAR_FILES))
def test_points_and_classes_equal_laspy(loaded, name):
    pc, ref = loaded(name)
    assert isinstance(pc, PointCloud)
    assert pc.points_in_file == pc.n_points == len(ref.points) == ref.header.point_count
    codes, counts = np.unique(np.asarray(ref.classification), return_counts=True)
    assert pc.class_counts == {int(c): int(n) for c, n in zip(codes, counts, strict=True)}
    assert pc.summary()["classes"] == {str(int(c)): int(n) for c, n in zip(codes, counts, strict=True)}
    np.testing.assert_array_equal(pc.classification, np.asarray(ref.classification))
    ref_xyz = np.column_stack([np.asarray(ref.x), np.asarray(ref.y), np.asarray(ref.z)])
    assert pc.xyz.dtype == np.float64
    np.testing.assert_allclose(pc.xyz, ref_xyz, rtol=0, atol=1e-6 * max(1.0, np.abs(ref_xyz).max()) * 1e-3)
    np.testing.assert_array_equal(pc.intensity, np.asarray(ref.intensity))
    np.testing.assert_array_equal(pc.return_number, np.asarray(ref.return_number))
    np.testing.assert_array_equal(pc.number_of_returns, np.asarray(ref.number_of_returns))
    if "gps_time" in ref.point_format.dimension_names:
        np.testing.assert_array_equal(pc.gps_time, np.asarray(ref.gps_time))
    else:
        assert pc.gps_time is None


@pytest.mark.parametrize("name", sorted(LIDAR_FILES))
def test_header_facts(loaded, name):
    pc, ref = loaded(name)
    h = ref.header
    assert pc.version == f"{h.version.major}.{h.version.minor}"
    assert pc.point_format == h.point_format.id
    expected_format = "COPC" if name.endswith(".copc.laz") else ("LAZ" if name.endswith(".laz") else "LAS")
    assert pc.format == expected_format
    s = pc.summary()
    for key in ("format", "version", "crs", "bounds", "objects", "lods", "polygons", "triangles", "warnings"):
        assert key in s
    assert s["points"] == h.point_count and s["point_format"] == h.point_format.id
    assert s["objects"] == {} and s["lods"] == [] and s["triangles"] == 0
    json.dumps(s)  # the summary is plain JSON


@pytest.mark.parametrize("name", sorted(set(LIDAR_FILES) - {"simple1_3.las"}))
def test_bounds_match_the_header(loaded, name):
    pc, ref = loaded(name)
    header = np.concatenate([ref.header.mins, ref.header.maxs])
    np.testing.assert_array_equal(pc.bounds, header)
    assert pc.summary()["bounds"] == [float(v) for v in header]
    assert not any("bounds" in w for w in pc.warnings)


def test_absurd_header_bounds_are_replaced_by_the_points_own(loaded):
    pc, ref = loaded("simple1_3.las")
    xyz = np.column_stack([ref.x, ref.y, ref.z])
    np.testing.assert_allclose(pc.bounds, np.concatenate([xyz.min(0), xyz.max(0)]), rtol=0, atol=1e-9)
    assert not np.allclose(pc.bounds, np.concatenate([ref.header.mins, ref.header.maxs]))
    assert any("header's bounds do not match" in w for w in pc.warnings)


@pytest.mark.parametrize("name", sorted(LIDAR_FILES))
def test_rgb_is_detected_and_normalised(loaded, name):
    pc, ref = loaded(name)
    dims = set(ref.point_format.dimension_names)
    if not {"red", "green", "blue"} <= dims:
        assert pc.rgb is None
        return
    raw = np.column_stack([ref.red, ref.green, ref.blue]).astype(np.uint16)
    sixteen = raw.max() > 255
    expected = (raw // 256 if sixteen else raw).astype(np.uint8)
    assert pc.rgb.dtype == np.uint8 and pc.rgb.shape == (len(ref.points), 3)
    np.testing.assert_array_equal(pc.rgb, expected)
    assert pc.metadata["rgb_bits"] == (16 if sixteen else 8)


def test_rgb_bit_depths_seen_in_real_files(loaded):
    # autzen stores 8-bit values in 16-bit fields; the Lyon extract true 16-bit colour.
    assert loaded("autzen_trim.laz")[0].metadata["rgb_bits"] == 8
    assert loaded("Lyon_ExampleDataIsolatedTrees.las")[0].metadata["rgb_bits"] == 16
    assert loaded("Lyon_ExampleDataIsolatedTrees.las")[0].rgb.max() > 100


@pytest.mark.parametrize("name", sorted(LIDAR_FILES))
def test_crs(loaded, name):
    pc, ref = loaded(name)
    assert pc.crs.epsg == LIDAR_FILES[name]
    declares = any(type(v).__name__ in ("WktCoordinateSystemVlr", "GeoKeyDirectoryVlr") for v in ref.header.vlrs)
    unusable = any("names no coordinate reference system" in w for w in pc.warnings)
    assert declares == (pc.crs.name is not None or unusable)
    assert declares != any("declares no coordinate reference system" in w for w in pc.warnings)


def test_unusable_geotiff_record_is_warned(loaded):
    # simple1_3.las has GeoTIFF keys, but none that names a CRS (a UTM code in the linear-units key).
    pc, _ = loaded("simple1_3.las")
    assert pc.crs.epsg is None and pc.crs.name is None
    assert any("GeoTIFF CRS record names no coordinate reference system" in w for w in pc.warnings)


def test_crs_of_the_file_with_both_wkt_and_geotiff(loaded):
    pc, ref = loaded("file_with_both_wkt_and_geotiff_vlrs.las")
    assert pc.crs.code == "EPSG:6880"
    assert pc.summary()["crs"] == "EPSG:6880"
    assert "Nebraska" in pc.crs.name
    assert ref.header.parse_crs().to_epsg() == 6880


def test_crs_without_epsg_code_keeps_its_name(loaded):
    pc, _ = loaded("test1_4.las")
    assert pc.crs.epsg is None and pc.crs.name == "NAD83(HARN) / New Mexico Central (ftUS)"
    assert "PROJCS" in pc.metadata["crs_wkt"]


def test_ahn3_without_crs_is_warned(loaded):
    pc, _ = loaded("ahn3_cropped_1.laz")
    assert pc.crs.epsg is None
    assert "The file declares no coordinate reference system." in pc.warnings


def test_copc_with_wrong_geocentric_crs_is_warned(loaded):
    pc, _ = loaded("lone-star.copc.laz")
    assert pc.format == "COPC" and pc.crs.epsg == 4978
    assert any("geocentric" in w and "probably wrong" in w for w in pc.warnings)


def _fastest(fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def test_copc_over_budget_loads_the_coarse_octree_levels(loaded):
    full, ref = loaded("lone-star.copc.laz")
    path = shared_file("lidar/lone-star.copc.laz")
    with laspy.CopcReader.open(path) as reader:
        per_level = las_reader.copc_level_counts(reader)
        assert sum(per_level) == len(ref.points) and len(per_level) >= 3
        budget = per_level[0] + per_level[1] + per_level[2] // 2  # levels 0-1 fit, level 2 does not
        coarse = reader.query(level=range(0, 2))
    pc = read(path, LoadOptions(point_budget=budget))
    assert pc.format == "COPC" and pc.metadata["read_path"] == "COPC levels"
    assert pc.n_points <= budget and pc.n_points == per_level[0] + per_level[1]
    assert pc.metadata["copc_levels"] == {
        "points_per_level": per_level, "levels_loaded": 2, "points_in_levels": pc.n_points
    }  # fmt: skip
    assert pc.points_in_file == len(ref.points) and pc.subsampled
    # Exactly the points of the two coarse levels.
    raw = np.rint((pc.xyz - ref.header.offsets) / ref.header.scales).astype(np.int64)
    want = np.column_stack([np.asarray(coarse.X), np.asarray(coarse.Y), np.asarray(coarse.Z)]).astype(np.int64)
    np.testing.assert_array_equal(raw[np.lexsort(raw.T)], want[np.lexsort(want.T)])
    # Class counts are those of the loaded points, and say so.
    assert not pc.class_counts_complete and pc.summary()["classes_complete"] is False
    assert sum(pc.class_counts.values()) == pc.n_points
    assert any(f"class counts are from the {pc.n_points:,} points loaded" in w for w in pc.warnings)
    assert full.class_counts_complete and full.summary()["classes_complete"] is True
    # An even preview of the whole extent: the loaded points reach the header's bounds ...
    b, span = full.bounds, full.bounds[3:] - full.bounds[:3]
    assert (np.abs(pc.xyz.min(0) - b[:3]) < 0.01 * span).all() and (np.abs(b[3:] - pc.xyz.max(0)) < 0.01 * span).all()
    np.testing.assert_array_equal(pc.bounds, full.bounds)

    # ... and fill the cells the file fills.
    def cells(xyz):
        h, _, _ = np.histogram2d(xyz[:, 0], xyz[:, 1], bins=8, range=[[b[0], b[3]], [b[1], b[4]]])
        return h > 0

    assert (cells(pc.xyz) & cells(full.xyz)).sum() >= 0.9 * cells(full.xyz).sum()
    # Faster than reading every point.
    assert _fastest(lambda: read(path, LoadOptions(point_budget=budget))) < _fastest(lambda: read(path))


def test_copc_budget_below_the_root_level_keeps_a_subset_of_it(loaded):
    full, _ = loaded("lone-star.copc.laz")
    path = shared_file("lidar/lone-star.copc.laz")
    pc = read(path, LoadOptions(point_budget=5_000))
    assert pc.n_points == 5_000 and pc.metadata["copc_levels"]["levels_loaded"] == 1
    span = (pc.xyz.max(0) - pc.xyz.min(0))[:2] / (full.bounds[3:5] - full.bounds[:2])
    assert (span > 0.95).all()
    np.testing.assert_array_equal(read(path, LoadOptions(point_budget=5_000)).xyz, pc.xyz)  # deterministic


def test_budget_keeps_a_uniform_subset_and_whole_file_counts(loaded):
    full, ref = loaded("ahn3_cropped_1.laz")
    budget = 20_000
    pc = read(shared_file("lidar/ahn3_cropped_1.laz"), LoadOptions(point_budget=budget))
    assert pc.n_points <= budget and pc.n_points == budget
    assert pc.points_in_file == len(ref.points) and pc.subsampled
    assert pc.class_counts == full.class_counts  # counted over the whole file
    np.testing.assert_array_equal(pc.bounds, full.bounds)
    # Every kept point is a real point of the file, with its own attributes.
    key = (np.asarray(ref.X, np.int64) * 1_000_003 + np.asarray(ref.Y)) * 1_000_033 + np.asarray(ref.Z)
    order = np.argsort(key)
    raw = np.rint((pc.xyz - ref.header.offsets) / ref.header.scales).astype(np.int64)
    k = (raw[:, 0] * 1_000_003 + raw[:, 1]) * 1_000_033 + raw[:, 2]
    pos = order[np.clip(np.searchsorted(key[order], k), 0, len(key) - 1)]
    assert (key[pos] == k).all()
    np.testing.assert_array_equal(pc.classification, np.asarray(ref.classification)[pos])
    # Uniform: class shares of the subset are those of the file.
    share = {c: n / pc.points_in_file for c, n in full.class_counts.items()}
    sub = np.bincount(pc.classification, minlength=256) / pc.n_points
    for c, s in share.items():
        assert abs(sub[c] - s) < 0.02
    # The subset is spread over the whole tile, not one corner.
    span = (pc.xyz.max(0) - pc.xyz.min(0))[:2] / (full.bounds[3:5] - full.bounds[:2])
    assert (span > 0.95).all()
    # Deterministic.
    again = read(shared_file("lidar/ahn3_cropped_1.laz"), LoadOptions(point_budget=budget))
    np.testing.assert_array_equal(again.xyz, pc.xyz)
    assert any("point budget" in w for w in pc.warnings)


def test_budget_larger_than_file_keeps_all(loaded):
    full, _ = loaded("Megaplot.laz")
    pc = read(shared_file("lidar/Megaplot.laz"), LoadOptions(point_budget=full.n_points))
    assert pc.n_points == full.n_points and not pc.subsampled


def test_budget_over_several_chunks(monkeypatch, loaded):
    full, _ = loaded("ahn3_cropped_1.laz")
    monkeypatch.setattr(las_reader, "CHUNK_POINTS", 50_000)
    monkeypatch.setattr(las_reader, "MIN_CHUNK_POINTS", 50_000)
    seen = []
    pc = read(
        shared_file("lidar/ahn3_cropped_1.laz"),
        LoadOptions(point_budget=12_345),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert pc.n_points == 12_345
    assert pc.class_counts == full.class_counts
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == seen[-1][1] == full.points_in_file
    assert len(seen) >= 10  # one report per chunk at least


def test_cancel_stops_the_read():
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(LoadCancelled):
        read(shared_file("lidar/ahn3_cropped_1.laz"), cancel=cancel)


def test_registry_picks_las_by_content(tmp_path):
    data = shared_file("lidar/simple.las").read_bytes()
    odd = tmp_path / "points.bin"
    odd.write_bytes(data)
    assert pick_reader(odd).name == "LAS"
    assert read(odd).n_points == 1065
    assert pick_reader(shared_file("lidar/lone-star.copc.laz")).name == "LAS"


def test_cli_info_json(capsys):
    assert cli.main(["info", str(shared_file("lidar/mvk-thin.las")), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "LAS" and out["points"] == 6280 and out["crs"] == "EPSG:26995"
    assert out["classes"] == {"1": 129, "2": 1693, "4": 141, "5": 578, "9": 37, "12": 3702}


def test_class_names_and_palette():
    assert ASPRS_CLASS_NAMES[2] == "Ground" and ASPRS_CLASS_NAMES[6] == "Building"
    assert class_name(9) == "Water" and class_name(65) == "User class 65" and class_name(40) == "Reserved 40"
    assert CLASSIFICATION_PALETTE.shape == (256, 3) and CLASSIFICATION_PALETTE.dtype == np.uint8
    ground, building, water = (CLASSIFICATION_PALETTE[c].astype(int) for c in (2, 6, 9))
    assert building[0] > building[2] and water[2] > water[0] and ground[0] > ground[2]


def test_point_cloud_layer_is_evented(loaded):
    pc, _ = loaded("autzen_trim.laz")
    layer = PointCloudLayer(name="autzen", cloud=pc)
    assert layer.colour_mode == "rgb"
    assert PointCloudLayer(cloud=loaded("ahn3_cropped_1.laz")[0]).colour_mode == "classification"
    assert PointCloudLayer(cloud=loaded("lone-star.copc.laz")[0]).colour_mode == "elevation"
    seen = []
    layer.events.colour_mode.connect(seen.append)
    layer.events.hidden_classes.connect(seen.append)
    layer.colour_mode = "intensity"
    layer.hidden_classes = frozenset({2})
    assert seen == ["intensity", frozenset({2})]
    assert layer.cloud.class_mask(layer.hidden_classes).sum() == pc.class_counts[1]
    np.testing.assert_array_equal(layer.bounds, pc.bounds)
    assert layer.info()["points"] == 110_000
    with pytest.raises(ValueError):
        PointCloudLayer(cloud=pc, colour_mode="semantic")


def test_ahn3_buildings_overlap_delft_buildings(loaded):
    """Issue: AHN3 building points and the Delft CityJSON buildings line up (both EPSG:28992)."""
    pc, _ = loaded("ahn3_cropped_1.laz")
    delft = read(shared_file("cityjson/delft.json"))
    assert delft.crs.epsg in (28992, 7415)
    a, b = pc.bounds, delft.bounds
    assert a[0] < b[3] and b[0] < a[3] and a[1] < b[4] and b[1] < a[4]  # 2D bounds overlap
    mesh, objs = delft.mesh, delft.objects
    ring_poly = np.repeat(np.arange(mesh.n_polygons), np.diff(mesh.polygon_rings))
    vertex_root = objs.roots[mesh.poly_object][np.repeat(ring_poly, np.diff(mesh.ring_offsets))]
    lo = np.full((len(objs), 2), np.inf)
    hi = np.full((len(objs), 2), -np.inf)
    np.minimum.at(lo, vertex_root, mesh.vertices[:, :2])
    np.maximum.at(hi, vertex_root, mesh.vertices[:, :2])
    buildings = [
        i
        for i in np.flatnonzero(np.asarray(objs.types) == "Building")
        if (lo[i] >= a[:2]).all() and (hi[i] <= a[3:5]).all()
    ]
    assert len(buildings) > 100

    def building_share(dx: float) -> float:
        n = n6 = 0
        for i in buildings:
            x, y = pc.xyz[:, 0] - dx, pc.xyz[:, 1]
            inside = (x >= lo[i, 0]) & (x <= hi[i, 0]) & (y >= lo[i, 1]) & (y <= hi[i, 1])
            n += int(inside.sum())
            n6 += int((pc.classification[inside] == 6).sum())
        return n6 / n

    # Most points inside the buildings' footprints' boxes are building points …
    assert building_share(0.0) > 0.6
    # … which is no accident of the area: shifted 30 m, the share drops to the tile's average.
    assert building_share(30.0) < 0.45


# ----------------------------------------------------------- point budget read straight from LAS records
UNCOMPRESSED = sorted(n for n in LIDAR_FILES if n.endswith(".las"))


def record_keys(X, Y, Z, *more) -> np.ndarray:
    """``(N, k)`` int64 columns identifying each record."""
    return np.column_stack([np.asarray(c, np.int64) for c in (X, Y, Z, *more)])


def match_records(cloud: PointCloud, ref: laspy.LasData) -> np.ndarray:
    """Index in ``ref`` of each loaded point, found by its raw coordinates and attributes (asserted)."""
    raw = np.rint((cloud.xyz - ref.header.offsets) / ref.header.scales).astype(np.int64)
    mine = record_keys(raw[:, 0], raw[:, 1], raw[:, 2], cloud.intensity, cloud.classification, cloud.return_number)
    theirs = record_keys(ref.X, ref.Y, ref.Z, ref.intensity, ref.classification, ref.return_number)
    order = np.lexsort(theirs.T[::-1])
    sorted_theirs = theirs[order]
    # binary search on the rows, column by column
    lo = np.zeros(len(mine), np.int64)
    hi = np.full(len(mine), len(theirs), np.int64)
    for _ in range(int(np.ceil(np.log2(max(len(theirs), 2)))) + 1):
        mid = (lo + hi) // 2
        row = sorted_theirs[np.minimum(mid, len(theirs) - 1)]
        diff = row - mine
        first = np.argmax(diff != 0, axis=1)
        less = (diff[np.arange(len(mine)), first] < 0) & (mid < len(theirs))
        lo = np.where(less, mid + 1, lo)
        hi = np.where(less, hi, mid)
    pos = np.minimum(lo, len(theirs) - 1)
    assert (sorted_theirs[pos] == mine).all(), "a loaded point is not a record of the file"
    return order[pos]


@pytest.mark.parametrize("name", UNCOMPRESSED)
def test_budget_on_las_reads_records_directly_with_whole_file_counts(loaded, name):
    full, ref = loaded(name)
    n = len(ref.points)
    budget = max(n // 7, 1) if n > 1 else 0
    pc = read(shared_file(f"lidar/{name}"), LoadOptions(point_budget=budget))
    assert pc.metadata["read_path"] == "direct records"
    assert pc.n_points == budget and pc.points_in_file == n
    codes, counts = np.unique(np.asarray(ref.classification), return_counts=True)
    assert pc.class_counts == {int(c): int(k) for c, k in zip(codes, counts, strict=True)}
    np.testing.assert_array_equal(pc.bounds, full.bounds)
    assert [w for w in pc.warnings if "point budget" not in w] == full.warnings
    assert pc.crs == full.crs and pc.metadata["rgb_bits"] == full.metadata["rgb_bits"]
    if budget:
        idx = match_records(pc, ref)
        assert len(np.unique(idx)) == budget  # no record twice
        np.testing.assert_array_equal(pc.number_of_returns, np.asarray(ref.number_of_returns)[idx])
        if pc.gps_time is not None:
            np.testing.assert_array_equal(pc.gps_time, np.asarray(ref.gps_time)[idx])
        if pc.rgb is not None:
            np.testing.assert_array_equal(pc.rgb, full.rgb[idx])
        np.testing.assert_allclose(pc.xyz, full.xyz[idx], rtol=0, atol=1e-9 * np.abs(full.xyz).max())


@pytest.fixture(scope="module")
def ahn3_las(tmp_path_factory):
    """The AHN3 tile as an uncompressed LAS 1.2 file."""
    path = tmp_path_factory.mktemp("las") / "ahn3.las"
    laspy.read(shared_file("lidar/ahn3_cropped_1.laz")).write(path)
    return path


def test_direct_budget_does_not_parse_points_with_laspy(monkeypatch, loaded, ahn3_las):
    full, _ = loaded("ahn3_cropped_1.laz")

    def refuse(*args, **kwargs):
        raise AssertionError("laspy's point reader was used")

    monkeypatch.setattr(laspy.LasReader, "read_points", refuse)
    pc = read(ahn3_las, LoadOptions(point_budget=20_000))
    assert pc.format == "LAS" and pc.n_points == 20_000 and pc.class_counts == full.class_counts
    np.testing.assert_array_equal(pc.bounds, full.bounds)
    # A whole LAS file is read the same way; a whole LAZ file is decompressed by lazrs straight into the
    # records; a LAZ file over budget goes through laspy's chunked reader.
    whole = read(ahn3_las, LoadOptions(point_budget=10**7))
    assert whole.n_points == 640_510 and whole.metadata["read_path"] == "direct records"
    np.testing.assert_array_equal(whole.xyz, full.xyz)
    np.testing.assert_array_equal(whole.return_number, full.return_number)
    laz = read(shared_file("lidar/ahn3_cropped_1.laz"), LoadOptions(point_budget=10**7))
    assert laz.metadata["read_path"] == "lazrs into records"
    np.testing.assert_array_equal(laz.records.records, whole.records.records)
    with pytest.raises(las_reader.ReaderError, match="laspy.s point reader"):
        read(shared_file("lidar/ahn3_cropped_1.laz"), LoadOptions(point_budget=100_000))


def test_direct_budget_is_uniform_deterministic_and_block_independent(monkeypatch, loaded, ahn3_las):
    full, ref = loaded("ahn3_cropped_1.laz")
    seen = []
    pc = read(ahn3_las, LoadOptions(point_budget=20_000), progress=lambda d, t: seen.append(d))
    share = {c: k / full.points_in_file for c, k in full.class_counts.items()}
    sub = np.bincount(pc.classification, minlength=256) / pc.n_points
    for c, s in share.items():
        assert abs(sub[c] - s) < 0.02
    span = (pc.xyz.max(0) - pc.xyz.min(0))[:2] / (full.bounds[3:5] - full.bounds[:2])
    assert (span > 0.95).all()
    idx = match_records(pc, ref)
    # One record out of each stride of 32 records (640,510 / 20,000).
    assert (np.diff(np.sort(idx)) < 2 * 32.1).all() and np.sort(idx)[0] < 33
    monkeypatch.setattr(las_reader, "DIRECT_BLOCK_POINTS", 9_999)
    seen_small = []
    small = read(ahn3_las, LoadOptions(point_budget=20_000), progress=lambda d, t: seen_small.append(d))
    np.testing.assert_array_equal(small.xyz, pc.xyz)
    np.testing.assert_array_equal(small.intensity, pc.intensity)
    assert small.class_counts == pc.class_counts
    assert seen_small == sorted(seen_small) and len(seen_small) > len(seen) and seen_small[-1] == 640_510


def test_stratified_indices():
    idx = las_reader.stratified_indices(1_000_000, 1000)
    assert len(idx) == 1000 and (np.diff(idx) > 0).all() and idx.min() >= 0 and idx.max() < 1_000_000
    np.testing.assert_array_equal(idx // 1000, np.arange(1000))  # one per stride
    np.testing.assert_array_equal(idx, las_reader.stratified_indices(1_000_000, 1000))
    # Positions inside the stride are spread (not always its first record).
    assert np.std(idx % 1000) > 250
    odd = las_reader.stratified_indices(10, 3)
    assert len(odd) == 3 and (np.diff(odd) > 0).all() and odd.max() < 10
    assert len(las_reader.stratified_indices(5, 0)) == 0


def test_direct_budget_on_a_truncated_las(tmp_path):
    src = shared_file("lidar/Lyon_ExampleDataIsolatedTrees.las")
    data = src.read_bytes()
    cut = tmp_path / "cut.las"
    cut.write_bytes(data[: len(data) - 34 * 1000 - 5])  # 1,000 records and a bit missing
    pc = read(cut, LoadOptions(point_budget=500))
    ref = laspy.read(src)
    room = len(ref.points) - 1001
    assert pc.metadata["read_path"] == "direct records"
    assert pc.points_in_file == room and pc.n_points == 500
    codes, counts = np.unique(np.asarray(ref.classification)[:room], return_counts=True)
    assert pc.class_counts == {int(c): int(k) for c, k in zip(codes, counts, strict=True)}
    assert any("truncated" in w for w in pc.warnings)
