"""A short fuzz run of every reader family: a few hundred seeded mutants each, no failure allowed.

Each family runs in its own ``python -m tests.fuzz`` process (which forks a
child per input), so the readers are exercised without Qt in the process and a
hang or a runaway allocation is caught, not suffered. ``make fuzz`` runs the
same harness with 10,000 inputs per family.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHARED
from tests.fuzz.harness import FAILURES

#: Inputs per family in the test suite (the seed and the inputs are fixed: a failure here replays exactly).
N_INPUTS = {"citygml": 250, "cityjson": 250, "lidar": 250, "mesh": 250}


@pytest.mark.shared
@pytest.mark.parametrize("family", sorted(N_INPUTS))
def test_fuzz_family(family: str, shared_data) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz",
            "--family",
            family,
            "--n",
            str(N_INPUTS[family]),
            "--json",
            "--shared",
            str(SHARED),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the fuzzer printed no report (exit {proc.returncode}): {proc.stderr[-2000:]}"
    report = json.loads(lines[-1])
    outcomes = report["outcomes"]
    assert sum(outcomes.values()) == N_INPUTS[family]
    failures = "\n".join(
        f"#{f['k']} {f['seed']} {f['mutation']}: {f['outcome']}: {f['detail'][-600:]}" for f in report["failures"]
    )
    assert not any(outcomes.get(k) for k in FAILURES), f"{family}: {outcomes}\n{failures}"
    # The mutants are neither all refused nor all harmless: both paths of every reader are exercised.
    assert outcomes.get("refused", 0) >= N_INPUTS[family] // 20, outcomes
    assert outcomes.get("read", 0) + outcomes.get("warned", 0) >= N_INPUTS[family] // 20, outcomes
    assert proc.returncode == 0
