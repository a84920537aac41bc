"""Validate CityGML 1.0, 2.0 and 3.0 against the official OGC schemas, offline, with xmlschema.

The schemas lie in ``../shared/schemas`` laid out like their URLs (see its README).
:func:`_local` maps every official URL an import names to the file there, and
``allow="local"`` makes any URL it does not map fail instead of reaching for the
network. A document's own ``xsi:schemaLocation`` hints are ignored: a small driver
schema imports the official schema of every CityGML module namespace the document
declares, and the document is validated against it. Built schemas are cached per
set of namespaces for the session (building the GML 3.1.1 ones takes seconds).

GML 3.1.1 (CityGML 1.0 and 2.0) builds only with ``validation="lax"`` (one
restriction in ``gml:AbstractReferenceSystemBaseType`` is rejected in strict mode);
the documents are still validated strictly against what was built.

Usage::

    errors = validation_errors(path)     # [] when valid (at most ``limit`` messages)
    assert_valid_citygml(path)           # or pytest.fail with the first few
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.conftest import SHARED

#: The official schemas, beside the shared data.
SCHEMAS = SHARED.parent / "schemas"

_OPENGIS = re.compile(r"^https?://schemas\.opengis\.net/(.*)$")
_CITYGML3_MODULE = re.compile(r"^citygml/(?:[a-z]+/)*3\.0/([^/]+\.xsd)$")
_OASIS = re.compile(r"^https?://docs\.oasis-open\.org/(.*)$")
_W3 = re.compile(r"^https?://www\.w3\.org/(.*)$")

#: File of each CityGML 1.0/2.0 module schema (the namespace ``…/citygml/<module>/<v>``).
_MODULE_FILES = {
    "appearance": "appearance.xsd", "bridge": "bridge.xsd", "building": "building.xsd",
    "cityfurniture": "cityFurniture.xsd", "cityobjectgroup": "cityObjectGroup.xsd", "generics": "generics.xsd",
    "landuse": "landUse.xsd", "relief": "relief.xsd", "texturedsurface": "texturedSurface.xsd",
    "transportation": "transportation.xsd", "tunnel": "tunnel.xsd", "vegetation": "vegetation.xsd",
    "waterbody": "waterBody.xsd",
}  # fmt: skip
#: File of each CityGML 3.0 module schema.
_MODULE_FILES_3 = {
    "appearance": "appearance.xsd", "bridge": "bridge.xsd", "building": "building.xsd",
    "cityfurniture": "cityFurniture.xsd", "cityobjectgroup": "cityObjectGroup.xsd", "construction": "construction.xsd",
    "dynamizer": "dynamizer.xsd", "generics": "generics.xsd", "landuse": "landUse.xsd", "pointcloud": "pointCloud.xsd",
    "relief": "relief.xsd", "transportation": "transportation.xsd", "tunnel": "tunnel.xsd",
    "vegetation": "vegetation.xsd", "versioning": "versioning.xsd", "waterbody": "waterBody.xsd",
}  # fmt: skip
_CITYGML_NS = re.compile(r"^http://www\.opengis\.net/citygml/(?:(profiles/base|[a-z]+)/)?([123]\.0)$")


def _local(url: str) -> str:
    """The local copy of an official schema URL (unchanged when it is not one; ``allow='local'`` then refuses it)."""
    m = _OPENGIS.match(url)
    if m:
        rest = m.group(1)
        m3 = _CITYGML3_MODULE.match(rest)
        if m3:
            rest = f"citygml/3.0/{m3.group(1)}"
        return str(SCHEMAS / "schemas.opengis.net" / rest)
    m = _OASIS.match(url)
    if m:
        rest = m.group(1)
        if rest.startswith("ciq/v3.0/"):
            return str(SCHEMAS / "schemas.opengis.net" / "citygml" / "3.0" / "xAL" / rest.rsplit("/", 1)[-1])
        return str(SCHEMAS / "docs.oasis-open.org" / rest)
    m = _W3.match(url)
    if m:
        return str(SCHEMAS / "www.w3.org" / m.group(1))
    return url


def schema_url(namespace: str) -> str | None:
    """The official schema URL of a CityGML namespace (``None`` for any other namespace)."""
    m = _CITYGML_NS.match(namespace)
    if not m:
        return None
    module, version = m.groups()
    if version == "3.0":
        if module is None:
            return "http://schemas.opengis.net/citygml/3.0/core.xsd"
        name = _MODULE_FILES_3.get(module)
        return None if name is None else f"http://schemas.opengis.net/citygml/{module}/3.0/{name}"
    if module is None:
        return f"http://schemas.opengis.net/citygml/{version}/cityGMLBase.xsd"
    if module == "profiles/base":
        return f"http://schemas.opengis.net/citygml/profiles/base/{version}/CityGML.xsd"
    name = _MODULE_FILES.get(module)
    return None if name is None else f"http://schemas.opengis.net/citygml/{module}/{version}/{name}"


def _namespaces(path: Path) -> frozenset[str]:
    """Every namespace declared on the root element and used in the document."""
    used: set[str] = set()
    for _, el in etree.iterparse(str(path), events=("start",), resolve_entities=False, no_network=True,
                                 huge_tree=True):  # fmt: skip
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            used.add(el.tag[1 : el.tag.index("}")])
    return frozenset(used)


@cache
def _schema(namespaces: frozenset[str]) -> Any:
    try:
        import xmlschema
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.fail("xmlschema is needed to validate CityGML: pip install -e '.[test]'.", pytrace=False)
    if not (SCHEMAS / "schemas.opengis.net").is_dir():
        pytest.fail(f"The OGC schemas are missing from {SCHEMAS}.", pytrace=False)
    imports = []
    for ns in sorted(namespaces):
        url = schema_url(ns)
        if url is not None:
            imports.append(f'  <xs:import namespace="{ns}" schemaLocation="{url}"/>')
    driver = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:citytwin:test:driver">\n'
        + "\n".join(imports)
        + "\n</xs:schema>\n"
    )
    gml3 = any(ns.endswith("/3.0") for ns in namespaces if ns.startswith("http://www.opengis.net/citygml"))
    return xmlschema.XMLSchema10(
        driver,
        base_url=str(SCHEMAS),
        uri_mapper=_local,
        allow="local",
        validation="strict" if gml3 else "lax",
    )


def validation_errors(path: str | Path, limit: int = 5) -> list[str]:
    """The first ``limit`` schema errors of a CityGML file (``[]`` when it is valid)."""
    path = Path(path)
    schema = _schema(_namespaces(path))
    out = []
    for err in schema.iter_errors(str(path)):
        line = getattr(getattr(err, "elem", None), "sourceline", None)
        reason = (err.reason or str(err)).splitlines()[0]
        out.append(f"line {line}: {reason} ({err.path})")
        if len(out) >= limit:
            break
    return out


def assert_valid_citygml(path: str | Path) -> None:
    """Fail the test with the first few schema errors unless ``path`` is valid CityGML."""
    errors = validation_errors(path)
    if errors:
        pytest.fail(f"{Path(path).name} does not validate:\n" + "\n".join(errors), pytrace=False)
