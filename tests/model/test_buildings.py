"""New buildings: closed solids with outward normals, the right volume, semantics and attributes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citytwin.model.buildings import ROOF_TYPE_CODES, BuildingSpec, NewBuilding, make_building
from citytwin.model.semantics import SurfaceClass

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "cityjson" / "2.0"
OFFSET = np.array([85_000.0, 446_000.0])  # projected-size coordinates
RECT = np.array([[0, 0], [12, 0], [12, 8], [0, 8]], float) + OFFSET
L_SHAPE = np.array([[0, 0], [10, 0], [10, 4], [4, 4], [4, 10], [0, 10]], float) + OFFSET
COURTYARD = np.array([[0, 0], [20, 0], [20, 16], [0, 16]], float) + OFFSET
HOLE = np.array([[5, 4], [15, 4], [15, 12], [5, 12]], float) + OFFSET
# footprints that are not convex, for pitched roofs (local coordinates: add OFFSET)
U_SHAPE = [[0, 0], [30, 0], [30, 20], [20, 20], [20, 8], [10, 8], [10, 20], [0, 20]]  # two 10 m legs, 8 m base
T_SHAPE = [[0, 0], [10, 0], [10, 15], [20, 15], [20, 25], [-10, 25], [-10, 15], [0, 15]]
PLUS = [[10, 0], [20, 0], [20, 10], [30, 10], [30, 20], [20, 20], [20, 30], [10, 30], [10, 20], [0, 20], [0, 10],
        [10, 10]]  # fmt: skip
L_UNEVEN = [[0, 0], [14, 0], [14, 6], [9, 6], [9, 14], [0, 14]]
RAY = np.array([0.5773, 0.3119, 0.7547])  # a ray direction no face of these solids lies along


# ---------------------------------------------------------------------------- geometry checks
def _area(ring: np.ndarray) -> float:
    x, y = (ring - ring.mean(axis=0)).T
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _centroid(ring: np.ndarray) -> np.ndarray:
    """Area centroid of a simple polygon."""
    o = ring.mean(axis=0)
    p, q = ring - o, np.roll(ring, -1, axis=0) - o
    cross = p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]
    return o + ((p + q) * cross[:, None]).sum(axis=0) / (3 * cross.sum())


def _surface_normal(b: NewBuilding, surface: list[list[int]]) -> np.ndarray:
    """Unit Newell normal of a surface (holes subtract)."""
    n = np.zeros(3)
    for ring in surface:
        p = b.vertices[ring] - b.vertices[ring].mean(axis=0)
        n += np.cross(p, np.roll(p, -1, axis=0)).sum(axis=0)
    return n / np.linalg.norm(n)


def _ray_hits(origins: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """How many triangles a ray from each origin along RAY crosses (Möller–Trumbore)."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    e1, e2 = b - a, c - a
    pvec = np.cross(RAY, e2)
    det = np.einsum("ij,ij->i", e1, pvec)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    t = origins[:, None, :] - a[None]
    u = np.einsum("oij,ij->oi", t, pvec) * inv
    qvec = np.cross(t, e1[None])
    v = np.einsum("k,oik->oi", RAY, qvec) * inv
    dist = np.einsum("ij,oij->oi", e2, qvec) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (dist > 0)
    return hit.sum(axis=1)


