"""Stills: a scene rendered to an image of any size up to 8K, sharp, optionally with a transparent sky.

:func:`render_still` renders at the full output resolution: the off-screen window's
framebuffer is resized to the still's size (software OpenGL, Mesa llvmpipe, allows
16384 × 16384; :func:`gl_max_size` asks the driver), rendered once and read back, then
put back to its size. Only beyond what the driver allows is the image rendered in tiles
(magnification: each tile an exact part of the one large perspective), never upscaled.

What is sized in pixels in the scene (line widths, point sizes, label fonts, pin markers)
is drawn ``scale`` times larger, ``scale`` being the still's height over the window's, so
that an 8K still of a 1080p view looks like the view, only sharper: :func:`scaled_props`
walks the window's props, and objects with a ``set_pixel_scale(scale)`` method (pins,
measurements) rescale what they compute in pixels. Overlays
(:class:`~citytwin.render.overlays.OverlayRenderer`) are laid out for the still's size.

A transparent still has alpha 0 where the sky is and 255 on the model: the gradient sky is
switched off and the window's alpha is read back. :func:`save_still` writes PNG or JPEG
atomically: a failed or interrupted write leaves no half file under the target name.
"""

from __future__ import annotations

import ctypes
import errno
import io
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkRenderingCore import vtkViewport, vtkWindowToImageFilter

from citytwin.errors import ExportError
from citytwin.io.atomic import write_atomic
from citytwin.render.overlays import OVERLAY_RENDERER_NAME

#: The largest still: 8K UHD, landscape or portrait.
MAX_LONG_SIDE = 7680
MAX_SHORT_SIDE = 4320
#: The smallest side of a still.
MIN_SIDE = 8
#: The framebuffer size assumed when the driver cannot be asked (every OpenGL 3.2 driver VTK runs on allows it).
FALLBACK_GL_MAX = 4096
#: Named sizes :func:`parse_size` knows.
NAMED_SIZES: dict[str, tuple[int, int]] = {
    "720p": (1280, 720),
    "hd": (1280, 720),
    "1080p": (1920, 1080),
    "fullhd": (1920, 1080),
    "1440p": (2560, 1440),
    "2160p": (3840, 2160),
    "4k": (3840, 2160),
    "4320p": (7680, 4320),
    "8k": (7680, 4320),
}
#: Suffixes :func:`save_still` writes, and the format of each.
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


class StillError(ExportError):
    """A still could not be made or saved (one sentence)."""


# ---------------------------------------------------------------------------- sizes
def check_still_size(size: Sequence[Any]) -> tuple[int, int]:
    """``(width, height)`` as ints, or a :class:`StillError` for a size no still can have.

    A still is at least :data:`MIN_SIDE` pixels a side and fits in 7680 × 4320 (8K UHD)
    or its portrait, 4320 × 7680.
    """

    def whole(v: Any) -> bool:
        if isinstance(v, (bool, np.bool_)):
            return False
        if isinstance(v, (int, np.integer)):
            return True
        return isinstance(v, (float, np.floating)) and float(v).is_integer()

    try:
        w, h = size
        ok = whole(w) and whole(h)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise StillError(f"An image size is two whole numbers of pixels, not {size!r}.")
    w, h = int(w), int(h)
    if w < MIN_SIDE or h < MIN_SIDE:
        raise StillError(f"An image of {w} × {h} pixels is impossible: each side needs at least {MIN_SIDE} pixels.")
    if max(w, h) > MAX_LONG_SIDE or min(w, h) > MAX_SHORT_SIDE:
        raise StillError(
            f"An image of {w} × {h} pixels is too large: stills go up to {MAX_LONG_SIDE} × {MAX_SHORT_SIDE} (8K) "
            "or its portrait."
        )
    return w, h


