"""What encryption at rest costs: the same work on a plain and an SQLCipher database,
back to back and alternating, medians of the runs.

    python -m desktop.bench.sections.encryption --weights PATH [--people 20] [--rounds 3]

Measures opening the engine (key derivation; the memory-only index is rebuilt), enrolling
a person from 3 photos, identifying a photo, recording a check-in, and opening a
10,000-sample gallery (where the index rebuild shows).
"""
from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from desktop.bench.data import split_people
from desktop.bench.util import cpu_snapshot, median, others_share
from desktop.engine.core.images import load_image
from desktop.engine.core.types import EMBEDDING_DIM
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.faces.networks import Models
from desktop.engine.gallery.people import Gallery
from desktop.engine.settings.file import load_settings
from desktop.engine.storage.sqlite import Database

KEY = "benchmark passphrase"


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return (time.perf_counter() - started) * 1000


def one_round(settings, models, people, key: str | None) -> dict[str, list[float]]:
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-enc-"))
    try:
        s = dataclasses.replace(settings, db_dir=tmp, db_key=key)
        out: dict[str, list[float]] = {"open": [], "enroll": [], "identify": [],
                                       "checkin": []}
        engine = FaceEngine(s, models)
        images = {p.name: [load_image(x) for x in p.enroll] for p in people}
        probes = [load_image(x) for p in people for x in p.probes[:2]]
        for person in people:
            out["enroll"].append(_timed(lambda person=person: engine.enroll(
                person.name, [(str(i), im) for i, im in enumerate(images[person.name])],
                force=True)))
        for probe in probes:
            out["identify"].append(_timed(lambda probe=probe: engine.identify(probe)))
        for i, person in enumerate(people * 5):
            out["checkin"].append(_timed(lambda i=i, person=person: engine.attendance
                                         .record_sighting(person.name, 0.9, ts=1e9 + i * 3600)))
        engine.close()
        for _ in range(3):
            out["open"].append(_timed(lambda: FaceEngine(s, models).close()))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def big_open(settings, models, key: str | None, samples: int = 10_000) -> float:
    """Open a gallery of ``samples`` synthetic vectors (the index: file vs rebuild)."""
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-enc-big-"))
    try:
        rng = np.random.default_rng(0)
        gallery = Gallery(Database(tmp / "gallery.sqlite3", key=key), models.embedder.info)
        crop = np.zeros((160, 160, 3), np.uint8)
        for start in range(0, samples, 5):
            v = rng.normal(size=(5, EMBEDDING_DIM)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            gallery.add_samples(f"p{start}", v, [crop] * 5, ["bench"] * 5)
        gallery.db.close()
        s = dataclasses.replace(settings, db_dir=tmp, db_key=key)
        return median(_timed(lambda: FaceEngine(s, models).close()) for _ in range(3))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.bench.sections.encryption")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--faces", default=str(Path("..") / "shared" / "faces"))
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big", type=int, default=10_000, help="samples of the big gallery")
    args = parser.parse_args(argv)
    settings = load_settings(Path(tempfile.mkdtemp()), weights=args.weights)
    models = Models(settings)
    people = [p for p in split_people(Path(args.faces)) if len(p.probes) >= 2]
    people = people[:args.people]
    before = cpu_snapshot()
    results: dict[str, dict[str, list[float]]] = {"plain": {}, "encrypted": {}}
    for _ in range(args.rounds):  # alternate, so load drift hits both alike
        for label, key in (("plain", None), ("encrypted", KEY)):
            for name, values in one_round(settings, models, people, key).items():
                results[label].setdefault(name, []).extend(values)
    big = {label: big_open(settings, models, key, args.big)
           for label, key in (("plain", None), ("encrypted", KEY))}
    share = others_share(before, cpu_snapshot())
    print(f"{len(people)} people x {args.rounds} rounds; other processes used "
          f"{share:.0%} of the CPU")
    print(f"{'median ms':<34}{'plain':>10}{'encrypted':>11}{'cost':>9}")
    labels = {"open": "open engine (people above)", "enroll": "enroll 3 photos",
              "identify": "identify 1 photo", "checkin": "record a check-in"}
    rows = [(labels[k], median(results["plain"][k]), median(results["encrypted"][k]))
            for k in labels]
    rows.append((f"open engine, {args.big} samples", big["plain"], big["encrypted"]))
    for label, plain, enc in rows:
        print(f"{label:<34}{plain:>10.1f}{enc:>11.1f}{enc / plain - 1:>+9.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
