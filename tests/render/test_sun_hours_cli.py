"""``citytwin sun-hours``: an image of the day's sun hours, a CSV, a comparison; bad input is one sentence."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from citytwin.cli import main
from citytwin.sample import sample_path

pytestmark = pytest.mark.filterwarnings("ignore:Leap seconds:UserWarning")

FAST = ["--grid", "8", "--step", "60", "--size", "480x270"]


def test_sun_hours_image_and_csv(tmp_path, capsys):
    out, csv = tmp_path / "sun.png", tmp_path / "sun.csv"
    argv = ["sun-hours", str(sample_path()), "--date", "2026-06-21", "-o", str(out), "--csv", str(csv), *FAST]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "Sun hours on 21 Jun 2026" in captured.err and "open ground" in captured.err
    img = np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3).astype(int)
    assert img.std(axis=0).max() > 20
    assert (np.abs(img - [252, 255, 164]).max(axis=1) <= 30).sum() > 100  # inferno's top: long June days
    rows = csv.read_text().splitlines()
    hours = np.array([float(r.split(",")[6]) for r in rows[1:]])
    assert rows[0].startswith("x,y,z") and hours.max() > 15.0  # midsummer in Germany: over 16 h of day


def test_sun_hours_compared_without_a_layer(tmp_path, capsys):
    out = tmp_path / "diff.png"
    layer = sample_path().name
    argv = ["sun-hours", str(sample_path()), "--date", "2026-03-21", "-o", str(out), "--without", layer, *FAST]
    assert main(argv) == 0, capsys.readouterr().err
    assert "difference" in capsys.readouterr().err
    img = np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3).astype(int)
    assert (np.abs(img - [103, 0, 31]).max(axis=1) <= 40).sum() > 50  # RdBu's dark red: sun the district takes


def test_sun_hours_bad_input_is_one_sentence(tmp_path, capsys):
    flat = tmp_path / "flat.city.json"  # a valid CityJSON file without a reference system
    flat.write_text(json.dumps({
        "type": "CityJSON", "version": "2.0", "transform": {"scale": [1, 1, 1], "translate": [0, 0, 0]},
        "vertices": [[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]],
        "CityObjects": {"a": {"type": "TINRelief", "geometry": [
            {"type": "CompositeSurface", "lod": "1", "boundaries": [[[0, 1, 2, 3]]]}]}},
    }))  # fmt: skip
    cases = [
        ([str(sample_path()), "--date", "2026-02-30"], "2026-02-30"),
        ([str(sample_path()), "--date", "2026-03-21", "--without", "Nope"], "Nope"),
        ([str(sample_path()), "--date", "2026-03-21", "--grid", "0"], "grid"),
        ([str(flat), "--date", "2026-03-21"], "place"),
    ]
    for args, word in cases:
        capsys.readouterr()
        out = tmp_path / "x.png"
        assert main(["sun-hours", *args, "-o", str(out), "--size", "320x180"]) == 2, args
        err = capsys.readouterr().err.strip()
        assert word in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert not out.exists()
