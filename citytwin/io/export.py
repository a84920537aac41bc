"""Saving a city model with a scenario applied, in the format a file name asks for.

One entry point for the window's Save Scenario As… and ``citytwin convert``, so both write
the same bytes: ``.city.json``/``.json`` → CityJSON 2.0, ``.city.jsonl``/``.jsonl`` →
CityJSONSeq, ``.gml``/``.xml`` → CityGML (2.0 by default, or ``citygml_version="3.0"``).
Writes are atomic, a source file is never overwritten unless the caller asked and made a
backup (:func:`backup_path`), and every failure is one sentence.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citytwin.errors import CityTwinError

__all__ = ["FORMATS", "backup_path", "format_for", "make_backup", "write_scenario"]

#: suffix → format name
FORMATS = {
    ".city.json": "CityJSON",
    ".json": "CityJSON",
    ".city.jsonl": "CityJSONSeq",
    ".jsonl": "CityJSONSeq",
    ".gml": "CityGML",
    ".xml": "CityGML",
}


@dataclass
class SavedFile:
    """What a CityGML write did: the file, about how many city objects it holds, and the warnings."""

    path: Path
    objects: int
    warnings: list[str] = field(default_factory=list)


def format_for(path: str | os.PathLike) -> str:
    """The format a file name asks for.

    Raises
    ------
    CityTwinError
        For a suffix that is none of :data:`FORMATS`.
    """
    name = Path(path).name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    raise CityTwinError(
        f"{Path(path).name} does not say which format to write: end it in .city.json, .city.jsonl or .gml."
    )


def backup_path(path: str | os.PathLike) -> Path:
    """Where the backup of a file about to be overwritten goes (``NAME.bak``, ``NAME.bak2`` …)."""
    p = Path(path)
    candidate = p.with_name(p.name + ".bak")
    k = 2
    while candidate.exists():
        candidate = p.with_name(f"{p.name}.bak{k}")
        k += 1
    return candidate


def make_backup(path: str | os.PathLike) -> Path:
    """Copy a file to :func:`backup_path` before it is overwritten; returns the backup.

    Raises
    ------
    CityTwinError
        When the copy fails (nothing is overwritten then).
    """
    target = backup_path(path)
    try:
        shutil.copy2(path, target)
    except OSError as exc:
        raise CityTwinError(f"No backup of {Path(path).name} could be made ({exc.strerror or exc}).") from None
    return target


def write_scenario(
    model: Any,
    scenario: Any,
    path: str | os.PathLike,
    *,
    citygml_version: str = "2.0",
    allow_overwrite_source: bool = False,
) -> Any:
    """Write ``model`` with ``scenario`` (``None``: as read) to ``path``, in the format its name asks for.

    Returns
    -------
    object
        The writer's result: ``path``, counts and ``warnings`` (one sentence each for what the
        target format cannot hold).

    Raises
    ------
    CityTwinError
        With one sentence: an unknown suffix, a source that would be overwritten, a failed write.
    """
    fmt = format_for(path)
    if fmt in ("CityJSON", "CityJSONSeq"):
        doc = getattr(model, "source_document", None)
        if doc is not None and doc.kind in ("CityJSON", "CityJSONSeq"):
            from citytwin.io.cityjson_export import write_scenario_cityjson

            return write_scenario_cityjson(
                model, scenario, path, seq=fmt == "CityJSONSeq", allow_overwrite_source=allow_overwrite_source
            )
        from citytwin.io.convert_cityjson import write_model_cityjson

        return write_model_cityjson(
            model, scenario, path, seq=fmt == "CityJSONSeq", allow_overwrite_source=allow_overwrite_source
        )
    if citygml_version not in ("2.0", "3.0"):
        raise CityTwinError(f"CityGML {citygml_version} cannot be written; choose 2.0 or 3.0.")
    from citytwin.io.citygml_export import write_scenario_citygml
    from citytwin.model.scenario import added_ids, deleted_ids

    warnings = write_scenario_citygml(
        model, scenario, path, version=citygml_version, allow_overwrite_source=allow_overwrite_source
    )
    n = len(model.objects)
    if scenario is not None:
        n += len(added_ids(scenario)) - len(deleted_ids(scenario))
    return SavedFile(Path(path), n, list(warnings or []))
