"""The main window: menus, toolbar, docks, status bar, loading files."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolButton,
    QWidget,
)

from citytwin.model.layers import CityModelLayer
from citytwin.model.pointcloud import PointCloud, PointCloudLayer
from citytwin.model.scene import Scene
from citytwin.ui.coordinates import format_position, to_source
from citytwin.ui.inspector import Inspector
from citytwin.ui.layer_panel import LayerPanel
from citytwin.ui.project_session import ProjectSession, is_project_file
from citytwin.ui.search_panel import SearchPanel
from citytwin.ui.selection import SelectionTracker, select, selectable_object
from citytwin.ui.workers import LoadWorker, TaskWorker

if TYPE_CHECKING:
    from citytwin.model.project import Source
    from citytwin.ui.viewport import Viewport

ORGANISATION = "citytwin"
APPLICATION = "citytwin"
MAX_RECENT = 10
#: share of the view a zoomed-to selection spans (the rest shows its surroundings)
ZOOM_SELECTION_FILL = 0.5
#: default widths of the side docks (pixels): the 3D view gets the rest
LAYERS_DOCK_WIDTH = 270
INSPECTOR_DOCK_WIDTH = 300
FILE_FILTER = (
    "All supported files (*.citytwin *.gml *.citygml *.xml *.json *.cityjson *.jsonl *.las *.laz"
    " *.obj *.ply *.stl *.off *.glb *.gltf);;"
    "citytwin projects (*.citytwin);;"
    "City models (*.gml *.citygml *.xml *.json *.cityjson *.city.json *.jsonl *.city.jsonl);;"
    "CityGML (*.gml *.citygml *.xml);;CityJSON (*.json *.cityjson *.jsonl);;"
    "Point clouds (*.las *.laz *.copc.laz);;Meshes (*.obj *.ply *.stl *.off *.glb *.gltf);;All files (*)"
)
TERRAIN_FILTER = "PLY mesh (*.ply);;Wavefront OBJ (*.obj);;glTF binary (*.glb)"
#: points kept per point-cloud file unless the user says otherwise (Preferences)
DEFAULT_POINT_BUDGET = 5_000_000

#: menu label → (render.camera preset, elevation override)
PRESET_VIEWS = (
    ("Top", "top", None),
    ("North (oblique)", "north", 40.0),
    ("East (oblique)", "east", 40.0),
    ("South (oblique)", "south", 40.0),
    ("West (oblique)", "west", 40.0),
)


def settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


def point_budget() -> int:
    """The point budget of point-cloud loads (Preferences), from the settings."""
    try:
        value = int(settings().value("point_budget", DEFAULT_POINT_BUDGET))
    except (TypeError, ValueError):
        value = DEFAULT_POINT_BUDGET
    return max(value, 1000)


class LoadProgress(QWidget):
    """Status-bar widget: what is loading, a progress bar and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop loading (the scene stays as it was)")
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)


