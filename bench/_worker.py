"""One measurement in a fresh interpreter: ``python -m bench._worker TASK '{"json": "args"}'``.

The parent (:func:`bench.common.measure`) starts one of these per measurement, so each
peak-memory figure belongs to exactly one reader run. The worker imports what the task
needs *before* starting the clock (so import time is reported apart), times only the
operation with ``perf_counter``, reads the peak RSS of the whole process (``VmHWM``)
right after it, then counts what the result holds and prints one JSON line prefixed
with :data:`MARK`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from typing import Any

MARK = "BENCH_RESULT "


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (``VmHWM``; ``ru_maxrss`` elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- tasks
def task_imports(args: dict[str, Any]) -> dict[str, Any]:
    """Baseline: an interpreter that only imports the given modules."""
    import importlib

    t0 = time.perf_counter()
    for mod in args["modules"]:
        importlib.import_module(mod)
    return {"import_s": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}


def task_vtk_citygml(args: dict[str, Any]) -> dict[str, Any]:
    """VTK's ``vtkCityGMLReader`` (libcitygml inside): one LoD, geometry only."""
    t0 = time.perf_counter()
    from vtkmodules.vtkCommonDataModel import VTK_TRIANGLE
    from vtkmodules.vtkIOCityGML import vtkCityGMLReader

    t_import = time.perf_counter() - t0
    rss_import = peak_rss_mb()
    r = vtkCityGMLReader()
    r.SetFileName(args["path"])
    r.SetLOD(int(args.get("lod", 2)))
    t0, c0 = time.perf_counter(), time.process_time()
    r.Update()
    op_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mb()

    mb = r.GetOutput()
    it = mb.NewTreeIterator()
    it.VisitOnlyLeavesOn()
    it.InitTraversal()
    leaves = points = cells = tris = 0
    cell_arrays: set[str] = set()
    while not it.IsDoneWithTraversal():
        ds = it.GetCurrentDataObject()
        leaves += 1
        points += ds.GetNumberOfPoints()
        n = ds.GetNumberOfCells()
        cells += n
        if hasattr(ds, "IsHomogeneous") and n and ds.IsHomogeneous() and ds.GetCellType(0) == VTK_TRIANGLE:
            tris += n
        elif n:
            tris += sum(1 for i in range(n) if ds.GetCellType(i) == VTK_TRIANGLE)
        cd = ds.GetCellData()
        cell_arrays.update(cd.GetArrayName(i) or "?" for i in range(cd.GetNumberOfArrays()))
        it.GoToNextItem()
    return {
        "import_s": t_import,
        "rss_after_import_mb": rss_import,
        "op_s": op_s,
        "cpu_s": cpu_s,
        "peak_rss_mb": peak,
        "top_blocks": mb.GetNumberOfBlocks(),
        "leaf_datasets": leaves,
        "points": points,
        "cells": cells,
        "triangles": tris,
        "cell_arrays": sorted(cell_arrays),
    }


def task_citytwin(args: dict[str, Any]) -> dict[str, Any]:
    """citytwin: ``citytwin.io.read`` to triangles with per-triangle object id and semantic class."""
    t0 = time.perf_counter()
    import citytwin.io as cio
    from citytwin.io.registry import pick_reader

    pick_reader(args["path"]).load()  # import the format's reader module before the clock starts
    t_import = time.perf_counter() - t0
    rss_import = peak_rss_mb()

    t0, c0 = time.perf_counter(), time.process_time()
    model = cio.read(args["path"])
    mesh = model.mesh
    tri_object = mesh.tri_object  # render-ready: (T,) object index and semantic class per triangle
    tri_semantic = mesh.tri_semantic
    op_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mb()

    out: dict[str, Any] = {
        "import_s": t_import,
        "rss_after_import_mb": rss_import,
        "op_s": op_s,
        "cpu_s": cpu_s,
        "peak_rss_mb": peak,
        "format": f"{model.format} {model.version}",
        "objects": len(model.objects),
        "type_counts": model.objects.type_counts(),
        "unique_ids": len(set(model.objects.ids)) == len(model.objects),
        "objects_with_attributes": sum(1 for a in model.objects.attributes if a),
        "attribute_names": len(model.objects.attribute_names()),
        "vertices": int(len(mesh.vertices)),
        "polygons": mesh.n_polygons,
        "triangles": mesh.n_triangles,
        "tri_arrays": [str(tri_object.dtype), str(tri_semantic.dtype)],
        "lods": list(model.lods),
        "semantic_classes": len(mesh.semantic_classes),
        "materials": len(mesh.materials),
        "warnings": list(model.warnings)[:5],
    }
    if args.get("polydata"):
        # Optional next step, timed apart: model arrays -> one merged vtkPolyData (citytwin/render/convert.py),
        # i.e. what VTK's reader hands over. Runs after the peak above was read; pyvista is imported first.
        try:
            from citytwin.render.convert import choose_origin, mesh_to_polydata

            t0 = time.perf_counter()
            pd = mesh_to_polydata(mesh, choose_origin(model.bounds), objects=model.objects)
            out["polydata_s"] = time.perf_counter() - t0
            out["polydata_cells"] = int(pd.GetNumberOfCells())
            out["peak_rss_with_polydata_mb"] = peak_rss_mb()
        except Exception as exc:  # the render module is optional here
            out["polydata_error"] = f"{type(exc).__name__}: {exc}"
    return out


