"""A model-free engine for the fast test tier: scripted detections, synthetic embeddings,
and the real gallery, Faiss index, decision rule and attendance on a real SQLite file.

Only the two networks are replaced: ``faces`` returns the detections a frame's script
says, and ``embed`` turns a crop that encodes a person number into that person's unit
vector (plus a little noise), so everything downstream runs for real, in milliseconds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop.config import Settings
from desktop.engine.attendance import Attendance
from desktop.engine.database import Database
from desktop.engine.detection import Detection
from desktop.engine.embedding import EMBEDDING_DIM, ModelInfo
from desktop.engine.gallery import Gallery
from desktop.engine.matching import Match, decide
from desktop.engine.results import Face

MODEL = ModelInfo(name="20180408-102900-casia-webface-features",
                  model_id="synthetic:0000000000000000")
"""Named as the CASIA FaceNet, so the matching levels measured for it apply."""
Box = tuple[float, float, float, float]


def identity(person: int, noise: float = 0.02, seed: int = 0) -> np.ndarray:
    """Person ``person``'s unit vector: a basis direction, slightly perturbed."""
    rng = np.random.default_rng(seed)
    vector = np.zeros(EMBEDDING_DIM, np.float32)
    vector[person] = 1.0
    vector += rng.normal(0, noise, EMBEDDING_DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def face(box: Box, person: int, similarity: float = 1.0) -> Face:
    """A detection at ``box`` whose crop encodes ``person`` (0 = a stranger) and, below 1,
    about how similar its embedding is to that person (a borderline face); each person's
    crop has its own texture, so a cut to someone else looks different."""
    crop = np.full((160, 160, 3), person, np.uint8)
    crop[..., 1] = round(similarity * 100)
    blocks = np.random.default_rng(person).integers(0, 256, (4, 4), dtype=np.uint8)
    crop[..., 2] = np.kron(blocks, np.ones((40, 40), np.uint8))  # a coarse look of its own
    landmarks = np.zeros((5, 2), np.float32)
    return Face(Detection(box, 0.99, landmarks), crop)


class SyntheticEngine:
    """What ``LiveRecognizer`` and ``LivePipeline`` use of ``FaceEngine``, without models."""

    def __init__(self, folder: Path, **settings) -> None:
        self.settings = Settings(db_dir=folder, **settings)
        self.threshold = 0.55
        self.frontend = "engine"
        self.db = Database(self.settings.db_path)
        self.gallery = Gallery(self.db, MODEL)
        self.attendance = Attendance(self.db)
        self.script: dict[int, list[Face]] = {}
        """Frame number (the frame's first pixel value) -> the faces in it."""
        self.calls = 0

    @property
    def checkin_liveness(self) -> str:
        return self.settings.liveness if self.settings.liveness_at_checkin else "off"

    def enroll(self, name: str, person: int) -> None:
        vectors = np.stack([identity(person, seed=s) for s in range(3)])
        crops = [np.full((160, 160, 3), person, np.uint8)] * 3
        self.gallery.add_samples(name, vectors, crops, ["synthetic"] * 3)

    def faces(self, rgb: np.ndarray, max_side: int | None = None) -> list[Face]:
        self.calls += 1
        return list(self.script.get(int(rgb[0, 0, 0]), []))

    live_faces = faces

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        vectors = []
        for i, crop in enumerate(crops):
            person, similarity = int(crop[0, 0, 0]), min(1.0, crop[0, 0, 1] / 100)
            other = identity(EMBEDDING_DIM - 1 - i)  # nobody enrolled looks like it
            if not person:
                vectors.append(other)
                continue
            vector = similarity * identity(person, seed=100 + i) + \
                np.sqrt(1 - similarity ** 2) * other
            vectors.append(vector / np.linalg.norm(vector))
        return np.stack(vectors).astype(np.float32)

    def match(self, vectors: np.ndarray) -> list[Match]:
        return [decide(ranked, self.threshold, self.settings.match_margin)
                for ranked in self.gallery.search(vectors, 2)]

    def close(self) -> None:
        self.db.close()
