"""``python main.py db copy SRC DST``: a whole gallery (people, samples with embeddings
and crops, attendance, visitors, the site's settings) from one store to another, SQLite
or PostgreSQL either way, in one destination transaction, then verified by per-table row
counts and SHA-256 checksums read back from both sides.

Ids are kept, so check-ins still point at their person; the destination must be empty.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from desktop.engine.core.errors import KioskError
from desktop.engine.storage.pg_schema import ID_TABLES

log = logging.getLogger(__name__)

TABLES: dict[str, tuple[str, ...]] = {
    "people": ("id", "name", "created_at"),
    "samples": ("id", "person_id", "embedding", "crop", "source", "model_id", "created_at",
                "in_template", "face", "face_meta"),
    "models": ("id", "model_id", "name", "dim", "threshold"),
    "embeddings": ("id", "sample_id", "model_id", "vector"),
    "checkins": ("id", "person_id", "name", "ts", "day", "similarity", "snapshot", "kiosk"),
    "presence": ("id", "person_id", "name", "day", "first_in", "last_seen"),
    "visitors": ("id", "ts", "day", "snapshot", "kiosk", "visitor", "last_seen"),
    "consent": ("person_id", "given_by", "given_at", "text", "recorded_via"),
    "audit": ("id", "ts", "action", "subject", "actor", "detail", "prev_hash", "hash"),
}
"""Each table's columns; the first is its key (rows are read in its order)."""
SITE_META = ("model_id", "model_name", "threshold", "audit_head")
"""Settings that belong to the gallery; ``generation`` is advanced, never copied."""
CHUNK = 500
IDENTITY_TABLES = ID_TABLES | {"models", "embeddings"}
"""Tables whose PostgreSQL id sequence must move past the copied ids."""


@dataclass(frozen=True)
class TableSum:
    rows: int
    sha256: str


@dataclass(frozen=True)
class CopyReport:
    tables: dict[str, TableSum]

    def lines(self) -> list[str]:
        return [f"{name}: {s.rows} row(s), sha256 {s.sha256[:16]}" for name, s in self.tables.items()]


def _rows(db, table: str):
    """Every row of ``table`` by id, in chunks (crops do not all fit in memory at once)."""
    columns = ", ".join(TABLES[table])
    key = TABLES[table][0]
    last = -1
    while True:
        chunk = db.query(f"SELECT {columns} FROM {table} WHERE {key} > ? ORDER BY {key} "
                         f"LIMIT {CHUNK}", (last,))
        yield from chunk
        if len(chunk) < CHUNK:
            return
        last = chunk[-1][0]


def _canonical(value: object) -> bytes:
    if value is None:
        return b"\x00N"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b"\x00B" + hashlib.sha256(bytes(value)).digest()
    if isinstance(value, float):
        return b"\x00F" + repr(value).encode()
    if isinstance(value, int):
        return b"\x00I" + str(value).encode()
    return b"\x00S" + str(value).encode("utf-8")


def checksums(db) -> dict[str, TableSum]:
    """Row count and SHA-256 of each table's rows in id order, backend-independent."""
    sums = {}
    for table in TABLES:
        digest, count = hashlib.sha256(), 0
        for row in _rows(db, table):
            digest.update(b"".join(_canonical(v) for v in row) + b"\x01")
            count += 1
        sums[table] = TableSum(count, digest.hexdigest())
    return sums


def copy_store(src, dst) -> CopyReport:
    """Copy ``src`` into the empty ``dst`` and verify; raises KioskError on any difference."""
    for table in TABLES:
        if dst.query(f"SELECT COUNT(*) FROM {table}")[0][0]:
            raise KioskError(f"the destination already holds {table}; copy into an empty "
                             "store (nothing was changed)")
    generation = max(int(src.get_meta("generation", "0")), int(dst.get_meta("generation", "0")))
    with dst.transaction() as cur:
        for key in SITE_META:
            value = src.get_meta(key)
            if value is not None:
                cur.set_meta(key, value)
        for table, columns in TABLES.items():
            insert = (f"INSERT INTO {table}({', '.join(columns)}) "
                      f"VALUES ({', '.join('?' * len(columns))})")
            batch: list[tuple] = []
            for row in _rows(src, table):
                batch.append(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
                if len(batch) >= CHUNK:
                    cur.executemany(insert, batch)
                    batch = []
            if batch:
                cur.executemany(insert, batch)
            reset = getattr(cur, "reset_identity", None)  # PostgreSQL: move the id sequence
            if reset and table in IDENTITY_TABLES:
                reset(table)
        cur.set_meta("generation", generation + 1)  # every kiosk's index is rebuilt
    source, copied = checksums(src), checksums(dst)
    if source != copied:
        bad = [t for t in TABLES if source[t] != copied[t]]
        raise KioskError(f"the copy differs from the source in {', '.join(bad)}; do not use it")
    log.info("Copied store: %s", ", ".join(f"{t} {s.rows}" for t, s in copied.items()))
    return CopyReport(copied)
