"""Write a city model, with a scenario applied, as CityGML 2.0 or 3.0 (or 1.0 for a 1.0 source).

Two ways, chosen by the source:

**Same version (lossless).** A model read from CityGML keeps the file's bytes
(:class:`~citytwin.model.citymodel.SourceDocument`, kind ``"CityGML"``).
:func:`citytwin.io.citygml_source.scan` finds the root element and the byte span
of every top-level member, and the file is written from those spans:

- untouched members are copied byte for byte, with the root element, its
  namespace declarations and everything between the members;
- deleted members are left out; a deleted child (a ``BuildingPart``) is taken
  out of its member; references to what is gone (``xlink:href``, appearance
  targets, group members) are removed from the members that hold them;
- a member with an attribute edit, a move, a deleted child or a dangling
  reference is parsed alone with lxml, patched
  (:mod:`citytwin.io.citygml_patch`) and written back;
- added objects (CityJSON JSON) are serialised as new members
  (:mod:`citytwin.io.citygml_build`);
- the root's ``gml:boundedBy`` envelope is recomputed when geometry changed.

A CityGML 1.0 source written as 2.0 goes the same way, its namespaces
renamed (2.0 keeps everything 1.0 has).

**Conversion (best effort).** Between 2.0 and 3.0, and from other formats
(CityJSON), every object is serialised from the model: types, hierarchy,
attributes, geometry by LoD with its semantics, materials. What cannot be
carried is returned as warnings, one sentence each.

Writes are atomic (:func:`citytwin.io.atomic.write_atomic`): a write that
fails leaves the target as it was and raises
:class:`~citytwin.errors.CityTwinError` with one sentence.
"""

from __future__ import annotations

import bisect
import html
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import orjson
from lxml import etree

from citytwin.errors import CityTwinError
from citytwin.io.atomic import write_atomic
from citytwin.io.citygml_build import Node, Poly, Serialiser, namespaces, nodes_from_cityjson
from citytwin.io.citygml_patch import (
    AttributePatcher,
    drop_references,
    format_numbers,
    gml_ns,
    remove_elements,
    transform_member,
)
from citytwin.io.citygml_source import (
    Member,
    SourceLayout,
    feature_index,
    local_name,
    parse_member,
    scan,
    serialise_member,
)
from citytwin.io.options import gc_paused
from citytwin.model.citymodel import CityModel
from citytwin.model.scenario import (
    AddObject,
    ObjectChange,
    Scenario,
    TransformObject,
    object_changes,
    object_frame,
    touched_ids,
    transform_points,
    with_orphans,
)

__all__ = ["CITYGML_VERSIONS", "write_scenario_citygml"]

#: Versions :func:`write_scenario_citygml` writes.
CITYGML_VERSIONS = ("1.0", "2.0", "3.0")

