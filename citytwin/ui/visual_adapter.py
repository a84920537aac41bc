"""A small adapter over :class:`citytwin.render.visuals.CityModelVisual`.

The render visual hides surface classes and LoDs but not top-level object
*types* (the layer's ``hidden_types``: switch off all trees, all terrain).
:class:`LayerVisual` adds :meth:`set_hidden_types` by extending the triangle
mask the visual draws. Candidate to move into ``citytwin.render.visuals``.
"""

from __future__ import annotations

import numpy as np

from citytwin.render.convert import polydata_from_arrays
from citytwin.render.visuals import CityModelVisual


class LayerVisual(CityModelVisual):
    """:class:`CityModelVisual` that can also hide whole top-level object types."""

    def __init__(self, *args, **kwargs) -> None:
        self._hidden_roots: np.ndarray | None = None  # (N,) bool per object, or None
        super().__init__(*args, **kwargs)

    def set_hidden_types(self, types: frozenset[str] | set[str]) -> None:
        """Hide every top-level object whose type is in ``types`` (with all its parts)."""
        objects = self.model.objects
        if not types or len(objects) == 0:
            new = None
        else:
            names = np.asarray(objects.types, dtype=object)
            new = np.isin(names.astype(str), sorted(types))
        old = self._hidden_roots
        if (old is None and new is None) or (old is not None and new is not None and np.array_equal(old, new)):
            return
        self._hidden_roots = new
        self._rebuild_cells()

    def _rebuild_cells(self) -> None:
        cell = self.arrays.cell
        keep = self._lod_keep & ~self._hidden_classes[cell["semantic"]]
        if self._hidden_roots is not None:
            roots = cell["root"]
            ok = roots >= 0
            hidden = np.zeros(len(roots), bool)
            hidden[ok] = self._hidden_roots[roots[ok]]
            keep &= ~hidden
        idx = np.flatnonzero(keep)
        self._drawn = idx
        sub = {k: v[idx] for k, v in cell.items() if k != "colors"}
        sub["tri_index"] = idx.astype(np.int32)
        sub["colors"] = self._display_colours(idx)
        pd = polydata_from_arrays(None, self.arrays.triangles[idx], sub, vtk_points=self._vtk_points)
        self.polydata.ShallowCopy(pd)
        self.polydata.GetCellData().SetActiveScalars("colors")
        self.polydata.Modified()
        self._locator = None
