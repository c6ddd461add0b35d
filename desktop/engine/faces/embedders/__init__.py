"""Face models behind one interface (``Embedder``), chosen by ``Settings.model``:

- ``facenet``: FaceNet InceptionResnetV1 (weights from ``Settings.weights``), the default;
- ``dlib``: dlib's ResNet (128-d), packages dlib-bin and face-recognition-models;
- ``reid``: Intel's face-reidentification-retail-0095 (256-d), run with OpenVINO (reid.py);
- ``onnx:PATH``: any ArcFace-style ONNX model, run with onnxruntime;
- ``fusion``: FaceNet and dlib together (score fusion, fusion.py).
"""
from __future__ import annotations

from desktop.engine.core.errors import KioskError
from desktop.engine.faces.embedders.base import Embedder, ModelInfo, normalise
from desktop.engine.settings.config import Settings

__all__ = ["Embedder", "ModelInfo", "normalise", "load_embedder", "parse_model", "MODEL_HELP"]

MODEL_HELP = ("facenet (default), reid (Intel's face re-identification network), dlib, "
              "fusion (facenet + dlib), or onnx:PATH (an ArcFace-style .onnx file)")


def parse_model(spec: str) -> tuple[str, str]:
    """('facenet'|'reid'|'dlib'|'fusion'|'onnx', argument) for a --model value, or KioskError."""
    text = (spec or "").strip()
    kind, _, arg = text.partition(":")
    kind = kind.lower()
    if kind in ("facenet", "reid", "dlib", "fusion") and not arg:
        return kind, ""
    if kind == "onnx":
        if not arg:
            raise KioskError("--model onnx needs a file: onnx:PATH")
        return kind, arg
    raise KioskError(f"unknown model {spec!r}: use {MODEL_HELP}")


def load_embedder(settings: Settings) -> Embedder:
    """The embedder ``settings.model`` names, loaded (call on the inference thread)."""
    from desktop.engine.core.threads import intra_op_threads
    kind, arg = parse_model(settings.model)
    if kind == "fusion":
        from desktop.engine.faces.embedders.fusion import FusionEmbedder
        return FusionEmbedder(load_embedder(_with_model(settings, "facenet")),
                              load_embedder(_with_model(settings, "dlib")))
    threads = intra_op_threads(settings.torch_threads)
    if kind == "facenet":
        from desktop.engine.faces.embedders.facenet import FaceNetEmbedder
        return FaceNetEmbedder(weights=settings.weights, device=settings.device,
                               torch_threads=threads,
                               crop_size=settings.crop_size, crop_margin=settings.crop_margin,
                               backend=settings.facenet_backend,
                               onnx_spinning=settings.onnx_spinning)
    import torch  # MTCNN runs on torch whatever the face model
    torch.set_num_threads(threads)
    if kind == "reid":
        from desktop.engine.faces.embedders.reid import ReidEmbedder
        return ReidEmbedder(settings.reid_weights, threads=threads)
    if kind == "dlib":
        from desktop.engine.faces.embedders.dlib_resnet import DlibEmbedder
        return DlibEmbedder(settings.dlib_alignment)
    from desktop.engine.faces.embedders.onnx_model import OnnxEmbedder
    return OnnxEmbedder(arg, threads=threads, spinning=settings.onnx_spinning)


def _with_model(settings: Settings, model: str) -> Settings:
    from dataclasses import replace
    return replace(settings, model=model)
