"""Anonymous visitor ids: a short-lived gallery of strangers' face templates.

An unknown face gets a random pseudonym (``v-7f3a``); when the same stranger comes back
within ``visitor_memory_hours`` their face matches a template here and they get the same
id, so foot traffic can count unique visitors. Privacy by design: the ids are random (not
derived from the face), templates are never linked to a name, and they are forgotten once
the memory window since the visitor was first seen has passed. They live in this process's
memory, or in the store only when it is protected: an encrypted (SQLCipher) file, or a
shared PostgreSQL store with the site's key, where each vector is sealed with AES-GCM
before it leaves the kiosk (so the database server never holds a template in clear).
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from desktop.engine.core.errors import KioskError
from desktop.engine.decisions.matching import visitor_threshold

if TYPE_CHECKING:
    from desktop.engine.settings.config import Settings

log = logging.getLogger(__name__)

MAX_VIEWS = 5
"""Templates kept per visitor: new views (other poses, light) while fewer than this."""

SCHEMA = """CREATE TABLE IF NOT EXISTS visitor_templates (
    id         INTEGER PRIMARY KEY,
    visitor    TEXT NOT NULL,
    model_id   TEXT NOT NULL,
    vector     BLOB NOT NULL,
    first_seen REAL NOT NULL,
    last_seen  REAL NOT NULL
)"""
"""One row per view; ``first_seen`` is the visitor's, so expiry is one DELETE. Written
only in an encrypted file, or sealed (``Sealer``) on the shared store."""


def ensure_schema(cur) -> None:
    """The SQLite file's table (PostgreSQL's comes from pg_schema's migrations)."""
    cur.execute(SCHEMA)


@dataclass
class View:
    visitor: str
    vector: np.ndarray
    first_seen: float


