"""MTCNN face detection: every face with its box, probability and five landmarks."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN

from ..config import DEFAULTS, Settings
from .errors import KioskError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]
    """x1, y1, x2, y2 in pixels of the image that was passed in."""
    prob: float
    landmarks: np.ndarray
    """5x2: left eye, right eye, nose, mouth left, mouth right."""
    detector: str = "mtcnn"
    """Whose box, ``prob`` and points: 'mtcnn', or 'yunet' alone (yunet.py, ``refine``)."""

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)


def pick_device(device: str = DEFAULTS.device) -> torch.device:
    if device == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError:
        raise KioskError(f"unknown device {device!r}: use auto, cpu or cuda:N") from None
    if chosen.type == "cuda" and (not torch.cuda.is_available() or
                                  (chosen.index or 0) >= torch.cuda.device_count()):
        raise KioskError(f"device {device!r} is not available on this machine; use auto or cpu")
    return chosen


class FaceDetector:
    """Wraps facenet-pytorch's MTCNN; one image per call (numpy 2 breaks mixed batches)."""

    def __init__(self, *, min_face_size: int = DEFAULTS.min_face_size,
                 thresholds: tuple[float, float, float] = DEFAULTS.det_thresholds,
                 min_prob: float = DEFAULTS.min_det_prob,
                 max_side: int = DEFAULTS.detect_max_side,
                 device: str = DEFAULTS.device) -> None:
        self.device = pick_device(device)
        self.min_face_size = min_face_size
        self.min_prob = min_prob
        self.max_side = max_side
        self._mtcnn = MTCNN(keep_all=True, min_face_size=min_face_size,
                            thresholds=list(thresholds), select_largest=False,
                            post_process=False, device=self.device)

    def detect(self, rgb: np.ndarray, max_side: int | None = None) -> list[Detection]:
        """Faces in an RGB uint8 image, largest first; [] when none (or none can fit).

        Large images are downscaled to ``max_side`` for detection, which is where most of
        MTCNN's time goes; boxes and landmarks are scaled back to the input's pixels. Any
        image size is answered: see ``detection_scale`` for thin and tiny ones.
        """
        height, width = rgb.shape[:2]
        scaled = scaled_for_detection(rgb, max_side or self.max_side, self.min_face_size)
        if scaled is None:
            return []
        small, scale = scaled
        try:
            boxes, probs, points = self._mtcnn.detect(np.ascontiguousarray(small),
                                                      landmarks=True)
        except ValueError as exc:
            # facenet-pytorch concatenates an empty list when every candidate of its
            # first stage falls outside the image: that is "no face", not a failure
            if "non-empty list" not in str(exc):
                raise
            log.debug("MTCNN found no candidate boxes (%s)", exc)
            return []
        if boxes is None:
            return []
        faces = []
        for box, prob, pts in zip(boxes, probs, points):
            coords = np.asarray(box, dtype=np.float64)
            if prob is None or not prob >= self.min_prob or not np.isfinite(coords).all():
                continue
            x1, y1, x2, y2 = (float(v) / scale for v in coords)
            x1, y1 = max(0.0, x1), max(0.0, y1)
            x2, y2 = min(float(width), x2), min(float(height), y2)
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            faces.append(Detection((x1, y1, x2, y2), float(prob),
                                   np.asarray(pts, dtype=np.float32) / scale))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces


THIN_PIXELS_FACTOR = 0.5
"""An image thinner than 2:1 may keep this share of max_side squared pixels, more than its
long side alone would allow, so that faces in a panorama keep their size. Photos of 2:1 or
squarer are unaffected (their long side is the limit)."""
MAX_DETECT_PIXELS_FACTOR = 4
"""Never more than this many times max_side squared pixels go to MTCNN (bounds memory and
time for a 40-megapixel strip)."""


def fits_pyramid(short_side: int, min_face_size: int) -> bool:
    """Whether MTCNN's image pyramid has at least one level (its own arithmetic): an image
    whose short side is under ``min_face_size`` cannot hold a face it looks for."""
    return short_side * (12.0 / min_face_size) >= 12


def scaled_for_detection(rgb: np.ndarray, max_side: int,
                         min_face_size: int) -> tuple[np.ndarray, float] | None:
    """The image resized as detection wants it (``detection_scale``) and the factor used,
    or None when no face of ``min_face_size`` can fit."""
    height, width = rgb.shape[:2]
    scale = detection_scale(height, width, max_side, min_face_size)
    if scale is None:
        return None
    small = rgb if scale == 1.0 else cv2.resize(
        rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if not fits_pyramid(min(small.shape[:2]), min_face_size):
        return None
    return small, scale


def detection_scale(height: int, width: int, max_side: int, min_face_size: int) -> float | None:
    """The factor to resize an image by before MTCNN, or None when no face can fit.

    Normally the long side is brought down to ``max_side``; a panorama keeps more pixels
    (``THIN_PIXELS_FACTOR``), and its short side at least ``min_face_size`` (so a face that
    fills it can still be found), within ``MAX_DETECT_PIXELS_FACTOR``.
    """
    short, long = min(height, width), max(height, width)
    if short < 1 or not fits_pyramid(short, min_face_size):
        return None
    pixels = height * width
    scale = min(1.0, max(max_side / long, (THIN_PIXELS_FACTOR * max_side ** 2 / pixels) ** 0.5))
    if short * scale < min_face_size:
        scale = min(1.0, min_face_size / short)
    budget = MAX_DETECT_PIXELS_FACTOR * max_side ** 2
    if pixels * scale * scale > budget:
        scale = (budget / pixels) ** 0.5
    if not fits_pyramid(round(short * scale), min_face_size):
        return None
    return scale


def detector_kind(settings: Settings, live: bool = False) -> str:
    """'mtcnn' or 'yunet': the detector for photos, or with ``live`` for the live loop."""
    if live and settings.live_detector != "same":
        return settings.live_detector
    return settings.detector


def build_detector(settings: Settings, live: bool = False) -> FaceDetector:
    """The detector the settings describe (for the live loop with ``live``): the one place
    a detector is configured. A YuNet detector answers exactly as a FaceDetector does."""
    mtcnn = FaceDetector(min_face_size=settings.min_face_size,
                         thresholds=settings.det_thresholds, min_prob=settings.min_det_prob,
                         max_side=settings.detect_max_side, device=settings.device)
    if detector_kind(settings, live) == "yunet":
        from .yunet import YuNetDetector
        return YuNetDetector(mtcnn, refine=not (live and points_only(settings)))  # type: ignore[return-value]
    return mtcnn


def points_only(settings: Settings) -> bool:
    """Whether the face model's crop needs only the five points, not MTCNN's box: then
    the live loop takes YuNet's own points (measured for reid: docs/reid-model.md). Not
    with passive liveness, whose MiniFASNet crops were measured on MTCNN's boxes."""
    return settings.model.strip().lower() == "reid" and \
        settings.liveness not in ("passive", "both")
