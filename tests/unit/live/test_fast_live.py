"""Fast tier: the live recogniser and the live pipeline on synthetic detections and
vectors (tests/synthetic.py) over a real gallery, Faiss index and SQLite attendance."""
from __future__ import annotations

import threading
import time

import pytest
from synthetic import face, frame, script
from test_sources import write_video

from desktop.engine.core.geometry import iou
from desktop.engine.live.pipeline import LivePipeline, PipelineListener
from desktop.engine.live.tracker import UNKNOWN, LiveRecognizer
from desktop.engine.video.feed import Frame


def test_iou_of_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)


def test_tracks_follow_overlapping_boxes_and_drop_after_missed_frames(synthetic):
    live = LiveRecognizer(synthetic, confirm_frames=2, max_missed=1, record_attendance=False)
    script(synthetic).update({1: [face((10, 10, 50, 50), 1), face((100, 10, 140, 50), 2)],
                              2: [face((14, 10, 54, 50), 1), face((104, 10, 144, 50), 2)],
                              3: [face((18, 10, 58, 50), 1)]})
    first = live.process(frame(1), now=1.0)
    second = live.process(frame(2), now=1.1)
    assert sorted(t.id for t in first.tracks) == sorted(t.id for t in second.tracks)
    third = live.process(frame(3), now=1.2)
    assert len(third.tracks) == 1 and len(live.tracks) == 2  # Grace missed once: kept
    live.process(frame(3), now=1.3)
    assert len(live.tracks) == 1  # missed twice: dropped


def test_a_label_needs_agreeing_frames_then_is_steady_and_checks_in_once(synthetic):
    live = LiveRecognizer(synthetic, confirm_frames=2, recheck_seconds=1.0,
                          instant_decisions=False)
    script(synthetic).update({n: [face((10 + n, 10, 60 + n, 60), 1)] for n in range(1, 8)})
    first = live.process(frame(1), now=0.0)
    assert first.tracks[0].label is None and first.tracks[0].text == "..."
    second = live.process(frame(2), now=0.1)
    track = second.tracks[0]
    assert track.label == "Ada" and track.text.startswith("Ada 0.")
    assert [c.name for c in second.checkins] == ["Ada"]
    third = live.process(frame(3), now=0.2)
    assert third.embedded == 0  # confirmed and not due a re-check: no embedding
    recheck = live.process(frame(4), now=1.5)
    assert recheck.embedded == 1 and recheck.checkins == []  # cool-down: one check-in
    assert [r.name for r in synthetic.attendance.day()] == ["Ada"]


def test_a_decisive_first_decision_is_shown_at_once_a_borderline_one_waits(synthetic):
    live = LiveRecognizer(synthetic, confirm_frames=2)
    boxes = [(10, 10, 60, 60), (100, 10, 150, 60), (200, 10, 250, 60)]
    for n in (1, 2):  # Ada (clear), Grace at similarity 0.65 (named, not decisive), a stranger
        script(synthetic)[n] = [face(boxes[0], 1), face(boxes[1], 2, similarity=0.65),
                               face(boxes[2], 0)]
    first = sorted(live.process(frame(1), now=0.0).tracks, key=lambda t: t.box[0])
    assert [t.label for t in first] == ["Ada", None, UNKNOWN]
    assert 0.6 < first[1].match.similarity < 0.7 and first[1].match.name == "Grace"
    assert synthetic.attendance.day() == [] and synthetic.attendance.visitors() == 0
    second = sorted(live.process(frame(2), now=0.1).tracks, key=lambda t: t.box[0])
    assert [t.label for t in second] == ["Ada", "Grace", UNKNOWN]  # Grace: two agreeing frames
    # attendance waits for two agreeing decisions, even for a label shown at once
    assert sorted(r.name for r in synthetic.attendance.day()) == ["Ada", "Grace"]
    assert synthetic.attendance.visitors() == 1


