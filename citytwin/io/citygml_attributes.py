"""CityGML attributes: standard properties, generic attributes, ADE data and xAL addresses.

Naming (what the rest of citytwin sees in ``CityObjects.attributes``):

* CityGML properties by local name; ``measuredHeight`` as float with its unit in
  ``"measuredHeight_uom"``; years and storey counts as int; storey heights as
  lists of floats; codes as text; nested data types flattened with ``/``
  (3.0 ``con:height`` → ``"height/value"``, ``"height/value_uom"``).
* Generic attributes keep their type (int, float, text; measures get
  ``"<name>_uom"``); a generic attribute set ``s`` gives ``"s/<name>"``.
* ADE elements (PLATEAU ``uro:`` …) as ``"uro:<property>/<sub-property>"``,
  type elements (capitalised) skipped in the path.
* A property that repeats becomes a list.
* Addresses: one dict per address, xAL leaf names as keys (3.0 ``NameElement``
  and ``Number`` qualified by their parent: ``"Locality/NameElement"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from citytwin.io.gml_geometry import XLINK_HREF

# element classes by namespace (see AttributeReader.info)
GML, CITYGML, XAL, OTHER = range(4)

_INT_ATTRS = frozenset({"storeysAboveGround", "storeysBelowGround", "yearOfConstruction", "yearOfDemolition"})
_FLOAT_LIST_ATTRS = frozenset({"storeyHeightsAboveGround", "storeyHeightsBelowGround"})
_GENERIC_TYPES = {
    "stringAttribute": str, "intAttribute": int, "doubleAttribute": float, "dateAttribute": str,
    "uriAttribute": str, "measureAttribute": float, "codeAttribute": str,
}  # fmt: skip
_XAL_QUALIFIED = frozenset({"NameElement", "Number", "Identifier", "Name"})


class AttributeReader:
    """Reads the attribute-like properties of one city object into a dict.

    Parameters
    ----------
    info
        ``info(tag) -> (namespace, local name, class)`` with class one of
        :data:`GML`, :data:`CITYGML`, :data:`XAL`, :data:`OTHER` (cached by the reader).
    warn
        Counts one problem of a kind (``"bad attribute"``).
    """

    def __init__(self, info: Callable[[str], tuple[str, str, int]], warn: Callable[[str], None]) -> None:
        self.info = info
        self.warn = warn

    def standard(self, prop, name: str, attrs: dict[str, Any]) -> None:
        """A CityGML property: a typed leaf value (with ``_uom``), or a data type flattened with ``/``."""
        if len(prop) == 0:
            text = (prop.text or "").strip()
            if not text:
                href = prop.get(XLINK_HREF)
                if href:
                    add_value(attrs, name, href.strip())
                return
            uom = prop.get("uom")
            add_value(attrs, name, self._typed(name, text, uom))
            if uom is not None:
                attrs[f"{name}_uom"] = uom
            return
        self._flatten(prop, name, attrs)

    def _flatten(self, el, key: str, attrs: dict[str, Any]) -> None:
        for c in el:
            if not isinstance(c.tag, str):
                continue
            _, local, cls = self.info(c.tag)
            if cls == GML:
                continue
            if local[:1].isupper():
                self._flatten(c, key, attrs)
            elif len(c) == 0:
                self.standard(c, f"{key}/{local}", attrs)
            else:
                self._flatten(c, f"{key}/{local}", attrs)

    def _typed(self, name: str, text: str, uom: str | None) -> Any:
        base = name.rpartition("/")[2]
        try:
            if base in _INT_ATTRS:
                return int(text)
            if base in _FLOAT_LIST_ATTRS:
                return [float(v) for v in text.split()]
            if uom is not None or base == "measuredHeight":
                return float(text)
        except ValueError:
            self.warn("bad attribute")
        return text

    def generic2(self, el, name: str, attrs: dict[str, Any], prefix: str) -> None:
        """CityGML 1.0/2.0 ``gen:*Attribute`` (name attribute, ``gen:value`` child) and sets."""
        key = prefix + (el.get("name") or "").strip()
        if name == "genericAttributeSet":
            for c in el:
                if isinstance(c.tag, str):
                    self.generic2(c, self.info(c.tag)[1], attrs, key + "/")
            return
        kind = _GENERIC_TYPES.get(name)
        if kind is None or key == prefix:
            return
        value_el = None
        for c in el:
            if isinstance(c.tag, str):
                value_el = c
                break
        if value_el is None:
            return
        self._generic_value(key, kind, value_el, attrs)

    def generic3(self, el, attrs: dict[str, Any], prefix: str) -> None:
        """CityGML 3.0 ``gen:StringAttribute`` etc. (``gen:name`` and ``gen:value`` children) and sets."""
        local = self.info(el.tag)[1]
        name = local[:1].lower() + local[1:]
        key = prefix
        value_el = None
        members = []
        for c in el:
            if not isinstance(c.tag, str):
                continue
            cname = self.info(c.tag)[1]
            if cname == "name":
                key = prefix + (c.text or "").strip()
            elif cname == "value":
                value_el = c
            elif cname == "genericAttribute":
                members.extend(g for g in c if isinstance(g.tag, str))
        if name == "genericAttributeSet":
            for g in members:
                self.generic3(g, attrs, key + "/")
            return
        kind = _GENERIC_TYPES.get(name)
        if kind is None or value_el is None or key == prefix:
            return
        self._generic_value(key, kind, value_el, attrs)

    def _generic_value(self, key: str, kind: type, value_el, attrs: dict[str, Any]) -> None:
        text = (value_el.text or "").strip()
        value: Any = text
        if kind is not str:
            try:
                value = kind(text)
            except ValueError:
                self.warn("bad attribute")
        add_value(attrs, key, value)
        uom = value_el.get("uom")
        if uom is not None:
            attrs[f"{key}_uom"] = uom

    def ade(self, el, key: str, attrs: dict[str, Any]) -> None:
        """Application Domain Extension data kept as ``prefix:property/sub`` attributes."""
        ns, local, cls = self.info(el.tag)
        if cls == GML:
            return
        if local[:1].isupper() and ":" not in local:
            for c in el:
                if isinstance(c.tag, str):
                    self.ade(c, key, attrs)
            return
        if key:
            key = f"{key}/{local}"
        elif ":" in local:  # an undeclared prefix read in recovery mode
            key = local
        else:
            key = f"{el.prefix or 'ade'}:{local}"
        if len(el) == 0:
            text = (el.text or "").strip()
            if text:
                uom = el.get("uom")
                value: Any = text
                if uom is not None:
                    try:
                        value = float(text)
                    except ValueError:
                        self.warn("bad attribute")
                    attrs[f"{key}_uom"] = uom
                add_value(attrs, key, value)
            return
        for c in el:
            if isinstance(c.tag, str):
                self.ade(c, key, attrs)

    def addresses(self, prop) -> list[dict[str, Any]]:
        """One dict of xAL fields per ``core:Address`` under an ``address`` property."""
        out = []
        for addr in prop:
            if not isinstance(addr.tag, str):
                continue
            d: dict[str, Any] = {}
            for e in addr.iter():
                if not isinstance(e.tag, str) or len(e):
                    continue
                _, local, cls = self.info(e.tag)
                if cls == GML or not e.text or not e.text.strip():
                    continue
                if local in _XAL_QUALIFIED:
                    parent = e.getparent()
                    local = f"{self.info(parent.tag)[1]}/{local}"
                add_value(d, local, e.text.strip())
            if d:
                out.append(d)
        return out

    # ----------------------------------------------------------------- finish


def add_value(attrs: dict[str, Any], key: str, value: Any) -> None:
    """Set ``attrs[key]``, turning a repeated key into a list of its values."""
    if key in attrs:
        old = attrs[key]
        if isinstance(old, list) and key not in _FLOAT_LIST_ATTRS:
            old.append(value)
        else:
            attrs[key] = [old, value]
    else:
        attrs[key] = value
