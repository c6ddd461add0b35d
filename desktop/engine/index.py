"""The Faiss index over sample embeddings: derived data, chosen by gallery size.

Vectors are L2-normalised, so inner product is cosine similarity. Below
``APPROXIMATE_FROM`` samples an exact flat index is both fastest to build and fast
enough to search (see the gallery-scale table of ``python main.py bench``); above it an
HNSW graph keeps search in the low milliseconds at recall@1 >= 0.99.
"""
from __future__ import annotations

import faiss
import numpy as np

APPROXIMATE_FROM = 10_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256


def build_index(vectors: np.ndarray, ids: np.ndarray, exact: bool | None = None) -> faiss.Index:
    """An ID-mapped inner-product index holding ``vectors`` under ``ids`` (sample ids)."""
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 512
    if exact is None:
        exact = len(vectors) < APPROXIMATE_FROM
    if exact:
        inner = faiss.IndexFlatIP(dim)
    else:
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    index = faiss.IndexIDMap2(inner)
    if len(vectors):
        index.add_with_ids(np.ascontiguousarray(vectors, np.float32),
                           np.ascontiguousarray(ids, np.int64))
    return index


def is_exact(index: faiss.Index) -> bool:
    return isinstance(faiss.downcast_index(index.index), faiss.IndexFlat)
