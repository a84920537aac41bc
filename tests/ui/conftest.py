"""Fixtures for the desktop window tests: a real window under Xvfb, closed (and checked) after each test."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")  # the VTK widget needs a real X display (pytest-xvfb gives one)


@pytest.fixture(scope="session", autouse=True)
def _isolated_settings(tmp_path_factory):
    """Keep recent files and window state of the tests out of the user's settings."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("qsettings"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, folder)
    yield folder


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, monkeypatch):
    """Recovery copies go to a folder of each test's own; questions about unsaved work answer themselves.

    Closing a window with unsaved changes discards them (a test that checks the
    question sets ``window.session.answers`` itself).
    """
    from PySide6.QtWidgets import QMessageBox

    from citytwin.ui.project_session import ProjectSession

    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("CITYTWIN_STATE_DIR", str(folder))
    button = QMessageBox.StandardButton
    answers = {"unsaved": button.Discard, "recover": button.No, "missing": button.No}
    monkeypatch.setattr(ProjectSession, "default_answers", answers)
    yield folder


@pytest.fixture
def make_window(qtbot, qapp):
    """Factory of shown main windows; fails the test if a window is still open after it."""
    from PySide6.QtWidgets import QApplication

    from citytwin.ui.main_window import MainWindow

    made: list[MainWindow] = []

    def make(paths=None, size=(1000, 700)) -> MainWindow:
        window = MainWindow(paths=paths)
        made.append(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make

    for window in made:
        window.close()
    qapp.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    for w in leaked:
        w.close()
    assert not leaked, f"{len(leaked)} main window(s) leaked by the test"


def wait_loaded(qtbot, window, timeout: int = 30_000) -> None:
    """Wait until every queued file has been read and added (or failed)."""
    qtbot.waitUntil(lambda: not window.is_loading, timeout=timeout)
    qtbot.wait(10)


def open_and_wait(qtbot, window, path, timeout: int = 30_000):
    """Open one file and return its layer."""
    n = len(window.scene.layers)
    window.open_files([path])
    wait_loaded(qtbot, window, timeout)
    assert len(window.scene.layers) == n + 1, "the file did not open"
    return window.scene.layers[-1]


def snapshot(window) -> np.ndarray:
    """``(H, W, 3)`` uint8 pixels of the 3D view as the window shows them now."""
    window.viewport.finish_animation()
    return window.viewport.grab_image()


def reddish(img: np.ndarray) -> np.ndarray:
    """Pixels of the roof colour (red-brown tiles, whatever the lighting)."""
    r, g, b = (img[..., k].astype(int) for k in range(3))
    return (r > g + 35) & (r > b + 35)
