"""``make package-test``: build (or reuse) the Linux installers, unpack the .deb and try the frozen app.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python packaging/package_test.py --shared ../shared/data

Every check prints one line, PASS or FAIL with a sentence saying what went wrong;
the exit status is 1 when any check failed (``--strict``: also when a size or start-up
target is missed). The figures go to ``bench/out/package.json`` and to the Packaging
section of bench/RESULTS.md. Not part of ``make test``: building takes minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import frozen_checks as fc  # noqa: E402

from citytwin._version import from_pyproject  # noqa: E402

#: Inputs whose change makes dist/ out of date (the checks themselves are not among them).
_SOURCES = ("citytwin", "assets", "pyproject.toml", "LICENSE") + tuple(
    f"packaging/{name}" for name in ("citytwin.spec", "entry.py", "bundle_check.py", "vtk_modules.py", "trim.py",
                                     "rthooks", "linux", "linux_packages.py", "build.py")
)  # fmt: skip
#: Real data the checks open (relative to --shared).
CITYGML = "citygml/DenHaag_01.xml"
CITYGML_LATLON = "citygml/53394517_bldg_6697_2_op_CityGML3.gml"  # EPSG:6697 (latitude, longitude): reprojected
CITYJSON = "cityjson/delft.json"
LAZ = "lidar/autzen_trim.laz"


class Report:
    """The checks that ran, each PASS or FAIL with a sentence."""

    def __init__(self) -> None:
        self.checks: list[dict[str, Any]] = []

    def run(self, name: str, fn: Callable[[], str | None]) -> bool:
        """Run one check; ``fn`` returns a note or raises :class:`frozen_checks.CheckFailed`."""
        t0 = time.perf_counter()
        try:
            note, ok = fn() or "", True
        except fc.CheckFailed as exc:
            note, ok = str(exc), False
        except Exception as exc:  # a check that crashed failed, with its reason
            note, ok = f"the check itself failed: {type(exc).__name__}: {exc}", False
        seconds = time.perf_counter() - t0
        self.checks.append({"name": name, "ok": ok, "detail": note, "seconds": round(seconds, 2)})
        print(f"{'PASS' if ok else 'FAIL'}  {name} ({seconds:.1f} s){': ' + note if note else ''}", flush=True)
        return ok

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The checks that failed."""
        return [c for c in self.checks if not c["ok"]]


def _newest_source() -> float:
    newest = 0.0
    for name in _SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else path.rglob("*")
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file() and "__pycache__" not in f.parts)])
    return newest


def ensure_packages(version: str, rebuild: bool) -> tuple[Path, Path]:
    """The .deb and .tar.xz in dist/, built first when missing, older than the sources, or ``rebuild``."""
    deb = ROOT / "dist" / f"citytwin_{version}_amd64.deb"
    tar = ROOT / "dist" / f"citytwin-{version}-linux-x86_64.tar.xz"
    stale = [p for p in (deb, tar) if not p.is_file() or p.stat().st_mtime < _newest_source()]
    if rebuild or stale:
        why = "--rebuild" if rebuild else f"{stale[0].name} is missing or older than the sources"
        print(f"package-test: building the packages ({why})", flush=True)
        subprocess.run([sys.executable, str(HERE / "build.py")], cwd=ROOT, check=True)
    else:
        print(f"package-test: reusing {deb.name} and {tar.name} (newer than every source)", flush=True)
    return deb, tar


def measure_sizes(root: Path, deb: Path, tar: Path) -> dict[str, Any]:
    """Installed size (disk usage of the unpacked .deb), download sizes and what the bundle is made of."""
    internal = root / "opt" / "citytwin" / "_internal"
    breakdown: dict[str, int] = {}
    other = 0
    for entry in internal.iterdir():
        size = fc.disk_usage(entry)
        if size >= 5_000_000:
            breakdown[entry.name] = size
        else:
            other += size
    breakdown["everything else"] = other
    return {
        "installed_bytes": fc.disk_usage(root),
        "installed_apparent_bytes": fc.apparent_size(root),
        "deb_bytes": deb.stat().st_size,
        "tar_xz_bytes": tar.stat().st_size,
        "breakdown": breakdown,
    }


