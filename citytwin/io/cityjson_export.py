"""Write a city model, with a scenario applied, as CityJSON 2.0 or CityJSONSeq, losslessly.

The model keeps the bytes of the CityJSON file it was read from
(:class:`~citytwin.model.citymodel.SourceDocument`); the writer parses them
again and writes every city object the model holds from its own JSON:

- untouched objects go through as they are: attributes, semantics, LoDs,
  geometry types, materials, textures, geometry instances, extension members;
  only their indices change (vertices, materials, textures and texture
  coordinates are re-indexed into compact lists, unused entries dropped);
- deleted objects are left out, with the children that have no other parent
  left; their parents' ``children`` and their children's ``parents`` are fixed;
- attribute edits patch ``attributes``;
- moved objects (with their children) get moved copies of their vertices (a
  vertex shared with an untouched neighbour stays where it was for the
  neighbour); a geometry instance's reference point moves and its
  ``transformationMatrix`` turns and stretches;
- added objects are written from their JSON.

Most of a file goes through as bytes, never as Python objects (the fast path,
in the spirit of the reader's :mod:`~citytwin.io.cityjson_raw`). msgspec
decodes a CityJSON document into its city objects with every member kept as raw
JSON (only the members naming the type, parents and children are decoded), the
appearance's materials likewise, and the untouched objects' geometries and
material themes the same way. Their ``boundaries`` and material ``values`` are
read and rewritten all at once with numpy
(:class:`~citytwin.io.cityjson_indices.IndexArrays`): no Python object per
index, ring or surface. Objects are encoded from those bytes, so an untouched
object comes out as it was but for its indices, LoDs and hierarchy members.
Objects that are edited, moved or added, or that hold anything else (geometry
instances, textures, addresses, a single material ``value``, indices out of
range, empty arrays, decimals…) are decoded and written the general way, from
their JSON as Python objects; both ways give the same document (numbers of raw
members keep their spelling: ``0.750000`` stays so). CityJSONSeq sources and
CityJSONSeq output take the general way for every object.

Files of older CityJSON versions (0.6 to 1.1) come out as 2.0: LoDs as text,
``parents`` and ``children`` for the old hierarchy members, ``address`` as a
list, URL reference systems. Vertices are quantised with the source's scale
when it has one (so its integer grid is kept exactly), otherwise at 1 mm.
Writes are atomic; a write that fails leaves the target as it was and raises
:class:`~citytwin.errors.CityTwinError` with one sentence.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson

from citytwin.errors import CityTwinError, ReaderError
from citytwin.io.atomic import write_atomic
from citytwin.io.cityjson import _apply_transform, _transform, parse_json, vertices_array
from citytwin.io.cityjson_indices import IndexArrays
from citytwin.io.cityjson_raw import vertices_from_raw
from citytwin.io.cityjson_write import CITYJSON_VERSION, _dumps, quantise, write_cityjson, write_cityjsonseq
from citytwin.io.options import gc_paused
from citytwin.model.citymodel import CityModel
from citytwin.model.scenario import (
    BOUNDARY_DEPTH,
    ObjectChange,
    Scenario,
    TransformObject,
    object_changes,
    object_frame,
    touched_ids,
    transform_points,
    with_orphans,
)

__all__ = ["ExportResult", "write_scenario_cityjson"]

#: Levels of ``boundaries`` that semantic and material ``values`` mirror, per geometry type.
VALUE_DEPTH = {"MultiPoint": 1, "MultiLineString": 1, "MultiSurface": 1, "CompositeSurface": 1,
               "Solid": 2, "MultiSolid": 3, "CompositeSolid": 3}  # fmt: skip
#: Members listing an object's children in CityJSON 0.6 (``children`` from 0.8 on).
_LEGACY_CHILDREN = ("Parts", "Installations", "ConstructionElements")
#: City-object types renamed on the way to CityJSON 2.0.
_RENAMED_TYPES = {"+GenericCityObject": "GenericCityObject", "BridgeConstructionElement": "BridgeConstructiveElement"}
#: Root members the writer makes itself; every other root member is copied.
_OWN_MEMBERS = frozenset(
    {"type", "version", "CityObjects", "vertices", "transform", "metadata", "appearance", "geometry-templates"}
)
_URN_CRS = re.compile(r"^urn:ogc:def:crs:([A-Za-z]+):[^:]*:([0-9A-Za-z]+)$")
_BARE_CRS = re.compile(r"^([A-Za-z]+):([0-9]+)$")

_DROPPED_GEOMETRY = "geometries that use vertex indices outside the vertex list (or no vertices) were left out"
_DROPPED_THEME = "material or texture themes that point past the appearance lists were left out"
_DROPPED_LOCATION = "address locations that use vertex indices outside the vertex list were left out"
_UNKNOWN_GEOMETRY = "geometries of a type CityJSON 2.0 does not have were left out"

#: Object members the hierarchy reads: decoded with the objects (the others stay raw JSON until needed).
_LINK_MEMBERS = frozenset({"type", "parents", "parent", "children", "members", *_LEGACY_CHILDREN})
#: Members that name other objects (an object with none of them is linked only by others).
_NAMING = _LINK_MEMBERS - {"type"}
_CHILD_MEMBERS = ("children", *_LEGACY_CHILDREN)
_CHILDREN = ("children",)
_LEGACY = frozenset(_LEGACY_CHILDREN)
#: Members of older versions that CityJSON 2.0 writes as ``parents`` and ``children``.
_OLD_LINK_ORDER = ("parent", *_LEGACY_CHILDREN)
_OLD_LINKS = frozenset(_OLD_LINK_ORDER)
#: Geometry types as raw JSON (``b'"Solid"'``) → name, depth of boundaries and of values.
_RAW_KINDS = {orjson.dumps(kind): (kind, BOUNDARY_DEPTH[kind], VALUE_DEPTH[kind]) for kind in BOUNDARY_DEPTH}
_NULL_RAW = msgspec.Raw(b"null")
_ABSENT = msgspec.Raw()  # a member not in the file (JSON has no empty value)


class _Root(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The root of a CityJSON document with only the members the writer knows (others: :data:`_ROOT`)."""

    type: msgspec.Raw = _ABSENT
    version: msgspec.Raw = _ABSENT
    metadata: msgspec.Raw = _ABSENT
    transform: msgspec.Raw = _ABSENT
    extensions: msgspec.Raw = _ABSENT
    appearance: msgspec.Raw = _ABSENT
    geometry_templates: msgspec.Raw = msgspec.field(name="geometry-templates", default=_ABSENT)
    CityObjects: dict[str, dict[str, msgspec.Raw]] | None = None
    vertices: msgspec.Raw = _ABSENT


