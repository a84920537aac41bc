"""CityJSON (0.6 – 2.0) and CityJSONSeq readers.

Two paths give the same model. The fast one (:mod:`citytwin.io.cityjson_raw`)
decodes the document with msgspec, keeps the vertex and index arrays as raw
bytes and reads them with numpy; it takes files without geometry templates or
textures whose geometry is regular. Anything else is parsed with orjson:
vertices become one float64 array with the ``transform`` applied to the whole
array, and the geometry of all city objects is flattened by
:mod:`citytwin.io.cityjson_geometry`. Both hand their flat arrays to
:class:`~citytwin.model.geometry.MeshBuilder` in one call. A CityJSONSeq file is
streamed line by line; well-formed features are read by the fast path in batches.
"""

from __future__ import annotations

import os
from collections import Counter
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from citytwin.errors import ReaderError
from citytwin.io import cityjson_raw
from citytwin.io.cityjson_appearance import parse_materials, parse_textures, texture_vertices
from citytwin.io.cityjson_geometry import FlatGeometry, GeometryFlattener, Templates
from citytwin.io.files import open_regular
from citytwin.io.options import CancelCheck, LoadOptions, Progress, ProgressCallback, gc_paused
from citytwin.model.citymodel import CityModel, SourceDocument
from citytwin.model.cityobjects import CityObjects
from citytwin.model.crs import CRS
from citytwin.model.geometry import Material, MeshBuilder, Texture

#: Versions whose structure this reader knows.
KNOWN_VERSIONS = ("0.6", "0.7", "0.8", "0.9", "1.0", "1.1", "2.0")

#: Coordinates beyond this magnitude are treated as invalid (no CRS reaches them).
MAX_COORDINATE = 1e12

#: A CityJSONSeq batch read by the fast path at once: at most this many features or bytes of lines.
_BATCH_FEATURES = 4096
_BATCH_BYTES = 16 * 2**20
#: After this many batches the fast path could not read, a CityJSONSeq file is read line by line.
_MAX_FAILED_BATCHES = 3

#: Legacy (0.6) keys listing the children of an object.
_CHILD_KEYS = ("children", "Parts", "Installations", "ConstructionElements")


# ------------------------------------------------------------------ parsing
def parse_json(data: bytes, path: Path, line: int | None = None) -> Any:
    """orjson with one readable sentence for every way a file can be broken."""
    if not data.strip():
        raise ReaderError("The file is empty.", path, line)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        where = line if line is not None else exc.lineno
        bad = data[exc.pos : exc.pos + 9].lstrip(b"-")
        if bad.startswith((b"NaN", b"Infinity", b"inf", b"nan")) or "infinity" in exc.msg:
            msg = "The file holds NaN, Infinity or a number too large for a double, which JSON does not allow."
        elif "end of data" in exc.msg or exc.pos >= len(data.rstrip()):
            msg = "The file ends before its JSON is complete; it is probably truncated."
        elif "depth" in exc.msg or "recursion" in exc.msg:
            msg = "The file is nested too deeply to be CityJSON."
        else:
            msg = f"The file is not valid JSON ({exc.msg})."
        raise ReaderError(msg, path, where) from None


def _version(doc: dict, warnings: list[str]) -> str:
    version = doc.get("version")
    text = str(version) if isinstance(version, str | int | float) else ""
    if not text:
        warnings.append("The file declares no CityJSON version; it was read as CityJSON 2.0.")
        return "unknown"
    if not any(text == v or text.startswith(v + ".") for v in KNOWN_VERSIONS):
        warnings.append(f"CityJSON version {text} is not one citytwin knows (0.6 to 2.0); it was read as 2.0.")
    return text


