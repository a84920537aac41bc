"""The VTK trimming of the frozen app can never drop what citytwin loads (packaging/vtk_modules.py).

Fast and builds nothing: one fresh interpreter imports every citytwin module (and
pyvistaqt, which the window imports when it opens) and lists the VTK modules it
loaded; the VTK classes citytwin names in its source must be listed, and every listed
class must come from a kept module. ``make package-test`` checks the same classes
inside the frozen app.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.packaging.conftest import load

ROOT = Path(__file__).resolve().parents[2]
vtk_modules = load("vtk_modules")

_IMPORT_ALL = """
import importlib, json, pkgutil, sys
import citytwin
for info in pkgutil.walk_packages(citytwin.__path__, "citytwin."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
import pyvista.plotting, pyvistaqt  # what the window imports when it opens
print(json.dumps(sorted(m for m in sys.modules if m.startswith("vtkmodules.vtk"))))
"""


def test_every_vtk_module_citytwin_imports_is_kept():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run([sys.executable, "-c", _IMPORT_ALL], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    loaded = {name.split(".", 1)[1] for name in json.loads(p.stdout.strip().splitlines()[-1])}
    assert "vtkRenderingOpenGL2" in loaded
    dropped = sorted(loaded - vtk_modules.KEEP)
    assert not dropped, f"citytwin imports VTK modules the bundle would leave out; add them to KEEP: {dropped}"


def test_the_keep_list_names_modules_of_the_installed_vtk():
    available = set(vtk_modules.available_modules())
    assert len(available) > len(vtk_modules.KEEP)
    assert vtk_modules.KEEP <= available, sorted(vtk_modules.KEEP - available)
    assert vtk_modules.RUNTIME <= vtk_modules.KEEP


def test_excludes_leave_out_everything_else_and_nothing_kept():
    excluded = vtk_modules.excludes()
    assert {"vtk", "vtkmodules.all", "vtkmodules.web"} <= set(excluded)
    kept = {f"vtkmodules.{m}" for m in vtk_modules.KEEP}
    assert not kept & set(excluded)
    assert len([e for e in excluded if e.startswith("vtkmodules.vtk")]) == len(
        set(vtk_modules.available_modules()) - vtk_modules.KEEP
    )


def test_every_needed_class_resolves_from_the_kept_modules():
    assert vtk_modules.missing_classes() == []
    for needed in ("vtkSSAOPass", "vtkShadowMapPass", "vtkToneMappingPass", "vtkEDLShading", "vtkImageReader2Factory"):
        assert needed in vtk_modules.needed_classes()
    if sys.platform.startswith("linux"):
        assert {"vtkXOpenGLRenderWindow", "vtkEGLRenderWindow"} <= set(vtk_modules.needed_classes())


def test_missing_classes_reports_a_class_no_kept_module_has():
    assert vtk_modules.missing_classes(["vtkPolyData", "vtkCityGMLReader"]) == ["vtkCityGMLReader"]


def test_every_vtk_class_citytwin_names_is_listed():
    modules = set(vtk_modules.available_modules())
    named = set()
    for path in (ROOT / "citytwin").rglob("*.py"):
        named |= set(re.findall(r"\bvtk[A-Z][A-Za-z0-9]+", path.read_text(encoding="utf-8")))
    listed = {cls for classes in vtk_modules.NEEDED_CLASSES.values() for cls in classes}
    unlisted = sorted(named - modules - listed)
    assert not unlisted, f"citytwin names VTK classes packaging/vtk_modules.py does not list: {unlisted}"


def test_each_platform_lists_its_render_window():
    assert "vtkWin32OpenGLRenderWindow" in vtk_modules.needed_classes("win32")
    assert "vtkCocoaRenderWindow" in vtk_modules.needed_classes("darwin")
    assert vtk_modules.needed_classes("freebsd14") == vtk_modules.needed_classes("linux")
