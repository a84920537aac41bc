"""Hostile LAS/LAZ/COPC files never hang and never exhaust memory.

Every count a header or an index declares is checked against the file's size
before it drives a loop or an allocation: each damaged file below ends, fast,
in one sentence (ReaderError) or in its readable part with a warning. The
files are built in ``tmp_path`` from the shared data at test time.
"""

from __future__ import annotations

import itertools
import json
import struct
import subprocess
import sys
import time
import tracemalloc

import laspy
import numpy as np
import pytest

from citytwin.errors import ReaderError
from citytwin.io import copc_hierarchy
from citytwin.io import las as las_reader
from citytwin.io.options import LoadOptions
from citytwin.io.registry import read
from citytwin.model.pointcloud import PointCloud
from tests.conftest import ROOT, shared_file

#: Every read of a hostile file ends within this many seconds.
FAST_S = 5.0
#: Offsets in the LAS public header block.
_HEADER_SIZE = 94
_OFFSET_TO_POINTS = 96
_VLR_COUNT = 100
_POINT_FORMAT = 104
_RECORD_LENGTH = 105
_LEGACY_COUNT = 107
_SCALES = 131
_OFFSETS = 155
_EVLR_START = 235
_EVLR_COUNT = 243
_COUNT_14 = 247
_ENTRY = struct.Struct("<iiiiQii")  # one COPC hierarchy entry


def _data(name: str) -> bytearray:
    return bytearray(shared_file(f"lidar/{name}").read_bytes())


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def _outcome(path, budget: int | None = None) -> PointCloud | ReaderError:
    """Read; the result is a cloud or one sentence, and it comes fast."""
    t0 = time.perf_counter()
    try:
        result: PointCloud | ReaderError = read(path, LoadOptions(point_budget=budget) if budget else None)
    except ReaderError as exc:
        text = str(exc)
        assert "\n" not in text and text.endswith(".") and len(text) < 400, text
        result = exc
    elapsed = time.perf_counter() - t0
    assert elapsed < FAST_S, f"{path.name} took {elapsed:.1f} s"
    if isinstance(result, PointCloud):
        assert result.n_points <= result.points_in_file
    return result


def _cloud(path, budget: int | None = None) -> PointCloud:
    result = _outcome(path, budget)
    assert isinstance(result, PointCloud), str(result)
    return result


def _sentence(path, budget: int | None = None) -> str:
    result = _outcome(path, budget)
    assert isinstance(result, ReaderError), f"read {result.n_points} points; warnings {result.warnings}"
    return result.reason


def _vlrs(data: bytes) -> list[tuple[str, int, int, int]]:
    """``(user id, record id, data offset, data length)`` of each VLR."""
    pos = struct.unpack_from("<H", data, _HEADER_SIZE)[0]
    out = []
    for _ in range(struct.unpack_from("<I", data, _VLR_COUNT)[0]):
        user, record, length = struct.unpack_from("<16sHH", data, pos + 2)
        out.append((user.split(b"\0")[0].decode(), record, pos + 54, length))
        pos += 54 + length
    return out


def _vlr(data: bytes, user: str, record: int) -> tuple[int, int]:
    return next((offset, length) for u, r, offset, length in _vlrs(data) if (u, r) == (user, record))


def _copc_root(data: bytes) -> tuple[int, int]:
    info, _ = _vlr(data, "copc", 1)
    return struct.unpack_from("<QQ", data, info + 40)


