"""Detections and embeddings of photo files, cached by file content and pipeline.

``evaluate`` on LFW embeds 12,105 photos; that costs 10-25 minutes of CPU once and must not
be paid again for every decision rule or threshold that is tried. A cache entry is keyed by
the sha256 of the file's bytes and by everything that changes the vectors: the model id,
the detector settings and the crop. Another model (dlib, ONNX) gets its own entries.

The cache is a SQLite file outside the project (``Settings.cache_dir``, by default
``~/.cache/face-kiosk``); deleting it only costs time.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop.engine.core.errors import KioskError
from desktop.engine.core.images import load_image
from desktop.engine.core.types import Detection
from desktop.engine.faces.crops import sharpness
from desktop.engine.faces.detection import photo_faces
from desktop.engine.settings.config import Settings

log = logging.getLogger(__name__)

CACHE_VERSION = 1


@dataclass(frozen=True)
class FaceRecord:
    """One detected face of a photo: where, how sure, how sharp, and its embedding."""
    box: tuple[float, float, float, float]
    prob: float
    landmarks: np.ndarray
    sharpness: float
    vector: np.ndarray

    @property
    def size(self) -> float:
        """The shorter side of the box, in pixels of the original photo."""
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])

    @property
    def area(self) -> float:
        return max(self.box[2] - self.box[0], 0.0) * max(self.box[3] - self.box[1], 0.0)


@dataclass
class PhotoRecord:
    """Every face of one photo, largest first; ``error`` when it could not be read."""
    faces: list[FaceRecord]
    width: int = 0
    height: int = 0
    error: str | None = None
    padded: bool = False
    """Found only on a padded copy (``photo_faces``): its crops were cut from that copy,
    so another model does not reuse these detections on the photo itself."""


def detector_key(settings: Settings) -> str:
    """Everything that changes a photo's detections."""
    kind = "" if settings.detector == "mtcnn" else "yunet-regions,"
    return (f"det:{kind}{settings.min_face_size},"
            f"{','.join(f'{t:g}' for t in settings.det_thresholds)},{settings.min_det_prob:g},"
            f"{settings.detect_max_side},pad{settings.detect_pad:g}")


