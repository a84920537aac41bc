"""LAS 1.0–1.4, LAZ and COPC point clouds, read in chunks with laspy (+ lazrs).

The point records are kept as they are stored (one numpy structured array,
:class:`~citytwin.model.point_records.PointRecords`) and decoded only when
something asks for an attribute, so reading costs little more than the bytes:
uncompressed LAS is read straight into the array, LAZ within the budget is
decompressed by lazrs straight into it. The file is read chunk by chunk, so
memory stays bounded by the point budget rather than by the file: every chunk
adds to the whole-file facts (class counts, actual bounds, largest colour
value) and then gives up a uniform random subset of its records (a fixed seed,
so a file always loads the same way) sized so that the kept points never
exceed :attr:`~citytwin.io.options.LoadOptions.point_budget`. A COPC file over
budget loads only the coarse levels of its octree that fit, a fast and even
preview whose class counts then cover the loaded points only
(``PointCloud.class_counts_complete`` is false, with a warning).

Damaged files end in one sentence (:class:`~citytwin.errors.ReaderError`) or,
when some points could be read, in those points and a warning. Every count the
file declares is checked against its size before it drives a loop or an
allocation (:mod:`citytwin.io.las_header` for the header, the record directories
and the LAZ chunk index, :mod:`citytwin.io.copc_hierarchy` for the COPC octree),
and the records kept are bounded by memory as well as by the point budget.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.errors import ReaderError
from citytwin.io import copc_hierarchy, las_header
from citytwin.io.copc_hierarchy import CopcHierarchyError, CopcNode
from citytwin.io.las_header import LasLayout, describe, is_interrupt
from citytwin.io.options import CancelCheck, LoadOptions, Progress, ProgressCallback
from citytwin.model.crs import CRS
from citytwin.model.point_records import ATTRIBUTE_DTYPES, FieldSpec, PointRecords
from citytwin.model.pointcloud import PointCloud

#: Points read per chunk (bounded below so LAZ's parallel decompressor has work).
CHUNK_POINTS = 1_000_000
MIN_CHUNK_POINTS = 100_000
#: Seed of the subsampling generator: a file always loads the same subset.
SUBSAMPLE_SEED = 0
#: Records per block of the direct (uncompressed LAS) path: small enough that a block
#: (1.8 MB for 28-byte records) stays in cache while it is decoded, and that a fresh
#: process does not page in a file-sized buffer.
DIRECT_BLOCK_POINTS = 65_536
#: Bytes of records read per chunk at most (a record can be 65,535 bytes long).
MAX_CHUNK_BYTES = 64 * 2**20
#: Bytes of kept records at most: this, plus :data:`KEPT_PER_FILE_BYTE` times the file's size. A LAZ file
#: can hold far more points than its size suggests (over 100 identical points a byte), of up to 65,535 bytes.
KEPT_BYTES = 384 * 2**20
KEPT_PER_FILE_BYTE = 4
#: LAZ decompresses real point data by less than this factor: the records array starts at this many
#: times the compressed bytes (or the points wanted, if fewer) and grows only when the data hold more.
LAZ_RATIO_GUESS = 16

_GEOKEY_PROJECTED = 3072
_GEOKEY_GEOGRAPHIC = 2048
_GEOKEY_VERTICAL = 4096


def _laspy():
    try:
        import laspy
    except ImportError as exc:  # pragma: no cover - laspy is a dependency
        raise ReaderError("Reading LAS/LAZ needs the laspy package (pip install 'laspy[lazrs]').") from exc
    return laspy


def read(
    path: str | Path,
    options: LoadOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> PointCloud:
    """Read a LAS, LAZ or COPC file.

    Parameters
    ----------
    path
        The file.
    options
        ``options.point_budget`` caps the points kept.
    progress
        Called as ``progress(points_done, points_total)``.
    cancel
        Polled between chunks; raises :class:`~citytwin.errors.LoadCancelled`.

    Raises
    ------
    citytwin.errors.ReaderError
        With one sentence, when the file is not a readable LAS/LAZ file.
    """
    laspy = _laspy()
    path = Path(path)
    options = options or LoadOptions()
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise ReaderError(f"The file cannot be opened ({exc.strerror or exc}).", path) from None
    if size == 0:
        raise ReaderError("The file is empty.", path)
    # The header's counts, checked against the file's size before laspy loops or allocates on them.
    layout = las_header.inspect(path, size)
    _check_coordinates(layout)
    if layout.laz_problem is not None and not layout.is_copc:  # a COPC file can be read through its hierarchy
        raise ReaderError(layout.laz_problem, path)
    try:
        stream = layout.open()
    except OSError as exc:
        raise ReaderError(f"The file cannot be opened ({exc.strerror or exc}).", path) from None
    try:
        reader = laspy.open(stream)  # closes the stream when it fails
    except (laspy.errors.PointFormatNotSupported, laspy.errors.FileVersionNotSupported) as exc:
        raise ReaderError(f"The LAS header is damaged or of an unsupported kind ({describe(exc)}).", path) from None
    except laspy.errors.LaspyException as exc:
        raise ReaderError(f"This is not a readable LAS/LAZ file ({describe(exc)}).", path) from None
    except Exception as exc:  # struct, unicode, lazrs … errors on a damaged header
        raise ReaderError(f"The LAS header is damaged ({describe(exc)}).", path) from None
    with reader:
        return _read_open(reader, path, layout, options, progress, cancel)


def _check_coordinates(layout: LasLayout) -> None:
    """Refuse a header whose scale or offset makes every coordinate NaN or infinite; note a zero scale."""
    if layout.point_count == 0:
        return
    broken, flat = las_header.bad_coordinate_axes(layout)
    if broken:
        axes = " and ".join(broken)
        raise ReaderError(
            f"The header's {axes} scale or offset is not a finite number, so no point coordinate can be computed.",
            layout.path,
        )
    for axis in flat:
        layout.warnings.append(
            f"The header's {axis} scale is 0, so every point has the same {axis} coordinate (the header is damaged)."
        )


def _read_open(reader, path: Path, layout: LasLayout, options: LoadOptions, progress, cancel) -> PointCloud:
    header = reader.header
    size = layout.size
    warnings: list[str] = list(layout.warnings)
    pf = header.point_format
    declared = int(header.point_count)
    compressed = bool(header.are_points_compressed)
    is_copc = any(getattr(v, "user_id", "") == "copc" and getattr(v, "record_id", 0) == 1 for v in header.vlrs)
    fmt = "COPC" if is_copc else ("LAZ" if compressed else "LAS")
    budget = max(int(options.point_budget), 0)
    variable_chunks = layout.laz_chunk_size == las_header.VARIABLE_CHUNK_SIZE

    total = declared
    if not compressed:
        # Points the bytes can actually hold (up to the first extended VLR, if any).
        room = max(layout.point_data_end - int(header.offset_to_point_data), 0) // max(int(pf.size), 1)
        if room < declared:
            warnings.append(
                f"The header declares {declared:,} points but the file holds only {room:,}; "
                f"the missing {declared - room:,} were skipped (the file is truncated)."
            )
            total = room
    elif (most := layout.laz_points_max) is not None and most < total and (variable_chunks or total > budget):
        # Variable-size chunks (COPC) list their points: the count is exact. Fixed-size ones bound it, which
        # matters over budget, where the count sets the share of each chunk kept.
        warnings.append(
            f"The header declares {declared:,} points but the LAZ chunk table has room for at most {most:,}."
        )
        total = most
    if declared > 0 and total == 0:
        raise ReaderError(f"The file holds no point data although its header declares {declared:,} points.", path)

    record_bytes = max(int(pf.size), 1)
    most_kept = max((KEPT_BYTES + KEPT_PER_FILE_BYTE * size) // record_bytes, 1)
    if min(total, budget) > most_kept:
        warnings.append(
            f"The point records are {record_bytes:,} bytes each, so at most {most_kept:,} points were kept "
            "to bound memory."
        )
        budget = most_kept
    scales = np.asarray(header.scales, dtype=np.float64)
    offsets = np.asarray(header.offsets, dtype=np.float64)
    rec_layout = _RecordLayout.of(pf)
    facts = _FileFacts(rec_layout)
    records: np.ndarray | None = None
    read_path = "laspy chunks"
    copc_levels: dict[str, Any] | None = None
    # COPC over budget, or whose chunk table lazrs must not read: through its octree hierarchy.
    via_hierarchy = fmt == "COPC" and (total > budget or layout.laz_problem is not None)
    nodes = _copc_nodes(layout, warnings) if via_hierarchy else None
    if nodes is not None:
        held = sum(node.point_count for node in nodes)
        if layout.laz_problem is not None and held < total:  # no chunk table to count the points: the hierarchy does
            warnings.append(f"The header declares {declared:,} points but the COPC hierarchy holds only {held:,}.")
            total = held
        elif held != total:
            warnings.append(
                f"The COPC hierarchy holds {held:,} points but the file {total:,}; "
                "the points were read in file order instead."
            )
            nodes = None
    tracker = Progress(max(total, 1), progress, cancel)
    tracker.update(0)
    done = total
    if nodes is not None:
        copc = _read_copc(layout, nodes, budget, facts, tracker, warnings)
        if copc is not None:  # the coarse octree levels that fit the budget: skip the chunk loop below
            records, copc_levels = copc
            read_path = "COPC levels"
    if layout.laz_problem is not None:
        if records is None:
            raise ReaderError(layout.laz_problem, path)
        warnings.append(f"{layout.laz_problem[:-1]}; the points were read through the COPC hierarchy instead.")
    if records is None and fmt == "LAS":
        records = _read_direct(path, header, total, budget, facts, tracker)
        if records is not None:
            read_path = "direct records"
    if records is None:
        if compressed:
            total = _readable_laz_points(layout, total, warnings)
        records, done, read_path = _read_chunks(reader, path, layout, total, budget, facts, tracker, warnings)
    tracker.finish()
    kept = len(records)

    crs, crs_warnings, wkt = _crs(header)
    warnings.extend(crs_warnings)
    bounds = _bounds(header, facts.lo, facts.hi, scales, offsets, done, warnings)
    warnings.extend(_crs_sanity(crs, wkt, bounds))
    if kept < done:
        warnings.append(f"{kept:,} of {done:,} points were loaded (point budget {budget:,}).")
    # Class counts gathered from the loaded octree levels describe the file only when they are all of them.
    partial_counts = copc_levels is not None and copc_levels["levels_loaded"] < len(copc_levels["points_per_level"])
    if partial_counts:
        warnings.append(
            f"The class counts are from the {kept:,} points loaded, not from all {done:,} points of the file."
        )
    if declared == 0:
        warnings.append("The file holds no points.")

    fields = {name: spec for name, spec in rec_layout.fields.items() if spec is not None}
    # LAS asks for 16-bit colour, but many writers store 8-bit values: a file whose largest
    # channel value is above 255 is read as 16-bit.
    point_records = PointRecords(
        records, scales, offsets, fields, rec_layout.rgb, rgb_shift=8 if facts.rgb_max > 255 else 0
    )
    # A bit field laspy lays out in a way we do not know: let laspy unpack it, eagerly.
    unpacked = {
        name: np.asarray(_laspy().PackedPointRecord(records, pf)[name]).astype(ATTRIBUTE_DTYPES[name])
        for name, spec in rec_layout.fields.items()
        if spec is None
    }
    class_counts = {int(c): int(facts.class_counts[c]) for c in np.flatnonzero(facts.class_counts)}
    metadata: dict[str, Any] = {
        "points_declared": declared,
        "scales": scales.tolist(),
        "offsets": offsets.tolist(),
        "generating_software": _clean(header.generating_software),
        "system_identifier": _clean(header.system_identifier),
        "creation_date": None if header.creation_date is None else header.creation_date.isoformat(),
        "dimensions": list(pf.dimension_names),
        "rgb_bits": None if rec_layout.rgb is None else (16 if facts.rgb_max > 255 else 8),
        "read_path": read_path,
    }
    if copc_levels is not None:
        metadata["copc_levels"] = copc_levels
    if wkt:
        metadata["crs_wkt"] = wkt
    return PointCloud(
        records=point_records,
        **unpacked,
        crs=crs,
        format=fmt,
        version=str(header.version),
        point_format=int(pf.id),
        points_in_file=int(done),
        class_counts=class_counts,
        class_counts_complete=not partial_counts,
        file_bounds=bounds,
        warnings=warnings,
        source=path,
        metadata=metadata,
    )


class _RecordLayout:
    """Where the attributes citytwin keeps live in the records of one point format."""

    def __init__(self, dtype: np.dtype, fields: dict[str, FieldSpec | None], rgb: tuple[str, str, str] | None):
        self.dtype = dtype
        #: attribute → its field; ``None``: present, but only laspy knows how to unpack it
        self.fields = fields
        self.rgb = rgb

    @classmethod
    def of(cls, pf) -> _RecordLayout:
        dtype = np.dtype(pf.dtype())
        names = set(dtype.names or ())
        dims = set(pf.dimension_names)
        fields: dict[str, FieldSpec | None] = {}
        if "classification" in names:  # formats 6-10: a byte of its own
            fields["classification"] = FieldSpec("classification")
        elif "classification" in dims:  # formats 0-5: the low 5 bits of a flags byte
            fields["classification"] = _bit_field(pf, "classification")
        for name in ("intensity", "gps_time"):
            if name in names:
                fields[name] = FieldSpec(name)
        for name in ("return_number", "number_of_returns"):
            if name in dims:
                fields[name] = _bit_field(pf, name)
        rgb = ("red", "green", "blue") if {"red", "green", "blue"} <= names else None
        return cls(dtype, fields, rgb)


class _FileFacts:
    """Whole-file facts gathered as the records go by: class counts, integer bounds, largest colour value."""

    def __init__(self, layout: _RecordLayout) -> None:
        self.layout = layout
        self.lo = np.full(3, np.iinfo(np.int64).max, np.int64)
        self.hi = np.full(3, np.iinfo(np.int64).min, np.int64)
        self.rgb_max = 0
        # Counts of the raw class byte; the flag bits sharing it are folded out once, at the end.
        self._byte_counts = np.zeros(256, np.int64)

    def add(self, rec: np.ndarray) -> None:
        if len(rec) == 0:
            return
        for k, c in enumerate(("X", "Y", "Z")):
            col = rec[c]
            self.lo[k] = min(self.lo[k], int(col.min()))
            self.hi[k] = max(self.hi[k], int(col.max()))
        spec = self.layout.fields.get("classification")
        if spec is not None:
            self._byte_counts += np.bincount(rec[spec.field], minlength=256)[:256]
        if self.layout.rgb is not None:
            self.rgb_max = max(self.rgb_max, *(int(rec[c].max()) for c in self.layout.rgb))

    @property
    def class_counts(self) -> np.ndarray:
        """``(256,)`` points per ASPRS class code."""
        spec = self.layout.fields.get("classification")
        if spec is None or not spec.mask:
            return self._byte_counts
        return np.bincount((np.arange(256) & spec.mask) >> spec.shift, weights=self._byte_counts, minlength=256)[
            :256
        ].astype(np.int64)


def _read_chunks(
    reader,
    path: Path,
    layout: LasLayout,
    total: int,
    budget: int,
    facts: _FileFacts,
    tracker,
    warnings: list[str],
) -> tuple[np.ndarray, int, str]:
    """Records through laspy's chunked reader (LAZ, and LAS that numpy cannot take directly).

    Returns the records kept (all, or a uniform subset of each chunk so that
    they fit ``budget``), the number of points read (less than ``total``
    when the data ends early) and how they were read. The records array is
    sized by what the file can hold, not by the header's count, and grows
    when the data hold more.
    """
    dtype = facts.layout.dtype
    record_bytes = max(dtype.itemsize, 1)
    chunk_size = int(min(max(total // 10, MIN_CHUNK_POINTS), CHUNK_POINTS, max(MAX_CHUNK_BYTES // record_bytes, 1)))
    wanted = min(total, budget)
    decompressor = _lazrs_decompressor(reader, dtype) if total <= budget else None
    if decompressor is not None:
        # Whole LAZ chunks per call (lazrs decompresses them in parallel), straight into the output.
        decompressor, laz_chunk = decompressor
        chunk_size = max(-(-chunk_size // laz_chunk), os.cpu_count() or 1) * laz_chunk
    start = wanted  # uncompressed: the caller bounded ``total`` by the file's size
    if layout.compressed:
        start = min(wanted, max(LAZ_RATIO_GUESS * max(layout.size - layout.offset_to_point_data, 0), 1) // record_bytes)
    out: np.ndarray | None = None
    if decompressor is not None:
        out = np.empty(min(wanted, max(start, chunk_size)), dtype)
    rng = None  # numpy.random costs ~4 ms to import: only the over-budget path needs it
    done = pos = 0
    while done < total:
        n_req = min(chunk_size, total - done)
        try:
            if decompressor is not None:
                out = _grown(out, done, done + n_req, wanted)  # type: ignore[arg-type]
                rec = out[done : done + n_req]
                decompressor.decompress_many(rec.view(np.uint8))
            else:
                rec = reader.read_points(n_req).array
        except BaseException as exc:  # lazrs (its Rust panics too) / numpy errors on damaged or truncated data
            if is_interrupt(exc):
                raise
            if done == 0:
                raise ReaderError(
                    f"The point data is damaged or truncated and cannot be read ({describe(exc)}).", path
                ) from None
            warnings.append(
                f"The point data is damaged or truncated after {done:,} of {total:,} points; "
                f"the remaining {total - done:,} were skipped."
            )
            break
        n = len(rec)
        if n == 0:
            warnings.append(
                f"The point data ends after {done:,} of {total:,} points; the remaining {total - done:,} were skipped."
            )
            break
        facts.add(rec)
        if total > budget:  # chunk [done, done + n) keeps its share of the budget
            n_keep = (done + n) * budget // total - done * budget // total
            rng = rng if rng is not None else np.random.default_rng(SUBSAMPLE_SEED)
            if n_keep < n:
                rec = rec[np.sort(rng.choice(n, size=n_keep, replace=False))]
        if out is None:
            out = np.empty(start, rec.dtype)
        if decompressor is None:
            out = _grown(out, pos, pos + len(rec), wanted)
            out[pos : pos + len(rec)] = rec
        pos += len(rec)
        done += n
        tracker.update(done)
    if out is None:
        out = np.empty(0, dtype)
    elif pos < len(out) // 2:  # the data held far fewer records than room was made for: do not keep the room
        out = out[:pos].copy()
    return out[:pos], done, "laspy chunks" if decompressor is None else "lazrs into records"


def _grown(out: np.ndarray, filled: int, need: int, most: int) -> np.ndarray:
    """``out`` with room for ``need`` records, its first ``filled`` kept: doubled (up to ``most``) when it grows."""
    if need <= len(out):
        return out
    bigger = np.empty(max(need, min(2 * len(out), most)), out.dtype)
    bigger[:filled] = out[:filled]
    return bigger


def _readable_laz_points(layout: LasLayout, total: int, warnings: list[str]) -> int:
    """``total``, or the points before the first LAZ chunk whose layer sizes are damaged (with a warning).

    Raises
    ------
    citytwin.errors.ReaderError
        When the first chunk is damaged.
    """
    if not layout.laz_layers or not layout.laz_chunk_table:
        return total
    chunks = las_header.laz_chunks(layout)
    try:
        with open(layout.path, "rb") as fh:
            bad = las_header.layered_chunk_problem(fh, chunks, layout)
    except OSError:
        return total
    if bad is None:
        return total
    index, clause = bad
    why = f"chunk {index + 1:,} of {len(chunks):,}: {clause}"
    good = sum(points for _, _, points in chunks[:index])
    if index == 0 or good == 0:
        raise ReaderError(f"The point data is damaged ({why}).", layout.path)
    if good < total:
        warnings.append(
            f"The point data is damaged ({why}); the first {good:,} of {total:,} points were read, "
            f"the remaining {total - good:,} were skipped."
        )
    return min(good, total)


def _lazrs_decompressor(reader, dtype: np.dtype) -> tuple[Any, int] | None:
    """laspy's lazrs decompressor and LAZ chunk size, to decompress straight into numpy; else ``None``.

    laspy decompresses into a new ``bytearray`` per call, which the caller then
    copies; lazrs can fill the caller's array directly. Only when laspy reads
    with lazrs and its record size is ``dtype``'s.
    """
    try:
        source = reader.point_source  # built on first use: a damaged LAZ fails here, and again in read_points
        decompressor = getattr(source, "decompressor", None)
        vlr = getattr(source, "vlr", None)
        if decompressor is None or vlr is None or int(vlr.item_size()) != dtype.itemsize:
            return None
        chunk = int(vlr.chunk_size())
    except BaseException as exc:  # a damaged file, another backend or laspy version: laspy's reader reports it
        if is_interrupt(exc):
            raise
        return None
    if not hasattr(decompressor, "decompress_many") or chunk <= 0 or chunk >= 2**32 - 1:
        return None  # variable-size chunks (chunk size 2**32 - 1): let laspy size the reads
    return decompressor, chunk


def _read_direct(path: Path, header, total: int, budget: int, facts: _FileFacts, tracker) -> np.ndarray | None:
    """Uncompressed LAS: the point records read straight into numpy, without laspy's point parsing.

    One sequential pass in blocks of :data:`DIRECT_BLOCK_POINTS` records, each
    adding to the whole-file facts while it is in cache. Within the budget the
    blocks are read straight into the returned array; over it, into one reused
    buffer from which the :func:`stratified_indices` records are copied, so
    memory stays bounded by the kept points, not by the file. Nothing is
    decoded: :class:`~citytwin.model.point_records.PointRecords` does that on
    demand. Returns ``None`` when the records do not match laspy's layout (the
    caller falls back on the chunked reader).
    """
    dtype = _record_dtype(header.point_format)
    if dtype is None or dtype != facts.layout.dtype:
        return None
    keep = stratified_indices(total, budget) if total > budget else None
    out = np.empty(total if keep is None else len(keep), dtype)
    block = int(max(min(DIRECT_BLOCK_POINTS, total, MAX_CHUNK_BYTES // dtype.itemsize), 1))
    buf = np.empty(block, dtype) if keep is not None else None
    try:
        fh = open(path, "rb", buffering=0)
    except OSError:
        return None
    with fh:
        fh.seek(int(header.offset_to_point_data))
        start = pos = 0
        while start < total:
            n = min(block, total - start)
            rec = out[start : start + n] if buf is None else buf[:n]
            view = rec.view(np.uint8)
            got = 0
            while got < len(view):  # readinto may return less than asked
                step = fh.readinto(view[got:]) or 0
                if step == 0:
                    return None  # the file shrank under us: let the chunked reader report it
                got += step
            facts.add(rec)
            if keep is not None:
                a, b = np.searchsorted(keep, [start, start + n])
                out[pos : pos + b - a] = rec[keep[a:b] - start]
                pos += b - a
            start += n
            tracker.update(start)
    return out


def _record_dtype(pf) -> np.dtype | None:
    """The numpy dtype of one point record, when laspy's matches the record length."""
    try:
        dtype = np.dtype(pf.dtype())
    except Exception:
        return None
    return dtype if dtype.itemsize == int(pf.size) and {"X", "Y", "Z"} <= set(dtype.names or ()) else None


