"""A synthetic but believable city district, written as CityJSON 2.0.

The district is what the viewer opens when it is started without a file, and
what tests and benchmarks use when they need a complete model of a known
shape. It is fully deterministic: a :class:`numpy.random.Generator` with a
fixed seed drives every choice, so the same bytes come out on every run::

    python -m citytwin.sample --out assets/sample_district.city.json

What is in it
-------------
* a gently undulating terrain (one ``TINRelief``, a regular triangulated grid);
* a street grid of ``Road`` objects (``TrafficArea`` carriageways and
  ``AuxiliaryTrafficArea`` pavements) lying 5 cm above the terrain;
* LoD2 ``Building`` solids around the blocks: rectangles and L-shapes with
  gabled, hipped and flat roofs, semantic ``RoofSurface`` / ``WallSurface`` /
  ``GroundSurface``, outward-facing rings, bases at terrain height, and
  attributes (function, yearOfConstruction, storeysAboveGround,
  measuredHeight, roofType, addresses and some names);
* a market square (``TransportSquare``, CityJSON 2.0's name for it) with a fountain (a
  ``CityFurniture`` basin with a ``WaterBody`` in it), benches and lamps;
* a park (``PlantCover``) and street and park trees
  (``SolitaryVegetationObject``).

Coordinates are in ETRS89 / UTM zone 32N (EPSG:25832) around
x = 389 700 m, y = 5 800 100 m, quantised to 1 mm by the CityJSON transform.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SEED", "EPSG", "build_district", "sample_path", "write_district", "main"]

#: Seed of the random generator; change it and the district changes.
SEED = 20_240_517
#: ETRS89 / UTM zone 32N.
EPSG = 25832
#: World coordinates of the district's local origin (south-west corner of the first street).
ORIGIN = (389_640.0, 5_800_140.0, 0.0)
#: Quantisation step of the CityJSON transform (1 mm).
SCALE = 0.001

BLOCKS_X, BLOCKS_Y = 6, 4
STREET_WIDTH = 14.0
SIDEWALK = 2.5
ROAD_LIFT = 0.05  # roads and squares lie this far above the terrain
TERRAIN_SPACING = 16.0
TERRAIN_MARGIN = 32.0
ROW_ZONE = 19.0  # depth of the band of buildings along each block edge
PLAZA_BLOCK = (2, 1)
PARK_BLOCK = (5, 3)

# Surface indices of the building semantics table.
_ROOF, _WALL, _GROUND = 0, 1, 2
_BUILDING_SURFACES = [{"type": "RoofSurface"}, {"type": "WallSurface"}, {"type": "GroundSurface"}]

# ALKIS codes (the German cadastre's code lists, common in CityGML/CityJSON from the Länder).
_FUNCTIONS = ("31001_1000", "31001_1120", "31001_2000")  # residential, residential+shops, commercial
_PUBLIC = "31001_3000"
_ROOF_FLAT, _ROOF_GABLED, _ROOF_HIPPED = "1000", "3100", "3200"

_STREETS_H = ("Bahnhofstraße", "Lindenallee", "Schillerstraße", "Goethestraße", "Am Stadtgraben")
_STREETS_V = ("Mühlenweg", "Kirchgasse", "Marktstraße", "Rosenweg", "Gartenstraße", "Feldstraße", "Am Wall")
_PUBLIC_NAMES = ("Stadtbibliothek", "Grundschule am Park", "Rathaus", "Gemeindezentrum", "Musikschule",
                 "Feuerwache", "Volkshochschule", "Heimatmuseum")  # fmt: skip
_DECIDUOUS = ("Tilia cordata", "Acer platanoides", "Platanus x hispanica", "Quercus robur")
_CONIFERS = ("Pinus sylvestris", "Picea abies")


# ---------------------------------------------------------------------------- terrain
class _Terrain:
    """A regular grid of heights triangulated along one diagonal: the TIN and its exact heights."""

    def __init__(self, x0: float, y0: float, nx: int, ny: int, phases: np.ndarray) -> None:
        self.x0, self.y0, self.nx, self.ny = x0, y0, nx, ny
        xs = x0 + TERRAIN_SPACING * np.arange(nx)
        ys = y0 + TERRAIN_SPACING * np.arange(ny)
        gx, gy = np.meshgrid(xs, ys, indexing="xy")  # (ny, nx)
        z = (
            38.0
            + 2.4 * np.sin(2 * np.pi * gx / 520.0 + phases[0])
            + 1.6 * np.cos(2 * np.pi * gy / 410.0 + phases[1])
            + 0.6 * np.sin(2 * np.pi * (gx + 0.6 * gy) / 230.0 + phases[2])
            + 0.012 * gy  # a slight rise to the north
        )
        self.z = np.round(z, 3)
        self.points = np.column_stack([gx.ravel(), gy.ravel(), self.z.ravel()])

    def triangles(self) -> np.ndarray:
        """``(T, 3)`` counter-clockwise triangles (seen from above) of the grid."""
        i, j = np.meshgrid(np.arange(self.nx - 1), np.arange(self.ny - 1), indexing="xy")
        v00 = (j * self.nx + i).ravel()
        v10, v01, v11 = v00 + 1, v00 + self.nx, v00 + self.nx + 1
        lower = np.column_stack([v00, v10, v11])
        upper = np.column_stack([v00, v11, v01])
        return np.stack([lower, upper], axis=1).reshape(-1, 3)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Height of the TIN at points, by linear interpolation on its triangles."""
        fx = (np.asarray(x, float) - self.x0) / TERRAIN_SPACING
        fy = (np.asarray(y, float) - self.y0) / TERRAIN_SPACING
        i = np.clip(np.floor(fx).astype(int), 0, self.nx - 2)
        j = np.clip(np.floor(fy).astype(int), 0, self.ny - 2)
        u, v = fx - i, fy - j
        z00, z10 = self.z[j, i], self.z[j, i + 1]
        z01, z11 = self.z[j + 1, i], self.z[j + 1, i + 1]
        lower = z00 + u * (z10 - z00) + v * (z11 - z10)
        upper = z00 + v * (z01 - z00) + u * (z11 - z01)
        return np.where(u >= v, lower, upper)


