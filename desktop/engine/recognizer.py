"""The engine facade: photos in, identities out. Every front end calls this class.

Models (MTCNN + FaceNet) are loaded once into ``Models`` and may be shared by several
engines (tests open many databases with one set of models).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from ..config import Settings
from . import audit, privacy, retention
from .alignment import crop_face
from .attendance import Attendance
from .consent import Consent
from .database import Database
from .detection import Detection, FaceDetector
from .embedding import FaceEmbedder
from .errors import DuplicateFaceError, FaceCountError, KioskError
from .gallery import DeleteReport, Gallery, Person, validate_name
from .images import decode_jpeg
from .matching import Match, decide

log = logging.getLogger(__name__)
T = TypeVar("T")

SUBJECT_AREA_RATIO = 2.0
"""In an enrollment photo the subject's face must be this many times larger than any other."""


@dataclass
class Face:
    """A detected face and its FaceNet crop."""
    detection: Detection
    crop: np.ndarray


@dataclass(frozen=True)
class FaceResult:
    box: tuple[float, float, float, float]
    det_prob: float
    match: Match

    def to_json(self) -> dict:
        return {"box": [round(v, 1) for v in self.box], "name": self.match.name,
                "candidate": self.match.candidate,
                "similarity": round(self.match.similarity, 4), "det_prob": round(self.det_prob, 4)}


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


class Models:
    """MTCNN and FaceNet, loaded once per process, run on one thread of their own.

    PyTorch's CPU kernels use libgomp, which gives every *calling* thread its own OpenMP
    team; on a 2-core machine a second calling thread made a small photo take ~120 ms
    instead of ~50 ms. So the networks are loaded on, and only ever run on, one thread;
    ``run`` hands work to it from any thread (window, HTTP pool, CLI) and waits.
    """

    def __init__(self, settings: Settings) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="inference")
        self._thread_id = self._thread.submit(threading.get_ident).result()
        started = time.perf_counter()
        self.detector, self.embedder = self.run(self._load, settings)
        self.load_seconds = time.perf_counter() - started

    @staticmethod
    def _load(settings: Settings) -> tuple[FaceDetector, FaceEmbedder]:
        detector = FaceDetector(min_face_size=settings.min_face_size,
                                thresholds=settings.det_thresholds,
                                min_prob=settings.min_det_prob,
                                max_side=settings.detect_max_side, device=settings.device)
        embedder = FaceEmbedder(weights=settings.weights, device=settings.device,
                                torch_threads=settings.torch_threads)
        return detector, embedder

    def run(self, func: Callable[..., T], *args: Any) -> T:
        """Call ``func`` on the inference thread; exceptions propagate to the caller."""
        if threading.get_ident() == self._thread_id:
            return func(*args)
        return self._thread.submit(func, *args).result()


def subject_face(faces: list[Face]) -> Face:
    """The one face an enrollment photo is about, or FaceCountError.

    A photo with a small bystander is still a portrait; two similar faces are ambiguous.
    """
    if not faces:
        raise FaceCountError("no face found")
    if len(faces) > 1 and faces[0].detection.area < SUBJECT_AREA_RATIO * faces[1].detection.area:
        raise FaceCountError(f"{len(faces)} faces of similar size; use a photo of one person")
    return faces[0]


