"""Build big CityGML files by tiling a real one: copies side by side, ids renamed.

Every copy after the first is shifted by a whole number of metres in x/y (a grid of
tiles) and gets the suffix ``_c{k}`` on every ``gml:id`` and on every local reference
to one (``xlink:href="#…"``, ``<app:target>#…</app:target>``, ``uri="#…"``), so the
result is a valid, larger city with ``copies`` times the objects of the original.

It works on the file text, not on a tree: the file is cut once into a template of
literal pieces, id pieces and the integer parts of x/y coordinates; each copy is then
numpy arithmetic on the integer parts plus one ``str.join`` (about 0.2 s per 24 MB
copy). Because offsets are whole metres, the fractional digits of every coordinate
are kept byte-for-byte. Limits (checked, with a clear error): coordinates in
``gml:pos``/``gml:posList`` with a ``gml`` prefix, non-negative x/y without exponents,
city objects in ``cityObjectMember`` elements.

Usage::

    python -m bench.replicate ../shared/data/citygml/DenHaag_01.xml /tmp/big.xml --size-mb 100
    python -m bench.replicate SRC OUT --copies 4 --check
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_TOKEN_RE = re.compile(
    r'(?P<idpre>gml:id="|xlink:href="#|uri="#|<app:target>\s*#)(?P<id>[^"<\s]+)'
    r"|(?P<postag><gml:pos(?:List)?\b(?P<attrs>[^>]*)>)(?P<coords>[^<]*)"
)
_DIM_RE = re.compile(r'srsDimension="(\d)"')
_MEMBER_OPEN_RE = re.compile(r"<(?:\w+:)?cityObjectMember\b")
_MEMBER_CLOSE_RE = re.compile(r"</(?:\w+:)?cityObjectMember>")
_CORNER_RE = re.compile(r"(<gml:(?:lowerCorner|upperCorner)[^>]*>)([^<]*)(</gml:(?:lowerCorner|upperCorner)>)")


@dataclass
class Template:
    """The source file cut into pieces that change per copy and pieces that do not."""

    header: str
    footer: str
    pieces: np.ndarray  # object array of str
    id_idx: np.ndarray  # pieces that are ids / id references
    x_idx: np.ndarray  # pieces that are the integer part of an x coordinate
    y_idx: np.ndarray
    x_int: np.ndarray  # int64 values of those pieces
    y_int: np.ndarray
    body_bytes: int

    @property
    def step(self) -> tuple[int, int]:
        """Tile pitch in x and y: the extent plus 10 %, rounded up to 100 m."""
        w = int(self.x_int.max() - self.x_int.min()) + 1
        h = int(self.y_int.max() - self.y_int.min()) + 1
        return (math.ceil(w * 1.1 / 100) * 100, math.ceil(h * 1.1 / 100) * 100)

    def offset(self, k: int, copies: int) -> tuple[int, int]:
        ncols = math.ceil(math.sqrt(copies))
        sx, sy = self.step
        return (k % ncols) * sx, (k // ncols) * sy


def _split_number(tok: str) -> tuple[str, str]:
    if tok[0] == "-" or "e" in tok or "E" in tok:
        raise ValueError(f"replicate expects non-negative x/y without exponent, found {tok!r}")
    dot = tok.find(".")
    return (tok, "") if dot < 0 else (tok[:dot], tok[dot:])


def build_template(text: str) -> Template:
    """Cut a CityGML document into a :class:`Template` (one pass, a few seconds for 24 MB)."""
    m_open = _MEMBER_OPEN_RE.search(text)
    closes = list(_MEMBER_CLOSE_RE.finditer(text))
    if m_open is None or not closes:
        raise ValueError("no cityObjectMember found")
    start = text.rfind("\n", 0, m_open.start()) + 1
    end = closes[-1].end()
    header, body, footer = text[:start], text[start:end], text[end:]

    pieces: list[str] = []
    id_idx: list[int] = []
    x_idx: list[int] = []
    y_idx: list[int] = []
    lit: list[str] = []  # literal text waiting to be emitted as one piece

    def flush() -> None:
        if lit:
            pieces.append("".join(lit))
            lit.clear()

    pos = 0
    for m in _TOKEN_RE.finditer(body):
        if m.group("idpre") is not None:
            lit.append(body[pos : m.start("id")])
            flush()
            id_idx.append(len(pieces))
            pieces.append(m.group("id"))
            pos = m.end("id")
            continue
        dim_m = _DIM_RE.search(m.group("attrs"))
        dim = int(dim_m.group(1)) if dim_m else 3
        lit.append(body[pos : m.start("coords")])
        toks = m.group("coords").split()
        if len(toks) % dim:
            raise ValueError(f"coordinate list of {len(toks)} numbers is not a multiple of {dim}")
        for i, tok in enumerate(toks):
            if i:
                lit.append(" ")
            role = i % dim
            if role < 2:
                ipart, frac = _split_number(tok)
                flush()
                (x_idx if role == 0 else y_idx).append(len(pieces))
                pieces.append(ipart)
                lit.append(frac)
            else:
                lit.append(tok)
        pos = m.end("coords")
    lit.append(body[pos:])
    flush()

    arr = np.empty(len(pieces), dtype=object)
    arr[:] = pieces
    xi = np.asarray(x_idx, dtype=np.int64)
    yi = np.asarray(y_idx, dtype=np.int64)
    return Template(
        header=header,
        footer=footer,
        pieces=arr,
        id_idx=np.asarray(id_idx, dtype=np.int64),
        x_idx=xi,
        y_idx=yi,
        x_int=np.array(arr[xi].tolist(), dtype=np.int64),
        y_int=np.array(arr[yi].tolist(), dtype=np.int64),
        body_bytes=len(body.encode("utf-8")),
    )


def _header_for(t: Template, copies: int) -> str:
    """The header with its envelope grown to cover every copy."""
    dx = max(t.offset(k, copies)[0] for k in range(copies))
    dy = max(t.offset(k, copies)[1] for k in range(copies))

    def grow(m: re.Match[str]) -> str:
        if "upperCorner" not in m.group(1):
            return m.group(0)
        vals = m.group(2).split()
        if len(vals) < 2:
            return m.group(0)
        vals[0] = repr(float(vals[0]) + dx)
        vals[1] = repr(float(vals[1]) + dy)
        return m.group(1) + " ".join(vals) + m.group(3)

    return _CORNER_RE.sub(grow, t.header)


def write_replica(t: Template, out: Path, copies: int) -> Path:
    """Write ``copies`` tiles of the template to ``out`` (atomically: written beside, then renamed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(_header_for(t, copies))
        for k in range(copies):
            if k == 0:
                fh.write("".join(t.pieces.tolist()))
                continue
            dx, dy = t.offset(k, copies)
            arr = t.pieces.copy()
            arr[t.id_idx] = t.pieces[t.id_idx] + f"_c{k}"
            arr[t.x_idx] = (t.x_int + dx).astype(str)
            arr[t.y_idx] = (t.y_int + dy).astype(str)
            fh.write("".join(arr.tolist()))
        fh.write(t.footer)
    os.replace(tmp, out)
    return out


def copies_for_size(src_bytes: int, size_mb: float) -> int:
    """How many copies of a file of ``src_bytes`` make about ``size_mb`` MB (10**6 bytes)."""
    return max(1, round(size_mb * 1e6 / src_bytes))


def ensure_replica(src: Path, out_dir: Path, copies: int, template: Template | None = None) -> tuple[Path, bool]:
    """The replica of ``src`` with ``copies`` tiles in ``out_dir``, built only if missing or stale.

    Returns the path and whether it was (re)built. A stamp file beside it records the
    source size and mtime, so a changed source or generator rebuilds it.
    """
    out = out_dir / f"{src.stem}_x{copies}{src.suffix}"
    stamp = out.with_name(out.name + ".json")
    st = src.stat()
    want = {"src": str(src), "size": st.st_size, "mtime": st.st_mtime, "copies": copies, "generator": 1}
    if out.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()) == want:
                return out, False
        except ValueError:
            pass
    if copies == 1:
        return src, False
    if template is None:
        template = build_template(src.read_bytes().decode("utf-8"))
    write_replica(template, out, copies)
    stamp.write_text(json.dumps(want))
    return out, True


