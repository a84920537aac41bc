"""The Scenarios dock: "Existing" and the project's planning scenarios, their edits, switching and saving.

A click on a row shows that state of the city at once (an undoable switch). New, Duplicate,
Rename and Delete manage scenarios; the lower list names every edit of the scenario shown,
and Remove Edit takes one out again. Save As… writes the city with the scenario applied
(CityJSON, CityJSONSeq or CityGML), never over a source file without asking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.scenario import AddObject, DeleteObjects, Scenario, SetAttributes, TransformObject, remove_edit

#: the first row: the data as read
EXISTING = "Existing"


def describe_edit(edit: Any) -> str:
    """One line for an edit in the list."""
    if isinstance(edit, DeleteObjects):
        ids = edit.ids
        return f"Delete {ids[0]}" if len(ids) == 1 else f"Delete {len(ids)} objects ({ids[0]} …)"
    if isinstance(edit, SetAttributes):
        names = ", ".join([*edit.values, *(f"−{n}" for n in edit.removed)])
        who = edit.ids[0] if len(edit.ids) == 1 else f"{len(edit.ids)} objects"
        return f"Attributes of {who}: {names}"
    if isinstance(edit, TransformObject):
        parts = []
        if any(edit.translate):
            parts.append("move {:+.1f}, {:+.1f}, {:+.1f} m".format(*edit.translate))
        if edit.rotate_deg:
            parts.append(f"turn {edit.rotate_deg:+.0f}°")
        if edit.height_scale != 1.0:
            parts.append(f"height ×{edit.height_scale:.2f}")
        return f"{edit.id}: {', '.join(parts) or 'no change'}"
    if isinstance(edit, AddObject):
        kind = edit.cityobject.get("type", "object")
        h = (edit.cityobject.get("attributes") or {}).get("measuredHeight")
        return f"Add {kind} {edit.id}" + (f" ({h:.1f} m)" if isinstance(h, int | float) else "")
    return type(edit).__name__


class ScenariosPanel(QWidget):
    """The list of states (Existing + scenarios) and the edits of the one shown."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.scene = window.scene
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setToolTip("Click to show that state of the city; double-click to rename a scenario")
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemChanged.connect(self._on_renamed)
        layout.addWidget(self.list, 2)
        row = QHBoxLayout()
        self.new_button = QPushButton("New")
        self.new_button.clicked.connect(self.new_scenario)
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.clicked.connect(self.duplicate)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete)
        for b in (self.new_button, self.duplicate_button, self.delete_button):
            row.addWidget(b)
        layout.addLayout(row)
        layout.addWidget(QLabel("Edits"))
        self.edits = QListWidget()
        layout.addWidget(self.edits, 3)
        row2 = QHBoxLayout()
        self.remove_edit_button = QPushButton("Remove Edit")
        self.remove_edit_button.clicked.connect(self.remove_selected_edit)
        self.save_button = QPushButton("Save As…")
        self.save_button.setToolTip("Write the city with this scenario as CityJSON or CityGML")
        self.save_button.clicked.connect(self.ask_save)
        row2.addWidget(self.remove_edit_button)
        row2.addStretch(1)
        row2.addWidget(self.save_button)
        layout.addLayout(row2)
        self._refreshing = False
        ev = self.scene.scenarios.events
        for sig in (ev.inserted, ev.removed, ev.changed, ev.moved):
            sig.connect(self.refresh)
        self.scene.settings_changed.connect(self._on_settings)
        self.refresh()

    # ------------------------------------------------------------------ state
    def refresh(self, *_: Any) -> None:
        """Rebuild both lists from the scene."""
        self._refreshing = True
        try:
            self.list.clear()
            current = self.scene.scenario
            first = QListWidgetItem(EXISTING)
            first.setData(Qt.ItemDataRole.UserRole, None)
            first.setToolTip("The city as read from its files")
            self.list.addItem(first)
            for s in self.scene.scenarios:
                item = QListWidgetItem(s.name)
                item.setData(Qt.ItemDataRole.UserRole, s.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(s.description or f"{len(s.edits)} edit{'s' if len(s.edits) != 1 else ''}")
                self.list.addItem(item)
            row = 0 if current is None else 1 + self.scene.scenarios.index_of(current.id)
            self.list.setCurrentRow(row)
            for r in range(self.list.count()):
                font = self.list.item(r).font()
                font.setBold(r == row)
                self.list.item(r).setFont(font)
            self.edits.clear()
            for e in current.edits if current is not None else ():
                self.edits.addItem(describe_edit(e))
            has = current is not None
            self.duplicate_button.setEnabled(has)
            self.delete_button.setEnabled(has)
            self.remove_edit_button.setEnabled(has and bool(current.edits))
        finally:
            self._refreshing = False

    def _on_settings(self, name: str) -> None:
        if name == "scenario":
            self.refresh()

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.show_state(item.data(Qt.ItemDataRole.UserRole))

    def show_state(self, scenario_id: str | None) -> None:
        """Show a scenario (``None``: the existing city), as an undoable switch."""
        if scenario_id != self.scene.scenario_id:
            self.scene.set(self.scene, "scenario_id", scenario_id)

    # ------------------------------------------------------------------ managing
    def _unique(self, stem: str) -> str:
        taken = {s.name for s in self.scene.scenarios}
        if stem not in taken:
            return stem
        k = 2
        while f"{stem} {k}" in taken:
            k += 1
        return f"{stem} {k}"

    def new_scenario(self, name: str | None = None) -> Scenario:
        """Add an empty scenario and show it (one undo step)."""
        from citytwin.model.commands import InsertItem, MacroCommand, SetProperty

        s = Scenario(name=name or self._unique("Scenario"))
        steps = [InsertItem(self.scene.scenarios, s), SetProperty(self.scene, "scenario_id", s.id)]
        self.scene.undo_stack.push(MacroCommand(steps, f"New {s.name}"))
        return s

    def duplicate(self) -> Scenario | None:
        """Copy the scenario shown under a new name and show the copy."""
        from citytwin.model.annotations import new_id
        from citytwin.model.commands import InsertItem, MacroCommand, SetProperty

        current = self.scene.scenario
        if current is None:
            return None
        copy = msgspec.structs.replace(current, id=new_id("scenario"), name=self._unique(f"{current.name} copy"))
        index = self.scene.scenarios.index_of(current.id) + 1
        self.scene.undo_stack.push(MacroCommand([InsertItem(self.scene.scenarios, copy, index),
                                                 SetProperty(self.scene, "scenario_id", copy.id)],
                                                f"Duplicate {current.name}"))  # fmt: skip
        return copy

    def delete(self) -> None:
        """Delete the scenario shown (undoable); the existing city is shown."""
        from citytwin.model.commands import MacroCommand, RemoveItem, SetProperty

        current = self.scene.scenario
        if current is None:
            return
        self.scene.undo_stack.push(MacroCommand([SetProperty(self.scene, "scenario_id", None),
                                                 RemoveItem(self.scene.scenarios, current)],
                                                f"Delete {current.name}"))  # fmt: skip

    def rename(self, scenario_id: str, name: str) -> None:
        """Rename a scenario (undoable); an empty name is refused."""
        s = self.scene.scenarios.by_id(scenario_id)
        name = name.strip()
        if s is None or not name or name == s.name:
            self.refresh()
            return
        self.scene.edit_item(s, name=self._unique(name) if name != s.name else name)

    def _on_renamed(self, item: QListWidgetItem) -> None:
        if self._refreshing:
            return
        sid = item.data(Qt.ItemDataRole.UserRole)
        if sid is not None:
            self.rename(sid, item.text())

    def remove_selected_edit(self) -> None:
        """Take the selected edit out of the scenario shown (undoable)."""
        current = self.scene.scenario
        row = self.edits.currentRow()
        if current is None or not 0 <= row < len(current.edits):
            return
        self.scene.edit_item(current, edits=remove_edit(current, row).edits)

    # ------------------------------------------------------------------ saving
    def ask_save(self) -> None:
        """Save the city with the scenario shown (File → Save Scenario As…)."""
        saver = getattr(self.window, "scenario_saver", None)
        if saver is not None:
            saver.ask()

    def shutdown(self) -> None:
        """Stop following the scene."""
        ev = self.scene.scenarios.events
        for sig in (ev.inserted, ev.removed, ev.changed, ev.moved):
            sig.disconnect(self.refresh)
        self.scene.settings_changed.disconnect(self._on_settings)


class ScenarioSaver:
    """File → Save Scenario As…: write a layer's city with the scenario shown, on the task pool.

    A source file is never overwritten silently: choosing it asks first and keeps a backup.
    """

    FILTERS = ";;".join(
        [
            "CityJSON (*.city.json *.json)",
            "CityJSONSeq (*.city.jsonl *.jsonl)",
            "CityGML 2.0 (*.gml)",
            "CityGML 3.0 (*.gml)",
        ]
    )

    def __init__(self, window: Any) -> None:
        self.window = window
        #: set by tests: ``{"path": …, "filter": …, "overwrite": bool}`` answers the dialogs
        self.answers: dict[str, Any] | None = None
        self.last: Any = None  # the last result (path, counts, warnings)

    def _layer(self) -> Any:
        from citytwin.model.layers import CityModelLayer

        layers = [x for x in self.window.scene.layers if isinstance(x, CityModelLayer) and x.model is not None]
        if not layers:
            return None
        layer = getattr(self.window.layer_panel, "current_layer", None)
        return layer if layer in layers else layers[0]

    def ask(self) -> None:
        """Ask for the file (and format), then save on the task pool."""
        from PySide6.QtWidgets import QFileDialog, QMessageBox

        from citytwin.io.export import backup_path

        layer = self._layer()
        if layer is None:
            self.window.statusBar().showMessage("Open a city model first.", 8000)
            return
        scenario = self.window.scene.scenario
        src = Path(layer.model.source) if getattr(layer.model, "source", None) else None
        stem = (src.name.split(".")[0] if src else layer.name.split(".")[0]) or "city"
        suggested = f"{stem}-{scenario.name if scenario else 'existing'}.city.json".replace(" ", "-")
        folder = src.parent if src else Path.home()
        if self.answers is not None:
            path, chosen = str(self.answers["path"]), self.answers.get("filter", "")
        else:
            path, chosen = QFileDialog.getSaveFileName(self.window, "Save Scenario As", str(folder / suggested),
                                                       self.FILTERS)  # fmt: skip
        if not path:
            return
        path_ = Path(path)
        version = "3.0" if "3.0" in chosen else "2.0"
        overwrite = src is not None and path_.exists() and path_.resolve() == src.resolve()
        if overwrite:
            if self.answers is not None:
                ok = bool(self.answers.get("overwrite"))
            else:
                ok = QMessageBox.question(
                    self.window, "Replace the source file?",
                    f"{path_.name} is the file this city was read from. Replace it? A backup is kept as "
                    f"{backup_path(path_).name}.",
                ) == QMessageBox.StandardButton.Yes  # fmt: skip
            if not ok:
                return
        self.save(layer, scenario, path_, version, overwrite)

    def save(self, layer: Any, scenario: Any, path: Path, version: str = "2.0", overwrite: bool = False) -> Any:
        """Save on the task pool; returns the worker."""
        from citytwin.io.export import make_backup, write_scenario
        from citytwin.ui.workers import TaskWorker

        model = layer.model

        def job() -> Any:
            if overwrite:
                make_backup(path)
            return write_scenario(model, scenario, path, citygml_version=version, allow_overwrite_source=overwrite)

        worker = TaskWorker(job, description="Saving")
        worker.signals.finished.connect(self._done)
        worker.signals.failed.connect(self.window._on_task_failed)
        self.window.start_task(worker, f"Saving {path.name}…")
        return worker

    def _done(self, worker: Any, result: Any) -> None:
        if not self.window._end_task(worker):
            return
        self.last = result
        warnings = list(getattr(result, "warnings", []) or [])
        msg = f"Saved {Path(result.path).name}: {result.objects:,} objects."
        if warnings:
            msg += " " + " ".join(warnings[:2])
        self.window.statusBar().showMessage(msg, 12000)


def install_scenarios(window: Any) -> ScenariosPanel:
    """Add the Scenarios dock (left, tabbed with Search) and its View menu entry; sets ``window.scenarios_panel``."""
    from PySide6.QtWidgets import QDockWidget

    from citytwin.ui.bookmarks_panel import _menu, _when_closed

    panel = ScenariosPanel(window)
    dock = QDockWidget("Scenarios", window)
    dock.setObjectName("scenarios_dock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    search = getattr(window, "search_dock", None)
    if search is not None:
        window.tabifyDockWidget(search, dock)
        search.raise_()
    _menu(window, "View").addAction(dock.toggleViewAction())
    window.scenarios_panel = panel
    window.scenarios_dock = dock
    saver = ScenarioSaver(window)
    window.scenario_saver = saver
    file_menu = _menu(window, "File")
    act = QAction("Save Scenario &As…", window)
    act.setStatusTip("Write the city with the scenario shown as CityJSON or CityGML")
    act.triggered.connect(lambda *_: saver.ask())
    quit_action = getattr(window, "quit_action", None)  # before Quit
    file_menu.insertAction(quit_action, act) if quit_action is not None else file_menu.addAction(act)
    window.save_scenario_action = act
    _when_closed(window, panel.shutdown)
    return panel


__all__ = ["ScenariosPanel", "describe_edit", "install_scenarios"]
