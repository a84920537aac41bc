"""Drawing a planning scenario over the layers' merged meshes, without rebuilding them.

A :class:`~citytwin.model.scenario.Scenario` is a set of edits over the base data. The
view shows it by changing as little as it can:

- deleted objects (with the parts below them) are left out of the drawn triangles
  (:meth:`~citytwin.render.visuals.CityModelVisual.set_edit_hidden`);
- moved, turned or stretched objects have their own points rewritten in place
  (:meth:`~citytwin.render.visuals.CityModelVisual.transform_objects`): moving one building of
  100,000 never rebuilds the layer;
- added objects (drawn buildings, imported proposals) are one small merged mesh of their own,
  the visual of a :class:`~citytwin.model.layers.CityModelLayer` that is not in the scene's
  list (:attr:`ScenarioDrawing.added_layer`): they can be picked, selected, moved and deleted
  like the data as read, and later edits of them (a move, attributes) are drawn the same way.

Switching between "Existing" and a scenario only applies the difference between the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from citytwin.model.scenario import AddObject, Scenario, TransformObject, object_changes, object_frame

__all__ = ["ScenarioDrawing", "added_model", "transform_matrix"]


def transform_matrix(transform: TransformObject, centre: np.ndarray, base: float) -> np.ndarray:
    """The ``4 × 4`` world matrix of a transform edit for an object with that plan ``centre`` and ``base`` height.

    It does what :func:`citytwin.model.scenario.transform_points` does: scale the heights about
    ``base``, turn about the vertical axis through ``centre``, then move.
    """
    cx, cy = float(centre[0]), float(centre[1])
    r = transform.rotation()
    s = transform.height_scale
    tx, ty, tz = transform.translate
    m = np.eye(4)
    m[:2, :2] = r
    m[:2, 3] = -(r @ [cx, cy]) + [cx, cy] + [tx, ty]
    m[2, 2] = s
    m[2, 3] = base - s * base + tz
    return m


def _offset_boundaries(b: Any, k: int) -> Any:
    if isinstance(b, list):
        return [_offset_boundaries(x, k) for x in b]
    return int(b) + k


def added_model(edits: list[AddObject], crs: Any = None) -> Any:
    """One city model of the objects a scenario adds (their boundaries re-indexed into one vertex list)."""
    from citytwin.io.cityjson import read_cityobjects

    objects: dict[str, Any] = {}
    vertices: list[np.ndarray] = []
    offset = 0
    for e in edits:
        co = dict(e.cityobject)
        co["geometry"] = [
            {**g, "boundaries": _offset_boundaries(g.get("boundaries", []), offset)} for g in co.get("geometry", [])
        ]
        objects[e.id] = co
        v = e.vertex_array()
        vertices.append(v)
        offset += len(v)
    return read_cityobjects(objects, np.concatenate(vertices) if vertices else np.zeros((0, 3)), crs)


class ScenarioDrawing:
    """Shows one scenario (or the existing city) on the city-model visuals of a scene view.

    Parameters
    ----------
    renderer
        Where the added objects are drawn (a pyvista plotter or a ``vtkRenderer``).
    origin
        The scene origin.
    style
        The render style for the added objects.
    """

    def __init__(self, renderer: Any, origin: np.ndarray, style: Any = None) -> None:
        self.renderer = renderer
        self.origin = np.asarray(origin, np.float64)
        self.style = style
        self.scenario: Scenario | None = None
        #: the visual of the added objects, or None
        self.added_visual: Any = None
        #: the layer the added objects' visual draws (selection, hidden ids), or None
        self.added_layer: Any = None
        self._added_key: tuple | None = None
        self._moved: dict[int, dict[int, tuple]] = {}  # id(visual) → root → transform key

    def apply(self, scenario: Scenario | None, visuals: list[Any], crs: Any = None) -> bool:
        """Draw ``scenario`` (``None``: the existing city) on ``visuals``; True when anything changed."""
        changes = object_changes(scenario) if scenario is not None else {}
        name = scenario.name if scenario is not None else ""
        changed = self._apply_added([c.added for c in changes.values() if c.added is not None and not c.deleted],
                                    crs, name)  # fmt: skip
        drawn = [*visuals, *([self.added_visual] if self.added_visual is not None else [])]
        for vis in drawn:
            if hasattr(vis, "transform_objects"):
                changed |= self._apply_to(vis, changes)
        self.scenario = scenario
        return changed

    def _apply_to(self, vis: Any, changes: Mapping[str, Any]) -> bool:
        objects = vis.model.objects
        index = objects.index
        deleted = np.zeros(len(objects), bool)
        moves: dict[int, tuple[TransformObject, tuple]] = {}
        for oid, c in changes.items():
            k = index.get(oid)
            if k is None:
                continue
            if c.deleted:
                deleted[k] = True
            elif c.transform is not None:
                t = c.transform
                moves[int(objects.roots[k])] = (t, (t.translate, t.rotate_deg, t.height_scale))
        changed = vis.set_edit_hidden(deleted if deleted.any() else None)
        before = self._moved.get(id(vis), {})
        back = [r for r in before if r not in moves]
        if back:
            vis.transform_objects(back, None)
            changed = True
        todo = [(r, t) for r, (t, key) in moves.items() if before.get(r) != key]
        if todo:
            roots = [r for r, _ in todo]
            mats = []
            for r, t in todo:
                centre, base = object_frame(vis.original_object_points(r))
                mats.append(transform_matrix(t, centre, base))
            vis.transform_objects(roots, np.stack(mats))
            changed = True
        self._moved[id(vis)] = {r: key for r, (_, key) in moves.items()}
        return changed

    def _apply_added(self, edits: list[AddObject], crs: Any, name: str = "") -> bool:
        key = tuple((e.id, id(e)) for e in edits)
        if key == self._added_key:
            if self.added_layer is not None and name:
                self.added_layer.name = f"New in {name}"
            return False
        self._added_key = key
        if self.added_visual is not None:
            self.forget(self.added_visual)
            self.added_visual.remove()
            self.added_visual = None
            self.added_layer = None
        if edits:
            from citytwin.model.layers import CityModelLayer
            from citytwin.render.visuals import CityModelVisual

            model = added_model(edits, crs)
            kwargs = {} if self.style is None else {"style": self.style}
            self.added_visual = CityModelVisual(model, self.renderer, self.origin, **kwargs)
            self.added_layer = CityModelLayer(name=f"New in {name}" if name else "New objects", model=model)
        return True

    def forget(self, vis: Any) -> None:
        """Drop what is known about a visual that is gone."""
        self._moved.pop(id(vis), None)

    def close(self) -> None:
        """Remove the added objects' visual."""
        if self.added_visual is not None:
            self.added_visual.remove()
            self.added_visual = None
        self.added_layer = None
        self._added_key = None
        self._moved.clear()