def write_figures(fig: dict[str, Any]) -> None:
    """bench/out/package.json and the Packaging section of bench/RESULTS.md."""
    from bench import bench_package

    bench_package.FIGURES.parent.mkdir(parents=True, exist_ok=True)
    bench_package.FIGURES.write_text(json.dumps(fig, indent=1))
    res = bench_package.result(fig)
    written = bench_package.update_results(res)
    print(f"package-test: wrote {bench_package.FIGURES.relative_to(ROOT)}"
          + (" and the Packaging section of bench/RESULTS.md" if written else ""))  # fmt: skip
    for t in res["targets"]:
        print(f"  target: {t['target']}: {t['measured']} → {'met' if t['pass'] else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    """Run every check; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data", help="the real data sets")
    ap.add_argument("--rebuild", action="store_true", help="build the packages even when dist/ is up to date")
    ap.add_argument("--strict", action="store_true", help="also fail when a size or start-up target is missed")
    ap.add_argument("--starts", type=int, default=3, help="cold start runs (the first with the bundle evicted)")
    args = ap.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("package-test: the package test runs on Linux (it unpacks the .deb).", file=sys.stderr)
        return 1
    if not args.shared.is_dir():
        print(f"package-test: the real data folder {args.shared} is missing (pass --shared).", file=sys.stderr)
        return 1
    if not os.environ.get("DISPLAY"):
        print("package-test: no X display; run it under xvfb-run (make package-test does).", file=sys.stderr)
        return 1
    version = from_pyproject(ROOT / "pyproject.toml")
    deb, tar = ensure_packages(version, args.rebuild)
    work = ROOT / "build" / "package-test"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    root = work / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    app = fc.FrozenApp(root / "opt" / "citytwin" / "citytwin", work)
    shared = args.shared.resolve()
    data = {name: shared / name for name in (CITYGML, CITYGML_LATLON, CITYJSON, LAZ)}
    missing = [str(p) for p in data.values() if not p.is_file()]
    if missing:
        print(f"package-test: real data files are missing: {', '.join(missing)}.", file=sys.stderr)
        return 1
    sample = root / "opt" / "citytwin" / "_internal" / "assets" / "sample_district.city.json"

    r = Report()
    r.run("the .deb declares what Qt and VTK need from the system", lambda: fc.check_control(deb, ROOT / ".ci/run"))
    r.run("the .deb's files are in place (/opt/citytwin, /usr/bin link, desktop entry, MIME, icons)",
          lambda: fc.check_layout(root))  # fmt: skip
    r.run("postinst and postrm refresh the desktop and MIME databases", lambda: fc.check_scripts(deb, work))
    r.run("the desktop entry is valid and names every MIME type", lambda: fc.check_desktop(root))
    r.run("the MIME types map .gml, .city.json, .city.jsonl, .las, .laz and .citytwin",
          lambda: fc.check_mime(root, work / "mime"))  # fmt: skip
    r.run("every library in the bundle finds its dependencies; the C and C++ runtimes are the system's",
          lambda: fc.check_libraries(root / "opt" / "citytwin"))  # fmt: skip
    r.run(f"citytwin --version says {version} (pyproject)", lambda: app.check_version(version))
    r.run("bundle self-check: the VTK classes citytwin needs, PROJ with the bundled proj.db, readers, metadata",
          lambda: app.check_bundle(root))  # fmt: skip
    r.run("runs through a symbolic link, as /usr/bin/citytwin", lambda: app.check_symlink(version))
    r.run("snapshot of the bundled sample district: not blank, the same as the source checkout's",
          lambda: app.check_snapshot([sample], "sample"))  # fmt: skip
    r.run(f"snapshot of {Path(CITYGML).name} (CityGML): not blank, the same as the source checkout's",
          lambda: app.check_snapshot([data[CITYGML]], "citygml"))  # fmt: skip
    r.run(f"reprojection: snapshot of {Path(CITYGML_LATLON).name} (EPSG:6697 latitude/longitude, drawn in UTM)",
          lambda: app.check_snapshot([data[CITYGML_LATLON]], "latlon"))  # fmt: skip
    r.run("snapshot without any X display (EGL)", lambda: app.check_snapshot([sample], "egl", headless=True))
    r.run("the sun at 15:00 local time (time zone from the bundled timezonefinder data)",
          lambda: app.check_snapshot([sample], "sun", extra=("--sun", "2026-06-21T15:00")))  # fmt: skip
    r.run("a short MP4 tour video with the bundled ffmpeg", lambda: app.check_video(sample))
    for name in (CITYGML, CITYJSON, LAZ):
        r.run(f"info --json {Path(name).name}: the frozen app says what the source checkout says",
              lambda name=name: app.check_info(data[name]))  # fmt: skip
    r.run(f"the window opens {Path(CITYGML).name} given on the command line (as a double-click does)",
          lambda: app.check_window([data[CITYGML]]))  # fmt: skip
    r.run("the window opens a .citytwin project given on the command line",
          lambda: app.check_window([fc.make_project(work / "desktop.citytwin", sample)]))  # fmt: skip
    cold: dict[str, Any] = {}
    r.run(f"cold start to the first frame of the sample ({args.starts} starts)",
          lambda: app.measure_cold_start(args.starts, cold))  # fmt: skip
    r.run("the .tar.xz unpacks to a bundle that runs and registers its desktop entry for one user",
          lambda: fc.check_tarball(tar, work / "tar", version))  # fmt: skip

    import vtk_modules

    fig = {
        "version": version,
        "measured": dt.datetime.now(dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y"),
        "machine": f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, software OpenGL (Xvfb)",
        **measure_sizes(root, deb, tar),
        "cold_start_s": cold,
        "vtk_modules_kept": len(vtk_modules.KEEP),
        "vtk_modules_available": len(vtk_modules.available_modules()),
        "checks": r.checks,
    }
    write_figures(fig)
    from bench.bench_package import targets

    missed = [t for t in targets(fig) if t["pass"] is False]
    print(f"package-test: {len(r.checks) - len(r.failed)} of {len(r.checks)} checks passed"
          + (f"; {len(missed)} target(s) missed" if missed else "; every target met"))  # fmt: skip
    for c in r.failed:
        print(f"FAILED: {c['name']}: {c['detail']}", file=sys.stderr)
    return 1 if r.failed or (args.strict and missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
