"""File → Export Image and Export Video: what the window shows, as a still or a tour video.

Both render off screen on a worker thread (the window stays live, a progress dialog
shows how far it is and can cancel a video) through the same engine as ``citytwin
snapshot`` and ``citytwin render``: the layers as the window shows them, the pins and
measurements, the project's overlays and, for a video, the tour's captions. Nothing
appears under the chosen name until the file is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressDialog,
    QSlider,
    QSpinBox,
    QWidget,
)

from citytwin.errors import ExportCancelled
from citytwin.ui.workers import JobThread

#: Image sizes offered besides the window's own.
IMAGE_SIZES: list[tuple[str, tuple[int, int]]] = [
    ("HD 1280 × 720", (1280, 720)),
    ("Full HD 1920 × 1080", (1920, 1080)),
    ("QHD 2560 × 1440", (2560, 1440)),
    ("4K 3840 × 2160", (3840, 2160)),
    ("8K 7680 × 4320", (7680, 4320)),
]
VIDEO_SIZES: list[tuple[str, tuple[int, int]]] = [
    ("720p 1280 × 720", (1280, 720)),
    ("1080p 1920 × 1080", (1920, 1080)),
    ("4K 3840 × 2160", (3840, 2160)),
]


# ------------------------------------------------------------------------------------------ settings
@dataclass(frozen=True)
class ImageRequest:
    """What Export Image writes."""

    path: Path
    size: tuple[int, int]
    transparent: bool = False
    overlays: bool = True
    #: ``decorate(off)`` adds more to the picture (a sun-hours map); ``look`` replaces the scene's look
    decorate: Any = None
    look: Any = None


@dataclass(frozen=True)
class VideoRequest:
    """What Export Video writes."""

    path: Path
    tour_id: str
    size: tuple[int, int] = (1920, 1080)
    fps: int = 30
    quality: int = 7
    overlays: bool = True


def _size_row(parent: QWidget, sizes: list[tuple[str, tuple[int, int]]], current: tuple[int, int],
              maximum: int) -> tuple[QWidget, QComboBox, QSpinBox, QSpinBox]:  # fmt: skip
    """A size combo (presets and Custom) with width and height boxes that follow it."""
    row = QWidget(parent)
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    combo = QComboBox(row)
    for label, size in sizes:
        combo.addItem(label, size)
    combo.addItem("Custom", None)
    w, h = QSpinBox(row), QSpinBox(row)
    for box in (w, h):
        box.setRange(16, maximum)
        box.setSuffix(" px")
    lay.addWidget(combo, 1)
    lay.addWidget(w)
    lay.addWidget(QLabel("×", row))
    lay.addWidget(h)

    def chosen(_: int = 0) -> None:
        size = combo.currentData()
        custom = size is None
        w.setEnabled(custom)
        h.setEnabled(custom)
        if size is not None:
            w.setValue(size[0])
            h.setValue(size[1])

    combo.currentIndexChanged.connect(chosen)
    index = next((k for k, (_, s) in enumerate(sizes) if tuple(s) == tuple(current)), 1)
    combo.setCurrentIndex(index)
    chosen()
    return row, combo, w, h


def _finish_form(dialog: QDialog, form: QFormLayout) -> QCheckBox:
    """The overlays switch and the Export…/Cancel buttons every export dialog ends with."""
    overlays = QCheckBox("Title, logo, legend and other overlays of the project", dialog)
    overlays.setChecked(True)
    form.addRow("", overlays)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.addButton("Export…", QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return overlays


class ExportImageDialog(QDialog):
    """Size (the window's, a preset or custom up to 8K), transparent sky, overlays."""

    def __init__(self, window_size: tuple[int, int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Image")
        form = QFormLayout(self)
        sizes = [(f"As the window {window_size[0]} × {window_size[1]}", window_size), *IMAGE_SIZES]
        row, self.size_combo, self.width_box, self.height_box = _size_row(self, sizes, (1920, 1080), 7680)
        form.addRow("Size:", row)
        self.transparent = QCheckBox("Transparent sky (PNG)", self)
        form.addRow("", self.transparent)
        self.overlays = _finish_form(self, form)

    def size(self) -> tuple[int, int]:  # type: ignore[override]
        return int(self.width_box.value()), int(self.height_box.value())


class ExportVideoDialog(QDialog):
    """Tour, size, frame rate, quality, overlays."""

    def __init__(self, tours: list[Any], current: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Video")
        form = QFormLayout(self)
        self.tour_combo = QComboBox(self)
        for tour in tours:
            self.tour_combo.addItem(f"{tour.name} ({tour.duration:.1f} s)", tour.id)
        if current is not None:
            self.tour_combo.setCurrentIndex(max(self.tour_combo.findData(current.id), 0))
        form.addRow("Tour:", self.tour_combo)
        row, self.size_combo, self.width_box, self.height_box = _size_row(self, VIDEO_SIZES, (1920, 1080), 7680)
        form.addRow("Size:", row)
        self.fps_combo = QComboBox(self)
        for fps in (24, 25, 30, 60):
            self.fps_combo.addItem(f"{fps} frames per second", fps)
        self.fps_combo.setCurrentIndex(2)
        form.addRow("Frame rate:", self.fps_combo)
        self.quality = QSlider(Qt.Orientation.Horizontal, self)
        self.quality.setRange(1, 10)
        self.quality.setValue(7)
        self.quality.setToolTip("1: smallest file … 10: best picture (7 looks lossless for city scenes)")
        form.addRow("Quality:", self.quality)
        self.overlays = _finish_form(self, form)

    def size(self) -> tuple[int, int]:  # type: ignore[override]
        return int(self.width_box.value()), int(self.height_box.value())


# ------------------------------------------------------------------------------------------ workers
def _ExportThread(job: Any, parent: QObject | None = None) -> JobThread:  # noqa: N802 - a thread class
    """A :class:`~citytwin.ui.workers.JobThread` for an export (cancelled by :class:`ExportCancelled`)."""
    memory = "There is not enough memory for an export of this size; choose a smaller one."
    return JobThread(job, parent, cancelled_types=(ExportCancelled,), what="The export", memory_message=memory)


class Exporter(QObject):
    """What :func:`install_export` made: the actions, and the exports for the window, panels and tests.

    Signals
    -------
    finished(str, str)
        ``(path, "")`` after a file was written, ``("", sentence)`` after a failure, ``("", "")``
        after a cancel.
    """

    finished = Signal(str, str)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.thread: JobThread | None = None
        self.progress: QProgressDialog | None = None
        #: set by tests: answer the file and options dialogs without showing them
        self.auto_accept = False

    # ------------------------------------------------------------------ what the window shows
    def _camera(self) -> Any:
        vp = self.window.viewport
        return vp.current_pose().to_state(vp.origin)

    def _window_size(self) -> tuple[int, int]:
        plotter = self.window.viewport.plotter
        return max(int(plotter.width()), 16), max(int(plotter.height()), 16)

    def _base_dir(self) -> Path | None:
        path = getattr(getattr(self.window, "session", None), "path", None)
        return Path(path).parent if path else None

    @property
    def busy(self) -> bool:
        return self.thread is not None

    # ------------------------------------------------------------------ images
    def ask_image(self) -> None:
        """File → Export Image…: options, then the file name, then the export."""
        if self.busy or not self._has_something():
            return
        dialog = ExportImageDialog(self._window_size(), self.window)
        if not self.auto_accept and dialog.exec() != QDialog.DialogCode.Accepted:
            return
        name = "citytwin.png" if not dialog.transparent.isChecked() else "citytwin-transparent.png"
        path, _ = QFileDialog.getSaveFileName(self.window, "Export Image", name, "PNG image (*.png);;JPEG image "
                                              "(*.jpg *.jpeg)")  # fmt: skip
        if not path:
            return
        self.export_image(ImageRequest(Path(path), dialog.size(), dialog.transparent.isChecked(),
                                       dialog.overlays.isChecked()))  # fmt: skip

    def export_image(self, request: ImageRequest) -> None:
        """Write a still of the view as it is now (the camera, layers, pins and overlays)."""
        from citytwin.model.overlays import OverlaySettings
        from citytwin.render.stills import export_still

        scene = self.window.scene
        camera = self._camera()
        overlays = scene.overlays if request.overlays else OverlaySettings()
        reference = self._window_size()[1]
        base = self._base_dir()

        def job(thread: JobThread) -> Path:
            return export_still(scene, request.path, request.size, camera=camera, transparent=request.transparent,
                                overlays=overlays, base_dir=base, reference_height=reference,
                                decorate=request.decorate, look=request.look)  # fmt: skip

        self._start(job, f"Rendering {request.path.name} ({request.size[0]} × {request.size[1]})…", frames=0)

    # ------------------------------------------------------------------ videos
    def ask_video(self, tour: Any = None) -> None:
        """File → Export Video… (or a tour panel's button): options, the file name, then the export."""
        if self.busy:
            return
        tours = list(self.window.scene.tours)
        if not tours:
            self._status("There is no tour to export: make one in the Tours panel first.")
            return
        dialog = ExportVideoDialog(tours, tour, self.window)
        if not self.auto_accept and dialog.exec() != QDialog.DialogCode.Accepted:
            return
        tour_id = dialog.tour_combo.currentData()
        chosen = self.window.scene.tours.by_id(tour_id)
        name = f"{chosen.name if chosen is not None else 'tour'}.mp4"
        path, _ = QFileDialog.getSaveFileName(self.window, "Export Video", name,
                                              "MP4 video (*.mp4);;GIF animation (*.gif)")  # fmt: skip
        if not path:
            return
        self.export_video(VideoRequest(Path(path), tour_id, dialog.size(), int(dialog.fps_combo.currentData()),
                                       int(dialog.quality.value()), dialog.overlays.isChecked()))  # fmt: skip

    def export_video(self, request: VideoRequest) -> None:
        """Render a tour to a video file, with progress and Cancel."""
        from citytwin.model.overlays import OverlaySettings
        from citytwin.render.tour_export import TourVideo
        from citytwin.render.video import VideoSettings

        scene = self.window.scene
        tour = scene.tours.by_id(request.tour_id)
        if tour is None:
            self._fail("That tour is no longer in the project.")
            return
        settings = VideoSettings(request.size, request.fps, request.quality)
        overlays = scene.overlays if request.overlays else OverlaySettings()
        base = self._base_dir()
        frames = len(tour.frame_times(request.fps))

        def job(thread: JobThread) -> Path:
            with TourVideo(scene, tour, request.path, settings, overlays=overlays, base=base) as video:
                while video.step():
                    thread.progressed.emit(video.done, video.n_frames)
                    if thread.cancel_event.is_set():
                        raise ExportCancelled()
                return request.path

        self._start(job, f"Rendering {request.path.name}: {frames} frames at {request.size[0]} × "
                         f"{request.size[1]}…", frames=frames)  # fmt: skip

    # ------------------------------------------------------------------ running
    def _start(self, job: Any, text: str, frames: int) -> None:
        thread = _ExportThread(job, self)
        self.thread = thread
        progress = QProgressDialog(text, "Cancel" if frames else "", 0, max(frames, 0), self.window)
        progress.setWindowTitle("Export")
        progress.setWindowModality(Qt.WindowModality.WindowModal)  # the scene stays as it is meanwhile
        progress.setMinimumDuration(300)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        if not frames:
            progress.setCancelButton(None)
            progress.setRange(0, 0)  # busy: a still cannot be cut short
        progress.canceled.connect(thread.cancel_event.set)
        thread.progressed.connect(lambda done, total: progress.setValue(done))
        thread.done.connect(self._on_done)
        thread.failed.connect(self._on_failed)
        self.progress = progress
        thread.start()

    def _finish(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        if self.thread is not None:
            self.thread.wait()
            self.thread.deleteLater()
            self.thread = None

    def _on_done(self, result: Any) -> None:
        path = str(result)
        seconds = self.thread.seconds if self.thread is not None else 0.0
        self._finish()
        self._status(f"Exported {Path(path).name} in {seconds:.1f} s.")
        self.finished.emit(path, "")

    def _on_failed(self, sentence: str) -> None:
        self._finish()
        if sentence:
            self._fail(sentence)
        else:
            self._status("The export was cancelled; nothing was written.")
        self.finished.emit("", sentence)

    def cancel(self) -> None:
        """Stop a running video after the frame it is on; nothing is left under its name."""
        if self.thread is not None:
            self.thread.cancel_event.set()

    def wait(self, timeout_ms: int = 120_000) -> None:
        """Block until a running export has finished (tests, closing the window)."""
        if self.thread is not None:
            self.thread.wait(timeout_ms)

    def _has_something(self) -> bool:
        if self.window.scene.bounds() is None:
            self._status("There is nothing to export yet: open a file first.")
            return False
        return True

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def _fail(self, sentence: str) -> None:
        presenting = getattr(getattr(self.window, "presenter", None), "active", False)
        error = getattr(self.window, "_error", None)
        if callable(error) and not presenting:  # presenter mode never shows a dialog
            error(sentence)
        else:
            self._status(sentence)


def install_export(window: Any) -> Exporter:
    """File → Export Image… (Ctrl+Shift+E), Export Video… (Ctrl+Shift+V) and Overlays…; sets ``window.exporter``
    and ``window.export_video(tour)`` for the tours panel."""
    from citytwin.ui.bookmarks_panel import _menu, _when_closed

    exporter = Exporter(window)
    window.exporter = exporter
    window.export_video = exporter.ask_video
    image = QAction("Export &Image…", window)
    image.setShortcut(QKeySequence("Ctrl+Shift+E"))
    image.setStatusTip("Save the view as a PNG or JPEG, up to 8K, with the project's overlays")
    image.triggered.connect(lambda *_: exporter.ask_image())
    video = QAction("Export &Video…", window)
    video.setShortcut(QKeySequence("Ctrl+Shift+V"))
    video.setStatusTip("Render a tour to an MP4 video or a GIF")
    video.triggered.connect(lambda *_: exporter.ask_video())
    overlays = QAction("&Overlays…", window)
    overlays.setStatusTip("Title, logo, legend, north arrow, scale bar and attribution drawn over stills and videos")

    def edit_overlays() -> None:
        from citytwin.ui.overlays_dialog import edit_overlays

        edit_overlays(window)

    overlays.triggered.connect(lambda *_: edit_overlays())
    menu = _menu(window, "File")
    anchor = next((a for a in menu.actions() if a.text().replace("&", "").startswith("Quit")), None)
    if anchor is not None:
        menu.insertSeparator(anchor)
        menu.insertAction(anchor, image)
        menu.insertAction(anchor, video)
        menu.insertAction(anchor, overlays)
        menu.insertSeparator(anchor)
    else:
        menu.addAction(image)
        menu.addAction(video)
        menu.addAction(overlays)
    window.export_image_action = image
    window.export_video_action = video
    window.overlays_action = overlays
    show = QAction("Show &Overlays", window)
    show.setCheckable(True)
    show.setStatusTip("Draw the project's title, logo, legend, north arrow and scale bar over the view, as exports do")

    def toggled(on: bool) -> None:
        problem = window.viewport.set_overlays_shown(on, exporter._base_dir())
        if problem:
            exporter._status(problem)

    show.toggled.connect(toggled)
    _menu(window, "View").addAction(show)
    window.show_overlays_action = show
    _when_closed(window, exporter.wait)
    return exporter


__all__ = ["ExportImageDialog", "ExportVideoDialog", "Exporter", "ImageRequest", "VideoRequest", "install_export"]
