"""citytwin: open 3D city models, look at them, and show them to people."""

from __future__ import annotations

__all__ = ["Bookmark", "CameraState", "Keyframe", "Measurement", "Pin", "Project", "Tour", "__version__", "open"]

#: Public names imported on first use, so ``import citytwin`` stays light.
_LAZY = {
    "Project": "citytwin.model.project",
    "CameraState": "citytwin.model.camera",
    "Pin": "citytwin.model.annotations",
    "Measurement": "citytwin.model.annotations",
    "Bookmark": "citytwin.model.annotations",
    "Tour": "citytwin.model.tours",
    "Keyframe": "citytwin.model.tours",
}


def __getattr__(name: str):
    if name == "__version__":  # from the package metadata (pyproject's [project] version), read on first use
        from citytwin._version import version

        return version()
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'citytwin' has no attribute {name!r}")


def open(path, options=None, progress=None, cancel=None):  # noqa: A001 - mirrors io.open
    """Read a city-model file into a :class:`citytwin.model.citymodel.CityModel`.

    See :func:`citytwin.io.registry.read` for the parameters.
    """
    from citytwin.io.registry import read

    return read(path, options=options, progress=progress, cancel=cancel)
