"""Several face models in one gallery: the SQL behind the ``models`` and ``embeddings``
tables and the model-neutral crop of each sample (schema version 3, see storage/sqlite.py).

``samples.embedding`` holds the vectors of the gallery's active model (meta ``model_id``),
from which the Faiss index and the templates are derived; ``embeddings`` holds every
model's vectors (the active one's too), so switching back to a model already used costs
no computation. The SQL stays in the dialect that pg_schema.to_postgres translates.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from desktop.engine.core.images import decode_jpeg, encode_jpeg
from desktop.engine.core.stored_crop import StoredCrop
from desktop.engine.core.types import Detection, ModelInfo


@dataclass(frozen=True)
class ModelRow:
    model_id: str
    name: str
    dim: int
    threshold: float
    samples: int
    """How many samples this model has embedded."""


def face_columns(stored: StoredCrop | None) -> tuple[bytes | None, str | None]:
    """(JPEG, JSON of box, probability and landmarks) for samples.face / face_meta."""
    if stored is None:
        return None, None
    d = stored.detection
    meta = {"box": [round(float(v), 2) for v in d.box], "prob": round(float(d.prob), 4),
            "landmarks": stored.landmarks_json()}
    return encode_jpeg(stored.image), json.dumps(meta)


def stored_from_columns(jpeg: bytes, meta: str) -> StoredCrop:
    """The StoredCrop that ``face_columns`` wrote."""
    values = json.loads(meta)
    detection = Detection(tuple(values["box"]), float(values["prob"]),
                          np.array(values["landmarks"], np.float32))
    return StoredCrop(decode_jpeg(jpeg), detection)


def ensure_model(cur, info: ModelInfo, threshold: float) -> None:
    """Record ``info`` in ``models`` (once; a known model keeps its stored threshold)."""
    cur.execute("INSERT OR IGNORE INTO models(model_id, name, dim, threshold) "
                "VALUES (?, ?, ?, ?)", (info.model_id, info.name, int(info.dim), float(threshold)))


def set_model_threshold(cur, model_id: str, threshold: float) -> None:
    cur.execute("UPDATE models SET threshold = ? WHERE model_id = ?", (float(threshold), model_id))


def model_threshold(db, model_id: str) -> float | None:
    rows = db.query("SELECT threshold FROM models WHERE model_id = ?", (model_id,))
    return float(rows[0][0]) if rows else None


def model_threshold_in(cur, model_id: str) -> str:
    """The model's stored threshold as meta text, inside a transaction."""
    row = cur.execute("SELECT threshold FROM models WHERE model_id = ?", (model_id,)).fetchone()
    return f"{float(row[0]):.4f}"


def insert_vectors(cur, model_id: str, vectors: dict[int, np.ndarray]) -> None:
    """Store (or replace) ``model_id``'s vector of each sample id."""
    cur.executemany("DELETE FROM embeddings WHERE model_id = ? AND sample_id = ?",
                    [(model_id, int(sid)) for sid in vectors])
    cur.executemany("INSERT INTO embeddings(sample_id, model_id, vector) VALUES (?, ?, ?)",
                    [(int(sid), model_id, np.asarray(v, np.float32).tobytes())
                     for sid, v in vectors.items()])


def stored_vectors(db, model_id: str) -> dict[int, np.ndarray]:
    """Every vector ``model_id`` has made, by sample id."""
    rows = db.query("SELECT sample_id, vector FROM embeddings WHERE model_id = ?", (model_id,))
    return {int(sid): np.frombuffer(bytes(blob), np.float32) for sid, blob in rows}


def models(db) -> list[ModelRow]:
    """Every model recorded in this gallery, with how many samples it has embedded."""
    rows = db.query("SELECT m.model_id, m.name, m.dim, m.threshold, COUNT(e.id) FROM models m "
                    "LEFT JOIN embeddings e ON e.model_id = m.model_id "
                    "GROUP BY m.id, m.model_id, m.name, m.dim, m.threshold ORDER BY m.id")
    return [ModelRow(r[0], r[1], int(r[2]), float(r[3]), int(r[4])) for r in rows]
