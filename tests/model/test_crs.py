"""CRS parsing from the spellings real files use, and reprojection."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.errors import CityTwinError
from citytwin.model.crs import CRS, display_crs, is_geographic, reproject


@pytest.mark.parametrize(
    ("text", "epsg", "vertical"),
    [
        ("urn:ogc:def:crs:EPSG::28992", 28992, None),
        ("EPSG:25833", 25833, None),
        ("http://www.opengis.net/def/crs/EPSG/0/6697", 6697, None),
        ("https://www.opengis.net/def/crs/EPSG/0/7415", 7415, None),
        ("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5783", 25832, 5783),
        ("urn:ogc:def:crs,crs:EPSG:6.12:3068,crs:EPSG:6.12:5783", 3068, 5783),
        ("urn:ogc:def:crs:EPSG:6.12:31467", 31467, None),
        ("urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH", 25832, None),
        ("something local", None, None),
        (None, None, None),
    ],
)
def test_parse(text, epsg, vertical):
    crs = CRS.parse(text)
    assert crs.epsg == epsg and crs.vertical_epsg == vertical


def test_reproject_rd_to_utm_matches_known_point():
    # The Hague (EPSG:28992) to ETRS89 / UTM 31N (EPSG:25831); z passes through.
    pts = np.array([[78_642.0, 457_940.0, 5.0]])
    out = reproject(pts, CRS.parse("EPSG:28992"), CRS.parse("EPSG:25831"))
    assert out.shape == (1, 3) and out[0, 2] == 5.0
    assert 580_000 < out[0, 0] < 590_000 and 5_770_000 < out[0, 1] < 5_780_000
    back = reproject(out, CRS.parse("EPSG:25831"), CRS.parse("EPSG:28992"))
    assert np.abs(back - pts).max() < 0.01


def test_reproject_needs_codes():
    with pytest.raises(CityTwinError, match="EPSG"):
        reproject(np.zeros((1, 3)), CRS.parse("local"), CRS.parse("EPSG:28992"))


def test_geographic_lat_lon_files_get_a_utm_display_crs():
    # PLATEAU (EPSG:6697): GML coordinates are latitude, longitude, height
    crs = CRS.parse("http://www.opengis.net/def/crs/EPSG/0/6697")
    assert is_geographic(crs) and not is_geographic(CRS.parse("EPSG:28992"))
    bounds = np.array([35.54, 139.71, 3.0, 35.55, 139.72, 40.0])
    target = display_crs(crs, bounds)
    assert target.epsg == 32654  # UTM zone 54N covers Tokyo
    pts = np.array([[35.5417, 139.7139, 10.0], [35.5417, 139.7150, 10.0]])
    out = reproject(pts, crs, target)
    # 0.0011 degrees of longitude at 35.5° N is about 100 m east; the northing moves only
    # by the grid convergence (about 0.75° this far from the zone's central meridian)
    assert abs((out[1, 0] - out[0, 0]) - 99.7) < 0.5 and abs(out[1, 1] - out[0, 1]) < 2.0
    assert out[0, 2] == 10.0
    assert display_crs(CRS.parse("EPSG:28992"), bounds).epsg == 28992
