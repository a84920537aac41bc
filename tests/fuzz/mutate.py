"""Seeded mutations of reader inputs: bytes, numbers, JSON structure, LAS/COPC headers and hierarchies.

Every mutator takes the input bytes and a :class:`random.Random` and returns new
bytes; the same seed always gives the same input, so a defect found by a long
run is replayed exactly (``python -m tests.fuzz --family F --seed S --start K``).
"""

from __future__ import annotations

import json
import random
import re
import struct
from collections.abc import Callable

from tests.json_mutations import json_paths, mutated

Mutator = Callable[[bytes, random.Random], bytes]

#: The largest value a structural JSON edit repeats into a list, in bytes.
MAX_MUTANT_BYTES = 64 * 2**20

#: Replacements for numbers: huge, negative, zero, not a number, infinite, denormal, overflowing integers.
NUMBERS = (
    b"0",
    b"-1",
    b"1e308",
    b"-1e308",
    b"1e309",
    b"NaN",
    b"nan",
    b"inf",
    b"-Infinity",
    b"4294967295",
    b"4294967296",
    b"-2147483649",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"1e-320",
    b"2.5",
    b"0x10",
)

_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    """1–16 bytes set to random values."""
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    """1–8 single bits flipped."""
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _span(data: bytes, rng: random.Random) -> tuple[int, int]:
    n = len(data)
    length = max(1, int(n * rng.choice((0.0005, 0.005, 0.05, 0.3)) * rng.random()))
    start = rng.randrange(max(n - length, 1))
    return start, min(start + length, n)


def delete_chunk(data: bytes, rng: random.Random) -> bytes:
    """A random span removed."""
    if len(data) < 2:
        return data
    a, b = _span(data, rng)
    return data[:a] + data[b:]


def duplicate_chunk(data: bytes, rng: random.Random) -> bytes:
    """A random span copied (1–64 times) to a random place."""
    if not data:
        return data
    a, b = _span(data, rng)
    at = rng.randrange(len(data))
    return data[:at] + data[a:b] * rng.choice((1, 1, 2, 64)) + data[at:]


def truncate(data: bytes, rng: random.Random) -> bytes:
    """The input cut at a random place."""
    return data[: rng.randrange(max(len(data), 1))]


def swap_numbers(data: bytes, rng: random.Random) -> bytes:
    """1–5 numbers of a text input replaced by huge, negative, NaN … values."""
    spans = [m.span() for m in _NUMBER.finditer(data[:2_000_000])]
    if not spans:
        return flip_bytes(data, rng)
    out = bytearray(data)
    for a, b in sorted(rng.sample(spans, min(len(spans), rng.randint(1, 5))), reverse=True):
        out[a:b] = rng.choice(NUMBERS)
    return bytes(out)


_GARBAGE: tuple = (
    None,
    True,
    "",
    "x",
    "1",
    -1,
    0,
    2**31,
    2**53 + 1,
    2**64,
    -(2**63),
    1e308,
    float("nan"),
    float("inf"),
    0.5,
    [],
    {},
    [[]],
    [[[]]],
    [[[[[]]]]],
    [0, 0, 0],
    [-1],
    [2**31],
    {"type": "x"},
    {"type": "CityJSON"},
    "#ref",
)


def _json_line(data: bytes, rng: random.Random) -> tuple[list[bytes], int, object] | None:
    """The lines of a JSON (or JSON-lines) input, one non-blank line drawn, and its document.

    ``None`` when there is no non-blank line; raises ``ValueError`` when the drawn line is not JSON.
    """
    lines = data.split(b"\n")
    candidates = [i for i, line in enumerate(lines) if line.strip()]
    if not candidates:
        return None
    k = rng.choice(candidates)
    return lines, k, json.loads(lines[k])


def json_edit(data: bytes, rng: random.Random) -> bytes:
    """1–4 values of a JSON document (or of one line of a JSON-lines file) replaced by garbage."""
    try:
        drawn = _json_line(data, rng)
    except ValueError:
        return swap_numbers(data, rng)
    if drawn is None:
        return flip_bytes(data, rng)
    lines, k, doc = drawn
    paths = list(json_paths(doc))
    if not paths:
        return flip_bytes(data, rng)
    doc = mutated(doc, paths, rng, _GARBAGE, min(len(paths), rng.randint(1, 4)))
    lines[k] = json.dumps(doc).encode()  # NaN and Infinity as JavaScript writes them: not JSON
    return b"\n".join(lines)


