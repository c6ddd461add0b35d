"""Enrollment checks on vectors: does a new person look like someone enrolled, and is one
of their photos probably of somebody else? Pure functions, shared by the engine and
``evaluate`` (which replays bulk enrollment on cached vectors)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop.engine.core.names import name_key
from desktop.engine.decisions.matching import decide
from desktop.engine.decisions.templates import mean_template


@dataclass(frozen=True)
class DuplicateVote:
    other: str
    votes: int
    faces: int
    similarity: float
    """Median similarity of the voting faces to ``other``."""


def duplicate_vote(ranked: list[list[tuple[str, float]]], name: str, threshold: float,
                   margin: float) -> DuplicateVote | None:
    """The other person that most of the new faces match, or None.

    ``ranked`` is, per new face, the best people by the gallery's rule. Each face votes
    as recognition would decide it (threshold and margin, the person's own name left out);
    a strict majority is needed, so one odd photo among several does not count.
    """
    own = name_key(name)
    votes: dict[str, list[float]] = {}
    for row in ranked:
        others = [(n, s) for n, s in row if name_key(n) != own]
        match = decide(others, threshold, margin)
        if match.name:
            votes.setdefault(match.name, []).append(match.similarity)
    if not votes:
        return None
    other, sims = max(votes.items(), key=lambda item: len(item[1]))
    if 2 * len(sims) <= len(ranked):
        return None
    return DuplicateVote(other, len(sims), len(ranked), float(np.median(sims)))


def outlier_flags(new: np.ndarray, existing: np.ndarray, threshold: float) -> np.ndarray:
    """True for each new sample less similar than ``threshold`` to the person's others.

    "Others" are every other sample of the person, old and new, as a mean template. With
    fewer than three samples in all, nobody can say which one is wrong: nothing is flagged.
    At most a minority is flagged: if most samples disagree, none is trusted over the rest.
    """
    new = np.asarray(new, np.float32)
    everyone = np.concatenate([np.asarray(existing, np.float32).reshape(-1, new.shape[1]), new])
    flags = np.zeros(len(new), bool)
    if len(everyone) < 3:
        return flags
    total = everyone.sum(axis=0)
    offset = len(everyone) - len(new)
    for i, vector in enumerate(new):
        rest = mean_template((total - everyone[offset + i])[None, :])
        flags[i] = float(vector @ rest) < threshold
    if 2 * flags.sum() >= len(everyone):
        flags[:] = False
    return flags
