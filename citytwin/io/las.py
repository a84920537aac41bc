"""LAS 1.0–1.4, LAZ and COPC point clouds, read in chunks with laspy (+ lazrs).

The file is read chunk by chunk (``LasReader.read_points``), so memory stays
bounded by the point budget rather than by the file: every chunk adds to the
whole-file facts (class counts, actual bounds, largest colour value) and then
gives up a uniform random subset of its points (a fixed seed, so a file always
loads the same way) sized so that the kept points never exceed
:attr:`~citytwin.io.options.LoadOptions.point_budget`. Uncompressed LAS skips
laspy's point parsing (its records are read straight into numpy), and a COPC
file over budget loads only the coarse levels of its octree that fit, a fast
and even preview whose class counts then cover the loaded points only
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
from citytwin.model.pointcloud import PointCloud, normalise_rgb

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


#: Per-point attributes kept besides xyz and RGB, with the dtype the model stores.
_ATTRIBUTE_DTYPES = (
    ("classification", np.uint8),
    ("intensity", np.uint16),
    ("return_number", np.uint8),
    ("number_of_returns", np.uint8),
    ("gps_time", np.float64),
)


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
    dims = set(pf.dimension_names)
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
    want = {
        "classification": "classification" in dims,
        "intensity": "intensity" in dims,
        "return_number": "return_number" in dims,
        "number_of_returns": "number_of_returns" in dims,
        "gps_time": "gps_time" in dims,
        "rgb": {"red", "green", "blue"} <= dims,
    }
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("xyz", *want)}
    class_counts = np.zeros(256, np.int64)
    lo = np.full(3, np.iinfo(np.int64).max, np.int64)
    hi = np.full(3, np.iinfo(np.int64).min, np.int64)
    rgb_max = 0
    rng = None  # numpy.random costs ~4 ms to import: only the chunked budget path needs it
    chunk_size = int(min(max(total // 10, MIN_CHUNK_POINTS), CHUNK_POINTS))
    tracker = Progress(max(total, 1), progress, cancel)
    done = kept = 0
    tracker.update(0)
    read_path = "laspy chunks"
    class_counts_complete = True
    copc_levels: dict[str, Any] | None = None
    if fmt == "COPC" and total > budget:
        copc = _read_copc(path, header, total, budget, want, tracker)
        if copc is not None:  # the coarse octree levels that fit the budget: skip the chunk loop below
            parts, class_counts, lo, hi, rgb_max, copc_levels = copc
            done, kept = total, sum(len(x) for x in parts["xyz"])
            read_path = "COPC levels"
            class_counts_complete = False
    if fmt == "LAS":
        direct = _read_direct(path, header, total, budget, want, tracker)
        if direct is not None:  # read straight from the file: skip laspy's chunk loop below
            parts, class_counts, lo, hi, rgb_max = direct
            done, kept = total, sum(len(x) for x in parts["xyz"])
            read_path = "direct records"
    while done < total:
        n_req = min(chunk_size, total - done)
        try:
            points = reader.read_points(n_req)
        except Exception as exc:  # lazrs / numpy errors on damaged or truncated data
            if done == 0:
                raise ReaderError(
                    f"The point data is damaged or truncated and cannot be read ({_describe(exc)}).", path
                ) from None
            warnings.append(
                f"The point data is damaged or truncated after {done:,} of {total:,} points; "
                f"the remaining {total - done:,} were skipped."
            )
            total = done
            break
        n = len(points)
        if n == 0:
            warnings.append(
                f"The point data ends after {done:,} of {total:,} points; the remaining {total - done:,} were skipped."
            )
            total = done
            break
        raw = [np.asarray(points[c]) for c in ("X", "Y", "Z")]
        for k in range(3):
            lo[k] = min(lo[k], int(raw[k].min()))
            hi[k] = max(hi[k], int(raw[k].max()))
        cls = np.asarray(points["classification"]) if want["classification"] else None
        if cls is not None:
            class_counts += np.bincount(cls, minlength=256)[:256]
        if want["rgb"]:
            rgb_max = max(rgb_max, *(int(np.asarray(points[c]).max()) for c in ("red", "green", "blue")))
        # Uniform subset: chunk [done, done + n) keeps its share of the budget.
        if total > budget:
            n_keep = (done + n) * budget // total - done * budget // total
            rng = rng if rng is not None else np.random.default_rng(SUBSAMPLE_SEED)
            sel = np.sort(rng.choice(n, size=n_keep, replace=False)) if n_keep < n else None
        else:
            sel = None

        def take(a: np.ndarray, sel: np.ndarray | None = sel) -> np.ndarray:
            return a if sel is None else a[sel]

        xyz = np.empty((n if sel is None else len(sel), 3), np.float64)
        for k in range(3):
            np.multiply(take(raw[k]), scales[k], out=xyz[:, k])
            xyz[:, k] += offsets[k]
        parts["xyz"].append(xyz)
        if cls is not None:
            parts["classification"].append(take(cls).astype(np.uint8, copy=False))
        for name, dtype in (
            ("intensity", np.uint16),
            ("return_number", np.uint8),
            ("number_of_returns", np.uint8),
            ("gps_time", np.float64),
        ):
            if want[name]:
                parts[name].append(take(np.asarray(points[name])).astype(dtype, copy=False))
        if want["rgb"]:
            parts["rgb"].append(np.column_stack([take(np.asarray(points[c])) for c in ("red", "green", "blue")]))
        kept += len(xyz)
        done += n
        tracker.update(done)
    tracker.finish()

    def cat(name: str, empty_shape: tuple[int, ...], dtype) -> np.ndarray | None:
        if not want.get(name, True):
            return None
        chunks = parts[name]
        if not chunks:
            return np.zeros(empty_shape, dtype)
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)

    xyz = cat("xyz", (0, 3), np.float64)
    rgb = cat("rgb", (0, 3), np.uint16)
    if rgb is not None:
        rgb = normalise_rgb(rgb, rgb_max)

    crs, crs_warnings, wkt = _crs(header)
    warnings.extend(crs_warnings)
    bounds = _bounds(header, lo, hi, scales, offsets, done, warnings)
    warnings.extend(_crs_sanity(crs, wkt, bounds))
    if kept < done:
        warnings.append(f"{kept:,} of {done:,} points were loaded (point budget {budget:,}).")
    if not class_counts_complete:
        warnings.append(
            f"The class counts are from the {kept:,} points loaded, not from all {done:,} points of the file."
        )
    if declared == 0:
        warnings.append("The file holds no points.")

    metadata: dict[str, Any] = {
        "points_declared": declared,
        "scales": scales.tolist(),
        "offsets": offsets.tolist(),
        "generating_software": _clean(header.generating_software),
        "system_identifier": _clean(header.system_identifier),
        "creation_date": None if header.creation_date is None else header.creation_date.isoformat(),
        "dimensions": list(pf.dimension_names),
        "rgb_bits": None if rgb is None else (16 if rgb_max > 255 else 8),
        "read_path": read_path,
    }
    if copc_levels is not None:
        metadata["copc_levels"] = copc_levels
    if wkt:
        metadata["crs_wkt"] = wkt
    return PointCloud(
        xyz=xyz,
        classification=cat("classification", (0,), np.uint8),
        intensity=cat("intensity", (0,), np.uint16),
        rgb=rgb,
        return_number=cat("return_number", (0,), np.uint8),
        number_of_returns=cat("number_of_returns", (0,), np.uint8),
        gps_time=cat("gps_time", (0,), np.float64),
        crs=crs,
        format=fmt,
        version=str(header.version),
        point_format=int(pf.id),
        points_in_file=int(done),
        class_counts={int(c): int(class_counts[c]) for c in np.flatnonzero(class_counts)},
        class_counts_complete=class_counts_complete,
        file_bounds=bounds,
        warnings=warnings,
        source=path,
        metadata=metadata,
    )


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


def _read_copc(path: Path, header, total: int, budget: int, want: dict[str, bool], tracker):
    """COPC over budget: the octree's coarse levels that fit the budget, for a fast, even preview.

    Every octree level spreads its points over the whole extent, each deeper
    level at twice the density, so levels ``0 … L`` (``L`` the deepest whose
    cumulative point count fits ``budget``) are a thinned copy of the whole
    cloud that is read without decompressing the rest. When even the root level
    holds more than ``budget`` points, a stratified subset of it is kept.
    Class counts then describe the loaded points only (the header's bounds
    still describe the file, when they hold the loaded points). Returns
    ``None`` when laspy cannot read the file as COPC (the chunked reader takes over).
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
    if n == 0:
        return None
    sel = stratified_indices(n, budget) if n > budget else None
    rows = rec if sel is None else rec[sel]
    scales = np.asarray(header.scales, dtype=np.float64)
    offsets = np.asarray(header.offsets, dtype=np.float64)
    m = len(rows)
    xyz = np.empty((m, 3), np.float64)
    lo = np.empty(3, np.int64)
    hi = np.empty(3, np.int64)
    for k, c in enumerate(("X", "Y", "Z")):
        col = rows[c]
        lo[k], hi[k] = int(col.min()), int(col.max())
        dst = xyz[:, k]
        np.copyto(dst, col, casting="unsafe")
        dst *= scales[k]
        dst += offsets[k]
    kept = points if sel is None else laspy.PackedPointRecord(rows, header.point_format)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("xyz", *want)}
    parts["xyz"].append(xyz)
    class_counts = np.zeros(256, np.int64)
    rgb_max = 0
    for name, dtype in _ATTRIBUTE_DTYPES:
        if want[name]:
            parts[name].append(np.asarray(kept[name]).astype(dtype, copy=False))
    if want["classification"]:
        class_counts += np.bincount(parts["classification"][0], minlength=256)[:256]
    if want["rgb"]:
        rgb = np.empty((m, 3), np.uint16)
        for k, c in enumerate(("red", "green", "blue")):
            rgb[:, k] = rows[c]
        rgb_max = int(rgb.max()) if m else 0
        parts["rgb"].append(rgb)
    tracker.update(total)
    levels = {
        "points_per_level": [int(c) for c in counts],
        "levels_loaded": deepest + 1,
        "points_in_levels": int(cumulative[deepest]),
    }
    return parts, class_counts, lo, hi, rgb_max, levels


