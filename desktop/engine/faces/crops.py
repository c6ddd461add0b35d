"""Face crops for FaceNet: the same preprocessing at enrollment and at recognition."""
from __future__ import annotations

import cv2
import numpy as np

from desktop.engine.settings.config import DEFAULTS


def crop_face(rgb: np.ndarray, box: tuple[float, float, float, float],
              size: int = DEFAULTS.crop_size, margin: int = DEFAULTS.crop_margin) -> np.ndarray:
    """A size x size RGB crop around ``box`` with ``margin`` pixels (at output scale).

    This is the crop Sandberg's FaceNet models were trained on (MTCNN box plus margin,
    no landmark warp), and the one facenet-pytorch's ``extract_face`` makes.
    """
    x1, y1, x2, y2 = box
    pad_x = margin * (x2 - x1) / (size - margin) / 2
    pad_y = margin * (y2 - y1) / (size - margin) / 2
    height, width = rgb.shape[:2]
    left = int(max(x1 - pad_x, 0))
    top = int(max(y1 - pad_y, 0))
    right = int(min(x2 + pad_x, width))
    bottom = int(min(y2 + pad_y, height))
    region = rgb[top:max(bottom, top + 1), left:max(right, left + 1)]
    shrinking = region.shape[0] > size or region.shape[1] > size
    return cv2.resize(region, (size, size),
                      interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def sharpness(crop: np.ndarray) -> float:
    """Variance of the Laplacian: low for blurred or motion-smeared crops."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def frontalness(landmarks: np.ndarray) -> float:
    """1.0 when the nose sits midway between the eyes, towards 0 as the head turns."""
    left_eye, right_eye, nose = landmarks[0], landmarks[1], landmarks[2]
    eye_span = float(right_eye[0] - left_eye[0])
    if eye_span <= 1:
        return 0.0
    offset = abs(float(nose[0]) - (left_eye[0] + right_eye[0]) / 2) / (eye_span / 2)
    return max(0.0, 1.0 - offset)
