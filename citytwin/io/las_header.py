"""The LAS public header and the LAZ chunk index, checked against the file's size before laspy and lazrs read them.

laspy and lazrs trust every count a file declares: a header declaring 2**32 - 1
variable-length records makes laspy loop for minutes, an extended record whose
length runs past the end of the file makes it allocate that length, and lazrs
aborts the whole process when a LAZ chunk table, chunk size or layer size asks
for more memory than there is. :func:`inspect` parses the fixed header with
:mod:`struct` (one small read), walks the record headers within the bytes that
can hold them and checks the LAZ chunk table, and returns the layout with the
counts the file can actually hold. When a declared count is more than that,
:meth:`LasLayout.open` hands laspy a file object that shows the corrected count
in place of the declared one (the readable part is read, with a warning); what
cannot be read at all ends in one sentence (:class:`~citytwin.errors.ReaderError`).
"""

from __future__ import annotations

import io
import math
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from citytwin.errors import ReaderError

#: Bytes read up front: the largest public header (LAS 1.4: 375 bytes) and the usual records after it.
HEAD_BYTES = 16_384
VLR_HEADER_SIZE = 54
EVLR_HEADER_SIZE = 60
#: Records walked at most per directory, far more than any real file has; past it the rest are ignored.
MAX_RECORDS = 65_535
#: Fixed header size by minor version (LAS 1.0–1.2: 227, 1.3: 235, 1.4: 375).
_FIXED_HEADER_SIZE = {0: 227, 1: 227, 2: 227, 3: 235}
_FIXED_HEADER_SIZE_14 = 375
LASZIP_USER_ID = "laszip encoded"
LASZIP_RECORD_ID = 22204
#: Bytes of records one LAZ chunk may decompress to (or ten times the file's size, if more).
MAX_CHUNK_RECORD_BYTES = 256 * 2**20
#: LAZ item types: point formats 6-10 (whose chunks are layered) and extra bytes; layers of the other
#: layered items (RGB, RGB + NIR, wave packet); extra bytes take one layer a byte.
_POINT14 = 10
_BYTE14 = 14
_LAYERS = {_POINT14: 9, 11: 1, 12: 2, 13: 1}
#: Bytes of a point record of each LAS point format (extra bytes may follow).
POINT_FORMAT_SIZES = (20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67)
#: The LAZ chunk size meaning "variable-size chunks" (each chunk's point count is in the chunk table).
VARIABLE_CHUNK_SIZE = 2**32 - 1


@dataclass(frozen=True)
class RecordInfo:
    """One variable-length record (VLR or EVLR) found in the file: who wrote it and where its data lie."""

    user_id: str
    record_id: int
    data_offset: int
    data_length: int