class _FileOpenFilter(QObject):
    """Hands the application's FileOpen events (macOS) to the window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.FileOpen:
            path = event.file() or (event.url().toLocalFile() if event.url().isLocalFile() else "")
            if path:
                self.window.open_from_system(path)
                return True
        return False


class MainWindow(QMainWindow):
    """The desktop viewer.

    Signals
    -------
    load_finished(path, ok)
        A load ended: ``ok`` is False when it failed or was cancelled.
    first_frame(seconds)
        The first frame showing a model was drawn (seconds since the window was created).
    """

    load_finished = Signal(str, bool)
    first_frame = Signal(float)

    def __init__(
        self, scene: Scene | None = None, parent: QWidget | None = None, paths: list[str] | None = None
    ) -> None:
        super().__init__(parent)
        self._t0 = time.perf_counter()
        self.first_frame_seconds: float | None = None
        self.scene = scene if scene is not None else Scene()
        self.setWindowTitle("citytwin")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        # macOS hands the running app the files a user opens from Finder as FileOpen events
        self._file_opener = _FileOpenFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._file_opener)

        # Start reading first: the reader runs while VTK and pyvista are imported below.
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        #: files waiting to be read, each with its placement ``(crs, offset)`` or ``None``, and its project
        #: source (``None``: a file the user opened, which becomes a source of the project when read)
        self._queue: deque[tuple[Path, tuple[str | None, tuple[float, ...] | None] | None, Source | None]] = deque()
        self._worker: LoadWorker | None = None
        self._loading_path: Path | None = None
        self._closed = False
        self._tasks: list[TaskWorker] = []
        self.task_pool = QThreadPool(self)  # computations do not wait behind loads
        self.task_pool.setMaxThreadCount(1)
        self.viewport: Viewport | None = None
        self._build_status_bar()
        #: the project file behind the scene: title, unsaved changes, save, open, autosave and recovery
        self.session = ProjectSession(self)
        if paths:
            self.open_files(paths)

        from citytwin.ui.viewport import Viewport  # noqa: F811 - imported late: VTK loads while the file is read

        self.viewport = Viewport(self.scene, self)
        self.setCentralWidget(self.viewport)
        self.layer_panel = LayerPanel(self.scene)
        self.inspector = Inspector()
        self.search_panel = SearchPanel(self.scene)
        self.layers_dock = self._dock("Layers", self.layer_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.search_dock = self._dock("Search", self.search_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.selection = SelectionTracker(self.scene, self)
        self.selection.changed.connect(self._on_selection_changed)

        self._build_actions()
        self.viewport.picked.connect(self._on_picked)
        self.viewport.point_picked.connect(self._on_point_picked)
        self.layer_panel.make_terrain_requested.connect(self.make_terrain)
        self.layer_panel.save_terrain_requested.connect(self.save_terrain)
        self.viewport.hovered.connect(self._on_hovered)
        self.viewport.stats_changed.connect(self._schedule_counts)
        self.layer_panel.zoom_requested.connect(self.zoom_to_layer)
        self.search_panel.activated.connect(self.fly_and_select)
        self.scene.undo_stack.changed.connect(self._update_undo_actions)
        self.scene.layers.events.removed.connect(self._on_layer_removed)
        from citytwin.ui.bookmarks_panel import install_bookmarks
        from citytwin.ui.measure_tool import install_measurements

        install_bookmarks(self)
        install_measurements(self)
        from citytwin.ui.annotations_panel import install_annotations

        install_annotations(self)
        from citytwin.ui.tours_panel import install_tours

        install_tours(self)
        from citytwin.ui.export_dialogs import install_export
        from citytwin.ui.presenter import install_presenter

        install_export(self)
        install_presenter(self)
        from citytwin.ui.looks_menu import install_looks

        install_looks(self)
        from citytwin.ui.sun_hours_panel import install_sun_hours

        install_sun_hours(self)
        from citytwin.ui.editor import install_editor
        from citytwin.ui.scenarios_panel import install_scenarios

        install_editor(self)
        install_scenarios(self)
        from citytwin.ui.compare_view import install_compare

        install_compare(self)
        self._update_undo_actions()
        self._update_counts()
        self._restore_state()

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # --------------------------------------------------------------- actions
    def _action(self, text: str, slot, shortcut=None, tip: str | None = None) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        act.triggered.connect(lambda *_: slot())
        return act

    def _build_actions(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.new_project_action = self._action(
            "&New Project", self.new_project, QKeySequence.StandardKey.New, "Start an empty project"
        )
        file_menu.addAction(self.new_project_action)
        self.open_action = self._action(
            "&Open…",
            self.open_dialog,
            QKeySequence.StandardKey.Open,
            "Open a project (.citytwin) or data files (CityGML, CityJSON, LiDAR, meshes)",
        )
        file_menu.addAction(self.open_action)
        self.open_placed_action = self._action(
            "Open Mesh with &Placement…",
            self.open_placement_dialog,
            tip="Open a mesh in local coordinates, placed by a CRS and an offset",
        )
        file_menu.addAction(self.open_placed_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.sample_action = self._action("Open &Sample District", self.open_sample)
        file_menu.addAction(self.sample_action)
        file_menu.addSeparator()
        self.save_action = self._action(
            "&Save", self.save_project, QKeySequence("Ctrl+S"), "Save the project: files, layer settings, view, pins"
        )
        self.save_as_action = self._action(
            "Save &As…", self.save_project_as, QKeySequence("Ctrl+Shift+S"), "Save the project to a new file"
        )
        self.locate_action = self._action(
            "&Locate Missing Data…", self.session.locate_missing, tip="Find data files of the project that moved"
        )
        self.locate_action.setEnabled(False)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addAction(self.locate_action)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", self.close, QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(self.quit_action)

        edit_menu = mb.addMenu("&Edit")
        self.undo_action = self._action("&Undo", self.scene.undo_stack.undo, QKeySequence("Ctrl+Z"))
        self.redo_action = self._action("&Redo", self.scene.undo_stack.redo, QKeySequence("Ctrl+Shift+Z"))
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        self.clear_selection_action = self._action(
            "Clear Selection", lambda: select(self.scene, None, ()), QKeySequence("Escape")
        )
        edit_menu.addAction(self.clear_selection_action)
        edit_menu.addSeparator()
        self.preferences_action = self._action(
            "&Preferences…", self.show_preferences, QKeySequence.StandardKey.Preferences
        )
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        edit_menu.addAction(self.preferences_action)

        view_menu = mb.addMenu("&View")
        self.reset_action = self._action(
            "&Reset View", self.viewport.reset_view, QKeySequence("Home"), "Show everything"
        )
        view_menu.addAction(self.reset_action)
        presets = view_menu.addMenu("&Look From")
        self.preset_actions: dict[str, QAction] = {}
        for i, (label, name, elevation) in enumerate(PRESET_VIEWS):
            act = self._action(label, lambda n=name, e=elevation: self.view_preset(n, e), QKeySequence(f"Ctrl+{i + 1}"))
            presets.addAction(act)
            self.preset_actions[name] = act
        view_menu.addSeparator()
        self.zoom_layer_action = self._action("Zoom to &Layer", lambda: self.zoom_to_layer(None))
        self.zoom_selection_action = self._action("Zoom to &Selection", self.zoom_to_selection, QKeySequence("F"))
        view_menu.addAction(self.zoom_layer_action)
        view_menu.addAction(self.zoom_selection_action)
        view_menu.addSeparator()
        self.fullscreen_action = self._action("&Full Screen", self.toggle_fullscreen, QKeySequence("F11"))
        self.fullscreen_action.setCheckable(True)
        view_menu.addAction(self.fullscreen_action)
        view_menu.addSeparator()
        for dock in (self.layers_dock, self.search_dock, self.inspector_dock):
            view_menu.addAction(dock.toggleViewAction())

        tools_menu = mb.addMenu("&Tools")
        self.make_terrain_action = self._action(
            "Make &Terrain…", self.make_terrain, tip="Make a terrain mesh (DTM) from the ground points of a point cloud"
        )
        self.save_terrain_action = self._action(
            "&Save Terrain As…", self.save_terrain, tip="Save a terrain layer as a PLY, OBJ or glTF mesh"
        )
        tools_menu.addAction(self.make_terrain_action)
        tools_menu.addAction(self.save_terrain_action)

        help_menu = mb.addMenu("&Help")
        self.about_action = self._action("&About citytwin", self._about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.about_action)

        tb = self.addToolBar("Main")
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        for act in (self.open_action, self.save_action, self.undo_action, self.redo_action):
            tb.addAction(act)
        tb.addSeparator()
        tb.addAction(self.reset_action)
        tb.addAction(self.preset_actions["top"])
        tb.addAction(self.zoom_selection_action)

    def _about(self) -> None:
        from citytwin.ui.about import show_about

        show_about(self)

    def _update_undo_actions(self) -> None:
        st = self.scene.undo_stack
        self.undo_action.setEnabled(st.can_undo)
        self.redo_action.setEnabled(st.can_redo)
        self.undo_action.setToolTip(f"Undo {st.undo_text}".rstrip())
        self.redo_action.setToolTip(f"Redo {st.redo_text}".rstrip())
        self.undo_action.setStatusTip(self.undo_action.toolTip())
        self.redo_action.setStatusTip(self.redo_action.toolTip())

    # ------------------------------------------------------------ status bar
    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.coords_label = QLabel("")
        self.coords_label.setMinimumWidth(260)
        self.coords_label.setToolTip("Point under the mouse, in the coordinates of the file")
        self.crs_label = QLabel("")
        self.counts_label = QLabel("")
        self.progress = LoadProgress()
        self.progress.cancel_button.clicked.connect(self.cancel_loading)
        self.progress.hide()
        self.task_progress = LoadProgress()
        self.task_progress.bar.setRange(0, 0)  # busy: the computation reports no steps
        self.task_progress.cancel_button.setToolTip("Stop waiting for the result")
        self.task_progress.cancel_button.clicked.connect(self.cancel_tasks)
        self.task_progress.hide()
        sb.addPermanentWidget(self.task_progress)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.coords_label)
        sb.addPermanentWidget(self.crs_label)
        sb.addPermanentWidget(self.counts_label)
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(50)
        self._counts_timer.timeout.connect(self._update_counts)

    def _on_hovered(self, world) -> None:
        if world is None:
            self.coords_label.setText("")
            return
        self.coords_label.setText(self.format_world(world))

    def format_world(self, world) -> str:
        """A point of the display CRS as text in the CRS of the file (degrees for latitude/longitude)."""
        return format_position(to_source(world, self.scene), self.scene.crs)

    def _schedule_counts(self) -> None:
        self._counts_timer.start()

    def _update_counts(self) -> None:
        crs = self.scene.crs
        if crs is None:
            crs = next((layer.crs for layer in self.scene.layers if getattr(layer, "crs", None) is not None), None)
        if crs is None:
            self.crs_label.setText("")
        else:
            text = str(crs)
            name = crs.name if crs.name and crs.epsg is None else None
            self.crs_label.setText(name or text)
            tip = crs.name or text
            shown = self.scene.display_crs
            if shown is not None and shown.epsg is not None and shown.epsg != crs.epsg:
                tip += f" (drawn in {shown.code}; the status bar shows the file's coordinates)"
            self.crs_label.setToolTip(tip)
        if self.viewport is None:
            return
        n_obj, n_tri = self.viewport.shown_counts()
        parts = []
        if any(isinstance(layer, CityModelLayer) for layer in self.scene.layers):
            parts.append(f"{n_obj:,} objects · {n_tri:,} triangles")
        if any(isinstance(layer, PointCloudLayer) for layer in self.scene.layers):
            parts.append(f"{self.viewport.shown_points():,} points")
        self.counts_label.setText(" · ".join(parts))

    # ------------------------------------------------------------- loading
    def open_dialog(self) -> None:
        start = settings().value("last_dir", str(Path.home()))
        paths, _ = QFileDialog.getOpenFileNames(self, "Open a project or data files", str(start), FILE_FILTER)
        if paths:
            settings().setValue("last_dir", str(Path(paths[0]).parent))
            self.open_files(paths)

    def open_sample(self) -> None:
        try:
            from citytwin.sample import sample_path
        except ImportError:
            self._error("The sample district is not available in this installation.")
            return
        path = sample_path()
        if not path.exists():
            self._error("The sample district file is missing from this installation.")
            return
        self.open_files([path])

    def open_files(self, paths) -> None:
        """Queue files to open, one after the other, off the GUI thread.

        A ``.citytwin`` project among them replaces the scene first (after asking
        about unsaved changes); the data files then join it.
        """
        paths = [Path(p) for p in paths]
        projects = [p for p in paths if is_project_file(p)]
        if projects:
            if not self.open_project(projects[0]):
                return
            if len(projects) > 1:
                self.statusBar().showMessage(f"Opened {projects[0].name}; one project at a time.", 8000)
        for p in paths:
            if not is_project_file(p):
                self._queue.append((p, None, None))
        self._start_next()

    def open_sources(self, sources: list[Source]) -> None:
        """Queue a project's data files, each read as its source says (the session's side of opening)."""
        for source in sources:
            self._queue.append((Path(source.path), None, source))
        self._start_next()

    # ------------------------------------------------------------- project
    def new_project(self) -> bool:
        """File → New Project: an empty scene (after asking about unsaved changes)."""
        return self.session.new()

    def open_project(self, path) -> bool:
        """Open a ``.citytwin`` project; False when it could not be read (one sentence told) or the user cancelled."""
        return self.session.open(path)

    def save_project(self, path=None) -> bool:
        """File → Save: to ``path``, else the project's file, else ask where (Save As)."""
        return self.session.save(path)

    def save_project_as(self, path=None) -> bool:
        """File → Save As: ask where (or write to ``path``)."""
        return self.session.save_as(path)

    def locate_source(self, source_id: str, new_path) -> bool:
        """Read a project's missing data file from where it is now (its settings kept)."""
        return self.session.locate(source_id, new_path)

    def open_placement_dialog(self) -> None:
        """File → Open Mesh with Placement: pick a mesh, then ask for its CRS and offset."""
        from citytwin.ui.placement_dialog import MESH_FILTER, PlacementDialog

        start = settings().value("last_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Open mesh with placement", str(start), MESH_FILTER)
        if not path:
            return
        settings().setValue("last_dir", str(Path(path).parent))
        crs, offset = self.last_placement()
        dialog = PlacementDialog(path, crs or "", offset, self)
        try:
            if dialog.exec():
                self.open_with_placement(path, dialog.crs, dialog.offset, save_sidecar=dialog.save_sidecar)
        finally:
            dialog.deleteLater()

    @staticmethod
    def last_placement() -> tuple[str | None, tuple[float, float, float]]:
        """The CRS and offset last used to place a mesh (from the settings)."""
        s = settings()
        crs = s.value("placement/crs", "") or None
        value = s.value("placement/offset", [0.0, 0.0, 0.0])
        if isinstance(value, str):
            value = [value]
        try:
            offset = tuple(float(v) for v in (value or []))
        except (TypeError, ValueError):
            offset = ()
        if len(offset) != 3 or not all(np.isfinite(offset)):
            offset = (0.0, 0.0, 0.0)
        return (str(crs) if crs else None), offset  # type: ignore[return-value]

    def open_with_placement(self, path, crs: str | None, offset=None, save_sidecar: bool = False) -> bool:
        """Open a mesh in local coordinates placed in ``crs`` with ``offset`` added to every vertex.

        An invalid CRS is told in one sentence and nothing opens. With ``save_sidecar`` the
        placement is also written to ``<file>.crs.json`` (an existing one only after asking).
        Returns whether the file was queued.
        """
        from citytwin.ui.placement_dialog import crs_error, normalise_crs, sidecar_path, write_sidecar

        error = crs_error(crs)
        if error is not None:
            self._error(error)
            return False
        crs = normalise_crs(crs)
        if offset is not None:
            offset = tuple(float(v) for v in offset)
            if len(offset) == 2:
                offset = (*offset, 0.0)
            if len(offset) != 3 or not all(np.isfinite(offset)):
                self._error(f"The offset {offset!r} is not three finite numbers x, y, z.")
                return False
        s = settings()
        s.setValue("placement/crs", crs or "")
        s.setValue("placement/offset", list(offset or (0.0, 0.0, 0.0)))
        path = Path(path)
        if save_sidecar:
            target = sidecar_path(path)
            write = True
            if target.exists():
                answer = QMessageBox.question(
                    self,
                    "citytwin",
                    f"{target.name} already exists. Replace it with this placement?",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.No,
                )
                write = answer == QMessageBox.StandardButton.Yes
            if write:
                try:
                    write_sidecar(path, crs, offset or (0.0, 0.0, 0.0))
                except OSError as exc:
                    self._error(f"The placement could not be saved as {target.name} ({exc.strerror or exc}).")
        self._queue.append((path, (crs, offset), None))
        self._start_next()
        return True

    @property
    def is_loading(self) -> bool:
        return self._worker is not None or bool(self._queue)

    def _start_next(self) -> None:
        if self._worker is not None or not self._queue:
            return
        path, placement, source = self._queue.popleft()
        from citytwin.io.options import LoadOptions

        if source is not None:
            from dataclasses import replace

            from citytwin.io.project import load_options

            options = load_options(source)
            if source.load.point_budget is None:  # saved without one: the user's preference now
                options = replace(options, point_budget=point_budget())
        else:
            crs, offset = placement if placement is not None else (None, None)
            options = LoadOptions(point_budget=point_budget(), crs=crs, offset=offset)
        worker = LoadWorker(path, options)
        worker.source = source  # type: ignore[attr-defined]
        self._worker = worker
        self._loading_path = path
        sig = worker.signals
        sig.progress.connect(self._on_progress)
        sig.loaded.connect(self._on_loaded)
        sig.failed.connect(self._on_failed)
        sig.cancelled.connect(self._on_cancelled)
        more = f" (+{len(self._queue)} more)" if self._queue else ""
        self.progress.label.setText(f"Opening {path.name}{more}…")
        self.progress.bar.setRange(0, 0)
        self.progress.cancel_button.setEnabled(True)
        self.progress.show()
        self.pool.start(worker)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.bar.setRange(0, 1000)
            self.progress.bar.setValue(int(1000 * done / total))
            self.progress.bar.setFormat(f"{done / 1e6:.1f} / {total / 1e6:.1f} MB" if total > 1e6 else "%p%")

    def cancel_loading(self) -> None:
        """Stop the running load and drop the queued ones."""
        dropped = [source for _, _, source in self._queue if source is not None]
        self._queue.clear()
        for source in dropped:
            self.session.source_finished(source, False)
        if self._worker is not None:
            self._worker.cancel()
            self.progress.label.setText("Cancelling…")
            self.progress.cancel_button.setEnabled(False)

    def _finish_worker(self, worker: LoadWorker, ok: bool) -> None:
        source = getattr(worker, "source", None)
        if source is not None:
            self.session.source_finished(source, ok)
        if worker is self._worker:
            self._worker = None
            self._loading_path = None
        if self._worker is None and not self._queue:
            self.progress.hide()
        self.load_finished.emit(str(worker.path), ok)
        self._start_next()

    def _on_loaded(self, worker: LoadWorker, model) -> None:
        if self._closed:
            return
        if worker.is_cancelled:
            self._on_cancelled(worker)
            return
        from citytwin.errors import CityTwinError

        layer = self._layer_for(worker.path, model)
        if layer is None:
            detail = f" ({model.warnings[0].rstrip('.')})" if getattr(model, "warnings", None) else ""
            what = "points" if isinstance(model, PointCloud) else "city objects"
            self._finish_worker(worker, False)
            self._error(f"{worker.path.name}: no {what} could be read from this file{detail}.")
            return
        source = getattr(worker, "source", None)
        warnings = list(getattr(model, "warnings", None) or [])
        if source is not None:  # a project's file: named and shown as the project says
            import msgspec

            from citytwin.model.project_scene import apply_layer_settings

            layer.source = msgspec.structs.replace(source, layer=None)
            layer.name = source.display_name
            warnings = apply_layer_settings(layer, source.layer) + warnings
        else:
            from citytwin.io.project import load_settings
            from citytwin.model.project_scene import new_source

            layer.source = new_source(
                self.scene, worker.path, load_settings(worker.options), taken=self.session.taken_ids()
            )
        try:
            # Opening a file is not an undo step; removing a layer is.
            self.scene.add_layer(layer, undoable=False)
        except CityTwinError as exc:
            self._error(str(exc))
            self._finish_worker(worker, False)
            return
        if source is None:
            self._add_recent(worker.path)
            self.session.file_added()
        secs = f" in {worker.seconds:.1f} s" if worker.seconds is not None else ""
        msg = f"Opened {worker.path.name}{secs}."
        if warnings:
            msg += f" {len(warnings)} warning{'s' if len(warnings) != 1 else ''}: {warnings[0]}"
        self.statusBar().showMessage(msg, 8000)
        self._update_counts()
        if self.first_frame_seconds is None:
            self._watch_first_frame()
        self._finish_worker(worker, True)

    @staticmethod
    def _layer_for(path: Path, model) -> CityModelLayer | PointCloudLayer | None:
        """The layer kind that shows what a reader returned (``None`` when there is nothing to show)."""
        from citytwin.render.scene_view import default_layer

        # textured / painted models start showing their appearance (not an undo step: part of opening)
        return default_layer(path.name, model)

    def _on_failed(self, worker: LoadWorker, message: str) -> None:
        self._finish_worker(worker, False)
        if not self._closed:
            self._error(message)

    def _on_cancelled(self, worker: LoadWorker) -> None:
        self.statusBar().showMessage(f"Stopped opening {worker.path.name}.", 5000)
        self._finish_worker(worker, False)

    def _error(self, message: str) -> None:
        """Tell the user what went wrong, in one sentence."""
        QMessageBox.warning(self, "citytwin", " ".join(message.split()))

    def _watch_first_frame(self) -> None:
        ren = self.viewport.renderer

        def on_end(*_):
            ren.RemoveObserver(self._first_frame_tag)
            self.first_frame_seconds = time.perf_counter() - self._t0
            self.first_frame.emit(self.first_frame_seconds)

        self._first_frame_tag = ren.AddObserver("EndEvent", on_end)

    # ------------------------------------------------------------- recent
    def recent_files(self) -> list[str]:
        value = settings().value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        p = str(Path(path).resolve())
        files = [f for f in self.recent_files() if f != p]
        files.insert(0, p)
        settings().setValue("recent_files", files[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        if not files:
            act = self.recent_menu.addAction("No recent files")
            act.setEnabled(False)
            return
        for f in files:
            act = self.recent_menu.addAction(Path(f).name)
            act.setToolTip(f)
            act.setStatusTip(f)
            act.triggered.connect(lambda *_, f=f: self.open_files([f]))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear Menu").triggered.connect(lambda *_: settings().setValue("recent_files", []))

    # ------------------------------------------------------------- selection
    def _on_selection_changed(self, layer, index: int) -> None:
        if layer is not None:
            self.viewport.highlight_point(None, -1)
        if layer is not None or self.inspector.point is None:
            self.inspector.show_object(layer, index)

    def _on_layer_removed(self, index: int, layer) -> None:
        if self.inspector.point is not None and self.inspector.layer is layer:
            self.inspector.show_object(None, -1)

    def _click_on_pin(self, hit: bool) -> bool:
        """Whether a click in the view fell on a pin's marker or label (the pin is then selected, nothing else)."""
        annotations = getattr(self, "annotations", None)
        if annotations is None or not annotations.view_clicked(hit):
            return False
        self.viewport.highlight_point(None, -1)
        if self.inspector.point is not None:
            self.inspector.show_object(None, -1)
        select(self.scene, None, ())
        return True

    def _on_point_picked(self, layer: PointCloudLayer, hit) -> None:
        """A click on a point: its card in the inspector (coordinates in the file's CRS) and a mark."""
        if self._click_on_pin(True):
            return
        select(self.scene, None, ())
        self.viewport.highlight_point(layer, int(hit.index))
        cloud = layer.cloud
        source = cloud.point(int(hit.index)) if cloud is not None else hit.coordinates
        self.inspector.show_point(layer, hit, format_position(source, layer.crs))

    def _on_picked(self, layer, index: int) -> None:
        if self._click_on_pin(layer is not None):
            return
        self.viewport.highlight_point(None, -1)
        if self.inspector.point is not None:
            self.inspector.show_object(None, -1)
        if layer is None or index < 0:
            select(self.scene, None, ())
            return
        select(self.scene, layer, (selectable_object(layer, index),))

    def fly_and_select(self, layer: CityModelLayer, indices) -> None:
        """Select objects and frame them (search results)."""
        select(self.scene, layer, tuple(indices))
        self.zoom_to_selection()

    def selection_world_bounds(self) -> np.ndarray | None:
        from citytwin.ui.object_stats import object_bounds

        boxes = []
        for layer in self.scene.selectable_layers():
            if layer.selection and layer.model is not None:
                vis = self.viewport.visual(layer)
                moved = getattr(vis, "moved_object_bounds", None)
                roots = layer.model.objects.roots
                for i in layer.selection[:5000]:
                    # a building the scenario moved is framed where it is drawn, not where the data has it
                    b = moved(int(roots[int(i)])) if moved is not None else None
                    b = b if b is not None else object_bounds(layer.display_model, int(i), layer.lod)
                    if b is not None:
                        boxes.append(b)
        if not boxes:
            return None
        arr = np.stack(boxes)
        return np.concatenate([arr[:, :3].min(axis=0), arr[:, 3:].max(axis=0)])

    def zoom_to_selection(self) -> None:
        b = self.selection_world_bounds()
        if b is not None:
            self.viewport.fit_world_bounds(b, fill=ZOOM_SELECTION_FILL)

    def zoom_to_layer(self, layer=None) -> None:
        layer = layer or self.layer_panel.current_layer or (self.scene.layers[-1] if len(self.scene.layers) else None)
        vis = self.viewport.visual(layer) if layer is not None else None
        if vis is not None:
            self.viewport.fit_bounds(vis.bounds(), points=vis.fit_points())

    def view_preset(self, name: str, elevation: float | None = None) -> None:
        self.viewport.view_preset(name, elevation=elevation)

    # ------------------------------------------------------------- terrain
    def _point_cloud_layer(self) -> PointCloudLayer | None:
        """The current layer when it is a point cloud, else the only point-cloud layer."""
        current = self.layer_panel.current_layer
        if isinstance(current, PointCloudLayer):
            return current
        clouds = [layer for layer in self.scene.layers if isinstance(layer, PointCloudLayer)]
        return clouds[0] if len(clouds) == 1 else None

    def make_terrain(self, layer: PointCloudLayer | None = None, resolution: float | None = None) -> TaskWorker | None:
        """Make a terrain mesh from the ground points of a point-cloud layer, off the GUI thread.

        Asks for the grid resolution when ``resolution`` is not given. The terrain arrives as a
        new layer "Terrain from <file>" (an undoable step); returns the running worker.
        """
        from PySide6.QtWidgets import QInputDialog

        layer = layer if isinstance(layer, PointCloudLayer) else self._point_cloud_layer()
        if layer is None or layer.cloud is None:
            self._error("Select a point-cloud layer first: the terrain is made from its ground points.")
            return None
        if resolution is None:
            last = float(settings().value("terrain_resolution", 1.0))
            prompt = f"Grid spacing of the terrain made from {layer.name} (metres):"
            value, ok = QInputDialog.getDouble(self, "Make terrain", prompt, last, 0.1, 100.0, 2)
            if not ok:
                return None
            resolution = value
            settings().setValue("terrain_resolution", float(value))
        from citytwin.model.terrain import make_dtm

        worker = TaskWorker(make_dtm, layer.cloud, float(resolution), description="Making the terrain")
        worker.source_layer = layer  # type: ignore[attr-defined]
        worker.resolution = float(resolution)  # type: ignore[attr-defined]
        worker.signals.finished.connect(self._on_terrain_made)
        worker.signals.failed.connect(self._on_task_failed)
        self.start_task(worker, f"Making terrain from {layer.name}…")
        return worker

    def start_task(self, worker: TaskWorker, label: str) -> None:
        """Run a computation in the task pool, with the status bar's busy bar (``label``) and Cancel."""
        self._tasks.append(worker)
        self.task_progress.label.setText(label)
        self.task_progress.cancel_button.setEnabled(True)
        self.task_progress.show()
        self.task_pool.start(worker)

    @property
    def is_busy(self) -> bool:
        """Whether a computation (terrain) is running."""
        return bool(self._tasks)

    def cancel_tasks(self) -> None:
        """Stop waiting for running computations: their results are dropped when they arrive."""
        for worker in self._tasks:
            worker.cancelled = True
        self.task_progress.label.setText("Cancelling…")
        self.task_progress.cancel_button.setEnabled(False)

    def _end_task(self, worker: TaskWorker) -> bool:
        """Forget a finished worker; whether its result is still wanted."""
        if worker in self._tasks:
            self._tasks.remove(worker)
        if not self._tasks:
            self.task_progress.hide()
        return not (worker.cancelled or self._closed)

    def _on_terrain_made(self, worker: TaskWorker, model) -> None:
        if not self._end_task(worker):
            return
        from citytwin.errors import CityTwinError

        source = worker.source_layer  # type: ignore[attr-defined]
        layer = CityModelLayer(name=f"Terrain from {source.name}", model=model, colour_mode="elevation")
        if source.source is not None:  # a project keeps how it was made, and makes it again on open
            from citytwin.model.project_scene import new_derived

            taken = self.session.taken_derived_ids()
            resolution = worker.resolution  # type: ignore[attr-defined]
            layer.derived = new_derived(self.scene, source.source.id, taken, resolution=resolution)
        try:
            self.scene.add_layer(layer)  # undoable: Undo removes the terrain
        except CityTwinError as exc:
            self._error(str(exc))
            return
        n = model.mesh.n_triangles
        secs = f" in {worker.seconds:.1f} s" if worker.seconds is not None else ""
        msg = f"Made {layer.name}: {n:,} triangles{secs}."
        if model.warnings:
            msg += f" {model.warnings[0]}"
        self.statusBar().showMessage(msg, 8000)
        self.layer_panel.set_current_layer(layer)

    def _on_task_failed(self, worker: TaskWorker, message: str) -> None:
        if self._end_task(worker):
            self._error(message)

    def _terrain_layer(self) -> CityModelLayer | None:
        """The current layer when it is a terrain, else the last terrain made, else the current mesh layer."""

        def is_terrain(layer) -> bool:
            return isinstance(layer, CityModelLayer) and layer.model is not None and layer.model.format == "DTM"

        current = self.layer_panel.current_layer
        if is_terrain(current):
            return current
        terrains = [layer for layer in self.scene.layers if is_terrain(layer)]
        if terrains:
            return terrains[-1]
        if isinstance(current, CityModelLayer) and current.model is not None and current.model.mesh.n_triangles:
            return current
        return None

    def save_terrain(self, layer: CityModelLayer | None = None, path: str | None = None) -> Path | None:
        """Save a terrain layer (the current one, else the last made) as PLY, OBJ or GLB."""
        from citytwin.errors import CityTwinError
        from citytwin.io.mesh_write import save_mesh

        layer = layer if isinstance(layer, CityModelLayer) else self._terrain_layer()
        if layer is None or layer.model is None:
            self._error("There is no terrain to save: make one from a point cloud first (Tools → Make Terrain).")
            return None
        if path is None:
            start = Path(str(settings().value("last_dir", str(Path.home()))))
            suggested = start / (Path(layer.name).stem.replace(" ", "_") + ".ply")
            path, _ = QFileDialog.getSaveFileName(self, "Save terrain as", str(suggested), TERRAIN_FILTER)
            if not path:
                return None
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".ply")
        try:
            written = save_mesh(layer.model, target)
        except CityTwinError as exc:
            self._error(str(exc))
            return None
        self.statusBar().showMessage(f"Saved {layer.name} as {written.name}.", 8000)
        return written

    # ------------------------------------------------------------- preferences
    def show_preferences(self) -> None:
        from citytwin.ui.preferences import PreferencesDialog

        dialog = PreferencesDialog(point_budget(), self)
        if dialog.exec():
            settings().setValue("point_budget", int(dialog.point_budget))

    # ------------------------------------------------------------- window
    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.fullscreen_action.setChecked(self.isFullScreen())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_files(paths)

    def open_from_system(self, path: str) -> None:
        """A file the desktop asks the running citytwin to open (macOS Finder, Dock): opened as a drop is,
        except while presenting, where nothing may change the show (the status bar says it was left)."""
        presenter = getattr(self, "presenter", None)
        if presenter is not None and presenter.active:
            self.statusBar().showMessage(f"Presenter mode is on: {Path(path).name} was not opened.", 8000)
            return
        self.raise_()
        self.activateWindow()
        self.open_files([path])

    def _restore_state(self) -> None:
        s = settings()
        geometry = s.value("window/geometry")
        state = s.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
            self.resizeDocks(
                [self.layers_dock, self.inspector_dock],
                [LAYERS_DOCK_WIDTH, INSPECTOR_DOCK_WIDTH],
                Qt.Orientation.Horizontal,
            )
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self._closed:
            super().closeEvent(event)
            return
        if not self.session.maybe_save():  # unsaved changes: Save, Discard or Cancel
            event.ignore()
            return
        self._closed = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._file_opener)
        self.session.shutdown()  # a clean close: no recovery copy is left
        self.cancel_loading()
        self.cancel_tasks()
        self.pool.waitForDone(5000)
        self.task_pool.waitForDone(30000)
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        self.selection.disconnect_scene()
        self.scene.layers.events.removed.disconnect(self._on_layer_removed)
        self.layer_panel.shutdown()
        self.viewport.shutdown()
        super().closeEvent(event)
