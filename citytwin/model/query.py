"""Attribute queries for the Search panel: ``measuredHeight > 30 and function == "1000"``.

Expressions are parsed with :mod:`ast` and evaluated by a small interpreter,
never by ``eval``. Supported: comparisons (``== != < <= > >=``, chained),
``and`` / ``or`` / ``not``, parentheses, ``in`` with a list, names of
attributes (``id`` and ``type`` are the object's own), string and number
literals, and ``contains``-style ``"text" in name``. Attribute names that are
not Python identifiers (``uro:buildingID``) can be written in backticks.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from citytwin.errors import CityTwinError
from citytwin.model.cityobjects import CityObjects


class QueryError(CityTwinError):
    """The search text is not a valid expression."""


_CMP: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

_BACKTICK = re.compile(r"`([^`]+)`")


def _coerce_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Let ``"1950"`` compare with ``1950`` the way a person expects."""
    if isinstance(a, str) and isinstance(b, (int, float)) and not isinstance(b, bool):
        try:
            return float(a), b
        except ValueError:
            return a, str(b)
    if isinstance(b, str) and isinstance(a, (int, float)) and not isinstance(a, bool):
        try:
            return a, float(b)
        except ValueError:
            return str(a), b
    return a, b


class Query:
    """A compiled attribute query.

    Parameters
    ----------
    text
        The expression. A bare word or id without operators matches object ids
        containing it (case-insensitive).
    """

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        if not self.text:
            raise QueryError("Type an id or an expression such as measuredHeight > 30.")
        names: dict[str, str] = {}

        def sub(m: re.Match) -> str:
            key = f"__attr{len(names)}"
            names[key] = m.group(1)
            return key

        src = _BACKTICK.sub(sub, self.text)
        self._names = names
        self._id_search: str | None = None
        try:
            tree = ast.parse(src, mode="eval")
        except SyntaxError:
            tree = None
        if tree is None or isinstance(tree.body, (ast.Name, ast.Constant)):
            self._id_search = self.text.strip("`\"' ").lower()
            self._tree = None
        else:
            self._tree = tree.body
            self._check(self._tree)

    def _check(self, node: ast.AST) -> None:
        allowed = (
            ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare, ast.Name, ast.Load,
            ast.Constant, ast.List, ast.Tuple, *_CMP,
        )  # fmt: skip
        for sub in ast.walk(node):
            if not isinstance(sub, allowed):
                raise QueryError(f"'{self.text}' is not a search expression citytwin understands.")

    def _value(self, node: ast.AST, row: dict[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            name = self._names.get(node.id, node.id)
            return row.get(name, _Missing)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._value(e, row) for e in node.elts]
        if isinstance(node, ast.UnaryOp):
            v = self._value(node.operand, row)
            if isinstance(node.op, ast.Not):
                return not bool(v) if v is not _Missing else True
            return -v if isinstance(v, (int, float)) else _Missing
        if isinstance(node, ast.BoolOp):
            vals = (self._truth(v, row) for v in node.values)
            return all(vals) if isinstance(node.op, ast.And) else any(vals)
        if isinstance(node, ast.Compare):
            left = self._value(node.left, row)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._value(right_node, row)
                if left is _Missing or right is _Missing:
                    return False
                a, b = _coerce_pair(left, right)
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(b, list):
                    b = [_coerce_pair(a, x)[1] for x in b]
                try:
                    if not _CMP[type(op)](a, b):
                        return False
                except TypeError:
                    return False
                left = right
            return True
        raise QueryError(f"'{self.text}' is not a search expression citytwin understands.")

    def _truth(self, node: ast.AST, row: dict[str, Any]) -> bool:
        v = self._value(node, row)
        return v is not _Missing and bool(v)

    def matches(self, objects: CityObjects, index: int) -> bool:
        """Whether one object matches."""
        if self._id_search is not None:
            return self._id_search in objects.ids[index].lower()
        row = {"id": objects.ids[index], "type": objects.types[index], **objects.attributes[index]}
        return self._truth(self._tree, row)

    def run(self, objects: CityObjects, types: set[str] | None = None) -> np.ndarray:
        """Indices of matching objects (optionally only of some types)."""
        if self._id_search is not None:
            needle = self._id_search
            hits = [i for i, ident in enumerate(objects.ids) if needle in ident.lower()]
        else:
            hits = [i for i in range(len(objects)) if self.matches(objects, i)]
        if types is not None:
            hits = [i for i in hits if objects.types[i] in types]
        return np.asarray(hits, dtype=np.int64)


class _MissingType:
    def __repr__(self) -> str:
        return "<missing>"


_Missing = _MissingType()


def search(objects: CityObjects, text: str, types: set[str] | None = None) -> np.ndarray:
    """Indices of the objects matching ``text`` (an id fragment or an expression).

    Raises
    ------
    QueryError
        With one sentence when the expression is not valid.
    """
    return Query(text).run(objects, types)
