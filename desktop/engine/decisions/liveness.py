"""Liveness modes and verdicts: what a front end asks for, and what a fake face loses.

``passive`` scores each face with MiniFASNet (antispoof.py); ``challenge`` asks for a head
turn on a camera (challenge.py); ``both`` needs both. A face judged fake keeps its
``candidate`` (who it looks like) but never gets a ``name``, so nothing downstream can
record attendance for it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from desktop.engine.core.errors import KioskError
from desktop.engine.decisions.matching import Match

OFF, PASSIVE, CHALLENGE, BOTH = "off", "passive", "challenge", "both"
MODES = (OFF, PASSIVE, CHALLENGE, BOTH)
PHOTO_MODES = (OFF, PASSIVE)
"""Modes that make sense for a single photo: a head turn needs a camera."""


@dataclass(frozen=True)
class LivenessVerdict:
    live: bool
    score: float
    """The averaged MiniFASNet probability of a real face, 0..1."""


def check_mode(mode: str, *, photo: bool = False) -> str:
    """``mode`` if known (and, for a photo, one that works on a photo), else a KioskError."""
    allowed = PHOTO_MODES if photo else MODES
    if mode not in allowed:
        hint = " (the head-turn challenge needs a camera)" if mode in MODES else ""
        raise KioskError(f"liveness {mode!r} is not available here{hint}; use one of: "
                         f"{', '.join(allowed)}")
    return mode


def uses_passive(mode: str) -> bool:
    return mode in (PASSIVE, BOTH)


def uses_challenge(mode: str) -> bool:
    return mode in (CHALLENGE, BOTH)


def judge(match: Match, verdict: LivenessVerdict) -> Match:
    """The match with its liveness: a fake face keeps its candidate but loses its name."""
    return dataclasses.replace(match, name=match.name if verdict.live else None,
                               live=verdict.live, live_score=verdict.score)


def live_json(match: Match) -> dict:
    """The JSON fields of a face's liveness: none when it was not checked."""
    if match.live is None:
        return {}
    return {"live": match.live, "liveness_score": round(float(match.live_score or 0.0), 4)}
