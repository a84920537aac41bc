"""Thematic colouring: objects coloured by a numeric or a categorical attribute.

Pure numpy (plus matplotlib's colour maps, loaded on first use): the result is a
per-object colour table, so a visual colours its triangles with one lookup,
and a panel can show the legend and the count of objects without a value.

An object without the attribute takes the value of its nearest ancestor that
has it (a ``RoofSurface`` is coloured by its ``Building``'s height); objects
with no value anywhere up the hierarchy are drawn in :attr:`Style.neutral` grey
and counted in :attr:`Thematic.n_missing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from citytwin.model.cityobjects import CityObjects

RGB = tuple[int, int, int]

#: Qualitative palette for categories (Tableau 10 then its light tones).
CATEGORY_PALETTE: tuple[RGB, ...] = (
    (78, 121, 167), (242, 142, 43), (225, 87, 89), (118, 183, 178), (89, 161, 79),
    (237, 201, 72), (176, 122, 161), (255, 157, 167), (156, 117, 95), (186, 176, 172),
    (160, 203, 232), (255, 190, 125), (140, 209, 125), (182, 153, 45), (134, 188, 182),
    (210, 151, 190),
)  # fmt: skip
#: Colour of the categories beyond the palette, grouped as "Other".
OTHER_CATEGORY: RGB = (120, 120, 120)
NEUTRAL: RGB = (170, 170, 170)


def colormap_lut(name: str = "viridis", n: int = 256) -> np.ndarray:
    """``(n, 3)`` uint8 samples of a matplotlib colour map, low to high."""
    import matplotlib

    cmap = matplotlib.colormaps[name]
    return np.round(cmap(np.linspace(0.0, 1.0, n))[:, :3] * 255).astype(np.uint8)


def _number(value: Any) -> float | None:
    """A float from an attribute value (numbers, numeric strings, ``{"value": …}``), else ``None``."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, str):
        try:
            v = float(value.strip())
        except ValueError:
            return None
        return v if math.isfinite(v) else None
    return None


