"""Attendance on the shared store: exact across kiosks, and nothing lost while offline.

Exactness comes from the store: every write transaction holds the database's write lock
(``pg_schema.WRITE_LOCK``), so the cool-down check and the insert of a check-in are one
step for all kiosks together. While the store is unreachable, sightings and visitors go
to the local ``Outbox`` and are replayed, oldest first, when it returns.
"""
from __future__ import annotations

import logging
import threading
import time

from desktop.engine.attendance.checkins import Attendance, CheckIn
from desktop.engine.attendance.outbox import Entry, Outbox
from desktop.engine.core.errors import StoreOfflineError
from desktop.engine.storage.postgres import PgDatabase

log = logging.getLogger(__name__)


class SharedAttendance(Attendance):
    """``Attendance`` whose writes carry idempotency keys and fall back to an outbox."""

    db: PgDatabase

    def __init__(self, db: PgDatabase, outbox: Outbox, **kwargs) -> None:
        self.outbox = outbox
        self._flushing = threading.Lock()
        try:
            super().__init__(db, **kwargs)  # may purge old rows: needs the store
        except StoreOfflineError as exc:
            log.warning("Attendance retention skipped: %s", exc)
        db.on_tick(self.flush)

    @property
    def queued(self) -> int:
        """Check-ins and visitors waiting on this kiosk for the store."""
        return len(self.outbox)

    def close(self) -> None:
        """After the store is closed (its listener no longer flushes): the outbox file."""
        self.outbox.close()

    def record_sighting(self, name: str, similarity: float, ts: float | None = None,
                        snapshot: bytes | None = None) -> CheckIn | None:
        """As ``Attendance.record_sighting``; offline (or behind a queue) it is queued and
        None is returned, since only the store can tell whether it opens a check-in."""
        args = {"name": name, "similarity": float(similarity),
                "ts": time.time() if ts is None else ts}
        return self._write(Outbox.new_key(), "sighting", args, snapshot)

    def record_visitor(self, ts: float | None = None, snapshot: bytes | None = None,
                       visitor: str | None = None) -> bool:
        """As ``Attendance.record_visitor``; False when queued (only the store can tell)."""
        args = {"ts": time.time() if ts is None else ts, "visitor": visitor}
        return bool(self._write(Outbox.new_key(), "visitor", args, snapshot))

    def _write(self, key: str, kind: str, args: dict, snapshot: bytes | None):
        if self.db.online and not len(self.outbox):
            try:
                return self._apply(key, kind, args, snapshot)
            except StoreOfflineError:
                pass  # the commit may or may not have happened: the key decides on replay
        self.outbox.put(key, kind, args, snapshot)
        log.info("Store offline: %s queued (%d waiting)", kind, len(self.outbox))
        return None

    def _apply(self, key: str, kind: str, args: dict, snapshot: bytes | None):
        """Write once: the key is claimed in the same transaction as the write."""
        with self.db.transaction() as cur:
            if not cur.claim(key):
                return None
            if kind == "sighting":
                return super().record_sighting(args["name"], args["similarity"], args["ts"],
                                               snapshot)
            return super().record_visitor(args["ts"], snapshot, args.get("visitor"))

    def flush(self) -> int:
        """Send queued entries, oldest first; stops at the first failure. Returns the
        number sent. Called by the store's listener after reconnecting and every poll."""
        if not self._flushing.acquire(blocking=False):
            return 0
        sent = 0
        try:
            while self.db.online:
                batch = self.outbox.peek()
                if not batch:
                    break
                for entry in batch:
                    self._replay(entry)
                    sent += 1
        except StoreOfflineError:
            pass
        finally:
            self._flushing.release()
        if sent:
            log.info("Outbox: sent %d queued write(s), %d waiting", sent, len(self.outbox))
        return sent

    def _replay(self, entry: Entry) -> None:
        self._apply(entry.key, entry.kind, entry.args, entry.snapshot)
        self.outbox.remove(entry.seq)
