"""File → Overlays…: the title, logo, legend, north arrow, scale bar, attribution and captions of stills and videos.

One group per part of :class:`~citytwin.model.overlays.OverlaySettings`, each with an
"on" checkbox and its few fields; sizes, margins and colours that the dialog does not
show are kept as they were. OK replaces the scene's settings as one undoable step.
A wrong value (a logo that is not there, a title without text) is one red sentence
in the dialog, which stays open. *Preview* turns on View → Show Overlays and draws
what the dialog holds while it is being edited.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from citytwin.model.overlays import (
    ANCHORS,
    AttributionOverlay,
    CaptionOverlay,
    LegendOverlay,
    LogoOverlay,
    NorthArrowOverlay,
    OverlaySettings,
    ScaleBarOverlay,
    TitleOverlay,
)

#: The corners a logo is offered in (another anchor a project already has is kept and shown too).
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
#: Image files the logo's Browse… offers.
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg);;All files (*)"


#: How each anchor is named in the dialog.
ANCHOR_LABELS = {
    "top-left": "Top left",
    "top": "Top middle",
    "top-right": "Top right",
    "left": "Left side",
    "right": "Right side",
    "bottom-left": "Bottom left",
    "bottom": "Bottom middle",
    "bottom-right": "Bottom right",
}


def _anchor_label(anchor: str) -> str:
    return ANCHOR_LABELS.get(anchor, anchor)


def _anchor_combo(parent: QWidget, current: str, choices: tuple[str, ...] = ANCHORS) -> QComboBox:
    combo = QComboBox(parent)
    for anchor in choices:
        combo.addItem(_anchor_label(anchor), anchor)
    if combo.findData(current) < 0:  # a place the project has that the dialog does not offer: keep it
        combo.addItem(_anchor_label(current), current)
    combo.setCurrentIndex(combo.findData(current))
    return combo


def _sentence(exc: Exception) -> str:
    """An error's one sentence, capitalised and ending with a full stop."""
    text = str(exc).strip() or type(exc).__name__
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class OverlaysDialog(QDialog):
    """Edit the scene's :class:`~citytwin.model.overlays.OverlaySettings`.

    Parameters
    ----------
    window
        The main window: its ``scene`` is edited, ``session.path`` (the project file or
        ``None``) is where a relative logo path starts, ``show_overlays_action`` is what
        *Preview* turns on and ``viewport`` draws the preview.
    parent
        The dialog's parent (the window by default).

    Attributes
    ----------
    error_label
        The red sentence shown when the values are not valid.
    buttons
        OK and Cancel.
    """

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.scene = window.scene
        self.original: OverlaySettings = self.scene.overlays
        self._show_was_on: bool | None = None  # Show Overlays before Preview turned it on
        self._previewing = False
        self.setWindowTitle("Overlays")
        s = self.original
        layout = QVBoxLayout(self)
        intro = QLabel("What stills, videos and presenter mode draw over the city.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        grid = QGridLayout()
        layout.addLayout(grid)

        # title
        title = s.title or TitleOverlay(text="Title")
        self.title_group = self._group("Title", s.title is not None)
        form = QFormLayout(self.title_group)
        self.title_text = QLineEdit(title.text if s.title is not None else "", self.title_group)
        self.title_text.setPlaceholderText("e.g. Den Haag, Binnenstad")
        self.subtitle_text = QLineEdit(title.subtitle, self.title_group)
        self.subtitle_text.setPlaceholderText("optional second line")
        self.title_anchor = _anchor_combo(self.title_group, title.anchor)
        form.addRow("Text:", self.title_text)
        form.addRow("Subtitle:", self.subtitle_text)
        form.addRow("Place:", self.title_anchor)
        grid.addWidget(self.title_group, 0, 0)

        # logo
        logo = s.logo
        self.logo_group = self._group("Logo", logo is not None)
        form = QFormLayout(self.logo_group)
        row = QWidget(self.logo_group)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        self.logo_path = QLineEdit(logo.path if logo is not None else "", row)
        self.logo_path.setPlaceholderText("a PNG or JPEG image")
        self.logo_browse = QPushButton("Browse…", row)
        self.logo_browse.clicked.connect(self._browse_logo)
        row_layout.addWidget(self.logo_path, 1)
        row_layout.addWidget(self.logo_browse)
        self.logo_height = QDoubleSpinBox(self.logo_group)
        self.logo_height.setRange(1.0, 50.0)
        self.logo_height.setDecimals(1)
        self.logo_height.setSuffix(" % of the image height")
        self.logo_height.setValue(100.0 * (logo.height if logo is not None else 0.1))
        self.logo_anchor = _anchor_combo(self.logo_group, logo.anchor if logo is not None else "top-right", CORNERS)
        form.addRow("File:", row)
        form.addRow("Height:", self.logo_height)
        form.addRow("Corner:", self.logo_anchor)
        grid.addWidget(self.logo_group, 0, 1)

        # legend, north arrow, scale bar: on and a place
        self.legend_group, self.legend_anchor = self._placed("Legend of the colouring", s.legend, LegendOverlay())
        self.north_group, self.north_anchor = self._placed("North arrow", s.north_arrow, NorthArrowOverlay())
        self.scale_group, self.scale_anchor = self._placed("Scale bar", s.scale_bar, ScaleBarOverlay())
        grid.addWidget(self.legend_group, 1, 0)
        grid.addWidget(self.north_group, 1, 1)
        grid.addWidget(self.scale_group, 2, 0)

        # attribution
        attribution = s.attribution
        self.attribution_group = self._group("Attribution", attribution is not None)
        form = QFormLayout(self.attribution_group)
        self.attribution_text = QLineEdit(attribution.text if attribution is not None else "", self)
        self.attribution_text.setPlaceholderText("e.g. © Gemeente Den Haag, 3D BAG")
        self.attribution_anchor = _anchor_combo(
            self.attribution_group, attribution.anchor if attribution is not None else "bottom-right"
        )
        form.addRow("Text:", self.attribution_text)
        form.addRow("Place:", self.attribution_anchor)
        grid.addWidget(self.attribution_group, 2, 1)

        # captions (always available: a tour says when there is one)
        self.captions_group = QGroupBox("Tour captions", self)
        form = QFormLayout(self.captions_group)
        self.captions_anchor = _anchor_combo(self.captions_group, s.captions.anchor)
        form.addRow("Place:", self.captions_anchor)
        grid.addWidget(self.captions_group, 3, 0, 1, 2)

        self.error_label = QLabel("", self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        bottom = QHBoxLayout()
        self.preview = QCheckBox("Preview in the view", self)
        self.preview.setToolTip("Turns on View → Show Overlays and draws these settings while you edit them")
        self.preview.toggled.connect(self._preview_toggled)
        bottom.addWidget(self.preview)
        bottom.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(200)
        self._preview_timer.timeout.connect(self._update_preview)
        for edit in (self.title_text, self.subtitle_text, self.logo_path, self.attribution_text):
            edit.textChanged.connect(self._changed)
        self.logo_height.valueChanged.connect(self._changed)
        for combo in (
            self.title_anchor,
            self.logo_anchor,
            self.legend_anchor,
            self.north_anchor,
            self.scale_anchor,
            self.attribution_anchor,
            self.captions_anchor,
        ):
            combo.currentIndexChanged.connect(self._changed)
        for group in (
            self.title_group,
            self.logo_group,
            self.legend_group,
            self.north_group,
            self.scale_group,
            self.attribution_group,
        ):
            group.toggled.connect(self._changed)

    # ------------------------------------------------------------------ building
    def _group(self, title: str, on: bool) -> QGroupBox:
        """A group whose title is its "on" checkbox."""
        group = QGroupBox(title, self)
        group.setCheckable(True)
        group.setChecked(on)
        return group

    def _placed(self, title: str, part: Any, default: Any) -> tuple[QGroupBox, QComboBox]:
        group = self._group(title, part is not None)
        form = QFormLayout(group)
        combo = _anchor_combo(group, (part or default).anchor)
        form.addRow("Place:", combo)
        return group, combo

    # ------------------------------------------------------------------ the logo's path
    def project_dir(self) -> Path | None:
        """The folder of the project file, or ``None`` while the project is not saved."""
        path = getattr(getattr(self.window, "session", None), "path", None)
        return Path(path).parent if path else None

    def _resolve(self, text: str) -> Path:
        """The logo's file: absolute, or relative to the project's folder (the working folder when unsaved)."""
        p = Path(os.path.expanduser(text.strip()))
        if not p.is_absolute():
            p = (self.project_dir() or Path.cwd()) / p
        return Path(os.path.normpath(p))

    def _stored(self, path: Path) -> str:
        """How the logo's path is shown: relative to the project's folder when it is saved, else absolute."""
        folder = self.project_dir()
        if folder is None:
            return str(path)
        try:
            return os.path.relpath(path, folder)
        except ValueError:  # another drive (Windows): no relative path
            return str(path)

    def _browse_logo(self) -> None:
        text = self.logo_path.text().strip()
        start = str(self._resolve(text).parent) if text else str(self.project_dir() or Path.home())
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose a Logo", start, IMAGE_FILTER)
        if chosen:
            self.logo_path.setText(self._stored(Path(chosen)))
            self.logo_group.setChecked(True)

    # ------------------------------------------------------------------ the result
    def settings(self) -> OverlaySettings:
        """The settings the dialog holds now (fields it does not show are kept from the scene's).

        Raises
        ------
        ValueError
            With one sentence, when a value is wrong (a logo that is not there, a title without text).
        """
        s = self.original

        def part(old: Any, cls: type, **fields: Any) -> Any:
            return msgspec.structs.replace(old, **fields) if old is not None else cls(**fields)

        title = logo = legend = north = scale = attribution = None
        if self.title_group.isChecked():
            title = part(
                s.title,
                TitleOverlay,
                text=self.title_text.text().strip(),
                subtitle=self.subtitle_text.text().strip(),
                anchor=self.title_anchor.currentData(),
            )
        if self.logo_group.isChecked():
            text = self.logo_path.text().strip()
            if not text:
                raise ValueError("Choose the logo's image file, or turn the logo off.")
            path = self._resolve(text)
            if not path.is_file():
                raise ValueError(f"The logo file {path} does not exist.")
            from citytwin.render.overlays import OverlayError, read_logo

            try:
                read_logo(path)
            except OverlayError as exc:
                raise ValueError(str(exc)) from None
            logo = part(
                s.logo,
                LogoOverlay,
                path=str(path),  # absolute in the scene; the project file keeps it relative to itself
                height=round(self.logo_height.value(), 1) / 100,
                anchor=self.logo_anchor.currentData(),
            )
        if self.legend_group.isChecked():
            legend = part(s.legend, LegendOverlay, anchor=self.legend_anchor.currentData())
        if self.north_group.isChecked():
            north = part(s.north_arrow, NorthArrowOverlay, anchor=self.north_anchor.currentData())
        if self.scale_group.isChecked():
            scale = part(s.scale_bar, ScaleBarOverlay, anchor=self.scale_anchor.currentData())
        if self.attribution_group.isChecked():
            attribution = part(
                s.attribution,
                AttributionOverlay,
                text=self.attribution_text.text().strip(),
                anchor=self.attribution_anchor.currentData(),
            )
        captions = part(s.captions, CaptionOverlay, anchor=self.captions_anchor.currentData())
        return OverlaySettings(
            title=title,
            logo=logo,
            legend=legend,
            north_arrow=north,
            scale_bar=scale,
            attribution=attribution,
            captions=captions,
        )

    def show_error(self, message: str) -> None:
        """Show one red sentence (empty: none)."""
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def apply(self) -> bool:
        """Replace the scene's overlays by the dialog's as one undoable step; False (and a sentence) when invalid."""
        try:
            new = self.settings()
        except ValueError as exc:
            self.show_error(_sentence(exc))
            return False
        self.show_error("")
        if new != self.scene.overlays:
            self.scene.set(self.scene, "overlays", new)
        self.original = new
        return True

    def _ok(self) -> None:
        if self.apply():
            self.accept()

    # ------------------------------------------------------------------ preview
    def _preview_toggled(self, on: bool) -> None:
        action = getattr(self.window, "show_overlays_action", None)
        if on:
            if action is not None and self._show_was_on is None:
                self._show_was_on = action.isChecked()
                action.setChecked(True)
            self._previewing = True
            self._update_preview()
        else:
            self._end_preview()
            if action is not None and self._show_was_on is not None:
                action.setChecked(self._show_was_on)
                self._show_was_on = None

    def _changed(self, *_: Any) -> None:
        self.show_error("")
        if self._previewing:
            self._preview_timer.start()

    def _update_preview(self) -> None:
        """Draw the dialog's settings over the view (not the scene's: nothing changes until OK)."""
        if not self._previewing:
            return
        try:
            settings = self.settings()
        except ValueError as exc:
            self.show_error(_sentence(exc))
            return
        problem = self.window.viewport.preview_overlays(settings, self.project_dir())
        if problem:  # an unreadable logo: the sentence, and the last good preview stays
            self.show_error(_sentence(problem))

    def _end_preview(self) -> None:
        """Draw the scene's own overlays again (or none, as View → Show Overlays says)."""
        self._preview_timer.stop()
        if not self._previewing:
            return
        self._previewing = False
        viewport = self.window.viewport
        viewport.set_overlays_shown(viewport.overlays_shown)

    def done(self, result: int) -> None:
        """Close the dialog (OK or Cancel), ending the preview; Cancel puts Show Overlays back as it was."""
        self._end_preview()
        action = getattr(self.window, "show_overlays_action", None)
        if result != QDialog.DialogCode.Accepted and action is not None and self._show_was_on is not None:
            action.setChecked(self._show_was_on)  # Cancel: Show Overlays as it was before the preview
        self._show_was_on = None
        super().done(result)


def edit_overlays(window: Any) -> bool:
    """Open the Overlays dialog on ``window``; True when its settings were applied."""
    return OverlaysDialog(window).exec() == QDialog.DialogCode.Accepted


__all__ = ["CORNERS", "OverlaysDialog", "edit_overlays"]
