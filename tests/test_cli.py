"""The ``citytwin`` command: info, snapshot, launching the window, and one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from citytwin.cli import main, parse_size
from citytwin.errors import CityTwinError
from citytwin.sample import sample_path
from tests.conftest import ROOT, shared_file

SAMPLE = str(sample_path())


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "citytwin", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def assert_one_sentence(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip() and "bad X server" not in line]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("citytwin")


# ---------------------------------------------------------------------- start-up cost
def test_importing_the_cli_loads_nothing_heavy():
    code = (
        "import sys, citytwin.cli;"
        "heavy=('vtk','vtkmodules','pyvista','pyvistaqt','PySide6','shiboken6','lxml');"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_version_and_help():
    assert run_cli("--version").stdout.strip() == "citytwin 0.1.0"
    result = run_cli("--help")
    assert result.returncode == 0
    assert "info" in result.stdout and "snapshot" in result.stdout


# ---------------------------------------------------------------------- info
def test_info_json_on_the_sample_district():
    result = run_cli("info", SAMPLE, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    for key in ("format", "version", "crs", "bounds", "objects", "lods", "polygons", "triangles", "warnings",
                "attributes"):  # fmt: skip
        assert key in info
    assert (info["format"], info["version"], info["crs"]) == ("CityJSON", "2.0", "EPSG:25832")
    assert info["lods"] == ["2"]
    assert len(info["bounds"]) == 6 and 389_000 < info["bounds"][0] < info["bounds"][3] < 391_000
    assert 250 <= info["objects"]["Building"] <= 400
    assert info["objects"]["TINRelief"] == 1 and info["objects"]["Road"] == 12
    assert info["triangles"] >= info["polygons"] > 10_000
    assert {"measuredHeight", "yearOfConstruction", "roofType"} <= set(info["attributes"])
    assert info["warnings"] == []


def test_info_text_in_process(capsys):
    assert main(["info", SAMPLE]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sample_district.city.json: CityJSON 2.0")
    assert "EPSG:25832" in out and "LoDs       2" in out
    assert "Building " in out and "TINRelief 1" in out


def test_info_denhaag_citygml():
    result = run_cli("info", str(shared_file("citygml/DenHaag_01.xml")), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert (info["format"], info["crs"]) == ("CityGML", "EPSG:28992")
    assert info["objects"]["Building"] == 844
    assert info["objects"]["BuildingPart"] == 1653
    assert info["objects"]["TINRelief"] == 1
    assert info["lods"] == ["2"]


def test_info_delft_cityjson(capsys):
    assert main(["info", "--json", str(shared_file("cityjson/delft.json"))]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["crs"] == "EPSG:7415"
    assert info["lods"] == ["1"]
    assert info["objects"] == {
        "Bridge": 3, "Building": 160, "GenericCityObject": 54, "LandUse": 81, "PlantCover": 126, "Road": 143,
        "WaterBody": 3,
    }  # fmt: skip


def test_info_load_options_reach_the_reader(capsys):
    assert main(["info", "--json", SAMPLE, "--types", "Building, Road"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["objects"]) == {"Building", "Road"}
    assert main(["info", "--json", SAMPLE, "--lod-min", "3"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["polygons"] == 0 and info["lods"] == [] and info["bounds"] is None


@pytest.mark.parametrize(
    "options",
    [["--lod-max", "7"], ["--lod-min", "2", "--lod-max", "1"], ["--lod-min", "abc"], ["--types", " , "]],
    ids=["lod-out-of-range", "lod-min-above-max", "lod-not-a-number", "empty-types"],
)
def test_info_bad_options(capsys, options):
    assert main(["info", SAMPLE, *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_sentence(captured.err)


# ---------------------------------------------------------------------- bad input
def _bad_files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "empty.gml").write_bytes(b"")
    (tmp_path / "blank.json").write_text("   \n\n")
    (tmp_path / "garbage.json").write_bytes(b'{"type": "CityJSON", "version": "2.0", "CityObjects": [1, 2')
    (tmp_path / "garbage.gml").write_bytes(b"hello, this is not XML\x00\x01 at all")
    (tmp_path / "page.xml").write_text('<?xml version="1.0"?><html><body>not a city</body></html>')
    (tmp_path / "junk.xyz").write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)))
    (tmp_path / "notcity.json").write_text('{"hello": "world"}')
    (tmp_path / "folder.json").mkdir()
    return {p.name: p for p in tmp_path.iterdir()} | {"missing.json": tmp_path / "missing.json"}


def test_bad_input_in_process(tmp_path, capsys):
    for name, path in _bad_files(tmp_path).items():
        for args in (["info", str(path)], ["info", "--json", str(path)]):
            assert main(args) == 2, name
            captured = capsys.readouterr()
            assert captured.out == "", name
            assert_one_sentence(captured.err)


@pytest.mark.parametrize("name", ["empty.gml", "garbage.json", "junk.xyz", "missing.json"])
def test_bad_input_subprocess(tmp_path, name):
    path = _bad_files(tmp_path)[name]
    result = run_cli("info", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert_one_sentence(result.stderr)


def test_usage_errors_are_one_line():
    for args in (["info"], ["snapshot", SAMPLE], ["info", SAMPLE, "--bogus"], ["--bogus"]):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert_one_sentence(result.stderr)


# ---------------------------------------------------------------------- snapshot
def test_parse_size():
    assert parse_size("1920x1080") == (1920, 1080)
    assert parse_size(" 64 X 48 ") == (64, 48)
    for bad in ("", "1920", "1920x", "x1080", "0x10", "10x0", "-5x10", "1.5x2", "20000x10", "axb"):
        with pytest.raises(CityTwinError):
            parse_size(bad)


def test_snapshot_renders_a_png(tmp_path):
    from PIL import Image

    out = tmp_path / "shots" / "district.png"
    result = run_cli("snapshot", SAMPLE, "-o", str(out), "--size", "160x100", "--view", "top")
    assert result.returncode == 0, result.stderr
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (100, 160, 3)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 10, "the image is blank"


@pytest.fixture
def fake_render(monkeypatch):
    """Replace the still renderer with a recorder (arguments only, no pixels)."""
    calls: list[dict] = []

    def export_still(scene, path, size=(1920, 1080), *, camera=None, view="oblique-ne", transparent=False,
                     overlays=None, base_dir=None, style=None, reference_height=1080):  # fmt: skip
        models = [layer.model for layer in scene.layers]  # the sources as read, not reprojected
        colour_by = next((layer.colour_attribute for layer in scene.layers if layer.colour_mode == "attribute"), None)
        calls.append({"scene": scene, "models": models, "out": Path(path), "size": size, "view": view,
                      "colour_by": colour_by, "camera": camera, "transparent": transparent,
                      "overlays": overlays})  # fmt: skip
        return Path(path)

    import citytwin.render.stills as stills

    monkeypatch.setattr(stills, "export_still", export_still)
    return calls


def test_snapshot_passes_its_options_to_the_renderer(tmp_path, fake_render, capsys):
    out = tmp_path / "a.png"
    argv = ["snapshot", SAMPLE, SAMPLE, "-o", str(out), "--size", "800x600", "--view", "oblique-nw",
            "--colour-by", "measuredHeight", "--types", "Building"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    (call,) = fake_render
    assert call["out"] == out and call["size"] == (800, 600)
    assert call["view"] == "oblique-nw" and call["colour_by"] == "measuredHeight"
    assert len(call["models"]) == 2
    assert all(m.objects.type_counts().keys() == {"Building"} for m in call["models"])
    assert main(["snapshot", SAMPLE, "-o", str(out), "--color-by", "roofType"]) == 0
    assert fake_render[-1]["colour_by"] == "roofType" and fake_render[-1]["size"] == (1920, 1080)


@pytest.mark.parametrize(
    "args",
    [
        ["--size", "big"], ["--size", "0x100"], ["--view", "sideways"], ["-o", "{tmp}/a.txt"], ["-o", "{tmp}"],
        ["{tmp}/missing.json"],
    ],
    ids=["size-text", "size-zero", "view", "suffix", "folder-output", "missing-input"],
)  # fmt: skip
def test_snapshot_bad_input(tmp_path, fake_render, capsys, args):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    argv = ["snapshot", SAMPLE, "-o", str(tmp_path / "ok.png")]
    if args[0] in ("-o", "--size", "--view"):
        argv += args
    else:
        argv.insert(1, args[0])
    assert main(argv) == 2
    assert fake_render == []
    assert_one_sentence(capsys.readouterr().err)


# ---------------------------------------------------------------------- the window
@pytest.fixture
def fake_gui(monkeypatch):
    calls: list[list[str]] = []
    module = types.ModuleType("citytwin.ui.app")

    def run(paths):
        calls.append(list(paths))
        return 0

    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "citytwin.ui.app", module)
    return calls


def test_no_arguments_opens_the_sample_district(fake_gui):
    assert main([]) == 0
    assert fake_gui == [[str(sample_path())]]
    assert sample_path().is_file()


def test_files_instead_of_a_command_open_the_window(fake_gui):
    delft = str(shared_file("cityjson/delft.json"))
    assert main([SAMPLE, delft]) == 0
    assert fake_gui == [[SAMPLE, delft]]


def test_window_with_a_missing_file_is_bad_input(fake_gui, tmp_path, capsys):
    assert main([SAMPLE, str(tmp_path / "nope.gml")]) == 2
    assert fake_gui == []
    assert_one_sentence(capsys.readouterr().err)


def test_window_unavailable_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "citytwin.ui.app", None)  # makes the import fail
    assert main([SAMPLE]) == 1
    assert_one_sentence(capsys.readouterr().err)


# ---------------------------------------------------------------------- georeferencing meshes
#: The 3dfier test area (RD New coordinates) moved by this to local coordinates.
LOCAL_SHIFT = (85000.0, 447000.0, 0.5)


@pytest.fixture
def local_mesh(tmp_path) -> Path:
    """A copy of 3dfier_testarea.obj in local coordinates (its material library left behind)."""
    src = shared_file("mesh/3dfier_testarea.obj")
    lines = []
    for line in src.read_text().splitlines():
        if line.startswith("v "):
            xyz = [float(v) - s for v, s in zip(line.split()[1:4], LOCAL_SHIFT, strict=True)]
            line = "v " + " ".join(f"{v:.3f}" for v in xyz)
        lines.append(line)
    path = tmp_path / "local.obj"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_info_offset_and_crs_place_a_local_mesh(local_mesh, capsys):
    path = local_mesh
    capsys.readouterr()
    assert main(["info", "--json", str(shared_file("mesh/3dfier_testarea.obj"))]) == 0
    original = json.loads(capsys.readouterr().out)
    assert main(["info", "--json", str(path)]) == 0
    local = json.loads(capsys.readouterr().out)
    assert local["bounds"][0] < 100 and local["crs"] is None
    offset = [str(v) for v in LOCAL_SHIFT]
    assert main(["info", "--json", str(path), "--crs", "EPSG:28992", "--offset", *offset]) == 0
    placed = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(placed["bounds"], original["bounds"], rtol=0, atol=1e-6)
    assert placed["crs"] == "EPSG:28992" and placed["triangles"] == original["triangles"]
    # Explicit options win over a sidecar file, item by item.
    (path.parent / "local.obj.crs.json").write_text(json.dumps({"crs": "EPSG:3946", "offset": [1, 2, 3]}))
    assert main(["info", "--json", str(path), "--offset", *offset]) == 0
    mixed = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(mixed["bounds"], original["bounds"], rtol=0, atol=1e-6)
    assert mixed["crs"] == "EPSG:3946"
    assert main(["info", "--json", str(path)]) == 0
    sidecar = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(sidecar["bounds"], np.array(local["bounds"]) + np.tile([1, 2, 3], 2), atol=1e-6)


def test_snapshot_places_a_local_mesh(local_mesh, tmp_path, fake_render, capsys):
    path = local_mesh
    assert main(["info", "--json", str(shared_file("mesh/3dfier_testarea.obj"))]) == 0
    original = json.loads(capsys.readouterr().out)
    argv = ["snapshot", str(path), "-o", str(tmp_path / "a.png"), "--crs", "28992", "--offset",
            *(str(v) for v in LOCAL_SHIFT)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    (model,) = fake_render[0]["models"]
    np.testing.assert_allclose(model.bounds, original["bounds"], rtol=0, atol=1e-6)
    assert model.crs.epsg == 28992


@pytest.mark.parametrize(
    "options",
    [["--crs", "not a crs at all"], ["--offset", "1", "2"], ["--offset", "1", "2", "nan"], ["--offset", "a", "b", "c"]],
    ids=["crs", "offset-two-numbers", "offset-nan", "offset-text"],
)
def test_georeferencing_bad_options(local_mesh, capsys, options):
    path = local_mesh
    capsys.readouterr()
    assert main(["info", str(path), *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_sentence(captured.err)


def test_present_refuses_what_it_cannot_play(tmp_path, capsys):
    import citytwin

    assert main(["present", SAMPLE]) == 2
    assert "not a .citytwin project" in capsys.readouterr().err
    empty = citytwin.Project()
    empty.add_source(SAMPLE)
    path = empty.save(tmp_path / "empty.citytwin")
    assert main(["present", str(path)]) == 2
    err = capsys.readouterr().err
    assert "no tour or bookmark" in err and err.count("\n") == 1


def test_snapshot_overlay_options_reach_the_still(tmp_path, fake_render, capsys):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (20, 10), (255, 0, 255)).save(logo)
    out = tmp_path / "a.png"
    argv = ["snapshot", SAMPLE, "-o", str(out), "--size", "4k", "--transparent", "--title", "Den Haag",
            "--subtitle", "plan 2030", "--logo", str(logo), "--logo-corner", "bottom-left", "--north-arrow",
            "--scale-bar", "--attribution", "© citytwin"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    (call,) = fake_render
    assert call["size"] == (3840, 2160) and call["transparent"]
    o = call["overlays"]
    assert (o.title.text, o.title.subtitle) == ("Den Haag", "plan 2030")
    assert o.logo.path == str(logo.resolve()) and o.logo.anchor == "bottom-left"
    assert o.north_arrow is not None and o.scale_bar is not None and o.attribution.text == "© citytwin"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--logo", "{tmp}/missing.png"], "does not exist"),
        (["--colour-by", "noSuchAttribute"], "noSuchAttribute"),
        (["--size", "9000x9000"], "too large"),
        (["--transparent", "-o", "{tmp}/a.jpg"], "transparent"),
    ],
)
def test_snapshot_bad_overlay_and_still_options_are_one_sentence(tmp_path, fake_render, capsys, extra, words):
    extra = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    argv = ["snapshot", SAMPLE, "-o", str(tmp_path / "a.png"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words.lower() in err.lower() and err.count("\n") == 1, err
    assert not fake_render


def test_render_orbit_writes_a_video(tmp_path, capsys):
    import imageio

    out = tmp_path / "orbit.mp4"
    argv = ["render", SAMPLE, "--orbit", "--duration", "1", "--size", "160x120", "--fps", "10", "-o", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    reader = imageio.get_reader(out, format="FFMPEG")
    assert reader.get_meta_data()["size"] == (160, 120)
    assert sum(1 for _ in reader) == 11
    reader.close()


def test_render_a_project_tour_and_bad_tours(tmp_path, capsys):
    import citytwin
    from citytwin.model.camera import CameraState
    from citytwin.model.tours import Keyframe, Tour

    c = (389_936.0, 5_800_308.0, 35.0)
    cams = [CameraState((c[0] + dx, c[1] - 400, 300), c) for dx in (-200, 0, 200)]
    project = citytwin.Project()
    project.add_source(SAMPLE)
    project.add_tour(Tour(name="Sweep", keyframes=[Keyframe(time=k * 0.5, camera=cam) for k, cam in
                                                   enumerate(cams)]))  # fmt: skip
    path = project.save(tmp_path / "p.citytwin")
    gif = tmp_path / "sweep.gif"
    assert main(["render", str(path), "--tour", "Sweep", "--size", "96x64", "--fps", "10", "-o", str(gif)]) == 0
    assert gif.is_file()
    capsys.readouterr()
    assert main(["render", str(path), "--tour", "Nope", "-o", str(tmp_path / "x.mp4")]) == 2
    assert "no tour 'Nope' (it has 'Sweep')" in capsys.readouterr().err
    bad = tmp_path / "one.toml"
    bad.write_text('name = "one"\n[[keyframe]]\ntime = 0\nposition = [0, 0, 10]\nfocal_point = [0, 1, 0]\n')
    assert main(["render", SAMPLE, "--tour-file", str(bad), "-o", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert "at least two" in err and err.count("\n") == 1
    assert not (tmp_path / "x.mp4").exists()
