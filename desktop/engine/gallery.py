"""Enrolled people and their face samples, with a Faiss index derived from the database.

The SQLite file is the truth. The index is rebuilt from it when its file is missing or
belongs to another generation (every write bumps ``generation`` in the same
transaction), and when another process (the HTTP service beside the window) has
changed the database.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from . import attendance
from .database import Database
from .embedding import EMBEDDING_DIM, ModelInfo
from .errors import KioskError, ModelMismatchError, UnknownPersonError
from .images import encode_jpeg
from .index import build_index, is_exact
from .matching import default_threshold

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    created_at: float
    samples: int


@dataclass(frozen=True)
class DeleteReport:
    name: str
    samples: int
    checkins: int
    presence_days: int
    kept_attendance: bool


def validate_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise KioskError("a person's name cannot be empty")
    if len(clean) > 100:
        raise KioskError("a person's name is limited to 100 characters")
    return clean


class Gallery:
    """People and samples in SQLite; nearest-person search through Faiss."""

    def __init__(self, db: Database, model: ModelInfo, *, allow_model_mismatch: bool = False) -> None:
        self.db = db
        self.model = model
        self._lock = threading.RLock()
        self._index: faiss.Index = build_index(np.zeros((0, EMBEDDING_DIM), np.float32),
                                               np.zeros(0, np.int64))
        self._person_of_sample: dict[int, int] = {}
        self._names: dict[int, str] = {}
        self._max_samples = 0
        self._generation = -1
        self._data_version = -1
        self.persist_index = not db.encrypted
        """A saved index holds every embedding in clear: never beside an encrypted database."""
        self._claim_model(allow_model_mismatch)
        self._load_index()

    # ---------------------------------------------------------------- model & settings
    def _claim_model(self, allow_mismatch: bool) -> None:
        stored = self.db.get_meta("model_id")
        count = self.db.query("SELECT COUNT(*) FROM samples")[0][0]
        if stored == self.model.model_id:
            return
        if stored is not None and count and not allow_mismatch:
            name = self.db.get_meta("model_name", "?")
            raise ModelMismatchError(
                f"{self.db.path} holds {count} embeddings made by model {name} ({stored}); the "
                f"loaded model is {self.model.name} ({self.model.model_id}). Load the same "
                f"weights with --weights, or run `python main.py reembed` to re-embed the "
                f"stored face crops with the loaded model.")
        if stored is None or not count:
            with self.db.transaction() as cur:
                cur.set_meta("model_id", self.model.model_id)
                cur.set_meta("model_name", self.model.name)
                cur.set_meta("threshold", default_threshold(self.model.name))

    @property
    def model_mismatch(self) -> bool:
        return self.db.get_meta("model_id") != self.model.model_id

    @property
    def threshold(self) -> float:
        value = self.db.get_meta("threshold")
        return float(value) if value is not None else default_threshold(self.model.name)

    def set_threshold(self, value: float) -> None:
        if not -1.0 <= value <= 1.0:
            raise KioskError(f"threshold {value} is outside [-1, 1]")
        with self.db.transaction() as cur:
            cur.set_meta("threshold", f"{value:.4f}")

    # ---------------------------------------------------------------- index upkeep
    @property
    def index_dir(self) -> Path:
        return self.db.path.parent

    def _index_path(self, generation: int) -> Path:
        return self.index_dir / f"index-{generation}.faiss"

    def _current_generation(self) -> int:
        return int(self.db.get_meta("generation", "0"))

    def _load_index(self) -> None:
        """Load the saved index of the current generation, or rebuild it from SQLite."""
        with self._lock:
            generation = self._current_generation()
            rows = self.db.query("SELECT s.id, s.person_id, p.name FROM samples s "
                                 "JOIN people p ON p.id = s.person_id")
            self._person_of_sample = {sid: pid for sid, pid, _ in rows}
            self._names = {pid: name for _, pid, name in rows}
            counts: dict[int, int] = defaultdict(int)
            for pid in self._person_of_sample.values():
                counts[pid] += 1
            self._max_samples = max(counts.values(), default=0)
            path = self._index_path(generation)
            index = None
            if self.persist_index and path.is_file() and not self.model_mismatch:
                try:
                    index = faiss.read_index(str(path))
                    if index.ntotal != len(rows):
                        log.warning("Index %s has %d vectors, database %d: rebuilding",
                                    path.name, index.ntotal, len(rows))
                        index = None
                except RuntimeError as exc:
                    log.warning("Unreadable index %s (%s): rebuilding", path.name, exc)
            if index is None:
                index = self._rebuild(generation)
            self._index = index
            self._generation = generation
            self._data_version = self.db.data_version()

    def _rebuild(self, generation: int) -> faiss.Index:
        started = time.perf_counter()
        rows = self.db.query("SELECT id, embedding FROM samples ORDER BY id")
        ids = np.array([r[0] for r in rows], np.int64)
        vectors = (np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(-1, EMBEDDING_DIM)
                   if rows else np.zeros((0, EMBEDDING_DIM), np.float32))
        index = build_index(vectors, ids)
        log.info("Rebuilt Faiss index from %d samples in %.0f ms", len(rows),
                 (time.perf_counter() - started) * 1000)
        self._save(index, generation)
        return index

    def _save(self, index: faiss.Index, generation: int) -> None:
        """Write index-<generation>.faiss atomically and drop older generations; with an
        encrypted database the index stays in memory only (see README, Privacy)."""
        path = self._index_path(generation)
        if not self.persist_index:
            for old in self.index_dir.glob("index-*.faiss"):
                old.unlink(missing_ok=True)
            return
        tmp = path.with_suffix(".tmp")
        try:
            faiss.write_index(index, str(tmp))
            os.replace(tmp, path)
        except (RuntimeError, OSError) as exc:
            log.warning("Could not save the index (%s); it will be rebuilt on next start", exc)
            tmp.unlink(missing_ok=True)
        for old in self.index_dir.glob("index-*.faiss"):
            if old != path:
                old.unlink(missing_ok=True)

    def refresh(self) -> None:
        """Pick up commits made by other processes (cheap when nothing changed)."""
        if self.db.data_version() != self._data_version:
            with self._lock:
                self._data_version = self.db.data_version()
                if self._current_generation() != self._generation:
                    log.info("Gallery changed by another process: reloading")
                    self._load_index()

    # ---------------------------------------------------------------- queries
    def people(self) -> list[Person]:
        rows = self.db.query("SELECT p.id, p.name, p.created_at, COUNT(s.id) FROM people p "
                             "LEFT JOIN samples s ON s.person_id = p.id GROUP BY p.id "
                             "ORDER BY p.name COLLATE NOCASE")
        return [Person(*row) for row in rows]

    def person(self, name: str) -> Person:
        rows = self.db.query("SELECT p.id, p.name, p.created_at, COUNT(s.id) FROM people p "
                             "LEFT JOIN samples s ON s.person_id = p.id WHERE p.name = ? "
                             "GROUP BY p.id", (name,))
        if not rows:
            raise UnknownPersonError(f"no enrolled person named {name!r}")
        return Person(*rows[0])

    def thumbnail(self, name: str) -> bytes | None:
        """The JPEG face crop of the person's first sample."""
        rows = self.db.query("SELECT s.crop FROM samples s JOIN people p ON p.id = s.person_id "
                             "WHERE p.name = ? ORDER BY s.id LIMIT 1", (name,))
        return rows[0][0] if rows else None

    def crops(self) -> list[tuple[int, bytes]]:
        return self.db.query("SELECT id, crop FROM samples ORDER BY id")

    @property
    def size(self) -> int:
        return len(self._names)

    @property
    def sample_count(self) -> int:
        return self._index.ntotal

    def search(self, vectors: np.ndarray, k: int = 2) -> list[list[tuple[str, float]]]:
        """For each query vector, the ``k`` most similar *people* (best sample each), best first."""
        self.refresh()
        with self._lock:
            if self._index.ntotal == 0 or len(vectors) == 0:
                return [[] for _ in range(len(vectors))]
            # the k-th best person's best sample ranks at most k * max_samples: exact
            depth = min(self._index.ntotal, k * max(self._max_samples, 1))
            sims, ids = self._index.search(np.ascontiguousarray(vectors, np.float32), depth)
            results = []
            for row_sims, row_ids in zip(sims, ids):
                best: dict[int, float] = {}
                for sim, sid in zip(row_sims, row_ids):
                    pid = self._person_of_sample.get(int(sid))
                    if pid is not None and pid not in best:
                        best[pid] = float(sim)
                        if len(best) == k:
                            break
                results.append([(self._names[pid], sim) for pid, sim in best.items()])
        return results

    # ---------------------------------------------------------------- writes
    def add_samples(self, name: str, vectors: np.ndarray, crops: list[np.ndarray],
                    sources: list[str], keep_crops: bool = True) -> Person:
        """Store samples (creating the person if new) in one transaction, then index them;
        without ``keep_crops`` the face crops are not stored (an empty blob)."""
        name = validate_name(name)
        if self.model_mismatch:
            raise ModelMismatchError("the database holds another model's embeddings; "
                                     "run `python main.py reembed` first")
        now = time.time()
        jpegs = [encode_jpeg(crop) if keep_crops else b"" for crop in crops]
        with self._lock:
            with self.db.transaction() as cur:
                row = cur.execute("SELECT id FROM people WHERE name = ?", (name,)).fetchone()
                pid = row[0] if row else cur.execute(
                    "INSERT INTO people(name, created_at) VALUES (?, ?)", (name, now)).lastrowid
                ids = []
                for vector, jpeg, source in zip(vectors, jpegs, sources):
                    ids.append(cur.execute(
                        "INSERT INTO samples(person_id, embedding, crop, source, model_id, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (pid, np.asarray(vector, np.float32).tobytes(), jpeg, source,
                         self.model.model_id, now)).lastrowid)
                generation = self._bump(cur)
            stored_name = self.db.query("SELECT name FROM people WHERE id = ?", (pid,))[0][0]
            self._index.add_with_ids(np.ascontiguousarray(vectors, np.float32),
                                     np.array(ids, np.int64))
            self._person_of_sample.update({sid: pid for sid in ids})
            self._names[pid] = stored_name
            self._max_samples = max(self._max_samples,
                                    sum(1 for p in self._person_of_sample.values() if p == pid))
            self._commit_index(generation)
        log.info("Enrolled %d sample(s) for person #%d", len(ids), pid)
        return self.person(stored_name)

    def delete_person(self, name: str, keep_attendance: bool = False) -> DeleteReport:
        """Remove the person, every sample and crop, their index entries and (by default)
        their attendance; with ``keep_attendance`` only names and times are kept."""
        with self._lock:
            person = self.person(name)
            with self.db.transaction() as cur:
                samples = cur.execute("DELETE FROM samples WHERE person_id = ?",
                                      (person.id,)).rowcount
                checkins, days = attendance.detach_person(cur, person.id, keep_attendance)
                cur.execute("DELETE FROM people WHERE id = ?", (person.id,))
                generation = self._bump(cur)
            gone = np.array([s for s, p in self._person_of_sample.items() if p == person.id],
                            np.int64)
            if is_exact(self._index):
                self._index.remove_ids(gone)
                for sid in gone:
                    self._person_of_sample.pop(int(sid), None)
                self._names.pop(person.id, None)
                self._commit_index(generation)
            else:
                self._load_index()
        self.db.checkpoint()
        # ids, not names: the log file must not outlive a deleted person
        log.info("Deleted person #%d: %d samples, %d check-ins (%s)", person.id, samples,
                 checkins, "kept" if keep_attendance else "removed")
        return DeleteReport(person.name, samples, checkins, days, keep_attendance)

    def rename(self, old: str, new: str) -> Person:
        person = self.person(old)
        new = validate_name(new)
        clash = self.db.query("SELECT id FROM people WHERE name = ?", (new,))
        if clash and clash[0][0] != person.id:
            raise KioskError(f"there is already a person named {new!r}")
        with self._lock:
            with self.db.transaction() as cur:
                cur.execute("UPDATE people SET name = ? WHERE id = ?", (new, person.id))
                attendance.rename_person(cur, person.id, new)
                generation = self._bump(cur)
            self._names[person.id] = new
            self._commit_index(generation)
        return self.person(new)

    def replace_embeddings(self, vectors: dict[int, np.ndarray]) -> None:
        """Re-embedding: swap every sample's vector and claim the database for this model."""
        with self._lock:
            with self.db.transaction() as cur:
                cur.executemany("UPDATE samples SET embedding = ?, model_id = ? WHERE id = ?",
                                [(v.astype(np.float32).tobytes(), self.model.model_id, sid)
                                 for sid, v in vectors.items()])
                cur.set_meta("model_id", self.model.model_id)
                cur.set_meta("model_name", self.model.name)
                cur.set_meta("threshold", default_threshold(self.model.name))
                self._bump(cur)
            self._load_index()

    def _bump(self, cur) -> int:
        """Next generation, inside the write's transaction. If another process wrote since
        our index was loaded, our index is marked stale (-1) and reloaded after commit."""
        row = cur.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        current = int(row[0]) if row else 0
        if current != self._generation:
            self._generation = -1
        cur.set_meta("generation", current + 1)
        return current + 1

    def _commit_index(self, generation: int) -> None:
        """After a write: save the patched index, or reload it if it was stale."""
        if self._generation == -1:
            self._load_index()
            return
        self._generation = generation
        self._data_version = self.db.data_version()
        self._save(self._index, generation)

