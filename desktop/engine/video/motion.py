"""Motion gating: detect at full rate only while something is happening.

A kiosk mostly looks at an empty hall. Running MTCNN on every frame of it burns cores for
nothing, so ``MotionGate`` (the pipeline's ``FrameGate``) compares each newest frame, as a
small grey thumbnail, with the thumbnail of the last frame that was recognised. While
nothing changed and no face is tracked the pipeline is *idle* and recognises about
``idle_fps`` frames a second (a face that appears without motion, e.g. a photo swapped in
one frame, is still found within 1/idle_fps s). A change or a tracked face makes it
*active* at once, on that same frame, so the time to a label does not grow.

Comparing with the last recognised frame (not the previous one) means a slow walker, whose
frame-to-frame change is small, still adds up to motion; and a change of light wakes the
pipeline once, after which the new picture is the reference.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from desktop.engine.settings.config import DEFAULTS, Settings

log = logging.getLogger(__name__)

THUMB_WIDTH = 96
"""Thumbnail width in pixels (height keeps the aspect): a 40 px face in a 640 px frame is
still about 6x6 thumbnail pixels, and a 1080p frame costs ~1 ms to shrink."""


def thumbnail(rgb: np.ndarray, width: int = THUMB_WIDTH) -> np.ndarray:
    """Small grey picture of a frame, int16 so that differences do not wrap.

    Every k-th pixel first (to about twice the thumbnail), then area averaging (which
    also averages away most sensor noise), grey last: the cost barely depends on the frame
    size (0.2-0.5 ms for 640x480 to 1080p).
    """
    height = max(1, round(rgb.shape[0] * width / max(1, rgb.shape[1])))
    step = max(1, rgb.shape[1] // (2 * width))
    small = cv2.resize(rgb[::step, ::step], (width, height), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small
    return grey.astype(np.int16)


def changed_share(a: np.ndarray, b: np.ndarray, pixel_delta: float) -> float:
    """Share (0..1) of thumbnail pixels whose grey level moved by more than ``pixel_delta``."""
    if a.shape != b.shape:
        return 1.0
    return float(np.count_nonzero(np.abs(a - b) > pixel_delta)) / a.size


class MotionGate:
    """A ``FrameGate``: every frame while active, ``idle_fps`` frames a second while idle.

    Active means: a face is tracked, or the picture changed since the last recognised
    frame (more than ``min_area`` of the thumbnail moved by more than ``pixel_delta``
    grey levels) within the last ``hold_seconds``. Call from one thread (the pipeline's
    recognition thread); ``active`` may be read from any.
    """

    def __init__(self, *, idle_fps: float = DEFAULTS.idle_detect_fps,
                 pixel_delta: float = DEFAULTS.motion_pixel_delta,
                 min_area: float = DEFAULTS.motion_min_area,
                 hold_seconds: float = DEFAULTS.motion_hold_seconds) -> None:
        self.idle_period = 1.0 / idle_fps if idle_fps > 0 else float("inf")
        self.pixel_delta = pixel_delta
        self.min_area = min_area
        self.hold_seconds = hold_seconds
        self.active = True
        """Whether the last frame asked about was active (starts active: nothing known)."""
        self.last_change = 0.0
        """Share of the thumbnail that moved, last frame asked about (for logs and tests)."""
        self._reference: np.ndarray | None = None
        self._last_run = float("-inf")
        self._last_motion = float("-inf")

    @classmethod
    def from_settings(cls, settings: Settings) -> MotionGate:
        return cls(idle_fps=settings.idle_detect_fps, pixel_delta=settings.motion_pixel_delta,
                   min_area=settings.motion_min_area, hold_seconds=settings.motion_hold_seconds)

    def reset(self) -> None:
        """Forget the reference picture (new source): its first frame is recognised."""
        self._reference = None
        self._last_run = self._last_motion = float("-inf")
        self.active = True

    def wants(self, frame: Any, tracks: Sequence[Any]) -> bool:
        """Whether ``frame`` (a feed ``Frame``: rgb, ts) should be recognised now."""
        thumb = thumbnail(frame.rgb)
        now = frame.ts
        if self._reference is None:
            self.last_change = 1.0
        else:
            self.last_change = changed_share(thumb, self._reference, self.pixel_delta)
        if self.last_change > self.min_area:
            self._last_motion = now
        active = bool(tracks) or now - self._last_motion <= self.hold_seconds
        if active != self.active:
            log.info("Live loop %s (change %.3f, %d tracks)",
                     "active" if active else "idle", self.last_change, len(tracks))
        self.active = active
        wanted = active or now - self._last_run >= self.idle_period
        if wanted:
            self._last_run = now
            self._reference = thumb
        return wanted
