"""Undecoded LAS records decoded on demand, checked against laspy's own decoding of real files."""

from __future__ import annotations

import laspy
import numpy as np
import pytest

from citytwin.io.options import LoadOptions
from citytwin.io.registry import read
from citytwin.model.crs import CRS
from citytwin.model.point_records import FieldSpec, PointRecords
from citytwin.model.pointcloud import CLASSIFICATION_PALETTE, PointCloud
from tests.conftest import shared_file
from tests.io.test_las import LIDAR_FILES

#: Every LAS/LAZ/COPC file of the shared data (point formats 0–8, LAS 1.0–1.4, 8- and 16-bit colour).
FILES = sorted(LIDAR_FILES)
ATTRIBUTES = ("classification", "intensity", "return_number", "number_of_returns", "gps_time")


@pytest.fixture(scope="module", params=FILES)
def pair(request):
    path = shared_file(f"lidar/{request.param}")
    return read(path, LoadOptions(point_budget=10**8)), laspy.read(path)


def test_read_keeps_the_records_as_laspy_reads_them(pair):
    cloud, las = pair
    assert cloud.records is not None
    np.testing.assert_array_equal(cloud.records.records, las.points.array)


def test_attributes_decode_as_laspy_decodes_them(pair):
    cloud, las = pair
    np.testing.assert_array_equal(cloud.xyz, np.column_stack([las.x, las.y, las.z]))
    dims = set(las.point_format.dimension_names)
    for name in ATTRIBUTES:
        if name not in dims:
            assert getattr(cloud, name) is None and not cloud.has(name)
            continue
        got = getattr(cloud, name)
        np.testing.assert_array_equal(got, np.asarray(las[name]), err_msg=name)
    if {"red", "green", "blue"} <= dims:
        rgb = np.column_stack([las.red, las.green, las.blue])
        expected = rgb >> 8 if rgb.max() > 255 else rgb
        np.testing.assert_array_equal(cloud.rgb, expected.astype(np.uint8))
    else:
        assert cloud.rgb is None and not cloud.has_rgb


def test_local_points_equal_the_float64_difference_rounded_once(pair):
    cloud, las = pair
    xyz = np.column_stack([las.x, las.y, las.z])
    origin = np.floor(xyz.mean(axis=0)) + 0.25
    local = PointCloud(records=cloud.records).local_points(origin)
    assert local.dtype == np.float32 and local.flags.c_contiguous
    np.testing.assert_array_equal(local, (xyz - origin).astype(np.float32))
    # The same from given float64 coordinates (a reprojected cloud draws that way).
    np.testing.assert_array_equal(PointCloud(xyz=xyz).local_points(origin), local)


def test_single_points_and_subsets_decode_exactly(pair):
    cloud, las = pair
    fresh = PointCloud(records=cloud.records)
    n = len(fresh)
    picks = np.unique(np.linspace(0, n - 1, 7).astype(int))
    xyz = np.column_stack([las.x, las.y, las.z])
    for i in picks:
        assert tuple(fresh.point(int(i))) == tuple(xyz[i])
    np.testing.assert_array_equal(fresh.points_xyz(picks), xyz[picks])
    sub = cloud.records.subset(picks)
    assert len(sub) == len(picks)
    if sub.has("intensity"):
        np.testing.assert_array_equal(sub.attribute("intensity"), np.asarray(las.intensity)[picks])


