"""Tours on disk: standalone TOML files, and the tours section of a project."""

from __future__ import annotations

import json

import msgspec
import pytest

import citytwin
from citytwin.errors import CityTwinError, ReaderError
from citytwin.io.project import decode_project, encode_project, project_summary, read_project
from citytwin.io.tours_toml import TourFileError, dumps, loads, read_tour, write_tour
from citytwin.model.camera import CameraState
from citytwin.model.project_scene import apply_items, project_from_scene
from citytwin.model.scene import Scene
from citytwin.model.tour_presets import orbit
from citytwin.model.tours import AttributeFilter, Caption, Keyframe, Tour

A = CameraState((84_800.125, 445_800.0, 400.0), (85_000.0, 446_000.0, 0.0))
B = CameraState((85_300.0, 445_900.0, 250.5), (85_010.0, 446_000.0, 2.0), (0.0, 0.1, 1.0), 45.0)


def full_tour() -> Tour:
    """A tour with every kind of keyframe setting."""
    year = "yearOfConstruction"
    return Tour(
        name="City growth «1850–2020»",
        keyframes=[
            Keyframe(
                time=0,
                camera=A,
                pause=1.5,
                caption=Caption(title="1850", subtitle="The old town\nby the river"),
                layers={"Buildings": 0.0, "district.city.json": 1.0},
                filter=AttributeFilter(attribute=year, max=1850),
            ),
            Keyframe(
                time=12.25,
                camera=B,
                interpolation="linear",
                easing="ease-in-out",
                constant_speed=True,
                caption=Caption(title="Today", duration=3.0),
                layers={"Buildings": 1.0},
                filter=AttributeFilter(attribute=year, max=2020.5),
            ),
            Keyframe(time=20, camera=A, interpolation="hold"),
            Keyframe(time=1e-3 + 25, camera=B),
        ],
    )


def test_toml_round_trip_is_equal_and_readable(tmp_path):
    tour = full_tour()
    text = dumps(tour)
    assert loads(text) == tour
    assert "[[keyframe]]" in text and 'caption = { title = "1850"' in text
    assert 'layers = { Buildings = 0.0, "district.city.json" = 1.0 }' in text
    assert 'filter = { attribute = "yearOfConstruction", max = 1850.0 }' in text
    assert "interpolation" not in text.split("[[keyframe]]")[1]  # defaults are left out
    path = write_tour(tour, tmp_path / "growth.tour.toml")
    assert read_tour(path) == tour
    assert [p.name for p in tmp_path.iterdir()] == ["growth.tour.toml"]  # no temporary left behind
    preset = orbit((85_000, 446_000, 0), 200, 80)
    assert loads(dumps(preset)) == preset


def test_a_hand_written_tour_reads_with_defaults():
    tour = loads(
        """
        name = "Harbour"

        [[keyframe]]
        time = 0
        position = [84800, 445800, 400]
        focal_point = [85000, 446000, 0]

        [[keyframe]]
        time = 8
        position = [85300, 445900, 250]
        focal_point = [85000, 446000, 0]
        caption = { subtitle = "Quay" }
        """
    )
    assert tour.name == "Harbour" and tour.id.startswith("tour-")
    assert tour.keyframes[1].camera == CameraState((85300, 445900, 250), (85000, 446000, 0))
    assert tour.keyframes[0].interpolation == "spline" and tour.keyframes[1].caption.subtitle == "Quay"
    api = Tour(
        id=tour.id, name="Harbour", keyframes=[Keyframe(time=0, camera=tour.keyframes[0].camera), tour.keyframes[1]]
    )
    assert api == tour  # the Python API builds the same objects


