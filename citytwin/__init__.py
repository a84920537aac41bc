"""citytwin: open 3D city models, look at them, and show them to people."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "open"]


def open(path, options=None, progress=None, cancel=None):  # noqa: A001 - mirrors io.open
    """Read a city-model file into a :class:`citytwin.model.citymodel.CityModel`.

    See :func:`citytwin.io.registry.read` for the parameters.
    """
    from citytwin.io.registry import read

    return read(path, options=options, progress=progress, cancel=cancel)