class FaceEngine:
    """Detection, crops, embeddings, gallery and attendance behind one object."""

    def __init__(self, settings: Settings, models: Models | None = None, *,
                 allow_model_mismatch: bool = False, frontend: str = "engine") -> None:
        self.settings = settings
        self.frontend = frontend
        """'window', 'cli', 'http' or 'engine': the default actor in the audit trail."""
        self.models = models or Models(settings)
        self.db = Database(settings.db_path, key=settings.db_key)
        self.gallery = Gallery(self.db, self.models.embedder.info,
                               allow_model_mismatch=allow_model_mismatch)
        self.attendance = Attendance(self.db, cooldown_minutes=settings.cooldown_minutes,
                                     retention_days=settings.retention_days,
                                     store_checkin_snapshots=settings.store_checkin_snapshots,
                                     store_visitor_snapshots=settings.store_visitor_snapshots)
        self._retention: retention.RetentionTimer | None = None
        privacy.on_open(self)

    def close(self) -> None:
        if self._retention:
            self._retention.stop()
        self.db.close()

    def start_retention(self) -> None:
        """For the window and the HTTP service: retention now and every few hours."""
        if self._retention is None:
            self._retention = retention.RetentionTimer(
                lambda: retention.run_once(self), self.settings.retention_interval_hours).start()

    # ------------------------------------------------------------ thresholds
    @property
    def threshold(self) -> float:
        if self.settings.threshold is not None:
            return self.settings.threshold
        return self.gallery.threshold

    @property
    def duplicate_threshold(self) -> float:
        if self.settings.duplicate_threshold is None:
            return self.threshold
        return self.settings.duplicate_threshold

    # ------------------------------------------------------------ building blocks
    def faces(self, rgb: np.ndarray, max_side: int | None = None) -> list[Face]:
        """Every face in the image, largest first, with its crop."""
        detections = self.models.run(self.models.detector.detect, rgb, max_side)
        return [Face(d, crop_face(rgb, d.box, self.settings.crop_size, self.settings.crop_margin))
                for d in detections]

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        return self.models.run(self.models.embedder.embed, crops)

    def match(self, vectors: np.ndarray) -> list[Match]:
        threshold, margin = self.threshold, self.settings.match_margin
        return [decide(ranked, threshold, margin) for ranked in self.search_gallery(vectors, 2)]

    def search_gallery(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Gallery search on the inference thread: Faiss brings its own OpenMP runtime, and a
        search from another thread left a second team that made later inference 2-3x slower
        (measured by ``python main.py bench``, tuning table)."""
        return self.models.run(self.gallery.search, vectors, k)

    # ------------------------------------------------------------ recognition
    def identify(self, rgb: np.ndarray) -> list[FaceResult]:
        faces = self.faces(rgb)
        matches = self.match(self.embed([f.crop for f in faces]))
        return [FaceResult(f.detection.box, f.detection.prob, m) for f, m in zip(faces, matches)]

    def verify(self, rgb_a: np.ndarray, rgb_b: np.ndarray) -> Verification:
        """1:1 comparison of the subject faces of two photos."""
        crops = []
        for label, rgb in (("first", rgb_a), ("second", rgb_b)):
            try:
                crops.append(subject_face(self.faces(rgb)).crop)
            except FaceCountError as exc:
                raise FaceCountError(f"{label} image: {exc}") from None
        a, b = self.embed(crops)
        similarity = float(np.dot(a, b))
        return Verification(similarity, float(np.linalg.norm(a - b)),
                            similarity >= self.threshold, self.threshold)

    def search(self, rgb: np.ndarray, k: int = 5) -> tuple[np.ndarray, list[SearchHit]]:
        """The query's subject crop and its ``k`` most similar people with their thumbnails."""
        face = subject_face(self.faces(rgb))
        ranked = self.search_gallery(self.embed([face.crop]), k)[0]
        hits = []
        for name, similarity in ranked:
            jpeg = self.gallery.thumbnail(name)
            hits.append(SearchHit(name, similarity, decode_jpeg(jpeg) if jpeg else None))
        return face.crop, hits

    # ------------------------------------------------------------ enrollment
    def enroll(self, name: str, images: list[tuple[str, np.ndarray]], *,
               force: bool = False, consent: Consent | None = None,
               actor: str | None = None) -> EnrollReport:
        """Enroll the subject face of each (source, image); photos without exactly one
        subject are skipped with the reason. Raises if nothing usable remains."""
        name = validate_name(name)
        privacy.check_consent(self, name, consent)
        crops, sources, skipped = [], [], []
        for source, rgb in images:
            try:
                crops.append(subject_face(self.faces(rgb)).crop)
                sources.append(source)
            except FaceCountError as exc:
                skipped.append((source, str(exc)))
        if not crops:
            reasons = "; ".join(f"{s}: {r}" for s, r in skipped)
            raise FaceCountError(f"nothing to enroll for {name}: {reasons}")
        person = self.enroll_crops(name, crops, sources, force=force, consent=consent,
                                   actor=actor)
        return EnrollReport(person, len(crops), skipped)

    def enroll_crops(self, name: str, crops: list[np.ndarray], sources: list[str], *,
                     force: bool = False, consent: Consent | None = None,
                     actor: str | None = None) -> Person:
        """Store ready-made crops (from photos or the live camera) as samples of ``name``.

        Refuses (unless ``force``) when the faces already match a *different* person, and
        without consent when ``require_consent`` applies; records consent and the audit row.
        """
        name = validate_name(name)
        privacy.check_consent(self, name, consent)
        vectors = self.embed(crops)
        self.check_duplicate(name, vectors, force=force)
        person = self.gallery.add_samples(name, vectors, crops, sources,
                                          keep_crops=self.settings.keep_face_crops)
        privacy.after_enroll(self, person, len(crops), consent, actor, forced=force)
        return person

    def check_duplicate(self, name: str, vectors: np.ndarray, *, force: bool = False) -> None:
        """Refuse faces most of which are recognised as one other person.

        Per face, as recognition would decide (threshold and margin); a majority is needed
        so that one odd photo among many does not block an enrollment.
        """
        own = " ".join(name.split()).casefold()
        votes: dict[str, list[float]] = {}
        for ranked in self.search_gallery(vectors, 3):
            others = [(n, s) for n, s in ranked if n.casefold() != own]
            if others:
                match = decide(others, self.duplicate_threshold, self.settings.match_margin)
                if match.name:
                    votes.setdefault(match.name, []).append(match.similarity)
        if not votes:
            return
        other, sims = max(votes.items(), key=lambda item: len(item[1]))
        if 2 * len(sims) <= len(vectors):
            return
        similarity = float(np.median(sims))
        message = (f"{len(sims)} of {len(vectors)} face(s) already match {other} (similarity "
                   f"{similarity:.2f}); is {name!r} the same person?")
        if not force:
            raise DuplicateFaceError(message, other, similarity)
        log.warning("Enrolling despite a probable duplicate (similarity %.2f)", similarity)

    def delete(self, name: str, keep_attendance: bool | None = None, *,
               actor: str | None = None, reason: str | None = None) -> DeleteReport:
        keep = (not self.settings.delete_attendance_with_person if keep_attendance is None
                else keep_attendance)
        pid = self.gallery.person(name).id
        report = self.gallery.delete_person(name, keep_attendance=keep)
        audit.record(self.db, "delete", actor or self.frontend, pid, samples=report.samples,
                     checkins=report.checkins, kept_attendance=keep, reason=reason)
        return report

    def rename(self, old: str, new: str, *, actor: str | None = None) -> Person:
        person = self.gallery.rename(old, new)
        audit.record(self.db, "rename", actor or self.frontend, person.id)  # no names
        return person

    def export_person(self, name: str, out, *, actor: str | None = None) -> dict[str, int]:
        """Subject access request: a zip of everything held about ``name``."""
        from .subject_export import export_person
        return export_person(self, name, out, actor or self.frontend)

    def reembed(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every stored crop with the loaded model (after changing weights)."""
        rows = self.gallery.crops()
        privacy.check_reembed_possible(rows)
        vectors: dict[int, np.ndarray] = {}
        for start in range(0, len(rows), 64):
            chunk = rows[start:start + 64]
            embedded = self.embed([decode_jpeg(crop) for _, crop in chunk])
            vectors.update({sid: v for (sid, _), v in zip(chunk, embedded)})
            if progress:
                progress(min(start + 64, len(rows)), len(rows))
        if not rows and not self.gallery.model_mismatch:
            raise KioskError("nothing to re-embed")
        self.gallery.replace_embeddings(vectors)
        audit.record(self.db, "reembed", self.frontend, samples=len(rows),
                     model=self.gallery.model.name)
        return len(rows)
