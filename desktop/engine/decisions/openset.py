"""Open-set identification figures from vectors: scoring rules, FNIR at FPIR, intervals.

Pure numpy, no models: ``evaluation/accuracy.py`` feeds it cached embeddings, the tests feed it
synthetic ones. The figures follow NIST FRVT 1:N: a genuine probe is a hit only when its
own person is the top candidate at or above the threshold (FNIR counts every other
outcome); an impostor probe is a false positive when its top candidate reaches it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from desktop.engine.decisions.matching import decide
from desktop.engine.decisions.templates import Templates

RULES = ("template", "best_sample")


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def to_json(self) -> dict:
        return {"value": self.value, "ci95": [self.low, self.high]}

    def __str__(self) -> str:
        return f"{self.value:7.2%}  [{self.low:.2%}, {self.high:.2%}]"


def wilson(hits: int, total: int, z: float = 1.96) -> Interval:
    """A proportion with its 95% Wilson score interval (sound near 0 and 1)."""
    if total == 0:
        return Interval(0.0, 0.0, 1.0)
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def threshold_for_fpir(impostor_scores: np.ndarray, fpir: float) -> float:
    """Smallest threshold at which at most ``fpir`` of impostor top scores reach it."""
    if len(impostor_scores) == 0:
        raise ValueError("no impostor probes")
    ordered = np.sort(np.asarray(impostor_scores, np.float64))[::-1]
    allowed = int(np.floor(fpir * len(ordered)))
    return float(np.nextafter(np.float32(ordered[allowed]), np.float32(2))) \
        if allowed < len(ordered) else -1.0


class GalleryScorer:
    """An in-memory gallery scored by one rule: the engine's Templates, or best sample."""

    def __init__(self, enrolled: dict[str, np.ndarray], rule: str = "template",
                 in_template: dict[str, np.ndarray] | None = None) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}; one of {', '.join(RULES)}")
        self.rule = rule
        self.names = sorted(enrolled)
        self.templates = Templates()
        samples, owners = [], []
        for pid, name in enumerate(self.names):
            vectors = np.asarray(enrolled[name], np.float32)
            flags = in_template.get(name) if in_template else None
            self.templates.add(pid, vectors, np.ones(len(vectors), bool) if flags is None else flags)
            samples.append(vectors)
            owners += [pid] * len(vectors)
        self.samples = np.concatenate(samples) if samples else np.zeros((0, 1), np.float32)
        self.owners = np.array(owners, np.int64)

    def ranked(self, vectors: np.ndarray, k: int = 2) -> list[list[tuple[str, float]]]:
        """The ``k`` best people per probe, as the engine's search would rank them."""
        if self.rule == "template":
            rows = self.templates.search(vectors, k)
            return [[(self.names[pid], sim) for pid, sim in row] for row in rows]
        sims = np.asarray(vectors, np.float32) @ self.samples.T
        per_person = np.full((len(sims), len(self.names)), -2.0, np.float32)
        np.maximum.at(per_person.T, self.owners, sims.T)
        top = np.argsort(-per_person, axis=1)[:, :k]
        return [[(self.names[c], float(row[c])) for c in cols] for row, cols in zip(per_person, top)]


@dataclass(frozen=True)
class ProbeScores:
    """Each probe's top score, and whether a genuine probe's top candidate was its own
    person: all a DET curve needs (``det_curve``). Probes the quality gate turned away
    score -2 (below any threshold)."""
    correct: np.ndarray
    genuine: np.ndarray
    impostor: np.ndarray

    def rates(self, threshold: float) -> tuple[float, float]:
        """(FPIR, FNIR) at ``threshold`` by the threshold alone (no margin rule), as
        FNIR at FPIR is computed."""
        fpir = float(np.mean(self.impostor >= threshold)) if len(self.impostor) else 0.0
        hits = self.correct & (self.genuine >= threshold)
        return fpir, float(np.mean(~hits)) if len(hits) else 0.0


