"""A cheaper detector for the live loop: YuNet proposes, MTCNN's O-net confirms.

MTCNN spends most of its time in the P-net image pyramid and the R-net; OpenCV's YuNet
finds the same faces in a fraction of that. Its boxes, made square as MTCNN's R-net
output is, go through MTCNN's own last stage (O-net: probability, box regression, five
landmarks), so boxes, crops and therefore FaceNet embeddings stay MTCNN's (README, Speed).
"""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch
from facenet_pytorch.models.utils.detect_face import batched_nms_numpy, bbreg, imresample, pad, rerec

from .detection import Detection, FaceDetector, detection_scale, fits_pyramid
from .errors import KioskError

log = logging.getLogger(__name__)

YUNET_SCORE = 0.5
"""YuNet's own threshold: low, because the O-net has the last word."""
YUNET_NMS = 0.3


def yunet_path() -> Path:
    """The YuNet ONNX file beside the repository (../shared/models) or $KIOSK_YUNET."""
    import os
    default = Path(__file__).resolve().parents[3] / "shared" / "models" / \
        "face_detection_yunet_2026may.onnx"
    return Path(os.environ.get("KIOSK_YUNET", default))


class YuNetDetector:
    """Same answers as ``FaceDetector.detect`` (boxes, probabilities, landmarks of MTCNN's
    O-net), with YuNet instead of the P-net pyramid and R-net."""

    def __init__(self, mtcnn: FaceDetector, path: Path | None = None) -> None:
        self.path = path or yunet_path()
        if not self.path.is_file() or not hasattr(cv2, "FaceDetectorYN"):
            raise KioskError(f"live_detector yunet needs the YuNet model at {self.path} "
                             "(set KIOSK_YUNET) and OpenCV >= 4.8")
        self.mtcnn = mtcnn
        self.min_face_size, self.min_prob = mtcnn.min_face_size, mtcnn.min_prob
        self.max_side, self.device = mtcnn.max_side, mtcnn.device
        self._onet, self._rnet = mtcnn._mtcnn.onet, mtcnn._mtcnn.rnet
        self.refine = True
        self._onet_threshold = mtcnn._mtcnn.thresholds[2]
        self._yunet = cv2.FaceDetectorYN.create(str(self.path), "", (320, 320), YUNET_SCORE,
                                                YUNET_NMS, 5000)

    def detect(self, rgb: np.ndarray, max_side: int | None = None) -> list[Detection]:
        height, width = rgb.shape[:2]
        scale = detection_scale(height, width, max_side or self.max_side, self.min_face_size)
        if scale is None:
            return []
        small = rgb if scale == 1.0 else cv2.resize(
            rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if not fits_pyramid(min(small.shape[:2]), self.min_face_size):
            return []
        proposals = self._propose(small)
        if not len(proposals):
            return []
        boxes, probs, points = self._confirm(small, proposals)
        faces = []
        for box, prob, pts in zip(boxes, probs, points):
            if not prob >= self.min_prob or not np.isfinite(box).all():
                continue
            x1, y1, x2, y2 = (float(v) / scale for v in box)
            x1, y1 = max(0.0, x1), max(0.0, y1)
            x2, y2 = min(float(width), x2), min(float(height), y2)
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            faces.append(Detection((x1, y1, x2, y2), float(prob),
                                   np.asarray(pts, dtype=np.float32) / scale))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def _propose(self, small: np.ndarray) -> np.ndarray:
        """YuNet's boxes (x1, y1, x2, y2) of faces at least min_face_size wide."""
        h, w = small.shape[:2]
        self._yunet.setInputSize((w, h))
        _, found = self._yunet.detect(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        if found is None:
            return np.zeros((0, 4), np.float32)
        x, y, bw, bh = found[:, 0], found[:, 1], found[:, 2], found[:, 3]
        keep = np.maximum(bw, bh) >= self.min_face_size * 0.6
        return np.stack([x, y, x + bw, y + bh], axis=1)[keep].astype(np.float32)

    @torch.no_grad()
    def _confirm(self, small: np.ndarray, proposals: np.ndarray):
        """MTCNN's third stage on square proposals: probability, refined box, landmarks."""
        h, w = small.shape[:2]
        image = torch.as_tensor(small.copy(), device=self.device)
        image = image.permute(2, 0, 1).unsqueeze(0).float()
        boxes = rerec(torch.as_tensor(proposals, device=self.device))
        boxes = torch.cat([boxes, torch.ones(len(boxes), 1, device=self.device)], dim=1)
        if self.refine:  # MTCNN's second stage too: its box regression, made square
            boxes, patches = _patches(image, boxes, 24)
            if len(boxes):
                out = self._rnet((patches - 127.5) * 0.0078125)
                boxes = rerec(bbreg(boxes, out[0]))
        boxes, patches = _patches(image, boxes, 48)
        if not len(boxes):
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        out = self._onet((patches - 127.5) * 0.0078125)
        regression, landmarks, score = out[0], out[1].permute(1, 0), out[2][:, 1]
        passed = score > self._onet_threshold
        boxes = torch.cat((boxes[passed, :4], score[passed].unsqueeze(1)), dim=1)
        landmarks, regression = landmarks[:, passed], regression[passed]
        bw, bh = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        px = bw.repeat(5, 1) * landmarks[:5, :] + boxes[:, 0].repeat(5, 1) - 1
        py = bh.repeat(5, 1) * landmarks[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
        points = torch.stack((px, py)).permute(2, 1, 0)
        boxes = bbreg(boxes, regression)
        pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4],
                                 torch.zeros(len(boxes), device=self.device), 0.7, "Min")
        final = boxes[pick].cpu().numpy()
        return final[:, :4], final[:, 4], points[pick].cpu().numpy()


def _patches(image: torch.Tensor, boxes: torch.Tensor, side: int):
    """The boxes that lie (partly) in the image, and their side x side patches."""
    h, w = image.shape[2:4]
    y, ey, x, ex = pad(boxes, w, h)
    patches, kept = [], []
    for k in range(len(y)):
        if ey[k] > (y[k] - 1) and ex[k] > (x[k] - 1):
            patches.append(imresample(image[:, :, (y[k] - 1):ey[k], (x[k] - 1):ex[k]],
                                      (side, side)))
            kept.append(k)
    if not patches:
        return boxes[:0], None
    return boxes[kept], torch.cat(patches)
