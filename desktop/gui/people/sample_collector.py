"""Which live frames are good enough to register someone from (Qt-free).

Registration takes the crops the recognition thread already made, so the preview never
waits for it. A crop is taken only when there is one subject in view (a much smaller
face in the background is allowed, as for photos), the face is big, frontal and sharp
enough, and a little time has passed since the last one. Each candidate is then embedded
(``consider``): one too similar to a picture already taken is skipped and the person is
asked to turn a little, so the pictures differ in pose; one unlike the others (a cut to
another person in a video) is skipped too.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from desktop.engine import DEFAULTS, Face, FaceCountError, Settings, frontalness, sharpness, subject_face


@dataclass(frozen=True)
class CaptureRules:
    """When a camera picture is good enough to register from (Settings.register_*)."""
    samples: int = DEFAULTS.register_samples
    min_face_px: float = DEFAULTS.register_min_face_px
    min_sharpness: float = DEFAULTS.register_min_sharpness
    min_frontalness: float = DEFAULTS.register_min_frontalness
    min_interval: float = DEFAULTS.register_min_interval
    subject_area_ratio: float = DEFAULTS.subject_area_ratio
    max_similarity: float = 1.0
    """Skip level: a sample this similar to one taken adds no new pose (matching.distinct_level)."""
    min_similarity: float = -1.0
    """A sample less similar than this to the ones taken is someone else (outlier level)."""

    @classmethod
    def from_settings(cls, s: Settings, max_similarity: float = 1.0,
                      min_similarity: float = -1.0) -> CaptureRules:
        return cls(s.register_samples, s.register_min_face_px, s.register_min_sharpness,
                   s.register_min_frontalness, s.register_min_interval, s.subject_area_ratio,
                   max_similarity, min_similarity)


NO_FACE = "No face in view. Please look at the camera."
SEVERAL = "Only one person in front of the camera, please."
TOO_SMALL = "Please come a little closer."
TURNED = "Please look straight at the camera."
BLURRY = "Please hold still."
TAKEN = "Got it. Hold still..."
TURN = "Please turn your head a little (left, right, up or down)."
SOMEONE_ELSE = "This looks like someone else. Only the person being registered, please."
DONE = "All pictures taken."


def subject(faces: list[Face], ratio: float = DEFAULTS.subject_area_ratio
            ) -> tuple[Face | None, str | None]:
    """The one face the registration is about (the engine's rule for photos), or None and
    the advice to show."""
    try:
        return subject_face(faces, ratio), None
    except FaceCountError:
        return None, NO_FACE if not faces else SEVERAL


@dataclass
class SampleCollector:
    rules: CaptureRules = field(default_factory=CaptureRules)
    crops: list[np.ndarray] = field(default_factory=list)
    stored: list = field(default_factory=list)
    """Each crop's model-neutral face (Face.stored), kept for re-embedding with another model."""
    vectors: list[np.ndarray] = field(default_factory=list)
    """Each sample's embedding, for the pose check."""
    last_taken: float = float("-inf")
    """When a candidate was last considered (taken or skipped)."""
    skipped: int = 0
    """Candidates skipped as repeating a pose already taken."""
    advice: str = NO_FACE

    @property
    def done(self) -> bool:
        return len(self.crops) >= self.rules.samples

    def candidate(self, faces: list[Face], now: float) -> Face | None:
        """The subject face if this frame is good enough to consider; ``advice`` says why not."""
        if self.done:
            self.advice = DONE
            return None
        face, problem = subject(faces, self.rules.subject_area_ratio)
        if face is None:
            self.advice = problem or NO_FACE
        elif face.detection.width < self.rules.min_face_px:
            self.advice = TOO_SMALL
        elif frontalness(face.detection.landmarks) < self.rules.min_frontalness:
            self.advice = TURNED
        elif sharpness(face.crop) < self.rules.min_sharpness:
            self.advice = BLURRY
        elif 0 <= now - self.last_taken < self.rules.min_interval:  # (a clock may restart)
            pass  # keep the advice of the last attempt (taken, or turn a little)
        else:
            return face
        return None

    def consider(self, face: Face, vector: np.ndarray | None, now: float) -> bool:
        """Take ``face`` (embedded as ``vector``) unless it repeats a pose already taken or
        is someone else; either way the next attempt waits ``min_interval``. Without a
        vector it is taken unchecked."""
        self.last_taken = now
        if vector is not None:
            vector = np.asarray(vector, np.float32)
            if self.vectors:
                sims = np.stack(self.vectors) @ vector
                if float(sims.max()) >= self.rules.max_similarity:
                    self.advice = TURN
                    self.skipped += 1
                    return False
                if float(np.median(sims)) < self.rules.min_similarity:
                    self.advice = SOMEONE_ELSE
                    return False
            self.vectors.append(vector)
        self.crops.append(face.crop)
        self.stored.append(face.stored())
        self.advice = DONE if self.done else TAKEN
        return True

    def offer(self, faces: list[Face], now: float,
              embed: Callable[[np.ndarray], np.ndarray] | None = None) -> bool:
        """``candidate`` then ``consider`` in one call; True if a sample was taken. Without
        ``embed`` there is no pose check."""
        face = self.candidate(faces, now)
        if face is None:
            return False
        return self.consider(face, embed(face.crop) if embed is not None else None, now)