def parse_size(text: str) -> tuple[int, int]:
    """A size from ``"1920x1080"`` (``×`` or ``X`` too) or a name: ``720p``, ``1080p``, ``1440p``, ``4k``, ``8k``.

    Raises
    ------
    StillError
        With one sentence, for text that is no size or an impossible one.
    """
    key = str(text).strip().lower().replace(" ", "")
    if key in NAMED_SIZES:
        return NAMED_SIZES[key]
    m = re.fullmatch(r"(\d{1,6})[x×*](\d{1,6})", key)
    if m is None:
        names = ", ".join(k for k in NAMED_SIZES if k not in ("hd", "fullhd"))
        raise StillError(f"{text!r} is not an image size: give WIDTHxHEIGHT (1920x1080) or one of {names}.")
    return check_still_size((int(m.group(1)), int(m.group(2))))


def check_still_path(path: str | Path, transparent: bool = False) -> str:
    """The image format (``"PNG"`` or ``"JPEG"``) of a file name, checked before anything is rendered.

    Raises
    ------
    StillError
        For a suffix other than ``.png``, ``.jpg``, ``.jpeg``, or a transparent JPEG.
    """
    suffix = Path(path).suffix.lower()
    fmt = IMAGE_FORMATS.get(suffix)
    if fmt is None:
        raise StillError(f"Images are saved as PNG or JPEG: name the file .png or .jpg, not {Path(path).name!r}.")
    if transparent and fmt == "JPEG":
        raise StillError("JPEG has no transparency: save a transparent image as .png.")
    return fmt


# ---------------------------------------------------------------------------- the driver
def _gl_library() -> Any:
    names = {
        "linux": ("libOpenGL.so.0", "libGL.so.1", "libGL.so"),
        "darwin": ("/System/Library/Frameworks/OpenGL.framework/OpenGL",),
        "win32": ("opengl32",),
    }.get(sys.platform, ())
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            lib.glGetIntegerv.argtypes = [ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]
            lib.glGetIntegerv.restype = None
            return lib
        except (OSError, AttributeError):
            continue
    return None


#: What :func:`gl_max_size` found, per kind of render window (asked once per process).
_GL_MAX: dict[str, int] = {}


def gl_max_size(window: Any) -> int:
    """The largest framebuffer side the window's OpenGL driver renders (16384 under llvmpipe).

    The smallest of ``GL_MAX_RENDERBUFFER_SIZE``, ``GL_MAX_TEXTURE_SIZE`` (the anti-aliasing and
    transparency passes render to textures) and ``GL_MAX_VIEWPORT_DIMS``, asked once per kind of
    window; :data:`FALLBACK_GL_MAX` when the driver cannot be asked.
    """
    kind = window.GetClassName()
    if kind in _GL_MAX:
        return _GL_MAX[kind]
    value = FALLBACK_GL_MAX
    lib = _gl_library()
    if lib is not None:
        try:
            window.Render()  # a context exists only once the window has rendered
            window.MakeCurrent()
            if window.IsCurrent():
                v = (ctypes.c_int * 2)()
                found = []
                for enum in (0x84E8, 0x0D33, 0x0D3A):  # renderbuffer, texture, viewport
                    v[0] = v[1] = 0
                    lib.glGetIntegerv(enum, v)
                    found.append(min(v[0], v[1]) if enum == 0x0D3A else v[0])
                if all(f > 0 for f in found):
                    value = min(found)
        except Exception:  # noqa: BLE001 - any failure to ask means: assume the fallback
            value = FALLBACK_GL_MAX
    _GL_MAX[kind] = value
    return value


# ---------------------------------------------------------------------------- pixel-sized props
def _renderers(window: Any) -> list[Any]:
    out = []
    coll = window.GetRenderers()
    coll.InitTraversal()
    for _ in range(coll.GetNumberOfItems()):
        ren = coll.GetNextItem()
        if ren is not None:
            out.append(ren)
    return out


def _props(collection: Any) -> Iterator[Any]:
    collection.InitTraversal()
    for _ in range(collection.GetNumberOfItems()):
        prop = collection.GetNextProp()
        if prop is not None:
            yield prop


