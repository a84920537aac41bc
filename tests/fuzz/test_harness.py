"""The fuzz harness itself: each kind of failure is caught, classified, and the run goes on."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
import json, tempfile
from pathlib import Path
from tests.fuzz import fake_readers
from tests.fuzz.harness import run_one
from tests.fuzz.seeds import Seed
fake_readers.register()
out = {}
with tempfile.TemporaryDirectory() as tmp:
    for kind in fake_readers.KINDS:
        seed = Seed(kind, b"x", "." + kind, ())
        r = run_one(seed, b"some bytes", Path(tmp), time_limit=3.0)
        out[kind] = [r.outcome, r.detail[-200:]]
print(json.dumps(out))
"""


def test_harness_classifies_every_failure():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["hang"][0] == "timeout"
    assert out["boom"][0] == "wrapped" and "KeyError: 'missing'" in out["boom"][1]
    assert out["hog"][0] == "memory"
    assert out["segv"][0] == "crash" and "signal 11" in out["segv"][1]
    assert out["refuse"] == ["refused", "input.refuse: The file is hostile."]
    assert out["rambling"][0] == "bad-message"
