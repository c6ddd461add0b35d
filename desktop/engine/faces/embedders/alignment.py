"""Landmark alignment: a similarity transform taking MTCNN's five points onto a template.

MTCNN's points are: left eye, right eye, nose tip, left and right mouth corner (image
left/right). ArcFace-style models were trained on 112x112 crops warped onto
``ARCFACE_112``; dlib's ResNet on 150x150 chips, for which ``DLIB_150`` gives where
MTCNN's points fall in dlib's own chips (measured).
"""
from __future__ import annotations

import cv2
import numpy as np

ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)
"""insightface's standard 5-point template for 112x112 crops."""

INTEL_REID_128 = np.array([[0.31556875, 0.46157411], [0.68262292, 0.46157411],
                           [0.50026250, 0.64050536], [0.34947188, 0.82469196],
                           [0.65343646, 0.82469196]], np.float32) * 128
"""Intel's reference points for face-reidentification-retail-0095 (its model card gives
them in [0,1]; times its 128 px input)."""

DLIB_150 = np.array([[46.3, 46.1], [102.7, 46.1], [74.5, 79.0],
                     [49.7, 105.8], [99.3, 105.8]], np.float32)
"""Mean position of MTCNN's points in dlib's get_face_chip(size=150, padding=0.25) chips
(dlib's shape predictor run in the MTCNN box), over 181 photos of ../shared/faces/people,
mirrored to be left-right symmetric; per-point spread 3-6 px."""


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity (rotation, uniform scale, shift) taking src to dst
    (Umeyama 1991, as insightface's alignment does)."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rot = u @ sign @ vt
    var = (s ** 2).sum() / len(src)
    scale = (sig * np.diag(sign)).sum() / var if var > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = mu_d - scale * rot @ mu_s
    return matrix


def warp_to_template(rgb: np.ndarray, landmarks: np.ndarray, template: np.ndarray,
                     size: int | tuple[int, int]) -> np.ndarray:
    """The face warped so that its five landmarks best match ``template`` (size x size)."""
    width, height = (size, size) if isinstance(size, int) else size
    matrix = similarity_matrix(landmarks, template)
    return cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def scaled_template(template: np.ndarray, from_size: int, to_size: int) -> np.ndarray:
    return np.asarray(template, np.float32) * (to_size / from_size)
