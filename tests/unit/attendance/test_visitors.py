"""Anonymous visitor ids and traffic counts on real stores (SQLite, SQLCipher, PostgreSQL),
with vectors made up for the purpose (the model's own behaviour is in test_traffic.py)."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from desktop.cli import main as cli_main
from desktop.engine.attendance.checkins import Attendance, day_of
from desktop.engine.attendance.opening import open_attendance
from desktop.engine.attendance.traffic import delete_day, export_csv, traffic
from desktop.engine.core.errors import KioskError
from desktop.engine.evaluation.visitor_rates import replay
from desktop.engine.settings.file import load_settings
from desktop.engine.storage.sqlite import Database
from desktop.engine.storage.store import open_store
from desktop.engine.storage.visitors import Appearances, Sealer, VisitorGallery, _Stored, expire

MODEL = "test-model"


def unit(seed: int, near: np.ndarray | None = None, noise: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=128) if near is None else near + noise * rng.normal(size=128)
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_a_returning_stranger_keeps_the_id_another_gets_a_new_one():
    gallery = VisitorGallery(24.0, threshold=0.6)
    a, b = unit(1), unit(2)
    first = gallery.assign(a, MODEL, ts=0.0)
    assert first.startswith("v-") and len(first) == 6
    assert gallery.assign(unit(3, a, 0.05), MODEL, ts=60.0) == first  # another photo
    assert gallery.assign(b, MODEL, ts=120.0) != first
    assert gallery.assign(a, "other-model", ts=130.0) != first  # never across models
    assert gallery.count(MODEL) == 2


def test_templates_are_forgotten_after_the_memory_window():
    gallery = VisitorGallery(1.0, threshold=0.6)
    a = unit(1)
    first = gallery.assign(a, MODEL, ts=0.0)
    assert gallery.assign(a, MODEL, ts=3599.0) == first
    assert gallery.assign(a, MODEL, ts=3601.0) != first  # an hour after first seen: new
    assert gallery.forget(now=10_000.0) == 1 and gallery.count(MODEL) == 0


def test_settings_turn_visitor_ids_on_from_the_environment(tmp_path, monkeypatch):
    assert load_settings(tmp_path).visitor_ids is False  # off by default
    monkeypatch.setenv("FACE_KIOSK_VISITOR_IDS", "on")
    settings = load_settings(tmp_path)
    assert settings.visitor_ids and settings.visitor_memory_hours == 24.0
    db = open_store(settings)
    try:
        gallery = open_attendance(db, settings).visitor_ids
        assert gallery is not None and not gallery.stored  # plain file: memory only
    finally:
        db.close()


def test_an_encrypted_store_keeps_templates_across_a_restart_and_expires_them(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("FACE_KIOSK_VISITOR_IDS", "on")
    settings = load_settings(tmp_path, db_key="correct horse")
    db = open_store(settings)
    gallery = open_attendance(db, settings).visitor_ids
    assert gallery is not None and gallery.stored
    first = gallery.assign(unit(1), MODEL)
    db.close()
    db = open_store(settings)  # the kiosk restarted
    again = open_attendance(db, settings).visitor_ids
    assert again is not None and again.assign(unit(1), MODEL) == first
    assert expire(db, settings, now=time.time() + 25 * 3600) == 2  # both views
    db.close()
    raw = (tmp_path / "gallery.sqlite3").read_bytes()
    assert unit(1).tobytes()[:64] not in raw and b"visitor_templates" not in raw


def test_sealed_templates_are_never_stored_in_clear(tmp_path):
    db = Database(tmp_path / "g.sqlite3")
    sealer = Sealer("site secret")
    gallery = VisitorGallery(24.0, 0.6, _Stored(db, sealer))
    vid = gallery.assign(unit(1), MODEL)
    blob = db.query("SELECT vector FROM visitor_templates")[0][0]
    assert unit(1).tobytes() not in bytes(blob) and len(blob) == 512 + 12 + 16
    assert np.allclose(np.frombuffer(sealer.open(blob, vid), np.float32), unit(1))
    other = VisitorGallery(24.0, 0.6, _Stored(db, Sealer("wrong secret")))
    with pytest.raises(KioskError, match="same key"):  # the tag does not verify
        other.assign(unit(1), MODEL)
    db.close()


def test_a_visit_is_an_appearance_after_the_cool_down(tmp_path):
    db = Database(tmp_path / "g.sqlite3")
    attendance = Attendance(db, cooldown_minutes=10)
    t = time.time() - 3 * 3600
    assert attendance.record_visitor(ts=t, visitor="v-0001")
    assert not attendance.record_visitor(ts=t + 300, visitor="v-0001")  # still in view
    assert not attendance.record_visitor(ts=t + 800, visitor="v-0001")  # 500 s after 300
    assert attendance.record_visitor(ts=t + 800 + 601, visitor="v-0001")  # came back
    assert attendance.record_visitor(ts=t + 10, visitor="v-0002")
    assert attendance.record_visitor(ts=t + 20)  # no id: each appearance is a visitor
    with db.transaction() as cur:
        cur.execute("INSERT INTO people(name, created_at) VALUES ('Ada', 0)")
    assert attendance.record_sighting("Ada", 0.9, ts=t)
    assert attendance.record_sighting("Ada", 0.9, ts=t + 700)
    day = traffic(db, day_of(t), day_of(t))[0]
    assert (day.visits, day.unique, day.known, day.unknown) == (6, 4, 1, 3)
    assert (day.known_visits, day.unknown_visits) == (2, 4)
    assert attendance.visitors(day_of(t)) == 3  # unique, as the attendance tab shows
    assert sum(h.visits for h in day.by_hour) == 6
    hour = day.by_hour[time.localtime(t).tm_hour]
    assert hour.known == 1 and hour.unknown >= 2
    rows = export_csv([day], tmp_path / "t.csv")
    assert rows == 25 and (tmp_path / "t.csv").read_text().splitlines()[1].startswith(
        f"{day.day},all,6,4,1,3")
    db.close()


def test_deleting_a_day_removes_rows_and_templates_and_is_audited(tmp_path):
    db = Database(tmp_path / "g.sqlite3", key="k")
    attendance = Attendance(db)
    attendance.visitor_ids = VisitorGallery(24.0, 0.6, _Stored(db, None))
    vid = attendance.visitor_ids.assign(unit(1), MODEL)
    attendance.record_visitor(visitor=vid)
    today = day_of(time.time())
    assert delete_day(attendance, today, "test") == 1
    assert db.query("SELECT COUNT(*) FROM visitor_templates")[0][0] == 0
    assert traffic(db, today, today)[0].unknown == 0
    detail = json.loads(db.query("SELECT detail FROM audit WHERE action = "
                                 "'traffic_deleted'")[0][0])
    assert detail == {"day": today, "rows": 1, "templates": 1}
    db.close()


def test_one_stranger_in_view_is_one_appearance_without_ids():
    seen = Appearances(gap_seconds=5.0, min_overlap=0.3)
    seen.note(1, (10, 10, 60, 60), now=100.0)
    assert seen.continues(2, (12, 10, 62, 60), first_seen=103.0)  # a detection gap
    assert not seen.continues(3, (200, 10, 250, 60), first_seen=103.0)  # elsewhere
    assert not seen.continues(4, (12, 10, 62, 60), first_seen=106.0)  # long gone


def test_replay_counts_keeps_and_merges():
    people = [unit(i) for i in range(20)]
    again = [unit(100 + i, v, 0.04) for i, v in enumerate(people)]
    rates = replay(people, list(again), threshold=0.6)
    assert rates.keep_rate == 1.0 and rates.merge_rate == 0.0
    merged = replay(people, list(again), threshold=-1.0)  # everyone is one visitor
    assert merged.merged == 19


def test_traffic_command_answers_bad_input_in_one_line(tmp_path, capsys):
    db = ["--db", str(tmp_path)]
    assert cli_main(db + ["traffic", "--day", "2026-13-01"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert cli_main(db + ["traffic", "--day", "2026-01-01", "--from", "2026-01-01"]) == 2
    assert cli_main(db + ["traffic", "--from", "2026-01-01", "--to", "2026-01-03",
                          "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["day"] for line in lines] == ["2026-01-01", "2026-01-02",
                                                          "2026-01-03"]
    assert len(json.loads(lines[0])["by_hour"]) == 24


def test_two_kiosks_on_the_shared_store_see_one_visitor(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("FACE_KIOSK_VISITOR_IDS", "on")
    kiosks = []
    for name in ("front", "back"):
        settings = load_settings(pg_url, db_key="site secret", kiosk_name=name)
        settings.db_dir = tmp_path / name
        db = open_store(settings)
        kiosks.append((db, open_attendance(db, settings)))
    (db_a, front), (db_b, back) = kiosks
    try:
        assert front.visitor_ids is not None and front.visitor_ids.stored
        vid = front.visitor_ids.assign(unit(1), MODEL)
        front.record_visitor(visitor=vid)
        assert back.visitor_ids is not None
        assert back.visitor_ids.assign(unit(2, unit(1), 0.04), MODEL) == vid
        back.record_visitor(visitor=vid)
        blob = db_a.query("SELECT vector FROM visitor_templates")[0][0]
        assert unit(1).tobytes() not in bytes(blob)  # sealed before it left the kiosk
        today = day_of(time.time())
        day = traffic(db_b, today, today)[0]
        assert (day.unknown, day.unknown_visits) == (1, 1)
    finally:
        for db, attendance in kiosks:
            attendance.close()
            db.close()
