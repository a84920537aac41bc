"""Index arrays of many CityJSON geometries, read and rewritten as bytes, without a Python object per index.

The CityJSON writer (:mod:`citytwin.io.cityjson_export`) re-indexes the
vertices and materials of every object it writes. :class:`IndexArrays` takes
the raw JSON of many ``boundaries`` (or material ``values``) arrays at once,
joined with commas, reads their integers with numpy and writes them back with
other integers, in a few passes over the bytes:

- reading: the digits of each number lie between two of the structural bytes
  ``[``, ``]`` and ``,``; the numbers are read from their last digits backwards,
  all numbers at once per digit position;
- the structure: between two numbers JSON has ``]`` × *a*, one comma and ``[`` × *b*;
  from *a* and *b* follows the depth of every number, which must be its array's
  leaf level (so every number sits at the level its geometry type has, and no
  array is empty);
- writing: orjson writes the new numbers as one flat list; each comma of it that
  stands for brackets is marked with a code byte, and each code is then
  replaced by its brackets (one C-level ``bytes.replace`` per distinct bracket
  run, a handful in all).

Only exactly nested arrays are taken: integers (and ``null`` where asked) at the
given leaf level and nowhere else, no empty arrays, no negative numbers, no
decimals or exponents. :meth:`IndexArrays.parse` returns ``None`` for anything
else, and the caller then takes the general path.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
import orjson

__all__ = ["IndexArrays"]

_OPEN, _CLOSE, _COMMA, _MINUS = 0x5B, 0x5D, 0x2C, 0x2D
_NULL = b"null"
_WHITESPACE = b" \t\r\n"
_JOIN = 0  # the code byte that marks where one array ends and the next begins
#: Deepest leaf level taken (CityJSON's deepest, a MultiSolid's): with it at most 4 + 5 × 5 kinds of bracket
#: runs stand between numbers, each written with a code byte 1 … 29 (control characters, never in numbers).
_MAX_LEVEL = 5
_MAX_DIGITS = 18  # int64 holds every 18-digit number


def _numbers(buf: bytes, minus: bool) -> tuple[np.ndarray, ...] | None:
    """The integers of JSON arrays of integers, with where they lie: ``values, starts, ends, before, after``.

    ``starts`` and ``ends``: each number's first byte and the byte after it; ``before`` and
    ``after``: the ``]`` before each comma between two numbers and the ``[`` after it. None
    unless ``buf`` holds only integers (negative ones where ``minus``), commas and brackets,
    with one comma between two numbers (so no empty array), ``buf`` being valid JSON.
    """
    arr = np.frombuffer(buf, np.uint8)
    if not arr.size:
        return None
    digit = (arr - np.uint8(0x30)) < 10  # "0" … "9" (the subtraction wraps everything else past 9)
    if minus:
        digit |= arr == _MINUS
    if digit[0] or digit[-1]:
        return None
    edges = np.flatnonzero(digit[1:] != digit[:-1]) + 1  # each number's first byte and the byte after it
    starts, ends = edges[0::2], edges[1::2]
    k = starts.size
    commas = np.flatnonzero(arr == _COMMA)
    # valid JSON has "]"* "," "["* between two numbers: one comma in each gap means no empty array
    if k == 0 or ends.size != k or commas.size != k - 1:
        return None
    lengths = ends - starts
    if int(lengths.sum()) + commas.size + buf.count(b"[") + buf.count(b"]") != arr.size:
        return None  # something but digits, commas and brackets
    if k > 1 and ((commas < ends[:-1]) | (commas >= starts[1:])).any():
        return None
    negative = arr.take(starts) == _MINUS if minus else None
    if negative is not None:
        lengths -= negative
    longest = int(lengths.max())
    if longest > _MAX_DIGITS or not lengths.min():
        return None
    kind = np.int32 if longest <= 9 else np.int64
    at = ends - 1
    digits = arr.take(at) - np.uint8(0x30)
    values = digits.astype(kind)
    for j in range(2, longest + 1):  # the j-th digit from the end, where a number has one
        at -= 1
        np.subtract(arr.take(at), np.uint8(0x30), out=digits)
        digits[lengths < j] = 0
        values += digits * kind(10 ** (j - 1))
    values = values.astype(np.int64)
    if negative is not None:
        np.negative(values, out=values, where=negative)
    return values, starts, ends, commas - ends[:-1], starts[1:] - commas - 1


def _depths(starts: np.ndarray, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How deep each number lies, and how deep the arrays are at each comma between two (0: between items)."""
    depth = np.empty(starts.size, np.int64)
    depth[0] = starts[0]
    np.cumsum(after - before, out=depth[1:])
    depth[1:] += starts[0]
    return depth, depth[:-1] - before


class IndexArrays:
    """JSON arrays of non-negative integers (``null`` read as -1 where allowed), read together.

    Attributes
    ----------
    values
        ``(K,)`` int64: every integer of every array, in order.
    """

    __slots__ = ("_after", "_before", "_depth", "_join", "_nulls", "values")

    values: np.ndarray

    @classmethod
    def parse(
        cls, raws: Sequence[msgspec.Raw | bytes], leaf_levels: Sequence[int], nulls: bool = False
    ) -> IndexArrays | None:
        """Read the arrays; None unless each holds integers at exactly its ``leaf_levels`` entry (1: a flat list).

        Every item of ``raws`` must be valid JSON (as msgspec hands it out); ``nulls``
        allows ``null`` among the integers (read as -1).
        """
        levels = np.asarray(leaf_levels, np.int64)
        if not raws or levels.shape != (len(raws),) or levels.min() < 1 or levels.max() > _MAX_LEVEL:
            return None
        buf = b",".join(raws)
        if b"-" in buf:
            return None
        if nulls and b"n" in buf:
            buf = buf.replace(_NULL, b"-1")
        if any(c in buf for c in (b" ", b"\n", b"\r", b"\t")):
            buf = buf.translate(None, _WHITESPACE)
        numbers = _numbers(buf, minus=nulls)
        if numbers is None:
            return None
        values, starts, ends, before, after = numbers
        depth, closed = _depths(starts, before, after)
        join = closed == 0  # the comma between two arrays
        item = np.zeros(values.size, np.int64)
        np.cumsum(join, out=item[1:])
        if (
            item[-1] != len(raws) - 1
            or depth[-1] != len(buf) - ends[-1]
            or (closed < 0).any()
            or not np.array_equal(depth, levels[item])
        ):  # fmt: skip
            return None
        out = cls()
        out.values = values
        out._before, out._after, out._join, out._depth, out._nulls = before, after, join, levels, nulls
        return out

    def rewrite(self, values: np.ndarray) -> list[msgspec.Raw]:
        """Each array's JSON with the integers replaced by ``values`` (-1 is ``null`` where allowed).

        Raises
        ------
        ValueError
            For ``values`` of another length, or with negative numbers (other than -1 where allowed).
        """
        values = np.ascontiguousarray(values, dtype=np.int64)
        if values.shape != self.values.shape or values.min() < (-1 if self._nulls else 0):
            raise ValueError("rewrite needs one non-negative integer (or -1 for null) per integer read")
        text = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)  # "[n0,n1,…]"
        arr = np.frombuffer(text, np.uint8).copy()
        commas = np.flatnonzero(arr == _COMMA)
        before, after, join = self._before, self._after, self._join
        # a code for each distinct (brackets before, brackets after, between arrays) at a comma
        marked = np.flatnonzero((before > 0) | (after > 0) | join)
        key = (((before[marked] << 6) + after[marked]) << 1) + join[marked]  # runs are at most 5 long (depths)
        kinds = np.flatnonzero(np.bincount(key))
        codes = np.zeros(kinds[-1] + 1 if len(kinds) else 1, np.uint8)
        codes[kinds] = np.arange(1, len(kinds) + 1)
        arr[commas[marked]] = codes[key]
        depth = self._depth
        arr[0], arr[-1] = _OPEN, _CLOSE  # the first and last arrays' outer brackets: added below
        data = arr.tobytes()
        for code, kind in enumerate(kinds.tolist(), start=1):
            between, brackets = kind & 1, kind >> 1
            closing, opening = brackets >> 6, brackets & 63
            comma = bytes([_JOIN]) if between else b","
            data = data.replace(bytes([code]), b"]" * closing + comma + b"[" * opening)
        data = b"[" * int(depth[0] - 1) + data + b"]" * int(depth[-1] - 1)
        if self._nulls:
            data = data.replace(b"-1", _NULL)  # the only negative number is -1
        return [msgspec.Raw(x) for x in data.split(bytes([_JOIN]))]
