"""One place that picks the reader for a file: extension, then content sniffing.

Each reader module registers a :class:`ReaderSpec`. The spec with the highest
score for a file wins: a matching extension scores 1, a sniffed signature in
the first kilobytes scores 2, so a ``.xml`` holding CityJSON still opens.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.errors import ReaderError, UnsupportedFormat
from citytwin.io.files import open_regular
from citytwin.io.options import CancelCheck, LoadOptions, ProgressCallback

SNIFF_BYTES = 8192


@dataclass(frozen=True)
class ReaderSpec:
    """How to recognise and read one format.

    Attributes
    ----------
    name
        Format name as reported (``"CityGML"``).
    extensions
        Lower-case suffixes including the dot; compound ones (``".city.jsonl"``) allowed.
    sniff
        ``sniff(head: bytes) -> bool`` on the first :data:`SNIFF_BYTES` bytes.
    module, function
        Where the reader lives, imported only when used (keeps start-up light).
    """

    name: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    module: str
    function: str = "read"

    def score(self, path: Path, head: bytes) -> int:
        name = path.name.lower()
        s = 1 if any(name.endswith(ext) for ext in self.extensions) else 0
        try:
            if self.sniff(head):
                s += 2
        except Exception:  # a sniffer must never break reader selection
            pass
        return s

    def load(self) -> Callable[..., Any]:
        return getattr(importlib.import_module(self.module), self.function)


_READERS: list[ReaderSpec] = []


def register_reader(spec: ReaderSpec) -> None:
    """Add a reader (a later spec with the same name replaces the earlier)."""
    _READERS[:] = [r for r in _READERS if r.name != spec.name]
    _READERS.append(spec)


def readers() -> list[ReaderSpec]:
    """The registered readers."""
    _ensure_builtin()
    return list(_READERS)


def _strip_bom(head: bytes) -> bytes:
    for bom in (b"\xef\xbb\xbf",):
        if head.startswith(bom):
            return head[len(bom) :]
    return head


def _sniff_xml_citygml(head: bytes) -> bool:
    h = _strip_bom(head).lstrip()
    return h.startswith(b"<") and b"opengis.net/citygml" in head


def _sniff_cityjson(head: bytes) -> bool:
    h = _strip_bom(head).lstrip()
    # "type" may come after a long "CityObjects" member (3dfier, cjio write keys in that order)
    has_marker = b'"CityJSON"' in head or b'"CityObjects"' in head
    return h.startswith(b"{") and has_marker and not _sniff_cityjsonseq(head)


def _sniff_cityjsonseq(head: bytes) -> bool:
    h = _strip_bom(head).lstrip()
    first = h.split(b"\n", 1)
    return h.startswith(b"{") and b'"CityJSON"' in first[0] and len(first) > 1 and b"CityJSONFeature" in first[1]


def _sniff_las(head: bytes) -> bool:
    return head.startswith(b"LASF")


def _sniff_glb(head: bytes) -> bool:
    return head.startswith(b"glTF")


def _sniff_gltf(head: bytes) -> bool:
    h = _strip_bom(head).lstrip()
    return h.startswith(b"{") and b'"asset"' in head and b'"CityJSON"' not in head


def _sniff_ply(head: bytes) -> bool:
    return head[:4] in (b"ply\n", b"ply\r")


def _sniff_off(head: bytes) -> bool:
    return re.match(rb"\s*(ST)?C?N?4?n?OFF\b", head) is not None


def _sniff_stl(head: bytes) -> bool:
    return _strip_bom(head).lstrip().startswith(b"solid") and b"facet" in head


_OBJ_LINE = re.compile(rb"^(?:v|f|o|g|usemtl|mtllib)[ \t]", re.M)
_OBJ_VERTEX = re.compile(rb"^v[ \t]+[-+.\deE]+[ \t]+[-+.\deE]+[ \t]+[-+.\deE]+", re.M)


def _sniff_obj(head: bytes) -> bool:
    h = _strip_bom(head).lstrip()
    if h[:1] in (b"<", b"{") or b"\0" in head:
        return False
    return _OBJ_VERTEX.search(head) is not None and len(_OBJ_LINE.findall(head)) >= 3


_BUILTIN = (
    ReaderSpec("CityGML", (".gml", ".citygml", ".xml"), _sniff_xml_citygml, "citytwin.io.citygml"),
    ReaderSpec("CityJSON", (".json", ".cityjson", ".city.json"), _sniff_cityjson, "citytwin.io.cityjson"),
    ReaderSpec(
        "CityJSONSeq", (".jsonl", ".city.jsonl", ".cjseq"), _sniff_cityjsonseq, "citytwin.io.cityjson", "read_seq"
    ),
    ReaderSpec("LAS", (".las", ".laz", ".copc.laz"), _sniff_las, "citytwin.io.las"),
    ReaderSpec("glTF", (".glb", ".gltf"), lambda h: _sniff_glb(h) or _sniff_gltf(h), "citytwin.io.mesh"),
    ReaderSpec("OBJ", (".obj",), _sniff_obj, "citytwin.io.mesh"),
    ReaderSpec("PLY", (".ply",), _sniff_ply, "citytwin.io.mesh"),
    ReaderSpec("STL", (".stl",), _sniff_stl, "citytwin.io.mesh"),
    ReaderSpec("OFF", (".off",), _sniff_off, "citytwin.io.mesh"),
)


def _ensure_builtin() -> None:
    names = {r.name for r in _READERS}
    for spec in _BUILTIN:
        if spec.name not in names:
            _READERS.append(spec)


def read_head(path: Path, n: int) -> bytes:
    """The first ``n`` bytes of a file, or a :class:`ReaderError` saying in one sentence why not.

    Raises
    ------
    ReaderError
        If the file is missing, a folder, a pipe, socket or device (refused without
        blocking), unreadable or empty.
    """
    with open_regular(path) as fh:
        head = fh.read(n)
    if not head.strip():
        raise ReaderError("The file is empty.", path)
    return head


def pick_reader(path: str | Path) -> ReaderSpec:
    """The reader that fits a file best.

    Raises
    ------
    ReaderError
        If the file does not exist, is empty or cannot be opened.
    UnsupportedFormat
        If no reader recognises it.
    """
    _ensure_builtin()
    path = Path(path)
    head = read_head(path, SNIFF_BYTES)
    scored = sorted(((spec.score(path, head), i, spec) for i, spec in enumerate(_READERS)), key=lambda t: (-t[0], t[1]))
    best_score, _, best = scored[0]
    if best_score == 0:
        raise UnsupportedFormat(
            "citytwin does not recognise this file format "
            f"(supported: {', '.join(sorted({e for r in _READERS for e in r.extensions}))}).",
            path,
        )
    return best


def read(
    path: str | Path,
    options: LoadOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
):
    """Read any supported file into model data.

    Parameters
    ----------
    path
        The file.
    options
        What to keep; defaults to everything.
    progress
        Called as ``progress(done, total)`` while reading.
    cancel
        Polled while reading; when it returns true the read stops with
        :class:`~citytwin.errors.LoadCancelled`.

    Returns
    -------
    citytwin.model.citymodel.CityModel
        (or the model type of the format, for point clouds and meshes).

    Raises
    ------
    citytwin.errors.ReaderError
        With one sentence for a person, for any bad input.
    """
    path = Path(path)
    spec = pick_reader(path)
    reader = spec.load()
    options = options or LoadOptions()
    try:
        # Damaged numbers (NaN, 1e308) make numpy warn on stderr; the reader reports them in its warnings.
        with np.errstate(all="ignore"):
            result = reader(path, options, progress=progress, cancel=cancel)
    except (ReaderError, MemoryError, KeyboardInterrupt):
        raise
    except RecursionError:
        raise ReaderError("The file is nested too deeply to read.", path) from None
    except Exception as exc:
        if exc.__class__.__module__.startswith("citytwin.errors"):
            raise
        raise ReaderError(f"The {spec.name} file could not be read ({exc.__class__.__name__}: {exc}).", path) from exc
    _explain_empty(result, spec.name, options)
    return result


def _explain_empty(result: Any, format_name: str, options: LoadOptions) -> None:
    """A model read without error but holding nothing says why, so an empty view is never a mystery."""
    objects = getattr(result, "objects", None)
    warnings = getattr(result, "warnings", None)
    if objects is None or warnings is None or len(objects) > 0:
        return
    filters = []
    if options.types is not None:
        filters.append("object types")
    if options.bbox is not None:
        filters.append("bounding box")
    if (options.lod_min, options.lod_max) != (LoadOptions.lod_min, LoadOptions.lod_max):
        filters.append("LoD range")
    if filters:
        warnings.append(f"No city object in the file matches the load options ({', '.join(filters)}).")
    elif warnings:
        warnings.append(f"The {format_name} file holds no city object that could be read (see the problems above).")
    else:
        warnings.append(f"The {format_name} file is valid but holds no city objects.")