# ---------------------------------------------------------------------------- solids
def _walls(ring: np.ndarray, z_bottom: float | np.ndarray, z_top: float | np.ndarray) -> tuple[np.ndarray, list]:
    """Vertical quads along a ring whose solid lies to the left of each edge (outward to the right).

    Returns the ``(2n, 3)`` vertices (bottom ring, then top ring) and the faces
    as lists of local vertex indices.
    """
    n = len(ring)
    zb = np.broadcast_to(z_bottom, n)
    zt = np.broadcast_to(z_top, n)
    verts = np.vstack([np.column_stack([ring, zb]), np.column_stack([ring, zt])])
    faces = [[[k, (k + 1) % n, n + (k + 1) % n, n + k]] for k in range(n)]
    return verts, faces


def _prism(footprint: np.ndarray, z_bottom: float, z_top: float) -> tuple[np.ndarray, list, list[int]]:
    """A closed prism over a counter-clockwise footprint: faces and their semantic indices."""
    n = len(footprint)
    verts, faces = _walls(footprint, z_bottom, z_top)
    ground = [[list(range(n - 1, -1, -1))]]
    roof = [[list(range(n, 2 * n))]]
    return verts, [*roof, *faces, *ground], [_ROOF] + [_WALL] * n + [_GROUND]


def _gabled(w: float, d: float, eave: float, ridge: float) -> tuple[np.ndarray, list, list[int]]:
    """A gabled house over ``[0, w] × [0, d]`` with its ridge along u at ``v = d/2``."""
    verts = np.array(
        [
            [0, 0, 0], [w, 0, 0], [w, d, 0], [0, d, 0],
            [0, 0, eave], [w, 0, eave], [w, d, eave], [0, d, eave],
            [0, d / 2, ridge], [w, d / 2, ridge],
        ],
        dtype=float,
    )  # fmt: skip
    faces = [
        [[4, 5, 9, 8]], [[8, 9, 6, 7]],  # roof slopes
        [[0, 1, 5, 4]], [[1, 2, 6, 9, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 8, 7]],  # walls, two gables
        [[0, 3, 2, 1]],
    ]  # fmt: skip
    return verts, faces, [_ROOF, _ROOF, _WALL, _WALL, _WALL, _WALL, _GROUND]


