"""Recovery copies: the unsaved work of a window, written now and then so that a crash loses little.

A window autosaves its project into the user's state folder
(``platformdirs.user_state_dir("citytwin")/recovery/``, or
``$CITYTWIN_STATE_DIR/recovery/``) as ``autosave-<pid>-<token>.citytwin``: an
ordinary project file that also names the project it belongs to. A clean
close deletes it. A copy still there when citytwin starts is the work of a
process that ended without closing: the next start offers to recover it. A
copy of a process that is still running (another window of the same user) is
not offered.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import msgspec

from citytwin.io.project import read_project, write_project
from citytwin.model.project import PROJECT_SUFFIX, Project

#: Environment variable naming the state folder (tests set it; users may too).
STATE_DIR_ENV = "CITYTWIN_STATE_DIR"
#: The section of a recovery copy that names the project it belongs to (removed on recovery).
RECOVERY_KEY = "citytwin-recovery"
_PREFIX = "autosave-"


def state_dir() -> Path:
    """The user's state folder for citytwin (``$CITYTWIN_STATE_DIR`` when set)."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir("citytwin", appauthor=False))


def recovery_dir() -> Path:
    """Where recovery copies are written."""
    return state_dir() / "recovery"


def recovery_path(token: str) -> Path:
    """The recovery copy of one window of this process."""
    return recovery_dir() / f"{_PREFIX}{os.getpid()}-{token}{PROJECT_SUFFIX}"


def write_recovery(project: Project, path: str | os.PathLike, project_path: str | os.PathLike | None) -> Path:
    """Write a recovery copy of ``project`` (whose own file is ``project_path``, ``None`` when never saved).

    Raises
    ------
    citytwin.io.project.ProjectError
        With one sentence, when it cannot be written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = dict(project.extra)
    extra[RECOVERY_KEY] = {
        "project": None if project_path is None else os.path.abspath(os.fspath(project_path)),
        "saved": time.time(),
    }
    return write_project(msgspec.structs.replace(project, extra=extra), path, backup=False)


def read_recovery(path: str | os.PathLike) -> tuple[Project, Path | None]:
    """A recovery copy: the project (without the recovery section) and the project file it belongs to.

    Raises
    ------
    citytwin.errors.ReaderError
        With one sentence, when it cannot be read.
    """
    project = read_project(path)
    info = project.extra.pop(RECOVERY_KEY, None)
    original = info.get("project") if isinstance(info, dict) else None
    return project, (Path(original) if isinstance(original, str) and original else None)


def find_recoveries(in_use: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Recovery copies left by processes that ended without closing, newest first.

    ``in_use``: the copies of this process's open windows (not offered).
    """
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    mine = {os.path.abspath(os.fspath(p)) for p in in_use}
    found = []
    for path in folder.glob(f"{_PREFIX}*{PROJECT_SUFFIX}"):
        if os.path.abspath(path) in mine or not path.is_file():
            continue
        pid = _pid_of(path)
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue  # another citytwin still running: its work is not lost
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:
            continue
    return [p for _, p in sorted(found, reverse=True)]


def discard_recovery(path: str | os.PathLike | None) -> None:
    """Delete a recovery copy (nothing happens when it is not there)."""
    if path is None:
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - a read-only state folder: the next start offers it again
        pass


def _pid_of(path: Path) -> int | None:
    parts = path.name[len(_PREFIX) :].split("-", 1)
    try:
        return int(parts[0])
    except ValueError:
        return None


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - no cheap check without extra libraries: offer it
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


__all__ = [
    "RECOVERY_KEY",
    "STATE_DIR_ENV",
    "discard_recovery",
    "find_recoveries",
    "read_recovery",
    "recovery_dir",
    "recovery_path",
    "state_dir",
    "write_recovery",
]