def stratified_indices(total: int, budget: int, seed: int = SUBSAMPLE_SEED) -> np.ndarray:
    """``budget`` sorted record indices out of ``total``, one drawn at random in each of ``budget`` equal strides.

    Uniform over the file (every record has the same chance, ``budget / total``),
    spread evenly along it, deterministic, and ``O(budget)`` in memory.
    """
    bounds = (np.arange(budget + 1, dtype=np.int64) * total) // max(budget, 1)
    width = np.diff(bounds)
    jitter = np.floor(np.random.default_rng(seed).random(budget) * width).astype(np.int64)
    return bounds[:-1] + np.minimum(jitter, width - 1)


def copc_level_counts(reader) -> list[int]:
    """Points in each level of a COPC octree (index = level), from its hierarchy alone (no point is read).

    Parameters
    ----------
    reader
        A :class:`laspy.CopcReader`.

    Raises
    ------
    citytwin.errors.ReaderError
        With one sentence, when the hierarchy is damaged (a cycle, a page or chunk outside the file …).
    """
    info = reader.copc_info
    try:
        nodes = copc_hierarchy.walk(
            reader.source,
            las_header.file_size(reader.source),
            int(info.hierarchy_root_offset),
            int(info.hierarchy_root_size),
            int(reader.header.offset_to_point_data),
        )
    except CopcHierarchyError as exc:
        raise ReaderError(f"The COPC hierarchy is damaged ({exc}).") from None
    return copc_hierarchy.level_counts(nodes)


