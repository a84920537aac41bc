"""The default look: colours per surface class and object type, sky, lights, anti-aliasing.

Colours are plain ``uint8`` RGB tables so every per-triangle colour is one
numpy lookup. :func:`apply_style` configures a ``vtkRenderer`` (or a pyvista
plotter) the same way for the window, the CLI and the tests. The defaults are
chosen to stay cheap under software OpenGL (llvmpipe) at 1920×1080: a light kit
and FXAA, no multisampling, no SSAO, no shadows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from citytwin.model.semantics import SURFACE_CLASS_BY_NAME, SurfaceClass

RGB = tuple[int, int, int]

#: Colour of each semantic surface class (``NONE`` falls back to the object type).
SURFACE_COLOURS: dict[SurfaceClass, RGB] = {
    SurfaceClass.NONE: (205, 205, 205),
    SurfaceClass.ROOF: (176, 82, 62),  # red-brown tiles
    SurfaceClass.WALL: (236, 228, 212),  # warm cream
    SurfaceClass.GROUND: (150, 150, 150),
    SurfaceClass.CLOSURE: (200, 202, 208),
    SurfaceClass.FLOOR: (214, 207, 196),
    SurfaceClass.OUTER_CEILING: (214, 207, 196),
    SurfaceClass.OUTER_FLOOR: (196, 190, 180),
    SurfaceClass.WINDOW: (118, 158, 196),  # glass blue
    SurfaceClass.DOOR: (128, 88, 58),  # wood
    SurfaceClass.INTERIOR_WALL: (238, 234, 224),
    SurfaceClass.CEILING: (238, 234, 224),
    SurfaceClass.WATER_SURFACE: (74, 138, 200),
    SurfaceClass.WATER_GROUND: (96, 112, 120),
    SurfaceClass.WATER_CLOSURE: (128, 170, 212),
    SurfaceClass.TRAFFIC_AREA: (92, 92, 98),  # asphalt
    SurfaceClass.AUXILIARY_TRAFFIC_AREA: (160, 160, 154),  # pavements
    SurfaceClass.MARKING: (242, 242, 242),
    SurfaceClass.HOLE: (110, 110, 110),
    SurfaceClass.TERRAIN: (152, 166, 134),  # green-grey
    SurfaceClass.VEGETATION: (96, 150, 78),
    SurfaceClass.OTHER: (190, 190, 190),
}

BUILDING_WALL: RGB = SURFACE_COLOURS[SurfaceClass.WALL]
BRIDGE: RGB = (176, 168, 156)  # concrete
TUNNEL: RGB = (140, 132, 122)
ROAD: RGB = SURFACE_COLOURS[SurfaceClass.TRAFFIC_AREA]
WATER: RGB = SURFACE_COLOURS[SurfaceClass.WATER_SURFACE]
VEGETATION: RGB = SURFACE_COLOURS[SurfaceClass.VEGETATION]
TERRAIN: RGB = SURFACE_COLOURS[SurfaceClass.TERRAIN]
FURNITURE: RGB = (104, 100, 128)  # dark blue-grey metal
LAND_USE: RGB = (190, 198, 168)
GENERIC: RGB = (204, 194, 204)
DEFAULT_OBJECT: RGB = SURFACE_COLOURS[SurfaceClass.NONE]

#: Colour of geometry that has no semantic class, by the type of its object.
OBJECT_TYPE_COLOURS: dict[str, RGB] = {
    **{name: SURFACE_COLOURS[cls] for name, cls in SURFACE_CLASS_BY_NAME.items()},
    "Building": BUILDING_WALL,
    "BuildingPart": BUILDING_WALL,
    "BuildingInstallation": BUILDING_WALL,
    "BuildingConstructiveElement": BUILDING_WALL,
    "BuildingFurniture": FURNITURE,
    "BuildingRoom": BUILDING_WALL,
    "Bridge": BRIDGE,
    "BridgePart": BRIDGE,
    "BridgeInstallation": BRIDGE,
    "BridgeConstructiveElement": BRIDGE,
    "BridgeConstructionElement": BRIDGE,
    "Tunnel": TUNNEL,
    "TunnelPart": TUNNEL,
    "TunnelInstallation": TUNNEL,
    "Road": ROAD,
    "Railway": (120, 110, 100),
    "Track": (150, 140, 120),
    "Square": (150, 150, 150),
    "TransportSquare": (150, 150, 150),
    "TransportationComplex": ROAD,
    "Intersection": ROAD,
    "Section": ROAD,
    "Waterway": WATER,
    "WaterBody": WATER,
    "PlantCover": VEGETATION,
    "SolitaryVegetationObject": VEGETATION,
    "TINRelief": TERRAIN,
    "ReliefFeature": TERRAIN,
    "MassPointRelief": TERRAIN,
    "RasterRelief": TERRAIN,
    "LandUse": LAND_USE,
    "CityFurniture": FURNITURE,
    "GenericCityObject": GENERIC,
    "GenericOccupiedSpace": GENERIC,
    "GenericUnoccupiedSpace": GENERIC,
    "GenericLogicalSpace": GENERIC,
    "OtherConstruction": BRIDGE,
}

#: Object types whose unclassified faces are coloured as roof / wall by their normal.
BUILDING_LIKE_TYPES = frozenset(
    {"Building", "BuildingPart", "BuildingInstallation", "BuildingConstructiveElement", "BuildingRoom"}
)


def _rgb_float(c: RGB) -> tuple[float, float, float]:
    return (c[0] / 255.0, c[1] / 255.0, c[2] / 255.0)


@dataclass
class Style:
    """How a scene looks; one instance is shared by the window and offscreen renders.

    Attributes
    ----------
    surface_colours, object_type_colours
        Colour tables (see :data:`SURFACE_COLOURS`, :data:`OBJECT_TYPE_COLOURS`).
    roof_from_normals
        Colour unclassified faces of buildings as roof (facing up or down) or wall
        (vertical) from their normal, so LoD1/LoD2 blocks without semantics still read well.
    sky_top, sky_bottom
        Gradient background, top of the window to the bottom.
    single_colour
        Colour of the ``"single"`` colour mode.
    neutral
        Colour of objects without a value in thematic colouring.
    selection, selection_mix
        Selection tint and how much of it replaces the base colour (0–1).
    lighting
        ``"kit"``: a key/fill/back/head light kit (default); ``"flat"``: no shading at all,
        every pixel is its cell colour (used by pixel-exact tests).
    ambient, diffuse, specular
        Surface lighting coefficients.
    anti_aliasing
        ``"fxaa"`` (cheap, default), ``"msaa"`` (8 samples; slow on software GL) or ``None``.
    depth_peeling
        Order-independent transparency for layers with opacity below 1 (only costs when
        something is translucent).
    text_colour
        Legend and label text.
    """

    surface_colours: dict[SurfaceClass, RGB] = field(default_factory=lambda: dict(SURFACE_COLOURS))
    object_type_colours: dict[str, RGB] = field(default_factory=lambda: dict(OBJECT_TYPE_COLOURS))
    default_object_colour: RGB = DEFAULT_OBJECT
    roof_from_normals: bool = True
    sky_top: RGB = (150, 190, 230)
    sky_bottom: RGB = (242, 246, 250)
    single_colour: RGB = (222, 218, 210)
    neutral: RGB = (170, 170, 170)
    selection: RGB = (255, 190, 0)
    selection_mix: float = 0.7
    lighting: Literal["kit", "flat"] = "kit"
    ambient: float = 0.22
    diffuse: float = 0.85
    specular: float = 0.0
    anti_aliasing: Literal["fxaa", "msaa"] | None = "fxaa"
    depth_peeling: bool = True
    text_colour: RGB = (30, 30, 30)

    # ------------------------------------------------------------------ tables
    def surface_lut(self) -> np.ndarray:
        """``(256, 3)`` uint8 colour of each :class:`SurfaceClass` code (unknown codes: ``OTHER``)."""
        lut = np.empty((256, 3), np.uint8)
        lut[:] = self.surface_colours.get(SurfaceClass.OTHER, DEFAULT_OBJECT)
        for cls, rgb in self.surface_colours.items():
            lut[int(cls)] = rgb
        return lut

    def type_colour(self, type_name: str) -> RGB | None:
        """Colour of an object type (``"bldg:Building"`` and ``"Building"`` alike), ``None`` if unknown."""
        name = type_name.rsplit(":", 1)[-1]
        return self.object_type_colours.get(name)

    def object_colours(self, types: list[str], parents: np.ndarray | None = None) -> np.ndarray:
        """``(N, 3)`` uint8 colour of each object from its type.

        An object of an unknown type takes the colour of its nearest ancestor of a
        known type, else :attr:`default_object_colour`. Looked up once per distinct
        type, then broadcast with numpy.
        """
        n = len(types)
        out = np.empty((n, 3), np.uint8)
        out[:] = self.default_object_colour
        if n == 0:
            return out
        uniq, inverse = np.unique(np.asarray(types, dtype=object).astype(str), return_inverse=True)
        table = np.array([self.type_colour(t) or (0, 0, 0) for t in uniq], np.uint8).reshape(-1, 3)
        known_t = np.array([self.type_colour(t) is not None for t in uniq], bool)
        known = known_t[inverse]
        out[known] = table[inverse[known]]
        if parents is not None and not known.all():
            src = np.arange(n)
            todo = ~known
            for _ in range(32):
                p = np.asarray(parents)[src]
                step = todo & (p >= 0)
                if not step.any():
                    break
                src[step] = p[step]
                hit = step & known[src]
                out[hit] = out[src[hit]]
                todo &= ~hit
        return out

    def building_like(self, types: list[str]) -> np.ndarray:
        """``(N,)`` bool: the object is a building or a part of one."""
        if not types:
            return np.zeros(0, bool)
        uniq, inverse = np.unique(np.asarray(types, dtype=object).astype(str), return_inverse=True)
        flags = np.array([t.rsplit(":", 1)[-1] in BUILDING_LIKE_TYPES for t in uniq], bool)
        return flags[inverse]


DEFAULT_STYLE = Style()


def _renderer_of(target: Any) -> Any:
    """The ``vtkRenderer`` of a pyvista plotter, or ``target`` itself."""
    return getattr(target, "renderer", target)


def apply_style(target: Any, style: Style = DEFAULT_STYLE) -> None:
    """Give a renderer the sky, lights and anti-aliasing of a style.

    Parameters
    ----------
    target
        A ``vtkRenderer`` or a pyvista ``Plotter`` (its active renderer is styled).
    style
        The style.
    """
    from vtkmodules.vtkRenderingCore import vtkLightKit

    ren = _renderer_of(target)
    ren.SetBackground(*_rgb_float(style.sky_bottom))
    ren.SetBackground2(*_rgb_float(style.sky_top))
    ren.GradientBackgroundOn()
    ren.RemoveAllLights()
    if style.lighting == "kit":
        kit = vtkLightKit()
        kit.SetKeyLightIntensity(0.85)
        kit.SetKeyLightElevation(50.0)
        kit.SetKeyLightAzimuth(10.0)
        kit.SetKeyToFillRatio(2.5)
        kit.SetKeyToHeadRatio(4.0)
        kit.AddLightsToRenderer(ren)
    ren.SetTwoSidedLighting(True)
    ren.SetUseFXAA(style.anti_aliasing == "fxaa")
    window = ren.GetRenderWindow()
    if window is not None:
        window.SetMultiSamples(8 if style.anti_aliasing == "msaa" else 0)
    ren.SetUseDepthPeeling(style.depth_peeling)
    ren.SetMaximumNumberOfPeels(4)
    ren.SetOcclusionRatio(0.0)


def apply_surface_lighting(prop: Any, style: Style = DEFAULT_STYLE) -> None:
    """Set a ``vtkProperty``'s lighting coefficients for a style (flat shading, no specular)."""
    prop.SetInterpolationToFlat()
    if style.lighting == "flat":
        prop.LightingOff()
        prop.SetAmbient(1.0)
        prop.SetDiffuse(0.0)
        prop.SetSpecular(0.0)
    else:
        prop.LightingOn()
        prop.SetAmbient(style.ambient)
        prop.SetDiffuse(style.diffuse)
        prop.SetSpecular(style.specular)
