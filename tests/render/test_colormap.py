"""Thematic colouring: numeric colour maps, categorical palettes, inheritance and missing counts."""

from __future__ import annotations

import numpy as np

from citytwin.model.cityobjects import CityObjects
from citytwin.render.colormap import (
    CATEGORY_PALETTE,
    NEUTRAL,
    OTHER_CATEGORY,
    colormap_lut,
    inherit_from_ancestors,
    thematic_colours,
)
from tests.render.conftest import make_boxes


def test_numeric_attribute_maps_min_and_max_to_the_ends_of_the_colour_map():
    model = make_boxes(ground_plane=True)
    objects = model.objects
    th = thematic_colours(objects, "measuredHeight", geometry_objects=model.mesh.poly_object)
    assert th.kind == "numeric"
    assert th.clim == (10.0, 30.0)
    lut = colormap_lut("viridis")
    low, high = objects.index["house-low"], objects.index["house-high"]
    np.testing.assert_array_equal(th.object_colours[low], lut[0])
    np.testing.assert_array_equal(th.object_colours[high], lut[-1])
    # surfaces inherit their building's value and colour
    roof = objects.index["house-high-RoofSurface"]
    assert th.values[roof] == 30.0
    np.testing.assert_array_equal(th.object_colours[roof], lut[-1])
    # the terrain has no height: neutral grey, counted once
    terrain = objects.index["terrain"]
    assert not th.has_value[terrain]
    np.testing.assert_array_equal(th.object_colours[terrain], NEUTRAL)
    assert (th.n_missing, th.n_with) == (1, 2)


def test_numeric_strings_and_value_dicts_with_an_explicit_range():
    objects = CityObjects()
    for i, v in enumerate(["5", {"value": 15.0, "uom": "m"}, 25, None, "  20.0 "]):
        objects.add(f"b{i}", "Building", attributes={} if v is None else {"h": v})
    th = thematic_colours(objects, "h", clim=(10.0, 20.0), cmap="plasma")
    lut = colormap_lut("plasma")
    assert th.kind == "numeric"
    np.testing.assert_array_equal(th.values[[0, 1, 2, 4]], [5.0, 15.0, 25.0, 20.0])
    np.testing.assert_array_equal(th.object_colours[0], lut[0])  # clipped below the range
    np.testing.assert_array_equal(th.object_colours[1], lut[128])  # half way: round(0.5 * 255)
    np.testing.assert_array_equal(th.object_colours[2], lut[-1])  # clipped above
    np.testing.assert_array_equal(th.object_colours[3], NEUTRAL)
    assert th.n_missing == 1 and th.n_with == 4


def test_categorical_attribute_gets_palette_colours_most_frequent_first():
    objects = CityObjects()
    kinds = ["office"] * 3 + ["residential"] * 5 + ["shop"] + [None]
    for i, k in enumerate(kinds):
        objects.add(f"b{i}", "Building", attributes={} if k is None else {"function": k})
    th = thematic_colours(objects, "function")
    assert th.kind == "categorical"
    assert th.categories == ["residential", "office", "shop"]
    assert th.category_counts == [5, 3, 1]
    assert th.category_colours == list(CATEGORY_PALETTE[:3])
    np.testing.assert_array_equal(th.object_colours[3], CATEGORY_PALETTE[0])  # residential
    np.testing.assert_array_equal(th.object_colours[0], CATEGORY_PALETTE[1])  # office
    np.testing.assert_array_equal(th.object_colours[9], NEUTRAL)
    assert th.n_missing == 1


def test_mixed_values_are_categorical_and_overflow_goes_to_other():
    objects = CityObjects()
    n_cat = len(CATEGORY_PALETTE) + 4
    for i in range(n_cat):
        for _ in range(n_cat - i):  # category i has n_cat - i objects
            objects.add(f"o{i}-{_}", "Building", attributes={"code": f"c{i:02d}"})
    objects.add("num", "Building", attributes={"code": 3})
    th = thematic_colours(objects, "code")
    assert th.kind == "categorical"
    assert th.categories[-1] == "Other"
    assert len(th.categories) == len(CATEGORY_PALETTE)
    assert th.category_colours[-1] == OTHER_CATEGORY
    assert sum(th.category_counts) == len(objects)
    last = objects.index["o19-0"]
    np.testing.assert_array_equal(th.object_colours[last], OTHER_CATEGORY)


def test_inherit_from_ancestors_walks_up_to_the_nearest_value():
    parents = np.array([-1, 0, 1, 2, -1, 4])
    has = np.array([True, False, True, False, False, False])
    np.testing.assert_array_equal(inherit_from_ancestors(has, parents), [0, 0, 2, 2, -1, -1])
