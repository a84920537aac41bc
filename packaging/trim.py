"""What the citytwin bundle leaves out besides VTK modules: Qt parts it never uses on Linux.

``packaging/citytwin.spec`` filters PyInstaller's lists of collected files through
:func:`drop_unused`. Patterns are matched against the destination path inside the
bundle (``PySide6/Qt/plugins/...``), with ``/`` as separator on every platform.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

__all__ = ["QT_UNUSED", "SYSTEM_ONLY", "STRIPPED", "drop_orphans", "drop_unused", "strip_copies"]

#: Bundle destinations (prefixes) whose libraries are stripped of their symbol tables: VTK's (its wheel ships
#: them unstripped: -91 MB) and the Python interpreter's own (libpython and lib-dynload as this Python was
#: built: -20 MB). Never what auditwheel patched with patchelf (the ``*.libs`` folders and the extension
#: modules of numpy, Pillow, pyproj …): strip breaks those ("ELF load command address/offset not page-aligned").
STRIPPED: tuple[str, ...] = ("vtkmodules/", "libpython", "python3.11/lib-dynload/", "lib-dynload/")

#: (pattern, why) of Qt files the bundle leaves out.
QT_UNUSED: tuple[tuple[str, str], ...] = (
    (r"^PySide6/Qt/translations/", "citytwin installs no QTranslator: its texts and Qt's dialogs are in English"),
    (r"^PySide6/Qt/plugins/platformthemes/libqgtk3\.", "GTK 3 theme: needs GTK, which citytwin does not depend on"),
    (r"^PySide6/Qt/plugins/egldeviceintegrations/", "EGLFS (full-screen on embedded boards without X or Wayland)"),
    (r"^PySide6/Qt/plugins/platforms/libq(eglfs|linuxfb|vnc|vkkhrdisplay|minimalegl)\.", "embedded platforms"),
    (r"^PySide6/Qt/plugins/generic/", "evdev/tuio input for embedded platforms"),
    (r"^PySide6/Qt/plugins/networkinformation/", "network status: citytwin does not use the network"),
    (r"^PySide6/Qt/plugins/tls/", "TLS backends: citytwin does not use the network"),
)


#: Libraries the system must provide (the .deb depends on them), which PyInstaller would otherwise copy from
#: the build machine. glibc's vector maths (ffmpeg links to it) uses GLIBC_PRIVATE symbols, so a copy beside
#: another machine's libc fails to load. The C++ runtime is loaded into the process by the system's Mesa
#: drivers too, which on a newer distribution need a newer one than the build machine's ("GLIBCXX_3.4.30 not
#: found" and no OpenGL); the system's is never older than the build machine's, given the libc6 dependency.
#: Python's XML module (pyexpat) links to the system's expat: Debian 12's asks for glibc 2.36, the only library
#: that does, so that bundling it would shut out Ubuntu 22.04 (glibc 2.35) for no gain.
SYSTEM_ONLY: tuple[tuple[str, str], ...] = (
    (r"^libmvec\.so", "glibc's vector maths: libc6"),
    (r"^libexpat\.so", "XML parsing for Python's pyexpat: libexpat1"),
    (r"^libstdc\+\+\.so", "the C++ runtime: libstdc++6, which Mesa's drivers share"),
    (r"^libgcc_s\.so", "the GCC runtime: libgcc-s1"),
)


def _dest(entry: Sequence[str]) -> str:
    return str(entry[0]).replace("\\", "/")


def drop_unused(toc: Iterable[Sequence[str]], rules: Iterable[tuple[str, str]] = QT_UNUSED) -> list:
    """``toc`` without the entries whose destination matches one of ``rules``.

    Parameters
    ----------
    toc
        PyInstaller TOC entries ``(dest_name, src_name, typecode)``.
    rules
        ``(regular expression, reason)`` pairs.

    Returns
    -------
    list
        The kept entries, in their order.
    """
    patterns = [re.compile(p) for p, _why in rules]
    return [e for e in toc if not any(p.search(_dest(e)) for p in patterns)]


def _is_python_module(name: str) -> bool:
    return ".cpython-" in name or ".abi3." in name or "__mypyc" in name or name.startswith("libpython")


def drop_orphans(binaries: Iterable[Sequence[str]], imports_of: Callable[[str], Iterable[str]]) -> tuple[list, list]:
    """Drop the top-level shared libraries that nothing left in the bundle links to.

    After :func:`drop_unused` removed plugins, the libraries collected only for them
    (the GTK stack of the GTK theme, for instance) are no longer needed. Only plain
    libraries in the bundle's top folder are candidates; Python extension modules
    and libpython are always kept.

    Parameters
    ----------
    binaries
        PyInstaller TOC entries of binaries ``(dest_name, src_name, typecode)``.
    imports_of
        The library names a binary links to, from its source path (PyInstaller's
        ``bindepend.get_imports`` wrapped to return names).

    Returns
    -------
    (list, list)
        The kept entries and the dropped destination names.
    """
    entries = list(binaries)
    top = {_dest(e): e for e in entries if "/" not in _dest(e) and not _is_python_module(_dest(e))}
    roots = [e for e in entries if _dest(e) not in top]
    reached: set[str] = set()
    stack = [str(e[1]) for e in roots]
    while stack:
        for name in imports_of(stack.pop()):
            if name in top and name not in reached:
                reached.add(name)
                stack.append(str(top[name][1]))
    dropped = sorted(set(top) - reached)
    return [e for e in entries if _dest(e) not in dropped], dropped


def strip_copies(binaries: Iterable[Sequence[str]], work: Path, prefixes: Sequence[str] = STRIPPED) -> tuple[list, int]:
    """Replace the libraries under ``prefixes`` by copies without symbol tables (``strip --strip-unneeded``).

    Parameters
    ----------
    binaries
        PyInstaller TOC entries ``(dest_name, src_name, typecode)``.
    work
        Folder for the stripped copies (under PyInstaller's work path).
    prefixes
        Destination folders to strip (default :data:`STRIPPED`).

    Returns
    -------
    (list, int)
        The entries, those stripped pointing at their copies, and the bytes saved. Without a ``strip``
        program nothing changes.
    """
    tool = shutil.which("strip")
    out, saved = [], 0
    for entry in binaries:
        dest, src, kind = _dest(entry), str(entry[1]), entry[2]
        if tool and dest.startswith(tuple(prefixes)) and ".so" in dest:
            copy = work / dest
            copy.parent.mkdir(parents=True, exist_ok=True)
            if not copy.is_file() or copy.stat().st_mtime < Path(src).stat().st_mtime:
                shutil.copy2(src, copy)
                subprocess.run([tool, "--strip-unneeded", str(copy)], check=True)
            saved += Path(src).stat().st_size - copy.stat().st_size
            entry = (entry[0], str(copy), kind)
        out.append(entry)
    return out, saved
