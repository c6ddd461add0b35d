"""The capture thread: keeps the source running and publishes only the newest frame."""
from __future__ import annotations

import logging
import threading

import numpy as np
from PyQt5.QtCore import QThread, pyqtSignal

from ..config import Settings
from ..engine.sources import Feed, LatestFrame, SourceStatus

log = logging.getLogger(__name__)

STOP_WAIT_MS = 8000
"""Longest wait for the thread to finish; a stream read times out after 5 s."""


class CaptureThread(QThread):
    """Runs a ``Feed`` for one source spec; frames go to a shared ``LatestFrame``.

    ``frame_ready`` is emitted at most once until the GUI calls ``frame_taken``, so a busy
    GUI thread never has a backlog of paint requests for stale frames.
    """

    frame_ready = pyqtSignal()
    status_changed = pyqtSignal(object)  # SourceStatus

    def __init__(self, spec: str, settings: Settings, slot: LatestFrame, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.slot = slot
        self.feed = Feed(spec, loop_video=settings.loop_video,
                         slideshow_seconds=settings.slideshow_seconds,
                         reconnect_max_seconds=settings.reconnect_max_seconds)
        self._stop = threading.Event()
        self._pending = threading.Event()
        self.setObjectName(f"capture {spec}")

    def run(self) -> None:
        log.info("Capture started: %s", self.spec)
        try:
            self.feed.run(self._stop, self._publish, self._report)
        except Exception:  # a capture bug must not take the window down
            log.exception("Capture of %s failed", self.spec)
        log.info("Capture stopped: %s (%d frames)", self.spec, self.feed.frames)

    def _publish(self, rgb: np.ndarray) -> None:
        self.slot.put(rgb)
        if not self._pending.is_set():
            self._pending.set()
            self.frame_ready.emit()

    def _report(self, status: SourceStatus) -> None:
        self.status_changed.emit(status)

    def frame_taken(self) -> None:
        """The GUI has picked up the newest frame; the next one may signal again."""
        self._pending.clear()

    def stop(self) -> None:
        """Ask the feed to stop and wait for it (reads block for a frame at most)."""
        self._stop.set()
        if not self.wait(STOP_WAIT_MS):
            log.warning("Capture of %s did not stop within %d ms", self.spec, STOP_WAIT_MS)
