"""A Qt table model over a scene's evented item list (bookmarks, measurements, pins).

The list's ``inserting/inserted``, ``removing/removed``, ``moving/moved`` and
``changed`` events become ``beginInsertRows/endInsertRows`` … ``dataChanged``,
as napari's ``_qt/containers`` adapters do, so a view keeps its selection and
scroll position while the list changes. What a user does in the view (typing a
name, ticking "shown", dragging a row) goes back as an undoable scene command
(:meth:`Scene.edit_item`, :meth:`Scene.move_item`); the model never changes the
list itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QByteArray, QMimeData, QModelIndex, QPersistentModelIndex, Qt

from citytwin.model.scene import Scene

Index = QModelIndex | QPersistentModelIndex
MIME_ROW = "application/x-citytwin-item-row"


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
    """

    title: str
    text: Callable[[Any], str]
    edit: str | None = None
    check: str | None = None
    icon: Callable[[Any], Any] | None = None
    tooltip: Callable[[Any], str | None] | None = None


class ItemListModel(QAbstractTableModel):
    """Rows are the items of ``items`` (an :class:`~citytwin.model.annotations.ItemList` of ``scene``)."""

    def __init__(self, scene: Scene, items: Any, columns: list[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.items = items
        self.columns = columns
        ev = items.events
        self._connections = [
            (ev.inserting, self._on_inserting),
            (ev.inserted, self._on_inserted),
            (ev.removing, self._on_removing),
            (ev.removed, self._on_removed),
            (ev.moving, self._on_moving),
            (ev.moved, self._on_moved),
            (ev.changed, self._on_changed),
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
        self.beginMoveRows(QModelIndex(), index, index, QModelIndex(), new_index)

    def _on_moved(self, index: int, new_index: int, value: Any) -> None:
        self.endMoveRows()

    def _on_changed(self, index: Any, old: Any = None, new: Any = None) -> None:
        if isinstance(index, int):
            self.dataChanged.emit(self.index(index, 0), self.index(index, self.columnCount() - 1))
        else:  # a slice: refresh everything
            self.beginResetModel()
            self.endResetModel()

    # ------------------------------------------------------------------ reading
    def item(self, index: Index | int) -> Any | None:
        """The item of a row (or of a model index)."""
        row = index if isinstance(index, int) else (index.row() if index.isValid() else -1)
        return self.items[row] if 0 <= row < len(self.items) else None

    def row_of(self, item_id: str) -> int:
        """Row of the item with that id, -1 when none."""
        return next((i for i, x in enumerate(self.items) if x.id == item_id), -1)

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
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
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
            text = str(value).strip()
            if not text and col.edit == "name":
                return False  # a bookmark keeps a name
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
        return [MIME_ROW]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # noqa: N802
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        if rows:
            data.setData(MIME_ROW, QByteArray(str(rows[0]).encode()))
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
        if action != Qt.DropAction.MoveAction or not data.hasFormat(MIME_ROW):
            return False
        try:
            source = int(bytes(data.data(MIME_ROW).data()).decode())
        except ValueError:
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else len(self.items)
        self.moveRows(QModelIndex(), source, 1, QModelIndex(), row)
        return False  # the list moved the row itself: the view must not remove the source
