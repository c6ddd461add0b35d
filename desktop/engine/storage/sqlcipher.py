"""SQLCipher connections, and encrypting, decrypting or re-keying the database file.

Every connection goes through SQLCipher (the ``sqlcipher3`` wheel, SQLCipher 4: AES-256
in CBC mode per page, HMAC-SHA512 per page, key derived from the passphrase with
PBKDF2-HMAC-SHA512, 256,000 iterations). Without a key it behaves exactly like SQLite.

A wrong or missing key is one clear ``DatabaseError``; an existing file is never replaced
by a new empty one. Migrations write a new file, verify it row by row against the old one,
fsync it and swap it in with one ``os.replace``: a crash at any moment leaves either the
old or the new database, each complete.
"""
from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import sqlcipher3.dbapi2 as dbapi

from desktop.engine.core.errors import DatabaseError, KioskError
from desktop.engine.storage.db_files import (
    MIGRATING_SUFFIX,
    file_state,
    fsync_path,
    is_encrypted,
    looks_encrypted,
    migration_leftovers,
    mirror_path,
    plain_pages,
    secure_remove,
)

log = logging.getLogger(__name__)

__all__ = ["connect", "migrate", "fingerprint", "file_state",
           "is_encrypted", "looks_encrypted", "DatabaseKeyError", "MIGRATING_SUFFIX"]


class DatabaseKeyError(DatabaseError):
    """The database needs a key, or the given key does not open it."""


def _quote(key: str) -> str:
    return "'" + key.replace("'", "''") + "'"


def connect(path: Path, key: str | None, timeout: float = 30) -> dbapi.Connection:
    """An open connection to ``path`` with ``key`` applied and checked."""
    state = file_state(path)
    if state == "empty":
        raise DatabaseError(f"{path} is empty (0 bytes): not a database")
    if state == "opaque" and plain_pages(path):
        raise DatabaseError(f"{path} is damaged: its first page is unreadable but the rest is "
                            f"a plain (not encrypted) SQLite file. Move it aside and restore a "
                            f"backup or start a new database folder with --db")
    if state == "opaque" and not key:
        if looks_encrypted(path):
            raise DatabaseKeyError(f"{path} is encrypted: give its key with $FACE_KIOSK_KEY or "
                            f"--key-file (or type it when the window asks)")
        raise DatabaseError(f"{path} is damaged (not an SQLite database). Move it aside and "
                            f"restore a backup or start a new database folder with --db")
    if state == "plain" and key:
        raise DatabaseKeyError(f"{path} is not encrypted, but a key is set: encrypt it with "
                        f"`python main.py db encrypt`, or unset $FACE_KIOSK_KEY / --key-file")
    conn = dbapi.connect(str(path), timeout=timeout, isolation_level=None,
                         check_same_thread=False)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key: our message, not its
        if key:
            conn.execute(f"PRAGMA key = {_quote(key)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except dbapi.DatabaseError:
        conn.close()
        if key and state == "opaque":
            raise DatabaseKeyError(f"the key does not open {path} (a wrong key, or the file is "
                            f"damaged); nothing was changed") from None
        raise
    return conn


# ------------------------------------------------------------------------ migration
def _tables(conn: dbapi.Connection, schema: str = "main") -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
        f"AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def fingerprint(conn: dbapi.Connection) -> dict[str, str]:
    """Per table: a hash of every row in rowid order (what a migration must preserve)."""
    result = {}
    for table in _tables(conn):
        digest = hashlib.sha256()
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            digest.update(repr(row).encode())
        result[table] = digest.hexdigest()
    return result


def _discard(tmp: Path) -> None:
    """Securely remove a migration's unfinished copy (clear when decrypting)."""
    for leftover in migration_leftovers(tmp.with_name(tmp.name[:-len(MIGRATING_SUFFIX)])):
        secure_remove(leftover)


def migrate(path: Path, old_key: str | None, new_key: str | None, *,
            before_swap: Callable[[Path], None] | None = None,
            progress: Callable[[str], None] | None = None) -> None:
    """Rewrite ``path`` from ``old_key`` to ``new_key`` (None = plain) safely.

    ``before_swap(tmp)`` may add rows (the audit entry) to the new file before it is
    verified and swapped in. Refuses while another program has the database open.
    """
    path = Path(path)
    step = progress or (lambda _s: None)
    if file_state(path) in ("missing", "empty"):
        raise KioskError(f"there is no database at {path}")
    tmp = path.with_name(path.name + MIGRATING_SUFFIX)
    src = connect(path, old_key, timeout=2)
    try:
        # Leaving WAL needs every other connection closed: a reliable "is it in use?"
        # check; and it folds the WAL into the file, so no stale WAL meets the new file.
        try:
            mode = src.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except dbapi.OperationalError:
            mode = "busy"
        if mode != "delete":
            raise KioskError(f"{path} is in use by another program; stop the kiosk window and "
                             f"the HTTP service, then try again")
        src.execute("PRAGMA locking_mode=EXCLUSIVE")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # hold the read lock
        step("locked")
        _discard(tmp)  # left by an interrupted migration: never swapped in
        if new_key:  # a saved index holds every embedding in clear: gone before the swap
            for index in path.parent.glob("index-*.faiss*"):
                secure_remove(index)
        src.execute(f"ATTACH DATABASE ? AS target KEY {_quote(new_key or '')}", (str(tmp),))
        src.execute("SELECT sqlcipher_export('target')")
        src.execute("DETACH DATABASE target")
        step("exported")
        dst = connect(tmp, new_key)
        try:
            problem = dst.execute("PRAGMA integrity_check").fetchone()[0]
            same = fingerprint(dst) == fingerprint(src)
        finally:
            dst.close()
        if problem != "ok" or not same:
            raise DatabaseError(f"the new copy of {path} did not verify ({problem}); the "
                                f"database is unchanged")
        if before_swap:
            before_swap(tmp)
        fsync_path(tmp)
        step("verified")
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        os.replace(tmp, path)
        fsync_path(path.parent)
        step("swapped")
        if mirror_path(tmp).exists():  # the audit head the new file ends with
            os.replace(mirror_path(tmp), mirror_path(path))
    except BaseException:
        _discard(tmp)
        raise
    finally:
        src.close()
    for stale in path.parent.glob("index-*.faiss"):
        stale.unlink(missing_ok=True)  # derived; rebuilt (or kept in memory) on next open
    log.info("Database %s re-written (%s -> %s)", path.name, "key" if old_key else "plain",
             "key" if new_key else "plain")