_ROOT_STRUCT = msgspec.json.Decoder(_Root)
_ROOT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_OBJECTS = msgspec.json.Decoder(dict[str, dict[str, msgspec.Raw]])
_GEOMETRIES = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_THEMES = msgspec.json.Decoder(dict[str, dict[str, msgspec.Raw]])
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True)
class ExportResult:
    """What :func:`write_scenario_cityjson` wrote.

    Attributes
    ----------
    path
        The file written.
    objects
        City objects written.
    vertices
        Vertices written.
    warnings
        One sentence for each kind of thing that could not be written, with counts.
    """

    path: Path
    objects: int
    vertices: int
    warnings: list[str] = field(default_factory=list)


def write_scenario_cityjson(
    model: CityModel,
    scenario: Scenario | None,
    path: str | os.PathLike,
    seq: bool | None = False,
    *,
    scale: float | None = None,
    allow_overwrite_source: bool = False,
) -> ExportResult:
    """Write ``model`` with ``scenario`` applied as CityJSON 2.0 (or CityJSONSeq).

    Parameters
    ----------
    model
        A model read from a CityJSON or CityJSONSeq file (it keeps the file's bytes).
        Objects a reader option left out (types, bounding box) are not written; the
        objects written keep every LoD of the file.
    scenario
        The edits to apply; ``None`` writes the model as it was read.
    path
        The file to write (its folder must exist).
    seq
        Write CityJSONSeq (``.city.jsonl``): a header line, then one feature per
        top-level object with its children. ``None``: CityJSONSeq when ``path`` ends
        in ``.jsonl``.
    scale
        Quantisation step in CRS units; by default the source's (when the same on
        every axis), otherwise 0.001.
    allow_overwrite_source
        Allow ``path`` to be the file the model was read from (the caller has asked
        and kept a backup).

    Returns
    -------
    ExportResult
        The path, counts and warnings.

    Raises
    ------
    CityTwinError
        With one sentence: a model without a CityJSON source, a scenario that adds
        an object under an id the model has, a write that failed (the target is
        then as it was).
    """
    path = Path(path)
    if seq is None:
        seq = path.name.lower().endswith(".jsonl")
    doc = model.source_document
    if doc is None or doc.kind not in ("CityJSON", "CityJSONSeq"):
        raise CityTwinError(
            f"The {model.format} model cannot be written as CityJSON losslessly: it was not read from a CityJSON file."
        )
    if model.source is not None and not allow_overwrite_source and _same_file(path, model.source):
        raise CityTwinError(f"Writing to {path.name} would overwrite the file the model was read from.")
    with gc_paused():  # many small objects, no cycles: the collector would only slow this down
        return _write(model, doc.kind, doc.chunks, scenario, path, seq, scale)  # freed before it runs again


def _write(
    model: CityModel,
    kind: str,
    chunks: tuple[bytes, ...],
    scenario: Scenario | None,
    path: Path,
    seq: bool,
    scale: float | None,
) -> ExportResult:
    """:func:`write_scenario_cityjson` once its arguments are checked."""
    source = _Source.parse(kind, chunks, model.source or path)
    writer = _Writer(model, source, scenario, path)
    if scale is None:
        scale = source.scale
    try:
        if seq:
            header, features, n_vertices = writer.sequence(scale)
            write_cityjsonseq(path, header, features)
        else:
            document = writer.document(scale)
            n_vertices = len(document["vertices"])
            _write_document(path, document)
    except OSError as exc:
        raise CityTwinError(f"The CityJSON file could not be written to {path} ({exc.strerror or exc}).") from None
    return ExportResult(path, len(writer.written), n_vertices, writer.warning_sentences())


def _write_document(path: Path, document: dict[str, Any]) -> None:
    """:func:`~citytwin.io.cityjson_write.write_cityjson`, with members that are JSON already written as they are.

    (``CityObjects`` written from raw bytes is most of the file: no second copy of it.)
    """
    if not any(type(v) is msgspec.Raw for v in document.values()):
        write_cityjson(path, document)
        return
    chunks = []
    for i, (key, value) in enumerate(document.items()):
        head = (b"{" if i == 0 else b",") + orjson.dumps(key) + b":"
        if type(value) is msgspec.Raw:
            chunks += [head, value]
        else:
            chunks.append(head + _dumps(value))
    chunks.append(b"}")
    write_atomic(path, chunks)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and os.path.samefile(a, b)
    except OSError:
        return False


# ------------------------------------------------------------------ source
@dataclass
class _Unit:
    """City objects with the vertices and appearance their indices address (a document or a feature)."""

    objects: dict[str, dict]
    vertices: np.ndarray
    appearance: dict
    raw: bool = False  # objects are as :func:`_decode_raw` gives them: members raw JSON but for _LINK_MEMBERS


@dataclass
class _Source:
    header: dict
    version: tuple[int, int]
    units: list[_Unit]
    scale: float
    path: Path

    @classmethod
    def parse(cls, kind: str, chunks: tuple[bytes, ...], path: Path) -> _Source:
        lines = [c for c in chunks if c.strip()]
        if not lines:
            raise CityTwinError(f"The source of {path.name} is empty.")
        raw = _decode_raw(lines[0]) if kind == "CityJSON" else None
        try:
            if raw is None:
                header = parse_json(lines[0], path)
                if not isinstance(header, dict):
                    raise ReaderError("The source is not a CityJSON object.", path)
                transform = _transform(header, path)
                units = [_unit(header, transform, path)]
            else:
                header, objects, vertices = raw
                transform = _transform(header, path)
                units = [_raw_unit(header, objects, vertices, transform, path)]
        except ReaderError as exc:
            raise CityTwinError(f"The source of {path.name} can no longer be read ({exc}).") from None
        if kind == "CityJSONSeq":
            for line in lines[1:]:
                try:
                    feature = orjson.loads(line)
                    if isinstance(feature, dict) and feature.get("type") == "CityJSONFeature":
                        units.append(_unit(feature, transform, path))
                except (orjson.JSONDecodeError, ReaderError):
                    continue  # skipped by the reader as well
        scale = 0.001
        if transform is not None and len(set(transform[0].tolist())) == 1 and transform[0][0] > 0:
            scale = float(transform[0][0])
        return cls(header, _version(header.get("version")), units, scale, path)

    @property
    def templates(self) -> dict | None:
        gt = self.header.get("geometry-templates")
        return gt if isinstance(gt, dict) else None


def _unit(doc: dict, transform: Any, path: Path) -> _Unit:
    objects = doc.get("CityObjects")
    objects = {str(k): v for k, v in objects.items() if isinstance(v, dict)} if isinstance(objects, dict) else {}
    raw = doc.get("vertices", [])
    vertices = vertices_array(raw, transform, path) if raw else np.zeros((0, 3))
    appearance = doc.get("appearance")
    return _Unit(objects, vertices, appearance if isinstance(appearance, dict) else {})


