"""Checks of mesh files against their real size, before trimesh reads them.

Every count a mesh file declares (GLB chunk lengths, glTF buffer, view and
accessor sizes, PLY element counts and list lengths, OFF counts, the binary STL
triangle count) is compared with the bytes that are really there before it can
drive a loop or an allocation, in citytwin or in trimesh. A count that does not
fit ends in a :class:`~citytwin.errors.ReaderError` with one sentence, or, where
the readable part is plain (a binary STL with a wrong count), in that part and a
warning.

Polygons fanned out into triangles (OBJ, OFF) and glTF meshes instanced by many
nodes may not expand past :func:`triangle_budget`, which grows with the file's
size: a line of millions of vertices is refused before trimesh triangulates it.

glTF is read here rather than by trimesh's own GLB/glTF loaders: the JSON is
parsed once, validated (references, sizes, a node hierarchy that is a forest),
its buffers are read no further than they are declared, and its node tree is
flattened (each mesh node under the root with its world transform), so neither
a cycle nor a tree thousands of levels deep reaches trimesh's scene graph.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np

from citytwin.errors import ReaderError

#: Triangles any mesh file may expand to, whatever its size.
TRIANGLE_FLOOR = 500_000
#: Beyond :data:`TRIANGLE_FLOOR`, one triangle per this many bytes of file (``"f 1 2 3\n"`` is 8 bytes).
BYTES_PER_TRIANGLE = 8
#: glTF buffer views, accessors and the primitives using them may describe this many times the bytes present ...
GLTF_DATA_FACTOR = 4
#: ... plus this many bytes (accessors without a buffer view are zeros, backed by nothing).
GLTF_DATA_SLACK = 64 * 2**20
#: Largest auxiliary file (MTL library, texture image) read beside a mesh.
AUX_FILE_LIMIT = 256 * 2**20
#: A PLY header must end within this many bytes.
PLY_HEADER_LIMIT = 2**20
#: Values on an OBJ ``v``/``vt``/``vn`` line beyond which it is no vertex (``v x y z [w] [r g b [a]]``).
OBJ_VERTEX_VALUES = 16


def triangle_budget(size: int) -> int:
    """Most triangles a mesh file of ``size`` bytes may expand to (polygons fanned out, instances repeated)."""
    return TRIANGLE_FLOOR + size // BYTES_PER_TRIANGLE


def _may_fan_out(size: int) -> bool:
    """Whether a text file's polygons could fan out past the budget (a polygon vertex takes 2 bytes at least)."""
    return size // 2 > TRIANGLE_FLOOR


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _bytes(n: int) -> str:
    return _count(n, "byte", "bytes")


