"""Gallery scale: search latency, memory, build time and recall@1 of Faiss indexes from 1k
to 1M vectors, to choose the index type by gallery size (desktop/engine/gallery/faiss_index.py).

Vectors: the bench gallery's real FaceNet embeddings first, then synthetic identities
drawn from a Gaussian fitted to real embeddings (mean + shrunk covariance), L2-normalised,
so that they are as anisotropic as real faces (random isotropic unit vectors are not).
Queries: held-out real photos of enrolled people, synthetic "same person" probes (an
identity plus noise, cosine ~0.70 to it: the same-person mean these weights give on LFW),
and strangers (real photos of people not enrolled, plus fresh synthetic draws).
"""
from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np

from desktop.bench.table import Column, Table
from desktop.bench.util import median, progress
from desktop.engine.settings.config import DEFAULTS

log = logging.getLogger(__name__)

K = 6
"""Depth of every search: Gallery.search asks k=2 people x up to 3 samples each."""
GENUINE_COSINE = 0.70
SHRINK = 0.3


def unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
    return x


class FaceLikeVectors:
    """Draws unit vectors distributed like real FaceNet embeddings of different people."""

    def __init__(self, real: np.ndarray, seed: int = 0) -> None:
        real = real.astype(np.float64)
        self.mean = real.mean(axis=0)
        cov = np.cov(real - self.mean, rowvar=False)
        cov = (1 - SHRINK) * cov + SHRINK * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0])
        self.chol = np.linalg.cholesky(cov).astype(np.float32)
        self.rng = np.random.default_rng(seed)

    def draw(self, n: int, chunk: int = 100_000) -> np.ndarray:
        out = np.empty((n, self.chol.shape[0]), np.float32)
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            z = self.rng.standard_normal((m, self.chol.shape[0]), dtype=np.float32)
            out[start:start + m] = unit(self.mean.astype(np.float32) + z @ self.chol.T)
        return out

    def genuine(self, identities: np.ndarray) -> np.ndarray:
        """Another 'photo' of each identity: cosine ~GENUINE_COSINE to it."""
        dim = identities.shape[1]
        sigma = math.sqrt((1 / GENUINE_COSINE ** 2 - 1) / dim)
        noise = self.rng.standard_normal(identities.shape, dtype=np.float32) * sigma
        return unit(identities + noise)


def mean_pair_cosine(x: np.ndarray, rng: np.random.Generator, pairs: int = 20_000) -> float:
    a, b = rng.integers(0, len(x), pairs), rng.integers(0, len(x), pairs)
    keep = a != b
    return float(np.mean(np.sum(x[a[keep]] * x[b[keep]], axis=1)))


@dataclass
class IndexKind:
    key: str
    """short name for --kinds: flat, fp16, hnsw, ivf"""
    name: str
    make: Callable[[int, int], faiss.Index]
    """(dim, n) -> an empty index; trained in ``build`` when it needs training."""
    knob: str | None = None
    values: tuple[int, ...] = (0,)

    def set(self, index: faiss.Index, value: int) -> None:
        if self.knob == "efSearch":
            index.hnsw.efSearch = value
        elif self.knob == "nprobe":
            index.nprobe = value


