"""How many strangers a threshold lets in: FPIR (the share of people not enrolled whose
best match still reaches the threshold) from the levels measured on LFW per model.

Only measured points are used: each model's FPIR 1% and 0.1% thresholds
(``matching.MODEL_DEFAULTS``, from ``evaluate`` on LFW). Between them the FPIR is
interpolated on a log scale; outside them only a bound is claimed ("more than 1%",
"under 0.1%").
A site's own strangers may score otherwise: ``calibrate`` measures them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from desktop.engine.decisions.matching import MODEL_DEFAULTS

NOTICEABLY_MORE = 2.0
"""The settings dialog asks before a threshold whose FPIR is at least this many times the
reference's (the calibrated or default threshold)."""


@dataclass(frozen=True)
class FpirEstimate:
    value: float
    """The FPIR, or the bound when ``bound`` is not "about"."""
    bound: str
    """'about', 'more than' (below the lowest measured threshold) or 'under'."""

    def share(self) -> str:
        """'about 0.3%', 'more than 1%'."""
        return f"{self.bound} {100 * self.value:.2g}%"

    def describe(self) -> str:
        return f"{self.share()} of strangers named (measured on LFW)"


def measured_points(model: str) -> list[tuple[float, float]]:
    """(threshold, FPIR) measured for ``model`` (a ModelInfo name), by threshold."""
    defaults = MODEL_DEFAULTS.get(model)
    if defaults is None:
        return []
    return sorted({(defaults.threshold, 0.01), (defaults.duplicate, 0.001)})


def fpir_at(model: str, threshold: float) -> FpirEstimate | None:
    """The FPIR ``threshold`` implies for ``model``, or None for a model not measured."""
    points = measured_points(model)
    if not points:
        return None
    if threshold < points[0][0]:
        return FpirEstimate(points[0][1], "more than")
    if threshold > points[-1][0]:
        return FpirEstimate(points[-1][1], "under")
    for (t0, f0), (t1, f1) in zip(points, points[1:]):
        if t0 <= threshold <= t1:
            share = (threshold - t0) / (t1 - t0) if t1 > t0 else 0.0
            return FpirEstimate(math.exp(math.log(f0) + share * (math.log(f1) - math.log(f0))),
                                "about")
    return FpirEstimate(points[0][1], "about")  # a single point, met exactly


def lets_more_strangers_in(model: str, threshold: float, reference: float) -> bool:
    """Whether ``threshold`` names noticeably more strangers than ``reference`` does: at
    least ``NOTICEABLY_MORE`` times its FPIR, or any threshold below the lowest measured
    one when the reference is not. A model without figures: more than 0.05 below."""
    if threshold >= reference:
        return False
    new, old = fpir_at(model, threshold), fpir_at(model, reference)
    if new is None or old is None:
        return threshold < reference - 0.05
    if new.bound == "more than":
        return old.bound != "more than"
    return new.value >= NOTICEABLY_MORE * old.value
