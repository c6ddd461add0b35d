"""A model-neutral stored crop: enough of the face for every embedder to make its input.

FaceNet wants the MTCNN box plus 25%, dlib a 150 px chip warped from landmarks (about
1.6x the box), ArcFace a 112 px warp. A database that keeps only one model's crop cannot
be re-embedded for another. ``stored_crop`` keeps instead the region within
``STORED_CONTEXT`` box-sizes of the box centre, clipped to the image (so crops near the
border come out exactly as they would from the photo), downscaled only when the box is
larger than ``STORED_BOX_SIDE`` pixels, together with the detection in the crop's own
coordinates. ``embedder.crop(stored.image, stored.detection)`` then makes any model's
input without the original photo (``reembed --model``).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from desktop.engine.core.types import Detection

STORED_CONTEXT = 2.0
"""Side of the kept square, in units of the box's longer side."""
STORED_BOX_SIDE = 128
"""The box's longer side is at most this many pixels in the stored crop (FaceNet's 160 px
input covers 1.25 boxes: 128 px of box is its full resolution)."""


@dataclass(frozen=True)
class StoredCrop:
    image: np.ndarray
    """RGB uint8, at most about STORED_CONTEXT * STORED_BOX_SIDE pixels a side."""
    detection: Detection
    """Box, probability and five landmarks in ``image``'s pixels."""

    def landmarks_json(self) -> list[list[float]]:
        return [[round(float(x), 2), round(float(y), 2)] for x, y in self.detection.landmarks]


def stored_crop(rgb: np.ndarray, detection: Detection) -> StoredCrop:
    """The neutral crop of one detected face (see module docstring)."""
    x1, y1, x2, y2 = detection.box
    side = max(x2 - x1, y2 - y1)
    half = STORED_CONTEXT * side / 2
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    height, width = rgb.shape[:2]
    left, top = int(max(np.floor(cx - half), 0)), int(max(np.floor(cy - half), 0))
    right, bottom = int(min(np.ceil(cx + half), width)), int(min(np.ceil(cy + half), height))
    region = rgb[top:max(bottom, top + 1), left:max(right, left + 1)]
    scale = min(1.0, STORED_BOX_SIDE / max(side, 1.0))
    if scale < 1.0:
        size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
        scale_x, scale_y = size[0] / region.shape[1], size[1] / region.shape[0]
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    else:
        scale_x = scale_y = 1.0
        region = region.copy()
    shift = np.array([left, top], np.float32)
    factor = np.array([scale_x, scale_y], np.float32)
    box = ((x1 - left) * scale_x, (y1 - top) * scale_y, (x2 - left) * scale_x,
           (y2 - top) * scale_y)
    landmarks = (np.asarray(detection.landmarks, np.float32) - shift) * factor
    return StoredCrop(region, Detection(box, detection.prob, landmarks))
