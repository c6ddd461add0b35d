"""Any ArcFace-style ONNX face model, run with onnxruntime.

By default the input is a 112x112 RGB crop warped onto the standard ArcFace 5-point
template, scaled (x - 127.5) / 127.5, NCHW. A model may declare otherwise (its input,
its own five-point template, its levels) in its ONNX metadata or in a sidecar JSON file
beside it: onnx_spec.py lists the keys.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from desktop.engine.core.errors import WeightsUnavailableError
from desktop.engine.core.types import Detection, ModelInfo
from desktop.engine.decisions.matching import FALLBACK
from desktop.engine.faces.crops import crop_face
from desktop.engine.faces.embedders import alignment as align
from desktop.engine.faces.embedders.base import Embedder, normalise
from desktop.engine.faces.embedders.inception import file_digest
from desktop.engine.faces.embedders.onnx_spec import PREFIX, OnnxInput, read_sidecar, sidecar_path

__all__ = ["OnnxEmbedder", "OnnxInput", "PREFIX"]

log = logging.getLogger(__name__)


class OnnxEmbedder(Embedder):
    kind = "onnx"

    def __init__(self, path: str | os.PathLike, *, threads: int = 0,
                 spinning: bool = False) -> None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise WeightsUnavailableError(f"ONNX model file not found: {file}. Use "
                                          f"--model onnx:PATH with an existing .onnx file.")
        try:
            import onnxruntime as ort
        except ImportError:
            raise WeightsUnavailableError("the onnx model needs onnxruntime: run "
                                          "`pip install -r requirements.txt`") from None
        sidecar = sidecar_path(file)
        try:
            extra = read_sidecar(sidecar) if sidecar is not None else {}
        except ValueError as exc:
            raise WeightsUnavailableError(str(exc)) from None
        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        # spinning workers take a core from whatever else runs (``python main.py bench --only threads``)
        options.add_session_config_entry("session.intra_op.allow_spinning",
                                         "1" if spinning else "0")
        try:
            self._session = ort.InferenceSession(str(file), options,
                                                 providers=["CPUExecutionProvider"])
            model_input = self._session.get_inputs()[0]
            shape = model_input.shape
            if len(shape) != 4:
                raise ValueError(f"input {model_input.name} has shape {shape}, not 4-D")
            self._nhwc = shape[3] == 3 and shape[1] != 3
            self._one_at_a_time = shape[0] == 1
            side = shape[1] if self._nhwc else shape[2]
            meta: dict = dict(self._session.get_modelmeta().custom_metadata_map)
            meta.update(extra)
            self.spec = OnnxInput.from_metadata(meta, side if isinstance(side, int) else None)
            self._input = model_input.name
            dim = self._run(np.zeros((1, self.spec.size, self.spec.size, 3), np.uint8)).shape
        except Exception as exc:  # not ONNX, truncated, wrong shapes, bad metadata
            raise WeightsUnavailableError(
                f"{file} is not a usable ONNX face model: "
                f"{str(exc).strip().splitlines()[0][:200]}") from None
        if len(dim) != 2:
            raise WeightsUnavailableError(f"{file}: the model's output has shape {dim}; a face "
                                          f"model must give one vector per face")
        threshold = self.spec.threshold if self.spec.threshold is not None else FALLBACK.threshold
        digest = file_digest(file)
        if sidecar is not None:  # the sidecar changes the vectors: another model id
            digest = hashlib.sha256((digest + self.spec.vectors_key()).encode()).hexdigest()
        self.path = file
        self.info = ModelInfo(name=self.spec.name or file.stem,
                              model_id="onnx:" + digest[:16], dim=int(dim[1]),
                              threshold=threshold,
                              levels=(self.spec.duplicate, self.spec.outlier, self.spec.stranger))
        log.info("ONNX model %s (%s), %d-d, %s crop %d px", self.info.name, self.info.model_id,
                 self.info.dim, self.spec.crop, self.spec.size)

    def crop(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        size = self.spec.size
        if self.spec.crop == "box":
            return crop_face(rgb, detection.box, size, self.spec.margin)
        return align.warp_to_template(rgb, detection.landmarks,
                                      self.spec.landmarks_template(), size)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if self._one_at_a_time and len(batch) > 1:
            return np.concatenate([self._run(batch[i:i + 1]) for i in range(len(batch))])
        x = batch.astype(np.float32)
        if self.spec.channels == "BGR":
            x = x[..., ::-1]
        x = (x - self.spec.mean) / self.spec.std
        if not self._nhwc:
            x = x.transpose(0, 3, 1, 2)
        return self._session.run(None, {self._input: np.ascontiguousarray(x)})[0]

    def embed(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return self.empty()
        batch = np.stack(crops) if isinstance(crops, list) else np.asarray(crops)
        return normalise(self._run(batch).reshape(len(batch), -1))
