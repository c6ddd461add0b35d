"""The live loop without a window: any camera, file, folder or stream, frame by frame.

Files and folders are read frame by frame, none dropped, on the video's own clock (frame
index / fps): the same ``LiveRecognizer`` and frame gate as the window, run on every
frame as fast as it can, so a clip gives the same answer on a fast or a busy machine.
Cameras and streams (and files with ``realtime``) run the window's own ``LivePipeline``,
which skips frames it cannot keep up with, as the window does.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.live.pipeline import LivePipeline, PipelineListener, gate_from_settings
from desktop.engine.live.snapshot import Recognition
from desktop.engine.live.tracker import LiveRecognizer
from desktop.engine.video.feed import Feed, Frame, SourceState, SourceStatus
from desktop.engine.video.sources import source_kind

END_WAIT_SECONDS = 5.0
"""After a real-time file ends: how long to wait for its last frame's result."""


@dataclass(frozen=True)
class Watched:
    """One processed frame: its index in the source, its time, and what was recognised."""
    index: int
    seconds: float
    """Frame index / fps for a file or folder; seconds since the start for a camera."""
    recognition: Recognition


def face_json(track: Any) -> dict[str, Any]:
    """A face as ``watch --json`` prints it; ``name`` is what the window shows (None while
    pending, unknown or not live)."""
    return {"track": track.id, "box": [round(float(v)) for v in track.box],
            "name": track.label if track.known else None,
            "similarity": None if track.similarity is None else round(track.similarity, 4),
            "visitor": track.visitor}


def frame_json(watched: Watched) -> dict[str, Any]:
    return {"frame": watched.index, "t": round(watched.seconds, 3),
            "faces": [face_json(t) for t in watched.recognition.tracks]}


def event_json(watched: Watched, seen_visitors: set[str]) -> list[dict[str, Any]]:
    """The events of one frame: check-ins, and each visitor id the first time it is seen."""
    at = {"frame": watched.index, "t": round(watched.seconds, 3)}
    events: list[dict[str, Any]] = [
        {"event": "checkin", **at, "name": c.name, "similarity": round(c.similarity, 4)}
        for c in watched.recognition.checkins]
    for track in watched.recognition.tracks:
        if track.visitor is not None and track.visitor not in seen_visitors:
            seen_visitors.add(track.visitor)
            events.append({"event": "visitor", **at, "visitor": track.visitor,
                           "track": track.id})
    return events


class Watcher:
    """Runs one source through the live loop and hands each processed frame to
    ``on_frame`` (on the watcher's thread); ``stop`` ends it early (Ctrl+C)."""

    def __init__(self, engine: FaceEngine, spec: str, *, realtime: bool = False,
                 record_attendance: bool = True,
                 on_status: Callable[[SourceStatus], None] | None = None) -> None:
        self.engine = engine
        self.spec = spec.strip()
        self.kind = source_kind(self.spec)  # SourceError for a typo: before any work
        self.realtime = realtime or self.kind in ("camera", "stream")
        self.record_attendance = record_attendance
        self.on_status = on_status or (lambda status: None)
        self.stop = threading.Event()
        self.status: SourceStatus | None = None
        self.frames = 0
        """Frames processed."""

    def run(self, on_frame: Callable[[Watched], None]) -> SourceStatus | None:
        """Block until the source ends, fails, or ``stop``; returns the last status."""
        if self.realtime:
            self._run_pipeline(on_frame)
        else:
            self._run_frames(on_frame)
        return self.status

    def _report(self, status: SourceStatus) -> None:
        self.status = status
        self.on_status(status)

    # ------------------------------------------------------------ every frame, video clock
    def _run_frames(self, on_frame: Callable[[Watched], None]) -> None:
        s = self.engine.settings
        feed = Feed(self.spec, loop_video=False, loop_photos=False, paced=False,
                    slideshow_seconds=s.slideshow_seconds,
                    reconnect_max_seconds=s.reconnect_max_seconds)
        live = LiveRecognizer.from_settings(self.engine,
                                            record_attendance=self.record_attendance)
        gate = gate_from_settings(s)
        index = -1

        def frame(rgb: np.ndarray) -> None:
            nonlocal index
            index += 1
            fps = feed.source.fps if feed.source is not None and feed.source.fps else 25.0
            shot = Frame(rgb, index + 1, index / fps)
            if not gate.wants(shot, live.tracks):
                return
            result = live.process(rgb, now=shot.ts)
            self.frames += 1
            on_frame(Watched(index, shot.ts, Recognition.of(shot, result)))

        def status(change: SourceStatus) -> None:
            nonlocal index
            if change.state is SourceState.CONNECTING:
                index = -1  # a file retried after a drop-out starts again
                live.reset()
            self._report(change)

        feed.run(self.stop, frame, status)

    # ------------------------------------------------------------ the window's pipeline
    def _run_pipeline(self, on_frame: Callable[[Watched], None]) -> None:
        pipeline = LivePipeline(self.engine, record_attendance=self.record_attendance)
        listener = _Listener(self, on_frame)
        pipeline.add_listener(listener)
        pipeline.start()
        try:
            listener.source_id = pipeline.set_source(self.spec)
            while not self.stop.is_set() and not listener.ended.wait(0.2):
                pass
            deadline = time.monotonic() + END_WAIT_SECONDS
            while not self.stop.is_set() and time.monotonic() < deadline and \
                    listener.last_result < pipeline.slot.seq and pipeline.active:
                time.sleep(0.05)
        finally:
            pipeline.stop()


class _Listener(PipelineListener):
    """Numbers a real-time source's frames and passes its results on."""

    def __init__(self, watcher: Watcher, on_frame: Callable[[Watched], None]) -> None:
        self.watcher, self.deliver = watcher, on_frame
        self.source_id = -1
        self.ended = threading.Event()
        self.index: dict[int, int] = {}
        self.count = 0
        self.started: float | None = None
        self.fps: float | None = None
        self.last_result = 0

    def on_frame(self, frame: Frame, source_id: int) -> None:
        self.index[frame.seq] = self.count
        self.count += 1
        self.started = frame.ts if self.started is None else self.started

    def on_status(self, status: SourceStatus, source_id: int) -> None:
        self.watcher._report(status)
        if status.state in (SourceState.ENDED, SourceState.FAILED):
            self.ended.set()

    def on_result(self, recognition: Recognition) -> None:
        self.last_result = recognition.frame_seq
        index = self.index.pop(recognition.frame_seq, None)
        for seq in [s for s in self.index if s < recognition.frame_seq]:
            del self.index[seq]  # skipped frames
        if index is None:
            return
        kind = self.watcher.kind
        seconds = index / self._fps() if kind in ("video", "folder") else \
            recognition.frame_ts - (self.started or recognition.frame_ts)
        self.watcher.frames += 1
        self.deliver(Watched(index, seconds, recognition))

    def _fps(self) -> float:
        if self.fps is None:
            from desktop.engine.video.sources import open_source
            source = open_source(self.watcher.spec)
            try:
                source.open()
                self.fps = source.fps or 25.0
            finally:
                source.close()
        return self.fps
