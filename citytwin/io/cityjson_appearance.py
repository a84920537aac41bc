"""CityJSON ``appearance``: materials, texture images and texture coordinates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from citytwin.io.files import is_regular_file
from citytwin.model.geometry import Material, Texture


def _colour(value: Any) -> tuple[float, float, float] | None:
    if type(value) is not list or len(value) != 3:
        return None
    try:
        r, g, b = float(value[0]), float(value[1]), float(value[2])
    except (TypeError, ValueError):
        return None
    return (r, g, b)


def _number(value: Any) -> float | None:
    return float(value) if type(value) is float or type(value) is int else None


def parse_materials(items: Any) -> list[Material]:
    """Turn ``appearance.materials`` into :class:`Material` objects.

    Parameters
    ----------
    items
        The JSON list; entries that are not objects become a default material
        so that indices stay aligned.
    """
    out: list[Material] = []
    default = (0.8, 0.8, 0.8)
    for item in items if type(items) is list else []:
        if type(item) is not dict:
            out.append(Material())
            continue
        get = item.get
        transparency = _number(get("transparency"))
        name = get("name")
        out.append(
            Material(
                _colour(get("diffuseColor")) or default,
                0.0 if transparency is None else min(max(transparency, 0.0), 1.0),
                name if type(name) is str else None,
                _colour(get("specularColor")),
                _colour(get("emissiveColor")),
                _number(get("shininess")),
            )
        )
    return out


def parse_textures(items: Any, base: Path | None) -> tuple[list[Texture], int]:
    """Turn ``appearance.textures`` into :class:`Texture` objects.

    Image paths are resolved against the folder of the file (``base``); URLs
    are kept as they are and count as not available locally.

    Returns
    -------
    textures
        One per entry, aligned with the JSON list.
    missing
        How many of them point to an image that does not exist.
    """
    out: list[Texture] = []
    missing = 0
    for item in items if isinstance(items, list) else []:
        image = item.get("image") if isinstance(item, dict) else None
        if not isinstance(image, str) or not image:
            out.append(Texture(path="", exists=False))
            missing += 1
            continue
        if "://" in image:
            out.append(Texture(path=image, exists=False))
            missing += 1
            continue
        path = Path(image)
        if not path.is_absolute() and base is not None:
            path = base / path
        exists = is_regular_file(path)
        missing += not exists
        out.append(Texture(path=str(path), exists=exists))
    return out, missing


def texture_vertices(items: Any) -> np.ndarray:
    """``appearance["vertices-texture"]`` as an ``(N, 2)`` float64 array (empty when absent or malformed)."""
    if not isinstance(items, list) or not items:
        return np.zeros((0, 2))
    try:
        uv = np.array(items, dtype=np.float64)
    except (ValueError, TypeError):
        return np.zeros((0, 2))
    if uv.ndim != 2 or uv.shape[1] != 2:
        return np.zeros((0, 2))
    return uv
