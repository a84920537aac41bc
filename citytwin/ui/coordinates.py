"""Coordinates as a person reads them: back in the file's CRS, degrees for latitude/longitude.

The scene draws latitude/longitude files in their UTM zone (``scene.display_crs``);
the status bar and the inspector speak the CRS of the file (``scene.crs``).
No Qt here: plain functions, tested without a window.
"""

from __future__ import annotations

import numpy as np

from citytwin.model.crs import CRS, is_geographic, lat_first, reproject


def to_source(display_xyz, scene) -> np.ndarray:
    """``(3,)`` float64: a point of the scene's display CRS in the CRS of its first layer."""
    p = np.asarray(display_xyz, dtype=np.float64).reshape(3)
    src, shown = scene.crs, scene.display_crs
    if src is None or shown is None or src.epsg is None or shown.epsg is None or src.epsg == shown.epsg:
        return p
    try:
        return reproject(p[None], shown, src)[0]
    except Exception:  # a point outside the projection's domain: show what is drawn
        return p


def format_position(xyz, crs: CRS | None) -> str:
    """``"35.54172° N 139.71391° E, 12.3 m"`` for geographic CRSs, ``"x 85,012.34  y …  z … m"`` otherwise.

    ``xyz`` is in ``crs``'s axis order (latitude first where the CRS says so, as
    :func:`~citytwin.model.crs.reproject` returns it).
    """
    a, b, z = (float(v) for v in np.asarray(xyz, dtype=np.float64).reshape(3))
    if crs is not None and is_geographic(crs):
        lat, lon = (a, b) if lat_first(crs) else (b, a)
        ns = "N" if lat >= 0 else "S"
        ew = "E" if lon >= 0 else "W"
        return f"{abs(lat):.5f}° {ns} {abs(lon):.5f}° {ew}, {z:,.1f} m"
    return f"x {a:,.2f}  y {b:,.2f}  z {z:,.2f} m"
