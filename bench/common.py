"""Shared pieces of the benchmarks: a measurement in a fresh process, machine facts, tables.

The parent stays light (no numpy, VTK or citytwin imports), so nothing it holds
leaks into the figures of its children.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from bench._worker import MARK

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
DEFAULT_WORK = Path(os.environ.get("CITYTWIN_BENCH_DIR", "/tmp/citytwin-bench"))


class MeasureError(RuntimeError):
    """A worker failed; the message carries the tail of its stderr."""


#: Libraries whose versions a results file names (the ones the benchmarked code paths use).
_LIBRARIES = (
    "vtk", "numpy", "lxml", "orjson", "msgspec", "mapbox-earcut", "cjio", "laspy", "lazrs", "pyvista", "psutil"
)  # fmt: skip


def measure(task: str, args: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    """Run one task of :mod:`bench._worker` in a fresh interpreter and return its figures.

    Adds ``process_s``: the child's whole wall time seen from here (start-up, imports,
    operation, counting and exit).
    """
    cmd = [sys.executable, "-m", "bench._worker", task, json.dumps(args)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise MeasureError(f"{task} timed out after {timeout:.0f} s") from exc
    wall = time.perf_counter() - t0
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(MARK):
            res = json.loads(line[len(MARK) :])
            res["process_s"] = wall
            return res
    tail = (p.stderr or p.stdout).strip().splitlines()[-6:]
    raise MeasureError(f"{task} failed (exit {p.returncode}): " + " | ".join(tail))


def try_measure(task: str, args: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    """Like :func:`measure` but returns ``{"error": ...}`` instead of raising."""
    try:
        return measure(task, args, timeout)
    except MeasureError as exc:
        return {"error": str(exc)}


def repeat_interleaved(
    jobs: Sequence[tuple[str, str, dict[str, Any]]], repeat: int, timeout: float = 600, log: Callable = print
) -> dict[str, list[dict[str, Any]]]:
    """Run each ``(label, task, args)`` ``repeat`` times, alternating the jobs (A B A B …)
    so that load from elsewhere on the machine falls on all of them alike."""
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in jobs}
    for i in range(repeat):
        for label, task, args in jobs:
            res = try_measure(task, args, timeout)
            runs[label].append(res)
            if "error" in res:
                log(f"  {label} run {i + 1}: ERROR {res['error']}")
            else:
                log(
                    f"  {label} run {i + 1}: {res['op_s']:.2f} s (CPU {res.get('cpu_s', float('nan')):.2f} s), "
                    f"peak {res['peak_rss_mb']:.0f} MiB"
                )
    return runs


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median time and peak over successful runs, plus all times, and the last run's counts."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0]["error"] if runs else "not run", "n": 0}
    out = dict(ok[-1])
    out["n"] = len(ok)
    out["op_s"] = statistics.median(r["op_s"] for r in ok)
    out["op_s_all"] = [round(r["op_s"], 3) for r in ok]
    out["peak_rss_mb"] = statistics.median(r["peak_rss_mb"] for r in ok)
    out["peak_rss_mb_max"] = max(r["peak_rss_mb"] for r in ok)
    out["process_s"] = statistics.median(r["process_s"] for r in ok)
    for key in ("cpu_s", "polydata_s", "peak_rss_with_polydata_mb", "load_s"):
        if all(key in r for r in ok):
            out[key] = statistics.median(r[key] for r in ok)
    return out


def baseline(modules: list[str], repeat: int = 2) -> float:
    """Peak RSS (MiB) of an interpreter that only imports ``modules`` (median)."""
    vals = [
        r["peak_rss_mb"]
        for r in (try_measure("imports", {"modules": modules}) for _ in range(repeat))
        if "error" not in r
    ]
    return statistics.median(vals) if vals else float("nan")


def reader_available(module: str) -> bool:
    """Whether a citytwin reader module exists (without importing anything here)."""
    rel = Path(*module.split("."))
    return (ROOT / rel.with_suffix(".py")).exists() or (ROOT / rel / "__init__.py").exists()


# --------------------------------------------------------------------------- machine
def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_facts() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    ram = int(line.split()[1]) / 1024**2
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        commit = commit + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": None if ram is None else round(ram, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {d: _version(d) for d in _LIBRARIES},
        "commit": commit,
        "date": _dt.datetime.now(_dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y"),
        "loadavg": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


# --------------------------------------------------------------------------- formatting
def fmt_s(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f} s"


def fmt_mb(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} MiB"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(lines)


def resolve_shared(p: str | Path | None) -> Path:
    path = Path(p) if p else DEFAULT_SHARED
    if not path.is_dir():
        raise SystemExit(f"shared data folder not found: {path} (pass --shared)")
    return path.resolve()


def run_child(module: str, mark: str, opts: dict[str, Any], kind: str | None = None, timeout: float = 1800) -> dict:
    """Run ``python -m MODULE --child [KIND] JSON`` (under Xvfb when there is no display) and return the
    figures it printed after ``mark``; RuntimeError with its last lines when it printed none."""
    from bench.bench_viewer import _display_prefix

    args = [kind] if kind else []
    cmd = [*_display_prefix(), sys.executable, "-m", module, "--child", *args, json.dumps(opts)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(mark):
            return json.loads(line[len(mark) :])
    tail = " | ".join((p.stderr or p.stdout).strip().splitlines()[-6:])
    raise RuntimeError(f"{module} child {kind or ''} failed: {tail}")


#: A benchmark's measuring function, run in a fresh process: options in, figures out.
Child = Callable[[dict[str, Any]], dict[str, Any]]


def standalone(
    run: Callable[..., dict[str, Any]],
    argv: list[str] | None,
    extra: Callable | None = None,
    *,
    child: Callable[[dict[str, Any]], dict[str, Any]]
    | dict[str, Callable[[dict[str, Any]], dict[str, Any]]]
    | None = None,
    mark: str = "",
) -> int:
    """``main()`` of a benchmark module: parse ``--shared`` (and module extras), run, print markdown.

    With ``child``, ``--child [KIND] JSON`` runs the measuring child instead (the parent starts it in a
    fresh process) and prints ``mark`` followed by its result as one JSON line; ``child`` is one
    function, or a dict of them by KIND.
    """
    import argparse

    if argv is None:
        argv = sys.argv[1:]
    if child is not None and argv and argv[0] == "--child":
        fn = child[argv[1]] if isinstance(child, dict) else child
        res = fn(json.loads(argv[-1]))
        print(mark + json.dumps(res, default=float))
        return 0

    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=None, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per measurement (median reported)")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    if extra:
        extra(ap)
    a = vars(ap.parse_args(argv))
    shared = resolve_shared(a.pop("shared"))
    out_json = a.pop("json")
    kwargs = {k: v for k, v in a.items() if v is not None}
    res = run(shared, **kwargs)
    print()
    print(res["markdown"])
    if out_json:
        out_json.write_text(json.dumps(res, indent=1, default=str))
    return 0
