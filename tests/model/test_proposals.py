"""Proposed buildings from meshes, and the existing buildings under them."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import trimesh

from citytwin.model.buildings import BuildingSpec, make_building
from citytwin.model.object_json import geometry_surfaces
from citytwin.model.proposals import (
    PROPOSAL_ATTRIBUTE,
    footprint_overlap_fractions,
    footprint_overlaps,
    proposal_from_mesh,
)
from citytwin.model.scenario import AddObject, Scenario, add_edit
from citytwin.model.triangulate import triangulate

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample_district.city.json"


# ---------------------------------------------------------------------------- helpers
def _surfaces(add: AddObject) -> list:
    return list(geometry_surfaces(add.cityobject))


def _triangles(add: AddObject) -> np.ndarray:
    """``(T, 3, 3)`` triangles of every surface, wound like the surface."""
    v = add.vertex_array()
    rings = [np.asarray(r, np.int64) for s in _surfaces(add) for r in s.rings]
    flat = np.concatenate(rings)
    ring_offsets = np.concatenate([[0], np.cumsum([len(r) for r in rings])])
    polygon_rings = np.concatenate([[0], np.cumsum([len(s.rings) for s in _surfaces(add)])])
    tri, _, degenerate = triangulate(v[flat] - v.mean(axis=0), ring_offsets, polygon_rings)
    assert not degenerate.any()
    return v[flat[tri]]


def _volume(add: AddObject) -> float:
    t = _triangles(add)
    t = t - t.reshape(-1, 3).mean(axis=0)
    return float(np.einsum("ij,ij->", t[:, 0], np.cross(t[:, 1], t[:, 2])) / 6)


def _is_closed(add: AddObject) -> bool:
    """Every ring edge is run once each way (ring edges, so polygons must share their corners)."""
    edges = collections.Counter()
    for s in _surfaces(add):
        for r in s.rings:
            edges.update(zip(r, r[1:] + r[:1], strict=True))
    return all(edges[(b, a)] == n == 1 for (a, b), n in edges.items())


def _classes(add: AddObject) -> collections.Counter:
    return collections.Counter(s.semantic for s in _surfaces(add))


def _valid(add: AddObject) -> None:
    """The object in a CityJSON 2.0 document passes the official schemas and cjval's checks."""
    from tests.io.cityjson_validate import validation_errors

    v = add.vertex_array()
    translate = v.min(axis=0)
    document = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": translate.tolist()},
        "CityObjects": {add.id: add.cityobject},
        "vertices": np.round((v - translate) / 0.001).astype(np.int64).tolist(),
    }
    assert validation_errors(document) == []
    AddObject(id=add.id, cityobject=add.cityobject, vertices=add.vertices)  # validates again
    add_edit(Scenario(name="test"), add)


def _box(extents=(10.0, 20.0, 30.0)) -> trimesh.Trimesh:
    return trimesh.creation.box(extents=extents)


# ---------------------------------------------------------------------------- closed meshes
def test_a_closed_box_is_a_solid_with_six_classified_surfaces_placed_and_scaled():
    box = _box()
    add = proposal_from_mesh(box.vertices, box.faces, position=(1000.0, 2000.0, 35.0), scale=2.0, object_id="tower")
    g = add.cityobject["geometry"]
    assert len(g) == 1 and g[0]["type"] == "Solid" and g[0]["lod"] == "2" and len(g[0]["boundaries"]) == 1
    assert add.id == "tower" and add.cityobject["type"] == "Building"
    surfaces = _surfaces(add)
    assert len(surfaces) == 6 and all(len(s.rings) == 1 and len(s.rings[0]) == 4 for s in surfaces)
    assert _classes(add) == {"GroundSurface": 1, "WallSurface": 4, "RoofSurface": 1}
    v = add.vertex_array()
    assert len(v) == 8
    np.testing.assert_allclose(v.min(axis=0), [990.0, 1980.0, 35.0])
    np.testing.assert_allclose(v.max(axis=0), [1010.0, 2020.0, 95.0])
    assert _is_closed(add)
    assert _volume(add) == pytest.approx(8 * 10 * 20 * 30, rel=1e-9)  # positive: normals point outwards
    # the ground is the face at the base, the roof the one at the top
    for s in surfaces:
        z = v[s.rings[0], 2]
        if s.semantic == "GroundSurface":
            assert np.allclose(z, 35.0)
        elif s.semantic == "RoofSurface":
            assert np.allclose(z, 95.0)
    assert add.cityobject["attributes"] == {"measuredHeight": 60.0, PROPOSAL_ATTRIBUTE: True}
    _valid(add)


