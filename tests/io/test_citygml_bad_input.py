"""The CityGML reader on small hand-made files: every kind of bad input, and the GML corners real files rarely show.

Each bad file gives a ReaderError with one sentence or a counted warning, never a crash or a hang.
"""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from citytwin.errors import ReaderError
from citytwin.io.citygml import read
from citytwin.io.options import LoadOptions
from citytwin.model.semantics import SurfaceClass
from tests.conftest import shared_file

NS2 = (
    'xmlns="http://www.opengis.net/citygml/2.0" xmlns:gml="http://www.opengis.net/gml" '
    'xmlns:bldg="http://www.opengis.net/citygml/building/2.0" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:grp="http://www.opengis.net/citygml/cityobjectgroup/2.0" '
    'xmlns:gen="http://www.opengis.net/citygml/generics/2.0" xmlns:app="http://www.opengis.net/citygml/appearance/2.0"'
)
SQUARE = "0 0 0 10 0 0 10 10 0 0 10 0 0 0 0"


def polygon(coords: str = SQUARE, pid: str | None = None, holes: tuple[str, ...] = (), dim: int | None = None) -> str:
    ident = f' gml:id="{pid}"' if pid else ""
    d = f' srsDimension="{dim}"' if dim else ""
    inner = "".join(
        f"<gml:interior><gml:LinearRing><gml:posList{d}>{h}</gml:posList></gml:LinearRing></gml:interior>"
        for h in holes
    )
    return (
        f"<gml:Polygon{ident}><gml:exterior><gml:LinearRing><gml:posList{d}>{coords}</gml:posList>"
        f"</gml:LinearRing></gml:exterior>{inner}</gml:Polygon>"
    )


def multisurface(*polys: str) -> str:
    return (
        "<gml:MultiSurface>"
        + "".join(f"<gml:surfaceMember>{p}</gml:surfaceMember>" for p in polys)
        + ("</gml:MultiSurface>")
    )


def building(body: str, bid: str | None = "b1") -> str:
    ident = f' gml:id="{bid}"' if bid else ""
    return f"<cityObjectMember><bldg:Building{ident}>{body}</bldg:Building></cityObjectMember>"


def citymodel(*members: str, ns: str = NS2) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<CityModel {ns}>\n' + "\n".join(members) + "\n</CityModel>\n"


@pytest.fixture
def write(tmp_path):
    def _write(text: str | bytes, name: str = "f.gml"):
        path = tmp_path / name
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return path

    return _write


def _one_sentence(message: str) -> None:
    assert message.endswith("."), message
    assert "\n" not in message and "Traceback" not in message


# ------------------------------------------------------------------- not XML
def test_empty_file(write):
    for content in (b"", b"   \n\t"):
        with pytest.raises(ReaderError, match="The file is empty"):
            read(write(content), LoadOptions())


def test_binary_garbage_is_not_xml(write):
    with pytest.raises(ReaderError, match="not XML") as info:
        read(write(bytes(range(256)) * 4), LoadOptions())
    _one_sentence(info.value.reason)


def test_xml_that_is_not_citygml(write):
    path = write('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>')
    with pytest.raises(ReaderError, match="not CityGML") as info:
        read(path, LoadOptions())
    _one_sentence(info.value.reason)


def test_unknown_citygml_version(write):
    ns4 = NS2.replace("/2.0", "/4.0")
    path = write(citymodel(building(""), ns=ns4))
    with pytest.raises(ReaderError, match=r"version 4\.0 is not supported") as info:
        read(path, LoadOptions())
    _one_sentence(info.value.reason)


def test_missing_file(tmp_path):
    with pytest.raises(ReaderError, match="does not exist"):
        read(tmp_path / "nope.gml", LoadOptions())


# ---------------------------------------------------------------- malformed
def test_malformed_xml_strict_names_the_line(write):
    text = citymodel(building(f"<bldg:lod2MultiSurface>{multisurface(polygon())}</bldg:lod2MultiSurface>"))
    text = text.replace("</bldg:Building>", "</bldg:Bulding>")
    with pytest.raises(ReaderError) as info:
        read(write(text), LoadOptions(recover=False))
    assert info.value.line == 3
    assert "not well-formed" in info.value.reason
    _one_sentence(info.value.reason)


