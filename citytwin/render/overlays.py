"""Overlays drawn over a scene: title, captions, logo, legend, north arrow, scale bar, attribution (VTK only).

:class:`OverlayRenderer` draws an :class:`~citytwin.model.overlays.OverlaySettings` with 2D
actors on a renderer of its own, on top of every other layer of the scene's render window
(above pins and measurements, and out of the scene's FXAA pass, which would blur text):

* texts are ``vtkTextActor`` s on a translucent light panel (a 2D polygon);
* the logo is a textured 2D quad, the image resampled once per output size to exactly
  the pixels it covers (sharp at any size, transparency kept);
* the legend is :func:`~citytwin.render.visuals.legend_actor` of the current thematic colouring;
* the north arrow is a 2D polygon (a compass needle) turned with the camera so that it points
  to grid north, +Y of the scene's CRS (:func:`north_angle`);
* the scale bar has a round length (:func:`nice_length`: 1, 2 or 5 × 10ⁿ metres) for the
  metres per pixel at the camera's focal point (:func:`metres_per_pixel`).

Every size is a fraction of the *output* image height (:attr:`OverlayRenderer.size`), so a
4K or an 8K still looks like the 1080p one. Actors sit at normalized-viewport positions with
their geometry in output pixels around them: tiled rendering (``vtkRenderLargeImage``) moves
them tile by tile and keeps them sharp. Parts sharing an anchor are stacked away from the
edge. What depends on the camera is recomputed when the scene's renderer starts a frame (or
by :meth:`OverlayRenderer.update`); a caption change (:meth:`OverlayRenderer.set_caption`, once
per video frame) only sets texts and moves the actors already there.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import vtkmodules.vtkRenderingFreeType  # noqa: F401  - text rendering (object factory)
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  - the OpenGL back end (object factory)
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor2D,
    vtkPolyDataMapper2D,
    vtkRenderer,
    vtkTextActor,
    vtkTextProperty,
    vtkTextRenderer,
    vtkTexture,
    vtkTexturedActor2D,
)

from citytwin.errors import ExportError
from citytwin.model.overlays import (
    AttributionOverlay,
    CaptionOverlay,
    LegendOverlay,
    LogoOverlay,
    NorthArrowOverlay,
    OverlaySettings,
    ScaleBarOverlay,
    TitleOverlay,
)
from citytwin.render.camera import camera_basis
from citytwin.render.style import DEFAULT_STYLE, Style
from citytwin.render.visuals import renderer_of

#: Object name of the overlays' renderer (stills leave the props on it unscaled: they are sized for the output).
OVERLAY_RENDERER_NAME = "citytwin-overlays-2d"
#: Render-window layer of the overlays: above the scene (0), pins (1) and measurements (1–3).
OVERLAY_LAYER = 8
#: Gap between parts stacked at one anchor (fraction of the image height).
STACK_GAP = 0.012
#: Panel behind texts, the scale bar and the north arrow: white, this opaque.
PANEL_RGBA = (255, 255, 255, 190)
#: Padding inside a panel, as a fraction of its largest font.
PANEL_PAD = 0.35
#: The needle's colours: the north half, the south half and the outline.
NEEDLE_NORTH = (178, 34, 34, 255)
NEEDLE_SOUTH = (250, 250, 250, 255)
DARK = (30, 30, 30, 255)
LIGHT = (255, 255, 255, 255)
#: Parts at one anchor, nearest the edge first (top and middle anchors; bottom anchors reverse it).
_STACK_TOP = ("title", "logo", "legend", "north_arrow", "scale_bar", "attribution")
_STACK_BOTTOM = ("attribution", "scale_bar", "north_arrow", "legend", "logo", "title")

Box = tuple[float, float]  # width, height in pixels


class OverlayError(ExportError):
    """An overlay could not be drawn (a missing or unreadable logo)."""


# ---------------------------------------------------------------------------- camera figures
def metres_per_pixel(camera: Any, height_px: float, width_px: float | None = None) -> float:
    """Metres (scene units) per output pixel at the distance of the camera's focal point.

    Parameters
    ----------
    camera
        A ``vtkCamera``.
    height_px, width_px
        The output image's size (the width only matters with a horizontal view angle).
    """
    if height_px <= 0:
        return float("nan")
    if camera.GetParallelProjection():
        return 2.0 * float(camera.GetParallelScale()) / float(height_px)
    d = float(np.linalg.norm(np.subtract(camera.GetPosition(), camera.GetFocalPoint())))
    span = width_px if camera.GetUseHorizontalViewAngle() and width_px else height_px
    return 2.0 * d * math.tan(math.radians(float(camera.GetViewAngle())) / 2.0) / float(span)


def nice_length(max_length: float) -> float:
    """The longest 1, 2 or 5 × 10ⁿ not longer than ``max_length`` (``nan`` if there is none)."""
    if not (max_length > 0 and math.isfinite(max_length)):
        return float("nan")
    k = math.floor(math.log10(max_length))
    for mantissa in (5.0, 2.0, 1.0):
        v = mantissa * 10.0**k
        if v <= max_length * (1 + 1e-12):
            return float(f"{v:.12g}")
    return float(f"{5.0 * 10.0 ** (k - 1):.12g}")


def format_length(metres: float) -> str:
    """``"200 m"``, ``"2 km"``, ``"50 cm"``."""
    if metres >= 1000:
        return f"{metres / 1000:g} km"
    if metres >= 1:
        return f"{metres:g} m"
    return f"{metres * 100:.3g} cm"


def north_angle(camera: Any) -> float:
    """Where grid north (+Y) points on screen: degrees counter-clockwise from the screen's up.

    The heading is the horizontal direction the screen's up looks to: the view direction
    for a tilted camera and the view-up for one looking straight down (both add up for
    any tilt below the horizon), the view direction alone for a camera looking up.
    """
    _, forward, up, _ = camera_basis(camera)
    heading = forward[:2] + (up[:2] if forward[2] < 0 else 0.0)
    if float(np.hypot(*heading)) < 1e-9:
        return 0.0
    return float(math.degrees(math.atan2(heading[0], heading[1])))


# ---------------------------------------------------------------------------- VTK helpers
def _polydata(points: np.ndarray, polys: list[list[int]], colours: np.ndarray) -> vtkPolyData:
    pd = vtkPolyData()
    _set_points(pd, points)
    cells = vtkCellArray()
    for poly in polys:
        cells.InsertNextCell(len(poly))
        for i in poly:
            cells.InsertCellPoint(i)
    pd.SetPolys(cells)
    col = numpy_to_vtk(np.ascontiguousarray(colours, np.uint8).reshape(-1, 4), deep=True)
    col.SetName("colours")
    pd.GetCellData().SetScalars(col)
    return pd


def _set_points(pd: vtkPolyData, xy: np.ndarray) -> None:
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    xyz = np.zeros((len(xy), 3), np.float32)
    xyz[:, :2] = xy
    pts = vtkPoints()
    pts.SetData(numpy_to_vtk(xyz, deep=True))
    pd.SetPoints(pts)
    pd.Modified()


def _actor2d(pd: vtkPolyData) -> vtkActor2D:
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(pd)
    mapper.SetColorModeToDirectScalars()
    mapper.SetScalarModeToUseCellData()
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    actor.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    actor.PickableOff()
    return actor


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def _text_actor(colour: tuple[float, float, float], bold: bool = False) -> vtkTextActor:
    actor = vtkTextActor()
    actor.SetTextScaleModeToNone()
    actor.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    actor.PickableOff()
    tp = actor.GetTextProperty()
    tp.SetFontFamilyToArial()
    tp.SetColor(*colour)
    tp.SetBold(bold)
    tp.ItalicOff()
    tp.ShadowOff()
    tp.SetJustificationToLeft()
    tp.SetVerticalJustificationToBottom()
    return actor


def _rgb(c: tuple[int, int, int]) -> tuple[float, float, float]:
    return (c[0] / 255.0, c[1] / 255.0, c[2] / 255.0)


class _Part:
    """One placed part: its box (pixels) is measured, then its lower-left corner is set."""

    name = ""
    anchor = "top-left"
    margin = 0.0

    def __init__(self, owner: OverlayRenderer) -> None:
        self.o = owner
        self.actors: list[Any] = []
        self.box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 (pixels, y up)

    def measure(self) -> Box:
        raise NotImplementedError

    def place(self, x0: float, y0: float, w: float, h: float) -> None:
        raise NotImplementedError

    def _put(self, actor: Any, x: float, y: float) -> None:
        """Put an actor's position at output pixel ``(x, y)`` (normalized, so that tiles move it)."""
        width, height = self.o.size
        coord = actor.GetPositionCoordinate()
        coord.SetCoordinateSystemToNormalizedViewport()
        coord.SetValue(x / width, y / height)


