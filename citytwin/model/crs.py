"""Coordinate reference systems: what the source says, and reprojection."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_EPSG_PATTERNS = (
    # urn:ogc:def:crs:EPSG::28992, urn:ogc:def:crs:EPSG:6.12:3068, urn:x-ogc:def:crs:EPSG:28992
    re.compile(r"urn:(?:x-)?ogc:def:crs:EPSG:[\d.]*:(\d+)", re.I),
    # http://www.opengis.net/def/crs/EPSG/0/6697 (and https, and /7415 without version)
    re.compile(r"opengis\.net/def/crs/EPSG/[\d.]+/(\d+)", re.I),
    # EPSG:25833, epsg:4326
    re.compile(r"^EPSG:+(\d+)$", re.I),
    # http://www.opengis.net/gml/srs/epsg.xml#4326
    re.compile(r"epsg\.xml#(\d+)", re.I),
)
_COMPOUND = re.compile(r"urn:(?:x-)?ogc:def:crs,crs:EPSG:[\d.]*:(\d+),crs:EPSG:[\d.]*:(\d+)", re.I)
_COMPOUND_HTTP = re.compile(r"def/crs-compound\?1=.*?EPSG/[\d.]+/(\d+)&2=.*?EPSG/[\d.]+/(\d+)", re.I)


@dataclass(frozen=True)
class CRS:
    """A coordinate reference system as the source declared it.

    Attributes
    ----------
    name
        The text the file gave (srsName, referenceSystem), or ``None``.
    epsg
        Horizontal (or full 3D) EPSG code when it could be derived.
    vertical_epsg
        Vertical EPSG code of a compound CRS, when given.
    """

    name: str | None = None
    epsg: int | None = None
    vertical_epsg: int | None = None

    @property
    def code(self) -> str | None:
        """``"EPSG:28992"`` or ``None``."""
        return None if self.epsg is None else f"EPSG:{self.epsg}"

    def __str__(self) -> str:
        if self.epsg is None:
            return self.name or "unknown CRS"
        return self.code + (f" + EPSG:{self.vertical_epsg}" if self.vertical_epsg else "")

    @classmethod
    def parse(cls, text: str | None) -> CRS:
        """Derive EPSG codes from an srsName or CityJSON referenceSystem.

        Unknown spellings (``urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH``) keep their
        name and no code.
        """
        if not text:
            return cls()
        text = text.strip()
        m = _COMPOUND.search(text) or _COMPOUND_HTTP.search(text)
        if m:
            return cls(text, int(m.group(1)), int(m.group(2)))
        for pat in _EPSG_PATTERNS:
            m = pat.search(text)
            if m:
                return cls(text, int(m.group(1)))
        if text.isdigit():
            return cls(text, int(text))
        return cls(text, _ADV_NAMES.get(text.split("*")[0].upper()))


# German AdV names seen in CityGML from the Länder.
_ADV_NAMES = {
    "URN:ADV:CRS:ETRS89_UTM32": 25832,
    "URN:ADV:CRS:ETRS89_UTM33": 25833,
    "URN:ADV:CRS:DE_DHDN_3GK2": 31466,
    "URN:ADV:CRS:DE_DHDN_3GK3": 31467,
    "URN:ADV:CRS:DE_DHDN_3GK4": 31468,
}


@lru_cache(maxsize=64)
def _pyproj_crs(epsg: int):
    from pyproj import CRS as ProjCRS

    return ProjCRS.from_epsg(epsg)


@lru_cache(maxsize=64)
def _horizontal(epsg: int):
    crs = _pyproj_crs(epsg)
    return crs.sub_crs_list[0] if crs.is_compound else crs


def is_geographic(crs: CRS) -> bool:
    """True for latitude/longitude CRSs (EPSG:4326, EPSG:6697 …); False when unknown or projected."""
    if crs.epsg is None:
        return False
    try:
        return bool(_horizontal(crs.epsg).is_geographic)
    except Exception:  # unknown code in this PROJ database
        return False


def lat_first(crs: CRS) -> bool:
    """Whether a geographic CRS lists latitude first, as GML coordinates then do.

    Projected CRSs are taken as easting-first whatever their authority says
    (EPSG:31467 is "northing, easting" on paper, never in CityGML files).
    """
    if not is_geographic(crs):
        return False
    axes = _horizontal(crs.epsg).axis_info
    return bool(axes) and axes[0].direction.lower() == "north"


def display_crs(crs: CRS | None, bounds) -> CRS | None:
    """The CRS a scene is drawn in for a first layer in ``crs``.

    Projected CRSs are used as they are. Latitude/longitude cannot be drawn
    (degrees beside metres of height), so a geographic CRS gets the UTM zone
    of the data's centre; heights pass through.
    """
    if crs is None or not is_geographic(crs):
        return crs
    b = np.asarray(bounds, dtype=np.float64)
    if b.shape != (6,) or not np.isfinite(b).all():
        return crs
    cx, cy = (b[0] + b[3]) / 2, (b[1] + b[4]) / 2
    lat, lon = (cx, cy) if lat_first(crs) else (cy, cx)
    zone = int((lon + 180) // 6) % 60 + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    return CRS(f"EPSG:{epsg}", epsg)


def reproject(points: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """Transform ``(N, 3)`` float64 points between two CRSs with pyproj.

    Geographic sources are read in their authority's axis order (latitude
    first for EPSG:4326/6697, as in GML); projected ones easting first.
    Heights pass through unchanged.

    Raises
    ------
    citytwin.errors.CityTwinError
        When either CRS has no EPSG code or pyproj cannot transform between them.
    """
    from citytwin.errors import CityTwinError

    if source.epsg is None or target.epsg is None:
        raise CityTwinError(f"Cannot reproject from {source} to {target}: both need an EPSG code.")
    pts = np.asarray(points, dtype=np.float64)
    if source.epsg == target.epsg:
        return pts.copy()
    try:
        tr = _transformer(source.epsg, target.epsg)
    except Exception as exc:  # pyproj raises its own CRSError family
        raise CityTwinError(f"Cannot reproject from {source} to {target}: {exc}.") from exc
    x, y = (pts[:, 1], pts[:, 0]) if lat_first(source) else (pts[:, 0], pts[:, 1])
    ox, oy = tr.transform(x, y)
    if lat_first(target):
        ox, oy = oy, ox
    out = np.column_stack([ox, oy, pts[:, 2]])
    if not np.isfinite(out).all():
        raise CityTwinError(f"Reprojection from {source} to {target} produced invalid coordinates.")
    return out


@lru_cache(maxsize=32)
def _transformer(source: int, target: int):
    from pyproj import Transformer

    return Transformer.from_crs(_horizontal(source), _horizontal(target), always_xy=True)
