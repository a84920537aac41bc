"""The Linux installers made from the onedir bundle: a ``.deb`` (dpkg-deb) and a ``.tar.xz``.

The ``.deb`` installs the bundle to ``/opt/citytwin`` with ``/usr/bin/citytwin`` linking
to it, the desktop entry, the MIME types (``packaging/linux/citytwin-mime.xml``) and the
icon in hicolor; postinst/postrm refresh the desktop, MIME and icon caches. The
``.tar.xz`` holds the same bundle with the desktop files under ``share/`` and
``install-desktop-entry.sh``, which registers them for one user.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DEPENDS", "RECOMMENDS", "build_all", "build_deb", "build_tarball", "control_text", "glibc_needed"]

LINUX = Path(__file__).resolve().parent / "linux"
ASSETS = Path(__file__).resolve().parents[1] / "assets"
MAINTAINER = "citytwin developers <citytwin@users.noreply.invalid>"
ARCH = "amd64"

#: What the bundle takes from the system: OpenGL/EGL (never bundled: it must match the machine's drivers),
#: what Qt's xcb platform plugin needs (the list in .ci/run), fonts, D-Bus, the C/C++ runtimes and expat
#: (trim.SYSTEM_ONLY).
DEPENDS: tuple[str, ...] = (
    "libgl1", "libegl1", "libglx-mesa0 | libglx-vendor", "libgl1-mesa-dri", "libdrm2",
    "libx11-6", "libx11-xcb1", "libxcb1", "libxkbcommon0", "libxkbcommon-x11-0",
    "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
    "libxcb-xinerama0", "libxcb-shape0", "libxcb-randr0", "libxcb-xkb1", "libxcb-xfixes0", "libxcb-render0",
    "libxcb-shm0", "libxcb-sync1", "libxcb-util1",
    "libfontconfig1", "libfreetype6", "libdbus-1-3", "libstdc++6", "libgcc-s1", "libexpat1",
)  # fmt: skip
#: Wayland sessions (Qt's wayland plugin) and the desktop-integration tools postinst calls.
RECOMMENDS: tuple[str, ...] = (
    "libwayland-client0", "libwayland-cursor0", "libwayland-egl1", "shared-mime-info", "desktop-file-utils",
)  # fmt: skip

DESCRIPTION = """\
3D city model viewer for CityGML, CityJSON, LiDAR and meshes
 citytwin opens a city's CityGML, CityJSON, LAS/LAZ and mesh files and shows
 them at once: switch layers, inspect buildings, search, colour by attribute,
 place pins, and export stills and videos (camera tours, sun studies). The
 command line (citytwin info, snapshot, render, convert) works without a
 window. This package is self-contained (Python, Qt and VTK included)."""


def _elf_files(root: Path) -> Iterable[Path]:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    yield path


def glibc_needed(bundle: Path) -> str:
    """The newest ``GLIBC_x.y`` symbol version any binary of the bundle asks for (e.g. ``"2.34"``)."""
    best = (2, 17)
    pattern = re.compile(rb"GLIBC_2\.(\d+)(?:\.(\d+))?\x00")
    for path in _elf_files(bundle):
        for m in pattern.finditer(path.read_bytes()):
            best = max(best, (2, int(m.group(1))))
    return f"{best[0]}.{best[1]}"


def _tree_kib(root: Path) -> int:
    """Installed-Size: KiB of the files, each rounded up, as dpkg counts them."""
    total = 0
    for path in root.rglob("*"):
        if path.is_symlink() or path.is_dir():
            total += 1
        elif path.is_file():
            total += -(-path.stat().st_size // 1024)
    return total


def control_text(version: str, installed_kib: int, glibc: str) -> str:
    """The ``DEBIAN/control`` file of the citytwin package.

    Parameters
    ----------
    version
        citytwin's version (pyproject).
    installed_kib
        Installed-Size in KiB.
    glibc
        The oldest glibc the bundle runs on (:func:`glibc_needed`).

    Returns
    -------
    str
        The control file, ending with a newline.
    """
    fields = {
        "Package": "citytwin",
        "Version": version,
        "Architecture": ARCH,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join((f"libc6 (>= {glibc})", *DEPENDS)),
        "Recommends": ", ".join(RECOMMENDS),
        "Section": "graphics",
        "Priority": "optional",
        "Description": DESCRIPTION,
    }
    return "".join(f"{k}: {v}\n" for k, v in fields.items())


def _copy_desktop_files(share: Path) -> None:
    """Desktop entry, MIME types and icons under ``share`` (``usr/share`` or the tarball's ``share``)."""
    (share / "applications").mkdir(parents=True, exist_ok=True)
    shutil.copy2(LINUX / "citytwin.desktop", share / "applications" / "citytwin.desktop")
    (share / "mime" / "packages").mkdir(parents=True, exist_ok=True)
    shutil.copy2(LINUX / "citytwin-mime.xml", share / "mime" / "packages" / "citytwin.xml")
    for sub, name in (("256x256", "citytwin.png"), ("scalable", "citytwin.svg")):
        folder = share / "icons" / "hicolor" / sub / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ASSETS / name, folder / name)