class _TextBlock(_Part):
    """One or two lines of text (title and subtitle) on an optional panel."""

    def __init__(self, owner: OverlayRenderer, name: str) -> None:
        super().__init__(owner)
        self.name = name
        self.lines: list[tuple[str, float, bool]] = []  # text, letter height (fraction of H), bold
        self.panel_on = True
        self.colour = (0.0, 0.0, 0.0)
        self.texts = [_text_actor(self.colour, bold=True), _text_actor(self.colour)]
        self.panel_data = _polydata(np.zeros((4, 2)), [[0, 1, 2, 3]], np.array([PANEL_RGBA]))
        self.panel = _actor2d(self.panel_data)
        self.actors = [self.panel, *self.texts]
        self._bbox: list[tuple[int, int, int, int]] = []

    def configure(self, part: Any, lines: list[tuple[str, float, bool]]) -> None:
        self.anchor, self.margin = part.anchor, part.margin
        self.panel_on = bool(part.panel)
        self.colour = tuple(float(c) for c in part.colour)
        self.lines = [(t, s, b) for t, s, b in lines if t.strip()]

    def measure(self) -> Box:
        if not self.lines:
            return (0.0, 0.0)
        self._bbox = []
        for actor, (text, size, bold) in zip(self.texts, self.lines, strict=False):
            tp = actor.GetTextProperty()
            tp.SetFontSize(self.o.font_points(size))
            tp.SetBold(bold)
            tp.SetColor(*self.colour)
            if actor.GetInput() != text:
                actor.SetInput(text)
            self._bbox.append(self.o.text_bbox(tp, text))
        ws = [b[1] - b[0] + 1 for b in self._bbox]
        hs = [b[3] - b[2] + 1 for b in self._bbox]
        self._gap = 0.3 * self.o.px(self.lines[-1][1])
        self._pad = PANEL_PAD * self.o.px(max(s for _, s, _ in self.lines)) if self.panel_on else 0.0
        return (max(ws) + 2 * self._pad, sum(hs) + self._gap * (len(hs) - 1) + 2 * self._pad)

    def place(self, x0: float, y0: float, w: float, h: float) -> None:
        n = len(self.lines)
        for k, actor in enumerate(self.texts):
            actor.SetVisibility(k < n)
        self.panel.SetVisibility(n > 0 and self.panel_on)
        if n == 0:
            return
        self.box = (x0, y0, x0 + w, y0 + h)
        top = y0 + h - self._pad
        halign = _halign(self.anchor)
        for actor, bbox in zip(self.texts, self._bbox, strict=False):
            bw, bh = bbox[1] - bbox[0] + 1, bbox[3] - bbox[2] + 1
            if halign == "left":
                lx = x0 + self._pad
            elif halign == "right":
                lx = x0 + w - self._pad - bw
            else:
                lx = x0 + (w - bw) / 2
            ly = top - bh
            self._put(actor, round(lx) - bbox[0], round(ly) - bbox[2])
            top = ly - self._gap
        _set_points(self.panel_data, _rect(0, 0, w, h))
        self._put(self.panel, x0, y0)


