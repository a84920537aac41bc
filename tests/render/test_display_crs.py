"""Latitude/longitude files are drawn in metres, like projected ones (citytwin snapshot and the window)."""

from __future__ import annotations

import numpy as np

import citytwin.io
from citytwin.model.scene import display_models
from citytwin.model.semantics import SurfaceClass
from citytwin.render.offscreen import render_scene
from citytwin.render.scene_view import scene_from_models
from citytwin.render.style import SURFACE_COLOURS, Style
from tests.conftest import shared_file

PLATEAU = "citygml/plateau_53392642/53392642_bldg_6697_op2.gml"


def test_lat_lon_city_model_is_drawn_in_its_utm_zone():
    model = citytwin.io.read(shared_file(PLATEAU))
    assert model.crs.epsg == 6697
    (shown,) = display_models([model])
    assert shown.crs.epsg == 32654  # UTM 54N for Tokyo
    assert model.mesh.vertices[0, 0] < 90  # the source keeps its degrees
    extent = shown.bounds[3:5] - shown.bounds[:2]
    # eight buildings of an Ota ward block: tens to hundreds of metres, not fractions of a degree
    assert (extent > 20).all() and (extent < 20_000).all()
    scene = scene_from_models([model])
    scene.layers[0].colour_mode = "semantic"  # PLATEAU is textured: the window starts showing the images
    img = render_scene(scene, size=(400, 300), view="top", style=Style(lighting="flat"))
    roof = np.array(SURFACE_COLOURS[SurfaceClass.ROOF])
    roof_pixels = (np.abs(img.astype(int) - roof).max(axis=2) <= 3).sum()
    assert roof_pixels > 0.05 * img.shape[0] * img.shape[1]
