"""The gallery's derived data: the Faiss index over every sample, the sample -> person map,
the names and the person templates, and the index-<generation>.faiss file that spares a
rebuild at start-up.

The store is the truth. The index is rebuilt from it when its file is missing or belongs
to another generation (every write bumps ``generation`` in the same transaction), and
when another process (the HTTP service beside the window) has changed the database.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from desktop.engine.core.errors import ModelMismatchError, StoreOfflineError
from desktop.engine.decisions.templates import Templates
from desktop.engine.gallery.faiss_index import build_index, is_exact
from desktop.engine.storage import store_cache
from desktop.engine.storage.store import Store, is_shared

log = logging.getLogger(__name__)


class GalleryIndex:
    """What ``Gallery`` searches, kept in step with the store; ``lock`` guards all of it."""

    def __init__(self, db: Store, dim: int, model_mismatch: Callable[[], bool]) -> None:
        self.db = db
        self.lock = threading.RLock()
        """One lock for the index, the maps and the templates, and for the gallery's
        writes that patch them after their commit."""
        self.dim = dim
        """Vector length; taken from the stored vectors when there are any."""
        self.faiss_index: faiss.Index = build_index(np.zeros((0, self.dim), np.float32),
                                                    np.zeros(0, np.int64))
        self.templates = Templates()
        self.person_of_sample: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self._max_samples = 0
        self._generation = -1
        self._data_version = -1
        self._model_mismatch = model_mismatch
        self.persist = not getattr(db, "encrypted", False)
        """A saved index holds every embedding in clear: never beside an encrypted database."""

    @property
    def index_dir(self) -> Path:
        return self.db.path.parent

    def _index_path(self, generation: int) -> Path:
        return self.index_dir / f"index-{generation}.faiss"

    def _current_generation(self) -> int:
        return int(self.db.get_meta("generation", "0") or 0)

    def load(self) -> None:
        """Load the saved index of the current generation, or rebuild it from the store."""
        with self.lock:
            # Taken before reading: a commit made while we load changes data_version after
            # this point, so the next refresh() sees it (recording it after would hide it).
            version = self.db.data_version()
            generation = self._current_generation()
            try:
                rows = self.db.query("SELECT s.id, s.person_id, p.name FROM samples s "
                                     "JOIN people p ON p.id = s.person_id")
            except StoreOfflineError:
                if not self._load_cached(generation):
                    raise
                self._data_version = version
                return
            self.person_of_sample = {sid: pid for sid, pid, _ in rows}
            self.names = {pid: name for _, pid, name in rows}
            self._load_templates()
            counts: dict[int, int] = defaultdict(int)
            for pid in self.person_of_sample.values():
                counts[pid] += 1
            self._max_samples = max(counts.values(), default=0)
            path = self._index_path(generation)
            index = None
            if self.persist and path.is_file() and not self._model_mismatch():
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
            elif self.shared_cache:
                self._save_people(path)
            self.faiss_index = index
            self._generation = generation
            self._data_version = version

    @property
    def shared_cache(self) -> bool:
        """Keep who the samples are beside the index, for a start while the shared store
        is unreachable (``store_cache``); never beside an encrypted database."""
        return self.persist and is_shared(self.db)

    def _save_people(self, path: Path) -> None:
        store_cache.save_people(path, self.person_of_sample, self.names,
                                self.templates.state())

    def _load_cached(self, generation: int) -> bool:
        """The store is unreachable: the saved index of ``generation`` and its people."""
        path = self._index_path(generation)
        if self._model_mismatch():
            return False
        people = store_cache.load_people(path) if self.shared_cache else None
        if people is None or not path.is_file():
            return False
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            return False
        self.person_of_sample, self.names, state = people
        self.templates.restore(state)
        counts: dict[int, int] = defaultdict(int)
        for pid in self.person_of_sample.values():
            counts[pid] += 1
        self._max_samples = max(counts.values(), default=0)
        self.faiss_index, self._generation = index, generation
        log.warning("Shared store unreachable: recognising from this kiosk's copy "
                    "(generation %d, %d samples)", generation, index.ntotal)
        return True

    def vectors(self, blobs: list[bytes]) -> np.ndarray:
        """Stored embedding blobs as one float32 array (this sets ``dim``)."""
        if blobs:
            self.dim = len(blobs[0]) // 4
        return (np.frombuffer(b"".join(blobs), np.float32).reshape(-1, self.dim) if blobs
                else np.zeros((0, self.dim), np.float32))

    def _load_templates(self) -> None:
        rows = self.db.query("SELECT person_id, embedding, in_template FROM samples "
                             "ORDER BY person_id, id")
        self.templates.clear()
        vectors = self.vectors([r[1] for r in rows])
        by_person: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            by_person[row[0]].append(i)
        for pid, idx in by_person.items():
            self.templates.add(pid, vectors[idx], [bool(rows[i][2]) for i in idx])

    def _rebuild(self, generation: int) -> faiss.Index:
        started = time.perf_counter()
        rows = self.db.query("SELECT id, embedding FROM samples ORDER BY id")
        ids = np.array([r[0] for r in rows], np.int64)
        vectors = self.vectors([r[1] for r in rows])
        index = build_index(vectors, ids)
        log.info("Rebuilt Faiss index from %d samples in %.0f ms", len(rows),
                 (time.perf_counter() - started) * 1000)
        self._save(index, generation)
        return index

    def _save(self, index: faiss.Index, generation: int) -> None:
        """Write index-<generation>.faiss atomically and drop older generations; with an
        encrypted database the index stays in memory only (``storage/sqlcipher.py``)."""
        path = self._index_path(generation)
        if not self.persist:
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
        if self.shared_cache:
            self._save_people(path)
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
            with self.lock:
                if self._current_generation() != self._generation:
                    log.info("Gallery changed by another process: reloading")
                    self.load()
                else:  # only attendance or settings changed
                    self._data_version = version

    # ---------------------------------------------------------------- queries
    def search(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """For each query vector, the ``k`` most similar *people* (best sample each)."""
        with self.lock:
            if self.faiss_index.ntotal == 0 or len(vectors) == 0:
                return [[] for _ in range(len(vectors))]
            # the k-th best person's best sample ranks at most k * max_samples: exact
            depth = min(self.faiss_index.ntotal, k * max(self._max_samples, 1))
            sims, ids = self.faiss_index.search(np.ascontiguousarray(vectors, np.float32), depth)
            results = []
            for row_sims, row_ids in zip(sims, ids):
                best: dict[int, float] = {}
                for sim, sid in zip(row_sims, row_ids):
                    pid = self.person_of_sample.get(int(sid))
                    if pid is not None and pid not in best:
                        best[pid] = float(sim)
                        if len(best) == k:
                            break
                results.append([(self.names[pid], sim) for pid, sim in best.items()])
        return results

    def search_templates(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        with self.lock:
            return [[(self.names[pid], sim) for pid, sim in row]
                    for row in self.templates.search(vectors, k)]

    # ---------------------------------------------------------------- after a write
    def fit_dim(self, dim: int) -> None:
        """Make an empty index take ``dim``-d vectors; refuse them beside other lengths."""
        if self.faiss_index.d != dim:
            if self.faiss_index.ntotal:
                raise ModelMismatchError(f"{dim}-d vectors cannot join a gallery "
                                         f"of {self.faiss_index.d}-d ones")
            self.dim = dim
            self.faiss_index = build_index(np.zeros((0, self.dim), np.float32),
                                           np.zeros(0, np.int64))

    def added(self, pid: int, name: str, ids: list[int], vectors: np.ndarray,
              flags: list[bool], generation: int) -> None:
        """Samples ``ids`` of person ``pid`` were committed in ``generation``."""
        self.faiss_index.add_with_ids(np.ascontiguousarray(vectors, np.float32),
                                      np.array(ids, np.int64))
        self.person_of_sample.update({sid: pid for sid in ids})
        self.names[pid] = name
        self.templates.add(pid, vectors, flags)
        self._max_samples = max(self._max_samples,
                                sum(1 for p in self.person_of_sample.values() if p == pid))
        self.commit(generation)

    def removed(self, pid: int, generation: int) -> None:
        """Person ``pid`` and their samples were deleted in ``generation``."""
        gone = np.array([s for s, p in self.person_of_sample.items() if p == pid], np.int64)
        if is_exact(self.faiss_index):
            self.faiss_index.remove_ids(gone)
            for sid in gone:
                self.person_of_sample.pop(int(sid), None)
            self.names.pop(pid, None)
            self.templates.remove(pid)
            self.commit(generation)
        else:
            self.load()

    def sample_removed(self, pid: int, sid: int, generation: int) -> None:
        """Sample ``sid`` of person ``pid`` was deleted in ``generation``: drop its vector
        and rebuild the person's template from their remaining samples in the store."""
        if not is_exact(self.faiss_index):
            self.load()
            return
        self.faiss_index.remove_ids(np.array([sid], np.int64))
        self.person_of_sample.pop(sid, None)
        rows = self.db.query("SELECT embedding, in_template FROM samples WHERE person_id = ? "
                             "ORDER BY id", (pid,))
        self.templates.remove(pid)
        self.templates.add(pid, self.vectors([r[0] for r in rows]), [bool(r[1]) for r in rows])
        self.commit(generation)

    def renamed(self, pid: int, name: str, generation: int) -> None:
        self.names[pid] = name
        self.commit(generation)

    def bump(self, cur) -> int:
        """Next generation, inside the write's transaction. If another process wrote since
        our index was loaded, our index is marked stale (-1) and reloaded after commit."""
        row = cur.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        current = int(row[0]) if row else 0
        if current != self._generation:
            self._generation = -1
        cur.set_meta("generation", current + 1)
        return current + 1

    def commit(self, generation: int) -> None:
        """After a write: save the patched index, or reload it if it was stale."""
        if self._generation == -1:
            self.load()
            return
        # _data_version stays: our own commits do not change it, and reading it now could
        # swallow a commit another process made since ours
        self._generation = generation
        self._save(self.faiss_index, generation)
