"""Pins drawn as one visual: markers, leader lines and labels that follow a scene's pin list.

Every pin of a :class:`~citytwin.model.annotations.ItemList` is drawn by the same few
actors, whatever their number (never one actor per pin):

* a **dot** on the pin's point and a **leader line** from it up to the pin's **marker**,
  depth-tested with the model (a dot behind a building is hidden: the pin is behind it)
  but drawn after the scene's anti-aliasing pass (:func:`scene_overlay_renderer`). They
  are drawn a little (:data:`NUDGE_M`) nearer the camera than the point, on the same line of
  sight, so that a pin on a wall or a roof does not sink into it;
* the **marker**: a flat icon (:data:`ICON_SHAPES`, one per :data:`~citytwin.model.annotations.PIN_ICONS`)
  in the pin's colour with a dark outline and a white symbol, facing the camera, drawn on a
  renderer layer over the scene (:func:`overlay_renderer`) so that no building hides it;
* the **label**: the title, in screen space (a fixed font size in pixels) above the marker,
  placed by VTK's label placement (``vtkPointSetToLabelHierarchy`` +
  ``vtkLabelPlacementMapper`` in a ``vtkActor2D``): where labels would overlap, the pins
  earlier in the list keep theirs and the others go without for that frame.

Markers and dots are glyphs of one ``vtkPolyData`` each: one camera-facing quad per pin,
textured from an atlas drawn once (:func:`icon_atlas`, its channels say where the pin's
colour, the outline and the white symbol go) and tinted per pin by its vertex colour,
scaled every frame to keep the same size in pixels at any distance. Quads rather than
polygon glyphs, tight ones, and none of them under the scene's FXAA: under software OpenGL
what a thousand pins cost is the triangles and pixels they cover (``bench/bench_annotations.py``).
At most :data:`MAX_LABELS` labels are offered to the placement per frame.

Pin positions are world coordinates in the scene's source CRS (float64); they go through
an optional ``to_display`` transform (source CRS → the CRS the scene is drawn in), have the
scene origin subtracted in float64, and only then become float32. What depends on the
camera (sizes in pixels, the screen's "up", the labels' anchors) is recomputed when the
renderer starts a frame whose camera or size differ from the last one (a ``StartEvent``
observer).

This module is VTK only; a window connects :attr:`PinsVisual.on_change` to its own
"render soon" call.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import vtkmodules.vtkRenderingFreeType  # noqa: F401  - text rendering (object factory)
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  - the OpenGL back end (object factory)
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints, vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkActor2D,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkTextProperty,
    vtkTextRenderer,
    vtkTexture,
)
from vtkmodules.vtkRenderingLabel import vtkLabelPlacementMapper, vtkPointSetToLabelHierarchy

from citytwin.model.annotations import PIN_ICONS, Pin
from citytwin.render.camera import camera_basis
from citytwin.render.visuals import renderer_of

#: Length of the leader line from the pin's point to the bottom of its marker (pixels).
LEADER_PX = 28.0
#: Gap between the top of a marker and its label (pixels).
LABEL_GAP_PX = 3.0
#: Label font size (pixels).
FONT_PX = 13
#: Radius of the dot on the pin's point (pixels).
BASE_PX = 3.5
#: Width of the dark outline around icons and dots (pixels).
OUTLINE_PX = 1.5
#: Dots and leader lines are drawn this much (metres) nearer the camera than their point, on the
#: same line of sight (same place on screen, same size in pixels): a pin on a wall is not inside it.
NUDGE_M = 2.0
#: Colour (RGB 0–1) of outlines and leader lines.
OUTLINE_RGB = (0.10, 0.10, 0.12)
#: Labels offered to the placement per frame (see :class:`PinsVisual`'s ``max_labels``).
MAX_LABELS = 40
#: The label's text, background and frame.
LABEL_TEXT_RGB = (0.08, 0.08, 0.10)
LABEL_BACKGROUND_RGB = (1.0, 1.0, 1.0)
LABEL_BACKGROUND_OPACITY = 0.88
LABEL_FRAME_RGB = (0.45, 0.45, 0.48)
OVERLAY_NAME = "citytwin-overlay"
SCENE_OVERLAY_NAME = "citytwin-scene-overlay"
#: Texels per atlas cell side.
CELL = 32

Polygon = np.ndarray  # (K, 2) float, counter-clockwise, star-shaped around its centroid


def _circle(cx: float, cy: float, r: float, n: int = 24) -> Polygon:
    a = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], axis=1)


def _rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def _teardrop(cy: float, r: float, n: int = 28) -> Polygon:
    """A map pin's outline: a circle centred ``cy`` above its tip at (0, 0)."""
    half = math.acos(r / cy)  # angle at the centre between "down" and the tangent points
    a = np.linspace(-math.pi / 2 + half, 3 * math.pi / 2 - half, n)
    arc = np.stack([r * np.cos(a), cy + r * np.sin(a)], axis=1)
    return np.vstack([arc, [[0.0, 0.0]]])


def _star(cx: float, cy: float, outer: float, inner: float) -> Polygon:
    a = math.pi / 2 + np.arange(10) * math.pi / 5
    r = np.where(np.arange(10) % 2 == 0, outer, inner)
    return np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], axis=1)


