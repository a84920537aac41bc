"""The Preferences dialog: settings that apply to the next files opened."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

#: the point budget's range in the dialog (points)
MIN_POINT_BUDGET = 10_000
MAX_POINT_BUDGET = 200_000_000


class PreferencesDialog(QDialog):
    """Point budget of point-cloud files (how many points are kept when a file has more).

    Parameters
    ----------
    point_budget
        The value shown first.
    """

    def __init__(self, point_budget: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.budget_spin = QSpinBox()
        self.budget_spin.setRange(MIN_POINT_BUDGET, MAX_POINT_BUDGET)
        self.budget_spin.setSingleStep(1_000_000)
        self.budget_spin.setGroupSeparatorShown(True)
        self.budget_spin.setSuffix(" points")
        self.budget_spin.setValue(max(MIN_POINT_BUDGET, min(int(point_budget), MAX_POINT_BUDGET)))
        self.budget_spin.setToolTip(
            "Point clouds with more points than this are thinned to an even subset when opened "
            "(their class counts and bounds still describe the whole file)"
        )
        form.addRow("Point budget", self.budget_spin)
        layout.addLayout(form)
        note = QLabel("Applies to point clouds opened from now on. More points need more memory and draw slower.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def point_budget(self) -> int:
        return int(self.budget_spin.value())