def _bit_field(pf, name: str) -> tuple[str, int, int] | None:
    """``(packed byte field, mask, shift)`` of a bit-packed LAS dimension (``return_number`` …), else ``None``."""
    try:
        from laspy.point.dims import COMPOSED_FIELDS

        for packed, subs in COMPOSED_FIELDS[pf.id].items():
            for sub in subs:
                if sub.name == name:
                    mask = int(sub.mask)
                    return packed, mask, (mask & -mask).bit_length() - 1
    except Exception:  # another laspy layout: let laspy unpack it
        return None
    return None


def _read_direct(path: Path, header, total: int, budget: int, want: dict[str, bool], tracker):
    """Uncompressed LAS: read the point records as numpy records, without laspy's point parsing.

    One sequential pass in blocks of :data:`DIRECT_BLOCK_POINTS` records into one
    reused, cache-sized buffer, so memory stays bounded by the block and the kept
    points, not by the file: every block adds to the whole-file facts (class
    counts from the classification byte, coordinate bounds, largest colour value)
    and gives up the records kept from it (all of them, or
    :func:`stratified_indices` when the file holds more than ``budget``), decoded
    straight into the output arrays (scale and offset applied in place, bit
    fields unpacked with masks: no whole-array temporaries).
    Returns ``None`` when the records do not match laspy's layout, so the caller
    falls back on the chunked reader.
    """
    laspy = _laspy()
    pf = header.point_format
    dtype = _record_dtype(pf)
    if dtype is None:
        return None
    scales = np.asarray(header.scales, dtype=np.float64)
    offsets = np.asarray(header.offsets, dtype=np.float64)
    # Formats 6-10 store the class in a byte of its own; 0-5 in the low 5 bits of a flags byte.
    cls_field, cls_mask = ("classification", 0xFF) if "classification" in dtype.names else ("raw_classification", 0x1F)
    has_cls = want["classification"] and cls_field in dtype.names
    bits = {name: _bit_field(pf, name) for name in ("return_number", "number_of_returns") if want[name]}
    keep = stratified_indices(total, budget) if total > budget else None
    n_out = total if keep is None else len(keep)
    out: dict[str, np.ndarray] = {"xyz": np.empty((n_out, 3), np.float64)}
    for name, out_dtype in _ATTRIBUTE_DTYPES:
        if want[name]:
            out[name] = np.empty(n_out, out_dtype)
    if want["rgb"]:
        out["rgb"] = np.empty((n_out, 3), np.uint16)
    class_counts = np.zeros(256, np.int64)
    lo = np.full(3, np.iinfo(np.int64).max, np.int64)
    hi = np.full(3, np.iinfo(np.int64).min, np.int64)
    rgb_max = 0
    block = int(max(min(DIRECT_BLOCK_POINTS, total), 1))
    buf = np.empty(block, dtype)
    raw = buf.view(np.uint8)
    codes_buf = np.empty(block, np.uint8)
    try:
        fh = open(path, "rb", buffering=0)
    except OSError:
        return None
    with fh:
        fh.seek(int(header.offset_to_point_data))
        start = pos = 0
        while start < total:
            n = min(block, total - start)
            got = 0
            view = raw[: n * dtype.itemsize]
            while got < len(view):  # readinto may return less than asked
                step = fh.readinto(view[got:]) or 0
                if step == 0:
                    return None  # the file shrank under us: let the chunked reader report it
                got += step
            rec = buf[:n]
            for k, c in enumerate(("X", "Y", "Z")):
                col = rec[c]
                lo[k] = min(lo[k], int(col.min()))
                hi[k] = max(hi[k], int(col.max()))
            codes = None
            if has_cls:
                codes = rec[cls_field]
                if cls_mask != 0xFF:
                    codes = np.bitwise_and(codes, cls_mask, out=codes_buf[:n])
                class_counts += np.bincount(codes, minlength=256)[:256]
            if want["rgb"]:
                rgb_max = max(rgb_max, *(int(rec[c].max()) for c in ("red", "green", "blue")))
            if keep is None:
                rows = rec
            else:
                a, b = np.searchsorted(keep, [start, start + n])
                rows = rec[keep[a:b] - start]
                codes = None if codes is None else codes[keep[a:b] - start]
            m = len(rows)
            sl = slice(pos, pos + m)
            xyz = out["xyz"][sl]
            for k, c in enumerate(("X", "Y", "Z")):
                # int32 → float64 once (a plain cast), then scale and offset in place: no temporaries.
                dst = xyz[:, k]
                np.copyto(dst, rows[c], casting="unsafe")
                dst *= scales[k]
                dst += offsets[k]
            if "classification" in out:
                out["classification"][sl] = (
                    codes if codes is not None else np.asarray(laspy.PackedPointRecord(rows, pf)["classification"])
                )
            if "intensity" in out:
                out["intensity"][sl] = rows["intensity"]
            if "gps_time" in out:
                out["gps_time"][sl] = rows["gps_time"]
            for name, spec in bits.items():
                dst = out[name][sl]
                if spec is None:
                    dst[:] = np.asarray(laspy.PackedPointRecord(rows, pf)[name])
                    continue
                field, mask, shift = spec
                np.bitwise_and(rows[field], mask, out=dst)
                if shift:
                    np.right_shift(dst, shift, out=dst)
            if "rgb" in out:
                for k, c in enumerate(("red", "green", "blue")):
                    out["rgb"][sl, k] = rows[c]
            pos += m
            start += n
            tracker.update(start)
    parts = {k: ([out[k]] if k in out else []) for k in ("xyz", *want)}
    return parts, class_counts, lo, hi, rgb_max


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
