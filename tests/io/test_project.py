"""Project files: round trip, atomic saves under SIGKILL, hostile files, the Python API."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import numpy as np
import pytest

import citytwin
from citytwin.errors import ReaderError
from citytwin.io.options import LoadOptions
from citytwin.io.project import (
    decode_project,
    encode_project,
    load_options,
    load_settings,
    missing_sources,
    read_project,
    write_project,
)
from citytwin.model.annotations import PIN_ICONS
from citytwin.model.camera import CameraState
from citytwin.model.overlays import (
    AttributionOverlay,
    LegendOverlay,
    LogoOverlay,
    NorthArrowOverlay,
    OverlaySettings,
    ScaleBarOverlay,
    TitleOverlay,
)
from citytwin.model.presentation import Presentation, Stop
from citytwin.model.project import SCHEMA_VERSION, CityLayerSettings, PointLayerSettings, Project
from citytwin.model.scenario import AddObject, DeleteObjects, Scenario, SetAttributes, TransformObject
from citytwin.model.tours import Tour
from tests.conftest import ROOT
from tests.fuzz.mutate import delete_chunk, flip_bytes, json_edit, json_structure, swap_numbers, truncate

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def full_project(base: Path) -> Project:
    """A project with every kind of item and setting."""
    data = base / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "district.city.json").write_text("{}")
    (data / "points.laz").write_bytes(b"LASF")
    p = Project()
    city = p.add_source(data / "district.city.json", name="District", lod_max=2.0, types=["Building", "Road"])
    city.layer = CityLayerSettings(
        visible=False,
        opacity=0.4,
        lod=2,
        colour_mode="attribute",
        colour_attribute="measuredHeight",
        single_colour=(0.1, 0.2, 0.3),
        hidden_semantics=[1, 3],
        hidden_types=["Road"],
    )
    pts = p.add_source(data / "points.laz", point_budget=100_000, crs="EPSG:28992", offset=(1.5, 2.5, -3.0))
    pts.layer = PointLayerSettings(colour_mode="classification", point_size=3.5, eye_dome_lighting=True,
                                   hidden_classes=[7, 18])  # fmt: skip
    p.camera = CameraState((85_010.25, 446_020.5, 350.125), (85_000.0, 446_000.0, 0.0), (0.0, 0.0, 1.0), 42.0)
    for k, icon in enumerate(PIN_ICONS):
        p.add_pin(
            (85_000.0 + k * 0.001, 446_000.123456789, 12.3456789),
            f"Pin «{k}» ü",
            description="Line one\nline two",
            colour=(k / 10, 0.5, 1.0),
            icon=icon,
            object_id=f"NL.IMBAG.Pand.{k}",
            source=city.id,
            visible=k % 2 == 0,
        )
    p.add_measurement("distance", [(0, 0, 0), (3, 4, 0), (3, 4, 12)], title="path", crs="EPSG:28992")
    p.add_measurement("height", [(1, 1, 2), (1, 1, 30.5)])
    p.add_measurement("area", [(0, 0, 5), (10, 0, 5), (10, 20, 5), (0, 20, 5)], object_id="b1", source=city.id)
    p.add_measurement("object-height", [(5, 5, 0), (5, 5, 21)], value=21.0, object_id="b2", source=city.id)
    p.add_bookmark("overview", p.camera, thumbnail=PNG)
    p.add_bookmark("street", CameraState((85_001, 446_001, 2), (85_050, 446_001, 2), view_angle=60))
    terrain = p.add_terrain(pts, resolution=2.0, name="DTM")
    terrain.layer = CityLayerSettings(opacity=0.7, colour_mode="elevation")
    p.add_tour(Tour.from_bookmarks(p.bookmarks, seconds_per_leg=4.0, name="Walk"))
    p.overlays = OverlaySettings(
        title=TitleOverlay(text="Binnenhof", subtitle="2026 plan"),
        logo=LogoOverlay(path=str(data / "logo.png"), anchor="bottom-right"),
        legend=LegendOverlay(),
        north_arrow=NorthArrowOverlay(),
        scale_bar=ScaleBarOverlay(),
        attribution=AttributionOverlay(text="© Gemeente Den Haag, CC BY 4.0"),
    )
    p.presentation = Presentation(playlist=[Stop(kind="tour", name="Walk"), Stop(kind="bookmark", name="street",
                                  seconds=12)], idle_seconds=90, exit_pin="2468")  # fmt: skip
    box = {"type": "Building", "attributes": {"measuredHeight": 12.5},
           "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}]}  # fmt: skip
    plan = Scenario(name="Tower «B»", description="Demolish two, add one", edits=(
        DeleteObjects(ids=("b1", "b2")),
        SetAttributes(ids=("b3",), values={"function": "office", "storeys": 12}, removed=("roofType",)),
        TransformObject(id="b3", translate=(1.25, -2.5, 0.0), rotate_deg=15.0, height_scale=1.5),
        AddObject(id="tower", cityobject=box, vertices=[(85_000.0, 446_000.0, 0.0), (85_010.0, 446_000.0, 0.0),
                                                          (85_010.0, 446_010.0, 0.0)]),
    ))  # fmt: skip
    p.scenarios = [plan, Scenario(name="Empty")]
    p.scenario = plan.id
    p.extra["streaming"] = [{"name": "later issue", "tiles": []}]
    return p


def test_round_trip_keeps_every_item_exactly(tmp_path):
    project = full_project(tmp_path)
    assert project.tours and project.overlays.title and project.presentation.playlist
    path = project.save(tmp_path / "work.citytwin")
    again = citytwin.Project.open(path)
    assert again == project
    assert again.bookmarks[0].thumbnail == PNG
    assert again.pins[3].position == (85_000.003, 446_000.123456789, 12.3456789)
    # saving what was read writes the same bytes: stable key order, stable formatting
    assert encode_project(again, path) == path.read_bytes()


def test_file_is_pretty_stable_json_with_relative_paths(tmp_path):
    project = full_project(tmp_path)
    path = write_project(project, tmp_path / "work.citytwin")
    text = path.read_text("utf-8")
    doc = json.loads(text)
    assert list(doc)[:4] == ["schema", "generator", "sources", "camera"]
    assert doc["schema"] == SCHEMA_VERSION
    assert [s["path"] for s in doc["sources"]] == ["data/district.city.json", "data/points.laz"]
    assert doc["streaming"] == [{"name": "later issue", "tiles": []}]  # a section this version does not know
    assert doc["scenarios"][0]["edits"][0] == {"edit": "delete", "ids": ["b1", "b2"]}
    assert '"position": [85000.0, 446000.123456789, 12.3456789]' in text  # a moved pin is a one-line diff
    assert text.endswith("}\n") and "\t" not in text


def test_the_logo_path_is_kept_relative_to_the_project_like_its_sources(tmp_path):
    project = full_project(tmp_path / "a")
    logo = tmp_path / "a" / "data" / "logo.png"
    project.overlays = msgspec.structs.replace(project.overlays, logo=LogoOverlay(path=str(logo)))
    path = project.save(tmp_path / "a" / "work.citytwin")
    assert json.loads(path.read_text())["overlays"]["logo"]["path"] == "data/logo.png"
    assert citytwin.Project.open(path).overlays.logo.path == str(logo)
    moved = tmp_path / "b"
    (tmp_path / "a").rename(moved)
    assert citytwin.Project.open(moved / "work.citytwin").overlays.logo.path == str(moved / "data" / "logo.png")


def test_project_moves_with_its_data(tmp_path):
    project = full_project(tmp_path / "a")
    write_project(project, tmp_path / "a" / "work.citytwin")
    (tmp_path / "a").rename(tmp_path / "b")
    moved = read_project(tmp_path / "b" / "work.citytwin")
    assert moved.sources[0].path == str(tmp_path / "b" / "data" / "district.city.json")
    assert missing_sources(moved) == []
    (tmp_path / "b" / "data" / "points.laz").unlink()
    assert [s.id for s in missing_sources(moved)] == ["points.laz"]


def test_save_keeps_a_backup_and_adds_the_suffix(tmp_path):
    p = Project()
    p.add_pin((1, 2, 3), "first")
    target = p.save(tmp_path / "plan")
    assert target.name == "plan.citytwin"
    p.add_pin((4, 5, 6), "second")
    p.save(target)
    assert len(read_project(target).pins) == 2
    assert len(read_project(tmp_path / "plan.citytwin.bak").pins) == 1


def test_load_settings_round_trip_through_load_options():
    options = LoadOptions(lod_min=1.0, lod_max=2.2, types=frozenset({"Road", "Building"}), point_budget=1000,
                          crs="EPSG:28992", offset=(1.0, 2.0, 3.0), max_polygon_vertices=99)  # fmt: skip
    source = Project().add_source("x.json")
    source.load = load_settings(options)
    assert load_options(source) == options
    assert load_options(Project().add_source("y.json")) == LoadOptions()


def test_newer_schema_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "future.citytwin"
    path.write_text(json.dumps({"schema": SCHEMA_VERSION + 1, "sources": [], "hologram": {}}))
    with pytest.raises(ReaderError) as err:
        read_project(path)
    assert str(err.value) == (
        f"future.citytwin: This project was saved by a newer citytwin (schema {SCHEMA_VERSION + 1}; "
        f"this version reads up to {SCHEMA_VERSION}): update citytwin to open it."
    )


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        (b"", "not valid JSON"),
        (b"[1, 2]", "does not hold a JSON object"),
        (b'{"sources": []}', "has no schema version"),
        (b'{"schema": "one"}', "schema version is not a whole number"),
        (b'{"schema": 1, "sources": [{"id": "a", "path": "x", "layer": {"type": "hologram"}}]}', "damaged"),
        (b'{"schema": 1, "pins": [{"id": "a", "position": [1, 2], "title": "t"}]}', "damaged"),
        (b'{"schema": 1, "pins": [{"id": "a", "position": [1, 2, 3], "title": "t", "icon": "x"}]}', "icon"),
        (b'{"schema": 1, "measurements": [{"id": "m", "kind": "area", "points": [[0,0,0]]}]}', "at least 3"),
        (
            b'{"schema": 1, "pins": [{"id": "a", "position": [1,2,3], "title": "t"}, '
            b'{"id": "a", "position": [1,2,3], "title": "u"}]}',
            "two pins have the id 'a'",
        ),  # fmt: skip
        (b'{"schema": 1, "camera": {"position": [1e999, 0, 0], "focal_point": [0, 0, 0]}}', "damaged"),
    ],
)
def test_malformed_projects_are_one_sentence(content, sentence):
    with pytest.raises(ReaderError) as err:
        decode_project(content, "bad.citytwin")
    text = str(err.value)
    assert sentence in text and "\n" not in text and len(text) < 300


def test_fifty_mutated_projects_open_or_say_why(tmp_path):
    base = encode_project(full_project(tmp_path), tmp_path / "w.citytwin")
    rng = random.Random(9)
    mutators = (json_edit, json_edit, json_structure, flip_bytes, delete_chunk, truncate, swap_numbers)
    outcomes = {"opened": 0, "refused": 0}
    for _ in range(50):
        data = rng.choice(mutators)(base, rng)
        try:
            decode_project(data, tmp_path / "w.citytwin")
            outcomes["opened"] += 1
        except ReaderError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 400, str(exc)
            outcomes["refused"] += 1
    assert outcomes["refused"] >= 10 and outcomes["opened"] >= 1, outcomes


KILLER = textwrap.dedent(
    """
    import json, os, random, signal, sys, time
    from pathlib import Path
    from citytwin.io.project import read_project, write_project
    from citytwin.model.project import Project

    target = Path(sys.argv[1])
    versions = []
    for n in (1, 400):
        p = Project()
        for i in range(n):
            p.add_pin((i, i, i), f"pin {i}", id=f"p{i}")
        versions.append(p)
    write_project(versions[0], target)
    rng = random.Random(5)
    seen = {"old": 0, "new": 0}
    for k in range(200):
        pid = os.fork()
        if pid == 0:
            while True:
                for v in versions:
                    write_project(v, target)
        time.sleep(rng.random() * 0.03)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        got = read_project(target)  # raises on a torn file
        assert got in versions, "a version that was never written"
        seen["old" if got == versions[0] else "new"] += 1
    print(json.dumps(seen))
    """
)


def test_sigkill_during_saves_never_leaves_a_torn_file(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path / "loop.citytwin")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["old"] + seen["new"] == 200
    assert seen["old"] > 0 and seen["new"] > 0  # killed in both phases


def test_python_api_as_documented(tmp_path):
    sample = tmp_path / "district.city.json"
    sample.write_bytes((ROOT / "assets" / "sample_district.city.json").read_bytes())
    p = citytwin.Project()
    src = p.add_source(sample)
    pin = p.add_pin((85_000.0, 446_000.0, 12.0), "Town hall")
    p.add_bookmark("overview", citytwin.CameraState((84_800, 445_800, 400), (85_000, 446_000, 0)))
    saved = p.save(tmp_path / "x.citytwin")
    q = citytwin.Project.open(saved)
    assert q.source(src.id).path == str(sample)
    assert q.pins == [pin]
    assert q.bookmark("overview").camera.position == (84_800.0, 445_800.0, 400.0)
    assert msgspec.json.decode(saved.read_bytes())["pins"][0]["title"] == "Town hall"


def test_measurement_values():
    p = Project()
    d = p.add_measurement("distance", [(0, 0, 0), (3, 4, 0), (3, 4, 12)])
    assert d.values() == {"length": 17.0, "horizontal": 5.0, "height difference": 12.0}
    a = p.add_measurement("area", [(0, 0, 0), (10, 0, 0), (10, 0, 20), (0, 0, 20)])  # a vertical wall
    assert a.area_3d() == pytest.approx(200.0) and a.area_projected() == pytest.approx(0.0)
    assert a.length_3d() == pytest.approx(60.0)
    h = p.add_measurement("object-height", [(0, 0, 0), (0, 0, 9)], value=9.25)
    assert h.values() == {"height": 9.25}
    with pytest.raises(ValueError, match="finite"):
        p.add_pin((0, float("nan"), 0), "bad")


def test_measurement_in_latitude_longitude_is_in_metres_and_moves_between_crss():
    from pyproj import Geod

    from citytwin.model.crs import CRS

    lat, lon = 35.6586, 139.7454
    points = [(lat, lon, 10.0), (lat + 0.0004, lon + 0.0003, 10.0), (lat + 0.0004, lon, 40.0)]
    m = Project().add_measurement("distance", points, crs="EPSG:4326")
    # in metres (UTM zone 54 N), not degrees: within the zone's scale factor of the geodesic lengths
    geod = Geod(ellps="WGS84")
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    ground = sum(geod.inv(lons[i], lats[i], lons[i + 1], lats[i + 1])[2] for i in range(2))
    assert m.length_horizontal() == pytest.approx(ground, rel=1e-3)
    assert m.height_difference() == 30.0
    utm = CRS("EPSG:32654", 32654)
    moved = m.in_crs(utm)
    assert moved.crs == "EPSG:32654" and moved.array[0, 0] > 100_000
    assert moved.length_3d() == pytest.approx(m.length_3d(), abs=1e-6)
    assert moved.in_crs(utm) is moved and m.in_crs(None) is m
    np.testing.assert_allclose(moved.in_crs(CRS("EPSG:4326", 4326)).array, m.array, atol=1e-9)
    # without a CRS (older projects): the points are taken as they are
    plain = Project().add_measurement("distance", [(0, 0, 0), (3, 4, 0)])
    assert plain.crs is None and plain.in_crs(utm) is plain and plain.length_3d() == 5.0


def test_readme_python_example_runs(tmp_path, monkeypatch):
    import re

    code = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S).group(1)
    (tmp_path / "district.city.json").write_bytes((ROOT / "assets" / "sample_district.city.json").read_bytes())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    project = namespace["p"]
    assert [b.name for b in project.bookmarks] == ["overview"]
    assert project.pins[0].source == project.sources[0].id
    assert (tmp_path / "district.citytwin").is_file()