def read_aux_file(path: Path, limit: int = AUX_FILE_LIMIT) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes beside a mesh, else ``None``.

    Devices (``/dev/zero``), FIFOs and folders are never opened: reading one would hang or never end.
    """
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        with open(path, "rb") as fh:
            return fh.read(limit)
    except OSError:
        return None


def safe_resolver(path: Path) -> Any:
    """A trimesh resolver for the files beside ``path`` that reads only regular files inside its folder.

    trimesh reads MTL libraries and texture images through it; a name that is missing,
    outside the folder, not a regular file or larger than :data:`AUX_FILE_LIMIT` is
    reported to trimesh as missing (which it skips).
    """
    from trimesh.resolvers import FilePathResolver

    class _SafeResolver(FilePathResolver):
        def get(self, name: str) -> bytes:
            root = Path(self.parent).resolve()
            name = str(name)
            for candidate in (name.strip(), name.strip().lstrip("/"), os.path.split(name)[-1]):
                if not candidate:
                    continue
                try:
                    target = (root / candidate).resolve()
                except (OSError, ValueError):
                    continue
                if not target.is_relative_to(root):
                    continue
                data = read_aux_file(target)
                if data is not None:
                    return data
            raise FileNotFoundError(name)

        def namespaced(self, namespace: str) -> Any:
            return safe_resolver(Path(self.parent) / namespace / "_")

    return _SafeResolver(str(path))


# ------------------------------------------------------------------------------------------------ STL
def check_stl(path: Path, head: bytes, size: int) -> tuple[bytes | None, list[str]]:
    """A binary STL whose 84-byte header count does not match its size, cut to the whole triangles present.

    Returns
    -------
    data, warnings
        ``data`` is ``None`` when the file is fine as it is (or is ASCII), else the file's
        bytes with the count set to the triangles present, and a warning saying so.

    Raises
    ------
    ReaderError
        When a binary STL holds no whole triangle.
    """
    if size < 84:
        return None, []
    declared = struct.unpack_from("<I", head, 80)[0]
    if 84 + 50 * declared == size or _looks_like_ascii_stl(head):
        return None, []
    present = (size - 84) // 50
    if present == 0:
        raise ReaderError(
            f"The binary STL header declares {_count(declared, 'triangle', 'triangles')} but the file holds none "
            f"({_bytes(size)}).",
            path,
        )
    with open(path, "rb") as fh:
        data = bytearray(fh.read(84 + 50 * present))
    struct.pack_into("<I", data, 80, present)
    return bytes(data), [
        f"The STL header declares {_count(declared, 'triangle', 'triangles')} but the file holds {present:,}; "
        f"those {present:,} were read."
    ]


def _looks_like_ascii_stl(head: bytes) -> bool:
    """An ASCII STL starts with ``solid`` and has facets (binary ones may start with ``solid`` too)."""
    lower = head.lower()
    return lower.lstrip().startswith(b"solid") and (b"facet" in lower or b"endsolid" in lower)


# ------------------------------------------------------------------------------------------------ OFF
def check_off(path: Path, data: bytes) -> None:
    """Refuse an OFF file whose vertex and face counts do not fit its lines, or whose polygons fan out too far.

    trimesh reads one vertex or face per line, so the counts must not exceed the lines
    after them; a face of *k* vertices becomes *k - 2* triangles, which must stay within
    :func:`triangle_budget`.
    """
    counts_line, line_end, seen_off = b"", 0, False
    for m in re.finditer(rb"[^\n]*(?:\n|$)", data[: 1 << 16]):
        content = m.group().split(b"#", 1)[0].strip()
        if not seen_off:
            header = re.search(rb"C?OFF", content)
            if header is None:
                continue
            seen_off, content = True, content[header.end() :].strip()
        if content:
            counts_line, line_end = content, m.end()
            break
    if not seen_off:
        raise ReaderError("The OFF file has no OFF header.", path)
    try:
        counts = [int(f) for f in counts_line.split()[:3]]
    except ValueError:
        counts = []
    if len(counts) < 2:
        shown = counts_line[:60].decode("utf-8", "replace")
        raise ReaderError(f"The OFF counts line {shown!r} does not give the numbers of vertices and faces.", path)
    n_vertices, n_faces = counts[:2]
    declares = f"{_count(n_vertices, 'vertex', 'vertices')} and {_count(n_faces, 'face', 'faces')}"
    if n_vertices < 0 or n_faces < 0:
        raise ReaderError(f"The OFF file declares {declares}; counts cannot be negative.", path)
    # comments and blank lines included: an upper bound of the data lines trimesh reads
    lines = data.count(b"\n", line_end) + (0 if data.endswith(b"\n") else 1)
    if n_vertices + n_faces > lines:
        raise ReaderError(
            f"The OFF file declares {declares} but has only {_count(lines, 'line', 'lines')} after its counts.",
            path,
        )
    if not _may_fan_out(len(data)):
        return
    triangles = 0
    seen = 0  # data lines (not blank, not comments) before the chunk
    for c in _scan_lines(data, line_end):
        data_line = (c.tokens > 0) & (c.a[c.first] != 35)  # "#"
        number = seen + np.cumsum(data_line) - 1
        face = data_line & (number >= n_vertices) & (number < n_vertices + n_faces)
        # trimesh takes as many vertices as the line's first number says, at most what follows it
        k = np.minimum(_leading_ints(c)[face], c.tokens[face] - 1)
        triangles += int(np.maximum(k - 2, 0).sum())
        seen += int(data_line.sum())
    _check_fan(path, "OFF", triangles, len(data))


# ------------------------------------------------------------------------------------------------ PLY
_PLY_SIZES = {
    "char": 1, "uchar": 1, "short": 2, "ushort": 2, "int": 4, "uint": 4, "float": 4, "double": 8,
    "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "int64": 8, "uint64": 8,
    "float16": 2, "float32": 4, "float64": 8,
}  # fmt: skip
_PLY_KINDS = {"char": "i", "short": "i", "int": "i", "int8": "i", "int16": "i", "int32": "i", "int64": "i"}


@dataclass
class _PlyElement:
    name: str
    count: int
    #: (type, None) for a scalar, (count type, item type) for a list
    properties: list[tuple[str, str | None]] = field(default_factory=list)


def check_ply(path: Path, size: int) -> list[str]:
    """Refuse a PLY file whose header declares more than the data after it can hold.

    Binary files are checked byte for byte as trimesh reads them (each list as long
    as in the element's first row); ASCII files must have a line per declared row.

    Returns
    -------
    list of str
        Warnings about the readable part (an ASCII list longer than its line).
    """
    with open(path, "rb") as fh:
        head = fh.read(PLY_HEADER_LIMIT)
    end = re.search(rb"^[ \t]*end_header[^\n]*(\n|$)", head, re.M)
    if end is None:
        raise ReaderError("The PLY header has no end_header line.", path)
    lines = head[: end.start()].decode("utf-8", "replace").splitlines()
    if not lines or "ply" not in lines[0].lower():
        raise ReaderError("The file does not start with a PLY header.", path)
    ascii_format = len(lines) > 1 and "ascii" in lines[1].lower()
    big_endian = len(lines) > 1 and "big" in lines[1].lower()
    elements: list[_PlyElement] = []
    for line in lines[2:]:
        words = line.split()
        if not words:
            continue
        if words[0] == "element":
            if len(words) != 3 or not re.fullmatch(r"\d+", words[2]):
                raise ReaderError(f"The PLY header line {line.strip()[:60]!r} does not give a valid count.", path)
            elements.append(_PlyElement(words[1], int(words[2])))
        elif words[0] == "property":
            if not elements:
                raise ReaderError("The PLY header has a property before any element.", path)
            if len(words) == 5 and words[1] == "list":
                types: tuple[str, str | None] = (words[2], words[3])
            elif len(words) == 3:
                types = (words[1], None)
            else:
                raise ReaderError(f"The PLY header line {line.strip()[:60]!r} is not a valid property.", path)
            for name in types:
                if name is not None and name not in _PLY_SIZES:
                    raise ReaderError(f"The PLY header names an unknown property type {name!r}.", path)
            elements[-1].properties.append(types)
    body_start = end.end()
    body = size - body_start
    if ascii_format:
        return _check_ply_ascii(path, body_start, elements)
    _check_ply_binary(path, body_start, body, elements, ">" if big_endian else "<")
    return []


def _ply_declares(elements: list[_PlyElement]) -> str:
    return " and ".join(f"{e.count:,} {e.name!r}" for e in elements if e.count) or "nothing"


def _check_ply_binary(path: Path, body_start: int, body: int, elements: list[_PlyElement], endian: str) -> None:
    minimum = sum(e.count * sum(_PLY_SIZES[a] for a, _ in e.properties) for e in elements)
    if minimum > body:
        raise ReaderError(
            f"The PLY header declares {_ply_declares(elements)} elements, more than the "
            f"{_bytes(body)} of data after it can hold.",
            path,
        )
    offset = 0
    with open(path, "rb") as fh:
        for element in elements:
            if element.count == 0:
                continue
            row = 0  # bytes of the element's first row: trimesh gives every row its list lengths
            for count_type, item_type in element.properties:  # (type, None) for a scalar
                row += _PLY_SIZES[count_type]
                if item_type is None:
                    continue
                if offset + row > body:
                    break
                fh.seek(body_start + offset + row - _PLY_SIZES[count_type])
                raw = fh.read(_PLY_SIZES[count_type])
                length = int(np.frombuffer(raw, f"{endian}{_PLY_KINDS.get(count_type, 'u')}{len(raw)}")[0])
                if length < 0 or row + length * _PLY_SIZES[item_type] > body - offset:
                    raise ReaderError(
                        f"The first {element.name!r} element of the PLY file lists {length:,} values, "
                        f"more than the {_bytes(body)} of data can hold.",
                        path,
                    )
                row += length * _PLY_SIZES[item_type]
            offset += element.count * row
            if offset > body:
                raise ReaderError(
                    f"The PLY data is shorter than its header describes (at least {_bytes(offset)}, "
                    f"{body:,} present): the file is truncated, or its faces have different numbers of vertices.",
                    path,
                )
    if offset < body:
        raise ReaderError(
            f"The PLY file has {_bytes(body - offset)} more data than its header describes (or faces with "
            "different numbers of vertices, which binary PLY reading does not support).",
            path,
        )


def _check_ply_ascii(path: Path, body_start: int, elements: list[_PlyElement]) -> list[str]:
    with open(path, "rb") as fh:
        fh.seek(body_start)
        data = fh.read()
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    n_lines = len(ends) + (1 if data and not data.endswith(b"\n") else 0)
    rows = sum(e.count for e in elements)
    if rows > n_lines:
        raise ReaderError(
            f"The PLY header declares {_ply_declares(elements)} elements but only "
            f"{_count(n_lines, 'line', 'lines')} of data follow it.",
            path,
        )
    warnings = []
    first = 0
    lengths = np.diff(ends, prepend=-1) - 1 if len(ends) else np.zeros(0, np.int64)
    for element in elements:
        # a row of at most ``values`` numbers is at most ~64 bytes a number: trimesh parses every one of a longer line
        values = sum(1 if item is None else 1 + 256 ** _PLY_SIZES[count] for count, item in element.properties)
        rows = lengths[first : first + element.count]
        if len(rows) and values < 2**20 and rows.max() > 64 * values + 64:
            j = first + int(np.argmax(rows))
            raise ReaderError(
                f"Line {j + 1:,} of the PLY data holds {int(lengths[j]):,} bytes, too long for a {element.name!r} "
                f"element of at most {values:,} values.",
                path,
            )
        if element.count and any(item is not None for _, item in element.properties):
            # trimesh reads every row's lists as long as the first row's
            start = int(ends[first - 1]) + 1 if first else 0
            stop = int(ends[first]) if first < len(ends) else len(data)
            words = data[start:stop].split()
            at = 0
            for _, item_type in element.properties:
                if item_type is None:
                    at += 1
                    continue
                try:
                    length = int(float(words[at]))
                except (IndexError, ValueError, OverflowError):
                    break
                if length > len(words) - at - 1:
                    warnings.append(
                        f"The first {element.name!r} element of the PLY file lists {length:,} values but its line "
                        f"holds {max(len(words) - at - 1, 0):,}; the values present were read."
                    )
                    break
                at += 1 + max(length, 0)
        first += element.count
    return warnings


# ------------------------------------------------------------------------------------------------ OBJ
def check_obj(path: Path, text: bytes) -> None:
    """Refuse an OBJ file whose polygons fan out into more triangles than its size allows.

    A face line of *k* vertices becomes *k - 2* triangles; a single line of millions of
    vertices would cost trimesh and citytwin gigabytes. A ``v`` line of millions of
    values (no vertex) is refused too: trimesh would parse every one of them.
    """
    if not _may_fan_out(len(text)):
        return
    triangles = 0
    for c in _scan_lines(text, continued=True):
        tag = c.a[c.first]
        after = c.a[np.minimum(c.first + 1, len(c.a) - 1)]
        after2 = c.a[np.minimum(c.first + 2, len(c.a) - 1)]
        has = c.tokens > 0
        face = has & (tag == 102) & (after <= 32)  # "f"
        vertex = has & (tag == 118) & ((after <= 32) | (((after == 116) | (after == 110)) & (after2 <= 32)))
        too_long = vertex & (c.tokens > OBJ_VERTEX_VALUES + 1)
        if too_long.any():
            j = int(np.argmax(too_long))
            raise ReaderError(
                f"The OBJ vertex line holds {int(c.tokens[j]) - 1:,} values; a vertex has at most 7.",
                path,
                line=c.first_line + j + 1,
            )
        triangles += int(np.maximum(c.tokens[face] - 3, 0).sum())  # the "f" and k vertices: k - 2 triangles
    _check_fan(path, "OBJ", triangles, len(text))


def _check_fan(path: Path, fmt: str, triangles: int, size: int) -> None:
    budget = triangle_budget(size)
    if triangles > budget:
        raise ReaderError(
            f"The {fmt} faces fan out into {triangles:,} triangles, more than a file of {_bytes(size)} "
            f"may expand to ({budget:,}).",
            path,
        )


@dataclass
class _Lines:
    """A chunk of whole lines of a text file, tokenised by numpy."""

    #: number of the chunk's first line (0-based) among the lines scanned
    first_line: int
    #: the chunk's bytes
    a: np.ndarray
    #: offset of each line in ``a``
    starts: np.ndarray
    #: whitespace-separated tokens on each line
    tokens: np.ndarray
    #: offset of each line's first token in ``a`` (of its start where it has none)
    first: np.ndarray
    #: offset of every token in ``a``
    token_starts: np.ndarray


_CONTINUED = re.compile(rb"(?<!\\)(?<!\\\r)\n")


def _scan_lines(data: bytes, start: int = 0, continued: bool = False, chunk: int = 1 << 23) -> Iterator[_Lines]:
    """The lines of ``data`` from ``start``, a chunk of whole lines at a time (memory: a few times ``chunk``).

    ``continued``: a backslash before the newline joins two lines, as in OBJ.
    """
    n = len(data)
    line = 0
    while start < n:
        at = min(start + chunk, n) - 1
        m = _CONTINUED.search(data, at) if continued else None
        end = (m.start() if m else -1) if continued else data.find(b"\n", at)
        stop = n if end < 0 else end + 1
        a = np.frombuffer(data, np.uint8, stop - start, start)
        newline = a == 10
        if continued:
            newline[1:] &= a[:-1] != 92
            newline[2:] &= (a[1:-1] != 13) | (a[:-2] != 92)
        blank = a <= 32
        if continued:  # the backslash of a continuation is no token
            blank[:-1] |= (a[:-1] == 92) & ((a[1:] == 10) | (a[1:] == 13))
        token = ~blank
        token[1:] &= blank[:-1]
        starts = np.concatenate(([0], np.flatnonzero(newline[:-1]) + 1))
        token_starts = np.flatnonzero(token)
        index = np.searchsorted(token_starts, starts)
        tokens = np.diff(index, append=len(token_starts))
        padded = token_starts if len(token_starts) else np.zeros(1, np.int64)
        first = np.where(tokens > 0, padded[np.minimum(index, len(padded) - 1)], starts)
        yield _Lines(line, a, starts, tokens, first, token_starts)
        line += len(starts)
        start = stop


def _leading_ints(c: _Lines, digits: int = 12) -> np.ndarray:
    """Each line's first token as a whole number (``10**digits`` where longer); -1 where it is none."""
    window = c.a[np.minimum(c.first[:, None] + np.arange(digits + 1), len(c.a) - 1)]
    run = np.logical_and.accumulate((window >= 48) & (window <= 57), axis=1)  # the leading digits
    value = np.zeros(len(c.first), np.int64)
    for i in range(digits):
        value = np.where(run[:, i], value * 10 + (window[:, i] - 48), value)
    value[run[:, digits]] = 10**digits
    value[~run[:, 0] | (c.tokens == 0)] = -1
    return value


# ------------------------------------------------------------------------------------------------ glTF
_JSON_CHUNK = 0x4E4F534A
_BIN_CHUNK = 0x004E4942
#: glTF component type → bytes
_COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
#: glTF accessor type → components
_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
#: glTF primitive modes trimesh reads
_MODE_POINTS, _MODE_LINES, _MODE_TRIANGLES, _MODE_STRIP = 0, 1, 4, 5
_TRANSFORM_KEYS = ("children", "matrix", "translation", "rotation", "scale", "camera")


class _Bad(Exception):
    """One sentence about what is wrong in a glTF file."""


@dataclass
class GltfSource:
    """A validated glTF: what trimesh's ``_read_buffers`` takes, and what was learnt on the way."""

    #: the glTF JSON, with its node tree flattened (each mesh node under the root, world transform)
    header: dict
    #: bytes of each buffer, at least as long as declared
    buffers: list[bytes]
    #: bytes of the file and of the distinct files and data URIs its buffers come from
    size: int
    warnings: list[str] = field(default_factory=list)


def read_gltf(path: Path, binary: bool) -> GltfSource:
    """Read and validate a glTF (``binary``: GLB) file without trusting any of its counts.

    Raises
    ------
    ReaderError
        With one sentence naming what is wrong.
    """
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            warnings: list[str] = []
            if binary:
                text, chunks = _glb_chunks(fh, size, warnings)
            else:
                text, chunks = fh.read(), []
        try:
            doc = json.loads(text.rstrip(b"\0"))  # some writers pad the JSON chunk with NULs
        except RecursionError:
            raise _Bad("The glTF JSON is nested too deeply to read.") from None
        except ValueError as exc:  # UnicodeDecodeError included
            raise _Bad(f"The glTF JSON is not valid ({_short(exc)}).") from None
        if not isinstance(doc, dict):
            raise _Bad("The glTF JSON is not an object.")
        return _validate(path, doc, chunks, size, warnings)
    except _Bad as exc:
        raise ReaderError(str(exc), path) from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:120].rstrip(".")