@contextmanager
def scaled_props(window: Any, scale: float, hooks: Iterable[Any] = ()) -> Iterator[None]:
    """Draw what the window sizes in pixels ``scale`` times larger, and put it back afterwards.

    Font sizes of text actors, labels, legends and billboard texts, line widths and point
    sizes of every actor, on every renderer of the window but the overlays' (they are sized
    for the output already). ``hooks`` are objects with ``set_pixel_scale(s)`` and a
    ``pixel_scale`` attribute (pins, measurements): their pixel scale is multiplied by ``scale``.
    """
    hooks = [h for h in hooks if callable(getattr(h, "set_pixel_scale", None))]
    s = float(scale)
    if abs(s - 1.0) < 1e-9 and not hooks:
        yield
        return
    undo: list[Callable[[], None]] = []
    seen: set[int] = set()

    def once(obj: Any) -> bool:
        key = id(obj)
        if obj is None or key in seen:
            return False
        seen.add(key)
        return True

    def text(tp: Any) -> None:
        if not once(tp):
            return
        size, frame = tp.GetFontSize(), tp.GetFrameWidth()
        tp.SetFontSize(max(1, round(size * s)))
        tp.SetFrameWidth(max(1, round(frame * s)) if frame else frame)
        undo.append(lambda tp=tp, size=size, frame=frame: (tp.SetFontSize(size), tp.SetFrameWidth(frame)))

    def widths(prop: Any) -> None:
        if not once(prop):
            return
        lw, ps = prop.GetLineWidth(), prop.GetPointSize()
        prop.SetLineWidth(lw * s)
        prop.SetPointSize(ps * s)
        undo.append(lambda prop=prop, lw=lw, ps=ps: (prop.SetLineWidth(lw), prop.SetPointSize(ps)))

    def visit(prop: Any) -> None:
        if prop.IsA("vtkAssembly") or prop.IsA("vtkPropAssembly"):
            for part in _props(prop.GetParts()):
                visit(part)
            return
        if prop.IsA("vtkActor"):
            widths(prop.GetProperty())
            return
        if prop.IsA("vtkBillboardTextActor3D"):
            text(prop.GetTextProperty())
            off = tuple(prop.GetDisplayOffset())
            prop.SetDisplayOffset(round(off[0] * s), round(off[1] * s))
            undo.append(lambda prop=prop, off=off: prop.SetDisplayOffset(*off))
            return
        if prop.IsA("vtkTextActor"):
            if prop.GetTextScaleMode() == 0:  # sized in pixels (not scaled to its box or the viewport)
                text(prop.GetTextProperty())
            return
        if prop.IsA("vtkScalarBarActor"):
            for tp in (prop.GetTitleTextProperty(), prop.GetLabelTextProperty(), prop.GetAnnotationTextProperty()):
                text(tp)
            return
        if prop.IsA("vtkCornerAnnotation"):  # its font is fitted to the window between two sizes
            low, high = prop.GetMinimumFontSize(), prop.GetMaximumFontSize()
            prop.SetMinimumFontSize(max(1, round(low * s)))
            prop.SetMaximumFontSize(max(1, round(high * s)))
            undo.append(
                lambda prop=prop, low=low, high=high: (prop.SetMinimumFontSize(low), prop.SetMaximumFontSize(high))
            )
            return
        if prop.IsA("vtkLegendBoxActor"):
            pad = prop.GetPadding()
            prop.SetPadding(max(0, round(pad * s)))
            undo.append(lambda prop=prop, pad=pad: prop.SetPadding(pad))
            return
        if prop.IsA("vtkActor2D"):
            mapper = prop.GetMapper()
            if mapper is not None:
                if mapper.IsA("vtkTextMapper"):
                    text(mapper.GetTextProperty())
                elif mapper.IsA("vtkLabeledDataMapper"):
                    text(mapper.GetLabelTextProperty())
                elif mapper.IsA("vtkLabelPlacementMapper"):
                    source = mapper.GetInputAlgorithm()
                    if source is not None and hasattr(source, "GetTextProperty"):
                        text(source.GetTextProperty())
            widths(prop.GetProperty())

    try:
        for ren in _renderers(window):
            if ren.GetObjectName() == OVERLAY_RENDERER_NAME:
                continue
            for prop in _props(ren.GetViewProps()):
                visit(prop)
        for hook in hooks:
            old = float(getattr(hook, "pixel_scale", 1.0))
            hook.set_pixel_scale(old * s)
            undo.append(lambda hook=hook, old=old: hook.set_pixel_scale(old))
        yield
    finally:
        for fn in reversed(undo):
            fn()