#: Icon → (polygons filled with the pin's colour, polygons of the white symbol on them), in pixels:
#: x to the right, y up, (0, 0) the top of the leader line.
ICON_SHAPES: dict[str, tuple[list[Polygon], list[Polygon]]] = {
    "pin": ([_teardrop(13.0, 8.5)], [_circle(0.0, 13.0, 3.2, 16)]),
    "info": ([_circle(0.0, 11.0, 10.0)], [_circle(0.0, 16.0, 1.8, 12), _rect(-1.5, 5.0, 1.5, 12.5)]),
    "star": ([_star(0.0, 11.0, 11.5, 5.0)], []),
    "flag": ([_rect(-1.3, 0.0, 1.3, 22.0), _rect(1.3, 11.0, 15.0, 22.0)], []),
    "camera": ([_rect(-10.5, 2.0, 10.5, 16.0), _rect(-4.5, 16.0, 4.5, 19.5)], [_circle(0.0, 9.0, 4.5, 20)]),
    "warning": (
        [np.array([[-12.0, 1.0], [12.0, 1.0], [0.0, 21.5]])],
        [_rect(-1.4, 8.0, 1.4, 16.0), _circle(0.0, 5.0, 1.6, 12)],
    ),
}
#: Top of each icon above the leader line (pixels, outline included): where its label starts.
ICON_TOP: dict[str, float] = {
    name: max(float(p[:, 1].max()) for p in fills) + OUTLINE_PX for name, (fills, _) in ICON_SHAPES.items()
}


def _offset(poly: Polygon, d: float) -> Polygon:
    """``poly`` grown by ``d`` pixels (mitred vertex offsets, capped at sharp corners)."""
    p = np.asarray(poly, float)
    prev_e = p - np.roll(p, 1, axis=0)
    next_e = np.roll(p, -1, axis=0) - p

    def normal(e: np.ndarray) -> np.ndarray:  # outward normal of a counter-clockwise edge
        n = np.stack([e[:, 1], -e[:, 0]], axis=1)
        return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)

    n1, n2 = normal(prev_e), normal(next_e)
    bis = n1 + n2
    bis /= np.maximum(np.linalg.norm(bis, axis=1, keepdims=True), 1e-12)
    cos_half = np.clip((bis * n1).sum(axis=1, keepdims=True), 0.35, 1.0)
    return p + bis * (d / cos_half)


def icon_polygons(icon: str) -> tuple[list[Polygon], list[Polygon], list[Polygon]]:
    """(outline, fill, symbol) polygons of an icon in pixels (y up), for drawing it elsewhere (the panel)."""
    fills, symbols = ICON_SHAPES.get(icon, ICON_SHAPES["pin"])
    return [_offset(p, OUTLINE_PX) for p in fills], list(fills), list(symbols)


_BASE_SHAPE = [_circle(0.0, 0.0, BASE_PX, 24)]


def _box(polys: list[Polygon]) -> tuple[float, float, float, float]:
    pts = np.vstack(polys)
    lo, hi = pts.min(axis=0) - 0.5, pts.max(axis=0) + 0.5
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


#: The box (pixels, ``x0, y0, x1, y1`` around the top of the leader line) each icon's quad covers,
#: and the dot's (around the pin's point): the outline plus half a pixel.
ICON_BOX: dict[str, tuple[float, float, float, float]] = {name: _box(icon_polygons(name)[0]) for name in PIN_ICONS}
BASE_BOX = _box([_offset(p, OUTLINE_PX) for p in _BASE_SHAPE])
MARKER_BOX_TOP = max(box[3] for box in ICON_BOX.values())
#: Atlas cells: every icon, the dot, then a solid cell of the outline's colour (leader lines).
_CELLS = [*PIN_ICONS, "base", "line"]
_BASE_CELL = len(PIN_ICONS)
_LINE_CELL = _BASE_CELL + 1
#: Width of a leader line (pixels).
LINE_PX = 2.0


@functools.cache
def icon_atlas() -> np.ndarray:
    """``(CELL, CELL * (icons + 2), 4)`` uint8 image of every icon, the dot and a line (row 0 at the top).

    Not colours but where they go: red is the pin's colour, green the white symbol, alpha
    the icon with its outline (what is neither red nor green is outline). Drawn once with
    Pillow at 4× and reduced, for smooth edges; each cell spans its icon's :data:`ICON_BOX`.
    """
    from PIL import Image, ImageDraw

    ss = 4
    size = CELL * ss
    cells = []
    for name in _CELLS:
        if name == "line":
            full = np.full((CELL, CELL), 255, np.uint8)
            cells.append(np.stack([0 * full, 0 * full, 0 * full, full], axis=2))
            continue
        if name == "base":
            box, outline, fill, symbol = BASE_BOX, [_offset(p, OUTLINE_PX) for p in _BASE_SHAPE], _BASE_SHAPE, []
        else:
            box = ICON_BOX[name]
            outline, fill, symbol = icon_polygons(name)
        x0, y0, x1, y1 = box
        channels = []
        for polys in (fill, symbol, outline):  # red, green, alpha
            img = Image.new("L", (size, size), 0)
            draw = ImageDraw.Draw(img)
            for poly in polys:
                u = (poly[:, 0] - x0) / (x1 - x0) * size
                v = (y1 - poly[:, 1]) / (y1 - y0) * size  # image rows go down
                draw.polygon([(float(a), float(b)) for a, b in zip(u, v, strict=True)], fill=255)
            channels.append(np.asarray(img.resize((CELL, CELL), Image.Resampling.BOX)))
        red, green, alpha = channels
        cells.append(np.stack([red, green, np.zeros_like(red), alpha], axis=2))
    return np.concatenate(cells, axis=1)