def _glb_chunks(fh: Any, size: int, warnings: list[str]) -> tuple[bytes, list[bytes]]:
    """The JSON chunk and the binary chunks of a GLB file, each checked to fit the file first."""
    head = fh.read(12)
    if len(head) < 12:
        raise _Bad("The GLB file is truncated within its 12-byte header.")
    version, length = struct.unpack_from("<II", head, 4)
    if version != 2:
        raise _Bad(f"The GLB file is version {version}; only glTF 2 is supported.")
    if length != size:
        warnings.append(f"The GLB header gives a length of {_bytes(length)}, but the file has {size:,}.")
    offset, text, chunks = 12, None, []
    while offset + 8 <= size:
        fh.seek(offset)
        chunk_length, chunk_type = struct.unpack("<II", fh.read(8))
        if text is None and chunk_type != _JSON_CHUNK:
            raise _Bad("The GLB file does not start with a JSON chunk.")
        if offset + 8 + chunk_length > size:
            what = "JSON chunk" if text is None else "binary chunk" if chunk_type == _BIN_CHUNK else "chunk"
            raise _Bad(
                f"The GLB {what} at byte {offset:,} claims {_bytes(chunk_length)} but only {size - offset - 8:,} "
                "remain in the file."
            )
        if text is None:
            text = fh.read(chunk_length)
        elif chunk_type == _BIN_CHUNK:
            chunks.append(fh.read(chunk_length))
        offset += 8 + chunk_length
    if text is None:
        raise _Bad("The GLB file has no JSON chunk.")
    return text, chunks


