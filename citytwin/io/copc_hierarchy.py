"""The COPC octree hierarchy, walked with every page and chunk checked against the file.

laspy's ``load_octree_for_query`` follows the hierarchy's page pointers as
they come: a page that points back at itself (or at the root) loops forever,
and a chunk size from a damaged entry becomes an allocation. :func:`walk`
reads each page once, refuses what a valid file cannot hold (a cycle, a page
outside the file or not a whole number of entries, more page bytes than the
file has, a chunk outside the point data, a point count below -1) and returns
the octree's nodes; :func:`decompress` decompresses the chosen nodes' points
with lazrs, after checking that their chunks fit in the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

#: One hierarchy entry: voxel key (level, x, y, z), offset, byte size, point count.
ENTRY = struct.Struct("<iiiiQii")
#: Deeper than any octree a file can need (2**64 cells a side); deeper keys are damage.
MAX_LEVEL = 64


class CopcHierarchyError(ValueError):
    """The hierarchy cannot be used; the message says why, as a clause for a sentence."""


@dataclass(frozen=True, slots=True)
class CopcNode:
    """One octree node with points: its voxel key and its LAZ chunk (laspy's ``OctreeNode`` fields)."""

    level: int
    x: int
    y: int
    z: int
    offset: int
    byte_size: int
    point_count: int


def root_page(info_data: bytes) -> tuple[int, int]:
    """``(offset, size)`` of the root hierarchy page, from the ``copc`` info VLR's data."""
    if len(info_data) < 56:
        raise CopcHierarchyError(f"its info record holds {len(info_data)} bytes, not 160")
    offset, size = struct.unpack_from("<QQ", info_data, 40)
    return offset, size


def walk(fh: BinaryIO, file_size: int, root_offset: int, root_size: int, data_start: int = 0) -> list[CopcNode]:
    """The octree's nodes with points, read page by page, each page once.

    Parameters
    ----------
    fh
        The file, open for binary reading.
    file_size
        Its size in bytes.
    root_offset, root_size
        Where the root hierarchy page lies.
    data_start
        Where the point data start: no chunk lies before.

    Raises
    ------
    CopcHierarchyError
        When the hierarchy cannot be what a valid file holds.
    """
    pending = [(root_offset, root_size)]
    seen: set[int] = set()
    page_bytes = 0
    nodes: dict[tuple[int, int, int, int], CopcNode] = {}
    while pending:
        offset, size = pending.pop()
        if offset in seen:
            raise CopcHierarchyError(f"its pages lead back to the page at byte {offset:,}, a cycle")
        seen.add(offset)
        if size < 0 or size % ENTRY.size:
            raise CopcHierarchyError(f"a page is {size:,} bytes, not a whole number of {ENTRY.size}-byte entries")
        if offset + size > file_size:
            raise CopcHierarchyError(f"a page at byte {offset:,} runs past the end of the file")
        page_bytes += size
        if page_bytes > file_size:
            raise CopcHierarchyError("it has more pages than the file could hold")
        fh.seek(offset)
        raw = fh.read(size)
        if len(raw) < size:
            raise CopcHierarchyError(f"a page at byte {offset:,} runs past the end of the file")
        for level, x, y, z, chunk, byte_size, count in ENTRY.iter_unpack(raw):
            if count == -1:
                pending.append((chunk, byte_size))
                continue
            if count < -1:
                raise CopcHierarchyError(f"a node declares {count:,} points")
            if not 0 <= level <= MAX_LEVEL:
                raise CopcHierarchyError(f"a node lies at octree level {level:,}")
            if count == 0:
                continue
            if byte_size <= 0:
                raise CopcHierarchyError(f"a node's {count:,} points take {byte_size:,} bytes")
            if chunk < data_start or chunk + byte_size > file_size:
                raise CopcHierarchyError(
                    f"a node's {byte_size:,} bytes of points at byte {chunk:,} lie outside the file"
                )
            key = (level, x, y, z)
            if key in nodes:
                raise CopcHierarchyError(f"it lists the node {level}-{x}-{y}-{z} twice")
            nodes[key] = CopcNode(level, x, y, z, chunk, byte_size, count)
    return list(nodes.values())


def level_counts(nodes: list[CopcNode]) -> list[int]:
    """Points in each octree level (index = level)."""
    counts = [0] * (max((n.level for n in nodes), default=-1) + 1)
    for node in nodes:
        counts[node.level] += node.point_count
    return counts


def decompress(
    fh: BinaryIO, file_size: int, nodes: list[CopcNode], laszip_vlr_data: bytes, record_length: int
) -> np.ndarray:
    """The point records of ``nodes`` as bytes (``points × record_length``), decompressed by lazrs.

    The caller bounds the nodes' point count; their chunks together must fit in the file.

    Raises
    ------
    CopcHierarchyError
        When the chunks overlap (together more bytes than the file).
    Exception
        Whatever lazrs raises on damaged chunks.
    """
    import lazrs

    nodes = sorted(nodes, key=lambda n: n.offset)
    compressed_size = sum(n.byte_size for n in nodes)
    if compressed_size > file_size:
        raise CopcHierarchyError("its nodes' points overlap")
    compressed = np.empty(compressed_size, np.uint8)
    at = 0
    for node in nodes:  # sorted: contiguous chunks are read in one go by the buffered file
        fh.seek(node.offset)
        view = compressed[at : at + node.byte_size]
        if (fh.readinto(memoryview(view)) or 0) < node.byte_size:
            raise CopcHierarchyError(f"a node's points at byte {node.offset:,} run past the end of the file")
        at += node.byte_size
    out = np.zeros(sum(n.point_count for n in nodes) * record_length, np.uint8)
    table = [(n.point_count, n.byte_size) for n in nodes]
    lazrs.decompress_points_with_chunk_table(compressed, laszip_vlr_data, out, table)
    return out