# ---------------------------------------------------------------------------- rendering
def _renderer_and_window(target: Any) -> tuple[Any, Any]:
    ren = getattr(target, "renderer", None)
    if ren is None and hasattr(target, "GetRenderers"):  # a vtkRenderWindow: its first renderer
        ren = target.GetRenderers().GetFirstRenderer()
    if ren is None:
        ren = target
    window = ren.GetRenderWindow() if hasattr(ren, "GetRenderWindow") else None
    if window is None:
        raise StillError("This is not a scene that can be rendered: it has no render window.")
    return ren, window


def _default_hooks(target: Any) -> list[Any]:
    found = [getattr(target, name, None) for name in ("pins_visual", "measurements_visual")]
    found += list(getattr(target, "visuals", None) or [])
    return [h for h in found if h is not None and callable(getattr(h, "set_pixel_scale", None))]


def _grab(window: Any, rgba: bool) -> np.ndarray:
    grabber = vtkWindowToImageFilter()
    grabber.SetInput(window)
    grabber.ReadFrontBufferOff()
    grabber.ShouldRerenderOff()
    if rgba:
        grabber.SetInputBufferTypeToRGBA()
    else:
        grabber.SetInputBufferTypeToRGB()
    grabber.Update()
    out = grabber.GetOutput()
    w, h = out.GetDimensions()[:2]
    img = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(h, w, -1)[::-1]
    img = np.ascontiguousarray(img)
    grabber.SetInput(None)
    return img


def _tile_2d_positions(window: Any, magnification: int) -> list[tuple[Any, int, Any, tuple, np.ndarray]]:
    """Every 2D actor's position coordinates, with where they fall in the whole (magnified) image.

    Labels placed from 3D points (``vtkLabelPlacementMapper``, ``vtkLabeledDataMapper``) are left
    out: the tile's camera already puts them in the tile.
    """
    found = []
    for ren in _renderers(window):
        for prop in _props(ren.GetViewProps()):
            if not prop.IsA("vtkActor2D"):
                continue
            mapper = prop.GetMapper()
            if mapper is not None and (mapper.IsA("vtkLabelPlacementMapper") or mapper.IsA("vtkLabeledDataMapper")):
                continue
            for coord in (prop.GetPositionCoordinate(), prop.GetPosition2Coordinate()):
                full = np.array(coord.GetComputedDoubleDisplayValue(ren)[:2], float) * magnification
                kept = (coord.GetCoordinateSystem(), coord.GetReferenceCoordinate(), coord.GetValue())
                found.append((coord, *kept, full))
    return found


