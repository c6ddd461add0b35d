"""The live pipeline, without Qt: the one the window, the benchmark and the tests run.

A capture thread runs a ``Feed`` for the current source and puts every frame into a
one-slot ``LatestFrame``. The recognition thread always takes the newest frame (older
ones are skipped, so recognition never falls behind the camera), asks the ``FrameGate``
whether this frame needs recognising, runs the ``LiveRecognizer`` and reports a frozen
``Recognition``. Front ends listen through ``PipelineListener`` callbacks, which run on
the pipeline's threads: a window turns them into signals, a benchmark records them.

Stale-frame rule: after ``reset`` (new source, gallery or threshold changed) results of
frames captured before it are dropped, here and, for results already on their way to a
front end, by ``is_current``.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.live.liveness_gate import RejectCounter
from desktop.engine.live.snapshot import Recognition
from desktop.engine.live.tracker import LiveRecognizer, Track
from desktop.engine.video.feed import Feed, Frame, LatestFrame, SourceStatus

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
ERROR_PAUSE_SECONDS = 1.0
STOP_WAIT_SECONDS = 10.0
"""Longest wait for a thread to finish; a stream read times out after 5 s."""


class PipelineListener:
    """Callbacks of a running pipeline; override what you need. They run on the
    pipeline's threads (capture: frames and statuses; recognition: results, errors)."""

    def on_source(self, spec: str, source_id: int) -> None:
        """A new source was chosen (on the thread that called ``set_source``)."""

    def on_frame(self, frame: Frame, source_id: int) -> None:
        """A new frame is in the slot (every frame, at the source's rate)."""

    def on_status(self, status: SourceStatus, source_id: int) -> None:
        """The source changed state (connecting, live, retrying, ended, failed)."""

    def on_result(self, recognition: Recognition) -> None:
        """A frame was recognised (only results of current frames are reported)."""

    def on_error(self, message: str) -> None:
        """Recognition failed on a frame; the pipeline pauses briefly and goes on."""

    def on_activity(self, active: bool) -> None:
        """The gate switched between active (full rate) and idle (a few frames a second)."""


class FrameGate(Protocol):
    """Decides per frame whether it is worth recognising (``motion.MotionGate``).

    Optional: an ``active`` attribute (False while the gate lets only a few frames
    through: the window says "idle") and ``reset()`` (a new source or a reset).
    """

    def wants(self, frame: Frame, tracks: Sequence[Track]) -> bool: ...


class EveryFrame:
    """Every newest frame is recognised (motion_gating off)."""

    active = True

    def wants(self, frame: Frame, tracks: Sequence[Track]) -> bool:
        return True

    def reset(self) -> None:
        pass


def gate_from_settings(settings: Any) -> FrameGate:
    """The gate the settings ask for: ``MotionGate`` unless motion_gating is off."""
    if not settings.motion_gating:
        return EveryFrame()
    from desktop.engine.video.motion import MotionGate
    return MotionGate.from_settings(settings)


class _Capture:
    """One source on its own thread; replaced, never restarted, when the source changes."""

    def __init__(self, feed: Feed, source_id: int, pipeline: LivePipeline) -> None:
        self.feed, self.source_id, self.pipeline = feed, source_id, pipeline
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"capture {source_id}",
                                       daemon=True)

    def _run(self) -> None:
        log.info("Capture %d started", self.source_id)
        try:
            self.feed.run(self.stop_event, self._publish, self._report)
        except Exception:  # a capture bug must not take the front end down
            log.exception("Capture %d failed", self.source_id)
        log.info("Capture %d stopped (%d frames)", self.source_id, self.feed.frames)

    def _publish(self, rgb: Any) -> None:
        frame = self.pipeline.slot.put(rgb)
        for listener in self.pipeline.listeners:
            listener.on_frame(frame, self.source_id)

    def _report(self, status: SourceStatus) -> None:
        for listener in self.pipeline.listeners:
            listener.on_status(status, self.source_id)

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(STOP_WAIT_SECONDS)
        if self.thread.is_alive():
            log.warning("Capture %d did not stop within %.0f s", self.source_id,
                        STOP_WAIT_SECONDS)


