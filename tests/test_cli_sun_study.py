"""``citytwin render --sun-study DATE``: a day of sunlight over the data, and one sentence when it cannot be."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from citytwin.cli import main
from citytwin.sample import sample_path

SAMPLE = str(sample_path())

BOX_OBJ = """\
v 0 0 0
v 10 0 0
v 10 10 0
v 0 10 0
v 0 0 10
v 10 0 10
v 10 10 10
v 0 10 10
f 1 2 3 4
f 5 6 7 8
f 1 2 6 5
f 2 3 7 6
f 3 4 8 7
f 4 1 5 8
"""


def test_render_a_sun_study_as_png_frames(tmp_path, capsys):
    out = tmp_path / "frames"
    argv = ["render", SAMPLE, "--sun-study", "2026-03-21", "--duration", "1", "--fps", "2",
            "--size", "128x96", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    assert "3 frames" in capsys.readouterr().out
    frames = sorted(out.glob("*.png"))
    assert len(frames) == 3
    images = [np.asarray(Image.open(f).convert("RGB"), dtype=float) for f in frames]
    assert images[0].shape == (96, 128, 3)
    # the camera holds still while the sun goes from just after sunrise (low, dim) over noon to just before sunset
    dawn, noon, dusk = images
    assert np.abs(dawn - noon).mean() > 5.0 and np.abs(dusk - noon).mean() > 5.0
    sky = (slice(0, 4), slice(None))
    assert np.array_equal(dawn[sky], noon[sky])  # the same view: only the light changed
    assert dawn.mean() < noon.mean() - 3 and dusk.mean() < noon.mean() - 3
    assert all(img.std() > 10 for img in images)


@pytest.mark.parametrize(
    ("value", "words"),
    [("2026-02-30", "2026-02-30 is not a possible date"), ("21/03/2026", "is not a date; write it as 2026-03-21")],
)
def test_an_impossible_sun_study_date_is_one_sentence(tmp_path, capsys, value, words):
    out = tmp_path / "x.mp4"
    assert main(["render", SAMPLE, "--sun-study", value, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists()


def test_a_sun_study_of_data_without_a_crs_is_one_sentence(tmp_path, capsys):
    box = tmp_path / "box.obj"
    box.write_text(BOX_OBJ)
    out = tmp_path / "x.gif"
    assert main(["render", str(box), "--sun-study", "2026-03-21", "--size", "64x48", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("citytwin: The sun is unavailable") and "coordinate reference system" in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
