"""Choose a date range and a file for the attendance CSV export."""
from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QDate
from PyQt5.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)


class ExportDialog(QDialog):
    def __init__(self, first: QDate, last: QDate, folder: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export attendance")
        self.folder = folder
        self.first = QDateEdit(first, calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.last = QDateEdit(last, calendarPopup=True, displayFormat="yyyy-MM-dd")
        for edit in (self.first, self.last):
            edit.setMaximumDate(QDate.currentDate())
            edit.dateChanged.connect(self._suggest_path)
        self.path = QLineEdit()
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

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export attendance", self.path.text(),
                                              "CSV files (*.csv)")
        if path:
            self.path.setText(path if path.lower().endswith(".csv") else path + ".csv")

    def _accept(self) -> None:
        if self.path.text().strip():
            self.accept()
