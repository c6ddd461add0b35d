"""Choose a date range and a file for the attendance CSV export.

The file is suggested in the user's documents folder (where a receptionist looks for it
afterwards), and the whole path is shown under the field, not just its tail."""
from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QDate, QStandardPaths, Qt
from PyQt5.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

MAX_FIELD_PX = 900
"""The path field grows to show the whole path up to this; the label below always does."""


def documents_folder() -> Path:
    """The user's documents folder if it exists, else their home folder."""
    found = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    return Path(found) if found and Path(found).is_dir() else Path.home()


class ExportDialog(QDialog):
    def __init__(self, first: QDate, last: QDate, folder: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export attendance")
        self.setObjectName("exportDialog")
        self.folder = folder or documents_folder()
        self.first = QDateEdit(first, calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.last = QDateEdit(last, calendarPopup=True, displayFormat="yyyy-MM-dd")
        for edit in (self.first, self.last):
            edit.setMaximumDate(QDate.currentDate())
            edit.dateChanged.connect(self._suggest_path)
        self.path = QLineEdit(objectName="exportPath")
        self.where = QLabel(objectName="exportWhere", wordWrap=True)
        self.where.setTextInteractionFlags(self.where.textInteractionFlags()
                                           | Qt.TextSelectableByMouse)
        self.path.textChanged.connect(self._show_where)
        browse = QPushButton("Choose...", clicked=self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel,
                                        accepted=self._accept, rejected=self.reject)
        form = QFormLayout(self)
        form.addRow("From", self.first)
        form.addRow("To", self.last)
        form.addRow("File", file_row)
        form.addRow("", self.where)
        form.addRow(self.buttons)
        self._suggest_path()

    def range(self) -> tuple[str, str]:
        first, last = (e.date().toString("yyyy-MM-dd") for e in (self.first, self.last))
        return (first, last) if first <= last else (last, first)

    def _suggest_path(self) -> None:
        first, last = self.range()
        name = f"attendance-{first}.csv" if first == last else f"attendance-{first}_{last}.csv"
        current = Path(self.path.text()) if self.path.text() else None
        folder = current.parent if current else self.folder
        self.path.setText(str(folder / name))

    def _show_where(self, text: str) -> None:
        path = Path(text).expanduser()
        full = path if path.is_absolute() else Path.cwd() / path
        self.where.setText(f"Saves to {full}")
        self.path.setToolTip(str(full))
        fit = self.path.fontMetrics().horizontalAdvance(text) + 24  # the whole path if it can
        self.path.setMinimumWidth(min(max(fit, self.fontMetrics().averageCharWidth() * 60),
                                      MAX_FIELD_PX))
        self.adjustSize()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export attendance", self.path.text(),
                                              "CSV files (*.csv)")
        if path:
            self.path.setText(path if path.lower().endswith(".csv") else path + ".csv")

    def _accept(self) -> None:
        if self.path.text().strip():
            self.accept()