def _transform(doc: dict, path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    tr = doc.get("transform")
    if tr is None:
        return None
    try:
        scale = np.array(tr["scale"], dtype=np.float64)
        translate = np.array(tr["translate"], dtype=np.float64)
        if (
            scale.shape != (3,)
            or translate.shape != (3,)
            or not (np.isfinite(scale).all() and np.isfinite(translate).all())
        ):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise ReaderError('The "transform" needs a "scale" and a "translate" of three numbers each.', path) from None
    return scale, translate


def vertices_array(raw: Any, transform: tuple[np.ndarray, np.ndarray] | None, path: Path, line: int | None = None):
    """``vertices`` as ``(N, 3)`` float64 with the transform applied to the whole array."""
    if not isinstance(raw, list):
        raise ReaderError('The file has no "vertices" array.', path, line)
    if not raw:
        return np.zeros((0, 3))
    v = None
    if set(map(type, raw)) == {list} and set(map(len, raw)) == {3}:
        try:  # the usual case, twice as fast as np.array on nested lists
            v = np.fromiter(chain.from_iterable(raw), np.float64, count=3 * len(raw)).reshape(-1, 3)
        except (TypeError, ValueError, OverflowError):
            v = None
    if v is None:
        try:
            v = np.array(raw, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            v = None
    if v is None or v.ndim != 2 or v.shape[1] != 3:
        raise ReaderError('Every entry of "vertices" must be a list of three numbers.', path, line)
    return _apply_transform(v, transform)


def _apply_transform(v: np.ndarray, transform: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    if transform is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            v = v * transform[0] + transform[1]
    return v


def _crs(metadata: dict) -> CRS:
    ref = metadata.get("referenceSystem")
    if isinstance(ref, str):
        return CRS.parse(ref)
    crs = metadata.get("crs")  # CityJSON 0.6 – 0.9: {"epsg": 7415}
    if isinstance(crs, dict) and isinstance(crs.get("epsg"), int):
        return CRS.parse(f"EPSG:{crs['epsg']}")
    if isinstance(crs, str | int):
        return CRS.parse(str(crs))
    return CRS()


def _templates(doc: dict) -> Templates | None:
    gt = doc.get("geometry-templates")
    if not isinstance(gt, dict):
        return None
    templates = gt.get("templates")
    try:
        tv = np.array(gt.get("vertices-templates") or [], dtype=np.float64).reshape(-1, 3)
    except (TypeError, ValueError):
        tv = np.zeros((0, 3))
    return Templates(templates if isinstance(templates, list) else [], tv)


def _metadata(doc: dict | cityjson_raw.Document) -> dict[str, Any]:
    source = doc.get("metadata")
    meta = dict(source) if isinstance(source, dict) else {}
    if "geographicalExtent" not in meta and isinstance(meta.get("bbox"), list):
        meta["geographicalExtent"] = meta["bbox"]  # CityJSON 0.6
    for key in ("extensions", "transform"):
        value = doc.get(key, _MISSING)
        if value is not _MISSING:
            meta[key] = value
    return meta


_MISSING = object()


# ---------------------------------------------------------------- assembly
_SKIP_HUGE = f"vertices with coordinates beyond ±{MAX_COORDINATE:.0e} or not finite were ignored"


def _bounded(vertices: np.ndarray) -> tuple[np.ndarray, int]:
    """Vertices with absurd magnitudes set to NaN (they would overflow later), and how many.

    NaN and inf are counted by the builder; only the magnitude is checked here.
    """
    with np.errstate(invalid="ignore"):
        small = np.abs(vertices) <= MAX_COORDINATE
        huge = ~(small[:, 0] & small[:, 1] & small[:, 2])  # column by column: ~5x faster than .all(axis=1)
    if not huge.any():
        return vertices, 0
    return np.where(huge[:, None], np.nan, vertices), int(huge.sum())


class _Assembler:
    """Collects city objects and flattened geometry chunk by chunk, then builds the model."""

    def __init__(self, path: Path, options: LoadOptions, templates: Templates | None):
        self.path = path
        self.options = options
        self.skipped: Counter[str] = Counter()
        self.flattener = GeometryFlattener(options.lod_code_range(), templates, self.skipped)
        self.ids: list[str] = []
        self.types: list[str] = []
        self.raw: list[dict] = []
        self.parts: list[FlatGeometry] = []
        self.materials: list[Material] = []
        self.textures: list[Texture] = []
        self.missing_textures: list[str] = []

    def add_chunk(
        self,
        cityobjects: Any,
        vertices: np.ndarray,
        appearance: Any,
        tick=None,
    ) -> None:
        """Add the city objects of a file or a feature, with the vertices and appearance they index."""
        if not isinstance(cityobjects, dict):
            raise ReaderError('The "CityObjects" member must be an object of city objects.', self.path)
        items = [(k, v) for k, v in cityobjects.items() if isinstance(v, dict)]
        if len(items) != len(cityobjects):
            self.skipped["city objects that are not JSON objects were skipped"] += len(cityobjects) - len(items)
        items = self._filter_types(items)
        vertices, n_huge = _bounded(vertices)
        if n_huge:
            self.skipped[_SKIP_HUGE] += n_huge
        app = appearance if isinstance(appearance, dict) else {}
        materials = parse_materials(app.get("materials"))
        textures, _ = parse_textures(app.get("textures"), self.path.parent)
        self.missing_textures.extend(t.path for t in textures if not t.exists)
        objects = self._numbered(items)
        self._register(items, objects)
        self.parts.append(
            self.flattener.flatten(
                objects,
                vertices,
                n_materials=len(materials),
                n_textures=len(textures),
                material_base=len(self.materials),
                texture_base=len(self.textures),
                uv_table=texture_vertices(app.get("vertices-texture")),
                tick=tick,
            )
        )
        self.materials.extend(materials)
        self.textures.extend(textures)

    def add_decoded(self, doc: cityjson_raw.Document, vertices: np.ndarray, tick=None) -> bool:
        """Add a document decoded by :mod:`citytwin.io.cityjson_raw`, whose vertices are read and transformed.

        Returns False, having added nothing, when the document needs :meth:`add_chunk` instead.
        """
        if (doc.appearance is not None and doc.appearance.textures) or doc.CityObjects is None:
            return False
        items = self._filter_types(list(doc.CityObjects.items()))
        return self._add_structs(items, vertices, cityjson_raw.materials(doc), tick)

    def add_features(self, features: list[cityjson_raw.Feature], transform) -> bool:
        """Add CityJSONFeatures (from :func:`cityjson_raw.decode_feature`) as one batch.

        Each feature's vertex indices address its own vertices; the result is what
        :meth:`add_chunk` gives feature by feature. Returns False, having added nothing,
        when the features need :meth:`add_chunk` instead.
        """
        read = cityjson_raw.vertices_from_raws([f.vertices for f in features])
        if read is None:  # decimals, say: each feature's vertices as JSON, as add_chunk reads them
            try:
                parts = [vertices_array(orjson.loads(bytes(f.vertices)), None, self.path) for f in features]
            except (orjson.JSONDecodeError, ReaderError):
                return False
            read = np.concatenate(parts), np.fromiter(map(len, parts), np.int64, count=len(parts))
        vertices, counts = read
        first = np.concatenate([[0], np.cumsum(counts[:-1])])
        items: list[tuple[str, Any]] = []
        per_object: list[int] = []  # which feature
        for k, feature in enumerate(features):
            kept = self._filter_types(list(feature.CityObjects.items()))
            items.extend(kept)
            per_object.extend([k] * len(kept))
        which = np.asarray(per_object, np.int64)
        return self._add_structs(items, _apply_transform(vertices, transform), [], None, (first[which], counts[which]))

    def _add_structs(self, items, vertices, materials, tick, vertex_ranges=None) -> bool:
        vertices, n_huge = _bounded(vertices)
        objects = self._numbered(items)
        flat = cityjson_raw.flatten(
            self.flattener, objects, vertices, n_materials=len(materials), material_base=len(self.materials),
            tick=tick, vertex_ranges=vertex_ranges,
        )  # fmt: skip
        if flat is None:
            return False
        if n_huge:
            self.skipped[_SKIP_HUGE] += n_huge
        self._register(items, objects)
        self.parts.append(flat)
        self.materials.extend(materials)
        return True

    def _numbered(self, items: list[tuple[str, Any]]) -> list[tuple[int, str, Any]]:
        """``(index, type, object)`` of objects about to be added, for the flattener (nothing is added yet)."""
        start = len(self.ids)
        objs = [co for _, co in items]
        structs = all(type(co) is cityjson_raw.CityObject for co in objs)
        types = [t if type(t) is str else "CityObject" for t in _column(objs, "type", structs)]
        return list(zip(range(start, start + len(items)), types, objs, strict=True))

    def _register(self, items: list[tuple[str, Any]], objects: list[tuple[int, str, Any]]) -> None:
        """Append the objects numbered by :meth:`_numbered` to the table's columns."""
        self.ids.extend(str(ident) for ident, _ in items)
        self.types.extend(otype for _, otype, _ in objects)
        self.raw.extend(co for _, _, co in objects)

    def _filter_types(self, items: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
        """Keep objects whose top-level ancestor (within the chunk) has a kept type."""
        if self.options.types is None:
            return items
        parent = {}
        for ident, co in items:
            for p in _parent_ids(co.get("parents"), co.get("parent"))[:1]:
                parent[ident] = p
            for key in _CHILD_KEYS:
                children = co.get(key)
                for child in children if isinstance(children, list) else []:
                    if isinstance(child, str):
                        parent.setdefault(child, ident)
        type_of = {ident: co.get("type") for ident, co in items}
        kept = []
        for ident, co in items:
            root = ident
            for _ in range(64):  # bounded against cycles
                p = parent.get(root)
                if p is None or p not in type_of:
                    break
                root = p
            if self.options.keeps_type(type_of[root]):
                kept.append((ident, co))
        return kept

    # ------------------------------------------------------------ finishing
    def _objects(self) -> CityObjects:
        n = len(self.ids)
        index = dict(zip(reversed(self.ids), range(n - 1, -1, -1), strict=True))  # the first row of a repeated id
        raw = self.raw
        structs = all(type(co) is cityjson_raw.CityObject for co in raw)
        parent = [-1] * n
        unknown = 0
        parents_col, parent_col = _column(raw, "parents", structs), _column(raw, "parent", structs)
        for i in _present(parents_col, parent_col):
            parents = _parent_ids(parents_col[i], parent_col[i])
            if parents:
                p = index.get(parents[0], -1)
                unknown += p < 0
                if p != i:
                    parent[i] = p
        for key in _CHILD_KEYS:
            column = _column(raw, key, structs)
            for i in _present(column):
                children = column[i]
                for child in children if isinstance(children, list) else []:
                    c = index.get(child, -1) if isinstance(child, str) else -1
                    unknown += c < 0
                    if c >= 0 and c != i and parent[c] < 0:
                        parent[c] = i
        if unknown and self.options.types is None:
            self.skipped["references to parent or child objects that are not in the file were ignored"] += unknown
        attributes = [a if isinstance(a, dict) else {} for a in _column(raw, "attributes", structs)]
        table = CityObjects()
        table.extend(self.ids, self.types, parent, attributes)
        cycles = table.break_cycles()
        if cycles:
            self.skipped["parent/child cycles were broken (the first object of each cycle was made top-level)"] += (
                cycles
            )
        address_col = _column(raw, "address", structs)
        for i, attrs in enumerate(attributes):
            address = address_col[i]
            if address is None and attrs and isinstance(attrs.get("address"), dict | list):
                address = attrs["address"]  # some 1.0 files keep it as an attribute
            if isinstance(address, dict):
                table.addresses[i] = [address]
            elif isinstance(address, list) and address:
                table.addresses[i] = [a for a in address if isinstance(a, dict)]
        return table

    def _bbox_keep(self, table: CityObjects, flat: FlatGeometry) -> np.ndarray | None:
        """Objects to keep under ``options.bbox`` (by their top-level ancestor's geometry), or None."""
        bbox = self.options.bbox
        if bbox is None:
            return None
        roots = table.roots
        n = len(table)
        lo = np.full((n, 2), np.inf)
        hi = np.full((n, 2), -np.inf)
        if flat.n_polygons:
            verts_per_poly = np.add.reduceat(flat.ring_counts, np.concatenate([[0], np.cumsum(flat.poly_nrings)[:-1]]))
            verts_per_poly[flat.poly_nrings == 0] = 0
            vroot = np.repeat(roots[flat.poly_object], verts_per_poly)
            xy = flat.vertices[:, :2]
            finite = np.isfinite(xy).all(axis=1)
            np.minimum.at(lo, vroot[finite], xy[finite])
            np.maximum.at(hi, vroot[finite], xy[finite])
        xmin, ymin, xmax, ymax = bbox
        hit = (lo[:, 0] <= xmax) & (hi[:, 0] >= xmin) & (lo[:, 1] <= ymax) & (hi[:, 1] >= ymin)
        return hit[roots]

    def finish(
        self,
        fmt: str,
        version: str,
        crs: CRS,
        metadata: dict,
        warnings: list[str],
        source_document: SourceDocument | None = None,
    ) -> CityModel:
        """Build the mesh and the object table and return the model (keeping ``source_document`` for writing)."""
        table = self._objects()
        flat = FlatGeometry.concatenate(self.parts)
        keep = self._bbox_keep(table, flat)
        if keep is not None and not keep.all():
            table, remap = _subset(table, keep)
            flat = flat.select(keep[flat.poly_object])
            flat.poly_object = remap[flat.poly_object]
        builder = MeshBuilder()
        builder.materials.extend(self.materials)
        builder.textures.extend(self.textures)
        poly_index, ring_index = builder.add_polygons(
            flat.vertices, flat.ring_counts, flat.poly_nrings, flat.poly_object, flat.poly_semantic, flat.poly_lod
        )
        _apply_appearance(builder, flat, poly_index, ring_index)
        mesh = builder.build(max_polygon_vertices=self.options.max_polygon_vertices)
        warnings = list(warnings)
        for reason, count in sorted(self.skipped.items()):
            if count:
                warnings.append(f"{count} {reason}.")
        for reason, count in sorted(builder.skipped.items()):
            if count:
                warnings.append(f"{count} dropped: {reason}.")
        if self.missing_textures:
            uniq = sorted(set(self.missing_textures))
            warnings.append(
                f"{len(uniq)} texture image{'s are' if len(uniq) > 1 else ' is'} missing "
                f"(for example {Path(uniq[0]).name or uniq[0]!r}); those surfaces show without texture."
            )
        return CityModel(
            format=fmt,
            version=version,
            objects=table,
            mesh=mesh,
            crs=crs,
            source=self.path,
            metadata=metadata,
            warnings=warnings,
            source_document=source_document,
        )


def _parent_ids(parents: Any, parent: Any = None) -> list[str]:
    """The parent ids of an object from its ``parents`` (or CityJSON 0.8 – 0.9 ``parent``) member."""
    if isinstance(parents, list):
        return [p for p in parents if isinstance(p, str)]
    if isinstance(parent, str):
        return [parent]
    return []


def _column(objects: list, key: str, structs: bool) -> list:
    """One member of every city object (None where absent).

    The objects are dicts from the general path or structs from :mod:`citytwin.io.cityjson_raw`,
    both kinds for a CityJSONSeq file read partly line by line; ``structs``: only structs.
    """
    if structs:
        return list(map(attrgetter(key), objects))
    return [co.get(key) for co in objects]


def _present(*columns: list) -> list[int]:
    """Rows where any of the columns is not None."""
    if len(columns) == 1:
        return [i for i, v in enumerate(columns[0]) if v is not None]
    return [i for i, vs in enumerate(zip(*columns, strict=True)) if vs != (None,) * len(columns)]


def _subset(table: CityObjects, keep: np.ndarray) -> tuple[CityObjects, np.ndarray]:
    """A new table with the kept rows; ``remap`` maps old rows to new (-1 for dropped)."""
    remap = np.full(len(table), -1, np.int64)
    remap[keep] = np.arange(int(keep.sum()))
    out = CityObjects()
    parents = table.parents
    for i in np.flatnonzero(keep).tolist():
        p = int(parents[i])
        out.add(table.ids[i], table.types[i], int(remap[p]) if p >= 0 else -1, table.attributes[i])
        if i in table.addresses:
            out.addresses[int(remap[i])] = table.addresses[i]
    return out, remap


def _apply_appearance(builder: MeshBuilder, flat: FlatGeometry, poly_index: np.ndarray, ring_index: np.ndarray):
    for theme, (polys, mats) in flat.materials.items():
        p = poly_index[polys]
        ok = p >= 0
        builder.set_materials(theme, p[ok], mats[ok])
    if not flat.textures:
        return
    first_ring = np.zeros(flat.n_polygons, np.int64)
    np.cumsum(flat.poly_nrings[:-1], out=first_ring[1:])
    # Rings whose last point repeats the first lose it in the builder; their uv must too.
    offsets = np.concatenate([[0], np.cumsum(flat.ring_counts)])
    starts, last = offsets[:-1], np.maximum(offsets[1:] - 1, 0)
    closed = flat.ring_counts > 1
    closed[closed] = (flat.vertices[starts[closed]] == flat.vertices[last[closed]]).all(axis=1)
    for theme, t in flat.textures.items():
        uv_start = np.concatenate([[0], np.cumsum(t.uv_counts)])
        inside = t.ring < flat.poly_nrings[t.poly]
        p = poly_index[t.poly]
        r = np.where(inside, ring_index[first_ring[t.poly] + np.minimum(t.ring, flat.poly_nrings[t.poly] - 1)], -1)
        exterior = ring_index[first_ring[t.poly]]
        ok = (p >= 0) & (r >= 0) & inside
        source_ring = first_ring[t.poly] + np.minimum(t.ring, flat.poly_nrings[t.poly] - 1)
        trim = closed[source_ring] & (t.uv_counts == flat.ring_counts[source_ring])
        by_poly: dict[int, tuple[int, dict[int, np.ndarray]]] = {}
        for k in np.flatnonzero(ok).tolist():
            entry = by_poly.setdefault(int(p[k]), (int(t.texture[k]), {}))
            entry[1][int(r[k] - exterior[k])] = t.uv[uv_start[k] : uv_start[k + 1] - int(trim[k])]
        for poly, (tex, uvs) in by_poly.items():
            builder.set_texture(theme, poly, tex, uvs)


# ------------------------------------------------------------- entry points
def read(
    path: str | Path,
    options: LoadOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> CityModel:
    """Read a CityJSON file (0.6 to 2.0).

    Parameters
    ----------
    path
        The ``.json`` file.
    options
        LoD range, top-level types and bbox to keep.
    progress
        ``progress(done, total)`` in bytes.
    cancel
        Polled while reading; stops with :class:`~citytwin.errors.LoadCancelled`.

    Returns
    -------
    CityModel
        ``format="CityJSON"``, ``version`` as the file declares it.

    Raises
    ------
    ReaderError
        With one sentence, for a file that is not CityJSON or cannot be read.
    """
    with gc_paused():
        return _read(Path(path), options or LoadOptions(), progress, cancel)


def _read(path: Path, options: LoadOptions, progress: ProgressCallback | None, cancel: CancelCheck | None) -> CityModel:
    data = _read_bytes(path)
    prog = Progress(len(data), progress, cancel)
    prog.update(0)
    if _looks_like_sequence(data):  # a CityJSONSeq saved under a .json name
        return _read_seq(path, options, progress, cancel)
    parsed_at = len(data) // 3  # parsing is about a third of the work
    decoded = cityjson_raw.decode(data)
    if decoded is not None:
        prog.update(parsed_at)
        model = _read_decoded(decoded, path, options, prog, parsed_at, data)
        if model is not None:
            return model
    doc = parse_json(data, path)
    prog.update(parsed_at)
    if not isinstance(doc, dict):
        raise ReaderError("The file is JSON but not CityJSON (it does not hold a JSON object).", path)
    kind = doc.get("type")
    if kind == "CityJSONFeature":
        raise ReaderError("The file holds a single CityJSONFeature without its CityJSON header line.", path)
    if kind != "CityJSON":
        shown = f'"{kind}"' if isinstance(kind, str) else "missing"
        raise ReaderError(f'The file is JSON but not CityJSON (its "type" is {shown}).', path)
    warnings: list[str] = []
    version = _version(doc, warnings)
    if "CityObjects" not in doc:
        raise ReaderError('The file has no "CityObjects".', path)
    vertices = vertices_array(doc.get("vertices"), _transform(doc, path), path)
    assembler = _Assembler(path, options, _templates(doc))
    n_objects = max(len(doc["CityObjects"]) if isinstance(doc["CityObjects"], dict) else 1, 1)

    def tick(k: int) -> None:
        prog.update(parsed_at + (len(data) - parsed_at) * k // n_objects)

    assembler.add_chunk(doc["CityObjects"], vertices, doc.get("appearance"), tick)
    metadata = _metadata(doc)
    source = SourceDocument("CityJSON", (data,))
    model = assembler.finish("CityJSON", version, _crs(metadata), metadata, warnings, source)
    prog.finish()
    return model


def _read_decoded(
    doc: cityjson_raw.Document, path: Path, options: LoadOptions, prog: Progress, parsed_at: int, data: bytes
) -> CityModel | None:
    """The fast path (:mod:`citytwin.io.cityjson_raw`) for ``doc`` (from ``data``), or None for the general path."""
    size = len(data)
    if doc.type != "CityJSON" or not doc.CityObjects or not len(doc.vertices):
        return None
    if doc.geometry_templates is not cityjson_raw.UNSET:
        return None
    try:
        transform = _transform(doc, path)
    except ReaderError:
        return None
    vertices = cityjson_raw.vertices_from_raw(doc.vertices)
    if vertices is None:
        try:
            vertices = vertices_array(orjson.loads(bytes(doc.vertices)), transform, path)
        except (orjson.JSONDecodeError, ReaderError):
            return None
    else:
        vertices = _apply_transform(vertices, transform)
    warnings: list[str] = []
    version = _version(doc, warnings)
    assembler = _Assembler(path, options, None)
    n_objects = max(len(doc.CityObjects), 1)

    def tick(k: int) -> None:
        prog.update(parsed_at + (size - parsed_at) * k // n_objects)

    if not assembler.add_decoded(doc, vertices, tick):
        return None
    metadata = _metadata(doc)
    source = SourceDocument("CityJSON", (data,))
    model = assembler.finish("CityJSON", version, _crs(metadata), metadata, warnings, source)
    prog.finish()
    return model


def read_seq(
    path: str | Path,
    options: LoadOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> CityModel:
    """Read a CityJSONSeq (``.city.jsonl``) file, streaming it line by line.

    The first line is the CityJSON header (transform, metadata, templates);
    every other line is one ``CityJSONFeature`` with its own vertices and
    appearance. A feature line that cannot be parsed is skipped and counted;
    a broken header is an error. Parameters and result are as for :func:`read`,
    with ``format="CityJSONSeq"``.
    """
    with gc_paused():
        return _read_seq(Path(path), options or LoadOptions(), progress, cancel)


def _read_seq(
    path: Path, options: LoadOptions, progress: ProgressCallback | None, cancel: CancelCheck | None
) -> CityModel:
    fh = open_regular(path)  # closed in the finally below
    size = os.fstat(fh.fileno()).st_size
    prog = Progress(size, progress, cancel)
    warnings: list[str] = []
    header: dict | None = None
    assembler: _Assembler | None = None
    transform = None
    bad_lines: list[int] = []
    not_features = 0
    done = 0
    batch: list[tuple[int, bytes, cityjson_raw.Feature]] = []  # feature lines the fast path reads together
    batch_bytes = 0
    failed_batches = 0
    lines: list[bytes] = []  # kept for a lossless write (SourceDocument)

    def general(line_no: int, line: bytes) -> None:
        nonlocal not_features
        try:
            feature = parse_json(line, path, line_no)
            if not isinstance(feature, dict) or feature.get("type") != "CityJSONFeature":
                not_features += 1
                return
            vertices = vertices_array(feature.get("vertices"), transform, path, line_no)
            assembler.add_chunk(feature.get("CityObjects"), vertices, feature.get("appearance"))
        except ReaderError:
            bad_lines.append(line_no)

    def flush() -> None:
        nonlocal batch_bytes, failed_batches
        if batch and not assembler.add_features([f for _, _, f in batch], transform):
            failed_batches += 1
            for line_no, line, _ in batch:
                general(line_no, line)
        batch.clear()
        batch_bytes = 0

    try:
        for line_no, line in enumerate(fh, start=1):
            done += len(line)
            prog.update(done)
            line = line.rstrip(b"\r\n")
            lines.append(line)
            if not line.strip():
                continue
            if header is None:
                doc = parse_json(line, path, line_no)
                if not isinstance(doc, dict) or doc.get("type") != "CityJSON":
                    raise ReaderError("The first line of a CityJSONSeq file must be a CityJSON header.", path, 1)
                header = doc
                transform = _transform(doc, path)
                assembler = _Assembler(path, options, _templates(doc))
                if isinstance(doc.get("CityObjects"), dict) and doc["CityObjects"]:
                    assembler.add_chunk(
                        doc["CityObjects"], vertices_array(doc.get("vertices", []), transform, path, 1),
                        doc.get("appearance"),
                    )  # fmt: skip
                continue
            # Batches of well-formed features take the fast path; after a few batches it could not
            # read (irregular geometry, say), the rest of the file goes line by line.
            feature = cityjson_raw.decode_feature(line) if failed_batches < _MAX_FAILED_BATCHES else None
            if feature is None:
                flush()
                general(line_no, line)
                continue
            batch.append((line_no, line, feature))
            batch_bytes += len(line)
            if len(batch) >= _BATCH_FEATURES or batch_bytes >= _BATCH_BYTES:
                flush()
        if assembler is not None:
            flush()
    finally:
        fh.close()
    if header is None or assembler is None:
        raise ReaderError("The file is empty.", path)
    version = _version(header, warnings)
    if bad_lines:
        warnings.append(
            f"{len(bad_lines)} feature line{'s' if len(bad_lines) > 1 else ''} could not be read and "
            f"{'were' if len(bad_lines) > 1 else 'was'} skipped (first at line {bad_lines[0]})."
        )
    if not_features:
        warnings.append(f"{not_features} lines that are not CityJSONFeature objects were skipped.")
    metadata = _metadata(header)
    source = SourceDocument("CityJSONSeq", tuple(lines))
    model = assembler.finish("CityJSONSeq", version, _crs(metadata), metadata, warnings, source)
    prog.finish()
    return model


def _looks_like_sequence(data: bytes) -> bool:
    """True for a CityJSON header line followed by a CityJSONFeature line."""
    first_end = data.find(b"\n")
    if first_end < 0 or b'"CityJSONFeature"' not in data[first_end : first_end + 4096]:
        return False
    rest = data[first_end:].lstrip()
    return rest.startswith(b"{") and b'"CityJSON"' in data[:first_end]


def _read_bytes(path: Path) -> bytes:
    with open_regular(path) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise ReaderError(f"The file cannot be read ({exc.strerror or exc}).", path) from None


def read_cityobjects(
    cityobjects: dict[str, Any], vertices: Any, crs: CRS | None = None, name: str = "added objects"
) -> CityModel:
    """A model of CityJSON city objects given as JSON, with the real coordinates their boundaries index.

    What a scenario adds (a drawn building, an imported proposal) is drawn through this, the
    same way a file's objects are read.

    Parameters
    ----------
    cityobjects
        ``{id: CityObject}`` (CityJSON 2.0, no templates or appearances).
    vertices
        ``(N, 3)`` coordinates (not quantised).
    crs
        Their reference system.

    Raises
    ------
    ReaderError
        When the objects are not valid CityJSON city objects.
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    assembler = _Assembler(Path(name), LoadOptions(), None)
    assembler.add_chunk(dict(cityobjects), v, None)
    return assembler.finish("CityJSON", "2.0", crs or CRS(), {}, [])
