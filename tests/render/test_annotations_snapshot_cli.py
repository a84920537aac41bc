"""``citytwin snapshot`` draws pins: given with ``--pin``, or those of a ``.citytwin`` project."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from citytwin.cli import main
from citytwin.io import read
from citytwin.model.annotations import make_pin
from citytwin.model.project import Project
from citytwin.sample import sample_path

BLUE = np.array([38, 77, 242])
SIZE = ["--size", "640x360"]


def _pixels(path, colour, tol: int = 14) -> int:
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int((np.abs(img - np.asarray(colour)).max(axis=2) <= tol).sum())


@pytest.fixture(scope="module")
def roofs():
    """Two roof points of the sample district, near its middle (source CRS)."""
    model = read(sample_path())
    mesh = model.mesh
    centre = (model.bounds[:3] + model.bounds[3:]) / 2
    tri = mesh.vertices[mesh.triangles].mean(axis=1)
    high = tri[:, 2] > np.percentile(tri[:, 2], 90)
    order = np.argsort(np.linalg.norm(tri[:, :2] - centre[:2], axis=1) + ~high * 1e6)
    return tri[order[0]], tri[order[200]]


def test_snapshot_with_pin_options_draws_labelled_pins(tmp_path, roofs):
    plain, pinned = tmp_path / "plain.png", tmp_path / "pinned.png"
    assert main(["snapshot", str(sample_path()), "-o", str(plain), *SIZE]) == 0
    (x, y, z), (x2, y2, z2) = roofs
    pins = ["--pin", f"{x},{y},{z},Tower", "--pin", f"{x2},{y2},{z2}"]
    assert main(["snapshot", str(sample_path()), "-o", str(pinned), *SIZE, *pins]) == 0
    red = np.round(np.array([0.86, 0.20, 0.16]) * 255)
    assert _pixels(pinned, red) > _pixels(plain, red) + 40, "no pin marker in the snapshot"
    # label backgrounds: near-white boxes the plain view does not have (its sky is blue, its walls cream)
    white = _pixels(pinned, [248, 248, 248], tol=10) - _pixels(plain, [248, 248, 248], tol=10)
    assert white > 100, "no label in the snapshot"


def test_snapshot_of_a_project_draws_its_visible_pins(tmp_path, roofs):
    project = Project()
    project.add_source(sample_path())
    project.pins.append(make_pin(roofs[0], "Shown", colour=tuple(float(c) for c in BLUE / 255)))
    project.pins.append(make_pin(roofs[1], "Hidden", colour=(0.1, 0.8, 0.2), visible=False))
    saved = project.save(tmp_path / "city.citytwin")
    out = tmp_path / "project.png"
    assert main(["snapshot", str(saved), "-o", str(out), *SIZE]) == 0
    assert _pixels(out, BLUE) > 40
    assert _pixels(out, [26, 204, 51], tol=8) == 0


def test_a_bad_pin_option_is_one_sentence(tmp_path, capsys):
    code = main(["snapshot", str(sample_path()), "-o", str(tmp_path / "x.png"), "--pin", "1,2"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "--pin" in err and "\n" not in err


def test_snapshot_of_a_project_from_a_bookmark(tmp_path, roofs, capsys):
    """Two bookmarks looking at the district from opposite sides give different images; a bad name is a sentence."""
    from citytwin.model.camera import CameraState

    centre = np.asarray(roofs[0], float)
    p = Project()
    p.add_source(sample_path())
    p.add_bookmark("close", CameraState(tuple(centre + [0.0, -60.0, 40.0]), tuple(centre)))
    p.add_bookmark("far", CameraState(tuple(centre + [0.0, -900.0, 600.0]), tuple(centre)))
    path = p.save(tmp_path / "views.citytwin")
    close, far = tmp_path / "close.png", tmp_path / "far.png"
    assert main(["snapshot", str(path), "--bookmark", "close", "-o", str(close), *SIZE]) == 0
    assert main(["snapshot", str(path), "--bookmark", "far", "-o", str(far), *SIZE]) == 0
    a = np.asarray(Image.open(close).convert("RGB")).astype(int)
    b = np.asarray(Image.open(far).convert("RGB")).astype(int)
    assert np.abs(a - b).mean() > 10  # a different view, not the preset
    capsys.readouterr()
    assert main(["snapshot", str(path), "--bookmark", "nope", "-o", str(far), *SIZE]) == 2
    assert "has no bookmark 'nope' (it has 'close', 'far')" in capsys.readouterr().err
    assert main(["snapshot", str(sample_path()), "--bookmark", "close", "-o", str(far), *SIZE]) == 2
