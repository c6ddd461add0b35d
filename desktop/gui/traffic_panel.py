"""Foot traffic in the window: a day by hour and the last 30 days, drawn by matplotlib's
Qt canvas (imported the first time the tab is shown), with a CSV export."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engine import KioskError
from desktop.engine.attendance import traffic
from desktop.engine.attendance.checkins import Attendance
from desktop.gui.attendance_panel import qdate

log = logging.getLogger(__name__)

DAYS = 30
REFRESH_MS = 30_000
KNOWN, UNKNOWN_COLOUR = "#2f7ed8", "#f28f43"


class TrafficPanel(QWidget):
    """Visits and unique visitors; the engine counts (engine/traffic.py), this draws."""

    def __init__(self, attendance: Attendance, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attendance = attendance
        self.days: list[traffic.DayTraffic] = []
        self.date = QDateEdit(calendarPopup=True, displayFormat="ddd d MMM yyyy")
        self.date.setObjectName("trafficDate")
        self.date.setDate(qdate(dt.date.today()))
        self.date.setMaximumDate(qdate(dt.date.today()))
        self.date.dateChanged.connect(lambda _d: self.refresh())
        self.summary = QLabel(objectName="trafficSummary", wordWrap=True)
        self.export_button = QPushButton("Export to CSV...", clicked=self.ask_export)
        self.figure: Any = None
        self.canvas: QWidget | None = None
        top = QHBoxLayout()
        top.addWidget(self.date, 1)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(top)
        self.layout_.addWidget(self.summary)
        self.layout_.addWidget(self.export_button)
        self._timer = QTimer(self, interval=REFRESH_MS, timeout=self.refresh)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def day(self) -> str:
        return self.date.date().toString("yyyy-MM-dd")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()

    def _ensure_canvas(self) -> None:
        if self.canvas is not None:
            return
        from matplotlib.backends.backend_qt5agg import FigureCanvasQTAgg
        from matplotlib.figure import Figure
        self.figure = Figure(figsize=(4.2, 5.2), tight_layout=True)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setObjectName("trafficChart")
        self.layout_.insertWidget(2, self.canvas, 1)
        self.canvas.show()  # added while the panel is visible: not shown by itself

    def refresh(self) -> None:
        """Read the last 30 days up to the chosen one; draw only while visible."""
        if not self.isVisible():
            return
        last = dt.date.fromisoformat(self.day)
        first = (last - dt.timedelta(days=DAYS - 1)).isoformat()
        try:
            self.days = traffic.traffic(self.attendance.db, first, last.isoformat())
        except KioskError as exc:  # the last chart stays; the next refresh tries again
            self.summary.setText(f"Traffic cannot be read: {exc}")
            return
        today = self.days[-1]
        self.summary.setText(
            f"{today.visits} visit{'' if today.visits == 1 else 's'}, {today.unique} unique: "
            f"{today.known} known, {today.unknown} unknown visitor"
            f"{'' if today.unknown == 1 else 's'}"
            + ("" if self.attendance.visitor_ids else
               " (visitor ids off: each stranger's appearance counts as one visitor)"))
        self._ensure_canvas()
        self._draw(today)

    def _draw(self, today: traffic.DayTraffic) -> None:
        assert self.figure is not None and self.canvas is not None
        self.figure.clear()
        by_hour, by_day = self.figure.subplots(2, 1)
        hours = list(range(24))
        known = [h.known_visits for h in today.by_hour]
        unknown = [h.unknown_visits for h in today.by_hour]
        by_hour.bar(hours, known, color=KNOWN, label="known")
        by_hour.bar(hours, unknown, bottom=known, color=UNKNOWN_COLOUR, label="unknown")
        by_hour.plot(hours, [h.unique for h in today.by_hour], "k.-", label="unique")
        by_hour.set_title(f"Visits by hour, {today.day}", fontsize=9)
        by_hour.set_xlim(-0.5, 23.5)
        by_hour.set_xticks(range(0, 24, 3))
        by_hour.legend(fontsize=7, loc="upper left")
        labels = [d.day[5:] for d in self.days]
        by_day.bar(labels, [d.visits for d in self.days], color="#bbbbbb", label="visits")
        by_day.plot(labels, [d.unique for d in self.days], "k.-", label="unique")
        by_day.plot(labels, [d.unknown for d in self.days], ".-", color=UNKNOWN_COLOUR,
                    label="unknown visitors")
        by_day.set_title(f"Last {DAYS} days", fontsize=9)
        by_day.set_xticks(range(0, len(labels), 7))
        by_day.legend(fontsize=7, loc="upper left")
        for axes in (by_hour, by_day):
            axes.tick_params(labelsize=7)
            axes.yaxis.get_major_locator().set_params(integer=True)
        self.canvas.draw()

    def ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export traffic", f"traffic-{self.day}.csv",
                                              "CSV files (*.csv)")
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> int:
        """The 30 days shown, per day and hour (engine/traffic.py ``export_csv``)."""
        try:
            rows = traffic.export_csv(self.days, path)
        except KioskError as exc:
            self.summary.setText(str(exc))
            return 0
        self.summary.setText(f"Wrote {rows} rows to {path}")
        return rows
