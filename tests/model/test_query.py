"""Attribute search expressions."""

from __future__ import annotations

import pytest

from citytwin.model.cityobjects import CityObjects
from citytwin.model.query import QueryError, search


@pytest.fixture()
def objects() -> CityObjects:
    t = CityObjects()
    t.add("NL.IMBAG.1", "Building", attributes={"measuredHeight": 35.2, "function": "1000", "yearOfConstruction": 1931})
    t.add("NL.IMBAG.2", "Building", attributes={"measuredHeight": 12.0, "function": "1010", "yearOfConstruction": 1975})
    t.add("NL.IMBAG.3", "Building", attributes={"measuredHeight": 48.0, "function": 1000, "uro:buildingID": "13111-x"})
    t.add("road_7", "Road", attributes={"function": "1000"})
    t.add("NL.IMBAG.1_roof", "RoofSurface", parent=0)
    return t


def test_numeric_and_string_comparisons(objects):
    assert search(objects, "measuredHeight > 30").tolist() == [0, 2]
    # "1000" and 1000 compare equal the way a person expects
    assert search(objects, 'function == "1000"').tolist() == [0, 2, 3]
    assert search(objects, "yearOfConstruction < 1950").tolist() == [0]
    assert search(objects, 'measuredHeight > 30 and function == "1000" and type == "Building"').tolist() == [0, 2]
    assert search(objects, "yearOfConstruction < 1950 or measuredHeight >= 48").tolist() == [0, 2]
    assert search(objects, "10 < measuredHeight < 40").tolist() == [0, 1]
    assert search(objects, 'function in ["1010", "9999"]').tolist() == [1]
    assert search(objects, "not measuredHeight > 30", types={"Building"}).tolist() == [1]


def test_backticks_for_ade_names_and_id_search(objects):
    assert search(objects, '`uro:buildingID` == "13111-x"').tolist() == [2]
    assert search(objects, "imbag.1").tolist() == [0, 4]
    assert search(objects, "road_7").tolist() == [3]


def test_missing_attributes_never_match(objects):
    assert search(objects, "storeysAboveGround > 0").tolist() == []


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "measuredHeight + 1", "", "a.b > 2"])
def test_bad_expressions_get_a_sentence(objects, text):
    with pytest.raises(QueryError):
        search(objects, text)
