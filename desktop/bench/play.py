"""Playing a clip through the real live pipeline: in the real window (offscreen), or the
same ``LivePipeline`` without a window (tuning rows, soak). No copy of the loop here.

Synthetic clips are written to a video file first, so every run reads frames exactly as
the kiosk reads a video: ``Feed`` paces them at the file's rate.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from desktop.bench.data import Appearance, Sequence
from desktop.bench.scoring import LiveRun, Recorder, score
from desktop.engine.core.types import Detection
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.live.apply_settings import reconfigure
from desktop.engine.live.pipeline import LivePipeline, PipelineListener


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    fps: float
    frames: int
    appearances: list[Appearance] | None = None
    """Ground truth; None for a real video (every track is a face to label)."""
    seconds: float = 0.0
    """Stop after this much video (0 = play the file to its end)."""

    def capped(self, seconds: float, name: str | None = None) -> Clip:
        return replace(self, seconds=seconds, name=name or self.name)

    @property
    def duration(self) -> float:
        return self.seconds or self.frames / self.fps


def video_clip(path: Path, name: str, seconds: float = 0.0) -> Clip:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    cap.release()
    return Clip(f"{name} {size[0]}x{size[1]}", path, fps, frames, None, seconds)


def write_clip(sequence: Sequence, folder: Path) -> Clip:
    """The synthetic sequence as an MJPG video file (quality 95) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^a-z0-9]+", "-", sequence.name.lower()).strip("-") + ".avi")
    height, width = sequence.base.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), sequence.fps,
                             (width, height))
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
    for index in range(sequence.length):
        writer.write(cv2.cvtColor(sequence.frame(index), cv2.COLOR_RGB2BGR))
    writer.release()
    return Clip(sequence.name, path, sequence.fps, sequence.length, sequence.appearances)


def first_frame(clip: Clip) -> np.ndarray:
    cap = cv2.VideoCapture(str(clip.path))
    ok, bgr = cap.read()
    cap.release()
    if not ok:
        raise RuntimeError(f"cannot read {clip.path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def warm_up(engine: FaceEngine, clip: Clip) -> None:
    """The first forward passes of a new frame shape are slower: not what a kiosk that
    has been running sees when someone walks in."""
    frame = first_frame(clip)
    engine.faces(frame, max_side=engine.settings.live_detect_max_side)
    height, width = frame.shape[:2]
    scale = np.array([width, height], np.float32)
    points = np.array([[0.45, 0.4], [0.55, 0.4], [0.5, 0.5], [0.46, 0.6], [0.54, 0.6]],
                      np.float32) * scale
    middle = Detection((0.35 * width, 0.25 * height, 0.65 * width, 0.75 * height), 1.0, points)
    engine.embed([engine.models.embedder.crop(frame, middle)] * 2)  # the model's own input


def _timeout(clip: Clip) -> float:
    return clip.duration * 4 + 60.0


def play_pipeline(engine: FaceEngine, clip: Clip, *, loop: bool = False,
                  listener: PipelineListener | None = None, **live_options) -> LiveRun:
    """One real-time pass of ``clip`` through a ``LivePipeline`` (no window)."""
    run = LiveRun(clip.name)
    recorder = Recorder(run)
    pipeline = LivePipeline(engine, **live_options)
    for each in (recorder, listener):
        if each is not None:
            pipeline.add_listener(each)
    saved_loop = engine.settings.loop_video
    reconfigure(engine, {"loop_video": loop})
    pipeline.start()
    started = time.monotonic()
    try:
        pipeline.set_source(str(clip.path))
        recorder.ended.wait(clip.seconds if clip.seconds else _timeout(clip))
    finally:
        pipeline.stop()
        reconfigure(engine, {"loop_video": saved_loop})
    run.seconds = time.monotonic() - started
    score(run, clip.appearances)
    return run


def play_window(engine: FaceEngine, clip: Clip) -> LiveRun:
    """One real-time pass of ``clip`` in the kiosk's real window, offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QEventLoop, QTimer
    from PyQt5.QtWidgets import QApplication

    from desktop.gui.gc_guard import release_gui_gc
    from desktop.gui.main_window import MainWindow
    app = QApplication.instance() or QApplication([])
    run = LiveRun(clip.name)
    recorder = Recorder(run, window=True)
    saved_loop = engine.settings.loop_video
    reconfigure(engine, {"loop_video": False})
    window = MainWindow(engine, source=str(clip.path), listeners=[recorder])
    window.recognized.connect(lambda rec: recorder.shown(rec))
    window.show()
    started = time.monotonic()
    loop = QEventLoop()
    deadline = started + (clip.seconds or _timeout(clip))
    poll = QTimer(interval=50, timeout=lambda: (recorder.ended.is_set() or
                                                time.monotonic() > deadline) and loop.quit())
    poll.start()
    try:
        loop.exec_()
    finally:
        poll.stop()
        run.painted = window.video.painted
        window.shutdown()
        window.close()
        app.processEvents()
        release_gui_gc(window)  # the sections after this one run without an event loop
        reconfigure(engine, {"loop_video": saved_loop})
    run.seconds = time.monotonic() - started
    score(run, clip.appearances)
    return run