def _copc_nodes(layout: LasLayout, warnings: list[str]) -> list[CopcNode] | None:
    """The COPC octree's nodes, by a walk bounded by the file; ``None`` (with a warning when damaged) otherwise."""
    info = layout.find("copc", 1)
    if info is None or layout.laszip_record is None:
        return None
    try:
        with open(layout.path, "rb") as fh:
            root = copc_hierarchy.root_page(layout.record_data(fh, info))
            nodes = copc_hierarchy.walk(fh, layout.size, *root, data_start=layout.offset_to_point_data)
    except CopcHierarchyError as exc:
        warnings.append(f"The COPC hierarchy is damaged ({exc}); the points were read in file order instead.")
        return None
    except OSError:
        return None
    if not nodes:
        warnings.append("The COPC hierarchy lists no points; the points were read in file order instead.")
        return None
    return nodes


def _read_copc(layout: LasLayout, nodes: list[CopcNode], budget: int, facts: _FileFacts, tracker, warnings):
    """COPC over budget: the octree's coarse levels that fit the budget, for a fast, even preview.

    Every octree level spreads its points over the whole extent, each deeper
    level at twice the density, so levels ``0 … L`` (``L`` the deepest whose
    cumulative point count fits ``budget``) are a thinned copy of the whole
    cloud that is read without decompressing the rest. When even the root level
    holds more than ``budget`` points, a stratified subset of it is kept.
    Class counts then describe the loaded points only (the header's bounds
    still describe the file, when they hold the loaded points). Returns the
    records kept and a description of the levels, or ``None`` when the nodes
    cannot be read this way (the chunked reader takes over; a warning says why
    when the file is damaged).
    """
    counts = copc_hierarchy.level_counts(nodes)
    dtype = facts.layout.dtype
    if not counts or sum(counts) <= 0 or dtype.itemsize != layout.record_length or layout.laszip_record is None:
        return None
    cumulative = np.cumsum(counts)
    fits = np.flatnonzero(cumulative <= budget)
    deepest = int(fits[-1]) if len(fits) else 0
    chosen = [node for node in nodes if node.level <= deepest]
    n = int(cumulative[deepest])
    if n * layout.record_length > KEPT_BYTES + KEPT_PER_FILE_BYTE * layout.size:
        warnings.append(
            f"The COPC octree's root level declares {n:,} points, more than memory allows; "
            "the points were read in file order instead."
        )
        return None
    tracker.update(0)
    try:
        with open(layout.path, "rb") as fh:
            chunks = [(node.offset, node.byte_size, node.point_count) for node in chosen]
            bad = las_header.layered_chunk_problem(fh, chunks, layout)
            if bad is not None:
                node = chosen[bad[0]]
                warnings.append(
                    f"The points of COPC node {node.level}-{node.x}-{node.y}-{node.z} are damaged ({bad[1]}); "
                    "the points were read in file order instead."
                )
                return None
            raw = copc_hierarchy.decompress(fh, layout.size, chosen, layout.laszip_record, layout.record_length)
    except CopcHierarchyError as exc:
        warnings.append(f"The COPC hierarchy is damaged ({exc}); the points were read in file order instead.")
        return None
    except BaseException as exc:  # lazrs errors (and Rust panics) on damaged chunks
        if is_interrupt(exc):
            raise
        warnings.append(
            f"The COPC octree's points cannot be decompressed ({describe(exc)}); "
            "the points were read in file order instead."
        )
        return None
    rec = raw.view(dtype)
    rows = rec if n <= budget else rec[stratified_indices(n, budget)]
    facts.add(rows)
    tracker.update(tracker.total)
    levels = {
        "points_per_level": [int(c) for c in counts],
        "levels_loaded": deepest + 1,
        "points_in_levels": n,
    }
    return rows, levels


