"""``citytwin.ui.app.run(paths)``: the desktop application's entry point."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()
#: Set to 1: print the seconds from process start to the first frame showing a model, then quit (for
#: measuring cold start, e.g. of the frozen app in ``make package-test``).
EXIT_AFTER_FIRST_FRAME = "CITYTWIN_EXIT_AFTER_FIRST_FRAME"


def icon_path() -> Path:
    """The app icon, ``assets/citytwin.png`` beside the package (the bundle carries it the same way)."""
    import citytwin

    return Path(citytwin.__file__).resolve().parents[1] / "assets" / "citytwin.png"


def seconds_since_process_start() -> float:
    """Seconds since this process started (from /proc on Linux; elsewhere since this module was imported)."""
    try:
        stat = Path("/proc/self/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime, in clock ticks after boot
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _T0


def create_app(argv: list[str] | None = None):
    """The ``QApplication`` (created once per process)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setOrganizationName("citytwin")
    app.setApplicationName("citytwin")
    app.setApplicationDisplayName("citytwin")
    app.setDesktopFileName("citytwin")  # Wayland and the task bar match the window to citytwin.desktop
    if icon_path().is_file():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon_path())))
    return app


def run(paths: list[str] | None = None, present: bool = False) -> int:
    """Open the viewer window with ``paths`` (no paths: the sample district); returns the exit code.

    ``paths`` may hold a ``.citytwin`` project. When a citytwin that crashed left
    unsaved work behind, the window offers to recover it once it shows.
    Set ``CITYTWIN_TIMING=1`` to print the time to the first frame showing a model;
    ``CITYTWIN_EXIT_AFTER_FIRST_FRAME=1`` prints the time since the process started and quits then.
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
    if os.environ.get(EXIT_AFTER_FIRST_FRAME) == "1":
        window.first_frame.connect(lambda _s: _report_and_quit(app))
    elif os.environ.get("CITYTWIN_TIMING"):
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


def _report_and_quit(app) -> None:
    """``CITYTWIN_EXIT_AFTER_FIRST_FRAME``: one line on stderr, then leave the event loop."""
    print(f"citytwin: first frame after {seconds_since_process_start():.2f} s since process start", file=sys.stderr)
    sys.stderr.flush()
    app.exit(0)


def _present_when_loaded(window) -> None:
    """Enter presenter mode once the project is open: every file read, its tours and bookmarks in."""
    session = window.session

    def go(*_args) -> None:
        session.opened.disconnect(go)
        window.viewport.finish_animation()
        if not window.presenter.enter():
            print("citytwin: the project has no tour or bookmark to present.", file=sys.stderr)

    session.opened.connect(go)
