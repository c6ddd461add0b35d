"""The quality gate: faces too small, blurred or uncertain to be judged get no guess.

Such a face is reported as "unknown: low quality" instead of being matched, and an
enrollment sample must pass the same gate. Each test is off at 0; the defaults in
``desktop/engine/settings/config.py`` come from LFW and ../shared/faces (``python main.py
evaluate``: what the gate costs in genuine probes turned away and saves in false accepts).
"""
from __future__ import annotations

from desktop.engine.settings.config import Settings

YUNET_MIN_SCORE = 0.8
"""YuNet's own score a face found by YuNet alone must reach (its scores are on another
scale than MTCNN's: 0.916 to 0.930 for 98% of the faces of ../shared/faces/people)."""


def quality_problem(size: float, sharpness: float, det_prob: float,
                    settings: Settings, detector: str = "mtcnn") -> str | None:
    """Why a face is too poor to be judged, or None when it passes the gate.

    ``size`` is the shorter side of the detection box in pixels of the photo,
    ``sharpness`` the variance of the Laplacian of the crop, ``det_prob`` the detector's
    (``detector``: MTCNN's, held to ``quality_min_det_prob``, or YuNet's alone)."""
    if settings.quality_min_face and size < settings.quality_min_face:
        return f"face too small ({size:.0f} px, needs {settings.quality_min_face})"
    if settings.quality_min_sharpness and sharpness < settings.quality_min_sharpness:
        return f"face too blurred (sharpness {sharpness:.0f}, needs " \
               f"{settings.quality_min_sharpness:.0f})"
    needed = settings.quality_min_det_prob if detector == "mtcnn" else \
        min(settings.quality_min_det_prob, YUNET_MIN_SCORE)
    if needed and det_prob < needed:
        return f"face uncertain (detection {det_prob:.3f}, needs {needed})"
    return None
