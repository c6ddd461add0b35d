"""Figures for docs/hardening.md, on synthetic data (no model needed).

    python -m desktop.tools.hardening_figures

* the time one audit row takes (its own transaction, synchronous=FULL, the head mirror);
* how long a deleted name stays in the WAL after the last other reader closes, while the
  owning connection is idle.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from desktop.engine.core.types import EMBEDDING_DIM, ModelInfo
from desktop.engine.gallery.people import Gallery
from desktop.engine.storage import audit
from desktop.engine.storage.sqlcipher import dbapi
from desktop.engine.storage.sqlite import Database

NAME = "Wilhelmina Quarrington"


def audit_ms(rows: int = 200) -> tuple[float, float]:
    """Median and 90th percentile milliseconds of ``audit.record``."""
    db = Database(Path(tempfile.mkdtemp()) / "gallery.sqlite3")
    times = []
    for i in range(rows):
        started = time.perf_counter()
        audit.record(db, "enroll", "cli", i, samples=1)
        times.append((time.perf_counter() - started) * 1000)
    db.close()
    return statistics.median(times), sorted(times)[int(rows * 0.9)]


def wal_seconds() -> float:
    """Seconds from the other reader's close to the deleted name leaving the WAL."""
    path = Path(tempfile.mkdtemp()) / "gallery.sqlite3"
    gallery = Gallery(Database(path), ModelInfo("synthetic", "synthetic-id"))
    rng = np.random.default_rng(0)
    for name in (NAME, "Bartholomew Oyelaran"):
        vectors = rng.normal(size=(2, EMBEDDING_DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        crops = [rng.integers(0, 255, (160, 160, 3), np.uint8) for _ in range(2)]
        gallery.add_samples(name, vectors, crops, ["synthetic"] * 2)
    wal = Path(str(path) + "-wal")
    reader = dbapi.connect(str(path), isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM people").fetchone()  # an open snapshot
    gallery.delete_person(NAME)
    reader.execute("COMMIT")
    reader.close()
    started = time.monotonic()
    while NAME.encode() in wal.read_bytes():
        time.sleep(0.01)
    seconds = time.monotonic() - started
    gallery.db.close()
    return seconds


def main() -> int:
    median, p90 = audit_ms()
    print(f"audit.record: median {median:.1f} ms, p90 {p90:.1f} ms (200 rows)")
    runs = [wal_seconds() for _ in range(5)]
    print("deleted name left the WAL after the reader closed: "
          + ", ".join(f"{s:.2f}" for s in runs) + " s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
