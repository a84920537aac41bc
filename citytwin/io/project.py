"""Reading and writing ``.citytwin`` project files.

A project file is UTF-8 JSON, pretty-printed (two-space indent) with its keys
in a fixed order, so that two versions diff line by line. It is decoded by
msgspec straight into the typed :class:`~citytwin.model.project.Project`;
anything wrong (bad JSON, a wrong type, an unknown layer kind, a newer schema)
is one sentence in a :class:`~citytwin.errors.ReaderError`, naming where in
the file it is. Saves are atomic; the previous version of the file is kept as
``NAME.citytwin.bak``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import msgspec

from citytwin.errors import CityTwinError, ReaderError
from citytwin.io.atomic import write_atomic
from citytwin.io.files import open_regular
from citytwin.io.options import LoadOptions
from citytwin.model.project import PROJECT_SUFFIX, SCHEMA_VERSION, LoadSettings, Project, Source

#: Projects larger than this are refused before they are read (10,000 pins take about 2 MB).
MAX_PROJECT_BYTES = 512 * 2**20

_NUMBER = rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NUMBER_ARRAY = re.compile(rb"\[\n\s*(" + _NUMBER + rb"(?:,\n\s*" + _NUMBER + rb")*)\n\s*\]")
_FIELDS = frozenset(Project.__struct_fields__) - {"extra"}


class ProjectError(CityTwinError):
    """A project could not be saved."""


def read_project(path: str | os.PathLike) -> Project:
    """Read a project; source paths come back absolute.

    Raises
    ------
    citytwin.errors.ReaderError
        With one sentence: a missing or unreadable file, bad JSON, a wrong type
        or value (with its place in the file), a project of a newer schema.
    """
    path = Path(path)
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > MAX_PROJECT_BYTES:
            raise ReaderError(f"The project file is too large ({size / 2**20:,.0f} MB) to be a citytwin project.", path)
        data = fh.read()
    return decode_project(data, path)


def decode_project(data: bytes, path: str | os.PathLike | None = None) -> Project:
    """A project from the bytes of a ``.citytwin`` file; relative source (and logo) paths are resolved against ``path``.

    Raises
    ------
    citytwin.errors.ReaderError
        As :func:`read_project`.
    """
    where = Path(path) if path is not None else None
    try:
        top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    except msgspec.ValidationError:
        raise ReaderError("This is not a citytwin project: the file does not hold a JSON object.", where) from None
    except msgspec.DecodeError as exc:
        raise ReaderError(f"The project file is not valid JSON ({_sentence(exc)}).", where) from None
    if "schema" not in top:
        raise ReaderError("This is not a citytwin project: the file has no schema version.", where)
    try:
        schema = msgspec.json.decode(top["schema"], type=int)
    except msgspec.MsgspecError:
        raise ReaderError("The project file's schema version is not a whole number.", where) from None
    if schema > SCHEMA_VERSION:
        raise ReaderError(
            f"This project was saved by a newer citytwin (schema {schema}; this version reads up to "
            f"{SCHEMA_VERSION}): update citytwin to open it.",
            where,
        )
    if schema < 1:
        raise ReaderError(f"The project file's schema version {schema} is not valid.", where)
    try:
        project = msgspec.json.decode(data, type=Project)
        extra = {k: msgspec.json.decode(v) for k, v in top.items() if k not in _FIELDS}
    except msgspec.MsgspecError as exc:
        raise ReaderError(f"The project file is damaged ({_sentence(exc)}).", where) from None
    except RecursionError:
        raise ReaderError("The project file is nested too deeply to read.", where) from None
    project = migrate(project, schema)
    project.extra = extra
    _check_unique(project, where)
    base = where.parent if where is not None else Path.cwd()
    for source in project.sources:
        source.path = os.path.normpath(os.path.join(base, source.path.replace("\\", os.sep)))
    logo = project.overlays.logo
    if logo is not None:  # like a source: relative to the project file in it, absolute in memory
        path = os.path.normpath(os.path.join(base, logo.path.replace("\\", os.sep)))
        project.overlays = msgspec.structs.replace(project.overlays, logo=msgspec.structs.replace(logo, path=path))
    return project


def migrate(project: Project, schema: int) -> Project:
    """Bring a project of an older schema up to :data:`SCHEMA_VERSION` (none older exists yet)."""
    project.schema = SCHEMA_VERSION
    return project


def encode_project(project: Project, path: str | os.PathLike | None = None) -> bytes:
    """The bytes of a ``.citytwin`` file: pretty JSON in a fixed key order, source paths relative to ``path``."""
    doc = msgspec.to_builtins(project)
    doc["schema"] = SCHEMA_VERSION
    extra = doc.pop("extra", None) or {}
    base = Path(path).parent if path is not None else None
    for src in doc["sources"]:
        src["path"] = _relative(src["path"], base)
    logo = (doc.get("overlays") or {}).get("logo")
    if logo is not None:
        logo["path"] = _relative(logo["path"], base)
    for key in sorted(extra):
        if key not in doc:
            doc[key] = extra[key]
    text = msgspec.json.format(msgspec.json.encode(doc), indent=2)
    # Short arrays of numbers (points, colours) on one line: readable, and a moved pin is a one-line diff.
    text = _NUMBER_ARRAY.sub(lambda m: b"[" + b", ".join(v.strip() for v in m.group(1).split(b",")) + b"]", text)
    return text + b"\n"


def write_project(project: Project, path: str | os.PathLike, backup: bool = True) -> Path:
    """Write a project atomically: a crash leaves the old file or the new one, never half of one.

    With ``backup``, an existing file is first copied to ``NAME.citytwin.bak``.

    Raises
    ------
    ProjectError
        With one sentence, when the file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != PROJECT_SUFFIX:
        path = path.with_name(path.name + PROJECT_SUFFIX)
    data = encode_project(project, path)
    try:
        if backup and path.is_file():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        return write_atomic(path, data)
    except OSError as exc:
        raise ProjectError(f"The project could not be saved to {path} ({exc.strerror or exc}).") from None