def _cycle(data: bytearray) -> bytearray:
    """Every entry of the root hierarchy page but the root's own points to the root page again."""
    root, size = _copc_root(data)
    for i in range(1, size // _ENTRY.size):
        struct.pack_into("<Qii", data, root + _ENTRY.size * i + 16, root, size, -1)
    return data


# 1. Record counts the file cannot hold.


def test_las_declaring_2_32_vlrs_reads_its_points_with_a_warning(tmp_path):
    data = _data("simple.las")
    struct.pack_into("<I", data, _VLR_COUNT, 2**32 - 1)
    pc = _cloud(_write(tmp_path, "vlrs.las", data))
    assert pc.n_points == 1065 and pc.class_counts == {1: 789, 2: 276}
    assert (
        "The header declares 4,294,967,295 variable-length records but none fits before the point data; "
        "they were ignored." in pc.warnings
    )


@pytest.mark.parametrize("budget", [None, 100_000], ids=["all", "over-budget"])
def test_copc_declaring_2_32_vlrs_reads_its_points_with_a_warning(tmp_path, budget):
    data = _data("lone-star.copc.laz")
    struct.pack_into("<I", data, _VLR_COUNT, 2**32 - 1)
    pc = _cloud(_write(tmp_path, "vlrs.copc.laz", data), budget)
    assert pc.format == "COPC" and pc.points_in_file == 518_862
    assert pc.crs.epsg == 4978  # the four real VLRs were read, the CRS among them
    assert pc.n_points == (518_862 if budget is None else 58_393)
    assert (
        "The header declares 4,294,967,295 variable-length records but only 4 fit before the point data; "
        "the rest were ignored." in pc.warnings
    )


def test_vlr_running_past_the_point_data_is_ignored(tmp_path):
    data = _data("test1_4.las")
    (_, _, second, _) = _vlrs(data)[1]
    struct.pack_into("<H", data, second - 34, 65_535)  # its record length
    pc = _cloud(_write(tmp_path, "longvlr.las", data))
    assert pc.n_points == 1000
    assert (
        "The header declares 2 variable-length records but only 1 fits before the point data; the rest were ignored."
        in pc.warnings
    )


def _evlr_count(data, _start):
    struct.pack_into("<I", data, _EVLR_COUNT, 2**32 - 1)


def _evlr_past_end(data, _start):
    struct.pack_into("<Q", data, _EVLR_START, 2**64 - 1)


def _evlr_in_header(data, _start):
    struct.pack_into("<Q", data, _EVLR_START, 100)


def _evlr_length(data, start):
    struct.pack_into("<Q", data, start + 20, 2**64 - 1)


@pytest.mark.parametrize(
    ("damage", "warning"),
    [
        (
            _evlr_count,
            "The header declares 4,294,967,295 extended variable-length records but only 1 fits in the file; "
            "the rest were ignored.",
        ),
        (
            _evlr_past_end,
            "The header places its 1 extended variable-length record at byte 18,446,744,073,709,551,615, "
            "outside the file's 2,705,193 bytes; it was ignored.",
        ),
        (
            _evlr_in_header,
            "The header places its 1 extended variable-length record at byte 100, before the point data; "
            "it was ignored.",
        ),
        (
            _evlr_length,
            "The header declares 1 extended variable-length record but none fits in the file; it was ignored.",
        ),
    ],
    ids=["count", "start-past-end", "start-in-header", "length"],
)
def test_evlrs_the_file_cannot_hold_are_ignored(tmp_path, damage, warning):
    data = _data("lone-star.copc.laz")
    damage(data, struct.unpack_from("<Q", data, _EVLR_START)[0])
    pc = _cloud(_write(tmp_path, "evlrs.copc.laz", data))
    assert pc.n_points == pc.points_in_file == 518_862
    assert warning in pc.warnings


# 2. A damaged COPC hierarchy.


def test_copc_hierarchy_cycle_falls_back_to_file_order(tmp_path):
    path = _write(tmp_path, "cycle.copc.laz", _cycle(_data("lone-star.copc.laz")))
    root, _ = _copc_root(path.read_bytes())
    pc = _cloud(path, 100_000)
    assert pc.n_points == 100_000 and pc.points_in_file == 518_862
    assert pc.metadata["read_path"] == "laspy chunks" and pc.class_counts_complete
    assert (
        f"The COPC hierarchy is damaged (its pages lead back to the page at byte {root:,}, a cycle); "
        "the points were read in file order instead." in pc.warnings
    )
    with laspy.CopcReader.open(path) as reader, pytest.raises(ReaderError, match="a cycle"):
        las_reader.copc_level_counts(reader)


def _entry(data, index: int, **fields) -> None:
    """Rewrite fields of entry ``index`` of the root hierarchy page."""
    root, _ = _copc_root(data)
    at = root + _ENTRY.size * index
    names = ("level", "x", "y", "z", "offset", "byte_size", "point_count")
    values = dict(zip(names, _ENTRY.unpack_from(data, at), strict=True)) | fields
    _ENTRY.pack_into(data, at, *(values[n] for n in names))


def _page_size(data):
    _entry(data, 1, offset=1000, byte_size=33, point_count=-1)


def _page_past_end(data):
    _entry(data, 1, offset=len(data) + 64, byte_size=32, point_count=-1)


def _page_is_whole_file(data):
    _entry(data, 1, offset=0, byte_size=len(data) // 32 * 32, point_count=-1)


def _negative_count(data):
    _entry(data, 1, point_count=-7)


def _chunk_past_end(data):
    _entry(data, 1, offset=len(data) - 10, byte_size=1000)


def _deep_level(data):
    _entry(data, 1, level=1000)


def _duplicate_key(data):
    root, _ = _copc_root(data)
    data[root + 64 : root + 80] = data[root + 32 : root + 48]


def _huge_root(data):
    _entry(data, 0, point_count=2**31 - 1)


def _damaged_layers(data):
    root, _ = _copc_root(data)
    node_offset = _ENTRY.unpack_from(data, root + _ENTRY.size)[4]
    struct.pack_into("<I", data, node_offset + 30 + 4, 2**31)  # the first layer's size, after the whole first point


@pytest.mark.parametrize(
    ("damage", "warning"),
    [
        (_page_size, "The COPC hierarchy is damaged (a page is 33 bytes, not a whole number of 32-byte entries)"),
        (_page_past_end, "The COPC hierarchy is damaged (a page at byte 2,705,257 runs past the end of the file)"),
        (_page_is_whole_file, "The COPC hierarchy is damaged (it has more pages than the file could hold)"),
        (_negative_count, "The COPC hierarchy is damaged (a node declares -7 points)"),
        (
            _chunk_past_end,
            "The COPC hierarchy is damaged (a node's 1,000 bytes of points at byte 2,705,183 lie outside the file)",
        ),
        (_deep_level, "The COPC hierarchy is damaged (a node lies at octree level 1,000)"),
        (_duplicate_key, "The COPC hierarchy is damaged (it lists the node 1-0-0-0 twice)"),
        (_huge_root, "The COPC hierarchy holds 2,147,944,116 points but the file 518,862"),
        (
            _damaged_layers,
            "The points of COPC node 1-0-0-0 are damaged (its layers add up to more bytes than it holds)",
        ),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_damaged_copc_hierarchy_falls_back_to_file_order(tmp_path, damage, warning):
    data = _data("lone-star.copc.laz")
    damage(data)
    pc = _cloud(_write(tmp_path, "damaged.copc.laz", data), 200_000)
    # Damaged points end the file-order read at their chunk (the eleventh in the file).
    assert pc.n_points == 200_000 and pc.points_in_file == (413_262 if damage is _damaged_layers else 518_862)
    assert pc.metadata["read_path"] == "laspy chunks"
    assert any(w.startswith(warning) and w.endswith("the points were read in file order instead.") for w in pc.warnings)


def test_copc_root_level_larger_than_memory_allows_falls_back_to_file_order(tmp_path, monkeypatch):
    monkeypatch.setattr(las_reader, "KEPT_BYTES", 2**20)  # less than the root level's 58,393 × 30 bytes
    monkeypatch.setattr(las_reader, "KEPT_PER_FILE_BYTE", 0)
    pc = _cloud(shared_file("lidar/lone-star.copc.laz"), 1000)
    assert pc.n_points == 1000 and pc.metadata["read_path"] == "laspy chunks"
    assert (
        "The COPC octree's root level declares 58,393 points, more than memory allows; "
        "the points were read in file order instead." in pc.warnings
    )


def test_copc_nodes_whose_chunks_overlap_are_refused(tmp_path):
    path = shared_file("lidar/lone-star.copc.laz")
    data = path.read_bytes()
    root, size = _copc_root(data)
    with open(path, "rb") as fh:
        nodes = copc_hierarchy.walk(fh, len(data), root, size, data_start=1260)
        laszip, length = _vlr(data, "laszip encoded", 22204)
        same = [nodes[0]] * 8  # eight nodes claiming the same 431 kB chunk: more bytes than the file
        with pytest.raises(copc_hierarchy.CopcHierarchyError, match="overlap"):
            copc_hierarchy.decompress(fh, len(data), same, data[laszip : laszip + length], 30)


def test_copc_with_damaged_chunk_table_is_read_through_its_hierarchy(tmp_path):
    data = _data("lone-star.copc.laz")
    struct.pack_into("<q", data, 1260, -1)  # the chunk table's offset: "never written"
    pc = _cloud(_write(tmp_path, "notable.copc.laz", data))
    assert pc.n_points == pc.points_in_file == 518_862 and pc.class_counts_complete
    assert pc.metadata["read_path"] == "COPC levels"
    assert (
        "The LAZ file has no chunk table (its writer did not finish it); "
        "the points were read through the COPC hierarchy instead." in pc.warnings
    )


@pytest.mark.parametrize("budget", [None, 100_000], ids=["all", "over-budget"])
def test_copc_declaring_2_64_points_is_bounded_by_its_chunk_table(tmp_path, budget):
    data = _data("lone-star.copc.laz")
    struct.pack_into("<Q", data, _COUNT_14, 2**64 - 1)
    pc = _cloud(_write(tmp_path, "count.copc.laz", data), budget)
    assert pc.points_in_file == 518_862 and pc.n_points == (518_862 if budget is None else 58_393)
    assert (
        "The header declares 18,446,744,073,709,551,615 points but the LAZ chunk table has room for at most 518,862."
        in pc.warnings
    )


def test_copc_declaring_2_64_points_without_a_chunk_table_is_bounded_by_its_hierarchy(tmp_path):
    data = _data("lone-star.copc.laz")
    struct.pack_into("<Q", data, _COUNT_14, 2**64 - 1)
    struct.pack_into("<q", data, 1260, -1)
    pc = _cloud(_write(tmp_path, "count.copc.laz", data))
    assert pc.n_points == pc.points_in_file == 518_862
    assert (
        "The header declares 18,446,744,073,709,551,615 points but the COPC hierarchy holds only 518,862."
        in pc.warnings
    )


def test_copc_hierarchy_disagreeing_with_the_file_falls_back_to_file_order(tmp_path):
    data = _data("lone-star.copc.laz")
    _entry(data, 1, point_count=0)  # a level-1 node of 32,909 points lost
    pc = _cloud(_write(tmp_path, "lost.copc.laz", data), 100_000)
    assert pc.n_points == 100_000 and pc.points_in_file == 518_862
    assert (
        "The COPC hierarchy holds 485,953 points but the file 518,862; the points were read in file order instead."
        in pc.warnings
    )


# 3. Allocations from declared sizes.


def test_laz_chunk_table_declaring_2_32_chunks_is_one_sentence(tmp_path):
    # lazrs used to abort the whole process allocating 64 GB for this table.
    data = _data("autzen_trim.laz")
    table = struct.unpack_from("<q", data, 2144)[0]
    struct.pack_into("<I", data, table + 4, 2**32 - 1)
    assert _sentence(_write(tmp_path, "chunks.laz", data)) == (
        "The LAZ chunk table is damaged (it declares 4,294,967,295 chunks for 601,181 bytes of point data)."
    )


def test_laz_chunk_size_too_large_to_decompress_is_one_sentence(tmp_path):
    # lazrs used to abort the whole process allocating a 287 GB chunk buffer.
    data = _data("fullwave.laz")
    laszip, _ = _vlr(data, "laszip encoded", 22204)
    struct.pack_into("<I", data, laszip + 12, 2**32 - 2)
    assert _sentence(_write(tmp_path, "chunk.laz", data)) == (
        "The LAZ file cannot be read: its chunks of 4,294,967,294 points of 67 bytes would each take "
        "274,432 MB of memory to decompress."
    )


def test_laz_compression_record_disagreeing_with_the_header_is_one_sentence(tmp_path):
    data = _data("autzen_trim.laz")
    laszip, _ = _vlr(data, "laszip encoded", 22204)
    struct.pack_into("<H", data, laszip + 34 + 2, 65_535)  # the first item's size
    assert _sentence(_write(tmp_path, "items.laz", data)) == (
        "The LAZ compression record describes 65,549-byte points but the header 34-byte ones."
    )


def _first_layer_size_at(data: bytes, chunk: int) -> int:
    """Where the first layer size of LAZ chunk ``chunk`` (point formats 6-10) lies."""
    otp = struct.unpack_from("<I", data, _OFFSET_TO_POINTS)[0]
    record = struct.unpack_from("<H", data, _RECORD_LENGTH)[0]
    laszip, _ = _vlr(data, "laszip encoded", 22204)
    layers = 9 + sum(
        {11: 1, 12: 2, 13: 1, 14: size}.get(kind, 0)
        for kind, size, _ in struct.iter_unpack("<HHH", data[laszip + 34 : laszip + 34 + 6 * data[laszip + 32]])
    )
    at = otp + 8
    for _ in range(chunk):
        at += record + 4 + 4 * layers + sum(struct.unpack_from(f"<{layers}I", data, at + record + 4))
    return at + record + 4


def test_laz_chunk_with_damaged_layer_sizes_is_one_sentence(tmp_path):
    data = _data("fullwave.laz")
    struct.pack_into("<I", data, _first_layer_size_at(data, 0), 2**31)
    assert _sentence(_write(tmp_path, "layers.laz", data)) == (
        "The point data is damaged (chunk 1 of 1: its layers add up to more bytes than it holds)."
    )


def test_laz_chunk_with_damaged_layer_sizes_keeps_the_chunks_before(tmp_path):
    data = _data("lone-star.copc.laz")
    struct.pack_into("<I", data, _first_layer_size_at(data, 1), 2**31)
    pc = _cloud(_write(tmp_path, "layers.copc.laz", data))
    ref = laspy.read(shared_file("lidar/lone-star.copc.laz"))
    assert pc.n_points == pc.points_in_file == 212  # the first chunk
    np.testing.assert_array_equal(pc.records.records["X"], np.asarray(ref.X)[:212])
    assert (
        "The point data is damaged (chunk 2 of 15: its layers add up to more bytes than it holds); "
        "the first 212 of 518,862 points were read, the remaining 518,650 were skipped." in pc.warnings
    )


def test_laz_declaring_more_points_than_it_holds_is_sized_by_the_file(tmp_path):
    data = _data("autzen_trim.laz")
    struct.pack_into("<I", data, _LEGACY_COUNT, 4_000_000)  # within the point budget: one array for all
    path = _write(tmp_path, "count.laz", data)
    tracemalloc.start()
    try:
        # lazrs fails the first call (over 150,000 points, more than the three chunks hold) as a whole.
        assert _sentence(path) == (
            "The point data is damaged or truncated and cannot be read (IoError: failed to fill whole buffer)."
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20  # not 4,000,000 × 34 bytes (136 MB) up front


def test_laz_declaring_2_32_points_over_budget_is_bounded_by_its_chunk_table(tmp_path):
    data = _data("autzen_trim.laz")
    struct.pack_into("<I", data, _LEGACY_COUNT, 2**32 - 1)
    pc = _cloud(_write(tmp_path, "count.laz", data))
    assert pc.n_points == pc.points_in_file == 100_000  # two whole chunks; lazrs fails in the third
    assert "The header declares 4,294,967,295 points but the LAZ chunk table has room for at most 150,000." in (
        pc.warnings
    )


@pytest.fixture(scope="module")
def wide_laz(tmp_path_factory):
    """A LAZ file of 300 identical points of 20,020 bytes each (extra bytes), in chunks of 50,000 points."""
    header = laspy.LasHeader(point_format=0, version="1.2")
    header.add_extra_dim(laspy.ExtraBytesParams(name="blob", type="20000u1"))
    las = laspy.LasData(header)
    las.X = np.arange(300, dtype=np.int32)
    las.Y = las.Z = np.zeros(300, np.int32)
    path = tmp_path_factory.mktemp("wide") / "wide.laz"
    las.write(path)
    return path


def test_laz_chunks_of_huge_records_are_one_sentence(wide_laz):
    # lazrs allocates a whole chunk's records (50,000 × 20,020 bytes) to decompress any of it.
    assert _sentence(wide_laz) == (
        "The LAZ file cannot be read: its chunks of 50,000 points of 20,020 bytes would each take "
        "955 MB of memory to decompress."
    )


def test_huge_records_are_kept_within_memory(tmp_path, wide_laz, monkeypatch):
    data = bytearray(wide_laz.read_bytes())
    laszip, _ = _vlr(data, "laszip encoded", 22204)
    struct.pack_into("<I", data, laszip + 12, 300)  # one chunk of its 300 points: the same compressed data
    path = _write(tmp_path, "wide.laz", data)
    assert _cloud(path).n_points == 300
    monkeypatch.setattr(las_reader, "KEPT_BYTES", 2**21)
    monkeypatch.setattr(las_reader, "KEPT_PER_FILE_BYTE", 0)
    pc = _cloud(path)
    most = 2**21 // 20_020
    assert pc.n_points == most < 300 and pc.points_in_file == 300
    assert (
        f"The point records are 20,020 bytes each, so at most {most:,} points were kept to bound memory." in pc.warnings
    )


# 4. Scales and offsets no coordinate can be computed with.


@pytest.mark.parametrize(
    ("offset", "value", "axes"),
    [(_SCALES, float("nan"), "x"), (_OFFSETS + 16, float("inf"), "z"), (_SCALES + 8, float("-inf"), "y")],
    ids=["x-scale-nan", "z-offset-inf", "y-scale-inf"],
)
def test_non_finite_scale_or_offset_is_one_sentence(tmp_path, offset, value, axes):
    data = _data("simple.las")
    struct.pack_into("<d", data, offset, value)
    assert _sentence(_write(tmp_path, "scale.las", data)) == (
        f"The header's {axes} scale or offset is not a finite number, so no point coordinate can be computed."
    )


def test_zero_scale_warns(tmp_path):
    data = _data("simple.las")
    struct.pack_into("<d", data, _SCALES + 8, 0.0)
    pc = _cloud(_write(tmp_path, "scale.las", data))
    assert pc.n_points == 1065 and (pc.xyz[:, 1] == pc.xyz[0, 1]).all()
    assert "The header's y scale is 0, so every point has the same y coordinate (the header is damaged)." in (
        pc.warnings
    )


# 5. The point fields of the header set to 0, their largest value and past the end of the file, in every
# combination.

_FILES = ["simple.las", "test1_4.las", "1.0_0.las", "autzen_trim.laz", "lone-star.copc.laz", "Megaplot.laz"]


def _field_values(data: bytes) -> dict[str, list]:
    size = len(data)
    record = struct.unpack_from("<H", data, _RECORD_LENGTH)[0]
    return {
        "count": [0, "max", size // record + 1],
        "offset": [0, 2**32 - 1, size + 1],
        "format": [0, 255, data[_POINT_FORMAT] ^ 0x80],  # the last: compression bit flipped
        "record": [0, 65_535, min(size, 65_535) // 2],
    }


def _set_field(data: bytearray, field: str, value) -> None:
    if field == "count":
        struct.pack_into("<I", data, _LEGACY_COUNT, 2**32 - 1 if value == "max" else value)
        if data[25] >= 4:
            struct.pack_into("<Q", data, _COUNT_14, 2**64 - 1 if value == "max" else value)
    elif field == "offset":
        struct.pack_into("<I", data, _OFFSET_TO_POINTS, value)
    elif field == "format":
        data[_POINT_FORMAT] = value
    else:
        struct.pack_into("<H", data, _RECORD_LENGTH, value)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", _FILES)
def test_header_point_fields_in_every_combination_end_properly(tmp_path, name):
    source = _data(name)
    values = _field_values(source)
    path = tmp_path / f"fields{''.join(shared_file('lidar/' + name).suffixes)}"
    budget = 100_000 if name.endswith(".copc.laz") else None  # COPC: the hierarchy's walk too
    for combination in itertools.product(*([None, *v] for v in values.values())):
        data = bytearray(source)
        for field, value in zip(values, combination, strict=True):
            if value is not None:
                _set_field(data, field, value)
        path.write_bytes(bytes(data))
        _outcome(path, budget)


# The three files of the issue, in a fresh process: fast, and in memory proportional to the file.

_CHILD = """
import json, resource, sys, time
from citytwin.errors import ReaderError
from citytwin.io.registry import read
from citytwin.io.options import LoadOptions
out = {}
for path, budget in json.loads(sys.argv[1]):
    t0 = time.perf_counter()
    try:
        pc = read(path, LoadOptions(point_budget=budget))
        result = [pc.n_points, pc.warnings]
    except ReaderError as exc:
        result = str(exc)
    out[path] = [time.perf_counter() - t0, result]
# the peak of this process's own memory: VmHWM starts afresh at exec, while ru_maxrss keeps the
# parent's size at fork (a large pytest process would count as this child's memory)
try:
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["maxrss_kb"] = peak
print(json.dumps(out))
"""


def test_issue_files_finish_fast_in_little_memory(tmp_path):
    vlrs_las = _data("simple.las")
    struct.pack_into("<I", vlrs_las, _VLR_COUNT, 2**32 - 1)
    vlrs_copc = _data("lone-star.copc.laz")
    struct.pack_into("<I", vlrs_copc, _VLR_COUNT, 2**32 - 1)
    cases = [
        (str(_write(tmp_path, "vlrs.las", vlrs_las)), 5_000_000),
        (str(_write(tmp_path, "vlrs.copc.laz", vlrs_copc)), 5_000_000),
        (str(_write(tmp_path, "cycle.copc.laz", _cycle(_data("lone-star.copc.laz")))), 100_000),
    ]
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(cases)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 0, child.stderr[-2000:]
    out = json.loads(child.stdout)
    for path, _ in cases:
        seconds, result = out[path]
        assert seconds < FAST_S and isinstance(result, list) and result[0] > 0, (path, seconds, result)
    assert out["maxrss_kb"] * 1024 < 2**30 + 10 * len(vlrs_copc)
