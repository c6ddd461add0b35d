"""PostgreSQL as the shared store of several kiosks, with the surface of ``Database``.

Same contract as the SQLite backend: ``transaction()`` (one serialised write
transaction), ``query()``, ``get_meta``, ``data_version()``, ``checkpoint()``,
``close()``, and ``path`` whose folder holds this kiosk's cached Faiss index. On top:

* a listener thread per process (LISTEN on ``pg_schema.NOTIFY_CHANNEL``) that reloads
  the site's settings (table ``meta``) and bumps ``data_version()`` when another kiosk
  changes the gallery, so ``Gallery.refresh`` reloads its index within ~a second; it
  also re-reads ``meta`` every ``poll_seconds`` in case a notification was missed;
* ``online``: False from the first failed statement until the listener reconnects;
  while offline, writes fail at once with ``StoreOfflineError`` (no waiting per frame)
  and ``get_meta`` answers from the last copy, so recognition goes on;
* ``on_tick(callback)``: called on the listener thread after each reconnect and poll
  (the attendance outbox flushes from there).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from desktop.engine.core.errors import DatabaseError, StoreOfflineError
from desktop.engine.storage import store_cache
from desktop.engine.storage.pg_cursor import PgCursor
from desktop.engine.storage.pg_schema import NOTIFY_CHANNEL, WRITE_LOCK, migrate, to_postgres

log = logging.getLogger(__name__)

__all__ = ["PgDatabase", "StoreOfflineError", "redact"]


def redact(url: str) -> str:
    """host:port/dbname, never the password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"


VACUUM_TABLES = ("samples", "embeddings", "people", "checkins", "presence")
"""Where a deleted person's bytes were: embeddings and crops, name, check-in snapshots."""
VACUUM_LOCK_WAIT_S = 2.0
VACUUM_RETRY_SECONDS = 10.0


