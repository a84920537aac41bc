"""Plain meshes (OBJ, PLY, STL, OFF, glTF/GLB) as city models, read with trimesh.

Every object of the file becomes one row of the object table (type ``"Mesh"``),
so a mesh is picked and inspected like a city object:

* OBJ: one row per ``o`` object (its ``usemtl`` name kept as the ``material``
  attribute; MTL diffuse colours as materials when the library is there);
* glTF/GLB: one row per mesh node instance, with the node transforms applied
  and the glTF Y-up axis turned to Z-up; a 3D Tiles payload with a
  ``_BATCHID`` vertex attribute gets one row per batch (per building);
* PLY, STL, OFF: one row.

Textures: a geometry with per-vertex uv and a material image (OBJ ``map_Kd``,
glTF ``baseColorTexture``) gets its uv and a :class:`~citytwin.model.geometry.Texture`
in the ``"default"`` theme. Image files (OBJ) are referenced where they are;
images embedded in a glTF are written once as PNG to the per-user cache
(``<user cache>/citytwin/textures/<sha1>.png``), never beside the user's file.
A missing image becomes ``Texture(exists=False)`` and one warning.

Vertex colours (PLY ``red/green/blue[/alpha]``, OBJ ``v x y z r g b``, glTF ``COLOR_0``
as float, normalized ubyte or normalized ushort) and face colours become
:attr:`MeshData.vertex_colours <citytwin.model.geometry.MeshData.vertex_colours>`
(uint8 RGBA, one per triangle corner). In a file where only some geometries are
coloured the others take their material colour (grey without one); colours that
are not numbers or do not match the vertices are reported in a warning.

Each triangle is one polygon of one ring, added in one vectorised call, so the
mesh shares the city-model machinery (picking, per-polygon object index).

Every count a file declares (GLB chunk lengths, glTF accessors, PLY elements,
OFF counts, the binary STL triangle count) is checked against the bytes present
by :mod:`citytwin.io.mesh_checks` before trimesh trusts it, and polygons fanned
out or glTF instances repeated may not expand past a triangle budget that grows
with the file's size: hostile input ends in one sentence (or the readable part
and a warning), fast and in memory proportional to the file.

Meshes carry no CRS. A sidecar file gives one: ``<file>.crs.json`` (or
``<stem>.crs.json``) holding ``{"crs": "EPSG:28992", "offset": [x, y, z]}``
(the offset is added to every vertex), or a ``<file>.prj`` / ``<stem>.prj``
holding WKT. :attr:`LoadOptions.crs <citytwin.io.options.LoadOptions.crs>` and
``LoadOptions.offset`` (``citytwin info|snapshot --crs EPSG:28992 --offset X Y Z``)
give them explicitly, each winning over the sidecar's.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import stat
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.errors import ReaderError
from citytwin.io.mesh_checks import (
    GltfSource,
    check_obj,
    check_off,
    check_ply,
    check_stl,
    read_aux_file,
    read_gltf,
    safe_resolver,
    triangle_budget,
)
from citytwin.io.options import CancelCheck, LoadOptions, Progress, ProgressCallback
from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.crs import CRS
from citytwin.model.geometry import DEFAULT_VERTEX_COLOUR, Material, MeshBuilder, Texture, ThemeAppearance

# trimesh logs what it survives with tracebacks; without a handler of the application's, Python would
# print them on stderr (the reader reports problems in its own words).
logging.getLogger("trimesh").addHandler(logging.NullHandler())

#: Format name → trimesh file type, by extension.
_EXTENSIONS = {".obj": "OBJ", ".ply": "PLY", ".stl": "STL", ".off": "OFF", ".glb": "glTF", ".gltf": "glTF"}
#: Name of the appearance theme materials go to.
THEME = "default"
#: glTF's +Y up turned to +Z up: (x, y, z) → (x, -z, y).
Y_UP_TO_Z_UP = np.array([[1.0, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])


def _trimesh():
    try:
        import trimesh
    except ImportError as exc:  # pragma: no cover - trimesh is a dependency
        raise ReaderError("Reading meshes needs the trimesh package (pip install trimesh).") from exc
    return trimesh


def mesh_kind(path: Path, head: bytes) -> tuple[str, str]:
    """``(format name, trimesh file type)`` of a mesh file, by content then extension."""
    if head.startswith(b"glTF"):
        return "glTF", "glb"
    if head[:4] in (b"ply\n", b"ply\r"):
        return "PLY", "ply"
    suffix = path.suffix.lower()
    if suffix == ".gltf" or (head.lstrip()[:1] == b"{" and b'"asset"' in head):
        return "glTF", "gltf"
    if suffix in _EXTENSIONS:
        name = _EXTENSIONS[suffix]
        return name, suffix[1:]
    if re.match(rb"\s*(ST)?C?N?4?n?OFF\b", head):
        return "OFF", "off"
    if head.lstrip().startswith(b"solid"):
        return "STL", "stl"
    return "OBJ", "obj"


def read(
    path: str | Path,
    options: LoadOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> CityModel:
    """Read a mesh file into a :class:`~citytwin.model.citymodel.CityModel`.

    Raises
    ------
    citytwin.errors.ReaderError
        With one sentence, when trimesh cannot make sense of the file.
    """
    trimesh = _trimesh()
    path = Path(path)
    options = options or LoadOptions()
    explicit_offset = _explicit_offset(options.offset)
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or a device would block or never end
            raise ReaderError("The path is not a regular file.", path)
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(8192)
    except OSError as exc:
        raise ReaderError(f"The file cannot be opened ({exc.strerror or exc}).", path) from None
    if not head.strip():
        raise ReaderError("The file is empty.", path)
    fmt, file_type = mesh_kind(path, head)
    tracker = Progress(100, progress, cancel)
    tracker.update(0)
    warnings: list[str] = []
    kwargs: dict[str, Any] = {}
    obj_info: tuple[list[str], dict[str, str]] | None = None
    mtl_maps: dict[str, str] = {}
    source: Any = str(path)
    # counts the file declares, checked against its size before trimesh trusts them
    if fmt == "OBJ":
        text = path.read_bytes()
        check_obj(path, text)
        tags = [(m.group(1), m.group(2)) for m in _OBJ_TAGS.finditer(text)]  # one pass over the text
        del text
        warnings.extend(_missing_mtl(tags, path))
        mtl_maps = _mtl_texture_maps(tags, path)
        obj_info = _obj_objects(tags)
        kwargs = {"split_objects": True, "group_material": True}
    elif fmt == "PLY":
        warnings.extend(check_ply(path, size))
    elif fmt == "OFF":
        check_off(path, path.read_bytes())
    elif fmt == "STL":
        fixed, stl_warnings = check_stl(path, head, size)
        warnings.extend(stl_warnings)
        if fixed is not None:
            source = io.BytesIO(fixed)
    try:
        if fmt == "glTF":
            scene, gltf_source = _load_gltf(trimesh, path, file_type == "glb")
            warnings.extend(gltf_source.warnings)
            size = gltf_source.size
        else:
            scene = trimesh.load(
                source, file_type=file_type, force="scene", process=False, resolver=safe_resolver(path), **kwargs
            )
    except ReaderError:
        raise
    except IndexError as exc:
        raise ReaderError(
            f"The {fmt} file has faces that refer to vertices it does not have ({_describe(exc)}).", path
        ) from None
    except RecursionError:
        raise ReaderError(f"The {fmt} file is nested too deeply to read.", path) from None
    except MemoryError:
        raise ReaderError(f"The {fmt} file needs more memory than is available to read it.", path) from None
    except Exception as exc:
        raise ReaderError(f"The {fmt} file is malformed and could not be read ({_describe(exc)}).", path) from None
    tracker.update(50)

    crs, offset, sidecar_warnings = read_sidecar(path)
    warnings.extend(sidecar_warnings)
    if options.crs:  # explicit georeferencing wins over the sidecar's, item by item
        crs = _crs_from_text(options.crs)
    if explicit_offset is not None:
        offset = explicit_offset
    up = Y_UP_TO_Z_UP if fmt == "glTF" else None
    table = CityObjects()
    rows: dict[Any, int] = {}

    def row(key: Any, ident: str, attributes: dict[str, Any] | None = None) -> int:
        if key not in rows:
            rows[key] = table.add(ident, "Mesh", attributes=attributes or {})
        return rows[key]

    known = frozenset(obj_info[0]) if obj_info is not None else frozenset()
    if obj_info is not None:  # OBJ objects in file order, even those without faces
        for name in obj_info[0]:
            mat = obj_info[1].get(name)
            row(("obj", name), name, {"material": mat} if mat else {})

    materials: list[Material] = []
    material_index: dict[tuple, int] = {}
    v_parts: list[np.ndarray] = []
    obj_parts: list[np.ndarray] = []
    mat_parts: list[np.ndarray] = []
    textures = _TextureTable(path, mtl_maps)
    tex_parts: list[np.ndarray] = []
    uv_parts: list[np.ndarray] = []
    # per geometry: (3F, 4) uint8 corner colours, or the RGBA to fill its corners with when it has none
    rgba_parts: list[np.ndarray] = []
    any_colours = False
    colour_problems: dict[str, int] = {}
    skipped: dict[str, int] = {}
    n_nodes = 0
    budget = triangle_budget(size)
    n_triangles = over_budget = over_budget_triangles = 0
    nodes = list(scene.graph.nodes_geometry)
    for k, node in enumerate(nodes):
        tracker.update(50 + 40 * k // max(len(nodes), 1))
        transform, gname = scene.graph[node]
        geom = scene.geometry.get(gname)
        if geom is None or not hasattr(geom, "faces"):
            skipped["non-mesh nodes (points or lines)"] = skipped.get("non-mesh nodes (points or lines)", 0) + 1
            continue
        n_faces = len(geom.faces)
        if n_triangles + n_faces > budget:  # instances (or fans) expanding far past the file's size
            over_budget += 1
            over_budget_triangles += n_faces
            continue
        vertices = np.asarray(geom.vertices, dtype=np.float64)
        if vertices.size % 3 or (vertices.ndim == 2 and vertices.shape[1] != 3):
            reason = "meshes whose vertices are not 3D points (damaged vertex lines)"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        vertices = vertices.reshape(-1, 3)
        n_triangles += n_faces
        n_nodes += 1
        faces = np.asarray(geom.faces, dtype=np.int64).reshape(-1, 3)
        bad = ((faces < 0) | (faces >= len(vertices))).any(axis=1)
        kept_faces = np.flatnonzero(~bad)
        if bad.any():
            skipped["triangles with vertex indices out of range"] = skipped.get(
                "triangles with vertex indices out of range", 0
            ) + int(bad.sum())
            faces = faces[~bad]
        if not len(faces):
            continue
        matrix = np.asarray(transform, dtype=np.float64)
        if up is not None:
            matrix = up @ matrix
        if not np.allclose(matrix, np.eye(4)):
            vertices = vertices @ matrix[:3, :3].T + matrix[:3, 3]
        v_parts.append(vertices[faces].reshape(-1, 3))
        # object of each triangle
        batch = getattr(geom, "vertex_attributes", {}).get("_BATCHID") if fmt == "glTF" else None
        if batch is not None and len(batch) == len(geom.vertices):
            face_batch = np.asarray(batch).reshape(-1)[faces[:, 0]].astype(np.int64)
            uniq, inverse = np.unique(face_batch, return_inverse=True)
            idx = np.array([row(("batch", int(b)), f"batch {int(b)}", {"batch_id": int(b)}) for b in uniq], np.int64)
            obj_parts.append(idx[inverse])
        else:
            if obj_info is not None:
                key = _obj_owner(str(gname), known)
                ident = key[1] if key[0] == "obj" else str(gname)
            elif fmt == "glTF":
                key, ident = ("node", str(node)), str(node)
            else:
                key, ident = ("node", str(node)), path.stem
            obj_parts.append(np.full(len(faces), row(key, ident), np.int64))
        mat = _material(geom, materials, material_index)
        mat_parts.append(np.full(len(faces), mat, np.int64))
        corner_rgba = _corner_colours(geom, kept_faces, fmt == "glTF", colour_problems)
        if corner_rgba is None:
            rgba_parts.append(_material_rgba(materials[mat]) if mat >= 0 else np.array(DEFAULT_VERTEX_COLOUR, np.uint8))
        else:
            any_colours = True
            rgba_parts.append(corner_rgba)
        tex, uv = textures.of(geom, faces)
        tex_parts.append(np.full(len(faces), tex, np.int64))
        uv_parts.append(uv)
    tracker.update(90)

    builder = MeshBuilder()
    builder.materials.extend(materials)
    builder.textures.extend(textures.textures)
    if v_parts:
        vertices = np.concatenate(v_parts)
        if offset is not None:
            vertices += offset
        n_tri = len(vertices) // 3
        colours = None
        if any_colours:
            colours = np.concatenate(
                [
                    c if c.ndim == 2 else np.broadcast_to(c, (len(v), 4))
                    for c, v in zip(rgba_parts, v_parts, strict=True)
                ]
            )
        poly_index, _ = builder.add_polygons(
            vertices, np.full(n_tri, 3, np.int64), np.ones(n_tri, np.int64), np.concatenate(obj_parts), colours=colours
        )
    else:
        poly_index = np.zeros(0, np.int64)
    mesh = builder.build()
    if (materials or textures.textures) and len(poly_index):
        kept = poly_index >= 0
        material = np.full(mesh.n_polygons, -1, np.int32)
        material[poly_index[kept]] = np.concatenate(mat_parts)[kept]
        texture = np.full(mesh.n_polygons, -1, np.int32)
        uv = None
        if textures.textures:
            # a kept triangle keeps its 3 vertices, in order: the mesh vertices are the kept triangles'
            tri_uv = np.concatenate(uv_parts).reshape(-1, 3, 2)[kept].reshape(-1, 2)
            if len(tri_uv) == len(mesh.vertices):
                texture[poly_index[kept]] = np.concatenate(tex_parts)[kept]
                uv = tri_uv
        mesh.appearances[THEME] = ThemeAppearance(material, texture, uv)
    warnings.extend(textures.warnings())
    for reason, count in sorted(colour_problems.items()):
        warnings.append(f"{count:,} {reason}.")
    for reason, count in sorted(skipped.items()):
        warnings.append(f"{count:,} {reason} were skipped.")
    dropped: dict[str, int] = {}
    for reason, count in builder.skipped.items():
        reason = _BUILDER_REASONS.get(reason, reason)
        dropped[reason] = dropped.get(reason, 0) + count
    for reason, count in sorted(dropped.items()):
        warnings.append(f"{count:,} {reason} were dropped.")
    if over_budget:
        total = n_triangles + over_budget_triangles
        if n_nodes == 0:
            raise ReaderError(
                f"The {fmt} file expands to {total:,} triangles, more than a file of {size:,} bytes may expand to "
                f"({budget:,}).",
                path,
            )
        warnings.append(
            f"{over_budget:,} of {n_nodes + over_budget:,} meshes were not read: the file expands to {total:,} "
            f"triangles, more than a file of {size:,} bytes may expand to ({budget:,})."
        )
    if n_nodes == 0:
        raise ReaderError(f"The {fmt} file holds no triangles.", path)
    tracker.finish()
    return CityModel(
        format=fmt,
        version=_version(fmt, head),
        objects=table,
        mesh=mesh,
        crs=crs,
        source=path,
        metadata={"up_axis": "converted from +Y to +Z" if up is not None else "as in the file"},
        warnings=warnings,
    )


#: MeshBuilder's reasons, as they read for triangles.
_BUILDER_REASONS = {
    "ring with fewer than 3 points": "degenerate triangles (zero area)",
    "polygons with zero area": "degenerate triangles (zero area)",
    "NaN or infinite coordinates": "triangles with NaN or infinite coordinates",
}


def _load_gltf(trimesh: Any, path: Path, binary: bool) -> tuple[Any, GltfSource]:
    """A glTF/GLB file as a trimesh scene, keeping each primitive's ``COLOR_0`` as stored.

    The file is read and validated by :func:`~citytwin.io.mesh_checks.read_gltf` (every
    count against the bytes present, the node tree flattened) and handed to trimesh's
    buffer reader, so the JSON is parsed once and trimesh never reads a count unchecked.

    trimesh turns ``COLOR_0`` into uint8 with a plain cast, which wraps normalized
    unsigned shorts (``30000`` becomes 48, not 117). The parsed primitives therefore
    keep the accessor's values as the vertex attribute ``"color"`` (where trimesh
    already puts them for primitives with a material), for :func:`_corner_colours`.
    """
    from trimesh.exchange import gltf

    checked = read_gltf(path, binary)
    # trimesh's own loaders would parse the JSON again and trust the GLB chunk lengths; the
    # buffer reader both of them call takes what was validated instead.
    parsed = gltf._read_buffers(
        header=checked.header, buffers=checked.buffers, mesh_kwargs={"process": False}, resolver=safe_resolver(path)
    )
    checked.buffers.clear()  # trimesh copied what it needs
    for geom in (parsed.get("geometry") or {}).values():
        if isinstance(geom, dict) and geom.get("vertex_colors") is not None:
            attributes = dict(geom.get("vertex_attributes") or {})
            attributes["color"] = geom.pop("vertex_colors")
            geom["vertex_attributes"] = attributes
    return trimesh.load(parsed, force="scene", process=False), checked


def _colours_uint8(values: Any, n: int) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
    """``(n, 4)`` uint8 RGBA of stored colours, with the rows that are not numbers; or why not.

    Floats are 0–1 (as in glTF and trimesh), unsigned shorts 0–65535 (normalized glTF
    ``COLOR_0``), other integers 0–255; RGB gets an opaque alpha.

    Returns
    -------
    rgba, bad, problem
        ``rgba`` and ``bad`` (``(n,)`` bool, rows with NaN or infinity, made opaque black) or
        ``None`` and a short reason.
    """
    arr = np.asarray(values)
    if arr.ndim != 2 or arr.shape[1] not in (3, 4) or arr.dtype.kind not in "uif":
        return None, None, "colour arrays that are not RGB or RGBA were ignored"
    if len(arr) != n:
        return None, None, "colour arrays that do not match their vertices or faces were ignored"
    bad = np.zeros(n, bool)
    if arr.dtype == np.uint8:
        rgba = arr
    elif arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        bad = ~finite.all(axis=1)
        rgba = np.round(np.clip(np.where(finite, arr, 0.0), 0.0, 1.0) * 255).astype(np.uint8)
        rgba[bad] = 0
    elif arr.dtype == np.uint16:
        rgba = np.round(arr.astype(np.float64) / 257.0).astype(np.uint8)
    else:
        rgba = np.clip(arr, 0, 255).astype(np.uint8)
    if rgba.shape[1] == 3:
        rgba = np.column_stack([rgba, np.full(n, 255, np.uint8)])
    elif bad.any():
        rgba[bad, 3] = 255
    return rgba, bad, None


def _corner_colours(geom: Any, kept_faces: np.ndarray, gltf: bool, problems: dict[str, int]) -> np.ndarray | None:
    """``(3F, 4)`` uint8 RGBA of each corner of the faces ``kept_faces`` of a geometry, ``None`` without colours.

    Vertex colours are taken where the geometry really has them (trimesh's
    ``ColorVisuals`` of kind ``"vertex"``, or glTF ``COLOR_0`` kept by
    :func:`_load_gltf`); face colours are given to the three corners of their face.
    trimesh's default colour is not a colour of the file. Problems are counted in
    ``problems`` (reason → count).
    """
    visual = getattr(geom, "visual", None)
    kind = getattr(visual, "kind", None)
    raw: Any = None
    if gltf:
        for attributes in (getattr(geom, "vertex_attributes", None), getattr(visual, "vertex_attributes", None)):
            if attributes is not None and "color" in attributes:
                raw = attributes["color"]
                break
    per_face = False
    if raw is None and kind == "vertex":
        raw = visual.vertex_colors
    elif raw is None and kind == "face":
        raw, per_face = visual.face_colors, True
    if raw is None:
        return None
    rgba, bad, problem = _colours_uint8(raw, len(geom.faces) if per_face else len(geom.vertices))
    if rgba is None or bad is None:
        reason = problem or "colour arrays that could not be read were ignored"
        problems[reason] = problems.get(reason, 0) + 1
        return None
    if bad.any():
        reason = "vertex colours that are not numbers were shown black"
        problems[reason] = problems.get(reason, 0) + int(bad.sum())
    if per_face:
        return np.repeat(rgba[kept_faces], 3, axis=0)
    faces = np.asarray(geom.faces, dtype=np.int64).reshape(-1, 3)[kept_faces]
    return rgba[faces.reshape(-1)]


def _material_rgba(material: Material) -> np.ndarray:
    """``(4,)`` uint8 RGBA of a material: diffuse colour, ``1 - transparency`` as alpha."""
    rgba = np.array([*material.diffuse, 1.0 - float(material.transparency or 0.0)], np.float64)
    return np.round(np.clip(rgba, 0.0, 1.0) * 255).astype(np.uint8)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:160].rstrip(".")


def _version(fmt: str, head: bytes) -> str:
    if fmt != "glTF":
        return ""
    try:
        if head.startswith(b"glTF"):
            length = struct.unpack_from("<I", head, 12)[0]
            doc = head[20 : 20 + length]
            m = re.search(rb'"asset"\s*:\s*\{[^}]*"version"\s*:\s*"([^"]+)"', doc)
        else:
            m = re.search(rb'"asset"\s*:\s*\{[^}]*"version"\s*:\s*"([^"]+)"', head)
        return m.group(1).decode() if m else "2.0"
    except (struct.error, UnicodeDecodeError):
        return "2.0"


def _material(geom, materials: list[Material], index: dict[tuple, int]) -> int:
    """Index of the geometry's material in ``materials`` (appended once), or -1."""
    visual = getattr(geom, "visual", None)
    mat = getattr(visual, "material", None)
    if mat is None:
        return -1
    rgba = getattr(mat, "baseColorFactor", None)
    if rgba is None:
        rgba = getattr(mat, "diffuse", None)
    if rgba is None:
        return -1
    rgba = np.asarray(rgba, dtype=np.float64).reshape(-1)
    if rgba.size < 3:
        return -1
    if rgba.max() > 1.0 or np.issubdtype(np.asarray(getattr(mat, "diffuse", rgba)).dtype, np.integer):
        rgba = rgba / 255.0
    alpha = float(rgba[3]) if rgba.size > 3 else 1.0
    extra = getattr(mat, "kwargs", None) or {}  # MTL keys trimesh does not interpret
    try:
        if "d" in extra:
            alpha = float(np.ravel(extra["d"])[0])
        elif "tr" in extra:
            alpha = 1.0 - float(np.ravel(extra["tr"])[0])
    except (TypeError, ValueError, IndexError):
        pass
    name = getattr(mat, "name", None)
    key = (name, *np.round(rgba[:3], 4).tolist(), round(alpha, 4))
    if key not in index:
        index[key] = len(materials)
        materials.append(
            Material(
                diffuse=(float(rgba[0]), float(rgba[1]), float(rgba[2])),
                transparency=min(max(1.0 - alpha, 0.0), 1.0),
                name=name if isinstance(name, str) else None,
            )
        )
    return index[key]


