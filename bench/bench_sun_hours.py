"""Sun hours: hours of direct sun for one day on DenHaag_01, ground on a 2 m grid and facades.

The scene is ``citygml/DenHaag_01.xml`` (RD New, about 790 × 670 m, 41,000 triangles) read as the
window reads it. :func:`citytwin.render.sun_hours.sun_hours` counts the hours of direct sun on
21 March in 15-minute steps (each step with the sun above the horizon is one shadow map rendered
off screen along the sun's rays; GLX under Xvfb when there is a display, else EGL; software GL
here) for the ground grid and for points on the walls, about one per 4 m².

Reported: the whole computation (the figure with the target), and its parts: setting up (the depth
maps of the ground heights, facade sampling, sun positions) and the time steps.

The measuring runs in a child interpreter (``--child``) so the parent of ``bench.run_all``
imports neither VTK nor citytwin.

    python -m bench.bench_sun_hours --shared ../shared/data [--grid 2] [--step 15] [--repeat 1]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import run_child, standalone, table, verdict

NAME = "sun_hours"
TITLE = "Sun hours: DenHaag_01, 2 m grid, one day in 15-minute steps"
MARK = "@@BENCH_SUN_HOURS@@"
FILE = "citygml/DenHaag_01.xml"
DAY = "2026-03-21"
#: seconds for the whole day on this 2-core machine
TARGET = 60.0


# --------------------------------------------------------------------- child
def child(opts: dict[str, Any]) -> dict[str, Any]:
    import warnings
    from datetime import date

    import numpy as np

    from citytwin.io import read
    from citytwin.model.sun import scene_lonlat
    from citytwin.render.sun_hours import sun_hours

    warnings.filterwarnings("ignore", message="Leap seconds")
    path = Path(opts["shared"]) / FILE
    t = time.perf_counter()
    model = read(path)
    read_s = time.perf_counter() - t
    day = date.fromisoformat(DAY)
    grid, step = float(opts["grid"]), float(opts["step"])
    runs: list[dict[str, Any]] = []
    result = None
    for _ in range(int(opts["repeat"])):
        stamps: list[float] = []
        t0, c0 = time.perf_counter(), time.process_time()
        result = sun_hours(
            model, day, grid=grid, step_minutes=step, progress=lambda i, n, s=stamps: s.append(time.perf_counter())
        )
        total = time.perf_counter() - t0
        cpu = time.process_time() - c0
        steps = np.diff([t0, *stamps])
        runs.append(
            {
                "total_s": total,
                "cpu_s": cpu,
                # the first progress call comes after the set-up and the first step
                "setup_s": float(steps[0] - np.median(steps[1:])) if len(steps) > 1 else float(steps[0]),
                "step_s": float(np.median(steps[1:])) if len(steps) > 1 else 0.0,
                "steps": len(stamps),
            }
        )
    assert result is not None
    lon, lat = scene_lonlat(model)
    gh = result.ground_hours
    return {
        "file": FILE,
        "triangles": int(model.mesh.n_triangles),
        "bounds": [float(v) for v in model.bounds],
        "lonlat": [lon, lat],
        "grid": grid,
        "step_minutes": step,
        "read_s": read_s,
        "runs": runs,
        "ground_points": int(result.n_ground),
        "grid_shape": list(result.grid_shape),
        "facade_points": int(len(result.facade_points)),
        "day_length_h": result.day_length,
        "ground_mean_h": float(gh[~result.covered].mean()) if (~result.covered).any() else float("nan"),
        "ground_full_sun": float((gh[~result.covered] >= result.day_length - 1e-9).mean()),
        "facade_mean_h": float(result.facade_hours.mean()) if len(result.facade_points) else float("nan"),
    }


# -------------------------------------------------------------------- parent
def run(shared: Path, grid: float = 2.0, step: float = 15.0, repeat: int = 1, log=print) -> dict[str, Any]:

    opts = {"shared": str(shared), "grid": grid, "step": step, "repeat": repeat}
    log(f"[sun_hours] {FILE}, {grid:g} m grid, {DAY} every {step:g} min, {repeat} run(s)")
    return _report(run_child("bench.bench_sun_hours", MARK, opts, timeout=1800))


def _report(d: dict[str, Any]) -> dict[str, Any]:
    med = {k: statistics.median(r[k] for r in d["runs"]) for k in ("total_s", "cpu_s", "setup_s", "step_s")}
    b = d["bounds"]
    targets = [
        {
            "target": f"sun hours of DenHaag_01, {d['grid']:g} m grid, one day in {d['step_minutes']:g}-minute steps "
            f"≤ {TARGET:.0f} s",
            "measured": f"{med['total_s']:.1f} s",
            "pass": med["total_s"] <= TARGET,
        }
    ]
    rows = [
        [
            "scene",
            f"{d['file']}, {d['triangles']:,} triangles, {b[3] - b[0]:.0f} × {b[4] - b[1]:.0f} m, "
            f"lon {d['lonlat'][0]:.3f} lat {d['lonlat'][1]:.3f}",
        ],
        ["day", f"{DAY}: {d['runs'][0]['steps']} steps with the sun up ({d['day_length_h']:.2f} h)"],
        [
            "sample points",
            f"{d['ground_points']:,} ground ({d['grid_shape'][1]} × {d['grid_shape'][0]}) + "
            f"{d['facade_points']:,} facade",
        ],
        ["whole computation (median of runs)", f"{med['total_s']:.1f} s (CPU {med['cpu_s']:.1f} s, all threads)"],
        ["set-up: ground heights, facade points, sun positions", f"{med['setup_s']:.2f} s"],
        ["one time step: shadow map + test of every point", f"{med['step_s'] * 1000:.0f} ms"],
        ["reading the file (not counted)", f"{d['read_s']:.2f} s"],
        [
            "result",
            f"open ground {d['ground_mean_h']:.2f} h on average, {d['ground_full_sun']:.0%} of it sunny all day; "
            f"facades {d['facade_mean_h']:.2f} h on average",
        ],
    ]
    md = [
        table(["target", "measured", "result"], [[t["target"], t["measured"], verdict(t["pass"])] for t in targets]),
        "",
        table(["measurement", "value"], rows),
        "",
        "Method: one orthographic depth map a time step, rendered by VTK off screen along the sun's rays "
        "(0.5 m pixels), every sample point transformed into that view with numpy and compared with the depth "
        "there; points are pushed off their surface by 1.5 pixels along its normal so that no surface shadows "
        "itself. Ground heights come from one more depth map looking up from below.",
    ]
    return {"name": NAME, "title": TITLE, "targets": targets, "markdown": "\n".join(md), "data": d}


def main(argv: list[str] | None = None) -> int:
    def extra(ap) -> None:
        ap.add_argument("--grid", type=float, default=None, help="ground grid in metres (default 2)")
        ap.add_argument("--step", type=float, default=None, help="time step in minutes (default 15)")

    return standalone(run, argv, extra, child=child, mark=MARK)


if __name__ == "__main__":
    sys.exit(main())
