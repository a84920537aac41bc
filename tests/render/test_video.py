"""Video writing: MP4/GIF/PNG frames come out complete, or nothing comes out under the target name."""

from __future__ import annotations

import errno

import imageio
import imageio.v3 as iio
import numpy as np
import pytest

from citytwin.errors import ExportCancelled, ExportError
from citytwin.render import video
from citytwin.render.video import VideoExport, VideoSettings, export_video

W, H = 320, 240


def frame(k: int) -> np.ndarray:
    """A frame that says its own number: a red level and a moving green edge."""
    img = np.zeros((H, W, 3), np.uint8)
    img[:, :, 0] = (k * 5) % 256
    img[:, (k * 7) % W :, 1] = 200
    return img


def read_mp4(path) -> tuple[list[np.ndarray], dict]:
    reader = imageio.get_reader(path, format="FFMPEG")
    meta = reader.get_meta_data()
    frames = [np.asarray(f) for f in reader]
    reader.close()
    return frames, meta


def test_mp4_has_every_frame_at_the_right_size_and_rate(tmp_path):
    out = tmp_path / "a.mp4"
    report = export_video(frame, 45, out, VideoSettings((W, H), fps=30))
    frames, meta = read_mp4(out)
    assert len(frames) == 45 and report.frames == 45
    assert meta["size"] == (W, H) and meta["fps"] == 30 and meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    for k in (0, 22, 44):  # H.264 is lossy: close, not equal
        assert np.abs(frames[k].astype(int) - frame(k)).mean() < 3
    assert np.abs(frames[10].astype(int) - frame(30)).mean() > 20  # and each is its own frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]  # no temporary left


def test_gif_and_png_sequence(tmp_path):
    export_video(frame, 6, tmp_path / "a.gif", VideoSettings((W, H), fps=25))
    gif = iio.imread(tmp_path / "a.gif", index=None)
    assert gif.shape[:3] == (6, H, W)
    export_video(frame, 4, tmp_path / "frames", VideoSettings((W, H), fps=25))
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == [f"frame_{k:05d}.png" for k in range(4)]
    np.testing.assert_array_equal(iio.imread(tmp_path / "frames" / "frame_00003.png"), frame(3))


def test_cancel_leaves_nothing(tmp_path):
    out = tmp_path / "a.mp4"
    with pytest.raises(ExportCancelled):
        export_video(frame, 100, out, VideoSettings((W, H)), progress=lambda done, total: done < 10)
    assert list(tmp_path.iterdir()) == []
    job = VideoExport(frame, 50, out, VideoSettings((W, H)))
    for _ in range(5):
        assert job.step()
    job.cancel()
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_survives_a_failed_export(tmp_path, monkeypatch):
    out = tmp_path / "a.mp4"
    out.write_bytes(b"the user's earlier video")

    def full(self, frame):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(video._Mp4Writer, "write", full)
    with pytest.raises(ExportError, match="disk is full"):
        export_video(frame, 20, out, VideoSettings((W, H)))
    assert out.read_bytes() == b"the user's earlier video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]


@pytest.mark.parametrize(
    ("size", "fps", "name", "message"),
    [
        ((321, 240), 30, "a.mp4", "even width and height"),
        ((0, 240), 30, "a.mp4", "16 to 7680"),
        ((20000, 240), 30, "a.mp4", "16 to 7680"),
        ((W, H), 0, "a.mp4", "frames per second"),
        ((W, H), 30, "a.avi", ".mp4, .gif"),
        ((W, H), 30, "missing/a.mp4", "does not exist"),
    ],
)
def test_bad_settings_are_one_sentence(tmp_path, size, fps, name, message):
    with pytest.raises(ExportError, match=message) as info:
        export_video(frame, 3, tmp_path / name, VideoSettings(size, fps=fps))
    text = str(info.value)
    assert text.endswith(".") and "\n" not in text
    assert not any(tmp_path.iterdir())


def test_a_frame_of_the_wrong_size_stops_the_export(tmp_path):
    with pytest.raises(ExportError, match="not 320×240"):
        export_video(lambda k: np.zeros((10, 10, 3), np.uint8), 3, tmp_path / "a.mp4", VideoSettings((W, H)))
    assert not any(tmp_path.iterdir())


def test_a_video_gets_the_usual_permissions_and_stale_parts_go(tmp_path):
    import os
    import time

    stale = tmp_path / ".a.x1y2z3.part.mp4"
    stale.write_bytes(b"left by a killed export")
    old = time.time() - 2 * video.STALE_PART_SECONDS
    os.utime(stale, (old, old))
    fresh = tmp_path / ".a.q9w8e7.part.mp4"  # maybe another export running now: kept
    fresh.write_bytes(b"in progress")
    export_video(frame, 3, tmp_path / "a.mp4", VideoSettings((W, H)))
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.mp4").stat().st_mode & 0o777 == 0o666 & ~mask
    assert not stale.exists() and fresh.exists()
