"""Write CityJSON 2.0 (and CityJSONSeq) files atomically, with quantised vertices."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from citytwin.errors import CityTwinError
from citytwin.io.atomic import write_atomic

CITYJSON_VERSION = "2.0"


def quantise(vertices: np.ndarray, scale: float = 0.001) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Integer vertices and the CityJSON ``transform`` that turns them back into coordinates.

    ``translate`` is the minimum corner, so the integers stay small; every
    coordinate comes back within ``scale / 2`` of where it was.

    Parameters
    ----------
    vertices
        ``(N, 3)`` float64 coordinates.
    scale
        The step of the integer grid, in CRS units (0.001 = millimetres).

    Returns
    -------
    integers
        ``(N, 3)`` int64.
    transform
        ``{"scale": [s, s, s], "translate": [x0, y0, z0]}``.

    Raises
    ------
    CityTwinError
        For coordinates that are not finite, a scale that is not positive, or
        coordinates too far apart for 64-bit integers at that scale.
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    if not (np.isfinite(scale) and scale > 0):
        raise CityTwinError(f"The quantisation scale must be a positive number, not {scale!r}.")
    if not np.isfinite(v).all():
        raise CityTwinError("Cannot write vertices that are NaN or infinite.")
    translate = v.min(axis=0) if len(v) else np.zeros(3)
    steps = (v - translate) / scale
    if len(v) and steps.max() >= 2.0**53:
        raise CityTwinError(f"The coordinates span too much to be stored with a scale of {scale}.")
    ints = np.rint(steps).astype(np.int64)
    return ints, {"scale": [float(scale)] * 3, "translate": [float(t) for t in translate]}


def build_document(
    vertices: np.ndarray,
    cityobjects: dict[str, Any],
    *,
    scale: float = 0.001,
    epsg: int | None = None,
    metadata: dict[str, Any] | None = None,
    appearance: dict[str, Any] | None = None,
    geometry_templates: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A CityJSON 2.0 document whose ``vertices`` are quantised with :func:`quantise`.

    Parameters
    ----------
    vertices
        ``(N, 3)`` float64 coordinates that the boundaries of ``cityobjects`` index.
    cityobjects
        The ``CityObjects`` member, as CityJSON 2.0 wants it.
    scale
        Quantisation step.
    epsg
        Written as ``metadata.referenceSystem`` when given.
    metadata, appearance, geometry_templates
        Optional members, copied as given (``geographicalExtent`` is computed
        from the vertices unless ``metadata`` has one).
    """
    ints, transform = quantise(vertices, scale)
    meta = dict(metadata or {})
    if epsg is not None:
        meta.setdefault("referenceSystem", f"https://www.opengis.net/def/crs/EPSG/0/{int(epsg)}")
    if len(ints) and "geographicalExtent" not in meta:
        v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        meta["geographicalExtent"] = [float(x) for x in (*v.min(axis=0), *v.max(axis=0))]
    doc: dict[str, Any] = {
        "type": "CityJSON",
        "version": CITYJSON_VERSION,
        "transform": transform,
        "metadata": meta,
        "CityObjects": cityobjects,
        "vertices": ints.tolist(),
    }
    if appearance:
        doc["appearance"] = appearance
    if geometry_templates:
        doc["geometry-templates"] = geometry_templates
    return doc


def _dumps(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        raise CityTwinError(f"The document cannot be written as JSON ({exc}).") from exc


def write_cityjson(path: str | Path, document: dict[str, Any]) -> Path:
    """Write a CityJSON document atomically (a reader never sees half a file).

    Parameters
    ----------
    path
        Destination; its folder must exist.
    document
        The CityJSON object, e.g. from :func:`build_document`.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    CityTwinError
        If the document holds something JSON cannot represent.
    OSError
        If the folder is not writable.
    """
    return write_atomic(Path(path), [_dumps(document)])


def write_cityjsonseq(path: str | Path, header: dict[str, Any], features: Iterable[dict[str, Any]]) -> Path:
    """Write a CityJSONSeq file atomically: the header line, then one feature per line.

    ``header`` is a CityJSON object (its ``CityObjects`` and ``vertices`` are
    written empty); each feature is a ``CityJSONFeature`` with vertices
    quantised with the header's transform.
    """
    head = dict(header)
    head["CityObjects"] = {}
    head["vertices"] = []

    def lines() -> Iterable[bytes]:
        yield _dumps(head) + b"\n"
        for feature in features:
            yield _dumps(feature) + b"\n"

    return write_atomic(Path(path), lines())