class _TextureTable:
    """Distinct texture images of a mesh file, with per-triangle uv."""

    def __init__(self, path: Path, mtl_maps: dict[str, str]) -> None:
        self.path = path
        self.mtl_maps = mtl_maps
        self.textures: list[Texture] = []
        self._index: dict[Any, int] = {}
        self._missing: list[str] = []
        self._unwritable: list[str] = []

    def of(self, geom: Any, faces: np.ndarray) -> tuple[int, np.ndarray]:
        """Texture index of a geometry (-1 if none) and ``(3F, 2)`` float32 uv of its triangles (NaN if none)."""
        none = np.full((3 * len(faces), 2), np.nan, np.float32)
        visual = getattr(geom, "visual", None)
        if getattr(visual, "kind", None) != "texture":
            return -1, none
        uv = getattr(visual, "uv", None)
        if uv is None:
            return -1, none
        uv = np.asarray(uv, dtype=np.float32)
        if uv.ndim != 2 or uv.shape[1] < 2 or len(uv) != len(geom.vertices):
            return -1, none
        tex = self._texture(getattr(visual, "material", None))
        if tex < 0:
            return -1, none
        return tex, uv[faces.reshape(-1), :2]

    def _add(self, key: Any, texture: Texture) -> int:
        if key not in self._index:
            self._index[key] = len(self.textures)
            self.textures.append(texture)
        return self._index[key]

    def _texture(self, mat: Any) -> int:
        if mat is None:
            return -1
        image = getattr(mat, "baseColorTexture", None)
        if image is None:
            image = getattr(mat, "image", None)
        if image is None:  # an OBJ whose map_Kd image trimesh could not load
            name = self.mtl_maps.get(str(getattr(mat, "name", None)))
            if not name:
                return -1
            target = (self.path.parent / name).absolute()
            if ("file", str(target)) not in self._index:
                self._missing.append(Path(name).name)
            return self._add(("file", str(target)), Texture(str(target), exists=target.is_file()))
        file_path = (getattr(image, "info", None) or {}).get("file_path")
        if isinstance(file_path, str) and file_path:
            target = (self.path.parent / file_path).absolute()
            if target.is_file():
                return self._add(("file", str(target)), Texture(str(target), exists=True))
        key = ("image", id(image))
        if key in self._index:
            return self._index[key]
        try:
            written = _cache_png(image)
        except Exception as exc:  # an image PIL cannot encode, or an unwritable cache
            self._unwritable.append(_describe(exc))
            return self._add(key, Texture(f"<embedded image {len(self.textures) + 1}>", exists=False))
        self._index[key] = self._add(("file", str(written)), Texture(str(written), exists=True))
        return self._index[key]

    def warnings(self) -> list[str]:
        out = []
        if self._missing:
            names = ", ".join(repr(n) for n in self._missing[:5]) + (" …" if len(self._missing) > 5 else "")
            out.append(f"{len(self._missing)} texture image(s) are missing ({names}); surfaces show without them.")
        if self._unwritable:
            out.append(
                f"{len(self._unwritable)} embedded texture image(s) could not be stored "
                f"({self._unwritable[0]}); surfaces show without them."
            )
        return out


