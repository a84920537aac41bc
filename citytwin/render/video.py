"""Video export: render a tour frame by frame off screen and encode it while rendering goes on.

Frames are rendered deterministically (the same tour, size and scene give the same
frames) by an :class:`~citytwin.render.offscreen.OffscreenScene` that follows the model
scene through the same :class:`~citytwin.render.scene_view.SceneView` as the window.
Rendering needs the thread that owns the GL context; encoding runs beside it: a
writer thread takes finished frames from a short queue and feeds the encoder (ffmpeg,
bundled by imageio-ffmpeg, for MP4; imageio for GIF; PNG files for a sequence). Nothing
appears under the target name until the export has finished: a cancelled or failed
export leaves no half-written file.
"""

from __future__ import annotations

import errno
import os
import queue
import shutil
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from citytwin.errors import ExportCancelled, ExportError

VideoFormat = Literal["mp4", "gif", "png"]
#: Named sizes a user picks from (width, height).
VIDEO_SIZES: dict[str, tuple[int, int]] = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}
VIDEO_FPS = (24, 25, 30, 60)
#: The largest side a video may have (8K UHD).
MAX_VIDEO_SIDE = 7680
#: Frames waiting for the encoder; a few are enough to overlap, more only cost memory.
QUEUE_FRAMES = 4


@dataclass(frozen=True)
class VideoSettings:
    """How a video is written.

    Attributes
    ----------
    size
        ``(width, height)`` in pixels, independent of the window; even for MP4 (H.264 yuv420p).
    fps
        Frames per second: 24, 25, 30 or 60 (another positive number is accepted from the API).
    quality
        1 (smallest file) to 10 (best); 7 is visually lossless for city scenes.
    format
        ``"mp4"``, ``"gif"`` or ``"png"`` (a numbered PNG sequence in a folder); by default
        from the output's suffix.
    """

    size: tuple[int, int] = (1920, 1080)
    fps: float = 30
    quality: int = 7
    format: VideoFormat | None = None

    def checked(self, out: Path) -> VideoSettings:
        """These settings with the format resolved, or :class:`ExportError` in one sentence."""
        fmt = self.format or format_for(out)
        w, h = (int(v) for v in self.size)
        if w < 16 or h < 16 or max(w, h) > MAX_VIDEO_SIDE:
            raise ExportError(
                f"A video of {w}×{h} pixels cannot be made: each side must be 16 to {MAX_VIDEO_SIDE} pixels."
            )
        if fmt == "mp4" and (w % 2 or h % 2):
            raise ExportError(f"An MP4 video needs an even width and height, not {w}×{h}.")
        if not (np.isfinite(self.fps) and 1 <= self.fps <= 120):
            raise ExportError(f"{self.fps} frames per second is not possible: use 24, 25, 30 or 60.")
        if not 1 <= int(self.quality) <= 10:
            raise ExportError(f"The quality must be 1 to 10, not {self.quality}.")
        return VideoSettings((w, h), float(self.fps), int(self.quality), fmt)


def format_for(out: Path) -> VideoFormat:
    """The video format an output path asks for (``.mp4``, ``.gif``, or a folder / ``.png`` pattern)."""
    suffix = out.suffix.lower()
    if suffix in (".mp4", ".m4v"):
        return "mp4"
    if suffix == ".gif":
        return "gif"
    if suffix in ("", ".png"):
        return "png"
    raise ExportError(f"{out.name}: a video is written as .mp4, .gif or a folder of PNG frames, not {suffix}.")


# ---------------------------------------------------------------------------------------------- writers
#: A temporary file of an export older than this was left by a process that died: removed at the next export.
STALE_PART_SECONDS = 3600.0