def load_options(source: Source) -> LoadOptions:
    """The reader options of a source."""
    s: LoadSettings = source.load
    kwargs: dict[str, Any] = {"lod_min": s.lod_min, "lod_max": s.lod_max}
    if s.types is not None:
        kwargs["types"] = frozenset(s.types)
    for name in ("point_budget", "max_polygon_vertices", "crs"):
        if getattr(s, name) is not None:
            kwargs[name] = getattr(s, name)
    if s.offset is not None:
        kwargs["offset"] = tuple(s.offset)
    return LoadOptions(**kwargs)


def load_settings(options: LoadOptions | None) -> LoadSettings:
    """The project form of reader options (inverse of :func:`load_options`)."""
    if options is None:
        return LoadSettings()
    default = LoadOptions()
    return LoadSettings(
        lod_min=options.lod_min,
        lod_max=options.lod_max,
        types=sorted(options.types) if options.types is not None else None,
        point_budget=options.point_budget if options.point_budget != default.point_budget else None,
        max_polygon_vertices=options.max_polygon_vertices
        if options.max_polygon_vertices != default.max_polygon_vertices
        else None,
        crs=options.crs,
        offset=tuple(options.offset) if options.offset is not None and len(options.offset) == 3 else None,
    )


def missing_sources(project: Project) -> list[Source]:
    """The sources whose file is not there (to be located again by the user)."""
    return [s for s in project.sources if not os.path.isfile(s.path)]


def _relative(p: str, base: Path | None) -> str:
    if base is None:
        return Path(p).as_posix()
    try:
        return Path(os.path.relpath(p, base)).as_posix()
    except ValueError:  # another drive (Windows): keep it absolute
        return Path(p).as_posix()


def _check_unique(project: Project, where: Path | None) -> None:
    for label, items in (
        ("source", project.sources),
        ("pin", project.pins),
        ("measurement", project.measurements),
        ("bookmark", project.bookmarks),
        ("tour", project.tours),
        ("derived layer", project.derived),
    ):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ReaderError(f"The project file is damaged (two {label}s have the id {item.id!r}).", where)
            seen.add(item.id)


def _sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split()).rstrip(".")
    return text[:200]


def project_summary(project: Project) -> dict[str, Any]:
    """What ``citytwin info PROJECT`` reports: sources (and whether each is there), layers and item counts."""
    sources = []
    for s in project.sources:
        entry: dict[str, Any] = {"id": s.id, "name": s.display_name, "path": s.path, "found": os.path.isfile(s.path)}
        if s.layer is not None:
            entry["layer"] = msgspec.to_builtins(s.layer)
        load = msgspec.to_builtins(s.load)
        if load:
            entry["load"] = load
        sources.append(entry)
    return {
        "format": "citytwin project",
        "version": str(project.schema),
        "sources": sources,
        "camera": None if project.camera is None else project.camera.to_dict(),
        "pins": len(project.pins),
        "measurements": len(project.measurements),
        "bookmarks": [b.name for b in project.bookmarks],
        "tours": len(project.tours),
        "derived": [{"id": d.id, "derive": d.derive, "from": d.source, "name": d.name} for d in project.derived],
        "other sections": sorted(project.extra),
    }


def read_sources(project: Project, cancel=None) -> tuple[list[tuple[Source, Any]], list[str]]:
    """Read every source of a project with its load options, without a window.

    Returns
    -------
    loaded
        ``(source, model)`` for each source that could be read, in project order.
    problems
        One sentence for each source that is missing or could not be read; the
        rest of the project still opens.
    """
    from citytwin.io.registry import read

    loaded: list[tuple[Source, Any]] = []
    problems: list[str] = []
    for source in project.sources:
        if not os.path.exists(source.path):
            problems.append(f"The data file of {source.display_name!r} is missing ({source.path}).")
            continue
        try:
            loaded.append((source, read(source.path, load_options(source), cancel=cancel)))
        except ReaderError as exc:
            problems.append(f"{source.display_name!r} could not be opened: {exc}")
    return loaded, problems
