"""Active liveness: ask for a head turn and check it in MTCNN's five landmarks. Qt-free.

Two measures, both unitless (fractions of half the distance between the eyes):

* ``yaw_offset``: where the nose sits along the eye axis, 0 for a frontal face, positive
  when the head is turned to the person's left (nose towards the image's right on a camera
  that does not mirror). Measured in the face's own frame, so a tilted head (roll) is 0.
* ``parallax``: how far the nose moved away from where a flat picture would have put it.
  Eyes and mouth corners lie roughly on one plane; the homography that maps their baseline
  positions to the current ones is exactly how *any* flat photo moves in front of a camera
  (shifted, rolled, tilted, bent a little), so it predicts the nose of a photo perfectly.
  A real head turning brings the nose out of that plane. A flat photo moved in front of the
  camera cannot produce this geometry.

What it does not stop: a video replay of the person turning their head (on a phone or a
screen) has exactly the geometry of a real turn, and so does swapping a frontal photo
for a turned one quickly. Pair it with the passive check, which looks for screens and
prints (``python -m desktop.bench.sections.liveness``).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from enum import Enum

import cv2
import numpy as np

from desktop.engine.core.types import Detection
from desktop.engine.settings.config import DEFAULTS

LEFT, RIGHT = "left", "right"
"""Directions as the person turns (their own left), on a non-mirrored camera image."""

PARALLAX_SHARE = 0.5
"""The nose must leave the eye-mouth plane by this share of the required turn (the plane
sits in front of the eyes, so the parallax is smaller than the yaw offset)."""
MIN_EYE_SPAN = 8.0
"""Pixels between the eyes below which landmarks are too coarse to measure a turn."""


def _eye_frame(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Eye midpoint, unit eye axis (image-left eye to image-right eye), half the eye span."""
    left_eye, right_eye = landmarks[0].astype(np.float64), landmarks[1].astype(np.float64)
    axis = right_eye - left_eye
    span = float(np.hypot(*axis))
    return (left_eye + right_eye) / 2, axis / max(span, 1e-9), span / 2


def yaw_offset(landmarks: np.ndarray) -> float:
    """Nose position along the eye axis, in half eye spans; > 0 = turned to the person's left.

    About 0.7 tan(yaw) for an adult face: 0.25 is roughly 20 degrees, 0.4 roughly 30.
    """
    mid, axis, half = _eye_frame(landmarks)
    return float(np.dot(landmarks[2] - mid, axis) / max(half, 1e-9))


def parallax(baseline: np.ndarray, current: np.ndarray) -> float:
    """Out-of-plane nose movement between two landmark sets, in half eye spans (signed
    like ``yaw_offset``); 0 for any flat picture however it is moved."""
    plane = [0, 1, 3, 4]  # eyes and mouth corners
    homography, _ = cv2.findHomography(baseline[plane].astype(np.float64),
                                       current[plane].astype(np.float64), 0)
    if homography is None:
        return 0.0
    nose = np.array([*baseline[2], 1.0]) @ homography.T
    predicted = nose[:2] / nose[2]
    _, axis, half = _eye_frame(current)
    return float(np.dot(current[2] - predicted, axis) / max(half, 1e-9))


class ChallengeState(Enum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed out"


@dataclass
class HeadTurnChallenge:
    """Turn the head ``direction`` by ``required`` (yaw offset change) and hold it for
    ``hold_frames`` frames within ``seconds``. Feed it the subject's detection per frame.

    The first detection is the baseline (the person facing the camera). Turning the wrong
    way fails, so the random direction matters; a still or moved photo never passes.
    """
    direction: str = field(default_factory=lambda: random.choice((LEFT, RIGHT)))
    required: float = DEFAULTS.challenge_yaw
    hold_frames: int = DEFAULTS.challenge_frames
    seconds: float = DEFAULTS.challenge_seconds
    started: float | None = None
    state: ChallengeState = ChallengeState.RUNNING
    progress: float = 0.0
    """0..1: how much of the required turn (and the 3D evidence for it) has been made."""
    reason: str = ""
    mirrored: bool = False
    """The camera mirrors its picture: the person's left shows on the image's left."""
    _baseline: np.ndarray | None = None
    _held: int = 0

    @property
    def sign(self) -> float:
        sign = 1.0 if self.direction == LEFT else -1.0
        return -sign if self.mirrored else sign

    def feed(self, detection: Detection | None, now: float | None = None) -> ChallengeState:
        """One frame: the subject's detection, or None when no face was found."""
        now = time.monotonic() if now is None else now
        if self.state is not ChallengeState.RUNNING:
            return self.state
        if self.started is None:
            self.started = now
        if now - self.started > self.seconds:
            return self._end(ChallengeState.TIMED_OUT, "no head turn in time")
        if detection is None or _eye_frame(detection.landmarks)[2] * 2 < MIN_EYE_SPAN:
            self._held = 0
            return self.state
        landmarks = np.asarray(detection.landmarks, np.float64)
        if self._baseline is None:
            self._baseline = landmarks
            return self.state
        turn = self.sign * (yaw_offset(landmarks) - yaw_offset(self._baseline))
        depth = self.sign * parallax(self._baseline, landmarks)
        if turn <= -self.required:
            return self._end(ChallengeState.FAILED, "turned the other way")
        self.progress = max(0.0, min(1.0, turn / self.required,
                                     depth / (PARALLAX_SHARE * self.required)))
        self._held = self._held + 1 if self.progress >= 1.0 else 0
        if self._held >= self.hold_frames:
            return self._end(ChallengeState.PASSED, "")
        return self.state

    def _end(self, state: ChallengeState, reason: str) -> ChallengeState:
        self.state, self.reason = state, reason
        return state
