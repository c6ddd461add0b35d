"""Commands that only read the database answer without loading torch, onnxruntime or
Faiss: ``people``, ``attendance``, ``audit`` and ``--help`` run as the user runs them (a
fresh interpreter on main.py), and ``-X importtime`` lists every module it imported."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT

from desktop.engine.attendance.checkins import Attendance
from desktop.engine.core.types import ModelInfo
from desktop.engine.gallery.people import Gallery
from desktop.engine.settings.config import Settings
from desktop.engine.storage.sqlite import Database

HEAVY = {"torch", "faiss", "onnxruntime", "facenet_pytorch", "dlib", "PyQt5"}


def imported(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "main.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    names = {line.rsplit("|", 1)[1].strip().split(".")[0]
             for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return proc, names


@pytest.fixture(scope="module")
def gallery_db(tmp_path_factory):
    """A store with two people and a check-in, written by the real Gallery and Attendance
    (vectors of a made-up 4-d model: listing needs no network)."""
    folder = tmp_path_factory.mktemp("light")
    db = Database(Settings(db_dir=folder).db_path)
    gallery = Gallery(db, ModelInfo("tiny-model", "test:tiny", dim=4, threshold=0.5))
    rng = np.random.default_rng(0)
    crop = np.zeros((8, 8, 3), np.uint8)
    for name in ("Ada Lovelace", "Alan Turing"):
        vectors = rng.normal(size=(2, 4)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        gallery.add_samples(name, vectors, [crop, crop], ["a.jpg", "b.jpg"])
    Attendance(db).record_sighting("Ada Lovelace", 0.9, time.time())
    db.close()
    return folder


@pytest.mark.parametrize("command", [["people"], ["attendance", "today"], ["audit"], ["traffic"], []])
def test_reading_commands_load_no_network(gallery_db, command):
    args = [*command, "--db", str(gallery_db)] if command else ["--help"]
    proc, names = imported(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not HEAVY & names, f"{' '.join(args)} imported {sorted(HEAVY & names)}"


def test_people_lists_the_store(gallery_db):
    proc, _ = imported("people", "--db", str(gallery_db))
    assert "Ada Lovelace\t2 sample(s)" in proc.stdout and "Alan Turing\t2 sample(s)" in proc.stdout
    assert "2 people, model tiny-model, threshold 0.500" in proc.stderr


def test_attendance_today_reads_the_store(gallery_db):
    proc, _ = imported("attendance", "today", "--db", str(gallery_db))
    assert proc.stdout.startswith("Ada Lovelace\tfirst in ")
