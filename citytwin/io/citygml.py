"""CityGML 1.0, 2.0 and 3.0 reader: a streaming lxml pass straight into numpy.

The file is read with :func:`lxml.etree.iterparse` (entities never expanded, no
DTD or network access). Each ``cityObjectMember`` is walked once when its end
tag arrives, turned into object rows and polygon records, and cleared, so
memory stays bounded on large files. Coordinate texts are parsed with numpy,
all the rings of a batch of polygons at once (:mod:`citytwin.io.coords`); should
one of them not hold numbers of the right count, the file is read again parsing
ring by ring, which gives the exact warnings.

Conventions (what the rest of citytwin can rely on)
---------------------------------------------------
* Object types are element local names (``Building``, ``RoofSurface``,
  ``TrafficSpace`` …). Boundary surfaces, openings, parts and installations
  are rows of their own, children of the object that holds them. Objects
  without ``gml:id`` get ``f"{parent_id}_{Type}_{n}"`` (``f"{Type}_{n}"`` at
  top level), ``n`` counting from 1.
* Attributes and addresses: ``gml:name`` / ``gml:description`` become
  ``"name"`` / ``"description"``; the rest is named as
  :mod:`citytwin.io.citygml_attributes` describes (``measuredHeight`` float
  plus ``"measuredHeight_uom"``, typed generic attributes, ADE data as
  ``"uro:buildingDetails/city"``, one xAL dict per address).
* Groups: ``objects.groups[i]`` lists the ``gml:id`` of every CityObjectGroup
  object ``i`` belongs to.
* Geometry written once: when a ``Solid`` refers by ``xlink:href`` to polygons
  held by boundary surfaces (or the other way round), each polygon is stored
  once, owned by the most specific object (the one with a semantic class).
* Appearance themes by name; an appearance without a theme is ``"default"``.
* ``bbox`` filtering drops top-level objects without geometry.
* A file that is not well-formed is read again in recovery mode when
  ``options.recover`` is true, with a warning naming the line. A file cut
  short (no closing root tag, the error on its last line) is read up to its
  last complete top-level member, so no object is half there, with the
  warning "The file ends early at line N; the K city objects before it were
  read."; with no complete member it is a :class:`ReaderError`.
* Latitude/longitude CRSs (EPSG:6697 …) are triangulated with the axes scaled
  to metres at the data's mean latitude; the vertices stay as the file has them. A DOCTYPE that
  declares entities is refused before parsing (billion laughs, XXE).
* ``metadata``: ``name``, ``description``, ``envelope`` (lower and upper corner),
  ``srsName``, ``gml_namespace`` and ``shared_xlink_polygons`` (references to
  polygons stored once); ``recovered`` when the file was read in recovery mode.
* ``source_document``: the file's bytes as read, kind ``"CityGML"``, for a lossless
  write (:mod:`citytwin.io.citygml_export`). They are the blocks the parser read
  anyway, kept rather than copied, so reading costs nothing more.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree

from citytwin.errors import LoadCancelled, ReaderError
from citytwin.io.citygml_appearance import MaterialRecord, TextureRecord, parse_appearance
from citytwin.io.citygml_attributes import CITYGML, GML, OTHER, XAL, AttributeReader, add_value
from citytwin.io.coords import parse_tokens
from citytwin.io.files import is_regular_file
from citytwin.io.gml_geometry import XLINK_HREF, GeometryParser
from citytwin.io.options import CancelCheck, LoadOptions, Progress, ProgressCallback, without_gc
from citytwin.io.registry import read_head
from citytwin.model import crs as crs_mod
from citytwin.model.citymodel import CityModel, SourceDocument
from citytwin.model.cityobjects import CityObjects
from citytwin.model.crs import CRS
from citytwin.model.geometry import Material, MeshBuilder, Texture
from citytwin.model.semantics import SURFACE_CLASS_BY_NAME, SurfaceClass, lod_code

__all__ = ["read"]

_HEAD_BYTES = 65536
_VERSION_RE = re.compile(rb"opengis\.net/citygml/(?:[A-Za-z]+/)?(\d+\.\d+)")
_SUPPORTED = ("1.0", "2.0", "3.0")
_MAX_DEPTH = 64
_BATCH_POLYGONS = 50_000
_PARSE_TEXTS = 4096


_LOD_PROP = re.compile(r"^lod([0-4])[A-Z]")

#: Properties whose element children are city objects of their own (the writers split members by them too).
CHILD_PROPS = frozenset(
    {
        "boundedBy", "boundary", "opening", "consistsOfBuildingPart", "buildingPart",
        "outerBuildingInstallation", "interiorBuildingInstallation", "buildingInstallation",
        "interiorRoom", "buildingRoom", "roomInstallation", "interiorFurniture", "buildingFurniture",
        "buildingConstructiveElement", "buildingSubdivision",
        "consistsOfBridgePart", "bridgePart", "outerBridgeInstallation", "outerBridgeConstruction",
        "bridgeConstructiveElement", "interiorBridgeInstallation", "bridgeInstallation", "interiorBridgeRoom",
        "bridgeRoom", "consistsOfTunnelPart", "tunnelPart", "outerTunnelInstallation",
        "interiorTunnelInstallation", "tunnelInstallation", "interiorHollowSpace", "hollowSpace",
        "tunnelConstructiveElement", "trafficArea", "auxiliaryTrafficArea", "trafficSpace",
        "auxiliaryTrafficSpace", "section", "intersection", "marking", "hole", "clearanceSpace",
        "reliefComponent", "groupMember", "waterBoundedBy",
    }
)  # fmt: skip
#: CityGML data types that are not features (flattened as attributes instead).
NON_FEATURES = frozenset(
    {
        "Address", "ImplicitGeometry", "Appearance", "Height", "Occupancy", "CityObjectRelation",
        "ExternalReference", "RoomHeight", "Elevation", "ConstructionEvent", "Dimensions",
        "HeightAboveGround", "QualifiedArea", "QualifiedVolume", "TimeseriesComponent",
    }
)  # fmt: skip

# Semantic class of polygons owned directly by objects that are not boundary surfaces.
_SEMANTIC_BY_TYPE: dict[str, SurfaceClass] = {
    **SURFACE_CLASS_BY_NAME,
    "WindowSurface": SurfaceClass.WINDOW,
    "DoorSurface": SurfaceClass.DOOR,
    "ReliefFeature": SurfaceClass.TERRAIN,
    "TINRelief": SurfaceClass.TERRAIN,
    "SolitaryVegetationObject": SurfaceClass.VEGETATION,
    "PlantCover": SurfaceClass.VEGETATION,
    "WaterBody": SurfaceClass.WATER_SURFACE,
    "Road": SurfaceClass.TRAFFIC_AREA,
    "Railway": SurfaceClass.TRAFFIC_AREA,
    "Track": SurfaceClass.TRAFFIC_AREA,
    "Square": SurfaceClass.TRAFFIC_AREA,
    "Waterway": SurfaceClass.TRAFFIC_AREA,
    "Section": SurfaceClass.TRAFFIC_AREA,
    "Intersection": SurfaceClass.TRAFFIC_AREA,
    "TrafficSpace": SurfaceClass.TRAFFIC_AREA,
    "AuxiliaryTrafficSpace": SurfaceClass.AUXILIARY_TRAFFIC_AREA,
}

_SEMANTIC_CODE = {name: int(c) for name, c in _SEMANTIC_BY_TYPE.items()}

# One sentence per kind of problem; {n} is the count.
_WARNING_TEXT = {
    "unsupported geometry": "{n} geometries of an unsupported GML type were skipped.",
    "unsupported ring": "{n} rings that are not gml:LinearRing were skipped.",
    "polygon without exterior": "{n} polygons without an exterior ring were skipped.",
    "ring too long": "{n} rings were skipped unread: their coordinate lists hold far more vertices than the "
    "polygon limit (--max-polygon-vertices).",
    "coordinates that are not numbers": "{n} coordinate lists held text that is not a number and were skipped.",
    "odd coordinate count": "{n} coordinate lists had a count that does not fit their dimension and were skipped.",
    "2D coordinates": "{n} rings had 2D coordinates; their heights were set to 0.",
    "dangling xlink": "{n} xlink references point to surfaces that are not in the file.",
    "missing template": "{n} implicit geometries refer to templates that are not in the file.",
    "bad implicit": "{n} implicit geometries had an unreadable transformation matrix or reference point.",
    "bad attribute": "{n} attribute values did not match their declared type and were kept as text.",
    "missing target": "{n} appearance targets refer to surfaces that are not in the file.",
    "bad colour": "{n} material colours or values could not be read and were left at their defaults.",
    "bad texture coordinates": "{n} texture coordinate lists could not be read and were skipped.",
    "unsupported surface data": "{n} appearance entries of an unsupported kind (GeoreferencedTexture …) were skipped.",
    "unsupported texture parameterization": "{n} texture mappings other than TexCoordList were skipped.",
    "missing ring": "{n} texture coordinate lists refer to rings that are not in the file.",
}


@without_gc
def read(
    path: str | Path,
    options: LoadOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> CityModel:
    """Read a CityGML 1.0, 2.0 or 3.0 file.

    Parameters
    ----------
    path
        The ``.gml`` / ``.xml`` / ``.citygml`` file.
    options
        LoD range, top-level types, bbox and recovery (see :class:`LoadOptions`).
    progress
        ``progress(bytes_read, file_size)``, throttled.
    cancel
        Polled while reading; once true the read stops with :class:`LoadCancelled`.

    Returns
    -------
    CityModel
        ``format="CityGML"`` and the version its namespaces declare.

    Raises
    ------
    ReaderError
        With one sentence, when the file cannot be read.
    LoadCancelled
        When ``cancel`` returned true.
    """
    path = Path(path)
    options = options or LoadOptions()
    head = read_head(path, _HEAD_BYTES)
    size = os.path.getsize(path)
    _refuse_entities(head, path)
    version = _detect_version(head, path)
    reader = _Reader(path, options, version, Progress(size, progress, cancel))
    try:
        return reader.run(recover=False)
    except etree.XMLSyntaxError as exc:
        line = _line(exc)
        ends_early = _ends_early(path, size, line)
        if not options.recover:
            if ends_early:
                raise ReaderError("The file is not well-formed XML: it ends early.", path, line) from None
            raise ReaderError(f"The file is not well-formed XML ({_syntax_message(exc)}).", path, line) from None
        note = f"Line {line}: {_syntax_message(exc)}; the file was read in recovery mode."
    floor = reader.bytes_read  # the recovery pass reports progress from where the first one stopped
    reader = _Reader(path, options, version, Progress(size, progress, cancel))
    reader.progress_floor = floor
    if ends_early:
        # A cut file: read up to the end of its last complete top-level member, never a cut-off object.
        limit = _last_member_end(path, size)
        if limit is None:
            raise ReaderError("The file ends early, before any city object was complete.", path, line)
        reader.limit = limit
    else:
        reader.notes.append(note)
    try:
        model = reader.run(recover=True)
    except etree.XMLSyntaxError as exc:
        raise ReaderError(
            f"The file is not well-formed XML and could not be recovered ({_syntax_message(exc)}).", path, _line(exc)
        ) from None
    if not ends_early:
        model.metadata["recovered"] = True  # the source is not well-formed: a writer must not copy it blindly
    if ends_early:
        if reader.n_top == 0:
            raise ReaderError("The file ends early, before any city object was complete.", path, line)
        k = reader.n_top
        model.warnings.insert(
            0,
            f"The file ends early at line {line}; the {k} city object{'s' if k != 1 else ''} before it "
            f"{'were' if k != 1 else 'was'} read.",
        )
    return model


_ROOT_END = re.compile(rb"</(?:[\w.-]+:)?CityModel\s*>")  # anywhere in the tail: the root is closed
_MEMBER_END = re.compile(rb"</(?:[\w.-]+:)?(?:cityObjectMember|featureMember|appearanceMember)\s*>")


def _ends_early(path: Path, size: int, line: int | None) -> bool:
    """Whether a syntax error at ``line`` is the file being cut short: no closing root tag, error on its last line."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, size - 4096))
            if _ROOT_END.search(fh.read()):
                return False
            if line is None:
                return True
            fh.seek(0)
            newlines = 0
            while chunk := fh.read(1 << 24):
                newlines += chunk.count(b"\n")
    except OSError:
        return False
    return line >= newlines  # libxml2 reports a cut on the last line (newlines + 1)