def json_structure(data: bytes, rng: random.Random) -> bytes:
    """A JSON value deleted, moved over another, or repeated to a depth or a length."""
    try:
        drawn = _json_line(data, rng)
    except ValueError:
        return delete_chunk(data, rng)
    if drawn is None:
        return flip_bytes(data, rng)
    lines, k, doc = drawn
    paths = list(json_paths(doc))
    if len(paths) < 2:
        return flip_bytes(data, rng)

    def get(path):
        node = doc
        for key in path:
            node = node[key]
        return node

    target, source = rng.sample(paths, 2)
    try:
        parent = get(target[:-1])
        action = rng.randrange(4)
        if action == 0:
            del parent[target[-1]]
        elif action == 1:
            parent[target[-1]] = json.loads(json.dumps(get(source)))
        elif action == 2:  # deep nesting
            value = get(source)
            for _ in range(rng.choice((50, 2000))):
                value = [value]
            parent[target[-1]] = value
        else:  # a long list, within MAX_MUTANT_BYTES (a 1.4 GB mutant tests the disk more than the reader)
            value = get(source)
            repeat = min(rng.choice((1000, 50_000)), MAX_MUTANT_BYTES // max(len(json.dumps(value)), 1))
            parent[target[-1]] = [value] * max(repeat, 1)
    except (KeyError, IndexError, TypeError):
        return flip_bytes(data, rng)
    try:
        lines[k] = json.dumps(doc).encode()
    except (RecursionError, ValueError):
        return flip_bytes(data, rng)
    return b"\n".join(lines)


_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def xml_edit(data: bytes, rng: random.Random) -> bytes:
    """An XML tag renamed to another tag of the document, an element repeated, or a self-reference added."""
    tags = [m for m in _TAG.finditer(data[:2_000_000])]
    if len(tags) < 2:
        return flip_bytes(data, rng)
    action = rng.randrange(3)
    if action == 0:
        m, other = rng.sample(tags, 2)
        a, b = m.span(0)
        return data[:a] + b"<" + m.group(1) + (other.group(2) or b"") + other.group(3) + data[b:]
    if action == 1:  # an element, from one start tag to the next end tag of its name, repeated
        m = rng.choice([t for t in tags if not t.group(1)] or tags)
        close = b"</" + (m.group(2) or b"") + m.group(3) + b">"
        end = data.find(close, m.end())
        if end < 0:
            return delete_chunk(data, rng)
        end += len(close)
        return data[:end] + data[m.start() : end] * rng.choice((1, 2, 500)) + data[end:]
    ids = re.findall(rb'gml:id="([^"]+)"', data[:2_000_000])
    if not ids:
        return flip_bytes(data, rng)
    ident = rng.choice(ids)
    m = rng.choice([t for t in tags if not t.group(1)] or tags)
    href = b' xlink:href="#' + ident + b'"'
    at = m.end()
    return data[:at] + href + data[at:]


# ---------------------------------------------------------------- LAS / COPC

#: (offset, struct format) of every count, size and offset field of the LAS public header.
LAS_FIELDS = (
    (94, "<H"),  # header size
    (96, "<I"),  # offset to point data
    (100, "<I"),  # number of VLRs
    (104, "<B"),  # point data format
    (105, "<H"),  # point record length
    (107, "<I"),  # legacy point count
    (111, "<I"),  # legacy points by return
    (131, "<d"),  # x scale
    (155, "<d"),  # x offset
    (179, "<d"),  # max x
    (187, "<d"),  # min x
    (227, "<Q"),  # start of waveform data (1.3)
    (235, "<Q"),  # start of first EVLR (1.4)
    (243, "<I"),  # number of EVLRs (1.4)
    (247, "<Q"),  # point count (1.4)
)

_MAX = {"<H": 0xFFFF, "<I": 0xFFFFFFFF, "<B": 0xFF, "<Q": 0xFFFFFFFFFFFFFFFF}


def las_header(data: bytes, rng: random.Random) -> bytes:
    """One or two header counts, sizes or offsets set to 0, the maximum, the file size or past the end."""
    out = bytearray(data)
    header_size = struct.unpack_from("<H", data, 94)[0] if len(data) >= 96 else 0
    fields = [f for f in LAS_FIELDS if f[0] + struct.calcsize(f[1]) <= min(len(out), max(header_size, 227))]
    if not fields:
        return flip_bytes(data, rng)
    for offset, fmt in rng.sample(fields, min(len(fields), rng.choice((1, 1, 2)))):
        if fmt == "<d":
            value = rng.choice((0.0, -1.0, 1e-300, 1e300, float("nan"), float("inf"), -float("inf")))
        else:
            top = _MAX[fmt]
            value = rng.choice((0, 1, top, top - 1, len(data), len(data) + 1, rng.randrange(top + 1)))
            value = min(value, top)
        struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def las_vlr(data: bytes, rng: random.Random) -> bytes:
    """The first VLR's record length (or an EVLR's) set to 0, the maximum or past the end."""
    if len(data) < 100:
        return flip_bytes(data, rng)
    out = bytearray(data)
    header_size = struct.unpack_from("<H", data, 94)[0]
    at = header_size + 20  # record length after header, in the first VLR
    if at + 2 > len(out):
        return las_header(data, rng)
    struct.pack_into("<H", out, at, rng.choice((0, 1, 0xFFFF, 54)))
    return bytes(out)


def _copc_root(data: bytes) -> tuple[int, int, int] | None:
    """``(offset of the info VLR's payload, root hierarchy page offset, its size)`` of a COPC file."""
    if len(data) < 375 + 160 or data[377:381] != b"copc":
        return None
    info = 375 + 54
    offset, size = struct.unpack_from("<QQ", data, info + 40)
    return info, offset, size


def copc_rewire(data: bytes, rng: random.Random) -> bytes:
    """COPC hierarchy entries pointed at the root page (a cycle), outside the file, or given absurd counts."""
    root = _copc_root(data)
    if root is None:
        return las_header(data, rng)
    info, page, size = root
    out = bytearray(data)
    if rng.random() < 0.25:  # the root page itself moved or resized
        value = rng.choice((0, len(data), len(data) + 32, page + 1, 2**63))
        if rng.random() < 0.5:
            struct.pack_into("<Q", out, info + 40, value)
        else:
            struct.pack_into("<Q", out, info + 48, rng.choice((0, 31, size + 32, 2**40)))
        return bytes(out)
    n = size // 32
    if n == 0 or page + size > len(data):
        return flip_bytes(data, rng)
    for k in rng.sample(range(n), min(n, rng.randint(1, max(n, 1)))):
        at = page + 32 * k + 16
        choice = rng.randrange(5)
        if choice == 0:  # a child page that is the root page: a cycle
            struct.pack_into("<Qii", out, at, page, size, -1)
        elif choice == 1:  # outside the file
            struct.pack_into("<Qii", out, at, len(data) + rng.randrange(1, 1 << 20), 32, rng.choice((-1, 1000)))
        elif choice == 2:  # absurd point counts
            struct.pack_into("<i", out, at + 12, rng.choice((2**31 - 1, -2, -(2**31))))
        elif choice == 3:  # absurd byte sizes
            struct.pack_into("<i", out, at + 8, rng.choice((0, -1, 2**31 - 1)))
        else:  # a key moved to a deep or negative level
            struct.pack_into("<iiii", out, at - 16, rng.choice((-1, 30, 2**31 - 1)), 0, 0, 0)
    return bytes(out)


BYTES: tuple[Mutator, ...] = (flip_bytes, flip_bits, delete_chunk, duplicate_chunk, truncate)
TEXT: tuple[Mutator, ...] = (*BYTES, swap_numbers, swap_numbers)
JSON: tuple[Mutator, ...] = (*TEXT, json_edit, json_edit, json_edit, json_structure, json_structure)
XML: tuple[Mutator, ...] = (*TEXT, xml_edit, xml_edit)
LAS: tuple[Mutator, ...] = (*BYTES, las_header, las_header, las_header, las_vlr)
COPC: tuple[Mutator, ...] = (flip_bytes, truncate, las_header, las_header, copc_rewire, copc_rewire, copc_rewire)


def mutate(data: bytes, mutators: tuple[Mutator, ...], rng: random.Random) -> tuple[bytes, str]:
    """``data`` after 1–3 mutations drawn from ``mutators``, and their names."""
    names = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        m = rng.choice(mutators)
        data = m(data, rng)
        names.append(m.__name__)
    return data, "+".join(names)
