"""Plain data every layer passes around, with no model or store behind it: a detected
face's box and landmarks, the identity of a face model, an enrolled person.

Kept free of torch and Faiss so that listing people or reading the database never loads
a network (``main.py people`` answers without them)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EMBEDDING_DIM = 512
"""FaceNet's vector length, the default of ``ModelInfo.dim``."""


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]
    """x1, y1, x2, y2 in pixels of the image that was passed in."""
    prob: float
    landmarks: np.ndarray
    """5x2: left eye, right eye, nose, mouth left, mouth right."""
    detector: str = "mtcnn"
    """Whose box, ``prob`` and points: 'mtcnn', or 'yunet' alone (faces/yunet.py, ``refine``)."""

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)


@dataclass(frozen=True)
class ModelInfo:
    """Identifies the network that produced a set of embeddings."""
    name: str
    """The weights file's stem, e.g. 20180408-102900-casia-webface-features."""
    model_id: str
    """'facenet:' (or 'dlib:', 'onnx:') plus the first 16 hex digits of the weights' sha256."""
    dim: int = EMBEDDING_DIM
    """Length of the (unit) vectors."""
    threshold: float | None = None
    """The model's default cosine threshold; None: matching.default_threshold(name)."""
    levels: tuple[float | None, float | None, float | None] | None = field(default=None,
                                                                          compare=False)
    """Duplicate, outlier and stranger levels a file declares for itself (an ONNX file's
    metadata or sidecar), for a model not in matching.MODEL_DEFAULTS; None where not."""


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    created_at: float
    samples: int
