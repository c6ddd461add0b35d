"""What a live run measured: recorded from the pipeline's own callbacks, then scored.

A ``Recorder`` is a ``PipelineListener`` on the real pipeline (in the window or without
it): it logs every captured frame and every result. Time to a label runs from the capture
of the frame where the face first appears to the moment the result was shown (the
window's GUI thread) or, without a window, ready.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from desktop.bench.data import Appearance
from desktop.bench.util import median, percentile
from desktop.engine.core.names import NOT_LIVE
from desktop.engine.live.pipeline import PipelineListener
from desktop.engine.live.snapshot import Recognition
from desktop.engine.live.tracker import UNKNOWN
from desktop.engine.video.feed import Frame


@dataclass
class TrackLog:
    first_index: int
    first_stamp: float
    labelled_at: float | None = None
    first_label: str | None = None
    labels: set[str] = field(default_factory=set)
    votes: list[tuple[str | None, float]] = field(default_factory=list)
    """Every per-frame decision: (accepted name or None, similarity to the best person)."""
    area: float = 0.0
    """Largest box area seen: tells the visitor from a bystander in the same photo."""


@dataclass
class LiveRun:
    """One pass of a clip through the pipeline, with the raw logs and the derived figures."""
    scenario: str
    seconds: float = 0.0
    processed: int = 0
    capture_stamps: list[float] = field(default_factory=list)
    """Capture time of every frame of the clip, by frame index."""
    painted: int = 0
    """Frames the window painted (0 without a window: then the capture rate is used)."""
    indices: list[int] = field(default_factory=list)
    faces: list[int] = field(default_factory=list)
    embedded: list[int] = field(default_factory=list)
    timings: list[dict[str, float]] = field(default_factory=list)
    tracks: dict[int, TrackLog] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    expected_faces: int = 0
    labelled: int = 0
    correct: int = 0
    wrong: int = 0
    """Faces given a wrong label: another person's name, or a name for a stranger (an
    enrolled face left "Unknown" is a miss: labelled but not correct, not wrong)."""
    found: list[int] = field(default_factory=list)
    votes: int = 0
    wrong_votes: int = 0
    similarities: list[float] = field(default_factory=list)

    @property
    def preview_fps(self) -> float:
        stamps = self.capture_stamps
        if len(stamps) < 2:
            return float("nan")
        shown = self.painted or len(stamps)
        return (shown - 1) / (stamps[-1] - stamps[0])

    @property
    def recognitions_per_s(self) -> float:
        return self.processed / self.seconds if self.seconds else float("nan")

    def stage_ms(self, stage: str) -> float:
        return median(t[stage] for t in self.timings)


class Recorder(PipelineListener):
    """Logs one source's frames and results (call ``shown`` from the front end's thread
    when a result is on screen; without a front end, results count as shown when ready)."""

    def __init__(self, run: LiveRun, *, window: bool = False) -> None:
        self.run = run
        self.window = window
        self.source_id = -1
        self.ended = threading.Event()
        self._index: dict[int, int] = {}
        self._lock = threading.Lock()

    def on_source(self, spec: str, source_id: int) -> None:
        self.source_id = source_id

    def on_frame(self, frame: Frame, source_id: int) -> None:
        if source_id == self.source_id:
            with self._lock:
                self._index[frame.seq] = len(self.run.capture_stamps)
                self.run.capture_stamps.append(frame.ts)

    def on_status(self, status, source_id: int) -> None:
        if source_id == self.source_id and status.state.value in ("ended", "failed"):
            self.ended.set()

    def on_result(self, recognition: Recognition) -> None:
        if not self.window:
            self.shown(recognition, recognition.finished)

    def shown(self, rec: Recognition, when: float | None = None) -> None:
        when = time.monotonic() if when is None else when
        with self._lock:
            index = self._index.get(rec.frame_seq)
        if index is None:
            return  # a frame of another source
        run = self.run
        run.processed += 1
        run.indices.append(index)
        run.faces.append(len(rec.tracks))
        run.embedded.append(rec.embedded)
        run.timings.append(rec.timings)
        for track in rec.tracks:
            entry = run.tracks.setdefault(track.id, TrackLog(index, rec.frame_ts))
            entry.area = max(entry.area, track.face.detection.area)
            if track.fresh_match is not None:
                entry.votes.append((track.fresh_match.name, track.fresh_match.similarity))
            if track.label is not None:
                entry.labels.add(track.label)
                if entry.labelled_at is None:
                    entry.labelled_at, entry.first_label = when, track.label


def score(run: LiveRun, appearances: list[Appearance] | None) -> None:
    """Latency and correctness per face, against ground truth when the clip has it."""
    if appearances is None:  # a real video of strangers: every track is a face to label
        run.expected_faces = len(run.tracks)
        run.found = run.faces
        for entry in run.tracks.values():
            _count_votes(run, entry, UNKNOWN)
            if entry.labelled_at is not None:
                run.labelled += 1
                run.latencies_ms.append((entry.labelled_at - entry.first_stamp) * 1000)
                run.correct += entry.labels <= {UNKNOWN}
                run.wrong += bool(wrong_names(entry.labels, UNKNOWN))
        return
    for appearance in appearances:
        run.expected_faces += appearance.faces
        if appearance.start >= len(run.capture_stamps):
            continue
        shown = run.capture_stamps[appearance.start]
        run.found += [n for i, n in zip(run.indices, run.faces)
                      if appearance.start <= i < appearance.end]
        mine = [e for e in run.tracks.values() if appearance.start <= e.first_index < appearance.end]
        if appearance.expected != UNKNOWN and mine:  # a known visitor, not the bystanders
            biggest = max(e.area for e in mine)
            mine = [e for e in mine if e.area >= 0.5 * biggest]
        for entry in mine:
            _count_votes(run, entry, appearance.expected)
        labelled = sorted((e for e in mine if e.labelled_at is not None),
                          key=lambda e: e.labelled_at or 0.0)
        for entry in labelled[:appearance.faces]:
            run.labelled += 1
            run.latencies_ms.append(((entry.labelled_at or 0.0) - shown) * 1000)
            run.correct += entry.first_label == appearance.expected and \
                entry.labels <= {appearance.expected}
            run.wrong += bool(wrong_names(entry.labels, appearance.expected))


def wrong_names(labels: set[str], expected: str) -> set[str]:
    """The names among ``labels`` that are not ``expected``: a name on the wrong person
    or on a stranger ("Unknown" and "Not live" name nobody)."""
    return labels - {expected, UNKNOWN, NOT_LIVE}


def _count_votes(run: LiveRun, entry: TrackLog, expected: str) -> None:
    want = None if expected == UNKNOWN else expected
    for name, similarity in entry.votes:
        run.votes += 1
        run.wrong_votes += name != want
        if want is not None and name == want:
            run.similarities.append(similarity)


def summarise(runs: list[LiveRun]) -> dict[str, float]:
    """Each figure as the median over runs; counts summed over runs."""
    return {
        "preview_fps": median(r.preview_fps for r in runs),
        "rec_per_s": median(r.recognitions_per_s for r in runs),
        "faces_per_frame": median(float(np.mean(r.faces)) if r.faces else float("nan")
                                  for r in runs),
        "embeds_per_frame": median(float(np.mean(r.embedded)) if r.embedded else float("nan")
                                   for r in runs),
        "detect_ms": median(r.stage_ms("detect") for r in runs),
        "embed_ms": median(r.stage_ms("embed") for r in runs),
        "total_ms": median(r.stage_ms("total") for r in runs),
        "latency_ms": median(median(r.latencies_ms) for r in runs),
        "latency_p90_ms": median(percentile(r.latencies_ms, 90) for r in runs),
        "latency_max_ms": median(max(r.latencies_ms, default=float("nan")) for r in runs),
        "labelled": sum(r.labelled for r in runs),
        "expected": sum(r.expected_faces for r in runs),
        "correct": sum(r.correct for r in runs),
        "wrong": sum(r.wrong for r in runs),
        "found": median(median(r.found) for r in runs),
        "votes": sum(r.votes for r in runs),
        "wrong_votes": sum(r.wrong_votes for r in runs),
        "similarity": median(median(r.similarities) for r in runs),
        "runs": len(runs),
    }
