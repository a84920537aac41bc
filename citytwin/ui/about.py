"""The About box."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def about_text() -> str:
    import platform

    import citytwin

    try:
        import vtk

        vtk_version = vtk.vtkVersion.GetVTKVersion()
    except Exception:  # pragma: no cover - VTK always present in the app
        vtk_version = "?"
    from PySide6 import __version__ as pyside_version

    return (
        f"<h3>citytwin {citytwin.__version__}</h3>"
        "<p>Open 3D city models (CityGML, CityJSON), explore them, and show them to people.</p>"
        "<p><b>Navigate:</b> drag to orbit around the point under the mouse, right-drag or Shift+drag to pan, "
        "scroll to zoom towards the mouse, click an object to inspect it.</p>"
        f"<p style='color:gray'>Python {platform.python_version()} · Qt (PySide6) {pyside_version} · "
        f"VTK {vtk_version}<br>Licence: Apache-2.0</p>"
    )


def show_about(parent: QWidget | None) -> None:
    QMessageBox.about(parent, "About citytwin", about_text())
