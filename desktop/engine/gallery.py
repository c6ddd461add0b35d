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
from typing import Any

import faiss
import numpy as np

from . import attendance
from .embedding import EMBEDDING_DIM, ModelInfo
from .errors import KioskError, ModelMismatchError, UnknownPersonError
from .images import encode_jpeg
from .index import build_index, is_exact
from .matching import default_threshold
from .names import name_key, normalize_name
from .store import Store, describe
from .templates import Templates

log = logging.getLogger(__name__)

OLD_DEFAULT_THRESHOLD = "0.55"


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


def find_person(rows: list[tuple[int, str]], name: str) -> tuple[int, str] | None:
    """The (id, stored name) among ``rows`` that ``name`` refers to (by ``name_key``)."""
    key = name_key(name)
    return next(((pid, stored) for pid, stored in rows if name_key(stored) == key), None)


class Gallery:
    """People and samples in the store; nearest-person search through Faiss."""

    def __init__(self, db: Store, model: ModelInfo, *, allow_model_mismatch: bool = False) -> None:
        self.db = db
        self.model = model
        self._lock = threading.RLock()
        self.dim = int(getattr(model, "dim", 0) or EMBEDDING_DIM)
        """Vector length; taken from the stored vectors when there are any."""
        self._index: faiss.Index = build_index(np.zeros((0, self.dim), np.float32),
                                               np.zeros(0, np.int64))
        self.templates = Templates()
        self._person_of_sample: dict[int, int] = {}
        self._names: dict[int, str] = {}
        self._max_samples = 0
        self._generation = -1
        self._data_version = -1
        self.persist_index = not getattr(db, "encrypted", False)
        """A saved index holds every embedding in clear: never beside an encrypted database."""
        self._claim_model(allow_model_mismatch)
        self._load_index()

    # ---------------------------------------------------------------- model & settings
    def _claim_model(self, allow_mismatch: bool) -> None:
        stored = self.db.get_meta("model_id")
        count = self.db.query("SELECT COUNT(*) FROM samples")[0][0]
        if stored == self.model.model_id:
            if self.db.get_meta("threshold") == OLD_DEFAULT_THRESHOLD:
                # the best-sample default of earlier versions, never calibrated (calibrate
                # writes four decimals): the template rule needs its own default
                with self.db.transaction() as cur:
                    cur.set_meta("threshold", default_threshold(self.model.name))
            return
        if stored is not None and count and not allow_mismatch:
            name = self.db.get_meta("model_name", "?")
            raise ModelMismatchError(
                f"{describe(self.db)} holds {count} embeddings made by model {name} ({stored}); the "
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
        return int(self.db.get_meta("generation", "0") or 0)

    def _load_index(self) -> None:
        """Load the saved index of the current generation, or rebuild it from SQLite."""
        with self._lock:
            # Taken before reading: a commit made while we load changes data_version after
            # this point, so the next refresh() sees it (recording it after would hide it).
            version = self.db.data_version()
            generation = self._current_generation()
            rows = self.db.query("SELECT s.id, s.person_id, p.name FROM samples s "
                                 "JOIN people p ON p.id = s.person_id")
            self._person_of_sample = {sid: pid for sid, pid, _ in rows}
            self._names = {pid: name for _, pid, name in rows}
            self._load_templates()
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
            self._data_version = version

    def _vectors(self, blobs: list[bytes]) -> np.ndarray:
        if blobs:
            self.dim = len(blobs[0]) // 4
        return (np.frombuffer(b"".join(blobs), np.float32).reshape(-1, self.dim) if blobs
                else np.zeros((0, self.dim), np.float32))

    def _load_templates(self) -> None:
        rows = self.db.query("SELECT person_id, embedding, in_template FROM samples "
                             "ORDER BY person_id, id")
        self.templates.clear()
        vectors = self._vectors([r[1] for r in rows])
        by_person: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            by_person[row[0]].append(i)
        for pid, idx in by_person.items():
            self.templates.add(pid, vectors[idx], [bool(rows[i][2]) for i in idx])

    def _rebuild(self, generation: int) -> faiss.Index:
        started = time.perf_counter()
        rows = self.db.query("SELECT id, embedding FROM samples ORDER BY id")
        ids = np.array([r[0] for r in rows], np.int64)
        vectors = self._vectors([r[1] for r in rows])
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
        # one temporary name per process and thread: two savers of one generation must
        # not write into the same file
        tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            faiss.write_index(index, str(tmp))
            os.replace(tmp, path)
        except (RuntimeError, OSError) as exc:
            log.warning("Could not save the index (%s); it will be rebuilt on next start", exc)
            tmp.unlink(missing_ok=True)
        for old in self.index_dir.glob("index-*.faiss*"):
            if old != path and not old.name.startswith(f"{path.name}."):
                old.unlink(missing_ok=True)  # older generations, and a killed saver's .tmp

    def refresh(self) -> None:
        """Pick up commits made by other processes (cheap when nothing changed), and finish
        a deletion's checkpoint that a reader had held up."""
        if self.db.checkpoint_pending:
            self.db.checkpoint()
        version = self.db.data_version()
        if version != self._data_version:
            with self._lock:
                if self._current_generation() != self._generation:
                    log.info("Gallery changed by another process: reloading")
                    self._load_index()
                else:  # only attendance or settings changed
                    self._data_version = version

    # ---------------------------------------------------------------- queries
    def people(self) -> list[Person]:
        rows = self.db.query("SELECT p.id, p.name, p.created_at, COUNT(s.id) FROM people p "
                             "LEFT JOIN samples s ON s.person_id = p.id GROUP BY p.id "
                             "ORDER BY p.name COLLATE NOCASE")
        return [Person(*row) for row in rows]

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

    def search_templates(self, vectors: np.ndarray, k: int = 2) -> list[list[tuple[str, float]]]:
        """For each query vector, the ``k`` people with the most similar templates."""
        self.refresh()
        with self._lock:
            return [[(self._names[pid], sim) for pid, sim in row]
                    for row in self.templates.search(vectors, k)]

    def person_vectors(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The person's sample vectors and their in-template flags ([] for a new name)."""
        rows = self.db.query("SELECT s.embedding, s.in_template FROM samples s JOIN people p "
                             "ON p.id = s.person_id WHERE p.name = ? ORDER BY s.id", (name,))
        return self._vectors([r[0] for r in rows]), np.array([bool(r[1]) for r in rows], bool)

    # ---------------------------------------------------------------- writes
    def add_samples(self, name: str, vectors: np.ndarray, crops: list[np.ndarray],
                    sources: list[str], in_template: list[bool] | None = None,
                    keep_crops: bool = True) -> Person:
        """Store samples (creating the person if new) in one transaction, then index them.

        ``in_template`` False marks a sample as a probable wrong photo: it is stored and
        searchable, but left out of the person's template. Without ``keep_crops`` the
        face crops are not stored (an empty blob)."""
        name = normalize_name(name)
        if self.model_mismatch:
            raise ModelMismatchError("the database holds another model's embeddings; "
                                     "run `python main.py reembed` first")
        vectors = np.ascontiguousarray(vectors, np.float32)
        if self._index.d != vectors.shape[1]:
            if self._index.ntotal:
                raise ModelMismatchError(f"{vectors.shape[1]}-d vectors cannot join a gallery "
                                         f"of {self._index.d}-d ones")
            self.dim = vectors.shape[1]
            self._index = build_index(np.zeros((0, self.dim), np.float32), np.zeros(0, np.int64))
        now = time.time()
        jpegs = [encode_jpeg(crop) if keep_crops else b"" for crop in crops]
        flags = [True] * len(vectors) if in_template is None else [bool(f) for f in in_template]
        with self._lock:
            with self.db.transaction() as cur:
                row = find_person(cur.execute("SELECT id, name FROM people").fetchall(), name)
                pid: Any = row[0] if row else cur.execute(
                    "INSERT INTO people(name, created_at) VALUES (?, ?)", (name, now)).lastrowid
                ids: list[Any] = []
                for vector, jpeg, source, flag in zip(vectors, jpegs, sources, flags):
                    ids.append(cur.execute(
                        "INSERT INTO samples(person_id, embedding, crop, source, model_id, "
                        "created_at, in_template) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (pid, np.asarray(vector, np.float32).tobytes(), jpeg, source,
                         self.model.model_id, now, int(flag))).lastrowid)
                generation = self._bump(cur)
            stored_name = self.db.query("SELECT name FROM people WHERE id = ?", (pid,))[0][0]
            self._index.add_with_ids(np.ascontiguousarray(vectors, np.float32),
                                     np.array(ids, np.int64))
            self._person_of_sample.update({sid: pid for sid in ids})
            self._names[pid] = stored_name
            self.templates.add(pid, vectors, flags)
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
                self.templates.remove(person.id)
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
        new = normalize_name(new)
        clash = self._person_id(new)
        if clash is not None and clash != person.id:
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
        # _data_version stays: our own commits do not change it, and reading it now could
        # swallow a commit another process made since ours
        self._generation = generation
        self._save(self._index, generation)

