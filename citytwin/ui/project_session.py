"""The project behind a window: its file, unsaved changes, saving, opening, autosave and recovery.

The window keeps one :class:`ProjectSession`. It knows which ``.citytwin``
file the scene belongs to, whether there are unsaved changes (the undo stack
is not at its clean mark, or files were added to or found for the project),
and shows both in the title bar (``district* — citytwin``). Opening a project
empties the scene and hands the project's files to the window's background
loader; each layer gets its settings as it arrives, and the pins,
measurements, bookmarks and camera come when all files are in. A file that is
missing is named in one sentence and can be located; the rest still opens.

Unsaved work is written to a recovery copy (:mod:`citytwin.io.recovery`)
every few minutes and after every tenth change; a clean close deletes it, and
the next start offers to recover a copy left by a crash. The copy is a project:
the work, not the undo history (recovered work starts a fresh history, and the
question says so).

Layers made in citytwin from a source (terrains) are kept as how they were made
(:class:`~citytwin.model.project.DerivedLayer`) and made again, off the GUI
thread, once their source is read; the project has finished opening when they
are in too.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from citytwin.errors import CityTwinError
from citytwin.io.project import read_project, write_project
from citytwin.io.recovery import (
    discard_recovery,
    find_recoveries,
    read_recovery,
    recovery_path,
    write_recovery,
)
from citytwin.model.pointcloud import PointCloudLayer
from citytwin.model.project import PROJECT_SUFFIX, DerivedLayer, Project, Source
from citytwin.model.project_scene import apply_items, clear_scene, project_from_scene, unsaved_layers

if TYPE_CHECKING:
    from citytwin.ui.main_window import MainWindow

Button = QMessageBox.StandardButton

#: File-dialog filter of projects.
PROJECT_FILTER = "citytwin projects (*.citytwin)"
#: Seconds between autosaves (when there are unsaved changes).
AUTOSAVE_SECONDS = 180.0
#: Autosave after this many changes to the undo stack.
AUTOSAVE_EVERY_CHANGES = 10
UNTITLED = "Untitled"

#: Recovery copies of the sessions open in this process (never offered as left by a crash).
_LIVE: set[str] = set()


def is_project_file(path: str | os.PathLike) -> bool:
    """Whether a path names a ``.citytwin`` project (by its extension)."""
    return Path(path).suffix.lower() == PROJECT_SUFFIX


class ProjectSession(QObject):
    """The project of one window.

    Attributes
    ----------
    path
        The project file, or ``None`` for a project never saved.
    extra
        Sections of the project file this version does not know, written back on save.
    unloaded
        Sources of the project not in the scene (missing, unreadable or not
        opened): kept in the project, and missing ones can be located.
    pending
        Sources of the project being read now.
    deriving
        Derived layers of the project (terrains) being made now, by id.
    underived
        Derived layers of the project not in the scene (their source is missing, not
        read yet, or they could not be made): kept in the project, made when their
        source is read (located).
    answers
        Test hook: question kind (``"unsaved"``, ``"recover"``, ``"missing"``)
        → the button to answer without showing the question. Starts as a copy
        of :attr:`default_answers`.
    asked
        ``(kind, text)`` of every question put, answered or not.

    Signals
    -------
    opened(path)
        A project finished opening (its files are in, or failed, or were cancelled).
    saved(path)
        The project was written.
    """

    opened = Signal(str)
    saved = Signal(str)

    #: Answers given without asking (tests set this before making windows).
    default_answers: dict[str, QMessageBox.StandardButton] = {}

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.scene = window.scene
        self.path: Path | None = None
        self.extra: dict = {}
        self.unloaded: dict[str, Source] = {}
        self.pending: dict[str, Source] = {}
        self.deriving: dict[str, DerivedLayer] = {}
        self.underived: dict[str, DerivedLayer] = {}
        self.answers: dict[str, QMessageBox.StandardButton] = dict(self.default_answers)
        self.asked: list[tuple[str, str]] = []
        self._opening: Project | None = None
        self._structure_changed = False
        self._changes = 0
        self.autosave_every = AUTOSAVE_EVERY_CHANGES
        self.recovery_file = recovery_path(uuid.uuid4().hex[:8])
        _LIVE.add(os.path.abspath(self.recovery_file))
        self._autosave_timer = QTimer(self)
        self._autosave_timer.timeout.connect(self.autosave)
        self.autosave_interval = AUTOSAVE_SECONDS
        self._autosave_timer.start()
        self._autosave_soon = QTimer(self)  # after a burst of changes: once, a moment later
        self._autosave_soon.setSingleShot(True)
        self._autosave_soon.setInterval(300)
        self._autosave_soon.timeout.connect(self.autosave)
        self.scene.undo_stack.changed.connect(self._on_stack_changed)
        self._error_shown = False
        self.update_title()

    # ------------------------------------------------------------ state
    @property
    def name(self) -> str:
        """The project's name (its file name without the extension), ``Untitled`` before the first save."""
        return self.path.stem if self.path is not None else UNTITLED

    @property
    def is_modified(self) -> bool:
        """Whether there are changes not saved to the project file."""
        return self._structure_changed or not self.scene.undo_stack.is_clean

    @property
    def is_opening(self) -> bool:
        """Whether a project's files are still being read."""
        return self._opening is not None

    def mark_changed(self) -> None:
        """Something the undo stack does not see changed the project (a file added or located)."""
        if not self._structure_changed:
            self._structure_changed = True
            self.update_title()

    def file_added(self) -> None:
        """A data file was opened into the scene: a change to an open project."""
        if self.path is not None:
            self.mark_changed()

    def taken_ids(self) -> set[str]:
        """Source ids the project holds that no layer shows (new layers must not take them)."""
        return set(self.unloaded) | set(self.pending)

    def taken_derived_ids(self) -> set[str]:
        """Ids of derived layers the project holds that no layer shows (a new terrain must not take them)."""
        return set(self.underived) | set(self.deriving)

    def update_title(self) -> None:
        w = self.window
        w.setWindowTitle(f"{self.name}[*] — citytwin")
        w.setWindowModified(self.is_modified)
        action = getattr(w, "locate_action", None)
        if action is not None:
            action.setEnabled(bool(self.missing()))

    def _on_stack_changed(self) -> None:
        self.update_title()
        if self.scene.undo_stack.is_clean:
            return
        self._changes += 1
        if self.autosave_every > 0 and self._changes % self.autosave_every == 0:
            self._autosave_soon.start()

    def current_project(self) -> Project:
        """The project as it would be saved now."""
        project = project_from_scene(
            self.scene,
            unloaded=[*self.pending.values(), *self.unloaded.values()],
            underived=[*self.deriving.values(), *self.underived.values()],
            extra=self.extra,
        )
        if self._opening is not None:  # its items and camera come once its files are in
            o = self._opening
            project = msgspec.structs.replace(
                project,
                pins=list(o.pins),
                measurements=list(o.measurements),
                bookmarks=list(o.bookmarks),
                camera=o.camera,
            )
        return project

    # ------------------------------------------------------------ questions
    def _ask(
        self,
        kind: str,
        text: str,
        buttons: QMessageBox.StandardButton,
        default: QMessageBox.StandardButton,
        labels: dict[QMessageBox.StandardButton, str] | None = None,
    ) -> QMessageBox.StandardButton:
        self.asked.append((kind, text))
        if kind in self.answers:
            return self.answers[kind]
        box = QMessageBox(QMessageBox.Icon.Question, "citytwin", text, buttons, self.window)
        box.setDefaultButton(default)
        for button, label in (labels or {}).items():
            if box.button(button) is not None:
                box.button(button).setText(label)
        try:
            return Button(box.exec())
        finally:
            box.deleteLater()

    def maybe_save(self) -> bool:
        """Ask to save unsaved changes; False when the user cancels (or the save failed)."""
        if not self.is_modified:
            return True
        answer = self._ask(
            "unsaved",
            f"Save the changes to {self.name} before closing it?",
            Button.Save | Button.Discard | Button.Cancel,
            Button.Save,
        )
        if answer == Button.Save:
            return self.save()
        return answer == Button.Discard

    def _tell(self, message: str) -> None:
        """One sentence in a message box (after the window shows, when it does not yet)."""
        if self.window.isVisible():
            self.window._error(message)
        else:
            QTimer.singleShot(0, lambda: self.window._error(message))

    # ------------------------------------------------------------ new, open
    def new(self) -> bool:
        """An empty, untitled project (after asking about unsaved changes)."""
        if not self.maybe_save():
            return False
        self._reset(None)
        self.update_title()
        return True

    def _reset(self, path: Path | None) -> None:
        self.window.cancel_loading()
        self._opening = None
        clear_scene(self.scene)
        self.path = path
        self.extra = {}
        self.unloaded = {}
        self.pending = {}
        self.deriving = {}
        self.underived = {}
        self._structure_changed = False
        self._changes = 0
        discard_recovery(self.recovery_file)

    def open(self, path: str | os.PathLike, ask: bool = True) -> bool:
        """Open a project file: its files load in the background; False when it could not be read.

        A malformed project, or one of a newer schema, is told in one sentence
        and the scene stays as it was.
        """
        path = Path(path)
        try:
            project = read_project(path)
        except CityTwinError as exc:
            self._tell(str(exc))
            return False
        except Exception as exc:  # a bug must not take the window down, nor touch the scene
            self._tell(f"{path.name} could not be opened as a project ({exc.__class__.__name__}: {exc}).")
            return False
        if ask and not self.maybe_save():
            return False
        self.load(project, path.resolve())
        self.window._add_recent(path)
        return True

    def load(self, project: Project, path: Path | None, modified: bool = False) -> None:
        """Replace the scene by ``project`` (whose file is ``path``): not an undoable step."""
        self._reset(path)
        self.extra = dict(project.extra)
        self._opening = project
        self._structure_changed = modified
        for source in project.sources:
            if os.path.isfile(source.path):
                self.pending[source.id] = source
            else:
                self.unloaded[source.id] = source
        for derived in project.derived:  # made once their source is in
            self.underived[derived.id] = derived
        self.update_title()
        if self.pending:
            self.window.open_sources(list(self.pending.values()))
        else:
            QTimer.singleShot(0, lambda: self._finish_opening(project))

    def source_finished(self, source: Source, ok: bool) -> None:
        """The window read (``ok``) or could not read a source this session gave it."""
        if self.pending.get(source.id) is not source:
            return  # a source of a project since replaced
        del self.pending[source.id]
        if not ok:
            self.unloaded[source.id] = source
        else:
            self._derive_from(source)
        self._maybe_finish_opening()

    def _maybe_finish_opening(self) -> None:
        if not self.pending and not self.deriving and self._opening is not None:
            project = self._opening
            QTimer.singleShot(0, lambda: self._finish_opening(project))

    # ------------------------------------------------------------ derived layers (terrains)
    def _derive_from(self, source: Source) -> None:
        """Make the project's layers derived from a source that was just read (off the GUI thread)."""
        from citytwin.model.project_scene import derive_model
        from citytwin.ui.workers import TaskWorker

        layers = [la for la in self.scene.layers if la.source is not None and la.source.id == source.id]
        if not layers:
            return
        layer = layers[-1]
        data = layer.cloud if isinstance(layer, PointCloudLayer) else getattr(layer, "model", None)
        for derived in [d for d in self.underived.values() if d.source == source.id]:
            del self.underived[derived.id]
            self.deriving[derived.id] = derived
            name = derived.name or f"terrain from {layer.name}"
            worker = TaskWorker(derive_model, derived, data, description=f"Making {name}")
            worker.derived = derived  # type: ignore[attr-defined]
            worker.source_name = layer.name  # type: ignore[attr-defined]
            worker.signals.finished.connect(self._on_derived)
            worker.signals.failed.connect(self._on_derive_failed)
            self.window.start_task(worker, f"Making {name}…")

    def _took_back(self, worker) -> DerivedLayer | None:
        """The derived layer a finished worker made, when this project still waits for it."""
        wanted = self.window._end_task(worker)
        derived = worker.derived
        if self.deriving.get(derived.id) is not derived:
            return None  # a project since replaced
        del self.deriving[derived.id]
        if not wanted:  # cancelled: kept in the project, not made
            self.underived[derived.id] = derived
            self._maybe_finish_opening()
            return None
        return derived

    def _on_derived(self, worker, model) -> None:
        from citytwin.model.project_scene import derived_layer

        derived = self._took_back(worker)
        if derived is None:
            return
        layer, problems = derived_layer(derived, model, worker.source_name)
        try:
            self.scene.add_layer(layer, undoable=False)  # part of opening, not an edit
        except CityTwinError as exc:
            self.underived[derived.id] = derived
            problems.append(str(exc))
        if problems:
            self.window.statusBar().showMessage(" ".join(problems), 15000)
        self._maybe_finish_opening()

    def _on_derive_failed(self, worker, message: str) -> None:
        derived = self._took_back(worker)
        if derived is None:
            return
        self.underived[derived.id] = derived  # kept in the project as it was
        name = derived.name or f"The terrain from {worker.source_name}"
        self.window.statusBar().showMessage(f"{name} could not be made: {message}", 15000)
        self._maybe_finish_opening()

    def _finish_opening(self, project: Project) -> None:
        if self._opening is not project or self.pending or self.deriving:
            return
        self._opening = None
        stack = self.scene.undo_stack
        edited = stack.can_undo  # the user changed something while the files were read
        apply_items(self.scene, project)
        viewport = self.window.viewport
        if viewport is not None:
            viewport.finish_animation()  # the saved view, at once
        stack.clear()  # the history must not refer to items the project replaced
        if edited:
            self._structure_changed = True
        self.update_title()
        missing = self.missing()
        if missing:
            text = self._missing_sentence(missing)
            self.window.statusBar().showMessage(text, 15000)
            answer = self._ask(
                "missing", text, Button.Yes | Button.No, Button.Yes, {Button.Yes: "Locate…", Button.No: "Not Now"}
            )
            if answer == Button.Yes:
                self.locate_missing()
        self.opened.emit(str(self.path) if self.path is not None else "")

    def missing(self) -> list[Source]:
        """Sources of the project whose file is not there."""
        return [s for s in self.unloaded.values() if not os.path.isfile(s.path)]

    @staticmethod
    def _missing_sentence(missing: list[Source]) -> str:
        if len(missing) == 1:
            s = missing[0]
            return f"{Path(s.path).name} is missing (it was in {Path(s.path).parent}); the rest of the project is open."
        names = ", ".join(Path(s.path).name for s in missing[:5]) + (", …" if len(missing) > 5 else "")
        return f"{len(missing)} data files of this project are missing ({names}); the rest of the project is open."

    def locate_missing(self) -> None:
        """Ask where each missing file is now (a file dialog per file)."""
        for source in self.missing():
            name = Path(source.path).name
            start = str(Path(source.path).parent if Path(source.path).parent.is_dir() else Path.home())
            found, _ = QFileDialog.getOpenFileName(
                self.window, f"Where is {name}?", start, f"{name} ({name});;All files (*)"
            )
            if not found:
                return
            self.locate(source.id, found)

    def locate(self, source_id: str, new_path: str | os.PathLike) -> bool:
        """Read a source of the project that was missing from ``new_path`` (with its settings); a change."""
        source = self.unloaded.get(source_id)
        if source is None:
            self._tell(f"The project has no missing data file called {source_id!r}.")
            return False
        new_path = Path(new_path)
        if not new_path.is_file():
            self._tell(f"{new_path.name} is not there either: choose the file itself.")
            return False
        located = msgspec.structs.replace(source, path=str(new_path.resolve()))
        del self.unloaded[source_id]
        self.pending[source_id] = located
        self.mark_changed()
        self.window.open_sources([located])
        return True

    # ------------------------------------------------------------ save
    def save(self, path: str | os.PathLike | None = None) -> bool:
        """Write the project (to ``path``, else its own file, else ask where); False when not saved."""
        if path is None and self.path is None:
            return self.save_as()
        target = Path(path) if path is not None else self.path
        assert target is not None
        try:
            written = write_project(self.current_project(), target)
        except CityTwinError as exc:
            self._tell(str(exc))
            return False
        self.path = written.resolve()
        self.scene.undo_stack.set_clean()
        self._structure_changed = False
        self._changes = 0
        discard_recovery(self.recovery_file)
        self.window._add_recent(self.path)
        self.update_title()
        msg = f"Saved {written.name}."
        left = unsaved_layers(self.scene, [*self.pending.values(), *self.unloaded.values()])
        if left:
            names = ", ".join(layer.name for layer in left[:3])
            msg += f" Not in the project, as it was made in citytwin: {names} (save it as a mesh to keep it)."
        self.window.statusBar().showMessage(msg, 8000)
        self.saved.emit(str(self.path))
        return True

    def save_as(self, path: str | os.PathLike | None = None) -> bool:
        """Write the project to a new file (asked for when ``path`` is ``None``)."""
        if path is None:
            from citytwin.ui.main_window import settings

            start = Path(str(settings().value("last_dir", str(Path.home()))))
            suggested = self.path if self.path is not None else start / f"{UNTITLED}{PROJECT_SUFFIX}"
            chosen, _ = QFileDialog.getSaveFileName(self.window, "Save project as", str(suggested), PROJECT_FILTER)
            if not chosen:
                return False
            settings().setValue("last_dir", str(Path(chosen).parent))
            path = chosen
        return self.save(path)

    # ------------------------------------------------------------ autosave, recovery
    @property
    def autosave_interval(self) -> float:
        """Seconds between autosaves (settable; tests make it short)."""
        return self._autosave_timer.interval() / 1000

    @autosave_interval.setter
    def autosave_interval(self, seconds: float) -> None:
        self._autosave_timer.setInterval(max(int(seconds * 1000), 1))

    def autosave(self) -> bool:
        """Write a recovery copy when there are unsaved changes; whether one was written."""
        if not self.is_modified:
            return False
        try:
            write_recovery(self.current_project(), self.recovery_file, self.path)
        except CityTwinError as exc:
            if not self._error_shown:  # once: a full disk must not nag every three minutes
                self._error_shown = True
                self.window.statusBar().showMessage(f"Autosave failed: {exc}", 15000)
            return False
        return True

    def check_recovery(self) -> bool:
        """Offer to recover the work a crashed citytwin left (the newest copy); whether it was recovered."""
        found = find_recoveries(in_use=_LIVE)
        if not found:
            return False
        copy = found[0]
        try:
            project, original = read_recovery(copy)
        except CityTwinError as exc:
            discard_recovery(copy)
            self.window.statusBar().showMessage(f"A recovery copy could not be read and was removed: {exc}", 15000)
            return False
        what = f"the unsaved changes to {original.stem}" if original is not None else "unsaved work"
        when = time.strftime("%d %b %Y, %H:%M", time.localtime(copy.stat().st_mtime))
        answer = self._ask(
            "recover",
            f"citytwin did not close properly last time; a copy of {what} from {when} was kept "
            "(the work, not its undo history). Recover it?",
            Button.Yes | Button.No,
            Button.Yes,
            {Button.Yes: "Recover", Button.No: "Discard"},
        )
        if answer != Button.Yes:
            discard_recovery(copy)
            return False
        self.load(project, original, modified=True)
        try:  # this window's copy now: kept until the work is saved or closed cleanly
            self.recovery_file.parent.mkdir(parents=True, exist_ok=True)
            os.replace(copy, self.recovery_file)
        except OSError:
            discard_recovery(copy)
        return True

    def shutdown(self) -> None:
        """A clean close: the recovery copy goes."""
        self._opening = None
        self._autosave_timer.stop()
        self._autosave_soon.stop()
        self.scene.undo_stack.changed.disconnect(self._on_stack_changed)
        discard_recovery(self.recovery_file)
        _LIVE.discard(os.path.abspath(self.recovery_file))
