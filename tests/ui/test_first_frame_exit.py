"""``CITYTWIN_EXIT_AFTER_FIRST_FRAME=1``: the window reports its cold start and quits (make package-test uses it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from citytwin.ui.app import EXIT_AFTER_FIRST_FRAME, seconds_since_process_start


def test_seconds_since_process_start_counts_from_before_citytwin_was_imported():
    from citytwin.ui import app

    age = seconds_since_process_start()
    assert time.perf_counter() - app._T0 - 0.05 <= age < 24 * 3600


def test_window_prints_its_first_frame_time_and_quits(tmp_path):
    env = {**os.environ, EXIT_AFTER_FIRST_FRAME: "1", "CITYTWIN_STATE_DIR": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "QT_QPA_PLATFORM": "xcb"}  # fmt: skip
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "citytwin"], env=env, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t0
    assert p.returncode == 0, p.stderr[-2000:]
    m = re.search(r"citytwin: first frame after ([0-9.]+) s since process start", p.stderr)
    assert m, p.stderr[-2000:]
    assert 0.2 < float(m.group(1)) < wall
