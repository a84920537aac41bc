"""Presenter mode running unattended: resident memory over a long loop (target: growth under 5%).

The window opens the bundled sample district with two tours (an orbit with captions and a
fade of the vegetation layer's opacity, and a reveal) and three bookmarks, goes into
presenter mode with a kiosk idle time, and loops the playlist for ``--minutes`` (30 in
``make bench``). A simulated visitor touches the view every few minutes, so the attract
loop restarts as it would on a stand. RSS is read every 10 s; growth is the last
minute's median against the median of the second minute (after the first pass warmed
every cache).

    python -m bench.bench_presenter --shared ../shared/data [--minutes 30]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, standalone, table, verdict

NAME = "presenter"
TITLE = "Presenter mode: memory over a long unattended loop"
MARK = "@@BENCH_PRESENTER@@"
TARGET = 0.05
SAMPLE_S = 10.0


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(opts: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtTest import QTest

    from citytwin.model.annotations import make_bookmark
    from citytwin.model.camera import CameraState
    from citytwin.model.presentation import Presentation, Stop
    from citytwin.model.tour_presets import orbit, reveal_scene
    from citytwin.model.tours import Caption, Keyframe, Tour
    from citytwin.sample import sample_path
    from citytwin.ui.app import create_app
    from citytwin.ui.main_window import MainWindow

    minutes = float(opts["minutes"])
    visitor_ms = int(float(opts.get("visitor_s", 180)) * 1000)  # smaller in a stress run
    idle_s = float(opts.get("idle_s", 45))
    app = create_app()
    window = MainWindow(paths=[str(sample_path())])
    window.resize(1280, 720)
    window.show()
    samples: list[tuple[float, float]] = []
    stops_played: list[int] = []
    t0 = time.monotonic()

    def setup() -> None:
        if window.is_loading:
            QTimer.singleShot(200, setup)
            return
        scene = window.scene
        b = np.asarray(scene.bounds(), float)
        c = (b[:3] + b[3:]) / 2
        r = float(np.hypot(b[3] - b[0], b[4] - b[1])) * 0.6
        spin = orbit(c, r, r * 0.5, turns=0.5, duration=20.0, name="Orbit")
        keys = list(spin.keyframes)
        layer = scene.layers[0].name
        keys[0] = Keyframe(
            time=keys[0].time,
            camera=keys[0].camera,
            constant_speed=True,
            caption=Caption(title="Sample district", subtitle="citytwin"),
            layers={layer: 0.3},
        )
        keys[-1] = Keyframe(time=keys[-1].time, camera=keys[-1].camera, layers={layer: 1.0})  # fmt: skip
        scene.tours.append(Tour(name="Orbit", keyframes=keys))
        scene.tours.append(reveal_scene(scene, duration=15.0))
        for k, a in enumerate((0.0, 2.0, 4.0)):
            cam = CameraState(tuple(c + [r * np.sin(a), r * np.cos(a), r * 0.4]), tuple(c))
            scene.bookmarks.append(make_bookmark(f"View {k + 1}", cam))
        playlist = [Stop(kind="tour", name="Orbit"), Stop(kind="bookmark", name="View 1", seconds=5),
                    Stop(kind="tour", name="Reveal"), Stop(kind="bookmark", name="View 2", seconds=5),
                    Stop(kind="bookmark", name="View 3", seconds=5)]  # fmt: skip
        window.presenter.stop_changed.connect(stops_played.append)
        window.presenter.enter(Presentation(playlist=playlist, idle_seconds=idle_s, hide_cursor_seconds=2))
        sample()
        QTimer.singleShot(int(minutes * 60_000), finish)
        QTimer.singleShot(visitor_ms, visitor)

    def sample() -> None:
        samples.append((time.monotonic() - t0, _rss_mb()))
        QTimer.singleShot(int(SAMPLE_S * 1000), sample)

    def visitor() -> None:  # a touch on the view: the kiosk hands over, then returns after its idle time
        widget = window.viewport.plotter
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, pos=QPoint(widget.width() // 2, widget.height() // 2))
        QTimer.singleShot(visitor_ms, visitor)

    def finish() -> None:
        window.presenter.leave()
        window.close()
        app.quit()

    QTimer.singleShot(100, setup)
    app.exec()
    return {"minutes": minutes, "samples": samples, "stops": len(stops_played)}


def run(shared: Path, minutes: float = 30.0, log=print, **_: Any) -> dict[str, Any]:
    from bench.bench_viewer import _display_prefix

    log(f"[presenter] presenter mode on the sample district for {minutes:g} minutes")
    cmd = [
        *_display_prefix(),
        sys.executable,
        "-m",
        "bench.bench_presenter",
        "--child",
        json.dumps({"minutes": minutes}),
    ]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=minutes * 60 + 600)
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(MARK):
            return _report(json.loads(line[len(MARK) :]))
    raise RuntimeError("presenter child failed: " + " | ".join((p.stderr or p.stdout).strip().splitlines()[-6:]))


def _report(d: dict[str, Any]) -> dict[str, Any]:
    s = d["samples"]
    t = [x[0] for x in s]
    rss = [x[1] for x in s]
    start = t[0]
    second = [m for tt, m in zip(t, rss, strict=True) if start + 60 <= tt < start + 120] or rss[
        : max(len(rss) // 10, 1)
    ]
    last = [m for tt, m in zip(t, rss, strict=True) if tt >= t[-1] - 60] or rss[-1:]
    base, end = statistics.median(second), statistics.median(last)
    growth = end / base - 1
    targets = [
        {
            "target": f"presenter loop for {d['minutes']:g} minutes: RSS growth under {TARGET:.0%}",
            "measured": f"{growth:+.1%} ({base:.0f} MB in minute 2 → {end:.0f} MB in the last minute)",
            "pass": growth < TARGET,
        }
    ]
    rows = [
        ["duration", f"{d['minutes']:g} min, {len(s)} RSS readings every {SAMPLE_S:g} s"],
        ["playlist stops played", str(d["stops"])],
        ["RSS min / max", f"{min(rss):.0f} / {max(rss):.0f} MB"],
    ]
    md = [
        table(["target", "measured", "result"], [[x["target"], x["measured"], verdict(x["pass"])] for x in targets]),
        "",
        table(["measurement", "value"], rows),
        "",
        "The playlist: an orbit with a caption and a layer fade, a bookmark, a reveal to street level, two more "
        "bookmarks; kiosk idle time 45 s, and a visitor's click every 3 minutes.",
    ]
    return {"name": NAME, "title": TITLE, "targets": targets, "markdown": "\n".join(md), "data": d}


def main(argv: list[str] | None = None) -> int:
    def extra(ap) -> None:
        ap.add_argument("--minutes", type=float, default=None, help="how long to present (default 30)")

    return standalone(run, argv, extra, child=child, mark=MARK)


if __name__ == "__main__":
    sys.exit(main())
