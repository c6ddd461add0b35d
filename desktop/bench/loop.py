"""The window's live architecture, without Qt: a capture thread that keeps only the newest
frame (and draws the preview), and a recognition thread that always takes the newest one.

What it measures per run: preview fps (frames the capture thread delivered and drew),
recognitions per second (frames the recogniser finished), faces and embeddings per
processed frame, and for every face the time from its first appearance to its label.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from ..engine.live import UNKNOWN, LiveRecognizer
from ..engine.recognizer import FaceEngine
from .data import Appearance, Sequence
from .util import in_thread, median, percentile

log = logging.getLogger(__name__)


class Feed(Protocol):
    name: str
    fps: float
    appearances: list[Appearance] | None

    def frames(self) -> Iterator[np.ndarray]: ...


@dataclass
class SequenceFeed:
    """A synthetic clip with ground truth, composed frame by frame in the capture thread."""
    sequence: Sequence

    @property
    def name(self) -> str:
        return self.sequence.name

    @property
    def fps(self) -> float:
        return self.sequence.fps

    @property
    def appearances(self) -> list[Appearance]:
        return self.sequence.appearances

    def frames(self) -> Iterator[np.ndarray]:
        for index in range(self.sequence.length):
            yield self.sequence.frame(index)


@dataclass
class VideoFeed:
    """A video file decoded in the capture thread; looped until ``seconds`` if given."""
    path: Path
    seconds: float = 0.0
    """0 = play the file once; otherwise stop after this much video (looping the file)."""
    name: str = "crowd video"
    appearances: None = None

    def __post_init__(self) -> None:
        cap = cv2.VideoCapture(str(self.path))
        self.fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        self.size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                     int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()

    def frames(self) -> Iterator[np.ndarray]:
        limit = round(self.seconds * self.fps) if self.seconds else None
        delivered = 0
        while limit is None or delivered < limit:
            cap = cv2.VideoCapture(str(self.path))
            played = 0
            while limit is None or delivered < limit:
                ok, bgr = cap.read()
                if not ok:
                    break
                played += 1
                delivered += 1
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            cap.release()
            if limit is None or not played:
                return


class NewestFrame:
    """A one-frame mailbox: the capture thread overwrites, the recogniser takes the newest."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: tuple[int, float, np.ndarray] | None = None
        self._closed = False
        self.overlay: list[tuple[tuple[float, ...], str]] = []
        """(box, text) of the latest recognised tracks, drawn on every preview frame."""

    def put(self, index: int, stamp: float, frame: np.ndarray) -> None:
        with self._cond:
            self._item = (index, stamp, frame)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def take(self, after: int) -> tuple[int, float, np.ndarray] | None:
        """The newest frame with index > ``after``; None once closed and nothing newer."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or (self._item and self._item[0] > after))
            item = self._item
            return item if item is not None and item[0] > after else None


@dataclass
class TrackLog:
    first_index: int
    first_stamp: float
    labelled_at: float | None = None
    """Wall time (monotonic) when ``process`` returned with the first label."""
    first_label: str | None = None
    labels: set[str] = field(default_factory=set)
    votes: list[tuple[str | None, float]] = field(default_factory=list)
    """Every per-frame decision: (accepted name or None, similarity to the best person)."""
    area: float = 0.0
    """Largest box area seen: tells the visitor from a bystander in the same photo."""


@dataclass
class LiveRun:
    """One pass of a feed through the loop, with the raw logs and the derived figures."""
    scenario: str
    seconds: float = 0.0
    delivered: int = 0
    processed: int = 0
    capture_stamps: list[float] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    """Frame index of every processed frame (the others were skipped as stale)."""
    faces: list[int] = field(default_factory=list)
    embedded: list[int] = field(default_factory=list)
    timings: list[dict[str, float]] = field(default_factory=list)
    tracks: dict[int, TrackLog] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    expected_faces: int = 0
    labelled: int = 0
    correct: int = 0
    wrong: int = 0
    """Faces given a wrong label: another person's name, or a name for a stranger."""
    found: list[int] = field(default_factory=list)
    """Faces tracked in each processed frame while the clip's faces were on screen."""
    votes: int = 0
    wrong_votes: int = 0
    """Single-frame decisions that were wrong: what confirm_frames has to filter out."""
    similarities: list[float] = field(default_factory=list)
    """Similarity of every right per-frame decision for an enrolled visitor."""

    @property
    def preview_fps(self) -> float:
        stamps = self.capture_stamps
        return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")

    @property
    def recognitions_per_s(self) -> float:
        return self.processed / self.seconds if self.seconds else float("nan")

    @property
    def faces_per_frame(self) -> float:
        return float(np.mean(self.faces)) if self.faces else float("nan")

    @property
    def embeds_per_frame(self) -> float:
        return float(np.mean(self.embedded)) if self.embedded else float("nan")

    def stage_ms(self, stage: str) -> float:
        return median(t[stage] for t in self.timings)