class _Logo(_Part):
    name = "logo"

    def __init__(self, owner: OverlayRenderer) -> None:
        super().__init__(owner)
        self.image: Any = None  # PIL RGBA image as read
        self.path: Path | None = None
        self._pixels: tuple[int, int] | None = None
        self.data, self.actor, self.texture = _image_quad()
        self.actors = [self.actor]
        self.part: LogoOverlay | None = None

    def configure(self, part: LogoOverlay, base: Path | None) -> None:
        path = part.resolve(base)
        if path != self.path or self.image is None:
            self.image = read_logo(path)  # raises before anything changes
            self.path = path
            self._pixels = None
        self.anchor, self.margin, self.part = part.anchor, part.margin, part

    def measure(self) -> Box:
        if self.part is None or self.image is None:
            return (0.0, 0.0)
        h = max(1, round(self.o.px(self.part.height)))
        w = max(1, round(h * self.image.width / self.image.height))
        if self._pixels != (w, h):
            self._set_texture(w, h)
        return (float(w), float(h))

    def _set_texture(self, w: int, h: int) -> None:
        """Resample the logo once to the pixels it covers (Lanczos; alpha premultiplied while resampling)."""
        from PIL import Image

        img = self.image
        if (w, h) != img.size:
            img = img.convert("RGBa").resize((w, h), Image.Resampling.LANCZOS).convert("RGBA")
        _set_image(self.data, self.texture, np.asarray(img, np.uint8))
        self._pixels = (w, h)

    def place(self, x0: float, y0: float, w: float, h: float) -> None:
        self.box = (x0, y0, x0 + w, y0 + h)
        self._put(self.actor, round(x0), round(y0))


class _Legend(_Part):
    name = "legend"

    def __init__(self, owner: OverlayRenderer) -> None:
        super().__init__(owner)
        self.part: LegendOverlay | None = None
        self.thematic: Any = None
        self.actor: Any = None
        self._key: tuple | None = None

    def configure(self, part: LegendOverlay, thematic: Any) -> None:
        self.anchor, self.margin, self.part = part.anchor, part.margin, part
        self.thematic = thematic

    def measure(self) -> Box:
        if self.part is None or self.thematic is None:
            self._drop()
            return (0.0, 0.0)
        from citytwin.render.visuals import legend_actor

        font_px = self.o.px(self.part.size)
        key = (id(self.thematic), self.o.font_points(self.part.size))
        if key != self._key:
            self._drop()
            self.actor = legend_actor(self.thematic, self.o.style, font_size=self.o.font_points(self.part.size))
            self.actor.PickableOff()
            if hasattr(self.actor, "DrawBackgroundOn"):  # a colour bar: a light panel like the other parts
                self.actor.DrawBackgroundOn()
                self.actor.GetBackgroundProperty().SetColor(*_rgb(PANEL_RGBA[:3]))
                self.actor.GetBackgroundProperty().SetOpacity(PANEL_RGBA[3] / 255)
            self.o.overlay.AddViewProp(self.actor)
            self.actors = [self.actor]
            self._key = key
        th = self.thematic
        if th.kind == "numeric":
            labels = [th.attribute, "-0.000e+00", *([f"no value ({th.n_missing})"] if th.n_missing else [])]
            w = max(self.o.text_width(t, font_px) for t in labels) + 2.5 * font_px
            return (w, self.o.px(self.part.height))
        entries = [f"{c} ({n})" for c, n in zip(th.categories, th.category_counts, strict=False)]
        if th.n_missing:
            entries.append(f"no value ({th.n_missing})")
        n = max(len(entries), 1)
        w = max((self.o.text_width(t, font_px) for t in entries), default=font_px) + 3.0 * font_px
        h = min(n * 1.5 * font_px + font_px, self.o.px(self.part.height))
        return (w, h)

    def place(self, x0: float, y0: float, w: float, h: float) -> None:
        if self.actor is None:
            return
        width, height = self.o.size
        self.box = (x0, y0, x0 + w, y0 + h)
        self.actor.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self.actor.GetPositionCoordinate().SetValue(x0 / width, y0 / height)
        self.actor.GetPosition2Coordinate().SetCoordinateSystemToNormalizedViewport()
        self.actor.GetPosition2Coordinate().SetValue(w / width, h / height)

    def _drop(self) -> None:
        if self.actor is not None:
            self.o.overlay.RemoveViewProp(self.actor)
        self.actor, self.actors, self._key = None, [], None