def test_rotation_turns_about_the_position():
    box = _box((10.0, 20.0, 5.0))
    add = proposal_from_mesh(box.vertices, box.faces, position=(50.0, -20.0, 0.0), rotate_deg=90.0)
    v = add.vertex_array()
    np.testing.assert_allclose(v.min(axis=0), [40.0, -25.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(v.max(axis=0), [60.0, -15.0, 5.0], atol=1e-9)
    assert _volume(add) == pytest.approx(1000.0)


def test_a_mesh_in_world_coordinates_can_stay_where_it_is():
    box = _box((10.0, 20.0, 5.0))
    world = box.vertices + [389_700.0, 5_800_200.0, 42.5]
    add = proposal_from_mesh(world, box.faces, position=None)
    np.testing.assert_allclose(add.vertex_array().min(axis=0), world.min(axis=0), atol=1e-9)
    np.testing.assert_allclose(add.vertex_array().max(axis=0), world.max(axis=0), atol=1e-9)
    turned = proposal_from_mesh(world, box.faces, position=None, rotate_deg=90.0, scale=2.0)
    np.testing.assert_allclose(turned.vertex_array().min(axis=0), [389_680.0, 5_800_190.0, 40.0], atol=1e-6)
    np.testing.assert_allclose(turned.vertex_array().max(axis=0), [389_720.0, 5_800_210.0, 50.0], atol=1e-6)


def test_vertices_no_face_uses_are_ignored():
    box = _box((10.0, 20.0, 5.0))
    stray = np.concatenate([box.vertices, [[1e4, 1e4, -300.0], [np.pi, 0.0, 99.0]]])
    add = proposal_from_mesh(stray, box.faces, position=(0.0, 0.0, 10.0))
    np.testing.assert_allclose(add.vertex_array().min(axis=0), [-5.0, -10.0, 10.0])
    assert len(add.vertices) == 8 and add.cityobject["attributes"]["measuredHeight"] == 5.0


def test_inward_and_mixed_windings_come_out_outwards():
    box = _box()
    faces = box.faces.copy()
    faces[::3] = faces[::3, ::-1]  # some triangles turned over
    add = proposal_from_mesh(box.vertices, faces)
    assert add.cityobject["geometry"][0]["type"] == "Solid"
    assert _is_closed(add) and _volume(add) == pytest.approx(6000.0)
    inward = proposal_from_mesh(box.vertices, box.faces[:, ::-1])
    assert _volume(inward) == pytest.approx(6000.0)
    assert _classes(inward) == {"GroundSurface": 1, "WallSurface": 4, "RoofSurface": 1}


def test_quads_and_split_vertices_are_welded_into_one_solid():
    box = _box()
    corners = box.vertices[box.faces].reshape(-1, 3)  # every triangle with its own three vertices
    add = proposal_from_mesh(corners, np.arange(len(corners)).reshape(-1, 3))
    assert add.cityobject["geometry"][0]["type"] == "Solid" and len(_surfaces(add)) == 6
    quads = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
    cube = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
    add = proposal_from_mesh(cube, quads)
    assert add.cityobject["geometry"][0]["type"] == "Solid" and len(_surfaces(add)) == 6
    assert _volume(add) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("footprint", "holes", "roof"),
    [
        ([[0, 0], [10, 0], [10, 4], [4, 4], [4, 10], [0, 10]], [], "flat"),  # L-shaped
        ([[0, 0], [20, 0], [20, 16], [0, 16]], [[[5, 4], [15, 4], [15, 12], [5, 12]]], "flat"),  # courtyard
        ([[0, 0], [12, 0], [12, 8], [0, 8]], [], "hipped"),
        ([[0, 0], [12, 0], [12, 8], [0, 8]], [], "gabled"),
    ],
)
def test_a_triangulated_building_merges_back_into_its_surfaces(footprint, holes, roof):
    building = make_building(BuildingSpec(footprint=footprint, holes=holes, height=9.0, roof=roof, roof_height=3.0))
    tri, _ = building.triangles()
    add = proposal_from_mesh(building.vertices, tri)
    assert add.cityobject["geometry"][0]["type"] == "Solid"
    assert len(_surfaces(add)) == len(building.surfaces)
    assert _classes(add) == collections.Counter(building.classes)
    assert sorted(len(s.rings) for s in _surfaces(add)) == sorted(len(s) for s in building.surfaces)
    assert _is_closed(add)
    assert _volume(add) == pytest.approx(building.volume(), rel=1e-9)
    _valid(add)


def test_two_separate_closed_parts_are_a_multisurface_of_outward_shells():
    # a Building may not hold a MultiSolid, and a CompositeSolid must be connected
    a, b = _box((10, 10, 10)), _box((4, 4, 20))
    vertices = np.concatenate([a.vertices, b.vertices + [20, 0, 5]])  # on the same ground
    faces = np.concatenate([a.faces, b.faces[:, ::-1] + len(a.vertices)])
    add = proposal_from_mesh(vertices, faces)
    g = add.cityobject["geometry"][0]
    assert g["type"] == "MultiSurface" and len(g["boundaries"]) == 12
    assert _classes(add) == {"GroundSurface": 2, "WallSurface": 8, "RoofSurface": 2}
    assert _volume(add) == pytest.approx(1000 + 320)
    _valid(add)


def test_an_overhang_underside_is_an_outer_ceiling():
    # a T in elevation: a prism over a T-shaped footprint, stood up (y becomes the height)
    t_shape = [[0, 0], [4, 0], [4, 3], [6, 3], [6, 6], [-2, 6], [-2, 3], [0, 3]]
    prism = make_building(BuildingSpec(footprint=t_shape, height=4.0))
    tri, _ = prism.triangles()
    add = proposal_from_mesh(prism.vertices[:, [0, 2, 1]], tri)  # mirrored: turned outwards again
    assert add.cityobject["geometry"][0]["type"] == "Solid"
    assert _classes(add) == {"GroundSurface": 1, "RoofSurface": 1, "OuterCeilingSurface": 2, "WallSurface": 6}
    assert _volume(add) == pytest.approx(prism.volume())


# ---------------------------------------------------------------------------- open meshes
def test_an_open_mesh_is_a_multisurface():
    box = _box()
    up = box.face_normals[:, 2] > 0.5
    add = proposal_from_mesh(box.vertices, box.faces[~up])  # no roof
    g = add.cityobject["geometry"][0]
    assert g["type"] == "MultiSurface"
    assert _classes(add) == {"GroundSurface": 1, "WallSurface": 4}
    _valid(add)


def test_an_open_mesh_facing_inwards_is_turned_outwards():
    box = _box()
    down = box.face_normals[:, 2] < -0.5
    add = proposal_from_mesh(box.vertices, box.faces[~down][:, ::-1])  # no ground, every face inwards
    assert _classes(add) == {"RoofSurface": 1, "WallSurface": 4}


def test_y_up_meshes_stand_upright():
    box = _box((10.0, 30.0, 20.0))  # tall along y
    add = proposal_from_mesh(box.vertices, box.faces, up_axis="y")
    np.testing.assert_allclose(np.ptp(add.vertex_array(), axis=0), [10.0, 20.0, 30.0])
    assert add.cityobject["attributes"]["measuredHeight"] == 30.0


def test_attributes_are_added_and_win():
    box = _box()
    add = proposal_from_mesh(box.vertices, box.faces, attributes={"function": "31001_2000", "measuredHeight": 31.5})
    assert add.cityobject["attributes"] == {"measuredHeight": 31.5, PROPOSAL_ATTRIBUTE: True, "function": "31001_2000"}
    assert proposal_from_mesh(box.vertices, box.faces).id.startswith("proposal-")


@pytest.mark.parametrize(
    ("vertices", "faces", "kwargs", "message"),
    [
        ([[0, 0, 0], [1, 0, 0], [np.nan, 1, 0]], [[0, 1, 2]], {}, "NaN"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 3]], {}, "outside its 3 vertices"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1]], {}, "at least three"),
        ([[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 1, 2]], {}, "no faces with an area"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [], {}, "no faces"),
        ([], [[0, 1, 2]], {}, "non-empty"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], {"scale": 0}, "scale"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], {"up_axis": "x"}, "up axis"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], {"position": (0, np.inf, 0)}, "position"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], {"lod": "9"}, "LoD"),
    ],
)
def test_bad_meshes_raise_one_sentence(vertices, faces, kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        proposal_from_mesh(vertices, faces, **kwargs)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- footprints
@pytest.fixture(scope="module")
def district():
    from citytwin.io import read

    return read(SAMPLE)


def _building_boxes(model) -> dict[str, np.ndarray]:
    """Plan bounding box ``[xmin, ymin, xmax, ymax]`` of every top-level building, from all its vertices."""
    mesh, objects = model.mesh, model.objects
    corner_poly = np.repeat(np.arange(mesh.n_polygons), np.diff(mesh.ring_offsets[mesh.polygon_rings]))
    corner_root = objects.roots[mesh.poly_object[corner_poly]]
    out = {}
    for b, oid in enumerate(objects.ids):
        if objects.types[b] == "Building" and objects.parents[b] < 0:
            xy = mesh.vertices[corner_root == b, :2]
            out[oid] = np.concatenate([xy.min(axis=0), xy.max(axis=0)])
    return out


def _block_proposal(lo, hi, z: float, **kwargs) -> AddObject:
    box = _box((hi[0] - lo[0], hi[1] - lo[1], 40.0))
    centre = ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, z)
    return proposal_from_mesh(box.vertices, box.faces, position=centre, **kwargs)


