"""LAS point records kept as read, decoded one attribute at a time when asked for.

A LAS point record packs integer coordinates, a class code in a few bits,
return numbers in a bit field, colour channels and a GPS time into 20–67 bytes.
Decoding every attribute of every point up front costs more than reading the
file; a viewer needs only float32 points and one colour array to draw. So a
cloud keeps the records (one numpy structured array) and decodes on demand:
:meth:`PointRecords.local_float32` writes the display coordinates straight
from the integers, and each attribute is unpacked the first time something
asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

#: Records converted per step: the float64 temporaries stay in cache.
_BLOCK = 65_536


class FieldSpec(NamedTuple):
    """Where an attribute lives in a record: ``(record[field] & mask) >> shift`` (``mask`` 0: the whole field)."""

    field: str
    mask: int = 0
    shift: int = 0


#: The dtype each decoded attribute has in the model.
ATTRIBUTE_DTYPES: dict[str, type] = {
    "classification": np.uint8,
    "intensity": np.uint16,
    "return_number": np.uint8,
    "number_of_returns": np.uint8,
    "gps_time": np.float64,
}


@dataclass(eq=False)
class PointRecords:
    """Undecoded point records with what it takes to decode them.

    Attributes
    ----------
    records
        ``(N,)`` numpy structured array with integer fields ``X``, ``Y``, ``Z``.
    scales, offsets
        ``(3,)`` float64: coordinate = integer × scale + offset.
    fields
        Attribute name (``"classification"``, ``"intensity"``, ``"return_number"``,
        ``"number_of_returns"``, ``"gps_time"``) → its :class:`FieldSpec`; missing
        names are attributes the records do not have.
    rgb
        The three colour fields (``("red", "green", "blue")``), or ``None``.
    rgb_shift
        Right shift that turns a colour channel into 8 bits (8 for 16-bit colour, 0 for 8-bit values).
    decoded
        Whole-cloud arrays decoded so far, by attribute name (kept by
        :class:`~citytwin.model.pointcloud.PointCloud`, so every cloud sharing these
        records decodes each attribute once).
    """

    records: np.ndarray
    scales: np.ndarray
    offsets: np.ndarray
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    rgb: tuple[str, str, str] | None = None
    rgb_shift: int = 0
    decoded: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.scales = np.asarray(self.scales, np.float64).reshape(3)
        self.offsets = np.asarray(self.offsets, np.float64).reshape(3)
        names = set(self.records.dtype.names or ())
        missing = {"X", "Y", "Z"} - names
        missing |= {spec.field for spec in self.fields.values()} - names
        missing |= set(self.rgb or ()) - names
        if missing:
            raise ValueError(f"the records have no field {', '.join(sorted(missing))}")

    def __len__(self) -> int:
        return len(self.records)

    def has(self, name: str) -> bool:
        """Whether the records hold attribute ``name`` (``"rgb"`` included)."""
        return self.rgb is not None if name == "rgb" else name in self.fields

    # ------------------------------------------------------------ coordinates
    def coordinate(self, axis: int, index: np.ndarray | slice | None = None) -> np.ndarray:
        """``(M,)`` float64 source coordinate ``axis`` (0 x, 1 y, 2 z) of the points ``index`` (all by default)."""
        ints = self.records["XYZ"[axis]]
        if index is not None:
            ints = ints[index]
        out = np.multiply(ints, self.scales[axis], dtype=np.float64)
        out += self.offsets[axis]
        return out

    def xyz(self, index: np.ndarray | slice | None = None) -> np.ndarray:
        """``(M, 3)`` float64 source coordinates of the points ``index`` (all by default)."""
        rows = self.records if index is None else self.records[index]
        out = np.empty((len(rows), 3), np.float64)
        for k, name in enumerate("XYZ"):
            np.multiply(rows[name], self.scales[k], out=out[:, k], casting="unsafe")
            out[:, k] += self.offsets[k]
        return out

    def local_float32(self, origin: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``(N, 3)`` float32 coordinates relative to ``origin``, straight from the integers.

        The same values as ``(xyz - origin).astype(float32)`` (the difference is
        taken in float64), without a float64 copy of the whole cloud; written
        into ``out`` when given.
        """
        origin = np.asarray(origin, np.float64).reshape(3)
        n = len(self.records)
        if out is None:
            out = np.empty((n, 3), np.float32)
        tmp = np.empty(min(n, _BLOCK), np.float64)
        for start in range(0, n, _BLOCK):
            rows = self.records[start : start + _BLOCK]
            t = tmp[: len(rows)]
            for k, name in enumerate("XYZ"):
                # Offset and origin added one after the other, as xyz - origin would: the same roundings.
                np.multiply(rows[name], self.scales[k], out=t, casting="unsafe")
                t += self.offsets[k]
                t -= origin[k]
                out[start : start + len(rows), k] = t
        return out

    # ------------------------------------------------------------ attributes
    def attribute(self, name: str, index: np.ndarray | slice | None = None) -> np.ndarray:
        """``(M,)`` decoded attribute ``name`` (dtype from :data:`ATTRIBUTE_DTYPES`) of the points ``index``."""
        spec = self.fields[name]
        raw = self.records[spec.field]
        if index is not None:
            raw = raw[index]
        dtype = ATTRIBUTE_DTYPES.get(name, raw.dtype)
        if not spec.mask:
            return raw.astype(dtype, copy=True)
        out = np.bitwise_and(raw, spec.mask).astype(dtype, copy=False)
        if spec.shift:
            np.right_shift(out, spec.shift, out=out)
        return out

    def lookup(self, name: str, table: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``table[attribute]`` for every point, straight from the records when the attribute is a byte.

        The mask and shift are folded into a 256-entry table indexed by the raw
        byte, so nothing is decoded or kept (a class-colour lookup over a
        cloud costs one pass over the records).

        Parameters
        ----------
        name
            The attribute (its decoded values index ``table``).
        table
            ``(K, ...)`` values by attribute value; attribute values ≥ K must not occur.
        out
            Where to write the ``(N, ...)`` result.
        """
        spec = self.fields[name]
        raw = self.records[spec.field]
        if raw.dtype.itemsize != 1:
            return np.take(table, self.attribute(name), axis=0, out=out)
        if spec.mask:
            table = np.take(table, (np.arange(256) & spec.mask) >> spec.shift, axis=0)
        if out is None:
            out = np.empty((len(raw), *table.shape[1:]), table.dtype)
        for start in range(0, len(raw), _BLOCK):  # np.take widens indices to intp: keep that temporary small
            np.take(table, raw[start : start + _BLOCK], axis=0, out=out[start : start + _BLOCK])
        return out

    def colours(self, index: np.ndarray | slice | None = None) -> np.ndarray:
        """``(M, 3)`` uint8 RGB of the points ``index`` (16-bit colour scaled down)."""
        if self.rgb is None:
            raise KeyError("rgb")
        rows = self.records if index is None else self.records[index]
        out = np.empty((len(rows), 3), np.uint8)
        for k, name in enumerate(self.rgb):
            col = rows[name]
            out[:, k] = (col >> self.rgb_shift) if self.rgb_shift else col
        return out

    def subset(self, index: np.ndarray) -> PointRecords:
        """The records ``index`` (a copy), decoded the same way."""
        return PointRecords(self.records[index], self.scales, self.offsets, self.fields, self.rgb, self.rgb_shift)
