"""Consent, the audit trail and retention on the shared PostgreSQL store (schema v4), and
`db copy` carrying them, against a real server; synthetic vectors, no model (fast tier)."""
from __future__ import annotations

import time

import numpy as np
import psycopg
import pytest

from desktop.engine.core.errors import DatabaseError
from desktop.engine.core.types import ModelInfo
from desktop.engine.gallery.people import Gallery
from desktop.engine.privacy import retention
from desktop.engine.storage import audit, consent
from desktop.engine.storage.copy import checksums, copy_store
from desktop.engine.storage.postgres import PgDatabase
from desktop.engine.storage.sqlite import Database

MODEL = ModelInfo("casia-webface", "test-model")
CROP = np.zeros((160, 160, 3), np.uint8)


def unit(seed: int, n: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 512)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _fill(db) -> dict[str, int]:
    """Two people, one with consent; enroll/consent/delete-style audit rows."""
    gallery = Gallery(db, MODEL)
    ids = {}
    for seed, name in enumerate(("Ada Lovelace", "Grace Hopper")):
        person = gallery.add_samples(name, unit(seed, 2), [CROP] * 2, ["synthetic"] * 2)
        ids[name] = person.id
        with db.transaction() as cur:
            if seed == 0:
                consent.store(cur, person.id, consent.Consent("I agree"), "cli")
                audit.append(cur, "consent", "cli", person.id)
            audit.append(cur, "enroll", "cli", person.id, samples=2)
    audit.record(db, "auth_refused", "http 10.0.0.9", reason="bad token")
    return ids


@pytest.fixture
def store(pg_url, tmp_path):
    db = PgDatabase(pg_url, tmp_path / "kiosk-a")
    yield db
    db.close()


def test_consent_and_an_append_only_audit_trail_on_postgres(store):
    ids = _fill(store)
    assert consent.has_consent_by_name(store, "ada  LOVELACE")  # compared by name_key
    assert not consent.has_consent_by_name(store, "Grace Hopper")
    entries = audit.entries(store)
    assert [e.action for e in entries] == ["consent", "enroll", "enroll", "auth_refused"]
    assert [e.id for e in entries] == [1, 2, 3, 4]
    assert audit.verify(store) == []
    for statement in ("UPDATE audit SET actor = 'someone else' WHERE id = 2",
                      "DELETE FROM audit WHERE id = 4"):
        with pytest.raises(DatabaseError, match="append-only"), store.transaction() as cur:
            cur.execute(statement)
    with psycopg.connect(store.url, autocommit=True) as conn, \
            pytest.raises(psycopg.Error, match="append-only"):
        conn.execute("TRUNCATE audit")
    assert audit.verify(store) == [] and len(audit.entries(store)) == 4
    Gallery(store, MODEL).delete_person("Ada Lovelace")  # consent goes with the person
    assert consent.of_person(store, ids["Ada Lovelace"]) is None


def test_stale_people_is_the_same_query_on_both_backends(store, tmp_path):
    sqlite = Database(tmp_path / "local" / "gallery.sqlite3")
    try:
        for db in (store, sqlite):
            _fill(db)
            now = time.time()
            assert retention.stale_people(db, 1, now) == []
            stale = retention.stale_people(db, 1, now + 3 * 86400)
            assert [name for _, name in stale] == ["Ada Lovelace", "Grace Hopper"]
    finally:
        sqlite.close()


def test_db_copy_carries_consent_and_a_verifiable_audit_trail(store, tmp_path):
    src = Database(tmp_path / "src" / "gallery.sqlite3")
    back = Database(tmp_path / "back" / "gallery.sqlite3")
    try:
        _fill(src)
        copy_store(src, store)
        assert audit.verify(store) == [] and audit.head(store) == audit.head(src)
        copy_store(store, back)
        assert audit.verify(back) == []
        assert checksums(back)["audit"] == checksums(src)["audit"]
        assert checksums(back)["consent"] == checksums(src)["consent"]
        audit.record(store, "export", "cli", 1)  # the chain continues after a copy
        assert audit.verify(store) == []
    finally:
        src.close()
        back.close()
