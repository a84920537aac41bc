"""Which VTK modules the citytwin bundle keeps, and the VTK classes it must still have.

The VTK 9.7 wheel holds 154 ``vtkmodules.vtk*`` extension modules (566 MB with their
libraries); citytwin loads 38 of them. ``packaging/citytwin.spec`` excludes the rest,
and PyInstaller then collects only the ``libvtk*`` libraries that the kept modules
link to.

:data:`KEEP` is what citytwin has in ``sys.modules`` after importing every citytwin
module, opening the window on the sample district and a LAZ file and switching through
every look, and after CLI snapshots (every look, thematic colours, overlays, point
clouds, CityGML, meshes), a tour video, sun hours and a conversion
(``packaging/record_vtk_modules.py`` measures that), together with the modules that a
render window loads by itself on some platform (:data:`RUNTIME`).
``tests/packaging/test_vtk_modules.py`` fails when citytwin starts importing a module
that is not kept, or uses a VTK class that no kept module has; the frozen app checks
:data:`NEEDED_CLASSES` again (``CITYTWIN_BUNDLE_CHECK=1``, run by ``make package-test``).

This file is read by the spec, by the bundle check inside the frozen app and by the
tests; it imports nothing from VTK unless asked.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["KEEP", "NEEDED_CLASSES", "RUNTIME", "available_modules", "excludes", "missing_classes", "needed_classes"]

#: Loaded by citytwin (recorded, see the module docstring); names without the ``vtkmodules.`` prefix.
RECORDED: frozenset[str] = frozenset(
    {
        "vtkChartsCore", "vtkCommonColor", "vtkCommonCore", "vtkCommonDataModel", "vtkCommonExecutionModel",
        "vtkCommonMath", "vtkCommonMisc", "vtkCommonSystem", "vtkCommonTransforms", "vtkFiltersCore",
        "vtkFiltersGeneral", "vtkFiltersGeometry", "vtkFiltersHybrid", "vtkFiltersPython", "vtkFiltersSources",
        "vtkIOCore", "vtkIOImage", "vtkImagingCore", "vtkImagingMath", "vtkImagingSources",
        "vtkInteractionStyle", "vtkInteractionWidgets", "vtkParallelCore", "vtkPythonContext2D",
        "vtkRenderingAnnotation", "vtkRenderingContext2D", "vtkRenderingContextOpenGL2", "vtkRenderingCore",
        "vtkRenderingFreeType", "vtkRenderingHyperTreeGrid", "vtkRenderingLabel", "vtkRenderingMatplotlib",
        "vtkRenderingOpenGL2", "vtkRenderingUI", "vtkRenderingVolume", "vtkRenderingVolumeOpenGL2",
        "vtkViewsContext2D", "vtkViewsCore",
    }
)  # fmt: skip

#: Needed by a render window even where nothing imports them by name: the OpenGL implementations
#: (object-factory overrides of vtkRenderingCore: GLX/EGL/Win32/Cocoa windows, the render passes),
#: the interactor and its default style, text (FreeType), 2D context and volume overrides.
RUNTIME: frozenset[str] = frozenset(
    {
        "vtkRenderingOpenGL2", "vtkRenderingUI", "vtkInteractionStyle", "vtkRenderingFreeType",
        "vtkRenderingContextOpenGL2", "vtkRenderingVolumeOpenGL2",
    }
)  # fmt: skip

#: Every ``vtkmodules.vtk*`` module the bundle keeps.
KEEP: frozenset[str] = RECORDED | RUNTIME

#: Python parts of the VTK wheel that citytwin never uses (``vtk`` and ``vtkmodules.all`` import *every* module).
EXCLUDED_PACKAGES: tuple[str, ...] = (
    "vtk",
    "vtkmodules.all",
    "vtkmodules.generate_pyi",
    "vtkmodules.gtk",
    "vtkmodules.qt",
    "vtkmodules.test",
    "vtkmodules.tk",
    "vtkmodules.web",
    "vtkmodules.wx",
)

#: VTK classes citytwin uses by name (``citytwin/``), through pyvista, or that the render needs.
_COMMON_CLASSES: tuple[str, ...] = (
    # data and arrays
    "vtkCellArray", "vtkDoubleArray", "vtkFloatArray", "vtkGenericCell", "vtkIdTypeArray", "vtkImageData",
    "vtkLookupTable", "vtkPoints", "vtkPolyData", "vtkStaticCellLocator", "vtkStringArray", "vtkStructuredGrid",
    "vtkTypeInt32Array", "vtkTypeInt64Array", "vtkVersion",
    # filters and sources
    "vtkCleanPolyData", "vtkPlaneSource", "vtkPointSetToLabelHierarchy", "vtkPolyDataSilhouette",
    "vtkTriangleFilter", "vtkWindowToImageFilter", "vtkRenderLargeImage",
    # readers (textures)
    "vtkImageReader2Factory", "vtkPNGReader", "vtkJPEGReader", "vtkPNGWriter",
    # scene
    "vtkActor", "vtkActor2D", "vtkAssembly", "vtkBillboardTextActor3D", "vtkCamera", "vtkCornerAnnotation",
    "vtkDataSetMapper", "vtkLabelPlacementMapper", "vtkLabeledDataMapper", "vtkLegendBoxActor", "vtkLight",
    "vtkLightKit", "vtkPolyDataMapper", "vtkPolyDataMapper2D", "vtkPropAssembly", "vtkProperty", "vtkRenderer",
    "vtkRenderWindow", "vtkRenderWindowInteractor", "vtkScalarBarActor", "vtkTextActor", "vtkTextMapper",
    "vtkTextProperty", "vtkTextRenderer", "vtkTexture", "vtkTexturedActor2D", "vtkViewport",
    "vtkInteractorStyleTrackballCamera",
    # OpenGL implementations and render passes (looks: SSAO, shadows, eye-dome lighting)
    "vtkOpenGLRenderer", "vtkOpenGLPolyDataMapper", "vtkOpenGLTexture", "vtkGenericOpenGLRenderWindow",
    "vtkCameraPass", "vtkEDLShading", "vtkRenderStepsPass", "vtkSequencePass", "vtkSSAOPass",
    "vtkShadowMapBakerPass", "vtkShadowMapPass", "vtkToneMappingPass",
    # text rendering
    "vtkMathTextFreeTypeTextRenderer",
)  # fmt: skip

#: The platform's render windows and interactors (VTK builds only its own platform's).
_PLATFORM_CLASSES: dict[str, tuple[str, ...]] = {
    "linux": ("vtkXOpenGLRenderWindow", "vtkEGLRenderWindow", "vtkXRenderWindowInteractor"),
    "win32": ("vtkWin32OpenGLRenderWindow", "vtkWin32RenderWindowInteractor"),
    "darwin": ("vtkCocoaRenderWindow", "vtkCocoaRenderWindowInteractor"),
}

#: Per platform: every class the bundle must have.
NEEDED_CLASSES: dict[str, tuple[str, ...]] = {
    platform: _COMMON_CLASSES + own for platform, own in _PLATFORM_CLASSES.items()
}


def needed_classes(platform: str | None = None) -> tuple[str, ...]:
    """The VTK classes the bundle must have on ``platform`` (``sys.platform`` by default).

    Parameters
    ----------
    platform
        ``"linux"``, ``"win32"`` or ``"darwin"``; other Unixes get Linux's list.

    Returns
    -------
    tuple of str
        Class names, common ones first.
    """
    platform = platform or sys.platform
    key = platform if platform in NEEDED_CLASSES else "linux"
    return NEEDED_CLASSES[key]


def available_modules() -> list[str]:
    """The ``vtk*`` extension modules of the installed VTK wheel (found on disk, none imported).

    Returns
    -------
    list of str
        Names without the ``vtkmodules.`` prefix, sorted.
    """
    spec = importlib.util.find_spec("vtkmodules")
    if spec is None or not spec.submodule_search_locations:
        return []
    names = set()
    for folder in spec.submodule_search_locations:
        for path in Path(folder).glob("vtk*"):
            if path.suffix in (".so", ".pyd") and not path.name.startswith("lib"):
                names.add(path.name.split(".", 1)[0])
    return sorted(names)


def excludes(available: Iterable[str] | None = None) -> list[str]:
    """What the spec passes to PyInstaller's ``excludes``: every VTK module not in :data:`KEEP`.

    Parameters
    ----------
    available
        The wheel's modules (default: :func:`available_modules`).

    Returns
    -------
    list of str
        Dotted module names, ``vtkmodules.vtk…`` first, then :data:`EXCLUDED_PACKAGES`.
    """
    names = available_modules() if available is None else available
    return [f"vtkmodules.{m}" for m in sorted(set(names) - KEEP)] + list(EXCLUDED_PACKAGES)


def missing_classes(classes: Iterable[str] | None = None, modules: Iterable[str] = KEEP) -> list[str]:
    """The classes that none of ``modules`` provides.

    Imports each module that can be imported (in the frozen app only the kept ones
    exist); a module that fails to import provides nothing.

    Parameters
    ----------
    classes
        Class names (default: :func:`needed_classes` for this platform).
    modules
        Module names without the ``vtkmodules.`` prefix (default: :data:`KEEP`).

    Returns
    -------
    list of str
        The missing class names, in the order given; empty when all resolve.
    """
    loaded = []
    for name in sorted(modules):
        try:
            loaded.append(importlib.import_module(f"vtkmodules.{name}"))
        except ImportError:
            continue
    wanted = needed_classes() if classes is None else tuple(classes)
    return [cls for cls in wanted if not any(hasattr(mod, cls) for mod in loaded)]