def _render_tiled(renderer: Any, window: Any, magnification: int, rgba: bool) -> np.ndarray:
    """``(m·h, m·w, C)`` image of ``m × m`` tiles of the window's size, row 0 at the top.

    Each tile is the window's view narrowed ``m`` times (``tan`` of the half view angle, or the
    parallel scale, over ``m``) and shifted by the camera's window centre: the tiles are exact
    parts of the one large perspective. 2D actors are moved to their place in each tile, as
    ``vtkRenderLargeImage`` does; that filter is not used, because its narrowed view angle
    (``asin(sin(a/2)/m)``) makes a perspective image about 1 % too large, and it gives 2D actors
    of the same layer number each other's positions.
    """
    m = int(magnification)
    tw, th = (int(v) for v in window.GetSize())
    cam = renderer.GetActiveCamera()
    angle, parallel_scale = cam.GetViewAngle(), cam.GetParallelScale()
    centre = tuple(cam.GetWindowCenter())
    positions = _tile_2d_positions(window, m)
    bottom, top = np.array(renderer.GetBackground(), float), np.array(renderer.GetBackground2(), float)
    vertical = vtkViewport.GradientModes.VTK_GRADIENT_VERTICAL
    vertical_sky = renderer.GetGradientBackground() and renderer.GetGradientMode() == vertical
    out = np.empty((m * th, m * tw, 4 if rgba else 3), np.uint8)
    try:
        if cam.GetParallelProjection():
            cam.SetParallelScale(parallel_scale / m)
        else:
            cam.SetViewAngle(2.0 * math.degrees(math.atan(math.tan(math.radians(angle) / 2.0) / m)))
        for ty in range(m):
            if vertical_sky:  # each row of tiles gets its band of the sky's gradient, not the whole of it
                renderer.SetBackground(*(bottom + (top - bottom) * ty / m))
                renderer.SetBackground2(*(bottom + (top - bottom) * (ty + 1) / m))
            for tx in range(m):
                cam.SetWindowCenter(2 * tx - m * (1 - centre[0]) + 1, 2 * ty - m * (1 - centre[1]) + 1)
                for coord, _, _, _, full in positions:
                    coord.SetCoordinateSystemToDisplay()
                    coord.SetReferenceCoordinate(None)
                    coord.SetValue(full[0] - tx * tw, full[1] - ty * th)
                window.Render()
                tile = _grab(window, rgba)
                r0 = (m - 1 - ty) * th
                out[r0 : r0 + th, tx * tw : (tx + 1) * tw] = tile[:th, :tw]
    finally:
        cam.SetViewAngle(angle)
        cam.SetParallelScale(parallel_scale)
        cam.SetWindowCenter(*centre)
        renderer.SetBackground(*bottom)
        renderer.SetBackground2(*top)
        for coord, system, reference, value, _ in positions:
            coord.SetCoordinateSystem(system)
            coord.SetReferenceCoordinate(reference)
            coord.SetValue(*value)
    return out


@contextmanager
def _transparent_sky(renderer: Any, window: Any) -> Iterator[None]:
    """No gradient sky and a background of alpha 0, put back afterwards."""
    grad, alpha = renderer.GetGradientBackground(), renderer.GetBackgroundAlpha()
    colour, planes = tuple(renderer.GetBackground()), window.GetAlphaBitPlanes()
    try:
        if not planes:
            window.SetAlphaBitPlanes(1)
        renderer.SetGradientBackground(False)
        renderer.SetBackgroundAlpha(0.0)
        yield
    finally:
        renderer.SetGradientBackground(grad)
        renderer.SetBackgroundAlpha(alpha)
        renderer.SetBackground(*colour)
        if not planes:
            window.SetAlphaBitPlanes(planes)


