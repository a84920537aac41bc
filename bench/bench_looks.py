"""Looks: frame time of each look preset at 1080p on DenHaag_01, draft and final, against today's default look.

The scene is ``citygml/DenHaag_01.xml`` (844 buildings) rendered at 1920×1080 off screen (GLX under
Xvfb when there is a display, else EGL; software GL here) from the ``oblique-ne`` preset. Today's
default look (the light kit and FXAA of :mod:`citytwin.render.style`, no look applied) is measured
in the same process, before and after the presets, and every figure is a ratio to it:

a) *draft* quality (what the window draws while the camera moves: no SSAO, no shadows, no edges),
   with the camera turning 0.5° a frame;
b) *final* quality (what the view shows at rest and every still and video frame renders: the
   look's SSAO, shadow maps and silhouette edges), the camera turning the same way, so every frame
   bakes its shadow map and computes its silhouettes anew.

The measuring runs in a child interpreter (``--child``) so the parent of ``bench.run_all``
imports neither VTK nor citytwin.

    python -m bench.bench_looks --shared ../shared/data [--frames 3] [--repeat 1]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import run_child, standalone, table, verdict

NAME = "looks"
TITLE = "Looks: frame time of each preset at 1080p on DenHaag_01, draft and final"
MARK = "@@BENCH_LOOKS@@"
SIZE = (1920, 1080)
DATA = "citygml/DenHaag_01.xml"
#: frames per measured block (the median counts)
FRAMES = 3
#: a draft frame of any preset may cost this much more than today's default look (the interactive target)
DRAFT_TARGET = 1.25


# --------------------------------------------------------------------- child
def child(opts: dict[str, Any]) -> dict[str, Any]:
    from citytwin.io import read
    from citytwin.model.looks import LOOKS
    from citytwin.render.looks import active_passes
    from citytwin.render.offscreen import OffscreenScene
    from citytwin.render.scene_view import scene_from_models

    frames, repeat = int(opts["frames"]), int(opts["repeat"])
    names = [n for n in LOOKS if not opts.get("looks") or n in opts["looks"]]
    t = time.perf_counter()
    model = read(Path(opts["shared"]) / DATA)
    out: dict[str, Any] = {"size": list(SIZE), "frames": frames, "read_s": time.perf_counter() - t}
    out["triangles"] = int(model.mesh.n_triangles)

    def block(scene: Any) -> float:
        cam = scene.renderer.GetActiveCamera()
        times = []
        for _ in range(frames):
            cam.Azimuth(0.5)
            t = time.perf_counter()
            scene.render()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    base: list[float] = []
    runs: dict[str, dict[str, list[float]]] = {n: {"draft": [], "final": []} for n in names}
    passes: dict[str, list[str]] = {}
    with OffscreenScene(SIZE) as plain:  # today's default look: no look applied
        plain.add(model)
        plain.set_view("oblique-ne")
        plain.render()
        with OffscreenScene(SIZE, scene=scene_from_models([model]), quality="draft") as looked:
            looked.set_view("oblique-ne")
            looked.render()
            for _ in range(repeat):
                base.append(block(plain))
                for name in names:
                    for quality in ("draft", "final"):
                        looked.apply_look(LOOKS[name], quality, sun=None)
                        looked.render()  # the first frame builds the passes' buffers
                        passes[f"{name}/{quality}"] = sorted(set(active_passes(looked.plotter)))
                        runs[name][quality].append(block(looked))
                base.append(block(plain))
            info = looked.plotter.render_window.ReportCapabilities() or ""
    out["base"] = base
    out["runs"] = runs
    out["passes"] = passes
    out["gl"] = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if "renderer string" in ln), None)
    return out


# -------------------------------------------------------------------- parent
def run(shared: Path, frames: int = FRAMES, repeat: int = 1, looks: list[str] | None = None, log=print) -> dict:

    opts = {"shared": str(shared), "frames": frames, "repeat": repeat, "looks": looks or []}
    log(f"[looks] {DATA} at {SIZE[0]}x{SIZE[1]}: every preset draft and final, {frames} frames a block")
    return _report(run_child("bench.bench_looks", MARK, opts, timeout=3600))


def _ms(s: float) -> str:
    return f"{s * 1000:.0f} ms"


def _report(d: dict[str, Any]) -> dict[str, Any]:
    base = statistics.median(d["base"])
    med = {n: {q: statistics.median(v) for q, v in qs.items()} for n, qs in d["runs"].items()}
    worst = max((m["draft"] / base for m in med.values()), default=float("nan"))
    targets = [
        {
            "target": f"a draft frame of every preset ≤ {DRAFT_TARGET:.2f}× today's default look (the view moves "
            "as fast as today)",
            "measured": f"worst ×{worst:.2f} ({_ms(base)} today)",
            "pass": worst <= DRAFT_TARGET,
        }
    ]
    rows = [
        [
            name,
            f"{_ms(m['draft'])} (×{m['draft'] / base:.2f})",
            f"{_ms(m['final'])} (×{m['final'] / base:.2f})",
            ", ".join(p.removeprefix("vtk") for p in d["passes"].get(f"{name}/final", []) if "Pass" in p) or "none",
        ]
        for name, m in med.items()
    ]
    md = [
        table(["target", "measured", "result"], [[t["target"], t["measured"], verdict(t["pass"])] for t in targets]),
        "",
        f"DenHaag_01.xml, {d['triangles']:,} triangles, {d['size'][0]}×{d['size'][1]}, GL: {d.get('gl')}; today's "
        f"default look: {_ms(base)} a frame (median of {len(d['base'])} blocks around the presets).",
        "",
        table(["look", "draft frame (ratio to today)", "final frame (ratio to today)", "final passes"], rows),
        "",
        f"A block is {d['frames']} frames with the camera turning 0.5° before each (the median counts). Draft is what "
        "the window draws while the camera moves; final is what it refines to after 300 ms at rest, and what every "
        "still and video frame renders. Shadows are VTK's shadow-map passes (a map baked from the sun each frame), "
        "ambient occlusion VTK's SSAO pass, edges vtkPolyDataSilhouette.",
    ]
    return {"name": NAME, "title": TITLE, "targets": targets, "markdown": "\n".join(md), "data": d}


def main(argv: list[str] | None = None) -> int:
    def extra(ap) -> None:
        ap.add_argument("--frames", type=int, default=None, help=f"frames a block (default {FRAMES})")
        ap.add_argument("--looks", nargs="*", default=None, help="only these presets")

    return standalone(run, argv, extra, child=child, mark=MARK)


if __name__ == "__main__":
    sys.exit(main())
