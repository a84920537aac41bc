"""The architecture contract: model and io never import Qt or VTK; render never imports Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_model_and_io_import_without_qt_or_vtk():
    code = (
        "import sys, citytwin.model.geometry, citytwin.model.citymodel, citytwin.io.registry;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','vtk','vtkmodules','pyvista')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