def _items(doc: dict, key: str) -> list[dict]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Bad(f"The glTF {key!r} is not a list of objects.")
    return value


def _int(obj: dict, key: str, what: str, default: int | None = None, minimum: int = 0) -> int:
    value = obj.get(key, default)
    if value is None:
        raise _Bad(f"The glTF {what} has no {key}.")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _Bad(f"The glTF {what} has {key} {json.dumps(value)[:40]}, not a whole number of at least {minimum}.")
    return value


def _ref(value: Any, what: str, items: list, kind: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(items):
        raise _Bad(f"The glTF {what} refers to {kind} {json.dumps(value)[:40]}, which does not exist.")
    return value


def _index(obj: dict, key: str, what: str, items: list, kind: str) -> int | None:
    return _ref(obj[key], what, items, kind) if key in obj else None


def _validate(path: Path, doc: dict, chunks: list[bytes], size: int, warnings: list[str]) -> GltfSource:
    asset = doc.get("asset") if isinstance(doc.get("asset"), dict) else {}
    version = str(asset.get("version", "2.0"))
    if not re.match(r"\s*[2-9]", version):
        raise _Bad(f"The glTF file is version {version[:20]}; only glTF 2 is supported.")
    buffers_doc = _items(doc, "buffers")
    views = _items(doc, "bufferViews")
    accessors = _items(doc, "accessors")
    meshes = _items(doc, "meshes")
    nodes = _items(doc, "nodes")
    scenes = _items(doc, "scenes")
    materials = _items(doc, "materials")
    images = _items(doc, "images")

    buffers, present, external = _read_buffer_data(path, buffers_doc, chunks)
    declared = [_int(b, "byteLength", f"buffer {i}") for i, b in enumerate(buffers_doc)]
    for i, (n, data) in enumerate(zip(declared, buffers, strict=True)):
        if n > len(data):
            raise _Bad(f"The glTF buffer {i} declares {_bytes(n)} but only {len(data):,} are present.")

    data_bytes = 0
    view_lengths = []
    for i, view in enumerate(views):
        what = f"bufferView {i}"
        buffer = _index(view, "buffer", what, buffers_doc, "buffer")
        if buffer is None:
            raise _Bad(f"The glTF {what} has no buffer.")
        offset = _int(view, "byteOffset", what, 0)
        length = _int(view, "byteLength", what)
        if offset + length > declared[buffer]:
            raise _Bad(
                f"The glTF {what} (bytes {offset:,} to {offset + length:,}) runs past the end of buffer {buffer} "
                f"({_bytes(declared[buffer])})."
            )
        if "byteStride" in view:
            _int(view, "byteStride", what, minimum=1)
        view_lengths.append(length)
        data_bytes += length

    for i, accessor in enumerate(accessors):
        what = f"accessor {i}"
        component = accessor.get("componentType")
        if component not in _COMPONENT_SIZES:
            raise _Bad(f"The glTF {what} has an unknown componentType {json.dumps(component)[:40]}.")
        kind = accessor.get("type")
        if kind not in _COMPONENTS:
            raise _Bad(f"The glTF {what} has an unknown type {json.dumps(kind)[:40]}.")
        count = _int(accessor, "count", what)
        element = _COMPONENT_SIZES[component] * _COMPONENTS[kind]
        data_bytes += count * element
        view = _index(accessor, "bufferView", what, views, "bufferView")
        if view is None:
            continue  # zeros (or an extension's output), within the data budget below
        offset = _int(accessor, "byteOffset", what, 0)
        stride = views[view].get("byteStride", element)
        need = offset + (count - 1) * stride + element if count else offset
        if need > view_lengths[view]:
            raise _Bad(
                f"The glTF {what} needs {_bytes(need)} ({count:,} × {element}) from bufferView {view}, "
                f"which has {view_lengths[view]:,}."
            )
    data_bytes += _check_meshes(meshes, accessors, materials)
    budget = GLTF_DATA_FACTOR * present + GLTF_DATA_SLACK
    if data_bytes > budget:
        raise _Bad(
            f"The glTF buffer views, accessors and primitives describe {_bytes(data_bytes)} of data, far more "
            f"than the {present:,} the file holds."
        )
    for i, material in enumerate(materials):
        if not isinstance(material.get("pbrMetallicRoughness", {}), dict):
            raise _Bad(f"The glTF material {i} has a pbrMetallicRoughness that is not an object.")
    for i, image in enumerate(images):
        _index(image, "bufferView", f"image {i}", views, "bufferView")
    header = dict(doc)
    header["bufferViews"], header["accessors"] = views, accessors
    header["nodes"], header["scenes"], header["scene"] = _flatten_nodes(doc, nodes, scenes, meshes)
    header.pop("cameras", None)
    return GltfSource(header, buffers, size + external, warnings)


def _read_buffer_data(path: Path, buffers_doc: list[dict], chunks: list[bytes]) -> tuple[list[bytes], int, int]:
    """Bytes of each buffer (GLB binary chunk, data URI or file beside ``path``).

    Returns
    -------
    buffers, present, external
        The buffers, the distinct bytes behind them and the bytes read from other files.
    """
    out: list[bytes] = []
    present = sum(len(c) for c in chunks)
    chunk_iter = iter(chunks)
    files: dict[Path, tuple[int, list[int]]] = {}  # file → (bytes needed, buffers reading it)
    for i, buf in enumerate(buffers_doc):
        length = _int(buf, "byteLength", f"buffer {i}")
        uri = buf.get("uri")
        if uri is None:
            data = next(chunk_iter, None)
            if data is None:
                raise _Bad(f"The glTF buffer {i} has no uri and there is no GLB binary chunk to hold it.")
            out.append(data)
            continue
        if not isinstance(uri, str):
            raise _Bad(f"The glTF buffer {i} has a uri that is not text.")
        if uri.startswith("data:"):
            head, _, payload = uri.partition(",")
            if not head.endswith(";base64"):
                raise _Bad(f"The glTF buffer {i} has a data: URI that is not base64-encoded.")
            try:
                data = base64.b64decode("".join(payload.split()), validate=True)
            except (binascii.Error, ValueError):
                raise _Bad(f"The glTF buffer {i} has a data: URI that is not valid base64.") from None
            present += len(data)
            out.append(data)
            continue
        target = _buffer_file(path, uri, i, length)
        need, users = files.get(target, (0, []))
        files[target] = (max(need, length), [*users, i])
        out.append(b"")
    external = 0
    for target, (need, users) in files.items():
        with open(target, "rb") as fh:
            data = fh.read(need)
        external += len(data)
        for i in users:
            out[i] = data
    return out, present + external, external


def _buffer_file(path: Path, uri: str, index: int, length: int) -> Path:
    """The file a buffer's ``uri`` names, checked to be a regular file inside the glTF's folder holding ``length``."""
    root = path.parent.resolve()
    shown = uri[:80]
    try:
        target = (root / unquote(uri)).resolve()
    except (OSError, ValueError):
        raise _Bad(f"The glTF buffer {index} has a uri that is no valid file name ({shown!r}).") from None
    if not target.is_relative_to(root):
        raise _Bad(f"The glTF buffer {index} points outside the file's folder ({shown!r}).")
    try:
        st = target.stat()
    except OSError:
        raise _Bad(f"The glTF buffer {index} refers to {shown!r}, which does not exist.") from None
    if stat.S_ISDIR(st.st_mode):
        raise _Bad(f"The glTF buffer {index} refers to {shown!r}, which is a folder, not a file.")
    if not stat.S_ISREG(st.st_mode):
        raise _Bad(f"The glTF buffer {index} refers to {shown!r}, which is not a regular file.")
    if st.st_size < length:
        raise _Bad(f"The glTF buffer {index} declares {_bytes(length)} but {shown!r} has only {st.st_size:,}.")
    return target


def _check_meshes(meshes: list[dict], accessors: list[dict], materials: list[dict]) -> int:
    """Check the meshes' references; return the bytes of accessor data their primitives take (trimesh copies each)."""
    used = 0
    for m, mesh in enumerate(meshes):
        primitives = mesh.get("primitives")
        if not isinstance(primitives, list) or not primitives or not all(isinstance(p, dict) for p in primitives):
            raise _Bad(f"The glTF mesh {m} has no primitives.")
        for p, primitive in enumerate(primitives):
            what = f"mesh {m}, primitive {p}"
            attributes = primitive.get("attributes")
            if not isinstance(attributes, dict):
                raise _Bad(f"The glTF {what} has no attributes.")
            for name in attributes:
                used += _accessor_bytes(accessors[_ref(attributes[name], f"{what} ({name})", accessors, "accessor")])
            mode = _int(primitive, "mode", what, _MODE_TRIANGLES)
            _index(primitive, "material", what, materials, "material")
            indices = _index(primitive, "indices", what, accessors, "accessor")
            if indices is not None:
                used += _accessor_bytes(accessors[indices])
            if mode not in (_MODE_TRIANGLES, _MODE_POINTS, _MODE_LINES, _MODE_STRIP):
                continue  # trimesh skips other modes
            if "POSITION" not in attributes:
                raise _Bad(f"The glTF {what} has no POSITION attribute.")
            position = accessors[attributes["POSITION"]]
            if position["type"] != "VEC3":
                raise _Bad(f"The glTF {what} has positions of type {position['type']}, not VEC3.")
            if mode != _MODE_TRIANGLES:
                continue
            if indices is not None:
                if accessors[indices]["type"] != "SCALAR":
                    raise _Bad(f"The glTF {what} has indices of type {accessors[indices]['type']}, not SCALAR.")
                if accessors[indices]["count"] % 3:
                    raise _Bad(
                        f"The glTF {what} has {accessors[indices]['count']:,} vertex indices, "
                        "not a whole number of triangles."
                    )
            elif position["count"] % 3:
                raise _Bad(f"The glTF {what} has {position['count']:,} vertices and no indices, not whole triangles.")
    return used


def _accessor_bytes(accessor: dict) -> int:
    return accessor["count"] * _COMPONENT_SIZES[accessor["componentType"]] * _COMPONENTS[accessor["type"]]


def _local_matrix(node: dict, index: int) -> np.ndarray | None:
    """A node's transform as trimesh builds it (``matrix`` · T · R · S), ``None`` for none."""
    if not any(k in node for k in ("matrix", "translation", "rotation", "scale")):
        return None
    from trimesh import transformations

    try:
        matrix = np.array(node["matrix"], dtype=np.float64).reshape((4, 4)).T if "matrix" in node else np.eye(4)
        if "translation" in node:
            translation = np.array(node["translation"], dtype=np.float64).reshape(3)
            matrix = matrix @ transformations.translation_matrix(translation)
        if "rotation" in node:
            quaternion = np.array(node["rotation"], dtype=np.float64).reshape(4)[[3, 0, 1, 2]]
            matrix = matrix @ transformations.quaternion_matrix(quaternion)
        if "scale" in node:
            matrix = matrix @ np.diag(np.append(np.array(node["scale"], dtype=np.float64).reshape(3), 1.0))
    except (TypeError, ValueError):
        raise _Bad(f"The glTF node {index} has a malformed matrix, translation, rotation or scale.") from None
    return matrix


def _flatten_nodes(doc: dict, nodes: list[dict], scenes: list[dict], meshes: list[dict]) -> tuple[list, list, int]:
    """Check that the node hierarchy is a forest; return nodes, scenes and scene with every mesh node a root.

    Each mesh node of the scene keeps its index, name and mesh and gets its world
    transform as ``matrix``; the scene lists them so that trimesh meets them in the
    order it would have walked the tree. Other nodes stay as name-only placeholders,
    so trimesh names every node as before.
    """
    parent = [-1] * len(nodes)
    children: list[list[int]] = []
    for i, node in enumerate(nodes):
        kids = node.get("children", [])
        if not isinstance(kids, list):
            raise _Bad(f"The glTF node {i} has children that are not a list.")
        for value in kids:
            child = _ref(value, f"node {i}", nodes, "child node")
            if child == i:
                raise _Bad(f"The glTF node {i} is its own child; the node hierarchy must be a forest, not a cycle.")
            if parent[child] == i:
                raise _Bad(f"The glTF node {i} lists node {child} twice among its children.")
            if parent[child] != -1:
                raise _Bad(
                    f"The glTF node {child} has two parents (nodes {parent[child]} and {i}); the node hierarchy "
                    "must be a forest."
                )
            parent[child] = i
        children.append(kids)
        _index(node, "mesh", f"node {i}", meshes, "mesh")
    _check_acyclic(parent, children)

    if not scenes:
        return [_placeholder(n) for n in nodes], [{"nodes": []}], 0
    scene = _index(doc, "scene", "file", scenes, "scene") or 0
    roots = scenes[scene].get("nodes", [])
    if not isinstance(roots, list):
        raise _Bad(f"The glTF scene {scene} has nodes that are not a list.")
    for value in roots:
        root = _ref(value, f"scene {scene}", nodes, "node")
        if parent[root] != -1:
            raise _Bad(f"The glTF scene {scene} lists node {root} as a root, but it is a child of node {parent[root]}.")

    flat = [_placeholder(n) for n in nodes]
    world: dict[int, np.ndarray | None] = {}
    order = []
    stack = [(r, None) for r in roots]
    while stack:  # the walk trimesh does: last root first, last child first
        i, above = stack.pop()
        if i in world:
            continue
        local = _local_matrix(nodes[i], i)
        here = above if local is None else local if above is None else above @ local
        world[i] = here
        if "mesh" in nodes[i]:
            node = {k: v for k, v in nodes[i].items() if k not in _TRANSFORM_KEYS}
            if "name" in node:
                node["name"] = _name(node["name"])
            if here is not None:
                node["matrix"] = here.T.reshape(-1).tolist()
            flat[i] = node
            order.append(i)
        stack.extend((c, here) for c in children[i])
    return flat, [{"nodes": order[::-1]}], 0


def _placeholder(node: dict) -> dict:
    return {"name": _name(node["name"])} if "name" in node else {}


def _name(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)[:80]


def _check_acyclic(parent: list[int], children: list[list[int]]) -> None:
    """Every node reachable from a node without parent; else name a node on a cycle."""
    seen = 0
    stack = [i for i, p in enumerate(parent) if p == -1]
    reached = [False] * len(parent)
    while stack:
        i = stack.pop()
        reached[i] = True
        seen += 1
        stack.extend(children[i])
    if seen == len(parent):
        return
    i = reached.index(False)
    visited = set()
    while i not in visited:
        visited.add(i)
        i = parent[i]
    raise _Bad(f"The glTF node {i} is its own ancestor; the node hierarchy must be a forest, not a cycle.")
