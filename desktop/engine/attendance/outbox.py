"""Check-ins and visitor counts that could not reach the shared store, kept on this kiosk
until it returns: a small SQLite file (WAL, synchronous=FULL), so a crash or power cut
while offline loses nothing.

Each entry carries an idempotency key that is recorded, in the same transaction, with
what it wrote to the shared store (table ``applied_ops``): an entry replayed twice (the
kiosk died after the server committed, before the entry was removed here) counts once.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from desktop.engine.core.errors import DatabaseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    seq: int
    key: str
    kind: str
    """'sighting' or 'visitor'."""
    args: dict
    snapshot: bytes | None


class Outbox:
    """A durable FIFO of pending writes; thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                         check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
                self._conn.execute(f"PRAGMA {pragma}")
            self._conn.execute("CREATE TABLE IF NOT EXISTS pending ("
                               "seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, "
                               "kind TEXT NOT NULL, args TEXT NOT NULL, snapshot BLOB, "
                               "queued_at REAL NOT NULL)")
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseError(f"cannot open the check-in outbox {self.path}: {exc}") from None

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex

    def put(self, key: str, kind: str, args: dict, snapshot: bytes | None = None) -> None:
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO pending(key, kind, args, snapshot, "
                               "queued_at) VALUES (?, ?, ?, ?, ?)",
                               (key, kind, json.dumps(args), snapshot, time.time()))

    def peek(self, limit: int = 100) -> list[Entry]:
        """The oldest entries, in the order they were queued."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, key, kind, args, snapshot FROM pending "
                                      "ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [Entry(seq, key, kind, json.loads(args), snap)
                for seq, key, kind, args, snap in rows]

    def remove(self, seq: int) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM pending WHERE seq = ?", (seq,))

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
