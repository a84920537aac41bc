"""Overlay settings: defaults, one-sentence checks, the plain-value builder, the project file round trip."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from citytwin.errors import ReaderError
from citytwin.io.project import decode_project, encode_project, read_project, write_project
from citytwin.model.overlays import (
    ANCHORS,
    AttributionOverlay,
    CaptionOverlay,
    LegendOverlay,
    LogoOverlay,
    NorthArrowOverlay,
    OverlaySettings,
    ScaleBarOverlay,
    TitleOverlay,
    overlay_settings,
)
from citytwin.model.project import Project


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.count(". ") == 0 and len(message) < 200


def full_settings() -> OverlaySettings:
    return OverlaySettings(
        title=TitleOverlay(text="Den Haag", subtitle="Centrum, LoD2", anchor="top", size=0.05, panel=False),
        logo=LogoOverlay(path="assets/logo.png", height=0.12, anchor="bottom-right", margin=0.02),
        legend=LegendOverlay(anchor="left"),
        north_arrow=NorthArrowOverlay(anchor="top-right", size=0.1),
        scale_bar=ScaleBarOverlay(max_length=0.3),
        attribution=AttributionOverlay(text="© Gemeente Den Haag", colour=(1.0, 1.0, 1.0)),
        captions=CaptionOverlay(anchor="top", margin=0.1),
    )


def test_nothing_by_default_and_defaults_are_a_usual_layout():
    s = OverlaySettings()
    assert s.empty
    assert s.captions.anchor == "bottom"
    assert TitleOverlay(text="t").anchor == "top-left"
    assert LogoOverlay(path="l.png").anchor == "top-right"
    assert LegendOverlay().anchor == "right"
    assert NorthArrowOverlay().anchor == ScaleBarOverlay().anchor == "bottom-left"
    assert AttributionOverlay(text="©").anchor == "bottom-right"
    assert not full_settings().empty
    assert set(ANCHORS) >= {"top-left", "top", "top-right", "bottom-left", "bottom", "bottom-right"}


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: TitleOverlay(text=" "), "title"),
        (lambda: TitleOverlay(text="t", anchor="middle"), "anchor"),
        (lambda: TitleOverlay(text="t", margin=0.5), "margin"),
        (lambda: TitleOverlay(text="t", size=0.0), "size"),
        (lambda: TitleOverlay(text="t", size=float("nan")), "size"),
        (lambda: TitleOverlay(text="t", colour=(1.0, 2.0, 0.0)), "colour"),
        (lambda: LogoOverlay(path=""), "logo"),
        (lambda: LogoOverlay(path="l.png", height=0.9), "height"),
        (lambda: LegendOverlay(anchor="centre"), "anchor"),
        (lambda: NorthArrowOverlay(size=-1.0), "size"),
        (lambda: ScaleBarOverlay(max_length=2.0), "length"),
        (lambda: AttributionOverlay(text=""), "attribution"),
        (lambda: CaptionOverlay(margin=-0.1), "margin"),
    ],
)
def test_bad_values_are_one_sentence(make, words):
    with pytest.raises(ValueError) as err:
        make()
    assert words in str(err.value) and one_sentence(str(err.value))


def test_logo_path_is_relative_to_the_project_folder(tmp_path):
    logo = LogoOverlay(path="img/logo.png")
    assert logo.resolve(tmp_path) == tmp_path / "img" / "logo.png"
    assert logo.resolve(None) == Path("img/logo.png")
    absolute = LogoOverlay(path=str(tmp_path / "x.png"))
    assert absolute.resolve("/elsewhere") == tmp_path / "x.png"


def test_settings_from_plain_values():
    s = overlay_settings(title="Den Haag", logo="logo.png", scale_bar=True, north_arrow=None, legend={"anchor": "left"})
    assert s.title == TitleOverlay(text="Den Haag")
    assert s.logo == LogoOverlay(path="logo.png")
    assert s.scale_bar == ScaleBarOverlay()
    assert s.north_arrow is None and s.legend == LegendOverlay(anchor="left")
    for bad in ({"compass": True}, {"title": True}, {"legend": {"colour": 1}}, {"scale_bar": 3}):
        with pytest.raises(ValueError) as err:
            overlay_settings(**bad)
        assert one_sentence(str(err.value))


def test_round_trip_through_the_project_file(tmp_path):
    p = Project()
    settings = full_settings()  # in memory a logo path is absolute; the file keeps it relative to itself
    logo = msgspec.structs.replace(settings.logo, path=str(tmp_path / "art" / "logo.png"))
    p.overlays = msgspec.structs.replace(settings, logo=logo)
    data = encode_project(p, tmp_path / "p.citytwin")
    doc = json.loads(data)
    assert doc["overlays"]["title"] == {
        "text": "Den Haag",
        "subtitle": "Centrum, LoD2",
        "anchor": "top",
        "size": 0.05,
        "panel": False,
    }  # defaults left out: a hand-edited file stays short
    assert doc["overlays"]["logo"]["path"] == "art/logo.png"
    back = decode_project(data, tmp_path / "p.citytwin")
    assert back.overlays == p.overlays
    path = write_project(p, tmp_path / "q.citytwin")
    assert read_project(path).overlays == p.overlays


def test_a_project_without_overlays_opens_with_none_and_saves_an_empty_section(tmp_path):
    p = Project()
    doc = json.loads(encode_project(p))
    assert doc["overlays"] == {}
    del doc["overlays"]
    back = decode_project(json.dumps(doc).encode(), tmp_path / "p.citytwin")
    assert back.overlays == OverlaySettings() and back.overlays.empty


def test_a_bad_overlay_in_a_file_is_one_sentence(tmp_path):
    doc = json.loads(encode_project(Project()))
    doc["overlays"] = {"title": {"text": "t", "anchor": "somewhere"}}
    with pytest.raises(ReaderError) as err:
        decode_project(json.dumps(doc).encode(), tmp_path / "p.citytwin")
    assert "anchor" in str(err.value) and "\n" not in str(err.value)


def test_settings_are_frozen_and_edited_by_copy():
    s = full_settings()
    with pytest.raises(AttributeError):
        s.title = None  # type: ignore[misc]
    t = msgspec.structs.replace(s, title=None)
    assert t.title is None and s.title is not None