_SCHEMA_FILES = {
    "appearance": "appearance.xsd", "bridge": "bridge.xsd", "building": "building.xsd",
    "cityfurniture": "cityFurniture.xsd", "cityobjectgroup": "cityObjectGroup.xsd", "construction": "construction.xsd",
    "generics": "generics.xsd", "landuse": "landUse.xsd", "relief": "relief.xsd",
    "transportation": "transportation.xsd", "tunnel": "tunnel.xsd", "vegetation": "vegetation.xsd",
    "waterbody": "waterBody.xsd", "texturedsurface": "texturedSurface.xsd",
}  # fmt: skip
_CITYGML_NS = re.compile(r"^http://www\.opengis\.net/citygml/(?:(profiles/base|[a-z]+)/)?([123]\.0)$")
_V1_NS = re.compile(rb"(http://www\.opengis\.net/citygml/(?:(?:profiles/base|[a-z]+)/)?)1\.0(?=[\"'\s])")
_SCHEMA_LOCATION = re.compile(rb"\s[\w.-]+:schemaLocation\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_IMAGE_URI = re.compile(rb"(<(?:[\w.-]+:)?imageURI(?:\s[^>]*)?>)\s*([^<]*?)\s*(</)")
_CORNER = re.compile(rb"(<(?:[\w.-]+:)?(lowerCorner|upperCorner)(?:\s[^>]*)?>)([^<]*)(</)")


def write_scenario_citygml(
    model: CityModel,
    scenario: Scenario | None,
    path: str | os.PathLike,
    version: str = "2.0",
    *,
    allow_overwrite_source: bool = False,
) -> list[str]:
    """Write ``model`` with ``scenario`` applied as CityGML ``version``.

    Parameters
    ----------
    model
        Any city model; one read from CityGML of the same version (or 1.0, written
        as 2.0) is written losslessly from its source bytes, any other is converted.
    scenario
        The edits to apply; ``None`` writes the model as it was read.
    path
        The file to write (its folder must exist).
    version
        ``"2.0"`` or ``"3.0"``; ``"1.0"`` only for a model read from CityGML 1.0.
    allow_overwrite_source
        Allow ``path`` to be the file the model was read from (the caller has asked and
        kept a backup).

    Returns
    -------
    list of str
        Warnings, one sentence each, naming what could not be carried (empty for a
        lossless write).

    Raises
    ------
    CityTwinError
        With one sentence: an unknown version, a scenario that adds an object under an
        id the model has, the source file as target, a write that failed (the target
        is then as it was).
    """
    path = Path(path)
    if version not in CITYGML_VERSIONS:
        raise CityTwinError(f"CityGML {version} cannot be written; choose 2.0 or 3.0.")
    if model.source is not None and not allow_overwrite_source and _same_file(path, model.source):
        raise CityTwinError(f"Writing to {path.name} would overwrite the file the model was read from.")
    edits = _Edits(model, scenario)
    doc = model.source_document
    same = model.format == "CityGML" and (model.version == version or (model.version, version) == ("1.0", "2.0"))
    with gc_paused():
        layout = None
        warnings: list[str] = []
        if same and doc is not None and doc.kind == "CityGML":
            try:
                layout = scan(b"".join(doc.chunks))
            except ValueError as exc:
                warnings.append(f"The source could not be copied piece by piece ({exc}), so it was converted.")
        if layout is not None:
            writer = _SpanWriter(model, layout, edits, version, path)
            chunks = writer.write()
            warnings += writer.warnings
        else:
            if version == "1.0":
                raise CityTwinError("CityGML 1.0 is written only for a model read from CityGML 1.0; choose 2.0 or 3.0.")
            converter = _ModelWriter(model, edits, version)
            chunks = converter.write()
            warnings += converter.warnings
        try:
            write_atomic(path, chunks)
        except OSError as exc:
            raise CityTwinError(f"The CityGML file could not be written to {path} ({exc.strerror or exc}).") from None
    return warnings


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and os.path.samefile(a, b)
    except OSError:
        return False


# -------------------------------------------------------------------- edits
class _Edits:
    """What a scenario does to a model, by object row."""

    def __init__(self, model: CityModel, scenario: Scenario | None) -> None:
        objects = model.objects
        self.model = model
        changes: dict[str, ObjectChange] = object_changes(scenario) if scenario is not None else {}
        index = objects.index
        parents = {objects.ids[i]: [objects.ids[p]] for i, p in enumerate(objects.parents.tolist()) if p >= 0}
        deleted = {oid for oid, c in changes.items() if c.deleted and c.added is None and oid in index}
        #: ids of every object gone (the deleted ones and their children)
        self.gone: frozenset[str] = with_orphans(deleted, parents) if deleted else frozenset()
        self.added: list[AddObject] = []
        #: added id → what later edits do to it (attributes, a move)
        self.added_changes: dict[str, ObjectChange] = {}
        for c in changes.values():
            if c.added is not None and not c.deleted:
                if c.id in index:
                    raise CityTwinError(
                        f"The scenario adds an object with the id {c.id!r}, which the model has already."
                    )
                self.added.append(c.added)
                self.added_changes[c.id] = c
        #: one sentence per kind of edit that could not be applied
        self.notes: list[str] = []
        unknown = sorted(
            i
            for i in (touched_ids(scenario) if scenario is not None else ())
            if i not in index and i not in self.added_changes
        )
        if unknown:
            many = len(unknown) > 1
            self.notes.append(
                f"{len(unknown)} object{'s' if many else ''} named by the scenario {'are' if many else 'is'} not in "
                f"the city model (for example {unknown[0]!r}); {'their' if many else 'its'} edits were ignored."
            )
        #: row → (values set, names removed)
        self.attributes: dict[int, tuple[dict[str, Any], frozenset[str]]] = {}
        #: top-level row → transform (an edit of a child moves its whole top-level object, as the view does)
        self.transforms: dict[int, TransformObject] = {}
        roots = objects.roots
        for oid, c in changes.items():
            k = index.get(oid)
            if k is None or c.added is not None or oid in self.gone:
                continue
            if c.set_values or c.removed:
                self.attributes[k] = (c.set_values, c.removed)
            if c.transform is not None:
                r = int(roots[k])
                if r not in self.transforms or r == k:
                    self.transforms[r] = c.transform
        self.centres = self._centres()

    def added_nodes(self, warn: Callable[..., None]) -> Iterator[Node]:
        """The added objects as nodes, with the scenario's later edits of them applied."""
        for a in self.added:
            c = self.added_changes[a.id]
            vertices = self.added_vertices(a)
            co = dict(a.cityobject)
            if c.set_values or c.removed:
                co["attributes"] = c.attributes(co.get("attributes"))
            node, skipped = nodes_from_cityjson(a.id, co, vertices)
            for what in skipped:
                warn("skipped geometry", what=what)
            yield node

    def added_vertices(self, a: AddObject) -> np.ndarray:
        """An added object's vertices, moved where the scenario moves it (about its :func:`object_frame`)."""
        v = a.vertex_array()
        t = self.added_changes[a.id].transform
        if t is None or not len(v):
            return v
        return transform_points(t, v)

    @property
    def geometry_changed(self) -> bool:
        """Whether anything moved, went or came."""
        return bool(self.gone or self.added or self.transforms)

    def _centres(self) -> dict[int, tuple[np.ndarray, float]]:
        """The turning axis and base (:func:`object_frame`) of each moved top-level object, as the view has them."""
        if not self.transforms:
            return {}
        mesh = self.model.mesh
        out = {}
        vroot = self.vertex_roots()
        for r in self.transforms:
            pts = mesh.vertices[vroot == r]
            if len(pts):
                out[r] = object_frame(pts)
        return out

    def vertex_roots(self) -> np.ndarray:
        """``(V,)`` top-level object of each mesh vertex."""
        mesh = self.model.mesh
        if not hasattr(self, "_vroot"):
            counts = np.diff(mesh.ring_offsets[mesh.polygon_rings])
            proot = self.model.objects.roots[mesh.poly_object] if mesh.n_polygons else np.zeros(0, np.int32)
            self._vroot = np.repeat(proot, counts) if len(counts) else np.zeros(len(mesh.vertices), np.int32)
        return self._vroot

    def bounds(self) -> np.ndarray | None:
        """``[lo, hi]`` of the scenario's geometry (``None`` without any)."""
        mesh = self.model.mesh
        objects = self.model.objects
        parts = []
        if len(mesh.vertices):
            vroot = self.vertex_roots()
            keep = np.ones(len(mesh.vertices), bool)
            gone_rows = [objects.index[g] for g in self.gone if g in objects.index]
            if gone_rows:
                keep &= ~np.isin(vroot, np.asarray(gone_rows))
            for r, t in self.transforms.items():
                sel = vroot == r
                keep &= ~sel
                if sel.any():
                    c, b = self.centres[r]
                    parts.append(transform_points(t, mesh.vertices[sel], c, b))
            parts.append(mesh.vertices[keep])
        for a in self.added:
            parts.append(self.added_vertices(a))
        allp = np.concatenate(parts) if parts else np.zeros((0, 3))
        allp = allp[np.isfinite(allp).all(axis=1)]
        if not len(allp):
            return None
        return np.stack([allp.min(axis=0), allp.max(axis=0)])


# ---------------------------------------------------------------- same version
class _SpanWriter:
    """Writes a CityGML source of the same version from its byte spans, patching what a scenario changes."""

    def __init__(self, model: CityModel, layout: SourceLayout, edits: _Edits, version: str, target: Path) -> None:
        self.model = model
        #: folder the source's relative texture paths are relative to, when the file is written elsewhere
        self.rebase_from: Path | None = None
        self.target_dir = target.absolute().parent
        if model.source is not None:
            src = Path(model.source).absolute().parent
            if src.resolve() != self.target_dir.resolve():
                self.rebase_from = src
        self.layout = layout
        self.edits = edits
        self.version = version
        self.upgrade = model.version == "1.0" and version == "2.0"
        self.source_version = model.version
        self.id_attr = f"{{{gml_ns(self.source_version)}}}id"
        self.prefixes = layout.root_namespaces()
        self.counts: dict[str, int] = {}
        self.recovered = bool(model.metadata.get("recovered"))
        self.ser = Serialiser(version, set(model.objects.ids))

    @property
    def warnings(self) -> list[str]:
        out = []
        n = self.counts.get("filtered")
        if n:
            out.append(f"{n} top-level objects that the read left out (a type, LoD or area filter) were not written.")
        n = self.counts.get("unbound")
        if n:
            out.append(f"{n} elements with an undeclared namespace prefix (read in recovery mode) were left out.")
        n = self.counts.get("broken")
        if n:
            out.append(f"{n} members that are not well-formed XML were left out.")
        return self.edits.notes + out + self.ser.warnings

    # ------------------------------------------------------------------ plan
    def _member_ids(self) -> list[str | None]:
        """The id the reader gave the feature of each member (``None``: a reference, an appearance, several)."""
        counters: dict[str, int] = {}
        out: list[str | None] = []
        for m in self.layout.members:
            if m.feature_type is None or m.multi or m.feature_type == "Appearance":
                out.append(None)
                continue
            oid = m.feature_id
            if not oid:
                counters[m.feature_type] = counters.get(m.feature_type, 0) + 1
                oid = f"{m.feature_type}_{counters[m.feature_type]}"
            out.append(oid)
        return out

    def write(self) -> list[bytes]:
        layout = self.layout
        data = layout.data
        edits = self.edits
        objects = self.model.objects
        index = objects.index
        ids = self._member_ids()
        members = layout.members
        # what each member needs: drop, copy, patch
        action: list[str] = []
        gone_ids: set[str] = set()
        parsed: dict[int, etree._Element] = {}
        patch_rows = {int(objects.roots[k]) for k in edits.attributes} | set(edits.transforms)
        gone_rows = {index[g] for g in edits.gone if g in index}
        child_gone_roots = {int(objects.roots[k]) for k in gone_rows if objects.parents[k] >= 0}
        for i, m in enumerate(members):
            oid = ids[i]
            if m.href is not None and m.feature_type is None:
                action.append("ref")
                continue
            if oid is None:
                action.append("multi" if m.multi else "copy")
                continue
            row = index.get(oid)
            if row is None or objects.parents[row] >= 0:
                self.counts["filtered"] = self.counts.get("filtered", 0) + 1
                action.append("drop")
                continue
            if oid in edits.gone:
                action.append("drop")
                gone_ids.update(self._ids_in(m))
                gone_ids.add(oid)
                continue
            action.append("patch" if row in patch_rows or row in child_gone_roots else "copy")
        # deleted children come out of their members before references are looked for
        for i, m in enumerate(members):
            if action[i] == "patch" and index[ids[i]] in child_gone_roots:
                el = self._parse(m)
                found = list(feature_index(el[0], self.id_attr, ids[i]))
                for oid, e, _ in found:  # ids the reader makes up would shift once a sibling is gone: write them
                    if not e.get(self.id_attr) and oid not in edits.gone:
                        e.set(self.id_attr, oid)
                doomed = [e for oid, e, _ in found if oid in edits.gone]
                gone_ids |= remove_elements(doomed, self.id_attr)
                parsed[i] = el
        if gone_ids:
            for i in self._referring(gone_ids):
                if action[i] in ("copy", "ref", "multi"):
                    action[i] = "patch" if action[i] != "ref" else "ref-check"
        # write: each kept member with the text before it, as in the source
        out: list[bytes] = [self._head()]
        for i, m in enumerate(members):
            act = action[i]
            if act == "drop" or (act == "ref-check" and m.href in gone_ids):
                continue
            out.append(self._bytes(data[m.gap : m.start]))
            if act in ("copy", "ref", "ref-check", "multi") and not self.recovered:
                out.append(self._bytes(data[m.start : m.end]))
            else:
                text = self._patched(m, ids[i], parsed.get(i), gone_ids)
                out.append(self._bytes(text.encode(layout.encoding, "xmlcharrefreplace")) if text else b"")
        sep = data[members[-1].gap : members[-1].start] if members else b""
        if sep.strip() or not sep or len(sep) > 200:  # new members are indented like the last one
            sep = b"\n  "
        for node in self._added_nodes():
            out.append(sep)
            out.append(self._new_member(node))
        tail_from = members[-1].end if members else layout.header_end
        out.append(self._bytes(data[tail_from : layout.body_end]))
        if layout.body_end < len(data):
            out.append(self._bytes(data[layout.body_end :]))
        else:  # a file cut short: close the root
            out.append(b"\n</" + layout.root_qname.encode(layout.encoding) + b">\n")
        return out

    def _ids_in(self, m: Member) -> set[str]:
        try:
            el = self._parse(m)
        except etree.XMLSyntaxError:
            return set()
        return {e.get(self.id_attr) for e in el.iter() if isinstance(e.tag, str) and e.get(self.id_attr)}

    def _referring(self, gone: set[str]) -> Iterator[int]:
        """Members that refer to any of ``gone`` (``#id`` in an ``xlink:href``, a ``uri`` or a target's text)."""
        enc = self.layout.encoding
        names = sorted((g.encode(enc, "xmlcharrefreplace") for g in gone), key=len, reverse=True)
        pattern = re.compile(rb"#(?:" + b"|".join(map(re.escape, names)) + rb")(?=[\"'<\s])")
        members = self.layout.members
        starts = [m.start for m in members]
        seen: set[int] = set()
        for match in pattern.finditer(self.layout.data, self.layout.header_end):
            i = bisect.bisect_right(starts, match.start()) - 1
            if i >= 0 and i not in seen and match.start() < members[i].end:
                seen.add(i)
                yield i

    # ------------------------------------------------------------- patching
    def _parse(self, m: Member) -> etree._Element:
        """The member element (parsed strictly; in recovery mode for a source read that way)."""
        try:
            return parse_member(self.layout, m)
        except etree.XMLSyntaxError:
            if not self.recovered:
                raise
        parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=True)
        el = parse_member(self.layout, m, parser)
        for e in list(el.iter()):
            if isinstance(e.tag, str) and not e.tag.startswith("{") and ":" in e.tag:
                parent = e.getparent()
                if parent is not None:
                    parent.remove(e)
                    self.counts["unbound"] = self.counts.get("unbound", 0) + 1
        return el

    def _patched(self, m: Member, oid: str | None, el: etree._Element | None, gone: set[str]) -> str:
        if el is None:
            try:
                el = self._parse(m)
            except etree.XMLSyntaxError:
                self.counts["broken"] = self.counts.get("broken", 0) + 1
                return ""
        edits = self.edits
        objects = self.model.objects
        drop_references(el, gone)
        features = [c for c in el if isinstance(c.tag, str)]
        if oid is not None and features:
            row = objects.index[oid]
            for ident, e, _ in feature_index(features[0], self.id_attr, oid):
                k = objects.index.get(ident)
                if k is not None and k in edits.attributes:
                    values, removed = edits.attributes[k]
                    AttributePatcher(self.source_version, self.prefixes).apply(e, values, removed)
            t = edits.transforms.get(row)
            if t is not None:
                centre, base = edits.centres.get(row, (None, None))
                transform_member(features[0], t, self.source_version, centre, base)
        return serialise_member(el, self.prefixes)

    # --------------------------------------------------------------- header
    def _head(self) -> bytes:
        layout = self.layout
        data = layout.data
        head = data[: layout.root_open_end]
        if self.upgrade:
            head = _V1_NS.sub(rb"\g<1>2.0", head)
            head = _SCHEMA_LOCATION.sub(b"", head, count=1)
            head = head[:-1].rstrip(b"/") + b" " + _schema_location(self.prefixes, "2.0").encode() + b">"
        header = data[layout.root_open_end : layout.header_end]
        if self.edits.geometry_changed:
            bounds = self.edits.bounds()
            if bounds is not None:
                header = _patch_envelope(header, bounds, layout.encoding)
        return head + self._bytes(header)

    def _bytes(self, chunk: bytes) -> bytes:
        if self.upgrade and b"opengis.net/citygml/" in chunk:
            chunk = _V1_NS.sub(rb"\g<1>2.0", chunk)
        if self.rebase_from is not None and b"imageURI" in chunk:
            chunk = _IMAGE_URI.sub(self._rebase, chunk)
        return chunk

    def _rebase(self, m: re.Match) -> bytes:
        """A texture path relative to the source's folder, made relative to the target's."""
        enc = self.layout.encoding
        uri = html.unescape(m.group(2).decode(enc, "replace")).strip()
        if not uri or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) or uri.startswith(("/", "\\")):
            return m.group(0)
        assert self.rebase_from is not None
        try:
            new = os.path.relpath(self.rebase_from / uri.replace("\\", "/"), self.target_dir)
        except ValueError:  # another drive
            new = str(self.rebase_from / uri)
        new = new.replace(os.sep, "/")
        self.counts["rebased"] = self.counts.get("rebased", 0) + 1
        return m.group(1) + escape(new).encode(enc, "xmlcharrefreplace") + m.group(3)

    # ------------------------------------------------------------- added
    def _added_nodes(self) -> Iterator[Node]:
        return self.edits.added_nodes(self.ser.warn)

    def _new_member(self, node: Node) -> bytes:
        """An added object as a member, declaring the namespaces the root does not."""
        text = self.ser.member(node)
        ns = namespaces(self.version)
        declared = {(p, u) for p, u in self.prefixes.items() if p is not None}
        used = set(re.findall(r"</?([\w.-]+):", text)) | {"xlink", "gml"}
        decl = "".join(f" xmlns:{p}={quoteattr(ns[p])}" for p in sorted(used) if p in ns and (p, ns[p]) not in declared)
        text = text.replace("<core:cityObjectMember>", f"<core:cityObjectMember{decl}>")
        return text.encode(self.layout.encoding, "xmlcharrefreplace")


