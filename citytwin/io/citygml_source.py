"""The bytes of a CityGML source laid out for a lossless write: root, members and their spans.

The reader keeps the file's bytes (:class:`~citytwin.model.citymodel.SourceDocument`,
kind ``"CityGML"``) and nothing else, so reading costs no more. A writer calls
:func:`scan` once: one regular-expression pass over the bytes (about 0.1 s for a
24 MB file) finds the root element's start tag and end tag and the byte span of
every top-level member (``cityObjectMember``, ``featureMember``,
``appearanceMember`` …), skipping comments, CDATA and processing instructions;
the feature in each member is named by its first start tag, so no member is
parsed unless it is edited.

A member that is edited is parsed alone by :func:`parse_member`, wrapped in a
copy of the root's start tag so that every namespace prefix resolves, and
written back by :func:`serialise_member` without repeating the root's namespace
declarations. :func:`feature_index` finds the element of every city object of a
member under the ids the reader gave them (``gml:id``, or
``f"{parent_id}_{Type}_{n}"`` when there is none), walking the member as the
reader does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from citytwin.io.citygml import CHILD_PROPS, NON_FEATURES  # what the reader takes for city objects
from citytwin.io.gml_geometry import XLINK_HREF

__all__ = ["Member", "SourceLayout", "feature_index", "local_name", "parse_member", "scan", "serialise_member"]

#: Names of the elements that hold top-level features (CityGML 1.0 to 3.0).
MEMBER_NAMES = (
    "cityObjectMember", "featureMember", "featureMembers", "appearanceMember", "versionMember",
    "versionTransitionMember",
)  # fmt: skip
_ATTRS = rb"(?:[^>\"']|\"[^\"]*\"|'[^']*')*"
_TOKEN = re.compile(
    rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(/?)((?:[\w.-]+:)?(?:"
    + b"|".join(n.encode() for n in MEMBER_NAMES)
    + rb"))(?=[\s/>])("
    + _ATTRS
    + rb")>",
    re.S,
)
_PROLOG_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.S)
_START_TAG = re.compile(rb"<([\w.-]+:)?([\w.-]+)(" + _ATTRS + rb")>", re.S)
_FIRST_CHILD = re.compile(rb"(?:\s|<!--.*?-->|<\?.*?\?>)*<(?!/)([\w.-]+:)?([\w.-]+)(" + _ATTRS + rb")>", re.S)
_ID_ATTR = re.compile(rb"(?:^|\s)(?:[\w.-]+:)?id\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_HREF_ATTR = re.compile(rb"(?:^|\s)[\w.-]+:href\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_XMLNS = re.compile(r"\sxmlns(?::([\w.-]+))?=\"([^\"]*)\"")

_LOD_PROP = re.compile(r"^lod[0-4][A-Z]")


@dataclass
class Member:
    """One top-level member of the root element.

    Attributes
    ----------
    start, end
        Its byte span (start tag to end tag, both included).
    gap
        Where the text before it starts (the end of the previous member or of the header).
    name
        Local name of the member element (``cityObjectMember`` …).
    feature_type
        Local name of the feature it holds (``None`` for a reference or an empty member).
    feature_id
        That feature's ``gml:id`` (``None`` when it has none).
    href
        The target of a member that only refers to a feature (``xlink:href``), without ``#``.
    """

    start: int
    end: int
    gap: int
    name: str
    feature_type: str | None = None
    feature_id: str | None = None
    href: str | None = None

    @property
    def multi(self) -> bool:
        """Whether the member may hold several features (``featureMembers``)."""
        return self.name == "featureMembers"


@dataclass
class SourceLayout:
    """Where the parts of a CityGML document lie in its bytes.

    Attributes
    ----------
    data
        The document.
    encoding
        Its declared encoding (``"utf-8"`` when none is declared).
    root_start, root_open_end
        The span of the root element's start tag.
    root_qname
        The root element's name as written (``core:CityModel``).
    members
        The top-level members, in order.
    body_end
        Where the root element's end tag starts (the end of the data for a file cut short).
    """

    data: bytes
    encoding: str
    root_start: int
    root_open_end: int
    root_qname: str
    members: list[Member] = field(default_factory=list)
    body_end: int = 0

    @property
    def header_end(self) -> int:
        """Where the first member (or the end of the body) starts: the header is the text before."""
        return self.members[0].gap if self.members else self.body_end

    @property
    def root_tag(self) -> bytes:
        """The root element's start tag, as written."""
        return self.data[self.root_start : self.root_open_end]

    def text(self, start: int, end: int) -> str:
        """A span of the document as text."""
        return self.data[start:end].decode(self.encoding)

    def root_namespaces(self) -> dict[str | None, str]:
        """The namespace declarations of the root's start tag (prefix → URI, ``None`` for the default)."""
        tag = self.root_tag
        el = etree.fromstring(self.declaration() + tag + b"</" + self.root_qname.encode(self.encoding) + b">")
        return dict(el.nsmap)

    def declaration(self) -> bytes:
        """An XML declaration naming the source's encoding (so that a parsed part decodes alike)."""
        return f'<?xml version="1.0" encoding="{self.encoding}"?>'.encode("ascii")


