"""Presenter mode: full screen, a looping playlist, remote keys, the kiosk's attract loop, the exit PIN."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDockWidget

from citytwin.model.annotations import make_bookmark
from citytwin.model.camera import CameraState
from citytwin.model.presentation import Presentation, Stop
from citytwin.model.tours import Keyframe, Tour
from citytwin.sample import sample_path
from tests.ui.conftest import wait_loaded


@pytest.fixture
def window(qtbot, make_window):
    w = make_window([str(sample_path())])
    wait_loaded(qtbot, w)
    w.viewport.finish_animation()
    scene = w.scene
    b = np.asarray(scene.bounds(), float)
    c = (b[:3] + b[3:]) / 2
    cams = [CameraState(tuple(c + [400 * np.sin(a), 400 * np.cos(a), 250]), tuple(c)) for a in (0.0, 1.0, 2.0)]
    scene.tours.append(Tour(name="short", keyframes=[Keyframe(time=0.25 * k, camera=cam) for k, cam in
                                                      enumerate(cams)]))  # fmt: skip
    scene.bookmarks.append(make_bookmark("north", cams[0]))
    scene.bookmarks.append(make_bookmark("east", cams[2]))
    return w


FAST = dict(hide_cursor_seconds=0.2, fly_seconds=0.1, idle_seconds=0)
PLAYLIST = [Stop(kind="tour", name="short"), Stop(kind="bookmark", name="east", seconds=0.2)]


def _key(qtbot, window, key) -> None:
    qtbot.keyClick(window.viewport.plotter, key)


def test_enters_and_leaves_full_screen(qtbot, window):
    docks = [d for d in window.findChildren(QDockWidget) if d.isVisible()]
    assert docks
    presenter = window.presenter
    assert presenter.enter(Presentation(playlist=PLAYLIST, **FAST))
    qtbot.waitUntil(window.isFullScreen, timeout=5000)
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    assert not any(d.isVisible() for d in docks)
    _key(qtbot, window, Qt.Key.Key_Escape)
    assert not presenter.active
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5000)
    assert window.menuBar().isVisible() and all(d.isVisible() for d in docks)


def test_playlist_loops_and_remote_keys_move_through_it(qtbot, window):
    presenter = window.presenter
    seen: list[int] = []
    presenter.stop_changed.connect(seen.append)
    presenter.enter(Presentation(playlist=PLAYLIST, **FAST))
    qtbot.waitUntil(lambda: seen[:3] == [0, 1, 0], timeout=10_000)  # tour, bookmark, tour again
    place_pin = window.annotations.place_action
    _key(qtbot, window, Qt.Key.Key_P)  # "previous" on a remote, never the window's Place Pin shortcut
    assert not place_pin.isChecked()
    _key(qtbot, window, Qt.Key.Key_PageDown)
    index = presenter.index
    _key(qtbot, window, Qt.Key.Key_PageDown)
    assert presenter.index == (index + 1) % 2
    _key(qtbot, window, Qt.Key.Key_Space)
    assert not presenter.player.playing
    _key(qtbot, window, Qt.Key.Key_Space)
    assert presenter.player.playing
    presenter.leave()


def test_kiosk_returns_to_the_attract_loop_after_idle_time(qtbot, window):
    presenter = window.presenter
    presenter.enter(Presentation(playlist=PLAYLIST, **{**FAST, "idle_seconds": 0.6}))
    qtbot.wait(100)
    widget = window.viewport.plotter
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(widget.width() // 2, widget.height() // 2))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(widget.width() // 2, widget.height() // 2))
    assert presenter.mode == "visitor" and not presenter.player.active
    qtbot.waitUntil(lambda: presenter.mode == "attract" and presenter.player.playing, timeout=5000)
    assert presenter.index == 0
    presenter.leave()


def test_exit_pin_guards_escape(qtbot, window):
    presenter = window.presenter
    presenter.enter(Presentation(playlist=PLAYLIST, exit_pin="4711", **FAST))
    _key(qtbot, window, Qt.Key.Key_Escape)
    assert presenter.active and presenter._pin_bar.isVisible()
    qtbot.keyClicks(presenter._pin_bar.edit, "1234")
    qtbot.keyClick(presenter._pin_bar.edit, Qt.Key.Key_Return)
    assert presenter.active and not presenter._pin_bar.isVisible()
    _key(qtbot, window, Qt.Key.Key_Escape)
    qtbot.keyClicks(presenter._pin_bar.edit, "4711")
    qtbot.keyClick(presenter._pin_bar.edit, Qt.Key.Key_Return)
    assert not presenter.active


def test_nothing_to_present_is_one_message(qtbot, make_window):
    w = make_window([str(sample_path())])
    wait_loaded(qtbot, w)
    assert not w.presenter.enter()
    assert "needs a tour or a bookmark" in w.statusBar().currentMessage()
    assert not w.isFullScreen()


def test_citytwin_present_starts_once_the_project_is_open(qtbot, make_window, tmp_path):
    """What ``citytwin present PROJECT`` does: open the project, then go full screen on its playlist."""
    import citytwin
    from citytwin.ui.app import _present_when_loaded

    project = citytwin.Project()
    project.add_source(sample_path())
    project.add_bookmark("start", CameraState((389_900.0, 5_800_000.0, 600.0), (389_936.0, 5_800_308.0, 35.0)))
    project.presentation = Presentation(idle_seconds=0, hide_cursor_seconds=0.2, fly_seconds=0.1)
    path = project.save(tmp_path / "stand.citytwin")
    w = make_window()
    _present_when_loaded(w)  # as `citytwin present` does, before the project starts opening
    w.open_files([str(path)])
    qtbot.waitUntil(lambda: w.presenter.active, timeout=30_000)
    assert [s.name for s in w.presenter.stops] == ["start"]
    qtbot.waitUntil(w.isFullScreen, timeout=5000)
    w.presenter.leave()


def test_a_file_the_desktop_opens_while_presenting_is_left_alone(qtbot, window):
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    from tests.conftest import shared_file

    presenter = window.presenter
    assert presenter.enter(Presentation(playlist=PLAYLIST, **FAST))
    n = len(window.scene.layers)
    QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(shared_file("citygml/b1_lod2_cs_w_sem.gml"))))
    qtbot.wait(300)
    assert presenter.active and not window.is_loading and len(window.scene.layers) == n
    _key(qtbot, window, Qt.Key.Key_Escape)