def _last_member_end(path: Path, size: int) -> int | None:
    """Byte offset just past the last ``</cityObjectMember>`` (or feature/appearance member) end tag."""
    block = 1 << 20
    overlap = 256
    end = size
    with open(path, "rb") as fh:
        while end > 0:
            start = max(0, end - block)
            fh.seek(start)
            data = fh.read(min(end + overlap, size) - start)
            found = None
            for m in _MEMBER_END.finditer(data):
                found = m
            if found is not None:
                return start + found.end()
            end = start
    return None


def _refuse_entities(head: bytes, path: Path) -> None:
    """CityGML never needs a DTD: refuse entity declarations (billion laughs, XXE) before parsing."""
    start = head.find(b"<!DOCTYPE")
    if start < 0:
        return
    if b"<!ENTITY" in head[start:] or b"]>" not in head[start:] and b"[" in head[start:]:
        raise ReaderError(
            "The file declares XML entities in a DOCTYPE, which citytwin never expands for safety; "
            "CityGML does not need them.",
            path,
        )


def _detect_version(head: bytes, path: Path) -> str:
    found = _VERSION_RE.findall(head)
    if not found:
        if b"<" not in head.lstrip()[:1]:
            raise ReaderError("This file is not XML, so it cannot be CityGML.", path)
        raise ReaderError("This XML file is not CityGML: it declares no CityGML namespace.", path)
    versions = {v.decode() for v in found}
    known = sorted(versions & set(_SUPPORTED))
    if not known:
        raise ReaderError(
            f"CityGML version {sorted(versions)[0]} is not supported (citytwin reads 1.0, 2.0 and 3.0).", path
        )
    return known[-1]


