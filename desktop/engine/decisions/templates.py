"""Person templates: the normalised mean of each person's samples, kept current in memory.

Scoring a probe against a person's mean embedding, rather than against their single best
sample, averages out the pose, light and expression of each photo; on LFW and
../shared/faces it halved the misses at 1% false accepts (``python main.py evaluate --rule``). A template is
derived data like the Faiss index: sums and counts per person, rebuilt from SQLite on load
and patched on every enroll and delete. Samples flagged as outliers at enrollment are left
out unless they are all the person has. The dimension comes from the vectors, so any
embedding model fits.
"""
from __future__ import annotations

import numpy as np


def normalise(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector, axis=-1, keepdims=True) + 1e-12)


def mean_template(vectors: np.ndarray) -> np.ndarray:
    """The unit-length mean direction of ``vectors`` (N x d)."""
    return normalise(np.asarray(vectors, np.float32).sum(axis=0))


class Templates:
    """Per-person sums of sample vectors (in-template and all), searchable by cosine."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._sums: dict[int, np.ndarray] = {}
        self._counts: dict[int, int] = {}
        self._all_sums: dict[int, np.ndarray] = {}
        self._matrix: np.ndarray | None = None
        self._pids: np.ndarray = np.zeros(0, np.int64)

    def add(self, pid: int, vectors: np.ndarray, in_template: np.ndarray | list[bool]) -> None:
        vectors = np.asarray(vectors, np.float32)
        if not len(vectors):
            return
        keep = np.asarray(in_template, bool)
        dim = vectors.shape[1]
        self._all_sums[pid] = self._all_sums.get(pid, np.zeros(dim, np.float32)) + vectors.sum(0)
        self._sums[pid] = self._sums.get(pid, np.zeros(dim, np.float32)) + vectors[keep].sum(0)
        self._counts[pid] = self._counts.get(pid, 0) + int(keep.sum())
        self._matrix = None

    def remove(self, pid: int) -> None:
        for table in (self._sums, self._counts, self._all_sums):
            table.pop(pid, None)
        self._matrix = None

    def template(self, pid: int) -> np.ndarray | None:
        if pid not in self._all_sums:
            return None
        return self._template(pid)

    def _template(self, pid: int) -> np.ndarray:
        total = self._sums[pid] if self._counts.get(pid) else self._all_sums[pid]
        return normalise(total)

    def __len__(self) -> int:
        return len(self._all_sums)

    def state(self) -> dict[str, np.ndarray]:
        """The sums and counts as arrays (``store_cache`` keeps them for offline starts)."""
        pids = sorted(self._all_sums)
        dim = len(self._all_sums[pids[0]]) if pids else 1
        return {"t_pids": np.array(pids, np.int64),
                "t_sums": np.array([self._sums[p] for p in pids], np.float32).reshape(-1, dim),
                "t_all": np.array([self._all_sums[p] for p in pids], np.float32).reshape(-1, dim),
                "t_counts": np.array([self._counts[p] for p in pids], np.int64)}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self.clear()
        for i, pid in enumerate(int(p) for p in state["t_pids"]):
            self._sums[pid] = state["t_sums"][i]
            self._all_sums[pid] = state["t_all"][i]
            self._counts[pid] = int(state["t_counts"][i])

    def _build(self) -> None:
        self._pids = np.array(sorted(self._all_sums), np.int64)
        if len(self._pids):
            self._matrix = np.stack([self._template(int(p)) for p in self._pids]).astype(np.float32)
        else:
            self._matrix = np.zeros((0, 0), np.float32)

    def search(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each vector, the ``k`` people whose templates are most similar, best first.

        Exact (a matrix product): there is one row per person, not per sample, so even
        100,000 people cost a few milliseconds per query.
        """
        if self._matrix is None:
            self._build()
        assert self._matrix is not None
        if not len(self._pids) or not len(vectors):
            return [[] for _ in range(len(vectors))]
        sims = np.asarray(vectors, np.float32) @ self._matrix.T
        k = min(k, len(self._pids))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < len(self._pids) else \
            np.tile(np.arange(len(self._pids)), (len(sims), 1))
        results = []
        for row, cols in zip(sims, top):
            cols = cols[np.argsort(-row[cols])]
            results.append([(int(self._pids[c]), float(row[c])) for c in cols])
        return results
