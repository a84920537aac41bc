"""``citytwin snapshot`` through the still engine: transparent sky, a title, a project's overlays."""

from __future__ import annotations

import numpy as np
from PIL import Image

import citytwin
from citytwin.cli import main
from citytwin.model.overlays import OverlaySettings, TitleOverlay
from citytwin.sample import sample_path


def test_transparent_snapshot_with_a_title(tmp_path, capsys):
    out = tmp_path / "a.png"
    argv = ["snapshot", str(sample_path()), "-o", str(out), "--size", "640x360", "--transparent", "--view", "top",
            "--title", "Sample district"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    img = np.asarray(Image.open(out))
    assert img.shape == (360, 640, 4)
    alpha = img[..., 3]
    assert (alpha == 0).mean() > 0.05 and (alpha == 255).mean() > 0.3  # sky see-through, the district solid
    assert alpha[180, 320] == 255
    top_left = img[: int(360 * 0.2), : int(640 * 0.5)]
    assert (top_left[..., 3] > 0).mean() > 0.02, "the title (and its panel) is drawn over the transparent sky"


def test_project_snapshot_draws_the_project_overlays(tmp_path, capsys):
    project = citytwin.Project()
    project.add_source(sample_path())
    plain = project.save(tmp_path / "plain.citytwin")
    project.overlays = OverlaySettings(title=TitleOverlay(text="Stadsdeel Noord", subtitle="2030"))
    titled = project.save(tmp_path / "titled.citytwin")
    images = []
    for path in (plain, titled):
        out = tmp_path / f"{path.stem}.png"
        assert main(["snapshot", str(path), "-o", str(out), "--size", "480x270"]) == 0, capsys.readouterr().err
        images.append(np.asarray(Image.open(out)).astype(int))
    diff = np.abs(images[0] - images[1]).max(axis=2) > 30
    assert diff[: 270 // 4, : 480 // 2].mean() > 0.02 and diff[270 // 2 :].mean() < 0.001
