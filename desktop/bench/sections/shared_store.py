"""The store's share of the kiosk's latencies, SQLite vs a shared PostgreSQL, without the
model (detection and FaceNet cost the same on both): enrolling one person, one frame's
gallery search plus check-in, the time a change takes to reach a second kiosk process,
and a kiosk's start-up (index built from the store) with N samples.

    python -m desktop.bench.sections.shared_store [--sizes 10000,100000] [--url postgresql://...]

Without --url a private server is started in a temp folder (``desktop.pgserver``).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from desktop.bench.options import REPO
from desktop.engine.attendance.opening import open_attendance
from desktop.engine.core.types import ModelInfo
from desktop.engine.gallery.people import Gallery
from desktop.engine.settings.config import Settings
from desktop.engine.storage.postgres import PgDatabase
from desktop.engine.storage.sqlite import Database

MODEL = ModelInfo("casia-webface", "bench-model")
CROP = np.zeros((160, 160, 3), np.uint8)
ROOT = REPO

_SECOND = """
import sys, time, numpy as np
from pathlib import Path
from desktop.engine.storage.postgres import PgDatabase
from desktop.engine.gallery.people import Gallery
from desktop.engine.core.types import ModelInfo
db = PgDatabase(sys.argv[1], Path(sys.argv[2]))
gallery = Gallery(db, ModelInfo("casia-webface", "bench-model"))
print("ready", flush=True)
for line in sys.stdin:
    query = np.frombuffer(bytes.fromhex(line.strip()), np.float32)[None]
    while not gallery.search(query, 1)[0] or gallery.search(query, 1)[0][0][1] < 0.99:
        time.sleep(0.001)
    print(time.time(), flush=True)
"""


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 512)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.2f} ms (p90 {np.percentile(samples, 90) * 1000:.2f})"


def latencies(db, home: Path, rounds: int = 50) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(0)
    gallery = Gallery(db, MODEL)
    attendance = open_attendance(db, Settings(db_dir=home, kiosk_name="bench"))
    enroll, frame = [], []
    for i in range(rounds):
        vectors = _unit(rng, 3)
        started = time.perf_counter()
        gallery.add_samples(f"person {i}", vectors, [CROP] * 3, ["bench"] * 3)
        enroll.append(time.perf_counter() - started)
        started = time.perf_counter()
        name = gallery.search(vectors[:1], 2)[0][0][0]
        attendance.record_sighting(name, 0.9)
        frame.append(time.perf_counter() - started)
    return enroll, frame


def propagation(url: str, home: Path, rounds: int = 20) -> list[float]:
    """Enroll here, time until a second process's gallery finds the new vector."""
    db = PgDatabase(url, home / "a")
    gallery = Gallery(db, MODEL)
    second = subprocess.Popen([sys.executable, "-c", _SECOND, url, str(home / "b")], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    rng = np.random.default_rng(1)
    delays = []
    ask, answer = second.stdin, second.stdout
    assert ask is not None and answer is not None  # both are PIPEs
    try:
        if answer.readline().strip() != "ready":
            raise RuntimeError("the second kiosk process did not start")
        for i in range(rounds):
            vector = _unit(rng, 1)
            ask.write(vector.tobytes().hex() + "\n")
            ask.flush()
            time.sleep(0.05)  # the second kiosk is polling its index before the enroll
            started = time.time()
            gallery.add_samples(f"moved {i}", vector, [CROP], ["bench"])
            delays.append(float(answer.readline()) - started)
    finally:
        second.kill()
        second.wait()
        db.close()
    return delays


def startup(url: str, home: Path, size: int) -> tuple[float, float]:
    """Seconds for a kiosk to open the store and have its index with ``size`` samples:
    a new kiosk (index built from the store), then the same kiosk again (its cached
    index file of the current generation is loaded; any write elsewhere bumps the
    generation, so a stale file is never used)."""
    db = PgDatabase(url, home / "seed")
    rng = np.random.default_rng(2)
    have = db.query("SELECT COUNT(*) FROM samples")[0][0]
    gallery = Gallery(db, MODEL)
    for start in range(have, size, 1000):
        n = min(1000, size - start)
        with db.transaction() as cur:
            pid = cur.execute("INSERT INTO people(name, created_at) VALUES (?, ?)",
                              (f"bulk {start}", 0.0)).lastrowid
            cur.executemany("INSERT INTO samples(person_id, embedding, crop, source, model_id, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                            [(pid, v.tobytes(), b"", "bench", MODEL.model_id, 0.0)
                             for v in _unit(rng, n)])
            gallery.index.bump(cur)
    db.close()
    times = []
    for _ in range(2):  # cold (no cached index file: a new kiosk), then warm
        started = time.perf_counter()
        kiosk = PgDatabase(url, home / f"kiosk-{size}")
        Gallery(kiosk, MODEL)
        times.append(time.perf_counter() - started)
        kiosk.close()
    return times[0], times[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a private server)")
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args(argv)
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        url = args.url
        if url is None:
            from desktop.pgserver import LocalPostgres
            server = LocalPostgres(Path(tempfile.mkdtemp(prefix="kiosk-pg-")))
            server.start()
            url = server.create_database("bench")
        try:
            sqlite = Database(home / "sqlite" / "gallery.sqlite3")
            s_enroll, s_frame = latencies(sqlite, home / "sqlite")
            pg = PgDatabase(url, home / "pg")
            p_enroll, p_frame = latencies(pg, home / "pg")
            pg.close()
            print("store share of latency        SQLite                     PostgreSQL (loopback)")
            print(f"enroll (3 samples)    {_ms(s_enroll)}   {_ms(p_enroll)}")
            print(f"frame: search+check-in{_ms(s_frame)}   {_ms(p_frame)}")
            delays = propagation(url, home)
            print(f"change reaches a 2nd kiosk process: median {statistics.median(delays) * 1000:.0f} ms, "
                  f"max {max(delays) * 1000:.0f} ms over {len(delays)} enrollments")
            for size in (int(s) for s in args.sizes.split(",") if s):
                cold, warm = startup(url, home, size)
                print(f"kiosk start-up with {size} samples in PostgreSQL: new kiosk "
                      f"{cold:.2f} s, again with its cached index {warm:.2f} s", flush=True)
        finally:
            if server:
                server.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