def assert_valid_solid(b: NewBuilding) -> None:
    """Closed 2-manifold, planar faces, outward normals, semantic classes facing the right way."""
    # every directed edge once, and its reverse once: each edge shared by two faces, run opposite ways
    edges = [
        (ring[k], ring[(k + 1) % len(ring)]) for surface in b.surfaces for ring in surface for k in range(len(ring))
    ]
    assert len(set(edges)) == len(edges), "an edge is used twice in the same direction"
    assert all((j, i) in set(edges) for i, j in edges), "an edge has no partner"
    assert all(i != j for i, j in edges)
    assert b.is_closed()
    # every vertex used, none repeated
    used = {i for surface in b.surfaces for ring in surface for i in ring}
    assert used == set(range(len(b.vertices)))
    assert len(np.unique(np.round(b.vertices, 6), axis=0)) == len(b.vertices)
    # planar surfaces
    for surface in b.surfaces:
        n = _surface_normal(b, surface)
        pts = b.vertices[[i for ring in surface for i in ring]]
        assert np.abs((pts - pts[0]) @ n).max() < 1e-3  # within a millimetre (merged vertices)
    # signed volume from the triangles agrees with volume() and is positive
    tri, tri_class = b.triangles()
    centre = b.vertices.mean(axis=0)
    p = b.vertices[tri] - centre
    tri_volume = float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6)
    assert tri_volume > 0
    assert b.volume() == pytest.approx(tri_volume, rel=1e-9)
    # and the divergence theorem on the planar surfaces (Newell normals) agrees to a millimetre's worth
    newell = 0.0
    for surface in b.surfaces:
        area_vector = np.zeros(3)
        for ring in surface:
            q = b.vertices[ring] - centre
            area_vector += np.cross(q, np.roll(q, -1, axis=0)).sum(axis=0) / 2
        newell += float((b.vertices[surface[0]].mean(axis=0) - centre) @ area_vector) / 3
    assert newell == pytest.approx(tri_volume, rel=1e-4)
    # each surface's normal points out: from the roundest triangle of the surface (the largest inradius),
    # a point just outside along the normal is outside the solid (even ray parity), just inside is inside
    normals = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    area2 = np.linalg.norm(normals, axis=1)
    assert (area2 > 1e-9).all()
    normals /= area2[:, None]
    perimeter = sum(np.linalg.norm(p[:, k] - p[:, (k + 1) % 3], axis=1) for k in range(3))
    inradius = area2 / perimeter
    tri_surface = b.triangle_surfaces()
    assert set(tri_surface.tolist()) == set(range(len(b.surfaces)))
    best = np.array(
        [np.flatnonzero(tri_surface == k)[np.argmax(inradius[tri_surface == k])] for k in range(len(b.surfaces))]
    )
    centroids = p[best].mean(axis=1)
    step = np.minimum(1e-3, inradius[best] / 10)[:, None]
    assert (_ray_hits(centroids + step * normals[best], p) % 2 == 0).all(), "a normal points inwards"
    assert (_ray_hits(centroids - step * normals[best], p) % 2 == 1).all(), "a normal points inwards"
    # semantic classes: ground faces down, roofs up, walls sideways
    by_class = {
        SurfaceClass.GROUND: "GroundSurface",
        SurfaceClass.WALL: "WallSurface",
        SurfaceClass.ROOF: "RoofSurface",
    }
    assert set(np.unique(tri_class).tolist()) == {int(c) for c in by_class}
    for surface, kind in zip(b.surfaces, b.classes, strict=True):
        nz = _surface_normal(b, surface)[2]
        if kind == "GroundSurface":
            assert nz == pytest.approx(-1.0)
        elif kind == "RoofSurface":
            assert nz > 0.05
        else:
            assert kind == "WallSurface"
            assert abs(nz) < 1e-9
    for k, cls in by_class.items():
        n_tri_faces = np.flatnonzero(tri_class == k)
        assert len(n_tri_faces) > 0
        assert b.classes.count(cls) > 0


def assert_cityobject(b: NewBuilding) -> dict:
    """The CityJSON CityObject: structure, semantics mirroring the boundaries, indices in range, no unused vertex."""
    obj, verts = b.cityobject("new-building-1")
    assert obj["type"] == "Building"
    assert obj["attributes"] == b.attributes
    assert len(obj["geometry"]) == 1
    geom = obj["geometry"][0]
    assert geom["type"] == "Solid"
    assert geom["lod"] == str(b.lod)
    shells = geom["boundaries"]
    assert len(shells) == 1
    values = geom["semantics"]["values"]
    assert len(values) == len(shells) == 1
    assert len(values[0]) == len(shells[0])
    surfaces = geom["semantics"]["surfaces"]
    for surface, value, kind in zip(shells[0], values[0], b.classes, strict=True):
        assert isinstance(value, int) and 0 <= value < len(surfaces)
        assert surfaces[value]["type"] == kind
        assert all(isinstance(ring, list) and len(ring) >= 3 for ring in surface)
    assert {s["type"] for s in surfaces} == {"GroundSurface", "WallSurface", "RoofSurface"}
    flat = [i for surface in shells[0] for ring in surface for i in ring]
    assert all(type(i) is int for i in flat)
    assert min(flat) == 0 and max(flat) == len(verts) - 1
    assert set(flat) == set(range(len(verts)))
    assert verts.shape == (len(b.vertices), 3) and verts.dtype == np.float64
    json.dumps(obj)  # plain JSON types only
    return obj


def _build(spec: BuildingSpec) -> NewBuilding:
    b = make_building(spec)
    assert_valid_solid(b)
    assert_cityobject(b)
    return b


def _z_range(b: NewBuilding) -> tuple[float, float]:
    return float(b.vertices[:, 2].min()), float(b.vertices[:, 2].max())


# ---------------------------------------------------------------------------- each roof
def test_flat_box_volume_and_heights():
    b = _build(BuildingSpec(RECT, base_z=31.5, height=9.0))
    assert b.volume() == pytest.approx(96 * 9.0, rel=1e-3)
    assert _z_range(b) == pytest.approx((31.5, 40.5))
    assert b.classes.count("WallSurface") == 4
    assert b.classes.count("RoofSurface") == 1 and b.classes.count("GroundSurface") == 1
    assert len(b.vertices) == 8


