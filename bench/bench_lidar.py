"""LiDAR: citytwin's LAS/LAZ reader against a bare ``laspy.read``, and a 100-million-point file under a budget.

(a) ``citytwin.io.read`` of ``lidar/ahn3_cropped_1.laz`` (640,510 points) and of an
    uncompressed LAS copy of it, up to display-ready arrays (float32 points relative
    to a local origin, per-point class colours), against ``laspy.read`` of the same
    file, alternating in the same run. Target: ≤ 1.3× laspy's time.
(b) A LAS file of 100 million points made by tiling the AHN3 tile on a grid (written
    once to the work folder with laspy's chunked writer, one x/y offset per tile; not
    timed) opened through the default point budget (5 M points): read (which also
    counts every point's class, checked against the tiling) plus the display arrays,
    and, apart, the viewer's ``PointCloudVisual`` of the kept points. Targets: first
    view in under 10 s; peak RSS bounded (under 1 GiB for a ~2.8 GB file).

Each measurement is a fresh interpreter (this module run with ``--task``), imports
before the clock, peak RSS from ``VmHWM``, like ``bench/_worker.py``.

    python -m bench.bench_lidar --shared ../shared/data [--repeat 3] [--big-points 100000000]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._worker import MARK, peak_rss_mb
from bench.common import DEFAULT_WORK, ROOT, fmt_mb, fmt_s, standalone, table, verdict

NAME = "lidar"
TITLE = "LiDAR: citytwin vs laspy, and a 100 M point file under a budget"
SOURCE = "lidar/ahn3_cropped_1.laz"
BIG_POINTS = 100_000_000
BUDGET = 5_000_000
RATIO_TARGET = 1.3
FIRST_VIEW_TARGET_S = 10.0
BIG_PEAK_TARGET_MB = 1024.0


# --------------------------------------------------------------------------- worker side
def _display_arrays(cloud) -> dict[str, Any]:
    """What a point-cloud visual draws, built as ``citytwin/render/pointcloud_visual.py`` builds it.

    Float32 points about a local origin (straight from the undecoded integer
    records) and the default colouring as RGBA (the file's colours, else class
    colours looked up from the records' class byte), in the visual's own buffers.
    """
    import numpy as np

    from citytwin.render.pointcloud_visual import classification_rgba, display_buffers

    b = cloud.bounds
    origin = np.floor((b[:3] + b[3:]) / 2) if np.isfinite(b).all() else np.zeros(3)
    points, colours = display_buffers(cloud, origin)
    if cloud.has_rgb:
        colours[:, :3] = cloud.rgb
    elif cloud.has("classification"):
        classification_rgba(cloud, out=colours)
    return {"points": points, "colours": colours, "origin": origin}


def task_laspy(args: dict[str, Any]) -> dict[str, Any]:
    import laspy

    t0, c0 = time.perf_counter(), time.process_time()
    las = laspy.read(args["path"])
    op_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return {"op_s": op_s, "cpu_s": cpu_s, "peak_rss_mb": peak_rss_mb(), "points": len(las.points)}


def task_laspy_arrays(args: dict[str, Any]) -> dict[str, Any]:
    """Reference: ``laspy.read`` plus the same display arrays and class counts, built with numpy."""
    import laspy
    import numpy as np

    from citytwin.model.pointcloud import CLASSIFICATION_PALETTE

    t0, c0 = time.perf_counter(), time.process_time()
    las = laspy.read(args["path"])
    xyz = np.column_stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)])
    cls = np.asarray(las.classification)
    counts = np.bincount(cls, minlength=256)
    origin = np.floor((xyz.min(0) + xyz.max(0)) / 2)
    points = (xyz - origin).astype(np.float32)
    colours = CLASSIFICATION_PALETTE[cls]
    op_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return {
        "op_s": op_s,
        "cpu_s": cpu_s,
        "peak_rss_mb": peak_rss_mb(),
        "points": len(points),
        "classes": int((counts > 0).sum()),
        "colours": len(colours),
    }


def task_citytwin(args: dict[str, Any]) -> dict[str, Any]:
    import laspy  # noqa: F401  (imported before the clock, as for the laspy side)
    import numpy  # noqa: F401

    import citytwin.io as cio
    from citytwin.io import las as _las  # noqa: F401  (the reader module, imported before the clock)
    from citytwin.io.options import LoadOptions
    from citytwin.render import pointcloud_visual  # noqa: F401  (the colour code, imported before the clock)

    try:
        import lazrs  # noqa: F401  (laspy imports its LAZ backend on first use; so does laspy.read)
    except ImportError:
        pass

    rss_import = peak_rss_mb()
    options = LoadOptions(point_budget=int(args.get("budget", BUDGET)))
    t0, c0 = time.perf_counter(), time.process_time()
    cloud = cio.read(args["path"], options)
    read_s = time.perf_counter() - t0
    arrays = _display_arrays(cloud)
    op_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mb()
    out: dict[str, Any] = {
        "op_s": op_s,
        "read_s": read_s,
        "cpu_s": cpu_s,
        "peak_rss_mb": peak,
        "rss_after_import_mb": rss_import,
        "points": int(cloud.points_in_file),
        "points_loaded": cloud.n_points,
        "class_counts": {str(k): v for k, v in cloud.class_counts.items()},
        "read_path": cloud.metadata.get("read_path"),
        "display_dtype": str(arrays["points"].dtype),
        "warnings": [w for w in cloud.warnings if "point budget" not in w][:3],
    }
    if args.get("visual"):
        from vtkmodules.vtkRenderingCore import vtkRenderer

        from citytwin.render.pointcloud_visual import PointCloudVisual

        t1 = time.perf_counter()
        visual = PointCloudVisual(cloud, vtkRenderer(), origin=arrays["origin"])  # what the viewer adds
        out["visual_s"] = time.perf_counter() - t1
        out["visual_points"] = int(visual.n_points)
        out["peak_rss_with_visual_mb"] = peak_rss_mb()
    return out


def task_imports(args: dict[str, Any]) -> dict[str, Any]:
    import importlib

    for mod in args["modules"]:
        importlib.import_module(mod)
    return {"op_s": 0.0, "peak_rss_mb": peak_rss_mb()}


TASKS = {"laspy": task_laspy, "laspy_arrays": task_laspy_arrays, "citytwin": task_citytwin, "imports": task_imports}


# --------------------------------------------------------------------------- parent side (no numpy here)
def measure(task: str, args: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.bench_lidar", "--task", task, json.dumps(args)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"{task} timed out after {timeout:.0f} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(MARK):
            res = json.loads(line[len(MARK) :])
            res["process_s"] = time.perf_counter() - t0
            return res
    tail = (p.stderr or p.stdout).strip().splitlines()[-4:]
    return {"error": f"{task} failed (exit {p.returncode}): " + " | ".join(tail)}


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    vals = sorted(r[key] for r in runs if "error" not in r and key in r)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def _make_las(src: Path, dst: Path, log) -> None:
    """An uncompressed LAS copy of a LAZ file (written once, reused)."""
    if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
        return
    log(f"[lidar] writing {dst}")
    code = (
        "import laspy, sys; las = laspy.read(sys.argv[1]); "
        "las.write(sys.argv[2] + '.tmp', do_compress=False); import os; os.replace(sys.argv[2] + '.tmp', sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", code, str(src), str(dst)], check=True, cwd=ROOT)


_TILE_CODE = r"""
import json, os, sys
import laspy, numpy as np
src, dst, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
las = laspy.read(src)
n = len(las.points)
h = las.header
span = (np.asarray(h.maxs) - np.asarray(h.mins))[:2]
step = np.ceil(span + 1.0)  # whole metres between tiles
step_raw = np.rint(step / h.scales[:2]).astype(np.int64)
tiles = -(-total // n)
side = int(np.ceil(np.sqrt(tiles)))
header = laspy.LasHeader(point_format=h.point_format, version=h.version)
header.scales, header.offsets = h.scales, h.offsets
tmp = dst + ".tmp"
counts = np.zeros(256, np.int64)
with laspy.open(tmp, mode="w", header=header) as w:
    written = 0
    for t in range(tiles):
        k = min(n, total - written)
        pts = las.points[:k].copy()
        pts.array["X"] += int((t % side) * step_raw[0])
        pts.array["Y"] += int((t // side) * step_raw[1])
        w.write_points(pts)
        counts += np.bincount(np.asarray(pts.classification), minlength=256)
        written += k
os.replace(tmp, dst)
with open(dst + ".json", "w") as fh:
    classes = {str(c): int(counts[c]) for c in np.flatnonzero(counts)}
    json.dump({"points": written, "tiles": tiles, "class_counts": classes}, fh)
"""


def _make_big(src: Path, dst: Path, total: int, log) -> dict[str, Any]:
    """A ``total``-point LAS file tiled from ``src`` (written once, reused), and its expected facts."""
    facts = dst.with_name(dst.name + ".json")
    if dst.exists() and facts.exists():
        doc = json.loads(facts.read_text())
        if doc.get("points") == total:
            return doc
    log(f"[lidar] writing {dst} ({total:,} points; once)")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", _TILE_CODE, str(src), str(dst), str(total)], check=True, cwd=ROOT)
    log(f"[lidar]   written in {time.perf_counter() - t0:.0f} s, {dst.stat().st_size / 1e9:.2f} GB")
    return json.loads(facts.read_text())


def run(
    shared: Path,
    repeat: int = 3,
    big_points: int = BIG_POINTS,
    budget: int = BUDGET,
    work: str | Path | None = None,
    log=print,
) -> dict[str, Any]:
    work = Path(work) if work else DEFAULT_WORK
    work.mkdir(parents=True, exist_ok=True)
    laz = shared / SOURCE
    las = work / "ahn3_cropped_1.las"
    _make_las(laz, las, log)

    targets: list[dict[str, Any]] = []
    data: dict[str, Any] = {}
    rows = []
    # (a) citytwin vs bare laspy.read, alternating
    for path in (laz, las):
        log(f"[lidar] {path.name} ({path.stat().st_size / 1e6:.1f} MB), {repeat} runs each")
        runs: dict[str, list[dict[str, Any]]] = {"laspy": [], "laspy_arrays": [], "citytwin": []}
        for i in range(repeat):
            for label in runs:
                res = measure(label, {"path": str(path)})
                runs[label].append(res)
                log(f"  {label} run {i + 1}: " + (res["error"] if "error" in res else f"{res['op_s']:.3f} s"))
        lp, ct = _median(runs["laspy"], "op_s"), _median(runs["citytwin"], "op_s")
        ok_runs = [r for r in runs["citytwin"] if "error" not in r]
        n_points = ok_runs[-1]["points"] if ok_runs else None
        ratio = ct / lp if lp and ct else None
        la = _median(runs["laspy_arrays"], "op_s")
        targets.append(
            {
                "target": f"{path.name}: citytwin read + display arrays ≤ {RATIO_TARGET}× laspy.read",
                "measured": "—" if ratio is None else f"{ratio:.2f}× (citytwin {ct:.3f} s / laspy {lp:.3f} s)",
                "pass": None if ratio is None else ratio <= RATIO_TARGET,
            }
        )
        rows.append(
            [
                path.name,
                f"{n_points:,}" if n_points else "—",
                fmt_s(lp),
                fmt_mb(_median(runs["laspy"], "peak_rss_mb")),
                fmt_s(la),
                fmt_s(ct),
                fmt_s(_median(runs["citytwin"], "read_s")),
                fmt_mb(_median(runs["citytwin"], "peak_rss_mb")),
                "—" if ratio is None else f"{ratio:.2f}×",
                "—" if not (ct and n_points) else f"{n_points / ct / 1e6:.1f} M/s",
            ]
        )
        data[path.name] = runs

    # (b) 100 M points through the budget
    big_md = ""
    if big_points:
        big = work / f"ahn3_tiled_{big_points // 1_000_000}M.las"
        expected = _make_big(laz, big, big_points, log)
        base = measure("imports", {"modules": ["numpy", "laspy", "citytwin.io", "citytwin.io.las"]})
        log(f"[lidar] {big.name} ({big.stat().st_size / 1e9:.2f} GB), budget {budget:,}")
        res = measure("citytwin", {"path": str(big), "budget": budget, "visual": True})
        data["big"] = {"result": res, "expected": expected, "baseline": base}
        if "error" in res:
            log(f"  ERROR {res['error']}")
            targets.append({"target": "100 M point LAS: first view < 10 s", "measured": res["error"], "pass": False})
        else:
            counts_ok = res["class_counts"] == expected["class_counts"] and res["points"] == expected["points"]
            first = res["op_s"]
            with_pd = first + res.get("visual_s", 0.0)
            log(
                f"  read {res['read_s']:.2f} s, + arrays {first:.2f} s, + visual {with_pd:.2f} s; "
                f"peak {res['peak_rss_mb']:.0f} MiB ({res.get('peak_rss_with_visual_mb', 0):.0f} with the visual); "
                f"class counts {'match' if counts_ok else 'DIFFER'}"
            )
            targets += [
                {
                    "target": f"{big_points / 1e6:.0f} M point LAS, budget {budget / 1e6:.0f} M: first view "
                    f"(read + display arrays) < {FIRST_VIEW_TARGET_S:.0f} s",
                    "measured": f"{first:.2f} s ({with_pd:.2f} s with the point-cloud visual)",
                    "pass": first < FIRST_VIEW_TARGET_S,
                },
                {
                    "target": f"{big_points / 1e6:.0f} M point LAS: peak RSS < {BIG_PEAK_TARGET_MB:.0f} MiB "
                    f"(file {big.stat().st_size / 2**20:,.0f} MiB)",
                    "measured": f"{res['peak_rss_mb']:.0f} MiB",
                    "pass": res["peak_rss_mb"] < BIG_PEAK_TARGET_MB,
                },
                {
                    "target": f"{big_points / 1e6:.0f} M point LAS: whole-file class counts equal the tiling's",
                    "measured": "equal" if counts_ok else "differ",
                    "pass": counts_ok,
                },
            ]
            big_md = "\n".join(
                [
                    f"**{big_points:,}-point LAS** (`{big.name}`, {big.stat().st_size / 1e9:.2f} GB: "
                    f"{expected['tiles']} tiles of `{SOURCE}`, point format 1), point budget {budget:,}, one run:",
                    "",
                    table(
                        ["step", "time", "peak RSS"],
                        [
                            ["interpreter + imports only", "—", fmt_mb(base.get("peak_rss_mb"))],
                            [f"read ({res['read_path']}), class counts of all points", fmt_s(res["read_s"]), ""],
                            [
                                "+ display arrays (float32 local points, colours)",
                                fmt_s(first),
                                fmt_mb(res["peak_rss_mb"]),
                            ],
                            [
                                "+ the viewer's `PointCloudVisual` (VTK points, colours, vertex cells)",
                                fmt_s(with_pd),
                                fmt_mb(res.get("peak_rss_with_visual_mb")),
                            ],
                        ],
                    ),
                    "",
                    f"Points kept: {res['points_loaded']:,} of {res['points']:,}; class counts over all points "
                    f"{'equal' if counts_ok else 'DIFFER from'} the tiling's. The file was written just before (or "
                    "earlier), so it is most likely read from the page cache.",
                ]
            )

    md = "\n".join(
        [
            f"Median of {repeat} runs each, alternating; `citytwin` = `citytwin.io.read` + float32 local points + "
            "colours (what a point visual draws), `laspy` = a bare `laspy.read` (LAZ: lazrs, parallel; LAS: the "
            "records in one structured array, nothing decoded or scaled yet), and for reference `laspy.read` followed "
            "by the same arrays and class counts in numpy. citytwin keeps the records undecoded and writes the "
            "float32 points straight from their integers (`PointCloud.local_points`, as the point visual does); "
            "other attributes are decoded when first asked for.",
            "",
            table(
                [
                    "file",
                    "points",
                    "laspy.read",
                    "laspy peak",
                    "laspy.read + same arrays (numpy)",
                    "citytwin (read + arrays)",
                    "citytwin read",
                    "citytwin peak",
                    "ratio",
                    "citytwin points/s",
                ],
                rows,
            ),
            "",
            big_md,
            "",
            table(
                ["target", "measured", "result"], [[t["target"], t["measured"], verdict(t["pass"])] for t in targets]
            ),
        ]
    )
    return {"name": NAME, "title": TITLE, "targets": targets, "markdown": md, "data": data}


def _extra(ap) -> None:
    ap.add_argument("--big-points", type=int, default=None, help="points of the tiled file (0: skip it)")
    ap.add_argument("--budget", type=int, default=None, help="point budget for the tiled file")
    ap.add_argument("--work", default=None, help="folder for generated files (default /tmp/citytwin-bench)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--task"]:
        res = TASKS[argv[1]](json.loads(argv[2]) if len(argv) > 2 else {})
        sys.stdout.write(MARK + json.dumps(res) + "\n")
        sys.stdout.flush()
        return 0
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return standalone(run, argv, _extra)


if __name__ == "__main__":
    sys.exit(main())
