"""Atomic file writes: a crash or a full disk never leaves half a file or a clobbered original."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _umask() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no other portable way to read it; put it back at once
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, data: bytes | Iterable[bytes]) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then move it into place in one step.

    The file gets the usual permissions (0o666 less the umask), not the 0o600
    of a temporary file.

    Parameters
    ----------
    path
        Destination.
    data
        The bytes, or an iterable of byte chunks.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    chunks = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
