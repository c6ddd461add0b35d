"""The open-set decision: who is this, or is it nobody we know?"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelDefaults:
    """Cosine-similarity thresholds of one embedding model, for the template rule."""
    threshold: float
    """Recognition: 1% of LFW strangers reach it (FPIR 1%)."""
    duplicate: float
    """Enrollment's duplicate warning: 0.1% of LFW strangers reach it (FPIR 0.1%)."""
    outlier: float
    """A new sample below this similarity to the rest of its person is flagged."""


# Per model name (ModelInfo.name). CASIA-WebFace FaceNet: `python main.py evaluate
# ../shared/lfw/images --pairs ../shared/lfw/pairs.csv` (README, Accuracy), checked on
# ../shared/faces. Other models (VGGFace2, dlib, ONNX) start from FALLBACK until measured the
# same way; `python main.py calibrate` fits a database's threshold to a site's own photos.
MODEL_DEFAULTS = {
    "20180408-102900-casia-webface-features": ModelDefaults(0.65, 0.75, 0.35),
    "20180408-102900-casia-webface": ModelDefaults(0.65, 0.75, 0.35),
}
FALLBACK = ModelDefaults(0.65, 0.75, 0.35)


def model_defaults(model_name: str) -> ModelDefaults:
    return MODEL_DEFAULTS.get(model_name, FALLBACK)


def default_threshold(model_name: str) -> float:
    return model_defaults(model_name).threshold


@dataclass(frozen=True)
class Match:
    name: str | None
    """The accepted person, or None for 'unknown'."""
    candidate: str | None
    """The best-matching enrolled person, accepted or not."""
    similarity: float
    """Cosine similarity to ``candidate`` (-1 when the gallery is empty)."""
    runner_up: float
    """Similarity of the best *other* person (-1 when there is none)."""
    quality: str | None = None
    """Why the face was not judged (too small, blurred, uncertain); then ``name`` is None."""
    live: bool | None = None
    """None when liveness was not checked; False for a face judged fake (then name is None)."""
    live_score: float | None = None


def decide(ranked: list[tuple[str, float]], threshold: float, margin: float) -> Match:
    """Accept the best person only if similar enough AND clearly ahead of the next one."""
    if not ranked:
        return Match(None, None, -1.0, -1.0)
    candidate, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else -1.0
    accepted = best >= threshold and best - runner_up >= margin
    return Match(candidate if accepted else None, candidate, float(best), float(runner_up))
