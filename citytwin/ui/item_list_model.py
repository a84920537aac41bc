"""A Qt table model over a scene's evented item list (bookmarks, measurements, pins).

The list's ``inserting/inserted``, ``removing/removed``, ``moving/moved``,
``changed`` and ``reordered`` events become ``beginInsertRows/endInsertRows`` …
``dataChanged``, as napari's ``_qt/containers`` adapters do, so a view keeps its
selection and scroll position while the list changes. What a user does in the
view (typing a name, ticking "shown", dragging rows) goes back as an undoable
scene command (:meth:`Scene.edit_item`, :meth:`Scene.move_item`); the model never
changes the list itself. One model serves every list: the columns say what is
shown and edited. A list view (the pins) shows the first column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QByteArray, QMimeData, QModelIndex, QPersistentModelIndex, Qt

from citytwin.model.scene import Scene

Index = QModelIndex | QPersistentModelIndex
#: What a drag of rows carries: the ids of their items, one a line.
MIME_ITEMS = "application/x-citytwin-item-ids"


@dataclass
class Column:
    """One column of an :class:`ItemListModel`.

    Attributes
    ----------
    title
        Header text.
    text
        ``text(item) -> str`` shown (DisplayRole).
    edit
        Name of the item field a typed value sets (EditRole), or ``None`` (read-only).
    check
        Name of a bool field shown as a check box, or ``None``.
    icon
        ``icon(item) -> QIcon | None`` (DecorationRole).
    tooltip
        ``tooltip(item) -> str | None``.
    foreground
        ``foreground(item) -> QColor | None`` (ForegroundRole: a hidden pin in grey).
    clean
        What a typed value becomes before it is set (surrounding spaces dropped by default).
    required
        Whether an empty value is refused (a bookmark keeps a name, a pin a title).
    """

    title: str
    text: Callable[[Any], str]
    edit: str | None = None
    check: str | None = None
    icon: Callable[[Any], Any] | None = None
    tooltip: Callable[[Any], str | None] | None = None
    foreground: Callable[[Any], Any] | None = None
    clean: Callable[[str], str] = str.strip
    required: bool = False


class ItemListModel(QAbstractTableModel):
    """Rows are the items of ``items`` (an :class:`~citytwin.model.annotations.ItemList` of ``scene``)."""

    def __init__(self, scene: Scene, items: Any, columns: list[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.items = items
        self.columns = columns
        self._pending_move = False
        ev = items.events
        self._connections = [
            (ev.inserting, self._on_inserting),
            (ev.inserted, self._on_inserted),
            (ev.removing, self._on_removing),
            (ev.removed, self._on_removed),
            (ev.moving, self._on_moving),
            (ev.moved, self._on_moved),
            (ev.changed, self._on_changed),
            (ev.reordered, self._on_reset),
        ]
        for sig, cb in self._connections:
            sig.connect(cb)

    def disconnect_items(self) -> None:
        """Stop following the list (before the window closes)."""
        for sig, cb in self._connections:
            sig.disconnect(cb)
        self._connections = []

    # ------------------------------------------------------------------ list events
    def _on_inserting(self, index: int) -> None:
        self.beginInsertRows(QModelIndex(), index, index)

    def _on_inserted(self, index: int, value: Any) -> None:
        self.endInsertRows()

    def _on_removing(self, index: int) -> None:
        self.beginRemoveRows(QModelIndex(), index, index)

    def _on_removed(self, index: int, value: Any) -> None:
        self.endRemoveRows()

    def _on_moving(self, index: int, new_index: int) -> None:
        # psygnal's destination is the slot to land before, like Qt's; a move Qt refuses resets the model
        self._pending_move = self.beginMoveRows(QModelIndex(), index, index, QModelIndex(), new_index)
        if not self._pending_move:
            self.beginResetModel()

    def _on_moved(self, *_args: Any) -> None:
        if self._pending_move:
            self.endMoveRows()
        else:
            self.endResetModel()
        self._pending_move = False

    def _on_changed(self, index: Any, old: Any = None, new: Any = None) -> None:
        if isinstance(index, int):
            self.dataChanged.emit(self.index(index, 0), self.index(index, self.columnCount() - 1))
        else:  # a slice: refresh everything
            self._on_reset()

    def _on_reset(self, *_args: Any) -> None:
        self.beginResetModel()
        self.endResetModel()

    # ------------------------------------------------------------------ reading
    def item(self, index: Index | int) -> Any | None:
        """The item of a row (or of a model index)."""
        row = index if isinstance(index, int) else (index.row() if index.isValid() else -1)
        return self.items[row] if 0 <= row < len(self.items) else None

    def row_of(self, item_id: str) -> int:
        """Row of the item with that id, -1 when none."""
        index_of = getattr(self.items, "index_of", None)
        if index_of is None:
            return next((i for i, x in enumerate(self.items) if x.id == item_id), -1)
        try:
            return int(index_of(item_id))
        except KeyError:
            return -1

    def index(self, row: int, column: int = 0, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        """The index of a row (the first column unless told): a list view asks for rows only."""
        return super().index(row, column, parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title if 0 <= section < len(self.columns) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.item(index)
        if item is None or not 0 <= index.column() < len(self.columns):
            return None
        col = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return col.text(item)
        if role == Qt.ItemDataRole.DecorationRole and col.icon is not None:
            return col.icon(item)
        if role == Qt.ItemDataRole.ToolTipRole and col.tooltip is not None:
            return col.tooltip(item)
        if role == Qt.ItemDataRole.CheckStateRole and col.check is not None:
            return Qt.CheckState.Checked if getattr(item, col.check) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.UserRole:
            return item.id
        if role == Qt.ItemDataRole.ForegroundRole and col.foreground is not None:
            return col.foreground(item)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        f = (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )
        col = self.columns[index.column()]
        if col.edit is not None:
            f |= Qt.ItemFlag.ItemIsEditable
        if col.check is not None:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        return f

    # ------------------------------------------------------------------ user edits → commands
    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        item = self.item(index)
        if item is None:
            return False
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.EditRole and col.edit is not None:
            text = col.clean(str(value))
            if not text and col.required:
                return False
            if text == getattr(item, col.edit):
                return False
            self.scene.edit_item(item, **{col.edit: text})
            return True
        if role == Qt.ItemDataRole.CheckStateRole and col.check is not None:
            want = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
            if bool(getattr(item, col.check)) == want:
                return False
            self.scene.edit_item(item, **{col.check: want})
            return True
        return False

    def move_row(self, row: int, dest: int) -> bool:
        """Move row ``row`` so that it lands at ``dest`` (after the move), undoably."""
        item = self.item(row)
        dest = max(0, min(int(dest), len(self.items) - 1))
        if item is None or dest == row:
            return False
        self.scene.move_item(item, dest)
        return True

    # ------------------------------------------------------------------ drag and drop
    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_ITEMS]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # noqa: N802
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        ids = [item.id for r in rows if (item := self.item(r)) is not None]
        data.setData(MIME_ITEMS, QByteArray("\n".join(ids).encode()))
        return data

    def moveRows(  # noqa: N802
        self, source_parent: Index, source_row: int, count: int, dest_parent: Index, dest_child: int
    ) -> bool:
        """Qt's move (``dest_child`` is the slot before which the row lands, counted before the move)."""
        if count != 1 or source_parent.isValid() or dest_parent.isValid():
            return False
        final = dest_child - 1 if dest_child > source_row else dest_child
        return self.move_row(source_row, final)

    def dropMimeData(  # noqa: N802
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Dragged rows (by their items' ids) land, in their order, before ``row`` (counted before the move)."""
        if action != Qt.DropAction.MoveAction or not data.hasFormat(MIME_ITEMS):
            return False
        try:
            ids = [i for i in bytes(data.data(MIME_ITEMS).data()).decode().split("\n") if i]
        except UnicodeDecodeError:
            return False
        target = row if row >= 0 else (parent.row() if parent.isValid() else len(self.items))
        for item_id in ids:
            source = self.row_of(item_id)
            if source < 0:
                continue  # not an item of this list
            final = target if target <= source else target - 1
            self.move_row(source, final)
            target = max(0, min(final, len(self.items) - 1)) + 1
        return False  # the list moved the rows itself: the view must not remove the sources
