"""How well anonymous visitor ids work on photos of people who are not enrolled.

A day is replayed through a real ``VisitorGallery``: every stranger comes once (their
first photo), then everyone who has another photo comes back (a different photo: other
pose, light, day). The keep rate is the share of returns given their first id; the merge
rate the share of first visits given someone else's id (two strangers counted as one).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from desktop.engine.storage.visitors import VisitorGallery


@dataclass
class VisitorRates:
    threshold: float
    strangers: int
    returns: int
    kept: int
    merged: int
    """First visits given an id another stranger already had."""
    split: int
    """Returns given a new id (counted as a new visitor)."""
    stolen: int
    """Returns given another stranger's id."""
    lost_similarity: list[float] = field(default_factory=list)
    """Each lost return's best similarity to its own first photo."""

    @property
    def keep_rate(self) -> float:
        return self.kept / self.returns if self.returns else 0.0

    @property
    def merge_rate(self) -> float:
        return self.merged / self.strangers if self.strangers else 0.0


def replay(first: list[np.ndarray], again: list[np.ndarray | None], threshold: float,
           model: str = "eval", seed: int = 0) -> VisitorRates:
    """``first[i]``: stranger i's first visit; ``again[i]``: their return (None: never
    returns). Arrivals are shuffled (``seed``); all first visits come before the returns,
    so every return faces the full day's gallery (the hardest order for merges)."""
    rng = random.Random(seed)
    gallery = VisitorGallery(24.0, threshold)
    order = list(range(len(first)))
    rng.shuffle(order)
    ids: dict[int, str] = {}
    owners: dict[str, int] = {}
    merged = 0
    for ts, i in enumerate(order):
        vid = gallery.assign(first[i], model, ts=float(ts))
        if vid in owners:
            merged += 1
        owners.setdefault(vid, i)
        ids[i] = vid
    back = [i for i in order if again[i] is not None]
    rng.shuffle(back)
    kept = split = stolen = 0
    lost: list[float] = []
    for ts, i in enumerate(back, start=len(order)):
        vector = again[i]
        assert vector is not None
        vid = gallery.assign(vector, model, ts=float(ts))
        if vid == ids[i]:
            kept += 1
            continue
        lost.append(float(np.dot(first[i], vector)))
        if vid in owners:
            stolen += 1
        else:
            split += 1
            owners[vid] = i
    return VisitorRates(threshold, len(first), len(back), kept, merged, split, stolen, lost)
