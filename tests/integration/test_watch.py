"""`watch`: the live loop without a window, on real photos and the real model.

The done-when clip: enrolled people and strangers step into the same spot one after
another with hard cuts (tests/cut_clip.py). No frame may carry a wrong name, and the
enrolled people must be named on at least 85% of their frames from the 10th frame of
each appearance on.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from cut_clip import Appearance, write_cut_clip

from desktop.engine.core.images import load_image
from desktop.engine.live.watch import Watcher, frame_json

FRAMES_EACH = 15
SETTLED_FROM = 9
"""Index of the 10th frame of an appearance."""


def cut_visitors(engine, faces_dir: Path, people: int = 8) -> list[tuple[str | None, Path]]:
    """Enroll ``people`` people (every k-th with 5+ photos; all but their last photo, up
    to five) and return the clip's visitors: each one's held-out last photo, a stranger
    after two of every three, so both known->stranger and known->known cuts occur."""
    folders = sorted(p for p in (faces_dir / "people").iterdir()
                     if p.is_dir() and len(list(p.iterdir())) >= 5)
    chosen = folders[::max(1, len(folders) // people)][:people]
    strangers = sorted((faces_dir / "unknown").glob("*.jpg"))
    visitors: list[tuple[str | None, Path]] = []
    for n, folder in enumerate(chosen):
        photos = sorted(folder.iterdir())
        engine.enroll(folder.name, [(str(p), load_image(p)) for p in photos[:-1][:5]],
                      force=True)
        visitors.append((folder.name, photos[-1]))
        if n % 3 != 2:
            visitors.append((None, strangers[n % len(strangers)]))
    return visitors


def rates(lines: list[dict], appearances: list[Appearance]) -> tuple[list, int, int]:
    """(wrong names as (frame, expected, shown), frames named, frames counted) where the
    counted frames are those of enrolled people from the 10th of each appearance on."""
    frames = {line["frame"]: line for line in lines if "faces" in line}
    wrong, named, counted = [], 0, 0
    for appearance in appearances:
        for index in range(appearance.start, appearance.end):
            names = [f["name"] for f in frames.get(index, {"faces": []})["faces"]]
            wrong += [(index, appearance.expected, n) for n in names
                      if n is not None and n != appearance.expected]
            if appearance.expected and index - appearance.start >= SETTLED_FROM:
                counted += 1
                named += appearance.expected in names
    return wrong, named, counted


def test_watch_json_never_names_the_wrong_face_across_hard_cuts(engine, settings, faces_dir,
                                                                weights_path, tmp_path):
    appearances = write_cut_clip(faces_dir, cut_visitors(engine, faces_dir),
                                 tmp_path / "cuts.avi", frames_each=FRAMES_EACH)
    out = subprocess.run([sys.executable, "main.py", "--db", str(settings.db_dir),
                          "--weights", str(weights_path), "watch", str(tmp_path / "cuts.avi"),
                          "--json"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    frames = [line for line in lines if "faces" in line]
    total = appearances[-1].end
    assert [f["frame"] for f in frames] == list(range(total))  # every frame, in order, once
    assert frames[30]["t"] == pytest.approx(30 / 25.0)  # the video's own clock
    face = next(f for f in frames if f["faces"])["faces"][0]
    assert set(face) == {"track", "box", "name", "similarity", "visitor"}
    assert len(face["box"]) == 4 and isinstance(face["similarity"], float)

    wrong, named, counted = rates(lines, appearances)
    print(f"hard cuts: {len(appearances)} appearances, {total} frames; wrong names on "
          f"{len(wrong)} face-frames; enrolled named on {named}/{counted} = "
          f"{named / counted:.1%} of their frames from the 10th on")
    assert wrong == []
    assert named / counted >= 0.85
    # attendance as the window writes it: a check-in per person named, an event for each
    checkins = [line for line in lines if line.get("event") == "checkin"]
    named_people = {f["name"] for line in frames for f in line["faces"] if f["name"]}
    assert {c["name"] for c in checkins} == named_people
    assert {r.name for r in engine.attendance.day()} == named_people


def test_watch_dry_run_writes_no_attendance_and_ends_with_the_file(engine, faces_dir,
                                                                    tmp_path):
    visitors = cut_visitors(engine, faces_dir, people=2)[:2]  # a person, then a stranger
    appearances = write_cut_clip(faces_dir, visitors, tmp_path / "two.avi", frames_each=6)
    watcher = Watcher(engine, str(tmp_path / "two.avi"), record_attendance=False)
    seen = []
    last = watcher.run(lambda watched: seen.append(frame_json(watched)))
    assert last is not None and last.state.value == "ended"
    assert [f["frame"] for f in seen] == list(range(appearances[-1].end))
    assert engine.attendance.day() == [] and engine.attendance.visitors() == 0
    wrong, _, _ = rates(seen, appearances)
    assert wrong == []