def test_a_face_first_unknown_then_recognised_checks_in_with_its_snapshot(synthetic):
    synthetic.attendance.store_checkin_snapshots = True
    live = LiveRecognizer(synthetic, confirm_frames=2, recheck_seconds=0.0)
    poor, good = face((10, 10, 60, 60), 1, similarity=0.30), face((10, 10, 60, 60), 1)
    script(synthetic).update({1: [poor], 2: [poor], 3: [good], 4: [good]})
    assert live.process(frame(1), now=0.0).tracks[0].label == UNKNOWN  # shown at once...
    assert synthetic.attendance.visitors() == 0  # ...but not counted on one decision
    live.process(frame(2), now=0.1)
    assert synthetic.attendance.visitors() == 1  # two agreeing decisions: a visitor
    third = live.process(frame(3), now=0.2)  # a decisive name replaces 'Unknown' at once...
    assert third.tracks[0].label == "Ada" and third.checkins == []  # ...attendance waits
    fourth = live.process(frame(4), now=0.3)
    assert fourth.tracks[0].label == "Ada" and [c.name for c in fourth.checkins] == ["Ada"]
    snapshots = synthetic.db.query("SELECT snapshot FROM checkins")
    assert len(snapshots) == 1 and snapshots[0][0]  # the check-in keeps its photo


def test_a_stranger_is_unknown_and_counted_once_as_a_visitor(synthetic):
    live = LiveRecognizer(synthetic, confirm_frames=2, recheck_seconds=0.0)
    script(synthetic).update({n: [face((10, 10, 60, 60), 0)] for n in range(1, 5)})
    for n in range(1, 5):
        result = live.process(frame(n), now=n / 10)
    assert result.tracks[0].label == UNKNOWN and result.tracks[0].text == UNKNOWN
    assert synthetic.attendance.visitors() == 1


class Collect(PipelineListener):
    def __init__(self) -> None:
        self.results, self.frames = [], []
        self.got = threading.Event()

    def on_frame(self, frame: Frame, source_id: int) -> None:
        self.frames.append(frame.seq)

    def on_result(self, recognition) -> None:
        self.results.append(recognition)
        self.got.set()


class SkipAll:
    def wants(self, frame, tracks) -> bool:
        return False


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def running(synthetic):
    """Start a LivePipeline over the synthetic engine with a Collect listener; every
    pipeline started is stopped after the test."""
    started: list[LivePipeline] = []

    def start(**options) -> tuple[LivePipeline, Collect]:
        pipeline, seen = LivePipeline(synthetic, **options), Collect()
        pipeline.add_listener(seen)
        pipeline.start()
        started.append(pipeline)
        return pipeline, seen
    yield start
    for pipeline in started:
        pipeline.stop()


def test_pipeline_recognises_the_newest_frames_and_drops_stale_results(tmp_path, running):
    clip = write_video(tmp_path / "clip.avi", frames=20, fps=50)
    pipeline, seen = running()
    pipeline.set_source(str(clip))
    wait_for(lambda: len(seen.results) >= 3)
    seqs = [r.frame_seq for r in seen.results]
    assert seqs == sorted(seqs) and set(seqs) <= set(seen.frames)
    pipeline.reset()
    stale = pipeline.stale_before
    count = len(seen.results)
    wait_for(lambda: len(seen.results) > count)
    assert all(r.frame_seq > stale for r in seen.results[count:])
    assert all(pipeline.is_current(r) for r in seen.results[count:])


def test_the_gate_decides_which_frames_are_recognised(synthetic, tmp_path, running):
    clip = write_video(tmp_path / "clip.avi", frames=10, fps=50)
    pipeline, seen = running(gate=SkipAll())
    pipeline.set_source(str(clip))
    wait_for(lambda: len(seen.frames) >= 10)
    time.sleep(0.2)
    assert seen.results == [] and synthetic.models.detector.calls == 0


def test_reconfigure_checks_everything_first_then_applies_what_changed(synthetic, tmp_path,
                                                                       running):
    from desktop.engine.core.errors import SettingsError
    from desktop.engine.live.apply_settings import reconfigure
    with pytest.raises(SettingsError, match="confirm_frames"):
        reconfigure(synthetic, {"cooldown_minutes": 3, "confirm_frames": 0})
    assert synthetic.settings.cooldown_minutes == 10.0  # nothing applied
    with pytest.raises(SettingsError, match="unknown setting"):
        reconfigure(synthetic, {"no_such_setting": 1})

    clip = write_video(tmp_path / "clip.avi", frames=10, fps=50)
    pipeline, seen = running()
    applied = reconfigure(synthetic, {"cooldown_minutes": "3", "source": str(clip),
                                      "weights": "casia-webface"}, pipeline)
    assert synthetic.attendance.cooldown == 180.0
    assert pipeline.source_spec == str(clip) and pipeline.source_id == 1
    assert applied.restart_needed == ("weights",)
    wait_for(lambda: len(seen.results) >= 1)
    before = pipeline.stale_before
    reconfigure(synthetic, {"confirm_frames": 3}, pipeline)
    assert pipeline.stale_before >= before and pipeline.source_id == 1