def _texture() -> vtkTexture:
    atlas = icon_atlas()
    h, w, _ = atlas.shape
    image = vtkImageData()
    image.SetDimensions(w, h, 1)
    data = numpy_to_vtk(np.ascontiguousarray(atlas[::-1]).reshape(-1, 4), deep=True)  # VTK rows go up
    data.SetName("atlas")
    image.GetPointData().SetScalars(data)
    tex = vtkTexture()
    tex.SetInputData(image)
    tex.InterpolateOff()  # the atlas is drawn at about one texel per pixel: no filtering needed
    tex.RepeatOff()
    tex.EdgeClampOn()
    tex.SetColorModeToDirectScalars()
    return tex


#: The icon shader: the pin's colour where the atlas is red, white where it is green, the outline
#: elsewhere; alpha from the atlas; the texels outside the icon are dropped (no depth written there).
_OUTLINE_GLSL = "vec3({:.4f}, {:.4f}, {:.4f})".format(*OUTLINE_RGB)
_ICON_SHADER = (
    "//VTK::TCoord::Impl\n"
    "  {\n"
    "    vec4 pinTexel = texture(actortexture, tcoordVCVSOutput);\n"
    "    if (pinTexel.a < 0.08) { discard; }\n"
    "    float pinCover = max(pinTexel.a, 1e-3);\n"
    f"    vec3 pinRgb = mix({_OUTLINE_GLSL}, vertexColorVSOutput.rgb, pinTexel.r / pinCover);\n"
    "    pinRgb = mix(pinRgb, vec3(1.0), pinTexel.g / pinCover);\n"
    "    gl_FragData[0] = vec4(pinRgb, gl_FragData[0].a);\n"
    "  }\n"
)


def overlay_renderer(renderer: Any) -> vtkRenderer:
    """The renderer drawn over ``renderer``'s scene (layer 1 of its window, same camera), made on first use.

    Props on it are drawn after the whole scene with a cleared depth buffer: always visible.
    It takes no mouse input (picking and navigation stay with the scene's renderer), and
    blends what is translucent in drawing order (no order-independent transparency: no
    full-window passes).
    """
    ren = renderer_of(renderer)
    window = ren.GetRenderWindow()
    found = _named_renderer(ren, OVERLAY_NAME)
    if found is not None:
        return found
    overlay = vtkRenderer()
    overlay.SetObjectName(OVERLAY_NAME)
    overlay.SetLayer(1)
    overlay.InteractiveOff()
    overlay.SetViewport(*ren.GetViewport())
    overlay.SetActiveCamera(ren.GetActiveCamera())
    overlay.SetPreserveDepthBuffer(False)
    overlay.UseOITOff()
    overlay.UseDepthPeelingOff()
    if window.GetNumberOfLayers() < 2:
        window.SetNumberOfLayers(2)
    window.AddRenderer(overlay)
    return overlay


def _named_renderer(ren: vtkRenderer, name: str) -> vtkRenderer | None:
    """The renderer called ``name`` in ``ren``'s window, made to share ``ren``'s camera; ``None`` if there is none."""
    renderers = ren.GetRenderWindow().GetRenderers()
    renderers.InitTraversal()
    for _ in range(renderers.GetNumberOfItems()):
        other = renderers.GetNextItem()
        if other is not None and other.GetObjectName() == name:
            if other.GetActiveCamera() is not ren.GetActiveCamera():
                other.SetActiveCamera(ren.GetActiveCamera())
            return other
    return None


def scene_overlay_renderer(renderer: Any) -> vtkRenderer:
    """A renderer drawn right after ``renderer``'s scene, in its depth buffer (same camera), made on first use.

    Props on it are hidden behind the scene's surfaces like the scene's own, but they are drawn
    after the scene's anti-aliasing (FXAA) pass, which they would otherwise make slower: under
    software OpenGL, FXAA costs about as much as the whole city, and more where a frame has
    more sharp edges (a thousand dark leader lines). It erases nothing and takes no mouse input.
    """
    ren = renderer_of(renderer)
    window = ren.GetRenderWindow()
    found = _named_renderer(ren, SCENE_OVERLAY_NAME)
    if found is not None:
        return found
    extra = vtkRenderer()
    extra.SetObjectName(SCENE_OVERLAY_NAME)
    extra.SetLayer(ren.GetLayer())
    extra.EraseOff()  # keeps the scene's colours and depths
    extra.InteractiveOff()
    extra.SetViewport(*ren.GetViewport())
    extra.SetActiveCamera(ren.GetActiveCamera())
    extra.UseFXAAOff()
    extra.UseDepthPeelingOff()
    extra.UseOITOff()
    window.AddRenderer(extra)
    return extra


