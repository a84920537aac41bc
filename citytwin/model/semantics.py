"""Semantic surface classes and LoD codes shared by every reader."""

from __future__ import annotations

from enum import IntEnum


class SurfaceClass(IntEnum):
    """Semantic class of a surface, stored per polygon as ``uint8``.

    The names follow CityGML thematic boundary surfaces (without the ``Surface``
    suffix); CityJSON semantic types map onto the same codes.
    """

    NONE = 0
    ROOF = 1
    WALL = 2
    GROUND = 3
    CLOSURE = 4
    FLOOR = 5
    OUTER_CEILING = 6
    OUTER_FLOOR = 7
    WINDOW = 8
    DOOR = 9
    INTERIOR_WALL = 10
    CEILING = 11
    WATER_SURFACE = 12
    WATER_GROUND = 13
    WATER_CLOSURE = 14
    TRAFFIC_AREA = 15
    AUXILIARY_TRAFFIC_AREA = 16
    MARKING = 17
    HOLE = 18
    TERRAIN = 19
    VEGETATION = 20
    OTHER = 21


# CityGML element local names / CityJSON semantic "type" values → class.
SURFACE_CLASS_BY_NAME: dict[str, SurfaceClass] = {
    "RoofSurface": SurfaceClass.ROOF,
    "WallSurface": SurfaceClass.WALL,
    "GroundSurface": SurfaceClass.GROUND,
    "ClosureSurface": SurfaceClass.CLOSURE,
    "FloorSurface": SurfaceClass.FLOOR,
    "OuterCeilingSurface": SurfaceClass.OUTER_CEILING,
    "OuterFloorSurface": SurfaceClass.OUTER_FLOOR,
    "Window": SurfaceClass.WINDOW,
    "Door": SurfaceClass.DOOR,
    "InteriorWallSurface": SurfaceClass.INTERIOR_WALL,
    "CeilingSurface": SurfaceClass.CEILING,
    "WaterSurface": SurfaceClass.WATER_SURFACE,
    "WaterGroundSurface": SurfaceClass.WATER_GROUND,
    "WaterClosureSurface": SurfaceClass.WATER_CLOSURE,
    "TrafficArea": SurfaceClass.TRAFFIC_AREA,
    "AuxiliaryTrafficArea": SurfaceClass.AUXILIARY_TRAFFIC_AREA,
    "Marking": SurfaceClass.MARKING,
    "HoleSurface": SurfaceClass.HOLE,
    "TransportationMarking": SurfaceClass.MARKING,
    "TransportationHole": SurfaceClass.HOLE,
}

#: Human-readable plural names, as shown in a layer tree.
SURFACE_CLASS_LABEL: dict[SurfaceClass, str] = {
    SurfaceClass.NONE: "Unclassified",
    SurfaceClass.ROOF: "Roofs",
    SurfaceClass.WALL: "Walls",
    SurfaceClass.GROUND: "Ground surfaces",
    SurfaceClass.CLOSURE: "Closure surfaces",
    SurfaceClass.FLOOR: "Floors",
    SurfaceClass.OUTER_CEILING: "Outer ceilings",
    SurfaceClass.OUTER_FLOOR: "Outer floors",
    SurfaceClass.WINDOW: "Windows",
    SurfaceClass.DOOR: "Doors",
    SurfaceClass.INTERIOR_WALL: "Interior walls",
    SurfaceClass.CEILING: "Ceilings",
    SurfaceClass.WATER_SURFACE: "Water surfaces",
    SurfaceClass.WATER_GROUND: "Water ground",
    SurfaceClass.WATER_CLOSURE: "Water closures",
    SurfaceClass.TRAFFIC_AREA: "Traffic areas",
    SurfaceClass.AUXILIARY_TRAFFIC_AREA: "Auxiliary traffic areas",
    SurfaceClass.MARKING: "Markings",
    SurfaceClass.HOLE: "Holes",
    SurfaceClass.TERRAIN: "Terrain",
    SurfaceClass.VEGETATION: "Vegetation",
    SurfaceClass.OTHER: "Other",
}


def lod_code(lod: str | int | float) -> int:
    """Encode a LoD as ``uint8``: ten times its value (``"2"`` → 20, ``"2.2"`` → 22).

    Raises
    ------
    ValueError
        If the LoD is not a number between 0 and 4.9.
    """
    value = float(lod)
    if not 0 <= value < 5 or value != value:
        raise ValueError(f"LoD {lod!r} is outside 0–4")
    return int(round(value * 10))


def lod_name(code: int) -> str:
    """Decode a LoD code back to its usual spelling (20 → ``"2"``, 22 → ``"2.2"``)."""
    code = int(code)
    return str(code // 10) if code % 10 == 0 else f"{code // 10}.{code % 10}"
