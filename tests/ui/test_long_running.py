"""What lets the window run for hours on a stand: no reference leak per signal, per frame, per tour tick.

PySide6 6.12.0 dropped a reference to ``True`` on every ``Signal.emit``; on Python 3.11 (where
``True`` is not immortal) presenter mode aborted after about 20 minutes of playing a tour
("bool_dealloc: deallocating True or False"). These checks catch such a binding on the first run.
"""

from __future__ import annotations

import sys

import numpy as np
from PySide6.QtCore import QObject, Signal

from citytwin.model.tour_presets import orbit
from citytwin.sample import sample_path
from tests.ui.conftest import wait_loaded


class _Emitter(QObject):
    bare = Signal()
    number = Signal(float)
    anything = Signal(object)


def _refs() -> tuple[int, int, int]:
    return sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)


def test_emitting_signals_keeps_every_reference(qapp):
    e = _Emitter()
    e.number.connect(lambda v: None)
    before = _refs()
    for k in range(2000):
        e.bare.emit()
        e.number.emit(float(k))
        e.anything.emit(None)
    assert _refs() == before, "the Qt binding leaks or drops references on Signal.emit; pin another version"


def test_playing_a_tour_keeps_every_reference(qtbot, make_window):
    window = make_window([str(sample_path())])
    wait_loaded(qtbot, window)
    b = np.asarray(window.scene.bounds(), float)
    c = (b[:3] + b[3:]) / 2
    tour = orbit(c, 300.0, 150.0, turns=0.25, duration=10.0)
    player = window.tours_panel.player
    player.tour = tour
    player._show(0.0)  # first call: caches, lazy imports
    before = _refs()
    for k in range(300):  # ten seconds of ticks at 30 Hz
        player.tour = tour
        player._show(k / 30.0)
    after = _refs()
    player.stop()
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50, (before, after)