KF = "[[keyframe]]\ntime = {t}\nposition = [1, 2, 3]\nfocal_point = [0, 0, 0]\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n' + KF.format(t=0), "has 1 keyframe; a tour needs at least two"),
        ('name = "x"\n', "has no keyframes"),
        ('name = "x"\nkeyframe = []\n', "has no keyframes"),
        ('name = "x"\n[[keyframe]]\ntime = 0\n', "has 1 keyframe"),
        ('name = "x"\nname = "y"\n', r"not valid TOML \(cannot overwrite a value\)"),
        ("name = [\n", "not valid TOML"),
        (KF.format(t=0) + KF.format(t=1), "missing required field `name`"),
        (
            'name = "x"\n' + KF.format(t='"soon"') + KF.format(t=1),
            r"at keyframe 1, time \(expected `float`, got `str`\)",
        ),
        ('name = "x"\n' + KF.format(t=0) + KF.format(t=1).replace("focal_point", "focus"), "unknown field `focus`"),
        ('name = "x"\n' + KF.format(t=0) + KF.format(t=1).replace("[1, 2, 3]", "[1, 2]"), "at keyframe 2, position"),
        ('name = "x"\n' + KF.format(t=3) + KF.format(t=1), "keyframe 2 \\(at 1 s\\) must come after keyframe 1"),
        ('name = "x"\n' + KF.format(t=0) + 'easing = "bounce"\n' + KF.format(t=1), "easing must be one of"),
        ('name = "x"\n' + KF.format(t=0) + "layers = { Buildings = 3 }\n" + KF.format(t=1), "between 0 and 1"),
        ('name = "x"\n' + KF.format(t=0) + "filter = { max = 3 }\n" + KF.format(t=1), "missing required field"),
        ('name = ""\n' + KF.format(t=0) + KF.format(t=1), "needs a name"),
        ('name = "x"\n' + KF.format(t=0) + KF.format(t=1).replace("[1, 2, 3]", "[0, 0, 0]"), "must look somewhere"),
        ('name = "x"\n' + KF.format(t=0) + "pause = true\n" + KF.format(t=1), "expected `float`, got `bool`"),
        ('name = "x"\n' + KF.format(t="1979-05-27") + KF.format(t=1), "expected `float`, got `date`"),
    ],
)
def test_bad_tour_files_are_one_sentence(tmp_path, text, message):
    path = tmp_path / "bad.tour.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ReaderError, match=message) as info:
        read_tour(path)
    assert isinstance(info.value, CityTwinError)
    assert str(info.value).startswith("bad.tour.toml") and "\n" not in str(info.value)


def test_unreadable_tour_files_are_refused(tmp_path):
    with pytest.raises(ReaderError, match="bad.tour.toml"):
        read_tour(tmp_path / "bad.tour.toml")
    latin = tmp_path / "latin.tour.toml"
    latin.write_bytes('name = "Kr\xf6ller"\n'.encode("latin-1"))
    with pytest.raises(ReaderError, match="not UTF-8"):
        read_tour(latin)
    with pytest.raises(ReaderError, match="line 2"):
        read_tour(_written(tmp_path / "line.tour.toml", 'name = "x"\nkeyframe = ]\n'))
    with pytest.raises(TourFileError, match="could not be saved"):
        write_tour(full_tour(), tmp_path / "missing-folder" / "t.tour.toml")


def _written(path, text):
    path.write_text(text, "utf-8")
    return path


# ---------------------------------------------------------------- tours in a project


def test_project_round_trip_with_tours(tmp_path):
    p = citytwin.Project()
    first = p.add_tour(full_tour())
    second = p.add_tour("Two views", [citytwin.Keyframe(time=0, camera=A), citytwin.Keyframe(time=5, camera=B)])
    assert isinstance(second, citytwin.Tour) and p.tour("Two views") is second and p.tour(first.id) is first
    with pytest.raises(ValueError, match="already in the project"):
        p.add_tour(first)
    path = p.save(tmp_path / "work.citytwin")
    again = read_project(path)
    assert again.tours == [first, second] and again == p
    assert encode_project(again, path) == path.read_bytes()  # stable bytes
    doc = json.loads(path.read_text("utf-8"))
    assert doc["tours"][1]["keyframes"][1] == {"time": 5.0, "camera": B.to_dict() | {"view_up": [0.0, 0.1, 1.0]}}
    assert project_summary(again)["tours"] == 2


def test_a_project_without_tours_still_opens(tmp_path):
    old = {"schema": 1, "generator": "citytwin", "sources": [], "camera": None, "pins": [], "bookmarks": []}
    project = decode_project(json.dumps(old).encode())
    assert project.tours == [] and project.extra == {}
    assert json.loads(encode_project(project))["tours"] == []
    assert project_summary(project)["tours"] == 0


