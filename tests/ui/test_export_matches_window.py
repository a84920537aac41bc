"""What an export draws is what the window shows: same layers, colour modes, look and camera."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.render.offscreen import render_scene
from citytwin.render.scene_view import scene_from_models
from tests.conftest import shared_file
from tests.ui.conftest import open_and_wait

DENHAAG = "citygml/DenHaag_01.xml"


def _window_and_export(qtbot, window) -> tuple[np.ndarray, np.ndarray]:
    viewport = window.viewport
    viewport.finish_animation()
    viewport.warm_up_now()
    shown = viewport.grab_image()
    h, w = shown.shape[:2]
    exported = render_scene(window.scene, size=(w, h), camera=window.scene.camera)
    return shown, exported


@pytest.mark.shared
def test_denhaag_export_matches_the_window(qtbot, make_window):
    window = make_window()
    layer = open_and_wait(qtbot, window, shared_file(DENHAAG))
    assert layer.colour_mode == "texture"  # DenHaag's X3D materials: dark red roofs in the window
    window.scene.set(layer, "hidden_types", frozenset({"SolitaryVegetationObject"}))
    window.scene.set(layer, "opacity", 0.8)
    shown, exported = _window_and_export(qtbot, window)
    assert shown.shape == exported.shape
    drawn = (np.abs(shown.astype(int) - shown[0, 0]).max(axis=2) > 10).mean()
    assert drawn > 0.05  # the city covers part of the frame
    diff = np.abs(shown.astype(float) - exported.astype(float)).mean()
    assert diff < 2.0, f"the export differs from the window by {diff:.2f} grey levels on average"


@pytest.mark.shared
def test_snapshot_of_a_file_uses_the_colours_the_window_starts_with():
    """``citytwin snapshot DenHaag_01.xml`` shows its materials (dark red roofs), as the window does."""
    import citytwin.io

    model = citytwin.io.read(shared_file(DENHAAG))
    scene = scene_from_models([model])
    assert scene.layers[0].colour_mode == "texture"
    textured = render_scene(scene, size=(480, 320), view="top")
    scene.layers[0].colour_mode = "semantic"
    plain = render_scene(scene, size=(480, 320), view="top")
    assert np.abs(textured.astype(int) - plain.astype(int)).mean() > 3
