"""A cheaper detector for the live loop: YuNet finds faces, MTCNN only around them.

MTCNN spends most of its time running its P-net over an image pyramid of the whole frame;
OpenCV's YuNet finds the same faces in a fraction of that. MTCNN then runs, unchanged, on
a region around each of YuNet's boxes. Its pyramid scales do not depend on the image size
(12 / min_face_size, x0.709 per level), so on the region it sees the face as it would on
the whole frame: boxes, landmarks, crops and embeddings stay MTCNN's (``python main.py bench --only stages``).
Replacing only P-net and R-net by YuNet's box and keeping the O-net was measured too: its
boxes moved (FaceNet cosine ~0.98 to MTCNN's crops) and `evaluate` lost a little.
"""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from desktop.engine.core.errors import KioskError
from desktop.engine.core.geometry import iou
from desktop.engine.core.types import Detection
from desktop.engine.faces.detection import FaceDetector, scaled_for_detection
from desktop.engine.faces.quality import YUNET_MIN_SCORE

log = logging.getLogger(__name__)

YUNET_SCORE = 0.5
"""YuNet's own threshold: low, because MTCNN has the last word."""
YUNET_NMS = 0.3
REGION_MARGIN = 0.6
"""MTCNN looks at each proposal grown by this share of its size on every side: room for
YuNet's box to be off, and for MTCNN's own box to lie where it would on the whole frame."""


def yunet_path() -> Path:
    """The YuNet ONNX file beside the repository (../shared/models) or $KIOSK_YUNET."""
    import os
    default = Path(__file__).resolve().parents[4] / "shared" / "models" / \
        "face_detection_yunet_2026may.onnx"
    return Path(os.environ.get("KIOSK_YUNET", default))


class YuNetDetector:
    """Same answers as ``FaceDetector.detect`` (MTCNN's boxes, probabilities, landmarks),
    with MTCNN run only where YuNet saw a face."""

    def __init__(self, mtcnn: FaceDetector, path: Path | None = None, *,
                 refine: bool = True) -> None:
        self.path = path or yunet_path()
        self.refine = refine
        """False: YuNet's own boxes, scores and five points, MTCNN never runs (for a model
        whose crop needs only the points; its score must reach quality.YUNET_MIN_SCORE)."""
        if not self.path.is_file() or not hasattr(cv2, "FaceDetectorYN"):
            raise KioskError(f"live_detector yunet needs the YuNet model at {self.path} "
                             "(set KIOSK_YUNET) and OpenCV >= 4.8")
        self.mtcnn = mtcnn
        self.min_face_size, self.min_prob = mtcnn.min_face_size, mtcnn.min_prob
        self.max_side, self.device = mtcnn.max_side, mtcnn.device
        # OpenCV's DNN warns on stderr that its new engine ignores the default target:
        # harmless, and it must not interleave with the CLI's one-line messages
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:
            self._yunet = cv2.FaceDetectorYN.create(str(self.path), "", (320, 320),
                                                    YUNET_SCORE, YUNET_NMS, 5000)
        finally:
            cv2.utils.logging.setLogLevel(level)

    def detect(self, rgb: np.ndarray, max_side: int | None = None) -> list[Detection]:
        scaled = scaled_for_detection(rgb, max_side or self.max_side, self.min_face_size)
        if scaled is None:
            return []
        small, scale = scaled
        if not self.refine:
            return self._yunet_only(small, scale)
        faces = []
        for x1, y1, x2, y2 in self._regions(self._propose(small)[0], small.shape):
            for det in self.mtcnn.detect(np.ascontiguousarray(small[y1:y2, x1:x2]),
                                         max(x2 - x1, y2 - y1)):
                bx1, by1, bx2, by2 = det.box
                box = ((bx1 + x1) / scale, (by1 + y1) / scale, (bx2 + x1) / scale,
                       (by2 + y1) / scale)
                faces.append(Detection(box, det.prob,
                                       (det.landmarks + np.array([x1, y1], np.float32)) / scale))
        faces = _unique(faces)
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def _regions(self, proposals: np.ndarray, shape: tuple[int, ...]) -> list[tuple[int, ...]]:
        """Each proposal grown by REGION_MARGIN of its size on every side, in the image;
        regions that overlap are merged, so a face is looked for once."""
        h, w = shape[:2]
        regions: list[list[int]] = []
        for x1, y1, x2, y2 in proposals:
            side = max(x2 - x1, y2 - y1, self.min_face_size)
            grow = REGION_MARGIN * side
            box = [max(0, int(x1 - grow)), max(0, int(y1 - grow)),
                   min(w, int(np.ceil(x2 + grow))), min(h, int(np.ceil(y2 + grow)))]
            for other in regions:
                if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] \
                        and other[1] < box[3]:
                    other[:] = [min(box[0], other[0]), min(box[1], other[1]),
                                max(box[2], other[2]), max(box[3], other[3])]
                    break
            else:
                regions.append(box)
        return [tuple(r) for r in regions if min(r[2] - r[0], r[3] - r[1]) >= self.min_face_size]

    def _yunet_only(self, small: np.ndarray, scale: float) -> list[Detection]:
        boxes, found = self._propose(small)
        faces = [Detection((float(box[0]) / scale, float(box[1]) / scale, float(box[2]) / scale,
                            float(box[3]) / scale), float(row[14]),
                           row[4:14].reshape(5, 2).astype(np.float32) / scale, "yunet")
                 for box, row in zip(boxes, found) if row[14] >= YUNET_MIN_SCORE
                 and max(box[2] - box[0], box[3] - box[1]) >= self.min_face_size]
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def _propose(self, small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """YuNet's boxes (x1, y1, x2, y2) of faces at least min_face_size wide, and its
        rows (box, five points: image-left eye first as MTCNN's, score)."""
        h, w = small.shape[:2]
        self._yunet.setInputSize((w, h))
        _, found = self._yunet.detect(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        if found is None:
            return np.zeros((0, 4), np.float32), np.zeros((0, 15), np.float32)
        x, y, bw, bh = found[:, 0], found[:, 1], found[:, 2], found[:, 3]
        keep = np.maximum(bw, bh) >= self.min_face_size * 0.6
        return np.stack([x, y, x + bw, y + bh], axis=1)[keep].astype(np.float32), found[keep]


def _unique(faces: list[Detection]) -> list[Detection]:
    """One detection per face where merged regions overlapped: the most probable."""
    kept: list[Detection] = []
    for face in sorted(faces, key=lambda f: f.prob, reverse=True):
        if all(iou(face.box, k.box) < 0.5 for k in kept):
            kept.append(face)
    return kept
