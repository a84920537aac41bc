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
when some points could be read, in those points and a warning.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.errors import ReaderError
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
    try:
        reader = laspy.open(path)
    except (laspy.errors.PointFormatNotSupported, laspy.errors.FileVersionNotSupported) as exc:
        raise ReaderError(f"The LAS header is damaged or of an unsupported kind ({_describe(exc)}).", path) from None
    except laspy.errors.LaspyException as exc:
        raise ReaderError(f"This is not a readable LAS/LAZ file ({_describe(exc)}).", path) from None
    except Exception as exc:  # struct, unicode, lazrs … errors on a damaged header
        raise ReaderError(f"The LAS header is damaged ({_describe(exc)}).", path) from None
    with reader:
        return _read_open(reader, path, size, options, progress, cancel)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:160].rstrip(".")


def _read_open(reader, path: Path, size: int, options: LoadOptions, progress, cancel) -> PointCloud:
    header = reader.header
    warnings: list[str] = []
    pf = header.point_format
    declared = int(header.point_count)
    compressed = bool(header.are_points_compressed)
    is_copc = any(getattr(v, "user_id", "") == "copc" and getattr(v, "record_id", 0) == 1 for v in header.vlrs)
    fmt = "COPC" if is_copc else ("LAZ" if compressed else "LAS")

    total = declared
    if not compressed:
        # Points the bytes can actually hold (up to the first extended VLR, if any).
        end = size
        evlr_start = getattr(header, "start_of_first_evlr", 0) or 0
        if int(getattr(header, "number_of_evlrs", 0) or 0) and header.offset_to_point_data < evlr_start <= size:
            end = evlr_start
        room = max(end - int(header.offset_to_point_data), 0) // max(int(pf.size), 1)
        if room < declared:
            warnings.append(
                f"The header declares {declared:,} points but the file holds only {room:,}; "
                f"the missing {declared - room:,} were skipped (the file is truncated)."
            )
            total = room
    if declared > 0 and total == 0:
        raise ReaderError(f"The file holds no point data although its header declares {declared:,} points.", path)

    budget = max(int(options.point_budget), 0)
    scales = np.asarray(header.scales, dtype=np.float64)
    offsets = np.asarray(header.offsets, dtype=np.float64)
    layout = _RecordLayout.of(pf)
    facts = _FileFacts(layout)
    tracker = Progress(max(total, 1), progress, cancel)
    tracker.update(0)
    records: np.ndarray | None = None
    read_path = "laspy chunks"
    done = total
    copc_levels: dict[str, Any] | None = None
    if fmt == "COPC" and total > budget:
        copc = _read_copc(path, total, budget, facts, tracker)
        if copc is not None:  # the coarse octree levels that fit the budget: skip the chunk loop below
            records, copc_levels = copc
            read_path = "COPC levels"
    if records is None and fmt == "LAS":
        records = _read_direct(path, header, total, budget, facts, tracker)
        if records is not None:
            read_path = "direct records"
    if records is None:
        records, done, read_path = _read_chunks(reader, path, total, budget, facts, tracker, warnings)
    tracker.finish()
    kept = len(records)

    crs, crs_warnings, wkt = _crs(header)
    warnings.extend(crs_warnings)
    bounds = _bounds(header, facts.lo, facts.hi, scales, offsets, done, warnings)
    warnings.extend(_crs_sanity(crs, wkt, bounds))
    if kept < done:
        warnings.append(f"{kept:,} of {done:,} points were loaded (point budget {budget:,}).")
    if copc_levels is not None:
        warnings.append(
            f"The class counts are from the {kept:,} points loaded, not from all {done:,} points of the file."
        )
    if declared == 0:
        warnings.append("The file holds no points.")

    fields = {name: spec for name, spec in layout.fields.items() if spec is not None}
    # LAS asks for 16-bit colour, but many writers store 8-bit values: a file whose largest
    # channel value is above 255 is read as 16-bit.
    point_records = PointRecords(
        records, scales, offsets, fields, layout.rgb, rgb_shift=8 if facts.rgb_max > 255 else 0
    )
    # A bit field laspy lays out in a way we do not know: let laspy unpack it, eagerly.
    unpacked = {
        name: np.asarray(_laspy().PackedPointRecord(records, pf)[name]).astype(ATTRIBUTE_DTYPES[name])
        for name, spec in layout.fields.items()
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
        "rgb_bits": None if layout.rgb is None else (16 if facts.rgb_max > 255 else 8),
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
        class_counts_complete=copc_levels is None,
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
    reader, path: Path, total: int, budget: int, facts: _FileFacts, tracker, warnings: list[str]
) -> tuple[np.ndarray, int, str]:
    """Records through laspy's chunked reader (LAZ, and LAS that numpy cannot take directly).

    Returns the records kept (all, or a uniform subset of each chunk so that
    they fit ``budget``), the number of points read (less than ``total``
    when the data ends early) and how they were read.
    """
    chunk_size = int(min(max(total // 10, MIN_CHUNK_POINTS), CHUNK_POINTS))
    out: np.ndarray | None = None
    decompressor = _lazrs_decompressor(reader, facts.layout.dtype) if total <= budget else None
    if decompressor is not None:
        # Whole LAZ chunks per call (lazrs decompresses them in parallel), straight into the output.
        decompressor, laz_chunk = decompressor
        chunk_size = max(-(-chunk_size // laz_chunk), os.cpu_count() or 1) * laz_chunk
        out = np.empty(total, facts.layout.dtype)
    rng = None  # numpy.random costs ~4 ms to import: only the over-budget path needs it
    done = pos = 0
    while done < total:
        n_req = min(chunk_size, total - done)
        try:
            if decompressor is not None:
                rec = out[done : done + n_req]  # type: ignore[index]
                decompressor.decompress_many(rec.view(np.uint8))
            else:
                rec = reader.read_points(n_req).array
        except Exception as exc:  # lazrs / numpy errors on damaged or truncated data
            if done == 0:
                raise ReaderError(
                    f"The point data is damaged or truncated and cannot be read ({_describe(exc)}).", path
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
            out = np.empty(min(total, budget), rec.dtype)
        if decompressor is None:
            out[pos : pos + len(rec)] = rec
        pos += len(rec)
        done += n
        tracker.update(done)
    if out is None:
        out = np.empty(0, facts.layout.dtype)
    return out[:pos], done, "laspy chunks" if decompressor is None else "lazrs into records"


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
    except Exception:  # a damaged file, another backend or laspy version: laspy's reader reports or reads it
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
    block = int(max(min(DIRECT_BLOCK_POINTS, total), 1))
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
    """Points in each level of a COPC octree (index = level), from its hierarchy alone (no point is read)."""
    from laspy.copc import load_octree_for_query

    nodes = load_octree_for_query(reader.source, reader.copc_info, reader.root_page)
    counts: list[int] = []
    for node in nodes:
        level = int(node.key.level)
        counts.extend([0] * (level + 1 - len(counts)))
        counts[level] += int(node.point_count)
    return counts


def _read_copc(path: Path, total: int, budget: int, facts: _FileFacts, tracker):
    """COPC over budget: the octree's coarse levels that fit the budget, for a fast, even preview.

    Every octree level spreads its points over the whole extent, each deeper
    level at twice the density, so levels ``0 … L`` (``L`` the deepest whose
    cumulative point count fits ``budget``) are a thinned copy of the whole
    cloud that is read without decompressing the rest. When even the root level
    holds more than ``budget`` points, a stratified subset of it is kept.
    Class counts then describe the loaded points only (the header's bounds
    still describe the file, when they hold the loaded points). Returns the
    records kept and a description of the levels, or ``None`` when laspy cannot
    read the file as COPC (the chunked reader takes over).
    """
    laspy = _laspy()
    try:
        with laspy.CopcReader.open(path) as reader:
            counts = copc_level_counts(reader)
            if not counts or sum(counts) <= 0:
                return None
            cumulative = np.cumsum(counts)
            fits = np.flatnonzero(cumulative <= budget)
            deepest = int(fits[-1]) if len(fits) else 0
            tracker.update(0)
            points = reader.query(level=range(0, deepest + 1))
    except Exception:  # not a valid COPC after all, lazrs missing, damaged hierarchy …
        return None
    rec = points.array
    n = len(rec)
    if n == 0 or rec.dtype != facts.layout.dtype:
        return None
    rows = rec if n <= budget else rec[stratified_indices(n, budget)]
    facts.add(rows)
    tracker.update(total)
    levels = {
        "points_per_level": [int(c) for c in counts],
        "levels_loaded": deepest + 1,
        "points_in_levels": int(cumulative[deepest]),
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