def ivf_lists(n: int) -> int:
    """A power of two near sqrt(n), with >= 39 vectors per list to train on (Faiss's floor):
    16 lists at 1k, 128 at 10k, 256 at 100k, 1024 at 1M."""
    return max(4, min(2 ** round(math.log2(math.sqrt(n))), 2 ** int(math.log2(max(1, n // 39)))))


def _hnsw(dim: int, n: int) -> faiss.Index:
    index = faiss.IndexHNSWFlat(dim, DEFAULTS.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = DEFAULTS.hnsw_ef_construction
    return index


def _ivf(dim: int, n: int) -> faiss.Index:
    quantizer = faiss.IndexFlatIP(dim)
    return faiss.IndexIVFFlat(quantizer, dim, ivf_lists(n), faiss.METRIC_INNER_PRODUCT)


KINDS = (
    IndexKind("flat", "Flat (exact)", lambda d, n: faiss.IndexFlatIP(d)),
    IndexKind("fp16", "Flat fp16", lambda d, n: faiss.IndexScalarQuantizer(
        d, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)),
    IndexKind("hnsw", f"HNSW M{DEFAULTS.hnsw_m} efC{DEFAULTS.hnsw_ef_construction}", _hnsw,
              "efSearch", (16, 32, 64, 128, 256)),
    IndexKind("ivf", "IVF-Flat", _ivf, "nprobe", (8, 16, 32, 64, 128)),
)


def build(kind: IndexKind, vectors: np.ndarray) -> tuple[faiss.Index, float]:
    started = time.perf_counter()
    index = kind.make(vectors.shape[1], len(vectors))
    if not index.is_trained:
        sample = vectors[np.random.default_rng(1).permutation(len(vectors))[:64 * ivf_lists(
            len(vectors))]]
        index.train(sample)
    index.add(vectors)
    return index, time.perf_counter() - started


def single_query_ms(index: faiss.Index, queries: np.ndarray, count: int) -> float:
    times = []
    for q in queries[:count]:
        q = q[None, :]
        started = time.perf_counter()
        index.search(q, K)
        times.append((time.perf_counter() - started) * 1000)
    return median(times)


def recall_at_1(found: np.ndarray, queries: np.ndarray, vectors: np.ndarray,
                truth: np.ndarray) -> float:
    """Share of queries whose top hit is the exact top hit (or ties with it)."""
    ids = found[:, 0]
    ok = ids == truth[:, 0]
    sims = np.einsum("ij,ij->i", queries[~ok], vectors[np.maximum(ids[~ok], 0)])
    exact = np.einsum("ij,ij->i", queries[~ok], vectors[truth[~ok, 0]])
    ok[~ok] = (ids[~ok] >= 0) & (sims >= exact - 1e-6)
    return float(ok.mean())


def same_decision(found: np.ndarray, queries: np.ndarray, vectors: np.ndarray,
                  truth: np.ndarray, threshold: float) -> float:
    """Share of queries where the open-set outcome (the top hit if its similarity reaches
    ``threshold``, else 'unknown') is the same as with exact search."""
    def outcome(ids: np.ndarray) -> np.ndarray:
        sims = np.einsum("ij,ij->i", queries, vectors[np.maximum(ids, 0)])
        return np.where((ids >= 0) & (sims >= threshold), ids, -1)
    approx, exact = outcome(found[:, 0]), outcome(truth[:, 0])
    sims_a = np.einsum("ij,ij->i", queries, vectors[np.maximum(found[:, 0], 0)])
    sims_e = np.einsum("ij,ij->i", queries, vectors[truth[:, 0]])
    return float(np.mean((approx == exact) | ((approx >= 0) & (sims_a >= sims_e - 1e-6))))


def bench_scale(real_gallery: np.ndarray, real_probes: np.ndarray, real_strangers: np.ndarray,
                sizes: tuple[int, ...], queries: int, kinds: tuple[str, ...] = (),
                threshold: float = 0.55) -> Table:
    table = Table("scale", f"Gallery scale: single-query search (k={K}), memory, build, "
                  "recall@1 against exact search", [
                      Column("vectors"), Column("index"), Column("param"),
                      Column("build s", ".2f"), Column("MB", ".0f"), Column("search ms", ".3f"),
                      Column("recall@1 enrolled", ".4f"), Column("recall@1 strangers", ".4f"),
                      Column("same decision", ".4f")])
    fit = np.concatenate([real_gallery, real_probes, real_strangers])
    draw = FaceLikeVectors(fit)
    rng = np.random.default_rng(2)
    largest = max(sizes)
    pool = np.concatenate([real_gallery, draw.draw(max(0, largest - len(real_gallery)))])
    n_enrolled, n_strangers = queries * 7 // 10, queries * 3 // 10
    for size in sizes:
        vectors = pool[:size]
        synthetic_rows = rng.integers(min(len(real_gallery), size - 1), size, n_enrolled)
        enrolled = np.concatenate([real_probes, draw.genuine(vectors[synthetic_rows])])[:n_enrolled]
        strangers = np.concatenate([real_strangers, draw.draw(n_strangers)])[:n_strangers]
        qs = [enrolled, strangers]
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        truth = [exact.search(q, 1)[1] for q in qs]
        del exact
        timed = np.concatenate(qs)[rng.permutation(len(enrolled) + len(strangers))]
        chosen = [k for k in KINDS if not kinds or k.key in kinds]
        for kind in progress(chosen, desc=f"index scale {size:,}", unit="index"):
            index, seconds = build(kind, vectors)
            megabytes = faiss.serialize_index(index).nbytes / 2 ** 20
            for value in kind.values:
                if kind.knob == "nprobe" and value > index.nlist:
                    continue  # more probes than lists: the same as probing them all
                kind.set(index, value)
                count = 30 if (kind.knob is None and size >= 100_000) else 200
                ms = single_query_ms(index, timed, count)
                found = [index.search(q, 1)[1] for q in qs]
                recalls = [recall_at_1(f, q, vectors, t) for f, q, t in zip(found, qs, truth)]
                decided = same_decision(np.concatenate(found), np.concatenate(qs), vectors,
                                        np.concatenate(truth), threshold)
                table.add(f"{size:,}", kind.name, f"{kind.knob} {value}" if kind.knob else "-",
                          seconds, megabytes, ms, *recalls, decided)
            del index
            gc.collect()
        log.info("scale %d done", size)
    table.notes += [
        f"vectors: {len(real_gallery)} real FaceNet embeddings of the bench gallery, the rest "
        "drawn from a Gaussian fitted to "
        f"{len(fit)} real embeddings (shrunk covariance), L2-normalised. Mean cosine between "
        f"different vectors: real {mean_pair_cosine(real_gallery, rng):.3f}, synthetic "
        f"{mean_pair_cosine(pool[len(real_gallery):][:50_000], rng):.3f}"
        if len(pool) > len(real_gallery) else "vectors: real embeddings only",
        f"queries: {n_enrolled} enrolled ({len(real_probes)} held-out real photos + synthetic "
        f"probes at cosine ~{GENUINE_COSINE} to an identity), {n_strangers} strangers "
        f"({len(real_strangers)} real + synthetic). search ms: median of one query per call "
        "(as the recognition thread calls it).",
        f"same decision: all queries whose open-set outcome at threshold {threshold:.2f} "
        "(the top hit, or unknown) equals the exact index's: what the kiosk would show.",
        "build s: train + add on both cores. MB: serialized index size (what Gallery writes to "
        f"disk on every enrollment, and roughly its RAM). IVF lists: {ivf_lists(1000)} at 1k, "
        f"{ivf_lists(10_000)} at 10k, {ivf_lists(100_000)} at 100k, {ivf_lists(1_000_000)} at "
        "1M; trained on 64 x lists vectors.",
    ]
    return table