def _hipped(w: float, d: float, eave: float, ridge: float) -> tuple[np.ndarray, list, list[int]]:
    """A hipped roof house over ``[0, w] × [0, d]``; the ridge runs along the longer side."""
    if d > w:  # build it along u, then turn it a quarter (a rotation keeps every ring's orientation)
        verts, faces, sem = _hipped(d, w, eave, ridge)
        verts = np.column_stack([w - verts[:, 1], verts[:, 0], verts[:, 2]])
        return verts, faces, sem
    h = d / 2
    verts = np.array(
        [
            [0, 0, 0], [w, 0, 0], [w, d, 0], [0, d, 0],
            [0, 0, eave], [w, 0, eave], [w, d, eave], [0, d, eave],
            [h, d / 2, ridge], [w - h, d / 2, ridge],
        ],
        dtype=float,
    )  # fmt: skip
    faces = [
        [[4, 5, 9, 8]], [[5, 6, 9]], [[6, 7, 8, 9]], [[7, 4, 8]],
        [[0, 1, 5, 4]], [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]],
        [[0, 3, 2, 1]],
    ]  # fmt: skip
    return verts, faces, [_ROOF] * 4 + [_WALL] * 4 + [_GROUND]


def _regular_ring(centre: tuple[float, float], radius: float, n: int, phase: float = 0.0) -> np.ndarray:
    """``(n, 2)`` counter-clockwise regular polygon."""
    a = phase + 2 * np.pi * np.arange(n) / n
    return np.column_stack([centre[0] + radius * np.cos(a), centre[1] + radius * np.sin(a)])


def _rectangle(cx: float, cy: float, lx: float, ly: float, angle: float) -> np.ndarray:
    """``(4, 2)`` counter-clockwise rectangle centred on a point and turned by ``angle``."""
    local = np.array([[-lx, -ly], [lx, -ly], [lx, ly], [-lx, ly]]) / 2
    c, s = np.cos(angle), np.sin(angle)
    return local @ np.array([[c, s], [-s, c]]) + [cx, cy]


