"""Attendance through the real live pipeline: one check-in per person per cool-down."""
from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import ROOT, kill_mid_write, person_photos

from desktop.engine.attendance.checkins import day_of
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.live.tracker import LiveRecognizer


@pytest.fixture
def kit_and_rose(engine, load):
    for name in ("Kit_Harington", "Rose_Leslie"):
        engine.enroll(name, [(str(p), load(p)) for p in person_photos(name)[:2]])
    return engine


def play(live, frames, fps=10.0, start=0.0):
    checkins = []
    for i, frame in enumerate(frames):
        checkins += live.process(frame, now=start + i / fps).checkins
    return checkins


def test_sequence_gives_one_checkin_per_person_and_counts_the_stranger(kit_and_rose, faces_dir,
                                                                     load):
    group = load(faces_dir / "group" / "face_recognition_kit_with_rose.jpg")
    stranger = load(faces_dir / "unknown" / "Albert_Brooks_0001.jpg")
    live = LiveRecognizer.from_settings(kit_and_rose)
    checkins = play(live, [group] * 8)                       # both arrive
    checkins += play(live, [stranger] * 6, start=10)         # they leave, a stranger waits
    checkins += play(live, [group] * 8, start=20)            # they come back within cool-down
    assert sorted(c.name for c in checkins) == ["Kit_Harington", "Rose_Leslie"]
    today = kit_and_rose.attendance.day()
    assert sorted(r.name for r in today) == ["Kit_Harington", "Rose_Leslie"]
    assert all(r.checkins == 1 and r.last_seen >= r.first_in for r in today)
    assert kit_and_rose.attendance.visitors() == 1           # one stranger, counted once


def test_cooldown_expiry_allows_a_second_checkin(kit_and_rose):
    attendance = kit_and_rose.attendance
    now = time.time()
    assert attendance.record_sighting("Kit_Harington", 0.8, ts=now - 3600)
    assert attendance.record_sighting("Kit_Harington", 0.8, ts=now - 3300) is None  # 5 min later
    assert attendance.record_sighting("Kit_Harington", 0.8, ts=now)  # 60 min later > 10 min
    assert attendance.record_sighting("Nobody", 0.9, ts=now) is None


def test_export_matches_database_and_survives_restart(kit_and_rose, settings, models, tmp_path):
    attendance = kit_and_rose.attendance
    now = time.time()
    attendance.record_sighting("Kit_Harington", 0.8, ts=now - 86400)
    attendance.record_sighting("Rose_Leslie", 0.7, ts=now - 60)
    attendance.record_sighting("Rose_Leslie", 0.7, ts=now)
    kit_and_rose.close()

    reopened = FaceEngine(settings, models)
    first, last = day_of(now - 86400), day_of(now)
    out = tmp_path / "attendance.csv"
    assert reopened.attendance.export_csv(first, last, out) == 2
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["day"], r["name"], r["checkins"]) for r in rows] == [
        (first, "Kit_Harington", "1"), (last, "Rose_Leslie", "1")]
    reopened.close()


def test_delete_person_removes_or_keeps_attendance(kit_and_rose):
    attendance = kit_and_rose.attendance
    attendance.record_sighting("Kit_Harington", 0.8)
    attendance.record_sighting("Rose_Leslie", 0.8)
    assert kit_and_rose.delete("Kit_Harington").checkins == 1
    kept = kit_and_rose.delete("Rose_Leslie", keep_attendance=True)
    assert kept.kept_attendance
    assert [r.name for r in attendance.day()] == ["Rose_Leslie"]


def test_retention_removes_old_days(kit_and_rose):
    attendance = kit_and_rose.attendance
    attendance.record_sighting("Kit_Harington", 0.8, ts=time.time() - 40 * 86400)
    attendance.record_sighting("Rose_Leslie", 0.8)
    assert attendance.purge_older_than(30) == 2  # one check-in + one presence row
    assert len(attendance.between("2000-01-01", day_of(time.time()))) == 1


def test_crash_mid_write_loses_no_committed_event(kit_and_rose, settings, models):
    kit_and_rose.close()
    writer = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from desktop.engine.attendance.checkins import Attendance
        from desktop.engine.storage.sqlite import Database
        attendance = Attendance(Database(Path({str(settings.db_path)!r})), cooldown_minutes=0)
        for i in range(100000):
            attendance.record_sighting("Kit_Harington", 0.8, ts=time.time())
            print(i, flush=True)
    """)
    committed = kill_mid_write(writer, after=30)
    reopened = FaceEngine(settings, models)
    today = reopened.attendance.day()
    assert today[0].checkins >= committed + 1
    reopened.close()


def test_cli_today_and_export(kit_and_rose, settings, weights_path, tmp_path):
    kit_and_rose.attendance.record_sighting("Rose_Leslie", 0.7)
    kit_and_rose.close()
    out = tmp_path / "today.csv"
    base = [sys.executable, "main.py", "attendance"]
    tail = ["--db", str(settings.db_dir), "--weights", str(weights_path)]
    proc = subprocess.run(base + ["today"] + tail, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("Rose_Leslie\tfirst in")
    today = day_of(time.time())
    proc = subprocess.run(base + ["export", "--from", today, "--to", today, "--out", str(out)]
                          + tail, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Rose_Leslie" in out.read_text()
