"""A vectorised parser for whitespace-separated decimal numbers (GML coordinate text).

:func:`parse_floats` turns ``b"78248.661 457604.591 -0.5"`` into float64 values that are bit
for bit what ``float(token)`` gives, without a Python call per number. Tokens are grouped by
length; each group's bytes are one ``(tokens, length)`` matrix whose product with the powers of
ten gives the decimal mantissa (exact: every partial sum is an integer below 2^53). The value is
``mantissa / 10**k``: one IEEE division of two exact operands, correctly rounded when the
mantissa is below 2^53 and ``k ≤ 22`` (Clinger's fast path), so it equals ``float(token)``.
Tokens that are not ``[sign]digits[.digits]`` of at most 15 bytes (exponents, ``nan``, ``inf``,
``1_000``, garbage) go through ``float()`` itself.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["parse_floats", "parse_tokens"]

# Byte classes: 0 whitespace (the ASCII bytes str.split() splits on), 1 digit, 2 dot, 3 sign, 4 anything else.
_CLASS = bytes(
    0 if b in (9, 10, 11, 12, 13, 28, 29, 30, 31, 32)
    else 1 if 48 <= b <= 57
    else 2 if b == 46
    else 3 if b in (43, 45)
    else 4
    for b in range(256)
)  # fmt: skip
_P10 = 10.0 ** np.arange(23)  # exact doubles
_P10_INT = 10 ** np.arange(19, dtype=np.int64)
# Longest token read here: with a sign and a dot, 13 digits; every byte·10^k partial sum stays below 2^53.
_MAX_LENGTH = 15


def parse_floats(text: bytes | str) -> np.ndarray:
    """Whitespace-separated numbers as float64, each equal to ``float(token)``.

    Raises
    ------
    ValueError
        If a token is not a number.
    """
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if not data.isascii():  # str.split() knows more whitespace than ASCII
        return np.array(data.decode("utf-8").split(), dtype=np.float64)
    values, starts, ok = parse_tokens(b" " + data + b" ")
    if not ok.all():
        token = data[starts[np.argmin(ok)] - 1 :].split(None, 1)[0]
        raise ValueError(f"could not convert string to float: {token.decode()!r}")
    return values


def parse_tokens(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values, starts, ok)`` of the whitespace-separated tokens of ASCII ``data``.

    ``data`` should begin and end with whitespace (``b" " + text + b" "``, else it is copied so).
    ``starts`` are byte offsets in it (a caller that joined several texts can tell which text each
    token came from); a token that ``float()`` rejects is NaN with ``ok`` false. Bytes of 128 and
    above are never whitespace here, as ``str.split()`` may have them: check ``isascii()`` first.
    """
    if data[:1].strip() or data[-1:].strip():
        data = b" " + data + b" "
    a = np.frombuffer(data, dtype=np.uint8)
    cls = np.frombuffer(data.translate(_CLASS), dtype=np.uint8)
    word = cls != 0
    edges = np.flatnonzero(word[1:] != word[:-1]) + 1
    starts = edges[0::2]
    ends = edges[1::2]
    n = len(starts)
    if n == 0:
        return np.empty(0), starts, np.ones(0, dtype=bool)
    lengths = ends - starts
    # The one dot of each token; two dots, inner signs or other bytes send a token to float().
    bad = lengths > _MAX_LENGTH
    dot_pos = np.flatnonzero(cls == 2)
    dot_tok = np.searchsorted(starts, dot_pos, side="right") - 1
    dotted = np.zeros(n, dtype=bool)
    dotted[dot_tok] = True
    if len(dot_pos) != np.count_nonzero(dotted):
        bad |= np.bincount(dot_tok, minlength=n) > 1
    dot = np.zeros(n, dtype=np.int64)
    dot[dot_tok] = dot_pos
    head = a[starts]
    signed = cls[starts] == 3
    odd = np.flatnonzero(cls >= 3)
    if len(odd) > np.count_nonzero(signed):
        odd = odd[(cls[odd] == 4) | (cls[odd - 1] != 0)]
        bad[np.searchsorted(starts, odd, side="right") - 1] = True
    bad |= lengths - signed - dotted <= 0
    # Σ (byte - 48)·10^(length-1-column) per length group, then the dot and sign bytes taken as 0.
    raw = np.empty(n)
    key = np.minimum(lengths, _MAX_LENGTH + 1).astype(np.uint8)
    order = np.argsort(key, kind="stable")
    counts = np.bincount(key, minlength=_MAX_LENGTH + 2)
    pos = 0
    for length in np.flatnonzero(counts).tolist():
        idx = order[pos : pos + counts[length]]
        pos += counts[length]
        if length > _MAX_LENGTH:
            continue
        w = _P10[length - 1 :: -1]
        raw[idx] = as_strided(a, shape=(len(a) - length + 1, length), strides=(1, 1))[starts[idx]] @ w - 48.0 * w.sum()
    raw[bad] = 0.0
    frac = np.where(dotted & ~bad, ends - 1 - dot, 0)
    raw[dotted] += 2.0 * _P10[frac[dotted]]
    signed &= ~bad
    raw[signed] += (48.0 - head[signed]) * _P10[lengths[signed] - 1]
    whole = raw.astype(np.int64)
    mantissa = np.where(dotted, (whole + 9 * (whole % _P10_INT[frac])) // 10, whole)
    ok = ~bad & (mantissa < 2**53)
    values = mantissa / _P10[frac]
    np.negative(values, out=values, where=head == 45)
    if not ok.all():
        for t in np.flatnonzero(~ok).tolist():
            try:
                values[t] = float(data[starts[t] : ends[t]].decode("ascii"))
                ok[t] = True
            except ValueError:
                values[t] = np.nan
    return values, starts, ok
