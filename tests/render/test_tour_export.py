"""A tour of the sample district exported to MP4 and read back: frames, size, rate and content."""

from __future__ import annotations

import imageio
import msgspec
import numpy as np
import pytest

import citytwin.io
from citytwin.model.camera import CameraState
from citytwin.model.tours import AttributeFilter, Keyframe, Tour
from citytwin.render.offscreen import render_scene
from citytwin.render.scene_view import scene_from_models
from citytwin.render.tour_export import TourVideo, export_tour
from citytwin.render.video import VideoSettings
from citytwin.sample import sample_path

W, H = 320, 240


@pytest.fixture(scope="module")
def district():
    return citytwin.io.read(sample_path())


def _scene(district):
    return scene_from_models([district])


def _tour(scene, seconds: float = 3.0, **first) -> Tour:
    b = np.asarray(scene.bounds(), float)
    c = (b[:3] + b[3:]) / 2
    span = float(np.hypot(b[3] - b[0], b[4] - b[1]))
    cams = [
        CameraState(tuple(c + [span * np.sin(a), span * np.cos(a), span * 0.5]), tuple(c))
        for a in np.radians([0.0, 60.0, 120.0, 150.0])
    ]
    times = np.linspace(0, seconds, len(cams))
    keyframes = [Keyframe(time=float(t), camera=cam) for t, cam in zip(times, cams, strict=True)]
    keyframes[0] = Keyframe(time=0.0, camera=cams[0], **first)
    return Tour(name="round", keyframes=keyframes)


def _read(path) -> tuple[list[np.ndarray], dict]:
    reader = imageio.get_reader(path, format="FFMPEG")
    meta = reader.get_meta_data()
    frames = [np.asarray(f) for f in reader]
    reader.close()
    return frames, meta


def test_three_second_tour_to_mp4(district, tmp_path):
    scene = _scene(district)
    tour = _tour(scene)
    out = tmp_path / "tour.mp4"
    report = export_tour(scene, tour, out, VideoSettings((W, H), fps=24))
    frames, meta = _read(out)
    assert len(frames) == report.frames == 3 * 24 + 1
    assert meta["size"] == (W, H) and meta["fps"] == 24
    first = render_scene(scene, (W, H), camera=tour.keyframes[0].camera)
    last = render_scene(scene, (W, H), camera=tour.keyframes[-1].camera)
    assert np.abs(frames[0].astype(float) - first).mean() < 4
    assert np.abs(frames[-1].astype(float) - last).mean() < 4
    assert np.abs(frames[0].astype(float) - last).mean() > 10  # the camera did move
    assert list(tmp_path.iterdir()) == [out]


def test_frames_are_deterministic_and_the_scene_is_left_alone(district, tmp_path):
    scene = _scene(district)
    layer = scene.layers[0]
    tour = _tour(scene, 1.0, layers={layer.name: 0.2})
    with TourVideo(scene, tour, tmp_path / "a.mp4", VideoSettings((W, H), fps=10)) as video:
        a = video.frame(3)
        b = video.frame(3)
        video.cancel()
    np.testing.assert_array_equal(a, b)
    assert layer.opacity == 1.0 and layer.visible  # the fade lives in the drawing, not the model
    assert not (tmp_path / "a.mp4").exists()


def test_city_growth_filter_hides_newer_buildings(district, tmp_path):
    scene = _scene(district)
    years = [a.get("yearOfConstruction") for a in district.objects.attributes]
    known = np.array([float(y) for y in years if y is not None])
    assert len(known) > 10, "the sample district has construction years"
    early = float(np.min(known)) - 1
    tour = _tour(scene, 1.0, filter=AttributeFilter(attribute="yearOfConstruction", max=early))
    with TourVideo(scene, tour, tmp_path / "a.mp4", VideoSettings((W, H), fps=10)) as video:
        grown = video.frame(0)
        vis = video._off.view.visual(scene.layers[0])
        hidden_then = len(vis.drawn_triangles)
        video.cancel()
    whole = render_scene(scene, (W, H), camera=tour.keyframes[0].camera)
    assert hidden_then < len(vis.arrays.triangles)
    assert np.abs(grown.astype(float) - whole).mean() > 2  # buildings missing at the start


def test_captions_and_logo_appear_in_the_frames_where_they_should(district, tmp_path):
    from PIL import Image

    from citytwin.model.overlays import LogoOverlay, OverlaySettings
    from citytwin.model.tours import Caption

    logo = tmp_path / "logo.png"
    Image.fromarray(np.full((40, 80, 3), (255, 0, 255), np.uint8)).save(logo)
    scene = _scene(district)
    scene.overlays = OverlaySettings(logo=LogoOverlay(path=str(logo), anchor="bottom-right", height=0.15))
    tour = _tour(scene, 3.0)
    keyframes = list(tour.keyframes)
    keyframes[1] = Keyframe(time=keyframes[1].time, camera=keyframes[1].camera,
                            caption=Caption(title="Binnenhof", subtitle="1250", duration=0.8))  # fmt: skip
    tour = Tour(name="captioned", keyframes=keyframes)
    out = tmp_path / "video" / "c.mp4"
    out.parent.mkdir()
    export_tour(scene, tour, out, VideoSettings((W, H), fps=10))
    frames, _ = _read(out)
    magenta = lambda img: (img[..., 0] > 200) & (img[..., 1] < 80) & (img[..., 2] > 200)  # noqa: E731
    for k in (0, 15, 30):
        corner = magenta(frames[k][int(H * 0.7) :, int(W * 0.6) :])
        assert corner.sum() > 0.5 * 0.15 * H * 0.15 * H * 2, f"no logo in frame {k}"
        assert magenta(frames[k][: int(H * 0.6)]).sum() == 0, "the logo is only in its corner"
    t1 = tour.keyframes[1].time  # the caption shows from t1 for 0.8 s
    plain = Tour(name="plain", keyframes=[msgspec.structs.replace(k, caption=None) for k in tour.keyframes])
    band = (slice(int(H * 0.7), H), slice(int(W * 0.2), int(W * 0.6)))  # captions sit at the bottom centre
    with TourVideo(scene, plain, tmp_path / "x.mp4", VideoSettings((W, H), fps=10)) as video:
        times = video.times
        change = [np.abs(frames[k][band].astype(float) - video.frame(k)[band]).mean() for k in range(len(times))]
        video.cancel()
    inside = [c for c, t in zip(change, times, strict=True) if t1 + 0.05 < t < t1 + 0.75]
    outside = [c for c, t in zip(change, times, strict=True) if t < t1 - 0.05 or t > t1 + 0.85]
    assert inside and outside
    assert min(inside) > 15 and max(outside) < 4, (inside, outside)