def test_a_cloud_decodes_only_what_is_asked_for(monkeypatch):
    """Drawing a cloud by class decodes the class codes and nothing else (no float64 copy of the points)."""
    decoded: list[str] = []
    original_attribute, original_xyz = PointRecords.attribute, PointRecords.xyz

    def attribute(self, name, index=None):
        decoded.append(name)
        return original_attribute(self, name, index)

    def xyz(self, index=None):
        decoded.append("xyz" if index is None else "xyz subset")
        return original_xyz(self, index)

    monkeypatch.setattr(PointRecords, "attribute", attribute)
    monkeypatch.setattr(PointRecords, "xyz", xyz)
    cloud = read(shared_file("lidar/ahn3_cropped_1.laz"))
    assert decoded == [] and sum(cloud.class_counts.values()) == 640_510  # counted from the records as read
    cloud.local_points(np.floor(cloud.bounds[:3]))
    colours = cloud.classification_colours()  # looked up from the raw class byte
    assert decoded == []
    np.testing.assert_array_equal(colours, CLASSIFICATION_PALETTE[cloud.classification])
    cloud.classification_colours()
    cloud.class_mask({6})
    assert decoded == ["classification"]  # once, then kept
    cloud.point(5)
    assert decoded == ["classification", "xyz subset"]
    decoded.clear()
    subset = read(shared_file("lidar/ahn3_cropped_1.laz"), LoadOptions(point_budget=50_000))
    assert decoded == [] and subset.class_counts == cloud.class_counts


def test_reprojected_cloud_shares_the_attributes():
    cloud = read(shared_file("lidar/Lyon_ExampleDataIsolatedTrees.las"))  # EPSG:3946
    other = cloud.in_crs(CRS.parse("EPSG:2154"))
    assert other is not cloud and other.crs.epsg == 2154 and cloud.crs.epsg == 3946
    assert np.abs(other.xyz[:, :2] - cloud.xyz[:, :2]).max() > 1000  # really moved
    np.testing.assert_array_equal(other.xyz[:, 2], cloud.xyz[:, 2])
    assert other.classification is cloud.classification
    # Drawn from the reprojected coordinates, not from the records.
    origin = np.floor(other.xyz.min(axis=0))
    np.testing.assert_array_equal(other.local_points(origin), (other.xyz - origin).astype(np.float32))


def test_records_validate_their_fields():
    rec = np.zeros(3, [("X", "<i4"), ("Y", "<i4"), ("Z", "<i4"), ("flags", "u1")])
    with pytest.raises(ValueError, match="no field intensity"):
        PointRecords(rec, np.ones(3), np.zeros(3), {"intensity": FieldSpec("intensity")})
    with pytest.raises(ValueError, match="no field blue, green, red"):
        PointRecords(rec, np.ones(3), np.zeros(3), rgb=("red", "green", "blue"))
    rec["flags"] = [0b0001_0011, 0b0010_0001, 0b0111_0111]
    ok = PointRecords(rec, np.ones(3), np.zeros(3), {"return_number": FieldSpec("flags", 0x07, 0),
                                                     "number_of_returns": FieldSpec("flags", 0x38, 3)})  # fmt: skip
    np.testing.assert_array_equal(ok.attribute("return_number"), [3, 1, 7])
    np.testing.assert_array_equal(ok.attribute("number_of_returns"), [2, 4, 6])
    with pytest.raises(ValueError, match="records hold 3 points for 2"):
        PointCloud(xyz=np.zeros((2, 3)), records=ok)
    with pytest.raises(ValueError, match="needs xyz or records"):
        PointCloud()


def test_lookup_folds_the_mask_into_the_table():
    """Class flags (synthetic, key-point, withheld) share the class byte in formats 0–5: a lookup ignores them."""
    rec = np.zeros(4, [("X", "<i4"), ("Y", "<i4"), ("Z", "<i4"), ("raw_classification", "u1")])
    rec["raw_classification"] = [2, 2 | 0x80, 6 | 0x20, 31 | 0xE0]
    records = PointRecords(rec, np.ones(3), np.zeros(3), {"classification": FieldSpec("raw_classification", 0x1F)})
    table = np.arange(256, dtype=np.int64) * 10
    np.testing.assert_array_equal(records.lookup("classification", table), [20, 20, 60, 310])
    cloud = PointCloud(records=records)
    np.testing.assert_array_equal(cloud.classification_colours(), CLASSIFICATION_PALETTE[[2, 2, 6, 31]])
    assert cloud.class_counts == {2: 2, 6: 1, 31: 1}