def scan(data: bytes) -> SourceLayout:
    """Find the root element and every top-level member of a CityGML document.

    Raises
    ------
    ValueError
        When the bytes hold no root element (one sentence).
    """
    m = _ENCODING.match(data)
    encoding = m.group(1).decode("ascii").lower() if m else "utf-8"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or encoding.startswith(("utf-16", "utf-32", "ucs")):
        raise ValueError("the source is not in an 8-bit encoding that can be copied piece by piece")
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        skip = _PROLOG_SKIP.match(data, pos)
        if skip is None or skip.end() == pos:
            break
        pos = skip.end()
    while pos < len(data) and data[pos : pos + 1].isspace():
        pos += 1
    root = _START_TAG.match(data, pos)
    if root is None:
        raise ValueError("the source has no root element")
    qname = ((root.group(1) or b"") + root.group(2)).decode(encoding)
    layout = SourceLayout(data, encoding, root.start(), root.end(), qname)
    end_tag = re.compile(rb"</" + re.escape(qname.encode(encoding)) + rb"\s*>")
    body_end = len(data)
    tail_from = max(root.end(), len(data) - 65536)
    ends = list(end_tag.finditer(data, tail_from))
    if ends:
        body_end = ends[-1].start()
    layout.body_end = body_end
    depth = 0
    prev_end = root.end()
    open_at = -1
    for t in _TOKEN.finditer(data, root.end(), body_end):
        name = t.group(2)
        if name is None:
            continue  # a comment, CDATA or processing instruction
        closing = t.group(1) == b"/"
        attrs = t.group(3)
        if closing:
            depth -= 1
            if depth == 0 and open_at >= 0:
                layout.members.append(_member(data, encoding, open_at, t.end(), prev_end, name))
                prev_end = t.end()
                open_at = -1
            depth = max(depth, 0)
        elif attrs.endswith(b"/"):
            if depth == 0:
                layout.members.append(_member(data, encoding, t.start(), t.end(), prev_end, name))
                prev_end = t.end()
        else:
            if depth == 0:
                open_at = t.start()
            depth += 1
    if (
        layout.members
    ):  # the header (gml:name, gml:boundedBy …) ends where the whitespace before the first member starts
        first = layout.members[0]
        head = data[root.end() : first.start]
        first.gap = root.end() + len(head.rstrip())
    return layout


def _member(data: bytes, encoding: str, start: int, end: int, gap: int, qname: bytes) -> Member:
    local = qname.rpartition(b":")[2].decode("ascii")
    out = Member(start, end, gap, local)
    open_tag = _START_TAG.match(data, start)
    if open_tag is not None and open_tag.end() <= end:
        href = _HREF_ATTR.search(open_tag.group(3))
        if href is not None:
            out.href = _unescape(href.group(1) or href.group(2), encoding).strip().lstrip("#")
        if not open_tag.group(3).endswith(b"/"):
            child = _FIRST_CHILD.match(data, open_tag.end(), end)
            if child is not None:
                out.feature_type = child.group(2).decode("ascii", "replace")
                ident = _ID_ATTR.search(child.group(3))
                if ident is not None:
                    out.feature_id = _unescape(
                        ident.group(1) if ident.group(1) is not None else ident.group(2), encoding
                    )
    return out