def _label(value: Any) -> str:
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def inherit_from_ancestors(has: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """``(N,)`` index of the nearest object at or above each object that has a value, -1 if none."""
    has = np.asarray(has, bool)
    parents = np.asarray(parents)
    result = np.where(has, np.arange(len(has)), -1)
    cur = np.arange(len(has))
    todo = ~has
    for _ in range(64):  # hierarchies are shallow; bounded against cycles
        if not todo.any():
            break
        cur = np.where(todo, parents[np.clip(cur, 0, None)], cur)
        todo &= cur >= 0
        hit = todo & has[np.clip(cur, 0, None)]
        result[hit] = cur[hit]
        todo &= ~hit
    return result


@dataclass
class Thematic:
    """Object colours for one attribute, and what a legend needs.

    Attributes
    ----------
    attribute
        The attribute name.
    kind
        ``"numeric"`` (a colour map over :attr:`clim`) or ``"categorical"`` (a palette).
    object_colours
        ``(N, 3)`` uint8 colour of every object (neutral grey where it has no value).
    has_value
        ``(N,)`` bool: the object or one of its ancestors has the attribute.
    values
        ``(N,)`` float64 value per object (NaN without), numeric only.
    clim
        ``(low, high)`` of the colour map, numeric only.
    cmap
        Colour map name, numeric only.
    categories, category_colours, category_counts
        Legend entries (most frequent first), categorical only; counts are of objects
        that carry the value themselves.
    n_missing
        Top-level objects with geometry of which some geometry has no value.
    n_with
        Top-level objects with geometry whose geometry all has a value.
    neutral
        Colour used for objects without a value.
    """

    attribute: str
    kind: Literal["numeric", "categorical"]
    object_colours: np.ndarray
    has_value: np.ndarray
    values: np.ndarray | None = None
    clim: tuple[float, float] | None = None
    cmap: str | None = None
    categories: list[str] = field(default_factory=list)
    category_colours: list[RGB] = field(default_factory=list)
    category_counts: list[int] = field(default_factory=list)
    n_missing: int = 0
    n_with: int = 0
    neutral: RGB = NEUTRAL

    def lut(self, n: int = 256) -> np.ndarray:
        """``(n, 3)`` uint8 colour-map samples over :attr:`clim` (numeric only)."""
        if self.kind != "numeric" or self.cmap is None:
            raise ValueError("only a numeric colouring has a colour map")
        return colormap_lut(self.cmap, n)


def thematic_colours(
    objects: CityObjects,
    attribute: str,
    *,
    kind: Literal["numeric", "categorical"] | None = None,
    cmap: str = "viridis",
    clim: tuple[float, float] | None = None,
    palette: tuple[RGB, ...] | list[RGB] = CATEGORY_PALETTE,
    neutral: RGB = NEUTRAL,
    geometry_objects: np.ndarray | None = None,
) -> Thematic:
    """Colour every object of a table by one attribute.

    Parameters
    ----------
    objects
        The object table.
    attribute
        Attribute name (a key of :attr:`CityObjects.attributes` dicts).
    kind
        Force numeric or categorical; by default numeric when every present value is a
        number (or a numeric string), categorical otherwise.
    cmap, clim
        Colour map and its range (default: min and max of the values present).
    palette
        Category colours; categories beyond it share :data:`OTHER_CATEGORY` ("Other").
    neutral
        Colour of objects without a value.
    geometry_objects
        Indices of objects that own geometry (``mesh.poly_object``), used only for the
        :attr:`Thematic.n_missing` / :attr:`Thematic.n_with` counts; default: all objects.

    Returns
    -------
    Thematic
    """
    n = len(objects)
    raw = [attrs.get(attribute) for attrs in objects.attributes]
    own = np.fromiter((v is not None for v in raw), dtype=bool, count=n)
    parsed = [None if v is None else _number(v) for v in raw]
    numbers = np.array([np.nan if x is None else x for x in parsed], dtype=np.float64).reshape(n)
    if kind is None:
        kind = "numeric" if own.any() and np.isfinite(numbers[own]).all() else "categorical"
    colours = np.empty((n, 3), np.uint8)
    colours[:] = neutral
    result_values: np.ndarray | None = None
    cats: list[str] = []
    cat_colours: list[RGB] = []
    cat_counts: list[int] = []
    used_clim: tuple[float, float] | None = None
    if kind == "numeric":
        own &= np.isfinite(numbers)
        src = inherit_from_ancestors(own, objects.parents) if n else np.zeros(0, int)
        has = src >= 0
        values = np.full(n, np.nan)
        values[has] = numbers[src[has]]
        present = numbers[own]
        if clim is None:
            used_clim = (float(present.min()), float(present.max())) if len(present) else (0.0, 1.0)
        else:
            used_clim = (float(clim[0]), float(clim[1]))
        lo, hi = used_clim
        span = hi - lo if hi > lo else 1.0
        lut = colormap_lut(cmap, 256)
        t = np.clip((values[has] - lo) / span, 0.0, 1.0)
        colours[has] = lut[np.round(t * 255).astype(np.int64)]
        result_values = values
    else:
        labels = np.array([_label(v) if v is not None else "" for v in raw], dtype=object)
        src = inherit_from_ancestors(own, objects.parents) if n else np.zeros(0, int)
        has = src >= 0
        uniq, inverse, counts = (
            np.unique(labels[own].astype(str), return_inverse=True, return_counts=True)
            if own.any()
            else (np.zeros(0, str), np.zeros(0, int), np.zeros(0, int))
        )
        order = np.lexsort((uniq, -counts)) if len(uniq) else np.zeros(0, int)
        rank = np.empty(len(uniq), np.int64)
        rank[order] = np.arange(len(uniq))
        pal = np.array(list(palette), np.uint8).reshape(-1, 3)
        k = min(len(pal), len(uniq))
        if len(uniq) > len(pal):
            k = len(pal) - 1  # keep one slot's worth of room: the rest is "Other"
        cat_rgb = np.empty((len(uniq), 3), np.uint8)
        cat_rgb[:] = OTHER_CATEGORY
        cat_rgb[rank < k] = pal[rank[rank < k]]
        own_cat = np.full(n, -1, np.int64)
        own_cat[own] = inverse
        colours[has] = cat_rgb[own_cat[src[has]]]
        cats = [str(uniq[i]) for i in order[:k]]
        cat_colours = [tuple(int(c) for c in cat_rgb[i]) for i in order[:k]]  # type: ignore[misc]
        cat_counts = [int(counts[i]) for i in order[:k]]
        if len(uniq) > k:
            cats.append("Other")
            cat_colours.append(OTHER_CATEGORY)
            cat_counts.append(int(counts[order[k:]].sum()))
    # counts over top-level objects with geometry
    geo = np.arange(n) if geometry_objects is None else np.unique(np.asarray(geometry_objects))
    geo = geo[(geo >= 0) & (geo < n)]
    roots = objects.roots[geo] if n else np.zeros(0, np.int32)
    missing_roots = np.unique(roots[~has[geo]]) if len(geo) else np.zeros(0)
    all_roots = np.unique(roots)
    return Thematic(
        attribute=attribute,
        kind=kind,
        object_colours=colours,
        has_value=has,
        values=result_values,
        clim=used_clim,
        cmap=cmap if kind == "numeric" else None,
        categories=cats,
        category_colours=cat_colours,
        category_counts=cat_counts,
        n_missing=int(len(missing_roots)),
        n_with=int(len(all_roots) - len(missing_roots)),
        neutral=neutral,
    )


def robust_range(values: np.ndarray, low: float = 2.0, high: float = 98.0) -> tuple[float, float]:
    """The ``low``–``high`` percentile range of ``values`` (a histogram for 16-bit integers: exact and fast)."""
    v = np.asarray(values)
    if v.size == 0:
        return (0.0, 1.0)
    if v.dtype.kind == "u" and v.dtype.itemsize <= 2:
        counts = np.bincount(v.ravel())
        cdf = np.cumsum(counts)
        lo = int(np.searchsorted(cdf, cdf[-1] * low / 100.0, side="left"))
        hi = int(np.searchsorted(cdf, cdf[-1] * high / 100.0, side="left"))
        return (float(lo), float(hi))
    if v.size > 2_000_000:  # a uniform sample is plenty for a colour range
        v = v[:: v.size // 1_000_000]
    lo_f, hi_f = np.percentile(v, [low, high])
    return (float(lo_f), float(hi_f))


def ramp(values: np.ndarray, clim: tuple[float, float], lut: np.ndarray) -> np.ndarray:
    """Colours of ``values`` on a colour table ``lut`` spanning ``clim`` (clipped at both ends)."""
    lo, hi = clim
    scale = (len(lut) - 1) / (hi - lo) if hi > lo else 0.0
    t = (np.asarray(values, np.float32) - np.float32(lo)) * np.float32(scale)
    np.clip(t, 0, len(lut) - 1, out=t)
    return lut[np.rint(t).astype(np.intp)]