def _line(exc: etree.XMLSyntaxError) -> int | None:
    line = getattr(exc, "lineno", None)
    if line is None and getattr(exc, "position", None):
        line = exc.position[0]
    return line


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    msg = str(getattr(exc, "msg", None) or exc).strip()
    msg = re.sub(r",\s*line \d+, column \d+$", "", msg)
    msg = " ".join(msg.split())  # libxml2 messages may quote the file across lines
    if len(msg) > 160:
        msg = msg[:157] + "…"
    if msg.startswith("Namespace prefix"):
        msg = "n" + msg[1:]
    return msg.rstrip(".") or "syntax error"


class _CountingFile:
    """A binary file that reports bytes read to a :class:`Progress` (which also polls cancel)."""

    def __init__(self, fh, progress: Progress, floor: int = 0) -> None:
        self._fh = fh
        self._progress = progress
        self._floor = floor
        self.done = 0
        #: read no further than this many bytes (a cut file is read up to its last complete member)
        self.limit: int | None = None
        self.cancelled: LoadCancelled | None = None
        #: every block read, in order: the source bytes a lossless write copies (kept, not copied)
        self.chunks: list[bytes] = []

    def read(self, n: int = -1) -> bytes:
        if self.limit is not None:
            left = self.limit - self.done
            if left <= 0:
                return b""
            n = left if n < 0 else min(n, left)
        data = self._fh.read(n)
        self.done += len(data)
        if data:
            self.chunks.append(data)
        try:
            self._progress.update(max(self.done, self._floor))
        except LoadCancelled as exc:  # lxml may wrap errors raised in read(): keep it and stop reading
            self.cancelled = exc
            return b""
        return data


class _DeferredRingError(Exception):
    """A deferred ring was not 3D numbers: the pass starts again, parsing ring by ring."""


