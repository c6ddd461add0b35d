"""The audit trail's end, checked from outside the table: each truncation an attacker with
SQL access to the file can make (plain, or encrypted with the key) is reported by
`audit --verify`, run as the user runs it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from conftest import ROOT

from desktop.engine.storage import audit
from desktop.engine.storage.db_files import mirror_path
from desktop.engine.storage.sqlite import Database

TRUNCATIONS = {
    "last rows and the head": ["DELETE FROM audit WHERE id > 3",
                               "DELETE FROM meta WHERE key = 'audit_head'"],
    "last rows, head rewritten": ["DELETE FROM audit WHERE id > 3",
                                  "UPDATE meta SET value = (SELECT id || ':' || hash FROM "
                                  "audit WHERE id = 3) WHERE key = 'audit_head'"],
    "every row": ["DELETE FROM audit", "DELETE FROM meta WHERE key = 'audit_head'"],
    "the table": ["DROP TABLE audit", "DELETE FROM meta WHERE key = 'audit_head'"],
}


def cover(how: str) -> list[str]:
    """A more careful attacker also lowers the sequence and drops the mirror flag (a
    dropped table takes its sequence row with it)."""
    lower = [] if how == "the table" else [
        "UPDATE sqlite_sequence SET seq = (SELECT COALESCE(MAX(id), 0) FROM audit) "
        "WHERE name = 'audit'"]
    return [*lower, "DELETE FROM meta WHERE key = 'audit_mirrored'"]


def verify(db_dir: Path, key: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "--db", str(db_dir), "audit", "--verify"],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "FACE_KIOSK_KEY": key})


def trail(db_dir: Path, key: str | None = None, rows: int = 6) -> Path:
    path = db_dir / "gallery.sqlite3"
    db = Database(path, key=key)
    for i in range(rows):
        audit.record(db, "enroll", "cli", i + 1, samples=2)
    db.close()
    return path


def tamper(path: Path, statements: list[str], key: str | None = None) -> None:
    """Edit the file directly, as someone with SQL access (and the key, if any) can."""
    conn = sqlcipher.connect(str(path))
    if key:
        conn.execute(f"PRAGMA key = '{key}'")
    for statement in ["DROP TRIGGER IF EXISTS audit_no_update",
                      "DROP TRIGGER IF EXISTS audit_no_delete", *statements]:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_an_untouched_trail_verifies_and_its_head_is_mirrored(tmp_path):
    path = trail(tmp_path)
    run = verify(tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("audit trail intact: 6 entries")
    db = Database(path)
    assert mirror_path(path).read_text().strip() == audit.head(db)
    db.close()


@pytest.mark.parametrize("covered", [False, True], ids=["plain", "sequence-covered"])
@pytest.mark.parametrize("how", list(TRUNCATIONS))
def test_each_truncation_is_reported(tmp_path, how, covered):
    path = trail(tmp_path)
    tamper(path, TRUNCATIONS[how] + (cover(how) if covered else []))
    run = verify(tmp_path)
    assert run.returncode == 1, (how, run.stdout, run.stderr)
    assert "TAMPERED" in run.stdout and "intact" not in run.stdout


@pytest.mark.parametrize("how", list(TRUNCATIONS))
def test_each_truncation_of_an_encrypted_trail_is_reported(tmp_path, how):
    path = trail(tmp_path, key="audit key")
    tamper(path, TRUNCATIONS[how] + cover(how), key="audit key")
    run = verify(tmp_path, key="audit key")
    assert run.returncode == 1 and "was written" in run.stdout, run.stdout


def test_a_deleted_or_edited_mirror_is_reported(tmp_path):
    path = trail(tmp_path)
    mirror = mirror_path(path)
    original = mirror.read_text()
    mirror.write_text("2:" + "0" * 64 + "\n")
    assert "differs" in verify(tmp_path).stdout
    mirror.unlink()
    assert "was deleted" in verify(tmp_path).stdout
    mirror.write_text(original)
    assert verify(tmp_path).returncode == 0


def test_a_mirror_one_commit_behind_is_not_tampering(tmp_path):
    """A kill between a commit and its mirror leaves the mirror behind: still intact."""
    path = trail(tmp_path)
    db = Database(path)
    second_last = db.query("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1 OFFSET 1")[0]
    db.close()
    mirror_path(path).write_text(f"{second_last[0]}:{second_last[1]}\n")
    assert verify(tmp_path).returncode == 0


def test_encrypting_keeps_the_trail_verifiable(tmp_path):
    trail(tmp_path)
    run = subprocess.run([sys.executable, "main.py", "--db", str(tmp_path), "db", "encrypt"],
                         cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "FACE_KIOSK_KEY": "new key"})
    assert run.returncode == 0, run.stderr
    checked = verify(tmp_path, key="new key")
    assert checked.returncode == 0 and "7 entries" in checked.stdout, checked.stdout
    assert not list(tmp_path.glob("*.migrating*"))