@pytest.mark.parametrize("ridge", ["auto", 0.0, 90.0])
def test_gabled_rectangle(ridge):
    eave, rh = 6.0, 3.5
    b = _build(BuildingSpec(RECT, base_z=10.0, height=eave, roof="gabled", roof_height=rh, ridge_direction=ridge))
    assert b.volume() == pytest.approx(96 * eave + 96 * rh / 2, rel=1e-3)
    assert _z_range(b) == pytest.approx((10.0, 10.0 + eave + rh))
    walls = [s for s, k in zip(b.surfaces, b.classes, strict=True) if k == "WallSurface"]
    assert sorted(len(s[0]) for s in walls) == [4, 4, 5, 5]  # two gables
    assert b.classes.count("RoofSurface") == 2
    top = b.vertices[b.vertices[:, 2] > 10.0 + eave + rh - 1e-9] - [*OFFSET, 0]
    assert len(top) == 2
    if ridge in ("auto", 0.0):  # along the longer side (x), at mid-depth
        assert np.allclose(top[:, 1], 4.0) and sorted(top[:, 0]) == pytest.approx([0.0, 12.0])
    else:
        assert np.allclose(top[:, 0], 6.0) and sorted(top[:, 1]) == pytest.approx([0.0, 8.0])


def test_hipped_rectangle_has_four_roof_faces_and_a_shortened_ridge():
    w, d, eave, rh = 12.0, 8.0, 6.0, 4.0
    b = _build(BuildingSpec(RECT, height=eave, roof="hipped", roof_height=rh))
    # equal pitch on all four faces: the ridge is shortened by d/2 at each end
    assert b.volume() == pytest.approx(w * d * eave + rh * d * (3 * w - d) / 6, rel=1e-3)
    assert b.classes.count("RoofSurface") == 4 and b.classes.count("WallSurface") == 4
    roof_sizes = sorted(len(s[0]) for s, k in zip(b.surfaces, b.classes, strict=True) if k == "RoofSurface")
    assert roof_sizes == [3, 3, 4, 4]
    ridge = b.vertices[np.isclose(b.vertices[:, 2], eave + rh)] - [*OFFSET, 0]
    assert sorted(map(tuple, np.round(ridge[:, :2], 9))) == [(4.0, 4.0), (8.0, 4.0)]
    pitches = {
        round(float(_surface_normal(b, s)[2]), 9)
        for s, k in zip(b.surfaces, b.classes, strict=True)
        if k == "RoofSurface"
    }
    assert len(pitches) == 1


def test_hipped_square_is_a_pyramid():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float) + OFFSET
    b = _build(BuildingSpec(square, height=3.0, roof="hipped", roof_height=5.0))
    assert b.volume() == pytest.approx(100 * 3.0 + 100 * 5.0 / 3, rel=1e-3)
    assert len(b.vertices) == 9  # 4 ground, 4 eave corners, one apex
    assert all(len(s[0]) == 3 for s, k in zip(b.surfaces, b.classes, strict=True) if k == "RoofSurface")


@pytest.mark.parametrize("stretch", [0.0, 1e-12, 1e-9, 1e-6])
def test_hipped_nearly_square_and_with_a_corner_on_a_straight_side(stretch):
    w, d = 10.0, 10.0 * (1 + stretch)
    fp = np.array([[0, 0], [w / 3, 0], [w, 0], [w, d], [0, d]]) + OFFSET  # (w/3, 0) goes straight on
    b = _build(BuildingSpec(fp, height=3.0, roof="hipped", roof_height=5.0))
    assert b.volume() == pytest.approx(w * d * 3.0 + 5.0 * w * (3 * d - w) / 6, rel=1e-3)
    assert b.classes.count("RoofSurface") == 4


def _roof_pitches(b: NewBuilding) -> list[float]:
    return [float(_surface_normal(b, s)[2]) for s, k in zip(b.surfaces, b.classes, strict=True) if k == "RoofSurface"]


def test_hipped_l_shape_follows_its_straight_skeleton():
    """Two wings 10 m wide: ridges 5 m in from every eave, a valley from the inner corner. Its roof volume by
    hand, face by face (slope 1: a face holds its plan area times its centroid's distance from its eave):
    291.667 + 41.667 + 250 + 187.5 + 41.667 + 229.167 = 1041.667 m³."""
    fp = np.array([[0, 0], [30, 0], [30, 10], [10, 10], [10, 25], [0, 25]], float) + OFFSET
    b = _build(BuildingSpec(fp, height=9.0, roof="hipped", roof_height=5.0))
    assert b.volume() == pytest.approx(450 * 9.0 + 1041.667, rel=1e-5)
    assert b.classes.count("RoofSurface") == 6 and b.classes.count("WallSurface") == 6
    assert np.allclose(_roof_pitches(b), 1 / np.sqrt(2))  # every face at 45°
    top = b.vertices[np.isclose(b.vertices[:, 2], 14.0)] - [*OFFSET, 0]
    assert sorted(map(tuple, np.round(top[:, :2], 6))) == [(5.0, 5.0), (5.0, 20.0), (25.0, 5.0)]


