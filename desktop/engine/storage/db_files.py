"""The database file and its neighbours, before SQLite sees them: what kind of file it is
(missing, empty, plain, encrypted or damaged), whether its folder can be written, and the
leftovers of an interrupted migration, removed so no clear copy outlives it.
"""
from __future__ import annotations

import logging
import math
import os
from collections import Counter
from pathlib import Path

from desktop.engine.core.errors import DatabaseError

log = logging.getLogger(__name__)

PLAIN_HEADER = b"SQLite format 3\x00"
MIGRATING_SUFFIX = ".migrating"
MIRROR_SUFFIX = ".audit-head"
NEW_SUFFIX = ".new-"
"""A database being created: ``gallery.sqlite3.new-<pid>``, linked in when complete."""
PAGE = 4096
"""SQLite's and SQLCipher 4's default page size (the kiosk never changes it)."""
BTREE_PAGE_TYPES = frozenset({0x00, 0x02, 0x05, 0x0A, 0x0D})
"""First byte of every page of a plain SQLite file after the first: a b-tree page type,
or 0 (overflow and freelist pages start with a small page number; zeroed free pages)."""
SAMPLED_PAGES = 16
MIN_SAMPLED_PAGES = 8
"""Fewer pages give no verdict (the kiosk's empty schema already takes more)."""


def file_state(path: Path) -> str:
    """'missing', 'empty' (0 bytes), 'plain' (an SQLite header) or 'opaque' (anything else)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(PAGE)
    except FileNotFoundError:
        return "missing"
    if not head:
        return "empty"
    return "plain" if head.startswith(PLAIN_HEADER) else "opaque"


def _entropy(data: bytes) -> float:
    counts = Counter(data)
    return -sum(c / len(data) * math.log2(c / len(data)) for c in counts.values())


def plain_pages(path: Path) -> bool:
    """True when the pages after the first are laid out like a plain SQLite file's (a
    damaged header on a clear database); SQLCipher pages are random bytes throughout."""
    size = path.stat().st_size
    pages = min(size // PAGE, SAMPLED_PAGES + 1) - 1
    if pages < MIN_SAMPLED_PAGES:
        return False
    plain = 0
    with open(path, "rb") as handle:
        for number in range(1, pages + 1):
            handle.seek(number * PAGE)
            first = handle.read(4)
            if first[0] in BTREE_PAGE_TYPES and (
                    first[0] or int.from_bytes(first, "big") <= size // PAGE):
                plain += 1
    # a random page passes with probability ~4/256; 3 in 4 of 8 or more: no accident
    return plain * 4 >= pages * 3


def looks_encrypted(path: Path) -> bool:
    """An SQLCipher file is random bytes from its first page on; a damaged one usually not
    (a clear file with a damaged first page still has plain pages after it)."""
    with open(path, "rb") as handle:
        head = handle.read(PAGE)
    return len(head) >= 1024 and _entropy(head) > 7.5 and not plain_pages(path)


def is_encrypted(path: Path) -> bool:
    return file_state(path) == "opaque" and looks_encrypted(path)


def refuse_unusable(path: Path) -> None:
    """Clear answers for what SQLite reports vaguely: a 0-byte database file (it would
    silently become a new, empty gallery) and a folder this user cannot write."""
    folder = path.parent
    if file_state(path) == "empty":
        raise DatabaseError(
            f"{path} is empty (0 bytes): it is not a database, and the kiosk will not "
            f"start a new gallery over it. Restore it from a backup, or delete it to start "
            f"an empty gallery")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseError(
            f"the database folder {folder} is not writable by this user (uid {os.getuid()}): "
            f"the kiosk keeps gallery.sqlite3 and its -wal and -shm files there. Give this "
            f"user write access to the folder, or choose another one with --db")


def secure_remove(path: Path) -> bool:
    """Overwrite ``path`` with zeros, flush it to disk and unlink it (False if absent).
    On copy-on-write or flash storage old blocks may survive: see docs/hardening.md."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return False
    try:
        size = os.fstat(fd).st_size
        chunk = b"\0" * (1 << 20)
        done = 0
        while done < size:
            done += os.write(fd, chunk[:min(len(chunk), size - done)])
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)
    return True


def migration_leftovers(path: Path) -> list[Path]:
    """The files an interrupted migration of ``path`` can leave: the new copy (never
    swapped in, so the database itself is the complete old one) and its journals."""
    base = path.with_name(path.name + MIGRATING_SUFFIX)
    return [Path(str(base) + suffix)
            for suffix in ("", "-journal", "-wal", "-shm", MIRROR_SUFFIX)]


def mirror_path(path: Path) -> Path:
    """Where the audit trail's head is mirrored, beside the database file (audit.py)."""
    return path.with_name(path.name + MIRROR_SUFFIX)


def remove_leftovers(path: Path, encrypted: bool) -> list[str]:
    """Securely remove an interrupted migration's copy, and with an encrypted database any
    saved (clear) index; call only while holding the database open (no migration runs).
    Returns the names removed."""
    removed = [p.name for p in migration_leftovers(path) if secure_remove(p)]
    for new in path.parent.glob(path.name + NEW_SUFFIX + "*"):
        if not _alive(new.name.rsplit("-", 1)[-1]) and secure_remove(new):
            removed.append(new.name)  # an empty schema whose creator was killed
    if encrypted:
        removed += [p.name for p in sorted(path.parent.glob("index-*.faiss*"))
                    if secure_remove(p)]
    if removed:
        log.warning("Removed what an interrupted migration left: %s", ", ".join(removed))
    return removed


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder (so that a rename or link in it survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def explain(exc: Exception, path: Path) -> DatabaseError:
    """An SQLite error as one line saying what happened to the file and what to do."""
    text = str(exc)
    if "disk is full" in text or "disk I/O" in text:
        return DatabaseError(f"{path}: the disk is full or failing ({text}); nothing was saved, "
                             "the database is unchanged")
    if "not a database" in text or "malformed" in text:
        return DatabaseError(f"{path} is damaged ({text}). Move it aside and restore a backup "
                             "or start a new database folder with --db")
    if "locked" in text or "busy" in text:
        return DatabaseError(f"{path} is locked by another program ({text}); try again")
    if "readonly" in text:
        return DatabaseError(f"{path} is read-only ({text})")
    return DatabaseError(f"{path}: {text}")