def texture_cache_dir() -> Path:
    """The per-user folder where embedded texture images are written as PNG."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("citytwin")) / "textures"


def _cache_png(image: Any) -> Path:
    """Write a PIL image once as ``<cache>/<sha1 of the PNG bytes>.png`` and return the path."""
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    data = buf.getvalue()
    folder = texture_cache_dir()
    target = folder / f"{hashlib.sha1(data).hexdigest()}.png"  # noqa: S324 - a content key, not security
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target


_MTL_TAGS = re.compile(rb"^[ \t]*(newmtl|map_Kd)[ \t]+([^\r\n]*?)[ \t]*$", re.M | re.I)


def _mtl_texture_maps(tags: list[tuple[bytes, bytes]], path: Path) -> dict[str, str]:
    """Material name → ``map_Kd`` file name (as written) in the OBJ's material libraries."""
    out: dict[str, str] = {}
    for tag, value in tags:
        if tag != b"mtllib":
            continue
        data = read_aux_file(path.parent / value.decode("utf-8", "replace"))
        if data is None:
            continue
        current: str | None = None
        for t in _MTL_TAGS.finditer(data):
            entry = t.group(2).decode("utf-8", "replace")
            if t.group(1).lower() == b"newmtl":
                current = entry
            elif current is not None and entry:
                out.setdefault(current, entry)
    return out


