"""Encryption at rest, migrations, crashes during them, and the audit chain: the storage
half of privacy, on real SQLCipher files (no model needed: synthetic unit vectors and
JPEG bytes stand in for faces; nothing here judges recognition)."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, kill_mid_write

from desktop.engine.core.errors import KioskError
from desktop.engine.core.types import EMBEDDING_DIM, ModelInfo
from desktop.engine.gallery.people import Gallery
from desktop.engine.settings.file import read_key_file
from desktop.engine.storage import audit
from desktop.engine.storage import sqlcipher as crypto_db
from desktop.engine.storage.sqlcipher import DatabaseKeyError
from desktop.engine.storage.sqlite import Database

MODEL = ModelInfo("test-model", "test-model-id")
NAMES = ["Wilhelmina Quarrington", "Bartholomew Oyelaran", "Ingrid Vasquez-Holt"]


def _fill(path: Path, key: str | None, people: int = 3, samples: int = 2) -> Gallery:
    """A gallery with people, samples (vector + fake JPEG crop) and check-ins."""
    from desktop.engine.attendance.checkins import Attendance
    rng = np.random.default_rng(7)
    gallery = Gallery(Database(path, key=key), MODEL)
    attendance = Attendance(gallery.db)
    for i in range(people):
        name = NAMES[i] if i < len(NAMES) else f"Person {i:05d}"
        vectors = rng.normal(size=(samples, EMBEDDING_DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        crops = [rng.integers(0, 255, (160, 160, 3), np.uint8) for _ in range(samples)]
        gallery.add_samples(name, vectors, crops, ["synthetic"] * samples)
        attendance.record_sighting(name, 0.9, ts=1_700_000_000.0 + i)
    return gallery


def _content(path: Path, key: str | None) -> dict[str, str]:
    conn = crypto_db.connect(path, key)
    try:
        return crypto_db.fingerprint(conn)
    finally:
        conn.close()


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())


# ----------------------------------------------------------------------------- encryption
def test_encrypted_database_is_opaque_to_sqlite_and_holds_no_names(tmp_path):
    path = tmp_path / "db" / "gallery.sqlite3"
    gallery = _fill(path, key="correct horse")
    assert gallery.db.encrypted and not gallery.persist_index
    files = {p.name for p in path.parent.iterdir()}
    assert not any(name.startswith("index-") for name in files)  # index only in memory
    data = _all_bytes(path.parent)  # the main file, its WAL and shm while open
    for name in NAMES:
        assert name.encode() not in data
    gallery.db.close()
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(path).execute("SELECT * FROM people").fetchall()
    assert crypto_db.is_encrypted(path)


def test_missing_or_wrong_key_is_one_message_and_touches_nothing(tmp_path):
    path = tmp_path / "db" / "gallery.sqlite3"
    _fill(path, key="right key").db.close()
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    with pytest.raises(DatabaseKeyError, match="is encrypted: give its key"):
        Database(path)
    with pytest.raises(DatabaseKeyError, match="key does not open"):
        Database(path, key="wrong key")
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before
    # and through the command line: one line on stderr, no traceback, exit status 2
    for env in ({}, {"FACE_KIOSK_KEY": "wrong key"}):
        run = subprocess.run([sys.executable, "main.py", "--db", str(path.parent), "audit"],
                             cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, **env, "FACE_KIOSK_KEY": env.get(
                                 "FACE_KIOSK_KEY", "")})
        assert run.returncode == 2, run.stderr
        assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1, run.stderr
        assert "key" in run.stderr
    after = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.name != "kiosk.log"}
    assert after == before  # no new empty database, nothing rewritten


def test_a_key_for_a_plain_database_is_refused_not_ignored(tmp_path):
    path = tmp_path / "gallery.sqlite3"
    Database(path).close()
    with pytest.raises(DatabaseKeyError, match="db encrypt"):
        Database(path, key="k")


def test_key_file_must_be_private(tmp_path):
    key = tmp_path / "kiosk.key"
    key.write_text("s3cret\n")
    key.chmod(0o644)
    with pytest.raises(KioskError, match="chmod 600"):
        read_key_file(key)
    key.chmod(0o600)
    assert read_key_file(key) == "s3cret"


# ----------------------------------------------------------------------------- migration
def test_encrypt_rekey_decrypt_round_trip_keeps_everything(tmp_path):
    path = tmp_path / "db" / "gallery.sqlite3"
    gallery = _fill(path, key=None)
    gallery.db.close()
    original = _content(path, None)
    assert any(p.name.startswith("index-") for p in path.parent.iterdir())
    crypto_db.migrate(path, None, "first")
    assert crypto_db.is_encrypted(path) and _content(path, "first") == original
    assert not any(p.name.startswith("index-") for p in path.parent.iterdir())
    crypto_db.migrate(path, "first", "second")
    with pytest.raises(DatabaseKeyError):
        Database(path, key="first")
    assert _content(path, "second") == original
    crypto_db.migrate(path, "second", None)
    assert crypto_db.file_state(path) == "plain" and _content(path, None) == original
    reopened = Gallery(Database(path), MODEL)
    assert [p.name for p in reopened.people()] == sorted(NAMES)
    assert reopened.sample_count == 6


def test_migration_refuses_while_another_program_has_the_database_open(tmp_path):
    path = tmp_path / "gallery.sqlite3"
    gallery = _fill(path, key=None, people=1)
    with pytest.raises(KioskError, match="in use by another program"):
        crypto_db.migrate(path, None, "k")
    gallery.db.close()
    assert crypto_db.file_state(path) == "plain"


MIGRATE_FOREVER = """
import sys, threading, time
from pathlib import Path
from desktop.engine.storage import sqlcipher as crypto_db
path = Path({path!r})
def tick():
    n = 0
    while True:
        print(n, flush=True); n += 1; time.sleep(0.003)
