"""Help → About names citytwin's version (pyproject's) and the versions of what it runs on."""

from __future__ import annotations

import platform
import tomllib
from pathlib import Path

from citytwin.ui.about import about_text, component_versions, versions_text

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["version"]


def test_about_shows_pyprojects_version_and_vtk_and_qt():
    from PySide6.QtCore import qVersion
    from vtkmodules.vtkCommonCore import vtkVersion

    text = about_text()
    assert f"citytwin {PYPROJECT}" in text
    assert vtkVersion.GetVTKVersion() in text and qVersion() in text
    for name in ("Python", "Qt", "VTK", "pyvista", "numpy", "pyproj", "lxml", "laspy", "trimesh", "PROJ"):
        assert name in text, name
    assert "not available" not in text


def test_versions_for_bug_reports():
    rows = dict(component_versions())
    assert rows["citytwin"] == PYPROJECT and rows["Python"] == platform.python_version()
    import pyproj

    assert pyproj.proj_version_str in rows["pyproj"]
    assert versions_text().splitlines()[0] == f"citytwin {PYPROJECT}"


def test_about_does_not_load_every_vtk_module():
    import subprocess
    import sys

    code = (
        "import sys; from citytwin.ui.about import about_text; about_text(); "
        "print(sum(m.startswith('vtkmodules.vtk') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) < 40  # ``import vtk`` would load all ~150


def test_the_app_has_citytwins_icon_and_desktop_file_name(qapp):
    from citytwin.ui.app import create_app, icon_path

    app = create_app()
    assert icon_path().is_file() and not app.windowIcon().isNull()
    assert app.desktopFileName() == "citytwin"
