"""What is drawn over a still or a video frame: title, logo, legend, north arrow, scale bar, attribution.

Overlays are pure data (frozen msgspec structs, saved in the project as its
``overlays`` section); :mod:`citytwin.render.overlays` draws them. Every part
is optional (``None``: not drawn) and placed by an *anchor*, one of
:data:`ANCHORS` (a corner, the middle of an edge), with a *margin* from the
image's edges. Sizes and margins are fractions of the image height, so that a
4K or an 8K still looks like the 1080p one, only sharper. Parts sharing an
anchor are stacked away from the edge instead of covering one another.

A logo's path is kept as written; a relative one is relative to the project
file's folder (see :meth:`LogoOverlay.resolve`). Every check raises
``ValueError`` with one sentence.

Examples
--------
>>> s = OverlaySettings(title=TitleOverlay(text="Den Haag"), scale_bar=ScaleBarOverlay())
>>> s.title.anchor, s.scale_bar.anchor
('top-left', 'bottom-left')
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import msgspec

RGB = tuple[float, float, float]

#: Where a part can be placed: the corners, the middle of the top and bottom edges, the middle of the sides.
ANCHORS = ("top-left", "top", "top-right", "left", "right", "bottom-left", "bottom", "bottom-right")
#: The largest margin (fraction of the image height).
MAX_MARGIN = 0.25
#: Dark text (the style's text colour) on a light translucent panel: readable over sky, roofs and terrain.
TEXT_COLOUR: RGB = (30 / 255, 30 / 255, 30 / 255)


def _check_anchor(anchor: str, part: str) -> None:
    if anchor not in ANCHORS:
        raise ValueError(f"the {part}'s anchor must be one of {', '.join(ANCHORS)}, not {anchor!r}")


def _check_fraction(value: float, part: str, what: str, low: float, high: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and low < value <= high):
        raise ValueError(f"the {part}'s {what} must be a fraction of the image above {low:g} and up to {high:g}")


def _check_margin(margin: float, part: str) -> None:
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and 0.0 <= margin <= MAX_MARGIN):
        raise ValueError(f"the {part}'s margin must be between 0 and {MAX_MARGIN:g} of the image height")


def _check_colour(colour: RGB, part: str) -> None:
    if len(colour) != 3 or not all(isinstance(c, (int, float)) and 0.0 <= c <= 1.0 for c in colour):
        raise ValueError(f"the {part}'s colour must be three numbers from 0 to 1")


class TitleOverlay(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A title, with an optional subtitle under it, on a light panel.

    Attributes
    ----------
    text, subtitle
        The lines (one of them at least).
    anchor, margin
        Where (one of :data:`ANCHORS`) and how far from the edges (fraction of the image height).
    size
        Height of the title's letters, fraction of the image height; the subtitle's is 0.6 of it.
    colour
        Text colour, RGB 0–1.
    panel
        Draw the translucent light panel behind the text.
    """

    text: str = ""
    subtitle: str = ""
    anchor: str = "top-left"
    margin: float = 0.03
    size: float = 0.045
    colour: RGB = TEXT_COLOUR
    panel: bool = True

    def __post_init__(self) -> None:
        if not (self.text.strip() or self.subtitle.strip()):
            raise ValueError("a title needs a text or a subtitle")
        _check_anchor(self.anchor, "title")
        _check_margin(self.margin, "title")
        _check_fraction(self.size, "title", "size", 0.0, 0.25)
        _check_colour(self.colour, "title")


