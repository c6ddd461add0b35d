"""The engine facade: photos in, identities out. Every front end calls this class.

Models (MTCNN + FaceNet) are loaded once into ``Models`` (faces/networks.py) and may be shared by
several engines (tests open many databases with one set of models).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from desktop.engine.attendance.opening import open_attendance, store_status
from desktop.engine.core.errors import FaceCountError, KioskError, LowQualityError
from desktop.engine.core.images import decode_jpeg
from desktop.engine.core.names import normalize_name
from desktop.engine.core.stored_crop import StoredCrop
from desktop.engine.core.types import Person
from desktop.engine.decisions.liveness import LivenessVerdict, judge, uses_passive
from desktop.engine.decisions.matching import Match, decide, model_defaults, strict_threshold
from desktop.engine.facade.add_samples import add_crops
from desktop.engine.faces.crops import sharpness
from desktop.engine.faces.detection import FaceDetector, photo_faces
from desktop.engine.faces.networks import Models, build_detector, detector_kind
from desktop.engine.faces.quality import quality_problem
from desktop.engine.faces.results import EnrollReport, Face, FaceResult, SearchHit, Verification
from desktop.engine.faces.subject import subject_face
from desktop.engine.gallery.people import DeleteReport, Gallery
from desktop.engine.privacy import hooks as privacy
from desktop.engine.privacy import retention
from desktop.engine.settings.config import Settings
from desktop.engine.storage import audit
from desktop.engine.storage.consent import Consent
from desktop.engine.storage.store import StoreStatus, open_store

log = logging.getLogger(__name__)


class FaceEngine:
    """Detection, crops, embeddings, gallery and attendance behind one object."""

    def __init__(self, settings: Settings, models: Models | None = None, *,
                 allow_model_mismatch: bool = False, frontend: str = "engine") -> None:
        self.settings = settings
        self.frontend = frontend
        """'window', 'cli', 'http' or 'engine': the default actor in the audit trail."""
        self.models = models or Models(settings)
        self.detector: FaceDetector = self.models.detector
        """This engine's detector: the shared one until settings ask for another
        (``configure.reconfigure``); models stay shared between engines."""
        self.live_detector: FaceDetector = self.build_live_detector()
        """The live loop's (``Settings.live_detector``): often the same object."""
        self.db = open_store(settings)  # SQLite file (SQLCipher with a key), or PostgreSQL
        self.gallery = Gallery(self.db, self.models.embedder.info,
                               allow_model_mismatch=allow_model_mismatch)
        self.attendance = open_attendance(self.db, settings)
        self._retention: retention.RetentionTimer | None = None
        privacy.on_open(self)

    def store_status(self) -> StoreStatus:
        """Online or not, and how many check-ins wait on this kiosk (shared store)."""
        return store_status(self.db, self.attendance)

    def close(self) -> None:
        if self._retention:
            self._retention.stop()
        self.db.close()  # first: a shared store's listener flushes the outbox until then
        self.attendance.close()

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
        """Strict (about 0.1% FPIR on LFW): a labelled person is warned about, not dropped."""
        if self.settings.duplicate_threshold is None:
            return strict_threshold(self.gallery.model, self.threshold)
        return self.settings.duplicate_threshold

    @property
    def outlier_threshold(self) -> float:
        if self.settings.outlier_threshold is None:
            return model_defaults(self.gallery.model).outlier
        return self.settings.outlier_threshold

    def build_live_detector(self) -> FaceDetector:
        """The photo detector when the live loop uses the same kind, else one of its own."""
        if detector_kind(self.settings, live=True) == detector_kind(self.settings):
            return self.detector
        try:
            return self.models.run(build_detector, self.settings, True)
        except KioskError as exc:  # the YuNet file is not there: the live loop still runs
            log.warning("Live loop detects with MTCNN: %s", exc)
            return self.detector

    # ------------------------------------------------------------ building blocks
    def faces(self, rgb: np.ndarray, max_side: int | None = None) -> list[Face]:
        """Every face in a photo, largest first, with its crop; a face that fills the photo
        is looked for again on a padded copy (``Settings.detect_pad``)."""
        found, _ = self.models.run(photo_faces, self.detector, rgb, self.models.embedder.crop,
                                   max_side, self.settings.detect_pad)
        return [Face(d, crop, rgb) for d, crop in found]

    def live_faces(self, rgb: np.ndarray, max_side: int | None = None) -> list[Face]:
        """The same with the live loop's detector (``Settings.live_detector``), without the
        padded retry: a frame without a face is the usual case there."""
        crop = self.models.embedder.crop
        return [Face(d, crop(rgb, d), rgb)
                for d in self.models.run(self.live_detector.detect, rgb, max_side)]

    def quality(self, face: Face) -> str | None:
        """Why ``face`` is too poor to be judged, or None (see quality.py)."""
        d = face.detection
        return quality_problem(min(d.width, d.height), sharpness(face.crop), d.prob,
                               self.settings, d.detector)

    def subject(self, rgb: np.ndarray) -> Face:
        """The one face an enrollment photo is about, if it passes the quality gate."""
        face = subject_face(self.faces(rgb), self.settings.subject_area_ratio)
        problem = self.quality(face)
        if problem:
            raise LowQualityError(f"low quality: {problem}")
        return face

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        return self.models.run(self.models.embedder.embed, crops)

    def rank(self, vectors: np.ndarray, k: int = 2) -> list[list[tuple[str, float]]]:
        """The ``k`` best people per vector by the configured rule (settings.match_rule)."""
        if self.settings.match_rule == "best_sample":
            return self.search_gallery(vectors, k)
        return self.models.run(self.gallery.search_templates, vectors, k)

    def match(self, vectors: np.ndarray) -> list[Match]:
        threshold, margin = self.threshold, self.settings.match_margin
        return [decide(ranked, threshold, margin) for ranked in self.rank(vectors, 2)]

    def search_gallery(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Gallery search on the inference thread: Faiss brings its own OpenMP runtime, and a
        search from another thread left a second team that made later inference 2-3x slower
        (measured by ``python main.py bench``, tuning table)."""
        return self.models.run(self.gallery.search, vectors, k)

    # ------------------------------------------------------------ recognition
    def identify(self, rgb: np.ndarray, liveness: str | None = None) -> list[FaceResult]:
        """Every face with its match; with passive liveness (``liveness``, else the
        check-in setting) a face judged fake is marked and gets no name."""
        faces = self.faces(rgb)
        problems = [self.quality(f) for f in faces]
        judged = [f for f, p in zip(faces, problems) if not p]
        matches = self.match(self.embed([f.crop for f in judged]))
        if uses_passive(liveness or self.checkin_liveness) and judged:
            verdicts = self.check_liveness(rgb, [f.detection.box for f in judged])
            matches = [judge(m, v) for m, v in zip(matches, verdicts)]
        decided = iter(matches)
        return [FaceResult(f.detection.box, f.detection.prob,
                           Match(None, None, -1.0, -1.0, p) if p else next(decided))
                for f, p in zip(faces, problems)]

    @property
    def checkin_liveness(self) -> str:
        return self.settings.liveness if self.settings.liveness_at_checkin else "off"

    def check_liveness(self, rgb: np.ndarray, boxes: list) -> list[LivenessVerdict]:
        """Passive verdicts for faces about to be labelled or registered (not every frame)."""
        scores = self.models.liveness_scores(rgb, boxes)
        threshold = self.settings.liveness_threshold
        return [LivenessVerdict(bool(s >= threshold), float(s)) for s in scores]

    def verify(self, rgb_a: np.ndarray, rgb_b: np.ndarray) -> Verification:
        """1:1 comparison of the subject faces of two photos."""
        crops = []
        for label, rgb in (("first", rgb_a), ("second", rgb_b)):
            try:
                crops.append(subject_face(self.faces(rgb), self.settings.subject_area_ratio).crop)
            except FaceCountError as exc:
                raise FaceCountError(f"{label} image: {exc}") from None
        a, b = self.embed(crops)
        similarity = float(np.dot(a, b))
        return Verification(similarity, float(np.linalg.norm(a - b)),
                            similarity >= self.threshold, self.threshold)

    def search(self, rgb: np.ndarray, k: int = 5) -> tuple[np.ndarray, list[SearchHit]]:
        """The query's subject crop and its ``k`` most similar people with their thumbnails."""
        face = subject_face(self.faces(rgb), self.settings.subject_area_ratio)
        ranked = self.search_gallery(self.embed([face.crop]), k)[0]
        hits = []
        for name, similarity in ranked:
            jpeg = self.gallery.thumbnail(name)
            hits.append(SearchHit(name, similarity, decode_jpeg(jpeg) if jpeg else None))
        return face.crop, hits

    # ------------------------------------------------------------ enrollment
    def enroll(self, name: str, images: list[tuple[str, np.ndarray]], *,
               force: bool = False, strict: bool = True, consent: Consent | None = None,
               actor: str | None = None) -> EnrollReport:
        """Enroll the subject face of each (source, image); photos without exactly one
        subject, or below the quality gate, are skipped with the reason. Raises if nothing
        usable remains. ``strict``/``force``/``consent``: see ``add_crops``."""
        name = normalize_name(name)
        privacy.check_consent(self, name, consent)
        crops, sources, skipped, stored = [], [], [], []
        for source, rgb in images:
            try:
                face = self.subject(rgb)
                crops.append(face.crop)
                stored.append(face.stored())
                sources.append(source)
            except FaceCountError as exc:
                skipped.append((source, str(exc)))
        if not crops:
            reasons = "; ".join(f"{s}: {r}" for s, r in skipped)
            raise FaceCountError(f"nothing to enroll for {name}: {reasons}")
        report = self.add_crops(name, crops, sources, force=force, strict=strict,
                                consent=consent, actor=actor, stored=stored)
        report.skipped = skipped
        return report

    def enroll_crops(self, name: str, crops: list[np.ndarray], sources: list[str], *,
                     force: bool = False, consent: Consent | None = None,
                     actor: str | None = None, stored: list[StoredCrop | None] | None = None
                     ) -> Person:
        """Store ready-made crops (the camera's) as samples of ``name``; refuses a face
        that reaches anyone's recognition threshold unless ``force`` (the window asks)."""
        report = add_crops(self, name, crops, sources, force=force, strict=True,
                           consent=consent, actor=actor, stored=stored,
                           duplicate_level=self.threshold)
        assert report.person is not None
        return report.person

    def add_crops(self, name: str, crops: list[np.ndarray], sources: list[str], *,
                  force: bool = False, strict: bool = True, consent: Consent | None = None,
                  actor: str | None = None,
                  stored: list[StoredCrop | None] | None = None) -> EnrollReport:
        """Store crops as samples of ``name`` and say what looked wrong.

        A probable duplicate (most faces match another person's template at the strict
        duplicate threshold) raises DuplicateFaceError when ``strict`` and not ``force``;
        otherwise the person is enrolled and the report carries the warning: a labelled
        photo says who it is. Samples far from the person's others are flagged as probable
        wrong photos and kept out of the template, unless ``force``. Without ``consent``
        when ``require_consent`` applies (and none is on record) nothing is processed;
        the consent and the audit row are stored with ``actor`` (default: the front end).
        """
        return add_crops(self, name, crops, sources, force=force, strict=strict,
                         consent=consent, actor=actor, stored=stored)

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

    def export_person(self, name: str, out, *, actor: str | None = None,
                      overwrite: bool = False) -> dict[str, int]:
        """Subject access request: a zip of everything held about ``name`` (mode 0600;
        an existing ``out`` is replaced only with ``overwrite``)."""
        from desktop.engine.privacy.export import export_person
        return export_person(self, name, out, actor or self.frontend, overwrite=overwrite)

    def reembed(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Make the loaded model the gallery's active one without re-enrolling anyone
        (``reembed --model``; see gallery/reembed.py for what older samples allow)."""
        from desktop.engine.gallery.reembed import reembed_vectors
        rows = self.gallery.reembed_inputs()
        if not rows and not self.gallery.model_mismatch:
            raise KioskError("nothing to re-embed")
        vectors = reembed_vectors(self, self.models.embedder, rows, progress)
        self.gallery.replace_embeddings(vectors)
        audit.record(self.db, "reembed", self.frontend, samples=len(rows),
                     model=self.gallery.model.name)
        return len(rows)
