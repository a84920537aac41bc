"""Deterministic fuzzing of JSON documents: replace random parts with garbage."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator, Sequence
from typing import Any


def json_paths(obj: Any, path: tuple = ()) -> Iterator[tuple]:
    """The path (keys and indices) of every value inside ``obj``, the root excluded."""
    if path:
        yield path
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from json_paths(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from json_paths(value, (*path, i))


def mutated(base: Any, paths: Sequence[tuple], rng: random.Random, garbage: Sequence[Any], edits: int) -> Any:
    """A copy of ``base`` with ``edits`` of ``paths`` (drawn by ``rng``) replaced by garbage.

    A path that an earlier edit removed is left alone.
    """
    doc = copy.deepcopy(base)
    for path in rng.sample(list(paths), edits):
        try:
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = rng.choice(garbage)
        except (KeyError, IndexError, TypeError):
            continue
    return doc
