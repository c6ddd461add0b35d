"""FaceNet (InceptionResnetV1) as an Embedder: today's model and crop, unchanged."""
from __future__ import annotations

import numpy as np

from ...config import DEFAULTS
from ..alignment import crop_face
from ..detection import Detection
from ..embedding import FaceEmbedder, ModelInfo
from ..matching import default_threshold
from .base import Embedder


class FaceNetEmbedder(FaceEmbedder, Embedder):
    """160x160 box + 32 px margin crops (no landmark warp), 512-d; weights: vggface2,
    casia-webface or a state_dict file (``Settings.weights``)."""
    kind = "facenet"

    def __init__(self, *, weights: str = DEFAULTS.weights, device: str = DEFAULTS.device,
                 torch_threads: int = DEFAULTS.torch_threads,
                 crop_size: int = DEFAULTS.crop_size,
                 crop_margin: int = DEFAULTS.crop_margin) -> None:
        super().__init__(weights=weights, device=device, torch_threads=torch_threads)
        self.crop_size, self.crop_margin = crop_size, crop_margin
        self.info = ModelInfo(self.info.name, self.info.model_id, self.info.dim,
                              default_threshold(self.info.name))

    def crop(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        return crop_face(rgb, detection.box, self.crop_size, self.crop_margin)