@pytest.mark.parametrize(
    ("fp", "volume"),
    [
        # U: two 10 m legs on an 8 m base; T; a plus of 10 m arms; a Z; and an L with uneven wings
        (U_SHAPE, None),
        (T_SHAPE, None),
        (
            PLUS,
            500 * 6.0 + 4.0 / 5.0 * (4 * 10 * 5 * 5 / 2 + 4 * (10 * 5 * 5 / 2 + 2 * 5 * 5 * 5 / 3 / 2)),
        ),
        ([[0, 0], [20, 0], [20, 8], [12, 8], [12, 20], [-8, 20], [-8, 12], [0, 12]], None),
        (L_UNEVEN, None),
    ],
    ids=["U", "T", "plus", "Z", "L-uneven"],
)
def test_hipped_roof_on_footprints_that_are_not_convex(fp, volume):
    fp = np.asarray(fp, float) + OFFSET
    eave, rh = 6.0, 4.0
    b = _build(BuildingSpec(fp, height=eave, roof="hipped", roof_height=rh))
    assert b.classes.count("RoofSurface") == len(fp)  # one face per eave
    pitches = _roof_pitches(b)
    assert max(pitches) - min(pitches) < 1e-6  # all of one pitch
    assert _z_range(b) == pytest.approx((0.0, eave + rh), abs=1e-9)
    area = abs(_area(fp))
    assert area * eave < b.volume() < area * (eave + rh)
    if volume is not None:
        assert b.volume() == pytest.approx(volume, rel=1e-6)


def test_gabled_l_shape_has_gables_at_its_wing_ends():
    """A cross-gabled L: ridges along both wings, gable walls at their ends. By hand: each wing is a prism of
    cross-section 10 × 4 / 2 = 20 m² (45 m of ridge run: 900 m³) less the corner square's hip and valley (a
    pyramid of 133.3 m³ where a prism would hold 200): 833.3 m³, plus what the two gables add over hipped
    ends (half a pyramid each, 66.7 m³, where the prism holds 100): 900 m³ of roof."""
    fp = np.array([[0, 0], [30, 0], [30, 10], [10, 10], [10, 25], [0, 25]], float) + OFFSET
    b = _build(BuildingSpec(fp, height=7.0, roof="gabled", roof_height=4.0))
    assert b.volume() == pytest.approx(450 * 7.0 + 900.0, rel=1e-6)
    assert b.classes.count("RoofSurface") == 4 and b.classes.count("WallSurface") == 8  # six walls, two gables
    gables = [s for s, k in zip(b.surfaces, b.classes, strict=True)
              if k == "WallSurface" and b.vertices[s[0]][:, 2].min() > 7.0 - 1e-9]  # fmt: skip
    assert len(gables) == 2
    for g in gables:
        assert abs(_surface_normal(b, g)[2]) < 1e-9  # upright
        assert b.vertices[g[0]][:, 2].max() == pytest.approx(11.0)  # up to the ridge
    pitches = _roof_pitches(b)
    assert max(pitches) - min(pitches) < 1e-6


@pytest.mark.parametrize(
    "fp",
    [
        U_SHAPE,  # U
        T_SHAPE,  # T
        PLUS,  # plus
        L_UNEVEN,  # L with uneven wings
    ],
    ids=["U", "T", "plus", "L-uneven"],
)
def test_gabled_roof_on_footprints_that_are_not_convex(fp):
    fp = np.asarray(fp, float) + OFFSET
    b = _build(BuildingSpec(fp, height=6.0, roof="gabled", roof_height=4.0))
    assert _z_range(b) == pytest.approx((0.0, 10.0), abs=1e-9)
    pitches = _roof_pitches(b)
    assert max(pitches) - min(pitches) < 1e-6
    assert b.classes.count("WallSurface") > len(fp)  # the gables
    area = abs(_area(fp))
    assert area * 6.0 < b.volume() < area * 10.0


def test_hipped_courtyards():
    """A 40 m square round a 10 m square courtyard: a ring 15 m wide under a ridge 7.5 m in. Its roof volume by
    hand: each outer face 243.75 m² × 3.4615 m from its eave, each inner one 131.25 m² × 4.2857 m, times the
    slope 4 / 7.5: 4 × 450 + 4 × 300 = 3000 m³. Then a ring of uneven sides, and two courtyards in an L."""
    outer = np.array([[0, 0], [40, 0], [40, 40], [0, 40]], float) + OFFSET
    hole = np.array([[15, 15], [15, 25], [25, 25], [25, 15]], float) + OFFSET
    b = _build(BuildingSpec(outer, holes=[hole], height=9.0, roof="hipped", roof_height=4.0))
    assert b.volume() == pytest.approx(1500 * 9.0 + 3000.0, rel=1e-6)
    assert b.classes.count("RoofSurface") == 8 and b.classes.count("WallSurface") == 8
    ell = np.array([[0, 0], [40, 0], [40, 15], [15, 15], [15, 40], [0, 40]], float) + OFFSET
    holes = [np.array([[4, 4], [4, 10], [10, 10], [10, 4]], float) + OFFSET,
             np.array([[25, 4], [25, 9], [33, 9], [33, 4]], float) + OFFSET]  # fmt: skip
    for fp, hs in ((COURTYARD, [HOLE]), (ell, holes)):
        b = _build(BuildingSpec(fp, holes=hs, height=9.0, roof="hipped", roof_height=4.0))
        corners = len(fp) + sum(len(h) for h in hs)
        assert b.classes.count("RoofSurface") == corners and b.classes.count("WallSurface") == corners
        pitches = _roof_pitches(b)
        assert max(pitches) - min(pitches) < 1e-6
        assert _z_range(b) == pytest.approx((0.0, 13.0), abs=1e-9)
        assert len(b.surfaces[b.classes.index("GroundSurface")]) == 1 + len(hs)