def _unescape(raw: bytes, encoding: str) -> str:
    text = raw.decode(encoding, "replace")
    return html.unescape(text) if "&" in text else text


# ------------------------------------------------------------------ members
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False)


def parse_member(layout: SourceLayout, member: Member, parser: etree.XMLParser | None = None) -> etree._Element:
    """The member element, parsed under a copy of the root's start tag (its parent).

    Raises
    ------
    lxml.etree.XMLSyntaxError
        When the member is not well-formed XML.
    """
    data = layout.data
    wrapped = b"".join(
        (
            layout.declaration(),
            layout.root_tag,
            data[member.start : member.end],
            b"</",
            layout.root_qname.encode(layout.encoding),
            b">",
        )
    )
    root = etree.fromstring(wrapped, parser or _PARSER)
    return root[0] if len(root) and isinstance(root[0].tag, str) else next(c for c in root if isinstance(c.tag, str))


def serialise_member(el: etree._Element, root_namespaces: dict[str | None, str]) -> str:
    """``el`` as text, without the namespace declarations its root already makes."""
    text = etree.tostring(el, encoding="unicode", with_tail=False)
    end = _tag_end(text)
    head = _XMLNS.sub(lambda m: "" if root_namespaces.get(m.group(1)) == m.group(2) else m.group(0), text[:end])
    return head + text[end:]


def _tag_end(text: str) -> int:
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == ">":
            return i
    return len(text)


def local_name(tag: str) -> str:
    """``{ns}local`` → ``local``."""
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    """``{ns}local`` → ``ns`` (``""`` without a namespace)."""
    return tag[1 : tag.index("}")] if tag.startswith("{") else ""


def is_citygml(tag: str) -> bool:
    """Whether an element belongs to a CityGML namespace."""
    return "opengis.net/citygml" in namespace(tag)


def feature_index(
    feature: etree._Element, id_attr: str, oid: str | None = None
) -> Iterator[tuple[str, etree._Element, str | None]]:
    """Every city object of a top-level feature: ``(id, element, parent id)``, depth first.

    Ids are those the reader gives: ``gml:id``, or ``f"{parent_id}_{Type}_{n}"``
    (``n`` counting from 1 per parent and type). ``oid`` is the id the reader gave
    the top-level feature itself when it has no ``gml:id``.
    """
    top = feature.get(id_attr) or oid or local_name(feature.tag)
    stack: list[tuple[etree._Element, str, str | None, int]] = [(feature, top, None, 0)]
    while stack:
        el, ident, parent, depth = stack.pop()
        yield ident, el, parent
        if depth > 64:
            continue
        counters: dict[str, int] = {}
        found = []
        for prop in el:
            if not isinstance(prop.tag, str) or not is_citygml(prop.tag):
                continue
            name = local_name(prop.tag)
            if _LOD_PROP.match(name) or name == "tin":
                continue
            if name in CHILD_PROPS or _holds_feature(prop):
                for child in prop:
                    if not isinstance(child.tag, str):
                        continue
                    typ = local_name(child.tag)
                    cid = child.get(id_attr)
                    if not cid:
                        counters[typ] = counters.get(typ, 0) + 1
                        cid = f"{ident}_{typ}_{counters[typ]}"
                    found.append((child, cid, ident, depth + 1))
        stack.extend(reversed(found))


def _holds_feature(prop: etree._Element) -> bool:
    for child in prop:
        if not isinstance(child.tag, str):
            continue
        local = local_name(child.tag)
        return is_citygml(child.tag) and local[:1].isupper() and local not in NON_FEATURES
    return False


def references(el: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """Every ``(element, target id)`` under ``el`` that refers to another by ``xlink:href`` or an appearance target."""
    for e in el.iter():
        if not isinstance(e.tag, str):
            continue
        href = e.get(XLINK_HREF)
        if href is not None:
            yield e, href.strip().lstrip("#")
        elif local_name(e.tag) == "target":
            uri = e.get("uri")
            text = uri if uri is not None else (e.text or "")
            if text.strip():
                yield e, text.strip().lstrip("#")
