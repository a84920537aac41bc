"""Damaged LAS/LAZ files end in one sentence (ReaderError) or in points plus a warning, never a crash."""

from __future__ import annotations

import struct

import laspy
import numpy as np
import pytest

from citytwin.errors import ReaderError
from citytwin.io.registry import read
from citytwin.model.pointcloud import PointCloud
from tests.conftest import shared_file

# Offsets in the LAS public header block.
_VERSION = 24
_OFFSET_TO_POINTS = 96
_POINT_FORMAT = 104
_LEGACY_COUNT = 107


def _one_sentence(exc: ReaderError) -> None:
    text = str(exc)
    assert "\n" not in text and text.endswith(".") and "Traceback" not in text
    assert len(text) < 400


def _read_or_error(path):
    """Read; any failure must be a ReaderError with one sentence."""
    try:
        pc = read(path)
    except ReaderError as exc:
        _one_sentence(exc)
        return None
    assert isinstance(pc, PointCloud)
    return pc


@pytest.fixture(scope="module")
def las_bytes() -> bytes:
    return shared_file("lidar/simple.las").read_bytes()


@pytest.fixture(scope="module")
def laz_bytes() -> bytes:
    return shared_file("lidar/autzen_trim.laz").read_bytes()


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_empty_file(tmp_path):
    with pytest.raises(ReaderError, match="empty") as err:
        read(_write(tmp_path, "empty.las", b""))
    _one_sentence(err.value)


def test_signature_only(tmp_path):
    with pytest.raises(ReaderError) as err:
        read(_write(tmp_path, "sig.las", b"LASF"))
    _one_sentence(err.value)


def test_wrong_signature_in_las_file(tmp_path, las_bytes):
    data = bytearray(las_bytes)
    data[:4] = b"XXXX"
    with pytest.raises(ReaderError) as err:
        read(_write(tmp_path, "bad.las", bytes(data)))
    _one_sentence(err.value)


@pytest.mark.parametrize(
    ("offset", "value"),
    [(_VERSION, b"\x09\x09"), (_POINT_FORMAT, b"\x63"), (_OFFSET_TO_POINTS, b"\xff\xff\xff\x7f")],
    ids=["version", "point-format", "offset-to-points"],
)
def test_corrupt_header_fields(tmp_path, las_bytes, offset, value):
    data = bytearray(las_bytes)
    data[offset : offset + len(value)] = value
    with pytest.raises(ReaderError) as err:
        read(_write(tmp_path, "corrupt.las", bytes(data)))
    _one_sentence(err.value)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("source", ["las", "laz"])
def test_random_flipped_header_bytes_never_crash(tmp_path, las_bytes, laz_bytes, seed, source):
    data = np.frombuffer(las_bytes if source == "las" else laz_bytes, np.uint8).copy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(4, 375, size=12)  # keep the signature so the LAS reader is chosen
    data[idx] ^= rng.integers(1, 256, size=12, dtype=np.uint8)
    pc = _read_or_error(_write(tmp_path, f"flipped.{source}", data.tobytes()))
    if pc is not None:
        assert pc.n_points <= pc.points_in_file


def test_truncated_las_keeps_whole_points_and_warns(tmp_path, las_bytes):
    ref = laspy.read(shared_file("lidar/simple.las"))
    size = ref.point_format.size
    cut = len(las_bytes) - 100 * size - 7  # 100 points and a part of one more missing
    pc = read(_write(tmp_path, "trunc.las", las_bytes[:cut]))
    assert pc.n_points == pc.points_in_file == len(ref.points) - 101
    np.testing.assert_allclose(pc.xyz[:, 0], np.asarray(ref.x)[: pc.n_points])
    assert sum("truncated" in w for w in pc.warnings) == 1
    assert any(f"{len(ref.points):,}" in w for w in pc.warnings)


def test_las_with_header_promising_more_points_than_the_file(tmp_path, las_bytes):
    data = bytearray(las_bytes)
    data[_LEGACY_COUNT : _LEGACY_COUNT + 4] = struct.pack("<I", 10_000_000)
    pc = read(_write(tmp_path, "big.las", bytes(data)))
    assert pc.n_points == 1065
    assert any("10,000,000" in w and "1,065" in w for w in pc.warnings)


def test_las_with_header_promising_fewer_points_than_the_file(tmp_path, las_bytes):
    data = bytearray(las_bytes)
    data[_LEGACY_COUNT : _LEGACY_COUNT + 4] = struct.pack("<I", 500)
    pc = read(_write(tmp_path, "small.las", bytes(data)))
    assert pc.n_points == 500


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.97])
def test_truncated_laz(tmp_path, laz_bytes, fraction):
    pc = _read_or_error(_write(tmp_path, "trunc.laz", laz_bytes[: int(len(laz_bytes) * fraction)]))
    if pc is not None:
        assert pc.n_points < 110_000
        assert any("truncated" in w for w in pc.warnings)


def test_laz_with_header_promising_more_points(tmp_path, laz_bytes):
    data = bytearray(laz_bytes)
    data[_LEGACY_COUNT : _LEGACY_COUNT + 4] = struct.pack("<I", 10_000_000)
    _read_or_error(_write(tmp_path, "huge.laz", bytes(data)))


def test_truncated_laz_is_one_sentence(tmp_path, laz_bytes):
    # A truncated LAZ loses its chunk table (stored at the end): lazrs cannot start.
    with pytest.raises(ReaderError, match="damaged or truncated") as err:
        read(_write(tmp_path, "trunc.laz", laz_bytes[: int(len(laz_bytes) * 0.6)]))
    _one_sentence(err.value)


def test_laz_with_header_promising_more_points_keeps_what_it_read(tmp_path, laz_bytes):
    data = bytearray(laz_bytes)
    data[_LEGACY_COUNT : _LEGACY_COUNT + 4] = struct.pack("<I", 200_000)
    pc = read(_write(tmp_path, "big.laz", bytes(data)))
    assert 0 < pc.n_points <= 110_000 and pc.points_in_file == pc.n_points
    ref = laspy.read(shared_file("lidar/autzen_trim.laz"))
    np.testing.assert_allclose(pc.xyz[:, 2], np.asarray(ref.z)[: pc.n_points])
    assert any("damaged or truncated after" in w and "200,000" in w for w in pc.warnings)


def test_zeroed_laz_payload(tmp_path, laz_bytes):
    data = bytearray(laz_bytes)
    mid = len(data) // 2
    data[mid : mid + 5000] = bytes(5000)
    _read_or_error(_write(tmp_path, "zeroed.laz", bytes(data)))


def test_unknown_vlrs_are_ignored(tmp_path):
    src = laspy.read(shared_file("lidar/simple.las"))
    src.vlrs.append(laspy.VLR(user_id="citytwin-test", record_id=4242, description="?", record_data=b"\x00\xff" * 50))
    src.vlrs.append(laspy.VLR(user_id="", record_id=0, description="", record_data=b""))
    path = tmp_path / "vlrs.las"
    src.write(path)
    pc = read(path)
    assert pc.n_points == 1065 and pc.class_counts == {1: 789, 2: 276}


def test_file_without_points(tmp_path):
    header = laspy.LasHeader(point_format=3, version="1.2")
    path = tmp_path / "none.las"
    laspy.LasData(header).write(path)
    pc = read(path)
    assert pc.n_points == 0 and pc.points_in_file == 0
    assert pc.summary()["bounds"] is None and pc.summary()["classes"] == {}
    assert "The file holds no points." in pc.warnings