def _schema_location(prefixes: dict[str | None, str], version: str) -> str:
    pairs = []
    for uri in sorted(set(prefixes.values())):
        uri2 = re.sub(r"/1\.0$", "/2.0", uri) if version == "2.0" else uri
        url = _schema_url(uri2)
        if url:
            pairs.append(f"{uri2} {url}")
    return f'xsi:schemaLocation="{" ".join(pairs)}"' if pairs and "xsi" in prefixes else ""


def _schema_url(uri: str) -> str | None:
    m = _CITYGML_NS.match(uri)
    if not m:
        return None
    module, version = m.groups()
    if module is None:
        return (f"http://schemas.opengis.net/citygml/{version}/cityGMLBase.xsd" if version != "3.0"
                else "http://schemas.opengis.net/citygml/3.0/core.xsd")  # fmt: skip
    if module == "profiles/base":
        return f"http://schemas.opengis.net/citygml/profiles/base/{version}/CityGML.xsd"
    name = _SCHEMA_FILES.get(module)
    return None if name is None else f"http://schemas.opengis.net/citygml/{module}/{version}/{name}"


def _patch_envelope(header: bytes, bounds: np.ndarray, encoding: str) -> bytes:
    """The header with the first envelope's corners set to ``bounds`` (their dimension kept)."""
    done: set[bytes] = set()

    def corner(m: re.Match) -> bytes:
        which = m.group(2)
        if which in done:
            return m.group(0)
        done.add(which)
        n = len(m.group(3).split()) or 3
        values = bounds[0] if which == b"lowerCorner" else bounds[1]
        return m.group(1) + format_numbers(values[: min(n, 3)].tolist()).encode(encoding) + m.group(4)

    return _CORNER.sub(corner, header)


