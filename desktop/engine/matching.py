"""The open-set decision: who is this, or is it nobody we know?"""
from __future__ import annotations

from dataclasses import dataclass

# Cosine-similarity thresholds per weights file. CASIA-WebFace: measured with
# `python main.py evaluate` on ../shared/faces/people + unknown (K=3): 0.55 gives 1.5%
# false accepts and 1.7% false rejects. VGGFace2 could not be measured here (no weights
# offline); it uses the same value until `python main.py calibrate` is run on the user's
# photos. A database stores its own copy, which `calibrate` updates.
MODEL_THRESHOLDS = {
    "20180408-102900-casia-webface-features": 0.55,
    "20180408-102900-casia-webface": 0.55,
}
FALLBACK_THRESHOLD = 0.55


def default_threshold(model_name: str) -> float:
    return MODEL_THRESHOLDS.get(model_name, FALLBACK_THRESHOLD)


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
