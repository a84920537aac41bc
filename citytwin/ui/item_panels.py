"""What the docks of the user's items (pins, measurements, bookmarks) share: their buttons and their place.

The three docks list the scene's items through one
:class:`~citytwin.ui.item_list_model.ItemListModel` each; here are the small
widgets around the lists: a flat tool button, a row of them, and the dock
itself, tabbed with the other item docks on the right of the window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QMainWindow, QToolButton, QWidget

#: The window attributes of the item docks, tabbed together.
ITEM_DOCKS = ("measurements_dock", "bookmarks_dock", "annotations_dock")


def tool_button(text: str, tip: str, slot: Callable[[], Any], flat: bool = True) -> QToolButton:
    """A text button that calls ``slot()`` when clicked (``flat``: raised only under the mouse)."""
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setAutoRaise(flat)
    b.clicked.connect(lambda *_: slot())
    return b


def button_row(buttons: Iterable[QWidget], spacing: int = 2) -> QHBoxLayout:
    """The buttons side by side from the left, without margins."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(spacing)
    for b in buttons:
        row.addWidget(b)
    row.addStretch(1)
    return row


def item_dock(window: QMainWindow, title: str, object_name: str, widget: QWidget) -> QDockWidget:
    """A dock for a panel of items on the right of the window, a tab beside the item docks already there.

    Returns the dock; whether it found a sibling to join is :func:`item_dock_sibling`'s to say.
    """
    dock = QDockWidget(title, window)
    dock.setObjectName(object_name)
    dock.setWidget(widget)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    sibling = item_dock_sibling(window, dock)
    if sibling is not None:
        window.tabifyDockWidget(sibling, dock)
    return dock


def item_dock_sibling(window: QMainWindow, dock: QDockWidget) -> QDockWidget | None:
    """Another item dock of the window (measurements, bookmarks, annotations), or ``None``."""
    for name in ITEM_DOCKS:
        other = getattr(window, name, None)
        if isinstance(other, QDockWidget) and other is not dock:
            return other
    return None