@dataclass
class LasLayout:
    """The public header's counts and offsets, as the file can actually hold them.

    Attributes
    ----------
    path
        The file.
    size
        Its size in bytes.
    version
        ``(major, minor)``.
    header_size, offset_to_point_data
        As declared (checked: the point data start after the header).
    point_format_byte
        The raw point format byte (compression bits included).
    record_length
        Bytes per point record, as declared.
    point_count
        Points declared (the LAS 1.4 64-bit count when the version has it).
    scales, offsets
        ``(x, y, z)`` as declared.
    vlrs, evlrs
        The records whose header and data lie inside the file (at most
        :data:`MAX_RECORDS` of each).
    start_of_first_evlr
        Where the extended records start, as declared.
    evlrs_declared
        Extended records declared (LAS 1.4).
    laszip_record, laz_chunk_size
        LAZ: the compression record's data and its chunk size (points per chunk,
        :data:`VARIABLE_CHUNK_SIZE` for variable-size chunks).
    laz_points_max
        LAZ: the most points the chunk table has room for (exact for variable-size chunks).
    laz_chunk_table
        LAZ: ``(points, bytes)`` of each chunk, as lazrs reads the chunk table
        (fixed-size chunks: the chunk size as points); ``None`` when it was not read.
    laz_layers
        LAZ of point formats 6–10: the number of layers a chunk stores, else ``None``.
    laz_problem
        LAZ: one sentence on why lazrs must not read the point data in file order
        (a damaged chunk table …), else ``None``; a COPC file can still be read
        through its hierarchy.
    patches
        ``{byte offset: bytes}`` to show laspy in place of the file's own bytes
        (corrected record counts); empty for a sound header.
    warnings
        One sentence per correction.
    """

    path: Path
    size: int
    version: tuple[int, int]
    header_size: int
    offset_to_point_data: int
    point_format_byte: int
    record_length: int
    point_count: int
    scales: tuple[float, float, float]
    offsets: tuple[float, float, float]
    vlrs: list[RecordInfo] = field(default_factory=list)
    evlrs: list[RecordInfo] = field(default_factory=list)
    start_of_first_evlr: int = 0
    evlrs_declared: int = 0
    laszip_record: bytes | None = None
    laz_chunk_size: int | None = None
    laz_points_max: int | None = None
    laz_chunk_table: list[tuple[int, int]] | None = None
    laz_layers: int | None = None
    laz_problem: str | None = None
    patches: dict[int, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def compressed(self) -> bool:
        """Whether the point format byte marks LAZ (bit 7 set, bit 6 clear, as laspy reads it)."""
        return bool(self.point_format_byte & 0x80) and not self.point_format_byte & 0x40

    @property
    def point_data_end(self) -> int:
        """Where the point records end at the latest: the first extended record, else the end of the file."""
        if self.evlrs_declared and self.offset_to_point_data < self.start_of_first_evlr <= self.size:
            return self.start_of_first_evlr
        return self.size

    @property
    def is_copc(self) -> bool:
        """Whether the first VLR is COPC's info record (the COPC specification puts it first)."""
        return bool(self.vlrs) and (self.vlrs[0].user_id, self.vlrs[0].record_id) == ("copc", 1)

    def find(self, user_id: str, record_id: int) -> RecordInfo | None:
        """The first VLR with this user id and record id, else ``None``."""
        for vlr in self.vlrs:
            if vlr.user_id == user_id and vlr.record_id == record_id:
                return vlr
        return None

    def record_data(self, fh: BinaryIO, record: RecordInfo) -> bytes:
        """The data of ``record``, read from ``fh`` (its length was checked against the file)."""
        fh.seek(record.data_offset)
        return fh.read(record.data_length)

    def open(self) -> BinaryIO:
        """The file for laspy: as it is, or with :attr:`patches` laid over its bytes."""
        if not self.patches:
            return open(self.path, "rb")
        return io.BufferedReader(_PatchedFile(self.path, self.patches))


class _PatchedFile(io.RawIOBase):
    """A read-only file whose bytes at a few offsets read as others (the corrected header counts)."""

    def __init__(self, path: Path, patches: dict[int, bytes]) -> None:
        super().__init__()
        self._fh = open(path, "rb", buffering=0)
        self._patches = sorted(patches.items())

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        return self._fh.seek(pos, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def readinto(self, buffer) -> int:
        start = self._fh.tell()
        n = self._fh.readinto(buffer) or 0
        if n:
            view = memoryview(buffer).cast("B")
            for at, data in self._patches:
                lo, hi = max(at, start), min(at + len(data), start + n)
                if lo < hi:
                    view[lo - start : hi - start] = data[lo - at : hi - at]
        return n

    def fileno(self) -> int:
        return self._fh.fileno()

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()


class _Bytes:
    """Reads of a file at any offset, served from the first :data:`HEAD_BYTES` when they lie there."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self._fh = fh
        self.size = size
        self.head = fh.read(min(HEAD_BYTES, size))

    def at(self, offset: int, n: int) -> bytes:
        """``n`` bytes at ``offset`` (fewer at the end of the file)."""
        if offset + n <= len(self.head):
            return self.head[offset : offset + n]
        if offset >= self.size:
            return b""
        self._fh.seek(offset)
        return self._fh.read(min(n, self.size - offset))


def inspect(path: Path, size: int) -> LasLayout:
    """Parse the public header and walk the record directories of a LAS/LAZ file, bounded by its size.

    Parameters
    ----------
    path
        The file.
    size
        Its size in bytes.

    Returns
    -------
    LasLayout
        The header's counts as the file can hold them, the bytes to correct
        before laspy reads the header, and a warning per correction.

    Raises
    ------
    citytwin.errors.ReaderError
        With one sentence, when the header itself cannot be read.
    """
    try:
        with open(path, "rb") as fh:
            data = _Bytes(fh, size)
            layout = _parse_public_header(path, data.head, size)
            _walk_vlrs(layout, data)
            if layout.version[1] >= 4:
                _walk_evlrs(layout, data, data.head)
            if layout.compressed and layout.point_count > 0:
                _check_laz(layout, data)
    except OSError as exc:
        raise ReaderError(f"The file cannot be read ({exc.strerror or exc}).", path) from None
    return layout


def _parse_public_header(path: Path, head: bytes, size: int) -> LasLayout:
    if head[:4] != b"LASF":
        raise ReaderError("This is not a LAS/LAZ file (it does not start with the LASF signature).", path)
    if len(head) < 227:
        raise ReaderError(f"The file is too small to hold a LAS header ({len(head):,} bytes).", path)
    major, minor = head[24], head[25]
    if major != 1 or minor > 5:
        raise ReaderError(
            f"The LAS header is damaged or of an unsupported kind (version {major}.{minor}, not 1.0–1.5).", path
        )
    fixed = _FIXED_HEADER_SIZE.get(minor, _FIXED_HEADER_SIZE_14)
    if len(head) < fixed:
        raise ReaderError(
            f"The file is too small to hold a LAS {major}.{minor} header ({len(head):,} of {fixed} bytes).", path
        )
    header_size, offset_to_point_data, _ = struct.unpack_from("<HII", head, 94)
    point_format_byte, record_length, point_count = struct.unpack_from("<BHI", head, 104)
    scales = struct.unpack_from("<3d", head, 131)
    offsets = struct.unpack_from("<3d", head, 155)
    if header_size < fixed:
        raise ReaderError(
            f"The LAS header is damaged (it declares a size of {header_size:,} bytes, "
            f"less than the {fixed} of a LAS {major}.{minor} header).",
            path,
        )
    if offset_to_point_data < header_size:
        raise ReaderError(
            f"The LAS header is damaged (its point data would start at byte {offset_to_point_data:,}, "
            f"inside the {header_size:,}-byte header).",
            path,
        )
    point_format = point_format_byte & 0x3F  # the two high bits mark compression
    if point_format >= len(POINT_FORMAT_SIZES):
        raise ReaderError(
            f"The LAS header is damaged or of an unsupported kind (point format {point_format} "
            "is not one of LAS's 0–10).",
            path,
        )
    if record_length < POINT_FORMAT_SIZES[point_format]:
        raise ReaderError(
            f"The LAS header is damaged (its {record_length}-byte point records are shorter than the "
            f"{POINT_FORMAT_SIZES[point_format]} bytes of point format {point_format}).",
            path,
        )
    start_of_first_evlr = 0
    if minor >= 4:
        start_of_first_evlr, _, point_count = struct.unpack_from("<QIQ", head, 235)
    return LasLayout(
        path=path,
        size=size,
        version=(major, minor),
        header_size=header_size,
        offset_to_point_data=offset_to_point_data,
        point_format_byte=point_format_byte,
        record_length=record_length,
        point_count=point_count,
        scales=scales,
        offsets=offsets,
        start_of_first_evlr=start_of_first_evlr,
    )


def _walk_vlrs(layout: LasLayout, data: _Bytes) -> None:
    """The VLRs that fit between the header and the point data (laspy reads them from there)."""
    declared = struct.unpack_from("<I", data.head, 100)[0]
    end = min(layout.offset_to_point_data, layout.size)
    _walk_records(layout, data, layout.vlrs, declared, (layout.header_size, end), "VLR", "before the point data")


def _walk_records(
    layout: LasLayout,
    data: _Bytes,
    records: list[RecordInfo],
    declared: int,
    span: tuple[int, int],
    kind: str,
    where: str,
) -> None:
    """Read the headers of ``declared`` records one after the other from ``span[0]``, while each lies before
    ``span[1]``, into ``records``; when fewer fit, patch the header's count and say so (``where`` they fit).

    ``kind``: ``"VLR"`` (54-byte headers, 16-bit lengths, counted at byte 100) or ``"EVLR"`` (60-byte
    headers, 64-bit lengths, counted at byte 243).
    """
    header_size, fmt, count_at, name = {
        "VLR": (VLR_HEADER_SIZE, "<16sHH", 100, "variable-length record"),
        "EVLR": (EVLR_HEADER_SIZE, "<16sHQ", 243, "extended variable-length record"),
    }[kind]
    pos, end = span
    for _ in range(min(declared, MAX_RECORDS)):
        raw = data.at(pos, header_size)
        if len(raw) < header_size or pos + header_size > end:
            break
        user_id, record_id, length = struct.unpack_from(fmt, raw, 2)
        if pos + header_size + length > end:
            break
        records.append(RecordInfo(_text(user_id), record_id, pos + header_size, length))
        pos += header_size + length
    found = len(records)
    if found < declared:
        layout.patches[count_at] = struct.pack("<I", found)
        layout.warnings.append(
            f"The header declares {_records(declared, name)} but {_fit(found)} {where}; "
            f"{'the rest were' if found else 'it was' if declared == 1 else 'they were'} ignored."
        )


def _walk_evlrs(layout: LasLayout, data: _Bytes, head: bytes) -> None:
    """The extended records (LAS 1.4) whose header and data lie inside the file."""
    declared = struct.unpack_from("<I", head, 243)[0]
    layout.evlrs_declared = declared
    if declared == 0:
        return
    start = layout.start_of_first_evlr
    if not layout.offset_to_point_data <= start < layout.size:
        where = f"outside the file's {layout.size:,} bytes" if start >= layout.size else "before the point data"
        layout.patches[243] = struct.pack("<I", 0)
        layout.warnings.append(
            f"The header places its {_records(declared, 'extended variable-length record')} at byte {start:,}, "
            f"{where}; {'it was' if declared == 1 else 'they were'} ignored."
        )
        return
    _walk_records(layout, data, layout.evlrs, declared, (start, layout.size), "EVLR", "in the file")


def _check_laz(layout: LasLayout, data: _Bytes) -> None:
    """The LAZ compression record and chunk table, checked before laspy and lazrs read them.

    laspy sizes its buffers by the compression record's point size and parses
    them by the header's: the two must agree. The chunk table is checked by
    :func:`_chunk_table_problem`.
    """
    vlr = layout.find(LASZIP_USER_ID, LASZIP_RECORD_ID)
    if vlr is None:
        raise ReaderError("The file is marked as LAZ but has no LAZ compression record.", layout.path)
    record = data.at(vlr.data_offset, vlr.data_length)
    items = struct.unpack_from("<H", record, 32)[0] if len(record) >= 34 else -1
    if items < 1 or len(record) < 34 + 6 * items:
        raise ReaderError("The LAZ compression record is damaged (it is too short for what it declares).", layout.path)
    kinds = [struct.unpack_from("<HH", record, 34 + 6 * i) for i in range(items)]
    item_size = sum(size for _, size in kinds)
    if item_size != layout.record_length:
        raise ReaderError(
            f"The LAZ compression record describes {item_size:,}-byte points but the header "
            f"{layout.record_length:,}-byte ones.",
            layout.path,
        )
    layout.laszip_record = record
    layout.laz_chunk_size = struct.unpack_from("<I", record, 12)[0]
    if any(kind == _POINT14 for kind, _ in kinds):
        layout.laz_layers = sum(_LAYERS.get(kind, size if kind == _BYTE14 else 0) for kind, size in kinds)
    layout.laz_problem = _chunk_table_problem(layout, data, record)


def _chunk_table_problem(layout: LasLayout, data: _Bytes, record: bytes) -> str | None:
    """One sentence on why lazrs must not read this LAZ chunk table, else ``None`` (then also sets the point bound).

    lazrs allocates for every chunk the table declares before reading any, and
    a buffer for a whole chunk's records when it decompresses one; it aborts the
    process when it cannot. So the table's chunk count, the chunks' byte sizes
    and their point counts are checked against the file before it reads them.
    """
    start = layout.offset_to_point_data
    raw = data.at(start, 8)
    if len(raw) < 8:
        return None  # no point data at all: the point reader reports it
    table = struct.unpack("<q", raw)[0]
    if table == -1:
        return "The LAZ file has no chunk table (its writer did not finish it)."
    if table > layout.size - 8:
        return (
            f"The point data is damaged or truncated (the LAZ chunk table would lie at byte {table:,}, "
            "past the end of the file)."
        )
    if table < start + 8:
        return f"The LAZ chunk table is damaged (it would lie at byte {table:,}, before the point data)."
    chunks = struct.unpack_from("<I", data.at(table, 8), 4)[0]
    # A chunk stores at least one point whole (never under 20 bytes), so the chunks take more than 4 bytes each.
    if chunks == 0 or chunks > (table - start) // 4 + 1:
        return (
            f"The LAZ chunk table is damaged (it declares {chunks:,} chunks for "
            f"{table - start - 8:,} bytes of point data)."
        )
    most = max(MAX_CHUNK_RECORD_BYTES, 10 * layout.size) // max(layout.record_length, 1)
    chunk_size = layout.laz_chunk_size or 0
    if chunk_size != VARIABLE_CHUNK_SIZE and chunk_size > most:
        return (
            f"The LAZ file cannot be read: its chunks of {chunk_size:,} points of {layout.record_length:,} bytes "
            f"would each take {chunk_size * layout.record_length / 2**20:,.0f} MB of memory to decompress."
        )
    try:
        import lazrs

        vlr = lazrs.LazVlr(record)
    except ImportError:  # pragma: no cover - lazrs comes with laspy[lazrs]
        return None
    except BaseException as exc:
        if is_interrupt(exc):
            raise
        return f"The LAZ compression record is damaged ({describe(exc)})."
    try:
        with open(layout.path, "rb") as fh:
            fh.seek(start)
            entries = lazrs.read_chunk_table(fh, vlr)
    except BaseException as exc:
        if is_interrupt(exc):
            raise
        return f"The LAZ chunk table is damaged ({describe(exc)})."
    if sum(size for _, size in entries) > table - start - 8:
        return "The LAZ chunk table is damaged (its chunks add up to more bytes than the point data hold)."
    if chunk_size == VARIABLE_CHUNK_SIZE:
        largest = max((count for count, _ in entries), default=0)
        if largest > most:
            return f"The LAZ chunk table is damaged (a chunk declares {largest:,} points)."
        layout.laz_points_max = sum(count for count, _ in entries)
    else:
        layout.laz_points_max = len(entries) * chunk_size
    layout.laz_chunk_table = entries
    return None


def layered_chunk_problem(
    fh: BinaryIO, chunks: Iterable[tuple[int, int, int]], layout: LasLayout
) -> tuple[int, str] | None:
    """The first LAZ chunk whose layer sizes its bytes cannot hold, as ``(index, clause on "it")``, else ``None``.

    A chunk of point formats 6–10 starts with its first record whole, its
    point count and the byte size of each layer (one per field group); lazrs
    allocates each layer's buffer by that size before decoding it, so a damaged
    size is an allocation of up to 4 GB per layer. Point formats 0–5 store one
    stream per chunk, with nothing to check.

    Parameters
    ----------
    fh
        The file, open for binary reading.
    chunks
        ``(offset, byte size, points at most)`` of each chunk to check.
    layout
        The file's layout (:attr:`LasLayout.laz_layers` says whether chunks are layered).
    """
    layers = layout.laz_layers
    if not layers:
        return None
    head = layout.record_length + 4 + 4 * layers
    sizes = struct.Struct(f"<I{layers}I")
    for index, (offset, byte_size, points) in enumerate(chunks):
        fh.seek(offset + layout.record_length)
        raw = fh.read(sizes.size)
        if len(raw) < sizes.size or head > byte_size:
            return index, "it is cut short"
        count, *layer_sizes = sizes.unpack(raw)
        if count > points:
            return index, f"it declares {count:,} points where at most {points:,} fit"
        if head + sum(layer_sizes) > byte_size:
            return index, "its layers add up to more bytes than it holds"
    return None


def laz_chunks(layout: LasLayout) -> list[tuple[int, int, int]]:
    """``(offset, byte size, points at most)`` of each chunk of the LAZ chunk table, in file order."""
    table = layout.laz_chunk_table or []
    offset = layout.offset_to_point_data + 8
    out = []
    for count, byte_size in table:
        out.append((offset, byte_size, count))
        offset += byte_size
    return out


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is the user's or the interpreter's, not a library's failure on damaged data.

    lazrs's Rust panics reach Python as pyo3's ``PanicException``, which derives
    from :class:`BaseException`; readers catch those too, but never these.
    """
    return isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit))