def check_replica(path: Path) -> dict[str, int]:
    """Parse a replica and check that ids are unique and every local reference resolves (slow; for tests)."""
    from lxml import etree

    ids: set[str] = set()
    dup = 0
    refs: list[str] = []
    xlink = "{http://www.w3.org/1999/xlink}href"
    gml_id = "{http://www.opengis.net/gml}id"
    for _, el in etree.iterparse(str(path), events=("end",), huge_tree=True, resolve_entities=False, no_network=True):
        i = el.get(gml_id)
        if i is not None:
            dup += i in ids
            ids.add(i)
        h = el.get(xlink)
        if h is not None and h.startswith("#"):
            refs.append(h[1:])
        if el.tag.endswith("}target") and el.text and el.text.strip().startswith("#"):
            refs.append(el.text.strip()[1:])
    missing = sum(r not in ids for r in refs)
    return {"ids": len(ids), "duplicate_ids": dup, "references": len(refs), "unresolved_references": missing}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--copies", type=int)
    g.add_argument("--size-mb", type=float)
    ap.add_argument("--check", action="store_true", help="parse the result and check ids and references")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    tpl = build_template(a.src.read_bytes().decode("utf-8"))
    t1 = time.perf_counter()
    copies = a.copies or copies_for_size(a.src.stat().st_size, a.size_mb)
    write_replica(tpl, a.out, copies)
    t2 = time.perf_counter()
    size = a.out.stat().st_size
    print(f"{a.out}: {copies} copies, {size / 1e6:.1f} MB (template {t1 - t0:.1f} s, write {t2 - t1:.1f} s)")
    if a.check:
        res = check_replica(a.out)
        print(res)
        if res["duplicate_ids"] or res["unresolved_references"]:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
