"""Liveness in the live loop, through the real pipeline: real MiniFASNet and FaceNet
weights, the upstream attack pictures as a folder source, frames of a real video."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from gui_helpers import VIDEO, slideshow, video_crops
from test_challenge import FRONT, det

from desktop.engine.core.names import NOT_LIVE, RESERVED_LABELS, normalize_name
from desktop.engine.decisions.challenge import LEFT, RIGHT
from desktop.engine.live.liveness_gate import PROMPTS, SubjectChallenge, new_challenge
from desktop.engine.live.pipeline import LivePipeline, PipelineListener
from desktop.engine.live.tracker import LiveRecognizer
from desktop.engine.settings.config import Settings
from desktop.engine.video.sources import open_source

ATTACKS = ("minivision_image_F1.jpg", "minivision_image_F2.jpg")
REAL = "minivision_image_T1.jpg"
WAIT = 120.0


class Collect(PipelineListener):
    def __init__(self) -> None:
        self.results: list = []

    def on_result(self, recognition) -> None:
        self.results.append(recognition)


def wait_for(condition, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def labels(results) -> set:
    return {t.label for r in results for t in r.tracks if t.label is not None}


def test_not_live_is_a_reserved_label():
    assert NOT_LIVE in RESERVED_LABELS
    with pytest.raises(Exception, match="choose another name"):
        normalize_name("not  LIVE")


def test_prompt_and_sign_agree_for_plain_and_mirrored_cameras(settings):
    """'your left' is the person's own left; a mirroring camera flips the measured sign."""
    assert PROMPTS[LEFT].endswith("your left") and PROMPTS[RIGHT].endswith("your right")
    assert new_challenge(settings, LEFT).sign == 1.0
    assert new_challenge(settings, RIGHT).sign == -1.0
    settings.camera_mirrored = True
    assert new_challenge(settings, LEFT).sign == -1.0


def track(track_id: int, landmarks) -> SimpleNamespace:
    """What SubjectChallenge reads of a TrackView: its id and detection."""
    return SimpleNamespace(id=track_id, face=SimpleNamespace(detection=det(landmarks)))


def test_registration_challenge_follows_one_track_and_the_camera_s_mirroring():
    turned_left = FRONT.copy()
    turned_left[2, 0] += 12  # the nose leaves the eye-mouth plane towards the image's right
    session = SubjectChallenge(Settings(), LEFT)
    session.feed(track(1, FRONT), 0.0)
    for t in range(5):  # someone else turning never passes it
        assert session.feed(track(2, turned_left), 0.1 + t / 10).running
    for t in range(3):
        session.feed(track(1, turned_left), 1.0 + t / 10)
    assert session.passed and session.track_id == 1

    mirrored = SubjectChallenge(Settings(camera_mirrored=True), LEFT)
    mirrored.feed(track(1, FRONT), 0.0)
    assert mirrored.feed(track(1, turned_left), 0.1).state == "failed"
    mirrored.restart()
    assert mirrored.view.running and mirrored.track_id is None


def test_photos_held_up_are_not_live_and_check_nobody_in(engine, faces_dir, load, tmp_path):
    spoof = faces_dir / "spoof"
    engine.enroll("Sample Subject", [("T1", load(spoof / REAL))])  # the attacks show him
    engine.settings.liveness = "passive"
    engine.settings.slideshow_seconds = 3.0
    pipeline = LivePipeline(engine)
    seen = Collect()
    pipeline.add_listener(seen)
    pipeline.start()
    try:
        pipeline.set_source(str(slideshow(tmp_path, *(spoof / a for a in ATTACKS))))
        # the count moves inside a frame's recognition; its result is reported after it
        wait_for(lambda: bool(seen.results) and seen.results[-1].rejected >= 2)
    finally:
        pipeline.stop()
    shown = labels(seen.results)
    assert NOT_LIVE in shown and "Sample Subject" not in shown
    assert not any(r.checkins for r in seen.results)
    assert engine.attendance.day() == [] and engine.attendance.visitors() == 0
    fake = next(t for r in seen.results for t in r.tracks if t.label == NOT_LIVE)
    assert fake.text == NOT_LIVE and not fake.known and fake.liveness.score < 0.5
    assert seen.results[-1].rejected >= 2
    rows = engine.db.query("SELECT action, detail FROM audit WHERE action = 'liveness_rejected'")
    assert len(rows) >= 2 and all("Sample" not in detail for _, detail in rows)  # no names


def test_a_live_face_in_the_video_still_checks_in_with_passive_on(engine, faces_dir):
    video = faces_dir / VIDEO
    engine.enroll_crops("Alex", video_crops(video, engine, (60, 100)), ["frame 60", "frame 100"])
    engine.settings.liveness = "passive"
    live = LiveRecognizer.from_settings(engine)
    assert live.gate.mode == "passive"
    source = open_source(str(video), loop_video=False)
    source.open()
    checkins, timings = [], []
    try:
        for index in range(150):
            frame = source.read()
            if frame is None:
                break
            if index % 3:
                continue
            result = live.process(frame, now=index / 25)
            checkins += result.checkins
            timings.append(result.timings["liveness"])
            if checkins:
                break
    finally:
        source.close()
    assert [c.name for c in checkins] == ["Alex"]
    assert live.rejected == 0
    assert max(timings) > 0  # the check ran, once per track about to be labelled
