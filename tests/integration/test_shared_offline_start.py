"""A kiosk that boots while its PostgreSQL server is down (a power cut, the kiosk first):
it starts from its cached index and meta, recognises, queues check-ins, refuses to
enroll, and joins the store when the server comes back. Real model, real server."""
from __future__ import annotations

import csv
import dataclasses
import os
import subprocess
import sys
import time

import httpx
import pytest
from conftest import ROOT, person_photos
from served import serving
from test_server import running

from desktop.engine.core.errors import StoreOfflineError
from desktop.engine.facade.face_engine import FaceEngine
from desktop.server import create_app


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def test_a_kiosk_starts_while_the_server_is_down_and_catches_up(settings, models, load,
                                                                pg_server, pg_url):
    kiosk = dataclasses.replace(settings, db_url=pg_url, kiosk_name="front-door",
                                cooldown_minutes=0)
    tom, rose = person_photos("Tom_Cruise"), person_photos("Rose_Leslie")
    first = FaceEngine(kiosk, models)
    first.enroll("Tom_Cruise", [(str(p), load(p)) for p in tom[:2]])
    first.close()

    pg_server.stop()
    try:
        engine = FaceEngine(kiosk, models)   # refused before: "cannot reach"
        try:
            assert not engine.store_status().online
            assert [f.match.name for f in engine.identify(load(tom[-1]))] == ["Tom_Cruise"]
            assert engine.attendance.record_sighting("Tom_Cruise", 0.9) is None  # queued
            assert engine.store_status().queued == 1
            with pytest.raises(StoreOfflineError, match="refused until it returns"):
                engine.enroll("Rose_Leslie", [(str(p), load(p)) for p in rose[:1]])
            with running(create_app(engine, kiosk)) as url:
                health = httpx.get(f"{url}/health", timeout=30).json()
                assert health["status"] == "degraded" and health["people"] == 1
                assert health["store"] == {"kind": "postgresql", "online": False, "queued": 1}
                refused = httpx.post(f"{url}/people/Rose_Leslie/faces", timeout=60,
                                     files=[("images", ("r.jpg", rose[0].read_bytes(),
                                                        "image/jpeg"))])
                assert refused.status_code == 503, refused.text

            pg_server.start()
            wait_for(lambda: engine.store_status().online and engine.store_status().queued == 0)
            engine.enroll("Rose_Leslie", [(str(p), load(p)) for p in rose[:1]])
            assert {p.name for p in engine.gallery.people()} == {"Tom_Cruise", "Rose_Leslie"}
            rows = engine.db.query("SELECT name, kiosk FROM checkins")
            assert rows == [("Tom_Cruise", "front-door")]
            assert [(r.name, r.kiosks) for r in engine.attendance.day()] == [
                ("Tom_Cruise", "front-door")]
            with running(create_app(engine, kiosk)) as url:
                health = httpx.get(f"{url}/health", timeout=30).json()
                assert health["status"] == "ok" and health["store"]["online"]
        finally:
            engine.close()
    finally:
        if not (pg_server.data / "postmaster.pid").exists():
            pg_server.start()
    # what the other front ends show of it: the kiosk of each check-in
    env = {**os.environ, "FACE_KIOSK_HOME": str(kiosk.db_dir)}
    today = subprocess.run([sys.executable, "main.py", "attendance", "today", "--db", pg_url],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "Tom_Cruise" in today.stdout and "at front-door" in today.stdout, today.stderr
    out = kiosk.db_dir / "day.csv"
    subprocess.run([sys.executable, "main.py", "attendance", "export", "--out", str(out),
                    "--db", pg_url], cwd=ROOT, env=env, check=True, timeout=120)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["name"], r["kiosks"]) for r in rows] == [("Tom_Cruise", "front-door")]


def test_a_kiosk_that_never_reached_the_server_says_so(settings, models, pg_server, pg_url):
    pg_server.stop()
    try:
        with pytest.raises(StoreOfflineError, match="no copy of it yet"):
            FaceEngine(dataclasses.replace(settings, db_url=pg_url), models)
    finally:
        pg_server.start()


def test_serve_starts_while_the_server_is_down(settings, models, load, weights_path,
                                               pg_server, pg_url):
    """``python main.py serve`` after a power cut: it answers from the kiosk's cache,
    /health says degraded, and it joins the store when the server returns."""
    kiosk = dataclasses.replace(settings, db_url=pg_url)
    tom = person_photos("Tom_Cruise")
    first = FaceEngine(kiosk, models)
    first.enroll("Tom_Cruise", [(str(p), load(p)) for p in tom[:2]])
    first.close()
    pg_server.stop()
    try:
        with serving(pg_url, str(weights_path),
                     env={"FACE_KIOSK_HOME": str(kiosk.db_dir)}) as served:
            def health() -> dict:
                served.alive()
                return httpx.get(f"{served.url}/health", timeout=5).json()
            assert health()["status"] == "degraded"
            answer = httpx.post(f"{served.url}/recognize", timeout=120, files=[
                ("image", ("t.jpg", tom[-1].read_bytes(), "image/jpeg"))])
            assert [f["name"] for f in answer.json()["faces"]] == ["Tom_Cruise"]
            pg_server.start()
            wait_for(lambda: health().get("status") == "ok", 60)
    finally:
        if not (pg_server.data / "postmaster.pid").exists():
            pg_server.start()
