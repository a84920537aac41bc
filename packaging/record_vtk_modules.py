"""Measure which VTK modules citytwin loads, to keep ``vtk_modules.RECORDED`` right after a VTK or pyvista update.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python packaging/record_vtk_modules.py --shared ../shared/data

In one interpreter it imports every citytwin module, runs CLI snapshots (every look
with the sun, thematic colours and overlays, a LAZ file, a latitude/longitude CityGML
file, each mesh format), a tour video, a sun study, sun hours and a conversion; then
opens the window on the sample district and a LAZ file and switches through every
look. It prints the ``vtkmodules.vtk*`` modules in ``sys.modules`` and how they differ
from :data:`vtk_modules.RECORDED`; exit status 1 when citytwin loads one that is not
kept. (``tests/packaging/test_vtk_modules.py`` checks the import part on every test run.)
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _loaded() -> set[str]:
    return {m.split(".", 1)[1] for m in sys.modules if m.startswith("vtkmodules.vtk")}


def cli_workload(shared: Path, out: Path) -> None:
    """The command-line paths: snapshots of every kind of file and look, video, sun hours, conversion."""
    from citytwin.cli import main
    from citytwin.model.looks import LOOKS
    from citytwin.sample import sample_path

    sample = str(sample_path())
    small = ["--size", "320x240"]
    runs = [["snapshot", sample, "-o", str(out / "look.png"), *small, "--look", look, "--sun", "2026-03-21T15:00"]
            for look in LOOKS]  # fmt: skip
    runs += [
        ["snapshot", sample, "-o", str(out / "c.png"), *small, "--colour-by", "measuredHeight", "--pin", "0,0,0,A",
         "--title", "T", "--legend", "--north-arrow", "--scale-bar"],
        ["snapshot", str(shared / "lidar" / "autzen_trim.laz"), "-o", str(out / "l.png"), *small],
        ["snapshot", str(shared / "citygml" / "53394517_bldg_6697_2_op_CityGML3.gml"), "-o", str(out / "g.png"),
         *small],
        ["render", sample, "--orbit", "--duration", "0.5", "--fps", "4", *small, "-o", str(out / "o.gif")],
        ["render", sample, "--sun-study", "2026-06-21", "--duration", "0.5", "--fps", "4", *small,
         "-o", str(out / "s.mp4")],
        ["sun-hours", sample, "--date", "2026-06-21", "--step", "120", "--grid", "10", *small,
         "-o", str(out / "h.png")],
        ["convert", sample, str(out / "x.gml"), "--force"],
    ]  # fmt: skip
    runs += [["snapshot", str(f), "-o", str(out / "m.png"), *small] for f in sorted((shared / "mesh").glob("*"))]
    for args in runs:
        t0 = time.perf_counter()
        rc = main(args)
        print(f"  {' '.join(args[:2])[:70]}: exit {rc}, {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def window_workload(shared: Path) -> None:
    """The window on the sample district and a LAZ file, every look applied and drawn."""
    from PySide6.QtWidgets import QMessageBox

    from citytwin.model.looks import LOOKS
    from citytwin.sample import sample_path
    from citytwin.ui.app import create_app
    from citytwin.ui.main_window import MainWindow

    app = create_app()

    def wait(condition, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not condition() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    window = MainWindow(paths=[str(sample_path()), str(shared / "lidar" / "autzen_trim.laz")])
    window.resize(800, 600)
    window.show()
    wait(lambda: window.first_frame_seconds is not None and not window.is_loading, 60)
    for name in LOOKS:
        window.looks.look_actions[name].trigger()
        wait(lambda: False, 1.2)  # let the view refine to final quality
    window.session.answers["unsaved"] = QMessageBox.StandardButton.Discard
    window.close()
    app.processEvents()


def main(argv: list[str] | None = None) -> int:
    """Run the workloads and report; returns 1 when citytwin loads a VTK module the bundle would drop."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data", help="the real data sets")
    args = ap.parse_args(argv)
    sys.path[:0] = [str(HERE), str(ROOT)]
    import vtk_modules

    import citytwin

    os.environ.setdefault("CITYTWIN_STATE_DIR", tempfile.mkdtemp(prefix="citytwin-record-"))
    for info in pkgutil.walk_packages(citytwin.__path__, "citytwin."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    stages = {"imports": _loaded()}
    with tempfile.TemporaryDirectory() as tmp:
        cli_workload(args.shared, Path(tmp))
    stages["command line"] = _loaded()
    window_workload(args.shared)
    stages["window"] = _loaded()
    before: set[str] = set()
    for stage, loaded in stages.items():
        print(f"{stage}: +{', '.join(sorted(loaded - before)) or 'nothing'}")
        before = loaded
    print(f"loaded {len(before)}: {sorted(before)}")
    extra, unused = sorted(before - vtk_modules.KEEP), sorted(vtk_modules.RECORDED - before)
    print(f"not kept (add to RECORDED): {extra or 'none'}")
    print(f"kept but not loaded here: {unused or 'none'}")
    return 1 if extra else 0


if __name__ == "__main__":
    raise SystemExit(main())