class PgDatabase:
    """A connection pool, serialised write transactions and a change listener."""

    def __init__(self, url: str, local_dir: Path, *, poll_seconds: float = 1.0,
                 connect_timeout: float = 3.0, pool_size: int = 4) -> None:
        self.url = url
        self.label = f"postgresql://{redact(url)}"
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", redact(url))
        self.path = Path(local_dir) / "shared-cache" / safe / "gallery"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.poll_seconds = poll_seconds
        self.connect_timeout = connect_timeout
        self._meta: dict[str, str] = {}
        self.checkpoint_pending = False
        """A VACUUM after a deletion could not complete yet (retried by refresh)."""
        self._vacuumed_at = 0.0
        self._version = 0
        self._state = threading.Lock()
        self._local = threading.local()
        self._online = threading.Event()
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._tick_callbacks: list[Callable[[], object]] = []
        self._pool_size = pool_size
        self._pool: ConnectionPool | None = None
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=self._timeout_s,
                                 application_name="face-kiosk") as conn:
                self._meta = self._migrate(conn)
        except psycopg.OperationalError as exc:
            self._start_offline(exc)
        except psycopg.Error as exc:
            raise DatabaseError(f"{self.label}: {_first_line(exc)}") from None
        else:
            self._pool = self._new_pool()
            self._online.set()
        self._listener = threading.Thread(target=self._listen, name="store-listener",
                                          daemon=True)
        self._listener.start()

    def _migrate(self, conn: psycopg.Connection) -> dict[str, str]:
        """Bring the schema up to date (once per process); the store's meta."""
        found, now = migrate(conn)
        if found != now:
            log.info("Shared database schema upgraded from v%d to v%d", found, now)
        self._migrated = True
        return self._read_meta(conn, self.path.parent)

    def _start_offline(self, exc: BaseException) -> None:
        """Unreachable at start-up: run from this kiosk's copy of meta (``store_cache``)
        until the listener reaches the store; without a copy there is nothing to run."""
        self._migrated = False
        cached = store_cache.load_meta(self.path.parent)
        if cached is None:
            raise StoreOfflineError(
                f"cannot reach the shared database {self.label} ({_first_line(exc)}), and "
                f"this kiosk has no copy of it yet: it must reach it once") from None
        self._meta = cached
        log.warning("Shared database %s is unreachable (%s): starting from this kiosk's "
                    "copy; enrolling waits until it returns", self.label, _first_line(exc))

    @property
    def _timeout_s(self) -> int:
        return max(1, int(round(self.connect_timeout)))

    def _new_pool(self) -> ConnectionPool:
        return ConnectionPool(self.url, open=True, min_size=1, max_size=self._pool_size,
                              kwargs={"connect_timeout": self._timeout_s,
                                      "application_name": "face-kiosk"},
                              check=ConnectionPool.check_connection, name="face-kiosk")

    # ------------------------------------------------------------------ state
    @property
    def online(self) -> bool:
        return self._online.is_set()

    def on_tick(self, callback: Callable[[], object]) -> None:
        self._tick_callbacks.append(callback)

    def _offline(self, exc: BaseException) -> StoreOfflineError:
        if self._online.is_set():
            log.warning("Shared database %s is offline: %s", self.label, _first_line(exc))
        self._online.clear()
        self._wake.set()
        return StoreOfflineError(
            f"the shared database {self.label} is unreachable; enrolling, renaming and "
            f"deleting are refused until it returns (recognition goes on, check-ins are "
            f"queued on this kiosk)")

    # ------------------------------------------------------------------ the contract
    @contextmanager
    def transaction(self) -> Iterator[PgCursor]:
        """One write transaction, serialised with every other writer of the database;
        nested calls on the same thread join the outer one."""
        outer = getattr(self._local, "cursor", None)
        if outer is not None:
            yield outer
            return
        with self._connection() as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                cursor = PgCursor(conn.cursor())
                self._local.cursor = cursor
                try:
                    yield cursor
                finally:
                    self._local.cursor = None
            if cursor.wrote_meta:
                meta = self._read_meta(conn, self.path.parent)
                with self._state:
                    self._meta = meta

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        outer = getattr(self._local, "cursor", None)
        if outer is not None:
            return outer.execute(sql, params).fetchall()
        with self._connection() as conn:
            return conn.execute(to_postgres(sql).sql, params).fetchall()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection, with psycopg's errors turned into user-readable ones."""
        if not self._online.is_set():
            raise self._offline(RuntimeError("not reconnected yet"))
        try:
            assert self._pool is not None  # online: the pool exists
            with self._pool.connection(timeout=self.connect_timeout) as conn:
                yield conn
        except PoolTimeout as exc:
            raise self._offline(exc) from None
        except psycopg.OperationalError as exc:
            if isinstance(exc, (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable)):
                raise DatabaseError(f"{self.label}: {_first_line(exc)}") from None
            raise self._offline(exc) from None
        except psycopg.errors.UniqueViolation as exc:
            raise DatabaseError(f"{self.label}: already exists ({_first_line(exc)})") from None
        except psycopg.Error as exc:
            raise DatabaseError(f"{self.label}: {_first_line(exc)}") from None

    def data_version(self) -> int:
        """Bumped by the listener after another process's change (and after reconnects)."""
        return self._version

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """From the in-memory copy of ``meta``: no round trip, and it works offline."""
        return self._meta.get(key, default)

    def checkpoint(self) -> bool:
        """After a deletion: rewrite the tables that held the person (``VACUUM FULL``), so
        their embeddings, crops and name leave the table files now, not at some later
        autovacuum. A plain VACUUM is not enough: it frees the TOAST chunks that hold the
        crops but leaves their bytes in place until reused. Cheap at kiosk sizes; the lock
        wait is bounded, and a failed run is retried (``checkpoint_pending``) by the
        gallery's refresh at most every ``VACUUM_RETRY_SECONDS``."""
        now = time.monotonic()
        if self.checkpoint_pending and now - self._vacuumed_at < VACUUM_RETRY_SECONDS:
            return False
        self._vacuumed_at = now
        try:
            with self._connection() as conn:
                conn.autocommit = True  # VACUUM cannot run inside a transaction
                try:
                    conn.execute(f"SET lock_timeout = {int(VACUUM_LOCK_WAIT_S * 1000)}")
                    conn.execute(f"VACUUM FULL {', '.join(VACUUM_TABLES)}")
                finally:
                    conn.execute("RESET lock_timeout")
                    conn.autocommit = False
        except DatabaseError as exc:
            if not self.checkpoint_pending:
                log.warning("VACUUM after a deletion did not complete (%s); retrying",
                            _first_line(exc))
            self.checkpoint_pending = True
            return False
        self.checkpoint_pending = False
        return True

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._listener.join(timeout=self.poll_seconds + self.connect_timeout + 2)
        if self._pool is not None:
            self._pool.close()

    # ------------------------------------------------------------------ listener
    @staticmethod
    def _read_meta(conn: psycopg.Connection, cache: Path | None = None) -> dict[str, str]:
        """``meta``; also kept in ``cache`` (the kiosk's folder) for offline starts."""
        meta: dict[str, str] = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if cache is not None:
            store_cache.save_meta(cache, meta)
        return meta

    def _changed(self, conn: psycopg.Connection, force: bool = False) -> None:
        """Reload ``meta`` *before* bumping the version, so a reader that sees the new
        version also sees the new generation."""
        meta = self._read_meta(conn)
        with self._state:
            changed = force or meta != self._meta
            if meta != self._meta:
                store_cache.save_meta(self.path.parent, meta)
            self._meta = meta
            if changed:
                self._version += 1

    def _listen(self) -> None:
        backoff = 0.2
        while not self._closing.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True,
                                     connect_timeout=max(1, int(self.connect_timeout)),
                                     application_name="face-kiosk-listener") as conn:
                    if not self._migrated:  # started offline: the schema is checked now
                        self._migrate(conn)
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._changed(conn, force=True)  # anything may have changed meanwhile
                    if not self._online.is_set():
                        self._renew_pool()
                        log.info("Shared database %s is back online", self.label)
                    self._online.set()
                    self._wake.clear()
                    backoff = 0.2
                    self._serve(conn)
            except psycopg.Error as exc:
                if self._online.is_set():
                    log.warning("Shared database %s is offline: %s", self.label,
                                _first_line(exc))
                self._online.clear()
            if not self._closing.is_set():
                self._closing.wait(backoff)
                backoff = min(backoff * 2, 2.0)

    def _renew_pool(self) -> None:
        """A fresh pool after an outage: the old one would wait out its reconnection
        back-off (seconds to minutes) before handing out a connection again."""
        old, self._pool = self._pool, self._new_pool()
        if old is not None:
            old.close(timeout=1.0)

    def _serve(self, conn: psycopg.Connection) -> None:
        """Wait for notifications; every ``poll_seconds`` re-read meta and run the ticks."""
        last_poll = time.monotonic()
        self._tick()
        while not self._closing.is_set():
            notified = False
            for _ in conn.notifies(timeout=min(self.poll_seconds, 0.5), stop_after=1):
                notified = True
            if notified:
                for _ in conn.notifies(timeout=0.01):  # collapse a burst into one reload
                    pass
                self._changed(conn, force=True)
            if self._wake.is_set():  # a statement failed elsewhere: is the server alive?
                conn.execute("SELECT 1")
                self._wake.clear()
                self._online.set()
            if time.monotonic() - last_poll >= self.poll_seconds:
                self._changed(conn)
                last_poll = time.monotonic()
                self._tick()

    def _tick(self) -> None:
        for callback in list(self._tick_callbacks):
            try:
                callback()
            except Exception:  # a failing callback must not stop change propagation
                log.exception("store tick callback failed")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