def _decode_raw(data: bytes) -> tuple[dict, dict[str, dict], np.ndarray | list] | None:
    """A CityJSON document with its city objects left as raw JSON, or None (the general path then reads it).

    Returns the root members but ``CityObjects`` and ``vertices`` (decoded), the city
    objects (members raw JSON, but those in :data:`_LINK_MEMBERS`), and the vertices:
    ``(N, 3)`` float64 integers as in the file (no transform applied) or, where they are
    not integers, the decoded list. None for anything the general path should read:
    JSON that does not decode, objects that are not JSON objects…
    """
    lines = [i for i in (data.find(b"\n"), data.find(b"\r"), data.find(b"\t")) if i >= 0]
    if lines and data[min(lines) :].strip():  # indented: made compact (JSON strings hold none of these)
        try:
            data = msgspec.json.format(data, indent=-1)
        except (msgspec.DecodeError, ValueError, RecursionError):
            return None
    try:
        try:  # one pass where the root has only members the writer knows (their order then does not matter)
            struct = _ROOT_STRUCT.decode(data)
            root = {f.encode_name: getattr(struct, f.name) for f in msgspec.structs.fields(_Root)}
            root = {k: v for k, v in root.items() if v is not _ABSENT and k not in ("CityObjects", "vertices")}
            objects = struct.CityObjects or {}
            raw_vertices = struct.vertices
        except msgspec.ValidationError:
            root = _ROOT.decode(data)
            raw_objects = root.pop("CityObjects", None)
            objects = _OBJECTS.decode(raw_objects) if raw_objects is not None and raw_objects != _NULL_RAW else {}
            raw_vertices = root.pop("vertices", _ABSENT)
        links = [(co, key) for co in objects.values() for key in co if key in _LINK_MEMBERS]
        raws = b",".join([co[key] for co, key in links])
        for (co, key), value in zip(links, msgspec.json.decode(b"[" + raws + b"]"), strict=True):
            co[key] = value
        header = {k: orjson.loads(memoryview(v)) for k, v in root.items() if k != "appearance"}
        if "appearance" in root:
            header["appearance"] = _appearance(root["appearance"])
        vertices: np.ndarray | list = []
        if len(raw_vertices):
            v = vertices_from_raw(raw_vertices)
            vertices = v if v is not None else orjson.loads(memoryview(raw_vertices))
    except (msgspec.DecodeError, orjson.JSONDecodeError, RecursionError):
        return None
    return header, objects, vertices


def _appearance(raw: msgspec.Raw) -> Any:
    """``appearance`` decoded, but its ``materials`` (each written as it is) left raw JSON."""
    try:
        members = _ROOT.decode(raw)
    except msgspec.ValidationError:  # not a JSON object
        return orjson.loads(memoryview(raw))
    out = {k: orjson.loads(memoryview(v)) for k, v in members.items() if k != "materials"}
    if "materials" in members:
        try:
            out["materials"] = _RAW_LIST.decode(members["materials"])
        except msgspec.ValidationError:  # not a list
            out["materials"] = orjson.loads(memoryview(members["materials"]))
    return out


def _raw_unit(header: dict, objects: dict[str, dict], raw: np.ndarray | list, transform: Any, path: Path) -> _Unit:
    """:func:`_unit` for what :func:`_decode_raw` gives."""
    if isinstance(raw, np.ndarray):
        vertices = _apply_transform(raw, transform) if len(raw) else np.zeros((0, 3))
    else:
        vertices = vertices_array(raw, transform, path) if raw else np.zeros((0, 3))
    appearance = header.get("appearance")
    return _Unit(objects, vertices, appearance if isinstance(appearance, dict) else {}, raw=True)


def _full(co: dict, path: Path) -> dict:
    """An object of a raw unit with every member decoded (as the general path reads it)."""
    return {k: parse_json(bytes(v), path) if type(v) is msgspec.Raw else v for k, v in co.items()}


def _version(value: Any) -> tuple[int, int]:
    m = re.match(r"^(\d+)\.(\d+)", str(value)) if isinstance(value, str | int | float) else None
    return (int(m.group(1)), int(m.group(2))) if m else (2, 0)


# ------------------------------------------------------------- boundaries
def _flat(b: Any, depth: int) -> list[int] | None:
    """The integers of a ``depth``-deep nested list, or None when it is not one (or holds none)."""
    if not isinstance(b, list):
        return None
    it: Iterable[Any] = b
    try:
        for _ in range(depth - 1):
            it = chain.from_iterable(it)
        flat = list(it)
    except TypeError:
        return None
    if not flat or set(map(type, flat)) != {int}:
        return None
    return flat


def _values(v: Any, depth: int) -> list[Any] | None:
    """The entries of semantic or material ``values`` (``None`` included), or None when malformed."""
    if v is None:
        return []
    if not isinstance(v, list):
        return None
    it: Iterable[Any] = v
    try:
        for _ in range(depth - 1):
            it = chain.from_iterable(x if x is not None else () for x in it)
        return list(it)
    except TypeError:
        return None


def _remap(b: list, depth: int, lut: dict[int, int]) -> list:
    if depth == 1:
        return list(map(lut.__getitem__, b))
    return [_remap(x, depth - 1, lut) for x in b]


def _remap_values(v: Any, depth: int, lut: dict[int, int]) -> Any:
    if v is None:
        return None
    if depth == 1:
        return [None if x is None else lut[x] for x in v]
    return [_remap_values(x, depth - 1, lut) for x in v]


def _rings(v: Any, depth: int) -> list[Any] | None:
    """The ring entries (``[texture, uv, …]`` or ``[null]``) of texture values, or None when malformed."""
    if not isinstance(v, list):
        return None
    it: Iterable[Any] = v
    try:
        for _ in range(depth - 2):
            it = chain.from_iterable(it)
        rings = list(it)
    except TypeError:
        return None
    return rings if all(type(r) is list and r for r in rings) else None


def _remap_texture(v: list, depth: int, tex: dict[int, int], uv: dict[int, int]) -> list:
    if depth == 1:
        return [None] if v[0] is None else [tex[v[0]], *map(uv.__getitem__, v[1:])]
    return [_remap_texture(x, depth - 1, tex, uv) for x in v]


