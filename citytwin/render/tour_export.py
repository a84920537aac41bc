"""Render a tour of a scene to a video file, off screen, frame by frame.

The frames are the tour's :meth:`~citytwin.model.tours.Tour.sample` at
:meth:`~citytwin.model.tours.Tour.frame_times`: the same interpolation that the
window's preview and presenter mode show, drawn by the same
:class:`~citytwin.render.scene_view.SceneView` as the window. The same tour, size and
scene give the same frames. A frame with its own sun time (a sun study) is lit, and
casts its shadows, from the sun at that time over the scene's place. A keyframe that
switches the planning scenario shows that scenario from its frame on (the scene's own
before the first such keyframe); the scene's ``scenario_id`` is never changed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.model.scene import Scene
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.style import DEFAULT_STYLE, Style
from citytwin.render.video import ExportReport, Progress, VideoExport, VideoSettings


class TourVideo:
    """A tour export in progress: :meth:`step` renders and queues one frame.

    Parameters
    ----------
    scene
        What to draw (its layers, pins and measurements, as the window shows them).
    tour
        The :class:`~citytwin.model.tours.Tour`.
    out
        ``.mp4``, ``.gif`` or a folder for PNG frames.
    settings
        Size, fps, quality.
    style
        The look.
    overlays
        :class:`~citytwin.model.overlays.OverlaySettings` (title, logo, legend, north arrow, scale
        bar, attribution); ``scene.overlays`` by default. The tour's captions are drawn with them.
    base
        The folder relative paths in ``overlays`` (the logo) are relative to (the project's).

    Raises
    ------
    ExportError
        One sentence: bad settings, a missing logo, a folder that does not exist.
    """

    def __init__(
        self,
        scene: Scene,
        tour: Any,
        out: str | os.PathLike,
        settings: VideoSettings = VideoSettings(),  # noqa: B008 - frozen
        *,
        style: Style = DEFAULT_STYLE,
        overlays: Any = None,
        base: str | os.PathLike | None = None,
    ) -> None:
        self.tour = tour
        self.times = tour.frame_times(settings.fps)
        self.scene = scene
        self._sun_moved = False  # a frame's own sun replaced the scene's
        self._off: OffscreenScene | None = None
        self.overlay: Any = None
        # settings first: a bad size is refused before a window of that size is made
        settings.checked(Path(out))
        self._off = OffscreenScene(tuple(settings.size), style, scene=scene)
        try:
            settings_ = overlays if overlays is not None else getattr(scene, "overlays", None)
            has_captions = any(k.caption is not None for k in tour.keyframes)
            if has_captions or (settings_ is not None and not settings_.empty):
                self.overlay = _overlay_renderer(self._off, settings_, base, style)
            self.job = VideoExport(self._render, len(self.times), out, settings)
        except BaseException:
            self.close()
            raise

    @property
    def n_frames(self) -> int:
        return len(self.times)

    @property
    def done(self) -> int:
        return self.job.done

    @property
    def report(self) -> ExportReport | None:
        return self.job.report

    def frame(self, k: int) -> np.ndarray:
        """Frame ``k`` as ``(H, W, 3)`` uint8 (without writing it)."""
        return self._render(k)

    def _render(self, k: int) -> np.ndarray:
        assert self._off is not None
        off = self._off
        frame = self.tour.sample(float(self.times[k]))
        assert off.view is not None
        off.view.apply_tour_frame(frame)
        self._set_sun(frame)
        off.set_camera(frame.camera)
        if self.overlay is not None:
            caption = frame.caption
            if caption is None:
                self.overlay.clear_caption()
            else:
                self.overlay.set_caption(caption.title, caption.subtitle)
        return off.render()

    def _set_sun(self, frame: Any) -> None:
        """Light the frame from its own sun time, or from the scene's sun when it has none."""
        from citytwin.render.looks import scene_sun, sun_at

        off = self._off
        rig = off.look_rig if off is not None else None
        if rig is None:
            return
        when = getattr(frame, "sun", None)
        sun = sun_at(self.scene, when) if when is not None else None
        if sun is not None:
            rig.set_sun(sun, off.visuals)
            self._sun_moved = True
        elif self._sun_moved:
            rig.set_sun(scene_sun(self.scene), off.visuals)
            self._sun_moved = False

    def step(self) -> bool:
        """Render and queue the next frame (the last one finishes the file); whether frames remain."""
        more = self.job.step()
        if not more:
            self.close()
        return more

    def cancel(self) -> None:
        """Stop; nothing is left under the target name."""
        if hasattr(self, "job"):
            self.job.cancel()
        self.close()

    def close(self) -> None:
        """Free the off-screen window (the model scene is left as it was)."""
        if self._off is not None:
            if self.overlay is not None and hasattr(self.overlay, "remove"):
                self.overlay.remove()
            self.overlay = None
            self._off.close()
            self._off = None

    def __enter__(self) -> TourVideo:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.cancel()
        self.close()


def _overlay_renderer(off: OffscreenScene, settings: Any, base: Any, style: Style) -> Any:
    """Overlays over the frames; a legend asked for replaces the layers' own."""
    from citytwin.render.overlays import OverlayRenderer

    thematic = next((v.thematic for v in off.visuals if getattr(v, "thematic", None) is not None), None)
    drawn = OverlayRenderer(off.renderer, None, settings, style=style, base_dir=base, thematic=thematic)
    if settings is not None and settings.legend is not None and thematic is not None:
        for v in off.visuals:
            if getattr(v, "legend", None) is not None:
                v.legend.SetVisibility(False)
    return drawn


def export_tour(
    scene: Scene,
    tour: Any,
    out: str | os.PathLike,
    settings: VideoSettings = VideoSettings(),  # noqa: B008 - frozen
    *,
    style: Style = DEFAULT_STYLE,
    overlays: Any = None,
    base: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> ExportReport:
    """Render ``tour`` of ``scene`` to ``out`` and return what was done (see :class:`TourVideo`).

    ``progress(done, total)`` is called after each frame; returning ``False`` cancels
    (:class:`~citytwin.errors.ExportCancelled`; nothing is left under ``out``).
    """
    from citytwin.errors import ExportCancelled

    with TourVideo(scene, tour, out, settings, style=style, overlays=overlays, base=base) as video:
        while video.step():
            if progress is not None and progress(video.done, video.n_frames) is False:
                raise ExportCancelled()
        assert video.report is not None
        return video.report


__all__ = ["TourVideo", "export_tour"]
