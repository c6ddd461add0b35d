"""What each face model measured here, for the settings dialog's model choice and the
model table of docs/accuracy.md (reproduce with `python main.py evaluate ... --model X`).

K=3 photos enrolled per person, mean templates; FNIR at FPIR 1% (lower is better),
rank-1; all of LFW and ../shared/faces; cost per face at batch 8, one thread, on this
2-core CPU under a load of 6-9 (``python main.py evaluate --model X``; reid's on a quiet machine,
docs/models.md).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFigures:
    spec: str
    """The ``--model`` value."""
    label: str
    lfw_fnir: float | None
    lfw_rank1: float | None
    faces_fnir: float | None
    """On ../shared/faces (held out: no default was chosen on it)."""
    faces_rank1: float | None
    ms_per_face: float | None
    """Crop + embedding of one face, detection excluded."""

    def choice(self) -> str:
        """The label with its two deciding figures, so that a list of models compares
        them side by side (the settings dialog's model list)."""
        if self.lfw_fnir is None or self.ms_per_face is None:
            return self.label
        return (f"{self.label}: {100 * self.lfw_fnir:.1f}% missed at 1% false accepts, "
                f"{self.ms_per_face:.0f} ms per face")

    def summary(self) -> str:
        def pct(value: float | None) -> str:
            return "not measured" if value is None else f"{100 * value:.1f}%"
        cost = "?" if self.ms_per_face is None else f"{self.ms_per_face:.0f} ms"
        return (f"LFW: FNIR {pct(self.lfw_fnir)} at FPIR 1%, rank-1 {pct(self.lfw_rank1)}; "
                f"photo set: FNIR {pct(self.faces_fnir)}, rank-1 {pct(self.faces_rank1)}; "
                f"{cost} per face")


MODEL_FIGURES: tuple[ModelFigures, ...] = (
    ModelFigures("facenet", "FaceNet (CASIA-WebFace weights)", 0.1056, 0.9910, 0.012, 1.0, 53),
    ModelFigures("dlib", "dlib ResNet (128-d)", 0.1461, 0.9877, 0.024, 1.0, 170),
    ModelFigures("fusion", "FaceNet + dlib (score fusion)", 0.0810, 0.9953, 0.008, 1.0, 189),
    # reid: docs/models.md (cost: batch 8, one thread, OpenVINO f32, quiet machine)
    ModelFigures("reid", "Intel face re-identification (fewer misses, faster)",
                 0.0130, 0.9993, 0.0, 1.0, 6),
)
"""The models a kiosk can switch to from the settings dialog (an ONNX file is given with
--model onnx:PATH; it has no figures of its own here)."""


def figures_for(spec: str) -> ModelFigures | None:
    return next((f for f in MODEL_FIGURES if f.spec == spec), None)
