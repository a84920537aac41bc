"""The Search panel: find objects by id or attribute expression."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.layers import CityModelLayer
from citytwin.model.scene import Scene

MAX_LISTED = 2000


class SearchPanel(QWidget):
    """A query box over every city-model layer, and its results.

    Signals
    -------
    activated(layer, indices)
        Fly to and select these objects (double-click, or "Select all results").
    """

    activated = Signal(object, object)

    def __init__(self, scene: Scene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.query = QLineEdit()
        self.query.setPlaceholderText('Id, or e.g. measuredHeight > 30 and function == "1000"')
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(self.run)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.run)
        row.addWidget(self.query, 1)
        row.addWidget(self.search_button)
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.results = QListWidget()
        self.results.itemDoubleClicked.connect(self._on_double_click)
        layout.addWidget(self.results, 1)
        self.select_all_button = QPushButton("Select all results")
        self.select_all_button.setEnabled(False)
        self.select_all_button.clicked.connect(self.select_all)
        layout.addWidget(self.select_all_button)
        self.matches: list[tuple[CityModelLayer, list[int]]] = []

    def run(self, text: str | None = None) -> int:
        """Search every layer; returns the number of matches."""
        from citytwin.model.query import QueryError, search

        if text is not None and isinstance(text, str):
            self.query.setText(text)
        text = self.query.text()
        self.results.clear()
        self.matches = []
        total = 0
        try:
            for layer in self.scene.layers:
                if not isinstance(layer, CityModelLayer) or layer.model is None:
                    continue
                found = [int(i) for i in search(layer.model.objects, text)]
                if found:
                    self.matches.append((layer, found))
                    total += len(found)
        except QueryError as exc:
            self.status.setText(str(exc))
            self.status.setStyleSheet("color: #b00020;")
            self.select_all_button.setEnabled(False)
            return 0
        self.status.setStyleSheet("")
        self.status.setText(
            "No object matches."
            if total == 0
            else f"{total:,} object{'s' if total != 1 else ''} found."
            + (f" Showing the first {MAX_LISTED:,}." if total > MAX_LISTED else "")
        )
        listed = 0
        for layer, indices in self.matches:
            objects = layer.model.objects
            for i in indices:
                if listed >= MAX_LISTED:
                    break
                item = QListWidgetItem(f"{objects.ids[i]}  ·  {objects.types[i]}  ·  {layer.name}")
                item.setData(Qt.ItemDataRole.UserRole, (layer, i))
                self.results.addItem(item)
                listed += 1
        self.select_all_button.setEnabled(total > 0)
        return total

    def _on_double_click(self, item: QListWidgetItem) -> None:
        layer, index = item.data(Qt.ItemDataRole.UserRole)
        self.activated.emit(layer, [index])

    def select_all(self) -> None:
        if not self.matches:
            return
        # one layer holds the selection; pick the layer with the most matches
        layer, indices = max(self.matches, key=lambda m: len(m[1]))
        self.activated.emit(layer, list(indices))
