"""Scenarios as pure data: edits, their checks, composition and the questions the view and writers ask."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest

from citytwin.model.scenario import (
    AddObject,
    DeleteObjects,
    Scenario,
    SetAttributes,
    TransformObject,
    add_edit,
    added_ids,
    compose_transforms,
    deleted_ids,
    deleted_with_children,
    modified_ids,
    object_changes,
    remove_edit,
    remove_edits_of,
    replace_edit,
    touched_ids,
    transform_points,
    with_orphans,
)

BOX = {
    "type": "Building",
    "attributes": {"function": "tower"},
    "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]], [[0, 2, 3]]]}],
}
SQUARE = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]


def test_a_scenario_is_a_list_of_edits_that_saves_and_loads():
    s = Scenario(
        name="Harbour",
        edits=(
            DeleteObjects(ids=("a", "b")),
            SetAttributes(ids="c", values={"height": 30.5, "name": "x", "tags": [1, None, {"k": True}]}),
            TransformObject(id="d", translate=(1, 2, 3), rotate_deg=45, height_scale=2),
            AddObject(id="new", cityobject=BOX, vertices=np.array(SQUARE)),
        ),
    )
    data = msgspec.json.encode(s)
    assert msgspec.json.decode(data, type=Scenario) == s
    assert b'"edit":"delete"' in data and b'"edit":"add"' in data
    assert s.edits[1].ids == ("c",) and s.edits[3].vertices[2] == (1.0, 1.0, 0.0)
    assert b"height_scale" not in msgspec.json.encode(TransformObject(id="d", rotate_deg=1))  # defaults left out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Scenario(name=" "), "a scenario needs a name"),
        (lambda: DeleteObjects(ids=()), "needs at least one object id"),
        (lambda: DeleteObjects(ids=("a", "")), "not a non-empty string"),
        (lambda: SetAttributes(ids="a"), "needs a value to set or a name to remove"),
        (lambda: SetAttributes(ids="a", values={"h": math.nan}), "must be a finite number"),
        (lambda: SetAttributes(ids="a", values={"h": {"deep": [math.inf]}}), "must be a finite number"),
        (lambda: SetAttributes(ids="a", values={"h": object()}), "must be a number, text"),
        (lambda: SetAttributes(ids="a", values={"": 1}), "attribute name must be non-empty"),
        (lambda: SetAttributes(ids="a", values={"h": 1}, removed=("h",)), "both set and removed"),
        (lambda: TransformObject(id=""), "needs a non-empty object id"),
        (lambda: TransformObject(id="a", translate=(1, 2)), "must be three numbers"),
        (lambda: TransformObject(id="a", translate=(1, math.inf, 0)), "must be a finite number"),
        (lambda: TransformObject(id="a", rotate_deg=math.nan), "rotation must be a finite number"),
        (lambda: TransformObject(id="a", height_scale=0), "must be above 0"),
        (lambda: AddObject(id="n", cityobject={"geometry": []}, vertices=SQUARE), "needs a CityObject with a type"),
        (lambda: AddObject(id="n", cityobject=BOX, vertices=[[0, 0]]), "lists of three numbers"),
        (lambda: AddObject(id="n", cityobject=BOX, vertices=[[0, 0, math.nan]] * 4), "must be finite numbers"),
        (lambda: AddObject(id="n", cityobject=BOX, vertices=SQUARE[:3]), "outside its 3 vertices"),
        (
            lambda: AddObject(id="n", cityobject={"type": "Building", "geometry": [{"type": "Cube"}]}, vertices=[]),
            "not one of",
        ),
        (
            lambda: AddObject(
                id="n",
                cityobject=dict(BOX, geometry=[dict(BOX["geometry"][0], boundaries=[[0, 1, 2]])]),
                vertices=SQUARE,
            ),
            "do not match its type",
        ),  # fmt: skip
        (
            lambda: AddObject(
                id="n", cityobject=dict(BOX, geometry=[dict(BOX["geometry"][0], material={})]), vertices=SQUARE
            ),
            "cannot have yet",
        ),
        (
            lambda: Scenario(name="x", edits=(AddObject(id="n", cityobject=BOX, vertices=SQUARE),) * 2),
            "added twice",
        ),
    ],
)
def test_bad_edits_are_one_sentence(make, message):
    with pytest.raises(ValueError, match=message) as err:
        make()
    text = str(err.value)
    assert "\n" not in text and text.count(". ") == 0


def test_bad_edits_are_caught_when_loading():
    with pytest.raises(msgspec.ValidationError, match="height scale must be above 0"):
        msgspec.json.decode(b'{"name":"x","edits":[{"edit":"transform","id":"a","height_scale":-1}]}', type=Scenario)


def test_editing_a_scenario_returns_a_new_one():
    s = Scenario(name="x")
    a, b, c = DeleteObjects(ids="a"), DeleteObjects(ids="b"), DeleteObjects(ids="c")
    s1 = add_edit(add_edit(s, a), b)
    assert s.edits == () and s1.edits == (a, b) and s1.id == s.id
    assert replace_edit(s1, -1, c).edits == (a, c)
    assert remove_edit(s1, 0).edits == (b,)
    with pytest.raises(ValueError, match="there is no edit 2"):
        remove_edit(s1, 2)
    both = add_edit(s1, SetAttributes(ids=("a", "z"), values={"k": 1}))
    assert remove_edits_of(both, "a").edits == (b, SetAttributes(ids=("z",), values={"k": 1}))


def test_two_moves_compose_into_one():
    first = TransformObject(id="b", translate=(10, 0, 1), rotate_deg=350, height_scale=2)
    then = TransformObject(id="b", translate=(0, 5, -1), rotate_deg=30, height_scale=0.25)
    both = compose_transforms(first, then)
    assert both.translate == (10, 5, 0) and both.rotate_deg == pytest.approx(20) and both.height_scale == 0.5
    pts = np.random.default_rng(1).uniform(-20, 20, (40, 3))
    one_by_one = transform_points(then, transform_points(first, pts))
    np.testing.assert_allclose(transform_points(both, pts), one_by_one, atol=1e-9)
    with pytest.raises(ValueError, match="do not compose"):
        compose_transforms(first, TransformObject(id="other"))


def test_transform_points_turns_about_the_footprint_centre_and_scales_from_the_base():
    pts = np.array([[0.0, 0.0, 10.0], [4.0, 0.0, 10.0], [4.0, 2.0, 20.0], [0.0, 2.0, 20.0]])
    out = transform_points(TransformObject(id="b", rotate_deg=90, height_scale=1.5, translate=(1, 0, 0)), pts)
    np.testing.assert_allclose(out[:, :2], [[4, -1], [4, 3], [2, 3], [2, -1]], atol=1e-12)
    np.testing.assert_allclose(out[:, 2], [10, 10, 25, 25])
    assert transform_points(TransformObject(id="b"), np.zeros((0, 3))).shape == (0, 3)


def test_object_changes_apply_the_edits_in_order():
    s = Scenario(
        name="x",
        edits=(
            SetAttributes(ids=("a", "b"), values={"h": 1, "k": "x"}),
            TransformObject(id="a", translate=(1, 0, 0)),
            SetAttributes(ids="a", values={"h": 2}, removed=("k", "old")),
            TransformObject(id="a", translate=(0, 1, 0)),
            DeleteObjects(ids="b"),
            SetAttributes(ids="b", values={"ignored": True}),  # b is gone by then
            AddObject(id="n", cityobject=BOX, vertices=SQUARE),
            TransformObject(id="n", rotate_deg=360),  # changes nothing
            TransformObject(id="c", rotate_deg=10),
            TransformObject(id="c", rotate_deg=-10),
        ),
    )
    changes = object_changes(s)
    a = changes["a"]
    assert a.set_values == {"h": 2} and a.removed == {"k", "old"}
    assert a.transform == TransformObject(id="a", translate=(1, 1, 0))
    assert a.attributes({"h": 0, "k": "y", "keep": 3}) == {"h": 2, "keep": 3}
    assert changes["b"].deleted and changes["b"].set_values == {"h": 1, "k": "x"}
    assert changes["n"].added is s.edits[6] and changes["n"].transform is None
    assert changes["c"].transform is None and not changes["c"].modified
    assert deleted_ids(s) == {"b"} and added_ids(s) == {"n"} and modified_ids(s) == {"a"}
    assert touched_ids(s) == {"a", "b", "c", "n"}


def test_an_added_object_deleted_again_is_gone():
    s = Scenario(name="x", edits=(AddObject(id="n", cityobject=BOX, vertices=SQUARE), DeleteObjects(ids="n")))
    assert added_ids(s) == set() and object_changes(s)["n"].deleted
    assert deleted_ids(s) == set()  # it was never part of the base data


def test_children_go_with_their_last_parent():
    parents = {"part-1": ["b1"], "part-2": ["b1"], "shared": ["b1", "b2"], "sub": ["part-1"], "other": ["b3"]}
    s = Scenario(name="x", edits=(DeleteObjects(ids="b1"),))
    assert deleted_with_children(s, parents) == {"b1", "part-1", "part-2", "sub"}
    assert with_orphans({"b1", "b2"}, parents) == {"b1", "b2", "part-1", "part-2", "sub", "shared"}