_OBJ_TAGS = re.compile(rb"^[ \t]*(o|usemtl|mtllib)[ \t]+([^\r\n]*?)[ \t]*$", re.M)


def _obj_objects(tags: list[tuple[bytes, bytes]]) -> tuple[list[str], dict[str, str]]:
    """OBJ object names in file order, and the first ``usemtl`` of each."""
    names: list[str] = []
    first_mtl: dict[str, str] = {}
    current: str | None = None
    for tag, raw in tags:
        value = raw.decode("utf-8", "replace")
        if tag == b"o":
            current = value
            if value not in first_mtl and value not in names:
                names.append(value)
        elif tag == b"usemtl" and current is not None:
            first_mtl.setdefault(current, value)
    return names, first_mtl


def _obj_owner(geometry_name: str, known: frozenset[str]) -> tuple[str, str]:
    """The OBJ object a trimesh geometry came from.

    trimesh names split geometry ``object``, ``object_material`` and makes names
    unique with ``_1``, ``_2`` …: strip ``_…`` parts until an object name matches.
    """
    candidate = geometry_name
    while candidate not in known and "_" in candidate:
        candidate = candidate.rsplit("_", 1)[0]
    if candidate in known:
        return ("obj", candidate)
    return ("node", geometry_name)


def _missing_mtl(tags: list[tuple[bytes, bytes]], path: Path) -> list[str]:
    out = []
    for tag, value in tags:
        if tag != b"mtllib":
            continue
        name = value.decode("utf-8", "replace")
        if name and not (path.parent / name).is_file():
            out.append(f"The material library {Path(name).name!r} is missing; surfaces show without their colours.")
    return out


