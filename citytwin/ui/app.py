"""``citytwin.ui.app.run(paths)``: the desktop application's entry point."""

from __future__ import annotations

import os
import sys
import time

_T0 = time.perf_counter()


def create_app(argv: list[str] | None = None):
    """The ``QApplication`` (created once per process)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setOrganizationName("citytwin")
    app.setApplicationName("citytwin")
    app.setApplicationDisplayName("citytwin")
    return app


def run(paths: list[str] | None = None, present: bool = False) -> int:
    """Open the viewer window with ``paths`` (no paths: the sample district); returns the exit code.

    ``paths`` may hold a ``.citytwin`` project. When a citytwin that crashed left
    unsaved work behind, the window offers to recover it once it shows.
    Set ``CITYTWIN_TIMING=1`` to print the time to the first frame showing a model.
    With ``present``, presenter mode starts once every file is open, and nothing asks a
    question on the way (a missing data file is skipped, recovery is not offered).
    """
    app = create_app()
    from PySide6.QtCore import QTimer

    from citytwin.ui.main_window import MainWindow

    sample = None
    if not paths:
        try:
            from citytwin.sample import sample_path

            sample = sample_path()
        except ImportError:  # pragma: no cover - the sample ships with citytwin
            sample = None
    window = MainWindow(paths=list(paths) if paths else ([str(sample)] if sample is not None else None))
    if os.environ.get("CITYTWIN_TIMING"):
        window.first_frame.connect(
            lambda _s: print(f"citytwin: first frame after {time.perf_counter() - _T0:.2f} s", file=sys.stderr)
        )
    if present:
        from PySide6.QtWidgets import QMessageBox

        button = QMessageBox.StandardButton
        window.session.answers.update({"missing": button.No, "recover": button.No, "unsaved": button.Discard})
        window.show()
        _present_when_loaded(window)
    else:
        window.show()
        QTimer.singleShot(0, window.session.check_recovery)
    return int(app.exec())


def _present_when_loaded(window) -> None:
    """Enter presenter mode once the project is open: every file read, its tours and bookmarks in."""
    session = window.session

    def go(*_args) -> None:
        session.opened.disconnect(go)
        window.viewport.finish_animation()
        if not window.presenter.enter():
            print("citytwin: the project has no tour or bookmark to present.", file=sys.stderr)

    session.opened.connect(go)
