"""CityGML → render-ready arrays: citytwin against VTK's own ``vtkCityGMLReader``.

Input: ``citygml/DenHaag_01.xml`` (24 MB, 844 buildings, LoD2). Each run is a fresh
process; citytwin and VTK runs alternate. Times are the reader call alone (imports
done before the clock starts); peaks are the whole process's peak RSS (``VmHWM``),
nothing subtracted; the peak of an interpreter that only imports the same modules is
shown beside it.

Targets: citytwin at least 4x faster, with at most half VTK's peak memory.

    python -m bench.bench_citygml --shared ../shared/data [--repeat 3]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    baseline,
    fmt_mb,
    fmt_s,
    reader_available,
    repeat_interleaved,
    standalone,
    summarize,
    table,
    verdict,
)

NAME = "citygml"
TITLE = "CityGML → render-ready arrays (DenHaag_01.xml) vs vtkCityGMLReader"
SPEED_TARGET = 4.0
MEMORY_TARGET = 0.5
VTK_MODULES = ["vtkmodules.vtkCommonDataModel", "vtkmodules.vtkIOCityGML"]
CT_MODULES = ["citytwin.io", "citytwin.io.citygml"]


def polydata_hook() -> bool:
    """Whether ``citytwin/render/convert.py`` (model → one vtkPolyData) exists, for the extra row."""
    return (ROOT / "citytwin" / "render" / "convert.py").exists()


def run(shared: Path, repeat: int = 3, log=print) -> dict[str, Any]:
    path = shared / "citygml" / "DenHaag_01.xml"
    have_ct = reader_available("citytwin.io.citygml")
    log(f"[citygml] {path.name} ({path.stat().st_size / 1e6:.1f} MB), {repeat} runs each")
    ct_args: dict[str, Any] = {"path": str(path)}
    if polydata_hook():
        ct_args["polydata"] = True
    jobs = [("vtk", "vtk_citygml", {"path": str(path), "lod": 2})]
    if have_ct:
        jobs.append(("citytwin", "citytwin", ct_args))
    runs = repeat_interleaved(jobs, repeat, log=log)
    vtk = summarize(runs["vtk"])
    ct = summarize(runs["citytwin"]) if have_ct else {"error": "citytwin/io/citygml.py does not exist yet"}
    base_vtk = baseline(VTK_MODULES)
    base_ct = baseline(CT_MODULES) if have_ct else float("nan")

    ok = "error" not in vtk and "error" not in ct
    speed = vtk["op_s"] / ct["op_s"] if ok else None
    mem = ct["peak_rss_mb"] / vtk["peak_rss_mb"] if ok else None
    net_mem = (ct["peak_rss_mb"] - base_ct) / (vtk["peak_rss_mb"] - base_vtk) if ok else None
    e2e = vtk["process_s"] / ct["process_s"] if ok else None
    targets = [
        {
            "target": f"speed: citytwin ≥ {SPEED_TARGET:g}× faster than vtkCityGMLReader (median reader call)",
            "measured": "—" if speed is None else f"{speed:.1f}×",
            "pass": None if speed is None else speed >= SPEED_TARGET,
        },
        {
            "target": f"memory: citytwin peak ≤ {MEMORY_TARGET:g} × VTK peak (whole-process peak RSS)",
            "measured": "—" if mem is None else f"{mem:.2f} ×",
            "pass": None if mem is None else mem <= MEMORY_TARGET,
        },
    ]

    def row(label: str, r: dict[str, Any], base: float) -> list[str]:
        if "error" in r:
            return [label, r["error"], "", "", "", "", ""]
        return [
            label,
            fmt_s(r["op_s"]),
            ", ".join(f"{t:.2f}" for t in r["op_s_all"]),
            fmt_s(r["process_s"]),
            fmt_mb(r["peak_rss_mb"]),
            fmt_mb(base),
            fmt_mb(r["peak_rss_mb"] - base),
        ]

    pd_rows = []
    if "polydata_s" in ct:
        pd_rows.append(
            [
                "citytwin.io.read + mesh_to_polydata (info)",
                fmt_s(ct["op_s"] + ct["polydata_s"]),
                f"read + {ct['polydata_s']:.2f} (median)",
                "",
                fmt_mb(ct["peak_rss_with_polydata_mb"]),
                "",
                "",
            ]
        )
    md = [
        table(
            [
                "reader",
                "median reader call",
                "all runs (s)",
                "median whole process",
                "peak RSS (whole process)",
                "import-only baseline",
                "peak − baseline",
            ],
            [row("vtkCityGMLReader (LoD 2)", vtk, base_vtk), row("citytwin.io.read", ct, base_ct)] + pd_rows,
        ),
        "",
    ]
    if ok:
        ratio_rows = [
            [
                "speed (VTK time / citytwin time), reader call",
                f"{speed:.1f}×",
                f"≥ {SPEED_TARGET:g}×",
                verdict(targets[0]["pass"]),
            ],
            [
                "memory (citytwin peak / VTK peak), whole process",
                f"{mem:.2f}",
                f"≤ {MEMORY_TARGET:g}",
                verdict(targets[1]["pass"]),
            ],
            ["speed, whole process incl. start-up and imports (info)", f"{e2e:.1f}×", "—", ""],
            ["memory, peak − import baseline (info)", f"{net_mem:.2f}", "—", ""],
        ]
        if "cpu_s" in ct and "cpu_s" in vtk:
            cpu_speed = vtk["cpu_s"] / ct["cpu_s"]
            ratio_rows.append(["speed by CPU time of the reader call (info)", f"{cpu_speed:.1f}×", "—", ""])
        if "polydata_s" in ct:
            pd_speed = vtk["op_s"] / (ct["op_s"] + ct["polydata_s"])
            ratio_rows.append(["speed incl. model → one merged vtkPolyData (info)", f"{pd_speed:.1f}×", "—", ""])
        md += [table(["ratio", "value", "target", "result"], ratio_rows), ""]
    keeps = []
    if "error" not in vtk:
        keeps.append(
            [
                "vtkCityGMLReader",
                "LoD 2 only (one LoD per read)",
                f"{vtk['top_blocks']} top blocks, {vtk['leaf_datasets']} leaf vtkPolyData",
                f"{vtk['cells']} cells ({vtk['triangles']} triangles), {vtk['points']} points",
                "cell arrays: " + (", ".join(vtk["cell_arrays"]) or "none") + "; no attributes, no semantics, no ids",
            ]
        )
    if "error" not in ct:
        types = ", ".join(f"{k} {v}" for k, v in sorted(ct["type_counts"].items(), key=lambda kv: -kv[1]))
        extra = f"; model → vtkPolyData {ct['polydata_s']:.2f} s more" if "polydata_s" in ct else ""
        keeps.append(
            [
                "citytwin",
                "all LoDs: " + ", ".join(ct["lods"]),
                f"{ct['objects']} objects ({types})",
                f"{ct['polygons']} polygons → {ct['triangles']} triangles, {ct['vertices']} vertices",
                f"{ct['attribute_names']} attribute names on {ct['objects_with_attributes']} objects; "
                f"per-triangle object id + semantic class ({'/'.join(ct['tri_arrays'])}); "
                f"{ct['materials']} materials{extra}",
            ]
        )
    md.append("What each one keeps:\n")
    md.append(table(["reader", "LoD", "objects", "geometry", "attributes / semantics"], keeps))
    if "error" not in ct and ct.get("warnings"):
        md.append("\ncitytwin warnings: " + "; ".join(ct["warnings"]))
    md.append(
        f"\nTimes: median of {repeat} runs, each in a fresh process, citytwin and VTK alternating; the reader call "
        "alone (imports done before the clock starts). Memory: peak RSS (VmHWM) of the whole process, nothing "
        "subtracted; that is what the ratio uses. The import-only baseline is an interpreter importing the same "
        "modules and nothing else."
    )
    return {
        "name": NAME,
        "title": TITLE,
        "targets": targets,
        "markdown": "\n".join(md),
        "data": {
            "vtk": vtk,
            "citytwin": ct,
            "baseline_vtk_mb": base_vtk,
            "baseline_citytwin_mb": base_ct,
            "file": str(path),
        },
    }


def main(argv: list[str] | None = None) -> int:
    return standalone(run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
