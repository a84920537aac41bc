"""Video and stills export: 1080p MP4 of DenHaag_01.xml against a plain pyvista movie loop; a 4K still.

a) **MP4 at 1920×1080, 30 fps**: the same DenHaag_01.xml mesh, the same camera path (an orbit
   preset of :mod:`citytwin.model.tour_presets`), the same H.264 quality (7):
   - *reference*: a plain pyvista loop, ``Plotter(off_screen=True)``, ``add_mesh`` of the merged
     mesh citytwin draws (cell colours), ``open_movie`` then ``camera = …; write_frame()`` per
     frame: render, read back and encode one after the other;
   - *citytwin*: :func:`citytwin.render.tour_export.export_tour`, which renders the model scene
     as the window shows it and encodes on a writer thread while the next frame renders.
   Runs alternate (reference, citytwin, reference, citytwin …) in one process; the figure is
   frames per second of wall time, and the target is citytwin ≥ the reference.
b) **4K still** (3840×2160) of DenHaag from the oblique preset: wall time and the peak
   resident memory of a fresh process that does only that.

    python -m bench.bench_video --shared ../shared/data [--frames 60] [--repeat 2]
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

NAME = "video"
TITLE = "Video and stills: 1080p MP4 of DenHaag against a pyvista movie loop, 4K still"
MARK = "@@BENCH_VIDEO@@"
SIZE = (1920, 1080)
FPS = 30
QUALITY = 7
DENHAAG = "citygml/DenHaag_01.xml"


def _scene(shared: Path) -> Any:
    from citytwin.io import read
    from citytwin.render.scene_view import scene_from_models

    return scene_from_models([read(shared / DENHAAG)])


def _orbit(scene: Any, frames: int) -> Any:
    import numpy as np

    from citytwin.model.tour_presets import orbit

    b = np.asarray(scene.bounds(), float)
    centre = (b[:3] + b[3:]) / 2
    radius = float(np.hypot(b[3] - b[0], b[4] - b[1])) * 0.75
    return orbit(centre, radius, radius * 0.6, turns=0.25, duration=(frames - 1) / FPS)


def child_video(opts: dict[str, Any]) -> dict[str, Any]:
    import tempfile

    import numpy as np
    import pyvista as pv

    from citytwin.render.offscreen import OffscreenScene
    from citytwin.render.tour_export import export_tour
    from citytwin.render.video import VideoSettings

    shared = Path(opts["shared"])
    frames, repeat = int(opts["frames"]), int(opts["repeat"])
    scene = _scene(shared)
    tour = _orbit(scene, frames)
    times = tour.frame_times(FPS)
    track = tour.cameras(times)
    origin = np.asarray(scene.origin, float)
    # the merged mesh citytwin draws, for the reference loop (the same triangles and colours)
    with OffscreenScene(SIZE, scene=scene) as off:
        vis = off.visuals[0]
        mesh = pv.PolyData()
        mesh.deep_copy(vis.polydata)
        n_tri = int(mesh.n_cells)
    out: dict[str, Any] = {"frames": len(times), "triangles": n_tri, "size": list(SIZE), "fps": FPS}
    runs: dict[str, list[float]] = {"reference": [], "citytwin": []}
    detail: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeat):
            # reference: pyvista's own movie loop
            pl = pv.Plotter(off_screen=True, window_size=list(SIZE))
            pl.add_mesh(mesh, scalars="colors", rgb=True, show_scalar_bar=False)
            path = Path(tmp) / f"ref{r}.mp4"
            t0 = time.perf_counter()
            pl.open_movie(str(path), framerate=FPS, quality=QUALITY, macro_block_size=8)
            for k in range(len(times)):
                cam = track.state(k)
                pl.camera_position = [
                    tuple(np.asarray(cam.position) - origin),
                    tuple(np.asarray(cam.focal_point) - origin),
                    cam.view_up,
                ]
                pl.camera.view_angle = cam.view_angle
                pl.write_frame()
            pl.mwriter.close()
            runs["reference"].append(len(times) / (time.perf_counter() - t0))
            pl.close()
            # citytwin
            rep = export_tour(scene, tour, Path(tmp) / f"ct{r}.mp4", VideoSettings(SIZE, FPS, QUALITY))
            runs["citytwin"].append(rep.frames / rep.seconds)
            detail.append({"wall": rep.seconds, "render": rep.render_seconds, "encode": rep.encode_seconds})
    out["runs"] = runs
    out["detail"] = detail
    return out


def child_still(opts: dict[str, Any]) -> dict[str, Any]:
    import resource
    import tempfile

    shared = Path(opts["shared"])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    scene = _scene(shared)
    after_read = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from citytwin.render.stills import export_still

    size = tuple(opts["size"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        export_still(scene, Path(tmp) / "still.png", size, view="oblique-ne")
        seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"size": list(size), "seconds": seconds, "peak_mb": peak, "before_mb": before, "after_read_mb": after_read}


# -------------------------------------------------------------------- parent
def _child(kind: str, opts: dict[str, Any]) -> dict[str, Any]:
    from bench.bench_viewer import _display_prefix

    cmd = [*_display_prefix(), sys.executable, "-m", "bench.bench_video", "--child", kind, json.dumps(opts)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise RuntimeError(f"video child ({kind}) failed: " + " | ".join((p.stderr or p.stdout).strip().splitlines()[-6:]))


def run(shared: Path, frames: int = 60, repeat: int = 2, log=print) -> dict[str, Any]:
    log(f"[video] DenHaag_01 at {SIZE[0]}x{SIZE[1]}, {frames} frames, {repeat} alternating runs")
    video = _child("video", {"shared": str(shared), "frames": frames, "repeat": repeat})
    log("[video] 4K still")
    still = _child("still", {"shared": str(shared), "size": [3840, 2160]})
    return _report(video, still)


def _report(v: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    ref = statistics.median(v["runs"]["reference"])
    ct = statistics.median(v["runs"]["citytwin"])
    ratio = ct / ref
    d = v["detail"][-1]
    targets = [
        {
            "target": "1080p MP4 of DenHaag: citytwin at least as fast as a plain pyvista open_movie/write_frame loop",
            "measured": f"{ct:.2f} fps vs {ref:.2f} fps (×{ratio:.2f})",
            "pass": ratio >= 1.0,
        },
        {
            "target": "4K still of DenHaag: time and peak memory (reported)",
            "measured": f"{s['seconds']:.2f} s, peak RSS {s['peak_mb']:.0f} MB",
            "pass": None,
        },
    ]
    rows = [
        ["scene", f"DenHaag_01.xml, {v['triangles']:,} triangles drawn, {v['size'][0]}×{v['size'][1]}"],
        ["frames per run", f"{v['frames']} at {v['fps']} fps (an orbit, a quarter turn)"],
        ["reference runs (fps)", ", ".join(f"{x:.2f}" for x in v["runs"]["reference"])],
        ["citytwin runs (fps)", ", ".join(f"{x:.2f}" for x in v["runs"]["citytwin"])],
        [
            "citytwin, last run: wall / rendering+readback / encoding (on the writer thread)",
            f"{d['wall']:.1f} s / {d['render']:.1f} s / {d['encode']:.1f} s",
        ],
        ["4K still: time", f"{s['seconds']:.2f} s"],
        [
            "4K still: peak RSS (process), after reading DenHaag",
            f"{s['peak_mb']:.0f} MB, {s['after_read_mb']:.0f} MB",
        ],
    ]
    md = [
        table(["target", "measured", "result"], [[t["target"], t["measured"], verdict(t["pass"])] for t in targets]),
        "",
        table(["measurement", "value"], rows),
        "",
        "Both loops use H.264 at quality 7 through imageio-ffmpeg. The reference renders, reads back and encodes "
        "each frame in turn (ffmpeg's default preset); citytwin hands each frame to a writer thread feeding ffmpeg "
        "(preset veryfast, since the software renderer needs the same two cores) and renders the next meanwhile.",
    ]
    return {
        "name": NAME,
        "title": TITLE,
        "targets": targets,
        "markdown": "\n".join(md),
        "data": {"video": v, "still": s},
    }


def main(argv: list[str] | None = None) -> int:
    def extra(ap) -> None:
        ap.add_argument("--frames", type=int, default=None, help="frames per MP4 (default 60)")

    return standalone(run, argv, extra, child={"video": child_video, "still": child_still}, mark=MARK)


if __name__ == "__main__":
    sys.exit(main())