# ------------------------------------------------------------------ conversion
class _ModelWriter:
    """Serialises every object of a model in another CityGML version (or from another format)."""

    def __init__(self, model: CityModel, edits: _Edits, version: str) -> None:
        self.model = model
        self.edits = edits
        self.version = version
        self.ser = Serialiser(version)
        self.poly_nodes: dict[int, Poly] = {}

    @property
    def warnings(self) -> list[str]:
        return self.edits.notes + self.ser.warnings

    def write(self) -> list[bytes]:
        nodes = self._nodes()
        ns = namespaces(self.version)
        model = self.model
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<core:CityModel']
        parts += [f" xmlns:{p}={quoteattr(u)}" for p, u in ns.items()]
        loc = _schema_location({p: u for p, u in ns.items()}, self.version)
        parts.append(f" {loc}>\n" if loc else ">\n")
        for key in ("description", "name"):
            value = model.metadata.get(key)
            if isinstance(value, str) and value:
                parts.append(f"  <gml:{key}>{escape(value)}</gml:{key}>\n")
        bounds = self.edits.bounds()
        if bounds is not None:
            srs = self._srs_name()
            attr = f" srsName={quoteattr(srs)}" if srs else ""
            parts.append(
                f'  <gml:boundedBy><gml:Envelope{attr} srsDimension="3"><gml:lowerCorner>{format_numbers(bounds[0])}'
                f"</gml:lowerCorner><gml:upperCorner>{format_numbers(bounds[1])}</gml:upperCorner></gml:Envelope>"
                "</gml:boundedBy>\n"
            )
        for node in nodes:
            parts.append("  " + self.ser.member(node) + "\n")
        parts.extend(self._appearances())
        parts.append("</core:CityModel>\n")
        return [p.encode("utf-8") for p in parts]

    def _srs_name(self) -> str | None:
        srs = self.model.metadata.get("srsName") if self.model.format == "CityGML" else None
        if isinstance(srs, str) and srs:
            return srs
        epsg = self.model.crs.epsg
        if epsg is None:
            return self.model.crs.name or None
        if self.version == "3.0":
            return f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"
        return f"urn:ogc:def:crs:EPSG::{epsg}"

    # ----------------------------------------------------------- nodes
    def _nodes(self) -> list[Node]:
        model = self.model
        objects = model.objects
        mesh = model.mesh
        edits = self.edits
        hints = _solid_hints(model)
        n = len(objects)
        gone = np.zeros(n, bool)
        for g in edits.gone:
            k = objects.index.get(g)
            if k is not None:
                gone[k] = True
        if n:
            gone |= gone[objects.roots]
        polys_of: dict[int, list[int]] = {}
        if mesh.n_polygons:
            order = np.argsort(mesh.poly_object, kind="stable")
            obj_sorted = mesh.poly_object[order]
            cuts = np.flatnonzero(np.diff(obj_sorted)) + 1
            for group in np.split(order, cuts):
                if len(group):
                    polys_of[int(mesh.poly_object[group[0]])] = group.tolist()
        verts = mesh.vertices
        vroot = edits.vertex_roots() if edits.transforms else None
        for r, t in edits.transforms.items():
            c, b = edits.centres.get(r, (np.zeros(2), 0.0))
            sel = np.flatnonzero(vroot == r)
            if len(sel):
                verts = verts.copy() if verts is mesh.vertices else verts
                verts[sel] = transform_points(t, mesh.vertices[sel], c, b)
        tin_types = {"TINRelief", "ReliefFeature"}
        tri_of: dict[int, np.ndarray] = {}
        if any(objects.types[i] in tin_types for i in polys_of):
            order = np.argsort(mesh.tri_polygon, kind="stable")
            tp = mesh.tri_polygon[order]
            cuts = np.flatnonzero(np.diff(tp)) + 1
            for group in np.split(order, cuts):
                if len(group):
                    tri_of[int(mesh.tri_polygon[group[0]])] = group
        ro = mesh.ring_offsets
        pr = mesh.polygon_rings
        group_members: dict[str, list[str]] = {}
        for i, gs in objects.groups.items():
            if not gone[i]:
                for g in gs:
                    group_members.setdefault(g, []).append(objects.ids[i])
        built: dict[int, Node] = {}
        for i in range(n):
            if gone[i]:
                continue
            oid = objects.ids[i]
            attrs = objects.attributes[i]
            if i in edits.attributes:
                values, removed = edits.attributes[i]
                attrs = {**attrs, **values}
                for name in removed:
                    attrs.pop(name, None)
            node = Node(oid, objects.types[i], dict(attrs))
            node.addresses = list(objects.addresses.get(i, []))
            node.groups = group_members.get(oid, [])
            node.solid = hints.get(oid) if hints is not None else None
            if hints is not None and node.solid is None:
                node.solid = set()
            for p in polys_of.get(i, []):
                rings = [verts[ro[r] : ro[r + 1]] for r in range(pr[p], pr[p + 1])]
                pid = mesh.poly_ids[p] if mesh.poly_ids is not None else None
                poly = Poly(rings, pid, int(mesh.poly_semantic[p]))
                if node.type in tin_types and p in tri_of:
                    poly.triangles = verts[mesh.triangles[tri_of[p]]]
                lod = int(mesh.poly_lod[p])
                node.polys.setdefault(lod // 10, []).append(poly)
                node.refined_lods += lod % 10 != 0
                self.poly_nodes[p] = poly
            built[i] = node
        out = []
        parents = objects.parents
        for i, node in built.items():
            p = int(parents[i])
            if p >= 0 and p in built:
                built[p].children.append(node)
            elif p < 0:
                out.append(node)
        out.extend(edits.added_nodes(self.ser.warn))
        return out

    # ------------------------------------------------------------ appearances
    def _appearances(self) -> list[str]:
        mesh = self.model.mesh
        if not mesh.appearances:
            return []
        out = []
        textured = 0
        v3 = self.version == "3.0"
        member = "core:appearanceMember" if v3 else "app:appearanceMember"
        data = "app:surfaceData" if v3 else "app:surfaceDataMember"
        for theme, app in mesh.appearances.items():
            if (np.asarray(app.texture) >= 0).any():
                textured += 1
            mats = np.asarray(app.material)
            used = sorted(set(mats[mats >= 0].tolist()))
            if not used:
                continue
            body = [f"<{member}><app:Appearance><app:theme>{escape(theme)}</app:theme>"]
            for mi in used:
                targets = [self.poly_nodes[p].id for p in np.flatnonzero(mats == mi).tolist()
                           if p in self.poly_nodes and self.poly_nodes[p].id is not None]  # fmt: skip
                if not targets or mi >= len(mesh.materials):
                    continue
                mat = mesh.materials[mi]
                fields = [f"<app:diffuseColor>{format_numbers(mat.diffuse)}</app:diffuseColor>"]
                if mat.emissive is not None:
                    fields.append(f"<app:emissiveColor>{format_numbers(mat.emissive)}</app:emissiveColor>")
                if mat.specular is not None:
                    fields.append(f"<app:specularColor>{format_numbers(mat.specular)}</app:specularColor>")
                if mat.shininess is not None:
                    fields.append(f"<app:shininess>{format_numbers([mat.shininess])}</app:shininess>")
                fields.append(f"<app:transparency>{format_numbers([mat.transparency])}</app:transparency>")
                fields += [f"<app:target>#{escape(t)}</app:target>" for t in targets]
                body.append(f"<{data}><app:X3DMaterial>{''.join(fields)}</app:X3DMaterial></{data}>")
            body.append(f"</app:Appearance></{member}>\n")
            if len(body) > 2:
                out.append("  " + "".join(body))
        if textured:
            self.ser.warn("textures", textured)
        return out


def _solid_hints(model: CityModel) -> dict[str, set[int]] | None:
    """LoDs at which each object of the source held a solid (``None`` when the source is not at hand)."""
    doc = model.source_document
    if doc is None:
        return None
    out: dict[str, set[int]] = {}
    if doc.kind in ("CityJSON", "CityJSONSeq"):
        try:
            docs = [orjson.loads(c) for c in doc.chunks if c.strip()]
        except orjson.JSONDecodeError:
            return None
        for d in docs:
            cos = d.get("CityObjects") if isinstance(d, dict) else None
            if not isinstance(cos, dict):
                continue
            for oid, co in cos.items():
                lods = out.setdefault(str(oid), set())
                for g in (co.get("geometry") or []) if isinstance(co, dict) else []:
                    if isinstance(g, dict) and g.get("type") in ("Solid", "MultiSolid", "CompositeSolid"):
                        try:
                            lods.add(int(float(g.get("lod", 1))))
                        except (TypeError, ValueError):
                            continue
        return out
    if doc.kind != "CityGML":
        return None
    try:
        layout = scan(b"".join(doc.chunks))
    except ValueError:
        return None
    id_attr = f"{{{gml_ns(model.version)}}}id"
    counters: dict[str, int] = {}
    solid_names = ("Solid", "CompositeSolid", "MultiSolid")
    for m in layout.members:
        oid = m.feature_id
        if m.feature_type and not oid:
            counters[m.feature_type] = counters.get(m.feature_type, 0) + 1
            oid = f"{m.feature_type}_{counters[m.feature_type]}"
        if b"Solid" not in layout.data[m.start : m.end] or m.feature_type is None:
            continue
        try:
            el = parse_member(layout, m)
        except etree.XMLSyntaxError:
            continue
        features = [c for c in el if isinstance(c.tag, str)]
        for feature in features:
            for ident, e, _ in feature_index(feature, id_attr, oid if feature is features[0] else None):
                for prop in e:
                    if not isinstance(prop.tag, str):
                        continue
                    name = local_name(prop.tag)
                    mm = re.match(r"^lod([0-4])(\w+)$", name)
                    if mm is None:
                        continue
                    geom = next((g for g in prop if isinstance(g.tag, str)), None)
                    if "Solid" in mm.group(2) or (geom is not None and local_name(geom.tag) in solid_names):
                        out.setdefault(ident, set()).add(int(mm.group(1)))
                    elif prop.get("{http://www.w3.org/1999/xlink}href") is not None and "Solid" in name:
                        out.setdefault(ident, set()).add(int(mm.group(1)))
    return out