def _lod(value: Any) -> Any:
    """A LoD as CityJSON 2.0 writes it: text (``2`` → ``"2"``, ``2.2`` → ``"2.2"``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# ------------------------------------------------------------------ writer
@dataclass
class _Geometry:
    """A geometry to write, with what it indexes."""

    g: dict
    kind: str  # a BOUNDARY_DEPTH key or "GeometryInstance"
    vertices: list[int]
    materials: dict[str, list[int]]  # theme → material indices used
    textures: dict[str, tuple[list[int], list[int]]]  # theme → (texture indices, uv indices)


@dataclass
class _Object:
    id: str
    unit: int
    co: dict
    geometries: list[_Geometry] = field(default_factory=list)
    locations: list[tuple[int, list[int]]] = field(default_factory=list)  # (address index, vertex indices)
    key: tuple[str, ...] = ()  # the moved ancestors-or-self whose transforms apply, outermost first


@dataclass
class _RawPart:
    """The objects of one unit written from their bytes: what their indices are rewritten in.

    ``geometries`` and ``themes`` are the members of each geometry and material theme
    (raw JSON), in the order of ``boundaries`` and ``values``; rewriting replaces their
    ``"boundaries"`` and ``"values"`` in place.
    """

    geometries: list[dict[str, Any]]
    boundaries: IndexArrays | None
    themes: list[dict[str, Any]]
    values: IndexArrays | None
    themed: bool  # a geometry has a material theme (the unit's materials are then used)


class _Writer:
    def __init__(self, model: CityModel, source: _Source, scenario: Scenario | None, path: Path) -> None:
        self.source = source
        self.path = path
        self.model_dir = model.source.parent if model.source is not None else path.parent
        self.skipped: dict[str, int] = {}
        self.changes: dict[str, ObjectChange] = object_changes(scenario) if scenario is not None else {}
        units = source.units
        where: dict[str, int] = dict.fromkeys(units[0].objects, 0)
        for u, unit in enumerate(units[1:], start=1):
            for oid in unit.objects:
                where.setdefault(oid, u)
        kept = set(model.objects.ids)
        added = [c.added for c in self.changes.values() if c.added is not None and not c.deleted]
        for a in added:
            if a.id in where:
                raise CityTwinError(f"The scenario adds an object with the id {a.id!r}, which the city model has.")
            where[a.id] = len(units)
            units.append(_Unit({a.id: dict(a.cityobject)}, a.vertex_array(), {}))
        unknown = [i for i in (touched_ids(scenario) if scenario is not None else ()) if i not in where]
        self.notes: list[str] = []
        if unknown:
            many = len(unknown) > 1
            self.notes.append(
                f"{len(unknown)} object{'s' if many else ''} named by the scenario {'are' if many else 'is'} not in "
                f"the city model (for example {sorted(unknown)[0]!r}); {'their' if many else 'its'} edits were ignored."
            )
        self.where = where
        self.version = source.version
        self._hierarchy()
        added_ids = {a.id for a in added}
        gone_by_edit = {c.id for c in self.changes.values() if c.deleted and c.id in where}
        dropped = {i for i in where if i not in kept and i not in added_ids}
        groups = {p for p in self.children if self._is_group(p)}  # every parent has children
        part_of = {c: [p for p in ps if p not in groups] for c, ps in self.parents.items()}
        gone = with_orphans(gone_by_edit | dropped, {c: ps for c, ps in part_of.items() if ps})
        order = [i for i in where if i not in gone]  # the source's order, then the added objects
        self.written = order
        self.written_set = set(order)
        self.transforms = {
            i: c.transform for i, c in self.changes.items() if c.transform is not None and i in self.written_set
        }
        # untouched objects of a raw unit (not moved with a parent either) are written from their bytes:
        # document() reads them in bulk
        moved = {m for t in self.transforms for m in self._subtree(t)}  # what _key() gives a transform
        changed = self.changes.keys() | moved
        self.deferred = [i for i in order if i not in changed and units[where[i]].raw]
        deferred = set(self.deferred)
        self.objects = {i: self._prepare(i) for i in order if i not in deferred}
        self.raw_ids: set[str] = set()
        self.raw_objects: dict[str, dict[str, Any]] = {}  # written raw: their members as written
        self.centres = self._centres()
        self._chains: dict[tuple[str, ...], list[tuple[TransformObject, np.ndarray, float]]] = {}

    # -------------------------------------------------------- hierarchy
    def _hierarchy(self) -> None:
        """Parents and children of every object from all the members that name them, in agreement."""
        where = self.where
        units = self.source.units
        old_groups = self.version < (1, 1)
        parents: dict[str, list[str]] = {}
        children: dict[str, list[str]] = {}
        missing = 0  # names (text) of objects that are not in the file

        def link(parent: str, child: str) -> None:  # two objects in the file, in the order they are named
            ps = parents.get(child)
            if ps is None:
                parents[child] = [parent]
            elif parent not in ps:
                ps.append(parent)
            cs = children.get(parent)
            if cs is None:
                children[parent] = [child]
            elif child not in cs:
                cs.append(child)

        for oid, u in where.items():
            co = units[u].objects[oid]
            if _NAMING.isdisjoint(co):
                continue
            for key in _CHILD_MEMBERS if not _LEGACY.isdisjoint(co) else _CHILDREN:
                kids = co.get(key)
                if isinstance(kids, list):
                    for c in kids:
                        if isinstance(c, str):
                            if c not in where:
                                missing += 1
                            elif c != oid:
                                link(oid, c)
            if old_groups and isinstance(co.get("members"), list) and co.get("type") == "CityObjectGroup":
                for c in co["members"]:
                    if isinstance(c, str) and c != oid and c in where:
                        link(oid, c)
            ps = co.get("parents")
            parent = co.get("parent")
            if isinstance(ps, list):
                for p in ps:
                    if isinstance(p, str):
                        if p not in where:
                            missing += 1
                        elif p != oid:
                            link(p, oid)
            elif isinstance(parent, list):
                for p in parent:
                    if isinstance(p, str) and p != oid and p in where:
                        link(p, oid)
            elif isinstance(parent, str) and parent != oid and parent in where:
                link(parent, oid)
            if isinstance(parent, str) and parent not in where:
                missing += 1
        if missing:
            self.skipped["references to parent or child objects that are not in the file were left out"] = missing
        self.parents, self.children = parents, children

    def _is_group(self, oid: str) -> bool:
        """True for a ``CityObjectGroup``: its members outlive it (a part does not outlive its whole)."""
        return self.source.units[self.where[oid]].objects[oid].get("type") == "CityObjectGroup"

    def _first_parent(self, oid: str) -> str | None:
        for p in self.parents.get(oid, ()):
            if p in self.written_set:
                return p
        return None

    # ---------------------------------------------------------- objects
    def _prepare(self, oid: str) -> _Object:
        """The geometries of an object that can be written, with the indices each uses."""
        u = self.where[oid]
        unit = self.source.units[u]
        co = unit.objects[oid]
        if unit.raw:
            try:
                co = _full(co, self.source.path)
            except ReaderError as exc:
                raise CityTwinError(f"The source of {self.source.path.name} can no longer be read ({exc}).") from None
        obj = _Object(oid, u, co)
        n = len(unit.vertices)
        n_tex = len(unit.appearance.get("textures") or [])
        n_uv = len(unit.appearance.get("vertices-texture") or [])
        n_mat = len(unit.appearance.get("materials") or [])
        geometry = co.get("geometry")
        for g in geometry if isinstance(geometry, list) else []:
            kind = g.get("type") if isinstance(g, dict) else None
            if kind == "GeometryInstance":
                ref = _flat(g.get("boundaries"), 1)
                if ref is None or not all(0 <= i < n for i in ref):
                    self._skip(_DROPPED_GEOMETRY)
                    continue
                obj.geometries.append(_Geometry(g, kind, ref, {}, {}))
                continue
            if kind not in BOUNDARY_DEPTH:
                self._skip(_UNKNOWN_GEOMETRY)
                continue
            flat = _flat(g.get("boundaries"), BOUNDARY_DEPTH[kind])
            if flat is None or min(flat) < 0 or max(flat) >= n:
                self._skip(_DROPPED_GEOMETRY)
                continue
            obj.geometries.append(_Geometry(g, kind, flat, *_appearance_use(g, kind, n_mat, n_tex, n_uv, self._skip)))
        address = co.get("address")
        for a, entry in enumerate(address if isinstance(address, list) else [address] if address else []):
            location = entry.get("location") if isinstance(entry, dict) else None
            flat = _flat(location.get("boundaries"), 1) if isinstance(location, dict) else None
            if flat is not None and min(flat) >= 0 and max(flat) < n:
                obj.locations.append((a, flat))
        return obj

    def _prepare_raw(self) -> dict[int, _RawPart]:
        """Read the indices of the deferred objects in bulk, per unit; the others are prepared the general way.

        An object is written raw when every geometry is of a type in ``BOUNDARY_DEPTH`` with
        ``boundaries``, no texture, and material themes with ``values``, it has no address,
        and all of its unit's raw objects' indices are exactly nested and in range.
        """
        by_unit: dict[int, list[str]] = {}
        for oid in self.deferred:
            by_unit.setdefault(self.where[oid], []).append(oid)
        self.deferred = []
        parts = {}
        lods: dict[bytes, Any] = {}  # a LoD's JSON → as written
        for u, ids in by_unit.items():
            objects = self.source.units[u].objects
            part = _RawPart([], None, [], None, False)
            geometries, themes_out = part.geometries, part.themes
            depths: list[int] = []
            value_depths: list[int] = []
            write = self._raw_writer()
            general: list[str] = []
            taken: list[str] = []
            written: dict[str, dict[str, Any]] = {}
            for oid in ids:  # each object decoded and written at once, while its members are in the cache
                co = objects[oid]
                if "address" in co:
                    general.append(oid)
                    continue
                raw = co.get("geometry")
                if raw is None:
                    taken.append(oid)
                    written[oid] = write(oid, co, None)
                    continue
                try:
                    geoms = _GEOMETRIES.decode(raw)
                except msgspec.DecodeError:  # not a list of objects
                    general.append(oid)
                    continue
                n_geometries, n_themes = len(geometries), len(themes_out)
                themed = False
                for g in geoms:  # taken as it goes; undone below where one cannot be written raw
                    kind = g.get("type")
                    kind = _RAW_KINDS.get(bytes(kind)) if kind is not None else None
                    if kind is None or "boundaries" not in g or "texture" in g:
                        break
                    geometries.append(g)
                    depths.append(kind[1])
                    if "material" in g:
                        try:
                            g["material"] = themes = _THEMES.decode(g["material"])
                        except msgspec.DecodeError:  # not an object of objects
                            break
                        ok = True
                        for theme in themes.values():
                            values = theme.get("values")
                            if values is None:  # a theme with one "value" (or none)
                                ok = False
                                break
                            if values != _NULL_RAW:
                                themes_out.append(theme)
                                value_depths.append(kind[2])
                        if not ok:
                            break
                        if themes:
                            themed = True
                        else:
                            del g["material"]  # as the general path: no theme left
                    lod = g.get("lod")
                    if lod is not None:
                        key = bytes(lod)
                        if key not in lods:
                            value = msgspec.json.decode(key)
                            written_lod = _lod(value)
                            lods[key] = lod if written_lod is value else written_lod
                        g["lod"] = lods[key]
                else:
                    taken.append(oid)
                    written[oid] = write(oid, co, geoms)
                    part.themed = part.themed or themed
                    continue
                del geometries[n_geometries:], depths[n_geometries:], themes_out[n_themes:], value_depths[n_themes:]
                general.append(oid)
            unit = self.source.units[u]
            n_vertices, n_materials = len(unit.vertices), len(unit.appearance.get("materials") or [])
            if geometries:
                part.boundaries = IndexArrays.parse([g["boundaries"] for g in geometries], depths)
            if themes_out:
                part.values = IndexArrays.parse([t["values"] for t in themes_out], value_depths, nulls=True)
            if (
                (geometries and (part.boundaries is None or part.boundaries.values.max() >= n_vertices))
                or (themes_out and (part.values is None or part.values.values.max() >= n_materials))
            ):  # fmt: skip
                general.extend(taken)  # something the general path takes (and reports) its own way
            else:
                self.raw_ids.update(taken)
                self.raw_objects.update(written)
                parts[u] = part
            for oid in general:
                self.objects[oid] = self._prepare(oid)
        return parts

    def _prepare_deferred(self) -> None:
        """Prepare the deferred objects the general way (for output that does not write them raw)."""
        for oid in self.deferred:
            self.objects[oid] = self._prepare(oid)
        self.deferred = []

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def _key(self, oid: str) -> tuple[str, ...]:
        path = []
        node: str | None = oid
        seen: set[str] = set()
        while node is not None and node not in seen:
            seen.add(node)
            path.append(node)
            node = self._first_parent(node)
        return tuple(i for i in reversed(path) if i in self.transforms)

    def _subtree(self, oid: str) -> list[str]:
        out, todo, seen = [], [oid], {oid}
        while todo:
            node = todo.pop()
            out.append(node)
            for c in self.children.get(node, ()):
                if c in self.written_set and c not in seen and self._first_parent(c) == node:
                    seen.add(c)
                    todo.append(c)
        return out

    def _centres(self) -> dict[str, tuple[np.ndarray, float]]:
        """Footprint centre (mean of the vertices in plan) and base (lowest point) of each moved object's subtree."""
        out = {}
        for oid in self.transforms:
            parts = []
            for member in self._subtree(oid):
                obj = self.objects[member]
                idx = [i for g in obj.geometries for i in g.vertices] + [i for _, f in obj.locations for i in f]
                if idx:
                    parts.append(self.source.units[obj.unit].vertices[np.unique(np.asarray(idx, np.int64))])
            pts = np.concatenate(parts) if parts else np.zeros((0, 3))
            out[oid] = object_frame(pts)
        return out

    def _chain(self, key: tuple[str, ...]) -> list[tuple[TransformObject, np.ndarray, float]]:
        """The transforms of ``key`` with the centre and base each turns about, moved by those before it."""
        if key not in self._chains:
            steps: list[tuple[TransformObject, np.ndarray, float]] = []
            for oid in key:
                centre, base = self.centres[oid]
                p = np.array([[centre[0], centre[1], base]])
                for t, c, b in steps:
                    p = transform_points(t, p, c, b)
                steps.append((self.transforms[oid], p[0, :2], float(p[0, 2])))
            self._chains[key] = steps
        return self._chains[key]

    # ----------------------------------------------------------- groups
    def _group(
        self, members: list[str], templates: bool, raw: dict[int, _RawPart] | None = None
    ) -> tuple[dict[str, dict], np.ndarray, dict]:
        """City objects, vertices (world coordinates) and appearance of one document or feature.

        ``raw``: the parts of the objects in :attr:`raw_ids` (all in ``members``), whose
        objects come out with their members as raw JSON.
        """
        units = self.source.units
        raw = raw or {}
        blocks: dict[tuple[int, tuple[str, ...]], list[list[int]]] = {}
        raw_blocks: dict[tuple[int, tuple[str, ...]], np.ndarray] = {}  # a raw part's vertex indices, in its block
        used_mat: dict[int, set[int]] = {}
        used_tex: dict[int, set[int]] = {}
        used_uv: dict[int, set[int]] = {}

        def use(u: int, g: _Geometry) -> None:
            for idx in g.materials.values():
                used_mat.setdefault(u, set()).update(idx)
            for tex, uv in g.textures.values():
                used_tex.setdefault(u, set()).update(tex)
                used_uv.setdefault(u, set()).update(uv)

        raw_units: set[int] = set()
        for oid in members:
            obj = self.objects.get(oid)
            if obj is None:  # written raw: untouched, in its unit's block of unmoved objects
                u = self.where[oid]
                if u in raw_units:
                    continue
                raw_units.add(u)
                blocks.setdefault((u, ()), [])
                part = raw[u]
                raw_blocks[(u, ())] = part.boundaries.values if part.boundaries is not None else np.zeros(0, int)
                if part.themed:
                    used = used_mat.setdefault(u, set())
                    if part.values is not None:
                        mask = np.zeros(len(units[u].appearance.get("materials") or []) + 1, bool)
                        mask[part.values.values] = True  # -1 (null) marks the last
                        used.update(np.flatnonzero(mask[:-1]).tolist())
                continue
            obj.key = self._key(oid)
            block = blocks.setdefault((obj.unit, obj.key), [])
            for g in obj.geometries:
                block.append(g.vertices)
                use(obj.unit, g)
            for _, flat in obj.locations:
                block.append(flat)
        template_geoms = self._template_geometries() if templates else []
        for g in template_geoms:
            use(0, g)
        # vertices: each block's used indices in their order in the source, moved where the block is
        luts: dict[tuple[int, tuple[str, ...]], dict[int, int] | list[int] | None] = {}
        array_luts: dict[tuple[int, tuple[str, ...]], np.ndarray] = {}  # for raw parts: old index → new
        coords = []
        start = 0
        for (u, key), lists in blocks.items():
            raw_indices = raw_blocks.get((u, key))
            prepared = np.fromiter(chain.from_iterable(lists), np.int64) if lists else None
            if raw_indices is None or not len(raw_indices):
                if prepared is None:
                    continue
                uniq = np.unique(prepared)
            else:  # indices in range: which are used, without sorting
                in_use = np.zeros(len(units[u].vertices), bool)
                in_use[raw_indices] = True
                if prepared is not None:
                    in_use[prepared] = True
                uniq = np.flatnonzero(in_use)
            xyz = units[u].vertices[uniq]
            for t, c, b in self._chain(key):
                xyz = transform_points(t, xyz, c, b)
            coords.append(xyz)
            if start == 0 and uniq[-1] == len(uniq) - 1:  # the indices stay as they are: nothing to rewrite
                luts[(u, key)] = None
            elif raw_indices is not None:
                lut_array = np.full(int(uniq[-1]) + 1, -1, np.int64)
                lut_array[uniq] = np.arange(start, start + len(uniq))
                array_luts[(u, key)] = lut_array
                if prepared is not None:  # the prepared objects' indices only
                    prepared = np.unique(prepared)
                    luts[(u, key)] = dict(zip(prepared.tolist(), lut_array[prepared].tolist(), strict=True))
            else:
                luts[(u, key)] = dict(zip(uniq.tolist(), range(start, start + len(uniq)), strict=True))
            start += len(uniq)
        vertices = np.concatenate(coords) if coords else np.zeros((0, 3))
        # appearance: each unit's used entries in their order, one list after another
        appearance: dict[str, Any] = {}
        mat_lut: dict[int, dict[int, int]] = {}
        tex_lut: dict[int, dict[int, int]] = {}
        uv_lut: dict[int, dict[int, int]] = {}
        for name, used, lut in (
            ("materials", used_mat, mat_lut),
            ("textures", used_tex, tex_lut),
            ("vertices-texture", used_uv, uv_lut),
        ):
            entries: list[Any] = []
            for u in sorted(used):
                source_list = units[u].appearance.get(name) or []
                idx = sorted(used[u])
                lut[u] = dict(zip(idx, range(len(entries), len(entries) + len(idx)), strict=True))
                entries.extend([source_list[i] for i in idx])
            if entries and name == "textures":
                appearance[name] = [self._texture(t) for t in entries]
            elif entries:
                appearance[name] = _json_list(entries)
        if appearance.get("materials") or appearance.get("textures"):
            for u in sorted(set(used_mat) | set(used_tex)):
                for key in ("default-theme-texture", "default-theme-material"):
                    value = units[u].appearance.get(key)
                    if isinstance(value, str):
                        appearance.setdefault(key, value)
        for u, part in raw.items():
            _rewrite(part, array_luts.get((u, ())), mat_lut.get(u, {}))
        objects = {}
        raw_objects = self.raw_objects
        for oid in members:
            obj = self.objects.get(oid)
            if obj is None:
                objects[oid] = raw_objects[oid]
                continue
            u = obj.unit
            lut = luts.get((u, obj.key), {})
            objects[oid] = self._write_object(obj, lut, mat_lut.get(u, {}), tex_lut.get(u, {}), uv_lut.get(u, {}))
        if templates and template_geoms:
            self.template_out = self._write_templates(
                template_geoms, mat_lut.get(0, {}), tex_lut.get(0, {}), uv_lut.get(0, {})
            )
        return objects, vertices, appearance

    def _texture(self, texture: Any) -> Any:
        """A texture with its image path relative to the written file (as it was relative to the source)."""
        if not isinstance(texture, dict) or not isinstance(texture.get("image"), str):
            return texture
        image = texture["image"]
        if "://" in image or os.path.isabs(image) or self.model_dir.resolve() == self.path.parent.resolve():
            return texture
        moved = os.path.relpath(self.model_dir / image, self.path.parent)
        return dict(texture, image=Path(moved).as_posix())

    def _template_geometries(self) -> list[_Geometry]:
        gt = self.source.templates
        templates = gt.get("templates") if gt else None
        if not isinstance(templates, list):
            return []
        app = self.source.units[0].appearance
        n_mat, n_tex = len(app.get("materials") or []), len(app.get("textures") or [])
        n_uv = len(app.get("vertices-texture") or [])
        out = []
        for t in templates:
            kind = t.get("type") if isinstance(t, dict) else None
            if kind not in BOUNDARY_DEPTH:
                out.append(_Geometry(t if isinstance(t, dict) else {}, "", [], {}, {}))
                continue
            out.append(_Geometry(t, kind, [], *_appearance_use(t, kind, n_mat, n_tex, n_uv, self._skip)))
        return out

    def _write_templates(self, geoms: list[_Geometry], mat: dict, tex: dict, uv: dict) -> dict:
        gt = dict(self.source.templates or {})
        out = []
        for g in geoms:
            if not g.kind:
                out.append(g.g)
                continue
            t = dict(g.g)
            t["lod"] = _lod(t.get("lod"))
            _write_appearance(t, g, mat, tex, uv)
            out.append(t)
        gt["templates"] = out
        return gt

    def _raw_writer(self) -> Callable[[str, dict[str, Any], list[dict[str, Any]] | None], dict[str, Any]]:
        """A function giving an object written from its bytes: its members (raw JSON), links and geometries.

        :meth:`_write_links` for objects that are written raw, made to be called once per object
        with the object's members as read (not changed) and its geometries (members as written,
        ``boundaries`` and material ``values`` rewritten in place later), or None where it has
        no ``geometry`` member.
        """
        written, parents, children = self.written_set, self.parents, self.children
        renamed = self.version < (2, 0)
        groups_list_members = self.version < (1, 1)

        def write(oid: str, co: dict[str, Any], geometries: list[dict[str, Any]] | None) -> dict[str, Any]:
            co = co.copy()
            if renamed or groups_list_members:
                otype = co.get("type")
                if renamed and otype in _RENAMED_TYPES:
                    co["type"] = _RENAMED_TYPES[otype]
                elif groups_list_members and otype == "CityObjectGroup":
                    co.pop("members", None)
            if not _OLD_LINKS.isdisjoint(co):
                for key in _OLD_LINK_ORDER:
                    if key in co:
                        del co[key]
            linked = parents.get(oid)
            value = [x for x in linked if x in written] if linked else None
            if value:
                co["parents"] = value
            elif "parents" in co:
                del co["parents"]
            linked = children.get(oid)
            value = [x for x in linked if x in written] if linked else None
            if value:
                co["children"] = value
            elif "children" in co:
                del co["children"]
            if geometries is not None:
                co["geometry"] = geometries
            return co

        return write

    def _write_object(
        self, obj: _Object, lut: dict[int, int] | list[int] | None, mat: dict, tex: dict, uv: dict
    ) -> dict:
        """The object's JSON as written (``lut``: old vertex index → new, None where they stay)."""
        co = dict(obj.co)
        oid = obj.id
        self._write_links(co, oid)
        change = self.changes.get(oid)
        if change is not None and (change.set_values or change.removed):
            base = co.get("attributes") if isinstance(co.get("attributes"), dict) else {}
            attrs = change.attributes(base)
            if attrs or "attributes" in co:
                co["attributes"] = attrs
        chain_steps = self._chain(obj.key)
        geometries = []
        for g in obj.geometries:
            out = dict(g.g)
            if g.kind == "GeometryInstance":
                out["boundaries"] = g.vertices if lut is None else [lut[i] for i in g.vertices]
                if chain_steps:
                    m = np.asarray(out.get("transformationMatrix"), dtype=np.float64).reshape(4, 4)
                    for t, _, _ in chain_steps:
                        m = t.linear() @ m
                    out["transformationMatrix"] = m.ravel().tolist()
            else:
                if lut is not None:
                    out["boundaries"] = _remap(out["boundaries"], BOUNDARY_DEPTH[g.kind], lut)
                if "lod" in out:
                    out["lod"] = _lod(out["lod"])
                _write_appearance(out, g, mat, tex, uv)
            geometries.append(out)
        if "geometry" in co:
            co["geometry"] = geometries
        address = co.get("address")
        if isinstance(address, dict):
            address = [address]
        if isinstance(address, list):
            address = list(address)
            located = dict(obj.locations)
            for a, entry in enumerate(address):
                if a in located and isinstance(entry, dict):
                    flat = located[a]
                    location = dict(entry["location"], boundaries=flat if lut is None else [lut[i] for i in flat])
                    if "lod" in location:
                        location["lod"] = _lod(location["lod"])
                    address[a] = dict(entry, location=location)
                elif isinstance(entry, dict) and "location" in entry:  # its indices are not in the vertex list
                    address[a] = {k: v for k, v in entry.items() if k != "location"}
                    self._skip(_DROPPED_LOCATION)
            co["address"] = address
        if chain_steps:
            co.pop("geographicalExtent", None)  # stale once moved; optional
        return co

    def _write_links(self, co: dict[str, Any], oid: str) -> None:
        """Type, parents and children as CityJSON 2.0 writes them, in place (``co`` is a copy)."""
        if self.version < (2, 0):
            otype = co.get("type")
            if otype in _RENAMED_TYPES:
                co["type"] = _RENAMED_TYPES[otype]
        if not _OLD_LINKS.isdisjoint(co):
            for key in _OLD_LINKS:
                co.pop(key, None)
        if self.version < (1, 1) and co.get("type") == "CityObjectGroup":
            co.pop("members", None)
        written = self.written_set
        for key, linked in (("parents", self.parents.get(oid)), ("children", self.children.get(oid))):
            value = [x for x in linked if x in written] if linked else None
            if value:
                co[key] = value
            else:
                co.pop(key, None)

    # ---------------------------------------------------------- outputs
    def document(self, scale: float) -> dict[str, Any]:
        """The whole CityJSON 2.0 document (``CityObjects`` as JSON bytes, :class:`msgspec.Raw`, where some are raw)."""
        self.template_out: dict | None = None
        raw = self._prepare_raw()
        objects, vertices, appearance = self._group(self.written, templates=True, raw=raw)
        ints, transform = quantise(vertices, scale)
        doc: dict[str, Any] = {"type": "CityJSON", "version": CITYJSON_VERSION, "transform": transform}
        doc["metadata"] = self._metadata(vertices)
        doc.update(self._other_members())
        doc["CityObjects"] = self._encode_objects(objects) if self.raw_ids else objects
        doc["vertices"] = ints
        if appearance:
            doc["appearance"] = appearance
        templates = self.template_out if self.template_out is not None else self.source.templates
        if templates is not None:
            doc["geometry-templates"] = templates
        return doc

    def sequence(self, scale: float) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
        """The CityJSONSeq header, its features (one per top-level object with its children) and the vertex count."""
        self.template_out = None
        self._prepare_deferred()
        _, _, header_appearance = self._group([], templates=True)
        groups = []
        for oid in self.written:
            if self._first_parent(oid) is None:
                groups.append((oid, self._subtree(oid)))
        placed = {m for _, members in groups for m in members}
        groups.extend((oid, [oid]) for oid in self.written if oid not in placed)  # in a parent/child cycle
        parts = [(root, *self._group(members, templates=False)) for root, members in groups]
        everything = np.concatenate([p[2] for p in parts]) if parts else np.zeros((0, 3))
        ints, transform = quantise(everything, scale)
        header: dict[str, Any] = {"type": "CityJSON", "version": CITYJSON_VERSION, "transform": transform}
        header["metadata"] = self._metadata(everything)
        header.update(self._other_members())
        header["CityObjects"], header["vertices"] = {}, []
        if header_appearance:
            header["appearance"] = header_appearance
        templates = self.template_out if self.template_out is not None else self.source.templates
        if templates is not None:
            header["geometry-templates"] = templates
        features = []
        start = 0
        for root, objects, vertices, appearance in parts:
            feature: dict[str, Any] = {"type": "CityJSONFeature", "id": root, "CityObjects": objects}
            feature["vertices"] = ints[start : start + len(vertices)]
            start += len(vertices)
            if appearance:
                feature["appearance"] = appearance
            features.append(feature)
        return header, features, len(everything)

    def _encode_objects(self, objects: dict[str, dict]) -> msgspec.Raw:
        """``CityObjects`` as JSON: raw objects from their bytes, the others through orjson as always."""
        raw = self.raw_ids
        return msgspec.Raw(
            _ENCODER.encode({oid: co if oid in raw else msgspec.Raw(_dumps(co)) for oid, co in objects.items()})
        )

    def _metadata(self, vertices: np.ndarray) -> dict[str, Any]:
        meta = self.source.header.get("metadata")
        meta = dict(meta) if isinstance(meta, dict) else {}
        crs = meta.pop("crs", None)  # CityJSON 0.6 – 0.9: {"epsg": 7415}
        if "referenceSystem" not in meta and isinstance(crs, dict) and isinstance(crs.get("epsg"), int):
            meta["referenceSystem"] = f"https://www.opengis.net/def/crs/EPSG/0/{crs['epsg']}"
        ref = meta.get("referenceSystem")
        if isinstance(ref, str):
            m = _URN_CRS.match(ref) or _BARE_CRS.match(ref)
            if m:
                meta["referenceSystem"] = f"https://www.opengis.net/def/crs/{m.group(1).upper()}/0/{m.group(2)}"
        meta.pop("bbox", None)  # CityJSON 0.6's geographicalExtent, computed again below
        if len(vertices):
            columns = vertices.T  # a column at a time: numpy reduces (N, 3) along axis 0 many times slower
            meta["geographicalExtent"] = [float(c.min()) for c in columns] + [float(c.max()) for c in columns]
        else:
            meta.pop("geographicalExtent", None)
        return meta

    def _other_members(self) -> dict[str, Any]:
        """Root members of the source the writer does not make (``extensions``, extension root properties)."""
        return {k: v for k, v in self.source.header.items() if k not in _OWN_MEMBERS}

    def warning_sentences(self) -> list[str]:
        return self.notes + [f"{count} {reason}." for reason, count in sorted(self.skipped.items()) if count]


