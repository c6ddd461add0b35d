"""What every face model offers the engine: its identity, its own crop, and unit vectors.

Every embedder returns L2-normalised float32 rows, so the distance convention is the same
for all of them: cosine similarity = dot product (Faiss inner product), higher is more
alike. A model's native convention (dlib: Euclidean distance 0.6) is converted once into
``ModelInfo.threshold``: for unit vectors, cosine = 1 - d**2 / 2.
"""
from __future__ import annotations

import abc
from typing import Any

import numpy as np

from desktop.engine.core.types import Detection, ModelInfo

__all__ = ["Embedder", "ModelInfo", "normalise", "euclidean_to_cosine"]


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, float32 (the one distance convention of the engine)."""
    vectors = np.asarray(vectors, np.float32)
    return vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)


def euclidean_to_cosine(distance: float) -> float:
    """The cosine similarity of two unit vectors ``distance`` apart."""
    return 1.0 - distance * distance / 2.0


class Embedder(abc.ABC):
    """One face model. ``crop`` may run on any thread (it is cheap and stateless);
    ``embed`` runs on the engine's inference thread (see models.Models)."""

    kind: str
    """'facenet', 'dlib' or 'onnx': what ``--model`` calls this family."""
    info: ModelInfo
    """name, model_id (stable id of the weights), dim and default threshold."""
    device: Any = "cpu"
    """Where it runs, for the status bar."""

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def model_id(self) -> str:
        return self.info.model_id

    @property
    def dim(self) -> int:
        return self.info.dim

    @property
    def default_threshold(self) -> float:
        if self.info.threshold is not None:
            return self.info.threshold
        from desktop.engine.decisions.matching import default_threshold
        return default_threshold(self.info.name)

    @abc.abstractmethod
    def crop(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        """This model's input for one detected face of an RGB uint8 image."""

    @abc.abstractmethod
    def embed(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """N crops (as made by ``crop``) -> N x dim float32 unit rows."""

    def empty(self) -> np.ndarray:
        return np.zeros((0, self.dim), np.float32)
