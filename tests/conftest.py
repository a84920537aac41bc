"""Shared fixtures: the real data sets beside the checkout, and the sample district."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CITYTWIN_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_file(relative: str) -> Path:
    """Path of a file in ``../shared/data``; fails the test with a clear message if it is missing."""
    path = SHARED / relative
    if not path.exists():
        pytest.fail(
            f"Test data {relative!r} is missing: the suite reads real data from {SHARED} "
            "(set CITYTWIN_SHARED_DATA to point elsewhere).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real test data."""
    if not SHARED.is_dir():
        pytest.fail(f"The real test data folder {SHARED} is missing.", pytrace=False)
    return SHARED