def task_cjio(args: dict[str, Any]) -> dict[str, Any]:
    """cjio 0.10's loader, as its CLI runs it: ``cityjson.reader(file)`` then ``check_version()``."""
    t0 = time.perf_counter()
    import warnings

    from cjio import cityjson

    t_import = time.perf_counter() - t0
    rss_import = peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    with open(args["path"], encoding="utf-8-sig") as fh:
        cm = cityjson.reader(file=fh)
    version_note = "ok"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cm.check_version()
        except Exception as exc:  # cjio refuses old versions on its CLI; the load itself is done
            version_note = f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}"
    if caught and version_note == "ok":
        version_note = f"warning: {caught[0].message}"
    t_load = time.perf_counter() - t0
    out: dict[str, Any] = {"import_s": t_import, "rss_after_import_mb": rss_import, "op_s": t_load}
    if args.get("triangulate"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cm.triangulate(sloppy=False)
        out["op_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    out["peak_rss_mb"] = peak_rss_mb()
    out["load_s"] = t_load
    out["version_check"] = version_note
    out["version"] = cm.j.get("version")
    cos = cm.j.get("CityObjects", {})
    out["objects"] = len(cos)
    out["type_counts"] = dict(Counter(co.get("type", "?") for co in cos.values()))
    out["vertices"] = len(cm.j.get("vertices", []))
    return out


def task_project_data(args: dict[str, Any]) -> dict[str, Any]:
    """Reference for opening a project: reading its data files alone, with the same options."""
    from citytwin.io.project import load_options, read_project
    from citytwin.io.registry import read

    sources = read_project(args["project"]).sources  # only to know the files: not timed
    t0, c0 = time.perf_counter(), time.process_time()
    models = [read(s.path, load_options(s)) for s in sources]
    op_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return {"op_s": op_s, "cpu_s": cpu_s, "peak_rss_mb": peak_rss_mb(), "models": len(models)}


def task_project_open(args: dict[str, Any]) -> dict[str, Any]:
    """Opening a project without a window: the file, its sources, and a scene with layers and items."""
    import citytwin.io.registry  # noqa: F401 - imported before the clock, as the reference does
    from citytwin.io.project import read_project, read_sources
    from citytwin.model.layers import CityModelLayer
    from citytwin.model.pointcloud import PointCloudLayer
    from citytwin.model.scene import Scene

    t0, c0 = time.perf_counter(), time.process_time()
    project = read_project(args["project"])
    loaded, problems = read_sources(project)
    scene = Scene()
    for source, model in loaded:
        if hasattr(model, "records"):
            layer = PointCloudLayer(name=source.display_name, cloud=model)
        else:
            layer = CityModelLayer(name=source.display_name, model=model)
        scene.add_layer(layer, undoable=False)
    scene.pins.extend(project.pins)
    scene.measurements.extend(project.measurements)
    scene.bookmarks.extend(project.bookmarks)
    scene.camera = project.camera
    op_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return {
        "op_s": op_s,
        "cpu_s": cpu_s,
        "peak_rss_mb": peak_rss_mb(),
        "layers": len(scene.layers),
        "pins": len(scene.pins),
        "bookmarks": len(scene.bookmarks),
        "problems": problems,
    }


def task_project_save(args: dict[str, Any]) -> dict[str, Any]:
    """Saving a project with ``n`` pins (atomic write, backup of the previous file)."""
    from pathlib import Path

    from citytwin.model.project import Project

    p = Project()
    for i in range(int(args["n"])):
        p.add_pin((85_000.0 + i * 0.37, 446_000.0 + i * 0.11, 10.0 + i % 40), f"Pin {i}", description="A note.")
    target = Path(args["path"])
    p.save(target)  # the first save creates the file; the timed one replaces it (with a backup)
    t0, c0 = time.perf_counter(), time.process_time()
    p.save(target)
    op_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return {"op_s": op_s, "cpu_s": cpu_s, "peak_rss_mb": peak_rss_mb(), "bytes": target.stat().st_size}


TASKS = {
    "imports": task_imports,
    "project_data": task_project_data,
    "project_open": task_project_open,
    "project_save": task_project_save,
    "vtk_citygml": task_vtk_citygml,
    "citytwin": task_citytwin,
    "cjio": task_cjio,
}


def main() -> int:
    task = sys.argv[1]
    args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    res = TASKS[task](args)
    sys.stdout.write(MARK + json.dumps(res) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
