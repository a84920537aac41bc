"""File → Export Image / Export Video from the window: what it shows, on a worker thread, cancellable."""

from __future__ import annotations

import imageio
import numpy as np
import pytest
from PIL import Image

from citytwin.model.camera import CameraState
from citytwin.model.tours import Caption, Keyframe, Tour
from citytwin.sample import sample_path
from citytwin.ui.export_dialogs import ImageRequest, VideoRequest
from tests.ui.conftest import wait_loaded


@pytest.fixture
def window(qtbot, make_window):
    w = make_window([str(sample_path())], size=(900, 600))
    wait_loaded(qtbot, w)
    w.viewport.finish_animation()
    w.viewport.warm_up_now()
    return w


def _wait(qtbot, exporter) -> tuple[str, str]:
    with qtbot.waitSignal(exporter.finished, timeout=120_000) as blocker:
        pass
    return tuple(blocker.args)


def _tour(scene) -> Tour:
    b = np.asarray(scene.bounds(), float)
    c = (b[:3] + b[3:]) / 2
    cams = [CameraState(tuple(c + [500 * np.sin(a), 500 * np.cos(a), 300]), tuple(c)) for a in (0.0, 0.8)]
    return Tour(name="Short", keyframes=[Keyframe(time=0.0, camera=cams[0], caption=Caption(title="Hello")),
                                         Keyframe(time=1.0, camera=cams[1])])  # fmt: skip


def test_export_image_is_what_the_window_shows(qtbot, window, tmp_path):
    exporter = window.exporter
    shown = window.viewport.grab_image()
    h, w = shown.shape[:2]
    out = tmp_path / "view.png"
    exporter.export_image(ImageRequest(out, (w, h), overlays=False))
    assert exporter.busy  # on a worker thread: the window goes on meanwhile
    path, error = _wait(qtbot, exporter)
    assert (path, error) == (str(out), "")
    img = np.asarray(Image.open(out).convert("RGB")).astype(float)
    assert img.shape == shown.shape
    assert np.abs(img - shown).mean() < 2.0
    assert "Exported view.png" in window.statusBar().currentMessage()


def test_export_image_through_its_dialog_at_4k(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    out = tmp_path / "big.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    exporter = window.exporter
    exporter.auto_accept = True
    from citytwin.ui import export_dialogs

    real = export_dialogs.ExportImageDialog

    class FourK(real):
        def size(self):
            return (3840, 2160)

    monkeypatch.setattr(export_dialogs, "ExportImageDialog", FourK)
    window.export_image_action.trigger()
    assert _wait(qtbot, exporter) == (str(out), "")
    assert Image.open(out).size == (3840, 2160)


def test_export_video_with_progress_then_cancel(qtbot, window, tmp_path):
    scene = window.scene
    tour = _tour(scene)
    scene.tours.append(tour)
    exporter = window.exporter
    out = tmp_path / "tour.mp4"
    exporter.export_video(VideoRequest(out, tour.id, (160, 120), fps=10))
    assert _wait(qtbot, exporter) == (str(out), "")
    reader = imageio.get_reader(out, format="FFMPEG")
    assert reader.get_meta_data()["size"] == (160, 120) and sum(1 for _ in reader) == 11
    reader.close()
    # cancel: nothing is left under the name
    out2 = tmp_path / "cancelled.mp4"
    exporter.export_video(VideoRequest(out2, tour.id, (640, 360), fps=60))
    exporter.progress.canceled.emit()  # the Cancel button: the worker stops after the frame it is on
    assert _wait(qtbot, exporter) == ("", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tour.mp4"]
    assert "cancelled" in window.statusBar().currentMessage()


def test_a_failed_export_is_one_sentence(qtbot, window, tmp_path, monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(window, "_error", said.append)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    window.exporter.export_image(ImageRequest(tmp_path / "notes.txt" / "view.png", (320, 200)))
    path, error = _wait(qtbot, window.exporter)
    assert path == "" and said == [error] and error.endswith(".") and "\n" not in error


def test_export_video_without_a_tour_says_so(qtbot, window):
    window.export_video_action.trigger()
    assert "no tour to export" in window.statusBar().currentMessage()


def test_show_overlays_draws_the_project_title_over_the_view(qtbot, window):
    from citytwin.model.overlays import OverlaySettings, TitleOverlay

    before = window.viewport.grab_image().astype(int)
    window.scene.set(window.scene, "overlays", OverlaySettings(title=TitleOverlay(text="Stadsdeel Noord")))
    window.show_overlays_action.setChecked(True)
    after = window.viewport.grab_image().astype(int)
    h, w = before.shape[:2]
    changed = np.abs(after - before).max(axis=2) > 30
    assert changed[: h // 4, : w // 2].mean() > 0.01 and changed[h // 2 :].mean() < 0.001
    window.show_overlays_action.setChecked(False)
    assert np.abs(window.viewport.grab_image().astype(int) - before).mean() < 0.5


def test_a_playing_tour_shows_its_caption_in_the_view(qtbot, window):
    tour = _tour(window.scene)
    vp = window.viewport
    vp.show_tour_frame(tour.sample(0.5))  # "Hello" from keyframe 0 until keyframe 1
    with_caption = vp.grab_image().astype(int)
    vp.show_caption(None)
    without = vp.grab_image().astype(int)
    h = with_caption.shape[0]
    assert (np.abs(with_caption - without).max(axis=2) > 30)[h * 3 // 4 :].mean() > 0.005
    vp.show_tour_frame(None)