def _parse_rings(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The numbers of all ``texts`` in one array, and how many each text holds.

    Raises
    ------
    _DeferredRingError
        If a text holds something other than numbers, or characters that are not ASCII.
    """
    values, counts = [], []
    for i in range(0, len(texts), _PARSE_TEXTS):  # a few thousand rings a call: its temporaries stay in cache
        chunk = texts[i : i + _PARSE_TEXTS]
        joined = " " + " ".join(chunk) + " "
        if not joined.isascii():
            raise _DeferredRingError
        v, starts, ok = parse_tokens(joined.encode("ascii"))
        if not ok.all():
            raise _DeferredRingError
        size = np.fromiter(map(len, chunk), np.int64, len(chunk)) + 1
        first = np.searchsorted(starts, np.cumsum(size) - size + 1)
        values.append(v)
        counts.append(np.diff(first, append=len(starts)))
    if len(values) == 1:
        return values[0], counts[0]
    return np.concatenate(values), np.concatenate(counts)


class _Batch:
    """Polygons waiting for one :meth:`MeshBuilder.add_polygons` call.

    A ring is an ``(n, 3)`` array or, deferred, the int ``k`` (``~k`` reversed) of its text in ``texts``,
    which must hold ``counts[k]`` numbers (0: a multiple of 3).
    """

    __slots__ = ("rings", "nrings", "obj", "sem", "lod", "ids", "instances", "texts", "counts")

    def __init__(self) -> None:
        self.rings: list[np.ndarray | int] = []
        self.texts: list[str] = []
        self.counts: list[int] = []
        self.nrings: list[int] = []
        self.obj: list[int] = []
        self.sem: list[int] = []
        self.lod: list[int] = []
        self.ids: list[tuple[int, str]] = []
        self.instances: list[tuple[int, str]] = []

    @property
    def n_polygons(self) -> int:
        return len(self.nrings)

    def vertices(self) -> tuple[np.ndarray, np.ndarray]:
        """All ring vertices, one ``(n, 3)`` array, and the vertex count of each ring."""
        rings = self.rings
        if not self.texts:
            return np.concatenate(rings), np.fromiter(map(len, rings), np.int64, len(rings))
        texts = self.texts
        values, counts = _parse_rings(texts)
        need = np.asarray(self.counts, dtype=np.int64)
        if not np.where(need > 0, counts == need, counts % 3 == 0).all():
            raise _DeferredRingError
        points = values.reshape(-1, 3)
        n_def = (counts // 3).tolist()
        arrays = [r for r in rings if type(r) is not int]
        if not arrays and len(rings) == len(texts) and all(r == k for k, r in enumerate(rings)):
            return points, counts // 3  # every ring deferred, in order, none reversed
        # Gather the deferred points and the arrays (appended after them) in ring order.
        src_def = (np.cumsum(n_def) - n_def).tolist()
        lengths = np.empty(len(rings), dtype=np.int64)
        src = np.empty(len(rings), dtype=np.int64)
        flip = np.zeros(len(rings), dtype=bool)
        next_array = len(points)
        for i, r in enumerate(rings):
            if type(r) is int:
                k = r if r >= 0 else ~r
                lengths[i] = n_def[k]
                src[i] = src_def[k]
                flip[i] = r < 0
            else:
                lengths[i] = len(r)
                src[i] = next_array
                next_array += len(r)
        if arrays:
            points = np.concatenate([points, *arrays])
        dest = np.cumsum(lengths) - lengths
        index = np.arange(int(lengths.sum())) + np.repeat(src - dest, lengths)
        if flip.any():
            back = np.repeat(flip, lengths)
            # reversed ring: source src + (len - 1 - j) for row j of the ring, j = index - src
            index[back] = np.repeat(2 * src + lengths - 1, lengths)[back] - index[back]
        return points[index], lengths

    def add(self, polys: list[tuple], obj: int, sem: int, lod: int) -> int:
        """Queue ``(id, rings, ring_ids)`` polygons of one owner; return the batch position of the first."""
        start = len(self.nrings)
        n = len(polys)
        if n == 1:
            rings = polys[0][1]
            self.rings += rings
            self.nrings.append(len(rings))
        else:
            self.rings += [r for p in polys for r in p[1]]
            self.nrings += [len(p[1]) for p in polys]
        self.obj.extend([obj] * n)
        self.sem.extend([sem] * n)
        self.lod.extend([lod] * n)
        return start


class _Member:
    """What one top-level city object yields before it is committed.

    ``polys`` holds one entry per geometry property: ``(polygons, obj, sem, lod)``
    with polygons as :class:`GeometryParser` gives them; ``refs`` likewise with
    xlink references.
    """

    __slots__ = ("objs", "polys", "refs", "implicit", "addresses", "groups", "n_children")

    def __init__(self) -> None:
        self.objs: list[tuple[str, str, int, dict[str, Any]]] = []
        self.polys: list[tuple[list, int, int, int]] = []
        self.refs: list[tuple[list, int, int, int]] = []
        self.implicit: list[tuple] = []
        self.addresses: dict[int, list[dict[str, Any]]] = {}
        self.groups: list[tuple[int, str]] = []
        self.n_children: dict[tuple[int, str], int] = {}


# What to do with a property element of a city object (see _Reader._kind).
(_K_SKIP, _K_GEOM, _K_TIN, _K_CHILD, _K_GROUP, _K_APPEARANCE, _K_ADDRESS, _K_GENERIC3, _K_GENERIC2, _K_ADE_HOOK,
 _K_CITYGML, _K_GML_TEXT, _K_ADE, _K_IMPLICIT) = range(14)  # fmt: skip


class _Reader:
    """One pass over one file (a recovery pass uses a fresh reader)."""

    def __init__(self, path: Path, options: LoadOptions, version: str, progress: Progress) -> None:
        self.path = path
        self.options = options
        self.version = version
        self.progress = progress
        self.gml_ns = "http://www.opengis.net/gml/3.2" if version == "3.0" else "http://www.opengis.net/gml"
        self.id_attr = f"{{{self.gml_ns}}}id"
        self.counts: dict[str, int] = {}
        self.notes: list[str] = []
        # 3 numbers of at most 32 characters (with their spaces) per vertex: a longer text certainly
        # holds more vertices than the polygon limit
        self.geom = GeometryParser(self.gml_ns, self._warn, max_ring_chars=options.max_polygon_vertices * 3 * 32)
        self.attr = AttributeReader(self._info, self._warn)
        self.builder = MeshBuilder()
        #: parse the ring texts of a batch at once (not with a bbox filter, which needs the points at once)
        self.defer = options.bbox is None
        self._new_batch()
        self.objects = CityObjects()
        self.metadata: dict[str, Any] = {}
        self.srs_name: str | None = None
        self.dim = 3
        self.lod_range = options.lod_code_range()
        self._tags: dict[str, tuple[str, str, int]] = {}
        self._kinds: dict[Any, tuple[int, str, int]] = {}
        self._top_counter: dict[str, int] = {}
        # polygon gml:id → builder index; ring gml:id → position in its polygon
        self.poly_index: dict[str, int] = {}
        self.ring_pos: dict[str, int] = {}
        # ids of surfaces dropped by a filter (references to them are not dangling)
        self.filtered_ids: set[str] = set()
        # forward references: id → [(obj, semantic, lod)]
        self.pending: dict[str, list[tuple[int, int, int]]] = {}
        self.n_shared = 0
        # implicit geometry templates: geometry gml:id → polygons in local coordinates
        self.templates: dict[str, list[tuple]] = {}
        self.instance_polys: dict[str, list[int]] = {}
        self.deferred_implicit: list[tuple] = []
        self.appearances: list[MaterialRecord | TextureRecord] = []
        self.group_links: list[tuple[int, str]] = []
        self.progress_floor = 0
        #: bytes of the file to read (``None``: all of it)
        self.limit: int | None = None
        #: top-level city objects met (whether or not a filter kept them)
        self.n_top = 0
        self._file: _CountingFile | None = None
        # x/y sum, count and range of the vertices (a geographic CRS triangulates in metres)
        self._xy_sum: np.ndarray | None = None
        self._xy_lo: np.ndarray | None = None
        self._xy_hi: np.ndarray | None = None
        self._xy_n = 0

    @property
    def bytes_read(self) -> int:
        """Bytes of the file read so far by this pass."""
        return 0 if self._file is None else self._file.done

    # ------------------------------------------------------------------ utils
    def _warn(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def _info(self, tag: str) -> tuple[str, str, int]:
        info = self._tags.get(tag)
        if info is None:
            ns, _, local = tag.rpartition("}")
            ns = ns[1:]
            if ns.startswith("http://www.opengis.net/gml"):
                cls = GML
            elif "opengis.net/citygml" in ns:
                cls = CITYGML
            elif ns.startswith("urn:oasis:names:tc:ciq"):
                cls = XAL
            else:
                cls = OTHER
            info = self._tags[tag] = (ns, local, cls)
        return info

    def _kind(self, tag) -> tuple[int, str, int]:
        """``(what to do, local name, LoD code)`` for a property tag, computed once per tag."""
        kind = self._kinds.get(tag)
        if kind is not None:
            return kind
        lod = -1
        if not isinstance(tag, str):
            kind = (_K_SKIP, "", lod)
            self._kinds[tag] = kind
            return kind
        ns, name, cls = self._info(tag)
        if cls == CITYGML:
            m = _LOD_PROP.match(name)
            if m is not None:
                code = _K_IMPLICIT if name.endswith("ImplicitRepresentation") else _K_GEOM
                lod = lod_code(m.group(1))
            elif name == "tin":
                code = _K_TIN
            elif name == "groupMember":
                code = _K_GROUP
            elif name in CHILD_PROPS:
                code = _K_CHILD
            elif name == "appearance":
                code = _K_APPEARANCE
            elif name == "address":
                code = _K_ADDRESS
            elif name == "genericAttribute":
                code = _K_GENERIC3
            elif "/generics/" in ns:
                code = _K_GENERIC2
            elif name.startswith("ade") or name.startswith("_GenericApplicationProperty"):
                code = _K_ADE_HOOK
            else:
                code = _K_CITYGML
        elif cls == GML:
            code = _K_GML_TEXT if name in ("name", "description") else _K_SKIP
        elif cls == OTHER:
            code = _K_ADE
        else:
            code = _K_SKIP
        kind = self._kinds[tag] = (code, name, lod)
        return kind

    def _new_batch(self) -> None:
        self._batch = batch = _Batch()
        if self.defer:
            self.geom.deferred = batch.texts
            self.geom.deferred_counts = batch.counts

    # ------------------------------------------------------------------- pass
    def run(self, recover: bool) -> CityModel:
        try:
            return self._pass(recover)
        except _DeferredRingError:
            pass
        # A ring that is not 3D numbers: read again, ring by ring, for the exact warnings.
        floor, limit, notes = max(self.bytes_read, self.progress_floor), self.limit, self.notes
        self.__init__(self.path, self.options, self.version, self.progress)
        self.progress_floor, self.limit, self.notes, self.defer = floor, limit, notes, False
        self.geom.deferred = None
        return self._pass(recover)

    def _pass(self, recover: bool) -> CityModel:
        with open(self.path, "rb") as raw:
            fh = self._file = _CountingFile(raw, self.progress, self.progress_floor)
            fh.limit = self.limit
            context = etree.iterparse(
                fh,
                events=("start", "end"),
                tag=("{*}CityModel", "{*}cityObjectMember", "{*}appearanceMember", "{*}featureMember",
                     "{*}featureMembers"),
                resolve_entities=False,
                no_network=True,
                huge_tree=True,
                remove_blank_text=True,  # CityGML has no mixed content: fewer nodes to build
                load_dtd=False,
                remove_comments=True,
                recover=recover,
            )  # fmt: skip
            root = None
            try:
                for event, el in context:
                    if fh.cancelled is not None:
                        raise fh.cancelled
                    if event == "start":
                        if root is None:
                            root = el
                        continue
                    if el is root:
                        continue
                    parent = el.getparent()
                    if parent is not root and root is not None:
                        continue  # a member nested in a feature is handled with its feature
                    if root is not None and not self.metadata:
                        self._root_metadata(root)
                    self._member(el)
                    el.clear(keep_tail=True)
                    while el.getprevious() is not None:
                        del parent[0]
                    self.progress.update(max(fh.done, self.progress_floor))
            except etree.XMLSyntaxError:
                if fh.cancelled is not None:
                    raise fh.cancelled from None
                raise
            if fh.cancelled is not None:
                raise fh.cancelled
            if root is None:
                raise ReaderError("The file has no CityModel element, so it holds no city objects to read.", self.path)
            if not self.metadata:
                self._root_metadata(root)
        model = self._finish()
        self.progress.finish()
        return model

    def _root_metadata(self, root) -> None:
        meta: dict[str, Any] = {"gml_namespace": self.gml_ns}
        for c in root:
            if not isinstance(c.tag, str):
                continue
            ns, name, cls = self._info(c.tag)
            if cls != GML:
                continue
            if name in ("name", "description") and c.text:
                meta[name] = c.text.strip()
            elif name == "boundedBy":
                for env in c:
                    srs = env.get("srsName")
                    if srs and self.srs_name is None:
                        self.srs_name = srs
                    d = env.get("srsDimension")
                    if d and d.isdigit():
                        self.dim = int(d)
                    corners = [self.geom.to_points(k.text or "", len((k.text or "").split()) or 3) for k in env]
                    if len(corners) == 2 and all(k is not None and len(k) == 1 for k in corners):
                        meta["envelope"] = [float(v) for v in np.concatenate(corners).ravel()]
        self.metadata = meta

    def _member(self, member) -> None:
        href = member.get(XLINK_HREF)
        if href is not None and len(member) == 0:
            return
        for feat in member:
            if not isinstance(feat.tag, str):
                continue
            name = self._info(feat.tag)[1]
            if name == "Appearance":
                self.appearances.extend(parse_appearance(feat, self._warn))
                continue
            self._top_level(feat)

    def _top_level(self, feat) -> None:
        self.n_top += 1
        typ = self._info(feat.tag)[1]
        if not self.options.keeps_type(typ):
            self.filtered_ids.update(self.geom.polygon_ids(feat))
            return
        m = _Member()
        self._walk(feat, -1, "", m, 0)
        if self.options.bbox is not None and not self._in_bbox(m):
            for polys, *_ in m.polys:
                self.filtered_ids.update(p[0] for p in polys if p[0])
            return
        self._commit(m)

    # ---------------------------------------------------------------- objects
    def _walk(self, el, parent: int, parent_id: str, m: _Member, depth: int) -> int:
        if depth > _MAX_DEPTH:
            raise ReaderError("The file nests city objects too deeply to read.", self.path, el.sourceline)
        typ = self._info(el.tag)[1]
        oid = el.get(self.id_attr) if el.items() else None
        if not oid:
            if parent < 0:
                n = self._top_counter[typ] = self._top_counter.get(typ, 0) + 1
                oid = f"{typ}_{n}"
            else:
                key = (parent, typ)
                n = m.n_children[key] = m.n_children.get(key, 0) + 1
                oid = f"{parent_id}_{typ}_{n}"
        idx = len(m.objs)
        attrs: dict[str, Any] = {}
        m.objs.append((oid, typ, parent, attrs))
        sem = _SEMANTIC_CODE.get(typ, 0)
        kinds = self._kinds
        for prop in el:
            kind = kinds.get(prop.tag) or self._kind(prop.tag)
            code = kind[0]
            if code == _K_GEOM:
                self._geometry_property(prop, kind[1], kind[2], idx, sem, m)
            elif code == _K_CHILD:
                for child in prop:
                    if isinstance(child.tag, str):
                        self._walk(child, idx, oid, m, depth + 1)
            elif code == _K_GENERIC2:
                self.attr.generic2(prop, kind[1], attrs, "")
            elif code == _K_CITYGML:
                if self._holds_feature(prop):
                    for child in prop:
                        if isinstance(child.tag, str):
                            self._walk(child, idx, oid, m, depth + 1)
                else:
                    self.attr.standard(prop, kind[1], attrs)
            elif code == _K_GML_TEXT:
                text = prop.text
                if text and text.strip():
                    add_value(attrs, kind[1], text.strip())
            elif code == _K_APPEARANCE:
                for app in prop:
                    if isinstance(app.tag, str):
                        self.appearances.extend(parse_appearance(app, self._warn))
            elif code == _K_IMPLICIT:
                self._implicit(prop, kind[2], idx, sem, m)
            elif code == _K_TIN:
                self._geometry_property(prop, kind[1], self._relief_lod(attrs, m, parent), idx, sem, m)
            elif code == _K_GROUP:
                href = prop.get(XLINK_HREF)
                if href is not None:
                    m.groups.append((idx, _strip_hash(href)))
                for child in prop:
                    if isinstance(child.tag, str):
                        c = self._walk(child, idx, oid, m, depth + 1)
                        m.groups.append((idx, m.objs[c][0]))
            elif code == _K_ADDRESS:
                found = self.attr.addresses(prop)
                if found:
                    m.addresses.setdefault(idx, []).extend(found)
            elif code == _K_GENERIC3:
                for ga in prop:
                    if isinstance(ga.tag, str):
                        self.attr.generic3(ga, attrs, "")
            elif code == _K_ADE_HOOK:
                for child in prop:
                    if isinstance(child.tag, str):
                        self.attr.ade(child, "", attrs)
            elif code == _K_ADE:
                self.attr.ade(prop, "", attrs)
        return idx

    def _relief_lod(self, attrs: dict[str, Any], m: _Member, parent: int) -> int:
        for a in (attrs, m.objs[parent][3] if parent >= 0 else {}):
            try:
                return lod_code(str(a["lod"]).strip())
            except (KeyError, ValueError):
                continue
        return lod_code(2)

    def _holds_feature(self, prop) -> bool:
        for child in prop:
            if not isinstance(child.tag, str):
                continue
            _, local, cls = self._info(child.tag)
            return cls == CITYGML and local[:1].isupper() and local not in NON_FEATURES
        return False

    # --------------------------------------------------------------- geometry
    def _geometry_property(self, prop, name: str, lod: int, obj: int, sem: int, m: _Member) -> None:
        if not self.lod_range[0] <= lod <= self.lod_range[1]:
            self.filtered_ids.update(self.geom.polygon_ids(prop))
            return
        href = prop.get(XLINK_HREF) if prop.items() else None
        if href is not None:
            m.refs.append(([(_strip_hash(href), False)], obj, sem, lod))
            return
        polys: list[tuple] = []
        refs: list[tuple] = []
        for child in prop:
            if isinstance(child.tag, str):
                self.geom.collect(child, self.dim, polys, refs)
        if polys:
            m.polys.append((polys, obj, sem, lod))
        if refs:
            m.refs.append((refs, obj, sem, lod))

    def _implicit(self, prop, lod: int, obj: int, sem: int, m: _Member) -> None:
        matrix = np.eye(4)
        ref = np.zeros(3)
        template: list[tuple] | None = None
        template_id: str | None = None
        for ig in prop:
            if not isinstance(ig.tag, str):
                continue
            for c in ig:
                if not isinstance(c.tag, str):
                    continue
                name = self._info(c.tag)[1]
                if name == "transformationMatrix":
                    try:
                        matrix = np.array((c.text or "").split(), dtype=np.float64).reshape(4, 4)
                    except ValueError:
                        self._warn("bad implicit")
                        return
                elif name in ("relativeGMLGeometry", "relativeGeometry"):
                    href = c.get(XLINK_HREF)
                    if href is not None:
                        template_id = _strip_hash(href)
                        continue
                    template = []
                    deferred, self.geom.deferred = self.geom.deferred, None  # templates are moved at once
                    for g in c:
                        if isinstance(g.tag, str):
                            self.geom.collect(g, 3, template, [])
                            gid = g.get(self.id_attr)
                            if gid:
                                self.templates[gid] = template
                    self.geom.deferred = deferred
                    for _, _, ring_ids in template:
                        for k, rid in enumerate(ring_ids or ()):
                            if rid:
                                self.ring_pos[rid] = k
                elif name == "referencePoint":
                    p = self.geom.point(c)
                    if p is None:
                        self._warn("bad implicit")
                        return
                    ref = p
        if self.lod_range[0] <= lod <= self.lod_range[1]:  # templates defined here stay usable either way
            m.implicit.append((template, template_id, matrix, ref, obj, sem, lod))

    def _instantiate(self, template: list[tuple], matrix: np.ndarray, ref: np.ndarray, obj: int, sem: int, lod: int):
        rot = matrix[:3, :3].T
        shift = matrix[:3, 3] + ref
        moved = [(None, [r @ rot + shift for r in rings], None) for _, rings, _ in template]
        start = self._batch.add(moved, obj, sem, lod)
        for j, (pid, _, _) in enumerate(template):
            if pid:
                self._batch.instances.append((start + j, pid))

    def _in_bbox(self, m: _Member) -> bool:
        xmin, ymin, xmax, ymax = self.options.bbox
        pts = [p[1][0][:, :2] for polys, *_ in m.polys for p in polys if p[1]]
        pts += [imp[3][None, :2] for imp in m.implicit]
        if not pts:
            return False
        allp = np.concatenate(pts)
        lo = np.nanmin(allp, axis=0)
        hi = np.nanmax(allp, axis=0)
        return bool(lo[0] <= xmax and hi[0] >= xmin and lo[1] <= ymax and hi[1] >= ymin)

    # ----------------------------------------------------------------- commit
    def _commit(self, m: _Member) -> None:
        base = len(self.objects)
        for oid, typ, parent, attrs in m.objs:
            self.objects.add(oid, typ, parent + base if parent >= 0 else -1, attrs)
        for i, addrs in m.addresses.items():
            self.objects.addresses[base + i] = addrs
        for g, member_id in m.groups:
            self.group_links.append((base + g, member_id))
        claims: dict[str, list[tuple[int, int, int]]] = {}
        for refs, obj, sem, lod in m.refs:
            for target, _ in refs:
                claims.setdefault(target, []).append((obj + base, sem, lod))
        batch = self._batch
        poly_index = self.poly_index
        ring_pos = self.ring_pos
        pending = self.pending
        for polys, obj, sem, lod in m.polys:
            obj += base
            start = batch.add(polys, obj, sem, lod)
            for j, (pid, _, ring_ids) in enumerate(polys):
                if pid is not None:
                    poly_index[pid] = -1  # the builder index is known once the batch is flushed
                    batch.ids.append((start + j, pid))
                    if claims or pending:
                        others = claims.pop(pid, None)
                        late = pending.pop(pid, None) if pending else None
                        if late:
                            others = (others or []) + late
                        if others:
                            self.n_shared += len(others)
                            if sem == 0:  # a claimant with a semantic class owns the polygon instead
                                best = _best_owner((obj, sem, lod), others)
                                if best[0] != obj:
                                    batch.obj[start + j], batch.sem[start + j], batch.lod[start + j] = best
                if ring_ids is not None:
                    for k, rid in enumerate(ring_ids):
                        if rid is not None:
                            ring_pos[rid] = k
        for target, owners in claims.items():
            if self._known(target):
                self.n_shared += len(owners)
            else:
                pending.setdefault(target, []).extend(owners)
        for template, template_id, matrix, ref, obj, sem, lod in m.implicit:
            if template is None and template_id is not None:
                template = self.templates.get(template_id)
            if template is None:
                self.deferred_implicit.append((template_id, matrix, ref, obj + base, sem, lod))
            else:
                self._instantiate(template, matrix, ref, obj + base, sem, lod)
        if batch.n_polygons >= _BATCH_POLYGONS:
            self._flush()

    def _flush(self) -> None:
        """Hand the batched polygons to the builder in one vectorised call."""
        batch = self._batch
        if not batch.n_polygons:
            return
        vertices, ring_lengths = batch.vertices()
        self._extent(vertices)
        index, _ = self.builder.add_polygons(
            vertices,
            ring_lengths,
            np.asarray(batch.nrings, np.int64),
            np.asarray(batch.obj, np.int32),
            np.asarray(batch.sem, np.uint8),
            np.asarray(batch.lod, np.uint8),
        )
        for j, pid in batch.ids:
            i = int(index[j])
            if i >= 0:
                self.poly_index[pid] = i
            elif self.poly_index.get(pid, -1) < 0:
                self.poly_index.pop(pid, None)
                self.filtered_ids.add(pid)
        for j, pid in batch.instances:
            i = int(index[j])
            if i >= 0:
                self.instance_polys.setdefault(pid, []).append(i)
        self._new_batch()

    def _extent(self, vertices: np.ndarray) -> None:
        """Keep the sum, count and x/y range of the vertices (for :meth:`_axis_scale`)."""
        if not len(vertices):
            return
        v = vertices[:, :2]
        if not np.isfinite(v).all():
            v = v[np.isfinite(v).all(axis=1)]
            if not len(v):
                return
        lo, hi = v.min(axis=0), v.max(axis=0)
        if self._xy_sum is None:
            self._xy_sum, self._xy_lo, self._xy_hi = v.sum(axis=0), lo, hi
        else:
            self._xy_sum = self._xy_sum + v.sum(axis=0)
            self._xy_lo, self._xy_hi = np.minimum(self._xy_lo, lo), np.maximum(self._xy_hi, hi)
        self._xy_n += len(v)

    def _axis_scale(self, crs: CRS) -> tuple[float, float, float] | None:
        """Metres per unit of each axis for a latitude/longitude CRS (triangulation only), else ``None``.

        Degrees of latitude and longitude beside metres of height fold nearly horizontal polygons when
        they are projected on a plane; scaled to metres at the data's mean latitude, they do not.
        """
        if self._xy_sum is None or crs.epsg is None:
            return None
        if np.abs(self._xy_lo).max() > 180 or np.abs(self._xy_hi).max() > 180:
            return None  # not degrees: no need to ask PROJ (which costs a first lookup)
        if not crs_mod.is_geographic(crs):
            return None
        lat_first = crs_mod.lat_first(crs)
        mean = self._xy_sum / self._xy_n
        lat = float(mean[0] if lat_first else mean[1])
        if not -90 <= lat <= 90:
            return None
        m_lat, m_lon = _metres_per_degree(lat)
        return (m_lat, m_lon, 1.0) if lat_first else (m_lon, m_lat, 1.0)

    def _known(self, target: str) -> bool:
        return (
            target in self.poly_index
            or target in self.geom.surface_groups
            or target in self.filtered_ids
            or target in self.templates
            or target in self.instance_polys
        )

    def _finish(self) -> CityModel:
        for template_id, matrix, ref, obj, sem, lod in self.deferred_implicit:
            template = self.templates.get(template_id or "")
            if template is None:
                self._warn("missing template")
            else:
                self._instantiate(template, matrix, ref, obj, sem, lod)
        for target, owners in self.pending.items():
            if not self._known(target):
                self.counts["dangling xlink"] = self.counts.get("dangling xlink", 0) + len(owners)
            else:
                self.n_shared += len(owners)
        self._flush()
        self._apply_appearances()
        index = self.objects.index
        for g, member_id in self.group_links:
            i = index.get(member_id)
            if i is not None:
                self.objects.groups.setdefault(i, []).append(self.objects.ids[g])
        crs = CRS.parse(self.srs_name or self.geom.srs_name)
        mesh = self.builder.build(
            axis_scale=self._axis_scale(crs), max_polygon_vertices=self.options.max_polygon_vertices
        )
        if self.poly_index:
            ids: list[str | None] = [None] * mesh.n_polygons
            for pid, i in self.poly_index.items():
                ids[i] = pid
            mesh.poly_ids = ids
        if self.srs_name or self.geom.srs_name:
            self.metadata["srsName"] = self.srs_name or self.geom.srs_name
        self.metadata["shared_xlink_polygons"] = self.n_shared
        return CityModel(
            format="CityGML",
            version=self.version,
            objects=self.objects,
            mesh=mesh,
            crs=crs,
            source=self.path,
            metadata=self.metadata,
            warnings=self._warnings(),
            source_document=SourceDocument("CityGML", tuple(self._file.chunks)) if self._file is not None else None,
        )

    def _targets(self, target: str, depth: int = 0) -> list[int]:
        i = self.poly_index.get(target)
        if i is not None:
            return [i]
        inst = self.instance_polys.get(target)
        if inst is not None:
            return inst
        group = self.geom.surface_groups.get(target)
        if group is None or depth > 16:
            return []
        out: list[int] = []
        for t in group:
            out.extend(self._targets(t, depth + 1))
        return out

    def _apply_appearances(self) -> None:
        builder = self.builder
        mat_index: dict[tuple, int] = {}
        tex_index: dict[str, int] = {}
        missing_images: list[str] = []
        for rec in self.appearances:
            if isinstance(rec, MaterialRecord):
                mat = rec.material
                key = (mat.diffuse, mat.transparency, mat.specular, mat.emissive, mat.shininess)
                mi = mat_index.get(key)
                if mi is None:
                    mi = mat_index[key] = len(builder.materials)
                    builder.materials.append(Material(**vars(mat)))
                for target in rec.targets:
                    polys = self._targets(target)
                    if not polys and target not in self.filtered_ids:
                        self._warn("missing target")
                    for p in polys:
                        builder.set_material(rec.theme, p, mi)
                continue
            ti = tex_index.get(rec.image_uri)
            if ti is None:
                ti = tex_index[rec.image_uri] = len(builder.textures)
                tex_path, exists = self._image_path(rec.image_uri)
                builder.textures.append(Texture(tex_path, exists))
                if not exists:
                    missing_images.append(rec.image_uri)
            for target, uvs in rec.targets:
                polys = self._targets(target)
                if not polys:
                    if target not in self.filtered_ids:
                        self._warn("missing target")
                    continue
                ring_uvs: dict[int, np.ndarray] = {}
                for rid, uv in uvs.items():
                    k = self.ring_pos.get(rid)
                    if k is None:
                        self._warn("missing ring")
                    else:
                        ring_uvs[k] = uv
                for p in polys:
                    builder.set_texture(rec.theme, p, ti, ring_uvs)
        if missing_images:
            n = len(missing_images)
            self.notes.append(f"{n} texture image{'s are' if n > 1 else ' is'} missing (first: {missing_images[0]}).")

    def _image_path(self, uri: str) -> tuple[str, bool]:
        if re.match(r"^[a-z][a-z0-9+.-]*://", uri, re.I):
            return uri, False
        p = Path(uri.replace("\\", "/"))
        if not p.is_absolute():
            p = self.path.parent / p
        return str(p), is_regular_file(p)

    def _warnings(self) -> list[str]:
        out = list(self.notes)
        for kind, n in sorted(self.counts.items()):
            out.append(_WARNING_TEXT.get(kind, f"{{n}} problems of kind '{kind}'.").format(n=n))
        for reason, n in sorted(self.builder.skipped.items()):
            out.append(f"{n} polygons or rings were skipped: {reason}.")
        return out


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of latitude and of longitude at a latitude (WGS84/GRS80 ellipsoid series)."""
    phi = np.radians(lat)
    m_lat = 111132.92 - 559.82 * np.cos(2 * phi) + 1.175 * np.cos(4 * phi) - 0.0023 * np.cos(6 * phi)
    m_lon = 111412.84 * np.cos(phi) - 93.5 * np.cos(3 * phi) + 0.118 * np.cos(5 * phi)
    return float(m_lat), float(max(m_lon, 1.0))


def _best_owner(own: tuple[int, int, int], others: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """The most specific claimant of a shared polygon: one with a semantic class wins over one without."""
    best = own
    for o in others:
        if best[1] == SurfaceClass.NONE and o[1] != SurfaceClass.NONE:
            best = o
    return best


def _strip_hash(href: str) -> str:
    href = href.strip()
    return href[href.index("#") + 1 :] if "#" in href else href