threading.Thread(target=tick, daemon=True).start()
key = None
while True:  # encrypt, decrypt, encrypt ...: the kill lands anywhere in a migration
    new = None if key else "crash key"
    crypto_db.migrate(path, key, new)
    key = new
"""


def test_kill_9_during_encrypt_or_decrypt_leaves_a_usable_database(tmp_path):
    """SIGKILL at many points of back-to-back migrations (lock, export, verify, swap):
    every time the file opens, plain or with the key, with every row of the original."""
    path = tmp_path / "gallery.sqlite3"
    _fill(path, key=None, people=40, samples=3).db.close()  # ~3 MB: a migration ~0.1-0.5 s
    original = _content(path, None)
    outcomes = []
    for ticks in (3, 20, 45, 80, 120, 170, 230, 300, 380, 470):
        kill_mid_write(textwrap.dedent(MIGRATE_FOREVER.format(path=str(path))), after=ticks)
        key = "crash key" if crypto_db.is_encrypted(path) else None
        assert crypto_db.file_state(path) in ("plain", "opaque")
        assert _content(path, key) == original, ticks  # old or new: complete either way
        reopened = Gallery(Database(path, key=key), MODEL)
        assert reopened.size == 40 and reopened.sample_count == 120
        reopened.db.close()
        if key:  # start the next round from plain again
            crypto_db.migrate(path, key, None)  # a leftover temp file is no obstacle
        outcomes.append("encrypted" if key else "plain")
    assert {"encrypted", "plain"} <= set(outcomes), outcomes  # kills landed on both sides


# ----------------------------------------------------------------------------- audit
def test_audit_chain_verifies_and_detects_edits_and_removals(tmp_path):
    path = tmp_path / "gallery.sqlite3"
    db = Database(path)
    for i in range(5):
        audit.record(db, "enroll", "cli", i + 1, samples=3)
    assert audit.verify(db) == []
    with pytest.raises(Exception, match="append-only"):
        with db.transaction() as cur:
            cur.execute("UPDATE audit SET actor = 'nobody' WHERE id = 2")
    db.close()

    def tamper(sql: str) -> list[str]:
        copy = tmp_path / f"copy{abs(hash(sql))}.sqlite3"
        copy.write_bytes(path.read_bytes())
        conn = sqlite3.connect(copy)
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute(sql)
        conn.commit()
        conn.close()
        tampered = Database(copy)
        try:
            return audit.verify(tampered)
        finally:
            tampered.close()

    assert any("changed" in p for p in tamper("UPDATE audit SET detail = '{}' WHERE id = 3"))
    assert any("row 4" in p for p in tamper("DELETE FROM audit WHERE id = 3"))
    assert any("removed" in p for p in tamper("DELETE FROM audit WHERE id = 5"))


def test_audit_keeps_ids_not_names_of_deleted_people(tmp_path):
    path = tmp_path / "db" / "gallery.sqlite3"
    gallery = _fill(path, key=None)
    person = gallery.person(NAMES[0])
    audit.record(gallery.db, "enroll", "cli", person.id, samples=2)
    gallery.delete_person(NAMES[0])
    audit.record(gallery.db, "delete", "cli", person.id, samples=2)
    rows = gallery.db.query("SELECT * FROM audit")
    assert all(NAMES[0] not in repr(row) for row in rows)
    assert [e.action for e in audit.entries(gallery.db, subject=person.id)] == ["enroll",
                                                                               "delete"]


def test_settings_changes_are_audited_with_keys_not_secrets(tmp_path):
    db = Database(tmp_path / "gallery.sqlite3")
    assert audit.note_settings(db, {"retention_days": 0}, "window") == ["retention_days"]
    assert audit.note_settings(db, {"retention_days": 0}, "window") == []
    changed = audit.note_settings(db, {"retention_days": 30, "source": "rtsp://u:pw@cam"},
                                  "window")
    assert changed == ["retention_days", "source"]
    last = audit.entries(db)[-1]
    assert last.detail["new_values"] == {"retention_days": 30} and "pw" not in repr(last)


def test_audit_command_lists_and_verifies(tmp_path):
    path = tmp_path / "db" / "gallery.sqlite3"
    db = Database(path)
    audit.record(db, "enroll", "cli", 1, samples=2)
    audit.record(db, "export", "http 10.0.0.7", 1)
    db.close()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "main.py", "--db", str(path.parent), "audit",
                               *args], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "FACE_KIOSK_KEY": ""})
    listing = run()
    assert listing.returncode == 0 and "export" in listing.stdout
    assert "http 10.0.0.7" in listing.stdout
    assert run("--verify").stdout.startswith("audit trail intact: 2 entries")
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'someone else' WHERE id = 1")
    conn.commit()
    conn.close()
    tampered = run("--verify")
    assert tampered.returncode == 1 and "TAMPERED: row 1" in tampered.stdout
