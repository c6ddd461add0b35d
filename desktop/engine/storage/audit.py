"""The audit trail: an append-only, hash-chained table of who did what to whose data.

Each row names the action, the subject by *person id* (never a name: a row about a
deletion must not keep what the deletion erased), the front end (``window``, ``cli``,
``http <client address>``) and a JSON detail of counts and flags. It never holds face
data. Triggers refuse UPDATE and DELETE; each row's hash covers the previous row's hash,
and ``meta.audit_head`` the last one, so an edited or removed row is found by ``verify``.

The end of the chain is checked from outside the table too (SQLite): ``sqlite_sequence``
keeps the highest id ever written, which deleting rows does not lower, and after each
commit the head is mirrored in ``gallery.sqlite3.audit-head`` beside the file, which no
SQL statement reaches; so removing the last rows, every row or the whole table is found.
Someone able to rewrite the file *and* that mirror can still recompute everything: note
the head elsewhere (``audit --verify`` prints it) to catch that.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.engine.storage.db_files import mirror_path

log = logging.getLogger(__name__)

GENESIS = "0" * 64

ACTIONS = frozenset({
    "enroll", "rename", "delete", "delete_face", "export", "consent", "settings", "threshold",
    "reembed", "key", "retention", "auth_refused", "liveness_rejected", "traffic_deleted"})

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        ts        REAL NOT NULL,
        action    TEXT NOT NULL,
        subject   INTEGER,
        actor     TEXT NOT NULL,
        detail    TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_subject ON audit(subject)",
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
)


@dataclass(frozen=True)
class Entry:
    id: int
    ts: float
    action: str
    subject: int | None
    actor: str
    detail: dict[str, Any]

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.ts))
        who = f"person #{self.subject}" if self.subject is not None else "-"
        extra = " ".join(f"{k}={v}" for k, v in sorted(self.detail.items()))
        return f"{self.id:6d}  {when}  {self.action:<12} {who:<12} {self.actor:<22} {extra}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.ts, "action": self.action,
                "subject": self.subject, "actor": self.actor, "detail": self.detail}


def ensure_schema(cur) -> None:
    for statement in SCHEMA:
        cur.execute(statement)


def _digest(prev: str, row_id: int, ts: float, action: str, subject: int | None, actor: str,
            detail: str) -> str:
    text = json.dumps([prev, row_id, repr(ts), action, subject, actor, detail])
    return hashlib.sha256(text.encode()).hexdigest()


def _next_id(cur, last: tuple | None) -> int:
    """SQLite: AUTOINCREMENT never reuses ids, so the next id is seq + 1 even after a
    failed insert. PostgreSQL (pg_schema v4; its cursor can ``claim``): writers are
    serialised by the store's write lock, so the last row's id + 1."""
    if hasattr(cur, "claim"):
        return (last[0] if last else 0) + 1
    seq = cur.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    return (seq[0] if seq else 0) + 1


def append(cur, action: str, actor: str, subject: int | None = None, **detail: Any) -> int:
    """Add one row inside the caller's transaction (so it commits with the change)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = cur.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev = row[1] if row else GENESIS
    ts = time.time()
    text = json.dumps(detail, sort_keys=True, default=str)
    row_id = _next_id(cur, row)
    digest = _digest(prev, row_id, ts, action, subject, actor, text)
    cur.execute("INSERT INTO audit(id, ts, action, subject, actor, detail, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row_id, ts, action, subject, actor, text, prev, digest))
    cur.set_meta("audit_head", f"{row_id}:{digest}")
    on_commit = getattr(cur, "on_commit", None)
    if on_commit is not None:  # SQLite: mirror the head once the row is committed
        cur.set_meta("audit_mirrored", "1")
        on_commit.append(lambda: _mirror(mirror_path(cur.path), row_id, digest))
    return row_id


def _read_mirror(path: Path) -> tuple[int, str] | None:
    try:
        row_id, digest = path.read_text().strip().split(":")
        return int(row_id), digest
    except FileNotFoundError:
        return None
    except ValueError:
        return -1, ""


def _mirror(path: Path, row_id: int, digest: str) -> None:
    """Replace the mirror atomically (never with an older row another process mirrored
    after us: a mirror one row behind is tolerated, one ahead means rows were removed)."""
    current = _read_mirror(path)
    if current is not None and current[0] > row_id:
        return
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"{row_id}:{digest}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def record(db, action: str, actor: str, subject: int | None = None, **detail: Any) -> int:
    """Append one row in its own transaction."""
    with db.transaction() as cur:
        return append(cur, action, actor, subject, **detail)


def refused_auth(db, client: str, reason: str = "bad token", count: int = 1) -> None:
    """For the HTTP service: ``count`` requests refused for authentication (client address
    only); the service sums a flood into one row per address and minute."""
    record(db, "auth_refused", f"http {client}", reason=reason, count=count)


def entries(db, subject: int | None = None) -> list[Entry]:
    sql = "SELECT id, ts, action, subject, actor, detail FROM audit"
    rows = db.query(sql + (" WHERE subject = ? ORDER BY id" if subject is not None
                           else " ORDER BY id"), (subject,) if subject is not None else ())
    return [Entry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]


def verify(db) -> list[str]:
    """Problems with the chain (empty when intact): edited, removed or truncated rows."""
    problems = []
    prev, last_id = GENESIS, 0
    for row_id, ts, action, subject, actor, detail, prev_hash, digest in db.query(
            "SELECT id, ts, action, subject, actor, detail, prev_hash, hash FROM audit "
            "ORDER BY id"):
        if prev_hash != prev:
            problems.append(f"row {row_id}: does not follow row {last_id} (a row before it "
                            f"was removed or changed)")
        if _digest(prev_hash, row_id, ts, action, subject, actor, detail) != digest:
            problems.append(f"row {row_id}: its content was changed after it was written")
        prev, last_id = digest, row_id
    head = db.get_meta("audit_head")
    if head is not None and head != f"{last_id}:{prev}":
        problems.append(f"the trail ends at row {last_id}, but row {head.split(':')[0]} was "
                        f"written: rows at the end were removed")
    if head is None and last_id:
        problems.append(f"the trail has {last_id} rows but no recorded head: it was removed")
    from desktop.engine.storage.kind import is_shared
    if not is_shared(db):
        problems += _end_problems(db, last_id)
    return problems


def _end_problems(db, last_id: int) -> list[str]:
    """SQLite: the chain's end against ``sqlite_sequence`` and the mirror beside the file."""
    problems = []
    seq = db.query("SELECT seq FROM sqlite_sequence WHERE name = 'audit'")
    if seq and seq[0][0] > last_id:
        problems.append(f"rows {last_id + 1} to {seq[0][0]} were written (sqlite_sequence) "
                        f"but are gone: rows at the end were removed")
    path = mirror_path(db.path)
    mirrored = _read_mirror(path)
    if mirrored is None:
        if db.get_meta("audit_mirrored") == "1":
            problems.append(f"the mirror of the trail's head ({path}) was deleted")
    elif mirrored[0] < 0:
        problems.append(f"the mirror of the trail's head ({path}) was altered")
    else:
        found = db.query("SELECT hash FROM audit WHERE id = ?", (mirrored[0],))
        if found and found[0][0] == mirrored[1]:
            return problems
        what = "differs from it" if found else "is gone"
        problems.append(f"row {mirrored[0]} was written (its hash is mirrored in {path.name}) "
                        f"but {what}: the trail was cut short or rewritten")
    return problems


def head(db) -> str | None:
    """'<last id>:<hash>': note it elsewhere to detect a rewrite of the whole trail."""
    return db.get_meta("audit_head")


VALUE_KEYS = frozenset({
    "retention_days", "retention_people_days", "retention_interval_hours", "require_consent",
    "keep_face_crops", "store_checkin_snapshots", "store_visitor_snapshots",
    "delete_attendance_with_person", "threshold", "match_margin", "cooldown_minutes",
    "visitor_ids", "visitor_memory_hours", "visitor_threshold"})
"""Settings whose new value is worth keeping in the trail (others: only that they changed;
a stream address may hold a password)."""


def note_settings(db, stored: dict[str, Any], actor: str,
                  seen_key: str = "settings_seen") -> list[str]:
    """Audit which saved settings changed since last noted; returns the changed keys.

    Called at start-up and after the settings dialog saves, so hand edits of
    settings.json are caught too. Only per-key hashes are kept to compare.
    """
    hashes = {k: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:16]
              for k, v in stored.items()}
    with db.transaction() as cur:
        row = cur.execute("SELECT value FROM meta WHERE key = ?", (seen_key,)).fetchone()
        seen = json.loads(row[0]) if row else {}
        changed = sorted(k for k in hashes.keys() | seen.keys() if hashes.get(k) != seen.get(k))
        if changed:
            values = {k: stored.get(k) for k in changed if k in VALUE_KEYS}
            append(cur, "settings", actor, changed=changed, new_values=values)
            cur.set_meta(seen_key, json.dumps(hashes, sort_keys=True))
    return changed