def _normalise_modes(root: Path) -> None:
    """Folders 755, executables 755, other files 644 (whatever the builder's umask was)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)


def build_deb(bundle: Path, version: str, dist: Path, work: Path) -> Path:
    """Build ``dist/citytwin_<version>_amd64.deb`` from ``bundle`` (staged in ``work/deb``).

    Returns
    -------
    Path
        The package.
    """
    stage = work / "deb"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(bundle, stage / "opt" / "citytwin", symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    os.symlink("/opt/citytwin/citytwin", stage / "usr" / "bin" / "citytwin")
    _copy_desktop_files(stage / "usr" / "share")
    doc = stage / "usr" / "share" / "doc" / "citytwin"
    doc.mkdir(parents=True)
    shutil.copy2(ASSETS.parent / "LICENSE", doc / "copyright")
    _normalise_modes(stage)
    installed_kib = _tree_kib(stage)
    debian = stage / "DEBIAN"
    debian.mkdir()
    for script in ("postinst", "postrm"):
        shutil.copy2(LINUX / script, debian / script)
        (debian / script).chmod(0o755)
    (debian / "control").write_text(control_text(version, installed_kib, glibc_needed(bundle)))
    out = dist / f"citytwin_{version}_{ARCH}.deb"
    out.unlink(missing_ok=True)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "-z9", "--build", str(stage), str(out)],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    shutil.rmtree(stage, ignore_errors=True)
    return out


def build_tarball(bundle: Path, version: str, dist: Path, work: Path) -> Path:
    """Build ``dist/citytwin-<version>-linux-x86_64.tar.xz``: the bundle, ``share/`` and the user installer.

    Returns
    -------
    Path
        The archive.
    """
    name = f"citytwin-{version}-linux-x86_64"
    stage = work / "tar" / name
    shutil.rmtree(stage.parent, ignore_errors=True)
    shutil.copytree(bundle, stage, symlinks=True)
    _copy_desktop_files(stage / "share")
    shutil.copy2(LINUX / "install-desktop-entry.sh", stage / "install-desktop-entry.sh")
    _normalise_modes(stage)
    out = dist / f"{name}.tar.xz"
    out.unlink(missing_ok=True)
    env = {**os.environ, "XZ_OPT": "-9 -T0"}
    subprocess.run(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-cJf", str(out),
                    "-C", str(stage.parent), name], check=True, env=env)  # fmt: skip
    shutil.rmtree(stage.parent, ignore_errors=True)
    return out


def build_all(bundle: Path, version: str, dist: Path, work: Path) -> list[Path]:
    """Both Linux installers, ``.deb`` first."""
    return [build_deb(bundle, version, dist, work), build_tarball(bundle, version, dist, work)]
