"""City objects as a table: ids, types, hierarchy and attributes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

#: Types that are boundary surfaces or openings of another object.
SURFACE_TYPES = frozenset(
    {
        "RoofSurface", "WallSurface", "GroundSurface", "ClosureSurface", "FloorSurface",
        "OuterCeilingSurface", "OuterFloorSurface", "InteriorWallSurface", "CeilingSurface",
        "Window", "Door", "WaterSurface", "WaterGroundSurface", "WaterClosureSurface",
        "TrafficArea", "AuxiliaryTrafficArea", "Marking", "HoleSurface",
    }
)  # fmt: skip


@dataclass(frozen=True)
class CityObjectView:
    """A read-only view of one row of a :class:`CityObjects` table."""

    table: CityObjects
    index: int

    @property
    def id(self) -> str:
        return self.table.ids[self.index]

    @property
    def type(self) -> str:
        return self.table.types[self.index]

    @property
    def attributes(self) -> dict[str, Any]:
        return self.table.attributes[self.index]

    @property
    def parent(self) -> CityObjectView | None:
        p = int(self.table.parents[self.index])
        return None if p < 0 else CityObjectView(self.table, p)

    @property
    def children(self) -> list[CityObjectView]:
        return [CityObjectView(self.table, int(c)) for c in self.table.children(self.index)]

    @property
    def addresses(self) -> list[dict[str, Any]]:
        return self.table.addresses.get(self.index, [])


class CityObjects:
    """Every city object of a model, one row each.

    Rows are added while reading (:meth:`add`); ``parents`` is an int32 array
    (-1 for top-level objects). Per-object Python data is limited to the id,
    the type name and an attribute dict.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.types: list[str] = []
        self._parents: list[int] = []
        self.attributes: list[dict[str, Any]] = []
        #: object index → list of addresses (dicts of xAL / Address fields)
        self.addresses: dict[int, list[dict[str, Any]]] = {}
        #: object index → names of the groups (CityObjectGroup) it belongs to
        self.groups: dict[int, list[str]] = {}
        self._frozen_parents: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[CityObjectView]:
        return (CityObjectView(self, i) for i in range(len(self)))

    def __getitem__(self, index: int) -> CityObjectView:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return CityObjectView(self, index % len(self))

    def add(self, id: str, type: str, parent: int = -1, attributes: dict[str, Any] | None = None) -> int:  # noqa: A002
        """Append an object and return its index."""
        self.ids.append(id)
        self.types.append(type)
        self._parents.append(parent)
        self.attributes.append(attributes if attributes is not None else {})
        self._invalidate()
        return len(self.ids) - 1

    def extend(self, ids: list[str], types: list[str], parents: list[int], attributes: list[dict[str, Any]]) -> None:
        """Append many objects at once (columns of equal length, as for :meth:`add`)."""
        if not len(ids) == len(types) == len(parents) == len(attributes):
            raise ValueError("CityObjects.extend: columns of different lengths")
        self.ids.extend(ids)
        self.types.extend(types)
        self._parents.extend(parents)
        self.attributes.extend(attributes)
        self._invalidate()

    def set_parent(self, index: int, parent: int) -> None:
        """Re-parent an object (readers resolve CityJSON ``parents`` after the fact)."""
        self._parents[index] = parent
        self._invalidate()

    def break_cycles(self) -> int:
        """Make the first object (in row order) of every parent/child cycle top-level; return the cycles broken.

        A damaged file can make an object its own ancestor; every walk up the
        hierarchy (roots, the Inspector's parent chain) then runs for ever.
        """
        parents = self.parents
        n = len(parents)
        if n == 0:
            return 0
        # Pointer doubling: after k rounds, ``anc`` is the 2**k-th ancestor (-1 past the top).
        # An object still with an ancestor after 2**k >= n steps lies on, or below, a cycle.
        anc = parents.astype(np.int64)
        for _ in range(max(int(n).bit_length(), 1)):
            has = anc >= 0
            if not has.any():
                return 0
            anc[has] = anc[anc[has]]
        suspects = np.flatnonzero(anc >= 0)
        if len(suspects) == 0:
            return 0
        state = np.zeros(n, np.int8)  # 0 unseen, 1 on the current path, 2 done
        broken = 0
        for start in suspects.tolist():  # only objects on or below a cycle: none in a sound file
            path = []
            i = start
            while i >= 0 and state[i] == 0:
                state[i] = 1
                path.append(i)
                i = self._parents[i]
            if i >= 0 and state[i] == 1:  # closed a cycle: cut it at its first row
                cycle = path[path.index(i) :]
                self._parents[min(cycle)] = -1
                broken += 1
            state[path] = 2
        self._invalidate()
        return broken

    def _invalidate(self) -> None:
        self._frozen_parents = None
        for name in ("index", "roots", "_children_csr"):
            self.__dict__.pop(name, None)

    @property
    def parents(self) -> np.ndarray:
        """``(N,)`` int32 parent index, -1 for top-level objects."""
        if self._frozen_parents is None:
            self._frozen_parents = np.asarray(self._parents, dtype=np.int32)
        return self._frozen_parents

    @cached_property
    def index(self) -> dict[str, int]:
        """id → row (the first row when an id repeats)."""
        out: dict[str, int] = {}
        for i, ident in enumerate(self.ids):
            out.setdefault(ident, i)
        return out

    @cached_property
    def roots(self) -> np.ndarray:
        """``(N,)`` int32 top-level ancestor of each object (itself when top-level)."""
        parents = self.parents
        root = np.arange(len(parents), dtype=np.int32)
        has = parents >= 0
        root[has] = parents[has]
        for _ in range(64):  # hierarchies are shallow; bounded against cycles
            nxt = parents[root]
            move = nxt >= 0
            if not move.any():
                break
            root[move] = nxt[move]
        return root

    @cached_property
    def _children_csr(self) -> tuple[np.ndarray, np.ndarray]:
        parents = self.parents
        order = np.argsort(parents, kind="stable")
        sorted_parents = parents[order]
        starts = np.searchsorted(sorted_parents, np.arange(len(parents) + 1))
        return order.astype(np.int32), starts

    def children(self, index: int) -> np.ndarray:
        """Indices of an object's direct children."""
        order, starts = self._children_csr
        return order[starts[index] : starts[index + 1]]

    def type_counts(self) -> dict[str, int]:
        """Number of objects of each type, every object counted once."""
        return dict(sorted(Counter(self.types).items()))

    def attribute_names(self) -> list[str]:
        """Every attribute name used by at least one object, sorted."""
        names: set[str] = set()
        for attrs in self.attributes:
            names.update(attrs)
        return sorted(names)
