"""The Faiss index over sample embeddings: derived data, chosen by gallery size.

Vectors are L2-normalised, so inner product is cosine similarity. Below
``index_exact_below`` samples (Settings) an exact flat index is both fastest to build and fast
enough to search (see the gallery-scale table of ``python main.py bench``); above it an
HNSW graph keeps search in the low milliseconds at recall@1 >= 0.99.
"""
from __future__ import annotations

import faiss
import numpy as np

from desktop.engine.settings.config import DEFAULTS


def build_index(vectors: np.ndarray, ids: np.ndarray, exact: bool | None = None, *,
                exact_below: int = DEFAULTS.index_exact_below, hnsw_m: int = DEFAULTS.hnsw_m,
                ef_construction: int = DEFAULTS.hnsw_ef_construction,
                ef_search: int = DEFAULTS.hnsw_ef_search) -> faiss.Index:
    """An ID-mapped inner-product index holding ``vectors`` under ``ids`` (sample ids)."""
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 512
    if exact is None:
        exact = len(vectors) < exact_below
    if exact:
        inner = faiss.IndexFlatIP(dim)
    else:
        inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = ef_construction
        inner.hnsw.efSearch = ef_search
    index = faiss.IndexIDMap2(inner)
    if len(vectors):
        index.add_with_ids(np.ascontiguousarray(vectors, np.float32),
                           np.ascontiguousarray(ids, np.int64))
    return index


def is_exact(index: faiss.Index) -> bool:
    return isinstance(faiss.downcast_index(index.index), faiss.IndexFlat)