def source_to_display(source_crs: Any, display_crs: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """The transform of pin positions from the scene's source CRS to the CRS it is drawn in, or ``None``.

    ``None`` (no transform) when either CRS is unknown or both are the same.
    """
    if source_crs is None or display_crs is None or source_crs.epsg is None or display_crs.epsg is None:
        return None
    if source_crs.epsg == display_crs.epsg:
        return None
    from citytwin.model.crs import reproject

    def transform(points: np.ndarray) -> np.ndarray:
        return reproject(np.asarray(points, np.float64).reshape(-1, 3), source_crs, display_crs)

    return transform


def _polydata() -> vtkPolyData:
    pd = vtkPolyData()
    _set_points(pd, np.zeros((0, 3)))
    return pd


def _set_points(pd: vtkPolyData, points: np.ndarray) -> None:
    vp = vtkPoints()
    vp.SetData(numpy_to_vtk(np.ascontiguousarray(points, np.float32).reshape(-1, 3), deep=True))
    pd.SetPoints(vp)


def _cells(connectivity: np.ndarray) -> vtkCellArray:
    """A cell array of ``(C, K)`` point indices."""
    ca = vtkCellArray()
    c = np.asarray(connectivity, np.int64)
    if c.size:
        offsets = np.arange(0, c.size + 1, c.shape[1], dtype=np.int64)
        ca.SetData(numpy_to_vtk(offsets, deep=True), numpy_to_vtk(c.ravel(), deep=True))
    return ca


def _quad_corners(
    centres: np.ndarray, scales: np.ndarray, boxes: np.ndarray, right: np.ndarray, up: np.ndarray
) -> np.ndarray:
    """``(4 Q, 3)`` corners of camera-facing quads: ``boxes`` (pixels) around ``centres``, ``scales`` m per pixel."""
    cx = boxes[:, [0, 2, 2, 0]] * scales[:, None]
    cy = boxes[:, [1, 1, 3, 3]] * scales[:, None]
    return (centres[:, None, :] + cx[..., None] * right + cy[..., None] * up).reshape(-1, 3)


def _set_quad_attributes(pd: vtkPolyData, cells: np.ndarray, colours: np.ndarray) -> None:
    """The quads' cells, atlas texture coordinates (``cells``: atlas cell of each) and vertex colours."""
    q = len(cells)
    n_cells = len(_CELLS)
    inset = 0.5 / (CELL * n_cells)  # sample inside the cell
    u0 = cells / n_cells + inset
    u1 = (cells + 1) / n_cells - inset
    zero, one = np.zeros(q), np.ones(q)
    tc = np.stack([np.stack(c, axis=1) for c in ((u0, zero), (u1, zero), (u1, one), (u0, one))], axis=1)
    pd.SetPolys(_cells(np.arange(4 * q).reshape(q, 4)))
    data = pd.GetPointData()
    tcoords = numpy_to_vtk(np.ascontiguousarray(tc.reshape(-1, 2), np.float32), deep=True)
    tcoords.SetName("tcoords")
    data.SetTCoords(tcoords)
    col = numpy_to_vtk(np.ascontiguousarray(np.repeat(colours, 4, axis=0).reshape(-1, 3), np.uint8), deep=True)
    col.SetName("colors")
    data.AddArray(col)


class PinsVisual:
    """All pins of a list as one visual.

    Parameters
    ----------
    pins
        The pins: an evented :class:`~citytwin.model.annotations.ItemList` (the visual follows its
        ``inserted``/``removed``/``changed``/``moved`` events) or a plain sequence (drawn as given).
    renderer
        A ``vtkRenderer`` or a pyvista plotter.
    origin
        ``(3,)`` float64 scene origin (display CRS); ``None`` draws relative to (0, 0, 0) until
        :meth:`set_origin`.
    to_display
        Source CRS → display CRS for ``(N, 3)`` float64 points (see :func:`source_to_display`), or
        ``None`` when they are the same. A callable taking no argument and returning such a
        transform (or ``None``) is also accepted: it is asked again at every change, for a scene
        whose CRS is known only once its first layer arrives.
    settings
        An evented :class:`~citytwin.model.annotations.AnnotationSettings` to follow (``pins_visible``,
        ``pins_opacity``), or ``None``.
    on_change
        Called after every change that needs a new frame (a window passes its "render soon").
    font_size
        Label font size in pixels.
    max_labels
        At most this many labels are offered to the placement each frame: the first pins of the
        list in the view (what a frame of labels costs grows with their number; more than a few
        dozen labels is clutter anyway).

    Attributes
    ----------
    drawn
        Indices (into the list) of the pins drawn in the last frame.
    pixel_size
        Metres per pixel at each drawn pin's point in the last frame.
    """

    def __init__(
        self,
        pins: Any,
        renderer: Any,
        origin: np.ndarray | None = None,
        *,
        to_display: Any = None,
        settings: Any = None,
        on_change: Callable[[], None] | None = None,
        font_size: int = FONT_PX,
        max_labels: int = MAX_LABELS,
    ) -> None:
        self.renderer = renderer_of(renderer)
        self.max_labels = int(max_labels)
        self.overlay = overlay_renderer(self.renderer)
        self.origin = np.zeros(3) if origin is None else np.asarray(origin, np.float64)
        self._to_display = to_display
        self.on_change = on_change
        self.settings = settings
        self._visible = True if settings is None else bool(settings.pins_visible)
        self._opacity = 1.0 if settings is None else float(settings.pins_opacity)
        self._pins: Any = pins
        self._connections: list[tuple[Any, Any]] = []
        self._camera_key: tuple | None = None
        self._version = 0
        self._width_cache: dict[str, tuple[float, float]] = {}
        # per pin, in list order
        self.ids: list[str] = []
        self.positions = np.zeros((0, 3))  # display CRS, relative to the origin (float64)
        self.colours = np.zeros((0, 3), np.uint8)
        self.icons = np.zeros(0, np.int32)
        self.titles: list[str] = []
        self.shown = np.zeros(0, bool)  # each pin's own visible flag (and a finite position)
        self.drawn = np.zeros(0, np.int64)
        self.pixel_size = np.zeros(0)
        self._dots = np.zeros((0, 3))
        self._tops = np.zeros((0, 3))
        self._label_texts: list[str] = []
        self._label_widths = np.zeros(0)
        self._quads_key: tuple | None = None
        self._far_needed = 0.0
        #: Markers, leader lines and label offsets are drawn this many times their size in pixels (large stills;
        #: see :meth:`set_pixel_scale`).
        self.pixel_scale = 1.0

        self._text = vtkTextProperty()
        self._text.SetFontSize(int(font_size))
        self._text.SetFontFamilyToArial()
        self._text.SetColor(*LABEL_TEXT_RGB)
        self._text.SetJustificationToLeft()  # VTK's label bounds are exact only left/bottom justified
        self._text.SetVerticalJustificationToBottom()
        self._text.SetBackgroundColor(*LABEL_BACKGROUND_RGB)
        self._text.SetFrameColor(*LABEL_FRAME_RGB)
        self._text.SetFrameWidth(1)
        self._build_pipeline()
        self._tag: int | None = self.renderer.AddObserver("StartEvent", self._on_start)
        self._follow()
        self.sync()

    # ------------------------------------------------------------------ pipeline
    def _build_pipeline(self) -> None:
        self._atlas_texture = texture = _texture()
        self.dot_data = _polydata()
        self.marker_data = _polydata()
        self._dots_actor = self._icon_actor(self.dot_data, texture)  # leader lines and dots
        self._markers = self._icon_actor(self.marker_data, texture)
        # labels
        self.label_data = _polydata()
        self._hierarchy = vtkPointSetToLabelHierarchy()
        self._hierarchy.SetInputData(self.label_data)
        self._hierarchy.SetLabelArrayName("title")
        self._hierarchy.SetPriorityArrayName("priority")
        self._hierarchy.SetTextProperty(self._text)
        self._placer = vtkLabelPlacementMapper()
        self._placer.SetInputConnection(self._hierarchy.GetOutputPort())
        self._placer.SetShapeToNone()  # the text property draws the background and the frame
        self._placer.UseDepthBufferOff()
        self._placer.PlaceAllLabelsOff()
        self.label_actor = vtkActor2D()
        self.label_actor.SetMapper(self._placer)

        self._scene_actors = [self._dots_actor]
        self._overlay_actors = [self._markers]
        self.scene_overlay = scene_overlay_renderer(self.renderer)
        for a in self._scene_actors:
            self.scene_overlay.AddActor(a)
        for a in self._overlay_actors:
            a.SetUseBounds(False)
            self.overlay.AddActor(a)
        self.overlay.AddViewProp(self.label_actor)
        self._apply_look()

    @staticmethod
    def _icon_actor(data: vtkPolyData, texture: vtkTexture) -> vtkActor:
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(data)
        mapper.SetScalarModeToUsePointFieldData()
        mapper.SelectColorArray("colors")
        mapper.SetColorModeToDirectScalars()
        mapper.ScalarVisibilityOn()
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.SetTexture(texture)
        prop = actor.GetProperty()
        prop.LightingOff()
        prop.SetAmbient(1.0)
        prop.SetDiffuse(0.0)
        actor.GetShaderProperty().AddFragmentShaderReplacement("//VTK::TCoord::Impl", True, _ICON_SHADER, False)
        return actor

    @property
    def actors(self) -> list[Any]:
        """Every prop of the visual (on the scene's renderer, on the overlay, the labels)."""
        return [*self._scene_actors, *self._overlay_actors, self.label_actor]

    # ------------------------------------------------------------------ following the model
    def _follow(self) -> None:
        events = getattr(self._pins, "events", None)
        if events is not None:
            for name in ("inserted", "removed", "changed", "moved"):
                sig = getattr(events, name, None)
                if sig is not None:
                    sig.connect(self._on_items_event)
                    self._connections.append((sig, self._on_items_event))
        if self.settings is not None:
            ev = self.settings.events
            for sig, cb in ((ev.pins_visible, self.set_visible), (ev.pins_opacity, self.set_opacity)):
                sig.connect(cb)
                self._connections.append((sig, cb))

    def _on_items_event(self, *_args: Any) -> None:
        self.sync()

    def _disconnect(self) -> None:
        for sig, cb in self._connections:
            try:
                sig.disconnect(cb)
            except (RuntimeError, ValueError, TypeError):
                pass
        self._connections = []

    def _changed(self) -> None:
        self._version += 1
        if self.on_change is not None:
            self.on_change()

    def set_pins(self, pins: Any) -> None:
        """Draw another list (or sequence) of pins, following its events instead."""
        self._disconnect()
        self._pins = pins
        self._follow()
        self.sync()

    def set_origin(self, origin: np.ndarray | None) -> None:
        """The scene origin changed (the first layer arrived): recompute the relative positions."""
        self.origin = np.zeros(3) if origin is None else np.asarray(origin, np.float64)
        self.sync()

    def sync(self) -> None:
        """Read the pins again (after any change of the list, or of the scene's CRS)."""
        pins: list[Pin] = list(self._pins) if self._pins is not None else []
        n = len(pins)
        self.ids = [p.id for p in pins]
        pos = np.array([p.position for p in pins], np.float64).reshape(n, 3)
        transform = self._transform()
        if transform is not None and n:
            pos = np.asarray(transform(pos), np.float64).reshape(n, 3)
        self.positions = pos - self.origin
        colours = np.array([p.colour for p in pins], np.float64).reshape(n, 3)
        self.colours = np.clip(np.round(colours * 255), 0, 255).astype(np.uint8)
        icon_index = {name: i for i, name in enumerate(PIN_ICONS)}
        self.icons = np.array([icon_index.get(p.icon, 0) for p in pins], np.int32)
        self.titles = [p.title for p in pins]
        self._label_texts = [self._label_text(t) for t in self.titles]
        self._label_widths = np.array([self._text_width(t) if t else 0.0 for t in self._label_texts], float)
        self.shown = np.array([bool(p.visible) for p in pins], bool) & np.isfinite(self.positions).all(axis=1)
        self._camera_key = None
        self._quads_key = None
        self._changed()

    def _transform(self) -> Callable[[np.ndarray], np.ndarray] | None:
        t = self._to_display
        if t is None:
            return None
        try:
            n_params = len(inspect.signature(t).parameters)
        except (TypeError, ValueError):
            n_params = 1
        return t() if n_params == 0 else t  # a factory, or the transform itself

    # ------------------------------------------------------------------ layer settings
    def set_visible(self, visible: bool) -> None:
        """Show or hide every pin (the pins layer's switch; each pin's own flag still applies)."""
        self._visible = bool(visible)
        self._apply_look()
        self._changed()

    @property
    def visible(self) -> bool:
        return self._visible

    def set_opacity(self, opacity: float) -> None:
        """Opacity of markers, leader lines and labels, 0 to 1."""
        self._opacity = float(np.clip(opacity, 0.0, 1.0))
        self._apply_look()
        self._changed()

    @property
    def opacity(self) -> float:
        return self._opacity

    def _apply_look(self) -> None:
        o = self._opacity
        on = self._visible and o > 0
        for a in self.actors:
            a.SetVisibility(on)
        for a in (*self._scene_actors, *self._overlay_actors):
            a.GetProperty().SetOpacity(o)
            a.SetForceOpaque(o >= 1.0)  # the icons' soft edges blend; they need no depth peeling
        self._text.SetOpacity(o)
        self._text.SetBackgroundOpacity(LABEL_BACKGROUND_OPACITY * o)
        self._text.SetFrame(o > 0.5)

    # ------------------------------------------------------------------ per frame
    def _camera_state(self) -> tuple | None:
        cam = self.renderer.GetActiveCamera()
        size = tuple(self.renderer.GetSize())
        if cam is None or size[0] <= 0 or size[1] <= 0:
            return None
        if self.overlay.GetActiveCamera() is not cam:  # the scene's camera object was replaced
            self.overlay.SetActiveCamera(cam)
        return (
            cam.GetPosition(),
            cam.GetFocalPoint(),
            cam.GetViewUp(),
            cam.GetViewAngle(),
            cam.GetParallelProjection(),
            cam.GetParallelScale(),
            size,
            self._version,
        )

    def set_pixel_scale(self, scale: float) -> None:
        """Draw markers, dots, leader lines and label offsets ``scale`` times their size in pixels.

        For a still larger than the window (:func:`citytwin.render.stills.render_still`), which
        scales the label font itself. Above 1 the icon atlas is sampled smoothly.
        """
        self.pixel_scale = float(scale)
        self._atlas_texture.SetInterpolate(self.pixel_scale > 1.0)
        self._camera_key = None

    def _on_start(self, *_args: Any) -> None:
        key = self._camera_state()
        if key is None:
            return
        if key != self._camera_key:
            self._camera_key = key
            self.update_geometry()
        # the scene's clipping range is fitted to its layers: a marker above the farthest roof may lie beyond it
        cam = self.renderer.GetActiveCamera()
        near, far = cam.GetClippingRange()
        if self._far_needed > far:
            cam.SetClippingRange(near, self._far_needed)

    def update_geometry(self) -> None:
        """Recompute what depends on the camera: sizes in pixels, the screen's up, the labels' anchors."""
        cam = self.renderer.GetActiveCamera()
        _, h = self.renderer.GetSize()
        if cam is None or h <= 0:
            return
        eye, forward, up, right = camera_basis(cam)

        depth = (self.positions - eye) @ forward if len(self.positions) else np.zeros(0)
        ok = self.shown & (depth > 1e-3) if self._visible else np.zeros(len(self.positions), bool)
        idx = np.flatnonzero(ok)
        p = self.positions[idx]
        if cam.GetParallelProjection():
            px = np.full(len(idx), 2.0 * cam.GetParallelScale() / h)
        else:
            px = depth[idx] * 2.0 * math.tan(math.radians(cam.GetViewAngle()) / 2.0) / h
        self.drawn, self.pixel_size = idx, px
        px = px * self.pixel_scale
        m = len(idx)

        # dots and the bottoms of the leader lines: nearer the eye on their line of sight, same pixels
        d = p - eye
        k = 1.0 - np.minimum(NUDGE_M / np.maximum(np.linalg.norm(d, axis=1), 1e-9), 0.5)
        dots = eye + d * k[:, None]
        tops = p + up * (px * LEADER_PX)[:, None]
        self._dots, self._tops = dots, tops
        top_depth = (tops + up * (px * MARKER_BOX_TOP)[:, None] - eye) @ forward if m else np.zeros(0)
        self._far_needed = float(top_depth.max()) * 1.02 + 1.0 if m else 0.0
        icons = self.icons[idx]
        line_box = (-LINE_PX / 2, 0.0, LINE_PX / 2, LEADER_PX)
        dot_boxes = np.vstack([np.tile(line_box, (m, 1)), np.tile(BASE_BOX, (m, 1))]).reshape(-1, 4)
        marker_boxes = np.array([ICON_BOX[n] for n in PIN_ICONS])[icons].reshape(-1, 4)
        key = (self._version, idx.tobytes())
        if key != self._quads_key:  # which pins are drawn changed: new cells, texture coordinates and colours
            self._quads_key = key
            colours = self.colours[idx]
            # leader lines (thin quads from the dot up), then the dots over their lower ends
            cells = np.concatenate([np.full(m, _LINE_CELL), np.full(m, _BASE_CELL)])
            _set_quad_attributes(self.dot_data, cells, np.vstack([colours, colours]).reshape(-1, 3))
            _set_quad_attributes(self.marker_data, icons, colours)
        # every frame only the corners move
        dot_scale = px * k
        _set_points(
            self.dot_data,
            _quad_corners(np.vstack([dots, dots]), np.concatenate([dot_scale, dot_scale]), dot_boxes, right, up),
        )
        _set_points(self.marker_data, _quad_corners(tops, px, marker_boxes, right, up))
        self.dot_data.Modified()
        self.marker_data.Modified()
        self._update_labels(p, px, idx, right, up, forward, eye, cam)

    def _update_labels(
        self,
        p: np.ndarray,
        px: np.ndarray,
        idx: np.ndarray,
        right: np.ndarray,
        up: np.ndarray,
        forward: np.ndarray,
        eye: np.ndarray,
        cam: Any,
    ) -> None:
        """Label anchors (their lower-left corners), centred above each marker; priority by list order.

        The first :attr:`max_labels` titled pins in the view are offered to VTK's placement,
        which draws those that do not overlap a label placed before them.
        """
        titled = self._label_widths[idx] > 0
        li = np.flatnonzero(titled & self._in_view(p, forward, right, up, eye, cam))[: max(self.max_labels, 0)]
        texts = [self._label_texts[idx[i]] for i in li]
        widths = self._label_widths[idx[li]]
        tops = np.array([ICON_BOX[n][3] - 1.0 for n in PIN_ICONS])
        lift = LEADER_PX + tops[self.icons[idx[li]]] + LABEL_GAP_PX
        lpx = px[li]
        anchors = p[li] + up * (lpx * lift)[:, None] - right * (lpx * widths / 2.0)[:, None]
        _set_points(self.label_data, anchors)
        data = self.label_data.GetPointData()
        titles = vtkStringArray()
        titles.SetName("title")
        titles.SetNumberOfValues(len(texts))
        for j, t in enumerate(texts):
            titles.SetValue(j, t)
        data.AddArray(titles)
        priority = numpy_to_vtk((len(self.ids) - idx[li]).astype(np.int32), deep=True)  # earlier in the list first
        priority.SetName("priority")
        data.AddArray(priority)
        self.label_data.Modified()
        self.label_actor.SetVisibility(self._visible and self._opacity > 0 and len(li) > 0)

    def _in_view(
        self, p: np.ndarray, forward: np.ndarray, right: np.ndarray, up: np.ndarray, eye: np.ndarray, cam: Any
    ) -> np.ndarray:
        """Which points project into the viewport (with a margin: a label may reach in from outside)."""
        w, h = self.renderer.GetSize()
        aspect = w / h if h else 1.0
        rel = p - eye
        depth = rel @ forward
        if cam.GetParallelProjection():
            half = np.full(len(p), float(cam.GetParallelScale()))
        else:
            half = depth * math.tan(math.radians(cam.GetViewAngle()) / 2.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = (rel @ right) / (half * aspect)
            y = (rel @ up) / half
        return (depth > 0) & (np.abs(x) <= 1.1) & (y >= -1.05) & (y <= 1.0)

    @staticmethod
    def _label_text(title: str) -> str:
        line = " ".join(title.split())
        return f" {line} " if line else ""

    def _text_width(self, text: str) -> float:
        return self._text_size(text)[0]

    def _text_size(self, text: str) -> tuple[float, float]:
        """Width and height (pixels) of a label's text, as the label placement measures it."""
        size = self._width_cache.get(text)
        if size is None:
            bbox = [0, 0, 0, 0]
            window = self.renderer.GetRenderWindow()
            dpi = int(window.GetDPI()) if window is not None else 72  # as the label placement measures
            vtkTextRenderer.GetInstance().GetBoundingBox(self._text, text, bbox, dpi)
            size = (float(bbox[1] - bbox[0]), float(bbox[3] - bbox[2]))
            if len(self._width_cache) > 10_000:
                self._width_cache.clear()
            self._width_cache[text] = size
        return size

    # ------------------------------------------------------------------ picking
    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Display positions of points (relative to the origin) for the camera now, and their depths.

        Returns ``(N, 2)`` display coordinates (VTK's: pixels of the render window, origin at
        the bottom left, as :meth:`vtkRenderer.WorldToDisplay` gives) and ``(N,)`` distances in
        front of the camera along its direction of view (not positive: behind it).
        """
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        ren = self.renderer
        cam = ren.GetActiveCamera()
        w, h = ren.GetSize()
        if cam is None or w <= 0 or h <= 0:
            return np.full((len(pts), 2), np.nan), np.zeros(len(pts))
        m = cam.GetCompositeProjectionTransformMatrix(ren.GetTiledAspectRatio(), -1.0, 1.0)
        mat = np.array([[m.GetElement(i, j) for j in range(4)] for i in range(4)])
        hom = np.c_[pts, np.ones(len(pts))] @ mat.T
        with np.errstate(divide="ignore", invalid="ignore"):
            ndc = hom[:, :2] / hom[:, 3:4]
        x0, y0 = ren.GetOrigin()
        xy = np.column_stack([x0 + (ndc[:, 0] + 1.0) * 0.5 * w, y0 + (ndc[:, 1] + 1.0) * 0.5 * h])
        eye, forward, _, _ = camera_basis(cam)
        return xy, (pts - eye) @ forward

    def screen_boxes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Where the pins are on screen for the camera now, in display coordinates (see :meth:`project`).

        Returns ``(indices, markers, depths, labels)``: the indices (into the list) of the pins
        drawn, each one's marker box ``(x0, y0, x1, y1)`` (the icon on its leader line, outline
        included), its depth, and its label's box (NaN where it has no label, or where VTK's
        placement leaves it out: offered in list order, a label that would overlap one placed
        before it is not drawn).
        """
        empty = np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0), np.zeros((0, 4))
        cam = self.renderer.GetActiveCamera()
        if not (self._visible and self._opacity > 0) or cam is None or not len(self.positions):
            return empty
        xy, depth = self.project(self.positions)
        idx = np.flatnonzero(self.shown & (depth > 1e-3) & np.isfinite(xy).all(axis=1))
        xy, depth = xy[idx], depth[idx]
        boxes = np.array([ICON_BOX[n] for n in PIN_ICONS])[self.icons[idx]].reshape(-1, 4)
        tops = xy + [0.0, LEADER_PX]  # the top of the leader line: LEADER_PX up on screen, at any distance
        markers = boxes + np.hstack([tops, tops])
        labels = np.full((len(idx), 4), np.nan)
        eye, forward, up, right = camera_basis(cam)
        titled = self._label_widths[idx] > 0
        offered = np.flatnonzero(titled & self._in_view(self.positions[idx], forward, right, up, eye, cam))
        placed: list[np.ndarray] = []
        for j in offered[: max(self.max_labels, 0)]:  # the placement's order: the first in the list first
            width, height = self._text_size(self._label_texts[idx[j]])
            x = xy[j, 0] - width / 2.0
            y = tops[j, 1] + boxes[j, 3] - 1.0 + LABEL_GAP_PX
            box = np.array([x, y, x + width, y + height])
            if any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in placed):
                continue
            placed.append(box)
            labels[j] = box
        return idx, markers, depth, labels

    def obstacle_boxes(self) -> np.ndarray:
        """``(N, 4)`` display boxes ``(x0, y0, x1, y1)`` of the markers and labels drawn for the camera now:
        what another overlay's labels (measurements) keep off."""
        _, markers, _, labels = self.screen_boxes()
        return np.vstack([markers, labels[np.isfinite(labels).all(axis=1)]])

    def pick(self, x: float, y: float, tolerance_px: float = 3.0) -> str | None:
        """The id of the pin whose marker or label is at a display position (VTK's, see :meth:`project`).

        A label under the position wins (labels are drawn over the markers); else the marker
        nearest to it within ``tolerance_px`` pixels, the one nearest the camera where several
        cover it (it is drawn in front); else a label within the tolerance. ``None`` when no
        shown pin is there (the dot on the pin's point is not its marker: a click there is a
        click on what the pin stands on).
        """
        idx, markers, depth, labels = self.screen_boxes()
        if not len(idx):
            return None
        click = np.array([float(x), float(y)])

        def distance(boxes: np.ndarray) -> np.ndarray:
            d = np.maximum(np.maximum(boxes[:, :2] - click, click - boxes[:, 2:]), 0.0)
            with np.errstate(invalid="ignore"):
                out = np.hypot(d[:, 0], d[:, 1])
            return np.where(np.isfinite(out), out, np.inf)

        on_label, on_marker = distance(labels), distance(markers)
        inside = np.flatnonzero(on_label <= 0.0)
        if len(inside):
            return self.ids[idx[inside[0]]]
        near = np.flatnonzero(on_marker <= tolerance_px)
        if len(near):
            best = near[np.lexsort((depth[near], on_marker[near]))[0]]
            return self.ids[idx[best]]
        j = int(np.argmin(on_label))
        return self.ids[idx[j]] if on_label[j] <= tolerance_px else None

    # ------------------------------------------------------------------ queries
    def marker_positions(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Pin id → (its dot, the top of its leader line) as drawn in the last frame, relative to the origin.

        The dot stands where the pin's point is on screen; the marker's icon sits on the top of the line.
        """
        return {self.ids[i]: (self._dots[j], self._tops[j]) for j, i in enumerate(self.drawn)}

    def bounds(self) -> np.ndarray:
        """``[xmin, ymin, zmin, xmax, ymax, zmax]`` of the shown pins' points (relative to the origin)."""
        p = self.positions[self.shown] if len(self.positions) else np.zeros((0, 3))
        if len(p) == 0:
            return np.full(6, np.nan)
        return np.concatenate([p.min(axis=0), p.max(axis=0)])

    def label_count(self) -> int:
        """Labels offered to the placement in the last frame (placed or not)."""
        return int(self.label_data.GetNumberOfPoints())

    # ------------------------------------------------------------------ teardown
    def remove(self) -> None:
        """Stop following the pins and take every prop out of the renderers."""
        self._disconnect()
        if self._tag is not None:
            self.renderer.RemoveObserver(self._tag)
            self._tag = None
        for a in self._scene_actors:
            self.scene_overlay.RemoveActor(a)
        for a in self._overlay_actors:
            self.overlay.RemoveActor(a)
        self.overlay.RemoveViewProp(self.label_actor)
        self.on_change = None