def read_sidecar(path: Path) -> tuple[CRS, np.ndarray | None, list[str]]:
    """CRS and offset from ``<file>.crs.json`` / ``<stem>.crs.json``, else CRS from a ``.prj``.

    Returns
    -------
    crs, offset, warnings
        ``offset`` is ``(3,)`` float64 or ``None``.
    """
    for candidate in (path.with_name(path.name + ".crs.json"), path.with_suffix(".crs.json")):
        if candidate.is_file():
            return _json_sidecar(candidate)
    for candidate in (path.with_name(path.name + ".prj"), path.with_suffix(".prj")):
        if candidate.is_file():
            try:
                wkt = candidate.read_text(encoding="utf-8", errors="replace").strip()
            except OSError as exc:
                return CRS(), None, [f"The CRS file {candidate.name!r} cannot be read ({exc.strerror or exc})."]
            return _crs_from_text(wkt), None, []
    return CRS(), None, []


def _json_sidecar(candidate: Path) -> tuple[CRS, np.ndarray | None, list[str]]:
    try:
        doc = json.loads(candidate.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("it is not a JSON object")
        crs = _crs_from_text(doc.get("crs")) if doc.get("crs") else CRS()
        offset = doc.get("offset")
        if offset is not None:
            offset = np.asarray(offset, dtype=np.float64).reshape(-1)
            if offset.size == 2:
                offset = np.append(offset, 0.0)
            if offset.size != 3 or not np.isfinite(offset).all():
                raise ValueError("offset must be [x, y, z]")
        return crs, offset, []
    except (OSError, ValueError, TypeError) as exc:
        return (
            CRS(),
            None,
            [
                f"The georeferencing file {candidate.name!r} is invalid ({_describe(exc)}); the mesh keeps its own "
                "coordinates."
            ],
        )


def _explicit_offset(value: Any) -> np.ndarray | None:
    """``LoadOptions.offset`` as ``(3,)`` float64 (``(x, y)`` gets ``z = 0``); raises ReaderError when malformed."""
    if value is None:
        return None
    try:
        offset = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        offset = np.zeros(0)
    if offset.size == 2:
        offset = np.append(offset, 0.0)
    if offset.size != 3 or not np.isfinite(offset).all():
        raise ReaderError(f"The offset {value!r} is not three finite numbers x, y, z.")
    return offset


def _crs_from_text(text: Any) -> CRS:
    text = str(text).strip()
    crs = CRS.parse(text)
    if crs.epsg is not None or not text:
        return crs
    try:
        from pyproj import CRS as ProjCRS

        proj = ProjCRS.from_user_input(text)
        return CRS(proj.name, proj.to_epsg())
    except Exception:
        m = re.match(r'\s*[A-Z_]+\["([^"]+)"', text)
        return CRS(m.group(1) if m else text[:80])
