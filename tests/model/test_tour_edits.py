"""Tour edits: pure functions returning a new tour, applied to a scene undoably; a property test with undo/redo."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citytwin.model.camera import CameraState
from citytwin.model.interpolation import EASINGS, INTERPOLATIONS
from citytwin.model.scene import Scene
from citytwin.model.tours import (
    Caption,
    Keyframe,
    Tour,
    add_keyframe,
    append_keyframe,
    delete_keyframe,
    edit_keyframe,
    insert_keyframe,
    move_keyframe,
    retime_keyframe,
    scale_duration,
    set_segment,
    shift_keyframes,
)


def cam(i: float) -> CameraState:
    return CameraState((85_000.0 + 37 * i, 446_000.0 + 11 * i * i, 60.0 + i), (85_000.0, 446_000.0, 0.0))


def tour(*times: float, **settings) -> Tour:
    return Tour(name="t", keyframes=[Keyframe(time=t, camera=cam(i), **settings) for i, t in enumerate(times)])


def times(t: Tour) -> list[float]:
    return [k.time for k in t.keyframes]


def test_add_and_append_keyframes():
    t = tour(0, 4, 8)
    t2 = add_keyframe(t, Keyframe(time=6, camera=cam(9)))
    assert times(t2) == [0, 4, 6, 8] and t2.keyframes[2].camera == cam(9) and t2.id == t.id
    assert times(t) == [0, 4, 8]  # the original is untouched
    with pytest.raises(ValueError, match="at 4 s already"):
        add_keyframe(t, Keyframe(time=4, camera=cam(9)))
    t3 = append_keyframe(set_segment(t, 2, pause=1.5), cam(7), seconds=3, easing="ease-out")
    assert times(t3) == [0, 4, 8, 12.5] and t3.keyframes[-1].easing == "ease-out"


def test_insert_shifts_the_later_keyframes():
    t = tour(0, 4, 8)
    t2 = insert_keyframe(t, Keyframe(time=4, camera=cam(9)), shift=3)
    assert times(t2) == [0, 4, 7, 11] and t2.keyframes[1].camera == cam(9)
    assert t2.keyframes[2].camera == t.keyframes[1].camera


def test_retime_move_delete_and_shift():
    t = tour(0, 4, 8, 12)
    assert times(retime_keyframe(t, 1, 6)) == [0, 6, 8, 12]
    with pytest.raises(ValueError, match="must come after"):
        retime_keyframe(t, 1, 9)
    moved = move_keyframe(t, 0, 2)  # the contents move, the times stay
    assert times(moved) == [0, 4, 8, 12]
    assert [k.camera for k in moved.keyframes] == [cam(1), cam(2), cam(0), cam(3)]
    assert times(delete_keyframe(t, -1)) == [0, 4, 8]
    with pytest.raises(ValueError, match="at least two"):
        delete_keyframe(tour(0, 1), 0)
    with pytest.raises(ValueError, match="no keyframe 9"):
        delete_keyframe(t, 8)
    assert times(shift_keyframes(t, 2, -2)) == [0, 4, 6, 10]
    with pytest.raises(ValueError, match="must come after"):
        shift_keyframes(t, 2, -5)


def test_segment_settings_and_scaling():
    t = tour(0, 4, 8)
    t2 = set_segment(t, 0, interpolation="linear", easing="ease-in", constant_speed=True, pause=1)
    k = t2.keyframes[0]
    assert (k.interpolation, k.easing, k.constant_speed, k.pause) == ("linear", "ease-in", True, 1.0)
    with pytest.raises(ValueError, match="not a segment setting"):
        set_segment(t, 0, camera=cam(3))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        set_segment(t, 0, interpolation="bezier")
    with pytest.raises(ValueError, match="pause of 5 s must end before keyframe 2"):
        set_segment(t, 0, pause=5)
    with pytest.raises(ValueError, match="no field"):
        edit_keyframe(t, 0, colour=(1, 0, 0))
    t3 = edit_keyframe(t2, 1, caption=Caption(title="Harbour", duration=2))
    scaled = scale_duration(t3, 16)
    assert times(scaled) == [0, 8, 16] and scaled.keyframes[0].pause == 2.0
    assert scaled.keyframes[1].caption.duration == 4.0 and scaled.duration == 16


def test_edits_apply_to_a_scene_undoably():
    scene = Scene()
    t = tour(0, 4, 8)
    scene.add_item(t)
    new = retime_keyframe(t, 1, 5)
    scene.edit_item(t, keyframes=new.keyframes)
    assert scene.tours[0] == new and scene.undo_stack.undo_text == "Edit tour 't'"
    scene.undo_stack.undo()
    assert scene.tours[0] is t


# ---------------------------------------------------------------- property test

_seconds = st.floats(min_value=-3.0, max_value=30.0, allow_nan=False).map(lambda x: round(x, 3))
_index = st.integers(min_value=-1, max_value=7)
_edit = st.one_of(
    st.tuples(st.just("add"), _seconds, st.integers(0, 50)),
    st.tuples(st.just("insert"), _seconds, st.integers(0, 50), st.floats(0, 5).map(lambda x: round(x, 2))),
    st.tuples(st.just("append"), st.integers(0, 50), st.floats(-1, 6).map(lambda x: round(x, 2))),
    st.tuples(st.just("retime"), _index, _seconds),
    st.tuples(st.just("move"), _index, _index),
    st.tuples(st.just("delete"), _index),
    st.tuples(
        st.just("segment"),
        _index,
        st.sampled_from([*INTERPOLATIONS, "cubic"]),
        st.sampled_from([*EASINGS, "bounce"]),
        st.booleans(),
        st.floats(-0.5, 4).map(lambda x: round(x, 2)),
    ),
    st.tuples(st.just("shift"), _index, st.floats(-6, 6).map(lambda x: round(x, 2))),
    st.tuples(st.just("scale"), st.floats(-1, 60).map(lambda x: round(x, 2))),
    st.tuples(st.just("raw"), st.integers(0, 3)),  # a bad edit straight through scene.edit_item
    st.tuples(st.just("undo")),
    st.tuples(st.just("redo")),
)


def _apply(t: Tour, op: tuple) -> Tour:
    kind, *args = op
    if kind == "add":
        return add_keyframe(t, Keyframe(time=args[0], camera=cam(args[1])))
    if kind == "insert":
        return insert_keyframe(t, Keyframe(time=args[0], camera=cam(args[1])), shift=args[2])
    if kind == "append":
        return append_keyframe(t, cam(args[0]), seconds=args[1])
    if kind == "retime":
        return retime_keyframe(t, args[0], args[1])
    if kind == "move":
        return move_keyframe(t, args[0], args[1])
    if kind == "delete":
        return delete_keyframe(t, args[0])
    if kind == "segment":
        i, interpolation, easing, constant, pause = args
        return set_segment(t, i, interpolation=interpolation, easing=easing, constant_speed=constant, pause=pause)
    if kind == "shift":
        return shift_keyframes(t, args[0], args[1])
    if kind == "scale":
        return scale_duration(t, args[0])
    raise AssertionError(kind)


def _raw_bad_change(t: Tour, which: int) -> dict:
    k = t.keyframes
    return [
        {"keyframes": k[:1]},
        {"keyframes": (k[1], k[0], *k[2:])},
        {"name": ""},
        {"keyframes": (msgspec.structs.replace(k[0], pause=k[1].time - k[0].time), *k[1:])},
    ][which]


def check_invariants(t: Tour) -> None:
    """What every tour in a scene must satisfy, checked independently of Tour's own checks."""
    ts = np.array([k.time for k in t.keyframes])
    assert len(ts) >= 2 and np.isfinite(ts).all() and (ts >= 0).all()
    assert (np.diff(ts) > 0).all()
    for a, b in zip(t.keyframes, t.keyframes[1:], strict=False):
        assert a.pause >= 0 and a.time + a.pause < b.time
        assert a.interpolation in INTERPOLATIONS and a.easing in EASINGS
    assert t.name and t.id
    track = t.cameras(np.linspace(0, t.duration, 9))
    assert np.isfinite(track.position).all() and np.isfinite(track.view_angle).all()
    assert math.isfinite(t.duration)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_edit, max_size=30))
