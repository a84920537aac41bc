"""Reader plumbing: the garbage-collector pause is always undone."""

from __future__ import annotations

import gc

import pytest

import citytwin.io
from citytwin.errors import ReaderError
from tests.conftest import shared_file


def test_readers_restore_the_garbage_collector_even_on_errors(tmp_path):
    assert gc.isenabled()
    citytwin.io.read(shared_file("citygml/b1_lod2_cs_w_sem.gml"))
    assert gc.isenabled()
    bad = tmp_path / "bad.gml"
    bad.write_text('<CityModel xmlns="http://www.opengis.net/citygml/2.0"><cityObjectMember><x', encoding="utf-8")
    with pytest.raises(ReaderError):
        citytwin.io.read(bad, citytwin.io.LoadOptions(recover=False))
    assert gc.isenabled()
    gc.disable()
    try:
        citytwin.io.read(shared_file("cityjson/dummy.json"))
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()