def test_footprint_overlaps_picks_the_buildings_of_a_block(district):
    boxes = _building_boxes(district)
    # the south-west row of the district: buildings 1 to 4, with a margin to everything else
    x0, y0 = district.bounds[0], district.bounds[1]
    lo, hi = np.array([x0 + 46.0, y0 + 44.0]), np.array([x0 + 103.0, y0 + 66.0])
    inside = {oid for oid, b in boxes.items() if (b[:2] >= lo).all() and (b[2:] <= hi).all()}
    touching = {oid for oid, b in boxes.items() if (b[:2] <= hi).all() and (b[2:] >= lo).all()}
    assert inside == touching and len(inside) == 4  # the block is clean: no building half in it
    add = _block_proposal(lo, hi, 35.0)
    assert footprint_overlaps(district, add) == sorted(inside, key=district.objects.index.get)
    fractions = footprint_overlap_fractions(district, add)
    assert set(fractions) == inside and all(f == pytest.approx(1.0) for f in fractions.values())


def test_footprint_overlaps_weighs_the_share_covered(district):
    boxes = _building_boxes(district)
    b = boxes["building-0002"]
    mid = (b[0] + b[2]) / 2
    # covers the building's west part up to its bbox's middle, and nothing else
    lo, hi = np.array([b[0] - 1.5, b[1] - 1.5]), np.array([mid, b[3] + 1.5])
    assert [oid for oid, o in boxes.items() if (o[:2] <= hi).all() and (o[2:] >= lo).all()] == ["building-0002"]
    add = _block_proposal(lo, hi, 35.0)
    share = footprint_overlap_fractions(district, add)["building-0002"]
    assert 0.2 < share < 0.8
    assert footprint_overlaps(district, add, min_overlap=share - 0.01) == ["building-0002"]
    assert footprint_overlaps(district, add, min_overlap=min(1.0, share + 0.01)) == []


def test_footprint_of_an_open_proposal_is_its_hull(district):
    boxes = _building_boxes(district)
    x0, y0 = district.bounds[0], district.bounds[1]
    lo, hi = np.array([x0 + 46.0, y0 + 44.0]), np.array([x0 + 103.0, y0 + 66.0])
    box = _box((hi[0] - lo[0], hi[1] - lo[1], 40.0))
    open_box = box.faces[box.face_normals[:, 2] > -0.5]  # no ground surface
    add = proposal_from_mesh(box.vertices, open_box, position=((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, 35.0))
    assert "GroundSurface" not in _classes(add)
    expected = {oid for oid, b in boxes.items() if (b[:2] >= lo).all() and (b[2:] <= hi).all()}
    assert set(footprint_overlaps(district, add)) == expected


def test_footprint_overlaps_far_away_and_bad_shares(district):
    add = _block_proposal(np.array([0.0, 0.0]), np.array([10.0, 10.0]), 0.0)
    assert footprint_overlaps(district, add) == []
    with pytest.raises(ValueError, match="minimum overlap"):
        footprint_overlaps(district, add, min_overlap=0)
