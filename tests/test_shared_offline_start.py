"""A kiosk that boots while its PostgreSQL server is down (a power cut, the kiosk first):
it starts from its cached index and meta, recognises, queues check-ins, refuses to
enroll, and joins the store when the server comes back. Real model, real server."""
from __future__ import annotations

import dataclasses
import time

import pytest
from conftest import person_photos

from desktop.engine.errors import StoreOfflineError
from desktop.engine.recognizer import FaceEngine


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

            pg_server.start()
            wait_for(lambda: engine.store_status().online and engine.store_status().queued == 0)
            engine.enroll("Rose_Leslie", [(str(p), load(p)) for p in rose[:1]])
            assert {p.name for p in engine.gallery.people()} == {"Tom_Cruise", "Rose_Leslie"}
            rows = engine.db.query("SELECT name, kiosk FROM checkins")
            assert rows == [("Tom_Cruise", "front-door")]
        finally:
            engine.close()
    finally:
        if not (pg_server.data / "postmaster.pid").exists():
            pg_server.start()


def test_a_kiosk_that_never_reached_the_server_says_so(settings, models, pg_server, pg_url):
    pg_server.stop()
    try:
        with pytest.raises(StoreOfflineError, match="no copy of it yet"):
            FaceEngine(dataclasses.replace(settings, db_url=pg_url), models)
    finally:
        pg_server.start()