def render_still(
    target: Any,
    size: Sequence[int],
    *,
    transparent: bool = False,
    scale: float | None = None,
    overlays: Any = None,
    hooks: Iterable[Any] = (),
    max_render_size: int | None = None,
) -> np.ndarray:
    """Render a scene to a still of ``size``, at full resolution.

    Parameters
    ----------
    target
        An :class:`~citytwin.render.offscreen.OffscreenScene` (its ``pins_visual`` and ``overlays``
        are used), a pyvista off-screen ``Plotter``, or a ``vtkRenderer`` of an off-screen window.
        A scene without a camera pose yet gets its default view.
    size
        ``(width, height)``, up to 7680 × 4320 or its portrait.
    transparent
        Alpha 0 where the sky is, 255 on the model: an ``(H, W, 4)`` image.
    scale
        How much larger than in the window pixel-sized things are drawn (lines, points, labels, pins);
        by default the still's height over the window's.
    overlays
        An :class:`~citytwin.render.overlays.OverlayRenderer` to lay out for the still's size
        (``target.overlays`` by default).
    hooks
        More objects with ``set_pixel_scale`` (see :func:`scaled_props`).
    max_render_size
        The largest framebuffer side to render in one piece (:func:`gl_max_size` by default);
        a larger still is rendered in tiles.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` uint8 (``(H, W, 4)`` when transparent), row 0 at the top.

    Raises
    ------
    StillError
        For an impossible size or a window that is not off screen.
    """
    width, height = check_still_size(size)
    renderer, window = _renderer_and_window(target)
    if not window.GetOffScreenRendering():
        raise StillError("Stills are rendered off screen: give an off-screen scene, not the window's view.")
    if getattr(target, "pose", True) is None and callable(getattr(target, "set_view", None)):
        target.set_view()
    old_size = tuple(int(v) for v in window.GetSize())
    if scale is None:
        scale = height / max(old_size[1], 1)
    if not (scale > 0 and math.isfinite(scale)):
        raise StillError(f"A still's scale must be a positive number, not {scale!r}.")
    overlays = overlays if overlays is not None else getattr(target, "overlays", None)
    hook_list = [*hooks, *_default_hooks(target)]
    limit = int(max_render_size) if max_render_size else gl_max_size(window)
    m = max(1, math.ceil(max(width, height) / max(limit, 1)))
    tile = (math.ceil(width / m), math.ceil(height / m))

    old_overlay_size = getattr(overlays, "fixed_size", None) if overlays is not None else None
    try:
        window.SetSize(*tile)
        if overlays is not None:
            overlays.resize((width, height))
        with scaled_props(window, scale, hook_list):
            renderer.ResetCameraClippingRange()
            if overlays is not None and m > 1:
                overlays.update()
                overlays.frozen = True  # one layout, one scale bar for every tile (each has its own camera)
            with _transparent_sky(renderer, window) if transparent else nullcontext():
                if m == 1:
                    window.Render()
                    img = _grab(window, rgba=transparent)
                else:
                    img = _render_tiled(renderer, window, m, rgba=transparent)
    finally:
        if overlays is not None:
            overlays.frozen = False
        window.SetSize(*old_size)
        if overlays is not None:
            overlays.resize(old_overlay_size)
    if img.shape[0] != height or img.shape[1] != width:  # tiles cover a little more: keep the middle
        r0, c0 = (img.shape[0] - height) // 2, (img.shape[1] - width) // 2
        img = np.ascontiguousarray(img[r0 : r0 + height, c0 : c0 + width])
    return img


