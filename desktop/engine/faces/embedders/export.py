"""Export FaceNet (InceptionResnetV1) to ONNX, with the metadata that tells OnnxEmbedder
to make FaceNet's own crop (box + 32 px margin, 160 px, (x - 127.5) / 128)."""
from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from pathlib import Path

import torch

from desktop.engine.core.types import ModelInfo
from desktop.engine.faces.embedders.onnx_model import OnnxInput
from desktop.engine.settings.config import DEFAULTS

log = logging.getLogger(__name__)

OPSET = 17


def facenet_input(name: str, threshold: float | None) -> OnnxInput:
    return OnnxInput(crop="box", size=DEFAULTS.crop_size, margin=DEFAULTS.crop_margin,
                     mean=127.5, std=128.0, channels="RGB", name=name, threshold=threshold)


def export_model(model: torch.nn.Module, info: ModelInfo, out: str | os.PathLike) -> Path:
    """Write a loaded InceptionResnetV1 to ``out`` (.onnx, dynamic batch), atomically."""
    import onnx
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    example = torch.zeros(2, 3, DEFAULTS.crop_size, DEFAULTS.crop_size)
    device = next(model.parameters()).device
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter announces its deprecation
            torch.onnx.export(model.cpu().eval(), (example,), str(tmp), dynamo=False,
                              input_names=["input"], output_names=["embedding"],
                              dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}},
                              opset_version=OPSET)
        exported = onnx.load(str(tmp))
        meta = facenet_input(info.name, info.threshold).to_metadata()
        meta["face_kiosk.source_model_id"] = info.model_id
        for key, value in meta.items():
            entry = exported.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(exported, str(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        model.to(device)
    log.info("Exported %s to %s", info.model_id, target)
    return target


def export_facenet(weights: str, out: str | os.PathLike) -> Path:
    """Write ``out`` from FaceNet ``weights`` (a name or a state_dict file)."""
    from desktop.engine.decisions.matching import default_threshold
    from desktop.engine.faces.embedders.inception import FaceEmbedder
    embedder = FaceEmbedder(weights=weights, device="cpu")  # the network FaceNetEmbedder runs
    info = dataclasses.replace(embedder.info, threshold=default_threshold(embedder.info.name))
    return export_model(embedder.model, info, out)
