"""The open-set decision: who is this, or is it nobody we know?"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.engine.core.types import ModelInfo


@dataclass(frozen=True)
class ModelDefaults:
    """Cosine-similarity thresholds of one embedding model, for the template rule."""
    threshold: float
    """Recognition: 1% of LFW strangers reach it (FPIR 1%)."""
    duplicate: float
    """0.1% of LFW strangers reach it (FPIR 0.1%): enrollment's duplicate warning, and a
    live face's first decision of a name at or above it is shown at once (``decisive``)."""
    outlier: float
    """A new sample below this similarity to the rest of its person is flagged."""
    stranger: float | None = None
    """1% of genuine LFW probes score below it: a live face's first decision of nobody
    below it is shown at once (``decisive``). None: never (a model not measured here)."""
    visitor: float | None = None
    """Anonymous visitor ids: an unknown face this similar to a visitor's template is that
    visitor (measured by desktop/tools/visitor_rates.py). None: ``threshold``."""


# The one place for every model's defaults, per model name (ModelInfo.name), each measured
# by `python main.py evaluate ../shared/lfw/images --pairs ../shared/lfw/pairs.csv --model X`
# (decisions/figures.py) and checked on ../shared/faces. A model not listed (VGGFace2 FaceNet, a
# user's ONNX file) uses its own declared threshold, else FALLBACK; `python main.py
# calibrate` fits a database's threshold to a site's own photos.
MODEL_DEFAULTS = {
    # visitor 0.60: merge rate 1.2% on 333 LFW strangers (desktop/tools/visitor_rates.py)
    "20180408-102900-casia-webface-features": ModelDefaults(0.65, 0.75, 0.35, 0.48, 0.60),
    "20180408-102900-casia-webface": ModelDefaults(0.65, 0.75, 0.35, 0.48, 0.60),
    # dlib and fusion: all of LFW (12,105 photos, 404 enrolled); decisions/figures.py
    "dlib_face_recognition_resnet_model_v1": ModelDefaults(0.954, 0.965, 0.92, 0.934),
    # fusion's genuine-score percentiles were not measured: no instant live decisions
    "fusion-facenet-dlib": ModelDefaults(0.933, 0.949, 0.895),
    # reid: all of LFW; outlier 0.45 flags 0.52% of genuine enrollment photos (FaceNet's
    # 0.35: 0.55%); docs/models.md
    "face-reidentification-retail-0095": ModelDefaults(0.49, 0.59, 0.45, 0.478),
}
FALLBACK = ModelDefaults(0.65, 0.75, 0.35)


def model_defaults(model: str | ModelInfo) -> ModelDefaults:
    """The defaults of a model, by name or by ModelInfo (whose declared threshold and
    levels, as an ONNX file's metadata or sidecar gives them, are used for a model that
    was not measured here)."""
    name = model if isinstance(model, str) else model.name
    if name in MODEL_DEFAULTS:
        return MODEL_DEFAULTS[name]
    declared = None if isinstance(model, str) else model.threshold
    if declared is None:
        return FALLBACK
    duplicate, outlier, stranger = (None if isinstance(model, str) else model.levels) or \
        (None, None, None)
    return ModelDefaults(declared,
                         duplicate if duplicate is not None else max(declared, FALLBACK.duplicate),
                         outlier if outlier is not None else FALLBACK.outlier, stranger)


def default_threshold(model: str | ModelInfo) -> float:
    return model_defaults(model).threshold


def visitor_threshold(model: str | ModelInfo) -> float:
    """The similarity at which two unknown faces are one anonymous visitor."""
    defaults = model_defaults(model)
    return defaults.visitor if defaults.visitor is not None else defaults.threshold


def strict_threshold(model: str | ModelInfo, threshold: float) -> float:
    """The FPIR 0.1% level, never below a site's own (stricter) recognition threshold."""
    return max(model_defaults(model).duplicate, threshold)


def distinct_level(threshold: float, setting: float | None = None) -> float:
    """Registration's skip level: a new camera sample at least this similar to one already
    taken adds no new pose (``Settings.register_max_similarity``; None: 70% of the way
    from the recognition threshold to 1, which scales to models whose scores crowd near
    1, like dlib's)."""
    return setting if setting is not None else threshold + 0.7 * (1.0 - threshold)


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


def decisive(match: Match, model: str | ModelInfo, threshold: float) -> bool:
    """Whether one frame's decision is strong enough to show without waiting for a second:
    a name at the model's FPIR 0.1% level, or nobody far below anyone (``ModelDefaults``).
    The live loop still votes on the next frames and corrects the label if they disagree."""
    defaults = model_defaults(model)
    if defaults.stranger is None:
        return False
    if match.name is not None:
        return match.similarity >= strict_threshold(model, threshold)
    return match.similarity < min(defaults.stranger, threshold)
