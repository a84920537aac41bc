"""The vectorised number parser: bit for bit ``float()``, and the CityGML reader that defers ring parsing to it."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from lxml import etree

from citytwin.io import citygml
from citytwin.io.coords import parse_floats, parse_tokens
from citytwin.io.options import LoadOptions
from tests.conftest import shared_file
from tests.io.test_citygml import CITYGML_FILES
from tests.io.test_citygml_bad_input import SQUARE, building, citymodel, multisurface, polygon

SEPARATORS = [" ", "  ", "\n", "\t", " \n\t ", "\r\n", "\n        "]


def _bits(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).view(np.int64)


def _same_as_float(tokens: list[str], text: str) -> None:
    expected = _bits([float(t) for t in tokens])
    np.testing.assert_array_equal(_bits(parse_floats(text)), expected)
    np.testing.assert_array_equal(_bits(parse_floats(text.encode())), expected)


def _random_token(rng: random.Random) -> str:
    n_int = rng.choice([0, 1, 1, 2, 3, 5, 6, 6, 7, 8, 9, 12, 13, 15])
    n_frac = rng.choice([0, 1, 2, 3, 3, 3, 4, 6, 9, 12, 13, 14])
    if n_int + n_frac == 0:
        n_int = 1
    digits = "".join(rng.choice("0123456789") for _ in range(n_int))
    if digits and rng.random() < 0.8:
        digits = digits.lstrip("0") or "0"
    tok = digits
    if n_frac or rng.random() < 0.05:
        tok += "." + "".join(rng.choice("0123456789") for _ in range(n_frac))
        if rng.random() < 0.1:
            tok += "000"
    if rng.random() < 0.35:
        tok = "-" + tok
    elif rng.random() < 0.03:
        tok = "+" + tok
    if rng.random() < 0.05:
        tok += rng.choice("eE") + rng.choice(["", "-", "+"]) + str(rng.randint(0, 30))
    return tok


def test_random_decimal_strings_are_bit_identical_to_float():
    rng = random.Random(20240611)
    tokens = [_random_token(rng) for _ in range(200_000)]
    text = "".join(t + rng.choice(SEPARATORS) for t in tokens)
    _same_as_float(tokens, "  \n\t" + text)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3, 1e5, 1e7])
def test_coordinates_printed_by_python_and_numpy_round_trip(scale):
    rng = np.random.default_rng(7)
    values = rng.normal(size=20_000) * scale
    for tokens in ([repr(float(v)) for v in values], [f"{v:.3f}" for v in values], [f"{v:.6f}" for v in values]):
        _same_as_float(tokens, " ".join(tokens))


def test_edge_tokens():
    tokens = [
        "78248.661", "-0.5", "5.8e6", "457604.591000", "1E-3", "0", "-0", "+0.0", "-0.000", "+3.", ".5", "-.25",
        "007", "0.1", "0.30000000000000004", "9007199254740993", "9007199254740992", "4503599627370497.5",
        "1234567890123", "-1234567890123.", "1.234567890123", "99999999999999999999999", "1e22", "1e23", "1e-22",
        "123456789e-30", "nan", "-nan", "NaN", "inf", "-Infinity", "1_000", "1e500", "1e-500",
        "2.2250738585072014e-308", "4.9e-324", "1.7976931348623157e308",
    ]  # fmt: skip
    _same_as_float(tokens, "\n".join(tokens))
    for tok in tokens:
        _same_as_float([tok], f" {tok}\n")


def test_empty_and_blank_text():
    assert parse_floats("").shape == (0,)
    assert parse_floats(" \n\t ").shape == (0,)
    assert parse_floats(b"").dtype == np.float64


@pytest.mark.parametrize(
    "bad", ["1.2.3", "--1", "+-1", "1-2", "-", "+", ".", "e5", "1e", "1e+", "abc", "0x10", "1,5", "1__0", "nan(1)"]
)
def test_garbage_is_a_value_error_like_float(bad):
    with pytest.raises(ValueError):
        float(bad)
    with pytest.raises(ValueError):
        parse_floats(f"1 2 {bad} 4")
    values, starts, ok = parse_tokens(f" 1 2 {bad} 4 ".encode())
    assert ok.tolist() == [True, True, False, True]
    assert np.isnan(values[2]) and values.tolist()[:2] == [1.0, 2.0] and values[3] == 4.0
    assert starts.tolist() == [1, 3, 5, 6 + len(bad)]
    assert parse_tokens(f"1 {bad}".encode())[2].tolist() == [True, False]  # no whitespace around: padded
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        parse_floats(f"1\n{bad} 3")


def test_text_that_is_not_ascii_splits_like_str_split():
    text = "1.5\u00a02.5\u2003-3 \u0661\u0662"  # no-break space, em space, Arabic-Indic digits
    np.testing.assert_array_equal(parse_floats(text), np.array(text.split(), dtype=np.float64))
    np.testing.assert_array_equal(parse_floats(text.encode()), [1.5, 2.5, -3.0, 12.0])
    with pytest.raises(ValueError):
        parse_floats("1 2 \u00e9")


@pytest.mark.parametrize("rel", CITYGML_FILES)
def test_every_coordinate_text_of_the_shared_files(rel):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, recover=True)
    tree = etree.parse(str(shared_file(rel)), parser)
    texts = [e.text or "" for e in tree.iter("{*}posList", "{*}pos", "{*}lowerCorner", "{*}upperCorner")]
    assert texts
    joined = " " + " ".join(texts) + " "
    tokens = joined.split()
    values, _, ok = parse_tokens(joined.encode())
    expected, expected_ok = [], []
    for tok in tokens:
        try:
            expected.append(float(tok))
            expected_ok.append(True)
        except ValueError:
            expected.append(np.nan)
            expected_ok.append(False)
    assert ok.tolist() == expected_ok
    np.testing.assert_array_equal(_bits(values)[ok], _bits(expected)[ok])
    for text in texts[:: max(1, len(texts) // 500)]:  # one text at a time, as the old reader parsed them
        try:
            reference = np.array(text.split(), dtype=np.float64)
        except ValueError:
            with pytest.raises(ValueError):
                parse_floats(text)
            continue
        np.testing.assert_array_equal(_bits(parse_floats(text)), _bits(reference))


# ------------------------------------------------------------- the reader
@pytest.fixture
def ring_by_ring(monkeypatch):
    """Make the reader parse each ring on the spot, as it did before batching."""
    original = citygml._Reader._new_batch

    def new_batch(self):
        self.defer = False
        self.geom.deferred = None
        original(self)

    def use():
        monkeypatch.setattr(citygml._Reader, "_new_batch", new_batch)

    return use


def _same_model(a, b) -> None:
    ma, mb = a.mesh, b.mesh
    for name in ("vertices", "ring_offsets", "polygon_rings", "poly_object", "poly_semantic", "poly_lod", "triangles"):
        x, y = getattr(ma, name), getattr(mb, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        if x.dtype.kind == "f":  # bit for bit, NaN included
            x, y = x.view(np.uint8), y.view(np.uint8)
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert ma.poly_ids == mb.poly_ids
    assert a.warnings == b.warnings
    assert a.objects.ids == b.objects.ids
    assert a.metadata == b.metadata


@pytest.mark.parametrize("rel", CITYGML_FILES)
def test_batched_parsing_gives_the_same_model_as_ring_by_ring(rel, ring_by_ring, monkeypatch):
    monkeypatch.setattr(citygml, "_BATCH_POLYGONS", 1000)  # several batches on the bigger files
    monkeypatch.setattr(citygml, "_PARSE_TEXTS", 70)  # and several parser calls a batch
    path = shared_file(rel)
    batched = citygml.read(path, LoadOptions(recover=True))
    ring_by_ring()
    _same_model(batched, citygml.read(path, LoadOptions(recover=True)))


def _corner_file(bad: str | None = None) -> str:
    """Reversed rings, holes written before the exterior, gml:pos rings, 2D rings and an implicit template."""
    flipped = (
        '<gml:OrientableSurface orientation="-"><gml:baseSurface>'
        f"{polygon(pid='base', holes=('2 2 0 2 4 0 4 4 0 2 2 0',))}</gml:baseSurface></gml:OrientableSurface>"
    )
    hole_first = (
        '<gml:Polygon gml:id="hf"><gml:interior><gml:LinearRing><gml:posList>1 1 1 1 2 1 2 2 1 1 1 1</gml:posList>'
        "</gml:LinearRing></gml:interior><gml:exterior><gml:LinearRing><gml:posList>0 0 1 5 0 1 5 5 1 0 0 1"
        "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
    )
    pos_ring = (
        "<gml:Polygon><gml:exterior><gml:LinearRing><gml:pos>0 0 7</gml:pos><gml:pos>3 0 7</gml:pos>"
        "<gml:pos>3 3 7</gml:pos><gml:pos>0 0 7</gml:pos></gml:LinearRing></gml:exterior></gml:Polygon>"
    )
    flat = polygon("0 0 9 0 9 9 0 0", dim=2)
    implicit = (
        "<bldg:lod2ImplicitRepresentation><ImplicitGeometry><transformationMatrix>"
        "1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1</transformationMatrix><relativeGMLGeometry>"
        '<gml:MultiSurface gml:id="tpl"><gml:surfaceMember>'
        f"{polygon('0 0 0 1 0 0 1 1 0 0 0 0')}</gml:surfaceMember></gml:MultiSurface>"
        "</relativeGMLGeometry><referencePoint><gml:Point><gml:pos>100 100 0</gml:pos></gml:Point></referencePoint>"
        "</ImplicitGeometry></bldg:lod2ImplicitRepresentation>"
    )
    members = [
        building(f"<bldg:lod2MultiSurface>{multisurface(flipped, hole_first)}</bldg:lod2MultiSurface>", "b1"),
        building(f"<bldg:lod2MultiSurface>{multisurface(pos_ring, flat)}</bldg:lod2MultiSurface>{implicit}", "b2"),
        building(f"<bldg:lod2MultiSurface>{multisurface(polygon(SQUARE, 'p3'))}</bldg:lod2MultiSurface>", "b3"),
    ]
    if bad is not None:
        members.append(building(f"<bldg:lod2MultiSurface>{multisurface(bad)}</bldg:lod2MultiSurface>", "b4"))
    return citymodel(*members)


@pytest.mark.parametrize(
    ("bad", "n_polygons"),
    [
        (None, 6),
        (polygon("0 0 0 1 0 0 1 1"), 6),  # odd count: the file is read again ring by ring
        (polygon("0 0 0 1 0 x 1 1 0 0 0 0"), 6),  # not a number
        (polygon(SQUARE, holes=("0 0 0 1 1",)), 7),  # bad hole: the polygon stays
        (
            "<gml:Polygon><gml:exterior><gml:LinearRing><gml:pos>0 0</gml:pos><gml:pos>1 0</gml:pos>"
            "<gml:pos>1 1</gml:pos></gml:LinearRing></gml:exterior></gml:Polygon>",
            7,
        ),  # 2D gml:pos
        (polygon("0 0 0 1\u00a00 0 1 1 0 0 0 0"), 7),  # a no-break space separates numbers for str.split()
        (polygon("nan 0 0 1 0 0 1 1 0 nan 0 0"), 6),  # parsed, then dropped by the mesh builder
    ],
)
@pytest.mark.parametrize("batch", [1, 2, 50_000])
def test_corner_rings_give_the_same_model_as_ring_by_ring(tmp_path, ring_by_ring, monkeypatch, bad, n_polygons, batch):
    monkeypatch.setattr(citygml, "_BATCH_POLYGONS", batch)
    path = tmp_path / "corners.gml"
    path.write_text(_corner_file(bad), encoding="utf-8")
    seen: list[int] = []
    calls = []
    monkeypatch.setattr(citygml, "parse_tokens", lambda data: calls.append(data) or parse_tokens(data))
    batched = citygml.read(path, LoadOptions(), progress=lambda done, total: seen.append(done))
    assert calls or "\u00a0" in bad  # the rings were parsed in batches (text that is not ASCII: ring by ring)
    assert seen == sorted(seen)  # a second pass never reports less than the first did
    ring_by_ring()
    plain = citygml.read(path, LoadOptions())
    _same_model(batched, plain)
    assert batched.mesh.n_polygons == n_polygons
    if bad is None:  # a bbox filter parses ring by ring (and drops objects left without geometry)
        _same_model(citygml.read(path, LoadOptions(bbox=(-1e9, -1e9, 1e9, 1e9))), plain)


@pytest.mark.parametrize("cut", [False, True])
def test_a_bad_ring_in_a_recovered_file_keeps_the_recovery_warning(tmp_path, ring_by_ring, cut):
    text = _corner_file(polygon("0 0 0 1 0 0 1 1"))
    if cut:  # ends early: read up to the last complete member
        text = text.replace("</CityModel>", building("<gml:name>cut</gml:name>", "b5") + "</CityModel>")
        text = text[: text.rindex("<cityObjectMember>") + 30]
    else:
        text = text.replace('<bldg:Building gml:id="b3">', '<bldg:Building gml:id="b3"><gml:name>x</gml:nam>')
    path = tmp_path / "broken.gml"
    path.write_text(text, encoding="utf-8")
    batched = citygml.read(path, LoadOptions(recover=True))
    assert batched.warnings[0].startswith("The file ends early" if cut else "Line ")
    assert "1 coordinate lists had a count that does not fit their dimension and were skipped." in batched.warnings
    ring_by_ring()
    _same_model(batched, citygml.read(path, LoadOptions(recover=True)))