class Sealer:
    """AES-256-GCM of template bytes under a key derived from the site's secret."""

    def __init__(self, secret: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        key = hashlib.pbkdf2_hmac("sha256", secret.encode(), b"face-kiosk visitor templates",
                                  100_000)
        self._aead = AESGCM(key)

    def seal(self, data: bytes, label: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, label.encode())

    def open(self, blob: bytes, label: str) -> bytes:
        from cryptography.exceptions import InvalidTag
        try:
            return self._aead.decrypt(bytes(blob[:12]), bytes(blob[12:]), label.encode())
        except InvalidTag:
            raise KioskError("a visitor template on the shared store does not open with this "
                             "kiosk's key: every kiosk of the site needs the same key "
                             "($FACE_KIOSK_KEY)") from None


class _Memory:
    """Templates in this process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: list[tuple[str, str, np.ndarray, float]] = []

    @contextmanager
    def session(self) -> Iterator[_Memory]:
        with self._lock:
            yield self

    def forget(self, before: float, ids: set[str] | None = None) -> int:
        kept = [v for v in self._views if v[3] >= before and (ids is None or v[0] not in ids)]
        removed, self._views = len(self._views) - len(kept), kept
        return removed

    def views(self, model: str) -> list[View]:
        return [View(v, vec, first) for v, m, vec, first in self._views if m == model]

    def add(self, view: View, model: str, ts: float) -> None:
        self._views.append((view.visitor, model, view.vector, view.first_seen))


class _Stored:
    """Templates in the store: one write transaction per decision (on PostgreSQL it holds
    the store's write lock, so two kiosks never give one stranger two ids at once)."""

    def __init__(self, db, sealer: Sealer | None) -> None:
        self.db, self.sealer = db, sealer
        self._cur = None

    @contextmanager
    def session(self) -> Iterator[_Stored]:
        with self.db.transaction() as cur:
            self._cur = cur
            try:
                yield self
            finally:
                self._cur = None

    def _execute(self, sql: str, params: tuple = ()):
        assert self._cur is not None, "only inside session()"
        return self._cur.execute(sql, params)

    def forget(self, before: float, ids: set[str] | None = None) -> int:
        if ids is not None:
            return sum(self._execute("DELETE FROM visitor_templates WHERE visitor = ?",
                                     (vid,)).rowcount for vid in ids)
        return self._execute("DELETE FROM visitor_templates WHERE first_seen < ?",
                             (before,)).rowcount

    def views(self, model: str) -> list[View]:
        rows = self._execute("SELECT visitor, vector, first_seen FROM visitor_templates "
                                 "WHERE model_id = ?", (model,)).fetchall()
        out = []
        for visitor, blob, first in rows:
            data = self.sealer.open(blob, visitor) if self.sealer else bytes(blob)
            out.append(View(visitor, np.frombuffer(data, np.float32), first))
        return out

    def add(self, view: View, model: str, ts: float) -> None:
        data = np.asarray(view.vector, np.float32).tobytes()
        blob = self.sealer.seal(data, view.visitor) if self.sealer else data
        self._execute("INSERT INTO visitor_templates(visitor, model_id, vector, first_seen, "
                      "last_seen) VALUES (?, ?, ?, ?, ?)",
                      (view.visitor, model, blob, view.first_seen, ts))


class VisitorGallery:
    """Who, among today's strangers, an unknown face is; shared by the live loops."""

    def __init__(self, memory_hours: float = 24.0, threshold: float | None = None,
                 backend: _Memory | _Stored | None = None) -> None:
        self.memory_seconds = memory_hours * 3600.0
        self.threshold = threshold
        """None: the model's own (``matching.visitor_threshold``)."""
        self.backend = backend or _Memory()

    @property
    def stored(self) -> bool:
        """Templates are in the (encrypted or sealed) store, not only in memory."""
        return isinstance(self.backend, _Stored)

    def assign(self, vector: np.ndarray, model: str, ts: float | None = None) -> str:
        """The id of the visitor ``vector`` (a unit-length face embedding) belongs to; a
        new random id when nobody remembered is similar enough."""
        ts = time.time() if ts is None else ts
        vector = np.asarray(vector, np.float32).ravel()
        threshold = self.threshold if self.threshold is not None else visitor_threshold(model)
        with self.backend.session() as session:
            session.forget(ts - self.memory_seconds)
            views = session.views(model)
            best, similarity = None, -2.0
            if views:
                scores = np.stack([v.vector for v in views]) @ vector
                top = int(np.argmax(scores))
                best, similarity = views[top], float(scores[top])
            if best is not None and similarity >= threshold:
                if sum(v.visitor == best.visitor for v in views) < MAX_VIEWS:
                    session.add(View(best.visitor, vector, best.first_seen), model, ts)
                return best.visitor
            taken = {v.visitor for v in views}
            visitor = new_id(taken)
            session.add(View(visitor, vector, ts), model, ts)
            return visitor

    def forget(self, ids: set[str] | None = None, now: float | None = None) -> int:
        """Drop expired templates, or every template of ``ids`` (a deleted day's traffic).
        Returns the number of templates removed."""
        now = time.time() if now is None else now
        with self.backend.session() as session:
            return session.forget(now - self.memory_seconds, ids)

    def count(self, model: str) -> int:
        """Visitors remembered now for ``model`` (for status and tests)."""
        with self.backend.session() as session:
            return len({v.visitor for v in session.views(model)})


def new_id(taken: set[str]) -> str:
    """A random pseudonym such as ``v-7f3a``: it says nothing about the face."""
    while True:
        visitor = f"v-{secrets.token_hex(2)}"
        if visitor not in taken:
            return visitor


def open_gallery(db, settings: Settings) -> VisitorGallery | None:
    """The visitor gallery ``settings`` ask for over ``db``, or None (visitor ids off).

    Templates go to the store only where they are never in clear: an encrypted SQLite
    file, or the shared store when the site's key (``db_key``) seals them; otherwise they
    stay in this process's memory (on a shared store without a key, each kiosk then has
    its own visitors)."""
    if not settings.visitor_ids:
        return None
    backend: _Memory | _Stored | None = None
    if getattr(db, "encrypted", False):
        backend = _Stored(db, None)
    elif hasattr(db, "on_tick"):
        if settings.db_key:
            backend = _Stored(db, Sealer(settings.db_key))
        else:
            log.warning("Visitor ids on a shared store without a key ($FACE_KIOSK_KEY): "
                        "templates stay in this kiosk's memory, not shared with others")
    return VisitorGallery(settings.visitor_memory_hours, settings.visitor_threshold, backend)


def expire(db, settings: Settings, now: float | None = None) -> int:
    """Retention of the stored templates: those past the memory window, or all of them
    when visitor ids are off. Returns the number removed."""
    if getattr(db, "encrypted", False) or hasattr(db, "on_tick"):
        now = time.time() if now is None else now
        cutoff = now - settings.visitor_memory_hours * 3600.0 if settings.visitor_ids \
            else float("inf")
        with db.transaction() as cur:
            return cur.execute("DELETE FROM visitor_templates WHERE first_seen < ?",
                               (cutoff,)).rowcount
    return 0


class Appearances:
    """Without visitor ids: a new unknown track where a counted one was lost moments ago
    is the same appearance (a detection gap), so one person in view is one visit."""

    def __init__(self, gap_seconds: float = 5.0, min_overlap: float = 0.3) -> None:
        self.gap = gap_seconds
        self.min_overlap = min_overlap
        self._recent: dict[int, tuple[tuple[float, ...], float]] = {}

    def note(self, track_id: int, box: tuple[float, ...], now: float) -> None:
        """A counted unknown track was seen at ``box`` at ``now``."""
        self._recent[track_id] = (tuple(box), now)

    def continues(self, track_id: int, box: tuple[float, ...], first_seen: float) -> bool:
        """Whether a track first seen at ``first_seen`` picks up a recently counted one."""
        from desktop.engine.core.geometry import iou  # live imports this module
        self._recent = {t: seen for t, seen in self._recent.items()
                        if first_seen - seen[1] <= self.gap}
        return any(t != track_id and iou(b, tuple(box)) >= self.min_overlap
                   for t, (b, _) in self._recent.items())
