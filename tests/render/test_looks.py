"""Looks on real pixels: shadows away from the sun, SSAO in a courtyard, every preset, draft vs final passes."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest
from PIL import Image

from citytwin.cli import main
from citytwin.model.citymodel import CityModel
from citytwin.model.crs import CRS
from citytwin.model.looks import LOOKS, SSAO, Shadows
from citytwin.model.sun import parse_local_time, scene_lonlat, solar_position
from citytwin.render.looks import active_passes, look_colours, scene_sun
from citytwin.render.offscreen import OffscreenScene
from citytwin.render.scene_view import scene_from_models
from citytwin.render.visuals import CityModelVisual
from citytwin.sample import sample_path
from tests.render.conftest import X0, Y0, Z0, make_boxes

RD_NEW = CRS(name="EPSG:28992", epsg=28992)


def _with_crs(model: CityModel) -> CityModel:
    model.crs = RD_NEW
    return model


def _wide_top(off: OffscreenScene, half: float) -> None:
    corners = np.array([[x, y, 0.0] for x in (-half, half) for y in (-half, half)])
    off.set_view("top", points=corners)


def _grey(img: np.ndarray, px: np.ndarray) -> float:
    c, r = np.floor(px).astype(int)
    return float(img[r - 1 : r + 2, c - 1 : c + 2].astype(float).mean())


def test_shadow_falls_on_the_side_away_from_the_sun():
    scene = scene_from_models([_with_crs(make_boxes([("tower", X0, Y0, 20.0, 20.0, 30.0, {})]))])
    place = scene_lonlat(scene)
    assert place is not None and 4.0 < place[0] < 4.6 and 51.8 < place[1] < 52.3  # Den Haag
    scene.sun = parse_local_time("2026-03-21T15:00", *place)
    az, el = scene_sun(scene)
    assert (az, el) == pytest.approx(solar_position(scene.sun, *place))
    assert 200 < az < 250 and 20 < el < 40  # a spring afternoon: south-west, low
    towards = np.array([np.sin(np.radians(az)), np.cos(np.radians(az)), 0.0])
    with OffscreenScene((480, 300), scene=scene) as off:  # not square: VTK bakes shadows at the view aspect
        _wide_top(off, 70.0)
        img = off.render()
        near, far = off.to_pixels(np.array([[X0, Y0, Z0]]) + np.array([towards, -towards]) * 22.0)
        lit, shaded = _grey(img, near), _grey(img, far)
        assert "vtkShadowMapPass" in active_passes(off.plotter)
        assert shaded < lit - 25, (lit, shaded)
        # the same frame in draft quality has no shadow: both sides alike
        off.look_rig.set_quality("draft", off.visuals)
        draft = off.render()
        assert abs(_grey(draft, near) - _grey(draft, far)) < 6


def _court_model() -> CityModel:
    """Four 15 m blocks, 8 m thick, around a 16 m square court."""
    c, w, h = 8.0, 8.0, 15.0
    span = 2 * (c + w)
    blocks = [
        ("north", X0, Y0 + c + w / 2, span, w, h, {}),
        ("south", X0, Y0 - c - w / 2, span, w, h, {}),
        ("east", X0 + c + w / 2, Y0, w, 2 * c, h, {}),
        ("west", X0 - c - w / 2, Y0, w, 2 * c, h, {}),
    ]
    return _with_crs(make_boxes(blocks))


def test_ssao_darkens_the_inner_courtyard():
    soft = LOOKS["Soft"]
    means = {}
    for label, look in (("ssao", soft), ("plain", msgspec.structs.replace(soft, ssao=SSAO(on=False)))):
        with OffscreenScene((360, 360), scene=scene_from_models([_court_model()]), look=look) as off:
            off.set_view("oblique-ne")
            img = off.render()
            # the court as seen through its opening at roof height: its floor and inner walls
            opening = np.array([[X0 + dx, Y0 + dy, Z0 + 15.0] for dx in (-8.0, 8.0) for dy in (-8.0, 8.0)])
            px = off.to_pixels(opening)
            lo, hi = px.min(axis=0).astype(int) + 4, px.max(axis=0).astype(int) - 4
            means[label] = float(img[lo[1] : hi[1], lo[0] : hi[0]].astype(float).mean())
            assert ("vtkSSAOPass" in active_passes(off.plotter)) == (label == "ssao")
    assert means["ssao"] < means["plain"] - 6, means


@pytest.mark.parametrize("name", list(LOOKS))
def test_every_preset_renders_the_sample_district(name, tmp_path):
    from citytwin.io.registry import read

    scene = scene_from_models([read(sample_path())])
    with OffscreenScene((320, 180), scene=scene, look=LOOKS[name]) as off:
        off.set_view("oblique-ne")
        img = off.render()
    assert img.std() > 12 and len(np.unique(img.reshape(-1, 3), axis=0)) > 40, name


def test_draft_and_final_change_the_passes_and_edges():
    scene = scene_from_models([_with_crs(make_boxes())])
    with OffscreenScene((200, 120), scene=scene, look=LOOKS["White model"], quality="draft") as off:
        rig = off.look_rig
        assert active_passes(off.plotter) == [] and rig.quality == "draft"
        assert not any(a.GetVisibility() for _, _, a in rig._edges.values())
        rig.set_quality("final", off.visuals)
        passes = active_passes(off.plotter)
        assert {"vtkSSAOPass", "vtkCameraPass"} <= set(passes) and "vtkShadowMapPass" not in passes
        assert rig._edges and all(a.GetVisibility() for _, _, a in rig._edges.values())
        off.render()
        rig.set_quality("draft", off.visuals)
        assert active_passes(off.plotter) == []
        # Daylight: the sun's shadow maps in final quality; SSAO and shadows together would not draw (VTK 9.7)
        off.apply_look(LOOKS["Daylight"], "final")
        assert {"vtkShadowMapPass", "vtkShadowMapBakerPass"} <= set(active_passes(off.plotter))
        both = msgspec.structs.replace(LOOKS["Daylight"], ssao=LOOKS["Soft"].ssao)
        off.apply_look(both, "final")
        assert "vtkSSAOPass" in active_passes(off.plotter) and "vtkShadowMapPass" not in active_passes(off.plotter)
        # a look without shadows or SSAO has no passes even in final quality
        off.apply_look(msgspec.structs.replace(LOOKS["Blueprint"], shadows=Shadows(on=False)), "final")
        assert active_passes(off.plotter) == []


def test_building_colours_vary_a_little_and_monochrome_is_one_colour():
    scene = scene_from_models([_with_crs(make_boxes())])
    with OffscreenScene((200, 120), scene=scene, look=LOOKS["Daylight"]) as off:
        vis = next(v for v in off.visuals if isinstance(v, CityModelVisual))
        original = off.look_rig._colours[id(vis)][1]
        varied = look_colours(vis, original, LOOKS["Daylight"])
        assert np.array_equal(varied, look_colours(vis, original, LOOKS["Daylight"]))  # deterministic
        roots = vis.arrays.cell["root"]
        walls = vis.arrays.cell["semantic"] == 2  # WALL
        first, second = varied[walls & (roots == roots.min())], varied[walls & (roots == roots.max())]
        assert 0 < np.abs(first[0, :3].astype(int) - second[0, :3]).max() <= 24  # different, but subtly
        assert np.array_equal(vis.arrays.cell["colors"], varied)  # what the layer draws
        white = look_colours(vis, original, LOOKS["White model"])
        assert len(np.unique(white[:, :3], axis=0)) == 1
        off.apply_look(LOOKS["White model"], "draft")
        assert len(np.unique(vis.arrays.cell["colors"][:, :3], axis=0)) == 1
        off.look_rig.remove()
        assert np.array_equal(vis.arrays.cell["colors"], original)


def test_snapshot_with_a_look_and_a_sun(tmp_path, capsys):
    out = tmp_path / "white.png"
    argv = ["snapshot", str(sample_path()), "-o", str(out), "--size", "320x180",
            "--look", "White model", "--sun", "2026-03-21T15:00"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    img = np.asarray(Image.open(out))
    assert img.shape[:2] == (180, 320) and img.std() > 10
    for bad, word in ((["--look", "Sepia"], "Daylight"), (["--sun", "2026-02-30T15:00"], "2026-02-30")):
        capsys.readouterr()
        assert main(["snapshot", str(sample_path()), "-o", str(tmp_path / "x.png"), *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert word in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert not (tmp_path / "x.png").exists()


def test_depth_fog_fades_the_far_side_into_its_colour():
    from citytwin.model.looks import Fog

    magenta = np.array([255, 0, 255])
    look = msgspec.structs.replace(LOOKS["Daylight"], fog=Fog(on=True, start=0.0, end=1.0, colour=(1.0, 0.0, 1.0)))
    with OffscreenScene((320, 180), scene=scene_from_models([_with_crs(make_boxes())]), look=look) as off:
        off.set_view("oblique-ne")
        img = off.render().astype(int)
        near = off.to_pixels(np.array([[X0 + 30.0, Y0, Z0 + 30.0]]))[0]
    near_px, far_px = img[int(near[1]), int(near[0])], img[3, 160]  # the top of the image: far ground
    far_d, near_d = np.abs(far_px - magenta).sum(), np.abs(near_px - magenta).sum()
    assert far_d < 150 and near_d > far_d + 150, (near_px, far_px)  # the far ground is fog, the near roof much less


def test_white_model_is_white_whatever_the_layer_colour_mode(tmp_path):
    """DenHaag opens in its materials (dark red roofs); a white model draws them in its one colour."""
    import citytwin.io
    from citytwin.render.offscreen import render_scene
    from tests.conftest import shared_file

    scene = scene_from_models([citytwin.io.read(shared_file("citygml/DenHaag_01.xml"))])
    assert scene.layers[0].colour_mode == "texture"
    img = render_scene(scene, (480, 270), view="top").astype(int)
    reddish = (img[..., 0] > img[..., 2] + 40).mean()
    scene.look = LOOKS["White model"]
    white = render_scene(scene, (480, 270), view="top").astype(int)
    assert reddish > 0.02 and (white[..., 0] > white[..., 2] + 40).mean() < 0.002
    scene.look = LOOKS["Daylight"]
    again = render_scene(scene, (480, 270), view="top").astype(int)
    assert (again[..., 0] > again[..., 2] + 40).mean() > 0.5 * reddish  # back to its materials


def test_sky_image_behind_the_scene_and_the_gradient_without_it(tmp_path):
    from citytwin.model.looks import Sky

    sky = tmp_path / "sky.png"
    Image.fromarray(np.full((64, 128, 3), (200, 40, 200), np.uint8)).save(sky)
    scene = scene_from_models([_with_crs(make_boxes())])
    for image, magenta in ((str(sky), True), (str(tmp_path / "gone.png"), False)):
        look = msgspec.structs.replace(LOOKS["Daylight"], sky=Sky(image=image))
        with OffscreenScene((320, 180), scene=scene, look=look) as off:
            off.set_view("north")  # level: the upper half is sky
            img = off.render().astype(int)
        corner = img[2, 2]  # sky, top left
        assert (np.abs(corner - [200, 40, 200]).max() <= 12) == magenta, corner
        if not magenta:  # a missing image keeps the look's gradient, no error
            top = np.array(look.sky.top) * 255
            assert np.abs(corner - top).max() <= 20, (corner, top)


def test_textured_surfaces_drawn_physically_based_in_daylight(tmp_path):
    from vtkmodules.vtkRenderingCore import VTK_FLAT, VTK_PBR

    from tests.render.test_textures import textured_boxes

    model = _with_crs(textured_boxes(tmp_path))
    scene = scene_from_models([model])
    scene.layers[0].colour_mode = "texture"
    _, cx, cy, w, _, h, _ = make_boxes.__defaults__[0][0]
    for name, interpolation in (("Daylight", VTK_PBR), ("White model", VTK_FLAT)):
        with OffscreenScene((480, 270), scene=scene, look=LOOKS[name]) as off:
            off.set_view("top")
            vis = off.visuals[0]
            west = off.to_pixels(np.array([[cx - 0.3 * w, cy, Z0 + h]]))[0]
            img = off.render().astype(int)
            actors = [a for a in vis.texture_actors if a.GetVisibility()]
            if name == "Daylight":
                assert actors and all(a.GetProperty().GetInterpolation() == interpolation for a in actors)
                px = img[int(west[1]), int(west[0])]
                assert px[0] > px[2] + 60, px  # the red half of the texture, lit
            else:  # the white model hides the texture under its one colour
                px = img[int(west[1]), int(west[0])]
                assert abs(px[0] - px[2]) < 25, px
