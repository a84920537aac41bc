"""Build citytwin's installers for this operating system into ``dist/`` (``make package``).

    .venv/bin/python packaging/build.py [--skip-bundle]

1. PyInstaller builds the onedir bundle ``dist/citytwin/`` from ``packaging/citytwin.spec``
   (work files in ``build/pyinstaller``, its log in ``build/pyinstaller.log``).
2. Linux: ``dist/citytwin_<version>_amd64.deb`` and ``dist/citytwin-<version>-linux-x86_64.tar.xz``
   (:mod:`linux_packages`). Windows and macOS: the next step is named (NSIS script,
   ``packaging/macos/make_dmg.sh``); neither can be built on Linux.

The version is pyproject.toml's ``[project] version``; the build stops with one sentence
when the installed citytwin metadata (which the bundle carries) says otherwise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUILD = ROOT / "build"
SPEC = ROOT / "packaging" / "citytwin.spec"
BUNDLE = DIST / "citytwin"


class BuildError(RuntimeError):
    """A build step failed; the message is one sentence for the person building."""


def pyproject_version(root: Path = ROOT) -> str:
    """``[project] version`` of ``root/pyproject.toml``, the one place citytwin's version is written."""
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return str(version)


def check_metadata(expected: str) -> None:
    """Stop when the installed citytwin metadata, which the bundle copies, is not ``expected``.

    Raises
    ------
    BuildError
        When citytwin is not installed in this Python, or its metadata is stale.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("citytwin")
    except PackageNotFoundError:
        raise BuildError(
            f"citytwin is not installed in {sys.executable}; the bundle needs its metadata "
            "(run 'make package', or 'pip install -e .[package]')."
        ) from None
    if found != expected:
        raise BuildError(
            f"The installed citytwin metadata says {found} but pyproject.toml says {expected}; "
            "reinstall it ('pip install -e .[package]') so that the bundle reports the right version."
        )


def run_pyinstaller(log: Path = BUILD / "pyinstaller.log") -> float:
    """Run PyInstaller on the spec into ``dist/citytwin``; returns the seconds it took.

    Raises
    ------
    BuildError
        When PyInstaller fails (the last lines of its log are in the message).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(DIST), "--workpath", str(BUILD / "pyinstaller"), str(SPEC)]  # fmt: skip
    t0 = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:])
        raise BuildError(f"PyInstaller failed (exit {rc}; the whole log is {log}): {tail}")
    if not (BUNDLE / ("citytwin.exe" if sys.platform == "win32" else "citytwin")).exists():
        raise BuildError(f"PyInstaller finished but {BUNDLE} holds no citytwin program.")
    return time.perf_counter() - t0


def build_nsis(version: str) -> str:
    """Windows: the NSIS installer when ``makensis`` is on PATH (with an .ico made by Pillow); else what to run."""
    import shutil

    defines = [f"/DVERSION={version}"]
    try:
        from PIL import Image

        ico = BUILD / "citytwin.ico"
        Image.open(ROOT / "assets" / "citytwin.png").save(ico, sizes=[(16, 16), (32, 32), (48, 48), (256, 256)])
        defines.append(f"/DICON={ico.relative_to(ROOT)}")
    except ImportError:
        pass
    script = ROOT / "packaging" / "windows" / "citytwin.nsi"
    if shutil.which("makensis") is None:
        return f"makensis is not installed; install NSIS 3 and run: makensis {' '.join(defines)} {script}"
    if subprocess.run(["makensis", *defines, str(script)], cwd=ROOT).returncode != 0:
        raise BuildError("makensis failed (its output is above).")
    return f"dist/citytwin-{version}-windows-x64-setup.exe"


def main(argv: list[str] | None = None) -> int:
    """Build the bundle and this platform's installers; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-bundle", action="store_true", help="reuse dist/citytwin (only make the installers)")
    args = ap.parse_args(argv)
    try:
        version = pyproject_version()
        check_metadata(version)
        if not args.skip_bundle:
            print(f"build: PyInstaller bundle of citytwin {version} (log in build/pyinstaller.log)", flush=True)
            print(f"build: dist/citytwin in {run_pyinstaller():.0f} s", flush=True)
        elif not BUNDLE.is_dir():
            raise BuildError(f"--skip-bundle, but there is no {BUNDLE} to reuse.")
        if sys.platform.startswith("linux"):
            import linux_packages

            for path in linux_packages.build_all(BUNDLE, version, DIST, BUILD):
                print(f"build: {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
        elif sys.platform == "win32":
            print(f"build: {build_nsis(version)}", flush=True)
        elif sys.platform == "darwin":
            print("build: dist/citytwin.app is ready; run packaging/macos/make_dmg.sh for the disk image")
    except BuildError as exc:
        print(f"build: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
