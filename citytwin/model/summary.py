"""The keys every model's ``summary()`` shares (what ``citytwin info --json`` promises scripts)."""

from __future__ import annotations

from typing import Any

import numpy as np

from citytwin.model.crs import CRS


def base_summary(format: str, version: str, crs: CRS, bounds: np.ndarray, warnings: list[str]) -> dict[str, Any]:  # noqa: A002
    """Format, version, CRS, bounds and warnings, with empty geometry counts for the caller to fill."""
    b = np.asarray(bounds, dtype=np.float64)
    return {
        "format": format,
        "version": version,
        "crs": crs.code,
        "crs_name": crs.name,
        "vertical_crs": None if crs.vertical_epsg is None else f"EPSG:{crs.vertical_epsg}",
        "bounds": None if b.shape != (6,) or not np.isfinite(b).all() else [float(v) for v in b],
        "objects": {},
        "lods": [],
        "polygons": 0,
        "triangles": 0,
        "attributes": [],
        "warnings": list(warnings),
    }