def _json_list(entries: list[Any]) -> list[Any] | orjson.Fragment:
    """A list to write; one with raw JSON entries (materials of a raw unit) as a fragment of JSON."""
    if type(entries[0]) is msgspec.Raw and all(type(e) is msgspec.Raw for e in entries):
        return orjson.Fragment(b"[" + b",".join(entries) + b"]")
    if not any(type(e) is msgspec.Raw for e in entries):
        return entries
    return orjson.Fragment(b"[" + b",".join(e if type(e) is msgspec.Raw else _dumps(e) for e in entries) + b"]")


def _rewrite(part: _RawPart, vertex_lut: np.ndarray | None, material_lut: dict[int, int]) -> None:
    """Re-index a raw part's boundaries (``vertex_lut``: old → new, None: they stay) and material values."""
    if part.boundaries is not None and vertex_lut is not None:
        new = part.boundaries.rewrite(vertex_lut[part.boundaries.values])
        for g, b in zip(part.geometries, new, strict=True):
            g["boundaries"] = b
    if part.values is None or not material_lut:
        return
    old = np.fromiter(material_lut.keys(), np.int64, len(material_lut))
    new_index = np.fromiter(material_lut.values(), np.int64, len(material_lut))
    if not np.array_equal(old, new_index):
        lut = np.full(int(old.max()) + 2, -1, np.int64)  # the last entry is for -1 (null)
        lut[old] = new_index
        new = part.values.rewrite(lut[part.values.values])
        for t, v in zip(part.themes, new, strict=True):
            t["values"] = v


