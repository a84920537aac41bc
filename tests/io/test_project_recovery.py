"""Recovery copies: where they go, what they hold, which are offered after a crash."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from citytwin.io.recovery import (
    RECOVERY_KEY,
    STATE_DIR_ENV,
    discard_recovery,
    find_recoveries,
    read_recovery,
    recovery_dir,
    recovery_path,
    state_dir,
    write_recovery,
)
from citytwin.model.project import Project


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    return tmp_path / "state"


def test_state_folder_follows_the_environment(state):
    assert state_dir() == state
    assert recovery_dir() == state / "recovery"
    assert recovery_path("w1").parent == state / "recovery"
    assert str(os.getpid()) in recovery_path("w1").name


def test_the_real_state_folder_is_the_users(monkeypatch):
    monkeypatch.delenv(STATE_DIR_ENV, raising=False)
    assert "citytwin" in str(state_dir())


def test_write_and_read_a_recovery_copy(state, tmp_path):
    data = tmp_path / "district.city.json"
    data.write_text("{}")
    project = Project(extra={"streaming": []})
    project.add_source(data)
    pin = project.add_pin((1.0, 2.0, 3.0), "here")
    path = write_recovery(project, recovery_path("w1"), tmp_path / "work.citytwin")
    assert path.is_file() and not path.with_name(path.name + ".bak").exists()
    assert project.extra == {"streaming": []}, "the project itself is not changed"
    again, original = read_recovery(path)
    assert original == tmp_path / "work.citytwin"
    assert RECOVERY_KEY not in again.extra and again.extra == {"streaming": []}
    assert again.pins == [pin]
    assert again.sources[0].path == str(data), "source paths survive the copy's other folder"
    _, none = read_recovery(write_recovery(Project(), recovery_path("w2"), None))
    assert none is None


def test_only_copies_of_ended_processes_are_offered(state):
    mine = write_recovery(Project(), recovery_path("open"), None)
    left = write_recovery(Project(), recovery_path("crashed"), None)
    # a process that has ended
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = recovery_dir() / f"autosave-{int(done.stdout)}-1.citytwin"
    dead.write_bytes(mine.read_bytes())
    os.utime(dead, (1, 1))  # older than the others
    # a process still running (this test's parent, say)
    alive = recovery_dir() / f"autosave-{os.getppid()}-1.citytwin"
    alive.write_bytes(mine.read_bytes())
    found = find_recoveries(in_use=[mine])
    assert found == [left, dead]
    discard_recovery(left)
    discard_recovery(left)  # twice: no error
    assert find_recoveries(in_use=[mine]) == [dead]


def test_no_folder_no_copies(state):
    assert find_recoveries() == []
