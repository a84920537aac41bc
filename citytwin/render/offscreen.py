"""Render city models to an image without a window (CLI snapshots, stills, video frames, tests).

A model :class:`~citytwin.model.scene.Scene` is drawn through the same
:class:`~citytwin.render.scene_view.SceneView` as the window, so an export
shows the window's layers, colour modes, pins and look.
With an X display (or Xvfb) VTK uses GLX; with no ``DISPLAY`` at all this module
asks VTK for its EGL render window (Mesa's llvmpipe on a machine without GPU), so
``citytwin snapshot`` works on a headless server.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

from citytwin.model.citymodel import CityModel
from citytwin.model.pointcloud import PointCloud
from citytwin.model.scene import Scene
from citytwin.render.camera import CameraPose, preset_view, project
from citytwin.render.convert import choose_origin
from citytwin.render.pointcloud_visual import PointCloudVisual, PointPickResult
from citytwin.render.scene_view import SceneView, scene_from_models
from citytwin.render.style import DEFAULT_STYLE, Style, apply_style
from citytwin.render.visuals import BaseVisual, CityModelVisual, PickResult, create_visual


def _prefer_headless_backend() -> None:
    """Without an X display, make VTK open an EGL window instead of failing over from GLX."""
    if os.name == "posix" and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


class OffscreenScene:
    """Several models sharing one origin, rendered off screen.

    Parameters
    ----------
    size
        ``(width, height)`` in pixels.
    style
        The look (the window's default unless given).
    origin
        Scene origin; by default :func:`~citytwin.render.convert.choose_origin` of the first model added
        (or the scene's).
    scene
        A model scene to draw and follow (its layers with their settings, and with ``annotations``
        its pins and measurements). Without one, models are added one by one with :meth:`add`.
    annotations
        Draw the scene's pins and measurements.
    follow
        Keep following the scene's events; by default an off-screen scene draws the scene as it
        is when made (an export may run on a worker thread while the window goes on).
    look, quality
        The :class:`~citytwin.model.looks.Look` to draw with (default: the scene's own, with its sun)
        and its quality (``"final"``: stills and video frames are always final). Without a scene, or
        with a flat-lit ``style`` (pixel-exact tests), no look is applied unless one is given.

    Examples
    --------
    >>> with OffscreenScene((800, 600)) as scene:  # doctest: +SKIP
    ...     scene.add(model)
    ...     scene.set_view("top")
    ...     image = scene.render()
    """

    def __init__(
        self,
        size: tuple[int, int] = (1920, 1080),
        style: Style = DEFAULT_STYLE,
        origin: np.ndarray | None = None,
        scene: Scene | None = None,
        annotations: bool = True,
        follow: bool = False,
        look: Any = None,
        quality: Literal["draft", "final"] = "final",
    ) -> None:
        _prefer_headless_backend()
        import pyvista as pv

        self.size = (int(size[0]), int(size[1]))
        self.style = style
        self.origin = None if origin is None else np.asarray(origin, np.float64)
        self.plotter = pv.Plotter(off_screen=True, window_size=list(self.size), lighting="none")
        apply_style(self.plotter, style)
        self.visuals: list[BaseVisual] = []
        self.pins_visual: Any = None
        self.measurements_visual: Any = None
        self.pose: CameraPose | None = None
        self.scene = scene
        self.view: SceneView | None = None
        if scene is not None:
            if scene.origin is None and self.origin is not None:
                scene.origin = self.origin
            self.origin = scene.origin
            self.view = SceneView(
                scene, self.plotter, style, on_added=lambda _, v: self.visuals.append(v),
                on_removed=lambda _, v: self.visuals.remove(v), follow=follow,
            )  # fmt: skip
            if annotations:
                self._follow_annotations(scene, follow)
        if look is None and scene is not None and style.lighting != "flat":
            look = scene.look
        self.look = look
        self.look_rig: Any = None
        if look is not None:
            self.apply_look(look, quality)
        self._grabber = vtkWindowToImageFilter()
        self._grabber.SetInput(self.plotter.render_window)
        self._grabber.SetInputBufferTypeToRGB()
        self._grabber.ReadFrontBufferOff()
        self._grabber.ShouldRerenderOff()

    @property
    def renderer(self) -> Any:
        return self.plotter.renderer

    def apply_look(self, look: Any, quality: Literal["draft", "final"] = "final", sun: Any = "scene") -> Any:
        """Draw with a :class:`~citytwin.model.looks.Look` (see :func:`citytwin.render.looks.apply_look`).

        ``sun``: ``(azimuth, elevation)``, ``None`` for the look's default sun, or ``"scene"``: the
        sun at the scene's date and time over its place. Returns the renderer's look rig.
        """
        from citytwin.render.looks import apply_look, scene_sun

        if isinstance(sun, str):
            sun = scene_sun(self.scene) if self.scene is not None else None
        self.look = look
        self.look_rig = apply_look(self.plotter, look, quality, sun, self.visuals)
        return self.look_rig

    def __enter__(self) -> OffscreenScene:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _follow_annotations(self, scene: Scene, follow: bool) -> None:
        from citytwin.model.annotations import AnnotationSettings
        from citytwin.model.measure_units import length_unit
        from citytwin.render.annotations_visual import PinsVisual, source_to_display
        from citytwin.render.measurements_visual import MeasurementsVisual

        origin = self.origin if self.origin is not None else np.zeros(3)
        own = scene.annotation_settings
        pins, measurements, settings = (
            (scene.pins, scene.measurements, own) if follow else (
                list(scene.pins), list(scene.measurements),
                AnnotationSettings(pins_visible=own.pins_visible, pins_opacity=own.pins_opacity),
            )
        )  # fmt: skip
        to_display = source_to_display(scene.crs, scene.display_crs)
        self.pins_visual = PinsVisual(pins, self.plotter, origin, to_display=to_display, settings=settings)
        if len(measurements):
            self.measurements_visual = MeasurementsVisual(measurements, self.plotter, origin,
                                                          length_unit(scene.display_crs))  # fmt: skip

    def close(self) -> None:
        """Free the render window."""
        if self.view is not None:
            self.view.close()
            self.view = None
        for v in self.visuals:
            v.remove()
        self.visuals = []
        for name in ("pins_visual", "measurements_visual"):
            visual = getattr(self, name)
            if visual is not None:
                visual.remove()
                setattr(self, name, None)
        self._grabber.SetInput(None)
        self.plotter.close()

    def add(self, model: Any) -> BaseVisual:
        """Add a model with its registered visual; the first model fixes the origin."""
        if self.origin is None:
            self.origin = choose_origin(model.bounds)
        visual = create_visual(model, self.plotter, self.origin, self.style)
        self.visuals.append(visual)
        return visual

    def add_pins(self, pins: Any, to_display: Any = None, settings: Any = None) -> Any:
        """Draw pins (:class:`~citytwin.model.annotations.Pin`, positions in the source CRS) over the models.

        ``to_display`` maps source-CRS points to the CRS the models are drawn in when they differ
        (see :func:`~citytwin.render.annotations_visual.source_to_display`). Returns the
        :class:`~citytwin.render.annotations_visual.PinsVisual` (one for all pins).
        """
        from citytwin.render.annotations_visual import PinsVisual

        if self.pins_visual is not None:
            self.pins_visual.remove()
        origin = self.origin if self.origin is not None else np.zeros(3)
        self.pins_visual = PinsVisual(pins, self.plotter, origin, to_display=to_display, settings=settings)
        return self.pins_visual

    def bounds(self) -> np.ndarray:
        """Union of the visuals' bounds, relative to the origin."""
        bs = np.array([v.bounds() for v in self.visuals if getattr(v, "visible", True)]).reshape(-1, 6)
        bs = bs[np.isfinite(bs).all(axis=1)]
        if len(bs) == 0:
            return np.array([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])
        return np.concatenate([bs[:, :3].min(axis=0), bs[:, 3:].max(axis=0)])

    def set_view(self, view: str = "oblique-ne", **kwargs: Any) -> CameraPose:
        """Point the camera with a preset that fits every model (see :func:`preset_view`)."""
        kwargs.setdefault("aspect", self.size[0] / self.size[1])
        if "points" not in kwargs and self.visuals:
            shown = [v for v in self.visuals if getattr(v, "visible", True)] or self.visuals
            kwargs["points"] = np.concatenate([v.fit_points() for v in shown])
        pose = preset_view(self.bounds(), view, **kwargs)
        self.set_pose(pose)
        return pose

    def set_camera(self, camera: Any) -> CameraPose:
        """Use a :class:`~citytwin.model.camera.CameraState` (world coordinates)."""
        pose = CameraPose.from_state(camera, self.origin if self.origin is not None else np.zeros(3))
        self.set_pose(pose)
        return pose

    def set_pose(self, pose: CameraPose) -> None:
        """Use an explicit camera pose (relative to the origin)."""
        self.pose = pose
        pose.apply(self.renderer.GetActiveCamera())
        self.renderer.camera_set = True  # stop pyvista resetting the camera on the first render
        self.renderer.ResetCameraClippingRange()

    def render(self) -> np.ndarray:
        """Render and read back the image as ``(H, W, 3)`` uint8, row 0 at the top."""
        if self.pose is None:
            self.set_view()
        self.renderer.ResetCameraClippingRange()
        window = self.plotter.render_window
        window.Render()
        self._grabber.Modified()
        self._grabber.Update()
        out = self._grabber.GetOutput()
        w, h = out.GetDimensions()[:2]
        img = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(h, w, -1)[::-1, :, :3]
        return np.ascontiguousarray(img)

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """``(N, 2)`` (column, row) of points given in source coordinates (float64, not relative)."""
        if self.pose is None or self.origin is None:
            raise RuntimeError("set a view before projecting points")
        return project(self.pose, np.asarray(points, float) - self.origin, self.size)

    def pick(self, column: float, row: float) -> tuple[BaseVisual, PickResult | PointPickResult] | None:
        """The nearest object (or point) under an image pixel (row 0 at the top), over every layer.

        Returns the visual and its pick result: a :class:`PickResult` for a city model, a
        :class:`~citytwin.render.pointcloud_visual.PointPickResult` for a point cloud.
        """
        x, y = float(column), float(self.size[1] - row)
        best: tuple[float, BaseVisual, PickResult | PointPickResult] | None = None
        cam = np.array(self.renderer.GetActiveCamera().GetPosition())
        for v in self.visuals:
            if not callable(getattr(v, "pick", None)):
                continue
            hit = v.pick(x, y)
            if hit is not None:
                d = float(np.linalg.norm(hit.position - cam))
                if best is None or d < best[0]:
                    best = (d, v, hit)
        return None if best is None else (best[1], best[2])


def _colour_layers(scene: OffscreenScene, colour_by: str, cmap: str) -> None:
    """Colour every city-model layer by one attribute with one shared range, one legend."""
    from citytwin.render.colormap import thematic_colours

    city = [v for v in scene.visuals if isinstance(v, CityModelVisual)]
    kinds = [thematic_colours(v.model.objects, colour_by) for v in city]
    kind: Literal["numeric", "categorical"] = (
        "numeric" if all(t.kind == "numeric" for t in kinds if t.has_value.any()) else "categorical"
    )
    clim = None
    if kind == "numeric":
        ranges = [t.clim for t in kinds if t.has_value.any() and t.clim is not None]
        if ranges:
            clim = (min(r[0] for r in ranges), max(r[1] for r in ranges))
    legend_done = False
    for v in city:
        th = v.set_colour_mode("attribute", attribute=colour_by, cmap=cmap, clim=clim, kind=kind, legend=False)
        if not legend_done and th is not None and th.has_value.any():
            from citytwin.render.visuals import legend_actor

            v.legend = legend_actor(th, scene.style, font_size=max(12, round(scene.size[1] / 60)))
            scene.renderer.AddViewProp(v.legend)
            legend_done = True


def _style_points(scene: OffscreenScene, colour: str | None, size: float | None, edl: bool) -> None:
    """Apply snapshot options to every point-cloud layer (one legend: the first cloud's)."""
    clouds = [v for v in scene.visuals if isinstance(v, PointCloudVisual)]
    for k, v in enumerate(clouds):
        if colour is not None:
            v.set_colour_mode(colour, legend=k == 0)
        elif k > 0:
            v.set_legend(False)
        if size is not None:
            v.set_point_size(size)
        v.set_eye_dome_lighting(edl)


def render_image(
    models: Sequence[CityModel | PointCloud] | Scene,
    size: tuple[int, int] = (1920, 1080),
    view: str | None = None,
    colour_by: str | None = None,
    *,
    cmap: str = "viridis",
    style: Style = DEFAULT_STYLE,
    point_colour: str | None = None,
    point_size: float | None = None,
    eye_dome_lighting: bool = False,
    pins: Sequence[Any] | None = None,
    camera: Any = None,
) -> np.ndarray:
    """Render models to an ``(H, W, 3)`` uint8 array.

    Parameters
    ----------
    models
        City models and point clouds, shown as the window shows newly opened files; they share
        the first model's origin, and city models in another CRS (or in latitude/longitude) are
        reprojected for display like in the window. Or a model :class:`~citytwin.model.scene.Scene`,
        drawn with its layers' settings, pins and measurements.
    size
        ``(width, height)``.
    view
        A preset of :data:`citytwin.render.camera.VIEW_NAMES`; ``None``: the scene's camera when it
        has one, else ``"oblique-ne"``.
    colour_by
        Attribute name to colour objects by (legend included), or ``None`` for the default look.
    cmap
        Colour map for a numeric attribute.
    style
        The look.
    point_colour, point_size, eye_dome_lighting
        For point clouds: a colour mode of :data:`~citytwin.model.pointcloud.POINT_COLOUR_MODES`
        (default: each cloud's own, with its legend), the point size in pixels, eye-dome lighting.
    pins
        :class:`~citytwin.model.annotations.Pin` s to draw (markers, leader lines, labels), positions in
        the CRS of the first model that has one; pins whose ``visible`` is False are left out.
    camera
        A :class:`~citytwin.model.camera.CameraState` (world coordinates, as a scene or a bookmark
        keeps them) used instead of ``view``.
    """
    model_scene = models if isinstance(models, Scene) else scene_from_models(list(models))
    model_scene.pins.extend(pins or ())
    if camera is None and view is None:
        camera = model_scene.camera
    with OffscreenScene(size, style, scene=model_scene) as scene:
        _style_points(scene, point_colour, point_size, eye_dome_lighting)
        if colour_by:
            _colour_layers(scene, colour_by, cmap)
        if camera is not None and scene.origin is not None:
            scene.set_camera(camera)
        else:
            scene.set_view(view or "oblique-ne")
        return scene.render()


def render_scene(
    scene: Scene,
    size: tuple[int, int] = (1920, 1080),
    *,
    camera: Any = None,
    view: str = "oblique-ne",
    style: Style = DEFAULT_STYLE,
) -> np.ndarray:
    """Render a model scene as the window shows it, to an ``(H, W, 3)`` uint8 array.

    Every layer with its settings (visibility, opacity, LoD, colour mode, hidden classes and
    types), the pins and the measurements are drawn. The camera is ``camera`` (a
    :class:`~citytwin.model.camera.CameraState`), else the scene's own, else the preset ``view``.
    """
    with OffscreenScene(size, style, scene=scene) as off:
        camera = camera if camera is not None else scene.camera
        if camera is not None and off.origin is not None:
            off.set_camera(camera)
        else:
            off.set_view(view)
        return off.render()


def snapshot(
    models: Sequence[CityModel | PointCloud] | Scene,
    out_png: str | Path,
    size: tuple[int, int] = (1920, 1080),
    view: str | None = None,
    colour_by: str | None = None,
    *,
    cmap: str = "viridis",
    style: Style = DEFAULT_STYLE,
    **point_options: Any,
) -> Path:
    """Render models to a PNG file and return its path (see :func:`render_image`; ``point_options``
    are its ``point_colour``, ``point_size``, ``eye_dome_lighting``, ``pins`` and ``camera``)."""
    from PIL import Image

    out = Path(out_png)
    img = render_image(models, size, view, colour_by, cmap=cmap, style=style, **point_options)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(out)
    return out
