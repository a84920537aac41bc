"""Synthetic city models in real projected coordinates, for the render tests."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model.citymodel import CityModel
from citytwin.model.cityobjects import CityObjects
from citytwin.model.geometry import MeshBuilder
from citytwin.model.semantics import SurfaceClass

#: Around Den Haag in RD New (EPSG:28992): large enough that float32 alone would be off by centimetres.
X0, Y0, Z0 = 85_000.0, 445_000.0, 2.0

#: (id, centre x, centre y, width, depth, height, attributes)
BOXES = [
    ("house-low", X0 - 30.0, Y0, 20.0, 16.0, 10.0, {"measuredHeight": 10.0, "function": "residential"}),
    ("house-high", X0 + 30.0, Y0, 20.0, 16.0, 30.0, {"measuredHeight": 30.0, "function": "office"}),
]


def box_polygons(cx: float, cy: float, w: float, d: float, h: float, z0: float = Z0) -> dict[str, list[np.ndarray]]:
    """Outward-oriented faces of a box, by CityGML surface type."""
    x0, x1, y0, y1, z1 = cx - w / 2, cx + w / 2, cy - d / 2, cy + d / 2, z0 + h
    roof = np.array([[x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]])
    ground = np.array([[x0, y0, z0], [x0, y1, z0], [x1, y1, z0], [x1, y0, z0]])
    walls = [
        np.array([[x0, y0, z0], [x1, y0, z0], [x1, y0, z1], [x0, y0, z1]]),  # south
        np.array([[x1, y0, z0], [x1, y1, z0], [x1, y1, z1], [x1, y0, z1]]),  # east
        np.array([[x1, y1, z0], [x0, y1, z0], [x0, y1, z1], [x1, y1, z1]]),  # north
        np.array([[x0, y1, z0], [x0, y0, z0], [x0, y0, z1], [x0, y1, z1]]),  # west
    ]
    return {"RoofSurface": [roof], "WallSurface": walls, "GroundSurface": [ground]}


def make_boxes(boxes=BOXES, lod1_for_first: bool = False, ground_plane: bool = False) -> CityModel:
    """Buildings with Roof/Wall/Ground surface children (LoD2), like a CityGML file.

    ``lod1_for_first`` adds an unclassified LoD1 block, 5 m lower, to the first building;
    ``ground_plane`` adds a TINRelief square under everything.
    """
    objects = CityObjects()
    mb = MeshBuilder()
    classes = {"RoofSurface": SurfaceClass.ROOF, "WallSurface": SurfaceClass.WALL, "GroundSurface": SurfaceClass.GROUND}
    for k, (ident, cx, cy, w, d, h, attrs) in enumerate(boxes):
        b = objects.add(ident, "Building", attributes=dict(attrs))
        for stype, polys in box_polygons(cx, cy, w, d, h).items():
            s = objects.add(f"{ident}-{stype}", stype, parent=b)
            for ring in polys:
                mb.add_polygon([ring], s, classes[stype], 20)
        if lod1_for_first and k == 0:
            for polys in box_polygons(cx, cy, w, d, h - 5.0).values():
                for ring in polys:
                    mb.add_polygon([ring], b, SurfaceClass.NONE, 10)
    if ground_plane:
        t = objects.add("terrain", "TINRelief")
        s, zt = 200.0, Z0 - 0.05
        mb.add_polygon(
            [np.array([[X0 - s, Y0 - s, zt], [X0 + s, Y0 - s, zt], [X0 + s, Y0 + s, zt], [X0 - s, Y0 + s, zt]])],
            t,
            SurfaceClass.NONE,
            10,
        )
    return CityModel(format="test", version="0", objects=objects, mesh=mb.build())


@pytest.fixture
def boxes_model() -> CityModel:
    return make_boxes()
