"""The Traffic tab: matplotlib's Qt canvas over a real SQLite store with a month of traffic.

KIOSK_SCREENSHOT=docs/img/traffic.png saves the grabbed widget (the documentation's)."""
from __future__ import annotations

import datetime as dt
import os
import random
import time

import pytest

from desktop.engine.attendance.checkins import Attendance
from desktop.engine.storage.sqlite import Database
from desktop.engine.storage.visitors import VisitorGallery
from desktop.gui.traffic_panel import TrafficPanel

PEOPLE = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald")


def seed(attendance: Attendance, days: int = 30) -> None:
    """Office hours of a month: enrolled people check in, strangers come and some return."""
    rng = random.Random(7)
    with attendance.db.transaction() as cur:
        for name in PEOPLE:
            cur.execute("INSERT INTO people(name, created_at) VALUES (?, 0)", (name,))
    today = dt.date.today()
    for back in range(days):
        day = today - dt.timedelta(days=back)
        if day.weekday() >= 5 and back:
            continue
        midnight = time.mktime(day.timetuple())
        last_hour = min(18, time.localtime().tm_hour) if back == 0 else 18
        for name in PEOPLE:
            if rng.random() < 0.8 and last_hour >= 8:
                attendance.record_sighting(name, 0.8,
                                           ts=midnight + rng.uniform(8, last_hour + 1) * 3600)
        for n in range(rng.randint(6, 14)):
            if last_hour < 9:
                break
            first = midnight + rng.uniform(9, last_hour + 1) * 3600
            attendance.record_visitor(ts=first, visitor=f"v-{back:02d}{n:02x}")
            if rng.random() < 0.3:  # came back later that day
                attendance.record_visitor(ts=first + 3600, visitor=f"v-{back:02d}{n:02x}")


@pytest.fixture
def attendance(tmp_path):
    db = Database(tmp_path / "g.sqlite3")
    attendance = Attendance(db)
    seed(attendance)
    yield attendance
    db.close()


def test_traffic_tab_draws_the_day_and_the_month_and_exports(attendance, qtbot, tmp_path):
    attendance.visitor_ids = VisitorGallery()  # the seeded strangers have ids
    panel = TrafficPanel(attendance)
    qtbot.addWidget(panel)
    panel.resize(460, 640)
    assert panel.canvas is None  # matplotlib is loaded when the tab is first shown
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.canvas is not None and panel.figure is not None
    by_hour, by_day = panel.figure.axes
    assert len(by_hour.patches) == 48 and len(by_day.patches) == 30  # bars: data, not ink
    today = panel.days[-1]
    assert f"{today.visits} visit" in panel.summary.text()
    assert "visitor ids off" not in panel.summary.text()
    assert sum(b.get_height() for b in by_hour.patches) == today.visits
    panel.export_button.setFocus()  # no selected text in the date field
    qtbot.wait(50)  # one layout pass for the canvas
    image = panel.grab()
    assert not image.isNull() and image.width() >= 400
    target = os.environ.get("KIOSK_SCREENSHOT")
    if target:
        image.save(target)
    assert panel.export(tmp_path / "t.csv") == 30 * 25
    panel.stop()


def test_settings_dialog_says_what_visitor_ids_keep_and_turns_them_on(tmp_path, qtbot):
    from desktop.engine.settings.file import load_settings
    from desktop.gui.settings_dialog import SettingsDialog
    box = SettingsDialog(load_settings(tmp_path), 0.65)
    qtbot.addWidget(box)
    assert not box.visitor_ids.isChecked() and not box.visitor_memory.isEnabled()  # off
    notice = box.visitor_notice.text()
    assert "template" in notice and "forgotten" in notice and "notice" in notice
    assert "visitor_ids" not in box.changes()
    box.visitor_ids.setChecked(True)
    box.visitor_memory.setValue(8)
    assert box.changes() == {"visitor_ids": True, "visitor_memory_hours": 8.0}
