"""Every change to the scene is a command that can be undone.

Panels never assign to the model directly when the user changes something:
they push a command on the scene's :class:`UndoStack`. The stack emits
``changed`` so menus can update their Undo/Redo entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psygnal import Signal

_MISSING = object()


class Command:
    """Base class: a reversible change with a short description."""

    text: str = ""
    #: commands with the same non-None merge key pushed back to back merge
    #: into one undo step (e.g. dragging an opacity slider).
    merge_key: Any = None

    def do(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def merge(self, newer: Command) -> bool:
        """Absorb a newer command with the same merge key; return True if merged."""
        return False


@dataclass
class SetProperty(Command):
    """Set ``target.name = value``; undo restores the old value."""

    target: Any
    name: str
    value: Any
    text: str = ""
    merge_key: Any = None
    _old: Any = field(default=_MISSING, repr=False)

    def __post_init__(self) -> None:
        if not self.text:
            self.text = f"Change {self.name.replace('_', ' ')}"

    def do(self) -> None:
        if self._old is _MISSING:
            self._old = getattr(self.target, self.name)
        setattr(self.target, self.name, self.value)

    def undo(self) -> None:
        setattr(self.target, self.name, self._old)

    def merge(self, newer: Command) -> bool:
        if isinstance(newer, SetProperty) and newer.target is self.target and newer.name == self.name:
            self.value = newer.value
            return True
        return False


@dataclass
class CallbackCommand(Command):
    """A command from two callables (for changes that are not a single attribute)."""

    redo_fn: Callable[[], None]
    undo_fn: Callable[[], None]
    text: str = ""

    def do(self) -> None:
        self.redo_fn()

    def undo(self) -> None:
        self.undo_fn()


@dataclass
class MacroCommand(Command):
    """Several commands as one undo step, done in order and undone in reverse."""

    commands: list[Command]
    text: str = ""

    def do(self) -> None:
        for c in self.commands:
            c.do()

    def undo(self) -> None:
        for c in reversed(self.commands):
            c.undo()


class UndoStack:
    """A linear undo history.

    Attributes
    ----------
    changed
        Signal emitted after every push, undo, redo or clear.
    """

    changed = Signal()

    def __init__(self, limit: int = 500) -> None:
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self.limit = limit
        self._clean_index = 0

    def push(self, command: Command) -> None:
        """Run a command and record it (merging with the previous one when allowed)."""
        command.do()
        self._undone.clear()
        top = self._done[-1] if self._done else None
        if (
            top is not None
            and command.merge_key is not None
            and top.merge_key == command.merge_key
            and top.merge(command)
        ):
            self.changed.emit()
            return
        self._done.append(command)
        if len(self._done) > self.limit:
            del self._done[0]
            self._clean_index -= 1
        self.changed.emit()

    def undo(self) -> bool:
        """Undo the last command; return False when there is nothing to undo."""
        if not self._done:
            return False
        cmd = self._done.pop()
        cmd.undo()
        self._undone.append(cmd)
        self.changed.emit()
        return True

    def redo(self) -> bool:
        """Redo the last undone command; return False when there is nothing to redo."""
        if not self._undone:
            return False
        cmd = self._undone.pop()
        cmd.do()
        self._done.append(cmd)
        self.changed.emit()
        return True

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self._clean_index = 0
        self.changed.emit()

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def set_clean(self) -> None:
        """Mark the current state as saved."""
        self._clean_index = len(self._done)

    @property
    def is_clean(self) -> bool:
        """True when nothing changed since :meth:`set_clean` (or the start)."""
        return self._clean_index == len(self._done)


@dataclass
class InsertItem(Command):
    """Insert ``item`` into an evented list at ``index`` (the end when ``None``); undo removes it."""

    items: Any
    item: Any
    index: int | None = None
    text: str = "Add"

    def do(self) -> None:
        self.items.insert(len(self.items) if self.index is None else self.index, self.item)

    def undo(self) -> None:
        self.items.remove(self.item)


@dataclass
class RemoveItem(Command):
    """Remove ``item`` from an evented list; undo puts it back where it was."""

    items: Any
    item: Any
    text: str = "Delete"
    _index: int = field(default=-1, repr=False)

    def do(self) -> None:
        self._index = self.items.index(self.item)
        self.items.remove(self.item)

    def undo(self) -> None:
        self.items.insert(self._index, self.item)


@dataclass
class ReplaceItem(Command):
    """Replace ``old`` by ``new`` in an evented list (an edit of an immutable item); undo swaps back.

    Consecutive replacements of the same item with the same ``merge_key`` fold
    into one step (a colour being dragged, a title being typed).
    """

    items: Any
    old: Any
    new: Any
    text: str = "Edit"
    merge_key: Any = None

    def do(self) -> None:
        self.items[self.items.index(self.old)] = self.new

    def undo(self) -> None:
        self.items[self.items.index(self.new)] = self.old

    def merge(self, newer: Command) -> bool:
        if isinstance(newer, ReplaceItem) and newer.items is self.items and newer.old is self.new:
            self.new = newer.new
            return True
        return False


@dataclass
class MoveItem(Command):
    """Move an item of an evented list to ``index``; undo moves it back."""

    items: Any
    item: Any
    index: int
    text: str = "Reorder"
    _old: int = field(default=-1, repr=False)

    def do(self) -> None:
        self._old = self.items.index(self.item)
        self._move(self._old, self.index)

    def undo(self) -> None:
        self._move(self.items.index(self.item), self._old)

    def _move(self, src: int, dst: int) -> None:
        if src != dst:  # psygnal's move() takes the slot to land before: one past when moving down
            self.items.move(src, dst + 1 if dst > src else dst)
