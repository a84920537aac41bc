"""Presenter-mode settings: validation in one sentence, and which stops can play."""

from __future__ import annotations

import pytest

from citytwin.model.annotations import make_bookmark
from citytwin.model.camera import CameraState
from citytwin.model.presentation import Presentation, Stop
from citytwin.model.tours import Keyframe, Tour

CAM = CameraState((0.0, -100.0, 50.0), (0.0, 0.0, 0.0))
CAM2 = CameraState((100.0, 0.0, 50.0), (0.0, 0.0, 0.0))


def test_empty_playlist_plays_every_tour_then_every_bookmark():
    tours = [Tour(name="a", keyframes=[Keyframe(time=0, camera=CAM), Keyframe(time=2, camera=CAM2)])]
    marks = [make_bookmark("x", CAM), make_bookmark("y", CAM2)]
    stops = Presentation().stops(tours, marks)
    assert [(s.kind, s.name) for s in stops] == [("tour", "a"), ("bookmark", "x"), ("bookmark", "y")]


def test_playlist_skips_what_no_longer_exists():
    marks = [make_bookmark("x", CAM)]
    p = Presentation(playlist=[Stop(kind="tour", name="gone"), Stop(kind="bookmark", name="x", seconds=3)])
    assert p.stops([], marks) == [Stop(kind="bookmark", name="x", seconds=3.0)]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Stop(kind="video", name="a"), "tour or a bookmark"),
        (lambda: Stop(kind="tour", name=""), "needs the name"),
        (lambda: Stop(kind="bookmark", name="a", seconds=0), "0 to 3600"),
        (lambda: Presentation(idle_seconds=-1), "idle time"),
        (lambda: Presentation(exit_pin="12a4"), "digits"),
        (lambda: Presentation(fly_seconds=float("nan")), "flight"),
    ],
)
def test_bad_settings_are_one_sentence(make, words):
    with pytest.raises(ValueError, match=words) as info:
        make()
    assert str(info.value).endswith(".")