class CaptionOverlay(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where and how big a tour's captions (title and subtitle of a time span) are drawn.

    The texts come from the tour, frame by frame; this is only their place and look
    (see :class:`TitleOverlay` for the fields).
    """

    anchor: str = "bottom"
    margin: float = 0.06
    size: float = 0.04
    colour: RGB = TEXT_COLOUR
    panel: bool = True

    def __post_init__(self) -> None:
        _check_anchor(self.anchor, "caption")
        _check_margin(self.margin, "caption")
        _check_fraction(self.size, "caption", "size", 0.0, 0.25)
        _check_colour(self.colour, "caption")


class LogoOverlay(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An image (PNG or JPEG, transparency kept) in a corner.

    Attributes
    ----------
    path
        The image; a relative path is relative to the project file's folder.
    height
        Its height, fraction of the image height (the width follows its aspect).
    anchor, margin
        Where and how far from the edges.
    """

    path: str
    height: float = 0.1
    anchor: str = "top-right"
    margin: float = 0.03

    def __post_init__(self) -> None:
        if not self.path.strip():
            raise ValueError("a logo needs the path of an image")
        _check_anchor(self.anchor, "logo")
        _check_margin(self.margin, "logo")
        _check_fraction(self.height, "logo", "height", 0.0, 0.5)

    def resolve(self, base: str | os.PathLike | None = None) -> Path:
        """The image's path: ``path`` if absolute, else ``path`` under ``base`` (the project's folder)."""
        p = Path(os.path.expanduser(self.path))
        return p if p.is_absolute() or base is None else Path(base) / p


class LegendOverlay(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The legend of the current thematic colouring (a colour bar, or a box of categories).

    Attributes
    ----------
    anchor, margin
        Where and how far from the edges.
    height
        Height of a colour bar (fraction of the image height); a category box grows with its entries up to it.
    size
        Height of the legend's letters (fraction of the image height).
    """

    anchor: str = "right"
    margin: float = 0.03
    height: float = 0.45
    size: float = 0.017

    def __post_init__(self) -> None:
        _check_anchor(self.anchor, "legend")
        _check_margin(self.margin, "legend")
        _check_fraction(self.height, "legend", "height", 0.0, 0.9)
        _check_fraction(self.size, "legend", "size", 0.0, 0.1)


class NorthArrowOverlay(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A compass needle that points to grid north (+Y of the scene's CRS) as the camera turns.

    Attributes
    ----------
    anchor, margin
        Where and how far from the edges.
    size
        Length of the needle, fraction of the image height.
    """

    anchor: str = "bottom-left"
    margin: float = 0.03
    size: float = 0.07

    def __post_init__(self) -> None:
        _check_anchor(self.anchor, "north arrow")
        _check_margin(self.margin, "north arrow")
        _check_fraction(self.size, "north arrow", "size", 0.0, 0.5)


class ScaleBarOverlay(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A bar of a round length (1, 2 or 5 × 10ⁿ metres) at the distance of the camera's focal point.

    Attributes
    ----------
    anchor, margin
        Where and how far from the edges.
    max_length
        The longest the bar may be, fraction of the image width; it takes the longest round length that fits.
    size
        Height of the label's letters, fraction of the image height (the bar is half as thick).
    """

    anchor: str = "bottom-left"
    margin: float = 0.03
    max_length: float = 0.25
    size: float = 0.022

    def __post_init__(self) -> None:
        _check_anchor(self.anchor, "scale bar")
        _check_margin(self.margin, "scale bar")
        _check_fraction(self.max_length, "scale bar", "length", 0.0, 0.9)
        _check_fraction(self.size, "scale bar", "size", 0.0, 0.1)


class AttributionOverlay(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A line crediting the data (``"© Gemeente Den Haag, 3D BAG"``), small, bottom right by default."""

    text: str
    anchor: str = "bottom-right"
    margin: float = 0.012
    size: float = 0.016
    colour: RGB = TEXT_COLOUR
    panel: bool = True

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("an attribution line needs some text")
        _check_anchor(self.anchor, "attribution")
        _check_margin(self.margin, "attribution")
        _check_fraction(self.size, "attribution", "size", 0.0, 0.1)
        _check_colour(self.colour, "attribution")


class OverlaySettings(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Everything drawn over stills and video frames; each part ``None`` is not drawn.

    Attributes
    ----------
    title, logo, legend, north_arrow, scale_bar, attribution
        The parts.
    captions
        Where a tour's captions go (always available: the tour says when there is one).
    """

    title: TitleOverlay | None = None
    logo: LogoOverlay | None = None
    legend: LegendOverlay | None = None
    north_arrow: NorthArrowOverlay | None = None
    scale_bar: ScaleBarOverlay | None = None
    attribution: AttributionOverlay | None = None
    captions: CaptionOverlay = CaptionOverlay()

    @property
    def empty(self) -> bool:
        """Nothing is drawn (captions aside)."""
        return all(
            getattr(self, name) is None
            for name in ("title", "logo", "legend", "north_arrow", "scale_bar", "attribution")
        )


def overlay_settings(**parts: object) -> OverlaySettings:
    """Settings from plain values, as a command line gives them.

    Each keyword is a part name; its value is ``None`` (not drawn), ``True`` (its defaults),
    a part struct, or a dict of its fields (``title={"text": "Den Haag"}``); a string stands
    for the one required field (``title="Den Haag"``, ``logo="logo.png"``).

    Raises
    ------
    ValueError
        With one sentence, for an unknown part or a bad value.
    """
    kinds: dict[str, tuple[type, str | None]] = {
        "title": (TitleOverlay, "text"),
        "logo": (LogoOverlay, "path"),
        "legend": (LegendOverlay, None),
        "north_arrow": (NorthArrowOverlay, None),
        "scale_bar": (ScaleBarOverlay, None),
        "attribution": (AttributionOverlay, "text"),
        "captions": (CaptionOverlay, None),
    }
    fields: dict[str, object] = {}
    for name, value in parts.items():
        if name not in kinds:
            raise ValueError(f"there is no overlay called {name!r} (one of {', '.join(kinds)})")
        cls, main = kinds[name]
        if value is None or value is False:
            if name != "captions":
                fields[name] = None
            continue
        if isinstance(value, cls):
            fields[name] = value
        elif value is True:
            if main is not None:
                raise ValueError(f"the {name.replace('_', ' ')} needs its {main}")
            fields[name] = cls()
        elif isinstance(value, str) and main is not None:
            fields[name] = cls(**{main: value})
        elif isinstance(value, dict):
            try:
                fields[name] = cls(**value)
            except TypeError:
                raise ValueError(f"the {name.replace('_', ' ')} has no such setting ({', '.join(value)})") from None
        else:
            raise ValueError(f"the {name.replace('_', ' ')} cannot be set from {value!r}")
    return OverlaySettings(**fields)  # type: ignore[arg-type]


__all__ = [
    "ANCHORS",
    "AttributionOverlay",
    "CaptionOverlay",
    "LegendOverlay",
    "LogoOverlay",
    "NorthArrowOverlay",
    "OverlaySettings",
    "ScaleBarOverlay",
    "TitleOverlay",
    "overlay_settings",
]