def test_malformed_xml_recovered_with_a_warning(write):
    good = building(f"<bldg:lod2MultiSurface>{multisurface(polygon())}</bldg:lod2MultiSurface>", "ok")
    bad = building("<gml:name>x</gml:nam>", "broken")
    model = read(write(citymodel(good, bad)), LoadOptions())
    assert model.objects.ids[0] == "ok" and model.mesh.n_polygons == 1
    assert model.warnings[0].startswith("Line 4: ") and model.warnings[0].endswith("recovery mode.")


def test_truncated_file(write):
    text = citymodel(*(building(f"<bldg:lod2MultiSurface>{multisurface(polygon())}</bldg:lod2MultiSurface>", f"b{i}")
                       for i in range(20)))  # fmt: skip
    path = write(text[: len(text) // 2])
    with pytest.raises(ReaderError, match="not well-formed"):
        read(path, LoadOptions(recover=False))
    model = read(path, LoadOptions())
    assert 5 <= len(model.objects) < 20
    k = len(model.objects)
    assert model.objects.ids == [f"b{i}" for i in range(k)]  # complete members only, in order
    assert model.mesh.n_polygons == k
    lines = text[: len(text) // 2].count("\n") + 1
    assert model.warnings[0] == f"The file ends early at line {lines}; the {k} city objects before it were read."


BERLIN = "citygml/berlin_open_data_sample_data.citygml"


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_real_file_cut_short_keeps_the_complete_objects(tmp_path, fraction):
    """A cut file gives the city objects before the cut, each whole, and one warning naming the line."""
    data = shared_file(BERLIN).read_bytes()
    cut = data[: int(len(data) * fraction)]
    path = tmp_path / "cut.gml"
    path.write_bytes(cut)
    full = read(shared_file(BERLIN), LoadOptions())
    n_complete = cut.count(b"</cityObjectMember>")
    assert n_complete > 0
    with pytest.raises(ReaderError, match="ends early") as info:
        read(path, LoadOptions(recover=False))
    _one_sentence(info.value.reason)
    model = read(path, LoadOptions())
    line = cut.count(b"\n") + 1
    assert model.warnings[0] == (
        f"The file ends early at line {line}; the {n_complete} city objects before it were read."
    )
    assert not any("recovery mode" in w or "coordinate" in w for w in model.warnings)
    top = model.objects.parents == -1
    assert top.sum() == n_complete
    # the objects read are exactly the first ones of the whole file, geometry and all: none is cut off
    n = len(model.objects)
    assert model.objects.ids == full.objects.ids[:n]
    assert n == len(full.objects) or full.objects.parents[n] == -1
    keep = full.mesh.poly_object < n
    np.testing.assert_array_equal(model.mesh.poly_object, full.mesh.poly_object[keep])
    np.testing.assert_array_equal(model.mesh.vertices, full.mesh.select_polygons(keep).vertices)


@pytest.mark.parametrize("cut_at", ["header", "first member"])
def test_file_cut_before_any_complete_object_is_an_error(tmp_path, cut_at):
    data = shared_file(BERLIN).read_bytes()
    first_end = data.index(b"</cityObjectMember>")
    end = data.index(b"<cityObjectMember") // 2 if cut_at == "header" else first_end - 40
    path = tmp_path / "cut.gml"
    path.write_bytes(data[:end])
    with pytest.raises(ReaderError) as info:
        read(path, LoadOptions())
    line = data[:end].count(b"\n") + 1
    assert info.value.reason == "The file ends early, before any city object was complete."
    assert info.value.line == line


def test_undeclared_prefix_strict_and_recovered(write):
    text = citymodel(building("<energy:isHeated>true</energy:isHeated>"))
    with pytest.raises(ReaderError, match="energy") as info:
        read(write(text), LoadOptions(recover=False))
    assert info.value.line == 3
    model = read(write(text), LoadOptions())
    assert model.objects.attributes[0]["energy:isHeated"] == "true"
    assert model.warnings[0].startswith("Line 3: namespace prefix energy")


# ------------------------------------------------------------------ attacks
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


@pytest.mark.timeout(20)
def test_billion_laughs_is_refused_quickly(write):
    body = citymodel(building("<gml:name>&lol9;</gml:name>")).split("\n", 1)[1]
    path = write(BILLION_LAUGHS + body)
    start = time.perf_counter()
    with pytest.raises(ReaderError, match="entities") as info:
        read(path, LoadOptions())
    assert time.perf_counter() - start < 2
    _one_sentence(info.value.reason)


@pytest.mark.timeout(20)
def test_external_entity_is_never_read(write, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    head = f'<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>\n'
    body = citymodel(building("<gml:name>&xxe;</gml:name><bldg:function>&xxe;</bldg:function>")).split("\n", 1)[1]
    path = write(head + body)
    for recover in (True, False):
        with pytest.raises(ReaderError, match="entities") as info:
            read(path, LoadOptions(recover=recover))
        assert "TOPSECRET" not in str(info.value)


def test_a_doctype_without_entities_is_harmless(write):
    text = citymodel(building("<gml:name>plain</gml:name>")).replace("?>\n", "?>\n<!DOCTYPE CityModel>\n", 1)
    model = read(write(text), LoadOptions())
    assert model.objects.attributes[0]["name"] == "plain"


# ------------------------------------------------------------- coordinates
def _ms(*polys: str) -> str:
    return f"<bldg:lod2MultiSurface>{multisurface(*polys)}</bldg:lod2MultiSurface>"


def test_nan_and_inf_coordinates_are_dropped_with_a_count(write):
    bad1 = "0 0 0 nan 0 0 10 10 0 0 0 0"
    bad2 = "0 0 0 inf 0 0 10 10 0 0 0 0"
    model = read(write(citymodel(building(_ms(polygon(), polygon(bad1), polygon(bad2))))), LoadOptions())
    assert model.mesh.n_polygons == 1
    assert "2 polygons or rings were skipped: NaN or infinite coordinates." in model.warnings


def test_ring_with_fewer_than_three_points(write):
    model = read(write(citymodel(building(_ms(polygon("0 0 0 1 1 1 0 0 0"), polygon())))), LoadOptions())
    assert model.mesh.n_polygons == 1
    assert "1 polygons or rings were skipped: ring with fewer than 3 points." in model.warnings


def test_zero_area_polygon_gets_no_triangles(write):
    model = read(write(citymodel(building(_ms(polygon("0 0 0 1 0 0 2 0 0 0 0 0"), polygon())))), LoadOptions())
    assert model.mesh.n_polygons == 2
    assert set(model.mesh.tri_polygon.tolist()) == {1}
    assert any("zero area" in w for w in model.warnings)


def test_self_intersecting_polygon_does_not_crash(write):
    bowtie = "0 0 0 10 10 0 10 0 0 0 10 0 0 0 0"
    model = read(write(citymodel(building(_ms(polygon(bowtie))))), LoadOptions())
    assert model.mesh.n_polygons == 1
    assert np.isin(model.mesh.triangles, np.arange(4)).all()


def test_odd_coordinate_count_and_text_in_poslist(write):
    odd = "0 0 0 10 0 0 10 10 0 0 10"
    words = "0 0 0 ten 0 0 10 10 0 0 0 0"
    model = read(write(citymodel(building(_ms(polygon(odd), polygon(words), polygon())))), LoadOptions())
    assert model.mesh.n_polygons == 1
    assert "1 coordinate lists had a count that does not fit their dimension and were skipped." in model.warnings
    assert "1 coordinate lists held text that is not a number and were skipped." in model.warnings


def test_2d_coordinates_get_zero_height(write):
    model = read(write(citymodel(building(_ms(polygon("0 0 10 0 10 10 0 10 0 0", dim=2))))), LoadOptions())
    np.testing.assert_array_equal(model.mesh.vertices[:, 2], 0)
    assert model.mesh.vertices.shape == (4, 3)
    assert "1 rings had 2D coordinates; their heights were set to 0." in model.warnings


def test_pos_and_coordinates_encodings(write):
    pos = "".join(f"<gml:pos>{x} {y} 5</gml:pos>" for x, y in [(0, 0), (4, 0), (4, 4), (0, 0)])
    p1 = f"<gml:Polygon><gml:exterior><gml:LinearRing>{pos}</gml:LinearRing></gml:exterior></gml:Polygon>"
    coords = '<gml:coordinates cs="," ts=" ">0,0,7 3,0,7 3,3,7 0,0,7</gml:coordinates>'
    p2 = f"<gml:Polygon><gml:exterior><gml:LinearRing>{coords}</gml:LinearRing></gml:exterior></gml:Polygon>"
    model = read(write(citymodel(building(_ms(p1, p2)))), LoadOptions())
    np.testing.assert_array_equal(
        model.mesh.vertices, [[0, 0, 5], [4, 0, 5], [4, 4, 5], [0, 0, 7], [3, 0, 7], [3, 3, 7]]
    )


def test_hole_is_kept_and_left_open(write):
    hole = "4 4 0 4 6 0 6 6 0 6 4 0 4 4 0"
    model = read(write(citymodel(building(_ms(polygon(holes=(hole,)))))), LoadOptions())
    mesh = model.mesh
    assert mesh.n_rings == 2
    assert mesh.polygon_areas()[0] == pytest.approx(96.0)
    assert mesh.triangle_areas().sum() == pytest.approx(96.0)
    tris = mesh.vertices[mesh.triangles][:, :, :2]
    centre = np.array([5.0, 5.0])

    def cross2(u, v):
        return u[0] * v[1] - u[1] * v[0]

    for a, b, c in tris:
        d1, d2, d3 = (cross2(q - p, centre - p) for p, q in ((a, b), (b, c), (c, a)))
        assert not ((d1 > 0 and d2 > 0 and d3 > 0) or (d1 < 0 and d2 < 0 and d3 < 0))


# ------------------------------------------------------------------ xlinks
def _solid(*ids: str) -> str:
    members = "".join(f'<gml:surfaceMember xlink:href="#{i}"/>' for i in ids)
    return (
        "<bldg:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface>"
        f"{members}</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>"
    )


def _surface(kind: str, poly: str, sid: str | None = None) -> str:
    ident = f' gml:id="{sid}"' if sid else ""
    return f"<bldg:boundedBy><bldg:{kind}{ident}>{_ms(poly)}</bldg:{kind}></bldg:boundedBy>"


def test_forward_and_backward_xlinks_store_each_polygon_once(write):
    # the Solid comes first (forward references), a second building refers back to the first one's polygons
    b1 = building(
        _solid("r1", "w1") + _surface("RoofSurface", polygon(pid="r1")) + _surface("WallSurface", polygon(pid="w1"))
    )
    b2 = building(_solid("r1", "w2") + _surface("WallSurface", polygon(pid="w2")), "b2")
    model = read(write(citymodel(b1, b2)), LoadOptions())
    mesh = model.mesh
    assert sorted(mesh.poly_ids) == ["r1", "w1", "w2"]
    objs = model.objects
    owner = {pid: objs.types[mesh.poly_object[i]] for i, pid in enumerate(mesh.poly_ids)}
    assert owner == {"r1": "RoofSurface", "w1": "WallSurface", "w2": "WallSurface"}
    assert mesh.poly_semantic[mesh.poly_ids.index("r1")] == SurfaceClass.ROOF
    assert not model.warnings


def test_reverse_pattern_surfaces_refer_to_solid_polygons(write):
    solid = (
        "<bldg:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface>"
        f"<gml:surfaceMember>{polygon(pid='p1')}</gml:surfaceMember>"
        "</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>"
    )
    ref = (
        '<bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember xlink:href="#p1"/>'
        "</gml:MultiSurface></bldg:lod2MultiSurface>"
    )
    later = building(
        solid + f"<bldg:boundedBy><bldg:GroundSurface gml:id='g'>{ref}</bldg:GroundSurface></bldg:boundedBy>"
    )
    model = read(write(citymodel(later)), LoadOptions())
    assert model.mesh.n_polygons == 1
    assert model.objects.ids[model.mesh.poly_object[0]] == "g"
    assert model.mesh.poly_semantic[0] == SurfaceClass.GROUND


def test_dangling_xlinks_are_counted(write):
    model = read(
        write(citymodel(building(_solid("nowhere", "gone") + _surface("WallSurface", polygon(pid="w"))))), LoadOptions()
    )
    assert model.mesh.n_polygons == 1
    assert "2 xlink references point to surfaces that are not in the file." in model.warnings


def test_orientable_surface_minus_flips_the_ring(write):
    ori = (
        '<gml:OrientableSurface orientation="-"><gml:baseSurface>'
        f"{polygon(pid='base')}</gml:baseSurface></gml:OrientableSurface>"
    )
    model = read(
        write(citymodel(building(f"<bldg:lod2MultiSurface>{multisurface(ori)}</bldg:lod2MultiSurface>"))), LoadOptions()
    )
    np.testing.assert_array_equal(model.mesh.vertices, [[0, 0, 0], [0, 10, 0], [10, 10, 0], [10, 0, 0]])
    a, b, c = model.mesh.vertices[model.mesh.triangles[0]]
    assert np.cross(b - a, c - a)[2] < 0  # now facing down


# ----------------------------------------------------------- objects, groups
def test_generated_ids_groups_and_generic_attributes(write):
    b1 = building(
        '<gen:stringAttribute name="s"><gen:value>x</gen:value></gen:stringAttribute>'
        '<gen:intAttribute name="i"><gen:value>7</gen:value></gen:intAttribute>'
        '<gen:intAttribute name="bad"><gen:value>seven</gen:value></gen:intAttribute>'
        '<gen:genericAttributeSet name="set"><gen:doubleAttribute name="d"><gen:value>1.5</gen:value>'
        "</gen:doubleAttribute></gen:genericAttributeSet>"
        + _surface("RoofSurface", polygon())
        + _surface("RoofSurface", polygon()),
        None,
    )
    group = (
        '<cityObjectMember><grp:CityObjectGroup gml:id="grp1"><grp:groupMember xlink:href="#Building_1"/>'
        "</grp:CityObjectGroup></cityObjectMember>"
    )
    model = read(write(citymodel(b1, group)), LoadOptions())
    objs = model.objects
    assert objs.ids[:3] == ["Building_1", "Building_1_RoofSurface_1", "Building_1_RoofSurface_2"]
    assert objs.attributes[0] == {"s": "x", "i": 7, "bad": "seven", "set/d": 1.5}
    assert objs.groups == {0: ["grp1"]}
    assert "1 attribute values did not match their declared type and were kept as text." in model.warnings


def test_appearance_themes_materials_and_missing_texture(write):
    app = (
        "<app:appearanceMember><app:Appearance><app:theme>summer</app:theme><app:surfaceDataMember>"
        "<app:X3DMaterial><app:diffuseColor>1 0 0</app:diffuseColor><app:transparency>0.25</app:transparency>"
        "<app:target>#p1</app:target><app:target>#absent</app:target></app:X3DMaterial></app:surfaceDataMember>"
        "<app:surfaceDataMember><app:ParameterizedTexture><app:imageURI>tex/none.jpg</app:imageURI>"
        '<app:target uri="#p1"><app:TexCoordList><app:textureCoordinates ring="#r1">0 0 1 0 1 1 0 1 0 0'
        "</app:textureCoordinates></app:TexCoordList></app:target></app:ParameterizedTexture>"
        "</app:surfaceDataMember></app:Appearance></app:appearanceMember>"
    )
    poly = (
        '<gml:Polygon gml:id="p1"><gml:exterior><gml:LinearRing gml:id="r1">'
        f"<gml:posList>{SQUARE}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
    )
    model = read(write(citymodel(app, building(_ms(poly)))), LoadOptions())
    th = model.mesh.appearances["summer"]
    mat = model.mesh.materials[th.material[0]]
    assert mat.diffuse == (1.0, 0.0, 0.0) and mat.transparency == 0.25
    assert th.texture[0] == 0 and not model.mesh.textures[0].exists
    np.testing.assert_array_equal(th.uv, [[0, 0], [1, 0], [1, 1], [0, 1]])
    assert "1 appearance targets refer to surfaces that are not in the file." in model.warnings
    assert "1 texture image is missing (first: tex/none.jpg)." in model.warnings


def test_citygml3_shell_generic_set_and_spaces(write):
    ns3 = (
        'xmlns="http://www.opengis.net/citygml/3.0" xmlns:core="http://www.opengis.net/citygml/3.0" '
        'xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:tran="http://www.opengis.net/citygml/transportation/3.0" '
        'xmlns:gen="http://www.opengis.net/citygml/generics/3.0" xmlns:xlink="http://www.w3.org/1999/xlink"'
    )
    shell = (
        "<core:lod1Solid><gml:Solid><gml:exterior><gml:Shell>"
        f"<gml:surfaceMember>{polygon().replace('gml:Polygon', 'gml:Polygon')}</gml:surfaceMember>"
        "</gml:Shell></gml:exterior></gml:Solid></core:lod1Solid>"
    )
    attrs = (
        "<core:genericAttribute><gen:GenericAttributeSet><gen:name>info</gen:name>"
        "<gen:genericAttribute><gen:IntAttribute><gen:name>lanes</gen:name><gen:value>2</gen:value>"
        "</gen:IntAttribute></gen:genericAttribute></gen:GenericAttributeSet></core:genericAttribute>"
        "<core:genericAttribute><gen:MeasureAttribute><gen:name>width</gen:name>"
        '<gen:value uom="m">7.5</gen:value></gen:MeasureAttribute></core:genericAttribute>'
    )
    road = (
        f'<core:cityObjectMember><tran:Road gml:id="road">{attrs}<tran:section><tran:Section gml:id="s1">'
        f'<tran:trafficSpace><tran:TrafficSpace gml:id="ts">{shell}</tran:TrafficSpace></tran:trafficSpace>'
        "</tran:Section></tran:section></tran:Road></core:cityObjectMember>"
    )
    model = read(write(citymodel(road, ns=ns3)), LoadOptions())
    assert model.version == "3.0"
    assert model.objects.types == ["Road", "Section", "TrafficSpace"]
    assert model.objects.attributes[0] == {"info/lanes": 2, "width": 7.5, "width_uom": "m"}
    assert model.mesh.n_polygons == 1 and model.lods == ["1"]
    assert model.mesh.poly_semantic[0] == SurfaceClass.TRAFFIC_AREA


def test_lod_filter_on_synthetic_file_drops_geometry_not_objects(write):
    body = f"<bldg:lod1MultiSurface>{multisurface(polygon())}</bldg:lod1MultiSurface>" + _ms(polygon())
    model = read(write(citymodel(building(body))), LoadOptions(lod_min=2, lod_max=2))
    assert model.lods == ["2"] and len(model.objects) == 1


def test_other_thematic_modules_become_rows_with_semantics(write):
    ns = NS2 + (
        ' xmlns:wtr="http://www.opengis.net/citygml/waterbody/2.0" xmlns:tun="http://www.opengis.net/citygml/tunnel/2.0"'
        ' xmlns:veg="http://www.opengis.net/citygml/vegetation/2.0" xmlns:brid="http://www.opengis.net/citygml/bridge/2.0"'
        ' xmlns:frn="http://www.opengis.net/citygml/cityfurniture/2.0"'
    )
    ms = multisurface(polygon())
    members = [
        f'<cityObjectMember><wtr:WaterBody gml:id="w"><wtr:boundedBy><wtr:WaterSurface gml:id="ws">'
        f"<wtr:lod3Surface>{ms}</wtr:lod3Surface></wtr:WaterSurface></wtr:boundedBy>"
        f"<wtr:lod1MultiSurface>{ms}</wtr:lod1MultiSurface></wtr:WaterBody></cityObjectMember>",
        f'<cityObjectMember><tun:Tunnel gml:id="t"><tun:consistsOfTunnelPart><tun:TunnelPart gml:id="tp">'
        f"<tun:boundedBy><tun:RoofSurface><tun:lod2MultiSurface>{ms}</tun:lod2MultiSurface></tun:RoofSurface>"
        "</tun:boundedBy></tun:TunnelPart></tun:consistsOfTunnelPart></tun:Tunnel></cityObjectMember>",
        f'<cityObjectMember><veg:PlantCover gml:id="pc"><veg:lod1MultiSurface>{ms}</veg:lod1MultiSurface>'
        "</veg:PlantCover></cityObjectMember>",
        f'<cityObjectMember><brid:Bridge gml:id="br"><brid:consistsOfBridgePart><brid:BridgePart gml:id="bp">'
        f"<brid:lod2MultiSurface>{ms}</brid:lod2MultiSurface></brid:BridgePart></brid:consistsOfBridgePart>"
        "</brid:Bridge></cityObjectMember>",
        f'<cityObjectMember><gen:GenericCityObject gml:id="g"><gen:lod1Geometry>{ms}</gen:lod1Geometry>'
        "</gen:GenericCityObject></cityObjectMember>",
        f'<cityObjectMember><frn:CityFurniture gml:id="f"><frn:lod2Geometry>{ms}</frn:lod2Geometry>'
        "</frn:CityFurniture></cityObjectMember>",
    ]
    model = read(write(citymodel(*members, ns=ns)), LoadOptions())
    objs = model.objects
    assert objs.types == [
        "WaterBody", "WaterSurface", "Tunnel", "TunnelPart", "RoofSurface", "PlantCover", "Bridge", "BridgePart",
        "GenericCityObject", "CityFurniture",
    ]  # fmt: skip
    parent = {objs.ids[i]: objs.ids[p] if p >= 0 else None for i, p in enumerate(objs.parents)}
    assert parent["ws"] == "w" and parent["tp"] == "t" and parent["tp_RoofSurface_1"] == "tp" and parent["bp"] == "br"
    by_owner = {objs.ids[o]: (SurfaceClass(s), lod) for o, s, lod in zip(
        model.mesh.poly_object, model.mesh.poly_semantic, model.mesh.poly_lod, strict=True)}  # fmt: skip
    assert by_owner == {
        "ws": (SurfaceClass.WATER_SURFACE, 30),
        "w": (SurfaceClass.WATER_SURFACE, 10),
        "tp_RoofSurface_1": (SurfaceClass.ROOF, 20),
        "pc": (SurfaceClass.VEGETATION, 10),
        "bp": (SurfaceClass.NONE, 20),
        "g": (SurfaceClass.NONE, 10),
        "f": (SurfaceClass.NONE, 20),
    }


@pytest.mark.timeout(120)
def test_damaged_real_files_give_a_model_or_one_sentence(write):
    """Seeded damage (truncation, stray bytes, cut-out spans) never crashes the reader nor hangs it."""
    sources = [
        shared_file("citygml/b1_lod2_cs_w_sem.gml").read_bytes(),
        shared_file("citygml/Building_LOD2-EPSG25832_v2.gml").read_bytes(),
        shared_file("citygml/Road_over_Bridge_CityGML3.0_LOD2_with_CityObjectRelations.gml").read_bytes(),
    ]
    rng = random.Random(7)
    outcomes = {"model": 0, "error": 0}
    for n in range(150):
        data = bytearray(rng.choice(sources))
        if n % 3 == 0:
            data = data[: rng.randrange(len(data))]
        elif n % 3 == 1:
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.choice(b"<>&\"'/ 0123456789.-eE#x\x00\xff")
        else:
            i = rng.randrange(len(data))
            del data[i : i + rng.randint(1, 400)]
        path = write(bytes(data))
        for recover in (True, False):
            try:
                read(path, LoadOptions(recover=recover))
                outcomes["model"] += 1
            except ReaderError as exc:
                _one_sentence(exc.reason)
                outcomes["error"] += 1
    assert outcomes["model"] > 50 and outcomes["error"] > 50


def test_texture_coordinates_of_holes_find_their_ring(write):
    holes = ["1 1 0 1 2 0 2 2 0 2 1 0 1 1 0", "4 4 0 4 5 0 5 5 0 5 4 0 4 4 0", "7 7 0 7 8 0 8 8 0 8 7 0 7 7 0"]
    ring_ids = ["h1", None, "h3"]
    inner = ""
    for h, rid in zip(holes, ring_ids, strict=True):
        ident = f' gml:id="{rid}"' if rid else ""
        inner += f"<gml:interior><gml:LinearRing{ident}><gml:posList>{h}</gml:posList></gml:LinearRing></gml:interior>"
    poly = (
        f'<gml:Polygon gml:id="p"><gml:exterior><gml:LinearRing><gml:posList>{SQUARE}</gml:posList>'
        f"</gml:LinearRing></gml:exterior>{inner}</gml:Polygon>"
    )
    app = (
        "<app:appearanceMember><app:Appearance><app:surfaceDataMember><app:ParameterizedTexture>"
        '<app:imageURI>t.png</app:imageURI><app:target uri="#p"><app:TexCoordList>'
        '<app:textureCoordinates ring="#h3">0.1 0.1 0.2 0.2 0.3 0.3 0.4 0.4 0.1 0.1</app:textureCoordinates>'
        "</app:TexCoordList></app:target></app:ParameterizedTexture></app:surfaceDataMember>"
        "</app:Appearance></app:appearanceMember>"
    )
    model = read(write(citymodel(building(_ms(poly)), app)), LoadOptions())
    uv = model.mesh.appearances["default"].uv
    has = np.isfinite(uv).all(axis=1)
    np.testing.assert_array_equal(np.flatnonzero(has), [12, 13, 14, 15])  # the fourth ring: the third hole
    np.testing.assert_allclose(model.mesh.vertices[has][0], [7, 7, 0])
