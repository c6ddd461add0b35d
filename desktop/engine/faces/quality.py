"""The quality gate: faces too small, blurred or uncertain to be judged get no guess.

Such a face is reported as "unknown: low quality" instead of being matched, and an
enrollment sample must pass the same gate. Each test is off at 0; the defaults in
``desktop/engine/settings/config.py`` come from LFW and ../shared/faces (``python main.py
evaluate``: what the gate costs in genuine probes turned away and saves in false accepts).
"""
from __future__ import annotations

from desktop.engine.settings.config import Settings


def quality_problem(size: float, sharpness: float, det_prob: float,
                    settings: Settings) -> str | None:
    """Why a face is too poor to be judged, or None when it passes the gate.

    ``size`` is the shorter side of the detection box in pixels of the photo,
    ``sharpness`` the variance of the Laplacian of the crop, ``det_prob`` MTCNN's."""
    if settings.quality_min_face and size < settings.quality_min_face:
        return f"face too small ({size:.0f} px, needs {settings.quality_min_face})"
    if settings.quality_min_sharpness and sharpness < settings.quality_min_sharpness:
        return f"face too blurred (sharpness {sharpness:.0f}, needs " \
               f"{settings.quality_min_sharpness:.0f})"
    if settings.quality_min_det_prob and det_prob < settings.quality_min_det_prob:
        return f"face uncertain (detection {det_prob:.3f}, needs {settings.quality_min_det_prob})"
    return None
