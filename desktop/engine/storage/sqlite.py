"""The SQLite file that is the single source of truth for people, samples and attendance.

Every write is one transaction in WAL mode with synchronous=FULL, so a crash at any moment
leaves either the old or the new state. secure_delete overwrites deleted rows, so a
deleted person's crops and name do not linger in free pages.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from desktop.engine.core.errors import DatabaseError
from desktop.engine.storage import audit, consent, db_files, visitors
from desktop.engine.storage import sqlcipher as crypto_db
from desktop.engine.storage.sqlcipher import dbapi as sqlite3  # SQLCipher's; plain without a key

log = logging.getLogger(__name__)

CHECKPOINT_RETRY_SECONDS = 0.5
"""How often an incomplete checkpoint after a deletion is retried, in the background, until
another connection's read ends (a fixed safety interval, not a site setting)."""

SCHEMA_VERSION = 4
"""2: checkins and visitors record the kiosk that saw them (``kiosk``).
3: several face models: samples keep a model-neutral crop (``face``, ``face_meta``), every
model's vectors live in ``embeddings``, and ``models`` records each model (storage/embeddings.py).
``samples.embedding`` stays the vectors of the gallery's active model (meta ``model_id``).
4: foot traffic: a visitor row carries its anonymous id (``visitor``) and ``last_seen``
(one row per visit); ``visitor_templates`` (visitors.py), used only when encrypted."""

# AUTOINCREMENT: ids are never reused, so an index that is one write behind another
# process can never map an old vector onto a new person.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    embedding  BLOB NOT NULL,
    crop       BLOB NOT NULL,
    source     TEXT NOT NULL,
    model_id   TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_person ON samples(person_id);
CREATE TABLE IF NOT EXISTS models (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id  TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    dim       INTEGER NOT NULL,
    threshold REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    model_id  TEXT NOT NULL,
    vector    BLOB NOT NULL,
    UNIQUE (sample_id, model_id)
);
CREATE TABLE IF NOT EXISTS checkins (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER REFERENCES people(id) ON DELETE SET NULL,
    name       TEXT NOT NULL,
    ts         REAL NOT NULL,
    day        TEXT NOT NULL,
    similarity REAL NOT NULL,
    snapshot   BLOB
);
CREATE INDEX IF NOT EXISTS checkins_day ON checkins(day);
CREATE INDEX IF NOT EXISTS checkins_person ON checkins(person_id, ts);
CREATE TABLE IF NOT EXISTS presence (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
    name      TEXT NOT NULL,
    day       TEXT NOT NULL,
    first_in  REAL NOT NULL,
    last_seen REAL NOT NULL,
    UNIQUE (person_id, day)
);
CREATE INDEX IF NOT EXISTS presence_day ON presence(day);
CREATE TABLE IF NOT EXISTS visitors (
    id       INTEGER PRIMARY KEY,
    ts       REAL NOT NULL,
    day      TEXT NOT NULL,
    snapshot BLOB
);
CREATE INDEX IF NOT EXISTS visitors_day ON visitors(day);
"""


class Database:
    """A thread-safe connection with explicit transactions and user-readable errors."""

    def __init__(self, path: Path, key: str | None = None, *, _new: bool = False) -> None:
        self.path = Path(path)
        self.encrypted = bool(key)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create database folder {self.path.parent}: {exc}") from None
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._retrying: threading.Thread | None = None
        self.checkpoint_pending = False
        """A checkpoint (after a deletion) could not complete yet; retried in the background."""
        db_files.refuse_unusable(self.path)
        if not _new and db_files.file_state(self.path) == "missing":
            _create(self.path, key)
        try:
            self._conn = crypto_db.connect(self.path, key)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                           "secure_delete=ON", "busy_timeout=30000"):
                self._conn.execute(f"PRAGMA {pragma}")
            # WAL mode held open: no migration can run now, so what one left is stale
            db_files.remove_leftovers(self.path, self.encrypted)
            problem = self._conn.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {problem}")
            with self.transaction() as cur:
                cur.executescript_safe(SCHEMA)
                _migrate(cur, self.path)
                for privacy_table in (audit, consent, visitors):
                    privacy_table.ensure_schema(cur)
        except sqlite3.Error as exc:
            raise db_files.explain(exc, self.path) from None

    @contextmanager
    def transaction(self) -> Iterator[_Cursor]:
        """BEGIN IMMEDIATE ... COMMIT; any exception rolls back and nothing is written."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise db_files.explain(exc, self.path) from None
            cursor = _Cursor(self._conn, self.path)
            try:
                yield cursor
                self._conn.execute("COMMIT")
            except BaseException as exc:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise db_files.explain(exc, self.path) from None
                raise
        for hook in cursor.on_commit:
            try:
                hook()
            except OSError as exc:  # committed already: a mirror that lags is tolerated
                log.warning("After-commit step failed: %s", exc)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise db_files.explain(exc, self.path) from None

    def data_version(self) -> int:
        """Changes when *another* connection commits: cheap cross-process change detection."""
        return self.query("PRAGMA data_version")[0][0]

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def checkpoint(self) -> bool:
        """Fold the WAL into the main file and truncate it, so deleted rows leave no copy
        there. Never waits for readers: False (and ``checkpoint_pending``) when another
        connection's open read kept it from completing; a background thread then retries
        until it completes, so an idle service does not keep deleted rows in the WAL."""
        pending = self.checkpoint_pending
        if self._checkpoint_once():
            return True
        if not pending:
            log.warning("WAL checkpoint incomplete (another program is reading the database); "
                        "retrying until it completes")
        with self._lock:
            if self._retrying is None:
                self._retrying = threading.Thread(target=self._retry, daemon=True,
                                                  name="wal-checkpoint")
                self._retrying.start()
        return False

    def _checkpoint_once(self) -> bool:
        with self._lock:
            if self._closed.is_set():
                return False
            try:
                self._conn.execute("PRAGMA busy_timeout=0")
                busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed: %s", exc)
                busy = 1
            finally:
                self._conn.execute("PRAGMA busy_timeout=30000")
            self.checkpoint_pending = bool(busy)
            return not busy

    def _retry(self) -> None:
        while not self._closed.wait(CHECKPOINT_RETRY_SECONDS):
            done = self._checkpoint_once()
            with self._lock:  # decided under the lock checkpoint() starts threads under
                if not self.checkpoint_pending or self._closed.is_set():
                    self._retrying = None
                    if done:
                        log.info("WAL checkpoint completed after another reader finished")
                    return

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            self._conn.close()


