"""Which live frames are good enough to register someone from (Qt-free).

Registration takes the crops the recognition thread already made, so the preview never
waits for it. A crop is taken only when there is one subject in view (a much smaller
face in the background is allowed, as for photos), the face is big, frontal and sharp
enough, and a little time has passed since the last one, so samples differ.
"""
from __future__ import annotations

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

    @classmethod
    def from_settings(cls, s: Settings) -> CaptureRules:
        return cls(s.register_samples, s.register_min_face_px, s.register_min_sharpness,
                   s.register_min_frontalness, s.register_min_interval, s.subject_area_ratio)


NO_FACE = "No face in view. Please look at the camera."
SEVERAL = "Only one person in front of the camera, please."
TOO_SMALL = "Please come a little closer."
TURNED = "Please look straight at the camera."
BLURRY = "Please hold still."
TAKEN = "Got it. Hold still..."
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
    last_taken: float = float("-inf")
    advice: str = NO_FACE

    @property
    def done(self) -> bool:
        return len(self.crops) >= self.rules.samples

    def offer(self, faces: list[Face], now: float) -> bool:
        """Consider one frame's faces; True if a sample was taken. ``advice`` says why not."""
        if self.done:
            self.advice = DONE
            return False
        face, problem = subject(faces, self.rules.subject_area_ratio)
        if face is None:
            self.advice = problem or NO_FACE
            return False
        if face.detection.width < self.rules.min_face_px:
            self.advice = TOO_SMALL
        elif frontalness(face.detection.landmarks) < self.rules.min_frontalness:
            self.advice = TURNED
        elif sharpness(face.crop) < self.rules.min_sharpness:
            self.advice = BLURRY
        elif now - self.last_taken < self.rules.min_interval:
            self.advice = TAKEN
        else:
            self.crops.append(face.crop)
            self.stored.append(face.stored())
            self.last_taken = now
            self.advice = DONE if self.done else TAKEN
            return True
        return False
