"""CityGML appearances (1.0, 2.0, 3.0): X3DMaterial and ParameterizedTexture.

An ``app:Appearance`` element is read into plain records here; the reader
applies them to polygons once every polygon id of the file is known (targets
may point forwards or backwards).

Themes are kept by name; an appearance without ``app:theme`` goes to the theme
named :data:`DEFAULT_THEME` (``"default"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from citytwin.model.geometry import Material

DEFAULT_THEME = "default"


@dataclass
class MaterialRecord:
    """One X3DMaterial and the surface ids it targets (``material`` may be shared: copy before changing it)."""

    theme: str
    material: Material
    targets: list[str]


@dataclass
class TextureRecord:
    """One ParameterizedTexture: an image and per-ring texture coordinates of its target surfaces.

    Attributes
    ----------
    targets
        ``(surface id, {ring id: (n, 2) float32})`` pairs.
    """

    theme: str
    image_uri: str
    targets: list[tuple[str, dict[str, np.ndarray]]] = field(default_factory=list)


_LOCAL: dict[str, str] = {}


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    name = _LOCAL.get(tag)
    if name is None:
        name = _LOCAL[tag] = tag.rpartition("}")[2]
    return name


def _floats(text: str | None) -> list[float] | None:
    try:
        return [float(v) for v in (text or "").split()]
    except ValueError:
        return None


def _colour(text: str | None) -> tuple[float, float, float] | None:
    v = _floats(text)
    if v is None or len(v) < 3:
        return None
    return (v[0], v[1], v[2])


def _uri(text: str | None) -> str:
    if text and text[0] == "#" and text[-1] > " ":  # the usual "#id"
        return text[1:]
    text = (text or "").strip()
    return text[text.index("#") + 1 :] if "#" in text else text


def parse_appearance(el, warn: Callable[[str], None]) -> list[MaterialRecord | TextureRecord]:
    """Records of one ``Appearance`` element (either version)."""
    theme = DEFAULT_THEME
    out: list[MaterialRecord | TextureRecord] = []
    for prop in el:
        name = _local(prop.tag)
        if name == "theme":
            theme = (prop.text or "").strip() or DEFAULT_THEME
        elif name in ("surfaceDataMember", "surfaceData"):
            for data in prop:
                kind = _local(data.tag)
                if kind == "X3DMaterial":
                    out.append(_material(data, warn))
                elif kind == "ParameterizedTexture":
                    out.append(_texture(data, warn))
                elif kind:
                    warn("unsupported surface data")
    for rec in out:
        rec.theme = theme
    return out


# spelling of an X3DMaterial's properties → the material and the problems found parsing it
_MATERIALS: dict[tuple, tuple[Material, list[str]]] = {}


def _material(el, warn: Callable[[str], None]) -> MaterialRecord:
    targets: list[str] = []
    key: list[tuple[str, str | None]] = []
    for prop in el:
        name = _local(prop.tag)
        if name == "target":
            targets.append(_uri(prop.text))
        elif name:
            key.append((name, prop.text))
    # Files repeat the same few materials thousands of times: parse each spelling once.
    frozen = tuple(key)
    cached = _MATERIALS.get(frozen)
    if cached is None:
        problems: list[str] = []
        cached = (_parse_material(frozen, problems.append), problems)
        if len(_MATERIALS) < 10_000:
            _MATERIALS[frozen] = cached
    for kind in cached[1]:
        warn(kind)
    return MaterialRecord(DEFAULT_THEME, cached[0], targets)


def _parse_material(props: tuple[tuple[str, str | None], ...], warn: Callable[[str], None]) -> Material:
    mat = Material()
    for name, text in props:
        if name == "diffuseColor":
            c = _colour(text)
            if c is None:
                warn("bad colour")
            else:
                mat.diffuse = c
        elif name == "specularColor":
            mat.specular = _colour(text)
        elif name == "emissiveColor":
            mat.emissive = _colour(text)
        elif name in ("transparency", "shininess"):
            v = _floats(text)
            if v and len(v) == 1:
                setattr(mat, name, v[0])
            else:
                warn("bad colour")
    return mat


def _uv(text: str | None, warn: Callable[[str], None]) -> np.ndarray | None:
    try:
        flat = np.array((text or "").split(), dtype=np.float64)
    except ValueError:
        warn("bad texture coordinates")
        return None
    if len(flat) % 2:
        warn("bad texture coordinates")
        return None
    return flat.reshape(-1, 2).astype(np.float32)


def _tex_coord_list(el, warn: Callable[[str], None]) -> dict[str, np.ndarray]:
    """``{ring id: uv}`` from a TexCoordList (2.0: ring attributes; 3.0: sibling ring elements)."""
    coords: list[np.ndarray | None] = []
    rings: list[str] = []
    out: dict[str, np.ndarray] = {}
    for c in el:
        name = _local(c.tag)
        if name == "textureCoordinates":
            uv = _uv(c.text, warn)
            ring = c.get("ring")
            if ring is not None:
                if uv is not None:
                    out[_uri(ring)] = uv
            else:
                coords.append(uv)
        elif name == "ring":
            rings.append(_uri(c.text))
    for ring, uv in zip(rings, coords, strict=False):  # a list without its ring ids is skipped
        if uv is not None:
            out[ring] = uv
    return out


def _texture(el, warn: Callable[[str], None]) -> TextureRecord:
    rec = TextureRecord(DEFAULT_THEME, "")
    for prop in el:
        name = _local(prop.tag)
        if name == "imageURI":
            rec.image_uri = (prop.text or "").strip()
        elif name == "target":  # 1.0 / 2.0
            target = _uri(prop.get("uri"))
            for tc in prop:
                kind = _local(tc.tag)
                if kind == "TexCoordList":
                    rec.targets.append((target, _tex_coord_list(tc, warn)))
                elif kind:
                    warn("unsupported texture parameterization")
        elif name == "textureParameterization":  # 3.0
            for assoc in prop:
                if _local(assoc.tag) != "TextureAssociation":
                    continue
                target = ""
                uvs: dict[str, np.ndarray] = {}
                for c in assoc:
                    cname = _local(c.tag)
                    if cname == "target":
                        target = _uri(c.text)
                    elif cname == "textureParameterization":
                        for tc in c:
                            kind = _local(tc.tag)
                            if kind == "TexCoordList":
                                uvs.update(_tex_coord_list(tc, warn))
                            elif kind:
                                warn("unsupported texture parameterization")
                if target:
                    rec.targets.append((target, uvs))
    return rec