def test_random_edits_with_undo_and_redo_keep_the_tour_valid_and_reversible(ops):
    scene = Scene()
    initial = tour(0, 4, 9, 13)
    scene.tours.append(initial)
    done, undone = [initial], []
    for op in ops:
        current = scene.tours[0]
        if op[0] == "undo":
            assert scene.undo_stack.undo() == (len(done) > 1)
            if len(done) > 1:
                undone.append(done.pop())
        elif op[0] == "redo":
            assert scene.undo_stack.redo() == bool(undone)
            if undone:
                done.append(undone.pop())
        elif op[0] == "raw":
            with pytest.raises(ValueError):
                scene.edit_item(current, **_raw_bad_change(current, op[1]))
        else:
            try:
                new = _apply(current, op)
            except ValueError as exc:
                assert "\n" not in str(exc) and str(exc)
            else:
                scene.edit_item(current, keyframes=new.keyframes)
                done.append(new)
                undone.clear()
        assert len(scene.tours) == 1
        assert scene.tours[0] == done[-1]
        check_invariants(scene.tours[0])
    final = (done + undone[::-1])[-1]  # the newest state the history holds
    while scene.undo_stack.undo():
        check_invariants(scene.tours[0])
    assert scene.tours[0] == initial
    while scene.undo_stack.redo():
        pass
    assert scene.tours[0] == final
