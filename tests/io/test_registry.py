"""Reader selection: extension first, content sniffing when the extension lies, clear errors otherwise."""

from __future__ import annotations

import json
import shutil

import pytest

from citytwin.errors import ReaderError, UnsupportedFormat
from citytwin.io import registry
from citytwin.io.registry import pick_reader
from tests.conftest import shared_file


def _seq_text(long_header: bool = False) -> str:
    header = {"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [],
              "transform": {"scale": [0.01, 0.01, 0.01], "translate": [0, 0, 0]}}  # fmt: skip
    if long_header:  # a header longer than the sniffed head
        header["metadata"] = {"title": "x" * (registry.SNIFF_BYTES + 100)}
    geometry = {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}
    feature = {
        "type": "CityJSONFeature",
        "id": "a",
        "vertices": [[0, 0, 0], [100, 0, 0], [0, 100, 0]],
        "CityObjects": {"a": {"type": "Building", "geometry": [geometry]}},
    }
    return json.dumps(header) + "\n" + json.dumps(feature) + "\n"


@pytest.mark.parametrize(
    "rel",
    ["cityjson/delft.json", "cityjson/DenHaag_01_v0.8.json", "cityjson/geoRES_testdata_v1.0.0_cj0.6.json",
     "cityjson/rotterdam/rotterdam_one.json"],
)  # fmt: skip
def test_cityjson_files_pick_the_cityjson_reader(rel):
    assert pick_reader(shared_file(rel)).name == "CityJSON"


def test_citygml_files_pick_the_citygml_reader():
    assert pick_reader(shared_file("citygml/DenHaag_01.xml")).name == "CityGML"
    assert pick_reader(shared_file("citygml/berlin_open_data_sample_data.citygml")).name == "CityGML"


def test_cityjsonseq_by_extension_and_by_content(tmp_path):
    seq = tmp_path / "a.city.jsonl"
    seq.write_text(_seq_text())
    assert pick_reader(seq).name == "CityJSONSeq"
    disguised = tmp_path / "a.json"
    disguised.write_text(_seq_text())
    assert pick_reader(disguised).name == "CityJSONSeq"
    model = registry.read(disguised)
    assert model.format == "CityJSONSeq" and model.mesh.n_polygons == 1


def test_cityjsonseq_with_a_header_longer_than_the_sniffed_head_still_reads(tmp_path):
    disguised = tmp_path / "long.json"
    disguised.write_text(_seq_text(long_header=True))
    model = registry.read(disguised)
    assert model.format == "CityJSONSeq"
    assert len(model.objects) == 1 and model.mesh.n_triangles == 1


def test_cityjson_with_a_wrong_extension_is_sniffed(tmp_path):
    disguised = tmp_path / "delft.xml"
    shutil.copyfile(shared_file("cityjson/delft.json"), disguised)
    assert pick_reader(disguised).name == "CityJSON"
    model = registry.read(disguised)
    assert model.format == "CityJSON" and len(model.objects) == 570
    no_ext = tmp_path / "delft"
    shutil.copyfile(shared_file("cityjson/dummy.json"), no_ext)
    assert registry.read(no_ext).format == "CityJSON"


def test_citygml_with_a_json_extension_is_sniffed(tmp_path):
    disguised = tmp_path / "building.json"
    shutil.copyfile(shared_file("citygml/FZK-Haus-LoD0-KIT-IAI-KHH-B36-V1.gml"), disguised)
    assert pick_reader(disguised).name == "CityGML"


def test_byte_order_mark_is_tolerated(tmp_path):
    path = tmp_path / "bom.dat"
    path.write_bytes(b"\xef\xbb\xbf" + shared_file("cityjson/dummy.json").read_bytes())
    assert pick_reader(path).name == "CityJSON"


def test_unsupported_and_empty_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a city model\n")
    with pytest.raises(UnsupportedFormat) as info:
        pick_reader(text)
    assert ".json" in str(info.value) and info.value.path == text
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFormat):
        registry.read(binary)
    for name, content in (("empty.json", b""), ("blank.city.jsonl", b"\n \n")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ReaderError, match="empty"):
            registry.read(path)
    with pytest.raises(ReaderError, match="does not exist"):
        registry.read(tmp_path / "missing.json")
    with pytest.raises(ReaderError, match="folder"):
        registry.read(tmp_path)


def test_json_that_is_not_cityjson_gives_one_sentence(tmp_path):
    path = tmp_path / "features.json"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    assert pick_reader(path).name == "CityJSON"  # by extension only
    with pytest.raises(ReaderError) as info:
        registry.read(path)
    assert type(info.value) is ReaderError
    assert info.value.reason == 'The file is JSON but not CityJSON (its "type" is "FeatureCollection").'


def test_broken_jsonl_gives_a_reader_error(tmp_path):
    path = tmp_path / "broken.city.jsonl"
    path.write_text('{"type": "CityJSON", "version": "2.0", "CityObj\n')
    with pytest.raises(ReaderError) as info:
        registry.read(path)
    assert info.value.line == 1 and "truncated" in info.value.reason