def pipeline_key(settings: Settings, model_id: str, variant: str = "") -> str:
    """Everything that changes a photo's cached faces, as one string (``variant``: a
    model's own crop option, such as dlib's alignment)."""
    return (f"v{CACHE_VERSION}|{model_id}{variant}|{detector_key(settings)}"
            f"|crop:{settings.crop_size},{settings.crop_margin}")


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class FaceCache:
    """photo path -> PhotoRecord, computed with ``models`` on a miss and stored."""

    def __init__(self, settings: Settings, models, path: Path | None = None) -> None:
        self.settings = settings
        self.models = models
        alignment = getattr(models.embedder, "alignment", None)
        self.key = pipeline_key(settings, models.embedder.info.model_id,
                                f"/{alignment}" if alignment else "")
        self._det_key = detector_key(settings)
        self.path = Path(path or Path(settings.cache_dir).expanduser() / "faces.sqlite3")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("CREATE TABLE IF NOT EXISTS photos (file TEXT, pipeline TEXT, "
                               "meta TEXT NOT NULL, vectors BLOB NOT NULL, "
                               "PRIMARY KEY (file, pipeline))")
        except (OSError, sqlite3.Error) as exc:
            raise KioskError(f"cannot open the embedding cache {self.path}: {exc}; set "
                             f"cache_dir in settings.json to a writable folder") from None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def close(self) -> None:
        self._conn.close()

    def _get(self, digest: str) -> PhotoRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT meta, vectors FROM photos WHERE file = ? AND "
                                     "pipeline = ?", (digest, self.key)).fetchone()
        if row is None:
            return None
        meta = json.loads(row[0])
        dim = meta.get("dim", 0)
        vectors = (np.frombuffer(row[1], np.float32).reshape(-1, dim) if dim
                   else np.zeros((0, 0), np.float32))
        faces = [FaceRecord(tuple(f["box"]), f["prob"], np.array(f["landmarks"], np.float32),
                            f["sharpness"], vectors[i]) for i, f in enumerate(meta["faces"])]
        return PhotoRecord(faces, meta.get("width", 0), meta.get("height", 0), meta.get("error"),
                           meta.get("padded", False))

    def _detections(self, digest: str) -> list[Detection] | None:
        """Another model's detections of this photo with the same detector settings:
        a second model then costs only its crops and embeddings, not MTCNN again."""
        with self._lock:
            rows = self._conn.execute("SELECT pipeline, meta FROM photos WHERE file = ?",
                                      (digest,)).fetchall()
        for pipeline, meta in rows:
            parts = pipeline.split("|")
            if len(parts) > 2 and parts[2] == self._det_key:
                faces = json.loads(meta)
                if faces.get("error") or faces.get("padded"):
                    return None
                return [Detection(tuple(f["box"]), f["prob"], np.array(f["landmarks"], np.float32))
                        for f in faces["faces"]]
        return None

    def _put(self, rows: list[tuple[str, PhotoRecord]]) -> None:
        data = []
        for digest, record in rows:
            vectors = np.array([f.vector for f in record.faces], np.float32)
            meta = {"width": record.width, "height": record.height, "error": record.error,
                    "padded": record.padded,
                    "dim": int(vectors.shape[1]) if len(vectors) else 0,
                    "faces": [{"box": list(f.box), "prob": f.prob, "sharpness": f.sharpness,
                               "landmarks": np.asarray(f.landmarks).tolist()}
                              for f in record.faces]}
            data.append((digest, self.key, json.dumps(meta), vectors.tobytes()))
        with self._lock, self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO photos VALUES (?, ?, ?, ?)", data)

    def _compute(self, paths: Sequence[Path], digests: Sequence[str]) -> list[PhotoRecord]:
        """Detect every face of each photo (or reuse another model's detections), then embed
        all their crops (the loaded model's own) in one batch."""
        records, crops, owners = [], [], []
        detector, embedder = self.models.detector, self.models.embedder
        for path, digest in zip(paths, digests):
            try:
                rgb = load_image(path)
            except KioskError as exc:
                records.append(PhotoRecord([], error=str(exc)))
                continue
            detections = self._detections(digest)
            if detections is None:
                found, was_padded = self.models.run(photo_faces, detector, rgb, embedder.crop,
                                                    None, self.settings.detect_pad)
            else:
                found, was_padded = [(d, embedder.crop(rgb, d)) for d in detections], False
            record = PhotoRecord([], rgb.shape[1], rgb.shape[0], padded=was_padded)
            for det, crop in found:
                crops.append(crop)
                owners.append((record, det, sharpness(crop)))
            records.append(record)
        vectors = self.models.run(self.models.embedder.embed, crops) if crops else []
        for (record, det, sharp), vector in zip(owners, vectors):
            record.faces.append(FaceRecord(det.box, det.prob, det.landmarks, sharp,
                                           np.asarray(vector, np.float32)))
        return records

    def photos(self, paths: Sequence[Path], progress: Callable[[int, int], None] | None = None,
               batch: int = 32) -> dict[Path, PhotoRecord]:
        """Records for every path, computing the missing ones ``batch`` photos at a time."""
        result: dict[Path, PhotoRecord] = {}
        missing: list[tuple[Path, str]] = []
        for path in paths:
            digest = file_hash(path)
            record = self._get(digest)
            if record is None:
                missing.append((path, digest))
            else:
                result[path] = record
        self.hits += len(result)
        self.misses += len(missing)
        done = len(result)
        if progress:
            progress(done, len(paths))
        for start in range(0, len(missing), batch):
            chunk = missing[start:start + batch]
            records = self._compute([p for p, _ in chunk], [d for _, d in chunk])
            self._put([(d, r) for (_, d), r in zip(chunk, records)])
            result.update({p: r for (p, _), r in zip(chunk, records)})
            done += len(chunk)
            if progress:
                progress(done, len(paths))
        log.info("Face cache: %d hit(s), %d computed", self.hits, self.misses)
        return result