# ---------------------------------------------------------------------------- a scene to a file
def export_still(
    scene: Any,
    path: str | Path,
    size: Sequence[int] = (1920, 1080),
    *,
    camera: Any = None,
    view: str = "oblique-ne",
    transparent: bool = False,
    overlays: Any = None,
    base_dir: str | Path | None = None,
    style: Any = None,
    reference_height: int = 1080,
    decorate: Callable[[Any], Any] | None = None,
    look: Any = None,
) -> Path:
    """Render a model scene as the window shows it to a PNG or JPEG still, with its overlays.

    Parameters
    ----------
    scene
        A :class:`~citytwin.model.scene.Scene` (its layers with their settings, pins, measurements).
    path
        ``.png``, ``.jpg`` or ``.jpeg``; checked before anything is rendered.
    size
        ``(width, height)``, up to 8K.
    camera
        A :class:`~citytwin.model.camera.CameraState`; the scene's own camera by default, else ``view``.
    view
        The preset view used when there is no camera.
    transparent
        Alpha 0 where the sky is (PNG only).
    overlays
        :class:`~citytwin.model.overlays.OverlaySettings`; ``scene.overlays`` by default. The legend
        is the first thematic colouring among the layers (their own legends give way to it).
    base_dir
        The folder a relative logo path is relative to (the project file's).
    style
        The render style: colours, line widths, fonts (the window's default).
    reference_height
        The height of the view the still stands for: pixel-sized things (lines, labels, pins)
        are drawn ``height / reference_height`` times their size.
    decorate
        ``decorate(off)`` is called with the :class:`~citytwin.render.offscreen.OffscreenScene`
        once the camera is set, to add more to the picture (a sun-hours colour map).
    look
        A :class:`~citytwin.model.looks.Look` drawn instead of the scene's own.

    Raises
    ------
    StillError, citytwin.render.overlays.OverlayError
        With one sentence: an impossible size, a bad file name, a missing logo, a full disk.
    """
    from citytwin.render.offscreen import OffscreenScene
    from citytwin.render.overlays import OverlayRenderer
    from citytwin.render.style import DEFAULT_STYLE

    width, height = check_still_size(size)
    check_still_path(path, transparent)
    if not (isinstance(reference_height, int) and reference_height > 0):
        raise StillError(f"The reference height of a still is a number of pixels, not {reference_height!r}.")
    render_style = style if style is not None else DEFAULT_STYLE
    window = (max(1, round(reference_height * width / height)), reference_height)  # the still's aspect
    settings = overlays if overlays is not None else getattr(scene, "overlays", None)
    with OffscreenScene(window, render_style, scene=scene, look=look) as off:
        cam = camera if camera is not None else getattr(scene, "camera", None)
        if cam is not None and off.origin is not None:
            off.set_camera(cam)
        else:
            off.set_view(view)
        if decorate is not None:
            decorate(off)
        drawn = None
        if settings is not None and not settings.empty:
            thematic = next((v.thematic for v in off.visuals if getattr(v, "thematic", None) is not None), None)
            drawn = OverlayRenderer(
                off.renderer, None, settings, style=render_style, base_dir=base_dir, thematic=thematic
            )
            if settings.legend is not None and thematic is not None:
                for v in off.visuals:  # one legend, where the overlays put it
                    if getattr(v, "legend", None) is not None:
                        v.legend.SetVisibility(False)
        try:
            img = render_still(off, (width, height), transparent=transparent, overlays=drawn)
        finally:
            if drawn is not None:
                drawn.remove()
    return save_still(img, path)


# ---------------------------------------------------------------------------- saving
def save_still(image: np.ndarray, path: str | Path, *, quality: int = 92, compress_level: int = 4) -> Path:
    """Write a still as PNG or JPEG (by the suffix), atomically.

    Parameters
    ----------
    image
        ``(H, W, 3)`` or ``(H, W, 4)`` uint8, row 0 at the top.
    path
        ``.png``, ``.jpg`` or ``.jpeg``; missing folders are made.
    quality
        JPEG quality (1–95; chroma is not subsampled, so that text stays crisp).
    compress_level
        PNG zlib level (0–9; 4 is nearly as small as 9 and several times faster on an 8K still).

    Raises
    ------
    StillError
        With one sentence: an unknown suffix, a transparent JPEG, a full disk or another write
        error. Nothing is left under ``path`` (nor beside it) when writing fails.
    """
    from PIL import Image

    path = Path(path)
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise StillError("A still is an (H, W, 3) or (H, W, 4) array of bytes.")
    fmt = check_still_path(path, transparent=arr.shape[2] == 4)
    buf = io.BytesIO()
    img = Image.fromarray(np.ascontiguousarray(arr), "RGBA" if arr.shape[2] == 4 else "RGB")
    if fmt == "PNG":
        img.save(buf, "PNG", compress_level=int(compress_level))
    else:
        img.save(buf, "JPEG", quality=int(quality), subsampling=0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, buf.getbuffer())
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            raise StillError(f"The disk is full: the image {path.name} was not saved.") from None
        raise StillError(f"The image could not be saved to {path} ({exc.strerror or exc}).") from None
    return path


__all__ = [
    "IMAGE_FORMATS",
    "MAX_LONG_SIDE",
    "MAX_SHORT_SIDE",
    "StillError",
    "check_still_path",
    "check_still_size",
    "export_still",
    "gl_max_size",
    "parse_size",
    "render_still",
    "save_still",
    "scaled_props",
]