def _create(path: Path, key: str | None) -> None:
    """A new database is built beside ``path`` and linked in once its schema is committed,
    so a 0-byte gallery.sqlite3 is never a state the kiosk leaves (it refuses one)."""
    tmp = path.with_name(f"{path.name}{db_files.NEW_SUFFIX}{os.getpid()}")
    db_files.secure_remove(tmp)
    Database(tmp, key, _new=True).close()
    try:
        os.link(tmp, path)  # never replaces: a database another process just made wins
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    db_files.fsync_path(path.parent)


def _migrate(cur: _Cursor, path: Path) -> None:
    """Upgrade an older file in place (inside the opening transaction); refuse a newer one."""
    row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    found = int(row[0]) if row else SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise DatabaseError(f"{path} has schema version {found}, made by a newer version of "
                            f"the kiosk (this one knows up to {SCHEMA_VERSION}); update the "
                            "program (the file was not changed)")
    for table in ("checkins", "visitors"):
        columns = {r[1] for r in cur.execute(f"PRAGMA table_info({table})").fetchall()}
        if "kiosk" not in columns:
            cur.execute(f"ALTER TABLE {table} ADD COLUMN kiosk TEXT")
    columns = {r[1] for r in cur.execute("PRAGMA table_info(visitors)").fetchall()}
    if "visitor" not in columns:  # version 4
        cur.execute("ALTER TABLE visitors ADD COLUMN visitor TEXT")
        cur.execute("ALTER TABLE visitors ADD COLUMN last_seen REAL")
        cur.execute("UPDATE visitors SET last_seen = ts")
    cur.execute("CREATE INDEX IF NOT EXISTS visitors_visitor ON visitors(visitor, last_seen)")
    columns = {row[1] for row in cur.execute("PRAGMA table_info(samples)").fetchall()}
    if "in_template" not in columns:
        # 0 for samples flagged as probable wrong photos at enrollment (see templates.py)
        cur.execute("ALTER TABLE samples ADD COLUMN in_template INTEGER NOT NULL DEFAULT 1")
    if "face" not in columns:
        # version 3: the model-neutral crop; older samples keep only their model's crop
        cur.execute("ALTER TABLE samples ADD COLUMN face BLOB")
        cur.execute("ALTER TABLE samples ADD COLUMN face_meta TEXT")
        cur.execute("INSERT OR IGNORE INTO embeddings(sample_id, model_id, vector) "
                    "SELECT id, model_id, embedding FROM samples")
    cur.set_meta("schema_version", SCHEMA_VERSION)


class _Cursor:
    """The subset of a cursor used inside transactions (executescript would COMMIT)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        """The database file (the audit trail mirrors its head beside it)."""
        self.on_commit: list[Callable[[], None]] = []
        """Run after this transaction commits (not after a rollback)."""

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple]) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)

    def executescript_safe(self, script: str) -> None:
        for statement in script.split(";"):
            if statement.strip():
                self._conn.execute(statement)

    def set_meta(self, key: str, value: object) -> None:
        self._conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           (key, str(value)))