def det_curve(scores: ProbeScores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FPIR, FNIR) at every score where either rate changes, thresholds
    ascending: the points of a DET curve (NIST FRVT 1:N plots FNIR against FPIR)."""
    thresholds = np.unique(np.concatenate([scores.genuine[scores.correct], scores.impostor]))
    impostor = np.sort(scores.impostor)
    hits = np.sort(scores.genuine[scores.correct])
    fpir = (len(impostor) - np.searchsorted(impostor, thresholds, "left")) / max(len(impostor), 1)
    found = len(hits) - np.searchsorted(hits, thresholds, "left")
    fnir = 1.0 - found / max(len(scores.genuine), 1)
    return thresholds, fpir, fnir


@dataclass
class OpenSetResult:
    rule: str
    genuine: int
    impostors: int
    rank1: Interval
    fnir_at_fpir: dict[float, tuple[Interval, float]]
    """FPIR target -> (FNIR with a bootstrap 95% interval, threshold reaching it)."""
    threshold: float
    fpir: Interval
    """Impostors given a name at ``threshold`` (with the margin rule)."""
    tpir: Interval
    """Genuine probes given their own name at ``threshold``."""
    misidentified: int
    """Genuine probes given somebody else's name at ``threshold``."""
    scores: ProbeScores | None = None
    """The probes' top scores, for DET curves (not in ``to_json``)."""

    def to_json(self) -> dict:
        return {"rule": self.rule, "genuine_probes": self.genuine,
                "impostor_probes": self.impostors, "rank1": self.rank1.to_json(),
                "fnir_at_fpir": {f"{k:g}": {**v.to_json(), "threshold": t}
                                 for k, (v, t) in self.fnir_at_fpir.items()},
                "threshold": self.threshold, "fpir": self.fpir.to_json(),
                "tpir": self.tpir.to_json(), "misidentified": self.misidentified}


def fnir_at(correct: np.ndarray, g_top: np.ndarray, i_top: np.ndarray, fpir: float) -> tuple[float, float]:
    t = threshold_for_fpir(i_top, fpir)
    return float(np.mean(~(correct & (g_top >= t)))) if len(g_top) else 0.0, t


def score_open_set(scorer: GalleryScorer, genuine: np.ndarray, truth: Sequence[str],
                   impostors: np.ndarray, *, threshold: float, margin: float,
                   fpir_targets: Sequence[float] = (0.01, 0.001), rejected_genuine: np.ndarray
                   | None = None, rejected_impostor: np.ndarray | None = None,
                   bootstrap: int = 500, seed: int = 0) -> OpenSetResult:
    """Every open-set figure for one rule. ``rejected_*`` mark probes the quality gate
    turned away: they count as misses for genuine probes and as rejections for impostors."""
    g_rank = scorer.ranked(genuine, 2)
    i_rank = scorer.ranked(impostors, 2)
    rej_g = np.zeros(len(g_rank), bool) if rejected_genuine is None else rejected_genuine
    rej_i = np.zeros(len(i_rank), bool) if rejected_impostor is None else rejected_impostor
    correct = np.array([bool(r) and r[0][0] == t for r, t in zip(g_rank, truth)], bool)
    g_top = np.where(rej_g, -2.0, [r[0][1] if r else -2.0 for r in g_rank])
    i_top = np.where(rej_i, -2.0, [r[0][1] if r else -2.0 for r in i_rank])
    g_dec = [decide(r, threshold, margin) for r in g_rank]
    i_dec = [decide(r, threshold, margin) for r in i_rank]
    hits = sum(d.name == t and not x for d, t, x in zip(g_dec, truth, rej_g))
    wrong = sum(d.name is not None and d.name != t and not x for d, t, x in zip(g_dec, truth, rej_g))
    false_pos = sum(d.name is not None and not x for d, x in zip(i_dec, rej_i))
    rng = np.random.default_rng(seed)
    fnir = {}
    for target in fpir_targets:
        value, t = fnir_at(correct, g_top, i_top, target)
        draws = []
        for _ in range(bootstrap):
            g = rng.integers(0, len(g_top), len(g_top))
            i = rng.integers(0, len(i_top), len(i_top))
            draws.append(fnir_at(correct[g], g_top[g], i_top[i], target)[0])
        low, high = (np.percentile(draws, [2.5, 97.5]) if draws else (value, value))
        fnir[target] = (Interval(value, float(low), float(high)), t)
    return OpenSetResult(scorer.rule, len(g_rank), len(i_rank),
                         wilson(int(correct.sum()), len(correct)), fnir, threshold,
                         wilson(false_pos, len(i_rank)), wilson(hits, len(g_rank)), wrong,
                         ProbeScores(correct, g_top.astype(np.float64), i_top.astype(np.float64)))