@pytest.mark.parametrize("ridge", ["auto", 0.0, 90.0, 180.0, 33.0])
def test_shed_rectangle(ridge):
    eave, rh = 5.0, 2.0
    b = _build(BuildingSpec(RECT, base_z=-2.0, height=eave, roof="shed", roof_height=rh, ridge_direction=ridge))
    assert b.volume() == pytest.approx(_shed_volume(RECT, [], ridge, eave, rh), rel=1e-3)
    if ridge != 33.0:
        assert b.volume() == pytest.approx(96 * (eave + rh / 2), rel=1e-3)
    assert b.classes.count("RoofSurface") == 1
    assert _z_range(b) == pytest.approx((-2.0, -2.0 + eave + rh))
    high = b.vertices[np.isclose(b.vertices[:, 2], -2.0 + eave + rh)] - [*OFFSET, 0]
    if ridge == 0.0:  # rises towards the left of east: the high eave is in the north
        assert np.allclose(high[:, 1], 8.0)
    elif ridge == 180.0:
        assert np.allclose(high[:, 1], 0.0)
    elif ridge == 90.0:
        assert np.allclose(high[:, 0], 0.0)


def _shed_volume(outer, holes, ridge, eave, rh):
    """Prism volume plus a plane tilt: area × (eave + slope × (centroid's rise))."""
    if ridge == "auto":
        ridge = 0.0  # RECT and the courtyard are longer along x
    a = math.radians(ridge)
    n = np.array([-math.sin(a), math.cos(a)])
    v = outer @ n
    rings = [outer, *holes]
    areas = [abs(_area(r)) * (1 if k == 0 else -1) for k, r in enumerate(rings)]
    centroid = sum(ar * _centroid(r) for ar, r in zip(areas, rings, strict=True)) / sum(areas)
    slope = rh / (v.max() - v.min())
    return sum(areas) * (eave + slope * (centroid @ n - v.min()))


def test_flat_l_shape():
    b = _build(BuildingSpec(L_SHAPE, height=7.0, storeys=2))
    assert b.volume() == pytest.approx(64 * 7.0, rel=1e-3)
    assert b.classes.count("WallSurface") == 6


def test_shed_roof_on_l_shape_follows_one_plane():
    b = _build(BuildingSpec(L_SHAPE, height=4.0, roof="shed", roof_height=3.0, ridge_direction=30.0))
    assert b.volume() == pytest.approx(_shed_volume(L_SHAPE, [], 30.0, 4.0, 3.0), rel=1e-3)


@pytest.mark.parametrize("roof", ["flat", "shed"])
def test_courtyard_inner_walls_face_into_the_courtyard(roof):
    rh = 0.0 if roof == "flat" else 2.5
    b = _build(BuildingSpec(COURTYARD, holes=[HOLE], height=6.0, roof=roof, roof_height=rh))
    expected = 240 * 6.0 if roof == "flat" else _shed_volume(COURTYARD, [HOLE], "auto", 6.0, rh)
    assert b.volume() == pytest.approx(expected, rel=1e-3)
    assert b.classes.count("WallSurface") == 8
    ground = b.surfaces[b.classes.index("GroundSurface")]
    roof_surface = b.surfaces[b.classes.index("RoofSurface")]
    assert len(ground) == 2 and len(roof_surface) == 2
    centre = np.array([10.0, 8.0]) + OFFSET
    inner_walls = 0
    for surface, kind in zip(b.surfaces, b.classes, strict=True):
        if kind != "WallSurface":
            continue
        mid = b.vertices[surface[0]][:, :2].mean(axis=0)
        if np.all(np.abs(mid - centre) < [5.5, 4.5]):  # a courtyard wall
            inner_walls += 1
            n = _surface_normal(b, surface)
            assert n[:2] @ (centre - mid) > 0  # faces the courtyard's centre
    assert inner_walls == 4


def test_many_holes_and_many_corners():
    angles = np.linspace(0, 2 * np.pi, 41)[:-1]
    outer = np.column_stack([30 * np.cos(angles), 20 * np.sin(angles)]) + OFFSET
    holes = [np.array([[x, -3], [x + 4, -3], [x + 4, 3], [x, 3]], float) + OFFSET for x in (-15.0, -5.0, 5.0)]
    b = _build(BuildingSpec(outer, holes=holes, height=12.0))
    assert b.volume() == pytest.approx((abs(_area(outer)) - 3 * 24) * 12.0, rel=1e-3)