def _image_quad() -> tuple[vtkPolyData, vtkTexturedActor2D, vtkTexture]:
    """A textured 2D quad (points in pixels around the actor's position) and its texture."""
    data = vtkPolyData()
    _set_points(data, np.zeros((4, 2)))
    cells = vtkCellArray()
    cells.InsertNextCell(4)
    for i in range(4):
        cells.InsertCellPoint(i)
    data.SetPolys(cells)
    tc = numpy_to_vtk(np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32), deep=True)
    tc.SetName("tcoords")
    data.GetPointData().SetTCoords(tc)
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(data)
    actor = vtkTexturedActor2D()
    actor.SetMapper(mapper)
    actor.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    actor.PickableOff()
    texture = vtkTexture()
    texture.InterpolateOn()
    texture.EdgeClampOn()
    texture.SetColorModeToDirectScalars()
    actor.SetTexture(texture)
    return data, actor, texture


def _set_image(data: vtkPolyData, texture: vtkTexture, rgba: np.ndarray) -> None:
    """Show an ``(h, w, 4)`` uint8 image (row 0 at the top) on a quad, one texel per pixel."""
    h, w = rgba.shape[:2]
    image = vtkImageData()
    image.SetDimensions(w, h, 1)
    arr = numpy_to_vtk(np.ascontiguousarray(rgba[::-1]).reshape(-1, 4), deep=True)  # VTK rows go up
    arr.SetName("image")
    image.GetPointData().SetScalars(arr)
    texture.SetInputData(image)
    texture.Modified()
    _set_points(data, _rect(0, 0, w, h))


