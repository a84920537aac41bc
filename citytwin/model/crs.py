"""Coordinate reference systems: what the source says, and reprojection."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def reproject(points: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """Transform ``(N, 3)`` float64 points between two CRSs with pyproj.

    Heights are passed through unchanged when either CRS has no vertical part.

    Raises
    ------
    citytwin.errors.CityTwinError
        When either CRS has no EPSG code or pyproj cannot transform between them.
    """
    from citytwin.errors import CityTwinError

    if source.epsg is None or target.epsg is None:
        raise CityTwinError(f"Cannot reproject from {source} to {target}: both need an EPSG code.")
    if source.epsg == target.epsg:
        return np.asarray(points, dtype=np.float64).copy()
    try:
        from pyproj import Transformer

        tr = Transformer.from_crs(source.epsg, target.epsg, always_xy=True)
    except Exception as exc:  # pyproj raises its own CRSError family
        raise CityTwinError(f"Cannot reproject from {source} to {target}: {exc}.") from exc
    pts = np.asarray(points, dtype=np.float64)
    x, y, z = tr.transform(pts[:, 0], pts[:, 1], pts[:, 2])
    out = np.column_stack([x, y, z])
    if not np.isfinite(out).all():
        raise CityTwinError(f"Reprojection from {source} to {target} produced invalid coordinates.")
    return out