def _draw_preview(frame: np.ndarray, overlay: list[tuple[tuple[float, ...], str]]) -> None:
    """What the window does to every frame: boxes and labels on a copy of it."""
    canvas = frame.copy()
    for box, text in overlay:
        x1, y1, x2, y2 = (int(v) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (0, 200, 0), 2)
        cv2.putText(canvas, text, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 200, 0), 1)


def _capture(feed: Feed, mailbox: NewestFrame, run: LiveRun, stop: threading.Event) -> None:
    """Deliver frames at the feed's frame rate (no faster), each drawn as a preview."""
    try:
        started = time.monotonic()
        for index, frame in enumerate(feed.frames()):
            delay = started + index / feed.fps - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            if stop.is_set():
                break
            stamp = time.monotonic()
            mailbox.put(index, stamp, frame)
            run.capture_stamps.append(stamp)
            _draw_preview(frame, mailbox.overlay)
    finally:
        mailbox.close()


def run_live(engine: FaceEngine, feed: Feed, overrides: dict | None = None, *,
             on_frame: Callable[[LiveRun], None] | None = None) -> LiveRun:
    """Play ``feed`` through a fresh LiveRecognizer in real time; return the run's figures."""
    recognizer = LiveRecognizer.from_settings(engine, **(overrides or {}))
    run = LiveRun(feed.name)
    mailbox, stop = NewestFrame(), threading.Event()
    capture = threading.Thread(target=_capture, args=(feed, mailbox, run, stop),
                               name="bench-capture", daemon=True)
    started = time.monotonic()
    capture.start()
    try:
        in_thread(_recognise, recognizer, mailbox, run, on_frame, name="bench-recognition")
    finally:
        stop.set()
        capture.join()
    run.seconds = time.monotonic() - started
    run.delivered = len(run.capture_stamps)
    _score(run, feed.appearances)
    return run


def _recognise(recognizer: LiveRecognizer, mailbox: NewestFrame, run: LiveRun,
               on_frame: Callable[[LiveRun], None] | None) -> None:
    """The recognition thread: always the newest frame, until the capture thread is done."""
    last = -1
    while (item := mailbox.take(last)) is not None:
        index, stamp, frame = item
        last = index
        result = recognizer.process(frame, now=stamp)
        done = time.monotonic()
        run.processed += 1
        run.indices.append(index)
        run.faces.append(len(result.tracks))
        run.embedded.append(result.embedded)
        run.timings.append(result.timings)
        for track in result.tracks:
            entry = run.tracks.setdefault(track.id, TrackLog(index, track.first_seen))
            entry.area = max(entry.area, track.face.detection.area)
            if track.last_embedded == stamp and track.match is not None:
                entry.votes.append((track.match.name, track.match.similarity))
            if track.label is not None:
                entry.labels.add(track.label)
                if entry.labelled_at is None:
                    entry.labelled_at, entry.first_label = done, track.label
        mailbox.overlay = [(t.box, t.text) for t in result.tracks]
        if on_frame:
            on_frame(run)


def _score(run: LiveRun, appearances: list[Appearance] | None) -> None:
    """Latency and correctness per face, against ground truth when the feed has it."""
    if appearances is None:  # a real video of strangers: every track is a face to label
        run.expected_faces = len(run.tracks)
        run.found = run.faces
        for entry in run.tracks.values():
            _count_votes(run, entry, UNKNOWN)
            if entry.labelled_at is not None:
                run.labelled += 1
                run.latencies_ms.append((entry.labelled_at - entry.first_stamp) * 1000)
                ok = entry.labels <= {UNKNOWN}
                run.correct += ok
                run.wrong += not ok
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
                          key=lambda e: e.labelled_at)
        for entry in labelled[:appearance.faces]:
            run.labelled += 1
            run.latencies_ms.append((entry.labelled_at - shown) * 1000)
            ok = entry.first_label == appearance.expected and \
                entry.labels <= {appearance.expected}
            run.correct += ok
            run.wrong += not ok


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
        "faces_per_frame": median(r.faces_per_frame for r in runs),
        "embeds_per_frame": median(r.embeds_per_frame for r in runs),
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
