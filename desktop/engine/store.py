"""Which store a kiosk uses: the embedded SQLite file (default) or a shared PostgreSQL
database. Front ends and the engine call ``open_store`` and ``open_attendance`` and
never name a backend.
"""
from __future__ import annotations

import socket
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from ..config import Settings
from .attendance import Attendance
from .database import Database


class Store(Protocol):
    """The surface Gallery and Attendance use; both backends provide it."""
    path: Path
    """Its folder holds this kiosk's derived Faiss index."""

    def transaction(self) -> AbstractContextManager: ...
    def query(self, sql: str, params: tuple = ()) -> list[tuple]: ...
    def get_meta(self, key: str, default: str | None = None) -> str | None: ...
    def data_version(self) -> int: ...
    checkpoint_pending: bool
    def checkpoint(self) -> bool: ...
    def close(self) -> None: ...


def is_shared(db: object) -> bool:
    return hasattr(db, "on_tick")


def store_online(db: object) -> bool:
    """For a status bar: False while the shared store is unreachable (SQLite: always True)."""
    return bool(getattr(db, "online", True))


def kiosk_name(settings: Settings) -> str:
    return settings.kiosk_name or socket.gethostname()


def open_store(settings: Settings) -> Store:
    if settings.db_url:
        from .pg_database import PgDatabase
        return PgDatabase(settings.db_url, settings.db_dir,
                          poll_seconds=settings.store_poll_seconds)
    return Database(settings.db_path)


def open_attendance(db: Store, settings: Settings) -> Attendance:
    """Attendance over ``db``; on a shared store with the local outbox behind it."""
    options = dict(cooldown_minutes=settings.cooldown_minutes,
                   retention_days=settings.retention_days,
                   store_checkin_snapshots=settings.store_checkin_snapshots,
                   store_visitor_snapshots=settings.store_visitor_snapshots,
                   kiosk_name=kiosk_name(settings))
    if is_shared(db):
        from .outbox import Outbox
        from .shared_attendance import SharedAttendance
        return SharedAttendance(db, Outbox(db.path.parent / "outbox.sqlite3"), **options)
    return Attendance(db, **options)


def describe(db: object) -> str:
    """What to call the store in messages: a file path or a redacted URL."""
    return getattr(db, "label", None) or str(getattr(db, "path", db))


__all__ = ["Store", "open_store", "open_attendance", "store_online",
                          "kiosk_name", "describe", "is_shared"]
