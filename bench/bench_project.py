"""Projects: opening one costs little more than reading its data; saving 10,000 annotations is quick.

The project holds DenHaag_01.xml (CityGML, 24 MB), ahn3_cropped_1.laz, 500 pins
and 50 bookmarks with thumbnails. "Open" reads the project file, every source
with its load options, and builds the scene with its layers, pins and
bookmarks (no window); the reference reads the same data files alone, in the
same run, alternating, each in a fresh process.

Targets: open ≤ 1.1 × reading the data alone; saving a project with 10,000
pins < 200 ms.

    python -m bench.bench_project --shared ../shared/data [--repeat 3]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import DEFAULT_WORK, repeat_interleaved, standalone, summarize, table, verdict

NAME = "project"
TITLE = "Projects: open and save"
OPEN_RATIO = 1.1
SAVE_S = 0.2


def make_project(shared: Path, work: Path) -> Path:
    """The benchmark's project file (data referenced in the shared folder, not copied)."""
    from citytwin.model.camera import CameraState
    from citytwin.model.project import CityLayerSettings, PointLayerSettings, Project

    work.mkdir(parents=True, exist_ok=True)
    p = Project()
    city = p.add_source(shared / "citygml" / "DenHaag_01.xml")
    city.layer = CityLayerSettings(opacity=0.9, hidden_types=["CityFurniture"])
    cloud = p.add_source(shared / "lidar" / "ahn3_cropped_1.laz")
    cloud.layer = PointLayerSettings(point_size=3.0)
    for i in range(500):
        p.add_pin((81_000.0 + i, 455_000.0 + i / 2, 10.0), f"Pin {i}", description="A note", source=city.id)
    thumb = bytes(range(256)) * 40  # ~10 kB, the size of a 192×108 PNG thumbnail
    for i in range(50):
        cam = CameraState((81_000.0 + i, 454_500.0, 300.0), (81_200.0, 455_200.0, 0.0))
        p.add_bookmark(f"View {i}", cam, thumbnail=thumb)
    p.camera = p.bookmarks[0].camera
    return p.save(work / "bench.citytwin")


def run(shared: Path, repeat: int = 3, log=print) -> dict[str, Any]:
    work = DEFAULT_WORK / "project"
    path = make_project(shared, work)
    log(f"[project] {path} with 2 sources, 500 pins, 50 bookmarks; {repeat} runs each")
    runs = repeat_interleaved(
        [
            ("data alone", "project_data", {"project": str(path)}),
            ("project", "project_open", {"project": str(path)}),
            ("save 10,000 pins", "project_save", {"n": 10_000, "path": str(work / "save.citytwin")}),
        ],
        repeat,
        log=log,
    )
    res = {label: summarize(r) for label, r in runs.items()}
    data, opened, save = res["data alone"], res["project"], res["save 10,000 pins"]
    targets = []
    ratio = opened["op_s"] / data["op_s"] if "error" not in data and "error" not in opened else None
    targets.append(
        {
            "target": f"open a project ≤ {OPEN_RATIO}× reading its data alone (DenHaag_01 + a LAZ, 500 pins, "
            "50 bookmarks)",
            "measured": "—" if ratio is None else f"{ratio:.3f}× ({opened['op_s']:.2f} s vs {data['op_s']:.2f} s)",
            "pass": None if ratio is None else ratio <= OPEN_RATIO,
        }
    )
    if ratio is not None:
        cpu = opened["cpu_s"] / data["cpu_s"]
        targets.append(
            {
                "target": "(info) the same by CPU time, which other work on the machine affects less",
                "measured": f"{cpu:.3f}×",
                "pass": None,
            }
        )
    ok = "error" not in save
    targets.append(
        {
            "target": f"save a project with 10,000 pins < {SAVE_S * 1000:.0f} ms",
            "measured": "—" if not ok else f"{save['op_s'] * 1000:.0f} ms ({save['bytes'] / 1e6:.1f} MB)",
            "pass": None if not ok else save["op_s"] < SAVE_S,
        }
    )
    rows = [
        [label, f"{r.get('op_s', float('nan')):.3f} s", f"{r.get('peak_rss_mb', float('nan')):.0f} MiB"]
        for label, r in res.items()
    ]
    md = [
        table(["operation", "median time", "peak RSS"], rows),
        "",
        table(["target", "measured", "result"], [[t["target"], t["measured"], verdict(t["pass"])] for t in targets]),
        "",
        f"Median of {repeat} runs, each in a fresh process, alternating; the operation alone (imports before the "
        "clock).",
    ]
    return {"name": NAME, "title": TITLE, "targets": targets, "markdown": "\n".join(md), "data": res}


def main(argv: list[str] | None = None) -> int:
    return standalone(run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
