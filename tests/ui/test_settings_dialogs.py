"""File → Overlays… and View → Presentation Settings…: filled in, applied as one undoable step."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from citytwin.model.annotations import make_bookmark
from citytwin.model.camera import CameraState
from citytwin.model.overlays import (
    AttributionOverlay,
    CaptionOverlay,
    LegendOverlay,
    LogoOverlay,
    OverlaySettings,
    ScaleBarOverlay,
    TitleOverlay,
)
from citytwin.model.presentation import Presentation, Stop
from citytwin.model.tours import Keyframe, Tour
from citytwin.sample import sample_path
from citytwin.ui.overlays_dialog import OverlaysDialog
from citytwin.ui.presentation_dialog import PresentationDialog
from tests.ui.conftest import wait_loaded

OK = QDialogButtonBox.StandardButton.Ok


@pytest.fixture
def window(qtbot, make_window):
    w = make_window([str(sample_path())])
    wait_loaded(qtbot, w)
    w.viewport.finish_animation()
    return w


def _logo(path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGBA", (40, 20), (200, 30, 30, 255)).save(path)
    return str(path)


def _choose(combo, anchor: str) -> None:
    combo.setCurrentIndex(combo.findData(anchor))


def test_menus_offer_both_dialogs(window):
    file_menu = window.overlays_action.associatedObjects()
    assert any(getattr(m, "title", lambda: "")().replace("&", "") == "File" for m in file_menu)
    view_menu = window.presentation_settings_action.associatedObjects()
    assert any(getattr(m, "title", lambda: "")().replace("&", "") == "View" for m in view_menu)


def test_overlays_dialog_applies_everything_as_one_undoable_step(qtbot, window, tmp_path):
    logo = _logo(tmp_path / "logo.png")
    scene = window.scene
    assert window.session.path is None
    dialog = OverlaysDialog(window)
    dialog.show()
    dialog.title_group.setChecked(True)
    dialog.title_text.setText("Den Haag")
    dialog.subtitle_text.setText("Binnenstad")
    _choose(dialog.title_anchor, "top")
    dialog.logo_group.setChecked(True)
    dialog.logo_path.setText(logo)
    dialog.logo_height.setValue(12)
    _choose(dialog.logo_anchor, "bottom-right")
    dialog.legend_group.setChecked(True)
    _choose(dialog.legend_anchor, "left")
    dialog.north_group.setChecked(False)
    dialog.scale_group.setChecked(True)
    dialog.attribution_group.setChecked(True)
    dialog.attribution_text.setText("© Gemeente Den Haag")
    _choose(dialog.captions_anchor, "top")
    dialog.buttons.button(OK).click()

    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    expected = OverlaySettings(
        title=TitleOverlay(text="Den Haag", subtitle="Binnenstad", anchor="top"),
        logo=LogoOverlay(path=logo, height=0.12, anchor="bottom-right"),  # unsaved project: absolute
        legend=LegendOverlay(anchor="left"),
        scale_bar=ScaleBarOverlay(),
        attribution=AttributionOverlay(text="© Gemeente Den Haag"),
        captions=CaptionOverlay(anchor="top"),
    )
    assert scene.overlays == expected
    scene.undo_stack.undo()
    assert scene.overlays == OverlaySettings()
    scene.undo_stack.redo()
    assert scene.overlays == expected

    # opened again, the dialog shows what the scene has; OK without a change adds no step
    again = OverlaysDialog(window)
    assert again.title_text.text() == "Den Haag" and again.logo_anchor.currentData() == "bottom-right"
    assert abs(again.logo_height.value() - 12) < 1e-9 and not again.north_group.isChecked()
    again.show()
    again.buttons.button(OK).click()
    assert scene.overlays == expected
    scene.undo_stack.undo()
    assert scene.overlays == OverlaySettings()


def test_logo_is_kept_relative_to_a_saved_project_and_a_missing_one_is_a_sentence(qtbot, window, tmp_path):
    scene = window.scene
    assert window.save_project(tmp_path / "stand.citytwin")
    logo = _logo(tmp_path / "images" / "logo.png")
    dialog = OverlaysDialog(window)
    dialog.show()
    dialog.preview.setChecked(True)
    assert window.show_overlays_action.isChecked(), "Preview turns on View → Show Overlays"

    dialog.logo_group.setChecked(True)
    dialog.logo_path.setText("images/missing.png")
    dialog.buttons.button(OK).click()
    assert dialog.isVisible(), "a missing logo keeps the dialog open"
    assert dialog.error_label.isVisible()
    sentence = dialog.error_label.text()
    assert "missing.png" in sentence and "does not exist" in sentence and sentence.count(".") >= 1
    assert scene.overlays == OverlaySettings() and not window.isWindowModified()

    dialog.title_group.setChecked(True)  # a title without text is a sentence too
    dialog.logo_path.setText(logo)
    dialog.buttons.button(OK).click()
    assert dialog.isVisible() and dialog.error_label.text() == "A title needs a text or a subtitle."

    dialog.title_text.setText("Stand 4")
    qtbot.wait(300)  # the preview draws the dialog's settings
    assert not dialog.error_label.isVisible()
    dialog.buttons.button(OK).click()
    assert not dialog.isVisible()
    assert scene.overlays.logo == LogoOverlay(path=str(tmp_path / "images" / "logo.png"))
    assert window.save_project(tmp_path / "stand.citytwin")
    saved = json.loads((tmp_path / "stand.citytwin").read_text())
    assert saved["overlays"]["logo"]["path"] == "images/logo.png", "the file keeps it relative to itself"
    assert scene.overlays.title == TitleOverlay(text="Stand 4")
    assert window.show_overlays_action.isChecked(), "OK keeps the overlays shown"
    scene.undo_stack.undo()
    assert scene.overlays == OverlaySettings()

    # Cancel after a preview: nothing changes and Show Overlays is as it was
    window.show_overlays_action.setChecked(False)
    dialog = OverlaysDialog(window)
    dialog.show()
    dialog.preview.setChecked(True)
    dialog.scale_group.setChecked(True)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not window.show_overlays_action.isChecked() and scene.overlays == OverlaySettings()


@pytest.fixture
def tours_window(window):
    scene = window.scene
    b = np.asarray(scene.bounds(), float)
    c = (b[:3] + b[3:]) / 2
    cams = [CameraState(tuple(c + [400 * np.sin(a), 400 * np.cos(a), 250]), tuple(c)) for a in (0.0, 1.0, 2.0)]
    scene.tours.append(
        Tour(name="short", keyframes=[Keyframe(time=0.25 * k, camera=cam) for k, cam in enumerate(cams)])
    )
    scene.bookmarks.append(make_bookmark("north", cams[0]))
    scene.bookmarks.append(make_bookmark("east", cams[2]))
    return window


def _add(dialog, kind: str, name: str) -> None:
    button = dialog.add_tour_button if kind == "tour" else dialog.add_bookmark_button
    next(a for a in button.menu().actions() if a.text() == name).trigger()


def test_presentation_dialog_builds_the_playlist_as_one_undoable_step(qtbot, tours_window):
    window, scene = tours_window, tours_window.scene
    dialog = PresentationDialog(window)
    dialog.show()
    assert [a.text() for a in dialog.add_tour_button.menu().actions()] == ["short"]
    assert [a.text() for a in dialog.add_bookmark_button.menu().actions()] == ["north", "east"]
    assert dialog.playlist.count() == 0

    _add(dialog, "bookmark", "east")
    _add(dialog, "tour", "short")
    assert not dialog.hold_seconds.isEnabled(), "a tour is not held"
    _add(dialog, "bookmark", "north")
    assert dialog.hold_seconds.isEnabled()
    dialog.hold_seconds.setValue(3)
    dialog.up_button.click()  # north before short
    _add(dialog, "tour", "short")
    dialog.remove_button.click()
    dialog.loop.setChecked(False)
    dialog.kiosk.setChecked(False)
    qtbot.keyClicks(dialog.exit_pin, "12a34")  # digits only
    assert dialog.exit_pin.text() == "1234"
    dialog.hide_cursor_seconds.setValue(5)
    dialog.fly_seconds.setValue(1.5)
    dialog.buttons.button(OK).click()

    assert not dialog.isVisible()
    expected = Presentation(
        playlist=[
            Stop(kind="bookmark", name="east"),
            Stop(kind="bookmark", name="north", seconds=3),
            Stop(kind="tour", name="short"),
        ],
        loop=False,
        idle_seconds=0,
        exit_pin="1234",
        hide_cursor_seconds=5,
        fly_seconds=1.5,
    )
    assert scene.presentation == expected
    scene.undo_stack.undo()
    assert scene.presentation == Presentation()
    scene.undo_stack.redo()

    again = PresentationDialog(window)  # shows what the scene has
    assert again.stops() == expected.playlist and not again.kiosk.isChecked() and again.exit_pin.text() == "1234"
    again.deleteLater()


def test_start_presenting_applies_and_enters_presenter_mode(qtbot, tours_window):
    window = tours_window
    dialog = PresentationDialog(window)
    dialog.show()
    dialog.kiosk.setChecked(True)
    dialog.idle_seconds.setValue(30)
    dialog.fly_seconds.setValue(0.1)
    dialog.start_button.click()
    assert not dialog.isVisible()
    assert window.scene.presentation == Presentation(idle_seconds=30, fly_seconds=0.1)
    assert window.presenter.active
    qtbot.waitUntil(window.isFullScreen, timeout=5000)
    window.presenter.leave()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5000)
