"""FaceNet (InceptionResnetV1) embeddings, and where its weights come from."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from facenet_pytorch import InceptionResnetV1

from ..config import DEFAULTS
from .detection import pick_device
from .errors import WeightsUnavailableError
from .weights import checkpoint_dir, download_once, file_digest

log = logging.getLogger(__name__)

PRETRAINED_URLS = {
    "vggface2": "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/"
                "20180402-114759-vggface2.pt",
    "casia-webface": "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/"
                     "20180408-102900-casia-webface.pt",
}
EMBEDDING_DIM = 512


def resolve_weights(spec: str) -> Path:
    """A state_dict file for ``spec``: an existing path, or a pretrained name (downloaded once).

    Raises WeightsUnavailableError with the file name, the folder and the --weights
    alternative when the download is impossible.
    """
    if spec not in PRETRAINED_URLS:
        path = Path(spec).expanduser()
        if path.is_file():
            return path
        raise WeightsUnavailableError(
            f"FaceNet weights file not found: {path}. Pass --weights with a state_dict file "
            f"or one of: {', '.join(PRETRAINED_URLS)}.")
    url = PRETRAINED_URLS[spec]
    return download_once(url, checkpoint_dir() / os.path.basename(url),
                         what=f"FaceNet '{spec}' weights",
                         alternative="pass --weights PATH (or set FACENET_WEIGHTS) to a FaceNet "
                                     "state_dict file")


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


class FaceEmbedder:
    """160x160 RGB crops in, L2-normalised 512-d float32 vectors out."""

    def __init__(self, *, weights: str = DEFAULTS.weights, device: str = DEFAULTS.device,
                 batch_size: int = 32, torch_threads: int = DEFAULTS.torch_threads) -> None:
        path = resolve_weights(weights)
        if torch_threads > 0:
            torch.set_num_threads(torch_threads)
        self.device = pick_device(device)
        self.batch_size = batch_size
        self.info = ModelInfo(name=path.stem.removesuffix(".pt"),
                              model_id="facenet:" + file_digest(path)[:16])
        model = InceptionResnetV1(pretrained=None, classify=False)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            state = {k: v for k, v in state.items() if not k.startswith("logits.")}
            model.load_state_dict(state, strict=True)
        except Exception as exc:  # truncated file, a different network, not a state_dict
            raise WeightsUnavailableError(
                f"{path} is not a usable FaceNet (InceptionResnetV1) state_dict: "
                f"{str(exc).splitlines()[0][:200]}") from None
        self.model = model.eval().to(self.device)
        log.info("FaceNet %s (%s) on %s, %d torch threads", self.info.name,
                 self.info.model_id, self.device, torch.get_num_threads())

    def embed(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Embed RGB uint8 crops (N x 160 x 160 x 3); returns N x 512."""
        if len(crops) == 0:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        batch = np.ascontiguousarray(np.stack(crops) if isinstance(crops, list) else crops)
        out = []
        with torch.inference_mode():
            for start in range(0, len(batch), self.batch_size):
                chunk = torch.from_numpy(batch[start:start + self.batch_size]).to(self.device)
                chunk = (chunk.permute(0, 3, 1, 2).float() - 127.5) / 128.0
                out.append(self.model(chunk).cpu().numpy())
        vectors = np.concatenate(out).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        return vectors
