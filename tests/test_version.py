"""One version, written in pyproject.toml; citytwin.__version__ and --version read it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import citytwin
from citytwin._version import UNKNOWN, from_pyproject, version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_version_is_pyprojects():
    assert version() == citytwin.__version__ == PYPROJECT
    from citytwin import __version__

    assert __version__ == PYPROJECT


def test_fallback_reads_a_citytwin_pyproject_only(tmp_path):
    f = tmp_path / "pyproject.toml"
    f.write_text('[project]\nname = "citytwin"\nversion = "9.8.7"\n')
    assert from_pyproject(f) == "9.8.7"
    f.write_text('[project]\nname = "other"\nversion = "1.0"\n')
    assert from_pyproject(f) is None
    f.write_text("not toml [")
    assert from_pyproject(f) is None
    assert from_pyproject(tmp_path / "missing.toml") is None
    assert UNKNOWN.startswith("0+")
