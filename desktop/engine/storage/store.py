"""Which store a kiosk uses: the embedded SQLite file (default) or a shared PostgreSQL
database. Front ends and the engine call ``open_store`` (and
``attendance.opening.open_attendance``) and never name a backend.
"""
from __future__ import annotations

import socket
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from desktop.engine.settings.config import Settings
from desktop.engine.settings.location import URL_LIKE, check_location, is_postgres_url
from desktop.engine.storage.kind import is_shared
from desktop.engine.storage.sqlite import Database

if TYPE_CHECKING:  # psycopg is imported only when a PostgreSQL URL is configured
    pass


class Rows(Protocol):
    """What a statement run in a transaction returns (sqlite3's cursor, or its stand-in)."""
    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Cursor(Protocol):
    """The cursor a write transaction hands out, in the engine's (SQLite) dialect."""
    def execute(self, sql: str, params: tuple = ()) -> Rows: ...
    def executemany(self, sql: str, rows: list[tuple]) -> Rows: ...
    def set_meta(self, key: str, value: object) -> None: ...


class Store(Protocol):
    """The surface Gallery and Attendance use; both backends provide it."""
    path: Path
    """Its folder holds this kiosk's derived Faiss index."""

    def transaction(self) -> AbstractContextManager[Cursor]: ...
    def query(self, sql: str, params: tuple = ()) -> list[tuple]: ...
    def get_meta(self, key: str, default: str | None = None) -> str | None: ...
    def data_version(self) -> int: ...
    checkpoint_pending: bool
    def checkpoint(self) -> bool: ...
    def close(self) -> None: ...


def store_online(db: object) -> bool:
    """For a status bar: False while the shared store is unreachable (SQLite: always True)."""
    return bool(getattr(db, "online", True))


@dataclass(frozen=True)
class StoreStatus:
    """For a status bar: which store, whether it answers, what waits for it here."""
    shared: bool
    online: bool
    queued: int
    """Sightings and visitor counts in this kiosk's outbox (0 on SQLite)."""
    label: str


def kiosk_name(settings: Settings) -> str:
    return settings.kiosk_name or socket.gethostname()


def open_store(settings: Settings) -> Store:
    folder = str(settings.db_dir)
    if not settings.db_url and URL_LIKE.match(folder) and ":/" in folder:
        check_location(folder)  # a URL that became a Path ("//" -> "/") on the way here
    if settings.db_url:
        from desktop.engine.storage.postgres import PgDatabase
        return PgDatabase(settings.db_url, settings.db_dir,
                          poll_seconds=settings.store_poll_seconds)
    return Database(settings.db_path, key=settings.db_key)  # SQLCipher when a key is set


def describe(db: object) -> str:
    """What to call the store in messages: a file path or a redacted URL."""
    return getattr(db, "label", None) or str(getattr(db, "path", db))


__all__ = ["Store", "Cursor", "Rows", "open_store", "store_online", "kiosk_name", "describe",
           "is_shared", "check_location", "is_postgres_url", "StoreStatus"]