def _appearance_use(g: dict, kind: str, n_mat: int, n_tex: int, n_uv: int, skip) -> tuple[dict, dict]:
    """Material and texture indices a geometry uses, per theme (themes pointing past the lists are dropped)."""
    materials: dict[str, list[int]] = {}
    for theme, m in (g.get("material") or {}).items() if isinstance(g.get("material"), dict) else []:
        if not isinstance(m, dict):
            skip(_DROPPED_THEME)
            continue
        vals = _values(m.get("values"), VALUE_DEPTH[kind]) if "values" in m else [m.get("value")]
        idx = [v for v in vals if v is not None] if vals is not None else None
        if idx is None or not all(type(v) is int and 0 <= v < n_mat for v in idx):
            skip(_DROPPED_THEME)
            continue
        materials[theme] = idx
    textures: dict[str, tuple[list[int], list[int]]] = {}
    for theme, t in (g.get("texture") or {}).items() if isinstance(g.get("texture"), dict) else []:
        rings = _rings(t.get("values"), BOUNDARY_DEPTH[kind]) if isinstance(t, dict) else None
        if rings is None:
            skip(_DROPPED_THEME)
            continue
        real = [r for r in rings if r[0] is not None]
        tex = [r[0] for r in real]
        uv = list(chain.from_iterable(r[1:] for r in real))
        if not all(type(i) is int and 0 <= i < n_tex for i in tex) or not all(
            type(i) is int and 0 <= i < n_uv for i in uv
        ):
            skip(_DROPPED_THEME)
            continue
        textures[theme] = (tex, uv)
    return materials, textures


def _write_appearance(out: dict, g: _Geometry, mat: dict, tex: dict, uv: dict) -> None:
    """Re-index a geometry's ``material`` and ``texture`` in place (``out`` is a copy of ``g.g``)."""
    if "material" in out:
        themes = {}
        for theme in g.materials:
            m = dict(out["material"][theme])
            if "values" in m:
                m["values"] = _remap_values(m["values"], VALUE_DEPTH[g.kind], mat)
            else:
                m["value"] = mat[m["value"]]
            themes[theme] = m
        if themes:
            out["material"] = themes
        else:
            del out["material"]
    if "texture" in out:
        themes = {}
        for theme in g.textures:
            t = dict(out["texture"][theme])
            t["values"] = _remap_texture(t["values"], BOUNDARY_DEPTH[g.kind], tex, uv)
            themes[theme] = t
        if themes:
            out["texture"] = themes
        else:
            del out["texture"]
