"""File → Open Mesh with Placement: a local-coordinate mesh placed by a CRS and an offset (Xvfb)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from citytwin.model.layers import CityModelLayer
from citytwin.ui.main_window import settings
from citytwin.ui.placement_dialog import PlacementDialog, sidecar_path
from tests.ui.conftest import wait_loaded

OFFSET = (85_000.5, 446_000.25, 3.0)

CUBE_OBJ = """\
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0 0 1
v 1 0 1
v 1 1 1
v 0 1 1
f 1 4 3 2
f 5 6 7 8
f 1 2 6 5
f 2 3 7 6
f 3 4 8 7
f 4 1 5 8
"""


@pytest.fixture
def cube(tmp_path):
    path = tmp_path / "cube.obj"
    path.write_text(CUBE_OBJ)
    return path


@pytest.fixture
def warnings_shown(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    return shown


def _expected_bounds(offset) -> np.ndarray:
    o = np.asarray(offset, dtype=float)
    return np.concatenate([o, o + 1.0])


def test_open_with_placement_shifts_the_mesh_and_sets_its_crs(qtbot, make_window, cube, warnings_shown):
    window = make_window()
    assert window.open_with_placement(cube, "EPSG:28992", OFFSET)
    wait_loaded(qtbot, window)
    assert not warnings_shown
    assert len(window.scene.layers) == 1
    layer = window.scene.layers[-1]
    assert isinstance(layer, CityModelLayer)
    np.testing.assert_allclose(layer.model.bounds, _expected_bounds(OFFSET))
    assert layer.crs.epsg == 28992
    assert not sidecar_path(cube).exists(), "no sidecar unless asked for"
    assert window.last_placement() == ("EPSG:28992", OFFSET)

    # without a placement the same file stays local
    window.open_files([cube])
    wait_loaded(qtbot, window)
    np.testing.assert_allclose(window.scene.layers[-1].model.bounds, _expected_bounds((0, 0, 0)))


def test_invalid_crs_is_one_sentence_and_opens_nothing(qtbot, make_window, cube, warnings_shown):
    window = make_window()
    assert not window.open_with_placement(cube, "EPSG:99999999", OFFSET)
    assert not window.is_loading
    qtbot.wait(50)
    assert len(window.scene.layers) == 0
    assert len(warnings_shown) == 1
    message = warnings_shown[0]
    assert "EPSG:99999999" in message and message.count(". ") == 0 and "\n" not in message

    dialog = PlacementDialog(cube, "not a crs", OFFSET, window)
    try:
        assert not dialog.ok_button.isEnabled()
        assert dialog.error and dialog.error_label.text() == dialog.error
        dialog.crs_edit.setText("28992")
        assert dialog.ok_button.isEnabled() and dialog.error is None
        assert dialog.crs == "EPSG:28992"
        assert dialog.offset == OFFSET
        assert not dialog.save_sidecar, "the sidecar is off by default"
    finally:
        dialog.deleteLater()


def test_menu_dialog_writes_the_sidecar_and_remembers_the_placement(qtbot, make_window, cube, monkeypatch):
    window = make_window()
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(cube), "Meshes"))

    def accept(dialog):
        dialog.crs_edit.setText("EPSG:28992")
        for spin, value in zip(dialog.offset_spins, OFFSET, strict=True):
            spin.setValue(value)
        dialog.sidecar_check.setChecked(True)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PlacementDialog, "exec", accept)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    window.open_placed_action.trigger()
    wait_loaded(qtbot, window)
    layer = window.scene.layers[-1]
    np.testing.assert_allclose(layer.model.bounds, _expected_bounds(OFFSET))
    assert layer.crs.epsg == 28992
    doc = json.loads(sidecar_path(cube).read_text())
    assert doc == {"crs": "EPSG:28992", "offset": list(OFFSET)}
    assert not asked
    assert settings().value("placement/crs") == "EPSG:28992"

    # the sidecar alone places the mesh now
    window.open_files([cube])
    wait_loaded(qtbot, window)
    np.testing.assert_allclose(window.scene.layers[-1].model.bounds, _expected_bounds(OFFSET))

    # an existing sidecar is not overwritten without asking (here the answer is No)
    shown: list[tuple] = []

    def shows(dialog):
        shown.append((dialog.crs, dialog.offset))  # the last placement is offered again
        dialog.crs_edit.setText("EPSG:25832")
        dialog.sidecar_check.setChecked(True)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PlacementDialog, "exec", shows)
    window.open_placed_action.trigger()
    wait_loaded(qtbot, window)
    assert shown == [("EPSG:28992", OFFSET)]
    assert len(asked) == 1 and sidecar_path(cube).name in asked[0]
    assert json.loads(sidecar_path(cube).read_text())["crs"] == "EPSG:28992"
    assert window.scene.layers[-1].crs.epsg == 25832
