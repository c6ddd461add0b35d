"""``--model reid``: Intel's face-reidentification-retail-0095 (Open Model Zoo, Apache-2.0).

A MobileNetV2 network, 256-d, compared by cosine. Input: a 128x128 crop warped onto
Intel's own five reference points (``align.INTEL_REID_128``), BGR, raw 0..255 (the network
scales the pixels itself). It runs on the ``openvino`` package, which reads Intel's official
IR files (.xml + .bin) as published; onnxruntime cannot read them, and on the ONNX copy it
was 2x slower per face (docs/models.md). Inference precision is pinned to f32: the
CPU plugin's default on CPUs with bf16 would give slightly different vectors on different
machines, and kiosks sharing one gallery must compute the same ones.

Files: ``Settings.reid_weights`` (``--reid-weights DIR``, ``$FACE_KIOSK_REID_WEIGHTS``),
a folder holding ``FP16/face-reidentification-retail-0095.{xml,bin}``; otherwise the
official release-2022.1 files, downloaded once into the weights cache, SHA-384 checked.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from desktop.engine.core.errors import WeightsUnavailableError
from desktop.engine.core.types import Detection, ModelInfo
from desktop.engine.decisions.matching import model_defaults
from desktop.engine.faces.embedders import alignment as align
from desktop.engine.faces.embedders.base import Embedder, normalise
from desktop.engine.faces.embedders.inception import file_digest
from desktop.engine.faces.weights import checkpoint_dir, download_once

log = logging.getLogger(__name__)

NAME = "face-reidentification-retail-0095"
SIZE = 128
PRECISION = "FP16"
RELEASE_URL = ("https://storage.openvinotoolkit.org/repositories/open_model_zoo/2022.1/"
               f"models_bin/3/{NAME}/{PRECISION}/")
SHA384 = {
    ".xml": "cf64003784f3f3d54bc3a37ab3c81f857505f9a764175056d02a8e2d9e0d8b97"
            "e9e7a8b672f73639e951bb9cb056af7f",
    ".bin": "802a00762eb563acb377eeac0e96bc97384a0d2788e0a977414d0f235e1e1ee9"
            "0e278579ff5579f32c606d2cb046482a",
}
"""The checksums Open Model Zoo's model.yml of release 2022.1 publishes for these files."""
INSTALL_HINT = "The reid model needs the openvino package: run `pip install -r requirements.txt`."


def file_names() -> list[str]:
    """The files of the model, relative to its folder."""
    return [f"{PRECISION}/{NAME}{suffix}" for suffix in SHA384]


def cache_folder() -> Path:
    """Where a connected machine keeps the downloaded files (beside the other weights)."""
    return checkpoint_dir() / NAME


def resolve_reid_weights(folder: str | None) -> Path:
    """The model's .xml file: in ``folder`` if given, else in the cache (downloaded once).

    Raises WeightsUnavailableError naming the files, the folder and the flag."""
    if folder:
        root = Path(folder).expanduser()
        missing = [name for name in file_names() if not (root / name).is_file()]
        if missing:
            raise WeightsUnavailableError(
                f"the reid model's files are not in {root}: missing {', '.join(missing)}. "
                f"Pass --reid-weights DIR (or set FACE_KIOSK_REID_WEIGHTS) to a folder "
                f"holding {' and '.join(file_names())}.")
        return root / file_names()[0]
    root = cache_folder()
    for name in file_names():
        suffix = Path(name).suffix
        download_once(RELEASE_URL + Path(name).name, root / name,
                      what=f"reid model's files ({', '.join(file_names())})",
                      sha384=SHA384[suffix],
                      alternative=f"pass --reid-weights DIR (or set FACE_KIOSK_REID_WEIGHTS) "
                                  f"to a folder holding {' and '.join(file_names())}")
    return root / file_names()[0]


class ReidEmbedder(Embedder):
    kind = "reid"

    def __init__(self, folder: str | None = None, *, threads: int = 0) -> None:
        xml = resolve_reid_weights(folder)
        try:
            import openvino as ov
        except ImportError:
            raise WeightsUnavailableError(INSTALL_HINT) from None
        config: dict[str, object] = {"INFERENCE_PRECISION_HINT": "f32",
                                     "PERFORMANCE_HINT": "LATENCY"}
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        try:
            core = ov.Core()
            model = core.read_model(str(xml), str(xml.with_suffix(".bin")))
            model.reshape({model.inputs[0]: ov.PartialShape([-1, 3, SIZE, SIZE])})
            self._compiled = core.compile_model(model, "CPU", config)
            self._request = self._compiled.create_infer_request()
        except Exception as exc:  # truncated or foreign files
            raise WeightsUnavailableError(
                f"{xml} is not a usable {NAME} model: "
                f"{str(exc).strip().splitlines()[0][:200]}") from None
        self.path = xml
        self.info = ModelInfo(name=NAME, model_id="reid:" + file_digest(xml.with_suffix(".bin"))[:16],
                              dim=256, threshold=model_defaults(NAME).threshold)
        log.info("reid model %s (%s) on OpenVINO %s", NAME, self.info.model_id, ov.__version__)

    def crop(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        return align.warp_to_template(rgb, detection.landmarks, align.INTEL_REID_128, SIZE)

    def embed(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return self.empty()
        batch = np.stack(crops) if isinstance(crops, list) else np.asarray(crops)
        # RGB crops -> BGR planes, raw 0..255
        x = np.ascontiguousarray(batch[..., ::-1].transpose(0, 3, 1, 2), np.float32)
        out = self._request.infer({0: x})[self._compiled.outputs[0]]
        return normalise(np.asarray(out).reshape(len(batch), -1))
