"""GML geometry for the CityGML reader: coordinates into numpy, surfaces into polygon records.

The parser walks one geometry element (a ``gml:Polygon``, ``MultiSurface``,
``Solid``, ``TriangulatedSurface`` …) and appends to two lists:

* polygons written inline: ``(polygon_id, rings, ring_ids)`` with ``rings`` a
  list of ``(n, 3)`` float64 arrays (exterior first);
* references: ``(target_id, flipped)`` for an ``xlink:href`` to a surface
  defined elsewhere, resolved by the reader once the whole file is known.

Nothing here knows about city objects; the reader attaches owners, semantics
and LoDs to the records.

Deferred rings: while :attr:`GeometryParser.deferred` is a list, the usual 3D
``posList`` / ``gml:pos`` ring is not parsed on the spot; its text goes to that
list (its expected number count to :attr:`GeometryParser.deferred_counts`) and
the ring is the int ``k`` (``~k`` when it is to be reversed), for the reader to
parse all of a batch at once with :func:`citytwin.io.coords.parse_tokens`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

_POLYGONS = ("Polygon", "PolygonPatch", "Triangle", "Rectangle")
# Aggregates and their member properties: every child element of these properties is a geometry.
_AGGREGATES = (
    "MultiSurface", "CompositeSurface", "Shell", "Solid", "MultiSolid", "CompositeSolid",
    "TriangulatedSurface", "Tin", "TIN", "PolyhedralSurface", "Surface", "OrientableSurface",
    "MultiGeometry", "GeometricComplex", "CompositeGeometry",
)  # fmt: skip
_MEMBER_PROPS = (
    "surfaceMember", "surfaceMembers", "solidMember", "solidMembers", "exterior", "patches",
    "trianglePatches", "polygonPatches", "baseSurface", "geometryMember", "geometryMembers", "element",
)  # fmt: skip
# Geometries without surfaces: skipped silently.
_NON_SURFACES = (
    "Point", "MultiPoint", "LineString", "MultiCurve", "CompositeCurve", "Curve", "OrientableCurve",
    "MultiLineString", "LinearRing", "Envelope",
)  # fmt: skip


_NO_ATTRS: dict[str, str] = {}


def parse_numbers(text: str) -> np.ndarray:
    """Whitespace-separated numbers as a float64 array.

    Raises
    ------
    ValueError
        If a token is not a number.
    """
    return np.array(text.split(), dtype=np.float64)


class GeometryParser:
    """Turns GML geometry elements of one namespace into polygon records.

    Parameters
    ----------
    gml_ns
        The GML namespace of the file (``http://www.opengis.net/gml`` or ``…/gml/3.2``).
    warn
        ``warn(kind)`` counts one problem of a kind (a full sentence stem, see
        :mod:`citytwin.io.citygml`).
    """

    def __init__(self, gml_ns: str, warn: Callable[[str], None], max_ring_chars: int | None = None) -> None:
        self.gml_ns = gml_ns
        self.id_attr = f"{{{gml_ns}}}id"
        self.warn = warn
        #: posList texts longer than this are skipped unparsed ("ring too long"): a ring far past the
        #: polygon vertex limit would be parsed only to be left untriangulated
        self.max_ring_chars = max_ring_chars
        g = f"{{{gml_ns}}}"
        self._polygon_tags = frozenset(g + n for n in _POLYGONS)
        self._aggregate_tags = frozenset(g + n for n in _AGGREGATES)
        self._member_tags = frozenset(g + n for n in _MEMBER_PROPS)
        self._skip_tags = frozenset(g + n for n in _NON_SURFACES)
        self._orientable = g + "OrientableSurface"
        self._solid = g + "Solid"
        self._exterior = g + "exterior"
        self._interior = g + "interior"
        self._outer_b = g + "outerBoundaryIs"
        self._inner_b = g + "innerBoundaryIs"
        self._exterior_tags = frozenset((self._exterior, self._outer_b))
        self._interior_tags = frozenset((self._interior, self._inner_b))
        self._linear_ring = g + "LinearRing"
        self._pos = g + "pos"
        self._pos_list = g + "posList"
        self._coordinates = g + "coordinates"
        self._point_tags = (g + "pointProperty", g + "pointRep")
        #: aggregate gml:id → ids it contains (polygons or nested aggregates)
        self.surface_groups: dict[str, list[str]] = {}
        #: first srsName seen on a geometry
        self.srs_name: str | None = None
        #: texts of deferred rings (``None``: parse rings on the spot), see the module docstring
        self.deferred: list[str] | None = None
        #: numbers each deferred ring must hold: ``3 × gml:pos`` count, or 0 for a posList (a multiple of 3)
        self.deferred_counts: list[int] = []

    # ---------------------------------------------------------------- surfaces
    def collect(self, el, dim: int, polys: list, refs: list, flip: bool = False) -> None:
        """Append the polygons of geometry element ``el`` to ``polys`` and its xlinks to ``refs``.

        ``polys`` gets ``(polygon_id, rings, ring_ids)`` (``ring_ids`` is ``None`` when no ring has an id),
        ``refs`` gets ``(target_id, flipped)``.
        """
        tag = el.tag
        # one items() call is cheaper than several get() calls, most elements have no attributes
        items = el.items()
        attrs = dict(items) if items else _NO_ATTRS
        if attrs:
            d = attrs.get("srsDimension")
            if d is not None:
                dim = _dimension(d, dim)
            if self.srs_name is None:
                self.srs_name = attrs.get("srsName") or None
        if tag in self._polygon_tags:
            self._polygon(el, dim, polys, flip)
            return
        if tag in self._aggregate_tags:
            gid = attrs.get(self.id_attr)
            p0, r0 = len(polys), len(refs)
            if tag == self._orientable and attrs.get("orientation", "+").strip() == "-":
                flip = not flip
            polygon_tags = self._polygon_tags
            for prop in el:
                ptag = prop.tag
                if ptag in self._member_tags:
                    if tag == self._solid and ptag != self._exterior:
                        continue
                    if prop.items():
                        href = prop.get(XLINK_HREF)
                        if href is not None:
                            refs.append((_strip_hash(href), flip))
                            continue
                    for child in prop:
                        if child.tag in polygon_tags:
                            self._polygon(child, dim, polys, flip)
                        elif isinstance(child.tag, str):
                            self.collect(child, dim, polys, refs, flip)
                elif ptag in polygon_tags:  # gml:patches holding Triangles directly
                    self._polygon(prop, dim, polys, flip)
            if gid:
                members = [p[0] for p in polys[p0:] if p[0]] + [r[0] for r in refs[r0:]]
                self.surface_groups[gid] = members
            return
        if tag in self._skip_tags or not isinstance(tag, str):
            return
        self.warn("unsupported geometry")

    def _polygon(self, el, dim: int, polys: list, flip: bool) -> None:
        items = el.items()
        pid = None
        id_attr = self.id_attr
        if items:
            for key, value in items:
                if key == id_attr:
                    pid = value
                elif key == "srsDimension":
                    dim = _dimension(value, dim)
        exterior = None
        holes: list[np.ndarray] = []
        ring_ids: list[str | None] | None = None
        ext_id = None
        exterior_tags = self._exterior_tags
        interior_tags = self._interior_tags
        linear_ring = self._linear_ring
        pos_tag = self._pos
        pos_list = self._pos_list
        deferred = self.deferred
        for prop in el:
            ptag = prop.tag
            if ptag in exterior_tags:
                is_exterior = True
            elif ptag in interior_tags:
                is_exterior = False
            else:
                continue
            for lr in prop:
                if lr.tag != linear_ring:
                    if isinstance(lr.tag, str):
                        self.warn("unsupported ring")
                    continue
                coords = None
                rid = None
                lr_items = lr.items()
                if lr_items:
                    plain = True
                    for key, value in lr_items:
                        if key == id_attr:
                            rid = value
                        elif key == "srsDimension":
                            plain = False
                else:
                    plain = True
                # The usual 3D posList or gml:pos ring, inline; anything else takes the long way.
                if plain and dim == 3 and len(lr):
                    first = lr[0]
                    ftag = first.tag
                    if ftag == pos_list:
                        if self.max_ring_chars is not None and len(first.text or "") > self.max_ring_chars:
                            self.warn("ring too long")
                            if is_exterior:
                                return
                            continue
                        if not first.items() or first.get("srsDimension", "3") == "3":
                            if deferred is not None:
                                coords = len(deferred)
                                deferred.append(first.text or "")
                                self.deferred_counts.append(0)
                            else:
                                coords = _xyz(first.text or "")
                    elif ftag == pos_tag and not first.items():
                        texts = [c.text or "" for c in lr]
                        if deferred is not None:
                            coords = len(deferred)
                            deferred.append(" ".join(texts))
                            self.deferred_counts.append(3 * len(texts))
                        else:
                            coords = _xyz(" ".join(texts), len(texts))
                if coords is None:
                    coords = self.ring_coordinates(lr, dim)
                    if coords is None:
                        if is_exterior:
                            return
                        continue
                if flip:
                    coords = ~coords if type(coords) is int else coords[::-1]
                if is_exterior:
                    if exterior is None:  # a second exterior is ignored
                        exterior = coords
                        ext_id = rid
                else:
                    holes.append(coords)
                    if rid is not None and ring_ids is None:
                        ring_ids = [None] * (len(holes) - 1)
                    if ring_ids is not None:
                        ring_ids.append(rid)
        if exterior is None:
            self.warn("polygon without exterior")
            return
        if ext_id is not None or ring_ids is not None:
            ring_ids = [ext_id, *(ring_ids or [None] * len(holes))]
        polys.append((pid, [exterior, *holes] if holes else [exterior], ring_ids))

    # ------------------------------------------------------------- coordinates
    def ring_coordinates(self, lr, dim: int) -> np.ndarray | None:
        """``(n, 3)`` float64 coordinates of a ``LinearRing`` (or ``None`` with a warning)."""
        d = lr.get("srsDimension")
        if d is not None:
            dim = _dimension(d, dim)
        if len(lr) == 0:
            return self.to_points("", dim)
        first = lr[0]
        ftag = first.tag
        if ftag == self._pos_list:
            d = first.get("srsDimension")
            if d is not None:
                dim = _dimension(d, dim)
            return self.to_points(first.text or "", dim)
        if ftag == self._pos:
            # gml:pos children: their text, whitespace-joined, in one numpy call
            return self.to_points(" ".join([c.text or "" for c in lr]), dim, len(lr))
        if ftag == self._coordinates:
            return self._coordinates_text(first)
        n_pos = 0
        texts: list[str] = []
        for c in lr:
            if c.tag == self._pos:
                texts.append(c.text or "")
                n_pos += 1
            elif c.tag in self._point_tags:
                for p in c.iter(self._pos):
                    texts.append(p.text or "")
                    n_pos += 1
        return self.to_points(" ".join(texts), dim, n_pos)

    def to_points(self, text: str, dim: int, n_pos: int = -1) -> np.ndarray | None:
        """Parse coordinate text into ``(n, 3)``; ``n_pos`` > 0 infers the dimension from a count of gml:pos."""
        try:
            flat = parse_numbers(text)
        except ValueError:
            self.warn("coordinates that are not numbers")
            return None
        if n_pos > 0 and len(flat) % n_pos == 0:
            dim = len(flat) // n_pos
        if dim < 2 or len(flat) % dim:
            self.warn("odd coordinate count")
            return None
        pts = flat.reshape(-1, dim)
        if dim == 3:
            return pts
        if dim == 2:
            self.warn("2D coordinates")
            return np.column_stack([pts, np.zeros(len(pts))])
        return np.ascontiguousarray(pts[:, :3])

    def _coordinates_text(self, el) -> np.ndarray | None:
        text = el.text or ""
        cs = el.get("cs", ",")
        ts = el.get("ts", " ")
        dec = el.get("decimal", ".")
        tuples = text.split(ts) if ts.strip() else text.split()
        tuples = [t for t in tuples if t.strip()]
        if not tuples:
            return self.to_points("", 3)
        dim = len(tuples[0].split(cs)) if cs.strip() else len(tuples[0].split())
        if dec != ".":
            text = text.replace(dec, "\0")
        text = text.replace(cs, " ")
        if ts.strip():
            text = text.replace(ts, " ")
        if dec != ".":
            text = text.replace("\0", ".")
        pts = self.to_points(text, dim)
        if pts is not None and len(pts) != len(tuples):
            self.warn("odd coordinate count")
            return None
        return pts

    def point(self, el, dim: int = 3) -> np.ndarray | None:
        """The first ``gml:pos`` / ``gml:coordinates`` under ``el`` as a ``(3,)`` array."""
        for p in el.iter(self._pos, self._coordinates):
            pts = self._coordinates_text(p) if p.tag == self._coordinates else self.to_points(p.text or "", dim, 1)
            if pts is not None and len(pts) == 1:
                return pts[0]
            return None
        return None

    def polygon_ids(self, el) -> list[str]:
        """gml:ids of every polygon and surface under ``el`` (for objects that are filtered out)."""
        ids = []
        for p in el.iter(*self._polygon_tags, *self._aggregate_tags):
            gid = p.get(self.id_attr)
            if gid:
                ids.append(gid)
        return ids


def _xyz(text: str, n_pos: int = 0) -> np.ndarray | None:
    """``(n, 3)`` points of a 3D coordinate text (``n_pos`` gml:pos, or a posList), ``None`` if it is not that."""
    try:
        flat = np.array(text.split(), dtype=np.float64)
    except ValueError:
        return None
    if (len(flat) != 3 * n_pos) if n_pos else (len(flat) % 3 != 0):
        return None
    return flat.reshape(-1, 3)


def _strip_hash(href: str) -> str:
    href = href.strip()
    return href[href.index("#") + 1 :] if "#" in href else href


def _dimension(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default
