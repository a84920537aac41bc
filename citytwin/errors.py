"""One root exception for everything citytwin reports to a user.

Every message is meant to be shown as it is: one sentence, no traceback.
"""

from __future__ import annotations

from pathlib import Path


class CityTwinError(Exception):
    """Root of every error citytwin raises on purpose."""


class ReaderError(CityTwinError):
    """A file could not be read.

    Parameters
    ----------
    message
        One sentence saying what is wrong, for a person.
    path
        The file concerned, if any.
    line
        The 1-based line number where the problem was found, if known.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = f"{self.path.name}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(f"{where}{message}")


class UnsupportedFormat(ReaderError):
    """No reader recognises the file."""


class LoadCancelled(CityTwinError):
    """The user cancelled a load; the scene is left as it was."""

    def __init__(self, message: str = "Loading was cancelled."):
        super().__init__(message)


class MissingDependency(CityTwinError):
    """An optional library needed for a feature is not installed."""


class ExportError(CityTwinError):
    """An image or video could not be written (a bad size, a missing logo, a full disk …).

    The message is one sentence for the user; no half-written file is left under the target name.
    """


class ExportCancelled(ExportError):
    """The user cancelled an export; nothing was written under the target name."""

    def __init__(self, message: str = "The export was cancelled."):
        super().__init__(message)
