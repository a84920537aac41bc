"""CityJSON: citytwin's reader against cjio's loader, same files, same run.

cjio 0.10 has no ``cityjson.load``: its CLI reads a file with
``cityjson.reader(file=open(path))`` (``json.loads`` with a duplicate-key hook) and then
``check_version()``; that is the "cjio load" row. It leaves a raw dict: no
triangulation, no arrays. So a second row adds cjio's own ``triangulate()``, the
closest cjio gets to what citytwin returns (triangles with object ids and semantics
in numpy arrays).

Target: citytwin faster than cjio's loader on each file.

    python -m bench.bench_cityjson --shared ../shared/data [--repeat 3]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import fmt_mb, fmt_s, reader_available, repeat_interleaved, standalone, summarize, table, verdict

NAME = "cityjson"
TITLE = "CityJSON: citytwin vs cjio"
FILES = ("DenHaag_01_v0.8.json", "delft.json")


def run(shared: Path, repeat: int = 3, triangulate: bool = True, log=print) -> dict[str, Any]:
    have_ct = reader_available("citytwin.io.cityjson")
    rows = []
    targets = []
    for name in FILES:
        path = shared / "cityjson" / name
        log(f"[cityjson] {name} ({path.stat().st_size / 1e6:.1f} MB), {repeat} runs each")
        jobs = [("cjio", "cjio", {"path": str(path)})]
        if triangulate:
            jobs.append(("cjio+tri", "cjio", {"path": str(path), "triangulate": True}))
        if have_ct:
            jobs.append(("citytwin", "citytwin", {"path": str(path)}))
        runs = repeat_interleaved(jobs, repeat, log=log)
        res = {label: summarize(r) for label, r in runs.items()}
        if not have_ct:
            res["citytwin"] = {"error": "citytwin/io/cityjson.py does not exist yet"}
        cj, ct = res["cjio"], res["citytwin"]
        ok = "error" not in cj and "error" not in ct
        ratio = cj["op_s"] / ct["op_s"] if ok else None
        targets.append(
            {
                "target": f"{name}: citytwin faster than cjio's loader",
                "measured": "—"
                if ratio is None
                else f"{ratio:.2f}× (cjio {cj['op_s']:.3f} s / citytwin {ct['op_s']:.3f} s)",
                "pass": None if ratio is None else ratio > 1.0,
            }
        )
        rows.append({"file": name, "size_mb": path.stat().st_size / 1e6, "results": res, "ratio": ratio})

    trows = []
    for r in rows:
        res = r["results"]
        for label, what in (
            ("cjio", "cjio `reader()` + `check_version()`: raw dict"),
            ("cjio+tri", "cjio load + `triangulate()`"),
            ("citytwin", "citytwin.io.read: triangles + per-triangle object/semantic arrays"),
        ):
            if label not in res:
                continue
            x = res[label]
            if "error" in x:
                trows.append([r["file"], what, x["error"], "", "", "", ""])
                continue
            if label == "citytwin":
                content = f"{x['objects']} objects, {x['triangles']} triangles, LoDs {', '.join(x['lods'])}"
            else:
                content = f"{x['objects']} objects, {x['vertices']} vertices; version {x['version']}"
                if x.get("version_check") not in (None, "ok"):
                    content += f" (check_version: {x['version_check'].splitlines()[0][:80]})"
            speed = (
                ""
                if label == "citytwin" or "error" in res["citytwin"]
                else f"{x['op_s'] / res['citytwin']['op_s']:.2f}×"
            )
            trows.append(
                [
                    r["file"],
                    what,
                    fmt_s(x["op_s"]),
                    ", ".join(f"{t:.3f}" for t in x["op_s_all"]),
                    fmt_mb(x["peak_rss_mb"]),
                    speed,
                    content,
                ]
            )
    md = [
        table(
            ["file", "loader", "median time", "all runs (s)", "peak RSS", "its time / citytwin's", "what it returns"],
            trows,
        ),
        "",
        table(["target", "measured", "result"], [[t["target"], t["measured"], verdict(t["pass"])] for t in targets]),
        "",
        f"Median of {repeat} runs, each in a fresh process, loaders alternating; the load call alone (imports "
        "before the clock), whole-process peak RSS. The target compares with the plain cjio load.",
    ]
    return {"name": NAME, "title": TITLE, "targets": targets, "markdown": "\n".join(md), "data": {"rows": rows}}


def _extra(ap) -> None:
    ap.add_argument("--no-triangulate", dest="triangulate", action="store_false", default=None)


def main(argv: list[str] | None = None) -> int:
    return standalone(run, argv, _extra)


if __name__ == "__main__":
    raise SystemExit(main())
