"""Bookmarks: named views with a thumbnail, and the numeric camera dialog.

View → Add Bookmark (Ctrl+B) saves the current camera as "View N" with a small
PNG of the view. The Bookmarks dock shows them as thumbnails: a click flies
there, a double-click on the name (or F2) renames, and the buttons update a
bookmark to the current view, reorder and delete. View → Camera… shows the
camera's position, focal point and field of view as numbers, applies typed
ones and saves them as a bookmark, so a view can be reproduced exactly.

Every change is a scene command (undoable); the dock follows
``scene.bookmarks`` through :class:`~citytwin.ui.item_list_model.ItemListModel`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QModelIndex,
    QObject,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QIcon, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.annotations import Bookmark, make_bookmark
from citytwin.model.camera import CameraState
from citytwin.model.crs import is_geographic, reproject
from citytwin.model.scene import Scene
from citytwin.ui.item_list_model import Column, ItemListModel
from citytwin.ui.item_panels import button_row, item_dock, tool_button

if TYPE_CHECKING:
    from citytwin.ui.viewport import Viewport

#: pixels of a bookmark's PNG thumbnail (16:9)
THUMBNAIL_SIZE = (192, 108)
#: how big the dock draws them
ICON_SIZE = QSize(160, 90)


# ---------------------------------------------------------------------------- camera helpers
def current_camera(viewport: Viewport) -> CameraState:
    """The view's camera now, in world coordinates (what the scene's camera holds)."""
    pose = viewport.current_pose()
    o = viewport.origin
    return CameraState(
        tuple(float(v) for v in np.asarray(pose.position, float) + o),
        tuple(float(v) for v in np.asarray(pose.focal_point, float) + o),
        tuple(float(v) for v in pose.view_up),
        float(pose.view_angle),
    )


def fly_to_camera(viewport: Viewport, camera: CameraState, animate: bool = True) -> None:
    """Move the view to a saved camera (animated unless ``animate`` is False)."""
    from citytwin.render.camera import CameraPose

    o = viewport.origin
    pose = CameraPose(
        np.asarray(camera.position, float) - o,
        np.asarray(camera.focal_point, float) - o,
        np.asarray(camera.view_up, float),
        float(camera.view_angle),
    )
    viewport.fly_to(pose, animate)


def thumbnail_png(image: np.ndarray, size: tuple[int, int] = THUMBNAIL_SIZE) -> bytes:
    """A small PNG of an ``(H, W, 3)`` uint8 image: the middle cut to the thumbnail's shape, scaled smoothly."""
    img = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    h, w = img.shape[:2]
    if h == 0 or w == 0:
        return b""
    tw, th = size
    # crop to the thumbnail's aspect ratio around the centre
    if w * th > h * tw:
        cw = max(1, round(h * tw / th))
        img = img[:, (w - cw) // 2 : (w - cw) // 2 + cw]
    else:
        ch = max(1, round(w * th / tw))
        img = img[(h - ch) // 2 : (h - ch) // 2 + ch]
    img = np.ascontiguousarray(img)
    qimg = QImage(img.data, img.shape[1], img.shape[0], 3 * img.shape[1], QImage.Format.Format_RGB888)
    small = qimg.scaled(tw, th, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    small.save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def grab_thumbnail(viewport: Viewport) -> bytes | None:
    """The view as a small PNG (``None`` when it cannot be read back)."""
    try:
        return thumbnail_png(viewport.grab_image()) or None
    except Exception:  # a window that cannot be read back (minimised, no GL context)
        return None


def next_view_name(bookmarks) -> str:
    """``"View N"``: the first number not yet used by a bookmark."""
    names = {b.name for b in bookmarks}
    n = len(bookmarks) + 1
    while f"View {n}" in names:
        n += 1
    return f"View {n}"


# ---------------------------------------------------------------------------- the dock
class ThumbnailList(QListView):
    """Thumbnails in rows; a dragged thumbnail lands before or after the one it is dropped on.

    (Qt's own drop position is above/below an item, which means nothing in a row of icons.)
    """

    def drop_slot(self, pos: QPoint) -> int:
        """The slot (0 … rows, counted before the move) a drop at a viewport position lands in."""
        index = self.indexAt(pos)
        if not index.isValid():
            return self.model().rowCount()
        rect = self.visualRect(index)
        return index.row() + (1 if pos.x() > rect.center().x() else 0)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        self._accept_own(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self._accept_own(event)  # the icon view's own check refuses drops between icons

    def _accept_own(self, event) -> None:
        if event.source() is self:
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        if event.source() is not self:
            event.ignore()
            return
        source = self.currentIndex().row()
        if source >= 0:
            self.model().moveRows(QModelIndex(), source, 1, QModelIndex(), self.drop_slot(event.position().toPoint()))
        event.setDropAction(Qt.DropAction.CopyAction)  # the list moved the row: the view must not remove it
        event.accept()
        self.setState(QAbstractItemView.State.NoState)
        self.viewport().update()


class BookmarksPanel(QWidget):
    """The Bookmarks dock: thumbnails with names.

    Signals
    -------
    flew(bookmark)
        The view started flying to a bookmark.
    """

    flew = Signal(object)

    def __init__(self, scene: Scene, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.viewport = viewport
        self._icons: dict[str, tuple[bytes | None, QIcon]] = {}
        self.model = ItemListModel(
            scene,
            scene.bookmarks,
            [Column("Name", lambda b: b.name, edit="name", icon=self._icon, tooltip=self._tooltip, required=True)],
            self,
        )
        self.view = ThumbnailList()
        self.view.setModel(self.model)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setIconSize(ICON_SIZE)
        self.view.setGridSize(QSize(ICON_SIZE.width() + 16, ICON_SIZE.height() + 34))
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setWrapping(True)
        self.view.setWordWrap(True)
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        # reorder by dragging: the model turns the drop into a scene.move_item (Static: no free icon placement)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.viewport().setAcceptDrops(True)
        self.view.setDropIndicatorShown(False)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.clicked.connect(self._on_clicked)
        self.view.setToolTip("Click a view to fly there; double-click its name (or F2) to rename it")

        self.placeholder = QLabel("No bookmarks yet.\nView → Add Bookmark (Ctrl+B) saves the current view.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: palette(mid);")

        button = tool_button
        self.add_button = button("Add", "Save the current view as a bookmark (Ctrl+B)", self.add_bookmark)
        self.update_button = button("Update", "Update the selected bookmark to the current view", self.update_current)
        self.up_button = button("▲", "Move the selected bookmark up", lambda: self.move_current(-1))
        self.down_button = button("▼", "Move the selected bookmark down", lambda: self.move_current(+1))
        self.delete_button = button("Delete", "Delete the selected bookmark (Del)", self.delete_current)
        buttons = button_row(
            (self.add_button, self.update_button, self.up_button, self.down_button, self.delete_button)
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.view, 1)

        sc = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(self.delete_current)
        for sig in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset, self.model.rowsMoved):
            sig.connect(self._update_state)
        self.view.selectionModel().selectionChanged.connect(self._update_state)
        self._update_state()

    def shutdown(self) -> None:
        """Stop following the scene (the window is closing)."""
        self.model.disconnect_items()

    # ------------------------------------------------------------------ display
    def _icon(self, bookmark: Bookmark) -> QIcon:
        cached = self._icons.get(bookmark.id)
        if cached is not None and cached[0] is bookmark.thumbnail:
            return cached[1]
        pix = QPixmap()
        if not bookmark.thumbnail or not pix.loadFromData(bookmark.thumbnail, "PNG"):
            pix = QPixmap(ICON_SIZE)
            pix.fill(Qt.GlobalColor.darkGray)
        icon = QIcon(pix)
        self._icons[bookmark.id] = (bookmark.thumbnail, icon)
        return icon

    @staticmethod
    def _tooltip(bookmark: Bookmark) -> str:
        c = bookmark.camera
        return (
            f"{bookmark.name}\nCamera at {c.position[0]:,.2f}, {c.position[1]:,.2f}, {c.position[2]:,.2f}\n"
            f"looking at {c.focal_point[0]:,.2f}, {c.focal_point[1]:,.2f}, {c.focal_point[2]:,.2f}"
        )

    def _update_state(self, *_: Any) -> None:
        n = len(self.scene.bookmarks)
        self.placeholder.setVisible(n == 0)
        row = self.current_row()
        has = row >= 0
        self.update_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.up_button.setEnabled(has and row > 0)
        self.down_button.setEnabled(has and row < n - 1)

    # ------------------------------------------------------------------ selection
    def current_row(self) -> int:
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        return rows[0].row() if rows else -1

    def current_bookmark(self) -> Bookmark | None:
        return self.model.item(self.current_row())

    def select(self, bookmark: Bookmark | None) -> None:
        """Select a bookmark's thumbnail (``None`` clears the selection)."""
        row = -1 if bookmark is None else self.model.row_of(bookmark.id)
        if row < 0:
            self.view.clearSelection()
        else:
            self.view.setCurrentIndex(self.model.index(row, 0))
        self._update_state()

    # ------------------------------------------------------------------ actions
    def add_bookmark(self, name: str | None = None, camera: CameraState | None = None) -> Bookmark:
        """Save the current view (or ``camera``, already shown) as a bookmark, undoably; return it."""
        self.viewport.finish_animation()  # a view being flown to is saved where it ends
        camera = camera or current_camera(self.viewport)
        bookmark = make_bookmark(
            name or next_view_name(self.scene.bookmarks), camera, thumbnail=grab_thumbnail(self.viewport)
        )
        self.scene.add_item(bookmark)
        self.select(bookmark)
        return bookmark

    def fly_to(self, bookmark: Bookmark, animate: bool = True) -> None:
        """Fly the view to a bookmark."""
        fly_to_camera(self.viewport, bookmark.camera, animate)
        self.flew.emit(bookmark)

    def _on_clicked(self, index: QModelIndex) -> None:
        bookmark = self.model.item(index)
        if bookmark is not None:
            self.fly_to(bookmark)

    def rename(self, bookmark: Bookmark, name: str) -> Bookmark:
        """Rename a bookmark, undoably."""
        name = name.strip()
        if not name or name == bookmark.name:
            return bookmark
        return self.scene.edit_item(bookmark, name=name)

    def update_current(self, bookmark: Bookmark | None = None) -> Bookmark | None:
        """Set a bookmark (the selected one) to the current view and thumbnail, undoably."""
        bookmark = bookmark or self.current_bookmark()
        if bookmark is None:
            return None
        self.viewport.finish_animation()
        new = self.scene.edit_item(
            bookmark, camera=current_camera(self.viewport), thumbnail=grab_thumbnail(self.viewport)
        )
        self.select(new)
        return new

    def move_current(self, step: int, bookmark: Bookmark | None = None) -> None:
        """Move a bookmark (the selected one) ``step`` places up (negative) or down, undoably."""
        bookmark = bookmark or self.current_bookmark()
        if bookmark is None:
            return
        row = self.model.row_of(bookmark.id)
        if self.model.move_row(row, row + step):
            self.select(bookmark)

    def delete_current(self, bookmark: Bookmark | None = None) -> None:
        """Delete a bookmark (the selected one), undoably."""
        bookmark = bookmark or self.current_bookmark()
        if bookmark is not None:
            row = self.model.row_of(bookmark.id)
            self.scene.remove_item(bookmark)
            n = len(self.scene.bookmarks)
            if n:
                self.select(self.scene.bookmarks[min(row, n - 1)])

    def _context_menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        bookmark = self.model.item(index)
        menu = QMenu(self)
        if bookmark is not None:
            self.view.setCurrentIndex(index)
            menu.addAction("Fly To").triggered.connect(lambda *_: self.fly_to(bookmark))
            menu.addAction("Rename").triggered.connect(lambda *_: self.view.edit(index))
            menu.addAction("Update to Current View").triggered.connect(lambda *_: self.update_current(bookmark))
            menu.addSeparator()
            up = menu.addAction("Move Up")
            up.setEnabled(index.row() > 0)
            up.triggered.connect(lambda *_: self.move_current(-1, bookmark))
            down = menu.addAction("Move Down")
            down.setEnabled(index.row() < len(self.scene.bookmarks) - 1)
            down.triggered.connect(lambda *_: self.move_current(+1, bookmark))
            menu.addSeparator()
            menu.addAction("Delete").triggered.connect(lambda *_: self.delete_current(bookmark))
        else:
            menu.addAction("Add Bookmark").triggered.connect(lambda *_: self.add_bookmark())
        menu.exec(self.view.viewport().mapToGlobal(pos))


# ---------------------------------------------------------------------------- the camera dialog
class CameraDialog(QDialog):
    """View → Camera…: the camera as numbers (position, focal point, field of view).

    Coordinates are in the CRS of the file (degrees for latitude/longitude),
    float64 with micrometre (or 1e-10 degree) decimals; a field left as shown
    keeps its exact value, so Apply without typing does not move the camera.
    """

    def __init__(self, scene: Scene, viewport: Viewport, panel: BookmarksPanel | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Camera")
        self.scene = scene
        self.viewport = viewport
        self.panel = panel
        self._shown: dict[QLineEdit, tuple[str, float]] = {}
        self._camera: CameraState | None = None
        grid = QGridLayout()
        grid.addWidget(QLabel(""), 0, 0)
        for j, axis in enumerate(self._axis_names()):
            grid.addWidget(QLabel(axis), 0, j + 1, alignment=Qt.AlignmentFlag.AlignCenter)
        self.position = [QLineEdit() for _ in range(3)]
        self.focal = [QLineEdit() for _ in range(3)]
        for i, (label, edits) in enumerate((("Position", self.position), ("Focal point", self.focal))):
            grid.addWidget(QLabel(label), i + 1, 0)
            for j, e in enumerate(edits):
                e.setMinimumWidth(130)
                e.setAlignment(Qt.AlignmentFlag.AlignRight)
                grid.addWidget(e, i + 1, j + 1)
        self.fov = QDoubleSpinBox()
        self.fov.setRange(1.0, 120.0)
        self.fov.setDecimals(3)
        self.fov.setSuffix(" °")
        grid.addWidget(QLabel("Field of view"), 3, 0)
        grid.addWidget(self.fov, 3, 1)
        self.crs_label = QLabel()
        self.crs_label.setStyleSheet("color: palette(mid);")
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.setWordWrap(True)
        box = QDialogButtonBox()
        self.from_view_button = QPushButton("From View")
        self.from_view_button.setToolTip("Show the current camera")
        self.apply_button = box.addButton("Apply", QDialogButtonBox.ButtonRole.ApplyRole)
        self.bookmark_button = QPushButton("Save as Bookmark")
        box.addButton(self.from_view_button, QDialogButtonBox.ButtonRole.ResetRole)
        box.addButton(self.bookmark_button, QDialogButtonBox.ButtonRole.ActionRole)
        box.addButton(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        self.from_view_button.clicked.connect(lambda *_: self.load_current())
        self.apply_button.clicked.connect(lambda *_: self.apply())
        self.bookmark_button.clicked.connect(lambda *_: self.save_bookmark())
        self.bookmark_button.setEnabled(panel is not None)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.crs_label)
        layout.addWidget(self.error_label)
        layout.addWidget(box)
        self.load_current()

    # ------------------------------------------------------------------ CRS of the numbers
    def _geographic(self) -> bool:
        crs = self.scene.crs
        return crs is not None and is_geographic(crs) and self._reprojects()

    def _reprojects(self) -> bool:
        src, shown = self.scene.crs, self.scene.display_crs
        return src is not None and shown is not None and None not in (src.epsg, shown.epsg) and src.epsg != shown.epsg

    def _axis_names(self) -> tuple[str, str, str]:
        from citytwin.model.crs import lat_first

        if self._geographic():
            return (
                ("Latitude", "Longitude", "Height")
                if lat_first(self.scene.crs)
                else ("Longitude", "Latitude", "Height")
            )
        return ("x (east)", "y (north)", "z (up)")

    def _to_shown(self, world: tuple[float, float, float]) -> np.ndarray:
        p = np.asarray(world, np.float64)
        if self._reprojects():
            return reproject(p[None], self.scene.display_crs, self.scene.crs)[0]
        return p

    def _from_shown(self, p: np.ndarray) -> np.ndarray:
        if self._reprojects():
            return reproject(np.asarray(p, np.float64)[None], self.scene.crs, self.scene.display_crs)[0]
        return np.asarray(p, np.float64)

    def _format(self, v: float) -> str:
        text = f"{v:.10f}" if self._geographic() else f"{v:.6f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    # ------------------------------------------------------------------ reading and writing
    def load_current(self) -> None:
        """Fill the fields from the view's camera."""
        self.viewport.finish_animation()
        self.set_camera(current_camera(self.viewport))

    def set_camera(self, camera: CameraState) -> None:
        """Show a camera's numbers."""
        self._camera = camera
        self._shown.clear()
        for edits, world in ((self.position, camera.position), (self.focal, camera.focal_point)):
            for e, v in zip(edits, self._to_shown(world), strict=True):
                text = self._format(float(v))
                e.setText(text)
                self._shown[e] = (text, float(v))
        self.fov.setValue(camera.view_angle)
        crs = self.scene.crs
        unit = "degrees, metres" if self._geographic() else "metres"
        self.crs_label.setText(f"Coordinates in {crs} ({unit})" if crs is not None else "Scene coordinates")
        self.error_label.clear()

    def _read(self, edits: list[QLineEdit]) -> np.ndarray | None:
        out = []
        for e in edits:
            text = e.text().strip()
            shown = self._shown.get(e)
            if shown is not None and text == shown[0]:
                out.append(shown[1])  # untouched: the exact value
                continue
            try:
                v = float(text.replace(" ", "").replace(",", "." if "." not in text else ""))
            except ValueError:
                return None
            if not math.isfinite(v):
                return None
            out.append(v)
        return np.asarray(out, np.float64)

    def camera(self) -> CameraState | None:
        """The camera the fields describe (``None``, with a message, when they do not)."""
        pos, focal = self._read(self.position), self._read(self.focal)
        if pos is None or focal is None:
            self.error_label.setText("Every coordinate must be a number.")
            return None
        untouched = all(self._shown.get(e, ("",))[0] == e.text().strip() for e in (*self.position, *self.focal))
        base = self._camera
        if untouched and base is not None:
            position, focal_point = base.position, base.focal_point
        else:
            position = tuple(float(v) for v in self._from_shown(pos))
            focal_point = tuple(float(v) for v in self._from_shown(focal))
        direction = np.subtract(focal_point, position)
        if np.linalg.norm(direction) <= 1e-9:
            self.error_label.setText("The position and the focal point must differ.")
            return None
        fov = float(self.fov.value())
        if base is not None and abs(fov - round(base.view_angle, 3)) < 1e-9:
            fov = base.view_angle
        up = base.view_up if base is not None else (0.0, 0.0, 1.0)
        if not untouched or base is None:
            up = _level_up(direction, np.asarray(up, float))
        self.error_label.clear()
        return CameraState(position, focal_point, up, fov)

    def apply(self, animate: bool = True) -> CameraState | None:
        """Move the view to the typed camera."""
        camera = self.camera()
        if camera is None:
            return None
        fly_to_camera(self.viewport, camera, animate)
        self._camera = camera
        return camera

    def save_bookmark(self) -> Bookmark | None:
        """Apply the typed camera and save it as a bookmark (thumbnail of that view)."""
        if self.panel is None:
            return None
        camera = self.apply(animate=False)
        if camera is None:
            return None
        return self.panel.add_bookmark(camera=camera)


def _level_up(direction: np.ndarray, previous: np.ndarray) -> tuple[float, float, float]:
    """A roll-free up vector for a viewing direction (+Z made orthogonal to it; ``previous`` looking straight down)."""
    d = direction / np.linalg.norm(direction)
    z = np.array([0.0, 0.0, 1.0])
    up = z - d * float(np.dot(z, d))
    if np.linalg.norm(up) < 1e-6:
        up = previous - d * float(np.dot(previous, d))
        if np.linalg.norm(up) < 1e-6:
            up = np.array([0.0, 1.0, 0.0])
    up = up / np.linalg.norm(up)
    return tuple(float(v) for v in up)  # type: ignore[return-value]


# ---------------------------------------------------------------------------- installing
def _menu(window: QMainWindow, title: str) -> QMenu:
    """The window's menu of that title (``"View"``, ignoring ``&``), made when missing."""
    for action in window.menuBar().actions():
        menu = action.menu()
        if menu is not None and action.text().replace("&", "") == title:
            return menu
    return window.menuBar().addMenu(f"&{title}")


def _when_closed(window: QMainWindow, cleanup) -> None:
    """Run ``cleanup`` once the window has really closed (a close can be refused)."""

    class _Watcher(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802
            if obj is window and event.type() == QEvent.Type.Close:
                QTimer.singleShot(0, self._check)
            return False

        def _check(self) -> None:
            if not window.isVisible() and not getattr(self, "_done", False):
                self._done = True
                cleanup()

    watcher = _Watcher(window)
    window.installEventFilter(watcher)


def install_bookmarks(window: QMainWindow) -> BookmarksPanel:
    """Add the Bookmarks dock, View → Add Bookmark (Ctrl+B) and View → Camera… to the main window.

    Sets ``window.bookmarks_panel``, ``window.bookmarks_dock``,
    ``window.add_bookmark_action`` and ``window.camera_action``.
    """
    panel = BookmarksPanel(window.scene, window.viewport)
    dock = item_dock(window, "Bookmarks", "bookmarks_dock", panel)

    add = QAction("Add &Bookmark", window)
    add.setShortcut(QKeySequence("Ctrl+B"))
    add.setStatusTip("Save the current view as a bookmark")
    add.triggered.connect(lambda *_: panel.add_bookmark())
    camera = QAction("&Camera…", window)
    camera.setStatusTip("See and type the camera's position, focal point and field of view")

    def show_camera_dialog() -> None:
        dialog = getattr(window, "camera_dialog", None)
        if dialog is None:
            dialog = CameraDialog(window.scene, window.viewport, panel, window)
            window.camera_dialog = dialog
        else:
            dialog.load_current()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    camera.triggered.connect(lambda *_: show_camera_dialog())
    view = _menu(window, "View")
    view.addSeparator()
    view.addAction(add)
    view.addAction(camera)
    view.addAction(dock.toggleViewAction())
    window.bookmarks_panel = panel
    window.bookmarks_dock = dock
    window.add_bookmark_action = add
    window.camera_action = camera
    window.camera_dialog = None
    _when_closed(window, panel.shutdown)
    return panel
