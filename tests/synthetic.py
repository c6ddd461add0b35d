"""Fake networks for the fast test tier, plugged into the real ``FaceEngine``: scripted
detections and coded embeddings, with the real gallery, Faiss index, templates, decision
rule and attendance on a real SQLite file.

Only the two networks are replaced: the detector returns the detections a frame's script
says, and the embedder turns a face whose landmarks encode a person number into that
person's unit vector (plus a little noise), so everything downstream is the code that
ships, and runs in milliseconds.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from desktop.engine.core.types import EMBEDDING_DIM, Detection, ModelInfo
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.faces.results import Face
from desktop.engine.settings.config import Settings

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


def frame(number: int) -> np.ndarray:
    """A frame the fake detector knows by ``number`` (its first pixel value)."""
    return np.full((48, 64, 3), number, np.uint8)


def coded_crop(person: int, similarity: float = 1.0) -> np.ndarray:
    """The crop of a face that encodes ``person``; each person's crop has its own coarse
    texture, so a cut to someone else looks different (``tracking.appearance``)."""
    crop = np.full((160, 160, 3), person, np.uint8)
    crop[..., 1] = round(similarity * 100)
    blocks = np.random.default_rng(person).integers(0, 256, (4, 4), dtype=np.uint8)
    crop[..., 2] = np.kron(blocks, np.ones((40, 40), np.uint8))
    return crop


def face(box: Box, person: int, similarity: float = 1.0) -> Face:
    """A detection at ``box`` that encodes ``person`` (0 = a stranger) and, below 1, about
    how similar its embedding is to that person (a borderline face), in its landmarks."""
    landmarks = np.zeros((5, 2), np.float32)
    landmarks[0] = (person, similarity)
    return Face(Detection(box, 0.99, landmarks), coded_crop(person, similarity))


class ScriptedDetector:
    """MTCNN's place: the faces a frame's script says (the frame number is its first
    pixel value)."""

    def __init__(self) -> None:
        self.script: dict[int, list[Face]] = {}
        self.calls = 0

    def detect(self, rgb: np.ndarray, max_side: int | None = None) -> list[Detection]:
        self.calls += 1
        return [f.detection for f in self.script.get(int(rgb[0, 0, 0]), [])]


class CodedEmbedder:
    """FaceNet's place: the crop carries the person number its landmarks encode."""
    info = MODEL

    def crop(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        person, similarity = detection.landmarks[0]
        return coded_crop(int(person), float(similarity))

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        if not len(crops):
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


class FakeModels:
    """``Models`` with the fake networks, run on the calling thread."""

    def __init__(self) -> None:
        self.detector = ScriptedDetector()
        self.embedder = CodedEmbedder()
        self.load_seconds = 0.0

    def run(self, func: Callable[..., Any], *args: Any) -> Any:
        return func(*args)

    def submit(self, func: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        future.set_result(func(*args))
        return future

    def liveness_scores(self, rgb: np.ndarray, boxes: list) -> np.ndarray:
        return np.ones(len(boxes), np.float32)


def synthetic_engine(folder: Path, **settings: Any) -> FaceEngine:
    """The real FaceEngine over a fresh database in ``folder``, with the fake networks.
    Threshold 0.55 unless given; the live loop uses the same (scripted) detector."""
    options: dict[str, Any] = {"threshold": 0.55, "detector": "mtcnn", "live_detector": "same"}
    options.update(settings)
    return FaceEngine(Settings(db_dir=folder, **options), FakeModels())  # type: ignore[arg-type]


def script(engine: FaceEngine) -> dict[int, list[Face]]:
    """The faces each frame number shows (the fake detector's script)."""
    return engine.models.detector.script  # type: ignore[attr-defined]


def enroll(engine: FaceEngine, name: str, person: int) -> None:
    """Three samples of ``person`` under ``name``, stored by the real gallery."""
    vectors = np.stack([identity(person, seed=s) for s in range(3)])
    crops = [coded_crop(person)] * 3
    engine.gallery.add_samples(name, vectors, crops, ["synthetic"] * 3)