class _FrameWriter(ABC):
    """Writes frames to a temporary place beside the target; :meth:`commit` moves it into place."""

    def __init__(self, out: Path, settings: VideoSettings) -> None:
        self.out = out
        self.settings = settings
        _remove_stale_parts(out)

    @abstractmethod
    def write(self, frame: np.ndarray) -> None:
        """Encode one ``(H, W, 3)`` uint8 frame."""

    @abstractmethod
    def close(self) -> None:
        """Finish writing (flush the encoder)."""

    @abstractmethod
    def commit(self) -> None:
        """Move the finished file into place under the target name."""

    @abstractmethod
    def abort(self) -> None:
        """Remove what was written."""


def _remove_stale_parts(out: Path) -> None:
    """Temporary files of an earlier export of ``out`` whose process was killed (hidden ``.NAME.*.part*``)."""
    now = time.time()
    try:
        for part in out.parent.glob(f".{out.stem}.*.part*"):
            if now - part.stat().st_mtime <= STALE_PART_SECONDS:
                continue
            if part.is_dir():
                shutil.rmtree(part, ignore_errors=True)
            else:
                part.unlink(missing_ok=True)
    except OSError:
        pass


def _publish(tmp: Path, out: Path) -> None:
    """Give a finished temporary file the usual permissions (not mkstemp's 0600) and move it into place."""
    from citytwin.io.atomic import _umask

    os.chmod(tmp, (0o777 if tmp.is_dir() else 0o666) & ~_umask())
    os.replace(tmp, out)


class _Mp4Writer(_FrameWriter):
    def __init__(self, out: Path, settings: VideoSettings) -> None:
        super().__init__(out, settings)
        import imageio_ffmpeg

        fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".part.mp4", dir=out.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self._gen = imageio_ffmpeg.write_frames(
            str(self.tmp),
            settings.size,
            fps=settings.fps,
            codec="libx264",
            pix_fmt_out="yuv420p",  # plays everywhere (browsers, PowerPoint, phones)
            quality=settings.quality,
            macro_block_size=2,
            ffmpeg_log_level="error",
            # veryfast: the encoder shares the CPU with the software renderer; +faststart: plays while loading
            output_params=["-preset", "veryfast", "-movflags", "+faststart"],
        )
        self._gen.send(None)

    def write(self, frame: np.ndarray) -> None:
        self._gen.send(frame)

    def close(self) -> None:
        self._gen.close()

    def commit(self) -> None:
        _publish(self.tmp, self.out)

    def abort(self) -> None:
        try:
            self._gen.close()
        except Exception:  # noqa: BLE001 - the encoder may be dead already; the file goes anyway
            pass
        self.tmp.unlink(missing_ok=True)


class _GifWriter(_FrameWriter):
    def __init__(self, out: Path, settings: VideoSettings) -> None:
        super().__init__(out, settings)
        import imageio.v3 as iio

        fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".part.gif", dir=out.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self._file = iio.imopen(self.tmp, "w", extension=".gif")
        self._duration_ms = 1000.0 / settings.fps

    def write(self, frame: np.ndarray) -> None:
        self._file.write(frame, duration=self._duration_ms, loop=0)

    def close(self) -> None:
        self._file.close()

    def commit(self) -> None:
        _publish(self.tmp, self.out)

    def abort(self) -> None:
        try:
            self._file.close()
        except Exception:  # noqa: BLE001
            pass
        self.tmp.unlink(missing_ok=True)