class LivePipeline:
    """Capture -> newest-frame slot -> gate -> live recogniser -> listeners."""

    def __init__(self, engine: FaceEngine, *, gate: FrameGate | None = None,
                 record_attendance: bool = True, **live_options: Any) -> None:
        self.engine = engine
        self._own_gate = gate is None
        self.gate: FrameGate = gate or gate_from_settings(engine.settings)
        self.record_attendance = record_attendance
        self.live_options = live_options
        """Overrides of the LiveRecognizer's settings (the benchmark's tuning rows)."""
        self.rejected = RejectCounter()
        """Faces judged not live (liveness), across recogniser rebuilds."""
        self._score_subject = threading.Event()
        self.slot = LatestFrame()
        self.listeners: list[PipelineListener] = []
        self.source_spec = ""
        self.source_id = 0
        self.frames = 0
        """Frames recognised since start."""
        self._stale_before = 0
        self._capture: _Capture | None = None
        self._reset = threading.Event()
        self._rebuild = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recognition", daemon=True)

    # ---------------------------------------------------------------- control
    def add_listener(self, listener: PipelineListener) -> None:
        self.listeners.append(listener)

    def start(self) -> None:
        self._thread.start()

    def set_source(self, spec: str) -> int:
        """Show ``spec`` (camera index, video, folder, URL) instead of the current source;
        returns its id, which every later frame and status of it carries."""
        self._stop_capture()
        self.source_spec = spec.strip()
        self.source_id += 1
        self.reset()
        self.slot.clear()
        s = self.engine.settings
        feed = Feed(self.source_spec, loop_video=s.loop_video,
                    slideshow_seconds=s.slideshow_seconds,
                    reconnect_max_seconds=s.reconnect_max_seconds)
        log.info("Source %d: %s", self.source_id, self.source_spec)
        for listener in self.listeners:
            listener.on_source(self.source_spec, self.source_id)
        self._capture = _Capture(feed, self.source_id, self)
        self._capture.thread.start()
        return self.source_id

    def reset(self, *, rebuild: bool = False) -> None:
        """Forget tracks before the next frame and drop results of frames captured so far
        (their labels may be out of date); ``rebuild`` also re-reads the live settings."""
        self._stale_before = self.slot.seq
        if rebuild:
            self._rebuild.set()
        self._reset.set()

    @property
    def stale_before(self) -> int:
        """Results of frames up to this sequence number are dropped (``is_current``)."""
        return self._stale_before

    def is_current(self, recognition: Recognition) -> bool:
        """False for a result of a frame captured before the last reset or source change."""
        return recognition.frame_seq > self._stale_before

    def score_subject(self, on: bool) -> None:
        """While registering: score the largest face's liveness on every recognised frame
        (TrackView.liveness), so each captured sample has its own passive verdict."""
        if on:
            self._score_subject.set()
        else:
            self._score_subject.clear()

    def latest_frame(self) -> Frame | None:
        return self.slot.latest()

    def stop(self) -> None:
        """Stop capture and recognition and wait for both threads."""
        self._stop_capture()
        self._stop.set()
        self.slot.wake()
        if self._thread.is_alive():
            self._thread.join(STOP_WAIT_SECONDS)
            if self._thread.is_alive():
                log.warning("Recognition did not stop within %.0f s", STOP_WAIT_SECONDS)

    def _stop_capture(self) -> None:
        if self._capture is not None:
            self._capture.stop()
            self._capture = None

    # ---------------------------------------------------------------- recognition thread
    def _recognizer(self) -> LiveRecognizer:
        return LiveRecognizer.from_settings(self.engine, record_attendance=self.record_attendance,
                                            rejected=self.rejected, **self.live_options)

    @property
    def active(self) -> bool:
        """Whether the gate runs recognition at full rate (False: idle)."""
        return bool(getattr(self.gate, "active", True))

    def _run(self) -> None:
        live = self._recognizer()
        seq = 0
        active = self.active
        while not self._stop.is_set():
            frame = self.slot.wait_newer(seq, POLL_SECONDS)
            if frame is None or self._stop.is_set():
                continue
            seq = frame.seq
            if self._reset.is_set():
                self._reset.clear()
                if self._rebuild.is_set():
                    live = self._recognizer()
                    if self._own_gate:
                        self.gate = gate_from_settings(self.engine.settings)
                self._rebuild.clear()
                live.reset()
                getattr(self.gate, "reset", lambda: None)()
            wanted = self.gate.wants(frame, live.tracks)
            if self.active != active:
                active = self.active
                for listener in self.listeners:
                    listener.on_activity(active)
            if not wanted:
                continue
            live.score_subject = self._score_subject.is_set()
            try:
                recognition = Recognition.of(frame, live.process(frame.rgb, now=frame.ts))
            except Exception as exc:  # keep the front end alive; say what went wrong
                log.exception("Recognition failed on frame %d", frame.seq)
                for listener in self.listeners:
                    listener.on_error(f"Recognition failed: {exc}")
                self._stop.wait(ERROR_PAUSE_SECONDS)
                continue
            self.frames += 1
            if self.is_current(recognition) and not self._stop.is_set():
                for listener in self.listeners:
                    listener.on_result(recognition)
