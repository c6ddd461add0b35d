"""Fast tier: a displayed name is always backed by the current face. Hard cuts, faces
that reappear or change size, and decisions that stop agreeing with the label, on
synthetic detections and vectors (tests/synthetic.py) over a real gallery."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from synthetic import face, frame, script

from desktop.engine.live.tracker import UNKNOWN, LiveRecognizer
from desktop.engine.live.tracking import appearance

BOX = (100, 100, 180, 180)


@dataclass(frozen=True)
class Seen:
    """One track as the window would draw it on that frame (tracks change later)."""
    id: int
    label: str | None
    text: str


@dataclass(frozen=True)
class Shown:
    embedded: int
    tracks: list[Seen]


def run(live: LiveRecognizer, synthetic, frames: list[list], start: float = 0.0) -> list:
    """Process one frame per entry of ``frames`` (the faces in it), 0.04 s apart."""
    results = []
    for n, faces in enumerate(frames, start=1):
        script(synthetic).clear()
        script(synthetic)[n] = faces
        result = live.process(frame(n), now=start + n * 0.04)
        results.append(Shown(result.embedded,
                             [Seen(t.id, t.label, t.text) for t in result.tracks]))
    return results


def test_crops_of_another_face_look_different_and_the_same_face_alike():
    ada, stranger = face(BOX, 1).crop, face(BOX, 0).crop
    noise = np.random.default_rng(0).integers(-8, 9, ada.shape)
    again = np.clip(ada.astype(int) + noise, 0, 255).astype(np.uint8)  # a frame later
    assert appearance(ada) @ appearance(again) > 0.99
    assert appearance(ada) @ appearance(stranger) < 0.9  # under track_min_appearance (0.9)


@pytest.mark.parametrize("person, expected", [(0, UNKNOWN), (2, "Grace")])
def test_a_hard_cut_at_the_same_spot_never_keeps_the_old_name(synthetic, person, expected):
    live = LiveRecognizer(synthetic, recheck_seconds=10.0, record_attendance=False)
    ada = run(live, synthetic, [[face(BOX, 1)]] * 5)
    assert ada[-1].tracks[0].label == "Ada" and ada[-1].embedded == 0  # tracked, not embedded
    after = run(live, synthetic, [[face(BOX, person)]] * 3, start=1.0)
    first = after[0].tracks[0]
    assert first.id != ada[-1].tracks[0].id and first.label == expected  # a new track, at once
    assert after[0].embedded == 1 and after[1].embedded + after[2].embedded == 1  # then voted
    assert all(r.tracks[0].label == expected for r in after)


def test_a_borderline_face_after_a_cut_is_pending_not_the_old_name(synthetic):
    live = LiveRecognizer(synthetic, recheck_seconds=10.0, record_attendance=False)
    run(live, synthetic, [[face(BOX, 1)]] * 3)
    after = run(live, synthetic, [[face(BOX, 2, similarity=0.6)]] * 2, start=1.0)
    assert after[0].tracks[0].label is None  # Grace at 0.6: not decisive, waits a frame
    assert after[1].tracks[0].label == "Grace"


def test_a_name_is_cleared_the_frame_its_similarity_falls_under_the_threshold(synthetic):
    live = LiveRecognizer(synthetic, recheck_seconds=0.0, record_attendance=False)
    run(live, synthetic, [[face(BOX, 1)]] * 3)
    # the same look (one person's texture) but an embedding that no longer reaches Ada
    fading = run(live, synthetic, [[face(BOX, 1, similarity=0.45)]] * 3, start=1.0)
    for result in fading:
        track = result.tracks[0]
        assert track.label != "Ada" and not track.text.startswith("Ada")
    assert fading[-1].tracks[0].label == UNKNOWN  # two agreeing decisions of nobody


def test_a_face_found_again_or_resized_is_rechecked_and_keeps_its_track(synthetic):
    live = LiveRecognizer(synthetic, recheck_seconds=10.0, record_attendance=False)
    before = run(live, synthetic, [[face(BOX, 1)]] * 3)[-1].tracks[0]
    gap = run(live, synthetic, [[], [face(BOX, 1)]], start=1.0)
    assert gap[1].embedded == 1 and gap[1].tracks[0].id == before.id  # re-embedded, agrees
    assert gap[1].tracks[0].label == "Ada"
    bigger = run(live, synthetic, [[face((90, 90, 190, 190), 1)]], start=2.0)[0]
    assert bigger.embedded == 1 and bigger.tracks[0].id == before.id
    steady = run(live, synthetic, [[face((91, 90, 191, 190), 1)]], start=3.0)[0]
    assert steady.embedded == 0  # a steady, agreeing face is not re-embedded


def test_a_stranger_returning_after_a_gap_in_anothers_spot_is_a_new_track(synthetic):
    live = LiveRecognizer(synthetic, recheck_seconds=10.0, record_attendance=False)
    ada = run(live, synthetic, [[face(BOX, 1)]] * 3)[-1].tracks[0]
    after = run(live, synthetic, [[], [face((104, 100, 184, 180), 0)]], start=1.0)[1]
    assert after.tracks[0].id != ada.id and after.tracks[0].label == UNKNOWN


def test_the_bench_counts_wrong_names_not_misses():
    """A live run's score: an enrolled face left 'Unknown' is a miss; a name on the wrong
    person or on a stranger is wrong."""
    from desktop.bench.data import Appearance
    from desktop.bench.scoring import LiveRun, TrackLog, score
    run = LiveRun("cuts", capture_stamps=[0.0, 0.04, 0.08, 0.12])
    run.tracks = {1: TrackLog(0, 0.0, 0.05, UNKNOWN, {UNKNOWN}),  # Ada missed
                  2: TrackLog(1, 0.04, 0.09, "Ada", {"Ada"}),  # Ada named
                  3: TrackLog(2, 0.08, 0.1, "Grace", {"Grace"}),  # a stranger named
                  4: TrackLog(3, 0.12, 0.13, UNKNOWN, {UNKNOWN})}  # a stranger unknown
    score(run, [Appearance("Ada", 0, 1), Appearance("Ada", 1, 2), Appearance(UNKNOWN, 2, 3),
                Appearance(UNKNOWN, 3, 4)])
    assert (run.labelled, run.correct, run.wrong) == (4, 2, 1)