class _PngWriter(_FrameWriter):
    """``frame_00000.png`` … in a folder (``out`` itself, or ``out``'s folder for a ``.png`` pattern)."""

    def __init__(self, out: Path, settings: VideoSettings) -> None:
        super().__init__(out, settings)
        self.folder = out if out.suffix.lower() != ".png" else out.parent
        self.stem = "frame" if out.suffix.lower() != ".png" else out.stem
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.folder.name}.", suffix=".part", dir=self.folder.parent))
        self._n = 0

    def write(self, frame: np.ndarray) -> None:
        from PIL import Image

        Image.fromarray(frame).save(self.tmp / f"{self.stem}_{self._n:05d}.png", compress_level=1)
        self._n += 1

    def close(self) -> None:
        """Each frame is a finished file already."""

    def commit(self) -> None:
        if self.folder.exists() and any(self.folder.iterdir()) and self.folder != self.tmp:
            if self.out.suffix.lower() == ".png":  # frames beside other files: move them in one by one
                for f in sorted(self.tmp.iterdir()):
                    os.replace(f, self.folder / f.name)
                self.tmp.rmdir()
                return
            raise ExportError(f"The folder {self.folder} is not empty; choose a new or empty folder for the frames.")
        if self.folder.exists():
            self.folder.rmdir()
        _publish(self.tmp, self.folder)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


_WRITERS: dict[str, type[_FrameWriter]] = {"mp4": _Mp4Writer, "gif": _GifWriter, "png": _PngWriter}


def open_writer(out: Path, settings: VideoSettings) -> _FrameWriter:
    """A frame writer for ``out`` (format from ``settings``), or :class:`ExportError` in one sentence."""
    parent = out.parent if settings.format != "png" or out.suffix else out.parent
    if not parent.is_dir():
        raise ExportError(f"The folder {parent} does not exist.")
    if out.is_dir() and settings.format != "png":
        raise ExportError(f"{out} is a folder, not a video file.")
    try:
        return _WRITERS[str(settings.format)](out, settings)
    except OSError as exc:
        raise ExportError(_os_sentence(exc, out)) from None


def _os_sentence(exc: BaseException, out: Path) -> str:
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "No space left on device" in str(exc):  # ffmpeg only says so on its stderr
        return f"The disk is full: {out.name} could not be written."
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{out.name} could not be written: no permission to write in {out.parent}."
    return f"{out.name} could not be written ({getattr(exc, 'strerror', None) or exc})."


# ---------------------------------------------------------------------------------------------- encoding
class FramePipe:
    """Frames go in on the render thread; a writer thread encodes them, so that both overlap.

    The queue is short (:data:`QUEUE_FRAMES`): rendering waits when the encoder is behind,
    so memory stays flat for any video length. An encoder error is raised on the render
    thread at the next :meth:`put` or at :meth:`finish`.
    """

    def __init__(self, writer: _FrameWriter, depth: int = QUEUE_FRAMES) -> None:
        self.writer = writer
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self.encode_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="citytwin-encoder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is not None:
                continue  # drain, so that put() never blocks on a dead encoder
            t0 = time.perf_counter()
            try:
                self.writer.write(frame)
            except BaseException as exc:  # noqa: BLE001 - reported on the render thread
                self._error = exc
            self.encode_seconds += time.perf_counter() - t0

    def put(self, frame: np.ndarray) -> None:
        """Queue a frame (``(H, W, 3)`` uint8); raises the encoder's error if it failed."""
        self._raise()
        self._queue.put(frame)

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def finish(self) -> None:
        """Wait for the last frame, close the encoder and move the file into place."""
        self._queue.put(None)
        self._thread.join()
        self._raise()
        self.writer.close()
        self.writer.commit()

    def abort(self) -> None:
        """Stop, and remove what was written."""
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._queue.put(None)
        self._thread.join(timeout=30)
        self.writer.abort()


# ---------------------------------------------------------------------------------------------- export
Progress = Callable[[int, int], bool | None]


