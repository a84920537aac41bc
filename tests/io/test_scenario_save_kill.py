"""Saving a scenario is atomic: a process killed (SIGKILL) in the middle of any writer leaves the old file or the
new one, never a torn one, whatever the format written."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT, shared_file

KILLER = textwrap.dedent(
    """
    import hashlib, json, os, random, signal, sys, time
    from pathlib import Path
    import citytwin.io
    from citytwin.io.export import write_scenario
    from citytwin.model.scenario import DeleteObjects, Scenario, SetAttributes

    source, target, version = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    model = citytwin.io.read(source)
    ids = model.objects.ids
    scenarios = [None, Scenario(name="s", edits=(DeleteObjects(ids=(ids[0],)),
                                                 SetAttributes(ids=(ids[-1],), values={"note": "kill test"})))]
    digests = []
    for k, sc in enumerate(scenarios):  # what each complete write gives
        write_scenario(model, sc, target.with_name(f"ref{k}" + target.name), citygml_version=version)
        digests.append(hashlib.sha256(target.with_name(f"ref{k}" + target.name).read_bytes()).hexdigest())
    t = time.perf_counter()
    write_scenario(model, scenarios[0], target, citygml_version=version)
    span = 2.5 * (time.perf_counter() - t)  # kills fall before, during and after complete writes
    rng = random.Random(11)
    seen = {"old": 0, "new": 0}
    for k in range(int(sys.argv[4])):
        pid = os.fork()
        if pid == 0:
            while True:
                for sc in reversed(scenarios):
                    write_scenario(model, sc, target, citygml_version=version)
        time.sleep(0.01 + rng.random() * span)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        got = hashlib.sha256(target.read_bytes()).hexdigest()
        assert got in digests, "a torn or unknown file after a kill"
        seen["old" if got == digests[0] else "new"] += 1
    print(json.dumps(seen))
    """
)


@pytest.mark.shared
@pytest.mark.parametrize(
    ("source", "target", "version"),
    [
        ("cityjson/delft.json", "out.city.json", "2.0"),
        ("cityjson/delft.json", "out.city.jsonl", "2.0"),
        ("citygml/b1_lod2_cs_w_sem.gml", "out.gml", "2.0"),
        ("citygml/b1_lod2_cs_w_sem.gml", "out.gml", "3.0"),
        ("citygml/b1_lod2_cs_w_sem.gml", "out.city.json", "2.0"),  # converted
    ],
)
def test_sigkill_during_a_scenario_save_never_leaves_a_torn_file(tmp_path, source, target, version):
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(shared_file(source)), str(tmp_path / target), version, "40"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["old"] + seen["new"] == 40
    assert seen["new"] > 0  # the writer got to replace the file between kills
