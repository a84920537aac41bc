"""The About box: citytwin's version and the versions of the libraries it runs on.

The same lines go to the clipboard with "Copy Versions", for bug reports.
"""

from __future__ import annotations

import html
import platform
from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

__all__ = ["about_text", "component_versions", "show_about", "versions_text"]


def _vtk() -> str:
    from vtkmodules.vtkCommonCore import vtkVersion  # not ``import vtk``: that loads every VTK module

    return vtkVersion.GetVTKVersion()


def _qt() -> str:
    import PySide6
    from PySide6.QtCore import qVersion

    return f"{qVersion()} (PySide6 {PySide6.__version__})"


def _numpy() -> str:
    import numpy

    return numpy.__version__


def _pyproj() -> str:
    import pyproj

    return f"{pyproj.__version__} (PROJ {pyproj.proj_version_str})"


def _lxml() -> str:
    from lxml import etree

    return f"{etree.__version__} (libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))})"


def _module_version(name: str) -> Callable[[], str]:
    def get() -> str:
        import importlib

        return str(importlib.import_module(name).__version__)

    return get


#: (shown name, how to ask for its version), in the order the About box lists them.
_COMPONENTS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("Python", platform.python_version),
    ("Qt", _qt),
    ("VTK", _vtk),
    ("pyvista", _module_version("pyvista")),
    ("numpy", _numpy),
    ("pyproj", _pyproj),
    ("lxml", _lxml),
    ("laspy", _module_version("laspy")),
    ("trimesh", _module_version("trimesh")),
)


def component_versions() -> list[tuple[str, str]]:
    """The versions of citytwin and of what it runs on.

    Returns
    -------
    list of (str, str)
        ``("citytwin", "0.1.0")`` first, then Python, Qt (with PySide6), VTK, pyvista,
        numpy, pyproj (with PROJ), lxml (with libxml2), laspy and trimesh. A library
        that cannot be imported shows ``"not available"``.
    """
    import citytwin

    rows = [("citytwin", citytwin.__version__)]
    for name, get in _COMPONENTS:
        try:
            rows.append((name, get()))
        except Exception:  # an optional part missing from this installation
            rows.append((name, "not available"))
    return rows


def versions_text() -> str:
    """:func:`component_versions` as plain text, one ``name version`` per line (for bug reports)."""
    return "\n".join(f"{name} {value}" for name, value in component_versions())


def about_text() -> str:
    """The About box's rich text: what citytwin is, how to navigate, and the versions."""
    rows = component_versions()
    version = rows[0][1]
    listed = "".join(
        f"<tr><td>{html.escape(name)}</td><td>&nbsp;{html.escape(value)}</td></tr>" for name, value in rows[1:]
    )
    return (
        f"<h3>citytwin {html.escape(version)}</h3>"
        "<p>Open 3D city models (CityGML, CityJSON, LiDAR, meshes), explore them, and show them to people.</p>"
        "<p><b>Navigate:</b> drag to orbit around the point under the mouse, right-drag or Shift+drag to pan, "
        "scroll to zoom towards the mouse, click an object to inspect it.</p>"
        f"<table style='color:gray'>{listed}</table>"
        "<p style='color:gray'>Licence: Apache-2.0</p>"
    )


def show_about(parent: QWidget | None) -> None:
    """Show the About box (modal); "Copy Versions" puts :func:`versions_text` on the clipboard and closes it."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    box = QMessageBox(parent)
    box.setWindowTitle("About citytwin")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text())
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if not QGuiApplication.windowIcon().isNull():
        box.setIconPixmap(QGuiApplication.windowIcon().pixmap(64, 64))
    copy = box.addButton("Copy Versions", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(versions_text()))
    box.exec()