def describe(exc: BaseException) -> str:
    """A library's error message, on one line and short enough for a parenthesis in a sentence."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:160].rstrip(".")


def _fit(found: int) -> str:
    """How many declared records were found, as the middle of a sentence."""
    if found >= MAX_RECORDS:
        return f"only the first {found:,} were read"
    return "none fits" if found == 0 else f"only {found:,} {'fits' if found == 1 else 'fit'}"


def _records(n: int, kind: str) -> str:
    return f"{n:,} {kind}{'' if n == 1 else 's'}"


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


def bad_coordinate_axes(layout: LasLayout) -> tuple[list[str], list[str]]:
    """The axes whose scale or offset is not a finite number, and those whose scale is 0."""
    broken = [
        axis
        for axis, scale, offset in zip("xyz", layout.scales, layout.offsets, strict=True)
        if not (math.isfinite(scale) and math.isfinite(offset))
    ]
    flat = [axis for axis, scale in zip("xyz", layout.scales, strict=True) if scale == 0]
    return broken, flat


def file_size(fh: BinaryIO) -> int:
    """The size of an open file (of its descriptor when it has one, else by seeking to its end)."""
    try:
        return os.fstat(fh.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        pos = fh.tell()
        end = fh.seek(0, io.SEEK_END)
        fh.seek(pos)
        return end
