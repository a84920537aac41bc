"""CityJSONSeq test files made from CityJSON documents."""

from __future__ import annotations

import json
from pathlib import Path


def _renumber(b: list | int, remap: dict[int, int]) -> list | int:
    if isinstance(b, int):
        return remap.setdefault(b, len(remap))
    return [_renumber(x, remap) for x in b]


def split_into_features(doc: dict) -> tuple[dict, list[dict]]:
    """A CityJSONSeq of a CityJSON document: each top-level object with its children, vertices renumbered."""
    header = {k: v for k, v in doc.items() if k not in ("CityObjects", "vertices", "appearance")}
    header["CityObjects"], header["vertices"] = {}, []
    objects = doc["CityObjects"]
    features = []
    for oid, co in objects.items():
        if co.get("parents"):
            continue
        members = {oid: co, **{c: objects[c] for c in co.get("children", [])}}
        remap: dict[int, int] = {}
        out = {}
        for mid, m in members.items():
            m = dict(m)
            m["geometry"] = [dict(g, boundaries=_renumber(g["boundaries"], remap)) for g in m.get("geometry", [])]
            out[mid] = m
        vertices = [doc["vertices"][i] for i in sorted(remap, key=remap.get)]
        features.append({"type": "CityJSONFeature", "id": oid, "CityObjects": out, "vertices": vertices})
    return header, features


def write_seq(path: Path, header: dict, features: list[dict | bytes]) -> Path:
    """Write a CityJSONSeq file: the header line, then one line per feature (bytes are written as given)."""
    lines = [json.dumps(header).encode()] + [f if isinstance(f, bytes) else json.dumps(f).encode() for f in features]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path