def _bit_field(pf, name: str) -> FieldSpec | None:
    """Where a bit-packed LAS dimension (``return_number`` …) lives in a record, else ``None``."""
    try:
        from laspy.point.dims import COMPOSED_FIELDS

        for packed, subs in COMPOSED_FIELDS[pf.id].items():
            for sub in subs:
                if sub.name == name:
                    mask = int(sub.mask)
                    return FieldSpec(packed, mask, (mask & -mask).bit_length() - 1)
    except Exception:  # another laspy layout: let laspy unpack it
        return None
    return None


def _clean(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    text = text.replace("\x00", "").strip()
    return text or None


def _bounds(header, lo, hi, scales, offsets, n_points: int, warnings: list[str]) -> np.ndarray | None:
    """The header's bounds when they hold the points, else the points' own (with a warning)."""
    header_bounds = np.concatenate([np.asarray(header.mins, np.float64), np.asarray(header.maxs, np.float64)])
    if n_points == 0:
        return None
    actual = np.concatenate([lo * scales + offsets, hi * scales + offsets])
    tol = np.tile(np.abs(scales), 2) + 1e-9 * np.abs(actual)
    ok = (
        np.isfinite(header_bounds).all()
        and (header_bounds[:3] <= actual[:3] + tol[:3]).all()
        and (header_bounds[3:] >= actual[3:] - tol[3:]).all()
    )
    if ok:
        return header_bounds
    warnings.append("The header's bounds do not match the points; the points' own bounds are used.")
    return actual


def _crs(header) -> tuple[CRS, list[str], str | None]:
    """The CRS from the WKT or GeoTIFF records, with pyproj when it can parse them."""
    wkt = None
    geokeys: dict[int, int] = {}
    for vlr in header.vlrs:
        kind = type(vlr).__name__
        if kind == "WktCoordinateSystemVlr":
            wkt = (getattr(vlr, "string", "") or "").strip("\x00 \n") or None
        elif kind == "GeoKeyDirectoryVlr":
            for key in getattr(vlr, "geo_keys", []) or []:
                if int(getattr(key, "tiff_tag_location", 1)) == 0:
                    geokeys[int(key.id)] = int(key.value_offset)
    records = [*header.vlrs, *(getattr(header, "evlrs", None) or [])]
    has_record = any(type(v).__name__ in ("WktCoordinateSystemVlr", "GeoKeyDirectoryVlr") for v in records)
    try:
        # Without a CRS record there is nothing to parse (and no need to import pyproj, ~0.1 s).
        parsed = header.parse_crs() if has_record else None
    except Exception:  # pyproj missing, or a record it cannot parse
        parsed = None
    if parsed is not None:
        try:
            name = parsed.name if parsed.name and parsed.name != "unnamed" else None
            horizontal, vertical = parsed, None
            if parsed.is_compound and parsed.sub_crs_list:
                horizontal = parsed.sub_crs_list[0]
                vertical = parsed.sub_crs_list[1].to_epsg() if len(parsed.sub_crs_list) > 1 else None
            # Cheap first: the code the record states; pyproj's identification (slow) last.
            # A WKT record wins over GeoTIFF keys (LAS 1.4: they may disagree, as in
            # file_with_both_wkt_and_geotiff_vlrs.las, where the keys say EPSG:32104).
            geotiff = _valid_code(geokeys.get(_GEOKEY_PROJECTED) or geokeys.get(_GEOKEY_GEOGRAPHIC))
            epsg = _stated_epsg(horizontal)
            if epsg is None and wkt is None:
                epsg = geotiff
            if epsg is None:
                epsg = _identify_epsg(horizontal.to_wkt()) or geotiff
            if name is None and epsg is not None:
                name = f"EPSG:{epsg}"
            return CRS(name or parsed.type_name, epsg, vertical), [], wkt or parsed.to_wkt()
        except Exception:
            pass
    # Fall back on the raw records.
    code = geokeys.get(_GEOKEY_PROJECTED) or geokeys.get(_GEOKEY_GEOGRAPHIC)
    if code is not None and 1024 <= code < 32767:
        vert = geokeys.get(_GEOKEY_VERTICAL)
        return CRS(f"EPSG:{code}", code, vert if vert and 1024 <= vert < 32767 else None), [], wkt
    if wkt:
        m = re.match(r'\s*[A-Z_]+\["([^"]+)"', wkt)
        m_code = re.findall(r'AUTHORITY\["EPSG","(\d+)"\]\s*\]\s*$', wkt)
        return CRS(m.group(1) if m else "WKT", int(m_code[-1]) if m_code else None), [], wkt
    if geokeys:
        return CRS(), ["The file's GeoTIFF CRS record names no coordinate reference system citytwin can use."], None
    return CRS(), ["The file declares no coordinate reference system."], None


def _valid_code(code: int | None) -> int | None:
    """An EPSG code from a GeoTIFF key (32767 means user-defined)."""
    return code if code is not None and 1024 <= code < 32767 else None


def _stated_epsg(crs) -> int | None:
    """The EPSG code a CRS states itself (its ``ID``/``AUTHORITY``), without a database search."""
    try:
        ident = crs.to_json_dict().get("id") or {}
    except Exception:
        return None
    if ident.get("authority") == "EPSG" and str(ident.get("code", "")).isdigit():
        return int(ident["code"])
    return None


@functools.lru_cache(maxsize=64)
def _identify_epsg(wkt: str) -> int | None:
    """pyproj's identification of a WKT without a stated code (~0.1 s; tiles of a survey share one WKT)."""
    try:
        from pyproj import CRS as ProjCRS

        return ProjCRS.from_wkt(wkt).to_epsg()
    except Exception:
        return None


def _crs_sanity(crs: CRS, wkt: str | None, bounds: np.ndarray | None) -> list[str]:
    """Warn when the declared CRS cannot be right for the coordinates."""
    if bounds is None or crs.epsg is None or not np.isfinite(bounds).all():
        return []
    try:
        from pyproj import CRS as ProjCRS

        proj = ProjCRS.from_epsg(crs.epsg)
    except Exception:
        return []
    centre = (bounds[:3] + bounds[3:]) / 2
    if proj.is_geocentric:
        radius = float(np.linalg.norm(centre))
        if not 6.2e6 < radius < 6.5e6:
            return [
                f"The file declares EPSG:{crs.epsg} (geocentric) but its coordinates lie {radius / 1000:,.0f} km "
                "from the Earth's centre; its CRS is probably wrong."
            ]
    elif proj.is_geographic:
        if not (-360 <= bounds[0] and bounds[3] <= 360 and -90 <= bounds[1] and bounds[4] <= 90):
            return [
                f"The file declares EPSG:{crs.epsg} (longitude/latitude) but its coordinates are not angles; "
                "its CRS is probably wrong."
            ]
    return []