# ---------------------------------------------------------------------------- LoD1 vs LoD2, attributes
@pytest.mark.parametrize("roof", ["flat", "gabled", "hipped", "shed"])
def test_lod1_is_a_flat_block_of_the_total_height(roof):
    rh = 0.0 if roof == "flat" else 3.0
    lod1 = _build(BuildingSpec(RECT, height=6.0, roof=roof, roof_height=rh, lod=1))
    lod2 = _build(BuildingSpec(RECT, height=6.0, roof=roof, roof_height=rh, lod=2))
    assert lod1.lod == 1 and lod2.lod == 2
    assert lod1.volume() == pytest.approx(96 * (6.0 + rh), rel=1e-9)
    assert len(lod1.vertices) == 8 and lod1.classes.count("RoofSurface") == 1
    assert _z_range(lod1) == pytest.approx(_z_range(lod2))
    assert lod1.cityobject("a")[0]["geometry"][0]["lod"] == "1"
    assert lod2.cityobject("a")[0]["geometry"][0]["lod"] == "2"
    assert lod1.attributes == lod2.attributes
    assert lod1.attributes["roofType"] == ROOF_TYPE_CODES[roof]


def test_lod1_allows_any_footprint_for_a_pitched_roof():
    b = _build(BuildingSpec(L_SHAPE, height=6.0, roof="gabled", roof_height=3.0, lod=1))
    assert b.volume() == pytest.approx(64 * 9.0, rel=1e-9)


def test_attributes_are_filled_in():
    spec = BuildingSpec(
        RECT, storeys=3, storey_height=2.9, roof="gabled", roof_height=4.0, year_of_construction=2031,
        attributes={"name": "Proposed town hall", "measuredHeight": 99.0},
    )  # fmt: skip
    b = _build(spec)
    assert spec.eave_height == pytest.approx(8.7)
    assert b.attributes == {
        "function": "31001_1000",
        "roofType": "3100",
        "measuredHeight": 12.7,
        "storeysAboveGround": 3,
        "storeyHeightsAboveGround": [2.9, 2.9, 2.9],
        "yearOfConstruction": 2031,
        "name": "Proposed town hall",  # extras are carried; computed names win over them
    }
    assert _z_range(b)[1] == pytest.approx(12.7)
    flat = make_building(BuildingSpec(RECT, height=5.0, function=None))
    assert flat.attributes == {"roofType": "1000", "measuredHeight": 5.0}
    own = make_building(BuildingSpec(RECT, height=5.0, function=None, attributes={"function": "office"}))
    assert own.attributes["function"] == "office"
    assert {ROOF_TYPE_CODES[r] for r in ("flat", "shed", "gabled", "hipped")} == {"1000", "2100", "3100", "3200"}


# ---------------------------------------------------------------------------- spec normalisation and checks
def test_footprint_and_holes_are_normalised():
    spec = BuildingSpec(
        np.vstack([COURTYARD[::-1], COURTYARD[-1:]]), holes=[HOLE], height=3.0
    )  # clockwise, closed, hole counter-clockwise
    assert len(spec.footprint) == 4
    assert _area(spec.footprint) > 0
    assert _area(spec.holes[0]) < 0
    assert spec.footprint.dtype == np.float64 and not spec.footprint.flags.writeable
    with_z = BuildingSpec(np.column_stack([RECT, np.full(4, 7.0)]), height=3.0)
    assert with_z.footprint.shape == (4, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"footprint": RECT[:2]}, "at least three distinct corners"),
        ({"footprint": [[0, 0], [1, 0], [1, 0], [0, 0]]}, "at least three distinct corners"),
        ({"footprint": [[0, 0], [5, 0], [10, 0]]}, "no area"),
        ({"footprint": [[0, 0], [10, 10], [10, 0], [0, 10]]}, "crosses or touches itself"),
        ({"footprint": [[0, 0], [10, 0], [10, 10], [5, 0.0], [0, 10]]}, "crosses or touches itself"),
        ({"footprint": [[0, 0], [10, 0], [10, np.nan]]}, "not a finite number"),
        ({"height": 0.0}, "more than zero"),
        ({"height": -3.0}, "more than zero"),
        ({"height": math.inf}, "finite number"),
        ({"height": None}, "Give a height, or a number of storeys"),
        ({"height": None, "storeys": 3, "storey_height": 0.0}, "storey height must be more than zero"),
        ({"height": 3.0, "storey_height": 3.0, "storeys": 1}, "not both"),
        ({"storeys": 0}, "whole number of at least one"),
        ({"base_z": math.nan}, "ground height"),
        ({"roof": "dome"}, "Pick a roof"),
        ({"roof": "gabled", "roof_height": 0.0}, "roof height above zero"),
        ({"roof": "shed", "roof_height": 1.0, "ridge_direction": "north"}, "ridge direction"),
        ({"lod": 3}, "level of detail"),
        (
            {
                "footprint": [[10, 0], [4, 4], [0, 10], [-4, 4], [-10, 0], [-4, -4], [0, -10], [4, -4]],
                "roof": "gabled",
                "roof_height": 2.0,
            },
            "no wing ends",
        ),  # a star: no wing to end in a gable
        ({"footprint": COURTYARD, "holes": [HOLE], "roof": "gabled", "roof_height": 2.0}, "courtyard"),
        ({"footprint": COURTYARD, "holes": [HOLE + [10, 0]]}, "hole reaches outside"),
        ({"footprint": COURTYARD, "holes": [HOLE + [30, 0]]}, "hole reaches outside"),
        ({"footprint": COURTYARD, "holes": [HOLE + [0, 4]]}, "hole reaches outside"),  # touches the outline
        ({"footprint": COURTYARD, "holes": [HOLE, HOLE + [2, 1]]}, "holes overlap"),
        ({"footprint": COURTYARD, "holes": [HOLE, HOLE / 3 + HOLE.mean(axis=0) * 2 / 3]}, "holes overlap"),
        ({"footprint": COURTYARD, "holes": [HOLE[:2]]}, "hole needs at least three"),
    ],
)
def test_bad_specs_say_why_in_one_sentence(kwargs, message):
    args = {"footprint": RECT, "height": 6.0} | kwargs
    with pytest.raises(ValueError, match=message) as info:
        BuildingSpec(**args)
    text = str(info.value)
    assert text[0].isupper() and text.endswith(".") and text.count(". ") == 0


