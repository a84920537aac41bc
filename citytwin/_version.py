"""citytwin's version, kept in one place: ``[project] version`` in pyproject.toml.

An installed citytwin (pip, an editable checkout, or a frozen bundle that carries
the package metadata) answers from :mod:`importlib.metadata`; a source tree that
was never installed reads pyproject.toml beside the package.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["from_pyproject", "version"]

#: What :func:`version` answers when neither the metadata nor pyproject.toml can be read.
UNKNOWN = "0+unknown"


@cache
def version() -> str:
    """The citytwin version.

    Returns
    -------
    str
        ``importlib.metadata.version("citytwin")``; when citytwin is not installed,
        ``[project] version`` of the pyproject.toml beside the package; else ``"0+unknown"``.
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("citytwin")
    except PackageNotFoundError:
        return from_pyproject(Path(__file__).resolve().parents[1] / "pyproject.toml") or UNKNOWN


def from_pyproject(path: Path) -> str | None:
    """``[project] version`` of a citytwin pyproject.toml.

    Parameters
    ----------
    path
        A pyproject.toml.

    Returns
    -------
    str or None
        The version, or ``None`` when the file is missing, unreadable, or not citytwin's.
    """
    import tomllib

    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if project.get("name") != "citytwin" or not isinstance(project.get("version"), str):
        return None
    return project["version"]
