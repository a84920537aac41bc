"""Hostile input: the five inputs of issue #14 must each answer within 5 s with one sentence or a warning.

Each input is made in the work folder from the shared data and given to
``citytwin info`` in a fresh process (start-up included, as a user sees it),
killed at 60 s. The reference is the same command on a small sound file in
the same run, so the figure for each case reads as start-up plus its own work.

- a LAS and a COPC file whose header declares 2**32-1 VLRs;
- a COPC file whose hierarchy entries all point back at the root page (read
  with a point budget, so the hierarchy is walked);
- a CityGML polygon with one ring of 3.3 million vertices;
- a named pipe with no writer, given a ``.gml`` name;
- a link to ``/dev/zero`` given a ``.json`` name.

    python -m bench.bench_hostile --shared ../shared/data
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_WORK, ROOT, standalone, table, verdict

NAME = "hostile"
TITLE = "Hostile input: answers within 5 s"
TARGET_S = 5.0
KILL_S = 60.0


def _ring_gml(path: Path, n: int = 3_300_000) -> None:
    """One building whose only polygon is a ring of ``n`` vertices (a wavy circle, 3D)."""
    import numpy as np

    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 100 + 5 * np.sin(t * 50)
    pts = np.column_stack([1000 + r * np.cos(t), 2000 + r * np.sin(t), np.full(n, 10.0)])
    pts = np.vstack([pts, pts[:1]])
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" '
        'xmlns:bldg="http://www.opengis.net/citygml/building/2.0" xmlns:gml="http://www.opengis.net/gml">\n'
        '<core:cityObjectMember><bldg:Building gml:id="b1"><bldg:lod1MultiSurface><gml:MultiSurface>'
        '<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">'
    )
    tail = (
        "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface>"
        "</bldg:lod1MultiSurface></bldg:Building></core:cityObjectMember>\n</core:CityModel>\n"
    )
    with open(path, "w") as fh:
        fh.write(head)
        np.savetxt(fh, pts.reshape(1, -1), fmt="%.2f", newline=" ")
        fh.write(tail)


def _vlrs(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    struct.pack_into("<I", data, 100, 2**32 - 1)
    dst.write_bytes(data)


def _copc_cycle(src: Path, dst: Path) -> None:
    """Every entry of the root hierarchy page but the first made a child page that is the root page."""
    data = bytearray(src.read_bytes())
    info = 375 + 54
    page, size = struct.unpack_from("<QQ", data, info + 40)
    for k in range(1, size // 32):
        struct.pack_into("<Qii", data, page + 32 * k + 16, page, size, -1)
    dst.write_bytes(data)


def make_cases(shared: Path, work: Path) -> list[tuple[str, Path, list[str]]]:
    """``(label, path, extra citytwin info arguments)`` of the five cases (six files), made in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    lidar = shared / "lidar"
    cases = []
    p = work / "vlrs.las"
    _vlrs(lidar / "simple.las", p)
    cases.append(("LAS header declaring 2**32-1 VLRs", p, []))
    p = work / "vlrs.copc.laz"
    _vlrs(lidar / "lone-star.copc.laz", p)
    cases.append(("COPC header declaring 2**32-1 VLRs", p, []))
    p = work / "cycle.copc.laz"
    _copc_cycle(lidar / "lone-star.copc.laz", p)
    cases.append(("COPC hierarchy cycle (point budget 10,000)", p, ["--point-budget", "10000"]))
    p = work / "ring.gml"
    if not p.is_file() or p.stat().st_size < 50_000_000:
        # in a child: a parent that built the 71 MB text would pass its peak RSS on to the measured processes
        code = f"from pathlib import Path; from bench.bench_hostile import _ring_gml; _ring_gml(Path({str(p)!r}))"
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    cases.append(("CityGML ring of 3.3 M vertices", p, []))
    p = work / "pipe.gml"
    if p.exists() or p.is_symlink():
        p.unlink()
    os.mkfifo(p)
    cases.append(("named pipe without a writer (.gml)", p, []))
    p = work / "zero.json"
    if p.exists() or p.is_symlink():
        p.unlink()
    p.symlink_to("/dev/zero")
    cases.append(("link to /dev/zero (.json)", p, []))
    return cases


def _info(path: Path, extra: list[str]) -> dict[str, Any]:
    """``citytwin info`` in a fresh process: wall time, exit code, peak RSS, and its sentence or warnings."""
    cmd = [sys.executable, "-m", "citytwin", "info", str(path), *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > KILL_S:
            proc.send_signal(signal.SIGKILL)
            killed = True
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    warnings = [line.split("warnings", 1)[1].strip() for line in out.splitlines() if "warnings" in line]
    code = None if killed else os.waitstatus_to_exitcode(status)
    said = err.strip().splitlines()[-1] if err.strip() else "; ".join(w for w in warnings if w != "none")
    return {"seconds": wall, "exit": code, "peak_mib": usage.ru_maxrss / 1024, "said": said, "killed": killed}


def run(shared: Path, repeat: int = 1, log=print) -> dict[str, Any]:
    work = DEFAULT_WORK / "hostile"
    cases = make_cases(shared, work)
    reference = _info(shared / "citygml" / "FZK-Haus-LoD0-KIT-IAI-KHH-B36-V1.gml", [])
    rows, targets = [], []
    for label, path, extra in cases:
        runs = [_info(path, extra) for _ in range(max(repeat, 1))]
        res = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        one_answer = bool(res["said"]) and "Traceback" not in res["said"] and res["exit"] in (0, 2)
        ok = not res["killed"] and res["seconds"] <= TARGET_S and one_answer
        log(f"[hostile] {label}: {res['seconds']:.2f} s, exit {res['exit']}, {res['said'][:120]}")
        size = path.stat().st_size if path.is_file() and not path.is_symlink() else 0
        rows.append(
            [
                label,
                f"{size / 1e6:.1f} MB" if size else "—",
                f"{res['seconds']:.2f} s",
                "killed" if res["killed"] else str(res["exit"]),
                f"{res['peak_mib']:.0f} MiB",
                res["said"],
            ]
        )
        targets.append(
            {
                "target": f"{label}: one sentence or a warning within {TARGET_S:.0f} s",
                "measured": f"{res['seconds']:.2f} s, exit {res['exit']}",
                "pass": ok,
            }
        )
    md = [
        f"`citytwin info` in a fresh process on each input (start-up included), killed at {KILL_S:.0f} s; "
        f"for reference, the same command on FZK-Haus (5.6 kB) took {reference['seconds']:.2f} s.",
        "",
        table(["input", "size", "time", "exit", "peak RSS", "what it said"], rows),
        "",
        table(["target", "measured", "result"], [[t["target"], t["measured"], verdict(t["pass"])] for t in targets]),
    ]
    return {
        "name": NAME,
        "title": TITLE,
        "targets": targets,
        "markdown": "\n".join(md),
        "data": {"rows": rows, "reference_s": reference["seconds"]},
    }


def main(argv: list[str] | None = None) -> int:
    return standalone(run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