def test_a_damaged_tour_in_a_project_is_one_sentence():
    tour = msgspec_doc(full_tour())
    tour["keyframes"][1]["time"] = 0.0
    data = json.dumps({"schema": 1, "tours": [tour]}).encode()
    with pytest.raises(ReaderError, match=r"damaged \(keyframe 2 \(at 0 s\) must come after keyframe 1"):
        decode_project(data)
    twice = json.dumps({"schema": 1, "tours": [msgspec_doc(full_tour())] * 2}).encode()
    with pytest.raises(ReaderError, match="two tours have the id"):
        decode_project(twice)


def msgspec_doc(tour: Tour) -> dict:
    return msgspec.to_builtins(tour)


def test_tours_go_from_scene_to_project_and_back(tmp_path):
    scene = Scene()
    tour = full_tour()
    scene.add_item(tour)
    project = project_from_scene(scene)
    assert project.tours == [tour]
    data = encode_project(project, tmp_path / "p.citytwin")
    other = Scene()
    other.add_item(orbit((0, 0, 0), 10, 5))
    apply_items(other, decode_project(data, tmp_path / "p.citytwin"))
    assert list(other.tours) == [tour]


# ---------------------------------------------------------------- sun times (a sun study)


def sun_tour() -> Tour:
    """Three keyframes, the first and last with a sun time (one in a named zone, one a fixed offset)."""
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    return Tour(
        name="Sun study",
        keyframes=[
            Keyframe(time=0, camera=A, sun=datetime(2026, 3, 21, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))),
            Keyframe(time=4, camera=B),
            Keyframe(time=10, camera=A, sun=datetime(2026, 3, 21, 17, 30, 15, tzinfo=timezone(timedelta(hours=1)))),
        ],
    )


def test_sun_times_round_trip_through_toml(tmp_path):
    tour = sun_tour()
    text = dumps(tour)
    assert 'sun = "2026-03-21T09:00:00+01:00"' in text and 'sun = "2026-03-21T17:30:15+01:00"' in text
    assert "sun" not in text.split("[[keyframe]]")[2]  # the middle keyframe sets none
    again = read_tour(write_tour(tour, tmp_path / "sun.tour.toml"))
    assert again == tour
    assert [k.sun for k in again.keyframes] == [k.sun for k in tour.keyframes]
    assert again.keyframes[0].sun.utcoffset().total_seconds() == 3600
    assert again.sample(5.0).sun == tour.sample(5.0).sun
    # a TOML date-time (no quotes) with its offset reads too
    native = text.replace('"2026-03-21T09:00:00+01:00"', "2026-03-21T08:00:00Z")
    assert loads(native).keyframes[0].sun == tour.keyframes[0].sun


@pytest.mark.parametrize(
    "value",
    ['"2026-03-21T09:00:00"', '"2026-02-30T09:00:00+01:00"', '"nine o\'clock"', "2026-03-21T09:00:00", "9", "true"],
)
def test_a_bad_sun_time_is_one_sentence(tmp_path, value):
    text = 'name = "x"\n' + KF.format(t=0) + KF.format(t=1) + f"sun = {value}\n"
    path = _written(tmp_path / "bad.tour.toml", text)
    with pytest.raises(ReaderError, match=r"sun time .* of keyframe 2 is not a date and time with its UTC offset"):
        read_tour(path)
    message = str(pytest.raises(ReaderError, read_tour, path).value)
    assert message.startswith("bad.tour.toml: ") and "\n" not in message and message.endswith(".")


def test_project_round_trip_with_sun_times(tmp_path):
    p = citytwin.Project()
    tour = p.add_tour(sun_tour())
    path = p.save(tmp_path / "sun.citytwin")
    doc = json.loads(path.read_text("utf-8"))
    assert doc["tours"][0]["keyframes"][0]["sun"] == "2026-03-21T09:00:00+01:00"
    assert "sun" not in doc["tours"][0]["keyframes"][1]
    again = read_project(path)
    assert again.tours == [tour] and again == p
    assert [k.sun for k in again.tours[0].keyframes] == [k.sun for k in tour.keyframes]
    assert encode_project(again, path) == path.read_bytes()  # stable bytes
    # through a scene too (the window's save and open)
    scene = Scene()
    apply_items(scene, again)
    assert list(scene.tours) == [tour] and project_from_scene(scene).tours == [tour]
    # a sun time without its offset is a damaged project, in one sentence
    doc["tours"][0]["keyframes"][0]["sun"] = "2026-03-21T09:00:00"
    with pytest.raises(ReaderError, match="damaged .*has no time zone"):
        decode_project(json.dumps(doc).encode())
