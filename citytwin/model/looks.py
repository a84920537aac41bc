"""Looks: named presets of sky, lights, materials and image effects that a non-expert picks from a menu.

A :class:`Look` is pure data (a frozen msgspec struct, saved in the project as its
``look`` section); :mod:`citytwin.render.looks` applies it to a renderer with VTK's
render passes. Every look has a cheap *draft* quality (no ambient occlusion, no
shadows: what the view draws while the camera moves) and a *final* quality
(everything: what the view shows at rest, and every still and video frame).

The presets are in :data:`LOOKS`; :data:`DEFAULT_LOOK` ("Daylight") is what a new
project uses. Every check raises ``ValueError`` with one sentence.

Examples
--------
>>> look_by_name("White model").materials.monochrome
(0.95, 0.95, 0.94)
>>> look_by_name("daylight").name
'Daylight'
"""

from __future__ import annotations

import math
import zlib
from typing import Literal

import msgspec
import numpy as np

RGB = tuple[float, float, float]

#: The anti-aliasing methods: FXAA (cheap, a post pass), MSAA (8 samples; slow on software OpenGL), none.
ANTIALIASING = ("fxaa", "msaa", "none")
#: The sun's direction when a look is drawn without a date and time: from the south-west, 40° high.
DEFAULT_SUN: tuple[float, float] = (225.0, 40.0)


def _check_colour(colour: RGB, what: str) -> None:
    if len(colour) != 3 or not all(isinstance(c, (int, float)) and 0.0 <= c <= 1.0 for c in colour):
        raise ValueError(f"the {what} must be three numbers from 0 to 1")


