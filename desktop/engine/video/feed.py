"""Keeping a source running, and handing its newest frame over.

``Feed`` runs one source spec on a thread: it paces files at their frame rate (unless
told not to: ``watch`` reads every frame as fast as it can), loops videos, and reopens a
source that drops out with exponential back-off: a camera or stream that stops, and a
file that has played but can no longer be read (deleted, moved, unplugged disk). It
reports each change of state so a window can say what is going on. ``LatestFrame`` hands the
newest frame to consumers: a slow reader skips frames instead of queueing them.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from desktop.engine.core.errors import SourceError
from desktop.engine.video.sources import Source, open_source

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.5


# ----------------------------------------------------------------------------- feed
class Backoff:
    """Delays before reconnect attempts: first, 2x first, 4x ... up to ``cap`` seconds."""

    def __init__(self, cap: float, first: float = FIRST_RETRY_SECONDS) -> None:
        self.cap = max(cap, 0.0)
        self.first = min(first, self.cap) if self.cap else 0.0
        self._next = self.first

    def next(self) -> float:
        delay = self._next
        self._next = min(max(self._next * 2, self.first), self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first


class SourceState(enum.Enum):
    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    """Unavailable or dropped out; another attempt follows after ``retry_in`` seconds."""
    ENDED = "ended"
    """A video that does not loop reached its end."""
    FAILED = "failed"
    """Cannot work as given (no such file, not a video) and never played; the user must
    choose another."""


@dataclass(frozen=True)
class SourceStatus:
    state: SourceState
    message: str
    retry_in: float | None = None
    loops: int = 0


class Feed:
    """Runs one source spec until stopped: open, read, pace, loop or reconnect.

    ``run`` blocks (call it on a thread) and reports through two callbacks: ``on_frame``
    with each RGB frame and ``on_status`` on every change of state.
    """

    def __init__(self, spec: str, *, loop_video: bool = True, slideshow_seconds: float = 1.5,
                 reconnect_max_seconds: float = 10.0,
                 first_retry_seconds: float = FIRST_RETRY_SECONDS, paced: bool = True,
                 loop_photos: bool = True) -> None:
        self.spec = spec
        self.loop_video = loop_video
        self.loop_photos = loop_photos
        self.paced = paced
        """Files play at their frame rate; False: every frame as fast as it is taken."""
        self.played = False
        """The source delivered frames once: a later failure to open or read is a
        drop-out to retry, not a wrong choice."""
        self.played_what = ""
        """The file or folder that played ("video x.mp4"): named when it cannot be read."""
        self.slideshow_seconds = slideshow_seconds
        self.backoff = Backoff(reconnect_max_seconds, first_retry_seconds)
        self.source: Source | None = None
        self.frames = 0
        self.attempts = 0

    def run(self, stop: threading.Event, on_frame: Callable[[np.ndarray], None],
            on_status: Callable[[SourceStatus], None]) -> None:
        while not stop.is_set():
            on_status(SourceStatus(SourceState.CONNECTING, f"Opening {self.spec}..."))
            self.source = None
            try:
                self.source = open_source(self.spec, loop_video=self.loop_video,
                                          slideshow_seconds=self.slideshow_seconds,
                                          loop_photos=self.loop_photos)
                self.attempts += 1
                self.source.open()
            except SourceError as exc:
                if not self.played and (self.source is None or not self.source.live):
                    log.warning("Source %s failed: %s", self.spec, exc)
                    on_status(SourceStatus(SourceState.FAILED, str(exc)))
                    return
                self._retry(stop, on_status, f"{self.played_what} can no longer be read: "
                            f"{exc}" if self.played_what else str(exc))
                continue
            try:
                got_frames = self._pump(self.source, stop, on_frame, on_status)
            except SourceError as exc:  # a file that played went away (a reopen to loop)
                what = self.played_what or self.source.describe()
                self._retry(stop, on_status, f"{what} can no longer be read: {exc}")
                continue
            finally:
                self.source.close()
            if stop.is_set():
                return
            if not self.source.live and not (got_frames and getattr(self.source, "loop", False)):
                message = (f"The {self.source.kind} has ended" if got_frames else
                           f"{self.source.describe()} has no frames that can be read")
                log.info("%s", message)
                on_status(SourceStatus(SourceState.ENDED if got_frames else SourceState.FAILED,
                                       message))
                return
            what = self.source.kind if self.source.kind in ("camera", "stream") else \
                self.source.describe()
            self._retry(stop, on_status, f"The {what} stopped sending pictures" if got_frames
                        else f"The {what} opened but sent no pictures")

    def _retry(self, stop: threading.Event, on_status: Callable[[SourceStatus], None],
               reason: str) -> None:
        delay = self.backoff.next()
        log.warning("%s; retrying in %.1f s", reason, delay)
        on_status(SourceStatus(SourceState.RETRYING, reason, retry_in=delay))
        stop.wait(delay)

    def _pump(self, source: Source, stop: threading.Event,
              on_frame: Callable[[np.ndarray], None],
              on_status: Callable[[SourceStatus], None]) -> bool:
        """Deliver frames until the source ends or ``stop``; True if any frame came."""
        period = 1.0 / source.fps if self.paced and source.fps and not source.live else 0.0
        due = time.monotonic()
        got, loops = False, source.loops
        while not stop.is_set():
            rgb = source.read()
            if rgb is None:
                return got
            if not got:
                got = self.played = True
                self.played_what = source.describe() if not source.live else ""
                self.backoff.reset()
                on_status(SourceStatus(SourceState.LIVE, f"Showing {source.describe()}"))
            if source.loops != loops:
                loops = source.loops
                on_status(SourceStatus(SourceState.LIVE, f"{source.describe()} restarted "
                                       "from the beginning", loops=loops))
            self.frames += 1
            on_frame(rgb)
            if period:
                due += period
                delay = due - time.monotonic()
                if delay > 0:
                    stop.wait(delay)
                elif delay < -period:
                    due = time.monotonic()  # fell behind: carry on, do not burst to catch up
        return got


# ----------------------------------------------------------------------------- hand-over
@dataclass(frozen=True)
class Frame:
    rgb: np.ndarray
    seq: int
    """Increases by one per frame published, across sources."""
    ts: float
    """time.monotonic() when captured."""


class LatestFrame:
    """A one-slot mailbox: writers replace the frame, readers get the newest one only."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = 0

    def put(self, rgb: np.ndarray, ts: float | None = None) -> Frame:
        with self._cond:
            self._seq += 1
            self._frame = Frame(rgb, self._seq, time.monotonic() if ts is None else ts)
            self._cond.notify_all()
            return self._frame

    def clear(self) -> None:
        with self._cond:
            self._frame = None

    @property
    def seq(self) -> int:
        """The sequence number of the last frame published (0 before any)."""
        with self._cond:
            return self._seq

    def latest(self) -> Frame | None:
        with self._cond:
            return self._frame

    def wait_newer(self, seq: int, timeout: float) -> Frame | None:
        """The newest frame with a sequence number above ``seq``, or None after ``timeout``."""
        with self._cond:
            self._cond.wait_for(lambda: self._frame is not None and self._frame.seq > seq,
                                timeout)
            frame = self._frame
            return frame if frame is not None and frame.seq > seq else None

    def wake(self) -> None:
        """Release readers blocked in ``wait_newer`` (used when shutting down)."""
        with self._cond:
            self._cond.notify_all()
