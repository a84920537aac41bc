"""Opening input files safely: only regular files are read.

A named pipe with no writer blocks ``open()`` for ever, and a link to an endless
device (``/dev/zero``, ``/dev/urandom``) never ends a read. Both are refused in
one sentence before a byte is read: the check follows links and looks at what
they point to, and a file opened afterwards is checked again on its descriptor
(it may have been swapped in between).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from citytwin.errors import ReaderError

_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISDIR, "a folder"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refusal(mode: int, path: Path) -> ReaderError:
    kind = _kind(mode)
    if kind == "a folder":
        return ReaderError("This is a folder, not a file.", path)
    return ReaderError(f"This is {kind}, not a regular file; citytwin reads only regular files.", path)


def regular_file_size(path: str | Path) -> int:
    """The size of a regular file, following links; else a one-sentence :class:`ReaderError`.

    Nothing is opened, so a FIFO or a device is refused without blocking.

    Raises
    ------
    ReaderError
        If the path does not exist, cannot be inspected, or is not a regular file.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise ReaderError("The file is a link to something that does not exist.", path) from None
        raise ReaderError("The file does not exist.", path) from None
    except OSError as exc:
        raise ReaderError(f"The file cannot be opened ({exc.strerror or exc}).", path) from None
    if not stat.S_ISREG(st.st_mode):
        raise _refusal(st.st_mode, path)
    return int(st.st_size)


def open_regular(path: str | Path, buffering: int = -1):
    """Open a regular file for binary reading, refusing pipes, sockets and devices without blocking.

    The file is opened non-blocking (so a FIFO swapped in after the check cannot
    hang the open) and checked again on its descriptor.

    Raises
    ------
    ReaderError
        As :func:`regular_file_size`.
    """
    path = Path(path)
    regular_file_size(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReaderError(f"The file cannot be opened ({exc.strerror or exc}).", path) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _refusal(mode, path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def is_regular_file(path: str | Path) -> bool:
    """Whether ``path`` names a regular file; ``False`` (not an error) for any name the system refuses.

    ``Path.is_file`` raises on a name too long for the file system, which a damaged
    texture reference can be.
    """
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
