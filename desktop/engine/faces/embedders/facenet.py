"""FaceNet (InceptionResnetV1) as an Embedder: today's model and crop, unchanged.

Two backends give the same vectors (cosine >= 0.9999, tested): 'torch', and
'onnxruntime', which runs an ONNX copy exported once next to the downloaded weights
(``onnx_copy_path``); the model id is the weights' in both, so a database works with either.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from desktop.engine.core.types import Detection, ModelInfo
from desktop.engine.decisions.matching import default_threshold
from desktop.engine.faces.crops import crop_face
from desktop.engine.faces.embedders.base import Embedder
from desktop.engine.faces.embedders.inception import FaceEmbedder, checkpoint_dir
from desktop.engine.settings.config import DEFAULTS

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnxruntime")


def onnx_copy_path(info: ModelInfo) -> Path:
    """Where the ONNX copy of these weights is kept (named by the weights' digest)."""
    return checkpoint_dir() / f"{info.name}-{info.model_id.split(':')[1]}.onnx"


class FaceNetEmbedder(FaceEmbedder, Embedder):
    """160x160 box + 32 px margin crops (no landmark warp), 512-d; weights: vggface2,
    casia-webface or a state_dict file (``Settings.weights``)."""
    kind = "facenet"

    def __init__(self, *, weights: str = DEFAULTS.weights, device: str = DEFAULTS.device,
                 torch_threads: int = DEFAULTS.torch_threads,
                 crop_size: int = DEFAULTS.crop_size, crop_margin: int = DEFAULTS.crop_margin,
                 backend: str = DEFAULTS.facenet_backend,
                 onnx_spinning: bool = DEFAULTS.onnx_spinning) -> None:
        super().__init__(weights=weights, device=device, torch_threads=torch_threads)
        self.crop_size, self.crop_margin = crop_size, crop_margin
        self.info = ModelInfo(self.info.name, self.info.model_id, self.info.dim,
                              default_threshold(self.info.name))
        self.backend = "torch"
        self._onnx = None
        if backend == "onnxruntime" and self.device.type == "cpu":
            self._onnx = self._load_onnx_copy(torch_threads, onnx_spinning)
            if self._onnx is not None:
                self.backend = backend

    def _load_onnx_copy(self, threads: int, spinning: bool):
        """The onnxruntime twin, exported on first use; None (torch stays) if impossible."""
        from desktop.engine.faces.embedders.export import export_model
        from desktop.engine.faces.embedders.onnx_model import OnnxEmbedder
        path = onnx_copy_path(self.info)
        try:
            if not path.is_file():
                log.info("Exporting FaceNet to ONNX once: %s", path)
                export_model(self.model, self.info, path)
            return OnnxEmbedder(path, threads=threads, spinning=spinning)
        except Exception as exc:  # no onnx package, read-only cache, a broken copy
            log.warning("FaceNet stays on torch: no usable ONNX copy at %s (%s)", path, exc)
            return None

    def crop(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        return crop_face(rgb, detection.box, self.crop_size, self.crop_margin)

    def embed(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        if self._onnx is not None:
            return self._onnx.embed(crops)
        return super().embed(crops)

    def embed_torch(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Always the PyTorch network (for parity checks)."""
        return FaceEmbedder.embed(self, crops)