# ---------------------------------------------------------------------------- document
class _Document:
    """Collects city objects and their vertices (local float coordinates) before quantisation."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._n = 0
        self.objects: dict[str, dict[str, Any]] = {}

    def _add_vertices(self, verts: np.ndarray) -> int:
        offset = self._n
        self._chunks.append(np.asarray(verts, dtype=np.float64).reshape(-1, 3))
        self._n += len(self._chunks[-1])
        return offset

    @staticmethod
    def _shift(faces: list, offset: int) -> list:
        return [[[offset + int(i) for i in ring] for ring in face] for face in faces]

    def surfaces(self, verts: np.ndarray, faces: list) -> list:
        """Register vertices; return the faces with global (pre-deduplication) indices."""
        return self._shift(faces, self._add_vertices(verts))

    def add(self, oid: str, otype: str, attributes: dict[str, Any], geometry: list[dict[str, Any]],
            **extra: Any) -> None:  # fmt: skip
        obj: dict[str, Any] = {"type": otype}
        if attributes:
            obj["attributes"] = attributes
        obj["geometry"] = geometry
        obj.update(extra)
        self.objects[oid] = obj

    def finish(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Quantise, merge equal vertices (first-seen order) and return the CityJSON dict."""
        local = np.concatenate(self._chunks)
        q = np.rint(local / SCALE).astype(np.int64)
        _, first, inverse = np.unique(q, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(first, kind="stable")  # unique rows in first-seen order
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        remap = rank[inverse].tolist()
        vertices = q[first[order]]

        def fix(node: Any) -> Any:
            if isinstance(node, list):
                return [fix(x) for x in node]
            return remap[node]

        for obj in self.objects.values():
            for geom in obj["geometry"]:
                geom["boundaries"] = fix(geom["boundaries"])
        lo = vertices.min(axis=0) * SCALE + ORIGIN
        hi = vertices.max(axis=0) * SCALE + ORIGIN
        metadata = {**metadata, "geographicalExtent": [round(float(v), 3) for v in (*lo, *hi)]}
        return {
            "type": "CityJSON",
            "version": "2.0",
            "transform": {"scale": [SCALE] * 3, "translate": list(ORIGIN)},
            "metadata": metadata,
            "CityObjects": self.objects,
            "vertices": vertices,
        }


def _building_geometry(doc: _Document, verts: np.ndarray, faces: list, sem: list[int]) -> dict[str, Any]:
    return {
        "type": "Solid",
        "lod": "2",
        "boundaries": [doc.surfaces(verts, faces)],
        "semantics": {"surfaces": _BUILDING_SURFACES, "values": [sem]},
    }


def _multisurface(doc: _Document, verts: np.ndarray, faces: list, surfaces: list | None = None,
                  values: list | None = None) -> dict[str, Any]:  # fmt: skip
    geom: dict[str, Any] = {"type": "MultiSurface", "lod": "2", "boundaries": doc.surfaces(verts, faces)}
    if surfaces is not None:
        geom["semantics"] = {"surfaces": surfaces, "values": values}
    return geom


def _solid(doc: _Document, verts: np.ndarray, faces: list) -> dict[str, Any]:
    return {"type": "Solid", "lod": "2", "boundaries": [doc.surfaces(verts, faces)]}


def _draped_strip(terrain: _Terrain, x: np.ndarray, y: np.ndarray, lift: float) -> tuple[np.ndarray, list]:
    """Triangles over a ``(m, n)`` grid of points draped on the terrain (always planar, CCW from above)."""
    m, n = x.shape
    z = terrain.height(x, y) + lift
    verts = np.column_stack([x.ravel(), y.ravel(), z.ravel()])
    idx = np.arange(m * n).reshape(m, n)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    tris = np.stack([np.stack([a, b, c], -1), np.stack([a, c, d], -1)], axis=2)  # (m-1, n-1, 2, 3)
    return verts, tris


def _grid(x0: float, x1: float, y0: float, y1: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    nx = max(int(np.ceil((x1 - x0) / step)), 1) + 1
    ny = max(int(np.ceil((y1 - y0) / step)), 1) + 1
    return np.meshgrid(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny), indexing="xy")


# ---------------------------------------------------------------------------- district
def _layout(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Block edges: ``(bx0, bx1)`` per column and ``(by0, by1)`` per row, and street starts."""
    widths = np.round(rng.uniform(74.0, 94.0, BLOCKS_X), 1)
    heights = np.round(rng.uniform(62.0, 78.0, BLOCKS_Y), 1)
    sx = np.concatenate([[0.0], np.cumsum(widths + STREET_WIDTH)])  # street k starts at sx[k]
    sy = np.concatenate([[0.0], np.cumsum(heights + STREET_WIDTH)])
    bx = np.column_stack([sx[:-1] + STREET_WIDTH, sx[1:]])
    by = np.column_stack([sy[:-1] + STREET_WIDTH, sy[1:]])
    return bx, by, sx, sy


def _add_roads(doc: _Document, terrain: _Terrain, sx: np.ndarray, sy: np.ndarray) -> None:
    surfaces = [{"type": "TrafficArea", "function": "carriageway"},
                {"type": "AuxiliaryTrafficArea", "function": "pavement"}]  # fmt: skip
    across = np.array([0.0, SIDEWALK, STREET_WIDTH - SIDEWALK, STREET_WIDTH])
    lane_sem = np.array([1, 0, 1])
    x_end = sx[-1] + STREET_WIDTH
    for k, y0 in enumerate(sy):
        # east-west streets run the full width, crossings included
        along = np.linspace(0.0, x_end, int(np.ceil(x_end / 10.0)) + 1)
        x, y = np.meshgrid(along, y0 + across, indexing="xy")
        verts, tris = _draped_strip(terrain, x, y, ROAD_LIFT)
        values = np.broadcast_to(lane_sem[:, None, None], tris.shape[:3]).ravel().tolist()
        faces = [[t] for t in tris.reshape(-1, 3).tolist()]
        geom = _multisurface(doc, verts, faces, surfaces, values)
        doc.add(f"road-ew-{k}", "Road", {"name": _STREETS_H[k], "function": "1000", "surfaceMaterial": "asphalt"},
                [geom])  # fmt: skip
    for k, x0 in enumerate(sx):
        # north-south streets: the segments between the east-west streets
        faces: list = []
        values: list[int] = []
        verts_all: list[np.ndarray] = []
        n_verts = 0
        for ya, yb in zip(sy[:-1] + STREET_WIDTH, sy[1:], strict=True):
            along = np.linspace(ya, yb, int(np.ceil((yb - ya) / 10.0)) + 1)
            # columns across (x), rows along (y): x grows with the column, so triangles stay CCW
            x, y = np.meshgrid(x0 + across, along, indexing="xy")
            verts, tris = _draped_strip(terrain, x, y, ROAD_LIFT)
            faces += [[t] for t in (tris.reshape(-1, 3) + n_verts).tolist()]
            values += np.broadcast_to(lane_sem[None, :, None], tris.shape[:3]).ravel().tolist()
            verts_all.append(verts)
            n_verts += len(verts)
        geom = _multisurface(doc, np.vstack(verts_all), faces, surfaces, values)
        doc.add(f"road-ns-{k}", "Road", {"name": _STREETS_V[k], "function": "1000", "surfaceMaterial": "asphalt"},
                [geom])  # fmt: skip


def _footprint_and_solid(rng: np.random.Generator, w: float, d: float, storeys: int, shape: str,
                         roof: str) -> tuple[np.ndarray, list, list[int], np.ndarray, float]:  # fmt: skip
    """Local solid (u along the street, v into the block), its footprint and its height."""
    eave = round(storeys * 2.9 + float(rng.uniform(0.3, 0.9)), 2)
    if shape == "L":
        ww = round(float(rng.uniform(0.4, 0.6)) * w, 2)
        dw = round(float(rng.uniform(4.5, 6.5)), 2)
        if rng.random() < 0.5:
            fp = np.array([[0, 0], [w, 0], [w, d], [ww, d], [ww, d + dw], [0, d + dw]])
        else:
            fp = np.array([[0, 0], [w, 0], [w, d + dw], [w - ww, d + dw], [w - ww, d], [0, d]])
        verts, faces, sem = _prism(fp, 0.0, eave)
        return verts, faces, sem, fp, eave
    fp = np.array([[0, 0], [w, 0], [w, d], [0, d]], dtype=float)
    if roof == _ROOF_FLAT:
        verts, faces, sem = _prism(fp, 0.0, eave)
        return verts, faces, sem, fp, eave
    pitch = np.radians(rng.uniform(30.0, 45.0))
    half = min(w, d) / 2 if roof == _ROOF_HIPPED else d / 2
    ridge = round(eave + half * float(np.tan(pitch)), 2)
    build = _hipped if roof == _ROOF_HIPPED else _gabled
    verts, faces, sem = build(w, d, eave, ridge)
    return verts, faces, sem, fp, ridge


def _add_buildings(doc: _Document, rng: np.random.Generator, terrain: _Terrain, bx: np.ndarray, by: np.ndarray,
                   reserved: set[tuple[int, int]]) -> int:  # fmt: skip
    """Rows of buildings along the four edges of every ordinary block; returns how many."""
    rows: list[tuple[np.ndarray, np.ndarray, float, str, int]] = []  # origin, rotation, length, street, side
    for i in range(BLOCKS_X):
        for j in range(BLOCKS_Y):
            if (i, j) in reserved:
                continue
            (x0, x1), (y0, y1) = bx[i], by[j]
            inner = (y1 - y0) - 2 * ROW_ZONE
            rows += [
                (np.array([x0, y0]), np.array([[1, 0], [0, 1]]), x1 - x0, _STREETS_H[j], 0),
                (np.array([x1, y1]), np.array([[-1, 0], [0, -1]]), x1 - x0, _STREETS_H[j + 1], 1),
                (np.array([x1, y0 + ROW_ZONE]), np.array([[0, 1], [-1, 0]]), inner, _STREETS_V[i + 1], 1),
                (np.array([x0, y1 - ROW_ZONE]), np.array([[0, -1], [1, 0]]), inner, _STREETS_V[i], 0),
            ]
    numbers: dict[tuple[str, int], int] = {}
    placed: list[dict[str, Any]] = []
    for origin, rot, length, street, side in rows:
        u = float(rng.uniform(0.5, 2.5))
        while True:
            w = round(float(rng.uniform(9.0, 16.0)), 2)
            if u + w > length - 0.5:
                break
            setback = round(float(rng.uniform(0.5, 2.5)), 2)
            shape = "L" if rng.random() < 0.18 else "rect"
            d = round(float(rng.uniform(8.5, 11.0) if shape == "L" else rng.uniform(9.0, 13.5)), 2)
            r = rng.random()
            roof = _ROOF_FLAT if shape == "L" or r < 0.3 else (_ROOF_HIPPED if r < 0.55 else _ROOF_GABLED)
            if roof == _ROOF_HIPPED and abs(w - d) < 1.0:
                roof = _ROOF_GABLED
            storeys = int(rng.integers(3, 7)) if roof == _ROOF_FLAT else int(rng.integers(1, 4))
            verts, faces, sem, fp, height = _footprint_and_solid(rng, w, d, storeys, shape, roof)
            # local (u, v) → district plane; rot is a rotation, so rings keep their orientation
            shift = np.array([u, setback])
            xy = (verts[:, :2] + shift) @ rot.T + origin
            fp_xy = (fp + shift) @ rot.T + origin
            base = round(float(terrain.height(fp_xy[:, 0], fp_xy[:, 1]).min()), 3)
            world = np.column_stack([xy, verts[:, 2] + base])
            key = (street, side)
            numbers[key] = numbers.get(key, side + 1 - 2) + 2
            placed.append(
                {
                    "verts": world, "faces": faces, "sem": sem, "roof": roof, "storeys": storeys,
                    "height": height, "street": street, "number": numbers[key],
                    "year": int(rng.integers(1885, 2021)),
                    "function": _FUNCTIONS[int(rng.choice(3, p=[0.7, 0.18, 0.12]))],
                    "has_address": bool(rng.random() < 0.85),
                }
            )  # fmt: skip
            u += w + float(rng.uniform(1.2, 4.0))
    public = set(rng.choice(len(placed), size=len(_PUBLIC_NAMES), replace=False).tolist())
    names = iter(_PUBLIC_NAMES)
    for n, b in enumerate(placed):
        attributes: dict[str, Any] = {
            "function": _PUBLIC if n in public else b["function"],
            "yearOfConstruction": b["year"],
            "storeysAboveGround": b["storeys"],
            "measuredHeight": b["height"],
            "roofType": b["roof"],
        }
        extra: dict[str, Any] = {}
        if n in public:
            attributes["name"] = next(names)
        if b["has_address"] or n in public:
            extra["address"] = [
                {
                    "CountryName": "Deutschland", "LocalityName": "Neustadt am Modell", "PostalCode": "49076",
                    "ThoroughfareName": b["street"], "ThoroughfareNumber": str(b["number"]),
                }
            ]  # fmt: skip
        geom = _building_geometry(doc, b["verts"], b["faces"], b["sem"])
        doc.add(f"building-{n + 1:04d}", "Building", attributes, [geom], **extra)
    return len(placed)


def _tree(rng: np.random.Generator, x: float, y: float, base: float, conifer: bool,
          scale: float = 1.0) -> tuple[np.ndarray, list, dict[str, Any]]:  # fmt: skip
    """A low-poly tree: hexagonal trunk and a crown (a cone for conifers), as open surfaces."""
    phase = float(rng.uniform(0, np.pi / 3))
    height = round(float(rng.uniform(7.0, 13.0) if conifer else rng.uniform(6.0, 11.0)) * scale, 2)
    trunk_h = round(height * (0.2 if conifer else 0.3), 2)
    crown_r = round(height * (0.22 if conifer else 0.3), 2)
    trunk_r = round(0.12 + 0.02 * height, 2)
    trunk_ring = _regular_ring((x, y), trunk_r, 6, phase)
    verts_t, faces_t = _walls(trunk_ring, base, base + trunk_h + 0.3)
    z0 = base + trunk_h
    if conifer:
        ring = _regular_ring((x, y), crown_r, 7, phase)
        verts_c = np.vstack([np.column_stack([ring, np.full(7, z0)]), [[x, y, base + height]]])
        faces_c = [[[k, (k + 1) % 7, 7]] for k in range(7)] + [[list(range(6, -1, -1))]]
    else:
        top = base + height
        r1 = _regular_ring((x, y), crown_r, 7, phase)
        r2 = _regular_ring((x, y), crown_r * 0.8, 7, phase + np.pi / 7)
        verts_c = np.vstack([
            [[x, y, z0]],
            np.column_stack([r1, np.full(7, z0 + 0.35 * (top - z0))]),
            np.column_stack([r2, np.full(7, z0 + 0.75 * (top - z0))]),
            [[x, y, top]],
        ])  # fmt: skip
        faces_c = []
        for k in range(7):
            a, b = 1 + k, 1 + (k + 1) % 7
            c, e = 8 + k, 8 + (k + 1) % 7
            faces_c += [[[0, b, a]], [[a, b, c]], [[b, e, c]], [[c, e, 15]]]
    verts = np.vstack([verts_t, verts_c])
    faces = faces_t + [[[i + len(verts_t) for i in ring] for ring in f] for f in faces_c]
    species = _CONIFERS[int(rng.integers(2))] if conifer else _DECIDUOUS[int(rng.integers(4))]
    attributes = {"species": species, "height": height, "trunkDiameter": round(2 * trunk_r, 2),
                  "crownDiameter": round(2 * crown_r, 2)}  # fmt: skip
    return verts, faces, attributes


def _add_vegetation(doc: _Document, rng: np.random.Generator, terrain: _Terrain, bx: np.ndarray, by: np.ndarray,
                    sx: np.ndarray, sy: np.ndarray) -> None:  # fmt: skip
    n = 0
    # street trees on both pavements of the inner east-west streets, clear of the crossings
    for y0 in sy[1:-1]:
        for y in (y0 + 2.0, y0 + STREET_WIDTH - 2.0):
            x = float(rng.uniform(6.0, 12.0)) + STREET_WIDTH
            while x < sx[-1] - 4.0:
                if np.all(np.abs(x - (sx + STREET_WIDTH / 2)) > STREET_WIDTH / 2 + 3.0):
                    base = float(terrain.height(np.array([x]), np.array([y]))[0]) + ROAD_LIFT
                    verts, faces, attrs = _tree(rng, x, y, base, conifer=False, scale=0.75)
                    n += 1
                    doc.add(f"tree-{n:03d}", "SolitaryVegetationObject", attrs, [_multisurface(doc, verts, faces)])
                x += float(rng.uniform(15.0, 21.0))
    # the park: a lawn and loosely scattered trees
    (x0, x1), (y0, y1) = bx[PARK_BLOCK[0]], by[PARK_BLOCK[1]]
    gx, gy = _grid(x0, x1, y0, y1, 8.0)
    verts, tris = _draped_strip(terrain, gx, gy, 0.03)
    doc.add("park-lawn", "PlantCover", {"name": "Stadtpark", "function": "lawn", "averageHeight": 0.05},
            [_multisurface(doc, verts, [[t] for t in tris.reshape(-1, 3).tolist()])])  # fmt: skip
    cols, rows_ = 6, 5
    cx = np.linspace(x0 + 8, x1 - 8, cols)
    cy = np.linspace(y0 + 8, y1 - 8, rows_)
    for yy in cy:
        for xx in cx:
            if rng.random() < 0.2:
                continue
            x = xx + float(rng.uniform(-3, 3))
            y = yy + float(rng.uniform(-3, 3))
            base = float(terrain.height(np.array([x]), np.array([y]))[0]) + 0.03
            verts, faces, attrs = _tree(rng, x, y, base, conifer=bool(rng.random() < 0.35))
            n += 1
            doc.add(f"tree-{n:03d}", "SolitaryVegetationObject", attrs, [_multisurface(doc, verts, faces)])


def _add_square(doc: _Document, rng: np.random.Generator, terrain: _Terrain, bx: np.ndarray, by: np.ndarray) -> None:
    (x0, x1), (y0, y1) = bx[PLAZA_BLOCK[0]], by[PLAZA_BLOCK[1]]
    gx, gy = _grid(x0, x1, y0, y1, 6.0)
    verts, tris = _draped_strip(terrain, gx, gy, ROAD_LIFT)
    faces = [[t] for t in tris.reshape(-1, 3).tolist()]
    geom = _multisurface(doc, verts, faces, [{"type": "TrafficArea", "function": "pedestrian"}], [0] * len(faces))
    doc.add("square-market", "TransportSquare", {"name": "Marktplatz", "function": "market square",
                                                 "surfaceMaterial": "cobblestone"}, [geom])  # fmt: skip
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def ground(ring: np.ndarray) -> float:
        return round(float(terrain.height(ring[:, 0], ring[:, 1]).min()) + ROAD_LIFT, 3)

    # fountain: an octagonal basin rim (a solid with a hole in its top and bottom) holding water
    outer = _regular_ring((cx, cy), 4.5, 8, np.pi / 8)
    inner = _regular_ring((cx, cy), 4.0, 8, np.pi / 8)
    base, rim = ground(outer), 0.6
    v_out, f_out = _walls(outer, base, base + rim)
    v_in, f_in = _walls(inner[::-1], base, base + rim)  # solid to the left: walls face the centre
    verts = np.vstack([v_out, v_in])
    f_in = [[[i + 16 for i in r] for r in f] for f in f_in]
    top = [[list(range(8, 16)), [16 + 8 + k for k in range(8)]]]  # inner ring reversed: CW from above
    bottom = [[list(range(7, -1, -1)), [16 + k for k in range(7, -1, -1)]]]
    doc.add("fountain-basin", "CityFurniture", {"function": "fountain", "name": "Marktbrunnen"},
            [_solid(doc, verts, [*top, *f_out, *f_in, *bottom])])  # fmt: skip
    water_ring = _regular_ring((cx, cy), 3.98, 8, np.pi / 8)
    v, f, _ = _prism(water_ring, base + 0.05, base + 0.45)
    water_surfaces = [{"type": "WaterSurface"}, {"type": "WaterGroundSurface"}, {"type": "WaterClosureSurface"}]
    geom = {
        "type": "Solid", "lod": "2", "boundaries": [doc.surfaces(v, f)],
        "semantics": {"surfaces": water_surfaces, "values": [[0] + [2] * 8 + [1]]},
    }  # fmt: skip
    doc.add("fountain-water", "WaterBody", {"function": "fountain", "class": "artificial"}, [geom])
    # benches in a ring around the fountain, lamps at the corners
    for k in range(8):
        a = np.pi / 8 + 2 * np.pi * k / 8
        fp = _rectangle(cx + 9.0 * np.cos(a), cy + 9.0 * np.sin(a), 0.5, 1.8, a)
        b = ground(fp)
        v, f, _ = _prism(fp, b, b + 0.45)
        doc.add(f"bench-{k + 1}", "CityFurniture", {"function": "bench"}, [_solid(doc, v, f)])
    for k, (px, py) in enumerate([(x0 + 3, y0 + 3), (x1 - 3, y0 + 3), (x1 - 3, y1 - 3), (x0 + 3, y1 - 3)]):
        fp = _rectangle(px, py, 0.22, 0.22, 0.0)
        b = ground(fp)
        v, f, _ = _prism(fp, b, b + round(float(rng.uniform(4.2, 4.8)), 2))
        doc.add(f"lamp-{k + 1}", "CityFurniture", {"function": "street lamp"}, [_solid(doc, v, f)])


def build_district(seed: int = SEED) -> dict[str, Any]:
    """Build the sample district as a CityJSON 2.0 document.

    Parameters
    ----------
    seed
        Seed of the random generator; the default gives the committed asset.

    Returns
    -------
    dict
        The CityJSON document; ``"vertices"`` is an ``(N, 3)`` int64 array
        (quantised with the document's ``transform``, whose ``translate`` is
        the round-numbered :data:`ORIGIN` rather than the minimum corner).
    """
    rng = np.random.default_rng(seed)
    bx, by, sx, sy = _layout(rng)
    x_end, y_end = sx[-1] + STREET_WIDTH, sy[-1] + STREET_WIDTH
    nx = int(np.ceil((x_end + 2 * TERRAIN_MARGIN) / TERRAIN_SPACING)) + 1
    ny = int(np.ceil((y_end + 2 * TERRAIN_MARGIN) / TERRAIN_SPACING)) + 1
    terrain = _Terrain(-TERRAIN_MARGIN, -TERRAIN_MARGIN, nx, ny, rng.uniform(0, 2 * np.pi, 3))
    doc = _Document()
    faces = [[t] for t in terrain.triangles().tolist()]
    doc.add("terrain", "TINRelief", {}, [{"type": "CompositeSurface", "lod": "2",
                                          "boundaries": doc.surfaces(terrain.points, faces)}])  # fmt: skip
    _add_roads(doc, terrain, sx, sy)
    _add_square(doc, rng, terrain, bx, by)
    _add_buildings(doc, rng, terrain, bx, by, {PLAZA_BLOCK, PARK_BLOCK})
    _add_vegetation(doc, rng, terrain, bx, by, sx, sy)
    metadata = {
        "title": "citytwin sample district (synthetic)",
        "identifier": "citytwin-sample-district",
        "referenceDate": "2024-05-17",
        "referenceSystem": f"https://www.opengis.net/def/crs/EPSG/0/{EPSG}",
    }
    return doc.finish(metadata)


def write_district(path: str | Path, seed: int = SEED) -> Path:
    """Generate the district and write it atomically as CityJSON.

    Parameters
    ----------
    path
        Output file (conventionally ``*.city.json``); its folder must exist.
    seed
        Seed of the random generator.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from citytwin.io.cityjson_write import write_cityjson

    return write_cityjson(Path(path), build_district(seed))


def sample_path() -> Path:
    """The bundled sample district, ``assets/sample_district.city.json`` beside the package."""
    import citytwin

    return Path(citytwin.__file__).resolve().parents[1] / "assets" / "sample_district.city.json"


def main(argv: list[str] | None = None) -> int:
    """``python -m citytwin.sample --out FILE``: write the district; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m citytwin.sample", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output file (default: the bundled asset)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    out = args.out if args.out is not None else sample_path()
    if not out.parent.is_dir():
        print(f"citytwin: the folder {out.parent} does not exist.", file=sys.stderr)
        return 2
    write_district(out, args.seed)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
