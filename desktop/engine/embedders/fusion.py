"""``--model fusion``: FaceNet and dlib together, by score fusion that the rest of the
engine (Faiss, templates, evaluate, reembed) sees as one model.

Each model's cosine is put on a common scale by z-normalising it with the spread of its
LFW impostor scores (std 0.147 for FaceNet-CASIA, 0.036 for dlib: dlib's impostors crowd
near 0.8, so one dlib point is worth four of FaceNet's), and the two are added. A dot
product of the normalised concatenation [a / s_a, b / s_b] is exactly that sum up to one
constant factor, so the fused vector is that concatenation (640-d) and the threshold is
chosen on the fused score like any model's (matching.MODEL_DEFAULTS).

The crop is both models' inputs side by side (FaceNet's 160 px | dlib's 150 px chip,
padded to 160), so that one array carries everything ``embed`` needs.
"""
from __future__ import annotations

import hashlib

import numpy as np

from ..detection import Detection
from ..embedding import ModelInfo
from ..matching import model_defaults
from .base import Embedder, normalise

IMPOSTOR_STD = {"facenet": 0.1474, "dlib": 0.0364}
"""Std of each model's impostor cosines on LFW (random pairs of different photos of the
embedding cache, about 4,400 LFW photos, 20,000 pairs; all of LFW gives 0.153 and 0.037)."""
NAME = "fusion-facenet-dlib"


class FusionEmbedder(Embedder):
    kind = "fusion"

    def __init__(self, facenet: Embedder, dlib: Embedder) -> None:
        self.facenet, self.dlib = facenet, dlib
        self.weights = (1.0 / IMPOSTOR_STD["facenet"], 1.0 / IMPOSTOR_STD["dlib"])
        digest = hashlib.sha256(f"{facenet.model_id}|{dlib.model_id}|{self.weights}".encode())
        self.info = ModelInfo(name=NAME, model_id="fusion:" + digest.hexdigest()[:16],
                              dim=facenet.dim + dlib.dim, threshold=model_defaults(NAME).threshold)
        self.device = facenet.device
        self._side = max(getattr(facenet, "crop_size", 160), 150)

    def crop(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        side = self._side
        out = np.zeros((side, 2 * side, 3), np.uint8)
        a, b = self.facenet.crop(rgb, detection), self.dlib.crop(rgb, detection)
        out[:a.shape[0], :a.shape[1]] = a
        out[:b.shape[0], side:side + b.shape[1]] = b
        return out

    def embed(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return self.empty()
        side = self._side
        size_a = getattr(self.facenet, "crop_size", 160)
        first = [np.ascontiguousarray(c[:size_a, :size_a]) for c in crops]
        second = [np.ascontiguousarray(c[:150, side:side + 150]) for c in crops]
        a, b = self.facenet.embed(first), self.dlib.embed(second)
        return normalise(np.hstack([a * self.weights[0], b * self.weights[1]]))
