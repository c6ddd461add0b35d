"""Foot traffic with anonymous visitor ids, through the real live recogniser and model:
a clip of strangers who come back with other photos, enrolled people between them."""
from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
from conftest import FACES, person_photos

from desktop.bench.data import background, paste_center
from desktop.cli import main as cli_main
from desktop.engine.attendance.checkins import day_of
from desktop.engine.attendance.traffic import delete_day, traffic
from desktop.engine.live.apply_settings import reconfigure
from desktop.engine.live.tracker import UNKNOWN, LiveRecognizer

ENROLLED = ("Tom_Cruise", "Roger_Federer")
STRANGERS = ("Adam_Sandler", "Alastair_Campbell", "Alejandro_Toledo", "Amelia_Vega")
"""The first four people of the photo set by name: never enrolled here."""


SIDE = 200
"""Photos scaled to this longer side (faces of ~85 px) on a 320x240 desk: a quarter of a
VGA frame's pixels keeps the clip quick on a busy CPU."""
GAP = 7
"""Empty-desk frames between two people: more than ``track_max_missed``, so every
appearance is a new track (as when someone walks away)."""


def desk() -> np.ndarray:
    return cv2.resize(background(FACES), (320, 240), interpolation=cv2.INTER_AREA)


def scaled(load, path) -> np.ndarray:
    photo = load(path)
    scale = SIDE / max(photo.shape[:2])
    return cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@pytest.fixture
def enrolled(engine, load):
    for name in ENROLLED:
        engine.enroll(name, [(str(p), load(p)) for p in person_photos(name)[:3]])
    return engine


def clip(load) -> list[tuple[str, np.ndarray | None]]:
    """(who, frame) appearances: each stranger twice (first photo, then their second),
    an enrolled person between every two strangers, an empty desk between everyone."""
    empty = desk()
    first = [(s, person_photos(s)[0]) for s in STRANGERS]
    again = [(s, person_photos(s)[1]) for s in STRANGERS]
    shown: list[tuple[str, np.ndarray | None]] = []
    for n, (who, path) in enumerate(first + again):
        shown.append((who, paste_center(empty, scaled(load, path))))
        known = ENROLLED[n % 2]
        shown.append((known, paste_center(empty, scaled(load, person_photos(known)[5]))))
    return [(who, frame) for pair in shown for who, frame in ((pair[0], pair[1]), ("", empty))]


def play(live: LiveRecognizer, appearances, frames: int = 3, fps: float = 5.0) -> dict:
    """Feed each appearance for ``frames`` frames; the visitor ids each stranger got."""
    ids: dict[str, list[str | None]] = {}
    now = 0.0
    for who, frame in appearances:
        seen = None
        for _ in range(frames if who else GAP):
            result = live.process(frame, now=now)
            now += 1.0 / fps
            for track in result.tracks:
                if track.label == UNKNOWN and track.visitor:
                    seen = track.visitor
        if who in STRANGERS:
            ids.setdefault(who, []).append(seen)
    return ids


def test_strangers_keep_their_visitor_id_and_traffic_counts_them(enrolled, load, capsys):
    reconfigure(enrolled, {"visitor_ids": True})
    live = LiveRecognizer.from_settings(enrolled)
    ids = play(live, clip(load))
    with capsys.disabled():
        print("visitor ids per appearance:", ids)
    kept = [who for who, got in ids.items() if got[0] is not None and got[0] == got[1]]
    assert len(kept) >= 3, ids
    firsts = [got[0] for got in ids.values()]
    assert None not in firsts and len(set(firsts)) == 4, ids
    assert all(v.startswith("v-") and len(v) == 6 for v in firsts)

    assert cli_main(["--db", str(enrolled.settings.db_dir), "traffic", "--json"]) == 0
    today = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert today["day"] == day_of(time.time())
    assert 3 <= today["unknown"] <= 5, today
    assert today["known"] == 2 and today["unique"] == today["known"] + today["unknown"]
    assert sum(h["unknown_visits"] for h in today["by_hour"]) == today["unknown_visits"]
    # one visit per stranger per cool-down: a return within it only moves last_seen
    assert today["unknown_visits"] == today["unknown"]
    rows = enrolled.db.query("SELECT visitor, snapshot FROM visitors")
    assert all(snapshot is None for _, snapshot in rows)  # store_visitor_snapshots off
    # never written in clear: a plain SQLite file keeps the templates in memory only
    assert enrolled.db.query("SELECT COUNT(*) FROM visitor_templates")[0][0] == 0
    assert enrolled.attendance.visitor_ids.count(enrolled.gallery.model.name) >= 4

    removed = delete_day(enrolled.attendance, today["day"], "test")
    assert removed == len(rows)
    assert enrolled.attendance.visitor_ids.count(enrolled.gallery.model.name) == 0
    assert traffic(enrolled.db, today["day"], today["day"])[0].unknown == 0
    actions = [r[0] for r in enrolled.db.query("SELECT action FROM audit")]
    assert "traffic_deleted" in actions


def test_without_visitor_ids_one_stranger_in_view_is_one_visit(enrolled, load):
    """Off (the default): a stranger standing in view, lost by the detector for a moment
    (an empty frame), is still one visit; coming back later is another."""
    assert enrolled.attendance.visitor_ids is None
    live = LiveRecognizer.from_settings(enrolled)
    empty = desk()
    stranger = paste_center(empty, scaled(load, person_photos(STRANGERS[0])[0]))
    now = 0.0

    def show(frames: list[np.ndarray]) -> None:
        nonlocal now
        for frame in frames:
            for track in live.process(frame, now=now).tracks:
                assert track.visitor is None
            now += 0.2

    show([stranger] * 4 + [empty] * GAP + [stranger] * 4)  # lost for 1.4 s: a new track
    assert enrolled.attendance.visitors() == 1
    show([empty] * GAP)
    now += 10.0  # gone for longer than appearance_gap_seconds: a new appearance
    show([stranger] * 4)
    assert enrolled.attendance.visitors() == 2