@dataclass
class ExportReport:
    """What an export did: frames, seconds spent rendering and encoding, the file."""

    path: Path
    frames: int
    seconds: float
    render_seconds: float
    encode_seconds: float

    @property
    def fps(self) -> float:
        """Frames written per second of wall time."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class VideoExport:
    """One export, one frame at a time: the window drives it from a timer (the UI stays live),
    :func:`export_video` from a loop.

    Parameters
    ----------
    render_frame
        Returns frame ``k`` as ``(H, W, 3)`` uint8 of ``settings.size``; called on the thread
        that calls :meth:`step`.
    n_frames
        How many frames.
    out
        The video file (``.mp4``, ``.gif``) or a folder for PNG frames.
    settings
        Size, fps, quality, format.

    Raises
    ------
    ExportError
        One sentence, from the constructor (bad settings, a missing folder) or from :meth:`step`
        (a full disk …); nothing is left under ``out``.
    """

    def __init__(
        self,
        render_frame: Callable[[int], np.ndarray],
        n_frames: int,
        out: str | os.PathLike,
        settings: VideoSettings = VideoSettings(),  # noqa: B008 - frozen
    ) -> None:
        self.out = Path(out)
        self.settings = settings.checked(self.out)
        if n_frames < 1:
            raise ExportError("There is nothing to export: the tour has no frames.")
        self.render_frame = render_frame
        self.n_frames = int(n_frames)
        self.done = 0
        self.render_seconds = 0.0
        self._t0 = time.perf_counter()
        self._pipe: FramePipe | None = FramePipe(open_writer(self.out, self.settings))
        self.report: ExportReport | None = None

    @property
    def finished(self) -> bool:
        return self.report is not None

    def step(self) -> bool:
        """Render and queue the next frame; after the last one, finish the file. Returns whether frames remain."""
        if self._pipe is None:
            return False
        pipe = self._pipe
        try:
            if self.done < self.n_frames:
                t1 = time.perf_counter()
                frame = self.render_frame(self.done)
                self.render_seconds += time.perf_counter() - t1
                w, h = self.settings.size
                if frame.shape[:2] != (h, w):
                    raise ExportError(f"Frame {self.done} is {frame.shape[1]}×{frame.shape[0]}, not {w}×{h}.")
                pipe.put(np.ascontiguousarray(frame[..., :3]))
                self.done += 1
            if self.done < self.n_frames:
                return True
            pipe.finish()
        except BaseException as exc:
            self._fail(exc)
        self._pipe = None
        self.report = ExportReport(
            self.out, self.n_frames, time.perf_counter() - self._t0, self.render_seconds, pipe.encode_seconds
        )
        return False

    def _fail(self, exc: BaseException) -> None:
        assert self._pipe is not None
        self._pipe.abort()
        self._pipe = None
        if isinstance(exc, ExportError):
            raise exc
        if isinstance(exc, OSError):
            raise ExportError(_os_sentence(exc, self.out)) from None
        if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
            raise exc
        raise ExportError(f"{self.out.name} could not be written ({type(exc).__name__}: {exc}).") from exc

    def cancel(self) -> None:
        """Stop and remove what was written; nothing is left under the target name."""
        if self._pipe is not None:
            self._pipe.abort()
            self._pipe = None


def export_video(
    render_frame: Callable[[int], np.ndarray],
    n_frames: int,
    out: str | os.PathLike,
    settings: VideoSettings = VideoSettings(),  # noqa: B008 - frozen
    progress: Progress | None = None,
) -> ExportReport:
    """Render ``n_frames`` frames with ``render_frame(k)`` and encode them to ``out`` as they come.

    ``progress`` is called with ``(frames done, total)`` after each frame; returning ``False``
    cancels (:class:`ExportCancelled`, nothing left under ``out``). See :class:`VideoExport`
    for the other parameters and errors.
    """
    job = VideoExport(render_frame, n_frames, out, settings)
    try:
        while job.step():
            if progress is not None and progress(job.done, job.n_frames) is False:
                raise ExportCancelled()
    except BaseException:
        job.cancel()
        raise
    assert job.report is not None
    return job.report


__all__ = [
    "ExportReport",
    "FramePipe",
    "MAX_VIDEO_SIDE",
    "VIDEO_FPS",
    "VIDEO_SIZES",
    "VideoExport",
    "VideoSettings",
    "export_video",
    "format_for",
    "open_writer",
]
