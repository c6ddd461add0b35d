"""The recognition thread: the live recogniser on the newest frame, results by signal.

Tracks belong to the recogniser and change on every frame, so the thread hands the GUI
immutable ``TrackView`` snapshots instead.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from PyQt5.QtCore import QThread, pyqtSignal

from ..engine.attendance import CheckIn
from ..engine.live import LiveRecognizer, Track
from ..engine.recognizer import Face, FaceEngine
from ..engine.sources import Frame, LatestFrame

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
ERROR_PAUSE_SECONDS = 1.0
STOP_WAIT_MS = 10000


@dataclass(frozen=True)
class TrackView:
    """What the window needs of a track, frozen at the time of one frame."""
    id: int
    box: tuple[float, float, float, float]
    text: str
    label: str | None
    """A name, 'Unknown', or None while pending."""
    known: bool
    similarity: float | None
    face: Face
    """Detection (box, landmarks) and the 160x160 crop: what registration samples."""
    label_seconds: float | None
    """Seconds from first sight to a confirmed label; None while pending."""
    newly_labelled: bool
    """The label was confirmed (or changed) on this very frame."""

    @classmethod
    def of(cls, track: Track, now: float) -> "TrackView":
        latency = (track.labelled_at - track.first_seen
                   if track.labelled_at is not None else None)
        return cls(track.id, tuple(track.box), track.text, track.label, track.known,
                   track.match.similarity if track.match else None, track.face, latency,
                   track.labelled_at == now)


@dataclass(frozen=True)
class Recognition:
    frame_seq: int
    frame_ts: float
    frame_size: tuple[int, int]
    """(width, height) of the frame the boxes refer to."""
    tracks: tuple[TrackView, ...]
    checkins: tuple[CheckIn, ...]
    timings: dict[str, float]
    embedded: int
    finished: float
    """time.monotonic() when the result was ready."""

    @property
    def latency_ms(self) -> float:
        """Capture to result, including waiting for the recogniser to be free."""
        return (self.finished - self.frame_ts) * 1000


class RecognitionThread(QThread):
    result_ready = pyqtSignal(object)  # Recognition
    failed = pyqtSignal(str)

    def __init__(self, engine: FaceEngine, slot: LatestFrame, parent=None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.slot = slot
        self._stop = threading.Event()
        self._reset = threading.Event()
        self.frames = 0
        self.setObjectName("recognition")

    def request_reset(self) -> None:
        """Forget tracks before the next frame (gallery or source changed)."""
        self._reset.set()

    def run(self) -> None:
        live = LiveRecognizer.from_settings(self.engine)
        seq = 0
        while not self._stop.is_set():
            frame = self.slot.wait_newer(seq, POLL_SECONDS)
            if frame is None or self._stop.is_set():
                continue
            seq = frame.seq
            if self._reset.is_set():
                self._reset.clear()
                live.reset()
            try:
                self.result_ready.emit(self._recognise(live, frame))
            except Exception as exc:  # keep the window alive; say what went wrong
                log.exception("Recognition failed on frame %d", frame.seq)
                self.failed.emit(f"Recognition failed: {exc}")
                self._stop.wait(ERROR_PAUSE_SECONDS)

    def _recognise(self, live: LiveRecognizer, frame: Frame) -> Recognition:
        result = live.process(frame.rgb, now=frame.ts)
        self.frames += 1
        height, width = frame.rgb.shape[:2]
        return Recognition(frame.seq, frame.ts, (width, height),
                           tuple(TrackView.of(t, frame.ts) for t in result.tracks),
                           tuple(result.checkins), dict(result.timings), result.embedded,
                           time.monotonic())

    def stop(self) -> None:
        self._stop.set()
        self.slot.wake()
        if not self.wait(STOP_WAIT_MS):
            log.warning("Recognition did not stop within %d ms", STOP_WAIT_MS)
