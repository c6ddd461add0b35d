"""Enrolled people and their face samples, with a Faiss index derived from the database.

The store is the truth; the index, the names and the templates searched are derived from
it and kept in step by ``GalleryIndex`` (gallery/derived.py).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop.engine.attendance import checkins as attendance
from desktop.engine.core.errors import KioskError, ModelMismatchError, StoreOfflineError, UnknownPersonError
from desktop.engine.core.images import encode_jpeg
from desktop.engine.core.names import check_distinct, name_key, normalize_name
from desktop.engine.core.stored_crop import StoredCrop
from desktop.engine.core.types import EMBEDDING_DIM, ModelInfo, Person
from desktop.engine.decisions.matching import default_threshold
from desktop.engine.gallery.derived import GalleryIndex
from desktop.engine.gallery.roster import list_people
from desktop.engine.storage import embeddings as modelstore
from desktop.engine.storage.store import Store, describe

log = logging.getLogger(__name__)

OLD_DEFAULT_THRESHOLD = "0.55"


@dataclass(frozen=True)
class DeleteReport:
    name: str
    samples: int
    checkins: int
    presence_days: int
    kept_attendance: bool


def find_person(rows: list[tuple[int, str]], name: str) -> tuple[int, str] | None:
    """The (id, stored name) among ``rows`` that ``name`` refers to (by ``name_key``)."""
    key = name_key(name)
    return next(((pid, stored) for pid, stored in rows if name_key(stored) == key), None)


class Gallery:
    """People and samples in the store; nearest-person search through Faiss."""

    def __init__(self, db: Store, model: ModelInfo, *, allow_model_mismatch: bool = False) -> None:
        self.db = db
        self.model = model
        self.index = GalleryIndex(db, int(getattr(model, "dim", 0) or EMBEDDING_DIM),
                                  lambda: self.model_mismatch)
        """The derived index, names and templates; its lock guards them and our writes."""
        try:
            self._claim_model(allow_model_mismatch)
        except StoreOfflineError:  # started offline: the cached index says which model
            log.warning("Shared store unreachable: model check waits for it")
        self.index.load()

    # ---------------------------------------------------------------- model & settings
    def _claim_model(self, allow_mismatch: bool) -> None:
        stored = self.db.get_meta("model_id")
        count = self.db.query("SELECT COUNT(*) FROM samples")[0][0]
        if stored == self.model.model_id:
            old_default = self.db.get_meta("threshold") == OLD_DEFAULT_THRESHOLD
            known = modelstore.model_threshold(self.db, self.model.model_id) is not None
            if old_default or not known:
                with self.db.transaction() as cur:
                    if old_default:
                        # the best-sample default of earlier versions, never calibrated
                        # (calibrate writes four decimals): the template rule needs its own
                        cur.set_meta("threshold", default_threshold(self.model))
                    modelstore.ensure_model(cur, self.model, self.threshold)
            return
        if stored is not None and count and not allow_mismatch:
            name = self.db.get_meta("model_name", "?")
            raise ModelMismatchError(
                f"{describe(self.db)} holds {count} embeddings made by model {name} ({stored}); the "
                f"loaded model is {self.model.name} ({self.model.model_id}). Load the same "
                f"model with --model/--weights, or run `python main.py reembed --model ...` to "
                f"re-embed the stored faces with the loaded model (nobody is re-enrolled).")
        if stored is None or not count:
            with self.db.transaction() as cur:
                modelstore.ensure_model(cur, self.model, default_threshold(self.model))
                cur.set_meta("model_id", self.model.model_id)
                cur.set_meta("model_name", self.model.name)
                cur.set_meta("threshold", modelstore.model_threshold_in(cur, self.model.model_id))

    @property
    def model_mismatch(self) -> bool:
        return self.db.get_meta("model_id") != self.model.model_id

    @property
    def threshold(self) -> float:
        value = self.db.get_meta("threshold")
        return float(value) if value is not None else default_threshold(self.model)

    def set_threshold(self, value: float) -> None:
        """The site's threshold, remembered for the active model (a switch back restores it)."""
        if not -1.0 <= value <= 1.0:
            raise KioskError(f"threshold {value} is outside [-1, 1]")
        with self.db.transaction() as cur:
            cur.set_meta("threshold", f"{value:.4f}")
            modelstore.set_model_threshold(cur, self.model.model_id, value)

    # ---------------------------------------------------------------- derived index
    @property
    def dim(self) -> int:
        """Vector length; taken from the stored vectors when there are any."""
        return self.index.dim

    @property
    def persist_index(self) -> bool:
        return self.index.persist

    def refresh(self) -> None:
        """Pick up commits made by other processes (cheap when nothing changed), and finish
        a deletion's checkpoint that a reader had held up."""
        self.index.refresh()

    # ---------------------------------------------------------------- queries
    def people(self) -> list[Person]:
        return list_people(self.db)

    def _person_id(self, name: str) -> int | None:
        found = find_person(self.db.query("SELECT id, name FROM people"), name)
        return found[0] if found else None

    def person(self, name: str) -> Person:
        pid = self._person_id(name)
        rows = self.db.query("SELECT p.id, p.name, p.created_at, COUNT(s.id) FROM people p "
                             "LEFT JOIN samples s ON s.person_id = p.id WHERE p.id = ? "
                             "GROUP BY p.id", (pid,)) if pid is not None else []
        if not rows:
            raise UnknownPersonError(f"no enrolled person named {name!r}")
        return Person(*rows[0])

    def thumbnail(self, name: str) -> bytes | None:
        """The JPEG face crop of the person's first sample."""
        pid = self._person_id(name)
        rows = self.db.query("SELECT crop FROM samples WHERE person_id = ? ORDER BY id LIMIT 1",
                             (pid,)) if pid is not None else []
        return rows[0][0] if rows else None

    def crops(self) -> list[tuple[int, bytes]]:
        return self.db.query("SELECT id, crop FROM samples ORDER BY id")

    def reembed_inputs(self) -> list[tuple[int, bytes, bytes | None, str | None]]:
        """(sample id, model crop, neutral face or None, its geometry) of every sample."""
        return self.db.query("SELECT id, crop, face, face_meta FROM samples ORDER BY id")

    @property
    def size(self) -> int:
        return len(self.index.names)

    @property
    def sample_count(self) -> int:
        return self.index.faiss_index.ntotal

    def search(self, vectors: np.ndarray, k: int = 2) -> list[list[tuple[str, float]]]:
        """For each query vector, the ``k`` most similar *people* (best sample each), best first."""
        self.refresh()
        return self.index.search(vectors, k)

    def search_templates(self, vectors: np.ndarray, k: int = 2) -> list[list[tuple[str, float]]]:
        """For each query vector, the ``k`` people with the most similar templates."""
        self.refresh()
        return self.index.search_templates(vectors, k)

    def person_vectors(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The person's sample vectors and their in-template flags ([] for a new name)."""
        rows = self.db.query("SELECT s.embedding, s.in_template FROM samples s JOIN people p "
                             "ON p.id = s.person_id WHERE p.name = ? ORDER BY s.id", (name,))
        return self.index.vectors([r[0] for r in rows]), np.array([bool(r[1]) for r in rows], bool)

    # ---------------------------------------------------------------- writes
    def add_samples(self, name: str, vectors: np.ndarray, crops: list[np.ndarray],
                    sources: list[str], in_template: list[bool] | None = None,
                    stored: list[StoredCrop | None] | None = None,
                    keep_crops: bool = True) -> Person:
        """Store samples (creating the person if new) in one transaction, then index them.

        ``in_template`` False marks a sample as a probable wrong photo: it is stored and
        searchable, but left out of the person's template. ``stored``: each sample's
        model-neutral crop, which lets ``reembed`` switch to another model later. Without
        ``keep_crops`` no face image is stored (an empty crop blob, no model-neutral crop)."""
        name = normalize_name(name)
        if self.model_mismatch:
            raise ModelMismatchError("the database holds another model's embeddings; "
                                     "run `python main.py reembed` first")
        vectors = np.ascontiguousarray(vectors, np.float32)
        self.index.fit_dim(vectors.shape[1])
        now = time.time()
        jpegs = [encode_jpeg(crop) if keep_crops else b"" for crop in crops]
        flags = [True] * len(vectors) if in_template is None else [bool(f) for f in in_template]
        keep = stored if stored is not None and keep_crops else [None] * len(vectors)
        faces = [modelstore.face_columns(s) for s in keep]
        with self.index.lock:
            with self.db.transaction() as cur:
                rows = cur.execute("SELECT id, name FROM people").fetchall()
                row = find_person(rows, name)
                if row is None:  # a new person must not pass for one already enrolled
                    check_distinct(name, [stored for _, stored in rows])
                pid: Any = row[0] if row else cur.execute(
                    "INSERT INTO people(name, created_at) VALUES (?, ?)", (name, now)).lastrowid
                ids: list[Any] = []
                for vector, jpeg, source, flag, (face, meta) in zip(vectors, jpegs, sources,
                                                                    flags, faces):
                    ids.append(cur.execute(
                        "INSERT INTO samples(person_id, embedding, crop, source, model_id, "
                        "created_at, in_template, face, face_meta) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (pid, np.asarray(vector, np.float32).tobytes(), jpeg, source,
                         self.model.model_id, now, int(flag), face, meta)).lastrowid)
                modelstore.insert_vectors(cur, self.model.model_id, dict(zip(ids, vectors)))
                generation = self.index.bump(cur)
            stored_name = self.db.query("SELECT name FROM people WHERE id = ?", (pid,))[0][0]
            self.index.added(pid, stored_name, ids, vectors, flags, generation)
        log.info("Enrolled %d sample(s) for person #%d", len(ids), pid)
        return self.person(stored_name)

    def delete_person(self, name: str, keep_attendance: bool = False) -> DeleteReport:
        """Remove the person, every sample and crop, their index entries and (by default)
        their attendance; with ``keep_attendance`` only names and times are kept."""
        with self.index.lock:
            person = self.person(name)
            with self.db.transaction() as cur:
                samples = cur.execute("DELETE FROM samples WHERE person_id = ?",
                                      (person.id,)).rowcount
                checkins, days = attendance.detach_person(cur, person.id, keep_attendance)
                cur.execute("DELETE FROM people WHERE id = ?", (person.id,))
                generation = self.index.bump(cur)
            self.index.removed(person.id, generation)
        self.db.checkpoint()
        # ids, not names: the log file must not outlive a deleted person
        log.info("Deleted person #%d: %d samples, %d check-ins (%s)", person.id, samples,
                 checkins, "kept" if keep_attendance else "removed")
        return DeleteReport(person.name, samples, checkins, days, keep_attendance)

    def rename(self, old: str, new: str) -> Person:
        person = self.person(old)
        new = normalize_name(new)
        clash = self._person_id(new)
        if clash is not None and clash != person.id:
            raise KioskError(f"there is already a person named {new!r}")
        check_distinct(new, [p.name for p in self.people() if p.id != person.id])
        with self.index.lock:
            with self.db.transaction() as cur:
                cur.execute("UPDATE people SET name = ? WHERE id = ?", (new, person.id))
                attendance.rename_person(cur, person.id, new)
                generation = self.index.bump(cur)
            self.index.renamed(person.id, new, generation)
        return self.person(new)

    def replace_embeddings(self, vectors: dict[int, np.ndarray]) -> None:
        """Re-embedding: make the loaded model the active one, with ``vectors`` (every
        sample's), keeping the other models' vectors; the threshold becomes the one stored
        for this model (its default the first time)."""
        with self.index.lock:
            with self.db.transaction() as cur:
                cur.executemany("UPDATE samples SET embedding = ?, model_id = ? WHERE id = ?",
                                [(v.astype(np.float32).tobytes(), self.model.model_id, sid)
                                 for sid, v in vectors.items()])
                modelstore.insert_vectors(cur, self.model.model_id, vectors)
                modelstore.ensure_model(cur, self.model, default_threshold(self.model))
                cur.set_meta("model_id", self.model.model_id)
                cur.set_meta("model_name", self.model.name)
                cur.set_meta("threshold", modelstore.model_threshold_in(cur, self.model.model_id))
                self.index.bump(cur)
            self.index.load()
