"""LFW-style 1:1 verification accuracy by 10-fold cross-validation (View 2 protocol).

For each fold the threshold that is most accurate on the other nine folds is applied to
it; the figure is the mean and standard deviation of the ten fold accuracies, as
published for LFW. A pair whose photo has no detected face counts as an error.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop.engine.core.errors import KioskError


@dataclass
class PairsResult:
    pairs: int
    accuracy: float
    std: float
    threshold: float
    """Mean of the ten fold thresholds (cosine similarity)."""
    missing: int
    """Pairs with a photo where no face was found (counted as errors)."""

    def to_json(self) -> dict:
        return dict(self.__dict__)


def read_pairs(path: Path) -> list[tuple[Path, Path, bool, int]]:
    """pairs.csv (path_a,path_b,same,lfw_fold; paths relative to the file's folder)."""
    path = Path(path)
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [(path.parent / r["path_a"], path.parent / r["path_b"], r["same"] == "1",
                 int(r["lfw_fold"])) for r in rows]
    except (OSError, KeyError, ValueError) as exc:
        raise KioskError(f"{path} is not a pairs file with path_a,path_b,same,lfw_fold "
                         f"columns ({exc})") from None


def _best_threshold(sims: np.ndarray, same: np.ndarray) -> float:
    """The most accurate cut, midway between neighbouring scores."""
    values = np.unique(sims)
    if len(values) > 2000:
        values = np.unique(np.quantile(sims, np.linspace(0, 1, 2001)))
    candidates = np.concatenate([[values[0] - 1e-6], (values[1:] + values[:-1]) / 2])
    accuracy = [np.mean((sims >= t) == same) for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def ten_fold(sims: np.ndarray, same: np.ndarray, folds: np.ndarray,
             valid: np.ndarray) -> PairsResult:
    """10-fold accuracy; ``valid`` False marks pairs without a face (always wrong)."""
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        train = (folds != fold) & valid
        test = folds == fold
        t = _best_threshold(sims[train], same[train])
        right = ((sims[test] >= t) == same[test]) & valid[test]
        accuracies.append(float(np.mean(right)))
        thresholds.append(t)
    return PairsResult(len(sims), float(np.mean(accuracies)), float(np.std(accuracies)),
                       float(np.mean(thresholds)), int((~valid).sum()))