def test_cityobject_needs_an_id():
    b = make_building(BuildingSpec(RECT, height=3.0))
    with pytest.raises(ValueError, match="id"):
        b.cityobject("")


# ---------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(
    w=st.floats(2.0, 60.0),
    d=st.floats(2.0, 60.0),
    angle=st.floats(0.0, 360.0),
    eave=st.floats(0.5, 80.0),
    rh=st.floats(0.2, 15.0),
    roof=st.sampled_from(["flat", "gabled", "hipped", "shed"]),
    base=st.floats(-50.0, 500.0),
)
def test_any_rectangle_any_roof(w, d, angle, eave, rh, roof, base):
    a = math.radians(angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    fp = np.array([[0, 0], [w, 0], [w, d], [0, d]]) @ rot.T + OFFSET
    rh = 0.0 if roof == "flat" else rh
    b = _build(BuildingSpec(fp, base_z=base, height=eave, roof=roof, roof_height=rh))
    area, short, long = w * d, min(w, d), max(w, d)
    expected = {
        "flat": area * eave,
        "gabled": area * eave + area * rh / 2,
        "shed": area * (eave + rh / 2),
        "hipped": area * eave + rh * short * (3 * long - short) / 6,
    }[roof]
    assert b.volume() == pytest.approx(expected, rel=1e-3)
    assert _z_range(b) == pytest.approx((base, base + eave + rh), abs=1e-6)


@st.composite
def _convex_polygons(draw):
    n = draw(st.integers(3, 12))
    angles = np.sort(np.array(draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n, unique=True))))
    gaps = np.diff(np.concatenate([angles, [angles[0] + 2 * np.pi]]))
    if gaps.max() >= np.pi - 0.05 or gaps.min() < 0.05:  # keep it a proper polygon around the centre
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + angles[0]
    sx, sy = draw(st.floats(3.0, 40.0)), draw(st.floats(3.0, 40.0))
    return np.column_stack([sx * np.cos(angles), sy * np.sin(angles)]) + OFFSET


@settings(max_examples=60, deadline=None)
@given(fp=_convex_polygons(), roof=st.sampled_from(["gabled", "hipped", "shed"]), rh=st.floats(0.5, 10.0),
       ridge=st.one_of(st.just("auto"), st.floats(0.0, 180.0)))  # fmt: skip
def test_any_convex_footprint_pitched_roof(fp, roof, rh, ridge):
    b = _build(BuildingSpec(fp, height=5.0, roof=roof, roof_height=rh, ridge_direction=ridge))
    assert _z_range(b) == pytest.approx((0.0, 5.0 + rh), abs=1e-6)
    area = abs(_area(fp))
    assert area * 5.0 < b.volume() < area * (5.0 + rh)
    if roof == "shed" and ridge != "auto":
        assert b.volume() == pytest.approx(_shed_volume(fp, [], ridge, 5.0, rh), rel=1e-3)


@st.composite
def _star_with_hole(draw):
    n = draw(st.integers(3, 24))
    radii = np.array(draw(st.lists(st.floats(8.0, 30.0), min_size=n, max_size=n)))
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + draw(st.floats(0, 1))
    outer = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
    holes = []
    if n >= 6 and draw(st.booleans()):  # a square courtyard well inside the smallest radius
        s = 2.0
        holes = [np.array([[-s, -s], [-s, s], [s, s], [s, -s]]) + OFFSET]
    if draw(st.booleans()):
        outer = outer[::-1]
    return outer + OFFSET, holes


@settings(max_examples=60, deadline=None)
@given(shape=_star_with_hole(), roof=st.sampled_from(["flat", "shed"]), ridge=st.floats(0.0, 360.0))
def test_any_simple_footprint_flat_or_shed(shape, roof, ridge):
    outer, holes = shape
    rh = 0.0 if roof == "flat" else 3.0
    b = _build(BuildingSpec(outer, holes=holes, height=10.0, roof=roof, roof_height=rh, ridge_direction=ridge))
    ccw = outer if _area(outer) > 0 else outer[::-1]
    expected = (abs(_area(outer)) - sum(abs(_area(h)) for h in holes)) * 10.0
    if roof == "shed":
        expected = _shed_volume(ccw, holes, ridge, 10.0, rh)
    assert b.volume() == pytest.approx(expected, rel=1e-3)