class _NorthArrow(_Part):
    """A compass needle in a light disc, with an upright "N" beyond its tip.

    The disc and the needle are drawn with Pillow at four times the size and reduced (smooth edges
    at any angle), again only when the angle (to a tenth of a degree) or the size changes.
    """

    name = "north_arrow"
    SUPERSAMPLE = 4

    def __init__(self, owner: OverlayRenderer) -> None:
        super().__init__(owner)
        self.part: NorthArrowOverlay | None = None
        self.data, self.actor, self.texture = _image_quad()
        self.letter = _text_actor((0.12, 0.12, 0.12), bold=True)
        self.letter.SetInput("N")
        self.letter.GetTextProperty().SetJustificationToCentered()
        self.letter.GetTextProperty().SetVerticalJustificationToCentered()
        self.actors = [self.actor, self.letter]
        self.angle = 0.0
        self.centre = (0.0, 0.0)
        self._key: tuple | None = None

    def configure(self, part: NorthArrowOverlay) -> None:
        self.anchor, self.margin, self.part = part.anchor, part.margin, part

    def _geometry(self) -> tuple[float, float, float, float, float]:
        """Half length, half width and outline of the needle, distance of the letter, radius of the disc (pixels)."""
        assert self.part is not None
        length = self.o.px(self.part.size)
        half, wing = length / 2, 0.16 * length
        outline = max(1.0, 0.04 * length)
        tip = half + outline * math.hypot(half, wing) / wing  # the outline's mitre at the tip
        font = 0.28 * length
        letter = tip + 0.6 * font
        return half, wing, outline, letter, letter + 0.62 * font

    def measure(self) -> Box:
        if self.part is None:
            return (0.0, 0.0)
        self.letter.GetTextProperty().SetFontSize(self.o.font_points(0.28 * self.part.size))
        side = 2 * math.ceil(self._geometry()[4])
        return (float(side), float(side))

    def place(self, x0: float, y0: float, w: float, h: float) -> None:
        self.box = (x0, y0, x0 + w, y0 + h)
        self._origin = (round(x0), round(y0))
        self._side = round(w)
        self.centre = (self._origin[0] + self._side / 2, self._origin[1] + self._side / 2)
        self._put(self.actor, *self._origin)
        self._key = None
        self.turn(self.angle)

    def turn(self, angle: float) -> None:
        """Point the needle ``angle`` degrees counter-clockwise from the screen's up."""
        self.angle = float(angle)
        if self.part is None or self.box is None:
            return
        key = (round(self.angle, 1), self._side, self.o.px(self.part.size))
        if key != self._key:
            self._key = key
            _set_image(self.data, self.texture, self._draw(math.radians(key[0])))
        half, wing, outline, letter, radius = self._geometry()
        t = math.radians(self.angle)
        self._put(self.letter, self.centre[0] - letter * math.sin(t), self.centre[1] + letter * math.cos(t))

    def _draw(self, t: float) -> np.ndarray:
        from PIL import Image, ImageDraw

        ss = self.SUPERSAMPLE
        side = self._side
        half, wing, outline, _, radius = self._geometry()
        img = Image.new("RGBA", (side * ss, side * ss), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        c = side * ss / 2

        def pts(xy: np.ndarray) -> list[tuple[float, float]]:
            """Needle coordinates (pixels, y up, north along +y) turned by ``t``, in the image (y down)."""
            x = xy[:, 0] * math.cos(t) - xy[:, 1] * math.sin(t)
            y = xy[:, 0] * math.sin(t) + xy[:, 1] * math.cos(t)
            return [(float(c + u * ss), float(c - v * ss)) for u, v in zip(x, y, strict=True)]

        r = min(radius, side / 2) * ss
        draw.ellipse([c - r, c - r, c + r, c + r], fill=PANEL_RGBA)
        tip, tail = np.array([0.0, half]), np.array([0.0, -half])
        mitre = outline * math.hypot(half, wing) / wing
        side_mitre = outline * math.hypot(half, wing) / half
        diamond = np.array(
            [[0.0, half + mitre], [wing + side_mitre, 0.0], [0.0, -half - mitre], [-wing - side_mitre, 0]]
        )
        draw.polygon(pts(diamond), fill=DARK)
        draw.polygon(pts(np.array([[-wing, 0.0], [wing, 0.0], tip])), fill=NEEDLE_NORTH)
        draw.polygon(pts(np.array([[wing, 0.0], [-wing, 0.0], tail])), fill=NEEDLE_SOUTH)
        small = img.convert("RGBa").resize((side, side), Image.Resampling.BOX).convert("RGBA")
        return np.asarray(small, np.uint8)


class _ScaleBar(_Part):
    """A bar of alternating dark and white segments with its length above it, on a light panel."""

    name = "scale_bar"

    def __init__(self, owner: OverlayRenderer) -> None:
        super().__init__(owner)
        self.part: ScaleBarOverlay | None = None
        self.label = _text_actor((0.12, 0.12, 0.12), bold=True)
        self.label.GetTextProperty().SetJustificationToCentered()
        self.data = vtkPolyData()
        self.actor = _actor2d(self.data)
        self.actors = [self.actor, self.label]
        self.metres = float("nan")
        self.pixels = 0.0
        self.text = ""
        self._origin = (0.0, 0.0)
        self._box_w = 0.0
        self._drawn: tuple | None = None

    def configure(self, part: ScaleBarOverlay) -> None:
        self.anchor, self.margin, self.part = part.anchor, part.margin, part

    def measure(self) -> Box:
        if self.part is None:
            return (0.0, 0.0)
        font = self.o.px(self.part.size)
        self.label.GetTextProperty().SetFontSize(self.o.font_points(self.part.size))
        self._thick = max(2.0, round(0.45 * font))
        self._pad = round(PANEL_PAD * font)
        self._label_h = self.o.text_bbox(self.label.GetTextProperty(), "0 m")
        label_h = self._label_h[3] - self._label_h[2] + 1
        self._box_w = self.o.size[0] * self.part.max_length + 2 * self._pad
        return (self._box_w, 2 * self._pad + label_h + 0.35 * font + self._thick)

    def place(self, x0: float, y0: float, w: float, h: float) -> None:
        self.box = (x0, y0, x0 + w, y0 + h)
        self._origin = (x0, y0)
        self._box_h = h
        self._drawn = None

    def set_length(self, metres_per_px: float) -> None:
        """Draw the longest round length that fits, for ``metres_per_px`` at the focal point."""
        if self.part is None or self.box is None:
            return
        width = self.o.size[0]
        ok = metres_per_px > 0 and math.isfinite(metres_per_px)
        metres = nice_length(width * self.part.max_length * metres_per_px) if ok else float("nan")
        if not math.isfinite(metres):
            self.actor.SetVisibility(False)
            self.label.SetVisibility(False)
            self.metres, self.pixels, self.text = float("nan"), 0.0, ""
            self._drawn = None
            return
        length = metres / metres_per_px
        key = (metres, round(length), self._origin, self._box_w, self._box_h, self._thick)
        if key == self._drawn:  # the same bar as in the last frame
            self.pixels = length
            return
        self._drawn = key
        self.metres, self.pixels, self.text = metres, length, format_length(metres)
        x0, y0 = self._origin
        pad, thick = self._pad, self._thick
        halign = _halign(self.anchor)
        bar_w = round(length)
        if halign == "left":
            bx = x0 + pad
        elif halign == "right":
            bx = x0 + self._box_w - pad - bar_w
        else:
            bx = x0 + (self._box_w - bar_w) / 2
        bx, by = round(bx), round(y0 + pad)
        mantissa = round(metres / 10 ** math.floor(math.log10(metres)))
        n_seg = 5 if mantissa == 5 else 4
        edge = max(1.0, round(thick / 6))
        seg = np.linspace(edge, bar_w - edge, n_seg + 1)
        panel_w = max(bar_w, self.o.text_width(self.text, self.o.px(self.part.size))) + 2 * pad
        panel_x = bx - pad + (bar_w + 2 * pad - panel_w) / 2
        rects = [
            _rect(panel_x - bx, -pad, panel_x - bx + panel_w, self._box_h - pad),  # panel
            _rect(0, 0, bar_w, thick),  # dark bar: the outline and the dark segments
        ]
        rects += [_rect(seg[i], edge, seg[i + 1], thick - edge) for i in range(1, n_seg, 2)]  # white segments
        colours = [PANEL_RGBA, DARK] + [LIGHT] * (len(rects) - 2)
        pts = np.vstack(rects)
        polys = [[4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3] for i in range(len(rects))]
        new = _polydata(pts, polys, np.array(colours))
        self.data.ShallowCopy(new)
        self.data.Modified()
        self._put(self.actor, bx, by)
        self.label.SetInput(self.text)
        label_y = by + thick + 0.35 * self.o.px(self.part.size) - self._label_h[2]
        self._put(self.label, bx + bar_w / 2, round(label_y))
        self.actor.SetVisibility(True)
        self.label.SetVisibility(True)
        self.bar_box = (bx, by, bx + bar_w, by + thick)


def _halign(anchor: str) -> str:
    if anchor.endswith("left") or anchor == "left":
        return "left"
    if anchor.endswith("right") or anchor == "right":
        return "right"
    return "centre"


def _valign(anchor: str) -> str:
    if anchor.startswith("top"):
        return "top"
    if anchor.startswith("bottom"):
        return "bottom"
    return "middle"


def read_logo(path: str | os.PathLike) -> Any:
    """A logo image as a Pillow RGBA image.

    Raises
    ------
    OverlayError
        With one sentence naming the file, when it is missing or not an image.
    """
    from PIL import Image

    path = Path(path)
    if not path.exists():
        raise OverlayError(f"The logo file {path} does not exist.")
    if not path.is_file():
        raise OverlayError(f"The logo {path} is not a file.")
    try:
        with Image.open(path) as img:
            img.load()
            rgba = img.convert("RGBA")
    except Exception as exc:  # Pillow raises many kinds (UnidentifiedImageError, OSError, DecompressionBombError …)
        raise OverlayError(f"The logo {path} could not be read as an image ({type(exc).__name__}).") from None
    if rgba.width < 1 or rgba.height < 1:
        raise OverlayError(f"The logo {path} is an empty image.")
    return rgba


class OverlayRenderer:
    """Overlays over a scene, on a renderer of their own at the top of the scene's render window.

    Parameters
    ----------
    renderer
        The scene's ``vtkRenderer`` (or a pyvista plotter): its camera and window.
    size
        ``(width, height)`` of the output image in pixels; ``None`` follows the renderer's
        size (the window). A still rendered by tiles passes its full size (:meth:`resize`).
    settings
        What to draw (nothing by default).
    scale
        Extra factor on every overlay size (not on margins or the scale bar's longest length).
    style
        The look (the legend's colours, its text colour).
    base_dir
        The folder a relative logo path is relative to (the project file's folder).
    thematic
        The current thematic colouring (:class:`~citytwin.render.colormap.Thematic`), for the legend.

    Raises
    ------
    OverlayError
        With one sentence, for a missing or unreadable logo.

    Attributes
    ----------
    overlay
        The ``vtkRenderer`` the overlays are drawn on.
    north_angle
        Where the north arrow points, degrees counter-clockwise from the screen's up (last update).
    metres_per_pixel
        At the focal point, in the output image (last update).
    """

    def __init__(
        self,
        renderer: Any,
        size: tuple[int, int] | None = None,
        settings: OverlaySettings | None = None,
        *,
        scale: float = 1.0,
        style: Style = DEFAULT_STYLE,
        base_dir: str | os.PathLike | None = None,
        thematic: Any = None,
    ) -> None:
        self.renderer = renderer_of(renderer)
        self.style = style
        self.scale = float(scale)
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise ValueError("the overlays' scale must be a positive number")
        self.base_dir = None if base_dir is None else Path(base_dir)
        self._size = None if size is None else (int(size[0]), int(size[1]))
        self.settings = OverlaySettings()
        self.thematic = thematic
        self.caption: tuple[str, str] = ("", "")
        self.north_angle = 0.0
        self.metres_per_pixel = float("nan")
        self._visible = True
        #: While true, frames do not update the overlays (a tiled still renders every tile with one layout).
        self.frozen = False
        self._layout_key: tuple | None = None
        self._text_cache: dict[tuple[str, int, bool], tuple[int, int, int, int]] = {}

        self.overlay = vtkRenderer()
        self.overlay.SetObjectName(OVERLAY_RENDERER_NAME)
        self.overlay.SetLayer(OVERLAY_LAYER)
        self.overlay.InteractiveOff()
        self.overlay.EraseOff()  # 2D props only: nothing to clear
        self.overlay.UseFXAAOff()
        self.overlay.UseDepthPeelingOff()
        self.overlay.SetViewport(*self.renderer.GetViewport())
        window = self.renderer.GetRenderWindow()
        if window.GetNumberOfLayers() <= OVERLAY_LAYER:
            window.SetNumberOfLayers(OVERLAY_LAYER + 1)
        window.AddRenderer(self.overlay)
        self._window = window

        self.parts: dict[str, _Part] = {
            "title": _TextBlock(self, "title"),
            "logo": _Logo(self),
            "legend": _Legend(self),
            "north_arrow": _NorthArrow(self),
            "scale_bar": _ScaleBar(self),
            "attribution": _TextBlock(self, "attribution"),
            "caption": _TextBlock(self, "caption"),
        }
        for part in self.parts.values():
            for actor in part.actors:
                self.overlay.AddViewProp(actor)
        self._tag: int | None = self.renderer.AddObserver("StartEvent", self._on_start)
        try:
            self.set_settings(settings or OverlaySettings())
        except BaseException:
            self.remove()  # a missing logo leaves nothing behind in the window
            raise

    # ------------------------------------------------------------------ sizes
    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the output image the overlays are laid out for."""
        if self._size is not None:
            return self._size
        w, h = self.renderer.GetSize()
        return (max(int(w), 1), max(int(h), 1))

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        """The output size given (:meth:`resize`), or ``None`` when following the renderer's size."""
        return self._size

    def resize(self, size: tuple[int, int] | None) -> None:
        """Lay out for another output size (``None``: follow the renderer's size again)."""
        self._size = None if size is None else (int(size[0]), int(size[1]))
        self.update()

    def px(self, fraction: float) -> float:
        """Pixels of a fraction of the output height, times :attr:`scale`."""
        return float(fraction) * self.size[1] * self.scale

    def font_points(self, fraction: float) -> int:
        """The font size (points at the window's DPI) whose letters are ``fraction`` of the output height."""
        dpi = self._window.GetDPI() if self._window is not None else 72
        return max(1, round(self.px(fraction) * 72.0 / max(float(dpi), 1.0)))

    def text_bbox(self, prop: vtkTextProperty, text: str) -> tuple[int, int, int, int]:
        """``(xmin, xmax, ymin, ymax)`` in pixels of ``text`` drawn with ``prop`` at its anchor."""
        key = (text, int(prop.GetFontSize()), bool(prop.GetBold()))
        bbox = self._text_cache.get(key)
        if bbox is None:
            b = [0, 0, 0, 0]
            dpi = int(self._window.GetDPI()) if self._window is not None else 72
            if not text or not vtkTextRenderer.GetInstance().GetBoundingBox(prop, text, b, dpi):
                size = prop.GetFontSize() * dpi / 72.0
                b = [0, int(0.6 * size * len(text)), 0, int(size)]
            bbox = (int(b[0]), int(b[1]), int(b[2]), int(b[3]))
            if len(self._text_cache) > 2000:
                self._text_cache.clear()
            self._text_cache[key] = bbox
        return bbox

    def text_width(self, text: str, font_px: float) -> float:
        """Width in pixels of ``text`` in the overlays' plain font at ``font_px`` pixels."""
        tp = vtkTextProperty()
        tp.SetFontFamilyToArial()
        tp.SetFontSize(self.font_points(font_px / (self.size[1] * self.scale)))
        b = self.text_bbox(tp, text)
        return float(b[1] - b[0] + 1)

    # ------------------------------------------------------------------ content
    def set_settings(self, settings: OverlaySettings) -> None:
        """Draw other settings (a logo is read again only when its path changes).

        Raises
        ------
        OverlayError
            For a missing or unreadable logo (the previous settings stay).
        """
        logo: _Logo = self.parts["logo"]  # type: ignore[assignment]
        if settings.logo is not None:
            logo.configure(settings.logo, self.base_dir)  # raises before anything changes
        else:
            logo.part, logo.image, logo.path = None, None, None
        self.settings = settings
        s = settings
        title: _TextBlock = self.parts["title"]  # type: ignore[assignment]
        if s.title is not None:
            t: TitleOverlay = s.title
            title.configure(t, [(t.text, t.size, True), (t.subtitle, 0.6 * t.size, False)])
        else:
            title.lines = []
        attribution: _TextBlock = self.parts["attribution"]  # type: ignore[assignment]
        if s.attribution is not None:
            a: AttributionOverlay = s.attribution
            attribution.configure(a, [(a.text, a.size, False)])
        else:
            attribution.lines = []
        legend: _Legend = self.parts["legend"]  # type: ignore[assignment]
        if s.legend is not None:
            legend.configure(s.legend, self.thematic)
        else:
            legend.part = None
        north: _NorthArrow = self.parts["north_arrow"]  # type: ignore[assignment]
        north.part = None
        if s.north_arrow is not None:
            north.configure(s.north_arrow)
        bar: _ScaleBar = self.parts["scale_bar"]  # type: ignore[assignment]
        bar.part = None
        if s.scale_bar is not None:
            bar.configure(s.scale_bar)
        self._set_caption_part()
        self._layout_key = None
        self.update()

    def set_legend(self, thematic: Any) -> None:
        """The thematic colouring whose legend is drawn (``None``: no legend, whatever the settings)."""
        self.thematic = thematic
        if self.settings.legend is not None:
            self.parts["legend"].configure(self.settings.legend, thematic)  # type: ignore[attr-defined]
        self._layout_key = None
        self.update()

    def set_caption(self, title: str = "", subtitle: str = "") -> None:
        """Show a tour's caption (once per video frame is fine: only texts change and actors move)."""
        caption = (str(title or ""), str(subtitle or ""))
        if caption == self.caption:
            return
        self.caption = caption
        self._set_caption_part()
        self._layout_key = None
        self.update()

    def clear_caption(self) -> None:
        """Hide the caption."""
        self.set_caption("", "")

    def _set_caption_part(self) -> None:
        c: CaptionOverlay = self.settings.captions
        block: _TextBlock = self.parts["caption"]  # type: ignore[assignment]
        block.configure(c, [(self.caption[0], c.size, True), (self.caption[1], 0.6 * c.size, False)])

    def set_visible(self, visible: bool) -> None:
        """Show or hide every overlay."""
        self._visible = bool(visible)
        self.overlay.SetDraw(self._visible)

    @property
    def visible(self) -> bool:
        return self._visible

    # ------------------------------------------------------------------ per frame
    def _on_start(self, *_args: Any) -> None:
        if not self.frozen:
            self.update()

    def update(self, camera: Any = None) -> None:
        """Lay out again if the size or the content changed; turn the north arrow and fit the scale bar.

        Parameters
        ----------
        camera
            A ``vtkCamera``; the scene renderer's active camera by default.
        """
        viewport = tuple(self.renderer.GetViewport())
        if tuple(self.overlay.GetViewport()) != viewport:
            self.overlay.SetViewport(*viewport)
        key = (self.size, self.scale, self._window.GetDPI() if self._window is not None else 72)
        if key != self._layout_key:
            self._layout()
            self._layout_key = key
        cam = camera if camera is not None else self.renderer.GetActiveCamera()
        if cam is None:
            return
        w, h = self.size
        self.metres_per_pixel = metres_per_pixel(cam, h, w)
        self.north_angle = north_angle(cam)
        north: _NorthArrow = self.parts["north_arrow"]  # type: ignore[assignment]
        if north.part is not None:
            north.turn(self.north_angle)
        bar: _ScaleBar = self.parts["scale_bar"]  # type: ignore[assignment]
        if bar.part is not None:
            bar.set_length(self.metres_per_pixel)

    def _layout(self) -> None:
        """Measure every part and stack those sharing an anchor away from the edge."""
        width, height = self.size
        gap = STACK_GAP * height
        by_anchor: dict[str, list[tuple[_Part, Box]]] = {}
        for part in self.parts.values():
            box = part.measure()
            shown = box[0] > 0 and box[1] > 0
            for actor in part.actors:
                actor.SetVisibility(shown)
            part.box = None
            if shown:
                by_anchor.setdefault(part.anchor, []).append((part, box))
        for anchor, items in by_anchor.items():
            v = _valign(anchor)
            order = _STACK_BOTTOM if v == "bottom" else _STACK_TOP
            items.sort(key=lambda pb: order.index(pb[0].name) if pb[0].name in order else len(order))
            first_margin = items[0][0].margin * height
            total = sum(b[1] for _, b in items) + gap * (len(items) - 1)
            if v == "top":
                y = height - first_margin
            elif v == "bottom":
                y = first_margin + total
            else:
                y = height / 2 + total / 2
            if v == "bottom":
                items.reverse()  # placed from the top of the stack down: the part nearest the edge last
            for part, (w, h) in items:  # y: the top of the next part
                m = part.margin * height
                ha = _halign(anchor)
                x0 = m if ha == "left" else (width - m - w if ha == "right" else (width - w) / 2)
                part.place(x0, y - h, w, h)
                y -= h + gap
        for part in self.parts.values():  # parts placed without a box: hidden
            if part.box is None:
                for actor in part.actors:
                    actor.SetVisibility(False)
            elif isinstance(part, _TextBlock):
                part.panel.SetVisibility(part.panel_on)

    # ------------------------------------------------------------------ queries
    def boxes(self) -> dict[str, tuple[int, int, int, int]]:
        """Each drawn part's box in image pixels ``(column0, row0, column1, row1)``, row 0 at the top."""
        _, height = self.size
        out = {}
        for name, part in self.parts.items():
            if part.box is not None:
                x0, y0, x1, y1 = part.box
                out[name] = (round(x0), round(height - y1), round(x1), round(height - y0))
        return out

    @property
    def scale_bar(self) -> tuple[float, float, str]:
        """The scale bar's length in metres and in output pixels, and its label (``nan, 0, ""`` if none)."""
        bar: _ScaleBar = self.parts["scale_bar"]  # type: ignore[assignment]
        return (bar.metres, bar.pixels, bar.text)

    @property
    def actors(self) -> list[Any]:
        """Every prop on the overlays' renderer."""
        return [a for part in self.parts.values() for a in part.actors]

    # ------------------------------------------------------------------ teardown
    def remove(self) -> None:
        """Take the overlays out of the render window and stop following the renderer."""
        if self._tag is not None:
            self.renderer.RemoveObserver(self._tag)
            self._tag = None
        self.overlay.RemoveAllViewProps()
        if self._window is not None:
            self._window.RemoveRenderer(self.overlay)
        self._window = None


__all__ = [
    "OVERLAY_LAYER",
    "OVERLAY_RENDERER_NAME",
    "OverlayError",
    "OverlayRenderer",
    "format_length",
    "metres_per_pixel",
    "nice_length",
    "north_angle",
    "read_logo",
]
