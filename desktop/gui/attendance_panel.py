"""Who came in on a day: name, first in, last seen, check-ins; visitors; CSV export."""
from __future__ import annotations

import datetime as dt
import logging
import time

from PyQt5.QtCore import QDate, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.engine import DayRow, FaceEngine, KioskError, StoreOfflineError

log = logging.getLogger(__name__)

COLUMNS = ("Name", "First in", "Last seen", "Check-ins")
REFRESH_MS = 5000
"""Last-seen times move while people stand in view; the list of today follows them."""


def clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


class AttendancePanel(QWidget):
    export_requested = pyqtSignal()

    def __init__(self, engine: FaceEngine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.rows: list[DayRow] = []
        self.date = QDateEdit(calendarPopup=True, displayFormat="ddd d MMM yyyy")
        self.date.setObjectName("attendanceDate")
        self.date.setDate(qdate(dt.date.today()))
        self.date.setMaximumDate(qdate(dt.date.today()))
        self.date.dateChanged.connect(lambda _d: self.refresh())
        self.today_button = QPushButton("Today", clicked=self.show_today)
        self.summary = QLabel(objectName="attendanceSummary", wordWrap=True)
        self.table = QTableWidget(0, len(COLUMNS), objectName="attendanceTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        self.export_button = QPushButton("Export to CSV...", clicked=self.export_requested)
        top = QHBoxLayout()
        top.addWidget(self.date, 1)
        top.addWidget(self.today_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.export_button)
        self._timer = QTimer(self, interval=REFRESH_MS, timeout=self._tick)
        self._timer.start()
        self._following_today = True
        self.refresh()

    def stop(self) -> None:
        """No more refreshes (the window is closing; the database may close next)."""
        self._timer.stop()

    @property
    def day(self) -> str:
        return self.date.date().toString("yyyy-MM-dd")

    def show_today(self) -> None:
        today = qdate(dt.date.today())
        self.date.setMaximumDate(today)
        self.date.setDate(today)
        self.refresh()

    def _tick(self) -> None:
        """Follow today (also across midnight) while the receptionist looks at today."""
        today = qdate(dt.date.today())
        if self._following_today and self.date.date() != today:
            self.show_today()
        elif self._following_today:
            self.refresh()

    def refresh(self) -> None:
        self._following_today = self.date.date() == qdate(dt.date.today())
        try:
            rows = self.engine.attendance.day(self.day)
            visitors = self.engine.attendance.visitors(self.day)
        except KioskError as exc:  # the last list stays; the next refresh tries again
            self.summary.setText(
                "The shared store is offline: this list is not up to date; check-ins are "
                "queued on this kiosk" if isinstance(exc, StoreOfflineError)
                else f"Attendance cannot be read: {exc}")
            return
        self.rows = rows
        self.table.setRowCount(len(self.rows))
        for row, entry in enumerate(self.rows):
            for column, text in enumerate((entry.name, clock(entry.first_in),
                                           clock(entry.last_seen), str(entry.checkins))):
                self.table.setItem(row, column, QTableWidgetItem(text))
        when = "today" if self._following_today else "that day"
        people = f"{len(self.rows)} {'person' if len(self.rows) == 1 else 'people'}"
        self.summary.setText(f"{people} checked in {when}; {visitors} unknown "
                             f"visitor{'' if visitors == 1 else 's'}")

    def names(self) -> list[str]:
        return [row.name for row in self.rows]