@st.composite
def _rectilinear(draw):
    """A histogram of 2–7 columns: an orthogonal footprint with many reflex corners and equal-time events."""
    heights = draw(st.lists(st.integers(1, 6), min_size=2, max_size=7))
    width = draw(st.sampled_from([4.0, 6.0, 7.5]))
    pts = [(0.0, 0.0), (width * len(heights), 0.0)]
    for i in range(len(heights) - 1, -1, -1):
        pts += [(width * (i + 1), 5.0 * heights[i]), (width * i, 5.0 * heights[i])]
    return np.array(pts) + OFFSET


@settings(max_examples=80, deadline=None)
@given(shape=st.one_of(_rectilinear().map(lambda fp: (fp, [])), _star_with_hole()), rh=st.floats(0.5, 10.0))
def test_any_simple_footprint_hipped(shape, rh):
    """Closed, outward, one pitch, the ridge at the roof height: whatever the wavefront meets on the way."""
    fp, holes = shape
    b = _build(BuildingSpec(fp, holes=holes, height=5.0, roof="hipped", roof_height=rh))
    pitches = _roof_pitches(b)
    assert max(pitches) - min(pitches) < 1e-4  # corners within a millimetre of a skeleton node are on it
    assert _z_range(b) == pytest.approx((0.0, 5.0 + rh), abs=1e-6)
    area = abs(_area(fp)) - sum(abs(_area(h)) for h in holes)
    assert area * 5.0 < b.volume() < area * (5.0 + rh)


@settings(max_examples=60, deadline=None)
@given(fp=_rectilinear(), rh=st.floats(0.5, 10.0))
def test_any_orthogonal_footprint_gabled_or_one_sentence(fp, rh):
    """A gabled roof over a stepped footprint: a closed solid of one pitch, or (no wing ends) one sentence."""
    try:
        spec = BuildingSpec(fp, height=5.0, roof="gabled", roof_height=rh)
    except ValueError as exc:
        assert "no wing ends" in str(exc)
        return
    b = _build(spec)
    pitches = _roof_pitches(b)
    assert max(pitches) - min(pitches) < 1e-4
    assert _z_range(b) == pytest.approx((0.0, 5.0 + rh), abs=1e-6)


# ---------------------------------------------------------------------------- official schema
def _schema_validator():
    import jsonschema  # a test dependency: the official schemas are checked offline
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    if not SCHEMAS.is_dir():
        pytest.fail(f"The CityJSON schemas are missing: the suite reads them from {SCHEMAS}.", pytrace=False)
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.schema.json")}
    registry = Registry().with_resources(
        (s["$id"], Resource(contents=s, specification=DRAFT7)) for s in schemas.values()
    )
    return jsonschema.Draft7Validator(schemas["cityjson.schema.json"], registry=registry)


def _document(buildings: list[NewBuilding]) -> dict:
    """A CityJSON 2.0 document holding the buildings, vertices quantised to millimetres."""
    objects, chunks, n = {}, [], 0
    for k, b in enumerate(buildings):
        obj, verts = b.cityobject(f"new-{k}")
        geom = obj["geometry"][0]
        geom["boundaries"] = [[[[i + n for i in ring] for ring in s] for s in shell] for shell in geom["boundaries"]]
        objects[f"new-{k}"] = obj
        chunks.append(verts)
        n += len(verts)
    verts = np.vstack(chunks)
    translate = np.floor(verts.min(axis=0))
    scale = 0.001
    ints = np.round((verts - translate) / scale).astype(np.int64)
    for own in np.split(ints, np.cumsum([len(c) for c in chunks[:-1]])):
        assert len(np.unique(own, axis=0)) == len(own)  # no duplicate vertex after quantisation
    return {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [scale] * 3, "translate": translate.tolist()},
        "CityObjects": objects,
        "vertices": ints.tolist(),
    }


def test_cityjson_document_validates_against_the_official_schema():
    validator = _schema_validator()
    buildings = [
        make_building(BuildingSpec(RECT, height=6.0, roof=roof, roof_height=3.0 if roof != "flat" else 0.0, lod=lod))
        for roof in ("flat", "gabled", "hipped", "shed")
        for lod in (1, 2)
    ]
    buildings.append(make_building(BuildingSpec(COURTYARD + 100, holes=[HOLE + 100], height=9.0, storeys=3)))
    buildings.append(make_building(BuildingSpec(L_SHAPE + 200, height=6.0, roof="hipped", roof_height=2.0)))
    buildings.append(make_building(BuildingSpec(COURTYARD + 300, holes=[HOLE + 300], height=6.0, roof="hipped",
                                                roof_height=2.0)))  # fmt: skip
    doc = _document(buildings)
    errors = [e.message for e in validator.iter_errors(doc)]
    assert errors == []
    # and the validator does catch a broken solid
    doc["CityObjects"]["new-0"]["geometry"][0]["semantics"]["surfaces"][0]["type"] = "Roof"
    doc["CityObjects"]["new-1"]["geometry"][0]["boundaries"] = [[[0, 1, 2]]]
    assert len(list(validator.iter_errors(doc))) >= 2
