"""Validate CityJSON 2.0 as the official tools do, offline: the JSON Schemas, then cjval's further checks.

The official CityJSON 2.0 JSON Schemas (``../shared/schemas/cityjson/2.0``) are
registered by their ``$id`` in a :class:`referencing.Registry`, so that no
``$ref`` reaches for the network. The validator is jsonschema's Draft 7 with one
change that keeps its verdicts: a ``oneOf`` skips the alternatives whose
``const`` type is not the instance's (they fail on it anyway), so that a city
object's geometry is not validated under all 34 city-object types and 8
geometry types (plain jsonschema takes minutes on a city).

cjval, the official validator, also checks what a schema cannot say; its
Python bindings (cjvalpy) cannot be installed here, so :func:`cjval_errors`
makes those checks: every vertex index is in range and every vertex is used,
parents and children agree, semantic (and material and texture) values mirror
their boundaries, and ids are unique.

Usage::

    errors = validation_errors(document)          # [] when valid
    assert_valid_cityjson(document)               # or pytest.fail with the first few
    assert_valid_cityjsonseq(path)                # a .city.jsonl file, line by line
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED

#: The official CityJSON 2.0 schemas, beside the shared data (``../shared/schemas/cityjson/2.0``).
SCHEMA_DIR = SHARED.parent / "schemas" / "cityjson" / "2.0"

#: Depth of ``boundaries`` (arrays above the vertex indices) for each geometry type.
DEPTH = {
    "MultiPoint": 1, "MultiLineString": 2, "MultiSurface": 3, "CompositeSurface": 3,
    "Solid": 4, "MultiSolid": 5, "CompositeSolid": 5,
}  # fmt: skip
#: Levels of ``boundaries`` that semantic and material ``values`` mirror (the surfaces' containers).
VALUE_DEPTH = {"MultiPoint": 0, "MultiLineString": 0, "MultiSurface": 1, "CompositeSurface": 1,
               "Solid": 2, "MultiSolid": 3, "CompositeSolid": 3}  # fmt: skip


def _const_type(validator: Any, subschema: Any, depth: int = 0) -> Any:
    """The ``type`` a ``oneOf`` alternative requires by a ``const`` (following ``$ref`` and ``allOf``), or None."""
    if not isinstance(subschema, dict) or depth > 4:
        return None
    if "$ref" in subschema:
        resolved = validator._resolver.lookup(subschema["$ref"])
        return _const_type(validator.evolve(schema=resolved.contents, _resolver=resolved.resolver), resolved.contents,
                           depth + 1)  # fmt: skip
    const = ((subschema.get("properties") or {}).get("type") or {}).get("const")
    if const is not None:
        return const
    for part in subschema.get("allOf") or []:
        const = _const_type(validator, part, depth + 1)
        if const is not None:
            return const
    return None


_CONSTS: dict[int, Any] = {}


def _one_of(validator: Any, one_of: list, instance: Any, schema: dict) -> Iterable[Any]:
    """jsonschema's ``oneOf``, skipping the alternatives whose ``const`` type differs from the instance's.

    Those fail on their ``const`` anyway, so the result is the same; the official schemas list 34
    city-object and 8 geometry alternatives, and plain ``oneOf`` validates every object's geometry
    under each of them (minutes for a city).
    """
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, dict) and isinstance(instance.get("type"), str):
        kept = []
        for index, sub in enumerate(one_of):
            key = id(sub)
            if key not in _CONSTS:
                _CONSTS[key] = _const_type(validator, sub)
            if _CONSTS[key] in (None, instance["type"]):
                kept.append((index, sub))
    else:
        kept = list(enumerate(one_of))
    from jsonschema.exceptions import best_match

    subschemas = iter(kept)
    all_errors, typed_errors = [], []
    for index, subschema in subschemas:
        errs = list(validator.descend(instance, subschema, schema_path=index))
        if not errs:
            break
        all_errors.extend(errs)
        if _CONSTS.get(id(subschema)) is not None:  # the alternative of the instance's own type
            typed_errors.extend(errs)
    else:
        what = f"{instance['type']!r}" if isinstance(instance, dict) and "type" in instance else "the value"
        best = best_match(typed_errors or all_errors)
        why = f": {'/'.join(map(str, best.absolute_path))} {best.message[:200]}" if best is not None else ""
        yield ValidationError(f"{what} fits none of the schema's alternatives{why}", context=all_errors)
        return
    more_valid = [each for _, each in subschemas if validator.evolve(schema=each).is_valid(instance)]
    if more_valid:
        yield ValidationError(f"the value is valid under {len(more_valid) + 1} of the given schemas")


@cache
def _validators() -> tuple[Any, Any]:
    """Validators for a CityJSON document and a CityJSONFeature, the schemas registered by ``$id``."""
    try:
        import jsonschema
        from referencing import Registry, Resource
    except ImportError:  # pragma: no cover - the test extra installs them
        pytest.fail("jsonschema and referencing are needed: pip install -e '.[test]'.", pytrace=False)
    if not (SCHEMA_DIR / "cityjson.schema.json").is_file():
        pytest.fail(f"The official CityJSON 2.0 schemas are missing from {SCHEMA_DIR}.", pytrace=False)
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SCHEMA_DIR.glob("*.schema.json"))}
    registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())
    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, validators={"oneOf": _one_of})
    return (
        cls(schemas["cityjson.schema.json"], registry=registry),
        cls(schemas["cityjsonfeature.schema.json"], registry=registry),
    )


def schema_errors(document: dict, feature: bool = False) -> list[str]:
    """What the official schema finds wrong with a CityJSON document (or a CityJSONFeature), one line each."""
    document_validator, feature_validator = _validators()
    validator = feature_validator if feature else document_validator
    return [f"{_where(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(document)]


def _where(path: Iterable[Any]) -> str:
    return "/".join(map(str, path)) or "(root)"


# ------------------------------------------------------------ cjval's checks
def _leaves(b: Any, depth: int) -> Iterable[Any]:
    """The vertex indices of a boundaries array ``depth`` levels deep (anything else is yielded as found)."""
    if depth == 0:
        yield b
        return
    for x in b if isinstance(b, list) else [b]:
        yield from _leaves(x, depth - 1)


def _counts(b: Any, depth: int) -> Any:
    """The shape of ``b`` down to ``depth`` levels: nested lists with the length of each list at the bottom."""
    if not isinstance(b, list):
        return None
    if depth == 0:
        return len(b)
    return [_counts(x, depth - 1) for x in b]


def _surface_shape(b: Any, gtype: str) -> Any:
    """Boundaries cut at the surface level: what semantic and material ``values`` mirror."""
    d = VALUE_DEPTH[gtype]
    if gtype in ("MultiPoint", "MultiLineString"):
        return len(b) if isinstance(b, list) else None
    return _counts(b, d - 1)


def _values_shape(values: Any, depth: int) -> Any:
    if depth == 1:
        return len(values) if isinstance(values, list) else None
    if not isinstance(values, list):
        return None
    return [_values_shape(v, depth - 1) for v in values]


def _geometry_errors(where: str, g: dict, n_vertices: int, n_templates: int, used: set[int], app: dict) -> list[str]:
    out: list[str] = []
    gtype = g.get("type")
    if gtype == "GeometryInstance":
        b = g.get("boundaries")
        if isinstance(b, list):
            for i in b:
                if not (isinstance(i, int) and 0 <= i < n_vertices):
                    out.append(f"{where}: reference point {i!r} is not a vertex index in range")
                else:
                    used.add(i)
        t = g.get("template")
        if not (isinstance(t, int) and 0 <= t < n_templates):
            out.append(f"{where}: template {t!r} is not in geometry-templates")
        return out
    if gtype not in DEPTH:
        return [f"{where}: unknown geometry type {gtype!r}"]
    b = g.get("boundaries")
    bad = 0
    for i in _leaves(b, DEPTH[gtype]):
        if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_vertices:
            used.add(i)
        else:
            bad += 1
    if bad:
        out.append(f"{where}: {bad} vertex indices are out of range (the file has {n_vertices} vertices)")
    shape = _surface_shape(b, gtype)
    depth = VALUE_DEPTH[gtype] or 1
    sem = g.get("semantics")
    if isinstance(sem, dict):
        surfaces = sem.get("surfaces") or []
        values = sem.get("values")
        if values is not None and _values_shape(values, depth) != shape:
            out.append(f"{where}: semantics values do not mirror the boundaries")
        refs = [v for v in _leaves(values, depth) if v is not None] if values is not None else []
        if any(not (isinstance(v, int) and 0 <= v < len(surfaces)) for v in refs):
            out.append(f"{where}: a semantics value points past the surfaces list")
        for k, s in enumerate(surfaces):
            for key in ("parent",):
                if key in s and not (isinstance(s[key], int) and 0 <= s[key] < len(surfaces)):
                    out.append(f"{where}: semantic surface {k} has a parent out of range")
            for c in s.get("children", []) or []:
                if not (isinstance(c, int) and 0 <= c < len(surfaces)):
                    out.append(f"{where}: semantic surface {k} has a child out of range")
    n_materials = len(app.get("materials") or [])
    for theme, m in (g.get("material") or {}).items():
        if "values" in m:
            values = m["values"]
            if values is not None and _values_shape(values, depth) != shape:
                out.append(f"{where}: material values of theme {theme!r} do not mirror the boundaries")
            vals = [v for v in _leaves(values, depth) if v is not None] if values is not None else []
        else:
            vals = [m.get("value")]
        if any(not (isinstance(v, int) and 0 <= v < n_materials) for v in vals):
            out.append(f"{where}: a material index of theme {theme!r} is out of range")
    n_textures = len(app.get("textures") or [])
    n_uv = len(app.get("vertices-texture") or [])
    for theme, t in (g.get("texture") or {}).items():
        values = t.get("values")
        if not _texture_mirrors(values, b, DEPTH[gtype]):
            out.append(f"{where}: texture values of theme {theme!r} do not mirror the boundaries")
            continue
        for ring in _leaves(values, DEPTH[gtype] - 1):
            if not ring or ring[0] is None:
                continue
            if not (isinstance(ring[0], int) and 0 <= ring[0] < n_textures):
                out.append(f"{where}: a texture index of theme {theme!r} is out of range")
            if any(not (isinstance(u, int) and 0 <= u < n_uv) for u in ring[1:]):
                out.append(f"{where}: a texture coordinate index of theme {theme!r} is out of range")
    return out


def _texture_mirrors(values: Any, boundaries: Any, depth: int) -> bool:
    """Texture values mirror the boundaries: per surface ``[[null]]`` (no texture), or per ring ``[null]`` or
    ``[texture, uv, …]`` with a uv per vertex."""
    if _counts(values, depth - 3) != _counts(boundaries, depth - 3):  # the same surfaces
        return False
    surfaces = list(_leaves(boundaries, depth - 2))
    textured = list(_leaves(values, depth - 2))
    if len(surfaces) != len(textured):
        return False
    for rings, uv in zip(surfaces, textured, strict=True):
        if uv == [[None]]:
            continue
        if not isinstance(uv, list) or len(uv) != len(rings):
            return False
        if not all(
            isinstance(t, list) and (t == [None] or len(t) == len(r) + 1) for r, t in zip(rings, uv, strict=True)
        ):
            return False
    return True


def cjval_errors(document: dict, *, templates: dict | None = None) -> list[str]:
    """cjval's checks beyond the schema (see the module docstring), one line per problem found.

    ``templates``: the ``geometry-templates`` the document's instances use, when they are not its
    own (a CityJSONFeature's are in its file's header, and checked with it).
    """
    out: list[str] = []
    objects = document.get("CityObjects") or {}
    vertices = document.get("vertices") or []
    n = len(vertices)
    own = templates is None
    gt = document.get("geometry-templates") if own else templates
    template_list = (gt or {}).get("templates") or []
    app = document.get("appearance") or {}
    used: set[int] = set()
    for oid, co in objects.items():
        for k, g in enumerate(co.get("geometry") or []):
            out.extend(_geometry_errors(f"CityObjects/{oid}/geometry/{k}", g, n, len(template_list), used, app))
        for a, address in enumerate(co.get("address") or []):
            location = address.get("location") if isinstance(address, dict) else None
            if location:
                out.extend(_geometry_errors(f"CityObjects/{oid}/address/{a}", location, n, 0, used, app))
        for child in co.get("children") or []:
            if child not in objects:
                out.append(f"CityObjects/{oid}: child {child!r} is not in the file")
            elif oid not in (objects[child].get("parents") or []):
                out.append(f"CityObjects/{oid}: child {child!r} does not name it as a parent")
        for parent in co.get("parents") or []:
            if parent not in objects:
                out.append(f"CityObjects/{oid}: parent {parent!r} is not in the file")
            elif oid not in (objects[parent].get("children") or []):
                out.append(f"CityObjects/{oid}: parent {parent!r} does not list it as a child")
    tv = (gt or {}).get("vertices-templates") or []
    if own:
        for k, g in enumerate(template_list):
            out.extend(_geometry_errors(f"geometry-templates/templates/{k}", g, len(tv), 0, set(), app))
    if len(used) != n:
        out.append(f"{n - len(used)} of the {n} vertices are not used by any geometry")
    return out


def duplicate_ids(data: bytes) -> list[str]:
    """Keys that appear twice in one JSON object of a document (city-object ids above all): a parser keeps one."""
    repeated: set[str] = set()

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict:
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            repeated.update(k for k, _ in pairs if k in seen or seen.add(k))
        return out

    json.loads(data, object_pairs_hook=pairs_hook)
    return sorted(repeated)


def validation_errors(document: dict, *, feature: bool = False) -> list[str]:
    """Schema errors and cjval errors together ([] for a valid document)."""
    return schema_errors(document, feature=feature) + cjval_errors(document)


def _fail(errors: list[str], what: str) -> None:
    if errors:
        shown = "\n  ".join(errors[:12])
        more = f"\n  … and {len(errors) - 12} more" if len(errors) > 12 else ""
        pytest.fail(f"{what} is not valid CityJSON 2.0:\n  {shown}{more}", pytrace=False)


def assert_valid_cityjson(source: dict | bytes | Path, what: str = "The document") -> dict:
    """Fail the test unless ``source`` (a document, its bytes or a file) is valid CityJSON 2.0; return it parsed."""
    data = source.read_bytes() if isinstance(source, Path) else source
    if isinstance(data, bytes):
        errors = [f"the key (city-object id) {i!r} appears twice in one object" for i in duplicate_ids(data)]
        document = json.loads(data)
    else:
        errors, document = [], data
    _fail(errors + validation_errors(document), what)
    return document


def assert_valid_cityjsonseq(path: Path) -> tuple[dict, list[dict]]:
    """Fail the test unless a ``.city.jsonl`` file is valid: its header, and every feature against the header.

    Each feature is checked as its own document (its vertices, its appearance, the header's templates);
    ids must be unique across the whole file. Returns the header and the features.
    """
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    if not lines:
        pytest.fail(f"{path.name} is empty.", pytrace=False)
    header = json.loads(lines[0])
    errors = schema_errors(header) + cjval_errors(header)  # its templates against its appearance
    if header.get("CityObjects") or header.get("vertices"):
        errors.append("the header of a CityJSONSeq file must have no city objects and no vertices")
    features = [json.loads(line) for line in lines[1:]]
    ids: dict[str, int] = {}
    for k, feature in enumerate(features, start=2):
        errors.extend(f"line {k}: {e}" for e in schema_errors(feature, feature=True))
        if feature.get("id") not in (feature.get("CityObjects") or {}):
            errors.append(f"line {k}: the feature's id {feature.get('id')!r} is not one of its city objects")
        errors.extend(f"line {k}: {e}" for e in cjval_errors(feature, templates=header.get("geometry-templates")))
        for oid in feature.get("CityObjects") or {}:
            ids[oid] = ids.get(oid, 0) + 1
    errors.extend(f"city object id {i!r} appears in more than one feature" for i, c in ids.items() if c > 1)
    _fail(errors, path.name)
    return header, features