def _check_range(value: float, what: str, low: float, high: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
        raise ValueError(f"the {what} must be a number from {low:g} to {high:g}")


class Sky(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The background: a vertical gradient, or an environment image.

    Attributes
    ----------
    top, bottom
        Gradient colours (RGB 0–1) at the top and the bottom of the image.
    image
        Path of an image drawn behind the scene instead of the gradient (``None``: the gradient).
    """

    top: RGB = (150 / 255, 190 / 255, 230 / 255)
    bottom: RGB = (242 / 255, 246 / 255, 250 / 255)
    image: str | None = None

    def __post_init__(self) -> None:
        _check_colour(self.top, "sky's top colour")
        _check_colour(self.bottom, "sky's bottom colour")


class Lights(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The key light (the sun, casting the shadows) and the fill light that follows the camera.

    Attributes
    ----------
    key_intensity, key_colour
        The sun light's strength (0–2) and colour.
    fill_intensity
        A head light that keeps faces turned away from the sun readable (0–2).
    ambient
        Light every surface gets whatever its orientation (0–1).
    """

    key_intensity: float = 0.8
    key_colour: RGB = (1.0, 0.97, 0.9)
    fill_intensity: float = 0.3
    ambient: float = 0.3

    def __post_init__(self) -> None:
        _check_range(self.key_intensity, "key light's intensity", 0.0, 2.0)
        _check_range(self.fill_intensity, "fill light's intensity", 0.0, 2.0)
        _check_range(self.ambient, "ambient light", 0.0, 1.0)
        _check_colour(self.key_colour, "key light's colour")


class Materials(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How surfaces are coloured and shaded.

    Attributes
    ----------
    pbr
        Physically based shading of textured surfaces (in final quality).
    colour_variation
        0–1: how much each building's lightness differs from its neighbours' (deterministic
        from the object id; 0.1 is subtle), so that walls are not one flat grey.
    monochrome
        One colour for every surface in the semantic colour mode (``None``: the usual colours).
    edges
        Draw silhouette and crease edges (in final quality).
    edge_colour
        Their colour.
    """

    pbr: bool = True
    colour_variation: float = 0.08
    monochrome: RGB | None = None
    edges: bool = False
    edge_colour: RGB = (0.2, 0.2, 0.2)

    def __post_init__(self) -> None:
        _check_range(self.colour_variation, "colour variation", 0.0, 1.0)
        if self.monochrome is not None:
            _check_colour(self.monochrome, "monochrome colour")
        _check_colour(self.edge_colour, "edge colour")


class SSAO(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Screen-space ambient occlusion (VTK's ``vtkSSAOPass``), in final quality.

    Attributes
    ----------
    on
        Darken creases, courtyards and the feet of walls.
    radius
        How far occluders count, in metres.
    bias
        Depth bias against self-occlusion, in metres.
    kernel_size
        Samples per pixel (more: smoother, slower).
    """

    on: bool = False
    radius: float = 4.0
    bias: float = 0.05
    kernel_size: int = 64

    def __post_init__(self) -> None:
        _check_range(self.radius, "ambient occlusion's radius", 0.01, 1000.0)
        _check_range(self.bias, "ambient occlusion's bias", 0.0, 100.0)
        if not (isinstance(self.kernel_size, int) and 1 <= self.kernel_size <= 1024):
            raise ValueError("the ambient occlusion's kernel size must be a whole number from 1 to 1024")


class Shadows(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Shadows of the key light (VTK's shadow-map passes), in final quality.

    Attributes
    ----------
    on
        Cast shadows.
    resolution
        Size of the shadow map in pixels (a power of two; more: sharper, slower).
    """

    on: bool = False
    resolution: int = 2048

    def __post_init__(self) -> None:
        if self.resolution not in (256, 512, 1024, 2048, 4096, 8192):
            raise ValueError("the shadows' resolution must be a power of two from 256 to 8192")


class Fog(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Depth fog: far things fade into a colour.

    Attributes
    ----------
    on
        Draw fog.
    start, end
        Where it begins and where it is full, in scene sizes beyond the camera's focal point
        (so that the horizon fades whatever the zoom).
    colour
        The fog's colour.
    """

    on: bool = False
    start: float = 0.5
    end: float = 3.0
    colour: RGB = (0.9, 0.93, 0.96)

    def __post_init__(self) -> None:
        _check_range(self.start, "fog's start", -1.0, 100.0)
        _check_range(self.end, "fog's end", 0.0, 100.0)
        if self.end <= self.start:
            raise ValueError("the fog must end farther away than it starts")
        _check_colour(self.colour, "fog's colour")


class GroundPlane(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A flat ground under data that has no terrain of its own.

    Attributes
    ----------
    on
        Draw it (only when no layer has terrain).
    colour
        Its colour.
    """

    on: bool = True
    colour: RGB = (0.78, 0.79, 0.76)

    def __post_init__(self) -> None:
        _check_colour(self.colour, "ground plane's colour")


class Look(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How a scene looks: sky, lights, materials and image effects (see the module notes).

    Attributes
    ----------
    name
        Shown in the menu (a preset's name, or the user's own).
    sky, lights, materials
        See :class:`Sky`, :class:`Lights`, :class:`Materials`.
    ssao, shadows
        Final-quality effects (:class:`SSAO`, :class:`Shadows`).
    antialiasing
        One of :data:`ANTIALIASING`.
    fog, ground_plane
        See :class:`Fog`, :class:`GroundPlane`.
    """

    name: str = "Daylight"
    sky: Sky = msgspec.field(default_factory=Sky)
    lights: Lights = msgspec.field(default_factory=Lights)
    materials: Materials = msgspec.field(default_factory=Materials)
    ssao: SSAO = msgspec.field(default_factory=SSAO)
    shadows: Shadows = msgspec.field(default_factory=lambda: Shadows(on=True))
    antialiasing: Literal["fxaa", "msaa", "none"] = "fxaa"
    fog: Fog = msgspec.field(default_factory=Fog)
    ground_plane: GroundPlane = msgspec.field(default_factory=GroundPlane)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a look needs a name")
        if self.antialiasing not in ANTIALIASING:
            raise ValueError(f"the anti-aliasing must be one of {', '.join(ANTIALIASING)}")


#: The presets, in menu order.
LOOKS: dict[str, Look] = {
    "Daylight": Look(name="Daylight", fog=Fog(on=True)),
    "Soft": Look(
        name="Soft",
        sky=Sky(top=(0.72, 0.75, 0.79), bottom=(0.90, 0.91, 0.92)),
        lights=Lights(key_intensity=0.35, key_colour=(1.0, 1.0, 1.0), fill_intensity=0.45, ambient=0.45),
        ssao=SSAO(on=True, radius=6.0, bias=0.05, kernel_size=64),
        shadows=Shadows(on=False),
    ),
    "White model": Look(
        name="White model",
        sky=Sky(top=(0.93, 0.94, 0.95), bottom=(1.0, 1.0, 1.0)),
        lights=Lights(key_intensity=0.6, key_colour=(1.0, 1.0, 1.0), fill_intensity=0.4, ambient=0.35),
        materials=Materials(pbr=False, colour_variation=0.0, monochrome=(0.95, 0.95, 0.94), edges=True),
        ssao=SSAO(on=True, radius=6.0, bias=0.05, kernel_size=64),
        shadows=Shadows(on=False),  # VTK 9.7 cannot chain SSAO and shadow maps (see render/looks.py)
        ground_plane=GroundPlane(colour=(0.97, 0.97, 0.97)),
    ),
    "Dark": Look(
        name="Dark",
        sky=Sky(top=(0.02, 0.03, 0.06), bottom=(0.12, 0.14, 0.20)),
        lights=Lights(key_intensity=0.7, key_colour=(0.8, 0.86, 1.0), fill_intensity=0.25, ambient=0.15),
        materials=Materials(colour_variation=0.06),
        shadows=Shadows(on=True, resolution=2048),
        fog=Fog(on=True, colour=(0.10, 0.12, 0.18)),
        ground_plane=GroundPlane(colour=(0.10, 0.11, 0.14)),
    ),
    "Blueprint": Look(
        name="Blueprint",
        sky=Sky(top=(0.05, 0.20, 0.45), bottom=(0.10, 0.30, 0.58)),
        lights=Lights(key_intensity=0.4, key_colour=(1.0, 1.0, 1.0), fill_intensity=0.3, ambient=0.5),
        materials=Materials(
            pbr=False, colour_variation=0.0, monochrome=(0.22, 0.42, 0.70), edges=True, edge_colour=(0.9, 0.95, 1.0)
        ),
        shadows=Shadows(on=False),
        ground_plane=GroundPlane(colour=(0.12, 0.32, 0.60)),
    ),
}
#: What a new project uses.
DEFAULT_LOOK = LOOKS["Daylight"]


def look_by_name(name: str) -> Look:
    """The preset called ``name`` (case and surrounding spaces do not matter).

    Raises
    ------
    ValueError
        With one sentence listing the presets, for a name that is none of them.
    """
    key = " ".join(str(name).split()).casefold()
    for look in LOOKS.values():
        if look.name.casefold() == key:
            return look
    raise ValueError(f"There is no look called {name!r}; the looks are {', '.join(LOOKS)}.")


def colour_jitter(ids: list[str] | tuple[str, ...], amount: float) -> np.ndarray:
    """``(N,)`` float32 lightness factors around 1 (±``amount``/2), one per object id, the same every run.

    Deterministic from the id's bytes (CRC-32, not Python's salted ``hash``), so a building
    keeps its shade across sessions, exports and machines.
    """
    if not len(ids) or amount <= 0:
        return np.ones(len(ids), np.float32)
    h = np.fromiter((zlib.crc32(str(i).encode()) for i in ids), np.uint32, len(ids))
    u = (h & 0xFFFF).astype(np.float32) / 65535.0  # 0–1
    return (1.0 + (u - 0.5) * float(amount)).astype(np.float32)


__all__ = [
    "ANTIALIASING",
    "DEFAULT_LOOK",
    "DEFAULT_SUN",
    "LOOKS",
    "SSAO",
    "Fog",
    "GroundPlane",
    "Lights",
    "Look",
    "Materials",
    "Shadows",
    "Sky",
    "colour_jitter",
    "look_by_name",
]
