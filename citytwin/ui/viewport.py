"""The 3D view: a pyvistaqt ``QtInteractor`` that follows the scene.

The viewport is the only Qt code that touches VTK, and only through the
render package: a :class:`~citytwin.render.scene_view.SceneView` (the same
one snapshots, stills and video use) creates one visual per layer when the
layer list emits ``inserted``, drops it on ``removed``, and forwards each
layer event to the visual; the viewport adds navigation, picking and the
frame scheduling.

Navigation is terrain-like with +Z up: left-drag orbits around the surface
point under the cursor, right/middle-drag (or Shift+left) pans so the
grabbed point follows the cursor, the wheel zooms towards the cursor, a
click selects. Programmatic camera moves are animated (~0.4 s).

While the camera moves (a drag, a burst of wheel steps, an animated move) the
visuals draw their light box proxy (``set_interactive``); the full meshes come
back when it stops. What makes the first pick and the first drag of a big layer
slow (the pick locator, the proxy) is built after the layer appears, one piece
per idle-timer tick (:meth:`CityModelVisual.warm_up_step`).

The scene's look (:mod:`citytwin.render.looks`) is drawn in draft quality while the
camera moves and refined to final quality (ambient occlusion, shadows, edges) once it
has rested for :data:`REFINE_MS`; a drag switches back to draft before its first frame,
so moving never waits on a final-quality frame. :meth:`Viewport.set_final_quality`
turns the refinement off (the view stays draft, as on a slow machine one may want).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from citytwin.model.camera import CameraState
from citytwin.model.interpolation import camera_from_angles, fly_between, orbit_angles
from citytwin.model.layers import CityModelLayer, Layer
from citytwin.model.pointcloud import PointCloudLayer
from citytwin.model.scene import Scene
from citytwin.render.camera import FILL, CameraPose, box_corners, pose_for_points, preset_view
from citytwin.render.pointcloud_visual import PointPickResult
from citytwin.render.scene_view import SceneView
from citytwin.render.style import DEFAULT_STYLE, Style, apply_style
from citytwin.ui.view_clicks import CLICK_TOLERANCE_PX

ANIMATION_SECONDS = 0.4
#: the camera counts as stopped this long after the last wheel step
WHEEL_IDLE_MS = 150
#: pause between two warm-up pieces (lets queued input and paints through)
WARM_UP_INTERVAL_MS = 30
#: the view refines to final quality once the camera has rested this long
REFINE_MS = 300
#: the closest a fitted camera comes to what it frames (metres)
MIN_FIT_DISTANCE = 5.0


def pose_angles(pose: CameraPose) -> tuple[float, float]:
    """Compass azimuth (degrees, where the camera stands) and elevation of a pose."""
    az, el, _ = orbit_angles(pose.position, pose.focal_point, pose.view_up)
    return az, el


def pose_from_angles(focal: np.ndarray, az: float, el: float, dist: float, view_angle: float) -> CameraPose:
    """A roll-free pose from compass azimuth/elevation around a focal point (relative coordinates)."""
    return CameraPose.from_state(camera_from_angles(focal, az, el, dist, view_angle), np.zeros(3))


def interpolate_pose(a: CameraPose, b: CameraPose, t: float) -> CameraPose:
    """The animated move between two poses: the model's :func:`~citytwin.model.interpolation.fly_between`,
    the same path tours and presenter mode use."""
    zero = np.zeros(3)
    return CameraPose.from_state(fly_between(a.to_state(zero), b.to_state(zero), t), zero)


def _rotate(v: np.ndarray, axis: np.ndarray, degrees: float) -> np.ndarray:
    """Rodrigues rotation of ``v`` around a unit ``axis``."""
    th = math.radians(degrees)
    axis = axis / (np.linalg.norm(axis) or 1.0)
    return v * math.cos(th) + np.cross(axis, v) * math.sin(th) + axis * np.dot(axis, v) * (1 - math.cos(th))


class Viewport(QWidget):
    """The 3D view of a scene.

    Signals
    -------
    picked(layer, object index)
        The user clicked on an object (the layer is ``None`` on empty sky).
    point_picked(layer, PointPickResult)
        The user clicked on a point of a point-cloud layer.
    hovered(world xyz or None)
        Point under the cursor in the scene's display CRS (float64 ``(3,)``, not relative to the
        origin), ``None`` off the model.
    stats_changed()
        What is drawn changed (for the status bar counts).
    """

    picked = Signal(object, int)
    point_picked = Signal(object, object)
    hovered = Signal(object)
    stats_changed = Signal()

    def __init__(self, scene: Scene, parent: QWidget | None = None, style: Style = DEFAULT_STYLE) -> None:
        super().__init__(parent)
        from pyvistaqt import QtInteractor

        self.scene = scene
        self.style = style
        self.plotter = QtInteractor(self, auto_update=False)
        self.plotter.setAcceptDrops(False)  # the main window opens dropped files
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plotter)
        apply_style(self.plotter, style)
        self.renderer = self.plotter.renderer
        self._has_view = False
        self._overlays: Any = None
        self._overlays_shown = False
        self._written_camera: CameraState | None = None
        # camera animation
        self._anim_timer = QTimer(self)
        self._anim_timer.setInterval(16)
        self._anim_timer.timeout.connect(self._animate_step)
        self._anim: tuple[CameraPose, CameraPose, float, float] | None = None
        # hover: coalesce mouse moves
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(40)
        self._hover_timer.timeout.connect(self._hover_pick)
        self._hover_pos: tuple[int, int] | None = None
        # interactive level of detail: the proxy is drawn while the camera moves
        self._interacting = False
        self._wheel_timer = QTimer(self)
        self._wheel_timer.setSingleShot(True)
        self._wheel_timer.setInterval(WHEEL_IDLE_MS)
        self._wheel_timer.timeout.connect(self._end_interaction)
        # building pick locators and proxies ahead of the first click and drag
        self._warm_queue: list[Any] = []
        self._warm_timer = QTimer(self)
        self._warm_timer.setSingleShot(True)
        self._warm_timer.timeout.connect(self._warm_up_step)
        #: (seconds, visual) of the warm-up pieces run so far (for benchmarks)
        self.warm_up_log: list[tuple[float, Any]] = []
        self._setup_interaction()
        #: draws the scene's layers, as every export does (render/scene_view.py)
        self.view = SceneView(
            scene, self.plotter, style, on_change=self._on_visual_changed,
            on_added=self._on_visual_added, on_removed=self._on_visual_removed,
        )  # fmt: skip
        self.visuals = self.view.visuals
        # the look: draft while moving, final after REFINE_MS at rest
        self._final_quality = True
        self._closed = False
        self._look_rig: Any = None
        #: ``(azimuth, elevation)`` of the sun of the tour frame shown (a sun study), ``None``: the scene's
        self._tour_sun: tuple[float, float] | None = None
        #: ``look_filter(look) -> look`` changes what the view draws without touching the scene
        #: (a sun-hours map drops shadows and ambient occlusion); call :meth:`apply_look` after setting it
        self.look_filter: Callable[[Any], Any] | None = None
        self._refine_timer = QTimer(self)
        self._refine_timer.setSingleShot(True)
        self._refine_timer.setInterval(REFINE_MS)
        self._refine_timer.timeout.connect(self._refine)
        scene.settings_changed.connect(self._on_look_settings)
        self.apply_look()
        scene.layers.events.inserted.connect(self._on_inserted)
        scene.layers.events.removed.connect(self._on_removed)
        scene.camera_changed.connect(self._on_scene_camera)

    # ---------------------------------------------------------------- teardown
    def shutdown(self) -> None:
        """Disconnect from the scene and release VTK (call before closing the window)."""
        self._closed = True
        self._anim_timer.stop()
        self._hover_timer.stop()
        self._wheel_timer.stop()
        self._warm_timer.stop()
        self._refine_timer.stop()
        self._warm_queue.clear()
        self.scene.settings_changed.disconnect(self._on_look_settings)
        ev = self.scene.layers.events
        ev.inserted.disconnect(self._on_inserted)
        ev.removed.disconnect(self._on_removed)
        self.scene.camera_changed.disconnect(self._on_scene_camera)
        if self._overlays is not None:
            self.scene.settings_changed.disconnect(self._on_scene_settings)
            self._overlays.remove()
            self._overlays = None
        self.view.close()
        self.plotter.close()

    # ---------------------------------------------------------------- layers
    @property
    def origin(self) -> np.ndarray:
        return self.scene.origin if self.scene.origin is not None else np.zeros(3)

    def visual(self, layer: Layer) -> Any | None:
        return self.view.visual(layer)

    def _on_inserted(self, index: int, layer: Layer) -> None:
        if not self._has_view:
            self.reset_view(animate=False)
        self.request_render()

    def _on_removed(self, index: int, layer: Layer) -> None:
        self.request_render()

    def _on_visual_added(self, layer: Layer, vis: Any) -> None:
        self.stats_changed.emit()
        self._queue_warm_up(vis)
        if hasattr(self, "_refine_timer"):  # the visuals of the first layers come before the look is set up
            self.apply_look()

    def _on_visual_removed(self, layer: Layer, vis: Any) -> None:
        if vis in self._warm_queue:
            self._warm_queue.remove(vis)
        self.stats_changed.emit()
        if hasattr(self, "_refine_timer"):
            QTimer.singleShot(0, self.apply_look)  # after the visual is gone: the ground plane follows

    # ---------------------------------------------------------------- look
    @property
    def quality(self) -> str:
        """``"draft"`` or ``"final"``: the quality the look is drawn in now."""
        return self._look_rig.quality if self._look_rig is not None else "draft"

    @property
    def final_quality(self) -> bool:
        """Whether the view refines to final quality when the camera rests."""
        return self._final_quality

    def set_final_quality(self, on: bool) -> None:
        """Refine to final quality at rest (``True``, the default), or stay in draft quality."""
        self._final_quality = bool(on)
        if on:
            self._schedule_refine()
        else:
            self._refine_timer.stop()
            self._set_quality("draft")

    def apply_look(self) -> None:
        """Draw the scene's look (and its sun) in draft quality now, refined to final after :data:`REFINE_MS`."""
        from citytwin.render.looks import apply_look, scene_sun

        if self._closed:
            return
        try:
            sun = scene_sun(self.scene)
        except ValueError:
            sun = None
        tour_sun = getattr(self, "_tour_sun", None)
        if tour_sun is not None:  # a playing sun study's frame wins over the scene's sun
            sun = tour_sun
        visuals = self.view.drawn_visuals()
        look = self.scene.look if self.look_filter is None else self.look_filter(self.scene.look)
        self._look_rig = apply_look(self.plotter, look, "draft", sun, visuals)
        self.request_render()
        self._schedule_refine()

    def _on_look_settings(self, name: str) -> None:
        if name in ("look", "sun"):
            self.apply_look()

    def _schedule_refine(self) -> None:
        if self._final_quality and not self._interacting and self._anim is None:
            self._refine_timer.start()

    def _set_quality(self, quality: str) -> None:
        rig = self._look_rig
        if rig is not None and rig.quality != quality:
            rig.set_quality(quality, self.view.drawn_visuals())
            self.request_render()

    def _refine(self) -> None:
        if self._final_quality and not self._interacting and self._anim is None:
            self._set_quality("final")

    def _on_visual_changed(self, vis: Any) -> None:
        self.stats_changed.emit()
        self.request_render()
        self._queue_warm_up(vis)  # a new LoD or filter drops the visual's locator and proxy

    def highlight_point(self, layer: Layer | None, index: int) -> None:
        """Mark one point of a point-cloud layer (``None`` / -1 clears every point mark)."""
        for other in self.scene.layers:
            vis = self.visual(other)
            if isinstance(other, PointCloudLayer) and vis is not None:
                want = [index] if other is layer and index >= 0 else []
                if len(vis.highlighted) or want:
                    vis.highlight(want)
        self.request_render()

    # ---------------------------------------------------------------- warm-up
    def _queue_warm_up(self, vis: Any) -> None:
        if not hasattr(vis, "warm_up_step"):
            return
        if vis not in self._warm_queue:
            self._warm_queue.append(vis)
        if not self._warm_timer.isActive():
            self._warm_timer.start(200)  # after the frame that shows the layer

    @property
    def warming_up(self) -> bool:
        """Whether pick locators or interaction proxies are still being built."""
        return bool(self._warm_queue)

    def _warm_up_step(self) -> None:
        if not self._warm_queue:
            return
        if self._interacting or self._mode is not None:  # never in the middle of a drag
            self._warm_timer.start(250)
            return
        vis = self._warm_queue[0]
        if vis not in self.visuals.values():
            self._warm_queue.pop(0)
        else:
            t0 = time.perf_counter()
            more = vis.warm_up_step()
            self.warm_up_log.append((time.perf_counter() - t0, vis))
            if not more:
                self._warm_queue.pop(0)
        if self._warm_queue:
            self._warm_timer.start(WARM_UP_INTERVAL_MS)

    def warm_up_now(self) -> None:
        """Finish the warm-up at once (tests, benchmarks)."""
        self._warm_timer.stop()
        while self._warm_queue:
            vis = self._warm_queue[0]
            if vis not in self.visuals.values() or not vis.warm_up_step():
                self._warm_queue.pop(0)

    # ------------------------------------------------------------ interaction LoD
    @property
    def interacting(self) -> bool:
        """Whether the camera is moving (the visuals draw their light proxies)."""
        return self._interacting

    def _begin_interaction(self) -> None:
        self._refine_timer.stop()
        self._set_quality("draft")  # before the first frame of the move: never wait on a final frame
        if self._interacting:
            return
        self._interacting = True
        for layer in self.scene.layers:
            vis = self.visual(layer)
            if vis is not None and layer.visible:
                vis.set_interactive(True)

    def _end_interaction(self) -> None:
        self._wheel_timer.stop()
        if not self._interacting:
            return
        self._interacting = False
        for vis in self.visuals.values():
            vis.set_interactive(False)
        self.request_render()
        self._schedule_refine()

    def thematic(self, layer: Layer):
        """The legend data of a layer coloured by attribute, else ``None``."""
        vis = self.visual(layer)
        return getattr(vis, "thematic", None)

    def shown_counts(self) -> tuple[int, int]:
        """(top-level objects, triangles) drawn by the visible city-model layers."""
        n_obj = n_tri = 0
        for layer in self.scene.layers:
            vis = self.visual(layer)
            if vis is None or not layer.visible or not hasattr(vis, "drawn_triangles"):
                continue
            drawn = vis.drawn_triangles
            n_tri += len(drawn)
            if len(drawn):
                n_obj += len(np.unique(vis.arrays.cell["root"][drawn]))
        return n_obj, n_tri

    def shown_points(self) -> int:
        """Points of shown classes in the visible point-cloud layers."""
        return sum(
            len(vis.shown_points)
            for layer in self.scene.layers
            if layer.visible and (vis := self.visual(layer)) is not None and hasattr(vis, "shown_points")
        )

    def request_render(self) -> None:
        """Draw on the next event-loop turn (pyvistaqt's render() only emits a signal)."""
        self.renderer.ResetCameraClippingRange()
        self.plotter.render()

    # ---------------------------------------------------------------- camera
    def aspect(self) -> float:
        w, h = self.plotter.width(), self.plotter.height()
        return w / h if h > 0 else 16 / 9

    def current_pose(self) -> CameraPose:
        return CameraPose.from_vtk(self.renderer.GetActiveCamera())

    def _set_pose(self, pose: CameraPose) -> None:
        pose.apply(self.renderer.GetActiveCamera())
        self._has_view = True
        self.request_render()

    def fly_to(self, pose: CameraPose, animate: bool = True) -> None:
        """Move the camera to ``pose`` (scene-relative), animated over ~0.4 s."""
        self._anim_timer.stop()
        if not animate or not self.isVisible() or not self._has_view:
            self._anim = None
            self._set_pose(pose)
            self._publish_camera()
            self._end_interaction()
            return
        self._anim = (self.current_pose(), pose, time.monotonic(), ANIMATION_SECONDS)
        self._begin_interaction()
        self._anim_timer.start()

    def _cancel_animation(self) -> None:
        """Stop an animated move where it is (the user took the camera)."""
        self._anim_timer.stop()
        if self._anim is not None:
            self._anim = None
            self._end_interaction()

    @property
    def animating(self) -> bool:
        return self._anim is not None

    def _animate_step(self) -> None:
        if self._anim is None:
            self._anim_timer.stop()
            return
        start, end, t0, duration = self._anim
        t = min((time.monotonic() - t0) / duration, 1.0)
        self._set_pose(end if t >= 1.0 else interpolate_pose(start, end, t))
        if t >= 1.0:
            self._anim = None
            self._anim_timer.stop()
            self._publish_camera()
            self._end_interaction()

    # ---------------------------------------------------------------- overlays
    def _overlay_renderer(self) -> Any:
        """The view's overlays (made on first use): captions while a tour plays, and the project's
        title, logo, legend … when :meth:`set_overlays_shown` is on."""
        if self._overlays is None:
            from citytwin.render.overlays import OverlayRenderer

            self._overlays = OverlayRenderer(self.renderer, None, None, style=self.style)
            self.scene.settings_changed.connect(self._on_scene_settings)
        return self._overlays

    def set_overlays_shown(self, shown: bool, base_dir: Any = None) -> str | None:
        """Show the project's overlays over the view (as stills and videos draw them).

        Returns a sentence when they cannot be drawn (a missing logo), else ``None``.
        """
        from citytwin.model.overlays import OverlaySettings
        from citytwin.render.overlays import OverlayError

        self._overlays_shown = bool(shown)
        drawn = self._overlay_renderer()
        if base_dir is not None:
            drawn.base_dir = base_dir
        try:
            drawn.set_settings(self.scene.overlays if shown else OverlaySettings())
        except OverlayError as exc:
            drawn.set_settings(msgspec.structs.replace(self.scene.overlays, logo=None))
            return str(exc)
        finally:
            self.request_render()
        return None

    def preview_overlays(self, settings: Any, base_dir: Any = None) -> str | None:
        """Draw ``settings`` over the view instead of the scene's (a dialog's preview; the scene is
        not changed). :meth:`set_overlays_shown` puts the scene's back. Returns a sentence when
        they cannot be drawn (an unreadable logo: the last good drawing stays), else ``None``."""
        from citytwin.render.overlays import OverlayError

        drawn = self._overlay_renderer()
        if base_dir is not None:
            drawn.base_dir = base_dir
        try:
            drawn.set_settings(settings)
        except OverlayError as exc:
            return str(exc)
        finally:
            self.request_render()
        return None

    @property
    def overlays_shown(self) -> bool:
        return self._overlays_shown

    def _on_scene_settings(self, name: str) -> None:
        if name == "overlays" and self._overlays_shown:
            self.set_overlays_shown(True)

    def show_caption(self, caption: Any) -> None:
        """Show a tour caption (``title``/``subtitle``) over the view, or none."""
        if caption is None and self._overlays is None:
            return
        drawn = self._overlay_renderer()
        if caption is None:
            drawn.clear_caption()
        else:
            drawn.set_caption(caption.title, caption.subtitle)
        self.request_render()

    def show_tour_frame(self, frame: Any) -> None:
        """Show one frame of a tour (camera, layer fades, filter, caption, sun, scenario) as the video export draws it.

        ``None`` ends the tour's effects (the scene's own sun and scenario come back) and keeps the
        camera where it is (published to the scene).
        """
        self._cancel_animation()
        self.view.apply_tour_frame(frame)
        self._show_tour_sun(None if frame is None else getattr(frame, "sun", None))
        self.show_caption(None if frame is None else frame.caption)
        if frame is None:
            if self._has_view:
                self._publish_camera()
            self.request_render()
            return
        pose = CameraPose.from_state(frame.camera, self.origin)
        pose.apply(self.renderer.GetActiveCamera())
        self._has_view = True
        self.request_render()

    @property
    def tour_sun(self) -> tuple[float, float] | None:
        """``(azimuth, elevation)`` of the sun a tour frame shows now, or ``None`` (the scene's sun is shown)."""
        return self._tour_sun

    def _show_tour_sun(self, when: Any) -> None:
        """Light the view from a tour frame's sun time, or (``None``) from the scene's sun again."""
        from citytwin.render.looks import scene_sun, sun_at

        try:
            sun = sun_at(self.scene, when)
        except ValueError:
            sun = None
        if sun == self._tour_sun:
            return
        self._tour_sun = sun
        rig = self._look_rig
        if rig is None:
            return
        if sun is None:
            try:
                sun = scene_sun(self.scene)
            except ValueError:
                sun = None
        rig.set_sun(sun, self.view.drawn_visuals())
        self.request_render()

    def finish_animation(self) -> None:
        """Jump to the end of a running animation (tests, screenshots)."""
        if self._anim is not None:
            end = self._anim[1]
            self._anim = None
            self._anim_timer.stop()
            self._set_pose(end)
            self._publish_camera()
            self._end_interaction()

    def _scene_bounds(self) -> np.ndarray | None:
        boxes = [vis.bounds() for layer in self.scene.layers if (vis := self.visual(layer)) is not None]
        boxes = [b for b in boxes if np.isfinite(b).all()]
        if not boxes:
            return None
        arr = np.stack(boxes)
        return np.concatenate([arr[:, :3].min(axis=0), arr[:, 3:].max(axis=0)])

    def _scene_points(self) -> np.ndarray:
        """What the camera fit frames: (a sample of) the vertices every visible layer draws."""
        pts = [
            vis.fit_points() for layer in self.scene.layers if (vis := self.visual(layer)) is not None and layer.visible
        ]
        pts = [p for p in pts if len(p)]
        return np.concatenate(pts) if pts else np.zeros((0, 3))

    def view_preset(
        self,
        name: str,
        bounds: np.ndarray | None = None,
        animate: bool = True,
        elevation: float | None = None,
    ) -> None:
        """Show the scene (or ``bounds``, scene-relative) from a preset (see ``render.camera.PRESETS``).

        The scene's own points are framed (about 88 % of the view's width or height), not its
        bounding box, which an oblique view shows much larger than the buildings.
        """
        points = None
        if bounds is None:
            b = self._scene_bounds()
            if b is None:
                return
            points = self._scene_points()
        else:
            b = np.asarray(bounds, float)
        pose = preset_view(b, name, aspect=self.aspect(), elevation=elevation, points=points)
        self.fly_to(pose, animate)

    def reset_view(self, animate: bool = True) -> None:
        """The whole scene from the south-west, looking down at 40°."""
        self.view_preset("oblique-sw", animate=animate)

    def fit_bounds(
        self, bounds: np.ndarray, animate: bool = True, fill: float = FILL, points: np.ndarray | None = None
    ) -> None:
        """Frame a box (scene-relative) so it spans ``fill`` of the view, keeping the viewing direction.

        ``points`` (inside the box) are framed instead of the box's corners when given.
        """
        b = np.asarray(bounds, float)
        if not np.isfinite(b).all():
            return
        pose = self.current_pose()
        az, el = pose_angles(pose) if self._has_view else (225.0, 40.0)
        target = pose_from_angles((b[:3] + b[3:]) / 2, az, el, 1.0, pose.view_angle)
        pts = box_corners(b) if points is None or len(points) == 0 else points
        fitted = pose_for_points(
            pts, -target.direction, target.view_up, view_angle=pose.view_angle, aspect=self.aspect(), fill=fill
        )
        if fitted.distance < MIN_FIT_DISTANCE:  # a small object: do not put the camera inside it
            fitted = CameraPose(
                fitted.focal_point - fitted.direction * MIN_FIT_DISTANCE,
                fitted.focal_point,
                fitted.view_up,
                fitted.view_angle,
            )
        self.fly_to(fitted, animate)

    def fit_world_bounds(self, world_bounds: np.ndarray, animate: bool = True, fill: float = FILL) -> None:
        """Frame a box given in the scene's display CRS (not relative to the origin)."""
        b = np.asarray(world_bounds, float)
        o = self.origin
        self.fit_bounds(np.concatenate([b[:3] - o, b[3:] - o]), animate, fill)

    def _publish_camera(self) -> None:
        state = self.current_pose().to_state(self.origin)
        self._written_camera = state
        self.scene.camera = state

    def _on_scene_camera(self, state: CameraState | None) -> None:
        if state is None:  # an emptied scene (a new project): the next layer gets a fresh view
            self._has_view = False
            self._written_camera = None
            return
        if state == self._written_camera:
            return
        self.fly_to(CameraPose.from_state(state, self.origin))

    # ---------------------------------------------------------------- picking
    def pick(self, x: float, y: float) -> tuple[CityModelLayer | None, Any]:
        """The nearest layer hit at a display position (VTK: origin bottom-left) and its pick result."""
        cam = np.array(self.renderer.GetActiveCamera().GetPosition())
        best: tuple[float, CityModelLayer | None, Any] = (math.inf, None, None)
        for layer in [*self.scene.layers, *([self.scene.additions] if self.scene.additions is not None else [])]:
            vis = self.visual(layer)
            if vis is None or not layer.visible:
                continue
            hit = vis.pick(x, y)
            if hit is not None:
                d = float(np.linalg.norm(hit.position - cam))
                if d < best[0]:
                    best = (d, layer, hit)
        return best[1], best[2]

    def pick_qt(self, qx: float, qy: float) -> tuple[CityModelLayer | None, Any]:
        """Like :meth:`pick` with Qt widget coordinates (origin top-left, logical pixels)."""
        x, y = self._qt_to_display(qx, qy)
        return self.pick(x, y)

    def _qt_to_display(self, qx: float, qy: float) -> tuple[float, float]:
        ratio = self.plotter.devicePixelRatioF()
        return qx * ratio, (self.plotter.height() - 1 - qy) * ratio

    def world_to_display(self, world: np.ndarray) -> tuple[float, float]:
        """Display position (VTK convention) of a point in the scene's display CRS."""
        p = np.asarray(world, float) - self.origin
        self.renderer.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
        self.renderer.WorldToDisplay()
        x, y, _ = self.renderer.GetDisplayPoint()
        return x, y

    def world_to_qt(self, world: np.ndarray) -> tuple[float, float]:
        """Qt widget position (logical pixels, origin top-left) of a point in the display CRS."""
        x, y = self.world_to_display(world)
        ratio = self.plotter.devicePixelRatioF()
        return x / ratio, self.plotter.height() - 1 - y / ratio

    def _ray(self, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
        ren = self.renderer
        pts = []
        for z in (0.0, 1.0):
            ren.SetDisplayPoint(float(x), float(y), z)
            ren.DisplayToWorld()
            w = np.array(ren.GetWorldPoint(), float)
            pts.append(w[:3] / (w[3] if w[3] else 1.0))
        d = pts[1] - pts[0]
        return pts[0], d / (np.linalg.norm(d) or 1.0)

    def _plane_point(self, x: float, y: float, point: np.ndarray, normal: np.ndarray) -> np.ndarray | None:
        origin, d = self._ray(x, y)
        denom = float(np.dot(d, normal))
        if abs(denom) < 1e-9:
            return None
        t = float(np.dot(point - origin, normal)) / denom
        return origin + t * d if t > 0 else None

    def surface_point(self, x: float, y: float) -> np.ndarray | None:
        """Scene-relative point of the model under a display position, ``None`` on the sky."""
        _, hit = self.pick(x, y)
        return None if hit is None else np.asarray(hit.position, float)

    # ------------------------------------------------------------ interaction
    def _setup_interaction(self) -> None:
        from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera

        iren = self.plotter.iren
        iren.clear_key_event_callbacks()  # no pyvista 'q' (close) or 'v' shortcuts in the app
        style = vtkInteractorStyleTrackballCamera()
        self._style = style
        self._interactor = iren.interactor
        # through pyvista, which keeps its own idea of the style and puts it back after a double click in the
        # view (to toggle chart interaction): set directly, our style and its handlers were lost on a double click
        iren.style = style
        iren.untrack_click_position(side="left")  # no charts in the view: nothing to toggle on a double click
        self._mode: str | None = None
        self._press: tuple[int, int] = (0, 0)
        self._last: tuple[int, int] = (0, 0)
        self._moved = False
        self._pivot = np.zeros(3)
        self._pan_point = np.zeros(3)
        for event, handler in (
            ("LeftButtonPressEvent", self._on_left_press),
            ("LeftButtonReleaseEvent", self._on_release),
            ("MiddleButtonPressEvent", self._on_pan_press),
            ("MiddleButtonReleaseEvent", self._on_release),
            ("RightButtonPressEvent", self._on_pan_press),
            ("RightButtonReleaseEvent", self._on_release),
            ("MouseMoveEvent", self._on_move),
            ("MouseWheelForwardEvent", lambda *_: self._on_wheel(1)),
            ("MouseWheelBackwardEvent", lambda *_: self._on_wheel(-1)),
            ("KeyPressEvent", lambda *_: None),
            ("CharEvent", lambda *_: None),
        ):
            style.AddObserver(event, handler)

    def _event_pos(self) -> tuple[int, int]:
        x, y = self._interactor.GetEventPosition()
        return int(x), int(y)

    def _on_left_press(self, *_: Any) -> None:
        if self._interactor.GetShiftKey():
            self._on_pan_press()
            return
        self._cancel_animation()
        self._end_interaction()
        self._press = self._last = self._event_pos()
        self._moved = False
        self._mode = "rotate"
        hit = self.surface_point(*self._press)
        self._pivot = hit if hit is not None else np.asarray(self.renderer.GetActiveCamera().GetFocalPoint(), float)

    def _on_pan_press(self, *_: Any) -> None:
        self._cancel_animation()
        self._end_interaction()
        self._press = self._last = self._event_pos()
        self._moved = False
        self._mode = "pan"
        hit = self.surface_point(*self._press)
        self._pan_point = hit if hit is not None else np.asarray(self.renderer.GetActiveCamera().GetFocalPoint(), float)

    def _on_release(self, *_: Any) -> None:
        mode, self._mode = self._mode, None
        if mode is None:
            return
        if not self._moved and mode == "rotate":
            layer, hit = self.pick(*self._press)
            if isinstance(hit, PointPickResult):
                self.point_picked.emit(layer, hit)
            else:
                self.picked.emit(layer, -1 if hit is None else int(hit.object))
        elif self._moved:
            self._end_interaction()
            self._publish_camera()

    def _on_move(self, *_: Any) -> None:
        pos = self._event_pos()
        if self._mode is None:
            self._hover_pos = pos
            if not self._hover_timer.isActive():
                self._hover_timer.start()
            return
        if not self._moved and max(abs(pos[0] - self._press[0]), abs(pos[1] - self._press[1])) <= CLICK_TOLERANCE_PX:
            return
        if not self._moved:
            self._begin_interaction()  # the first move of a drag: draw the light proxy until release
        self._moved = True
        dx, dy = pos[0] - self._last[0], pos[1] - self._last[1]
        if self._mode == "rotate":
            self._orbit(dx, dy)
        else:
            self._pan(self._last, pos)
        self._last = pos

    def _orbit(self, dx: float, dy: float) -> None:
        cam = self.renderer.GetActiveCamera()
        pos = np.array(cam.GetPosition(), float)
        focal = np.array(cam.GetFocalPoint(), float)
        up = np.array(cam.GetViewUp(), float)
        pivot = self._pivot
        size = self.renderer.GetSize()
        deg_per_px = 360.0 / max(size[0], 1)
        z = np.array([0.0, 0.0, 1.0])
        # azimuth: around the vertical through the pivot
        az = -dx * deg_per_px
        pos = pivot + _rotate(pos - pivot, z, az)
        focal = pivot + _rotate(focal - pivot, z, az)
        up = _rotate(up, z, az)
        # elevation: around the camera's horizontal right axis, clamped so the camera never flips over
        direction = focal - pos
        direction /= np.linalg.norm(direction) or 1.0
        right = np.cross(direction, up)
        right /= np.linalg.norm(right) or 1.0
        pitch = math.degrees(math.asin(float(np.clip(-direction[2], -1, 1))))  # 90 = looking straight down
        want = -dy * deg_per_px
        new_pitch = float(np.clip(pitch - want, -20.0, 89.5))
        delta = -(new_pitch - pitch)
        if abs(delta) > 1e-9:
            pos = pivot + _rotate(pos - pivot, right, delta)
            focal = pivot + _rotate(focal - pivot, right, delta)
            up = _rotate(up, right, delta)
        direction = focal - pos
        direction /= np.linalg.norm(direction) or 1.0
        # keep the horizon level: up is +Z made orthogonal to the view direction
        level = z - direction * float(np.dot(z, direction))
        if np.linalg.norm(level) > 1e-3:
            up = level / np.linalg.norm(level)
        cam.SetPosition(*pos)
        cam.SetFocalPoint(*focal)
        cam.SetViewUp(*up)
        cam.OrthogonalizeViewUp()
        self._has_view = True
        self.request_render()

    def _pan(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        cam = self.renderer.GetActiveCamera()
        normal = np.array(cam.GetDirectionOfProjection(), float)
        pa = self._plane_point(*a, self._pan_point, normal)
        pb = self._plane_point(*b, self._pan_point, normal)
        if pa is None or pb is None:
            return
        shift = pa - pb
        cam.SetPosition(*(np.array(cam.GetPosition()) + shift))
        cam.SetFocalPoint(*(np.array(cam.GetFocalPoint()) + shift))
        self.request_render()

    def _on_wheel(self, direction: int) -> None:
        self._cancel_animation()
        x, y = self._event_pos()
        cam = self.renderer.GetActiveCamera()
        pos = np.array(cam.GetPosition(), float)
        focal = np.array(cam.GetFocalPoint(), float)
        target = self.surface_point(x, y)
        if target is None:  # over the sky: zoom towards the cursor on the focal point's horizontal plane
            target = self._plane_point(x, y, focal, np.array([0.0, 0.0, 1.0]))
            if target is None or np.linalg.norm(target - pos) > 20 * np.linalg.norm(focal - pos):
                target = focal
        factor = 0.2 if direction > 0 else -0.25
        step = (target - pos) * factor
        if direction > 0 and np.linalg.norm(target - pos - step) < 0.5:
            return  # do not go through the surface
        cam.SetPosition(*(pos + step))
        cam.SetFocalPoint(*(focal + step))
        self._has_view = True
        self._begin_interaction()
        self._wheel_timer.start()  # the proxy stays until the wheel has been still for WHEEL_IDLE_MS
        self.request_render()
        self._publish_camera()

    def _hover_pick(self) -> None:
        if self._hover_pos is None or self._mode is not None:
            return
        p = self.surface_point(*self._hover_pos)
        self.hovered.emit(None if p is None else p + self.origin)

    # ---------------------------------------------------------------- images
    def grab_image(self) -> np.ndarray:
        """``(H, W, 3)`` uint8 of what the window shows now (renders first); a refinement to final
        quality that is due (the camera rests) is done first, so the image is what the view settles on."""
        if self._refine_timer.isActive():
            self._refine_timer.stop()
            self._refine()
        self.plotter.ren_win.Render()
        return np.asarray(self.plotter.screenshot(return_img=True))
