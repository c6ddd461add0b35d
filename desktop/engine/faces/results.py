"""What the engine's use cases hand back: faces, matches, verifications, search hits and
enrollment reports (plain data, no model or store behind them)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from desktop.engine.core.stored_crop import StoredCrop, stored_crop
from desktop.engine.core.types import Detection, Person
from desktop.engine.decisions.liveness import live_json
from desktop.engine.decisions.matching import Match


@dataclass
class Face:
    """A detected face and the loaded model's crop of it."""
    detection: Detection
    crop: np.ndarray
    image: np.ndarray | None = field(default=None, repr=False)
    """The picture it was found in (for ``stored``)."""

    def stored(self) -> StoredCrop | None:
        """The model-neutral crop kept with an enrolled sample (embedders/stored.py)."""
        return None if self.image is None else stored_crop(self.image, self.detection)


@dataclass(frozen=True)
class FaceResult:
    box: tuple[float, float, float, float]
    det_prob: float
    match: Match

    def to_json(self) -> dict:
        return {"box": [round(v, 1) for v in self.box], "name": self.match.name,
                "candidate": self.match.candidate,
                "similarity": round(self.match.similarity, 4), "det_prob": round(self.det_prob, 4),
                "quality": self.match.quality, **live_json(self.match)}


@dataclass(frozen=True)
class Verification:
    similarity: float
    distance: float
    same: bool
    threshold: float

    def to_json(self) -> dict:
        return {"similarity": round(self.similarity, 4), "distance": round(self.distance, 4),
                "same": self.same, "threshold": self.threshold}


@dataclass
class SearchHit:
    name: str
    similarity: float
    thumbnail: np.ndarray | None


@dataclass
class EnrollReport:
    person: Person | None
    added: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(source, reason) for every photo that was not used."""
    warnings: list[str] = field(default_factory=list)
    """Enrolled, but worth a look: a probable duplicate, a probable wrong photo."""
    outliers: list[str] = field(default_factory=list)
    """Sources of samples kept out of the template as probably someone else."""
